#!/usr/bin/env bash
# Installs the system packages bna needs on Debian/Ubuntu, only those that are missing:
# SpatiaLite (mod_spatialite, loaded at run time by the project store) and a C toolchain for
# the bundled SQLite; Python 3 with venv for the AWS emulator used by the cloud tests.
# Safe to run repeatedly. With --windows, also what packaging/windows/ needs to cross-build
# the Windows package and test it under wine (mingw-w64, wine, NSIS, sqlite3, the Rust target).
set -euo pipefail
windows=false
[ "${1:-}" = "--windows" ] && windows=true
need=()
dpkg -s libsqlite3-mod-spatialite >/dev/null 2>&1 || need+=(libsqlite3-mod-spatialite)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
# tests/cloud.rs runs the AWS emulator (moto) from a Python venv it creates under target/.
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
if $windows; then
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
  command -v wine >/dev/null 2>&1 || need+=(wine wine64)
  command -v makensis >/dev/null 2>&1 || need+=(nsis)
  command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
  command -v unzip >/dev/null 2>&1 || need+=(unzip)
  # The app's window under wine: a virtual display, Mesa's software OpenGL, xwininfo.
  command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
  command -v xwininfo >/dev/null 2>&1 || need+=(x11-utils)
  dpkg -s libgl1-mesa-dri >/dev/null 2>&1 || need+=(libgl1-mesa-dri)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
if $windows && ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  rustup target add x86_64-pc-windows-gnu
fi

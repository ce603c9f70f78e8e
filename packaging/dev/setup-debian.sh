#!/usr/bin/env bash
# Installs the system packages bna needs on Debian/Ubuntu, only those that are missing:
# SpatiaLite (mod_spatialite, loaded at run time by the project store) and a C toolchain for
# the bundled SQLite; Python 3 with venv for the AWS emulator used by the cloud tests.
# Safe to run repeatedly.
set -euo pipefail
need=()
dpkg -s libsqlite3-mod-spatialite >/dev/null 2>&1 || need+=(libsqlite3-mod-spatialite)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
# tests/cloud.rs runs the AWS emulator (moto) from a Python venv it creates under target/.
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

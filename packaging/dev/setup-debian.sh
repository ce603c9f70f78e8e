#!/usr/bin/env bash
# Installs the system packages bna needs on Debian/Ubuntu, only those that are missing:
# SpatiaLite (mod_spatialite, loaded at run time by the project store) and a C toolchain for
# the bundled SQLite. Safe to run repeatedly.
set -euo pipefail
need=()
dpkg -s libsqlite3-mod-spatialite >/dev/null 2>&1 || need+=(libsqlite3-mod-spatialite)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

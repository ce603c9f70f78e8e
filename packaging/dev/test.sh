#!/usr/bin/env bash
# All checks: formatting, lints, and every test (unit, integration, doc).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev/setup-debian.sh
# The web export test (tests/web_export.rs) opens the exported page in headless Chromium.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing: chromium" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy
# A one-shot CI build gains nothing from incremental state, which would double the bna crate's
# share of the disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
cargo fmt --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
# The Windows package, cross-built with the dev profile (it reuses this build's proc macros
# and build scripts) and tested under wine against the Linux binary just built.
bash packaging/dev/setup-debian.sh --windows
BNA_WINDOWS_PROFILE=dev bash packaging/windows/build.sh
BNA_LINUX_BIN="${CARGO_TARGET_DIR:-target}/debug/bna" bash packaging/windows/test-wine.sh

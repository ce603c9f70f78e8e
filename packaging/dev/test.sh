#!/usr/bin/env bash
# All checks: formatting, lints, and every test (unit, integration, doc).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev/setup-debian.sh
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets

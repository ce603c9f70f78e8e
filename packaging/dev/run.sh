#!/usr/bin/env bash
# The main job: analyse the bundled demo city (Washington DC, Columbia Heights) and print the
# score table. Extra arguments go to `bna` (e.g. `demo --city helsinki`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev/setup-debian.sh
cargo run --release --quiet -- "$@"

#!/usr/bin/env bash
# Builds the Windows package on Debian: cross-compiles bna for x86_64-pc-windows-gnu, builds
# mod_spatialite.dll (build-mod-spatialite.sh), and writes into <target>/windows/:
#   bna-<version>-windows-x86_64/            the unpacked folder (bna.exe, mod_spatialite.dll,
#                                             data\, licences\, README.txt, bna.ico)
#   bna-<version>-windows-x86_64.zip          that folder zipped: unzip anywhere, run bna.exe
#   bna-<version>-windows-x86_64-setup.exe    the NSIS installer (per user, no admin rights)
#
# Environment:
#   BNA_WINDOWS_PROFILE  cargo profile (default: dist, the optimised release artefact; CI uses
#                        dev, with unoptimised dependencies: a third of the compile time)
#   CARGO_TARGET_DIR     default: the repository's target/
#   CARGO_BUILD_JOBS     as for cargo
# Needs: bash packaging/dev/setup-debian.sh --windows (mingw-w64, wine, nsis; the Rust target).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
profile=${BNA_WINDOWS_PROFILE:-dist}
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")
triple=x86_64-pc-windows-gnu
version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')
name=bna-$version-windows-x86_64
out=$target_dir/windows
stage=$out/$name

for tool in x86_64-w64-mingw32-gcc makensis wine python3; do
  command -v "$tool" >/dev/null || { echo "windows/build.sh: $tool is missing; run: bash packaging/dev/setup-debian.sh --windows" >&2; exit 1; }
done
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx $triple; then
  rustup target add $triple
fi

# mod_spatialite.dll: rebuilt only when its recipe changed (it depends on nothing else here).
spl=$out/spatialite
if [ ! -f "$spl/mod_spatialite.dll" ] || [ packaging/windows/build-mod-spatialite.sh -nt "$spl/mod_spatialite.dll" ]; then
  bash packaging/windows/build-mod-spatialite.sh "$spl"
fi

# The dev profile optimises dependencies (level 2) for the test suite's sake; the Windows
# checks run for seconds, and unoptimised dependencies cut this build's compile time by about
# two thirds (5 instead of 14.5 CPU-minutes for a cold build, measured on a 2-core machine).
quick=()
[ "$profile" = dev ] && quick=(--config 'profile.dev.package."*".opt-level=0')
cargo build --target $triple --profile "$profile" "${quick[@]}" --bin bna
case $profile in dev) profile_dir=debug ;; *) profile_dir=$profile ;; esac
exe=$target_dir/$triple/$profile_dir/bna.exe

rm -rf "$stage"
mkdir -p "$stage/licences" "$stage/data"
cp "$exe" "$stage/bna.exe"
cp "$spl/mod_spatialite.dll" "$stage/"
cp "$spl/SPATIALITE-LICENSE.txt" "$spl/ZLIB-LICENSE.txt" "$stage/licences/"
cp packaging/windows/LICENSE-bna.txt "$stage/licences/BNA-LICENSE.txt"
cp packaging/windows/README.txt "$stage/README.txt"
# The demo cities and their sources' attribution (OpenStreetMap: ODbL).
cp data/README.md "$stage/data/README.md"
cp -r data/us-dc data/helsinki "$stage/data/"
cp data/README.md "$stage/licences/DATA-ATTRIBUTION.md"
# The icon: assets/bna.png (256×256) in an ICO container (a PNG entry, Windows Vista and
# later scale it down for small icons).
python3 - assets/bna.png "$stage/bna.ico" <<'PY'
import struct, sys
png = open(sys.argv[1], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "assets/bna.png is not a PNG"
width, height = struct.unpack(">II", png[16:24])
assert (width, height) == (256, 256), f"assets/bna.png is {width}x{height}, not 256x256"
header = struct.pack("<HHH", 0, 1, 1)
entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 6 + 16)
open(sys.argv[2], "wb").write(header + entry + png)
PY

rm -f "$out/$name.zip"
(cd "$out" && python3 -m zipfile -c "$name.zip" "$name")
makensis -V2 -DVERSION="$version" -DSTAGE="$stage" -DOUTFILE="$out/$name-setup.exe" packaging/windows/bna.nsi
for f in "$stage/bna.exe" "$stage/mod_spatialite.dll" "$out/$name.zip" "$out/$name-setup.exe"; do
  echo "$(du -k "$f" | cut -f1) KiB  $f"
done

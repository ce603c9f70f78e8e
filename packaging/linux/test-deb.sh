#!/usr/bin/env bash
# Proves the .deb works from its installed files alone: builds it (cargo deb, release profile),
# checks its control data, unpacks it into an empty root with dpkg-deb (what `dpkg -i` would
# put on disk), then runs the unpacked /usr/bin/bna from outside the source tree:
#   bna --version; `bna analyze` on the packaged DC demo data; `bna demo` (no paths given: it
#   must find <root>/usr/share/bna/data relative to the binary); an MBTiles export.
# Needs: cargo-deb (`cargo install cargo-deb`), dpkg-deb, libsqlite3-mod-spatialite.
# Not part of CI: a release build plus cargo-deb take far longer than CI's budget on 2 cores;
# tests/packaging.rs checks the package metadata and desktop entry on every run instead.
# Usage: bash packaging/linux/test-deb.sh [path/to/bna.deb]   (no argument: build it)
set -euo pipefail
cd "$(dirname "$0")/../.."
bash packaging/dev/setup-debian.sh
target="${CARGO_TARGET_DIR:-target}"

deb="${1:-}"
if [ -z "$deb" ]; then
  command -v cargo-deb >/dev/null 2>&1 || {
    echo "cargo-deb not found: install it with 'cargo install cargo-deb'" >&2
    exit 1
  }
  deb=$(cargo deb --quiet | tail -n 1)
fi
echo "package: $deb"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Depends\|Recommends\|Installed-Size\):/  \1:/p'
dpkg-deb --field "$deb" Depends | grep -q libsqlite3-mod-spatialite || {
  echo "FAIL: Depends lacks libsqlite3-mod-spatialite" >&2
  exit 1
}

root=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$root" "$work"' EXIT
dpkg-deb -x "$deb" "$root"
for f in usr/bin/bna usr/share/applications/bna.desktop \
         usr/share/icons/hicolor/scalable/apps/bna.svg usr/share/icons/hicolor/256x256/apps/bna.png \
         usr/share/bna/data/us-dc/dc-nw-2016-highways.osm.pbf \
         usr/share/bna/data/us-dc/lodes8/dc_wac_S000_JT00_2021.csv.gz \
         usr/share/bna/data/helsinki/helsinki-center.osm.pbf; do
  [ -e "$root/$f" ] || { echo "FAIL: $f is not in the package" >&2; exit 1; }
done
echo "installed files: $(find "$root" -type f | wc -l), $(du -sh "$root" | cut -f1)"
if command -v desktop-file-validate >/dev/null 2>&1; then
  desktop-file-validate "$root/usr/share/applications/bna.desktop"
fi

# Run from an unrelated folder with an empty environment (no display, no BNA_DATA_DIR). The
# demo data must come from the package (the binary's ../share/bna/data), which the input paths
# recorded in the project show; the binary's build-time fallback (the source checkout's data/)
# would show up there instead.
cd "$work"
env -i PATH="$root/usr/bin:/usr/bin:/bin" HOME="$work" "$root/usr/bin/bna" --version
env -i PATH="$root/usr/bin:/usr/bin:/bin" HOME="$work" \
  bna demo --out "$work/dc.bna" | tee "$work/demo.txt"
grep -q "^overall_score" "$work/demo.txt" || { echo "FAIL: no overall score" >&2; exit 1; }
data="$root/usr/share/bna/data/us-dc"
env -i PATH="$root/usr/bin:/usr/bin:/bin" HOME="$work" \
  bna analyze --quiet --boundary "$data/boundary-columbia-heights.geojson" \
  --osm "$data/dc-nw-2016-highways.osm.pbf" --blocks "$data/tl_2021_11_tabblock20.zip" \
  --jobs "$data/lodes8/dc_wac_S000_JT00_2021.csv.gz" --population synthetic \
  --out "$work/analyze.bna" | grep "^overall_score"
env -i PATH="$root/usr/bin:/usr/bin:/bin" HOME="$work" \
  bna scores "$work/dc.bna" --json | grep -qE "\"$root/usr/(bin/\.\./)?share/bna/data/us-dc/" || {
  echo "FAIL: the demo did not read the packaged data" >&2
  exit 1
}
env -i PATH="$root/usr/bin:/usr/bin:/bin" HOME="$work" \
  bna export "$work/dc.bna" --format mbtiles --dir "$work/out"
echo "PASS: $deb installs and runs (bna --version, headless demo analysis from the packaged data, export)"

#!/usr/bin/env bash
# Builds BNA.app on a Mac: one universal binary (Apple silicon + Intel) with SpatiaLite inside
# the bundle, the demo data, the icon and the .bna document type. Nothing else to install for
# the person who runs the app. Run it on macOS 11 or later with Xcode's command line tools
# (xcode-select --install) and Rust (rustup):
#
#   packaging/macos/build-app.sh            → target/macos/BNA.app and BNA-<version>-macos.zip
#   packaging/macos/build-app.sh --layout-only DIR
#                                           → DIR/BNA.app with every file in place but the
#                                             binary, the library and the icon left empty: no
#                                             compiler needed (tests/packaging.rs checks it on
#                                             Linux)
#
# The bundle:
#   BNA.app/Contents/Info.plist                     packaging/macos/Info.plist, version filled in
#   BNA.app/Contents/MacOS/bna                      lipo of aarch64- and x86_64-apple-darwin
#   BNA.app/Contents/Frameworks/mod_spatialite.dylib  universal, built from source by
#                                                   packaging/windows/build-mod-spatialite.sh
#                                                   (the same minimal SpatiaLite as on Windows);
#                                                   bna looks for it here (store/spatialite.rs)
#   BNA.app/Contents/Resources/bna.icns             from assets/bna.png (sips + iconutil)
#   BNA.app/Contents/Resources/data/                the demo cities; bna looks in
#                                                   ../Resources/data (data_dir in src/cli)
#   BNA.app/Contents/Resources/licences/
# Environment: BNA_MACOS_PROFILE (cargo profile, default dist), CARGO_TARGET_DIR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
layout_only=false
if [ "${1:-}" = "--layout-only" ]; then
  layout_only=true
  out=$(realpath -m "${2:?usage: $0 [--layout-only DIR]}")
else
  out=$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")/macos
fi
profile=${BNA_MACOS_PROFILE:-dist}
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")
version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')
app=$out/BNA.app
contents=$app/Contents

rm -rf "$app"
mkdir -p "$contents/MacOS" "$contents/Frameworks" "$contents/Resources/licences" "$contents/Resources/data"
sed "s/@VERSION@/$version/g" packaging/macos/Info.plist >"$contents/Info.plist"
printf 'APPL????' >"$contents/PkgInfo"
cp data/README.md "$contents/Resources/data/README.md"
cp -R data/us-dc data/helsinki "$contents/Resources/data/"
cp data/README.md "$contents/Resources/licences/DATA-ATTRIBUTION.md"
cp packaging/windows/LICENSE-bna.txt "$contents/Resources/licences/BNA-LICENSE.txt"

if $layout_only; then
  : >"$contents/MacOS/bna"
  chmod 755 "$contents/MacOS/bna"
  : >"$contents/Frameworks/mod_spatialite.dylib"
  : >"$contents/Resources/bna.icns"
  : >"$contents/Resources/licences/SPATIALITE-LICENSE.txt"
  : >"$contents/Resources/licences/ZLIB-LICENSE.txt"
  echo "$app (layout only)"
  exit 0
fi

[ "$(uname -s)" = Darwin ] || { echo "build-app.sh: run this on macOS (or pass --layout-only DIR)" >&2; exit 1; }
for tool in cargo rustup lipo ditto codesign iconutil sips clang python3; do
  command -v "$tool" >/dev/null || { echo "build-app.sh: $tool is missing (xcode-select --install; Rust from https://rustup.rs)" >&2; exit 1; }
done

# 1. The universal binary.
rustup target add aarch64-apple-darwin x86_64-apple-darwin
case $profile in dev) profile_dir=debug ;; *) profile_dir=$profile ;; esac
for triple in aarch64-apple-darwin x86_64-apple-darwin; do
  MACOSX_DEPLOYMENT_TARGET=11.0 cargo build --target $triple --profile "$profile" --bin bna
done
lipo -create -output "$contents/MacOS/bna" \
  "$target_dir/aarch64-apple-darwin/$profile_dir/bna" "$target_dir/x86_64-apple-darwin/$profile_dir/bna"

# 2. SpatiaLite, universal, with no dependency outside macOS (zlib is compiled in). bna loads
#    it by its full path in the bundle, so no rpath or install name needs changing.
spl=$target_dir/macos/spatialite
bash packaging/windows/build-mod-spatialite.sh "$spl" macos
cp "$spl/mod_spatialite.dylib" "$contents/Frameworks/"
cp "$spl/SPATIALITE-LICENSE.txt" "$spl/ZLIB-LICENSE.txt" "$contents/Resources/licences/"

# 3. The icon: every size iconutil wants, scaled from the 256 px PNG.
iconset=$(mktemp -d)/bna.iconset
mkdir -p "$iconset"
for size in 16 32 128 256; do
  sips -z $size $size assets/bna.png --out "$iconset/icon_${size}x${size}.png" >/dev/null
  double=$((size * 2))
  [ $double -le 256 ] && sips -z $double $double assets/bna.png --out "$iconset/icon_${size}x${size}@2x.png" >/dev/null
done
iconutil -c icns "$iconset" -o "$contents/Resources/bna.icns"

# 4. Ad-hoc signature of the library and the bundle (Apple silicon runs only signed code). Not
#    notarized: a copy downloaded from elsewhere needs right-click > Open the first time.
codesign --force --sign - "$contents/Frameworks/mod_spatialite.dylib"
codesign --force --sign - "$app"
codesign --verify --strict "$app"

# 5. Proof that it runs from the bundle, with nothing set: the demo finds its data and
#    SpatiaLite inside the bundle.
env -i HOME="$HOME" "$contents/MacOS/bna" demo --out "$(mktemp -d)/demo.bna" >/dev/null
lipo -archs "$contents/MacOS/bna"
(cd "$out" && rm -f "BNA-$version-macos.zip" && ditto -c -k --keepParent BNA.app "BNA-$version-macos.zip")
echo "$app"
echo "$out/BNA-$version-macos.zip"

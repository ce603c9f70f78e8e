#!/usr/bin/env bash
# Builds the mod_spatialite.dll that the Windows package ships beside bna.exe: SpatiaLite 4.3.0a
# with only what bna uses (metadata, geometry columns, WKB, spatial index; no GEOS, PROJ, iconv,
# FreeXL, libxml2), zlib linked in, nothing else to install. Then loads it under wine into
# SQLite built with RTREE (as rusqlite's bundled SQLite is) and checks that a spatial index
# made the way the project store makes one passes CheckSpatialIndex.
#
#   packaging/windows/build-mod-spatialite.sh OUT_DIR [windows|macos|linux]
#     → OUT_DIR/mod_spatialite.dll, OUT_DIR/SPATIALITE-LICENSE.txt, OUT_DIR/ZLIB-LICENSE.txt
# The same recipe builds the library of the macOS app (packaging/macos/build-app.sh, on a Mac:
# a universal mod_spatialite.dylib with clang) and, to check the recipe's non-Windows branch
# where no Mac is at hand, a Linux mod_spatialite.so; those are checked natively.
#
# Sources come from crates.io (no other download is needed): libspatialite 4.3.0a is in the
# `vendor/` folder of the crate spatialite-sys 0.2.0 (its build script is not used), zlib in
# libz-sys, the SQLite headers in the libsqlite3-sys version of the project's Cargo.lock.
# Instead of configure + make (minutes of shell and libtool), the objects are compiled directly
# in parallel, with the config.h that configure writes for x86_64-w64-mingw32 and
# --disable-{geos,proj,iconv,freexl,libxml2,gcp} (below).
#
# Needs: gcc-mingw-w64-x86-64, wine (Debian: wine64), cargo, python3; on a Mac: Xcode's clang.
# Environment: WINEPREFIX (default: a fresh one in a temporary folder), JOBS (default: nproc).
set -euo pipefail
out=$(realpath -m "${1:?usage: $0 OUT_DIR [windows|macos|linux]}")
target=${2:-windows}
repo=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${JOBS:-$(getconf _NPROCESSORS_ONLN)}
case $target in
  windows) cc=(x86_64-w64-mingw32-gcc) lib=mod_spatialite.dll cpu=x86_64-w64-mingw32 tools="wine"
    pic=() hide=() link=(-shared -s -static-libgcc) ;;
  macos) cc=(clang -arch arm64 -arch x86_64 -mmacosx-version-min=11.0) lib=mod_spatialite.dylib
    cpu=universal-apple-darwin tools="" pic=(-fPIC) hide=(-fvisibility=hidden)
    link=(-dynamiclib -install_name @rpath/mod_spatialite.dylib) ;;
  linux) cc=(gcc) lib=mod_spatialite.so cpu=x86_64-linux-gnu tools="" pic=(-fPIC)
    hide=(-fvisibility=hidden) link=(-shared -s) ;;
  *) echo "build-mod-spatialite: unknown target $target (windows, macos or linux)" >&2; exit 2 ;;
esac
for tool in "${cc[0]}" $tools cargo python3; do
  command -v "$tool" >/dev/null || { echo "build-mod-spatialite: $tool is missing (bash packaging/dev/setup-debian.sh --windows installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# 1. Sources: a throwaway manifest that depends on the crates carrying them; `cargo metadata`
#    downloads them into cargo's registry and says where they are.
sqlite_version=$(python3 - "$repo/Cargo.lock" <<'PY'
import re, sys
lock = open(sys.argv[1]).read()
print(re.search(r'name = "libsqlite3-sys"\nversion = "([^"]+)"', lock).group(1))
PY
)
mkdir -p "$work/probe/src" && touch "$work/probe/src/lib.rs"
cat >"$work/probe/Cargo.toml" <<TOML
[package]
name = "bna-spatialite-sources"
version = "0.0.0"
edition = "2021"
[dependencies]
spatialite-sys = "=0.2.0"
libz-sys = { version = "1", default-features = false, features = ["static"] }
libsqlite3-sys = { version = "=$sqlite_version", features = ["bundled"] }
TOML
(cd "$work/probe" && cargo metadata --format-version 1 -q) >"$work/metadata.json"
crate_dir() {
  python3 - "$work/metadata.json" "$1" <<'PY'
import json, os, sys
meta = json.load(open(sys.argv[1]))
print(next(os.path.dirname(p["manifest_path"]) for p in meta["packages"] if p["name"] == sys.argv[2]))
PY
}
spl=$(crate_dir spatialite-sys)/vendor/libspatialite-4.3.0a
zlib=$(crate_dir libz-sys)/src/zlib
sqlite=$(crate_dir libsqlite3-sys)/sqlite3
for f in "$spl/src/spatialite/spatialite.c" "$zlib/zlib.h" "$sqlite/sqlite3ext.h"; do
  [ -f "$f" ] || { echo "build-mod-spatialite: $f is missing from the crates.io sources" >&2; exit 1; }
done

# 2. What configure --host=x86_64-w64-mingw32 --disable-geos --disable-proj --disable-iconv
#    --disable-freexl --disable-libxml2 --disable-gcp writes into config.h (its HAVE_* lines
#    for headers mingw has, and the OMIT_* switches).
inc=$work/include
mkdir -p "$inc"
cp "$zlib/zlib.h" "$zlib/zconf.h" "$sqlite/sqlite3.h" "$sqlite/sqlite3ext.h" "$inc/"
cat >"$inc/config.h" <<'H'
#define ENABLE_GEOPACKAGE 1
#define HAVE_FCNTL_H 1
#define HAVE_FLOAT_H 1
#define HAVE_FTRUNCATE 1
#define HAVE_GETCWD 1
#define HAVE_GETTIMEOFDAY 1
#define HAVE_INTTYPES_H 1
#define HAVE_LIBSQLITE3 1
#define HAVE_LIBZ 1
#define HAVE_MATH_H 1
#define HAVE_MEMMOVE 1
#define HAVE_MEMORY_H 1
#define HAVE_MEMSET 1
#define HAVE_SQLITE3EXT_H 1
#define HAVE_SQLITE3_H 1
#define HAVE_SQRT 1
#define HAVE_STDDEF_H 1
#define HAVE_STDINT_H 1
#define HAVE_STDIO_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRCASECMP 1
#define HAVE_STRERROR 1
#define HAVE_STRFTIME 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_STRNCASECMP 1
#define HAVE_STRSTR 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define HAVE_ZLIB_H 1
#define NDEBUG 1
#define OMIT_FREEXL 1
#define OMIT_GEOCALLBACKS 1
#define OMIT_GEOS 1
#define OMIT_ICONV 1
#define OMIT_PROJ 1
#define PACKAGE "libspatialite"
#define PACKAGE_BUGREPORT "a.furieri@lqt.it"
#define PACKAGE_NAME "libspatialite"
#define PACKAGE_STRING "libspatialite 4.3.0a"
#define PACKAGE_TARNAME "libspatialite"
#define PACKAGE_URL ""
#define PACKAGE_VERSION "4.3.0a"
#define STDC_HEADERS 1
#define TARGET_CPU "@CPU@"
#define TIME_WITH_SYS_TIME 1
#define VERSION "4.3.0a"
#define _FILE_OFFSET_BITS 64
#define _LARGEFILE_SOURCE 1
#define _LARGE_FILE 1
H
sed -i.orig "s/@CPU@/$cpu/" "$inc/config.h"

# 3. The sources of mod_spatialite (mod_spatialite_la_SOURCES and the convenience libraries it
#    links in src/Makefile.am). gaiageo's other .c files are flex/lemon output that its
#    gg_*.c files #include.
src=$spl/src
sources=(
  versioninfo/version.c connection_cache/alloc_cache.c
  control_points/gaia_control_points.c control_points/grass_crs3d.c
  control_points/grass_georef.c control_points/grass_georef_tps.c
  dxf/dxf_parser.c dxf/dxf_loader.c dxf/dxf_load_distinct.c dxf/dxf_load_mixed.c dxf/dxf_writer.c
  gaiaaux/gg_sqlaux.c gaiaaux/gg_utf8.c gaiaexif/gaia_exif.c
  md5/md5.c md5/gaia_md5.c shapefiles/shapefiles.c shapefiles/validator.c
  virtualtext/virtualtext.c wfs/wfs_in.c
)
for f in gg_advanced gg_endian gg_geodesic gg_geometries gg_geoscvt gg_relations gg_relations_ext \
  gg_lwgeom gg_extras gg_shape gg_transform gg_wkb gg_wkt gg_vanuatu gg_ewkt gg_geoJSON gg_kml \
  gg_gml gg_voronoj gg_xml gg_matrix; do
  sources+=("gaiageo/$f.c")
done
for dir in geopackage spatialite srsinit; do
  for f in "$src/$dir"/*.c; do sources+=("$dir/$(basename "$f")"); done
done

# One compile command per line, run $jobs at a time. The EPSG tables (srsinit/epsg_inlined_*:
# 8 MB of INSERT statements) are data: -O0 compiles them several times faster, and they run
# once per new project. zlib is compiled in too.
objs=$work/obj
mkdir -p "$objs"
{
  for s in "${sources[@]}"; do
    case $s in srsinit/epsg_inlined_*) opt=-O0 ;; *) opt=-O2 ;; esac
    dir=$(dirname "$s")
    echo "${cc[*]} $opt -w ${pic[*]} -DHAVE_CONFIG_H -DLOADABLE_EXTENSION -I$inc -I$src/headers -I$src/$dir -c $src/$s -o $objs/${s//\//_}.o"
  done
  # zlib stays private to the library (on Linux, SQLite loads extensions RTLD_GLOBAL).
  for f in "$zlib"/*.c; do
    echo "${cc[*]} -O2 -w ${pic[*]} ${hide[*]} -I$inc -c $f -o $objs/zlib_$(basename "${f%.c}").o"
  done
} >"$work/compile.txt"
# With iconv left out, 4.3.0a still calls its shapefile/DXF import-export code from the SQL
# functions that wrap it: those few entry points are stubbed (the SQL functions then report
# failure; bna never calls them).
cat >"$work/stubs.c" <<'C'
int load_shapefile_ex2() { return 0; }
int dump_shapefile() { return 0; }
int load_dbf_ex2() { return 0; }
int dump_dbf_ex() { return 0; }
void *gaiaCreateDxfParser() { return 0; }
void gaiaDestroyDxfParser() {}
int gaiaParseDxfFile_r() { return 0; }
C
echo "${cc[*]} -O2 ${pic[*]} -c $work/stubs.c -o $objs/stubs.o" >>"$work/compile.txt"
# One small script per command (BSD xargs, on macOS, cannot substitute into long lines).
mkdir -p "$work/cmds"
n=0
while IFS= read -r line; do
  n=$((n + 1))
  printf '%s || { echo "failed: %s"; exit 1; }\n' "$line" "$line" >"$work/cmds/$n.sh"
done <"$work/compile.txt"
if ! find "$work/cmds" -name '*.sh' -print0 | xargs -0 -n 1 -P "$jobs" sh >"$work/compile.log" 2>&1; then
  grep -B20 '^failed:' "$work/compile.log" | tail -40 >&2
  echo "build-mod-spatialite: compiling SpatiaLite failed (above)" >&2
  exit 1
fi
"${cc[@]}" "${link[@]}" -o "$out/$lib" "$objs"/*.o -lm
cp "$spl/COPYING" "$out/SPATIALITE-LICENSE.txt"
cp "$zlib/LICENSE" "$out/ZLIB-LICENSE.txt"

# 4. The check: SQLite with RTREE (as rusqlite's bundled build), the calls the store makes.
#    Under wine the DLL is found by its bare name in the program's folder, as bna.exe loads
#    it; natively by its path (a bare name would find the system's copy).
cat >"$work/check.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "sqlite3.h"
static char result[256];
static int row(void *u, int n, char **v, char **c) {
  (void)u; (void)c;
  if (n == 1 && v[0]) snprintf(result, sizeof result, "%s", v[0]);
  return 0;
}
int main(int argc, char **argv) {
  sqlite3 *db; char *err = 0;
  const char *library = argc > 1 ? argv[1] : "mod_spatialite";
  remove("check.sqlite");
  if (sqlite3_open("check.sqlite", &db)) { printf("open failed\n"); return 1; }
  sqlite3_enable_load_extension(db, 1);
  if (sqlite3_load_extension(db, library, "sqlite3_modspatialite_init", &err)) { printf("load failed: %s\n", err); return 1; }
  const char *sql =
    "SELECT InitSpatialMetadata(0, 'WGS84');"
    "CREATE TABLE t (id INTEGER PRIMARY KEY);"
    "SELECT AddGeometryColumn('t', 'geom', 4326, 'LINESTRING', 'XY');"
    "INSERT INTO t (geom) VALUES (GeomFromWKB(X'010200000002000000000000000000F03F000000000000004000000000000008400000000000001040', 4326));"
    "SELECT CreateSpatialIndex('t', 'geom');"
    "SELECT CheckSpatialIndex('t', 'geom');";
  if (sqlite3_exec(db, sql, row, 0, &err)) { printf("sql failed: %s\n", err); return 1; }
  printf("CheckSpatialIndex=%s\n", result);
  return strcmp(result, "1") != 0;
}
C
if [ "$target" = windows ]; then
  "${cc[@]}" -O0 -DSQLITE_ENABLE_RTREE -I"$inc" "$work/check.c" "$sqlite/sqlite3.c" -o "$work/check.exe" -static
  cp "$out/$lib" "$work/"
  export WINEPREFIX=${WINEPREFIX:-$work/wine}
  export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  run=(wine check.exe) where="under wine"
else
  "${cc[@]}" -O0 -DSQLITE_ENABLE_RTREE -I"$inc" "$work/check.c" "$sqlite/sqlite3.c" -o "$work/check.exe" -lpthread -ldl -lm
  run=("$work/check.exe" "$out/$lib") where="natively"
fi
if ! (cd "$work" && "${run[@]}" </dev/null 2>/dev/null) | tr -d '\r' >"$work/check.out" \
  || ! grep -qx 'CheckSpatialIndex=1' "$work/check.out"; then
  echo "build-mod-spatialite: $out/$lib failed its check $where:" >&2
  cat "$work/check.out" >&2
  exit 1
fi
echo "$lib: $(du -k "$out/$lib" | cut -f1) KiB, CheckSpatialIndex = 1 $where"

#!/usr/bin/env bash
# Makes a wine prefix in which bna.exe runs as on Windows 10 or later:
#   packaging/windows/wine-prefix.sh PREFIX
# Rust's standard library (1.78 and later) gets its random numbers (HashMap keys) from
# ProcessPrng in bcryptprimitives.dll, which every Windows since 10 has but Debian 12's wine
# 8.0 lacks, so bna.exe would not start ("bcryptprimitives.dll … not found", exit 53). The
# prefix gets a stand-in built here: ProcessPrng on RtlGenRandom (advapi32), the system's own
# generator. It is for testing under wine only and is never shipped.
set -euo pipefail
prefix=$(realpath -m "${1:?usage: $0 PREFIX}")
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wineboot --init >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/prng.c" <<'C'
#include <windows.h>
#include <ntsecapi.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!RtlGenRandom(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
C
printf 'LIBRARY bcryptprimitives.dll\nEXPORTS\nProcessPrng\n' >"$work/prng.def"
x86_64-w64-mingw32-gcc -O2 -shared -s -o "$work/bcryptprimitives.dll" "$work/prng.c" "$work/prng.def" -ladvapi32
system32=$prefix/drive_c/windows/system32
if [ ! -f "$system32/bcryptprimitives.dll" ] || cmp -s "$work/bcryptprimitives.dll" "$system32/bcryptprimitives.dll"; then
  cp "$work/bcryptprimitives.dll" "$system32/"
fi

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/cuda/coverage.sh [CUDA_INCLUDE_DIR]
# Checks the interposer against the CUDA toolkit's headers, where they are
# installed (a development machine; Debian 12 main does not package them,
# so elsewhere it says so and counts nothing):
#  1. every CUDA driver API entry point in cuda.h that allocates, maps,
#     shares or moves device memory (by name, below) has a row in the
#     coverage table of docs/cuda.md, so the table cannot drift from the
#     headers;
#  2. every name in that table is a real entry point (or a legacy export);
#  3. every symbol the interposer wraps has a row;
#  4. the interposer's prototypes (utils/cuda/cuda_api.h) compile against
#     the real cuda.h and nvml.h (-DGDL_CUDA_REAL_HEADERS): a signature
#     that differs is a conflicting redeclaration, and pointer mismatches
#     are errors (-Werror=incompatible-pointer-types);
#  6. utils/cuda/proc_versions.h is current with cudaTypedefs.h.
# Ends with "coverage: N passed, M failed".
set -u
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
inc=${1:-}
if [ -z "$inc" ]; then
	for d in "${CUDA_HOME:-/nonexistent}/include" /usr/local/cuda/include /usr/include; do
		[ -f "$d/cuda.h" ] && { inc=$d; break; }
	done
fi
if [ -z "$inc" ] || [ ! -f "$inc/cuda.h" ]; then
	echo "coverage: no cuda.h (CUDA_HOME, /usr/local/cuda, /usr/include): skipped"
	echo "coverage: 0 passed, 0 failed"
	exit 0
fi
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   coverage: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL coverage: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The real symbol of each entry point: cuda.h maps names to versions
# with #define, so read them after the preprocessor.
# The internal view adds the legacy and per-thread-stream exports.
printf '#include <cuda.h>\n' >"$tmp/h.c"
for def in "" -D__CUDA_API_VERSION_INTERNAL; do
	gcc -E $def -I"$inc" "$tmp/h.c" 2>/dev/null |
		grep -oE '\bCUresult +cu[A-Za-z0-9_]+ *\(' | sed -E 's/CUresult +//; s/ *\($//'
done | sort -u >"$tmp/api"
[ -s "$tmp/api" ] || { bad "no entry point found in $inc/cuda.h"; echo "coverage: $pass passed, $fail failed"; exit 1; }

# What the table must cover: memory, contexts (their footprint), peer
# access and copies, IPC, pools, graphs' memory, modules, external memory.
mem_re='^cu(Mem|Array|Mipmapped|Ipc|Ctx(Create|Destroy|EnablePeerAccess|SetLimit)|DevicePrimaryCtx|DeviceCanAccessPeer|DeviceTotalMem|Device(Get|Set|GetDefault)MemPool|DeviceGraphMem|Device(Get|Set)GraphMemAttribute|GraphAddMem|GraphMem|GraphInstantiate|GraphLaunch|GraphUpload|Module(Load)|Library(Load)|ImportExternalMemory|ExternalMemory|Multicast|GreenCtxCreate|StreamBeginCapture)'
gcc -E -I"$inc" "$tmp/h.c" 2>/dev/null |
	grep -oE '\bCUresult +cu[A-Za-z0-9_]+ *\(' | sed -E 's/CUresult +//; s/ *\($//' |
	grep -E "$mem_re" | sort -u >"$tmp/need"

# The table: rows between the markers, names in backquotes in column 1.
# shellcheck disable=SC2016 # backquotes, not expansions
sed -n '/<!-- coverage-table-begin -->/,/<!-- coverage-table-end -->/p' "$root/docs/cuda.md" |
	grep '^| `' | cut -d'|' -f2 | grep -oE '`[A-Za-z0-9_]+`' | tr -d '`' | sort -u >"$tmp/table"
# The legacy exports cuda.h no longer declares.
sed -n '/^#define GDL_CUDA_LEGACY(X)/,/^$/p' "$root/utils/cuda/cuda_api.h" |
	grep -oE 'X\(cu[A-Za-z0-9_]+' | cut -c3- | sort -u >"$tmp/legacy"
# Every wrapped symbol.
sed -n '/^#define GDL_CUDA_WRAPPED(X)/,/^$/p' "$root/utils/cuda/cuda_api.h" |
	grep -oE 'X\((cu|nvml)[A-Za-z0-9_]+' | cut -c3- | sort -u - "$tmp/legacy" >"$tmp/wrapped"

missing=$(comm -23 "$tmp/need" "$tmp/table")
if [ -z "$missing" ]; then ok "$(wc -l <"$tmp/need") memory entry points of cuda.h all in the table"; else bad "not in docs/cuda.md's table: $(tr '\n' ' ' <<<"$missing")"; fi
unknown=$(comm -23 "$tmp/table" <(sort -u "$tmp/api" "$tmp/legacy") | grep -v '^nvml')
if [ -z "$unknown" ]; then ok "every table row names a cuda.h entry point or a legacy export"; else bad "in the table, not in cuda.h: $(tr '\n' ' ' <<<"$unknown")"; fi
nowrap=$(comm -23 "$tmp/wrapped" "$tmp/table")
if [ -z "$nowrap" ]; then ok "every wrapped symbol has a row"; else bad "wrapped, not in the table: $(tr '\n' ' ' <<<"$nowrap")"; fi

printf '#include "cuda_api.h"\n' >"$tmp/decl.c"
if gcc -fsyntax-only -DGDL_CUDA_REAL_HEADERS -D_GNU_SOURCE -Wall -Werror \
	-Werror=incompatible-pointer-types -I"$inc" -I"$root/utils/cuda" \
	"$tmp/decl.c" 2>"$tmp/cc.log"; then
	ok "cuda_api.h's prototypes match $inc/cuda.h$( [ -f "$inc/nvml.h" ] && echo ' and nvml.h')"
else
	cat "$tmp/cc.log"
	bad "cuda_api.h's prototypes do not match $inc/cuda.h"
fi
# Our own declarations (used where the toolkit is absent) have the real
# layouts and values: the same program built both ways prints the same.
for mode in own real; do
	def=
	[ $mode = real ] && def=-DGDL_CUDA_REAL_HEADERS
	gcc $def -D_GNU_SOURCE -I"$inc" -I"$root/utils/cuda" -o "$tmp/layout-$mode" \
		"$root/tests/cuda/layout.c" 2>>"$tmp/cc.log" &&
		"$tmp/layout-$mode" >"$tmp/layout-$mode.txt"
done
if [ -s "$tmp/layout-own.txt" ] && cmp -s "$tmp/layout-own.txt" "$tmp/layout-real.txt"; then
	ok "cuda_types.h's layouts and values match cuda.h ($(wc -l <"$tmp/layout-own.txt") checked)"
else
	cat "$tmp/cc.log"
	diff "$tmp/layout-own.txt" "$tmp/layout-real.txt"
	bad "cuda_types.h's layouts or values differ from cuda.h"
fi
# 6. proc_versions.h (cuGetProcAddress's ABI per name and version, issue
# 23 item 13) is what gen_proc_versions.py makes of this cudaTypedefs.h.
if [ -f "$inc/cudaTypedefs.h" ]; then
	if python3 "$root/utils/cuda/gen_proc_versions.py" "$inc/cudaTypedefs.h" \
		"$tmp/proc_versions.h" >"$tmp/gen.log" 2>&1 &&
		cmp -s <(grep '^	X(' "$tmp/proc_versions.h") \
			<(grep '^	X(' "$root/utils/cuda/proc_versions.h"); then
		ok "utils/cuda/proc_versions.h matches $inc/cudaTypedefs.h"
	else
		bad "utils/cuda/proc_versions.h is not what $inc/cudaTypedefs.h gives: rerun utils/cuda/gen_proc_versions.py ($(tail -n 3 "$tmp/gen.log" | tr '\n' ' '))"
	fi
fi

echo "coverage: $pass passed, $fail failed"
[ $fail -eq 0 ]

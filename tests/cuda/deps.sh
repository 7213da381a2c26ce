#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/cuda/deps.sh [OBJDIR]
# The interposer's files (utils/cuda/*.c) call each other without a
# circle, so that each can be read, and changed, knowing only the files
# below it (ledger.c and footprint.c below charges.c, say).  A file
# depends on another when its object uses a gdlc_* function or variable
# the other's defines: read with nm from the objects the build left in
# OBJDIR (default build/cuda/obj), so that calls made through the
# header's macros and inline helpers count as well.  The exported CUDA
# entry points are left out: symbols.c's table holds every wrapper's
# address (a dispatch table, not a call), and every wrapper calls the
# real driver through symbols.c.
# The circles in KNOWN are older than this check and accepted for now;
# any other fails, with its edges.  Ends with "deps: N passed, M failed".
set -u
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
obj=${1:-${GDL_BUILD_DIR:-$root/build}/cuda/obj}
# Each circle as its files, sorted, space-separated.
KNOWN=(
	"alloc pools"		# cuMemFree of a pool's pointer; pools ask alloc.c what was exported
	"multicast vmm"		# cuMemSetAccess on a multicast handle; bindings hold VMM handles
)
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   deps: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL deps: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -d "$obj" ]; then
	echo "FAIL deps: no $obj (build the interposer first)"
	echo "deps: 0 passed, 1 failed"
	exit 1
fi
files=()
for c in "$root"/utils/cuda/*.c; do
	f=$(basename "$c" .c)
	[ -f "$obj/$f.o" ] || { bad "no $obj/$f.o (build the interposer first)"; continue; }
	files+=("$f")
	nm --defined-only -g "$obj/$f.o" | awk -v f="$f" '$3 ~ /^gdlc_/ { print $3, f }'
done >"$tmp/defs"
for f in "${files[@]}"; do
	nm -u "$obj/$f.o" | awk -v f="$f" '$2 ~ /^gdlc_/ { print $2, f }'
done >"$tmp/uses"
# "user definer symbol", then the edges "user definer".
sort "$tmp/defs" >"$tmp/defs.s"
sort "$tmp/uses" | join - "$tmp/defs.s" | awk '$2 != $3 { print $2, $3, $1 }' | sort >"$tmp/calls"
awk '{ print $1, $2 }' "$tmp/calls" | sort -u >"$tmp/edges"
if [ "${#files[@]}" -lt 2 ] || [ ! -s "$tmp/edges" ]; then
	bad "no calls between files read from $obj"
	echo "deps: $pass passed, $fail failed"
	exit 1
fi
ok "${#files[@]} files, $(wc -l <"$tmp/edges") edges between them"

# The circles: the files that reach each other (closure over a few
# dozen files), one line each, sorted.
awk '
{ n[$1]; n[$2]; r[$1, $2] = 1 }
END {
	for (k in n) for (i in n) if (r[i, k]) for (j in n) if (r[k, j]) r[i, j] = 1
	for (i in n) {
		if (!r[i, i] || seen[i]) continue
		line = ""
		for (j in n) if (r[i, j] && r[j, i]) { seen[j] = 1; line = line " " j }
		print line
	}
}' "$tmp/edges" | while read -r -a scc; do
	printf '%s\n' "${scc[@]}" | sort | paste -sd' '
done | sort >"$tmp/circles"

found=0
while read -r circle; do
	known=0
	for k in "${KNOWN[@]}"; do [ "$k" = "$circle" ] && known=1; done
	if [ $known = 1 ]; then
		echo "     deps: known circle: $circle"
		continue
	fi
	found=1
	bad "a circle between utils/cuda/{${circle// /,}}.c; its calls:"
	awk -v c=" $circle " 'index(c, " " $1 " ") && index(c, " " $2 " ") {
		printf "       %s.c -> %s.c: %s\n", $1, $2, $3 }' "$tmp/calls"
done <"$tmp/circles"
[ $found = 0 ] && ok "no circle between utils/cuda/*.c beyond the ${#KNOWN[@]} known"
for k in "${KNOWN[@]}"; do
	grep -qxF "$k" "$tmp/circles" ||
		echo "     deps: the known circle $k is gone: take it out of KNOWN"
done
echo "deps: $pass passed, $fail failed"
[ $fail = 0 ]

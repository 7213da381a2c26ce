#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/ctl/cdi.sh BUILD_DIR: `gpu-dma-lock-ctl cdi generate` on the host
# (no module, no root needed), in a scratch tree standing in for a node.
# A spec that mounts a host path which is missing makes every container
# given the device fail ("crun: error stat'ing file"): cdi generate must
# create a missing cuda.conf with the packaged defaults and say so in one
# line, refuse when anything else it names is missing, and never leave a
# spec behind when it refuses.  Ends with "cdi: N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${1:-$root/build}
CTL=$B/utils/gpu-dma-lock-ctl
DEFAULTS=$root/utils/cuda/cuda.conf
T=$(mktemp -d "${TMPDIR:-/tmp}/gdl-cdi.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   cdi: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL cdi: $*"; }
# expect RC DESC CMD...: stdout to $T/out, stderr to $T/err.
expect() {
	local want=$1 desc=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$desc (exit $rc)"
	else
		bad "$desc: exit $rc, wanted $want"
		sed 's/^/     | /' "$T/out" "$T/err"
	fi
}
# has FILE PATTERN DESC
has() {
	if grep -Eq -- "$2" "$1"; then ok "$3"; else bad "$3: no /$2/ in:"; sed 's/^/     | /' "$1"; fi
}
lines() { grep -c . "$1"; }

# A node's files, as the package installs them, under $N.
N=$T/node
mkdir -p "$N/hook" "$N/lib" "$N/share"	# no cdi/: a node that never had a spec
printf '#!/bin/sh\nexit 0\n' >"$N/hook/gpu-dma-lock-oci-hook"
chmod 755 "$N/hook/gpu-dma-lock-oci-hook"
: >"$N/lib/libgpudmalock-cuda.so"
: >"$N/lib/libgpudmalock.so.0"
echo /usr/lib/gpu-dma-lock/libgpudmalock-cuda.so >"$N/share/ld.so.preload"
conf=$N/etc/gpu-dma-lock/cuda.conf
spec=$N/cdi/gpu-dma-lock.json
gen() {
	"$CTL" cdi generate --hook "$N/hook/gpu-dma-lock-oci-hook" \
		--interposer "$N/lib/libgpudmalock-cuda.so" \
		--library "$N/lib/libgpudmalock.so.0" --preload "$N/share/ld.so.preload" "$@"
}
spec_ok() {	# the spec is JSON and mounts $1 over /etc/gpu-dma-lock/cuda.conf
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = d["devices"][0]["containerEdits"]["mounts"]
assert any(x["hostPath"] == sys.argv[2] and x["containerPath"] == "/etc/gpu-dma-lock/cuda.conf" for x in m), m
' "$@"
}

# 1. A fresh node: no /etc/gpu-dma-lock at all.
expect 0 "fresh node, no cuda.conf, no spec directory: cdi generate succeeds" gen --output "$spec" --cuda-conf "$conf"
has "$T/out" "^cdi: $conf was missing: created it with the packaged defaults" "it says, in one line, that it created cuda.conf"
[ "$(grep -c 'cuda.conf' "$T/out")" = 1 ] && ok "...one line only" || bad "...one line only: $(cat "$T/out")"
cmp -s "$conf" "$DEFAULTS" && ok "the created cuda.conf is the packaged utils/cuda/cuda.conf" || bad "created cuda.conf differs from $DEFAULTS"
[ "$(stat -c %a "$conf" 2>/dev/null)" = 644 ] && [ "$(stat -c %a "$(dirname "$conf")")" = 755 ] &&
	ok "cuda.conf 0644 in a 0755 directory (what the interposer trusts)" ||
	bad "modes: $(stat -c '%a %n' "$conf" "$(dirname "$conf")" 2>&1)"
spec_ok "$spec" "$conf" && ok "the spec mounts the file it created" || bad "spec: $(cat "$spec" 2>&1)"
# shellcheck disable=SC2010	# names the test itself made
[ -z "$(ls "$(dirname "$conf")" | grep -v '^cuda.conf$')" ] && ok "no temporary file left beside cuda.conf" || bad "left: $(ls "$(dirname "$conf")")"

# 2. The admin's file is never replaced.
printf 'fail = open\n# the admin wrote this\n' >"$conf"
expect 0 "cuda.conf present: cdi generate succeeds" gen --output "$spec" --cuda-conf "$conf"
grep -q 'the admin wrote this' "$conf" && ok "the admin's cuda.conf is kept" || bad "the admin's cuda.conf was replaced"
if grep -q 'created it' "$T/out"; then bad "says it created an existing file: $(cat "$T/out")"; else ok "...and it says nothing about creating it"; fi

# 3. --output -: the spec alone on stdout, the line on stderr.
rm -f "$conf"
expect 0 "--output -, no cuda.conf" gen --output - --cuda-conf "$conf"
spec_ok "$T/out" "$conf" && ok "stdout is the spec alone" || bad "stdout is not the spec: $(head -c 300 "$T/out")"
has "$T/err" "created it with the packaged defaults" "the line goes to stderr"
[ "$(lines "$T/err")" = 1 ] && ok "...one line" || bad "stderr: $(cat "$T/err")"

# 4. Anything else missing: refused, nothing written, the path named.
cp "$spec" "$T/spec.before"
for what in interposer library preload hook; do
	case $what in
	interposer) args=(--interposer "$N/lib/missing-cuda.so") ;;
	library) args=(--library "$N/lib/missing.so.0") ;;
	preload) args=(--preload "$N/share/missing.preload") ;;
	hook) args=(--hook "$N/hook/missing-hook") ;;
	esac
	expect 1 "--$what missing: refused" gen --output "$spec" --cuda-conf "$conf" "${args[@]}"
	has "$T/err" "--$what .*missing.*: no such file; nothing written" "...the line names --$what and its path"
	cmp -s "$spec" "$T/spec.before" && ok "...the spec on disk is unchanged" || bad "...the spec was rewritten"
done
chmod 644 "$N/hook/gpu-dma-lock-oci-hook"
expect 1 "a hook that is not executable: refused" gen --output "$spec" --cuda-conf "$conf"
has "$T/err" "not executable" "...and says so"
chmod 755 "$N/hook/gpu-dma-lock-oci-hook"
rm -f "$spec"
expect 1 "--output - with a missing interposer: refused" gen --output - --interposer "$N/nope.so" --cuda-conf "$conf"
[ ! -s "$T/out" ] && ok "...no spec on stdout" || bad "...a spec on stdout: $(head -c 200 "$T/out")"
mkdir -p "$T/dir.conf"
expect 1 "--cuda-conf naming a directory: refused" gen --output "$spec" --cuda-conf "$T/dir.conf"
[ ! -e "$spec" ] && ok "...no spec written" || bad "...a spec was written"
expect 0 "--cuda-conf none: no check, no mount" gen --output "$spec" --cuda-conf none
if grep -q '/etc/gpu-dma-lock/cuda.conf' "$spec"; then bad "--cuda-conf none still mounts it"; else ok "...the spec mounts no cuda.conf"; fi

# 5. --root: a package's staging tree; the spec names the node's paths.
S=$T/stage
mkdir -p "$S/usr/libexec/gpu-dma-lock" "$S/usr/lib/x86_64-linux-gnu/gpu-dma-lock" "$S/usr/share/gpu-dma-lock" "$S/etc/cdi"
cp -p "$N/hook/gpu-dma-lock-oci-hook" "$S/usr/libexec/gpu-dma-lock/"
: >"$S/usr/lib/x86_64-linux-gnu/gpu-dma-lock/libgpudmalock-cuda.so"
: >"$S/usr/lib/x86_64-linux-gnu/libgpudmalock.so.0"
: >"$S/usr/share/gpu-dma-lock/ld.so.preload"
stage() {
	"$CTL" cdi generate --root "$S" --output "$S/etc/cdi/gpu-dma-lock.json" \
		--hook /usr/libexec/gpu-dma-lock/gpu-dma-lock-oci-hook \
		--interposer /usr/lib/x86_64-linux-gnu/gpu-dma-lock/libgpudmalock-cuda.so \
		--library /usr/lib/x86_64-linux-gnu/libgpudmalock.so.0 \
		--preload /usr/share/gpu-dma-lock/ld.so.preload --cuda-conf /etc/gpu-dma-lock/cuda.conf
}
expect 0 "--root STAGE: paths checked under it" stage
[ -f "$S/etc/gpu-dma-lock/cuda.conf" ] && ok "...cuda.conf created under it" || bad "...no $S/etc/gpu-dma-lock/cuda.conf"
spec_ok "$S/etc/cdi/gpu-dma-lock.json" /etc/gpu-dma-lock/cuda.conf && ok "...the spec names the node's path" || bad "...spec: $(cat "$S/etc/cdi/gpu-dma-lock.json")"
if grep -q "$S" "$S/etc/cdi/gpu-dma-lock.json"; then bad "...the staging directory leaks into the spec"; else ok "...no staging path in the spec"; fi
rm "$S/usr/lib/x86_64-linux-gnu/libgpudmalock.so.0"
expect 1 "--root STAGE without the library: refused" stage

echo "cdi: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

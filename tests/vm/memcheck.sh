#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# memcheck.sh KVER: shows that the VM harness catches a use-after-free.
# Builds the throwaway module tests/vm/memcheck/memcheck_uaf.c for KVER
# (incrementally, in build/vm/memcheck/KVER), boots KVER once with
# vm-run.sh (which turns on the memory checkers the kernel has) and loads
# it with each planted fault in turn, the kernel log marked between them:
#   none   the control: loads, unloads, and its part of the log is clean;
#   page   a write to a freed page: page poisoning's report;
#   kfence a read of a freed KFENCE object: KFENCE's report (skipped on a
#          kernel without KFENCE: Debian's 6.1);
#   slab   a write to a freed kmalloc object, last: slub_debug finds it
#          when the guest's init validates every cache before power off.
# Each part of the log must be a finding for tests/vm/logscan.sh (the
# none part must not), and vm-run.sh must fail the run for it.  Ends with
# "memcheck: N passed, M failed, K skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
k=${1:?usage: memcheck.sh KVER}
pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); echo "ok   memcheck $k: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL memcheck $k: $*"; }
finish() { echo "memcheck: $pass passed, $fail failed, $skip skipped"; [ $fail -eq 0 ]; exit; }

d=$build/vm/memcheck/$k
mkdir -p "$d"
cp -p tests/vm/memcheck/Kbuild tests/vm/memcheck/memcheck_uaf.c "$d/"
if ! tests/vm/kbuild.sh "$k" -s M="$d" modules >"$d/build.log" 2>&1; then
	cat "$d/build.log"
	bad "memcheck_uaf.ko builds"
	finish
fi
ko=$d/memcheck_uaf.ko
if [ "${GDL_VM_MEMCHECK:-1}" = 0 ]; then
	echo "memcheck $k: GDL_VM_MEMCHECK=0: the guests run without memory checkers"
	skip=6
	finish
fi
cfg=$(tests/vm/kernels.sh --root "$k")/boot/config-$k
has() { grep -q "^CONFIG_$1=y" "$cfg"; }
kfence=0
has KFENCE && kfence=1
# make check-debug's kernel (tests/debug/) has KASAN, lockdep and
# DEBUG_ATOMIC_SLEEP, and no page poisoning: KASAN reports the slab and
# page writes, and a lock-order inversion and a might_sleep() under a
# spinlock are planted for the other two.  Slab stays last: its part of
# the log runs to the end.
kasan=0
has KASAN && kasan=1
# Lockdep right after the control: any report before it (KASAN's, a
# warning) turns lockdep off for the rest of the boot.
modes="none"
has PROVE_LOCKING && modes="$modes lockdep"
modes="$modes page"
[ $kfence = 1 ] && modes="$modes kfence"
has DEBUG_ATOMIC_SLEEP && modes="$modes sleep"
modes="$modes slab"
out=$d/vm.log
GDL_VM_KEEP=1 tests/vm/vm-run.sh -k "$k" -t 300 -- "for m in $modes; do
	echo \"memcheck: begin \$m\" >/dev/kmsg
	insmod $ko uaf=\$m; echo \"insmod uaf=\$m: rc=\$?\"
	rmmod memcheck_uaf 2>/dev/null
	echo \"memcheck: end \$m\" >/dev/kmsg
done" >"$out" 2>&1
rc=$?
grep -E '^insmod|^vm-run: (RETRY|.*(FAILED|clean))' "$out"
run=$(sed -n 's/.*run dir kept: \(.*\)$/\1/p; s/^vm-run: kept \(.*\)$/\1/p' "$out" | tail -n 1)
if [ -z "$run" ] || [ ! -s "$run/dmesg" ]; then
	bad "the guest saved its kernel log (see $out)"
	finish
fi
cp "$run/dmesg" "$d/dmesg"
# A retried run keeps its first try (vm-run.sh): so does this.
grep -q '^vm-run: RETRY' "$out" || rm -rf "$run"
if [ $rc -ne 0 ] && grep -q 'FAILED: .*kernel log has findings' "$out"; then
	ok "vm-run.sh fails the run: kernel log has findings"
else
	bad "vm-run.sh did not fail the run for its kernel log (rc=$rc)"
fi
# part MODE: the kernel log from MODE's begin mark to its end mark; for
# slab, to the end of the log (the validation after the command).
part() {
	if [ "$1" = slab ]; then
		sed -n "/memcheck: begin $1\$/,\$p" "$d/dmesg"
	else
		sed -n "/memcheck: begin $1\$/,/memcheck: end $1\$/p" "$d/dmesg"
	fi
}
expect() {	# expect MODE WHAT REPORT-REGEX
	local n
	n=$(part "$1" | tests/vm/logscan.sh -c /dev/stdin)
	if [ "${n:-0}" -gt 0 ] && part "$1" | grep -Eq "$3"; then
		ok "uaf=$1: $2 found ($n finding lines)"
	else
		bad "uaf=$1: $2 not found (${n:-0} finding lines; see $d/dmesg)"
	fi
}
if grep -q 'insmod uaf=none: rc=0' "$out" && [ -n "$(part none)" ] &&
   ! part none | tests/vm/logscan.sh -q /dev/stdin; then
	ok "uaf=none: loads, and its part of the log is clean"
else
	bad "uaf=none: did not load clean"
fi
if [ $kasan = 1 ]; then
	expect page "KASAN's report" 'BUG: KASAN: [a-z-]*use-after-free'
else
	expect page "page poisoning's report" 'pagealloc: memory corruption'
fi
if [ $kfence = 1 ]; then
	expect kfence "KFENCE's report" 'BUG: KFENCE: use-after-free read in uaf_kfence'
else
	skip=$((skip + 1))
	echo "skip memcheck $k: uaf=kfence: this kernel has no KFENCE"
fi
for m in lockdep sleep; do
	case " $modes " in
	*" $m "*)
		if [ $m = lockdep ]; then
			expect lockdep "lockdep's report" 'possible circular locking dependency'
		else
			expect sleep "DEBUG_ATOMIC_SLEEP's report" 'sleeping function called from invalid context'
		fi ;;
	*)	# Only make check-debug's kernel has these detectors.
		if [ $kasan = 1 ] || [ "${GDL_DEBUG_KERNEL:-0}" = 1 ]; then
			bad "uaf=$m: the debug kernel lacks the detector"
		else
			skip=$((skip + 1))
			echo "skip memcheck $k: uaf=$m: a stock kernel has no such detector (make check-debug's has)"
		fi ;;
	esac
done
if [ $kasan = 1 ]; then
	expect slab "KASAN's report" 'BUG: KASAN: [a-z-]*use-after-free'
else
	expect slab "slub_debug's report" 'Poison overwritten'
fi
finish

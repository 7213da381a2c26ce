#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# retry-check.sh KVER: shows when vm-run.sh boots a guest again after the
# TCG int3 flake, and when it does not.  Two guests, each with a planted
# breakpoint (tests/vm/memcheck/memcheck_uaf.c uaf=int3: "int3: 0000
# [#1]", the flake's oops, in a module that is not ours) and then a
# panic (that oops, or sysrq c):
#   flake  gpu_dma_lock loaded, but nothing of ours in the log except
#          the oops's "Modules linked in:" list: vm-run.sh says "RETRY",
#          boots once more (which panics the same way: the run fails),
#          keeps the first try's console as console.log.try1 and adds one
#          line to the retry log;
#   ours   the same, after gpu_dma_lock refused a load with its own error
#          line ("gpu_dma_lock: pci_ids: 'xyz' is not ..."), so the
#          console log names our module: no retry, the run fails at once.
#          (The int3 oops may itself be fatal, as on 6.1, and a panic's
#          own trace lists no modules; an oops in our module names it in
#          its trace and "Modules linked in".)
# Then QEMU itself crashing, through a qemu-system-x86_64 first in PATH
# that dies of SIGSEGV for its first N calls and then runs the real one:
#   qemu-once    crashes once: "RETRY", one line in the retry log, and
#                the second guest runs the command (the run passes);
#   qemu-always  crashes every time: one retry, then the run fails with
#                "VM stopped before the command finished (qemu rc=139)".
# Uses its own retry log, so make check's retry counts stay the flake's.
# A real flake while a case's guest boots (before its command) is not what
# the case is about, and takes vm-run's one retry from it: such a case runs
# once more, said here and counted in the tier's retry log (CI, stop 14:
# 7.3 died of the int3 flake 3 s into the "ours" guest's boot).
# Ends with "retry-check: N passed, M failed, 0 skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
k=${1:?usage: retry-check.sh KVER}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   retry-check $k: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL retry-check $k: $*"; }
finish() { echo "retry-check: $pass passed, $fail failed, 0 skipped"; [ $fail -eq 0 ]; exit; }

d=$build/vm/memcheck/$k
mkdir -p "$d"
cp -p tests/vm/memcheck/Kbuild tests/vm/memcheck/memcheck_uaf.c "$d/"
if ! tests/vm/kbuild.sh "$k" -s M="$d" modules >"$d/build.log" 2>&1; then
	cat "$d/build.log"
	bad "memcheck_uaf.ko builds"
	finish
fi
ko=$build/kmod/$k/gpu_dma_lock.ko
[ -f "$ko" ] || { bad "no $ko (make modules-all)"; finish; }
ledger=$build/vm/retry-check-$k.ledger

# boot_flaked OUT: the case's guest died while booting, before its
# command: vm-run retried it for that, or its last try died that way.
boot_flaked() {
	local run
	grep -q '^vm-run: RETRY.*before the command started' "$1" && return 0
	run=$(sed -n 's/.*run dir kept: \(.*\)$/\1/p' "$1" | tail -n 1)
	[ -n "$run" ] && [ ! -e "$run/started" ] && grep -q 'Kernel panic' "$run/console.log" 2>/dev/null
}
# again CASE OUT: run CASE once more (the first time its guest died booting).
again() {
	[ "$tries" -lt 2 ] && boot_flaked "$2" || return 1
	echo "retry-check $k: $1: the guest died while booting (the flake, not the case): running the case once more"
	printf '%s %s retry-check %s: the guest died while booting; the case ran again\n' \
		"$(date -u +%FT%TZ)" "$k" "$1" >>"${GDL_VM_RETRY_LOG:-$build/vm/retries.log}"
}

for c in flake ours; do
	# flake: our module loaded (no word from it), so the oops's
	# "Modules linked in:" names it, and that alone is no reason to keep
	# the flake from its retry.
	pre="insmod $ko; "
	[ $c = ours ] && pre="insmod $ko pci_ids=xyz; "
	out=$build/vm/retry-check-$k-$c.log
	tries=0
	while :; do
		tries=$((tries + 1))
		: >"$ledger"
		GDL_VM_RETRY_LOG=$ledger tests/vm/vm-run.sh -k "$k" -t 240 -- \
			"${pre}insmod $d/memcheck_uaf.ko uaf=int3; sleep 1; echo c >/proc/sysrq-trigger; sleep 30" >"$out" 2>&1
		rc=$?
		again "$c" "$out" || break
	done
	run=$(sed -n 's/.*run dir kept: \(.*\)$/\1/p' "$out" | tail -n 1)
	n=$(grep -c '^vm-run: RETRY' "$out")
	if [ $rc -eq 0 ] || ! grep -q 'FAILED: guest kernel panicked' "$out"; then
		bad "$c: the run did not fail with a panic (rc=$rc, see $out)"
	elif [ $c = flake ]; then
		if [ "$n" = 1 ] && [ -s "$run/console.log.try1" ] && grep -q 'int3' "$run/console.log.try1" &&
		   grep -q 'Modules linked in:.*gpu_dma_lock' "$run/console.log.try1" &&
		   [ "$(wc -l <"$ledger")" = 1 ]; then
			ok "flake: gpu_dma_lock loaded (named only in 'Modules linked in:'): retried once, first try kept ($run/console.log.try1), one line in the retry log"
		else
			bad "flake: $n retries, ledger $(wc -l <"$ledger") lines, try1 in '${run:-?}' (see $out)"
		fi
	else
		if [ "$n" = 0 ] && [ ! -s "$ledger" ] && grep -q 'gpu_dma_lock' "$run/console.log"; then
			ok "ours: the log names gpu_dma_lock: not retried"
		else
			bad "ours: $n retries (see $out)"
		fi
	fi
	[ $fail -eq 0 ] && [ -n "$run" ] && rm -rf "$run"
done

# QEMU crashing.
real_qemu=$(command -v qemu-system-x86_64)
wrap=$build/vm/retry-check-qemu
mkdir -p "$wrap"
cat >"$wrap/qemu-system-x86_64" <<EOF
#!/bin/sh
# retry-check.sh's stand-in: dies of SIGSEGV for the first \$CRASHES calls.
n=\$(cat "$wrap/calls" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$wrap/calls"
[ "\$n" -ge "\$CRASHES" ] && exec "$real_qemu" "\$@"
ulimit -c 0
kill -SEGV \$\$
EOF
chmod +x "$wrap/qemu-system-x86_64"
for c in qemu-once qemu-always; do
	crashes=1
	[ $c = qemu-always ] && crashes=99
	out=$build/vm/retry-check-$k-$c.log
	tries=0
	while :; do
		tries=$((tries + 1))
		: >"$ledger"
		rm -f "$wrap/calls"
		PATH=$wrap:$PATH CRASHES=$crashes GDL_VM_RETRY_LOG=$ledger \
			tests/vm/vm-run.sh -k "$k" -t 240 -- "echo retry-check-ran" >"$out" 2>&1
		rc=$?
		again "$c" "$out" || break
	done
	n=$(grep -c '^vm-run: RETRY.*qemu itself died of signal 11' "$out")
	calls=$(cat "$wrap/calls" 2>/dev/null)
	run=$(sed -n -e 's/.*run dir kept: \(.*\)$/\1/p' -e 's/^vm-run: kept \(.*\)$/\1/p' "$out" | tail -n 1)
	if [ $c = qemu-once ]; then
		if [ $rc -eq 0 ] && [ "$n" = 1 ] && [ "$calls" = 2 ] && grep -q '^retry-check-ran$' "$out" &&
		   [ "$(wc -l <"$ledger")" = 1 ]; then
			ok "qemu-once: qemu's SIGSEGV retried once, the second guest ran the command, one line in the retry log"
		else
			bad "qemu-once: rc=$rc, $n retries, ${calls:-0} qemu calls, ledger $(wc -l <"$ledger") lines (see $out)"
		fi
	else
		if [ $rc -ne 0 ] && [ "$n" = 1 ] && [ "$calls" = 2 ] &&
		   grep -q 'FAILED: VM stopped before the command finished (qemu rc=139)' "$out"; then
			ok "qemu-always: retried once, then the run fails (qemu rc=139)"
		else
			bad "qemu-always: rc=$rc, $n retries, ${calls:-0} qemu calls (see $out)"
		fi
	fi
	[ $fail -eq 0 ] && [ -n "$run" ] && rm -rf "$run"
done
rm -rf "$wrap"
rm -f "$ledger"
finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The bindings against the real module, run INSIDE the test VM as root (see
# run.sh, which boots it with two edu devices as fake GPUs).
#   vm-bindings.sh MODULE.ko BUILD_DIR RUST_DEVICE_TEST RUST_EXAMPLE
# Runs the Rust scenario (utils/rust/tests/device.rs, built on the host),
# the Python one (scenario.py) and both orchestrator examples, then checks
# that nothing was left behind.  Ends with "bindings-vm: N passed, M failed".
set -u
KO=$1
BUILD=$2
RUST_TEST=$3
RUST_EXAMPLE=$4
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
export LD_LIBRARY_PATH=$BUILD/utils
export PYTHONPATH=$TOP/utils/python
export GDL_BINDINGS_VM=1	# the Rust scenario runs only where this is set
CTL=$BUILD/utils/gpu-dma-lock-ctl
T=/tmp/bindings-test
mkdir -p $T
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   bindings: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL bindings: $*"; }

# part NAME CMD...: run a scenario that prints "NAME: N passed, M failed"
# and add its counts; a missing line or a non-zero exit is one failure.
part() {
	name=$1
	shift
	"$@" >$T/$name.out 2>&1
	rc=$?
	cat $T/$name.out
	line=$(sed -n "s/^$name: \([0-9]*\) passed, \([0-9]*\) failed\$/\1 \2/p" $T/$name.out | tail -n 1)
	if [ -z "$line" ]; then
		bad "$name printed no count line (exit $rc)"
		return
	fi
	set -- $line
	pass=$((pass + $1))
	fail=$((fail + $2))
	[ $rc -eq 0 ] || [ "$2" -ne 0 ] || bad "$name exited $rc with nothing failed"
}

# has FILE PATTERN DESC
has() {
	if grep -Eq "$2" "$1"; then ok "$3"; else bad "$3: no /$2/ in:"; sed 's/^/     | /' "$1"; fi
}

if insmod "$KO" pci_ids=1234:11e8; then ok "insmod"; else bad "insmod"; echo "bindings-vm: $pass passed, $fail failed"; exit 1; fi

part rust-vm "$RUST_TEST"
part python-vm python3 "$HERE/scenario.py"

# The examples: a child refused past its quota; the event is printed and
# the agent retired when the child exits.
"$RUST_EXAMPLE" rs-demo 4M $CTL reserve 0 3M 2M >$T/rs-example 2>&1
echo "rust example: exit $?" >>$T/rs-example
has $T/rs-example "^rust example: exit 0$" "rust example exits 0"
has $T/rs-example "^rs-demo: QuotaExceeded on device 0: asked 2097152 bytes, limit 4194304$" "rust example prints the child's quota_exceeded event"
has $T/rs-example "^rs-demo: exit status: 1, agent retired$" "rust example retires the agent after the child exits 1"
python3 "$TOP/utils/python/examples/orchestrator.py" py-demo 4M $CTL reserve 0 3M 2M >$T/py-example 2>&1
echo "python example: exit $?" >>$T/py-example
has $T/py-example "^python example: exit 0$" "python example exits 0"
has $T/py-example "^py-demo: quota_exceeded on device 0: asked 2097152 bytes, limit 4194304$" "python example prints the child's quota_exceeded event"
has $T/py-example "^py-demo: exit status 1, agent retired$" "python example retires the agent after the child exits 1"

# Nothing left behind: no agent, no cgroup, no reservation, no open file.
# (the list must itself succeed: a failing ctl prints no agent either)
if ! $CTL agent list >$T/agents 2>&1; then
	bad "no agent left behind: gpu-dma-lock-ctl agent list failed:"
	cat $T/agents
elif grep -Eq 'bindings|demo' $T/agents; then
	bad "agents left behind:"
	cat $T/agents
else
	ok "no agent left behind"
fi
ls -d /sys/fs/cgroup/*bindings* /sys/fs/cgroup/*-demo 2>/dev/null && bad "cgroups left behind" || ok "no cgroup left behind"
grep -q '^ledger_consistent 1$' /proc/gpu_dma_lock/stats && ok "ledger consistent" || bad "ledger not consistent"
grep -q '^live_reservations 0$' /proc/gpu_dma_lock/stats && ok "no reservation left" || bad "reservations left: $(grep live_reservations /proc/gpu_dma_lock/stats)"
rmmod gpu_dma_lock && ok "rmmod: no file left open" || bad "rmmod"

echo "bindings-vm: $pass passed, $fail failed"
[ $fail -eq 0 ]

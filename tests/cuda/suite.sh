#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The CUDA interposer suite, run INSIDE the test VM (tests/vm/vm-run.sh -e 2)
# as root, against the fake libcuda.so.1 built by tests/cuda/Makefile.
#   suite.sh MODULE.ko BUILD_DIR [bench]
# Ends with "cuda-suite: N passed, M failed"; "bench" prints the
# benchmark table instead.
set -u
KO=$1
B=$2
MODE=${3:-test}
LIB=$B/cuda/libgpudmalock-cuda.so
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   cuda-suite: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL cuda-suite: $*"; }

# The edu devices stand in for GPUs: the fake driver reports their PCI
# addresses, so the interposer maps them to the module's devices.
pci=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		pci=$pci${pci:+,}${d##*/}
done
export FAKE_CUDA_PCI="$pci" LD_LIBRARY_PATH="$B/cuda/fake"

# cudatest MODE [VAR=VALUE...]: run it under the interposer, add its counts.
cudatest() {
	m=$1
	shift
	out=$(env LD_PRELOAD="$LIB" "$@" "$B/cuda/cudatest" "$m" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | sed -n 's/^cudatest: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
	if [ -z "$line" ]; then
		bad "cudatest $m $* did not finish"
		return
	fi
	# shellcheck disable=SC2086 # two numbers, split on purpose
	set -- $line
	pass=$((pass + $1))
	fail=$((fail + $2))
	# A crash after the count line (the interposer's exit handlers) fails it.
	[ $rc -eq 0 ] || [ "$2" -gt 0 ] || bad "cudatest $m exited with status $rc"
}

if [ "$MODE" = bench ]; then
	insmod "$KO" pci_ids=1234:11e8 || exit 1
	GDL_CUDA_LIB=$LIB "$B/cuda/bench"
	exit $?
fi

# 1. No module: fail closed by default; pass through only when the admin's
# cuda.conf says so (the guest's root is a throw-away overlay); the
# tenant's environment may only make it stricter.
conf=/etc/gpu-dma-lock/cuda.conf
if [ ! -e /dev/gpu_dma_lock ]; then ok "no module loaded yet"; else bad "/dev/gpu_dma_lock exists before insmod"; fi
rm -f $conf
cudatest closed
cudatest closed GDL_CUDA_FAIL=open
cudatest closed GDL_CUDA_FAIL=bogus
mkdir -p /etc/gpu-dma-lock
printf '# test\nfail = open\n' >$conf
chmod 644 $conf
cudatest open
cudatest closed GDL_CUDA_FAIL=closed
chmod 666 $conf
cudatest closed
chmod 644 $conf
chown 65534 $conf
cudatest closed
chown 0 $conf
# The main suite: contexts cost 2M (the environment may not lower it).
printf 'fail = open\nctx_reserve = 2M\n' >$conf

# 2. With the module: the main suite.
if insmod "$KO" pci_ids=1234:11e8; then ok "insmod"; else bad "insmod"; echo "cuda-suite: $pass passed, $fail failed"; exit 1; fi
cudatest main GDL_CUDA_CTX_RESERVE=2M GDL_CUDA_FAIL=open

# 3. Nothing left charged once every test process is gone.
live=$(sed -n 's/^live_reservations \([0-9]*\)$/\1/p' /proc/gpu_dma_lock/stats)
if [ "$live" = 0 ]; then ok "no live reservations left"; else bad "live reservations left: $live"; fi
cons=$(sed -n 's/^ledger_consistent \([0-9]*\)$/\1/p' /proc/gpu_dma_lock/stats)
if [ "$cons" = 1 ]; then ok "ledger consistent"; else bad "ledger_consistent=$cons"; fi
if rmmod gpu_dma_lock; then ok "rmmod"; else bad "rmmod"; fi

# The driver's bus id is read with the ctl's grammar (gdl_parse_pci_addr):
# NVML's 8-digit domain in upper case and lspci's short form name the
# managed GPU; trailing junk, which the ctl always refused, names none.
# "cudatest alloc 1" exits 0 when 1 MiB fits, 3 on CUDA_ERROR_OUT_OF_MEMORY,
# 4 on another error: the module is reloaded so that an unbound process is
# charged to the default agent.  Managed: it exits 0 and the ledger's
# reserve_ok counter rose (fail = open would let an unaccounted allocation
# exit 0 too).  Unmanaged: the interposer says the device is not managed,
# refuses (3 or 4, not a crash) and nothing is charged.
first=${pci%%,*}
reserve_ok() { sed -n 's/^reserve_ok \([0-9]*\)$/\1/p' /proc/gpu_dma_lock/stats; }
busid_case() {
	want=$1
	shift
	r0=$(reserve_ok)
	env LD_PRELOAD="$LIB" FAKE_CUDA_PCI="$1" "$B/cuda/cudatest" alloc 1 >/tmp/gdl-busid.out 2>&1
	rc=$?
	n=$(($(reserve_ok) - r0))
	if [ "$want" = managed ] && [ $rc -eq 0 ] && [ $n -ge 1 ]; then
		ok "bus id '$1': managed (cudatest alloc exited 0, $n reservations charged)"
	elif [ "$want" = unmanaged ] && { [ $rc -eq 3 ] || [ $rc -eq 4 ]; } && [ $n -eq 0 ] &&
	     grep -q 'is not managed by gpu_dma_lock' /tmp/gdl-busid.out; then
		ok "bus id '$1': unmanaged (refused, exit $rc, nothing charged)"
	else
		bad "bus id '$1': want $want, cudatest alloc exited $rc, $n reservations charged: $(head -c 300 /tmp/gdl-busid.out)"
	fi
}
if insmod "$KO" pci_ids=1234:11e8 default_policy=default default_quota=64M; then
	ok "insmod default_policy=default"
else
	bad "insmod default_policy=default"
fi
busid_case managed "$first"
busid_case managed "0000$(echo "$first" | tr a-f A-F)"
busid_case managed "${first#*:}"
busid_case unmanaged "${first}x"
busid_case unmanaged "$first 0"
busid_case unmanaged "0x$first"
rmmod gpu_dma_lock || bad "rmmod after the bus id cases"

echo "cuda-suite: $pass passed, $fail failed"
[ $fail -eq 0 ]

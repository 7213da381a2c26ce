#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo's guest half, run INSIDE the VM by tests/demo/demo.sh:
#   guest.sh MODULE.ko BUILD_DIR
# Narrated for a newcomer: each step says what it shows, then runs it.
set -u
KO=$1
BUILD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PATH=$BUILD/utils:$PATH
KVER=$(uname -r)
CG=/sys/fs/cgroup/demo
O=/tmp/demo-out

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# The demo stops at the first step that does not do what it says.
die() { printf '\n\033[1;31mdemo: FAILED: %s\033[0m\n' "$*"; exit 1; }
# run CMD...: show it and run it; it must succeed.  Its output is in $O.
run() {
	printf '$ %s\n' "$*"
	"$@" >$O 2>&1
	rc=$?
	cat $O
	[ $rc -eq 0 ] || die "'$*' exited $rc"
}
# seen PATTERN WHAT: the last command's output shows WHAT, or the demo stops.
seen() { grep -Eq -- "$1" $O || die "expected $2; the output above does not show it"; }
# Narration that states a result is printed only once it was checked.
told() { printf '(%s)\n' "$*"; }
# as CG [-r RC] CMD...: run CMD as a process of a tenant's cgroup, as its
# container would; it must exit RC (default 0).
as() {
	cg=$1
	shift
	want=0
	[ "$1" = -r ] && { want=$2; shift 2; }
	printf '$ [in %s] %s\n' "$cg" "$*"
	sh -c 'echo $$ >'"$CG/$cg"'/cgroup.procs && exec "$@"' sh "$@" >$O 2>&1
	rc=$?
	cat $O
	[ $rc -eq "$want" ] || die "'$*' in $cg exited $rc, expected $want"
}
# usage AGENT DEVICE: bytes the ledger has charged to AGENT on DEVICE.
usage() { gpu-dma-lock-ctl quota get "$1" "$2" --json | sed -n 's/.*"usage": *\([0-9]*\).*/\1/p'; }
# poll TENTHS CMD...: CMD until it succeeds, every 0.1 s, at most TENTHS times.
poll() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}

say "Install the module for kernel $KVER, with fleet options in modprobe.d"
echo "This VM's /lib/modules is a scratch copy; writes vanish at power-off."
sh "$HERE/../ctl/guest-modtree.sh" || die "preparing the VM's module tree"
mkdir -p /lib/modules/$KVER/updates && cp "$KO" /lib/modules/$KVER/updates/ && depmod ||
	die "installing $KO"
echo "options gpu_dma_lock pci_ids=1234:11e8 default_policy=deny" >/etc/modprobe.d/gpu_dma_lock.conf
run cat /etc/modprobe.d/gpu_dma_lock.conf

say "Load it through libkmod (as modprobe does: the options above apply)"
run gpu-dma-lock-ctl load
seen "pci_ids=1234:11e8" "the modprobe.d options"

say "Is it loaded, the installed build, healthy?"
run gpu-dma-lock-ctl status

say "Self-test: a scratch agent with a 1M quota, bound to the test itself"
run gpu-dma-lock-ctl selftest

say "The two edu PCI devices were discovered as GPUs"
run gpu-dma-lock-ctl device list
[ "$(gpu-dma-lock-ctl device list --json | grep -c '"source": "pci"')" = 2 ] ||
	die "expected the two edu devices in the list"

say "The policy: capacities, two tenants with quotas, their cgroups, a peer right"
mkdir -p $CG/train $CG/infer || die "making the tenants' cgroups"
run cat "$HERE/policy"
say "Dry run first: what would change"
run gpu-dma-lock-ctl apply "$HERE/policy" --dry-run
seen "would be made; nothing was changed" "a dry run that changes nothing"
say "Apply it"
run gpu-dma-lock-ctl apply "$HERE/policy"
seen "changes? made" "the changes made"
say "Apply again: nothing to change"
run gpu-dma-lock-ctl apply "$HERE/policy"
seen "nothing to change" "a second apply changing nothing"
told "idempotent: the ledger already matched the file"
say "Who is bound to which agent (the kernel lists its bindings)"
run gpu-dma-lock-ctl agent bindings
seen "$CG/train" "train's cgroup binding"

say "Watch events in the background (gpu-dma-lock-ctl watch)"
gpu-dma-lock-ctl watch --count 1 --timeout 60 >/tmp/watch.out 2>&1 &
wpid=$!
poll 100 grep -q "^watching" /tmp/watch.out || die "watch did not start: $(cat /tmp/watch.out)"

say "infer (quota 4M) reserves 3M, then 2M more: the kernel refuses the second"
as infer -r 1 gpu-dma-lock-ctl reserve 0 3M 2M
seen "reserve 3M on device 0: ok" "the 3M reservation to pass"
seen "reserve 2M on device 0: REFUSED" "the 2M reservation to be refused"
wait $wpid || die "watch saw no event: $(cat /tmp/watch.out)"
echo "watch saw:"
sed 's/^/    /' /tmp/watch.out
grep -q 'agent=infer' /tmp/watch.out || die "expected watch to name infer's refusal"

say "train holds 20M on GPU 0 in a background process"
echo '$ [in train] gpu-dma-lock-ctl reserve 0 20M --hold &'
# Not through as(): $! must be the process that becomes the ctl.
sh -c 'echo $$ >'"$CG"'/train/cgroup.procs && exec gpu-dma-lock-ctl reserve 0 20M --hold' >/tmp/hold.out 2>&1 &
hpid=$!
poll 100 grep -q holding /tmp/hold.out || die "the holder did not start: $(cat /tmp/hold.out)"
sed 's/^/    /' /tmp/hold.out
run gpu-dma-lock-ctl quota get train 0
[ "$(usage train 0)" = 20971520 ] || die "expected train's usage on GPU 0 to be 20M"
told "train's usage on GPU 0 is 20M"

say "Kill it with SIGKILL: the kernel releases what it held"
run kill -9 $hpid
wait $hpid 2>/dev/null
run gpu-dma-lock-ctl quota get train 0
[ "$(usage train 0)" = 0 ] || die "expected train's usage to be 0 after SIGKILL"
told "usage back to 0: the kernel released it when the process died"

say "An unmodified CUDA program in infer, under the interposer"
echo "LD_PRELOAD=libgpudmalock-cuda.so reserves every cuMemAlloc in the ledger"
echo "before the driver sees it.  No GPU here: the tests' stand-in libcuda.so.1"
echo "plays the driver, reporting the edu devices' PCI addresses as its GPUs."
pci=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		pci=$pci${pci:+,}${d##*/}
done
as infer env FAKE_CUDA_PCI="$pci" LD_LIBRARY_PATH="$BUILD/cuda/fake" \
	LD_PRELOAD="$BUILD/cuda/libgpudmalock-cuda.so" \
	"$BUILD/cuda/demo_workload" 1 16
seen "cuMemGetInfo: total 4 MiB" "cuMemGetInfo to report the 4M quota"
seen "4 succeeded \(4 MiB\), then CUDA_ERROR_OUT_OF_MEMORY" "the 5th MiB to be out of memory"
told "the 4M quota: cuMemGetInfo reports it, and the 5th MiB is out of memory"
run gpu-dma-lock-ctl quota get infer 0

say "Statistics, as a table"
run gpu-dma-lock-ctl stats
say "... and as Prometheus text (node_exporter's textfile collector)"
run gpu-dma-lock-ctl stats --prometheus
seen "^gpu_dma_lock_" "Prometheus metrics"

say "Clean up and unload"
gpu-dma-lock-ctl agent destroy train >/dev/null || die "destroying train"
gpu-dma-lock-ctl agent destroy infer >/dev/null || die "destroying infer"
run gpu-dma-lock-ctl unload
rmdir $CG/train $CG/infer $CG || die "removing the tenants' cgroups"

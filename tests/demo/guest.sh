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

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; rc=$?; [ $rc -eq 0 ] || echo "(exit $rc)"; }
# Run a command as a process of a tenant's cgroup, as its container would.
as() { cg=$1; shift; printf '$ [in %s] %s\n' "$cg" "$*"; sh -c 'echo $$ >'"$CG/$cg"'/cgroup.procs && exec "$@"' sh "$@"; rc=$?; [ $rc -eq 0 ] || echo "(exit $rc)"; }

say "Install the module for kernel $KVER, with fleet options in modprobe.d"
echo "This VM's /lib/modules is a scratch copy; writes vanish at power-off."
sh "$HERE/../ctl/guest-modtree.sh"
mkdir -p /lib/modules/$KVER/updates && cp "$KO" /lib/modules/$KVER/updates/ && depmod
echo "options gpu_dma_lock pci_ids=1234:11e8 default_policy=deny" >/etc/modprobe.d/gpu_dma_lock.conf
run cat /etc/modprobe.d/gpu_dma_lock.conf

say "Load it through libkmod (as modprobe does: the options above apply)"
run gpu-dma-lock-ctl load

say "Is it loaded, the installed build, healthy?"
run gpu-dma-lock-ctl status

say "Self-test: a scratch agent with a 1M quota, bound to the test itself"
run gpu-dma-lock-ctl selftest

say "The two edu PCI devices were discovered as GPUs"
run gpu-dma-lock-ctl device list

say "The policy: capacities, two tenants with quotas, their cgroups, a peer right"
mkdir -p $CG/train $CG/infer
run cat "$HERE/policy"
say "Dry run first: what would change"
run gpu-dma-lock-ctl apply "$HERE/policy" --dry-run
say "Apply it"
run gpu-dma-lock-ctl apply "$HERE/policy"
say "Apply again: it is idempotent"
run gpu-dma-lock-ctl apply "$HERE/policy"
say "Who is bound to which agent (the kernel lists its bindings)"
run gpu-dma-lock-ctl agent bindings

say "Watch events in the background (gpu-dma-lock-ctl watch)"
gpu-dma-lock-ctl watch --count 1 --timeout 60 >/tmp/watch.out 2>&1 &
wpid=$!
sleep 1

say "infer (quota 4M) reserves 3M, then 2M more: the kernel refuses the second"
as infer gpu-dma-lock-ctl reserve 0 3M 2M
wait $wpid
echo "watch saw:"
sed 's/^/    /' /tmp/watch.out

say "train holds 20M on GPU 0 in a background process"
echo '$ [in train] gpu-dma-lock-ctl reserve 0 20M --hold &'
# Not through as(): $! must be the process that becomes the ctl.
sh -c 'echo $$ >'"$CG"'/train/cgroup.procs && exec gpu-dma-lock-ctl reserve 0 20M --hold' >/tmp/hold.out 2>&1 &
hpid=$!
i=0
while ! grep -q holding /tmp/hold.out && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
sed 's/^/    /' /tmp/hold.out
run gpu-dma-lock-ctl quota get train 0

say "Kill it with SIGKILL: the kernel releases what it held"
run kill -9 $hpid
wait $hpid 2>/dev/null
run gpu-dma-lock-ctl quota get train 0

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
echo "(the 4M quota: cuMemGetInfo reports it, and the 5th MiB is out of memory)"
run gpu-dma-lock-ctl quota get infer 0

say "Statistics, as a table"
run gpu-dma-lock-ctl stats
say "... and as Prometheus text (node_exporter's textfile collector)"
run gpu-dma-lock-ctl stats --prometheus

say "Clean up and unload"
gpu-dma-lock-ctl agent destroy train >/dev/null
gpu-dma-lock-ctl agent destroy infer >/dev/null
run gpu-dma-lock-ctl unload
rmdir $CG/train $CG/infer $CG

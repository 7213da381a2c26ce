#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: on a fresh Debian 12 machine, as root, installs what it needs,
# builds the module, libgpudmalock and gpu-dma-lock-ctl, boots the newest
# installed kernel in QEMU with two edu PCI devices standing in for GPUs,
# and runs tests/demo/guest.sh inside: load with modprobe.d options,
# status, selftest, a policy with two tenants, an over-quota workload seen
# by `watch`, a killed process's memory released, stats; then a podman
# container held to its quota by the OCI hook and the CDI spec.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
mkdir -p "$build"	# a fresh clone has none: the logs below go there
cd "$root"

step() { printf '\n\033[1;34m### %s\033[0m\n' "$*"; }

step "1/4 Dependencies (QEMU, kernel images and headers, libkmod, CUnit)"
# The Debian 13 test root is for make check's 7.3 guests, not the demo.
GDL_DEPS_ROOTS=0 tests/deps.sh

step "2/4 Build the module for every installed kernel, the library and the ctl"
make -s modules-all >"$build/demo-build.log" 2>&1 || { tail -n 30 "$build/demo-build.log"; exit 1; }
make -s utils >>"$build/demo-build.log" 2>&1 || { tail -n 30 "$build/demo-build.log"; exit 1; }
# The CUDA interposer and, for a VM without a GPU, the tests' stand-in driver.
make -s -C tests/cuda BUILD="$build" >>"$build/demo-build.log" 2>&1 || { tail -n 30 "$build/demo-build.log"; exit 1; }
# The containers part's image (podman import).
make -s -C tests/containers BUILD="$build" >>"$build/demo-build.log" 2>&1 || { tail -n 30 "$build/demo-build.log"; exit 1; }
kver=$(tests/vm/kernels.sh --of host | grep -v -- -rt- | tail -n 1)
echo "built: $build/kmod/$kver/gpu_dma_lock.ko, $build/utils/libgpudmalock.so.0, $build/utils/gpu-dma-lock-ctl"

step "3/4 Boot Linux $kver in QEMU with two fake GPUs (edu PCI devices)"
echo "The guest shares this machine's files read-only; it takes 10-30 s."

step "4/4 In the VM"
# cgroup.memory=nokmem: podman's first cgroup can trip Debian 6.12's
# TCG text-patching oops without it (tests/containers/run.sh).
# Each half stops at its first step that does not do what it says
# ("demo: FAILED: ..."), and vm-run.sh passes that on as its exit status.
if tests/vm/vm-run.sh -k "$kver" -e 2 -m 2048 -t 600 -a cgroup.memory=nokmem -- \
	"sh tests/demo/guest.sh $build/kmod/$kver/gpu_dma_lock.ko $build &&
	 sh tests/demo/containers.sh $build"; then
	printf '\n\033[1;32mdemo: every step did what it said\033[0m\n'
else
	printf '\n\033[1;31mdemo: FAILED (the first failing step is named above)\033[0m\n' >&2
	exit 1
fi

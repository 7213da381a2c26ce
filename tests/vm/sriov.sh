#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sriov.sh KVER: SR-IOV VFs removed during the module's load-time PCI walk
# (issue 22 item 10) must not stay in the ledger as live.  Builds a test
# build of the module (GDL_TEST_HOOKS=y: the walk_delay_ms parameter
# widens the window between the walk's reference to a function and its
# plug) for KVER, incrementally, in build/vm/sriov/KVER; boots KVER on a
# q35 machine with QEMU's SR-IOV capable NVMe controller (2 VFs, ids
# 1b36:0010 like the PF), and runs tests/vm/sriov-guest.sh there, with
# tests/vm/sriov/sriov_off.ko (built the same way) to disable SR-IOV as a
# PF driver does itself.  A
# kernel whose nvme or QEMU cannot make the VFs counts the checks as
# skipped, with the reason.  Ends with "sriov: N passed, M failed, K
# skipped".  GDL_SRIOV_DELAY_MS sets the walk's delay (default 3000).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
k=${1:?usage: sriov.sh KVER}

d=$build/vm/sriov/$k
mkdir -p "$d/uapi"
# The module: only what changed is copied, so kbuild rebuilds only what it touches.
for f in src/*.c src/*.h src/Kbuild src/uapi/*.h; do
	cmp -s "$f" "$d/${f#src/}" || cp "$f" "$d/${f#src/}"
done
version=$(make -s version)
# W=1: the test hooks compile only in this build, so it is where every
# kernel checks them for warnings (lint adds sparse, on the newest kernel).
# A warning deletes the objects, so that the next run compiles them again
# and says so again.
if ! tests/vm/kbuild.sh "$k" -s M="$d" W=1 GDL_VERSION="$version" GDL_TEST_HOOKS=y \
	modules >"$d/build.log" 2>&1 || grep -Eq 'warning:|error:' "$d/build.log"; then
	cat "$d/build.log"
	rm -f "$d"/*.o
	echo "FAIL sriov $k: the test build of the module (W=1, GDL_TEST_HOOKS=y) builds without a warning"
	echo "sriov: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
# The plant that disables SR-IOV as a PF driver does itself.
mkdir -p "$d/off"
cp -p tests/vm/sriov/Kbuild tests/vm/sriov/sriov_off.c "$d/off/"
if ! tests/vm/kbuild.sh "$k" -s M="$d/off" modules >"$d/off/build.log" 2>&1; then
	cat "$d/off/build.log"
	echo "FAIL sriov $k: sriov_off.ko builds"
	echo "sriov: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
# The PF on a root port of its own (bus 01), its VFs beside it.
qemu="-machine q35 -device pcie-root-port,id=rp0,chassis=1"
qemu="$qemu -device nvme-subsys,id=s0 -device nvme,serial=gdl0,subsys=s0,bus=rp0"
qemu="$qemu,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2"
tests/vm/vm-run.sh -k "$k" -t 300 -q "$qemu" -- \
	"sh tests/vm/sriov-guest.sh $d/gpu_dma_lock.ko $d/off/sriov_off.ko ${GDL_SRIOV_DELAY_MS:-3000}"

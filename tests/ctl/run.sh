#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/ctl/run.sh [KVER...]: the ctl tier of make check.
#   1. builds the module for every kernel, the library and the ctl;
#   2. runs the host unit tests (CUnit: library and ctl parsers) and
#      cdi.sh (cdi generate against a scratch node's files);
#   3. boots every kernel (default: all from tests/vm/kernels.sh) in QEMU
#      with two edu devices and runs vm-ctl.sh inside.
# Ends with "ctl: N passed, M failed" (checks, all parts together).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
mkdir -p "$build"	# a fresh clone has none: the logs below go there
cd "$root" || exit 1

# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh
tally_kernels ctl "$@"

if ! make -s modules-all >"$build/ctl-build.log" 2>&1 || ! make -s utils >>"$build/ctl-build.log" 2>&1; then
	tail -n 30 "$build/ctl-build.log"
	echo "ctl: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

# Host unit tests.
log=$build/ctl-unit.log
make -s -C utils test >"$log" 2>&1
rc=$?
grep -E '\.\.\.FAILED|^ +[0-9]+\. ' "$log" || true
tally utils "$log" $rc
tally_row "host unit tests"

# The build tree's ctl runs as it is (RUNPATH $ORIGIN), while the copy
# that `make install` ships carries no RUNPATH at all.
log=$build/ctl-runpath.log
{
	n=0
	if env -u LD_LIBRARY_PATH "$build/utils/gpu-dma-lock-ctl" --version; then
		echo "ok   build/utils/gpu-dma-lock-ctl runs without LD_LIBRARY_PATH"
	else
		echo "FAIL build/utils/gpu-dma-lock-ctl runs without LD_LIBRARY_PATH"
		n=$((n + 1))
	fi
	inst=$build/utils/install/gpu-dma-lock-ctl
	if make -s -C utils BUILD="$build" "$inst" &&
	   readelf -d "$inst" >"$build/ctl-readelf.txt" &&
	   ! grep -Eq 'RUNPATH|RPATH' "$build/ctl-readelf.txt"; then
		echo "ok   the installed ctl has no RUNPATH"
	else
		echo "FAIL the installed ctl has no RUNPATH"
		n=$((n + 1))
	fi
	echo "runpath: $((2 - n)) passed, $n failed"
} >"$log" 2>&1
grep -E '^(ok|FAIL)' "$log"
tally runpath "$log" 0
tally_row "build-tree ctl, RUNPATH"

# cdi generate on a node without the files it mounts (host, no module).
log=$build/ctl-cdi.log
tests/ctl/cdi.sh "$build" >"$log" 2>&1
rc=$?
grep -E '^FAIL' "$log" || true
tally cdi "$log" $rc
tally_row "cdi generate (host)"

tally_userspace_kernels $#
last_n=0
for k in "${run_kernels[@]}"; do
	ko=$build/kmod/$k/gpu_dma_lock.ko
	mkdir -p "$build/vm"
	tally_guest ctl-vm "$k" "$build/vm/ctl-$k.log" '^(FAIL|     \|)|vm-run:' "" \
		-e 2 -t 240 -- "sh tests/ctl/vm-ctl.sh $ko $build"
done
tally_left_out "$last_n"

tally_end ctl "gpu-dma-lock-ctl tests (logs: $build/ctl-unit.log, $build/vm/ctl-*.log):"

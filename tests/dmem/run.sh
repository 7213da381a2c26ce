#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/dmem/run.sh [KVER...]: the dmem tier (issue 24, docs/dmem.md),
# part of make check-debug: the ledger programming the kernel's dmem
# cgroup controller, which only a kernel with CONFIG_CGROUP_DMEM has (the
# debug 7.3 kernel, tests/debug/; Debian's own leave it off).
#   1. builds the module, the library, the ctl and the OCI hook, and, per
#      kernel, the driver stand-in (dmem_standin.ko) and the test tools
#      (charge, ledger);
#   2. boots each kernel with two edu devices and runs standin-check.sh
#      (the stand-in refuses past dmem.max) and guest.sh (the ledger's
#      cases) there.
# A kernel without CONFIG_CGROUP_DMEM is skipped: one skipped check.  Ends with "dmem: N passed, M failed, K skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
mkdir -p "$build/vm"
cd "$root" || exit 1

# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh
tally_kernels dmem "$@"

log=$build/dmem-build.log
if ! make -s modules-all >"$log" 2>&1 || ! make -s utils >>"$log" 2>&1; then
	tail -n 30 "$log"
	echo "dmem: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

# The tools run in the guests, whose roots have a newer glibc than the
# host's: built here, against the build tree's library.
tools=$build/dmem/tools
mkdir -p "$tools"
CFLAGS_T=(-O2 -g -Wall -Wextra -Werror -Itests/dmem -Iutils/include -Isrc/uapi)
if ! gcc "${CFLAGS_T[@]}" -o "$tools/charge" tests/dmem/charge.c >>"$log" 2>&1 ||
   ! gcc "${CFLAGS_T[@]}" -o "$tools/ledger" tests/dmem/ledger.c -L"$build/utils" \
	-lgpudmalock -Wl,-rpath,"$build/utils" >>"$log" 2>&1; then
	tail -n 30 "$log"
	echo "dmem: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

for k in "${kernels[@]}"; do
	cfg=$(tests/vm/kernels.sh --root "$k")/boot/config-$k
	if ! grep -q '^CONFIG_CGROUP_DMEM=y' "$cfg"; then
		tally_skip "$k" 1 "no CONFIG_CGROUP_DMEM (make check-debug's kernel has it)"
		continue
	fi
	d=$build/dmem/$k
	mkdir -p "$d"
	cp -p tests/dmem/Kbuild tests/dmem/dmem_standin.c tests/dmem/dmem_standin.h "$d/"
	cp -p "$tools/charge" "$tools/ledger" "$d/"
	if ! tests/vm/kbuild.sh "$k" -s M="$d" modules >"$d/build.log" 2>&1; then
		cat "$d/build.log"
		echo "FAIL dmem: dmem_standin.ko builds for $k"
		p=0 f=1 s=0
		total_fail=$((total_fail + 1))
		tally_row "$k" 0 "stand-in build failed"
		continue
	fi
	glog=$build/vm/dmem-$k.log
	tally_guest dmem "$k" "$glog" '^(FAIL|     \|)|vm-run:' "" -e 2 -t 900 -- \
		"sh tests/dmem/standin-check.sh $d; sh tests/dmem/guest.sh $build/kmod/$k/gpu_dma_lock.ko $build $d"
	tally standin "$glog" 0
	tally_row "$k: the stand-in alone"
done

tally_end dmem "dmem cgroup tests (logs: $build/vm/dmem-*.log):"

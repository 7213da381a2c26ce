#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-suite.sh [KVER...]: boot every installed kernel (default: all from
# kernels.sh) in QEMU with two edu devices as fake GPUs, run suite.sh
# inside with the module built for that kernel, and print one line per
# kernel plus a total "vm: N passed, M failed" (N, M counting checks).
# Expects `make modules-all vm-itest` to have run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || mapfile -t kernels < <("$here/kernels.sh")
[ ${#kernels[@]} -gt 0 ] || { echo "vm: no kernel with headers installed" >&2; exit 1; }

# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh
for k in "${kernels[@]}"; do
	ko=$build/kmod/$k/gpu_dma_lock.ko
	log=$build/vm/suite-$k.log
	if [ ! -f "$ko" ]; then
		summary+=("$(printf '%-28s module not built' "$k")")
		total_fail=$((total_fail + 1))
		continue
	fi
	start=$(date +%s)
	"$here/vm-run.sh" -k "$k" -e 2 -t 900 -- \
		"sh tests/vm/suite.sh $ko $build/vm/itest" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	grep -E '^(FAIL|vm-run:)' "$log" || true
	tally vm-suite "$log" $rc
	verdict=$(grep '^vm-run:' "$log" | tail -n 1)
	tally_row "$k" "$secs" "${verdict#vm-run: }"
done

tally_end vm "VM integration suite, per kernel (logs in $build/vm/suite-*.log):"

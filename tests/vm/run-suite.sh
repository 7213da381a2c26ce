#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-suite.sh [KVER...]: boot every installed kernel (default: all from
# kernels.sh) in QEMU with two edu devices as fake GPUs, run suite.sh
# inside with the module built for that kernel, and print one line per
# kernel plus a total "vm: N passed, M failed, K skipped" (N, M, K
# counting checks); then memcheck.sh on that kernel (a planted
# use-after-free that the kernel-log scan must catch); sriov.sh on that
# kernel (SR-IOV VFs removed during the module's load-time PCI walk, on a
# q35 guest of their own); and retry-check.sh
# on the newest kernel (when vm-run.sh boots a guest again, and when not).
# Expects `make modules-all vm-itest` to have run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1

# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh

# part NAME KVER WHAT PATTERN: run NAME.sh on KVER into its own log, show
# the log's lines matching PATTERN, count it as one row.
part() {
	local log=$build/vm/$1-$2.log start rc
	start=$(date +%s)
	"$here/$1.sh" "$2" >"$log" 2>&1
	rc=$?
	grep -E "$4" "$log" || true
	tally "$1" "$log" $rc
	tally_row "$2 $1" "$(($(date +%s) - start))" "$3"
}

tally_kernels vm "$@"
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
	# The scan of the kernel log can fail: a planted use-after-free.
	part memcheck "$k" "planted use-after-free caught" '^(FAIL|skip)'
	# Hot-plug edges (issue 22 item 10): SR-IOV VFs removed during the
	# load-time walk, on a q35 guest with QEMU's SR-IOV NVMe controller.
	part sriov "$k" "VFs removed during the load-time walk not live" \
		'^(FAIL|skip|vm-run:)'
done
# vm-run.sh's retry after the TCG int3 flake: taken when nothing of ours is
# in the log, not when our module is (newest kernel).
k=${kernels[${#kernels[@]} - 1]:-}
if [ -n "$k" ]; then
	log=$build/vm/retry-check-$k.log
	start=$(date +%s)
	"$here/retry-check.sh" "$k" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	grep -E '^FAIL' "$log" || true
	tally retry-check "$log" $rc
	tally_row "$k retry-check" "$secs" "retries: the int3 flake and a qemu crash retried, ours not"
fi

tally_end vm "VM integration suite, per kernel (logs in $build/vm/suite-*.log):"

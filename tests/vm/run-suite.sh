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
cd "$root"

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || mapfile -t kernels < <("$here/kernels.sh")
[ ${#kernels[@]} -gt 0 ] || { echo "vm: no kernel with headers installed" >&2; exit 1; }

total_pass=0
total_fail=0
summary=()
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
	counts=$(sed -n 's/^vm-suite: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log")
	read -r p f <<<"${counts:-0 1}"
	# A crash, a timeout or a dirty kernel log fails the kernel too.
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	verdict=$(grep '^vm-run:' "$log" | tail -n 1)
	summary+=("$(printf '%-28s %4d passed %3d failed  %4ds  %s' "$k" "$p" "$f" "$secs" "${verdict#vm-run: }")")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done

echo
echo "VM integration suite, per kernel (logs in $build/vm/suite-*.log):"
printf '  %s\n' "${summary[@]}"
echo "vm: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]

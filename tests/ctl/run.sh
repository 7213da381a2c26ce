#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/ctl/run.sh [KVER...]: the ctl tier of make check.
#   1. builds the module for every kernel, the library and the ctl;
#   2. runs the host unit tests (CUnit: library and ctl parsers);
#   3. boots every kernel (default: all from tests/vm/kernels.sh) in QEMU
#      with two edu devices and runs vm-ctl.sh inside.
# Ends with "ctl: N passed, M failed" (checks, all parts together).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root"

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || mapfile -t kernels < <(tests/vm/kernels.sh)

total_pass=0
total_fail=0
summary=()

if ! make -s modules-all >"$build/ctl-build.log" 2>&1 || ! make -s utils >>"$build/ctl-build.log" 2>&1; then
	tail -n 30 "$build/ctl-build.log"
	echo "ctl: 0 passed, 1 failed"
	exit 1
fi

# Host unit tests.
log=$build/ctl-unit.log
make -s -C utils test >"$log" 2>&1
rc=$?
grep -E '\.\.\.FAILED|^ +[0-9]+\. ' "$log" || true
read -r p f < <(sed -n 's/^utils: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log")
p=${p:-0}
f=${f:-1}
[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
summary+=("$(printf '%-28s %4d passed %3d failed' "host unit tests" "$p" "$f")")
total_pass=$((total_pass + p))
total_fail=$((total_fail + f))

for k in "${kernels[@]}"; do
	ko=$build/kmod/$k/gpu_dma_lock.ko
	log=$build/vm/ctl-$k.log
	mkdir -p "$build/vm"
	start=$(date +%s)
	tests/vm/vm-run.sh -k "$k" -e 2 -t 240 -- \
		"sh tests/ctl/vm-ctl.sh $ko $build" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	grep -E '^(FAIL|     \|)|vm-run:' "$log" || true
	counts=$(sed -n 's/^ctl-vm: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log")
	read -r p f <<<"${counts:-0 1}"
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	summary+=("$(printf '%-28s %4d passed %3d failed  %4ds' "$k" "$p" "$f" "$secs")")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done

echo
echo "gpu-dma-lock-ctl tests (logs: $build/ctl-unit.log, $build/vm/ctl-*.log):"
printf '  %s\n' "${summary[@]}"
echo "ctl: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [KVER...]: the hostile-conditions tier.  Builds the module for
# every kernel (make modules-all) and the static test binaries, boots each
# kernel once in QEMU (-e 2 edu devices, -c 2 vCPUs), runs
# tests/hostile/guest.sh there, and prints a table kernel x suite x (cases,
# failed, ioctls fuzzed, processes killed, kernel-log findings, seconds),
# then "hostile: N passed, M failed" (N, M counting cases).
#
# Environment: FUZZ_CALLS (default 1000000, on the newest kernel),
# FUZZ_OTHER_CALLS (on the others; default a quarter of FUZZ_CALLS),
# FUZZ_SEED (default:
# random, printed), HOSTILE_SUITES (default all), and the guest's
# STORM_PROCS, STORM_BATCH, RACE_SECS, LIFECYCLE_CYCLES, SEED_CALLS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
mkdir -p "$build"	# a fresh clone has none: the logs below go there
bin=$build/hostile
cd "$root" || exit 1

rows=()
total_pass=0
total_fail=0
total_skip=0
retries=0
# Bootable kernels without headers: skipped, one each.
kernels=("$@")
if [ ${#kernels[@]} -eq 0 ]; then
	mapfile -t kernels < <(tests/vm/kernels.sh)
	while read -r k; do
		[ -n "$k" ] || continue
		rows+=("$(printf '%-26s %-10s %6s %6s %9s %7s %8s %6s  skipped: no headers' "$k" "(all)" - - - - - -)")
		total_skip=$((total_skip + 1))
	done < <(tests/vm/kernels.sh --dropped)
fi
if [ ${#kernels[@]} -eq 0 ]; then
	echo "FAIL hostile: no kernel with headers installed (make deps installs them)"
	echo "hostile: 0 passed, 1 failed, $total_skip skipped"
	exit 1
fi
# Every suite guest.sh knows; HOSTILE_SUITES runs some of them, and the
# others count as skipped on every kernel.
all_suites=$(sed -n 's/^SUITES=${5:-"\(.*\)"}$/\1/p' tests/hostile/guest.sh)
[ -n "$all_suites" ] || { echo "hostile: cannot read the suite list from guest.sh"; exit 1; }

start_all=$(date +%s)
make -s modules-all >"$build/hostile-build.log" 2>&1 ||
	{ tail -n 20 "$build/hostile-build.log"; echo "hostile: 0 passed, 1 failed, 0 skipped"; exit 1; }
make -s utils >>"$build/hostile-build.log" 2>&1 ||
	{ tail -n 20 "$build/hostile-build.log"; echo "hostile: 0 passed, 1 failed, 0 skipped"; exit 1; }
mkdir -p "$bin"
for p in fuzz hostile noisy hotplug; do
	${CC:-cc} -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iutils/include -Itests/common \
		-Isrc/uapi -static "tests/hostile/$p.c" \
		"$build/utils/libgpudmalock.a" -lpthread -o "$bin/$p" ||
		{ echo "hostile: 0 passed, 1 failed, 0 skipped"; exit 1; }
done
build_secs=$(($(date +%s) - start_all))

# The fuzzer's whole count on the newest kernel booted (the debug kernel,
# in check-debug), a quarter on the others: what it drives, the ioctl
# decoding and the ledger, is the same C on every kernel; the kernel's own
# part (the compat layer, allocation, locking) every kernel's other suites
# and its quarter reach.  make check's time limit asked for the 70 s.
full_calls=${FUZZ_CALLS:-1000000}
other_calls=${FUZZ_OTHER_CALLS:-$((full_calls / 4))}
newest=${kernels[${#kernels[@]} - 1]}
seed=${FUZZ_SEED:-$(printf '%#x' $(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1 )))}
echo "hostile: fuzz seed $seed, $full_calls calls on $newest, $other_calls on the others (replay: FUZZ_SEED=$seed)"
envs="STORM_PROCS=${STORM_PROCS:-1000} STORM_BATCH=${STORM_BATCH:-50}"
envs="$envs RACE_SECS=${RACE_SECS:-8} LIFECYCLE_CYCLES=${LIFECYCLE_CYCLES:-100}"
envs="$envs SEED_CALLS=${SEED_CALLS:-20000} HOTPLUG_SECS=${HOTPLUG_SECS:-3}"

for k in "${kernels[@]}"; do
	ko=$build/kmod/$k/gpu_dma_lock.ko
	log=$build/vm/hostile-$k.log
	mkdir -p "$build/vm"
	calls=$full_calls
	[ "$k" = "$newest" ] || calls=$other_calls
	t0=$(date +%s)
	tests/vm/vm-run.sh -k "$k" -c 2 -e 2 -t 900 -- \
		"$envs sh tests/hostile/guest.sh $ko $bin $calls $seed '${HOSTILE_SUITES:-}'" \
		>"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	grep -E '^(FAIL|vm-run:|fuzz: seed=.*secs|noisy:|hotplug:)' "$log" | head -n 60
	n=0
	while read -r _ suite c f io kl found s; do
		rows+=("$(printf '%-26s %-10s %6d %6d %9d %7d %8d %6d' "$k" "$suite" "$c" "$f" "$io" "$kl" "$found" "$s")")
		total_pass=$((total_pass + c - f))
		total_fail=$((total_fail + f))
		n=$((n + 1))
	done < <(grep '^hsuite ' "$log")
	# A crash, a timeout, a dirty log or a missing suite fails the kernel.
	if [ $rc -ne 0 ] || ! grep -q '^hostile-guest: done' "$log"; then
		rows+=("$(printf '%-26s %-10s %6d %6d %9s %7s %8s %6d  %s' "$k" "(vm)" 1 1 - - - "$secs" "$(grep '^vm-run:' "$log" | tail -n 1)")")
		total_fail=$((total_fail + 1))
	fi
	for su in $all_suites; do
		grep -q "^hsuite $su " "$log" && continue
		case " ${HOSTILE_SUITES:-$all_suites} " in
		*" $su "*)	# asked for, never reported
			rows+=("$(printf '%-26s %-10s %6d %6d %9s %7s %8s %6s  FAIL: no result' "$k" "$su" 1 1 - - - -)")
			total_fail=$((total_fail + 1)) ;;
		*)	rows+=("$(printf '%-26s %-10s %6s %6s %9s %7s %8s %6s  skipped: not in HOSTILE_SUITES' "$k" "$su" - - - - - -)")
			total_skip=$((total_skip + 1)) ;;
		esac
	done
	retries=$((retries + $(grep -c '^vm-run: RETRY' "$log")))
	rows+=("$(printf '%-26s %-10s %6s %6s %9s %7s %8s %6d  (boot to power-off)' "$k" "total" "" "" "" "" "" "$secs")")
done

echo
echo "Hostile conditions (logs in $build/vm/hostile-*.log; seed $seed; build ${build_secs}s, all $(($(date +%s) - start_all))s):"
printf '  %-26s %-10s %6s %6s %9s %7s %8s %6s\n' kernel suite cases failed ioctls killed findings secs
printf '  %s\n' "${rows[@]}"
echo "retries: $retries"
echo "hostile: $total_pass passed, $total_fail failed, $total_skip skipped"
[ $total_fail -eq 0 ]

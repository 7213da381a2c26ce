# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the tier runners (tests/vm/run-suite.sh, tests/ctl/run.sh,
# tests/cuda/run.sh, ...): adds up what each test program printed last as
# "NAME: N passed, M failed" (optionally followed by ", K skipped"), a row
# per part, and the tier's total line "TIER: N passed, M failed, K
# skipped", which tests/check.sh reads.  A VM run that vm-run.sh had to
# boot again (the TCG int3 flake) is counted too: "retries: N".

total_pass=0
total_fail=0
total_skip=0
total_retry=0
summary=()
p=0 f=0 s=0
# The most checks one kernel's run made, per root (host, trixie): what a
# kernel left out of that root counts as skipped.
declare -A root_checks=()

# tally NAME LOG RC: add the counts NAME printed in LOG; they are left in
# p, f and s.  No count line at all, or a non-zero RC with nothing counted
# as failed (a crash, a timeout, a dirty kernel log), is one failure.
# vm-run.sh's "vm-run: RETRY" lines in LOG add to the retries.
tally() {
	local counts r
	counts=$(sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}\$/\1 \2 \4/p" "$2" | tail -n 1)
	read -r p f s <<<"${counts:-0 1 0}"
	s=${s:-0}
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	r=$(grep -c '^vm-run: RETRY' "$2" 2>/dev/null)
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	total_retry=$((total_retry + ${r:-0}))
}

# tally_row LABEL [SECS [NOTE]]: a summary row with the last tally's p, f, s.
tally_row() {
	local row
	row=$(printf '%-28s %4d passed %3d failed %3d skipped' "$1" "$p" "$f" "$s")
	[ $# -ge 2 ] && row=$(printf '%s  %4ds' "$row" "$2")
	[ $# -ge 3 ] && row="$row  $3"
	summary+=("$row")
}

# tally_skip LABEL N WHY: N cases not run, counted as skipped, with a row.
tally_skip() {
	p=0 f=0 s=$2
	total_skip=$((total_skip + $2))
	tally_row "$1" 0 "skipped: $3"
}

# tally_kernels TIER [KVER...]: the kernels to test, into the array
# `kernels`: the arguments, else every one tests/vm/kernels.sh lists.
# Bootable kernels without headers are skipped, one each; no kernel at all
# is a failure (a tier cannot go green on host tests alone).
tally_kernels() {
	local tier=$1 k
	shift
	kernels=("$@")
	if [ ${#kernels[@]} -eq 0 ]; then
		mapfile -t kernels < <(tests/vm/kernels.sh)
		while read -r k; do
			[ -n "$k" ] && tally_skip "$k" 1 "no headers (/lib/modules/$k/build)"
		done < <(tests/vm/kernels.sh --dropped)
	fi
	if [ ${#kernels[@]} -eq 0 ]; then
		echo "FAIL $tier: no kernel with headers installed (make deps installs them)"
		p=0 f=1 s=0
		total_fail=$((total_fail + 1))
		tally_row "(no kernel)"
	fi
}

# tally_userspace_kernels NARGS: for the userspace
# integration tiers (ctl, bindings, cuda, slurm, containers), whose code
# under test does not change with the kernel: from `kernels`, run_kernels
# gets the oldest and the newest of each root (the host's Debian 12, and
# each test root: Debian 13), the newest being one that is not
# PREEMPT_RT when there is one (the containers tier's full scope runs
# there); left_out gets the others, as "KVER|why".  Every kernel runs
# when kernels were named (NARGS > 0, the tier's arguments, or
# GDL_KERNELS) or GDL_USERSPACE_KERNELS=all.  The kernel tiers (vm,
# hostile) always run the whole matrix.
tally_userspace_kernels() {
	local all=0 k name
	local -A root_of first newest
	run_kernels=()
	left_out=()
	{ [ "$1" -gt 0 ] || [ -n "${GDL_KERNELS:-}" ] ||
		[ "${GDL_USERSPACE_KERNELS:-}" = all ]; } && all=1
	for k in "${kernels[@]}"; do
		name=$(tests/vm/kernels.sh --root-name "$k") || name=unknown
		root_of[$k]=$name
		[ -n "${first[$name]:-}" ] || first[$name]=$k
		# Sorted oldest first: the last non-RT kernel, else the last RT one.
		case $k in
		*-rt-*) [[ ${newest[$name]:-} == "" || ${newest[$name]} == *-rt-* ]] && newest[$name]=$k ;;
		*) newest[$name]=$k ;;
		esac
	done
	for k in "${kernels[@]}"; do
		name=${root_of[$k]}
		if [ $all = 1 ] || [ "$k" = "${first[$name]}" ] || [ "$k" = "${newest[$name]}" ]; then
			run_kernels+=("$k")
		else
			left_out+=("$k|userspace tier: the oldest and newest kernel of each root run (GDL_USERSPACE_KERNELS=all runs every one)")
		fi
	done
}

# tally_guest NAME KVER LOG SHOW NOTE [VM-RUN ARGS...] -- COMMAND: the
# per-kernel step every VM tier repeats.  Boots KVER with vm-run.sh and
# the ARGS, runs COMMAND there with its output in LOG, prints LOG's lines
# matching the regex SHOW, tallies what NAME counted (a crash, a timeout
# or a dirty kernel log is a failure) and adds the row "KVER SECS NOTE".
# Leaves the tally in p, f, s and the checks counted in last_n.
tally_guest() {
	local name=$1 k=$2 log=$3 show=$4 note=$5 start rc secs
	shift 5
	start=$(date +%s)
	tests/vm/vm-run.sh -k "$k" "$@" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	grep -E "$show" "$log" || true
	tally "$name" "$log" $rc
	if [ -n "$note" ]; then tally_row "$k" "$secs" "$note"; else tally_row "$k" "$secs"; fi
	# shellcheck disable=SC2034	# the caller's
	last_n=$((p + f))
	local r
	r=$(tests/vm/kernels.sh --root-name "$k" 2>/dev/null) &&
		[ "$last_n" -gt "${root_checks[$r]:-0}" ] && root_checks[$r]=$last_n
	return 0
}

# tally_left_out N: each kernel in left_out counted as skipped checks, as
# many as the tier's run on a kernel of the same root made (the roots'
# runs differ), else N, with a row each.
tally_left_out() {
	local k r
	for k in "${left_out[@]}"; do
		r=$(tests/vm/kernels.sh --root-name "${k%%|*}" 2>/dev/null) || r=
		tally_skip "${k%%|*}" "${root_checks[$r]:-$1}" "${k#*|}"
	done
}

# tally_end TIER TITLE: print the rows and the totals; fails if any failed.
tally_end() {
	echo
	echo "$2"
	printf '  %s\n' "${summary[@]}"
	echo "retries: $total_retry"
	echo "$1: $total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" -eq 0 ]
}

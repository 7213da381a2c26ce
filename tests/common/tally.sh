# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the tier runners (tests/vm/run-suite.sh, tests/ctl/run.sh,
# tests/cuda/run.sh): adds up what each test program printed last as
# "NAME: N passed, M failed", a row per part, and the tier's total line,
# which tests/check.sh reads.

total_pass=0
total_fail=0
summary=()

# tally NAME LOG RC: add the counts NAME printed in LOG; they are left in
# p and f.  No count line at all, or a non-zero RC with nothing counted as
# failed (a crash, a timeout, a dirty kernel log), is one failure.
tally() {
	local counts
	counts=$(sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed\$/\1 \2/p" "$2" | tail -n 1)
	read -r p f <<<"${counts:-0 1}"
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

# tally_row LABEL [SECS [NOTE]]: a summary row with the last tally's p, f.
tally_row() {
	if [ $# -ge 3 ]; then
		summary+=("$(printf '%-28s %4d passed %3d failed  %4ds  %s' "$1" "$p" "$f" "$2" "$3")")
	elif [ $# -ge 2 ]; then
		summary+=("$(printf '%-28s %4d passed %3d failed  %4ds' "$1" "$p" "$f" "$2")")
	else
		summary+=("$(printf '%-28s %4d passed %3d failed' "$1" "$p" "$f")")
	fi
}

# tally_end TIER TITLE: print the rows and the total; fails if any failed.
tally_end() {
	echo
	echo "$2"
	printf '  %s\n' "${summary[@]}"
	echo "$1: $total_pass passed, $total_fail failed"
	[ "$total_fail" -eq 0 ]
}

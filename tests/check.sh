#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test tier in order, each one's output in
# build/check/TIER.log, then a table of per-tier counts.  A tier passes
# when its command exits 0; its counts come from its closing
# "NAME: N passed, M failed" line.  The last line is the total in the
# same form.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
mkdir -p "$build/check"

# name|command
tiers=(
	"lint|tests/lint.sh"
	"unit|make -s -C tests/unit test"
	"coverage|make -s -C tests/unit coverage"
	"vm|make -s vm"
	"hostile|tests/hostile/run.sh"
	"ctl|tests/ctl/run.sh"
	"bindings|tests/bindings/run.sh"
	"cuda|tests/cuda/run.sh"
	"slurm|tests/slurm/run.sh"
	"containers|tests/containers/run.sh"
	"bench|tests/bench/run.sh --smoke $(tests/vm/kernels.sh | tail -n 1)"
	"pkg|tests/pkg/run.sh"
)

rows=()
total_pass=0
total_fail=0
bad=0
start_all=$(date +%s)
for t in "${tiers[@]}"; do
	name=${t%%|*}
	cmd=${t#*|}
	log=$build/check/$name.log
	echo "=== $name: $cmd"
	start=$(date +%s)
	bash -c "$cmd" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	p=${p:-0}
	f=${f:-1}	# no count line: the tier did not finish
	# A count of failures fails the tier whatever its exit status says.
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		bad=1
		[ "$f" -eq 0 ] && f=1
		verdict=FAIL
	else
		verdict=ok
	fi
	extra=
	[ "$name" = coverage ] && extra=$(grep -E '^TOTAL' "$log" | tail -n 1)
	rows+=("$(printf '%-10s %-4s %6d passed %4d failed %5ds  %s' "$name" "$verdict" "$p" "$f" "$secs" "$extra")")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done

echo
echo "make check summary ($(($(date +%s) - start_all))s; logs in $build/check/):"
printf '  %s\n' "${rows[@]}"
echo "check: $total_pass passed, $total_fail failed"
exit $bad

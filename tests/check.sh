#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test tier in order, each one's output in
# build/check/TIER.log, then a table of per-tier counts.  check.sh TIER...
# runs only those; with GDL_DEBUG_KERNEL=1 (make check-debug,
# tests/debug/run.sh) the tiers boot the debug kernel only, the logs go
# to build/check-debug/ and the lines say "check-debug".  A tier passes
# when its command exits 0 and its closing line
# "NAME: N passed, M failed, K skipped" says 0 failed; a missing line, or
# one without its skipped count, fails it.  The last line is the total in
# the same form: "check: N passed, M failed, K skipped".
#
# The knobs that shrink the suite (fewer fuzz calls, cycles or seconds,
# fewer suites, kernels or container cases, memory checkers off) are
# printed first.  Set below their defaults, make check refuses to run
# unless GDL_CHECK_REDUCED=1, and then it says "REDUCED" before its total.
# Each tier's VM runs that vm-run.sh booted again (the TCG int3 flake,
# tests/vm/README.md) are counted in the "retries" column.  With 4 CPUs
# or more the tiers run in two lanes side by side, then pkg alone (see
# lanes= below; GDL_CHECK_LANES); a lane's tier prints its whole output
# when it ends, with the seconds, from the start, it ran between.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
label=check
[ "${GDL_DEBUG_KERNEL:-0}" = 1 ] && label=check-debug
logs=$build/$label
mkdir -p "$logs"

# The knobs: name, default (what make check runs when it is unset), and
# how a value shrinks the suite ("num": below the default; others below).
knobs=(
	"FUZZ_CALLS|1000000|num"
	"FUZZ_OTHER_CALLS|250000|num"
	"SEED_CALLS|20000|num"
	"LIFECYCLE_CYCLES|100|num"
	"RACE_SECS|8|num"
	"STORM_PROCS|1000|num"
	"HOTPLUG_SECS|3|num"
	"HOSTILE_SUITES||suites"
	"GDL_KERNELS||kernels"
	"GDL_USERSPACE_KERNELS|oldest,newest|any"
	"GDL_CTR_SCOPE|core|scope"
	"GDL_VM_MEMCHECK|1|num"
	"GDL_VM_SLUB_DEBUG|FZP|slub"
	"GDL_BENCH_VM_ONLY||unset"
	"FUZZ_SEED|(random)|any"
	"GDL_BUILD_DIR|build|any"
	"GDL_DEBUG_KERNEL|0|debug"
	"GDL_CHECK_LANES|2 with 4 CPUs or more, else 1|any"
)
reduced=()
echo "$label: effective knobs (default in brackets):"
for kn in "${knobs[@]}"; do
	IFS='|' read -r name def how <<<"$kn"
	if [ -z "${!name+set}" ]; then
		printf '  %-18s %s\n' "$name" "[${def:-unset}]"
		continue
	fi
	v=${!name}
	printf '  %-18s %s  [%s]\n' "$name" "'$v'" "${def:-unset}"
	case $how in
	num)	case $v in
		'' | *[!0-9]*) reduced+=("$name='$v' (not a number)") ;;
		*) [ "$v" -lt "$def" ] && reduced+=("$name=$v") ;;
		esac ;;
	suites)	all=$(sed -n 's/^SUITES=${5:-"\(.*\)"}$/\1/p' tests/hostile/guest.sh)
		for su in $all; do
			case " $v " in *" $su "*) ;; *) [ -n "$v" ] && { reduced+=("HOSTILE_SUITES='$v'"); break; } ;; esac
		done ;;
	kernels) [ "$(tests/vm/kernels.sh)" = "$(env -u GDL_KERNELS tests/vm/kernels.sh)" ] ||
			reduced+=("GDL_KERNELS='$v'") ;;
	scope)	case $v in core | full) ;; *) reduced+=("GDL_CTR_SCOPE='$v'") ;; esac ;;
	slub)	case $v in "" | *F*Z*P* | *F*P*Z* | *Z*F*P* | *Z*P*F* | *P*F*Z* | *P*Z*F*) ;;
		*) reduced+=("$name='$v' (F, Z and P are the checks)") ;; esac ;;
	unset)	reduced+=("$name='$v'") ;;
	# The debug kernel alone, for every tier: not the matrix.
	debug)	[ "$v" = 0 ] || [ $# -gt 0 ] || reduced+=("$name='$v' (make check-debug runs it)") ;;
	esac
done
# A subset of the tiers is a reduced make check; it is what check-debug is.
[ $# -gt 0 ] && [ $label = check ] && reduced+=("tiers '$*' only")
if [ ${#reduced[@]} -gt 0 ]; then
	if [ "${GDL_CHECK_REDUCED:-0}" != 1 ]; then
		echo "$label: refusing to run a reduced suite: ${reduced[*]}"
		echo "$label: unset them, or set GDL_CHECK_REDUCED=1 to run it anyway (its total then says REDUCED)"
		exit 2
	fi
	echo "$label: REDUCED on purpose (GDL_CHECK_REDUCED=1): ${reduced[*]}"
fi

# name|command
tiers=(
	"unit|make -s -C tests/unit test"
	"coverage|make -s -C tests/unit coverage"
	"lint|tests/lint.sh"
	"vm|make -s vm"
	"hostile|tests/hostile/run.sh"
	"dmem|tests/dmem/run.sh"
	"ctl|tests/ctl/run.sh"
	"bindings|tests/bindings/run.sh"
	"cuda|tests/cuda/run.sh"
	"slurm|tests/slurm/run.sh"
	"containers|tests/containers/run.sh"
	"pkg13|tests/pkg/run.sh trixie"
	"bench|tests/bench/run.sh --smoke $(tests/vm/kernels.sh | tail -n 1)"
	"pkg|tests/pkg/run.sh host"
)
# dmem needs CONFIG_CGROUP_DMEM, which only make check-debug's kernel
# has: make check's kernels would only skip it, so it runs when named
# (tests/debug/run.sh names it).
if [ $# -eq 0 ]; then
	picked=()
	for t in "${tiers[@]}"; do [ "${t%%|*}" = dmem ] || picked+=("$t"); done
	tiers=("${picked[@]}")
fi
# check.sh TIER...: only those, in the order above.
if [ $# -gt 0 ]; then
	for want in "$@"; do
		printf '%s\n' "${tiers[@]}" | grep -q "^$want|" ||
			{ echo "$label: no tier '$want'"; exit 2; }
	done
	picked=()
	for t in "${tiers[@]}"; do
		case " $* " in *" ${t%%|*} "*) picked+=("$t") ;; esac
	done
	tiers=("${picked[@]}")
fi

# Two lanes can run side by side: the kernel tiers (unit, coverage, lint,
# vm, hostile, and dmem in make check-debug), then Debian 13's packaging
# (pkg13: builds and DKMS in an overlay of its root, which changes
# nothing the other tiers see), beside
# the userspace integration tiers (ctl, bindings, cuda, slurm,
# containers), then bench (its smoke run only keeps the benchmarks from
# rotting; make bench, alone, gives the figures).  Then, alone, Debian
# 12's packaging (pkg: it installs and purges packages on this host,
# whose root the other tiers' guests share).  What both lanes build (the
# module for every kernel, the library and ctl, the fake driver) is built
# first, so that the lanes' own makes find it up to date and never write
# the same file.
#
# Two lanes only with 4 CPUs or more: each guest has 2 vCPUs, and on 2
# cores two guests at once ran each tier about twice as slowly (measured
# in one make check: hostile 1,146 s in its lane against 503 s alone,
# slurm 855 s against 357 s; the whole no faster than one lane), as a TCG
# guest's vCPU threads stall each other when no core is free for them.
# GDL_CHECK_LANES=1 or 2 chooses, whatever the CPUs.
lanes=${GDL_CHECK_LANES:-$([ "$(nproc)" -ge 4 ] && echo 2 || echo 1)}
lane_of() {
	[ "$lanes" = 1 ] && { echo 1; return; }
	case $1 in
	unit | coverage | lint | vm | hostile | dmem | pkg13) echo 1 ;;
	pkg) echo 0 ;;
	*) echo 2 ;;
	esac
}
# wait_roots: the test roots (tests/roots/*.pkgs but the on-demand ones)
# are built before any tier lists the kernels, which leaves a root that
# is not there out of the matrix.  make check's deps build them in the
# background (tests/deps.sh) while the host's packages install; unit and
# coverage, which boot nothing, run before this wait.  mkroot.sh NAME
# blocks on the building one's lock, or builds the root itself.
roots_ready=0
roots_failed=
wait_roots() {
	local list name t0
	[ $roots_ready = 1 ] && return 0
	roots_ready=1
	t0=$(date +%s)
	for list in tests/roots/*.pkgs; do
		grep -qx '# on-demand' "$list" && continue
		name=${list##*/}
		name=${name%.pkgs}
		tests/roots/mkroot.sh "$name" >/dev/null && continue
		echo "$label: test root $name could not be built: its kernels are missing from the matrix, which fails make check"
		roots_failed="$roots_failed $name"
	done
	echo "=== test roots: waited $(($(date +%s) - t0))s${roots_failed:+, not built:$roots_failed}"
}
# run_tier NAME CMD LIVE: runs one tier; its output goes to its log (and
# to stdout as it comes when LIVE is 1, else in one block when it ends,
# so that two lanes do not interleave); its summary row and counts go to
# $logs/NAME.row.
run_tier() {
	local name=$1 cmd=$2 live=$3 log=$logs/$1.log retries=$logs/$1.retries
	local start rc secs line p f s r note verdict extra
	case $name in unit | coverage) ;; *) wait_roots ;; esac
	# vm-run.sh adds a line here for every guest it boots again.
	: >"$retries"
	start=$(date +%s)
	if [ "$live" = 1 ]; then
		echo "=== $name: $cmd"
		GDL_VM_RETRY_LOG=$retries bash -c "$cmd" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
	else
		echo "--- $name started (lane $(lane_of "$name"), at $((start - start_all))s)"
		GDL_VM_RETRY_LOG=$retries bash -c "$cmd" >"$log" 2>&1
		rc=$?
	fi
	secs=$(($(date +%s) - start))
	if [ "$live" != 1 ]; then
		{
			flock 8
			echo "=== $name: $cmd (lane $(lane_of "$name"), $((start - start_all))s to $((start - start_all + secs))s)"
			cat "$log"
		} 8>"$logs/.print.lock"
	fi
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/^[^,]*, [0-9]* failed, \([0-9]*\) skipped.*/\1/p')
	r=$(wc -l <"$retries")
	p=${p:-0}
	f=${f:-1}	# no count line: the tier did not finish
	note=
	if [ -n "$line" ] && [ -z "$s" ]; then
		note="no skipped count"
		[ "$f" -eq 0 ] && f=1
	fi
	s=${s:-0}
	# A count of failures fails the tier whatever its exit status says.
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		[ "$f" -eq 0 ] && f=1
		verdict=FAIL
	else
		verdict=ok
	fi
	extra=$note
	[ "$name" = coverage ] && extra=$(grep -E '^TOTAL' "$log" | tail -n 1)
	printf '%s\n%d %d %d %d %s\n' "$(printf '%-10s %-4s %6d passed %4d failed %4d skipped %3d retries %5ds  %s' \
		"$name" "$verdict" "$p" "$f" "$s" "$r" "$secs" "$extra")" "$p" "$f" "$s" "$r" "$verdict" >"$logs/$name.row"
}
# run_lane N LIVE: the tiers of lane N, in order.
run_lane() {
	local t
	for t in "${tiers[@]}"; do
		[ "$(lane_of "${t%%|*}")" = "$1" ] && run_tier "${t%%|*}" "${t#*|}" "$2"
	done
}

start_all=$(date +%s)
for t in "${tiers[@]}"; do rm -f "$logs/${t%%|*}.row"; done
n1=0 n2=0
for t in "${tiers[@]}"; do
	case $(lane_of "${t%%|*}") in 1) n1=$((n1 + 1)) ;; 2) n2=$((n2 + 1)) ;; esac
done
if [ $n1 -gt 0 ] && [ $n2 -gt 0 ]; then
	wait_roots
	echo "=== build: what both lanes use (make modules-all utils, tests/cuda)"
	{ make -s modules-all && make -s utils && make -s -C tests/cuda BUILD="$build"; } >"$logs/build.log" 2>&1 ||
		{ tail -n 30 "$logs/build.log"; echo "$label: the shared build failed (log: $logs/build.log)"; }
	echo "=== lanes: 1 = kernel tiers, 2 = userspace integration tiers, side by side"
	run_lane 1 0 &
	lane1=$!
	run_lane 2 0
	wait $lane1
else
	run_lane 1 1
	run_lane 2 1
fi
run_lane 0 1

rows=()
total_pass=0
total_fail=0
total_skip=0
total_retry=0
bad=0
for t in "${tiers[@]}"; do
	name=${t%%|*}
	if [ -r "$logs/$name.row" ]; then
		{ IFS= read -r row; read -r p f s r verdict; } <"$logs/$name.row"
	else
		row=$(printf '%-10s %-4s %6d passed %4d failed %4d skipped %3d retries %5ds  %s' \
			"$name" FAIL 0 1 0 0 0 "did not run")
		p=0 f=1 s=0 r=0 verdict=FAIL
	fi
	[ "$verdict" = ok ] || bad=1
	rows+=("$row")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	total_retry=$((total_retry + r))
done

if [ -n "$roots_failed" ]; then
	rows+=("$(printf '%-10s %-4s %6d passed %4d failed %4d skipped %3d retries %5ds  %s' \
		roots FAIL 0 1 0 0 0 "not built:$roots_failed")")
	total_fail=$((total_fail + 1))
	bad=1
fi

echo
echo "make $label summary ($(($(date +%s) - start_all))s; logs in $logs/):"
printf '  %s\n' "${rows[@]}"
echo "retries: $total_retry (guests booted again after the TCG int3 flake or a QEMU crash; failed runs kept, see $logs/*.retries)"
[ ${#reduced[@]} -eq 0 ] || echo "$label: REDUCED: ${reduced[*]}"
echo "$label: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $bad

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/slurm/run.sh [KVER...]
# The Slurm tier: build the SPANK plugin (utils/slurm), the interposer and
# its fake libcuda, the ctl and the test program; run the plugin's host
# unit tests; then tests/slurm/guest.sh in the VM on every kernel
# (default: the oldest and newest of each root from tests/vm/kernels.sh,
# the others counted as skipped): one Slurm bring-up per kernel shared by
# every case, with Debian 12's Slurm 22.05 on the host's root and Debian
# 13's 24.11 (and a plugin built there) on the test root's 7.3.  Ends
# with "slurm: N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
mkdir -p "$build" "$build/slurm" "$build/vm"

# build_userspace DIR: the ctl, the interposer and its fake libcuda, the
# plugin and the test program, into DIR.  A SPANK plugin must be built
# against the Slurm release that loads it, so a test root's guests get
# theirs built inside that root (Debian 13: Slurm 24.11, gcc-14), into
# $build/root-NAME, and the host's get $build (Debian 12: Slurm 22.05).
build_userspace() {
	make -s utils BUILD="$1" && make -s -C tests/cuda BUILD="$1" &&
	make -s -C utils/slurm BUILD="$1" &&
	mkdir -p "$1/slurm" &&
	gcc -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iutils/cuda \
		-o "$1/slurm/cudaprog" tests/slurm/cudaprog.c \
		-L"$1/cuda/fake" -l:libcuda.so.1 -l:libnvidia-ml.so.1
}
if [ "${1:-}" = --build-userspace ]; then	# in-root.sh's way back in
	build_userspace "$2"
	exit
fi
# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh
tally_kernels slurm "$@"

for t in srun sbatch slurmd slurmctld munged; do
	command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin command -v "$t" >/dev/null || {
		echo "slurm: $t missing (make deps installs Slurm and munge)"
		echo "slurm: 0 passed, 1 failed, 0 skipped"
		exit 1
	}
done

if ! build_userspace "$build"; then
	echo "slurm: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
# The module for every kernel, into the directory the guests load it from
# (make is incremental: an edit of src/ is built, nothing else).
make -s modules-all BUILD="$build" >"$build/slurm-modules.log" 2>&1 ||
	{ tail -n 30 "$build/slurm-modules.log"; echo "slurm: 0 passed, 1 failed, 0 skipped"; exit 1; }

log=$build/slurm/unit.log
make -s -C utils/slurm BUILD="$build" test >"$log" 2>&1
rc=$?
grep -E 'FAILED|^ +[0-9]+\. |slurm-unit:' "$log"
tally slurm-unit "$log" $rc
tally_row "host unit (gdl_slurm.c)"

# A userspace tier: the plugin does not change with the kernel, so it runs
# on the oldest and the newest kernel of each root (the brief's rule for
# these tiers): Slurm 22.05 on the host's, 24.11 on Debian 13's.  The
# others count as skipped, as many checks as the last run had.  Any
# kernel named on the command line or by GDL_KERNELS runs.
tally_userspace_kernels $#
last_n=0
declare -A built=()
for k in "${run_kernels[@]}"; do
	log=$build/vm/slurm-$k.log
	rname=$(tests/vm/kernels.sh --root-name "$k")
	ub=$build
	if [ "$rname" != host ]; then
		ub=$build/root-$rname
		if [ -z "${built[$rname]:-}" ]; then
			blog=$build/slurm/build-$rname.log
			if ! tests/roots/in-root.sh "$(tests/vm/kernels.sh --root "$k")" \
				bash tests/slurm/run.sh --build-userspace "$ub" >"$blog" 2>&1; then
				tail -n 20 "$blog"
				p=0 f=1 s=0
				total_fail=$((total_fail + 1))
				tally_row "$k" 0 "building in the $rname root failed ($blog)"
				continue
			fi
			built[$rname]=1
		fi
	fi
	rdir=$(tests/vm/kernels.sh --root "$k")
	rel=$(utils/slurm/release.sh "${rdir%/}/usr/include/slurm/slurm_version.h" 2>/dev/null)
	# A test root's Slurm is another release than the host's: the host's
	# plugin is the one it must refuse.
	other=
	[ "$ub" = "$build" ] || other=$build/slurm/gpu_dma_lock.so
	tally_guest slurm-suite "$k" "$log" '^(FAIL|vm-run:)' "Slurm ${rel:-?} ($rname root)" \
		-e 2 -t 600 -- "sh tests/slurm/guest.sh $build/kmod/$k/gpu_dma_lock.ko $ub $other"
done
tally_left_out "$last_n"

tally_end slurm "Slurm plugin tests (VM logs in $build/vm/slurm-*.log):"

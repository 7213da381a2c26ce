#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/slurm/run.sh [KVER...]
# The Slurm tier: build the SPANK plugin (utils/slurm), the interposer and
# its fake libcuda, the ctl and the test program; run the plugin's host
# unit tests; then tests/slurm/guest.sh in the VM on every kernel
# (default: the oldest and newest from tests/vm/kernels.sh, the others
# counted as skipped): one Slurm bring-up per kernel
# shared by every case.  Ends with "slurm: N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
mkdir -p "$build" "$build/slurm" "$build/vm"

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

if ! { make -s utils BUILD="$build" && make -s -C tests/cuda BUILD="$build" &&
       make -s -C utils/slurm BUILD="$build" &&
       gcc -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iutils/cuda \
	       -o "$build/slurm/cudaprog" tests/slurm/cudaprog.c \
	       -L"$build/cuda/fake" -l:libcuda.so.1 -l:libnvidia-ml.so.1; }; then
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
# on the oldest and the newest kernel (the brief's rule for these tiers);
# the others count as skipped, as many checks as the last run had.  Any
# kernel named on the command line or by GDL_KERNELS runs.  The plugin is
# built against the host's Slurm (22.05), so the host's root only.
tally_userspace_kernels $# host \
	"a SPANK plugin built for Slurm 22.05 does not load in the Debian 13 root's 24.11: issue 21 item 4, not in this tier yet"
last_n=0
for k in "${run_kernels[@]}"; do
	log=$build/vm/slurm-$k.log
	start=$(date +%s)
	tests/vm/vm-run.sh -k "$k" -e 2 -t 600 -- \
		"sh tests/slurm/guest.sh $build/kmod/$k/gpu_dma_lock.ko $build" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	grep -E '^(FAIL|vm-run:)' "$log" || true
	tally slurm-suite "$log" $rc
	tally_row "$k" "$secs"
	n=$(sed -n 's/^slurm-suite: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log" | tail -n 1)
	[ -n "$n" ] && last_n=$((${n% *} + ${n#* }))
done
tally_left_out "$last_n"

tally_end slurm "Slurm plugin tests (VM logs in $build/vm/slurm-*.log):"

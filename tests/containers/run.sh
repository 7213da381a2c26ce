#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/containers/run.sh [KVER...]: the containers tier of make check.
#   1. builds the module for every kernel, the library, the ctl, the OCI
#      hook, the CUDA interposer and its fake driver, and the test image
#      (tests/containers/Makefile);
#   2. boots the oldest and newest kernel of each root (tests/vm/kernels.sh,
#      tally_userspace_kernels) once in QEMU with two edu devices and runs
#      guest.sh inside with that root's podman, crun and conmon (Debian
#      12: podman 4.3; Debian 13: podman 5.4, crun 1.21, and also Docker
#      26 and containerd 1.7's CRI with runc: guest-engines.sh), one image
#      import per engine, all cases in one boot.  Every case runs on the newest non-RT kernel
#      of each root; on the others, the cases where the kernel matters
#      (GDL_CTR_SCOPE=full: all everywhere).
# Ends with "containers: N passed, M failed" (checks, all kernels).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1

# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh
tally_kernels containers "$@"

mkdir -p "$build/vm"
blog=$build/containers-build.log
for tool in podman crun conmon; do
	command -v $tool >/dev/null || {
		echo "containers: $tool is not installed (make deps installs it)"
		echo "containers: 0 passed, 1 failed, 0 skipped"
		exit 1
	}
done
if ! make -s modules-all BUILD="$build" >"$blog" 2>&1 ||
   ! make -s utils BUILD="$build" >>"$blog" 2>&1 ||
   ! make -s -C tests/cuda BUILD="$build" >>"$blog" 2>&1 ||
   ! make -s -C tests/containers BUILD="$build" >>"$blog" 2>&1; then
	tail -n 30 "$blog"
	echo "containers: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

# Each root's own engines: Debian 12's podman 4.3 on the host's root,
# Debian 13's podman 5.4 and crun 1.21 on the test root's.  Every case
# runs on the newest kernel of each root that is not PREEMPT_RT (the last
# one when all are -rt); the others run the cases where the kernel
# matters (cgroups, exec, lifecycle, CRI-O shape).
declare -A ran=() core=() last=() full=()
tally_userspace_kernels $#
for k in "${run_kernels[@]}"; do
	r=$(tests/vm/kernels.sh --root-name "$k")
	case $k in
	*-rt-*) [[ ${last[$r]:-} == "" || ${last[$r]} == *-rt-* ]] && last[$r]=$k ;;
	*) last[$r]=$k ;;
	esac
done
for k in "${run_kernels[@]}"; do
	ko=$build/kmod/$k/gpu_dma_lock.ko
	scope=${GDL_CTR_SCOPE:-core}
	r=$(tests/vm/kernels.sh --root-name "$k")
	[ "$k" = "${last[$r]}" ] && scope=full
	# cgroup.memory=nokmem: without it Debian's 6.12 now and then oopses
	# (int3 in kmalloc, TCG text patching) on podman's first cgroup.
	tally_guest containers-suite "$k" "$build/vm/containers-$k.log" '^FAIL|vm-run:' "$scope" \
		-e 2 -m 2048 -t 900 -a cgroup.memory=nokmem -- "sh tests/containers/guest.sh $ko $build $scope"
	ran[$k]=$last_n core[$k]=$([ "$scope" = full ] || echo 1)
	[ "$scope" = full ] && [ "$last_n" -gt "${full[$r]:-0}" ] && full[$r]=$last_n
done
# The checks a kernel run with scope "core" left out, counted as skipped:
# as many as its root's full run made beyond its own (the roots' runs
# differ: Debian 13's has Docker's and containerd's cases too).
most=0
for k in "${run_kernels[@]}"; do
	n=${full[$(tests/vm/kernels.sh --root-name "$k")]:-0}
	[ "$n" -gt "$most" ] && most=$n
	[ -n "${core[$k]}" ] && [ "${ran[$k]}" -lt "$n" ] || continue
	tally_skip "$k" $((n - ran[$k])) "outside scope core (GDL_CTR_SCOPE=full runs them)"
done

# A kernel left out counts as its root's full run's checks (else the
# largest).
for r in "${!full[@]}"; do root_checks[$r]=${full[$r]}; done
tally_left_out "$most"

tally_end containers "container engine tests (logs: $build/vm/containers-*.log):"

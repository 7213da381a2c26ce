#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# List the kernels the VM tests can use: those with both a bootable image
# (/boot/vmlinuz-KVER) and headers (/lib/modules/KVER/build) to build the
# module against.  One KVER per line, oldest first (sort -V).
#
# GDL_KERNELS="PATTERN ..." keeps only the kernels matching one of the
# shell patterns (for example GDL_KERNELS='6.12*' while iterating on one
# kernel); make check leaves it unset and runs the whole matrix.
#
# --userspace: the matrix of the userspace integration tiers (ctl,
# bindings, cuda, containers, slurm), which exercise the library, the
# interposer and the engines more than the kernel: the oldest and the
# newest kernel that is not PREEMPT_RT (6.1 and 6.12 today), which keeps
# make check under 30 minutes on two cores.  The kernel tiers (vm,
# hostile, pkg, lint) keep every kernel, PREEMPT_RT included.
# GDL_USERSPACE_MATRIX=full gives the userspace tiers every kernel too.
set -eu

if [ "${1:-}" = --userspace ]; then
	if [ "${GDL_USERSPACE_MATRIX:-}" = full ]; then
		"$0"
	else
		"$0" | grep -v -- '-rt-' | sed -n '1p;$p' | uniq
	fi
	exit 0
fi

want() {
	[ -n "${GDL_KERNELS:-}" ] || return 0
	local p
	for p in $GDL_KERNELS; do
		# shellcheck disable=SC2053	# a pattern on purpose
		[[ $1 == $p ]] && return 0
	done
	return 1
}

for img in /boot/vmlinuz-*; do
	[ -e "$img" ] || continue	# no match: the glob stays literal
	kver=${img#/boot/vmlinuz-}
	[ -d "/lib/modules/$kver/build" ] || continue
	want "$kver" || continue
	printf '%s\n' "$kver"
done | sort -V

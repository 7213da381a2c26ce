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
# kernels.sh --dropped lists instead the kernels that boot but cannot be
# tested (a /boot/vmlinuz-KVER without /lib/modules/KVER/build), which
# the tiers count as skipped.
set -eu
dropped=0
[ "${1:-}" = --dropped ] && dropped=1

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
	want "$kver" || continue
	if [ -d "/lib/modules/$kver/build" ]; then
		[ $dropped = 0 ] || continue
	else
		[ $dropped = 1 ] || continue
	fi
	printf '%s\n' "$kver"
done | sort -V

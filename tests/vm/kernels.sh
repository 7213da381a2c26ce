#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# List the kernels the VM tests can use: those with both a bootable image
# (/boot/vmlinuz-KVER) and headers (/lib/modules/KVER/build) to build the
# module against.  One KVER per line, oldest first (sort -V).
set -eu

for img in /boot/vmlinuz-*; do
	[ -e "$img" ] || continue	# no match: the glob stays literal
	kver=${img#/boot/vmlinuz-}
	[ -d "/lib/modules/$kver/build" ] || continue
	printf '%s\n' "$kver"
done | sort -V

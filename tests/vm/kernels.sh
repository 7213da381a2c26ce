#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# List the kernels the VM tests can use: those with both a bootable image
# (/boot/vmlinuz-KVER) and headers (/lib/modules/KVER/build) to build the
# module against.  One KVER per line, oldest first (sort -V).  They come
# from the host (Debian 12: its root is the guests' root) and from every
# built test root (tests/roots/: Debian 13, whose 7.3 kernel is built
# for and booted with that root), the host first when a KVER is in both.
#
# GDL_KERNELS="PATTERN ..." keeps only the kernels matching one of the
# shell patterns (for example GDL_KERNELS='6.12*' while iterating on one
# kernel); make check leaves it unset and runs the whole matrix.
#
# kernels.sh --dropped lists instead the kernels that boot but cannot be
# tested (a /boot/vmlinuz-KVER without /lib/modules/KVER/build), which
# the tiers count as skipped.
#
# kernels.sh --of ROOTNAME [--dropped] lists only the kernels of that root
# ("host": what the tiers that install packages on the host or run its
# engines can boot).
#
# Roots whose package list says "# on-demand" (tests/roots/debugkernel:
# make check-debug's lockdep/KASAN kernel, tests/debug/) are left out of
# the lists, unless GDL_DEBUG_KERNEL=1, which lists only theirs: make
# check never boots the debug kernel, make check-debug boots nothing else.
#
# kernels.sh --root KVER prints the root KVER belongs to: / for the host,
# else the test root's directory (vm-run.sh boots it as the guest's root,
# kbuild.sh builds in it).  kernels.sh --root-name KVER prints "host" or
# the test root's name (trixie).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# Roots, one "NAME DIR ON-DEMAND" per line: the host, then each built
# test root; ON-DEMAND is 1 for a "# on-demand" root.
roots() {
	local list name dir od
	echo "host / 0"
	for list in "$here"/../roots/*.pkgs; do
		[ -e "$list" ] || continue
		name=${list##*/}
		name=${name%.pkgs}
		od=0
		grep -qx '# on-demand' "$list" && od=1
		dir=$("$here/../roots/mkroot.sh" --path "$name") && echo "$name $dir $od"
	done
	return 0
}

case ${1:-} in
--root | --root-name)
	[ $# -eq 2 ] || { echo "usage: $0 $1 KVER" >&2; exit 2; }
	while read -r name dir _; do
		[ -e "${dir%/}/boot/vmlinuz-$2" ] || continue
		if [ "$1" = --root ]; then echo "$dir"; else echo "$name"; fi
		exit 0
	done < <(roots)
	echo "kernels: no root has kernel $2" >&2
	exit 1 ;;
esac

only=
if [ "${1:-}" = --of ]; then
	[ $# -ge 2 ] || { echo "usage: $0 --of ROOTNAME [--dropped]" >&2; exit 2; }
	only=$2
	shift 2
fi
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

debug=${GDL_DEBUG_KERNEL:-0}
seen=" "
while read -r name dir od; do
	[ "$od" = "$debug" ] || continue
	dir=${dir%/}
	for img in "$dir"/boot/vmlinuz-*; do
		[ -e "$img" ] || continue	# no match: the glob stays literal
		kver=${img#"$dir"/boot/vmlinuz-}
		case $seen in *" $kver "*) continue ;; esac
		seen="$seen$kver "
		[ -z "$only" ] || [ "$name" = "$only" ] || continue
		want "$kver" || continue
		if [ -d "$dir/lib/modules/$kver/build" ]; then
			[ $dropped = 0 ] || continue
		else
			[ $dropped = 1 ] || continue
		fi
		printf '%s\n' "$kver"
	done
done < <(roots) | sort -V

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# release.sh [--next] [HEADER]: the Slurm release (MAJOR.MINOR, as
# "22.05") that the SPANK plugin is built against, read from
# <slurm/slurm_version.h> (default /usr/include/slurm/slurm_version.h);
# --next prints the release after it ("22.06"), the packages' upper bound.
# The plugin exports plugin_version = SLURM_VERSION_NUMBER, and Slurm
# loads no plugin built for another release, so the packages pin this
# one: debian/rules (slurm:Depends) and the RPM spec (Requires).
set -eu
next=0
if [ "${1:-}" = --next ]; then
	next=1
	shift
fi
h=${1:-/usr/include/slurm/slurm_version.h}
v=$(sed -n 's/^#define SLURM_VERSION_NUMBER[ \t]*\(0x[0-9a-fA-F]*\).*/\1/p' "$h")
[ -n "$v" ] || { echo "release.sh: no SLURM_VERSION_NUMBER in $h" >&2; exit 1; }
printf '%d.%02d\n' $((v >> 16 & 255)) $(((v >> 8 & 255) + next))

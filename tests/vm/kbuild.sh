#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild.sh KVER [MAKE ARGS...]: make -C /lib/modules/KVER/build ARGS,
# where KVER's headers live: on the host for the host's kernels, chrooted
# into the test root for a root's kernels (kernels.sh --root; in-root.sh
# bind-mounts this clone, so M= paths mean the same there).  Debian 13's
# 7.3 headers are built with its gcc-14, which only its root has.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 KVER [MAKE ARGS...]" >&2; exit 2; }
kver=$1
shift
# Every CPU: the tiers build for four kernels one after the other, and a
# module's dozen files (sparse on each, under lint) compile in parallel.
jobs=-j$(nproc)
r=$("$here/kernels.sh" --root "$kver")
if [ "$r" = / ]; then
	exec make "$jobs" -C "/lib/modules/$kver/build" "$@"
fi
# MAKEFLAGS carries -s and the like; in-root.sh passes a clean
# environment, so hand it over by name.
exec "$here/../roots/in-root.sh" "$r" env ${MAKEFLAGS:+MAKEFLAGS="$MAKEFLAGS"} \
	make "$jobs" -C "/lib/modules/$kver/build" "$@"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-root.sh ROOT COMMAND [ARG...]
#
# Run COMMAND as root chrooted into the test root ROOT (mkroot.sh), in a
# private mount namespace: /dev, /proc and /sys are mounted there, and this
# clone (with its build directory, $GDL_BUILD_DIR when set, and the
# current directory when it lies elsewhere) is bind-mounted at the same
# path, so a path means the same file inside and out.  The mounts vanish
# with the command; the root keeps only the empty directories they need.
# The command runs in the current directory with a clean environment
# (PATH, HOME, LANG) plus whatever `env` it is given.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 ROOT COMMAND [ARG...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
target=$(cd "$1" && pwd)
shift

if [ "${GDL_IN_ROOT_NS:-}" != "$target" ]; then
	GDL_IN_ROOT_NS=$target exec unshare --mount --propagation private "$0" "$target" "$@"
fi

mount --rbind /dev "$target/dev"
mount -t proc proc "$target/proc"
mount --rbind /sys "$target/sys"
binds=("$top")
[ -n "${GDL_BUILD_DIR:-}" ] && binds+=("$GDL_BUILD_DIR")
binds+=("$PWD")
for d in "${binds[@]}"; do
	[ -d "$d" ] || continue
	# Skip what an earlier bind already covers.
	findmnt -rn -o TARGET "$target$d" >/dev/null 2>&1 && continue
	case $d/ in "$top"/*) [ "$d" = "$top" ] || continue ;; esac
	mkdir -p "$target$d"
	mount --bind "$d" "$target$d"
done
# shellcheck disable=SC2016	# $1 is the inner shell's
exec chroot "$target" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 \
	/bin/sh -c 'cd "$1" || exit 125; shift; exec "$@"' in-root "$PWD" "$@"

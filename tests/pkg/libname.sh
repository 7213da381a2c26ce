#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# libname.sh MAP LISTING: the library's real name follows its newest
# symbol version.  MAP is utils/lib/libgpudmalock.map; LISTING holds a
# package's file list, one path a line (dpkg-deb -c's names, rpm -qpl).
# With N the newest GDLOCK_0.N node of MAP, the listing must hold
# .../libgpudmalock.so.0.N.0, and no other libgpudmalock.so.0.* file name.
# Prints the name it wants, then "ok" or what is wrong; exits 1 if wrong.
set -u
map=$1
listing=$2
n=$(sed -n 's/^GDLOCK_0\.\([0-9][0-9]*\) {.*/\1/p' "$map" | sort -n | tail -n 1)
if [ -z "$n" ]; then
	echo "no GDLOCK_0.N node in $map"
	exit 1
fi
want=libgpudmalock.so.0.$n.0
echo "newest node GDLOCK_0.$n: the real name is $want"
real=$(sed 's|^\./|/|' "$listing" | grep -E '/libgpudmalock\.so\.0\.[0-9]+\.[0-9]+$' | sed 's|.*/||' | sort -u)
if [ "$real" = "$want" ]; then
	echo ok
	exit 0
fi
echo "the package holds: ${real:-no libgpudmalock.so.0.N.M at all}"
exit 1

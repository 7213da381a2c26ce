#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# changelog.sh debian/changelog: print it as an RPM %changelog section, so
# the spec's history (like its version) comes from debian/changelog.
set -eu
echo '%changelog'
awk '
/^[^ ]/ {
	ver = $2; gsub(/[()]/, "", ver)
	n = 0
	next
}
/^  \* / { s = substr($0, 5); gsub(/%/, "%%", s); items[++n] = "- " s; next }
/^    [^ ]/ { s = $0; sub(/^ +/, "", s); gsub(/%/, "%%", s); items[n] = items[n] " " s; next }
/^ -- / {
	line = substr($0, 5)
	split(line, parts, "  ")
	who = parts[1]
	# parts[2]: "Thu, 26 Nov 2026 21:00:00 +0000"
	split(parts[2], d, /[ ,]+/)
	printf "* %s %s %s %s %s - %s\n", d[1], d[3], d[2], d[4], who, ver
	for (i = 1; i <= n; i++)
		print items[i]
	print ""
}
' "$1"

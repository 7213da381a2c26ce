#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
#
# awk -f beside.awk WALL ICOUNT: bench's tables from a wall-clock run and
# from an -icount run (vm-run.sh -i, bench --icount) of the same kernel,
# one row per figure, the two side by side: medians and their ratios (to
# the null ioctl in the fast path and the hostile set, to the smallest
# case in scaling).  A figure missing from one run (it failed) shows "-".
function key(name) {
	if (!(name in seen)) {
		seen[name] = 1
		order[++n] = name
	}
	return name
}
FNR == 1 { file = FILENAME == ARGV[1] ? 1 : 2; sec = "" }
/^Fast path/ { sec = "fast"; next }
/^Scaling/ { sec = "scale"; next }
/^Hostile set/ { sec = "hostile"; next }
/^[^ ]/ { sec = ""; next }
# "  name median p99 ratio" (the name has spaces, and may be wider than
# its column)
(sec == "fast" || sec == "hostile") && /^  / && $NF ~ /^[0-9.]+x$/ {
	name = $0
	sub(/ +[^ ]+ +[^ ]+ +[^ ]+ *$/, "", name)
	sub(/^ +/, "", name)
	if (sec == "hostile")
		name = name " (hostile set)"
	k = key(name)
	med[file, k] = $(NF - 2)
	rat[file, k] = $NF
	next
}
# "  agents acl check ratio reserve+rel ratio"
sec == "scale" && /^  [0-9]/ {
	k = key("check, " $1 " agents, " $2 " ACL")
	med[file, k] = $3
	rat[file, k] = $4
	k = key("reserve+release, " $1 " agents, " $2 " ACL")
	med[file, k] = $5
	rat[file, k] = $6
}
END {
	printf "  %-42s %10s %8s %12s %8s\n", "figure", "ns/op", "ratio",
		"instr/op", "ratio"
	for (i = 1; i <= n; i++) {
		k = order[i]
		printf "  %-42s %10s %8s %12s %8s\n", k,
			((1, k) in med) ? med[1, k] : "-",
			((1, k) in rat) ? rat[1, k] : "-",
			((2, k) in med) ? med[2, k] : "-",
			((2, k) in rat) ? rat[2, k] : "-"
	}
}

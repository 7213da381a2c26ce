#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# standin-check.sh BUILD: in a guest of make check-debug's kernel (needs
# CONFIG_CGROUP_DMEM) with one edu device, show that the driver stand-in
# (dmem_standin.ko, charge; built in BUILD) is what issue 24 needs: its
# region in dmem.capacity, dmem.max refusing a charge past the limit with
# EAGAIN and no interposer anywhere, "max" lifting it, and every charge
# given back when the file closes.  The dmem tier (run.sh) runs it before
# guest.sh, the ledger's own cases: a stand-in that did not refuse would
# make those pass for nothing.  Ends "standin: N passed, M failed, 0 skipped".
set -u
B=$1
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   standin: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL standin: $*"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
in_cg() { sh -c "echo \$\$ > /sys/fs/cgroup/gdl-dmem/cgroup.procs && exec $B/charge $*"; }

pci=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && pci=${d##*/} && break
done
check "an edu device ($pci)" test -n "$pci"
check "insmod dmem_standin" insmod "$B/dmem_standin.ko" pci="$pci" size=67108864
r="drm/$pci/vram0"
check "dmem.capacity lists $r, 64 MiB" grep -qx "$r 67108864" /sys/fs/cgroup/dmem.capacity
check "+dmem in the root's subtree_control" sh -c 'echo +dmem >/sys/fs/cgroup/cgroup.subtree_control'
mkdir -p /sys/fs/cgroup/gdl-dmem
check "dmem.max 4 MiB" sh -c "echo '$r 4194304' >/sys/fs/cgroup/gdl-dmem/dmem.max"
out=$(in_cg 3145728 2097152)
check "3 MiB charged, 2 MiB more refused with EAGAIN: $(echo $out)" \
	test "$(echo $out)" = "charge 3145728: ok charge 2097152: EAGAIN"
out=$(in_cg 3145728 1048576 1)
check "exactly 4 MiB, then one byte more refused: $(echo $out)" \
	test "$(echo $out)" = "charge 3145728: ok charge 1048576: ok charge 1: EAGAIN"
check "dmem.max back to max" sh -c "echo '$r max' >/sys/fs/cgroup/gdl-dmem/dmem.max"
out=$(in_cg 3145728 2097152)
check "without a limit, 5 MiB: $(echo $out)" \
	test "$(echo $out)" = "charge 3145728: ok charge 2097152: ok"
check "every charge given back on close (dmem.current 0)" \
	grep -qx "$r 0" /sys/fs/cgroup/gdl-dmem/dmem.current
rmdir /sys/fs/cgroup/gdl-dmem
check "rmmod dmem_standin" rmmod dmem_standin
echo "standin: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]

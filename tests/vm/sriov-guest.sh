#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sriov-guest.sh MODULE.ko SRIOV_OFF.ko DELAY_MS: run INSIDE the test VM
# (sriov.sh boots it with QEMU's SR-IOV capable NVMe controller,
# 1b36:0010, whose VFs have the same ids).  MODULE.ko is a test build
# (GDL_TEST_HOOKS=y: the walk_delay_ms parameter); SRIOV_OFF.ko disables
# SR-IOV as a PF driver does itself (tests/vm/sriov/sriov_off.c).  Issue
# 22 item 10: a VF removed while the load-time walk holds a reference to
# it must not be plugged afterwards as live.  Ends with "sriov: N passed,
# M failed, K skipped".
set -u
KO=$1
OFF=$2
D=${3:-3000}
pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); echo "ok   sriov: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL sriov: $*"; }
NCHECKS=8
finish() { echo "sriov: $pass passed, $fail failed, $skip skipped"; [ $fail -eq 0 ]; exit; }
skip_all() {
	skip=$((NCHECKS - pass - fail))
	echo "skip sriov: $*"
	finish
}

modprobe nvme 2>/dev/null || skip_all "this kernel has no nvme module"
pf=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/sriov_numvfs" ] && [ "$(cat "$d/vendor")" = 0x1b36 ] &&
		[ "$(cat "$d/device")" = 0x0010 ] && { pf=$d; break; }
done
[ -n "$pf" ] || skip_all "no SR-IOV capable NVMe function (QEMU's nvme with sriov_max_vfs)"
pfa=${pf##*/}
# The VFs need no driver: nvme on a VF QEMU has not brought online would
# only time out.
echo 0 >"$pf/sriov_drivers_autoprobe"
echo 2 >"$pf/sriov_numvfs" 2>/dev/null || skip_all "$pfa: enabling 2 VFs failed"
vf1=$(basename "$(readlink "$pf/virtfn0")")
vf2=$(basename "$(readlink "$pf/virtfn1")")
[ -n "$vf1" ] && [ -n "$vf2" ] || skip_all "$pfa: no virtfn0/virtfn1 after enabling 2 VFs"
echo "sriov: PF $pfa, VFs $vf1 $vf2, walk delay ${D} ms"

# state ADDR: the ledger's state of the function at ADDR (live, gone) or
# "absent" (the devices table's pci and state columns).
state() {
	s=$(awk -v a="$1" '$3 == a { print $NF }' /proc/gpu_dma_lock/devices)
	echo "${s:-absent}"
}
# all_live: the PF and both VFs are live.
all_live() {
	[ "$(state "$pfa")" = live ] && [ "$(state "$vf1")" = live ] &&
		[ "$(state "$vf2")" = live ]
}

# 1. Control: the walk (no delay) plugs the PF and both VFs.
if insmod "$KO" pci_ids=1b36:0010; then
	all_live && ok "the load-time walk plugs the PF and both VFs" ||
		bad "after load: $(cat /proc/gpu_dma_lock/devices)"
	rmmod gpu_dma_lock
else
	bad "insmod $KO pci_ids=1b36:0010"
fi

# race NAME CMD: the VFs (enabled now) are removed by CMD during a walk
# that waits D ms before plugging each function: CMD runs once the walk
# has plugged the PF (its log line), while the walk holds its reference
# to the first VF and sleeps.  The removal's BUS_NOTIFY_DEL_DEVICE then
# reaches the module in that window, unless the removal waits for the PCI
# rescan/remove lock that the walk holds.  Whichever, neither VF may be
# live in the ledger afterwards.  Leaves the module loaded (loaded=1).
race() {
	name=$1
	cmd=$2
	mark=$((mark + 1))
	echo "gdl-sriov-mark $mark" >/dev/kmsg
	rm -f /tmp/sriov-removed
	(
		i=0
		until dmesg | sed -n "/gdl-sriov-mark $mark\$/,\$p" |
			grep -q "$pfa: managed as gpu_dma_lock"; do
			i=$((i + 1))
			[ $i -lt 600 ] || { echo "sriov: $name: the PF was never plugged"; exit 1; }
			sleep 0.1
		done
		echo "sriov: $name: removing the VFs during the walk"
		sh -c "$cmd"
		echo "sriov: $name: removal done (rc=$?)"
		: >/tmp/sriov-removed
	) &
	remover=$!
	loaded=0
	if insmod "$KO" pci_ids=1b36:0010 walk_delay_ms="$D"; then
		loaded=1
		# Informative: whether the removal finished inside the walk
		# (the race) or waited for the rescan lock the walk holds.
		if [ -e /tmp/sriov-removed ]; then
			echo "sriov: $name: the removal finished during the walk: it does not take the rescan lock"
		else
			echo "sriov: $name: the removal waited for the walk: it takes the rescan lock"
		fi
	else
		bad "$name: insmod $KO pci_ids=1b36:0010 walk_delay_ms=$D"
	fi
	wait $remover
	[ ! -e "/sys/bus/pci/devices/$vf1" ] && [ ! -e "/sys/bus/pci/devices/$vf2" ] &&
		ok "$name: the VFs were removed while the module loaded" ||
		bad "$name: the VFs are still on the bus"
	[ $loaded = 1 ] || return
	cat /proc/gpu_dma_lock/devices
	s0=$(state "$pfa")
	s1=$(state "$vf1")
	s2=$(state "$vf2")
	[ "$s0" = live ] && [ "$s1" != live ] && [ "$s2" != live ] &&
		ok "$name: the PF is live, the VFs removed during the walk are not ($s1, $s2)" ||
		bad "$name: VFs removed during the walk: PF $pfa $s0, VF $vf1 $s1, VF $vf2 $s2"
}
mark=0

# 2. Removed through sysfs (sriov_numvfs=0).  Debian's 6.1 and 6.12 take
# the rescan lock there (upstream a5338e365c45), so this waits for the
# walk on them; a kernel without that fix races.
race sysfs "echo 0 >$pf/sriov_numvfs"
[ $loaded = 1 ] && { rmmod gpu_dma_lock || bad "sysfs: rmmod"; }

# 3. Removed the way a PF driver disables SR-IOV itself (its .remove, a
# devlink reload): pci_disable_sriov() under the PF's device lock alone
# (the sriov_off test module), which no kernel before the rescan lock
# moved into sriov_del_vfs() serialises against the walk.
if echo 2 >"$pf/sriov_numvfs"; then
	race driver "insmod $OFF pf=$pfa 2>/dev/null; [ ! -e $pf/virtfn0 ]"
else
	bad "driver: enabling the VFs again"
fi
if [ $loaded = 1 ]; then
	# 4. After the walk the notifier alone: VFs enabled come (back)
	# live, and disabled they are gone.
	echo 2 >"$pf/sriov_numvfs"
	[ "$(state "$vf1")" = live ] && [ "$(state "$vf2")" = live ] &&
		ok "VFs enabled after the walk are live" ||
		bad "VFs enabled after the walk: $vf1 $(state "$vf1"), $vf2 $(state "$vf2")"
	echo 0 >"$pf/sriov_numvfs"
	[ "$(state "$vf1")" = gone ] && [ "$(state "$vf2")" = gone ] &&
		ok "VFs disabled after the walk are gone" ||
		bad "VFs disabled after the walk: $vf1 $(state "$vf1"), $vf2 $(state "$vf2")"
	rmmod gpu_dma_lock && ok "rmmod" || bad "rmmod"
fi
finish

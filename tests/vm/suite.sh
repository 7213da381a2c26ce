#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The integration suite, run INSIDE the test VM (see vm-run.sh) as root.
#   suite.sh MODULE.ko ITEST_BINARY
# Needs two QEMU edu devices (vendor 1234, device 11e8) as fake GPUs.
# Ends with "vm-suite: N passed, M failed" (the itest checks included).
set -u
KO=$1
ITEST=$2
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   suite: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL suite: $*"; }

# Run itest and add its counts to ours.
run_itest() {
	out=$("$ITEST" "$@" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | sed -n 's/^itest: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
	if [ -z "$line" ]; then
		bad "itest $* did not finish"
		return
	fi
	set -- $line
	pass=$((pass + $1))
	fail=$((fail + $2))
	# A crash after the count line (an exit handler) fails it too.
	[ $rc -eq 0 ] || [ "$2" -gt 0 ] || bad "itest exited with status $rc"
}

# The harness checks the whole kernel log at power-off, so it is marked,
# never cleared: what a step logged is what follows its mark.
mark=0
log_mark() { mark=$((mark + 1)); echo "gdl-suite-mark $mark" >/dev/kmsg; }
log_since_mark() { dmesg | sed -n "/gdl-suite-mark $mark\$/,\$p" | sed 1d; }

param() { cat /sys/module/gpu_dma_lock/parameters/"$1" 2>/dev/null; }

# 1. Load with the edu devices as fake GPUs, run the main suite.
if insmod "$KO" pci_ids=1234:11e8; then ok "insmod"; else bad "insmod"; echo "vm-suite: $pass passed, $fail failed"; exit 1; fi
[ -c /dev/gpu_dma_lock ] && ok "/dev/gpu_dma_lock is a character device" || bad "/dev/gpu_dma_lock missing"
[ "$(param pci_ids)" = "1234:11e8" ] && ok "pci_ids parameter shown" || bad "pci_ids parameter: $(param pci_ids)"
[ "$(param default_quota)" = "1073741824" ] && ok "default_quota defaults to 1G" || bad "default_quota: $(param default_quota)"
[ "$(param share_key_majors)" = "195" ] && ok "share_key_majors defaults to 195 (NVIDIA)" || bad "share_key_majors: $(param share_key_majors)"
run_itest deny

# 2. Unload is refused while a file is open, and works once it is closed.
exec 3</dev/gpu_dma_lock
if rmmod gpu_dma_lock 2>/dev/null; then bad "rmmod succeeded with an open file"; else ok "rmmod refused while a file is open"; fi
exec 3<&-
if rmmod gpu_dma_lock; then ok "rmmod after close"; else bad "rmmod after close"; fi
[ ! -e /proc/gpu_dma_lock ] && ok "/proc/gpu_dma_lock removed" || bad "/proc/gpu_dma_lock left behind"

# 3. Every invalid parameter refuses the load, with the module's own message
# naming it ("gpu_dma_lock: NAME: '...' is not ..."; the kernel's
# "`X' invalid for parameter `NAME'" comes whatever the module says).
for p in default_quota=12X default_quota=99999999999T default_policy=maybe \
	 max_agents=0 max_agents=70000 max_reservations=0 enforce=2 \
	 pci_ids=xyz pci_ids=10de:123456 pci_ids=10de,,1002 \
	 share_key_majors=0 share_key_majors=4096 share_key_majors=nv; do
	name=${p%%=*}
	log_mark
	if insmod "$KO" "$p" 2>/dev/null; then
		bad "insmod $p was accepted"
		rmmod gpu_dma_lock
	elif log_since_mark | grep -q "gpu_dma_lock: $name: '"; then
		ok "insmod $p refused with the module's message naming $name"
	else
		bad "insmod $p refused without the module's message naming $name"
	fi
done

# 4. Suffixes and the default policy.
if insmod "$KO" pci_ids=1234:11e8 default_policy=default default_quota=1M max_agents=8; then
	ok "insmod with default_policy=default default_quota=1M"
	[ "$(param default_quota)" = "1048576" ] && ok "default_quota=1M parsed" || bad "default_quota=1M -> $(param default_quota)"
	[ "$(param default_policy)" = "default" ] && ok "default_policy shown" || bad "default_policy: $(param default_policy)"
	run_itest default
	rmmod gpu_dma_lock && ok "rmmod" || bad "rmmod"
else
	bad "insmod with default policy"
fi

# 4b. fd keys (issue 22 item 2): a character device is a key only when its
# major is in share_key_majors (here /dev/null's, 1); shmem files always.
if insmod "$KO" pci_ids=1234:11e8 default_policy=default share_key_majors=1,195; then
	[ "$(param share_key_majors)" = "1,195" ] && ok "share_key_majors=1,195 shown" || bad "share_key_majors: $(param share_key_majors)"
	run_itest keymajors
	rmmod gpu_dma_lock && ok "rmmod" || bad "rmmod"
else
	bad "insmod with share_key_majors=1,195"
fi

# 5. PCI hot-plug (ABI 1.3): an edu device removed and rescanned through
# sysfs while the module is loaded (itest hotplug); then one that does not
# match pci_ids (1234:11e9 names no edu device) is ignored on hot-add.
if insmod "$KO" pci_ids=1234:11e8; then
	run_itest hotplug
	rmmod gpu_dma_lock && ok "rmmod after hot-plug" || bad "rmmod after hot-plug"
else
	bad "insmod for hot-plug"
fi
edu=$(grep -l 0x11e8 /sys/bus/pci/devices/*/device | head -n 1)
edu=${edu%/device}
rows() { tail -n +2 /proc/gpu_dma_lock/devices | wc -l; }
if [ -n "$edu" ] && insmod "$KO" pci_ids=1234:11e9; then
	[ "$(rows)" -eq 0 ] && ok "pci_ids=1234:11e9 manages nothing at load" || bad "pci_ids=1234:11e9 manages $(rows) at load"
	echo 1 >"$edu/remove"
	echo 1 >/sys/bus/pci/rescan
	[ -e "$edu" ] && ok "the edu device came back on rescan" || bad "the edu device did not come back"
	[ "$(rows)" -eq 0 ] && ok "a hot-added device not in pci_ids is ignored" || bad "a hot-added device not in pci_ids is managed: $(cat /proc/gpu_dma_lock/devices)"
	rmmod gpu_dma_lock && ok "rmmod" || bad "rmmod"
else
	bad "insmod with pci_ids=1234:11e9 (edu device: '$edu')"
fi

# 6. Load/unload cycles with traffic in between: nothing left behind.
i=0
while [ $i -lt 10 ]; do
	insmod "$KO" pci_ids=1234:11e8 default_policy=default default_quota=1M || break
	"$ITEST" default >/dev/null 2>&1 || break
	rmmod gpu_dma_lock || break
	i=$((i + 1))
done
[ $i -eq 10 ] && ok "10 load/traffic/unload cycles" || bad "load/unload cycle $i failed"
grep -q gpu_dma_lock /proc/modules && bad "module still loaded" || ok "module unloaded at the end"

# 7. Accounted memory (docs/abi.md: what a tenant makes the kernel allocate
#    is charged to its memory cgroup, GFP_KERNEL_ACCOUNT): 4000
#    reservations made from a memory cgroup raise its slab figure by at
#    least 64 bytes each (a reservation is a kmalloc-192 object or more),
#    and releasing them gives most of it back.  The guest boots without
#    cgroup.memory=nokmem, so kernel memory is accounted here.  memory.stat
#    is read after 3 s: the kernel flushes memcg statistics every 2 s.
B=${ITEST%/vm/itest}
N=4000
cg=/sys/fs/cgroup/gdl-kmem
if echo +memory >/sys/fs/cgroup/cgroup.subtree_control && mkdir -p $cg &&
   insmod "$KO" pci_ids=1234:11e8 default_policy=default default_quota=unlimited; then
	out=$(sh -c "echo \$\$ >$cg/cgroup.procs && exec env PYTHONPATH=$(pwd)/utils/python LD_LIBRARY_PATH=$B/utils python3 -c '
import sys, time, gpudmalock
def slab():
    time.sleep(3)
    for l in open(\"$cg/memory.stat\"):
        k, v = l.split()
        if k == \"slab\":
            return int(v)
led = gpudmalock.Ledger()
s0 = slab()
held = [led.reserve(0, 4096) for _ in range($N)]
s1 = slab()
for r in held:
    r.release()
s2 = slab()
print(\"kmem\", s0, s1, s2)
'" 2>&1)
	# shellcheck disable=SC2046	# the two figures, split on purpose
	set -- $(echo "$out" | sed -n 's/^kmem //p')
	if [ $# -eq 3 ] && [ $(($2 - $1)) -ge $((N * 64)) ]; then
		ok "$N reservations raise the memory cgroup's slab by $(($2 - $1)) bytes ($((($2 - $1) / N)) each)"
	else
		bad "$N reservations and the memory cgroup's slab: '$out'"
	fi
	if [ $# -eq 3 ] && [ $(($2 - $3)) -ge $((($2 - $1) / 2)) ]; then
		ok "released, the slab falls back by $(($2 - $3)) bytes"
	else
		bad "released reservations and the memory cgroup's slab: '$out'"
	fi
	rmmod gpu_dma_lock || bad "rmmod after the accounting case"
	rmdir $cg
else
	bad "a memory cgroup and the module for the accounting case"
fi

echo "vm-suite: $pass passed, $fail failed"
[ $fail -eq 0 ]

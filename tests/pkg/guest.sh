#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh VERSION: runs inside the VM (tests/vm/vm-run.sh -e 2), as root,
# on the host's root with the packages installed there.  Checks that the
# DKMS-built module is what modprobe loads, with the packaged modprobe.d
# options; that the real systemd-udevd applies the packaged rule; that
# gpu-dma-lock-ctl works against it; and that the packaged boot unit's and
# gc service's commands do what they say (the guest boots busybox, not
# systemd: they are run here as systemd would, in order).  Writes only to
# the guest's overlay (its /etc/modprobe.d starts empty, whatever the
# host's holds).  Ends with "pkg-guest: N passed, M failed, K skipped".
set -u
ver=$1
kver=$(uname -r)
pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); echo "ok   $kver: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $kver: $*"; }
check() {	# check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

conf=/usr/lib/modprobe.d/gpu-dma-lock.conf
params=/sys/module/gpu_dma_lock/parameters

# 1. modprobe finds the DKMS-built module, signed with DKMS's key.
path=$(modinfo -n gpu_dma_lock 2>/dev/null)
case $path in
/lib/modules/$kver/updates/dkms/gpu_dma_lock.ko*) ok "modinfo -n: $path" ;;
*) bad "modinfo -n gives '$path', not /lib/modules/$kver/updates/dkms/" ;;
esac
check "module version is $ver" [ "$(modinfo -F version gpu_dma_lock)" = "$ver" ]
if [ -f /var/lib/dkms/mok.pub ]; then
	check "module signed by DKMS's MOK key" \
		[ "$(modinfo -F signer gpu_dma_lock)" = "DKMS module signing key" ]
else
	skip=$((skip + 1))
	echo "skip $kver: module signed by DKMS's MOK key: no /var/lib/dkms/mok.pub"
fi
check "packaged $conf present" [ -f "$conf" ]
check "nothing for gpu_dma_lock in /etc/modprobe.d" \
	sh -c "! grep -rqs gpu_dma_lock /etc/modprobe.d"

# 2. modprobe with the packaged options: every parameter equals the value
# the packaged file documents (its "#options" lines; any active "options"
# line would come later and win).
rmmod gpu_dma_lock 2>/dev/null
check "modprobe gpu_dma_lock" modprobe gpu_dma_lock
check "/proc/gpu_dma_lock/version says $ver" grep -q " $ver " /proc/gpu_dma_lock/version
check "/sys/module/gpu_dma_lock/version is $ver" \
	[ "$(cat /sys/module/gpu_dma_lock/version 2>/dev/null)" = "$ver" ]
declare -A want=()
while read -r _ mod kv; do
	[ "$mod" = gpu_dma_lock ] || continue
	for a in $kv; do want[${a%%=*}]=${a#*=}; done
done <<<"$(sed -n 's/^#\{0,1\}options[[:space:]]/options /p' "$conf")"
# Every parameter the module has, and no other, so a new one cannot go
# undocumented.
have=$(ls "$params" | sort | tr '\n' ' ')
documented=$(printf '%s\n' "${!want[@]}" | sort | tr '\n' ' ')
check "packaged file documents every parameter (${#want[@]}: $documented)" [ "$have" = "$documented" ]
for p in "${!want[@]}"; do
	w=${want[$p]}
	[ "$p" = default_quota ] && [ "$w" != unlimited ] && w=$(numfmt --from=iec "$w")
	got=$(cat "$params/$p" 2>/dev/null)
	check "$p = ${want[$p]} ($got)" [ "$got" = "$w" ]
done
check "no devices discovered with pci_ids=${want[pci_ids]:-?} (edu is 1234:11e8)" \
	[ "$(tail -n +2 /proc/gpu_dma_lock/devices | wc -l)" -eq 0 ]

# 3. The edu devices, then the real udevd with the packaged rule.  The
# harness runs this in a chroot of the overlay, where systemd's tools
# refuse to act unless told to.
export SYSTEMD_IGNORE_CHROOT=1
check "rmmod" rmmod gpu_dma_lock
check "modprobe gpu_dma_lock pci_ids=1234:11e8" modprobe gpu_dma_lock pci_ids=1234:11e8
check "two edu devices discovered" \
	[ "$(tail -n +2 /proc/gpu_dma_lock/devices | wc -l)" -eq 2 ]
check "node is 0666 root:root before udev (the module's own mode)" \
	[ "$(stat -c '%a %U:%G' /dev/gpu_dma_lock)" = "666 root:root" ]
check "systemd-udevd --daemon" /lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=misc --sysname-match=gpu_dma_lock
udevadm settle -t 60
node=$(stat -c '%a %U:%G' /dev/gpu_dma_lock)
check "udev rule applied: /dev/gpu_dma_lock is 660 root:gpu-dma-lock ($node)" \
	[ "$node" = "660 root:gpu-dma-lock" ]
check "udev rule is the packaged one" \
	sh -c "udevadm test /sys/class/misc/gpu_dma_lock 2>&1 | grep -q '/usr/lib/udev/rules.d/60-gpu-dma-lock.rules'"
gid=$(getent group gpu-dma-lock | cut -d: -f3)
check "a member of gpu-dma-lock may open the node" \
	setpriv --reuid=65534 --regid=65534 --groups="$gid" sh -c ': </dev/gpu_dma_lock'
check "a non-member may not" \
	sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c ': </dev/gpu_dma_lock' 2>/dev/null"
udevadm control --exit 2>/dev/null

# 4. The packaged ctl against the DKMS-built module.
ctl=/usr/sbin/gpu-dma-lock-ctl
check "$ctl installed" [ -x "$ctl" ]
check "gpu-dma-lock-ctl status" "$ctl" status
check "gpu-dma-lock-ctl selftest" "$ctl" selftest
check "rmmod" rmmod gpu_dma_lock

# 5. The boot unit: its ExecStart= lines, in order, as systemd runs a
# oneshot (each must succeed).  With /etc/gpu-dma-lock/policy it loads
# the module and applies the policy; without, it only loads.
unit=/lib/systemd/system/gpu-dma-lock.service
run_unit() {	# run_unit UNIT: its ExecStart= commands; fails at the first failing
	local line cmds
	cmds=$(sed -n 's/^ExecStart=//p' "$1")
	[ -n "$cmds" ] || return 1
	while IFS= read -r line; do
		sh -c "$line" || return 1
	done <<<"$cmds"
}
check "$unit has ExecStart= lines" grep -q '^ExecStart=' "$unit"
# The admin's fleet options (the edu devices as GPUs): load honours them.
echo "options gpu_dma_lock pci_ids=1234:11e8" >/etc/modprobe.d/gpu-dma-lock.conf
mkdir -p /etc/gpu-dma-lock
printf 'agent boot-tenant\nquota boot-tenant all 3M\n' >/etc/gpu-dma-lock/policy
check "boot unit's commands, with a policy" run_unit "$unit"
check "...the module is loaded" test -e /sys/module/gpu_dma_lock
check "...with the modprobe.d options (two edu devices)" \
	[ "$(tail -n +2 /proc/gpu_dma_lock/devices | wc -l)" -eq 2 ]
check "...the policy's agent exists" sh -c "$ctl agent list | grep -q ' boot-tenant '"
check "...with the policy's quota on device 1" sh -c "$ctl quota get boot-tenant 1 --json | grep -q '\"quota\": 3145728'"
check "boot unit's commands again: idempotent" run_unit "$unit"
rm -f /etc/gpu-dma-lock/policy
check "rmmod" rmmod gpu_dma_lock
check "boot unit's commands, no policy file" run_unit "$unit"
check "...the module is loaded" test -e /sys/module/gpu_dma_lock
check "...and no agent made" sh -c "$ctl agent list >/tmp/agents && ! grep -q ' boot-tenant ' /tmp/agents"
# gc's service: nothing unused, so one look, and it says so.
gcunit=/lib/systemd/system/gpu-dma-lock-gc.service
check "gc service's command: exit 0, nothing to collect" \
	sh -c "$(grep '^ExecStart=' $gcunit | sed 's/^ExecStart=//') | grep -q 'gc: 0 destroyed'"
check "rmmod at the end" rmmod gpu_dma_lock
rm -f /etc/modprobe.d/gpu-dma-lock.conf

echo "pkg-guest: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

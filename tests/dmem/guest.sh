#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh MODULE.ko BUILD DMEMBUILD: the ledger programming the dmem
# cgroup controller (issue 24, docs/dmem.md), INSIDE a guest of make
# check-debug's kernel (CONFIG_CGROUP_DMEM) with two edu devices: the
# driver stand-in (dmem_standin.ko, DMEMBUILD) gives the first a region,
# "drm/<pci>/vram0", the second has none.  Every charge here is made by
# `charge` through the stand-in, as a driver's allocation: no interposer
# anywhere, so only the kernel can refuse it.  Ends with
# "dmem: N passed, M failed, 0 skipped".
set -u
KO=$1
B=$2
D=$3
CTL=$B/utils/gpu-dma-lock-ctl
LEDGER=$D/ledger
HOOK=$B/utils/gpu-dma-lock-oci-hook
HERE=$(cd "$(dirname "$0")" && pwd)
CG=/sys/fs/cgroup
T=/tmp/dmem-test
mkdir -p $T
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   dmem: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL dmem: $*"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
# in_cg CGROUP ARGS...: charge ARGS from a process in CGROUP.
in_cg() { c=$1; shift; sh -c "echo \$\$ > $CG/$c/cgroup.procs && exec $D/charge $*"; }
# line CGROUP: this test's region's line of CGROUP's dmem.max.
line() { grep "^$R " "$CG/$1/dmem.max"; }
# is CGROUP VALUE DESC: the line says VALUE (bytes or max).
is() {
	got=$(line "$1")
	if [ "$got" = "$R $2" ]; then ok "$3 ($got)"; else bad "$3: '$got', wanted '$R $2'"; fi
}
# poll CGROUP VALUE: wait (10 s at most, never asserted on) for the line.
poll() {
	i=0
	while [ $i -lt 100 ] && [ "$(line "$1")" != "$R $2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo $((i * 100))
}
ctl() { $CTL "$@" >$T/out 2>&1 || { echo "     | ctl $*:"; sed 's/^/     | /' $T/out; return 1; }; }

edus=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && edus="$edus ${d##*/}"
done
set -- $edus
PCI0=${1:-}
PCI1=${2:-}
check "two edu devices ($PCI0, $PCI1)" test -n "$PCI1"
R="drm/$PCI0/vram0"
check "insmod gpu_dma_lock (both edu devices managed)" insmod "$KO" pci_ids=1234:11e8
check "insmod dmem_standin: a region for $PCI0 only" insmod "$D/dmem_standin.ko" pci="$PCI0" size=67108864
check "dmem.capacity lists $R" grep -qx "$R 67108864" $CG/dmem.capacity
# Ledger indices of the two devices, by PCI address.
idx() { $CTL device list --json | python3 -c "import json,sys; print([d['index'] for d in json.load(sys.stdin) if d['pci']==sys.argv[1]][0])" "$1"; }
I0=$(idx "$PCI0")
I1=$(idx "$PCI1")
check "ledger devices $I0 ($PCI0) and $I1 ($PCI1)" test -n "$I0" -a -n "$I1"

# 1. Visibility: per device, dmem or interposer.
ctl dmem status --json && python3 - "$T/out" "$R" "$PCI0" "$PCI1" <<'EOF' && ok "dmem status: $PCI0 dmem ($R), $PCI1 interposer (no region)" || bad "dmem status --json"
import json, sys
d = {x["pci"]: x for x in json.load(open(sys.argv[1]))}
assert d[sys.argv[3]]["enforcement"] == "dmem" and d[sys.argv[3]]["region"] == sys.argv[2], d
assert d[sys.argv[4]]["enforcement"] == "interposer" and d[sys.argv[4]]["region"] is None, d
EOF
ctl device list --json && python3 - "$T/out" "$PCI0" "$PCI1" <<'EOF' && ok "device list --json: enforcement dmem / interposer" || bad "device list --json enforcement"
import json, sys
d = {x["pci"]: x["enforcement"] for x in json.load(open(sys.argv[1]))}
assert d[sys.argv[2]] == "dmem" and d[sys.argv[3]] == "interposer", d
EOF
$CTL status >$T/out 2>&1	# exit 6: insmod'ed, not installed
grep -q "dmem (kernel), region $R" $T/out && grep -Eq " interposer$" $T/out &&
	ok "status: one device dmem (kernel), one interposer" || { bad "status enforcement lines"; sed 's/^/     | /' $T/out; }

# 2. An agent of 4 MiB bound to a cgroup: the kernel holds it to 4 MiB.
mkdir -p $CG/gdl-a
ctl agent create tenant-a && ctl quota set tenant-a "$I0" 4M && ctl quota set tenant-a "$I1" 4M &&
	ctl agent bind tenant-a --cgroup $CG/gdl-a && ok "agent tenant-a, 4 MiB on both devices, bound to gdl-a" || bad "agent tenant-a"
check "+dmem in the root's subtree_control" grep -qw dmem $CG/cgroup.subtree_control
is gdl-a 4194304 "ctl's own sync: gdl-a's dmem.max says 4 MiB at once"
check "no line for the device without a region" sh -c "! grep -q '$PCI1' $CG/gdl-a/dmem.max"
out=$(in_cg gdl-a 3145728 2097152)
check "3 MiB charged directly, 2 MiB more refused by the kernel: $(echo $out)" \
	test "$(echo $out)" = "charge 3145728: ok charge 2097152: EAGAIN"

# 3. dmem.current next to the ledger's figure: memory the interposer missed.
mkfifo $T/hold
in_cg gdl-a -w 3145728 <$T/hold >$T/held &
exec 7>$T/hold
i=0
while [ $i -lt 100 ] && ! grep -q ok $T/held; do sleep 0.1; i=$((i + 1)); done
ctl stats --json && python3 - "$T/out" "$I0" <<'EOF' && ok "stats --json: dmem_current 3 MiB, ledger usage 0, 3 MiB unledgered" || { bad "stats --json dmem_current"; sed 's/^/     | /' $T/out; }
import json, sys
s = json.load(open(sys.argv[1]))
a = [x for x in s["agents"] if x["name"] == "tenant-a"][0]
d = [x for x in a["devices"] if x["device"] == int(sys.argv[2])][0]
assert d["dmem_current"] == 3145728 and d["usage"] == 0 and d["dmem_unledgered"] == 3145728, d
assert [x for x in s["devices"] if x["index"] == int(sys.argv[2])][0]["enforcement"] == "dmem"
EOF
python3 "$HERE/../ctl/jsoncheck.py" "$HERE/../../docs/stats.schema.json" $T/out >/dev/null 2>&1 &&
	ok "stats --json validates against docs/stats.schema.json" || bad "stats --json against the schema"
ctl stats --prometheus && grep -q "^gpu_dma_lock_agent_dmem_unledgered_bytes{agent=\"tenant-a\",device=\"$I0\"} 3145728$" $T/out &&
	grep -q "^gpu_dma_lock_device_dmem_enforced{device=\"$I1\"" $T/out &&
	ok "stats --prometheus: the unledgered gauge says 3 MiB" || { bad "stats --prometheus dmem gauges"; grep dmem $T/out | sed 's/^/     | /'; }

# 4. Lowered below usage (3 MiB held, quota 1 MiB): the ledger says OVER
# where it has usage; dmem takes the limit, keeps what is charged (no
# reclaim: the stand-in, like a driver without one, evicts nothing, and
# the sync writes non-blocking) and refuses every new byte.
ctl quota set tenant-a "$I0" 1M
is gdl-a 1048576 "quota lowered below usage: dmem.max 1 MiB"
check "still charged: dmem.current 3 MiB" grep -qx "$R 3145728" $CG/gdl-a/dmem.current
out=$(in_cg gdl-a 1)
check "over its limit, not one byte more: $(echo $out)" test "$(echo $out)" = "charge 1: EAGAIN"
exec 7>&-
wait

# 5. Raised with ctl quota set: it passes, with no follower running.
ctl quota set tenant-a "$I0" 8M
is gdl-a 8388608 "quota set 8M: dmem.max follows at once"
out=$(in_cg gdl-a 3145728 2097152)
check "now 3 + 2 MiB pass: $(echo $out)" test "$(echo $out)" = "charge 3145728: ok charge 2097152: ok"

# 6. A pid binding cannot be a cgroup limit: it stays the interposer's.
ctl agent create tenant-p && ctl quota set tenant-p "$I0" 1M && ctl agent bind tenant-p --pid $$
ctl dmem sync && grep -q "^dmem sync: 1 lines wanted" $T/out &&
	ok "a pid binding adds no dmem line (1 wanted: gdl-a's)" || { bad "pid binding and dmem sync"; sed 's/^/     | /' $T/out; }
ctl agent destroy tenant-p

# 7. The follower: a quota set with a raw ioctl (no library, no sync) is
# seen only by it.
$LEDGER rawquota tenant-a "$I0" 2097152
sleep 1.5
is gdl-a 8388608 "raw ioctl, no follower: dmem.max not changed (what the follower is for)"
$CTL dmem sync --follow >$T/follow 2>&1 &
fpid=$!
# Its first sync done (the line it prints), so that the change below is
# one it has to follow, not one its start reads.
i=0
while [ $i -lt 100 ] && ! grep -q "^dmem sync:" $T/follow; do sleep 0.1; i=$((i + 1)); done
check "the follower started: $(head -n 1 $T/follow)" grep -q "^dmem sync: .* 0 failed" $T/follow
$LEDGER rawquota tenant-a "$I0" 3145728
ms=$(poll gdl-a 3145728)
is gdl-a 3145728 "the follower caught the raw ioctl (seen after ${ms} ms; bound 1000 ms)"
check "the follower still runs" kill -0 $fpid
kill $fpid
wait $fpid
check "the follower exits 0 on SIGTERM" test $? = 0

# 8. Destroyed: back to max.
ctl agent destroy tenant-a
is gdl-a max "agent destroyed: dmem.max back to max"
out=$(in_cg gdl-a 8388608)
check "no limit any more: $(echo $out)" test "$(echo $out)" = "charge 8388608: ok"
rmdir $CG/gdl-a

# 9. The OCI hook's container: createRuntime binds it through the
# lifecycle helper, which programs dmem.max; poststop gives it back.  An
# ordinary unprivileged container's config.json (its own user namespace,
# no CAP_SYS_ADMIN), with a GPU by NVIDIA's variable.
mkdir -p $T/bundle $CG/gdl-ctr-dmemtest1
printf 'max_quota = 64M\nunannotated = refuse\nuninterposed = allow\n' >$T/oci.conf
cat >$T/bundle/config.json <<EOF
{"ociVersion":"1.0.2","process":{"env":["NVIDIA_VISIBLE_DEVICES=all"],"capabilities":{"bounding":["CAP_CHOWN"]}},"linux":{"namespaces":[{"type":"user"}],"cgroupsPath":"/gdl-ctr-dmemtest1"}}
EOF
sh -c "echo \$\$ > $CG/gdl-ctr-dmemtest1/cgroup.procs && exec sleep 600" &
spid=$!
sleep 0.3
state="{\"ociVersion\":\"1.0.2\",\"id\":\"dmemtest1\",\"status\":\"created\",\"pid\":$spid,\"bundle\":\"$T/bundle\",\"annotations\":{\"gpu-dma-lock.io/quota\":\"4M\"}}"
echo "$state" | $HOOK --config $T/oci.conf createRuntime >$T/out 2>&1 &&
	ok "OCI hook createRuntime" || { bad "OCI hook createRuntime"; sed 's/^/     | /' $T/out; }
is gdl-ctr-dmemtest1 4194304 "the container's cgroup: dmem.max 4 MiB"
out=$(in_cg gdl-ctr-dmemtest1 3145728 2097152)
check "in the container: 3 MiB, then 2 MiB refused: $(echo $out)" \
	test "$(echo $out)" = "charge 3145728: ok charge 2097152: EAGAIN"
echo "$state" | $HOOK --config $T/oci.conf poststop >$T/out 2>&1 &&
	ok "OCI hook poststop" || { bad "OCI hook poststop"; sed 's/^/     | /' $T/out; }
is gdl-ctr-dmemtest1 max "container stopped: dmem.max back to max"
kill $spid
wait $spid 2>/dev/null

# 10. A Slurm job's shape: the job's cgroup under a slice that has none
# of dmem on, its step below; the plugin's call, gdlock_agent_ensure().
J=gdl-slurm.slice/job_42
mkdir -p $CG/$J/step_0
check "Slurm-shaped: ensure slurm_42, 4 MiB, bound to $J" $LEDGER ensure slurm_42 "$I0" 4194304 $CG/$J
check "+dmem turned on down the slice" grep -qw dmem $CG/gdl-slurm.slice/cgroup.subtree_control
is $J 4194304 "the job's cgroup: dmem.max 4 MiB"
out=$(in_cg $J/step_0 3145728 2097152)
check "in the job's step: 3 MiB, then 2 MiB refused: $(echo $out)" \
	test "$(echo $out)" = "charge 3145728: ok charge 2097152: EAGAIN"
check "retire slurm_42" $LEDGER retire slurm_42
is $J max "job retired: dmem.max back to max"
rmdir $CG/$J/step_0 $CG/$J $CG/gdl-slurm.slice

# 11. The device's region gone (driver unloaded) and back.
mkdir -p $CG/gdl-b
ctl agent create tenant-b && ctl quota set tenant-b "$I0" 4M && ctl agent bind tenant-b --cgroup $CG/gdl-b
is gdl-b 4194304 "tenant-b: 4 MiB"
check "rmmod dmem_standin: the region goes" rmmod dmem_standin
ctl dmem status --json && grep -q '"interposer"' $T/out && ! grep -q '"dmem"' $T/out &&
	ok "no region: both devices interposer" || bad "dmem status without the region"
check "insmod dmem_standin again" insmod "$D/dmem_standin.ko" pci="$PCI0" size=67108864
ctl dmem sync
is gdl-b 4194304 "region back: dmem sync writes tenant-b's line again"

# 12. The admin's override in the policy file: none, a region dmem does
# not list, then the right one again.
echo "dmem $PCI0 none" >$T/pol
ctl apply $T/pol
ctl dmem status --json && grep -q '"why": "override: none"' $T/out && ! grep -q '"dmem"' $T/out &&
	ok "policy 'dmem $PCI0 none': interposer" || { bad "override none"; sed 's/^/     | /' $T/out; }
is gdl-b max "override none: tenant-b's line given back to max"
echo "dmem $PCI0 drm/$PCI0/nosuch" >$T/pol
ctl apply $T/pol
ctl dmem status --json && grep -q 'does not list' $T/out &&
	ok "an override naming no listed region maps nothing" || { bad "override of an unlisted region"; sed 's/^/     | /' $T/out; }
echo "dmem $PCI0 $R" >$T/pol
ctl apply $T/pol
is gdl-b 4194304 "override naming $R: tenant-b's line back"
printf 'dmem %s drm/\001\n' "$PCI0" >$T/pol
check "a dmem statement naming no region is refused" sh -c "! $CTL apply $T/pol >$T/out 2>&1 && grep -q 'is not a dmem region name' $T/out"
ctl agent destroy tenant-b
rmdir $CG/gdl-b
check "rmmod dmem_standin" rmmod dmem_standin
check "rmmod gpu_dma_lock" rmmod gpu_dma_lock
echo "dmem: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]

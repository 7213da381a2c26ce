#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gpu-dma-lock-ctl in a real kernel, run INSIDE the test VM as root (see
# run.sh, which boots it with two edu devices as fake GPUs).
#   vm-ctl.sh MODULE.ko BUILD_DIR
# The guest's / is an overlay whose writes vanish at power-off, so the
# module is "installed" for real: copied to /lib/modules/KVER/updates/,
# depmod, and a modprobe.d file written.  Ends with
# "ctl-vm: N passed, M failed".
set -u
KO=$1
BUILD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# No LD_LIBRARY_PATH: the build tree's ctl finds its library by RUNPATH.
unset LD_LIBRARY_PATH
CTL=$BUILD/utils/gpu-dma-lock-ctl
KVER=$(uname -r)
UPD=/lib/modules/$KVER/updates
T=/tmp/ctl-test
mkdir -p $T
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   ctl: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL ctl: $*"; }

# expect RC DESC CMD...: run CMD, compare its exit status, keep its output
# in $T/out for the greps that follow.
expect() {
	want=$1 desc=$2
	shift 2
	"$@" >$T/out 2>&1
	rc=$?
	if [ $rc -eq "$want" ]; then
		ok "$desc (exit $rc)"
	else
		bad "$desc: exit $rc, wanted $want"
		sed 's/^/     | /' $T/out
	fi
}

# has PATTERN DESC: the last command's output matches.
has() {
	if grep -Eq "$1" $T/out; then ok "$2"; else bad "$2: no /$1/ in:"; sed 's/^/     | /' $T/out; fi
}

param() { cat /sys/module/gpu_dma_lock/parameters/"$1" 2>/dev/null; }

# 1. Absent, and not installed.
sh "$HERE/guest-modtree.sh" && ok "module tree reduced to the kernel's lists" || bad "guest-modtree.sh"
expect 3 "status with the module absent" $CTL status
has "not loaded" "status says not loaded"
has "run gpu-dma-lock-ctl load" "status says what to do"
expect 3 "device list with the module absent" $CTL device list
has "module not loaded: run gpu-dma-lock-ctl load" "commands say to load the module"
expect 3 "load when nothing is installed" $CTL load
has "not installed for kernel" "load says the module is not installed"

# 2. Install it, with fleet options in modprobe.d.
mkdir -p "$UPD" && cp "$KO" "$UPD/" && depmod "$KVER" && ok "installed into $UPD, depmod" || bad "install"
echo "options gpu_dma_lock pci_ids=1234:11e8 default_quota=2M max_agents=64" >/etc/modprobe.d/gpu_dma_lock.conf
expect 3 "status: absent but installed" $CTL status --json
has '"installed": \{' "status --json names the installed file"
expect 0 "load through libkmod" $CTL load
has "pci_ids=1234:11e8" "load reports the modprobe.d options"
[ "$(param default_quota)" = 2097152 ] && ok "modprobe.d default_quota=2M applied" || bad "default_quota=$(param default_quota)"
[ "$(param max_agents)" = 64 ] && ok "modprobe.d max_agents=64 applied" || bad "max_agents=$(param max_agents)"
expect 0 "status when loaded" $CTL status
has "loaded module matches the installed file" "status: matches the installed file"
has "enforcing" "status shows enforcing"
has "max_agents=64" "status lists parameters"
expect 0 "status --json when loaded" $CTL status --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="live" and d["matches_installed"] and d["healthy"] and d["device"]["accessible"], d' $T/out &&
	ok "status --json is JSON and says live, healthy" || bad "status --json content"
expect 0 "load again: already loaded" $CTL load
has "already loaded" "load says already loaded"
expect 1 "load with parameters while loaded" $CTL load enforce=0
expect 2 "load with a malformed option" $CTL load enforce

# 3. Loaded but different from disk: the installed file is rebuilt (a new
#    srcversion, as DKMS does on upgrade) while the old one runs.
python3 - "$UPD/gpu_dma_lock.ko" <<'PY'
import re, sys
p = sys.argv[1]
b = open(p, 'rb').read()
m = re.search(rb'srcversion=([0-9A-F]+)\0', b)
new = bytes(b'0123456789ABCDEF'[(b'0123456789ABCDEF'.index(c) + 1) % 16] for c in m.group(1))
open(p, 'wb').write(b[:m.start(1)] + new + b[m.end(1):])
PY
expect 6 "status when the installed file differs" $CTL status
has "DIFFERS from the installed file" "status says the loaded module differs"
has "unload && gpu-dma-lock-ctl load" "status says how to fix it"
cp "$KO" "$UPD/"
expect 0 "status after restoring the installed file" $CTL status

# 4. Selftest passes, and fails in audit mode.
expect 0 "selftest" $CTL selftest
has "selftest: [0-9]+ steps, 0 failed: passed" "selftest prints its summary"
expect 4 "selftest unprivileged" setpriv --reuid=65534 --regid=65534 --clear-groups $CTL selftest
has "needs root \(CAP_SYS_ADMIN\)" "selftest says it needs root"
expect 0 "unload" $CTL unload
expect 3 "status after unload" $CTL status
expect 3 "unload when not loaded" $CTL unload
expect 0 "load enforce=0 (audit mode)" $CTL load enforce=0
[ "$(param enforce)" = 0 ] && ok "enforce=0 given on the command line won" || bad "enforce=$(param enforce)"
expect 1 "selftest fails in audit mode" $CTL selftest
has "audit mode \(enforce=0\)" "selftest names audit mode as the cause"
has "DMA write to memory it does not own is denied: expected" "selftest sees DMA not denied"
expect 0 "selftest cleaned up after failing" sh -c "! grep -q selftest /proc/gpu_dma_lock/agents"
echo 1 >/sys/module/gpu_dma_lock/parameters/enforce
expect 0 "selftest passes once enforce=1" $CTL selftest

# 5. Management.
expect 0 "device list" $CTL device list
has "0000:00:0[0-9a-f]\.0" "device list shows the edu devices"
expect 0 "device list --json" $CTL device list --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==2 and all(x["source"]=="pci" and x["capacity"] is None for x in d), d' $T/out &&
	ok "device list --json: two PCI devices, capacity unset (null)" || bad "device list --json content"
expect 0 "device set --capacity 64M" $CTL device set 0 --capacity 64M
# A device named by its PCI address as NVML prints it (8-digit domain):
# the interposer always read that spelling; the ctl now reads it with the
# same parser (gdl_parse_pci_addr).
edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] && { edu=${d##*/}; break; }
done
expect 0 "device set by NVML's spelling, 0000$edu" $CTL device set "0000$edu" --capacity 64M
expect 2 "device set by a PCI address with trailing junk" $CTL device set "${edu}x" --capacity 64M
has "no device '${edu}x'" "says which device is missing"
expect 0 "device add" $CTL device add spare --capacity 1G
expect 0 "device set by name" $CTL device set spare --name spare2
expect 0 "device remove by name" $CTL device remove spare2
expect 2 "device set of a missing device" $CTL device set nosuch --capacity 1G
has "no device 'nosuch'" "says which device is missing"
expect 2 "device set with a bad size" $CTL device set 0 --capacity 12X
has "is not a size" "says the size is bad"
expect 0 "agent create" $CTL agent create train
expect 1 "agent create twice" $CTL agent create train
has "EEXIST" "says it exists"
expect 0 "agent create with shares" $CTL agent create capped --max-reservations 2 --max-acl-entries 3
expect 0 "agent limits" $CTL agent limits capped --max-acl-entries 4
expect 1 "agent limits above the pool" $CTL agent limits capped --max-reservations 2000000
has "EINVAL" "says the share is invalid"
expect 2 "agent limits with a bad number" $CTL agent limits capped --max-reservations lots
has "is not a number of reservations" "says the number is bad"
expect 0 "agent destroy capped" $CTL agent destroy capped
expect 0 "quota set with a human size" $CTL quota set train 0 16M
expect 0 "quota set all" $CTL quota set train all 8M
expect 0 "quota set unlimited" $CTL quota set train 1 unlimited
expect 0 "quota get --json" $CTL quota get train --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["quota"]==8<<20 and d[1]["quota"] is None, d' $T/out &&
	ok "quota get --json: 8M and unlimited (null)" || bad "quota get content"
expect 0 "agent bind --pid" $CTL agent bind train --pid $$
expect 0 "agent bind --pid twice (idempotent)" $CTL agent bind train --pid $$
expect 0 "agent unbind --pid" $CTL agent unbind train --pid $$
mkdir -p /sys/fs/cgroup/ctl-train
expect 0 "agent bind --cgroup" $CTL agent bind train --cgroup /sys/fs/cgroup/ctl-train
expect 2 "agent bind a missing cgroup" $CTL agent bind train --cgroup /sys/fs/cgroup/nosuch
expect 0 "agent list --json" $CTL agent list --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(a["name"]=="train" and a["bindings"]==1 for a in d), d' $T/out &&
	ok "agent list --json shows the cgroup binding" || bad "agent list content"
# Who is bound: the cgroup by path, a pid, and that pid once it has exited.
cgid=$(stat -c %i /sys/fs/cgroup/ctl-train)
expect 0 "agent bindings train" $CTL agent bindings train
has "^[0-9]+ +train +cgroup +live +/sys/fs/cgroup/ctl-train \(id $cgid\)$" "agent bindings names the cgroup by path and id"
sleep 60 &
sleeper=$!
expect 0 "agent bind a second process" $CTL agent bind train --pid $sleeper
expect 0 "agent bindings --json" $CTL agent bindings --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=[b for b in d if b["name"]=="train"]; assert len(t)==2 and {"type":"pid","pid":int(sys.argv[2]),"state":"live"}.items() <= t[0].items() and t[1]["cgroup_id"]==int(sys.argv[3]) and t[1]["path"]=="/sys/fs/cgroup/ctl-train", d' $T/out $sleeper $cgid &&
	ok "agent bindings --json: the pid, then the cgroup with its path" || bad "agent bindings --json content"
kill $sleeper
wait $sleeper 2>/dev/null
expect 0 "agent bindings after the process exited" $CTL agent bindings train
has "^[0-9]+ +train +pid +exited +$sleeper$" "an exited process's binding is shown as exited"
expect 0 "agent unbind the exited process" $CTL agent unbind train --pid $sleeper
expect 1 "agent unbind it again" $CTL agent unbind train --pid $sleeper
mkdir -p /sys/fs/cgroup/ctl-gone
expect 0 "agent bind a cgroup that will be removed" $CTL agent bind train --cgroup /sys/fs/cgroup/ctl-gone
goneid=$(stat -c %i /sys/fs/cgroup/ctl-gone)
rmdir /sys/fs/cgroup/ctl-gone
expect 0 "agent bindings after the cgroup was removed" $CTL agent bindings train
has "^[0-9]+ +train +cgroup +removed +- \(id $goneid\)$" "a removed cgroup's binding is shown as removed"
expect 2 "agent unbind a removed cgroup by path" $CTL agent unbind train --cgroup /sys/fs/cgroup/ctl-gone
has "goes by --cgroup-id" "unbinding by path says to use --cgroup-id"
expect 0 "agent unbind --cgroup-id" $CTL agent unbind train --cgroup-id $goneid
expect 1 "agent unbind --cgroup-id again" $CTL agent unbind train --cgroup-id $goneid
expect 2 "agent bind --cgroup-id (unbind only)" $CTL agent bind train --cgroup-id $goneid
expect 2 "agent bindings with two agents" $CTL agent bindings train infer
expect 2 "agent bindings of an unknown agent" $CTL agent bindings nosuch
expect 4 "agent bindings unprivileged" setpriv --reuid=65534 --regid=65534 --clear-groups $CTL agent bindings
grep -q "^agent type target state$" /proc/gpu_dma_lock/bindings && ok "/proc/gpu_dma_lock/bindings has its header" || bad "/proc/gpu_dma_lock/bindings"
expect 0 "acl grant rw range" $CTL acl grant train 0 rw --addr 0x1000 --len 4K
expect 0 "acl grant peer" $CTL acl grant train 0 p --peer 1
expect 0 "acl list --json" $CTL acl list train --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==2 and {"rw","p"}=={e["rights"] for e in d}, d' $T/out &&
	ok "acl list --json has both entries" || bad "acl list content"
expect 0 "acl revoke" $CTL acl revoke train 0 rw --addr 0x1000 --len 4K
expect 1 "acl revoke twice" $CTL acl revoke train 0 rw --addr 0x1000 --len 4K
expect 2 "acl grant p with a range" $CTL acl grant train 0 p --peer 1 --len 4K
expect 4 "agent create unprivileged" setpriv --reuid=65534 --regid=65534 --clear-groups $CTL agent create x
has "needs root \(CAP_SYS_ADMIN\)" "says it needs root"
expect 2 "unknown subcommand" $CTL agent frob
expect 0 "--help of a subcommand" $CTL quota set --help

# 6. watch sees a workload go past its quota (the workload runs in the
#    agent's cgroup, as a container would).
$CTL watch --json --count 1 --timeout 30 >$T/watch 2>&1 &
wpid=$!
# A reader gets the events since it opened the device: wait (10 s at
# most) until the watcher holds it open, not a fixed second.
i=0
# shellcheck disable=SC2010	# the fd links' targets, not file names
until ls -l /proc/$wpid/fd 2>/dev/null | grep -q gpu_dma_lock || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect 1 "workload over quota is refused" sh -c "echo \$\$ >/sys/fs/cgroup/ctl-train/cgroup.procs && exec $CTL reserve 0 6M 4M"
has "reserve 6M on device 0: ok" "the first reservation fits"
has "reserve 4M on device 0: REFUSED: .*EDQUOT" "the second is refused (EDQUOT)"
wait $wpid && ok "watch exited after one event" || bad "watch: exit $?"
grep -q '"type":"quota_exceeded","audit":false,"agent_id":[0-9]*,"agent":"train"' $T/watch &&
	ok "watch --json shows quota_exceeded for train" || { bad "watch output"; cat $T/watch; }

# A killed process's reservations are released.
sh -c "echo \$\$ >/sys/fs/cgroup/ctl-train/cgroup.procs && exec $CTL reserve 0 6M --hold" >$T/hold 2>&1 &
hpid=$!
i=0
while ! grep -q holding $T/hold && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
$CTL quota get train 0 --json >$T/out
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["usage"]==6<<20, d' $T/out && ok "held: usage 6M" || bad "held usage: $(cat $T/out)"
kill -9 $hpid; wait $hpid 2>/dev/null
$CTL quota get train 0 --json >$T/out
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["usage"]==0 and d[0]["denied"]==1, d' $T/out && ok "after SIGKILL: usage 0, denial counted" || bad "after kill: $(cat $T/out)"

# 7. stats: JSON against the schema, Prometheus through a strict parser.
expect 0 "stats (table)" $CTL stats
has "train +0 +8M" "stats table shows train's quota on device 0"
expect 0 "stats --json" $CTL stats --json
cp $T/out $T/stats.json
expect 0 "stats --json validates against docs/stats.schema.json" python3 "$HERE/jsoncheck.py" "$HERE/../../docs/stats.schema.json" $T/stats.json
expect 0 "stats --prometheus" $CTL stats --prometheus
cp $T/out $T/stats.prom
expect 0 "Prometheus text parses strictly" python3 "$HERE/promparse.py" $T/stats.prom
grep -q '^gpu_dma_lock_agent_quota_bytes{agent="train",device="0"} 8388608$' $T/stats.prom &&
	ok "prometheus: train's quota on device 0" || bad "prometheus quota sample"
grep -q '^gpu_dma_lock_agent_denials_total{agent="train",device="0"} 1$' $T/stats.prom &&
	ok "prometheus: train's denial" || bad "prometheus denial sample"
expect 2 "stats --json --prometheus" $CTL stats --json --prometheus
grep -q '^gpu_dma_lock_device_gone{device="1",name="[^"]*"} 0$' $T/stats.prom &&
	ok "prometheus: device 1 is not gone" || bad "prometheus device_gone sample (live)"

# 7b. A device that leaves the PCI bus: stats says so in every format, and
# an admin's watch sees it go and come back.
pci1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][1]["pci"])' $T/stats.json)
$CTL watch --json --count 2 --timeout 60 >$T/watch 2>&1 &
wpid=$!
i=0
# shellcheck disable=SC2010	# the fd links' targets, not file names
until ls -l /proc/$wpid/fd 2>/dev/null | grep -q gpu_dma_lock || [ $i -ge 100 ]; do
	i=$((i + 1)); sleep 0.1
done
echo 1 >/sys/bus/pci/devices/$pci1/remove
expect 0 "stats --prometheus with device 1 gone" $CTL stats --prometheus
cp $T/out $T/gone.prom
expect 0 "Prometheus text with a gone device parses strictly" python3 "$HERE/promparse.py" $T/gone.prom
grep -q '^gpu_dma_lock_device_gone{device="1",name="[^"]*"} 1$' $T/gone.prom &&
	grep -q '^gpu_dma_lock_device_gone{device="0",name="[^"]*"} 0$' $T/gone.prom &&
	ok "prometheus: device 1 gone, device 0 not" || bad "prometheus device_gone samples: $(grep device_gone $T/gone.prom)"
expect 0 "stats --json with device 1 gone" $CTL stats --json
cp $T/out $T/gone.json
expect 0 "stats --json with a gone device validates" python3 "$HERE/jsoncheck.py" "$HERE/../../docs/stats.schema.json" $T/gone.json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"]; assert [x["state"] for x in d[:2]]==["live","gone"], d' $T/gone.json &&
	ok "stats --json: device 1 state gone, device 0 live" || bad "stats --json state: $(cat $T/gone.json)"
expect 0 "stats (table) with device 1 gone" $CTL stats
has "^1 .* gone$" "stats table says device 1 is gone"
echo 1 >/sys/bus/pci/rescan
wait $wpid && ok "watch saw two events" || bad "watch: $(cat $T/watch)"
python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1])]; assert [(x["type"],x["device"],x["agent_id"]) for x in e]==[("device_gone",1,0),("device_back",1,0)], e' $T/watch &&
	ok "watch --json: device_gone then device_back, device 1, no agent" || bad "watch events: $(cat $T/watch)"
expect 0 "stats --json after the rescan" $CTL stats --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"]; assert d[1]["state"]=="live", d' $T/out &&
	ok "stats --json: device 1 live again" || bad "stats after rescan: $(cat $T/out)"

# 8. apply: dry run, apply, idempotent second run.
mkdir -p /sys/fs/cgroup/ctl-infer
cat >$T/policy <<'POL'
# two tenants on two GPUs
device 0 capacity 64M
device 1 capacity 32M
device scratch capacity 16M declare
agent infer max-reservations 0
quota infer all 4M
quota infer 1 8M
bind infer cgroup /sys/fs/cgroup/ctl-infer
acl infer 0 r addr 0x100000 len 1M
peer infer 0 1
agent train max-acl-entries 8
quota train 0 16M
POL
expect 0 "apply --dry-run" $CTL apply $T/policy --dry-run
has "^\+ .*:6: quota infer|^~ .*:6: quota infer" "dry run lists the quota change"
has "^\+ .*agent infer: create" "dry run lists the new agent"
has "would be made; nothing was changed" "dry run says nothing was changed"
expect 0 "agent list after the dry run" $CTL agent list --json
grep -q '"train"' $T/out && ! grep -q '"infer"' $T/out && ok "dry run changed nothing" || bad "dry run created the agent (or the list failed)"
expect 0 "apply" $CTL apply $T/policy
has "^apply: [0-9]+ changes made" "apply counts its changes"
expect 0 "apply again" $CTL apply $T/policy
has "^apply: nothing to change" "second apply changes nothing and says so"
grep -Eq '^[+~]' $T/out && bad "second apply printed changes" || ok "second apply printed no + or ~ lines"
expect 0 "apply --dry-run after apply" $CTL apply $T/policy --dry-run
has "^apply: nothing to change" "dry run after apply: nothing to change"
has "^= .*:8: bind infer to cgroup /sys/fs/cgroup/ctl-infer: already bound" "dry run after apply: the binding is checked, not guessed"
grep -q '^?' $T/out && bad "dry run printed '?' lines" || ok "dry run printed no '?' lines"
mkdir -p /sys/fs/cgroup/ctl-infer2
printf 'agent infer\nbind infer cgroup /sys/fs/cgroup/ctl-infer\nbind infer cgroup /sys/fs/cgroup/ctl-infer2\n' >$T/more
expect 0 "apply --dry-run of one more binding" $CTL apply $T/more --dry-run
has "^\+ .*:3: bind infer to cgroup /sys/fs/cgroup/ctl-infer2$" "dry run: the new binding is a change"
has "^apply --dry-run: 1 change would be made" "dry run: exactly one change"
printf 'agent infer\nbind infer cgroup /sys/fs/cgroup/nosuch\n' >$T/more
expect 1 "apply --dry-run binding a missing cgroup" $CTL apply $T/more --dry-run
has ":2: bind: " "the dry run names the line, as a real run would"
printf 'agent infer\nbind infer cgroup /proc\n' >$T/more
expect 1 "apply --dry-run binding a directory that is no cgroup" $CTL apply $T/more --dry-run
has "not a cgroup v2 directory" "the dry run says it is no cgroup"
# A share of 0 (the module's default) is compared, not set again: a share
# set otherwise is put back once, then nothing changes.
expect 0 "agent limits infer away from the default" $CTL agent limits infer --max-reservations 5
expect 0 "apply puts the default share back" $CTL apply $T/policy
has "^~ .*:5: agent infer: max-reservations 0" "apply says it resets the share"
has "^apply: 1 change made" "exactly that one change"
expect 0 "apply once more" $CTL apply $T/policy
has "^= .*:5: agent infer: exists" "the default share is in force"
has "^apply: nothing to change" "a share of 0 changes nothing the second time"
$CTL quota get infer 1 --json >$T/out
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["quota"]==8<<20, d' $T/out && ok "apply set infer's quota on device 1" || bad "infer quota: $(cat $T/out)"
printf 'agent x\nquota x 0 12Q\n' >$T/bad
printf 'device 0 capacity 0\n' >$T/refused
expect 1 "apply whose first change the kernel refuses" $CTL apply $T/refused
has "stopped at the error above; nothing was changed" "a refused first change is not counted as made"
expect 2 "apply of a bad file" $CTL apply $T/bad
has ":2: quota '12Q' is not a size" "apply names the bad line"

# 8b. gc: what a missed poststop left goes; an agent between its creation
#     and its first binding (createRuntime, a Slurm prolog) stays.
# wait_for TENTHS CMD...: poll CMD every 0.1 s, at most TENTHS times.
wait_for() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
agent_exists() { $CTL agent list 2>/dev/null | grep -q " $1 "; }
mkdir -p /sys/fs/cgroup/ctl-gc-live /sys/fs/cgroup/ctl-gc-gone
$CTL agent create ctr-gcstale >/dev/null && $CTL agent bind ctr-gcstale --cgroup /sys/fs/cgroup/ctl-gc-gone >/dev/null &&
	rmdir /sys/fs/cgroup/ctl-gc-gone && $CTL agent create ctr-gcyoung >/dev/null &&
	ok "gc: a stale agent (its cgroup removed) and a young unbound one" || bad "gc: set-up"
# The default grace (30 s): gc does not destroy at once, it looks again.
# A dry run is stopped there, so the tier does not wait the 30 s.
$CTL gc --dry-run >$T/gc.out 2>&1 &
gcpid=$!
if wait_for 100 grep -q "looking again in 30 s" $T/gc.out; then
	ok "gc, default grace: two unused, it looks again in 30 s"
else
	bad "gc, default grace: no second look announced"; sed 's/^/     | /' $T/gc.out
fi
kill $gcpid 2>/dev/null
wait $gcpid 2>/dev/null
if grep -q "would destroy" $T/gc.out; then bad "gc, default grace: condemned an agent at the first look"; else ok "gc, default grace: condemns nothing at the first look"; fi
# The young agent is bound while gc waits: kept; the stale one goes.
$CTL gc --grace 3 >$T/gc.out 2>&1 &
gcpid=$!
wait_for 100 grep -q "looking again in 3 s" $T/gc.out || bad "gc --grace 3: no second look announced"
$CTL agent bind ctr-gcyoung --cgroup /sys/fs/cgroup/ctl-gc-live >/dev/null || bad "gc: bind ctr-gcyoung"
wait $gcpid
rc=$?
cp $T/gc.out $T/out
[ $rc -eq 0 ] && ok "gc --grace 3 (exit 0)" || bad "gc --grace 3: exit $rc"
has "destroyed ctr-gcstale" "gc destroys the agent whose cgroup is gone"
agent_exists ctr-gcyoung && ok "gc keeps an agent bound within the grace period (createRuntime, prolog)" ||
	{ bad "gc destroyed an agent bound within the grace period"; sed 's/^/     | /' $T/gc.out; }
agent_exists ctr-gcstale && bad "ctr-gcstale still listed" || ok "ctr-gcstale is gone"
# An agent made between the looks, still unbound: too young, kept.
$CTL agent destroy ctr-gcyoung >/dev/null
$CTL agent create ctr-gcold >/dev/null
$CTL gc --grace 2 --verbose >$T/gc.out 2>&1 &
gcpid=$!
wait_for 100 grep -q "looking again in 2 s" $T/gc.out && $CTL agent create ctr-gcnew >/dev/null ||
	bad "gc --grace 2: no second look announced"
wait $gcpid
cp $T/gc.out $T/out
has "destroyed ctr-gcold" "gc --grace 2: unused at both looks, destroyed"
has "kept ctr-gcnew: unused for less than 2 s" "gc --grace 2: one made between the looks is kept, and --verbose says why"
has "1 destroyed, 0 in use, 1 unused for less than 2 s" "gc --grace 2: the summary counts it"
expect 0 "gc --grace 0 --dry-run: one look" $CTL gc --grace 0 --dry-run
has "would destroy ctr-gcnew" "gc --grace 0: an unbound agent is collected at once"
if grep -q "looking again" $T/out; then bad "gc --grace 0 looked twice"; else ok "gc --grace 0 looks once"; fi
expect 2 "gc --grace banana" $CTL gc --grace banana
$CTL agent destroy ctr-gcnew >/dev/null
rmdir /sys/fs/cgroup/ctl-gc-live

# 8c. cdi generate with its default paths on a node without
#     /etc/gpu-dma-lock: the packaged cuda.conf is created, and said so.
rm -rf /etc/gpu-dma-lock /etc/cdi/gpu-dma-lock.json
expect 0 "cdi generate, no /etc/gpu-dma-lock" $CTL cdi generate --hook $BUILD/utils/gpu-dma-lock-oci-hook \
	--interposer $BUILD/utils/libgpudmalock.so.0 --library $BUILD/utils/libgpudmalock.so.0 \
	--preload $BUILD/utils/libgpudmalock.so.0
has "^cdi: /etc/gpu-dma-lock/cuda.conf was missing: created it with the packaged defaults" "cdi generate says it created cuda.conf"
grep -qx 'fail = closed' /etc/gpu-dma-lock/cuda.conf && [ "$(stat -c '%U %a' /etc/gpu-dma-lock/cuda.conf)" = "root 644" ] &&
	ok "/etc/gpu-dma-lock/cuda.conf: root 0644, fail = closed" || bad "/etc/gpu-dma-lock/cuda.conf: $(ls -l /etc/gpu-dma-lock 2>&1)"
grep -q '"hostPath": "/etc/gpu-dma-lock/cuda.conf"' /etc/cdi/gpu-dma-lock.json && ok "the spec in /etc/cdi mounts it" ||
	bad "spec: $(cat /etc/cdi/gpu-dma-lock.json 2>&1)"

# 8d. Issue 22: an importer holds a destroyed exporter's charge.  hx
#     reserves 48M (of 64M) and shares it, hy (quota 0) attaches, hx revokes the
#     grant, hx's process exits, the admin destroys hx.  agent list still
#     shows hx, destroyed, with its usage; holders names hy's process;
#     holders --kill ends it and the device's usage goes back.
$CTL agent create hx >/dev/null && $CTL quota set hx all 1G >/dev/null &&
	$CTL agent create hy >/dev/null && $CTL quota set hy all 0 >/dev/null &&
	ok "holders: agents hx (1G) and hy (quota 0)" || bad "holders: set-up"
used0() { $CTL device list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["used"])'; }
before=$(used0)
expect 0 "holders: hx reserves 48M and shares it, hy attaches, hx exits" \
	env PYTHONPATH="$HERE/../../utils/python" GPUDMALOCK_LIBRARY="$BUILD/utils/libgpudmalock.so.0" \
	python3 "$HERE/holdshared.py" hx hy 48M
ipid=$(sed -n 's/^importer \([0-9]*\)$/\1/p' $T/out)
[ -n "$ipid" ] && kill -0 "$ipid" 2>/dev/null && ok "holders: hy's importer $ipid holds the handle" || bad "holders: no importer running"
hx=$($CTL agent list --json | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin) if a["name"]=="hx"][0])')
expect 0 "holders: destroy hx, whose memory hy still holds" $CTL agent destroy hx
[ "$(used0)" = "$((before + (48 << 20)))" ] && ok "holders: device 0 still has the 48M in use" || bad "holders: device 0 used $(used0)"
expect 0 "holders: agent list" $CTL agent list
has "^$hx +hx +.* 48M +destroyed " "agent list shows hx destroyed, still using 48M"
expect 0 "holders: agent list --json" $CTL agent list --json
python3 -c 'import json,sys; d=[a for a in json.load(open(sys.argv[1])) if a["name"]=="hx"]; assert len(d)==1 and d[0]["state"]=="destroyed" and d[0]["used"]==48<<20 and d[0]["id"]==int(sys.argv[2]), d' $T/out "$hx" &&
	ok "agent list --json: hx, state destroyed, used 48M" || bad "agent list --json: $(cat $T/out)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(a["state"]=="live" for a in d if a["name"]!="hx"), d' $T/out &&
	ok "agent list --json: every other agent live" || bad "agent list --json states"
expect 0 "holders: quota get of the destroyed agent by id" $CTL quota get "$hx" 0 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["usage"]==48<<20 and d[0]["reservations"]==1 and d[0]["destroyed"], d' $T/out &&
	ok "quota get: what destroyed hx still holds on device 0" || bad "quota get of hx: $(cat $T/out)"
expect 0 "holders: the table" $CTL holders
has "^$ipid +[0-9]+ +$hx +hx +destroyed +0 +48M +attached$" "holders names hy's importer, attached to destroyed hx's 48M"
expect 0 "holders --agent hx --json" $CTL holders --agent hx --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [(h["pid"],h["agent"],h["name"],h["state"],h["device"],h["size"],h["kind"]) for h in d]==[(int(sys.argv[2]),int(sys.argv[3]),"hx","destroyed",0,48<<20,"attached")], d' $T/out "$ipid" "$hx" &&
	ok "holders --agent hx --json: that one row" || bad "holders --json: $(cat $T/out)"
expect 2 "holders --kill without --agent is refused" $CTL holders --kill
expect 2 "holders --agent of no agent" $CTL holders --agent no-such-agent
expect 0 "holders --agent hx --kill" $CTL holders --agent hx --kill
has "^pid $ipid \(python3\): killed \(SIGKILL\)$" "holders --kill: one line for the importer's pid"
has "^agent $hx \(hx\): nothing holds its memory any more$" "holders --kill: says the charge is gone"
kill -0 "$ipid" 2>/dev/null && bad "holders --kill: the importer still runs" || ok "holders --kill: the importer is gone"
[ "$(used0)" = "$before" ] && ok "holders: device 0's usage is back to $before" || bad "holders: device 0 used $(used0), wanted $before"
expect 0 "holders: agent list after the kill" $CTL agent list
if grep -q " hx " $T/out; then bad "agent list still shows hx"; sed 's/^/     | /' $T/out; else ok "agent list: hx is gone with its last holder"; fi
expect 0 "holders --agent $hx after the kill: no rows" $CTL holders --agent "$hx"
[ "$(wc -l <$T/out)" = 1 ] && ok "holders: only the header left for hx" || bad "holders rows left: $(cat $T/out)"
$CTL agent destroy hy >/dev/null || bad "holders: destroy hy"

# 8e. A file whose opener has exited (its child kept it): holders shows
#     pid 0, as that number may be another process's by now, and --kill
#     kills nothing for it but says how to find the holder.
$CTL agent create ho >/dev/null && $CTL quota set ho all 1G >/dev/null || bad "holders: create ho"
expect 0 "holders: ho's process reserves 4M, forks and exits" \
	env PYTHONPATH="$HERE/../../utils/python" GPUDMALOCK_LIBRARY="$BUILD/utils/libgpudmalock.so.0" \
	python3 "$HERE/holdshared.py" --orphan ho 4M
opid=$(sed -n 's/^holder \([0-9]*\)$/\1/p' $T/out)
ho=$($CTL agent list --json | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin) if a["name"]=="ho"][0])')
expect 0 "holders --agent ho" $CTL holders --agent ho
has "^0 +[0-9]+ +$ho +ho +live +0 +4M +reserved$" "holders: pid 0 for a file whose opener has exited"
expect 1 "holders --agent ho --kill: no pid it may kill" $CTL holders --agent ho --kill
has "^pid 0: .*not killed \(find the file's holders with 'fuser -v /dev/gpu_dma_lock'\)$" "holders --kill: kills nothing for pid 0, says how to find the holder"
has "^agent $ho: still held after 10 s" "holders --kill: says the charge is still held"
holders_left() { [ "$($CTL holders --agent ho | wc -l)" = 1 ]; }
[ -n "$opid" ] && kill "$opid" && wait_for 100 holders_left && ok "holders: ho's charge goes with the child that kept the file" ||
	bad "holders: ho still held: $($CTL holders --agent ho 2>&1)"
$CTL agent destroy ho >/dev/null || bad "holders: destroy ho"

# 9. Clean up: unload refused while a file is open, then works.
exec 3</dev/gpu_dma_lock
expect 1 "unload while a file is open" $CTL unload
has "in use" "unload says it is in use"
exec 3<&-
$CTL agent destroy train >/dev/null && $CTL agent destroy infer >/dev/null
expect 0 "unload" $CTL unload
rmdir /sys/fs/cgroup/ctl-train /sys/fs/cgroup/ctl-infer /sys/fs/cgroup/ctl-infer2 2>/dev/null

echo "ctl-vm: $pass passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The OCI hook fed what CRI-O (with crun and the systemd cgroup manager)
# gives it, without CRI-O: a pod slice with a crio-<id>.scope and crun's
# "container" leaf, a config.json whose annotations hold the pod's, and
# a state with CRI-O's annotations.  Run by guest.sh in the VM, as root,
# with the module loaded.
#   crio.sh HOOK CTL OCI_CONF
# Ends with "crio-shape: N passed, M failed".
set -u
HOOK=$1
CTL=$2
W=/tmp/gdl-crio
mkdir -p $W
# The tests' rules, and the peer annotation honoured (off by default).
CONF=$W/crio.conf
{ cat "$3"; echo "peer_annotation = allow"; } >$CONF
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   crio-shape: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL crio-shape: $*"; }
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
expect() {
	if echo "$1" | grep -q -- "$2"; then ok "$3"; else bad "$3: got: $1"; fi
}
# The container agents, one name a line; "LIST FAILED" when the ctl
# itself fails, so that no check of "no agent" passes on a broken ctl.
agents() {
	"$CTL" agent list >$W/agents 2>&1 || { echo "LIST FAILED: $(cat $W/agents)"; return; }
	awk '$2 ~ /^ctr-/ { print $2 }' $W/agents
}

ID=8f3c1a2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8
AGENT=$("$HOOK" agent-name $ID)
POD=kubepods-besteffort-pod3f2a9c1e_77b4_4e0e_9f5a_0c1d2e3f4a5b.slice
CG=/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/$POD/crio-$ID.scope
mkdir -p "$CG/container" $W/bundle

# The container's first process, in crun's leaf under the scope.
sleep 600 &
spid=$!
echo $spid >"$CG/container/cgroup.procs"

# What CRI-O writes: Kubernetes' annotations as a JSON map under
# io.kubernetes.cri-o.Annotations, next to its own keys.
kube='{\"gpu-dma-lock.io/quota\":\"3M\",\"gpu-dma-lock.io/peer\":\"0<>1\",\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"}'
annots="{
    \"io.container.manager\": \"cri-o\",
    \"io.kubernetes.container.name\": \"trainer\",
    \"io.kubernetes.cri-o.ContainerType\": \"container\",
    \"io.kubernetes.cri-o.SandboxID\": \"0badc0de00000000000000000000000000000000000000000000000000000000\",
    \"io.kubernetes.pod.name\": \"trainer-0\",
    \"io.kubernetes.pod.namespace\": \"ml\",
    \"io.kubernetes.cri-o.Annotations\": \"$kube\"
  }"
cat >$W/bundle/config.json <<EOF
{
  "ociVersion": "1.0.2-dev",
  "process": { "user": { "uid": 0, "gid": 0 }, "args": ["/train"], "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_KILL"],
      "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_KILL"],
      "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_KILL"]
    } },
  "root": { "path": "/var/lib/containers/storage/overlay/x/merged" },
  "annotations": $annots,
  "linux": {
    "cgroupsPath": "kubepods-besteffort-pod3f2a9c1e_77b4_4e0e_9f5a_0c1d2e3f4a5b.slice:crio:$ID",
    "devices": [ { "path": "/dev/nvidia0", "type": "c", "major": 195, "minor": 0 } ]
  }
}
EOF
state="{\"ociVersion\":\"1.0.2-dev\",\"id\":\"$ID\",\"status\":\"created\",\"pid\":$spid,\"bundle\":\"$W/bundle\",\"annotations\":$annots}"

r=0
err=$(echo "$state" | "$HOOK" --config "$CONF" createRuntime 2>&1) || r=$?
check "createRuntime on a CRI-O state: exit 0 ($err)" test $r = 0
check "agent $AGENT made" test "$(agents)" = "$AGENT"
expect "$("$CTL" agent list)" "$AGENT .*ml/trainer-0/trainer" \
	"agent list: CRI-O's namespace, pod and container (the kubelet's labels) next to the agent"
expect "$("$CTL" agent bindings "$AGENT")" "crio-$ID.scope (id" \
	"bound to the crio-<id>.scope, not crun's container leaf"
q=$(awk -v a=$AGENT '$2 == a && $3 == 0 { print $4 }' /proc/gpu_dma_lock/agents)
check "quota 3M from the pod annotation in io.kubernetes.cri-o.Annotations" test "$q" = 3145728
# acl list: AGENT OWNER DEV RIGHTS PEER ...; peer entries name a PEER.
peers() { "$CTL" acl list "$AGENT" | awk 'NR > 1 && $5 ~ /^[0-9]+$/ { print $3 ">" $5 }' | sort | tr '\n' ' '; }
check "peer=0<>1: peer rights 0>1 and 1>0 granted ($(peers))" test "$(peers)" = "0>1 1>0 "

# A process in the leaf, and one in the scope itself (where an exec may
# land): both are charged to the agent, so 4M is refused.
out=$(sh -c "echo \$\$ >'$CG/container/cgroup.procs' && exec '$CTL' reserve 0 2M 2M" 2>&1)
expect "$out" "reserve 2M on device 0: ok (agent" "a process in the container leaf: first 2M granted"
expect "$out" "REFUSED: .*EDQUOT" "...the next 2M refused (EDQUOT)"
out=$(sh -c "echo \$\$ >'$CG/cgroup.procs' && exec '$CTL' reserve 0 4M" 2>&1)
expect "$out" "REFUSED: .*EDQUOT" "a process in the scope itself: 4M refused"

r=0
echo "$state" | "$HOOK" --config "$CONF" createRuntime || r=$?
check "createRuntime again: exit 0" test $r = 0
check "still one agent" test "$(agents)" = "$AGENT"
check "and the same two peer rights" test "$(peers)" = "0>1 1>0 "

# The same id from a process in another cgroup (one that also names the
# id, as the engine's path would): the agent is bound to a live cgroup
# that is not this one, so it is not adopted, and its quota stays.
CGX=/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/$POD/crio-$ID-x.scope
mkdir -p $CGX $W/bundlex
sleep 600 &
xpid=$!
echo $xpid >"$CGX/cgroup.procs"
sed "s/:crio:$ID\"/:crio:$ID-x\"/" $W/bundle/config.json >$W/bundlex/config.json
xstate="{\"ociVersion\":\"1.0.2\",\"id\":\"$ID\",\"pid\":$xpid,\"bundle\":\"$W/bundlex\",\"annotations\":{\"gpu-dma-lock.io/quota\":\"9M\"}}"
r=0
err=$(echo "$xstate" | "$HOOK" --config "$CONF" createRuntime 2>&1) || r=$?
check "the same agent from another live cgroup: refused" test $r != 0
expect "$err" "bound to another live cgroup" "...with a clear line ($err)"
q=$(awk -v a=$AGENT '$2 == a && $3 == 0 { print $4 }' /proc/gpu_dma_lock/agents)
check "...and the first container's quota is still 3M" test "$q" = 3145728
kill $xpid
wait $xpid 2>/dev/null
rmdir $CGX

kill $spid
wait $spid 2>/dev/null
stopped="{\"ociVersion\":\"1.0.2-dev\",\"id\":\"$ID\",\"status\":\"stopped\",\"bundle\":\"$W/bundle\",\"annotations\":$annots}"
r=0
echo "$stopped" | "$HOOK" poststop || r=$?
check "poststop without a pid: exit 0" test $r = 0
check "the agent is gone" test -z "$(agents)"
check "...and its labels" test -z "$(ls /run/gpu-dma-lock/agents 2>/dev/null)"
r=0
echo "$stopped" | "$HOOK" poststop || r=$?
check "poststop twice: exit 0" test $r = 0
rmdir "$CG/container" "$CG"

# The pod annotation as a plain key (how CRI-O hands pod annotations to
# hooks.d matching), a container id that is no hex: a hashed name.
ID2=k8s_trainer_ml_0
CG2=/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/$POD/crio-$ID2.scope
mkdir -p "$CG2/container" $W/bundle2 $W/bundle3
sed "s/:crio:$ID\"/:crio:$ID2\"/" $W/bundle/config.json >$W/bundle2/config.json
sleep 600 &
spid=$!
echo $spid >"$CG2/container/cgroup.procs"
state2="{\"ociVersion\":\"1.0.2\",\"id\":\"$ID2\",\"pid\":$spid,\"bundle\":\"$W/bundle2\",\"annotations\":{\"gpu-dma-lock.io/quota\":\"0=2M\"}}"
r=0
echo "$state2" | "$HOOK" --config "$CONF" createRuntime || r=$?
check "plain pod annotation, non-hex id: exit 0" test $r = 0
a2=$(agents)
q=$(awk -v a="$a2" '$2 == a && $3 == 0 { print $4 }' /proc/gpu_dma_lock/agents)
check "...agent '$a2' with quota 2M on device 0" test "$q" = 2097152
echo "$state2" | "$HOOK" poststop
check "...retired by the same derived name" test -z "$(agents)"

# A bad peer annotation: refused before anything is made.
bad_state="{\"ociVersion\":\"1.0.2\",\"id\":\"$ID2\",\"pid\":$spid,\"bundle\":\"$W/bundle2\",\"annotations\":{\"gpu-dma-lock.io/quota\":\"1M\",\"gpu-dma-lock.io/peer\":\"0>7\"}}"
r=0
err=$(echo "$bad_state" | "$HOOK" --config "$CONF" createRuntime 2>&1) || r=$?
check "peer=0>7: refused ($err)" test $r != 0
expect "$err" "no device '7'" "...naming the device"
check "...and no agent made" test -z "$(agents)"

# Rootless: the hook as an unprivileged user is refused, and says why.
r=0
err=$(echo "$state2" | setpriv --reuid 65534 --regid 65534 --clear-groups \
	"$HOOK" --config "$CONF" createRuntime 2>&1) || r=$?
check "as an unprivileged user: refused" test $r != 0
expect "$err" "rootless" "...naming rootless engines ($err)"
kill $spid
wait $spid 2>/dev/null
rmdir "$CG2/container" "$CG2"

# No GPU, no annotation: not ours, the module is not even asked.
echo '{"ociVersion":"1.0.2","process":{"args":["/pause"]},"linux":{}}' >$W/bundle3/config.json
state3="{\"ociVersion\":\"1.0.2\",\"id\":\"$ID\",\"pid\":1,\"bundle\":\"$W/bundle3\",\"annotations\":{}}"
r=0
echo "$state3" | "$HOOK" --config "$CONF" createRuntime || r=$?
check "a container without GPU or annotation: exit 0, no agent" \
	test "$r:$(agents)" = "0:"
# CRI-O's infra (pause) container carries the pod's annotations: no GPU,
# so no agent either.
state4="{\"ociVersion\":\"1.0.2\",\"id\":\"$ID\",\"pid\":1,\"bundle\":\"$W/bundle3\",\"annotations\":{\"gpu-dma-lock.io/quota\":\"1M\",\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"}}"
r=0
echo "$state4" | "$HOOK" --config "$CONF" createRuntime || r=$?
check "the pod's infra container (annotated, no GPU): exit 0, no agent" \
	test "$r:$(agents)" = "0:"

echo "crio-shape: $pass passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The containers tier, run INSIDE the test VM (tests/vm/vm-run.sh -e 2) as
# root: the root's real podman, crun and conmon (Debian 12: podman 4.3;
# Debian 13: podman 5.4, crun 1.21) start containers from an
# image imported once (build/containers/image.tar), and the OCI hook and
# the CDI spec make each one an agent of the ledger.  On Debian 13 also
# Docker 26 and containerd 1.7's CRI, with runc (guest-engines.sh).
#   guest.sh MODULE.ko BUILD_DIR [full|core]
# Ends with "containers-suite: N passed, M failed".
set -u

# podman exec joins the container's namespaces, which the kernel refuses
# to a chrooted process: vm-run's init enters the root with chroot, so
# first make it the real root of a private mount namespace (setns into
# our own namespace lands on its root; move the overlay onto it).
if [ -z "${GDL_CTR_ROOTED:-}" ]; then
	export GDL_CTR_ROOTED=1
	exec unshare -m --propagation private nsenter --mount=/proc/self/ns/mnt \
		/bin/sh -c 'cd /newroot && mount --move . / && exec chroot . /bin/sh -c "cd \"\$0\" && exec /bin/sh \"\$@\"" "$0" "$@"' \
		"$PWD" "$0" "$@"
fi

KO=$1
B=$2
SCOPE=${3:-full}	# full, or core: parts 1-5 and 11 only
CTL=$B/utils/gpu-dma-lock-ctl
HOOK=$B/utils/gpu-dma-lock-oci-hook
export LD_LIBRARY_PATH=$B/utils
W=/tmp/gdl-ctr
mkdir -p $W/hooks-none $W/hooks-d $W/hooks-refuse $W/hooks-nopost $W/hooks-strict \
	$W/hooks-nv $W/bin /etc/cdi
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   containers-suite: $*"; }
t0=$(date +%s)
# Seconds since the start, before each part: where the time goes.
part() { echo "---- $(($(date +%s) - t0))s: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL containers-suite: $*"; }
# check DESCRIPTION COMMAND...: ok when it succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

echo "engines: $(podman --version), $(crun --version | head -n 1), $(conmon --version | head -n 1)"
P="podman --root $W/root --runroot $W/run --storage-driver vfs --cgroup-manager cgroupfs --events-backend file"

pci=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		pci=$pci${pci:+,}${d##*/}
done
# Every container: no network, the fake driver told where the GPUs are.
RUN="--network none -e FAKE_CUDA_PCI=$pci"
CDI=gpu-dma-lock.io/agent=default

# The fleet rules the tests run under: default 2M, at most 64M.  The
# hooks.d-only cases give a GPU without the interposer, so these rules
# allow that; strict.conf keeps every other packaged rule (part 12).
cat >$W/oci.conf <<EOF
default_quota = 2M   # containers with a GPU and no annotation
max_quota = 64M
unannotated = default
uninterposed = allow
EOF
printf 'unannotated = refuse\nuninterposed = allow\n' >$W/refuse.conf
printf 'default_quota = 2M\nmax_quota = 64M\n' >$W/strict.conf

# hooks.d files (schema 1.0.0), as the package installs them, but for the
# build tree's hook; one set refuses unannotated GPUs, one has a poststop
# that fails (a missed poststop, for gc).
hooks_json() { # FILE STAGE CONFIG [PATH]
	cat >"$1" <<EOF
{
  "version": "1.0.0",
  "hook": { "path": "${4:-$HOOK}", "args": ["gpu-dma-lock-oci-hook", "--config", "$3", "$2"] },
  "when": { "always": true },
  "stages": ["$2"]
}
EOF
}
hooks_json $W/hooks-d/gdl-create.json createRuntime $W/oci.conf
hooks_json $W/hooks-d/gdl-poststop.json poststop $W/oci.conf
hooks_json $W/hooks-refuse/gdl-create.json createRuntime $W/refuse.conf
hooks_json $W/hooks-nopost/gdl-create.json createRuntime $W/oci.conf
hooks_json $W/hooks-nopost/gdl-poststop.json poststop $W/oci.conf /bin/false
hooks_json $W/hooks-strict/gdl-create.json createRuntime $W/strict.conf
hooks_json $W/hooks-strict/gdl-poststop.json poststop $W/strict.conf
# NVIDIA's legacy runtime hook, as its package registers it (a stand-in
# that does nothing: only its presence in config.json matters here).
printf '#!/bin/sh\nexit 0\n' >$W/bin/nvidia-container-runtime-hook
chmod 755 $W/bin/nvidia-container-runtime-hook
cat >$W/hooks-nv/oci-nvidia-hook.json <<EOF
{
  "version": "1.0.0",
  "hook": { "path": "$W/bin/nvidia-container-runtime-hook", "args": ["nvidia-container-runtime-hook", "prestart"] },
  "when": { "always": true },
  "stages": ["prestart"]
}
EOF

echo /usr/lib/gpu-dma-lock/libgpudmalock-cuda.so >$W/ld.so.preload
printf 'fail = closed\n# the host admin file\n' >$W/cuda.conf
check "cdi generate writes the spec" $CTL cdi generate --output /etc/cdi/gpu-dma-lock.json \
	--hook "$HOOK" --hook-arg --config --hook-arg $W/oci.conf \
	--interposer "$B/cuda/libgpudmalock-cuda.so" \
	--library "$B/utils/libgpudmalock.so.0" --preload $W/ld.so.preload \
	--cuda-conf $W/cuda.conf

# A fake NVIDIA node: the hook decides by the device's path.
mknod -m 666 /dev/nvidia0 c 195 0

if insmod "$KO" pci_ids=1234:11e8; then ok "insmod"; else bad "insmod"; fi
# As the packaged udev rule leaves it: a container user gets in only
# through the CDI spec's fileMode.
chmod 0660 /dev/gpu_dma_lock
# Debian 13's Docker 26 and containerd 1.7 (CRI) with the same CDI spec
# and hook, runc instead of crun, where the root is Debian 13 or later
# (Debian 12's Docker 20.10 and containerd 1.6 have no CDI): the daemons
# start now, in the background, and their cases run after podman's.
engines=
ver=$(sed -n 's/^VERSION_ID="\{0,1\}\([0-9]*\).*/\1/p' /etc/os-release)
if [ "${ver:-0}" -ge 13 ]; then
	# shellcheck source=tests/containers/guest-engines.sh
	. "$(dirname "$0")/guest-engines.sh"
	# shellcheck source=tests/containers/guest-k8s.sh
	. "$(dirname "$0")/guest-k8s.sh"
	engines_start >$W/engines-start.log 2>&1 &
	engines=$!
fi

part import
if $P import "$B/containers/image.tar" gdltest >$W/import.log 2>&1; then
	ok "podman import of the test image"
else
	bad "podman import: $(tail -n 3 $W/import.log)"
	echo "containers-suite: $pass passed, $fail failed"
	exit 1
fi

# agents: the container agents, one a line, or "LIST FAILED" when the
# ctl itself fails (so no "no agent left" check passes on a broken ctl).
agents() {
	$CTL agent list >$W/agents 2>&1 || { echo "LIST FAILED: $(cat $W/agents)"; return; }
	awk '$2 ~ /^ctr-/ { print $2 }' $W/agents
}
has_agent() { agents | grep -qx "$1"; }
ctr_agents() { agents; }
agent_of() { $HOOK agent-name "$1"; }
# usage DEV AGENT: bytes the agent holds on DEV (/proc's agents table).
usage() { awk -v a="$2" -v d="$1" '$2 == a && $3 == d { print $5 }' /proc/gpu_dma_lock/agents; }
quota() { awk -v a="$2" -v d="$1" '$2 == a && $3 == d { print $4 }' /proc/gpu_dma_lock/agents; }
# wait_gone AGENT: poststop runs after podman returns; give it 30 s.
wait_gone() {
	i=0
	while agents | grep -qx -e "$1" -e "LIST FAILED.*" && [ $i -lt 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	! agents | grep -qx -e "$1" -e "LIST FAILED.*"
}
# expect OUTPUT PATTERN DESCRIPTION
expect() {
	if echo "$1" | grep -q -- "$2"; then ok "$3"; else bad "$3: got: $1"; fi
}

# 1. Two containers at once, each held to its own quota, and cuMemGetInfo
#    shows each only its own.  C is the quota test: an unmodified CUDA
#    program, LD_PRELOAD unset, gets four 1 MiB allocations of its 4M and
#    the fifth is CUDA_ERROR_OUT_OF_MEMORY.  CDI only (no hooks.d): the
#    spec brings the hooks.
# Their output goes to files read here: each podman call costs seconds
# under TCG.
part 1
A=$($P run -d $RUN --hooks-dir $W/hooks-none --annotation gpu-dma-lock.io/quota=6M \
	--log-driver k8s-file --log-opt path=$W/A.log \
	--device $CDI gdltest /ctr_cuda 1 2 hold 2>&1 | tail -n 1)
# ';' between entries: podman splits an --annotation value at commas.
C=$($P run -d $RUN --hooks-dir $W/hooks-none --annotation 'gpu-dma-lock.io/quota=0=4M;1=1M' \
	--log-driver k8s-file --log-opt path=$W/C.log \
	--device $CDI gdltest /ctr_cuda 1 10 hold 2>&1 | tail -n 1)
ia=$(agent_of "$A")
ic=$(agent_of "$C")
i=0
while ! { grep -q ctr_cuda $W/A.log && grep -q ctr_cuda $W/C.log; } 2>/dev/null && [ $i -lt 120 ]; do
	sleep 0.5
	i=$((i + 1))
done
expect "$(cat $W/A.log 2>&1)" "preload=unset allocs=2 total_mib=6 free_mib=4 result=limit" \
	"container A (6M) holds 2M and sees total 6M, free 4M"
expect "$(cat $W/C.log 2>&1)" "preload=unset allocs=4 total_mib=4 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
	"container C (0=4M): 4 x 1 MiB, the 5th CUDA_ERROR_OUT_OF_MEMORY, LD_PRELOAD unset; A's usage not in its cuMemGetInfo"
list=$($CTL agent list)
expect "$list" " $ia " "agent list shows A's agent $ia"
expect "$list" " $ic " "agent list shows C's agent $ic"
expect "$($CTL agent bindings "$ia")" "cgroup live *$(echo /sys/fs/cgroup/libpod_parent/libpod-"$A")" \
	"agent bindings: A's agent bound to its cgroup libpod-<id>"
check "usage: A 2M, C 4M on device 0" test "$(usage 0 "$ia"):$(usage 0 "$ic")" = "2097152:4194304"
check "C's per-device quota: 4M on 0, 1M on 1" test "$(quota 0 "$ic"):$(quota 1 "$ic")" = "4194304:1048576"

# 2. podman exec: charged to A's agent (4M left of 6M), as root and as a
#    user; each exec'd process frees its memory when it exits.
part 2
out=$($P exec "$A" /ctr_cuda 1 10 2>&1)
expect "$out" "allocs=4 total_mib=6 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
	"podman exec: charged to the same agent (4 more, then refused)"
out=$($P exec --user 1000 "$A" /ctr_cuda 1 10 2>&1)
expect "$out" "allocs=4 total_mib=6 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
	"podman exec --user 1000: opens the node (CDI fileMode 0666), same agent"
# The image ships a cuda.conf of its author's (fail = open): the host's
# is mounted over it, so a container's author cannot loosen the interposer.
out=$($P exec "$A" cat /etc/gpu-dma-lock/cuda.conf 2>&1)
expect "$out" "the host admin file" \
	"the container sees the host's cuda.conf, not the one its image ships"

# 3. The hook again, twice, with A's real state: nothing changes.
part 3
# Read off the disk: a podman inspect costs seconds under TCG.
bundle=$W/root/vfs-containers/$A/userdata
pid=$(head -n 1 /sys/fs/cgroup/libpod_parent/libpod-$A/cgroup.procs)
[ -f "$bundle/config.json" ] || bad "no bundle at $bundle"
state="{\"ociVersion\":\"1.0.2\",\"id\":\"$A\",\"status\":\"created\",\"pid\":$pid,\"bundle\":\"$bundle\",\"annotations\":{\"gpu-dma-lock.io/quota\":\"6M\"}}"
before=$($CTL agent list; $CTL agent bindings)
r1=0
echo "$state" | $HOOK --config $W/oci.conf createRuntime || r1=$?
echo "$state" | $HOOK --config $W/oci.conf createRuntime || r1=$?
check "createRuntime run twice more: exit 0" test $r1 = 0
check "...and the agents and bindings are unchanged" test "$before" = "$($CTL agent list; $CTL agent bindings)"

# 4. gc keeps what is in use.
part 4
out=$($CTL gc --verbose 2>&1)
expect "$out" "gc: 0 destroyed, 2 in use" "gc keeps the running containers' agents"

# 5. podman kill -s KILL: the agent goes (poststop), usage with it; stop too.
part 5
$P kill -s KILL "$A" >/dev/null 2>&1 &
k1=$!
$P stop -t 1 "$C" >/dev/null 2>&1 &
# Not a bare wait: the engines' start (guest-engines.sh) may be running.
wait $k1 $!
check "after podman kill -s KILL: A's agent is gone" wait_gone "$ia"
check "after podman stop: C's agent is gone" wait_gone "$ic"
check "no ledger usage left" test "$(awk '$2 ~ /^ctr-/ && $5 != 0' /proc/gpu_dma_lock/agents)" = ""
r1=0
echo "{\"ociVersion\":\"1.0.2\",\"id\":\"$A\",\"status\":\"stopped\",\"pid\":0,\"bundle\":\"$bundle\"}" |
	$HOOK poststop || r1=$?
check "poststop once more (pid 0, agent gone): exit 0" test $r1 = 0

# 6-10 exercise the hook's decisions through podman, which do not
# depend on the kernel: only on the newest kernel (run.sh passes "full"),
# to keep the tier to minutes.
if [ "$SCOPE" = full ]; then
# 6. Bad annotations: the container does not start; the hook says why
#    (in the file crun's annotation run.oci.hooks.stderr names: podman
#    4.3 itself shows only "error executing hook ... (exit code: 1)").
part 6
for q in banana 1G; do
	rm -f $W/hook.err
	r1=0
	$P run --rm $RUN --hooks-dir $W/hooks-none --annotation gpu-dma-lock.io/quota=$q \
		--annotation run.oci.hooks.stderr=$W/hook.err \
		--device $CDI gdltest /ctr_cuda 1 1 >$W/out 2>&1 || r1=$?
	check "quota=$q: podman run fails ($(tail -n 1 $W/out))" test $r1 != 0
	check "quota=$q: the workload never ran" test "$(grep -c ctr_cuda: $W/out)" = 0
	cat $W/hook.err 2>/dev/null
	case $q in
	banana) expect "$(cat $W/hook.err 2>/dev/null)" "'banana' is not a size" "quota=banana: one clear line" ;;
	1G) expect "$(cat $W/hook.err 2>/dev/null)" "is over the fleet maximum 64M" "quota=1G: over max_quota, one clear line" ;;
	esac
done
check "no container running, no agent left by refused containers" \
	test "$($P ps -q):$(ctr_agents)" = ":"

# 7. No annotation: the default quota (2M) from oci.conf.
part 7
out=$($P run --rm $RUN --hooks-dir $W/hooks-none --device $CDI gdltest /ctr_cuda 1 10 2>&1)
expect "$out" "allocs=2 total_mib=2 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
	"no annotation: default_quota 2M applies"

# 8. hooks.d alone (no CDI), a GPU node and no annotation, with
#    unannotated = refuse: refused; a container without GPU is left alone.
part 8
r1=0
$P run --rm $RUN --hooks-dir $W/hooks-refuse --annotation run.oci.hooks.stderr=$W/hook.err \
	--device /dev/nvidia0 gdltest true >$W/out 2>&1 || r1=$?
check "unannotated = refuse: a GPU container without annotation is refused" test $r1 != 0
expect "$(cat $W/hook.err 2>/dev/null)" "unannotated = refuse" "...with a clear line"
r1=0
$P run --rm $RUN --hooks-dir $W/hooks-refuse gdltest true >$W/out 2>&1 || r1=$?
check "unannotated = refuse: a container without GPU starts" test $r1 = 0

#    The packaged hooks.d files, where podman 4.3 reads them by default
#    (no --hooks-dir), naming the hook where the package puts it; the
#    admin's oci.conf lets a GPU without the interposer in.
mkdir -p /usr/share/containers/oci/hooks.d /usr/libexec/gpu-dma-lock /etc/gpu-dma-lock
printf 'uninterposed = allow\n' >/etc/gpu-dma-lock/oci.conf
cp "$HOOK" /usr/libexec/gpu-dma-lock/
cp "$(dirname "$0")/../../utils/oci/hooks.d/"*.json /usr/share/containers/oci/hooks.d/
D=$($P run -d $RUN --annotation gpu-dma-lock.io/quota=1M --device /dev/nvidia0 \
	gdltest sleep 600 2>&1 | tail -n 1)
id_=$(agent_of "$D")
check "packaged hooks.d in /usr/share/containers/oci/hooks.d, default hooks dir: agent $id_ made" \
	test "$(quota 0 "$id_")" = 1048576
$P rm -f -t 0 "$D" >/dev/null 2>&1
check "...and retired by its poststop" wait_gone "$id_"
rm -f /usr/share/containers/oci/hooks.d/50-gpu-dma-lock-*.json /etc/gpu-dma-lock/oci.conf

# 9. A missed poststop (it fails here): gc collects the agent.
part 9
M=$($P run -d $RUN --hooks-dir $W/hooks-nopost --annotation gpu-dma-lock.io/quota=1M \
	--device /dev/gpu_dma_lock gdltest sleep 600 2>&1 | tail -n 1)
im=$(agent_of "$M")
check "hooks.d without CDI: agent $im made" test "$(quota 0 "$im")" = 1048576
$P kill -s KILL "$M" >/dev/null 2>&1
$P wait "$M" >/dev/null 2>&1
check "poststop failed: the agent is left behind" has_agent "$im"
# podman wait returns when the container exits; its cgroup goes when
# conmon's "podman container cleanup" has run, seconds later under TCG
# (7.3 with podman 5 lost that race once).  Until then gc rightly keeps
# the agent ("its cgroup exists"): wait up to 30 s for the cgroup.
i=0
while out=$($CTL gc --dry-run --verbose --grace 0) &&
	! echo "$out" | grep -q "would destroy $im" && [ $i -lt 60 ]; do
	sleep 0.5
	i=$((i + 1))
done
expect "$out" "would destroy $im" "gc --dry-run names it once its cgroup is gone"
out=$($CTL gc)
expect "$out" "destroyed $im" "gc destroys it"
check "gc: no container agent left" test -z "$(ctr_agents)"

# 10. Module unloaded: refused, never run unaccounted.
part 10
check "rmmod" rmmod gpu_dma_lock
r1=0
$P run --rm $RUN --hooks-dir $W/hooks-d --annotation gpu-dma-lock.io/quota=4M \
	--annotation run.oci.hooks.stderr=$W/hook.err --device /dev/nvidia0 \
	gdltest /ctr_cuda 1 1 >$W/out 2>&1 || r1=$?
check "module unloaded: the container is refused" test $r1 != 0
expect "$(cat $W/hook.err 2>/dev/null)" "module is not loaded" "...with a clear line"
insmod "$KO" pci_ids=1234:11e8 || bad "insmod again"

# 12. What a tenant controls, through real podman (the packaged rules,
#     strict.conf, but for the sizes): every way a container gets a GPU
#     is seen and, without the interposer, refused with a line naming
#     the way; admin-capable containers refused; a sidecar left alone;
#     two containers fenced to their own GPUs; --cgroups=disabled refused.
part 12
# NVIDIA's /proc as its driver writes it: minor 0 is the first edu
# device, minor 1 the second (a tmpfs over /proc/driver, this guest's).
mknod -m 666 /dev/nvidia1 c 195 1
mkdir -p /proc/driver && mount -t tmpfs gdl-nv /proc/driver || bad "tmpfs on /proc/driver"
m=0
for a in $(echo "$pci" | tr , ' '); do
	mkdir -p /proc/driver/nvidia/gpus/$a
	printf 'Model:\t\tEdu\nGPU UUID:\tGPU-0000000%s\nDevice Minor:\t%s\n' $m $m \
		>/proc/driver/nvidia/gpus/$a/information
	m=$((m + 1))
done
# refused_by WHAT EXPECTED-LINE PODMAN-ARGS...: the container never ran.
refused_by() {
	what=$1
	line=$2
	shift 2
	rm -f $W/hook.err
	r1=0
	$P run --rm $RUN --annotation run.oci.hooks.stderr=$W/hook.err "$@" \
		gdltest /ctr_cuda 1 1 >$W/out 2>&1 || r1=$?
	if [ $r1 != 0 ] && [ "$(grep -c ctr_cuda: $W/out)" = 0 ] &&
	   grep -q -- "$line" $W/hook.err 2>/dev/null; then
		ok "$what: refused ($(head -c 160 $W/hook.err))"
	else
		bad "$what: exit $r1, hook said: $(cat $W/hook.err 2>/dev/null), podman: $(tail -n 2 $W/out)"
	fi
}
S="--hooks-dir $W/hooks-strict --annotation gpu-dma-lock.io/quota=4M"
refused_by "--device /dev/nvidia0 without the interposer" \
	"gets a GPU (device /dev/nvidia0) without the gpu-dma-lock CUDA interposer" $S --device /dev/nvidia0
refused_by "-v /dev/nvidia0 (a bind mount)" "gets a GPU (a bind mount of /dev/nvidia0)" \
	$S -v /dev/nvidia0:/dev/nvidia0
refused_by "--device-cgroup-rule 'c 195:* rw'" "gets a GPU (a device rule allowing major 195)" \
	$S --device-cgroup-rule 'c 195:* rw'
refused_by "-e NVIDIA_VISIBLE_DEVICES=all (NVIDIA's runtime)" "gets a GPU (NVIDIA_VISIBLE_DEVICES=all)" \
	$S -e NVIDIA_VISIBLE_DEVICES=all
refused_by "NVIDIA's prestart hook registered (docker --gpus)" \
	"gets a GPU (NVIDIA's runtime hook" $S --hooks-dir $W/hooks-nv
refused_by "--privileged (CDI, annotated)" "admin_containers = refuse" \
	$S --device $CDI --privileged
refused_by "--cap-add SYS_ADMIN (CDI, annotated)" "admin_containers = refuse" \
	$S --device $CDI --cap-add SYS_ADMIN
refused_by "--cgroups=disabled (CDI, annotated)" "binds a container by its own cgroup v2 group" \
	$S --device $CDI --cgroups=disabled
refused_by "quota=unlimited over max_quota 64M" "over the fleet maximum 64M" \
	--hooks-dir $W/hooks-strict --annotation gpu-dma-lock.io/quota=unlimited --device $CDI
refused_by "the peer annotation (peer_annotation = refuse)" "peer_annotation = refuse" \
	$S --annotation 'gpu-dma-lock.io/peer=0<>1' --device $CDI
check "no agent left by the refused containers" test -z "$(ctr_agents)"
# A sidecar: annotated, no GPU: it runs, and no agent is made.
Sc=$($P run -d $RUN $S gdltest sleep 600 2>&1 | tail -n 1)
check "a sidecar (annotated, no GPU) runs" test "$($P ps -q --no-trunc | grep -c "$Sc")" = 1
check "...with no agent" test -z "$(ctr_agents)"
$P rm -f -t 0 "$Sc" >/dev/null 2>&1
# Fenced: each container's quota on its own GPU, 0 on the other.
X=$($P run -d $RUN $S --device $CDI --device /dev/nvidia0 gdltest sleep 600 2>&1 | tail -n 1)
Y=$($P run -d $RUN $S --device $CDI --device /dev/nvidia1 gdltest sleep 600 2>&1 | tail -n 1)
ix=$(agent_of "$X")
iy=$(agent_of "$Y")
check "X (/dev/nvidia0): 4M on device 0, 0 on device 1" \
	test "$(quota 0 "$ix"):$(quota 1 "$ix")" = "4194304:0"
check "Y (/dev/nvidia1): 0 on device 0, 4M on device 1" \
	test "$(quota 0 "$iy"):$(quota 1 "$iy")" = "0:4194304"
$P rm -f -t 0 "$X" "$Y" >/dev/null 2>&1
check "...both retired" wait_gone "$ix"
check "...both retired" wait_gone "$iy"
umount /proc/driver
rm -f /dev/nvidia1

# A node without /etc/gpu-dma-lock/cuda.conf (only the package installs
# it; this guest's /etc is its own overlay): cdi generate creates it with
# the packaged defaults and says so, and a container given that spec's
# device starts, sees fail = closed, and is held to its quota.
rm -f /etc/gpu-dma-lock/cuda.conf
out=$($CTL cdi generate --output /etc/cdi/gdl-fresh.json --name fresh \
	--hook "$HOOK" --hook-arg --config --hook-arg $W/strict.conf \
	--interposer "$B/cuda/libgpudmalock-cuda.so" \
	--library "$B/utils/libgpudmalock.so.0" --preload $W/ld.so.preload 2>&1)
expect "$out" "/etc/gpu-dma-lock/cuda.conf was missing: created it with the packaged defaults" \
	"cdi generate on a node without cuda.conf: creates it, one line says so"
out=$($P run --rm $RUN --device gpu-dma-lock.io/agent=fresh --annotation gpu-dma-lock.io/quota=2M \
	gdltest sh -c 'grep "^fail" /etc/gpu-dma-lock/cuda.conf; /ctr_cuda 1 10' 2>&1)
expect "$out" "fail = closed" "...a container given that device starts and sees fail = closed"
expect "$out" "allocs=2 total_mib=2 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
	"...and is held to its 2M"
rm -f /etc/cdi/gdl-fresh.json


fi

# 11. CRI-O's shape: a systemd-style pod slice and crio-<id>.scope with
#     crun's "container" leaf, the pod annotation in config.json's
#     annotations and CRI-O's io.kubernetes.cri-o.Annotations map.
part 11
sh "$(dirname "$0")/crio.sh" "$HOOK" "$CTL" $W/oci.conf >$W/crio.out 2>&1
r1=$?
cat $W/crio.out
# crio.sh prints its own ok/FAIL lines and a count line.
c=$(sed -n 's/^crio-shape: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' $W/crio.out)
if [ -n "$c" ]; then
	pass=$((pass + ${c% *}))
	fail=$((fail + ${c#* }))
else
	bad "crio.sh did not finish (rc $r1)"
fi

# 13-15. Debian 13's Docker and containerd (CRI, Kubernetes), started
# during 1-12.
[ -n "$engines" ] && engines_cases "$engines"

part end
live=$(sed -n 's/^live_reservations \([0-9]*\)$/\1/p' /proc/gpu_dma_lock/stats)
check "no live reservations left" test "$live" = 0
cons=$(sed -n 's/^ledger_consistent \([0-9]*\)$/\1/p' /proc/gpu_dma_lock/stats)
check "ledger consistent" test "$cons" = 1
check "rmmod at the end" rmmod gpu_dma_lock

echo "containers-suite: $pass passed, $fail failed"
[ $fail -eq 0 ]

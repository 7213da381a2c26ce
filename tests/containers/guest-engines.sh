# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2154	# guest.sh's variables and helpers
#
# Sourced by guest.sh on a Debian 13 root: the same CDI spec and OCI hook
# under Debian 13's other engines, both over one containerd 1.7 (as
# Debian's docker.service runs dockerd --containerd), runc instead of crun:
#   13. Docker 26 (features.cdi): docker run --device CDI --annotation;
#   14. containerd's CRI plugin (enable_cdi), driven by gdl-cri (cri/) the
#       way the kubelet drives it: a host-network pod with the quota as a
#       pod annotation, its container given the CDI device in CDIDevices;
#   15. Kubernetes (guest-k8s.sh): the device plugin registered with
#       gdl-cri's kubelet stand-in, pods given what Allocate granted.
# Cases: the agent made with the annotated quota and bound to the
# container's cgroup, the quota enforced by the interposer (exec'd
# processes too), the agent retired when the container goes, refusals
# with the hook's line in the engine's error and no agent left.
#
# engines_start (in the background while podman's parts run: under TCG
# the first exec of dockerd and containerd, 150 MB over 9p, takes tens of
# seconds) brings both daemons up and imports the image once, noting
# ok/FAIL lines in $E/start; engines_cases PID waits for it, counts them
# and runs the cases.  Debian 13's docker.io has no docker client (that is
# docker-cli, not in the root): gdl-cri speaks the Engine API for it.

E=$W/engines
CS=$E/containerd.sock
DS=$E/docker.sock
# Copies in the guest's tmpfs, first in the daemons' PATH: gdl-cri runs
# some twenty times, runc and containerd's shim several times for each
# container, and under TCG an exec over 9p costs about a second more than
# one from memory.
G=$E/bin/gdl-cri
DK="$G docker -s $DS"
CR="$G cri -s $CS"

engines_start() {
	mkdir -p $E/bin
	: >$E/start
	note() { echo "$*" >>$E/start; }
	# A second device of the spec's kind whose hook refuses unannotated
	# GPUs; written before the daemons start, so their CDI caches have it.
	$CTL cdi generate --output /etc/cdi/gdl-refuse.json --name refuse \
		--hook "$HOOK" --hook-arg --config --hook-arg $W/refuse.conf \
		--interposer "$B/cuda/libgpudmalock-cuda.so" \
		--library "$B/utils/libgpudmalock.so.0" --preload $W/ld.so.preload \
		--cuda-conf $W/cuda.conf >$E/cdi.out 2>&1 ||
		note "bad cdi generate --name refuse: $(cat $E/cdi.out)"
	cp "$B/containers/gdl-cri" "$(command -v runc)" \
		"$(command -v containerd-shim-runc-v2)" $E/bin/
	k8s_prepare
	# Host-network pods need no CNI; the CRI stream server wants lo.
	ip link set lo up
	# The native snapshotter copies, which for a 4 MB image is cheap and
	# needs nothing from /tmp's tmpfs.  Pod annotations reach the
	# container (and the hook) only as pod_annotations lists them.
	cat >$E/containerd.toml <<EOF2
version = 2
root = "$E/ctrd"
state = "$E/ctrd-state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CS"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/gdltest:latest"
  enable_cdi = true
  cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      pod_annotations = ["gpu-dma-lock.io/*"]
EOF2
	# No network in the guest: no bridge, no iptables, no proxy.
	cat >$E/daemon.json <<EOF2
{
  "data-root": "$E/docker",
  "exec-root": "$E/docker-run",
  "pidfile": "$E/docker.pid",
  "hosts": ["unix://$DS"],
  "containerd": "$CS",
  "storage-driver": "vfs",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false,
  "bridge": "none",
  "userland-proxy": false,
  "features": {"cdi": true},
  "cdi-spec-dirs": ["/etc/cdi"]
}
EOF2
	# up WHAT COMMAND...: wait up to 90 s for COMMAND to succeed.
	up() {
		what=$1
		shift
		i=0
		while ! "$@" >/dev/null 2>&1 && [ $i -lt 180 ]; do
			sleep 0.5
			i=$((i + 1))
		done
		if "$@" >/dev/null 2>&1; then note "ok $what"; else note "bad $what"; return 1; fi
	}
	PATH=$E/bin:$PATH containerd --config $E/containerd.toml >$E/containerd.log 2>&1 &
	echo $! >$E/containerd.pid
	up "containerd 1.7 up (CRI plugin, enable_cdi)" $CR pods || return
	PATH=$E/bin:$PATH dockerd --config-file $E/daemon.json >$E/dockerd.log 2>&1 &
	# The same docker-archive: the CRI's image and its sandbox image.
	if ctr -a $CS -n k8s.io images import --snapshotter native \
		"$B/containers/image-archive.tar" >$E/import.log 2>&1; then
		note "ok ctr -n k8s.io images import of the test image"
	else
		note "bad ctr images import: $(tail -n 3 $E/import.log)"
	fi
	up "dockerd 26 up (vfs, cgroupfs driver, features.cdi, --containerd)" $DK ps || return
	if $DK load "$B/containers/image-archive.tar" >$E/load.log 2>&1; then
		note "ok docker load of the test image"
	else
		note "bad docker load: $(cat $E/load.log)"
	fi
	note "up"
}

# retired LIVE AGENT: the agent, live before (LIVE not empty), is gone.
retired() { [ -n "$1" ] && wait_gone "$2"; }

# wait_log COMMAND...: its output, once it names ctr_cuda (30 s at most).
wait_log() {
	i=0
	while ! "$@" 2>/dev/null | grep -q ctr_cuda: && [ $i -lt 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	"$@" 2>&1
}

# refused ENGINE WHAT LINE COMMAND...: COMMAND (a run or a pod) fails with
# LINE, the hook's, in the engine's error (runc puts a failed hook's
# stderr in its own); what it started when it did not is removed.
refused() {
	eng=$1
	what=$2
	line=$3
	shift 3
	r1=0
	"$@" >$E/out 2>&1 || r1=$?
	if [ $r1 != 0 ] && grep -q -- "$line" $E/out; then
		ok "$eng: $what: refused ($(grep -o 'gpu-dma-lock-oci-hook: .*' $E/out | head -c 160))"
	else
		bad "$eng: $what: exit $r1: $(cat $E/out)"
		[ $r1 = 0 ] && case $eng in
			docker) $DK rm "$(cat $E/out)" ;;
			*) $CR down "$(cut -d' ' -f1 $E/out)" ;;
			esac
	fi
}

engines_cases() {
	wait "$1"
	cat $W/engines-start.log
	echo "engines: $(sed -n 's/.*msg="starting containerd".* version=\([^ ]*\).*/containerd \1/p' $E/containerd.log)," \
		"$(sed -n 's/.*msg="Docker daemon".* version=\([^ ]*\).*/Docker \1/p' $E/dockerd.log | head -n 1)," \
		"$($E/bin/runc --version | head -n 1)"
	part "13: containerd and dockerd up (started during parts 1-12)"
	while read -r r what; do
		case $r in
		ok) ok "$what" ;;
		bad) bad "$what" ;;
		esac
	done <$E/start
	if grep -qx up $E/start; then
		engines_docker
		engines_cri
		engines_k8s
	else
		# Whatever stopped the bring-up (a note above, or none at all):
		# the cases did not run, and that is a failure, never a pass.
		bad "containerd and dockerd did not come up: parts 13 to 15 not run"
		tail -n 5 $E/containerd.log $E/dockerd.log
	fi
	kill "$(cat $E/docker.pid 2>/dev/null)" "$(cat $E/containerd.pid)" 2>/dev/null
	rm -f /etc/cdi/gdl-refuse.json
}

# 13. Docker: docker run --device gpu-dma-lock.io/agent=default
#     --annotation gpu-dma-lock.io/quota=4M.
engines_docker() {
	part "13: Docker"
	D=$($DK run -a gpu-dma-lock.io/quota=4M -e FAKE_CUDA_PCI="$pci" -d $CDI \
		-- /ctr_cuda 1 2 hold 2>$E/run.err)
	[ -n "$D" ] || bad "docker run: $(cat $E/run.err)"
	id=$(agent_of "$D")
	# The json-file log, read where dockerd writes it.
	expect "$(wait_log cat "$E/docker/containers/$D/$D-json.log")" \
		"preload=unset allocs=2 total_mib=4 free_mib=2 result=limit" \
		"docker: the container holds 2M of its 4M, LD_PRELOAD unset"
	check "docker: agent $id with the annotated quota (4M), 2M used" \
		test "$(quota 0 "$id"):$(usage 0 "$id")" = "4194304:2097152"
	expect "$($CTL agent bindings "$id")" "cgroup live */sys/fs/cgroup/docker/$D " \
		"docker: agent bound to the container's cgroup /docker/<id> (cgroupfs driver)"
	out=$($DK exec "$D" -- /ctr_cuda 1 10 2>&1)
	expect "$out" "allocs=2 total_mib=4 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
		"docker exec: charged to the same agent (2 more, then refused)"
	live=$(has_agent "$id" && echo 1)
	$DK rm "$D" || bad "docker rm -f"
	check "docker rm -f: the agent is retired (poststop under runc)" retired "$live" "$id"
	refused docker "quota=1G, over max_quota 64M" "is over the fleet maximum 64M" \
		$DK run -e FAKE_CUDA_PCI="$pci" -a gpu-dma-lock.io/quota=1G -d $CDI -- /ctr_cuda 1 1
	refused docker "--privileged" "admin_containers = refuse" \
		$DK run -e FAKE_CUDA_PCI="$pci" -a gpu-dma-lock.io/quota=4M -d $CDI -privileged -- /ctr_cuda 1 1
	check "docker: no container running, no agent left" test "$($DK ps):$(ctr_agents)" = ":"
}

# 14. containerd's CRI: a pod annotated gpu-dma-lock.io/quota=4M, its
#     container given the CDI device in CRI's CDIDevices (what a device
#     plugin's Allocate answer becomes).
engines_cri() {
	part "14: containerd CRI"
	L=$E/pods
	out=$($CR up k1 -logs $L -a gpu-dma-lock.io/quota=4M -e FAKE_CUDA_PCI="$pci" -d $CDI \
		-- /ctr_cuda 1 10 hold 2>&1)
	P1=${out% *}
	K1=${out#* }
	case $K1 in *[!0-9a-f]* | "") bad "CRI up: $out" ;; esac
	ik=$(agent_of "$K1")
	expect "$(wait_log cat $L/k1/main.log)" \
		"preload=unset allocs=4 total_mib=4 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
		"containerd: the pod's quota (4M) holds the container: 4 x 1 MiB, the 5th CUDA_ERROR_OUT_OF_MEMORY"
	check "containerd: agent $ik with 4M, all used; the pod's sandbox has none" \
		test "$(quota 0 "$ik"):$(usage 0 "$ik"):$(ctr_agents)" = "4194304:4194304:$ik"
	expect "$($CTL agent bindings "$ik")" "cgroup live */sys/fs/cgroup/kubepods/besteffort/poduid-k1/$K1 " \
		"containerd: agent bound to the container's cgroup kubepods/besteffort/pod<uid>/<id>"
	out=$($CR exec "$K1" -- /ctr_cuda 1 1 2>&1)
	expect "$out" "allocs=0 total_mib=4 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
		"CRI ExecSync (kubectl exec): charged to the same, full agent"
	live=$(has_agent "$ik" && echo 1)
	$CR down "$P1" || bad "CRI down $P1"
	check "StopPodSandbox, RemovePodSandbox: the agent is retired" retired "$live" "$ik"
	refused containerd "a privileged pod" "admin_containers = refuse" \
		$CR up kr -logs $L -e FAKE_CUDA_PCI="$pci" -a gpu-dma-lock.io/quota=4M -d $CDI -privileged -- /ctr_cuda 1 1
	refused containerd "no annotation, unannotated = refuse" "unannotated = refuse" \
		$CR up kr -logs $L -e FAKE_CUDA_PCI="$pci" -d gpu-dma-lock.io/agent=refuse -- /ctr_cuda 1 1
	check "containerd: no pod left, no agent left" test "$($CR pods):$(ctr_agents)" = ":"
}

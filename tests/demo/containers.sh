#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo's container part, run INSIDE the VM after guest.sh:
#   containers.sh BUILD_DIR
# podman (Debian 12's, with crun) starts a container with the CDI device
# and a quota annotation; the OCI hook makes its agent, nobody else does.
set -u
BUILD=$1
PATH=$BUILD/utils:$PATH
W=/tmp/demo-ctr
O=$W/out
mkdir -p $W/hooks /etc/cdi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# The demo stops at the first step that does not do what it says.
die() { printf '\n\033[1;31mdemo: FAILED: %s\033[0m\n' "$*"; exit 1; }
# run CMD...: show it and run it; it must succeed.  Its output is in $O.
run() {
	printf '$ %s\n' "$*"
	"$@" >$O 2>&1
	rc=$?
	cat $O
	[ $rc -eq 0 ] || die "'$*' exited $rc"
}
# seen PATTERN WHAT: the last command's output shows WHAT, or the demo stops.
seen() { grep -Eq -- "$1" $O || die "expected $2; the output above does not show it"; }
# Narration that states a result is printed only once it was checked.
told() { printf '(%s)\n' "$*"; }
# poll TENTHS CMD...: CMD until it succeeds, every 0.1 s, at most TENTHS times.
poll() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
has_agent() { gpu-dma-lock-ctl agent list 2>/dev/null | grep -q " $1 "; }
no_agent() { ! has_agent "$1"; }
usage() { gpu-dma-lock-ctl quota get "$1" "$2" --json 2>/dev/null | sed -n 's/.*"usage": *\([0-9]*\).*/\1/p'; }
holds() { [ "$(usage "$1" "$2")" = "$3" ]; }
# podman in a VM without systemd: its state in /tmp, cgroupfs, vfs.
podman() {
	command podman --root $W/root --runroot $W/run --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --hooks-dir $W/hooks "$@"
}

say "Containers: the OCI hook and the CDI spec (docs/fleet.md)"
run gpu-dma-lock-ctl load
echo "The package writes /etc/cdi/gpu-dma-lock.json; here it points at the build tree."
echo "A fresh machine has no /etc/gpu-dma-lock/cuda.conf (the package ships it):"
echo "cdi generate creates it with the packaged defaults, and says so."
echo /usr/lib/gpu-dma-lock/libgpudmalock-cuda.so >$W/ld.so.preload
run gpu-dma-lock-ctl cdi generate --hook "$BUILD/utils/gpu-dma-lock-oci-hook" \
	--interposer "$BUILD/cuda/libgpudmalock-cuda.so" \
	--library "$BUILD/utils/libgpudmalock.so.0" --preload $W/ld.so.preload
seen "^cdi: wrote /etc/cdi/gpu-dma-lock.json" "the spec written"
[ -f /etc/gpu-dma-lock/cuda.conf ] || die "the spec mounts /etc/gpu-dma-lock/cuda.conf, which is missing"
echo "An image with an unmodified CUDA program and the stand-in driver (no interposer in it):"
podman import "$BUILD/containers/image.tar" demo >$O 2>&1 || { cat $O; die "podman import"; }
pci=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		pci=$pci${pci:+,}${d##*/}
done

say "No agent exists for it; the annotation asks for 4M per GPU"
run gpu-dma-lock-ctl agent list
run podman run --rm --network none -e FAKE_CUDA_PCI="$pci" \
	--device gpu-dma-lock.io/agent=default --annotation gpu-dma-lock.io/quota=4M \
	demo /ctr_cuda 1 16
seen "preload=unset allocs=4 total_mib=4 .*result=CUDA_ERROR_OUT_OF_MEMORY" \
	"four 1 MiB allocations, then out of memory, with LD_PRELOAD unset"
told "LD_PRELOAD is unset inside: the CDI spec's read-only /etc/ld.so.preload
 loaded the interposer; the 5th MiB was refused by the kernel ledger"
# poststop runs as the container is cleaned up, maybe after podman returns.
no_ctr_agents() { ! gpu-dma-lock-ctl agent list | grep -q ' ctr-'; }
poll 300 no_ctr_agents || die "the container's agent outlived it"
told "the container has exited, and its agent is gone with it"

say "While a container runs, it is an agent bound to its cgroup"
printf '$ podman run -d ... --annotation gpu-dma-lock.io/quota=3M demo /ctr_cuda 1 2 hold\n'
id=$(podman run -d --network none -e FAKE_CUDA_PCI="$pci" \
	--device gpu-dma-lock.io/agent=default --annotation gpu-dma-lock.io/quota=3M \
	demo /ctr_cuda 1 2 hold) || die "podman run -d"
agent=$(gpu-dma-lock-oci-hook agent-name "$id") || die "agent-name"
# Until it holds its 2 MiB (bounded: a container starts in about 3 s here).
poll 600 holds "$agent" 0 2097152 || die "container $agent never held its 2 MiB"
run gpu-dma-lock-ctl agent list
seen " $agent " "the container's agent $agent"
run gpu-dma-lock-ctl agent bindings "$agent"
seen "cgroup +live .*libpod-$id" "a live binding to the container's cgroup"
run gpu-dma-lock-ctl quota get "$agent" 0
told "$agent: quota 3M, 2M in use, bound to the container's cgroup"

say "podman kill -s KILL: the poststop hook retires the agent"
run podman kill -s KILL "$id"
poll 600 no_agent "$agent" || die "$agent is still there after the container was killed"
run gpu-dma-lock-ctl agent list
told "$agent is gone"
run gpu-dma-lock-ctl gc
seen "gc: 0 destroyed" "nothing left for gc"
podman rm -f "$id" >/dev/null 2>&1
run gpu-dma-lock-ctl unload

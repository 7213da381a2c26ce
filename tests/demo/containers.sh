#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo's container part, run INSIDE the VM after guest.sh:
#   containers.sh BUILD_DIR
# podman (Debian 12's, with crun) starts a container with the CDI device
# and a quota annotation; the OCI hook makes its agent, nobody else does.
set -u
BUILD=$1
export LD_LIBRARY_PATH=$BUILD/utils
PATH=$BUILD/utils:$PATH
W=/tmp/demo-ctr
mkdir -p $W/hooks /etc/cdi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; rc=$?; [ $rc -eq 0 ] || echo "(exit $rc)"; }
# podman in a VM without systemd: its state in /tmp, cgroupfs, vfs.
podman() {
	command podman --root $W/root --runroot $W/run --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --hooks-dir $W/hooks "$@"
}

say "Containers: the OCI hook and the CDI spec (docs/fleet.md)"
run gpu-dma-lock-ctl load
echo "The package writes /etc/cdi/gpu-dma-lock.json; here it points at the build tree:"
echo /usr/lib/gpu-dma-lock/libgpudmalock-cuda.so >$W/ld.so.preload
run gpu-dma-lock-ctl cdi generate --hook "$BUILD/utils/gpu-dma-lock-oci-hook" \
	--interposer "$BUILD/cuda/libgpudmalock-cuda.so" \
	--library "$BUILD/utils/libgpudmalock.so.0" --preload $W/ld.so.preload
echo "An image with an unmodified CUDA program and the stand-in driver (no interposer in it):"
podman import "$BUILD/containers/image.tar" demo >/dev/null || exit 1
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
echo "(LD_PRELOAD is unset inside: the CDI spec's read-only /etc/ld.so.preload"
echo " loaded the interposer; the 5th MiB was refused by the kernel ledger)"

say "While a container runs, it is an agent bound to its cgroup"
id=$(podman run -d --network none -e FAKE_CUDA_PCI="$pci" \
	--device gpu-dma-lock.io/agent=default --annotation gpu-dma-lock.io/quota=3M \
	demo /ctr_cuda 1 2 hold)
sleep 5
run gpu-dma-lock-ctl agent list
run gpu-dma-lock-ctl agent bindings "ctr-$(echo "$id" | cut -c1-12)"
run gpu-dma-lock-ctl quota get "ctr-$(echo "$id" | cut -c1-12)" 0

say "podman kill -s KILL: the poststop hook retires the agent"
podman kill -s KILL "$id" >/dev/null
sleep 3
run gpu-dma-lock-ctl agent list
run gpu-dma-lock-ctl gc
run gpu-dma-lock-ctl unload

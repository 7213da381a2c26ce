#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-modtree.sh: INSIDE the test VM, replace /lib/modules/$(uname -r)
# with a tmpfs holding only the kernel's module lists, so that libkmod and
# modprobe see gpu_dma_lock exactly as a test installs it.  Two reasons:
# depmod over the full 9p-shared tree takes minutes under TCG, and the
# host may have a DKMS-built copy installed that would otherwise answer.
# The guest's already-loaded modules (9p, overlay) are unaffected.
set -eu
kver=$(uname -r)
dir=/lib/modules/$kver
keep=$(mktemp -d)
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -e "$dir/$f" ] && cp "$dir/$f" "$keep/"
done
mount -t tmpfs gdl-modules "$dir"
cp "$keep"/* "$dir/" 2>/dev/null || :
rm -rf "$keep"
depmod "$kver"

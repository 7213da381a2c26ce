#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-debug: the vm and hostile tiers of make check, and the dmem
# tier (tests/dmem/: the ledger programming the dmem cgroup controller,
# which this kernel has and Debian's do not), on a kernel
# built with lockdep (PROVE_LOCKING), KASAN, DEBUG_ATOMIC_SLEEP and
# DEBUG_OBJECTS_RCU_HEAD (tests/debug/mkkernel.sh builds it the first
# time, about 30 minutes on two cores, and caches it).  Each guest's
# kernel log is read by tests/vm/logscan.sh as in make check: a lockdep,
# KASAN, might-sleep or debug-objects report fails the tier.  It is not
# part of make check, which must fit 45 minutes on a fresh 2-core machine
# with the kernel build alone taking 30; run it before every stop and
# give its counts in the closing note (README, Tests).
# Ends like make check: "check-debug: N passed, M failed, K skipped".
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[ "$(id -u)" -eq 0 ] || { echo "check-debug: building and booting the debug kernel needs root"; exit 1; }
kver=$(tests/debug/mkkernel.sh)
echo "check-debug: kernel $kver ($(tests/roots/mkroot.sh --path debugkernel))"
GDL_DEBUG_KERNEL=1 exec tests/check.sh vm hostile dmem

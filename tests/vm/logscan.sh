#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# logscan.sh [GREP-OPTION...] FILE...: the kernel-log scan of
# tests/vm/vm-run.sh.  Prints every line of a guest's kernel log that is a
# finding and exits 0 when there is one, 1 when there is none (grep's
# options: -q prints nothing, -B/-A add context).
#
# What the guests can report: oopses, BUG:/WARNING:, hung tasks, RCU
# stalls and panics from any kernel; the memory checkers vm-run.sh boots
# with (slub_debug: "BUG kmalloc-64 (Tainted: ...): Poison overwritten",
# "Redzone overwritten", "Object already free", ...; KFENCE: "BUG: KFENCE:
# use-after-free read in ..."; page poisoning: "pagealloc: memory
# corruption").  The lockdep, KASAN, UBSAN, sleep-in-atomic and
# debug-objects (ODEBUG) lines are for make check-debug's kernel
# (tests/debug/): Debian's stock kernels have none of those detectors.
# tests/vm/memcheck.sh shows this scan catches a planted use-after-free.
set -u
opts=()
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
	opts+=("$1")
	shift
done
pat='Oops|BUG:|WARNING:|Call Trace|general protection|kernel BUG|Kernel panic'
pat="$pat|INFO: task .* blocked|RCU stall|rcu_sched self-detected stall|self-detected stall"
pat="$pat|BUG [a-zA-Z0-9_:().-]+ \\(|Poison overwritten|Redzone overwritten|Object already free"
pat="$pat|Freepointer corrupt|Padding overwritten|KFENCE: |pagealloc: (memory corruption|single bit error)"
# Lockdep's reports (each also says "WARNING:"), and the line it prints
# once a report or a taint has turned it off.  Not "lockdep" alone: a
# lockdep kernel says "RCU lockdep checking is enabled" at every boot.
pat="$pat|possible recursive locking|circular locking|inconsistent lock state"
pat="$pat|lock inversion|suspicious RCU usage|bad unlock balance|held lock freed"
pat="$pat|lockdep is turned off|ODEBUG:"
pat="$pat|sleeping function called from invalid context|KASAN|UBSAN"
grep -E "${opts[@]}" -e "$pat" -- "$@"

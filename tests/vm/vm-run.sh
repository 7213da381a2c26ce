#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh [-k KVER] [-r ROOT] [-c CPUS] [-m MEM_MB] [-e N_EDU] [-t TIMEOUT_S]
#           [-a "kernel args"] [-q "qemu args"] [-i] [-v] -- 'shell command'
#
# Run a shell command as root inside a QEMU (TCG) guest booting the host's
# installed Debian kernel KVER (default: the newest from kernels.sh).  The
# guest's root is the host's root, shared read-only over 9p with a tmpfs
# overlay on top (writes are discarded), so host binaries, the repo and
# /lib/modules are all there; the command runs in the caller's $PWD.  A
# kernel from a test root (tests/roots/, Debian 13's 7.3) boots that root
# instead, with this clone shared at its own path, read-only with a tmpfs
# overlay like the root: the same view the host's kernels give.
# -r ROOT boots KVER with ROOT as the guest's root instead of the one
# kernels.sh --root names: a modified copy or overlay of a test root (the
# pkg tier's Debian 13 root with its packages installed), which must hold
# /boot/vmlinuz-KVER and its modules; it is shared like a test root, and
# its initramfs is cached apart from the cached root's.
# N_EDU QEMU "edu" PCI devices (1234:11e8) stand in for GPUs.
# -q adds QEMU arguments (split on blanks, so no argument may contain one)
# after the harness's own: another machine type ("-machine q35": the
# default is QEMU's pc, which has no PCI Express) and devices, such as an
# SR-IOV capable NVMe controller (tests/vm/sriov.sh).
#
# -i boots with "-icount shift=0,align=off,sleep=off": the guest's clock
# then counts the instructions it executed (one per ns), not host time, so
# a guest-side clock_gettime gives the same figure on a loaded host as on
# an idle one (make bench's instruction tables, docs/performance.md).
# icount rules out multi-threaded TCG: the vCPUs take turns on one host
# thread.  Without -i (the default) the guest's clock is the host's.
#
# Exit status is non-zero when the command fails, the VM crashes or times
# out, the guest kernel log shows an oops/BUG/WARNING, a memory checker's
# report (slub_debug, KFENCE, page poisoning), or the kernel is tainted by
# anything but O (out-of-tree) and E (unsigned).
#
# Memory checkers: every guest boots with those its stock kernel has
# (/boot/config-KVER): slub_debug=FZP, page_poison=1, KFENCE sampling
# where built in; GDL_VM_MEMCHECK=0 boots without them (a reduced run,
# which make check refuses unless told).  GDL_VM_SLUB_DEBUG=FZPU adds
# slub's alloc/free stack traces when a report needs them.
#
# The per-run directory (build/vm/run.*) holds cmd.sh, cwd, output, rc,
# dmesg, tainted and console.log; it is removed on success unless
# GDL_VM_KEEP=1 or the guest had to be booted again (see below): a
# retried run's first try stays there, as *.try1.  -v also streams the
# guest console to stdout.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vmdir=${GDL_BUILD_DIR:-$root/build}/vm

usage() {
	sed -n '4,5s/^# //p' "$0" >&2
	exit 2
}

kver=
groot=
cpus=2
mem=1024
nedu=0
tmo=600
extra=
verbose=0
icount=()
qargs=()
while getopts k:r:c:m:e:t:a:q:ivh opt; do
	case $opt in
	k) kver=$OPTARG ;;
	r) groot=$OPTARG ;;
	c) cpus=$OPTARG ;;
	m) mem=$OPTARG ;;
	e) nedu=$OPTARG ;;
	t) tmo=$OPTARG ;;
	a) extra=$OPTARG ;;
	q) read -ra words <<<"$OPTARG"; qargs+=("${words[@]}") ;;
	i) icount=(-icount "shift=0,align=off,sleep=off") ;;
	v) verbose=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
cmd=$*

if [ -z "$kver" ]; then
	kver=$("$here/kernels.sh" | tail -n 1)
	[ -n "$kver" ] || { echo "vm-run: no usable kernel (see kernels.sh)" >&2; exit 2; }
fi
# The guest's root: the host's, or the test root KVER comes from
# (kernels.sh --root; Debian 13 for 7.3), or the one -r gave.
initrd=$vmdir/initramfs-$kver.cpio.gz
if [ -z "$groot" ]; then
	groot=$("$here/kernels.sh" --root "$kver") || exit 2
else
	[ -d "$groot" ] || { echo "vm-run: -r $groot: no such directory" >&2; exit 2; }
	groot=$(cd "$groot" && pwd)
	# Its own initramfs: the cached one follows the cached root's modules.dep.
	initrd=$vmdir/initramfs-$kver-r$(printf '%s' "$groot" | sha256sum | cut -c1-8).cpio.gz
fi
kimg=${groot%/}/boot/vmlinuz-$kver
[ -r "$kimg" ] || { echo "vm-run: cannot read $kimg" >&2; exit 2; }

mkdir -p "$vmdir"
"$here/mkinitramfs.sh" "$kver" "$initrd" "$groot"

run=$(mktemp -d "$vmdir/run.XXXXXX")
chmod 755 "$run"
printf '%s\n' "$cmd" >"$run/cmd.sh"
pwd >"$run/cwd"

# A test root lacks this clone: share it (and a build directory outside
# it) at the same path, so the command's paths mean the same files.  The
# guest's init mounts each "TAG PATH" line of $run/mounts.
shares=()
: >"$run/mounts"
if [ "$groot" != / ]; then
	n=0
	for d in "$root" ${GDL_BUILD_DIR:+"$GDL_BUILD_DIR"}; do
		case $d/ in "$root"/?*) continue ;; esac
		n=$((n + 1))
		shares+=(-virtfs "local,path=$d,mount_tag=gdlsrc$n,security_model=none,readonly=on,multidevs=remap")
		printf 'gdlsrc%d %s\n' "$n" "$d" >>"$run/mounts"
	done
	inside=0
	case $PWD/ in "$root"/*) inside=1 ;; esac
	if [ -n "${GDL_BUILD_DIR:-}" ]; then
		case $PWD/ in "$GDL_BUILD_DIR"/*) inside=1 ;; esac
	fi
	if [ $inside = 0 ]; then
		echo "vm-run: $kver boots root $groot, which lacks $PWD: run from inside $root" >&2
		rm -rf "$run"
		exit 2
	fi
fi

edu=()
for ((i = 0; i < nedu; i++)); do
	edu+=(-device edu)
done
if [ "$verbose" = 1 ]; then
	serial=(-chardev "stdio,id=ser0,signal=off,logfile=$run/console.log"
		-serial chardev:ser0)
else
	serial=(-serial "file:$run/console.log")
fi

# The memory checkers the kernel has (all three Debian kernels here have
# SLUB_DEBUG and PAGE_POISONING; 6.12 has KFENCE, off by default; none has
# KASAN, lockdep or DEBUG_ATOMIC_SLEEP).  F: consistency checks on every
# free, Z: red zones, P: poison freed objects (a write after free is found
# when the object is handed out again, or when the guest's init validates
# every cache before it saves the log).  U (who allocated and freed each
# object) is left out by default: it finds nothing more, only says more,
# and its stack walk on every slab operation doubled the hostile tier
# (6.12: 229 s guest time with FZPU, 116 s with FZP, same seed and
# load); GDL_VM_SLUB_DEBUG=FZPU reproduces a report with it.
# init_on_free=1 is not asked for: with page_poison=1 both kernels ignore
# it ("CONFIG_PAGE_POISONING is on, will take precedence").
memcheck=
if [ "${GDL_VM_MEMCHECK:-1}" != 0 ]; then
	cfg=${groot%/}/boot/config-$kver
	[ -r "$cfg" ] || { echo "vm-run: cannot read $cfg: which memory checkers $kver has is unknown" >&2; exit 2; }
	grep -q '^CONFIG_SLUB_DEBUG=y' "$cfg" && memcheck="$memcheck slub_debug=${GDL_VM_SLUB_DEBUG:-FZP}"
	grep -q '^CONFIG_PAGE_POISONING=y' "$cfg" && memcheck="$memcheck page_poison=1"
	grep -q '^CONFIG_KFENCE=y' "$cfg" &&
		memcheck="$memcheck kfence.sample_interval=${GDL_VM_KFENCE_MS:-10}"
fi
# They slow a TCG guest down (the vm suite: about 1.5 times as long on
# 6.12, measured under the same load; tests/vm/README.md): the timeout
# the caller gave is for a guest without them, and doubles with them.
tmo_note=
if [ -n "$memcheck" ]; then
	tmo=$((tmo * 2))
	tmo_note=", doubled for the memory checkers"
fi
# make check-debug's kernel (tests/debug/: lockdep, KASAN): an oops there
# panics at once (a recursive fault could otherwise leave the guest hung
# until the timeout), KASAN reports every finding, not the first alone,
# and the detectors slow every lock and memory access, so the timeout
# grows threefold more.
if grep -q '^CONFIG_KASAN=y' "${groot%/}/boot/config-$kver" 2>/dev/null ||
   grep -q '^CONFIG_PROVE_LOCKING=y' "${groot%/}/boot/config-$kver" 2>/dev/null; then
	extra="oops=panic $extra"
	# KASAN reports only its first finding unless told otherwise.
	grep -q '^CONFIG_KASAN=y' "${groot%/}/boot/config-$kver" &&
		extra="kasan_multi_shot $extra"
	tmo=$((tmo * 3))
	tmo_note="$tmo_note, tripled for the debug kernel"
fi
# Lockdep stops at its first report, and at a taint that makes it
# unreliable, with no word when that report was not its own: a run it
# slept through would look clean.  So a lockdep guest says so in its log
# when lockdep is off at the end of the command (a finding for the scan),
# and the command's status is kept.
if grep -q '^CONFIG_PROVE_LOCKING=y' "${groot%/}/boot/config-$kver" 2>/dev/null; then
	# shellcheck disable=SC2016	# the guest's shell expands them
	printf '%s\n' 'gdl_rc=$?' \
		'grep -Eq "debug_locks: +1$" /proc/lockdep_stats ||' \
		'	echo "INFO: lockdep is turned off at the end of the command" >/dev/kmsg' \
		'exit $gdl_rc' >>"$run/cmd.sh"
fi

# quiet: only errors and worse reach the (slow, emulated) serial console;
# the full log is saved from dmesg.  panic=-1 reboots at once on a panic
# and -no-reboot turns that reboot into qemu exiting: a crash costs
# seconds, not the timeout.  multidevs=remap: / spans several host
# filesystems, whose inode numbers would otherwise collide in the guest.
start=$(date +%s)
boot() {
	qrc=0
	timeout -k 10 "$tmo" qemu-system-x86_64 \
		-accel tcg "${icount[@]}" -nographic -no-reboot -nic none -monitor none \
		-smp "$cpus" -m "$mem" \
		-kernel "$kimg" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet$memcheck $extra" \
		-virtfs "local,path=$groot,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$run,mount_tag=gdlrun,security_model=none" "${shares[@]}" \
		"${serial[@]}" "${edu[@]}" "${qargs[@]}" </dev/null || qrc=$?
}
boot
# Under TCG, Debian's kernels now and then die of an int3 while they
# patch their own text: during SMP bring-up, or later when a static key
# flips (on the first cgroup podman or slurmd makes, say): "Oops: int3"
# at a kernel address where no breakpoint is pending.  Our module patches
# no text and sets no breakpoint.  So a panic that did not let the command
# finish is retried, once, in a fresh guest (the guest writes nothing but
# $run), only when it is that flake and nothing of ours is in it:
#  - before the command started: any panic, as nothing of ours ran yet;
#  - after: an int3 oops ("Oops: int3: 0000 [#1]" on 6.12, "int3: 0000
#    [#1]" on 6.1), and nothing in the whole console log (every
#    oops, every trace, whatever panicked after it) names our module or
#    its code: gpu_dma_lock, gpu-dma-lock, a gdl_ function, gdlock.
#    An oop's "Modules linked in:" line is not read: it lists what is
#    loaded, not where the fault is, and names our module whenever a
#    kernel tier has it loaded (7.3 died of the flake in crng_make_state,
#    under a plain mmap, one hostile run in three here).  An oops in our
#    code still names it: its RIP and its trace's frames are ours.
# QEMU itself crashing (SIGSEGV, SIGBUS, SIGABRT, SIGILL or SIGFPE: QEMU
# 7.2's TCG once died of a general protection fault at "Booting from
# ROM", 4 s into a boot) is retried the same way when the command did not
# finish and nothing in the log names our module: a guest cannot crash
# its emulator short of a QEMU bug.  A timeout (124, 137) or a SIGTERM
# is not retried.
# The failed try's files stay in $run as *.try1, the run dir is kept, and
# the retry is said ("vm-run: RETRY", which the tiers count) and added to
# $GDL_VM_RETRY_LOG (make check's per-tier count, default
# build/vm/retries.log).  Any other crash stays a failure.
ours='gpu_dma_lock|gpu-dma-lock|gdlock|(^|[^a-z0-9_])gdl_'
retried=
retry_ledger=${GDL_VM_RETRY_LOG:-$vmdir/retries.log}
if [ ! -s "$run/rc" ] &&
   ! cat "$run/console.log" "$run/output" "$run/dmesg" 2>/dev/null |
	grep -v 'Modules linked in:' | grep -Eq "$ours"; then
	if grep -q 'Kernel panic' "$run/console.log" 2>/dev/null; then
		if [ ! -e "$run/started" ]; then
			retried="the guest kernel panicked while booting, before the command started"
		elif grep -Eq 'int3: [0-9a-f]+ \[#[0-9]+\]' "$run/console.log"; then
			retried="the guest kernel died of an int3 oops, and nothing in its log names our module (TCG text-patching flake)"
		fi
	else
		case $qrc in
		132 | 134 | 135 | 136 | 139)
			retried="qemu itself died of signal $((qrc - 128)) (rc=$qrc), and nothing in the guest's log names our module" ;;
		esac
	fi
fi
if [ -n "$retried" ]; then
	echo "vm-run: RETRY $kver: $retried; running the command again in a fresh guest (first try kept: $run/*.try1)"
	grep -m 3 -E 'Oops|RIP:' "$run/console.log" | sed 's/^/vm-run:   /'
	for f in console.log output rc started dmesg tainted; do
		[ -e "$run/$f" ] && mv "$run/$f" "$run/$f.try1"
	done
	printf '%s %s %s: %s\n' "$(date -u +%FT%TZ)" "$kver" "$run" "$retried" >>"$retry_ledger"
	boot
fi
secs=$(($(date +%s) - start))

[ -f "$run/output" ] && cat "$run/output"

fail=()
if [ ! -s "$run/rc" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		fail+=("VM timed out after ${tmo}s$tmo_note")
	elif grep -q 'Kernel panic' "$run/console.log" 2>/dev/null; then
		fail+=("guest kernel panicked (qemu rc=$qrc)")
	else
		fail+=("VM stopped before the command finished (qemu rc=$qrc)")
	fi
	echo "vm-run: ----- last lines of the guest console -----"
	# SeaBIOS's terminal escapes clutter the log.
	tail -n 40 "$run/console.log" 2>/dev/null |
		sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' || :
	echo "vm-run: -----"
else
	rc=$(cat "$run/rc")
	[ "$rc" = 0 ] || fail+=("command rc=$rc")
fi

# A saved dmesg is the full log; without it (crash), the console has what
# was printed at error level and above, which covers oopses and panics.
log=$run/dmesg
[ -s "$log" ] || log=$run/console.log
# The scan (what it looks for, and why): logscan.sh.
if [ -f "$log" ] && "$here/logscan.sh" -q "$log"; then
	fail+=("kernel log has findings")
	# Print them unless the console tail above already did.
	if [ "$log" = "$run/dmesg" ]; then
		echo "vm-run: ----- kernel log findings (${log##*/}) -----"
		"$here/logscan.sh" -B3 -A12 "$log" | head -n 200
		echo "vm-run: -----"
	fi
fi

# Allowed taint: O (bit 12, out-of-tree module), E (bit 13, unsigned).
if [ -s "$run/tainted" ]; then
	taint=$(cat "$run/tainted")
	bad=$((taint & ~(4096 | 8192)))
	if [ "$bad" != 0 ]; then
		letters=PFSRMBUDAWCIOELKXTNJ
		flags=
		for ((b = 0; b < ${#letters}; b++)); do
			((bad & (1 << b))) && flags=$flags${letters:b:1}
		done
		fail+=("kernel tainted=$taint (bad flags: ${flags:-?})")
	fi
fi

if [ ${#fail[@]} -eq 0 ]; then
	echo "vm-run: $kver: command rc=0, kernel log clean (${secs}s)"
	if [ "${GDL_VM_KEEP:-0}" = 1 ] || [ -n "$retried" ]; then
		echo "vm-run: kept $run"
	else
		rm -rf "$run"
	fi
	exit 0
fi
msg=$(printf '%s; ' "${fail[@]}")
echo "vm-run: $kver: FAILED: ${msg%; } (${secs}s); run dir kept: $run"
exit 1

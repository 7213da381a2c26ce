#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh [-k KVER] [-c CPUS] [-m MEM_MB] [-e N_EDU] [-t TIMEOUT_S]
#           [-a "kernel args"] [-v] -- 'shell command'
#
# Run a shell command as root inside a QEMU (TCG) guest booting the host's
# installed Debian kernel KVER (default: the newest from kernels.sh).  The
# guest's root is the host's root, shared read-only over 9p with a tmpfs
# overlay on top (writes are discarded), so host binaries, the repo and
# /lib/modules are all there; the command runs in the caller's $PWD.
# N_EDU QEMU "edu" PCI devices (1234:11e8) stand in for GPUs.
#
# Exit status is non-zero when the command fails, the VM crashes or times
# out, the guest kernel log shows an oops/BUG/WARNING/lockdep splat, or the
# kernel is tainted by anything but O (out-of-tree) and E (unsigned).
#
# The per-run directory (build/vm/run.*) holds cmd.sh, cwd, output, rc,
# dmesg, tainted and console.log; it is removed on success unless
# GDL_VM_KEEP=1.  -v also streams the guest console to stdout.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vmdir=${GDL_BUILD_DIR:-$root/build}/vm

usage() {
	sed -n '4,5s/^# //p' "$0" >&2
	exit 2
}

kver=
cpus=2
mem=1024
nedu=0
tmo=600
extra=
verbose=0
while getopts k:c:m:e:t:a:vh opt; do
	case $opt in
	k) kver=$OPTARG ;;
	c) cpus=$OPTARG ;;
	m) mem=$OPTARG ;;
	e) nedu=$OPTARG ;;
	t) tmo=$OPTARG ;;
	a) extra=$OPTARG ;;
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
[ -r "/boot/vmlinuz-$kver" ] || { echo "vm-run: cannot read /boot/vmlinuz-$kver" >&2; exit 2; }

mkdir -p "$vmdir"
initrd=$vmdir/initramfs-$kver.cpio.gz
"$here/mkinitramfs.sh" "$kver" "$initrd"

run=$(mktemp -d "$vmdir/run.XXXXXX")
chmod 755 "$run"
printf '%s\n' "$cmd" >"$run/cmd.sh"
pwd >"$run/cwd"

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

# quiet: only errors and worse reach the (slow, emulated) serial console;
# the full log is saved from dmesg.  panic=-1 reboots at once on a panic
# and -no-reboot turns that reboot into qemu exiting: a crash costs
# seconds, not the timeout.  multidevs=remap: / spans several host
# filesystems, whose inode numbers would otherwise collide in the guest.
start=$(date +%s)
boot() {
	qrc=0
	timeout -k 10 "$tmo" qemu-system-x86_64 \
		-accel tcg -nographic -no-reboot -nic none -monitor none \
		-smp "$cpus" -m "$mem" \
		-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet $extra" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$run,mount_tag=gdlrun,security_model=none" \
		"${serial[@]}" "${edu[@]}" </dev/null || qrc=$?
}
boot
# Under TCG, Debian's 6.12 kernel now and then dies of an int3 while it
# patches its own text during SMP bring-up.  A panic before the command
# started, with nothing of ours loaded, is that: boot once more, and say
# so.  A crash once the command runs is never retried.
if [ ! -e "$run/started" ] && grep -q 'Kernel panic' "$run/console.log" 2>/dev/null &&
   ! grep -q 'gpu_dma_lock' "$run/console.log"; then
	echo "vm-run: $kver: the guest kernel panicked while booting, before the command started; booting again"
	grep -m 3 -E 'Oops|RIP:' "$run/console.log" | sed 's/^/vm-run:   /'
	mv "$run/console.log" "$run/console-boot1.log"
	boot
fi
# The same TCG flake also strikes later, when the guest patches its text
# while it runs (a static key flipped on the first cgroup podman or
# slurmd makes, say): "Oops: int3" at a kernel address where no
# breakpoint is pending.  Our module patches no text and sets no
# breakpoint, so an int3 oops whose trace names nothing of ours is that
# flake: run the whole command again, once, in a fresh guest (the guest
# writes nothing but $run), and say so.  Any other crash stays a failure.
int3_flake() {
	awk '/Oops: int3/ { on = 1 } on && /\[gpu_dma_lock\]/ { ours = 1 }
	     on && /end trace/ { exit } END { exit !(on && !ours) }' "$run/console.log" 2>/dev/null
}
if [ ! -s "$run/rc" ] && grep -q 'Kernel panic' "$run/console.log" 2>/dev/null && int3_flake; then
	echo "vm-run: $kver: the guest kernel died of an int3 oops outside our module (TCG text-patching flake); running the command again in a fresh guest"
	grep -m 3 -E 'Oops|RIP:' "$run/console.log" | sed 's/^/vm-run:   /'
	mv "$run/console.log" "$run/console-int3.log"
	rm -f "$run/output" "$run/rc" "$run/started" "$run/dmesg" "$run/tainted"
	boot
fi
secs=$(($(date +%s) - start))

[ -f "$run/output" ] && cat "$run/output"

fail=()
if [ ! -s "$run/rc" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		fail+=("VM timed out after ${tmo}s")
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
pat='Oops|BUG:|WARNING:|Call Trace|general protection|lockdep'
pat="$pat|possible recursive locking|circular locking|INFO: task .* blocked"
pat="$pat|sleeping function called from invalid context|KASAN|UBSAN"
pat="$pat|kernel BUG|RCU stall|rcu_sched self-detected stall|self-detected stall"
pat="$pat|Kernel panic"
if [ -f "$log" ] && grep -Eq "$pat" "$log"; then
	fail+=("kernel log has findings")
fi
# Print them unless the console tail above already did.
if [ -f "$log" ] && [ "$log" = "$run/dmesg" ] && grep -Eq "$pat" "$log"; then
	echo "vm-run: ----- kernel log findings (${log##*/}) -----"
	grep -E -B 3 -A 12 "$pat" "$log" | head -n 200
	echo "vm-run: -----"
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
	if [ "${GDL_VM_KEEP:-0}" = 1 ]; then
		echo "vm-run: kept $run"
	else
		rm -rf "$run"
	fi
	exit 0
fi
msg=$(printf '%s; ' "${fail[@]}")
echo "vm-run: $kver: FAILED: ${msg%; } (${secs}s); run dir kept: $run"
exit 1

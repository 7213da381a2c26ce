#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hostile-conditions suites, run INSIDE the test VM as root
# (tests/hostile/run.sh boots it with -e 2 -c 2):
#   guest.sh MODULE.ko BINDIR FUZZ_CALLS SEED [SUITES]
# SUITES (default all): fresh badinput limits priv noisy storm race hotplug
# fuzz params lifecycle.  For each suite one line
#   hsuite NAME CASES FAILED IOCTLS KILLED FINDINGS SECS
# (IOCTLS: calls fuzzed; KILLED: processes SIGKILLed; FINDINGS: new
# oops/BUG/WARNING/lockdep lines in the kernel log during the suite).
set -u
KO=$1
BIN=$2
FUZZ_CALLS=$3
SEED=$4
SUITES=${5:-"fresh badinput limits priv noisy storm race hotplug fuzz params lifecycle"}
HERE=$(dirname "$0")
H=$BIN/hostile
PAT='Oops|BUG:|WARNING:|Call Trace|general protection|lockdep|possible recursive locking|circular locking|INFO: task .* blocked|sleeping function called from invalid context|KASAN|UBSAN|kernel BUG|RCU stall|self-detected stall|Kernel panic'
LOAD="pci_ids=1234:11e8"
: "${STORM_PROCS:=1000}" "${STORM_BATCH:=50}" "${RACE_SECS:=8}"
: "${LIFECYCLE_CYCLES:=100}" "${SEED_CALLS:=20000}" "${NOISY_SECS:=4}"
: "${HOTPLUG_SECS:=3}"

# Loads and unloads are dominated by RCU grace periods under TCG (about
# 1 s each): the suites that load many times expedite them (a run-time
# switch; the other suites run with normal grace periods).  The module is
# loaded from tmpfs without its debug info (the guest reads / over 9p).
strip --strip-debug -o /tmp/gpu_dma_lock.ko "$KO" 2>/dev/null && KO=/tmp/gpu_dma_lock.ko
expedite() { [ -w /sys/kernel/rcu_expedited ] && echo "$1" >/sys/kernel/rcu_expedited; }

findings() { dmesg | grep -Ec "$PAT"; }
# The log is marked, never cleared: findings are counted over all of it,
# and the harness reads it whole at power-off.
mark=0
log_mark() { mark=$((mark + 1)); echo "gdl-hostile-mark $mark" >/dev/kmsg; }
log_since_mark() { dmesg | sed -n "/gdl-hostile-mark $mark\$/,\$p" | sed 1d; }
now() { date +%s; }

# Run "$@", parse its closing "hostile-X: P passed, F failed" line.
cases=0 failed=0 ioctls=0 killed=0
run_h() {
	out=$("$@" 2>&1)
	rc=$?
	echo "$out" | grep -E '^(FAIL|storm:|race:|fuzz:)' | head -n 40
	line=$(echo "$out" | sed -n 's/^hostile-[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $*: no result line (rc=$rc)"
		echo "$out" | tail -n 5
		cases=$((cases + 1)); failed=$((failed + 1))
		return
	fi
	set -- $line
	cases=$((cases + $1 + $2))
	failed=$((failed + $2))
	[ $rc -eq 0 ] || [ "$2" -gt 0 ] || { failed=$((failed + 1)); cases=$((cases + 1)); }
	k=$(echo "$out" | sed -n 's/.* killed=\([0-9]*\).*/\1/p' | tail -n 1)
	killed=$((killed + ${k:-0}))
}

# One case run by the shell itself.
sh_case() {
	cases=$((cases + 1))
	if [ "$1" = 0 ]; then
		[ -n "${VERBOSE:-}" ] && echo "ok   $2"
	else
		failed=$((failed + 1)); echo "FAIL $SUITE: $2"
	fi
}

load() { insmod "$KO" "$@"; }
unload() { rmmod gpu_dma_lock; }

begin() {
	SUITE=$1 cases=0 failed=0 ioctls=0 killed=0
	f0=$(findings) t0=$(now)
}
end() {
	f=$(($(findings) - f0))
	[ $f -eq 0 ] || { failed=$((failed + 1)); cases=$((cases + 1));
		echo "FAIL $SUITE: $f kernel log findings:"; dmesg | grep -E "$PAT" | tail -n 5; }
	grep -q '^gpu_dma_lock ' /proc/modules && { unload 2>/dev/null ||
		{ failed=$((failed + 1)); echo "FAIL $SUITE: module would not unload"; }; }
	echo "hsuite $SUITE $cases $failed $ioctls $killed $f $(($(now) - t0))"
}

for s in $SUITES; do
case $s in
fresh|badinput|priv|storm|race)
	begin "$s"
	if load $LOAD; then
		case $s in
		storm) run_h "$H" storm "$STORM_PROCS" "$STORM_BATCH" ;;
		race) run_h "$H" race "$RACE_SECS" ;;
		*) run_h "$H" "$s" ;;
		esac
		run_h "$H" check 1
		unload; sh_case $? "rmmod after $s"
	else
		sh_case 1 "insmod"
	fi
	end
	;;
limits)
	begin limits
	if load $LOAD max_agents=2 max_reservations=2 max_acl_entries=2 \
		max_reservations_per_agent=1 max_acl_entries_per_agent=1; then
		run_h "$H" limits
		unload; sh_case $? "rmmod after limits"
	else
		sh_case 1 "insmod with small limits"
	fi
	end
	;;
noisy)
	# Pools of 16384: each agent's default share is 1024 (a sixteenth).
	begin noisy
	if load $LOAD max_reservations=16384 max_acl_entries=16384; then
		run_h "$BIN/noisy" "$NOISY_SECS"
		echo "$out" | grep '^noisy:'	# the figures
		run_h "$H" check 1
		unload; sh_case $? "rmmod after noisy"
	else
		sh_case 1 "insmod for noisy"
	fi
	end
	;;
hotplug)
	# PCI hot-plug under load: remove/rescan an edu device through sysfs.
	begin hotplug
	if load $LOAD; then
		run_h "$BIN/hotplug" "$HOTPLUG_SECS"
		echo "$out" | grep '^hotplug:'	# the figures
		run_h "$H" check 1
		unload; sh_case $? "rmmod after hotplug"
	else
		sh_case 1 "insmod for hotplug"
	fi
	end
	;;
fuzz)
	begin fuzz
	# Every recorded seed first (regressions), then today's seed.
	seeds=$(sed 's/#.*//' "$HERE/seeds.txt" | tr -s ' \t' '\n\n' | grep -v '^$')
	for sd in $seeds "$SEED"; do
		calls=$SEED_CALLS
		[ "$sd" = "$SEED" ] && calls=$FUZZ_CALLS
		if ! load $LOAD default_policy=default default_quota=64M; then
			sh_case 1 "insmod for fuzz seed $sd"; continue
		fi
		out=$("$BIN/fuzz" -s "$sd" -n "$calls" -p 3 -t 2 -u 1 2>&1)
		rc=$?
		echo "$out" | grep -E '^FAIL' | head -n 20
		echo "$out" | grep -E '^fuzz: seed=.*calls=.*secs'
		n=$(echo "$out" | sed -n 's/^fuzz: seed=[^ ]* calls=\([0-9]*\) secs.*/\1/p')
		ioctls=$((ioctls + ${n:-0}))
		sh_case $rc "fuzz seed $sd: no undocumented errno, invariants hold after"
		# Unload cleanly, reload: a fresh ledger.
		unload; sh_case $? "rmmod after fuzz seed $sd"
		if load $LOAD; then
			run_h "$H" fresh
			unload; sh_case $? "rmmod after the fresh check"
		else
			sh_case 1 "reload after fuzz seed $sd"
		fi
	done
	end
	;;
params)
	# suite.sh covers the obvious ones; these are the edges.
	begin params
	expedite 1
	for p in default_quota=-1 default_quota=1.5G default_quota= \
		 default_quota=17179869184G default_quota=unlimitedX \
		 default_policy= default_policy=allow \
		 max_agents=65535 max_agents=-1 max_agents=4294967296 \
		 max_reservations=67108865 \
		 max_acl_entries=0 max_acl_entries=67108865 \
		 max_reservations_per_agent=-1 max_acl_entries_per_agent=67108865 \
		 enforce=maybe enforce= \
		 pci_ids=10de: pci_ids=:10de pci_ids=12345 \
		 pci_ids=10de:1234:5 pci_ids=10de,1002,1234,1235,1236,1237,1238,1239,123a,123b,123c,123d,123e,123f,1240,1241,1242 \
		 pci_ids=10de1002100010001000100010001000100010001000100010001000100010001000100010001000100010001000100010001000100010001000100010001000; do
		name=${p%%=*}
		log_mark
		if load "$p" 2>/dev/null; then
			sh_case 1 "insmod $p was accepted ($(cat /sys/module/gpu_dma_lock/parameters/$name 2>/dev/null))"
			unload
		elif log_since_mark | grep -q "gpu_dma_lock: $name: '"; then
			# the module's own line: the kernel's "invalid for
			# parameter `NAME'" comes whatever the module says
			sh_case 0 "insmod $p refused with the module's message naming $name"
		else
			sh_case 1 "insmod $p refused without the module's message naming $name"
		fi
	done
	# The boundaries themselves are accepted (pci_ids= : manual devices only).
	for p in max_agents=65534 max_reservations=67108864 \
		 default_quota=16T enforce=0 pci_ids=; do
		if load "$p"; then sh_case 0 "insmod $p"; unload; else sh_case 1 "insmod $p refused"; fi
	done
	expedite 0
	end
	;;
lifecycle)
	begin lifecycle
	expedite 1
	i=0 bad=0
	while [ $i -lt "$LIFECYCLE_CYCLES" ]; do
		load $LOAD || { bad=1; break; }
		if [ $((i % 10)) = 0 ]; then
			# Fresh after reload, unload refused while open.
			"$H" fresh >/dev/null 2>&1 || { bad=2; break; }
			exec 3</dev/gpu_dma_lock
			rmmod gpu_dma_lock 2>/dev/null && { bad=3; break; }
			exec 3<&-
		fi
		"$H" traffic >/dev/null 2>&1 || { bad=4; break; }
		unload || { bad=5; break; }
		i=$((i + 1))
	done
	sh_case $bad "$i/$LIFECYCLE_CYCLES load/traffic/unload cycles (fail code $bad)"
	if load $LOAD; then
		run_h "$H" fresh
		run_h "$H" check 1
	else
		sh_case 1 "reload after the cycles"
	fi
	expedite 0
	end
	;;
*)
	echo "FAIL unknown suite $s"
	echo "hsuite $s 1 1 0 0 0 0"	# counted, so a typo cannot pass
	;;
esac
done
echo "hostile-guest: done"

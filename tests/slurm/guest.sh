#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Slurm tier, run INSIDE the test VM (tests/vm/vm-run.sh -e 2) as root:
# one Slurm bring-up (slurm-up.sh) shared by every case, the plugin
# loaded from the build tree, jobs running an unmodified CUDA program
# (cudaprog) under the interposer on the fake libcuda.
#   guest.sh MODULE.ko BUILD_DIR [OTHER_PLUGIN]
# OTHER_PLUGIN: the plugin built against another Slurm release (the
# Debian 13 root's guest gets Debian 12's): this Slurm must refuse it.
# Ends with "slurm-suite: N passed, M failed".
set -u
KO=$1
B=$2
OTHER=${3:-}
CP=$B/slurm/cudaprog
CTL=$B/utils/gpu-dma-lock-ctl
W=/tmp/slurm-suite
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   slurm-suite: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL slurm-suite: $*"; }
check() { # check DESC COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
finish() {
	if [ $fail -ne 0 ]; then
		echo "----- slurmd.log"
		tail -n 60 /var/log/slurm/slurmd.log
		echo "----- slurmctld.log"
		tail -n 30 /var/log/slurm/slurmctld.log
	fi
	echo "slurm-suite: $pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
}

# field AGENT DEVICE COLUMN: quota (4), usage (5) of AGENT on DEVICE.
field() {
	awk -v a="$1" -v d="$2" -v c="$3" '$2 == a && $3 == d { print $c }' \
		/proc/gpu_dma_lock/agents
}
agents() { awk '$2 ~ /^slurm-/ { print $2 }' /proc/gpu_dma_lock/agents | sort -u; }
# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	t=$(($1 * 5))
	shift
	while [ $t -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		t=$((t - 1))
	done
	return 1
}
# wait_secs SECONDS COMMAND...: poll until COMMAND succeeds, for at most
# SECONDS of wall-clock time (wait_for counts polls, so slow commands
# stretch it).
wait_secs() {
	end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt $end ] || return 1
		sleep 0.2
	done
}
no_agent() { ! grep -q " $1 " /proc/gpu_dma_lock/agents; }
no_slurm_agents() { [ -z "$(agents)" ]; }
job_gone() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
has() { grep -q -- "$2" "$1" 2>/dev/null; }
t0=$(date +%s)
case_start() { echo "== $* (at $(($(date +%s) - t0))s)"; }
# refused RC OUTPUT TEXT: the command failed and said TEXT.
refused() { [ "$1" -ne 0 ] && printf '%s\n' "$2" | grep -q -- "$3"; }
says() { printf '%s\n' "$1" | grep -q -- "$2"; }
once() { [ "$(printf '%s\n' "$1" | grep -c -- "$2")" = 1 ]; }
MiB=1048576
# The node must never be drained by what a user did.  not_drained
# checks sinfo's and scontrol's state of the node; when it is drained it
# says why (slurmctld's Reason), then resumes it so later cases run.
node_state() { scontrol show node "$SLURM_NODE" | sed -n 's/.* State=\([^ ]*\).*/\1/p'; }
not_drained() {
	st=$(node_state)
	ti=$(sinfo -h -n "$SLURM_NODE" -o %T)
	case "$st $ti" in
	*DRAIN*|*DOWN*|*FAIL*|*drain*|*drng*|*down*|*fail*)
		scontrol show node "$SLURM_NODE" | grep -E 'State=|Reason='
		scontrol update NodeName="$SLURM_NODE" State=RESUME
		return 1 ;;
	esac
	echo "node $SLURM_NODE: State=$st, sinfo: $ti"
}
# job_state JOB: COMPLETED, FAILED... (slurmctld keeps ended jobs a while)
job_state() { scontrol show job -o "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

mkdir -p $W
insmod "$KO" pci_ids=1234:11e8 || { bad "insmod"; finish; }
# The edu devices in PCI order are the fake driver's CUDA devices 0, 1
# and the ledger's devices 0, 1.  gpus= maps them the other way round
# (Slurm GPU 0 is the second), so fencing can only pass by PCI address.
pci=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		pci=$pci${pci:+,}${d##*/}
done
pci0=${pci%%,*}
pci1=${pci#*,}
export FAKE_CUDA_PCI="$pci" LD_LIBRARY_PATH="$B/cuda/fake"
PRE=$B/cuda/libgpudmalock-cuda.so
PLUG="required $B/slurm/gpu_dma_lock.so gpus=$pci1,$pci0 preload=$PRE"

. tests/slurm/slurm-up.sh
slurm_plugstack "$PLUG default=8M max=64M"
if slurm_up; then ok "Slurm up (slurmctld, slurmd, munge)"; else bad "Slurm up"; finish; fi

case_start "srun --gpu-mem=4M, as an unprivileged user"
# 1. Quota enforced: four 1 MiB allocations, the fifth refused, in a job
# of user nobody.  As packaged, /dev/gpu_dma_lock is root:gpu-dma-lock
# 0660 (udev rule): the user's tasks reach it through the group, and all
# the plugin does runs as root in the prolog and slurmstepd.
groupadd -f gpu-dma-lock && usermod -a -G gpu-dma-lock nobody &&
	chgrp gpu-dma-lock /dev/gpu_dma_lock && chmod 0660 /dev/gpu_dma_lock
out=$(cd /tmp && su -s /bin/sh nobody -c "srun --gres=gpu:2 --gpu-mem=4M $CP 0 1 10" 2>&1)
echo "$out"
check "nobody's srun --gres=gpu:2 --gpu-mem=4M: 4 x 1 MiB, then out of memory" \
	test "$out" = "cudaprog: dev 0: 4 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY"
check "srun job's agent retired after it ended" wait_for 30 no_slurm_agents
# Nothing below can pass once the node is drained.
[ $fail -eq 0 ] || finish

case_start "sbatch, two steps"
# 2. Lifecycle and steps sharing one quota: an sbatch job whose first
# step holds 3 MiB while a second step gets the last 1 MiB.
cat >$W/steps.sh <<JOB
#!/bin/sh
srun --overlap $CP 0 1 3 $W/steps.release >$W/step1.out 2>&1 &
while ! grep -q ok $W/step1.out 2>/dev/null; do sleep 0.2; done
srun --overlap $CP 0 1 10 >$W/step2.out 2>&1
wait
JOB
jid=$(sbatch --parsable --gres=gpu:2 --gpu-mem=4M -o $W/steps.log $W/steps.sh)
a=slurm-$jid
check "sbatch job $jid: second step done" wait_for 60 has $W/step2.out ok
cat $W/step1.out $W/step2.out
check "step 1 got its 3 MiB" has $W/step1.out "3 x 1 MiB ok, then done"
check "step 2 got only the 1 MiB left of the job's 4 MiB" \
	has $W/step2.out "1 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY"
check "agent $a has quota 4M on device 0" test "$(field $a 0 4)" = $((4 * MiB))
check "agent $a uses 3M while step 1 holds it" test "$(field $a 0 5)" = $((3 * MiB))
"$CTL" agent bindings "$a" | tee $W/bind.txt
check "agent $a is bound to the job's cgroup" has $W/bind.txt "/job_$jid"
touch $W/steps.release
check "job $jid ended" wait_for 60 job_gone "$jid"
check "agent $a retired after the job ended" wait_for 30 no_agent "$a"
cat $W/steps.log

# 3. Two jobs at once, each held to its own quota; one is scancelled,
# then slurmd is killed and restarted while the other runs: the restarted
# slurmd's epilog still retires its agent.  Neither has GRES GPUs: under
# nogres=all each gets its quota on every GPU (by default it gets 0).
case_start "two jobs, scancel, slurmd restart (nogres=all)"
slurm_plugstack "$PLUG default=8M max=64M nogres=all"
cat >$W/hold.sh <<'JOB'
#!/bin/sh
srun "$@"
JOB
j2=$(sbatch --parsable --gpu-mem=2M -o $W/j2.log $W/hold.sh $CP 0 1 10 $W/j2.release)
j3=$(sbatch --parsable --gpu-mem=3M -o $W/j3.log $W/hold.sh $CP 0 1 10 $W/j3.release)
check "two jobs running" wait_for 60 sh -c "grep -qs ok $W/j2.log && grep -qs ok $W/j3.log"
cat $W/j2.log $W/j3.log
check "job $j2 (--gpu-mem=2M) got 2 MiB" has $W/j2.log "2 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY"
check "job $j3 (--gpu-mem=3M) got 3 MiB at the same time" has $W/j3.log "3 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY"
check "usage 2M and 3M on device 0" test "$(field slurm-$j2 0 5) $(field slurm-$j3 0 5)" = "$((2 * MiB)) $((3 * MiB))"
scancel "$j2"
check "scancelled job $j2 ended" wait_for 60 job_gone "$j2"
check "scancelled job's agent retired" wait_for 30 no_agent "slurm-$j2"
check "the other job's agent is still there" test "$(field slurm-$j3 0 5)" = $((3 * MiB))
# slurmd is down when no slurmd process is left and the node's slurmd
# does not answer (scontrol show slurmd asks the local slurmd itself;
# slurmctld would go on reporting the node allocated until SlurmdTimeout).
slurmd_answers() { scontrol show slurmd >/dev/null 2>&1; }
slurmd_down() { ! pgrep -x slurmd >/dev/null && ! slurmd_answers; }
# slurmd is up again when it answers and slurmctld has the node up (not
# DOWN, not NOT_RESPONDING: a registered slurmd).
slurmd_up() {
	slurmd_answers || return 1
	case "$(node_state)" in
	''|*DOWN*|*NOT_RESPONDING*|*FAIL*|*UNKNOWN*) return 1 ;;
	esac
}
pkill -9 -x slurmd
check "slurmd killed: no slurmd left, none answering" wait_secs 10 slurmd_down
check "job $j3's agent kept while slurmd is down" test "$(field slurm-$j3 0 5)" = $((3 * MiB))
check "slurmd restarted (its start exited 0)" slurmd
rs=$(date +%s)
if wait_secs 30 slurmd_up; then r=ok; else r=bad; fi
$r "the restarted slurmd answers and its node is up (State=$(node_state), after $(($(date +%s) - rs))s)"
touch $W/j3.release
check "job $j3 ended" wait_for 60 job_gone "$j3"
check "agent retired by the restarted slurmd's epilog" wait_for 30 no_agent "slurm-$j3"
slurm_plugstack "$PLUG default=8M max=64M"

# 4. Fencing, and default=: a job given one GPU through GRES, without
# --gpu-mem, gets default=8M there and cannot allocate on the other.
case_start "GRES fencing, default="
out=$(srun --gres=gpu:1 sh -c "$CP 0 1 10; $CP 1 1 10" 2>&1)
echo "$out"
check "no --gpu-mem: default=8M on GRES GPU 0 (PCI $pci1, CUDA device 1)" \
	says "$out" 'dev 1: 8 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
check "refused on the GPU it was not given (CUDA device 0)" \
	says "$out" 'dev 0: 0 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
check "fenced job's agent retired" wait_for 30 no_slurm_agents

# 4b. A CPU-only job (no GRES GPU) may not use the GPUs the scheduler
# gives other jobs exclusively: whatever its --gpu-mem, it gets 0 on
# every GPU (nogres=fence, the default).
case_start "CPU-only job fenced at 0 on every GPU"
out=$(srun --gpu-mem=4M sh -c "$CP 0 1 10; $CP 1 1 10" 2>&1)
echo "$out"
check "CPU-only srun --gpu-mem=4M: refused on CUDA device 0" \
	says "$out" 'dev 0: 0 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
check "CPU-only srun --gpu-mem=4M: refused on CUDA device 1" \
	says "$out" 'dev 1: 0 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
jc=$(sbatch --parsable --gpu-mem=4M -o $W/cpu.log --wrap "$CP 1 1 10 $W/cpu.release")
check "CPU-only sbatch job $jc running" wait_for 60 has $W/cpu.log ok
cat $W/cpu.log
check "its agent has quota 0 on device 0 and device 1" \
	test "$(field slurm-$jc 0 4) $(field slurm-$jc 1 4)" = "0 0"
check "and used nothing" has $W/cpu.log 'dev 1: 0 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
touch $W/cpu.release
check "CPU-only job $jc ended" wait_for 60 job_gone "$jc"
check "its agent retired" wait_for 30 no_agent "slurm-$jc"

# 5. Cluster rules: max=, a value that is not a size, missing=refuse.
case_start "max=, bad values, missing=refuse"
out=$(srun --gpu-mem=1G true 2>&1)
rc=$?
echo "$out"
check "srun --gpu-mem=1G refused over max=64M (rc=$rc)" \
	refused $rc "$out" "1G is over this cluster's maximum of 64M"
out=$(sbatch --gpu-mem=banana --wrap true 2>&1)
rc=$?
echo "$out"
check "sbatch --gpu-mem=banana refused (rc=$rc)" \
	refused $rc "$out" 'banana is not a size'
slurm_plugstack "$PLUG max=64M missing=refuse"
out=$(srun true 2>&1)
rc=$?
echo "$out"
check "missing=refuse: srun without --gpu-mem refused (rc=$rc)" \
	refused $rc "$out" 'needs a GPU memory quota on every job'
out=$(sbatch --wrap true 2>&1)
rc=$?
echo "$out"
check "missing=refuse: sbatch without --gpu-mem refused (rc=$rc)" \
	refused $rc "$out" 'needs a GPU memory quota on every job'
check "no job was queued by the refused submissions" test -z "$(squeue -h)"
# salloc's --gpu-mem is the job's; an srun inside the allocation, or
# given its --jobid, is a step of an admitted job, not refused for
# lacking the option.  (salloc without a terminal needs --no-shell.)
out=$(salloc --no-shell --gres=gpu:2 --gpu-mem=2M 2>&1)
echo "$out"
ja=$(echo "$out" | sed -n 's/.*Granted job allocation \([0-9]*\).*/\1/p')
check "missing=refuse: salloc --gpu-mem=2M granted (job ${ja:-none})" test -n "$ja"
"$CTL" agent bindings "slurm-$ja" >$W/abind.txt 2>&1
cat $W/abind.txt
check "its agent is bound to job_$ja before any step" has $W/abind.txt "/job_$ja"
out=$(SLURM_JOB_ID=$ja srun "$CP" 0 1 1 2>&1; srun --jobid="$ja" "$CP" 0 1 10 2>&1)
echo "$out"
check "an srun inside it without --gpu-mem runs" says "$out" 'dev 0: 1 x 1 MiB ok, then done'
check "srun --jobid=$ja without --gpu-mem runs, held to the job's 2 MiB" \
	says "$out" 'dev 0: 2 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
scancel "${ja:-0}"
check "salloc job's agent retired" wait_for 30 no_slurm_agents

# 6. Limits are the admin's: without max= the packaged maximum (40G)
# holds, and "unlimited" only where the admin wrote max=unlimited.  A user
# who brings a client configuration of their own (SLURM_CONF, here one
# whose plugstack.conf says max=unlimited) gets past srun's check, but
# not past the node: the job runs fenced at 0, and the node stays up.
case_start "max=: the packaged maximum, unlimited, a user's own SLURM_CONF"
slurm_plugstack "$PLUG default=8M"
out=$(srun --gpu-mem=unlimited true 2>&1)
rc=$?
echo "$out"
check "no max=: srun --gpu-mem=unlimited refused (rc=$rc)" \
	refused $rc "$out" "unlimited is over this cluster's maximum of 40G"
out=$(sbatch --gpu-mem=41G --wrap true 2>&1)
rc=$?
echo "$out"
check "no max=: sbatch --gpu-mem=41G refused (rc=$rc)" \
	refused $rc "$out" "41G is over this cluster's maximum of 40G"
check "no job was queued by the refused submissions" test -z "$(squeue -h)"
mkdir -p $W/alt
cp /etc/slurm/slurm.conf /etc/slurm/cgroup.conf /etc/slurm/gres.conf $W/alt/
echo "PlugStackConfig=$W/alt/plugstack.conf" >>$W/alt/slurm.conf
echo "$PLUG max=unlimited" >$W/alt/plugstack.conf
out=$(SLURM_CONF=$W/alt/slurm.conf srun --gres=gpu:2 --gpu-mem=unlimited $CP 0 1 10 2>&1)
echo "$out"
check "own SLURM_CONF, --gpu-mem=unlimited: the job runs fenced at 0" \
	says "$out" 'dev 0: 0 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
check "and is told why on its stderr, once" \
	once "$out" "gpu_dma_lock: --gpu-mem=unlimited is over this cluster's maximum of 40G per GPU: refused by this node.*quota 0 on every GPU"
check "the node is not drained" not_drained
check "its agent retired" wait_for 30 no_slurm_agents
slurm_plugstack "$PLUG default=8M max=unlimited"
out=$(srun --gres=gpu:2 --gpu-mem=unlimited $CP 0 1 10 2>&1)
echo "$out"
check "max=unlimited: srun --gpu-mem=unlimited runs unlimited" \
	says "$out" 'dev 0: 10 x 1 MiB ok, then done'
check "its agent retired" wait_for 30 no_slurm_agents

# 7. LD_PRELOAD is the user's, of any length.  The plugin once failed the
# step at about 8 KiB (a failed batch step drains the node) and silently
# replaced a longer one.  Now each is kept whole after the interposer;
# past what Slurm and execve take (128 KiB) the entries that fit are kept
# and the job is told on its stderr.  The entries are a real library, so
# ld.so loads them quietly.
case_start "a long LD_PRELOAD"
slurm_plugstack "$PLUG default=8M max=64M"
LM=/lib/x86_64-linux-gnu/libm.so.6
# preload_of BYTES: whole entries of $LM, BYTES or a little more
preload_of() { yes $LM | head -n $(($1 / (${#LM} + 1) + 1)) | paste -sd: -; }
# Each job has one GPU through GRES: it gets 4 MiB on it and 0 on the
# other, which only the interposer, loaded first, can tell apart.
cat >$W/lp.sh <<JOB
#!/bin/sh
echo "first=\${LD_PRELOAD%%:*} len=\${#LD_PRELOAD}"
$CP 0 1 10
$CP 1 1 10
JOB
chmod +x $W/lp.sh
# lp_ok LOG: the interposer held the job to 4 MiB on its GPU, 0 elsewhere.
lp_ok() {
	has "$1" 'dev .: 4 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY' &&
		has "$1" 'dev .: 0 x 1 MiB ok, then CUDA_ERROR_OUT_OF_MEMORY'
}
# Just under 8 KiB (8191 bytes: the plugin's old 8 KiB buffer held it,
# but not with the interposer in front, so the step failed), 16 KiB (the
# old buffer could not hold it: replaced by the interposer alone) and
# about 128 KiB: within execve's limit for sbatch's argument (131072
# bytes with "--export=ALL,LD_PRELOAD=" and the NUL) but, with the
# interposer in front, over what Slurm sets (MAX_ENV_STRLEN).  Submitted
# at once: the node runs two at a time.
v8=$(preload_of 8160)
v16=$(preload_of 16384)
vmax=$(preload_of 131030)
# srun first, on an idle node (bounded: a drained node would leave it
# waiting for resources).
LD_PRELOAD=$v8 timeout 120 srun --gres=gpu:1 --gpu-mem=4M $W/lp.sh >$W/lpsrun.log 2>&1
cat $W/lpsrun.log
check "srun with a ${#v8}-byte LD_PRELOAD: the interposer first, all kept" \
	has $W/lpsrun.log "^first=$PRE len=$((${#PRE} + 1 + ${#v8}))\$"
check "srun with a ${#v8}-byte LD_PRELOAD: 4 MiB on its GPU, 0 on the other" \
	lp_ok $W/lpsrun.log
check "after it the node is not drained" not_drained
j8=$(sbatch --parsable --gres=gpu:1 --gpu-mem=4M --export=ALL,LD_PRELOAD="$v8" -o $W/lp8.log $W/lp.sh)
j16=$(sbatch --parsable --gres=gpu:1 --gpu-mem=4M --export=ALL,LD_PRELOAD="$v16" -o $W/lp16.log $W/lp.sh)
jmax=$(sbatch --parsable --gres=gpu:1 --gpu-mem=4M --export=ALL,LD_PRELOAD="$vmax" -o $W/lpmax.log $W/lp.sh)
check "sbatch job $j8 ended" wait_for 90 job_gone "$j8"
check "after job $j8 the node is not drained" not_drained
for j in $j16 $jmax; do
	check "sbatch job $j ended" wait_for 90 job_gone "$j"
done
# lp_check JOB LOG BYTES: a job whose BYTES of LD_PRELOAD were all kept.
lp_check() {
	cat "$2"
	check "job $1: COMPLETED (is $(job_state "$1"))" test "$(job_state "$1")" = COMPLETED
	check "job $1: the interposer first, the user's $3 bytes kept after it" \
		has "$2" "^first=$PRE len=$((${#PRE} + 1 + $3))\$"
	check "job $1: 4 MiB on its GPU, 0 on the other" lp_ok "$2"
}
lp_check "$j8" $W/lp8.log ${#v8}
lp_check "$j16" $W/lp16.log ${#v16}
head -c 600 $W/lpmax.log; echo
check "job $jmax: COMPLETED (is $(job_state "$jmax"))" test "$(job_state "$jmax")" = COMPLETED
check "job $jmax: told on its stderr what was dropped" \
	has $W/lpmax.log "gpu_dma_lock: LD_PRELOAD is ${#vmax} bytes, too long to put $PRE first"
check "job $jmax: the interposer still first" has $W/lpmax.log "^first=$PRE len="
check "job $jmax: 4 MiB on its GPU, 0 on the other" lp_ok $W/lpmax.log
check "after these jobs the node is not drained" not_drained
check "no slurm-* agent left" wait_for 30 no_slurm_agents

case_start "gc"
# A node that crashed never runs the epilog: it leaves an agent bound to
# a job cgroup that is gone.  gc (shared with the OCI hook) removes it.
# gc is required: a tree whose gc is missing or fails fails here.
stale=slurm-999999
cg=/sys/fs/cgroup/system.slice/${SLURM_NODE}_slurmstepd.scope/job_999999
mkdir -p "$cg"
"$CTL" agent create $stale >/dev/null && "$CTL" agent bind $stale --cgroup "$cg" >/dev/null
rmdir "$cg"
"$CTL" agent bindings $stale >$W/stale.txt 2>&1
cat $W/stale.txt
# stale_removed: exactly one binding, a cgroup one, in state removed.
stale_removed() {
	[ "$(awk -v a=$stale '$2 == a' $W/stale.txt | wc -l)" = 1 ] &&
		awk -v a=$stale '$2 == a && $3 == "cgroup" && $4 == "removed" { f = 1 } END { exit !f }' $W/stale.txt
}
check "a stale agent $stale, bound to a removed job cgroup only" stale_removed
# gc's --grace (when this tree's gc has it) is a wait before collecting;
# this case means "collect now".
grace=
"$CTL" gc --help 2>&1 | grep -q -- --grace && grace="--grace 0"
# shellcheck disable=SC2086
"$CTL" gc $grace >$W/gc.txt 2>&1
rc=$?
cat $W/gc.txt
check "gpu-dma-lock-ctl gc ${grace:+$grace }ran (rc=$rc)" test $rc = 0
check "gpu-dma-lock-ctl gc removed it" no_agent $stale
check "no slurm-* agent left" no_slurm_agents

if [ -n "$OTHER" ]; then
	case_start "a plugin built for another Slurm release"
	# Why gpu-dma-lock-slurm pins its release (utils/slurm/release.sh).
	slurm_plugstack "required $OTHER gpus=$pci1,$pci0 preload=$PRE default=8M"
	out=$(cd /tmp && timeout 60 srun --gpu-mem=4M true 2>&1)
	rc=$?
	echo "$out"
	check "srun with a required plugin built for another Slurm release fails: 'Incompatible plugin version' (rc=$rc)" \
		refused "$rc" "$out" "Incompatible plugin version"
	check "no agent was made for it" no_slurm_agents
	slurm_plugstack "$PLUG default=8M max=64M"
fi

slurm_down
case_start "done"
live=$(sed -n 's/^live_reservations \([0-9]*\)$/\1/p' /proc/gpu_dma_lock/stats)
check "no live reservations left" test "$live" = 0
check "ledger consistent" grep -qx 'ledger_consistent 1' /proc/gpu_dma_lock/stats
finish

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Sourced by tests/slurm/guest.sh, INSIDE the test VM (root, busybox init,
# no systemd, /etc a tmpfs overlay): brings up a one-node Slurm 22.05
# cluster on this machine, with Debian's slurmctld, slurmd and munge, in
# about 6 s.  What it needs, measured (docs/slurm.md):
#  - a non-loopback address for the node name (dummy0 and /etc/hosts);
#    with loopback only every client command stalls about 11 s;
#  - cgroup v2 with the controllers enabled down to system.slice, where
#    IgnoreSystemd=yes puts slurmstepd's scope;
#  - munged running as user munge, with a key made here;
#  - SlurmUser=root, MpiDefault=none, MailProg=/bin/true.
# The two edu devices are the node's GRES GPUs: gres.conf needs a device
# file per GPU, so each gets a character device node of its own (Slurm
# only stats it).  ConstrainDevices is off here, unlike on real nodes
# (docs/slurm.md requires it): the nodes have /dev/null's numbers, so a
# constrained job would lose /dev/null.
#  - PrologFlags=Contain, as docs/slurm.md recommends: the agent is made
#    and bound at allocation (a salloc job's --gpu-mem reaches the prolog
#    only then).
#   slurm_plugstack LINE   slurm_up   slurm_down

SLURM_NODE=gdlnode
SLURM_LOG=/var/log/slurm

slurm_plugstack() {
	mkdir -p /etc/slurm/plugstack.conf.d
	printf '%s\n' "$1" >/etc/slurm/plugstack.conf.d/gpu-dma-lock.conf
}

slurm_up() {
	modprobe dummy 2>/dev/null
	ip link add dummy0 type dummy || return 1
	ip addr add 10.77.0.1/24 dev dummy0 && ip link set dummy0 up || return 1
	hostname "$SLURM_NODE"
	echo "10.77.0.1 $SLURM_NODE" >>/etc/hosts

	mkdir -p /sys/fs/cgroup/system.slice
	for d in /sys/fs/cgroup /sys/fs/cgroup/system.slice; do
		echo "+cpuset +cpu +memory +pids" >"$d/cgroup.subtree_control" || return 1
	done

	mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
	dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
	chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge
	chmod 0400 /etc/munge/munge.key
	su -s /bin/sh munge -c /usr/sbin/munged || return 1

	mknod -m 0666 /dev/gdlgpu0 c 1 3
	mknod -m 0666 /dev/gdlgpu1 c 1 3
	mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$SLURM_LOG"
	cat >/etc/slurm/slurm.conf <<CONF
ClusterName=gdl
SlurmctldHost=$SLURM_NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/builtin
PrologFlags=Contain
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
GresTypes=gpu
SlurmctldLogFile=$SLURM_LOG/slurmctld.log
SlurmdLogFile=$SLURM_LOG/slurmd.log
SlurmdDebug=verbose
${SLURM_EXTRA_CONF:-}
NodeName=$SLURM_NODE CPUs=2 RealMemory=400 Gres=gpu:2 State=UNKNOWN
PartitionName=p Nodes=$SLURM_NODE Default=YES MaxTime=INFINITE State=UP
CONF
	cat >/etc/slurm/cgroup.conf <<CONF
CgroupPlugin=cgroup/v2
IgnoreSystemd=yes
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
CONF
	cat >/etc/slurm/gres.conf <<CONF
Name=gpu File=/dev/gdlgpu0
Name=gpu File=/dev/gdlgpu1
CONF
	slurmctld || return 1
	slurmd || return 1
	i=0
	while [ $i -lt 60 ]; do
		sinfo -h -o %T 2>/dev/null | grep -q idle && return 0
		sleep 0.5
		i=$((i + 1))
	done
	echo "slurm_up: the node did not become idle"
	sinfo -N -l
	return 1
}

slurm_down() {
	scontrol shutdown >/dev/null 2>&1
	i=0
	while [ $i -lt 20 ] && pgrep -x slurmd >/dev/null; do
		sleep 0.5
		i=$((i + 1))
	done
}

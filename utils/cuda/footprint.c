// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The driver's own memory for this process: the context itself, module
 * images and __device__ globals, local memory, the device heap.  The API
 * never shows it, but NVML reports what each process holds on a device
 * (usedGpuMemory).  This file measures it and says when to: charges.c
 * reconciles the figure with what the interposer has charged on that
 * device and charges the difference (gdlc_footprint_reconcile), at
 * context creation, after module loads and limit changes, and at
 * reservations and synchronisations (cuCtxSynchronize,
 * cuStreamSynchronize: growth after the last allocation, such as local
 * memory grown at a launch), at most every FOOTPRINT_PERIOD_MS per device
 * (NVML's query costs far more than an allocation).  A synchronisation
 * cannot be refused: growth the quota refuses there is owed, and the
 * device's next reservation reconciles first (and is refused).  Past the
 * quota the operation that grew it is undone and refused.  Without
 * NVML's figure (no NVML, an old driver, a process NVML does not list),
 * the admin's ctx_reserve estimate charged per context is all there is.
 * Nothing here charges: this file stands below charges.c, whose
 * reservations ask it whether they should reconcile first.
 *
 * NVML names processes by their pid in the initial pid namespace (the
 * kernel driver's view).  In another pid namespace (a container) getpid()
 * is another number, which may well be another process's pid there:
 * taking that entry would charge another process's memory.  So the
 * figure is used only when this process's pid in the initial namespace
 * is known for certain (nvml_self_pid); otherwise the estimate stands.
 * A figure NVML does not have (NVML_VALUE_NOT_AVAILABLE: a MIG device's
 * processes for a caller without the privilege to see them) is no figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gdl_cuda.h"

HELPER(cuDeviceGetPCIBusId)
HELPER(nvmlInit_v2)
HELPER(nvmlDeviceGetHandleByPciBusId_v2)

#define MAX_PROCS 256
#define FOOTPRINT_PERIOD_MS 100
/* The clock is read on one reservation in this many. */
#define FOOTPRINT_SAMPLE 64

/*
 * The measurement's state (nvml_state, self_pid, gdlc_footprint_used's
 * buffer) is serialised by its only caller, gdlc_footprint_reconcile
 * (charges.c), under the footprint's lock there; the cadence below
 * (calls, last_ms, owed) is atomic.
 */
static int nvml_state;	/* 0 untried, 1 ready, -1 unavailable */

static unsigned int calls[MAX_CUDA_DEVICES];
static uint64_t last_ms[MAX_CUDA_DEVICES];
/* Growth the quota refused at a synchronisation: reconcile first. */
static int owed[MAX_CUDA_DEVICES];

/* 1 when the period has passed on @dev since the last reconciliation. */
static int period_passed(CUdevice dev)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - __atomic_load_n(&last_ms[dev], __ATOMIC_RELAXED) < FOOTPRINT_PERIOD_MS)
		return 0;
	__atomic_store_n(&last_ms[dev], now, __ATOMIC_RELAXED);
	return 1;
}

/* 1 when a reservation on @dev should reconcile first (rate-limited). */
int gdlc_footprint_due(CUdevice dev)
{
	if (__atomic_load_n(&owed[dev], __ATOMIC_RELAXED))
		return 1;
	if (__atomic_add_fetch(&calls[dev], 1, __ATOMIC_RELAXED) % FOOTPRINT_SAMPLE)
		return 0;
	return period_passed(dev);
}

/*
 * 1 when a synchronisation on @dev should reconcile (the period has
 * passed).  What the quota refuses there is owed (gdlc_footprint_owe).
 */
int gdlc_footprint_sync_due(CUdevice dev)
{
	return dev >= 0 && dev < MAX_CUDA_DEVICES && period_passed(dev);
}

/* The last reconciliation on @dev was refused (@owe) or not. */
void gdlc_footprint_owe(CUdevice dev, int owe)
{
	__atomic_store_n(&owed[dev], owe, __ATOMIC_RELAXED);
}

/* The initial pid namespace's inode number (PROC_PID_INIT_INO). */
#define PID_NS_INITIAL "pid:[4026531836]"
#define NVML_NOT_AVAILABLE (~0ULL)

static int ns_initial(const char *link)
{
	char buf[64];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	if (n <= 0)
		return 0;
	buf[n] = 0;
	return !strcmp(buf, PID_NS_INITIAL);
}

/*
 * This process's pid in the initial pid namespace, or 0 when it cannot be
 * known: the ledger's answer (WHOAMI, module ABI 1.4), which holds in a
 * container too; else getpid() there; elsewhere the first NSpid of
 * /proc/self/status, which names the pid in the namespace /proc was
 * mounted from, when that is the initial one (its pid 1 lives there: a
 * host /proc, readable only with the right to inspect that pid 1).  A
 * container's own /proc shows nothing beyond the container, so with an
 * older module the estimate stands there.  Computed once (a fork child
 * again).
 */
static unsigned int self_pid;	/* 0 not yet, -1u unknown */

static unsigned int nvml_self_pid(void)
{
	char line[256];
	unsigned int p = -1u;
	FILE *f;

	if (self_pid)
		return self_pid == -1u ? 0 : self_pid;
	if (gdlc_ledger_host_pid(&p)) {
		/* p is the kernel's answer */
	} else if (ns_initial("/proc/self/ns/pid")) {
		p = getpid();
	} else if (ns_initial("/proc/1/ns/pid") &&
		   (f = fopen("/proc/self/status", "re"))) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "NSpid: %u", &p) == 1)
				break;
		fclose(f);
		if (!p)
			p = -1u;
	}
	if (p == -1u)
		gdlc_say(1, "this process's pid outside its pid namespace is unknown: NVML's per-process figure is not used, the admin's ctx_reserve estimate stands");
	self_pid = p;
	return p == -1u ? 0 : p;
}

/*
 * NVML's figure for this process on CUDA device @dev, or -1.  The caller
 * serialises (gdlc_footprint_reconcile).
 */
int64_t gdlc_footprint_used(CUdevice dev)
{
	__typeof__(cuDeviceGetPCIBusId) *busid = h_cuDeviceGetPCIBusId();
	__typeof__(nvmlInit_v2) *init = h_nvmlInit_v2();
	__typeof__(nvmlDeviceGetHandleByPciBusId_v2) *by_bus =
		h_nvmlDeviceGetHandleByPciBusId_v2();
	__typeof__(nvmlDeviceGetComputeRunningProcesses_v3) *procs =
		REAL(nvmlDeviceGetComputeRunningProcesses_v3);
	static nvmlProcessInfo_t info[MAX_PROCS];	/* serialised by the caller */
	unsigned int n = MAX_PROCS, i, self;
	nvmlDevice_t nd;
	char bus[64];

	if (!nvml_state)
		nvml_state = init && by_bus && procs && !init() ? 1 : -1;
	if (nvml_state < 0)
		return -1;
	self = nvml_self_pid();
	if (!self || !busid || busid(bus, sizeof(bus), dev) ||
	    by_bus(bus, &nd) || procs(nd, &n, info))
		return -1;
	for (i = 0; i < n && i < MAX_PROCS; i++)
		if (info[i].pid == self)
			return info[i].usedGpuMemory == NVML_NOT_AVAILABLE ? -1 :
			       info[i].usedGpuMemory > INT64_MAX ? INT64_MAX :
			       (int64_t)info[i].usedGpuMemory;
	return -1;
}

void gdlc_footprint_forget(void)
{
	memset(calls, 0, sizeof(calls));
	memset(last_ms, 0, sizeof(last_ms));
	memset(owed, 0, sizeof(owed));
	nvml_state = 0;
	self_pid = 0;
}

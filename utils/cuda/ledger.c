// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel ledger as the interposer sees it: one open file per process,
 * what becomes of it when it cannot be opened or is lost, and the CUDA
 * device -> module device mapping (by PCI address).  What is charged
 * through it, and why, is charges.c's: this file calls nothing of the
 * interposer's but symbols.c (the driver) and config.c, so that
 * charges.c and footprint.c can both stand on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "gdl_cuda.h"
#include "gdl_parse.h"

HELPER(cuCtxGetDevice)
HELPER(cuDeviceGetPCIBusId)
HELPER(cuCtxPushCurrent_v2)
HELPER(cuCtxPopCurrent_v2)

/*
 * UNOPENED: not tried yet, or the last try failed for a reason other than
 * the module being absent (EMFILE, ENOMEM, EACCES): allocations are
 * refused, whatever the fail mode, and the next one tries again.
 * ABSENT: no module (ENOENT, ENODEV, ENXIO): the admin's fail mode applies.
 * LOST: the process closed or replaced our descriptor (close_range, dup2
 * over it): every allocation is refused until exit.  The backup
 * descriptor keeps the original file, and so every charge already made,
 * alive until then.
 */
enum { LEDGER_UNOPENED, LEDGER_OPEN, LEDGER_ABSENT, LEDGER_LOST };

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int ledger_state;
static struct gdlock *ledger;
static int backup_fd = -1;
static int warned_open;
static struct gdl_device_info mdev[GDL_MAX_DEVICES];
static int nr_mdev;
/* CUDA ordinal -> module index; -1 unknown yet, -2 not managed. */
static int devmap[MAX_CUDA_DEVICES];

static int module_absent(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO;
}

/* Called with state_lock held. */
static void open_ledger(void)
{
	int ret, i;

	ret = gdlock_open(&ledger);
	if (module_absent(ret)) {
		if (gdlc_fail_open)
			gdlc_say(1, "%s: %s; %s says fail = open: allocations are NOT accounted",
				 GDL_DEVICE_PATH, strerror(-ret), GDL_CUDA_CONF_PATH);
		else
			gdlc_say(1, "%s: %s; every GPU allocation is refused (fail closed)",
				 GDL_DEVICE_PATH, strerror(-ret));
		__atomic_store_n(&ledger_state, LEDGER_ABSENT, __ATOMIC_RELEASE);
		return;
	}
	if (ret) {
		ledger = NULL;
		if (!warned_open++)
			gdlc_say(1, "%s: %s; allocations are refused until it can be opened",
				 GDL_DEVICE_PATH, strerror(-ret));
		return;
	}
	/* Above the primary, so that closing the lowest descriptors keeps it. */
	backup_fd = fcntl(gdlock_fd(ledger), F_DUPFD_CLOEXEC, gdlock_fd(ledger) + 1);
	ret = gdlock_device_list(ledger, mdev, GDL_MAX_DEVICES);
	nr_mdev = ret < 0 ? 0 : ret > GDL_MAX_DEVICES ? GDL_MAX_DEVICES : ret;
	for (i = 0; i < MAX_CUDA_DEVICES; i++)
		devmap[i] = -1;
	__atomic_store_n(&ledger_state, LEDGER_OPEN, __ATOMIC_RELEASE);
}

/*
 * The open file, or NULL.  Every allocation asks, so the settled states
 * are read without the lock: ledger and mdev are written before
 * ledger_state is published (release order).
 */
struct gdlock *gdlc_ledger(void)
{
	struct gdlock *g;
	int st = __atomic_load_n(&ledger_state, __ATOMIC_ACQUIRE);

	if (st != LEDGER_UNOPENED)
		return st == LEDGER_OPEN ? ledger : NULL;
	pthread_mutex_lock(&state_lock);
	if (ledger_state == LEDGER_UNOPENED)
		open_ledger();
	g = ledger_state == LEDGER_OPEN ? ledger : NULL;
	pthread_mutex_unlock(&state_lock);
	return g;
}

/* 1 when allocations pass uncharged: no module, and the admin said open. */
int gdlc_unaccounted(void)
{
	return gdlc_fail_open &&
	       __atomic_load_n(&ledger_state, __ATOMIC_ACQUIRE) == LEDGER_ABSENT;
}

/*
 * A ledger call failed with @err.  EBADF and ENOTTY mean our descriptor
 * no longer is a ledger file; ENOENT from a release (@release) means it is
 * another ledger file (we only release handles we hold).  Either way
 * this process can no longer charge what it allocates: fail closed.
 */
void gdlc_ledger_failed(int err, int release)
{
	if (err != -EBADF && err != -ENOTTY && !(release && err == -ENOENT))
		return;
	pthread_mutex_lock(&state_lock);
	if (ledger_state == LEDGER_OPEN) {
		__atomic_store_n(&ledger_state, LEDGER_LOST, __ATOMIC_RELEASE);
		gdlc_say(1, "the ledger's descriptor %d was closed or replaced (%s): every GPU allocation is refused from now on",
			 gdlock_fd(ledger), strerror(-err));
	}
	pthread_mutex_unlock(&state_lock);
}

static int index_by_bus_id(const char *bus_id)
{
	unsigned int dom, bdf;
	int i;

	/* CUDA prints a 4-digit domain, NVML 8: one grammar (gdl_parse.c). */
	if (gdl_parse_pci_addr(bus_id, &dom, &bdf))
		return -2;
	for (i = 0; i < nr_mdev; i++)
		if (mdev[i].flags & GDL_DEV_F_PCI && mdev[i].pci_domain == dom &&
		    mdev[i].pci_bdf == bdf)
			return mdev[i].index;
	return -2;
}

/* The module's index of the device at @bus_id, or < 0. */
int gdlc_module_index_by_bus_id(const char *bus_id)
{
	int idx;

	pthread_mutex_lock(&state_lock);
	idx = index_by_bus_id(bus_id);
	pthread_mutex_unlock(&state_lock);
	return idx;
}

/* The module's index of CUDA device @dev, or -1 when it manages none. */
int gdlc_module_index(CUdevice dev)
{
	__typeof__(cuDeviceGetPCIBusId) *busid = h_cuDeviceGetPCIBusId();
	char buf[64];
	int idx;

	if (dev < 0 || dev >= MAX_CUDA_DEVICES)
		return -1;
	/* Set once per device (racing lookups agree), read on every call. */
	idx = __atomic_load_n(&devmap[dev], __ATOMIC_RELAXED);
	if (idx != -1)
		return idx < 0 ? -1 : idx;
	if (!busid || busid(buf, sizeof(buf), dev) != CUDA_SUCCESS)
		return -1;
	pthread_mutex_lock(&state_lock);
	idx = index_by_bus_id(buf);
	__atomic_store_n(&devmap[dev], idx, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&state_lock);
	if (idx < 0)
		gdlc_say(1, "CUDA device %d (%s) is not managed by gpu_dma_lock: its allocations are refused",
			 dev, buf);
	return idx < 0 ? -1 : idx;
}

CUresult gdlc_current_device(CUdevice *dev)
{
	__typeof__(cuCtxGetDevice) *f = h_cuCtxGetDevice();

	return f ? f(dev) : CUDA_ERROR_NOT_INITIALIZED;
}

CUresult gdlc_context_device(CUcontext ctx, CUdevice *dev)
{
	__typeof__(cuCtxPushCurrent_v2) *push = h_cuCtxPushCurrent_v2();
	__typeof__(cuCtxPopCurrent_v2) *pop = h_cuCtxPopCurrent_v2();
	CUcontext dummy;
	CUresult e;

	if (!push || !pop)
		return CUDA_ERROR_NOT_INITIALIZED;
	e = push(ctx);
	if (e)
		return e;
	e = gdlc_current_device(dev);
	pop(&dummy);
	return e;
}

/*
 * This process's pid in the initial pid namespace, as the kernel knows it
 * (WHOAMI, module ABI 1.4): 1 with it in *@pid, 0 when the ledger cannot
 * say (no ledger, an older module).
 */
int gdlc_ledger_host_pid(unsigned int *pid)
{
	struct gdlock *g = gdlc_ledger();
	struct gdl_whoami w;

	if (!g || gdlock_whoami(g, &w) || !w.host_pid)
		return 0;
	*pid = w.host_pid;
	return 1;
}

/*
 * Taken after the charges' locks (charges.c): a reservation made under
 * the footprint's lock may open the file.
 */
void gdlc_ledger_lock_all(void)
{
	pthread_mutex_lock(&state_lock);
}

void gdlc_ledger_unlock_all(void)
{
	pthread_mutex_unlock(&state_lock);
}

/*
 * A fork child shares the parent's open file, and with it the parent's
 * reservations: freeing through it would release the parent's charges.
 * It drops the parent's bookkeeping (gdlc_charges_forget and the other
 * files' _forget) and opens its own file on first use.
 *
 * But the child also inherits the parent's GPU descriptors, which keep
 * the parent's memory alive after the parent exits (a DataLoader worker
 * outliving its trainer; issue 23, item 7).  So the child keeps one
 * copy of the parent's file, never used, high above the descriptors a
 * program works with (close-on-exec, as the driver's are): the parent's
 * charges then last as long as any process that may hold that memory.
 * The copy comes from the backup descriptor, which is the genuine file
 * even when the program replaced the first.
 */
#define KEEP_FD_FLOOR 512

void gdlc_ledger_forget(void)
{
	int src = backup_fd, keep = -1;

	if (ledger_state == LEDGER_OPEN || ledger_state == LEDGER_LOST) {
		if (src < 0)
			src = gdlock_fd(ledger);
		keep = fcntl(src, F_DUPFD_CLOEXEC, KEEP_FD_FLOOR);
		if (keep < 0)
			keep = fcntl(src, F_DUPFD_CLOEXEC, 0);
		if (keep < 0 && src == backup_fd)
			backup_fd = -1;	/* out of descriptors: kept itself */
		gdlock_close(ledger);
	}
	if (backup_fd >= 0)
		close(backup_fd);
	backup_fd = -1;
	ledger = NULL;
	ledger_state = LEDGER_UNOPENED;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ledger side of the interposer: one open file per process, the CUDA
 * device -> module device mapping (by PCI address), and charging: every
 * allocation is reserved before the driver sees it, and the object ->
 * reservation maps say what a free gives back.
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

struct gdl_map gdlc_ptr_map;
struct gdl_map gdlc_arr_map;
struct gdl_map gdlc_ctx_map;
struct gdl_map gdlc_ext_map;
/*
 * What this process has charged on each device, for footprint.c: every
 * reservation's device and size, packed as size << 8 | (device + 1),
 * travel with its handle in the object maps, or in resv_map.
 */
static struct gdl_map resv_map;	/* kept handles (gdlc_keep) -> that */
uint64_t gdlc_dev_charged[MAX_CUDA_DEVICES];
/* The device and size of this thread's last reservation, as packed. */
static __thread uint64_t last_info;

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
 * Charge @size bytes on CUDA device @dev.  *handle is 0 when nothing was
 * charged (no module and fail-open, or a zero size the driver will refuse).
 */
CUresult gdlc_reserve(CUdevice dev, uint64_t size, uint64_t *handle)
{
	struct gdlock *g;
	int idx, ret;

	*handle = 0;
	last_info = 0;
	if (!size)
		return CUDA_SUCCESS;
	g = gdlc_ledger();
	if (!g)
		return gdlc_unaccounted() ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
	idx = gdlc_module_index(dev);
	if (idx < 0)
		return CUDA_ERROR_OUT_OF_MEMORY;
	/* Now and then, the driver's own figure first (footprint.c). */
	if (gdlc_footprint_due(dev) && gdlc_footprint_reconcile(dev))
		return CUDA_ERROR_OUT_OF_MEMORY;
	ret = gdlock_reserve(g, idx, size, handle);
	if (ret) {
		gdlc_ledger_failed(ret, 0);
		gdlc_say(2, "refused %llu bytes on device %d: %s",
			 (unsigned long long)size, dev, gdlock_strerror(ret));
		*handle = 0;
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	if (size < 1ULL << 56) {
		last_info = size << 8 | (dev + 1);
		__atomic_add_fetch(&gdlc_dev_charged[dev], size, __ATOMIC_RELAXED);
	}
	return CUDA_SUCCESS;
}

/* Reserve on the current context's device. */
CUresult gdlc_reserve_current(uint64_t size, uint64_t *handle)
{
	CUdevice dev;
	CUresult e = gdlc_current_device(&dev);

	return e ? e : gdlc_reserve(dev, size, handle);
}

/*
 * A reservation held outside the object maps (a pool's chunk, a VMM
 * handle, a primary context): its device and size are looked up at
 * release.  Called right after gdlc_reserve(), in the same thread.
 */
void gdlc_keep(uint64_t handle)
{
	if (handle && last_info &&
	    gdl_map_add(&resv_map, handle, last_info) < 0)
		gdlc_say(1, "out of memory tracking a reservation; the footprint may read low");
}

/* @info: the reservation's device and size, or 0 to look them up. */
static void release_info(uint64_t handle, uint64_t info)
{
	struct gdlock *g;

	if (!handle)
		return;
	if (info || !gdl_map_take(&resv_map, handle, &info))
		__atomic_sub_fetch(&gdlc_dev_charged[(info & 0xff) - 1],
				   info >> 8, __ATOMIC_RELAXED);
	g = gdlc_ledger();
	if (g) {
		int ret = gdlock_release(g, handle);

		if (ret)
			gdlc_ledger_failed(ret, 1);
	}
}

void gdlc_release(uint64_t handle)
{
	release_info(handle, 0);
}

/*
 * After the driver call: keep the charge on success, undo it on failure.
 * The map carries the reservation's device and size: from the
 * gdlc_reserve() just made in this thread, or (@kept) from gdlc_keep().
 */
static CUresult track(struct gdl_map *m, CUresult e, uint64_t key,
		      uint64_t handle, uint64_t info)
{
	uint64_t old, old_info;

	if (e != CUDA_SUCCESS || !handle) {
		release_info(handle, info);
		return e;
	}
	/*
	 * A key still mapped was freed by a path we do not see (a destroyed
	 * context frees its memory): its old charge is stale.
	 */
	switch (gdl_map_put_aux(m, key, handle, info, &old, &old_info)) {
	case 1:
		release_info(old, old_info);
		break;
	case 0:
		break;
	default:
		gdlc_say(1, "out of memory tracking an allocation; it stays charged until exit");
	}
	return e;
}

CUresult gdlc_track(struct gdl_map *m, CUresult e, uint64_t key,
		    uint64_t handle)
{
	return track(m, e, key, handle, handle ? last_info : 0);
}

CUresult gdlc_track_kept(struct gdl_map *m, CUresult e, uint64_t key,
			 uint64_t handle)
{
	return track(m, e, key, handle, 0);
}

/*
 * Before the driver frees @key: take its charge out of the map (0 when
 * it has none), its device and size in *info.  Taking it after the free
 * would race: the driver may hand the same address to another thread
 * first, whose gdlc_track() would find our entry, and we would then take
 * and release *its* charge.
 */
uint64_t gdlc_untrack_begin(struct gdl_map *m, uint64_t key, uint64_t *info)
{
	uint64_t h;

	if (gdl_map_take_aux(m, key, &h, info))
		return 0;
	return h;
}

/*
 * After the driver call: a free the driver accepted gives the charge
 * back; a refused one puts the entry back, unless the key was meanwhile
 * tracked again (the driver had freed it behind our back, so the entry
 * was stale: the newer one stays and the stale charge goes).
 */
void gdlc_untrack_end(struct gdl_map *m, CUresult e, uint64_t key,
		      uint64_t handle, uint64_t info)
{
	if (!handle)
		return;
	if (e == CUDA_SUCCESS) {
		release_info(handle, info);
		return;
	}
	switch (gdl_map_add_aux(m, key, handle, info)) {
	case 0:
		break;
	case 1:
		release_info(handle, info);
		break;
	default:
		gdlc_say(1, "out of memory tracking an allocation; it stays charged until exit");
	}
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

void gdlc_ledger_lock_all(void)
{
	pthread_mutex_lock(&state_lock);
	gdl_map_lock_all(&gdlc_ptr_map);
	gdl_map_lock_all(&gdlc_arr_map);
	gdl_map_lock_all(&gdlc_ctx_map);
	gdl_map_lock_all(&gdlc_ext_map);
	gdl_map_lock_all(&resv_map);
}

void gdlc_ledger_unlock_all(void)
{
	gdl_map_unlock_all(&resv_map);
	gdl_map_unlock_all(&gdlc_ext_map);
	gdl_map_unlock_all(&gdlc_ctx_map);
	gdl_map_unlock_all(&gdlc_arr_map);
	gdl_map_unlock_all(&gdlc_ptr_map);
	pthread_mutex_unlock(&state_lock);
}

/*
 * A fork child shares the parent's open file, and with it the parent's
 * reservations: freeing through it would release the parent's charges.
 * It drops the parent's bookkeeping and opens its own file on first use.
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
	gdl_map_clear(&gdlc_ptr_map);
	gdl_map_clear(&gdlc_arr_map);
	gdl_map_clear(&gdlc_ctx_map);
	gdl_map_clear(&gdlc_ext_map);
	gdl_map_clear(&resv_map);
	memset(gdlc_dev_charged, 0, sizeof(gdlc_dev_charged));
}

void gdlc_ledger_init(void)
{
	gdl_map_init(&gdlc_ptr_map);
	gdl_map_init(&gdlc_arr_map);
	gdl_map_init(&gdlc_ctx_map);
	gdl_map_init(&gdlc_ext_map);
	gdl_map_init(&resv_map);
}

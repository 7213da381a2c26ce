// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The interposer's charges: every allocation is reserved in the kernel
 * ledger (ledger.c) before the driver sees it, and the object ->
 * reservation maps say what a free gives back; memory the driver keeps
 * and reports as one figure is charged as a set of chunks settled
 * against it; the driver's own memory for this process, as footprint.c
 * measures it, is reconciled into such a set.
 *
 * The three are one file because they call each other: a reservation
 * may reconcile the footprint first, and the reconciliation charges
 * through a set, which reserves.  ledger.c and footprint.c stand below
 * it and call nothing here.
 */
#include <pthread.h>
#include <stdlib.h>

#include "gdl_cuda.h"

/* ---- reservations and the object maps ---- */

struct gdl_map gdlc_ptr_map;
struct gdl_map gdlc_arr_map;
struct gdl_map gdlc_ctx_map;
struct gdl_map gdlc_ext_map;
/*
 * What this process has charged on each device, for the footprint's
 * reconciliation (below): every reservation's device and size, packed as
 * size << 8 | (device + 1), travel with its handle in the object maps,
 * or in resv_map.
 */
static struct gdl_map resv_map;	/* kept handles (gdlc_keep) -> that */
static uint64_t dev_charged[MAX_CUDA_DEVICES];
/* The device and size of this thread's last reservation, as packed. */
static __thread uint64_t last_info;

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
	/* Now and then, the driver's own figure first (below). */
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
		__atomic_add_fetch(&dev_charged[dev], size, __ATOMIC_RELAXED);
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
		__atomic_sub_fetch(&dev_charged[(info & 0xff) - 1],
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

/* ---- sets of charges settled against a driver's figure ---- */

/*
 * A set of charges held for memory the driver keeps on our behalf and
 * reports as one figure (a pool's or a device's graph memory reserved
 * bytes, the driver's own footprint): charged in chunks as it grows,
 * settled against the figure.  The caller serialises access.
 */
int gdlc_charges_add(struct gdlc_charges *c, uint64_t resv, uint64_t size)
{
	if (c->nr == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct gdlc_chunk *n = realloc(c->chunks, ncap * sizeof(*n));

		if (!n)
			return -1;
		c->chunks = n;
		c->cap = ncap;
	}
	c->chunks[c->nr].resv = resv;
	c->chunks[c->nr].size = size;
	c->nr++;
	c->charged += size;
	return 0;
}

/* Give back the chunks that @need no longer takes. */
void gdlc_charges_settle(struct gdlc_charges *c, uint64_t need)
{
	size_t i = 0;

	while (i < c->nr) {
		if (c->charged - c->chunks[i].size >= need) {
			gdlc_release(c->chunks[i].resv);
			c->charged -= c->chunks[i].size;
			c->chunks[i] = c->chunks[--c->nr];
		} else {
			i++;
		}
	}
}

/* Charge up to @need on @dev: 0, or -1 when the quota refuses it. */
int gdlc_charges_top_up(struct gdlc_charges *c, CUdevice dev, uint64_t need)
{
	uint64_t h;

	if (need <= c->charged)
		return 0;
	if (gdlc_reserve(dev, need - c->charged, &h))
		return -1;
	gdlc_keep(h);
	if (h && gdlc_charges_add(c, h, need - c->charged))
		gdlc_say(1, "out of memory tracking a charge; it stays until exit");
	return 0;
}

void gdlc_charges_drop(struct gdlc_charges *c)
{
	gdlc_charges_settle(c, 0);
	free(c->chunks);
	c->chunks = NULL;
	c->cap = 0;
}

/* ---- the driver's own memory for this process (footprint.c) ---- */

static pthread_mutex_t fp_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gdlc_charges footprint[MAX_CUDA_DEVICES];
/* Set while this thread reconciles: its own reservations do not recurse. */
static __thread int reconciling;

/*
 * Charge what NVML says this process holds on @dev beyond what is charged
 * for it already.  0, or -1 when the quota refuses the difference.
 */
int gdlc_footprint_reconcile(CUdevice dev)
{
	struct gdlc_charges *fp;
	uint64_t charged, need = 0;
	int64_t used;
	int ret;

	if (dev < 0 || dev >= MAX_CUDA_DEVICES || reconciling)
		return 0;
	fp = &footprint[dev];
	pthread_mutex_lock(&fp_lock);
	used = gdlc_footprint_used(dev);
	if (used < 0) {
		pthread_mutex_unlock(&fp_lock);
		return 0;
	}
	reconciling = 1;
	/* Everything else this process charged on the device. */
	charged = __atomic_load_n(&dev_charged[dev], __ATOMIC_RELAXED);
	charged = charged > fp->charged ? charged - fp->charged : 0;
	if ((uint64_t)used > charged)
		need = used - charged;
	gdlc_charges_settle(fp, need);
	ret = gdlc_charges_top_up(fp, dev, need);
	gdlc_footprint_owe(dev, ret != 0);
	reconciling = 0;
	pthread_mutex_unlock(&fp_lock);
	if (ret)
		gdlc_say(2, "device %d: the driver holds %lld bytes for this process, %llu charged: over the quota",
			 dev, (long long)used, (unsigned long long)charged);
	return ret;
}

/* ---- fork and start ---- */

/* The footprint's lock first: the maps are taken while reconciling. */
void gdlc_charges_lock_all(void)
{
	pthread_mutex_lock(&fp_lock);
	gdl_map_lock_all(&gdlc_ptr_map);
	gdl_map_lock_all(&gdlc_arr_map);
	gdl_map_lock_all(&gdlc_ctx_map);
	gdl_map_lock_all(&gdlc_ext_map);
	gdl_map_lock_all(&resv_map);
}

void gdlc_charges_unlock_all(void)
{
	gdl_map_unlock_all(&resv_map);
	gdl_map_unlock_all(&gdlc_ext_map);
	gdl_map_unlock_all(&gdlc_ctx_map);
	gdl_map_unlock_all(&gdlc_arr_map);
	gdl_map_unlock_all(&gdlc_ptr_map);
	pthread_mutex_unlock(&fp_lock);
}

/*
 * A fork child's charges are its parent's: it drops them unreleased
 * (gdlc_ledger_forget says why), the footprint's chunks too.
 */
void gdlc_charges_forget(void)
{
	gdl_map_clear(&gdlc_ptr_map);
	gdl_map_clear(&gdlc_arr_map);
	gdl_map_clear(&gdlc_ctx_map);
	gdl_map_clear(&gdlc_ext_map);
	gdl_map_clear(&resv_map);
	memset(dev_charged, 0, sizeof(dev_charged));
	memset(footprint, 0, sizeof(footprint));
}

void gdlc_charges_init(void)
{
	gdl_map_init(&gdlc_ptr_map);
	gdl_map_init(&gdlc_arr_map);
	gdl_map_init(&gdlc_ctx_map);
	gdl_map_init(&gdlc_ext_map);
	gdl_map_init(&resv_map);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Linear device allocations and their frees (stream-ordered ones are
 * pools.c's).  Each is charged before the
 * driver call; a free takes its entry out of the pointer map before the
 * driver call and puts it back if the driver refuses, so that another
 * thread given the same address by the driver meanwhile keeps its own
 * charge.
 */
#include "gdl_cuda.h"

/* cudaMallocPitch rows are aligned to at most this many bytes. */
#define PITCH_ALIGN 512

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t size)
{
	__typeof__(cuMemAlloc_v2) *f = REAL(cuMemAlloc_v2);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, size);
	return gdlc_track(&gdlc_ptr_map, e, e ? 0 : *dptr, h);
}

EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch,
				   size_t width, size_t height,
				   unsigned int elem)
{
	__typeof__(cuMemAllocPitch_v2) *f = REAL(cuMemAllocPitch_v2);
	uint64_t row, size, h;
	CUresult e;

	CHECK_REAL(f);
	/* The pitch is the driver's choice; charge its upper bound. */
	if (__builtin_add_overflow(width, PITCH_ALIGN - 1, &row) ||
	    __builtin_mul_overflow(row & ~(uint64_t)(PITCH_ALIGN - 1), height,
				   &size))
		return CUDA_ERROR_OUT_OF_MEMORY;
	e = gdlc_reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, pitch, width, height, elem);
	return gdlc_track(&gdlc_ptr_map, e, e ? 0 : *dptr, h);
}

EXPORT CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t size,
				  unsigned int flags)
{
	__typeof__(cuMemAllocManaged) *f = REAL(cuMemAllocManaged);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, size, flags);
	return gdlc_track(&gdlc_ptr_map, e, e ? 0 : *dptr, h);
}

/* ---- exported memory ---- */

static struct gdl_map exported;	/* CUdeviceptr (base) -> 1 */
static unsigned int nr_exported;	/* ever: frees skip the map while 0 */

HELPER(cuMemGetAddressRange_v2)

/*
 * A buffer given to another process by cuIpcGetMemHandle lives while the
 * importer maps it.  On a module that shares reservations, the handle's
 * bytes name its reservation (shared.c): the charge goes with the last
 * process that holds it.  Otherwise this process cannot see the importer:
 * the charge stays until this process exits, however early it frees it.
 */
EXPORT CUresult cuIpcGetMemHandle(CUipcMemHandle *h, CUdeviceptr p)
{
	__typeof__(cuIpcGetMemHandle) *f = REAL(cuIpcGetMemHandle);
	__typeof__(cuMemGetAddressRange_v2) *range = h_cuMemGetAddressRange_v2();
	CUdeviceptr base;
	size_t size;
	uint64_t old, resv;
	CUresult e;

	CHECK_REAL(f);
	e = f(h, p);
	if (e || !range || range(&base, &size, p))
		return e;
	if (!gdl_map_get(&gdlc_ptr_map, base, &resv) &&
	    !gdlc_share_key(resv, h->reserved, sizeof(h->reserved)))
		return e;
	__atomic_store_n(&nr_exported, 1, __ATOMIC_RELEASE);
	if (gdl_map_put(&exported, base, 1, &old) < 0)
		gdlc_say(1, "out of memory tracking an exported buffer");
	return e;
}

/* 1 when @p was exported (and is no more, as it is being freed). */
int gdlc_exported_take(CUdeviceptr p)
{
	uint64_t v;

	return __atomic_load_n(&nr_exported, __ATOMIC_ACQUIRE) &&
	       !gdl_map_take(&exported, p, &v);
}

/* ---- frees ---- */

static CUresult free_ptr(__typeof__(cuMemFree_v2) *f, CUdeviceptr p)
{
	uint64_t h, info;
	CUresult e;

	CHECK_REAL(f);
	h = gdlc_untrack_begin(&gdlc_ptr_map, p, &info);
	if (!h) {
		/* cuMemFree of a stream-ordered allocation: its pool's. */
		struct gdlc_pool *pool = gdlc_pool_untrack_begin(p);

		if (pool) {
			e = f(p);
			gdlc_pool_untrack_end(pool, e, p);
			return e;
		}
	}
	e = f(p);
	if (!e && h && gdlc_exported_take(p))
		return e;	/* exported: charged until exit */
	gdlc_untrack_end(&gdlc_ptr_map, e, p, h, info);
	return e;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr p)
{
	return free_ptr(REAL(cuMemFree_v2), p);
}

void gdlc_alloc_lock_all(void)
{
	gdl_map_lock_all(&exported);
}

void gdlc_alloc_unlock_all(void)
{
	gdl_map_unlock_all(&exported);
}

void gdlc_alloc_forget(void)
{
	gdl_map_clear(&exported);
}

void gdlc_alloc_init(void)
{
	gdl_map_init(&exported);
}

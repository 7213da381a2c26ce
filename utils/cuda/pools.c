// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stream-ordered allocations (cuMemAllocAsync, cuMemAllocFromPoolAsync)
 * come from memory pools, and a pool keeps what is freed cached up to its
 * release threshold (UINT64_MAX is common): the memory a tenant holds is
 * what its pools have reserved, not what is live.  So each pool carries
 * the charges ("chunks") made for its growth, and after every operation on
 * it they are settled against the driver's own figure,
 * CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT: chunks go while the rest still
 * cover it; more is charged when it is short.  Each pool is charged on
 * its own device (cuMemPoolCreate's location; the default and current
 * pools of each device), not the caller's current one; cuMemAllocAsync
 * takes the current pool of the *stream's* device.  A pool located on no
 * device (managed, CUDA 13, or a location this file does not know) is
 * charged as managed memory is: on the device it first allocates for
 * (the stream's); only a pinned pool on the host is host memory.  During
 * stream capture an allocation is a node of the captured graph and
 * allocates nothing: it is not charged here but at the graph's launch
 * (graphs.c).  An allocation the
 * pool's cache can serve needs no new charge, so a tenant at its quota
 * can still reuse what its pools hold.  A pool trimmed behind our back (at
 * a stream synchronisation) is settled at its next operation: until then
 * it is over-charged, never under.  One mutex covers the pools' state.
 */
#include <pthread.h>
#include <stdlib.h>

#include "gdl_cuda.h"

HELPER(cuDeviceGetCount)
HELPER(cuDeviceGetMemPool)
HELPER(cuDeviceGetDefaultMemPool)
HELPER(cuMemPoolGetAttribute)
HELPER(cuStreamGetCtx)
HELPER(cuStreamGetCaptureInfo_v2)

#define POOL_HOST (-1)		/* a pinned host pool, never charged */
#define POOL_UNPLACED (-2)	/* on no device: placed at its first allocation */

struct gdlc_pool {
	CUmemoryPool handle;
	CUdevice dev;		/* or POOL_HOST, POOL_UNPLACED */
	struct gdlc_charges c;
	uint64_t live;		/* our allocations not yet freed */
	int destroyed;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gdl_map pool_map;		/* CUmemoryPool -> struct gdlc_pool * */
static struct gdl_map async_map;	/* CUdeviceptr -> struct gdlc_pool * */

static struct gdlc_pool *pool_new(CUmemoryPool h, CUdevice dev)
{
	struct gdlc_pool *p = calloc(1, sizeof(*p));
	uint64_t old;

	if (!p)
		return NULL;
	p->handle = h;
	p->dev = dev;
	if (gdl_map_put(&pool_map, (uintptr_t)h, (uintptr_t)p, &old) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

/*
 * The pool of handle @h, with pool_lock held.  A pool we did not see
 * created is a device's default or current pool: found by asking each
 * device; failing that, charged on @fallback.
 */
static struct gdlc_pool *pool_get(CUmemoryPool h, CUdevice fallback)
{
	__typeof__(cuDeviceGetCount) *count = h_cuDeviceGetCount();
	__typeof__(cuDeviceGetMemPool) *cur = h_cuDeviceGetMemPool();
	__typeof__(cuDeviceGetDefaultMemPool) *def = h_cuDeviceGetDefaultMemPool();
	CUmemoryPool q;
	uint64_t v;
	int n = 0, d;

	if (!gdl_map_get(&pool_map, (uintptr_t)h, &v))
		return (struct gdlc_pool *)(uintptr_t)v;
	if (count && !count(&n))
		for (d = 0; d < n && d < MAX_CUDA_DEVICES; d++)
			if ((def && !def(&q, d) && q == h) ||
			    (cur && !cur(&q, d) && q == h))
				return pool_new(h, d);
	gdlc_say(1, "a memory pool of unknown device: charged on device %d", fallback);
	return pool_new(h, fallback);
}

static uint64_t pool_attr(struct gdlc_pool *p, CUmemPool_attribute a,
			  uint64_t dflt)
{
	__typeof__(cuMemPoolGetAttribute) *f = h_cuMemPoolGetAttribute();
	cuuint64_t v;

	return f && !f(p->handle, a, &v) ? v : dflt;
}

/*
 * With pool_lock held: give back the chunks the pool's reserved memory no
 * longer needs; a destroyed pool with nothing live needs none, and goes.
 */
static void settle(struct gdlc_pool *p)
{
	uint64_t need = p->destroyed && !p->live ? 0 :
		pool_attr(p, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT, p->c.charged);

	gdlc_charges_settle(&p->c, need);
	if (p->destroyed && !p->live) {
		gdlc_charges_drop(&p->c);
		free(p);
	}
}

/*
 * With pool_lock held, after a successful allocation: if the pool now
 * reserves more than is charged (the driver grows pools in granules),
 * charge the difference.  0, or -1 when the quota refuses it.
 */
static int top_up(struct gdlc_pool *p)
{
	return gdlc_charges_top_up(&p->c, p->dev,
				   pool_attr(p, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT, 0));
}

/* One stream-ordered allocation call, from a named pool or the current one. */
struct async_call {
	CUresult (*from_pool)(CUdeviceptr *, size_t, CUmemoryPool, CUstream);
	CUresult (*current)(CUdeviceptr *, size_t, CUstream);
	CUresult (*undo)(CUdeviceptr, CUstream);
	CUmemoryPool pool;
	CUstream stream;
	int ptsz;		/* the per-thread-default-stream flavour */
};

/* The stream the driver means by @c->stream (NULL: the default one). */
static CUstream named_stream(const struct async_call *c)
{
	if (!c->stream && c->ptsz)
		return CU_STREAM_PER_THREAD;
	return c->stream;
}

/*
 * The device of @c's stream: the current context's for the default
 * streams, else the device of the stream's context.  An error (an
 * unknown stream, no way to ask) refuses the allocation.
 */
static CUresult stream_device(const struct async_call *c, CUdevice *dev)
{
	__typeof__(cuStreamGetCtx) *get_ctx = h_cuStreamGetCtx();
	CUstream s = c->stream;
	CUcontext ctx;
	CUresult e;

	if (!s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD)
		return gdlc_current_device(dev);
	if (!get_ctx)
		return CUDA_ERROR_NOT_INITIALIZED;
	e = get_ctx(s, &ctx);
	return e ? e : gdlc_context_device(ctx, dev);
}

/*
 * 1 and the capture's id in *id when @c's stream is being captured, 0
 * when not (or when the driver cannot say: charged as usual).
 */
static int capture_id(const struct async_call *c, cuuint64_t *id)
{
	__typeof__(cuStreamGetCaptureInfo_v2) *info = h_cuStreamGetCaptureInfo_v2();
	CUstreamCaptureStatus st = CU_STREAM_CAPTURE_STATUS_NONE;

	*id = 0;
	return info && !info(named_stream(c), &st, id, NULL, NULL, NULL) &&
	       st == CU_STREAM_CAPTURE_STATUS_ACTIVE;
}

static CUresult call(const struct async_call *c, CUdeviceptr *dptr,
		     size_t size)
{
	return c->from_pool ? c->from_pool(dptr, size, c->pool, c->stream) :
			      c->current(dptr, size, c->stream);
}

/* With pool_lock held, after the driver call: record, or undo on refusal. */
static CUresult allocated(struct gdlc_pool *p, const struct async_call *c,
			  CUresult e, CUdeviceptr *dptr)
{
	uint64_t old;

	if (e)
		return e;
	if (top_up(p)) {
		c->undo(*dptr, c->stream);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	if (gdl_map_put(&async_map, *dptr, (uintptr_t)p, &old) == 0)
		p->live++;
	return e;
}

/*
 * Charge @size on the pool's device before the driver call.  Over quota,
 * only what the pool's cache already holds can be handed out.
 */
static CUresult alloc_async(struct gdlc_pool *p, const struct async_call *c,
			    CUdeviceptr *dptr, size_t size)
{
	cuuint64_t id, id2;
	uint64_t resv = 0;
	CUresult e;

	if (p->dev == POOL_HOST)
		return call(c, dptr, size);
	/*
	 * Captured: a graph node, nothing allocated.  The same capture
	 * still going after the call says the driver captured it; another
	 * thread that ended the capture meanwhile may have made it a real
	 * allocation, uncharged: undone and refused.
	 */
	if (capture_id(c, &id)) {
		e = call(c, dptr, size);
		if (e || (capture_id(c, &id2) && id2 == id))
			return e;
		c->undo(*dptr, named_stream(c));
		gdlc_say(1, "a stream's capture ended during cuMemAllocAsync: refused");
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	e = gdlc_reserve(p->dev, size, &resv);
	gdlc_keep(resv);
	if (e == CUDA_ERROR_OUT_OF_MEMORY && gdlc_ledger()) {
		pthread_mutex_lock(&pool_lock);
		if (pool_attr(p, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, UINT64_MAX) +
		    size <= p->c.charged)
			e = allocated(p, c, call(c, dptr, size), dptr);
		pthread_mutex_unlock(&pool_lock);
		return e;
	}
	if (e)
		return e;
	e = call(c, dptr, size);
	if (e || !resv) {
		gdlc_release(resv);
		return e;
	}
	pthread_mutex_lock(&pool_lock);
	if (gdlc_charges_add(&p->c, resv, size))
		gdlc_say(1, "out of memory tracking a pool; its charge stays until exit");
	e = allocated(p, c, e, dptr);
	settle(p);
	pthread_mutex_unlock(&pool_lock);
	return e;
}

/* With pool_lock held: @h's pool, an unplaced one placed on @dev. */
static struct gdlc_pool *pool_for(CUmemoryPool h, CUdevice dev)
{
	struct gdlc_pool *p = pool_get(h, dev);

	if (p && p->dev == POOL_UNPLACED)
		p->dev = dev;
	return p;
}

/* The current pool of the stream's device. */
static CUresult alloc_current(__typeof__(cuMemAllocAsync) *f,
			      __typeof__(cuMemFreeAsync) *undo,
			      CUdeviceptr *dptr, size_t size, CUstream s,
			      int ptsz)
{
	__typeof__(cuDeviceGetMemPool) *cur = h_cuDeviceGetMemPool();
	struct async_call c = { .current = f, .undo = undo, .stream = s,
				.ptsz = ptsz };
	struct gdlc_pool *p;
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	CHECK_REAL(undo);
	CHECK_REAL(cur);
	e = stream_device(&c, &dev);
	if (!e)
		e = cur(&c.pool, dev);
	if (e)
		return e;
	pthread_mutex_lock(&pool_lock);
	p = pool_for(c.pool, dev);
	pthread_mutex_unlock(&pool_lock);
	return p ? alloc_async(p, &c, dptr, size) : CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult alloc_pool(__typeof__(cuMemAllocFromPoolAsync) *f,
			   __typeof__(cuMemFreeAsync) *undo,
			   CUdeviceptr *dptr, size_t size, CUmemoryPool pool,
			   CUstream s, int ptsz)
{
	struct async_call c = { .from_pool = f, .undo = undo, .pool = pool,
				.stream = s, .ptsz = ptsz };
	struct gdlc_pool *p;
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	CHECK_REAL(undo);
	e = stream_device(&c, &dev);
	if (e)
		return e;
	pthread_mutex_lock(&pool_lock);
	p = pool_for(pool, dev);
	pthread_mutex_unlock(&pool_lock);
	return p ? alloc_async(p, &c, dptr, size) : CUDA_ERROR_OUT_OF_MEMORY;
}

EXPORT CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t size, CUstream s)
{
	return alloc_current(REAL(cuMemAllocAsync), REAL(cuMemFreeAsync),
			     dptr, size, s, 0);
}

EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t size,
				     CUstream s)
{
	return alloc_current(REAL(cuMemAllocAsync_ptsz),
			     REAL(cuMemFreeAsync_ptsz), dptr, size, s, 1);
}

EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t size,
					CUmemoryPool pool, CUstream s)
{
	return alloc_pool(REAL(cuMemAllocFromPoolAsync), REAL(cuMemFreeAsync),
			  dptr, size, pool, s, 0);
}

EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t size,
					     CUmemoryPool pool, CUstream s)
{
	return alloc_pool(REAL(cuMemAllocFromPoolAsync_ptsz),
			  REAL(cuMemFreeAsync_ptsz), dptr, size, pool, s, 1);
}

/* ---- frees: the pointer leaves the map before the driver call ---- */

struct gdlc_pool *gdlc_pool_untrack_begin(CUdeviceptr ptr)
{
	uint64_t v;
	int ret;

	pthread_mutex_lock(&pool_lock);
	ret = gdl_map_take(&async_map, ptr, &v);
	pthread_mutex_unlock(&pool_lock);
	return ret ? NULL : (struct gdlc_pool *)(uintptr_t)v;
}

/* The pool keeps the memory cached: settled, not released outright. */
void gdlc_pool_untrack_end(struct gdlc_pool *p, CUresult e, CUdeviceptr ptr)
{
	pthread_mutex_lock(&pool_lock);
	if (e) {
		/* Refused: back in the map, unless handed out again (stale). */
		if (gdl_map_add(&async_map, ptr, (uintptr_t)p) != 1) {
			pthread_mutex_unlock(&pool_lock);
			return;
		}
	}
	p->live--;
	settle(p);
	pthread_mutex_unlock(&pool_lock);
}

static CUresult free_async(__typeof__(cuMemFreeAsync) *f, CUdeviceptr ptr,
			   CUstream s)
{
	struct gdlc_pool *p;
	uint64_t h, info;
	CUresult e;

	CHECK_REAL(f);
	p = gdlc_pool_untrack_begin(ptr);
	if (p) {
		e = f(ptr, s);
		gdlc_pool_untrack_end(p, e, ptr);
		return e;
	}
	/* cuMemFreeAsync of a cuMemAlloc'd pointer. */
	h = gdlc_untrack_begin(&gdlc_ptr_map, ptr, &info);
	e = f(ptr, s);
	if (!e && h && gdlc_exported_take(ptr))
		return e;	/* exported: charged until exit (alloc.c) */
	gdlc_untrack_end(&gdlc_ptr_map, e, ptr, h, info);
	return e;
}

EXPORT CUresult cuMemFreeAsync(CUdeviceptr p, CUstream s)
{
	return free_async(REAL(cuMemFreeAsync), p, s);
}

EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s)
{
	return free_async(REAL(cuMemFreeAsync_ptsz), p, s);
}

/* ---- pools ---- */

/*
 * Where a new pool's memory is charged: its device; nowhere for a pinned
 * pool on the host; otherwise (managed, a location on no device or one
 * not known here) where it first allocates, as managed memory is.
 */
static CUdevice pool_place(const CUmemPoolProps *props)
{
	switch (props->location.type) {
	case CU_MEM_LOCATION_TYPE_DEVICE:
		return props->location.id;
	case CU_MEM_LOCATION_TYPE_HOST:
	case CU_MEM_LOCATION_TYPE_HOST_NUMA:
	case CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT:
		if (props->allocType == 1)	/* CU_MEM_ALLOCATION_TYPE_PINNED */
			return POOL_HOST;
		return POOL_UNPLACED;
	default:
		return POOL_UNPLACED;
	}
}

EXPORT CUresult cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props)
{
	__typeof__(cuMemPoolCreate) *f = REAL(cuMemPoolCreate);
	CUresult e;

	CHECK_REAL(f);
	e = f(pool, props);
	if (e || !props || !pool)
		return e;
	pthread_mutex_lock(&pool_lock);
	if (!pool_new(*pool, pool_place(props)))
		gdlc_say(1, "out of memory tracking a pool: it is charged on the device of its first allocation");
	pthread_mutex_unlock(&pool_lock);
	return e;
}

EXPORT CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t keep)
{
	__typeof__(cuMemPoolTrimTo) *f = REAL(cuMemPoolTrimTo);
	uint64_t v;
	CUresult e;

	CHECK_REAL(f);
	e = f(pool, keep);
	pthread_mutex_lock(&pool_lock);
	if (!e && !gdl_map_get(&pool_map, (uintptr_t)pool, &v))
		settle((struct gdlc_pool *)(uintptr_t)v);
	pthread_mutex_unlock(&pool_lock);
	return e;
}

/* Its memory goes once its last allocation is freed (the driver's rule). */
EXPORT CUresult cuMemPoolDestroy(CUmemoryPool pool)
{
	__typeof__(cuMemPoolDestroy) *f = REAL(cuMemPoolDestroy);
	uint64_t v;
	CUresult e;

	CHECK_REAL(f);
	e = f(pool);
	pthread_mutex_lock(&pool_lock);
	if (!e && !gdl_map_take(&pool_map, (uintptr_t)pool, &v)) {
		struct gdlc_pool *p = (struct gdlc_pool *)(uintptr_t)v;

		p->destroyed = 1;
		settle(p);
	}
	pthread_mutex_unlock(&pool_lock);
	return e;
}

/* Peer access to a pool: the peer right accessor -> the pool's device. */
EXPORT CUresult cuMemPoolSetAccess(CUmemoryPool pool, const CUmemAccessDesc *map,
				   size_t count)
{
	__typeof__(cuMemPoolSetAccess) *f = REAL(cuMemPoolSetAccess);
	struct gdlc_pool *p;
	CUdevice dev;
	size_t i;

	CHECK_REAL(f);
	if (!map && count)
		return CUDA_ERROR_INVALID_VALUE;
	if (gdlc_current_device(&dev))
		dev = 0;
	pthread_mutex_lock(&pool_lock);
	p = pool_get(pool, dev);
	dev = p ? p->dev : POOL_HOST;
	pthread_mutex_unlock(&pool_lock);
	for (i = 0; dev >= 0 && i < count; i++)
		if (map[i].location.type == CU_MEM_LOCATION_TYPE_DEVICE &&
		    map[i].flags != CU_MEM_ACCESS_FLAGS_PROT_NONE &&
		    map[i].location.id != dev &&
		    !gdlc_peer_allowed(map[i].location.id, dev))
			return CUDA_ERROR_NOT_PERMITTED;
	return f(pool, map, count);
}

/*
 * After a primary context's reset freed its stream-ordered allocations
 * behind us: every pool of @dev settled against the driver's figure.
 * (Their entries in async_map stay: a free of one fails in the driver
 * and puts it back; a new allocation at its address replaces it.)
 */
void gdlc_pools_settle_device(CUdevice dev)
{
	struct gdl_map_slot *v = NULL;
	size_t n, i;

	pthread_mutex_lock(&pool_lock);
	n = gdl_map_snapshot(&pool_map, &v);
	for (i = 0; i < n; i++) {
		struct gdlc_pool *p = (struct gdlc_pool *)(uintptr_t)v[i].val;

		if (p->dev == dev)
			settle(p);
	}
	pthread_mutex_unlock(&pool_lock);
	free(v);
}

void gdlc_pools_lock_all(void)
{
	pthread_mutex_lock(&pool_lock);
	gdl_map_lock_all(&pool_map);
	gdl_map_lock_all(&async_map);
}

void gdlc_pools_unlock_all(void)
{
	gdl_map_unlock_all(&async_map);
	gdl_map_unlock_all(&pool_map);
	pthread_mutex_unlock(&pool_lock);
}

/* A fork child: the parent's pools and charges are not its own. */
void gdlc_pools_forget(void)
{
	gdl_map_clear(&pool_map);
	gdl_map_clear(&async_map);
}

void gdlc_pools_init(void)
{
	gdl_map_init(&pool_map);
	gdl_map_init(&async_map);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgpudmalock-cuda.so: an LD_PRELOAD interposer on the CUDA driver API
 * (and NVML's memory query) that charges every GPU allocation to the
 * caller's agent in the gpu_dma_lock kernel ledger *before* the driver sees
 * it, and checks peer copies, IPC imports and host registrations against
 * the module's DMA rules.  docs/cuda.md and libgpudmalock-cuda(7) describe
 * the behaviour; the comments here say why it is built this way.
 *
 * Every wrapper is reached three ways, and all three are covered:
 *  - direct linking: this library comes first in the global scope;
 *  - dlopen("libcuda.so.1") + dlsym(): dlsym on a handle searches that
 *    library, never LD_PRELOAD objects, so dlsym itself is wrapped;
 *  - cuGetProcAddress(_v2), through which CUDA 11.3+ runtimes fetch every
 *    entry point: the pointer the driver returns is swapped for ours.
 * The real functions come from our own dlopen of libcuda.so.1 and the real
 * dlsym, so a wrapper can never call itself.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpudmalock.h"
#include "cuda_api.h"
#include "handle_map.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_CUDA_DEVICES 64
/* cudaMallocPitch rows are aligned to at most this many bytes. */
#define PITCH_ALIGN 512

typedef void *dlsym_fn(void *, const char *);

/* ---- symbol tables ---- */

enum {
#define X(sym, base, ptsz, lib) IDX_##sym,
	GDL_CUDA_WRAPPED(X)
#undef X
	NR_WRAPPED
};

struct wrapped {
	const char *name;
	const char *base;
	int per_thread;
	int lib;
	void *wrapper;
};

static const struct wrapped wrapped[NR_WRAPPED] = {
#define X(sym, b, ptsz, l) \
	[IDX_##sym] = { .name = #sym, .base = b, .per_thread = ptsz, \
			.lib = l, .wrapper = (void *)sym },
	GDL_CUDA_WRAPPED(X)
#undef X
};

static void *real_ptr[NR_WRAPPED];
static dlsym_fn *real_dlsym_fn;
static void *lib_handle[2];
static const char *const lib_name[2] = { "libcuda.so.1", "libnvidia-ml.so.1" };

/*
 * The real dlsym, by version so the lookup cannot come back to our own
 * dlsym.  GLIBC_2.34 moved it into libc; GLIBC_2.2.5 is x86_64's original.
 */
static dlsym_fn *real_dlsym(void)
{
	dlsym_fn *f = __atomic_load_n(&real_dlsym_fn, __ATOMIC_ACQUIRE);

	if (!f) {
		f = (dlsym_fn *)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
		if (!f)
			f = (dlsym_fn *)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
		__atomic_store_n(&real_dlsym_fn, f, __ATOMIC_RELEASE);
	}
	return f;
}

/* Racing first calls both dlopen the same library: harmless, refcounted. */
static void *lib_sym(int lib, const char *name)
{
	void *h = __atomic_load_n(&lib_handle[lib], __ATOMIC_ACQUIRE);
	dlsym_fn *ds = real_dlsym();

	if (!h) {
		h = dlopen(lib_name[lib], RTLD_NOW | RTLD_LOCAL);
		if (!h)
			return NULL;
		__atomic_store_n(&lib_handle[lib], h, __ATOMIC_RELEASE);
	}
	return ds ? ds(h, name) : NULL;
}

static void *real_fn(int idx)
{
	void *p = __atomic_load_n(&real_ptr[idx], __ATOMIC_ACQUIRE);

	if (!p) {
		p = lib_sym(wrapped[idx].lib, wrapped[idx].name);
		__atomic_store_n(&real_ptr[idx], p, __ATOMIC_RELEASE);
	}
	return p;
}

#define REAL(sym) ((__typeof__(sym) *)real_fn(IDX_##sym))

/* Driver functions we call but do not wrap, cached the same way. */
#define HELPER(sym)							\
	static __typeof__(sym) *h_##sym(void)				\
	{								\
		static void *p;						\
		void *v = __atomic_load_n(&p, __ATOMIC_ACQUIRE);	\
		if (!v) {						\
			v = lib_sym(strncmp(#sym, "nvml", 4) ?		\
				    GDL_LIB_CUDA : GDL_LIB_NVML, #sym);	\
			__atomic_store_n(&p, v, __ATOMIC_RELEASE);	\
		}							\
		return (__typeof__(sym) *)v;				\
	}
HELPER(cuCtxGetDevice)
HELPER(cuDeviceGetPCIBusId)
HELPER(cuCtxPushCurrent_v2)
HELPER(cuCtxPopCurrent_v2)
HELPER(cuMemGetAddressRange_v2)
HELPER(cuIpcCloseMemHandle)
HELPER(nvmlDeviceGetPciInfo_v3)

/* ---- configuration and logging ---- */

static int log_level = 1;	/* GDL_CUDA_LOG: 0 quiet, 1 warnings, 2 each refusal */
static int fail_open;		/* GDL_CUDA_FAIL=open */
static uint64_t ctx_reserve;	/* GDL_CUDA_CTX_RESERVE */

static void say(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...)
{
	va_list ap;

	if (log_level < level)
		return;
	va_start(ap, fmt);
	fputs("libgpudmalock-cuda: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- the ledger: one open file per process ---- */

enum { LEDGER_UNOPENED, LEDGER_OPEN, LEDGER_ABSENT };

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int ledger_state;
static struct gdlock *ledger;
static struct gdl_device_info mdev[GDL_MAX_DEVICES];
static int nr_mdev;
/* CUDA ordinal -> module index; -1 unknown yet, -2 not managed. */
static int devmap[MAX_CUDA_DEVICES];

static struct gdl_map ptr_map;	/* CUdeviceptr -> handle */
static struct gdl_map vmm_map;	/* CUmemGenericAllocationHandle -> handle */
static struct gdl_map arr_map;	/* CUarray / CUmipmappedArray -> handle */
static struct gdl_map ctx_map;	/* CUcontext -> handle */

static struct {
	unsigned int refs;
	uint64_t handle;
} primary[MAX_CUDA_DEVICES];
static pthread_mutex_t primary_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The open file, or NULL when the module is absent.  Every allocation
 * asks, so the settled states are read without the lock: ledger and
 * mdev are written before ledger_state is published (release order).
 */
static struct gdlock *get_ledger(void)
{
	struct gdlock *g;
	int ret, i, st = __atomic_load_n(&ledger_state, __ATOMIC_ACQUIRE);

	if (st != LEDGER_UNOPENED)
		return st == LEDGER_OPEN ? ledger : NULL;
	pthread_mutex_lock(&state_lock);
	if (ledger_state == LEDGER_UNOPENED) {
		ret = gdlock_open(&ledger);
		if (ret) {
			if (fail_open)
				say(1, "%s: %s; GDL_CUDA_FAIL=open: allocations are NOT accounted",
				    GDL_DEVICE_PATH, strerror(-ret));
			else
				say(1, "%s: %s; every GPU allocation is refused (GDL_CUDA_FAIL=closed)",
				    GDL_DEVICE_PATH, strerror(-ret));
			__atomic_store_n(&ledger_state, LEDGER_ABSENT, __ATOMIC_RELEASE);
		} else {
			ret = gdlock_device_list(ledger, mdev, GDL_MAX_DEVICES);
			nr_mdev = ret < 0 ? 0 : ret > GDL_MAX_DEVICES ? GDL_MAX_DEVICES : ret;
			for (i = 0; i < MAX_CUDA_DEVICES; i++)
				devmap[i] = -1;
			__atomic_store_n(&ledger_state, LEDGER_OPEN, __ATOMIC_RELEASE);
		}
	}
	g = ledger_state == LEDGER_OPEN ? ledger : NULL;
	pthread_mutex_unlock(&state_lock);
	return g;
}

/* "DDDD:BB:SS.F" (any domain width, as CUDA and NVML print it). */
static int parse_bus_id(const char *s, unsigned int *dom, unsigned int *bdf)
{
	unsigned int d, b, sl, f;

	if (sscanf(s, "%x:%x:%x.%x", &d, &b, &sl, &f) != 4 || b > 0xff ||
	    sl > 0x1f || f > 7)
		return -1;
	*dom = d;
	*bdf = b << 8 | sl << 3 | f;
	return 0;
}

static int module_index_by_bus_id(const char *bus_id)
{
	unsigned int dom, bdf;
	int i;

	if (parse_bus_id(bus_id, &dom, &bdf))
		return -2;
	for (i = 0; i < nr_mdev; i++)
		if (mdev[i].flags & GDL_DEV_F_PCI && mdev[i].pci_domain == dom &&
		    mdev[i].pci_bdf == bdf)
			return mdev[i].index;
	return -2;
}

/* The module's index of CUDA device @dev, or -1 when it manages none. */
static int module_index(CUdevice dev)
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
	idx = module_index_by_bus_id(buf);
	__atomic_store_n(&devmap[dev], idx, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&state_lock);
	if (idx < 0)
		say(1, "CUDA device %d (%s) is not managed by gpu_dma_lock: its allocations are refused",
		    dev, buf);
	return idx < 0 ? -1 : idx;
}

static CUresult current_device(CUdevice *dev)
{
	__typeof__(cuCtxGetDevice) *f = h_cuCtxGetDevice();

	return f ? f(dev) : CUDA_ERROR_NOT_INITIALIZED;
}

static CUresult context_device(CUcontext ctx, CUdevice *dev)
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
	e = current_device(dev);
	pop(&dummy);
	return e;
}

/*
 * Charge @size bytes on CUDA device @dev.  *handle is 0 when nothing was
 * charged (no module and fail-open, or a zero size the driver will refuse).
 */
static CUresult reserve(CUdevice dev, uint64_t size, uint64_t *handle)
{
	struct gdlock *g;
	int idx, ret;

	*handle = 0;
	if (!size)
		return CUDA_SUCCESS;
	g = get_ledger();
	if (!g)
		return fail_open ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
	idx = module_index(dev);
	if (idx < 0)
		return CUDA_ERROR_OUT_OF_MEMORY;
	ret = gdlock_reserve(g, idx, size, handle);
	if (ret) {
		say(2, "refused %llu bytes on device %d: %s",
		    (unsigned long long)size, dev, gdlock_strerror(ret));
		*handle = 0;
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return CUDA_SUCCESS;
}

static void release(uint64_t handle)
{
	struct gdlock *g;

	if (!handle)
		return;
	g = get_ledger();
	if (g)
		gdlock_release(g, handle);
}

/* After the driver call: keep the charge on success, undo it on failure. */
static CUresult track(struct gdl_map *m, CUresult e, uint64_t key,
		      uint64_t handle)
{
	uint64_t old;

	if (e != CUDA_SUCCESS || !handle) {
		release(handle);
		return e;
	}
	/*
	 * A key still mapped was freed by a path we do not see (a destroyed
	 * context frees its memory): its old charge is stale.
	 */
	switch (gdl_map_put(m, key, handle, &old)) {
	case 1:
		release(old);
		break;
	case 0:
		break;
	default:
		say(1, "out of memory tracking an allocation; it stays charged until exit");
	}
	return e;
}

static void untrack(struct gdl_map *m, CUresult e, uint64_t key)
{
	uint64_t h;

	if (e == CUDA_SUCCESS && !gdl_map_take(m, key, &h))
		release(h);
}

/* Reserve on the current context's device. */
static CUresult reserve_current(uint64_t size, uint64_t *handle)
{
	CUdevice dev;
	CUresult e = current_device(&dev);

	return e ? e : reserve(dev, size, handle);
}

/* ---- allocations ---- */

#define CHECK_REAL(f) do { if (!(f)) return CUDA_ERROR_NOT_INITIALIZED; } while (0)

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t size)
{
	__typeof__(cuMemAlloc_v2) *f = REAL(cuMemAlloc_v2);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, size);
	return track(&ptr_map, e, e ? 0 : *dptr, h);
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
	e = reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, pitch, width, height, elem);
	return track(&ptr_map, e, e ? 0 : *dptr, h);
}

EXPORT CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t size,
				  unsigned int flags)
{
	__typeof__(cuMemAllocManaged) *f = REAL(cuMemAllocManaged);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, size, flags);
	return track(&ptr_map, e, e ? 0 : *dptr, h);
}

/*
 * Stream-ordered allocations are charged when enqueued and released when
 * the free is enqueued: what a pool keeps cached after a free is the
 * driver's, as with the caching allocators above it.
 */
static CUresult alloc_async(__typeof__(cuMemAllocAsync) *f, CUdeviceptr *dptr,
			    size_t size, CUstream s)
{
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, size, s);
	return track(&ptr_map, e, e ? 0 : *dptr, h);
}

EXPORT CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t size, CUstream s)
{
	return alloc_async(REAL(cuMemAllocAsync), dptr, size, s);
}

EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t size,
				     CUstream s)
{
	return alloc_async(REAL(cuMemAllocAsync_ptsz), dptr, size, s);
}

static CUresult alloc_pool(__typeof__(cuMemAllocFromPoolAsync) *f,
			   CUdeviceptr *dptr, size_t size, CUmemoryPool pool,
			   CUstream s)
{
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = reserve_current(size, &h);
	if (e)
		return e;
	e = f(dptr, size, pool, s);
	return track(&ptr_map, e, e ? 0 : *dptr, h);
}

EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t size,
					CUmemoryPool pool, CUstream s)
{
	return alloc_pool(REAL(cuMemAllocFromPoolAsync), dptr, size, pool, s);
}

EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t size,
					     CUmemoryPool pool, CUstream s)
{
	return alloc_pool(REAL(cuMemAllocFromPoolAsync_ptsz), dptr, size, pool,
			  s);
}

/*
 * The VMM path names its device in prop->location, whatever the current
 * context is (NCCL and PyTorch's expandable segments allocate for several
 * devices from one thread).  Host locations are pinned host memory, not
 * GPU memory: they pass uncharged.
 */
EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
			    const CUmemAllocationProp *prop,
			    unsigned long long flags)
{
	__typeof__(cuMemCreate) *f = REAL(cuMemCreate);
	uint64_t h = 0;
	CUresult e;

	CHECK_REAL(f);
	if (prop && prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE) {
		e = reserve(prop->location.id, size, &h);
		if (e)
			return e;
	}
	e = f(handle, size, prop, flags);
	return track(&vmm_map, e, e ? 0 : *handle, h);
}

/* Bytes per element, or 0 for formats whose size we do not know. */
static unsigned int format_bytes(CUarray_format fmt, unsigned int channels)
{
	switch (fmt) {
	case CU_AD_FORMAT_UNSIGNED_INT8:
	case CU_AD_FORMAT_SIGNED_INT8:
		return channels;
	case CU_AD_FORMAT_UNSIGNED_INT16:
	case CU_AD_FORMAT_SIGNED_INT16:
	case CU_AD_FORMAT_HALF:
		return 2 * channels;
	case CU_AD_FORMAT_UNSIGNED_INT32:
	case CU_AD_FORMAT_SIGNED_INT32:
	case CU_AD_FORMAT_FLOAT:
		return 4 * channels;
	default:
		return 0;
	}
}

/*
 * Size of an array from its descriptor.  Block-compressed, YUV and
 * normalised formats are charged 16 bytes per element, the most any
 * format takes: an over-charge is safe, an under-charge is a bypass.
 * Returns 0 on overflow.
 */
static uint64_t array_bytes(size_t w, size_t h, size_t d, CUarray_format fmt,
			    unsigned int channels)
{
	uint64_t n, bpe = format_bytes(fmt, channels);

	if (!bpe || bpe > 16)
		bpe = 16;
	if (__builtin_mul_overflow((uint64_t)w, h ? h : 1, &n) ||
	    __builtin_mul_overflow(n, d ? d : 1, &n) ||
	    __builtin_mul_overflow(n, bpe, &n))
		return 0;
	return n;
}

EXPORT CUresult cuArrayCreate_v2(CUarray *arr, const CUDA_ARRAY_DESCRIPTOR *d)
{
	__typeof__(cuArrayCreate_v2) *f = REAL(cuArrayCreate_v2);
	uint64_t size, h;
	CUresult e;

	CHECK_REAL(f);
	if (!d || !arr)
		return CUDA_ERROR_INVALID_VALUE;
	size = array_bytes(d->Width, d->Height, 1, d->Format, d->NumChannels);
	if (!size)
		return CUDA_ERROR_OUT_OF_MEMORY;
	e = reserve_current(size, &h);
	if (e)
		return e;
	e = f(arr, d);
	return track(&arr_map, e, e ? 0 : (uintptr_t)*arr, h);
}

EXPORT CUresult cuArray3DCreate_v2(CUarray *arr,
				   const CUDA_ARRAY3D_DESCRIPTOR *d)
{
	__typeof__(cuArray3DCreate_v2) *f = REAL(cuArray3DCreate_v2);
	uint64_t size, h;
	CUresult e;

	CHECK_REAL(f);
	if (!d || !arr)
		return CUDA_ERROR_INVALID_VALUE;
	/* Layered and cubemap arrays: Depth already counts the layers. */
	size = array_bytes(d->Width, d->Height, d->Depth, d->Format,
			   d->NumChannels);
	if (!size)
		return CUDA_ERROR_OUT_OF_MEMORY;
	e = reserve_current(size, &h);
	if (e)
		return e;
	e = f(arr, d);
	return track(&arr_map, e, e ? 0 : (uintptr_t)*arr, h);
}

EXPORT CUresult cuMipmappedArrayCreate(CUmipmappedArray *arr,
				       const CUDA_ARRAY3D_DESCRIPTOR *d,
				       unsigned int levels)
{
	__typeof__(cuMipmappedArrayCreate) *f = REAL(cuMipmappedArrayCreate);
	uint64_t total = 0, h;
	size_t w, ht, dp;
	unsigned int l;
	CUresult e;

	CHECK_REAL(f);
	if (!d || !arr)
		return CUDA_ERROR_INVALID_VALUE;
	w = d->Width;
	ht = d->Height;
	dp = d->Depth;
	/*
	 * Each level halves every dimension but the layers and a cubemap's
	 * six faces, down to 1.  Past 64 levels every dimension is 1: the
	 * rest cost one element each, so a huge count does not loop for long.
	 */
	for (l = 0; l < (levels ? levels : 1); l++) {
		uint64_t n = array_bytes(w, ht, dp, d->Format, d->NumChannels);

		if (l >= 64) {
			if (__builtin_mul_overflow(n, (uint64_t)levels - l, &n) ||
			    __builtin_add_overflow(total, n, &total))
				return CUDA_ERROR_OUT_OF_MEMORY;
			break;
		}
		if (!n || __builtin_add_overflow(total, n, &total))
			return CUDA_ERROR_OUT_OF_MEMORY;
		w = w > 1 ? w / 2 : 1;
		ht = ht > 1 ? ht / 2 : ht;
		if (!(d->Flags & (CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_CUBEMAP)))
			dp = dp > 1 ? dp / 2 : dp;
	}
	e = reserve_current(total, &h);
	if (e)
		return e;
	e = f(arr, d, levels);
	return track(&arr_map, e, e ? 0 : (uintptr_t)*arr, h);
}

/* ---- frees: released once the driver has accepted the free ---- */

EXPORT CUresult cuMemFree_v2(CUdeviceptr p)
{
	__typeof__(cuMemFree_v2) *f = REAL(cuMemFree_v2);
	CUresult e;

	CHECK_REAL(f);
	e = f(p);
	untrack(&ptr_map, e, p);
	return e;
}

EXPORT CUresult cuMemFreeAsync(CUdeviceptr p, CUstream s)
{
	__typeof__(cuMemFreeAsync) *f = REAL(cuMemFreeAsync);
	CUresult e;

	CHECK_REAL(f);
	e = f(p, s);
	untrack(&ptr_map, e, p);
	return e;
}

EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s)
{
	__typeof__(cuMemFreeAsync_ptsz) *f = REAL(cuMemFreeAsync_ptsz);
	CUresult e;

	CHECK_REAL(f);
	e = f(p, s);
	untrack(&ptr_map, e, p);
	return e;
}

EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	__typeof__(cuMemRelease) *f = REAL(cuMemRelease);
	CUresult e;

	CHECK_REAL(f);
	e = f(handle);
	untrack(&vmm_map, e, handle);
	return e;
}

EXPORT CUresult cuArrayDestroy(CUarray arr)
{
	__typeof__(cuArrayDestroy) *f = REAL(cuArrayDestroy);
	CUresult e;

	CHECK_REAL(f);
	e = f(arr);
	untrack(&arr_map, e, (uintptr_t)arr);
	return e;
}

EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray arr)
{
	__typeof__(cuMipmappedArrayDestroy) *f = REAL(cuMipmappedArrayDestroy);
	CUresult e;

	CHECK_REAL(f);
	e = f(arr);
	untrack(&arr_map, e, (uintptr_t)arr);
	return e;
}

/* ---- memory info: the quota is the device the program sees ---- */

/*
 * Clamp (total, free) to the agent's quota on module device @idx:
 * total = min(quota, total), free = min(quota - usage, free), and 0 when
 * a lowered quota is below the usage.  Unlimited quotas change nothing.
 */
static void virtualise(int idx, unsigned long long *total,
		       unsigned long long *free)
{
	struct gdlock *g = get_ledger();
	struct gdl_quota q;
	uint64_t avail;

	if (!g) {
		/* Fail-closed: nothing can be allocated, so nothing is free. */
		if (!fail_open)
			*free = 0;
		return;
	}
	if (idx < 0 || gdlock_quota_get(g, 0, idx, &q)) {
		*free = 0;
		return;
	}
	if (q.quota == GDL_QUOTA_UNLIMITED)
		return;
	avail = q.quota > q.usage ? q.quota - q.usage : 0;
	if (q.quota < *total)
		*total = q.quota;
	if (avail < *free)
		*free = avail;
}

EXPORT CUresult cuMemGetInfo_v2(size_t *free, size_t *total)
{
	__typeof__(cuMemGetInfo_v2) *f = REAL(cuMemGetInfo_v2);
	unsigned long long t, fr;
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = f(free, total);
	if (e || !free || !total)
		return e;
	e = current_device(&dev);
	if (e)
		return e;
	t = *total;
	fr = *free;
	virtualise(get_ledger() ? module_index(dev) : -1, &t, &fr);
	*total = t;
	*free = fr;
	return CUDA_SUCCESS;
}

static int nvml_module_index(nvmlDevice_t dev)
{
	__typeof__(nvmlDeviceGetPciInfo_v3) *f = h_nvmlDeviceGetPciInfo_v3();
	nvmlPciInfo_t pci;
	int idx;

	if (!get_ledger())
		return -1;
	memset(&pci, 0, sizeof(pci));
	if (!f || f(dev, &pci) != NVML_SUCCESS)
		return -1;
	pci.busId[sizeof(pci.busId) - 1] = 0;
	pthread_mutex_lock(&state_lock);
	idx = module_index_by_bus_id(pci.busId);
	pthread_mutex_unlock(&state_lock);
	return idx;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *m)
{
	__typeof__(nvmlDeviceGetMemoryInfo) *f = REAL(nvmlDeviceGetMemoryInfo);
	nvmlReturn_t r;

	if (!f)
		return NVML_ERROR_UNINITIALIZED;
	r = f(dev, m);
	if (r != NVML_SUCCESS || !m)
		return r;
	virtualise(nvml_module_index(dev), &m->total, &m->free);
	m->used = m->total - m->free;
	return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev,
					       nvmlMemory_v2_t *m)
{
	__typeof__(nvmlDeviceGetMemoryInfo_v2) *f =
		REAL(nvmlDeviceGetMemoryInfo_v2);
	nvmlReturn_t r;

	if (!f)
		return NVML_ERROR_UNINITIALIZED;
	r = f(dev, m);
	if (r != NVML_SUCCESS || !m)
		return r;
	virtualise(nvml_module_index(dev), &m->total, &m->free);
	/* v2 reports the driver's reserved memory apart from "used". */
	m->used = m->total - m->free > m->reserved ?
		  m->total - m->free - m->reserved : 0;
	return r;
}

/* ---- contexts: the driver's unseen footprint ---- */

static CUresult ctx_created(CUresult e, CUcontext *pctx, uint64_t h)
{
	return track(&ctx_map, e, e ? 0 : (uintptr_t)*pctx, h);
}

EXPORT CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags,
			       CUdevice dev)
{
	__typeof__(cuCtxCreate_v2) *f = REAL(cuCtxCreate_v2);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = reserve(dev, ctx_reserve, &h);
	if (e)
		return e;
	return ctx_created(f(pctx, flags, dev), pctx, h);
}

EXPORT CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *params,
			       int nparams, unsigned int flags, CUdevice dev)
{
	__typeof__(cuCtxCreate_v3) *f = REAL(cuCtxCreate_v3);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = reserve(dev, ctx_reserve, &h);
	if (e)
		return e;
	return ctx_created(f(pctx, params, nparams, flags, dev), pctx, h);
}

EXPORT CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params,
			       unsigned int flags, CUdevice dev)
{
	__typeof__(cuCtxCreate_v4) *f = REAL(cuCtxCreate_v4);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = reserve(dev, ctx_reserve, &h);
	if (e)
		return e;
	return ctx_created(f(pctx, params, flags, dev), pctx, h);
}

EXPORT CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	__typeof__(cuCtxDestroy_v2) *f = REAL(cuCtxDestroy_v2);
	CUresult e;

	CHECK_REAL(f);
	e = f(ctx);
	untrack(&ctx_map, e, (uintptr_t)ctx);
	return e;
}

/* The primary context is charged once, while anyone holds it. */
EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	__typeof__(cuDevicePrimaryCtxRetain) *f = REAL(cuDevicePrimaryCtxRetain);
	uint64_t h = 0;
	CUresult e;

	CHECK_REAL(f);
	if (dev < 0 || dev >= MAX_CUDA_DEVICES)
		return f(pctx, dev);
	pthread_mutex_lock(&primary_lock);
	if (!primary[dev].refs) {
		e = reserve(dev, ctx_reserve, &h);
		if (e)
			goto out;
	}
	e = f(pctx, dev);
	if (e) {
		release(h);
		goto out;
	}
	if (!primary[dev].refs++)
		primary[dev].handle = h;
out:
	pthread_mutex_unlock(&primary_lock);
	return e;
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
	__typeof__(cuDevicePrimaryCtxRelease_v2) *f =
		REAL(cuDevicePrimaryCtxRelease_v2);
	CUresult e;

	CHECK_REAL(f);
	if (dev < 0 || dev >= MAX_CUDA_DEVICES)
		return f(dev);
	pthread_mutex_lock(&primary_lock);
	e = f(dev);
	if (!e && primary[dev].refs && !--primary[dev].refs) {
		release(primary[dev].handle);
		primary[dev].handle = 0;
	}
	pthread_mutex_unlock(&primary_lock);
	return e;
}

/* ---- DMA ---- */

/* 1 when the ledger allows DMA between CUDA devices @src and @dst. */
static int peer_allowed(CUdevice src, CUdevice dst)
{
	struct gdlock *g = get_ledger();
	int a, b, ret;

	if (src == dst)
		return 1;
	if (!g)
		return fail_open;
	a = module_index(src);
	b = module_index(dst);
	if (a < 0 || b < 0)
		return 0;
	ret = gdlock_peer_check(g, a, b);
	if (ret)
		say(2, "peer DMA %d -> %d refused: %s", src, dst,
		    gdlock_strerror(ret));
	return !ret;
}

EXPORT CUresult cuDeviceCanAccessPeer(int *can, CUdevice dev, CUdevice peer)
{
	__typeof__(cuDeviceCanAccessPeer) *f = REAL(cuDeviceCanAccessPeer);
	CUresult e;

	CHECK_REAL(f);
	e = f(can, dev, peer);
	/* Frameworks ask this first and fall back to staged copies. */
	if (!e && can && *can && !peer_allowed(dev, peer))
		*can = 0;
	return e;
}

EXPORT CUresult cuCtxEnablePeerAccess(CUcontext peer, unsigned int flags)
{
	__typeof__(cuCtxEnablePeerAccess) *f = REAL(cuCtxEnablePeerAccess);
	CUdevice self, other;
	CUresult e;

	CHECK_REAL(f);
	e = current_device(&self);
	if (!e)
		e = context_device(peer, &other);
	if (e)
		return e;
	if (!peer_allowed(self, other))
		return CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;
	return f(peer, flags);
}

static CUresult peer_copy_check(CUcontext dctx, CUcontext sctx)
{
	CUdevice d, s;
	CUresult e = context_device(dctx, &d);

	if (!e)
		e = context_device(sctx, &s);
	if (e)
		return e;
	return peer_allowed(s, d) ? CUDA_SUCCESS : CUDA_ERROR_NOT_PERMITTED;
}

EXPORT CUresult cuMemcpyPeer(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
			     CUcontext sctx, size_t n)
{
	__typeof__(cuMemcpyPeer) *f = REAL(cuMemcpyPeer);
	CUresult e;

	CHECK_REAL(f);
	e = peer_copy_check(dctx, sctx);
	return e ? e : f(dst, dctx, src, sctx, n);
}

EXPORT CUresult cuMemcpyPeer_ptds(CUdeviceptr dst, CUcontext dctx,
				  CUdeviceptr src, CUcontext sctx, size_t n)
{
	__typeof__(cuMemcpyPeer_ptds) *f = REAL(cuMemcpyPeer_ptds);
	CUresult e;

	CHECK_REAL(f);
	e = peer_copy_check(dctx, sctx);
	return e ? e : f(dst, dctx, src, sctx, n);
}

EXPORT CUresult cuMemcpyPeerAsync(CUdeviceptr dst, CUcontext dctx,
				  CUdeviceptr src, CUcontext sctx, size_t n,
				  CUstream s)
{
	__typeof__(cuMemcpyPeerAsync) *f = REAL(cuMemcpyPeerAsync);
	CUresult e;

	CHECK_REAL(f);
	e = peer_copy_check(dctx, sctx);
	return e ? e : f(dst, dctx, src, sctx, n, s);
}

EXPORT CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr dst, CUcontext dctx,
				       CUdeviceptr src, CUcontext sctx,
				       size_t n, CUstream s)
{
	__typeof__(cuMemcpyPeerAsync_ptsz) *f = REAL(cuMemcpyPeerAsync_ptsz);
	CUresult e;

	CHECK_REAL(f);
	e = peer_copy_check(dctx, sctx);
	return e ? e : f(dst, dctx, src, sctx, n, s);
}

/* May the caller's agent access [addr, addr + len) on CUDA device @dev? */
static int range_allowed(CUdevice dev, uint64_t addr, uint64_t len)
{
	struct gdlock *g = get_ledger();
	int idx, ret;

	if (!g)
		return fail_open;
	idx = module_index(dev);
	if (idx < 0)
		return 0;
	ret = gdlock_dma_check(g, idx, addr, len,
			       GDL_ACCESS_READ | GDL_ACCESS_WRITE);
	if (ret)
		say(2, "DMA to [%#llx, +%llu) on device %d refused: %s",
		    (unsigned long long)addr, (unsigned long long)len, dev,
		    gdlock_strerror(ret));
	return !ret;
}

/*
 * An imported buffer is another process's memory: it is only known once
 * mapped, so the check runs on the mapped range and a refusal unmaps it.
 */
EXPORT CUresult cuIpcOpenMemHandle_v2(CUdeviceptr *pdptr, CUipcMemHandle hd,
				      unsigned int flags)
{
	__typeof__(cuIpcOpenMemHandle_v2) *f = REAL(cuIpcOpenMemHandle_v2);
	__typeof__(cuMemGetAddressRange_v2) *range = h_cuMemGetAddressRange_v2();
	__typeof__(cuIpcCloseMemHandle) *close_h = h_cuIpcCloseMemHandle();
	CUdeviceptr base;
	size_t size;
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	CHECK_REAL(range);
	CHECK_REAL(close_h);
	e = current_device(&dev);
	if (e)
		return e;
	e = f(pdptr, hd, flags);
	if (e)
		return e;
	if (range(&base, &size, *pdptr) == CUDA_SUCCESS &&
	    range_allowed(dev, base, size))
		return CUDA_SUCCESS;
	close_h(*pdptr);
	*pdptr = 0;
	return CUDA_ERROR_NOT_PERMITTED;
}

/*
 * Pinning host memory lets the device DMA into it: the agent must be
 * allowed on the device at all (a non-zero quota).  Registering I/O memory
 * (another device's BAR) is peer-to-peer DMA and needs an ACL entry
 * covering that range.
 */
static int host_dma_allowed(CUdevice dev)
{
	struct gdlock *g = get_ledger();
	struct gdl_quota q;
	int idx;

	if (!g)
		return fail_open;
	idx = module_index(dev);
	return idx >= 0 && !gdlock_quota_get(g, 0, idx, &q) && q.quota;
}

EXPORT CUresult cuMemHostRegister_v2(void *p, size_t size, unsigned int flags)
{
	__typeof__(cuMemHostRegister_v2) *f = REAL(cuMemHostRegister_v2);
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = current_device(&dev);
	if (e)
		return e;
	if (flags & CU_MEMHOSTREGISTER_IOMEMORY ?
	    !range_allowed(dev, (uintptr_t)p, size) : !host_dma_allowed(dev))
		return CUDA_ERROR_NOT_PERMITTED;
	return f(p, size, flags);
}

EXPORT CUresult cuMemHostAlloc(void **pp, size_t size, unsigned int flags)
{
	__typeof__(cuMemHostAlloc) *f = REAL(cuMemHostAlloc);
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = current_device(&dev);
	if (e)
		return e;
	if (!host_dma_allowed(dev))
		return CUDA_ERROR_NOT_PERMITTED;
	return f(pp, size, flags);
}

/* ---- cuGetProcAddress and dlsym ---- */

static int warned_by_name;

/*
 * The wrapper for the entry point @p the driver returned for @symbol.  The
 * driver picks the ABI version from cudaVersion and flags; matching the
 * pointer against our versions' real addresses keeps that choice.  An
 * unknown pointer for a wrapped name is matched by name and stream
 * flavour, except the unversioned legacy symbol of a function whose
 * current ABI is a _v2 (a different signature): that is refused rather
 * than passed through unaccounted.
 */
static void *wrap_proc(const char *symbol, void *p, cuuint64_t flags,
		       CUresult *e)
{
	int per_thread = !!(flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
	int i, by_name = -1, known = 0;

	for (i = 0; i < NR_WRAPPED; i++) {
		if (wrapped[i].lib != GDL_LIB_CUDA)
			continue;
		if (real_fn(i) == p)
			return wrapped[i].wrapper;
		if (strcmp(wrapped[i].base, symbol))
			continue;
		known = 1;
		if (wrapped[i].per_thread == per_thread || by_name < 0)
			by_name = i;
	}
	if (!known)
		return p;
	if (p == lib_sym(GDL_LIB_CUDA, symbol)) {
		say(1, "%s: legacy ABI requested through cuGetProcAddress; refused", symbol);
		*e = CUDA_ERROR_NOT_SUPPORTED;
		return NULL;
	}
	if (!__atomic_exchange_n(&warned_by_name, 1, __ATOMIC_RELAXED))
		say(1, "%s: driver returned an unknown entry point; wrapping it by name", symbol);
	return wrapped[by_name].wrapper;
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn,
				 int cudaVersion, cuuint64_t flags)
{
	__typeof__(cuGetProcAddress) *f = REAL(cuGetProcAddress);
	CUresult e;

	CHECK_REAL(f);
	e = f(symbol, pfn, cudaVersion, flags);
	if (e == CUDA_SUCCESS && pfn && *pfn && symbol)
		*pfn = wrap_proc(symbol, *pfn, flags, &e);
	return e;
}

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn,
				    int cudaVersion, cuuint64_t flags,
				    CUdriverProcAddressQueryResult *status)
{
	__typeof__(cuGetProcAddress_v2) *f = REAL(cuGetProcAddress_v2);
	CUresult e;

	CHECK_REAL(f);
	e = f(symbol, pfn, cudaVersion, flags, status);
	if (e == CUDA_SUCCESS && pfn && *pfn && symbol) {
		*pfn = wrap_proc(symbol, *pfn, flags, &e);
		if (e && status)
			*status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
	}
	return e;
}

static int wrapped_index(const char *name)
{
	int i;

	if (!name || (strncmp(name, "cu", 2) && strncmp(name, "nvml", 4)))
		return -1;
	for (i = 0; i < NR_WRAPPED; i++)
		if (!strcmp(wrapped[i].name, name))
			return i;
	return -1;
}

/*
 * dlsym(handle, "cuMemAlloc_v2") is how runtimes and Python bindings reach
 * the driver.  Anything else goes to the real dlsym as a tail call, so
 * that glibc still sees the caller's return address (RTLD_NEXT is relative
 * to the caller).  tests/cuda checks that RTLD_NEXT still works.
 */
EXPORT void *dlsym(void *handle, const char *name)
{
	dlsym_fn *ds = real_dlsym();
	int i = wrapped_index(name);

	if (!ds)
		return NULL;
	if (i >= 0)
		return ds(handle, name) ? wrapped[i].wrapper : NULL;
	return ds(handle, name);
}

/* For the tests: every wrapped symbol, in GDL_CUDA_WRAPPED order. */
EXPORT unsigned int gdlcuda_wrapped(const char *const **names)
{
	static const char *const list[] = {
#define X(sym, base, ptsz, lib) #sym,
		GDL_CUDA_WRAPPED(X)
#undef X
	};

	*names = list;
	return NR_WRAPPED;
}

/* ---- process life: configuration, fork ---- */

static void before_fork(void)
{
	pthread_mutex_lock(&primary_lock);
	pthread_mutex_lock(&state_lock);
	gdl_map_lock_all(&ptr_map);
	gdl_map_lock_all(&vmm_map);
	gdl_map_lock_all(&arr_map);
	gdl_map_lock_all(&ctx_map);
}

static void after_fork_parent(void)
{
	gdl_map_unlock_all(&ctx_map);
	gdl_map_unlock_all(&arr_map);
	gdl_map_unlock_all(&vmm_map);
	gdl_map_unlock_all(&ptr_map);
	pthread_mutex_unlock(&state_lock);
	pthread_mutex_unlock(&primary_lock);
}

/*
 * The child shares the parent's open file, and with it the parent's
 * reservations: freeing through it would release the parent's charges.
 * It drops its copy of the descriptor (the parent's file stays open) and
 * the parent's bookkeeping, and opens its own file on first use.
 */
static void after_fork_child(void)
{
	after_fork_parent();
	if (ledger_state == LEDGER_OPEN)
		gdlock_close(ledger);
	ledger = NULL;
	ledger_state = LEDGER_UNOPENED;
	gdl_map_clear(&ptr_map);
	gdl_map_clear(&vmm_map);
	gdl_map_clear(&arr_map);
	gdl_map_clear(&ctx_map);
	memset(primary, 0, sizeof(primary));
}

__attribute__((constructor)) static void gdl_cuda_init(void)
{
	const char *s;
	uint64_t v;

	s = getenv("GDL_CUDA_LOG");
	if (s && *s >= '0' && *s <= '2')
		log_level = *s - '0';
	s = getenv("GDL_CUDA_FAIL");
	if (s && !strcmp(s, "open"))
		fail_open = 1;
	else if (s && *s && strcmp(s, "closed"))
		say(1, "GDL_CUDA_FAIL=%s: expected closed or open; using closed", s);
	s = getenv("GDL_CUDA_CTX_RESERVE");
	if (s && *s) {
		if (gdlock_parse_size(s, &v))
			say(1, "GDL_CUDA_CTX_RESERVE=%s: not a size; ignored", s);
		else
			ctx_reserve = v;
	}
	gdl_map_init(&ptr_map);
	gdl_map_init(&vmm_map);
	gdl_map_init(&arr_map);
	gdl_map_init(&ctx_map);
	real_dlsym();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A test double of libcuda.so.1: every entry point the interposer wraps or
 * calls, over a fake device memory that is only bookkeeping (addresses
 * are made up, nothing is mapped).  Devices come from FAKE_CUDA_PCI, a
 * comma-separated list of PCI addresses (the test VM's edu devices), so
 * that the interposer maps them to the module's devices as it would real
 * GPUs.  FAKE_CUDA_MEM is each device's size (default 16G).  Linked with
 * -Bsymbolic: the addresses cuGetProcAddress hands out are this library's
 * own, as in the real driver, not the interposer's.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_api.h"
#include "proc_versions.h"
#include "fake.h"

#define MAX_DEV 8
#define MAX_ALLOCS 4096
#define API __attribute__((visibility("default")))

struct CUctx_st {
	int dev;
	int primary;
	size_t heap;	/* CU_LIMIT_MALLOC_HEAP_SIZE */
};
/* An array lives in the context current at its creation. */
struct CUarray_st {
	size_t size;
	int dev;
	CUcontext ctx;
};
struct CUmipmappedArray_st {
	size_t size;
	int dev;
	CUcontext ctx;
};
/*
 * A stream belongs to the context current at its creation (the NULL,
 * legacy and per-thread handles: the current one).  While captured,
 * stream-ordered allocations become allocation nodes of its graph.
 */
struct CUstream_st {
	CUcontext ctx;
	int capturing;
	CUgraph graph;
	unsigned long long id;
};
/*
 * A stream-ordered pool: what it reserved stays until trimmed.  A pool
 * located on no device (managed) lives on the device of its first
 * allocation (dev -1 until then).
 */
struct CUmemPoolHandle_st {
	int dev;
	unsigned long long reserved, used, threshold;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ndev = -1;
static char pci[MAX_DEV][32];
static unsigned long long dev_mem = 16ULL << 30;
static unsigned long long live[MAX_DEV], next_addr[MAX_DEV];
static unsigned long long driver_allocs;
/*
 * The driver's own memory for the process (contexts, modules, heaps),
 * which NVML's per-process figure includes: FAKE_CUDA_CTX_MEM bytes per
 * context, 1 MiB per module, the malloc heap limit per context.
 */
static unsigned long long driver_own[MAX_DEV], ctx_mem;
static struct CUctx_st primary_ctx[MAX_DEV];
static unsigned int primary_refs[MAX_DEV];
static __thread CUcontext current;
static __thread CUcontext stack[8];
static __thread int depth;

static struct {
	unsigned long long addr, size;
	int dev;
	unsigned int maps;	/* VMM: live mappings of this handle */
	unsigned int refs;	/* VMM: the creation and retains not released */
	CUmemoryPool pool;	/* stream-ordered: its pool */
	CUcontext ctx;		/* cuMemAlloc & co: the context it was made in */
} allocs[MAX_ALLOCS];
static struct CUmemPoolHandle_st default_pool[MAX_DEV];
static CUmemoryPool current_pool[MAX_DEV];

/* VMM mappings: a handle's memory lives until released and unmapped. */
#define MAX_MAPPINGS 64
static struct {
	unsigned long long va, size;
	int alloc;		/* index in allocs, -1 for a free slot */
} mappings[MAX_MAPPINGS];
static unsigned long long next_va = 0x7f0000000000ULL;
/*
 * Mappings of multicast objects (MC_HANDLE, below): the handle mapped,
 * which cuMemRetainAllocationHandle names (not a device allocation).
 */
#define MAX_MC_MAPPINGS 8
static struct {
	unsigned long long va, size, mc;	/* mc 0: a free slot */
} mc_mappings[MAX_MC_MAPPINGS];
#define MC_HANDLE (1ULL << 62)

/*
 * fake_cuda_on_next_free(): the next free, destroy or release calls a
 * hook once it has freed the object, before it returns, and the object's
 * address (or array, or context) is the next one of its kind handed out.
 * That widens a real driver's window deterministically: another thread
 * that allocates during the hook gets the very address being freed.
 */
static void (*free_hook)(void *);
static void *free_hook_arg;
static unsigned long long recycled_addr[MAX_DEV];
static void *recycled_array;
static CUcontext recycled_ctx;

API void fake_cuda_on_next_free(void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&lock);
	free_hook_arg = arg;
	free_hook = fn;
	pthread_mutex_unlock(&lock);
}

/* Called without the lock, after the object is freed. */
static void after_free(void)
{
	void (*fn)(void *);
	void *arg;

	pthread_mutex_lock(&lock);
	fn = free_hook;
	arg = free_hook_arg;
	free_hook = NULL;
	pthread_mutex_unlock(&lock);
	if (fn)
		fn(arg);
}

static void setup(void)
{
	const char *s, *m;
	int i;

	if (ndev >= 0)
		return;
	s = getenv("FAKE_CUDA_PCI");
	m = getenv("FAKE_CUDA_MEM");
	if (m)
		dev_mem = strtoull(m, NULL, 0);
	m = getenv("FAKE_CUDA_CTX_MEM");
	if (m)
		ctx_mem = strtoull(m, NULL, 0);
	if (!s)
		s = "0000:00:05.0";
	for (ndev = 0; *s && ndev < MAX_DEV; ndev++) {
		size_t n = strcspn(s, ",");

		memcpy(pci[ndev], s, n < 31 ? n : 31);
		s += n + (s[n] == ',');
	}
	for (i = 0; i < MAX_MAPPINGS; i++)
		mappings[i].alloc = -1;
	for (i = 0; i < MAX_DEV; i++) {
		next_addr[i] = (unsigned long long)(i + 1) << 40;
		primary_ctx[i].dev = i;
		default_pool[i].dev = i;
		primary_ctx[i].primary = 1;
	}
}

/* Record a device allocation; the lock is held. */
static CUresult fake_alloc(int dev, size_t size, CUdeviceptr *out)
{
	int i;

	if (!size)
		return CUDA_ERROR_INVALID_VALUE;
	if (live[dev] + size > dev_mem)
		return CUDA_ERROR_OUT_OF_MEMORY;
	for (i = 0; i < MAX_ALLOCS && allocs[i].size; i++)
		;
	if (i == MAX_ALLOCS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (recycled_addr[dev]) {
		allocs[i].addr = recycled_addr[dev];
		recycled_addr[dev] = 0;
	} else {
		allocs[i].addr = next_addr[dev];
		next_addr[dev] += (size + 0xfffff) & ~0xfffffULL;
	}
	allocs[i].size = size;
	allocs[i].dev = dev;
	allocs[i].maps = 0;
	allocs[i].refs = 1;
	allocs[i].pool = NULL;
	allocs[i].ctx = NULL;
	live[dev] += size;
	driver_allocs++;
	if (out)
		*out = allocs[i].addr;
	return CUDA_SUCCESS;
}

static int find_alloc(CUdeviceptr p)
{
	int i;

	for (i = 0; i < MAX_ALLOCS; i++)
		if (allocs[i].size && p >= allocs[i].addr &&
		    p < allocs[i].addr + allocs[i].size)
			return i;
	return -1;
}

static CUresult fake_free(CUdeviceptr p)
{
	int i = find_alloc(p);

	if (i < 0 || allocs[i].addr != p)
		return CUDA_ERROR_INVALID_VALUE;
	if (allocs[i].pool) {
		/* Back to the pool's cache, trimmed to its release threshold. */
		CUmemoryPool pl = allocs[i].pool;
		unsigned long long keep;

		pl->used -= allocs[i].size;
		keep = pl->used > pl->threshold ? pl->used : pl->threshold;
		if (pl->reserved > keep) {
			live[pl->dev] -= pl->reserved - keep;
			pl->reserved = keep;
		}
	} else {
		live[allocs[i].dev] -= allocs[i].size;
	}
	allocs[i].size = 0;
	if (free_hook)
		recycled_addr[allocs[i].dev] = p;
	return CUDA_SUCCESS;
}

static CUresult cur_dev(int *dev)
{
	if (!current)
		return CUDA_ERROR_INVALID_CONTEXT;
	*dev = current->dev;
	return CUDA_SUCCESS;
}

static CUresult alloc_current(CUdeviceptr *dptr, size_t size)
{
	CUresult e;
	int dev;

	if (!dptr)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	e = cur_dev(&dev);
	if (!e)
		e = fake_alloc(dev, size, dptr);
	if (!e)
		allocs[find_alloc(*dptr)].ctx = current;
	pthread_mutex_unlock(&lock);
	return e;
}

static CUresult free_any(CUdeviceptr p)
{
	CUresult e;

	pthread_mutex_lock(&lock);
	e = fake_free(p);
	pthread_mutex_unlock(&lock);
	if (!e)
		after_free();
	return e;
}

API unsigned long long fake_cuda_live(int dev)
{
	unsigned long long v;

	pthread_mutex_lock(&lock);
	v = dev >= 0 && dev < MAX_DEV ? live[dev] : 0;
	pthread_mutex_unlock(&lock);
	return v;
}

/* What NVML reports this process holds on @dev. */
/* The driver's own memory grows (or shrinks) with no API call (a launch). */
API void fake_cuda_grow_driver_mem(int dev, long long bytes)
{
	pthread_mutex_lock(&lock);
	if (dev >= 0 && dev < MAX_DEV)
		driver_own[dev] += bytes;
	pthread_mutex_unlock(&lock);
}

API CUresult cuCtxSynchronize(void)
{
	return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

API CUresult cuCtxSynchronize_v2(CUcontext ctx)
{
	return ctx ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

/* Restores that reached the driver (fake_cuda_restores). */
static unsigned long long restores;

API unsigned long long fake_cuda_restores(void)
{
	return restores;
}

API CUresult cuCheckpointProcessRestore(int pid, CUcheckpointRestoreArgs *args)
{
	if (pid <= 0 || (args && args->gpuPairsCount && !args->gpuPairs))
		return CUDA_ERROR_INVALID_VALUE;
	__atomic_add_fetch(&restores, 1, __ATOMIC_RELAXED);
	return CUDA_SUCCESS;
}

API CUresult cuStreamSynchronize(CUstream s)
{
	(void)s;
	return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

API CUresult cuStreamSynchronize_ptsz(CUstream s)
{
	(void)s;
	return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

API unsigned long long fake_cuda_process_mem(int dev)
{
	unsigned long long v;

	pthread_mutex_lock(&lock);
	v = dev >= 0 && dev < MAX_DEV ? live[dev] + driver_own[dev] : 0;
	pthread_mutex_unlock(&lock);
	return v;
}

API CUresult cuCtxSetLimit(CUlimit limit, size_t value)
{
	if (!current)
		return CUDA_ERROR_INVALID_CONTEXT;
	if (limit != CU_LIMIT_MALLOC_HEAP_SIZE)
		return CUDA_SUCCESS;
	pthread_mutex_lock(&lock);
	driver_own[current->dev] += value - current->heap;
	current->heap = value;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuCtxGetLimit(size_t *value, CUlimit limit)
{
	if (!current || !value)
		return CUDA_ERROR_INVALID_CONTEXT;
	*value = limit == CU_LIMIT_MALLOC_HEAP_SIZE ? current->heap : 0;
	return CUDA_SUCCESS;
}

/* A module costs the current device 1 MiB of the driver's own memory. */
struct CUmod_st {
	int dev;
};

static CUresult module_load(CUmodule *module)
{
	if (!current || !module)
		return CUDA_ERROR_INVALID_CONTEXT;
	*module = calloc(1, sizeof(**module));
	if (!*module)
		return CUDA_ERROR_OUT_OF_MEMORY;
	(*module)->dev = current->dev;
	pthread_mutex_lock(&lock);
	driver_own[current->dev] += 1 << 20;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuModuleLoad(CUmodule *module, const char *fname)
{
	(void)fname;
	return module_load(module);
}

API CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
	(void)image;
	return module_load(module);
}

API CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
				unsigned int nopts, CUjit_option *opts,
				void **values)
{
	(void)image;
	(void)nopts;
	(void)opts;
	(void)values;
	return module_load(module);
}

API CUresult cuModuleLoadFatBinary(CUmodule *module, const void *fatCubin)
{
	(void)fatCubin;
	return module_load(module);
}

/* A library is a module loaded on the current device, for the fake. */
API CUresult cuLibraryLoadData(CUlibrary *library, const void *code,
			       CUjit_option *jo, void **jv, unsigned int jn,
			       CUlibraryOption *lo, void **lv, unsigned int ln)
{
	(void)code;
	(void)jo;
	(void)jv;
	(void)jn;
	(void)lo;
	(void)lv;
	(void)ln;
	return module_load((CUmodule *)library);
}

API CUresult cuLibraryLoadFromFile(CUlibrary *library, const char *file,
				   CUjit_option *jo, void **jv,
				   unsigned int jn, CUlibraryOption *lo,
				   void **lv, unsigned int ln)
{
	(void)file;
	return cuLibraryLoadData(library, NULL, jo, jv, jn, lo, lv, ln);
}

API CUresult cuLibraryUnload(CUlibrary library)
{
	return cuModuleUnload((CUmodule)library);
}

API CUresult cuModuleUnload(CUmodule module)
{
	if (!module)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	driver_own[module->dev] -= 1 << 20;
	pthread_mutex_unlock(&lock);
	free(module);
	return CUDA_SUCCESS;
}

API unsigned long long fake_cuda_driver_allocs(void)
{
	return __atomic_load_n(&driver_allocs, __ATOMIC_RELAXED);
}

API CUresult cuInit(unsigned int flags)
{
	pthread_mutex_lock(&lock);
	setup();
	pthread_mutex_unlock(&lock);
	return flags ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

API CUresult cuDriverGetVersion(int *v)
{
	*v = 13000;
	return CUDA_SUCCESS;
}

API CUresult cuDeviceGetCount(int *n)
{
	*n = ndev < 0 ? 0 : ndev;
	return ndev < 0 ? CUDA_ERROR_NOT_INITIALIZED : CUDA_SUCCESS;
}

API CUresult cuDeviceGet(CUdevice *dev, int ordinal)
{
	if (ndev < 0)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (ordinal < 0 || ordinal >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	*dev = ordinal;
	return CUDA_SUCCESS;
}

API CUresult cuDeviceGetPCIBusId(char *buf, int len, CUdevice dev)
{
	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	if (len < 13)
		return CUDA_ERROR_INVALID_VALUE;
	strncpy(buf, pci[dev], len - 1);
	buf[len - 1] = 0;
	return CUDA_SUCCESS;
}

static CUresult ctx_create(CUcontext *pctx, CUdevice dev)
{
	CUcontext c;

	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	c = recycled_ctx;
	recycled_ctx = NULL;
	pthread_mutex_unlock(&lock);
	if (c)
		memset(c, 0, sizeof(*c));
	else
		c = calloc(1, sizeof(*c));
	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	c->dev = dev;
	*pctx = current = c;
	pthread_mutex_lock(&lock);
	driver_own[dev] += ctx_mem;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	(void)flags;
	return ctx_create(pctx, dev);
}

API CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *params,
			    int nparams, unsigned int flags, CUdevice dev)
{
	(void)params;
	(void)nparams;
	(void)flags;
	return ctx_create(pctx, dev);
}

API CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params,
			    unsigned int flags, CUdevice dev)
{
	(void)params;
	(void)flags;
	return ctx_create(pctx, dev);
}

API CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	if (!ctx || ctx->primary)
		return CUDA_ERROR_INVALID_CONTEXT;
	if (current == ctx)
		current = NULL;
	pthread_mutex_lock(&lock);
	driver_own[ctx->dev] -= ctx_mem + ctx->heap;
	if (free_hook) {
		recycled_ctx = ctx;
		ctx = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(ctx);
	after_free();
	return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	if (!primary_refs[dev]++)
		driver_own[dev] += ctx_mem;
	pthread_mutex_unlock(&lock);
	*pctx = &primary_ctx[dev];
	return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
	CUresult e = CUDA_SUCCESS;

	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	if (primary_refs[dev]) {
		if (!--primary_refs[dev])
			driver_own[dev] -= ctx_mem;
	} else {
		e = CUDA_ERROR_INVALID_CONTEXT;
	}
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuCtxSetCurrent(CUcontext ctx)
{
	current = ctx;
	return CUDA_SUCCESS;
}

API CUresult cuCtxGetCurrent(CUcontext *ctx)
{
	*ctx = current;
	return CUDA_SUCCESS;
}

API CUresult cuCtxGetDevice(CUdevice *dev)
{
	return cur_dev(dev);
}

API CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
	if (!ctx || depth == 8)
		return CUDA_ERROR_INVALID_CONTEXT;
	stack[depth++] = current;
	current = ctx;
	return CUDA_SUCCESS;
}

API CUresult cuCtxPopCurrent_v2(CUcontext *ctx)
{
	if (!depth)
		return CUDA_ERROR_INVALID_CONTEXT;
	if (ctx)
		*ctx = current;
	current = stack[--depth];
	return CUDA_SUCCESS;
}

API CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t size)
{
	return alloc_current(dptr, size);
}

API CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width,
				size_t height, unsigned int elem)
{
	size_t p = (width + 511) & ~(size_t)511;

	(void)elem;
	*pitch = p;
	return alloc_current(dptr, p * height);
}

API CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t size,
			       unsigned int flags)
{
	(void)flags;
	return alloc_current(dptr, size);
}

/* From @pool, for device @dev: it grows by what its cache cannot serve. */
static CUresult pool_alloc(CUmemoryPool pl, CUdeviceptr *dptr, size_t size,
			   int dev)
{
	unsigned long long grow = 0;
	CUresult e;
	int i;

	if (!pl || !dptr || !size)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	if (pl->dev < 0)
		pl->dev = dev;
	if (pl->used + size > pl->reserved)
		grow = pl->used + size - pl->reserved;
	if (live[pl->dev] + grow > dev_mem) {
		pthread_mutex_unlock(&lock);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	e = fake_alloc(pl->dev, size, dptr);
	if (!e) {
		i = find_alloc(*dptr);
		allocs[i].pool = pl;
		allocs[i].ctx = current;	/* a reset of it frees it */
		live[pl->dev] += grow - size;
		pl->reserved += grow;
		pl->used += size;
	}
	pthread_mutex_unlock(&lock);
	return e;
}

static CUmemoryPool pool_of(int dev)
{
	return current_pool[dev] ? current_pool[dev] : &default_pool[dev];
}

/* ---- streams and their capture ---- */

static int special_stream(CUstream s)
{
	return !s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD;
}

static CUcontext stream_ctx(CUstream s)
{
	return special_stream(s) ? current : s->ctx;
}

static unsigned long long capture_seq;

API CUresult cuStreamCreate(CUstream *s, unsigned int flags)
{
	(void)flags;
	if (!s)
		return CUDA_ERROR_INVALID_VALUE;
	if (!current)
		return CUDA_ERROR_INVALID_CONTEXT;
	*s = calloc(1, sizeof(**s));
	if (!*s)
		return CUDA_ERROR_OUT_OF_MEMORY;
	(*s)->ctx = current;
	return CUDA_SUCCESS;
}

API CUresult cuStreamDestroy_v2(CUstream s)
{
	if (special_stream(s))
		return CUDA_ERROR_INVALID_VALUE;
	free(s);
	return CUDA_SUCCESS;
}

API CUresult cuStreamGetCtx(CUstream s, CUcontext *ctx)
{
	if (!ctx)
		return CUDA_ERROR_INVALID_VALUE;
	*ctx = stream_ctx(s);
	return *ctx ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

API CUresult cuStreamBeginCapture_v2(CUstream s, CUstreamCaptureMode mode)
{
	(void)mode;
	if (special_stream(s) || s->capturing)
		return CUDA_ERROR_INVALID_VALUE;
	if (cuGraphCreate(&s->graph, 0))
		return CUDA_ERROR_OUT_OF_MEMORY;
	pthread_mutex_lock(&lock);
	s->id = ++capture_seq;
	pthread_mutex_unlock(&lock);
	s->capturing = 1;
	return CUDA_SUCCESS;
}

API CUresult cuStreamEndCapture(CUstream s, CUgraph *graph)
{
	if (special_stream(s) || !s->capturing || !graph)
		return CUDA_ERROR_INVALID_VALUE;
	*graph = s->graph;
	s->graph = NULL;
	s->capturing = 0;
	return CUDA_SUCCESS;
}

API CUresult cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *status)
{
	if (!status)
		return CUDA_ERROR_INVALID_VALUE;
	*status = !special_stream(s) && s->capturing ?
		CU_STREAM_CAPTURE_STATUS_ACTIVE : CU_STREAM_CAPTURE_STATUS_NONE;
	return CUDA_SUCCESS;
}

API CUresult cuStreamGetCaptureInfo_v2(CUstream s, CUstreamCaptureStatus *status,
				       cuuint64_t *id, CUgraph *graph,
				       const CUgraphNode **deps, size_t *ndeps)
{
	CUresult e = cuStreamIsCapturing(s, status);

	if (e)
		return e;
	if (id && *status == CU_STREAM_CAPTURE_STATUS_ACTIVE)
		*id = s->id;
	if (graph)
		*graph = *status == CU_STREAM_CAPTURE_STATUS_ACTIVE ? s->graph : NULL;
	if (deps)
		*deps = NULL;
	if (ndeps)
		*ndeps = 0;
	return CUDA_SUCCESS;
}

static int capturing(CUstream s)
{
	return !special_stream(s) && s->capturing;
}

/* Captured: an allocation node of the capture's graph, nothing allocated. */
static CUresult capture_alloc(CUstream s, CUdeviceptr *dptr, size_t size,
			      int dev)
{
	CUDA_MEM_ALLOC_NODE_PARAMS p;
	CUgraphNode n;
	CUresult e;

	if (!dptr || !size)
		return CUDA_ERROR_INVALID_VALUE;
	memset(&p, 0, sizeof(p));
	p.poolProps.allocType = 1;
	p.poolProps.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.poolProps.location.id = dev;
	p.bytesize = size;
	e = cuGraphAddMemAllocNode(&n, s->graph, NULL, 0, &p);
	if (!e)
		*dptr = p.dptr;
	return e;
}

static CUresult alloc_async(CUdeviceptr *dptr, size_t size, CUstream s)
{
	CUcontext c = stream_ctx(s);

	if (!c)
		return CUDA_ERROR_INVALID_CONTEXT;
	if (capturing(s))
		return capture_alloc(s, dptr, size, c->dev);
	return pool_alloc(pool_of(c->dev), dptr, size, c->dev);
}

API CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t size, CUstream s)
{
	return alloc_async(dptr, size, s);
}

API CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t size, CUstream s)
{
	return alloc_async(dptr, size, s);
}

static CUresult from_pool(CUdeviceptr *dptr, size_t size, CUmemoryPool pool,
			  CUstream s)
{
	CUcontext c = stream_ctx(s);

	if (!c || !pool)
		return !c ? CUDA_ERROR_INVALID_CONTEXT : CUDA_ERROR_INVALID_VALUE;
	if (capturing(s))
		return capture_alloc(s, dptr, size, pool->dev >= 0 ? pool->dev : c->dev);
	return pool_alloc(pool, dptr, size, c->dev);
}

API CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t size,
				     CUmemoryPool pool, CUstream s)
{
	return from_pool(dptr, size, pool, s);
}

API CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t size,
					  CUmemoryPool pool, CUstream s)
{
	return from_pool(dptr, size, pool, s);
}

API CUresult cuDeviceGetDefaultMemPool(CUmemoryPool *pool, CUdevice dev)
{
	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	*pool = &default_pool[dev];
	return CUDA_SUCCESS;
}

API CUresult cuDeviceGetMemPool(CUmemoryPool *pool, CUdevice dev)
{
	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	*pool = pool_of(dev);
	return CUDA_SUCCESS;
}

API CUresult cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props)
{
	CUmemoryPool pl;

	int managed;

	if (!pool || !props)
		return CUDA_ERROR_INVALID_VALUE;
	/* Device pools, and pools on no device (managed: 2, CUDA 13). */
	managed = props->allocType == 2 ||
		  props->location.type == CU_MEM_LOCATION_TYPE_INVALID ||
		  props->location.type > CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT;
	if (!managed && (props->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
			 props->location.id < 0 || props->location.id >= ndev))
		return CUDA_ERROR_INVALID_VALUE;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return CUDA_ERROR_OUT_OF_MEMORY;
	pl->dev = managed ? -1 : props->location.id;
	*pool = pl;
	return CUDA_SUCCESS;
}

static void trim(CUmemoryPool pl, unsigned long long keep)
{
	if (keep < pl->used)
		keep = pl->used;
	if (pl->reserved > keep) {
		live[pl->dev] -= pl->reserved - keep;
		pl->reserved = keep;
	}
}

API CUresult cuMemPoolDestroy(CUmemoryPool pl)
{
	if (!pl || (pl >= default_pool && pl < default_pool + MAX_DEV))
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	if (pl->used) {
		pthread_mutex_unlock(&lock);
		return CUDA_ERROR_INVALID_VALUE;	/* the tests free first */
	}
	trim(pl, 0);
	pthread_mutex_unlock(&lock);
	free(pl);
	return CUDA_SUCCESS;
}

API CUresult cuMemPoolTrimTo(CUmemoryPool pl, size_t keep)
{
	if (!pl)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	trim(pl, keep);
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuMemPoolGetAttribute(CUmemoryPool pl, CUmemPool_attribute a,
				   void *value)
{
	cuuint64_t v;

	if (!pl || !value)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	switch (a) {
	case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
		v = pl->threshold;
		break;
	case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT:
		v = pl->reserved;
		break;
	case CU_MEMPOOL_ATTR_USED_MEM_CURRENT:
		v = pl->used;
		break;
	default:
		pthread_mutex_unlock(&lock);
		return CUDA_ERROR_INVALID_VALUE;
	}
	pthread_mutex_unlock(&lock);
	memcpy(value, &v, sizeof(v));
	return CUDA_SUCCESS;
}

API CUresult cuMemPoolSetAttribute(CUmemoryPool pl, CUmemPool_attribute a,
				   void *value)
{
	if (!pl || !value || a != CU_MEMPOOL_ATTR_RELEASE_THRESHOLD)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	memcpy(&pl->threshold, value, sizeof(pl->threshold));
	trim(pl, pl->threshold);
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

/*
 * VMM handles are the fake device address of their backing store, or a
 * host pointer with the top bit set for host locations.
 */
#define HOST_HANDLE (1ULL << 63)
API CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
			 const CUmemAllocationProp *prop,
			 unsigned long long flags)
{
	CUdeviceptr p;
	CUresult e;

	if (!prop || flags)
		return CUDA_ERROR_INVALID_VALUE;
	if (prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE) {
		void *hp = malloc(1);

		*handle = (uintptr_t)hp | HOST_HANDLE;
		return hp ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
	}
	if (prop->location.id < 0 || prop->location.id >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	e = fake_alloc(prop->location.id, size, &p);
	pthread_mutex_unlock(&lock);
	if (!e)
		*handle = p;
	return e;
}

API CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	CUresult e = CUDA_SUCCESS;
	int i;

	if (handle & HOST_HANDLE) {
		free((void *)(uintptr_t)(handle & ~HOST_HANDLE));
		return CUDA_SUCCESS;
	}
	if (handle & (1ULL << 62))
		return CUDA_SUCCESS;	/* a multicast object (MC_HANDLE) */
	pthread_mutex_lock(&lock);
	i = find_alloc(handle);
	if (i < 0 || allocs[i].addr != handle || !allocs[i].refs)
		e = CUDA_ERROR_INVALID_VALUE;
	else if (!--allocs[i].refs && !allocs[i].maps)
		e = fake_free(handle);	/* else it lives until the last unmap */
	pthread_mutex_unlock(&lock);
	if (!e)
		after_free();
	return e;
}

/* ---- shareable handles (shared reservations, issue 13) ---- */

/*
 * A POSIX shareable handle is a real open file (a memfd) holding the
 * handle, its size and device, so that the importer's ledger sees the
 * same open file the exporter named, as with a GPU driver's descriptor
 * passed over a UNIX socket.  The importer gets the same handle value (one
 * fake address space across processes) as a new allocation of its own.
 */
struct fake_shareable {
	unsigned long long handle, size;
	int dev;
};

API CUresult cuMemExportToShareableHandle(void *shareable,
					  CUmemGenericAllocationHandle handle,
					  CUmemAllocationHandleType type,
					  unsigned long long flags)
{
	struct fake_shareable fs = { .handle = handle };
	int i, fd;

	if (!shareable || flags || type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR ||
	    (handle & HOST_HANDLE))
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	i = find_alloc(handle);
	if (i >= 0) {
		fs.size = allocs[i].size;
		fs.dev = allocs[i].dev;
	}
	pthread_mutex_unlock(&lock);
	if (i < 0)
		return CUDA_ERROR_INVALID_VALUE;
	fd = memfd_create("fake-cuda-shareable", MFD_CLOEXEC);
	if (fd < 0)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (pwrite(fd, &fs, sizeof(fs), 0) != (ssize_t)sizeof(fs)) {
		close(fd);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	memcpy(shareable, &fd, sizeof(fd));
	return CUDA_SUCCESS;
}

API CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle *handle,
					    void *os_handle,
					    CUmemAllocationHandleType type)
{
	struct fake_shareable fs;
	int i;

	if (!handle || type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR ||
	    pread((int)(intptr_t)os_handle, &fs, sizeof(fs), 0) != (ssize_t)sizeof(fs) ||
	    !fs.size || fs.dev < 0 || fs.dev >= ndev)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_ALLOCS && allocs[i].size; i++)
		;
	if (i < MAX_ALLOCS) {
		memset(&allocs[i], 0, sizeof(allocs[i]));
		allocs[i].addr = fs.handle;
		allocs[i].size = fs.size;
		allocs[i].dev = fs.dev;
		allocs[i].refs = 1;
		live[fs.dev] += fs.size;	/* released like any handle */
	}
	pthread_mutex_unlock(&lock);
	if (i == MAX_ALLOCS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*handle = fs.handle;
	return CUDA_SUCCESS;
}

/* ---- end of shareable handles ---- */

/* The handle mapped at @addr (its alloc entry's address), retained. */
API CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle,
					 void *addr)
{
	CUresult e = CUDA_ERROR_INVALID_VALUE;
	uintptr_t a = (uintptr_t)addr;
	int m;

	pthread_mutex_lock(&lock);
	for (m = 0; m < MAX_MAPPINGS; m++)
		if (mappings[m].alloc >= 0 && a >= mappings[m].va &&
		    a - mappings[m].va < mappings[m].size) {
			*handle = allocs[mappings[m].alloc].addr;
			allocs[mappings[m].alloc].refs++;
			e = CUDA_SUCCESS;
			break;
		}
	for (m = 0; e && m < MAX_MC_MAPPINGS; m++)
		if (mc_mappings[m].mc && a >= mc_mappings[m].va &&
		    a - mc_mappings[m].va < mc_mappings[m].size) {
			*handle = mc_mappings[m].mc;	/* released as a no-op */
			e = CUDA_SUCCESS;
		}
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuMemGetAllocationPropertiesFromHandle(CUmemAllocationProp *prop,
						    CUmemGenericAllocationHandle handle)
{
	int i;

	pthread_mutex_lock(&lock);
	i = find_alloc(handle);
	if (i >= 0) {
		memset(prop, 0, sizeof(*prop));
		prop->type = 1;
		prop->location.type = CU_MEM_LOCATION_TYPE_DEVICE;
		prop->location.id = allocs[i].dev;
	}
	pthread_mutex_unlock(&lock);
	return i >= 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size,
				 size_t alignment, CUdeviceptr addr,
				 unsigned long long flags)
{
	(void)alignment;
	(void)addr;
	if (!ptr || !size || flags)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	*ptr = next_va;
	next_va += (size + 0x1fffff) & ~0x1fffffULL;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
	return ptr && size ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
		      CUmemGenericAllocationHandle handle,
		      unsigned long long flags)
{
	CUresult e = CUDA_ERROR_INVALID_VALUE;
	int i, m;

	if (!ptr || !size || flags || (handle & HOST_HANDLE))
		return handle & HOST_HANDLE ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
	if (handle & MC_HANDLE) {
		pthread_mutex_lock(&lock);
		for (m = 0; m < MAX_MC_MAPPINGS && mc_mappings[m].mc; m++)
			;
		if (m < MAX_MC_MAPPINGS) {
			mc_mappings[m].va = ptr;
			mc_mappings[m].size = size;
			mc_mappings[m].mc = handle;
		}
		pthread_mutex_unlock(&lock);
		return m < MAX_MC_MAPPINGS ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
	}
	pthread_mutex_lock(&lock);
	i = find_alloc(handle);
	for (m = 0; m < MAX_MAPPINGS; m++)
		if (mappings[m].alloc >= 0 && mappings[m].va == ptr)
			break;
	if (i >= 0 && allocs[i].addr == handle && allocs[i].refs &&
	    offset + size <= allocs[i].size && m == MAX_MAPPINGS) {
		for (m = 0; m < MAX_MAPPINGS && mappings[m].alloc >= 0; m++)
			;
		if (m < MAX_MAPPINGS) {
			mappings[m].va = ptr;
			mappings[m].size = size;
			mappings[m].alloc = i;
			allocs[i].maps++;
			e = CUDA_SUCCESS;
		} else {
			e = CUDA_ERROR_OUT_OF_MEMORY;
		}
	}
	pthread_mutex_unlock(&lock);
	return e;
}

/* Every mapping in [ptr, ptr + size); the first must start at ptr. */
API CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
	CUresult e = CUDA_ERROR_INVALID_VALUE;
	int m, i;

	pthread_mutex_lock(&lock);
	for (m = 0; m < MAX_MC_MAPPINGS; m++)
		if (mc_mappings[m].mc && mc_mappings[m].va == ptr) {
			mc_mappings[m].mc = 0;
			e = CUDA_SUCCESS;
		}
	for (m = 0; m < MAX_MAPPINGS; m++)
		if (mappings[m].alloc >= 0 && mappings[m].va == ptr)
			e = CUDA_SUCCESS;
	for (m = 0; !e && m < MAX_MAPPINGS; m++) {
		if (mappings[m].alloc < 0 || mappings[m].va < ptr ||
		    mappings[m].va - ptr >= size)
			continue;
		i = mappings[m].alloc;
		mappings[m].alloc = -1;
		if (!--allocs[i].maps && !allocs[i].refs)
			fake_free(allocs[i].addr);
	}
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuMemFree_v2(CUdeviceptr p)
{
	return free_any(p);
}

/* Captured: a free node; nothing freed now. */
static int capturing(CUstream s);

API CUresult cuMemFreeAsync(CUdeviceptr p, CUstream s)
{
	return capturing(s) ? CUDA_SUCCESS : free_any(p);
}

API CUresult cuMemFreeAsync_ptsz(CUdeviceptr p, CUstream s)
{
	return capturing(s) ? CUDA_SUCCESS : free_any(p);
}

/*
 * Arrays are charged what their descriptor says, like the interposer.
 * The live ones are listed, so that a primary context's reset can free
 * those made in it.
 */
#define MAX_ARRAYS 256
static struct CUarray_st *arrays_live[MAX_ARRAYS];

static CUresult array_create(void **out, size_t bytes)
{
	struct CUarray_st *a;
	int dev, k;

	pthread_mutex_lock(&lock);
	for (k = 0; k < MAX_ARRAYS && arrays_live[k]; k++)
		;
	if (cur_dev(&dev) || live[dev] + bytes > dev_mem || k == MAX_ARRAYS) {
		pthread_mutex_unlock(&lock);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	a = recycled_array ? recycled_array : malloc(sizeof(*a));
	recycled_array = NULL;
	if (a) {
		a->size = bytes;
		a->dev = dev;
		a->ctx = current;
		arrays_live[k] = a;
		live[dev] += bytes;
		driver_allocs++;
	}
	pthread_mutex_unlock(&lock);
	*out = a;
	return a ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

static void tiles_drop(const void *res);

/* The lock is held: forget @a, true when it was live. */
static int array_unlist(const struct CUarray_st *a)
{
	int k;

	for (k = 0; k < MAX_ARRAYS; k++)
		if (arrays_live[k] == a) {
			arrays_live[k] = NULL;
			return 1;
		}
	return 0;
}

static CUresult array_destroy(void *p, size_t size)
{
	struct CUarray_st *a = p;

	(void)size;
	pthread_mutex_lock(&lock);
	if (!array_unlist(a)) {
		pthread_mutex_unlock(&lock);
		return CUDA_ERROR_INVALID_HANDLE;
	}
	tiles_drop(p);
	live[a->dev] -= a->size;
	if (free_hook) {
		recycled_array = p;
		p = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(p);
	after_free();
	return CUDA_SUCCESS;
}

API CUresult cuArrayCreate_v2(CUarray *arr, const CUDA_ARRAY_DESCRIPTOR *d)
{
	return array_create((void **)arr, d->Width * (d->Height ? d->Height : 1) *
			    d->NumChannels);
}

/* Sparse and deferred-mapping arrays have no memory of their own. */
#define NO_BACKING (CUDA_ARRAY3D_SPARSE | CUDA_ARRAY3D_DEFERRED_MAPPING)

API CUresult cuArray3DCreate_v2(CUarray *arr, const CUDA_ARRAY3D_DESCRIPTOR *d)
{
	return array_create((void **)arr, d->Flags & NO_BACKING ? 0 :
			    d->Width * (d->Height ? d->Height : 1) *
			    (d->Depth ? d->Depth : 1) * d->NumChannels);
}

API CUresult cuMipmappedArrayCreate(CUmipmappedArray *arr,
				    const CUDA_ARRAY3D_DESCRIPTOR *d,
				    unsigned int levels)
{
	return array_create((void **)arr, d->Flags & NO_BACKING ? 0 :
			    d->Width * levels);
}

API CUresult cuArrayDestroy(CUarray arr)
{
	return arr ? array_destroy(arr, arr->size) : CUDA_ERROR_INVALID_HANDLE;
}

API CUresult cuMipmappedArrayDestroy(CUmipmappedArray arr)
{
	return arr ? array_destroy(arr, arr->size) : CUDA_ERROR_INVALID_HANDLE;
}

API CUresult cuMemGetInfo_v2(size_t *free_b, size_t *total)
{
	int dev;
	CUresult e;

	pthread_mutex_lock(&lock);
	e = cur_dev(&dev);
	if (!e) {
		*total = dev_mem;
		*free_b = dev_mem - live[dev];
	}
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size,
				     CUdeviceptr p)
{
	CUresult e = CUDA_ERROR_NOT_FOUND;
	int i;

	pthread_mutex_lock(&lock);
	i = find_alloc(p);
	if (i >= 0) {
		*base = allocs[i].addr;
		*size = allocs[i].size;
		e = CUDA_SUCCESS;
	}
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuDeviceCanAccessPeer(int *can, CUdevice dev, CUdevice peer)
{
	if (dev < 0 || dev >= ndev || peer < 0 || peer >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	*can = dev != peer;
	return CUDA_SUCCESS;
}

API CUresult cuCtxEnablePeerAccess(CUcontext peer, unsigned int flags)
{
	if (!current || !peer || flags)
		return CUDA_ERROR_INVALID_VALUE;
	return CUDA_SUCCESS;
}

static CUresult copy_peer(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
			  CUcontext sctx, size_t n)
{
	return dctx && sctx && dst && src && n ? CUDA_SUCCESS :
		CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemcpyPeer(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
			  CUcontext sctx, size_t n)
{
	return copy_peer(dst, dctx, src, sctx, n);
}

API CUresult cuMemcpyPeer_ptds(CUdeviceptr dst, CUcontext dctx,
			       CUdeviceptr src, CUcontext sctx, size_t n)
{
	return copy_peer(dst, dctx, src, sctx, n);
}

API CUresult cuMemcpyPeerAsync(CUdeviceptr dst, CUcontext dctx,
			       CUdeviceptr src, CUcontext sctx, size_t n,
			       CUstream s)
{
	(void)s;
	return copy_peer(dst, dctx, src, sctx, n);
}

API CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr dst, CUcontext dctx,
				    CUdeviceptr src, CUcontext sctx, size_t n,
				    CUstream s)
{
	(void)s;
	return copy_peer(dst, dctx, src, sctx, n);
}

static CUresult copy3d(const CUDA_MEMCPY3D_PEER *p)
{
	return p && p->srcContext && p->dstContext ? CUDA_SUCCESS :
		CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemcpy3DPeer(const CUDA_MEMCPY3D_PEER *p)
{
	return copy3d(p);
}

API CUresult cuMemcpy3DPeer_ptds(const CUDA_MEMCPY3D_PEER *p)
{
	return copy3d(p);
}

API CUresult cuMemcpy3DPeerAsync(const CUDA_MEMCPY3D_PEER *p, CUstream s)
{
	(void)s;
	return copy3d(p);
}

API CUresult cuMemcpy3DPeerAsync_ptsz(const CUDA_MEMCPY3D_PEER *p, CUstream s)
{
	(void)s;
	return copy3d(p);
}

#define FAKE_COPY_XD(name, type)					\
	API CUresult name(const type *p)				\
	{								\
		return p ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;	\
	}
#define FAKE_COPY_XD_ASYNC(name, type)					\
	API CUresult name(const type *p, CUstream s)			\
	{								\
		(void)s;						\
		return p ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;	\
	}
FAKE_COPY_XD(cuMemcpy2D_v2, CUDA_MEMCPY2D)
FAKE_COPY_XD(cuMemcpy2D_v2_ptds, CUDA_MEMCPY2D)
FAKE_COPY_XD(cuMemcpy2DUnaligned_v2, CUDA_MEMCPY2D)
FAKE_COPY_XD(cuMemcpy2DUnaligned_v2_ptds, CUDA_MEMCPY2D)
FAKE_COPY_XD_ASYNC(cuMemcpy2DAsync_v2, CUDA_MEMCPY2D)
FAKE_COPY_XD_ASYNC(cuMemcpy2DAsync_v2_ptsz, CUDA_MEMCPY2D)
FAKE_COPY_XD(cuMemcpy3D_v2, CUDA_MEMCPY3D)
FAKE_COPY_XD(cuMemcpy3D_v2_ptds, CUDA_MEMCPY3D)
FAKE_COPY_XD_ASYNC(cuMemcpy3DAsync_v2, CUDA_MEMCPY3D)
FAKE_COPY_XD_ASYNC(cuMemcpy3DAsync_v2_ptsz, CUDA_MEMCPY3D)

static CUresult copy_uva(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return dst && src && n ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

#define FAKE_COPY(name)							\
	API CUresult name(CUdeviceptr dst, CUdeviceptr src, size_t n)	\
	{								\
		return copy_uva(dst, src, n);				\
	}
#define FAKE_COPY_ASYNC(name)						\
	API CUresult name(CUdeviceptr dst, CUdeviceptr src, size_t n,	\
			  CUstream s)					\
	{								\
		(void)s;						\
		return copy_uva(dst, src, n);				\
	}
FAKE_COPY(cuMemcpy)
FAKE_COPY(cuMemcpy_ptds)
FAKE_COPY(cuMemcpyDtoD_v2)
FAKE_COPY(cuMemcpyDtoD_v2_ptds)
FAKE_COPY_ASYNC(cuMemcpyAsync)
FAKE_COPY_ASYNC(cuMemcpyAsync_ptsz)
FAKE_COPY_ASYNC(cuMemcpyDtoDAsync_v2)
FAKE_COPY_ASYNC(cuMemcpyDtoDAsync_v2_ptsz)

API CUresult cuMemcpyBatchAsync_v2(CUdeviceptr *dsts, CUdeviceptr *srcs,
				   size_t *sizes, size_t count,
				   CUmemcpyAttributes *attrs, size_t *attrsIdxs,
				   size_t numAttrs, CUstream s)
{
	size_t i;

	(void)attrs;
	(void)attrsIdxs;
	(void)numAttrs;
	(void)s;
	for (i = 0; i < count; i++)
		if (copy_uva(dsts[i], srcs[i], sizes[i]))
			return CUDA_ERROR_INVALID_VALUE;
	return CUDA_SUCCESS;
}

/* Device memory of the fake's: its device; anything else is host memory. */
API CUresult cuPointerGetAttribute(void *data, CUpointer_attribute a,
				   CUdeviceptr p)
{
	unsigned int type;
	int i, dev, zero = 0;
	CUcontext ctx;

	pthread_mutex_lock(&lock);
	i = find_alloc(p);
	dev = i >= 0 ? allocs[i].dev : -1;
	ctx = i >= 0 ? allocs[i].ctx : NULL;
	pthread_mutex_unlock(&lock);
	if (i < 0)
		return CUDA_ERROR_INVALID_VALUE;
	switch (a) {
	case CU_POINTER_ATTRIBUTE_CONTEXT:
		memcpy(data, &ctx, sizeof(ctx));
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
		type = CU_MEMORYTYPE_DEVICE;
		memcpy(data, &type, sizeof(type));
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
		memcpy(data, &dev, sizeof(dev));
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_IS_MANAGED:
		memcpy(data, &zero, sizeof(zero));
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
}

API CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size,
			    const CUmemAccessDesc *desc, size_t count)
{
	return ptr && size && desc && count ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemPoolSetAccess(CUmemoryPool pool, const CUmemAccessDesc *map,
				size_t count)
{
	return pool && map && count ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/* Export data carries the address and size, as the IPC handle does. */
API CUresult cuMemPoolExportPointer(CUmemPoolPtrExportData *data,
				    CUdeviceptr ptr)
{
	CUdeviceptr base;
	size_t size;
	CUresult e = cuMemGetAddressRange_v2(&base, &size, ptr);

	if (e)
		return e;
	memset(data, 0, sizeof(*data));
	memcpy(data->reserved, &base, sizeof(base));
	memcpy(data->reserved + 8, &size, sizeof(size));
	return CUDA_SUCCESS;
}

/* A new entry at the same address; it never counted in live. */
API CUresult cuMemPoolImportPointer(CUdeviceptr *ptr_out, CUmemoryPool pool,
				    CUmemPoolPtrExportData *data)
{
	unsigned long long base, size;
	int i;

	if (!pool || !data || !ptr_out)
		return CUDA_ERROR_INVALID_VALUE;
	memcpy(&base, data->reserved, sizeof(base));
	memcpy(&size, data->reserved + 8, sizeof(size));
	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_ALLOCS && allocs[i].size; i++)
		;
	if (i < MAX_ALLOCS) {
		memset(&allocs[i], 0, sizeof(allocs[i]));
		allocs[i].addr = base;
		allocs[i].size = size;
		allocs[i].dev = pool->dev;
		live[pool->dev] += size;	/* freed like any allocation */
	}
	pthread_mutex_unlock(&lock);
	if (i == MAX_ALLOCS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*ptr_out = base;
	return CUDA_SUCCESS;
}

/*
 * Graphs: memory-allocation nodes only.  A launch or upload makes the
 * device's graph memory at least what the graph allocates (graphs reuse
 * it one after the other), kept until cuDeviceGraphMemTrim.
 */
#define MAX_NODES 16
struct CUgraphNode_st {
	CUgraphNodeType type;		/* MEM_ALLOC or GRAPH */
	CUDA_MEM_ALLOC_NODE_PARAMS p;
	CUgraph child;			/* a child graph node's graph */
};
struct CUgraph_st {
	struct CUgraphNode_st node[MAX_NODES];
	size_t nr;
};
struct CUgraphExec_st {
	unsigned long long bytes[MAX_DEV];
};
static unsigned long long graph_reserved[MAX_DEV];
/* The granule graph memory grows in (fake_cuda_set_graph_granule). */
static unsigned long long graph_granule = 1;

API void fake_cuda_set_graph_granule(unsigned long long bytes)
{
	pthread_mutex_lock(&lock);
	graph_granule = bytes ? bytes : 1;
	pthread_mutex_unlock(&lock);
}

API CUresult cuGraphCreate(CUgraph *graph, unsigned int flags)
{
	if (!graph || flags)
		return CUDA_ERROR_INVALID_VALUE;
	*graph = calloc(1, sizeof(**graph));
	return *graph ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

API CUresult cuGraphDestroy(CUgraph graph)
{
	free(graph);
	return CUDA_SUCCESS;
}

API CUresult cuGraphAddMemAllocNode(CUgraphNode *node, CUgraph graph,
				    const CUgraphNode *deps, size_t ndeps,
				    CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
	(void)deps;
	(void)ndeps;
	if (!node || !graph || !params || graph->nr == MAX_NODES ||
	    params->poolProps.location.id < 0 || params->poolProps.location.id >= ndev)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	params->dptr = next_va;
	next_va += (params->bytesize + 0x1fffff) & ~0x1fffffULL;
	pthread_mutex_unlock(&lock);
	graph->node[graph->nr].type = CU_GRAPH_NODE_TYPE_MEM_ALLOC;
	graph->node[graph->nr].p = *params;
	*node = &graph->node[graph->nr++];
	return CUDA_SUCCESS;
}

API CUresult cuGraphGetNodes(CUgraph graph, CUgraphNode *nodes, size_t *n)
{
	size_t i;

	if (!graph || !n)
		return CUDA_ERROR_INVALID_VALUE;
	for (i = 0; nodes && i < *n && i < graph->nr; i++)
		nodes[i] = &graph->node[i];
	*n = graph->nr;
	return CUDA_SUCCESS;
}

API CUresult cuGraphNodeGetType(CUgraphNode node, CUgraphNodeType *type)
{
	if (!node || !type)
		return CUDA_ERROR_INVALID_VALUE;
	*type = node->type;
	return CUDA_SUCCESS;
}

API CUresult cuGraphMemAllocNodeGetParams(CUgraphNode node,
					  CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
	if (!node || !params)
		return CUDA_ERROR_INVALID_VALUE;
	*params = node->p;
	return CUDA_SUCCESS;
}

/* What launching @graph allocates per device, its child graphs' too. */
static void graph_sum(CUgraph graph, unsigned long long *bytes)
{
	size_t i;

	for (i = 0; i < graph->nr; i++) {
		if (graph->node[i].type == CU_GRAPH_NODE_TYPE_GRAPH)
			graph_sum(graph->node[i].child, bytes);
		else if (graph->node[i].type == CU_GRAPH_NODE_TYPE_MEM_ALLOC)
			bytes[graph->node[i].p.poolProps.location.id] +=
				graph->node[i].p.bytesize;
	}
}

/*
 * A child graph node: a graph with allocation nodes can only be moved
 * into its parent (cuGraphAddNode, CU_GRAPH_CHILD_GRAPH_OWNERSHIP_MOVE),
 * as the driver says; the fake keeps the child itself either way.
 */
static CUresult child_node(CUgraphNode *node, CUgraph graph, CUgraph child,
			   CUgraphChildGraphNodeOwnership own)
{
	size_t i;

	if (!node || !graph || !child || graph->nr == MAX_NODES)
		return CUDA_ERROR_INVALID_VALUE;
	for (i = 0; own != CU_GRAPH_CHILD_GRAPH_OWNERSHIP_MOVE && i < child->nr; i++)
		if (child->node[i].type == CU_GRAPH_NODE_TYPE_MEM_ALLOC)
			return CUDA_ERROR_NOT_SUPPORTED;
	graph->node[graph->nr].type = CU_GRAPH_NODE_TYPE_GRAPH;
	graph->node[graph->nr].child = child;
	*node = &graph->node[graph->nr++];
	return CUDA_SUCCESS;
}

static CUresult instantiate(CUgraphExec *exec, CUgraph graph)
{
	if (!exec || !graph)
		return CUDA_ERROR_INVALID_VALUE;
	*exec = calloc(1, sizeof(**exec));
	if (!*exec)
		return CUDA_ERROR_OUT_OF_MEMORY;
	graph_sum(graph, (*exec)->bytes);
	return CUDA_SUCCESS;
}

API CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph,
					 unsigned long long flags)
{
	(void)flags;
	return instantiate(exec, graph);
}

static CUresult launch(CUgraphExec exec)
{
	CUresult e = CUDA_SUCCESS;
	int d;

	if (!exec)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (d = 0; d < MAX_DEV; d++) {
		unsigned long long want = (exec->bytes[d] + graph_granule - 1) /
					  graph_granule * graph_granule;

		if (want > graph_reserved[d] &&
		    live[d] + want - graph_reserved[d] > dev_mem)
			e = CUDA_ERROR_OUT_OF_MEMORY;
	}
	for (d = 0; !e && d < MAX_DEV; d++) {
		unsigned long long want = (exec->bytes[d] + graph_granule - 1) /
					  graph_granule * graph_granule;

		if (want > graph_reserved[d]) {
			live[d] += want - graph_reserved[d];
			graph_reserved[d] = want;
		}
	}
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuGraphInstantiateWithParams(CUgraphExec *exec, CUgraph graph,
					  CUDA_GRAPH_INSTANTIATE_PARAMS *p)
{
	CUresult e = instantiate(exec, graph);

	if (!e && p && (p->flags & CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD))
		e = launch(*exec);
	return e;
}

API CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec *exec, CUgraph graph,
					       CUDA_GRAPH_INSTANTIATE_PARAMS *p)
{
	return cuGraphInstantiateWithParams(exec, graph, p);
}

API CUresult cuGraphLaunch(CUgraphExec exec, CUstream s)
{
	(void)s;
	return launch(exec);
}

API CUresult cuGraphLaunch_ptsz(CUgraphExec exec, CUstream s)
{
	(void)s;
	return launch(exec);
}

API CUresult cuGraphUpload(CUgraphExec exec, CUstream s)
{
	(void)s;
	return launch(exec);
}

API CUresult cuGraphUpload_ptsz(CUgraphExec exec, CUstream s)
{
	(void)s;
	return launch(exec);
}

API CUresult cuGraphExecDestroy(CUgraphExec exec)
{
	free(exec);
	return CUDA_SUCCESS;
}

API CUresult cuDeviceGraphMemTrim(CUdevice dev)
{
	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	live[dev] -= graph_reserved[dev];
	graph_reserved[dev] = 0;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuDeviceGetGraphMemAttribute(CUdevice dev, CUgraphMem_attribute a,
					  void *value)
{
	cuuint64_t v = 0;

	if (dev < 0 || dev >= ndev || !value)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	if (a == CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT)
		v = graph_reserved[dev];
	pthread_mutex_unlock(&lock);
	memcpy(value, &v, sizeof(v));
	return CUDA_SUCCESS;
}

/*
 * An IPC handle carries the exporter's address and size; the importer
 * gets the same address (one fake address space across processes) as a
 * new mapping of its own.
 */
API CUresult cuIpcGetMemHandle(CUipcMemHandle *h, CUdeviceptr p)
{
	CUdeviceptr base;
	size_t size;
	CUresult e = cuMemGetAddressRange_v2(&base, &size, p);

	if (e)
		return e;
	memset(h, 0, sizeof(*h));
	memcpy(h->reserved, &base, sizeof(base));
	memcpy(h->reserved + 8, &size, sizeof(size));
	return CUDA_SUCCESS;
}

API CUresult cuIpcOpenMemHandle_v2(CUdeviceptr *pdptr, CUipcMemHandle h,
				   unsigned int flags)
{
	unsigned long long base, size;
	int i, dev;

	(void)flags;
	memcpy(&base, h.reserved, sizeof(base));
	memcpy(&size, h.reserved + 8, sizeof(size));
	pthread_mutex_lock(&lock);
	if (cur_dev(&dev) || !size) {
		pthread_mutex_unlock(&lock);
		return CUDA_ERROR_INVALID_VALUE;
	}
	for (i = 0; i < MAX_ALLOCS && allocs[i].size; i++)
		;
	if (i < MAX_ALLOCS) {
		allocs[i].addr = base;
		allocs[i].size = size;
		allocs[i].dev = dev;
	}
	pthread_mutex_unlock(&lock);
	if (i == MAX_ALLOCS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*pdptr = base;
	return CUDA_SUCCESS;
}

API CUresult cuIpcCloseMemHandle(CUdeviceptr p)
{
	int i;

	pthread_mutex_lock(&lock);
	i = find_alloc(p);
	if (i >= 0)
		allocs[i].size = 0;
	pthread_mutex_unlock(&lock);
	return i >= 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemHostRegister_v2(void *p, size_t size, unsigned int flags)
{
	(void)flags;
	return p && size ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemHostUnregister(void *p)
{
	return p ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemHostAlloc(void **pp, size_t size, unsigned int flags)
{
	(void)flags;
	*pp = malloc(size ? size : 1);
	return *pp ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

API CUresult cuMemFreeHost(void *p)
{
	free(p);
	return CUDA_SUCCESS;
}

/*
 * The legacy exported names (cuda.h #defines each to its current
 * version): served as a real driver would, so that a test can tell when
 * they reach it unaccounted.  The 32-bit ones return the address's low
 * half, which is all a pre-3.2 program could hold.
 */
API CUresult cuMemAlloc(unsigned int *dptr, unsigned int size)
{
	CUdeviceptr p;
	CUresult e = alloc_current(&p, size);

	if (!e)
		*dptr = (unsigned int)p;
	return e;
}

API CUresult cuMemAllocPitch(unsigned int *dptr, unsigned int *pitch,
			     unsigned int width, unsigned int height,
			     unsigned int elem)
{
	CUdeviceptr p;
	CUresult e;

	(void)elem;
	*pitch = (width + 511) & ~511U;
	e = alloc_current(&p, (size_t)*pitch * height);
	if (!e)
		*dptr = (unsigned int)p;
	return e;
}

API CUresult cuArrayCreate(CUarray *arr, const GDL_CUDA_ARRAY_DESCRIPTOR_v1 *d)
{
	return array_create((void **)arr, (size_t)d->Width *
			    (d->Height ? d->Height : 1) * d->NumChannels);
}

API CUresult cuArray3DCreate(CUarray *arr,
			     const GDL_CUDA_ARRAY3D_DESCRIPTOR_v1 *d)
{
	return array_create((void **)arr, (size_t)d->Width *
			    (d->Height ? d->Height : 1) *
			    (d->Depth ? d->Depth : 1) * d->NumChannels);
}

API CUresult cuMemGetInfo(unsigned int *free_b, unsigned int *total)
{
	size_t f, t;
	CUresult e = cuMemGetInfo_v2(&f, &t);

	if (!e) {
		*free_b = f > 0xffffffffU ? 0xffffffffU : f;
		*total = t > 0xffffffffU ? 0xffffffffU : t;
	}
	return e;
}

API CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	*bytes = dev_mem;
	return CUDA_SUCCESS;
}

API CUresult cuDeviceTotalMem(unsigned int *bytes, CUdevice dev)
{
	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	*bytes = dev_mem > 0xffffffffU ? 0xffffffffU : dev_mem;
	return CUDA_SUCCESS;
}

API CUresult cuMemAllocHost_v2(void **pp, size_t size)
{
	*pp = malloc(size ? size : 1);
	return *pp ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

API CUresult cuMemAllocHost(void **pp, unsigned int size)
{
	return cuMemAllocHost_v2(pp, size);
}

API CUresult cuIpcOpenMemHandle(CUdeviceptr *pdptr, CUipcMemHandle h,
				unsigned int flags)
{
	return cuIpcOpenMemHandle_v2(pdptr, h, flags);
}

API CUresult cuMemHostRegister(void *p, size_t size, unsigned int flags)
{
	return cuMemHostRegister_v2(p, size, flags);
}

API CUresult cuCtxCreate(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	return cuCtxCreate_v2(pctx, flags, dev);
}

API CUresult cuCtxDestroy(CUcontext ctx)
{
	return cuCtxDestroy_v2(ctx);
}

API CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
	return cuDevicePrimaryCtxRelease_v2(dev);
}

/*
 * Sparse arrays: tiles of an array mapped onto a VMM handle's memory hold
 * it, as cuMemMap's mappings do.  A map or unmap removes the tiles of the
 * same array, subresource, level and layer that start inside its region;
 * destroying the array removes its own.
 */
#define MAX_TILES 64
static struct {
	const void *res;
	CUarrayMapInfo m;
	int alloc;		/* index in allocs, -1 for a free slot */
} tiles[MAX_TILES] = { [0 ... MAX_TILES - 1] = { .alloc = -1 } };

/* Does the region of @r contain the start of @t?  The lock is held. */
static int tile_in(const CUarrayMapInfo *r, const CUarrayMapInfo *t)
{
	if (r->subresourceType != t->subresourceType)
		return 0;
	if (r->subresourceType == CU_ARRAY_SPARSE_SUBRESOURCE_TYPE_MIPTAIL)
		return r->subresource.miptail.layer == t->subresource.miptail.layer &&
		       t->subresource.miptail.offset >= r->subresource.miptail.offset &&
		       t->subresource.miptail.offset - r->subresource.miptail.offset <
		       r->subresource.miptail.size;
#define IN(o, e) (t->subresource.sparseLevel.o >= r->subresource.sparseLevel.o && \
		  t->subresource.sparseLevel.o - r->subresource.sparseLevel.o < \
		  r->subresource.sparseLevel.e)
	return r->subresource.sparseLevel.level == t->subresource.sparseLevel.level &&
	       r->subresource.sparseLevel.layer == t->subresource.sparseLevel.layer &&
	       IN(offsetX, extentWidth) && IN(offsetY, extentHeight) &&
	       IN(offsetZ, extentDepth);
#undef IN
}

static void tile_unmap(int k)
{
	int i = tiles[k].alloc;

	tiles[k].alloc = -1;
	if (!--allocs[i].maps && !allocs[i].refs)
		fake_free(allocs[i].addr);
}

/*
 * Views of an array (a mipmapped array's level, a plane): CUarrays of
 * their own, the same one for the same parent and index, gone with it.
 */
#define MAX_VIEWS 32
static struct {
	const void *parent;
	unsigned int idx;
	struct CUarray_st view;
} views[MAX_VIEWS];

static CUresult view_of(CUarray *out, const void *parent, unsigned int idx)
{
	int k, free_k = -1;

	if (!out || !parent)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (k = 0; k < MAX_VIEWS; k++) {
		if (views[k].parent == parent && views[k].idx == idx)
			break;
		if (!views[k].parent && free_k < 0)
			free_k = k;
	}
	if (k == MAX_VIEWS && free_k >= 0) {
		k = free_k;
		views[k].parent = parent;
		views[k].idx = idx;
	}
	pthread_mutex_unlock(&lock);
	if (k == MAX_VIEWS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*out = &views[k].view;
	return CUDA_SUCCESS;
}

API CUresult cuMipmappedArrayGetLevel(CUarray *level, CUmipmappedArray arr,
				      unsigned int l)
{
	return view_of(level, arr, l);
}

API CUresult cuArrayGetPlane(CUarray *plane, CUarray arr, unsigned int idx)
{
	return view_of(plane, arr, idx);
}

/* An array's tiles and its views' go with it.  The lock is held. */
static void tiles_drop(const void *res)
{
	int k, v;

	for (k = 0; k < MAX_TILES; k++)
		if (tiles[k].alloc >= 0 && tiles[k].res == res)
			tile_unmap(k);
	for (v = 0; v < MAX_VIEWS; v++) {
		if (views[v].parent != res)
			continue;
		for (k = 0; k < MAX_TILES; k++)
			if (tiles[k].alloc >= 0 && tiles[k].res == &views[v].view)
				tile_unmap(k);
		views[v].parent = NULL;
	}
}

static CUresult map_array(CUarrayMapInfo *list, unsigned int count)
{
	CUresult e = CUDA_SUCCESS;
	unsigned int n;
	int i, k;

	if (!list || !count)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	/* All or nothing: check every entry first. */
	for (n = 0; n < count; n++) {
		const CUarrayMapInfo *m = &list[n];

		if (!m->resource.array ||
		    (m->memOperationType == CU_MEM_OPERATION_TYPE_MAP &&
		     (m->memHandleType != CU_MEM_HANDLE_TYPE_GENERIC ||
		      (i = find_alloc(m->memHandle.memHandle)) < 0 ||
		      allocs[i].addr != m->memHandle.memHandle || !allocs[i].refs)) ||
		    (m->memOperationType == CU_MEM_OPERATION_TYPE_UNMAP &&
		     m->memHandle.memHandle) ||
		    (m->memOperationType != CU_MEM_OPERATION_TYPE_MAP &&
		     m->memOperationType != CU_MEM_OPERATION_TYPE_UNMAP))
			e = CUDA_ERROR_INVALID_VALUE;
	}
	for (n = 0; !e && n < count; n++) {
		const CUarrayMapInfo *m = &list[n];
		const void *res = m->resource.array;

		for (k = 0; k < MAX_TILES; k++)
			if (tiles[k].alloc >= 0 && tiles[k].res == res &&
			    tile_in(m, &tiles[k].m))
				tile_unmap(k);
		if (m->memOperationType != CU_MEM_OPERATION_TYPE_MAP)
			continue;
		for (k = 0; k < MAX_TILES && tiles[k].alloc >= 0; k++)
			;
		if (k == MAX_TILES) {
			e = CUDA_ERROR_OUT_OF_MEMORY;
			break;
		}
		i = find_alloc(m->memHandle.memHandle);
		tiles[k].res = res;
		tiles[k].m = *m;
		tiles[k].alloc = i;
		allocs[i].maps++;
	}
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuMemMapArrayAsync(CUarrayMapInfo *list, unsigned int count,
				CUstream s)
{
	(void)s;
	return map_array(list, count);
}

API CUresult cuMemMapArrayAsync_ptsz(CUarrayMapInfo *list, unsigned int count,
				     CUstream s)
{
	(void)s;
	return map_array(list, count);
}

/* Copies involving arrays, 3D batches and graph copy nodes: accepted. */
#define FAKE_ATOX(name, dt, st)						\
	API CUresult name(dt dst, size_t doff, st src, size_t soff, size_t n) \
	{								\
		(void)doff;						\
		(void)soff;						\
		return dst && src && n ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; \
	}
FAKE_ATOX(cuMemcpyAtoA_v2, CUarray, CUarray)
FAKE_ATOX(cuMemcpyAtoA_v2_ptds, CUarray, CUarray)

#define FAKE_XTOX(name, dt, st)						\
	API CUresult name(dt dst, size_t off, st src, size_t n)		\
	{								\
		(void)off;						\
		return dst && src && n ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; \
	}
FAKE_XTOX(cuMemcpyDtoA_v2, CUarray, CUdeviceptr)
FAKE_XTOX(cuMemcpyDtoA_v2_ptds, CUarray, CUdeviceptr)

API CUresult cuMemcpyAtoD_v2(CUdeviceptr dst, CUarray src, size_t off, size_t n)
{
	(void)off;
	return dst && src && n ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemcpyAtoD_v2_ptds(CUdeviceptr dst, CUarray src, size_t off,
				  size_t n)
{
	return cuMemcpyAtoD_v2(dst, src, off, n);
}

API CUresult cuMemcpyBatchAsync_v2_ptsz(CUdeviceptr *dsts, CUdeviceptr *srcs,
					size_t *sizes, size_t count,
					CUmemcpyAttributes *attrs,
					size_t *attrsIdxs, size_t numAttrs,
					CUstream s)
{
	return cuMemcpyBatchAsync_v2(dsts, srcs, sizes, count, attrs, attrsIdxs,
				     numAttrs, s);
}

API CUresult cuMemcpyBatchAsync(CUdeviceptr *dsts, CUdeviceptr *srcs,
				size_t *sizes, size_t count,
				CUmemcpyAttributes *attrs, size_t *attrsIdxs,
				size_t numAttrs, size_t *fail, CUstream s)
{
	(void)fail;
	return cuMemcpyBatchAsync_v2(dsts, srcs, sizes, count, attrs, attrsIdxs,
				     numAttrs, s);
}

API CUresult cuMemcpyBatchAsync_ptsz(CUdeviceptr *dsts, CUdeviceptr *srcs,
				     size_t *sizes, size_t count,
				     CUmemcpyAttributes *attrs,
				     size_t *attrsIdxs, size_t numAttrs,
				     size_t *fail, CUstream s)
{
	(void)fail;
	return cuMemcpyBatchAsync_v2(dsts, srcs, sizes, count, attrs, attrsIdxs,
				     numAttrs, s);
}

API CUresult cuMemcpy3DBatchAsync_v2(size_t n, CUDA_MEMCPY3D_BATCH_OP *ops,
				     unsigned long long flags, CUstream s)
{
	(void)flags;
	(void)s;
	return n && ops ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuMemcpy3DBatchAsync_v2_ptsz(size_t n, CUDA_MEMCPY3D_BATCH_OP *ops,
					  unsigned long long flags, CUstream s)
{
	return cuMemcpy3DBatchAsync_v2(n, ops, flags, s);
}

API CUresult cuMemcpy3DBatchAsync(size_t n, CUDA_MEMCPY3D_BATCH_OP *ops,
				  size_t *fail, unsigned long long flags,
				  CUstream s)
{
	(void)fail;
	return cuMemcpy3DBatchAsync_v2(n, ops, flags, s);
}

API CUresult cuMemcpy3DBatchAsync_ptsz(size_t n, CUDA_MEMCPY3D_BATCH_OP *ops,
				       size_t *fail, unsigned long long flags,
				       CUstream s)
{
	(void)fail;
	return cuMemcpy3DBatchAsync_v2(n, ops, flags, s);
}

/* Copy nodes are not kept: graphs.c looks at allocation nodes only. */
static struct CUgraphNode_st copy_node;

API CUresult cuGraphAddMemcpyNode(CUgraphNode *node, CUgraph graph,
				  const CUgraphNode *deps, size_t ndeps,
				  const CUDA_MEMCPY3D *copy, CUcontext ctx)
{
	(void)deps;
	(void)ndeps;
	(void)ctx;
	if (!node || !graph || !copy)
		return CUDA_ERROR_INVALID_VALUE;
	*node = &copy_node;
	return CUDA_SUCCESS;
}

API CUresult cuGraphMemcpyNodeSetParams(CUgraphNode node,
					const CUDA_MEMCPY3D *copy)
{
	return node && copy ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuGraphExecMemcpyNodeSetParams(CUgraphExec exec, CUgraphNode node,
					    const CUDA_MEMCPY3D *copy,
					    CUcontext ctx)
{
	(void)ctx;
	return exec && node && copy ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuGraphAddNode(CUgraphNode *node, CUgraph graph,
			    const CUgraphNode *deps, size_t ndeps,
			    CUgraphNodeParams *params)
{
	(void)deps;
	(void)ndeps;
	if (node && graph && params && params->type == CU_GRAPH_NODE_TYPE_GRAPH)
		return child_node(node, graph, params->graph.graph,
				  params->graph.ownership);
	if (!node || !graph || !params || params->type != CU_GRAPH_NODE_TYPE_MEMCPY)
		return CUDA_ERROR_INVALID_VALUE;
	*node = &copy_node;
	return CUDA_SUCCESS;
}

API CUresult cuGraphAddNode_v2(CUgraphNode *node, CUgraph graph,
			       const CUgraphNode *deps,
			       const CUgraphEdgeData *edges, size_t ndeps,
			       CUgraphNodeParams *params)
{
	(void)edges;
	return cuGraphAddNode(node, graph, deps, ndeps, params);
}

API CUresult cuGraphNodeSetParams(CUgraphNode node, CUgraphNodeParams *params)
{
	return node && params ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

API CUresult cuGraphExecNodeSetParams(CUgraphExec exec, CUgraphNode node,
				      CUgraphNodeParams *params)
{
	return exec && node && params ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/* Green contexts: the driver's own memory of a context each. */
struct CUgreenCtx_st {
	int dev;
};

API CUresult cuGreenCtxCreate(CUgreenCtx *pctx, CUdevResourceDesc desc,
			      CUdevice dev, unsigned int flags)
{
	(void)desc;
	if (!pctx || dev < 0 || dev >= ndev || flags != 1)
		return CUDA_ERROR_INVALID_VALUE;
	*pctx = calloc(1, sizeof(**pctx));
	if (!*pctx)
		return CUDA_ERROR_OUT_OF_MEMORY;
	(*pctx)->dev = dev;
	pthread_mutex_lock(&lock);
	driver_own[dev] += ctx_mem;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuGreenCtxDestroy(CUgreenCtx ctx)
{
	if (!ctx)
		return CUDA_ERROR_INVALID_CONTEXT;
	pthread_mutex_lock(&lock);
	driver_own[ctx->dev] -= ctx_mem;
	pthread_mutex_unlock(&lock);
	free(ctx);
	return CUDA_SUCCESS;
}

/*
 * Resetting a primary context frees what was allocated in it (its linear
 * and stream-ordered allocations and arrays, here: a pool keeps what its
 * threshold lets it cache); it stays retained.
 */
API CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
	int i;

	if (dev < 0 || dev >= ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_ALLOCS; i++)
		if (allocs[i].size && allocs[i].ctx == &primary_ctx[dev])
			fake_free(allocs[i].addr);
	for (i = 0; i < MAX_ARRAYS; i++)
		if (arrays_live[i] && arrays_live[i]->ctx == &primary_ctx[dev]) {
			struct CUarray_st *a = arrays_live[i];

			tiles_drop(a);
			live[a->dev] -= a->size;
			arrays_live[i] = NULL;
			free(a);
		}
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuDevicePrimaryCtxReset(CUdevice dev)
{
	return cuDevicePrimaryCtxReset_v2(dev);
}

/*
 * The pre-3.2 free and copies (32-bit device pointers and sizes):
 * accepted and counted, so that a test can tell when one reaches the
 * driver.
 */
static unsigned long long legacy_calls;

API unsigned long long fake_cuda_legacy_calls(void)
{
	return __atomic_load_n(&legacy_calls, __ATOMIC_RELAXED);
}

static CUresult legacy_copy(void)
{
	__atomic_add_fetch(&legacy_calls, 1, __ATOMIC_RELAXED);
	return CUDA_SUCCESS;
}

API CUresult cuMemFree(GDL_CUdeviceptr_v1 dptr)
{
	(void)dptr;
	return legacy_copy();
}

API CUresult cuMemcpyDtoD(GDL_CUdeviceptr_v1 dst, GDL_CUdeviceptr_v1 src,
			  unsigned int n)
{
	(void)dst;
	(void)src;
	(void)n;
	return legacy_copy();
}

API CUresult cuMemcpyDtoDAsync(GDL_CUdeviceptr_v1 dst, GDL_CUdeviceptr_v1 src,
			       unsigned int n, CUstream s)
{
	(void)s;
	return cuMemcpyDtoD(dst, src, n);
}

API CUresult cuMemcpyDtoA(CUarray dst, unsigned int doff,
			  GDL_CUdeviceptr_v1 src, unsigned int n)
{
	(void)dst;
	(void)doff;
	(void)src;
	(void)n;
	return legacy_copy();
}

API CUresult cuMemcpyAtoD(GDL_CUdeviceptr_v1 dst, CUarray src,
			  unsigned int soff, unsigned int n)
{
	(void)dst;
	(void)src;
	(void)soff;
	(void)n;
	return legacy_copy();
}

API CUresult cuMemcpyAtoA(CUarray dst, unsigned int doff, CUarray src,
			  unsigned int soff, unsigned int n)
{
	(void)dst;
	(void)doff;
	(void)src;
	(void)soff;
	(void)n;
	return legacy_copy();
}

#define FAKE_LEGACY_XD(name, type)					\
	API CUresult name(const type *p)				\
	{								\
		(void)p;						\
		return legacy_copy();					\
	}

#define FAKE_LEGACY_XD_ASYNC(name, type)				\
	API CUresult name(const type *p, CUstream s)			\
	{								\
		(void)p;						\
		(void)s;						\
		return legacy_copy();					\
	}

FAKE_LEGACY_XD(cuMemcpy2D, GDL_CUDA_MEMCPY2D_v1)
FAKE_LEGACY_XD(cuMemcpy2DUnaligned, GDL_CUDA_MEMCPY2D_v1)
FAKE_LEGACY_XD_ASYNC(cuMemcpy2DAsync, GDL_CUDA_MEMCPY2D_v1)
FAKE_LEGACY_XD(cuMemcpy3D, GDL_CUDA_MEMCPY3D_v1)
FAKE_LEGACY_XD_ASYNC(cuMemcpy3DAsync, GDL_CUDA_MEMCPY3D_v1)

/*
 * Graphs, continued: child graph nodes (the child's allocation nodes are
 * launched with the parent), CUDA 11's instantiation, and updates (an
 * executable allocates what its new graph does from then on).
 */
API CUresult cuGraphAddChildGraphNode(CUgraphNode *node, CUgraph graph,
				      const CUgraphNode *deps, size_t ndeps,
				      CUgraph child)
{
	(void)deps;
	(void)ndeps;
	return child_node(node, graph, child, CU_GRAPH_CHILD_GRAPH_OWNERSHIP_CLONE);
}

API CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode node, CUgraph *graph)
{
	if (!node || !graph || node->type != CU_GRAPH_NODE_TYPE_GRAPH)
		return CUDA_ERROR_INVALID_VALUE;
	*graph = node->child;
	return CUDA_SUCCESS;
}

API CUresult cuGraphInstantiate(CUgraphExec *exec, CUgraph graph,
				CUgraphNode *err, char *log, size_t len)
{
	(void)err;
	(void)log;
	(void)len;
	return instantiate(exec, graph);
}

API CUresult cuGraphInstantiate_v2(CUgraphExec *exec, CUgraph graph,
				   CUgraphNode *err, char *log, size_t len)
{
	return cuGraphInstantiate(exec, graph, err, log, len);
}

API CUresult cuGraphExecUpdate_v2(CUgraphExec exec, CUgraph graph,
				  CUgraphExecUpdateResultInfo *info)
{
	if (!exec || !graph)
		return CUDA_ERROR_INVALID_VALUE;
	memset(exec->bytes, 0, sizeof(exec->bytes));
	graph_sum(graph, exec->bytes);
	if (info)
		memset(info, 0, sizeof(*info));
	return CUDA_SUCCESS;
}

API CUresult cuGraphExecUpdate(CUgraphExec exec, CUgraph graph,
			       CUgraphNode *err, CUgraphExecUpdateResult *result)
{
	CUgraphExecUpdateResultInfo info;
	CUresult e = cuGraphExecUpdate_v2(exec, graph, &info);

	if (err)
		*err = info.errorNode;
	if (result)
		*result = info.result;
	return e;
}

/*
 * External memory: another API's allocation (another process's, for the
 * fake: it never counts in this process's live memory), imported into
 * the current context.
 */
struct CUextMemory_st {
	unsigned long long size;
};

API CUresult cuImportExternalMemory(CUexternalMemory *ext,
				    const CUDA_EXTERNAL_MEMORY_HANDLE_DESC *desc)
{
	int dev;

	if (!ext || !desc || !desc->size)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	if (cur_dev(&dev)) {
		pthread_mutex_unlock(&lock);
		return CUDA_ERROR_INVALID_CONTEXT;
	}
	driver_allocs++;
	pthread_mutex_unlock(&lock);
	*ext = calloc(1, sizeof(**ext));
	if (!*ext)
		return CUDA_ERROR_OUT_OF_MEMORY;
	(*ext)->size = desc->size;
	return CUDA_SUCCESS;
}

API CUresult cuDestroyExternalMemory(CUexternalMemory ext)
{
	if (!ext)
		return CUDA_ERROR_INVALID_VALUE;
	free(ext);
	return CUDA_SUCCESS;
}

/*
 * Multicast objects: a binding holds its VMM allocation's memory as a
 * mapping does (it lives until released, unmapped and unbound).  Object
 * handles are numbers the fake's allocations never use.
 */
#define MAX_BINDINGS 16
static struct {
	CUmemGenericAllocationHandle mc;
	size_t offset;
	int alloc;		/* index in allocs, -1 for a free slot */
} mc_bindings[MAX_BINDINGS] = { [0 ... MAX_BINDINGS - 1] = { .alloc = -1 } };
static unsigned long long next_mc;

API CUresult cuMulticastCreate(CUmemGenericAllocationHandle *mc,
			       const CUmulticastObjectProp *prop)
{
	if (!mc || !prop || !prop->numDevices || !prop->size)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	*mc = MC_HANDLE | ++next_mc;
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

API CUresult cuMulticastAddDevice(CUmemGenericAllocationHandle mc, CUdevice dev)
{
	return mc & MC_HANDLE && dev >= 0 && dev < ndev ? CUDA_SUCCESS :
							    CUDA_ERROR_INVALID_VALUE;
}

/* The lock is held. */
static CUresult mc_bind(CUmemGenericAllocationHandle mc, size_t offset, int i)
{
	int b;

	if (!(mc & MC_HANDLE) || i < 0)
		return CUDA_ERROR_INVALID_VALUE;
	for (b = 0; b < MAX_BINDINGS && mc_bindings[b].alloc >= 0; b++)
		;
	if (b == MAX_BINDINGS)
		return CUDA_ERROR_OUT_OF_MEMORY;
	mc_bindings[b].mc = mc;
	mc_bindings[b].offset = offset;
	mc_bindings[b].alloc = i;
	allocs[i].maps++;
	return CUDA_SUCCESS;
}

API CUresult cuMulticastBindMem(CUmemGenericAllocationHandle mc, size_t mcOffset,
				CUmemGenericAllocationHandle mem, size_t memOffset,
				size_t size, unsigned long long flags)
{
	CUresult e;
	int i;

	(void)memOffset;
	(void)size;
	if (flags)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	i = find_alloc(mem);
	e = mc_bind(mc, mcOffset, i >= 0 && allocs[i].addr == mem ? i : -1);
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuMulticastBindAddr(CUmemGenericAllocationHandle mc, size_t mcOffset,
				 CUdeviceptr memptr, size_t size,
				 unsigned long long flags)
{
	CUresult e;
	int m, i = -1;

	(void)size;
	if (flags)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (m = 0; m < MAX_MAPPINGS; m++)
		if (mappings[m].alloc >= 0 && memptr >= mappings[m].va &&
		    memptr - mappings[m].va < mappings[m].size)
			i = mappings[m].alloc;
	e = mc_bind(mc, mcOffset, i);
	pthread_mutex_unlock(&lock);
	return e;
}

API CUresult cuMulticastUnbind(CUmemGenericAllocationHandle mc, CUdevice dev,
			       size_t mcOffset, size_t size)
{
	int b, i;

	if (!(mc & MC_HANDLE))
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&lock);
	for (b = 0; b < MAX_BINDINGS; b++) {
		i = mc_bindings[b].alloc;
		if (i < 0 || mc_bindings[b].mc != mc || allocs[i].dev != dev ||
		    mc_bindings[b].offset < mcOffset ||
		    mc_bindings[b].offset - mcOffset >= size)
			continue;
		mc_bindings[b].alloc = -1;
		if (!--allocs[i].maps && !allocs[i].refs)
			fake_free(allocs[i].addr);
	}
	pthread_mutex_unlock(&lock);
	return CUDA_SUCCESS;
}

/* A version of cuMemAlloc from the future, with another signature. */
static CUresult cuMemAlloc_v5(CUdeviceptr *dptr, size_t size,
			      unsigned long long flags)
{
	(void)flags;
	return alloc_current(dptr, size);
}

/*
 * cuGetProcAddress as the driver does it: a base name plus cudaVersion
 * and flags select one ABI version (proc_versions[] below);
 * per-thread-stream flags select the _ptsz/_ptds flavour.  Full versioned
 * names are accepted as well, so a test can reach every variant.
 */
static const struct {
	const char *name, *base;
	int per_thread;
	void *fn;
} procs[] = {
#define X(sym, b, ptsz, lib) { #sym, b, ptsz, (void *)sym },
	GDL_CUDA_WRAPPED(X)
#undef X
	{ "cuInit", "cuInit", 0, (void *)cuInit },
	{ "cuDriverGetVersion", "cuDriverGetVersion", 0, (void *)cuDriverGetVersion },
	{ "cuDeviceGet", "cuDeviceGet", 0, (void *)cuDeviceGet },
	{ "cuDeviceGetCount", "cuDeviceGetCount", 0, (void *)cuDeviceGetCount },
	{ "cuDeviceGetPCIBusId", "cuDeviceGetPCIBusId", 0, (void *)cuDeviceGetPCIBusId },
	{ "cuCtxGetDevice", "cuCtxGetDevice", 0, (void *)cuCtxGetDevice },
	{ "cuCtxSetCurrent", "cuCtxSetCurrent", 0, (void *)cuCtxSetCurrent },
	{ "cuCtxGetCurrent", "cuCtxGetCurrent", 0, (void *)cuCtxGetCurrent },
	{ "cuMemAddressReserve", "cuMemAddressReserve", 0, (void *)cuMemAddressReserve },
	{ "cuMemAddressFree", "cuMemAddressFree", 0, (void *)cuMemAddressFree },
	{ "cuDeviceGetMemPool", "cuDeviceGetMemPool", 0, (void *)cuDeviceGetMemPool },
	{ "cuDeviceGetDefaultMemPool", "cuDeviceGetDefaultMemPool", 0, (void *)cuDeviceGetDefaultMemPool },
	{ "cuMemPoolGetAttribute", "cuMemPoolGetAttribute", 0, (void *)cuMemPoolGetAttribute },
	{ "cuMemPoolSetAttribute", "cuMemPoolSetAttribute", 0, (void *)cuMemPoolSetAttribute },
	{ "cuPointerGetAttribute", "cuPointerGetAttribute", 0, (void *)cuPointerGetAttribute },
	{ "cuGraphGetNodes", "cuGraphGetNodes", 0, (void *)cuGraphGetNodes },
	{ "cuCtxGetLimit", "cuCtxGetLimit", 0, (void *)cuCtxGetLimit },
	{ "cuModuleUnload", "cuModuleUnload", 0, (void *)cuModuleUnload },
	{ "cuLibraryUnload", "cuLibraryUnload", 0, (void *)cuLibraryUnload },
	{ "cuMemGetAllocationPropertiesFromHandle", "cuMemGetAllocationPropertiesFromHandle", 0, (void *)cuMemGetAllocationPropertiesFromHandle },
	{ "cuGraphNodeGetType", "cuGraphNodeGetType", 0, (void *)cuGraphNodeGetType },
	{ "cuGraphMemAllocNodeGetParams", "cuGraphMemAllocNodeGetParams", 0, (void *)cuGraphMemAllocNodeGetParams },
	{ "cuDeviceGetGraphMemAttribute", "cuDeviceGetGraphMemAttribute", 0, (void *)cuDeviceGetGraphMemAttribute },
	{ "cuMemPoolExportPointer", "cuMemPoolExportPointer", 0, (void *)cuMemPoolExportPointer },
	/* A name the interposer does not know for a function it wraps. */
	{ "cuFakeAliasOfMemAlloc", "cuFakeAliasOfMemAlloc", 0, (void *)cuMemAlloc_v2 },
};

/*
 * Which ABI each base name is at each cudaVersion: the interposer's table,
 * generated from cudaTypedefs.h (utils/cuda/proc_versions.h), which is the
 * driver's documented contract.
 */
static const struct {
	const char *base;
	int version, per_thread;
	void *fn;
} proc_versions[] = {
#define X(b, v, pt, sym) { b, v, pt, (void *)sym },
	GDL_CUDA_PROC_VERSIONS(X)
#undef X
};

/*
 * FAKE_CUDA_PROC_TRAMPOLINE=1: cuGetProcAddress returns, for every name in
 * procs[], an internal pointer that jumps to the exported function (a
 * trampoline in an anonymous executable page, so no symbol has its
 * address), as a driver may do (issue 23, item 13).  One per function, the
 * same for every version that selects it.  Read at each call, so a test
 * can turn it on and off.
 */
#define NR_PROCS (sizeof(procs) / sizeof(procs[0]))
#define TRAMP_SIZE 16
static unsigned char *trampolines;
static pthread_once_t trampolines_once = PTHREAD_ONCE_INIT;

static void trampolines_make(void)
{
	size_t len = (NR_PROCS * TRAMP_SIZE + 4095) & ~(size_t)4095, i;
	unsigned char *t = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (t == MAP_FAILED)
		return;
	for (i = 0; i < NR_PROCS; i++) {
		unsigned char *c = t + i * TRAMP_SIZE;
		uint64_t a = (uint64_t)(uintptr_t)procs[i].fn;
#if defined(__x86_64__)
		/* movabs $a, %r11; jmp *%r11 */
		c[0] = 0x49;
		c[1] = 0xbb;
		memcpy(c + 2, &a, 8);
		c[10] = 0x41;
		c[11] = 0xff;
		c[12] = 0xe3;
#elif defined(__aarch64__)
		/* ldr x16, 8; br x16; .quad a */
		uint32_t code[2] = { 0x58000050, 0xd61f0200 };

		memcpy(c, code, 8);
		memcpy(c + 8, &a, 8);
#else
#error "no trampoline for this architecture"
#endif
	}
	__builtin___clear_cache((char *)t, (char *)t + len);
	if (mprotect(t, len, PROT_READ | PROT_EXEC)) {
		munmap(t, len);
		return;
	}
	trampolines = t;
}

static void *trampoline(void *fn)
{
	const char *e = getenv("FAKE_CUDA_PROC_TRAMPOLINE");
	size_t i;

	if (!fn || !e || strcmp(e, "1"))
		return fn;
	pthread_once(&trampolines_once, trampolines_make);
	if (!trampolines)
		abort();
	for (i = 0; i < NR_PROCS; i++)
		if (procs[i].fn == fn)
			return trampolines + i * TRAMP_SIZE;
	return fn;
}

static CUresult get_proc(const char *symbol, void **pfn, int version,
			 cuuint64_t flags, CUdriverProcAddressQueryResult *st)
{
	int pt = !!(flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
	int d = -1, t = -1, base = 0;
	void *found = NULL;
	size_t i;

	if (!symbol || !pfn)
		return CUDA_ERROR_INVALID_VALUE;
	/* cudaVersion 14.0 asks for a cuMemAlloc the interposer cannot know. */
	if (version >= 14000 && !strcmp(symbol, "cuMemAlloc")) {
		found = (void *)cuMemAlloc_v5;
		goto out;
	}
	/*
	 * FAKE_CUDA_PROC_BEHIND=1: versions from 13.0 on are answered as
	 * 12.9 would be, while cuDriverGetVersion still says 13.0: the
	 * pointer then disagrees with the name (cuCtxSynchronize at 13000
	 * gives cuCtxSynchronize, not _v2).
	 */
	if (version >= 13000 && getenv("FAKE_CUDA_PROC_BEHIND") &&
	    !strcmp(getenv("FAKE_CUDA_PROC_BEHIND"), "1"))
		version = 12090;
	/*
	 * A base name: the newest ABI not newer than cudaVersion, its
	 * per-thread flavour when asked for and as new.
	 */
	for (i = 0; i < sizeof(proc_versions) / sizeof(proc_versions[0]); i++) {
		if (strcmp(proc_versions[i].base, symbol))
			continue;
		base = 1;
		if (proc_versions[i].version > version)
			continue;
		if (!proc_versions[i].per_thread)
			d = i;
		else if (pt)
			t = i;
	}
	if (base) {
		if (t >= 0 && (d < 0 || proc_versions[t].version >= proc_versions[d].version))
			d = t;
		found = d >= 0 ? proc_versions[d].fn : NULL;
		goto out;
	}
	/* Otherwise an exact exported name. */
	for (i = 0; i < NR_PROCS; i++)
		if (!strcmp(procs[i].name, symbol)) {
			found = procs[i].fn;
			break;
		}
out:
	*pfn = trampoline(found);
	if (st)
		*st = found ? CU_GET_PROC_ADDRESS_SUCCESS :
			      CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
	return found ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

API CUresult cuGetProcAddress(const char *symbol, void **pfn, int version,
			      cuuint64_t flags)
{
	return get_proc(symbol, pfn, version, flags, NULL);
}

API CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version,
				 cuuint64_t flags,
				 CUdriverProcAddressQueryResult *st)
{
	return get_proc(symbol, pfn, version, flags, st);
}

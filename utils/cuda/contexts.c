// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Contexts: the driver's own footprint per context is invisible to the
 * API, so each context (and each device's primary context, once while
 * anyone holds it) is charged an estimate.
 */
#include <pthread.h>
#include <stdlib.h>

#include "gdl_cuda.h"

static struct {
	unsigned int refs;
	uint64_t handle;
	CUcontext ctx;		/* as the driver handed it out */
} primary[MAX_CUDA_DEVICES];
static pthread_mutex_t primary_lock = PTHREAD_MUTEX_INITIALIZER;

HELPER(cuCtxDestroy_v2)
HELPER(cuDevicePrimaryCtxRelease_v2)
HELPER(cuPointerGetAttribute)

/*
 * A new context @ctx (a CUcontext or a green context, destroyed by
 * @destroy): its estimate stays charged with it, and the driver's figure
 * is reconciled (footprint.c); past the quota it is destroyed.
 */
static CUresult ctx_track(CUresult e, uint64_t ctx, uint64_t h, CUdevice dev,
			  CUresult (*destroy)(uint64_t))
{
	if (!e && gdlc_footprint_reconcile(dev) && !destroy(ctx)) {
		gdlc_release(h);
		gdlc_footprint_reconcile(dev);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return gdlc_track_kept(&gdlc_ctx_map, e, e ? 0 : ctx, h);
}

static CUresult destroy_ctx(uint64_t ctx)
{
	__typeof__(cuCtxDestroy_v2) *destroy = h_cuCtxDestroy_v2();

	return destroy ? destroy((CUcontext)(uintptr_t)ctx) :
			 CUDA_ERROR_NOT_INITIALIZED;
}

static CUresult ctx_created(CUresult e, CUcontext *pctx, uint64_t h,
			    CUdevice dev)
{
	e = ctx_track(e, e ? 0 : (uintptr_t)*pctx, h, dev, destroy_ctx);
	if (e == CUDA_ERROR_OUT_OF_MEMORY)
		*pctx = NULL;
	return e;
}

/*
 * A new context is charged its estimate before the driver makes it, and
 * the charge is kept aside: the footprint reconciles it before it is
 * tracked (ctx_created).
 */
static CUresult ctx_precharge(CUdevice dev, uint64_t *h)
{
	CUresult e = gdlc_reserve(dev, gdlc_ctx_reserve, h);

	if (!e)
		gdlc_keep(*h);
	return e;
}

EXPORT CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags,
			       CUdevice dev)
{
	__typeof__(cuCtxCreate_v2) *f = REAL(cuCtxCreate_v2);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = ctx_precharge(dev, &h);
	if (e)
		return e;
	return ctx_created(f(pctx, flags, dev), pctx, h, dev);
}

EXPORT CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *params,
			       int nparams, unsigned int flags, CUdevice dev)
{
	__typeof__(cuCtxCreate_v3) *f = REAL(cuCtxCreate_v3);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = ctx_precharge(dev, &h);
	if (e)
		return e;
	return ctx_created(f(pctx, params, nparams, flags, dev), pctx, h, dev);
}

EXPORT CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params,
			       unsigned int flags, CUdevice dev)
{
	__typeof__(cuCtxCreate_v4) *f = REAL(cuCtxCreate_v4);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = ctx_precharge(dev, &h);
	if (e)
		return e;
	return ctx_created(f(pctx, params, flags, dev), pctx, h, dev);
}

/* The pre-3.2 name, same ABI. */
EXPORT CUresult cuCtxCreate(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	__typeof__(cuCtxCreate) *f = REAL(cuCtxCreate);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = ctx_precharge(dev, &h);
	if (e)
		return e;
	return ctx_created(f(pctx, flags, dev), pctx, h, dev);
}

static CUresult ctx_destroy(__typeof__(cuCtxDestroy_v2) *f, CUcontext ctx)
{
	CHECK_REAL(f);
	return GDLC_FREEING(&gdlc_ctx_map, (uintptr_t)ctx, f(ctx));
}

EXPORT CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	return ctx_destroy(REAL(cuCtxDestroy_v2), ctx);
}

/* The pre-4.0 name, same ABI. */
EXPORT CUresult cuCtxDestroy(CUcontext ctx)
{
	return ctx_destroy(REAL(cuCtxDestroy), ctx);
}

/*
 * Green contexts (a share of a device's SMs) are contexts of their own:
 * charged like them, in the same map (the driver's handles of both kinds
 * are distinct objects).
 */
static CUresult destroy_green(uint64_t ctx)
{
	__typeof__(cuGreenCtxDestroy) *destroy = REAL(cuGreenCtxDestroy);

	return destroy ? destroy((CUgreenCtx)(uintptr_t)ctx) :
			 CUDA_ERROR_NOT_INITIALIZED;
}

EXPORT CUresult cuGreenCtxCreate(CUgreenCtx *pctx, CUdevResourceDesc desc,
				 CUdevice dev, unsigned int flags)
{
	__typeof__(cuGreenCtxCreate) *f = REAL(cuGreenCtxCreate);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	e = ctx_precharge(dev, &h);
	if (e)
		return e;
	e = f(pctx, desc, dev, flags);
	e = ctx_track(e, e ? 0 : (uintptr_t)*pctx, h, dev, destroy_green);
	if (e == CUDA_ERROR_OUT_OF_MEMORY)
		*pctx = NULL;
	return e;
}

EXPORT CUresult cuGreenCtxDestroy(CUgreenCtx ctx)
{
	__typeof__(cuGreenCtxDestroy) *f = REAL(cuGreenCtxDestroy);

	CHECK_REAL(f);
	return GDLC_FREEING(&gdlc_ctx_map, (uintptr_t)ctx, f(ctx));
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
		e = ctx_precharge(dev, &h);
		if (e)
			goto out;
	}
	e = f(pctx, dev);
	if (e) {
		gdlc_release(h);
		goto out;
	}
	if (!primary[dev].refs && gdlc_footprint_reconcile(dev)) {
		/* The driver's figure is past the quota: not retained. */
		__typeof__(cuDevicePrimaryCtxRelease_v2) *rel =
			h_cuDevicePrimaryCtxRelease_v2();

		if (rel)
			rel(dev);
		gdlc_release(h);
		gdlc_footprint_reconcile(dev);
		*pctx = NULL;
		e = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	if (!primary[dev].refs++)
		primary[dev].handle = h;
	primary[dev].ctx = *pctx;
out:
	pthread_mutex_unlock(&primary_lock);
	return e;
}

static CUresult primary_release(__typeof__(cuDevicePrimaryCtxRelease_v2) *f,
				CUdevice dev)
{
	CUresult e;

	CHECK_REAL(f);
	if (dev < 0 || dev >= MAX_CUDA_DEVICES)
		return f(dev);
	pthread_mutex_lock(&primary_lock);
	e = f(dev);
	if (!e && primary[dev].refs && !--primary[dev].refs) {
		gdlc_release(primary[dev].handle);
		primary[dev].handle = 0;
	}
	pthread_mutex_unlock(&primary_lock);
	return e;
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
	return primary_release(REAL(cuDevicePrimaryCtxRelease_v2), dev);
}

/* The CUDA < 11 name, same ABI. */
EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
	return primary_release(REAL(cuDevicePrimaryCtxRelease), dev);
}

/*
 * cuDevicePrimaryCtxReset frees everything allocated in the device's
 * primary context, behind the interposer.  The linear allocations
 * (cuMemAlloc, cuMemAllocPitch, cuMemAllocManaged) tracked in it, found
 * by asking the driver each one's context (a reset is rare; a
 * reservation's device narrows the questions), leave the pointer map
 * before the driver call and are released once it accepts, or put back.
 * Exported ones stay charged until exit, as at their free.  The arrays
 * made in it (arrays.c keeps each one's context) are settled the same
 * way.  The context itself stays retained (a reset releases nothing),
 * and so does its estimate.  The device's pools are settled against
 * what they still reserve (the reset freed the stream-ordered
 * allocations made in it).  VMM handles are not looked for (no driver
 * query names a handle's context): their charges stay until released
 * and unmapped, or exit.
 */
static CUresult primary_reset(__typeof__(cuDevicePrimaryCtxReset_v2) *f,
			      CUdevice dev)
{
	__typeof__(cuPointerGetAttribute) *attr = h_cuPointerGetAttribute();
	struct gdl_map_slot *v = NULL;
	struct gdlc_reset_arrays *arrays;
	size_t n = 0, i, kept = 0;
	CUcontext ctx = NULL, c;
	CUresult e;

	CHECK_REAL(f);
	if (dev >= 0 && dev < MAX_CUDA_DEVICES) {
		pthread_mutex_lock(&primary_lock);
		if (primary[dev].refs)
			ctx = primary[dev].ctx;
		pthread_mutex_unlock(&primary_lock);
	}
	if (ctx && attr)
		n = gdl_map_snapshot(&gdlc_ptr_map, &v);
	for (i = 0; i < n; i++) {
		if ((v[i].aux & 0xff) != (uint64_t)dev + 1 ||
		    attr(&c, CU_POINTER_ATTRIBUTE_CONTEXT, v[i].key) || c != ctx)
			continue;
		if (gdl_map_take_aux(&gdlc_ptr_map, v[i].key, &v[kept].val,
				     &v[kept].aux))
			continue;	/* freed meanwhile */
		v[kept++].key = v[i].key;
	}
	arrays = gdlc_arrays_reset_begin(ctx);
	e = f(dev);
	gdlc_arrays_reset_end(arrays, e);
	if (!e && dev >= 0)
		gdlc_pools_settle_device(dev);
	for (i = 0; i < kept; i++) {
		if (!e && gdlc_exported_take(v[i].key))
			continue;	/* exported: charged until exit */
		gdlc_untrack_end(&gdlc_ptr_map, e, v[i].key, v[i].val, v[i].aux);
	}
	free(v);
	return e;
}

EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
	return primary_reset(REAL(cuDevicePrimaryCtxReset_v2), dev);
}

/* The CUDA < 11 name, same ABI. */
EXPORT CUresult cuDevicePrimaryCtxReset(CUdevice dev)
{
	return primary_reset(REAL(cuDevicePrimaryCtxReset), dev);
}

void gdlc_contexts_lock_all(void)
{
	pthread_mutex_lock(&primary_lock);
}

void gdlc_contexts_unlock_all(void)
{
	pthread_mutex_unlock(&primary_lock);
}

void gdlc_contexts_forget(void)
{
	memset(primary, 0, sizeof(primary));
}

/*
 * Checkpoint and restore (CUDA 12.8+): a restore with GPU pairs moves a
 * checkpointed process's memory onto other GPUs, while its charges stay
 * on the old ones (issue 23, item 14).  A restore that names a pair with
 * two different GPUs is refused; a pair of one GPU with itself, or no
 * pairs, restores in place and passes.  Only a restoring tool that runs
 * under the interposer is seen (see docs/cuda.md).
 */
EXPORT CUresult cuCheckpointProcessRestore(int pid, CUcheckpointRestoreArgs *args)
{
	__typeof__(cuCheckpointProcessRestore) *f = REAL(cuCheckpointProcessRestore);
	unsigned int i;

	CHECK_REAL(f);
	if (args && args->gpuPairsCount) {
		if (!args->gpuPairs)
			return CUDA_ERROR_INVALID_VALUE;
		for (i = 0; i < args->gpuPairsCount; i++)
			if (memcmp(&args->gpuPairs[i].oldUuid,
				   &args->gpuPairs[i].newUuid, sizeof(CUuuid))) {
				gdlc_say(1, "restore of pid %d onto other GPUs refused: its charges stay on the old ones",
					 pid);
				return CUDA_ERROR_NOT_PERMITTED;
			}
	}
	return f(pid, args);
}

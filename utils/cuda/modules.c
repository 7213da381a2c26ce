// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What grows the driver's own memory for the process after the context
 * exists: module and library images (code, __device__ globals) and the
 * context's limits (stack, heap, printf FIFO).  After each, the footprint
 * is reconciled with NVML's figure (charges.c); past the quota the
 * module or library is unloaded, or the limit put back, and the call
 * refused.  (A library loaded lazily grows later: the next
 * reconciliation charges it.)
 */
#include "gdl_cuda.h"

HELPER(cuModuleUnload)
HELPER(cuLibraryUnload)
HELPER(cuCtxGetLimit)

static CUresult reconcile_current(void)
{
	CUdevice dev;

	if (gdlc_current_device(&dev))
		return CUDA_SUCCESS;
	return gdlc_footprint_reconcile(dev) ? CUDA_ERROR_OUT_OF_MEMORY :
					       CUDA_SUCCESS;
}

static CUresult loaded(CUresult e, CUmodule *module)
{
	__typeof__(cuModuleUnload) *unload = h_cuModuleUnload();

	if (e || !module || !reconcile_current())
		return e;
	if (unload)
		unload(*module);
	*module = NULL;
	reconcile_current();	/* the unload gave it back */
	return CUDA_ERROR_OUT_OF_MEMORY;
}

EXPORT CUresult cuModuleLoad(CUmodule *module, const char *fname)
{
	__typeof__(cuModuleLoad) *f = REAL(cuModuleLoad);

	CHECK_REAL(f);
	return loaded(f(module, fname), module);
}

EXPORT CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
	__typeof__(cuModuleLoadData) *f = REAL(cuModuleLoadData);

	CHECK_REAL(f);
	return loaded(f(module, image), module);
}

EXPORT CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
				   unsigned int nopts, CUjit_option *opts,
				   void **values)
{
	__typeof__(cuModuleLoadDataEx) *f = REAL(cuModuleLoadDataEx);

	CHECK_REAL(f);
	return loaded(f(module, image, nopts, opts, values), module);
}

EXPORT CUresult cuModuleLoadFatBinary(CUmodule *module, const void *fatCubin)
{
	__typeof__(cuModuleLoadFatBinary) *f = REAL(cuModuleLoadFatBinary);

	CHECK_REAL(f);
	return loaded(f(module, fatCubin), module);
}

static CUresult library_loaded(CUresult e, CUlibrary *library)
{
	__typeof__(cuLibraryUnload) *unload = h_cuLibraryUnload();

	if (e || !library || !reconcile_current())
		return e;
	if (unload)
		unload(*library);
	*library = NULL;
	reconcile_current();
	return CUDA_ERROR_OUT_OF_MEMORY;
}

EXPORT CUresult cuLibraryLoadData(CUlibrary *library, const void *code,
				  CUjit_option *jo, void **jv, unsigned int jn,
				  CUlibraryOption *lo, void **lv, unsigned int ln)
{
	__typeof__(cuLibraryLoadData) *f = REAL(cuLibraryLoadData);

	CHECK_REAL(f);
	return library_loaded(f(library, code, jo, jv, jn, lo, lv, ln), library);
}

EXPORT CUresult cuLibraryLoadFromFile(CUlibrary *library, const char *file,
				      CUjit_option *jo, void **jv,
				      unsigned int jn, CUlibraryOption *lo,
				      void **lv, unsigned int ln)
{
	__typeof__(cuLibraryLoadFromFile) *f = REAL(cuLibraryLoadFromFile);

	CHECK_REAL(f);
	return library_loaded(f(library, file, jo, jv, jn, lo, lv, ln), library);
}

EXPORT CUresult cuCtxSetLimit(CUlimit limit, size_t value)
{
	__typeof__(cuCtxSetLimit) *f = REAL(cuCtxSetLimit);
	__typeof__(cuCtxGetLimit) *get = h_cuCtxGetLimit();
	size_t old;
	CUresult e;

	CHECK_REAL(f);
	CHECK_REAL(get);
	e = get(&old, limit);
	if (e)
		return f(limit, value);
	e = f(limit, value);
	if (e || !reconcile_current())
		return e;
	f(limit, old);
	reconcile_current();
	return CUDA_ERROR_OUT_OF_MEMORY;
}

/*
 * Synchronisation points: the driver's own memory may have grown since
 * the last allocation (local memory at a launch, lazily loaded code).
 * Reconciled after the call, rate-limited (footprint.c); never refused
 * here: what the quota refuses is owed by the device's next reservation.
 */
HELPER(cuStreamGetCtx)

static CUdevice stream_device(CUstream s)
{
	__typeof__(cuStreamGetCtx) *get_ctx = h_cuStreamGetCtx();
	CUcontext ctx;
	CUdevice dev;

	if (!s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD)
		return gdlc_current_device(&dev) ? -1 : dev;
	if (!get_ctx || get_ctx(s, &ctx) || gdlc_context_device(ctx, &dev))
		return -1;
	return dev;
}

/* After a synchronisation on @dev: reconcile when the period has passed. */
static void synchronised(CUdevice dev)
{
	if (gdlc_footprint_sync_due(dev))
		gdlc_footprint_reconcile(dev);
}

EXPORT CUresult cuCtxSynchronize(void)
{
	__typeof__(cuCtxSynchronize) *f = REAL(cuCtxSynchronize);
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = f();
	if (!e && !gdlc_current_device(&dev))
		synchronised(dev);
	return e;
}

EXPORT CUresult cuCtxSynchronize_v2(CUcontext ctx)
{
	__typeof__(cuCtxSynchronize_v2) *f = REAL(cuCtxSynchronize_v2);
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = f(ctx);
	if (!e && !gdlc_context_device(ctx, &dev))
		synchronised(dev);
	return e;
}

EXPORT CUresult cuStreamSynchronize(CUstream s)
{
	__typeof__(cuStreamSynchronize) *f = REAL(cuStreamSynchronize);
	CUresult e;

	CHECK_REAL(f);
	e = f(s);
	if (!e)
		synchronised(stream_device(s));
	return e;
}

EXPORT CUresult cuStreamSynchronize_ptsz(CUstream s)
{
	__typeof__(cuStreamSynchronize_ptsz) *f = REAL(cuStreamSynchronize_ptsz);
	CUresult e;

	CHECK_REAL(f);
	e = f(s);
	if (!e)
		synchronised(stream_device(s ? s : CU_STREAM_PER_THREAD));
	return e;
}

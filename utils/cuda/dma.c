// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The module's DMA rules at the driver API: peer access needs a peer
 * right, an IPC import or registered I/O memory an ACL entry covering the
 * range, pinned host memory a non-zero quota on the device.  Copies
 * between devices are copies.c's.
 */
#include "gdl_cuda.h"

HELPER(cuMemGetAddressRange_v2)
HELPER(cuIpcCloseMemHandle)
HELPER(cuMemFree_v2)

/* 1 when the ledger allows DMA between CUDA devices @src and @dst. */
int gdlc_peer_allowed(CUdevice src, CUdevice dst)
{
	struct gdlock *g = gdlc_ledger();
	int a, b, ret;

	if (src == dst)
		return 1;
	if (!g)
		return gdlc_unaccounted();
	a = gdlc_module_index(src);
	b = gdlc_module_index(dst);
	if (a < 0 || b < 0)
		return 0;
	ret = gdlock_peer_check(g, a, b);
	if (ret)
		gdlc_say(2, "peer DMA %d -> %d refused: %s", src, dst,
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
	if (!e && can && *can && !gdlc_peer_allowed(dev, peer))
		*can = 0;
	return e;
}

EXPORT CUresult cuCtxEnablePeerAccess(CUcontext peer, unsigned int flags)
{
	__typeof__(cuCtxEnablePeerAccess) *f = REAL(cuCtxEnablePeerAccess);
	CUdevice self, other;
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_current_device(&self);
	if (!e)
		e = gdlc_context_device(peer, &other);
	if (e)
		return e;
	if (!gdlc_peer_allowed(self, other))
		return CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;
	return f(peer, flags);
}

/* May the caller's agent access [addr, addr + len) on CUDA device @dev? */
int gdlc_range_allowed(CUdevice dev, uint64_t addr, uint64_t len)
{
	struct gdlock *g = gdlc_ledger();
	int idx, ret;

	if (!g)
		return gdlc_unaccounted();
	idx = gdlc_module_index(dev);
	if (idx < 0)
		return 0;
	ret = gdlock_dma_check(g, idx, addr, len,
			       GDL_ACCESS_READ | GDL_ACCESS_WRITE);
	if (ret)
		gdlc_say(2, "DMA to [%#llx, +%llu) on device %d refused: %s",
		    (unsigned long long)addr, (unsigned long long)len, dev,
		    gdlock_strerror(ret));
	return !ret;
}

/*
 * An imported buffer is another process's memory: it is only known once
 * mapped, so the check runs on the mapped range and a refusal unmaps it.
 */
/*
 * After an import mapped at *@ptr on device @dev: keep it when the agent
 * may read and write the whole allocation, else undo it with @undo.
 */
static CUresult imported(CUresult e, CUdevice dev, CUdeviceptr *ptr,
			 CUresult (*undo)(CUdeviceptr))
{
	__typeof__(cuMemGetAddressRange_v2) *range = h_cuMemGetAddressRange_v2();
	CUdeviceptr base;
	size_t size;

	if (e || !ptr)
		return e;
	if (range && range(&base, &size, *ptr) == CUDA_SUCCESS &&
	    gdlc_range_allowed(dev, base, size))
		return CUDA_SUCCESS;
	if (undo)
		undo(*ptr);
	*ptr = 0;
	return CUDA_ERROR_NOT_PERMITTED;
}

static CUresult ipc_open(__typeof__(cuIpcOpenMemHandle_v2) *f,
			 CUdeviceptr *pdptr, CUipcMemHandle hd,
			 unsigned int flags)
{
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	/* Memory the ledger knows: attached to, before the driver maps it. */
	if (!gdlc_ipc_open(f, pdptr, hd, flags, &e))
		return e;
	e = gdlc_current_device(&dev);
	return e ? e : imported(f(pdptr, hd, flags), dev, pdptr,
				h_cuIpcCloseMemHandle());
}

EXPORT CUresult cuIpcOpenMemHandle_v2(CUdeviceptr *pdptr, CUipcMemHandle hd,
				      unsigned int flags)
{
	return ipc_open(REAL(cuIpcOpenMemHandle_v2), pdptr, hd, flags);
}

/* The CUDA < 11 name, same ABI. */
EXPORT CUresult cuIpcOpenMemHandle(CUdeviceptr *pdptr, CUipcMemHandle hd,
				   unsigned int flags)
{
	return ipc_open(REAL(cuIpcOpenMemHandle), pdptr, hd, flags);
}

/*
 * A pointer imported from another process's pool: its memory, like an
 * IPC import, needs read+write on the mapped range; a refusal frees it.
 */
EXPORT CUresult cuMemPoolImportPointer(CUdeviceptr *ptr_out, CUmemoryPool pool,
				       CUmemPoolPtrExportData *data)
{
	__typeof__(cuMemPoolImportPointer) *f = REAL(cuMemPoolImportPointer);
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_current_device(&dev);
	return e ? e : imported(f(ptr_out, pool, data), dev, ptr_out,
				h_cuMemFree_v2());
}

/*
 * Pinning host memory lets the device DMA into it: the agent must be
 * allowed on the device at all (a non-zero quota).  Registering I/O memory
 * (another device's BAR) is peer-to-peer DMA and needs an ACL entry
 * covering that range.
 */
int gdlc_host_dma_allowed(CUdevice dev)
{
	struct gdlock *g = gdlc_ledger();
	struct gdl_quota q;
	int idx;

	if (!g)
		return gdlc_unaccounted();
	idx = gdlc_module_index(dev);
	return idx >= 0 && !gdlock_quota_get(g, 0, idx, &q) && q.quota;
}

static CUresult host_register(__typeof__(cuMemHostRegister_v2) *f, void *p,
			      size_t size, unsigned int flags)
{
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_current_device(&dev);
	if (e)
		return e;
	if (flags & CU_MEMHOSTREGISTER_IOMEMORY ?
	    !gdlc_range_allowed(dev, (uintptr_t)p, size) : !gdlc_host_dma_allowed(dev))
		return CUDA_ERROR_NOT_PERMITTED;
	return f(p, size, flags);
}

EXPORT CUresult cuMemHostRegister_v2(void *p, size_t size, unsigned int flags)
{
	return host_register(REAL(cuMemHostRegister_v2), p, size, flags);
}

/* The CUDA < 6.5 name, same ABI. */
EXPORT CUresult cuMemHostRegister(void *p, size_t size, unsigned int flags)
{
	return host_register(REAL(cuMemHostRegister), p, size, flags);
}

EXPORT CUresult cuMemHostAlloc(void **pp, size_t size, unsigned int flags)
{
	__typeof__(cuMemHostAlloc) *f = REAL(cuMemHostAlloc);
	CUdevice dev;
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_current_device(&dev);
	if (e)
		return e;
	if (!gdlc_host_dma_allowed(dev))
		return CUDA_ERROR_NOT_PERMITTED;
	return f(pp, size, flags);
}


/* Current-device check before any page-locked host allocation. */
static CUresult host_alloc_allowed(void)
{
	CUdevice dev;
	CUresult e = gdlc_current_device(&dev);

	if (e)
		return e;
	return gdlc_host_dma_allowed(dev) ? CUDA_SUCCESS : CUDA_ERROR_NOT_PERMITTED;
}

EXPORT CUresult cuMemAllocHost_v2(void **pp, size_t size)
{
	__typeof__(cuMemAllocHost_v2) *f = REAL(cuMemAllocHost_v2);
	CUresult e;

	CHECK_REAL(f);
	e = host_alloc_allowed();
	return e ? e : f(pp, size);
}

/* The pre-3.2 name: a 32-bit size, host memory only, so it is served. */
EXPORT CUresult cuMemAllocHost(void **pp, unsigned int size)
{
	__typeof__(cuMemAllocHost) *f = REAL(cuMemAllocHost);
	CUresult e;

	CHECK_REAL(f);
	e = host_alloc_allowed();
	return e ? e : f(pp, size);
}

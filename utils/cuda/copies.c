// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Copies between two devices need the peer right source -> destination:
 * the peer copies name their contexts; the unified-address copies
 * (cuMemcpy, cuMemcpyDtoD, the 2D and 3D copies between device or unified
 * memory, and their async, per-thread and batch forms) name pointers, whose devices the driver reports
 * (CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL).  Host memory, managed memory
 * (which migrates by design) and pointers the driver does not know are
 * not peer copies.  A refusal is CUDA_ERROR_NOT_PERMITTED before the
 * driver sees the copy.
 */
#include "gdl_cuda.h"

HELPER(cuPointerGetAttribute)

static CUresult peer_copy_check(CUcontext dctx, CUcontext sctx)
{
	CUdevice d, s;
	CUresult e = gdlc_context_device(dctx, &d);

	if (!e)
		e = gdlc_context_device(sctx, &s);
	if (e)
		return e;
	return gdlc_peer_allowed(s, d) ? CUDA_SUCCESS : CUDA_ERROR_NOT_PERMITTED;
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

static CUresult peer3d_check(const CUDA_MEMCPY3D_PEER *p)
{
	return p ? peer_copy_check(p->dstContext, p->srcContext) :
		   CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuMemcpy3DPeer(const CUDA_MEMCPY3D_PEER *p)
{
	__typeof__(cuMemcpy3DPeer) *f = REAL(cuMemcpy3DPeer);
	CUresult e;

	CHECK_REAL(f);
	e = peer3d_check(p);
	return e ? e : f(p);
}

EXPORT CUresult cuMemcpy3DPeer_ptds(const CUDA_MEMCPY3D_PEER *p)
{
	__typeof__(cuMemcpy3DPeer_ptds) *f = REAL(cuMemcpy3DPeer_ptds);
	CUresult e;

	CHECK_REAL(f);
	e = peer3d_check(p);
	return e ? e : f(p);
}

EXPORT CUresult cuMemcpy3DPeerAsync(const CUDA_MEMCPY3D_PEER *p, CUstream s)
{
	__typeof__(cuMemcpy3DPeerAsync) *f = REAL(cuMemcpy3DPeerAsync);
	CUresult e;

	CHECK_REAL(f);
	e = peer3d_check(p);
	return e ? e : f(p, s);
}

EXPORT CUresult cuMemcpy3DPeerAsync_ptsz(const CUDA_MEMCPY3D_PEER *p,
					 CUstream s)
{
	__typeof__(cuMemcpy3DPeerAsync_ptsz) *f = REAL(cuMemcpy3DPeerAsync_ptsz);
	CUresult e;

	CHECK_REAL(f);
	e = peer3d_check(p);
	return e ? e : f(p, s);
}

/* The device of device memory at @p, or -1 (host, managed, unknown). */
static CUdevice device_of(CUdeviceptr p)
{
	__typeof__(cuPointerGetAttribute) *f = h_cuPointerGetAttribute();
	unsigned int type = 0;
	int ordinal = -1, managed = 0;

	if (!f || f(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, p) ||
	    type != CU_MEMORYTYPE_DEVICE)
		return -1;
	if (!f(&managed, CU_POINTER_ATTRIBUTE_IS_MANAGED, p) && managed)
		return -1;
	if (f(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, p))
		return -1;
	return ordinal;
}

/* src -> dst between two devices needs the peer right. */
static CUresult uva_check(CUdeviceptr dst, CUdeviceptr src)
{
	CUdevice d = device_of(dst), s;

	if (d < 0)
		return CUDA_SUCCESS;
	s = device_of(src);
	if (s < 0 || s == d)
		return CUDA_SUCCESS;
	return gdlc_peer_allowed(s, d) ? CUDA_SUCCESS : CUDA_ERROR_NOT_PERMITTED;
}

#define UVA_COPY(name)							\
	EXPORT CUresult name(CUdeviceptr dst, CUdeviceptr src, size_t n)	\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = uva_check(dst, src);				\
		return e ? e : f(dst, src, n);				\
	}

#define UVA_COPY_ASYNC(name)						\
	EXPORT CUresult name(CUdeviceptr dst, CUdeviceptr src, size_t n,	\
			     CUstream s)				\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = uva_check(dst, src);				\
		return e ? e : f(dst, src, n, s);			\
	}

UVA_COPY(cuMemcpy)
UVA_COPY(cuMemcpy_ptds)
UVA_COPY(cuMemcpyDtoD_v2)
UVA_COPY(cuMemcpyDtoD_v2_ptds)
UVA_COPY_ASYNC(cuMemcpyAsync)
UVA_COPY_ASYNC(cuMemcpyAsync_ptsz)
UVA_COPY_ASYNC(cuMemcpyDtoDAsync_v2)
UVA_COPY_ASYNC(cuMemcpyDtoDAsync_v2_ptsz)

/*
 * 2D and 3D copies between device (or unified) memory on each side: the
 * same rule.  Arrays are per-device objects of their own and not checked.
 */
static int is_device(CUmemorytype t)
{
	return t == CU_MEMORYTYPE_DEVICE || t == CU_MEMORYTYPE_UNIFIED;
}

#define COPY_XD(name, type)						\
	EXPORT CUresult name(const type *p)				\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e = CUDA_SUCCESS;				\
									\
		CHECK_REAL(f);						\
		if (p && is_device(p->srcMemoryType) &&			\
		    is_device(p->dstMemoryType))			\
			e = uva_check(p->dstDevice, p->srcDevice);	\
		return e ? e : f(p);					\
	}

#define COPY_XD_ASYNC(name, type)					\
	EXPORT CUresult name(const type *p, CUstream s)			\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e = CUDA_SUCCESS;				\
									\
		CHECK_REAL(f);						\
		if (p && is_device(p->srcMemoryType) &&			\
		    is_device(p->dstMemoryType))			\
			e = uva_check(p->dstDevice, p->srcDevice);	\
		return e ? e : f(p, s);					\
	}

COPY_XD(cuMemcpy2D_v2, CUDA_MEMCPY2D)
COPY_XD(cuMemcpy2D_v2_ptds, CUDA_MEMCPY2D)
COPY_XD(cuMemcpy2DUnaligned_v2, CUDA_MEMCPY2D)
COPY_XD(cuMemcpy2DUnaligned_v2_ptds, CUDA_MEMCPY2D)
COPY_XD_ASYNC(cuMemcpy2DAsync_v2, CUDA_MEMCPY2D)
COPY_XD_ASYNC(cuMemcpy2DAsync_v2_ptsz, CUDA_MEMCPY2D)
COPY_XD(cuMemcpy3D_v2, CUDA_MEMCPY3D)
COPY_XD(cuMemcpy3D_v2_ptds, CUDA_MEMCPY3D)
COPY_XD_ASYNC(cuMemcpy3DAsync_v2, CUDA_MEMCPY3D)
COPY_XD_ASYNC(cuMemcpy3DAsync_v2_ptsz, CUDA_MEMCPY3D)

/* Every pair of the batch, before any of it is enqueued. */
EXPORT CUresult cuMemcpyBatchAsync_v2(CUdeviceptr *dsts, CUdeviceptr *srcs,
				      size_t *sizes, size_t count,
				      CUmemcpyAttributes *attrs,
				      size_t *attrsIdxs, size_t numAttrs,
				      CUstream s)
{
	__typeof__(cuMemcpyBatchAsync_v2) *f = REAL(cuMemcpyBatchAsync_v2);
	size_t i;
	CUresult e;

	CHECK_REAL(f);
	for (i = 0; dsts && srcs && i < count; i++) {
		e = uva_check(dsts[i], srcs[i]);
		if (e)
			return e;
	}
	return f(dsts, srcs, sizes, count, attrs, attrsIdxs, numAttrs, s);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Copies between two devices need the peer right source -> destination:
 * the peer copies name their contexts; the unified-address copies
 * (cuMemcpy, cuMemcpyDtoD, the 2D and 3D copies, the array copies, and
 * their async, per-thread and batch forms; graph copy nodes reuse the
 * same check, graph_copies.c) name pointers, whose devices the driver
 * reports (CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL), or arrays, whose device
 * the interposer recorded when it charged them (arrays.c).  Host memory,
 * managed memory (which migrates by design) and pointers the driver does
 * not know are not peer copies.  A refusal is CUDA_ERROR_NOT_PERMITTED
 * before the driver sees the copy.
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

/* From device @s to device @d (-1: not device memory): the peer right. */
static CUresult devices_check(CUdevice d, CUdevice s)
{
	if (d < 0 || s < 0 || s == d)
		return CUDA_SUCCESS;
	return gdlc_peer_allowed(s, d) ? CUDA_SUCCESS : CUDA_ERROR_NOT_PERMITTED;
}

/* src -> dst between two devices needs the peer right. */
static CUresult uva_check(CUdeviceptr dst, CUdeviceptr src)
{
	CUdevice d = device_of(dst);

	return d < 0 ? CUDA_SUCCESS : devices_check(d, device_of(src));
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
 * 2D and 3D copies: each side is host, device or unified memory, or an
 * array.  The destination is looked up first: most copies are uploads or
 * downloads, and a host side ends the check after one lookup.
 */
static CUdevice operand_device(CUmemorytype t, CUdeviceptr p, CUarray a)
{
	switch (t) {
	case CU_MEMORYTYPE_DEVICE:
	case CU_MEMORYTYPE_UNIFIED:
		return device_of(p);
	case CU_MEMORYTYPE_ARRAY:
		return gdlc_array_device(a);
	default:
		return -1;
	}
}

#define XD_CHECK(p) ({							\
	CUdevice d_ = operand_device((p)->dstMemoryType, (p)->dstDevice,	\
				     (p)->dstArray);			\
	d_ < 0 ? CUDA_SUCCESS :						\
		 devices_check(d_, operand_device((p)->srcMemoryType,	\
						  (p)->srcDevice,	\
						  (p)->srcArray));	\
})

/* A 3D copy's parameters (also a graph copy node's, graph_copies.c). */
CUresult gdlc_copy3d_check(const CUDA_MEMCPY3D *p)
{
	return p ? XD_CHECK(p) : CUDA_SUCCESS;
}

#define COPY_XD(name, type)						\
	EXPORT CUresult name(const type *p)				\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e = CUDA_SUCCESS;				\
									\
		CHECK_REAL(f);						\
		if (p)							\
			e = XD_CHECK(p);				\
		return e ? e : f(p);					\
	}

#define COPY_XD_ASYNC(name, type)					\
	EXPORT CUresult name(const type *p, CUstream s)			\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e = CUDA_SUCCESS;				\
									\
		CHECK_REAL(f);						\
		if (p)							\
			e = XD_CHECK(p);				\
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

/* Copies between an array and an array or device memory. */
#define COPY_ATOA(name)							\
	EXPORT CUresult name(CUarray dst, size_t doff, CUarray src,	\
			     size_t soff, size_t n)			\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = devices_check(gdlc_array_device(dst),		\
				  gdlc_array_device(src));		\
		return e ? e : f(dst, doff, src, soff, n);		\
	}

#define COPY_ATOD(name)							\
	EXPORT CUresult name(CUdeviceptr dst, CUarray src, size_t soff,	\
			     size_t n)					\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = devices_check(device_of(dst), gdlc_array_device(src)); \
		return e ? e : f(dst, src, soff, n);			\
	}

#define COPY_DTOA(name)							\
	EXPORT CUresult name(CUarray dst, size_t doff, CUdeviceptr src,	\
			     size_t n)					\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = devices_check(gdlc_array_device(dst), device_of(src)); \
		return e ? e : f(dst, doff, src, n);			\
	}

COPY_ATOA(cuMemcpyAtoA_v2)
COPY_ATOA(cuMemcpyAtoA_v2_ptds)
COPY_ATOD(cuMemcpyAtoD_v2)
COPY_ATOD(cuMemcpyAtoD_v2_ptds)
COPY_DTOA(cuMemcpyDtoA_v2)
COPY_DTOA(cuMemcpyDtoA_v2_ptds)

/*
 * Batches: every copy, before any of it is enqueued.  The first refused
 * one goes in *fail (CUDA 12.8's versions report it there).
 */
static CUresult batch_check(CUdeviceptr *dsts, CUdeviceptr *srcs,
			    size_t count, size_t *fail)
{
	size_t i;
	CUresult e;

	for (i = 0; dsts && srcs && i < count; i++) {
		e = uva_check(dsts[i], srcs[i]);
		if (e) {
			if (fail)
				*fail = i;
			return e;
		}
	}
	return CUDA_SUCCESS;
}

/* CUDA 13's versions. */
#define COPY_BATCH(name)						\
	EXPORT CUresult name(CUdeviceptr *dsts, CUdeviceptr *srcs,	\
			     size_t *sizes, size_t count,		\
			     CUmemcpyAttributes *attrs, size_t *attrsIdxs, \
			     size_t numAttrs, CUstream s)		\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = batch_check(dsts, srcs, count, NULL);		\
		return e ? e : f(dsts, srcs, sizes, count, attrs,	\
				 attrsIdxs, numAttrs, s);		\
	}

/* CUDA 12.8's, with the index of a failed copy. */
#define COPY_BATCH_FAIL(name)						\
	EXPORT CUresult name(CUdeviceptr *dsts, CUdeviceptr *srcs,	\
			     size_t *sizes, size_t count,		\
			     CUmemcpyAttributes *attrs, size_t *attrsIdxs, \
			     size_t numAttrs, size_t *fail, CUstream s)	\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = batch_check(dsts, srcs, count, fail);		\
		return e ? e : f(dsts, srcs, sizes, count, attrs,	\
				 attrsIdxs, numAttrs, fail, s);		\
	}

COPY_BATCH(cuMemcpyBatchAsync_v2)
COPY_BATCH(cuMemcpyBatchAsync_v2_ptsz)
COPY_BATCH_FAIL(cuMemcpyBatchAsync)
COPY_BATCH_FAIL(cuMemcpyBatchAsync_ptsz)

/* A 3D batch operand: a pointer or an array. */
static CUdevice operand3d_device(const CUmemcpy3DOperand *o)
{
	switch (o->type) {
	case CU_MEMCPY_OPERAND_TYPE_POINTER:
		return device_of(o->op.ptr.ptr);
	case CU_MEMCPY_OPERAND_TYPE_ARRAY:
		return gdlc_array_device(o->op.array.array);
	default:
		return -1;
	}
}

static CUresult batch3d_check(size_t n, const CUDA_MEMCPY3D_BATCH_OP *ops,
			      size_t *fail)
{
	size_t i;
	CUdevice d;
	CUresult e;

	for (i = 0; ops && i < n; i++) {
		d = operand3d_device(&ops[i].dst);
		e = d < 0 ? CUDA_SUCCESS :
			    devices_check(d, operand3d_device(&ops[i].src));
		if (e) {
			if (fail)
				*fail = i;
			return e;
		}
	}
	return CUDA_SUCCESS;
}

#define COPY_BATCH3D(name)						\
	EXPORT CUresult name(size_t n, CUDA_MEMCPY3D_BATCH_OP *ops,	\
			     unsigned long long flags, CUstream s)	\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = batch3d_check(n, ops, NULL);			\
		return e ? e : f(n, ops, flags, s);			\
	}

#define COPY_BATCH3D_FAIL(name)						\
	EXPORT CUresult name(size_t n, CUDA_MEMCPY3D_BATCH_OP *ops,	\
			     size_t *fail, unsigned long long flags,	\
			     CUstream s)				\
	{								\
		__typeof__(name) *f = REAL(name);			\
		CUresult e;						\
									\
		CHECK_REAL(f);						\
		e = batch3d_check(n, ops, fail);			\
		return e ? e : f(n, ops, fail, flags, s);		\
	}

COPY_BATCH3D(cuMemcpy3DBatchAsync_v2)
COPY_BATCH3D(cuMemcpy3DBatchAsync_v2_ptsz)
COPY_BATCH3D_FAIL(cuMemcpy3DBatchAsync)
COPY_BATCH3D_FAIL(cuMemcpy3DBatchAsync_ptsz)

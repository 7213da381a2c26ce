// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The pre-3.2 allocation, free and copy entry points libcuda still exports
 * (cuda.h #defines each name to its _v2).  Their 32-bit device pointers,
 * sizes and descriptors cannot name today's allocations, so they are
 * refused rather than passed to the driver unaccounted (allocations) or
 * unchecked (copies between devices, which need the peer right); dlsym
 * hands out these wrappers and cuGetProcAddress refuses them too
 * (symbols.c).  The legacy names whose ABI is the current one's are
 * served next to their current versions.
 */
#include "gdl_cuda.h"

static CUresult refused(const char *name)
{
	gdlc_say(2, "%s: legacy 32-bit ABI refused", name);
	return CUDA_ERROR_NOT_SUPPORTED;
}

EXPORT CUresult cuMemAlloc(unsigned int *dptr, unsigned int size)
{
	(void)dptr;
	(void)size;
	return refused("cuMemAlloc");
}

EXPORT CUresult cuMemAllocPitch(unsigned int *dptr, unsigned int *pitch,
				unsigned int width, unsigned int height,
				unsigned int elem)
{
	(void)dptr;
	(void)pitch;
	(void)width;
	(void)height;
	(void)elem;
	return refused("cuMemAllocPitch");
}

EXPORT CUresult cuArrayCreate(CUarray *arr,
			      const GDL_CUDA_ARRAY_DESCRIPTOR_v1 *d)
{
	(void)arr;
	(void)d;
	return refused("cuArrayCreate");
}

EXPORT CUresult cuArray3DCreate(CUarray *arr,
				const GDL_CUDA_ARRAY3D_DESCRIPTOR_v1 *d)
{
	(void)arr;
	(void)d;
	return refused("cuArray3DCreate");
}

/*
 * Nothing this process allocated has a 32-bit address to free (the
 * allocators above are refused): a 32-bit free could only reach memory
 * charged under another address.
 */
EXPORT CUresult cuMemFree(GDL_CUdeviceptr_v1 dptr)
{
	(void)dptr;
	return refused("cuMemFree");
}

/* The copies: never read, refused before the driver sees them. */
EXPORT CUresult cuMemcpyDtoD(GDL_CUdeviceptr_v1 dst, GDL_CUdeviceptr_v1 src,
			     unsigned int n)
{
	(void)dst;
	(void)src;
	(void)n;
	return refused("cuMemcpyDtoD");
}

EXPORT CUresult cuMemcpyDtoDAsync(GDL_CUdeviceptr_v1 dst,
				  GDL_CUdeviceptr_v1 src, unsigned int n,
				  CUstream s)
{
	(void)dst;
	(void)src;
	(void)n;
	(void)s;
	return refused("cuMemcpyDtoDAsync");
}

EXPORT CUresult cuMemcpyDtoA(CUarray dst, unsigned int doff,
			     GDL_CUdeviceptr_v1 src, unsigned int n)
{
	(void)dst;
	(void)doff;
	(void)src;
	(void)n;
	return refused("cuMemcpyDtoA");
}

EXPORT CUresult cuMemcpyAtoD(GDL_CUdeviceptr_v1 dst, CUarray src,
			     unsigned int soff, unsigned int n)
{
	(void)dst;
	(void)src;
	(void)soff;
	(void)n;
	return refused("cuMemcpyAtoD");
}

EXPORT CUresult cuMemcpyAtoA(CUarray dst, unsigned int doff, CUarray src,
			     unsigned int soff, unsigned int n)
{
	(void)dst;
	(void)doff;
	(void)src;
	(void)soff;
	(void)n;
	return refused("cuMemcpyAtoA");
}

#define REFUSED_XD(name, type)						\
	EXPORT CUresult name(const type *p)				\
	{								\
		(void)p;						\
		return refused(#name);					\
	}

#define REFUSED_XD_ASYNC(name, type)					\
	EXPORT CUresult name(const type *p, CUstream s)			\
	{								\
		(void)p;						\
		(void)s;						\
		return refused(#name);					\
	}

REFUSED_XD(cuMemcpy2D, GDL_CUDA_MEMCPY2D_v1)
REFUSED_XD(cuMemcpy2DUnaligned, GDL_CUDA_MEMCPY2D_v1)
REFUSED_XD_ASYNC(cuMemcpy2DAsync, GDL_CUDA_MEMCPY2D_v1)
REFUSED_XD(cuMemcpy3D, GDL_CUDA_MEMCPY3D_v1)
REFUSED_XD_ASYNC(cuMemcpy3DAsync, GDL_CUDA_MEMCPY3D_v1)

/* 1 when @idx is one of the refused ABIs above. */
int gdlc_refused_abi(int idx)
{
	switch (idx) {
#define X(sym) case IDX_##sym:
	GDL_CUDA_REFUSED(X)
#undef X
		return 1;
	default:
		return 0;
	}
}

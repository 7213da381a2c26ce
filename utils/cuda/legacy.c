// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The pre-3.2 allocation entry points libcuda still exports (cuda.h
 * #defines each name to its _v2).  Their 32-bit device pointers, sizes
 * and descriptors cannot name today's allocations, so they are refused
 * rather than passed to the driver unaccounted; cuGetProcAddress refuses
 * them too (symbols.c).  The legacy names whose ABI is the current one's
 * are served next to their current versions.
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

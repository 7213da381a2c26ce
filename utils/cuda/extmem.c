// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * External memory: GPU memory that another API allocated (Vulkan, D3D,
 * NvSciBuf) imported into the current context.  The import holds the
 * memory (an imported file descriptor's ownership passes to the driver),
 * however early the other API frees its own object, and CUDA can then
 * use all of it (cuExternalMemoryGetMappedBuffer,
 * cuExternalMemoryGetMappedMipmappedArray, which make views of it and
 * allocate nothing more).  Memory allocated outside CUDA escapes the
 * interposer; its use through CUDA does not: the import is charged its
 * declared size (CUDA_EXTERNAL_MEMORY_HANDLE_DESC.size) on the current
 * context's device before the driver call, refused with
 * CUDA_ERROR_OUT_OF_MEMORY past the quota, and released at
 * cuDestroyExternalMemory.
 */
#include "gdl_cuda.h"

EXPORT CUresult cuImportExternalMemory(CUexternalMemory *ext,
				       const CUDA_EXTERNAL_MEMORY_HANDLE_DESC *desc)
{
	__typeof__(cuImportExternalMemory) *f = REAL(cuImportExternalMemory);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	if (!ext || !desc || !desc->size)
		return f(ext, desc);	/* the driver's own error */
	e = gdlc_reserve_current(desc->size, &h);
	if (e)
		return e;
	e = f(ext, desc);
	return gdlc_track(&gdlc_ext_map, e, e ? 0 : (uintptr_t)*ext, h);
}

EXPORT CUresult cuDestroyExternalMemory(CUexternalMemory ext)
{
	__typeof__(cuDestroyExternalMemory) *f = REAL(cuDestroyExternalMemory);

	CHECK_REAL(f);
	return GDLC_FREEING(&gdlc_ext_map, (uintptr_t)ext, f(ext));
}

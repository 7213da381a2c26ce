// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CUDA arrays (textures, surfaces): the driver chooses their layout, so
 * they are charged from their descriptors, every mip level included.
 */
#include "gdl_cuda.h"

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
	e = gdlc_reserve_current(size, &h);
	if (e)
		return e;
	e = f(arr, d);
	return gdlc_track(&gdlc_arr_map, e, e ? 0 : (uintptr_t)*arr, h);
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
	e = gdlc_reserve_current(size, &h);
	if (e)
		return e;
	e = f(arr, d);
	return gdlc_track(&gdlc_arr_map, e, e ? 0 : (uintptr_t)*arr, h);
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
	e = gdlc_reserve_current(total, &h);
	if (e)
		return e;
	e = f(arr, d, levels);
	return gdlc_track(&gdlc_arr_map, e, e ? 0 : (uintptr_t)*arr, h);
}

/* A sparse array's tiles go with it, and so do their handles' mappings. */
EXPORT CUresult cuArrayDestroy(CUarray arr)
{
	__typeof__(cuArrayDestroy) *f = REAL(cuArrayDestroy);
	void *tiles;
	CUresult e;

	CHECK_REAL(f);
	tiles = gdlc_sparse_take((uintptr_t)arr);
	e = GDLC_FREEING(&gdlc_arr_map, (uintptr_t)arr, f(arr));
	gdlc_sparse_end(tiles, e);
	return e;
}

EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray arr)
{
	__typeof__(cuMipmappedArrayDestroy) *f = REAL(cuMipmappedArrayDestroy);
	void *tiles;
	CUresult e;

	CHECK_REAL(f);
	tiles = gdlc_sparse_take((uintptr_t)arr);
	e = GDLC_FREEING(&gdlc_arr_map, (uintptr_t)arr, f(arr));
	gdlc_sparse_end(tiles, e);
	return e;
}

/*
 * The device of an array this process created (its charge records it), or
 * -1: an array created unaccounted, or a view the driver made (a mipmap
 * level, a plane), is not looked at.
 */
CUdevice gdlc_array_device(CUarray a)
{
	uint64_t h, info;

	if (!a || gdl_map_get_aux(&gdlc_arr_map, (uintptr_t)a, &h, &info) ||
	    !(info & 0xff))
		return -1;
	return (CUdevice)(info & 0xff) - 1;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CUDA arrays (textures, surfaces): the driver chooses their layout, so
 * they are charged from their descriptors, every mip level included.
 * Sparse and deferred-mapping arrays (CUDA_ARRAY3D_SPARSE,
 * CUDA_ARRAY3D_DEFERRED_MAPPING) hold no memory of their own: their tiles
 * are VMM handles mapped in (sparse.c), charged at cuMemCreate.  They are
 * charged nothing; their device is kept all the same (placed), for the
 * copy checks and a primary context's reset.
 */
#include <stdlib.h>

#include "gdl_cuda.h"

HELPER(cuCtxGetCurrent)

/*
 * The context each charged array was made in: a primary context's reset
 * frees its arrays behind the interposer (gdlc_arrays_reset_begin).
 */
static struct gdl_map made_in;	/* array -> CUcontext */
static struct gdl_map placed;	/* uncharged array -> its device + 1 */

#define UNCHARGED_ARRAY (CUDA_ARRAY3D_SPARSE | CUDA_ARRAY3D_DEFERRED_MAPPING)

/*
 * After the driver made @arr (0: it did not): charged, its context kept.
 * @dev: an uncharged array's device (h is 0), or -1.
 */
static CUresult created_on(CUresult e, uint64_t arr, uint64_t h, CUdevice dev,
			   int mip)
{
	__typeof__(cuCtxGetCurrent) *cur = h_cuCtxGetCurrent();
	CUcontext ctx = NULL;
	uint64_t old;

	e = gdlc_track(&gdlc_arr_map, e, arr, h);
	if (!e && arr && !h && dev >= 0 &&
	    gdl_map_put(&placed, arr, (uint64_t)dev + 1, &old) < 0) {
		/* Unknown device: copies through it could not be checked. */
		__typeof__(cuArrayDestroy) *f = REAL(cuArrayDestroy);
		__typeof__(cuMipmappedArrayDestroy) *fm = REAL(cuMipmappedArrayDestroy);

		gdlc_say(1, "out of memory tracking a sparse array: refused");
		if (mip && fm)
			fm((CUmipmappedArray)(uintptr_t)arr);
		else if (!mip && f)
			f((CUarray)(uintptr_t)arr);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	if (e || !arr || (!h && dev < 0) || !cur || cur(&ctx) || !ctx)
		return e;
	if (gdl_map_put(&made_in, arr, (uintptr_t)ctx, &old) < 0)
		gdlc_say(1, "out of memory tracking an array's context; a reset leaves it charged");
	return e;
}

static CUresult created(CUresult e, uint64_t arr, uint64_t h)
{
	return created_on(e, arr, h, -1, 0);
}

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
	return created(e, e ? 0 : (uintptr_t)*arr, h);
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
	if (d->Flags & UNCHARGED_ARRAY) {
		CUdevice dev;

		e = gdlc_current_device(&dev);
		if (e)
			return e;
		e = f(arr, d);
		return created_on(e, e ? 0 : (uintptr_t)*arr, 0, dev, 0);
	}
	/* Layered and cubemap arrays: Depth already counts the layers. */
	size = array_bytes(d->Width, d->Height, d->Depth, d->Format,
			   d->NumChannels);
	if (!size)
		return CUDA_ERROR_OUT_OF_MEMORY;
	e = gdlc_reserve_current(size, &h);
	if (e)
		return e;
	e = f(arr, d);
	return created(e, e ? 0 : (uintptr_t)*arr, h);
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
	if (d->Flags & UNCHARGED_ARRAY) {
		CUdevice dev;

		e = gdlc_current_device(&dev);
		if (e)
			return e;
		e = f(arr, d, levels);
		return created_on(e, e ? 0 : (uintptr_t)*arr, 0, dev, 1);
	}
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
	return created(e, e ? 0 : (uintptr_t)*arr, h);
}

/*
 * Views the driver makes of an array (a mipmapped array's level, a
 * multi-planar array's plane) are CUarrays of their own that live and
 * die with it: each is kept with its parent and device, for the copy
 * checks (copies.c) and the sparse tiles mapped through it (sparse.c).
 * They are uncharged (their parent is charged in full).  Programs that
 * never ask for a view never look in this map.
 */
static struct gdl_map views;	/* view -> parent; aux: its device + 1 */
static int has_views;

static CUdevice device_of_array(uint64_t a)
{
	uint64_t h, info;

	if (!a)
		return -1;
	if (!gdl_map_get_aux(&gdlc_arr_map, a, &h, &info) && (info & 0xff))
		return (CUdevice)(info & 0xff) - 1;
	if (!gdl_map_get(&placed, a, &h))
		return (CUdevice)h - 1;
	if (__atomic_load_n(&has_views, __ATOMIC_ACQUIRE) &&
	    !gdl_map_get_aux(&views, a, &h, &info) && (info & 0xff))
		return (CUdevice)(info & 0xff) - 1;
	return -1;
}

/*
 * The device of an array this process created (its charge records it) or
 * of a view of one, or -1: an array created unaccounted is not looked at.
 */
CUdevice gdlc_array_device(CUarray a)
{
	return device_of_array((uintptr_t)a);
}

static void view_made(CUresult e, CUarray *view, uint64_t parent)
{
	CUdevice dev = e || !view ? -1 : device_of_array(parent);
	uint64_t old, old_aux;

	if (dev < 0 || !*view)
		return;
	__atomic_store_n(&has_views, 1, __ATOMIC_RELEASE);
	if (gdl_map_put_aux(&views, (uintptr_t)*view, parent, dev + 1, &old,
			    &old_aux) < 0)
		gdlc_say(1, "out of memory tracking an array view; copies through it are not checked");
}

EXPORT CUresult cuMipmappedArrayGetLevel(CUarray *level, CUmipmappedArray arr,
					 unsigned int l)
{
	__typeof__(cuMipmappedArrayGetLevel) *f = REAL(cuMipmappedArrayGetLevel);
	CUresult e;

	CHECK_REAL(f);
	e = f(level, arr, l);
	view_made(e, level, (uintptr_t)arr);
	return e;
}

EXPORT CUresult cuArrayGetPlane(CUarray *plane, CUarray arr, unsigned int idx)
{
	__typeof__(cuArrayGetPlane) *f = REAL(cuArrayGetPlane);
	CUresult e;

	CHECK_REAL(f);
	e = f(plane, arr, idx);
	view_made(e, plane, (uintptr_t)arr);
	return e;
}

/*
 * An array being destroyed takes its sparse tiles and its views (and
 * theirs) with it: all leave their tables before the driver call and
 * come back if it refuses (the race rule of every free).
 */
struct array_gone {
	void *tiles;			/* the array's own sparse tiles */
	struct gdl_map_slot *views;	/* its views, taken */
	void **view_tiles;
	size_t nr_views;
	uint64_t ctx;			/* its context (made_in), or 0 */
	uint64_t placed;		/* an uncharged array's device + 1, or 0 */
};

static void gone_begin(uint64_t arr, struct array_gone *g)
{
	struct gdl_map_slot *v = NULL;
	size_t n = 0, i;

	memset(g, 0, sizeof(*g));
	if (gdl_map_take(&made_in, arr, &g->ctx))
		g->ctx = 0;
	if (gdl_map_take(&placed, arr, &g->placed))
		g->placed = 0;
	g->tiles = gdlc_sparse_take(arr);
	if (!__atomic_load_n(&has_views, __ATOMIC_ACQUIRE))
		return;
	n = gdl_map_snapshot(&views, &v);
	for (i = 0; i < n; i++) {
		if (v[i].val != arr ||
		    gdl_map_take_aux(&views, v[i].key, &v[g->nr_views].val,
				     &v[g->nr_views].aux))
			continue;
		v[g->nr_views++].key = v[i].key;
	}
	g->views = v;
	/* Out of memory: the views' tiles stay counted until exit. */
	g->view_tiles = calloc(g->nr_views ? g->nr_views : 1, sizeof(void *));
	for (i = 0; g->view_tiles && i < g->nr_views; i++)
		g->view_tiles[i] = gdlc_sparse_take(v[i].key);
}

static void gone_end(struct array_gone *g, uint64_t arr, CUresult e)
{
	size_t i;

	if (e && g->ctx && gdl_map_add(&made_in, arr, g->ctx) < 0)
		gdlc_say(1, "out of memory tracking an array's context; a reset leaves it charged");
	if (e && g->placed && gdl_map_add(&placed, arr, g->placed) < 0)
		gdlc_say(1, "out of memory tracking a sparse array; copies through it are not checked");
	gdlc_sparse_end(g->tiles, e);
	for (i = 0; i < g->nr_views; i++) {
		if (g->view_tiles)
			gdlc_sparse_end(g->view_tiles[i], e);
		if (e && gdl_map_add_aux(&views, g->views[i].key,
					 g->views[i].val, g->views[i].aux) < 0)
			gdlc_say(1, "out of memory tracking an array view; copies through it are not checked");
	}
	free(g->view_tiles);
	free(g->views);
}

EXPORT CUresult cuArrayDestroy(CUarray arr)
{
	__typeof__(cuArrayDestroy) *f = REAL(cuArrayDestroy);
	struct array_gone g;
	CUresult e;

	CHECK_REAL(f);
	gone_begin((uintptr_t)arr, &g);
	e = GDLC_FREEING(&gdlc_arr_map, (uintptr_t)arr, f(arr));
	gone_end(&g, (uintptr_t)arr, e);
	return e;
}

EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray arr)
{
	__typeof__(cuMipmappedArrayDestroy) *f = REAL(cuMipmappedArrayDestroy);
	struct array_gone g;
	CUresult e;

	CHECK_REAL(f);
	gone_begin((uintptr_t)arr, &g);
	e = GDLC_FREEING(&gdlc_arr_map, (uintptr_t)arr, f(arr));
	gone_end(&g, (uintptr_t)arr, e);
	return e;
}

/*
 * cuDevicePrimaryCtxReset frees the arrays made in the primary context
 * @ctx: each leaves the tables (its charge, context, tiles and views)
 * before the driver call, as at its destroy, and goes once the reset is
 * accepted (gdlc_arrays_reset_end), or comes back.  NULL: none.
 */
struct reset_array {
	uint64_t arr, resv, info;
	struct array_gone g;
};

struct gdlc_reset_arrays {
	struct reset_array *a;
	size_t n;
};

struct gdlc_reset_arrays *gdlc_arrays_reset_begin(CUcontext ctx)
{
	struct gdlc_reset_arrays *r;
	struct gdl_map_slot *v = NULL;
	size_t n, i;

	if (!ctx || !gdl_map_count(&made_in))
		return NULL;
	n = gdl_map_snapshot(&made_in, &v);
	r = calloc(1, sizeof(*r));
	if (r)
		r->a = calloc(n ? n : 1, sizeof(*r->a));
	if (!r || !r->a) {
		/* Their charges stay: an over-charge until exit. */
		gdlc_say(1, "out of memory settling a primary context's arrays; they stay charged");
		free(r);
		free(v);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		struct reset_array *x = &r->a[r->n];
		uint64_t c;

		if (v[i].val != (uintptr_t)ctx ||
		    gdl_map_get(&made_in, v[i].key, &c) || c != v[i].val)
			continue;	/* another context's, or destroyed meanwhile */
		x->arr = v[i].key;
		gone_begin(x->arr, &x->g);
		if (!x->g.ctx) {
			gone_end(&x->g, x->arr, CUDA_ERROR_INVALID_VALUE);
			continue;	/* destroyed meanwhile */
		}
		x->resv = gdlc_untrack_begin(&gdlc_arr_map, x->arr, &x->info);
		r->n++;
	}
	free(v);
	return r;
}

void gdlc_arrays_reset_end(struct gdlc_reset_arrays *r, CUresult e)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		gdlc_untrack_end(&gdlc_arr_map, e, r->a[i].arr, r->a[i].resv,
				 r->a[i].info);
		gone_end(&r->a[i].g, r->a[i].arr, e);
	}
	free(r->a);
	free(r);
}

void gdlc_arrays_lock_all(void)
{
	gdl_map_lock_all(&views);
	gdl_map_lock_all(&made_in);
	gdl_map_lock_all(&placed);
}

void gdlc_arrays_unlock_all(void)
{
	gdl_map_unlock_all(&placed);
	gdl_map_unlock_all(&made_in);
	gdl_map_unlock_all(&views);
}

/* A fork child: the parent's bookkeeping is not its own (ledger.c). */
void gdlc_arrays_forget(void)
{
	gdl_map_clear(&views);
	gdl_map_clear(&made_in);
	gdl_map_clear(&placed);
}

void gdlc_arrays_init(void)
{
	gdl_map_init(&views);
	gdl_map_init(&made_in);
	gdl_map_init(&placed);
}

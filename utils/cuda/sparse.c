// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sparse arrays: cuMemMapArrayAsync maps tiles of a sparse CUDA array (or
 * mipmapped array) onto a VMM handle's memory.  Such a mapping holds the
 * handle's memory as cuMemMap's does, so it counts as a mapping of the
 * handle (vmm.c): a handle released while only array-mapped stays
 * charged until its last tile is unmapped or its array destroyed.
 *
 * An unmap names a region of the array, not the handle: each tile
 * mapping is kept with its region (subresource type, mip level, layer,
 * and its box in elements, or its byte range in the mip tail), and a map
 * or unmap removes the tiles whose region it covers entirely (mapping
 * over a tile replaces it).  A tile only partly covered stays counted: an
 * over-charge until its array is destroyed, never an early uncharge.
 * Tiles covered by a call leave the table before the driver call and come
 * back if the driver refuses (the same race rule as every free).  Sparse
 * mapping is rare next to allocation; one mutex covers it, and the lock
 * order is this one, then vmm.c's.
 */
#include <pthread.h>
#include <stdlib.h>

#include "gdl_cuda.h"

struct tile {
	uint64_t resource;	/* the CUarray or CUmipmappedArray */
	unsigned int sub, level, layer;
	uint64_t x0, x1, y0, y1, z0, z1;	/* [x0, x1) ... */
	void *alloc;		/* vmm.c's handle, held; NULL: not ours */
	int superseded;		/* covered by a later tile of the same call */
};

struct tiles {
	size_t n, cap;
	struct tile *t;
};

static pthread_mutex_t sparse_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gdl_map arrays;	/* resource -> struct tiles * */

static int tiles_add(struct tiles *v, const struct tile *t)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		struct tile *n = realloc(v->t, cap * sizeof(*n));

		if (!n)
			return -1;
		v->t = n;
		v->cap = cap;
	}
	v->t[v->n++] = *t;
	return 0;
}

static void tiles_free(struct tiles *v)
{
	if (v) {
		free(v->t);
		free(v);
	}
}

/* The region an entry of a cuMemMapArrayAsync list names. */
static void region_of(const CUarrayMapInfo *m, struct tile *t)
{
	memset(t, 0, sizeof(*t));
	t->resource = m->resourceType == CU_RESOURCE_TYPE_MIPMAPPED_ARRAY ?
		      (uintptr_t)m->resource.mipmap :
		      (uintptr_t)m->resource.array;
	t->sub = m->subresourceType;
	switch (m->subresourceType) {
	case CU_ARRAY_SPARSE_SUBRESOURCE_TYPE_SPARSE_LEVEL:
		t->level = m->subresource.sparseLevel.level;
		t->layer = m->subresource.sparseLevel.layer;
		t->x0 = m->subresource.sparseLevel.offsetX;
		t->x1 = t->x0 + m->subresource.sparseLevel.extentWidth;
		t->y0 = m->subresource.sparseLevel.offsetY;
		t->y1 = t->y0 + m->subresource.sparseLevel.extentHeight;
		t->z0 = m->subresource.sparseLevel.offsetZ;
		t->z1 = t->z0 + m->subresource.sparseLevel.extentDepth;
		break;
	case CU_ARRAY_SPARSE_SUBRESOURCE_TYPE_MIPTAIL:
		t->layer = m->subresource.miptail.layer;
		t->x0 = m->subresource.miptail.offset;
		if (__builtin_add_overflow(t->x0, m->subresource.miptail.size,
					   &t->x1))
			t->x1 = UINT64_MAX;
		t->y1 = t->z1 = 1;
		break;
	default:
		/* A type we do not know: the whole array, for safety. */
		t->x1 = t->y1 = t->z1 = UINT64_MAX;
	}
}

/* Does @r cover all of @t? */
static int covers(const struct tile *r, const struct tile *t)
{
	return r->resource == t->resource && r->sub == t->sub &&
	       r->level == t->level &&
	       r->layer == t->layer && r->x0 <= t->x0 && t->x1 <= r->x1 &&
	       r->y0 <= t->y0 && t->y1 <= r->y1 && r->z0 <= t->z0 &&
	       t->z1 <= r->z1;
}

/* The tiles of @resource, created when @create. */
static struct tiles *tiles_of(uint64_t resource, int create)
{
	struct tiles *v;
	uint64_t p;

	if (!gdl_map_get(&arrays, resource, &p))
		return (struct tiles *)(uintptr_t)p;
	if (!create)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (v && gdl_map_add(&arrays, resource, (uintptr_t)v)) {
		free(v);
		v = NULL;
	}
	return v;
}

/* Move the tiles of @resource's table that @r covers to @out. */
static int take_covered(const struct tile *r, struct tiles *out)
{
	struct tiles *v = tiles_of(r->resource, 0);
	size_t i = 0;

	while (v && i < v->n) {
		if (!covers(r, &v->t[i])) {
			i++;
			continue;
		}
		if (tiles_add(out, &v->t[i]))
			return -1;
		v->t[i] = v->t[--v->n];
	}
	return 0;
}

/*
 * Put @t in its array's table, which now holds its handle; out of memory,
 * the hold is kept for ever (charged until exit, never uncharged early).
 */
static void keep(struct tile *t)
{
	struct tiles *v = tiles_of(t->resource, 1);

	if (!v || tiles_add(v, t))
		gdlc_say(1, "out of memory tracking a sparse mapping; its handle stays charged until exit");
	t->alloc = NULL;
}

static CUresult map_array(__typeof__(cuMemMapArrayAsync) *f,
			  CUarrayMapInfo *list, unsigned int count, CUstream s)
{
	struct tiles taken = { 0 }, added = { 0 };
	struct tile t;
	unsigned int i;
	size_t j;
	CUresult e;
	int oom = 0;

	CHECK_REAL(f);
	if (!list || !count)
		return f(list, count, s);
	pthread_mutex_lock(&sparse_lock);
	for (i = 0; i < count && !oom; i++) {
		region_of(&list[i], &t);
		oom = take_covered(&t, &taken);
		for (j = 0; j < added.n; j++)
			if (covers(&t, &added.t[j]))
				added.t[j].superseded = 1;
		if (list[i].memOperationType != CU_MEM_OPERATION_TYPE_MAP ||
		    list[i].memHandleType != CU_MEM_HANDLE_TYPE_GENERIC)
			continue;
		t.alloc = gdlc_vmm_hold(list[i].memHandle.memHandle);
		if (t.alloc && tiles_add(&added, &t)) {
			gdlc_vmm_unhold(t.alloc);
			oom = 1;
		}
	}
	pthread_mutex_unlock(&sparse_lock);
	/*
	 * Out of memory tracking: refused before the driver (a mapping we
	 * could not count would uncharge its handle early).
	 */
	e = oom ? CUDA_ERROR_OUT_OF_MEMORY : f(list, count, s);
	/*
	 * Kept: the tiles mapped, or, refused, the tiles taken.  A tile that
	 * cannot be kept (out of memory) stays held: charged until exit.
	 */
	pthread_mutex_lock(&sparse_lock);
	for (j = 0; j < added.n; j++)
		if (!e && !added.t[j].superseded)
			keep(&added.t[j]);
	for (j = 0; e && j < taken.n; j++)
		keep(&taken.t[j]);
	pthread_mutex_unlock(&sparse_lock);
	/* Unheld: the tiles replaced or unmapped, and those not mapped. */
	for (j = 0; j < added.n; j++)
		gdlc_vmm_unhold(added.t[j].alloc);
	for (j = 0; j < taken.n; j++)
		gdlc_vmm_unhold(taken.t[j].alloc);
	free(added.t);
	free(taken.t);
	return e;
}

EXPORT CUresult cuMemMapArrayAsync(CUarrayMapInfo *list, unsigned int count,
				   CUstream s)
{
	return map_array(REAL(cuMemMapArrayAsync), list, count, s);
}

EXPORT CUresult cuMemMapArrayAsync_ptsz(CUarrayMapInfo *list,
					unsigned int count, CUstream s)
{
	return map_array(REAL(cuMemMapArrayAsync_ptsz), list, count, s);
}

/*
 * An array is being destroyed, and its tiles with it: they leave the
 * table before the driver call (arrays.c)...
 */
void *gdlc_sparse_take(uint64_t resource)
{
	uint64_t p;
	int ret;

	pthread_mutex_lock(&sparse_lock);
	ret = gdl_map_take(&arrays, resource, &p);
	pthread_mutex_unlock(&sparse_lock);
	return ret ? NULL : (void *)(uintptr_t)p;
}

/* ... and are unheld once the driver destroyed it, or put back. */
void gdlc_sparse_end(void *tiles, CUresult e)
{
	struct tiles *v = tiles;
	size_t i;

	if (!v)
		return;
	if (e) {
		pthread_mutex_lock(&sparse_lock);
		for (i = 0; i < v->n; i++)
			keep(&v->t[i]);
		pthread_mutex_unlock(&sparse_lock);
	}
	for (i = 0; i < v->n; i++)
		gdlc_vmm_unhold(v->t[i].alloc);
	tiles_free(v);
}

void gdlc_sparse_lock_all(void)
{
	pthread_mutex_lock(&sparse_lock);
	gdl_map_lock_all(&arrays);
}

void gdlc_sparse_unlock_all(void)
{
	gdl_map_unlock_all(&arrays);
	pthread_mutex_unlock(&sparse_lock);
}

/* A fork child: the parent's bookkeeping is not its own (ledger.c). */
void gdlc_sparse_forget(void)
{
	gdl_map_clear(&arrays);
}

void gdlc_sparse_init(void)
{
	gdl_map_init(&arrays);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The virtual memory management API: cuMemCreate makes physical memory
 * (a handle), charged on the device its properties name, whatever the
 * current context is (NCCL and PyTorch's expandable segments allocate for
 * several devices from one thread).  Host locations are pinned host
 * memory, not GPU memory: they pass uncharged.
 */
#include "gdl_cuda.h"

static struct gdl_map vmm_map;	/* CUmemGenericAllocationHandle -> reservation */

EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
			    const CUmemAllocationProp *prop,
			    unsigned long long flags)
{
	__typeof__(cuMemCreate) *f = REAL(cuMemCreate);
	uint64_t h = 0;
	CUresult e;

	CHECK_REAL(f);
	if (prop && prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE) {
		e = gdlc_reserve(prop->location.id, size, &h);
		if (e)
			return e;
	}
	e = f(handle, size, prop, flags);
	return gdlc_track(&vmm_map, e, e ? 0 : *handle, h);
}

EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	__typeof__(cuMemRelease) *f = REAL(cuMemRelease);
	uint64_t h;
	CUresult e;

	CHECK_REAL(f);
	h = gdlc_untrack_begin(&vmm_map, handle);
	e = f(handle);
	gdlc_untrack_end(&vmm_map, e, handle, h);
	return e;
}

void gdlc_vmm_lock_all(void)
{
	gdl_map_lock_all(&vmm_map);
}

void gdlc_vmm_unlock_all(void)
{
	gdl_map_unlock_all(&vmm_map);
}

void gdlc_vmm_forget(void)
{
	gdl_map_clear(&vmm_map);
}

void gdlc_vmm_init(void)
{
	gdl_map_init(&vmm_map);
}

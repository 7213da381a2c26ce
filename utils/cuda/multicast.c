// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Multicast objects (NVLink SHARP).  cuMulticastCreate allocates no
 * device memory the tenant could use: the object is a range that memory
 * is bound into, one cuMemCreate allocation per participating device
 * (cuMulticastBindMem, or cuMulticastBindAddr for memory mapped at an
 * address), and those allocations are charged at cuMemCreate.  A binding
 * holds its allocation's memory, as a mapping does: cuMemCreate ->
 * cuMulticastBindMem -> cuMemRelease would otherwise drop the charge
 * while the memory lives on in the multicast object.  So a binding counts
 * as a mapping of its handle (vmm.c) until cuMulticastUnbind; bindings
 * still present when the object is released stay counted until exit (an
 * over-charge: the driver gives no way to tell the object is gone, and
 * a mapped object outlives its release).  cuMulticastBindAddr holds the
 * handle mapped at its address (a range spanning several handles holds
 * the first).
 */
#include <pthread.h>
#include <stdlib.h>

#include "gdl_cuda.h"

HELPER(cuMemGetAllocationPropertiesFromHandle)
HELPER(cuMemRetainAllocationHandle)

struct binding {
	CUmemGenericAllocationHandle mc;
	CUdevice dev;			/* the memory's device, -1 unknown */
	size_t offset, size;		/* in the multicast object */
	void *hold;			/* gdlc_vmm_hold()'s */
	struct binding *next;
};

static pthread_mutex_t mc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct binding *bindings;

static CUdevice handle_device(CUmemGenericAllocationHandle h)
{
	__typeof__(cuMemGetAllocationPropertiesFromHandle) *f =
		h_cuMemGetAllocationPropertiesFromHandle();
	CUmemAllocationProp prop;

	if (!f || f(&prop, h) ||
	    prop.location.type != CU_MEM_LOCATION_TYPE_DEVICE)
		return -1;
	return prop.location.id;
}

/* After the driver call: keep the binding, or give up @hold. */
static CUresult bound(CUresult e, CUmemGenericAllocationHandle mc,
		      size_t offset, size_t size, CUdevice dev, void *hold)
{
	struct binding *b;

	if (!hold)
		return e;
	if (e) {
		gdlc_vmm_unhold(hold);
		return e;
	}
	b = malloc(sizeof(*b));
	if (!b) {
		/* Held for ever: charged until exit, never a bypass. */
		gdlc_say(1, "out of memory tracking a multicast binding; it stays charged until exit");
		return e;
	}
	b->mc = mc;
	b->dev = dev;
	b->offset = offset;
	b->size = size;
	b->hold = hold;
	pthread_mutex_lock(&mc_lock);
	b->next = bindings;
	bindings = b;
	pthread_mutex_unlock(&mc_lock);
	return e;
}

EXPORT CUresult cuMulticastBindMem(CUmemGenericAllocationHandle mc,
				   size_t mcOffset,
				   CUmemGenericAllocationHandle mem,
				   size_t memOffset, size_t size,
				   unsigned long long flags)
{
	__typeof__(cuMulticastBindMem) *f = REAL(cuMulticastBindMem);
	void *hold;

	CHECK_REAL(f);
	hold = gdlc_vmm_hold(mem);	/* before the call, as cuMemMap */
	return bound(f(mc, mcOffset, mem, memOffset, size, flags), mc,
		     mcOffset, size, hold ? handle_device(mem) : -1, hold);
}

EXPORT CUresult cuMulticastBindAddr(CUmemGenericAllocationHandle mc,
				    size_t mcOffset, CUdeviceptr memptr,
				    size_t size, unsigned long long flags)
{
	__typeof__(cuMulticastBindAddr) *f = REAL(cuMulticastBindAddr);
	__typeof__(cuMemRetainAllocationHandle) *retain =
		h_cuMemRetainAllocationHandle();
	__typeof__(cuMemRelease) *release = REAL(cuMemRelease);
	CUmemGenericAllocationHandle h;
	CUdevice dev = -1;
	void *hold = NULL;

	CHECK_REAL(f);
	/* The handle mapped there: held, the driver's extra reference dropped. */
	if (retain && release && !retain(&h, (void *)(uintptr_t)memptr)) {
		hold = gdlc_vmm_hold(h);
		if (hold)
			dev = handle_device(h);
		release(h);
	}
	return bound(f(mc, mcOffset, memptr, size, flags), mc, mcOffset, size,
		     dev, hold);
}

/*
 * The bindings of @dev's memory in [offset, offset + size) leave the list
 * before the driver call and are put back if it refuses (a concurrent
 * bind at the same place must not lose its hold to this unbind).
 */
EXPORT CUresult cuMulticastUnbind(CUmemGenericAllocationHandle mc,
				  CUdevice dev, size_t mcOffset, size_t size)
{
	__typeof__(cuMulticastUnbind) *f = REAL(cuMulticastUnbind);
	struct binding **pp, *b, *taken = NULL;
	CUresult e;

	CHECK_REAL(f);
	pthread_mutex_lock(&mc_lock);
	for (pp = &bindings; (b = *pp);) {
		if (b->mc == mc && (b->dev == dev || b->dev < 0) &&
		    b->offset >= mcOffset && b->offset - mcOffset < size) {
			*pp = b->next;
			b->next = taken;
			taken = b;
		} else {
			pp = &b->next;
		}
	}
	pthread_mutex_unlock(&mc_lock);
	e = f(mc, dev, mcOffset, size);
	while ((b = taken)) {
		taken = b->next;
		if (e) {
			pthread_mutex_lock(&mc_lock);
			b->next = bindings;
			bindings = b;
			pthread_mutex_unlock(&mc_lock);
			continue;
		}
		gdlc_vmm_unhold(b->hold);
		free(b);
	}
	return e;
}

void gdlc_multicast_lock_all(void)
{
	pthread_mutex_lock(&mc_lock);
}

void gdlc_multicast_unlock_all(void)
{
	pthread_mutex_unlock(&mc_lock);
}

/* A fork child: the parent's holds point into its own VMM bookkeeping. */
void gdlc_multicast_forget(void)
{
	struct binding *b;

	while ((b = bindings)) {
		bindings = b->next;
		free(b);
	}
}

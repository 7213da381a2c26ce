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
 *
 * A device given access to a mapping of the object (cuMemSetAccess)
 * reaches every device's memory bound into it (issue 23, item 11): it
 * needs the peer right accessor -> each bound memory's device, checked
 * at cuMemSetAccess against the bindings, and at a later bind against
 * the devices given access so far (kept per object until exit).
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

struct mc_access {
	CUmemGenericAllocationHandle mc;
	uint64_t devices;		/* bit per CUDA device given access */
	struct mc_access *next;
};

static pthread_mutex_t mc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct binding *bindings;
static struct mc_access *accesses;

/* With mc_lock held: the devices given access to mappings of @mc. */
static uint64_t access_devices(CUmemGenericAllocationHandle mc)
{
	struct mc_access *a;

	for (a = accesses; a; a = a->next)
		if (a->mc == mc)
			return a->devices;
	return 0;
}

/* 1 when every device of @accessors may reach memory on @dev. */
static int peers_allowed(uint64_t accessors, CUdevice dev)
{
	int d;

	for (d = 0; d < 64; d++)
		if (accessors >> d & 1 && d != dev && !gdlc_peer_allowed(d, dev))
			return 0;
	return 1;
}

/*
 * cuMemSetAccess on a mapping of @mc (a handle that is no device
 * allocation): may the devices @desc gives access reach every memory
 * bound into it?  Those devices are kept for later binds.  0: refused.
 */
int gdlc_multicast_access(CUmemGenericAllocationHandle mc,
			  const CUmemAccessDesc *desc, size_t count)
{
	uint64_t want = 0, bound = 0;
	struct mc_access *a;
	struct binding *b;
	size_t i;
	int d;

	for (i = 0; i < count; i++) {
		if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
		    desc[i].flags == CU_MEM_ACCESS_FLAGS_PROT_NONE)
			continue;
		if (desc[i].location.id < 0 || desc[i].location.id >= 64)
			return 0;
		want |= 1ULL << desc[i].location.id;
	}
	if (!want)
		return 1;
	pthread_mutex_lock(&mc_lock);
	for (b = bindings; b; b = b->next)
		if (b->mc == mc && b->dev >= 0 && b->dev < 64)
			bound |= 1ULL << b->dev;
	pthread_mutex_unlock(&mc_lock);
	for (d = 0; d < 64; d++)
		if (bound >> d & 1 && !peers_allowed(want, d))
			return 0;
	pthread_mutex_lock(&mc_lock);
	for (a = accesses; a && a->mc != mc; a = a->next)
		;
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (a) {
			a->mc = mc;
			a->next = accesses;
			accesses = a;
		}
	}
	if (a)
		a->devices |= want;
	pthread_mutex_unlock(&mc_lock);
	if (!a)
		gdlc_say(1, "out of memory tracking a multicast object's access: refused");
	return a != NULL;
}

/* Before a bind of memory on @dev into @mc: 0 when an accessor may not. */
static int bind_allowed(CUmemGenericAllocationHandle mc, CUdevice dev)
{
	uint64_t acc;

	pthread_mutex_lock(&mc_lock);
	acc = access_devices(mc);
	pthread_mutex_unlock(&mc_lock);
	return !acc || dev < 0 || peers_allowed(acc, dev);
}

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

	CUdevice dev;

	CHECK_REAL(f);
	hold = gdlc_vmm_hold(mem);	/* before the call, as cuMemMap */
	dev = hold ? handle_device(mem) : -1;
	if (!bind_allowed(mc, dev)) {
		gdlc_vmm_unhold(hold);
		return CUDA_ERROR_NOT_PERMITTED;
	}
	return bound(f(mc, mcOffset, mem, memOffset, size, flags), mc,
		     mcOffset, size, dev, hold);
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
	if (!bind_allowed(mc, dev)) {
		gdlc_vmm_unhold(hold);
		return CUDA_ERROR_NOT_PERMITTED;
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
	struct mc_access *a;

	while ((b = bindings)) {
		bindings = b->next;
		free(b);
	}
	while ((a = accesses)) {
		accesses = a->next;
		free(a);
	}
}

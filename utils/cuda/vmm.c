// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The virtual memory management API.  cuMemCreate makes physical memory
 * (a handle), charged on the device its properties name, whatever the
 * current context is (NCCL and PyTorch's expandable segments allocate for
 * several devices from one thread).  Host locations are pinned host
 * memory, not GPU memory: they pass uncharged.
 *
 * The memory lives until the handle is released *and* its last mapping
 * is unmapped: cuMemCreate, cuMemMap, cuMemRelease is the standard idiom
 * (NVIDIA's samples, llama.cpp's VMM pool), and the memory is in use
 * after the release.  So each handle keeps a count of its mappings and
 * of its references (the creation, or the import, and every
 * cuMemRetainAllocationHandle, which returns the same value), as the
 * driver does, and each mapped address names its handle; the charge goes
 * with whichever of the last release and the last unmap comes last.  VMM calls are rare
 * (a framework maps large segments), so one mutex covers this state; the
 * driver is never called with it held.
 */
#include <pthread.h>
#include <stdlib.h>

#include "gdl_cuda.h"

struct vmm_alloc {
	uint64_t handle;	/* its key in vmm_map */
	uint64_t resv;		/* the reservation */
	CUdevice dev;		/* where the memory is */
	unsigned int maps;	/* live mappings */
	unsigned int refs;	/* references: creation + retains - releases */
	unsigned int releasing;	/* cuMemRelease calls in the driver */
	unsigned int exported;	/* another process may hold it */
};

struct vmm_mapping {
	struct vmm_alloc *alloc;
	uint64_t addr, size;
	struct vmm_mapping *next;	/* while being unmapped */
};

static pthread_mutex_t vmm_lock = PTHREAD_MUTEX_INITIALIZER;
HELPER(cuMemRetainAllocationHandle)
HELPER(cuMemGetAllocationPropertiesFromHandle)
HELPER(cuMemRelease)

static struct gdl_map vmm_map;	/* handle -> struct vmm_alloc * */
static struct gdl_map va_map;	/* mapped address -> struct vmm_mapping * */

/*
 * With vmm_lock held: the charge goes once nothing holds the memory.  The
 * entry stays in vmm_map while a mapping holds the memory (the handle
 * value cannot be handed out again before, and cuMemRetainAllocationHandle
 * may name it again); it leaves only if it is still this allocation's.
 */
static void put_alloc(struct vmm_alloc *a)
{
	uint64_t v;

	if (!a->refs && !a->releasing && !a->maps) {
		if (!gdl_map_get(&vmm_map, a->handle, &v) && v == (uintptr_t)a)
			gdl_map_take(&vmm_map, a->handle, &v);
		/*
		 * Exported memory lives while an importer holds it, which we
		 * cannot see: it stays charged until this process exits.
		 */
		if (!a->exported)
			gdlc_release(a->resv);
		free(a);
	}
}

/* After the driver made (or imported) @handle, charged by @resv. */
static void track_alloc(CUmemGenericAllocationHandle handle, uint64_t resv,
			CUdevice dev)
{
	struct vmm_alloc *a = calloc(1, sizeof(*a));
	uint64_t old;

	if (!a) {
		gdlc_say(1, "out of memory tracking an allocation; it stays charged until exit");
		return;
	}
	a->handle = handle;
	a->resv = resv;
	a->dev = dev;
	a->refs = 1;
	pthread_mutex_lock(&vmm_lock);
	switch (gdl_map_put(&vmm_map, handle, (uintptr_t)a, &old)) {
	case 1:
		/* Released behind our back (a destroyed context): stale. */
		((struct vmm_alloc *)(uintptr_t)old)->refs = 0;
		put_alloc((struct vmm_alloc *)(uintptr_t)old);
		break;
	case 0:
		break;
	default:
		free(a);
		gdlc_say(1, "out of memory tracking an allocation; it stays charged until exit");
	}
	pthread_mutex_unlock(&vmm_lock);
}

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
		gdlc_keep(h);
	}
	e = f(handle, size, prop, flags);
	if (e || !h) {
		gdlc_release(h);
		return e;
	}
	track_alloc(*handle, h, prop->location.id);
	return e;
}

/*
 * One reference goes.  When it is the last and nothing maps the memory,
 * the handle leaves the map before the driver call (another thread may be
 * given the same handle value as soon as the driver has freed it) and
 * comes back if the driver refuses.  A release of a handle without
 * references is the driver's error; it changes nothing here.
 */
EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	__typeof__(cuMemRelease) *f = REAL(cuMemRelease);
	struct vmm_alloc *a = NULL;
	int taken = 0;
	uint64_t v;
	CUresult e;

	CHECK_REAL(f);
	pthread_mutex_lock(&vmm_lock);
	if (!gdl_map_get(&vmm_map, handle, &v) &&
	    ((struct vmm_alloc *)(uintptr_t)v)->refs) {
		a = (struct vmm_alloc *)(uintptr_t)v;
		a->refs--;
		a->releasing++;
		if (!a->refs && !a->maps) {
			gdl_map_take(&vmm_map, handle, &v);
			taken = 1;
		}
	}
	pthread_mutex_unlock(&vmm_lock);
	e = f(handle);
	if (!a)
		return e;
	pthread_mutex_lock(&vmm_lock);
	a->releasing--;
	if (e) {
		/* Refused: the reference stays, unless the value was handed out again. */
		if (!taken || gdl_map_add(&vmm_map, handle, (uintptr_t)a) != 1)
			a->refs++;
	}
	put_alloc(a);
	pthread_mutex_unlock(&vmm_lock);
	return e;
}

/*
 * Another reference to the memory mapped at @addr: the same handle value
 * as its creator's, released by its own cuMemRelease.  Counted after the
 * driver's success; the memory it names is mapped, so its entry is still
 * in the map.
 */
EXPORT CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle,
					    void *addr)
{
	__typeof__(cuMemRetainAllocationHandle) *f =
		REAL(cuMemRetainAllocationHandle);
	uint64_t v;
	CUresult e;

	CHECK_REAL(f);
	e = f(handle, addr);
	if (e || !handle)
		return e;
	pthread_mutex_lock(&vmm_lock);
	if (!gdl_map_get(&vmm_map, *handle, &v))
		((struct vmm_alloc *)(uintptr_t)v)->refs++;
	pthread_mutex_unlock(&vmm_lock);
	return e;
}

/*
 * Memory shared with another process: on a module that shares
 * reservations, the shareable handle names its reservation (shared.c),
 * and the charge goes with the last process that holds it.  Otherwise it
 * stays charged to its creator until the creator exits (put_alloc),
 * however early it releases its handle: the importer may still hold it.
 * A POSIX descriptor is itself a reference to the memory (issue 23, item
 * 2): that export stays charged to its creator until it exits, shared or
 * not.
 */
EXPORT CUresult cuMemExportToShareableHandle(void *shareable,
					     CUmemGenericAllocationHandle handle,
					     CUmemAllocationHandleType type,
					     unsigned long long flags)
{
	__typeof__(cuMemExportToShareableHandle) *f =
		REAL(cuMemExportToShareableHandle);
	uint64_t v, resv = 0;
	int fd, ret = -1;
	CUresult e;

	CHECK_REAL(f);
	e = f(shareable, handle, type, flags);
	if (e)
		return e;
	pthread_mutex_lock(&vmm_lock);
	if (!gdl_map_get(&vmm_map, handle, &v))
		resv = ((struct vmm_alloc *)(uintptr_t)v)->resv;
	pthread_mutex_unlock(&vmm_lock);
	if (!resv)
		return e;
	if (type == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) {
		/*
		 * The descriptor holds the memory until it is closed in every
		 * process (cuda.h), which nothing here can see: shared so
		 * that importers attach to this charge, and kept by this
		 * process until it exits, whatever becomes of the handle.
		 */
		memcpy(&fd, shareable, sizeof(fd));
		gdlc_share_fd(resv, fd);
	} else if (type == CU_MEM_HANDLE_TYPE_FABRIC) {
		ret = gdlc_share_key(resv, shareable, 64);
	}
	if (!ret)
		return e;
	pthread_mutex_lock(&vmm_lock);
	if (!gdl_map_get(&vmm_map, handle, &v))
		((struct vmm_alloc *)(uintptr_t)v)->exported = 1;
	pthread_mutex_unlock(&vmm_lock);
	return e;
}

/* The device an imported handle's memory is on, or -1. */
static CUdevice handle_device(CUmemGenericAllocationHandle handle)
{
	__typeof__(cuMemGetAllocationPropertiesFromHandle) *props =
		h_cuMemGetAllocationPropertiesFromHandle();
	CUmemAllocationProp prop;

	memset(&prop, 0, sizeof(prop));
	if (props && !props(&prop, handle) &&
	    prop.location.type == CU_MEM_LOCATION_TYPE_DEVICE)
		return prop.location.id;
	return -1;
}

/*
 * Another process's memory: attached to in the ledger before the driver
 * imports it (refused without its agent's grant), then held like memory
 * made here, so that the attachment goes with the release and the last
 * unmap.  A handle the ledger does not know passes as before.
 */
EXPORT CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle *handle,
					       void *os_handle,
					       CUmemAllocationHandleType type)
{
	__typeof__(cuMemImportFromShareableHandle) *f =
		REAL(cuMemImportFromShareableHandle);
	uint64_t h = 0;
	CUresult e = CUDA_SUCCESS;

	CHECK_REAL(f);
	if (type == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
		e = gdlc_attach_fd((int)(intptr_t)os_handle, &h);
	else if (type == CU_MEM_HANDLE_TYPE_FABRIC && os_handle)
		e = gdlc_attach_key(os_handle, 64, &h);
	if (e && e != GDLC_ATTACH_AMBIGUOUS)
		return e;
	if (e) {
		/* Imported first, to learn its device (shared.c says why). */
		e = f(handle, os_handle, type);
		if (e)
			return e;
		e = gdlc_attach_key_on(os_handle, 64, handle_device(*handle),
				       &h);
		if (e) {
			__typeof__(cuMemRelease) *rel = h_cuMemRelease();

			if (rel)
				rel(*handle);
			return e;
		}
	} else {
		e = f(handle, os_handle, type);
	}
	if (e || !h) {
		gdlc_release(h);
		return e;
	}
	track_alloc(*handle, h, handle_device(*handle));
	return e;
}

/*
 * A mapping of @handle, counted before the driver call: cuMemMap's, or a
 * sparse array's tiles (sparse.c).  NULL for a handle this process did
 * not create.
 */
void *gdlc_vmm_hold(CUmemGenericAllocationHandle handle)
{
	struct vmm_alloc *a = NULL;
	uint64_t v;

	pthread_mutex_lock(&vmm_lock);
	if (!gdl_map_get(&vmm_map, handle, &v)) {
		a = (struct vmm_alloc *)(uintptr_t)v;
		a->maps++;
	}
	pthread_mutex_unlock(&vmm_lock);
	return a;
}

/* That mapping is gone (or was refused). */
void gdlc_vmm_unhold(void *alloc)
{
	struct vmm_alloc *a = alloc;

	if (!a)
		return;
	pthread_mutex_lock(&vmm_lock);
	a->maps--;
	put_alloc(a);
	pthread_mutex_unlock(&vmm_lock);
}

/* A mapping holds its handle's memory: counted before the driver call. */
EXPORT CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
			 CUmemGenericAllocationHandle handle,
			 unsigned long long flags)
{
	__typeof__(cuMemMap) *f = REAL(cuMemMap);
	struct vmm_alloc *a;
	struct vmm_mapping *m;
	uint64_t old;
	CUresult e;

	CHECK_REAL(f);
	a = gdlc_vmm_hold(handle);
	e = f(ptr, size, offset, handle, flags);
	if (!a)
		return e;
	m = e ? NULL : malloc(sizeof(*m));
	pthread_mutex_lock(&vmm_lock);
	if (e) {
		a->maps--;
		put_alloc(a);
	} else if (!m) {
		/* Counted for ever: charged until exit, never a bypass. */
		gdlc_say(1, "out of memory tracking a mapping; it stays charged until exit");
	} else {
		m->alloc = a;
		m->addr = ptr;
		m->size = size;
		m->next = NULL;
		switch (gdl_map_put(&va_map, ptr, (uintptr_t)m, &old)) {
		case 1:
			/* Unmapped behind our back: that mapping is gone. */
			m = (struct vmm_mapping *)(uintptr_t)old;
			m->alloc->maps--;
			put_alloc(m->alloc);
			free(m);
			break;
		case 0:
			break;
		default:
			free(m);
			gdlc_say(1, "out of memory tracking a mapping; it stays charged until exit");
		}
	}
	pthread_mutex_unlock(&vmm_lock);
	return e;
}

/*
 * One call may unmap several adjacent mappings.  They leave the map
 * before the driver call and come back if it refuses.
 */
EXPORT CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
	__typeof__(cuMemUnmap) *f = REAL(cuMemUnmap);
	struct vmm_mapping *list = NULL, **tail = &list, *m;
	uint64_t at = ptr, v;
	CUresult e;

	CHECK_REAL(f);
	pthread_mutex_lock(&vmm_lock);
	while (at - ptr < size && !gdl_map_take(&va_map, at, &v)) {
		m = (struct vmm_mapping *)(uintptr_t)v;
		*tail = m;
		tail = &m->next;
		if (!m->size || __builtin_add_overflow(at, m->size, &at))
			break;
	}
	pthread_mutex_unlock(&vmm_lock);
	e = f(ptr, size);
	pthread_mutex_lock(&vmm_lock);
	while ((m = list)) {
		list = m->next;
		m->next = NULL;
		/*
		 * Refused: back in the map (or, out of memory, counted for
		 * ever), unless the address was mapped again meanwhile.
		 */
		if (e && gdl_map_add(&va_map, m->addr, (uintptr_t)m) != 1)
			continue;
		m->alloc->maps--;
		put_alloc(m->alloc);
		free(m);
	}
	pthread_mutex_unlock(&vmm_lock);
	return e;
}

/* May each device of @desc access memory on @owner? */
static int access_allowed(CUdevice owner, const CUmemAccessDesc *desc,
			  size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (desc[i].location.type == CU_MEM_LOCATION_TYPE_DEVICE &&
		    desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_NONE &&
		    desc[i].location.id != owner &&
		    !gdlc_peer_allowed(desc[i].location.id, owner))
			return 0;
	return 1;
}

/*
 * Peer access to VMM memory: another device reading or writing a mapping
 * needs the peer right accessor -> owner, as cuCtxEnablePeerAccess does.
 * Mappings of handles we did not create (imported) are the importer's
 * own device's business here; the import itself is the check.
 */
/*
 * May @desc's devices access the memory mapped at @addr, asked of the
 * driver (a range that does not start at one of our mappings, or an
 * imported handle's)?  A device allocation needs the peer right to its
 * device; any other handle (a multicast object) the peer right to every
 * device whose memory is bound into it (multicast.c).  Nothing mapped
 * there: the driver refuses the call.
 */
static int mapped_allowed(CUdeviceptr addr, const CUmemAccessDesc *desc,
			  size_t count)
{
	__typeof__(cuMemRetainAllocationHandle) *retain =
		h_cuMemRetainAllocationHandle();
	__typeof__(cuMemGetAllocationPropertiesFromHandle) *props =
		h_cuMemGetAllocationPropertiesFromHandle();
	__typeof__(cuMemRelease) *rel = h_cuMemRelease();
	CUmemGenericAllocationHandle h;
	CUmemAllocationProp prop;
	int ok;

	if (!retain || !props || !rel)
		return 0;
	if (retain(&h, (void *)(uintptr_t)addr))
		return 1;
	memset(&prop, 0, sizeof(prop));
	if (!props(&prop, h) && prop.location.type == CU_MEM_LOCATION_TYPE_DEVICE)
		ok = access_allowed(prop.location.id, desc, count);
	else
		ok = gdlc_multicast_access(h, desc, count);
	rel(h);
	return ok;
}

EXPORT CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size,
			       const CUmemAccessDesc *desc, size_t count)
{
	__typeof__(cuMemSetAccess) *f = REAL(cuMemSetAccess);
	struct vmm_mapping *m;
	uint64_t at = ptr, v;
	int ok = 1;

	CHECK_REAL(f);
	if ((!desc && count) || !size)
		return f(ptr, size, desc, count);
	/*
	 * Not one of our mappings' starts: the driver names the memory at
	 * both ends of the range (a range inside one mapping, or spanning
	 * imported ones).
	 */
	if (gdl_map_get(&va_map, ptr, &v) &&
	    (!mapped_allowed(ptr, desc, count) ||
	     !mapped_allowed(ptr + size - 1, desc, count)))
		return CUDA_ERROR_NOT_PERMITTED;
	pthread_mutex_lock(&vmm_lock);
	while (ok && at - ptr < size && !gdl_map_get(&va_map, at, &v)) {
		m = (struct vmm_mapping *)(uintptr_t)v;
		ok = access_allowed(m->alloc->dev, desc, count);
		if (!m->size || __builtin_add_overflow(at, m->size, &at))
			break;
	}
	pthread_mutex_unlock(&vmm_lock);
	return ok ? f(ptr, size, desc, count) : CUDA_ERROR_NOT_PERMITTED;
}

void gdlc_vmm_lock_all(void)
{
	pthread_mutex_lock(&vmm_lock);
	gdl_map_lock_all(&vmm_map);
	gdl_map_lock_all(&va_map);
}

void gdlc_vmm_unlock_all(void)
{
	gdl_map_unlock_all(&va_map);
	gdl_map_unlock_all(&vmm_map);
	pthread_mutex_unlock(&vmm_lock);
}

/* A fork child: the parent's bookkeeping is not its own (ledger.c). */
void gdlc_vmm_forget(void)
{
	gdl_map_clear(&vmm_map);
	gdl_map_clear(&va_map);
}

void gdlc_vmm_init(void)
{
	gdl_map_init(&vmm_map);
	gdl_map_init(&va_map);
}

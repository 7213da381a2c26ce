// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory shared between processes, on a module with ABI 1.3 (shared
 * reservations).  An export names the exporter's reservation by a key
 * the importer will hold too: the IPC handle's or fabric handle's bytes,
 * or the shareable file descriptor's open file.  An import attaches to
 * that reservation before the driver maps anything, so the charge stays
 * with the exporter's agent while any process holds the memory, and an
 * importer of another agent's memory needs that agent's grant (the DMA
 * rule): refused, CUDA_ERROR_NOT_PERMITTED.
 *
 * With an older module, or an export the ledger does not know (ENOENT:
 * an exporter outside the ledger), the earlier rules stay: the exporter
 * keeps the charge until it exits (alloc.c, vmm.c) and an IPC import is
 * checked on its mapped range (dma.c).
 */
#include <errno.h>

#include "gdl_cuda.h"

HELPER(cuPointerGetAttribute)

static int abi_shares = -1;	/* the module has ABI 1.3: 1, 0, or unknown */
static struct gdl_map ipc_imports;	/* imported CUdeviceptr -> handle */

/* The open ledger when its module can share reservations, else NULL. */
static struct gdlock *sharing_ledger(void)
{
	struct gdlock *g = gdlc_ledger();
	struct gdl_version v;
	int s;

	if (!g)
		return NULL;
	s = __atomic_load_n(&abi_shares, __ATOMIC_RELAXED);
	if (s < 0) {
		s = !gdlock_version(g, &v) &&
		    (v.abi_major > 1 || (v.abi_major == 1 && v.abi_minor >= 3));
		__atomic_store_n(&abi_shares, s, __ATOMIC_RELAXED);
	}
	return s ? g : NULL;
}

static int shared(int ret, uint64_t resv)
{
	if (ret) {
		gdlc_ledger_failed(ret, 0);
		gdlc_say(2, "reservation %llu could not be shared: %s; it stays charged until this process exits",
			 (unsigned long long)resv, gdlock_strerror(ret));
	}
	return ret;
}

/*
 * Name reservation @resv by the @len bytes at @key (at most 64).  0: its
 * charge now goes with its last holder, in whichever process.
 */
int gdlc_share_key(uint64_t resv, const void *key, size_t len)
{
	struct gdlock *g = sharing_ledger();

	if (!g || !resv)
		return -EOPNOTSUPP;
	return shared(gdlock_reservation_share(g, resv, key, len), resv);
}

/* The same, named by the open file of descriptor @fd. */
int gdlc_share_fd(uint64_t resv, int fd)
{
	struct gdlock *g = sharing_ledger();

	if (!g || !resv)
		return -EOPNOTSUPP;
	return shared(gdlock_reservation_share_fd(g, resv, fd), resv);
}

static CUresult attached(int ret, uint64_t *handle)
{
	if (!ret)
		return CUDA_SUCCESS;
	*handle = 0;
	if (ret == -ENOENT)	/* not the ledger's: the earlier checks */
		return CUDA_SUCCESS;
	if (ret == -ENOTUNIQ)	/* the caller imports, then says which */
		return GDLC_ATTACH_AMBIGUOUS;
	gdlc_ledger_failed(ret, 0);
	gdlc_say(2, "import refused: %s", gdlock_strerror(ret));
	if (ret == -EACCES)
		return CUDA_ERROR_NOT_PERMITTED;
	return CUDA_ERROR_OUT_OF_MEMORY;	/* EMFILE, ENOBUFS, ENOMEM */
}

/*
 * Before an import: attach to the exported memory the @len bytes at @key
 * name.  CUDA_SUCCESS with a handle to release when the import goes, or
 * 0 when the ledger does not know the key (or cannot share); otherwise
 * the import is refused with the result.
 */
CUresult gdlc_attach_key(const void *key, size_t len, uint64_t *handle)
{
	struct gdlock *g = sharing_ledger();

	*handle = 0;
	if (!g)
		return CUDA_SUCCESS;
	return attached(gdlock_reservation_attach(g, key, len, handle), handle);
}

/*
 * The same for the memory the driver imported on CUDA device @dev, when
 * several agents filed the key (gdlc_attach_key() gave
 * GDLC_ATTACH_AMBIGUOUS): CUDA_SUCCESS with a handle, or the refusal.
 */
CUresult gdlc_attach_key_on(const void *key, size_t len, CUdevice dev,
			    uint64_t *handle)
{
	struct gdlock *g = sharing_ledger();
	int idx = gdlc_module_index(dev);
	int ret = -ENODEV;

	*handle = 0;
	if (g && idx >= 0)
		ret = gdlock_reservation_attach_as(g, key, len, (uint32_t)idx,
						   0, handle);
	if (!ret)
		return CUDA_SUCCESS;
	gdlc_say(2, "import refused: several agents filed its handle, and none on its device may be used: %s",
		 gdlock_strerror(ret));
	*handle = 0;
	/* Out of room is out of memory; anything else is a refusal. */
	if (ret == -EMFILE || ret == -ENOBUFS || ret == -ENOMEM)
		return CUDA_ERROR_OUT_OF_MEMORY;
	return CUDA_ERROR_NOT_PERMITTED;
}

CUresult gdlc_attach_fd(int fd, uint64_t *handle)
{
	struct gdlock *g = sharing_ledger();

	CUresult e;

	*handle = 0;
	if (!g)
		return CUDA_SUCCESS;
	e = attached(gdlock_reservation_attach_fd(g, fd, handle), handle);
	/* The same open file filed by several agents: nothing to tell. */
	return e == GDLC_ATTACH_AMBIGUOUS ? CUDA_ERROR_NOT_PERMITTED : e;
}

/* The device an IPC import landed on, or -1. */
static CUdevice import_device(CUdeviceptr p)
{
	__typeof__(cuPointerGetAttribute) *f = h_cuPointerGetAttribute();
	int ordinal = -1;

	if (!f || f(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, p))
		return -1;
	return ordinal;
}

/*
 * Several agents filed these bytes (ENOTUNIQ): someone filed the
 * exporter's handle first on memory of its own.  The driver says which
 * device the memory is on; the ledger then attaches to the key of that
 * device (not by size: a pitched allocation is charged its upper bound).
 * Refused, the import is closed again.  The driver maps it before the
 * ledger has said yes, but whoever holds the bytes could map them through
 * the driver without us anyway.
 */
static CUresult ipc_open_then_attach(CUresult (*open)(CUdeviceptr *, CUipcMemHandle, unsigned int),
				     CUdeviceptr *pdptr, CUipcMemHandle hd,
				     unsigned int flags, uint64_t *h)
{
	__typeof__(cuIpcCloseMemHandle) *close = REAL(cuIpcCloseMemHandle);
	CUresult e = open(pdptr, hd, flags);

	if (e)
		return e;
	e = gdlc_attach_key_on(hd.reserved, sizeof(hd.reserved),
			       import_device(*pdptr), h);
	if (e) {
		if (close)
			close(*pdptr);
		*pdptr = 0;
	}
	return e;
}

/*
 * An IPC import the ledger knows: attached before the driver maps it,
 * released when it is closed.  Returns -1 when the ledger does not know
 * it, for the range check (dma.c).
 */
int gdlc_ipc_open(CUresult (*open)(CUdeviceptr *, CUipcMemHandle, unsigned int),
		  CUdeviceptr *pdptr, CUipcMemHandle hd, unsigned int flags,
		  CUresult *result)
{
	uint64_t h;
	CUresult e = gdlc_attach_key(hd.reserved, sizeof(hd.reserved), &h);

	if (e == GDLC_ATTACH_AMBIGUOUS) {
		e = ipc_open_then_attach(open, pdptr, hd, flags, &h);
	} else {
		if (!e && !h)
			return -1;
		if (!e)
			e = open(pdptr, hd, flags);
	}
	*result = gdlc_track_kept(&ipc_imports, e, e ? 0 : *pdptr, h);
	return 0;
}

EXPORT CUresult cuIpcCloseMemHandle(CUdeviceptr p)
{
	__typeof__(cuIpcCloseMemHandle) *f = REAL(cuIpcCloseMemHandle);

	CHECK_REAL(f);
	return GDLC_FREEING(&ipc_imports, p, f(p));
}

void gdlc_shared_lock_all(void)
{
	gdl_map_lock_all(&ipc_imports);
}

void gdlc_shared_unlock_all(void)
{
	gdl_map_unlock_all(&ipc_imports);
}

void gdlc_shared_forget(void)
{
	gdl_map_clear(&ipc_imports);
}

void gdlc_shared_init(void)
{
	gdl_map_init(&ipc_imports);
}

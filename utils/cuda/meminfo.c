// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory queries answered with the quota: a program sizes its caches from
 * what it is told is free, so it must be told its agent's share.
 */
#include "gdl_cuda.h"

HELPER(nvmlDeviceGetPciInfo_v3)

/*
 * Clamp (total, free) to the agent's quota on module device @idx:
 * total = min(quota, total), free = min(quota - usage, free), and 0 when
 * a lowered quota is below the usage.  Unlimited quotas change nothing.
 */
void gdlc_virtualise(int idx, unsigned long long *total,
		     unsigned long long *free)
{
	struct gdlock *g = gdlc_ledger();
	struct gdl_quota q;
	uint64_t avail;
	int ret;

	if (!g) {
		/* Fail-closed: nothing can be allocated, so nothing is free. */
		if (!gdlc_unaccounted())
			*free = 0;
		return;
	}
	if (idx < 0) {
		*free = 0;
		return;
	}
	ret = gdlock_quota_get(g, 0, idx, &q);
	if (ret) {
		gdlc_ledger_failed(ret, 0);
		*free = 0;
		return;
	}
	if (q.quota == GDL_QUOTA_UNLIMITED)
		return;
	avail = q.quota > q.usage ? q.quota - q.usage : 0;
	if (q.quota < *total)
		*total = q.quota;
	if (avail < *free)
		*free = avail;
}

/* The current device's (total, free) from the driver's, virtualised. */
static CUresult current_info(unsigned long long *total, unsigned long long *free)
{
	CUdevice dev;
	CUresult e = gdlc_current_device(&dev);

	if (!e)
		gdlc_virtualise(gdlc_ledger() ? gdlc_module_index(dev) : -1,
				total, free);
	return e;
}

EXPORT CUresult cuMemGetInfo_v2(size_t *free, size_t *total)
{
	__typeof__(cuMemGetInfo_v2) *f = REAL(cuMemGetInfo_v2);
	unsigned long long t, fr;
	CUresult e;

	CHECK_REAL(f);
	e = f(free, total);
	if (e || !free || !total)
		return e;
	t = *total;
	fr = *free;
	e = current_info(&t, &fr);
	*total = t;
	*free = fr;
	return e;
}

/* The pre-3.2 name: 32-bit sizes, clamped after the quota is applied. */
EXPORT CUresult cuMemGetInfo(unsigned int *free, unsigned int *total)
{
	__typeof__(cuMemGetInfo) *f = REAL(cuMemGetInfo);
	unsigned long long t, fr;
	CUresult e;

	CHECK_REAL(f);
	e = f(free, total);
	if (e || !free || !total)
		return e;
	t = *total;
	fr = *free;
	e = current_info(&t, &fr);
	*total = t > UINT32_MAX ? UINT32_MAX : t;
	*free = fr > UINT32_MAX ? UINT32_MAX : fr;
	return e;
}

/* A device's size is its quota, as cuMemGetInfo's total. */
static unsigned long long device_total(CUdevice dev, unsigned long long t)
{
	unsigned long long fr = 0;

	gdlc_virtualise(gdlc_ledger() ? gdlc_module_index(dev) : -1, &t, &fr);
	return t;
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
	__typeof__(cuDeviceTotalMem_v2) *f = REAL(cuDeviceTotalMem_v2);
	CUresult e;

	CHECK_REAL(f);
	e = f(bytes, dev);
	if (!e && bytes)
		*bytes = device_total(dev, *bytes);
	return e;
}

EXPORT CUresult cuDeviceTotalMem(unsigned int *bytes, CUdevice dev)
{
	__typeof__(cuDeviceTotalMem) *f = REAL(cuDeviceTotalMem);
	CUresult e;

	CHECK_REAL(f);
	e = f(bytes, dev);
	if (!e && bytes)
		*bytes = device_total(dev, *bytes);
	return e;
}

static int nvml_module_index(nvmlDevice_t dev)
{
	__typeof__(nvmlDeviceGetPciInfo_v3) *f = h_nvmlDeviceGetPciInfo_v3();
	nvmlPciInfo_t pci;

	if (!gdlc_ledger())
		return -1;
	memset(&pci, 0, sizeof(pci));
	if (!f || f(dev, &pci) != NVML_SUCCESS)
		return -1;
	pci.busId[sizeof(pci.busId) - 1] = 0;
	return gdlc_module_index_by_bus_id(pci.busId);
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *m)
{
	__typeof__(nvmlDeviceGetMemoryInfo) *f = REAL(nvmlDeviceGetMemoryInfo);
	nvmlReturn_t r;

	if (!f)
		return NVML_ERROR_UNINITIALIZED;
	r = f(dev, m);
	if (r != NVML_SUCCESS || !m)
		return r;
	gdlc_virtualise(nvml_module_index(dev), &m->total, &m->free);
	m->used = m->total - m->free;
	return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev,
					       nvmlMemory_v2_t *m)
{
	__typeof__(nvmlDeviceGetMemoryInfo_v2) *f =
		REAL(nvmlDeviceGetMemoryInfo_v2);
	nvmlReturn_t r;

	if (!f)
		return NVML_ERROR_UNINITIALIZED;
	r = f(dev, m);
	if (r != NVML_SUCCESS || !m)
		return r;
	gdlc_virtualise(nvml_module_index(dev), &m->total, &m->free);
	/* v2 reports the driver's reserved memory apart from "used". */
	m->used = m->total - m->free > m->reserved ?
		  m->total - m->free - m->reserved : 0;
	return r;
}

/* The BAR1 window, clamped like the memory it maps. */
EXPORT nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t dev,
						nvmlBAR1Memory_t *b)
{
	__typeof__(nvmlDeviceGetBAR1MemoryInfo) *f =
		REAL(nvmlDeviceGetBAR1MemoryInfo);
	nvmlReturn_t r;

	if (!f)
		return NVML_ERROR_UNINITIALIZED;
	r = f(dev, b);
	if (r != NVML_SUCCESS || !b)
		return r;
	gdlc_virtualise(nvml_module_index(dev), &b->bar1Total, &b->bar1Free);
	b->bar1Used = b->bar1Total - b->bar1Free;
	return r;
}

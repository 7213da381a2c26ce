// SPDX-License-Identifier: GPL-2.0
/*
 * A test double of libnvidia-ml.so.1: the devices of FAKE_CUDA_PCI (NVML
 * prints an 8-digit domain), each FAKE_CUDA_MEM bytes with 1 MiB used.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cuda_api.h"

#define API __attribute__((visibility("default")))

static int ndev;
static char pci[8][32];
static unsigned long long mem = 16ULL << 30;

API nvmlReturn_t nvmlInit_v2(void)
{
	const char *s = getenv("FAKE_CUDA_PCI"), *m = getenv("FAKE_CUDA_MEM");

	if (m)
		mem = strtoull(m, NULL, 0);
	if (!s)
		s = "0000:00:05.0";
	for (ndev = 0; *s && ndev < 8; ndev++) {
		size_t n = strcspn(s, ",");

		snprintf(pci[ndev], sizeof(pci[ndev]), "0000%.*s", (int)n, s);
		s += n + (s[n] == ',');
	}
	return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index,
					       nvmlDevice_t *dev)
{
	if (index >= (unsigned int)ndev)
		return NVML_ERROR_INVALID_ARGUMENT;
	*dev = (nvmlDevice_t)(uintptr_t)(index + 1);
	return NVML_SUCCESS;
}

static int index_of(nvmlDevice_t dev)
{
	uintptr_t i = (uintptr_t)dev;

	return i >= 1 && i <= (uintptr_t)ndev ? (int)i - 1 : -1;
}

API nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *p)
{
	int i = index_of(dev);

	if (i < 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	memset(p, 0, sizeof(*p));
	snprintf(p->busId, sizeof(p->busId), "%s", pci[i]);
	return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *m)
{
	if (index_of(dev) < 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	m->total = mem;
	m->used = 1 << 20;
	m->free = mem - m->used;
	return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev,
					    nvmlMemory_v2_t *m)
{
	if (index_of(dev) < 0 || m->version != nvmlMemory_v2)
		return NVML_ERROR_INVALID_ARGUMENT;
	m->total = mem;
	m->reserved = 1 << 20;
	m->used = 1 << 20;
	m->free = mem - m->used - m->reserved;
	return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t dev,
					     nvmlBAR1Memory_t *b)
{
	if (index_of(dev) < 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	b->bar1Total = 256ULL << 20;
	b->bar1Used = 16ULL << 20;
	b->bar1Free = b->bar1Total - b->bar1Used;
	return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *bus,
						 nvmlDevice_t *dev)
{
	int i;

	for (i = 0; i < ndev; i++)
		if (!strcasecmp(pci[i] + 4, bus) || !strcasecmp(pci[i], bus)) {
			*dev = (nvmlDevice_t)(uintptr_t)(i + 1);
			return NVML_SUCCESS;
		}
	return NVML_ERROR_INVALID_ARGUMENT;
}

/* The caller's figure: the fake driver's (live + its own), 0 without it. */
static unsigned long long self_used(int dev)
{
	unsigned long long (*f)(int) =
		(unsigned long long (*)(int))dlsym(RTLD_DEFAULT, "fake_cuda_process_mem");

	return f ? f(dev) : 0;
}

/*
 * The caller's pid as the driver names it: in the initial pid namespace.
 * The first NSpid of /proc/self/status is that pid when /proc is the
 * host's (the tests run a pid namespace under the host's /proc); under
 * a /proc of its own, a container sees only its inner pid, and so does
 * this double, unless FAKE_NVML_HOST_PROC names a mount of the host's
 * procfs, whose "self" is the host pid: a real driver always knows it.
 */
static unsigned int caller_pid(void)
{
	const char *host = getenv("FAKE_NVML_HOST_PROC");
	unsigned int p = getpid();
	char line[256], path[512];
	FILE *f;
	ssize_t n;

	if (host) {
		snprintf(path, sizeof(path), "%s/self", host);
		n = readlink(path, line, sizeof(line) - 1);
		if (n > 0) {
			line[n] = 0;
			return (unsigned int)strtoul(line, NULL, 10);
		}
	}
	f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "NSpid: %u", &p) == 1)
			break;
	if (f)
		fclose(f);
	return p;
}

/*
 * Three processes use every device: the caller, init (pid 1, another
 * cgroup, 5M) and a pid that does not exist here (another namespace).
 * FAKE_NVML_NA: no figures (a MIG device, an unprivileged caller).
 */
static nvmlReturn_t procs(nvmlDevice_t dev, unsigned int *count, void *infos,
			  size_t size)
{
	const unsigned int pids[3] = { caller_pid(), 1, 4000000 };
	const unsigned long long other[3] = { 0, 5 << 20, 3 << 20 };
	int na = getenv("FAKE_NVML_NA") != NULL;
	unsigned int i;

	if (index_of(dev) < 0 || !count)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (*count < 3 || !infos) {
		*count = 3;
		return NVML_ERROR_INSUFFICIENT_SIZE;
	}
	for (i = 0; i < 3; i++) {
		nvmlProcessInfo_t p = { pids[i], na ? ~0ULL : i ? other[i] :
					self_used(index_of(dev)), 0, 0 };

		memcpy((char *)infos + i * size, &p, size);
	}
	*count = 3;
	return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t dev,
						      unsigned int *count,
						      nvmlProcessInfo_v1_t *infos)
{
	return procs(dev, count, infos, sizeof(*infos));
}

API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t dev,
							 unsigned int *count,
							 nvmlProcessInfo_t *infos)
{
	return procs(dev, count, infos, sizeof(*infos));
}

API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t dev,
							 unsigned int *count,
							 nvmlProcessInfo_t *infos)
{
	return procs(dev, count, infos, sizeof(*infos));
}

API nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t dev,
							  unsigned int *count,
							  nvmlProcessInfo_t *infos)
{
	return procs(dev, count, infos, sizeof(*infos));
}

API nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v3(nvmlDevice_t dev,
							    unsigned int *count,
							    nvmlProcessInfo_t *infos)
{
	return procs(dev, count, infos, sizeof(*infos));
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NVML's process lists name every process on the GPU, other tenants'
 * included, with their memory.  A tenant sees only the processes of its
 * own cgroup (an agent's processes share the cgroup it is bound to): an
 * entry whose /proc/PID/cgroup differs from ours, or that we cannot read
 * (another PID namespace, gone), is removed.  Hiding is the safe side:
 * a process of the same agent bound by pid elsewhere is hidden too.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "gdl_cuda.h"

#define CGROUP_MAX 4096

/* /proc/@pid/cgroup into @buf; its length, or -1. */
static ssize_t read_cgroup(unsigned int pid, char *buf, size_t len)
{
	char path[48];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len);
	close(fd);
	return n > 0 && (size_t)n < len ? n : -1;
}

/*
 * Keep the entries (@size bytes each, the pid first) of our cgroup,
 * compacted at the front; their number goes to *count.
 */
static void filter(unsigned int *count, void *infos, size_t size)
{
	char self[CGROUP_MAX], other[CGROUP_MAX];
	unsigned char *p = infos;
	ssize_t ns, no;
	unsigned int i, kept = 0, pid;

	ns = read_cgroup(getpid(), self, sizeof(self));
	for (i = 0; i < *count; i++) {
		memcpy(&pid, p + i * size, sizeof(pid));
		no = ns < 0 ? -1 : read_cgroup(pid, other, sizeof(other));
		if (no != ns || no < 0 || memcmp(self, other, no))
			continue;
		if (kept != i)
			memmove(p + kept * size, p + i * size, size);
		kept++;
	}
	*count = kept;
}

#define PROCS(name, type)						\
	EXPORT nvmlReturn_t name(nvmlDevice_t dev, unsigned int *count,	\
				 type *infos)				\
	{								\
		__typeof__(name) *f = REAL(name);			\
		nvmlReturn_t r;						\
									\
		if (!f)							\
			return NVML_ERROR_UNINITIALIZED;		\
		r = f(dev, count, infos);				\
		if (r == NVML_SUCCESS && count && infos)		\
			filter(count, infos, sizeof(*infos));		\
		return r;						\
	}

PROCS(nvmlDeviceGetComputeRunningProcesses, nvmlProcessInfo_v1_t)
PROCS(nvmlDeviceGetComputeRunningProcesses_v2, nvmlProcessInfo_t)
PROCS(nvmlDeviceGetComputeRunningProcesses_v3, nvmlProcessInfo_t)
PROCS(nvmlDeviceGetGraphicsRunningProcesses_v3, nvmlProcessInfo_t)
PROCS(nvmlDeviceGetMPSComputeRunningProcesses_v3, nvmlProcessInfo_t)

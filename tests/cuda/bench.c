// SPDX-License-Identifier: GPL-2.0
/*
 * ns per cuMemAlloc_v2/cuMemFree_v2 pair against the fake driver, without
 * and with the interposer, in one run, next to the ledger round trips the
 * interposer adds (GDL_IOC_RESERVE + GDL_IOC_RELEASE) and the null ioctl.
 * Run as root in the VM with the module loaded: joins a cgroup bound to a
 * fresh agent with an unlimited quota, then re-executes itself with LD_PRELOAD
 * (GDL_CUDA_LIB) for the second measurement.  Prints a table; never fails
 * on a time.  GDL_BENCH_ICOUNT=1 says the guest runs under QEMU's -icount
 * shift=0 (vm-run.sh -i): its clock counts guest instructions, and the
 * table's heading says so.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpudmalock.h"
#include "cuda_api.h"

#define ITER 20000
#define CGROUP "/sys/fs/cgroup/gdl-bench"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Best of 5 runs: the VM is noisy, the minimum is the cost. */
static double cuda_pairs(void)
{
	double best = 1e30;
	CUdeviceptr p;
	int r, i;

	for (r = 0; r < 5; r++) {
		double t = now_ns();

		for (i = 0; i < ITER; i++)
			if (cuMemAlloc_v2(&p, 4096) || cuMemFree_v2(p))
				return -1;
		t = (now_ns() - t) / ITER;
		if (t < best)
			best = t;
	}
	return best;
}

static double ioctl_pairs(struct gdlock *g, uint32_t dev, int nop)
{
	double best = 1e30;
	uint64_t h;
	int r, i;

	for (r = 0; r < 5; r++) {
		double t = now_ns();

		for (i = 0; i < ITER; i++) {
			if (nop) {
				gdlock_nop(g);
				gdlock_nop(g);
			} else if (gdlock_reserve(g, dev, 4096, &h) ||
				   gdlock_release(g, h)) {
				return -1;
			}
		}
		t = (now_ns() - t) / ITER;
		if (t < best)
			best = t;
	}
	return best;
}

static int cuda_setup(void);
static int cuda_setup(void)
{
	CUcontext c;

	return cuInit(0) || cuCtxCreate_v2(&c, 0, 0);
}

int main(int argc, char **argv)
{
	const char *lib = getenv("GDL_CUDA_LIB");
	struct gdl_device_info d[GDL_MAX_DEVICES];
	double plain, reserve, nop, with = -1;
	struct gdlock *g;
	char cmd[4096];
	uint32_t agent;
	FILE *f;
	int n, fd;

	if (argc > 1 && !strcmp(argv[1], "--child")) {
		if (cuda_setup())
			return 1;
		printf("%.1f\n", cuda_pairs());
		return 0;
	}
	if (!lib || gdlock_open(&g)) {
		fprintf(stderr, "bench: needs GDL_CUDA_LIB and %s\n", GDL_DEVICE_PATH);
		return 2;
	}
	n = gdlock_device_list(g, d, GDL_MAX_DEVICES);
	/* A cgroup binding, so that the re-executed child is the agent too. */
	mkdir(CGROUP, 0755);
	snprintf(cmd, sizeof(cmd), "%d", getpid());
	fd = open(CGROUP "/cgroup.procs", O_WRONLY);
	if (n < 1 || gdlock_agent_create(g, "bench", GDL_QUOTA_UNLIMITED, &agent) ||
	    gdlock_bind_cgroup(g, agent, CGROUP) || fd < 0 ||
	    write(fd, cmd, strlen(cmd)) < 0) {
		fprintf(stderr, "bench: cannot set up an agent\n");
		return 2;
	}
	if (cuda_setup())
		return 1;
	plain = cuda_pairs();
	reserve = ioctl_pairs(g, d[0].index, 0);
	nop = ioctl_pairs(g, d[0].index, 1);
	snprintf(cmd, sizeof(cmd), "LD_PRELOAD=%s exec /proc/%d/exe --child", lib,
		 getpid());
	f = popen(cmd, "r");
	if (!f || fscanf(f, "%lf", &with) != 1)
		with = -1;
	if (f)
		pclose(f);
	printf("cuda bench (%d pairs, best of 5, %s per cuMemAlloc_v2+cuMemFree_v2 pair)\n",
	       ITER, getenv("GDL_BENCH_ICOUNT") ?
	       "guest instructions (-icount)" : "ns");
	printf("  %-44s %10.1f\n", "fake driver alone", plain);
	printf("  %-44s %10.1f\n", "through libgpudmalock-cuda.so", with);
	printf("  %-44s %10.1f\n", "RESERVE + RELEASE ioctls (libgpudmalock)", reserve);
	printf("  %-44s %10.1f\n", "2 x null ioctl (syscall floor)", nop);
	printf("  %-44s %10.2f\n", "ratio interposed / alone", with / plain);
	printf("  %-44s %10.1f\n", "interposer cost beyond the two ioctls", with - plain - reserve);
	gdlock_close(g);
	return with < 0;
}

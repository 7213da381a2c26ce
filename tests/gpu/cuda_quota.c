// SPDX-License-Identifier: GPL-2.0
/*
 * A CUDA C program for a real GPU under libgpudmalock-cuda.so (driver API
 * only, so it builds with just cuda.h and -lcuda).
 *   cuda_quota QUOTA_MIB
 * With the module: allocates 64 MiB blocks until CUDA_ERROR_OUT_OF_MEMORY
 * and checks that the total stays within QUOTA_MIB and cuMemGetInfo's
 * total is the quota.  Without it (fail-open): only checks the calls pass.
 * Prints "gpu-c: N passed, M failed" and the time per cuMemAlloc/cuMemFree.
 */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int passed, failed;

static void check(int ok, const char *what)
{
	printf("%s gpu-c: %s\n", ok ? "ok  " : "FAIL", what);
	ok ? passed++ : failed++;
}

int main(int argc, char **argv)
{
	unsigned long long quota = (argc > 1 ? strtoull(argv[1], NULL, 0) : 0) << 20;
	CUdeviceptr p[4096];
	size_t fr, tot, got = 0;
	struct timespec a, b;
	CUcontext ctx;
	CUdevice dev;
	CUresult e1 = CUDA_SUCCESS;
	int n = 0, i;

	check(cuInit(0) == CUDA_SUCCESS, "cuInit");
	check(cuDeviceGet(&dev, 0) == CUDA_SUCCESS, "cuDeviceGet");
	check(cuDevicePrimaryCtxRetain(&ctx, dev) == CUDA_SUCCESS &&
	      cuCtxSetCurrent(ctx) == CUDA_SUCCESS, "primary context");
	check(cuMemGetInfo(&fr, &tot) == CUDA_SUCCESS, "cuMemGetInfo");
	printf("cuMemGetInfo: total %zu free %zu\n", tot, fr);
	if (quota)
		check(tot == quota, "cuMemGetInfo total is the quota");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 10000; i++)
		if ((e1 = cuMemAlloc(&p[0], 1 << 20)) || (e1 = cuMemFree(p[0])))
			break;
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (e1 == CUDA_ERROR_OUT_OF_MEMORY)
		printf("cuMemAlloc/cuMemFree pair %d: CUDA_ERROR_OUT_OF_MEMORY\n", i);
	else if (e1)
		printf("cuMemAlloc/cuMemFree pair %d: CUresult %d\n", i, (int)e1);
	check(i == 10000, "10000 cuMemAlloc/cuMemFree pairs of 1 MiB");
	printf("alloc+free pair: %.0f ns\n",
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 10000);
	if (quota) {
		CUresult e = CUDA_SUCCESS;

		while (n < 4096 && (e = cuMemAlloc(&p[n], 64 << 20)) == CUDA_SUCCESS) {
			n++;
			got += 64 << 20;
		}
		check(e == CUDA_ERROR_OUT_OF_MEMORY, "allocation past the quota fails with CUDA_ERROR_OUT_OF_MEMORY");
		check(got <= quota, "allocated no more than the quota");
		printf("allocated %zu MiB of a %llu MiB quota\n", got >> 20, quota >> 20);
		while (n)
			cuMemFree(p[--n]);
	}
	printf("gpu-c: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The containers tier's workload: an unmodified CUDA driver-API program
 * (it knows nothing of gpu-dma-lock) that runs inside the test image
 * against the fake libcuda.so.1.  It allocates CHUNK_MIB at a time until
 * the driver says no or MAX chunks are held, prints one line the tests
 * read, and with "hold" keeps the memory until it is killed.
 *
 *   ctr_cuda CHUNK_MIB MAX [hold]
 *   -> "ctr_cuda: preload=<LD_PRELOAD or unset> allocs=N total_mib=T
 *       free_mib=F result=CUDA_ERROR_OUT_OF_MEMORY|limit|error"
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda_api.h"

#define MiB ((size_t)1024 * 1024)

int main(int argc, char **argv)
{
	size_t chunk = (argc > 1 ? strtoull(argv[1], NULL, 0) : 1) * MiB;
	int max = argc > 2 ? atoi(argv[2]) : 64, n;
	int hold = argc > 3 && !strcmp(argv[3], "hold");
	const char *pre = getenv("LD_PRELOAD");
	size_t free_b = 0, total_b = 0;
	CUdeviceptr p;
	CUcontext ctx;
	CUresult r = CUDA_SUCCESS;
	CUdevice dev;

	if (max < 0 || cuInit(0) || cuDeviceGet(&dev, 0) ||
	    cuCtxCreate_v2(&ctx, 0, dev)) {
		printf("ctr_cuda: no CUDA device\n");
		return 1;
	}
	for (n = 0; n < max; n++) {
		r = cuMemAlloc_v2(&p, chunk);
		if (r != CUDA_SUCCESS)
			break;
	}
	if (cuMemGetInfo_v2(&free_b, &total_b))
		free_b = total_b = 0;
	printf("ctr_cuda: preload=%s allocs=%d total_mib=%zu free_mib=%zu result=%s\n",
	       pre && *pre ? pre : "unset", n, total_b / MiB, free_b / MiB,
	       r == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" :
	       r == CUDA_SUCCESS ? "limit" : "error");
	fflush(stdout);
	/* Held until killed: the kernel releases it when the files close. */
	while (hold)
		pause();
	return r == CUDA_SUCCESS || r == CUDA_ERROR_OUT_OF_MEMORY ? 0 : 1;
}

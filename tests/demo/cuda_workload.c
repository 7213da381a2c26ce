// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's CUDA program: an ordinary driver-API client that knows
 * nothing of gpu-dma-lock.  It asks the driver how much memory there is,
 * then allocates CHUNK_MIB at a time until the driver says no, and frees
 * everything.  Run under LD_PRELOAD=libgpudmalock-cuda.so, every
 * allocation is first reserved in the kernel ledger.  In the demo it runs
 * against the tests' stand-in libcuda.so.1 (no GPU in the VM).
 *
 *   cuda_workload CHUNK_MIB MAX_CHUNKS
 */
#include <stdio.h>
#include <stdlib.h>

#include "cuda_api.h"

#define MiB ((size_t)1024 * 1024)

int main(int argc, char **argv)
{
	size_t chunk = (argc > 1 ? strtoull(argv[1], NULL, 0) : 1) * MiB;
	int max = argc > 2 ? atoi(argv[2]) : 64, n, i;
	CUdeviceptr *p = calloc(max, sizeof(*p));
	size_t free_b, total_b;
	CUcontext ctx;
	CUresult r = CUDA_SUCCESS;
	CUdevice dev;

	if (!p || cuInit(0) || cuDeviceGet(&dev, 0) ||
	    cuCtxCreate_v2(&ctx, 0, dev)) {
		fprintf(stderr, "cuda_workload: no CUDA device\n");
		return 1;
	}
	if (!cuMemGetInfo_v2(&free_b, &total_b))
		printf("cuMemGetInfo: total %zu MiB, free %zu MiB\n",
		       total_b / MiB, free_b / MiB);
	for (n = 0; n < max; n++) {
		r = cuMemAlloc_v2(&p[n], chunk);
		if (r != CUDA_SUCCESS)
			break;
	}
	printf("cuMemAlloc of %zu MiB: %d succeeded (%zu MiB), then %s\n",
	       chunk / MiB, n, n * chunk / MiB,
	       r == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" :
	       r == CUDA_SUCCESS ? "stopped at the limit asked" : "an error");
	for (i = 0; i < n; i++)
		cuMemFree_v2(p[i]);
	cuCtxDestroy_v2(ctx);
	free(p);
	return r == CUDA_SUCCESS || r == CUDA_ERROR_OUT_OF_MEMORY ? 0 : 1;
}

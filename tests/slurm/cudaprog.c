// SPDX-License-Identifier: GPL-2.0
/*
 * An ordinary CUDA driver-API program for the Slurm tier, which knows
 * nothing of gpu-dma-lock or Slurm: it picks CUDA device DEV by ordinal
 * (ignoring CUDA_VISIBLE_DEVICES, as a hostile job would), allocates
 * CHUNK_MIB at a time, at most MAX times, and prints how many succeeded.
 * With WAITFILE it then holds its memory until that file exists, so a
 * test can look at the ledger while a job runs.
 *
 *   cudaprog DEV CHUNK_MIB MAX [WAITFILE]
 * Prints "cudaprog: dev D: N x M MiB ok, then RESULT"; exit 0 unless the
 * driver failed for another reason than out-of-memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cuda_api.h"

#define MiB ((size_t)1024 * 1024)

int main(int argc, char **argv)
{
	int devno, max, n = 0, i;
	CUresult r = CUDA_SUCCESS;
	CUdeviceptr *p;
	CUcontext ctx;
	size_t chunk;
	CUdevice dev;

	if (argc < 4) {
		fprintf(stderr, "usage: cudaprog DEV CHUNK_MIB MAX [WAITFILE]\n");
		return 2;
	}
	devno = atoi(argv[1]);
	chunk = strtoull(argv[2], NULL, 0) * MiB;
	max = atoi(argv[3]);
	p = calloc(max > 0 ? max : 1, sizeof(*p));
	if (!p || cuInit(0) || cuDeviceGet(&dev, devno) ||
	    cuCtxCreate_v2(&ctx, 0, dev)) {
		fprintf(stderr, "cudaprog: no CUDA device %d\n", devno);
		return 1;
	}
	for (n = 0; n < max; n++) {
		r = cuMemAlloc_v2(&p[n], chunk);
		if (r != CUDA_SUCCESS)
			break;
	}
	printf("cudaprog: dev %d: %d x %zu MiB ok, then %s\n", devno, n,
	       chunk / MiB,
	       r == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" :
	       r == CUDA_SUCCESS ? "done" : "another error");
	fflush(stdout);
	while (argc > 4 && access(argv[4], F_OK))
		usleep(100 * 1000);
	for (i = 0; i < n; i++)
		cuMemFree_v2(p[i]);
	cuCtxDestroy_v2(ctx);
	free(p);
	return r == CUDA_SUCCESS || r == CUDA_ERROR_OUT_OF_MEMORY ? 0 : 1;
}

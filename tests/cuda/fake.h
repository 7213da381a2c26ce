/* SPDX-License-Identifier: GPL-2.0 */
/* Test-only hooks of the fake libcuda.so.1 (never installed). */
#ifndef FAKE_CUDA_H
#define FAKE_CUDA_H

#include "cuda_types.h"

/* Bytes the fake driver has live on device @dev, and driver calls made. */
unsigned long long fake_cuda_live(int dev);
unsigned long long fake_cuda_driver_allocs(void);
/* What NVML reports this process holds on @dev (live + the driver's own). */
unsigned long long fake_cuda_process_mem(int dev);
/*
 * Once: the next free/destroy/release calls @fn(@arg) after freeing and
 * before returning, and hands the freed address or object out again.
 */
void fake_cuda_on_next_free(void (*fn)(void *), void *arg);
/* The driver's own memory on @dev grows by @bytes with no API call. */
void fake_cuda_grow_driver_mem(int dev, long long bytes);
/* cuCheckpointProcessRestore calls that reached the driver. */
unsigned long long fake_cuda_restores(void);
/* Graph memory grows in granules of @bytes from now on (0: exact). */
void fake_cuda_set_graph_granule(unsigned long long bytes);
/* Calls of the pre-3.2 free and copies that reached the driver. */
unsigned long long fake_cuda_legacy_calls(void);

#endif

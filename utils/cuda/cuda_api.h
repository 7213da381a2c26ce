/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prototypes of the CUDA driver and NVML entry points that the interposer
 * wraps (GDL_CUDA_WRAPPED) and of the few more it calls or the test double
 * provides.  GDL_CUDA_WRAPPED(X) lists every wrapped symbol once:
 * X(symbol, base name given to cuGetProcAddress, per-thread-stream variant,
 * library) - the interposer builds its tables from it and the tests
 * enumerate it.
 */
#ifndef GDL_CUDA_API_H
#define GDL_CUDA_API_H

#include "cuda_types.h"

#define GDL_LIB_CUDA 0
#define GDL_LIB_NVML 1

#define GDL_CUDA_WRAPPED(X)							\
	X(cuMemAlloc_v2, "cuMemAlloc", 0, GDL_LIB_CUDA)				\
	X(cuMemAllocPitch_v2, "cuMemAllocPitch", 0, GDL_LIB_CUDA)		\
	X(cuMemAllocManaged, "cuMemAllocManaged", 0, GDL_LIB_CUDA)		\
	X(cuMemAllocAsync, "cuMemAllocAsync", 0, GDL_LIB_CUDA)			\
	X(cuMemAllocAsync_ptsz, "cuMemAllocAsync", 1, GDL_LIB_CUDA)		\
	X(cuMemAllocFromPoolAsync, "cuMemAllocFromPoolAsync", 0, GDL_LIB_CUDA)	\
	X(cuMemAllocFromPoolAsync_ptsz, "cuMemAllocFromPoolAsync", 1, GDL_LIB_CUDA) \
	X(cuMemCreate, "cuMemCreate", 0, GDL_LIB_CUDA)				\
	X(cuArrayCreate_v2, "cuArrayCreate", 0, GDL_LIB_CUDA)			\
	X(cuArray3DCreate_v2, "cuArray3DCreate", 0, GDL_LIB_CUDA)		\
	X(cuMipmappedArrayCreate, "cuMipmappedArrayCreate", 0, GDL_LIB_CUDA)	\
	X(cuMemFree_v2, "cuMemFree", 0, GDL_LIB_CUDA)				\
	X(cuMemFreeAsync, "cuMemFreeAsync", 0, GDL_LIB_CUDA)			\
	X(cuMemFreeAsync_ptsz, "cuMemFreeAsync", 1, GDL_LIB_CUDA)		\
	X(cuMemRelease, "cuMemRelease", 0, GDL_LIB_CUDA)			\
	X(cuMemRetainAllocationHandle, "cuMemRetainAllocationHandle", 0, GDL_LIB_CUDA) \
	X(cuCtxSynchronize, "cuCtxSynchronize", 0, GDL_LIB_CUDA)		\
	X(cuCtxSynchronize_v2, "cuCtxSynchronize", 0, GDL_LIB_CUDA)		\
	X(cuCheckpointProcessRestore, "cuCheckpointProcessRestore", 0, GDL_LIB_CUDA) \
	X(cuStreamSynchronize, "cuStreamSynchronize", 0, GDL_LIB_CUDA)	\
	X(cuStreamSynchronize_ptsz, "cuStreamSynchronize", 1, GDL_LIB_CUDA)	\
	X(cuMemMap, "cuMemMap", 0, GDL_LIB_CUDA)				\
	X(cuMemExportToShareableHandle, "cuMemExportToShareableHandle", 0, GDL_LIB_CUDA) \
	X(cuIpcGetMemHandle, "cuIpcGetMemHandle", 0, GDL_LIB_CUDA)		\
	X(cuMemImportFromShareableHandle, "cuMemImportFromShareableHandle", 0, GDL_LIB_CUDA) \
	X(cuIpcCloseMemHandle, "cuIpcCloseMemHandle", 0, GDL_LIB_CUDA)	\
	X(cuMemPoolCreate, "cuMemPoolCreate", 0, GDL_LIB_CUDA)			\
	X(cuMemPoolDestroy, "cuMemPoolDestroy", 0, GDL_LIB_CUDA)		\
	X(cuMemPoolTrimTo, "cuMemPoolTrimTo", 0, GDL_LIB_CUDA)			\
	X(cuMemUnmap, "cuMemUnmap", 0, GDL_LIB_CUDA)				\
	X(cuArrayDestroy, "cuArrayDestroy", 0, GDL_LIB_CUDA)			\
	X(cuMipmappedArrayDestroy, "cuMipmappedArrayDestroy", 0, GDL_LIB_CUDA)	\
	X(cuMemGetInfo_v2, "cuMemGetInfo", 0, GDL_LIB_CUDA)			\
	X(cuCtxCreate_v2, "cuCtxCreate", 0, GDL_LIB_CUDA)			\
	X(cuCtxCreate_v3, "cuCtxCreate", 0, GDL_LIB_CUDA)			\
	X(cuCtxCreate_v4, "cuCtxCreate", 0, GDL_LIB_CUDA)			\
	X(cuCtxDestroy_v2, "cuCtxDestroy", 0, GDL_LIB_CUDA)			\
	X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", 0, GDL_LIB_CUDA) \
	X(cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease", 0, GDL_LIB_CUDA) \
	X(cuDeviceCanAccessPeer, "cuDeviceCanAccessPeer", 0, GDL_LIB_CUDA)	\
	X(cuCtxEnablePeerAccess, "cuCtxEnablePeerAccess", 0, GDL_LIB_CUDA)	\
	X(cuMemcpyPeer, "cuMemcpyPeer", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyPeer_ptds, "cuMemcpyPeer", 1, GDL_LIB_CUDA)			\
	X(cuMemcpyPeerAsync, "cuMemcpyPeerAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemcpyPeerAsync_ptsz, "cuMemcpyPeerAsync", 1, GDL_LIB_CUDA)	\
	X(cuMemcpy3DPeer, "cuMemcpy3DPeer", 0, GDL_LIB_CUDA)			\
	X(cuMemcpy3DPeer_ptds, "cuMemcpy3DPeer", 1, GDL_LIB_CUDA)		\
	X(cuMemcpy3DPeerAsync, "cuMemcpy3DPeerAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemcpy3DPeerAsync_ptsz, "cuMemcpy3DPeerAsync", 1, GDL_LIB_CUDA)	\
	X(cuMemcpy, "cuMemcpy", 0, GDL_LIB_CUDA)				\
	X(cuMemcpy_ptds, "cuMemcpy", 1, GDL_LIB_CUDA)				\
	X(cuMemcpyAsync, "cuMemcpyAsync", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyAsync_ptsz, "cuMemcpyAsync", 1, GDL_LIB_CUDA)		\
	X(cuMemcpyDtoD_v2, "cuMemcpyDtoD", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyDtoD_v2_ptds, "cuMemcpyDtoD", 1, GDL_LIB_CUDA)		\
	X(cuMemcpyDtoDAsync_v2, "cuMemcpyDtoDAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemcpyDtoDAsync_v2_ptsz, "cuMemcpyDtoDAsync", 1, GDL_LIB_CUDA)	\
	X(cuMemcpyBatchAsync_v2, "cuMemcpyBatchAsync", 0, GDL_LIB_CUDA)	\
	X(cuMemcpy2D_v2, "cuMemcpy2D", 0, GDL_LIB_CUDA)			\
	X(cuMemcpy2D_v2_ptds, "cuMemcpy2D", 1, GDL_LIB_CUDA)			\
	X(cuMemcpy2DUnaligned_v2, "cuMemcpy2DUnaligned", 0, GDL_LIB_CUDA)	\
	X(cuMemcpy2DUnaligned_v2_ptds, "cuMemcpy2DUnaligned", 1, GDL_LIB_CUDA) \
	X(cuMemcpy2DAsync_v2, "cuMemcpy2DAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemcpy2DAsync_v2_ptsz, "cuMemcpy2DAsync", 1, GDL_LIB_CUDA)		\
	X(cuMemcpy3D_v2, "cuMemcpy3D", 0, GDL_LIB_CUDA)			\
	X(cuMemcpy3D_v2_ptds, "cuMemcpy3D", 1, GDL_LIB_CUDA)			\
	X(cuMemcpy3DAsync_v2, "cuMemcpy3DAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemcpy3DAsync_v2_ptsz, "cuMemcpy3DAsync", 1, GDL_LIB_CUDA)		\
	X(cuMemSetAccess, "cuMemSetAccess", 0, GDL_LIB_CUDA)			\
	X(cuMemPoolSetAccess, "cuMemPoolSetAccess", 0, GDL_LIB_CUDA)		\
	X(cuMemPoolImportPointer, "cuMemPoolImportPointer", 0, GDL_LIB_CUDA)	\
	X(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", 0, GDL_LIB_CUDA) \
	X(cuGraphInstantiateWithParams, "cuGraphInstantiateWithParams", 0, GDL_LIB_CUDA) \
	X(cuGraphInstantiateWithParams_ptsz, "cuGraphInstantiateWithParams", 1, GDL_LIB_CUDA) \
	X(cuGraphLaunch, "cuGraphLaunch", 0, GDL_LIB_CUDA)			\
	X(cuGraphLaunch_ptsz, "cuGraphLaunch", 1, GDL_LIB_CUDA)		\
	X(cuGraphUpload, "cuGraphUpload", 0, GDL_LIB_CUDA)			\
	X(cuGraphUpload_ptsz, "cuGraphUpload", 1, GDL_LIB_CUDA)		\
	X(cuGraphExecDestroy, "cuGraphExecDestroy", 0, GDL_LIB_CUDA)		\
	X(cuDeviceGraphMemTrim, "cuDeviceGraphMemTrim", 0, GDL_LIB_CUDA)	\
	X(cuCtxSetLimit, "cuCtxSetLimit", 0, GDL_LIB_CUDA)			\
	X(cuModuleLoad, "cuModuleLoad", 0, GDL_LIB_CUDA)			\
	X(cuModuleLoadData, "cuModuleLoadData", 0, GDL_LIB_CUDA)		\
	X(cuModuleLoadDataEx, "cuModuleLoadDataEx", 0, GDL_LIB_CUDA)		\
	X(cuModuleLoadFatBinary, "cuModuleLoadFatBinary", 0, GDL_LIB_CUDA)	\
	X(cuLibraryLoadData, "cuLibraryLoadData", 0, GDL_LIB_CUDA)		\
	X(cuLibraryLoadFromFile, "cuLibraryLoadFromFile", 0, GDL_LIB_CUDA)	\
	X(cuIpcOpenMemHandle_v2, "cuIpcOpenMemHandle", 0, GDL_LIB_CUDA)	\
	X(cuMemHostRegister_v2, "cuMemHostRegister", 0, GDL_LIB_CUDA)		\
	X(cuMemHostAlloc, "cuMemHostAlloc", 0, GDL_LIB_CUDA)			\
	X(cuGetProcAddress, "cuGetProcAddress", 0, GDL_LIB_CUDA)		\
	X(cuGetProcAddress_v2, "cuGetProcAddress", 0, GDL_LIB_CUDA)		\
	X(cuMemAllocHost_v2, "cuMemAllocHost", 0, GDL_LIB_CUDA)		\
	X(cuDeviceTotalMem_v2, "cuDeviceTotalMem", 0, GDL_LIB_CUDA)		\
	X(cuMemMapArrayAsync, "cuMemMapArrayAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemMapArrayAsync_ptsz, "cuMemMapArrayAsync", 1, GDL_LIB_CUDA)	\
	X(cuMemcpyAtoA_v2, "cuMemcpyAtoA", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyAtoA_v2_ptds, "cuMemcpyAtoA", 1, GDL_LIB_CUDA)		\
	X(cuMemcpyAtoD_v2, "cuMemcpyAtoD", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyAtoD_v2_ptds, "cuMemcpyAtoD", 1, GDL_LIB_CUDA)		\
	X(cuMemcpyDtoA_v2, "cuMemcpyDtoA", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyDtoA_v2_ptds, "cuMemcpyDtoA", 1, GDL_LIB_CUDA)		\
	X(cuMemcpyBatchAsync, "cuMemcpyBatchAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemcpyBatchAsync_ptsz, "cuMemcpyBatchAsync", 1, GDL_LIB_CUDA)	\
	X(cuMemcpyBatchAsync_v2_ptsz, "cuMemcpyBatchAsync", 1, GDL_LIB_CUDA)	\
	X(cuMemcpy3DBatchAsync, "cuMemcpy3DBatchAsync", 0, GDL_LIB_CUDA)	\
	X(cuMemcpy3DBatchAsync_ptsz, "cuMemcpy3DBatchAsync", 1, GDL_LIB_CUDA) \
	X(cuMemcpy3DBatchAsync_v2, "cuMemcpy3DBatchAsync", 0, GDL_LIB_CUDA)	\
	X(cuMemcpy3DBatchAsync_v2_ptsz, "cuMemcpy3DBatchAsync", 1, GDL_LIB_CUDA) \
	X(cuGraphAddMemcpyNode, "cuGraphAddMemcpyNode", 0, GDL_LIB_CUDA)	\
	X(cuGraphMemcpyNodeSetParams, "cuGraphMemcpyNodeSetParams", 0, GDL_LIB_CUDA) \
	X(cuGraphExecMemcpyNodeSetParams, "cuGraphExecMemcpyNodeSetParams", 0, GDL_LIB_CUDA) \
	X(cuGraphAddNode, "cuGraphAddNode", 0, GDL_LIB_CUDA)			\
	X(cuGraphAddNode_v2, "cuGraphAddNode", 0, GDL_LIB_CUDA)		\
	X(cuGraphNodeSetParams, "cuGraphNodeSetParams", 0, GDL_LIB_CUDA)	\
	X(cuGraphExecNodeSetParams, "cuGraphExecNodeSetParams", 0, GDL_LIB_CUDA) \
	X(cuMipmappedArrayGetLevel, "cuMipmappedArrayGetLevel", 0, GDL_LIB_CUDA) \
	X(cuArrayGetPlane, "cuArrayGetPlane", 0, GDL_LIB_CUDA)			\
	X(cuGreenCtxCreate, "cuGreenCtxCreate", 0, GDL_LIB_CUDA)		\
	X(cuGreenCtxDestroy, "cuGreenCtxDestroy", 0, GDL_LIB_CUDA)		\
	X(cuDevicePrimaryCtxReset_v2, "cuDevicePrimaryCtxReset", 0, GDL_LIB_CUDA) \
	X(cuGraphExecUpdate_v2, "cuGraphExecUpdate", 0, GDL_LIB_CUDA)		\
	X(cuImportExternalMemory, "cuImportExternalMemory", 0, GDL_LIB_CUDA)	\
	X(cuDestroyExternalMemory, "cuDestroyExternalMemory", 0, GDL_LIB_CUDA) \
	X(cuMulticastBindMem, "cuMulticastBindMem", 0, GDL_LIB_CUDA)		\
	X(cuMulticastBindAddr, "cuMulticastBindAddr", 0, GDL_LIB_CUDA)	\
	X(cuMulticastUnbind, "cuMulticastUnbind", 0, GDL_LIB_CUDA)		\
	GDL_CUDA_LEGACY(X)							\
	X(nvmlDeviceGetMemoryInfo, "nvmlDeviceGetMemoryInfo", 0, GDL_LIB_NVML)	\
	X(nvmlDeviceGetMemoryInfo_v2, "nvmlDeviceGetMemoryInfo_v2", 0, GDL_LIB_NVML) \
	X(nvmlDeviceGetBAR1MemoryInfo, "nvmlDeviceGetBAR1MemoryInfo", 0, GDL_LIB_NVML) \
	X(nvmlDeviceGetComputeRunningProcesses, "nvmlDeviceGetComputeRunningProcesses", 0, GDL_LIB_NVML) \
	X(nvmlDeviceGetComputeRunningProcesses_v2, "nvmlDeviceGetComputeRunningProcesses_v2", 0, GDL_LIB_NVML) \
	X(nvmlDeviceGetComputeRunningProcesses_v3, "nvmlDeviceGetComputeRunningProcesses_v3", 0, GDL_LIB_NVML) \
	X(nvmlDeviceGetGraphicsRunningProcesses_v3, "nvmlDeviceGetGraphicsRunningProcesses_v3", 0, GDL_LIB_NVML) \
	X(nvmlDeviceGetMPSComputeRunningProcesses_v3, "nvmlDeviceGetMPSComputeRunningProcesses_v3", 0, GDL_LIB_NVML)

/*
 * The names libcuda still exports for binaries built against old headers
 * (cuda.h #defines each to its current version).  Those whose ABI is the
 * current one's are served like it; those with 32-bit sizes or addresses
 * (GDL_CUDA_REFUSED) are refused: CUDA_ERROR_NOT_SUPPORTED.
 */
#define GDL_CUDA_LEGACY(X)							\
	X(cuMemAlloc, "cuMemAlloc", 0, GDL_LIB_CUDA)				\
	X(cuMemAllocPitch, "cuMemAllocPitch", 0, GDL_LIB_CUDA)			\
	X(cuArrayCreate, "cuArrayCreate", 0, GDL_LIB_CUDA)			\
	X(cuArray3DCreate, "cuArray3DCreate", 0, GDL_LIB_CUDA)			\
	X(cuMemGetInfo, "cuMemGetInfo", 0, GDL_LIB_CUDA)			\
	X(cuDeviceTotalMem, "cuDeviceTotalMem", 0, GDL_LIB_CUDA)		\
	X(cuMemAllocHost, "cuMemAllocHost", 0, GDL_LIB_CUDA)			\
	X(cuIpcOpenMemHandle, "cuIpcOpenMemHandle", 0, GDL_LIB_CUDA)		\
	X(cuMemHostRegister, "cuMemHostRegister", 0, GDL_LIB_CUDA)		\
	X(cuCtxCreate, "cuCtxCreate", 0, GDL_LIB_CUDA)				\
	X(cuCtxDestroy, "cuCtxDestroy", 0, GDL_LIB_CUDA)			\
	X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease", 0, GDL_LIB_CUDA) \
	X(cuDevicePrimaryCtxReset, "cuDevicePrimaryCtxReset", 0, GDL_LIB_CUDA) \
	X(cuMemFree, "cuMemFree", 0, GDL_LIB_CUDA)				\
	X(cuMemcpyDtoD, "cuMemcpyDtoD", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync", 0, GDL_LIB_CUDA)		\
	X(cuMemcpyDtoA, "cuMemcpyDtoA", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyAtoD, "cuMemcpyAtoD", 0, GDL_LIB_CUDA)			\
	X(cuMemcpyAtoA, "cuMemcpyAtoA", 0, GDL_LIB_CUDA)			\
	X(cuMemcpy2D, "cuMemcpy2D", 0, GDL_LIB_CUDA)				\
	X(cuMemcpy2DUnaligned, "cuMemcpy2DUnaligned", 0, GDL_LIB_CUDA)		\
	X(cuMemcpy2DAsync, "cuMemcpy2DAsync", 0, GDL_LIB_CUDA)			\
	X(cuMemcpy3D, "cuMemcpy3D", 0, GDL_LIB_CUDA)				\
	X(cuMemcpy3DAsync, "cuMemcpy3DAsync", 0, GDL_LIB_CUDA)		\
	X(cuGraphInstantiate, "cuGraphInstantiate", 0, GDL_LIB_CUDA)		\
	X(cuGraphInstantiate_v2, "cuGraphInstantiate", 0, GDL_LIB_CUDA)	\
	X(cuGraphExecUpdate, "cuGraphExecUpdate", 0, GDL_LIB_CUDA)

#define GDL_CUDA_REFUSED(X) X(cuMemAlloc) X(cuMemAllocPitch) X(cuArrayCreate) X(cuArray3DCreate) \
	X(cuMemFree) \
	X(cuMemcpyDtoD) X(cuMemcpyDtoDAsync) X(cuMemcpyDtoA) X(cuMemcpyAtoD) X(cuMemcpyAtoA) \
	X(cuMemcpy2D) X(cuMemcpy2DUnaligned) X(cuMemcpy2DAsync) X(cuMemcpy3D) X(cuMemcpy3DAsync)

/* Wrapped */
CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize);
CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width,
			    size_t height, unsigned int elem);
CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize,
			   unsigned int flags);
CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream s);
CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream s);
CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytesize,
				 CUmemoryPool pool, CUstream s);
CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize,
				      CUmemoryPool pool, CUstream s);
CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
		     const CUmemAllocationProp *prop, unsigned long long flags);
CUresult cuArrayCreate_v2(CUarray *arr, const CUDA_ARRAY_DESCRIPTOR *d);
CUresult cuArray3DCreate_v2(CUarray *arr, const CUDA_ARRAY3D_DESCRIPTOR *d);
CUresult cuMipmappedArrayCreate(CUmipmappedArray *arr,
				const CUDA_ARRAY3D_DESCRIPTOR *d,
				unsigned int levels);
CUresult cuMemFree_v2(CUdeviceptr dptr);
CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream s);
CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream s);
CUresult cuMemRelease(CUmemGenericAllocationHandle handle);
CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
		  CUmemGenericAllocationHandle handle, unsigned long long flags);
CUresult cuMemUnmap(CUdeviceptr ptr, size_t size);
CUresult cuMemExportToShareableHandle(void *shareable,
				      CUmemGenericAllocationHandle handle,
				      CUmemAllocationHandleType type,
				      unsigned long long flags);
CUresult cuIpcGetMemHandle(CUipcMemHandle *h, CUdeviceptr p);
CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle *handle,
					void *osHandle,
					CUmemAllocationHandleType type);
CUresult cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props);
CUresult cuMemPoolDestroy(CUmemoryPool pool);
CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t minBytesToKeep);
CUresult cuArrayDestroy(CUarray arr);
CUresult cuMipmappedArrayDestroy(CUmipmappedArray arr);
CUresult cuMemGetInfo_v2(size_t *free, size_t *total);
CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev);
CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *params,
			int nparams, unsigned int flags, CUdevice dev);
CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params,
			unsigned int flags, CUdevice dev);
CUresult cuCtxDestroy_v2(CUcontext ctx);
CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev);
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
CUresult cuDeviceCanAccessPeer(int *can, CUdevice dev, CUdevice peer);
CUresult cuCtxEnablePeerAccess(CUcontext peer, unsigned int flags);
CUresult cuMemcpyPeer(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
		      CUcontext sctx, size_t n);
CUresult cuMemcpyPeer_ptds(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
			   CUcontext sctx, size_t n);
CUresult cuMemcpyPeerAsync(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
			   CUcontext sctx, size_t n, CUstream s);
CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr dst, CUcontext dctx,
				CUdeviceptr src, CUcontext sctx, size_t n,
				CUstream s);
CUresult cuMemcpy3DPeer(const CUDA_MEMCPY3D_PEER *p);
CUresult cuMemcpy3DPeer_ptds(const CUDA_MEMCPY3D_PEER *p);
CUresult cuMemcpy3DPeerAsync(const CUDA_MEMCPY3D_PEER *p, CUstream s);
CUresult cuMemcpy3DPeerAsync_ptsz(const CUDA_MEMCPY3D_PEER *p, CUstream s);
CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n);
CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n);
CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s);
CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n,
			    CUstream s);
CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n);
CUresult cuMemcpyDtoD_v2_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n);
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n,
			      CUstream s);
CUresult cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n,
				   CUstream s);
CUresult cuMemcpyBatchAsync_v2(CUdeviceptr *dsts, CUdeviceptr *srcs,
			       size_t *sizes, size_t count,
			       CUmemcpyAttributes *attrs, size_t *attrsIdxs,
			       size_t numAttrs, CUstream s);
CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *p);
CUresult cuMemcpy2D_v2_ptds(const CUDA_MEMCPY2D *p);
CUresult cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D *p);
CUresult cuMemcpy2DUnaligned_v2_ptds(const CUDA_MEMCPY2D *p);
CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *p, CUstream s);
CUresult cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D *p, CUstream s);
CUresult cuMemcpy3D_v2(const CUDA_MEMCPY3D *p);
CUresult cuMemcpy3D_v2_ptds(const CUDA_MEMCPY3D *p);
CUresult cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D *p, CUstream s);
CUresult cuMemcpy3DAsync_v2_ptsz(const CUDA_MEMCPY3D *p, CUstream s);
CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size,
			const CUmemAccessDesc *desc, size_t count);
CUresult cuMemPoolSetAccess(CUmemoryPool pool, const CUmemAccessDesc *map,
			    size_t count);
CUresult cuMemPoolImportPointer(CUdeviceptr *ptr_out, CUmemoryPool pool,
				CUmemPoolPtrExportData *shareData);
CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph,
				     unsigned long long flags);
CUresult cuGraphInstantiateWithParams(CUgraphExec *exec, CUgraph graph,
				      CUDA_GRAPH_INSTANTIATE_PARAMS *params);
CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec *exec, CUgraph graph,
					   CUDA_GRAPH_INSTANTIATE_PARAMS *params);
CUresult cuGraphLaunch(CUgraphExec exec, CUstream s);
CUresult cuGraphLaunch_ptsz(CUgraphExec exec, CUstream s);
CUresult cuGraphUpload(CUgraphExec exec, CUstream s);
CUresult cuGraphUpload_ptsz(CUgraphExec exec, CUstream s);
CUresult cuGraphExecDestroy(CUgraphExec exec);
CUresult cuDeviceGraphMemTrim(CUdevice dev);
CUresult cuCtxSetLimit(CUlimit limit, size_t value);
CUresult cuModuleLoad(CUmodule *module, const char *fname);
CUresult cuModuleLoadData(CUmodule *module, const void *image);
CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
			    unsigned int nopts, CUjit_option *opts,
			    void **values);
CUresult cuModuleLoadFatBinary(CUmodule *module, const void *fatCubin);
CUresult cuLibraryLoadData(CUlibrary *library, const void *code,
			   CUjit_option *jitOptions, void **jitOptionsValues,
			   unsigned int numJitOptions,
			   CUlibraryOption *libraryOptions,
			   void **libraryOptionValues,
			   unsigned int numLibraryOptions);
CUresult cuLibraryLoadFromFile(CUlibrary *library, const char *fileName,
			       CUjit_option *jitOptions,
			       void **jitOptionsValues,
			       unsigned int numJitOptions,
			       CUlibraryOption *libraryOptions,
			       void **libraryOptionValues,
			       unsigned int numLibraryOptions);
CUresult cuIpcOpenMemHandle_v2(CUdeviceptr *pdptr, CUipcMemHandle h,
			       unsigned int flags);
CUresult cuMemHostRegister_v2(void *p, size_t size, unsigned int flags);
CUresult cuMemHostAlloc(void **pp, size_t size, unsigned int flags);
CUresult cuMemAllocHost_v2(void **pp, size_t size);
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev);
CUresult cuMemMapArrayAsync(CUarrayMapInfo *mapInfoList, unsigned int count,
			    CUstream s);
CUresult cuMemMapArrayAsync_ptsz(CUarrayMapInfo *mapInfoList,
				 unsigned int count, CUstream s);
CUresult cuMemcpyAtoA_v2(CUarray dst, size_t dstOffset, CUarray src,
			 size_t srcOffset, size_t n);
CUresult cuMemcpyAtoA_v2_ptds(CUarray dst, size_t dstOffset, CUarray src,
			      size_t srcOffset, size_t n);
CUresult cuMemcpyAtoD_v2(CUdeviceptr dst, CUarray src, size_t srcOffset,
			 size_t n);
CUresult cuMemcpyAtoD_v2_ptds(CUdeviceptr dst, CUarray src, size_t srcOffset,
			      size_t n);
CUresult cuMemcpyDtoA_v2(CUarray dst, size_t dstOffset, CUdeviceptr src,
			 size_t n);
CUresult cuMemcpyDtoA_v2_ptds(CUarray dst, size_t dstOffset, CUdeviceptr src,
			      size_t n);
CUresult cuMemcpyBatchAsync(CUdeviceptr *dsts, CUdeviceptr *srcs,
			    size_t *sizes, size_t count,
			    CUmemcpyAttributes *attrs, size_t *attrsIdxs,
			    size_t numAttrs, size_t *failIdx, CUstream s);
CUresult cuMemcpyBatchAsync_ptsz(CUdeviceptr *dsts, CUdeviceptr *srcs,
				 size_t *sizes, size_t count,
				 CUmemcpyAttributes *attrs, size_t *attrsIdxs,
				 size_t numAttrs, size_t *failIdx, CUstream s);
CUresult cuMemcpyBatchAsync_v2_ptsz(CUdeviceptr *dsts, CUdeviceptr *srcs,
				    size_t *sizes, size_t count,
				    CUmemcpyAttributes *attrs,
				    size_t *attrsIdxs, size_t numAttrs,
				    CUstream s);
CUresult cuMemcpy3DBatchAsync(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList,
			      size_t *failIdx, unsigned long long flags,
			      CUstream s);
CUresult cuMemcpy3DBatchAsync_ptsz(size_t numOps,
				   CUDA_MEMCPY3D_BATCH_OP *opList,
				   size_t *failIdx, unsigned long long flags,
				   CUstream s);
CUresult cuMemcpy3DBatchAsync_v2(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList,
				 unsigned long long flags, CUstream s);
CUresult cuMemcpy3DBatchAsync_v2_ptsz(size_t numOps,
				      CUDA_MEMCPY3D_BATCH_OP *opList,
				      unsigned long long flags, CUstream s);
CUresult cuGraphAddMemcpyNode(CUgraphNode *node, CUgraph graph,
			      const CUgraphNode *deps, size_t ndeps,
			      const CUDA_MEMCPY3D *copyParams, CUcontext ctx);
CUresult cuGraphMemcpyNodeSetParams(CUgraphNode node,
				    const CUDA_MEMCPY3D *nodeParams);
CUresult cuGraphExecMemcpyNodeSetParams(CUgraphExec exec, CUgraphNode node,
					const CUDA_MEMCPY3D *copyParams,
					CUcontext ctx);
CUresult cuGraphAddNode(CUgraphNode *node, CUgraph graph,
			const CUgraphNode *deps, size_t ndeps,
			CUgraphNodeParams *nodeParams);
CUresult cuGraphAddNode_v2(CUgraphNode *node, CUgraph graph,
			   const CUgraphNode *deps,
			   const CUgraphEdgeData *edgeData, size_t ndeps,
			   CUgraphNodeParams *nodeParams);
CUresult cuGraphNodeSetParams(CUgraphNode node, CUgraphNodeParams *nodeParams);
CUresult cuGraphExecNodeSetParams(CUgraphExec exec, CUgraphNode node,
				  CUgraphNodeParams *nodeParams);
CUresult cuMipmappedArrayGetLevel(CUarray *level, CUmipmappedArray arr,
				  unsigned int l);
CUresult cuArrayGetPlane(CUarray *plane, CUarray arr, unsigned int idx);
CUresult cuGreenCtxCreate(CUgreenCtx *pctx, CUdevResourceDesc desc,
			  CUdevice dev, unsigned int flags);
CUresult cuGreenCtxDestroy(CUgreenCtx ctx);
CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev);
CUresult cuGraphExecUpdate_v2(CUgraphExec exec, CUgraph graph,
			      CUgraphExecUpdateResultInfo *info);
CUresult cuImportExternalMemory(CUexternalMemory *ext,
				const CUDA_EXTERNAL_MEMORY_HANDLE_DESC *desc);
CUresult cuDestroyExternalMemory(CUexternalMemory ext);
CUresult cuMulticastBindMem(CUmemGenericAllocationHandle mc, size_t mcOffset,
			    CUmemGenericAllocationHandle mem, size_t memOffset,
			    size_t size, unsigned long long flags);
CUresult cuMulticastBindAddr(CUmemGenericAllocationHandle mc, size_t mcOffset,
			     CUdeviceptr memptr, size_t size,
			     unsigned long long flags);
CUresult cuMulticastUnbind(CUmemGenericAllocationHandle mc, CUdevice dev,
			   size_t mcOffset, size_t size);
/* Wrapped: legacy ABIs (cuda.h declares none of them) */
CUresult cuMemAlloc(unsigned int *dptr, unsigned int size);
CUresult cuMemAllocPitch(unsigned int *dptr, unsigned int *pitch,
			 unsigned int width, unsigned int height,
			 unsigned int elem);
CUresult cuArrayCreate(CUarray *arr, const GDL_CUDA_ARRAY_DESCRIPTOR_v1 *d);
CUresult cuArray3DCreate(CUarray *arr, const GDL_CUDA_ARRAY3D_DESCRIPTOR_v1 *d);
CUresult cuMemGetInfo(unsigned int *free, unsigned int *total);
CUresult cuDeviceTotalMem(unsigned int *bytes, CUdevice dev);
CUresult cuMemAllocHost(void **pp, unsigned int size);
CUresult cuIpcOpenMemHandle(CUdeviceptr *pdptr, CUipcMemHandle h,
			    unsigned int flags);
CUresult cuMemHostRegister(void *p, size_t size, unsigned int flags);
CUresult cuCtxCreate(CUcontext *pctx, unsigned int flags, CUdevice dev);
CUresult cuCtxDestroy(CUcontext ctx);
CUresult cuDevicePrimaryCtxRelease(CUdevice dev);
CUresult cuDevicePrimaryCtxReset(CUdevice dev);
/* Wrapped: the legacy 32-bit free and copies (refused) */
CUresult cuMemFree(GDL_CUdeviceptr_v1 dptr);
CUresult cuMemcpyDtoD(GDL_CUdeviceptr_v1 dst, GDL_CUdeviceptr_v1 src,
		      unsigned int n);
CUresult cuMemcpyDtoDAsync(GDL_CUdeviceptr_v1 dst, GDL_CUdeviceptr_v1 src,
			   unsigned int n, CUstream s);
CUresult cuMemcpyDtoA(CUarray dst, unsigned int doff, GDL_CUdeviceptr_v1 src,
		      unsigned int n);
CUresult cuMemcpyAtoD(GDL_CUdeviceptr_v1 dst, CUarray src, unsigned int soff,
		      unsigned int n);
CUresult cuMemcpyAtoA(CUarray dst, unsigned int doff, CUarray src,
		      unsigned int soff, unsigned int n);
CUresult cuMemcpy2D(const GDL_CUDA_MEMCPY2D_v1 *p);
CUresult cuMemcpy2DUnaligned(const GDL_CUDA_MEMCPY2D_v1 *p);
CUresult cuMemcpy2DAsync(const GDL_CUDA_MEMCPY2D_v1 *p, CUstream s);
CUresult cuMemcpy3D(const GDL_CUDA_MEMCPY3D_v1 *p);
CUresult cuMemcpy3DAsync(const GDL_CUDA_MEMCPY3D_v1 *p, CUstream s);
/* Wrapped: CUDA 11's graph instantiation and update */
CUresult cuGraphInstantiate(CUgraphExec *exec, CUgraph graph, CUgraphNode *err,
			    char *log, size_t len);
CUresult cuGraphInstantiate_v2(CUgraphExec *exec, CUgraph graph,
			       CUgraphNode *err, char *log, size_t len);
CUresult cuGraphExecUpdate(CUgraphExec exec, CUgraph graph, CUgraphNode *err,
			   CUgraphExecUpdateResult *result);
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
			  cuuint64_t flags);
CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
			     cuuint64_t flags,
			     CUdriverProcAddressQueryResult *status);
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *mem);
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev, nvmlMemory_v2_t *mem);
nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t dev,
					 nvmlBAR1Memory_t *bar1);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t dev,
						  unsigned int *count,
						  nvmlProcessInfo_v1_t *infos);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t dev,
						     unsigned int *count,
						     nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t dev,
						     unsigned int *count,
						     nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t dev,
						      unsigned int *count,
						      nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v3(nvmlDevice_t dev,
							unsigned int *count,
							nvmlProcessInfo_t *infos);

/* The interposer's list of wrapped symbols (for the tests). */
unsigned int gdlcuda_wrapped(const char *const **names);

/* Called by the interposer, provided by the test double */
CUresult cuInit(unsigned int flags);
CUresult cuDriverGetVersion(int *version);
CUresult cuDeviceGet(CUdevice *dev, int ordinal);
CUresult cuDeviceGetCount(int *count);
CUresult cuDeviceGetPCIBusId(char *buf, int len, CUdevice dev);
CUresult cuCtxGetDevice(CUdevice *dev);
CUresult cuCtxGetCurrent(CUcontext *ctx);
CUresult cuCtxSetCurrent(CUcontext ctx);
CUresult cuCtxPushCurrent_v2(CUcontext ctx);
CUresult cuCtxPopCurrent_v2(CUcontext *ctx);
CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size,
				 CUdeviceptr p);
CUresult cuIpcCloseMemHandle(CUdeviceptr p);
CUresult cuMemFreeHost(void *p);
CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t alignment,
			     CUdeviceptr addr, unsigned long long flags);
CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size);
CUresult cuDeviceGetMemPool(CUmemoryPool *pool, CUdevice dev);
CUresult cuPointerGetAttribute(void *data, CUpointer_attribute attr,
			       CUdeviceptr ptr);
CUresult cuGraphCreate(CUgraph *graph, unsigned int flags);
CUresult cuCtxGetLimit(size_t *value, CUlimit limit);
CUresult cuModuleUnload(CUmodule module);
CUresult cuLibraryUnload(CUlibrary library);
nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id,
					      nvmlDevice_t *dev);
CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle,
				     void *addr);
CUresult cuMemGetAllocationPropertiesFromHandle(CUmemAllocationProp *prop,
						CUmemGenericAllocationHandle handle);
CUresult cuGraphDestroy(CUgraph graph);
CUresult cuGraphAddMemAllocNode(CUgraphNode *node, CUgraph graph,
				const CUgraphNode *deps, size_t ndeps,
				CUDA_MEM_ALLOC_NODE_PARAMS *params);
CUresult cuGraphGetNodes(CUgraph graph, CUgraphNode *nodes, size_t *n);
CUresult cuGraphAddChildGraphNode(CUgraphNode *node, CUgraph graph,
				  const CUgraphNode *deps, size_t ndeps,
				  CUgraph child);
CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode node, CUgraph *graph);
CUresult cuMulticastCreate(CUmemGenericAllocationHandle *mc,
			   const CUmulticastObjectProp *prop);
CUresult cuMulticastAddDevice(CUmemGenericAllocationHandle mc, CUdevice dev);
CUresult cuGraphNodeGetType(CUgraphNode node, CUgraphNodeType *type);
CUresult cuGraphMemAllocNodeGetParams(CUgraphNode node,
				      CUDA_MEM_ALLOC_NODE_PARAMS *params);
CUresult cuDeviceGetGraphMemAttribute(CUdevice dev, CUgraphMem_attribute attr,
				      void *value);
CUresult cuMemPoolExportPointer(CUmemPoolPtrExportData *shareData,
				CUdeviceptr ptr);
CUresult cuDeviceGetDefaultMemPool(CUmemoryPool *pool, CUdevice dev);
CUresult cuMemPoolGetAttribute(CUmemoryPool pool, CUmemPool_attribute attr,
			       void *value);
CUresult cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attr,
			       void *value);
CUresult cuMemHostUnregister(void *p);
CUresult cuStreamCreate(CUstream *stream, unsigned int flags);
CUresult cuCtxSynchronize(void);
CUresult cuCtxSynchronize_v2(CUcontext ctx);
CUresult cuCheckpointProcessRestore(int pid, CUcheckpointRestoreArgs *args);
CUresult cuStreamSynchronize(CUstream stream);
CUresult cuStreamSynchronize_ptsz(CUstream stream);
CUresult cuStreamDestroy_v2(CUstream stream);
CUresult cuStreamGetCtx(CUstream stream, CUcontext *ctx);
CUresult cuStreamBeginCapture_v2(CUstream stream, CUstreamCaptureMode mode);
CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph);
CUresult cuStreamIsCapturing(CUstream stream, CUstreamCaptureStatus *status);
CUresult cuStreamGetCaptureInfo_v2(CUstream stream,
				   CUstreamCaptureStatus *status,
				   cuuint64_t *id, CUgraph *graph,
				   const CUgraphNode **deps, size_t *ndeps);
nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index,
					   nvmlDevice_t *dev);
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *pci);

#endif /* GDL_CUDA_API_H */

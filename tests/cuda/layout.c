// SPDX-License-Identifier: GPL-2.0
/*
 * Sizes, offsets and values of the CUDA declarations the interposer uses,
 * printed; tests/cuda/coverage.sh builds it against utils/cuda/cuda_types.h
 * and against the toolkit's cuda.h (-DGDL_CUDA_REAL_HEADERS) and compares.
 */
#include <stddef.h>
#include <stdio.h>

#include "cuda_types.h"

#define S(t) printf("sizeof(%s) %zu\n", #t, sizeof(t))
#define O(t, f) printf("offsetof(%s, %s) %zu\n", #t, #f, offsetof(t, f))
#define V(v) printf("%s %lld\n", #v, (long long)(v))

int main(void)
{
	S(CUmemLocation);
	S(CUcheckpointGpuPair);
	S(CUcheckpointRestoreArgs);
	O(CUcheckpointRestoreArgs, gpuPairsCount);
	O(CUcheckpointRestoreArgs, reserved1);
	S(CUmemAllocationProp);
	O(CUmemAllocationProp, location);
	O(CUmemAllocationProp, win32HandleMetaData);
	O(CUmemAllocationProp, allocFlags);
	S(CUmemPoolProps);
	O(CUmemPoolProps, location);
	O(CUmemPoolProps, maxSize);
	O(CUmemPoolProps, usage);
	S(CUDA_ARRAY_DESCRIPTOR);
	S(CUDA_ARRAY3D_DESCRIPTOR);
	O(CUDA_ARRAY3D_DESCRIPTOR, Format);
	O(CUDA_ARRAY3D_DESCRIPTOR, Flags);
	S(CUipcMemHandle);
	S(GDL_CUDA_ARRAY_DESCRIPTOR_v1);
	S(GDL_CUDA_ARRAY3D_DESCRIPTOR_v1);
	O(GDL_CUDA_ARRAY3D_DESCRIPTOR_v1, Format);
	O(GDL_CUDA_ARRAY3D_DESCRIPTOR_v1, Flags);
	S(CUmemAccessDesc);
	O(CUmemAccessDesc, flags);
	S(CUmemPoolPtrExportData);
	S(CUDA_MEMCPY2D);
	O(CUDA_MEMCPY2D, srcMemoryType);
	O(CUDA_MEMCPY2D, srcDevice);
	O(CUDA_MEMCPY2D, dstMemoryType);
	O(CUDA_MEMCPY2D, dstDevice);
	S(CUDA_MEMCPY3D);
	O(CUDA_MEMCPY3D, srcMemoryType);
	O(CUDA_MEMCPY3D, srcDevice);
	O(CUDA_MEMCPY3D, dstMemoryType);
	O(CUDA_MEMCPY3D, dstDevice);
	V(CU_MEMORYTYPE_UNIFIED);
	S(CUDA_MEMCPY3D_PEER);
	O(CUDA_MEMCPY3D_PEER, srcContext);
	O(CUDA_MEMCPY3D_PEER, dstContext);
	O(CUDA_MEMCPY3D_PEER, Depth);
	S(CUDA_MEM_ALLOC_NODE_PARAMS);
	O(CUDA_MEM_ALLOC_NODE_PARAMS, bytesize);
	O(CUDA_MEM_ALLOC_NODE_PARAMS, dptr);
	S(CUDA_GRAPH_INSTANTIATE_PARAMS);
	O(CUDA_GRAPH_INSTANTIATE_PARAMS, hUploadStream);
	O(CUDA_GRAPH_INSTANTIATE_PARAMS, result_out);
	V(CU_GRAPH_NODE_TYPE_MEM_ALLOC);
	V(CU_GRAPH_MEM_ATTR_USED_MEM_CURRENT);
	V(CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT);
	V(CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD);
	V(CU_LIMIT_STACK_SIZE);
	V(CU_LIMIT_MALLOC_HEAP_SIZE);
	V(CU_POINTER_ATTRIBUTE_MEMORY_TYPE);
	V(CU_POINTER_ATTRIBUTE_IS_MANAGED);
	V(CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL);
	V(CU_MEMORYTYPE_DEVICE);
	V(CU_MEM_ACCESS_FLAGS_PROT_NONE);
	V(CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
	V(CUDA_ERROR_OUT_OF_MEMORY);
	V(CUDA_ERROR_NOT_INITIALIZED);
	V(CUDA_ERROR_INVALID_VALUE);
	V(CUDA_ERROR_INVALID_CONTEXT);
	V(CUDA_ERROR_PEER_ACCESS_UNSUPPORTED);
	V(CUDA_ERROR_NOT_PERMITTED);
	V(CUDA_ERROR_NOT_SUPPORTED);
	V(CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
	V(CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
	V(CU_MEMHOSTREGISTER_IOMEMORY);
	V(CU_MEM_LOCATION_TYPE_DEVICE);
	V(CU_MEM_LOCATION_TYPE_HOST_NUMA);
	V(CU_MEMPOOL_ATTR_RELEASE_THRESHOLD);
	V(CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT);
	V(CU_MEMPOOL_ATTR_USED_MEM_CURRENT);
	V(CU_AD_FORMAT_HALF);
	V(CU_AD_FORMAT_FLOAT);
	V(CUDA_ARRAY3D_LAYERED);
	V(CUDA_ARRAY3D_CUBEMAP);
	S(CUarrayMapInfo);
	O(CUarrayMapInfo, resource);
	O(CUarrayMapInfo, subresourceType);
	O(CUarrayMapInfo, subresource.sparseLevel.extentDepth);
	O(CUarrayMapInfo, subresource.miptail.offset);
	O(CUarrayMapInfo, subresource.miptail.size);
	O(CUarrayMapInfo, memOperationType);
	O(CUarrayMapInfo, memHandleType);
	O(CUarrayMapInfo, memHandle.memHandle);
	O(CUarrayMapInfo, deviceBitMask);
	V(CU_RESOURCE_TYPE_MIPMAPPED_ARRAY);
	V(CU_ARRAY_SPARSE_SUBRESOURCE_TYPE_MIPTAIL);
	V(CU_MEM_OPERATION_TYPE_MAP);
	V(CU_MEM_OPERATION_TYPE_UNMAP);
	V(CU_MEM_HANDLE_TYPE_GENERIC);
	V(CUDA_ARRAY3D_SPARSE);
	V(CUDA_ARRAY3D_DEFERRED_MAPPING);
	S(CUmemcpy3DOperand);
	O(CUmemcpy3DOperand, op.ptr.ptr);
	O(CUmemcpy3DOperand, op.array.array);
	S(CUDA_MEMCPY3D_BATCH_OP);
	O(CUDA_MEMCPY3D_BATCH_OP, dst);
	O(CUDA_MEMCPY3D_BATCH_OP, extent);
	O(CUDA_MEMCPY3D_BATCH_OP, flags);
	V(CU_MEMCPY_OPERAND_TYPE_POINTER);
	V(CU_MEMCPY_OPERAND_TYPE_ARRAY);
	S(CUDA_MEMCPY_NODE_PARAMS);
	O(CUDA_MEMCPY_NODE_PARAMS, copyCtx);
	O(CUDA_MEMCPY_NODE_PARAMS, copyParams);
	S(CUgraphNodeParams);
	O(CUgraphNodeParams, memcpy);
	O(CUgraphNodeParams, reserved2);
	V(CU_GRAPH_NODE_TYPE_MEMCPY);
	V(CU_GRAPH_NODE_TYPE_GRAPH);
	O(CUgraphNodeParams, graph.graph);
	O(CUgraphNodeParams, graph.ownership);
	S(CUDA_CHILD_GRAPH_NODE_PARAMS);
	V(CU_GRAPH_CHILD_GRAPH_OWNERSHIP_MOVE);
	S(CUgraphExecUpdateResultInfo);
	O(CUgraphExecUpdateResultInfo, errorFromNode);
	S(CUDA_EXTERNAL_MEMORY_HANDLE_DESC);
	O(CUDA_EXTERNAL_MEMORY_HANDLE_DESC, handle);
	O(CUDA_EXTERNAL_MEMORY_HANDLE_DESC, size);
	O(CUDA_EXTERNAL_MEMORY_HANDLE_DESC, flags);
	V(CU_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD);
	S(CUmulticastObjectProp);
	O(CUmulticastObjectProp, size);
	O(CUmulticastObjectProp, flags);
	return 0;
}

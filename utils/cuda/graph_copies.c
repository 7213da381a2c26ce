// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Copy nodes of graphs: a graph replays its copies at every launch, so a
 * copy between two devices is checked where its parameters enter the
 * graph (added, or set on a graph or an executable graph), with the
 * same rule as a direct copy (copies.c).  Copies captured from a stream
 * were checked by the copy call itself; cloned, updated and child graphs
 * carry nodes that were checked when they were added.
 */
#include "gdl_cuda.h"

/* A node of any type: only copy nodes are looked at. */
static CUresult node_check(const CUgraphNodeParams *p)
{
	if (!p || p->type != CU_GRAPH_NODE_TYPE_MEMCPY)
		return CUDA_SUCCESS;
	return gdlc_copy3d_check(&p->memcpy.copyParams);
}

EXPORT CUresult cuGraphAddMemcpyNode(CUgraphNode *node, CUgraph graph,
				     const CUgraphNode *deps, size_t ndeps,
				     const CUDA_MEMCPY3D *copy, CUcontext ctx)
{
	__typeof__(cuGraphAddMemcpyNode) *f = REAL(cuGraphAddMemcpyNode);
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_copy3d_check(copy);
	return e ? e : f(node, graph, deps, ndeps, copy, ctx);
}

EXPORT CUresult cuGraphMemcpyNodeSetParams(CUgraphNode node,
					   const CUDA_MEMCPY3D *copy)
{
	__typeof__(cuGraphMemcpyNodeSetParams) *f =
		REAL(cuGraphMemcpyNodeSetParams);
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_copy3d_check(copy);
	return e ? e : f(node, copy);
}

EXPORT CUresult cuGraphExecMemcpyNodeSetParams(CUgraphExec exec,
					       CUgraphNode node,
					       const CUDA_MEMCPY3D *copy,
					       CUcontext ctx)
{
	__typeof__(cuGraphExecMemcpyNodeSetParams) *f =
		REAL(cuGraphExecMemcpyNodeSetParams);
	CUresult e;

	CHECK_REAL(f);
	e = gdlc_copy3d_check(copy);
	return e ? e : f(exec, node, copy, ctx);
}

/* CUDA 12.2's version, without edge data. */
EXPORT CUresult cuGraphAddNode(CUgraphNode *node, CUgraph graph,
			       const CUgraphNode *deps, size_t ndeps,
			       CUgraphNodeParams *params)
{
	__typeof__(cuGraphAddNode) *f = REAL(cuGraphAddNode);
	CUresult e;

	CHECK_REAL(f);
	e = node_check(params);
	return e ? e : f(node, graph, deps, ndeps, params);
}

EXPORT CUresult cuGraphAddNode_v2(CUgraphNode *node, CUgraph graph,
				  const CUgraphNode *deps,
				  const CUgraphEdgeData *edges, size_t ndeps,
				  CUgraphNodeParams *params)
{
	__typeof__(cuGraphAddNode_v2) *f = REAL(cuGraphAddNode_v2);
	CUresult e;

	CHECK_REAL(f);
	e = node_check(params);
	return e ? e : f(node, graph, deps, edges, ndeps, params);
}

EXPORT CUresult cuGraphNodeSetParams(CUgraphNode node,
				     CUgraphNodeParams *params)
{
	__typeof__(cuGraphNodeSetParams) *f = REAL(cuGraphNodeSetParams);
	CUresult e;

	CHECK_REAL(f);
	e = node_check(params);
	return e ? e : f(node, params);
}

EXPORT CUresult cuGraphExecNodeSetParams(CUgraphExec exec, CUgraphNode node,
					 CUgraphNodeParams *params)
{
	__typeof__(cuGraphExecNodeSetParams) *f = REAL(cuGraphExecNodeSetParams);
	CUresult e;

	CHECK_REAL(f);
	e = node_check(params);
	return e ? e : f(exec, node, params);
}

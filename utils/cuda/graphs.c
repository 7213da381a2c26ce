// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Graph memory.  A graph's memory-allocation nodes (cuGraphAddMemAllocNode,
 * or cuMemAllocAsync captured into the graph) allocate when the graph is
 * launched or uploaded, from the device's graph memory, and the device
 * keeps that memory after the graph finishes, until cuDeviceGraphMemTrim.
 * So each device carries the charges for its graph memory, settled
 * against the driver's CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT; an
 * executable graph's allocation bytes per device are summed at
 * instantiation (child graphs' included) and again at an update; a launch or upload is charged those bytes first (unless
 * the device's graph memory already charged and unused can hold them) and
 * refused with CUDA_ERROR_OUT_OF_MEMORY past the quota, then settled.
 * The driver grows a device's graph memory in granules larger than the
 * nodes (issue 23, item 10): after a launch the device's charges are
 * topped up to what it then reserves, as pools are.  A launch cannot be
 * undone, so a top-up the quota refuses is logged, and every later
 * launch on that device is refused until the excess is charged or
 * trimmed (each launch first tops up to the reserved figure): a tenant
 * can overrun its quota by one granule at most.
 * One mutex covers it, held across the launch so that two launches
 * cannot both count on the same unused memory.
 */
#include <pthread.h>
#include <stdlib.h>

#include "gdl_cuda.h"

HELPER(cuGraphGetNodes)
HELPER(cuGraphNodeGetType)
HELPER(cuGraphMemAllocNodeGetParams)
HELPER(cuDeviceGetGraphMemAttribute)
HELPER(cuGraphChildGraphNodeGetGraph)

struct exec_mem {
	uint64_t bytes[MAX_CUDA_DEVICES];	/* allocation nodes, per device */
};

static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gdlc_charges graph_charges[MAX_CUDA_DEVICES];
static struct gdl_map exec_map;	/* CUgraphExec -> struct exec_mem * */

static uint64_t graph_attr(CUdevice dev, CUgraphMem_attribute a, uint64_t dflt)
{
	__typeof__(cuDeviceGetGraphMemAttribute) *f = h_cuDeviceGetGraphMemAttribute();
	cuuint64_t v;

	return f && !f(dev, a, &v) ? v : dflt;
}

/*
 * Add @graph's allocation bytes per device to *@m (allocated on the
 * first); a child graph node's graph counts as part of its parent's
 * (a graph with memory nodes can only be a child when its ownership
 * moved to the parent, so it is instantiated and launched with it).
 * Nesting deeper than the driver could build is not followed.
 */
#define MAX_GRAPH_DEPTH 64
static void graph_add_bytes(CUgraph graph, struct exec_mem **m, int depth)
{
	__typeof__(cuGraphGetNodes) *nodes = h_cuGraphGetNodes();
	__typeof__(cuGraphNodeGetType) *type = h_cuGraphNodeGetType();
	__typeof__(cuGraphMemAllocNodeGetParams) *params =
		h_cuGraphMemAllocNodeGetParams();
	__typeof__(cuGraphChildGraphNodeGetGraph) *child =
		h_cuGraphChildGraphNodeGetGraph();
	CUgraphNode *list;
	size_t n = 0, i;

	if (!nodes || !type || !params || depth > MAX_GRAPH_DEPTH ||
	    nodes(graph, NULL, &n) || !n)
		return;
	list = calloc(n, sizeof(*list));
	if (!list || nodes(graph, list, &n))
		goto out;
	for (i = 0; i < n; i++) {
		CUDA_MEM_ALLOC_NODE_PARAMS p;
		CUgraphNodeType t;
		CUgraph g;
		int dev;

		if (type(list[i], &t))
			continue;
		if (t == CU_GRAPH_NODE_TYPE_GRAPH) {
			if (child && !child(list[i], &g))
				graph_add_bytes(g, m, depth + 1);
			continue;
		}
		if (t != CU_GRAPH_NODE_TYPE_MEM_ALLOC || params(list[i], &p) ||
		    p.poolProps.location.type != CU_MEM_LOCATION_TYPE_DEVICE)
			continue;
		dev = p.poolProps.location.id;
		if (dev < 0 || dev >= MAX_CUDA_DEVICES)
			continue;
		if (!*m)
			*m = calloc(1, sizeof(**m));
		if (!*m)
			break;
		if (__builtin_add_overflow((*m)->bytes[dev], p.bytesize,
					   &(*m)->bytes[dev]))
			(*m)->bytes[dev] = UINT64_MAX;
	}
out:
	free(list);
}

/* The allocation bytes of @graph's nodes per device, or NULL for none. */
static struct exec_mem *graph_bytes(CUgraph graph)
{
	struct exec_mem *m = NULL;

	graph_add_bytes(graph, &m, 0);
	return m;
}

/*
 * Remember what launching @exec takes: @graph's allocation bytes, which
 * replace what it took before (an instantiation over an executable
 * destroyed behind our back, or an update).
 */
static void exec_set(CUgraphExec exec, CUgraph graph)
{
	struct exec_mem *m = graph_bytes(graph);
	uint64_t old;

	pthread_mutex_lock(&graph_lock);
	if (!m) {
		if (!gdl_map_take(&exec_map, (uintptr_t)exec, &old))
			free((void *)(uintptr_t)old);
		pthread_mutex_unlock(&graph_lock);
		return;
	}
	switch (gdl_map_put(&exec_map, (uintptr_t)exec, (uintptr_t)m, &old)) {
	case 1:
		free((void *)(uintptr_t)old);
		break;
	case 0:
		break;
	default:
		free(m);
		gdlc_say(1, "out of memory tracking a graph: its memory is not charged");
	}
	pthread_mutex_unlock(&graph_lock);
}

/* After a successful instantiation: remember what launching it takes. */
static CUresult instantiated(CUresult e, CUgraphExec *exec, CUgraph graph)
{
	if (!e && exec)
		exec_set(*exec, graph);
	return e;
}

/*
 * With graph_lock held, after a launch: charge what each device @m
 * touches now reserves beyond its charges (the driver's granules).
 */
static void top_up(const struct exec_mem *m)
{
	int d;

	for (d = 0; d < MAX_CUDA_DEVICES; d++)
		if (m->bytes[d] &&
		    gdlc_charges_top_up(&graph_charges[d], d,
				graph_attr(d, CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT, 0)))
			gdlc_say(1, "device %d's graph memory grew past the quota at a launch: its graph launches are refused until it is trimmed", d);
}

/* With graph_lock held: settle every device @m touches. */
static void settle(const struct exec_mem *m)
{
	int d;

	for (d = 0; d < MAX_CUDA_DEVICES; d++)
		if (!m || m->bytes[d] || graph_charges[d].nr)
			gdlc_charges_settle(&graph_charges[d],
				graph_attr(d, CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT,
					   graph_charges[d].charged));
}

/*
 * With graph_lock held, before a launch: charge each device's bytes, or
 * count on graph memory already charged and unused.  0, or -1 refused.
 */
static int charge(const struct exec_mem *m)
{
	int d;

	for (d = 0; d < MAX_CUDA_DEVICES; d++) {
		struct gdlc_charges *c = &graph_charges[d];
		uint64_t used, need;

		if (!m->bytes[d])
			continue;
		/* Growth an earlier launch could not be charged for, first. */
		if (gdlc_charges_top_up(c, d,
				graph_attr(d, CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT, 0)))
			return -1;
		used = graph_attr(d, CU_GRAPH_MEM_ATTR_USED_MEM_CURRENT, 0);
		if (__builtin_add_overflow(used, m->bytes[d], &need))
			return -1;
		if (need <= c->charged)
			continue;
		if (__builtin_add_overflow(c->charged, m->bytes[d], &need) ||
		    gdlc_charges_top_up(c, d, need))
			return -1;
	}
	return 0;
}

static CUresult launch(CUresult (*f)(CUgraphExec, CUstream), CUgraphExec exec,
		       CUstream s)
{
	struct exec_mem *m;
	uint64_t v;
	CUresult e;

	CHECK_REAL(f);
	pthread_mutex_lock(&graph_lock);
	if (gdl_map_get(&exec_map, (uintptr_t)exec, &v)) {
		pthread_mutex_unlock(&graph_lock);
		return f(exec, s);
	}
	m = (struct exec_mem *)(uintptr_t)v;
	if (charge(m)) {
		settle(m);
		pthread_mutex_unlock(&graph_lock);
		gdlc_say(2, "graph launch refused: its memory is over the quota");
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	e = f(exec, s);
	if (!e)
		top_up(m);
	settle(m);
	pthread_mutex_unlock(&graph_lock);
	return e;
}

EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph,
					    unsigned long long flags)
{
	__typeof__(cuGraphInstantiateWithFlags) *f = REAL(cuGraphInstantiateWithFlags);

	CHECK_REAL(f);
	return instantiated(f(exec, graph, flags), exec, graph);
}

/* CUDA 11's (the 5-argument form, by its legacy name and as _v2). */
EXPORT CUresult cuGraphInstantiate(CUgraphExec *exec, CUgraph graph,
				   CUgraphNode *err, char *log, size_t len)
{
	__typeof__(cuGraphInstantiate) *f = REAL(cuGraphInstantiate);

	CHECK_REAL(f);
	return instantiated(f(exec, graph, err, log, len), exec, graph);
}

EXPORT CUresult cuGraphInstantiate_v2(CUgraphExec *exec, CUgraph graph,
				      CUgraphNode *err, char *log, size_t len)
{
	__typeof__(cuGraphInstantiate_v2) *f = REAL(cuGraphInstantiate_v2);

	CHECK_REAL(f);
	return instantiated(f(exec, graph, err, log, len), exec, graph);
}

/*
 * An executable updated from another graph launches that graph's
 * allocations from then on: its bytes are recomputed (the device's
 * graph memory already charged stays, settled at the next launch).
 */
static CUresult updated(CUresult e, CUgraphExec exec, CUgraph graph)
{
	if (!e)
		exec_set(exec, graph);
	return e;
}

EXPORT CUresult cuGraphExecUpdate_v2(CUgraphExec exec, CUgraph graph,
				     CUgraphExecUpdateResultInfo *info)
{
	__typeof__(cuGraphExecUpdate_v2) *f = REAL(cuGraphExecUpdate_v2);

	CHECK_REAL(f);
	return updated(f(exec, graph, info), exec, graph);
}

EXPORT CUresult cuGraphExecUpdate(CUgraphExec exec, CUgraph graph,
				  CUgraphNode *err,
				  CUgraphExecUpdateResult *result)
{
	__typeof__(cuGraphExecUpdate) *f = REAL(cuGraphExecUpdate);

	CHECK_REAL(f);
	return updated(f(exec, graph, err, result), exec, graph);
}

/* With CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD it uploads: charged as one. */
static CUresult instantiate_params(__typeof__(cuGraphInstantiateWithParams) *f,
				   CUresult (*upload)(CUgraphExec, CUstream),
				   CUgraphExec *exec, CUgraph graph,
				   CUDA_GRAPH_INSTANTIATE_PARAMS *p)
{
	CUDA_GRAPH_INSTANTIATE_PARAMS q;
	CUresult e;

	CHECK_REAL(f);
	if (!p || !(p->flags & CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD))
		return instantiated(f(exec, graph, p), exec, graph);
	/* Instantiate without the upload, then upload through launch(). */
	q = *p;
	q.flags &= ~(cuuint64_t)CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD;
	e = instantiated(f(exec, graph, &q), exec, graph);
	p->hErrNode_out = q.hErrNode_out;
	p->result_out = q.result_out;
	return e ? e : launch(upload, *exec, p->hUploadStream);
}

EXPORT CUresult cuGraphInstantiateWithParams(CUgraphExec *exec, CUgraph graph,
					     CUDA_GRAPH_INSTANTIATE_PARAMS *p)
{
	return instantiate_params(REAL(cuGraphInstantiateWithParams),
				  REAL(cuGraphUpload), exec, graph, p);
}

EXPORT CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec *exec,
						  CUgraph graph,
						  CUDA_GRAPH_INSTANTIATE_PARAMS *p)
{
	return instantiate_params(REAL(cuGraphInstantiateWithParams_ptsz),
				  REAL(cuGraphUpload_ptsz), exec, graph, p);
}

EXPORT CUresult cuGraphLaunch(CUgraphExec exec, CUstream s)
{
	return launch(REAL(cuGraphLaunch), exec, s);
}

EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec exec, CUstream s)
{
	return launch(REAL(cuGraphLaunch_ptsz), exec, s);
}

EXPORT CUresult cuGraphUpload(CUgraphExec exec, CUstream s)
{
	return launch(REAL(cuGraphUpload), exec, s);
}

EXPORT CUresult cuGraphUpload_ptsz(CUgraphExec exec, CUstream s)
{
	return launch(REAL(cuGraphUpload_ptsz), exec, s);
}

EXPORT CUresult cuGraphExecDestroy(CUgraphExec exec)
{
	__typeof__(cuGraphExecDestroy) *f = REAL(cuGraphExecDestroy);
	uint64_t v;
	CUresult e;

	CHECK_REAL(f);
	e = f(exec);
	pthread_mutex_lock(&graph_lock);
	if (!e && !gdl_map_take(&exec_map, (uintptr_t)exec, &v))
		free((void *)(uintptr_t)v);
	pthread_mutex_unlock(&graph_lock);
	return e;
}

/* The device gives its unused graph memory back: so do its charges. */
EXPORT CUresult cuDeviceGraphMemTrim(CUdevice dev)
{
	__typeof__(cuDeviceGraphMemTrim) *f = REAL(cuDeviceGraphMemTrim);
	CUresult e;

	CHECK_REAL(f);
	e = f(dev);
	if (!e && dev >= 0 && dev < MAX_CUDA_DEVICES) {
		pthread_mutex_lock(&graph_lock);
		gdlc_charges_settle(&graph_charges[dev],
			graph_attr(dev, CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT,
				   graph_charges[dev].charged));
		pthread_mutex_unlock(&graph_lock);
	}
	return e;
}

void gdlc_graphs_lock_all(void)
{
	pthread_mutex_lock(&graph_lock);
	gdl_map_lock_all(&exec_map);
}

void gdlc_graphs_unlock_all(void)
{
	gdl_map_unlock_all(&exec_map);
	pthread_mutex_unlock(&graph_lock);
}

/* A fork child: the parent's charges are not its own. */
void gdlc_graphs_forget(void)
{
	gdl_map_clear(&exec_map);
	memset(graph_charges, 0, sizeof(graph_charges));
}

void gdlc_graphs_init(void)
{
	gdl_map_init(&exec_map);
}

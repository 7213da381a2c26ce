/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interface of libgpudmalock-cuda.so, shared by its files:
 *   symbols.c   the real entry points, cuGetProcAddress and dlsym
 *   config.c    the admin's configuration file, the environment, logging
 *   ledger.c    the open ledger file, CUDA device -> module device
 *   alloc.c     linear allocations and their frees
 *   vmm.c       cuMemCreate / cuMemMap / cuMemUnmap / cuMemRelease
 *   pools.c     stream-ordered allocations, charged as their pools hold
 *   charges.c   charging: reservations, the object -> reservation maps,
 *               sets of charges settled against a driver's figure, the
 *               footprint's reconciliation
 *   graphs.c    graph memory, charged at launch and upload
 *   footprint.c the driver's own memory for the process, from NVML,
 *               and when to measure it
 *   modules.c   module loads and context limits (the footprint grows)
 *   arrays.c    CUDA arrays, charged from their descriptors
 *   meminfo.c   memory queries answered with the quota
 *   nvml_procs.c NVML's process lists, limited to the caller's cgroup
 *   contexts.c  contexts and the driver's own footprint
 *   dma.c       peer access, IPC and host-memory checks
 *   shared.c    memory shared between processes (module ABI 1.3)
 *   copies.c    copies between devices
 *   graph_copies.c copy nodes of graphs, checked as copies
 *   extmem.c    external memory (Vulkan, D3D) imported into CUDA
 *   multicast.c multicast bindings hold their VMM handles
 *   sparse.c    sparse arrays' tiles mapped onto VMM handles
 *   legacy.c    the pre-3.2 exported names that are refused
 *   process.c   fork and the constructor
 * The files' calls form no circle: ledger.c and footprint.c stand below
 * charges.c, which every file that charges calls (tests/cuda/deps.sh).
 * Nothing here leaves the library (-fvisibility=hidden).
 */
#ifndef GDL_CUDA_H
#define GDL_CUDA_H

#include <stdint.h>
#include <string.h>

#include "gpudmalock.h"
#include "cuda_api.h"
#include "handle_map.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_CUDA_DEVICES 64

/* ---- symbols.c ---- */

enum {
#define X(sym, base, ptsz, lib) IDX_##sym,
	GDL_CUDA_WRAPPED(X)
#undef X
	NR_WRAPPED
};

struct gdlc_wrapped {
	const char *name;
	const char *base;
	int per_thread;
	int lib;
	void *wrapper;
};

extern const struct gdlc_wrapped gdlc_wrapped[NR_WRAPPED];

void *gdlc_real_fn(int idx);
void *gdlc_lib_sym(int lib, const char *name);
void gdlc_symbols_init(void);
/* legacy.c: 1 for an entry point whose ABI is refused. */
int gdlc_refused_abi(int idx);

#define REAL(sym) ((__typeof__(sym) *)gdlc_real_fn(IDX_##sym))

/* Driver functions we call but do not wrap, cached the same way. */
#define HELPER(sym)							\
	static __typeof__(sym) *h_##sym(void)				\
	{								\
		static void *p;						\
		void *v = __atomic_load_n(&p, __ATOMIC_ACQUIRE);	\
		if (!v) {						\
			v = gdlc_lib_sym(strncmp(#sym, "nvml", 4) ?	\
					 GDL_LIB_CUDA : GDL_LIB_NVML, #sym); \
			__atomic_store_n(&p, v, __ATOMIC_RELEASE);	\
		}							\
		return (__typeof__(sym) *)v;				\
	}

#define CHECK_REAL(f) do { if (!(f)) return CUDA_ERROR_NOT_INITIALIZED; } while (0)

/* ---- config.c ---- */

extern int gdlc_log_level;	/* 0 quiet, 1 warnings, 2 each refusal */
extern int gdlc_fail_open;	/* admin's fail = open, not tightened */
/* The admin's configuration file (config.c). */
#ifndef GDL_CUDA_CONF_PATH
#define GDL_CUDA_CONF_PATH "/etc/gpu-dma-lock/cuda.conf"
#endif
extern uint64_t gdlc_ctx_reserve;

void gdlc_say(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gdlc_config_init(void);

/* ---- ledger.c ---- */

struct gdlock *gdlc_ledger(void);
int gdlc_unaccounted(void);
void gdlc_ledger_failed(int err, int release);
int gdlc_module_index(CUdevice dev);
int gdlc_module_index_by_bus_id(const char *bus_id);
CUresult gdlc_current_device(CUdevice *dev);
CUresult gdlc_context_device(CUcontext ctx, CUdevice *dev);
int gdlc_ledger_host_pid(unsigned int *pid);
void gdlc_ledger_lock_all(void);
void gdlc_ledger_unlock_all(void);
void gdlc_ledger_forget(void);

/* ---- charges.c ---- */

extern struct gdl_map gdlc_ptr_map;	/* CUdeviceptr -> reservation */
extern struct gdl_map gdlc_arr_map;	/* CUarray / CUmipmappedArray -> reservation */
extern struct gdl_map gdlc_ctx_map;	/* CUcontext -> reservation */
extern struct gdl_map gdlc_ext_map;	/* CUexternalMemory -> reservation */

CUresult gdlc_reserve(CUdevice dev, uint64_t size, uint64_t *handle);
CUresult gdlc_reserve_current(uint64_t size, uint64_t *handle);
void gdlc_release(uint64_t handle);
void gdlc_keep(uint64_t handle);
CUresult gdlc_track(struct gdl_map *m, CUresult e, uint64_t key,
		    uint64_t handle);
CUresult gdlc_track_kept(struct gdl_map *m, CUresult e, uint64_t key,
			 uint64_t handle);
uint64_t gdlc_untrack_begin(struct gdl_map *m, uint64_t key, uint64_t *info);
void gdlc_untrack_end(struct gdl_map *m, CUresult e, uint64_t key,
		      uint64_t handle, uint64_t info);
/*
 * A driver call @call that frees the object @key of map @m: the entry is
 * taken before the call and put back if the driver refuses (charges.c).
 */
#define GDLC_FREEING(m, key, call) ({					\
	uint64_t i_, h_ = gdlc_untrack_begin((m), (key), &i_);		\
	CUresult e_ = (call);						\
	gdlc_untrack_end((m), e_, (key), h_, i_);			\
	e_;								\
})

/* ---- alloc.c ---- */

int gdlc_exported_take(CUdeviceptr p);
void gdlc_alloc_lock_all(void);
void gdlc_alloc_unlock_all(void);
void gdlc_alloc_forget(void);
void gdlc_alloc_init(void);

struct gdlc_chunk {
	uint64_t resv, size;
};

struct gdlc_charges {
	struct gdlc_chunk *chunks;
	size_t nr, cap;
	uint64_t charged;	/* sum of the chunks */
};

int gdlc_charges_add(struct gdlc_charges *c, uint64_t resv, uint64_t size);
void gdlc_charges_settle(struct gdlc_charges *c, uint64_t need);
int gdlc_charges_top_up(struct gdlc_charges *c, CUdevice dev, uint64_t need);
void gdlc_charges_drop(struct gdlc_charges *c);
int gdlc_footprint_reconcile(CUdevice dev);
void gdlc_charges_lock_all(void);
void gdlc_charges_unlock_all(void);
void gdlc_charges_forget(void);
void gdlc_charges_init(void);

/* ---- pools.c ---- */

struct gdlc_pool;
struct gdlc_pool *gdlc_pool_untrack_begin(CUdeviceptr p);
void gdlc_pool_untrack_end(struct gdlc_pool *pool, CUresult e, CUdeviceptr p);
void gdlc_pools_settle_device(CUdevice dev);
void gdlc_pools_lock_all(void);
void gdlc_pools_unlock_all(void);
void gdlc_pools_forget(void);
void gdlc_pools_init(void);

/* ---- graphs.c ---- */

void gdlc_graphs_lock_all(void);
void gdlc_graphs_unlock_all(void);
void gdlc_graphs_forget(void);
void gdlc_graphs_init(void);

/* ---- footprint.c ---- */

int64_t gdlc_footprint_used(CUdevice dev);
int gdlc_footprint_due(CUdevice dev);
int gdlc_footprint_sync_due(CUdevice dev);
void gdlc_footprint_owe(CUdevice dev, int owe);
void gdlc_footprint_forget(void);

/* ---- dma.c ---- */

int gdlc_host_dma_allowed(CUdevice dev);
int gdlc_peer_allowed(CUdevice src, CUdevice dst);
int gdlc_range_allowed(CUdevice dev, uint64_t addr, uint64_t len);

/* ---- shared.c ---- */

int gdlc_share_key(uint64_t resv, const void *key, size_t len);
int gdlc_share_fd(uint64_t resv, int fd);
CUresult gdlc_attach_key(const void *key, size_t len, uint64_t *handle);
CUresult gdlc_attach_fd(int fd, uint64_t *handle);
/* gdlc_attach_key(): several agents filed the key (ABI 1.4, ENOTUNIQ). */
#define GDLC_ATTACH_AMBIGUOUS	((CUresult)-2)
CUresult gdlc_attach_key_on(const void *key, size_t len, CUdevice dev,
			    uint64_t *handle);
int gdlc_ipc_open(CUresult (*open)(CUdeviceptr *, CUipcMemHandle, unsigned int),
		  CUdeviceptr *pdptr, CUipcMemHandle hd, unsigned int flags,
		  CUresult *result);
void gdlc_shared_lock_all(void);
void gdlc_shared_unlock_all(void);
void gdlc_shared_forget(void);
void gdlc_shared_init(void);

/* ---- copies.c, arrays.c ---- */

CUresult gdlc_copy3d_check(const CUDA_MEMCPY3D *p);
CUdevice gdlc_array_device(CUarray a);
struct gdlc_reset_arrays;
struct gdlc_reset_arrays *gdlc_arrays_reset_begin(CUcontext ctx);
void gdlc_arrays_reset_end(struct gdlc_reset_arrays *r, CUresult e);
void gdlc_arrays_lock_all(void);
void gdlc_arrays_unlock_all(void);
void gdlc_arrays_forget(void);
void gdlc_arrays_init(void);

/* ---- meminfo.c ---- */

void gdlc_virtualise(int idx, unsigned long long *total,
		     unsigned long long *free);

/* ---- contexts.c, vmm.c: fork and start ---- */

void gdlc_contexts_lock_all(void);
void gdlc_contexts_unlock_all(void);
void gdlc_contexts_forget(void);
void gdlc_vmm_lock_all(void);
void gdlc_vmm_unlock_all(void);
void gdlc_vmm_forget(void);
void gdlc_vmm_init(void);
void *gdlc_vmm_hold(CUmemGenericAllocationHandle handle);
void gdlc_vmm_unhold(void *alloc);

/* ---- multicast.c ---- */

int gdlc_multicast_access(CUmemGenericAllocationHandle mc,
			  const CUmemAccessDesc *desc, size_t count);
void gdlc_multicast_lock_all(void);
void gdlc_multicast_unlock_all(void);
void gdlc_multicast_forget(void);

/* ---- sparse.c ---- */

void *gdlc_sparse_take(uint64_t resource);
void gdlc_sparse_end(void *tiles, CUresult e);
void gdlc_sparse_lock_all(void);
void gdlc_sparse_unlock_all(void);
void gdlc_sparse_forget(void);
void gdlc_sparse_init(void);

#endif /* GDL_CUDA_H */

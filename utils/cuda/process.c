// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Process life: the constructor, and fork.  Every lock is held across
 * fork() so that the child sees whole tables; the child then drops the
 * parent's ledger file and bookkeeping (ledger.c says why).
 */
#include <pthread.h>

#include "gdl_cuda.h"

/*
 * In the order the code nests them: a context, pool or graph lock is held
 * while charging (the footprint's lock, the maps, then the ledger file's
 * state); the VMM lock while releasing.
 */
static void before_fork(void)
{
	gdlc_contexts_lock_all();
	gdlc_pools_lock_all();
	gdlc_graphs_lock_all();
	gdlc_sparse_lock_all();
	gdlc_multicast_lock_all();
	gdlc_arrays_lock_all();
	gdlc_vmm_lock_all();
	gdlc_charges_lock_all();
	gdlc_ledger_lock_all();
	gdlc_alloc_lock_all();
	gdlc_shared_lock_all();
}

static void after_fork_parent(void)
{
	gdlc_shared_unlock_all();
	gdlc_alloc_unlock_all();
	gdlc_ledger_unlock_all();
	gdlc_charges_unlock_all();
	gdlc_vmm_unlock_all();
	gdlc_arrays_unlock_all();
	gdlc_multicast_unlock_all();
	gdlc_sparse_unlock_all();
	gdlc_graphs_unlock_all();
	gdlc_pools_unlock_all();
	gdlc_contexts_unlock_all();
}

static void after_fork_child(void)
{
	after_fork_parent();
	gdlc_ledger_forget();
	gdlc_charges_forget();
	gdlc_alloc_forget();
	gdlc_shared_forget();
	gdlc_vmm_forget();
	gdlc_sparse_forget();
	gdlc_multicast_forget();
	gdlc_arrays_forget();
	gdlc_pools_forget();
	gdlc_graphs_forget();
	gdlc_footprint_forget();
	gdlc_contexts_forget();
}

__attribute__((constructor)) static void gdl_cuda_init(void)
{
	gdlc_config_init();
	gdlc_charges_init();
	gdlc_alloc_init();
	gdlc_shared_init();
	gdlc_vmm_init();
	gdlc_sparse_init();
	gdlc_arrays_init();
	gdlc_pools_init();
	gdlc_graphs_init();
	gdlc_symbols_init();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

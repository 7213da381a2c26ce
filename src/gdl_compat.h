/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ledger core (gdl_core.c, gdl_acl.c, gdl_stats.c) is built twice: into
 * the kernel module and, unchanged, into the userspace unit tests and the
 * native benchmark.  This header is the only place that knows which.  The
 * userspace side lives with the tests (tests/unit/compat/) and is never
 * shipped.
 */
#ifndef GDL_COMPAT_H
#define GDL_COMPAT_H

#ifdef __KERNEL__

#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/rbtree.h>
#include <linux/rcupdate.h>
#include <linux/seqlock.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/types.h>
#include <linux/ww_mutex.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/siphash.h>
#include <crypto/algapi.h>

#include "uapi/gpu_dma_lock.h"

/* Shared-reservation keys: a keyed hash, compared in constant time. */
struct gdl_hash_key {
	siphash_key_t k;
};

static inline u64 gdl_hash(const void *p, size_t len,
			   const struct gdl_hash_key *k)
{
	return siphash(p, len, &k->k);
}

static inline void gdl_random_key(struct gdl_hash_key *k)
{
	get_random_bytes(k, sizeof(*k));
}

/* The same, with a table's own 32-bit seed mixed into the key. */
static inline u64 gdl_hash_seeded(const void *p, size_t len,
				  const struct gdl_hash_key *k, u32 seed)
{
	siphash_key_t s = k->k;

	s.key[0] ^= seed;
	return siphash(p, len, &s);
}

#define gdl_key_neq(a, b, len)	crypto_memneq((a), (b), (len))

/* Per-CPU event counters: a plain increment on the fast path. */
struct gdl_stat_cpu {
	u64 c[GDL_STAT_NR];
};

static inline struct gdl_stat_cpu __percpu *gdl_stats_alloc(void)
{
	return alloc_percpu(struct gdl_stat_cpu);
}

static inline void gdl_stats_free(struct gdl_stat_cpu __percpu *s)
{
	free_percpu(s);
}

#define gdl_stat_inc(s, idx)	this_cpu_inc((s)->c[idx])

static inline u64 gdl_stat_sum(struct gdl_stat_cpu __percpu *s,
			       unsigned int idx)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(s, cpu)->c[idx];
	return sum;
}

#define gdl_time_ns()		ktime_get_ns()
#define gdl_current_tgid()	task_tgid_nr(current)

#else /* userspace */

#include "gdl_compat_user.h"

#endif /* __KERNEL__ */

#endif /* GDL_COMPAT_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the kernel APIs the ledger core uses, so that
 * gdl_core.c, gdl_acl.c and gdl_stats.c compile unchanged in the unit tests.
 * Included by src/gdl_compat.h when __KERNEL__ is not defined.  Never shipped.
 *
 * rbtree and list come from the kernel's own tools/include and
 * tools/lib/rbtree.c (extracted from linux-source into build/ksrc/).
 * Everything else is defined here on pthreads and GCC atomics; the runtime
 * parts (RCU, allocation accounting and failure injection) are in
 * gdl_compat_user.c.
 */
#ifndef GDL_COMPAT_USER_H
#define GDL_COMPAT_USER_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <linux/types.h>	/* tools/include: u8..u64, atomic_t, lists */
#include <linux/compiler.h>	/* READ_ONCE, WRITE_ONCE */
#include <linux/kernel.h>	/* container_of, min, max, ARRAY_SIZE */
#include <linux/list.h>
#include <linux/rbtree.h>

#include "uapi/gpu_dma_lock.h"

#ifndef U16_MAX
#define U16_MAX		((u16)~0U)
#endif
#ifndef U32_MAX
#define U32_MAX		((u32)~0U)
#endif
#ifndef U64_MAX
#define U64_MAX		((u64)~0ULL)
#endif
#ifndef S64_MAX
#define S64_MAX		((s64)(U64_MAX >> 1))
#endif

#define __rcu
#define __percpu

/* ---- locks ---- */

typedef pthread_mutex_t spinlock_t;
struct mutex {
	pthread_mutex_t m;
};

#define spin_lock_init(l)	pthread_mutex_init((l), NULL)
#define spin_lock(l)		pthread_mutex_lock(l)
#define spin_unlock(l)		pthread_mutex_unlock(l)
/* Locked through gdl_compat_user.c, which can watch one: see the end. */
void gdl_test_mutex_lock(struct mutex *l);
void gdl_test_mutex_unlock(struct mutex *l);

#define mutex_init(l)		pthread_mutex_init(&(l)->m, NULL)
#define mutex_lock(l)		gdl_test_mutex_lock(l)
#define mutex_unlock(l)		gdl_test_mutex_unlock(l)
#define mutex_destroy(l)	pthread_mutex_destroy(&(l)->m)
#define lockdep_assert_held(l)	((void)(l))
#define lockdep_is_held(l)	((void)(l), 1)

/*
 * Wait/die mutexes: the core takes a batch's in one order (agent id), so
 * here plain mutexes do; no lock is refused unless a test asks for it
 * (gdl_test_ww_refuse_next()), to exercise the back-off.
 */
struct ww_class {
	int unused;
};

struct ww_acquire_ctx {
	int acquired;
};

struct ww_mutex {
	pthread_mutex_t m;
	struct ww_acquire_ctx *ctx;
};

#define DEFINE_WD_CLASS(name)	struct ww_class name
#define ww_mutex_init(l, c) \
	((void)(c), (l)->ctx = NULL, pthread_mutex_init(&(l)->m, NULL))
#define ww_mutex_destroy(l)	pthread_mutex_destroy(&(l)->m)
#define ww_acquire_init(ctx, c)	((void)(c), (ctx)->acquired = 0)
#define ww_acquire_done(ctx)	((void)(ctx))
#define ww_acquire_fini(ctx)	((void)(ctx))

/* Refuse the next ww_mutex_lock() of a context holding one (-EDEADLK). */
void gdl_test_ww_refuse_next(void);
bool gdl_test_ww_refused(void);
int gdl_test_ww_refuse(void);

static inline int ww_mutex_lock(struct ww_mutex *l, struct ww_acquire_ctx *c)
{
	if (c->acquired && gdl_test_ww_refuse())
		return -EDEADLK;
	pthread_mutex_lock(&l->m);
	l->ctx = c;
	c->acquired++;
	return 0;
}

static inline void ww_mutex_unlock(struct ww_mutex *l)
{
	l->ctx->acquired--;
	l->ctx = NULL;
	pthread_mutex_unlock(&l->m);
}

#define ww_mutex_lock_slow(l, c)	((void)ww_mutex_lock((l), (c)))

/* ---- atomics (atomic_t comes from tools' linux/types.h) ---- */

typedef struct {
	s64 counter;
} atomic64_t;

#define smp_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#undef smp_load_acquire
#undef smp_store_release
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_mb__after_atomic()	smp_mb()

static inline int atomic_read(const atomic_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic_set(atomic_t *v, int i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_add(int i, atomic_t *v)
{
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_sub(int i, atomic_t *v)
{
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED);
}

static inline int atomic_add_return(int i, atomic_t *v)
{
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}

#define atomic_inc(v)		atomic_add(1, (v))
#define atomic_dec(v)		atomic_sub(1, (v))
#define atomic_inc_return(v)	atomic_add_return(1, (v))
#define atomic_dec_return(v)	atomic_add_return(-1, (v))

static inline s64 atomic64_read(const atomic64_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic64_set(atomic64_t *v, s64 i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic64_add(s64 i, atomic64_t *v)
{
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic64_sub(s64 i, atomic64_t *v)
{
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED);
}

static inline s64 atomic64_add_return(s64 i, atomic64_t *v)
{
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}

#define atomic64_inc(v)		atomic64_add(1, (v))
#define atomic64_dec(v)		atomic64_sub(1, (v))

static inline bool atomic64_try_cmpxchg(atomic64_t *v, s64 *old, s64 new)
{
	return __atomic_compare_exchange_n(&v->counter, old, new, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

/* ---- refcount_t: aborts on misuse, like REFCOUNT_FULL would warn ---- */

typedef struct {
	atomic_t refs;
} refcount_t;

void gdl_test_refcount_bug(const char *what);

static inline void refcount_set(refcount_t *r, int n)
{
	atomic_set(&r->refs, n);
}

static inline unsigned int refcount_read(const refcount_t *r)
{
	return atomic_read(&r->refs);
}

static inline bool refcount_inc_not_zero(refcount_t *r)
{
	int old = atomic_read(&r->refs);

	do {
		if (!old)
			return false;
	} while (!__atomic_compare_exchange_n(&r->refs.counter, &old, old + 1,
					      false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return true;
}

static inline void refcount_inc(refcount_t *r)
{
	if (__atomic_fetch_add(&r->refs.counter, 1, __ATOMIC_RELAXED) <= 0)
		gdl_test_refcount_bug("refcount_inc on zero");
}

static inline bool refcount_dec_and_test(refcount_t *r)
{
	int n = __atomic_sub_fetch(&r->refs.counter, 1, __ATOMIC_ACQ_REL);

	if (n < 0)
		gdl_test_refcount_bug("refcount underflow");
	return n == 0;
}

static inline void refcount_dec(refcount_t *r)
{
	if (refcount_dec_and_test(r))
		gdl_test_refcount_bug("refcount_dec hit zero");
}

/* ---- RCU: a real (if slow) implementation, see gdl_compat_user.c ---- */

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

void rcu_read_lock(void);
void rcu_read_unlock(void);
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
void rcu_barrier(void);

#define rcu_dereference(p)	__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_dereference_protected(p, c) \
	({ (void)(c); __atomic_load_n(&(p), __ATOMIC_RELAXED); })
#define rcu_access_pointer(p)	__atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_assign_pointer(p, v) \
	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define rcu_dereference_raw(p)	__atomic_load_n(&(p), __ATOMIC_ACQUIRE)

/* Frees through the same queue as call_rcu(): after every reader left. */
void gdl_test_kfree_rcu(void *obj);
#define kfree_rcu(p, field)	((void)&(p)->field, gdl_test_kfree_rcu(p))

/*
 * seqcount_spinlock_t: a sequence counter whose writers hold the lock.
 * Odd while a writer is inside; readers retry when it moved or was odd.
 */
typedef struct {
	unsigned int seq;
} seqcount_spinlock_t;

#define seqcount_spinlock_init(s, lock) \
	do { (void)(lock); __atomic_store_n(&(s)->seq, 0, __ATOMIC_RELAXED); } while (0)

static inline void write_seqcount_begin(seqcount_spinlock_t *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void write_seqcount_end(seqcount_spinlock_t *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static inline unsigned int read_seqcount_begin(const seqcount_spinlock_t *s)
{
	unsigned int v;

	while ((v = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE)) & 1)
		;
	return v;
}

static inline int read_seqcount_retry(const seqcount_spinlock_t *s,
				      unsigned int start)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) != start;
}

/* ---- shared-reservation keys: a seeded FNV-1a, a plain compare ---- */

struct gdl_hash_key {
	u64 key[2];
};

static inline u64 gdl_hash(const void *p, size_t len,
			   const struct gdl_hash_key *k)
{
	const unsigned char *b = p;
	u64 h = 0xcbf29ce484222325ULL ^ k->key[0];

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h ^ k->key[1];
}

static inline u64 gdl_hash_seeded(const void *p, size_t len,
				  const struct gdl_hash_key *k, u32 seed)
{
	struct gdl_hash_key s = *k;

	s.key[0] ^= seed;
	return gdl_hash(p, len, &s);
}

#define gdl_key_neq(a, b, len)	(memcmp((a), (b), (len)) != 0)

/* A kernel warning is a test failure here. */
#define WARN_ON(cond) ({						\
	bool __w = !!(cond);						\
	if (__w) {							\
		fprintf(stderr, "WARN_ON at %s:%d\n", __FILE__, __LINE__); \
		abort();						\
	}								\
	__w;								\
})

/*
 * ---- rhltable: the kernel's interface on a fixed chained table ----
 * Changes under a mutex; lookups walk it as the kernel's readers do,
 * under rcu_read_lock(), with entries freed through kfree_rcu().  It never
 * grows: the kernel's resizing is the kernel's to test (the vm tier).
 */
struct rhash_head {
	struct rhash_head *next;
};

struct rhlist_head {
	struct rhash_head rhead;	/* the chain of distinct keys */
	struct rhlist_head *next;	/* more entries with this key */
};

struct rhashtable;

struct rhashtable_compare_arg {
	struct rhashtable *ht;
	const void *key;
};

struct rhashtable_params {
	u16 key_len;
	u16 key_offset;
	u16 head_offset;
	bool automatic_shrinking;
	u32 (*hashfn)(const void *data, u32 len, u32 seed);
	int (*obj_cmpfn)(struct rhashtable_compare_arg *arg, const void *obj);
};

#define GDL_TEST_RHT_BUCKETS	1024

struct rhashtable {
	struct rhashtable_params p;
	pthread_mutex_t lock;
	struct rhash_head **buckets;
	u32 seed;
};

struct rhltable {
	struct rhashtable ht;
};

int rhltable_init(struct rhltable *hlt, const struct rhashtable_params *p);
void rhltable_destroy(struct rhltable *hlt);
struct rhlist_head *gdl_test_rhl_lookup(struct rhltable *hlt, const void *key);
int gdl_test_rhl_insert(struct rhltable *hlt, struct rhlist_head *list);
int gdl_test_rhl_remove(struct rhltable *hlt, struct rhlist_head *list);

#define rhltable_lookup(hlt, key, params) \
	((void)(params), gdl_test_rhl_lookup((hlt), (key)))
#define rhltable_insert(hlt, list, params) \
	((void)(params), gdl_test_rhl_insert((hlt), (list)))
#define rhltable_remove(hlt, list, params) \
	((void)(params), gdl_test_rhl_remove((hlt), (list)))
#define rhl_for_each_entry_rcu(tpos, pos, list, member)			\
	for ((pos) = (list);						\
	     (pos) && ((tpos) = container_of((pos), typeof(*(tpos)), member), 1); \
	     (pos) = __atomic_load_n(&(pos)->next, __ATOMIC_ACQUIRE))
#define gdl_random_key(k) \
	((k)->key[0] = (u64)getpid() * 0x9e3779b97f4a7c15ULL, (k)->key[1] = 1)

/* ---- memory: one counted allocator with failure injection ---- */

void *gdl_test_alloc(size_t size, bool zero);
void gdl_test_free(const void *p);

/* A test may run a hook where the kernel might reschedule. */
extern void (*gdl_test_resched_hook)(void);
#define cond_resched() \
	do { if (gdl_test_resched_hook) gdl_test_resched_hook(); } while (0)

/* No memory cgroups here: accounted allocations are plain ones. */
#define GFP_KERNEL_ACCOUNT	GFP_KERNEL
#define kmalloc(s, g)		((void)(g), gdl_test_alloc((s), false))
#define kzalloc(s, g)		((void)(g), gdl_test_alloc((s), true))
#define kvmalloc(s, g)		kmalloc((s), (g))
#define kvzalloc(s, g)		kzalloc((s), (g))
#define kfree(p)		gdl_test_free(p)
#define kvfree(p)		gdl_test_free(p)

static inline size_t gdl_array_size(size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return SIZE_MAX;
	return bytes;
}

#define kcalloc(n, s, g)	kzalloc(gdl_array_size((n), (s)), (g))
#define kvcalloc(n, s, g)	kcalloc((n), (s), (g))

#ifndef check_add_overflow
#define check_add_overflow(a, b, d)	__builtin_add_overflow((a), (b), (d))
#endif
#ifndef struct_size
#define struct_size(p, member, n) \
	({ size_t __b = gdl_array_size((n), sizeof((p)->member[0])); \
	   __b > SIZE_MAX - sizeof(*(p)) ? SIZE_MAX : __b + sizeof(*(p)); })
#endif

/* ---- strings and sorting ---- */

static inline ssize_t strscpy(char *dst, const char *src, size_t size)
{
	size_t len;

	if (!size)
		return -E2BIG;
	len = strnlen(src, size);
	if (len == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, len + 1);
	return len;
}

static inline void sort(void *base, size_t num, size_t size,
			int (*cmp)(const void *, const void *),
			void (*swap)(void *, void *, int))
{
	(void)swap;
	if (num > 1)
		qsort(base, num, size, cmp);
}

/* ---- per-CPU stats: one shared array, atomic adds ---- */

struct gdl_stat_cpu {
	u64 c[GDL_STAT_NR];
};

static inline struct gdl_stat_cpu *gdl_stats_alloc(void)
{
	return kzalloc(sizeof(struct gdl_stat_cpu), GFP_KERNEL);
}

static inline void gdl_stats_free(struct gdl_stat_cpu *s)
{
	kfree(s);
}

#define gdl_stat_inc(s, idx) \
	__atomic_fetch_add(&(s)->c[idx], 1, __ATOMIC_RELAXED)

static inline u64 gdl_stat_sum(struct gdl_stat_cpu *s, unsigned int idx)
{
	return __atomic_load_n(&s->c[idx], __ATOMIC_RELAXED);
}

/* ---- events ---- */

#include <time.h>
#include <unistd.h>

static inline u64 gdl_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#define gdl_current_tgid()	((s32)getpid())

/* ---- test controls (gdl_compat_user.c) ---- */

/* Fail the n-th allocation from now (0: the next one); -1 disarms. */
void gdl_test_fail_alloc_after(long n);
/* Allocations attempted so far (failed ones included). */
long gdl_test_alloc_count(void);
/* Allocations not yet freed. */
long gdl_test_alloc_live(void);
/* Did the last armed failure fire?  Cleared only by arming again. */
bool gdl_test_alloc_failed(void);

/*
 * Watch mutex @l (NULL: none) from now on: the longest time it was held,
 * and the most bytes allocated by its holder during one hold, from the
 * call on.  The tests and the benchmark watch admin_lock with these.
 */
void gdl_test_watch_mutex(struct mutex *l);
u64 gdl_test_watched_longest_ns(void);
size_t gdl_test_watched_alloc_max(void);
/*
 * Run @fn once, just before some thread next takes the watched mutex (it
 * may take that mutex itself): a race made deterministic.
 */
void gdl_test_before_watched_lock(void (*fn)(void));

#endif /* GDL_COMPAT_USER_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime of the userspace kernel stand-ins: RCU on a rwlock, and the
 * counted allocator with failure injection.
 *
 * RCU: rcu_read_lock() takes a global rwlock for read at nesting depth
 * 0 -> 1.  call_rcu() queues the callback and, outside a read section,
 * drains.  Draining takes the rwlock for write, which waits for every
 * reader in flight, pops the queue while holding it, releases it and runs
 * the callbacks: a callback queued before the pop can only be reached by
 * readers that have all finished.  A thread never takes the write lock
 * while it holds the read lock; its queued callbacks are drained when its
 * outermost read section ends.
 */
#include <stdio.h>

#include "gdl_compat_user.h"

/*
 * The native benchmark (tests/bench) runs the core on one thread and
 * builds this file with GDL_COMPAT_ONE_THREAD: a read section is then a
 * depth count, about what the kernel's rcu_read_lock() costs, instead of a
 * rwlock that would dominate what is measured.
 */
#ifdef GDL_COMPAT_ONE_THREAD
#define pthread_rwlock_rdlock(l)	((void)(l))
#define pthread_rwlock_wrlock(l)	((void)(l))
#define pthread_rwlock_unlock(l)	((void)(l))
#endif

static pthread_rwlock_t rcu_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static pthread_mutex_t rcu_queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_head *rcu_queue;
static __thread int rcu_depth;

void rcu_read_lock(void)
{
	if (rcu_depth++ == 0)
		pthread_rwlock_rdlock(&rcu_lock);
}

static bool rcu_pending(void)
{
	return __atomic_load_n(&rcu_queue, __ATOMIC_RELAXED) != NULL;
}

static void rcu_drain(void)
{
	struct rcu_head *list, *next;

	pthread_rwlock_wrlock(&rcu_lock);	/* a grace period */
	pthread_mutex_lock(&rcu_queue_lock);
	list = rcu_queue;
	rcu_queue = NULL;
	pthread_mutex_unlock(&rcu_queue_lock);
	pthread_rwlock_unlock(&rcu_lock);
	for (; list; list = next) {
		next = list->next;
		list->func(list);
	}
}

void rcu_read_unlock(void)
{
	if (rcu_depth <= 0) {
		fprintf(stderr, "rcu_read_unlock without rcu_read_lock\n");
		abort();
	}
	if (--rcu_depth == 0) {
		pthread_rwlock_unlock(&rcu_lock);
		if (rcu_pending())
			rcu_drain();
	}
}

void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	head->func = func;
	pthread_mutex_lock(&rcu_queue_lock);
	head->next = rcu_queue;
	rcu_queue = head;
	pthread_mutex_unlock(&rcu_queue_lock);
	if (!rcu_depth)
		rcu_drain();
}

/* The object need not start with its rcu_head: carry it in a node. */
struct gdl_kfree_rcu_node {
	struct rcu_head head;
	void *obj;
};

static void gdl_kfree_rcu_cb(struct rcu_head *head)
{
	struct gdl_kfree_rcu_node *n = (struct gdl_kfree_rcu_node *)head;

	gdl_test_free(n->obj);
	free(n);
}

void gdl_test_kfree_rcu(void *obj)
{
	struct gdl_kfree_rcu_node *n = malloc(sizeof(*n));

	if (!n)
		abort();
	n->obj = obj;
	call_rcu(&n->head, gdl_kfree_rcu_cb);
}

void rcu_barrier(void)
{
	if (rcu_depth) {
		fprintf(stderr, "rcu_barrier inside a read section\n");
		abort();
	}
	rcu_drain();
}

/* ---- allocator ---- */

static long alloc_count, alloc_live, fail_at = -1;
static bool fail_fired;

void gdl_test_fail_alloc_after(long n)
{
	if (n >= 0)
		__atomic_store_n(&fail_fired, false, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fail_at, n < 0 ? -1 :
			 __atomic_load_n(&alloc_count, __ATOMIC_SEQ_CST) + n,
			 __ATOMIC_SEQ_CST);
}

long gdl_test_alloc_count(void)
{
	return __atomic_load_n(&alloc_count, __ATOMIC_SEQ_CST);
}

long gdl_test_alloc_live(void)
{
	return __atomic_load_n(&alloc_live, __ATOMIC_SEQ_CST);
}

bool gdl_test_alloc_failed(void)
{
	return __atomic_load_n(&fail_fired, __ATOMIC_SEQ_CST);
}

/* ---- wait/die refusals ---- */

static int ww_refuse_armed, ww_refused_once;

void gdl_test_ww_refuse_next(void)
{
	__atomic_store_n(&ww_refused_once, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ww_refuse_armed, 1, __ATOMIC_SEQ_CST);
}

bool gdl_test_ww_refused(void)
{
	return __atomic_load_n(&ww_refused_once, __ATOMIC_SEQ_CST);
}

int gdl_test_ww_refuse(void)
{
	if (!__atomic_exchange_n(&ww_refuse_armed, 0, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_store_n(&ww_refused_once, 1, __ATOMIC_SEQ_CST);
	return 1;
}

/* ---- the watched mutex ---- */

static struct mutex *watched;
static u64 watched_longest_ns;
static u64 watched_alloc_max;
static __thread u64 watch_since;	/* this thread holds it since; 0: not */
static __thread size_t watch_bytes;	/* it allocated during this hold */

void gdl_test_watch_mutex(struct mutex *l)
{
	__atomic_store_n(&watched_longest_ns, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&watched_alloc_max, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&watched, l, __ATOMIC_SEQ_CST);
}

u64 gdl_test_watched_longest_ns(void)
{
	return __atomic_load_n(&watched_longest_ns, __ATOMIC_SEQ_CST);
}

size_t gdl_test_watched_alloc_max(void)
{
	return __atomic_load_n(&watched_alloc_max, __ATOMIC_SEQ_CST);
}

void (*gdl_test_resched_hook)(void);

static void (*before_watched)(void);

void gdl_test_before_watched_lock(void (*fn)(void))
{
	__atomic_store_n(&before_watched, fn, __ATOMIC_SEQ_CST);
}

void gdl_test_mutex_lock(struct mutex *l)
{
	void (*fn)(void);

	if (l == __atomic_load_n(&watched, __ATOMIC_RELAXED)) {
		fn = __atomic_exchange_n(&before_watched, NULL,
					 __ATOMIC_SEQ_CST);
		if (fn)
			fn();
	}
	pthread_mutex_lock(&l->m);
	if (l == __atomic_load_n(&watched, __ATOMIC_RELAXED)) {
		watch_since = gdl_time_ns();
		watch_bytes = 0;
	}
}

static void gdl_test_max(u64 *at, u64 v)
{
	u64 cur = __atomic_load_n(at, __ATOMIC_RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(at, &cur, v, false,
						       __ATOMIC_SEQ_CST,
						       __ATOMIC_RELAXED))
		;
}

void gdl_test_mutex_unlock(struct mutex *l)
{
	if (watch_since && l == __atomic_load_n(&watched, __ATOMIC_RELAXED)) {
		gdl_test_max(&watched_longest_ns, gdl_time_ns() - watch_since);
		gdl_test_max(&watched_alloc_max, watch_bytes);
		watch_since = 0;
	}
	pthread_mutex_unlock(&l->m);
}

void *gdl_test_alloc(size_t size, bool zero)
{
	long nth = __atomic_fetch_add(&alloc_count, 1, __ATOMIC_SEQ_CST);
	long want = nth;
	void *p;

	if (watch_since)
		watch_bytes += size;

	if (__atomic_compare_exchange_n(&fail_at, &want, -1, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&fail_fired, true, __ATOMIC_SEQ_CST);
		return NULL;
	}
	if (size == SIZE_MAX)	/* overflowed size computation */
		return NULL;
	/* Like the kernel, a zero-size allocation succeeds. */
	p = zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
	if (p)
		__atomic_fetch_add(&alloc_live, 1, __ATOMIC_SEQ_CST);
	return p;
}

void gdl_test_free(const void *p)
{
	if (!p)
		return;
	__atomic_fetch_sub(&alloc_live, 1, __ATOMIC_SEQ_CST);
	free((void *)p);
}

void gdl_test_refcount_bug(const char *what)
{
	fprintf(stderr, "refcount bug: %s\n", what);
	abort();
}

/* ---- rhltable ---- */

static struct rhash_head **rhl_bucket(struct rhashtable *ht, const void *key)
{
	u32 h = ht->p.hashfn(key, ht->p.key_len, ht->seed);

	return &ht->buckets[h % GDL_TEST_RHT_BUCKETS];
}

static const void *rhl_key_of(struct rhashtable *ht, const struct rhash_head *n)
{
	return (const char *)n - ht->p.head_offset + ht->p.key_offset;
}

static bool rhl_same(struct rhashtable *ht, const struct rhash_head *n,
		     const void *key)
{
	struct rhashtable_compare_arg arg = { .ht = ht, .key = key };

	return !ht->p.obj_cmpfn(&arg, (const char *)n - ht->p.head_offset);
}

int rhltable_init(struct rhltable *hlt, const struct rhashtable_params *p)
{
	struct rhashtable *ht = &hlt->ht;

	ht->p = *p;
	ht->seed = (u32)random();
	ht->buckets = gdl_test_alloc(GDL_TEST_RHT_BUCKETS *
				     sizeof(*ht->buckets), true);
	if (!ht->buckets)
		return -ENOMEM;
	pthread_mutex_init(&ht->lock, NULL);
	return 0;
}

void rhltable_destroy(struct rhltable *hlt)
{
	u32 i;

	for (i = 0; i < GDL_TEST_RHT_BUCKETS; i++)
		if (hlt->ht.buckets[i]) {
			fprintf(stderr, "rhltable_destroy: not empty\n");
			abort();
		}
	gdl_test_free(hlt->ht.buckets);
	pthread_mutex_destroy(&hlt->ht.lock);
}

struct rhlist_head *gdl_test_rhl_lookup(struct rhltable *hlt, const void *key)
{
	struct rhashtable *ht = &hlt->ht;
	struct rhash_head *n;

	n = __atomic_load_n(rhl_bucket(ht, key), __ATOMIC_ACQUIRE);
	for (; n; n = __atomic_load_n(&n->next, __ATOMIC_ACQUIRE))
		if (rhl_same(ht, n, key))
			return container_of(n, struct rhlist_head, rhead);
	return NULL;
}

/* A new entry goes first in its key's list, as in the kernel. */
int gdl_test_rhl_insert(struct rhltable *hlt, struct rhlist_head *list)
{
	struct rhashtable *ht = &hlt->ht;
	const void *key = rhl_key_of(ht, &list->rhead);
	struct rhash_head **pp, *n;

	pthread_mutex_lock(&ht->lock);
	pp = rhl_bucket(ht, key);
	for (n = *pp; n; pp = &n->next, n = n->next)
		if (rhl_same(ht, n, key))
			break;
	list->rhead.next = n ? n->next : NULL;
	list->next = n ? container_of(n, struct rhlist_head, rhead) : NULL;
	__atomic_store_n(pp, &list->rhead, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ht->lock);
	return 0;
}

int gdl_test_rhl_remove(struct rhltable *hlt, struct rhlist_head *list)
{
	struct rhashtable *ht = &hlt->ht;
	const void *key = rhl_key_of(ht, &list->rhead);
	struct rhlist_head *first, **lp;
	struct rhash_head **pp, *n;
	int ret = -ENOENT;

	pthread_mutex_lock(&ht->lock);
	pp = rhl_bucket(ht, key);
	for (n = *pp; n; pp = &n->next, n = n->next)
		if (rhl_same(ht, n, key))
			break;
	if (!n)
		goto out;
	first = container_of(n, struct rhlist_head, rhead);
	if (first == list) {
		/* Its successor with the key takes its place in the chain. */
		if (list->next) {
			list->next->rhead.next = n->next;
			__atomic_store_n(pp, &list->next->rhead,
					 __ATOMIC_RELEASE);
		} else {
			__atomic_store_n(pp, n->next, __ATOMIC_RELEASE);
		}
		ret = 0;
		goto out;
	}
	for (lp = &first->next; *lp; lp = &(*lp)->next)
		if (*lp == list) {
			__atomic_store_n(lp, list->next, __ATOMIC_RELEASE);
			ret = 0;
			break;
		}
out:
	pthread_mutex_unlock(&ht->lock);
	return ret;
}

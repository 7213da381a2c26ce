// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: the lock-free quota charge, RCU-published ACL sets and
 * agent destruction, hammered from several threads.  Run under ASan, a
 * use-after-free of anything freed through call_rcu is caught.
 */
#include <errno.h>
#include <stdio.h>

#include "helpers.h"

#define NTHREADS	4

static struct gdl_ledger L;
static volatile bool stop;
static int unexpected;		/* errors seen off the main thread */

static void note_unexpected(const char *what, long v)
{
	if (__atomic_fetch_add(&unexpected, 1, __ATOMIC_RELAXED) < 5)
		fprintf(stderr, "\n  unexpected %s: %ld\n", what, v);
}

/* ---- quota hammer ---- */

#define K		5
#define SZ		4096
#define ITERS		50000

static struct gdl_agent *QA;
static struct gdl_owner QO;		/* shared by all workers */
static long q_ok, q_denied;

static void *quota_worker(void *arg)
{
	struct gdl_owner own;
	long ok = 0, denied = 0;
	u64 h[2];
	int i, j;

	gdl_owner_init(&L, &own);
	for (i = 0; i < ITERS; i++) {
		struct gdl_owner *o = (i + (long)arg) & 1 ? &own : &QO;

		for (j = 0; j < 2; j++) {
			int ret = reserve(&L, o, QA, 0, SZ, &h[j]);

			if (ret == -EDQUOT) {
				denied++;
				h[j] = 0;
			} else if (ret) {
				note_unexpected("reserve", ret);
				h[j] = 0;
			} else {
				ok++;
			}
		}
		for (j = 0; j < 2; j++)
			if (h[j] && gdl_release(&L, o, h[j]))
				note_unexpected("release", j);
	}
	gdl_owner_fini(&L, &own);
	__atomic_fetch_add(&q_ok, ok, __ATOMIC_RELAXED);
	__atomic_fetch_add(&q_denied, denied, __ATOMIC_RELAXED);
	return NULL;
}

static void *quota_sampler(void *arg)
{
	struct gdl_device_info di;
	struct gdl_quota q;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (gdl_quota_get(&L, QA, 0, &q))
			note_unexpected("quota_get", -1);
		if (q.usage > K * SZ || q.peak > K * SZ || q.flags)
			note_unexpected("usage over quota", q.usage);
		if (gdl_device_info(&L, 0, &di) || di.used > K * SZ)
			note_unexpected("device used", di.used);
	}
	return NULL;
}

static void test_quota_hammer(void)
{
	pthread_t t[NTHREADS], s;
	struct gdl_quota q;
	long i;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &QO);
	/*
	 * Capacity equal to the quota: the device total never runs ahead of
	 * the agent's, so no reservation may see -ENOSPC.
	 */
	add_dev(&L, "g", K * SZ);
	QA = gdl_agent_get(&L, new_agent(&L, "hammer", K * SZ));
	unexpected = 0;
	q_ok = q_denied = 0;
	stop = false;
	pthread_create(&s, NULL, quota_sampler, NULL);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, quota_worker, (void *)i);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	pthread_join(s, NULL);

	CU_ASSERT_EQUAL(unexpected, 0);
	CU_ASSERT_EQUAL(q_ok + q_denied, 2L * NTHREADS * ITERS);
	q = quota_of(&L, QA, 0);
	CU_ASSERT_EQUAL(q.usage, 0);
	CU_ASSERT_EQUAL(q.nr_reservations, 0);
	CU_ASSERT(q.peak <= K * SZ);
	CU_ASSERT_EQUAL(q.denied, (u64)q_denied);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RESERVE_OK), (u64)q_ok);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RESERVE_DENIED_QUOTA), (u64)q_denied);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RELEASES), (u64)q_ok);
	CU_ASSERT_EQUAL(dev_info(&L, 0).used, 0);
	CU_ASSERT(dev_info(&L, 0).peak <= K * SZ);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_owner_fini(&L, &QO);
	gdl_agent_put(&L, QA);
	ledger_down(&L);
}

/* ---- DMA checks while grants come and go ---- */

static struct gdl_agent *GA, *GB;

static void *dma_reader(void *arg)
{
	long n = 0;
	u32 res;
	int ret;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE) || n < 1000) {
		/* Churned grant: allowed or denied, nothing else. */
		ret = dma(&L, GB, 0, GDL_ACCESS_READ, 0x1000 + (n & 0xff), 1,
			  &res);
		if (ret && ret != -EACCES)
			note_unexpected("dma churn", ret);
		if (!ret && res != GDL_RESULT_GRANT && res != GDL_RESULT_ACL)
			note_unexpected("dma result", res);
		/* Stable admin entry: always allowed. */
		if (dma(&L, GB, 0, GDL_ACCESS_WRITE, 0x100000, 0x10, NULL))
			note_unexpected("dma stable", n);
		/* Never reachable. */
		if (dma(&L, GB, 0, GDL_ACCESS_WRITE, 0x1000, 1, NULL) != -EACCES)
			note_unexpected("dma write", n);
		n++;
	}
	return NULL;
}

static void test_dma_vs_grants(void)
{
	struct gdl_acl_entry g[2], stable;
	pthread_t t[NTHREADS];
	struct gdl_owner o;
	long i;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &o);
	add_dev(&L, "g", GiB);
	GA = gdl_agent_get(&L, new_agent(&L, "A", GDL_QUOTA_UNLIMITED));
	GB = gdl_agent_get(&L, new_agent(&L, "B", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_FATAL(reserve_at(&L, &o, GA, 0, 0x1000, 0x1000, NULL) == 0);
	stable = acl_entry(GB->id, 0, 0, GDL_ACCESS_WRITE, 0x100000, 0x1000);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &stable, 1), 0);
	g[0] = acl_entry(GB->id, GA->id, 0, GDL_ACCESS_READ, 0x1000, 0x1000);
	g[1] = acl_entry(GB->id, 0, 0, GDL_ACCESS_READ, 0x1000, 0x80);
	unexpected = 0;
	stop = false;
	for (i = 0; i < NTHREADS - 1; i++)
		pthread_create(&t[i], NULL, dma_reader, NULL);
	for (i = 0; i < 3000; i++) {
		if (gdl_acl_grant(&L, &g[i & 1], 1))
			note_unexpected("grant", i);
		if (gdl_acl_revoke(&L, &g[i & 1], 1))
			note_unexpected("revoke", i);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < NTHREADS - 1; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(unexpected, 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 1);
	gdl_owner_fini(&L, &o);
	gdl_agent_put(&L, GA);
	gdl_agent_put(&L, GB);
	ledger_down(&L);
}

/* ---- agent destroy racing reservations and lookups ---- */

static u32 victim_id;
static struct gdl_agent *victim;
static struct gdl_owner VO;
static long v_ok;

static void *destroy_racer(void *arg)
{
	long ok = 0;
	int ret, i;

	(void)arg;
	for (i = 0; i < 400; i++) {
		struct gdl_agent *a = gdl_agent_get(&L, victim_id);

		/* Through a held reference: succeeds or -ESRCH once dead. */
		ret = reserve(&L, &VO, victim, 0, 1, NULL);
		if (ret && ret != -ESRCH)
			note_unexpected("racing reserve", ret);
		ok += !ret;
		if (a) {
			ret = reserve(&L, &VO, a, 0, 1, NULL);
			if (ret && ret != -ESRCH)
				note_unexpected("racing reserve 2", ret);
			ok += !ret;
			gdl_agent_put(&L, a);
		}
	}
	__atomic_fetch_add(&v_ok, ok, __ATOMIC_RELAXED);
	return NULL;
}

static void test_destroy_vs_reserve(void)
{
	pthread_t t[NTHREADS];
	char name[GDL_NAME_LEN];
	long i, round;

	ledger_up(&L, NULL);
	add_dev(&L, "g", GiB);
	unexpected = 0;
	for (round = 0; round < 20; round++) {
		gdl_owner_init(&L, &VO);
		snprintf(name, sizeof(name), "v%ld", round);
		victim_id = new_agent(&L, name, GDL_QUOTA_UNLIMITED);
		victim = gdl_agent_get(&L, victim_id);
		v_ok = 0;
		for (i = 0; i < NTHREADS - 1; i++)
			pthread_create(&t[i], NULL, destroy_racer, NULL);
		sched_yield();
		CU_ASSERT_EQUAL(gdl_agent_destroy(&L, victim_id), 0);
		for (i = 0; i < NTHREADS - 1; i++)
			pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(reserve(&L, &VO, victim, 0, 1, NULL), -ESRCH);
		CU_ASSERT_EQUAL(quota_of(&L, victim, 0).usage, (u64)v_ok);
		CU_ASSERT_EQUAL(owner_count(&VO), (u32)v_ok);
		CU_ASSERT(gdl_ledger_consistent(&L));
		gdl_owner_fini(&L, &VO);
		CU_ASSERT_EQUAL(dev_info(&L, 0).used, 0);
		gdl_agent_put(&L, victim);
		CU_ASSERT(list_empty(&L.dead_agents));
	}
	CU_ASSERT_EQUAL(unexpected, 0);
	ledger_down(&L);
}

/* ---- device remove racing reservations ---- */

static void *remove_racer(void *arg)
{
	int ret, i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		ret = reserve(&L, &VO, victim, 1, 1, NULL);
		if (ret && ret != -ENODEV)
			note_unexpected("reserve vs remove", ret);
	}
	return NULL;
}

static void test_remove_vs_reserve(void)
{
	pthread_t t[NTHREADS];
	struct gdl_params p = test_params();
	int i, ret, removed = 0, busy = 0;

	p.max_reservations = 1 << 20;
	ledger_up(&L, &p);
	add_dev(&L, "g0", GiB);
	add_dev(&L, "g1", GiB);
	gdl_owner_init(&L, &VO);
	victim = gdl_agent_get(&L, new_agent(&L, "v", GDL_QUOTA_UNLIMITED));
	unexpected = 0;
	for (i = 0; i < NTHREADS - 1; i++)
		pthread_create(&t[i], NULL, remove_racer, NULL);
	for (i = 0; i < 2000 && !removed; i++) {
		ret = gdl_device_remove(&L, 1);
		if (!ret)
			removed = 1;
		else if (ret == -EBUSY)
			busy++;
		else
			note_unexpected("remove", ret);
	}
	for (i = 0; i < NTHREADS - 1; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(unexpected, 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	if (removed) {
		/* Removed: nothing may be charged to the gone device. */
		CU_ASSERT_EQUAL(atomic64_read(&victim->usage[1].usage), 0);
		CU_ASSERT_EQUAL(owner_count(&VO), 0);
	} else {
		gdl_owner_fini(&L, &VO);
		gdl_owner_init(&L, &VO);
		CU_ASSERT_EQUAL(gdl_device_remove(&L, 1), 0);
	}
	gdl_owner_fini(&L, &VO);
	gdl_agent_put(&L, victim);
	ledger_down(&L);
}

/* ---- walks against open and close (issue 22 item 9) ---- */

static struct gdl_agent *WA;

/* Files open, reserve and close while admins walk them all. */
static void *file_churner(void *arg)
{
	struct gdl_owner o;
	int i, j;

	(void)arg;
	for (i = 0; i < 300; i++) {
		gdl_owner_init(&L, &o);
		for (j = 0; j < 3; j++)
			if (reserve(&L, &o, WA, 0, 1, NULL))
				note_unexpected("churn reserve", j);
		gdl_owner_fini(&L, &o);
	}
	return NULL;
}

static void *walker(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		(void)gdl_ledger_check(&L, true);
	return NULL;
}

static void test_walk_vs_open_close(void)
{
	pthread_t t[NTHREADS];
	struct gdl_owner keep;
	int i;

	ledger_up(&L, NULL);
	add_dev(&L, "g", GiB);
	WA = gdl_agent_get(&L, new_agent(&L, "w", GDL_QUOTA_UNLIMITED));
	gdl_owner_init(&L, &keep);
	CU_ASSERT_EQUAL(reserve(&L, &keep, WA, 0, 1, NULL), 0);
	unexpected = 0;
	stop = false;
	pthread_create(&t[0], NULL, walker, NULL);
	pthread_create(&t[1], NULL, walker, NULL);
	for (i = 2; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, file_churner, NULL);
	for (i = 2; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	CU_ASSERT_EQUAL(unexpected, 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	CU_ASSERT(list_is_singular(&L.owners));
	gdl_owner_fini(&L, &keep);
	gdl_agent_put(&L, WA);
	ledger_down(&L);
}

void register_concurrency_suite(void)
{
	CU_pSuite s = CU_add_suite("concurrency", NULL, NULL);

	ADD_TEST(s, test_quota_hammer);
	ADD_TEST(s, test_dma_vs_grants);
	ADD_TEST(s, test_destroy_vs_reserve);
	ADD_TEST(s, test_remove_vs_reserve);
	ADD_TEST(s, test_walk_vs_open_close);
}

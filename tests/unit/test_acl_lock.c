// SPDX-License-Identifier: GPL-2.0
/*
 * What grants and revokes do under admin_lock: the O(n) copy of a
 * grantee's set must happen before it is taken (under the grantee's
 * acl_lock), so a tenant's grant into a large set holds admin_lock for
 * O(batch) only.  Then the races that this opens, made deterministic: an
 * admin's purge replacing the set a change was built from.  And batches
 * naming several grantees, from several threads at once.
 */
#include <errno.h>
#include <pthread.h>

#include "helpers.h"

#define R	GDL_ACCESS_READ
#define BIG	20000	/* entries in the grantee's set */
#define BATCH	16

static struct gdl_ledger L;
static struct gdl_agent *A, *B, *C, *D;
static struct gdl_agent **const agents[] = { &A, &B, &C, &D };
static u32 c_id;

/* Two devices; agents A to D, each with a reference held. */
static void up(void)
{
	struct gdl_params p = test_params();
	char name[2] = "A";
	u32 i;

	p.max_acl_entries = 65536;
	p.agent_max_acl_entries = 65536;
	ledger_up(&L, &p);
	CU_ASSERT_FATAL(add_dev(&L, "gpu0", GiB) == 0);
	CU_ASSERT_FATAL(add_dev(&L, "gpu1", GiB) == 1);
	for (i = 0; i < ARRAY_SIZE(agents); i++, name[0]++)
		*agents[i] = gdl_agent_get(&L, new_agent(&L, name,
						GDL_QUOTA_UNLIMITED));
	c_id = C->id;
}

static void down(void)
{
	u32 i;

	gdl_test_watch_mutex(NULL);
	gdl_test_before_watched_lock(NULL);
	for (i = 0; i < ARRAY_SIZE(agents); i++)
		gdl_agent_put(&L, *agents[i]);
	ledger_down(&L);
}

/* @n grants of one byte each, @stride apart from @base, to @grantee. */
static int change_n(bool revoke, u32 grantee, u32 owner, u32 dev, u64 base,
		    u64 stride, u32 n)
{
	static struct gdl_acl_entry e[GDL_ACL_BATCH_MAX];
	u32 i;

	for (i = 0; i < n; i++)
		e[i] = acl_entry(grantee, owner, dev, R, base + i * stride, 1);
	return revoke ? gdl_acl_revoke(&L, e, n) : gdl_acl_grant(&L, e, n);
}

/* B's set: @n entries of A's, two bytes apart from 0x100000. */
static void fill_b(u32 n)
{
	u32 done, k;

	for (done = 0; done < n; done += k) {
		k = n - done < GDL_ACL_BATCH_MAX ? n - done : GDL_ACL_BATCH_MAX;
		CU_ASSERT_FATAL(change_n(false, B->id, A->id, 0,
					 0x100000 + 2 * done, 2, k) == 0);
	}
}

/*
 * A tenant's grant and revoke of BATCH entries into a set of BIG: what is
 * allocated while admin_lock is held stays O(batch).  Before, the new set
 * (BIG nodes) was allocated, copied and indexed under it.
 */
static void test_set_copy_off_admin_lock(void)
{
	const size_t bound = BATCH * sizeof(struct gdl_acl_node);

	up();
	fill_b(BIG);
	CU_ASSERT_EQUAL(acl_count(&L, B->id), BIG);

	gdl_test_watch_mutex(&L.admin_lock);
	CU_ASSERT_EQUAL(change_n(false, B->id, A->id, 0, 0x100001, 2, BATCH),
			0);
	CU_ASSERT(gdl_test_watched_alloc_max() <= bound);
	CU_ASSERT_EQUAL(acl_count(&L, B->id), BIG + BATCH);
	CU_ASSERT_EQUAL(A->nr_granted, BIG + BATCH);

	gdl_test_watch_mutex(&L.admin_lock);
	CU_ASSERT_EQUAL(change_n(true, B->id, A->id, 0, 0x100001, 2, BATCH),
			0);
	CU_ASSERT(gdl_test_watched_alloc_max() <= bound);
	CU_ASSERT_EQUAL(acl_count(&L, B->id), BIG);
	CU_ASSERT_EQUAL(A->nr_granted, BIG);

	/* The grantee dropping grants made to it: the same. */
	gdl_test_watch_mutex(&L.admin_lock);
	CU_ASSERT_EQUAL(change_n(true, B->id, A->id, 0, 0x100000, 2, BATCH),
			0);
	CU_ASSERT(gdl_test_watched_alloc_max() <= bound);
	CU_ASSERT_EQUAL(acl_count(&L, B->id), BIG - BATCH);
	down();
}

/* Run between a change's build and its commit (before its admin_lock). */
static void destroy_c(void)
{
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, c_id), 0);
}

static void remove_gpu1(void)
{
	CU_ASSERT_EQUAL(gdl_device_remove(&L, 1), 0);
}

/*
 * An admin purges the grantee's set after a tenant's change was built from
 * it and before it is published: the change must be built again, or it
 * would bring the purged entries back (grants of a destroyed agent, entries
 * naming a removed device).
 */
static void test_purge_during_change(void)
{
	static const struct {
		void (*purge)(void);
		bool revoke;
	} cases[] = {
		{ destroy_c, false }, { destroy_c, true },
		{ remove_gpu1, false }, { remove_gpu1, true },
	};
	u32 i, mine;
	int ret;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		up();
		fill_b(64);
		CU_ASSERT_FATAL(change_n(false, B->id, C->id, 0, 0x1000, 2,
					 8) == 0);
		CU_ASSERT_FATAL(change_n(false, B->id, 0, 1, 0x1000, 2, 8) == 0);
		CU_ASSERT_EQUAL(acl_count(&L, B->id), 64 + 16);
		gdl_test_watch_mutex(&L.admin_lock);
		gdl_test_before_watched_lock(cases[i].purge);
		ret = cases[i].revoke ?
		      change_n(true, B->id, A->id, 0, 0x100000, 2, 4) :
		      change_n(false, B->id, A->id, 0, 0x100001, 2, 4);
		CU_ASSERT_EQUAL(ret, 0);
		/* The purge ran, and what it removed stayed removed. */
		mine = 64 + (cases[i].revoke ? -4 : 4);
		CU_ASSERT_EQUAL(A->nr_granted, mine);
		CU_ASSERT_EQUAL(acl_count(&L, A->id), mine);
		/* C's 8 grants, or the 8 admin entries on gpu1, are gone. */
		CU_ASSERT_EQUAL(acl_count(&L, B->id), mine + 8);
		CU_ASSERT_EQUAL(acl_count(&L, c_id),
				cases[i].purge == destroy_c ? 0 : 8);
		CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES),
				acl_count(&L, 0));
		CU_ASSERT_TRUE(gdl_ledger_check(&L, true));
		down();
	}
}

/*
 * Batches naming several grantees, from several threads at once: each
 * takes its grantees' acl_locks together.  They must neither deadlock nor
 * lose a change.
 */
#define ROUNDS	300

static void *multi_grantee(void *arg)
{
	u32 owner = (u32)(uintptr_t)arg;
	struct gdl_acl_entry e[6];
	u32 r, i, grantee[3] = { B->id, C->id, D->id };

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < 6; i++)
			e[i] = acl_entry(grantee[(i + r) % 3], owner, 0, R,
					 0x1000 * (owner & 0xff) + i, 1);
		CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 6), 0);
		CU_ASSERT_EQUAL(gdl_acl_revoke(&L, e, 6), 0);
	}
	return NULL;
}

static void test_multi_grantee_batches(void)
{
	pthread_t th[3];
	u32 i;

	up();
	CU_ASSERT_FATAL(pthread_create(&th[0], NULL, multi_grantee,
				       (void *)(uintptr_t)A->id) == 0);
	CU_ASSERT_FATAL(pthread_create(&th[1], NULL, multi_grantee,
				       (void *)(uintptr_t)B->id) == 0);
	CU_ASSERT_FATAL(pthread_create(&th[2], NULL, multi_grantee,
				       (void *)(uintptr_t)0) == 0);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 0);
	CU_ASSERT_EQUAL(A->nr_granted, 0);
	CU_ASSERT_EQUAL(B->nr_granted, 0);
	down();
}

/*
 * The kernel's wait/die may refuse a lock to a batch holding others
 * (-EDEADLK, an older batch holds it): the batch drops its locks, waits
 * for that one, takes the rest and goes on.  Here the refusal is forced.
 */
static void test_wait_die_backoff(void)
{
	struct gdl_acl_entry e[4];

	up();
	e[0] = acl_entry(B->id, A->id, 0, R, 0x1000, 1);
	e[1] = acl_entry(C->id, A->id, 0, R, 0x1000, 1);
	e[2] = acl_entry(D->id, A->id, 0, R, 0x1000, 1);
	e[3] = e[1];	/* a duplicate: one entry, charged once */
	gdl_test_ww_refuse_next();
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 4), 0);
	CU_ASSERT_TRUE(gdl_test_ww_refused());
	CU_ASSERT_EQUAL(acl_count(&L, A->id), 3);
	CU_ASSERT_EQUAL(A->nr_granted, 3);
	gdl_test_ww_refuse_next();
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, e, 4), 0);
	CU_ASSERT_TRUE(gdl_test_ww_refused());
	CU_ASSERT_EQUAL(acl_count(&L, A->id), 0);
	CU_ASSERT_EQUAL(A->nr_granted, 0);
	down();
}

void register_acl_lock_suite(void)
{
	CU_pSuite s = CU_add_suite("acl_lock", NULL, NULL);

	ADD_TEST(s, test_set_copy_off_admin_lock);
	ADD_TEST(s, test_purge_during_change);
	ADD_TEST(s, test_multi_grantee_batches);
	ADD_TEST(s, test_wait_die_backoff);
}

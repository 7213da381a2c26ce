// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation between tenants: each agent's share of the grant pool, the
 * admin pool a tenant cannot fill, grantees dropping grants, the DMA check
 * against a brute-force model on sets built to defeat a walk-back, and
 * tenant paths that must not wait for admin_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "helpers.h"

#define R	GDL_ACCESS_READ
#define W	GDL_ACCESS_WRITE
#define RW	(GDL_ACCESS_READ | GDL_ACCESS_WRITE)

static struct gdl_ledger L;
static struct gdl_owner O;
static struct gdl_agent *A, *B, *C, *D;

static void up(struct gdl_params *p)
{
	ledger_up(&L, p);
	gdl_owner_init(&L, &O);
	CU_ASSERT_FATAL(add_dev(&L, "gpu0", GiB) == 0);
	CU_ASSERT_FATAL(add_dev(&L, "gpu1", GiB) == 1);
	A = gdl_agent_get(&L, new_agent(&L, "A", GDL_QUOTA_UNLIMITED));
	B = gdl_agent_get(&L, new_agent(&L, "B", GDL_QUOTA_UNLIMITED));
	C = gdl_agent_get(&L, new_agent(&L, "C", GDL_QUOTA_UNLIMITED));
	D = gdl_agent_get(&L, new_agent(&L, "D", GDL_QUOTA_UNLIMITED));
}

static void down(void)
{
	gdl_owner_fini(&L, &O);
	gdl_agent_put(&L, A);
	gdl_agent_put(&L, B);
	gdl_agent_put(&L, C);
	gdl_agent_put(&L, D);
	ledger_down(&L);
}

/* @n grants by @owner to @grantee, one byte apart from @base. */
static int grant_n(struct gdl_agent *grantee, struct gdl_agent *owner,
		   u64 base, u32 n)
{
	struct gdl_acl_entry e[8];
	u32 i;

	for (i = 0; i < n; i++)
		e[i] = acl_entry(grantee->id, owner ? owner->id : 0, 0, R,
				 base + i, 1);
	return gdl_acl_grant(&L, e, n);
}

/*
 * The probe of the issue: one tenant's grants filled the node's table and
 * then an admin's grant got ENOBUFS.  Now each owner has a share (EMFILE),
 * grants by all owners a pool (ENOBUFS), and admin entries their own.
 */
static void test_grant_shares(void)
{
	struct gdl_params p = test_params();
	struct gdl_acl_entry e;

	p.max_acl_entries = 6;
	p.agent_max_acl_entries = 3;
	up(&p);
	CU_ASSERT_EQUAL(grant_n(B, A, 0x1000, 3), 0);
	CU_ASSERT_EQUAL(grant_n(B, A, 0x2000, 1), -EMFILE);
	CU_ASSERT_EQUAL(A->nr_granted, 3);
	/* A batch over the share changes nothing. */
	CU_ASSERT_EQUAL(grant_n(C, C, 0x1000, 4), -EMFILE);
	CU_ASSERT_EQUAL(acl_count(&L, C->id), 0);
	CU_ASSERT_EQUAL(grant_n(B, C, 0x1000, 3), 0);
	/* The grant pool is full: a third owner is refused... */
	CU_ASSERT_EQUAL(grant_n(B, D, 0x1000, 1), -ENOBUFS);
	/* ...an admin is not, and re-granting what exists costs nothing. */
	CU_ASSERT_EQUAL(grant_n(C, NULL, 0x1000, 3), 0);
	CU_ASSERT_EQUAL(grant_n(B, A, 0x1000, 3), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 9);
	/* Admin entries have a pool of the same size. */
	CU_ASSERT_EQUAL(grant_n(D, NULL, 0x1000, 4), -ENOBUFS);
	CU_ASSERT_EQUAL(grant_n(D, NULL, 0x1000, 3), 0);
	/* A revoke gives the owner its share back. */
	e = acl_entry(B->id, A->id, 0, R, 0x1000, 1);
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, &e, 1), 0);
	CU_ASSERT_EQUAL(A->nr_granted, 2);
	CU_ASSERT_EQUAL(grant_n(C, A, 0x5000, 1), 0);
	/* Destroying the grantee gives both owners theirs. */
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, B->id), 0);
	CU_ASSERT_EQUAL(A->nr_granted, 1);
	CU_ASSERT_EQUAL(C->nr_granted, 0);
	CU_ASSERT_EQUAL(L.nr_acl_granted, 1);
	/* Destroying an owner takes its grants out of the pool. */
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, A->id), 0);
	CU_ASSERT_EQUAL(L.nr_acl_granted, 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 6);
	down();
}

/* Each agent's own share, set by an admin, above or below the default. */
static void test_grant_share_per_agent(void)
{
	struct gdl_params p = test_params();

	p.max_acl_entries = 8;
	p.agent_max_acl_entries = 2;
	up(&p);
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, A->id, 0, 4), 0);
	CU_ASSERT_EQUAL(grant_n(B, A, 0, 4), 0);
	CU_ASSERT_EQUAL(grant_n(B, A, 8, 1), -EMFILE);
	/* Lowered under what it holds: nothing goes, nothing new comes. */
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, A->id, 0, 1), 0);
	CU_ASSERT_EQUAL(acl_count(&L, A->id), 4);
	CU_ASSERT_EQUAL(grant_n(B, A, 8, 1), -EMFILE);
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, A->id, 0, 9), -EINVAL);
	CU_ASSERT_EQUAL(grant_n(B, C, 0, 2), 0);
	CU_ASSERT_EQUAL(grant_n(B, C, 8, 1), -EMFILE);
	down();
}

/* A grantee may drop what others granted it, and nothing else. */
static void test_grantee_drops(void)
{
	struct gdl_acl_entry g, adm;

	up(NULL);
	g = acl_entry(B->id, A->id, 0, R, 0x1000, 16);
	adm = acl_entry(B->id, 0, 0, R, 0x1000, 16);
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &g, B->id, false, true), 0);
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &g, B->id, false, false), -EPERM);
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &g, C->id, false, true), -EPERM);
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &adm, B->id, false, true),
			-EPERM);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &g, 1), 0);
	CU_ASSERT_EQUAL(A->nr_granted, 1);
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, &g, 1), 0);
	CU_ASSERT_EQUAL(A->nr_granted, 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 0);
	down();
}

/* Granting what is there already publishes nothing and copies nothing. */
static void test_regrant_copies_nothing(void)
{
	struct gdl_acl_entry e[2];
	struct gdl_acl_set *set;

	up(NULL);
	e[0] = acl_entry(B->id, 0, 0, R, 0x1000, 16);
	e[1] = acl_entry(B->id, 0, 0, W, 0x1000, 16);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 2), 0);
	set = rcu_access_pointer(B->acl);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 2), 0);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e[1], 1), 0);
	CU_ASSERT_PTR_EQUAL(rcu_access_pointer(B->acl), set);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 2);
	down();
}

/* ---- the DMA check against a model ---- */

#define MODEL_N		3000
static struct gdl_acl_entry model[MODEL_N];
static u32 model_n;

/* Memory owners on device 0: A holds [0x1000, 0x9000), C [0x9000, ..). */
static u32 model_owner(u32 dev, u64 addr, u64 end)
{
	if (dev)
		return 0;
	if (addr >= 0x1000 && end <= 0x9000)
		return A->id;
	if (addr >= 0x9000 && end <= 0x11000)
		return C->id;
	return 0;
}

/* What B may do, by brute force over every entry: admin entries first. */
static u32 model_verdict(u32 dev, u32 rights, u64 addr, u64 end)
{
	u32 owner = model_owner(dev, addr, end), i, v = 0;

	for (i = 0; i < model_n; i++) {
		const struct gdl_acl_entry *e = &model[i];

		if (e->dev_index != dev || (e->rights & rights) != rights ||
		    e->addr > addr || e->addr + e->len < end)
			continue;
		if (!e->owner_id)
			return GDL_RESULT_ACL + 1;
		if (e->owner_id == owner)
			v = GDL_RESULT_GRANT + 1;
	}
	return v;
}

static u64 rnd(u64 n)
{
	return ((u64)rand() << 31 ^ (u64)rand()) % n;
}

static const u32 model_rights[] = { R, W, RW };

/* @n random checks by B; how many the set and the model disagree on. */
static u32 model_mismatches(u32 n)
{
	u32 q, res, bad = 0;

	for (q = 0; q < n; q++) {
		u32 dev = rnd(2), r = model_rights[rnd(3)];
		u64 addr = rnd(0x15000), len = 1 + rnd(0x2000);
		u32 want = model_verdict(dev, r, addr, addr + len);
		int ret = dma(&L, B, dev, r, addr, len, &res);

		if (want ? ret || res != want - 1 : ret != -EACCES)
			bad++;
	}
	return bad;
}

/*
 * Random sets in a small address space (so entries overlap a lot), with
 * a hostile part: many entries reaching the top of the address space with
 * the wrong rights or owner, which made the old walk-back O(n).
 */
static void test_check_matches_model(void)
{
	static struct gdl_acl_entry batch[GDL_ACL_BATCH_MAX];
	struct gdl_params p = test_params();
	u32 i, round, bad = 0;

	p.max_acl_entries = 1 << 16;
	up(&p);
	srand(12);
	CU_ASSERT_FATAL(reserve_at(&L, &O, A, 0, 0x1000, 0x8000, NULL) == 0);
	CU_ASSERT_FATAL(reserve_at(&L, &O, C, 0, 0x9000, 0x8000, NULL) == 0);
	for (round = 0; round < 3; round++) {
		u32 n = 1000;

		for (i = 0; i < n; i++) {
			struct gdl_acl_entry *e = &batch[i];
			u32 who = rnd(4);
			u64 addr = rnd(0x14000);

			*e = acl_entry(B->id, who == 0 ? 0 : who == 1 ? A->id :
				       who == 2 ? C->id : D->id, rnd(2),
				       model_rights[rnd(3)], addr,
				       rnd(8) ? 1 + rnd(0x3000) : -addr - 1);
			if (round == 2 && i < 900) {
				/* Huge, and never the rights asked for. */
				e->rights = W;
				e->owner_id = D->id;
				e->len = U64_MAX - e->addr;
			}
		}
		CU_ASSERT_FATAL(gdl_acl_grant(&L, batch, n) == 0);
		memcpy(&model[model_n], batch, n * sizeof(batch[0]));
		model_n += n;
		bad += model_mismatches(4000);
	}
	CU_ASSERT_EQUAL(bad, 0);
	/*
	 * Revoke half in random batches: the model and the set agree.  An
	 * entry the model also holds further down stays (the set holds it
	 * once).
	 */
	while (model_n > MODEL_N / 2) {
		u32 n = 1 + rnd(64), k = 0, j;

		for (i = model_n - n; i < model_n; i++) {
			for (j = 0; j < model_n - n; j++)
				if (!memcmp(&model[j], &model[i],
					    sizeof(model[0])))
					break;
			if (j == model_n - n)
				batch[k++] = model[i];
		}
		CU_ASSERT_FATAL(!k || gdl_acl_revoke(&L, batch, k) == 0);
		model_n -= n;
	}
	bad += model_mismatches(4000);
	CU_ASSERT_EQUAL(bad, 0);
	down();
}

/* In audit mode a denied check must not name another agent's memory. */
static void test_audit_hides_owner(void)
{
	struct gdl_params p = test_params();
	struct gdl_dma_check c = { 0 };

	p.enforce = false;
	up(&p);
	CU_ASSERT_FATAL(reserve_at(&L, &O, A, 0, 0x1000, 0x1000, NULL) == 0);
	c.access = R;
	c.addr = 0x1000;
	c.len = 16;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, B, &c), 0);
	CU_ASSERT_EQUAL(c.result, GDL_RESULT_AUDIT);
	CU_ASSERT_EQUAL(c.owner_id, 0);
	/* Its own memory is still named. */
	memset(&c, 0, sizeof(c));
	c.access = R;
	c.addr = 0x1000;
	c.len = 16;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, A, &c), 0);
	CU_ASSERT_EQUAL(c.owner_id, A->id);
	down();
}

/* ---- tenant paths while an admin holds admin_lock ---- */

static int tenant_done;

static void *tenant_paths(void *arg)
{
	struct gdl_stats s;
	struct gdl_owner o;

	gdl_owner_init(&L, &o);
	gdl_stats_snapshot(&L, &s, false);
	gdl_owner_fini(&L, &o);
	__atomic_store_n(&tenant_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_tenant_paths_skip_admin_lock(void)
{
	struct timespec t = { 0, 10 * 1000 * 1000 };
	pthread_t th;
	int i;

	up(NULL);
	tenant_done = 0;
	mutex_lock(&L.admin_lock);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, tenant_paths, NULL) == 0);
	for (i = 0; i < 500 && !__atomic_load_n(&tenant_done,
						__ATOMIC_ACQUIRE); i++)
		nanosleep(&t, NULL);
	/* open, close and a tenant's STATS finished while it was held. */
	CU_ASSERT_EQUAL(__atomic_load_n(&tenant_done, __ATOMIC_ACQUIRE), 1);
	mutex_unlock(&L.admin_lock);
	pthread_join(th, NULL);
	down();
}

/* poll() must not wake a tenant for events it may not read. */
static void test_pending_filtered(void)
{
	u64 cursor;

	up(NULL);
	cursor = gdl_events_head(&L);
	CU_ASSERT_EQUAL(dma(&L, A, 0, R, 0x100, 1, NULL), -EACCES);
	CU_ASSERT_TRUE(gdl_events_pending(&L, cursor, 0));
	CU_ASSERT_TRUE(gdl_events_pending(&L, cursor, A->id));
	CU_ASSERT_FALSE(gdl_events_pending(&L, cursor, B->id));
	down();
}

void register_isolation_suite(void)
{
	CU_pSuite s = CU_add_suite("isolation", NULL, NULL);

	ADD_TEST(s, test_grant_shares);
	ADD_TEST(s, test_grant_share_per_agent);
	ADD_TEST(s, test_grantee_drops);
	ADD_TEST(s, test_regrant_copies_nothing);
	ADD_TEST(s, test_check_matches_model);
	ADD_TEST(s, test_audit_hides_owner);
	ADD_TEST(s, test_tenant_paths_skip_admin_lock);
	ADD_TEST(s, test_pending_filtered);
}

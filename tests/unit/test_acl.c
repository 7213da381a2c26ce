// SPDX-License-Identifier: GPL-2.0
/* DMA checks, grants, admin ACL entries and peer rights. */
#include <errno.h>

#include "helpers.h"

#define R	GDL_ACCESS_READ
#define W	GDL_ACCESS_WRITE
#define RW	(GDL_ACCESS_READ | GDL_ACCESS_WRITE)
#define P	GDL_ACCESS_PEER

static struct gdl_ledger L;
static struct gdl_owner O;
static struct gdl_agent *A, *B, *C;
static u32 D0, D1;

/* A holds [0x1000, 0x2000) on D0, B holds [0x2000, 0x3000). */
static void setup(bool enforce)
{
	struct gdl_params p = test_params();

	p.enforce = enforce;
	ledger_up(&L, &p);
	gdl_owner_init(&L, &O);
	D0 = add_dev(&L, "gpu0", GiB);
	D1 = add_dev(&L, "gpu1", GiB);
	A = gdl_agent_get(&L, new_agent(&L, "A", GDL_QUOTA_UNLIMITED));
	B = gdl_agent_get(&L, new_agent(&L, "B", GDL_QUOTA_UNLIMITED));
	C = gdl_agent_get(&L, new_agent(&L, "C", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_FATAL(reserve_at(&L, &O, A, D0, 0x1000, 0x1000, NULL) == 0);
	CU_ASSERT_FATAL(reserve_at(&L, &O, B, D0, 0x2000, 0x1000, NULL) == 0);
}

static void teardown(void)
{
	gdl_owner_fini(&L, &O);
	gdl_agent_put(&L, A);
	gdl_agent_put(&L, B);
	gdl_agent_put(&L, C);
	ledger_down(&L);
}

static int grant1(struct gdl_acl_entry e)
{
	return gdl_acl_grant(&L, &e, 1);
}

static int revoke1(struct gdl_acl_entry e)
{
	return gdl_acl_revoke(&L, &e, 1);
}

static void test_own_memory(void)
{
	struct gdl_dma_check c = { 0 };
	u32 res;

	setup(true);
	CU_ASSERT_EQUAL(dma(&L, A, D0, R, 0x1000, 0x1000, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_OK);
	CU_ASSERT_EQUAL(dma(&L, A, D0, RW, 0x1800, 0x10, &res), 0);
	CU_ASSERT_EQUAL(dma(&L, A, D0, W, 0x1fff, 1, &res), 0);
	/* One byte outside, or into B's reservation. */
	CU_ASSERT_EQUAL(dma(&L, A, D0, R, 0x0fff, 2, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, A, D0, R, 0x1000, 0x1001, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, A, D0, R, 0x2000, 1, NULL), -EACCES);
	/* Unreserved memory, and the same range on another device. */
	CU_ASSERT_EQUAL(dma(&L, A, D0, R, 0x8000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, A, D1, R, 0x1000, 1, NULL), -EACCES);
	/* Another agent. */
	c.dev_index = D0;
	c.access = R;
	c.addr = 0x1000;
	c.len = 0x10;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, B, &c), -EACCES);
	CU_ASSERT_EQUAL(c.owner_id, A->id);
	CU_ASSERT_EQUAL(quota_of(&L, B, D0).denied, 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_DMA_DENIED), 6);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_DMA_ALLOWED), 3);
	teardown();
}

static void test_dma_check_invalid(void)
{
	struct gdl_dma_check c = {
		.dev_index = 0, .access = R, .addr = 0x1000, .len = 1,
		.peer_index = 1,
	};

	setup(true);
	CU_ASSERT_EQUAL(dma(&L, A, D0, 0, 0x1000, 1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(dma(&L, A, D0, 0x8, 0x1000, 1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(dma(&L, A, D0, R | 0x10, 0x1000, 1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(dma(&L, A, D0, R, 0x1000, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(dma(&L, A, D0, P, 0, 1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(dma(&L, A, D0, P, 1, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdl_dma_check(&L, A, &c), -EINVAL);	/* peer w/o P */
	CU_ASSERT_EQUAL(dma(&L, A, D0, R, U64_MAX, 2, NULL), -EOVERFLOW);
	CU_ASSERT_EQUAL(dma(&L, A, GDL_MAX_DEVICES, R, 0, 1, NULL), -ENODEV);
	CU_ASSERT_EQUAL(dma(&L, A, 5, R, 0, 1, NULL), -ENODEV);
	CU_ASSERT_EQUAL(dma_peer(&L, A, D0, D0), -ENODEV);
	CU_ASSERT_EQUAL(dma_peer(&L, A, D0, GDL_MAX_DEVICES), -ENODEV);
	CU_ASSERT_EQUAL(dma_peer(&L, A, D0, 5), -ENODEV);
	CU_ASSERT_EQUAL(dma_peer(&L, A, 5, D0), -ENODEV);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_DMA_DENIED), 0);
	CU_ASSERT_EQUAL(quota_of(&L, A, D0).denied, 0);
	teardown();
}

static void test_grant(void)
{
	u32 res;

	setup(true);
	/* B may read the first half of A's reservation. */
	CU_ASSERT_EQUAL(grant1(acl_entry(B->id, A->id, D0, R, 0x1000, 0x800)),
			0);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1000, 0x800, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_GRANT);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x17ff, 1, &res), 0);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1000, 0x801, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1800, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, B, D0, W, 0x1000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, B, D0, RW, 0x1000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, B, D1, R, 0x1000, 1, NULL), -EACCES);

	/* A grant of a range covering both reservations. */
	CU_ASSERT_EQUAL(grant1(acl_entry(C->id, A->id, D0, RW, 0, 0x10000)), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, RW, 0x1000, 0x1000, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_GRANT);
	/* It covers A's memory only: not B's, nor a span of both, nor free. */
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x2000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1fff, 2, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x8000, 1, NULL), -EACCES);
	/* Memory A reserves later is covered; memory A released is not. */
	CU_ASSERT_EQUAL(reserve_at(&L, &O, A, D0, 0x8000, 0x100, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x8000, 0x100, NULL), 0);
	gdl_owner_fini(&L, &O);
	gdl_owner_init(&L, &O);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x8000, 0x100, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1000, 0x100, NULL), -EACCES);
	/* B now holding that memory does not inherit A's grant. */
	CU_ASSERT_EQUAL(reserve_at(&L, &O, B, D0, 0x1000, 0x100, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1000, 0x100, NULL), -EACCES);
	teardown();
}

static void test_admin_entries(void)
{
	u32 res;

	setup(true);
	CU_ASSERT_EQUAL(grant1(acl_entry(C->id, 0, D0, R, 0x1800, 0x1000)), 0);
	/* Any memory in range: A's, B's, spanning both, or unreserved. */
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1800, 0x800, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_ACL);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x2000, 0x800, &res), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1800, 0x1000, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_ACL);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x27ff, 1, NULL), 0);
	/* Boundaries. */
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x17ff, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1800, 0x1001, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x2800, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x1800, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D1, R, 0x1800, 1, NULL), -EACCES);
	/* Unreserved memory via an admin entry. */
	CU_ASSERT_EQUAL(grant1(acl_entry(C->id, 0, D1, W, 0, 0x100)), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D1, W, 0, 0x100, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_ACL);
	/* Own memory is allowed before any ACL is consulted. */
	CU_ASSERT_EQUAL(dma(&L, A, D0, RW, 0x1800, 0x10, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_OK);
	teardown();
}

static void test_overlapping_entries(void)
{
	struct gdl_acl_entry e[8];
	u32 i, res;

	setup(true);
	/* One wide entry, then many narrow ones that sort after it. */
	e[0] = acl_entry(C->id, 0, D0, R, 0, 0x100000);
	for (i = 1; i < 6; i++)
		e[i] = acl_entry(C->id, 0, D0, W, i * 0x1000, 0x100);
	e[6] = acl_entry(C->id, A->id, D0, W, 0x1000, 0x1000);
	e[7] = acl_entry(C->id, 0, D1, RW, 0, 0x200000);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 8), 0);
	CU_ASSERT_EQUAL(acl_count(&L, C->id), 8);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x80000, 0x10, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_ACL);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x5050, 0x10, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0xfffff, 1, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0xfffff, 2, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x3000, 0x100, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x3000, 0x101, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x30ff, 1, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x3100, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x6000, 1, NULL), -EACCES);
	/* A's grant covers all of A's reservation for writing... */
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x1800, 0x800, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_GRANT);
	/* ...where the narrow admin entry also matches: ACL or GRANT. */
	CU_ASSERT_EQUAL(dma(&L, C, D0, W, 0x1000, 0x100, &res), 0);
	CU_ASSERT(res == GDL_RESULT_ACL || res == GDL_RESULT_GRANT);
	CU_ASSERT_EQUAL(dma(&L, C, D1, RW, 0x1fffff, 1, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, D1, RW, 0x1fffff, 2, NULL), -EACCES);
	teardown();
}

static void test_peer(void)
{
	struct gdl_dma_check c = { 0 };
	u32 res;

	setup(true);
	CU_ASSERT_EQUAL(dma_peer(&L, A, D0, D1), -EACCES);
	CU_ASSERT_EQUAL(grant1(peer_entry(A->id, D0, D1)), 0);
	c.dev_index = D0;
	c.peer_index = D1;
	c.access = P;
	c.result = 0xdead;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, A, &c), 0);
	CU_ASSERT_EQUAL(c.result, GDL_RESULT_OK);
	CU_ASSERT_EQUAL(c.owner_id, 0);
	CU_ASSERT_EQUAL(dma_peer(&L, B, D0, D1), -EACCES);
	/* Peer plus a range: both must pass. */
	c.access = P | R;
	c.addr = 0x1000;
	c.len = 0x10;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, A, &c), 0);
	c.addr = 0x2000;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, A, &c), -EACCES);
	c.addr = 0x1000;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, B, &c), -EACCES);
	/* Read/write entries give no peer right. */
	CU_ASSERT_EQUAL(grant1(acl_entry(B->id, 0, D0, RW, 0, 0x100000)), 0);
	CU_ASSERT_EQUAL(gdl_dma_check(&L, B, &c), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1000, 0x10, &res), 0);
	/* Revoking the peer entry takes the right away. */
	CU_ASSERT_EQUAL(revoke1(peer_entry(A->id, D0, D1)), 0);
	CU_ASSERT_EQUAL(dma_peer(&L, A, D0, D1), -EACCES);
	CU_ASSERT_EQUAL(acl_count(&L, A->id), 0);
	teardown();
}

static void test_revoke(void)
{
	struct gdl_acl_entry e[3], bad[2];

	setup(true);
	e[0] = acl_entry(B->id, A->id, D0, R, 0x1000, 0x1000);
	e[1] = acl_entry(C->id, 0, D0, RW, 0, 0x100);
	e[2] = peer_entry(C->id, D1, D0);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 3), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 3);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 3);
	/* Exact match only. */
	CU_ASSERT_EQUAL(revoke1(acl_entry(B->id, A->id, D0, R, 0x1000, 0xfff)),
			-ENOENT);
	CU_ASSERT_EQUAL(revoke1(acl_entry(B->id, A->id, D0, RW, 0x1000,
					  0x1000)), -ENOENT);
	CU_ASSERT_EQUAL(revoke1(acl_entry(B->id, 0, D0, R, 0x1000, 0x1000)),
			-ENOENT);
	CU_ASSERT_EQUAL(revoke1(acl_entry(A->id, A->id, D0, R, 0x1000,
					  0x1000)), -ENOENT);	/* no set */
	CU_ASSERT_EQUAL(revoke1(acl_entry(0x7777, 0, D0, R, 0, 1)), -ENOENT);
	CU_ASSERT_EQUAL(revoke1(acl_entry(B->id, 0, 7, R, 0, 1)), -ENODEV);
	/* A batch with one absent entry removes nothing. */
	bad[0] = e[1];
	bad[1] = acl_entry(C->id, 0, D0, RW, 0, 0x101);
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, bad, 2), -ENOENT);
	bad[0] = e[0];
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, bad, 2), -ENOENT);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 3);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 3);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1000, 1, NULL), 0);
	/* Two grantees in one batch. */
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, e, 2), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 1);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma_peer(&L, C, D1, D0), 0);
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, e, 1), -ENOENT);
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, &e[2], 1), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 0);
	CU_ASSERT_PTR_NULL(rcu_access_pointer(C->acl));
	teardown();
}

static void test_duplicates_merged(void)
{
	struct gdl_acl_entry e[3];

	setup(true);
	e[0] = acl_entry(B->id, A->id, D0, R, 0x1000, 0x1000);
	e[1] = e[0];
	e[2] = acl_entry(B->id, A->id, D0, W, 0x1000, 0x1000);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 2), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 3), 0);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 3), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 2);
	/* One revoke removes the merged entry. */
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, e, 1), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, B, D0, W, 0x1000, 1, NULL), 0);
	teardown();
}

static void test_validate(void)
{
	struct gdl_acl_entry e;
	u32 a, b;

	setup(true);
	a = A->id;
	b = B->id;
#define V(entry, caller, admin, err) do {				\
		e = (entry);						\
		CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, caller, admin, false), err); \
	} while (0)
	V(acl_entry(b, a, 0, R, 0x1000, 1), a, false, 0);
	V(acl_entry(b, a, 0, RW, 0x1000, 1), 0, true, 0);
	V(acl_entry(b, 0, 0, R, 0x1000, 1), 0, true, 0);
	/* Reserved fields. */
	e = acl_entry(b, a, 0, R, 0x1000, 1);
	e.reserved0 = 1;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, a, true, false), -EINVAL);
	e.reserved0 = 0;
	e.reserved[0] = 1;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, a, true, false), -EINVAL);
	e.reserved[0] = 0;
	e.reserved[1] = 1ULL << 63;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, a, true, false), -EINVAL);
	/* Rights. */
	V(acl_entry(b, a, 0, 0, 0x1000, 1), a, false, -EINVAL);
	V(acl_entry(b, a, 0, 0x8, 0x1000, 1), a, false, -EINVAL);
	V(acl_entry(b, a, 0, R | 0x100, 0x1000, 1), a, false, -EINVAL);
	/* Ranges. */
	V(acl_entry(b, a, 0, R, 0x1000, 0), a, false, -EINVAL);
	V(acl_entry(b, a, 0, R, U64_MAX, 1), a, false, -EOVERFLOW);
	V(acl_entry(b, a, 0, R, U64_MAX, 1), 0, true, -EOVERFLOW);
	V(acl_entry(b, a, 0, R, U64_MAX - 1, 1), a, false, 0);
	V(acl_entry(b, a, GDL_MAX_DEVICES, R, 0, 1), a, false, -ENODEV);
	e = acl_entry(b, a, 0, R, 0, 1);
	e.peer_index = 1;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, a, false, false), -EINVAL);
	/* Tenants grant their own memory, nothing else. */
	V(acl_entry(b, b, 0, R, 0, 1), a, false, -EPERM);
	V(acl_entry(b, 0, 0, R, 0, 1), a, false, -EPERM);
	V(acl_entry(b, 0, 0, R, 0, 1), 0, false, -EPERM);
	V(acl_entry(b, a, 0, R, 0, 1), 0, false, -EPERM);
	/* Peer entries: a device pair, no range, admin only. */
	V(peer_entry(b, 0, 1), 0, true, 0);
	V(peer_entry(b, 0, 1), a, false, -EPERM);
	V(peer_entry(b, 0, 0), 0, true, -ENODEV);
	V(peer_entry(b, 0, GDL_MAX_DEVICES), 0, true, -ENODEV);
	V(peer_entry(b, GDL_MAX_DEVICES, 0), 0, true, -ENODEV);
	e = peer_entry(b, 0, 1);
	e.addr = 1;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, 0, true, false), -EINVAL);
	e = peer_entry(b, 0, 1);
	e.len = 1;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, 0, true, false), -EINVAL);
	e = peer_entry(b, 0, 1);
	e.owner_id = a;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, 0, true, false), -EINVAL);
	e = peer_entry(b, 0, 1);
	e.rights |= R;
	CU_ASSERT_EQUAL(gdl_acl_validate(&L, &e, 0, true, false), -EINVAL);
#undef V
	teardown();
}

static void test_grant_targets(void)
{
	struct gdl_acl_entry e[2];

	setup(true);
	CU_ASSERT_EQUAL(grant1(acl_entry(0, 0, D0, R, 0, 1)), -ENOENT);
	CU_ASSERT_EQUAL(grant1(acl_entry(B->id + 1, 0, D0, R, 0, 1)), -ENOENT);
	CU_ASSERT_EQUAL(grant1(acl_entry(B->id, C->id + 1, D0, R, 0, 1)),
			-ENOENT);
	CU_ASSERT_EQUAL(grant1(acl_entry(B->id, 0, 7, R, 0, 1)), -ENODEV);
	CU_ASSERT_EQUAL(grant1(peer_entry(B->id, D0, 7)), -ENODEV);
	/* All or nothing: one bad entry, nothing granted. */
	e[0] = acl_entry(B->id, 0, D0, R, 0, 1);
	e[1] = acl_entry(C->id, 0, 9, R, 0, 1);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 2), -ENODEV);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 0);
	teardown();
}

static void test_acl_limit(void)
{
	struct gdl_params p = test_params();
	struct gdl_acl_entry e[6];
	u32 i;

	p.max_acl_entries = 4;
	ledger_up(&L, &p);
	gdl_owner_init(&L, &O);
	D0 = add_dev(&L, "gpu0", GiB);
	A = gdl_agent_get(&L, new_agent(&L, "A", GDL_QUOTA_UNLIMITED));
	B = gdl_agent_get(&L, new_agent(&L, "B", GDL_QUOTA_UNLIMITED));
	C = gdl_agent_get(&L, new_agent(&L, "C", GDL_QUOTA_UNLIMITED));
	for (i = 0; i < 6; i++)
		e[i] = acl_entry(i < 3 ? B->id : C->id, 0, D0, R, i * 16, 16);
	/* Two grantees of three entries each: 6 > 4 for the batch. */
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 6), -ENOBUFS);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 0);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 4), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 4);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e[4], 1), -ENOBUFS);
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, &e[0], 1), 0);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e[4], 1), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 4);
	teardown();
}

static void test_list_filter(void)
{
	struct gdl_acl_entry e[3], out[4];
	u32 total;

	setup(true);
	e[0] = acl_entry(B->id, A->id, D0, R, 0x1000, 0x10);
	e[1] = acl_entry(C->id, 0, D1, W, 0x40, 0x20);
	e[2] = acl_entry(C->id, B->id, D0, RW, 0x2000, 0x10);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 3), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 3);
	CU_ASSERT_EQUAL(acl_count(&L, A->id), 1);	/* as owner */
	CU_ASSERT_EQUAL(acl_count(&L, B->id), 2);	/* grantee + owner */
	CU_ASSERT_EQUAL(acl_count(&L, C->id), 2);
	CU_ASSERT_EQUAL(acl_count(&L, L.default_agent_id), 0);
	memset(out, 0xff, sizeof(out));
	CU_ASSERT_EQUAL(gdl_acl_list(&L, A->id, out, 4, &total), 0);
	CU_ASSERT_EQUAL(total, 1);
	CU_ASSERT_EQUAL(memcmp(&out[0], &e[0], sizeof(e[0])), 0);
	/* A short buffer: total still counts everything. */
	memset(out, 0xff, sizeof(out));
	CU_ASSERT_EQUAL(gdl_acl_list(&L, C->id, out, 1, &total), 0);
	CU_ASSERT_EQUAL(total, 2);
	CU_ASSERT(!memcmp(&out[0], &e[1], sizeof(e[0])) ||
		  !memcmp(&out[0], &e[2], sizeof(e[0])));
	CU_ASSERT_EQUAL(out[1].agent_id, 0xffffffffU);	/* untouched */
	teardown();
}

static void test_destroy_purges(void)
{
	struct gdl_acl_entry e[4];
	setup(true);
	e[0] = acl_entry(B->id, A->id, D0, R, 0x1000, 0x10);
	e[1] = acl_entry(C->id, A->id, D0, R, 0x1000, 0x10);
	e[2] = acl_entry(C->id, B->id, D0, R, 0x2000, 0x10);
	e[3] = acl_entry(A->id, 0, D0, R, 0x2000, 0x10);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 4), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 4);
	/* A's grants to others and A's own entries go. */
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, A->id), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
	CU_ASSERT_EQUAL(acl_count(&L, C->id), 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 1);
	CU_ASSERT_PTR_NULL(rcu_access_pointer(B->acl));
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x1000, 1, NULL), -EACCES);
	CU_ASSERT_EQUAL(dma(&L, C, D0, R, 0x2000, 1, NULL), 0);
	/* Destroying a grantee takes its entries out of the count too. */
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, C->id), 0);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 0);
	CU_ASSERT_EQUAL(atomic_read(&L.nr_acl_entries), 0);
	teardown();
}

static void test_audit_mode(void)
{
	u32 res;

	setup(false);
	CU_ASSERT_EQUAL(dma(&L, B, D0, RW, 0x1000, 0x10, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_AUDIT);
	CU_ASSERT_EQUAL(dma_peer(&L, B, D0, D1), 0);
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x2000, 0x10, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_OK);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_AUDIT_OVERRIDES), 2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_DMA_ALLOWED), 3);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_DMA_DENIED), 0);
	CU_ASSERT_EQUAL(quota_of(&L, B, D0).denied, 2);
	/* Invalid requests are still refused. */
	CU_ASSERT_EQUAL(dma(&L, B, D0, R, 0x1000, 0, NULL), -EINVAL);
	teardown();
}

void register_acl_suite(void)
{
	CU_pSuite s = CU_add_suite("acl", NULL, NULL);

	ADD_TEST(s, test_own_memory);
	ADD_TEST(s, test_dma_check_invalid);
	ADD_TEST(s, test_grant);
	ADD_TEST(s, test_admin_entries);
	ADD_TEST(s, test_overlapping_entries);
	ADD_TEST(s, test_peer);
	ADD_TEST(s, test_revoke);
	ADD_TEST(s, test_duplicates_merged);
	ADD_TEST(s, test_validate);
	ADD_TEST(s, test_grant_targets);
	ADD_TEST(s, test_acl_limit);
	ADD_TEST(s, test_list_filter);
	ADD_TEST(s, test_destroy_purges);
	ADD_TEST(s, test_audit_mode);
}

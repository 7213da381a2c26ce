// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation-failure injection: fail the n-th allocation of an operation
 * for n = 0, 1, ... until it succeeds.  Every failure must be -ENOMEM and
 * leave nothing behind: live allocations back to where they were, ledger
 * consistent, nothing half-published.
 */
#include <errno.h>

#include "helpers.h"

static struct gdl_ledger L;
static struct gdl_owner O;

/* Run @op with the n-th allocation failing, for every n; returns sites. */
#define FAIL_EACH(op, on_fail, on_success) ({				\
	int __n, __ret;							\
	for (__n = 0; __n < 64; __n++) {				\
		long __live = gdl_test_alloc_live();			\
		gdl_test_fail_alloc_after(__n);				\
		__ret = (op);						\
		gdl_test_fail_alloc_after(-1);				\
		if (!gdl_test_alloc_failed()) {				\
			CU_ASSERT_EQUAL(__ret, 0);			\
			on_success;					\
			break;						\
		}							\
		CU_ASSERT_EQUAL(__ret, -ENOMEM);			\
		CU_ASSERT_EQUAL(gdl_test_alloc_live(), __live);	\
		on_fail;						\
	}								\
	CU_ASSERT(__n < 64);						\
	__n;								\
})

static void test_fail_ledger_init(void)
{
	struct gdl_params p = test_params();
	long live = gdl_test_alloc_live();
	int sites;

	sites = FAIL_EACH(gdl_ledger_init(&L, &p), (void)0, (void)0);
	/* the key table, agents, stats, events, their index, default */
	CU_ASSERT_EQUAL(sites, 6);
	CU_ASSERT_EQUAL(L.nr_slots, p.max_agents + 2);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_ledger_destroy(&L);
	rcu_barrier();
	CU_ASSERT_EQUAL(gdl_test_alloc_live(), live);
}

static void test_fail_agent_create(void)
{
	u32 id = 0;
	int sites;

	ledger_up(&L, NULL);
	sites = FAIL_EACH(agent_create(&L, "x", 1, &id),
			  CU_ASSERT_EQUAL(L.nr_agents, 0), (void)0);
	CU_ASSERT_EQUAL(sites, 1);
	CU_ASSERT_PTR_NOT_NULL(gdl_agent_locked(&L, id));
	CU_ASSERT_EQUAL(L.nr_agents, 1);
	ledger_down(&L);
}

static void test_fail_device_add(void)
{
	struct gdl_device_info in = { .capacity = 1, .name = "g" };
	u32 idx = 99;
	int sites;

	ledger_up(&L, NULL);
	sites = FAIL_EACH(gdl_device_add(&L, &in, 0, &idx),
			  CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_DEVICES), 0),
			  (void)0);
	CU_ASSERT_EQUAL(sites, 1);
	CU_ASSERT_EQUAL(idx, 0);
	ledger_down(&L);
}

static void reserve_case(u32 flags)
{
	struct gdl_agent *a;
	struct gdl_reserve r;
	int sites;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &O);
	add_dev(&L, "g", GiB);
	a = gdl_agent_get(&L, new_agent(&L, "a", 100));
	sites = FAIL_EACH(reserve_req(&L, &O, a, &r, 0, flags,
				      flags ? 0x1000 : 0, 100), ({
		CU_ASSERT(gdl_ledger_consistent(&L));
		CU_ASSERT_EQUAL(quota_of(&L, a, 0).usage, 0);
		CU_ASSERT_EQUAL(quota_of(&L, a, 0).denied, 0);
		CU_ASSERT_EQUAL(atomic_read(&L.nr_reservations), 0);
		CU_ASSERT_EQUAL(owner_count(&O), 0);
		CU_ASSERT_PTR_NULL(rcu_dereference_protected(
				L.devices[0], 1)->ranges.rb_node);
	}), (void)0);
	CU_ASSERT_EQUAL(sites, 1);
	CU_ASSERT_EQUAL(quota_of(&L, a, 0).usage, 100);
	CU_ASSERT_EQUAL(owner_count(&O), 1);
	gdl_owner_fini(&L, &O);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

static void test_fail_reserve(void)
{
	reserve_case(0);
}

static void test_fail_reserve_addr(void)
{
	reserve_case(GDL_RESERVE_F_ADDR);
}

/* Agents A, B, C on device 0; A holds [0x1000, 0x2000). */
static struct gdl_agent *A, *B, *C;

static void acl_setup(void)
{
	ledger_up(&L, NULL);
	gdl_owner_init(&L, &O);
	add_dev(&L, "g0", GiB);
	add_dev(&L, "g1", GiB);
	A = gdl_agent_get(&L, new_agent(&L, "A", GDL_QUOTA_UNLIMITED));
	B = gdl_agent_get(&L, new_agent(&L, "B", GDL_QUOTA_UNLIMITED));
	C = gdl_agent_get(&L, new_agent(&L, "C", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_FATAL(reserve_at(&L, &O, A, 0, 0x1000, 0x1000, NULL) == 0);
}

static void acl_teardown(void)
{
	gdl_owner_fini(&L, &O);
	gdl_agent_put(&L, A);
	gdl_agent_put(&L, B);
	gdl_agent_put(&L, C);
	ledger_down(&L);
}

static void test_fail_acl_grant(void)
{
	struct gdl_acl_entry e[3], pre;
	int sites;

	acl_setup();
	pre = acl_entry(B->id, 0, 0, GDL_ACCESS_WRITE, 0, 0x100);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &pre, 1), 0);
	e[0] = acl_entry(B->id, A->id, 0, GDL_ACCESS_READ, 0x1000, 0x1000);
	e[1] = acl_entry(C->id, A->id, 0, GDL_ACCESS_READ, 0x1000, 0x1000);
	e[2] = peer_entry(C->id, 0, 1);
	sites = FAIL_EACH(gdl_acl_grant(&L, e, 3), ({
		CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
		CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 1);
		CU_ASSERT_EQUAL(dma(&L, B, 0, GDL_ACCESS_READ, 0x1000, 1,
				    NULL), -EACCES);
		CU_ASSERT_EQUAL(dma_peer(&L, C, 0, 1), -EACCES);
		CU_ASSERT_EQUAL(dma(&L, B, 0, GDL_ACCESS_WRITE, 0, 1, NULL), 0);
	}), (void)0);
	/* sorted batch, set array, one set per grantee */
	CU_ASSERT_EQUAL(sites, 4);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 4);
	CU_ASSERT_EQUAL(dma(&L, B, 0, GDL_ACCESS_READ, 0x1000, 1, NULL), 0);
	CU_ASSERT_EQUAL(dma(&L, C, 0, GDL_ACCESS_READ, 0x1000, 1, NULL), 0);
	CU_ASSERT_EQUAL(dma_peer(&L, C, 0, 1), 0);
	acl_teardown();
}

static void test_fail_acl_revoke(void)
{
	struct gdl_acl_entry e[4];
	int sites;

	acl_setup();
	e[0] = acl_entry(B->id, A->id, 0, GDL_ACCESS_READ, 0x1000, 0x1000);
	e[1] = acl_entry(C->id, A->id, 0, GDL_ACCESS_READ, 0x1000, 0x1000);
	e[2] = peer_entry(C->id, 0, 1);
	e[3] = acl_entry(B->id, 0, 0, GDL_ACCESS_WRITE, 0, 0x100);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 4), 0);
	sites = FAIL_EACH(gdl_acl_revoke(&L, e, 3), ({
		CU_ASSERT_EQUAL(acl_count(&L, 0), 4);
		CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 4);
		CU_ASSERT_EQUAL(dma(&L, B, 0, GDL_ACCESS_READ, 0x1000, 1,
				    NULL), 0);
		CU_ASSERT_EQUAL(dma_peer(&L, C, 0, 1), 0);
	}), (void)0);
	/* sorted batch, set array, found indices, one set per grantee */
	CU_ASSERT_EQUAL(sites, 5);
	CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 1);
	CU_ASSERT_EQUAL(dma_peer(&L, C, 0, 1), -EACCES);
	acl_teardown();
}

/*
 * Destroy prepares the purge of the agent's grants from every other set
 * before changing anything: when an allocation fails it returns -ENOMEM
 * and the agent, its grants and the ledger are exactly as before.
 */
static void test_fail_agent_destroy_purge(void)
{
	struct gdl_acl_entry e[3];
	long live;
	int n, ret;

	for (n = 0; n < 8; n++) {
		acl_setup();
		gdl_owner_fini(&L, &O);	/* A holds nothing */
		gdl_owner_init(&L, &O);
		e[0] = acl_entry(B->id, A->id, 0, GDL_ACCESS_READ, 0, 0x10000);
		e[1] = acl_entry(C->id, A->id, 0, GDL_ACCESS_READ, 0, 0x10000);
		e[2] = acl_entry(C->id, 0, 0, GDL_ACCESS_WRITE, 0, 0x10);
		CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 3), 0);
		live = gdl_test_alloc_live();
		gdl_test_fail_alloc_after(n);
		ret = gdl_agent_destroy(&L, A->id);
		gdl_test_fail_alloc_after(-1);
		CU_ASSERT(gdl_ledger_consistent(&L));
		CU_ASSERT_EQUAL(acl_count(&L, 0),
				stat(&L, GDL_STAT_LIVE_ACL_ENTRIES));
		CU_ASSERT_EQUAL(dma(&L, C, 0, GDL_ACCESS_WRITE, 0, 1, NULL), 0);
		if (ret) {
			/* Nothing changed: A and both of its grants remain. */
			CU_ASSERT_EQUAL(ret, -ENOMEM);
			CU_ASSERT(gdl_test_alloc_failed());
			CU_ASSERT_EQUAL(acl_count(&L, 0), 3);
			CU_ASSERT_EQUAL(acl_count(&L, A->id), 2);
			CU_ASSERT_EQUAL(gdl_test_alloc_live(), live);
			acl_teardown();	/* asserts nothing leaked */
			continue;
		}
		CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
		CU_ASSERT(gdl_test_alloc_live() <= live);
		/* A's old memory, now reserved by B: no grant covers it. */
		CU_ASSERT_EQUAL(reserve_at(&L, &O, B, 0, 0, 0x100, NULL), 0);
		CU_ASSERT_EQUAL(dma(&L, C, 0, GDL_ACCESS_READ, 0, 1, NULL),
				-EACCES);
		acl_teardown();
		break;
	}
	CU_ASSERT(n >= 3);	/* the table, then one set per other grantee */
}

/*
 * Removing a device purges every ACL entry naming it (as the device or as
 * a peer), so nothing applies to a later device at the same index; on
 * allocation failure the removal is refused and nothing changed.
 */
static void test_fail_device_remove_purge(void)
{
	struct gdl_acl_entry e[3];
	u32 d2;
	int n, ret;

	for (n = 0; n < 8; n++) {
		acl_setup();
		d2 = add_dev(&L, "spare", GDL_QUOTA_UNLIMITED);
		e[0] = acl_entry(B->id, 0, d2, GDL_ACCESS_READ, 0, 0x1000);
		e[1] = peer_entry(C->id, 0, d2);
		e[2] = acl_entry(C->id, 0, 0, GDL_ACCESS_READ, 0, 0x1000);
		CU_ASSERT_EQUAL(gdl_acl_grant(&L, e, 3), 0);
		gdl_test_fail_alloc_after(n);
		ret = gdl_device_remove(&L, d2);
		gdl_test_fail_alloc_after(-1);
		if (ret) {
			CU_ASSERT_EQUAL(ret, -ENOMEM);
			CU_ASSERT_EQUAL(dev_info(&L, d2).index, d2);
			CU_ASSERT_EQUAL(acl_count(&L, 0), 3);
			CU_ASSERT_EQUAL(dma_peer(&L, C, 0, d2), 0);
			acl_teardown();
			continue;
		}
		CU_ASSERT_EQUAL(acl_count(&L, 0), 1);
		CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_ACL_ENTRIES), 1);
		/* A new device at the same index inherits no right. */
		CU_ASSERT_EQUAL(add_dev(&L, "newcomer", GDL_QUOTA_UNLIMITED), d2);
		CU_ASSERT_EQUAL(dma(&L, B, d2, GDL_ACCESS_READ, 0, 1, NULL),
				-EACCES);
		CU_ASSERT_EQUAL(dma_peer(&L, C, 0, d2), -EACCES);
		acl_teardown();
		break;
	}
	CU_ASSERT(n >= 2);
}

void register_alloc_fail_suite(void)
{
	CU_pSuite s = CU_add_suite("alloc_fail", NULL, NULL);

	ADD_TEST(s, test_fail_ledger_init);
	ADD_TEST(s, test_fail_agent_create);
	ADD_TEST(s, test_fail_device_add);
	ADD_TEST(s, test_fail_reserve);
	ADD_TEST(s, test_fail_reserve_addr);
	ADD_TEST(s, test_fail_acl_grant);
	ADD_TEST(s, test_fail_acl_revoke);
	ADD_TEST(s, test_fail_agent_destroy_purge);
	ADD_TEST(s, test_fail_device_remove_purge);
}

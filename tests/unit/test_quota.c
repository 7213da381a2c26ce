// SPDX-License-Identifier: GPL-2.0
/* Quotas, device capacity and reservations: arithmetic at the edges. */
#include <errno.h>

#include "helpers.h"

static struct gdl_ledger L;
static struct gdl_owner O;

static struct gdl_agent *setup(const struct gdl_params *p, u64 quota,
			       u64 capacity, u32 *dev)
{
	u32 id;

	ledger_up(&L, p);
	gdl_owner_init(&L, &O);
	*dev = add_dev(&L, "gpu0", capacity);
	id = new_agent(&L, "a", quota);
	return gdl_agent_get(&L, id);
}

static void teardown(struct gdl_agent *a)
{
	gdl_owner_fini(&L, &O);
	if (a)
		gdl_agent_put(&L, a);
	ledger_down(&L);
}

static void test_reserve_invalid(void)
{
	struct gdl_reserve r;
	u32 d;
	struct gdl_agent *a = setup(NULL, 1000, GiB, &d);

	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, d, 0x2, 0, 10), -EINVAL);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, d, 0, 4096, 10), -EINVAL);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, GDL_MAX_DEVICES, 10, NULL), -ENODEV);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d + 1, 10, NULL), -ENODEV);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, U32_MAX, 10, NULL), -ENODEV);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).usage, 0);
	CU_ASSERT_EQUAL(atomic_read(&L.nr_reservations), 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown(a);
}

static void test_exact_fit_and_one_over(void)
{
	struct gdl_reserve r;
	struct gdl_quota q;
	u64 h1, h2;
	u32 d;
	struct gdl_agent *a = setup(NULL, 1000, GiB, &d);

	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, d, 0, 0, 400), 0);
	CU_ASSERT_EQUAL(r.result, GDL_RESULT_OK);
	CU_ASSERT_EQUAL(r.agent_id, a->id);
	CU_ASSERT(r.handle != 0);
	h1 = r.handle;
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 600, &h2), 0);	/* exact fit */
	CU_ASSERT(h2 != h1);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 1, NULL), -EDQUOT);
	q = quota_of(&L, a, d);
	CU_ASSERT_EQUAL(q.agent_id, a->id);
	CU_ASSERT_EQUAL(q.dev_index, d);
	CU_ASSERT_EQUAL(q.quota, 1000);
	CU_ASSERT_EQUAL(q.usage, 1000);
	CU_ASSERT_EQUAL(q.peak, 1000);
	CU_ASSERT_EQUAL(q.nr_reservations, 2);
	CU_ASSERT_EQUAL(q.denied, 1);
	CU_ASSERT_EQUAL(q.flags, 0);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 1000);
	CU_ASSERT_EQUAL(dev_info(&L, d).nr_reservations, 2);

	CU_ASSERT_EQUAL(gdl_release(&L, &O, h1), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h1), -ENOENT);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 401, NULL), -EDQUOT);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 400, &h1), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h1), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h2), 0);
	q = quota_of(&L, a, d);
	CU_ASSERT_EQUAL(q.usage, 0);
	CU_ASSERT_EQUAL(q.peak, 1000);
	CU_ASSERT_EQUAL(q.nr_reservations, 0);
	CU_ASSERT_EQUAL(q.denied, 2);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 0);
	CU_ASSERT_EQUAL(dev_info(&L, d).peak, 1000);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RESERVE_OK), 3);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RESERVE_DENIED_QUOTA), 2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RELEASES), 3);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LEDGER_CONSISTENT), 1);
	teardown(a);
}

static void test_quota_zero(void)
{
	u32 d;
	struct gdl_agent *a = setup(NULL, 0, GiB, &d);

	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 1, NULL), -EDQUOT);
	teardown(a);
}

static void test_u64_edges(void)
{
	struct gdl_reserve r;
	struct gdl_quota q;
	u64 h;
	u32 d;
	struct gdl_agent *a = setup(NULL, GDL_QUOTA_UNLIMITED,
				    GDL_QUOTA_UNLIMITED, &d);

	/* Sizes whose sum cannot be held in the s64 counters. */
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, U64_MAX, NULL), -EOVERFLOW);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, (u64)S64_MAX + 1, NULL),
			-EOVERFLOW);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, S64_MAX, &h), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 1, NULL), -EOVERFLOW);
	q = quota_of(&L, a, d);
	CU_ASSERT_EQUAL(q.usage, (u64)S64_MAX);
	CU_ASSERT_EQUAL(q.quota, GDL_QUOTA_UNLIMITED);
	CU_ASSERT_EQUAL(q.flags, 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h), 0);

	/* addr + size wrapping. */
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, U64_MAX, 1, NULL), -EOVERFLOW);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 1, U64_MAX, NULL), -EOVERFLOW);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, U64_MAX - 9, 10, NULL),
			-EOVERFLOW);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, U64_MAX - 10, 10, &h), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, U64_MAX - 11, 1, NULL), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, U64_MAX - 1, 1, NULL),
			-EADDRINUSE);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, d, GDL_RESERVE_F_ADDR, 0,
				    1), 0);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).usage, 12);

	/* A quota one short of unlimited is still a limit. */
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, d, U64_MAX - 1), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 1000, NULL), 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown(a);
}

static void test_quota_lowered_below_usage(void)
{
	struct gdl_quota q;
	u64 h1, h2;
	u32 d;
	struct gdl_agent *a = setup(NULL, 1000, GiB, &d);

	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 600, &h1), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 100, &h2), 0);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, d, 500), 0);
	q = quota_of(&L, a, d);
	CU_ASSERT_EQUAL(q.quota, 500);
	CU_ASSERT_EQUAL(q.usage, 700);		/* nothing revoked */
	CU_ASSERT_EQUAL(q.nr_reservations, 2);
	CU_ASSERT_EQUAL(q.flags, GDL_QUOTA_F_OVER);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 1, NULL), -EDQUOT);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h2), 0);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).flags, GDL_QUOTA_F_OVER);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h1), 0);
	q = quota_of(&L, a, d);
	CU_ASSERT_EQUAL(q.flags, 0);
	CU_ASSERT_EQUAL(q.usage, 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 501, NULL), -EDQUOT);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 500, NULL), 0);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).flags, 0);	/* usage == quota */
	teardown(a);
}

static void test_quota_set_errors_and_all(void)
{
	struct gdl_agent_info info[4];
	u32 d, d2, total;
	struct gdl_agent *a = setup(NULL, 1000, GiB, &d);

	d2 = add_dev(&L, "gpu1", GiB);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, 0, d, 1), -ENOENT);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id + 1, d, 1), -ENOENT);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, d2 + 1, 1), -ENODEV);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, GDL_MAX_DEVICES, 1), -ENODEV);
	CU_ASSERT_EQUAL(gdl_quota_get(&L, a, d2 + 1, &(struct gdl_quota){}),
			-ENODEV);
	CU_ASSERT_EQUAL(gdl_quota_get(&L, a, GDL_MAX_DEVICES,
				      &(struct gdl_quota){}), -ENODEV);

	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, d2, 10), 0);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).quota, 1000);
	CU_ASSERT_EQUAL(quota_of(&L, a, d2).quota, 10);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, GDL_ALL_DEVICES, 77), 0);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).quota, 77);
	CU_ASSERT_EQUAL(quota_of(&L, a, d2).quota, 77);
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 4, &total, false), 0);
	CU_ASSERT_EQUAL(total, 2);
	CU_ASSERT_EQUAL(info[1].id, a->id);
	CU_ASSERT_EQUAL(info[1].default_quota, 77);
	/* A device added later starts with the default quota. */
	CU_ASSERT_EQUAL(quota_of(&L, a, add_dev(&L, "gpu2", GiB)).quota, 77);

	/* The default agent's quota can be set too. */
	CU_ASSERT_EQUAL(gdl_quota_set(&L, L.default_agent_id, d, 5), 0);
	teardown(a);
}

static void test_capacity(void)
{
	struct gdl_device_set ds = { 0 };
	struct gdl_quota q;
	struct gdl_agent *b;
	u64 h;
	u32 d;
	struct gdl_agent *a = setup(NULL, GDL_QUOTA_UNLIMITED, 1000, &d);

	b = gdl_agent_get(&L, new_agent(&L, "b", 500));
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 800, &h), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 300, NULL), -ENOSPC);
	q = quota_of(&L, b, d);
	CU_ASSERT_EQUAL(q.usage, 0);	/* the agent charge rolled back */
	CU_ASSERT_EQUAL(q.nr_reservations, 0);
	CU_ASSERT_EQUAL(q.denied, 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RESERVE_DENIED_CAPACITY), 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RESERVE_DENIED_QUOTA), 0);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 800);
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 200, NULL), 0);	/* exact fit */
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 1, NULL), -ENOSPC);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 1000);
	CU_ASSERT_EQUAL(dev_info(&L, d).peak, 1000);
	/* Quota is checked before capacity. */
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 301, NULL), -EDQUOT);
	CU_ASSERT(gdl_ledger_consistent(&L));

	/* Lowering capacity under use revokes nothing. */
	ds.index = d;
	ds.mask = GDL_DEVSET_CAPACITY;
	ds.capacity = 500;
	CU_ASSERT_EQUAL(gdl_device_set(&L, &ds), 0);
	CU_ASSERT_EQUAL(dev_info(&L, d).capacity, 500);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 1000);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 301, NULL), -ENOSPC);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 300, NULL), 0);
	gdl_agent_put(&L, b);
	teardown(a);
}

static void test_audit_mode(void)
{
	struct gdl_params p = test_params();
	struct gdl_reserve r;
	struct gdl_quota q;
	u32 d;
	struct gdl_agent *a;

	p.enforce = false;
	a = setup(&p, 100, 1000, &d);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, d, 0, 0, 50), 0);
	CU_ASSERT_EQUAL(r.result, GDL_RESULT_OK);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, d, 0, 0, 100), 0);
	CU_ASSERT_EQUAL(r.result, GDL_RESULT_AUDIT);	/* over quota */
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_AUDIT_OVERRIDES), 1);
	q = quota_of(&L, a, d);
	CU_ASSERT_EQUAL(q.usage, 150);
	CU_ASSERT_EQUAL(q.peak, 150);
	CU_ASSERT_EQUAL(q.flags, GDL_QUOTA_F_OVER);
	CU_ASSERT_EQUAL(q.denied, 0);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, d, GDL_QUOTA_UNLIMITED), 0);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, d, 0, 0, 900), 0);
	CU_ASSERT_EQUAL(r.result, GDL_RESULT_AUDIT);	/* over capacity */
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_AUDIT_OVERRIDES), 2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_RESERVE_OK), 3);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 1050);
	/* Arithmetic limits hold even in audit mode. */
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, U64_MAX, NULL), -EOVERFLOW);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 10, 10, NULL), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 15, 10, NULL), -EADDRINUSE);
	/* Switching enforcement on applies at once. */
	WRITE_ONCE(L.params.enforce, true);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 1, NULL), -ENOSPC);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown(a);
}

/* The node's pool (ENOBUFS) and each agent's share of it (EMFILE). */
static void test_max_reservations(void)
{
	struct gdl_params p = test_params();
	struct gdl_agent *a, *b;
	u64 h[3];
	u32 d, i;

	p.max_reservations = 5;
	p.agent_max_reservations = 3;
	a = setup(&p, GDL_QUOTA_UNLIMITED, GiB, &d);
	b = gdl_agent_get(&L, new_agent(&L, "b", GDL_QUOTA_UNLIMITED));
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, &h[i]), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, NULL), -EMFILE);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 0, 10, NULL), -EMFILE);
	/* a's flood left b its share... */
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 10, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 10, NULL), 0);
	/* ...up to what the node holds. */
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 10, NULL), -ENOBUFS);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 5);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).usage, 30);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h[1]), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, NULL), -EMFILE);
	/* An admin raises a's share: the pool is what refuses now. */
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, a->id, 5, 0), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, NULL), -ENOBUFS);
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, a->id, 6, 0), -EINVAL);
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, 0x7777, 1, 0), -ENOENT);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_agent_put(&L, b);
	teardown(a);
}

/*
 * Issue 22 item 11: the default agent is every unbound process together,
 * as in ABI 1.1, when there were no shares: its share is the whole pool
 * unless an admin sets one, so a 1.1 program never meets EMFILE.
 */
static void test_default_agent_share(void)
{
	struct gdl_params p = test_params();
	struct gdl_agent_info info[3];
	struct gdl_agent *a, *def;
	u32 d, i, n;

	p.max_reservations = 6;
	p.agent_max_reservations = 2;
	p.max_acl_entries = 8;
	p.agent_max_acl_entries = 2;
	a = setup(&p, GDL_QUOTA_UNLIMITED, GiB, &d);
	def = gdl_agent_get(&L, L.default_agent_id);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, NULL), -EMFILE);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(reserve(&L, &O, def, d, 10, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, def, d, 10, NULL), -ENOBUFS);
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 3, &n, false), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(info[0].id, L.default_agent_id);
	CU_ASSERT_EQUAL(info[0].max_reservations, 6);
	CU_ASSERT_EQUAL(info[0].max_acl_entries, 8);
	CU_ASSERT_EQUAL(info[1].max_reservations, 2);
	/* An admin may bound it; 0 gives it the whole pool back. */
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, def->id, 3, 0), 0);
	CU_ASSERT_EQUAL(READ_ONCE(def->max_reservations), 3);
	CU_ASSERT_EQUAL(READ_ONCE(def->max_acl_entries), 8);
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, def->id, 0, 0), 0);
	CU_ASSERT_EQUAL(READ_ONCE(def->max_reservations), 6);
	CU_ASSERT_EQUAL(gdl_agent_set_limits(&L, a->id, 0, 0), 0);
	CU_ASSERT_EQUAL(READ_ONCE(a->max_reservations), 2);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_agent_put(&L, def);
	teardown(a);
}

static void test_release_unknown(void)
{
	struct gdl_owner o2;
	u64 h;
	u32 d;
	struct gdl_agent *a = setup(NULL, 1000, GiB, &d);

	gdl_owner_init(&L, &o2);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, 0), -ENOENT);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, 12345), -ENOENT);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 10, &h), 0);
	/* Handles of another file are not ours. */
	CU_ASSERT_EQUAL(gdl_release(&L, &o2, h), -ENOENT);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h + 64), -ENOENT);	/* same bucket */
	CU_ASSERT_EQUAL(quota_of(&L, a, d).usage, 10);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h), 0);
	gdl_owner_fini(&L, &o2);
	teardown(a);
}

static void test_owner_fini_releases_all(void)
{
	struct gdl_owner o2;
	struct gdl_agent *b;
	u32 d, d2, i;
	struct gdl_agent *a = setup(NULL, GDL_QUOTA_UNLIMITED, GiB, &d);

	d2 = add_dev(&L, "gpu1", GiB);
	b = gdl_agent_get(&L, new_agent(&L, "b", GDL_QUOTA_UNLIMITED));
	gdl_owner_init(&L, &o2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_FILES), 2);
	/* More than the hash has buckets, over two devices and agents. */
	for (i = 0; i < 200; i++) {
		CU_ASSERT_EQUAL(reserve_at(&L, &o2, i & 1 ? a : b, i % 3 ? d : d2,
					   i * 4096, 4096, NULL), 0);
	}
	CU_ASSERT_EQUAL(reserve(&L, &O, a, d, 1, NULL), 0);
	CU_ASSERT_EQUAL(owner_count(&o2), 200);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 201);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_owner_fini(&L, &o2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_FILES), 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 1);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 1);
	CU_ASSERT_EQUAL(dev_info(&L, d2).used, 0);
	CU_ASSERT_EQUAL(dev_info(&L, d2).nr_reservations, 0);
	CU_ASSERT_EQUAL(quota_of(&L, b, d).usage, 0);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).usage, 1);
	CU_ASSERT(gdl_ledger_consistent(&L));
	/* The ranges are free again. */
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0, 200 * 4096, NULL), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d2, 0, 200 * 4096, NULL), 0);
	gdl_agent_put(&L, b);
	teardown(a);
}

static void test_address_ranges(void)
{
	struct gdl_agent *b;
	u64 h;
	u32 d, d2;
	struct gdl_agent *a = setup(NULL, GDL_QUOTA_UNLIMITED, GiB, &d);

	d2 = add_dev(&L, "gpu1", GiB);
	b = gdl_agent_get(&L, new_agent(&L, "b", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 0x1000, 0x1000, &h), 0);
	/* Overlaps, by the same or another agent. */
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 0x1000, 0x1000, NULL),
			-EADDRINUSE);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0x1fff, 1, NULL), -EADDRINUSE);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0x0800, 0x0801, NULL),
			-EADDRINUSE);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0x1200, 0x10, NULL),
			-EADDRINUSE);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0, 0x10000, NULL),
			-EADDRINUSE);
	/* Nothing of a failed reservation stays charged. */
	CU_ASSERT_EQUAL(quota_of(&L, b, d).usage, 0);
	CU_ASSERT_EQUAL(quota_of(&L, b, d).nr_reservations, 0);
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 0x1000);
	CU_ASSERT_EQUAL(atomic_read(&L.nr_reservations), 1);
	/* Adjacent on both sides. */
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0x0800, 0x0800, NULL), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0x2000, 0x0800, NULL), 0);
	/* Same range on another device, and unaddressed reservations. */
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d2, 0x1000, 0x1000, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, b, d, 0x1000, NULL), 0);
	/* Released ranges are free again. */
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, b, d, 0x1000, 0x1000, NULL), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 0x17ff, 2, NULL), -EADDRINUSE);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_agent_put(&L, b);
	teardown(a);
}

static void test_range_owner(void)
{
	struct gdl_device *dev;
	u32 d;
	struct gdl_agent *a = setup(NULL, GDL_QUOTA_UNLIMITED, GiB, &d);

	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 100, 100, NULL), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, d, 200, 100, NULL), 0);
	dev = rcu_dereference_protected(L.devices[d], 1);
	CU_ASSERT_EQUAL(gdl_range_owner(dev, 100, 100), a->id);
	CU_ASSERT_EQUAL(gdl_range_owner(dev, 150, 1), a->id);
	CU_ASSERT_EQUAL(gdl_range_owner(dev, 199, 1), a->id);
	CU_ASSERT_EQUAL(gdl_range_owner(dev, 150, 100), 0);	/* spans two */
	CU_ASSERT_EQUAL(gdl_range_owner(dev, 99, 2), 0);
	CU_ASSERT_EQUAL(gdl_range_owner(dev, 299, 2), 0);
	CU_ASSERT_EQUAL(gdl_range_owner(dev, 0, 100), 0);
	teardown(a);
}

void register_quota_suite(void)
{
	CU_pSuite s = CU_add_suite("quota", NULL, NULL);

	ADD_TEST(s, test_reserve_invalid);
	ADD_TEST(s, test_exact_fit_and_one_over);
	ADD_TEST(s, test_quota_zero);
	ADD_TEST(s, test_u64_edges);
	ADD_TEST(s, test_quota_lowered_below_usage);
	ADD_TEST(s, test_quota_set_errors_and_all);
	ADD_TEST(s, test_capacity);
	ADD_TEST(s, test_audit_mode);
	ADD_TEST(s, test_max_reservations);
	ADD_TEST(s, test_default_agent_share);
	ADD_TEST(s, test_release_unknown);
	ADD_TEST(s, test_owner_fini_releases_all);
	ADD_TEST(s, test_address_ranges);
	ADD_TEST(s, test_range_owner);
}

// SPDX-License-Identifier: GPL-2.0
/* Ledger, agent and device lifecycles. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "helpers.h"

static struct gdl_ledger L;

static void test_ledger_params(void)
{
	struct gdl_params p = test_params();
	long live = gdl_test_alloc_live();

	p.max_agents = 0;
	CU_ASSERT_EQUAL(gdl_ledger_init(&L, &p), -EINVAL);
	p.max_agents = GDL_MAX_AGENTS_LIMIT + 1;
	CU_ASSERT_EQUAL(gdl_ledger_init(&L, &p), -EINVAL);
	p = test_params();
	p.max_reservations = 0;
	CU_ASSERT_EQUAL(gdl_ledger_init(&L, &p), -EINVAL);
	p = test_params();
	p.max_acl_entries = 0;
	CU_ASSERT_EQUAL(gdl_ledger_init(&L, &p), -EINVAL);
	CU_ASSERT_EQUAL(gdl_test_alloc_live(), live);
	p = test_params();
	p.max_agents = GDL_MAX_AGENTS_LIMIT;
	ledger_up(&L, &p);
	CU_ASSERT_EQUAL(L.nr_slots, GDL_MAX_AGENTS_LIMIT + 2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_AGENTS), 1);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_DEVICES), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LEDGER_CONSISTENT), 1);
	ledger_down(&L);
}

/* Names are fixed fields: no stale bytes may follow the terminator. */
static void set_name(char *field, const char *name)
{
	memset(field, 0, GDL_NAME_LEN);
	strncpy(field, name, GDL_NAME_LEN - 1);
}

static bool name_ok(const char *name, bool allow_empty)
{
	char buf[GDL_NAME_LEN] = { 0 };

	strncpy(buf, name, sizeof(buf) - 1);
	return gdl_name_valid(buf, sizeof(buf), allow_empty);
}

static void test_names(void)
{
	char buf[GDL_NAME_LEN];

	CU_ASSERT(name_ok("a-b_c.d:e@f9Z", false));
	CU_ASSERT(!name_ok("", false));
	CU_ASSERT(name_ok("", true));
	CU_ASSERT(!name_ok("a b", false));
	CU_ASSERT(!name_ok("a/b", false));
	CU_ASSERT(!name_ok("a\nb", false));
	CU_ASSERT(!name_ok("\xc3\xa9", false));
	memset(buf, 'x', sizeof(buf));
	CU_ASSERT(!gdl_name_valid(buf, sizeof(buf), false));	/* no NUL */
	buf[GDL_NAME_LEN - 1] = '\0';
	CU_ASSERT(gdl_name_valid(buf, sizeof(buf), false));	/* 31 chars */
	memset(buf, 0, sizeof(buf));
	buf[0] = 'a';
	buf[5] = 'b';			/* a hidden byte after the NUL */
	CU_ASSERT(!gdl_name_valid(buf, sizeof(buf), false));
	buf[5] = '\0';
	CU_ASSERT(gdl_name_valid(buf, sizeof(buf), false));
}

static void test_agent_create_destroy(void)
{
	struct gdl_agent_info info[4];
	char name[GDL_NAME_LEN];
	u32 a, b, id, total;

	ledger_up(&L, NULL);
	a = new_agent(&L, "alpha", 100);
	b = new_agent(&L, "beta", 200);
	CU_ASSERT(a != b);
	CU_ASSERT(a != L.default_agent_id);
	CU_ASSERT_EQUAL(agent_create(&L, "alpha", 1, &id), -EEXIST);
	CU_ASSERT_EQUAL(agent_create(&L, "default", 1, &id), -EEXIST);
	CU_ASSERT_EQUAL(agent_create(&L, "", 1, &id), -EINVAL);
	CU_ASSERT_EQUAL(agent_create(&L, "a b", 1, &id), -EINVAL);
	memset(name, 0, sizeof(name));
	name[0] = 'x';
	name[GDL_NAME_LEN - 1] = 'y';
	CU_ASSERT_EQUAL(gdl_agent_create(&L, name, 1, &id), -EINVAL);

	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 4, &total, false), 0);
	CU_ASSERT_EQUAL(total, 3);
	CU_ASSERT_EQUAL(info[0].id, L.default_agent_id);
	CU_ASSERT_EQUAL(info[0].flags, GDL_AGENT_F_DEFAULT);
	CU_ASSERT_STRING_EQUAL(info[0].name, "default");
	CU_ASSERT_EQUAL(info[0].default_quota, GDL_QUOTA_UNLIMITED);
	CU_ASSERT_EQUAL(info[1].id, a);
	CU_ASSERT_EQUAL(info[1].flags, 0);
	CU_ASSERT_STRING_EQUAL(info[1].name, "alpha");
	CU_ASSERT_EQUAL(info[1].default_quota, 100);
	CU_ASSERT_EQUAL(info[1].nr_bindings, 0);
	CU_ASSERT_EQUAL(info[2].id, b);
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 1, &total, false), 0);
	CU_ASSERT_EQUAL(total, 3);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_AGENTS), 3);

	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, L.default_agent_id), -EBUSY);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, 0), -ENOENT);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, a ^ (1U << 16)), -ENOENT);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, a), 0);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, a), -ENOENT);
	CU_ASSERT_PTR_NULL(gdl_agent_get(&L, a));
	CU_ASSERT_PTR_NULL(gdl_agent_get(&L, 0));
	CU_ASSERT_PTR_NULL(gdl_agent_get(&L, 0xffff));
	CU_ASSERT_PTR_NULL(gdl_agent_locked(&L, 0xffff));
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 4, &total, false), 0);
	CU_ASSERT_EQUAL(total, 2);
	CU_ASSERT_EQUAL(info[1].id, b);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_AGENTS), 2);
	/* The name is free again; the id is new. */
	id = new_agent(&L, "alpha", 1);
	CU_ASSERT(id != a);
	CU_ASSERT_EQUAL(id & GDL_AGENT_SLOT_MASK, a & GDL_AGENT_SLOT_MASK);
	CU_ASSERT_PTR_NULL(gdl_agent_get(&L, a));
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a, GDL_ALL_DEVICES, 5), -ENOENT);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, a), -ENOENT);
	ledger_down(&L);
}

static void test_max_agents(void)
{
	struct gdl_params p = test_params();
	char name[GDL_NAME_LEN];
	u32 ids[3], id, i;

	p.max_agents = 3;
	ledger_up(&L, &p);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "t%u", i);
		ids[i] = new_agent(&L, name, 1);
	}
	CU_ASSERT_EQUAL(agent_create(&L, "t3", 1, &id), -EUSERS);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_AGENTS), 4);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, ids[1]), 0);
	CU_ASSERT_EQUAL(agent_create(&L, "t3", 1, &id), 0);
	CU_ASSERT(id != ids[1]);
	CU_ASSERT_EQUAL(agent_create(&L, "t4", 1, &id), -EUSERS);
	ledger_down(&L);
}

static void test_ids_not_reused(void)
{
	u32 seen[64], id, i, j;

	ledger_up(&L, NULL);
	for (i = 0; i < 64; i++) {
		id = new_agent(&L, "churn", 1);
		for (j = 0; j < i; j++)
			CU_ASSERT(seen[j] != id);
		seen[i] = id;
		CU_ASSERT_EQUAL(gdl_agent_destroy(&L, id), 0);
	}
	ledger_down(&L);
}

/*
 * The generation wraps after 65,535 creations; an id a destroyed agent's
 * live reservations still carry must not come back, or the new agent would
 * own that memory.
 */
static void test_held_id_not_reused(void)
{
	struct gdl_dma_check c = { 0 };
	struct gdl_agent *a, *b;
	struct gdl_owner o;
	u32 d, aid, id, i, reused = 0;
	u64 h;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &o);
	d = add_dev(&L, "gpu0", GiB);
	aid = new_agent(&L, "holder", 1000);
	a = gdl_agent_get(&L, aid);
	CU_ASSERT_EQUAL(reserve_at(&L, &o, a, d, 0x1000, 100, &h), 0);
	gdl_agent_put(&L, a);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, aid), 0);
	/* Every generation of its slot comes round once. */
	for (i = 0; i < 65536 + 2; i++) {
		id = new_agent(&L, "churn", 1);
		reused += id == aid;
		CU_ASSERT_EQUAL(gdl_agent_destroy(&L, id), 0);
	}
	CU_ASSERT_EQUAL(reused, 0);
	/* Nobody else owns its memory. */
	b = gdl_agent_get(&L, new_agent(&L, "after", 1));
	c.dev_index = d;
	c.access = GDL_ACCESS_READ;
	c.addr = 0x1000;
	c.len = 1;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, b, &c), -EACCES);
	CU_ASSERT_EQUAL(c.owner_id, aid);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, b->id), 0);
	gdl_agent_put(&L, b);
	/* Released, the id is free again (in the same slot). */
	gdl_owner_fini(&L, &o);
	CU_ASSERT(list_empty(&L.dead_agents));
	for (i = 0; i < 65536 + 2 && !reused; i++) {
		id = new_agent(&L, "churn", 1);
		reused += id == aid;
		CU_ASSERT_EQUAL(gdl_agent_destroy(&L, id), 0);
	}
	CU_ASSERT_EQUAL(reused, 1);
	ledger_down(&L);
}

static void test_destroy_with_reservations(void)
{
	struct gdl_dma_check c = { 0 };
	struct gdl_owner o;
	struct gdl_agent *a, *b;
	u64 h1, h2;
	u32 d, aid;
	long live;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &o);
	d = add_dev(&L, "gpu0", GiB);
	aid = new_agent(&L, "a", 1000);
	a = gdl_agent_get(&L, aid);
	b = gdl_agent_get(&L, new_agent(&L, "b", 1000));
	CU_ASSERT_EQUAL(reserve_at(&L, &o, a, d, 0x1000, 100, &h1), 0);
	CU_ASSERT_EQUAL(reserve(&L, &o, a, d, 200, &h2), 0);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, aid), 0);
	CU_ASSERT(a->dead);
	CU_ASSERT(gdl_ledger_consistent(&L));
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 300);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_AGENTS), 2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LEDGER_CONSISTENT), 1);
	/* Its memory is still its own: nobody else gets at it. */
	c.dev_index = d;
	c.access = GDL_ACCESS_READ;
	c.addr = 0x1000;
	c.len = 1;
	CU_ASSERT_EQUAL(gdl_dma_check(&L, b, &c), -EACCES);
	CU_ASSERT_EQUAL(c.owner_id, aid);
	CU_ASSERT_EQUAL(reserve_at(&L, &o, b, d, 0x1000, 1, NULL), -EADDRINUSE);
	/* No new reservations through a stale reference. */
	CU_ASSERT_EQUAL(reserve(&L, &o, a, d, 1, NULL), -ESRCH);
	CU_ASSERT_EQUAL(reserve_at(&L, &o, a, d, 0x9000, 1, NULL), -ESRCH);
	CU_ASSERT_EQUAL(quota_of(&L, a, d).usage, 300);
	CU_ASSERT(gdl_ledger_consistent(&L));
	/* The device cannot go while they live. */
	CU_ASSERT_EQUAL(gdl_device_remove(&L, d), -EBUSY);
	CU_ASSERT_EQUAL(gdl_release(&L, &o, h1), 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 200);
	live = gdl_test_alloc_live();
	gdl_owner_fini(&L, &o);		/* drops the last reservation's ref */
	CU_ASSERT_EQUAL(gdl_test_alloc_live(), live - 1);
	CU_ASSERT(gdl_ledger_consistent(&L));
	CU_ASSERT_EQUAL(dev_info(&L, d).used, 0);
	CU_ASSERT_EQUAL(gdl_test_alloc_live(), live - 1);
	gdl_agent_put(&L, a);		/* the last reference frees it */
	CU_ASSERT_EQUAL(gdl_test_alloc_live(), live - 2);
	CU_ASSERT(list_empty(&L.dead_agents));
	CU_ASSERT_EQUAL(gdl_device_remove(&L, d), 0);
	gdl_agent_put(&L, b);
	ledger_down(&L);
}

static void test_devices(void)
{
	struct gdl_device_info in = { 0 }, out;
	u32 d0, d1, idx, i;
	char name[GDL_NAME_LEN];

	ledger_up(&L, NULL);
	d0 = add_pci_dev(&L, "gpu0", GiB, 0x10de, 0, 0x0100);
	CU_ASSERT_EQUAL(d0, 0);
	out = dev_info(&L, d0);
	CU_ASSERT_EQUAL(out.index, 0);
	CU_ASSERT_EQUAL(out.flags, GDL_DEV_F_MANUAL);
	CU_ASSERT_EQUAL(out.vendor, 0x10de);
	CU_ASSERT_EQUAL(out.device, 0x2330);
	CU_ASSERT_EQUAL(out.pci_bdf, 0x0100);
	CU_ASSERT_EQUAL(out.capacity, GiB);
	CU_ASSERT_EQUAL(out.used, 0);
	CU_ASSERT_STRING_EQUAL(out.name, "gpu0");
	/* Same PCI address, or same name. */
	set_name(in.name, "other");
	in.vendor = 0x1002;
	in.pci_bdf = 0x0100;
	in.capacity = 1;
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, 0, &idx), -EEXIST);
	in.pci_domain = 1;			/* another domain: fine */
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, GDL_DEV_F_PCI, &idx), 0);
	CU_ASSERT_EQUAL(idx, 1);
	CU_ASSERT_EQUAL(dev_info(&L, idx).pci_domain, 1);
	CU_ASSERT_EQUAL(dev_info(&L, idx).flags, GDL_DEV_F_PCI);
	memset(&in, 0, sizeof(in));
	set_name(in.name, "gpu0");
	in.capacity = 1;
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, 0, &idx), -EEXIST);
	/* Manual devices without a vendor do not clash on PCI address. */
	d1 = add_dev(&L, "", 1);
	CU_ASSERT_EQUAL(add_dev(&L, "", 1), d1 + 1);
	/* Invalid input. */
	in.name[0] = '\0';
	in.capacity = 0;
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, 0, &idx), -EINVAL);
	in.capacity = 1;
	in.pci_bdf = 0x10000;
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, 0, &idx), -EINVAL);
	in.pci_bdf = 0;
	set_name(in.name, "bad name");
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, 0, &idx), -EINVAL);
	/* Fill all 32 slots, then one more. */
	for (i = 4; i < GDL_MAX_DEVICES; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		CU_ASSERT_EQUAL(add_dev(&L, name, GiB), i);
	}
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_DEVICES), GDL_MAX_DEVICES);
	set_name(in.name, "g32");
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, 0, &idx), -ENOSPC);
	/* Remove and info. */
	CU_ASSERT_EQUAL(gdl_device_remove(&L, 7), 0);
	CU_ASSERT_EQUAL(gdl_device_remove(&L, 7), -ENODEV);
	CU_ASSERT_EQUAL(gdl_device_remove(&L, GDL_MAX_DEVICES), -ENODEV);
	CU_ASSERT_EQUAL(gdl_device_info(&L, 7, &out), -ENODEV);
	CU_ASSERT_EQUAL(gdl_device_info(&L, GDL_MAX_DEVICES, &out), -ENODEV);
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, 0, &idx), 0);
	CU_ASSERT_EQUAL(idx, 7);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_DEVICES), GDL_MAX_DEVICES);
	ledger_down(&L);
}

static void test_device_set(void)
{
	struct gdl_device_set s = { 0 };
	struct gdl_device_info out;
	u32 d0;

	ledger_up(&L, NULL);
	d0 = add_dev(&L, "gpu0", GiB);
	add_dev(&L, "gpu1", GiB);
	s.index = d0;
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), -EINVAL);	/* empty mask */
	s.mask = 0x8;
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), -EINVAL);
	s.mask = GDL_DEVSET_CAPACITY;
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), -EINVAL);	/* capacity 0 */
	s.mask = GDL_DEVSET_NAME;
	set_name(s.name, "no/slash");
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), -EINVAL);
	set_name(s.name, "gpu1");
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), -EEXIST);
	set_name(s.name, "gpu0");		/* own name */
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), 0);
	s.index = 5;
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), -ENODEV);
	s.index = GDL_MAX_DEVICES;
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), -ENODEV);
	s.index = d0;
	s.mask = GDL_DEVSET_CAPACITY | GDL_DEVSET_NAME | GDL_DEVSET_UUID;
	s.capacity = 12345;
	set_name(s.name, "renamed");
	memset(s.uuid, 0xab, sizeof(s.uuid));
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), 0);
	out = dev_info(&L, d0);
	CU_ASSERT_EQUAL(out.capacity, 12345);
	CU_ASSERT_STRING_EQUAL(out.name, "renamed");
	CU_ASSERT_EQUAL(out.uuid[0], 0xab);
	CU_ASSERT_EQUAL(out.uuid[GDL_UUID_LEN - 1], 0xab);
	/* An empty name clashes with nothing. */
	s.mask = GDL_DEVSET_NAME;
	memset(s.name, 0, sizeof(s.name));
	CU_ASSERT_EQUAL(gdl_device_set(&L, &s), 0);
	CU_ASSERT_STRING_EQUAL(dev_info(&L, d0).name, "");
	ledger_down(&L);
}

static void test_device_index_reuse(void)
{
	struct gdl_owner o;
	struct gdl_agent *a;
	struct gdl_quota q;
	u64 h;
	u32 d0, d1;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &o);
	d0 = add_dev(&L, "gpu0", GiB);
	d1 = add_dev(&L, "gpu1", GiB);
	a = gdl_agent_get(&L, new_agent(&L, "a", 1000));
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, d0, 100), 0);
	CU_ASSERT_EQUAL(reserve(&L, &o, a, d0, 100, &h), 0);
	CU_ASSERT_EQUAL(reserve(&L, &o, a, d0, 1, NULL), -EDQUOT);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &(struct gdl_acl_entry){
		.agent_id = a->id, .dev_index = d0, .peer_index = d1,
		.rights = GDL_ACCESS_PEER }, 1), 0);
	CU_ASSERT_EQUAL(dma_peer(&L, a, d0, d1), 0);
	CU_ASSERT_EQUAL(gdl_device_remove(&L, d0), -EBUSY);
	CU_ASSERT_EQUAL(dev_info(&L, d0).nr_reservations, 1);
	CU_ASSERT_EQUAL(reserve(&L, &o, a, d0, 1, NULL), -EDQUOT);
	CU_ASSERT_EQUAL(gdl_release(&L, &o, h), 0);
	CU_ASSERT_EQUAL(gdl_device_remove(&L, d0), 0);
	CU_ASSERT_EQUAL(gdl_quota_get(&L, a, d0, &q), -ENODEV);
	CU_ASSERT_EQUAL(reserve(&L, &o, a, d0, 1, NULL), -ENODEV);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, d0, 5), -ENODEV);
	CU_ASSERT_EQUAL(add_dev(&L, "gpu0-new", 5000), d0);
	q = quota_of(&L, a, d0);
	CU_ASSERT_EQUAL(q.quota, 1000);		/* the agent's default */
	CU_ASSERT_EQUAL(q.usage, 0);
	CU_ASSERT_EQUAL(q.peak, 0);
	CU_ASSERT_EQUAL(q.denied, 0);
	CU_ASSERT_EQUAL(q.nr_reservations, 0);
	CU_ASSERT_EQUAL(dev_info(&L, d0).peak, 0);
	CU_ASSERT_EQUAL(dma_peer(&L, a, d0, d1), -EACCES);
	CU_ASSERT_EQUAL(reserve(&L, &o, a, d0, 1000, NULL), 0);
	gdl_owner_fini(&L, &o);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

static void test_stats_snapshot(void)
{
	struct gdl_owner o1, o2;
	struct gdl_stats s;
	struct gdl_agent *a;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &o1);
	gdl_owner_init(&L, &o2);
	add_dev(&L, "gpu0", GiB);
	a = gdl_agent_get(&L, new_agent(&L, "a", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_EQUAL(reserve(&L, &o1, a, 0, 10, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &o2, a, 0, 10, NULL), 0);
	gdl_stats_snapshot(&L, &s, true);
	CU_ASSERT_EQUAL(s.nr_counters, GDL_STAT_NR);
	CU_ASSERT_EQUAL(s.counters[GDL_STAT_RESERVE_OK], 2);
	CU_ASSERT_EQUAL(s.counters[GDL_STAT_LIVE_AGENTS], 2);
	CU_ASSERT_EQUAL(s.counters[GDL_STAT_LIVE_RESERVATIONS], 2);
	CU_ASSERT_EQUAL(s.counters[GDL_STAT_LIVE_FILES], 2);
	CU_ASSERT_EQUAL(s.counters[GDL_STAT_LIVE_DEVICES], 1);
	CU_ASSERT_EQUAL(s.counters[GDL_STAT_LEDGER_CONSISTENT], 1);
	CU_ASSERT_EQUAL(s.counters[GDL_STAT_NR], 0);
	/* A corrupted total is detected. */
	atomic64_add(1, &rcu_dereference_protected(L.devices[0], 1)->used);
	CU_ASSERT(!gdl_ledger_consistent(&L));
	atomic64_sub(1, &rcu_dereference_protected(L.devices[0], 1)->used);
	atomic_inc(&L.nr_reservations);
	CU_ASSERT(!gdl_ledger_consistent(&L));
	atomic_dec(&L.nr_reservations);
	gdl_owner_fini(&L, &o1);
	gdl_owner_fini(&L, &o2);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

/*
 * Accounts that agree with the device totals but with no reservation
 * behind them: only the full walk (admins' STATS) can tell.
 */
static void test_self_check_walk(void)
{
	struct gdl_agent *a;
	struct gdl_owner o;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &o);
	add_dev(&L, "gpu0", GiB);
	a = gdl_agent_get(&L, new_agent(&L, "a", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_EQUAL(reserve(&L, &o, a, 0, 4096, NULL), 0);
	CU_ASSERT(gdl_ledger_check(&L, false));
	CU_ASSERT(gdl_ledger_check(&L, true));
	/* Forge 1 MiB on both sides of the books. */
	atomic64_add(MiB, &a->usage[0].usage);
	atomic64_add(MiB, &rcu_access_pointer(L.devices[0])->used);
	CU_ASSERT(gdl_ledger_check(&L, false));
	CU_ASSERT_FALSE(gdl_ledger_check(&L, true));
	CU_ASSERT_FALSE(gdl_ledger_consistent(&L));
	atomic64_sub(MiB, &a->usage[0].usage);
	atomic64_sub(MiB, &rcu_access_pointer(L.devices[0])->used);
	gdl_owner_fini(&L, &o);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

/* Thousands of live handles in one file, released in a scrambled order. */
static void test_many_handles(void)
{
	enum { N = 4000 };	/* under test_params().max_reservations */
	static u64 h[N];
	struct gdl_agent *a;
	struct gdl_owner o;
	u32 i, j;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &o);
	add_dev(&L, "gpu0", GDL_QUOTA_UNLIMITED);
	a = gdl_agent_get(&L, new_agent(&L, "a", GDL_QUOTA_UNLIMITED));
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL_FATAL(reserve(&L, &o, a, 0, 1, &h[i]), 0);
	CU_ASSERT_EQUAL(owner_count(&o), N);
	for (i = 0, j = 0; i < N; i++, j = (j + 997) % N)	/* 997: prime */
		CU_ASSERT_EQUAL(gdl_release(&L, &o, h[j]), 0);
	CU_ASSERT_EQUAL(owner_count(&o), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &o, h[0]), -ENOENT);
	CU_ASSERT_EQUAL(quota_of(&L, a, 0).usage, 0);
	gdl_owner_fini(&L, &o);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

/*
 * Issue 22 item 9: the admin's walk over every open file (the STATS
 * self-check, /proc holders) lets go of owners_lock between files, so a
 * tenant's open() or close() waits for one file's batch at most, never
 * for the whole walk.  Seen from the points where the walk may
 * reschedule: at some of them owners_lock must be free.
 */
static struct gdl_ledger WL;
static int walk_free, walk_held;

static void walk_resched(void)
{
	if (pthread_mutex_trylock(&WL.owners_lock.m) == 0) {
		walk_free++;
		pthread_mutex_unlock(&WL.owners_lock.m);
	} else {
		walk_held++;
	}
}

static void test_walk_lets_go_between_files(void)
{
	struct gdl_owner o[4];
	struct gdl_agent *a;
	int i, j;
	u32 d;

	ledger_up(&WL, NULL);
	d = add_dev(&WL, "g", GiB);
	a = gdl_agent_get(&WL, new_agent(&WL, "w", GDL_QUOTA_UNLIMITED));
	for (i = 0; i < 4; i++) {
		gdl_owner_init(&WL, &o[i]);
		for (j = 0; j < 3; j++)
			CU_ASSERT_EQUAL(reserve(&WL, &o[i], a, d, 1, NULL), 0);
	}
	walk_free = walk_held = 0;
	gdl_test_resched_hook = walk_resched;
	CU_ASSERT(gdl_ledger_consistent(&WL));
	gdl_test_resched_hook = NULL;
	CU_ASSERT(walk_free >= 3);
	for (i = 0; i < 4; i++)
		gdl_owner_fini(&WL, &o[i]);
	gdl_agent_put(&WL, a);
	ledger_down(&WL);
}

void register_lifecycle_suite(void)
{
	CU_pSuite s = CU_add_suite("lifecycle", NULL, NULL);

	ADD_TEST(s, test_ledger_params);
	ADD_TEST(s, test_names);
	ADD_TEST(s, test_agent_create_destroy);
	ADD_TEST(s, test_max_agents);
	ADD_TEST(s, test_ids_not_reused);
	ADD_TEST(s, test_held_id_not_reused);
	ADD_TEST(s, test_destroy_with_reservations);
	ADD_TEST(s, test_devices);
	ADD_TEST(s, test_device_set);
	ADD_TEST(s, test_device_index_reuse);
	ADD_TEST(s, test_stats_snapshot);
	ADD_TEST(s, test_self_check_walk);
	ADD_TEST(s, test_many_handles);
	ADD_TEST(s, test_walk_lets_go_between_files);
}

// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "helpers.h"

static long live_baseline;

struct gdl_params test_params(void)
{
	struct gdl_params p = {
		.default_quota = GDL_QUOTA_UNLIMITED,
		.max_agents = 16,
		.max_reservations = 4096,
		.max_acl_entries = 1024,
		.enforce = true,
		.policy = GDL_POLICY_DEFAULT,
	};
	return p;
}

void ledger_up(struct gdl_ledger *l, const struct gdl_params *p)
{
	struct gdl_params def = test_params();

	live_baseline = gdl_test_alloc_live();
	CU_ASSERT_FATAL(gdl_ledger_init(l, p ? p : &def) == 0);
}

void ledger_down(struct gdl_ledger *l)
{
	CU_ASSERT(gdl_ledger_consistent(l));
	gdl_ledger_destroy(l);
	rcu_barrier();
	CU_ASSERT_EQUAL(gdl_test_alloc_live(), live_baseline);
}

u32 add_pci_dev(struct gdl_ledger *l, const char *name, u64 capacity,
		u16 vendor, u32 domain, u32 bdf)
{
	struct gdl_device_info in = { 0 };
	u32 index = ~0U;

	snprintf(in.name, sizeof(in.name), "%s", name);
	in.capacity = capacity;
	in.vendor = vendor;
	in.device = vendor ? 0x2330 : 0;
	in.pci_domain = domain;
	in.pci_bdf = bdf;
	CU_ASSERT_FATAL(gdl_device_add(l, &in, GDL_DEV_F_MANUAL, &index) == 0);
	return index;
}

u32 add_dev(struct gdl_ledger *l, const char *name, u64 capacity)
{
	return add_pci_dev(l, name, capacity, 0, 0, 0);
}

/* The core takes a name field of GDL_NAME_LEN bytes, as the ABI has it. */
int agent_create(struct gdl_ledger *l, const char *name, u64 quota, u32 *id)
{
	char buf[GDL_NAME_LEN] = { 0 };

	strncpy(buf, name, sizeof(buf) - 1);
	return gdl_agent_create(l, buf, quota, id);
}

u32 new_agent(struct gdl_ledger *l, const char *name, u64 quota)
{
	u32 id = 0;

	CU_ASSERT_FATAL(agent_create(l, name, quota, &id) == 0);
	CU_ASSERT_FATAL(id != 0);
	return id;
}

int reserve_req(struct gdl_ledger *l, struct gdl_owner *o, struct gdl_agent *a,
		struct gdl_reserve *req, u32 dev, u32 flags, u64 addr, u64 size)
{
	memset(req, 0, sizeof(*req));
	req->dev_index = dev;
	req->flags = flags;
	req->addr = addr;
	req->size = size;
	req->result = 0xdead;
	/* The reservation takes over a reference, as the ioctl's lookup has. */
	refcount_inc(&a->ref);
	return gdl_reserve(l, o, a, req);
}

int reserve(struct gdl_ledger *l, struct gdl_owner *o, struct gdl_agent *a,
	    u32 dev, u64 size, u64 *handle)
{
	struct gdl_reserve r;
	int ret = reserve_req(l, o, a, &r, dev, 0, 0, size);

	if (!ret && handle)
		*handle = r.handle;
	return ret;
}

int reserve_at(struct gdl_ledger *l, struct gdl_owner *o, struct gdl_agent *a,
	       u32 dev, u64 addr, u64 size, u64 *handle)
{
	struct gdl_reserve r;
	int ret = reserve_req(l, o, a, &r, dev, GDL_RESERVE_F_ADDR, addr, size);

	if (!ret && handle)
		*handle = r.handle;
	return ret;
}

int dma(struct gdl_ledger *l, struct gdl_agent *a, u32 dev, u32 access,
	u64 addr, u64 len, u32 *result)
{
	struct gdl_dma_check c = {
		.dev_index = dev, .access = access, .addr = addr, .len = len,
		.result = 0xdead,
	};
	int ret = gdl_dma_check(l, a, &c);

	if (result)
		*result = c.result;
	return ret;
}

int dma_peer(struct gdl_ledger *l, struct gdl_agent *a, u32 dev, u32 peer)
{
	struct gdl_dma_check c = {
		.dev_index = dev, .access = GDL_ACCESS_PEER, .peer_index = peer,
	};

	return gdl_dma_check(l, a, &c);
}

struct gdl_acl_entry acl_entry(u32 agent, u32 owner, u32 dev, u32 rights,
			       u64 addr, u64 len)
{
	struct gdl_acl_entry e = {
		.agent_id = agent, .owner_id = owner, .dev_index = dev,
		.rights = rights, .addr = addr, .len = len,
	};
	return e;
}

struct gdl_acl_entry peer_entry(u32 agent, u32 dev, u32 peer)
{
	struct gdl_acl_entry e = {
		.agent_id = agent, .dev_index = dev, .peer_index = peer,
		.rights = GDL_ACCESS_PEER,
	};
	return e;
}

struct gdl_quota quota_of(struct gdl_ledger *l, struct gdl_agent *a, u32 dev)
{
	struct gdl_quota q;

	memset(&q, 0xff, sizeof(q));
	CU_ASSERT_FATAL(gdl_quota_get(l, a, dev, &q) == 0);
	return q;
}

struct gdl_device_info dev_info(struct gdl_ledger *l, u32 dev)
{
	struct gdl_device_info d;

	CU_ASSERT_FATAL(gdl_device_info(l, dev, &d) == 0);
	return d;
}

u64 stat(struct gdl_ledger *l, unsigned int idx)
{
	struct gdl_stats s;

	gdl_stats_snapshot(l, &s, true);
	return s.counters[idx];
}

u32 acl_count(struct gdl_ledger *l, u32 filter)
{
	u32 total = ~0U;

	CU_ASSERT(gdl_acl_list(l, filter, NULL, 0, &total) == 0);
	return total;
}

u32 owner_count(struct gdl_owner *o)
{
	struct rb_node *n;
	u32 nr = 0;

	spin_lock(&o->lock);
	for (n = rb_first(&o->handles); n; n = rb_next(n))
		nr++;
	spin_unlock(&o->lock);
	return nr;
}

// SPDX-License-Identifier: GPL-2.0
/* Shared reservations (ABI 1.3): keys, attached handles, the last holder. */
#include <errno.h>

#include "helpers.h"

#define RW	(GDL_ACCESS_READ | GDL_ACCESS_WRITE)

static struct gdl_ledger L;
static struct gdl_owner O1, O2;	/* the exporter's file, the importer's */
static struct gdl_agent *A, *B;
static u32 D0;
static int unpinned;

static void count_unpin(void *pin)
{
	unpinned++;
}

static void setup_pool(bool enforce, u32 share, u32 pool)
{
	struct gdl_params p = test_params();

	p.enforce = enforce;
	p.agent_max_reservations = share;
	if (pool)
		p.max_reservations = pool;
	ledger_up(&L, &p);
	L.share_unpin = count_unpin;
	unpinned = 0;
	gdl_owner_init(&L, &O1);
	gdl_owner_init(&L, &O2);
	D0 = add_dev(&L, "gpu0", GiB);
	A = gdl_agent_get(&L, new_agent(&L, "A", GDL_QUOTA_UNLIMITED));
	B = gdl_agent_get(&L, new_agent(&L, "B", GDL_QUOTA_UNLIMITED));
}

static void setup(bool enforce, u32 share)
{
	setup_pool(enforce, share, 0);
}

static void teardown(void)
{
	gdl_owner_fini(&L, &O1);
	gdl_owner_fini(&L, &O2);
	gdl_agent_put(&L, A);
	gdl_agent_put(&L, B);
	ledger_down(&L);
}

static struct gdl_share_key key_of(u8 fill)
{
	struct gdl_share_key k = { .type = GDL_SHARE_KEY_BYTES };

	memset(k.bytes, fill, sizeof(k.bytes));
	return k;
}

static int share(struct gdl_owner *o, struct gdl_agent *a, u64 handle,
		 u8 fill)
{
	struct gdl_share_key k = key_of(fill);
	bool pinned;

	return gdl_res_share(&L, o, a, handle, &k, NULL, &pinned);
}

static int attach(struct gdl_owner *o, struct gdl_agent *a, u8 fill,
		  u64 *handle, u32 *result)
{
	struct gdl_reservation_share out = { .access = RW };
	struct gdl_share_key k = key_of(fill);
	int ret = gdl_res_attach(&L, o, a, &k, &out);

	if (handle)
		*handle = out.handle;
	if (result)
		*result = out.result;
	return ret;
}

/* Grant B all of A's memory on D0 (unaddressed memory needs it all). */
static void grant_whole_device(void)
{
	struct gdl_acl_entry e = acl_entry(B->id, A->id, D0, RW, 0, U64_MAX);

	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e, 1), 0);
}

static void test_charge_follows_last_holder(void)
{
	u64 h, h2;
	u32 res;

	setup(true, 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 7), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 7), 0);	/* idempotent */
	CU_ASSERT_EQUAL(attach(&O2, A, 7, &h2, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_OK);
	/* The reserver lets go: the importer's handle keeps the charge. */
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, h), 0);
	CU_ASSERT_EQUAL(quota_of(&L, A, D0).usage, MiB);
	CU_ASSERT(gdl_ledger_consistent(&L));
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, h), -ENOENT);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, h2), 0);
	CU_ASSERT_EQUAL(quota_of(&L, A, D0).usage, 0);
	/* The key went with it. */
	CU_ASSERT_EQUAL(attach(&O2, A, 7, NULL, NULL), -ENOENT);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown();
}

static void test_grant_needed(void)
{
	u64 h, h2;
	u32 res;

	setup(true, 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 1), 0);
	CU_ASSERT_EQUAL(attach(&O2, B, 1, NULL, NULL), -EACCES);
	CU_ASSERT_EQUAL(attach(&O2, B, 2, NULL, NULL), -ENOENT);
	/* A grant of part of the device is not all of unaddressed memory. */
	{
		struct gdl_acl_entry e = acl_entry(B->id, A->id, D0, RW, 0,
						   GiB);

		CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e, 1), 0);
	}
	CU_ASSERT_EQUAL(attach(&O2, B, 1, NULL, NULL), -EACCES);
	grant_whole_device();
	CU_ASSERT_EQUAL(attach(&O2, B, 1, &h2, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_GRANT);
	/* Charged to A, counted against B's share of handles. */
	CU_ASSERT_EQUAL(quota_of(&L, B, D0).usage, 0);
	CU_ASSERT_EQUAL(atomic_read(&B->nr_reservations), 1);
	/* The importer's file closes first: the exporter still holds it. */
	gdl_owner_fini(&L, &O2);
	gdl_owner_init(&L, &O2);
	CU_ASSERT_EQUAL(atomic_read(&B->nr_reservations), 0);
	CU_ASSERT_EQUAL(quota_of(&L, A, D0).usage, MiB);
	teardown();
}

static void test_addressed_range(void)
{
	struct gdl_acl_entry e;
	u64 h;

	setup(true, 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O1, A, D0, 0x10000, 0x1000, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 3), 0);
	e = acl_entry(B->id, A->id, D0, GDL_ACCESS_READ, 0x10000, 0x1000);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e, 1), 0);
	/* Read granted, read and write asked. */
	CU_ASSERT_EQUAL(attach(&O2, B, 3, NULL, NULL), -EACCES);
	{
		struct gdl_reservation_share out = { .access = GDL_ACCESS_READ };
		struct gdl_share_key k = key_of(3);

		CU_ASSERT_EQUAL(gdl_res_attach(&L, &O2, B, &k, &out), 0);
		CU_ASSERT_EQUAL(out.size, 0x1000);
		CU_ASSERT_EQUAL(out.agent_id, A->id);
		out.access = 0;
		CU_ASSERT_EQUAL(gdl_res_attach(&L, &O2, B, &k, &out), -EINVAL);
		out.access = GDL_ACCESS_PEER;
		CU_ASSERT_EQUAL(gdl_res_attach(&L, &O2, B, &k, &out), -EINVAL);
	}
	teardown();
}

static void test_audit_mode(void)
{
	u64 h;
	u32 res;

	setup(false, 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 4), 0);
	CU_ASSERT_EQUAL(attach(&O2, B, 4, NULL, &res), 0);
	CU_ASSERT_EQUAL(res, GDL_RESULT_AUDIT);
	teardown();
}

static void test_keys_and_limits(void)
{
	u64 h1, h2, h3;

	setup(true, 3);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h1), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h2), 0);
	CU_ASSERT_EQUAL(share(&O1, A, 999, 5), -ENOENT);
	CU_ASSERT_EQUAL(share(&O1, A, h1, 5), 0);
	/* One key names one reservation. */
	CU_ASSERT_EQUAL(share(&O1, A, h2, 5), -EEXIST);
	/* Two reservations and a key: A's share of 3 is used up. */
	CU_ASSERT_EQUAL(share(&O1, A, h2, 6), -EMFILE);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h3), -EMFILE);
	/* Attaching its own memory counts too. */
	CU_ASSERT_EQUAL(attach(&O2, A, 5, NULL, NULL), -EMFILE);
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, h2), 0);
	CU_ASSERT_EQUAL(attach(&O2, A, 5, &h3, NULL), 0);
	CU_ASSERT_EQUAL(atomic_read(&A->nr_reservations), 3);
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, h1), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, h3), 0);
	CU_ASSERT_EQUAL(atomic_read(&A->nr_reservations), 0);
	CU_ASSERT_EQUAL(atomic_read(&L.nr_shared), 0);
	teardown();
}

/* A pinned key (an open file) is dropped with its reservation. */
static void test_pin_dropped(void)
{
	struct gdl_share_key k = key_of(9);
	bool pinned;
	u64 h;
	int cookie;

	setup(true, 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h), 0);
	k.type = GDL_SHARE_KEY_FD;
	CU_ASSERT_EQUAL(gdl_res_share(&L, &O1, A, h, &k, &cookie, &pinned), 0);
	CU_ASSERT(pinned);
	CU_ASSERT_EQUAL(gdl_res_share(&L, &O1, A, h, &k, &cookie, &pinned), 0);
	CU_ASSERT(!pinned);	/* the caller drops its own reference */
	/* The same bytes as a bytes key name nothing. */
	CU_ASSERT_EQUAL(attach(&O2, A, 9, NULL, NULL), -ENOENT);
	CU_ASSERT_EQUAL(unpinned, 0);
	gdl_owner_fini(&L, &O1);
	gdl_owner_init(&L, &O1);
	CU_ASSERT_EQUAL(unpinned, 1);
	teardown();
}

/*
 * Issue 22 item 7: a destroyed agent shares and attaches nothing, as it
 * reserves nothing (-ESRCH), through a reference taken before the destroy.
 */
static void test_dead_agent_esrch(void)
{
	u64 h, hb;

	setup(true, 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 0x21), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O2, B, D0, MiB, &hb), 0);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, B->id), 0);
	/* B's stale reference: no key, no handle, nothing charged to it. */
	CU_ASSERT_EQUAL(share(&O2, B, hb, 0x22), -ESRCH);
	CU_ASSERT_EQUAL(attach(&O2, B, 0x21, NULL, NULL), -ESRCH);
	CU_ASSERT_EQUAL(atomic_read(&B->nr_reservations), 1);
	CU_ASSERT_EQUAL(owner_count(&O2), 1);
	/* Its own reservation's key is refused too, whoever shares it. */
	CU_ASSERT_EQUAL(attach(&O1, A, 0x22, NULL, NULL), -ENOENT);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown();
}

/*
 * Issue 22 item 3: a refused ATTACH tells the attacher's reader nothing of
 * the exporter's memory: its DMA_DENIED event has no address or size.
 */
static void test_refused_attach_event_hides_memory(void)
{
	struct gdl_event ev[4];
	u64 h, cursor;
	u32 n;

	setup(true, 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O1, A, D0, 0x7e570000, 0x30000, &h),
			0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 0x31), 0);
	cursor = gdl_events_head(&L);
	CU_ASSERT_EQUAL(attach(&O2, B, 0x31, NULL, NULL), -EACCES);
	n = gdl_events_read(&L, &cursor, B->id, ev, 4);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(ev[0].type, GDL_EVENT_DMA_DENIED);
	CU_ASSERT_EQUAL(ev[0].agent_id, B->id);
	CU_ASSERT_EQUAL(ev[0].access, RW);
	CU_ASSERT_EQUAL(ev[0].value, 0);
	CU_ASSERT_EQUAL(ev[0].value2, 0);
	teardown();
}

/*
 * Issue 22 item 6: keys and attached handles draw on the node's one pool,
 * max_reservations, with reservations (ENOBUFS), as docs/abi.md says; the
 * statistic of live reservations still counts reservations only.
 */
static void test_one_pool(void)
{
	u64 h[4], ha;
	int i;

	/* A's and B's shares are 3 each; together they fill the pool of 4. */
	setup_pool(true, 3, 4);
	grant_whole_device();
	for (i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h[i]), 0);
		CU_ASSERT_EQUAL(reserve(&L, &O2, B, D0, MiB, &h[2 + i]), 0);
	}
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, NULL), -ENOBUFS);
	CU_ASSERT_EQUAL(share(&O1, A, h[0], 0x41), -ENOBUFS);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, h[3]), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h[0], 0x41), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h[1], 0x42), -EMFILE);
	CU_ASSERT_EQUAL(reserve(&L, &O2, B, D0, MiB, NULL), -ENOBUFS);
	CU_ASSERT_EQUAL(attach(&O2, B, 0x41, NULL, NULL), -ENOBUFS);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 3);
	CU_ASSERT(gdl_ledger_consistent(&L));
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, h[2]), 0);
	CU_ASSERT_EQUAL(attach(&O2, B, 0x41, &ha, NULL), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 2);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LEDGER_CONSISTENT), 1);
	CU_ASSERT(gdl_ledger_consistent(&L));
	CU_ASSERT_EQUAL(reserve(&L, &O2, B, D0, MiB, NULL), -ENOBUFS);
	/* The last holder goes: its key and handle give their places back. */
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, h[0]), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, ha), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O2, B, D0, MiB, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O2, B, D0, MiB, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, NULL), -ENOBUFS);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown();
}

/*
 * Issue 22 item 1, the reviewer's sequence: A reserves 768 MiB and shares
 * it, B (quota 0) attaches, A revokes B's grant, A's file closes, the
 * admin destroys A.  The charge stays (B's driver still maps the memory),
 * and the admin can see who holds it: the handle in B's file names A,
 * destroyed, its device and size.
 */
static void test_destroyed_exporter_visible(void)
{
	struct gdl_acl_entry e;
	struct gdl_hold_info hi[4];
	u64 h, hb, next = 0;
	u32 a_id;

	setup(true, 0);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, B->id, GDL_ALL_DEVICES, 0), 0);
	a_id = A->id;
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, 768 * MiB, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 0x51), 0);
	grant_whole_device();
	CU_ASSERT_EQUAL(attach(&O2, B, 0x51, &hb, NULL), 0);
	/* The rule for a grant revoked under an attachment: it stays. */
	e = acl_entry(B->id, A->id, D0, RW, 0, U64_MAX);
	CU_ASSERT_EQUAL(gdl_acl_revoke(&L, &e, 1), 0);
	CU_ASSERT_EQUAL(attach(&O2, B, 0x51, NULL, NULL), -EACCES);
	gdl_owner_fini(&L, &O1);
	gdl_owner_init(&L, &O1);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, a_id), 0);
	CU_ASSERT_EQUAL(dev_info(&L, D0).used, 768 * MiB);
	CU_ASSERT(gdl_ledger_consistent(&L));
	/* The exporter's file holds nothing; the importer's names A. */
	CU_ASSERT_EQUAL(gdl_owner_holds(&O1, &next, hi, 4), 0);
	next = 0;
	CU_ASSERT_EQUAL_FATAL(gdl_owner_holds(&O2, &next, hi, 4), 1);
	CU_ASSERT_EQUAL(hi[0].handle, hb);
	CU_ASSERT_EQUAL(hi[0].agent_id, a_id);
	CU_ASSERT(hi[0].agent_dead);
	CU_ASSERT(hi[0].attached);
	CU_ASSERT_EQUAL(hi[0].dev_index, D0);
	CU_ASSERT_EQUAL(hi[0].size, 768 * MiB);
	CU_ASSERT_EQUAL(gdl_owner_holds(&O2, &next, hi, 4), 0);
	/* The destroyed agent is still listed among the dead, charged. */
	CU_ASSERT(!list_empty(&L.dead_agents));
	CU_ASSERT_EQUAL(quota_of(&L, A, D0).usage, 768 * MiB);
	/* Its holder's file closes (the admin ended B's processes). */
	gdl_owner_fini(&L, &O2);
	gdl_owner_init(&L, &O2);
	CU_ASSERT_EQUAL(dev_info(&L, D0).used, 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown();
}

/*
 * Issue 22 item 1, ABI 1.4: the destroyed exporter stays listed.  AGENT_LIST
 * without GDL_LIST_F_DESTROYED is as before (callers match names); with it,
 * the destroyed agent that B's attached handle still charges comes last,
 * marked, and QUOTA_GET's lookup of the dead reads what it holds, until
 * the holder's file closes.
 */
static void test_destroyed_agent_listed(void)
{
	struct gdl_agent_info info[6];
	struct gdl_acl_entry e;
	struct gdl_agent *x, *d;
	struct gdl_quota q;
	u32 xid, total, i;
	u64 h;

	setup(true, 0);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, B->id, GDL_ALL_DEVICES, 0), 0);
	xid = new_agent(&L, "X", GDL_QUOTA_UNLIMITED);
	x = gdl_agent_get(&L, xid);
	CU_ASSERT_EQUAL(reserve(&L, &O1, x, D0, 768 * MiB, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, x, h, 0x52), 0);
	e = acl_entry(B->id, xid, D0, RW, 0, U64_MAX);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e, 1), 0);
	CU_ASSERT_EQUAL(attach(&O2, B, 0x52, NULL, NULL), 0);
	gdl_owner_fini(&L, &O1);
	gdl_owner_init(&L, &O1);
	gdl_agent_put(&L, x);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&L, xid), 0);
	CU_ASSERT_EQUAL(dev_info(&L, D0).used, 768 * MiB);

	/* Old callers: default, A, B; the destroyed one is not among them. */
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 6, &total, false), 0);
	CU_ASSERT_EQUAL(total, 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_NOT_EQUAL(info[i].id, xid);
		CU_ASSERT(!(info[i].flags & GDL_AGENT_F_DESTROYED));
	}
	CU_ASSERT_EQUAL(gdl_agent_dead_count(&L), 1);
	memset(info, 0xa5, sizeof(info));
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 6, &total, true), 0);
	CU_ASSERT_EQUAL_FATAL(total, 4);
	CU_ASSERT_EQUAL(info[3].id, xid);
	CU_ASSERT_EQUAL(info[3].flags, GDL_AGENT_F_DESTROYED);
	CU_ASSERT_STRING_EQUAL(info[3].name, "X");
	for (i = 0; i < 3; i++)
		CU_ASSERT(!(info[i].flags & GDL_AGENT_F_DESTROYED));
	CU_ASSERT_EQUAL(info[4].id, 0xa5a5a5a5);
	/* A short buffer: the count of all, nothing written past it. */
	memset(info, 0xa5, sizeof(info));
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 3, &total, true), 0);
	CU_ASSERT_EQUAL(total, 4);
	CU_ASSERT_EQUAL(info[3].id, 0xa5a5a5a5);

	/* What it still holds, per device; a live id is not found dead. */
	CU_ASSERT_PTR_NULL(gdl_agent_get_dead(&L, A->id));
	CU_ASSERT_PTR_NULL(gdl_agent_get(&L, xid));
	d = gdl_agent_get_dead(&L, xid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(gdl_quota_get(&L, d, D0, &q), 0);
	CU_ASSERT_EQUAL(q.agent_id, xid);
	CU_ASSERT_EQUAL(q.usage, 768 * MiB);
	CU_ASSERT_EQUAL(q.nr_reservations, 1);
	CU_ASSERT_EQUAL(q.flags, GDL_QUOTA_F_DESTROYED);
	gdl_agent_put(&L, d);
	CU_ASSERT_EQUAL(gdl_quota_get(&L, A, D0, &q), 0);
	CU_ASSERT_EQUAL(q.flags, 0);

	/* The admin ends the holder: the charge and the listing go. */
	gdl_owner_fini(&L, &O2);
	gdl_owner_init(&L, &O2);
	CU_ASSERT_EQUAL(dev_info(&L, D0).used, 0);
	CU_ASSERT_EQUAL(gdl_agent_dead_count(&L), 0);
	CU_ASSERT_PTR_NULL(gdl_agent_get_dead(&L, xid));
	CU_ASSERT_EQUAL(gdl_agent_list(&L, info, 6, &total, true), 0);
	CU_ASSERT_EQUAL(total, 3);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown();
}

/* gdl_owner_holds() goes through a file in batches, by handle. */
static void test_holds_batches(void)
{
	struct gdl_hold_info hi[2];
	u64 h[5], next = 0;
	u32 n, seen = 0;
	int i;

	setup(true, 0);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB + i, &h[i]), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, h[2]), 0);
	while ((n = gdl_owner_holds(&O1, &next, hi, 2))) {
		for (i = 0; i < (int)n; i++) {
			CU_ASSERT(!hi[i].attached && !hi[i].agent_dead);
			CU_ASSERT_EQUAL(hi[i].agent_id, A->id);
			CU_ASSERT_NOT_EQUAL(hi[i].handle, h[2]);
			CU_ASSERT_EQUAL(hi[i].size, MiB + (hi[i].handle - h[0]));
		}
		seen += n;
	}
	CU_ASSERT_EQUAL(seen, 4);
	teardown();
}

static int attach_expect(struct gdl_owner *o, struct gdl_agent *a, u8 fill,
			 u32 flags, u32 dev, u64 size,
			 struct gdl_reservation_share *out)
{
	struct gdl_share_key k = key_of(fill);

	memset(out, 0, sizeof(*out));
	out->access = RW;
	out->flags = flags;
	out->dev_index = dev;
	out->size = size;
	return gdl_res_attach(&L, o, a, &k, out);
}

/*
 * Issue 22, item 4: a tenant that predicts an exporter's key and files it
 * first on its own memory makes neither the rightful SHARE nor the import
 * fail, nor lands the import on its memory unless the importer asks for
 * memory of that very device and size and may use it.
 */
static void test_squatted_key(void)
{
	struct gdl_reservation_share out;
	struct gdl_owner OQ;
	struct gdl_agent *Q;
	u64 hq, hq2, ha, h;

	setup(true, 0);
	gdl_owner_init(&L, &OQ);
	Q = gdl_agent_get(&L, new_agent(&L, "Q", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_EQUAL(reserve(&L, &OQ, Q, D0, 2 * MiB, &hq), 0);
	CU_ASSERT_EQUAL(share(&OQ, Q, hq, 9), 0);
	/* The rightful exporter files the same bytes after it. */
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &ha), 0);
	CU_ASSERT_EQUAL(share(&O1, A, ha, 9), 0);
	/* Still one key per agent: A cannot name two reservations by it. */
	CU_ASSERT_EQUAL(reserve(&L, &O1, A, D0, MiB, &h), 0);
	CU_ASSERT_EQUAL(share(&O1, A, h, 9), -EEXIST);
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, h), 0);
	/* B may use A's memory, not Q's: it lands on A's. */
	grant_whole_device();
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, 0, 0, 0, &out), 0);
	CU_ASSERT_EQUAL(out.agent_id, A->id);
	CU_ASSERT_EQUAL(out.size, MiB);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, out.handle), 0);
	/* Q grants B its memory too: B must say which memory it imports. */
	{
		struct gdl_acl_entry e = acl_entry(B->id, Q->id, D0, RW, 0,
						   U64_MAX);

		CU_ASSERT_EQUAL(gdl_acl_grant(&L, &e, 1), 0);
	}
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, 0, 0, 0, &out), -ENOTUNIQ);
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, GDL_ATTACH_F_DEV |
				      GDL_ATTACH_F_SIZE, D0, MiB, &out), 0);
	CU_ASSERT_EQUAL(out.agent_id, A->id);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, out.handle), 0);
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, GDL_ATTACH_F_SIZE, 0,
				      3 * MiB, &out), -ENOENT);
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, 4, 0, 0, &out), -EINVAL);
	/* Same device and size: the key filed first, and Q pays for it. */
	CU_ASSERT_EQUAL(reserve(&L, &OQ, Q, D0, MiB, &hq2), 0);
	CU_ASSERT_EQUAL(gdl_release(&L, &OQ, hq), 0);
	CU_ASSERT_EQUAL(share(&OQ, Q, hq2, 9), 0);
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, GDL_ATTACH_F_DEV |
				      GDL_ATTACH_F_SIZE, D0, MiB, &out), 0);
	CU_ASSERT_EQUAL(out.agent_id, A->id);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, out.handle), 0);
	/* Each agent's own key comes first for its own files. */
	CU_ASSERT_EQUAL(attach_expect(&OQ, Q, 9, 0, 0, 0, &out), 0);
	CU_ASSERT_EQUAL(out.agent_id, Q->id);
	CU_ASSERT_EQUAL(gdl_release(&L, &OQ, out.handle), 0);
	CU_ASSERT_EQUAL(attach_expect(&O2, A, 9, 0, 0, 0, &out), 0);
	CU_ASSERT_EQUAL(out.agent_id, A->id);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, out.handle), 0);
	/* A's key goes with its memory: B may use only Q's now. */
	CU_ASSERT_EQUAL(gdl_release(&L, &O1, ha), 0);
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, 0, 0, 0, &out), 0);
	CU_ASSERT_EQUAL(out.agent_id, Q->id);
	CU_ASSERT_EQUAL(gdl_release(&L, &O2, out.handle), 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_owner_fini(&L, &OQ);
	CU_ASSERT_EQUAL(attach_expect(&O2, B, 9, 0, 0, 0, &out), -ENOENT);
	CU_ASSERT_EQUAL(atomic_read(&L.nr_shared), 0);
	gdl_agent_put(&L, Q);
	teardown();
}

/* Many keys, many agents: each found, each gone with its reservation. */
static void test_many_keys(void)
{
	struct gdl_share_key k = key_of(0);
	struct gdl_reservation_share out;
	enum { N = 3000 };
	static u64 h[N];
	bool pinned;
	u32 i;

	setup_pool(true, 0, 3 * N);
	for (i = 0; i < N; i++) {
		CU_ASSERT_EQUAL_FATAL(reserve(&L, &O1, A, D0, 4096, &h[i]), 0);
		memcpy(k.bytes, &i, sizeof(i));
		CU_ASSERT_EQUAL(gdl_res_share(&L, &O1, A, h[i], &k, NULL,
					      &pinned), 0);
	}
	for (i = 0; i < N; i += 7) {
		memcpy(k.bytes, &i, sizeof(i));
		memset(&out, 0, sizeof(out));
		out.access = RW;
		CU_ASSERT_EQUAL(gdl_res_attach(&L, &O2, A, &k, &out), 0);
		CU_ASSERT_EQUAL(out.size, 4096);
	}
	i = N;
	memcpy(k.bytes, &i, sizeof(i));
	memset(&out, 0, sizeof(out));
	out.access = RW;
	CU_ASSERT_EQUAL(gdl_res_attach(&L, &O2, A, &k, &out), -ENOENT);
	CU_ASSERT(gdl_ledger_consistent(&L));
	teardown();
}

/* Sharing costs unshared reservations nothing: still kmalloc-128. */
static void test_reservation_size(void)
{
	CU_ASSERT(sizeof(struct gdl_reservation) <= 128);
}

void register_share_suite(void)
{
	CU_pSuite s = CU_add_suite("share", NULL, NULL);

	ADD_TEST(s, test_charge_follows_last_holder);
	ADD_TEST(s, test_grant_needed);
	ADD_TEST(s, test_addressed_range);
	ADD_TEST(s, test_audit_mode);
	ADD_TEST(s, test_keys_and_limits);
	ADD_TEST(s, test_pin_dropped);
	ADD_TEST(s, test_dead_agent_esrch);
	ADD_TEST(s, test_refused_attach_event_hides_memory);
	ADD_TEST(s, test_one_pool);
	ADD_TEST(s, test_destroyed_exporter_visible);
	ADD_TEST(s, test_destroyed_agent_listed);
	ADD_TEST(s, test_holds_batches);
	ADD_TEST(s, test_reservation_size);
	ADD_TEST(s, test_squatted_key);
	ADD_TEST(s, test_many_keys);
}

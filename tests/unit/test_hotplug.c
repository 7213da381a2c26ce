// SPDX-License-Identifier: GPL-2.0
/*
 * PCI hot-plug as the ledger sees it (gdl_device_plug/unplug, which the
 * module's bus notifier calls), and the reserve path's agent reference.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static struct gdl_ledger L;
static struct gdl_owner O;

#define BDF_A	0x0300	/* 00:03.0 */
#define BDF_B	0x0400

static int plug(u16 device, u32 bdf, u32 *index)
{
	struct gdl_device_info in = { 0 };

	snprintf(in.name, sizeof(in.name), "0000:%02x:%02x.%u", bdf >> 8,
		 (bdf >> 3) & 0x1f, bdf & 7);
	in.vendor = 0x10de;
	in.device = device;
	in.pci_bdf = bdf;
	in.capacity = GDL_QUOTA_UNLIMITED;
	*index = ~0U;
	return gdl_device_plug(&L, &in, index);
}

static int unplug(u32 bdf)
{
	u32 index = ~0U;

	return gdl_device_unplug(&L, 0, bdf, &index);
}

/* Gone: refused for new work, kept for old; back: same index, same policy. */
static void test_gone_and_back(void)
{
	struct gdl_acl_entry peer;
	struct gdl_agent *a;
	u32 dev, other, idx;
	u64 h;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &O);
	a = gdl_agent_get(&L, new_agent(&L, "a", MiB));
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &dev), 0);
	CU_ASSERT_EQUAL(dev_info(&L, dev).flags, GDL_DEV_F_PCI);
	/* Discovery and the notifier may both report it: once is enough. */
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &idx), -EEXIST);
	CU_ASSERT_EQUAL(plug(0x2330, BDF_B, &other), 0);
	CU_ASSERT_EQUAL(gdl_quota_set(&L, a->id, dev, 8 * MiB), 0);
	peer = peer_entry(a->id, other, dev);
	CU_ASSERT_EQUAL(gdl_acl_grant(&L, &peer, 1), 0);
	CU_ASSERT_EQUAL(dma_peer(&L, a, other, dev), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 4096, &h), 0);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, dev, 1 * MiB, MiB, NULL), 0);

	CU_ASSERT_EQUAL(gdl_device_unplug(&L, 0, BDF_A, &idx), 0);
	CU_ASSERT_EQUAL(idx, dev);
	CU_ASSERT_EQUAL(unplug(BDF_A), -ENOENT);	/* already gone */
	CU_ASSERT_EQUAL(unplug(0x0500), -ENOENT);	/* never managed */
	CU_ASSERT_EQUAL(gdl_device_unplug(&L, 1, BDF_B, &idx), -ENOENT);
	CU_ASSERT_EQUAL(dev_info(&L, dev).flags,
			GDL_DEV_F_PCI | GDL_DEV_F_GONE);
	CU_ASSERT_EQUAL(dev_info(&L, dev).nr_reservations, 2);
	CU_ASSERT_EQUAL(dev_info(&L, other).flags, GDL_DEV_F_PCI);
	/* No new work on it, from either side of a peer pair. */
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 4096, NULL), -ENODEV);
	CU_ASSERT_EQUAL(dma(&L, a, dev, GDL_ACCESS_READ, MiB, 4096, NULL),
			-ENODEV);
	CU_ASSERT_EQUAL(dma_peer(&L, a, other, dev), -ENODEV);
	CU_ASSERT_EQUAL(dma_peer(&L, a, dev, other), -ENODEV);
	CU_ASSERT_EQUAL(quota_of(&L, a, dev).denied, 0);
	/* Its reservations stay until released, and cannot be forgotten. */
	CU_ASSERT_EQUAL(gdl_device_remove(&L, dev), -EBUSY);
	CU_ASSERT_EQUAL(quota_of(&L, a, dev).usage, 4096 + MiB);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h), 0);
	gdl_owner_fini(&L, &O);		/* the file closes */
	CU_ASSERT_EQUAL(quota_of(&L, a, dev).usage, 0);
	CU_ASSERT_EQUAL(dev_info(&L, dev).used, 0);
	CU_ASSERT_EQUAL(dev_info(&L, dev).nr_reservations, 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LEDGER_CONSISTENT), 1);

	/* Back at the same address (another model): same index, same policy. */
	gdl_owner_init(&L, &O);
	CU_ASSERT_EQUAL(plug(0x2331, BDF_A, &idx), 0);
	CU_ASSERT_EQUAL(idx, dev);
	CU_ASSERT_EQUAL(dev_info(&L, dev).flags, GDL_DEV_F_PCI);
	CU_ASSERT_EQUAL(dev_info(&L, dev).device, 0x2331);
	CU_ASSERT_EQUAL(quota_of(&L, a, dev).quota, 8 * MiB);
	CU_ASSERT_EQUAL(dma_peer(&L, a, other, dev), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 2 * MiB, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 7 * MiB, NULL), -EDQUOT);

	/* Forgotten while gone, it comes back as a new device. */
	gdl_owner_fini(&L, &O);
	CU_ASSERT_EQUAL(unplug(BDF_A), 0);
	CU_ASSERT_EQUAL(gdl_device_remove(&L, dev), 0);
	CU_ASSERT_EQUAL(plug(0x2331, BDF_A, &idx), 0);
	CU_ASSERT_EQUAL(quota_of(&L, a, idx).quota, MiB);
	CU_ASSERT_EQUAL(dma_peer(&L, a, other, idx), -EACCES);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

/* What an admin declared stays the admin's; bad input changes nothing. */
static void test_plug_admin_entries(void)
{
	struct gdl_device_info in = { 0 };
	u32 manual, idx;

	ledger_up(&L, NULL);
	manual = add_pci_dev(&L, "declared", GiB, 0x10de, 0, BDF_A);
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &idx), -EEXIST);
	CU_ASSERT_EQUAL(unplug(BDF_A), -ENOENT);
	CU_ASSERT_EQUAL(dev_info(&L, manual).flags, GDL_DEV_F_MANUAL);
	/* A gone entry still holds its address against DEVICE_ADD. */
	CU_ASSERT_EQUAL(plug(0x2330, BDF_B, &idx), 0);
	CU_ASSERT_EQUAL(unplug(BDF_B), 0);
	snprintf(in.name, sizeof(in.name), "again");
	in.vendor = 0x10de;
	in.pci_bdf = BDF_B;
	in.capacity = GiB;
	CU_ASSERT_EQUAL(gdl_device_add(&L, &in, GDL_DEV_F_MANUAL, &idx),
			-EEXIST);
	/* Plugging needs what discovery always has. */
	in.vendor = 0;
	CU_ASSERT_EQUAL(gdl_device_plug(&L, &in, &idx), -EINVAL);
	in.vendor = 0x10de;
	in.capacity = 0;
	CU_ASSERT_EQUAL(gdl_device_plug(&L, &in, &idx), -EINVAL);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_DEVICES), 2);
	ledger_down(&L);
}

/*
 * Issue 22 item 10: a hot-added GPU whose address-name an admin's entry
 * (without that address) already uses is managed anyway, under another
 * name, instead of being left out with EEXIST.
 */
static void test_plug_name_taken(void)
{
	u32 manual, other, idx, idx2;

	ledger_up(&L, NULL);
	manual = add_dev(&L, "0000:03:00.0", GiB);
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &idx), 0);
	CU_ASSERT_NOT_EQUAL(idx, manual);
	CU_ASSERT_STRING_EQUAL(dev_info(&L, idx).name, "pci-0000:03:00.0");
	CU_ASSERT_EQUAL(dev_info(&L, idx).flags, GDL_DEV_F_PCI);
	/* Managed now: reported again, it is the same entry. */
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &idx2), -EEXIST);
	/* Both names taken: it goes unnamed rather than unmanaged. */
	other = add_dev(&L, "0000:04:00.0", GiB);
	CU_ASSERT_EQUAL(gdl_device_remove(&L, idx), 0);
	CU_ASSERT_EQUAL(add_dev(&L, "pci-0000:04:00.0", GiB) != ~0U, 1);
	CU_ASSERT_EQUAL(plug(0x2330, BDF_B, &idx2), 0);
	CU_ASSERT_STRING_EQUAL(dev_info(&L, idx2).name, "");
	CU_ASSERT_NOT_EQUAL(idx2, other);
	ledger_down(&L);
}

/*
 * Issue 22 item 10: gone entries fill no slots for good.  With all 32
 * taken, a gone entry that holds nothing is forgotten for a new device;
 * one that holds a reservation keeps its index (it may come back).
 */
static void test_gone_reclaimed(void)
{
	struct gdl_agent *a;
	u32 held, empty, idx, i;
	char name[16];
	u64 h;

	ledger_up(&L, NULL);
	gdl_owner_init(&L, &O);
	a = gdl_agent_get(&L, new_agent(&L, "a", GDL_QUOTA_UNLIMITED));
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &held), 0);
	CU_ASSERT_EQUAL(plug(0x2330, BDF_B, &empty), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, held, 4096, &h), 0);
	for (i = 2; i < GDL_MAX_DEVICES; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		add_dev(&L, name, GiB);
	}
	CU_ASSERT_EQUAL(plug(0x2330, 0x0500, &idx), -ENOSPC);
	CU_ASSERT_EQUAL(unplug(BDF_A), 0);
	/* Only a gone entry that holds something: still no room. */
	CU_ASSERT_EQUAL(plug(0x2330, 0x0500, &idx), -ENOSPC);
	CU_ASSERT_EQUAL(unplug(BDF_B), 0);
	CU_ASSERT_EQUAL(plug(0x2330, 0x0500, &idx), 0);
	CU_ASSERT_EQUAL(idx, empty);
	CU_ASSERT_EQUAL(dev_info(&L, idx).pci_bdf, 0x0500);
	/* The one that holds memory comes back under its index. */
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &idx), 0);
	CU_ASSERT_EQUAL(idx, held);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h), 0);
	CU_ASSERT(gdl_ledger_consistent(&L));
	gdl_owner_fini(&L, &O);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

/*
 * gdl_reserve() takes over the caller's reference: the reservation keeps
 * it, every failure drops it (reserve_req() hands one in, as the ioctl's
 * caller lookup does), so the fast path takes one reference, not two.
 */
static void test_reserve_reference(void)
{
	struct gdl_params p = test_params();
	struct gdl_reserve r;
	struct gdl_agent *a;
	unsigned int base;
	u32 dev, gone;
	u64 h;

	p.agent_max_reservations = 2;
	ledger_up(&L, &p);
	gdl_owner_init(&L, &O);
	dev = add_dev(&L, "gpu0", GiB);
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &gone), 0);
	CU_ASSERT_EQUAL(unplug(BDF_A), 0);
	a = gdl_agent_get(&L, new_agent(&L, "a", MiB));
	base = refcount_read(&a->ref);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, dev, 0, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(reserve_req(&L, &O, a, &r, dev, GDL_RESERVE_F_ADDR,
				    ~0ULL, 2), -EOVERFLOW);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, GDL_MAX_DEVICES, 1, NULL), -ENODEV);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, 20, 1, NULL), -ENODEV);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, gone, 1, NULL), -ENODEV);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 2 * MiB, NULL), -EDQUOT);
	CU_ASSERT_EQUAL(refcount_read(&a->ref), base);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, dev, 0, 4096, &h), 0);
	CU_ASSERT_EQUAL(refcount_read(&a->ref), base + 1);
	CU_ASSERT_EQUAL(reserve_at(&L, &O, a, dev, 0, 4096, NULL),
			-EADDRINUSE);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 4096, NULL), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 4096, NULL), -EMFILE);
	CU_ASSERT_EQUAL(refcount_read(&a->ref), base + 2);
	CU_ASSERT_EQUAL(gdl_release(&L, &O, h), 0);
	CU_ASSERT_EQUAL(refcount_read(&a->ref), base + 1);
	gdl_owner_fini(&L, &O);
	CU_ASSERT_EQUAL(refcount_read(&a->ref), base);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

/*
 * A gone device's memory can be neither shared nor attached (-ENODEV, as
 * reserve and DMA check); keys made before stay and work again once it is
 * back.  Gone and back are events for admins' readers (agent 0), which a
 * tenant's reader (filtered by its agent) never sees.
 */
static void test_gone_share_and_events(void)
{
	struct gdl_reservation_share out = { .access = GDL_ACCESS_READ };
	struct gdl_share_key k1 = { .type = GDL_SHARE_KEY_BYTES };
	struct gdl_share_key k2 = { .type = GDL_SHARE_KEY_BYTES };
	struct gdl_owner o2;
	struct gdl_event ev[4];
	struct gdl_agent *a;
	u64 h, cursor;
	bool pinned;
	u32 dev, idx;

	memset(k1.bytes, 1, sizeof(k1.bytes));
	memset(k2.bytes, 2, sizeof(k2.bytes));
	ledger_up(&L, NULL);
	gdl_owner_init(&L, &O);
	gdl_owner_init(&L, &o2);
	a = gdl_agent_get(&L, new_agent(&L, "a", MiB));
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &dev), 0);
	CU_ASSERT_EQUAL(reserve(&L, &O, a, dev, 4096, &h), 0);
	CU_ASSERT_EQUAL(gdl_res_share(&L, &O, a, h, &k1, NULL, &pinned), 0);
	cursor = gdl_events_head(&L);

	CU_ASSERT_EQUAL(unplug(BDF_A), 0);
	CU_ASSERT_EQUAL(gdl_res_attach(&L, &o2, a, &k1, &out), -ENODEV);
	CU_ASSERT_EQUAL(gdl_res_share(&L, &O, a, h, &k2, NULL, &pinned),
			-ENODEV);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 1);
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &dev), 0);
	CU_ASSERT_EQUAL(gdl_res_attach(&L, &o2, a, &k1, &out), 0);
	CU_ASSERT_EQUAL(out.dev_index, dev);
	CU_ASSERT_EQUAL(gdl_res_share(&L, &O, a, h, &k2, NULL, &pinned), 0);
	/* Loading finds devices without events: only what changes later. */
	CU_ASSERT_EQUAL(plug(0x2330, BDF_A, &idx), -EEXIST);

	CU_ASSERT_EQUAL(gdl_events_read(&L, &cursor, a->id, ev, 4), 0);
	cursor -= 2;
	CU_ASSERT_EQUAL(gdl_events_read(&L, &cursor, 0, ev, 4), 2);
	CU_ASSERT_EQUAL(ev[0].type, GDL_EVENT_DEVICE_GONE);
	CU_ASSERT_EQUAL(ev[1].type, GDL_EVENT_DEVICE_BACK);
	CU_ASSERT(!ev[0].agent_id && !ev[1].agent_id);
	CU_ASSERT(ev[0].dev_index == dev && ev[1].dev_index == dev);
	gdl_owner_fini(&L, &o2);
	gdl_owner_fini(&L, &O);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LIVE_RESERVATIONS), 0);
	CU_ASSERT_EQUAL(stat(&L, GDL_STAT_LEDGER_CONSISTENT), 1);
	gdl_agent_put(&L, a);
	ledger_down(&L);
}

void register_hotplug_suite(void)
{
	CU_pSuite s = CU_add_suite("hotplug", NULL, NULL);

	ADD_TEST(s, test_gone_and_back);
	ADD_TEST(s, test_plug_admin_entries);
	ADD_TEST(s, test_plug_name_taken);
	ADD_TEST(s, test_gone_reclaimed);
	ADD_TEST(s, test_reserve_reference);
	ADD_TEST(s, test_gone_share_and_events);
}

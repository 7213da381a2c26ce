// SPDX-License-Identifier: GPL-2.0
/* The event ring: emission points, reader cursors, filtering, overrun. */
#include "helpers.h"

static struct gdl_event ev[GDL_EVENT_RING_SIZE + 8];

static void test_event_emission_points(void)
{
	struct gdl_ledger l;
	struct gdl_owner o;
	struct gdl_agent *a;
	u64 cursor;
	u32 id, n;

	ledger_up(&l, NULL);
	gdl_owner_init(&l, &o);
	add_dev(&l, "g0", GDL_QUOTA_UNLIMITED);
	id = new_agent(&l, "a", 4096);
	a = gdl_agent_get(&l, id);
	cursor = gdl_events_head(&l);
	CU_ASSERT_FALSE(gdl_events_pending(&l, cursor, 0));

	CU_ASSERT_EQUAL(reserve(&l, &o, a, 0, 8192, NULL), -EDQUOT);
	CU_ASSERT_EQUAL(dma(&l, a, 0, GDL_ACCESS_WRITE, 0x1000, 16, NULL),
			-EACCES);
	CU_ASSERT_TRUE(gdl_events_pending(&l, cursor, 0));
	n = gdl_events_read(&l, &cursor, 0, ev, 8);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(ev[0].type, GDL_EVENT_QUOTA_EXCEEDED);
	CU_ASSERT_EQUAL(ev[0].agent_id, id);
	CU_ASSERT_EQUAL(ev[0].value, 8192);
	CU_ASSERT_EQUAL(ev[0].value2, 4096);
	CU_ASSERT_EQUAL(ev[0].flags, 0);
	CU_ASSERT_EQUAL(ev[1].type, GDL_EVENT_DMA_DENIED);
	CU_ASSERT_EQUAL(ev[1].access, GDL_ACCESS_WRITE);
	CU_ASSERT_EQUAL(ev[1].value, 0x1000);
	CU_ASSERT_EQUAL(ev[1].value2, 16);
	CU_ASSERT_EQUAL(ev[1].seq, ev[0].seq + 1);
	CU_ASSERT_FALSE(gdl_events_pending(&l, cursor, 0));

	/* Audit mode: allowed, and flagged. */
	l.params.enforce = false;
	CU_ASSERT_EQUAL(reserve(&l, &o, a, 0, 8192, NULL), 0);
	CU_ASSERT_EQUAL(dma(&l, a, 0, GDL_ACCESS_READ, 0x1000, 16, NULL), 0);
	n = gdl_events_read(&l, &cursor, 0, ev, 8);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(ev[0].type, GDL_EVENT_QUOTA_EXCEEDED);
	CU_ASSERT_EQUAL(ev[0].flags, GDL_EVENT_F_AUDIT);
	CU_ASSERT_EQUAL(ev[1].type, GDL_EVENT_DMA_DENIED);
	CU_ASSERT_EQUAL(ev[1].flags, GDL_EVENT_F_AUDIT);
	l.params.enforce = true;

	gdl_owner_fini(&l, &o);
	gdl_agent_put(&l, a);
	CU_ASSERT_EQUAL(gdl_agent_destroy(&l, id), 0);
	n = gdl_events_read(&l, &cursor, 0, ev, 8);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(ev[0].type, GDL_EVENT_AGENT_DESTROYED);
	CU_ASSERT_EQUAL(ev[0].agent_id, id);
	ledger_down(&l);
}

static void test_event_filter_and_overrun(void)
{
	struct gdl_ledger l;
	u64 cursor = 0, c2;
	u32 n, i;

	ledger_up(&l, NULL);
	for (i = 0; i < GDL_EVENT_RING_SIZE + 10; i++)
		gdl_event_emit(&l, GDL_EVENT_DMA_DENIED, 0, 1 + i % 2, 0, 0, i,
			       0);
	/* Fell behind by 10: one LOST record, then the oldest kept. */
	n = gdl_events_read(&l, &cursor, 0, ev, 4);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(ev[0].type, GDL_EVENT_LOST);
	CU_ASSERT_EQUAL(ev[0].value, 10);
	CU_ASSERT_EQUAL(ev[1].value, 10);
	CU_ASSERT_EQUAL(ev[3].value, 12);
	/* A filtered reader sees only its agent's events, in order. */
	c2 = gdl_events_head(&l) - 6;
	n = gdl_events_read(&l, &c2, 2, ev, 8);
	CU_ASSERT_EQUAL(n, 3);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(ev[i].agent_id, 2);
	CU_ASSERT_EQUAL(c2, gdl_events_head(&l));
	/* A full read in one go. */
	n = gdl_events_read(&l, &cursor, 0, ev, GDL_EVENT_RING_SIZE + 8);
	CU_ASSERT_EQUAL(n, GDL_EVENT_RING_SIZE - 3);
	CU_ASSERT_FALSE(gdl_events_pending(&l, cursor, 0));
	/* No room: nothing copied, cursor unchanged. */
	c2 = 0;
	CU_ASSERT_EQUAL(gdl_events_read(&l, &c2, 0, ev, 0), 0);
	ledger_down(&l);
}

/*
 * Issue 22 item 8: pending() is O(1), whatever the backlog: it answers a
 * filtered reader from the index of each agent's latest event, never by
 * scanning the ring.  Shown by rewriting the ring behind its back: a scan
 * would find the planted records, the index does not.
 */
static void test_event_pending_o1(void)
{
	struct gdl_ledger l;
	u64 head, cursor;
	u32 i;

	ledger_up(&l, NULL);
	gdl_event_emit(&l, GDL_EVENT_DMA_DENIED, 0, 17, 0, 0, 0, 0);
	cursor = gdl_events_head(&l);
	for (i = 0; i < GDL_EVENT_RING_SIZE - 1; i++)
		gdl_event_emit(&l, GDL_EVENT_DMA_DENIED, 0, 1 + i % 15, 0,
			       0, i, 0);
	head = gdl_events_head(&l);
	CU_ASSERT_TRUE(gdl_events_pending(&l, cursor, 0));
	CU_ASSERT_TRUE(gdl_events_pending(&l, cursor, 12));
	CU_ASSERT_FALSE(gdl_events_pending(&l, cursor, 17));
	CU_ASSERT_TRUE(gdl_events_pending(&l, cursor - 1, 17));
	CU_ASSERT_FALSE(gdl_events_pending(&l, head, 12));
	CU_ASSERT_FALSE(gdl_events_pending(&l, head, 0));
	/* The ring says agent 17 everywhere; its index says nothing new. */
	for (i = 0; i < GDL_EVENT_RING_SIZE; i++)
		l.events->ev[i].agent_id = 17;
	CU_ASSERT_FALSE(gdl_events_pending(&l, cursor, 17));
	/* A reader that fell behind the ring has its LOST record waiting. */
	gdl_event_emit(&l, GDL_EVENT_DMA_DENIED, 0, 12, 0, 0, 0, 0);
	gdl_event_emit(&l, GDL_EVENT_DMA_DENIED, 0, 12, 0, 0, 0, 0);
	CU_ASSERT_TRUE(gdl_events_pending(&l, cursor - 1, 17));
	CU_ASSERT_TRUE(gdl_events_pending(&l, head, 12));
	CU_ASSERT_FALSE(gdl_events_pending(&l, head, 13));
	ledger_down(&l);
}

void register_event_suite(void)
{
	CU_pSuite s = CU_add_suite("event", NULL, NULL);

	ADD_TEST(s, test_event_emission_points);
	ADD_TEST(s, test_event_filter_and_overrun);
	ADD_TEST(s, test_event_pending_o1);
}

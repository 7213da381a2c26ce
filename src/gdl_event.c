// SPDX-License-Identifier: GPL-2.0
/*
 * Events: a fixed ring of the most recent refusals, agent removals and
 * PCI devices gone or back, for `gpu-dma-lock-ctl watch`.  Emitted only on
 * the slow paths (a denial, a destroy, a hot-plug), so one spinlock is
 * fine; it is a leaf, taken under admin_lock by the hot-plug ones.
 * Compiled into the module and the userspace tests.
 */
#include "gdl_core.h"

#define GDL_EVENT_MASK	(GDL_EVENT_RING_SIZE - 1)

/* After l->nr_slots is set. */
int gdl_events_init(struct gdl_ledger *l)
{
	l->events = kvzalloc(sizeof(*l->events), GFP_KERNEL);
	if (!l->events)
		return -ENOMEM;
	l->events->last = kvcalloc(l->nr_slots, sizeof(*l->events->last),
				   GFP_KERNEL);
	if (!l->events->last) {
		kvfree(l->events);
		l->events = NULL;
		return -ENOMEM;
	}
	spin_lock_init(&l->events->lock);
	return 0;
}

void gdl_events_fini(struct gdl_ledger *l)
{
	kvfree(l->events->last);
	kvfree(l->events);
	l->events = NULL;
}

void gdl_event_emit(struct gdl_ledger *l, u32 type, u32 flags, u32 agent,
		    u32 dev, u32 access, u64 value, u64 value2)
{
	struct gdl_event_ring *r = l->events;
	struct gdl_event *e;
	u64 now = gdl_time_ns();
	s32 pid = gdl_current_tgid();

	spin_lock(&r->lock);
	e = &r->ev[r->head & GDL_EVENT_MASK];
	memset(e, 0, sizeof(*e));
	e->seq = r->head++;
	e->time_ns = now;
	e->type = type;
	e->flags = flags;
	e->agent_id = agent;
	e->dev_index = dev;
	e->pid = pid;
	e->access = access;
	e->value = value;
	e->value2 = value2;
	r->last[gdl_agent_slot(l, agent)].agent = agent;
	r->last[gdl_agent_slot(l, agent)].next = r->head;
	spin_unlock(&r->lock);
	if (l->event_notify)
		l->event_notify(l);
}

u64 gdl_events_head(struct gdl_ledger *l)
{
	u64 head;

	spin_lock(&l->events->lock);
	head = l->events->head;
	spin_unlock(&l->events->lock);
	return head;
}

/*
 * Is an event from @cursor on one that a reader of @filter_agent's (0: all)
 * may read?  A reader that fell behind has a LOST record waiting.  O(1),
 * called on every poll and wakeup of every reader: a filtered reader is
 * answered from its agent's latest event (r->last), not by scanning the
 * backlog of others' events.  An id that names no slot (none a caller
 * resolves to) falls back to the scan.
 */
bool gdl_events_pending(struct gdl_ledger *l, u64 cursor, u32 filter_agent)
{
	struct gdl_event_ring *r = l->events;
	u32 slot = gdl_agent_slot(l, filter_agent);
	bool found;
	u64 seq;

	spin_lock(&r->lock);
	if (cursor + GDL_EVENT_RING_SIZE < r->head || !filter_agent) {
		found = cursor < r->head;
	} else if (slot) {
		found = r->last[slot].agent == filter_agent &&
			r->last[slot].next > cursor;
	} else {
		found = false;
		for (seq = cursor; seq < r->head && !found; seq++)
			found = r->ev[seq & GDL_EVENT_MASK].agent_id ==
				filter_agent;
	}
	spin_unlock(&r->lock);
	return found;
}

/*
 * Copy up to @cap events from *@cursor on into @buf, skipping other agents'
 * when @filter_agent is set, and advance *@cursor.  A reader that fell
 * behind the ring first gets a GDL_EVENT_LOST record.
 */
u32 gdl_events_read(struct gdl_ledger *l, u64 *cursor, u32 filter_agent,
		    struct gdl_event *buf, u32 cap)
{
	struct gdl_event_ring *r = l->events;
	u64 seq = *cursor, oldest;
	u32 n = 0;

	spin_lock(&r->lock);
	oldest = r->head > GDL_EVENT_RING_SIZE ?
		 r->head - GDL_EVENT_RING_SIZE : 0;
	if (seq < oldest && cap) {
		memset(&buf[n], 0, sizeof(buf[n]));
		buf[n].seq = seq;
		buf[n].type = GDL_EVENT_LOST;
		buf[n].value = oldest - seq;
		n++;
		seq = oldest;
	}
	for (; seq < r->head && n < cap; seq++) {
		const struct gdl_event *e = &r->ev[seq & GDL_EVENT_MASK];

		if (filter_agent && e->agent_id != filter_agent)
			continue;
		buf[n++] = *e;
	}
	spin_unlock(&r->lock);
	*cursor = seq;
	return n;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics: per-CPU event counters summed on read, live object counts,
 * and the ledger's self-check.  Compiled into the module and the tests.
 */
#include "gdl_core.h"

/* One agent's account: never negative, bytes if and only if reservations. */
static bool gdl_usage_sane(const struct gdl_usage *u)
{
	s64 bytes = atomic64_read(&u->usage);
	s64 nr = atomic64_read(&u->nr_reservations);

	return bytes >= 0 && nr >= 0 && !bytes == !nr;
}

/*
 * Does every device's total equal the sum of its agents' accounts, and do
 * those add up, device by device, to the live reservations of every open
 * file?  Exact when no reservation is in flight; tests call it at rest.
 * Destroyed agents that still hold reservations are counted too.
 */
bool gdl_ledger_consistent(struct gdl_ledger *l)
{
	return gdl_ledger_check(l, true);
}

/*
 * Add up the live reservations of one open file in steps of GDL_WALK_BATCH
 * nodes, resuming by handle (handles only grow), so that the lock its own
 * reserve and release take is never held for the whole walk.
 */

/*
 * Each reservation is counted once: at its reserver's handle while it has
 * never been shared, else from the ledger's list of shared reservations
 * (gdl_share_sum()), whichever files hold it now.
 */
struct gdl_sums {
	u64 rsum[GDL_MAX_DEVICES];
	u64 rnr[GDL_MAX_DEVICES];
};

static void gdl_owner_sum(struct gdl_owner *o, void *arg)
{
	struct gdl_sums *s = arg;
	u64 *rsum = s->rsum, *rnr = s->rnr;
	struct gdl_hold *h;
	struct rb_node *n;
	u64 next = 0;
	u32 i;

	do {
		spin_lock(&o->lock);
		n = gdl_hold_first_from(o, next);
		for (i = 0; n && i < GDL_WALK_BATCH; i++, n = rb_next(n)) {
			struct gdl_reservation *r;

			h = rb_entry(n, struct gdl_hold, owner_node);
			r = h->res;
			if (h == &r->self && !READ_ONCE(r->shared)) {
				rsum[r->dev_index] += r->size;
				rnr[r->dev_index]++;
			}
			next = h->handle + 1;
		}
		spin_unlock(&o->lock);
		cond_resched();
	} while (n);
}

/*
 * @walk: also add up every live reservation of every open file, under
 * admin_lock.  That costs a pass over all reservations, so only admins get
 * it through GDL_IOC_STATS.  Without it (tenants, /proc read by tenants)
 * the check is O(agents x devices) under RCU and takes no lock an admin or
 * another tenant waits for.
 */
bool gdl_ledger_check(struct gdl_ledger *l, bool walk)
{
	u64 used[GDL_MAX_DEVICES] = { 0 }, nr[GDL_MAX_DEVICES] = { 0 };
	struct gdl_sums sums = { 0 };
	u64 total_nr = 0;
	struct gdl_agent *a;
	bool ok = true;
	u32 slot, d;

	if (walk)
		mutex_lock(&l->admin_lock);
	rcu_read_lock();
	for (slot = 1; slot < l->nr_slots; slot++) {
		a = rcu_dereference(l->agents[slot]);
		for (d = 0; a && d < GDL_MAX_DEVICES; d++) {
			ok &= gdl_usage_sane(&a->usage[d]);
			used[d] += atomic64_read(&a->usage[d].usage);
			nr[d] += atomic64_read(&a->usage[d].nr_reservations);
		}
	}
	spin_lock(&l->dead_lock);
	list_for_each_entry(a, &l->dead_agents, dead_node) {
		for (d = 0; d < GDL_MAX_DEVICES; d++) {
			ok &= gdl_usage_sane(&a->usage[d]);
			used[d] += atomic64_read(&a->usage[d].usage);
			nr[d] += atomic64_read(&a->usage[d].nr_reservations);
		}
	}
	spin_unlock(&l->dead_lock);
	for (d = 0; d < GDL_MAX_DEVICES; d++) {
		struct gdl_device *dev = rcu_dereference(l->devices[d]);

		if (!dev) {
			/* An absent device slot must hold nothing. */
			ok &= !nr[d];
			continue;
		}
		ok &= used[d] == (u64)atomic64_read(&dev->used);
		ok &= nr[d] == (u64)atomic64_read(&dev->nr_reservations);
		total_nr += nr[d];
	}
	ok &= total_nr + atomic_read(&l->nr_shared) ==
	      (u64)atomic_read(&l->nr_reservations);
	rcu_read_unlock();
	if (!walk)
		return ok;
	/* The accounts must add up to the live reservations themselves. */
	gdl_owners_walk(l, gdl_owner_sum, &sums);
	gdl_share_sum(l, sums.rsum, sums.rnr);
	for (d = 0; d < GDL_MAX_DEVICES; d++)
		ok &= sums.rsum[d] == used[d] && sums.rnr[d] == nr[d];
	mutex_unlock(&l->admin_lock);
	return ok;
}

void gdl_stats_snapshot(struct gdl_ledger *l, struct gdl_stats *out,
			bool walk)
{
	u32 i, devices = 0;

	memset(out, 0, sizeof(*out));
	out->nr_counters = GDL_STAT_NR;
	for (i = 0; i < GDL_STAT_LIVE_AGENTS; i++)
		out->counters[i] = gdl_stat_sum(l->stats, i);

	rcu_read_lock();
	for (i = 0; i < GDL_MAX_DEVICES; i++)
		devices += !!rcu_access_pointer(l->devices[i]);
	rcu_read_unlock();
	out->counters[GDL_STAT_LIVE_AGENTS] = READ_ONCE(l->nr_agents) + 1;
	/* The pool less its keys and attached handles. */
	out->counters[GDL_STAT_LIVE_RESERVATIONS] =
		atomic_read(&l->nr_reservations) - atomic_read(&l->nr_shared);
	out->counters[GDL_STAT_LIVE_ACL_ENTRIES] =
		atomic_read(&l->nr_acl_entries);
	out->counters[GDL_STAT_LIVE_FILES] = atomic_read(&l->nr_owners);
	out->counters[GDL_STAT_LIVE_DEVICES] = devices;
	out->counters[GDL_STAT_LEDGER_CONSISTENT] = gdl_ledger_check(l, walk);
}

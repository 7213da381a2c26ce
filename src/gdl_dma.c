// SPDX-License-Identifier: GPL-2.0
/*
 * The DMA check: may an agent access a range of device memory, or DMA
 * from one device to another?  It reads the agent's published ACL set
 * (gdl_acl.c builds and replaces them) under rcu_read_lock() alone, with
 * no lock taken: a few binary searches, O(log n) whatever the set holds.
 * Compiled into the module and into the userspace unit tests.
 */
#include "gdl_core.h"

/*
 * Does the (dev, owner, rights) run of @set hold an entry covering
 * [addr, end)?  The last node of the run starting at or before @addr
 * carries the largest end of all such nodes: one binary search.
 */
static bool gdl_acl_run_covers(const struct gdl_acl_set *set, u32 dev,
			       u32 owner, u32 rights, u64 addr, u64 end)
{
	struct gdl_acl_node key = {
		.dev = dev, .owner = owner, .rights = rights, .start = addr,
		.end = U64_MAX, .peer = U32_MAX,
	};
	int lo = 0, hi = (int)set->nr - 1, i = -1;
	const struct gdl_acl_node *n;

	/* The last node <= key: same run, start <= addr (or before the run). */
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (gdl_acl_node_cmp(&set->node[mid], &key) <= 0) {
			i = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	if (i < 0)
		return false;
	n = &set->node[i];
	return n->dev == dev && n->owner == owner && n->rights == rights &&
	       n->max_end >= end;
}

/*
 * Does @set allow @rights on [addr, end) of @dev, for memory owned by
 * @owner (0: memory nobody reserved)?  Admin entries (owner 0) apply to any
 * memory; grants only to memory their owner holds.  At most four runs are
 * searched (admin or owner; the rights asked for, or read and write):
 * O(log n) whatever the set holds.
 */
static u32 gdl_acl_allows(const struct gdl_acl_set *set, u32 dev, u64 addr,
			  u64 end, u32 rights, u32 owner)
{
	static const u32 runs[] = {
		GDL_ACCESS_READ, GDL_ACCESS_WRITE,
		GDL_ACCESS_READ | GDL_ACCESS_WRITE,
	};
	u32 i;

	for (i = 0; i < ARRAY_SIZE(runs); i++)
		if ((runs[i] & rights) == rights &&
		    gdl_acl_run_covers(set, dev, 0, runs[i], addr, end))
			return GDL_RESULT_ACL;
	for (i = 0; owner && i < ARRAY_SIZE(runs); i++)
		if ((runs[i] & rights) == rights &&
		    gdl_acl_run_covers(set, dev, owner, runs[i], addr, end))
			return GDL_RESULT_GRANT;
	return 0;
}

/*
 * The DMA rule for @rights on [addr, end) of device @dev, memory of agent
 * @owner (0: nobody's): the agent's own memory, a grant of its owner or an
 * admin entry.  Whether it passes, and by what in *@result (GDL_RESULT_*).
 * Under rcu_read_lock().  RESERVATION_ATTACH asks it too (gdl_share.c).
 */
bool gdl_acl_verdict(struct gdl_agent *a, u32 dev, u64 addr, u64 end,
		     u32 rights, u32 owner, u32 *result)
{
	struct gdl_acl_set *set;

	*result = GDL_RESULT_OK;
	if (!rights || owner == a->id)
		return true;
	set = rcu_dereference(a->acl);
	*result = set ? gdl_acl_allows(set, dev, addr, end, rights, owner) : 0;
	return *result;
}

int gdl_dma_check(struct gdl_ledger *l, struct gdl_agent *a,
		  struct gdl_dma_check *req)
{
	u32 rights = req->access & (GDL_ACCESS_READ | GDL_ACCESS_WRITE);
	struct gdl_device *dev;
	u32 verdict = 0;
	u64 end;
	int ret = 0;

	if (!req->access || req->access & ~GDL_ACCESS_MASK)
		return -EINVAL;
	/* A pure peer check names no range; everything else needs one. */
	if (rights ? !req->len : (req->len || req->addr))
		return -EINVAL;
	if (!(req->access & GDL_ACCESS_PEER) && req->peer_index)
		return -EINVAL;
	if (check_add_overflow(req->addr, req->len, &end))
		return -EOVERFLOW;
	if (req->dev_index >= GDL_MAX_DEVICES ||
	    ((req->access & GDL_ACCESS_PEER) &&
	     (req->peer_index >= GDL_MAX_DEVICES ||
	      req->peer_index == req->dev_index)))
		return -ENODEV;

	rcu_read_lock();
	/* A device gone from the bus takes no DMA, not even as the peer. */
	dev = gdl_device_live_rcu(l, req->dev_index);
	if (!dev || ((req->access & GDL_ACCESS_PEER) &&
		     !gdl_device_live_rcu(l, req->peer_index))) {
		rcu_read_unlock();
		return -ENODEV;
	}
	req->owner_id = rights ? gdl_range_owner(dev, req->addr, req->len) : 0;

	if (req->access & GDL_ACCESS_PEER &&
	    !(READ_ONCE(a->peer_mask[req->dev_index]) & 1U << req->peer_index))
		goto denied;
	if (gdl_acl_verdict(a, req->dev_index, req->addr, end, rights,
			    req->owner_id, &verdict))
		goto allowed;
denied:
	atomic64_inc(&a->usage[req->dev_index].denied);
	if (gdl_enforcing(l)) {
		rcu_read_unlock();
		gdl_stat_inc(l->stats, GDL_STAT_DMA_DENIED);
		gdl_event_emit(l, GDL_EVENT_DMA_DENIED, 0, a->id,
			       req->dev_index, req->access, req->addr,
			       req->len);
		return -EACCES;
	}
	verdict = GDL_RESULT_AUDIT;
	/* Enforcing, it would learn nothing: nor does it in audit mode. */
	req->owner_id = 0;
	gdl_stat_inc(l->stats, GDL_STAT_AUDIT_OVERRIDES);
	gdl_event_emit(l, GDL_EVENT_DMA_DENIED, GDL_EVENT_F_AUDIT, a->id,
		       req->dev_index, req->access, req->addr, req->len);
allowed:
	rcu_read_unlock();
	req->result = verdict;
	gdl_stat_inc(l->stats, GDL_STAT_DMA_ALLOWED);
	return ret;
}

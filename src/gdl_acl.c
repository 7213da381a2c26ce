// SPDX-License-Identifier: GPL-2.0
/*
 * DMA access control: ACL sets and the DMA check.
 * Compiled into the module and into the userspace unit tests.
 *
 * Each agent has one immutable, sorted ACL set published with RCU: the
 * check is a binary search with no lock.  Changes (rare, admin or owner
 * initiated) build a new set under admin_lock and free the old one after a
 * grace period.  Peer rights are folded into a per-agent bitmap.
 */
#include "gdl_core.h"

void gdl_acl_set_free(struct gdl_acl_set *set)
{
	kvfree(set);
}

static void gdl_acl_set_free_rcu(struct rcu_head *head)
{
	gdl_acl_set_free(container_of(head, struct gdl_acl_set, rcu));
}

static int gdl_acl_node_cmp(const void *a, const void *b)
{
	const struct gdl_acl_node *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->peer != y->peer)
		return x->peer < y->peer ? -1 : 1;
	if (x->rights != y->rights)
		return x->rights < y->rights ? -1 : 1;
	return 0;
}

static void gdl_acl_node_from_entry(struct gdl_acl_node *n,
				    const struct gdl_acl_entry *e)
{
	n->start = e->addr;
	n->end = e->addr + e->len;	/* validated: no overflow */
	n->max_end = 0;
	n->dev = e->dev_index;
	n->rights = e->rights;
	n->owner = e->owner_id;
	n->peer = e->peer_index;
}

static void gdl_acl_entry_from_node(struct gdl_acl_entry *e, u32 agent,
				    const struct gdl_acl_node *n)
{
	memset(e, 0, sizeof(*e));
	e->agent_id = agent;
	e->owner_id = n->owner;
	e->dev_index = n->dev;
	e->rights = n->rights;
	e->peer_index = n->peer;
	e->addr = n->start;
	e->len = n->end - n->start;
}

static struct gdl_acl_set *gdl_acl_set_alloc(u32 nr)
{
	struct gdl_acl_set *set;

	set = kvmalloc(struct_size(set, node, nr), GFP_KERNEL);
	if (set)
		set->nr = nr;
	return set;
}

/* Sort, drop exact duplicates, fill max_end, and derive the peer bitmap. */
static void gdl_acl_set_finish(struct gdl_acl_set *set, u32 *peer_mask)
{
	u32 i, out = 0;
	u64 max_end = 0;

	sort(set->node, set->nr, sizeof(set->node[0]), gdl_acl_node_cmp, NULL);
	memset(peer_mask, 0, sizeof(u32) * GDL_MAX_DEVICES);
	for (i = 0; i < set->nr; i++) {
		struct gdl_acl_node *n = &set->node[i];

		if (out && !gdl_acl_node_cmp(&set->node[out - 1], n))
			continue;
		if (!out || set->node[out - 1].dev != n->dev)
			max_end = 0;
		max_end = max(max_end, n->end);
		set->node[out] = *n;
		set->node[out].max_end = max_end;
		if (n->rights & GDL_ACCESS_PEER)
			peer_mask[n->dev] |= 1U << n->peer;
		out++;
	}
	set->nr = out;
}

static struct gdl_acl_set *gdl_acl_locked(struct gdl_ledger *l,
					  struct gdl_agent *a)
{
	return rcu_dereference_protected(a->acl,
					 lockdep_is_held(&l->admin_lock));
}

/* Publish @set (may be NULL or empty) as @a's ACL and account for it. */
static void gdl_acl_publish(struct gdl_ledger *l, struct gdl_agent *a,
			    struct gdl_acl_set *set, const u32 *peer_mask)
{
	struct gdl_acl_set *old = gdl_acl_locked(l, a);
	u32 d;

	if (set && !set->nr) {
		gdl_acl_set_free(set);
		set = NULL;
	}
	atomic_add((set ? set->nr : 0) - (old ? old->nr : 0),
		   &l->nr_acl_entries);
	rcu_assign_pointer(a->acl, set);
	for (d = 0; d < GDL_MAX_DEVICES; d++)
		WRITE_ONCE(a->peer_mask[d], peer_mask ? peer_mask[d] : 0);
	if (old)
		call_rcu(&old->rcu, gdl_acl_set_free_rcu);
}

int gdl_acl_validate(struct gdl_ledger *l, const struct gdl_acl_entry *e,
		     u32 caller_agent, bool admin)
{
	u64 end;

	if (e->reserved0 || e->reserved[0] || e->reserved[1])
		return -EINVAL;
	if (!e->rights || e->rights & ~GDL_ACCESS_MASK)
		return -EINVAL;
	if (e->dev_index >= GDL_MAX_DEVICES)
		return -ENODEV;
	if (e->rights & GDL_ACCESS_PEER) {
		/* A device pair, no range, and only from an admin. */
		if (e->rights != GDL_ACCESS_PEER || e->addr || e->len ||
		    e->owner_id)
			return -EINVAL;
		if (e->peer_index >= GDL_MAX_DEVICES ||
		    e->peer_index == e->dev_index)
			return -ENODEV;
		if (!admin)
			return -EPERM;
	} else {
		if (e->peer_index || !e->len)
			return -EINVAL;
		if (check_add_overflow(e->addr, e->len, &end))
			return -EOVERFLOW;
		/* Tenants grant their own memory, and nothing else. */
		if (!admin && (!caller_agent || e->owner_id != caller_agent))
			return -EPERM;
	}
	return 0;
}

/*
 * Check agent and device existence under admin_lock, for a batch that
 * gdl_acl_validate() accepted.
 */
static int gdl_acl_check_targets(struct gdl_ledger *l,
				 const struct gdl_acl_entry *e, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (!gdl_agent_locked(l, e[i].agent_id) ||
		    (e[i].owner_id && !gdl_agent_locked(l, e[i].owner_id)))
			return -ENOENT;
		if (!rcu_access_pointer(l->devices[e[i].dev_index]) ||
		    ((e[i].rights & GDL_ACCESS_PEER) &&
		     !rcu_access_pointer(l->devices[e[i].peer_index])))
			return -ENODEV;
	}
	return 0;
}

static struct gdl_agent *gdl_acl_agent(struct gdl_ledger *l, u32 id)
{
	return rcu_dereference_protected(l->agents[id & GDL_AGENT_SLOT_MASK],
					 lockdep_is_held(&l->admin_lock));
}

/*
 * Add a validated batch, all or nothing.  Entries equal to existing ones
 * are merged, so applying the same policy twice changes nothing.
 */
int gdl_acl_grant(struct gdl_ledger *l, const struct gdl_acl_entry *e, u32 n)
{
	u32 peer_mask[GDL_MAX_DEVICES];
	struct gdl_acl_set **sets;
	u32 i, j, pending = 0;
	int ret;

	sets = kcalloc(n, sizeof(*sets), GFP_KERNEL);
	if (!sets)
		return -ENOMEM;

	mutex_lock(&l->admin_lock);
	ret = gdl_acl_check_targets(l, e, n);
	if (ret)
		goto out;

	/* One new set per distinct grantee in the batch. */
	for (i = 0; i < n; i++) {
		struct gdl_agent *a = gdl_acl_agent(l, e[i].agent_id);
		struct gdl_acl_set *old = gdl_acl_locked(l, a);
		u32 old_nr = old ? old->nr : 0, add = 0;

		for (j = 0; j < i; j++)
			if (e[j].agent_id == e[i].agent_id)
				break;
		if (j < i)
			continue;	/* grantee already handled */
		for (j = i; j < n; j++)
			add += e[j].agent_id == e[i].agent_id;
		sets[i] = gdl_acl_set_alloc(old_nr + add);
		if (!sets[i]) {
			ret = -ENOMEM;
			goto out;
		}
		if (old_nr)
			memcpy(sets[i]->node, old->node,
			       old_nr * sizeof(old->node[0]));
		add = old_nr;
		for (j = i; j < n; j++)
			if (e[j].agent_id == e[i].agent_id)
				gdl_acl_node_from_entry(&sets[i]->node[add++],
							&e[j]);
		/* Only entries new after merging count against the limit. */
		gdl_acl_set_finish(sets[i], peer_mask);
		pending += sets[i]->nr - old_nr;
	}
	if ((u32)atomic_read(&l->nr_acl_entries) + pending >
	    l->params.max_acl_entries) {
		ret = -ENOBUFS;
		goto out;
	}
	/* Nothing can fail any more: publish. */
	for (i = 0; i < n; i++) {
		if (!sets[i])
			continue;
		gdl_acl_set_finish(sets[i], peer_mask);
		gdl_acl_publish(l, gdl_acl_agent(l, e[i].agent_id), sets[i],
				peer_mask);
		sets[i] = NULL;
	}
out:
	mutex_unlock(&l->admin_lock);
	for (i = 0; i < n; i++)
		gdl_acl_set_free(sets[i]);
	kfree(sets);
	return ret;
}

static bool gdl_acl_match(const struct gdl_acl_node *n,
			  const struct gdl_acl_entry *e)
{
	struct gdl_acl_node want;

	gdl_acl_node_from_entry(&want, e);
	return !gdl_acl_node_cmp(n, &want);
}

/* Remove a validated batch; -ENOENT (and nothing removed) if any is absent. */
int gdl_acl_revoke(struct gdl_ledger *l, const struct gdl_acl_entry *e, u32 n)
{
	u32 peer_mask[GDL_MAX_DEVICES];
	struct gdl_acl_set **sets;
	u32 i, j, k;
	int ret;

	sets = kcalloc(n, sizeof(*sets), GFP_KERNEL);
	if (!sets)
		return -ENOMEM;

	mutex_lock(&l->admin_lock);
	ret = gdl_acl_check_targets(l, e, n);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		struct gdl_agent *a = gdl_acl_agent(l, e[i].agent_id);
		struct gdl_acl_set *old = gdl_acl_locked(l, a);
		u32 out = 0;

		for (j = 0; j < i; j++)
			if (e[j].agent_id == e[i].agent_id)
				break;
		if (j < i)
			continue;
		if (!old) {
			ret = -ENOENT;
			goto out;
		}
		sets[i] = gdl_acl_set_alloc(old->nr);
		if (!sets[i]) {
			ret = -ENOMEM;
			goto out;
		}
		for (k = 0; k < old->nr; k++) {
			bool drop = false;

			for (j = i; j < n && !drop; j++)
				drop = e[j].agent_id == e[i].agent_id &&
				       gdl_acl_match(&old->node[k], &e[j]);
			if (!drop)
				sets[i]->node[out++] = old->node[k];
		}
		/* Every entry of this grantee in the batch must have matched. */
		for (j = i; j < n; j++) {
			bool found = false;

			if (e[j].agent_id != e[i].agent_id)
				continue;
			for (k = 0; k < old->nr && !found; k++)
				found = gdl_acl_match(&old->node[k], &e[j]);
			if (!found) {
				ret = -ENOENT;
				goto out;
			}
		}
		sets[i]->nr = out;
	}
	for (i = 0; i < n; i++) {
		if (!sets[i])
			continue;
		gdl_acl_set_finish(sets[i], peer_mask);
		gdl_acl_publish(l, gdl_acl_agent(l, e[i].agent_id), sets[i],
				peer_mask);
		sets[i] = NULL;
	}
out:
	mutex_unlock(&l->admin_lock);
	for (i = 0; i < n; i++)
		gdl_acl_set_free(sets[i]);
	kfree(sets);
	return ret;
}

/* Entries where @filter is grantee or owner (0: all), copied into @buf. */
int gdl_acl_list(struct gdl_ledger *l, u32 filter, struct gdl_acl_entry *buf,
		 u32 cap, u32 *total)
{
	u32 slot, i, n = 0;

	rcu_read_lock();
	for (slot = 1; slot < l->nr_slots; slot++) {
		struct gdl_agent *a = rcu_dereference(l->agents[slot]);
		struct gdl_acl_set *set;

		if (!a)
			continue;
		set = rcu_dereference(a->acl);
		for (i = 0; set && i < set->nr; i++) {
			if (filter && a->id != filter &&
			    set->node[i].owner != filter)
				continue;
			if (n < cap)
				gdl_acl_entry_from_node(&buf[n], a->id,
							&set->node[i]);
			n++;
		}
	}
	rcu_read_unlock();
	*total = n;
	return 0;
}

/*
 * Purging entries that name something being removed, in two steps so that
 * the removal can be refused (-ENOMEM) before anything changed: prepare
 * builds every agent's new set, commit publishes them.  Under admin_lock.
 */
static bool gdl_acl_names_agent(const struct gdl_acl_node *n, u32 id)
{
	return n->owner == id;
}

static bool gdl_acl_names_device(const struct gdl_acl_node *n, u32 index)
{
	return n->dev == index ||
	       (n->rights & GDL_ACCESS_PEER && n->peer == index);
}

static int gdl_acl_purge_prepare(struct gdl_ledger *l,
				 bool (*names)(const struct gdl_acl_node *, u32),
				 u32 arg, struct gdl_acl_set ***out)
{
	struct gdl_acl_set **sets;
	u32 slot, i, keep;

	lockdep_assert_held(&l->admin_lock);
	sets = kvcalloc(l->nr_slots, sizeof(*sets), GFP_KERNEL);
	if (!sets)
		return -ENOMEM;
	for (slot = 1; slot < l->nr_slots; slot++) {
		struct gdl_agent *a = rcu_dereference_protected(l->agents[slot],
				lockdep_is_held(&l->admin_lock));
		struct gdl_acl_set *old = a ? gdl_acl_locked(l, a) : NULL;

		if (!old)
			continue;
		for (i = 0, keep = 0; i < old->nr; i++)
			keep += !names(&old->node[i], arg);
		if (keep == old->nr)
			continue;
		sets[slot] = gdl_acl_set_alloc(keep);
		if (!sets[slot]) {
			gdl_acl_purge_abort(l, sets);
			return -ENOMEM;
		}
		for (i = 0, keep = 0; i < old->nr; i++)
			if (!names(&old->node[i], arg))
				sets[slot]->node[keep++] = old->node[i];
	}
	*out = sets;
	return 0;
}

int gdl_acl_purge_agent_prepare(struct gdl_ledger *l, u32 id,
				struct gdl_acl_set ***sets)
{
	return gdl_acl_purge_prepare(l, gdl_acl_names_agent, id, sets);
}

int gdl_acl_purge_device_prepare(struct gdl_ledger *l, u32 index,
				 struct gdl_acl_set ***sets)
{
	return gdl_acl_purge_prepare(l, gdl_acl_names_device, index, sets);
}

void gdl_acl_purge_abort(struct gdl_ledger *l, struct gdl_acl_set **sets)
{
	u32 slot;

	for (slot = 0; slot < l->nr_slots; slot++)
		gdl_acl_set_free(sets[slot]);
	kvfree(sets);
}

void gdl_acl_purge_commit(struct gdl_ledger *l, struct gdl_acl_set **sets)
{
	u32 peer_mask[GDL_MAX_DEVICES];
	u32 slot;

	lockdep_assert_held(&l->admin_lock);
	for (slot = 1; slot < l->nr_slots; slot++) {
		struct gdl_agent *a = rcu_dereference_protected(l->agents[slot],
				lockdep_is_held(&l->admin_lock));

		if (!sets[slot])
			continue;
		if (a) {
			gdl_acl_set_finish(sets[slot], peer_mask);
			gdl_acl_publish(l, a, sets[slot], peer_mask);
			sets[slot] = NULL;
		}
	}
	gdl_acl_purge_abort(l, sets);	/* frees what is left */
}

/* A destroyed agent's own entries go with it. */
void gdl_acl_drop_agent(struct gdl_ledger *l, struct gdl_agent *dead)
{
	gdl_acl_publish(l, dead, NULL, NULL);
}

/*
 * Does @set allow @rights on [addr, end) of @dev, for memory owned by
 * @owner (0: memory nobody reserved)?  Admin entries (owner 0) apply to any
 * memory; grants only to memory their owner holds.
 */
static u32 gdl_acl_allows(const struct gdl_acl_set *set, u32 dev, u64 addr,
			  u64 end, u32 rights, u32 owner)
{
	int lo = 0, hi = (int)set->nr - 1, i = -1;

	/* The last node with (dev, start) <= (dev, addr). */
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct gdl_acl_node *n = &set->node[mid];

		if (n->dev < dev || (n->dev == dev && n->start <= addr)) {
			i = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	/* Walk back only while an earlier node could still reach @end. */
	for (; i >= 0; i--) {
		const struct gdl_acl_node *n = &set->node[i];

		if (n->dev != dev || n->max_end < end)
			break;
		if (n->end < end || (n->rights & rights) != rights)
			continue;
		if (!n->owner)
			return GDL_RESULT_ACL;
		if (n->owner == owner)
			return GDL_RESULT_GRANT;
	}
	return 0;
}

int gdl_dma_check(struct gdl_ledger *l, struct gdl_agent *a,
		  struct gdl_dma_check *req)
{
	u32 rights = req->access & (GDL_ACCESS_READ | GDL_ACCESS_WRITE);
	struct gdl_acl_set *set;
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
	dev = rcu_dereference(l->devices[req->dev_index]);
	if (!dev || ((req->access & GDL_ACCESS_PEER) &&
		     !rcu_access_pointer(l->devices[req->peer_index]))) {
		rcu_read_unlock();
		return -ENODEV;
	}
	req->owner_id = rights ? gdl_range_owner(dev, req->addr, req->len) : 0;

	if (req->access & GDL_ACCESS_PEER &&
	    !(READ_ONCE(a->peer_mask[req->dev_index]) & 1U << req->peer_index))
		goto denied;
	if (!rights || req->owner_id == a->id) {
		verdict = GDL_RESULT_OK;
		goto allowed;
	}
	set = rcu_dereference(a->acl);
	verdict = set ? gdl_acl_allows(set, req->dev_index, req->addr, end,
				       rights, req->owner_id) : 0;
	if (verdict)
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
	gdl_stat_inc(l->stats, GDL_STAT_AUDIT_OVERRIDES);
	gdl_event_emit(l, GDL_EVENT_DMA_DENIED, GDL_EVENT_F_AUDIT, a->id,
		       req->dev_index, req->access, req->addr, req->len);
allowed:
	rcu_read_unlock();
	req->result = verdict;
	gdl_stat_inc(l->stats, GDL_STAT_DMA_ALLOWED);
	return ret;
}

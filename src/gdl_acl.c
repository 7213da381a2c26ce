// SPDX-License-Identifier: GPL-2.0
/*
 * DMA access control: ACL sets, their grant/revoke batch engine and the
 * admin's purge (the check that reads them: gdl_dma.c).
 * Compiled into the module and into the userspace unit tests.
 *
 * Each agent has one immutable, sorted ACL set published with RCU: the
 * check is a few binary searches with no lock.  A grant or revoke sorts
 * its batch before taking any lock, then takes its grantees' acl_locks
 * (which serialise changes to their sets), finds the batch in the old sets
 * (O(batch log n)) and builds the new ones (one copy, none when nothing
 * changes) without admin_lock; it takes admin_lock only to check targets
 * and pools and to publish, O(batch).  An admin's purge (agent or device
 * removal) replaces sets under admin_lock alone: a change built from a set
 * purged meanwhile sees acl_gen moved and is built again.  Old sets are
 * freed after a grace period.  Peer rights are folded into a per-agent
 * bitmap.
 *
 * Entries owned by an agent (its grants) count against that agent's
 * max_acl_entries and against the node's pool of grants; admin entries
 * (owner 0) have a pool of their own, so that no tenant can fill the
 * node's table and lock an admin out.
 */
#include "gdl_core.h"

/* Grant and revoke take their grantees' acl_locks in one wait/die class. */
static DEFINE_WD_CLASS(gdl_acl_ww_class);

void gdl_acl_agent_init(struct gdl_agent *a)
{
	ww_mutex_init(&a->acl_lock, &gdl_acl_ww_class);
}

/* A set never published, or one nobody can reach any more. */
void gdl_acl_set_free(struct gdl_acl_set *set)
{
	kvfree(set);
}

/* Drop a reference (publication's, or a change's pin: gdl_acl_pin()). */
static void gdl_acl_set_put(struct gdl_acl_set *set)
{
	if (set && refcount_dec_and_test(&set->ref))
		gdl_acl_set_free(set);
}

static void gdl_acl_set_free_rcu(struct rcu_head *head)
{
	gdl_acl_set_put(container_of(head, struct gdl_acl_set, rcu));
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

/* Tenants' requests build these: charged to the caller's memory cgroup. */
static struct gdl_acl_set *gdl_acl_set_alloc(u32 nr)
{
	struct gdl_acl_set *set;

	set = kvmalloc(struct_size(set, node, nr), GFP_KERNEL_ACCOUNT);
	if (set) {
		set->nr = nr;
		refcount_set(&set->ref, 1);
	}
	return set;
}

/*
 * For a sorted, duplicate-free set: fill each node's max_end (the largest
 * end in its (dev, owner, rights) run so far) and derive the peer bitmap.
 */
static void gdl_acl_set_index(struct gdl_acl_set *set, u32 *peer_mask)
{
	u64 max_end = 0;
	u32 i;

	memset(peer_mask, 0, sizeof(u32) * GDL_MAX_DEVICES);
	for (i = 0; i < set->nr; i++) {
		struct gdl_acl_node *n = &set->node[i], *p = n - 1;

		if (!i || p->dev != n->dev || p->owner != n->owner ||
		    p->rights != n->rights)
			max_end = 0;
		max_end = max(max_end, n->end);
		n->max_end = max_end;
		if (n->rights & GDL_ACCESS_PEER)
			peer_mask[n->dev] |= 1U << n->peer;
	}
}

/* The index of the node equal to @key in @set, or -1. */
static int gdl_acl_find(const struct gdl_acl_set *set,
			const struct gdl_acl_node *key)
{
	int lo = 0, hi = set ? (int)set->nr - 1 : -1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = gdl_acl_node_cmp(&set->node[mid], key);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static struct gdl_acl_set *gdl_acl_locked(struct gdl_ledger *l,
					  struct gdl_agent *a)
{
	return rcu_dereference_protected(a->acl,
					 lockdep_is_held(&l->admin_lock));
}

/*
 * Publish @set (may be NULL or empty) as @a's ACL and account for it.  The
 * old set goes after a grace period, or later if a change pinned it.
 */
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
	/* Pairs with gdl_acl_pin(): the pointer is stored before the gen. */
	smp_store_release(&a->acl_gen, a->acl_gen + 1);
	for (d = 0; d < GDL_MAX_DEVICES; d++)
		WRITE_ONCE(a->peer_mask[d], peer_mask ? peer_mask[d] : 0);
	if (old)
		call_rcu(&old->rcu, gdl_acl_set_free_rcu);
}

/* @nr entries owned by agent @owner appear (@sign 1) or go (-1). */
static void gdl_acl_charge(struct gdl_ledger *l, u32 owner, int sign, u32 nr)
{
	struct gdl_agent *a;

	lockdep_assert_held(&l->admin_lock);
	if (!owner)
		return;		/* admin entries: nr_acl_entries alone */
	l->nr_acl_granted += sign * nr;
	a = gdl_agent_locked(l, owner);
	if (a)			/* a destroyed owner's count went with it */
		a->nr_granted += sign * nr;
}

static void gdl_acl_charge_set(struct gdl_ledger *l,
			       const struct gdl_acl_set *set, int sign)
{
	u32 i;

	for (i = 0; set && i < set->nr; i++)
		gdl_acl_charge(l, set->node[i].owner, sign, 1);
}

int gdl_acl_validate(struct gdl_ledger *l, const struct gdl_acl_entry *e,
		     u32 caller_agent, bool admin, bool revoke)
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
		/*
		 * Tenants grant their own memory and nothing else; they may
		 * revoke their grants, and drop grants others made to them.
		 */
		if (admin)
			return 0;
		if (caller_agent && e->owner_id == caller_agent)
			return 0;
		if (revoke && caller_agent && e->owner_id &&
		    e->agent_id == caller_agent)
			return 0;
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

/* A batch entry, sorted by grantee then node before any lock is taken. */
struct gdl_acl_item {
	struct gdl_acl_node node;
	u32 agent;
	u32 fresh;	/* grant: not in the old set nor earlier in the batch */
};

static int gdl_acl_item_cmp(const void *a, const void *b)
{
	const struct gdl_acl_item *x = a, *y = b;

	if (x->agent != y->agent)
		return x->agent < y->agent ? -1 : 1;
	return gdl_acl_node_cmp(&x->node, &y->node);
}

static struct gdl_acl_item *gdl_acl_items(const struct gdl_acl_entry *e,
					  u32 n)
{
	struct gdl_acl_item *it;
	u32 i;

	it = kvcalloc(n, sizeof(*it), GFP_KERNEL_ACCOUNT);
	if (!it)
		return NULL;
	for (i = 0; i < n; i++) {
		gdl_acl_node_from_entry(&it[i].node, &e[i]);
		it[i].agent = e[i].agent_id;
	}
	sort(it, n, sizeof(*it), gdl_acl_item_cmp, NULL);
	return it;
}

/* The end of the run of items of the grantee of it[i]. */
static u32 gdl_acl_run_end(const struct gdl_acl_item *it, u32 i, u32 n)
{
	u32 j = i + 1;

	while (j < n && it[j].agent == it[i].agent)
		j++;
	return j;
}

/*
 * Would the fresh items fit the pools and their owners' shares?  Items of
 * one owner are counted onto its nr_granted and taken off again: O(batch),
 * under admin_lock.
 */
static int gdl_acl_fits(struct gdl_ledger *l, struct gdl_acl_item *it, u32 n)
{
	u32 i, admin = 0, granted = 0, admin_nr;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (!it[i].fresh)
			continue;
		if (it[i].node.owner)
			granted++;
		else
			admin++;
		gdl_acl_charge(l, it[i].node.owner, 1, 1);
	}
	/* An owner's share first, as for reservations, then the pools. */
	for (i = 0; i < n && !ret; i++) {
		struct gdl_agent *o;

		if (!it[i].fresh || !it[i].node.owner)
			continue;
		o = gdl_agent_locked(l, it[i].node.owner);
		if (o->nr_granted > READ_ONCE(o->max_acl_entries))
			ret = -EMFILE;
	}
	admin_nr = (u32)atomic_read(&l->nr_acl_entries) - (l->nr_acl_granted -
							   granted);
	if (!ret && (admin_nr + admin > l->params.max_acl_entries ||
		     l->nr_acl_granted > l->params.max_acl_entries))
		ret = -ENOBUFS;
	for (i = 0; i < n; i++)
		if (it[i].fresh)
			gdl_acl_charge(l, it[i].node.owner, -1, 1);
	return ret;
}

/*
 * One grantee's part of a batch.  Its new set is built under the agent's
 * acl_lock alone, from the old set pinned, then published under admin_lock.
 */
struct gdl_acl_run {
	struct gdl_agent *a;		/* a reference; NULL: no such agent */
	struct gdl_acl_set *old;	/* pinned (gdl_acl_pin()) */
	struct gdl_acl_set *set;	/* built, to publish */
	unsigned long gen;		/* a->acl_gen when old was current */
	long nr;			/* the new set's size; < 0: an errno */
	bool locked;			/* holds a->acl_lock */
	u32 first, end;			/* its items */
	u32 peer_mask[GDL_MAX_DEVICES];	/* set's, from gdl_acl_set_index() */
};

struct gdl_acl_batch {
	struct gdl_acl_item *it;	/* sorted by grantee, then node */
	int *at;			/* revoke: each item's old index */
	struct gdl_acl_run *run;	/* one per grantee, in id order */
	u32 n, nr_runs;
	bool revoke;
	struct ww_acquire_ctx ctx;
};

/*
 * Every grantee's acl_lock, in id order.  The locks are one wait/die
 * class: a batch that would wait for an older one drops what it holds,
 * waits for that lock alone and starts over, so no two batches deadlock
 * whatever grantees they share, and lockdep sees one class nested in the
 * acquire context.  (Lockdep counts such nesting in 11 bits: a batch
 * naming over 2047 grantees, possible only with max_agents raised above
 * 2046, would make a lockdep kernel warn and turn lockdep off.)
 */
static void gdl_acl_unlock_runs(struct gdl_acl_batch *b)
{
	u32 i;

	for (i = 0; i < b->nr_runs; i++) {
		if (!b->run[i].locked)
			continue;
		ww_mutex_unlock(&b->run[i].a->acl_lock);
		b->run[i].locked = false;
	}
}

static void gdl_acl_lock_runs(struct gdl_acl_batch *b)
{
	struct gdl_acl_run *r;
	u32 i;

	ww_acquire_init(&b->ctx, &gdl_acl_ww_class);
again:
	for (i = 0; i < b->nr_runs; i++) {
		r = &b->run[i];
		if (!r->a || r->locked)
			continue;
		if (ww_mutex_lock(&r->a->acl_lock, &b->ctx)) {	/* -EDEADLK */
			gdl_acl_unlock_runs(b);
			ww_mutex_lock_slow(&r->a->acl_lock, &b->ctx);
			r->locked = true;
			goto again;
		}
		r->locked = true;
	}
	ww_acquire_done(&b->ctx);
}

/* The runs of the sorted items, each with a reference to its grantee. */
static int gdl_acl_runs(struct gdl_ledger *l, struct gdl_acl_batch *b)
{
	u32 i, k;

	for (i = 0, k = 0; i < b->n; i = gdl_acl_run_end(b->it, i, b->n))
		k++;
	b->run = kvcalloc(k, sizeof(*b->run), GFP_KERNEL_ACCOUNT);
	if (!b->run)
		return -ENOMEM;
	b->nr_runs = k;
	for (i = 0, k = 0; i < b->n; i = b->run[k++].end) {
		b->run[k].first = i;
		b->run[k].end = gdl_acl_run_end(b->it, i, b->n);
		b->run[k].a = gdl_agent_get(l, b->it[i].agent);
	}
	return 0;
}

static void gdl_acl_runs_free(struct gdl_ledger *l, struct gdl_acl_batch *b)
{
	u32 i;

	for (i = 0; b->run && i < b->nr_runs; i++) {
		gdl_acl_set_free(b->run[i].set);
		if (b->run[i].a)
			gdl_agent_put(l, b->run[i].a);
	}
	kvfree(b->run);
	b->run = NULL;
}

/*
 * Pin @a's current set (NULL if none) and note its generation.  The caller
 * holds a->acl_lock, so only an admin's purge can replace it; the commit
 * sees that in acl_gen.  acl_gen is read first: the set read after it is
 * that generation's or a later one's, and a later one moved acl_gen.
 */
static struct gdl_acl_set *gdl_acl_pin(struct gdl_agent *a,
				       unsigned long *gen)
{
	struct gdl_acl_set *set;

	rcu_read_lock();
	/* Pairs with gdl_acl_publish(): a->acl below is this gen's or later. */
	*gen = smp_load_acquire(&a->acl_gen);
	set = rcu_dereference(a->acl);
	if (set)	/* not freed before this read section ends */
		refcount_inc(&set->ref);
	rcu_read_unlock();
	return set;
}

/* Look the run's items up in its old set: the new set's size, or errno. */
static long gdl_acl_lookup(struct gdl_acl_batch *b, struct gdl_acl_run *r)
{
	struct gdl_acl_item *it = b->it;
	long nr = r->old ? r->old->nr : 0;
	u32 j;

	for (j = r->first; j < r->end; j++) {
		if (b->revoke) {
			b->at[j] = gdl_acl_find(r->old, &it[j].node);
			if (b->at[j] < 0)
				return -ENOENT;
			nr -= j == r->first || b->at[j] != b->at[j - 1];
			continue;
		}
		it[j].fresh = (j == r->first ||
			       gdl_acl_item_cmp(&it[j - 1], &it[j])) &&
			      gdl_acl_find(r->old, &it[j].node) < 0;
		nr += it[j].fresh;
	}
	return nr;
}

/* The old set and the fresh items of one grantee, merged in order. */
static void gdl_acl_merge(struct gdl_acl_set *set, const struct gdl_acl_set *old,
			  const struct gdl_acl_item *it, u32 n)
{
	u32 old_nr = old ? old->nr : 0, i = 0, j = 0, out = 0;

	while (i < old_nr || j < n) {
		if (j < n && !it[j].fresh) {
			j++;
		} else if (j == n || (i < old_nr &&
			   gdl_acl_node_cmp(&old->node[i], &it[j].node) < 0)) {
			set->node[out++] = old->node[i++];
		} else {
			set->node[out++] = it[j++].node;
		}
	}
}

/* The old set less the nodes at @at (ascending, maybe repeated). */
static void gdl_acl_cut(struct gdl_acl_set *set, const struct gdl_acl_set *old,
			const int *at, u32 n)
{
	u32 j, k = 0, out = 0;

	for (j = 0; j < n; j++) {
		u32 upto = at[j];

		if (upto < k)
			continue;	/* a duplicate in the batch */
		memcpy(&set->node[out], &old->node[k],
		       (upto - k) * sizeof(old->node[0]));
		out += upto - k;
		k = upto + 1;
	}
	memcpy(&set->node[out], &old->node[k],
	       (old->nr - k) * sizeof(old->node[0]));
}

/* The run's new set, from its pinned old one: the O(n) part, off admin_lock. */
static int gdl_acl_build(struct gdl_acl_batch *b, struct gdl_acl_run *r)
{
	if (r->nr == (r->old ? r->old->nr : 0))
		return 0;	/* a grant of nothing new: no copy */
	r->set = gdl_acl_set_alloc(r->nr);
	if (!r->set)
		return -ENOMEM;
	if (b->revoke)
		gdl_acl_cut(r->set, r->old, &b->at[r->first], r->end - r->first);
	else
		gdl_acl_merge(r->set, r->old, &b->it[r->first],
			      r->end - r->first);
	gdl_acl_set_index(r->set, r->peer_mask);
	return 0;
}

/* Has an admin's purge replaced a pinned set since?  Under admin_lock. */
static bool gdl_acl_stale(struct gdl_ledger *l, struct gdl_acl_batch *b)
{
	u32 i;

	lockdep_assert_held(&l->admin_lock);
	for (i = 0; i < b->nr_runs; i++)
		if (READ_ONCE(b->run[i].a->acl_gen) != b->run[i].gen)
			return true;
	return false;
}

/* The batch's changes, all checked: charge and publish.  Under admin_lock. */
static void gdl_acl_commit(struct gdl_ledger *l, struct gdl_acl_batch *b)
{
	struct gdl_acl_item *it = b->it;
	u32 i;

	for (i = 0; i < b->n; i++) {
		if (b->revoke ? (!i || b->at[i] != b->at[i - 1] ||
				 it[i].agent != it[i - 1].agent) : it[i].fresh)
			gdl_acl_charge(l, it[i].node.owner, b->revoke ? -1 : 1,
				       1);
	}
	for (i = 0; i < b->nr_runs; i++) {
		if (!b->run[i].set)
			continue;
		gdl_acl_publish(l, b->run[i].a, b->run[i].set,
				b->run[i].peer_mask);
		b->run[i].set = NULL;
	}
}

/*
 * One try at a grant or revoke; -EAGAIN: a race with an agent's creation
 * or an admin's purge, try again.  admin_lock is held only for the target
 * checks, the pools and the publishing: O(batch), no copy.
 */
static int gdl_acl_try(struct gdl_ledger *l, const struct gdl_acl_entry *e,
		       struct gdl_acl_batch *b)
{
	bool missing = false, looked;
	int built = 0, ret;
	u32 i;

	ret = gdl_acl_runs(l, b);
	if (ret)
		return ret;
	gdl_acl_lock_runs(b);
	/* First every lookup, so that the pools see the whole batch. */
	for (i = 0; i < b->nr_runs && !built; i++) {
		struct gdl_acl_run *r = &b->run[i];

		if (!r->a) {
			missing = true;
			built = -ENOENT;
			break;
		}
		r->old = gdl_acl_pin(r->a, &r->gen);
		r->nr = gdl_acl_lookup(b, r);
		if (r->nr < 0)
			built = r->nr;
	}
	looked = !built;
	for (i = 0; i < b->nr_runs && !built; i++)
		built = gdl_acl_build(b, &b->run[i]);

	mutex_lock(&l->admin_lock);
	ret = gdl_acl_check_targets(l, e, b->n);
	if (!ret && (missing || (looked && gdl_acl_stale(l, b))))
		ret = -EAGAIN;
	if (!ret && !b->revoke)
		ret = gdl_acl_fits(l, b->it, b->n);
	if (!ret)
		ret = built;
	if (!ret)
		gdl_acl_commit(l, b);
	mutex_unlock(&l->admin_lock);

	for (i = 0; i < b->nr_runs; i++)
		gdl_acl_set_put(b->run[i].old);
	gdl_acl_unlock_runs(b);
	ww_acquire_fini(&b->ctx);
	gdl_acl_runs_free(l, b);
	return ret;
}

/*
 * A validated batch, all or nothing.  Grant: entries equal to existing ones
 * are merged, so applying the same policy twice changes nothing (and
 * copies nothing).  Revoke: -ENOENT (and nothing removed) if any entry is
 * absent; each is found by binary search, and the old set is copied once
 * around the found ones (which come in order: the batch is sorted).
 */
static int gdl_acl_change(struct gdl_ledger *l, const struct gdl_acl_entry *e,
			  u32 n, bool revoke)
{
	struct gdl_acl_batch b = { .n = n, .revoke = revoke };
	int ret = -ENOMEM;

	b.it = gdl_acl_items(e, n);
	if (!b.it)
		goto out;
	if (revoke) {
		b.at = kvcalloc(n, sizeof(*b.at), GFP_KERNEL_ACCOUNT);
		if (!b.at)
			goto out;
	}
	do {
		ret = gdl_acl_try(l, e, &b);
	} while (ret == -EAGAIN);
out:
	kvfree(b.at);
	kvfree(b.it);
	return ret;
}

int gdl_acl_grant(struct gdl_ledger *l, const struct gdl_acl_entry *e, u32 n)
{
	return gdl_acl_change(l, e, n, false);
}

int gdl_acl_revoke(struct gdl_ledger *l, const struct gdl_acl_entry *e, u32 n)
{
	return gdl_acl_change(l, e, n, true);
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
			gdl_acl_charge_set(l, gdl_acl_locked(l, a), -1);
			gdl_acl_charge_set(l, sets[slot], 1);
			gdl_acl_set_index(sets[slot], peer_mask);
			gdl_acl_publish(l, a, sets[slot], peer_mask);
			sets[slot] = NULL;
		}
	}
	gdl_acl_purge_abort(l, sets);	/* frees what is left */
}

/* A destroyed agent's own entries go with it. */
void gdl_acl_drop_agent(struct gdl_ledger *l, struct gdl_agent *dead)
{
	gdl_acl_charge_set(l, gdl_acl_locked(l, dead), -1);
	gdl_acl_publish(l, dead, NULL, NULL);
}

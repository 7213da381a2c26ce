// SPDX-License-Identifier: GPL-2.0
/*
 * The ledger: the agent table, quotas, reservations (the device table
 * and its hot-plug states: gdl_device.c).
 * Compiled into the module and into the userspace unit tests.
 */
#include "gdl_core.h"

struct gdl_agent *gdl_agent_locked(struct gdl_ledger *l, u32 id)
{
	struct gdl_agent *a;

	a = rcu_dereference_protected(l->agents[gdl_agent_slot(l, id)],
				      lockdep_is_held(&l->admin_lock));
	return a && a->id == id ? a : NULL;
}

static void gdl_usage_reset(struct gdl_usage *u, u64 quota)
{
	atomic64_set(&u->usage, 0);
	atomic64_set(&u->peak, 0);
	atomic64_set(&u->nr_reservations, 0);
	atomic64_set(&u->denied, 0);
	WRITE_ONCE(u->quota, quota);
}

/* ---- agents ---- */

static void gdl_agent_free_rcu(struct rcu_head *head)
{
	struct gdl_agent *a = container_of(head, struct gdl_agent, rcu);

	gdl_acl_set_free(rcu_dereference_protected(a->acl, 1));
	ww_mutex_destroy(&a->acl_lock);
	kvfree(a);
}

void gdl_agent_put(struct gdl_ledger *l, struct gdl_agent *a)
{
	if (!refcount_dec_and_test(&a->ref))
		return;
	/* Only destroyed agents lose their last reference. */
	spin_lock(&l->dead_lock);
	list_del(&a->dead_node);
	spin_unlock(&l->dead_lock);
	call_rcu(&a->rcu, gdl_agent_free_rcu);
}

/* A reference to a live agent, or NULL.  Safe from any context. */
struct gdl_agent *gdl_agent_get(struct gdl_ledger *l, u32 id)
{
	struct gdl_agent *a;

	rcu_read_lock();
	a = gdl_agent_rcu(l, id);
	if (a && !refcount_inc_not_zero(&a->ref))
		a = NULL;
	rcu_read_unlock();
	return a;
}

static struct gdl_agent *gdl_agent_by_name(struct gdl_ledger *l,
					   const char *name)
{
	u32 slot;

	for (slot = 1; slot < l->nr_slots; slot++) {
		struct gdl_agent *a = rcu_dereference_protected(l->agents[slot],
				lockdep_is_held(&l->admin_lock));

		if (a && !strncmp(a->name, name, GDL_NAME_LEN))
			return a;
	}
	return NULL;
}

/*
 * Whether a destroyed agent still holding reservations has @id: they carry
 * it (range owner, ACL grants), so a new agent with the same id would own
 * that memory.
 */
static bool gdl_agent_id_held(struct gdl_ledger *l, u32 id)
{
	struct gdl_agent *a;
	bool held = false;

	spin_lock(&l->dead_lock);
	list_for_each_entry(a, &l->dead_agents, dead_node) {
		if (a->id == id) {
			held = true;
			break;
		}
	}
	spin_unlock(&l->dead_lock);
	return held;
}

/* An agent's share of a pool: @want, or the module's default for 0. */
static u32 gdl_limit(u32 want, u32 dflt)
{
	return want ? want : dflt;
}

/*
 * The module's default shares of agent @flags.  The default agent is
 * every unbound process together, as in ABI 1.1 when there were no
 * shares: a sixteenth of the pool would refuse a 1.1 program with EMFILE
 * for what its neighbours hold, so its default is the whole pool.  An
 * admin may still give it a share of its own (AGENT_LIMITS).
 */
static u32 gdl_default_res(struct gdl_ledger *l, u32 flags)
{
	return flags & GDL_AGENT_F_DEFAULT ? l->params.max_reservations :
					     l->params.agent_max_reservations;
}

static u32 gdl_default_acl(struct gdl_ledger *l, u32 flags)
{
	return flags & GDL_AGENT_F_DEFAULT ? l->params.max_acl_entries :
					     l->params.agent_max_acl_entries;
}

static int gdl_agent_insert(struct gdl_ledger *l, const char *name, u64 quota,
			    u32 flags, u32 max_res, u32 max_acl, u32 *id)
{
	struct gdl_agent *a;
	u32 slot, d, tries = 0;

	lockdep_assert_held(&l->admin_lock);
	if (gdl_agent_by_name(l, name))
		return -EEXIST;
	for (slot = 1; slot < l->nr_slots; slot++)
		if (!rcu_access_pointer(l->agents[slot]))
			break;
	if (slot == l->nr_slots)
		return -EUSERS;

	a = kvzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	do {
		if (++tries > U16_MAX) {	/* every generation held */
			kvfree(a);
			return -EUSERS;
		}
		if (++l->next_gen == 0)	/* generation 0 is never handed out */
			l->next_gen = 1;
		a->id = (u32)l->next_gen << GDL_AGENT_SLOT_BITS | slot;
	} while (gdl_agent_id_held(l, a->id));
	a->flags = flags;
	refcount_set(&a->ref, 1);	/* the table's reference */
	gdl_acl_agent_init(a);
	atomic_set(&a->nr_bindings, 0);
	strscpy(a->name, name, sizeof(a->name));
	a->default_quota = quota;
	a->max_reservations = gdl_limit(max_res, gdl_default_res(l, flags));
	a->max_acl_entries = gdl_limit(max_acl, gdl_default_acl(l, flags));
	atomic_set(&a->nr_reservations, 0);
	INIT_LIST_HEAD(&a->dead_node);
	for (d = 0; d < GDL_MAX_DEVICES; d++)
		gdl_usage_reset(&a->usage[d], quota);
	rcu_assign_pointer(l->agents[slot], a);
	*id = a->id;
	return 0;
}

/* A limit an admin asks for: 0 (the default) up to the node's pool. */
static bool gdl_limits_valid(struct gdl_ledger *l, u32 max_res, u32 max_acl)
{
	return max_res <= l->params.max_reservations &&
	       max_acl <= l->params.max_acl_entries;
}

/* From AGENT_CREATE's struct: name, default_quota and the two limits. */
int gdl_agent_create_limited(struct gdl_ledger *l,
			     const struct gdl_agent_info *in, u32 *id)
{
	int ret;

	if (!gdl_name_valid(in->name, GDL_NAME_LEN, false) ||
	    !gdl_limits_valid(l, in->max_reservations, in->max_acl_entries))
		return -EINVAL;
	mutex_lock(&l->admin_lock);
	if (l->nr_agents >= l->params.max_agents) {
		ret = -EUSERS;
		goto out;
	}
	ret = gdl_agent_insert(l, in->name, in->default_quota, 0,
			       in->max_reservations, in->max_acl_entries, id);
	if (!ret)
		l->nr_agents++;
out:
	mutex_unlock(&l->admin_lock);
	return ret;
}

int gdl_agent_create(struct gdl_ledger *l, const char *name, u64 quota,
		     u32 *id)
{
	struct gdl_agent_info in;

	memset(&in, 0, sizeof(in));
	if (!gdl_name_valid(name, GDL_NAME_LEN, false))
		return -EINVAL;
	memcpy(in.name, name, sizeof(in.name));
	in.default_quota = quota;
	return gdl_agent_create_limited(l, &in, id);
}

/*
 * Lowering a limit below what the agent holds takes nothing away: new
 * reservations or grants fail until it is back under.
 */
int gdl_agent_set_limits(struct gdl_ledger *l, u32 id, u32 max_reservations,
			 u32 max_acl_entries)
{
	struct gdl_agent *a;
	int ret = 0;

	if (!gdl_limits_valid(l, max_reservations, max_acl_entries))
		return -EINVAL;
	mutex_lock(&l->admin_lock);
	a = gdl_agent_locked(l, id);
	if (!a) {
		ret = -ENOENT;
		goto out;
	}
	WRITE_ONCE(a->max_reservations,
		   gdl_limit(max_reservations, gdl_default_res(l, a->flags)));
	WRITE_ONCE(a->max_acl_entries,
		   gdl_limit(max_acl_entries, gdl_default_acl(l, a->flags)));
out:
	mutex_unlock(&l->admin_lock);
	return ret;
}

/*
 * Destroying an agent always succeeds: it leaves the table (no new lookups,
 * bindings, reservations) and its ACL entries go; reservations already made
 * stay charged to it until their files release them.
 */
int gdl_agent_destroy(struct gdl_ledger *l, u32 id)
{
	struct gdl_acl_set **purge;
	struct gdl_agent *a;
	int ret = 0;

	mutex_lock(&l->admin_lock);
	a = gdl_agent_locked(l, id);
	if (!a) {
		ret = -ENOENT;
		goto out;
	}
	if (a->flags & GDL_AGENT_F_DEFAULT) {
		ret = -EBUSY;
		goto out;
	}
	/* The grants it made to others go too; refuse before any change. */
	ret = gdl_acl_purge_agent_prepare(l, id, &purge);
	if (ret)
		goto out;
	WRITE_ONCE(a->dead, true);
	/* Pairs with the barrier in gdl_reserve(): see the dead re-check. */
	smp_mb();
	gdl_acl_drop_agent(l, a);
	RCU_INIT_POINTER(l->agents[gdl_agent_slot(l, id)], NULL);
	l->nr_agents--;
	gdl_acl_purge_commit(l, purge);
	spin_lock(&l->dead_lock);
	list_add(&a->dead_node, &l->dead_agents);
	spin_unlock(&l->dead_lock);
	gdl_event_emit(l, GDL_EVENT_AGENT_DESTROYED, 0, id, 0, 0, 0, 0);
	gdl_agent_put(l, a);
out:
	mutex_unlock(&l->admin_lock);
	return ret;
}

void gdl_agent_fill_info(const struct gdl_agent *a, struct gdl_agent_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = a->id;
	out->flags = a->flags;
	memcpy(out->name, a->name, sizeof(out->name));
	out->default_quota = a->default_quota;
	out->nr_bindings = atomic_read(&a->nr_bindings);
	out->max_reservations = READ_ONCE(a->max_reservations);
	out->max_acl_entries = READ_ONCE(a->max_acl_entries);
}

/*
 * Live agents by slot, then, with @dead, the destroyed ones that are still
 * referenced (charged for reservations that files hold), marked
 * GDL_AGENT_F_DESTROYED, so that what holds memory stays visible.
 */
int gdl_agent_list(struct gdl_ledger *l, struct gdl_agent_info *buf, u32 cap,
		   u32 *total, bool dead)
{
	struct gdl_agent *a;
	u32 slot, n = 0;

	rcu_read_lock();
	for (slot = 1; slot < l->nr_slots; slot++) {
		a = rcu_dereference(l->agents[slot]);
		if (!a)
			continue;
		if (n < cap)
			gdl_agent_fill_info(a, &buf[n]);
		n++;
	}
	rcu_read_unlock();
	if (dead) {
		spin_lock(&l->dead_lock);
		list_for_each_entry(a, &l->dead_agents, dead_node) {
			if (n < cap) {
				gdl_agent_fill_info(a, &buf[n]);
				buf[n].flags |= GDL_AGENT_F_DESTROYED;
			}
			n++;
		}
		spin_unlock(&l->dead_lock);
	}
	*total = n;
	return 0;
}

/* How many destroyed agents are still referenced, for sizing a list. */
u32 gdl_agent_dead_count(struct gdl_ledger *l)
{
	struct gdl_agent *a;
	u32 n = 0;

	spin_lock(&l->dead_lock);
	list_for_each_entry(a, &l->dead_agents, dead_node)
		n++;
	spin_unlock(&l->dead_lock);
	return n;
}

/*
 * A reference to the destroyed agent @id that something still holds, or
 * NULL: for reading what it is charged.  Its last put takes dead_lock to
 * leave the list, so one found here is not yet freed; one whose count
 * already reached zero is on its way out and is not taken.
 */
struct gdl_agent *gdl_agent_get_dead(struct gdl_ledger *l, u32 id)
{
	struct gdl_agent *a, *found = NULL;

	spin_lock(&l->dead_lock);
	list_for_each_entry(a, &l->dead_agents, dead_node) {
		if (a->id == id) {
			if (refcount_inc_not_zero(&a->ref))
				found = a;
			break;
		}
	}
	spin_unlock(&l->dead_lock);
	return found;
}

/* ---- quotas ---- */

int gdl_quota_set(struct gdl_ledger *l, u32 agent_id, u32 dev, u64 quota)
{
	struct gdl_agent *a;
	int ret = 0;
	u32 i;

	mutex_lock(&l->admin_lock);
	a = gdl_agent_locked(l, agent_id);
	if (!a) {
		ret = -ENOENT;
		goto out;
	}
	if (dev == GDL_ALL_DEVICES) {
		a->default_quota = quota;
		for (i = 0; i < GDL_MAX_DEVICES; i++)
			WRITE_ONCE(a->usage[i].quota, quota);
		goto out;
	}
	if (!gdl_device_locked(l, dev)) {
		ret = -ENODEV;
		goto out;
	}
	/* Lowering below usage revokes nothing: new charges fail until
	 * usage falls under it; QUOTA_GET reports GDL_QUOTA_F_OVER.
	 */
	WRITE_ONCE(a->usage[dev].quota, quota);
out:
	mutex_unlock(&l->admin_lock);
	return ret;
}

int gdl_quota_get(struct gdl_ledger *l, struct gdl_agent *a, u32 dev,
		  struct gdl_quota *out)
{
	struct gdl_usage *u;
	bool present;

	if (dev >= GDL_MAX_DEVICES)
		return -ENODEV;
	rcu_read_lock();
	present = rcu_access_pointer(l->devices[dev]);
	rcu_read_unlock();
	if (!present)
		return -ENODEV;

	u = &a->usage[dev];
	memset(out, 0, sizeof(*out));
	out->agent_id = a->id;
	out->dev_index = dev;
	out->quota = READ_ONCE(u->quota);
	out->usage = atomic64_read(&u->usage);
	out->peak = atomic64_read(&u->peak);
	out->nr_reservations = atomic64_read(&u->nr_reservations);
	out->denied = atomic64_read(&u->denied);
	if (out->usage > out->quota)
		out->flags |= GDL_QUOTA_F_OVER;
	if (READ_ONCE(a->dead))
		out->flags |= GDL_QUOTA_F_DESTROYED;
	return 0;
}

/* ---- reservations: the fast path ---- */

static void gdl_peak_raise(atomic64_t *peak, s64 val)
{
	s64 old = atomic64_read(peak);

	while (val > old && !atomic64_try_cmpxchg(peak, &old, val))
		;
}

/*
 * Atomically add @size to @counter unless that would pass @limit.
 * Returns 0 (and the new value in *@new), -EOVERFLOW when the sum cannot
 * be represented under an unlimited @limit (or in audit mode), or @deny.
 * With @force (audit mode) the limit is reported in *@over but not
 * applied.
 */
static int gdl_charge(atomic64_t *counter, u64 size, u64 limit, int deny,
		      bool force, bool *over, u64 *new)
{
	s64 old = atomic64_read(counter);

	do {
		/* Past any finite limit: that limit's errno, not EOVERFLOW. */
		if (check_add_overflow((u64)old, size, new) || *new > S64_MAX)
			return limit == U64_MAX || force ? -EOVERFLOW : deny;
		*over = *new > limit;
		if (*over && !force)
			return deny;
	} while (!atomic64_try_cmpxchg(counter, &old, (s64)*new));
	return 0;
}

/*
 * Reservations with an address, in an rbtree per device.  Writers hold
 * dev->lock and bump dev->seq; readers (the DMA check) take no lock: under
 * RCU they walk the tree (rbtree writers use WRITE_ONCE, so a walk never
 * loops) and retry if a writer ran meanwhile.  Nodes are freed after a
 * grace period.
 */
static struct gdl_reservation *gdl_range_find(struct gdl_device *dev,
					      u64 addr, u64 end)
{
	struct rb_node *n = rcu_dereference_raw(dev->ranges.rb_node);

	while (n) {
		struct gdl_reservation *r =
			rb_entry(n, struct gdl_reservation, range_node);

		if (end <= r->addr)
			n = rcu_dereference_raw(n->rb_left);
		else if (addr >= r->addr + r->size)
			n = rcu_dereference_raw(n->rb_right);
		else
			return r;	/* overlaps */
	}
	return NULL;
}

static int gdl_range_insert(struct gdl_device *dev, struct gdl_reservation *r)
{
	struct rb_node **link = &dev->ranges.rb_node, *parent = NULL;

	while (*link) {
		struct gdl_reservation *o =
			rb_entry(*link, struct gdl_reservation, range_node);

		parent = *link;
		if (r->addr + r->size <= o->addr)
			link = &(*link)->rb_left;
		else if (r->addr >= o->addr + o->size)
			link = &(*link)->rb_right;
		else
			return -EADDRINUSE;
	}
	write_seqcount_begin(&dev->seq);
	rb_link_node(&r->range_node, parent, link);
	rb_insert_color(&r->range_node, &dev->ranges);
	write_seqcount_end(&dev->seq);
	return 0;
}

/*
 * The owner of [addr, addr + len) on @dev if one reservation covers it,
 * else 0.  Under rcu_read_lock(); takes no lock.
 */
u32 gdl_range_owner(struct gdl_device *dev, u64 addr, u64 len)
{
	struct gdl_reservation *r;
	unsigned int seq;
	u32 owner;

	do {
		seq = read_seqcount_begin(&dev->seq);
		r = gdl_range_find(dev, addr, addr + len);
		owner = r && addr >= r->addr &&
			addr + len <= r->addr + r->size ? r->agent_id : 0;
	} while (read_seqcount_retry(&dev->seq, seq));
	return owner;
}

/*
 * The reverse of the charge order (agent, then device): the device total
 * never runs ahead of its agents' sum, so a racing reservation cannot see a
 * spurious -ENOSPC for memory its agent's quota already covers.
 */
static void gdl_uncharge(struct gdl_device *dev, struct gdl_usage *u, u64 size)
{
	atomic64_sub(size, &dev->used);
	atomic64_dec(&dev->nr_reservations);
	atomic64_sub(size, &u->usage);
	atomic64_dec(&u->nr_reservations);
}

/*
 * A file's handles by handle: an rbtree, O(log n) however many a process
 * holds (an allocator caching thousands of blocks is normal).
 */
static bool gdl_handle_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct gdl_hold, owner_node)->handle <
	       rb_entry(b, struct gdl_hold, owner_node)->handle;
}

static int gdl_handle_cmp(const void *key, const struct rb_node *n)
{
	u64 h = *(const u64 *)key;
	u64 mine = rb_entry(n, struct gdl_hold, owner_node)->handle;

	return h < mine ? -1 : h > mine;
}

/* Give @h the file's next handle and file it there. */
void gdl_hold_insert(struct gdl_owner *o, struct gdl_hold *h)
{
	spin_lock(&o->lock);
	h->handle = ++o->next_handle;
	rb_add(&h->owner_node, &o->handles, gdl_handle_less);
	spin_unlock(&o->lock);
}

/*
 * The reservation @handle of @o names, with a holder's reference the
 * caller drops with gdl_reservation_put(), or NULL.
 */
struct gdl_reservation *gdl_hold_get(struct gdl_owner *o, u64 handle)
{
	struct gdl_reservation *r = NULL;
	struct rb_node *n;

	spin_lock(&o->lock);
	n = rb_find(&handle, &o->handles, gdl_handle_cmp);
	if (n) {
		r = rb_entry(n, struct gdl_hold, owner_node)->res;
		refcount_inc(&r->holders);
	}
	spin_unlock(&o->lock);
	return r;
}

/* @o's first handle at or after @next (handles only grow), under o->lock. */
struct rb_node *gdl_hold_first_from(struct gdl_owner *o, u64 next)
{
	struct rb_node *n = o->handles.rb_node, *found = NULL;

	lockdep_assert_held(&o->lock);
	while (n) {
		struct gdl_hold *x = rb_entry(n, struct gdl_hold, owner_node);

		if (x->handle >= next) {
			found = n;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return found;
}

/*
 * Up to @cap of @o's handles from *@next on, in handle order, into @buf,
 * and *@next past them: what holds memory, for an admin to see whose
 * file it is.  o->lock is held for one batch only.  Returns how many.
 */
u32 gdl_owner_holds(struct gdl_owner *o, u64 *next,
		    struct gdl_hold_info *buf, u32 cap)
{
	struct rb_node *n;
	u32 i = 0;

	spin_lock(&o->lock);
	for (n = gdl_hold_first_from(o, *next); n && i < cap;
	     n = rb_next(n), i++) {
		struct gdl_hold *h = rb_entry(n, struct gdl_hold, owner_node);
		struct gdl_reservation *r = h->res;

		buf[i].handle = h->handle;
		buf[i].size = r->size;
		buf[i].agent_id = r->agent_id;
		buf[i].dev_index = r->dev_index;
		buf[i].attached = h != &r->self;
		buf[i].agent_dead = READ_ONCE(r->agent->dead);
		*next = h->handle + 1;
	}
	spin_unlock(&o->lock);
	return i;
}

/*
 * Charge @req to agent @a.  The caller passes its reference to @a along:
 * the reservation keeps it on success, and it is dropped on failure, so
 * the fast path touches the agent's count once.
 */
int gdl_reserve(struct gdl_ledger *l, struct gdl_owner *o,
		struct gdl_agent *a, struct gdl_reserve *req)
{
	bool force = !gdl_enforcing(l), over_quota = false, over_cap = false;
	struct gdl_reservation *r;
	struct gdl_device *dev;
	struct gdl_usage *u;
	u64 end, quota, capacity, agent_total, dev_total;
	int ret;

	if (!req->size || req->flags & ~GDL_RESERVE_F_ADDR ||
	    (!(req->flags & GDL_RESERVE_F_ADDR) && req->addr)) {
		ret = -EINVAL;
		goto out_put;
	}
	if (check_add_overflow(req->addr, req->size, &end)) {
		ret = -EOVERFLOW;
		goto out_put;
	}
	if (req->dev_index >= GDL_MAX_DEVICES) {
		ret = -ENODEV;
		goto out_put;
	}
	/* The agent's share first: its flood must not reach the pool. */
	if ((u32)atomic_inc_return(&a->nr_reservations) >
	    READ_ONCE(a->max_reservations)) {
		ret = -EMFILE;
		goto out_agent_count;
	}
	if ((u32)atomic_inc_return(&l->nr_reservations) >
	    l->params.max_reservations) {
		ret = -ENOBUFS;
		goto out_count;
	}
	/* Charged to the caller's memory cgroup, as its own allocations. */
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r) {
		ret = -ENOMEM;
		goto out_count;
	}

	rcu_read_lock();
	dev = gdl_device_live_rcu(l, req->dev_index);
	if (!dev) {
		ret = -ENODEV;
		goto out_unlock;
	}
	u = &a->usage[req->dev_index];
	quota = READ_ONCE(u->quota);
	ret = gdl_charge(&u->usage, req->size, quota, -EDQUOT, force,
			 &over_quota, &agent_total);
	if (ret) {
		atomic64_inc(&u->denied);
		if (ret == -EDQUOT) {
			gdl_stat_inc(l->stats, GDL_STAT_RESERVE_DENIED_QUOTA);
			gdl_event_emit(l, GDL_EVENT_QUOTA_EXCEEDED, 0, a->id,
				       req->dev_index, 0, req->size, quota);
		}
		goto out_unlock;
	}
	capacity = READ_ONCE(dev->capacity);
	ret = gdl_charge(&dev->used, req->size, capacity, -ENOSPC, force,
			 &over_cap, &dev_total);
	if (ret) {
		atomic64_sub(req->size, &u->usage);
		atomic64_inc(&u->denied);
		if (ret == -ENOSPC) {
			gdl_stat_inc(l->stats,
				     GDL_STAT_RESERVE_DENIED_CAPACITY);
			gdl_event_emit(l, GDL_EVENT_CAPACITY_EXCEEDED, 0,
				       a->id, req->dev_index, 0, req->size,
				       capacity);
		}
		goto out_unlock;
	}
	/* Peaks only for charges that both passed. */
	gdl_peak_raise(&u->peak, agent_total);
	gdl_peak_raise(&dev->peak, dev_total);
	atomic64_inc(&u->nr_reservations);
	atomic64_inc(&dev->nr_reservations);
	/*
	 * Counted first, then checked: a concurrent destroy or remove either
	 * sees our count (and refuses) or we see its flag (and back out).
	 * The count is an atomic RMW, so this is free on x86.
	 */
	smp_mb__after_atomic();
	if (READ_ONCE(dev->dead) || READ_ONCE(a->dead)) {
		ret = READ_ONCE(a->dead) ? -ESRCH : -ENODEV;
		goto out_uncharge;
	}

	r->self.res = r;
	refcount_set(&r->holders, 1);
	r->size = req->size;
	r->addr = req->addr;
	r->has_addr = req->flags & GDL_RESERVE_F_ADDR;
	r->dev_index = req->dev_index;
	r->agent = a;		/* the caller's reference, from here on */
	r->agent_id = a->id;
	if (r->has_addr) {
		spin_lock(&dev->lock);
		ret = gdl_range_insert(dev, r);
		spin_unlock(&dev->lock);
		if (ret)
			goto out_uncharge;
	}
	rcu_read_unlock();

	gdl_hold_insert(o, &r->self);

	req->handle = r->self.handle;
	req->agent_id = a->id;
	req->result = (over_quota || over_cap) ? GDL_RESULT_AUDIT :
						 GDL_RESULT_OK;
	gdl_stat_inc(l->stats, GDL_STAT_RESERVE_OK);
	if (over_quota || over_cap) {
		gdl_stat_inc(l->stats, GDL_STAT_AUDIT_OVERRIDES);
		gdl_event_emit(l, over_quota ? GDL_EVENT_QUOTA_EXCEEDED :
			       GDL_EVENT_CAPACITY_EXCEEDED, GDL_EVENT_F_AUDIT,
			       a->id, req->dev_index, 0, req->size,
			       over_quota ? quota : capacity);
	}
	return 0;

out_uncharge:
	gdl_uncharge(dev, u, req->size);
out_unlock:
	rcu_read_unlock();
	kfree(r);
out_count:
	atomic_dec(&l->nr_reservations);
out_agent_count:
	atomic_dec(&a->nr_reservations);
out_put:
	gdl_agent_put(l, a);
	return ret;
}

static void gdl_reservation_free(struct gdl_ledger *l,
				 struct gdl_reservation *r)
{
	struct gdl_device *dev;

	if (r->shared)
		gdl_share_unlink(l, r);
	/* A device with reservations cannot be removed: no RCU needed. */
	dev = rcu_dereference_protected(l->devices[r->dev_index], 1);
	if (r->has_addr) {
		spin_lock(&dev->lock);
		write_seqcount_begin(&dev->seq);
		rb_erase(&r->range_node, &dev->ranges);
		write_seqcount_end(&dev->seq);
		spin_unlock(&dev->lock);
	}
	gdl_uncharge(dev, &r->agent->usage[r->dev_index], r->size);
	atomic_dec(&r->agent->nr_reservations);
	gdl_agent_put(l, r->agent);
	atomic_dec(&l->nr_reservations);
	gdl_stat_inc(l->stats, GDL_STAT_RELEASES);
	/* Lockless range readers, or ATTACH (a key), may be looking at it. */
	if (r->has_addr || r->shared)
		kfree_rcu(r, rcu);
	else
		kfree(r);
}

/* A holder is done: the charge goes with the last one, whoever it is. */
void gdl_reservation_put(struct gdl_ledger *l, struct gdl_reservation *r)
{
	if (refcount_dec_and_test(&r->holders))
		gdl_reservation_free(l, r);
}

int gdl_release(struct gdl_ledger *l, struct gdl_owner *o, u64 handle)
{
	struct rb_node *n;

	spin_lock(&o->lock);
	n = rb_find(&handle, &o->handles, gdl_handle_cmp);
	if (!n) {
		spin_unlock(&o->lock);
		return -ENOENT;
	}
	rb_erase(n, &o->handles);
	spin_unlock(&o->lock);
	gdl_hold_drop(l, rb_entry(n, struct gdl_hold, owner_node));
	return 0;
}

void gdl_owner_init(struct gdl_ledger *l, struct gdl_owner *o)
{
	spin_lock_init(&o->lock);
	o->next_handle = 0;
	o->handles = RB_ROOT;
	o->cursor = false;
	mutex_lock(&l->owners_lock);
	list_add(&o->ledger_node, &l->owners);
	mutex_unlock(&l->owners_lock);
	atomic_inc(&l->nr_owners);
}

/* The file is gone: nobody else can reach @o, release everything. */
void gdl_owner_fini(struct gdl_ledger *l, struct gdl_owner *o)
{
	struct rb_node *n;

	mutex_lock(&l->owners_lock);
	list_del(&o->ledger_node);
	mutex_unlock(&l->owners_lock);
	while ((n = rb_first(&o->handles))) {
		rb_erase(n, &o->handles);
		gdl_hold_drop(l, rb_entry(n, struct gdl_hold, owner_node));
	}
	atomic_dec(&l->nr_owners);
}

/*
 * Call @fn for every open file, under owners_lock, which is let go between
 * files: a cursor entry in the list keeps the walk's place meanwhile, so
 * that open() and close() wait for one file at most.  Files opened during
 * the walk may be missed, files closed are skipped; other walks' cursors
 * are passed over.
 */
void gdl_owners_walk(struct gdl_ledger *l,
		     void (*fn)(struct gdl_owner *o, void *arg), void *arg)
{
	struct gdl_owner cursor = { .cursor = true };
	struct list_head *pos;
	struct gdl_owner *o;

	mutex_lock(&l->owners_lock);
	list_add(&cursor.ledger_node, &l->owners);
	for (;;) {
		o = NULL;
		for (pos = cursor.ledger_node.next; pos != &l->owners;
		     pos = pos->next) {
			o = list_entry(pos, struct gdl_owner, ledger_node);
			if (!o->cursor)
				break;
			o = NULL;
		}
		if (!o)
			break;
		list_move(&cursor.ledger_node, &o->ledger_node);
		fn(o, arg);
		mutex_unlock(&l->owners_lock);
		cond_resched();
		mutex_lock(&l->owners_lock);
	}
	list_del(&cursor.ledger_node);
	mutex_unlock(&l->owners_lock);
}

/* ---- the ledger ---- */

int gdl_ledger_init(struct gdl_ledger *l, const struct gdl_params *p)
{
	int ret;

	if (!p->max_agents || p->max_agents > GDL_MAX_AGENTS_LIMIT ||
	    !p->max_reservations || !p->max_acl_entries)
		return -EINVAL;

	memset(l, 0, sizeof(*l));
	mutex_init(&l->admin_lock);
	mutex_init(&l->owners_lock);
	spin_lock_init(&l->dead_lock);
	INIT_LIST_HEAD(&l->dead_agents);
	INIT_LIST_HEAD(&l->owners);
	l->params = *p;
	/* A share is never more than the pool; unset, it is the pool. */
	l->params.agent_max_reservations =
		min(gdl_limit(p->agent_max_reservations, p->max_reservations),
		    p->max_reservations);
	l->params.agent_max_acl_entries =
		min(gdl_limit(p->agent_max_acl_entries, p->max_acl_entries),
		    p->max_acl_entries);
	l->nr_slots = p->max_agents + 2;	/* slot 0 unused, 1 default */
	ret = gdl_share_init(l);
	if (ret)
		goto err_mutex;
	l->agents = kvcalloc(l->nr_slots, sizeof(*l->agents), GFP_KERNEL);
	if (!l->agents) {
		ret = -ENOMEM;
		goto err_share;
	}
	l->stats = gdl_stats_alloc();
	if (!l->stats) {
		ret = -ENOMEM;
		goto err_agents;
	}
	ret = gdl_events_init(l);
	if (ret)
		goto err_stats;
	mutex_lock(&l->admin_lock);
	ret = gdl_agent_insert(l, "default", p->default_quota,
			       GDL_AGENT_F_DEFAULT, 0, 0, &l->default_agent_id);
	mutex_unlock(&l->admin_lock);
	if (ret)
		goto err_events;
	return 0;

err_events:
	gdl_events_fini(l);
err_stats:
	gdl_stats_free(l->stats);
err_agents:
	kvfree(l->agents);
err_share:
	gdl_share_fini(l);
err_mutex:
	mutex_destroy(&l->owners_lock);
	mutex_destroy(&l->admin_lock);
	return ret;
}

/* Every owner must have been finalised: nothing references agents. */
void gdl_ledger_destroy(struct gdl_ledger *l)
{
	u32 i;

	for (i = 1; i < l->nr_slots; i++) {
		struct gdl_agent *a = rcu_dereference_protected(l->agents[i], 1);

		if (!a)
			continue;
		RCU_INIT_POINTER(l->agents[i], NULL);
		atomic_sub(a->acl ? rcu_dereference_protected(a->acl, 1)->nr : 0,
			   &l->nr_acl_entries);
		call_rcu(&a->rcu, gdl_agent_free_rcu);
	}
	gdl_devices_destroy(l);
	rcu_barrier();
	kvfree(l->agents);
	gdl_share_fini(l);
	gdl_events_fini(l);
	gdl_stats_free(l->stats);
	mutex_destroy(&l->owners_lock);
	mutex_destroy(&l->admin_lock);
}

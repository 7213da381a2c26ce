// SPDX-License-Identifier: GPL-2.0
/*
 * Shared reservations (ABI 1.3): memory that one process exports and
 * others import stays charged to the agent that reserved it while any
 * open file still holds it.  Compiled into the module and into the
 * userspace unit tests.
 *
 * SHARE files a key (struct gdl_share_key) naming one of the caller's
 * reservations in a hash table seeded per boot, so that no tenant can aim
 * its keys at one bucket; keys are capabilities, so they are compared in
 * constant time.  ATTACH gives the caller's file a handle of its own
 * (struct gdl_hold) on the reservation a key names, if the caller's agent
 * may use that memory by the DMA rule.  A reservation counts its holders
 * and is released with the last, whichever file that is; its keys go with
 * it.  Each key and each attached handle counts against its agent's
 * max_reservations (EMFILE) and against the node's pool (ENOBUFS), so
 * that no tenant can exhaust the node through sharing.
 */
#include "gdl_core.h"

/* What a shared reservation has beyond others (r->shared). */
struct gdl_res_shared {
	struct list_head node;		/* ledger->shared */
	struct list_head keys;		/* struct gdl_share_entry */
	struct gdl_reservation *res;
};

/* One key. */
struct gdl_share_entry {
	struct hlist_node hash_node;	/* ledger->share_hash */
	struct list_head res_node;	/* res->shared->keys */
	struct gdl_reservation *res;
	struct gdl_agent *agent;	/* the sharer: counted, referenced */
	void *pin;			/* what an fd key holds open */
	struct gdl_share_key key;
};

/* A handle RESERVATION_ATTACH made. */
struct gdl_attached {
	struct gdl_hold hold;
	struct gdl_agent *agent;	/* the holder's: counted, referenced */
};

void gdl_share_init(struct gdl_ledger *l)
{
	u32 i;

	spin_lock_init(&l->share_lock);
	atomic_set(&l->nr_shared, 0);
	INIT_LIST_HEAD(&l->shared);
	for (i = 0; i < ARRAY_SIZE(l->share_hash); i++)
		INIT_HLIST_HEAD(&l->share_hash[i]);
	gdl_random_key(&l->share_seed);
}

static struct hlist_head *gdl_share_bucket(struct gdl_ledger *l,
					   const struct gdl_share_key *key)
{
	u64 h = gdl_hash(key, sizeof(*key), &l->share_seed);

	return &l->share_hash[h & (ARRAY_SIZE(l->share_hash) - 1)];
}

/* Under share_lock. */
static struct gdl_share_entry *gdl_share_find(struct gdl_ledger *l,
					      const struct gdl_share_key *key)
{
	struct gdl_share_entry *e;

	hlist_for_each_entry(e, gdl_share_bucket(l, key), hash_node)
		if (!gdl_key_neq(&e->key, key, sizeof(*key)))
			return e;
	return NULL;
}

/*
 * One more key or attached handle of agent @a: its share first, as for
 * reservations, then the node's pool (the one reservations draw on,
 * l->nr_reservations; l->nr_shared says how much of it is keys and
 * handles).  Takes a reference on @a.  A
 * destroyed agent gets nothing (-ESRCH), as in gdl_reserve(): counted
 * first (a fully ordered RMW), then checked, against the barrier in
 * gdl_agent_destroy(), so that nothing is charged to an agent after its
 * destroy returned.
 */
static int gdl_share_count(struct gdl_ledger *l, struct gdl_agent *a)
{
	int ret;

	if ((u32)atomic_inc_return(&a->nr_reservations) >
	    READ_ONCE(a->max_reservations)) {
		ret = -EMFILE;
		goto out_agent;
	}
	if ((u32)atomic_inc_return(&l->nr_reservations) >
	    l->params.max_reservations) {
		ret = -ENOBUFS;
		goto out_pool;
	}
	if (READ_ONCE(a->dead)) {
		ret = -ESRCH;
		goto out_pool;
	}
	atomic_inc(&l->nr_shared);
	refcount_inc(&a->ref);
	return 0;

out_pool:
	atomic_dec(&l->nr_reservations);
out_agent:
	atomic_dec(&a->nr_reservations);
	return ret;
}

static void gdl_share_uncount(struct gdl_ledger *l, struct gdl_agent *a)
{
	atomic_dec(&l->nr_shared);
	atomic_dec(&l->nr_reservations);
	atomic_dec(&a->nr_reservations);
	gdl_agent_put(l, a);
}

/*
 * The device of @r left the PCI bus: its memory can no longer be shared
 * or attached (-ENODEV, as for reservations and DMA checks on it).  The
 * entry stays while @r holds it, so no entry means gone too.  A removal
 * racing the check may let one share or attach through, as it may a
 * reservation; it is released like the others.
 */
static bool gdl_res_dev_gone(struct gdl_ledger *l, struct gdl_reservation *r)
{
	bool gone;

	rcu_read_lock();
	gone = !gdl_device_live_rcu(l, r->dev_index);
	rcu_read_unlock();
	return gone;
}

/*
 * Name the reservation @handle of @o by @key.  The same key for the same
 * reservation again changes nothing; for another one it is -EEXIST.
 * *@pinned says whether the new key took over @pin (dropped with the key
 * through l->share_unpin); otherwise the caller drops it.
 */
int gdl_res_share(struct gdl_ledger *l, struct gdl_owner *o,
		  struct gdl_agent *a, u64 handle,
		  const struct gdl_share_key *key, void *pin, bool *pinned)
{
	struct gdl_res_shared *sh = NULL;
	struct gdl_share_entry *e, *old;
	struct gdl_reservation *r;
	int ret;

	*pinned = false;
	r = gdl_hold_get(o, handle);
	if (!r)
		return -ENOENT;
	if (gdl_res_dev_gone(l, r)) {
		gdl_reservation_put(l, r);
		return -ENODEV;
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	/* Its first key: what a shared reservation needs, before the lock. */
	if (e && !READ_ONCE(r->shared))
		sh = kzalloc(sizeof(*sh), GFP_KERNEL_ACCOUNT);
	if (!e || (!READ_ONCE(r->shared) && !sh)) {
		ret = -ENOMEM;
		goto out_free;
	}
	e->res = r;
	e->agent = a;
	e->pin = pin;
	e->key = *key;

	spin_lock(&l->share_lock);
	old = gdl_share_find(l, key);
	if (old) {
		ret = old->res == r ? 0 : -EEXIST;
		goto out_unlock;
	}
	/* Only a new key counts: atomics, no sleeping under the lock. */
	ret = gdl_share_count(l, a);
	if (ret)
		goto out_unlock;
	if (!r->shared) {
		INIT_LIST_HEAD(&sh->keys);
		sh->res = r;
		list_add(&sh->node, &l->shared);
		WRITE_ONCE(r->shared, sh);
		sh = NULL;
	}
	hlist_add_head(&e->hash_node, gdl_share_bucket(l, key));
	list_add(&e->res_node, &r->shared->keys);
	spin_unlock(&l->share_lock);
	*pinned = true;
	kfree(sh);	/* another thread's first key came first */
	gdl_reservation_put(l, r);
	return 0;

out_unlock:
	spin_unlock(&l->share_lock);
out_free:
	kfree(sh);
	kfree(e);
	gdl_reservation_put(l, r);
	return ret;
}

/*
 * Memory with an address needs the DMA rule's right on its range; memory
 * without one (reserved before the driver placed it) on the whole device.
 */
static bool gdl_attach_verdict(struct gdl_agent *a, struct gdl_reservation *r,
			       u32 rights, u32 *result)
{
	u64 addr = r->has_addr ? r->addr : 0;
	u64 end = r->has_addr ? r->addr + r->size : U64_MAX;
	bool ok;

	rcu_read_lock();
	ok = gdl_acl_verdict(a, r->dev_index, addr, end, rights, r->agent_id,
			     result);
	rcu_read_unlock();
	return ok;
}

/*
 * Give @o a handle on the reservation @key names, for agent @a, which
 * needs out->access on it by the DMA rule.  -ESRCH: @a was destroyed;
 * -ENOENT: no such key (or its reservation is going); -ENODEV: its device
 * is gone; -EACCES: the rule refuses.  Whoever presents a key could map
 * the memory through the driver already, so telling these apart tells the
 * caller nothing the driver would not (and DEVICE_LIST tells anyone which
 * devices are gone).
 */
int gdl_res_attach(struct gdl_ledger *l, struct gdl_owner *o,
		   struct gdl_agent *a, const struct gdl_share_key *key,
		   struct gdl_reservation_share *out)
{
	u32 rights = out->access, verdict;
	struct gdl_reservation *r = NULL;
	struct gdl_share_entry *e;
	struct gdl_attached *at;
	int ret;

	if (!rights || rights & ~(GDL_ACCESS_READ | GDL_ACCESS_WRITE))
		return -EINVAL;
	/* Before the rule: a destroyed agent has no rights to be refused. */
	if (READ_ONCE(a->dead))
		return -ESRCH;
	spin_lock(&l->share_lock);
	e = gdl_share_find(l, key);
	/* A key is unlinked before its reservation is freed. */
	if (e && refcount_inc_not_zero(&e->res->holders))
		r = e->res;
	spin_unlock(&l->share_lock);
	if (!r)
		return -ENOENT;
	if (gdl_res_dev_gone(l, r)) {
		ret = -ENODEV;
		goto out_put;
	}

	if (!gdl_attach_verdict(a, r, rights, &verdict)) {
		atomic64_inc(&a->usage[r->dev_index].denied);
		/*
		 * The event goes to the attacher's readers too: a refused
		 * caller must not learn where or how large the exporter's
		 * memory is (in audit mode it gets both with its handle).
		 */
		if (gdl_enforcing(l)) {
			gdl_stat_inc(l->stats, GDL_STAT_DMA_DENIED);
			gdl_event_emit(l, GDL_EVENT_DMA_DENIED, 0, a->id,
				       r->dev_index, rights, 0, 0);
			ret = -EACCES;
			goto out_put;
		}
		verdict = GDL_RESULT_AUDIT;
		gdl_stat_inc(l->stats, GDL_STAT_AUDIT_OVERRIDES);
		gdl_event_emit(l, GDL_EVENT_DMA_DENIED, GDL_EVENT_F_AUDIT,
			       a->id, r->dev_index, rights, r->addr, r->size);
	}
	at = kzalloc(sizeof(*at), GFP_KERNEL_ACCOUNT);
	if (!at) {
		ret = -ENOMEM;
		goto out_put;
	}
	ret = gdl_share_count(l, a);
	if (ret)
		goto out_free;
	at->hold.res = r;	/* takes over our holder's reference */
	at->agent = a;
	gdl_hold_insert(o, &at->hold);

	out->handle = at->hold.handle;
	out->agent_id = r->agent_id;
	out->dev_index = r->dev_index;
	out->size = r->size;
	out->result = verdict;
	return 0;

out_free:
	kfree(at);
out_put:
	gdl_reservation_put(l, r);
	return ret;
}

/* A handle taken out of its file: the reservation loses one holder. */
void gdl_hold_drop(struct gdl_ledger *l, struct gdl_hold *h)
{
	struct gdl_reservation *r = h->res;
	struct gdl_attached *at;

	if (h != &r->self) {
		at = container_of(h, struct gdl_attached, hold);
		gdl_share_uncount(l, at->agent);
		kfree(at);
	}
	gdl_reservation_put(l, r);
}

/* @r has no holder left: its keys go, and what they pinned. */
void gdl_share_unlink(struct gdl_ledger *l, struct gdl_reservation *r)
{
	struct gdl_res_shared *sh = r->shared;
	struct gdl_share_entry *e, *tmp;

	spin_lock(&l->share_lock);
	list_for_each_entry(e, &sh->keys, res_node)
		hlist_del(&e->hash_node);
	list_del(&sh->node);
	spin_unlock(&l->share_lock);
	list_for_each_entry_safe(e, tmp, &sh->keys, res_node) {
		if (e->pin && l->share_unpin)
			l->share_unpin(e->pin);
		gdl_share_uncount(l, e->agent);
		kfree(e);
	}
	kfree(sh);
}

/* The ledger's self-check: add up the reservations ever shared. */
void gdl_share_sum(struct gdl_ledger *l, u64 *rsum, u64 *rnr)
{
	struct gdl_res_shared *sh;

	spin_lock(&l->share_lock);
	list_for_each_entry(sh, &l->shared, node) {
		rsum[sh->res->dev_index] += sh->res->size;
		rnr[sh->res->dev_index]++;
	}
	spin_unlock(&l->share_lock);
}

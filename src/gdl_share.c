// SPDX-License-Identifier: GPL-2.0
/*
 * Shared reservations (ABI 1.3): memory that one process exports and
 * others import stays charged to the agent that reserved it while any
 * open file still holds it.  Compiled into the module and into the
 * userspace unit tests.
 *
 * SHARE files a key (struct gdl_share_key) naming one of the caller's
 * reservations; ATTACH gives the caller's file a handle of its own
 * (struct gdl_hold) on the reservation a key names, if the caller's agent
 * may use that memory by the DMA rule.  A reservation counts its holders
 * and is released with the last, whichever file that is; its keys go with
 * it.  Each key and each attached handle counts against its agent's
 * max_reservations (EMFILE) and against the node's pool (ENOBUFS), so
 * that no tenant can exhaust the node through sharing.
 *
 * Keys are capabilities (whoever holds an IPC handle's bytes can map the
 * memory through the driver), but a tenant may be able to predict them.
 * So since ABI 1.4 a key is its sharer agent's: another agent filing the
 * same bytes first cannot make the rightful SHARE fail, and ATTACH
 * chooses among the agents that filed them (gdl_attach_pick()).
 *
 * The keys live in an rhltable (one list per key, an entry per sharing
 * agent): it grows with the keys, so a miss costs the same at one key or
 * a million, and ATTACH looks keys up under RCU, taking no lock another
 * tenant's SHARE or ATTACH waits for.  Its hash is keyed per boot, so
 * that no tenant can aim its keys at one bucket, and keys are compared in
 * constant time.  share_lock serialises what changes the table and the
 * lists of shared reservations and their keys.
 */
#include "gdl_core.h"

/* What a shared reservation has beyond others (r->shared). */
struct gdl_res_shared {
	struct list_head node;		/* ledger->shared */
	struct list_head keys;		/* struct gdl_share_entry */
	struct gdl_reservation *res;	/* NULL: a walk's place in the list */
};

/* One agent's key; freed after RCU readers (ATTACH) are done with it. */
struct gdl_share_entry {
	struct rhlist_head hash_node;	/* ledger->share_keys */
	struct list_head res_node;	/* res->shared->keys */
	struct gdl_reservation *res;
	struct gdl_agent *agent;	/* the sharer: counted, referenced */
	u64 seq;			/* the order keys were filed in */
	void *pin;			/* what an fd key holds open */
	struct gdl_share_key key;
	struct rcu_head rcu;
};

/*
 * The table's hash: siphash keyed per boot (the table's own seed is only
 * 32 bits, and mixed in so that a rehash moves every key).
 */
static struct gdl_hash_key gdl_share_seed;

static u32 gdl_share_hashfn(const void *data, u32 len, u32 seed)
{
	return (u32)gdl_hash_seeded(data, len, &gdl_share_seed, seed);
}

/* 0 when equal, in constant time: keys are capabilities. */
static int gdl_share_cmpfn(struct rhashtable_compare_arg *arg,
			   const void *obj)
{
	const struct gdl_share_entry *e = obj;

	return gdl_key_neq(&e->key, arg->key, sizeof(e->key)) ? 1 : 0;
}

static const struct rhashtable_params gdl_share_params = {
	.head_offset = offsetof(struct gdl_share_entry, hash_node),
	.key_offset = offsetof(struct gdl_share_entry, key),
	.key_len = sizeof(struct gdl_share_key),
	.hashfn = gdl_share_hashfn,
	.obj_cmpfn = gdl_share_cmpfn,
	.automatic_shrinking = true,
};

/* A handle RESERVATION_ATTACH made. */
struct gdl_attached {
	struct gdl_hold hold;
	struct gdl_agent *agent;	/* the holder's: counted, referenced */
};

int gdl_share_init(struct gdl_ledger *l)
{
	static bool seeded;

	/* Once: the hash cannot find the ledger, and one ledger is live. */
	if (!seeded) {
		gdl_random_key(&gdl_share_seed);
		seeded = true;
	}
	spin_lock_init(&l->share_lock);
	atomic_set(&l->nr_shared, 0);
	INIT_LIST_HEAD(&l->shared);
	l->share_seq = 0;
	return rhltable_init(&l->share_keys, &gdl_share_params);
}

/* Every reservation was released: the table is empty. */
void gdl_share_fini(struct gdl_ledger *l)
{
	rhltable_destroy(&l->share_keys);
}

/* Agent @a's key @key, under share_lock (and RCU, for the table). */
static struct gdl_share_entry *gdl_share_find(struct gdl_ledger *l,
					      struct gdl_agent *a,
					      const struct gdl_share_key *key)
{
	struct gdl_share_entry *e;
	struct rhlist_head *list, *pos;

	list = rhltable_lookup(&l->share_keys, key, gdl_share_params);
	rhl_for_each_entry_rcu(e, pos, list, hash_node)
		if (e->agent == a)
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
 * Name the reservation @handle of @o by @key, as agent @a's key.  The same
 * key of @a for the same reservation again changes nothing; for another
 * one it is -EEXIST.  Another agent's key of the same bytes is no
 * conflict (gdl_attach_pick() chooses between them).  *@pinned says
 * whether the new key took over @pin (dropped with the key through
 * l->share_unpin); otherwise the caller drops it.
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
	rcu_read_lock();
	old = gdl_share_find(l, a, key);
	rcu_read_unlock();
	if (old) {
		ret = old->res == r ? 0 : -EEXIST;
		goto out_unlock;
	}
	/* Only a new key counts: atomics, no sleeping under the lock. */
	ret = gdl_share_count(l, a);
	if (ret)
		goto out_unlock;
	/* Before the insert publishes it: ATTACH orders by it under RCU. */
	e->seq = l->share_seq++;
	/* Atomic: the table grows in a worker, or GFP_ATOMIC when full. */
	ret = rhltable_insert(&l->share_keys, &e->hash_node, gdl_share_params);
	if (ret) {
		spin_unlock(&l->share_lock);
		gdl_share_uncount(l, a);
		goto out_free;
	}
	if (!r->shared) {
		INIT_LIST_HEAD(&sh->keys);
		sh->res = r;
		list_add(&sh->node, &l->shared);
		WRITE_ONCE(r->shared, sh);
		sh = NULL;
	}
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
 * Under RCU.
 */
static bool gdl_attach_verdict(struct gdl_agent *a, struct gdl_reservation *r,
			       u32 rights, u32 *result)
{
	u64 addr = r->has_addr ? r->addr : 0;
	u64 end = r->has_addr ? r->addr + r->size : U64_MAX;

	return gdl_acl_verdict(a, r->dev_index, addr, end, rights, r->agent_id,
			       result);
}

/* What ATTACH chose, and why. */
struct gdl_attach_choice {
	struct gdl_share_entry *e;	/* NULL: none may be used */
	u32 verdict;			/* GDL_RESULT_* when e */
	bool known;			/* some agent filed the key */
	bool several;			/* more than one may be used */
	u32 denied_dev;			/* a refused one's device */
};

static bool gdl_attach_expected(const struct gdl_reservation_share *in,
				const struct gdl_reservation *r)
{
	if ((in->flags & GDL_ATTACH_F_DEV) && r->dev_index != in->dev_index)
		return false;
	if ((in->flags & GDL_ATTACH_F_SIZE) && r->size != in->size)
		return false;
	return true;
}

/*
 * Which of the agents that filed @key agent @a attaches to, under RCU.
 * Its own agent's key first: nobody else's can shadow it.  Otherwise the
 * keys of reservations matching @in's expectations (GDL_ATTACH_F_*) that
 * @a may use by the DMA rule; of several, the one filed first.  A key
 * that someone else filed first on other memory therefore cannot make a
 * rightful import fail (the importer passes what the driver says the
 * memory is), nor, unless it matches the memory's device and size and @a
 * may use it, attach the import to it; and then that agent pays for it.
 */
static void gdl_attach_pick(struct gdl_ledger *l, struct gdl_agent *a,
			    const struct gdl_share_key *key,
			    const struct gdl_reservation_share *in,
			    struct gdl_attach_choice *c)
{
	struct gdl_share_entry *e, *refused = NULL;
	struct rhlist_head *list, *pos;
	u32 verdict;

	memset(c, 0, sizeof(*c));
	list = rhltable_lookup(&l->share_keys, key, gdl_share_params);
	rhl_for_each_entry_rcu(e, pos, list, hash_node) {
		if (!gdl_attach_expected(in, e->res))
			continue;
		c->known = true;
		if (e->agent == a) {
			c->several = false;
			c->e = NULL;
			if (gdl_attach_verdict(a, e->res, in->access, &verdict)) {
				c->e = e;
				c->verdict = verdict;
				return;
			}
			refused = e;
			break;
		}
		if (!gdl_attach_verdict(a, e->res, in->access, &verdict)) {
			if (!refused || e->seq < refused->seq)
				refused = e;
			continue;
		}
		if (c->e)
			c->several = true;
		if (!c->e || e->seq < c->e->seq) {
			c->e = e;
			c->verdict = verdict;
		}
	}
	if (!c->e && refused) {
		c->denied_dev = refused->res->dev_index;
		/* Audit mode: what enforcing would refuse passes, and says so. */
		if (!gdl_enforcing(l)) {
			c->e = refused;
			c->verdict = GDL_RESULT_AUDIT;
		}
	}
}

/*
 * Give @o a handle on the reservation @key names (gdl_attach_pick()), for
 * agent @a, which needs @s->access on it by the DMA rule.  -ESRCH: @a was
 * destroyed; -ENOENT: no such key (or its reservation is going); -ENODEV:
 * its device is gone; -EACCES: the rule refuses; -ENOTUNIQ: @a may use
 * several agents' memory under that key, and @s has no expectations to
 * choose by.  Whoever presents a key could map the memory through the
 * driver already, so telling these apart tells the caller nothing the
 * driver would not (and DEVICE_LIST tells anyone which devices are gone).
 */
int gdl_res_attach(struct gdl_ledger *l, struct gdl_owner *o,
		   struct gdl_agent *a, const struct gdl_share_key *key,
		   struct gdl_reservation_share *s)
{
	struct gdl_reservation *r = NULL;
	struct gdl_attach_choice c;
	struct gdl_attached *at;
	int ret;

	if (!s->access || s->access & ~(GDL_ACCESS_READ | GDL_ACCESS_WRITE) ||
	    s->flags & ~(GDL_ATTACH_F_DEV | GDL_ATTACH_F_SIZE))
		return -EINVAL;
	/* Before the rule: a destroyed agent has no rights to be refused. */
	if (READ_ONCE(a->dead))
		return -ESRCH;
	rcu_read_lock();
	gdl_attach_pick(l, a, key, s, &c);
	if (c.e && c.several && !s->flags) {
		rcu_read_unlock();
		return -ENOTUNIQ;
	}
	/* Entries go before their reservation, which RCU keeps for us. */
	if (c.e && refcount_inc_not_zero(&c.e->res->holders))
		r = c.e->res;
	rcu_read_unlock();
	if (!c.known)
		return -ENOENT;
	if (!c.e) {
		/*
		 * The event goes to the attacher's readers too: a refused
		 * caller must not learn where or how large the exporter's
		 * memory is (in audit mode it gets both with its handle).
		 */
		atomic64_inc(&a->usage[c.denied_dev].denied);
		gdl_stat_inc(l->stats, GDL_STAT_DMA_DENIED);
		gdl_event_emit(l, GDL_EVENT_DMA_DENIED, 0, a->id, c.denied_dev,
			       s->access, 0, 0);
		return -EACCES;
	}
	if (!r)
		return -ENOENT;
	if (gdl_res_dev_gone(l, r)) {
		ret = -ENODEV;
		goto out_put;
	}
	if (c.verdict == GDL_RESULT_AUDIT) {
		atomic64_inc(&a->usage[r->dev_index].denied);
		gdl_stat_inc(l->stats, GDL_STAT_AUDIT_OVERRIDES);
		gdl_event_emit(l, GDL_EVENT_DMA_DENIED, GDL_EVENT_F_AUDIT,
			       a->id, r->dev_index, s->access, r->addr, r->size);
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

	s->handle = at->hold.handle;
	s->agent_id = r->agent_id;
	s->dev_index = r->dev_index;
	s->size = r->size;
	s->result = c.verdict;
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

/*
 * @r has no holder left: its keys go, and what they pinned.  ATTACH may
 * still be looking at them (RCU), so they are freed after it.  One
 * reservation may carry its agent's whole share of keys, so share_lock is
 * let go every GDL_WALK_BATCH keys: nothing else reaches this list once
 * @r is off the ledger's (no holder can SHARE it again).
 */
void gdl_share_unlink(struct gdl_ledger *l, struct gdl_reservation *r)
{
	struct gdl_res_shared *sh = r->shared;
	struct gdl_share_entry *e, *tmp;
	u32 n = 0;

	spin_lock(&l->share_lock);
	list_del(&sh->node);
	list_for_each_entry(e, &sh->keys, res_node) {
		WARN_ON(rhltable_remove(&l->share_keys, &e->hash_node,
					gdl_share_params));
		if (!(++n % GDL_WALK_BATCH)) {
			spin_unlock(&l->share_lock);
			cond_resched();
			spin_lock(&l->share_lock);
		}
	}
	spin_unlock(&l->share_lock);
	list_for_each_entry_safe(e, tmp, &sh->keys, res_node) {
		if (e->pin && l->share_unpin)
			l->share_unpin(e->pin);
		gdl_share_uncount(l, e->agent);
		kfree_rcu(e, rcu);
		if (!(--n % GDL_WALK_BATCH))
			cond_resched();
	}
	kfree(sh);
}

/*
 * The ledger's self-check: add up the reservations ever shared, in steps
 * of GDL_WALK_BATCH, so that SHARE and the last release, which take
 * share_lock, never wait for the whole walk.  A cursor keeps the place.
 */
void gdl_share_sum(struct gdl_ledger *l, u64 *rsum, u64 *rnr)
{
	struct gdl_res_shared cursor = { .res = NULL }, *sh;
	u32 i;

	spin_lock(&l->share_lock);
	list_add(&cursor.node, &l->shared);
	while (!list_is_last(&cursor.node, &l->shared)) {
		for (i = 0; i < GDL_WALK_BATCH &&
		     !list_is_last(&cursor.node, &l->shared); i++) {
			sh = list_next_entry(&cursor, node);
			list_move(&cursor.node, &sh->node);
			if (!sh->res)	/* another walk's cursor */
				continue;
			rsum[sh->res->dev_index] += sh->res->size;
			rnr[sh->res->dev_index]++;
		}
		spin_unlock(&l->share_lock);
		cond_resched();
		spin_lock(&l->share_lock);
	}
	list_del(&cursor.node);
	spin_unlock(&l->share_lock);
}

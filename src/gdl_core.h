/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ledger: devices, agents, quotas, reservations and DMA ACLs.
 *
 * Built into the module and, through gdl_compat.h, into userspace tests.
 * Nothing here knows about files, ioctls, capabilities or cgroups: callers
 * resolve identities and privileges, then call in with validated values.
 *
 * Locking:
 *  - ledger->admin_lock (mutex) serialises every change of the device and
 *    agent tables and every publish of an ACL set; readers use RCU.
 *    Tenants reach it only through ACL_GRANT and ACL_REVOKE, whose holds
 *    are O(batch): the copy of a grantee's set is made before, under
 *    agent->acl_lock.
 *  - agent->acl_lock (ww_mutex, one wait/die class) serialises grants and
 *    revokes to that agent's set; a batch takes its grantees' together.
 *    An admin's purge replaces sets under admin_lock without it, and moves
 *    agent->acl_gen, which a change checks before it publishes.
 *  - ledger->owners_lock (mutex) guards the list of open files alone.
 *    open() and close() take it for a list_add or list_del; an admin's
 *    walk over every file (the STATS self-check, /proc holders) holds it
 *    for one file at a time (gdl_owners_walk()), so they wait for one
 *    file's batch at most, never for the whole walk.
 *  - quota check-and-charge is a cmpxchg loop on the agent's per-device
 *    usage, then on the device's total: no lock.
 *  - device->lock (spinlock) guards that device's address-range index.
 *  - owner->lock (spinlock) guards one open file's reservations.
 *  - ledger->share_lock (spinlock) guards the shared-key table and the
 *    list of shared reservations.  A leaf: nothing is taken under it;
 *    the self-check takes it under admin_lock.
 *  - ledger->dead_lock (spinlock) guards the list of destroyed agents.
 *    A leaf, taken by the last gdl_agent_put() from any context (under
 *    admin_lock, the binding table's mutex, or none), by the
 *    self-check under admin_lock, and by the readers of the list
 *    (AGENT_LIST, QUOTA_GET of a destroyed agent, /proc) alone or under
 *    rcu_read_lock().
 *  - events->lock (spinlock) guards the event ring.  A leaf, taken under
 *    admin_lock (destroy and hot-plug events), under a reader's
 *    gdl_file read_lock, or alone; the readers' wait queue is woken only
 *    after it is dropped.
 *  Lock order: acl_lock -> admin_lock -> owners_lock -> owner->lock ->
 *  device->lock; the PCI core's rescan/remove lock (or a PF's device
 *  lock) -> gdl_pci_lock (the module's, serialising the load-time PCI
 *  walk and the bus notifier) -> admin_lock (gdl_pci.c); share_lock,
 *  dead_lock and events->lock innermost, each alone.  None of the
 *  spinlocks is held across anything that sleeps.
 */
#ifndef GDL_CORE_H
#define GDL_CORE_H

#include "gdl_compat.h"
#include "gdl_parse.h"

#define GDL_AGENT_SLOT_BITS	16
#define GDL_AGENT_SLOT_MASK	((1U << GDL_AGENT_SLOT_BITS) - 1)
#define GDL_MAX_AGENTS_LIMIT	(GDL_AGENT_SLOT_MASK - 1)

enum gdl_policy {
	GDL_POLICY_DENY,	/* unbound callers are refused */
	GDL_POLICY_DEFAULT,	/* unbound callers use the default agent */
};

struct gdl_params {
	u64 default_quota;
	u32 max_agents;
	u32 max_reservations;
	u32 max_acl_entries;
	/* Each agent's share of the two above; 0: the whole (unit tests). */
	u32 agent_max_reservations;
	u32 agent_max_acl_entries;
	bool enforce;
	enum gdl_policy policy;
};

/* One agent's account on one device. */
struct gdl_usage {
	atomic64_t usage;
	atomic64_t peak;
	atomic64_t nr_reservations;
	atomic64_t denied;
	u64 quota;		/* READ_ONCE: changed by admins at any time */
};

/*
 * One ACL entry as the DMA check searches it: sorted by (dev, owner,
 * rights, start, ...), so that the entries one check may use form at most
 * four runs (admin or range owner, exact or wider rights), each sorted by
 * start with the running maximum of its ends.
 */
struct gdl_acl_node {
	u64 start;
	u64 end;		/* exclusive */
	u64 max_end;		/* max end of this and earlier nodes of its run */
	u32 dev;
	u32 owner;		/* 0: admin entry, else the granting agent */
	u32 rights;
	u32 peer;
};

/* The DMA check's key first (dev, owner, rights, start), then the rest. */
static inline int gdl_acl_node_cmp(const void *a, const void *b)
{
	const struct gdl_acl_node *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->rights != y->rights)
		return x->rights < y->rights ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->peer != y->peer)
		return x->peer < y->peer ? -1 : 1;
	return 0;
}

/*
 * Immutable once published; replaced whole under admin_lock.  ref: one for
 * being published (dropped a grace period after it is replaced), one for
 * each change building from it (gdl_acl.c).
 */
struct gdl_acl_set {
	struct rcu_head rcu;
	refcount_t ref;
	u32 nr;
	struct gdl_acl_node node[];
};

struct gdl_agent {
	u32 id;
	u32 flags;		/* GDL_AGENT_F_* */
	refcount_t ref;
	bool dead;
	atomic_t nr_bindings;
	char name[GDL_NAME_LEN];
	u64 default_quota;
	/* Its share of the node's pools (READ_ONCE: admins change them). */
	u32 max_reservations;
	u32 max_acl_entries;	/* grants it owns, in every agent's set */
	atomic_t nr_reservations;
	u32 nr_granted;		/* under admin_lock */
	struct ww_mutex acl_lock;	/* serialises grants and revokes to acl */
	unsigned long acl_gen;	/* moves at each publish of acl */
	struct gdl_acl_set __rcu *acl;
	u32 peer_mask[GDL_MAX_DEVICES];	/* bit p of [d]: may DMA d <-> p */
	struct list_head dead_node;	/* ledger->dead_agents once destroyed */
	struct rcu_head rcu;
	struct gdl_usage usage[GDL_MAX_DEVICES];
};

struct gdl_device {
	u32 index;
	u32 flags;		/* GDL_DEV_F_* */
	u32 pci_domain;
	u32 pci_bdf;
	u16 vendor;
	u16 device;
	bool dead;
	/*
	 * Left the PCI bus (READ_ONCE): no new reservation or DMA check,
	 * reservations stay until released; cleared if it comes back.
	 */
	bool gone;
	char name[GDL_NAME_LEN];
	u8 uuid[GDL_UUID_LEN];
	u64 capacity;		/* READ_ONCE */
	atomic64_t used;
	atomic64_t peak;
	atomic64_t nr_reservations;
	spinlock_t lock;	/* guards ranges against other writers */
	seqcount_spinlock_t seq;	/* lets readers go without lock */
	struct rb_root ranges;	/* reservations with an address */
	struct rcu_head rcu;
};

struct gdl_reservation;

/*
 * One open file's handle on a reservation: the one its reserver got
 * (embedded in the reservation), or one that RESERVATION_ATTACH made.
 */
struct gdl_hold {
	u64 handle;
	struct rb_node owner_node;	/* owner->handles */
	struct gdl_reservation *res;
};

struct gdl_res_shared;		/* gdl_share.c */

/*
 * 128 bytes (kmalloc-128), as before sharing: what only shared
 * reservations need is allocated at the first SHARE.
 */
struct gdl_reservation {
	struct gdl_hold self;		/* the reserver's handle */
	refcount_t holders;		/* the charge goes with the last */
	u32 dev_index;
	u32 agent_id;
	bool has_addr;
	u64 size;
	u64 addr;
	struct gdl_agent *agent;	/* holds a reference */
	struct rb_node range_node;	/* device->ranges, when has_addr */
	/* Set once, at the first SHARE (under share_lock); never cleared. */
	struct gdl_res_shared *shared;
	struct rcu_head rcu;
};

/* One handle of an open file, as the admin's list of holders shows it. */
struct gdl_hold_info {
	u64 handle;
	u64 size;
	u32 agent_id;		/* charged: the reserving agent */
	u32 dev_index;
	bool attached;		/* RESERVATION_ATTACH made it */
	bool agent_dead;	/* the charged agent was destroyed */
};

/* The reservations of one open file. */
struct gdl_owner {
	spinlock_t lock;	/* guards next_handle and handles */
	u64 next_handle;
	struct list_head ledger_node;	/* ledger->owners */
	struct rb_root handles;		/* struct gdl_hold by handle */
	bool cursor;	/* a walk's place in ledger->owners, no file */
};

#define GDL_EVENT_RING_SIZE	1024	/* a power of two */

/* One agent slot's latest event, so that pending() need not scan. */
struct gdl_event_last {
	u32 agent;		/* its agent id (slots are reused) */
	u64 next;		/* its seq + 1; 0: none */
};

/* The most recent events; readers keep their own cursor (a seq). */
struct gdl_event_ring {
	spinlock_t lock;	/* guards head, ev and last */
	u64 head;		/* seq of the next event */
	struct gdl_event_last *last;	/* by agent slot: nr_slots */
	struct gdl_event ev[GDL_EVENT_RING_SIZE];
};

/* Nodes an admin's walk visits between two takes of a tenant's lock. */
#define GDL_WALK_BATCH	256

/* A key naming a shared reservation (ABI 1.3). */
struct gdl_share_key {
	u32 type;			/* GDL_SHARE_KEY_* */
	u8 bytes[GDL_SHARE_KEY_LEN];	/* for an fd: the pinned file's address */
};

struct gdl_ledger {
	struct mutex admin_lock;	/* tables and ACL sets: see above */
	struct gdl_params params;	/* enforce may change: READ_ONCE */
	struct gdl_device __rcu *devices[GDL_MAX_DEVICES];
	struct gdl_agent __rcu **agents;	/* max_agents + 2 slots */
	u32 nr_slots;
	u32 nr_agents;			/* tenant agents, default excluded */
	u16 next_gen;
	u32 default_agent_id;
	/* The pool max_reservations bounds: reservations, keys, handles. */
	atomic_t nr_reservations;
	atomic_t nr_acl_entries;
	u32 nr_acl_granted;		/* owned by agents; under admin_lock */
	atomic_t nr_owners;
	spinlock_t dead_lock;		/* guards dead_agents */
	struct list_head dead_agents;	/* destroyed, still referenced */
	struct mutex owners_lock;	/* guards owners */
	struct list_head owners;
	/* Shared reservations (gdl_share.c), under share_lock. */
	spinlock_t share_lock;
	atomic_t nr_shared;	/* keys and attached holds, of nr_reservations */
	struct list_head shared;	/* reservations ever shared */
	struct rhltable share_keys;	/* struct gdl_share_entry by key */
	u64 share_seq;			/* keys filed so far */
	/* Drops what a GDL_SHARE_KEY_FD share pinned (an open file). */
	void (*share_unpin)(void *pin);	/* may be NULL */
	struct gdl_stat_cpu __percpu *stats;
	struct gdl_event_ring *events;
	void (*event_notify)(struct gdl_ledger *l);	/* may be NULL */
};

/* gdl_core.c */
int gdl_ledger_init(struct gdl_ledger *l, const struct gdl_params *p);
void gdl_ledger_destroy(struct gdl_ledger *l);

/* gdl_device.c */
int gdl_device_add(struct gdl_ledger *l, const struct gdl_device_info *in,
		   u32 flags, u32 *index);
int gdl_device_set(struct gdl_ledger *l, const struct gdl_device_set *s);
int gdl_device_remove(struct gdl_ledger *l, u32 index);
int gdl_device_plug(struct gdl_ledger *l, const struct gdl_device_info *in,
		    u32 *index);
int gdl_device_unplug(struct gdl_ledger *l, u32 pci_domain, u32 pci_bdf,
		      u32 *index);
int gdl_device_info(struct gdl_ledger *l, u32 index,
		    struct gdl_device_info *out);
void gdl_devices_destroy(struct gdl_ledger *l);

/* gdl_core.c */

int gdl_agent_create(struct gdl_ledger *l, const char *name, u64 quota,
		     u32 *id);
int gdl_agent_create_limited(struct gdl_ledger *l,
			     const struct gdl_agent_info *in, u32 *id);
int gdl_agent_set_limits(struct gdl_ledger *l, u32 id, u32 max_reservations,
			 u32 max_acl_entries);
int gdl_agent_destroy(struct gdl_ledger *l, u32 id);
struct gdl_agent *gdl_agent_get(struct gdl_ledger *l, u32 id);
struct gdl_agent *gdl_agent_locked(struct gdl_ledger *l, u32 id);
void gdl_agent_put(struct gdl_ledger *l, struct gdl_agent *a);
void gdl_agent_fill_info(const struct gdl_agent *a,
			 struct gdl_agent_info *out);
int gdl_agent_list(struct gdl_ledger *l, struct gdl_agent_info *buf,
		   u32 cap, u32 *total, bool dead);
u32 gdl_agent_dead_count(struct gdl_ledger *l);
struct gdl_agent *gdl_agent_get_dead(struct gdl_ledger *l, u32 id);

int gdl_quota_set(struct gdl_ledger *l, u32 agent_id, u32 dev, u64 quota);
int gdl_quota_get(struct gdl_ledger *l, struct gdl_agent *a, u32 dev,
		  struct gdl_quota *out);

void gdl_owner_init(struct gdl_ledger *l, struct gdl_owner *o);
void gdl_owner_fini(struct gdl_ledger *l, struct gdl_owner *o);
void gdl_owners_walk(struct gdl_ledger *l,
		     void (*fn)(struct gdl_owner *o, void *arg), void *arg);
int gdl_reserve(struct gdl_ledger *l, struct gdl_owner *o,
		struct gdl_agent *a, struct gdl_reserve *req);
int gdl_release(struct gdl_ledger *l, struct gdl_owner *o, u64 handle);
u32 gdl_range_owner(struct gdl_device *dev, u64 addr, u64 len);
struct gdl_reservation *gdl_hold_get(struct gdl_owner *o, u64 handle);
void gdl_reservation_put(struct gdl_ledger *l, struct gdl_reservation *r);
void gdl_hold_insert(struct gdl_owner *o, struct gdl_hold *h);
struct rb_node *gdl_hold_first_from(struct gdl_owner *o, u64 next);
u32 gdl_owner_holds(struct gdl_owner *o, u64 *next,
		    struct gdl_hold_info *buf, u32 cap);

/* gdl_share.c */
int gdl_share_init(struct gdl_ledger *l);
void gdl_share_fini(struct gdl_ledger *l);
int gdl_res_share(struct gdl_ledger *l, struct gdl_owner *o,
		  struct gdl_agent *a, u64 handle,
		  const struct gdl_share_key *key, void *pin, bool *pinned);
int gdl_res_attach(struct gdl_ledger *l, struct gdl_owner *o,
		   struct gdl_agent *a, const struct gdl_share_key *key,
		   struct gdl_reservation_share *out);
void gdl_hold_drop(struct gdl_ledger *l, struct gdl_hold *h);
void gdl_share_unlink(struct gdl_ledger *l, struct gdl_reservation *r);
void gdl_share_sum(struct gdl_ledger *l, u64 *rsum, u64 *rnr);

/* gdl_dma.c */
int gdl_dma_check(struct gdl_ledger *l, struct gdl_agent *a,
		  struct gdl_dma_check *req);
bool gdl_acl_verdict(struct gdl_agent *a, u32 dev, u64 addr, u64 end,
		     u32 rights, u32 owner, u32 *result);

/* gdl_acl.c */
int gdl_acl_validate(struct gdl_ledger *l, const struct gdl_acl_entry *e,
		     u32 caller_agent, bool admin, bool revoke);
int gdl_acl_grant(struct gdl_ledger *l, const struct gdl_acl_entry *e, u32 n);
int gdl_acl_revoke(struct gdl_ledger *l, const struct gdl_acl_entry *e,
		   u32 n);
int gdl_acl_list(struct gdl_ledger *l, u32 filter, struct gdl_acl_entry *buf,
		 u32 cap, u32 *total);
int gdl_acl_purge_agent_prepare(struct gdl_ledger *l, u32 id,
				struct gdl_acl_set ***sets);
int gdl_acl_purge_device_prepare(struct gdl_ledger *l, u32 index,
				 struct gdl_acl_set ***sets);
void gdl_acl_purge_commit(struct gdl_ledger *l, struct gdl_acl_set **sets);
void gdl_acl_purge_abort(struct gdl_ledger *l, struct gdl_acl_set **sets);
void gdl_acl_drop_agent(struct gdl_ledger *l, struct gdl_agent *dead);
void gdl_acl_set_free(struct gdl_acl_set *set);
void gdl_acl_agent_init(struct gdl_agent *a);

/* gdl_event.c */
int gdl_events_init(struct gdl_ledger *l);
void gdl_events_fini(struct gdl_ledger *l);
void gdl_event_emit(struct gdl_ledger *l, u32 type, u32 flags, u32 agent,
		    u32 dev, u32 access, u64 value, u64 value2);
u32 gdl_events_read(struct gdl_ledger *l, u64 *cursor, u32 filter_agent,
		    struct gdl_event *buf, u32 cap);
bool gdl_events_pending(struct gdl_ledger *l, u64 cursor, u32 filter_agent);
u64 gdl_events_head(struct gdl_ledger *l);

/* gdl_stats.c */
void gdl_stats_snapshot(struct gdl_ledger *l, struct gdl_stats *out,
			bool walk);
bool gdl_ledger_consistent(struct gdl_ledger *l);
bool gdl_ledger_check(struct gdl_ledger *l, bool walk);

/*
 * The table slot of agent @id, or 0 (a slot never used) when no agent can
 * have that id: every lookup goes through here, then compares the id.
 */
static inline u32 gdl_agent_slot(const struct gdl_ledger *l, u32 id)
{
	u32 slot = id & GDL_AGENT_SLOT_MASK;

	return id && slot < l->nr_slots ? slot : 0;
}

/* A live agent by id, without a reference: under rcu_read_lock(). */
static inline struct gdl_agent *gdl_agent_rcu(struct gdl_ledger *l, u32 id)
{
	struct gdl_agent *a = rcu_dereference(l->agents[gdl_agent_slot(l, id)]);

	return a && a->id == id ? a : NULL;
}

/* A device table entry, live or gone, under admin_lock; NULL for none. */
static inline struct gdl_device *gdl_device_locked(struct gdl_ledger *l,
						   u32 index)
{
	if (index >= GDL_MAX_DEVICES)
		return NULL;
	return rcu_dereference_protected(l->devices[index],
					 lockdep_is_held(&l->admin_lock));
}

/* A device that can take reservations and checks: under rcu_read_lock(). */
static inline struct gdl_device *gdl_device_live_rcu(struct gdl_ledger *l,
						     u32 index)
{
	struct gdl_device *dev = rcu_dereference(l->devices[index]);

	return dev && !READ_ONCE(dev->gone) ? dev : NULL;
}

static inline bool gdl_enforcing(struct gdl_ledger *l)
{
	return READ_ONCE(l->params.enforce);
}

#endif /* GDL_CORE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The device table: entries an admin adds and removes, and the hot-plug
 * state machine that gdl_pci.c drives from the PCI core's notifications
 * (plug, unplug, a gone entry back at its address, reclaim of a gone
 * entry that holds nothing).  Everything here runs under admin_lock;
 * readers find a device by RCU.
 * Compiled into the module and into the userspace unit tests.
 */
#include "gdl_core.h"

static bool gdl_device_same_pci(const struct gdl_device *d,
				const struct gdl_device_info *in)
{
	return d->vendor && in->vendor && d->pci_domain == in->pci_domain &&
	       d->pci_bdf == in->pci_bdf;
}

/* The entry with @in's PCI address, under admin_lock; NULL for none. */
static struct gdl_device *gdl_device_by_pci(struct gdl_ledger *l,
					    const struct gdl_device_info *in)
{
	struct gdl_device *d;
	u32 i;

	for (i = 0; i < GDL_MAX_DEVICES; i++) {
		d = gdl_device_locked(l, i);
		if (d && gdl_device_same_pci(d, in))
			return d;
	}
	return NULL;
}

static bool gdl_device_info_valid(const struct gdl_device_info *in)
{
	return gdl_name_valid(in->name, GDL_NAME_LEN, true) &&
	       in->pci_bdf <= 0xffff && in->capacity;
}

static void gdl_device_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct gdl_device, rcu));
}

/*
 * Forget @dev, under admin_lock: -EBUSY while it has reservations.  ACL
 * entries naming it go too, so that they cannot apply to a later device
 * in its slot.
 */
static int gdl_device_forget(struct gdl_ledger *l, struct gdl_device *dev)
{
	struct gdl_acl_set **purge;
	int ret;

	lockdep_assert_held(&l->admin_lock);
	ret = gdl_acl_purge_device_prepare(l, dev->index, &purge);
	if (ret)
		return ret;
	WRITE_ONCE(dev->dead, true);
	/* Pairs with the barrier in gdl_reserve(). */
	smp_mb();
	if (atomic64_read(&dev->nr_reservations)) {
		WRITE_ONCE(dev->dead, false);
		gdl_acl_purge_abort(l, purge);
		return -EBUSY;
	}
	RCU_INIT_POINTER(l->devices[dev->index], NULL);
	gdl_acl_purge_commit(l, purge);
	call_rcu(&dev->rcu, gdl_device_free_rcu);
	return 0;
}

/*
 * Every slot is taken: forget a discovered entry that left the bus and
 * holds nothing, and hand out its slot.  One that holds reservations
 * keeps its index, so that it comes back under it.  -ENOSPC for none.
 */
static int gdl_device_reclaim(struct gdl_ledger *l, u32 *free)
{
	struct gdl_device *d;
	u32 i;

	for (i = 0; i < GDL_MAX_DEVICES; i++) {
		d = gdl_device_locked(l, i);
		if (!d || !(d->flags & GDL_DEV_F_PCI) || !READ_ONCE(d->gone) ||
		    atomic64_read(&d->nr_reservations))
			continue;
		if (!gdl_device_forget(l, d)) {
			*free = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Publish @dev from @in in a free slot, under admin_lock. */
static int gdl_device_insert(struct gdl_ledger *l,
			     const struct gdl_device_info *in, u32 flags,
			     struct gdl_device *dev, u32 *index)
{
	u32 i, free = GDL_MAX_DEVICES, slot;

	lockdep_assert_held(&l->admin_lock);
	for (i = 0; i < GDL_MAX_DEVICES; i++) {
		struct gdl_device *d = gdl_device_locked(l, i);

		if (!d) {
			if (free == GDL_MAX_DEVICES)
				free = i;
			continue;
		}
		if (gdl_device_same_pci(d, in) ||
		    (in->name[0] && !strncmp(d->name, in->name, GDL_NAME_LEN)))
			return -EEXIST;
	}
	if (free == GDL_MAX_DEVICES && gdl_device_reclaim(l, &free))
		return -ENOSPC;

	dev->index = free;
	dev->flags = flags;
	dev->pci_domain = in->pci_domain;
	dev->pci_bdf = in->pci_bdf;
	dev->vendor = in->vendor;
	dev->device = in->device;
	memcpy(dev->name, in->name, sizeof(dev->name));
	memcpy(dev->uuid, in->uuid, sizeof(dev->uuid));
	dev->capacity = in->capacity;
	spin_lock_init(&dev->lock);
	seqcount_spinlock_init(&dev->seq, &dev->lock);
	dev->ranges = RB_ROOT;

	/*
	 * Every agent starts afresh on a new device, before anyone sees it.
	 * Usage and counts are not reset: they are 0 at rest, and a charge
	 * or release still in flight on the removed device (its count already
	 * 0) backs itself out here; resetting would leave it negative.
	 */
	for (slot = 1; slot < l->nr_slots; slot++) {
		struct gdl_agent *a = rcu_dereference_protected(l->agents[slot],
				lockdep_is_held(&l->admin_lock));

		if (a) {
			atomic64_set(&a->usage[free].peak, 0);
			atomic64_set(&a->usage[free].denied, 0);
			WRITE_ONCE(a->usage[free].quota, a->default_quota);
			a->peer_mask[free] = 0;
		}
	}
	rcu_assign_pointer(l->devices[free], dev);
	*index = free;
	return 0;
}

int gdl_device_add(struct gdl_ledger *l, const struct gdl_device_info *in,
		   u32 flags, u32 *index)
{
	struct gdl_device *dev;
	int ret;

	if (!gdl_device_info_valid(in))
		return -EINVAL;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	mutex_lock(&l->admin_lock);
	ret = gdl_device_insert(l, in, flags, dev, index);
	mutex_unlock(&l->admin_lock);
	if (ret)
		kfree(dev);
	return ret;
}

/*
 * Insert a function no entry has the address of, under admin_lock.  Its
 * name (the PCI address) may be another entry's, one an admin declared
 * without that address: the GPU is managed anyway, as "pci-" and its
 * name, or else unnamed, rather than left out (the caller logs it).
 */
static int gdl_device_plug_insert(struct gdl_ledger *l,
				  const struct gdl_device_info *in,
				  struct gdl_device *dev, u32 *index)
{
	size_t len = strnlen(in->name, sizeof(in->name));
	struct gdl_device_info alt;
	int ret;

	ret = gdl_device_insert(l, in, GDL_DEV_F_PCI, dev, index);
	if (ret != -EEXIST || !len)
		return ret;
	alt = *in;
	memset(alt.name, 0, sizeof(alt.name));
	if (len + 4 < sizeof(alt.name)) {
		memcpy(alt.name, "pci-", 4);
		memcpy(alt.name + 4, in->name, len);
		ret = gdl_device_insert(l, &alt, GDL_DEV_F_PCI, dev, index);
		if (ret != -EEXIST)
			return ret;
		memset(alt.name, 0, sizeof(alt.name));
	}
	return gdl_device_insert(l, &alt, GDL_DEV_F_PCI, dev, index);
}

/*
 * A PCI function that matches pci_ids is on the bus (found at load, or
 * hot-added).  An entry it left gone comes back live under the same
 * index, with its name, capacity, quotas, peer rights and ACL entries, so
 * that a driver rebind or a reset that re-enumerates the GPU loses no
 * policy.  Its ids are refreshed, in case another card took the slot.
 * Returns -EEXIST when the address is already managed (live, or declared
 * by an admin), so that discovery and the bus notifier may both see it;
 * a name taken by another entry is not a reason to leave it unmanaged.
 */
int gdl_device_plug(struct gdl_ledger *l, const struct gdl_device_info *in,
		    u32 *index)
{
	struct gdl_device *dev, *old;
	int ret;

	if (!gdl_device_info_valid(in) || !in->vendor)
		return -EINVAL;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	mutex_lock(&l->admin_lock);
	old = gdl_device_by_pci(l, in);
	if (old && (old->flags & GDL_DEV_F_PCI) && READ_ONCE(old->gone)) {
		WRITE_ONCE(old->vendor, in->vendor);
		WRITE_ONCE(old->device, in->device);
		WRITE_ONCE(old->gone, false);
		*index = old->index;
		gdl_event_emit(l, GDL_EVENT_DEVICE_BACK, 0, 0, old->index, 0,
			       0, 0);
		ret = 0;
	} else if (old) {
		ret = -EEXIST;
	} else {
		ret = gdl_device_plug_insert(l, in, dev, index);
		if (!ret)
			dev = NULL;
	}
	mutex_unlock(&l->admin_lock);
	kfree(dev);
	return ret;
}

/*
 * The PCI function at (@pci_domain, @pci_bdf) left the bus.  Its entry
 * stays, flagged gone: new reservations and DMA checks on it fail with
 * -ENODEV, existing reservations stay charged until their files release
 * them, and an admin may DEVICE_REMOVE it once they are.  Entries an admin
 * declared are the admin's: only discovered ones are marked.  Returns
 * -ENOENT when no live discovered entry has that address.
 */
int gdl_device_unplug(struct gdl_ledger *l, u32 pci_domain, u32 pci_bdf,
		      u32 *index)
{
	struct gdl_device_info key = {
		.pci_domain = pci_domain,
		.pci_bdf = pci_bdf,
		.vendor = 1,	/* any: the address alone identifies it */
	};
	struct gdl_device *d;
	int ret = -ENOENT;

	mutex_lock(&l->admin_lock);
	d = gdl_device_by_pci(l, &key);
	if (d && (d->flags & GDL_DEV_F_PCI) && !READ_ONCE(d->gone)) {
		WRITE_ONCE(d->gone, true);
		*index = d->index;
		gdl_event_emit(l, GDL_EVENT_DEVICE_GONE, 0, 0, d->index, 0, 0,
			       0);
		ret = 0;
	}
	mutex_unlock(&l->admin_lock);
	return ret;
}

int gdl_device_set(struct gdl_ledger *l, const struct gdl_device_set *s)
{
	struct gdl_device *dev;
	int ret = 0;
	u32 i;

	if (!s->mask || s->mask & ~(GDL_DEVSET_CAPACITY | GDL_DEVSET_NAME |
				    GDL_DEVSET_UUID))
		return -EINVAL;
	if ((s->mask & GDL_DEVSET_CAPACITY) && !s->capacity)
		return -EINVAL;
	if ((s->mask & GDL_DEVSET_NAME) &&
	    !gdl_name_valid(s->name, GDL_NAME_LEN, true))
		return -EINVAL;

	mutex_lock(&l->admin_lock);
	dev = gdl_device_locked(l, s->index);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	if ((s->mask & GDL_DEVSET_NAME) && s->name[0]) {
		for (i = 0; i < GDL_MAX_DEVICES; i++) {
			struct gdl_device *d = gdl_device_locked(l, i);

			if (d && d != dev &&
			    !strncmp(d->name, s->name, GDL_NAME_LEN)) {
				ret = -EEXIST;
				goto out;
			}
		}
	}
	/* Lowering below current use revokes nothing; new charges fail. */
	if (s->mask & GDL_DEVSET_CAPACITY)
		WRITE_ONCE(dev->capacity, s->capacity);
	/* Names and UUIDs are read under RCU: readers may see either. */
	if (s->mask & GDL_DEVSET_NAME)
		memcpy(dev->name, s->name, sizeof(dev->name));
	if (s->mask & GDL_DEVSET_UUID)
		memcpy(dev->uuid, s->uuid, sizeof(dev->uuid));
out:
	mutex_unlock(&l->admin_lock);
	return ret;
}

int gdl_device_remove(struct gdl_ledger *l, u32 index)
{
	struct gdl_device *dev;
	int ret;

	mutex_lock(&l->admin_lock);
	dev = gdl_device_locked(l, index);
	ret = dev ? gdl_device_forget(l, dev) : -ENODEV;
	mutex_unlock(&l->admin_lock);
	return ret;
}

int gdl_device_info(struct gdl_ledger *l, u32 index,
		    struct gdl_device_info *out)
{
	struct gdl_device *dev;

	if (index >= GDL_MAX_DEVICES)
		return -ENODEV;
	rcu_read_lock();
	dev = rcu_dereference(l->devices[index]);
	if (!dev) {
		rcu_read_unlock();
		return -ENODEV;
	}
	memset(out, 0, sizeof(*out));
	out->index = dev->index;
	out->flags = dev->flags;
	if (READ_ONCE(dev->gone))
		out->flags |= GDL_DEV_F_GONE;
	out->pci_domain = dev->pci_domain;
	out->pci_bdf = dev->pci_bdf;
	out->vendor = READ_ONCE(dev->vendor);
	out->device = READ_ONCE(dev->device);
	out->capacity = READ_ONCE(dev->capacity);
	out->used = atomic64_read(&dev->used);
	out->peak = atomic64_read(&dev->peak);
	out->nr_reservations = atomic64_read(&dev->nr_reservations);
	memcpy(out->name, dev->name, sizeof(out->name));
	out->name[GDL_NAME_LEN - 1] = '\0';
	memcpy(out->uuid, dev->uuid, sizeof(out->uuid));
	rcu_read_unlock();
	return 0;
}

/* The ledger's end (gdl_ledger_destroy): every entry, whatever its state. */
void gdl_devices_destroy(struct gdl_ledger *l)
{
	u32 i;

	for (i = 0; i < GDL_MAX_DEVICES; i++) {
		struct gdl_device *d = rcu_dereference_protected(l->devices[i],
								 1);

		if (!d)
			continue;
		RCU_INIT_POINTER(l->devices[i], NULL);
		call_rcu(&d->rcu, gdl_device_free_rcu);
	}
}

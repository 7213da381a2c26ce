// SPDX-License-Identifier: GPL-2.0
/*
 * PCI discovery: every PCI function matching the pci_ids parameter becomes
 * a managed device, whether it is on the bus when the module loads or is
 * hot-added later (a bus notifier).  One that leaves the bus stays in the
 * table, flagged gone, until its reservations are released and an admin
 * removes it; if it comes back at the same address first, it is live again
 * under the same index (gdl_device_plug() says why).
 *
 * The module does not bind to the GPU (its own driver does): it only
 * records what is there.  Capacity is left unlimited; an admin sets it
 * (BAR sizes say nothing reliable about device memory with resizable BARs).
 *
 * A function can leave the bus while the load-time walk holds a reference
 * to it.  The walk holds the PCI core's rescan/remove lock, which
 * hotplug controllers, sysfs remove and (Debian's 6.1 and 6.12, upstream
 * a5338e365c45) sysfs sriov_numvfs take; but a PF driver that disables
 * SR-IOV itself (its .remove, a devlink reload, an error handler) calls
 * pci_disable_sriov() under its device lock alone, and where
 * sriov_del_vfs() does not take the rescan lock (6.1, 6.12 and 7.3 alike)
 * nothing serialised that removal of the VFs against the walk: their
 * BUS_NOTIFY_DEL_DEVICE found no entry, and the walk then plugged them,
 * live for good (issue 22 item 10).  So the walk and the callbacks are
 * serialised by gdl_pci_lock, and while the walk runs the callbacks
 * record what left (gdl_pci_walk): the walk plugs no function recorded
 * as removed, and one removed after it was plugged is unplugged by the
 * callback as usual.
 *
 * Locking: the PCI core's rescan/remove lock, then gdl_pci_lock, then
 * the ledger's admin_lock.  Callbacks run in process context, under the
 * rescan lock or a PF's device lock (SR-IOV), which the walk never takes;
 * nothing holds gdl_pci_lock or admin_lock while waiting for the PCI
 * core.  Under admin_lock, a device gone or back is an event (the ring's
 * spinlock, then the readers' wait queue: neither sleeps).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>

#include "gdl_module.h"

#ifdef GDL_TEST_HOOKS
/*
 * Test builds only (GDL_TEST_HOOKS=y, tests/vm/sriov.sh): the load-time
 * walk sleeps this long between taking its reference to a matching
 * function and plugging it, so that a test can remove the function in
 * that window, which is otherwise a few instructions wide.
 */
static unsigned int walk_delay_ms;
module_param(walk_delay_ms, uint, 0444);
MODULE_PARM_DESC(walk_delay_ms,
		 "Test builds only: ms the load-time walk waits before plugging each matching function");

static void gdl_pci_walk_delay(void)
{
	if (walk_delay_ms)
		msleep(walk_delay_ms);
}
#else
static inline void gdl_pci_walk_delay(void)
{
}
#endif

/*
 * What left the bus while the load-time walk ran, under gdl_pci_lock.
 * Recording starts before the notifier is registered and ends with the
 * walk.  The record has a fixed size, allocated with the module, so that
 * a removal is never lost to an allocation failure in the callback; one
 * that does not fit sets overflow, and from then on the walk plugs
 * nothing it has not plugged yet (it cannot tell what left), says so,
 * and leaves those functions unmanaged until they are hot-added again or
 * the module is reloaded: a function missed is refused, a stale one
 * would be wrongly live.  Only functions matching pci_ids are recorded;
 * more of them leaving within one walk than fit is not expected.
 */
#define GDL_PCI_WALK_GONE_MAX	256

struct gdl_pci_addr {
	u32 domain;
	u16 devid;	/* PCI_DEVID(bus, devfn) */
};

static DEFINE_MUTEX(gdl_pci_lock);
static struct {
	bool active;
	bool overflow;
	unsigned int nr;
	struct gdl_pci_addr gone[GDL_PCI_WALK_GONE_MAX];
} gdl_pci_walk;

static struct gdl_pci_addr gdl_pci_addr_of(struct pci_dev *pdev)
{
	struct gdl_pci_addr a = {
		.domain = pci_domain_nr(pdev->bus),
		.devid = PCI_DEVID(pdev->bus->number, pdev->devfn),
	};

	return a;
}

static bool gdl_pci_walk_recorded(struct gdl_pci_addr a)
{
	unsigned int i;

	lockdep_assert_held(&gdl_pci_lock);
	for (i = 0; i < gdl_pci_walk.nr; i++)
		if (gdl_pci_walk.gone[i].domain == a.domain &&
		    gdl_pci_walk.gone[i].devid == a.devid)
			return true;
	return false;
}

static void gdl_pci_walk_record(struct gdl_pci_addr a)
{
	lockdep_assert_held(&gdl_pci_lock);
	if (gdl_pci_walk_recorded(a))
		return;
	if (gdl_pci_walk.nr < GDL_PCI_WALK_GONE_MAX)
		gdl_pci_walk.gone[gdl_pci_walk.nr++] = a;
	else
		gdl_pci_walk.overflow = true;
}

static bool gdl_pci_match(struct pci_dev *pdev)
{
	unsigned int i;

	for (i = 0; i < gdl_nr_pci_ids; i++) {
		const struct gdl_pci_id *id = &gdl_pci_ids[i];

		if (pdev->vendor != id->vendor)
			continue;
		if (id->device == GDL_PCI_ANY_DEVICE) {
			/* A bare vendor means its display controllers. */
			if ((pdev->class >> 16) == PCI_BASE_CLASS_DISPLAY)
				return true;
		} else if (pdev->device == id->device) {
			return true;
		}
	}
	return false;
}

static void gdl_pci_plug(struct pci_dev *pdev)
{
	struct gdl_device_info in;
	u32 index;
	int ret;

	if (!gdl_pci_match(pdev))
		return;
	memset(&in, 0, sizeof(in));
	in.pci_domain = pci_domain_nr(pdev->bus);
	in.pci_bdf = PCI_DEVID(pdev->bus->number, pdev->devfn);
	in.vendor = pdev->vendor;
	in.device = pdev->device;
	in.capacity = GDL_QUOTA_UNLIMITED;
	strscpy(in.name, pci_name(pdev), sizeof(in.name));
	ret = gdl_device_plug(&gdl_ledger, &in, &index);
	if (ret == -EEXIST)	/* seen by both the walk and the notifier */
		return;
	if (ret) {
		pci_warn(pdev, "not managed: error %d\n", ret);
		return;
	}
	/* Its address was another entry's name: say which name it got. */
	if (!gdl_device_info(&gdl_ledger, index, &in) &&
	    strcmp(in.name, pci_name(pdev)))
		pci_warn(pdev, "managed as gpu_dma_lock device %u named '%s': an admin's entry has the name %s\n",
			 index, in.name, pci_name(pdev));
	else
		pci_info(pdev, "managed as gpu_dma_lock device %u\n", index);
}

static void gdl_pci_unplug(struct pci_dev *pdev)
{
	u32 index;

	if (!gdl_pci_match(pdev) ||
	    gdl_device_unplug(&gdl_ledger, pci_domain_nr(pdev->bus),
			      PCI_DEVID(pdev->bus->number, pdev->devfn),
			      &index))
		return;
	pci_info(pdev, "gpu_dma_lock device %u is gone: its reservations stay until released\n",
		 index);
}

static int gdl_pci_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		mutex_lock(&gdl_pci_lock);
		gdl_pci_plug(pdev);
		mutex_unlock(&gdl_pci_lock);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		mutex_lock(&gdl_pci_lock);
		if (gdl_pci_walk.active && gdl_pci_match(pdev))
			gdl_pci_walk_record(gdl_pci_addr_of(pdev));
		gdl_pci_unplug(pdev);
		mutex_unlock(&gdl_pci_lock);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block gdl_pci_nb = {
	.notifier_call = gdl_pci_notify,
};

/*
 * The notifier first, then the walk: a function added in between is seen
 * twice (plugging is idempotent by address), none is missed.  The walk
 * holds the rescan/remove lock, so a function removed meanwhile by one
 * who takes it (hotplug controllers, sysfs remove) is either still listed
 * and not yet removed, or unlisted.  One removed without it (a PF driver
 * disabling SR-IOV) is recorded by the callback, under gdl_pci_lock,
 * before or while the walk looks at it, and not plugged; the walk's own
 * reference only keeps the struct, not the function, alive.
 *
 * What no lock or record closes: a removal whose BUS_NOTIFY_DEL_DEVICE
 * was delivered before the notifier was registered, and whose function
 * the walk still finds listed (device_del() unlists it just after the
 * notification); the PCI core's "added" flag that would tell is private.
 * That window is the PCI core's few instructions, not the walk's.
 */
int gdl_pci_init(void)
{
	struct pci_dev *pdev = NULL;
	unsigned int skipped = 0;
	int ret;

	mutex_lock(&gdl_pci_lock);
	gdl_pci_walk.active = true;
	gdl_pci_walk.overflow = false;
	gdl_pci_walk.nr = 0;
	mutex_unlock(&gdl_pci_lock);
	ret = bus_register_notifier(&pci_bus_type, &gdl_pci_nb);
	if (ret)
		goto out;
	pci_lock_rescan_remove();
	for_each_pci_dev(pdev) {
		if (!gdl_pci_match(pdev))
			continue;
		gdl_pci_walk_delay();
		mutex_lock(&gdl_pci_lock);
		if (gdl_pci_walk.overflow)
			skipped++;
		else if (!gdl_pci_walk_recorded(gdl_pci_addr_of(pdev)))
			gdl_pci_plug(pdev);
		mutex_unlock(&gdl_pci_lock);
	}
	pci_unlock_rescan_remove();
out:
	mutex_lock(&gdl_pci_lock);
	gdl_pci_walk.active = false;
	mutex_unlock(&gdl_pci_lock);
	if (skipped)
		pr_warn("more than %u matching PCI functions left the bus while the module loaded: %u it had not reached yet are not managed until they are hot-added again or the module is reloaded\n",
			GDL_PCI_WALK_GONE_MAX, skipped);
	return ret;
}

/* Before the ledger goes: returns once no callback is running. */
void gdl_pci_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &gdl_pci_nb);
}

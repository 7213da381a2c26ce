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
 * Notifier callbacks run in process context, mostly under the PCI core's
 * rescan/remove lock; they take admin_lock, which nothing holds while
 * waiting for the PCI core, so the order is always rescan lock, then
 * admin_lock.  Under it, a device gone or back is an event (the ring's
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
		gdl_pci_plug(pdev);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		gdl_pci_unplug(pdev);
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
 * holds the rescan/remove lock, so a function removed meanwhile through
 * sysfs or a hotplug controller is either still listed and not yet
 * removed, or unlisted: never added after its removal was notified.
 */
int gdl_pci_init(void)
{
	struct pci_dev *pdev = NULL;
	int ret;

	ret = bus_register_notifier(&pci_bus_type, &gdl_pci_nb);
	if (ret)
		return ret;
	pci_lock_rescan_remove();
	for_each_pci_dev(pdev) {
		if (!gdl_pci_match(pdev))
			continue;
		gdl_pci_walk_delay();
		gdl_pci_plug(pdev);
	}
	pci_unlock_rescan_remove();
	return 0;
}

/* Before the ledger goes: returns once no callback is running. */
void gdl_pci_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &gdl_pci_nb);
}

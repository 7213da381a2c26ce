// SPDX-License-Identifier: GPL-2.0
/*
 * PCI discovery: at load, every PCI function matching the pci_ids
 * parameter becomes a managed device.  The module does not bind to the
 * GPU (its own driver does): it only records what is there.  Capacity is
 * left unlimited; an admin sets it (BAR sizes say nothing reliable about
 * device memory with resizable BARs).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pci.h>

#include "gdl_module.h"

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

void gdl_pci_discover(struct gdl_ledger *l)
{
	struct pci_dev *pdev = NULL;
	struct gdl_device_info in;
	u32 index;
	int ret;

	for_each_pci_dev(pdev) {
		if (!gdl_pci_match(pdev))
			continue;
		memset(&in, 0, sizeof(in));
		in.pci_domain = pci_domain_nr(pdev->bus);
		in.pci_bdf = PCI_DEVID(pdev->bus->number, pdev->devfn);
		in.vendor = pdev->vendor;
		in.device = pdev->device;
		in.capacity = GDL_QUOTA_UNLIMITED;
		strscpy(in.name, pci_name(pdev), sizeof(in.name));
		ret = gdl_device_add(l, &in, GDL_DEV_F_PCI, &index);
		if (ret)
			pci_warn(pdev, "not managed: error %d\n", ret);
		else
			pci_info(pdev, "managed as gpu_dma_lock device %u\n",
				 index);
	}
}

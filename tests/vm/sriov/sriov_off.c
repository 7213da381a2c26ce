// SPDX-License-Identifier: GPL-2.0
/*
 * sriov_off: a throwaway test module, never shipped, that disables SR-IOV
 * on the PF named by pf= the way a PF driver does on its own (from its
 * .remove, a devlink reload, an error handler): pci_disable_sriov() under
 * the PF's device lock, without the PCI rescan/remove lock.  Through
 * sysfs, Debian's 6.1 and 6.12 take that lock around sriov_configure()
 * (upstream a5338e365c45, "PCI/IOV: Fix race between SR-IOV
 * enable/disable and hotplug"), so only a path like this one removes the
 * VFs while gpu_dma_lock's load-time walk holds the rescan lock
 * (tests/vm/sriov.sh).  The load fails (-EAGAIN) once it is done, so
 * nothing stays loaded; -ENODEV when pf= names no PF.
 */
#include <linux/device.h>
#include <linux/module.h>
#include <linux/pci.h>

static char pf[32];
module_param_string(pf, pf, sizeof(pf), 0444);
MODULE_PARM_DESC(pf, "the PF's address, DDDD:BB:DD.F");

static int __init sriov_off_init(void)
{
	unsigned int dom, bus, dev, fn;
	struct pci_dev *pdev;

	if (sscanf(pf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(dev, fn));
	if (!pdev)
		return -ENODEV;
	if (!pdev->is_physfn) {
		pci_dev_put(pdev);
		return -ENODEV;
	}
	device_lock(&pdev->dev);
	pci_disable_sriov(pdev);
	device_unlock(&pdev->dev);
	pci_dev_put(pdev);
	return -EAGAIN;
}
module_init(sriov_off_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test only: pci_disable_sriov() without the rescan lock");

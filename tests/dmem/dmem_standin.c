// SPDX-License-Identifier: GPL-2.0
/*
 * dmem_standin: a test-only stand-in for a GPU driver's memory manager,
 * never packaged.  It registers a dmem cgroup region for one PCI device,
 * named as a DRM driver names its VRAM ("drm/<pci>/vram0", as xe does),
 * and charges the calling process's cgroup through
 * dmem_cgroup_try_charge() on DMEM_STANDIN_CHARGE, the way xe and amdgpu
 * (through TTM) charge each allocation: past the cgroup's dmem.max the
 * charge fails with -EAGAIN.  Every charge of an open file is given back
 * on DMEM_STANDIN_UNCHARGE and when the file is closed.
 *
 *   insmod dmem_standin.ko pci=0000:00:04.0 [size=BYTES]
 *
 * It lets the tests show that the kernel, not the CUDA interposer,
 * refuses an allocation that bypasses libcuda (issue 24).  Needs a
 * kernel with CONFIG_CGROUP_DMEM (make check-debug's, tests/debug/).
 */
#include <linux/cgroup_dmem.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dmem_standin.h"

static char pci[32];
module_param_string(pci, pci, sizeof(pci), 0444);
MODULE_PARM_DESC(pci, "PCI address of the device whose region is registered");
static u64 size = 64ULL << 20;
module_param(size, ullong, 0444);
MODULE_PARM_DESC(size, "region size in bytes (default 64 MiB)");

static struct dmem_cgroup_region *region;

struct standin_charge {
	struct list_head node;
	struct dmem_cgroup_pool_state *pool;
	u64 bytes;
};

struct standin_file {
	struct mutex lock;		/* guards charges */
	struct list_head charges;
};

static int standin_open(struct inode *inode, struct file *f)
{
	struct standin_file *sf = kzalloc(sizeof(*sf), GFP_KERNEL);

	if (!sf)
		return -ENOMEM;
	mutex_init(&sf->lock);
	INIT_LIST_HEAD(&sf->charges);
	/* misc_open() left the miscdevice here: ours replaces it. */
	f->private_data = sf;
	return 0;
}

static void standin_uncharge_all(struct standin_file *sf)
{
	struct standin_charge *c, *tmp;

	mutex_lock(&sf->lock);
	list_for_each_entry_safe(c, tmp, &sf->charges, node) {
		dmem_cgroup_uncharge(c->pool, c->bytes);
		list_del(&c->node);
		kfree(c);
	}
	mutex_unlock(&sf->lock);
}

static int standin_release(struct inode *inode, struct file *f)
{
	struct standin_file *sf = f->private_data;

	standin_uncharge_all(sf);
	mutex_destroy(&sf->lock);
	kfree(sf);
	return 0;
}

static long standin_charge(struct standin_file *sf, u64 __user *arg)
{
	struct dmem_cgroup_pool_state *pool, *limit = NULL;
	struct standin_charge *c;
	u64 bytes;
	int ret;

	if (copy_from_user(&bytes, arg, sizeof(bytes)))
		return -EFAULT;
	if (!bytes)
		return -EINVAL;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	ret = dmem_cgroup_try_charge(region, bytes, &pool, &limit);
	if (ret) {
		/* The pool whose limit refused it, for eviction: none here. */
		if (limit)
			dmem_cgroup_pool_state_put(limit);
		kfree(c);
		return ret;
	}
	c->pool = pool;
	c->bytes = bytes;
	mutex_lock(&sf->lock);
	list_add(&c->node, &sf->charges);
	mutex_unlock(&sf->lock);
	return 0;
}

static long standin_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct standin_file *sf = f->private_data;

	switch (cmd) {
	case DMEM_STANDIN_CHARGE:
		return standin_charge(sf, (u64 __user *)arg);
	case DMEM_STANDIN_UNCHARGE:
		standin_uncharge_all(sf);
		return 0;
	}
	return -ENOTTY;
}

static const struct file_operations standin_fops = {
	.owner = THIS_MODULE,
	.open = standin_open,
	.release = standin_release,
	.unlocked_ioctl = standin_ioctl,
};

static struct miscdevice standin_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "dmem_standin",
	.fops = &standin_fops,
	.mode = 0666,
};

static int __init standin_init(void)
{
	struct dmem_cgroup_init init = { .size = size };
	unsigned int domain, bus, dev, fn;
	struct pci_dev *pdev;
	int ret;

	if (sscanf(pci, "%x:%x:%x.%x", &domain, &bus, &dev, &fn) != 4)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(dev, fn));
	if (!pdev)
		return -ENODEV;
	region = dmem_cgroup_register_region(&init, "drm/%s/vram0",
					     pci_name(pdev));
	pci_dev_put(pdev);
	if (IS_ERR_OR_NULL(region))
		return region ? PTR_ERR(region) : -EOPNOTSUPP;
	ret = misc_register(&standin_misc);
	if (ret)
		dmem_cgroup_unregister_region(region);
	return ret;
}

static void __exit standin_exit(void)
{
	misc_deregister(&standin_misc);
	dmem_cgroup_unregister_region(region);
}

module_init(standin_init);
module_exit(standin_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only GPU driver stand-in charging the dmem cgroup controller");

// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/gpu_dma_lock/: the ledger for people and scripts.
 *
 * Each file is a table with a header row and whitespace-separated columns
 * that only ever gain columns at the end.  version, devices and stats are
 * world-readable (no tenant data); agents, bindings, acl and holders are
 * root-only (0400): they name every tenant and its usage, and a tenant reads its own
 * account through GDL_IOC_QUOTA_GET instead.  check (root-writable) is the seed
 * prototype's way of asking for a DMA check, kept so that benchmarks can
 * compare it with the ioctl in one run.
 */
#include <linux/capability.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "gdl_module.h"
#include "gdl_stat_names.h"

static struct proc_dir_entry *gdl_proc_dir;

static int gdl_proc_version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "gpu_dma_lock %s abi %u.%u\n", GDL_VERSION,
		   GDL_ABI_MAJOR, GDL_ABI_MINOR);
	return 0;
}

static void gdl_proc_u64(struct seq_file *m, u64 v)
{
	if (v == GDL_QUOTA_UNLIMITED)
		seq_puts(m, " unlimited");
	else
		seq_printf(m, " %llu", v);
}

static int gdl_proc_devices_show(struct seq_file *m, void *v)
{
	struct gdl_device_info d;
	u32 i;

	seq_puts(m, "index name pci vendor device capacity used peak reservations source state\n");
	for (i = 0; i < GDL_MAX_DEVICES; i++) {
		if (gdl_device_info(&gdl_ledger, i, &d))
			continue;
		seq_printf(m, "%u %s", d.index, d.name[0] ? d.name : "-");
		if (d.vendor)
			seq_printf(m, " %04x:%02x:%02x.%u %04x %04x",
				   d.pci_domain, d.pci_bdf >> 8,
				   (d.pci_bdf >> 3) & 0x1f, d.pci_bdf & 7,
				   d.vendor, d.device);
		else
			seq_puts(m, " - - -");
		gdl_proc_u64(m, d.capacity);
		seq_printf(m, " %llu %llu %llu %s %s\n", d.used, d.peak,
			   d.nr_reservations,
			   d.flags & GDL_DEV_F_PCI ? "pci" : "manual",
			   d.flags & GDL_DEV_F_GONE ? "gone" : "live");
	}
	return 0;
}

/* @a's rows, one per device present; under rcu_read_lock(). */
static void gdl_proc_agent_rows(struct seq_file *m, struct gdl_ledger *l,
				struct gdl_agent *a, const char *state)
{
	u32 d;

	for (d = 0; d < GDL_MAX_DEVICES; d++) {
		struct gdl_usage *u = &a->usage[d];
		u64 quota = READ_ONCE(u->quota);
		u64 usage = atomic64_read(&u->usage);

		if (!rcu_access_pointer(l->devices[d]))
			continue;
		seq_printf(m, "%u %s %u", a->id, a->name, d);
		gdl_proc_u64(m, quota);
		/* The agent's shares, on each of its rows, then its state. */
		seq_printf(m, " %llu %lld %lld %lld %s %u %u %s\n", usage,
			   atomic64_read(&u->peak),
			   atomic64_read(&u->nr_reservations),
			   atomic64_read(&u->denied),
			   usage > quota ? "yes" : "no",
			   READ_ONCE(a->max_reservations),
			   READ_ONCE(a->max_acl_entries), state);
	}
}

/*
 * Live agents, then destroyed ones that something still references
 * (reservations charged to them, keys, attached handles): whatever holds
 * memory stays visible until it is released.
 */
static int gdl_proc_agents_show(struct seq_file *m, void *v)
{
	struct gdl_ledger *l = &gdl_ledger;
	struct gdl_agent *a;
	u32 slot;

	seq_puts(m, "id name device quota usage peak reservations denied over max_reservations max_acl_entries state\n");
	rcu_read_lock();
	for (slot = 1; slot < l->nr_slots; slot++) {
		a = rcu_dereference(l->agents[slot]);
		if (a)
			gdl_proc_agent_rows(m, l, a, "live");
	}
	spin_lock(&l->dead_lock);
	list_for_each_entry(a, &l->dead_agents, dead_node)
		gdl_proc_agent_rows(m, l, a, "destroyed");
	spin_unlock(&l->dead_lock);
	rcu_read_unlock();
	return 0;
}

static int gdl_proc_holders_show(struct seq_file *m, void *v)
{
	gdl_holders_show(m);
	return 0;
}

static int gdl_proc_bindings_show(struct seq_file *m, void *v)
{
	gdl_bind_show(m);
	return 0;
}

static void gdl_proc_rights(struct seq_file *m, u32 rights)
{
	seq_printf(m, " %s%s%s", rights & GDL_ACCESS_READ ? "r" : "",
		   rights & GDL_ACCESS_WRITE ? "w" : "",
		   rights & GDL_ACCESS_PEER ? "p" : "");
}

static int gdl_proc_acl_show(struct seq_file *m, void *v)
{
	struct gdl_ledger *l = &gdl_ledger;
	u32 slot, i;

	seq_puts(m, "agent owner device rights peer addr len\n");
	rcu_read_lock();
	for (slot = 1; slot < l->nr_slots; slot++) {
		struct gdl_agent *a = rcu_dereference(l->agents[slot]);
		struct gdl_acl_set *set = a ? rcu_dereference(a->acl) : NULL;

		for (i = 0; set && i < set->nr; i++) {
			const struct gdl_acl_node *n = &set->node[i];

			seq_printf(m, "%u %u %u", a->id, n->owner, n->dev);
			gdl_proc_rights(m, n->rights);
			if (n->rights & GDL_ACCESS_PEER)
				seq_printf(m, " %u - -\n", n->peer);
			else
				seq_printf(m, " - 0x%llx %llu\n", n->start,
					   n->end - n->start);
		}
	}
	rcu_read_unlock();
	return 0;
}

static const char * const gdl_stat_names[GDL_STAT_NR] = GDL_STAT_NAMES_INIT;

static int gdl_proc_stats_show(struct seq_file *m, void *v)
{
	struct gdl_stats s;
	u32 i;

	/*
	 * The walk over every file is the admin's, decided by who opened
	 * this file, as the kernel's own interfaces do, not by who reads it
	 * (a root exporter reading a tenant's file makes no walk).
	 */
	gdl_stats_snapshot(&gdl_ledger, &s,
			   file_ns_capable(m->file, &init_user_ns,
					   CAP_SYS_ADMIN));
	seq_puts(m, "name value\n");
	for (i = 0; i < GDL_STAT_NR; i++)
		seq_printf(m, "%s %llu\n", gdl_stat_names[i], s.counters[i]);
	seq_printf(m, "enforce %d\n", gdl_enforcing(&gdl_ledger));
	/* Kernel memory per object, as allocated (slab bucket sizes). */
	seq_printf(m, "mem_bytes_per_agent %zu\n",
		   kmalloc_size_roundup(sizeof(struct gdl_agent)));
	seq_printf(m, "mem_bytes_per_reservation %zu\n",
		   kmalloc_size_roundup(sizeof(struct gdl_reservation)));
	seq_printf(m, "mem_bytes_per_acl_entry %zu\n",
		   sizeof(struct gdl_acl_node));
	return 0;
}

/* /proc/gpu_dma_lock/check: write "DEV ADDR LEN RIGHTS", read the verdict. */
struct gdl_proc_check {
	char out[32];
	size_t len;
};

static int gdl_proc_check_open(struct inode *inode, struct file *file)
{
	struct gdl_proc_check *pc = kzalloc(sizeof(*pc), GFP_KERNEL);

	file->private_data = pc;
	return pc ? 0 : -ENOMEM;
}

static int gdl_proc_check_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t gdl_proc_check_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	struct gdl_proc_check *pc = file->private_data;
	struct gdl_dma_check c = { 0 };
	struct gdl_agent *a;
	char buf[96], rights[4];
	u32 bound_by;
	int ret;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%u %llx %llu %3s", &c.dev_index, &c.addr, &c.len,
		   rights) != 4)
		return -EINVAL;
	if (gdl_parse_rights(rights, &c.access))
		return -EINVAL;
	/* As the seed did: the caller resolved afresh on every check. */
	rcu_read_lock();
	a = gdl_agent_rcu(&gdl_ledger,
			  gdl_resolve_id(&gdl_ledger, NULL, &bound_by));
	ret = a ? gdl_dma_check(&gdl_ledger, a, &c) : -ENOLINK;
	rcu_read_unlock();
	pc->len = scnprintf(pc->out, sizeof(pc->out), "%s %d\n",
			    ret ? "deny" : "allow", ret);
	return len;
}

static ssize_t gdl_proc_check_read(struct file *file, char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	struct gdl_proc_check *pc = file->private_data;

	return simple_read_from_buffer(ubuf, len, ppos, pc->out, pc->len);
}

static const struct proc_ops gdl_proc_check_ops = {
	.proc_open = gdl_proc_check_open,
	.proc_release = gdl_proc_check_release,
	.proc_read = gdl_proc_check_read,
	.proc_write = gdl_proc_check_write,
	.proc_lseek = noop_llseek,
};

int gdl_proc_init(void)
{
	gdl_proc_dir = proc_mkdir("gpu_dma_lock", NULL);
	if (!gdl_proc_dir)
		return -ENOMEM;
	if (!proc_create_single("version", 0444, gdl_proc_dir,
				gdl_proc_version_show) ||
	    !proc_create_single("devices", 0444, gdl_proc_dir,
				gdl_proc_devices_show) ||
	    !proc_create_single("agents", 0400, gdl_proc_dir,
				gdl_proc_agents_show) ||
	    !proc_create_single("bindings", 0400, gdl_proc_dir,
				gdl_proc_bindings_show) ||
	    !proc_create_single("acl", 0400, gdl_proc_dir,
				gdl_proc_acl_show) ||
	    !proc_create_single("holders", 0400, gdl_proc_dir,
				gdl_proc_holders_show) ||
	    !proc_create_single("stats", 0444, gdl_proc_dir,
				gdl_proc_stats_show) ||
	    !proc_create("check", 0644, gdl_proc_dir, &gdl_proc_check_ops)) {
		proc_remove(gdl_proc_dir);
		return -ENOMEM;
	}
	return 0;
}

void gdl_proc_exit(void)
{
	proc_remove(gdl_proc_dir);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * gpu_dma_lock: module init/exit and parameters.
 *
 * Parameters are fleet defaults, normally set in modprobe.d.  Every one is
 * validated when the module loads: a bad value refuses the load with a
 * message naming the parameter, rather than running with a guess.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "gdl_module.h"

struct gdl_ledger gdl_ledger;
static bool gdl_ledger_ready;

static unsigned long long default_quota = 1ULL << 30;
static enum gdl_policy default_policy = GDL_POLICY_DENY;
static unsigned int max_agents = 1024;
static unsigned int max_reservations = 1U << 20;
static unsigned int max_acl_entries = 1U << 20;
/* One agent's share; 0: a sixteenth of the pool, so no flood fills it. */
static unsigned int max_reservations_per_agent;
static unsigned int max_acl_entries_per_agent;
static bool enforce = true;
static char pci_ids_str[128] = "10de,1002";
struct gdl_pci_id gdl_pci_ids[GDL_PCI_IDS_MAX];
unsigned int gdl_nr_pci_ids;
/*
 * Character devices whose open files may be GDL_SHARE_KEY_FD keys: 195 is
 * the NVIDIA driver's (/dev/nvidiactl, /dev/nvidiaN), which hands out the
 * fds of cuMemExportToShareableHandle().  gdl_ioctl.c says why no other.
 */
static char key_majors_str[64] = "195";
unsigned int gdl_key_majors[GDL_KEY_MAJORS_MAX];
unsigned int gdl_nr_key_majors;

/* default_quota: a size with an optional K/M/G/T suffix, or "unlimited". */
static int gdl_param_set_size(const char *val, const struct kernel_param *kp)
{
	unsigned long long v;

	if (gdl_parse_size(val, &v)) {
		pr_err("%s: '%s' is not a size (examples: 0, 512M, 16G, unlimited)\n",
		       kp->name, val);
		return -EINVAL;
	}
	*(unsigned long long *)kp->arg = v;
	return 0;
}

static int gdl_param_get_size(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%llu\n", *(unsigned long long *)kp->arg);
}

static const struct kernel_param_ops gdl_size_ops = {
	.set = gdl_param_set_size,
	.get = gdl_param_get_size,
};

static int gdl_param_set_policy(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "deny")) {
		default_policy = GDL_POLICY_DENY;
	} else if (sysfs_streq(val, "default")) {
		default_policy = GDL_POLICY_DEFAULT;
	} else {
		pr_err("default_policy: '%s' is neither 'deny' nor 'default'\n",
		       val);
		return -EINVAL;
	}
	return 0;
}

static int gdl_param_get_policy(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", default_policy == GDL_POLICY_DENY ?
			  "deny" : "default");
}

static const struct kernel_param_ops gdl_policy_ops = {
	.set = gdl_param_set_policy,
	.get = gdl_param_get_policy,
};

/* Bounded unsigned ints; the bounds travel in kp->arg's neighbour. */
struct gdl_uint_param {
	unsigned int *val;
	unsigned int min;
	unsigned int max;
};

static int gdl_param_set_uint(const char *val, const struct kernel_param *kp)
{
	const struct gdl_uint_param *p = kp->arg;
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < p->min || v > p->max) {
		pr_err("%s: '%s' is not a number from %u to %u\n", kp->name,
		       val, p->min, p->max);
		return -EINVAL;
	}
	*p->val = v;
	return 0;
}

static int gdl_param_get_uint(char *buf, const struct kernel_param *kp)
{
	const struct gdl_uint_param *p = kp->arg;

	return sysfs_emit(buf, "%u\n", *p->val);
}

static const struct kernel_param_ops gdl_uint_ops = {
	.set = gdl_param_set_uint,
	.get = gdl_param_get_uint,
};

/* enforce may be flipped at run time: audit first, then enforce. */
static int gdl_param_set_enforce(const char *val, const struct kernel_param *kp)
{
	bool v;

	if (kstrtobool(val, &v)) {
		pr_err("enforce: '%s' is not 0 or 1\n", val);
		return -EINVAL;
	}
	enforce = v;
	if (gdl_ledger_ready)
		WRITE_ONCE(gdl_ledger.params.enforce, v);
	return 0;
}

static int gdl_param_get_enforce(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", enforce);
}

static const struct kernel_param_ops gdl_enforce_ops = {
	.set = gdl_param_set_enforce,
	.get = gdl_param_get_enforce,
};

static int gdl_param_set_pci_ids(const char *val, const struct kernel_param *kp)
{
	struct gdl_pci_id ids[GDL_PCI_IDS_MAX];
	unsigned int nr;

	if (strlen(val) >= sizeof(pci_ids_str) ||
	    gdl_parse_pci_ids(val, ids, GDL_PCI_IDS_MAX, &nr)) {
		pr_err("pci_ids: '%s' is not a list of up to %u hex vendor[:device] ids (example: 10de,1002,1234:11e8)\n",
		       val, GDL_PCI_IDS_MAX);
		return -EINVAL;
	}
	strscpy(pci_ids_str, val, sizeof(pci_ids_str));
	strim(pci_ids_str);
	memcpy(gdl_pci_ids, ids, sizeof(ids));
	gdl_nr_pci_ids = nr;
	return 0;
}

static const struct kernel_param_ops gdl_pci_ids_ops = {
	.set = gdl_param_set_pci_ids,
	.get = param_get_string,
};

static struct kparam_string gdl_pci_ids_kps = {
	.maxlen = sizeof(pci_ids_str),
	.string = pci_ids_str,
};

static int gdl_param_set_key_majors(const char *val,
				    const struct kernel_param *kp)
{
	unsigned int majors[GDL_KEY_MAJORS_MAX], nr;

	if (strlen(val) >= sizeof(key_majors_str) ||
	    gdl_parse_majors(val, majors, GDL_KEY_MAJORS_MAX, &nr)) {
		pr_err("share_key_majors: '%s' is not a list of up to %u character-device majors from 1 to %u (example: 195,509)\n",
		       val, GDL_KEY_MAJORS_MAX, GDL_MAJOR_MAX);
		return -EINVAL;
	}
	strscpy(key_majors_str, val, sizeof(key_majors_str));
	strim(key_majors_str);
	memcpy(gdl_key_majors, majors, sizeof(majors));
	gdl_nr_key_majors = nr;
	return 0;
}

static const struct kernel_param_ops gdl_key_majors_ops = {
	.set = gdl_param_set_key_majors,
	.get = param_get_string,
};

static struct kparam_string gdl_key_majors_kps = {
	.maxlen = sizeof(key_majors_str),
	.string = key_majors_str,
};

static struct gdl_uint_param gdl_max_agents_p = {
	&max_agents, 1, GDL_MAX_AGENTS_LIMIT
};

static struct gdl_uint_param gdl_max_res_p = {
	&max_reservations, 1, 1U << 26
};

static struct gdl_uint_param gdl_max_acl_p = {
	&max_acl_entries, 1, 1U << 26
};

static struct gdl_uint_param gdl_agent_max_res_p = {
	&max_reservations_per_agent, 0, 1U << 26
};

static struct gdl_uint_param gdl_agent_max_acl_p = {
	&max_acl_entries_per_agent, 0, 1U << 26
};

module_param_cb(default_quota, &gdl_size_ops, &default_quota, 0444);
MODULE_PARM_DESC(default_quota,
		 "Quota per device of the default agent (K/M/G/T suffixes, 'unlimited'; default 1G)");
module_param_cb(default_policy, &gdl_policy_ops, NULL, 0444);
MODULE_PARM_DESC(default_policy,
		 "Callers bound to no agent: 'deny' (default) or 'default' (use the default agent)");
module_param_cb(max_agents, &gdl_uint_ops, &gdl_max_agents_p, 0444);
MODULE_PARM_DESC(max_agents, "Most agents at once (1-65534; default 1024)");
module_param_cb(max_reservations, &gdl_uint_ops, &gdl_max_res_p, 0444);
MODULE_PARM_DESC(max_reservations,
		 "Most live reservations, shared-reservation keys and attached handles, all files together (default 1048576)");
module_param_cb(max_acl_entries, &gdl_uint_ops, &gdl_max_acl_p, 0444);
MODULE_PARM_DESC(max_acl_entries,
		 "Most grants by agents, all together, and most admin ACL entries (default 1048576 each)");
module_param_cb(max_reservations_per_agent, &gdl_uint_ops,
		&gdl_agent_max_res_p, 0444);
MODULE_PARM_DESC(max_reservations_per_agent,
		 "Most live reservations of one agent, unless an admin set its own (at most max_reservations; default 0: a sixteenth of it)");
module_param_cb(max_acl_entries_per_agent, &gdl_uint_ops,
		&gdl_agent_max_acl_p, 0444);
MODULE_PARM_DESC(max_acl_entries_per_agent,
		 "Most ACL entries one agent may own (its grants), unless an admin set its own (at most max_acl_entries; default 0: a sixteenth of it)");
module_param_cb(enforce, &gdl_enforce_ops, NULL, 0644);
MODULE_PARM_DESC(enforce,
		 "1: refuse over-quota reservations and denied DMA (default); 0: audit only");
module_param_cb(pci_ids, &gdl_pci_ids_ops, &gdl_pci_ids_kps, 0444);
MODULE_PARM_DESC(pci_ids,
		 "PCI devices to manage: hex vendor[:device] list; a bare vendor means its display controllers (default 10de,1002)");
module_param_cb(share_key_majors, &gdl_key_majors_ops, &gdl_key_majors_kps,
		0444);
MODULE_PARM_DESC(share_key_majors,
		 "Character devices whose files may be fd keys of shared reservations: decimal majors (default 195, NVIDIA; empty: none)");

static int __init gdl_init(void)
{
	struct gdl_params p = {
		.default_quota = default_quota,
		.max_agents = max_agents,
		.max_reservations = max_reservations,
		.max_acl_entries = max_acl_entries,
		.agent_max_reservations =
			gdl_default_share(max_reservations_per_agent,
					  max_reservations),
		.agent_max_acl_entries =
			gdl_default_share(max_acl_entries_per_agent,
					  max_acl_entries),
		.enforce = enforce,
		.policy = default_policy,
	};
	int ret;

	/* The default list, when modprobe.d set none. */
	if (!gdl_nr_pci_ids &&
	    gdl_parse_pci_ids(pci_ids_str, gdl_pci_ids, GDL_PCI_IDS_MAX,
			      &gdl_nr_pci_ids))
		return -EINVAL;
	if (!gdl_nr_key_majors && key_majors_str[0] &&
	    gdl_parse_majors(key_majors_str, gdl_key_majors,
			     GDL_KEY_MAJORS_MAX, &gdl_nr_key_majors))
		return -EINVAL;

	ret = gdl_ledger_init(&gdl_ledger, &p);
	if (ret)
		return ret;
	gdl_ledger_ready = true;
	ret = gdl_pci_init();
	if (ret)
		goto err_ledger;

	ret = gdl_proc_init();
	if (ret)
		goto err_pci;
	ret = gdl_chardev_init();
	if (ret)
		goto err_proc;
	pr_info("version %s loaded: %s, policy %s, default_quota %llu\n",
		GDL_VERSION, enforce ? "enforcing" : "audit only",
		default_policy == GDL_POLICY_DENY ? "deny" : "default",
		default_quota);
	return 0;

err_proc:
	gdl_proc_exit();
err_pci:
	gdl_pci_exit();
err_ledger:
	gdl_ledger_ready = false;
	gdl_bind_exit(&gdl_ledger);
	gdl_ledger_destroy(&gdl_ledger);
	return ret;
}

static void __exit gdl_exit(void)
{
	/* No file is open: the module reference of each open file saw to it. */
	gdl_chardev_exit();
	gdl_proc_exit();
	/* No callback may reach the ledger while it is torn down. */
	gdl_pci_exit();
	gdl_ledger_ready = false;
	gdl_bind_exit(&gdl_ledger);
	gdl_ledger_destroy(&gdl_ledger);
}

module_init(gdl_init);
module_exit(gdl_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("gpu-dma-lock developers");
MODULE_DESCRIPTION("GPU memory quotas and DMA access control for shared nodes");
MODULE_VERSION(GDL_VERSION);

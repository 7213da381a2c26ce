// SPDX-License-Identifier: GPL-2.0
/*
 * Lists and name resolution through the kernel, shared by the subcommands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

typedef int list_fn(struct gdlock *g, uint32_t agent, void *buf,
		    unsigned int cap);

/*
 * A snapshot of a list: the kernel says how many exist, then fills a
 * buffer with one spare.  Objects created between the two calls are
 * missed, which is fine for a snapshot.
 */
static int ctl_list(struct gdlock *g, uint32_t agent, size_t esize,
		    list_fn *fn, void **out)
{
	int n = fn(g, agent, NULL, 0), m;
	void *buf;

	*out = NULL;
	if (n < 0)
		return n;
	buf = calloc(n + 1, esize);
	if (!buf)
		return -ENOMEM;
	m = fn(g, agent, buf, n + 1);
	if (m < 0) {
		free(buf);
		return m;
	}
	*out = buf;
	return m < n + 1 ? m : n + 1;
}

static int devices_fn(struct gdlock *g, uint32_t agent, void *buf,
		      unsigned int cap)
{
	(void)agent;
	return gdlock_device_list(g, buf, cap);
}

static int agents_fn(struct gdlock *g, uint32_t agent, void *buf,
		     unsigned int cap)
{
	(void)agent;
	return gdlock_agent_list(g, buf, cap);
}

static int agents_all_fn(struct gdlock *g, uint32_t agent, void *buf,
			 unsigned int cap)
{
	(void)agent;
	return gdlock_agent_list_flags(g, GDL_LIST_F_DESTROYED, buf, cap);
}

static int acls_fn(struct gdlock *g, uint32_t agent, void *buf,
		   unsigned int cap)
{
	return gdlock_acl_list(g, agent, buf, cap);
}

static int bindings_fn(struct gdlock *g, uint32_t agent, void *buf,
		       unsigned int cap)
{
	return gdlock_binding_list(g, agent, buf, cap);
}

int ctl_devices(struct gdlock *g, struct gdl_device_info **out)
{
	void *p;
	int n = ctl_list(g, 0, sizeof(**out), devices_fn, &p);

	*out = p;
	return n;
}

int ctl_agents(struct gdlock *g, struct gdl_agent_info **out)
{
	void *p;
	int n = ctl_list(g, 0, sizeof(**out), agents_fn, &p);

	*out = p;
	return n;
}

int ctl_agents_all(struct gdlock *g, struct gdl_agent_info **out)
{
	void *p;
	int n = ctl_list(g, 0, sizeof(**out), agents_all_fn, &p);

	/* A module before ABI 1.4 refuses the flag: it lists no dead. */
	if (n == -EINVAL)
		return ctl_agents(g, out);
	*out = p;
	return n;
}

int ctl_acls(struct gdlock *g, uint32_t agent, struct gdl_acl_entry **out)
{
	void *p;
	int n = ctl_list(g, agent, sizeof(**out), acls_fn, &p);

	*out = p;
	return n;
}

int ctl_bindings(struct gdlock *g, uint32_t agent,
		 struct gdl_binding_info **out)
{
	void *p;
	int n = ctl_list(g, agent, sizeof(**out), bindings_fn, &p);

	*out = p;
	return n;
}

int ctl_resolve_device(struct gdlock *g, const char *sel, uint32_t *index)
{
	struct gdl_device_info *d;
	int n = ctl_devices(g, &d), i;

	if (n < 0)
		return ctl_err(n, "listing devices");
	i = gdlu_find_device(d, n, sel);
	if (i >= 0)
		*index = d[i].index;
	free(d);
	if (i < 0) {
		fprintf(stderr, "no device '%s': see 'gpu-dma-lock-ctl device list'\n",
			sel);
		return EXIT_USAGE;
	}
	return 0;
}

static int resolve_agent(struct gdlock *g, const char *sel, uint32_t *id,
			 bool dead)
{
	struct gdl_agent_info *a;
	int n = dead ? ctl_agents_all(g, &a) : ctl_agents(g, &a), i;

	if (n < 0)
		return ctl_err(n, "listing agents");
	i = ctl_find_agent(a, n, sel);
	if (i >= 0)
		*id = a[i].id;
	free(a);
	if (i < 0) {
		fprintf(stderr, "no agent '%s': see 'gpu-dma-lock-ctl agent list'\n",
			sel);
		return EXIT_USAGE;
	}
	return 0;
}

int ctl_quota_get(struct gdlock *g, uint32_t id, uint32_t dev,
		  struct gdl_quota *q)
{
	int ret = gdlock_quota_get_flags(g, id, dev, GDL_QUOTA_F_DESTROYED, q);

	/* A module before ABI 1.4 refuses the flag: ask as before. */
	if (ret == -EINVAL)
		ret = gdlock_quota_get(g, id, dev, q);
	return ret;
}

uint64_t ctl_agent_used(struct gdlock *g, const struct gdl_device_info *d,
			int nd, uint32_t id)
{
	struct gdl_quota q;
	uint64_t sum = 0;
	int i;

	for (i = 0; i < nd; i++)
		if (!ctl_quota_get(g, id, d[i].index, &q))
			sum += q.usage;
	return sum;
}

int ctl_resolve_agent(struct gdlock *g, const char *sel, uint32_t *id)
{
	return resolve_agent(g, sel, id, false);
}

/* Live agents first, so a name finds the live one, never a namesake. */
int ctl_resolve_agent_all(struct gdlock *g, const char *sel, uint32_t *id)
{
	return resolve_agent(g, sel, id, true);
}

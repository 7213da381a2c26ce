// SPDX-License-Identifier: GPL-2.0
/*
 * Lists and name resolution through the kernel, shared by the subcommands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/*
 * The kernel says how many exist; objects created between the two calls
 * are missed, which is fine for a snapshot.
 */
#define CTL_LIST(fnname, type, call)					\
int fnname(struct gdlock *g, type **out)				\
{									\
	type *buf;							\
	int n = call(g, NULL, 0), m;					\
									\
	*out = NULL;							\
	if (n < 0)							\
		return n;						\
	buf = calloc(n + 1, sizeof(*buf));				\
	if (!buf)							\
		return -ENOMEM;						\
	m = call(g, buf, n + 1);					\
	if (m < 0) {							\
		free(buf);						\
		return m;						\
	}								\
	*out = buf;							\
	return m < n + 1 ? m : n + 1;					\
}

CTL_LIST(ctl_devices, struct gdl_device_info, gdlock_device_list)
CTL_LIST(ctl_agents, struct gdl_agent_info, gdlock_agent_list)

int ctl_acls(struct gdlock *g, uint32_t agent, struct gdl_acl_entry **out)
{
	struct gdl_acl_entry *buf;
	int n = gdlock_acl_list(g, agent, NULL, 0), m;

	*out = NULL;
	if (n < 0)
		return n;
	buf = calloc(n + 1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	m = gdlock_acl_list(g, agent, buf, n + 1);
	if (m < 0) {
		free(buf);
		return m;
	}
	*out = buf;
	return m < n + 1 ? m : n + 1;
}

int ctl_resolve_device(struct gdlock *g, const char *sel, uint32_t *index)
{
	struct gdl_device_info *d;
	int n = ctl_devices(g, &d), i;

	if (n < 0)
		return ctl_err(n, "listing devices");
	i = ctl_find_device(d, n, sel);
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

int ctl_resolve_agent(struct gdlock *g, const char *sel, uint32_t *id)
{
	struct gdl_agent_info *a;
	int n = ctl_agents(g, &a), i;

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

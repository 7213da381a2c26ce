// SPDX-License-Identifier: GPL-2.0
/*
 * Argument parsing and formatting shared by the subcommands: pure
 * functions, unit-tested on the host (tests/ctl/unit).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/*
 * The most serious first: absent, unhealthy, permission, stale.  Not the
 * codes' numeric order (permission is 4, unhealthy 5): a broken module is
 * worth more to know than that this user may not look at it.
 */
bool ctl_status_worse(int a, int b)
{
	static const int order[] = { EXIT_ABSENT, EXIT_UNHEALTHY, EXIT_PERM,
				     EXIT_STALE };
	unsigned int i, ra = 99, rb = 99;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == a)
			ra = i;
		if (order[i] == b)
			rb = i;
	}
	return ra < rb;
}

/* The module's own parser, so "16G" means what it means to the module. */
int ctl_parse_size(const char *s, uint64_t *out)
{
	if (s && *s && s[strlen(s) - 1] == '\n')
		return -EINVAL;	/* the shared parser allows it for sysfs */
	return gdlock_parse_size(s, out);
}

/* Any of r, w, p, once each; peer ("p") stands alone in the ABI. */
/* The module's own rule (src/gdl_parse.c), as the /proc check uses it. */
int ctl_parse_rights(const char *s, uint32_t *out)
{
	return gdlock_parse_rights(s, out);
}

const char *ctl_rights_str(uint32_t rights, char buf[4])
{
	char *p = buf;

	if (rights & GDL_ACCESS_READ)
		*p++ = 'r';
	if (rights & GDL_ACCESS_WRITE)
		*p++ = 'w';
	if (rights & GDL_ACCESS_PEER)
		*p++ = 'p';
	*p = 0;
	return buf;
}

/* The name of agent @id in @a (n entries), or NULL when it is not there. */
const char *ctl_agent_name(const struct gdl_agent_info *a, int n, uint32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (a[i].id == id)
			return a[i].name;
	return NULL;
}

int ctl_find_agent(const struct gdl_agent_info *a, int n, const char *sel)
{
	uint32_t id = 0;
	bool is_id = !gdlu_parse_u32(sel, &id);
	int i;

	/* A name wins over an id: agent "7" is found by name first. */
	for (i = 0; i < n; i++)
		if (!strncmp(a[i].name, sel, sizeof(a[i].name)))
			return i;
	for (i = 0; is_id && i < n; i++)
		if (a[i].id == id)
			return i;
	return -ENOENT;
}

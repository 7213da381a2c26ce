// SPDX-License-Identifier: GPL-2.0
/*
 * agent bindings [AGENT]: which processes and cgroups each agent is bound
 * to (GDL_IOC_BIND_LIST, module ABI 1.1).  The kernel names a cgroup by
 * its id, which is the directory's inode number in cgroup2fs, so the path
 * is found by walking the cgroup mount.
 */
#include <errno.h>
#include <fts.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "json.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The directory under CGROUP_ROOT whose id is @id, or false. */
static bool cgroup_path(uint64_t id, char *buf, size_t len)
{
	char *roots[] = { (char *)CGROUP_ROOT, NULL };
	bool found = false;
	FTSENT *e;
	FTS *fts;

	fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	if (!fts)
		return false;
	while (!found && (e = fts_read(fts))) {
		if (e->fts_info == FTS_D && (uint64_t)e->fts_statp->st_ino == id) {
			snprintf(buf, len, "%s", e->fts_path);
			found = true;
		}
	}
	fts_close(fts);
	return found;
}

/* By agent, then pids before cgroups, then target: a stable listing. */
static int binding_cmp(const void *pa, const void *pb)
{
	const struct gdl_binding_info *a = pa, *b = pb;

	if (a->agent_id != b->agent_id)
		return a->agent_id < b->agent_id ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return a->target < b->target ? -1 : a->target > b->target;
}

static const char *agent_name(const struct gdl_agent_info *a, int n, uint32_t id)
{
	const char *name = ctl_agent_name(a, n, id);

	return name ? name : "?";	/* destroyed between the two lists */
}

static void print_bindings(struct ctl *c, const struct gdl_binding_info *b,
			   int n, const struct gdl_agent_info *a, int na)
{
	char path[4096];
	struct jw w;
	int i;

	if (c->json) {
		jw_init(&w, stdout, true);
		jw_arr(&w, NULL);
	} else {
		printf("%-6s %-32s %-6s %-10s %s\n", "AGENT", "NAME", "TYPE",
		       "STATE", "TARGET");
	}
	for (i = 0; i < n; i++) {
		bool pid = b[i].type == GDL_BIND_PID;
		bool has_path = !pid && cgroup_path(b[i].target, path, sizeof(path));
		const char *state = !pid ? (has_path ? "live" : "removed") :
				    b[i].flags & GDL_BINDING_F_EXITED ? "exited" : "live";

		if (c->json) {
			jw_obj(&w, NULL);
			jw_u64(&w, "agent", b[i].agent_id);
			jw_str(&w, "name", agent_name(a, na, b[i].agent_id));
			jw_str(&w, "type", pid ? "pid" : "cgroup");
			jw_u64(&w, pid ? "pid" : "cgroup_id", b[i].target);
			if (!pid)
				jw_str(&w, "path", has_path ? path : NULL);
			jw_str(&w, "state", state);
			jw_end(&w, '}');
		} else if (pid) {
			printf("%-6u %-32s %-6s %-10s %llu\n", b[i].agent_id,
			       agent_name(a, na, b[i].agent_id), "pid", state,
			       (unsigned long long)b[i].target);
		} else {
			printf("%-6u %-32s %-6s %-10s %s (id %llu)\n", b[i].agent_id,
			       agent_name(a, na, b[i].agent_id), "cgroup", state,
			       has_path ? path : "-",
			       (unsigned long long)b[i].target);
		}
	}
	if (c->json) {
		jw_end(&w, ']');
		jw_done(&w);
	}
}

int agent_bindings(struct ctl *c, int argc, char **argv)
{
	struct gdl_binding_info *b = NULL;
	struct gdl_agent_info *a = NULL;
	struct gdlock *g;
	uint32_t id = 0;
	int n, na, ret;

	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl agent bindings [AGENT] [--json]\n\n"
		       "The processes and cgroups bound to AGENT (name or id), or to every\n"
		       "agent.  A pid binding whose process has exited stays, as 'exited',\n"
		       "until it is unbound (--pid with the number it had) or its agent\n"
		       "destroyed; so does a removed cgroup's, as 'removed' (unbind it with\n"
		       "--cgroup-id ID).  Needs root.\n");
		return EXIT_OK;
	}
	if (argc > 2)
		return ctl_usage_err("agent bindings", "expects at most one AGENT");
	if (argc == 2 && argv[1][0] == '-')
		return ctl_usage_err("agent bindings", "unknown option '%s'", argv[1]);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	if (argc == 2)
		ret = ctl_resolve_agent(g, argv[1], &id);
	if (ret)
		goto out;
	n = ctl_bindings(g, id, &b);
	if (n < 0) {
		/* ENOTTY: a module older than ABI 1.1 (not reloaded yet). */
		ret = ctl_err(n, "agent bindings (needs module ABI 1.1)");
		goto out;
	}
	na = ctl_agents(g, &a);
	if (na < 0) {
		ret = ctl_err(na, "agent list");
		goto out;
	}
	qsort(b, n, sizeof(*b), binding_cmp);
	print_bindings(c, b, n, a, na);
	ret = EXIT_OK;
out:
	free(a);
	free(b);
	gdlock_close(g);
	return ret;
}

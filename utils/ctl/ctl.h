/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gpu-dma-lock-ctl: shared declarations.  Each subcommand lives in its own
 * file and is reached through the table in main.c.
 */
#ifndef GDL_CTL_H
#define GDL_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gdl_parse.h"
#include "gdlu.h"
#include "gpudmalock.h"

#define GDL_MODULE_NAME	"gpu_dma_lock"

/* Exit codes, documented in gpu-dma-lock-ctl(8).  Keep them stable. */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* the operation or a check failed */
	EXIT_USAGE	= 2,	/* bad arguments or policy file syntax */
	EXIT_ABSENT	= 3,	/* module not loaded */
	EXIT_PERM	= 4,	/* needs root (CAP_SYS_ADMIN) */
	EXIT_UNHEALTHY	= 5,	/* loaded, but device node, /proc or ABI wrong */
	EXIT_STALE	= 6,	/* loaded module differs from the installed file */
};

struct ctl {
	const char *dev_path;	/* --device, default /dev/gpu_dma_lock */
	bool json;		/* --json (global or per command) */
};

struct ctl_cmd {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *usage;	/* one line, shown by --help */
};

/* main.c */
int ctl_open(struct ctl *c, struct gdlock **g);
/* Print what failed and what to do; returns the matching exit code. */
int ctl_err(int err, const char *what);
int ctl_usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool ctl_want_help(int argc, char **argv);
int ctl_subcommand(struct ctl *c, const char *group,
		   const struct ctl_cmd *cmds, int argc, char **argv);
void ctl_print_usage(FILE *f, const char *group, const struct ctl_cmd *cmds);

/* util.c: pure helpers, unit-tested on the host (more in gdlu.h). */
/* status: does exit code @a say something more serious than @b? */
bool ctl_status_worse(int a, int b);
int ctl_parse_size(const char *s, uint64_t *out);
int ctl_parse_rights(const char *s, uint32_t *out);
const char *ctl_rights_str(uint32_t rights, char buf[4]);
int ctl_find_agent(const struct gdl_agent_info *a, int n, const char *sel);
const char *ctl_agent_name(const struct gdl_agent_info *a, int n, uint32_t id);

/* Lists that allocate: return the count (>= 0) or -errno; free *out. */
/* k8s.c: what the OCI hook keeps for Kubernetes pods under /run/gpu-dma-lock. */
struct ctl_labels {
	char ns[254], pod[254], ctr[254];
};
bool ctl_labels(const char *agent, struct ctl_labels *l);
void ctl_labels_forget(const char *agent);
int ctl_gc_allocations(bool dry);

int ctl_devices(struct gdlock *g, struct gdl_device_info **out);
int ctl_agents(struct gdlock *g, struct gdl_agent_info **out);
/* The same, then destroyed agents that still hold memory (ABI 1.4). */
int ctl_agents_all(struct gdlock *g, struct gdl_agent_info **out);
/* QUOTA_GET that also reads a destroyed agent still charged (ABI 1.4). */
int ctl_quota_get(struct gdlock *g, uint32_t id, uint32_t dev,
		  struct gdl_quota *q);
/* What @id is charged on every device present (destroyed ones too). */
uint64_t ctl_agent_used(struct gdlock *g, const struct gdl_device_info *d,
			int nd, uint32_t id);
int ctl_acls(struct gdlock *g, uint32_t agent, struct gdl_acl_entry **out);
int ctl_bindings(struct gdlock *g, uint32_t agent,
		 struct gdl_binding_info **out);
/* Resolve a selector through the kernel: 0, or an exit code (printed). */
int ctl_resolve_device(struct gdlock *g, const char *sel, uint32_t *index);
int ctl_resolve_agent(struct gdlock *g, const char *sel, uint32_t *id);
/* The same among destroyed agents that still hold memory too. */
int ctl_resolve_agent_all(struct gdlock *g, const char *sel, uint32_t *id);

/*
 * dmem.c: does this command line change what dmem.max should say (quotas,
 * bindings, agents, devices)?  Then sync once, as the lifecycle helper
 * does, so that the ctl's own changes need no follower.
 */
bool ctl_dmem_changes(int argc, char **argv);
void ctl_dmem_after(struct ctl *c);

/* Commands */
int cmd_status(struct ctl *c, int argc, char **argv);
int cmd_load(struct ctl *c, int argc, char **argv);
int cmd_unload(struct ctl *c, int argc, char **argv);
int cmd_selftest(struct ctl *c, int argc, char **argv);
int cmd_device(struct ctl *c, int argc, char **argv);
int cmd_agent(struct ctl *c, int argc, char **argv);
int agent_bindings(struct ctl *c, int argc, char **argv);
int cmd_quota(struct ctl *c, int argc, char **argv);
int cmd_acl(struct ctl *c, int argc, char **argv);
int cmd_reserve(struct ctl *c, int argc, char **argv);
int cmd_stats(struct ctl *c, int argc, char **argv);
int cmd_watch(struct ctl *c, int argc, char **argv);
int cmd_apply(struct ctl *c, int argc, char **argv);
int cmd_gc(struct ctl *c, int argc, char **argv);
int cmd_holders(struct ctl *c, int argc, char **argv);
int cmd_cdi(struct ctl *c, int argc, char **argv);
int cmd_dmem(struct ctl *c, int argc, char **argv);

#endif /* GDL_CTL_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy file of `gpu-dma-lock-ctl apply` (gpu-dma-lock-policy(5)):
 * parsed here into lines, with no kernel access, so the parser is
 * unit-tested on the host.
 */
#ifndef GDL_CTL_POLICY_H
#define GDL_CTL_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define POL_WORD	256

enum pol_kind {
	POL_DEVICE,	/* device SEL [capacity SIZE] [declare] */
	POL_AGENT,	/* agent NAME [max-reservations N] [max-acl-entries N] */
	POL_QUOTA,	/* quota AGENT DEV|all SIZE */
	POL_BIND_CGROUP,	/* bind AGENT cgroup PATH */
	POL_BIND_PID,	/* bind AGENT pid PID */
	POL_ACL,	/* acl AGENT DEV RIGHTS addr ADDR len SIZE */
	POL_PEER,	/* peer AGENT DEV PEERDEV */
	POL_DMEM,	/* dmem DEV REGION|none (docs/dmem.md) */
};

struct pol_line {
	int lineno;
	enum pol_kind kind;
	char a[POL_WORD];	/* device selector or agent name */
	char b[POL_WORD];	/* device (quota, acl, peer), cgroup path or dmem region */
	char c[POL_WORD];	/* peer device */
	bool all;		/* quota on every device */
	bool declare;		/* device: create it if absent */
	bool has_capacity;
	uint64_t size;		/* capacity or quota */
	uint32_t rights, pid;
	uint64_t addr, len;
	bool has_max_res, has_max_acl;	/* agent: shares given */
	uint32_t max_res, max_acl;	/* 0: the module's default */
};

struct policy {
	struct pol_line *l;
	int n;
};

/*
 * Parse @f; on a syntax error returns -EINVAL with "NAME:LINE: why" in
 * @err.  -ENOMEM when out of memory.
 */
int policy_parse(FILE *f, const char *name, struct policy *p, char *err,
		 size_t errlen);
void policy_free(struct policy *p);

#endif /* GDL_CTL_POLICY_H */

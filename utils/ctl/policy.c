// SPDX-License-Identifier: GPL-2.0
/*
 * Policy file parser; the format is documented in docs/policy.md and
 * gpu-dma-lock-policy(5).  Line based: '#' starts a comment, words are
 * separated by blanks, one statement per line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dmem.h"
#include "policy.h"

#define MAX_WORDS	12

struct pctx {
	const char *name;
	int lineno;
	char *err;
	size_t errlen;
};

static int perr(struct pctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct pctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(x->err, x->errlen, "%s:%d: ", x->name, x->lineno);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < x->errlen)
		vsnprintf(x->err + n, x->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int copy_word(struct pctx *x, char *dst, const char *src, bool name)
{
	/* Agent and device names are limited by the ABI; paths are not. */
	if (strlen(src) >= (name ? GDL_NAME_LEN : POL_WORD))
		return perr(x, "'%s' is too long (at most %d bytes)", src,
			    (name ? GDL_NAME_LEN : POL_WORD) - 1);
	strcpy(dst, src);
	return 0;
}

static int size_word(struct pctx *x, const char *what, const char *s,
		     uint64_t *out)
{
	if (ctl_parse_size(s, out))
		return perr(x, "%s '%s' is not a size (examples: 4096, 512M, 16G, unlimited)",
			    what, s);
	return 0;
}

static int parse_device(struct pctx *x, char **w, int n, struct pol_line *l)
{
	int i, ret;

	if (n < 2)
		return perr(x, "usage: device DEV [capacity SIZE] [declare]");
	ret = copy_word(x, l->a, w[1], true);
	for (i = 2; !ret && i < n; i++) {
		if (!strcmp(w[i], "declare") && !l->declare) {
			l->declare = true;
		} else if (!strcmp(w[i], "capacity") && i + 1 < n && !l->has_capacity) {
			l->has_capacity = true;
			ret = size_word(x, "capacity", w[++i], &l->size);
		} else {
			return perr(x, "unexpected '%s' (usage: device DEV [capacity SIZE] [declare])",
				    w[i]);
		}
	}
	if (!ret && !l->has_capacity && !l->declare)
		return perr(x, "device line sets nothing: add 'capacity SIZE'");
	return ret;
}

static int parse_acl(struct pctx *x, char **w, int n, struct pol_line *l)
{
	bool has_addr = false, has_len = false;
	int i, ret;

	if (n < 4)
		return perr(x, "usage: acl AGENT DEV r|w|rw [addr ADDR] len SIZE");
	ret = copy_word(x, l->a, w[1], true);
	if (!ret)
		ret = copy_word(x, l->b, w[2], true);
	if (ret)
		return ret;
	if (ctl_parse_rights(w[3], &l->rights) || (l->rights & GDL_ACCESS_PEER))
		return perr(x, "rights '%s': r, w or rw (peer access has its own 'peer' line)",
			    w[3]);
	for (i = 4; i < n; i++) {
		if (!strcmp(w[i], "addr") && i + 1 < n && !has_addr) {
			has_addr = true;
			if (gdlu_parse_u64(w[++i], &l->addr))
				return perr(x, "addr '%s' is not a number (decimal or 0x hex)", w[i]);
		} else if (!strcmp(w[i], "len") && i + 1 < n && !has_len) {
			has_len = true;
			ret = size_word(x, "len", w[++i], &l->len);
			if (ret)
				return ret;
		} else {
			return perr(x, "unexpected '%s' (usage: acl AGENT DEV r|w|rw [addr ADDR] len SIZE)",
				    w[i]);
		}
	}
	if (!has_len || !l->len || l->len == GDL_QUOTA_UNLIMITED)
		return perr(x, "an acl line needs 'len SIZE' (a range of at least one byte)");
	if (l->addr + l->len < l->addr)
		return perr(x, "addr + len overflows 64 bits");
	return 0;
}

/* agent NAME [max-reservations N] [max-acl-entries N], each at most once. */
static int parse_agent(struct pctx *x, char **w, int n, struct pol_line *l)
{
	int i;

	for (i = 2; i < n; i += 2) {
		bool res = !strcmp(w[i], "max-reservations");
		bool *seen = res ? &l->has_max_res : &l->has_max_acl;

		if ((!res && strcmp(w[i], "max-acl-entries")) || *seen ||
		    i + 1 == n)
			return perr(x, "usage: agent NAME [max-reservations N] [max-acl-entries N]");
		*seen = true;
		if (gdlu_parse_u32(w[i + 1], res ? &l->max_res : &l->max_acl))
			return perr(x, "'%s' is not a number", w[i + 1]);
	}
	if (strlen(w[1]) < GDL_NAME_LEN && !gdlock_name_valid(w[1]))
		return perr(x, "'%s' is not a valid name (letters, digits and - _ . : @)",
			    w[1]);
	return copy_word(x, l->a, w[1], true);
}

static int parse_words(struct pctx *x, char **w, int n, struct pol_line *l)
{
	int ret;

	if (!strcmp(w[0], "device")) {
		l->kind = POL_DEVICE;
		return parse_device(x, w, n, l);
	}
	if (!strcmp(w[0], "agent")) {
		l->kind = POL_AGENT;
		if (n < 2)
			return perr(x, "usage: agent NAME [max-reservations N] [max-acl-entries N]");
		return parse_agent(x, w, n, l);
	}
	if (!strcmp(w[0], "quota")) {
		l->kind = POL_QUOTA;
		if (n != 4)
			return perr(x, "usage: quota AGENT DEV|all SIZE");
		l->all = !strcmp(w[2], "all");
		ret = copy_word(x, l->a, w[1], true);
		if (!ret)
			ret = copy_word(x, l->b, w[2], true);
		return ret ? ret : size_word(x, "quota", w[3], &l->size);
	}
	if (!strcmp(w[0], "bind")) {
		if (n != 4 || (strcmp(w[2], "cgroup") && strcmp(w[2], "pid")))
			return perr(x, "usage: bind AGENT cgroup PATH | bind AGENT pid PID");
		ret = copy_word(x, l->a, w[1], true);
		if (ret)
			return ret;
		if (!strcmp(w[2], "pid")) {
			l->kind = POL_BIND_PID;
			if (gdlu_parse_u32(w[3], &l->pid) || !l->pid || l->pid > INT32_MAX)
				return perr(x, "'%s' is not a pid", w[3]);
			return 0;
		}
		l->kind = POL_BIND_CGROUP;
		if (w[3][0] != '/')
			return perr(x, "cgroup path '%s' must be absolute", w[3]);
		return copy_word(x, l->b, w[3], false);
	}
	if (!strcmp(w[0], "acl")) {
		l->kind = POL_ACL;
		return parse_acl(x, w, n, l);
	}
	if (!strcmp(w[0], "peer")) {
		l->kind = POL_PEER;
		if (n != 4)
			return perr(x, "usage: peer AGENT DEV PEERDEV");
		ret = copy_word(x, l->a, w[1], true);
		if (!ret)
			ret = copy_word(x, l->b, w[2], true);
		if (!ret)
			ret = copy_word(x, l->c, w[3], true);
		if (!ret && !strcmp(l->b, l->c))
			return perr(x, "a peer right names two different devices");
		return ret;
	}
	if (!strcmp(w[0], "dmem")) {
		l->kind = POL_DMEM;
		if (n != 3)
			return perr(x, "usage: dmem DEV REGION|none");
		ret = copy_word(x, l->a, w[1], true);
		if (ret)
			return ret;
		/* The name goes into a file every sync reads, and dmem.max. */
		if (!gdlu_dmem_name_ok(w[2]))
			return perr(x, "'%s' is not a dmem region name (one word, at most %d bytes)",
				    w[2], GDLU_DMEM_NAME - 1);
		return copy_word(x, l->b, w[2], false);
	}
	return perr(x, "unknown statement '%s' (device, agent, quota, bind, acl, peer, dmem)",
		    w[0]);
}

int policy_parse(FILE *f, const char *name, struct policy *p, char *err,
		 size_t errlen)
{
	struct pctx x = { .name = name, .err = err, .errlen = errlen };
	char buf[4096], *w[MAX_WORDS], *s, *save;
	int n, cap = 0, ret;

	p->l = NULL;
	p->n = 0;
	while (fgets(buf, sizeof(buf), f)) {
		x.lineno++;
		if (!strchr(buf, '\n') && !feof(f)) {
			ret = perr(&x, "line longer than %zu bytes", sizeof(buf) - 2);
			goto fail;
		}
		buf[strcspn(buf, "#")] = 0;
		n = 0;
		for (s = strtok_r(buf, " \t\r\n", &save); s;
		     s = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == MAX_WORDS) {
				ret = perr(&x, "too many words");
				goto fail;
			}
			w[n++] = s;
		}
		if (!n)
			continue;
		if (p->n == cap) {
			struct pol_line *nl;

			cap = cap ? 2 * cap : 16;
			nl = realloc(p->l, cap * sizeof(*nl));
			if (!nl) {
				ret = -ENOMEM;
				goto fail;
			}
			p->l = nl;
		}
		memset(&p->l[p->n], 0, sizeof(p->l[0]));
		p->l[p->n].lineno = x.lineno;
		ret = parse_words(&x, w, n, &p->l[p->n]);
		if (ret)
			goto fail;
		p->n++;
	}
	/* A read error is not the end of the file: apply none of it. */
	if (ferror(f)) {
		ret = -EIO;
		goto fail;
	}
	return 0;
fail:
	policy_free(p);
	return ret;
}

void policy_free(struct policy *p)
{
	free(p->l);
	p->l = NULL;
	p->n = 0;
}

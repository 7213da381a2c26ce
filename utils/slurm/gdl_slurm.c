// SPDX-License-Identifier: GPL-2.0
/*
 * The Slurm plugin's decisions (see gdl_slurm.h), without SPANK.  Sizes
 * are parsed by the library's gdlock_parse_size (the module's own parser)
 * and PCI addresses and device lookups by the ctl's helpers, so every
 * tool of the project reads "16G" and "0000:03:00.0" the same way.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl_parse.h"
#include "gdl_slurm.h"
#include "gdlu.h"

/* gpus=0000:03:00.0,0000:04:00.0: Slurm's GPU index i is the i-th. */
static int parse_gpus(struct gdl_slurm_conf *c, const char *list, char *err,
		      size_t len)
{
	char buf[64];
	const char *p = list, *end;
	size_t n;

	c->nr_gpus = 0;
	while (*p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (!n || n >= sizeof(buf))
			return gdlu_errbuf(err, len, -EINVAL,
					  "gpus=%s: an empty or overlong PCI address", list);
		if (c->nr_gpus == GDL_SLURM_MAX_GPUS)
			return gdlu_errbuf(err, len, -E2BIG, "gpus=: more than %d GPUs",
					  GDL_SLURM_MAX_GPUS);
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (gdl_parse_pci_addr(buf, &c->gpu_domain[c->nr_gpus],
				       &c->gpu_bdf[c->nr_gpus]))
			return gdlu_errbuf(err, len, -EINVAL,
					  "gpus=: '%s' is not a PCI address (0000:03:00.0)", buf);
		c->nr_gpus++;
		p += n;
		if (*p && !*++p)
			return gdlu_errbuf(err, len, -EINVAL,
					  "gpus=%s: a trailing comma", list);
	}
	if (!c->nr_gpus)
		return gdlu_errbuf(err, len, -EINVAL, "gpus= needs at least one PCI address");
	return 0;
}

int gdl_slurm_parse_args(struct gdl_slurm_conf *c, int ac, char **av,
			 const char *default_preload, char *err, size_t len)
{
	const char *missing = NULL;
	bool has_max = false;
	char a[32], b[32];
	int i, ret;

	memset(c, 0, sizeof(*c));
	c->max = GDL_SLURM_DEFAULT_MAX;
	if (snprintf(c->preload, sizeof(c->preload), "%s", default_preload) >=
	    (int)sizeof(c->preload))
		return gdlu_errbuf(err, len, -ENAMETOOLONG, "preload path too long");
	for (i = 0; i < ac; i++) {
		const char *arg = av[i], *v = strchr(arg, '=');

		if (!v)
			return gdlu_errbuf(err, len, -EINVAL,
					  "plugstack.conf argument '%s' is not NAME=VALUE", arg);
		v++;
		if (!strncmp(arg, "default=", 8)) {
			if (gdlock_parse_size(v, &c->def))
				return gdlu_errbuf(err, len, -EINVAL,
						  "default=%s is not a size (e.g. 8G)", v);
			c->has_default = true;
		} else if (!strncmp(arg, "max=", 4)) {
			if (gdlock_parse_size(v, &c->max))
				return gdlu_errbuf(err, len, -EINVAL,
						  "max=%s is not a size (e.g. 40G, or unlimited)", v);
			has_max = true;
		} else if (!strncmp(arg, "missing=", 8)) {
			if (strcmp(v, "default") && strcmp(v, "refuse"))
				return gdlu_errbuf(err, len, -EINVAL,
						  "missing=%s: use missing=default or missing=refuse", v);
			missing = v;
		} else if (!strncmp(arg, "nogres=", 7)) {
			if (strcmp(v, "fence") && strcmp(v, "all"))
				return gdlu_errbuf(err, len, -EINVAL,
						  "nogres=%s: use nogres=fence or nogres=all", v);
			c->nogres_all = !strcmp(v, "all");
		} else if (!strncmp(arg, "gpus=", 5)) {
			ret = parse_gpus(c, v, err, len);
			if (ret)
				return ret;
		} else if (!strncmp(arg, "preload=", 8)) {
			if (!strcmp(v, "none"))
				v = "";
			else if (*v != '/')
				return gdlu_errbuf(err, len, -EINVAL,
						  "preload=%s: an absolute path, or none", v);
			else if (strpbrk(v, ": \t\n"))
				return gdlu_errbuf(err, len, -EINVAL,
						  "preload=%s: LD_PRELOAD separates entries with ':' and blanks, so the path cannot hold them", v);
			if (snprintf(c->preload, sizeof(c->preload), "%s", v) >=
			    (int)sizeof(c->preload))
				return gdlu_errbuf(err, len, -ENAMETOOLONG, "preload path too long");
		} else {
			return gdlu_errbuf(err, len, -EINVAL,
					  "unknown plugstack.conf argument '%s' (default=, max=, missing=, nogres=, gpus=, preload=)",
					  arg);
		}
	}
	if (missing && !strcmp(missing, "default") && !c->has_default)
		return gdlu_errbuf(err, len, -EINVAL, "missing=default needs default=SIZE");
	c->refuse_missing = missing ? !strcmp(missing, "refuse") : !c->has_default;
	if (c->has_default && c->def > c->max)
		return gdlu_errbuf(err, len, -EINVAL, "default=%s is over max=%s%s",
				  gdlu_fmt_size(c->def, a, sizeof(a)), gdlu_fmt_size(c->max, b, sizeof(b)),
				  has_max ? "" : " (the packaged maximum when there is no max=: write max=SIZE)");
	return 0;
}

int gdl_slurm_parse_gpu_mem(const struct gdl_slurm_conf *c, const char *val,
			    uint64_t *bytes, char *err, size_t len)
{
	char b[32];
	uint64_t v;

	if (!val || gdlock_parse_size(val, &v))
		return gdlu_errbuf(err, len, -EINVAL,
				  "--gpu-mem=%s is not a size: give bytes or K, M, G, T (e.g. --gpu-mem=16G)",
				  val ? val : "");
	if (v > c->max)
		return gdlu_errbuf(err, len, -ERANGE,
				  "--gpu-mem=%s is over this cluster's maximum of %s per GPU",
				  val, gdlu_fmt_size(c->max, b, sizeof(b)));
	*bytes = v;
	return 0;
}

int gdl_slurm_job_quota(const struct gdl_slurm_conf *c, const char *val,
			uint64_t *bytes, char *err, size_t len)
{
	if (val)
		return gdl_slurm_parse_gpu_mem(c, val, bytes, err, len);
	if (c->refuse_missing)
		return gdlu_errbuf(err, len, -EPERM,
				  "this cluster needs a GPU memory quota on every job: add --gpu-mem=SIZE (e.g. --gpu-mem=16G)");
	*bytes = c->def;
	return 0;
}

/* The ledger index of Slurm GPU @gpu, or -ENODEV with a message. */
static int ledger_index(const struct gdl_slurm_conf *c,
			const struct gdl_device_info *d, int nd,
			unsigned long gpu, char *err, size_t len)
{
	char pci[16];
	int i;

	if (gpu >= c->nr_gpus)
		return gdlu_errbuf(err, len, -ENODEV,
				  "Slurm GPU %lu has no PCI address in plugstack.conf's gpus= (%u given)",
				  gpu, c->nr_gpus);
	gdlu_fmt_pci_addr(c->gpu_domain[gpu], c->gpu_bdf[gpu], pci, sizeof(pci));
	i = gdlu_find_device(d, nd, pci);
	if (i < 0 || !(d[i].flags & GDL_DEV_F_PCI))
		return gdlu_errbuf(err, len, -ENODEV,
				  "Slurm GPU %lu (PCI %s) is not a gpu_dma_lock device on this node",
				  gpu, pci);
	return (int)d[i].index;
}

int gdl_slurm_quotas(const struct gdl_slurm_conf *c,
		     const struct gdl_device_info *d, int nd,
		     const char *job_gpus, uint64_t bytes,
		     struct gdlock_ensure_quota *q, unsigned int cap,
		     char *err, size_t len)
{
	const char *p = job_gpus;
	unsigned int n = 0;
	unsigned long gpu;
	char *end;
	int idx;

	if (cap < 1)
		return -ENOSPC;
	memset(q, 0, cap * sizeof(*q));
	q[n].device = GDL_ALL_DEVICES;
	q[n++].bytes = (p && *p) || !c->nogres_all ? 0 : bytes;
	while (p && *p) {
		if (*p < '0' || *p > '9')
			goto bad;
		errno = 0;
		gpu = strtoul(p, &end, 10);
		if (errno || (*end && *end != ','))
			goto bad;
		idx = ledger_index(c, d, nd, gpu, err, len);
		if (idx < 0)
			return idx;
		if (n == cap)
			return gdlu_errbuf(err, len, -E2BIG, "SLURM_JOB_GPUS=%s: too many GPUs",
					  job_gpus);
		q[n].device = (uint32_t)idx;
		q[n++].bytes = bytes;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			goto bad;
	}
	return (int)n;
bad:
	return gdlu_errbuf(err, len, -EINVAL,
			  "SLURM_JOB_GPUS=%s is not a list of GPU indexes", job_gpus);
}

int gdl_slurm_agent_name(uint32_t jobid, char *buf, size_t len)
{
	int n = snprintf(buf, len, GDL_SLURM_AGENT_PREFIX "%u", jobid);

	return n < 0 || (size_t)n >= len || (size_t)n >= GDL_NAME_LEN ?
		-ENAMETOOLONG : 0;
}

int gdl_slurm_job_cgroup(const char *proc, uint32_t jobid, const char *mount,
			 char *out, size_t len)
{
	const char *line = proc, *path, *nl, *p;
	char comp[24];
	size_t clen, plen;
	int n;

	n = snprintf(comp, sizeof(comp), "/job_%u", jobid);
	clen = (size_t)n;
	/* cgroup v2's line is "0::/path"; v1 lines have a controller. */
	for (; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (strncmp(line, "0::", 3))
			continue;
		path = line + 3;
		plen = nl ? (size_t)(nl - path) : strlen(path);
		for (p = path; p + clen <= path + plen; p++) {
			if (strncmp(p, comp, clen) ||
			    (p + clen < path + plen && p[clen] != '/'))
				continue;
			n = snprintf(out, len, "%s%.*s", mount,
				     (int)(p + clen - path), path);
			return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

bool gdl_slurm_joins_job(const char *cmdline, size_t len)
{
	const char *p = cmdline, *end = cmdline + len;
	size_t n;

	while (p < end) {
		n = strnlen(p, (size_t)(end - p));
		if ((n == 7 && !memcmp(p, "--jobid", 7)) ||
		    (n > 7 && !memcmp(p, "--jobid=", 8)))
			return true;
		p += n + 1;
	}
	return false;
}

/* ld.so splits LD_PRELOAD at these (elf/rtld.c, handle_preload_list). */
#define PRELOAD_SEP " :"

int gdl_slurm_preload_value(const char *lib, const char *old, char *out,
			    size_t len)
{
	size_t l = strlen(lib), used, n, dropped = 0;
	const char *p = old;

	if (!len)
		return -ENAMETOOLONG;
	out[0] = '\0';
	if (l >= len)
		return -ENAMETOOLONG;
	memcpy(out, lib, l + 1);
	used = l;
	while (p && *p) {
		p += strspn(p, PRELOAD_SEP);
		n = strcspn(p, PRELOAD_SEP);
		if (!n)
			break;
		if (n == l && !memcmp(p, lib, l)) {
			p += n;
			continue;
		}
		if (dropped || used + 1 + n >= len) {
			dropped++;
		} else {
			out[used++] = ':';
			memcpy(out + used, p, n);
			used += n;
			out[used] = '\0';
		}
		p += n;
	}
	return dropped > INT_MAX ? INT_MAX : (int)dropped;
}

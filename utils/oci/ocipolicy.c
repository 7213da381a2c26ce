// SPDX-License-Identifier: GPL-2.0
/*
 * The OCI hook's decisions (see ocipolicy.h).  Nothing here touches the
 * module or the file system, so all of it is unit-tested on the host.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gdlu.h"
#include "ocipolicy.h"

void oci_conf_defaults(struct oci_conf *c)
{
	/* Same values as the packaged oci.conf: keep them in step. */
	c->default_quota = 1ULL << 30;
	c->max_quota = GDL_QUOTA_UNLIMITED;
	c->unannotated = OCI_UNANNOTATED_DEFAULT;
}

static char *oci_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int oci_conf_parse(struct oci_conf *c, const char *text, const char *fname,
		   char *err, size_t errlen)
{
	char line[256], *key, *val, *hash;
	const char *p = text, *nl;
	struct oci_conf n = *c;
	int lineno = 0;
	size_t l;

	for (; *p; p = nl ? nl + 1 : p + l) {
		nl = strchr(p, '\n');
		l = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (l >= sizeof(line))
			return gdlu_errbuf(err, errlen, -EINVAL, "%s:%d: line too long",
					  fname, lineno);
		memcpy(line, p, l);
		line[l] = 0;
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		key = oci_trim(line);
		if (!*key)
			continue;
		val = strchr(key, '=');
		if (!val)
			return gdlu_errbuf(err, errlen, -EINVAL,
					  "%s:%d: expected KEY = VALUE", fname, lineno);
		*val++ = 0;
		key = oci_trim(key);
		val = oci_trim(val);
		if (!strcmp(key, "default_quota") || !strcmp(key, "max_quota")) {
			uint64_t v;

			if (gdlock_parse_size(val, &v))
				return gdlu_errbuf(err, errlen, -EINVAL,
						  "%s:%d: %s = %s: not a size (16G, 512M, unlimited)",
						  fname, lineno, key, val);
			if (key[0] == 'd')
				n.default_quota = v;
			else
				n.max_quota = v;
		} else if (!strcmp(key, "unannotated")) {
			if (!strcmp(val, "default"))
				n.unannotated = OCI_UNANNOTATED_DEFAULT;
			else if (!strcmp(val, "refuse"))
				n.unannotated = OCI_UNANNOTATED_REFUSE;
			else if (!strcmp(val, "ignore"))
				n.unannotated = OCI_UNANNOTATED_IGNORE;
			else
				return gdlu_errbuf(err, errlen, -EINVAL,
						  "%s:%d: unannotated = %s: expected default, refuse or ignore",
						  fname, lineno, val);
		} else {
			return gdlu_errbuf(err, errlen, -EINVAL, "%s:%d: unknown key '%s'",
					  fname, lineno, key);
		}
	}
	if (n.unannotated == OCI_UNANNOTATED_DEFAULT &&
	    n.default_quota > n.max_quota)
		return gdlu_errbuf(err, errlen, -EINVAL,
				  "%s: default_quota is above max_quota", fname);
	*c = n;
	return 0;
}

int oci_quota_parse(const char *s, const struct oci_conf *c,
		    struct oci_quota *out, int cap, char *err, size_t errlen)
{
	char item[128], *eq, *size;
	const char *p = s;
	int n = 0;
	size_t l;

	if (!s || !*s)
		return gdlu_errbuf(err, errlen, -EINVAL, "%s is empty", OCI_ANNOT_QUOTA);
	for (;;) {
		/* ';' too: podman's --annotation splits its value at commas. */
		l = strcspn(p, ",;");
		if (l >= sizeof(item))
			return gdlu_errbuf(err, errlen, -EINVAL, "%s: entry too long",
					  OCI_ANNOT_QUOTA);
		memcpy(item, p, l);
		item[l] = 0;
		if (n == cap)
			return gdlu_errbuf(err, errlen, -E2BIG, "%s: more than %d entries",
					  OCI_ANNOT_QUOTA, cap);
		memset(&out[n], 0, sizeof(out[n]));
		eq = strrchr(item, '=');
		size = eq ? oci_trim(eq + 1) : oci_trim(item);
		if (eq) {
			*eq = 0;
			eq = oci_trim(item);
			if (!*eq || strlen(eq) >= sizeof(out[n].sel))
				return gdlu_errbuf(err, errlen, -EINVAL,
						  "%s=%s: bad device in '%.64s'",
						  OCI_ANNOT_QUOTA, s, item);
			if (!strcmp(eq, "*") || !strcmp(eq, "all"))
				out[n].all = 1;
			else
				strcpy(out[n].sel, eq);
		} else {
			out[n].all = 1;
		}
		if (gdlock_parse_size(size, &out[n].bytes))
			return gdlu_errbuf(err, errlen, -EINVAL,
					  "%s=%s: '%s' is not a size (16G, 512M, 4096)",
					  OCI_ANNOT_QUOTA, s, size);
		if (out[n].bytes > c->max_quota) {
			char a[32], b[32];

			return gdlu_errbuf(err, errlen, -EDQUOT,
					  "%s=%s: %s is over the fleet maximum %s (max_quota in %s)",
					  OCI_ANNOT_QUOTA, s,
					  gdlu_fmt_size(out[n].bytes, a, sizeof(a)),
					  gdlu_fmt_size(c->max_quota, b, sizeof(b)),
					  OCI_CONF_ADMIN);
		}
		n++;
		if (!p[l])
			break;
		p += l + 1;
	}
	return n;
}

/* "GPU-6f1a...-..." or bare hex with or without dashes: 16 bytes. */
static int oci_parse_uuid(const char *s, uint8_t u[GDL_UUID_LEN])
{
	int i = 0, hi = -1;

	if (!strncasecmp(s, "GPU-", 4))
		s += 4;
	for (; *s; s++) {
		int v;

		if (*s == '-')
			continue;
		if (!isxdigit((unsigned char)*s) || i == GDL_UUID_LEN)
			return -EINVAL;
		v = isdigit((unsigned char)*s) ? *s - '0' :
			tolower((unsigned char)*s) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			u[i++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return i == GDL_UUID_LEN && hi < 0 ? 0 : -EINVAL;
}

static int oci_find_device(const struct gdl_device_info *d, int nd,
			   const char *sel)
{
	uint8_t u[GDL_UUID_LEN];
	int i = gdlu_find_device(d, nd, sel);

	if (i >= 0 || oci_parse_uuid(sel, u))
		return i;
	for (i = 0; i < nd; i++)
		if (!memcmp(d[i].uuid, u, sizeof(u)))
			return i;
	return -ENODEV;
}

int oci_quota_resolve(const struct oci_quota *q, int n,
		      const struct gdl_device_info *d, int nd,
		      struct gdlock_ensure_quota *out, char *err, size_t errlen)
{
	int i, k = 0, pass, idx;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if (q[i].all != !pass)
				continue;
			memset(&out[k], 0, sizeof(out[k]));
			out[k].bytes = q[i].bytes;
			if (q[i].all) {
				out[k++].device = GDL_ALL_DEVICES;
				continue;
			}
			idx = oci_find_device(d, nd, q[i].sel);
			if (idx < 0)
				return gdlu_errbuf(err, errlen, -ENODEV,
						  "%s: no device '%s' in the ledger (by index, name, PCI address or UUID; see gpu-dma-lock-ctl device list)",
						  OCI_ANNOT_QUOTA, q[i].sel);
			out[k++].device = d[idx].index;
		}
	}
	return k;
}

static int oci_peer_add(struct gdl_acl_entry *out, int n, int cap,
			uint32_t dev, uint32_t peer)
{
	if (n == cap)
		return -E2BIG;
	memset(&out[n], 0, sizeof(out[n]));
	out[n].dev_index = dev;
	out[n].peer_index = peer;
	out[n].rights = GDL_ACCESS_PEER;
	return n + 1;
}

int oci_peer_parse(const char *s, const struct gdl_device_info *d, int nd,
		   struct gdl_acl_entry *out, int cap, char *err, size_t errlen)
{
	char item[160], *gt, *a, *b;
	const char *p = s;
	int n = 0, ia, ib, both;
	size_t l;

	if (!s || !*s)
		return gdlu_errbuf(err, errlen, -EINVAL, "%s is empty", OCI_ANNOT_PEER);
	for (;;) {
		l = strcspn(p, ",;");
		if (l >= sizeof(item))
			return gdlu_errbuf(err, errlen, -EINVAL, "%s: entry too long",
					  OCI_ANNOT_PEER);
		memcpy(item, p, l);
		item[l] = 0;
		gt = strchr(item, '>');
		if (!gt)
			return gdlu_errbuf(err, errlen, -EINVAL,
					  "%s=%s: '%s' is not DEV>PEER or DEV<>PEER",
					  OCI_ANNOT_PEER, s, item);
		both = gt > item && gt[-1] == '<';
		gt[both ? -1 : 0] = 0;
		a = oci_trim(item);
		b = oci_trim(gt + 1);
		ia = oci_find_device(d, nd, a);
		ib = oci_find_device(d, nd, b);
		if (ia < 0 || ib < 0)
			return gdlu_errbuf(err, errlen, -ENODEV,
					  "%s: no device '%s' in the ledger (by index, name, PCI address or UUID)",
					  OCI_ANNOT_PEER, ia < 0 ? a : b);
		if (ia == ib)
			return gdlu_errbuf(err, errlen, -EINVAL,
					  "%s: '%s' names the same device twice",
					  OCI_ANNOT_PEER, a);
		n = oci_peer_add(out, n, cap, d[ia].index, d[ib].index);
		if (n >= 0 && both)
			n = oci_peer_add(out, n, cap, d[ib].index, d[ia].index);
		if (n < 0)
			return gdlu_errbuf(err, errlen, n, "%s: more than %d rights",
					  OCI_ANNOT_PEER, cap);
		if (!p[l])
			break;
		p += l + 1;
	}
	return n;
}

int oci_agent_name(const char *id, char out[GDL_NAME_LEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	const char *p;
	int i;

	if (!id || !*id)
		return -EINVAL;
	for (i = 0; i < 12 && isxdigit((unsigned char)id[i]); i++)
		;
	if (i == 12) {
		snprintf(out, GDL_NAME_LEN, "ctr-%.12s", id);
		for (p = out + 4; *p; p++)
			out[p - out] = (char)tolower((unsigned char)*p);
		return 0;
	}
	for (p = id; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, GDL_NAME_LEN, "ctr-%012llx",
		 (unsigned long long)(h & 0xffffffffffffULL));
	return 0;
}

int oci_cgroup_path(const char *proc_cgroup, char *out, size_t len)
{
	const char *p = proc_cgroup, *nl, *path = NULL;
	size_t l = 0;
	char *last;

	/* cgroup v2 is the "0::" line; v1 hierarchies are not supported. */
	for (; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (!strncmp(p, "0::", 3)) {
			path = p + 3;
			l = nl ? (size_t)(nl - path) : strlen(path);
			break;
		}
	}
	if (!path || !l || *path != '/')
		return -ENOENT;
	if (l >= len)
		return -ENAMETOOLONG;
	memcpy(out, path, l);
	out[l] = 0;
	/* crun (and runc with systemd) put the process in a leaf "container". */
	last = strrchr(out, '/');
	if (last && last != out && !strcmp(last, "/container"))
		*last = 0;
	if (!strcmp(out, "/"))
		return -EPERM;	/* the root cgroup would bind the whole node */
	return 0;
}

int oci_is_gpu_device(const char *path)
{
	const char *p;

	if (!path)
		return 0;
	if (!strcmp(path, GDL_DEVICE_PATH) || !strcmp(path, "/dev/kfd"))
		return 1;
	if (!strncmp(path, "/dev/nvidia", 11)) {
		p = path + 11;
		if (!*p)
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
		return !*p;	/* nvidiaN, not nvidiactl or nvidia-uvm */
	}
	return !strncmp(path, "/dev/dri/renderD", 16) ||
	       !strncmp(path, "/dev/dri/card", 13);
}

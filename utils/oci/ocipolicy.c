// SPDX-License-Identifier: GPL-2.0
/*
 * The OCI hook's decisions (see ocipolicy.h).  Nothing here touches the
 * module or the file system, so all of it is unit-tested on the host.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gdlu.h"
#include "ocipolicy.h"
#include "sha256.h"

void oci_conf_defaults(struct oci_conf *c)
{
	/*
	 * Same values as the packaged oci.conf: keep them in step.  Finite:
	 * podman copies an image's annotations into its containers, so an
	 * image author must not get "unlimited" unless an admin wrote it.
	 */
	c->default_quota = 1ULL << 30;
	c->max_quota = 40ULL << 30;	/* as the Slurm plugin's max= */
	c->unannotated = OCI_UNANNOTATED_DEFAULT;
	c->peer_annotation = OCI_REFUSE;
	c->admin_containers = OCI_REFUSE;
	c->uninterposed = OCI_REFUSE;
}

static const struct {
	const char *key;
	size_t off;
} oci_allow_keys[] = {
	{ "peer_annotation", offsetof(struct oci_conf, peer_annotation) },
	{ "admin_containers", offsetof(struct oci_conf, admin_containers) },
	{ "uninterposed", offsetof(struct oci_conf, uninterposed) },
};

/* KEY = refuse|allow: 1 if @key is one, 0 if not, -EINVAL if bad. */
static int oci_allow_key(struct oci_conf *n, const char *key, const char *val)
{
	enum oci_allow *v;
	unsigned int i;

	for (i = 0; i < sizeof(oci_allow_keys) / sizeof(oci_allow_keys[0]); i++) {
		if (strcmp(key, oci_allow_keys[i].key))
			continue;
		v = (enum oci_allow *)((char *)n + oci_allow_keys[i].off);
		if (!strcmp(val, "refuse"))
			*v = OCI_REFUSE;
		else if (!strcmp(val, "allow"))
			*v = OCI_ALLOW;
		else
			return -EINVAL;
		return 1;
	}
	return 0;
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
			int r = oci_allow_key(&n, key, val);

			if (r < 0)
				return gdlu_errbuf(err, errlen, -EINVAL,
						   "%s:%d: %s = %s: expected refuse or allow",
						   fname, lineno, key, val);
			if (!r)
				return gdlu_errbuf(err, errlen, -EINVAL,
						   "%s:%d: unknown key '%s'",
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
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t h[SHA256_LEN];
	unsigned int i, bit;
	char *o = out;

	if (!id || !*id)
		return -EINVAL;
	sha256(id, strlen(id), h);
	o += snprintf(out, GDL_NAME_LEN, "ctr-");
	/* 27 characters of 5 bits: ctr- + 27 + NUL is GDL_NAME_LEN. */
	for (i = 0; i < GDL_NAME_LEN - 5; i++) {
		bit = i * 5;
		*o++ = b32[((h[bit / 8] << 8 | h[bit / 8 + 1]) >> (11 - bit % 8)) & 31];
	}
	*o = 0;
	return 0;
}

/*
 * systemd's "slice:prefix:name" as runc and crun expand it: the slice's
 * ancestors from its dashes (a-b-c.slice is a.slice/a-b.slice/a-b-c.slice,
 * "" is system.slice, -.slice the root), then prefix-name.scope (a name
 * that is itself a .slice stands alone).
 */
static int oci_systemd_path(const char *want, char *out, size_t len)
{
	char slice[256], prefix[128], name[256], *d;
	const char *c1 = strchr(want, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	size_t o = 0, l;

	if (!c2 || strchr(c2 + 1, ':') || (size_t)(c1 - want) >= sizeof(slice) ||
	    (size_t)(c2 - c1 - 1) >= sizeof(prefix) || strlen(c2 + 1) >= sizeof(name) ||
	    !c2[1])
		return -EINVAL;
	memcpy(slice, want, c1 - want);
	slice[c1 - want] = 0;
	memcpy(prefix, c1 + 1, c2 - c1 - 1);
	prefix[c2 - c1 - 1] = 0;
	strcpy(name, c2 + 1);
	if (!*slice)
		strcpy(slice, "system.slice");
	l = strlen(slice);
	if (l < 7 || strcmp(slice + l - 6, ".slice") || strchr(slice, '/'))
		return -EINVAL;
	out[0] = 0;
	if (strcmp(slice, "-.slice")) {
		slice[l - 6] = 0;
		for (d = slice;; d++) {
			if (*d != '-' && *d)
				continue;
			if (d == slice || d[-1] == '-' || (*d == '-' && !d[1]))
				return -EINVAL;
			o += snprintf(out + o, o < len ? len - o : 0, "/%.*s.slice",
				      (int)(d - slice), slice);
			if (!*d)
				break;
		}
	}
	l = strlen(name);
	if (l > 6 && !strcmp(name + l - 6, ".slice"))
		o += snprintf(out + o, o < len ? len - o : 0, "/%s", name);
	else if (*prefix)
		o += snprintf(out + o, o < len ? len - o : 0, "/%s-%s.scope",
			      prefix, name);
	else
		o += snprintf(out + o, o < len ? len - o : 0, "/%s.scope", name);
	return o < len ? 0 : -ENAMETOOLONG;
}

int oci_cgroup_path(const char *proc_cgroup, const char *want, const char *id,
		    char *out, size_t len, char *err, size_t errlen)
{
	const char *p = proc_cgroup, *nl, *path = NULL, *last;
	char expect[4096];
	size_t l = 0, el;
	int ret;

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
		return gdlu_errbuf(err, errlen, -ENOENT,
				   "its process is in no cgroup v2 group");
	if (l >= len)
		return gdlu_errbuf(err, errlen, -ENAMETOOLONG,
				   "its cgroup path is too long");
	memcpy(out, path, l);
	out[l] = 0;
	if (!want || !*want)
		return gdlu_errbuf(err, errlen, -EPERM,
				   "config.json names no linux.cgroupsPath (podman --cgroups=disabled?), so its process in %s is in no cgroup of its own",
				   out);
	if (*want == '/') {
		if (strlen(want) >= sizeof(expect))
			return gdlu_errbuf(err, errlen, -ENAMETOOLONG,
					   "linux.cgroupsPath is too long");
		strcpy(expect, want);
	} else if (strchr(want, ':')) {
		ret = oci_systemd_path(want, expect, sizeof(expect));
		if (ret)
			return gdlu_errbuf(err, errlen, ret,
					   "linux.cgroupsPath '%.200s' is not slice:prefix:name",
					   want);
	} else {
		/* Relative: under the runtime's own cgroup; match the tail. */
		char tail[4096];

		if (snprintf(tail, sizeof(tail), "/%s", want) >= (int)sizeof(tail))
			return gdlu_errbuf(err, errlen, -ENAMETOOLONG,
					   "linux.cgroupsPath is too long");
		el = strlen(tail);
		strcpy(expect, tail);
		if (l >= el && !strcmp(out + l - el, tail)) {
			memcpy(expect, out, l + 1);
		} else if (l >= el + 10 && !strcmp(out + l - 10, "/container") &&
			   !strncmp(out + l - 10 - el, tail, el)) {
			memcpy(expect, out, l - 10);
			expect[l - 10] = 0;
		}
	}
	el = strlen(expect);
	while (el > 1 && expect[el - 1] == '/')
		expect[--el] = 0;
	/* crun's (and runc's, with systemd) leaf: bind the scope above it. */
	if (strcmp(out, expect) && l == el + 10 && !strncmp(out, expect, el) &&
	    !strcmp(out + el, "/container"))
		out[el] = 0;
	if (strcmp(out, expect))
		return gdlu_errbuf(err, errlen, -EPERM,
				   "its process is in cgroup %s, not in the one the engine asked for (%s)",
				   out, expect);
	last = strrchr(out, '/') + 1;
	if (!*last || !strstr(last, id))
		return gdlu_errbuf(err, errlen, -EPERM,
				   "its cgroup %s does not name the container %s",
				   out, id);
	return 0;
}

/* Is "CAP_SYS_ADMIN" in one of @caps' sets? */
static int oci_caps_admin(const struct jr_node *caps)
{
	static const char *const sets[] = { "bounding", "effective", "permitted",
					    "inheritable", "ambient" };
	const struct jr_node *c;
	unsigned int i;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		c = jr_get(caps, sets[i]);
		for (c = c && c->type == JR_ARR ? c->child : NULL; c; c = c->next)
			if (c->type != JR_STR || !strcmp(c->str, "CAP_SYS_ADMIN"))
				return 1;	/* not a name: assume the worst */
	}
	return 0;
}

int oci_admin_capable(const struct jr_node *config, const char *root)
{
	const struct jr_node *caps = jr_get(jr_get(config, "process"), "capabilities");
	const struct jr_node *ns = jr_get(jr_get(config, "linux"), "namespaces");
	char path[PATH_MAX], host[PATH_MAX];
	struct stat a, b;
	const char *type, *nspath;

	if (caps && caps->type != JR_OBJ && caps->type != JR_NULL)
		return 1;
	if (caps && caps->type == JR_OBJ && !oci_caps_admin(caps))
		return 0;
	/* It has CAP_SYS_ADMIN (or root's all): in which user namespace? */
	for (ns = ns && ns->type == JR_ARR ? ns->child : NULL; ns; ns = ns->next) {
		type = jr_str(ns, "type");
		if (!type || strcmp(type, "user"))
			continue;
		nspath = jr_str(ns, "path");
		if (!nspath || !*nspath)
			return 0;	/* a new one: its caps are not the host's */
		snprintf(path, sizeof(path), "%s%s", root, nspath);
		snprintf(host, sizeof(host), "%s/proc/1/ns/user", root);
		if (!stat(path, &a) && !stat(host, &b) &&
		    (a.st_dev != b.st_dev || a.st_ino != b.st_ino))
			return 0;	/* joins another one, not the host's */
		return 1;
	}
	return 1;
}

static const struct jr_node *oci_mount_at(const struct jr_node *config,
					  const char *dst)
{
	const struct jr_node *m = jr_get(config, "mounts"), *found = NULL;
	const char *d;

	/* The last mount at a path is the one the container sees. */
	for (m = m && m->type == JR_ARR ? m->child : NULL; m; m = m->next) {
		d = jr_str(m, "destination");
		if (d && !strcmp(d, dst))
			found = m;
	}
	return found;
}

static int oci_ro(const struct jr_node *m)
{
	const struct jr_node *o = jr_get(m, "options");

	for (o = o && o->type == JR_ARR ? o->child : NULL; o; o = o->next)
		if (o->type == JR_STR && !strcmp(o->str, "ro"))
			return 1;
	return 0;
}

int oci_interposed(const struct jr_node *config, const char *root)
{
	const struct jr_node *pre = oci_mount_at(config, "/etc/ld.so.preload"), *lib;
	char path[PATH_MAX], line[PATH_MAX], *nl;
	const char *src = jr_str(pre, "source"), *base;
	int found = 0;
	FILE *f;

	if (!pre || !oci_ro(pre) || !src || *src != '/')
		return 0;
	snprintf(path, sizeof(path), "%s%s", root, src);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		base = strrchr(line, '/');
		if (!base || strcmp(base + 1, "libgpudmalock-cuda.so"))
			continue;
		lib = oci_mount_at(config, line);
		found = lib && oci_ro(lib);
	}
	fclose(f);
	return found;
}

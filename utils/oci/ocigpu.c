// SPDX-License-Identifier: GPL-2.0
/*
 * Which GPUs a container gets (see ocigpu.h).  Everything here reads
 * tenant-controlled config.json and answers conservatively: a way in that
 * cannot be pinned to one GPU counts as every GPU, never as none.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gdl_parse.h"
#include "gdlu.h"
#include "ocigpu.h"

/* At most this many directory entries are looked at under /dev. */
#define OCI_SCAN_BUDGET 4096

static void oci_host_path(const struct oci_host *h, const char *path,
			  char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", h->root, path);
}

void oci_host_init(struct oci_host *h, const char *root)
{
	char path[PATH_MAX], line[128], name[64];
	struct stat st;
	int major;
	FILE *f;

	h->root = root;
	h->kfd_major = -1;
	h->ledger_rdev = 0;
	oci_host_path(h, "/proc/devices", path, sizeof(path));
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %63s", &major, name) == 2 &&
		    !strcmp(name, "kfd"))
			h->kfd_major = major;
	if (f)
		fclose(f);
	oci_host_path(h, GDL_DEVICE_PATH, path, sizeof(path));
	if (!stat(path, &st) && S_ISCHR(st.st_mode))
		h->ledger_rdev = st.st_rdev;
}

static void oci_add(struct oci_gpus *g, enum oci_gpu_kind kind, uint32_t num,
		    const char *uuid, const char *fmt, const char *what)
{
	struct oci_gpu_ref *r;

	if (!g->n || !g->why[0])
		snprintf(g->why, sizeof(g->why), fmt, what);
	if (g->n == OCI_MAX_GPU_REFS) {
		/* More than anyone is given: every GPU. */
		g->ref[0].kind = OCI_GPU_ALL;
		return;
	}
	r = &g->ref[g->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->num = num;
	if (uuid)
		snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
}

/* A character device by number: is it a GPU, or the ledger's node? */
static int oci_classify(struct oci_gpus *g, const struct oci_host *h,
			unsigned int maj, unsigned int min, const char *fmt,
			const char *what)
{
	if (maj == OCI_NVIDIA_MAJOR && min < 254) {	/* 254 modeset, 255 ctl */
		oci_add(g, OCI_GPU_NV_MINOR, min, NULL, fmt, what);
		return 1;
	}
	if (maj == OCI_DRM_MAJOR) {
		oci_add(g, OCI_GPU_DRI_MINOR, min, NULL, fmt, what);
		return 1;
	}
	if (h->kfd_major >= 0 && maj == (unsigned int)h->kfd_major) {
		oci_add(g, OCI_GPU_ALL, 0, NULL, fmt, what);
		return 1;
	}
	if (h->ledger_rdev && makedev(maj, min) == h->ledger_rdev) {
		g->ledger = 1;	/* accounting asked for; no GPU by itself */
		return 1;
	}
	return 0;
}

/* The GPU nodes in a directory of /dev (depth-bounded); how many. */
static int oci_scan_dir(struct oci_gpus *g, const struct oci_host *h,
			const char *dir, int depth, int *budget,
			const char *fmt, const char *what)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat st;
	int found = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) && (*budget)-- > 0) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path) || lstat(path, &st))
			continue;
		if (S_ISCHR(st.st_mode))
			found += oci_classify(g, h, major(st.st_rdev),
					      minor(st.st_rdev), fmt, what);
		else if (S_ISDIR(st.st_mode) && depth > 0)
			found += oci_scan_dir(g, h, path, depth - 1, budget, fmt,
					      what);
	}
	closedir(d);
	if (*budget <= 0) {	/* too much to look at: assume the worst */
		oci_add(g, OCI_GPU_ALL, 0, NULL, fmt, what);
		found++;
	}
	return found;
}

/*
 * A host path a container gets (a bind mount's source, a device entry
 * without numbers): a GPU node, or a directory of /dev holding some.
 */
static int oci_host_node(struct oci_gpus *g, const struct oci_host *h,
			 const char *src, const char *fmt)
{
	char path[PATH_MAX], real[PATH_MAX];
	size_t rl = strlen(h->root);
	int budget = OCI_SCAN_BUDGET;
	const char *rel;
	struct stat st;

	if (!src || src[0] != '/')
		return 0;
	oci_host_path(h, src, path, sizeof(path));
	if (!realpath(path, real) || stat(real, &st))
		return 0;
	if (S_ISCHR(st.st_mode))
		return oci_classify(g, h, major(st.st_rdev), minor(st.st_rdev),
				    fmt, src);
	if (!S_ISDIR(st.st_mode) || strncmp(real, h->root, rl))
		return 0;
	rel = real + rl;
	if (strcmp(rel, "/dev") && strncmp(rel, "/dev/", 5))
		return 0;	/* device nodes live under /dev alone */
	return oci_scan_dir(g, h, real, 2, &budget, fmt, src);
}

static int oci_json_u32(const struct jr_node *n, uint32_t *out)
{
	char *end;
	long v;

	if (!n || n->type != JR_NUM)
		return -1;
	errno = 0;
	v = strtol(n->str, &end, 10);
	if (errno || *end || v < 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void oci_by_name(struct oci_gpus *g, const char *path)
{
	const char *p;

	if (!path)
		return;
	if (!strncmp(path, "/dev/nvidia", 11)) {
		p = path + 11;
		if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) < 4)
			oci_add(g, OCI_GPU_NV_MINOR, (uint32_t)atoi(p), NULL,
				"device %s", path);
	} else if (!strcmp(path, GDL_DEVICE_PATH)) {
		g->ledger = 1;
	} else if (!strcmp(path, "/dev/kfd") || !strncmp(path, "/dev/dri/", 9)) {
		oci_add(g, OCI_GPU_ALL, 0, NULL, "device %s", path);
	}
}

static void oci_from_devices(struct oci_gpus *g, const struct jr_node *cfg,
			     const struct oci_host *h)
{
	const struct jr_node *d = jr_get(jr_get(cfg, "linux"), "devices");
	uint32_t maj, min;
	const char *type;

	for (d = d && d->type == JR_ARR ? d->child : NULL; d; d = d->next) {
		type = jr_str(d, "type");
		if (type && !strcmp(type, "c") &&
		    !oci_json_u32(jr_get(d, "major"), &maj) &&
		    !oci_json_u32(jr_get(d, "minor"), &min))
			oci_classify(g, h, maj, min, "device %s",
				     jr_str(d, "path") ? jr_str(d, "path") : "?");
		else if (!oci_host_node(g, h, jr_str(d, "path"), "device %s"))
			/* No numbers, no such host node: judge by the name. */
			oci_by_name(g, jr_str(d, "path"));
	}
}

static int oci_has_option(const struct jr_node *m, const char *opt)
{
	const struct jr_node *o = jr_get(m, "options");

	for (o = o && o->type == JR_ARR ? o->child : NULL; o; o = o->next)
		if (o->type == JR_STR && !strcmp(o->str, opt))
			return 1;
	return 0;
}

static void oci_nv_list(struct oci_gpus *g, const char *list, const char *fmt,
			const char *what);

static void oci_from_mounts(struct oci_gpus *g, const struct jr_node *cfg,
			    const struct oci_host *h)
{
	const struct jr_node *m = jr_get(cfg, "mounts");
	const char *type, *dst, *id;

	for (m = m && m->type == JR_ARR ? m->child : NULL; m; m = m->next) {
		type = jr_str(m, "type");
		dst = jr_str(m, "destination");
		if (type && !strcmp(type, "devtmpfs")) {
			oci_add(g, OCI_GPU_ALL, 0, NULL, "a devtmpfs mount at %s",
				dst ? dst : "?");
			continue;
		}
		/* NVIDIA's volume-mounts list: one empty file per device id. */
		if (dst && (!strncmp(dst, "/var/run/nvidia-container-devices/", 34) ||
			    !strncmp(dst, "/run/nvidia-container-devices/", 30))) {
			id = strrchr(dst, '/') + 1;
			oci_nv_list(g, id, "NVIDIA's device list mount %s", dst);
			continue;
		}
		if ((type && !strcmp(type, "bind")) || oci_has_option(m, "bind") ||
		    oci_has_option(m, "rbind"))
			oci_host_node(g, h, jr_str(m, "source"),
				      "a bind mount of %s");
	}
}

/* Does some allow rule let the container read or write @maj (-1: any)? */
static void oci_from_rules(struct oci_gpus *g, const struct jr_node *cfg,
			   const struct oci_host *h)
{
	const struct jr_node *r;
	const char *type, *access;
	uint32_t maj, min;
	int any_maj, any_min, budget = OCI_SCAN_BUDGET;
	char dev[PATH_MAX];

	r = jr_get(jr_get(jr_get(cfg, "linux"), "resources"), "devices");
	for (r = r && r->type == JR_ARR ? r->child : NULL; r; r = r->next) {
		const struct jr_node *allow = jr_get(r, "allow");

		if (!allow || allow->type != JR_BOOL || !allow->boolean)
			continue;
		type = jr_str(r, "type");
		access = jr_str(r, "access");
		if (type && strcmp(type, "a") && strcmp(type, "c"))
			continue;
		if (access && !strpbrk(access, "rw"))
			continue;	/* "m" alone: mknod, no use */
		any_maj = oci_json_u32(jr_get(r, "major"), &maj) != 0;
		any_min = oci_json_u32(jr_get(r, "minor"), &min) != 0;
		if (any_maj) {
			/* Anything it can mknod: a GPU if the host has one. */
			oci_host_path(h, "/dev", dev, sizeof(dev));
			oci_scan_dir(g, h, dev, 2, &budget,
				     "a device rule allowing every device%s", "");
			continue;
		}
		if (any_min && (maj == OCI_NVIDIA_MAJOR || maj == OCI_DRM_MAJOR ||
				(h->kfd_major >= 0 && maj == (uint32_t)h->kfd_major)))
			oci_add(g, OCI_GPU_ALL, 0, NULL,
				"a device rule allowing major %s", maj == OCI_DRM_MAJOR ?
				"226" : maj == OCI_NVIDIA_MAJOR ? "195" : "kfd");
		else if (!any_min)
			oci_classify(g, h, maj, min, "a device rule allowing %s",
				     "a GPU's major:minor");
	}
}

/* NVIDIA_VISIBLE_DEVICES' grammar: all, or indices, GPU- and MIG- ids. */
static void oci_nv_list(struct oci_gpus *g, const char *list, const char *fmt,
			const char *what)
{
	char item[64];
	const char *p = list;
	uint32_t idx;
	size_t l;

	for (;;) {
		l = strcspn(p, ",");
		if (l && l < sizeof(item)) {
			memcpy(item, p, l);
			item[l] = 0;
			if (strspn(item, "0123456789") == l && l < 10 &&
			    !gdlu_parse_u32(item, &idx))
				oci_add(g, OCI_GPU_NV_INDEX, idx, NULL, fmt, what);
			else if (!strncmp(item, "GPU-", 4))
				oci_add(g, OCI_GPU_NV_UUID, 0, item, fmt, what);
			else	/* all, MIG-..., anything else */
				oci_add(g, OCI_GPU_ALL, 0, NULL, fmt, what);
		} else if (l) {
			oci_add(g, OCI_GPU_ALL, 0, NULL, fmt, what);
		}
		if (!p[l])
			break;
		p += l + 1;
	}
}

static void oci_from_nvidia(struct oci_gpus *g, const struct jr_node *cfg)
{
	static const char *const stages[] = { "prestart", "createRuntime",
					      "createContainer", "startContainer" };
	const struct jr_node *e = jr_get(jr_get(cfg, "process"), "env"), *k;
	const char *val = NULL, *path, *base;
	unsigned int i;

	for (e = e && e->type == JR_ARR ? e->child : NULL; e; e = e->next)
		if (e->type == JR_STR &&
		    !strncmp(e->str, "NVIDIA_VISIBLE_DEVICES=", 23))
			val = e->str + 23;	/* the last one wins, as in execve */
	if (val && *val && strcmp(val, "void") && strcmp(val, "none"))
		oci_nv_list(g, val, "NVIDIA_VISIBLE_DEVICES=%s", val);
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		k = jr_get(jr_get(cfg, "hooks"), stages[i]);
		for (k = k && k->type == JR_ARR ? k->child : NULL; k; k = k->next) {
			path = jr_str(k, "path");
			base = path ? strrchr(path, '/') : NULL;
			base = base ? base + 1 : path;
			if (base && (!strcmp(base, "nvidia-container-runtime-hook") ||
				     !strcmp(base, "nvidia-container-toolkit")) &&
			    !val)	/* it decides alone: assume every GPU */
				oci_add(g, OCI_GPU_ALL, 0, NULL,
					"NVIDIA's runtime hook %s", path);
		}
	}
}

/* cdi.k8s.io/<anything>: "vendor.com/class=name,vendor.com/class=name". */
static void oci_from_cdi(struct oci_gpus *g, const struct jr_node *annots)
{
	const struct jr_node *a;
	char item[256], *eq, *slash;
	const char *p;
	size_t l;
	int gpu;

	for (a = annots && annots->type == JR_OBJ ? annots->child : NULL; a;
	     a = a->next) {
		if (strncmp(a->key, "cdi.k8s.io/", 11) || a->type != JR_STR)
			continue;
		for (p = a->str;; p += l + 1) {
			l = strcspn(p, ",");
			if (l >= sizeof(item)) {
				oci_add(g, OCI_GPU_ALL, 0, NULL, "CDI request %s", a->key);
			} else if (l) {
				memcpy(item, p, l);
				item[l] = 0;
				eq = strchr(item, '=');
				slash = strchr(item, '/');
				if (eq)
					*eq++ = 0;
				if (!strncmp(item, "gpu-dma-lock.io/", 16))
					g->ledger = 1;
				gpu = !strncmp(item, "nvidia.com/", 11) ||
				      !strncmp(item, "amd.com/", 8) ||
				      !strncmp(item, "intel.com/", 10) ||
				      (slash && strstr(slash, "gpu"));
				if (gpu && eq && !strncmp(item, "nvidia.com/", 11))
					oci_nv_list(g, eq, "CDI request %s", a->str);
				else if (gpu)
					oci_add(g, OCI_GPU_ALL, 0, NULL,
						"CDI request %s", a->str);
			}
			if (!p[l])
				break;
		}
	}
}

int oci_gpus_find(const struct jr_node *config, const struct jr_node *annots,
		  const struct oci_host *h, struct oci_gpus *g)
{
	memset(g, 0, sizeof(*g));
	oci_from_devices(g, config, h);
	oci_from_mounts(g, config, h);
	oci_from_rules(g, config, h);
	oci_from_nvidia(g, config);
	oci_from_cdi(g, jr_get(config, "annotations"));
	oci_from_cdi(g, annots);
	/*
	 * The ledger's node (the CDI device gpu-dma-lock.io/agent) asks for
	 * accounting: with no GPU named otherwise, on every GPU.
	 */
	if (!g->n && g->ledger)
		oci_add(g, OCI_GPU_ALL, 0, NULL, "%s", "the ledger's node " GDL_DEVICE_PATH);
	return g->n;
}

/* ROOT/proc/driver/nvidia/gpus/<pci>/information, one GPU at a time. */
struct oci_nv_gpu {
	char pci[32];
	uint32_t minor;
	char uuid[48];
};

static int oci_pci_cmp(const void *a, const void *b)
{
	return strcmp(((const struct oci_nv_gpu *)a)->pci,
		      ((const struct oci_nv_gpu *)b)->pci);
}

static int oci_nv_gpus(const struct oci_host *h, struct oci_nv_gpu *out, int cap)
{
	char dir[PATH_MAX], path[PATH_MAX], line[256];
	struct dirent *e;
	int n = 0;
	FILE *f;
	DIR *d;

	oci_host_path(h, "/proc/driver/nvidia/gpus", dir, sizeof(dir));
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < cap) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(out[n].pci) ||
		    snprintf(path, sizeof(path), "%s/%s/information", dir,
			     e->d_name) >= (int)sizeof(path))
			continue;
		f = fopen(path, "re");
		if (!f)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].minor = UINT32_MAX;
		strcpy(out[n].pci, e->d_name);
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "Device Minor: %u", &out[n].minor);
			sscanf(line, "GPU UUID: %47s", out[n].uuid);
		}
		fclose(f);
		n++;
	}
	closedir(d);
	/* NVML numbers GPUs in PCI bus order, as NVIDIA_VISIBLE_DEVICES does. */
	qsort(out, n, sizeof(out[0]), oci_pci_cmp);
	return n;
}

/* The ledger position of the GPU at PCI address @pci; -1 when unmanaged. */
static int oci_by_pci(const char *pci, const struct gdl_device_info *d, int nd)
{
	unsigned int dom, bdf;
	int i;

	if (gdl_parse_pci_addr(pci, &dom, &bdf))
		return -1;
	for (i = 0; i < nd; i++)
		if ((d[i].flags & GDL_DEV_F_PCI) && d[i].pci_domain == dom &&
		    d[i].pci_bdf == bdf)
			return i;
	return -1;
}

/* -2: cannot be resolved here; -1: resolved, not the ledger's; else i. */
static int oci_resolve_ref(const struct oci_gpu_ref *r, const struct oci_host *h,
			   const struct oci_nv_gpu *nv, int nnv,
			   const struct gdl_device_info *d, int nd)
{
	char path[PATH_MAX], link[PATH_MAX], node[64];
	const char *base;
	ssize_t l;
	int i;

	switch (r->kind) {
	case OCI_GPU_NV_MINOR:
		for (i = 0; i < nnv; i++)
			if (nv[i].minor == r->num)
				return oci_by_pci(nv[i].pci, d, nd);
		return -2;
	case OCI_GPU_NV_INDEX:
		return (int)r->num < nnv ? oci_by_pci(nv[r->num].pci, d, nd) : -2;
	case OCI_GPU_NV_UUID:
		for (i = 0; i < nnv; i++)
			if (!strcasecmp(nv[i].uuid, r->uuid))
				return oci_by_pci(nv[i].pci, d, nd);
		return -2;
	case OCI_GPU_DRI_MINOR:
		snprintf(node, sizeof(node), "/sys/dev/char/%u:%u/device",
			 OCI_DRM_MAJOR, r->num);
		oci_host_path(h, node, path, sizeof(path));
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			return -2;
		link[l] = 0;
		base = strrchr(link, '/');
		return oci_by_pci(base ? base + 1 : link, d, nd);
	case OCI_GPU_ALL:
	default:
		return -2;
	}
}

uint64_t oci_gpus_resolve(const struct oci_gpus *g, const struct oci_host *h,
			  const struct gdl_device_info *d, int nd)
{
	uint64_t every = nd >= 64 ? ~0ULL : (1ULL << nd) - 1, mask = 0;
	struct oci_nv_gpu nv[GDL_MAX_DEVICES];
	int i, nnv = oci_nv_gpus(h, nv, GDL_MAX_DEVICES), at;

	for (i = 0; i < g->n; i++) {
		at = oci_resolve_ref(&g->ref[i], h, nv, nnv, d, nd);
		if (at == -2)
			return every;
		if (at >= 0)
			mask |= 1ULL << at;
	}
	return mask;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Kubernetes allocations and pod labels for the OCI hook (ocialloc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocialloc.h"

int oci_alloc_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n && n <= OCI_ALLOC_ID_MAX &&
	       strspn(id, "0123456789abcdef") == n;
}

/* Up to @len - 1 bytes of a root-owned, root-only-writable regular file. */
static int read_root_file(const char *path, char *buf, size_t len)
{
	struct stat st;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		return -errno;
	buf[r] = 0;
	return 0;
}

/* The value of the line "@key = VALUE" of @text into @out. */
static int line_value(const char *text, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key), vl;
	const char *p, *v;

	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) || strncmp(p + kl, " = ", 3))
			continue;
		v = p + kl + 3;
		vl = strcspn(v, "\n");
		if (!vl || vl >= len)
			return -EINVAL;
		memcpy(out, v, vl);
		out[vl] = 0;
		return 0;
	}
	return -ENOENT;
}

int oci_alloc_grant(const char *dir, const char *id, char *grant, size_t len,
		    char *err, size_t errlen)
{
	char path[4096], text[8192];
	int ret;

	if (!oci_alloc_id_ok(id)) {
		snprintf(err, errlen, "--alloc '%.80s' is no allocation id", id);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	ret = read_root_file(path, text, sizeof(text));
	if (ret == -ENOENT)
		snprintf(err, errlen, "allocation %s has no record %s: the device plugin never made it, or gc collected it after its pod went",
			 id, path);
	else if (ret == -EPERM)
		snprintf(err, errlen, "%s is not a regular file of root's that only root may write; the grant in it cannot be trusted",
			 path);
	else if (ret)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	else if ((ret = line_value(text, "grant", grant, len)))
		snprintf(err, errlen, "%s has no usable \"grant = ...\" line", path);
	return ret;
}

/* containerd's marks and CRI-O's: see oci_pod_uid(). */
#define CTD_SANDBOX_ID	"io.kubernetes.cri.sandbox-id"
#define CTD_POD_UID	"io.kubernetes.cri.sandbox-uid"
#define CRIO_MANAGER	"io.container.manager"
#define CRIO_SANDBOX_ID	"io.kubernetes.cri-o.SandboxID"
#define CRIO_POD_UID	"io.kubernetes.pod.uid"

/*
 * CRI-O's container, as far as its own marks go: io.container.manager is
 * "cri-o" and it names a sandbox.  CRI-O writes both after the pod's
 * annotations (internal/factory/container/container.go,
 * SpecAddAnnotations), so on CRI-O they are CRI-O's.
 */
static int crio_marked(const struct jr_node *ann)
{
	const char *m = jr_str(ann, CRIO_MANAGER);

	return m && !strcmp(m, "cri-o") && jr_str(ann, CRIO_SANDBOX_ID);
}

/* A pod UID: 1 to 128 of [A-Za-z0-9-] (the API server's are UUIDs). */
static int uid_ok(const char *u)
{
	size_t n = strlen(u);

	return n && n <= 128 &&
	       strspn(u, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

/* @v for a message: at most 64 bytes, anything outside a UID's set as '?'. */
static const char *shown(const char *v, char *buf, size_t len)
{
	size_t i;

	for (i = 0; v[i] && i < 64 && i + 1 < len; i++)
		buf[i] = strchr("abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", v[i]) ?
			 v[i] : '?';
	buf[i] = 0;
	return buf;
}

/*
 * Whether a component of the cgroup path @cg is the kubelet's pod cgroup
 * of @uid: "pod<uid>" (cgroupfs) or "<...>-pod<uid, - as _>.slice"
 * (systemd).
 */
static int in_pod_cgroup(const char *cg, const char *uid)
{
	char fs[160], sd[160], *c;
	size_t n, ls;
	const char *p, *e;

	snprintf(fs, sizeof(fs), "pod%s", uid);
	snprintf(sd, sizeof(sd), "-pod%s.slice", uid);
	for (c = sd; *c; c++)
		if (*c == '-' && c != sd)
			*c = '_';
	ls = strlen(sd);
	for (p = cg; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if ((n == strlen(fs) && !strncmp(p, fs, n)) ||
		    (n > ls && !strncmp(e - ls, sd, ls)))
			return 1;
	}
	return 0;
}

int oci_pod_uid(const struct jr_node *ann, const char *cgpath,
		const char **uid, char *err, size_t errlen)
{
	const char *ctd = jr_str(ann, CTD_POD_UID), *crio = NULL, *u;
	char a[72], b[72];

	*uid = NULL;
	if (crio_marked(ann))
		crio = jr_str(ann, CRIO_POD_UID);
	if (ctd && crio && strcmp(ctd, crio)) {
		snprintf(err, errlen, "carries two pod UIDs, containerd's %s = '%s' and CRI-O's %s = '%s': one runtime passed a pod's forged annotation through",
			 CTD_POD_UID, shown(ctd, a, sizeof(a)), CRIO_POD_UID,
			 shown(crio, b, sizeof(b)));
		return -EPERM;
	}
	u = ctd ? ctd : crio;
	if (!u || !*u) {
		snprintf(err, errlen, "has no pod UID from the CRI runtime (containerd's %s, or CRI-O's %s with %s = cri-o)",
			 CTD_POD_UID, CRIO_POD_UID, CRIO_MANAGER);
		return -ENOENT;
	}
	if (!uid_ok(u)) {
		snprintf(err, errlen, "has a pod UID '%s' that is no Kubernetes UID",
			 shown(u, a, sizeof(a)));
		return -EINVAL;
	}
	if (!in_pod_cgroup(cgpath, u)) {
		snprintf(err, errlen, "names pod UID %s, but its cgroup %.1024s is not in that pod's cgroup (the kubelet's pod%s, or -pod<UID>.slice with systemd): a forged UID, or a kubelet without pod cgroups (cgroupsPerQOS=false)",
			 u, cgpath, u);
		return -EPERM;
	}
	*uid = u;
	return 0;
}

int oci_alloc_claim(const char *dir, const char *id, const char *uid,
		    const char *podcg, char *err, size_t errlen)
{
	char path[4096], text[4096], owner[256];
	int fd, ret, n;

	snprintf(path, sizeof(path), "%s/%s.claim", dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		n = dprintf(fd, "pod = %s\ncgroup = %s\n", uid, podcg);
		ret = n < 0 || close(fd) ? -EIO : 0;
		if (n < 0)
			close(fd);
		if (ret) {
			unlink(path);
			snprintf(err, errlen, "cannot write %s", path);
		}
		return ret;
	}
	if (errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = read_root_file(path, text, sizeof(text));
	if (!ret)
		ret = line_value(text, "pod", owner, sizeof(owner));
	if (ret) {
		snprintf(err, errlen, "cannot read the claim %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	if (strcmp(owner, uid)) {
		snprintf(err, errlen, "allocation %s was granted to pod %s, and this container is pod %s's: a pod cannot use another pod's allocation; refused",
			 id, owner, uid);
		return -EPERM;
	}
	return 0;
}

int oci_alloc_count(const struct jr_node *config)
{
	const char *seen[8];
	const struct jr_node *stage, *hook, *a;
	int n = 0, i;

	for (stage = jr_get(config, "hooks"), stage = stage ? stage->child : NULL;
	     stage; stage = stage->next) {
		if (stage->type != JR_ARR)
			continue;
		for (hook = stage->child; hook; hook = hook->next) {
			for (a = jr_get(hook, "args"), a = a ? a->child : NULL;
			     a && a->next; a = a->next) {
				if (a->type != JR_STR || strcmp(a->str, "--alloc") ||
				    a->next->type != JR_STR)
					continue;
				for (i = 0; i < n && strcmp(seen[i], a->next->str); i++)
					;
				if (i == n && n < 8)
					seen[n++] = a->next->str;
			}
		}
	}
	return n;
}

/* A label value: 1 to 253 of [A-Za-z0-9._-] (a DNS subdomain's set). */
static int label_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0;

	return n && n <= 253 &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int oci_labels_write(const char *dir, const char *agent,
		     const struct jr_node *ann)
{
	static const char *const ctd_keys[][2] = {
		{ "namespace", "io.kubernetes.cri.sandbox-namespace" },
		{ "pod", "io.kubernetes.cri.sandbox-name" },
		{ "container", "io.kubernetes.cri.container-name" },
	};
	/* The kubelet's container labels, which CRI-O copies last. */
	static const char *const crio_keys[][2] = {
		{ "namespace", "io.kubernetes.pod.namespace" },
		{ "pod", "io.kubernetes.pod.name" },
		{ "container", "io.kubernetes.container.name" },
	};
	const char *const (*keys)[2];
	char path[4096], tmp[4200], *p;
	int ctd, crio;
	const char *v;
	unsigned int i;
	FILE *f;

	ctd = jr_str(ann, CTD_SANDBOX_ID) != NULL;
	crio = crio_marked(ann);
	if (ctd == crio)
		return 0;	/* no CRI container, or both marks: no pod to name */
	keys = ctd ? ctd_keys : crio_keys;
	if (ctd && !label_ok(jr_str(ann, CTD_SANDBOX_ID)))
		return 0;
	/* mkdir -p: /run/gpu-dma-lock itself is new after a reboot. */
	snprintf(path, sizeof(path), "%s", dir);
	for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, agent);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "wxe");
	if (!f)
		return -errno;
	for (i = 0; i < sizeof(ctd_keys) / sizeof(ctd_keys[0]); i++) {
		v = jr_str(ann, keys[i][1]);
		if (label_ok(v))
			fprintf(f, "%s=%s\n", keys[i][0], v);
	}
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

void oci_labels_remove(const char *dir, const char *agent)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, agent);
	unlink(path);
}

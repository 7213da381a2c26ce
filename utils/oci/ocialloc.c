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
	static const char *const keys[][2] = {
		{ "namespace", "io.kubernetes.cri.sandbox-namespace" },
		{ "pod", "io.kubernetes.cri.sandbox-name" },
		{ "container", "io.kubernetes.cri.container-name" },
	};
	char path[4096], tmp[4200], *p;
	const char *v;
	unsigned int i;
	FILE *f;

	if (!label_ok(jr_str(ann, "io.kubernetes.cri.sandbox-id")))
		return 0;	/* not a CRI container: no pod to name */
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
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
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

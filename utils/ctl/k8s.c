// SPDX-License-Identifier: GPL-2.0
/*
 * What the OCI hook keeps for Kubernetes under /run/gpu-dma-lock
 * (utils/oci/ocialloc.h): the labels of each agent it made (the pod's
 * namespace, name and container), which agent list, stats and watch
 * show, and the device plugin's allocations, which gc collects once
 * their pod is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "../oci/ocialloc.h"

/* A record's name: the plugin's ids (hex), not its .claim or .tmp files. */
static bool alloc_name(const char *s)
{
	size_t n = strlen(s);

	return n && n <= OCI_ALLOC_ID_MAX && strspn(s, "0123456789abcdef") == n;
}

/* An allocation no container has claimed: collected after this long. */
#define ALLOC_UNCLAIMED_MAX	3600

/* The value of "@key@sep VALUE" lines of @path into @out ("" if none). */
static void file_value(const char *path, const char *key, const char *sep,
		       char *out, size_t len)
{
	char line[4200];
	size_t kl = strlen(key), sl = strlen(sep);
	FILE *f = fopen(path, "re");

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, key, kl) && !strncmp(line + kl, sep, sl)) {
			snprintf(out, len, "%s", line + kl + sl);
			break;
		}
	}
	fclose(f);
}

bool ctl_labels(const char *agent, struct ctl_labels *l)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", OCI_LABEL_DIR, agent);
	file_value(path, "namespace", "=", l->ns, sizeof(l->ns));
	file_value(path, "pod", "=", l->pod, sizeof(l->pod));
	file_value(path, "container", "=", l->ctr, sizeof(l->ctr));
	return l->ns[0] || l->pod[0] || l->ctr[0];
}

void ctl_labels_forget(const char *agent)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", OCI_LABEL_DIR, agent);
	unlink(path);
}

/*
 * The allocations whose pod is gone (the pod cgroup its first container
 * recorded no longer exists), or that no container claimed within
 * ALLOC_UNCLAIMED_MAX: their CDI spec, claim and record removed.  The
 * number collected.
 */
int ctl_gc_allocations(bool dry)
{
	char rec[512], claim[520], cg[4200], spec[4200];
	struct dirent *e;
	struct stat st;
	int n = 0;
	DIR *d = opendir(OCI_ALLOC_DIR);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!alloc_name(e->d_name))
			continue;
		snprintf(rec, sizeof(rec), "%s/%s", OCI_ALLOC_DIR, e->d_name);
		snprintf(claim, sizeof(claim), "%s.claim", rec);
		cg[0] = 0;
		if (!stat(claim, &st)) {
			file_value(claim, "cgroup", " = ", cg, sizeof(cg));
			if (cg[0] == '/' && !stat(cg, &st))
				continue;	/* its pod is there */
		} else if (stat(rec, &st) ||
			   time(NULL) - st.st_mtime < ALLOC_UNCLAIMED_MAX) {
			continue;	/* not started yet, perhaps */
		}
		file_value(rec, "spec", " = ", spec, sizeof(spec));
		printf("gc: %s allocation %s (%s)\n", dry ? "would remove" : "removed",
		       e->d_name, cg[0] ? "its pod is gone" : "never claimed");
		n++;
		if (dry)
			continue;
		if (spec[0] == '/')
			unlink(spec);
		unlink(claim);
		unlink(rec);
	}
	closedir(d);
	return n;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgpudmalock: /proc/gpu_dma_lock/holders as structs, so that the ctl
 * and the bindings share one parser of that table.  It is the admin's way
 * to find who holds memory, including memory charged to a destroyed
 * agent; the ioctl ABI has no list of other files' handles.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpudmalock.h"

#define GDLOCK_API __attribute__((visibility("default")))

/* The header's leading columns; the module may append more later. */
static const char holders_head[] = "pid handle agent state device size kind";

/* One row: 0, or -EBADMSG for anything that is not one. */
static int holder_parse(const char *line, struct gdlock_holder *h)
{
	char state[16], kind[16];
	unsigned long long handle, size;
	unsigned int agent, dev;
	int pid, end = 0;

	if (sscanf(line, "%d %llu %u %15s %u %llu %15s%n", &pid, &handle,
		   &agent, state, &dev, &size, kind, &end) != 7 || pid < 0)
		return -EBADMSG;
	if (line[end] && line[end] != ' ' && line[end] != '\n')
		return -EBADMSG;
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	h->handle = handle;
	h->agent_id = agent;
	h->dev_index = dev;
	h->size = size;
	if (!strcmp(state, "destroyed"))
		h->flags |= GDLOCK_HOLDER_DESTROYED;
	else if (strcmp(state, "live"))
		return -EBADMSG;
	if (!strcmp(kind, "attached"))
		h->flags |= GDLOCK_HOLDER_ATTACHED;
	else if (strcmp(kind, "reserved"))
		return -EBADMSG;
	return 0;
}

GDLOCK_API int gdlock_holders(const char *path, struct gdlock_holder *buf,
			      unsigned int cap)
{
	struct gdlock_holder h;
	char *line = NULL;
	size_t len = 0;
	unsigned int n = 0;
	int ret = 0;
	FILE *f;

	if (!buf && cap)
		return -EINVAL;
	f = fopen(path ? path : GDLOCK_HOLDERS_PATH, "re");
	if (!f)
		return -errno;
	if (getline(&line, &len, f) < 0 ||
	    strncmp(line, holders_head, sizeof(holders_head) - 1)) {
		ret = ferror(f) ? -EIO : -EBADMSG;
		goto out;
	}
	while (getline(&line, &len, f) >= 0) {
		ret = holder_parse(line, &h);
		if (ret)
			goto out;
		if (n < cap)
			buf[n] = h;
		if (n == INT32_MAX) {
			ret = -EOVERFLOW;
			goto out;
		}
		n++;
	}
	ret = ferror(f) ? -EIO : (int)n;
out:
	free(line);
	fclose(f);
	return ret;
}

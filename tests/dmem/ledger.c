// SPDX-License-Identifier: GPL-2.0
/*
 * ledger: the library calls the dmem tier needs that the ctl does not
 * make (test code, never installed):
 *
 *   ledger ensure NAME DEV BYTES CGROUP   gdlock_agent_ensure(), as the
 *                                         Slurm plugin makes it for a job
 *   ledger retire NAME                    gdlock_agent_retire()
 *   ledger rawquota NAME DEV BYTES        GDL_IOC_QUOTA_SET straight on
 *                                         the device node: no library,
 *                                         no sync, only the follower can
 *                                         see it
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gpudmalock.h"

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*end) {
		fprintf(stderr, "ledger: '%s' is not a number\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct gdlock_ensure_quota q = { 0 };
	struct gdl_quota_set qs = { 0 };
	struct gdlock *g;
	int ret = -EINVAL;

	if (argc < 3) {
		fprintf(stderr, "usage: ledger ensure|retire|rawquota NAME ...\n");
		return 2;
	}
	ret = gdlock_open(&g);
	if (ret) {
		fprintf(stderr, "ledger: %s\n", gdlock_strerror(ret));
		return 1;
	}
	if (!strcmp(argv[1], "ensure") && argc == 6) {
		q.device = (uint32_t)num(argv[3]);
		q.bytes = num(argv[4]);
		ret = gdlock_agent_ensure(g, argv[2], &q, 1, argv[5], NULL);
	} else if (!strcmp(argv[1], "retire") && argc == 3) {
		ret = gdlock_agent_retire(g, argv[2]);
	} else if (!strcmp(argv[1], "rawquota") && argc == 5) {
		ret = gdlock_agent_find(g, argv[2], &qs.agent_id);
		qs.dev_index = (uint32_t)num(argv[3]);
		qs.quota = num(argv[4]);
		if (!ret && ioctl(gdlock_fd(g), GDL_IOC_QUOTA_SET, &qs))
			ret = -errno;
	} else {
		fprintf(stderr, "usage: ledger ensure|retire|rawquota NAME ...\n");
		ret = -EINVAL;
	}
	if (ret)
		fprintf(stderr, "ledger %s: %s\n", argv[1], gdlock_strerror(ret));
	gdlock_close(g);
	return ret ? 1 : 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the hostile-conditions tests (fuzz.c, hostile.c): raw
 * ioctls, dropping privileges, and the ledger's invariants read back
 * through GDL_IOC_STATS / GDL_IOC_QUOTA_GET.  Case accounting comes from
 * tests/common/tcheck.h.
 */
#ifndef GDL_HCOMMON_H
#define GDL_HCOMMON_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpudmalock.h"
#include "tcheck.h"


/* Write @s to a sysfs or cgroup file: 0 or -errno. */
static inline int h_write_str(const char *path, const char *s)
{
	int f = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (f < 0)
		return -errno;
	if (write(f, s, strlen(s)) < 0)
		ret = -errno;
	close(f);
	return ret;
}

static inline int h_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline int h_open(void)
{
	int fd = open(GDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", GDL_DEVICE_PATH,
			strerror(errno));
		exit(2);
	}
	return fd;
}

static inline int h_drop_privs(void)
{
	return setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	       setresuid(65534, 65534, 65534) ? -1 : 0;
}

/* A list command through raw ioctls: how many exist, at most @cap stored. */
static inline int h_list(int fd, unsigned long cmd, uint32_t filter, void *buf,
			 unsigned int cap, size_t esize)
{
	struct gdl_array a = { .ptr = (uintptr_t)buf, .count = cap,
			       .entry_size = (uint32_t)esize,
			       .filter_agent = filter };
	int r = h_ioctl(fd, cmd, &a);

	return r ? r : (int)a.count;
}

/* Wait for @n worker processes; each must have exited with status 0. */
static inline void h_reap_workers(const pid_t *pids, int n)
{
	int i, st;

	for (i = 0; i < n; i++) {
		waitpid(pids[i], &st, 0);
		t_check(WIFEXITED(st) && !WEXITSTATUS(st), "worker %d exit %#x",
			i, st);
	}
}

static inline int h_stats(int fd, struct gdl_stats *s)
{
	memset(s, 0, sizeof(*s));
	return h_ioctl(fd, GDL_IOC_STATS, s);
}

/*
 * The ledger at rest: no reservation left, only @files open, consistent,
 * every agent's usage and reservation count 0 on every device.  Returns the
 * number of violations and prints each one.
 */
static int h_invariants(int fd, unsigned int files, const char *when)
{
	struct gdl_device_info dev[GDL_MAX_DEVICES];
	struct gdl_agent_info *ag;
	struct gdl_stats s;
	int bad = 0, nd, na, i, j;

	if (h_stats(fd, &s)) {
		printf("FAIL %s: invariants (%s): STATS failed\n", t_section, when);
		return 1;
	}
#define H_INV(cond, ...) do { if (!(cond)) { bad++;			\
	printf("FAIL %s: invariant (%s): ", t_section, when);		\
	printf(__VA_ARGS__); printf("\n"); } } while (0)
	H_INV(s.counters[GDL_STAT_LIVE_RESERVATIONS] == 0,
	      "live reservations %llu",
	      (unsigned long long)s.counters[GDL_STAT_LIVE_RESERVATIONS]);
	H_INV(s.counters[GDL_STAT_LIVE_FILES] == files, "live files %llu != %u",
	      (unsigned long long)s.counters[GDL_STAT_LIVE_FILES], files);
	H_INV(s.counters[GDL_STAT_LEDGER_CONSISTENT] == 1, "ledger inconsistent");
	nd = h_list(fd, GDL_IOC_DEVICE_LIST, 0, dev, GDL_MAX_DEVICES, sizeof(dev[0]));
	H_INV(nd >= 0, "device list %d", nd);
	for (i = 0; i < nd && i < GDL_MAX_DEVICES; i++)
		H_INV(dev[i].used == 0 && dev[i].nr_reservations == 0,
		      "device %u used %llu nr %llu", dev[i].index,
		      (unsigned long long)dev[i].used,
		      (unsigned long long)dev[i].nr_reservations);
	ag = calloc(70000, sizeof(*ag));
	na = ag ? h_list(fd, GDL_IOC_AGENT_LIST, 0, ag, 70000, sizeof(*ag)) : -ENOMEM;
	H_INV(na >= 0, "agent list %d", na);
	for (i = 0; i < na && i < 70000; i++) {
		for (j = 0; j < nd && j < GDL_MAX_DEVICES; j++) {
			struct gdl_quota q = { .agent_id = ag[i].id,
					       .dev_index = dev[j].index };
			int r = h_ioctl(fd, GDL_IOC_QUOTA_GET, &q);

			H_INV(!r && q.usage == 0 && q.nr_reservations == 0,
			      "agent %#x dev %u usage %llu nr %llu (r=%d)",
			      ag[i].id, dev[j].index,
			      (unsigned long long)q.usage,
			      (unsigned long long)q.nr_reservations, r);
		}
	}
	free(ag);
#undef H_INV
	t_check(!bad, "invariants hold (%s)", when);
	return bad;
}

#endif /* GDL_HCOMMON_H */

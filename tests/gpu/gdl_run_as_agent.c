// SPDX-License-Identifier: GPL-2.0
/*
 * gdl_run_as_agent QUOTA_MIB COMMAND [ARGS...]  (root, module loaded)
 * Creates (or reuses) agent "gpu-test" with QUOTA_MIB on every device,
 * binds the cgroup /sys/fs/cgroup/gdl-gpu-test to it, joins that cgroup
 * and executes COMMAND, which therefore runs as the agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpudmalock.h"

#define CG "/sys/fs/cgroup/gdl-gpu-test"

int main(int argc, char **argv)
{
	struct gdlock *g;
	uint32_t agent;
	char pid[32];
	int ret, fd;

	if (argc < 3) {
		fprintf(stderr, "usage: gdl_run_as_agent QUOTA_MIB COMMAND...\n");
		return 2;
	}
	ret = gdlock_open(&g);
	if (!ret) {
		ret = gdlock_agent_find(g, "gpu-test", &agent);
		if (ret == -ENOENT)
			ret = gdlock_agent_create(g, "gpu-test", 0, &agent);
	}
	if (!ret)
		ret = gdlock_quota_set(g, agent, GDL_ALL_DEVICES,
				       strtoull(argv[1], NULL, 0) << 20);
	mkdir(CG, 0755);
	if (!ret) {
		ret = gdlock_bind_cgroup(g, agent, CG);
		if (ret == -EEXIST)
			ret = 0;
	}
	if (ret) {
		fprintf(stderr, "gdl_run_as_agent: %s\n", gdlock_strerror(ret));
		return 1;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	fd = open(CG "/cgroup.procs", O_WRONLY);
	if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
		perror(CG);
		return 1;
	}
	close(fd);
	gdlock_close(g);
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}

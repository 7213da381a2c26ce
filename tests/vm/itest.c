// SPDX-License-Identifier: GPL-2.0
/*
 * Integration tests of the gpu_dma_lock module, run inside the test VM
 * against the real ABI (through libgpudmalock and raw ioctls).
 *
 *   itest MODE     MODE is "deny" (module loaded with default_policy=deny,
 *                  pci_ids naming 2+ edu devices), "default"
 *                  (default_policy=default default_quota=1M) or "hotplug"
 *                  (as deny; removes and rescans an edu device: what a
 *                  gone device refuses, shares included, and its events)
 *
 * Runs as root; the unprivileged cases run in children that drop to
 * uid/gid 65534.  Prints one line per check and a final
 * "itest: N passed, M failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpudmalock.h"
#include "tcheck.h"
#include "tdevice.h"

#define MiB (1024ULL * 1024)
#define CG_PROCS "/sys/fs/cgroup/gdl-test-b/cgroup.procs"


static struct gdlock *g;

static struct gdlock *xopen(void)
{
	struct gdlock *h;
	int ret = gdlock_open(&h);

	if (ret) {
		fprintf(stderr, "open %s: %s\n", GDL_DEVICE_PATH,
			gdlock_strerror(ret));
		exit(2);
	}
	return h;
}

static int raw_ioctl(unsigned long cmd, void *arg)
{
	return ioctl(gdlock_fd(g), cmd, arg) < 0 ? -errno : 0;
}

static int proc_col(const char *path, int key_col, const char *key, int col,
		    char *val, size_t len);

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static uint64_t stat_of(int idx)
{
	struct gdl_stats s;

	if (gdlock_stats(g, &s))
		return ~0ULL;
	return s.counters[idx];
}

static uint64_t usage_of(uint32_t agent, uint32_t dev)
{
	struct gdl_quota q;

	if (gdlock_quota_get(g, agent, dev, &q))
		return ~0ULL;
	return q.usage;
}

/* Run @fn in a child as uid/gid 65534; returns the child's exit code. */
static int as_nobody(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(99);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_abi(void)
{
	struct gdl_version v;
	unsigned char big[sizeof(struct gdl_version) + 16];
	struct gdl_reserve r;

	t_section = "abi";
	T_EXPECT(gdlock_nop(g), 0);
	T_EXPECT(gdlock_version(g, &v), 0);
	T_TRUE(v.abi_major == GDL_ABI_MAJOR && v.max_devices == 32);
	T_TRUE(v.module_version[0] != 0);
	/* Unknown command, wrong type, wrong direction. */
	T_EXPECT(raw_ioctl(_IO(GDL_IOC_MAGIC, 0x7f), NULL), -ENOTTY);
	T_EXPECT(raw_ioctl(_IOR('x', 0x01, struct gdl_version), &v), -ENOTTY);
	T_EXPECT(raw_ioctl(_IOW(GDL_IOC_MAGIC, 0x01, struct gdl_version), &v),
	       -ENOTTY);
	/* Older (shorter) than version 1 of the struct. */
	T_EXPECT(raw_ioctl(_IOC(_IOC_READ, GDL_IOC_MAGIC, 0x01, 8), &v), -EINVAL);
	/* A newer caller's larger struct: output tail zeroed. */
	memset(big, 0xaa, sizeof(big));
	T_EXPECT(raw_ioctl(_IOC(_IOC_READ, GDL_IOC_MAGIC, 0x01, sizeof(big)),
			 big), 0);
	T_TRUE(big[sizeof(big) - 1] == 0);
	/* Input tail: zero accepted, non-zero refused. */
	{
		unsigned char in[sizeof(struct gdl_release) + 8];

		memset(in, 0, sizeof(in));
		((struct gdl_release *)in)->handle = 999999;
		T_EXPECT(raw_ioctl(_IOC(_IOC_WRITE, GDL_IOC_MAGIC, 0x41,
				      sizeof(in)), in), -ENOENT);
		in[sizeof(in) - 1] = 1;
		T_EXPECT(raw_ioctl(_IOC(_IOC_WRITE, GDL_IOC_MAGIC, 0x41,
				      sizeof(in)), in), -E2BIG);
	}
	/* Bad user pointers. */
	T_EXPECT(raw_ioctl(GDL_IOC_VERSION, NULL), -EFAULT);
	T_EXPECT(raw_ioctl(GDL_IOC_RESERVE, (void *)16), -EFAULT);
	/* Reserved fields must be zero. */
	memset(&r, 0, sizeof(r));
	r.size = 4096;
	r.reserved[1] = 1;
	T_EXPECT(raw_ioctl(GDL_IOC_RESERVE, &r), -EINVAL);
}

static int devs[GDL_MAX_DEVICES], ndev;

static void test_devices(void)
{
	struct gdl_device_info d[GDL_MAX_DEVICES], add;
	struct gdl_device_set set;
	int n, i, npci = 0;
	uint32_t idx;

	t_section = "devices";
	n = gdlock_device_list(g, d, GDL_MAX_DEVICES);
	for (i = 0; i < n; i++) {
		if (d[i].flags & GDL_DEV_F_PCI && d[i].vendor == 0x1234 &&
		    d[i].device == 0x11e8)
			devs[npci++] = d[i].index;
	}
	ndev = npci;
	t_check(npci >= 2, "PCI discovery found %d edu devices (want >= 2)",
	      npci);
	T_EXPECT(gdlock_device_list(g, NULL, 0), n);

	memset(&add, 0, sizeof(add));
	strcpy(add.name, "manual0");
	add.capacity = 64 * MiB;
	T_EXPECT(gdlock_device_add(g, &add), 0);
	idx = add.index;
	T_EXPECT(gdlock_device_list(g, NULL, 0), n + 1);
	add.index = 0;
	T_EXPECT(gdlock_device_add(g, &add), -EEXIST);
	memset(&add, 0, sizeof(add));
	strcpy(add.name, "bad name!");
	add.capacity = 1;
	T_EXPECT(gdlock_device_add(g, &add), -EINVAL);
	memset(&set, 0, sizeof(set));
	set.index = idx;
	set.mask = GDL_DEVSET_CAPACITY;
	set.capacity = 1 * MiB;
	T_EXPECT(gdlock_device_set(g, &set), 0);
	set.index = 31;
	T_EXPECT(gdlock_device_set(g, &set), -ENODEV);
	T_EXPECT(gdlock_device_remove(g, idx), 0);
	T_EXPECT(gdlock_device_remove(g, idx), -ENODEV);
	T_EXPECT(gdlock_device_remove(g, 1000), -ENODEV);
}

static uint32_t agent_a, agent_b;

static void test_agents(void)
{
	struct gdl_agent_info list[8];
	uint32_t id, id2;
	int n;

	t_section = "agents";
	T_EXPECT(gdlock_agent_create(g, "tenant-a", 0, &agent_a), 0);
	T_EXPECT(gdlock_agent_create(g, "tenant-b", 0, &agent_b), 0);
	T_EXPECT(gdlock_agent_create(g, "tenant-a", 0, &id), -EEXIST);
	T_EXPECT(gdlock_agent_create(g, "", 0, &id), -EINVAL);
	T_EXPECT(gdlock_agent_create(g, "white space", 0, &id), -EINVAL);
	n = gdlock_agent_list(g, list, 8);
	t_check(n == 3, "3 agents listed (default + 2), got %d", n);
	T_EXPECT(gdlock_agent_find(g, "tenant-b", &id), 0);
	T_TRUE(id == agent_b);
	/* Ids are not reused: a re-created agent gets a new one. */
	T_EXPECT(gdlock_agent_create(g, "scratch", 0, &id), 0);
	T_EXPECT(gdlock_agent_destroy(g, id), 0);
	T_EXPECT(gdlock_agent_destroy(g, id), -ENOENT);
	T_EXPECT(gdlock_agent_create(g, "scratch", 0, &id2), 0);
	T_TRUE(id2 != id);
	T_EXPECT(gdlock_agent_destroy(g, id2), 0);
	/* The default agent stays. */
	T_EXPECT(gdlock_agent_find(g, "default", &id), 0);
	T_EXPECT(gdlock_agent_destroy(g, id), -EBUSY);
	T_EXPECT(gdlock_quota_set(g, 12345, devs[0], MiB), -ENOENT);
	T_EXPECT(gdlock_quota_set(g, agent_a, 25, MiB), -ENODEV);
}

static void test_quota(void)
{
	struct gdl_whoami w;
	struct gdl_quota q;
	struct gdl_reserve r;
	uint64_t h1, h2, h3;

	t_section = "quota";
	T_EXPECT(gdlock_bind_pid(g, agent_a, getpid()), 0);
	T_EXPECT(gdlock_bind_pid(g, agent_a, getpid()), 0);	/* idempotent */
	T_EXPECT(gdlock_bind_pid(g, agent_b, getpid()), -EEXIST);
	T_EXPECT(gdlock_bind_pid(g, agent_a, 999999), -ESRCH);
	T_EXPECT(gdlock_whoami(g, &w), 0);
	T_TRUE(w.agent_id == agent_a && w.bound_by == GDL_BOUND_PID);
	T_TRUE(w.host_pid == (uint32_t)getpid());	/* ABI 1.4 */

	T_EXPECT(gdlock_quota_set(g, agent_a, devs[0], 1 * MiB), 0);
	T_EXPECT(gdlock_reserve(g, devs[0], 512 * 1024, &h1), 0);
	T_EXPECT(gdlock_reserve(g, devs[0], 512 * 1024, &h2), 0);
	T_EXPECT(gdlock_reserve(g, devs[0], 1, &h3), -EDQUOT);
	T_EXPECT(gdlock_reserve(g, devs[1], 1, &h3), -EDQUOT);	/* quota 0 */
	T_EXPECT(gdlock_reserve(g, devs[0], 0, &h3), -EINVAL);
	T_EXPECT(gdlock_reserve(g, 29, 1, &h3), -ENODEV);
	T_EXPECT(gdlock_reserve_at(g, devs[0], ~0ULL - 10, 100, &h3),
	       -EOVERFLOW);
	T_EXPECT(gdlock_quota_get(g, 0, devs[0], &q), 0);
	T_TRUE(q.usage == MiB && q.quota == MiB && q.nr_reservations == 2);
	T_TRUE(q.denied == 1 && q.peak == MiB);
	/* Lowering below usage revokes nothing and is visible. */
	T_EXPECT(gdlock_quota_set(g, agent_a, devs[0], 256 * 1024), 0);
	T_EXPECT(gdlock_quota_get(g, agent_a, devs[0], &q), 0);
	T_TRUE(q.usage == MiB && q.flags & GDL_QUOTA_F_OVER);
	T_EXPECT(gdlock_release(g, h1), 0);
	T_EXPECT(gdlock_release(g, h1), -ENOENT);
	T_EXPECT(gdlock_reserve(g, devs[0], 4096, &h3), -EDQUOT);
	T_EXPECT(gdlock_release(g, h2), 0);
	T_EXPECT(gdlock_reserve(g, devs[0], 4096, &h3), 0);
	T_EXPECT(gdlock_release(g, h3), 0);
	T_EXPECT(gdlock_quota_set(g, agent_a, devs[0], 1 * MiB), 0);

	/* Device capacity applies across agents. */
	{
		struct gdl_device_set set;

		memset(&set, 0, sizeof(set));
		set.index = devs[0];
		set.mask = GDL_DEVSET_CAPACITY;
		set.capacity = 8192;
		T_EXPECT(gdlock_device_set(g, &set), 0);
		T_EXPECT(gdlock_reserve(g, devs[0], 8193, &h1), -ENOSPC);
		T_EXPECT(gdlock_reserve(g, devs[0], 8192, &h1), 0);
		T_EXPECT(gdlock_release(g, h1), 0);
		set.capacity = GDL_QUOTA_UNLIMITED;
		T_EXPECT(gdlock_device_set(g, &set), 0);
	}

	/* A reservation belongs to its file. */
	{
		struct gdlock *g2 = xopen();

		T_EXPECT(gdlock_reserve(g2, devs[0], 4096, &h1), 0);
		T_EXPECT(gdlock_release(g, h1), -ENOENT);
		T_TRUE(usage_of(agent_a, devs[0]) == 4096);
		gdlock_close(g2);
		T_TRUE(usage_of(agent_a, devs[0]) == 0);
	}
	/* A device with reservations cannot be removed. */
	T_EXPECT(gdlock_reserve(g, devs[1], 1, &h1), -EDQUOT);
	T_EXPECT(gdlock_reserve(g, devs[0], 4096, &h1), 0);
	T_EXPECT(gdlock_device_remove(g, devs[0]), -EBUSY);
	T_EXPECT(gdlock_release(g, h1), 0);
	memset(&r, 0, sizeof(r));
	r.dev_index = devs[0];
	r.size = 4096;
	r.flags = 0x80;
	T_EXPECT(gdlock_reserve_ex(g, &r), -EINVAL);
}

static int cgroup_child(void *arg)
{
	uint32_t want = *(uint32_t *)arg;
	struct gdl_whoami w;
	struct gdlock *h = xopen();
	uint64_t hd;

	if (gdlock_whoami(h, &w) || w.agent_id != want ||
	    w.bound_by != GDL_BOUND_CGROUP)
		return 10;
	if (gdlock_reserve(h, devs[1], 3 * MiB, &hd))
		return 11;
	if (gdlock_reserve(h, devs[1], 2 * MiB, &hd) != -EDQUOT)
		return 12;
	return 0;
}

static int join_cgroup_and_run(const char *cg, int (*fn)(void *), void *arg,
			       int unpriv)
{
	pid_t pid = fork();
	char path[256], buf[32];
	int st;

	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		snprintf(buf, sizeof(buf), "%d", getpid());
		if (write_file(path, buf))
			_exit(20);
		if (unpriv && (setgroups(0, NULL) ||
			       setresgid(65534, 65534, 65534) ||
			       setresuid(65534, 65534, 65534)))
			_exit(21);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_cgroup(void)
{
	const char *cg = "/sys/fs/cgroup/gdl-test-b";
	const char *nested = "/sys/fs/cgroup/gdl-test-b/job/step";

	t_section = "cgroup";
	mkdir(cg, 0755);
	mkdir("/sys/fs/cgroup/gdl-test-b/job", 0755);
	mkdir(nested, 0755);
	T_EXPECT(gdlock_bind_cgroup(g, agent_b, cg), 0);
	T_EXPECT(gdlock_bind_cgroup(g, agent_a, cg), -EEXIST);
	T_EXPECT(gdlock_bind_cgroup(g, agent_b, "/proc"), -EBADF);
	T_EXPECT(gdlock_bind_cgroup(g, agent_b, "/nonexistent"), -ENOENT);
	T_EXPECT(gdlock_quota_set(g, agent_b, devs[1], 4 * MiB), 0);
	/* Whole subtree, as root and as an unprivileged user. */
	T_EXPECT(join_cgroup_and_run(cg, cgroup_child, &agent_b, 0), 0);
	T_EXPECT(join_cgroup_and_run(nested, cgroup_child, &agent_b, 1), 0);
	T_TRUE(usage_of(agent_b, devs[1]) == 0);
	T_EXPECT(gdlock_unbind_cgroup(g, agent_b, cg), 0);
	T_EXPECT(gdlock_unbind_cgroup(g, agent_b, cg), -ENOENT);
	/* Unbound again: the deny policy refuses. */
	T_TRUE(join_cgroup_and_run(nested, cgroup_child, &agent_b, 1) ==
		    10);
	T_EXPECT(gdlock_bind_cgroup(g, agent_b, cg), 0);
}

/* The binding of @type in @b[0..n), or NULL. */
static const struct gdl_binding_info *
find_binding(const struct gdl_binding_info *b, int n, uint32_t type)
{
	int i;

	for (i = 0; i < n; i++)
		if (b[i].type == type)
			return &b[i];
	return NULL;
}

/* BIND_LIST and /proc/gpu_dma_lock/bindings (ABI 1.1). */
static void test_bindings(void)
{
	const char *cg = "/sys/fs/cgroup/gdl-test-c";
	const struct gdl_binding_info *pb, *cb;
	struct gdl_binding_info b[8];
	uint64_t cgid = 0;
	char buf[4096], line[128];
	struct stat st;
	int pfd[2], n, all;
	uint32_t c;
	pid_t pid;

	t_section = "bindings";
	mkdir(cg, 0755);
	if (pipe(pfd)) {
		t_check(0, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (!pid) {		/* bound by pid until it is told to exit */
		char x;

		close(pfd[1]);
		_exit(read(pfd[0], &x, 1) < 0);
	}
	close(pfd[0]);
	T_EXPECT(gdlock_agent_create(g, "tenant-c", 0, &c), 0);
	T_EXPECT(gdlock_binding_list(g, c, NULL, 0), 0);
	T_EXPECT(gdlock_bind_pid(g, c, pid), 0);
	T_EXPECT(gdlock_bind_cgroup(g, c, cg), 0);
	T_EXPECT(gdlock_cgroup_id(cg, &cgid), 0);
	T_TRUE(stat(cg, &st) == 0 && cgid == (uint64_t)st.st_ino);

	/* Count only, a short buffer, then all of them. */
	T_EXPECT(gdlock_binding_list(g, c, NULL, 0), 2);
	memset(b, 0xa5, sizeof(b));
	T_EXPECT(gdlock_binding_list(g, c, b, 1), 2);
	T_TRUE(b[0].agent_id == c && b[1].agent_id != c);
	n = gdlock_binding_list(g, c, b, 8);
	T_EXPECT(n, 2);
	pb = find_binding(b, n, GDL_BIND_PID);
	cb = find_binding(b, n, GDL_BIND_CGROUP_FD);
	T_TRUE(pb && pb->agent_id == c && pb->target == (uint64_t)pid &&
	       pb->flags == 0 && !pb->reserved0 && !pb->reserved[0] &&
	       !pb->reserved[1]);
	T_TRUE(cb && cb->agent_id == c && cb->target == cgid &&
	       cb->flags == 0);
	/* Every agent's: this one's are among them; an unknown agent has none. */
	all = gdlock_binding_list(g, 0, NULL, 0);
	T_TRUE(all >= 3);	/* agent B's cgroup (test_cgroup) as well */
	T_EXPECT(gdlock_binding_list(g, 0xfffff, b, 8), 0);

	T_TRUE(read_file("/proc/gpu_dma_lock/bindings", buf, sizeof(buf)) > 0 &&
	       !strncmp(buf, "agent type target state\n", 24));
	snprintf(line, sizeof(line), "\n%u pid %d live\n", c, (int)pid);
	T_TRUE(strstr(buf, line) != NULL);
	snprintf(line, sizeof(line), "\n%u cgroup %llu live\n", c,
		 (unsigned long long)cgid);
	T_TRUE(strstr(buf, line) != NULL);
	T_TRUE(stat("/proc/gpu_dma_lock/bindings", &st) == 0 &&
	       (st.st_mode & 0777) == 0400);

	/* The process exits: the binding stays, marked, until unbound. */
	close(pfd[1]);
	T_TRUE(waitpid(pid, NULL, 0) == pid);
	n = gdlock_binding_list(g, c, b, 8);
	pb = find_binding(b, n, GDL_BIND_PID);
	T_TRUE(n == 2 && pb && pb->flags == GDL_BINDING_F_EXITED);
	T_TRUE(read_file("/proc/gpu_dma_lock/bindings", buf, sizeof(buf)) > 0);
	snprintf(line, sizeof(line), "\n%u pid %d exited\n", c, (int)pid);
	T_TRUE(strstr(buf, line) != NULL);

	/* Removable by its number although no process has it any more. */
	T_EXPECT(gdlock_unbind_pid(g, c, pid), 0);
	T_EXPECT(gdlock_unbind_pid(g, c, pid), -ENOENT);
	T_EXPECT(gdlock_binding_list(g, c, b, 8), 1);
	T_TRUE(b[0].type == GDL_BIND_CGROUP_FD);
	T_EXPECT(gdlock_bind_pid(g, c, pid), -ESRCH);
	/* A removed cgroup's binding stays; it goes by its id. */
	T_TRUE(rmdir(cg) == 0);
	T_EXPECT(gdlock_unbind_cgroup(g, c, cg), -ENOENT);
	T_EXPECT(gdlock_binding_list(g, c, b, 8), 1);
	T_EXPECT(gdlock_unbind_cgroup_id(g, agent_b, cgid), -ENOENT);
	T_EXPECT(gdlock_unbind_cgroup_id(g, c, cgid), 0);
	T_EXPECT(gdlock_unbind_cgroup_id(g, c, cgid), -ENOENT);
	T_EXPECT(gdlock_binding_list(g, c, b, 8), 0);
	mkdir(cg, 0755);
	T_EXPECT(gdlock_bind_cgroup(g, c, cg), 0);
	/* Destroying the agent drops the rest. */
	T_EXPECT(gdlock_agent_destroy(g, c), 0);
	T_EXPECT(gdlock_binding_list(g, c, b, 8), 0);
	T_EXPECT(gdlock_binding_list(g, 0, NULL, 0), all - 2);
	T_TRUE(rmdir(cg) == 0);
}

static int unpriv_checks(void *arg)
{
	struct gdlock *h = xopen();
	struct gdl_device_info d;
	struct gdl_whoami w;
	struct gdl_quota q;
	struct gdl_stats s;
	char buf[256];
	uint32_t id;
	uint64_t hd;
	int fails = 0;

	(void)arg;
#define U(expr, want) do { int _r = (expr); if (_r != (want)) { \
	printf("  unpriv: %s = %d, want %d\n", #expr, _r, want); fails++; } \
	} while (0)
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "evil");
	d.capacity = 1;
	U(gdlock_device_add(h, &d), -EPERM);
	U(gdlock_device_remove(h, devs[0]), -EPERM);
	U(gdlock_agent_create(h, "evil", 0, &id), -EPERM);
	U(gdlock_agent_destroy(h, agent_a), -EPERM);
	U(gdlock_bind_pid(h, agent_a, getpid()), -EPERM);
	U(gdlock_quota_set(h, agent_a, devs[0], ~0ULL), -EPERM);
	/* Unbound under default_policy=deny. */
	U(gdlock_whoami(h, &w), -ENOLINK);
	U(gdlock_reserve(h, devs[0], 4096, &hd), -ENOLINK);
	U(gdlock_dma_check(h, devs[0], 0, 1, GDL_ACCESS_READ), -ENOLINK);
	U(gdlock_quota_get(h, agent_a, devs[0], &q), -EPERM);
	/* Readable by anyone: no tenant data. */
	U(read_file("/proc/gpu_dma_lock/devices", buf, sizeof(buf)) > 0, 1);
	U(read_file("/proc/gpu_dma_lock/stats", buf, sizeof(buf)) > 0, 1);
	U(read_file("/proc/gpu_dma_lock/version", buf, sizeof(buf)) > 0, 1);
	/* Tenants' names and usage: root only. */
	U(read_file("/proc/gpu_dma_lock/agents", buf, sizeof(buf)), -EACCES);
	U(read_file("/proc/gpu_dma_lock/acl", buf, sizeof(buf)), -EACCES);
	U(read_file("/proc/gpu_dma_lock/bindings", buf, sizeof(buf)), -EACCES);
	U(gdlock_binding_list(h, 0, NULL, 0), -EPERM);
	U(gdlock_stats(h, &s), 0);
	U(gdlock_nop(h), 0);
	gdlock_close(h);
	return fails;
}

/* An unprivileged process bound (by root) to agent A by pid. */
static int unpriv_bound(void *arg)
{
	int rfd = *(int *)arg, fails = 0;
	struct gdlock *h = xopen();
	struct gdl_quota q;
	struct gdl_whoami w;
	uint64_t hd;
	char c;

	if (read(rfd, &c, 1) != 1)	/* wait for the parent's bind */
		return 50;
	U(gdlock_whoami(h, &w), 0);
	U(w.agent_id == agent_a, 1);
	U(gdlock_reserve(h, devs[0], MiB, &hd), 0);
	U(gdlock_reserve(h, devs[0], 1, &hd), -EDQUOT);
	U(gdlock_quota_get(h, 0, devs[0], &q), 0);
	U(q.usage == MiB, 1);
	U(gdlock_quota_get(h, agent_a, devs[0], &q), 0);
	U(gdlock_quota_get(h, agent_b, devs[0], &q), -EPERM);
	/* Cannot rebind itself elsewhere. */
	U(gdlock_unbind_pid(h, agent_a, getpid()), -EPERM);
	U(gdlock_bind_pid(h, agent_b, getpid()), -EPERM);
	gdlock_close(h);
	return fails;
}

static void test_events(void)
{
	struct gdlock *w = xopen();
	struct gdl_event ev[4];
	struct pollfd pfd = { .fd = gdlock_fd(w), .events = POLLIN };
	uint64_t h;
	int fl, n;

	t_section = "events";
	fl = fcntl(gdlock_fd(w), F_GETFL);
	fcntl(gdlock_fd(w), F_SETFL, fl | O_NONBLOCK);
	T_TRUE(read(gdlock_fd(w), ev, sizeof(ev)) < 0 && errno == EAGAIN);
	T_TRUE(read(gdlock_fd(w), ev, 8) < 0 && errno == EINVAL);
	T_EXPECT(poll(&pfd, 1, 0), 0);
	T_EXPECT(gdlock_reserve(g, devs[0], 2 * MiB, &h), -EDQUOT);
	T_EXPECT(poll(&pfd, 1, 1000), 1);
	n = read(gdlock_fd(w), ev, sizeof(ev));
	t_check(n == (int)sizeof(ev[0]), "one event read (%d bytes)", n);
	T_TRUE(ev[0].type == GDL_EVENT_QUOTA_EXCEEDED &&
		    ev[0].agent_id == agent_a &&
		    ev[0].dev_index == (uint32_t)devs[0] &&
		    ev[0].value == 2 * MiB && ev[0].value2 == MiB &&
		    ev[0].pid == getpid() && !ev[0].flags);
	T_EXPECT(gdlock_dma_check(g, devs[1], 0x7000000, 64, GDL_ACCESS_WRITE),
	       -EACCES);
	n = read(gdlock_fd(w), ev, sizeof(ev));
	T_TRUE(n == (int)sizeof(ev[0]) &&
		    ev[0].type == GDL_EVENT_DMA_DENIED &&
		    ev[0].value == 0x7000000 && ev[0].value2 == 64 &&
		    ev[0].access == GDL_ACCESS_WRITE);
	gdlock_close(w);
}

/*
 * Children that join agent B's cgroup, reserve, report through a pipe and
 * are SIGKILLed: the kernel must release everything they held.
 */
static void test_crash_release(void)
{
	int pfd[2], i, st;
	char c;

	t_section = "release-on-kill";
	for (i = 0; i < 20; i++) {
		pid_t pid;

		if (pipe(pfd)) {
			t_check(0, "pipe: %s", strerror(errno));
			return;
		}
		pid = fork();
		if (pid == 0) {
			struct gdlock *h;
			uint64_t hd;
			int k;

			/* Agent B through its cgroup: children inherit it. */
			if (write_file(CG_PROCS, "0"))
				_exit(2);
			h = xopen();
			for (k = 0; k < 8; k++)
				if (gdlock_reserve(h, devs[1], 4096, &hd))
					_exit(3);
			if (write(pfd[1], "x", 1) != 1)
				_exit(4);
			pause();
			_exit(0);
		}
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			c = 0;
		close(pfd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (c != 'x' || usage_of(agent_b, devs[1]) != 0)
			break;
	}
	t_check(i == 20, "20 SIGKILLed children holding 8 reservations each: usage back to 0 each time (%d ok)",
	      i);
	T_TRUE(stat_of(GDL_STAT_LIVE_RESERVATIONS) == 0);
	T_TRUE(stat_of(GDL_STAT_LEDGER_CONSISTENT) == 1);
}

static void test_unprivileged(void)
{
	int pfd[2], st;
	pid_t pid;

	t_section = "unprivileged";
	T_EXPECT(as_nobody(unpriv_checks, NULL), 0);

	if (pipe(pfd)) {
		t_check(0, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(pfd[1]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(99);
		_exit(unpriv_bound(&pfd[0]));
	}
	close(pfd[0]);
	T_EXPECT(gdlock_bind_pid(g, agent_a, pid), 0);
	if (write(pfd[1], "g", 1) != 1)
		perror("write");
	close(pfd[1]);
	waitpid(pid, &st, 0);
	t_check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "unprivileged pid-bound child (exit %d)", WEXITSTATUS(st));
	T_TRUE(usage_of(agent_a, devs[0]) == 0);
}

static void acl_entry(struct gdl_acl_entry *e, uint32_t agent, uint32_t owner,
		      uint32_t dev, uint32_t rights, uint64_t addr,
		      uint64_t len)
{
	memset(e, 0, sizeof(*e));
	e->agent_id = agent;
	e->owner_id = owner;
	e->dev_index = dev;
	e->rights = rights;
	e->addr = addr;
	e->len = len;
}

static int dma_child_b(void *arg)
{
	struct gdlock *h = xopen();
	int step = *(int *)arg, fails = 0;
	struct gdl_dma_check c;

	switch (step) {
	case 0:	/* no grant yet */
		U(gdlock_dma_check(h, devs[0], 0x100000, 4096, GDL_ACCESS_READ),
		  -EACCES);
		break;
	case 1:	/* read granted, write not */
		U(gdlock_dma_check(h, devs[0], 0x100000, 4096, GDL_ACCESS_READ),
		  0);
		U(gdlock_dma_check(h, devs[0], 0x100000, 4096,
				   GDL_ACCESS_WRITE), -EACCES);
		U(gdlock_dma_check(h, devs[0], 0x100000 + 65536 - 8, 16,
				   GDL_ACCESS_READ), -EACCES);
		memset(&c, 0, sizeof(c));
		c.dev_index = devs[0];
		c.access = GDL_ACCESS_READ;
		c.addr = 0x100000;
		c.len = 4096;
		U(gdlock_dma_check_ex(h, &c), 0);
		U(c.result == GDL_RESULT_GRANT && c.owner_id == agent_a, 1);
		break;
	case 2:	/* admin ACL entry on memory nobody reserved */
		U(gdlock_dma_check(h, devs[1], 0x900000, 4096,
				   GDL_ACCESS_WRITE), 0);
		U(gdlock_dma_check(h, devs[1], 0x8ff000, 8192,
				   GDL_ACCESS_WRITE), -EACCES);
		U(gdlock_peer_check(h, devs[0], devs[1]), 0);
		U(gdlock_peer_check(h, devs[1], devs[0]), -EACCES);
		break;
	}
	gdlock_close(h);
	return fails;
}

static void test_dma(void)
{
	const char *cg = "/sys/fs/cgroup/gdl-test-b";
	struct gdl_acl_entry e[2], list[8];
	uint64_t h;
	int step, n;

	t_section = "dma";
	/* This process is agent A: it owns [1M, 1M + 64K) on devs[0]. */
	T_EXPECT(gdlock_reserve_at(g, devs[0], 0x100000, 65536, &h), 0);
	T_EXPECT(gdlock_reserve_at(g, devs[0], 0x100000 + 4096, 4096, NULL),
	       -EADDRINUSE);
	T_EXPECT(gdlock_dma_check(g, devs[0], 0x100000, 65536,
				GDL_ACCESS_READ | GDL_ACCESS_WRITE), 0);
	T_EXPECT(gdlock_dma_check(g, devs[0], 0x100000, 65537, GDL_ACCESS_READ),
	       -EACCES);
	T_EXPECT(gdlock_dma_check(g, devs[0], 0xfff00, 4096, GDL_ACCESS_READ),
	       -EACCES);
	T_EXPECT(gdlock_dma_check(g, devs[0], 0x100000, 0, GDL_ACCESS_READ),
	       -EINVAL);
	T_EXPECT(gdlock_dma_check(g, devs[0], ~0ULL, 2, GDL_ACCESS_READ),
	       -EOVERFLOW);
	T_EXPECT(gdlock_dma_check(g, devs[0], 0x100000, 1, 0x80), -EINVAL);

	step = 0;
	T_EXPECT(join_cgroup_and_run(cg, dma_child_b, &step, 1), 0);
	/* A grants B read access to the first 64K - 8 bytes. */
	acl_entry(&e[0], agent_b, agent_a, devs[0], GDL_ACCESS_READ, 0x100000,
		  65536 - 8);
	T_EXPECT(gdlock_acl_grant(g, e, 1), 0);
	T_EXPECT(gdlock_acl_grant(g, e, 1), 0);	/* idempotent */
	step = 1;
	T_EXPECT(join_cgroup_and_run(cg, dma_child_b, &step, 1), 0);
	/* Admin entries: raw range and a peer right devs[0] -> devs[1]. */
	acl_entry(&e[0], agent_b, 0, devs[1], GDL_ACCESS_WRITE, 0x900000,
		  4096);
	acl_entry(&e[1], agent_b, 0, devs[0], GDL_ACCESS_PEER, 0, 0);
	e[1].peer_index = devs[1];
	T_EXPECT(gdlock_acl_grant(g, e, 2), 0);
	step = 2;
	T_EXPECT(join_cgroup_and_run(cg, dma_child_b, &step, 1), 0);
	n = gdlock_acl_list(g, agent_b, list, 8);
	t_check(n == 3, "acl list for B has 3 entries (got %d)", n);
	/* Revoke is all or nothing. */
	acl_entry(&e[0], agent_b, 0, devs[1], GDL_ACCESS_WRITE, 0x900000,
		  4096);
	acl_entry(&e[1], agent_b, 0, devs[1], GDL_ACCESS_WRITE, 0x100,
		  4096);
	T_EXPECT(gdlock_acl_revoke(g, e, 2), -ENOENT);
	T_EXPECT(gdlock_acl_list(g, agent_b, NULL, 0), 3);
	T_EXPECT(gdlock_acl_revoke(g, e, 1), 0);
	T_EXPECT(gdlock_acl_list(g, agent_b, NULL, 0), 2);
	/* Bad entries. */
	acl_entry(&e[0], agent_b, 0, devs[0], GDL_ACCESS_READ, ~0ULL, 2);
	T_EXPECT(gdlock_acl_grant(g, e, 1), -EOVERFLOW);
	acl_entry(&e[0], agent_b, 0, devs[0], 0, 0, 2);
	T_EXPECT(gdlock_acl_grant(g, e, 1), -EINVAL);
	acl_entry(&e[0], 777, 0, devs[0], GDL_ACCESS_READ, 0, 2);
	T_EXPECT(gdlock_acl_grant(g, e, 1), -ENOENT);
	T_EXPECT(gdlock_acl_grant(g, e, 0), -EINVAL);
	T_EXPECT(gdlock_release(g, h), 0);
	/* Without the reservation, A's grant covers nothing any more. */
	step = 0;
	T_EXPECT(join_cgroup_and_run(cg, dma_child_b, &step, 1), 0);
}

/*
 * Shared reservations (ABI 1.3).  A holds memory and shares it by a
 * capability's bytes and by an open file (a memfd, inherited as it would
 * be passed over a UNIX socket); an importer in agent B attaches.
 */
struct share_ctx {
	int step;
	int memfd;
	int go[2], done[2];	/* parent -> child, child -> parent */
	unsigned char key[64];
};

static int share_child_b(void *arg)
{
	struct share_ctx *c = arg;
	unsigned char other[64];
	struct gdlock *h = xopen();
	struct gdl_quota q;
	uint64_t hd, hd2;
	int fails = 0;
	char x;

	memset(other, 0x5a, sizeof(other));
	switch (c->step) {
	case 0:	/* no grant: refused, whichever kind of key */
		U(gdlock_reservation_attach(h, c->key, 64, &hd), -EACCES);
		U(gdlock_reservation_attach_fd(h, c->memfd, &hd), -EACCES);
		U(gdlock_reservation_attach(h, other, 64, &hd), -ENOENT);
		break;
	case 1:	/* granted: attach, hold while the exporter closes */
		U(gdlock_reservation_attach(h, c->key, 64, &hd), 0);
		U(gdlock_reservation_attach_fd(h, c->memfd, &hd2), 0);
		/* Charged to A, not to B. */
		U(gdlock_quota_get(h, 0, devs[0], &q), 0);
		U(q.usage == 0, 1);
		U(gdlock_release(h, hd2), 0);
		U(gdlock_release(h, hd2), -ENOENT);
		if (write(c->done[1], "a", 1) != 1 ||
		    read(c->go[0], &x, 1) != 1)
			fails++;
		break;	/* exit closes the last handle */
	case 2:	/* B's share of reservations: 1 */
		U(gdlock_reservation_attach(h, c->key, 64, &hd), 0);
		U(gdlock_reservation_attach_fd(h, c->memfd, &hd2), -EMFILE);
		break;
	case 3:	/* B files A's bytes first, on memory of its own */
		U(gdlock_reserve(h, devs[0], 8192, &hd), 0);
		U(gdlock_reservation_share(h, hd, other, 64), 0);
		if (write(c->done[1], "q", 1) != 1 ||
		    read(c->go[0], &x, 1) != 1)
			fails++;
		/* Its own key comes first for itself. */
		U(gdlock_reservation_attach(h, other, 64, &hd2), 0);
		U(gdlock_quota_get(h, 0, devs[0], &q), 0);
		U(q.usage == 8192, 1);
		break;
	}
	gdlock_close(h);
	return fails;
}

/* Run share_child_b as B, unprivileged; step 1 talks over the pipes. */
static pid_t share_child_start(struct share_ctx *c)
{
	const char *cg = "/sys/fs/cgroup/gdl-test-b/cgroup.procs";
	pid_t pid = fork();

	if (pid == 0) {
		if (write_file(cg, "0") || setgroups(0, NULL) ||
		    setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(20);
		_exit(share_child_b(c));
	}
	return pid;
}

static int share_child_wait(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int share_raw(unsigned long cmd, struct gdl_reservation_share *s)
{
	return raw_ioctl(cmd, s);
}

static void share_bad_input(uint64_t h, const unsigned char *key, int memfd)
{
	struct gdl_reservation_share s;
	int pfd[2];

	/* SHARE: every out field and reserved word must be zero. */
	memset(&s, 0, sizeof(s));
	s.handle = h;
	s.key_type = GDL_SHARE_KEY_BYTES;
	memcpy(s.key, key, 64);
	s.reserved = 1;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.reserved = 0;
	s.reserved0 = 1;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.reserved0 = 0;
	/* ABI 1.4: the attach expectations mean nothing to SHARE. */
	s.flags = GDL_ATTACH_F_DEV;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.flags = 0;
	s.access = GDL_ACCESS_READ;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.access = 0;
	s.size = 1;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.size = 0;
	s.fd = 3;	/* a bytes key names no file */
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.fd = 0;
	s.key_type = 3;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.key_type = GDL_SHARE_KEY_BYTES;
	s.handle = 0;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	s.handle = 999999;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -ENOENT);
	s.handle = h;
	memset(s.key, 0, sizeof(s.key));	/* an all-zero key */
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	/* fd keys: an open regular file or character device, key[] zero. */
	s.key_type = GDL_SHARE_KEY_FD;
	s.fd = -1;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EBADF);
	s.fd = 1000;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EBADF);
	s.fd = gdlock_fd(g);	/* the ledger's own file: never a key */
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EBADFD);
	if (pipe(pfd) == 0) {
		s.fd = pfd[0];
		T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EBADFD);
		close(pfd[0]);
		close(pfd[1]);
	}
	/*
	 * Issue 22 item 2: only shmem files and allowed character devices
	 * (share_key_majors, 195 by default): not a regular file elsewhere,
	 * nor another character device.
	 */
	s.fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	T_TRUE(s.fd >= 0);
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EBADFD);
	close(s.fd);
	s.fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T_TRUE(s.fd >= 0);
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EBADFD);
	close(s.fd);
	s.fd = memfd;
	s.key[5] = 1;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_SHARE, &s), -EINVAL);
	/* ATTACH: handle is out, access must be read and/or write. */
	memset(&s, 0, sizeof(s));
	s.key_type = GDL_SHARE_KEY_BYTES;
	memcpy(s.key, key, 64);
	s.access = GDL_ACCESS_READ | GDL_ACCESS_WRITE;
	s.handle = h;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -EINVAL);
	s.handle = 0;
	s.access = 0;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -EINVAL);
	s.access = GDL_ACCESS_PEER;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -EINVAL);
	s.access = GDL_ACCESS_READ;
	s.reserved = 1;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -EINVAL);
	s.reserved = 0;
	/* ABI 1.4: an unknown flag, or an expectation without its flag. */
	s.flags = 4;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -EINVAL);
	s.flags = 0;
	s.size = 65536;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -EINVAL);
	s.dev_index = 1;
	s.size = 0;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -EINVAL);
	s.dev_index = 0;
	/* Expectations that its memory does not meet: no such key. */
	s.flags = GDL_ATTACH_F_SIZE;
	s.size = 4096;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), -ENOENT);
	s.flags = 0;
	s.size = 0;
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, NULL), -EFAULT);
	/* Its own memory, read only: a handle, charged to A. */
	T_EXPECT(share_raw(GDL_IOC_RESERVATION_ATTACH, &s), 0);
	T_TRUE(s.handle && s.agent_id == agent_a &&
	       s.dev_index == (uint32_t)devs[0] &&
	       s.size == 65536 && s.result == GDL_RESULT_OK);
	T_EXPECT(gdlock_release(g, s.handle), 0);
}

/*
 * ABI 1.4: WHOAMI's host_pid, asked from pid 1 of a new pid namespace
 * (bound by cgroup, as a container is): the pid its parent's fork()
 * returned, in the initial namespace.
 */
static int host_pid_child(void)
{
	uint32_t got = 0;
	int pfd[2], st;
	pid_t gc;

	if (unshare(CLONE_NEWPID) || pipe(pfd))
		return 30;
	gc = fork();
	if (gc == 0) {
		struct gdl_whoami w;
		struct gdlock *h;

		if (getpid() != 1 || write_file(CG_PROCS, "0"))
			_exit(31);
		h = xopen();
		if (gdlock_whoami(h, &w))
			_exit(32);
		_exit(write(pfd[1], &w.host_pid, sizeof(w.host_pid)) ==
		      sizeof(w.host_pid) ? 0 : 33);
	}
	if (gc < 0 || waitpid(gc, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		return gc < 0 ? 34 : WIFEXITED(st) ? WEXITSTATUS(st) : 35;
	if (read(pfd[0], &got, sizeof(got)) != sizeof(got))
		return 36;
	return got == (uint32_t)gc ? 0 : 37;
}

static void test_host_pid(void)
{
	pid_t pid;

	t_section = "host-pid";
	pid = fork();
	if (pid == 0)
		_exit(host_pid_child());
	t_check(share_child_wait(pid) == 0,
		"WHOAMI from pid 1 of a pid namespace: host_pid is its pid in the initial one");
}

static int share_unbound(void *arg)
{
	uint64_t hd;

	/* default_policy=deny: no agent, no attach. */
	return gdlock_reservation_attach(g, arg, 64, &hd) == -ENOLINK ? 0 : 1;
}

static void test_share(void)
{
	struct share_ctx c;
	struct gdl_acl_entry e;
	struct gdl_version v;
	struct gdlock *exp;
	unsigned char key2[64];
	uint64_t h, h2, h3, b_quota;
	pid_t pid;
	char x;

	t_section = "share";
	T_EXPECT(gdlock_version(g, &v), 0);
	T_TRUE(v.abi_major == 1 && v.abi_minor >= 3);
	memset(&c, 0, sizeof(c));
	memset(c.key, 0xc3, sizeof(c.key));
	memset(key2, 0x3c, sizeof(key2));
	c.memfd = memfd_create("gdl-share", MFD_CLOEXEC);
	T_TRUE(c.memfd >= 0);
	if (pipe(c.go) || pipe(c.done)) {
		t_check(0, "pipe: %s", strerror(errno));
		return;
	}

	/* The exporter: its own file, agent A. */
	exp = xopen();
	T_EXPECT(gdlock_reserve(exp, devs[0], 65536, &h), 0);
	T_EXPECT(gdlock_reservation_share(exp, h, c.key, 64), 0);
	T_EXPECT(gdlock_reservation_share(exp, h, c.key, 64), 0);
	T_EXPECT(gdlock_reservation_share_fd(exp, h, c.memfd), 0);
	/* One key names one reservation; only holders share. */
	T_EXPECT(gdlock_reserve(exp, devs[0], 4096, &h2), 0);
	T_EXPECT(gdlock_reservation_share(exp, h2, c.key, 64), -EEXIST);
	T_EXPECT(gdlock_reservation_share(g, h, key2, 64), -ENOENT);
	T_EXPECT(gdlock_reservation_share(exp, h, key2, 65), -EINVAL);
	share_bad_input(h, c.key, c.memfd);
	T_EXPECT(as_nobody(share_unbound, c.key), 0);

	/* B without a grant: refused, and nothing leaks. */
	c.step = 0;
	T_EXPECT(share_child_wait(share_child_start(&c)), 0);
	/* A grants B its memory on the whole device. */
	acl_entry(&e, agent_b, agent_a, devs[0],
		  GDL_ACCESS_READ | GDL_ACCESS_WRITE, 0, ~0ULL);
	T_EXPECT(gdlock_acl_grant(g, &e, 1), 0);

	/* The importer holds it; the exporter frees and closes. */
	c.step = 1;
	pid = share_child_start(&c);
	T_TRUE(read(c.done[0], &x, 1) == 1 && x == 'a');
	T_EXPECT(gdlock_release(exp, h2), 0);
	T_EXPECT(gdlock_release(exp, h), 0);
	T_TRUE(usage_of(agent_a, devs[0]) == 65536);
	gdlock_close(exp);
	T_TRUE(usage_of(agent_a, devs[0]) == 65536);
	T_TRUE(usage_of(agent_b, devs[0]) == 0);
	/* /proc holders: the importer's process holds A's memory. */
	{
		char id[16], v[32], who[16];

		snprintf(id, sizeof(id), "%u", agent_a);
		snprintf(who, sizeof(who), "%d", (int)pid);
		T_EXPECT(proc_col("/proc/gpu_dma_lock/holders", 3, id, 1, v,
				  sizeof(v)), 0);
		T_TRUE(!strcmp(v, who));
		T_EXPECT(proc_col("/proc/gpu_dma_lock/holders", 3, id, 7, v,
				  sizeof(v)), 0);
		T_TRUE(!strcmp(v, "attached"));
	}
	T_TRUE(stat_of(GDL_STAT_LIVE_RESERVATIONS) == 1);
	T_TRUE(stat_of(GDL_STAT_LEDGER_CONSISTENT) == 1);
	/* The importer exits: the last handle goes, and the charge. */
	T_TRUE(write(c.go[1], "g", 1) == 1);
	T_EXPECT(share_child_wait(pid), 0);
	T_TRUE(usage_of(agent_a, devs[0]) == 0);
	T_TRUE(stat_of(GDL_STAT_LIVE_RESERVATIONS) == 0);
	T_TRUE(stat_of(GDL_STAT_LEDGER_CONSISTENT) == 1);
	/* Its keys went with it. */
	T_EXPECT(gdlock_reservation_attach(g, c.key, 64, &h3), -ENOENT);
	T_EXPECT(gdlock_reservation_attach_fd(g, c.memfd, &h3), -ENOENT);

	/*
	 * ABI 1.4: B files the bytes A is about to share, first, on its own
	 * memory.  A's SHARE still succeeds, and A's own attach lands on A's
	 * memory; before 1.4 the SHARE failed with EEXIST.
	 */
	memset(key2, 0x5a, sizeof(key2));
	{
		struct gdl_quota q;

		T_EXPECT(gdlock_quota_get(g, agent_b, devs[0], &q), 0);
		b_quota = q.quota;
	}
	T_EXPECT(gdlock_quota_set(g, agent_b, devs[0], MiB), 0);
	c.step = 3;
	pid = share_child_start(&c);
	T_TRUE(read(c.done[0], &x, 1) == 1 && x == 'q');
	exp = xopen();
	T_EXPECT(gdlock_reserve(exp, devs[0], 65536, &h), 0);
	T_EXPECT(gdlock_reservation_share(exp, h, key2, 64), 0);
	{
		struct gdl_reservation_share s;

		memset(&s, 0, sizeof(s));
		s.key_type = GDL_SHARE_KEY_BYTES;
		memcpy(s.key, key2, 64);
		s.access = GDL_ACCESS_READ;
		T_EXPECT(ioctl(gdlock_fd(exp), GDL_IOC_RESERVATION_ATTACH, &s) < 0 ?
			 -errno : 0, 0);
		T_TRUE(s.agent_id == agent_a && s.size == 65536);
		T_EXPECT(gdlock_release(exp, s.handle), 0);
	}
	T_TRUE(write(c.go[1], "g", 1) == 1);
	T_EXPECT(share_child_wait(pid), 0);
	gdlock_close(exp);
	T_TRUE(usage_of(agent_a, devs[0]) == 0);
	T_TRUE(usage_of(agent_b, devs[0]) == 0);
	T_EXPECT(gdlock_quota_set(g, agent_b, devs[0], b_quota), 0);

	/* Shares count against the agent's share of reservations. */
	exp = xopen();
	T_EXPECT(gdlock_reserve(exp, devs[0], 4096, &h), 0);
	T_EXPECT(gdlock_agent_set_limits(g, agent_a, 2, 0), 0);
	T_EXPECT(gdlock_reservation_share(exp, h, c.key, 64), 0);
	T_EXPECT(gdlock_reservation_share_fd(exp, h, c.memfd), -EMFILE);
	T_EXPECT(gdlock_reserve(exp, devs[0], 4096, &h2), -EMFILE);
	T_EXPECT(gdlock_agent_set_limits(g, agent_a, 0, 0), 0);
	T_EXPECT(gdlock_reservation_share_fd(exp, h, c.memfd), 0);
	/* And attached handles against the importer's. */
	T_EXPECT(gdlock_agent_set_limits(g, agent_b, 1, 0), 0);
	c.step = 2;
	T_EXPECT(share_child_wait(share_child_start(&c)), 0);
	T_EXPECT(gdlock_agent_set_limits(g, agent_b, 0, 0), 0);
	gdlock_close(exp);
	T_TRUE(usage_of(agent_a, devs[0]) == 0);
	T_EXPECT(gdlock_acl_revoke(g, &e, 1), 0);
	T_TRUE(stat_of(GDL_STAT_LEDGER_CONSISTENT) == 1);
	close(c.memfd);
	close(c.go[0]);
	close(c.go[1]);
	close(c.done[0]);
	close(c.done[1]);
}

static void test_audit(void)
{
	const char *p = "/sys/module/gpu_dma_lock/parameters/enforce";
	struct gdl_reserve r;
	struct gdl_dma_check c;
	uint64_t before = stat_of(GDL_STAT_AUDIT_OVERRIDES);

	t_section = "audit";
	T_EXPECT(write_file(p, "0"), 0);
	memset(&r, 0, sizeof(r));
	r.dev_index = devs[0];
	r.size = 2 * MiB;	/* quota is 1M */
	T_EXPECT(gdlock_reserve_ex(g, &r), 0);
	T_TRUE(r.result == GDL_RESULT_AUDIT);
	memset(&c, 0, sizeof(c));
	c.dev_index = devs[1];
	c.access = GDL_ACCESS_WRITE;
	c.addr = 0x5000000;
	c.len = 4096;
	T_EXPECT(gdlock_dma_check_ex(g, &c), 0);
	T_TRUE(c.result == GDL_RESULT_AUDIT);
	T_TRUE(stat_of(GDL_STAT_AUDIT_OVERRIDES) == before + 2);
	T_EXPECT(write_file(p, "1"), 0);
	T_EXPECT(gdlock_dma_check(g, devs[1], 0x5000000, 4096, GDL_ACCESS_WRITE),
	       -EACCES);
	T_EXPECT(gdlock_release(g, r.handle), 0);
	T_EXPECT(write_file(p, "x"), -EINVAL);
}

/*
 * The row of @path whose column @key_col (1-based) is @key, and in *@val
 * the column @col of it; -ENOENT when no row has it.
 */
static int proc_col(const char *path, int key_col, const char *key, int col,
		    char *val, size_t len)
{
	char buf[16384], *line, *save = NULL;

	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -EIO;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[32], *w, *s2 = NULL;
		int n = 0;

		for (w = strtok_r(line, " ", &s2); w && n < 32;
		     w = strtok_r(NULL, " ", &s2))
			f[n++] = w;
		if (n >= key_col && n >= col && !strcmp(f[key_col - 1], key)) {
			snprintf(val, len, "%s", f[col - 1]);
			return 0;
		}
	}
	return -ENOENT;
}

/* A device's state column in /proc/gpu_dma_lock/devices, or "none". */
static const char *proc_dev_state(uint32_t index)
{
	static char v[16];
	char key[16];

	snprintf(key, sizeof(key), "%u", index);
	if (proc_col("/proc/gpu_dma_lock/devices", 1, key, 11, v, sizeof(v)))
		return "none";
	return v;
}

static void test_proc(void)
{
	char buf[8192], v[32];

	t_section = "proc";
	T_TRUE(read_file("/proc/gpu_dma_lock/version", buf,
			      sizeof(buf)) > 0 &&
		    !strncmp(buf, "gpu_dma_lock ", 13));
	T_TRUE(read_file("/proc/gpu_dma_lock/devices", buf,
			      sizeof(buf)) > 0 &&
		    !strncmp(buf, "index name pci ", 15) &&
		    strstr(buf, " 1234 11e8 "));
	T_TRUE(read_file("/proc/gpu_dma_lock/agents", buf,
			      sizeof(buf)) > 0 &&
		    strstr(buf, " tenant-a ") && strstr(buf, " tenant-b "));
	/* ABI 1.3: each agent's shares, at the end of each of its rows. */
	{
		static const char hdr[] = "id name device quota usage peak reservations denied over max_reservations max_acl_entries state\n";

		T_TRUE(!strncmp(buf, hdr, strlen(hdr)));
	}
	T_EXPECT(gdlock_agent_set_limits(g, agent_a, 321, 654), 0);
	T_EXPECT(proc_col("/proc/gpu_dma_lock/agents", 2, "tenant-a", 10, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, "321"));
	T_EXPECT(proc_col("/proc/gpu_dma_lock/agents", 2, "tenant-a", 11, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, "654"));
	T_EXPECT(gdlock_agent_set_limits(g, agent_a, 0, 0), 0);
	T_EXPECT(proc_col("/proc/gpu_dma_lock/agents", 2, "tenant-a", 10, v,
			  sizeof(v)), 0);
	T_TRUE(strcmp(v, "321") && strtoul(v, NULL, 10) > 0);
	T_TRUE(!strcmp(proc_dev_state(devs[0]), "live"));
	T_TRUE(read_file("/proc/gpu_dma_lock/acl", buf, sizeof(buf)) > 0 &&
		    !strncmp(buf, "agent owner device rights", 25));
	T_TRUE(read_file("/proc/gpu_dma_lock/stats", buf,
			      sizeof(buf)) > 0 &&
		    strstr(buf, "ledger_consistent 1\n") &&
		    strstr(buf, "live_reservations 0\n"));
	{
		struct stat st;

		T_EXPECT(stat("/proc/gpu_dma_lock/agents", &st), 0);
		T_TRUE((st.st_mode & 0777) == 0400);
	}
}

static void test_destroy(void)
{
	struct gdlock *g2 = xopen();
	char id[16], me[16], v[32], buf[256];
	uint64_t h;

	t_section = "destroy";
	/* Destroying an agent with live reservations: they stay charged. */
	T_EXPECT(gdlock_reserve(g2, devs[0], 4096, &h), 0);
	T_EXPECT(gdlock_agent_destroy(g, agent_a), 0);
	T_TRUE(stat_of(GDL_STAT_LIVE_RESERVATIONS) == 1);
	T_TRUE(stat_of(GDL_STAT_LEDGER_CONSISTENT) == 1);
	/*
	 * Issue 22 item 1: what holds memory stays visible.  The destroyed
	 * agent keeps its rows in /proc agents (state destroyed), and
	 * /proc holders names the file's process, the agent, the size.
	 */
	snprintf(id, sizeof(id), "%u", agent_a);
	snprintf(me, sizeof(me), "%d", getpid());
	T_EXPECT(proc_col("/proc/gpu_dma_lock/agents", 1, id, 12, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, "destroyed"));
	T_EXPECT(proc_col("/proc/gpu_dma_lock/agents", 1, id, 5, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, "4096"));
	T_TRUE(read_file("/proc/gpu_dma_lock/holders", buf, sizeof(buf)) > 0 &&
	       !strncmp(buf, "pid handle agent state device size kind\n", 40));
	T_EXPECT(proc_col("/proc/gpu_dma_lock/holders", 3, id, 1, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, me));
	T_EXPECT(proc_col("/proc/gpu_dma_lock/holders", 3, id, 4, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, "destroyed"));
	T_EXPECT(proc_col("/proc/gpu_dma_lock/holders", 3, id, 6, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, "4096"));
	T_EXPECT(proc_col("/proc/gpu_dma_lock/holders", 3, id, 7, v,
			  sizeof(v)), 0);
	T_TRUE(!strcmp(v, "reserved"));
	/* Its processes are unbound now. */
	T_EXPECT(gdlock_reserve(g2, devs[0], 4096, &h), -ENOLINK);
	gdlock_close(g2);
	T_TRUE(stat_of(GDL_STAT_LIVE_RESERVATIONS) == 0);
	/* Released: gone from both. */
	T_EXPECT(proc_col("/proc/gpu_dma_lock/agents", 1, id, 12, v,
			  sizeof(v)), -ENOENT);
	T_EXPECT(proc_col("/proc/gpu_dma_lock/holders", 3, id, 1, v,
			  sizeof(v)), -ENOENT);
	T_EXPECT(gdlock_agent_destroy(g, agent_b), 0);
	T_TRUE(stat_of(GDL_STAT_LIVE_AGENTS) == 1);
	T_TRUE(stat_of(GDL_STAT_LIVE_ACL_ENTRIES) == 0);
	T_TRUE(stat_of(GDL_STAT_LEDGER_CONSISTENT) == 1);
}

static int default_child(void *arg)
{
	struct gdlock *h = xopen();
	struct gdl_whoami w;
	uint64_t hd;
	int fails = 0;

	(void)arg;
	U(gdlock_whoami(h, &w), 0);
	U(w.bound_by == GDL_BOUND_DEFAULT, 1);
	U(gdlock_reserve(h, devs[0], MiB, &hd), 0);
	U(gdlock_reserve(h, devs[0], 1, &hd), -EDQUOT);
	gdlock_close(h);
	return fails;
}

/* default_policy=default default_quota=1M: unbound callers share it. */
static void test_default_policy(void)
{
	struct gdl_version v;
	int n = 0, i;
	struct gdl_device_info d[GDL_MAX_DEVICES];

	t_section = "default-policy";
	n = gdlock_device_list(g, d, GDL_MAX_DEVICES);
	for (i = 0; i < n; i++)
		if (d[i].vendor == 0x1234 && d[i].device == 0x11e8)
			devs[ndev++] = d[i].index;
	T_EXPECT(gdlock_version(g, &v), 0);
	T_TRUE(v.flags & GDL_VERSION_F_DEFAULT_ALLOW);
	T_EXPECT(as_nobody(default_child, NULL), 0);
	T_EXPECT(as_nobody(default_child, NULL), 0);
	T_TRUE(stat_of(GDL_STAT_LIVE_RESERVATIONS) == 0);
}


/*
 * Loaded with share_key_majors=1 and default_policy=default (issue 22
 * item 2): a character device an admin allowed (/dev/null, major 1) and a
 * shmem file (/dev/shm) are fd keys; a pipe, another device (/dev/tty,
 * major 5) and a regular file elsewhere are not (EBADFD).
 */
static void test_key_majors(void)
{
	struct gdl_device_info d[GDL_MAX_DEVICES];
	int n, i, nul, shm, tty, pfd[2];
	uint64_t h, ha, hb;

	t_section = "key-majors";
	n = gdlock_device_list(g, d, GDL_MAX_DEVICES);
	for (i = 0; i < n && i < GDL_MAX_DEVICES; i++)
		if (d[i].vendor == 0x1234 && d[i].device == 0x11e8)
			devs[ndev++] = d[i].index;
	T_TRUE(ndev > 0);
	if (!ndev)
		return;
	T_EXPECT(gdlock_reserve(g, devs[0], 4096, &h), 0);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	T_TRUE(nul >= 0);
	T_EXPECT(gdlock_reservation_share_fd(g, h, nul), 0);
	T_EXPECT(gdlock_reservation_attach_fd(g, nul, &ha), 0);
	T_EXPECT(gdlock_release(g, ha), 0);
	shm = open("/dev/shm/gdl-key", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	T_TRUE(shm >= 0);
	T_EXPECT(gdlock_reservation_share_fd(g, h, shm), 0);
	T_EXPECT(gdlock_reservation_attach_fd(g, shm, &hb), 0);
	T_EXPECT(gdlock_release(g, hb), 0);
	unlink("/dev/shm/gdl-key");
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0)	/* no controlling terminal: /dev/console is 5 too */
		tty = open("/dev/console", O_RDWR | O_CLOEXEC | O_NOCTTY);
	T_TRUE(tty >= 0);
	T_EXPECT(gdlock_reservation_share_fd(g, h, tty), -EBADFD);
	T_EXPECT(gdlock_reservation_attach_fd(g, tty, &ha), -EBADFD);
	T_TRUE(pipe(pfd) == 0);
	T_EXPECT(gdlock_reservation_share_fd(g, h, pfd[0]), -EBADFD);
	i = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	T_EXPECT(gdlock_reservation_share_fd(g, h, i), -EBADFD);
	close(i);
	close(pfd[0]);
	close(pfd[1]);
	close(tty);
	T_EXPECT(gdlock_release(g, h), 0);
	/* The keys went with the reservation, and their files with them. */
	T_EXPECT(gdlock_reservation_attach_fd(g, nul, &ha), -ENOENT);
	close(nul);
	close(shm);
	T_TRUE(stat_of(GDL_STAT_LIVE_RESERVATIONS) == 0);
}

/* The index of the managed device at PCI address @bdf, or -ENODEV. */
static int device_at(uint32_t domain, uint32_t bdf)
{
	struct gdl_device_info d[GDL_MAX_DEVICES];
	int n = gdlock_device_list(g, d, GDL_MAX_DEVICES), i;

	for (i = 0; i < n && i < GDL_MAX_DEVICES; i++)
		if (d[i].vendor && d[i].pci_domain == domain &&
		    d[i].pci_bdf == bdf)
			return d[i].index;
	return -ENODEV;
}

static int find_edu(void)
{
	struct gdl_device_info d[GDL_MAX_DEVICES];
	int n = gdlock_device_list(g, d, GDL_MAX_DEVICES), i;

	ndev = 0;
	for (i = 0; i < n && i < GDL_MAX_DEVICES; i++)
		if (d[i].flags & GDL_DEV_F_PCI && d[i].vendor == 0x1234 &&
		    d[i].device == 0x11e8)
			devs[ndev++] = d[i].index;
	return ndev;
}

/* Events waiting on @fd (made O_NONBLOCK), up to @cap: how many read. */
static int events_now(int fd, struct gdl_event *ev, int cap)
{
	int n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	n = read(fd, ev, cap * sizeof(*ev));
	return n < 0 ? (errno == EAGAIN ? 0 : -errno) : n / (int)sizeof(*ev);
}

/*
 * A tenant's event reader (agent @arg, bound by the parent by pid): it
 * opens its file, says so, and once told (the device went and came
 * back), is refused once for quota and reads: its own refusal only, no
 * device event.  Exit 0 when so.
 */
struct tenant_reader {
	int ready[2], go[2];
};

static int tenant_reader(struct tenant_reader *t)
{
	struct gdl_event ev[16];
	struct gdlock *h = xopen();
	int n, i, own = 0, dev = 0;
	char c;

	if (write(t->ready[1], "r", 1) != 1 || read(t->go[0], &c, 1) != 1)
		return 10;
	if (gdlock_reserve(h, devs[0], 4096, NULL) != -EDQUOT)
		return 11;
	n = events_now(gdlock_fd(h), ev, 16);
	for (i = 0; i < n; i++) {
		own += ev[i].type == GDL_EVENT_QUOTA_EXCEEDED;
		dev += ev[i].type == GDL_EVENT_DEVICE_GONE ||
		       ev[i].type == GDL_EVENT_DEVICE_BACK;
	}
	printf("  tenant reader: %d events, %d its own, %d of devices\n", n,
	       own, dev);
	gdlock_close(h);
	return n == 1 && own == 1 && !dev ? 0 : 12;
}

static pid_t tenant_reader_start(struct tenant_reader *t)
{
	pid_t pid;
	char c;

	if (pipe(t->ready) || pipe(t->go))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(99);
		_exit(tenant_reader(t));
	}
	if (pid < 0 || read(t->ready[0], &c, 1) != 1)
		return -1;
	return pid;
}

/*
 * A shared reservation on a device that leaves the bus: neither attached
 * nor shared again while it is gone (ENODEV, as reserve and DMA check),
 * both again once a rescan brings it back.  @rm removes it.
 */
static void test_hotplug_share(uint32_t dev, const char *rm)
{
	unsigned char key[64], key2[64];
	struct gdlock *gs = xopen();
	uint64_t h, ha;

	memset(key, 0x71, sizeof(key));
	memset(key2, 0x72, sizeof(key2));
	T_EXPECT(gdlock_reserve(gs, dev, 4096, &h), 0);
	T_EXPECT(gdlock_reservation_share(gs, h, key, 64), 0);
	T_EXPECT(write_file(rm, "1"), 0);
	T_EXPECT(gdlock_reservation_attach(g, key, 64, &ha), -ENODEV);
	T_EXPECT(gdlock_reservation_share(gs, h, key2, 64), -ENODEV);
	T_EXPECT(write_file("/sys/bus/pci/rescan", "1"), 0);
	T_EXPECT(gdlock_reservation_attach(g, key, 64, &ha), 0);
	T_EXPECT(gdlock_reservation_share(gs, h, key2, 64), 0);
	gdlock_close(gs);
	T_EXPECT(usage_of(0, dev), 4096);	/* the attached handle holds it */
	T_EXPECT(gdlock_release(g, ha), 0);
	T_EXPECT(usage_of(0, dev), 0);
	T_EXPECT(stat_of(GDL_STAT_LEDGER_CONSISTENT), 1);
}

/*
 * PCI hot-plug (ABI 1.3), through the kernel's own sysfs: remove a managed
 * edu device, check it is gone and what that means, rescan the bus, check
 * it is back with its policy.  Mode "hotplug": deny policy, pci_ids
 * naming the edu devices.
 */
static void test_hotplug(void)
{
	struct gdl_device_info d;
	uint32_t agent, tenant, dev, dom, bdf;
	char sys[96], rm[128];
	struct tenant_reader tr;
	struct gdl_event ev[8];
	struct gdl_quota q;
	struct gdlock *g2, *adm;
	pid_t reader;
	uint64_t h;
	int idx;

	t_section = "hotplug";
	if (find_edu() < 2) {
		t_check(0, "2 edu devices managed at load (got %d)", ndev);
		return;
	}
	dev = devs[1];
	T_EXPECT(t_device_of(g, dev, &d), 0);
	dom = d.pci_domain;
	bdf = d.pci_bdf;
	snprintf(sys, sizeof(sys), "/sys/bus/pci/devices/%04x:%02x:%02x.%u",
		 dom, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
	snprintf(rm, sizeof(rm), "%s/remove", sys);
	T_TRUE(access(sys, F_OK) == 0);
	T_EXPECT(gdlock_agent_create(g, "hotplug", 0, &agent), 0);
	T_EXPECT(gdlock_quota_set(g, agent, dev, 8 * MiB), 0);
	T_EXPECT(gdlock_quota_set(g, agent, devs[0], 8 * MiB), 0);
	T_EXPECT(gdlock_bind_pid(g, agent, getpid()), 0);
	/*
	 * Readers of events: an admin's file, and a tenant's (forked before
	 * the files below, so that it holds none of them).
	 */
	adm = xopen();
	T_EXPECT(events_now(gdlock_fd(adm), ev, 8), 0);
	T_EXPECT(gdlock_agent_create(g, "hp-tenant", 0, &tenant), 0);
	reader = tenant_reader_start(&tr);
	T_TRUE(reader > 0);
	T_EXPECT(gdlock_bind_pid(g, tenant, reader), 0);
	g2 = xopen();
	T_EXPECT(gdlock_reserve(g2, dev, MiB, &h), 0);
	T_EXPECT(gdlock_reserve_at(g2, dev, 16 * MiB, MiB, &h), 0);
	T_EXPECT(gdlock_dma_check(g2, dev, 16 * MiB, 4096, GDL_ACCESS_READ),
		 0);
	T_TRUE(!strcmp(proc_dev_state(dev), "live"));

	/* Removed from the bus: flagged, refused, its reservations kept. */
	T_EXPECT(write_file(rm, "1"), 0);
	T_TRUE(access(sys, F_OK) != 0);
	/* The admin's reader is told, once. */
	T_EXPECT(events_now(gdlock_fd(adm), ev, 8), 1);
	T_TRUE(ev[0].type == GDL_EVENT_DEVICE_GONE &&
	       ev[0].dev_index == dev && !ev[0].agent_id);
	T_EXPECT(t_device_of(g, dev, &d), 0);
	T_TRUE(d.flags == (GDL_DEV_F_PCI | GDL_DEV_F_GONE));
	T_EXPECT(d.nr_reservations, 2);
	T_TRUE(!strcmp(proc_dev_state(dev), "gone"));
	T_EXPECT(t_device_of(g, devs[0], &d), 0);
	T_TRUE(d.flags == GDL_DEV_F_PCI);
	T_EXPECT(gdlock_reserve(g2, dev, 4096, NULL), -ENODEV);
	T_EXPECT(gdlock_dma_check(g2, dev, 16 * MiB, 4096, GDL_ACCESS_READ),
		 -ENODEV);
	T_EXPECT(gdlock_peer_check(g2, devs[0], dev), -ENODEV);
	T_EXPECT(gdlock_reserve(g2, devs[0], 4096, NULL), 0);
	T_EXPECT(gdlock_device_remove(g, dev), -EBUSY);
	T_EXPECT(usage_of(agent, dev), 2 * MiB);
	/* Closing the file releases them: the charge goes. */
	gdlock_close(g2);
	T_EXPECT(usage_of(agent, dev), 0);
	T_EXPECT(usage_of(agent, devs[0]), 0);
	T_EXPECT(t_device_of(g, dev, &d), 0);
	T_EXPECT(d.used, 0);
	T_EXPECT(d.nr_reservations, 0);
	T_EXPECT(stat_of(GDL_STAT_LIVE_RESERVATIONS), 0);
	T_EXPECT(stat_of(GDL_STAT_LEDGER_CONSISTENT), 1);

	/* A rescan brings it back: same index, live, the quota kept. */
	T_EXPECT(write_file("/sys/bus/pci/rescan", "1"), 0);
	T_TRUE(access(sys, F_OK) == 0);
	T_EXPECT(device_at(dom, bdf), dev);
	T_EXPECT(t_device_of(g, dev, &d), 0);
	T_TRUE(d.flags == GDL_DEV_F_PCI);
	T_TRUE(!strcmp(proc_dev_state(dev), "live"));
	T_EXPECT(events_now(gdlock_fd(adm), ev, 8), 1);
	T_TRUE(ev[0].type == GDL_EVENT_DEVICE_BACK &&
	       ev[0].dev_index == dev && !ev[0].agent_id);
	/* The tenant's reader saw neither. */
	T_TRUE(write(tr.go[1], "g", 1) == 1);
	T_EXPECT(share_child_wait(reader), 0);
	T_EXPECT(gdlock_agent_destroy(g, tenant), 0);
	gdlock_close(adm);
	T_EXPECT(gdlock_quota_get(g, agent, dev, &q), 0);
	T_EXPECT(q.quota, 8 * MiB);
	g2 = xopen();
	T_EXPECT(gdlock_reserve(g2, dev, 8 * MiB, &h), 0);
	T_EXPECT(gdlock_reserve(g2, dev, 1, NULL), -EDQUOT);
	gdlock_close(g2);
	test_hotplug_share(dev, rm);

	/* Forgotten while gone, it comes back as a new device. */
	T_EXPECT(write_file(rm, "1"), 0);
	T_EXPECT(gdlock_device_remove(g, dev), 0);
	T_EXPECT(device_at(dom, bdf), -ENODEV);
	T_EXPECT(write_file("/sys/bus/pci/rescan", "1"), 0);
	idx = device_at(dom, bdf);
	T_TRUE(idx >= 0);
	T_EXPECT(gdlock_quota_get(g, agent, idx, &q), 0);
	T_EXPECT(q.quota, 0);
	T_EXPECT(gdlock_unbind_pid(g, agent, getpid()), 0);
	T_EXPECT(gdlock_agent_destroy(g, agent), 0);
	T_EXPECT(stat_of(GDL_STAT_LEDGER_CONSISTENT), 1);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "deny";

	setvbuf(stdout, NULL, _IOLBF, 0);
	g = xopen();
	if (!strcmp(mode, "default")) {
		test_default_policy();
	} else if (!strcmp(mode, "hotplug")) {
		test_hotplug();
	} else if (!strcmp(mode, "keymajors")) {
		test_key_majors();
	} else {
		test_abi();
		test_devices();
		if (ndev < 2) {
			fprintf(stderr, "itest needs 2 edu devices\n");
			return 2;
		}
		test_agents();
		test_quota();
		test_events();
		test_cgroup();
		test_bindings();
		test_crash_release();
		test_unprivileged();
		test_dma();
		test_share();
		test_host_pid();
		test_audit();
		test_proc();
		test_destroy();
	}
	gdlock_close(g);
	printf("itest: %d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile-conditions suites for gpu_dma_lock, run INSIDE the test VM as
 * root (tests/hostile/guest.sh drives them):
 *
 *   hostile badinput    every class of invalid value per ABI field -> errno
 *   hostile limits      module loaded with max_agents=2 max_reservations=2
 *                       max_acl_entries=2 and per-agent shares of 1:
 *                       EUSERS, ENOBUFS, EMFILE
 *   hostile priv        privilege matrix (uid 65534, agents A/B, /proc)
 *   hostile storm N B   N processes, B at a time, SIGKILLed mid-flight
 *   hostile race SECS   2+ vCPUs: reserve/release/DMA against quota, ACL,
 *                       cgroup, agent and device changes
 *   hostile traffic     a little of everything (lifecycle cycles)
 *   hostile fresh       the module was just loaded: fresh-load counts
 *   hostile check N     invariants at rest with N files open (ours)
 *
 * Each prints failures (HOSTILE_VERBOSE=1: every case) and ends with
 * "hostile-SUITE: N passed, M failed[ killed=K]".  The ledger's invariants
 * are asserted at the end of every scenario.
 */
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "hcommon.h"

#define MiB (1024ULL * 1024)

static int fd;			/* the checker's own file */
static long pagesz;
static unsigned char *page_none, *page_end;	/* PROT_NONE; last rw page */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return n ? (rng * 0x2545F4914F6CDD1DULL) % n : 0;
}

static int move_to_cgroup(const char *cg, pid_t pid)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%scgroup.procs", cg,
		 *cg ? "/" : "");
	snprintf(val, sizeof(val), "%d", pid);
	return h_write_str(path, val);
}

static uint32_t agent_create(int f, const char *name, uint64_t quota)
{
	struct gdl_agent_info a = { .default_quota = quota };

	snprintf(a.name, sizeof(a.name), "%s", name);
	return h_ioctl(f, GDL_IOC_AGENT_CREATE, &a) ? 0 : a.id;
}

static int agent_destroy(int f, uint32_t id)
{
	struct gdl_id i = { .id = id };

	return h_ioctl(f, GDL_IOC_AGENT_DESTROY, &i);
}

static int bind_pid(int f, uint32_t agent, pid_t pid, int unbind)
{
	struct gdl_bind b = { .agent_id = agent, .type = GDL_BIND_PID,
			      .value = pid,
			      .flags = unbind ? GDL_BIND_F_UNBIND : 0 };

	return h_ioctl(f, GDL_IOC_AGENT_BIND, &b);
}

static int bind_cgroup(int f, uint32_t agent, const char *cg, int unbind)
{
	char path[128];
	struct gdl_bind b = { .agent_id = agent, .type = GDL_BIND_CGROUP_FD,
			      .flags = unbind ? GDL_BIND_F_UNBIND : 0 };
	int cfd, ret;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", cg);
	mkdir(path, 0755);
	cfd = open(path, O_RDONLY | O_DIRECTORY);
	if (cfd < 0)
		return -errno;
	b.value = cfd;
	ret = h_ioctl(f, GDL_IOC_AGENT_BIND, &b);
	close(cfd);
	return ret;
}

static int quota_set(int f, uint32_t agent, uint32_t dev, uint64_t q)
{
	struct gdl_quota_set s = { .agent_id = agent, .dev_index = dev,
				   .quota = q };

	return h_ioctl(f, GDL_IOC_QUOTA_SET, &s);
}

static int quota_get(int f, uint32_t agent, uint32_t dev, struct gdl_quota *q)
{
	memset(q, 0, sizeof(*q));
	q->agent_id = agent;
	q->dev_index = dev;
	return h_ioctl(f, GDL_IOC_QUOTA_GET, q);
}

static int reserve(int f, uint32_t dev, uint64_t size, uint64_t addr,
		   uint64_t *handle, uint32_t *agent)
{
	struct gdl_reserve r = { .dev_index = dev, .size = size, .addr = addr,
				 .flags = addr ? GDL_RESERVE_F_ADDR : 0 };
	int ret = h_ioctl(f, GDL_IOC_RESERVE, &r);

	if (!ret && handle)
		*handle = r.handle;
	if (!ret && agent)
		*agent = r.agent_id;
	return ret;
}

static int release(int f, uint64_t handle)
{
	struct gdl_release r = { .handle = handle };

	return h_ioctl(f, GDL_IOC_RELEASE, &r);
}

static int dma(int f, uint32_t dev, uint64_t addr, uint64_t len,
	       uint32_t access, uint32_t *result)
{
	struct gdl_dma_check c = { .dev_index = dev, .addr = addr, .len = len,
				   .access = access };
	int ret = h_ioctl(f, GDL_IOC_DMA_CHECK, &c);

	if (result)
		*result = c.result;
	return ret;
}

static int acl(int f, unsigned long cmd, const struct gdl_acl_entry *e,
	       uint32_t n)
{
	struct gdl_array a = { .ptr = (uintptr_t)e, .count = n,
			       .entry_size = sizeof(*e) };

	return h_ioctl(f, cmd, &a);
}

static uint32_t device_add(int f, const char *name, uint64_t cap)
{
	struct gdl_device_info d = { .capacity = cap };

	snprintf(d.name, sizeof(d.name), "%s", name);
	return h_ioctl(f, GDL_IOC_DEVICE_ADD, &d) ? ~0U : d.index;
}

static int device_remove(int f, uint32_t idx)
{
	struct gdl_id i = { .id = idx };

	return h_ioctl(f, GDL_IOC_DEVICE_REMOVE, &i);
}

/* The index of the first edu device the module discovered on PCI. */
static uint32_t pci_dev(int nth)
{
	struct gdl_device_info d[GDL_MAX_DEVICES];
	int n = h_list(fd, GDL_IOC_DEVICE_LIST, 0, d, GDL_MAX_DEVICES,
		       sizeof(d[0])), i;

	for (i = 0; i < n; i++)
		if (d[i].flags & GDL_DEV_F_PCI && nth-- == 0)
			return d[i].index;
	return ~0U;
}

static uint32_t default_agent(void)
{
	struct gdl_agent_info a[64];
	int n = h_list(fd, GDL_IOC_AGENT_LIST, 0, a, 64, sizeof(a[0])), i;

	for (i = 0; i < n && i < 64; i++)
		if (a[i].flags & GDL_AGENT_F_DEFAULT)
			return a[i].id;
	return 0;
}

static int finish(const char *suite, const char *extra)
{
	printf("hostile-%s: %d passed, %d failed%s\n", suite, t_passed,
	       t_failed, extra ? extra : "");
	return t_failed ? 1 : 0;
}

/* ---------------------------------------------------------------- */
/* badinput: one case per class of invalid value per field            */

/* Call @cmd with @arg of @len bytes placed at the end of a page. */
#define BI(cmd, arg, want) T_EXPECT(h_ioctl(fd, cmd, &(arg)), want)

/* The struct-level classes every command with an argument gets. */
static void bi_generic(unsigned long cmd, const void *good, size_t len,
		       const char *name)
{
	unsigned char big[1024];
	int dirs = _IOC_DIR(cmd), r, d;

	t_section = name;
	/* Smaller than version 1. */
	memcpy(big, good, len);
	T_EXPECT(h_ioctl(fd, _IOC(dirs, GDL_IOC_MAGIC, _IOC_NR(cmd), len - 8),
			 big), -EINVAL);
	T_EXPECT(h_ioctl(fd, _IOC(dirs, GDL_IOC_MAGIC, _IOC_NR(cmd), 0), big),
		 -EINVAL);
	/* Every other direction, and a foreign type. */
	for (d = 0; d < 4; d++)
		if (d != dirs)
			T_EXPECT(h_ioctl(fd, _IOC(d, GDL_IOC_MAGIC,
						  _IOC_NR(cmd), len), big),
				 -ENOTTY);
	T_EXPECT(h_ioctl(fd, _IOC(dirs, 'g', _IOC_NR(cmd), len), big), -ENOTTY);
	/* Bad pointers: NULL, PROT_NONE, unmapped, straddling a page end. */
	T_EXPECT(h_ioctl(fd, cmd, NULL), -EFAULT);
	T_EXPECT(h_ioctl(fd, cmd, page_none), -EFAULT);
	T_EXPECT(h_ioctl(fd, cmd, (void *)(uintptr_t)0x200000000000ULL),
		 -EFAULT);
	T_EXPECT(h_ioctl(fd, cmd, (void *)(uintptr_t)0xffff888000000000ULL),
		 -EFAULT);
	memcpy(page_end + pagesz - len + 8, good, len - 8);
	T_EXPECT(h_ioctl(fd, cmd, page_end + pagesz - len + 8), -EFAULT);
	/* Input tail beyond version 1: non-zero refused. */
	if (dirs & _IOC_WRITE) {
		memset(big, 0, sizeof(big));
		memcpy(big, good, len);
		big[len + 13] = 1;
		T_EXPECT(h_ioctl(fd, _IOC(dirs, GDL_IOC_MAGIC, _IOC_NR(cmd),
					  len + 16), big), -E2BIG);
		big[len + 13] = 0;
		big[sizeof(big) - 1] = 0x80;
		T_EXPECT(h_ioctl(fd, _IOC(dirs, GDL_IOC_MAGIC, _IOC_NR(cmd),
					  sizeof(big)), big), -E2BIG);
	} else {
		/* Output tail zeroed. */
		memset(big, 0xa5, sizeof(big));
		r = h_ioctl(fd, _IOC(dirs, GDL_IOC_MAGIC, _IOC_NR(cmd),
				     len + 24), big);
		T_TRUE(r == 0 && big[len] == 0 && big[len + 23] == 0 &&
		       big[len + 24] == 0xa5);
	}
}

/* Set each 8-byte word of @reserved (@n bytes at @off) in turn: EINVAL. */
static void bi_reserved(unsigned long cmd, const void *good, size_t len,
			size_t off, size_t n)
{
	unsigned char buf[512];
	size_t i;

	for (i = 0; i < n; i += 4) {
		memcpy(buf, good, len);
		buf[off + i] = 1;
		T_EXPECT(h_ioctl(fd, cmd, buf), -EINVAL);
	}
}

#define BI_RES(cmd, good, field) \
	bi_reserved(cmd, &(good), sizeof(good), offsetof(typeof(good), field), \
		    sizeof((good).field))

static int bad_name_cases(char names[][GDL_NAME_LEN])
{
	int n = 0;

	memset(names, 0, 5 * GDL_NAME_LEN);
	strcpy(names[n++], "bad name");		/* space */
	strcpy(names[n++], "bad/name");
	memset(names[n++], 'a', GDL_NAME_LEN);	/* not terminated */
	strcpy(names[n], "ok");			/* hidden byte after NUL */
	names[n++][10] = 'x';
	names[n++][0] = (char)0xc3;		/* non-ASCII */
	return n;
}

static int suite_badinput(void)
{
	char bad[5][GDL_NAME_LEN];
	uint32_t dev0 = pci_dev(0), dev1 = pci_dev(1), ag, ag2, dead, absent;
	int nbad = bad_name_cases(bad), i, n, cfd, ffd;
	uint64_t h;

	T_TRUE(dev0 != ~0U && dev1 != ~0U);
	ag = agent_create(fd, "bi-a", 16 * MiB);
	ag2 = agent_create(fd, "bi-b", 16 * MiB);
	dead = agent_create(fd, "bi-dead", 0);
	T_TRUE(ag && ag2 && dead && !agent_destroy(fd, dead));
	T_EXPECT(bind_pid(fd, ag, getpid(), 0), 0);
	absent = device_add(fd, "bi-absent", MiB);
	T_EXPECT(device_remove(fd, absent), 0);

	/* Command numbers. */
	t_section = "badinput/cmd";
	T_EXPECT(h_ioctl(fd, _IO(GDL_IOC_MAGIC, 0x03), NULL), -ENOTTY);
	T_EXPECT(h_ioctl(fd, _IO(GDL_IOC_MAGIC, 0x71), NULL), -ENOTTY);
	T_EXPECT(h_ioctl(fd, _IO(GDL_IOC_MAGIC, 0xff), NULL), -ENOTTY);
	T_EXPECT(h_ioctl(fd, _IOWR(GDL_IOC_MAGIC, 0x00, uint64_t), &h), -ENOTTY);
	T_EXPECT(h_ioctl(fd, _IO(0, 0), NULL), -ENOTTY);
	T_EXPECT(h_ioctl(fd, GDL_IOC_NOP, NULL), 0);
	T_EXPECT(h_ioctl(fd, GDL_IOC_NOP, page_none), 0);

	/* VERSION, WHOAMI, STATS: read-only structs. */
	{
		struct gdl_version v = { 0 };
		struct gdl_whoami w = { 0 };
		struct gdl_stats s = { 0 };

		bi_generic(GDL_IOC_VERSION, &v, sizeof(v), "badinput/version");
		bi_generic(GDL_IOC_WHOAMI, &w, sizeof(w), "badinput/whoami");
		bi_generic(GDL_IOC_STATS, &s, sizeof(s), "badinput/stats");
	}

	/* Lists. */
	{
		static const struct {
			unsigned long cmd;
			size_t esize;
			uint32_t max;
			int empty;	/* nothing to copy out at this point */
			int filter;	/* filter_agent is allowed */
			const char *name;
		} lists[] = {
			{ GDL_IOC_DEVICE_LIST, sizeof(struct gdl_device_info),
			  GDL_MAX_DEVICES, 0, 0, "badinput/device_list" },
			{ GDL_IOC_AGENT_LIST, sizeof(struct gdl_agent_info), 0,
			  0, 0, "badinput/agent_list" },
			{ GDL_IOC_ACL_LIST, sizeof(struct gdl_acl_entry), 0,
			  1, 1, "badinput/acl_list" },
			{ GDL_IOC_BIND_LIST, sizeof(struct gdl_binding_info), 0,
			  1, 1, "badinput/bind_list" },
		};
		static unsigned char out[4 * 4096];

		for (i = 0; i < (int)(sizeof(lists) / sizeof(lists[0])); i++) {
			struct gdl_array a = { .ptr = (uintptr_t)out, .count = 1,
					       .entry_size = lists[i].esize };
			struct gdl_array t;

			bi_generic(lists[i].cmd, &a, sizeof(a), lists[i].name);
			/* flags: bit 0 is AGENT_LIST's (ABI 1.4), unknown to the rest. */
			if (lists[i].cmd != GDL_IOC_AGENT_LIST)
				BI_RES(lists[i].cmd, a, flags);
			t = a; t.flags = ~(uint32_t)GDL_LIST_F_DESTROYED;
			BI(lists[i].cmd, t, -EINVAL);
			t = a; t.flags = 0x80000000U;
			BI(lists[i].cmd, t, -EINVAL);
			BI_RES(lists[i].cmd, a, reserved);
			t = a; t.entry_size = lists[i].esize - 8;
			BI(lists[i].cmd, t, -EINVAL);
			t = a; t.entry_size = 0;
			BI(lists[i].cmd, t, -EINVAL);
			t = a; t.entry_size = 4097;
			BI(lists[i].cmd, t, -EINVAL);
			t = a; t.entry_size = 4096;
			BI(lists[i].cmd, t, 0);
			t = a; t.ptr = 0;
			BI(lists[i].cmd, t, -EFAULT);
			t = a; t.ptr = 0; t.count = 0;
			BI(lists[i].cmd, t, 0);
			t = a; t.ptr = (uintptr_t)page_none;
			if (!lists[i].empty)
				BI(lists[i].cmd, t, -EFAULT);
			/* Straddling: the first entry fits, the second not. */
			t = a; t.count = 2;
			t.ptr = (uintptr_t)page_end + pagesz - lists[i].esize - 8;
			if (!lists[i].empty)
				BI(lists[i].cmd, t, -EFAULT);
			t = a; t.count = 0xffffffff;
			BI(lists[i].cmd, t, lists[i].max ? -E2BIG : 0);
			if (!lists[i].filter) {
				t = a; t.filter_agent = ag;
				BI(lists[i].cmd, t, -EINVAL);
			}
		}
	}

	/* DEVICE_ADD */
	{
		struct gdl_device_info d = { .capacity = MiB }, t;
		struct gdl_device_info pci[GDL_MAX_DEVICES];
		uint32_t idx[GDL_MAX_DEVICES];

		strcpy(d.name, "bi-new");
		bi_generic(GDL_IOC_DEVICE_ADD, &d, sizeof(d),
			   "badinput/device_add");
		BI_RES(GDL_IOC_DEVICE_ADD, d, reserved0);
		BI_RES(GDL_IOC_DEVICE_ADD, d, reserved);
		BI_RES(GDL_IOC_DEVICE_ADD, d, index);
		BI_RES(GDL_IOC_DEVICE_ADD, d, flags);
		BI_RES(GDL_IOC_DEVICE_ADD, d, used);
		BI_RES(GDL_IOC_DEVICE_ADD, d, peak);
		BI_RES(GDL_IOC_DEVICE_ADD, d, nr_reservations);
		t = d; t.capacity = 0;
		BI(GDL_IOC_DEVICE_ADD, t, -EINVAL);
		t = d; t.pci_bdf = 0x10000;
		BI(GDL_IOC_DEVICE_ADD, t, -EINVAL);
		for (i = 0; i < nbad; i++) {
			t = d;
			memcpy(t.name, bad[i], GDL_NAME_LEN);
			BI(GDL_IOC_DEVICE_ADD, t, -EINVAL);
		}
		/* Taken: a name, a PCI address. */
		n = h_list(fd, GDL_IOC_DEVICE_LIST, 0, pci, GDL_MAX_DEVICES,
			   sizeof(pci[0]));
		t = d; memcpy(t.name, pci[0].name, GDL_NAME_LEN);
		if (t.name[0])
			BI(GDL_IOC_DEVICE_ADD, t, -EEXIST);
		t = d; t.vendor = pci[0].vendor; t.device = pci[0].device;
		t.pci_domain = pci[0].pci_domain; t.pci_bdf = pci[0].pci_bdf;
		BI(GDL_IOC_DEVICE_ADD, t, -EEXIST);
		/* All 32 slots used. */
		for (i = 0; i < GDL_MAX_DEVICES - n; i++) {
			char nm[16];

			snprintf(nm, sizeof(nm), "bi-fill%d", i);
			idx[i] = device_add(fd, nm, MiB);
		}
		BI(GDL_IOC_DEVICE_ADD, d, -ENOSPC);
		for (i = 0; i < GDL_MAX_DEVICES - n; i++)
			T_EXPECT(device_remove(fd, idx[i]), 0);
	}

	/* DEVICE_SET */
	{
		struct gdl_device_set s = { .index = dev1,
					    .mask = GDL_DEVSET_CAPACITY,
					    .capacity = 1ULL << 40 }, t;
		struct gdl_device_info pci[GDL_MAX_DEVICES];

		bi_generic(GDL_IOC_DEVICE_SET, &s, sizeof(s),
			   "badinput/device_set");
		BI(GDL_IOC_DEVICE_SET, s, 0);
		BI_RES(GDL_IOC_DEVICE_SET, s, reserved);
		t = s; t.mask = 0;
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		t = s; t.mask = 0x8;
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		t = s; t.mask = 0x80000000;
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		t = s; t.capacity = 0;
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		for (i = 0; i < nbad; i++) {
			t = s; t.mask = GDL_DEVSET_NAME;
			memcpy(t.name, bad[i], GDL_NAME_LEN);
			BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		}
		t = s; t.index = GDL_MAX_DEVICES;
		BI(GDL_IOC_DEVICE_SET, t, -ENODEV);
		t = s; t.index = ~0U;
		BI(GDL_IOC_DEVICE_SET, t, -ENODEV);
		t = s; t.index = absent;
		BI(GDL_IOC_DEVICE_SET, t, -ENODEV);
		h_list(fd, GDL_IOC_DEVICE_LIST, 0, pci, GDL_MAX_DEVICES,
		       sizeof(pci[0]));
		/* What mask does not name must be zero (ABI 1.2). */
		t = s; t.name[0] = 'x';
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		t = s; t.uuid[15] = 1;
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		t = s; t.mask = GDL_DEVSET_UUID;
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);
		t = s; t.mask = GDL_DEVSET_NAME; strcpy(t.name, "bi-taken");
		BI(GDL_IOC_DEVICE_SET, t, -EINVAL);	/* capacity set */
		t.capacity = 0;
		t.index = dev0;
		BI(GDL_IOC_DEVICE_SET, t, 0);
		t.index = dev1;
		BI(GDL_IOC_DEVICE_SET, t, -EEXIST);
		t.index = dev0; memset(t.name, 0, sizeof(t.name));
		BI(GDL_IOC_DEVICE_SET, t, 0);
	}

	/* DEVICE_REMOVE, AGENT_DESTROY: struct gdl_id */
	{
		struct gdl_id id = { .id = absent }, t;

		bi_generic(GDL_IOC_DEVICE_REMOVE, &id, sizeof(id),
			   "badinput/device_remove");
		BI_RES(GDL_IOC_DEVICE_REMOVE, id, reserved);
		BI_RES(GDL_IOC_DEVICE_REMOVE, id, flags);
		BI(GDL_IOC_DEVICE_REMOVE, id, -ENODEV);
		t = id; t.id = GDL_MAX_DEVICES;
		BI(GDL_IOC_DEVICE_REMOVE, t, -ENODEV);
		t = id; t.id = ~0U;
		BI(GDL_IOC_DEVICE_REMOVE, t, -ENODEV);
		T_EXPECT(reserve(fd, dev0, 4096, 0, &h, NULL), 0);
		t = id; t.id = dev0;
		BI(GDL_IOC_DEVICE_REMOVE, t, -EBUSY);
		T_EXPECT(release(fd, h), 0);

		id.id = dead;
		bi_generic(GDL_IOC_AGENT_DESTROY, &id, sizeof(id),
			   "badinput/agent_destroy");
		BI_RES(GDL_IOC_AGENT_DESTROY, id, reserved);
		BI_RES(GDL_IOC_AGENT_DESTROY, id, flags);
		BI(GDL_IOC_AGENT_DESTROY, id, -ENOENT);
		t = id; t.id = 0;
		BI(GDL_IOC_AGENT_DESTROY, t, -ENOENT);
		t = id; t.id = ~0U;
		BI(GDL_IOC_AGENT_DESTROY, t, -ENOENT);
		t = id; t.id = ag ^ 0x10000;	/* right slot, wrong generation */
		BI(GDL_IOC_AGENT_DESTROY, t, -ENOENT);
		t = id; t.id = default_agent();
		BI(GDL_IOC_AGENT_DESTROY, t, -EBUSY);
	}

	/* AGENT_CREATE */
	{
		struct gdl_agent_info a = { .default_quota = MiB }, t;

		strcpy(a.name, "bi-c");
		bi_generic(GDL_IOC_AGENT_CREATE, &a, sizeof(a),
			   "badinput/agent_create");
		BI_RES(GDL_IOC_AGENT_CREATE, a, reserved0);
		BI_RES(GDL_IOC_AGENT_CREATE, a, reserved);
		BI_RES(GDL_IOC_AGENT_CREATE, a, id);
		BI_RES(GDL_IOC_AGENT_CREATE, a, flags);
		BI_RES(GDL_IOC_AGENT_CREATE, a, nr_bindings);
		t = a; memset(t.name, 0, sizeof(t.name));
		BI(GDL_IOC_AGENT_CREATE, t, -EINVAL);
		for (i = 0; i < nbad; i++) {
			t = a;
			memcpy(t.name, bad[i], GDL_NAME_LEN);
			BI(GDL_IOC_AGENT_CREATE, t, -EINVAL);
		}
		t = a; strcpy(t.name, "bi-a");
		BI(GDL_IOC_AGENT_CREATE, t, -EEXIST);
		/* Shares larger than the node's pools (ABI 1.2). */
		t = a; t.max_reservations = ~0U;
		BI(GDL_IOC_AGENT_CREATE, t, -EINVAL);
		t = a; t.max_acl_entries = (1U << 26) + 1;
		BI(GDL_IOC_AGENT_CREATE, t, -EINVAL);
		t = a; strcpy(t.name, "default");
		BI(GDL_IOC_AGENT_CREATE, t, -EEXIST);
	}

	/* AGENT_BIND */
	{
		struct gdl_bind b = { .agent_id = ag2, .type = GDL_BIND_PID,
				      .value = 1 }, t;

		bi_generic(GDL_IOC_AGENT_BIND, &b, sizeof(b),
			   "badinput/agent_bind");
		BI_RES(GDL_IOC_AGENT_BIND, b, reserved0);
		BI_RES(GDL_IOC_AGENT_BIND, b, reserved);
		t = b; t.type = 0;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t = b; t.type = 4;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		/* A cgroup by id: unbind only, and a positive id. */
		t = b; t.type = GDL_BIND_CGROUP_ID;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t.flags = GDL_BIND_F_UNBIND;
		t.value = 0;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t.value = -1;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t.value = 1LL << 62;		/* no such binding */
		BI(GDL_IOC_AGENT_BIND, t, -ENOENT);
		t = b; t.flags = 2;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t = b; t.value = 0;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t = b; t.value = -1;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t = b; t.value = 1LL << 31;
		BI(GDL_IOC_AGENT_BIND, t, -EINVAL);
		t = b; t.value = 4194304 - 1;	/* above pid_max here */
		BI(GDL_IOC_AGENT_BIND, t, -ESRCH);
		t = b; t.type = GDL_BIND_CGROUP_FD; t.value = -1;
		BI(GDL_IOC_AGENT_BIND, t, -EBADF);
		t.value = 1LL << 32;
		BI(GDL_IOC_AGENT_BIND, t, -EBADF);
		t.value = 9999;			/* not open */
		BI(GDL_IOC_AGENT_BIND, t, -EBADF);
		ffd = open("/proc/version", O_RDONLY);
		t.value = ffd;			/* not a cgroup */
		BI(GDL_IOC_AGENT_BIND, t, -EBADF);
		close(ffd);
		cfd = open("/sys/fs/cgroup/", O_RDONLY | O_DIRECTORY);
		t.value = cfd;
		t.agent_id = dead;
		BI(GDL_IOC_AGENT_BIND, t, -ENOENT);
		close(cfd);
		t = b; t.agent_id = 0;
		BI(GDL_IOC_AGENT_BIND, t, -ENOENT);
		t = b; t.agent_id = dead;
		BI(GDL_IOC_AGENT_BIND, t, -ENOENT);
		t = b; t.value = getpid();	/* bound to ag already */
		BI(GDL_IOC_AGENT_BIND, t, -EEXIST);
		t = b; t.flags = GDL_BIND_F_UNBIND;	/* pid 1 is not bound */
		BI(GDL_IOC_AGENT_BIND, t, -ENOENT);
		t = b; t.flags = GDL_BIND_F_UNBIND; t.value = getpid();
		BI(GDL_IOC_AGENT_BIND, t, -ENOENT);	/* bound, other agent */
	}

	/* QUOTA_SET, QUOTA_GET */
	{
		struct gdl_quota_set s = { .agent_id = ag, .dev_index = dev0,
					   .quota = 16 * MiB }, t;
		struct gdl_quota q = { .agent_id = ag, .dev_index = dev0 }, u;

		bi_generic(GDL_IOC_QUOTA_SET, &s, sizeof(s),
			   "badinput/quota_set");
		BI_RES(GDL_IOC_QUOTA_SET, s, reserved);
		t = s; t.agent_id = dead;
		BI(GDL_IOC_QUOTA_SET, t, -ENOENT);
		t = s; t.agent_id = 0;
		BI(GDL_IOC_QUOTA_SET, t, -ENOENT);
		t = s; t.dev_index = GDL_MAX_DEVICES;
		BI(GDL_IOC_QUOTA_SET, t, -ENODEV);
		t = s; t.dev_index = absent;
		BI(GDL_IOC_QUOTA_SET, t, -ENODEV);
		t = s; t.dev_index = GDL_ALL_DEVICES - 1;
		BI(GDL_IOC_QUOTA_SET, t, -ENODEV);

		bi_generic(GDL_IOC_QUOTA_GET, &q, sizeof(q),
			   "badinput/quota_get");
		BI_RES(GDL_IOC_QUOTA_GET, q, reserved0);
		BI_RES(GDL_IOC_QUOTA_GET, q, reserved);
		BI_RES(GDL_IOC_QUOTA_GET, q, quota);
		BI_RES(GDL_IOC_QUOTA_GET, q, usage);
		BI_RES(GDL_IOC_QUOTA_GET, q, peak);
		BI_RES(GDL_IOC_QUOTA_GET, q, nr_reservations);
		BI_RES(GDL_IOC_QUOTA_GET, q, denied);
		BI_RES(GDL_IOC_QUOTA_GET, q, flags);
		u = q; u.flags = ~(uint32_t)GDL_QUOTA_F_DESTROYED;
		BI(GDL_IOC_QUOTA_GET, u, -EINVAL);
		u = q; u.agent_id = dead;
		BI(GDL_IOC_QUOTA_GET, u, -ENOENT);
		/* ABI 1.4: destroyed and holding nothing is gone all the same. */
		u = q; u.agent_id = dead; u.flags = GDL_QUOTA_F_DESTROYED;
		BI(GDL_IOC_QUOTA_GET, u, -ENOENT);
		u = q; u.dev_index = GDL_MAX_DEVICES;
		BI(GDL_IOC_QUOTA_GET, u, -ENODEV);
		u = q; u.dev_index = absent;
		BI(GDL_IOC_QUOTA_GET, u, -ENODEV);
		u = q; u.dev_index = GDL_ALL_DEVICES;
		BI(GDL_IOC_QUOTA_GET, u, -ENODEV);
	}

	/* RESERVE, RELEASE */
	{
		struct gdl_reserve r = { .dev_index = dev0, .size = 4096 }, t;
		struct gdl_release rl = { .handle = 1 }, tl;
		uint64_t h1, h2;
		int fd2 = h_open();

		bi_generic(GDL_IOC_RESERVE, &r, sizeof(r), "badinput/reserve");
		BI_RES(GDL_IOC_RESERVE, r, reserved);
		BI_RES(GDL_IOC_RESERVE, r, handle);
		BI_RES(GDL_IOC_RESERVE, r, agent_id);
		BI_RES(GDL_IOC_RESERVE, r, result);
		t = r; t.size = 0;
		BI(GDL_IOC_RESERVE, t, -EINVAL);
		t = r; t.flags = 2;
		BI(GDL_IOC_RESERVE, t, -EINVAL);
		t = r; t.flags = 0x80000000;
		BI(GDL_IOC_RESERVE, t, -EINVAL);
		t = r; t.addr = 4096;		/* an address without F_ADDR */
		BI(GDL_IOC_RESERVE, t, -EINVAL);
		t = r; t.flags = GDL_RESERVE_F_ADDR; t.addr = ~0ULL - 4094;
		BI(GDL_IOC_RESERVE, t, -EOVERFLOW);
		t = r; t.size = ~0ULL; t.addr = 1; t.flags = GDL_RESERVE_F_ADDR;
		BI(GDL_IOC_RESERVE, t, -EOVERFLOW);
		t = r; t.dev_index = GDL_MAX_DEVICES;
		BI(GDL_IOC_RESERVE, t, -ENODEV);
		t = r; t.dev_index = ~0U;
		BI(GDL_IOC_RESERVE, t, -ENODEV);
		t = r; t.dev_index = absent;
		BI(GDL_IOC_RESERVE, t, -ENODEV);
		t = r; t.size = 16 * MiB + 1;	/* quota 16M */
		BI(GDL_IOC_RESERVE, t, -EDQUOT);
		t = r; t.size = 1ULL << 63;	/* huge, negative-looking */
		BI(GDL_IOC_RESERVE, t, -EDQUOT);
		t = r; t.size = ~0ULL;
		BI(GDL_IOC_RESERVE, t, -EDQUOT);
		T_EXPECT(quota_set(fd, ag, dev1, GDL_QUOTA_UNLIMITED), 0);
		{
			struct gdl_device_set ds = { .index = dev1,
						     .mask = GDL_DEVSET_CAPACITY,
						     .capacity = 8 * MiB };

			T_EXPECT(h_ioctl(fd, GDL_IOC_DEVICE_SET, &ds), 0);
			t = r; t.dev_index = dev1; t.size = 8 * MiB + 1;
			BI(GDL_IOC_RESERVE, t, -ENOSPC);
			/* Unlimited quota: a size that would wrap the sum. */
			T_EXPECT(reserve(fd, dev1, 4096, 0, &h1, NULL), 0);
			t = r; t.dev_index = dev1; t.size = ~0ULL - 100;
			BI(GDL_IOC_RESERVE, t, -EOVERFLOW);
			t.size = 1ULL << 63;
			BI(GDL_IOC_RESERVE, t, -EOVERFLOW);
			T_EXPECT(release(fd, h1), 0);
			ds.capacity = 1ULL << 40;
			T_EXPECT(h_ioctl(fd, GDL_IOC_DEVICE_SET, &ds), 0);
		}
		T_EXPECT(reserve(fd, dev0, 8192, 1 << 20, &h1, NULL), 0);
		t = r; t.flags = GDL_RESERVE_F_ADDR; t.addr = (1 << 20) + 4096;
		BI(GDL_IOC_RESERVE, t, -EADDRINUSE);
		t.addr = (1 << 20) - 4095;
		BI(GDL_IOC_RESERVE, t, -EADDRINUSE);
		t.addr = (1 << 20) - 4096;	/* adjacent: fine */
		BI(GDL_IOC_RESERVE, t, 0);
		h2 = t.handle;

		bi_generic(GDL_IOC_RELEASE, &rl, sizeof(rl), "badinput/release");
		BI_RES(GDL_IOC_RELEASE, rl, reserved);
		tl = rl; tl.handle = 0;
		BI(GDL_IOC_RELEASE, tl, -ENOENT);
		tl = rl; tl.handle = ~0ULL;
		BI(GDL_IOC_RELEASE, tl, -ENOENT);
		tl = rl; tl.handle = h1;	/* another file's handle */
		T_EXPECT(h_ioctl(fd2, GDL_IOC_RELEASE, &tl), -ENOENT);
		T_EXPECT(release(fd, h1), 0);
		T_EXPECT(release(fd, h1), -ENOENT);	/* twice */
		T_EXPECT(release(fd, h2), 0);
		close(fd2);
	}

	/* RESERVATION_SHARE, RESERVATION_ATTACH (ABI 1.3) */
	{
		struct gdl_reserve r = { .dev_index = dev0, .size = 4096 };
		struct gdl_reservation_share s = {
			.key_type = GDL_SHARE_KEY_BYTES
		}, a, t;
		int pfd[2] = { -1, -1 };
		int mfd = memfd_create("hostile-key", MFD_CLOEXEC);

		T_EXPECT(h_ioctl(fd, GDL_IOC_RESERVE, &r), 0);
		s.handle = r.handle;
		memset(s.key, 0x77, sizeof(s.key));
		bi_generic(GDL_IOC_RESERVATION_SHARE, &s, sizeof(s),
			   "badinput/reservation_share");
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, reserved);
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, reserved0);
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, flags);	/* ATTACH's */
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, access);
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, agent_id);
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, dev_index);
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, result);
		BI_RES(GDL_IOC_RESERVATION_SHARE, s, size);
		t = s; t.key_type = 0;
		BI(GDL_IOC_RESERVATION_SHARE, t, -EINVAL);
		t = s; t.key_type = 3;
		BI(GDL_IOC_RESERVATION_SHARE, t, -EINVAL);
		t = s; t.key_type = 0xffffffff;
		BI(GDL_IOC_RESERVATION_SHARE, t, -EINVAL);
		t = s; t.handle = 0;
		BI(GDL_IOC_RESERVATION_SHARE, t, -EINVAL);
		t = s; t.handle = ~0ULL;
		BI(GDL_IOC_RESERVATION_SHARE, t, -ENOENT);
		t = s; memset(t.key, 0, sizeof(t.key));
		BI(GDL_IOC_RESERVATION_SHARE, t, -EINVAL);
		t = s; t.fd = 1;		/* a bytes key names no file */
		BI(GDL_IOC_RESERVATION_SHARE, t, -EINVAL);
		t = s; t.key_type = GDL_SHARE_KEY_FD;	/* with key bytes */
		t.fd = mfd;
		BI(GDL_IOC_RESERVATION_SHARE, t, -EINVAL);
		memset(t.key, 0, sizeof(t.key));
		t.fd = -1;
		BI(GDL_IOC_RESERVATION_SHARE, t, -EBADF);
		t.fd = 0x7fffffff;
		BI(GDL_IOC_RESERVATION_SHARE, t, -EBADF);
		t.fd = fd;		/* the ledger itself: never a key */
		BI(GDL_IOC_RESERVATION_SHARE, t, -EBADFD);
		T_TRUE(pipe(pfd) == 0);
		t.fd = pfd[0];		/* can carry files: never a key */
		BI(GDL_IOC_RESERVATION_SHARE, t, -EBADFD);
		BI(GDL_IOC_RESERVATION_SHARE, s, 0);
		BI(GDL_IOC_RESERVATION_SHARE, s, 0);	/* again: unchanged */

		a = s;
		a.handle = 0;
		a.access = GDL_ACCESS_READ | GDL_ACCESS_WRITE;
		bi_generic(GDL_IOC_RESERVATION_ATTACH, &a, sizeof(a),
			   "badinput/reservation_attach");
		BI_RES(GDL_IOC_RESERVATION_ATTACH, a, reserved);
		BI_RES(GDL_IOC_RESERVATION_ATTACH, a, reserved0);
		/* ABI 1.4: flags beyond GDL_ATTACH_F_DEV and _F_SIZE. */
		t = a; t.flags = 0x4;
		BI(GDL_IOC_RESERVATION_ATTACH, t, -EINVAL);
		t = a; t.flags = 0x80000000;
		BI(GDL_IOC_RESERVATION_ATTACH, t, -EINVAL);
		BI_RES(GDL_IOC_RESERVATION_ATTACH, a, handle);
		BI_RES(GDL_IOC_RESERVATION_ATTACH, a, agent_id);
		BI_RES(GDL_IOC_RESERVATION_ATTACH, a, dev_index);
		BI_RES(GDL_IOC_RESERVATION_ATTACH, a, result);
		BI_RES(GDL_IOC_RESERVATION_ATTACH, a, size);
		t = a; t.access = 0;
		BI(GDL_IOC_RESERVATION_ATTACH, t, -EINVAL);
		t = a; t.access = GDL_ACCESS_PEER;
		BI(GDL_IOC_RESERVATION_ATTACH, t, -EINVAL);
		t = a; t.access = 0x80000000;
		BI(GDL_IOC_RESERVATION_ATTACH, t, -EINVAL);
		t = a; t.key[63] ^= 1;	/* no such key */
		BI(GDL_IOC_RESERVATION_ATTACH, t, -ENOENT);
		t = a; t.key_type = GDL_SHARE_KEY_FD;
		memset(t.key, 0, sizeof(t.key));
		t.fd = mfd;		/* a file nobody shared */
		BI(GDL_IOC_RESERVATION_ATTACH, t, -ENOENT);
		t = a;
		BI(GDL_IOC_RESERVATION_ATTACH, t, 0);
		T_TRUE(t.handle && t.handle != r.handle && t.size == 4096);
		T_EXPECT(release(fd, r.handle), 0);
		T_EXPECT(release(fd, t.handle), 0);
		T_EXPECT(release(fd, t.handle), -ENOENT);
		/* The key went with its last handle. */
		t = a;
		BI(GDL_IOC_RESERVATION_ATTACH, t, -ENOENT);
		close(pfd[0]);
		close(pfd[1]);
		close(mfd);
	}

	/* DMA_CHECK */
	{
		struct gdl_dma_check c = { .dev_index = dev0, .addr = 0,
					   .len = 4096,
					   .access = GDL_ACCESS_READ }, t;
		struct gdl_acl_entry pe = { .agent_id = ag, .dev_index = dev0,
					    .peer_index = dev1,
					    .rights = GDL_ACCESS_PEER };

		bi_generic(GDL_IOC_DMA_CHECK, &c, sizeof(c),
			   "badinput/dma_check");
		BI_RES(GDL_IOC_DMA_CHECK, c, reserved0);
		BI_RES(GDL_IOC_DMA_CHECK, c, reserved);
		BI_RES(GDL_IOC_DMA_CHECK, c, owner_id);
		BI_RES(GDL_IOC_DMA_CHECK, c, result);
		BI(GDL_IOC_DMA_CHECK, c, -EACCES);
		t = c; t.access = 0;
		BI(GDL_IOC_DMA_CHECK, t, -EINVAL);
		t = c; t.access = 8;
		BI(GDL_IOC_DMA_CHECK, t, -EINVAL);
		t = c; t.access = 0xffffffff;
		BI(GDL_IOC_DMA_CHECK, t, -EINVAL);
		t = c; t.len = 0;
		BI(GDL_IOC_DMA_CHECK, t, -EINVAL);
		t = c; t.access = GDL_ACCESS_PEER; t.peer_index = dev1;
		BI(GDL_IOC_DMA_CHECK, t, -EINVAL);	/* peer with a range */
		t.len = 0; t.addr = 4096;
		BI(GDL_IOC_DMA_CHECK, t, -EINVAL);
		t.addr = 0;
		BI(GDL_IOC_DMA_CHECK, t, -EACCES);	/* no peer right */
		T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, &pe, 1), 0);
		BI(GDL_IOC_DMA_CHECK, t, 0);
		T_EXPECT(acl(fd, GDL_IOC_ACL_REVOKE, &pe, 1), 0);
		t = c; t.peer_index = dev1;		/* peer index, no PEER */
		BI(GDL_IOC_DMA_CHECK, t, -EINVAL);
		t = c; t.addr = ~0ULL - 100;
		BI(GDL_IOC_DMA_CHECK, t, -EOVERFLOW);
		t = c; t.len = ~0ULL; t.addr = 1;
		BI(GDL_IOC_DMA_CHECK, t, -EOVERFLOW);
		t = c; t.dev_index = GDL_MAX_DEVICES;
		BI(GDL_IOC_DMA_CHECK, t, -ENODEV);
		t = c; t.dev_index = absent;
		BI(GDL_IOC_DMA_CHECK, t, -ENODEV);
		t = c; t.access = GDL_ACCESS_PEER; t.len = 0; t.peer_index = dev0;
		BI(GDL_IOC_DMA_CHECK, t, -ENODEV);	/* peer == dev */
		t.peer_index = GDL_MAX_DEVICES;
		BI(GDL_IOC_DMA_CHECK, t, -ENODEV);
		t.peer_index = absent;
		BI(GDL_IOC_DMA_CHECK, t, -ENODEV);
	}

	/* ACL_GRANT, ACL_REVOKE */
	{
		struct gdl_acl_entry e = { .agent_id = ag2, .owner_id = 0,
					   .dev_index = dev0,
					   .rights = GDL_ACCESS_READ,
					   .addr = 0, .len = 4096 }, t;
		static struct gdl_acl_entry many[GDL_ACL_BATCH_MAX + 1];
		unsigned long cmds[2] = { GDL_IOC_ACL_GRANT, GDL_IOC_ACL_REVOKE };
		struct gdl_array a = { .ptr = (uintptr_t)&e, .count = 1,
				       .entry_size = sizeof(e) }, ta;
		unsigned char wide[sizeof(e) + 16];
		int k;

		for (k = 0; k < 2; k++) {
			unsigned long cmd = cmds[k];

			bi_generic(cmd, &a, sizeof(a), k ? "badinput/acl_revoke" :
				   "badinput/acl_grant");
			/* flags (ABI 1.4): none for ACL batches. */
			BI_RES(cmd, a, flags);
			BI_RES(cmd, a, reserved);
			ta = a; ta.count = 0;
			BI(cmd, ta, -EINVAL);
			ta = a; ta.filter_agent = ag;
			BI(cmd, ta, -EINVAL);
			ta = a; ta.count = GDL_ACL_BATCH_MAX + 1;
			ta.ptr = (uintptr_t)many;
			BI(cmd, ta, -E2BIG);
			ta = a; ta.entry_size = sizeof(e) - 8;
			BI(cmd, ta, -EINVAL);
			ta = a; ta.entry_size = 4097;
			BI(cmd, ta, -EINVAL);
			ta = a; ta.ptr = 0;
			BI(cmd, ta, -EFAULT);
			ta = a; ta.ptr = (uintptr_t)page_none;
			BI(cmd, ta, -EFAULT);
			ta = a; ta.count = 2;	/* second entry straddles */
			ta.ptr = (uintptr_t)page_end + pagesz - sizeof(e) - 8;
			memcpy(page_end + pagesz - sizeof(e) - 8, &e, sizeof(e));
			BI(cmd, ta, -EFAULT);
			/* A wider entry with non-zero unknown bytes. */
			memset(wide, 0, sizeof(wide));
			memcpy(wide, &e, sizeof(e));
			wide[sizeof(e) + 3] = 1;
			ta = a; ta.ptr = (uintptr_t)wide;
			ta.entry_size = sizeof(wide);
			BI(cmd, ta, -E2BIG);
#define ACL_CASE(stmt, want) do { t = e; stmt; ta = a;			\
	ta.ptr = (uintptr_t)&t; BI(cmd, ta, want); } while (0)
			ACL_CASE(t.reserved0 = 1, -EINVAL);
			ACL_CASE(t.reserved[0] = 1, -EINVAL);
			ACL_CASE(t.reserved[1] = 1ULL << 63, -EINVAL);
			ACL_CASE(t.rights = 0, -EINVAL);
			ACL_CASE(t.rights = 8, -EINVAL);
			ACL_CASE(t.rights = GDL_ACCESS_READ | 0x100, -EINVAL);
			ACL_CASE(t.dev_index = GDL_MAX_DEVICES, -ENODEV);
			ACL_CASE(t.dev_index = absent, -ENODEV);
			ACL_CASE(t.len = 0, -EINVAL);
			ACL_CASE(t.peer_index = dev1, -EINVAL);
			ACL_CASE(t.addr = ~0ULL - 10, -EOVERFLOW);
			ACL_CASE(t.agent_id = dead, -ENOENT);
			ACL_CASE(t.agent_id = 0, -ENOENT);
			ACL_CASE(t.owner_id = dead, -ENOENT);
			ACL_CASE((t.rights = GDL_ACCESS_PEER, t.len = 0,
				  t.peer_index = dev1, t.addr = 4096), -EINVAL);
			ACL_CASE((t.rights = GDL_ACCESS_PEER, t.addr = 0,
				  t.peer_index = dev1), -EINVAL);
			ACL_CASE((t.rights = GDL_ACCESS_PEER | GDL_ACCESS_READ,
				  t.len = 0, t.peer_index = dev1), -EINVAL);
			ACL_CASE((t.rights = GDL_ACCESS_PEER, t.len = 0,
				  t.peer_index = dev1, t.owner_id = ag), -EINVAL);
			ACL_CASE((t.rights = GDL_ACCESS_PEER, t.len = 0,
				  t.peer_index = dev0), -ENODEV);
			ACL_CASE((t.rights = GDL_ACCESS_PEER, t.len = 0,
				  t.peer_index = GDL_MAX_DEVICES), -ENODEV);
			ACL_CASE((t.rights = GDL_ACCESS_PEER, t.len = 0,
				  t.peer_index = absent), -ENODEV);
#undef ACL_CASE
		}
		/* All or nothing: a bad second entry adds nothing. */
		t_section = "badinput/acl_batch";
		many[0] = e;
		many[1] = e;
		many[1].dev_index = absent;
		ta = a; ta.ptr = (uintptr_t)many; ta.count = 2;
		BI(GDL_IOC_ACL_GRANT, ta, -ENODEV);
		T_TRUE(h_list(fd, GDL_IOC_ACL_LIST, 0, NULL, 0,
			      sizeof(e)) == 0);
		BI(GDL_IOC_ACL_REVOKE, a, -ENOENT);	/* not granted */
		BI(GDL_IOC_ACL_GRANT, a, 0);
		BI(GDL_IOC_ACL_GRANT, a, 0);		/* idempotent */
		many[1] = e; many[1].len = 8192;
		BI(GDL_IOC_ACL_REVOKE, ta, -ENOENT);	/* 2nd absent */
		T_TRUE(h_list(fd, GDL_IOC_ACL_LIST, 0, NULL, 0,
			      sizeof(e)) == 1);
		BI(GDL_IOC_ACL_REVOKE, a, 0);
		/* ACL_LIST output faults, with an entry to copy. */
		BI(GDL_IOC_ACL_GRANT, a, 0);
		ta = a; ta.ptr = (uintptr_t)page_none; ta.count = 1;
		BI(GDL_IOC_ACL_LIST, ta, -EFAULT);
		BI(GDL_IOC_ACL_REVOKE, a, 0);
	}

	/* Events: read() sizes and buffers. */
	{
		struct gdl_event ev[2];
		void *volatile nullp = NULL;
		int efd = h_open();

		t_section = "badinput/events";
		fcntl(efd, F_SETFL, O_NONBLOCK);
		T_EXPECT(read(efd, ev, sizeof(ev[0]) - 1) < 0 ? -errno : 0,
			 -EINVAL);
		T_EXPECT(read(efd, ev, sizeof(ev)) < 0 ? -errno : 0, -EAGAIN);
		T_EXPECT(reserve(fd, dev0, 1ULL << 40, 0, NULL, NULL), -EDQUOT);
		T_EXPECT(read(efd, nullp, sizeof(ev)) < 0 ? -errno : 0, -EFAULT);
		T_EXPECT(read(efd, page_none, sizeof(ev)) < 0 ? -errno : 0,
			 -EFAULT);
		T_EXPECT(read(efd, ev, sizeof(ev)) == sizeof(ev[0]), 1);
		close(efd);
	}

	/* Unbound caller under default_policy=deny: ENOLINK. */
	{
		t_section = "badinput/unbound";
		T_EXPECT(bind_pid(fd, ag, getpid(), 1), 0);
		T_EXPECT(reserve(fd, dev0, 4096, 0, NULL, NULL), -ENOLINK);
		{
			struct gdl_whoami w;

			T_EXPECT(h_ioctl(fd, GDL_IOC_WHOAMI, &w), -ENOLINK);
		}
		T_EXPECT(dma(fd, dev0, 0, 4096, GDL_ACCESS_READ, NULL),
			 -ENOLINK);
	}
	T_EXPECT(agent_destroy(fd, ag), 0);
	T_EXPECT(agent_destroy(fd, ag2), 0);
	t_section = "badinput";
	h_invariants(fd, 1, "after badinput");
	return finish("badinput", NULL);
}

/* Loaded with max_agents=2 max_reservations=2 max_acl_entries=2. */
static int suite_limits(void)
{
	uint32_t dev0 = pci_dev(0), a1, a2;
	struct gdl_acl_entry e[3];
	uint64_t h[2];
	int i;

	t_section = "limits";
	a1 = agent_create(fd, "lim1", 16 * MiB);
	a2 = agent_create(fd, "lim2", 16 * MiB);
	T_TRUE(a1 && a2);
	T_EXPECT(agent_create(fd, "lim3", 0) ? 0 : -1, -1);
	{
		struct gdl_agent_info a = { .default_quota = 0 };

		strcpy(a.name, "lim3");
		T_EXPECT(h_ioctl(fd, GDL_IOC_AGENT_CREATE, &a), -EUSERS);
	}
	T_EXPECT(bind_pid(fd, a1, getpid(), 0), 0);
	T_EXPECT(reserve(fd, dev0, 4096, 0, &h[0], NULL), 0);
	/* Its share (1) refuses before the node's pool (2) is full. */
	T_EXPECT(reserve(fd, dev0, 4096, 0, NULL, NULL), -EMFILE);
	{
		struct gdl_agent_limits lim = { .agent_id = a1,
						.max_reservations = 2 };
		struct gdl_agent_info ai[4];
		int n;

		T_EXPECT(h_ioctl(fd, GDL_IOC_AGENT_LIMITS, &lim), 0);
		n = h_list(fd, GDL_IOC_AGENT_LIST, 0, ai, 4, sizeof(ai[0]));
		T_TRUE(n == 3 && ai[1].id == a1 && ai[1].max_reservations == 2 &&
		       ai[1].max_acl_entries == 1 &&
		       ai[2].max_reservations == 1);
		lim.max_reservations = 3;	/* more than the pool */
		T_EXPECT(h_ioctl(fd, GDL_IOC_AGENT_LIMITS, &lim), -EINVAL);
		lim.max_reservations = 0;
		lim.reserved0 = 1;
		T_EXPECT(h_ioctl(fd, GDL_IOC_AGENT_LIMITS, &lim), -EINVAL);
		lim.reserved0 = 0;
		lim.agent_id = a1 ^ 0x10000;	/* another generation */
		T_EXPECT(h_ioctl(fd, GDL_IOC_AGENT_LIMITS, &lim), -ENOENT);
		lim.agent_id = a1;
		lim.max_reservations = 2;
		T_EXPECT(h_ioctl(fd, GDL_IOC_AGENT_LIMITS, &lim), 0);
	}
	T_EXPECT(reserve(fd, dev0, 4096, 0, &h[1], NULL), 0);
	/* a2, under its share, meets the node's full pool. */
	{
		int p[2], st = -1;
		pid_t pid;
		char c;

		T_TRUE(!pipe(p));
		pid = fork();
		if (pid == 0) {
			int f;

			close(p[1]);
			if (read(p[0], &c, 1) != 1)
				_exit(99);
			f = h_open();
			_exit(reserve(f, dev0, 4096, 0, NULL, NULL) == -ENOBUFS ?
			      0 : 1);
		}
		close(p[0]);
		T_EXPECT(bind_pid(fd, a2, pid, 0), 0);
		T_TRUE(write(p[1], "x", 1) == 1);
		close(p[1]);
		waitpid(pid, &st, 0);
		t_check(WIFEXITED(st) && !WEXITSTATUS(st),
			"a2 under its share: ENOBUFS from the full pool (%#x)",
			st);
	}
	T_EXPECT(release(fd, h[0]), 0);
	T_EXPECT(reserve(fd, dev0, 4096, 0, &h[0], NULL), 0);
	for (i = 0; i < 3; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].agent_id = a2;
		e[i].dev_index = dev0;
		e[i].rights = GDL_ACCESS_READ;
		e[i].addr = (uint64_t)i << 12;
		e[i].len = 4096;
	}
	T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, e, 3), -ENOBUFS);
	T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, e, 2), 0);
	T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, &e[2], 1), -ENOBUFS);
	T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, &e[1], 1), 0);	/* merged */
	/*
	 * Grants owned by an agent have their own pool, and each owner its
	 * share: a full admin pool does not refuse them, nor they it.
	 */
	e[2].owner_id = a1;
	T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, &e[2], 1), 0);
	e[1].owner_id = a1;
	T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, &e[1], 1), -EMFILE);
	T_EXPECT(release(fd, h[0]), 0);
	T_EXPECT(release(fd, h[1]), 0);
	T_EXPECT(agent_destroy(fd, a1), 0);
	T_EXPECT(agent_destroy(fd, a2), 0);
	h_invariants(fd, 1, "after limits");
	return finish("limits", NULL);
}

/* ---------------------------------------------------------------- */
/* priv: the privilege matrix                                         */

static volatile uint64_t *pshared;	/* [0]: handle of A, [1]: addr */

/* Run @fn in a child bound to @agent (0: unbound) as uid 65534. */
static int as_tenant(uint32_t agent, const char *cg, int (*fn)(void))
{
	int pipefd[2], st;
	pid_t pid;
	char c;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1 || h_drop_privs())
			_exit(99);
		t_passed = t_failed = 0;
		fn();
		fflush(stdout);
		_exit(t_failed ? 1 : 0);
	}
	close(pipefd[0]);
	if (cg)
		move_to_cgroup(cg, pid);
	else if (agent)
		bind_pid(fd, agent, pid, 0);
	if (write(pipefd[1], "x", 1) != 1)
		return -1;
	close(pipefd[1]);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static uint32_t pa, pb, pdev;

static int priv_admin_eperm(void)
{
	int f = h_open();
	struct gdl_device_info d = { .capacity = MiB };
	struct gdl_device_set s = { .index = pdev, .mask = GDL_DEVSET_CAPACITY,
				    .capacity = MiB };
	struct gdl_id id = { .id = pdev };
	struct gdl_agent_info a = { .default_quota = MiB };
	struct gdl_id ad = { .id = pa };
	struct gdl_bind b = { .agent_id = pb, .type = GDL_BIND_PID,
			      .value = getpid() };
	struct gdl_quota_set q = { .agent_id = pa, .dev_index = pdev,
				   .quota = GDL_QUOTA_UNLIMITED };
	struct gdl_acl_entry pe = { .agent_id = pa, .dev_index = pdev,
				    .peer_index = pci_dev(1),
				    .rights = GDL_ACCESS_PEER };
	struct gdl_whoami w;
	int bound = !h_ioctl(f, GDL_IOC_WHOAMI, &w);

	t_section = "priv/admin";
	strcpy(d.name, "evil");
	strcpy(a.name, "evil");
	T_EXPECT(h_ioctl(f, GDL_IOC_DEVICE_ADD, &d), -EPERM);
	T_EXPECT(h_ioctl(f, GDL_IOC_DEVICE_SET, &s), -EPERM);
	T_EXPECT(h_ioctl(f, GDL_IOC_DEVICE_REMOVE, &id), -EPERM);
	T_EXPECT(h_ioctl(f, GDL_IOC_AGENT_CREATE, &a), -EPERM);
	T_EXPECT(h_ioctl(f, GDL_IOC_AGENT_DESTROY, &ad), -EPERM);
	T_EXPECT(h_ioctl(f, GDL_IOC_AGENT_BIND, &b), -EPERM);
	b.flags = GDL_BIND_F_UNBIND;
	b.agent_id = pa;
	T_EXPECT(h_ioctl(f, GDL_IOC_AGENT_BIND, &b), -EPERM);
	/* Bindings name other tenants' processes and cgroups. */
	T_EXPECT(h_list(f, GDL_IOC_BIND_LIST, 0, NULL, 0,
			sizeof(struct gdl_binding_info)), -EPERM);
	T_EXPECT(h_ioctl(f, GDL_IOC_QUOTA_SET, &q), -EPERM);
	q.dev_index = GDL_ALL_DEVICES;
	T_EXPECT(h_ioctl(f, GDL_IOC_QUOTA_SET, &q), -EPERM);
	{
		struct gdl_agent_limits lim = { .agent_id = pa,
						.max_reservations = 1 };

		T_EXPECT(h_ioctl(f, GDL_IOC_AGENT_LIMITS, &lim), -EPERM);
	}
	/* ACL commands are open to tenants: an unbound one has no agent. */
	T_EXPECT(acl(f, GDL_IOC_ACL_GRANT, &pe, 1), bound ? -EPERM : -ENOLINK);
	/* Even malformed: the privilege check comes first. */
	T_EXPECT(h_ioctl(f, GDL_IOC_DEVICE_ADD, NULL), -EPERM);
	/* Open commands still work; unbound under deny: ENOLINK. */
	T_EXPECT(h_ioctl(f, GDL_IOC_NOP, NULL), 0);
	T_EXPECT(reserve(f, pdev, 4096, 0, NULL, NULL), bound ? 0 : -ENOLINK);
	close(f);
	return 0;
}

/* Tenant A: reserve a range, keep the file open until told. */
static int priv_tenant_a(void)
{
	int f = h_open();
	uint64_t h;
	char c;

	t_section = "priv/tenant-a";
	T_EXPECT(reserve(f, pdev, 8192, 64 << 20, &h, NULL), 0);
	pshared[0] = h;
	pshared[2] = 1;			/* ready */
	while (pshared[2] != 2)		/* until B is done */
		usleep(1000);
	/* Grant B read of it, then wait for B's check, then revoke. */
	{
		struct gdl_acl_entry g = { .agent_id = pb, .owner_id = pa,
					   .dev_index = pdev,
					   .rights = GDL_ACCESS_READ,
					   .addr = 64 << 20, .len = 8192 };

		T_EXPECT(acl(f, GDL_IOC_ACL_GRANT, &g, 1), 0);
		pshared[2] = 3;
		while (pshared[2] != 4)
			usleep(1000);
		T_EXPECT(acl(f, GDL_IOC_ACL_REVOKE, &g, 1), 0);
		pshared[2] = 5;
		while (pshared[2] != 6)
			usleep(1000);
	}
	(void)c;
	close(f);
	return 0;
}

static int priv_tenant_b(void)
{
	int f = h_open();
	struct gdl_quota q;
	struct gdl_agent_info ai[4];
	struct gdl_acl_entry le[4];
	struct gdl_release rl = { .handle = pshared[0] };
	struct gdl_whoami w;
	uint32_t res;
	int n;

	t_section = "priv/tenant-b";
	while (pshared[2] != 1)
		usleep(1000);
	T_EXPECT(h_ioctl(f, GDL_IOC_WHOAMI, &w), 0);
	T_TRUE(w.agent_id == pb && w.bound_by == GDL_BOUND_PID);
	/* Release A's handle: means nothing on B's file. */
	T_EXPECT(h_ioctl(f, GDL_IOC_RELEASE, &rl), -ENOENT);
	/* Inspect A: refused; self: fine. */
	T_EXPECT(quota_get(f, pa, pdev, &q), -EPERM);
	/* Whether an agent exists is not a tenant's business either. */
	T_EXPECT(quota_get(f, pa ^ 0x7fff0000, pdev, &q), -EPERM);
	T_EXPECT(quota_get(f, 0xffff, pdev, &q), -EPERM);
	T_EXPECT(quota_get(f, 0, pdev, &q), 0);
	T_TRUE(q.agent_id == pb);
	T_EXPECT(quota_get(f, pb, pdev, &q), 0);
	n = h_list(f, GDL_IOC_AGENT_LIST, 0, ai, 4, sizeof(ai[0]));
	T_TRUE(n == 1 && ai[0].id == pb);
	T_EXPECT(h_list(f, GDL_IOC_ACL_LIST, pa, le, 4, sizeof(le[0])),
		 -EPERM);
	/* DMA into A's range: denied; the range shows A as owner. */
	T_EXPECT(dma(f, pdev, 64 << 20, 4096, GDL_ACCESS_READ, NULL), -EACCES);
	T_EXPECT(dma(f, pdev, 64 << 20, 4096, GDL_ACCESS_WRITE, NULL), -EACCES);
	/* Granting itself A's memory, or peer rights: refused. */
	{
		struct gdl_acl_entry g = { .agent_id = pb, .owner_id = pa,
					   .dev_index = pdev,
					   .rights = GDL_ACCESS_READ,
					   .addr = 64 << 20, .len = 8192 };

		T_EXPECT(acl(f, GDL_IOC_ACL_GRANT, &g, 1), -EPERM);
		g.owner_id = 0;		/* an admin entry */
		T_EXPECT(acl(f, GDL_IOC_ACL_GRANT, &g, 1), -EPERM);
		g.owner_id = pa;
		/* A grantee may drop grants made to it: none yet. */
		T_EXPECT(acl(f, GDL_IOC_ACL_REVOKE, &g, 1), -ENOENT);
		g.agent_id = pa;	/* someone else's, though: no */
		T_EXPECT(acl(f, GDL_IOC_ACL_REVOKE, &g, 1), -EPERM);
	}
	/* Rebinding itself, or unbinding: admin only. */
	T_EXPECT(bind_pid(f, pa, getpid(), 0), -EPERM);
	T_EXPECT(bind_pid(f, pb, getpid(), 1), -EPERM);
	pshared[2] = 2;
	while (pshared[2] != 3)
		usleep(1000);
	/* Granted read, not write. */
	T_EXPECT(dma(f, pdev, 64 << 20, 4096, GDL_ACCESS_READ, &res), 0);
	T_TRUE(res == GDL_RESULT_GRANT);
	T_EXPECT(dma(f, pdev, 64 << 20, 4096, GDL_ACCESS_WRITE, NULL), -EACCES);
	T_EXPECT(dma(f, pdev, (64 << 20) + 4096, 8192, GDL_ACCESS_READ, NULL),
		 -EACCES);		/* beyond the grant */
	n = h_list(f, GDL_IOC_ACL_LIST, 0, le, 4, sizeof(le[0]));
	T_TRUE(n == 1 && le[0].owner_id == pa);
	pshared[2] = 4;
	while (pshared[2] != 5)
		usleep(1000);
	T_EXPECT(dma(f, pdev, 64 << 20, 4096, GDL_ACCESS_READ, NULL), -EACCES);
	pshared[2] = 6;
	close(f);
	return 0;
}

/* A process in a cgroup bound to A cannot get out by asking. */
static int priv_escape(void)
{
	int f = h_open();
	struct gdl_whoami w;

	t_section = "priv/escape";
	T_EXPECT(h_ioctl(f, GDL_IOC_WHOAMI, &w), 0);
	T_TRUE(w.agent_id == pa && w.bound_by == GDL_BOUND_CGROUP);
	T_EXPECT(bind_pid(f, pb, getpid(), 0), -EPERM);
	T_EXPECT(bind_cgroup(f, pb, "gdl-priv-a", 0), -EPERM);
	T_EXPECT(bind_cgroup(f, pa, "gdl-priv-a", 1), -EPERM);
	/* Moving itself to another cgroup: the filesystem says no. */
	T_TRUE(move_to_cgroup("", getpid()) < 0);
	T_TRUE(move_to_cgroup("gdl-priv-b", getpid()) < 0);
	T_EXPECT(h_ioctl(f, GDL_IOC_WHOAMI, &w), 0);
	T_TRUE(w.agent_id == pa && w.bound_by == GDL_BOUND_CGROUP);
	/* Quota A is 0 on this device: nothing to gain either. */
	T_EXPECT(reserve(f, pci_dev(1), 4096, 0, NULL, NULL), -EDQUOT);
	close(f);
	return 0;
}

/* /proc/gpu_dma_lock as a tenant. */
static int priv_proc(void)
{
	static const char *const open_files[] = { "version", "devices", "stats" };
	static const char *const root_files[] = { "agents", "acl" };
	char path[64];
	unsigned int i;
	int f;

	t_section = "priv/proc";
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/proc/gpu_dma_lock/%s",
			 open_files[i]);
		f = open(path, O_RDONLY);
		t_check(f >= 0, "tenant reads %s", path);
		if (f >= 0)
			close(f);
		t_check(open(path, O_WRONLY) < 0 && errno == EACCES,
			"tenant cannot write %s", path);
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/gpu_dma_lock/%s",
			 root_files[i]);
		f = open(path, O_RDONLY);
		t_check(f < 0 && errno == EACCES, "tenant cannot read %s",
			path);
		if (f >= 0)
			close(f);
	}
	return 0;
}

static int suite_priv(void)
{
	static const struct { const char *name; mode_t mode; } modes[] = {
		{ "version", 0444 }, { "devices", 0444 }, { "stats", 0444 },
		{ "agents", 0400 }, { "acl", 0400 },
	};
	unsigned int i;
	int ret;

	pshared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pdev = pci_dev(0);
	pa = agent_create(fd, "priv-a", 16 * MiB);
	pb = agent_create(fd, "priv-b", 16 * MiB);
	t_section = "priv";
	T_TRUE(pa && pb && pdev != ~0U);
	T_EXPECT(quota_set(fd, pa, pci_dev(1), 0), 0);

	ret = as_tenant(0, NULL, priv_admin_eperm);
	t_check(ret == 0, "admin commands as uid 65534 (child rc %d)", ret);
	/* Bound to an agent makes no difference to admin commands. */
	ret = as_tenant(pb, NULL, priv_admin_eperm);
	t_check(ret == 0, "bound tenant: admin EPERM (child rc %d)", ret);

	{
		pid_t ca = fork();
		int st;

		if (ca == 0) {
			char c;
			int r;

			(void)c;
			r = as_tenant(pa, NULL, priv_tenant_a);
			_exit(r);
		}
		ret = as_tenant(pb, NULL, priv_tenant_b);
		t_check(ret == 0, "tenant B against A (child rc %d)", ret);
		waitpid(ca, &st, 0);
		t_check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			"tenant A (status %#x)", st);
	}
	T_EXPECT(bind_cgroup(fd, pa, "gdl-priv-a", 0), 0);
	mkdir("/sys/fs/cgroup/gdl-priv-b", 0755);
	ret = as_tenant(0, "gdl-priv-a", priv_escape);
	t_check(ret == 0, "cgroup-bound tenant cannot escape (child rc %d)",
		ret);
	T_EXPECT(bind_cgroup(fd, pa, "gdl-priv-a", 1), 0);
	rmdir("/sys/fs/cgroup/gdl-priv-a");
	rmdir("/sys/fs/cgroup/gdl-priv-b");

	ret = as_tenant(0, NULL, priv_proc);
	t_check(ret == 0, "/proc as a tenant (child rc %d)", ret);
	t_section = "priv/proc";
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char path[64];
		struct stat sb;
		int f;

		snprintf(path, sizeof(path), "/proc/gpu_dma_lock/%s",
			 modes[i].name);
		t_check(!stat(path, &sb) && (sb.st_mode & 07777) == modes[i].mode,
			"%s mode %o (want %o)", path, sb.st_mode & 07777,
			modes[i].mode);
		f = open(path, O_RDONLY);
		t_check(f >= 0, "root reads %s", path);
		if (f >= 0)
			close(f);
	}
	/* Events: B sees none of A's. */
	t_section = "priv";
	T_EXPECT(agent_destroy(fd, pa), 0);
	T_EXPECT(agent_destroy(fd, pb), 0);
	h_invariants(fd, 1, "after priv");
	return finish("priv", NULL);
}

/* ---------------------------------------------------------------- */
/* storm: processes SIGKILLed while they reserve                      */

struct storm_sh {
	volatile uint64_t reserved;	/* successful reserves, all children */
	volatile uint64_t started;
};

static void storm_child(int idx, uint32_t dev0, uint32_t dev1,
			struct storm_sh *sh)
{
	int f1 = h_open(), f2 = idx & 1 ? h_open() : f1;
	uint64_t hs[32], i = 0, seed = 0x1234567ULL * (uint64_t)(idx + 1);
	int n = 0;

	__atomic_add_fetch(&sh->started, 1, __ATOMIC_RELAXED);
	for (;;) {
		struct gdl_reserve r = { .size = 4096 << (i % 4) };
		int f = (i & 1) ? f2 : f1;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		r.dev_index = seed & 1 ? dev1 : dev0;
		if (idx % 3 == 0) {	/* some with addresses */
			r.flags = GDL_RESERVE_F_ADDR;
			r.addr = ((uint64_t)idx << 24) + ((seed % 512) << 12);
		}
		if (!h_ioctl(f, GDL_IOC_RESERVE, &r)) {
			__atomic_add_fetch(&sh->reserved, 1, __ATOMIC_RELAXED);
			if (n < 32) {
				hs[n++] = r.handle | (uint64_t)(f == f2) << 63;
			}
		}
		if (n && (seed & 6) == 0) {
			uint64_t h = hs[--n];

			release(h >> 63 ? f2 : f1, h & ~(1ULL << 63));
		}
		i++;
	}
}

static int suite_storm(int total, int batch)
{
	uint32_t dev0 = pci_dev(0), dev1 = pci_dev(1), sa, sb;
	struct storm_sh *sh;
	int killed = 0, done = 0, i, bad = 0;
	pid_t *pids = calloc((size_t)batch, sizeof(*pids));
	char extra[64];

	t_section = "storm";
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sa = agent_create(fd, "storm-a", 1ULL << 40);
	sb = agent_create(fd, "storm-b", 1ULL << 40);
	T_TRUE(sa && sb);
	T_EXPECT(bind_cgroup(fd, sa, "gdl-storm-a", 0), 0);
	T_EXPECT(bind_cgroup(fd, sb, "gdl-storm-b", 0), 0);
	while (done < total) {
		int n = total - done < batch ? total - done : batch;

		for (i = 0; i < n; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				/* The killer must get the CPU at once. */
				if (nice(19) < 0)
					_exit(98);
				storm_child(done + i, dev0, dev1, sh);
			}
			move_to_cgroup(i & 2 ? "gdl-storm-b" : "gdl-storm-a",
				       pids[i]);
		}
		/* Kill at random points: most while in their loop. */
		for (i = 0; i < n; i++) {
			usleep((useconds_t)rnd(2000));
			if (!kill(pids[i], SIGKILL))
				killed++;
		}
		for (i = 0; i < n; i++) {
			int st;

			waitpid(pids[i], &st, 0);
			if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
				bad++;
		}
		done += n;
		/* After every batch: back to exactly zero. */
		if (h_invariants(fd, 1, "after a storm batch"))
			break;
	}
	t_check(!bad, "every child died of SIGKILL (%d did not)", bad);
	t_check(sh->reserved > (uint64_t)total,
		"children reserved (%llu reservations made)",
		(unsigned long long)sh->reserved);
	T_EXPECT(bind_cgroup(fd, sa, "gdl-storm-a", 1), 0);
	T_EXPECT(bind_cgroup(fd, sb, "gdl-storm-b", 1), 0);
	T_EXPECT(agent_destroy(fd, sa), 0);
	T_EXPECT(agent_destroy(fd, sb), 0);
	rmdir("/sys/fs/cgroup/gdl-storm-a");
	rmdir("/sys/fs/cgroup/gdl-storm-b");
	h_invariants(fd, 1, "after storm");
	printf("storm: %d processes, %d SIGKILLed, %llu reservations made\n",
	       done, killed, (unsigned long long)sh->reserved);
	snprintf(extra, sizeof(extra), " killed=%d", killed);
	free(pids);
	return finish("storm", extra);
}

/* ---------------------------------------------------------------- */
/* race: concurrent reserve/release/DMA vs policy changes              */

#define RQ_MAX	(16 * MiB)	/* the largest quota A is ever given */
#define RCAP	(48 * MiB)	/* capacity of the raced device */

struct race_sh {
	volatile int stop;
	volatile int quiesce;		/* workers stop, report, then wait */
	volatile int reported;
	volatile int admins_done;	/* agent ids are final from here */
	volatile uint32_t agents[3];	/* A, B, C (C recreated) */
	volatile uint32_t dev_a, dev_b;	/* dev_b is removed and re-added */
	volatile int draining;		/* workers let go of dev_b */
	volatile uint64_t ops, violations, samples, removals, destroys;
	volatile uint64_t moves;
	/* live bytes by (worker, agent slot 0..2 or 3 = other, dev 0/1) */
	volatile uint64_t live[8][4][2];
	volatile uint32_t live_agent[8][4];
};

static struct race_sh *rs;

static void race_worker(int idx)
{
	int f = h_open(), n = 0, i;
	struct { uint64_t h, size; uint32_t agent; int dev; } res[64];
	uint64_t seed = 0xabcdef12345ULL * (uint64_t)(idx + 7);

	while (!rs->stop && !rs->quiesce) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		if (rs->draining) {	/* the remover wants dev_b empty */
			for (i = 0; i < n; i++)
				if (res[i].dev && !release(f, res[i].h))
					res[i--] = res[--n];
		}
		if (n < 64 && (seed & 3)) {
			struct gdl_reserve r = { .size = (seed >> 8) % (4 * MiB)
						 + 4096 };
			int dv = (seed >> 40) & 1 && !rs->draining;

			r.dev_index = dv ? rs->dev_b : rs->dev_a;
			if (seed & 0x10000) {
				r.flags = GDL_RESERVE_F_ADDR;
				r.addr = ((seed >> 20) % 1024) << 16;
			}
			if (!h_ioctl(f, GDL_IOC_RESERVE, &r)) {
				res[n].h = r.handle;
				res[n].size = r.size;
				res[n].agent = r.agent_id;
				res[n].dev = dv;
				n++;
			}
		} else if (n) {
			i = (int)((seed >> 16) % (uint64_t)n);
			if (release(f, res[i].h) == 0)
				res[i] = res[--n];
		}
		dma(f, rs->dev_a, ((seed >> 20) % 1024) << 16, 4096,
		    GDL_ACCESS_READ, NULL);
		__atomic_add_fetch(&rs->ops, 2, __ATOMIC_RELAXED);
	}
	/*
	 * Report what this file holds, by agent, then wait to be told.  The
	 * admins may still be replacing agent C: classify only once they
	 * have all stopped and rs->agents is final.
	 */
	while (!rs->admins_done)
		usleep(1000);
	for (i = 0; i < n; i++) {
		int slot;

		for (slot = 0; slot < 3; slot++)
			if (res[i].agent == rs->agents[slot])
				break;
		rs->live[idx][slot][res[i].dev] += res[i].size;
	}
	__atomic_add_fetch(&rs->reported, 1, __ATOMIC_SEQ_CST);
	while (!rs->stop)
		usleep(1000);
	close(f);
	_exit(0);
}

static void *race_sampler(void *arg)
{
	int f = h_open();

	(void)arg;
	while (!rs->stop) {
		struct gdl_quota q;
		struct gdl_device_info d[GDL_MAX_DEVICES];
		int n, i;

		if (!quota_get(f, rs->agents[0], rs->dev_a, &q) &&
		    q.usage > RQ_MAX) {
			__atomic_add_fetch(&rs->violations, 1, __ATOMIC_RELAXED);
			printf("FAIL race: agent A usage %llu > max quota %llu\n",
			       (unsigned long long)q.usage, RQ_MAX);
		}
		n = h_list(f, GDL_IOC_DEVICE_LIST, 0, d, GDL_MAX_DEVICES,
			   sizeof(d[0]));
		for (i = 0; i < n; i++) {
			/* Device B's capacity is lowered under it: legal. */
			if (d[i].index != rs->dev_b &&
			    (d[i].used > d[i].capacity ||
			     (d[i].index == rs->dev_a && d[i].used > RCAP))) {
				__atomic_add_fetch(&rs->violations, 1,
						   __ATOMIC_RELAXED);
				printf("FAIL race: device %u used %llu > capacity %llu\n",
				       d[i].index, (unsigned long long)d[i].used,
				       (unsigned long long)d[i].capacity);
			}
		}
		rs->samples++;
	}
	close(f);
	return NULL;
}

static void race_admin(int kind, pid_t *pids, int nw)
{
	uint64_t seed = 0x5555aaaa1234ULL + (uint64_t)kind;
	int f = h_open();
	char name[32];
	int gen = 0;

	while (!rs->stop && !rs->quiesce) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		switch (kind) {
		case 0:	/* quotas: A between 4M and 16M, never above */
			quota_set(f, rs->agents[0], rs->dev_a,
				  (uint64_t)(1 + seed % 4) * 4 * MiB);
			quota_set(f, rs->agents[1], GDL_ALL_DEVICES,
				  seed & 1 ? GDL_QUOTA_UNLIMITED : 32 * MiB);
			break;
		case 1: {	/* ACLs: B may read what A reserved */
			struct gdl_acl_entry e = {
				.agent_id = rs->agents[1], .owner_id = 0,
				.dev_index = rs->dev_a,
				.rights = GDL_ACCESS_READ,
				.addr = ((seed >> 20) % 1024) << 16,
				.len = 1 << 16 };

			acl(f, seed & 1 ? GDL_IOC_ACL_GRANT :
				GDL_IOC_ACL_REVOKE, &e, 1);
			break;
		}
		case 2:	/* cgroups: move workers, pid-bind some */
			move_to_cgroup(seed & 1 ? "gdl-race-a" : "gdl-race-b",
				       pids[seed % (uint64_t)nw]);
			if (seed & 0x100)
				bind_pid(f, rs->agents[1],
					 pids[(seed >> 9) % (uint64_t)nw],
					 (seed >> 20) & 1);
			rs->moves++;
			break;
		case 3:	/* agent C: destroy and recreate, rebind */
			if (!agent_destroy(f, rs->agents[2]))
				rs->destroys++;
			snprintf(name, sizeof(name), "race-c%d", gen++);
			rs->agents[2] = agent_create(f, name, 8 * MiB);
			bind_cgroup(f, rs->agents[2], "gdl-race-c", 0);
			move_to_cgroup("gdl-race-c",
				       pids[seed % (uint64_t)nw]);
			usleep(2000);
			break;
		case 4: {	/* device B: remove when free, re-add */
			struct gdl_device_set s = { .index = rs->dev_b,
				.mask = GDL_DEVSET_CAPACITY,
				.capacity = (1 + seed % 8) * 8 * MiB };

			h_ioctl(f, GDL_IOC_DEVICE_SET, &s);
			/* Every 8th round: drain it (reserves still racing). */
			if (seed % 8 == 0)
				rs->draining = 1;
			if (!device_remove(f, rs->dev_b)) {
				rs->removals++;
				rs->dev_b = device_add(f, "race-b", 32 * MiB);
				rs->draining = 0;
			}
			usleep(1000);
			break;
		}
		}
		__atomic_add_fetch(&rs->ops, 1, __ATOMIC_RELAXED);
	}
	close(f);
	_exit(0);
}

static int suite_race(int secs)
{
	pid_t workers[8], admins[5];
	int nw = 6, i, st;
	pthread_t th;
	char extra[96];

	t_section = "race";
	rs = mmap(NULL, sizeof(*rs), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rs->dev_a = device_add(fd, "race-a", RCAP);
	rs->dev_b = device_add(fd, "race-b", 32 * MiB);
	rs->agents[0] = agent_create(fd, "race-a", RQ_MAX);
	rs->agents[1] = agent_create(fd, "race-b", GDL_QUOTA_UNLIMITED);
	rs->agents[2] = agent_create(fd, "race-c", 8 * MiB);
	T_TRUE(rs->dev_a != ~0U && rs->dev_b != ~0U && rs->agents[0] &&
	       rs->agents[1] && rs->agents[2]);
	T_EXPECT(bind_cgroup(fd, rs->agents[0], "gdl-race-a", 0), 0);
	T_EXPECT(bind_cgroup(fd, rs->agents[1], "gdl-race-b", 0), 0);
	T_EXPECT(bind_cgroup(fd, rs->agents[2], "gdl-race-c", 0), 0);
	for (i = 0; i < nw; i++) {
		workers[i] = fork();
		if (workers[i] == 0)
			race_worker(i);
		move_to_cgroup(i % 3 == 0 ? "gdl-race-a" : i % 3 == 1 ?
			       "gdl-race-b" : "gdl-race-c", workers[i]);
	}
	pthread_create(&th, NULL, race_sampler, NULL);
	for (i = 0; i < 5; i++) {
		admins[i] = fork();
		if (admins[i] == 0)
			race_admin(i, workers, nw);
	}
	sleep((unsigned int)secs);
	/* Quiesce: admins and workers stop; workers report what they hold. */
	rs->quiesce = 1;
	for (i = 0; i < 5; i++)
		waitpid(admins[i], &st, 0);
	__atomic_store_n(&rs->admins_done, 1, __ATOMIC_SEQ_CST);
	while (rs->reported < nw)
		usleep(1000);
	/* The ledger, exact, with every file still open. */
	{
		uint64_t want[4][2] = { { 0 } };
		int s, d, w;
		struct gdl_stats stt;

		for (w = 0; w < nw; w++)
			for (s = 0; s < 4; s++)
				for (d = 0; d < 2; d++)
					want[s][d] += rs->live[w][s][d];
		/*
		 * want[3]: reservations charged to a C that was destroyed
		 * after they were made; they stay charged (to the dead agent)
		 * until released, so only the devices' totals see them.
		 */
		for (d = 0; d < 2; d++) {
			struct gdl_device_info di[GDL_MAX_DEVICES];
			uint32_t idx = d ? rs->dev_b : rs->dev_a;
			int nd = h_list(fd, GDL_IOC_DEVICE_LIST, 0, di,
					GDL_MAX_DEVICES, sizeof(di[0])), k;
			uint64_t held = 0, used = ~0ULL;

			for (s = 0; s < 4; s++)
				held += want[s][d];
			for (k = 0; k < nd; k++)
				if (di[k].index == idx)
					used = di[k].used;
			t_check(used == held,
				"device %d: used %llu == held by all files %llu (of which destroyed agents %llu)",
				d, (unsigned long long)used,
				(unsigned long long)held,
				(unsigned long long)want[3][d]);
		}
		for (s = 0; s < 3; s++) {
			for (d = 0; d < 2; d++) {
				struct gdl_quota q;
				int r = quota_get(fd, rs->agents[s],
						  d ? rs->dev_b : rs->dev_a, &q);

				t_check(r == 0 && q.usage == want[s][d],
					"agent %d dev %d: usage %llu == held %llu (r=%d)",
					s, d, (unsigned long long)q.usage,
					(unsigned long long)want[s][d], r);
			}
		}
		T_EXPECT(h_stats(fd, &stt), 0);
		T_TRUE(stt.counters[GDL_STAT_LEDGER_CONSISTENT] == 1);
	}
	rs->stop = 1;
	pthread_join(th, NULL);
	h_reap_workers(workers, nw);
	t_check(rs->violations == 0, "usage never above quota or capacity (%llu samples)",
		(unsigned long long)rs->samples);
	t_check(rs->removals > 0 && rs->destroys > 0 && rs->moves > 0,
		"policy churn happened: %llu device removals, %llu agent destroys, %llu cgroup moves",
		(unsigned long long)rs->removals,
		(unsigned long long)rs->destroys,
		(unsigned long long)rs->moves);
	printf("race: %llu ops in %ds, %llu samples, %llu device removals, %llu agent destroys, %llu cgroup moves\n",
	       (unsigned long long)rs->ops, secs,
	       (unsigned long long)rs->samples,
	       (unsigned long long)rs->removals,
	       (unsigned long long)rs->destroys,
	       (unsigned long long)rs->moves);
	for (i = 0; i < 3; i++) {
		bind_cgroup(fd, rs->agents[i], i == 0 ? "gdl-race-a" : i == 1 ?
			    "gdl-race-b" : "gdl-race-c", 1);
		agent_destroy(fd, rs->agents[i]);
	}
	T_EXPECT(device_remove(fd, rs->dev_a), 0);
	T_EXPECT(device_remove(fd, rs->dev_b), 0);
	rmdir("/sys/fs/cgroup/gdl-race-a");
	rmdir("/sys/fs/cgroup/gdl-race-b");
	rmdir("/sys/fs/cgroup/gdl-race-c");
	h_invariants(fd, 1, "after race");
	snprintf(extra, sizeof(extra), " ops=%llu",
		 (unsigned long long)rs->ops);
	return finish("race", extra);
}

/* ---------------------------------------------------------------- */
/* lifecycle helpers                                                   */

static int suite_fresh(void)
{
	struct gdl_stats s;
	int i;

	t_section = "fresh";
	T_EXPECT(h_stats(fd, &s), 0);
	T_TRUE(s.counters[GDL_STAT_LIVE_AGENTS] == 1);
	T_TRUE(s.counters[GDL_STAT_LIVE_RESERVATIONS] == 0);
	T_TRUE(s.counters[GDL_STAT_LIVE_ACL_ENTRIES] == 0);
	T_TRUE(s.counters[GDL_STAT_LIVE_FILES] == 1);
	T_TRUE(s.counters[GDL_STAT_LIVE_DEVICES] == 2);
	T_TRUE(s.counters[GDL_STAT_LEDGER_CONSISTENT] == 1);
	for (i = GDL_STAT_RESERVE_OK; i < GDL_STAT_LIVE_AGENTS; i++)
		t_check(s.counters[i] == 0, "fresh counter %d is %llu", i,
			(unsigned long long)s.counters[i]);
	return finish("fresh", NULL);
}

/* A little of everything, leaving things behind for unload to clean. */
static int suite_traffic(void)
{
	uint32_t dev0 = pci_dev(0), a, b;
	struct gdl_acl_entry e;
	uint64_t h;
	int f2 = h_open(), i;

	t_section = "traffic";
	a = agent_create(fd, "tr-a", 64 * MiB);
	b = agent_create(fd, "tr-b", 64 * MiB);
	T_TRUE(a && b);
	T_EXPECT(bind_pid(fd, a, getpid(), 0), 0);
	T_EXPECT(bind_cgroup(fd, b, "gdl-traffic", 0), 0);
	for (i = 0; i < 8; i++)
		T_EXPECT(reserve(i & 1 ? f2 : fd, dev0, 1 << 20,
				 (uint64_t)(i + 1) << 24, &h, NULL), 0);
	memset(&e, 0, sizeof(e));
	e.agent_id = b;
	e.owner_id = a;
	e.dev_index = dev0;
	e.rights = GDL_ACCESS_READ;
	e.addr = 1 << 24;
	e.len = 1 << 20;
	T_EXPECT(acl(fd, GDL_IOC_ACL_GRANT, &e, 1), 0);
	T_EXPECT(dma(fd, dev0, 1 << 24, 4096, GDL_ACCESS_WRITE, NULL), 0);
	T_TRUE(device_add(fd, "tr-dev", MiB) != ~0U);
	/* Destroyed with reservations still charged: unload must cope. */
	T_EXPECT(agent_destroy(fd, a), 0);
	/* Leave f2, the binding of b and the grant-free agent b behind. */
	return finish("traffic", NULL);
}

int main(int argc, char **argv)
{
	unsigned char *m;
	int ret;
	/* Thousands of cases: only the failures print, unless asked. */
	t_quiet = !getenv("HOSTILE_VERBOSE");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: hostile badinput|limits|priv|storm N B|race SECS|traffic|fresh|check N\n");
		return 2;
	}
	pagesz = sysconf(_SC_PAGESIZE);
	m = mmap(NULL, 3 * pagesz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 3;
	page_end = m;
	page_none = m + pagesz;
	mprotect(page_none, pagesz, PROT_NONE);
	rng ^= (uint64_t)getpid();
	fd = h_open();

	if (!strcmp(argv[1], "badinput"))
		ret = suite_badinput();
	else if (!strcmp(argv[1], "limits"))
		ret = suite_limits();
	else if (!strcmp(argv[1], "priv"))
		ret = suite_priv();
	else if (!strcmp(argv[1], "storm") && argc == 4)
		ret = suite_storm(atoi(argv[2]), atoi(argv[3]));
	else if (!strcmp(argv[1], "race") && argc == 3)
		ret = suite_race(atoi(argv[2]));
	else if (!strcmp(argv[1], "traffic"))
		ret = suite_traffic();
	else if (!strcmp(argv[1], "fresh"))
		ret = suite_fresh();
	else if (!strcmp(argv[1], "check") && argc == 3) {
		t_section = "check";
		h_invariants(fd, (unsigned int)atoi(argv[2]), "at rest");
		ret = finish("check", NULL);
	} else {
		fprintf(stderr, "hostile: unknown suite %s\n", argv[1]);
		ret = 2;
	}
	return ret;
}

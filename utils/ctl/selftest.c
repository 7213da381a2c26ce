// SPDX-License-Identifier: GPL-2.0
/*
 * selftest: an end-to-end check of the live module through libgpudmalock.
 * It works on its own scratch device and agent, so it neither needs a GPU
 * nor touches tenants' accounts: a device "selftest-PID" with 64M
 * capacity, an agent "selftest-PID" with a 1M quota on it, bound to this
 * process.  Every step prints a line; cleanup runs whatever failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#define KiB	1024ULL
#define MiB	(1024ULL * 1024)
#define ADDR	0x100000ULL	/* the DMA steps' reserved range */

struct st {
	const char *path;
	struct gdlock *g;	/* the admin handle, also charged */
	struct gdlock *ev;	/* event reader, opened before the refusal */
	uint32_t dev, agent;
	bool have_dev, have_agent, bound;
	int step, failed;
};

static void step(struct st *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void step(struct st *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%2d %-4s ", ++t->step, ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		t->failed++;
}

/* Did the kernel answer @ret where @want was due?  Explains audit mode. */
static bool expect(struct st *t, int ret, int want, const char *what)
{
	if (ret == want) {
		step(t, true, "%s: %s", what, want ? gdlock_strerror(want) : "ok");
		return true;
	}
	step(t, false, "%s: expected %s, got %s", what,
	     want ? gdlock_strerror(want) : "success",
	     ret ? gdlock_strerror(ret) : "success");
	return false;
}

/* The scratch agent's one binding, listed back (ABI 1.1). */
static void list_binding(struct st *t)
{
	struct gdl_binding_info b[2];
	int n = gdlock_binding_list(t->g, t->agent, b, 2);

	if (n < 0)
		step(t, false, "list the binding: %s", gdlock_strerror(-n));
	else
		step(t, n == 1 && b[0].type == GDL_BIND_PID &&
		     b[0].target == (uint64_t)getpid() && !b[0].flags,
		     "the kernel lists that binding (%d found)", n);
}

static bool setup(struct st *t, char *name)
{
	struct gdl_device_info d;
	struct gdl_version v;
	struct gdl_whoami w;
	int ret;

	ret = gdlock_version(t->g, &v);
	if (ret) {
		step(t, false, "version: %s", gdlock_strerror(ret));
		return false;
	}
	step(t, v.abi_major == GDL_ABI_MAJOR, "module %s, ABI %u.%u (this tool: %d.%d), %s",
	     v.module_version, v.abi_major, v.abi_minor, GDL_ABI_MAJOR,
	     GDL_ABI_MINOR, v.flags & GDL_VERSION_F_ENFORCE ? "enforcing" :
	     "audit only (enforce=0)");
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.capacity = 64 * MiB;
	ret = gdlock_device_add(t->g, &d);
	if (!expect(t, ret, 0, "add scratch device (64M)"))
		return false;
	t->dev = d.index;
	t->have_dev = true;
	ret = gdlock_agent_create(t->g, name, 0, &t->agent);
	if (!expect(t, ret, 0, "create scratch agent"))
		return false;
	t->have_agent = true;
	ret = gdlock_quota_set(t->g, t->agent, t->dev, MiB);
	if (!expect(t, ret, 0, "set its quota to 1M on the scratch device"))
		return false;
	ret = gdlock_bind_pid(t->g, t->agent, getpid());
	if (!expect(t, ret, 0, "bind it to this process"))
		return false;
	t->bound = true;
	ret = gdlock_whoami(t->g, &w);
	step(t, !ret && w.agent_id == t->agent && w.bound_by == GDL_BOUND_PID,
	     "the kernel resolves this process to the scratch agent (agent %u, bound by %s)",
	     w.agent_id, w.bound_by == GDL_BOUND_PID ? "pid" : "something else");
	if (v.abi_minor >= 1)	/* BIND_LIST */
		list_binding(t);
	return !ret && w.agent_id == t->agent;
}

static void quota_steps(struct st *t)
{
	struct gdl_reserve r;
	struct gdl_event e[8];
	struct gdl_quota q;
	uint64_t h = 0;	/* released below even if the reserve failed */
	int ret, n, i;
	bool seen = false;

	expect(t, gdlock_reserve(t->g, t->dev, 512 * KiB, &h), 0, "reserve 512K within the quota");
	memset(&r, 0, sizeof(r));
	r.dev_index = t->dev;
	r.size = MiB;
	ret = gdlock_reserve_ex(t->g, &r);
	if (!ret && r.result == GDL_RESULT_AUDIT) {
		step(t, false, "reserve 1M more (over the quota): ALLOWED: the module is in audit mode (enforce=0) and enforces nothing; set enforce=1 (echo 1 > /sys/module/gpu_dma_lock/parameters/enforce)");
		gdlock_release(t->g, r.handle);
	} else {
		expect(t, ret, -EDQUOT, "reserve 1M more (over the quota) is refused");
	}
	n = gdlock_event_read(t->ev, e, 8, 2000);
	for (i = 0; i < n && !seen; i++)
		seen = e[i].type == GDL_EVENT_QUOTA_EXCEEDED && e[i].agent_id == t->agent &&
		       e[i].value == MiB && e[i].value2 == MiB;
	step(t, seen, "a quota_exceeded event for the scratch agent was delivered%s",
	     seen ? "" : " (none within 2s)");
	ret = gdlock_quota_get(t->g, t->agent, t->dev, &q);
	step(t, !ret && q.usage == 512 * KiB && q.denied >= 1,
	     "the account shows usage 512K and the denial (usage %llu, denied %llu)",
	     (unsigned long long)q.usage, (unsigned long long)q.denied);
	expect(t, gdlock_release(t->g, h), 0, "release the 512K");
}

static void close_steps(struct st *t)
{
	struct gdlock *h;
	struct gdl_quota q;
	uint64_t hd;
	int ret;

	ret = gdlock_open_path(t->path, &h);
	if (!expect(t, ret, 0, "open a second file"))
		return;
	expect(t, gdlock_reserve(h, t->dev, 256 * KiB, &hd), 0, "reserve 256K through it");
	gdlock_close(h);
	ret = gdlock_quota_get(t->g, t->agent, t->dev, &q);
	step(t, !ret && q.usage == 0 && q.nr_reservations == 0,
	     "closing the file released its reservation (usage %llu)",
	     (unsigned long long)q.usage);
}

static void dma_steps(struct st *t)
{
	uint64_t h;

	if (!expect(t, gdlock_reserve_at(t->g, t->dev, ADDR, 64 * KiB, &h), 0,
		    "reserve 64K at 0x100000"))
		return;
	expect(t, gdlock_dma_check(t->g, t->dev, ADDR + 4 * KiB, 4 * KiB,
				   GDL_ACCESS_READ | GDL_ACCESS_WRITE), 0,
	       "DMA read/write inside its own reservation is allowed");
	expect(t, gdlock_dma_check(t->g, t->dev, 0x4000000, 4 * KiB, GDL_ACCESS_WRITE),
	       -EACCES, "DMA write to memory it does not own is denied");
	expect(t, gdlock_dma_check(t->g, t->dev, ADDR + 60 * KiB, 8 * KiB, GDL_ACCESS_READ),
	       -EACCES, "DMA running past the end of its reservation is denied");
	expect(t, gdlock_release(t->g, h), 0, "release the 64K");
}

/*
 * Runs whatever setup reached, in reverse; never stops early.  A fresh
 * file first: closing the old one releases anything a failed step left
 * reserved, which would otherwise keep the scratch device busy.
 */
static void cleanup(struct st *t)
{
	struct gdl_stats s;
	int ret;

	gdlock_close(t->g);
	t->g = NULL;
	ret = gdlock_open_path(t->path, &t->g);
	if (!expect(t, ret, 0, "cleanup: reopen (releasing whatever is left)"))
		return;

	if (t->bound)
		expect(t, gdlock_unbind_pid(t->g, t->agent, getpid()), 0, "cleanup: unbind this process");
	if (t->have_agent)
		expect(t, gdlock_agent_destroy(t->g, t->agent), 0, "cleanup: destroy the scratch agent");
	if (t->have_dev)
		expect(t, gdlock_device_remove(t->g, t->dev), 0, "cleanup: remove the scratch device");
	if (!gdlock_stats(t->g, &s))
		step(t, s.counters[GDL_STAT_LEDGER_CONSISTENT] == 1,
		     "the ledger is consistent (every usage equals its reservations)");
}

int cmd_selftest(struct ctl *c, int argc, char **argv)
{
	struct st t = { .path = c->dev_path };
	char name[GDL_NAME_LEN];
	int ret;

	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl selftest\n\n"
		       "End-to-end check of the live module on a scratch device and agent\n"
		       "bound to this process: quota enforced, events, release on close,\n"
		       "DMA allow/deny, cleanup.  Needs root.  Exit 0 when every step passes.\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return ctl_usage_err("selftest", "unexpected argument '%s'", argv[1]);
	if (geteuid() != 0) {
		fprintf(stderr, "selftest: needs root (CAP_SYS_ADMIN): it creates a scratch device and agent\n");
		return EXIT_PERM;
	}
	ret = ctl_open(c, &t.g);
	if (ret)
		return ret;
	ret = ctl_open(c, &t.ev);
	if (ret) {
		gdlock_close(t.g);
		return ret;
	}
	snprintf(name, sizeof(name), "selftest-%d", (int)getpid());
	printf("selftest of %s as agent and device '%s'\n", c->dev_path, name);
	if (setup(&t, name)) {
		quota_steps(&t);
		close_steps(&t);
		dma_steps(&t);
	}
	cleanup(&t);
	gdlock_close(t.ev);
	gdlock_close(t.g);
	printf("selftest: %d steps, %d failed: %s\n", t.step, t.failed,
	       t.failed ? "FAILED" : "passed");
	return t.failed ? EXIT_FAIL : EXIT_OK;
}

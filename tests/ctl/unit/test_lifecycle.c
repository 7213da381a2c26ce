// SPDX-License-Identifier: GPL-2.0
/*
 * gdlock_agent_ensure/retire against a small fake ledger: the test binary
 * is linked with -Wl,--wrap=ioctl, so the library's ioctl() on the fake's
 * file (an open /dev/null) lands here, and every other file gets the real
 * ioctl.  The fake can stage the races the helper exists for: a creator
 * that wins between find and create, a retire between find and use.
 * The real module is exercised by tests/containers in the VM.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpudmalock.h"
#include "tests.h"

#define FAKE_AGENTS 8
#define FAKE_DEVICES 2

struct fake_agent {
	uint32_t id;		/* 0: free slot */
	char name[GDL_NAME_LEN];
	uint64_t quota[FAKE_DEVICES];
	uint64_t cgroup;	/* inode of the one bound cgroup, 0: none */
};

static struct {
	int fd;			/* the fake's file; -1: no fake */
	struct fake_agent a[FAKE_AGENTS];
	uint32_t next_id;
	int creates, destroys, binds;
	int eperm;		/* every call: EPERM (rootless) */
	const char *race_create;	/* create it first, then EEXIST */
	int retire_on_quota;	/* destroy the agent at the next QUOTA_SET */
} fk = { .fd = -1 };

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

static struct fake_agent *fake_by_id(uint32_t id)
{
	int i;

	for (i = 0; id && i < FAKE_AGENTS; i++)
		if (fk.a[i].id == id)
			return &fk.a[i];
	return NULL;
}

static struct fake_agent *fake_by_name(const char *name)
{
	int i;

	for (i = 0; i < FAKE_AGENTS; i++)
		if (fk.a[i].id && !strcmp(fk.a[i].name, name))
			return &fk.a[i];
	return NULL;
}

static int fake_insert(const char *name, uint32_t *id)
{
	int i;

	if (fake_by_name(name))
		return EEXIST;
	for (i = 0; i < FAKE_AGENTS; i++) {
		if (!fk.a[i].id) {
			memset(&fk.a[i], 0, sizeof(fk.a[i]));
			fk.a[i].id = ++fk.next_id;
			snprintf(fk.a[i].name, sizeof(fk.a[i].name), "%s", name);
			*id = fk.a[i].id;
			return 0;
		}
	}
	return EUSERS;
}

static int fake_list(struct gdl_array *arr)
{
	struct gdl_agent_info *out = (void *)(uintptr_t)arr->ptr;
	uint32_t n = 0;
	int i;

	for (i = 0; i < FAKE_AGENTS; i++) {
		if (!fk.a[i].id)
			continue;
		if (n < arr->count) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].id = fk.a[i].id;
			memcpy(out[n].name, fk.a[i].name, GDL_NAME_LEN);
		}
		n++;
	}
	arr->count = n;
	return 0;
}

static int fake_quota(const struct gdl_quota_set *q)
{
	struct fake_agent *a;
	int d;

	if (fk.retire_on_quota) {
		fk.retire_on_quota = 0;
		a = fake_by_id(q->agent_id);
		if (a)
			a->id = 0;
	}
	a = fake_by_id(q->agent_id);
	if (!a)
		return ENOENT;
	if (q->dev_index == GDL_ALL_DEVICES) {
		for (d = 0; d < FAKE_DEVICES; d++)
			a->quota[d] = q->quota;
		return 0;
	}
	if (q->dev_index >= FAKE_DEVICES)
		return ENODEV;
	a->quota[q->dev_index] = q->quota;
	return 0;
}

static int fake_bind(const struct gdl_bind *b)
{
	struct fake_agent *a = fake_by_id(b->agent_id);
	struct stat st;
	int i;

	if (b->type != GDL_BIND_CGROUP_FD || b->flags)
		return EINVAL;
	if (fstat((int)b->value, &st))
		return EBADF;
	for (i = 0; i < FAKE_AGENTS; i++)
		if (fk.a[i].id && fk.a[i].cgroup == st.st_ino)
			return fk.a[i].id == b->agent_id ? 0 : EEXIST;
	if (!a)
		return ENOENT;
	a->cgroup = st.st_ino;
	fk.binds++;
	return 0;
}

static int fake_ioctl(unsigned long req, void *arg)
{
	struct gdl_agent_info *ai = arg;
	struct fake_agent *a;
	uint32_t id;

	if (fk.eperm && req != GDL_IOC_AGENT_LIST)
		return EPERM;
	switch (req) {
	case GDL_IOC_AGENT_LIST:
		return fake_list(arg);
	case GDL_IOC_AGENT_CREATE:
		if (fk.race_create && !strcmp(fk.race_create, ai->name)) {
			fk.race_create = NULL;
			fake_insert(ai->name, &id);
			return EEXIST;
		}
		fk.creates++;
		return fake_insert(ai->name, &ai->id);
	case GDL_IOC_AGENT_DESTROY:
		a = fake_by_id(((struct gdl_id *)arg)->id);
		if (!a)
			return ENOENT;
		a->id = 0;
		fk.destroys++;
		return 0;
	case GDL_IOC_QUOTA_SET:
		return fake_quota(arg);
	case GDL_IOC_AGENT_BIND:
		return fake_bind(arg);
	default:
		return ENOTTY;
	}
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int err;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != fk.fd)
		return __real_ioctl(fd, req, arg);
	err = fake_ioctl(req, arg);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static struct gdlock *fake_open(void)
{
	struct gdlock *g = NULL;

	memset(&fk, 0, sizeof(fk));
	fk.fd = -1;
	if (gdlock_open_path("/dev/null", &g))
		return NULL;
	fk.fd = gdlock_fd(g);
	return g;
}

static void fake_close(struct gdlock *g)
{
	fk.fd = -1;
	gdlock_close(g);
}

static int fake_count(void)
{
	int i, n = 0;

	for (i = 0; i < FAKE_AGENTS; i++)
		n += !!fk.a[i].id;
	return n;
}

/* Two directories standing in for cgroups: the fake binds by inode. */
static char cg1[] = "/tmp/gdl-lc-XXXXXX";
static char cg2[] = "/tmp/gdl-lc-XXXXXX";

static const struct gdlock_ensure_quota q_all_then_one[] = {
	{ .device = GDL_ALL_DEVICES, .bytes = 16ULL << 30 },
	{ .device = 1, .bytes = 4ULL << 30 },
};

static void test_ensure_creates_and_is_idempotent(void)
{
	struct gdlock *g = fake_open();
	struct fake_agent *a;
	uint32_t id = 0, id2 = 0;

	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-0123456789ab",
					    q_all_then_one, 2, cg1, &id), 0);
	a = fake_by_name("ctr-0123456789ab");
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->id, id);
	/* In order: "16G everywhere, except 4G on device 1". */
	CU_ASSERT_EQUAL(a->quota[0], 16ULL << 30);
	CU_ASSERT_EQUAL(a->quota[1], 4ULL << 30);
	CU_ASSERT_NOT_EQUAL(a->cgroup, 0);
	/* The same call again: same agent, nothing created or bound. */
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-0123456789ab",
					    q_all_then_one, 2, cg1, &id2), 0);
	CU_ASSERT_EQUAL(id2, id);
	CU_ASSERT_EQUAL(fk.creates, 1);
	CU_ASSERT_EQUAL(fk.binds, 1);
	CU_ASSERT_EQUAL(fake_count(), 1);
	/* No cgroup, no id wanted: quotas only. */
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-0123456789ab", NULL, 0,
					    NULL, NULL), 0);
	CU_ASSERT_EQUAL(fake_count(), 1);
	fake_close(g);
}

static void test_ensure_racing_creator(void)
{
	struct gdlock *g = fake_open();
	uint32_t id = 0;

	CU_ASSERT_FATAL(g != NULL);
	/* Another creator wins between our find and our create. */
	fk.race_create = "slurm-42";
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "slurm-42", q_all_then_one, 2,
					    cg1, &id), 0);
	CU_ASSERT_EQUAL(fake_count(), 1);
	CU_ASSERT_EQUAL(id, fake_by_name("slurm-42")->id);
	CU_ASSERT_EQUAL(fake_by_name("slurm-42")->quota[1], 4ULL << 30);
	fake_close(g);
}

static void test_ensure_racing_retire(void)
{
	struct gdlock *g = fake_open();
	uint32_t id = 0;

	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-a", NULL, 0, NULL, &id), 0);
	/* Retired between our find and our quota set: made afresh. */
	fk.retire_on_quota = 1;
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-a", q_all_then_one, 2,
					    cg1, &id), 0);
	CU_ASSERT_EQUAL(fake_count(), 1);
	CU_ASSERT_EQUAL(id, fake_by_name("ctr-a")->id);
	CU_ASSERT_EQUAL(fake_by_name("ctr-a")->quota[0], 16ULL << 30);
	CU_ASSERT_NOT_EQUAL(fake_by_name("ctr-a")->cgroup, 0);
	fake_close(g);
}

static void test_ensure_failure_leaves_nothing(void)
{
	static const struct gdlock_ensure_quota bad_dev[] = {
		{ .device = 7, .bytes = 1 << 20 },
	};
	struct gdlock *g = fake_open();
	uint32_t id = 0;

	CU_ASSERT_FATAL(g != NULL);
	/* A cgroup already bound to someone else: EEXIST, our agent undone. */
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-owner", NULL, 0, cg2, NULL), 0);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-thief", q_all_then_one, 2,
					    cg2, &id), -EEXIST);
	CU_ASSERT_PTR_NULL(fake_by_name("ctr-thief"));
	/* No such device: ENODEV, undone too. */
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-b", bad_dev, 1, NULL, NULL),
			-ENODEV);
	CU_ASSERT_PTR_NULL(fake_by_name("ctr-b"));
	/* A cgroup path that does not exist: ENOENT, no endless retry. */
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-c", NULL, 0,
					    "/nonexistent/cgroup", NULL), -ENOENT);
	CU_ASSERT_PTR_NULL(fake_by_name("ctr-c"));
	/* An agent that existed before is kept when a later step fails. */
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-owner", bad_dev, 1, NULL,
					    NULL), -ENODEV);
	CU_ASSERT_PTR_NOT_NULL(fake_by_name("ctr-owner"));
	CU_ASSERT_EQUAL(fake_count(), 1);
	fake_close(g);
}

static void test_ensure_bad_arguments(void)
{
	static const struct gdlock_ensure_quota reserved[] = {
		{ .device = 0, .reserved = 1, .bytes = 1 },
	};
	char longname[GDL_NAME_LEN + 1];
	struct gdlock *g = fake_open();

	CU_ASSERT_FATAL(g != NULL);
	memset(longname, 'x', GDL_NAME_LEN);
	longname[GDL_NAME_LEN] = 0;
	CU_ASSERT_EQUAL(gdlock_agent_ensure(NULL, "a", NULL, 0, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, NULL, NULL, 0, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "", NULL, 0, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, longname, NULL, 0, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "a", NULL, 1, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "a", reserved, 1, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "a", NULL, 0, "", NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_retire(NULL, "a"), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_retire(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_retire(g, longname), -EINVAL);
	/* Refused before anything reached the ledger. */
	CU_ASSERT_EQUAL(fk.creates, 0);
	CU_ASSERT_EQUAL(fake_count(), 0);
	/* Not root (a rootless engine's hook): EPERM comes back as is. */
	fk.eperm = 1;
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "a", NULL, 0, NULL, NULL), -EPERM);
	fake_close(g);
}

static void test_retire(void)
{
	struct gdlock *g = fake_open();

	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-x", NULL, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(gdlock_agent_ensure(g, "ctr-y", NULL, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(gdlock_agent_retire(g, "ctr-x"), 0);
	CU_ASSERT_PTR_NULL(fake_by_name("ctr-x"));
	CU_ASSERT_PTR_NOT_NULL(fake_by_name("ctr-y"));
	/* Twice (poststop runs twice), and never created: success. */
	CU_ASSERT_EQUAL(gdlock_agent_retire(g, "ctr-x"), 0);
	CU_ASSERT_EQUAL(gdlock_agent_retire(g, "ctr-never"), 0);
	CU_ASSERT_EQUAL(fk.destroys, 1);
	fk.eperm = 1;
	CU_ASSERT_EQUAL(gdlock_agent_retire(g, "ctr-y"), -EPERM);
	fake_close(g);
}

static int lifecycle_init(void)
{
	if (!mkdtemp(cg1) || !mkdtemp(cg2))
		return -1;
	return 0;
}

static int lifecycle_clean(void)
{
	rmdir(cg1);
	rmdir(cg2);
	return 0;
}

int add_lifecycle_tests(void)
{
	CU_pSuite s = CU_add_suite("lifecycle helper (fake ledger)",
				   lifecycle_init, lifecycle_clean);

	if (!s ||
	    !CU_add_test(s, "ensure creates, and again changes nothing",
			 test_ensure_creates_and_is_idempotent) ||
	    !CU_add_test(s, "ensure: racing creator", test_ensure_racing_creator) ||
	    !CU_add_test(s, "ensure: racing retire", test_ensure_racing_retire) ||
	    !CU_add_test(s, "ensure: a failure leaves nothing",
			 test_ensure_failure_leaves_nothing) ||
	    !CU_add_test(s, "ensure/retire: bad arguments, EPERM",
			 test_ensure_bad_arguments) ||
	    !CU_add_test(s, "retire: absent is success", test_retire))
		return -1;
	return 0;
}

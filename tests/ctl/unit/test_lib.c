// SPDX-License-Identifier: GPL-2.0
/*
 * libgpudmalock without the module: argument checks, messages for every
 * errno docs/abi.md documents, open failures, and a file that is not the
 * device (/dev/null: every ioctl is ENOTTY, read() is end of file).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "gpudmalock.h"
#include "tests.h"

static void test_open_failures(void)
{
	struct gdlock *g = (struct gdlock *)0x1;

	CU_ASSERT_EQUAL(gdlock_open_path("/nonexistent/gpu_dma_lock", &g), -ENOENT);
	CU_ASSERT_PTR_EQUAL(g, (struct gdlock *)0x1);	/* untouched on failure */
	CU_ASSERT_EQUAL(gdlock_open_path("/", &g), -EISDIR);
	CU_ASSERT_EQUAL(gdlock_open_path(NULL, &g), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_open_path("/dev/null", NULL), -EINVAL);
	gdlock_close(NULL);	/* must not crash */
	CU_ASSERT_EQUAL(gdlock_fd(NULL), -EINVAL);
}

static void test_null_handle(void)
{
	struct gdl_version v;
	struct gdl_quota q;
	struct gdl_event e;
	uint64_t h;
	uint32_t id;

	CU_ASSERT_EQUAL(gdlock_nop(NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_version(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_quota_get(NULL, 1, 0, &q), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_reserve(NULL, 0, 4096, &h), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_create(NULL, "a", 0, &id), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_device_list(NULL, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_bind_cgroup(NULL, 1, "/"), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_event_read(NULL, &e, 1, 0), -EINVAL);
}

static void test_bad_arguments(void)
{
	struct gdl_acl_entry a;
	struct gdl_event e;
	struct gdlock *g;
	char longname[GDL_NAME_LEN + 1];
	uint32_t id;

	if (gdlock_open_path("/dev/null", &g)) {
		CU_FAIL("cannot open /dev/null");
		return;
	}
	memset(longname, 'x', GDL_NAME_LEN);
	longname[GDL_NAME_LEN] = 0;
	memset(&a, 0, sizeof(a));
	CU_ASSERT_EQUAL(gdlock_version(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_whoami(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_stats(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_quota_get(g, 0, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_device_add(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_device_set(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_reserve_ex(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_dma_check_ex(g, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_create(g, NULL, 0, &id), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_create(g, "", 0, &id), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_create(g, longname, 0, &id), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_find(g, NULL, &id), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_agent_find(g, "a", NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_device_list(g, NULL, 4), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_acl_grant(g, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_acl_grant(g, &a, 0), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_acl_revoke(g, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_bind_cgroup(g, 1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_bind_cgroup(g, 1, "/nonexistent-cgroup"), -ENOENT);
	CU_ASSERT_EQUAL(gdlock_bind_cgroup(g, 1, "/dev/null"), -ENOTDIR);
	CU_ASSERT_EQUAL(gdlock_event_read(g, NULL, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_event_read(g, &e, 0, 0), -EINVAL);
	gdlock_close(g);
}

/* /dev/null is a file but not the device: the kernel's answer passes through. */
static void test_not_the_device(void)
{
	struct gdl_device_info d[2];
	struct gdl_version v;
	struct gdl_stats s;
	struct gdl_quota q;
	struct gdl_event e;
	struct gdlock *g;
	uint64_t h;
	uint32_t id;

	if (gdlock_open_path("/dev/null", &g)) {
		CU_FAIL("cannot open /dev/null");
		return;
	}
	CU_ASSERT(gdlock_fd(g) >= 0);
	CU_ASSERT_EQUAL(gdlock_nop(g), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_version(g, &v), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_stats(g, &s), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_device_list(g, d, 2), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_agent_create(g, "a", 0, &id), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_agent_find(g, "a", &id), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_quota_get(g, 1, 0, &q), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_reserve(g, 0, 4096, &h), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_release(g, 1), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_dma_check(g, 0, 0, 1, GDL_ACCESS_READ), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_peer_check(g, 0, 1), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_bind_pid(g, 1, 1), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_bind_cgroup(g, 1, "/"), -ENOTTY);
	CU_ASSERT_EQUAL(gdlock_binding_list(g, 0, NULL, 0), -ENOTTY);
	/* End of file is not an event stream. */
	CU_ASSERT_EQUAL(gdlock_event_read(g, &e, 1, 100), -EIO);
	gdlock_close(g);
}

static void test_binding_args(void)
{
	struct gdl_binding_info b;
	struct gdlock *g;

	CU_ASSERT_EQUAL(gdlock_binding_list(NULL, 0, &b, 1), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_unbind_cgroup_id(NULL, 1, 5), -EINVAL);
	if (gdlock_open_path("/dev/null", &g)) {
		CU_FAIL("cannot open /dev/null");
		return;
	}
	/* A buffer without room, or room without a buffer. */
	CU_ASSERT_EQUAL(gdlock_binding_list(g, 0, NULL, 4), -EINVAL);
	/* Ids are positive 63-bit numbers. */
	CU_ASSERT_EQUAL(gdlock_unbind_cgroup_id(g, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_unbind_cgroup_id(g, 1, 1ULL << 63), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_unbind_cgroup_id(g, 1, 5), -ENOTTY);
	gdlock_close(g);
}

/* The cgroup id is the cgroup2fs file handle, which is its inode number. */
static void test_cgroup_id(void)
{
	struct statfs sfs;
	struct stat st;
	uint64_t id = 7;

	CU_ASSERT_EQUAL(gdlock_cgroup_id(NULL, &id), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_cgroup_id("/", NULL), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_cgroup_id("/nonexistent-cgroup", &id), -ENOENT);
	CU_ASSERT_EQUAL(gdlock_cgroup_id("/dev/null", &id), -ENOTDIR);
	CU_ASSERT_EQUAL(gdlock_cgroup_id("/dev", &id), -EBADF);
	CU_ASSERT_EQUAL(id, 7);	/* untouched on failure */
	/* Where the host has cgroup v2 mounted, its root has an id. */
	if (statfs("/sys/fs/cgroup", &sfs) || sfs.f_type != 0x63677270 ||
	    stat("/sys/fs/cgroup", &st))
		return;
	CU_ASSERT_EQUAL(gdlock_cgroup_id("/sys/fs/cgroup", &id), 0);
	CU_ASSERT_EQUAL(id, (uint64_t)st.st_ino);
}

static void test_parse_size(void)
{
	uint64_t v = 0;

	CU_ASSERT_EQUAL(gdlock_parse_size("16G", &v), 0);
	CU_ASSERT_EQUAL(v, 16ULL << 30);
	CU_ASSERT_EQUAL(gdlock_parse_size("512M", &v), 0);
	CU_ASSERT_EQUAL(v, 512ULL << 20);
	CU_ASSERT_EQUAL(gdlock_parse_size("unlimited", &v), 0);
	CU_ASSERT_EQUAL(v, GDL_QUOTA_UNLIMITED);
	CU_ASSERT_EQUAL(gdlock_parse_size("12X", &v), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_parse_size("99999999999T", &v), -ERANGE);
	CU_ASSERT_EQUAL(gdlock_parse_size(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(gdlock_parse_size("1G", NULL), -EINVAL);
}

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "ENOTTY", ENOTTY }, { "EINVAL", EINVAL }, { "E2BIG", E2BIG },
	{ "EFAULT", EFAULT }, { "EOVERFLOW", EOVERFLOW }, { "EPERM", EPERM },
	{ "ENOLINK", ENOLINK }, { "ESRCH", ESRCH }, { "ENOENT", ENOENT },
	{ "ENODEV", ENODEV }, { "EEXIST", EEXIST }, { "EBUSY", EBUSY },
	{ "EDQUOT", EDQUOT }, { "ENOSPC", ENOSPC }, { "EADDRINUSE", EADDRINUSE },
	{ "EACCES", EACCES }, { "EUSERS", EUSERS }, { "ENOBUFS", ENOBUFS },
	{ "EMFILE", EMFILE },
	{ "EBADF", EBADF }, { "EBADFD", EBADFD }, { "ENOMEM", ENOMEM },
	{ "ENOTUNIQ", ENOTUNIQ },
};

/*
 * Every errno in docs/abi.md's table has a message naming it, for either
 * sign.  The table is read from the document so a new errno documented
 * without a message fails here.
 */
static void test_strerror_documented(void)
{
	char line[512], name[32];
	FILE *f = fopen(ABI_DOC, "r");
	unsigned int i, found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f)) {
		bool known = false;

		if (sscanf(line, "| `%31[A-Z0-9]` |", name) != 1 || name[0] != 'E')
			continue;
		found++;
		for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
			char want[40];

			if (strcmp(errnos[i].name, name))
				continue;
			known = true;
			snprintf(want, sizeof(want), "(%s)", name);
			CU_ASSERT_PTR_NOT_NULL(strstr(gdlock_strerror(errnos[i].err), want));
			CU_ASSERT_PTR_NOT_NULL(strstr(gdlock_strerror(-errnos[i].err), want));
		}
		if (!known)
			fprintf(stderr, "docs/abi.md documents %s: add it to test_lib.c and gdlock_strerror\n", name);
		CU_ASSERT(known);
	}
	fclose(f);
	CU_ASSERT_EQUAL(found, sizeof(errnos) / sizeof(errnos[0]));
	CU_ASSERT_STRING_EQUAL(gdlock_strerror(0), "success");
	/* Anything else falls back to libc's text. */
	CU_ASSERT_STRING_EQUAL(gdlock_strerror(-EPIPE), strerror(EPIPE));
	CU_ASSERT_PTR_NOT_NULL(strstr(gdlock_strerror(-EPERM), "CAP_SYS_ADMIN"));
}

/* Write @text to a temporary file; its path in @path (unlink it after). */
static void holders_file(char path[32], const char *text)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/gdl-holders-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* /proc/gpu_dma_lock/holders as the module writes it, and what is not. */
static void test_holders(void)
{
	static const char table[] =
		"pid handle agent state device size kind\n"
		"412 1 65537 live 0 1048576 reserved\n"
		"0 7 131074 destroyed 1 805306368 attached\n"
		"99 2 131074 live 3 5 reserved\n";
	static const char *const bad[] = {
		"pid handle agent\n",				/* not the table */
		"pid handle agent state device size kind\n1 2 3 dead 0 1 reserved\n",
		"pid handle agent state device size kind\n1 2 3 live 0 1 lent\n",
		"pid handle agent state device size kind\n1 2 3 live 0\n",
		"pid handle agent state device size kind\n-1 2 3 live 0 1 reserved\n",
		"pid handle agent state device size kind\n1 2 3 live 0 1x reserved\n",
		"",
	};
	struct gdlock_holder h[4];
	char path[32];
	unsigned int i;

	holders_file(path, table);
	memset(h, 0xa5, sizeof(h));
	CU_ASSERT_EQUAL(gdlock_holders(path, h, 4), 3);
	CU_ASSERT_EQUAL(h[0].pid, 412);
	CU_ASSERT_EQUAL(h[0].handle, 1);
	CU_ASSERT_EQUAL(h[0].agent_id, 65537);
	CU_ASSERT_EQUAL(h[0].dev_index, 0);
	CU_ASSERT_EQUAL(h[0].size, 1048576);
	CU_ASSERT_EQUAL(h[0].flags, 0);
	CU_ASSERT_EQUAL(h[1].pid, 0);
	CU_ASSERT_EQUAL(h[1].agent_id, 131074);
	CU_ASSERT_EQUAL(h[1].size, 805306368);
	CU_ASSERT_EQUAL(h[1].flags,
			GDLOCK_HOLDER_DESTROYED | GDLOCK_HOLDER_ATTACHED);
	CU_ASSERT_EQUAL(h[2].dev_index, 3);
	CU_ASSERT_EQUAL(h[3].pid, (int32_t)0xa5a5a5a5);	/* untouched */
	/* A short buffer: the count of all, no more stored. */
	memset(h, 0xa5, sizeof(h));
	CU_ASSERT_EQUAL(gdlock_holders(path, h, 1), 3);
	CU_ASSERT_EQUAL(h[1].pid, (int32_t)0xa5a5a5a5);
	CU_ASSERT_EQUAL(gdlock_holders(path, NULL, 0), 3);
	CU_ASSERT_EQUAL(gdlock_holders(path, NULL, 1), -EINVAL);
	unlink(path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		holders_file(path, bad[i]);
		CU_ASSERT_EQUAL(gdlock_holders(path, h, 4), -EBADMSG);
		unlink(path);
	}
	/* Only the header: nobody holds anything. */
	holders_file(path, "pid handle agent state device size kind\n");
	CU_ASSERT_EQUAL(gdlock_holders(path, h, 4), 0);
	unlink(path);
	CU_ASSERT_EQUAL(gdlock_holders("/nonexistent/holders", h, 4), -ENOENT);
}

static void test_event_names(void)
{
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(GDL_EVENT_QUOTA_EXCEEDED), "quota_exceeded");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(GDL_EVENT_CAPACITY_EXCEEDED), "capacity_exceeded");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(GDL_EVENT_DMA_DENIED), "dma_denied");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(GDL_EVENT_AGENT_DESTROYED), "agent_destroyed");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(GDL_EVENT_LOST), "lost");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(GDL_EVENT_DEVICE_GONE), "device_gone");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(GDL_EVENT_DEVICE_BACK), "device_back");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(0), "unknown");
	CU_ASSERT_STRING_EQUAL(gdlock_event_type_name(99), "unknown");
}

int add_lib_tests(void)
{
	CU_pSuite s = CU_add_suite("libgpudmalock", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "open failures", test_open_failures) ||
	    !CU_add_test(s, "NULL handle", test_null_handle) ||
	    !CU_add_test(s, "bad arguments", test_bad_arguments) ||
	    !CU_add_test(s, "not the device (/dev/null)", test_not_the_device) ||
	    !CU_add_test(s, "binding list arguments", test_binding_args) ||
	    !CU_add_test(s, "cgroup id of a path", test_cgroup_id) ||
	    !CU_add_test(s, "parse_size", test_parse_size) ||
	    !CU_add_test(s, "strerror for every documented errno", test_strerror_documented) ||
	    !CU_add_test(s, "event type names", test_event_names) ||
	    !CU_add_test(s, "holders table", test_holders))
		return -1;
	return 0;
}

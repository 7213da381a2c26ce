// SPDX-License-Identifier: GPL-2.0
/*
 * The ctl's pure parts: argument parsers and formatters, device and agent
 * selectors, the JSON writer's escaping and the policy file parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "json.h"
#include "policy.h"
#include "tests.h"

static void test_numbers(void)
{
	uint64_t v;
	uint32_t u;

	CU_ASSERT_EQUAL(gdlu_parse_u64("0x1000", &v), 0);
	CU_ASSERT_EQUAL(v, 0x1000);
	CU_ASSERT_EQUAL(gdlu_parse_u64("42", &v), 0);
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_EQUAL(gdlu_parse_u64("-1", &v), -EINVAL);
	/* status: unhealthy outranks permission, whatever the numbers. */
	CU_ASSERT(ctl_status_worse(EXIT_UNHEALTHY, EXIT_PERM));
	CU_ASSERT(!ctl_status_worse(EXIT_PERM, EXIT_UNHEALTHY));
	CU_ASSERT(ctl_status_worse(EXIT_ABSENT, EXIT_UNHEALTHY));
	CU_ASSERT(ctl_status_worse(EXIT_PERM, EXIT_STALE));
	CU_ASSERT(!ctl_status_worse(EXIT_STALE, EXIT_STALE));
	/* Not octal: 010 is ten. */
	CU_ASSERT_EQUAL(gdlu_parse_u64("010", &v), 0);
	CU_ASSERT_EQUAL(v, 10);
	CU_ASSERT_EQUAL(gdlu_parse_u64("08", &v), 0);
	CU_ASSERT_EQUAL(v, 8);
	CU_ASSERT_EQUAL(gdlu_parse_u64("0x", &v), -EINVAL);
	CU_ASSERT_EQUAL(gdlu_parse_u64("0x-1", &v), -EINVAL);
	CU_ASSERT_EQUAL(gdlu_parse_u64("", &v), -EINVAL);
	CU_ASSERT_EQUAL(gdlu_parse_u64("12k", &v), -EINVAL);
	CU_ASSERT_EQUAL(gdlu_parse_u64("99999999999999999999", &v), -ERANGE);
	CU_ASSERT_EQUAL(gdlu_parse_u32("4294967295", &u), 0);
	CU_ASSERT_EQUAL(gdlu_parse_u32("4294967296", &u), -ERANGE);
	CU_ASSERT_EQUAL(ctl_parse_size("16G", &v), 0);
	CU_ASSERT_EQUAL(v, 16ULL << 30);
	CU_ASSERT_EQUAL(ctl_parse_size("1G\n", &v), -EINVAL);
	CU_ASSERT_EQUAL(ctl_parse_size("G", &v), -EINVAL);
}

static void test_rights(void)
{
	uint32_t r;
	char b[4];

	CU_ASSERT_EQUAL(ctl_parse_rights("rw", &r), 0);
	CU_ASSERT_EQUAL(r, GDL_ACCESS_READ | GDL_ACCESS_WRITE);
	CU_ASSERT_EQUAL(ctl_parse_rights("w", &r), 0);
	CU_ASSERT_EQUAL(r, GDL_ACCESS_WRITE);
	CU_ASSERT_EQUAL(ctl_parse_rights("p", &r), 0);
	CU_ASSERT_EQUAL(r, GDL_ACCESS_PEER);
	CU_ASSERT_EQUAL(ctl_parse_rights("rp", &r), -EINVAL);
	CU_ASSERT_EQUAL(ctl_parse_rights("rr", &r), -EINVAL);
	CU_ASSERT_EQUAL(ctl_parse_rights("x", &r), -EINVAL);
	CU_ASSERT_EQUAL(ctl_parse_rights("", &r), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ctl_rights_str(GDL_ACCESS_READ | GDL_ACCESS_WRITE, b), "rw");
	CU_ASSERT_STRING_EQUAL(ctl_rights_str(GDL_ACCESS_PEER, b), "p");
	CU_ASSERT_STRING_EQUAL(ctl_rights_str(0, b), "");
}

static void test_fmt_size(void)
{
	char b[24];

	CU_ASSERT_STRING_EQUAL(gdlu_fmt_size(0, b, sizeof(b)), "0");
	CU_ASSERT_STRING_EQUAL(gdlu_fmt_size(1023, b, sizeof(b)), "1023");
	CU_ASSERT_STRING_EQUAL(gdlu_fmt_size(1024, b, sizeof(b)), "1K");
	CU_ASSERT_STRING_EQUAL(gdlu_fmt_size(512ULL << 20, b, sizeof(b)), "512M");
	CU_ASSERT_STRING_EQUAL(gdlu_fmt_size(3ULL << 29, b, sizeof(b)), "1.5G");
	CU_ASSERT_STRING_EQUAL(gdlu_fmt_size(16ULL << 40, b, sizeof(b)), "16T");
	CU_ASSERT_STRING_EQUAL(gdlu_fmt_size(~0ULL, b, sizeof(b)), "unlimited");
}

static void test_pci(void)
{
	uint32_t dom, bdf;
	char b[32];

	/* The grammar is the shared one (tests/unit/test_parse.c). */
	CU_ASSERT_EQUAL(gdl_parse_pci_addr("0000:03:00.1", &dom, &bdf), 0);
	CU_ASSERT_EQUAL(dom, 0);
	CU_ASSERT_EQUAL(bdf, 3 << 8 | 0 << 3 | 1);
	gdlu_fmt_pci_addr(dom, bdf, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "0000:03:00.1");
	/* NVML's 8-digit domain reads back in lspci's spelling. */
	CU_ASSERT_EQUAL(gdl_parse_pci_addr("00000001:B3:1f.7", &dom, &bdf), 0);
	gdlu_fmt_pci_addr(dom, bdf, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "0001:b3:1f.7");
}

static void test_selectors(void)
{
	struct gdl_device_info d[2];
	struct gdl_agent_info a[2];

	memset(d, 0, sizeof(d));
	d[0].index = 0;
	strcpy(d[0].name, "0000:00:04.0");
	d[0].flags = GDL_DEV_F_PCI;
	d[0].pci_bdf = 4 << 3;
	d[1].index = 5;
	strcpy(d[1].name, "scratch");
	d[1].flags = GDL_DEV_F_MANUAL;
	CU_ASSERT_EQUAL(gdlu_find_device(d, 2, "5"), 1);
	CU_ASSERT_EQUAL(gdlu_find_device(d, 2, "scratch"), 1);
	CU_ASSERT_EQUAL(gdlu_find_device(d, 2, "00:04.0"), 0);
	/* As nvidia-smi prints it (the interposer always read this one). */
	CU_ASSERT_EQUAL(gdlu_find_device(d, 2, "00000000:00:04.0"), 0);
	CU_ASSERT_EQUAL(gdlu_find_device(d, 2, "0"), 0);
	CU_ASSERT_EQUAL(gdlu_find_device(d, 2, "1"), -ENODEV);
	CU_ASSERT_EQUAL(gdlu_find_device(d, 2, "gpu9"), -ENODEV);
	memset(a, 0, sizeof(a));
	a[0].id = 7;
	strcpy(a[0].name, "train");
	a[1].id = 9;
	strcpy(a[1].name, "7");
	CU_ASSERT_EQUAL(ctl_find_agent(a, 2, "train"), 0);
	CU_ASSERT_EQUAL(ctl_find_agent(a, 2, "7"), 1);	/* a name wins over an id */
	CU_ASSERT_EQUAL(ctl_find_agent(a, 2, "9"), 1);
	CU_ASSERT_EQUAL(ctl_find_agent(a, 2, "infer"), -ENOENT);
}

static void test_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	jw_init(&w, f, false);
	jw_obj(&w, NULL);
	jw_str(&w, "s", "a\"b\\c\n\x01");
	jw_size(&w, "q", ~0ULL);
	jw_u64(&w, "n", 5);
	jw_arr(&w, "e");
	jw_end(&w, ']');
	jw_bool(&w, "t", true);
	jw_end(&w, '}');
	jw_done(&w);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"q\":null,\"n\":5,\"e\":[],\"t\":true}\n");
	free(buf);
}

static int parse_str(const char *text, struct policy *p, char *err, size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	if (!f)
		return -ENOMEM;
	ret = policy_parse(f, "test.policy", p, err, len);
	fclose(f);
	return ret;
}

static void test_policy_ok(void)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"device 0 capacity 16G\n"
		"device scratch capacity 1G declare   # trailing comment\n"
		"agent train\n"
		"quota train all 4G\n"
		"quota train 0 unlimited\n"
		"bind train cgroup /sys/fs/cgroup/train\n"
		"bind train pid 42\n"
		"acl train 1 rw addr 0x1000 len 4K\n"
		"peer train 0 1\n"
		"agent infer max-acl-entries 7 max-reservations 0\n"
		"dmem 0000:03:00.0 drm/0000:03:00.0/vram1\n"
		"dmem 1 none\n";
	struct policy p;
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(parse_str(text, &p, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(p.n, 12);
	CU_ASSERT_EQUAL(p.l[0].kind, POL_DEVICE);
	CU_ASSERT_EQUAL(p.l[0].lineno, 3);
	CU_ASSERT_EQUAL(p.l[0].size, 16ULL << 30);
	CU_ASSERT(!p.l[0].declare);
	CU_ASSERT(p.l[1].declare && p.l[1].has_capacity);
	CU_ASSERT_STRING_EQUAL(p.l[1].a, "scratch");
	CU_ASSERT_EQUAL(p.l[2].kind, POL_AGENT);
	CU_ASSERT(!p.l[2].has_max_res && !p.l[2].has_max_acl);
	CU_ASSERT(p.l[9].kind == POL_AGENT && !strcmp(p.l[9].a, "infer"));
	CU_ASSERT(p.l[9].has_max_res && p.l[9].max_res == 0);
	CU_ASSERT(p.l[9].has_max_acl && p.l[9].max_acl == 7);
	CU_ASSERT(p.l[3].kind == POL_QUOTA && p.l[3].all && p.l[3].size == 4ULL << 30);
	CU_ASSERT(!p.l[4].all && p.l[4].size == GDL_QUOTA_UNLIMITED);
	CU_ASSERT(p.l[5].kind == POL_BIND_CGROUP && !strcmp(p.l[5].b, "/sys/fs/cgroup/train"));
	CU_ASSERT(p.l[6].kind == POL_BIND_PID && p.l[6].pid == 42);
	CU_ASSERT(p.l[7].kind == POL_ACL && p.l[7].addr == 0x1000 && p.l[7].len == 4096 &&
		  p.l[7].rights == (GDL_ACCESS_READ | GDL_ACCESS_WRITE));
	CU_ASSERT(p.l[8].kind == POL_PEER && !strcmp(p.l[8].c, "1"));
	CU_ASSERT(p.l[10].kind == POL_DMEM && !strcmp(p.l[10].a, "0000:03:00.0") &&
		  !strcmp(p.l[10].b, "drm/0000:03:00.0/vram1"));
	CU_ASSERT(p.l[11].kind == POL_DMEM && !strcmp(p.l[11].b, "none"));
	policy_free(&p);
}

/* Each bad line fails with the file, the line number and a reason. */
static void test_policy_errors(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "frobnicate x\n", "test.policy:1: unknown statement 'frobnicate'" },
		{ "\nagent\n", "test.policy:2: usage: agent NAME" },
		{ "agent aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "too long" },
		{ "agent a max-reservations\n", "usage: agent NAME" },
		{ "agent a max-reservations 1 max-reservations 2\n", "usage: agent NAME" },
		{ "agent a quota 1\n", "usage: agent NAME" },
		{ "agent a max-acl-entries -1\n", "'-1' is not a number" },
		{ "agent bad/name\n", "'bad/name' is not a valid name" },
		{ "agent a max-reservations 1 x\n", "usage: agent NAME" },
		{ "quota a 0 12X\n", "quota '12X' is not a size" },
		{ "quota a 0\n", "usage: quota" },
		{ "device 0\n", "sets nothing" },
		{ "device 0 capacity\n", "unexpected 'capacity'" },
		{ "device 0 capacity 1G capacity 2G\n", "unexpected 'capacity'" },
		{ "bind a cgroup relative/path\n", "must be absolute" },
		{ "bind a pid 0\n", "is not a pid" },
		{ "bind a user 3\n", "usage: bind" },
		{ "acl a 0 rw addr 0\n", "needs 'len SIZE'" },
		{ "acl a 0 p len 4K\n", "rights 'p'" },
		{ "acl a 0 rw addr 0xffffffffffffffff len 2\n", "overflows" },
		{ "acl a 0 rw len 4K extra\n", "unexpected 'extra'" },
		{ "peer a 0 0\n", "two different devices" },
		{ "dmem 0\n", "usage: dmem DEV REGION|none" },
		{ "dmem 0 a b\n", "usage: dmem DEV REGION|none" },
		{ "dmem 0 drm/\001\n", "is not a dmem region name" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy p;
		char err[256] = "";
		int ret = parse_str(bad[i].text, &p, err, sizeof(err));

		CU_ASSERT_EQUAL(ret, -EINVAL);
		if (!strstr(err, bad[i].want) || strncmp(err, "test.policy:", 12)) {
			fprintf(stderr, "\npolicy '%s': got '%s', want '%s'\n",
				bad[i].text, err, bad[i].want);
			CU_FAIL("error message");
		}
		CU_ASSERT_PTR_NULL(p.l);
	}
}

int add_ctl_tests(void)
{
	CU_pSuite s = CU_add_suite("gpu-dma-lock-ctl", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "numbers and sizes", test_numbers) ||
	    !CU_add_test(s, "rights", test_rights) ||
	    !CU_add_test(s, "size formatting", test_fmt_size) ||
	    !CU_add_test(s, "PCI addresses", test_pci) ||
	    !CU_add_test(s, "device and agent selectors", test_selectors) ||
	    !CU_add_test(s, "JSON writer", test_json) ||
	    !CU_add_test(s, "policy file", test_policy_ok) ||
	    !CU_add_test(s, "policy file errors", test_policy_errors))
		return -1;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* gdl_parse.c: sizes and PCI id lists, as module parameters spell them. */
#include <errno.h>

#include "helpers.h"

static void size_ok(const char *s, unsigned long long want)
{
	unsigned long long v = 12345;
	int ret = gdl_parse_size(s, &v);

	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_EQUAL(v, want);
	if (ret || v != want)
		fprintf(stderr, "\n  parse_size(\"%s\") = %d, %llu\n", s, ret, v);
}

static void size_err(const char *s, int err)
{
	unsigned long long v = 12345;
	int ret = gdl_parse_size(s, &v);

	CU_ASSERT_EQUAL(ret, err);
	CU_ASSERT_EQUAL(v, 12345);	/* untouched on error */
	if (ret != err)
		fprintf(stderr, "\n  parse_size(\"%s\") = %d\n", s, ret);
}

static void test_size_plain(void)
{
	size_ok("0", 0);
	size_ok("4096", 4096);
	size_ok("4096\n", 4096);
	size_ok("12B", 12);
	size_ok("12b", 12);
	size_ok("18446744073709551615", ~0ULL);
	size_err("18446744073709551616", -ERANGE);
	size_err("99999999999999999999999", -ERANGE);
}

static void test_size_suffixes(void)
{
	size_ok("1K", 1024);
	size_ok("1k", 1024);
	size_ok("512K", 512ULL << 10);
	size_ok("1KB", 1024);
	size_ok("1KiB", 1024);
	size_ok("1kib", 1024);
	size_ok("3M", 3ULL << 20);
	size_ok("3MiB\n", 3ULL << 20);
	size_ok("16G", 16ULL << 30);
	size_ok("16GB", 16ULL << 30);
	size_ok("2T", 2ULL << 40);
	size_ok("2TiB", 2ULL << 40);
	size_ok("0G", 0);
	size_ok("16777215T", 16777215ULL << 40);
	size_err("16777216T", -ERANGE);
	size_ok("17179869183G", 17179869183ULL << 30);
	size_err("17179869184G", -ERANGE);
}

static void test_size_words(void)
{
	size_ok("unlimited", ~0ULL);
	size_ok("UNLIMITED\n", ~0ULL);
	size_ok("max", ~0ULL);
	size_ok("Max\n", ~0ULL);
	size_err("unlimitedx", -EINVAL);
	size_err("unlimited\n\n", -EINVAL);
	size_err("unlim", -EINVAL);
}

static void test_size_garbage(void)
{
	unsigned long long v;

	size_err("", -EINVAL);
	size_err("\n", -EINVAL);
	size_err("K", -EINVAL);
	size_err("-1", -EINVAL);
	size_err("+1", -EINVAL);
	size_err(" 1", -EINVAL);
	size_err("1 ", -EINVAL);
	size_err("1.5G", -EINVAL);
	size_err("1Ki", -EINVAL);
	size_err("1iB", -EINVAL);
	size_err("1KBB", -EINVAL);
	size_err("1X", -EINVAL);
	size_err("1P", -EINVAL);
	size_err("1G\n\n", -EINVAL);
	size_err("0x10", -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_size(NULL, &v), -EINVAL);
}

static void test_pci_ids(void)
{
	struct gdl_pci_id ids[GDL_PCI_IDS_MAX];
	unsigned int nr = 99;

	CU_ASSERT_EQUAL(gdl_parse_pci_ids("10de,1002", ids, 16, &nr), 0);
	CU_ASSERT_EQUAL(nr, 2);
	CU_ASSERT_EQUAL(ids[0].vendor, 0x10de);
	CU_ASSERT_EQUAL(ids[0].device, GDL_PCI_ANY_DEVICE);
	CU_ASSERT_EQUAL(ids[1].vendor, 0x1002);

	CU_ASSERT_EQUAL(gdl_parse_pci_ids("10DE:2330,1234:11e8\n", ids, 16,
					  &nr), 0);
	CU_ASSERT_EQUAL(nr, 2);
	CU_ASSERT_EQUAL(ids[0].vendor, 0x10de);
	CU_ASSERT_EQUAL(ids[0].device, 0x2330);
	CU_ASSERT_EQUAL(ids[1].vendor, 0x1234);
	CU_ASSERT_EQUAL(ids[1].device, 0x11e8);

	CU_ASSERT_EQUAL(gdl_parse_pci_ids("1:2,ffff", ids, 16, &nr), 0);
	CU_ASSERT_EQUAL(nr, 2);
	CU_ASSERT_EQUAL(ids[0].vendor, 1);
	CU_ASSERT_EQUAL(ids[0].device, 2);
	CU_ASSERT_EQUAL(ids[1].vendor, 0xffff);

	/* Empty disables discovery. */
	nr = 99;
	CU_ASSERT_EQUAL(gdl_parse_pci_ids("", ids, 16, &nr), 0);
	CU_ASSERT_EQUAL(nr, 0);
	nr = 99;
	CU_ASSERT_EQUAL(gdl_parse_pci_ids("\n", ids, 16, &nr), 0);
	CU_ASSERT_EQUAL(nr, 0);

	/* Exactly max fits, one more is E2BIG. */
	CU_ASSERT_EQUAL(gdl_parse_pci_ids("1,2,3", ids, 3, &nr), 0);
	CU_ASSERT_EQUAL(nr, 3);
	CU_ASSERT_EQUAL(gdl_parse_pci_ids("1,2,3,4", ids, 3, &nr), -E2BIG);
}

static void test_pci_ids_garbage(void)
{
	static const char *const bad[] = {
		",", "10de,", ",10de", "10de,,1002", "10de:", ":2330",
		"10de0", "10de:23300", "g", "10de 1002", "10de;1002",
		"10de\n\n", "10de\nx", "10de:2330:1", "-1", "10de, 1002",
	};
	struct gdl_pci_id ids[GDL_PCI_IDS_MAX];
	unsigned int i, nr = 77;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = gdl_parse_pci_ids(bad[i], ids, 16, &nr);

		CU_ASSERT_EQUAL(ret, -EINVAL);
		if (ret != -EINVAL)
			fprintf(stderr, "\n  pci_ids(\"%s\") = %d\n", bad[i], ret);
	}
	CU_ASSERT_EQUAL(nr, 77);
	CU_ASSERT_EQUAL(gdl_parse_pci_ids(NULL, ids, 16, &nr), -EINVAL);
}

/* Rights as the /proc check and the ctl read them: one parser for both. */
static void test_rights(void)
{
	static const char *const bad[] = {
		"", "x", "rr", "rwr", "pr", "wp", "R", " r", "r ",
	};
	unsigned int r = 0, i;

	CU_ASSERT(!gdl_parse_rights("r", &r) && r == GDL_ACCESS_READ);
	CU_ASSERT(!gdl_parse_rights("w", &r) && r == GDL_ACCESS_WRITE);
	CU_ASSERT(!gdl_parse_rights("wr", &r) &&
		  r == (GDL_ACCESS_READ | GDL_ACCESS_WRITE));
	CU_ASSERT(!gdl_parse_rights("p", &r) && r == GDL_ACCESS_PEER);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(gdl_parse_rights(bad[i], &r), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_rights(NULL, &r), -EINVAL);
}

void register_parse_suite(void)
{
	CU_pSuite s = CU_add_suite("parse", NULL, NULL);

	ADD_TEST(s, test_size_plain);
	ADD_TEST(s, test_size_suffixes);
	ADD_TEST(s, test_size_words);
	ADD_TEST(s, test_size_garbage);
	ADD_TEST(s, test_pci_ids);
	ADD_TEST(s, test_pci_ids_garbage);
	ADD_TEST(s, test_rights);
}

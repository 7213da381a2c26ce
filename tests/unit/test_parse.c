// SPDX-License-Identifier: GPL-2.0
/*
 * gdl_parse.c: sizes and PCI id lists, as module parameters spell them;
 * rights, and PCI addresses as the ctl, the Slurm plugin and the CUDA
 * interposer read them.
 */
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

static void pci_ok(const char *s, unsigned int dom, unsigned int bdf)
{
	unsigned int d = 12345, b = 12345;
	int ret = gdl_parse_pci_addr(s, &d, &b);

	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_EQUAL(d, dom);
	CU_ASSERT_EQUAL(b, bdf);
	if (ret || d != dom || b != bdf)
		fprintf(stderr, "\n  pci_addr(\"%s\") = %d, %x, %x\n", s, ret, d, b);
}

/* Every spelling the tools print, each with its width of domain. */
static void test_pci_addr(void)
{
	pci_ok("0000:03:00.1", 0, 0x0301);		/* lspci -D, CUDA */
	pci_ok("00000000:65:00.0", 0, 0x6500);		/* NVML */
	pci_ok("00000000:B3:00.0", 0, 0xb300);		/* NVML, upper case */
	pci_ok("10000:e1:1f.7", 0x10000, 0xe1ff);	/* sysfs, VMD domain */
	pci_ok("ffffffff:ff:1f.7", 0xffffffff, 0xffff);
	pci_ok("03:00.0", 0, 0x0300);			/* lspci, no domain */
	pci_ok("3:0.0", 0, 0x0300);
	pci_ok("1:3:4.2", 1, 0x0322);
	pci_ok("0001:00:1F.0", 1, 0x00f8);
}

static void test_pci_addr_garbage(void)
{
	static const char *const bad[] = {
		"", "3", "03", "03:00", "03:00.", "0000:03:00", ":03:00.0",
		"0000::00.0", "0000:03:.0",
		"0000:03:20.0",		/* dev > 1f */
		"0000:03:00.8", "0000:03:00.9", "0000:03:00.a",
		"0000:03:00.00",	/* fn one digit */
		"000000000:03:00.0",	/* domain over 8 digits */
		"0000:003:00.0", "0000:03:000.0", "003:00.0",
		"12345:00.0",		/* a 5-digit bus without a domain */
		"0000:03:00.0x", "0000:03:00.0 ", "0000:03:00.0\n",
		" 0000:03:00.0", "+0:03:00.0", "-1:03:00.0",
		"0x0:03:00.0", "0000:03:00:0", "0000:03.00.0",
		"0:0:03:00.0", "g000:03:00.0", "0000:03:00.0,",
	};
	unsigned int i, d = 77, b = 77;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = gdl_parse_pci_addr(bad[i], &d, &b);

		CU_ASSERT_EQUAL(ret, -EINVAL);
		if (ret != -EINVAL)
			fprintf(stderr, "\n  pci_addr(\"%s\") = %d\n", bad[i], ret);
	}
	CU_ASSERT(d == 77 && b == 77);	/* untouched on error */
	CU_ASSERT_EQUAL(gdl_parse_pci_addr(NULL, &d, &b), -EINVAL);
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

/* What a share of 0 stands for: the module and the ctl both use it. */
static void test_default_share(void)
{
	CU_ASSERT_EQUAL(gdl_default_share(0, 1U << 20), 65536);
	CU_ASSERT_EQUAL(gdl_default_share(0, 15), 1);	/* never 0 */
	CU_ASSERT_EQUAL(gdl_default_share(0, 1), 1);
	CU_ASSERT_EQUAL(gdl_default_share(100, 1000), 100);
	CU_ASSERT_EQUAL(gdl_default_share(5000, 1000), 1000);	/* capped */
}

/* share_key_majors (issue 22 item 2): decimal majors, comma-separated. */
static void test_key_majors(void)
{
	unsigned int m[GDL_KEY_MAJORS_MAX], nr = 99;

	CU_ASSERT_EQUAL(gdl_parse_majors("195", m, 8, &nr), 0);
	CU_ASSERT_EQUAL(nr, 1);
	CU_ASSERT_EQUAL(m[0], 195);
	CU_ASSERT_EQUAL(gdl_parse_majors("195,509,4095\n", m, 8, &nr), 0);
	CU_ASSERT_EQUAL(nr, 3);
	CU_ASSERT_EQUAL(m[1], 509);
	CU_ASSERT_EQUAL(m[2], 4095);
	/* Empty: no character device is a key. */
	nr = 99;
	CU_ASSERT_EQUAL(gdl_parse_majors("", m, 8, &nr), 0);
	CU_ASSERT_EQUAL(nr, 0);
	nr = 99;
	CU_ASSERT_EQUAL(gdl_parse_majors("\n", m, 8, &nr), 0);
	CU_ASSERT_EQUAL(nr, 0);
	CU_ASSERT_EQUAL(gdl_parse_majors("1,2", m, 2, &nr), 0);
	CU_ASSERT_EQUAL(gdl_parse_majors("1,2,3", m, 2, &nr), -E2BIG);
	/* 0 is no major; 4096 is past the 12 bits a major has. */
	CU_ASSERT_EQUAL(gdl_parse_majors("0", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors("4096", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors("99999999999", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors("0xc3", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors("195,", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors(",195", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors("195 ", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors("-1", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors("1\n2", m, 8, &nr), -EINVAL);
	CU_ASSERT_EQUAL(gdl_parse_majors(NULL, m, 8, &nr), -EINVAL);
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
	ADD_TEST(s, test_pci_addr);
	ADD_TEST(s, test_pci_addr_garbage);
	ADD_TEST(s, test_default_share);
	ADD_TEST(s, test_key_majors);
}

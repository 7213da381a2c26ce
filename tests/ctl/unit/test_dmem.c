// SPDX-License-Identifier: GPL-2.0
/*
 * The dmem sync's pure parsers (utils/lib/dmem.c): the lines of
 * dmem.capacity, dmem.max and dmem.current, a device's region by PCI
 * address, and the admin's overrides.  What the kernel prints is trusted
 * for its shape only: a line that is not "NAME VALUE" matches nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dmem.h"
#include "tests.h"

/* As Linux 6.14+ prints them: xe's tile regions, amdgpu's, NVIDIA's. */
static const char *capacity =
	"drm/0000:03:00.0/vram0 17179869184\n"
	"drm/0000:03:00.0/vram1 17179869184\n"
	"drm/0000:04:00.0/vram 8589934592\n"
	"nvidia/0000:81:00.0/vidmem 85899345920\n";

static void test_value(void)
{
	uint64_t v = 0;

	CU_ASSERT_EQUAL(gdlu_dmem_value(capacity, "drm/0000:04:00.0/vram", &v), 0);
	CU_ASSERT_EQUAL(v, 8589934592ULL);
	CU_ASSERT_EQUAL(gdlu_dmem_value("drm/0000:04:00.0/vram max\n",
					"drm/0000:04:00.0/vram", &v), 0);
	CU_ASSERT_EQUAL(v, GDLU_DMEM_MAX);
	/* The last line has no newline: still a line. */
	CU_ASSERT_EQUAL(gdlu_dmem_value("a 1\nb 2", "b", &v), 0);
	CU_ASSERT_EQUAL(v, 2);
	/* A prefix of a name is not the name. */
	CU_ASSERT_EQUAL(gdlu_dmem_value(capacity, "drm/0000:03:00.0/vram", &v), -ENOENT);
	CU_ASSERT_EQUAL(gdlu_dmem_value("", "x", &v), -ENOENT);
	CU_ASSERT_EQUAL(gdlu_dmem_value("x 12k\n", "x", &v), -EBADMSG);
	CU_ASSERT_EQUAL(gdlu_dmem_value("x -1\n", "x", &v), -EBADMSG);
	/* Three words: not a line of these files. */
	CU_ASSERT_EQUAL(gdlu_dmem_value("x 1 2\n", "x", &v), -ENOENT);
}

static void test_region_of(void)
{
	char r[GDLU_DMEM_NAME];

	/* Several regions: the first (tile 0's VRAM on xe). */
	CU_ASSERT_EQUAL(gdlu_dmem_region_of(capacity, "0000:03:00.0", r, sizeof(r)), 0);
	CU_ASSERT_STRING_EQUAL(r, "drm/0000:03:00.0/vram0");
	CU_ASSERT_EQUAL(gdlu_dmem_region_of(capacity, "0000:04:00.0", r, sizeof(r)), 0);
	CU_ASSERT_STRING_EQUAL(r, "drm/0000:04:00.0/vram");
	CU_ASSERT_EQUAL(gdlu_dmem_region_of(capacity, "0000:81:00.0", r, sizeof(r)), 0);
	CU_ASSERT_STRING_EQUAL(r, "nvidia/0000:81:00.0/vidmem");
	CU_ASSERT_EQUAL(gdlu_dmem_region_of(capacity, "0000:05:00.0", r, sizeof(r)), -ENOENT);
	/* The PCI address is the whole second part, not a prefix of it. */
	CU_ASSERT_EQUAL(gdlu_dmem_region_of("drm/0000:03:00.01/vram 1\n",
					    "0000:03:00.0", r, sizeof(r)), -ENOENT);
	CU_ASSERT_EQUAL(gdlu_dmem_region_of("0000:03:00.0 1\n", "0000:03:00.0",
					    r, sizeof(r)), -ENOENT);
	CU_ASSERT_EQUAL(gdlu_dmem_region_of(capacity, "0000:03:00.0", r, 8), -ENAMETOOLONG);
}

static void test_override(void)
{
	static const char *ovr =
		"# admin's overrides\n"
		"\n"
		"0000:03:00.0 drm/0000:03:00.0/vram1   # tile 1\n"
		"0000:04:00.0 none\n";
	char r[GDLU_DMEM_NAME];

	CU_ASSERT_EQUAL(gdlu_dmem_override(ovr, "0000:03:00.0", r, sizeof(r)), 0);
	CU_ASSERT_STRING_EQUAL(r, "drm/0000:03:00.0/vram1");
	CU_ASSERT_EQUAL(gdlu_dmem_override(ovr, "0000:04:00.0", r, sizeof(r)), 0);
	CU_ASSERT_STRING_EQUAL(r, "none");
	CU_ASSERT_EQUAL(gdlu_dmem_override(ovr, "0000:05:00.0", r, sizeof(r)), -ENOENT);
	/* A malformed line refuses the whole file: nothing is guessed. */
	CU_ASSERT_EQUAL(gdlu_dmem_override("0000:03:00.0\n", "0000:05:00.0", r,
					   sizeof(r)), -EBADMSG);
	CU_ASSERT_EQUAL(gdlu_dmem_override("0000:03:00.0 a b\n", "0000:03:00.0", r,
					   sizeof(r)), -EBADMSG);
}

static void test_name_ok(void)
{
	char long_name[GDLU_DMEM_NAME + 1];

	CU_ASSERT_TRUE(gdlu_dmem_name_ok("drm/0000:03:00.0/vram0"));
	CU_ASSERT_FALSE(gdlu_dmem_name_ok(""));
	CU_ASSERT_FALSE(gdlu_dmem_name_ok("a b"));
	CU_ASSERT_FALSE(gdlu_dmem_name_ok("a\nb"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CU_ASSERT_FALSE(gdlu_dmem_name_ok(long_name));
}

int add_dmem_tests(void)
{
	CU_pSuite s = CU_add_suite("dmem parsers", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "dmem file values", test_value) ||
	    !CU_add_test(s, "a device's region by PCI address", test_region_of) ||
	    !CU_add_test(s, "admin overrides", test_override) ||
	    !CU_add_test(s, "region names", test_name_ok))
		return -1;
	return 0;
}

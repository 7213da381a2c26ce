// SPDX-License-Identifier: GPL-2.0
/*
 * Runner of the utils host tests: no module needed.  Ends with the line
 * "utils: N passed, M failed" that tests/check.sh counts.
 */
#include <stdio.h>

#include <CUnit/Basic.h>

#include "tests.h"

int main(void)
{
	unsigned int passed, failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (add_lib_tests() || add_lifecycle_tests() || add_ctl_tests() ||
	    add_oci_tests() || add_hook_tests() || add_dmem_tests()) {
		fprintf(stderr, "cannot register tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* Tests, not asserts: one failed assert fails its test once. */
	failed = CU_get_number_of_tests_failed();
	passed = CU_get_number_of_tests_run() - failed;
	CU_cleanup_registry();
	printf("utils: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/* The unit-test runner: every suite, CUnit's verbose report, a summary. */
#include <stdio.h>

#include <CUnit/Basic.h>

#include "helpers.h"

int main(void)
{
	unsigned int run, failed, asserts_failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	register_parse_suite();
	register_quota_suite();
	register_acl_suite();
	register_lifecycle_suite();
	register_alloc_fail_suite();
	register_event_suite();
	register_isolation_suite();
	register_hotplug_suite();
	register_acl_lock_suite();
	register_share_suite();
	register_concurrency_suite();
	if (CU_get_error() != CUE_SUCCESS) {
		fprintf(stderr, "registry: %s\n", CU_get_error_msg());
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	asserts_failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	printf("\nunit: %u passed, %u failed, 0 skipped\n", run - failed, failed);
	return failed || asserts_failed ? 1 : 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Host unit tests of libgpudmalock and the ctl's helpers (CUnit). */
#ifndef GDL_UTILS_TESTS_H
#define GDL_UTILS_TESTS_H

#include <CUnit/CUnit.h>

int add_lib_tests(void);
int add_ctl_tests(void);
int add_lifecycle_tests(void);
int add_oci_tests(void);
int add_hook_tests(void);
int add_dmem_tests(void);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Case accounting for the C test programs (tests/vm/itest.c,
 * tests/cuda/cudatest.c, tests/hostile/): a line per case, "ok   " or
 * "FAIL" then the section, which the runner scripts grep for, and the
 * counts each program prints last as "NAME: N passed, M failed".
 * T_EXPECT compares as long long, so a 64-bit size is never truncated into
 * a false pass, and names the errno when the result is one.
 */
#ifndef GDL_TCHECK_H
#define GDL_TCHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;
static const char *t_section = "";
/* Print only failures: for suites of thousands of cases. */
static int t_quiet;

static void __attribute__((format(printf, 2, 3), unused))
t_check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok || !t_quiet) {
		printf("%s %s: ", ok ? "ok  " : "FAIL", t_section);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		fflush(stdout);
	}
	if (ok)
		t_passed++;
	else
		t_failed++;
}

/* The file's name without the build's path (gcc 12 and clang have it). */
#ifdef __FILE_NAME__
#define T_FILE __FILE_NAME__
#else
#define T_FILE __FILE__
#endif

/* -4095..-1 is an errno, as the library and raw ioctls return them. */
#define T_ERRNAME(r) ((r) < 0 && (r) > -4096 ? strerror((int)-(r)) : "")

#define T_EXPECT(expr, want) do {					\
	long long _r = (long long)(expr), _w = (long long)(want);	\
	t_check(_r == _w, "%s:%d %s == %s (got %lld%s%s)", T_FILE,	\
		__LINE__, #expr, #want, _r, _r < 0 ? " " : "",		\
		T_ERRNAME(_r));						\
} while (0)

#define T_TRUE(cond) \
	t_check(!!(cond), "%s:%d %s", T_FILE, __LINE__, #cond)

#endif /* GDL_TCHECK_H */

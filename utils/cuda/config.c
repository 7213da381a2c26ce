// SPDX-License-Identifier: LGPL-2.1-or-later
/* Configuration and logging of the interposer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "gdl_cuda.h"

int gdlc_log_level = 1;
int gdlc_fail_open;
uint64_t gdlc_ctx_reserve;

void gdlc_say(int level, const char *fmt, ...)
{
	va_list ap;

	if (gdlc_log_level < level)
		return;
	va_start(ap, fmt);
	fputs("libgpudmalock-cuda: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void gdlc_config_init(void)
{
	const char *s;
	uint64_t v;

	s = getenv("GDL_CUDA_LOG");
	if (s && *s >= '0' && *s <= '2')
		gdlc_log_level = *s - '0';
	s = getenv("GDL_CUDA_FAIL");
	if (s && !strcmp(s, "open"))
		gdlc_fail_open = 1;
	else if (s && *s && strcmp(s, "closed"))
		gdlc_say(1, "GDL_CUDA_FAIL=%s: expected closed or open; using closed", s);
	s = getenv("GDL_CUDA_CTX_RESERVE");
	if (s && *s) {
		if (gdlock_parse_size(s, &v))
			gdlc_say(1, "GDL_CUDA_CTX_RESERVE=%s: not a size; ignored", s);
		else
			gdlc_ctx_reserve = v;
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Two libraries loaded after the interposer, both defining probe_sym
 * (this file built twice, -DPROBE_SECOND for the second).  The first
 * asks dlsym(RTLD_NEXT, "probe_sym"): glibc must still see it as the
 * caller although dlsym is wrapped, and answer with the second library's
 * definition, not its own (the recursion that breaks malloc-style
 * interposers loaded after ours).
 */
#include <dlfcn.h>

int probe_sym(void);
void *probe_next(void);

__attribute__((visibility("default"))) int probe_sym(void)
{
#ifdef PROBE_SECOND
	return 2;
#else
	return 1;
#endif
}

#ifndef PROBE_SECOND
__attribute__((visibility("default"))) void *probe_next(void)
{
	/* volatile: a tail call here would make the program the caller. */
	void *volatile p = dlsym(RTLD_NEXT, "probe_sym");

	return p;
}
#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * A plugin that cudatest loads with RTLD_DEEPBIND (issue 23, item 5): its
 * own lookups would search its dependencies (the fake libcuda.so.1, libc's
 * dlsym) before the preloaded interposer.  Built twice: the plugin, linked
 * to libcuda.so.1 with a RUNPATH of $ORIGIN/sib, and (-DSIBLING) a library
 * in sib/ that only that RUNPATH finds, so that a dlopen wrapper that is not
 * a tail call (glibc would take the interposer for the caller) shows.
 */
#include <dlfcn.h>
#include <stddef.h>

#include "cuda_api.h"

#define API __attribute__((visibility("default")))

#ifdef SIBLING
API int gdl_sibling(void);
API int gdl_sibling(void)
{
	return 42;
}
#else
API CUresult plugin_alloc(CUdeviceptr *p, size_t n);
API void *plugin_dlsym(const char *name);
API void *plugin_load_sibling(void);

/* Linked directly: bound in the plugin's own scope under DEEPBIND. */
API CUresult plugin_alloc(CUdeviceptr *p, size_t n)
{
	return cuMemAlloc_v2(p, n);
}

/* libc's dlsym under DEEPBIND, on its own handle of the driver. */
API void *plugin_dlsym(const char *name)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	void *volatile p = h ? dlsym(h, name) : NULL;

	return p;
}

/* Found through this library's RUNPATH only. */
API void *plugin_load_sibling(void)
{
	void *volatile h = dlopen("libgdl-sibling.so", RTLD_NOW | RTLD_LOCAL);

	return h;
}
#endif

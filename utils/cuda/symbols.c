// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Symbol resolution: every wrapper is reached three ways, and all three
 * are covered:
 *  - direct linking: this library comes first in the global scope;
 *  - dlopen("libcuda.so.1") + dlsym(): dlsym on a handle searches that
 *    library, never LD_PRELOAD objects, so dlsym itself is wrapped;
 *  - cuGetProcAddress(_v2), through which CUDA 11.3+ runtimes fetch every
 *    entry point: the pointer the driver returns is swapped for ours.
 * The real functions come from our own dlopen of libcuda.so.1 and the real
 * dlsym, so a wrapper can never call itself.
 * A library loaded with RTLD_DEEPBIND would look its symbols up in its own
 * dependencies first (libcuda.so.1, libc's dlsym), ahead of this library:
 * dlopen is wrapped to drop that flag (issue 23, item 5).
 */
#include <dlfcn.h>

#include "gdl_cuda.h"

typedef void *dlsym_fn(void *, const char *);
typedef void *dlopen_fn(const char *, int);

const struct gdlc_wrapped gdlc_wrapped[NR_WRAPPED] = {
#define X(sym, b, ptsz, l) \
	[IDX_##sym] = { .name = #sym, .base = b, .per_thread = ptsz, \
			.lib = l, .wrapper = (void *)sym },
	GDL_CUDA_WRAPPED(X)
#undef X
};

static void *real_ptr[NR_WRAPPED];
static dlsym_fn *real_dlsym_fn;
static dlopen_fn *real_dlopen_fn;
static void *lib_handle[2];
static const char *const lib_name[2] = { "libcuda.so.1", "libnvidia-ml.so.1" };

/*
 * The real dlsym, by version so the lookup cannot come back to our own
 * dlsym.  GLIBC_2.34 moved it into libc; GLIBC_2.2.5 is x86_64's original.
 */
static dlsym_fn *real_dlsym(void)
{
	dlsym_fn *f = __atomic_load_n(&real_dlsym_fn, __ATOMIC_ACQUIRE);

	if (!f) {
		f = (dlsym_fn *)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
		if (!f)
			f = (dlsym_fn *)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
		__atomic_store_n(&real_dlsym_fn, f, __ATOMIC_RELEASE);
	}
	return f;
}

/* The real dlopen, the same way (GLIBC_2.34 in libc, else 2.2.5). */
static dlopen_fn *real_dlopen(void)
{
	dlopen_fn *f = __atomic_load_n(&real_dlopen_fn, __ATOMIC_ACQUIRE);

	if (!f) {
		f = (dlopen_fn *)dlvsym(RTLD_NEXT, "dlopen", "GLIBC_2.34");
		if (!f)
			f = (dlopen_fn *)dlvsym(RTLD_NEXT, "dlopen", "GLIBC_2.2.5");
		__atomic_store_n(&real_dlopen_fn, f, __ATOMIC_RELEASE);
	}
	return f;
}

void gdlc_symbols_init(void)
{
	real_dlsym();
	real_dlopen();
}

/* Racing first calls both dlopen the same library: harmless, refcounted. */
void *gdlc_lib_sym(int lib, const char *name)
{
	void *h = __atomic_load_n(&lib_handle[lib], __ATOMIC_ACQUIRE);
	dlsym_fn *ds = real_dlsym();

	if (!h) {
		h = dlopen(lib_name[lib], RTLD_NOW | RTLD_LOCAL);
		if (!h)
			return NULL;
		__atomic_store_n(&lib_handle[lib], h, __ATOMIC_RELEASE);
	}
	return ds ? ds(h, name) : NULL;
}

void *gdlc_real_fn(int idx)
{
	void *p = __atomic_load_n(&real_ptr[idx], __ATOMIC_ACQUIRE);

	if (!p) {
		p = gdlc_lib_sym(gdlc_wrapped[idx].lib, gdlc_wrapped[idx].name);
		__atomic_store_n(&real_ptr[idx], p, __ATOMIC_RELEASE);
	}
	return p;
}

static int wrapped_index(const char *name)
{
	int i;

	if (!name || (strncmp(name, "cu", 2) && strncmp(name, "nvml", 4)))
		return -1;
	for (i = 0; i < NR_WRAPPED; i++)
		if (!strcmp(gdlc_wrapped[i].name, name))
			return i;
	return -1;
}

/* ---- cuGetProcAddress ---- */

/*
 * The wrapper for the entry point @p the driver returned for @symbol.  The
 * driver picks the ABI version from cudaVersion and flags; matching the
 * pointer against the real address of each version we wrap keeps that
 * choice, and a refused (32-bit) ABI is refused here already.  A pointer
 * we do not recognise for a name we wrap is a version we do not know (a
 * future _v5): any of our wrappers would call it with another signature,
 * and passing it out would leave it unaccounted, so it is refused; unless
 * it is exactly an exported symbol whose name we wrap (the same ABI).
 */
static void *wrap_proc(const char *symbol, void *p, CUresult *e)
{
	int i, known = 0;
	Dl_info info;

	for (i = 0; i < NR_WRAPPED; i++) {
		if (gdlc_wrapped[i].lib != GDL_LIB_CUDA)
			continue;
		if (gdlc_real_fn(i) == p)
			goto found;
		if (!strcmp(gdlc_wrapped[i].base, symbol) ||
		    !strcmp(gdlc_wrapped[i].name, symbol))
			known = 1;
	}
	if (!known)
		return p;
	if (dladdr(p, &info) && info.dli_saddr == p &&
	    (i = wrapped_index(info.dli_sname)) >= 0 &&
	    gdlc_wrapped[i].lib == GDL_LIB_CUDA)
		goto found;
	gdlc_say(1, "%s: the driver returned a version the interposer does not know; refused",
		 symbol);
	*e = CUDA_ERROR_NOT_SUPPORTED;
	return NULL;
found:
	if (gdlc_refused_abi(i)) {
		gdlc_say(1, "%s: legacy ABI %s requested through cuGetProcAddress; refused",
			 symbol, gdlc_wrapped[i].name);
		*e = CUDA_ERROR_NOT_SUPPORTED;
		return NULL;
	}
	return gdlc_wrapped[i].wrapper;
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn,
				 int cudaVersion, cuuint64_t flags)
{
	__typeof__(cuGetProcAddress) *f = REAL(cuGetProcAddress);
	CUresult e;

	CHECK_REAL(f);
	e = f(symbol, pfn, cudaVersion, flags);
	if (e == CUDA_SUCCESS && pfn && *pfn && symbol)
		*pfn = wrap_proc(symbol, *pfn, &e);
	return e;
}

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn,
				    int cudaVersion, cuuint64_t flags,
				    CUdriverProcAddressQueryResult *status)
{
	__typeof__(cuGetProcAddress_v2) *f = REAL(cuGetProcAddress_v2);
	CUresult e;

	CHECK_REAL(f);
	e = f(symbol, pfn, cudaVersion, flags, status);
	if (e == CUDA_SUCCESS && pfn && *pfn && symbol) {
		*pfn = wrap_proc(symbol, *pfn, &e);
		if (e && status)
			*status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
	}
	return e;
}

/* ---- dlsym ---- */

/*
 * dlsym(handle, "cuMemAlloc_v2") is how runtimes and Python bindings reach
 * the driver.  Anything else goes to the real dlsym as a tail call, so
 * that glibc still sees the caller's return address (RTLD_NEXT is relative
 * to the caller).  tests/cuda checks that RTLD_NEXT still works.
 */
EXPORT void *dlsym(void *handle, const char *name)
{
	dlsym_fn *ds = real_dlsym();
	int i = wrapped_index(name);

	if (!ds)
		return NULL;
	if (i >= 0)
		return ds(handle, name) ? gdlc_wrapped[i].wrapper : NULL;
	return ds(handle, name);
}

/* ---- dlopen ---- */

/*
 * RTLD_DEEPBIND puts a library's own dependencies ahead of the global
 * scope for its lookups: its libcuda calls and its dlsym would bind to
 * the driver and libc, never to this library.  The flag is dropped (the
 * library then sees the global scope first, as without it: a plugin
 * that relied on it to shadow another library's symbols gets the global
 * ones).  The real dlopen is reached as a tail call, so glibc still sees
 * the caller (its RUNPATH, its namespace); tests/cuda checks it.
 */
EXPORT void *dlopen(const char *file, int flags)
{
	static int warned;
	dlopen_fn *f = real_dlopen();

	if (!f)
		return NULL;
	if (flags & RTLD_DEEPBIND) {
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			gdlc_say(1, "%s: RTLD_DEEPBIND dropped, so that its CUDA calls are accounted",
				 file ? file : "(main program)");
		flags &= ~RTLD_DEEPBIND;
	}
	return f(file, flags);
}

/* For the tests: every wrapped symbol, in GDL_CUDA_WRAPPED order. */
EXPORT unsigned int gdlcuda_wrapped(const char *const **names)
{
	static const char *const list[] = {
#define X(sym, base, ptsz, lib) #sym,
		GDL_CUDA_WRAPPED(X)
#undef X
	};

	*names = list;
	return NR_WRAPPED;
}

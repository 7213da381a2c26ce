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
 */
#include <dlfcn.h>

#include "gdl_cuda.h"

typedef void *dlsym_fn(void *, const char *);

const struct gdlc_wrapped gdlc_wrapped[NR_WRAPPED] = {
#define X(sym, b, ptsz, l) \
	[IDX_##sym] = { .name = #sym, .base = b, .per_thread = ptsz, \
			.lib = l, .wrapper = (void *)sym },
	GDL_CUDA_WRAPPED(X)
#undef X
};

static void *real_ptr[NR_WRAPPED];
static dlsym_fn *real_dlsym_fn;
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

void gdlc_symbols_init(void)
{
	real_dlsym();
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

/* ---- cuGetProcAddress ---- */

static int warned_by_name;

/*
 * The wrapper for the entry point @p the driver returned for @symbol.  The
 * driver picks the ABI version from cudaVersion and flags; matching the
 * pointer against our versions' real addresses keeps that choice.  An
 * unknown pointer for a wrapped name is matched by name and stream
 * flavour, except the unversioned legacy symbol of a function whose
 * current ABI is a _v2 (a different signature): that is refused rather
 * than passed through unaccounted.
 */
static void *wrap_proc(const char *symbol, void *p, cuuint64_t flags,
		       CUresult *e)
{
	int per_thread = !!(flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
	int i, by_name = -1, known = 0;

	for (i = 0; i < NR_WRAPPED; i++) {
		if (gdlc_wrapped[i].lib != GDL_LIB_CUDA)
			continue;
		if (gdlc_real_fn(i) == p)
			return gdlc_wrapped[i].wrapper;
		if (strcmp(gdlc_wrapped[i].base, symbol))
			continue;
		known = 1;
		if (gdlc_wrapped[i].per_thread == per_thread || by_name < 0)
			by_name = i;
	}
	if (!known)
		return p;
	if (p == gdlc_lib_sym(GDL_LIB_CUDA, symbol)) {
		gdlc_say(1, "%s: legacy ABI requested through cuGetProcAddress; refused", symbol);
		*e = CUDA_ERROR_NOT_SUPPORTED;
		return NULL;
	}
	if (!__atomic_exchange_n(&warned_by_name, 1, __ATOMIC_RELAXED))
		gdlc_say(1, "%s: driver returned an unknown entry point; wrapping it by name", symbol);
	return gdlc_wrapped[by_name].wrapper;
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn,
				 int cudaVersion, cuuint64_t flags)
{
	__typeof__(cuGetProcAddress) *f = REAL(cuGetProcAddress);
	CUresult e;

	CHECK_REAL(f);
	e = f(symbol, pfn, cudaVersion, flags);
	if (e == CUDA_SUCCESS && pfn && *pfn && symbol)
		*pfn = wrap_proc(symbol, *pfn, flags, &e);
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
		*pfn = wrap_proc(symbol, *pfn, flags, &e);
		if (e && status)
			*status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
	}
	return e;
}

/* ---- dlsym ---- */

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

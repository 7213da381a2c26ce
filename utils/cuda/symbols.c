// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Symbol resolution: every wrapper is reached three ways, and all three
 * are covered:
 *  - direct linking: this library comes first in the global scope;
 *  - dlopen("libcuda.so.1") + dlsym(): dlsym on a handle searches that
 *    library, never LD_PRELOAD objects, so dlsym itself is wrapped;
 *  - cuGetProcAddress(_v2), through which CUDA 11.3+ runtimes fetch every
 *    entry point: the pointer the driver returns is swapped for ours,
 *    chosen by name and version (proc_versions.h).
 * The real functions come from our own dlopen of libcuda.so.1 and the real
 * dlsym, so a wrapper can never call itself.
 * A library loaded with RTLD_DEEPBIND would look its symbols up in its own
 * dependencies first (libcuda.so.1, libc's dlsym), ahead of this library:
 * dlopen is wrapped to drop that flag (issue 23, item 5).
 */
#include <dlfcn.h>

#include "gdl_cuda.h"
#include "proc_versions.h"

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
 * cuGetProcAddress(symbol, &pfn, cudaVersion, flags) is documented by name
 * and version: the base name (no _v2, _ptds, _ptsz) and cudaVersion select
 * one ABI, the per-thread-default-stream flag its _ptds/_ptsz flavour.
 * proc_versions.h (generated from cudaTypedefs.h by gen_proc_versions.py)
 * says, for each base name we wrap, which exported symbol each version is.
 * The name decides when the pointer the driver returned is no function we
 * know, because a driver may hand out an internal pointer (a trampoline)
 * for a public name (issue 23, item 13).  When the pointer is exactly an
 * exported function we wrap, that function's wrapper is taken even if the
 * table says otherwise: the program then calls our wrapper with the very
 * arguments it would have passed the driver's function, as without the
 * interposer, whereas the table's choice could call another ABI.
 */
static const struct proc_version {
	const char *base;
	int version, per_thread, idx;
} proc_versions[] = {
#define X(b, v, pt, sym) { b, v, pt, IDX_##sym },
	GDL_CUDA_PROC_VERSIONS(X)
#undef X
};

#define NR_PROC_VERSIONS (sizeof(proc_versions) / sizeof(proc_versions[0]))

/* The driver's own version: it never returns an ABI newer than itself. */
static int driver_version(void)
{
	static int cached;
	int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (!v) {
		CUresult (*f)(int *) = (CUresult (*)(int *))
			gdlc_lib_sym(GDL_LIB_CUDA, "cuDriverGetVersion");

		if (!f || f(&v) != CUDA_SUCCESS || v <= 0)
			v = 0x7fffffff;		/* unknown: cudaVersion decides */
		__atomic_store_n(&cached, v, __ATOMIC_RELAXED);
	}
	return v;
}

/*
 * The wrapped index that base name @symbol means at @version with the
 * per-thread flag @pt: the default ABI with the largest version <=
 * @version, or its per-thread flavour when one as new exists.  *@intro is
 * the version that ABI appeared in.  -2: not a base name we wrap; -1: one,
 * but no ABI we know is that old.
 */
static int proc_by_name(const char *symbol, int version, int pt, int *intro)
{
	int d = -1, t = -1, base = 0;
	size_t i;

	for (i = 0; i < NR_PROC_VERSIONS; i++) {
		const struct proc_version *v = &proc_versions[i];

		if (strcmp(v->base, symbol))
			continue;
		base = 1;
		if (v->version > version)
			continue;
		if (!v->per_thread)
			d = i;		/* sorted by version within a flavour */
		else if (pt)
			t = i;
	}
	if (!base)
		return -2;
	if (t >= 0 && (d < 0 || proc_versions[t].version >= proc_versions[d].version))
		d = t;
	if (d < 0)
		return -1;
	*intro = proc_versions[d].version;
	return proc_versions[d].idx;
}

/* The wrapped CUDA function whose real address is @p, by identity. */
static int proc_by_pointer(void *p)
{
	Dl_info info;
	int i;

	for (i = 0; i < NR_WRAPPED; i++)
		if (gdlc_wrapped[i].lib == GDL_LIB_CUDA && gdlc_real_fn(i) == p)
			return i;
	/* An exported symbol of another copy of the driver, by its name. */
	if (dladdr(p, &info) && info.dli_saddr == p &&
	    (i = wrapped_index(info.dli_sname)) >= 0 &&
	    gdlc_wrapped[i].lib == GDL_LIB_CUDA)
		return i;
	return -1;
}

/* What the driver returns for @symbol at @version, or NULL. */
static void *proc_query(const char *symbol, int version, cuuint64_t flags)
{
	__typeof__(cuGetProcAddress_v2) *f2 = REAL(cuGetProcAddress_v2);
	__typeof__(cuGetProcAddress) *f1 = REAL(cuGetProcAddress);
	CUdriverProcAddressQueryResult st;
	void *q = NULL;

	if (f2 ? f2(symbol, &q, version, flags, &st) :
	    f1 ? f1(symbol, &q, version, flags) : CUDA_ERROR_NOT_FOUND)
		return NULL;
	return q;
}

static void proc_disagree(const char *symbol, int by_ptr, int by_name)
{
	static int said;

	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		gdlc_say(1, "cuGetProcAddress(%s): the driver returned %s, the name and version say %s; the driver's function is wrapped (said once)",
			 symbol, gdlc_wrapped[by_ptr].name, gdlc_wrapped[by_name].name);
}

/*
 * The wrapper for the entry point @p the driver returned for @symbol at
 * @version with @flags.
 *  - A base name we wrap: the name and version decide (proc_by_name), with
 *    the version capped at the driver's own.  If the pointer is another
 *    wrapped function, that is said once and its wrapper taken.  If it is no
 *    function we know (an internal pointer, or a version newer than
 *    proc_versions.h), the driver is asked again at the version the named
 *    ABI appeared in: the same pointer is that ABI, another one is a newer
 *    ABI that any of our wrappers would call with the wrong signature, so
 *    it is refused.  A version older than every ABI we know is refused.
 *  - An exact exported name we wrap (cuMemAlloc_v2, cuMemcpy_ptds): that
 *    symbol's ABI is fixed, so its wrapper.
 *  - Any other name: passed through, unless the pointer is a function we
 *    wrap (an alias we do not know of): then its wrapper, never open.
 * A refused (32-bit) ABI is refused here already.
 */
static void *wrap_proc(const char *symbol, void *p, int version,
		       cuuint64_t flags, CUresult *e)
{
	int pt = !!(flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
	int i, by_ptr = proc_by_pointer(p), intro = 0, dv = driver_version();

	i = proc_by_name(symbol, version < dv ? version : dv, pt, &intro);
	if (i == -2) {
		i = wrapped_index(symbol);
		if (i >= 0 && gdlc_wrapped[i].lib != GDL_LIB_CUDA)
			i = -1;
		if (i < 0) {
			if (by_ptr < 0)
				return p;	/* not ours */
			i = by_ptr;		/* an alias of a wrapped function */
			goto found;
		}
		intro = 0;			/* an exact name: its own ABI */
	} else if (i == -1) {
		goto unknown;
	}
	if (by_ptr == i)
		goto found;
	if (by_ptr >= 0) {
		proc_disagree(symbol, by_ptr, i);
		i = by_ptr;
		goto found;
	}
	if (intro && proc_query(symbol, intro, flags) != p)
		goto unknown;
found:
	if (gdlc_refused_abi(i)) {
		gdlc_say(1, "%s: legacy ABI %s requested through cuGetProcAddress; refused",
			 symbol, gdlc_wrapped[i].name);
		*e = CUDA_ERROR_NOT_SUPPORTED;
		return NULL;
	}
	return gdlc_wrapped[i].wrapper;
unknown:
	gdlc_say(1, "%s: the driver returned a version the interposer does not know; refused",
		 symbol);
	*e = CUDA_ERROR_NOT_SUPPORTED;
	return NULL;
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn,
				 int cudaVersion, cuuint64_t flags)
{
	__typeof__(cuGetProcAddress) *f = REAL(cuGetProcAddress);
	CUresult e;

	CHECK_REAL(f);
	e = f(symbol, pfn, cudaVersion, flags);
	if (e == CUDA_SUCCESS && pfn && *pfn && symbol)
		*pfn = wrap_proc(symbol, *pfn, cudaVersion, flags, &e);
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
		*pfn = wrap_proc(symbol, *pfn, cudaVersion, flags, &e);
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

// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 23's escapes on a real GPU (driver API; built against the
 * toolkit's cuda.h by tests/gpu/run.sh, never in make check).
 *   cuda_escapes identity
 *       without the interposer: for every wrapped name, whether the
 *       driver's cuGetProcAddress pointer for its base name, at the
 *       version that ABI appeared in, is that exported symbol (item 13:
 *       the cross-check; the interposer resolves by name and version);
 *       prints one line per name.
 *   cuda_escapes charges
 *       under the interposer, with the module, as an agent (run.sh runs
 *       it through gdl_run_as_agent): item 1 (a retained VMM handle),
 *       item 2 (an exported POSIX descriptor), item 3 (a stream of device
 *       1 while device 0 is current; skipped with one GPU), item 7 (a
 *       forked worker outliving the allocator), item 8 (the footprint
 *       after cuCtxSynchronize, printed next to the agent's usage).
 * Prints "gpu-escapes: N passed, M failed".
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cuda_api.h"
#include "proc_versions.h"
#include "gpudmalock.h"

#define MiB (1024ULL * 1024)

static int passed, failed;
static struct gdlock *g;
static int midx[2] = { -1, -1 };

static void check(int ok, const char *what)
{
	printf("%s gpu-escapes: %s\n", ok ? "ok  " : "FAIL", what);
	ok ? passed++ : failed++;
}

static unsigned long long usage(int dev)
{
	struct gdl_quota q;

	return midx[dev] < 0 || gdlock_quota_get(g, 0, midx[dev], &q) ? ~0ULL : q.usage;
}

/*
 * Item 13.  The interposer chooses its wrapper by name and version
 * (proc_versions.h); the pointer is a cross-check.  For each wrapped
 * name, the driver is asked for its base name at the version that ABI
 * appeared in (the same per-thread flag), and the line says whether
 * identity held: the pointer is that exported symbol ("held"), an
 * internal pointer ("NOT held: internal", what the interposer now
 * resolves by name), or another exported symbol ("NOT held: <symbol>",
 * a disagreement with proc_versions.h: the interposer wraps the
 * driver's function, but the table is stale and an internal pointer for
 * that name would be taken for the wrong ABI: the one failure here).
 */
static int identity(void)
{
	static const struct { const char *base; int version, pt; const char *name; } v[] = {
#define X(b, ver, pt, sym) { b, ver, pt, #sym },
		GDL_CUDA_PROC_VERSIONS(X)
#undef X
	};
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	int drv = 0, held = 0, internal = 0, other = 0, absent = 0;
	size_t i;

	if (!h || cuInit(0) || cuDriverGetVersion(&drv)) {
		printf("no libcuda.so.1 or cuInit failed\n");
		return 1;
	}
	printf("driver %d; %zu wrapped (name, version) pairs from proc_versions.h\n",
	       drv, sizeof(v) / sizeof(v[0]));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SUCCESS;
		void *p = NULL, *want = dlsym(h, v[i].name);
		char what[300];
		Dl_info info;
		CUresult e;

		if (v[i].version > drv) {
			absent++;
			printf("%-34s %-28s %5d %s  newer than the driver\n", v[i].name,
			       v[i].base, v[i].version, v[i].pt ? "pt" : "  ");
			continue;
		}
		e = cuGetProcAddress_v2(v[i].base, &p, v[i].version,
					v[i].pt ? CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM :
						  CU_GET_PROC_ADDRESS_DEFAULT, &st);
		if (e || !p) {
			absent++;
			snprintf(what, sizeof(what), "not returned (error %d, status %d)", e, st);
		} else if (p == want) {
			held++;
			snprintf(what, sizeof(what), "identity held");
		} else if (dladdr(p, &info) && info.dli_saddr == p && info.dli_sname) {
			other++;
			snprintf(what, sizeof(what), "identity NOT held: %s", info.dli_sname);
			check(0, v[i].name);
		} else {
			internal++;
			snprintf(what, sizeof(what), "identity NOT held: internal pointer");
		}
		printf("%-34s %-28s %5d %s  %s\n", v[i].name, v[i].base, v[i].version,
		       v[i].pt ? "pt" : "  ", what);
	}
	printf("identity held for %d, internal pointers %d, other exported symbols %d, not returned %d\n",
	       held, internal, other, absent);
	check(other == 0, "the driver's exported symbols agree with proc_versions.h");
	printf("gpu-escapes: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

static CUresult vmm_create(CUmemGenericAllocationHandle *h, int dev, size_t size,
			   int shareable)
{
	CUmemAllocationProp prop;
	size_t gran = 0;

	memset(&prop, 0, sizeof(prop));
	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = dev;
	if (shareable)
		prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	if (cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM) ||
	    !gran || size % gran)
		return CUDA_ERROR_INVALID_VALUE;
	return cuMemCreate(h, size, &prop, 0);
}

static void item1(void)
{
	CUmemGenericAllocationHandle h, r;
	unsigned long long b = usage(0);
	CUmemAccessDesc acc = { { CU_MEM_LOCATION_TYPE_DEVICE, 0 }, CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUdeviceptr va;

	if (cuMemAddressReserve(&va, 64 * MiB, 0, 0, 0) || vmm_create(&h, 0, 64 * MiB, 0)) {
		check(0, "item 1: setup");
		return;
	}
	check(!cuMemMap(va, 64 * MiB, 0, h, 0) && !cuMemSetAccess(va, 64 * MiB, &acc, 1) &&
	      !cuMemRetainAllocationHandle(&r, (void *)va) && !cuMemRelease(r) &&
	      !cuMemUnmap(va, 64 * MiB), "item 1: map, retain, release the retained, unmap");
	check(usage(0) >= b + 64 * MiB, "item 1: the creator's handle still charged");
	check(!cuMemRelease(h) && usage(0) < b + 64 * MiB, "item 1: released: charge gone");
	cuMemAddressFree(va, 64 * MiB);
}

static void item2(void)
{
	CUmemGenericAllocationHandle h, h2;
	unsigned long long b = usage(0);
	int fd = -1;

	if (vmm_create(&h, 0, 64 * MiB, 1) ||
	    cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0)) {
		check(0, "item 2: setup (a shareable allocation)");
		return;
	}
	check(!cuMemRelease(h) && usage(0) >= b + 64 * MiB,
	      "item 2: handle released, descriptor open: still charged");
	check(!cuMemImportFromShareableHandle(&h2, (void *)(long)fd,
					      CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) &&
	      usage(0) < b + 128 * MiB, "item 2: imported again: charged once");
	cuMemRelease(h2);
	close(fd);
}

static void item3(void)
{
	unsigned long long b0 = usage(0), b1 = usage(1);
	CUcontext c0, c1;
	CUdeviceptr p;
	CUstream s;
	int n = 0;

	if (cuDeviceGetCount(&n) || n < 2 || midx[1] < 0) {
		printf("item 3: one GPU (or the second unmanaged): skipped\n");
		return;
	}
	if (cuDevicePrimaryCtxRetain(&c1, 1) || cuCtxSetCurrent(c1) ||
	    cuStreamCreate(&s, CU_STREAM_NON_BLOCKING) ||
	    cuDevicePrimaryCtxRetain(&c0, 0) || cuCtxSetCurrent(c0)) {
		check(0, "item 3: setup");
		return;
	}
	check(!cuMemAllocAsync(&p, 64 * MiB, s) && usage(1) >= b1 + 64 * MiB &&
	      usage(0) < b0 + 64 * MiB, "item 3: device 1's stream, device 0 current: charged on device 1");
	cuMemFreeAsync(p, s);
	cuStreamSynchronize(s);
	cuStreamDestroy_v2(s);
}

static void item7(void)
{
	unsigned long long b = usage(0);
	int pfd[2], st;
	pid_t a, w = 0;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe(pfd)) {
		check(0, "item 7: setup");
		return;
	}
	a = fork();
	if (a == 0) {
		CUcontext c;
		CUdeviceptr x;
		pid_t wp;

		close(pfd[0]);
		if (cuDevicePrimaryCtxRetain(&c, 0) || cuCtxSetCurrent(c) ||
		    cuMemAlloc_v2(&x, 64 * MiB))
			_exit(1);
		wp = fork();
		if (wp == 0) {
			pause();
			_exit(0);
		}
		if (write(pfd[1], &wp, sizeof(wp)) != sizeof(wp))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &w, sizeof(w)) != sizeof(w))
		w = 0;
	close(pfd[0]);
	waitpid(a, &st, 0);
	check(w > 0 && usage(0) >= b + 64 * MiB,
	      "item 7: the allocator exited, its forked worker lives: still charged");
	if (w > 0) {
		kill(w, SIGKILL);
		waitpid(w, &st, 0);
	}
	check(usage(0) < b + 64 * MiB, "item 7: the worker gone: charge gone");
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void item8(void)
{
	unsigned long long b = usage(0);
	CUcontext c;

	/* A second context: the driver's own memory, charged at least the estimate. */
	check(!cuCtxCreate_v2(&c, 0, 0), "item 8: a second context");
	cuCtxSynchronize();
	printf("item 8: a context costs %llu KiB of the agent's quota\n", (usage(0) - b) >> 10);
	cuCtxDestroy_v2(c);
}

int main(int argc, char **argv)
{
	struct gdl_device_info d[GDL_MAX_DEVICES];
	char bus[2][32];
	CUcontext c;
	int n, i, k;

	if (argc > 1 && !strcmp(argv[1], "identity"))
		return identity();
	if (cuInit(0) || gdlock_open(&g)) {
		printf("needs the module and a GPU\n");
		return 1;
	}
	n = gdlock_device_list(g, d, GDL_MAX_DEVICES);
	for (k = 0; k < 2; k++) {
		if (cuDeviceGetPCIBusId(bus[k], sizeof(bus[k]), k))
			continue;
		for (i = 0; i < n; i++) {
			char s[32];

			snprintf(s, sizeof(s), "%04x:%02x:%02x.%x", d[i].pci_domain,
				 d[i].pci_bdf >> 8, d[i].pci_bdf >> 3 & 0x1f, d[i].pci_bdf & 7);
			if (!strcasecmp(s, bus[k]))
				midx[k] = d[i].index;
		}
	}
	check(midx[0] >= 0, "device 0 is managed by the module");
	if (cuDevicePrimaryCtxRetain(&c, 0) || cuCtxSetCurrent(c))
		return 1;
	item1();
	item2();
	item3();
	item7();
	item8();
	printf("gpu-escapes: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * What the interposer itself costs per cuMemAlloc_v2/cuMemFree_v2 pair, on
 * top of the ledger round trips, measured natively on the host (no VM, no
 * module): the in-VM benchmark (bench.c) cannot separate a few tens of ns
 * from QEMU TCG's noise.
 *
 * This program stands in for the kernel.  It defines open() and ioctl()
 * (exported with --dynamic-list, so that they come before libc's in the
 * lookup scope of every library, the preloaded interposer included): the
 * path /dev/gpu_dma_lock opens /dev/null, and the ledger's ioctls on that
 * file are answered here in a few instructions (one device, an unlimited
 * quota, a counter for handles).  Three modes, each measured in its own
 * process, interleaved over several rounds, best of each kept:
 *   plain       the fake driver's alloc/free pair, no interposer;
 *   ledger      gdlock_reserve + gdlock_release (libgpudmalock, the same
 *               code the interposer links) against the stand-in;
 *   interposed  the alloc/free pair through libgpudmalock-cuda.so.
 * interposed - plain - ledger is the interposer's own work: the current
 * device lookup, the pointer map insert and take, its locks.
 *
 *   host_bench [--smoke] LIB        the table (re-executes itself)
 *   host_bench --only MODE N [R]    one mode: R runs of N pairs after a
 *                                   warm-up, in measured_pairs() (for
 *                                   callgrind's --toggle-collect)
 * Every mode checks that the stand-in saw exactly one RESERVE and one
 * RELEASE per pair (none for plain) and nothing left charged; that is
 * asserted, a time never is.  --smoke (make check) runs it tiny and ends
 * with "host_bench: N passed, M failed": a passed case per round of the
 * interposed mode, the only one that tests the interposer (plain and
 * ledger test this harness and its stand-in: a failure there still fails,
 * but their passing counts for nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpudmalock.h"
#include "cuda_api.h"

#define STUB_PCI "0000:00:04.0"	/* given to the fake driver as its GPU */
#define STUB_BDF (0x00 << 8 | 0x04 << 3 | 0)

/* ---- the kernel stand-in ---- */

static int stub_fd = -1;
static unsigned long stub_reserves, stub_releases, stub_next_handle;

/* Only the ledger's path is ours; everything else is the real syscall. */
int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	long fd;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (strcmp(path, GDL_DEVICE_PATH))
		return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", flags, 0);
	if (fd >= 0)
		stub_fd = fd;
	return fd;
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

static int stub_device_list(struct gdl_array *a)
{
	struct gdl_device_info d;

	if (a->count) {
		if (a->entry_size != sizeof(d)) {
			errno = EINVAL;
			return -1;
		}
		memset(&d, 0, sizeof(d));
		d.flags = GDL_DEV_F_PCI;
		d.pci_bdf = STUB_BDF;
		d.capacity = GDL_QUOTA_UNLIMITED;
		strcpy(d.name, "stub0");
		memcpy((void *)(uintptr_t)a->ptr, &d, sizeof(d));
	}
	a->count = 1;
	return 0;
}

int ioctl(int fd, unsigned long cmd, ...);
int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != stub_fd || stub_fd < 0)
		return syscall(SYS_ioctl, fd, cmd, arg);
	switch (cmd) {
	case GDL_IOC_RESERVE: {
		struct gdl_reserve *r = arg;

		stub_reserves++;
		r->handle = ++stub_next_handle;
		r->agent_id = 1;
		r->result = GDL_RESULT_OK;
		return 0;
	}
	case GDL_IOC_RELEASE: {
		const struct gdl_release *r = arg;

		if (!r->handle || r->handle > stub_next_handle) {
			errno = ENOENT;
			return -1;
		}
		stub_releases++;
		return 0;
	}
	case GDL_IOC_NOP:
		return 0;
	case GDL_IOC_DEVICE_LIST:
		return stub_device_list(arg);
	case GDL_IOC_QUOTA_GET: {
		struct gdl_quota *q = arg;

		q->agent_id = 1;
		q->quota = GDL_QUOTA_UNLIMITED;
		q->usage = (stub_reserves - stub_releases) * 4096;
		return 0;
	}
	default:
		errno = ENOTTY;
		return -1;
	}
}

/* ---- the measurement ---- */

enum mode { PLAIN, LEDGER, INTERPOSED, NR_MODES };
static const char *const mode_name[NR_MODES] = { "plain", "ledger", "interposed" };

static struct gdlock *ledger;

__attribute__((noinline)) static int loop_pairs(enum mode m, long n)
{
	CUdeviceptr p;
	uint64_t h;
	long i;

	for (i = 0; i < n; i++) {
		if (m == LEDGER) {
			if (gdlock_reserve(ledger, 0, 4096, &h) ||
			    gdlock_release(ledger, h))
				return -1;
		} else if (cuMemAlloc_v2(&p, 4096) || cuMemFree_v2(p)) {
			return -1;
		}
	}
	return 0;
}

/* The measured pairs, not the warm-up: callgrind's --toggle-collect. */
__attribute__((noinline)) int measured_pairs(enum mode m, long n);
__attribute__((noinline)) int measured_pairs(enum mode m, long n)
{
	return loop_pairs(m, n);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Set up, warm up, run @n pairs @reps times; best ns per pair, or < 0. */
static double run_mode(enum mode m, long n, int reps)
{
	unsigned long want;
	double best = 1e30;
	CUcontext c;
	int r;

	if (gdlock_open(&ledger) || cuInit(0) || cuCtxCreate_v2(&c, 0, 0) ||
	    loop_pairs(m, 1000))
		return -1;
	for (r = 0; r < reps; r++) {
		double t = now_ns();

		if (measured_pairs(m, n))
			return -1;
		t = (now_ns() - t) / n;
		if (t < best)
			best = t;
	}
	/* The stand-in saw every charge, and nothing stays charged. */
	want = m == PLAIN ? 0 : 1000 + (unsigned long)n * reps;
	if (stub_reserves != want || stub_releases != want) {
		fprintf(stderr, "host_bench: %s: %lu reserves, %lu releases, expected %lu each\n",
			mode_name[m], stub_reserves, stub_releases, want);
		return -1;
	}
	return best;
}

/* One mode in a child: the interposer only where it is measured. */
static double child(const char *self, const char *lib, enum mode m, long n,
		    int reps)
{
	char arg_n[32], arg_r[32], buf[64];
	int pfd[2], st;
	ssize_t len;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		if (m == INTERPOSED)
			setenv("LD_PRELOAD", lib, 1);
		snprintf(arg_n, sizeof(arg_n), "%ld", n);
		snprintf(arg_r, sizeof(arg_r), "%d", reps);
		execl(self, self, "--only", mode_name[m], arg_n, arg_r, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	len = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) ||
	    len <= 0)
		return -1;
	buf[len] = 0;
	return strtod(buf, NULL);
}

int main(int argc, char **argv)
{
	double best[NR_MODES], t, extra;
	long n = 200000;
	int rounds = 7, reps = 5, smoke = 0, failed = 0, failed_ip = 0, i, m;
	const char *lib;

	setenv("FAKE_CUDA_PCI", STUB_PCI, 1);
	if (argc >= 4 && !strcmp(argv[1], "--only")) {
		for (m = 0; m < NR_MODES && strcmp(argv[2], mode_name[m]); m++)
			;
		if (m == NR_MODES)
			return 2;
		t = run_mode(m, atol(argv[3]), argc > 4 ? atoi(argv[4]) : 1);
		printf("%.2f\n", t);
		return t < 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--smoke")) {
		smoke = 1;
		argc--;
		argv++;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: host_bench [--smoke] LIBGPUDMALOCK_CUDA\n");
		return 2;
	}
	lib = argv[1];
	if (smoke) {
		n = 2000;
		rounds = 2;
		reps = 1;
	}
	for (m = 0; m < NR_MODES; m++)
		best[m] = 1e30;
	/* Rounds interleave the modes, so that drift hits all three alike. */
	for (i = 0; i < rounds; i++) {
		for (m = 0; m < NR_MODES; m++) {
			t = child("/proc/self/exe", lib, m, n, reps);
			if (t < 0) {
				printf("FAIL host_bench: mode %s%s\n", mode_name[m],
				       m == INTERPOSED ? "" : " (the harness itself)");
				failed++;
				failed_ip += m == INTERPOSED;
			} else if (t < best[m]) {
				best[m] = t;
			}
		}
	}
	/* Each mode's child checked the stand-in's counts. */
	if (smoke || failed) {
		printf("host_bench: %d passed, %d failed\n", rounds - failed_ip, failed);
		return failed != 0;
	}
	extra = best[INTERPOSED] - best[PLAIN] - best[LEDGER];
	printf("interposer on the host (%ld pairs x %d, best of %d rounds; ns per cuMemAlloc_v2+cuMemFree_v2 pair)\n",
	       n, reps, rounds);
	printf("  %-52s %10.1f\n", "fake driver alone", best[PLAIN]);
	printf("  %-52s %10.1f\n", "RESERVE + RELEASE through libgpudmalock (stand-in)", best[LEDGER]);
	printf("  %-52s %10.1f\n", "through libgpudmalock-cuda.so", best[INTERPOSED]);
	printf("  %-52s %10.2f\n", "ratio interposed / (alone + ledger)",
	       best[INTERPOSED] / (best[PLAIN] + best[LEDGER]));
	printf("  %-52s %10.1f\n", "interposer's own cost per pair", extra);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel benchmark, run inside the test VM as root with the module
 * loaded (pci_ids=1234:11e8, one edu device or more, max_agents >= 10001).
 *
 *   bench [--smoke] [--icount]
 *
 * Every figure is measured in this one run and reported as a ratio to the
 * null ioctl on the same device (the syscall floor): the VM is emulated
 * and absolute times mean little.  Times are taken per batch of operations
 * (clock_gettime around the batch), so the clock's own cost is amortised;
 * median and p99 are over batches.  Nothing here asserts on time.
 *
 * --icount: the guest was booted with QEMU's -icount shift=0 (vm-run.sh
 * -i), so its clock advances one ns per instruction executed and every
 * "ns" below is a count of guest instructions, the same on a loaded host
 * as on an idle one.  The headings say instr/op; the concurrency table
 * is left out (under icount the vCPUs take turns on one host thread, so
 * it would say nothing about parallelism).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpudmalock.h"

#define MiB		(1024ULL * 1024)
#define OWN_ADDR	0x100000ULL	/* the bench agent's own range */
#define ACL_BASE	0x100000000ULL	/* ACL entries live above 4 GiB */
#define HOSTILE_BASE	(1ULL << 48)	/* above every ACL_BASE entry */

static int batches = 200, batch = 64;
static int smoke;
static int icount;
static const char *unit = "ns/op";
static struct gdlock *g;
static int fd;
static uint32_t me;
static double nop_median;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double median;
	double p99;
};

/* Run @op in batches; per-op times of each batch, then median and p99. */
static struct result measure(void (*op)(void *), void *arg)
{
	double *t = calloc(batches, sizeof(*t));
	struct result r;
	int b, i;

	/*
	 * Warm up well: under TCG the first runs of a code path include
	 * translating it, which would otherwise land in the first figures.
	 */
	for (i = 0; i < batch * (smoke ? 1 : 50); i++)
		op(arg);
	for (b = 0; b < batches; b++) {
		uint64_t t0 = now_ns();

		for (i = 0; i < batch; i++)
			op(arg);
		t[b] = (double)(now_ns() - t0) / batch;
	}
	qsort(t, batches, sizeof(*t), cmp_double);
	r.median = t[batches / 2];
	r.p99 = t[(batches * 99) / 100];
	free(t);
	return r;
}

static void must(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "bench: %s: %s\n", what, gdlock_strerror(ret));
		exit(2);
	}
}

static void op_nop(void *arg)
{
	(void)arg;
	ioctl(fd, GDL_IOC_NOP, 0);
}

static void op_check(void *arg)
{
	struct gdl_dma_check *tmpl = arg, c = *tmpl;

	if (ioctl(fd, GDL_IOC_DMA_CHECK, &c))
		abort();
}

/* A check that must be denied (EACCES). */
static void op_check_denied(void *arg)
{
	struct gdl_dma_check *tmpl = arg, c = *tmpl;

	if (!ioctl(fd, GDL_IOC_DMA_CHECK, &c) || errno != EACCES)
		abort();
}

static void op_stats(void *arg)
{
	struct gdl_stats s;

	(void)arg;
	memset(&s, 0, sizeof(s));
	ioctl(fd, GDL_IOC_STATS, &s);
}

static void op_reserve_release(void *arg)
{
	struct gdl_reserve r;
	struct gdl_release rel;

	(void)arg;
	memset(&r, 0, sizeof(r));
	r.size = 4096;
	if (ioctl(fd, GDL_IOC_RESERVE, &r))
		abort();
	memset(&rel, 0, sizeof(rel));
	rel.handle = r.handle;
	ioctl(fd, GDL_IOC_RELEASE, &rel);
}

/* Reserve and release timed separately: a batch of each. */
static uint64_t handles[4096];

static void measure_reserve_release(struct result *res, struct result *rel)
{
	double *tr = calloc(batches, sizeof(double));
	double *tl = calloc(batches, sizeof(double));
	int b, i;

	for (b = 0; b < batches; b++) {
		uint64_t t0 = now_ns(), t1;

		for (i = 0; i < batch; i++) {
			struct gdl_reserve r;

			memset(&r, 0, sizeof(r));
			r.size = 4096;
			if (ioctl(fd, GDL_IOC_RESERVE, &r))
				abort();
			handles[i] = r.handle;
		}
		t1 = now_ns();
		for (i = 0; i < batch; i++) {
			struct gdl_release r;

			memset(&r, 0, sizeof(r));
			r.handle = handles[i];
			ioctl(fd, GDL_IOC_RELEASE, &r);
		}
		tr[b] = (double)(t1 - t0) / batch;
		tl[b] = (double)(now_ns() - t1) / batch;
	}
	qsort(tr, batches, sizeof(double), cmp_double);
	qsort(tl, batches, sizeof(double), cmp_double);
	res->median = tr[batches / 2];
	res->p99 = tr[batches * 99 / 100];
	rel->median = tl[batches / 2];
	rel->p99 = tl[batches * 99 / 100];
	free(tr);
	free(tl);
}

/* The seed's way: a write and a read of /proc/gpu_dma_lock/check. */
static int proc_fd;

static void op_proc_check(void *arg)
{
	const char *req = arg;
	char buf[32];

	if (pwrite(proc_fd, req, strlen(req), 0) < 0 ||
	    pread(proc_fd, buf, sizeof(buf), 0) <= 0 || buf[0] != 'a')
		abort();
}

static void row(const char *name, struct result r)
{
	printf("  %-34s %10.0f %10.0f %8.2fx\n", name, r.median, r.p99,
	       r.median / nop_median);
}

static struct gdl_dma_check own_check(void)
{
	struct gdl_dma_check c;

	memset(&c, 0, sizeof(c));
	c.access = GDL_ACCESS_READ;
	c.addr = OWN_ADDR + 4096;
	c.len = 4096;
	return c;
}

static struct gdl_dma_check acl_check(uint32_t nr_entries)
{
	struct gdl_dma_check c;

	memset(&c, 0, sizeof(c));
	c.access = GDL_ACCESS_READ;
	c.addr = ACL_BASE + (uint64_t)(nr_entries / 2) * 2 * MiB + 4096;
	c.len = 4096;
	return c;
}

/* Grow the bench agent's ACL to @target entries: 1 MiB every 2 MiB. */
static void grow_acl(uint32_t *have, uint32_t target)
{
	static struct gdl_acl_entry e[GDL_ACL_BATCH_MAX];

	while (*have < target) {
		uint32_t n = target - *have, i;

		if (n > GDL_ACL_BATCH_MAX)
			n = GDL_ACL_BATCH_MAX;
		memset(e, 0, sizeof(e[0]) * n);
		for (i = 0; i < n; i++) {
			e[i].agent_id = me;
			e[i].rights = GDL_ACCESS_READ;
			e[i].addr = ACL_BASE + (uint64_t)(*have + i) * 2 * MiB;
			e[i].len = MiB;
		}
		must(gdlock_acl_grant(g, e, n), "acl grant");
		*have += n;
	}
}

/*
 * The hostile set of docs/performance.md: @n entries that another agent
 * (given a share large enough) granted to the bench agent, each reaching
 * the top of the address space, write only.  A read past all their starts
 * is covered by every one and allowed by none: the pre-1.2 check walked
 * back over all @n (native bench: before/after), this one stays O(log n).
 */
static void hostile(uint32_t n)
{
	static struct gdl_acl_entry e[GDL_ACL_BATCH_MAX];
	struct gdl_dma_check c;
	uint32_t tenant, done = 0, k, i;

	must(gdlock_agent_create_limits(g, "bench-hostile", 0, 0, n, &tenant),
	     "hostile tenant");
	while (done < n) {
		k = n - done < GDL_ACL_BATCH_MAX ? n - done : GDL_ACL_BATCH_MAX;
		memset(e, 0, sizeof(e[0]) * k);
		for (i = 0; i < k; i++) {
			e[i].agent_id = me;
			e[i].owner_id = tenant;
			e[i].rights = GDL_ACCESS_WRITE;
			e[i].addr = HOSTILE_BASE + (uint64_t)(done + i) * 4096;
			e[i].len = UINT64_MAX - e[i].addr;
		}
		must(gdlock_acl_grant(g, e, k), "hostile grant");
		done += k;
	}
	memset(&c, 0, sizeof(c));
	c.access = GDL_ACCESS_READ;
	c.addr = HOSTILE_BASE + (uint64_t)n * 4096 + 4096;
	c.len = 4096;
	printf("\nHostile set (%u entries of another agent's in the bench agent's set, each to the top of the address space, write only; a read is checked):\n",
	       n);
	row("DMA check, denied", measure(op_check_denied, &c));
	must(gdlock_agent_destroy(g, tenant), "hostile tenant destroy");
}

/* ATTACH with a key nobody filed: what a miss in the key table costs. */
static void op_attach_miss(void *arg)
{
	struct gdl_reservation_share s;

	memset(&s, 0, sizeof(s));
	s.key_type = GDL_SHARE_KEY_BYTES;
	memcpy(s.key, arg, GDL_SHARE_KEY_LEN);
	s.access = GDL_ACCESS_READ;
	ioctl(fd, GDL_IOC_RESERVATION_ATTACH, &s);
}

/*
 * The shared-reservation key table (issue 22, item 5): the cost of an
 * ATTACH miss as the table fills, up to @max keys of one agent on one
 * reservation.  Before ABI 1.4 the table had 256 fixed buckets, so a miss
 * scanned max/256 keys under the node's one lock.
 */
static void share_keys(uint32_t max)
{
	uint32_t scale[] = { 1, 1000, 100000, 1000000 }, have = 0, i;
	unsigned char key[GDL_SHARE_KEY_LEN], miss[GDL_SHARE_KEY_LEN];
	double base = 0;
	uint64_t h;

	must(gdlock_agent_set_limits(g, me, max + 16, 0), "key share");
	must(gdlock_reserve(g, 0, 4096, &h), "key reservation");
	memset(key, 0x6b, sizeof(key));
	memset(miss, 0x6d, sizeof(miss));
	printf("\nShare-key table (ATTACH of a key nobody filed, %s median; one agent's keys on one reservation):\n",
	       unit);
	printf("  %-12s %12s %8s\n", "keys", "miss", "ratio");
	for (i = 0; i < sizeof(scale) / sizeof(scale[0]); i++) {
		struct result r;

		if (scale[i] > max)
			break;
		for (; have < scale[i]; have++) {
			memcpy(key, &have, sizeof(have));
			must(gdlock_reservation_share(g, h, key, sizeof(key)),
			     "share");
		}
		r = measure(op_attach_miss, miss);
		if (!base)
			base = r.median;
		printf("  %-12u %12.0f %7.2fx\n", have, r.median,
		       r.median / base);
	}
	must(gdlock_release(g, h), "key reservation release");
	must(gdlock_agent_set_limits(g, me, 0, 0), "key share back");
}

static void grow_agents(uint32_t *have, uint32_t target)
{
	char name[32];

	while (*have < target) {
		snprintf(name, sizeof(name), "filler-%u", *have);
		must(gdlock_agent_create(g, name, 0, NULL), "agent create");
		(*have)++;
	}
}

/* Operations per second by @procs processes for @ms, each its own file. */
static double throughput(int procs, int ms, int what, uint32_t *agents)
{
	int pfd[2], i;
	double total = 0;

	if (pipe(pfd))
		exit(2);
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct gdl_dma_check c = own_check();
			struct gdlock *h;
			uint64_t n = 0, end;
			int rfd;
			char go;

			/* Wait until the parent has bound us, if it does. */
			if (read(pfd[0], &go, 1) != 1)
				_exit(3);
			if (gdlock_open(&h))
				_exit(3);
			rfd = gdlock_fd(h);
			end = now_ns() + (uint64_t)ms * 1000000;
			while (now_ns() < end) {
				int k;

				for (k = 0; k < 32; k++) {
					if (what == 0) {
						struct gdl_dma_check x = c;

						ioctl(rfd, GDL_IOC_DMA_CHECK,
						      &x);
					} else {
						struct gdl_reserve r;
						struct gdl_release rel;

						memset(&r, 0, sizeof(r));
						r.size = 4096;
						ioctl(rfd, GDL_IOC_RESERVE, &r);
						memset(&rel, 0, sizeof(rel));
						rel.handle = r.handle;
						ioctl(rfd, GDL_IOC_RELEASE, &rel);
					}
				}
				n += 32;
			}
			if (write(pfd[1], &n, sizeof(n)) != sizeof(n))
				_exit(4);
			_exit(0);
		}
		must(gdlock_bind_pid(g, agents ? agents[i] : me, pid), "bind");
	}
	for (i = 0; i < procs; i++)
		if (write(pfd[1], "g", 1) != 1)
			exit(2);
	for (i = 0; i < procs; i++)
		wait(NULL);
	/* The children wrote their counts after the parent's go bytes. */
	for (i = 0; i < procs; i++) {
		uint64_t n;

		if (read(pfd[0], &n, sizeof(n)) != sizeof(n))
			exit(2);
		total += (double)n;
	}
	close(pfd[0]);
	close(pfd[1]);
	return total * 1000.0 / ms;
}

static void memory(void)
{
	char buf[4096], *p;
	int f = open("/proc/gpu_dma_lock/stats", O_RDONLY), n;

	if (f < 0)
		return;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return;
	buf[n] = 0;
	printf("\nKernel memory per object (slab bucket sizes, from /proc/gpu_dma_lock/stats):\n");
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
		if (!strncmp(p, "mem_", 4))
			printf("  %s bytes\n", p + 4);
}

int main(int argc, char **argv)
{
	struct gdl_dma_check c = own_check(), a1, a2;
	uint32_t agents = 1, acl = 0, second;
	struct result r_res, r_rel;
	uint32_t keys_max = 0;
	int keys_only = 0;
	char proc_req[64];
	int ms = 500;

	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = 1;
			batches = 8;
			batch = 8;
			ms = 50;
		} else if (!strcmp(argv[i], "--icount")) {
			icount = 1;
			unit = "instr/op";
		} else if (!strcmp(argv[i], "--keys") && i + 1 < argc) {
			keys_max = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--keys-only")) {
			keys_only = 1;
		} else {
			fprintf(stderr, "usage: bench [--smoke] [--icount] [--keys MAX] [--keys-only]\n");
			return 2;
		}
	}
	must(gdlock_open(&g), "open " GDL_DEVICE_PATH);
	fd = gdlock_fd(g);
	must(gdlock_agent_create(g, "bench", GDL_QUOTA_UNLIMITED, &me),
	     "create the bench agent");
	must(gdlock_bind_pid(g, me, getpid()), "bind");
	must(gdlock_reserve_at(g, 0, OWN_ADDR, 64 * MiB, NULL), "reserve");
	proc_fd = open("/proc/gpu_dma_lock/check", O_RDWR);
	if (proc_fd < 0) {
		perror("/proc/gpu_dma_lock/check");
		return 2;
	}
	snprintf(proc_req, sizeof(proc_req), "0 %llx 4096 r",
		 (unsigned long long)(OWN_ADDR + 4096));
	if (keys_only) {	/* the key table alone, for a before/after */
		nop_median = measure(op_nop, NULL).median;
		share_keys(keys_max ? keys_max : 1000000);
		gdlock_close(g);
		return 0;
	}

	printf("Fast path (%s%s; ratio = median / null ioctl median; %d batches of %d):\n",
	       unit, icount ? ", guest instructions counted by -icount" : "",
	       batches, batch);
	printf("  %-34s %10s %10s %9s\n", "operation", "median", "p99", "ratio");
	{
		struct result nop = measure(op_nop, NULL);

		nop_median = nop.median;
		row("null ioctl (GDL_IOC_NOP)", nop);
	}
	row("DMA check, own reservation", measure(op_check, &c));
	a1 = acl_check(1);
	grow_acl(&acl, 1);
	row("DMA check, admin ACL entry", measure(op_check, &a1));
	measure_reserve_release(&r_res, &r_rel);
	row("reserve (4 KiB, no address)", r_res);
	row("release", r_rel);
	row("reserve + release", measure(op_reserve_release, NULL));
	row("stats read (with ledger self-check)", measure(op_stats, NULL));
	{
		struct result io = measure(op_check, &c);
		struct result pr = measure(op_proc_check, proc_req);

		row("DMA check via /proc write+read", pr);
		printf("  ioctl check is %.1fx faster than the /proc way\n",
		       pr.median / io.median);
	}

	printf("\nScaling (DMA check via an admin ACL entry, and reserve+release; %s median, ratio to the smallest):\n",
	       unit);
	printf("  %-12s %-12s %12s %8s %14s %8s\n", "agents", "acl entries",
	       "check", "ratio", "reserve+rel", "ratio");
	{
		uint32_t scale_agents[] = { 1, 100, 10000 };
		uint32_t scale_acl[] = { 1, 1000, 100000 };
		double base_c = 0, base_r = 0;
		int i, j;

		for (i = 0; i < 3; i++) {
			grow_agents(&agents, smoke ? scale_agents[i] / 100 + 1 :
				    scale_agents[i]);
			for (j = 0; j < 3; j++) {
				uint32_t want = smoke ? scale_acl[j] / 100 + 1 :
					scale_acl[j];
				struct result rc, rr;

				if (i && j)	/* the diagonal and the edges */
					continue;
				grow_acl(&acl, want);
				a2 = acl_check(acl);
				rc = measure(op_check, &a2);
				rr = measure(op_reserve_release, NULL);
				if (!base_c) {
					base_c = rc.median;
					base_r = rr.median;
				}
				printf("  %-12u %-12u %12.0f %7.2fx %14.0f %7.2fx\n",
				       agents, acl, rc.median, rc.median / base_c,
				       rr.median, rr.median / base_r);
			}
		}
	}

	must(gdlock_agent_create(g, "bench-2", GDL_QUOTA_UNLIMITED, &second),
	     "second agent");
	if (icount) {
		printf("\nConcurrency: left out under -icount (the vCPUs take turns on one host thread)\n");
	} else {
		uint32_t same[2] = { me, me }, diff[2] = { me, second };
		double c1 = throughput(1, ms, 0, same);
		double c2 = throughput(2, ms, 0, same);
		double r1 = throughput(1, ms, 1, same);
		double rs = throughput(2, ms, 1, same);
		double rd = throughput(2, ms, 1, diff);

		printf("\nConcurrency (2 vCPUs; operations per second over %d ms):\n",
		       ms);
		printf("  %-44s %12.0f\n", "DMA checks/s, 1 process", c1);
		printf("  %-44s %12.0f  (x%.2f)\n", "DMA checks/s, 2 processes",
		       c2, c2 / c1);
		printf("  %-44s %12.0f\n", "reserve+release/s, 1 process", r1);
		printf("  %-44s %12.0f  (x%.2f)\n",
		       "reserve+release/s, 2 processes, same agent", rs,
		       rs / r1);
		printf("  %-44s %12.0f  (x%.2f)\n",
		       "reserve+release/s, 2 processes, two agents", rd,
		       rd / r1);
	}
	hostile(smoke ? 1000 : 100000);
	share_keys(keys_max ? keys_max : smoke ? 1000 : 1000000);
	memory();
	gdlock_close(g);
	printf("bench: done\n");
	return 0;
}

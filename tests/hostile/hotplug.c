// SPDX-License-Identifier: GPL-2.0
/*
 * hotplug SECS: PCI hot-plug under load, run INSIDE the test VM as root,
 * with the module loaded as pci_ids=1234:11e8 and two edu devices (2 vCPUs).
 *
 * Three processes of one agent reserve (with and without an address),
 * check DMA into their own ranges and release, on both edu devices, while
 * this process removes the second device through sysfs and rescans the
 * bus, over and over, for SECS seconds.  It asserts that
 *   - a reserve or a DMA check returns 0, or ENODEV on the device while
 *     it is gone (EADDRINUSE for a range another process holds); a
 *     release always succeeds, gone or not;
 *   - the device is flagged gone after each removal, and live again under
 *     the same index after each rescan;
 *   - at rest, every file still open, each device's use and the agent's
 *     usage equal what the files hold; once they close, nothing is left.
 * Prints the cycles and refusals seen, as figures.  Ends with
 * "hostile-hotplug: N passed, M failed".
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "hcommon.h"
#include "tdevice.h"

#define MiB	(1024ULL * 1024)
#define NW	3
#define HOLD	32
#define CG	"/sys/fs/cgroup/gdl-hotplug"

struct hp_sh {
	volatile int stop, quiesce, reported;
	volatile uint64_t ops, enodev, bad;
	volatile uint64_t held[NW][2];	/* bytes by worker and device */
};

static struct hp_sh *sh;
static uint32_t devs[2];

/* An error a worker may see: 0, or @also, or ENODEV on device 1. */
static void expect(int ret, int dv, int also, const char *what)
{
	if (!ret || ret == also)
		return;
	if (ret == -ENODEV && dv) {
		__atomic_add_fetch(&sh->enodev, 1, __ATOMIC_RELAXED);
		return;
	}
	if (__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED) <= 10)
		printf("FAIL hotplug: %s on device %u: %d (%s)\n", what,
		       devs[dv], ret, strerror(-ret));
}

static void worker(int idx)
{
	struct { uint64_t h, size, addr; int dv; } res[HOLD];
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(idx + 3);
	struct gdlock *g;
	int n = 0, i;

	if (h_write_str(CG "/cgroup.procs", "0") || gdlock_open(&g))
		_exit(2);
	while (!sh->stop && !sh->quiesce) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		if (n < HOLD && (seed & 3)) {
			int dv = (seed >> 40) & 1, ret;
			uint64_t size = (seed >> 8) % MiB + 4096, h;
			/* Ranges of its own: 1 GiB apart per worker. */
			uint64_t addr = (uint64_t)(idx + 1) << 30 |
					((seed >> 20) % 256) << 20;

			if (seed & 0x10000)
				ret = gdlock_reserve_at(g, devs[dv], addr, size,
							&h);
			else
				ret = gdlock_reserve(g, devs[dv], size, &h);
			expect(ret, dv, -EADDRINUSE, "reserve");
			if (!ret) {
				res[n].h = h;
				res[n].size = size;
				res[n].addr = seed & 0x10000 ? addr : 0;
				res[n].dv = dv;
				n++;
			}
		} else if (n) {
			i = (int)((seed >> 16) % (uint64_t)n);
			if (res[i].addr)
				expect(gdlock_dma_check(g, devs[res[i].dv],
							res[i].addr, 4096,
							GDL_ACCESS_READ),
				       res[i].dv, 0, "DMA check");
			expect(gdlock_release(g, res[i].h), 0, 0, "release");
			res[i] = res[--n];
		}
		__atomic_add_fetch(&sh->ops, 1, __ATOMIC_RELAXED);
	}
	for (i = 0; i < n; i++)
		sh->held[idx][res[i].dv] += res[i].size;
	__atomic_add_fetch(&sh->reported, 1, __ATOMIC_SEQ_CST);
	while (!sh->stop)
		usleep(1000);
	gdlock_close(g);
	_exit(0);
}

static int finish(void)
{
	printf("hostile-hotplug: %d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct gdl_device_info d[GDL_MAX_DEVICES], di;
	char sys[96], rm[128];
	uint64_t cycles = 0, gone_ok = 0, back_ok = 0;
	struct timespec t0, t;
	struct gdlock *g;
	pid_t pids[NW];
	uint32_t agent;
	int secs = argc > 1 ? atoi(argv[1]) : 3, n, i, k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	t_section = "hotplug";
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || gdlock_open(&g))
		return 2;
	n = gdlock_device_list(g, d, GDL_MAX_DEVICES);
	for (i = 0, k = 0; i < n && k < 2; i++)
		if (d[i].flags & GDL_DEV_F_PCI)
			devs[k++] = d[i].index;
	t_check(k == 2, "two edu devices managed (got %d)", k);
	if (k < 2)
		return finish();
	T_EXPECT(t_device_of(g, devs[1], &di), 0);
	snprintf(sys, sizeof(sys), "/sys/bus/pci/devices/%04x:%02x:%02x.%u",
		 di.pci_domain, di.pci_bdf >> 8, (di.pci_bdf >> 3) & 0x1f,
		 di.pci_bdf & 7);
	snprintf(rm, sizeof(rm), "%s/remove", sys);
	mkdir(CG, 0755);
	T_EXPECT(gdlock_agent_create(g, "hotplug", GDL_QUOTA_UNLIMITED,
				     &agent), 0);
	T_EXPECT(gdlock_bind_cgroup(g, agent, CG), 0);
	for (i = 0; i < NW; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			worker(i);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (h_write_str(rm, "1")) {
			t_check(0, "remove %s", rm);
			break;
		}
		gone_ok += !t_device_of(g, devs[1], &di) &&
			   di.flags & GDL_DEV_F_GONE;
		usleep(1000 + (unsigned int)(cycles % 4) * 1000);
		if (h_write_str("/sys/bus/pci/rescan", "1")) {
			t_check(0, "rescan");
			break;
		}
		back_ok += !t_device_of(g, devs[1], &di) &&
			   !(di.flags & GDL_DEV_F_GONE) && !access(sys, F_OK);
		cycles++;
		usleep(2000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < secs);
	t_check(cycles > 0 && gone_ok == cycles,
		"gone after each of %llu removals (%llu)",
		(unsigned long long)cycles, (unsigned long long)gone_ok);
	t_check(back_ok == cycles, "live under index %u after each rescan (%llu)",
		devs[1], (unsigned long long)back_ok);

	/* At rest, every file open: the ledger equals what the files hold. */
	sh->quiesce = 1;
	while (sh->reported < NW)
		usleep(1000);
	for (k = 0; k < 2; k++) {
		struct gdl_quota q;
		uint64_t held = 0;

		for (i = 0; i < NW; i++)
			held += sh->held[i][k];
		T_EXPECT(t_device_of(g, devs[k], &di), 0);
		t_check(di.used == held, "device %u: used %llu == held %llu",
			devs[k], (unsigned long long)di.used,
			(unsigned long long)held);
		T_EXPECT(gdlock_quota_get(g, agent, devs[k], &q), 0);
		t_check(q.usage == held, "agent on device %u: usage %llu == held %llu",
			devs[k], (unsigned long long)q.usage,
			(unsigned long long)held);
	}
	sh->stop = 1;
	h_reap_workers(pids, NW);
	t_check(sh->bad == 0, "only 0, EADDRINUSE or (gone) ENODEV seen in %llu operations",
		(unsigned long long)sh->ops);
	printf("hotplug: %llu remove/rescan cycles in %ds, %llu operations, %llu refused with ENODEV\n",
	       (unsigned long long)cycles, secs, (unsigned long long)sh->ops,
	       (unsigned long long)sh->enodev);
	T_EXPECT(gdlock_unbind_cgroup(g, agent, CG), 0);
	T_EXPECT(gdlock_agent_destroy(g, agent), 0);
	rmdir(CG);
	h_invariants(gdlock_fd(g), 1, "after hot-plug");
	gdlock_close(g);
	return finish();
}

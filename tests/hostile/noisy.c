// SPDX-License-Identifier: GPL-2.0
/*
 * hostile noisy SECS: the noisy neighbour, run INSIDE the test VM as root
 * with the module loaded as max_reservations=16384 max_acl_entries=16384
 * (so each agent's default share is 1024 of each).
 *
 * One tenant (F, uid 65534) takes all it can of every shared resource:
 * reservations and grants to another agent until its share refuses it,
 * then, for SECS seconds, STATS, /proc stats reads, ACL_REVOKE of whole
 * 4096-entry batches, re-grants that change nothing, and denied DMA checks
 * (event spam).  Meanwhile it asserts that
 *   - another tenant's (V) reserve, release and DMA check succeed,
 *   - V may drop a grant F made to it, and not an admin's entry,
 *   - an admin's AGENT_CREATE, QUOTA_SET, ACL_GRANT (and destroy) succeed,
 *   - a third process's open() and close() succeed,
 * and prints the longest time each operation took, F's included (an upper
 * bound of the lock holds F can cause), as figures: nothing is asserted
 * on time.  Ends with "hostile-noisy: N passed, M failed".
 */
#include <poll.h>
#include <sys/mman.h>
#include <time.h>

#include "hcommon.h"

#define SHARE		1024	/* 16384 / 16 */
#define BATCH		GDL_ACL_BATCH_MAX
#define FLOOD_BASE	0x100000000ULL

enum op {
	OP_F_STATS, OP_F_PROC, OP_F_REVOKE, OP_F_REGRANT, OP_F_DENIED,
	OP_V_RESERVE, OP_V_CHECK, OP_V_RELEASE, OP_V_HOSTILE, OP_V_ACL,
	OP_OPEN_CLOSE,
	OP_A_CREATE, OP_A_QUOTA, OP_A_GRANT, OP_A_DESTROY, OP_NR
};

static const char *const op_name[OP_NR] = {
	"F: STATS", "F: read /proc stats", "F: ACL_REVOKE 4096 (ENOENT)",
	"F: ACL_GRANT 4096 (no change)", "F: DMA_CHECK denied (event)",
	"V: RESERVE", "V: DMA_CHECK own", "V: RELEASE",
	"V: DMA_CHECK denied, 1024 grants", "V: DMA_CHECK admin entry",
	"O: open+close",
	"admin: AGENT_CREATE", "admin: QUOTA_SET", "admin: ACL_GRANT",
	"admin: AGENT_DESTROY",
};

/* Shared between the processes (MAP_SHARED). */
struct noisy_sh {
	volatile int ready, stop;
	volatile int f_nres, f_res_err, f_ngrant, f_grant_err;
	volatile uint64_t count[OP_NR], fails[OP_NR], max_ns[OP_NR];
};

static struct noisy_sh *sh;
static uint32_t dev, agent_f, agent_v;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

/* Time one call of @op; a result other than @want counts as a failure. */
#define TIMED(op, call, want) do {					\
	uint64_t _t = now_ns();						\
	int _r = (call);						\
	_t = now_ns() - _t;						\
	sh->count[op]++;						\
	if (_r != (want)) {						\
		sh->fails[op]++;					\
		if (sh->fails[op] <= 3)					\
			printf("FAIL noisy: %s returned %d (%s)\n",	\
			       op_name[op], _r, T_ERRNAME(_r));		\
	}								\
	if (_t > sh->max_ns[op])					\
		sh->max_ns[op] = _t;					\
} while (0)

/* F's grant number @j to V: half reach the top of the address space. */
static void grant_from_f(struct gdl_acl_entry *e, uint32_t j)
{
	memset(e, 0, sizeof(*e));
	e->agent_id = agent_v;
	e->owner_id = agent_f;
	e->dev_index = dev;
	e->rights = GDL_ACCESS_READ;
	e->addr = FLOOD_BASE + j;
	e->len = j & 1 ? UINT64_MAX - e->addr : 1;
}

static int read_proc_stats(void)
{
	char buf[4096];
	int f = open("/proc/gpu_dma_lock/stats", O_RDONLY), ret = 0;

	if (f < 0)
		return -errno;
	while ((ret = (int)read(f, buf, sizeof(buf))) > 0)
		;
	close(f);
	return ret < 0 ? -errno : 0;
}

/* F: take everything, then keep the shared paths busy until told. */
static void flooder(int unused)
{
	static struct gdl_acl_entry e[BATCH];
	struct gdlock *g;
	struct gdl_stats s;
	uint64_t h;
	int r, i;

	(void)unused;
	if (gdlock_open(&g))
		_exit(2);
	while (!(r = gdlock_reserve(g, dev, 1, &h)))
		sh->f_nres++;
	sh->f_res_err = r;
	for (;;) {
		for (i = 0; i < 256; i++)
			grant_from_f(&e[i], sh->f_ngrant + i);
		r = gdlock_acl_grant(g, e, 256);
		if (r)
			break;
		sh->f_ngrant += 256;
	}
	sh->f_grant_err = r;
	sh->ready = 1;
	while (!sh->stop) {
		TIMED(OP_F_STATS, gdlock_stats(g, &s), 0);
		TIMED(OP_F_PROC, read_proc_stats(), 0);
		/* Every entry found but the last: all searched, none gone. */
		for (i = 0; i < BATCH; i++)
			grant_from_f(&e[i], i % SHARE);
		e[BATCH - 1].len = 2;
		TIMED(OP_F_REVOKE, gdlock_acl_revoke(g, e, BATCH), -ENOENT);
		grant_from_f(&e[BATCH - 1], 0);
		TIMED(OP_F_REGRANT, gdlock_acl_grant(g, e, BATCH), 0);
		for (i = 0; i < 16; i++)
			TIMED(OP_F_DENIED, gdlock_dma_check(g, dev, 0x1000 + i,
							    1, GDL_ACCESS_READ),
			      -EACCES);
	}
	gdlock_close(g);
}

static void victim(int secs)
{
	struct gdl_acl_entry e;
	uint64_t end = now_ns() + secs * 1000000000ULL, h = 0;
	struct gdlock *g;
	int r;

	if (gdlock_open(&g))
		_exit(2);
	while (now_ns() < end) {
		TIMED(OP_V_RESERVE, gdlock_reserve_at(g, dev, 1ULL << 30,
						      1 << 20, &h), 0);
		TIMED(OP_V_CHECK, gdlock_dma_check(g, dev, 1ULL << 30, 4096,
						   GDL_ACCESS_WRITE), 0);
		TIMED(OP_V_RELEASE, gdlock_release(g, h), 0);
		/* Under 512 entries reaching it, none usable: denied. */
		TIMED(OP_V_HOSTILE, gdlock_dma_check(g, dev, FLOOD_BASE + 4096,
						     1, GDL_ACCESS_READ),
		      -EACCES);
		TIMED(OP_V_ACL, gdlock_dma_check(g, dev, 0x2000, 0x1000,
						 GDL_ACCESS_READ), 0);
	}
	/* A grant F made to V: V may drop it; an admin's entry it may not. */
	grant_from_f(&e, 2);
	r = gdlock_acl_revoke(g, &e, 1);
	t_check(r == 0, "V drops a grant F made to it (%d)", r);
	e.owner_id = 0;
	e.addr = 0x2000;
	e.len = 0x1000;
	r = gdlock_acl_revoke(g, &e, 1);
	t_check(r == -EPERM, "V cannot drop an admin's entry (%d)", r);
	gdlock_close(g);
}

static void opener(int secs)
{
	uint64_t end = now_ns() + secs * 1000000000ULL;

	while (now_ns() < end) {
		uint64_t t = now_ns();
		int f = open(GDL_DEVICE_PATH, O_RDWR | O_CLOEXEC);

		sh->count[OP_OPEN_CLOSE]++;
		if (f < 0 || close(f))
			sh->fails[OP_OPEN_CLOSE]++;
		t = now_ns() - t;
		if (t > sh->max_ns[OP_OPEN_CLOSE])
			sh->max_ns[OP_OPEN_CLOSE] = t;
	}
}

/* Fork a child running @fn as uid 65534, bound to @agent (0: unbound). */
static pid_t spawn(struct gdlock *g, uint32_t agent, void (*fn)(int),
		   int arg)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1 || h_drop_privs())
			_exit(99);
		t_passed = t_failed = 0;
		fn(arg);
		fflush(stdout);
		_exit(t_failed ? 1 : 0);
	}
	close(p[0]);
	if (agent)
		gdlock_bind_pid(g, agent, pid);
	if (write(p[1], "x", 1) != 1)
		return -1;
	close(p[1]);
	return pid;
}

static int reap(pid_t pid, const char *who)
{
	int st = 0;

	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		st = -1;
	t_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s exited 0 (%#x)",
		who, st);
	return st;
}

int main(int argc, char **argv)
{
	struct gdl_device_info d[GDL_MAX_DEVICES];
	int secs = argc > 1 ? atoi(argv[1]) : 4, n, i, ready;
	struct gdl_acl_entry adm;
	pid_t pf, pv, po;
	struct gdlock *g;

	t_quiet = !getenv("HOSTILE_VERBOSE");
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_section = "noisy";
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || gdlock_open(&g))
		return 2;
	n = gdlock_device_list(g, d, GDL_MAX_DEVICES);
	T_TRUE(n > 0);
	if (n <= 0)
		return 2;
	dev = d[0].index;
	T_EXPECT(gdlock_agent_create(g, "noisy-f", GDL_QUOTA_UNLIMITED,
				     &agent_f), 0);
	T_EXPECT(gdlock_agent_create(g, "noisy-v", GDL_QUOTA_UNLIMITED,
				     &agent_v), 0);
	/* An admin entry V must not be able to drop. */
	memset(&adm, 0, sizeof(adm));
	adm.agent_id = agent_v;
	adm.dev_index = dev;
	adm.rights = GDL_ACCESS_READ;
	adm.addr = 0x2000;
	adm.len = 0x1000;
	T_EXPECT(gdlock_acl_grant(g, &adm, 1), 0);

	pf = spawn(g, agent_f, flooder, 0);
	for (i = 0; i < 600 && !(ready = sh->ready); i++)
		usleep(100000);
	T_TRUE(ready);
	/* F's floods stopped at its share, not at the node's pool. */
	T_EXPECT(sh->f_nres, SHARE);
	T_EXPECT(sh->f_res_err, -EMFILE);
	T_EXPECT(sh->f_ngrant, SHARE);
	T_EXPECT(sh->f_grant_err, -EMFILE);

	pv = spawn(g, agent_v, victim, secs);
	po = spawn(g, 0, opener, secs);
	{
		uint64_t end = now_ns() + secs * 1000000000ULL;
		struct gdl_acl_entry e = adm;
		uint32_t id;
		char name[32];

		for (i = 0; now_ns() < end; i++) {
			snprintf(name, sizeof(name), "noisy-a%d", i);
			id = 0;
			TIMED(OP_A_CREATE, gdlock_agent_create(g, name, 0, &id),
			      0);
			TIMED(OP_A_QUOTA, gdlock_quota_set(g, id, dev, 1 << 20),
			      0);
			e.agent_id = id;
			TIMED(OP_A_GRANT, gdlock_acl_grant(g, &e, 1), 0);
			TIMED(OP_A_DESTROY, gdlock_agent_destroy(g, id), 0);
			usleep(1000);
		}
	}
	reap(pv, "V (reserve, release, DMA check, drop a grant)");
	reap(po, "O (open, close)");
	sh->stop = 1;
	reap(pf, "F (the flood)");

	printf("noisy: the noisy neighbour, %d s: longest call seen (not asserted)\n",
	       secs);
	printf("noisy:   %-34s %8s %6s %12s\n", "operation", "calls",
	       "failed", "longest us");
	for (i = 0; i < OP_NR; i++) {
		printf("noisy:   %-34s %8llu %6llu %12.1f\n", op_name[i],
		       (unsigned long long)sh->count[i],
		       (unsigned long long)sh->fails[i], sh->max_ns[i] / 1e3);
		t_check(sh->count[i] > 0 && !sh->fails[i],
			"%s: %llu calls, every one as expected", op_name[i],
			(unsigned long long)sh->count[i]);
	}
	T_EXPECT(gdlock_agent_destroy(g, agent_f), 0);
	T_EXPECT(gdlock_agent_destroy(g, agent_v), 0);
	gdlock_close(g);
	h_invariants(h_open(), 1, "after noisy");
	printf("hostile-noisy: %d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

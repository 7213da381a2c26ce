// SPDX-License-Identifier: GPL-2.0
/*
 * The ledger core's own cost, natively on the host: the same C files the
 * module runs (gdl_core.c, gdl_acl.c, ...) built in userspace on one
 * thread, where a read-side RCU section is a depth count as in the kernel.
 *
 *   native [--smoke]              table of ns/op at every scale, then the
 *                                 hostile set and tenant-caused lock holds
 *   native --only OP N AGENTS ACL run one loop (for callgrind, see run.sh)
 *   native --hostile N            the hostile part alone, with N entries
 *
 * The hostile part prints each figure twice, before and after: by the
 * pre-1.2 algorithms (pre12_acl.c, a labelled reference copy) and by the
 * current core, on the same set in the same run, with the ratio.  For
 * grants and revokes it also prints how long this core held admin_lock
 * inside the call, as the userspace compat mutex measured it.
 *
 * OP is check-own, check-acl, reserve-release, or check-hostile and
 * check-hostile-pre12 (the denied check against a hostile set of ACL
 * entries, by this core and by the pre-1.2 walk-back).  Each loop lives in its own
 * noinline function so callgrind can count exactly its instructions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gdl_core.h"
#include "pre12_acl.h"

#define MiB		(1ULL << 20)
#define OWN_ADDR	0x100000ULL
#define ACL_BASE	0x100000000ULL

static struct gdl_ledger L;
static struct gdl_owner O;
static struct gdl_agent *me;
static u32 nr_agents = 1, nr_acl;

static void must(int ret, const char *what)
{
	if (ret) {
		fprintf(stderr, "native: %s: %d\n", what, ret);
		exit(2);
	}
}

static void setup(void)
{
	struct gdl_params p = {
		.default_quota = GDL_QUOTA_UNLIMITED,
		.max_agents = 20000,
		.max_reservations = 1U << 22,
		.max_acl_entries = 1U << 22,
		.enforce = true,
		.policy = GDL_POLICY_DENY,
	};
	struct gdl_device_info d;
	char name[GDL_NAME_LEN] = "bench";	/* a whole ABI field */
	struct gdl_reserve r;
	u32 idx, id;

	must(gdl_ledger_init(&L, &p), "init");
	gdl_owner_init(&L, &O);
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "gpu0");
	d.capacity = GDL_QUOTA_UNLIMITED;
	must(gdl_device_add(&L, &d, GDL_DEV_F_MANUAL, &idx), "device");
	must(gdl_agent_create(&L, name, GDL_QUOTA_UNLIMITED, &id), "agent");
	me = gdl_agent_get(&L, id);
	memset(&r, 0, sizeof(r));
	r.flags = GDL_RESERVE_F_ADDR;
	r.addr = OWN_ADDR;
	r.size = 64 * MiB;
	refcount_inc(&me->ref);	/* the reservation takes one over */
	must(gdl_reserve(&L, &O, me, &r), "reserve");
}

static void grow_agents(u32 target)
{
	char name[GDL_NAME_LEN];
	u32 id;

	while (nr_agents < target) {
		memset(name, 0, sizeof(name));
		snprintf(name, sizeof(name), "filler-%u", nr_agents++);
		must(gdl_agent_create(&L, name, 0, &id), "filler");
	}
}

static void grow_acl(u32 target)
{
	static struct gdl_acl_entry e[GDL_ACL_BATCH_MAX];

	while (nr_acl < target) {
		u32 n = target - nr_acl, i;

		if (n > GDL_ACL_BATCH_MAX)
			n = GDL_ACL_BATCH_MAX;
		memset(e, 0, sizeof(e[0]) * n);
		for (i = 0; i < n; i++) {
			e[i].agent_id = me->id;
			e[i].rights = GDL_ACCESS_READ;
			e[i].addr = ACL_BASE + (u64)(nr_acl + i) * 2 * MiB;
			e[i].len = MiB;
		}
		must(gdl_acl_grant(&L, e, n), "grant");
		nr_acl += n;
	}
}

static noinline void loop_check_own(long n)
{
	struct gdl_dma_check c;

	while (n--) {
		memset(&c, 0, sizeof(c));
		c.access = GDL_ACCESS_READ;
		c.addr = OWN_ADDR + 4096;
		c.len = 4096;
		if (gdl_dma_check(&L, me, &c))
			abort();
	}
}

static noinline void loop_check_acl(long n)
{
	struct gdl_dma_check c;
	u64 addr = ACL_BASE + (u64)(nr_acl / 2) * 2 * MiB + 4096;

	while (n--) {
		memset(&c, 0, sizeof(c));
		c.access = GDL_ACCESS_READ;
		c.addr = addr;
		c.len = 4096;
		if (gdl_dma_check(&L, me, &c))
			abort();
	}
}

static noinline void loop_reserve_release(long n)
{
	struct gdl_reserve r;

	while (n--) {
		memset(&r, 0, sizeof(r));
		r.size = 4096;
		refcount_inc(&me->ref);	/* as the ioctl's caller lookup */
		if (gdl_reserve(&L, &O, me, &r) || gdl_release(&L, &O, r.handle))
			abort();
	}
}

/* Reserve alone, then release alone: @n live reservations in between. */
static noinline void loop_reserve(long n, u64 *h)
{
	struct gdl_reserve r;

	while (n--) {
		memset(&r, 0, sizeof(r));
		r.size = 4096;
		refcount_inc(&me->ref);	/* as the ioctl's caller lookup */
		if (gdl_reserve(&L, &O, me, &r))
			abort();
		*h++ = r.handle;
	}
}

static noinline void loop_release(long n, const u64 *h)
{
	while (n--)
		if (gdl_release(&L, &O, *h++))
			abort();
}

static void ns_reserve_then_release(long n, double *res, double *rel)
{
	u64 *h = malloc(n * sizeof(*h));
	struct timespec a, b, c;

	if (!h)
		exit(2);
	clock_gettime(CLOCK_MONOTONIC, &a);
	loop_reserve(n, h);
	clock_gettime(CLOCK_MONOTONIC, &b);
	loop_release(n, h);
	clock_gettime(CLOCK_MONOTONIC, &c);
	*res = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
	*rel = ((c.tv_sec - b.tv_sec) * 1e9 + (c.tv_nsec - b.tv_nsec)) / n;
	free(h);
}

static double ns_per_op(void (*loop)(long), long n)
{
	struct timespec a, b;

	loop(n / 10);	/* warm up */
	clock_gettime(CLOCK_MONOTONIC, &a);
	loop(n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1e3 + (b.tv_nsec - a->tv_nsec) / 1e6;
}

/* The hostile grantee's entry @j: write-only, reaching the top of memory. */
static void hostile_entry(struct gdl_acl_entry *e, u32 victim, u32 owner,
			  u64 j)
{
	memset(e, 0, sizeof(*e));
	e->agent_id = victim;
	e->owner_id = owner;
	e->rights = GDL_ACCESS_WRITE;
	e->addr = ACL_BASE + j * 4096;
	e->len = U64_MAX - e->addr;
}

static noinline void loop_check_hostile(long n, struct gdl_agent *v, u64 addr)
{
	struct gdl_dma_check c;

	while (n--) {
		memset(&c, 0, sizeof(c));
		c.access = GDL_ACCESS_READ;
		c.addr = addr;
		c.len = 4096;
		if (gdl_dma_check(&L, v, &c) != -EACCES)
			abort();
	}
}

/* The same denied check, by the pre-1.2 walk-back (pre12_acl.c). */
static noinline void loop_check_hostile_pre12(long n,
					      const struct pre12_acl_set *set,
					      u64 addr)
{
	while (n--)
		if (pre12_acl_allows(set, 0, addr, addr + 4096, GDL_ACCESS_READ, 0))
			abort();
}

/*
 * before: the pre-1.2 call, all of it under admin_lock; after: this core's
 * call, whole; held: the longest admin_lock hold inside it (measured by the
 * compat mutex, tests/unit/compat), 0 where not measured.
 */
struct hostile_row {
	const char *what;
	double before, after, held;
};

static void hostile_row(const struct hostile_row *r)
{
	double by = r->held > 0 ? r->held : r->after;

	printf("  %-46s %14.3f %12.3f %12.4f %11.1fx\n", r->what, r->before,
	       r->after, r->held, by > 0 ? r->before / by : 0);
}

/* Watch admin_lock from now: see hostile_row. */
static void held_start(void)
{
	gdl_test_watch_mutex(&L.admin_lock);
}

static double held_ms(void)
{
	double ms = gdl_test_watched_longest_ns() / 1e6;

	gdl_test_watch_mutex(NULL);
	return ms;
}

/* Entries @from..@from+@n-1 of the hostile tenant's, into @e. */
static void hostile_batch(struct gdl_acl_entry *e, u32 n, u32 victim,
			  u32 owner, u64 from)
{
	u32 i;

	for (i = 0; i < n; i++)
		hostile_entry(&e[i], victim, owner, from + i);
}

struct hostile_set {
	u32 vid, tid;			/* victim (grantee), tenant (owner) */
	struct gdl_agent *v;		/* a reference held */
	struct pre12_acl_set *old;	/* the same set, the pre-1.2 way */
	u64 addr;			/* a read here is denied */
};

/*
 * A set built to defeat the DMA check: @n entries of one tenant's, every
 * one covering the address checked, none with the right asked for; in the
 * core's ledger and as a pre-1.2 set.
 */
static void hostile_build(struct hostile_set *h, u32 n)
{
	char vname[GDL_NAME_LEN] = "hostile-victim";	/* whole ABI fields */
	char tname[GDL_NAME_LEN] = "hostile-tenant";
	struct gdl_acl_entry *all = malloc(sizeof(*all) * (n ? n : 1));
	u32 done = 0, k;

	if (!all)
		exit(2);
	must(gdl_agent_create(&L, vname, 0, &h->vid), "victim");
	must(gdl_agent_create(&L, tname, 0, &h->tid), "tenant");
	h->v = gdl_agent_get(&L, h->vid);
	hostile_batch(all, n, h->vid, h->tid, 0);
	while (done < n) {
		k = n - done < GDL_ACL_BATCH_MAX ? n - done : GDL_ACL_BATCH_MAX;
		must(gdl_acl_grant(&L, all + done, k), "hostile grant");
		done += k;
	}
	h->old = pre12_acl_set_build(all, n);
	if (!h->old)
		exit(2);
	h->addr = ACL_BASE + (u64)n * 4096 + 4096;
	free(all);
}

static void hostile_free(struct hostile_set *h)
{
	kvfree(h->old);
	gdl_agent_put(&L, h->v);
	must(gdl_agent_destroy(&L, h->vid), "victim destroy");
	must(gdl_agent_destroy(&L, h->tid), "tenant destroy");
}

/*
 * The hostile set's denied check (hostile_build()).  Then
 * the calls a tenant can make that hold admin_lock, each timed whole (an
 * upper bound of the hold) against that set.  Each is done twice in this
 * run: by the pre-1.2 algorithms (pre12_acl.c, a reference copy from
 * commit ca0a1f2) on the same set, and by the current core.
 */
static void hostile_report(u32 n)
{
	static struct gdl_acl_entry e[GDL_ACL_BATCH_MAX];
	struct pre12_acl_set *old, *grown, *tmp;
	struct hostile_row rows[5] = { { 0 } };
	struct hostile_set h;
	struct timespec t0;
	u32 vid, tid, i;
	u64 addr;
	long reps = n >= 100000 ? 2000 : 20000;
	long reps_before = 20000000L / (n + 1) + 1;	/* O(n) each */
	double longest_before = 0, longest_after = 0, longest_held = 0;

	hostile_build(&h, n);
	vid = h.vid;
	tid = h.tid;
	old = h.old;
	addr = h.addr;
	printf("\nHostile set: %u entries of one tenant in the victim's set, each reaching the top of the address space, write only; the victim checks a read (denied).\n",
	       n);
	printf("Before: the pre-1.2 algorithms (tests/bench/pre12_acl.c, a copy of src/gdl_acl.c at ca0a1f2) on the same set; after: this core.  Same run.\n");
	printf("Columns: before, the pre-1.2 call (all of it under admin_lock); after, this core's call whole; held, the longest admin_lock hold inside it (the compat mutex measures it); before/held (before/after where no hold is measured).\n");
	printf("  %-46s %14s %12s %12s %12s\n", "operation", "before", "after",
	       "held", "before/held");

	rows[0].what = "DMA check, denied (ns/op)";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	loop_check_hostile_pre12(reps_before, old, addr);
	rows[0].before = ms_since(&t0) * 1e6 / reps_before;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	loop_check_hostile(reps, h.v, addr);
	rows[0].after = ms_since(&t0) * 1e6 / reps;
	hostile_row(&rows[0]);

	/* Re-grant one entry it holds: changes nothing. */
	rows[1].what = "ACL_GRANT, 1 entry already there (ms)";
	hostile_batch(e, 1, vid, tid, n / 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tmp = pre12_acl_grant(old, e, 1);
	rows[1].before = ms_since(&t0);
	if (!tmp || tmp->nr != n)
		abort();
	kvfree(tmp);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	held_start();
	must(gdl_acl_grant(&L, e, 1), "regrant");
	rows[1].after = ms_since(&t0);
	rows[1].held = held_ms();

	/* A full batch of new entries. */
	rows[2].what = "ACL_GRANT, 4096 new entries (ms)";
	hostile_batch(e, GDL_ACL_BATCH_MAX, vid, tid, n + 16);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	grown = pre12_acl_grant(old, e, GDL_ACL_BATCH_MAX);
	rows[2].before = ms_since(&t0);
	if (!grown || grown->nr != n + GDL_ACL_BATCH_MAX)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	held_start();
	must(gdl_acl_grant(&L, e, GDL_ACL_BATCH_MAX), "grant batch");
	rows[2].after = ms_since(&t0);
	rows[2].held = held_ms();

	/* A full batch to revoke, the last one absent: all searched. */
	rows[3].what = "ACL_REVOKE, 4096 entries, last absent (ms)";
	for (i = 0; i < GDL_ACL_BATCH_MAX; i++)
		hostile_entry(&e[i], vid, tid, (u64)i * (n / GDL_ACL_BATCH_MAX));
	e[GDL_ACL_BATCH_MAX - 1].len = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pre12_acl_revoke(grown, e, GDL_ACL_BATCH_MAX, &tmp) != -ENOENT)
		abort();
	rows[3].before = ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	held_start();
	if (gdl_acl_revoke(&L, e, GDL_ACL_BATCH_MAX) != -ENOENT)
		abort();
	rows[3].after = ms_since(&t0);
	rows[3].held = held_ms();

	rows[4].what = "ACL_REVOKE, 4096 entries (ms)";
	hostile_batch(e, GDL_ACL_BATCH_MAX, vid, tid, n + 16);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pre12_acl_revoke(grown, e, GDL_ACL_BATCH_MAX, &tmp))
		abort();
	rows[4].before = ms_since(&t0);
	if (tmp->nr != n)
		abort();
	kvfree(tmp);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	held_start();
	must(gdl_acl_revoke(&L, e, GDL_ACL_BATCH_MAX), "revoke batch");
	rows[4].after = ms_since(&t0);
	rows[4].held = held_ms();

	for (i = 1; i < 5; i++) {
		hostile_row(&rows[i]);
		longest_before = max(longest_before, rows[i].before);
		longest_after = max(longest_after, rows[i].after);
		longest_held = max(longest_held, rows[i].held);
	}
	printf("Longest admin_lock hold a tenant can cause (before: the largest call; after: the largest hold measured, ms):\n");
	hostile_row(&(struct hostile_row){ "grant or revoke of one batch", longest_before,
					   longest_after, longest_held });
	kvfree(grown);
	hostile_free(&h);
}

int main(int argc, char **argv)
{
	static const u32 scale_agents[] = { 1, 100, 10000 };
	static const u32 scale_acl[] = { 1, 1000, 100000 };
	long n = 1000000;
	int i, j;

	setup();
	if (argc == 6 && !strcmp(argv[1], "--only")) {
		grow_agents(atoi(argv[4]));
		n = atol(argv[3]);
		if (!strncmp(argv[2], "check-hostile", 13)) {
			struct hostile_set h;

			hostile_build(&h, atoi(argv[5]));
			if (!strcmp(argv[2], "check-hostile-pre12"))
				loop_check_hostile_pre12(n, h.old, h.addr);
			else
				loop_check_hostile(n, h.v, h.addr);
			hostile_free(&h);
			return 0;
		}
		grow_acl(atoi(argv[5]));
		if (!strcmp(argv[2], "check-own"))
			loop_check_own(n);
		else if (!strcmp(argv[2], "check-acl"))
			loop_check_acl(n);
		else
			loop_reserve_release(n);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--hostile")) {
		hostile_report(atoi(argv[2]));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--smoke"))
		n = 1000;

	{
		double res, rel;

		ns_reserve_then_release(n / 10, &res, &res);	/* warm */
		ns_reserve_then_release(n, &res, &rel);
		printf("Native core, one thread: reserve %.1f ns/op, release %.1f ns/op (%ld live in between)\n\n",
		       res, rel, n);
	}
	printf("Native core, one thread (ns/op):\n");
	printf("  %-8s %-9s %14s %14s %18s\n", "agents", "acl", "check (own)",
	       "check (acl)", "reserve+release");
	for (i = 0; i < 3; i++) {
		grow_agents(scale_agents[i]);
		for (j = 0; j < 3; j++) {
			if (i && j)
				continue;
			grow_acl(scale_acl[j]);
			printf("  %-8u %-9u %14.1f %14.1f %18.1f\n", nr_agents,
			       nr_acl, ns_per_op(loop_check_own, n),
			       ns_per_op(loop_check_acl, n),
			       ns_per_op(loop_reserve_release, n));
		}
	}
	hostile_report(n >= 1000000 ? 100000 : 1000);
	gdl_owner_fini(&L, &O);
	gdl_agent_put(&L, me);
	gdl_ledger_destroy(&L);
	printf("native: done\n");
	return 0;
}

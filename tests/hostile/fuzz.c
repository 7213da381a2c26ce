// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded ABI fuzzer for /dev/gpu_dma_lock, run inside the test VM as root.
 *
 *   fuzz [-s SEED] [-n CALLS] [-p PROCS] [-t THREADS] [-u UNPRIV]
 *
 * CALLS ioctls (and a few read()s) in all, spread over PROCS root processes
 * of THREADS threads each plus UNPRIV processes running as uid 65534.
 * Every thread draws from its own xorshift64* stream derived from SEED, so
 * a seed replays the same sequence of calls per thread (the interleaving of
 * threads is up to the scheduler).  The seed is printed first.
 *
 * Calls are well-formed commands with mutated fields, random command
 * numbers (number, direction, size, type), and bad user pointers: NULL,
 * unmapped, PROT_NONE, straddling a page end, unaligned, kernel and
 * non-canonical addresses.  Values come from shared pools (handles of any
 * file, agents alive or destroyed, devices present or removed) so that
 * operations cross files, processes and object lifetimes.  Root threads
 * also create/destroy agents and devices, bind pids and cgroups, and move
 * themselves between cgroups.
 *
 * Oracle: every error must be one of the errnos docs/abi.md lists.  After
 * all workers exited, the ledger must be at rest (hcommon.h invariants).
 * Last line: "fuzz: seed=S calls=N ... unexpected=U" and exit 0 iff clean.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "hcommon.h"

#define NPOOL		64
#define ARENA_PAGES	8
#define NCG		3

struct shared {
	volatile uint64_t handles[NPOOL];
	volatile uint32_t agents[NPOOL];
	volatile uint32_t devs[NPOOL];
	volatile int pids[64];
	volatile uint64_t calls;
	volatile uint64_t unexpected;
	volatile uint64_t ok;
	volatile uint64_t err[160];
};

static struct shared *sh;
static long pagesz;
static uint64_t per_thread;
static int cgfd[NCG];
static int unpriv;

struct worker {
	uint64_t rng;
	int fd[2];
	unsigned char *arena;	/* ARENA_PAGES rw, then one PROT_NONE page */
	unsigned char *hole;	/* an unmapped page */
	unsigned char *none;	/* a PROT_NONE page */
	int id;
};

static uint64_t xs(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rnd(struct worker *w, uint64_t n)
{
	return n ? xs(w) % n : 0;
}

static int chance(struct worker *w, int pct)
{
	return (int)rnd(w, 100) < pct;
}

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static const uint64_t edge64[] = {
	0, 1, 2, 4095, 4096, 4097, 1ULL << 20, 1ULL << 30, 1ULL << 31,
	1ULL << 32, (1ULL << 32) - 1, 1ULL << 62, 1ULL << 63,
	(1ULL << 63) - 1, ~0ULL, ~0ULL - 1, ~0ULL - 4095, ~0ULL << 12,
	0x7fffffff, 0x80000000, 0xffffffff,
};

static uint64_t val64(struct worker *w)
{
	switch (rnd(w, 6)) {
	case 0:
		return edge64[rnd(w, sizeof(edge64) / sizeof(edge64[0]))];
	case 1:
		return xs(w);
	case 2:
		return rnd(w, 64) << 12;
	case 3:
		return (uint64_t)-(int64_t)rnd(w, 4097);
	default:
		return rnd(w, 1 << 20) + 1;
	}
}

static uint32_t val32(struct worker *w)
{
	switch (rnd(w, 5)) {
	case 0:
		return (uint32_t)edge64[rnd(w, sizeof(edge64) / sizeof(edge64[0]))];
	case 1:
		return (uint32_t)xs(w);
	default:
		return (uint32_t)rnd(w, 40);
	}
}

static uint32_t pick_agent(struct worker *w)
{
	if (chance(w, 10))
		return val32(w);
	if (chance(w, 10))
		return 0;
	return sh->agents[rnd(w, NPOOL)];
}

static uint32_t pick_dev(struct worker *w)
{
	if (chance(w, 10))
		return val32(w);
	if (chance(w, 5))
		return GDL_ALL_DEVICES;
	return chance(w, 70) ? sh->devs[rnd(w, 8)] : (uint32_t)rnd(w, 34);
}

static uint64_t pick_handle(struct worker *w)
{
	return chance(w, 15) ? val64(w) : sh->handles[rnd(w, NPOOL)];
}

static uint64_t pick_addr(struct worker *w)
{
	return chance(w, 60) ? rnd(w, 256) << 12 : val64(w);
}

static uint64_t pick_size(struct worker *w)
{
	return chance(w, 70) ? (rnd(w, 16) + 1) << 12 : val64(w);
}

static uint32_t pick_rights(struct worker *w)
{
	return chance(w, 85) ? (uint32_t)rnd(w, 8) : val32(w);
}

static void fill_name(struct worker *w, char *name)
{
	int i, n = (int)rnd(w, 8);

	memset(name, 0, GDL_NAME_LEN);
	if (chance(w, 5)) {	/* garbage, unterminated, hidden bytes */
		for (i = 0; i < GDL_NAME_LEN; i++)
			name[i] = (char)xs(w);
		return;
	}
	for (i = 0; i < n; i++)
		name[i] = "abcdef-_.:@X!"[rnd(w, 13)];
}

/* Flip some bytes of the struct: reserved fields, flags, anything. */
static void mutate(struct worker *w, void *p, size_t len)
{
	unsigned char *b = p;
	int n = chance(w, 60) ? 0 : (int)rnd(w, 4) + 1;

	while (n-- > 0 && len) {
		size_t off = rnd(w, len);

		switch (rnd(w, 3)) {
		case 0:
			b[off] ^= (unsigned char)(1u << rnd(w, 8));
			break;
		case 1:
			b[off] = (unsigned char)xs(w);
			break;
		default:
			memset(b + (off & ~7UL), 0xff,
			       len - (off & ~7UL) < 8 ? len - (off & ~7UL) : 8);
		}
	}
}

static const unsigned long cmds[] = {
	GDL_IOC_NOP, GDL_IOC_VERSION, GDL_IOC_WHOAMI, GDL_IOC_DEVICE_LIST,
	GDL_IOC_DEVICE_ADD, GDL_IOC_DEVICE_SET, GDL_IOC_DEVICE_REMOVE,
	GDL_IOC_AGENT_CREATE, GDL_IOC_AGENT_DESTROY, GDL_IOC_AGENT_LIST,
	GDL_IOC_AGENT_BIND, GDL_IOC_BIND_LIST, GDL_IOC_QUOTA_SET,
	GDL_IOC_QUOTA_GET,
	GDL_IOC_RESERVE, GDL_IOC_RELEASE, GDL_IOC_DMA_CHECK, GDL_IOC_ACL_GRANT,
	GDL_IOC_ACL_REVOKE, GDL_IOC_ACL_LIST, GDL_IOC_STATS,
};

/* Weighted toward the fast path; STATS (takes the admin lock) is rare. */
static unsigned long pick_cmd(struct worker *w)
{
	static const unsigned char weight[] = {
		2, 2, 3, 3, 2, 2, 1, 2, 1, 2, 3, 2, 3, 4, 22, 14, 18, 4, 3, 3,
		1,
	};
	unsigned int i, sum = 0, r;

	_Static_assert(sizeof(weight) == sizeof(cmds) / sizeof(cmds[0]),
		       "a weight per command");
	for (i = 0; i < sizeof(weight); i++)
		sum += weight[i];
	r = (unsigned int)rnd(w, sum);
	for (i = 0; r >= weight[i]; i++)
		r -= weight[i];
	return cmds[i];
}

static void fill_acl(struct worker *w, struct gdl_acl_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->agent_id = pick_agent(w);
	e->owner_id = chance(w, 50) ? 0 : pick_agent(w);
	e->dev_index = pick_dev(w);
	e->rights = pick_rights(w);
	if (e->rights & GDL_ACCESS_PEER && chance(w, 80)) {
		e->peer_index = pick_dev(w);
	} else {
		e->addr = pick_addr(w);
		e->len = pick_size(w);
	}
	mutate(w, e, sizeof(*e));
}

static void *bad_ptr(struct worker *w, void *good, size_t len);

/*
 * A mutated user pointer could land in this process's own memory (another
 * thread's stack, the heap) and the kernel would rightly write there: keep
 * array pointers within the arena or make them one of the bad ones.
 */
static void safe_ptr(struct worker *w, unsigned long cmd, unsigned char *buf)
{
	uint64_t p;

	if (_IOC_TYPE(cmd) != GDL_IOC_MAGIC ||
	    (_IOC_NR(cmd) != 0x10 && _IOC_NR(cmd) != 0x22 &&
	     _IOC_NR(cmd) != 0x24 &&
	     (_IOC_NR(cmd) < 0x60 || _IOC_NR(cmd) > 0x62)))
		return;
	memcpy(&p, buf, sizeof(p));
	if (p >= (uintptr_t)w->arena &&
	    p < (uintptr_t)w->arena + ARENA_PAGES * pagesz)
		return;
	p = (uintptr_t)bad_ptr(w, w->arena + 2 * pagesz, 64);
	memcpy(buf, &p, sizeof(p));
}

/*
 * Fill @buf (in the arena) with a plausible argument for @cmd; returns the
 * number of bytes the command's struct has.
 */
static size_t fill_arg(struct worker *w, unsigned long cmd, unsigned char *buf)
{
	size_t len = _IOC_SIZE(cmd);
	unsigned char *arr = w->arena + 2 * pagesz;

	memset(buf, 0, len);
	switch (_IOC_NR(cmd)) {
	case 0x10: case 0x22: case 0x24: case 0x62: {	/* lists */
		struct gdl_array *a = (void *)buf;
		uint32_t esize;

		switch (_IOC_NR(cmd)) {
		case 0x10:
			esize = sizeof(struct gdl_device_info);
			break;
		case 0x22:
			esize = sizeof(struct gdl_agent_info);
			break;
		case 0x24:
			esize = sizeof(struct gdl_binding_info);
			break;
		default:
			esize = sizeof(struct gdl_acl_entry);
		}
		a->ptr = (uintptr_t)arr + (chance(w, 10) ? rnd(w, pagesz) : 0);
		a->count = chance(w, 70) ? (uint32_t)rnd(w, 8) : val32(w);
		a->entry_size = chance(w, 80) ?
			esize + (uint32_t)rnd(w, 3) * 8 : val32(w);
		if ((_IOC_NR(cmd) == 0x62 || _IOC_NR(cmd) == 0x24) &&
		    chance(w, 50))
			a->filter_agent = pick_agent(w);
		break;
	}
	case 0x60: case 0x61: {			/* ACL batches */
		struct gdl_array *a = (void *)buf;
		uint32_t i, n = (uint32_t)rnd(w, 4) + 1;

		for (i = 0; i < n; i++)
			fill_acl(w, (struct gdl_acl_entry *)arr + i);
		a->ptr = (uintptr_t)arr;
		a->count = chance(w, 90) ? n : val32(w);
		a->entry_size = chance(w, 90) ? sizeof(struct gdl_acl_entry) :
						val32(w);
		break;
	}
	case 0x11: {
		struct gdl_device_info *d = (void *)buf;

		fill_name(w, d->name);
		d->capacity = chance(w, 70) ? (rnd(w, 64) + 1) << 20 : val64(w);
		if (chance(w, 30)) {
			d->vendor = (uint16_t)rnd(w, 3);
			d->pci_bdf = (uint32_t)rnd(w, 4);
		}
		break;
	}
	case 0x12: {
		struct gdl_device_set *s = (void *)buf;

		s->index = pick_dev(w);
		s->mask = (uint32_t)rnd(w, 9);
		s->capacity = chance(w, 70) ? (rnd(w, 64) + 1) << 20 : val64(w);
		fill_name(w, s->name);
		break;
	}
	case 0x13: case 0x21: {
		struct gdl_id *id = (void *)buf;

		id->id = _IOC_NR(cmd) == 0x13 ? pick_dev(w) : pick_agent(w);
		break;
	}
	case 0x20: {
		struct gdl_agent_info *a = (void *)buf;

		fill_name(w, a->name);
		a->default_quota = chance(w, 50) ? (rnd(w, 64) + 1) << 20 :
						   val64(w);
		break;
	}
	case 0x23: {
		struct gdl_bind *b = (void *)buf;

		b->agent_id = pick_agent(w);
		b->type = chance(w, 90) ? (uint32_t)rnd(w, 2) + 1 : val32(w);
		b->flags = chance(w, 40) ? GDL_BIND_F_UNBIND :
			   chance(w, 90) ? 0 : val32(w);
		if (b->type == GDL_BIND_CGROUP_FD && chance(w, 80))
			b->value = cgfd[rnd(w, NCG)];
		else if (chance(w, 70))
			b->value = sh->pids[rnd(w, 64)];
		else
			b->value = (int64_t)val64(w);
		break;
	}
	case 0x30: {
		struct gdl_quota_set *q = (void *)buf;

		q->agent_id = pick_agent(w);
		q->dev_index = pick_dev(w);
		q->quota = chance(w, 70) ? rnd(w, 64) << 20 : val64(w);
		break;
	}
	case 0x31: {
		struct gdl_quota *q = (void *)buf;

		q->agent_id = chance(w, 50) ? 0 : pick_agent(w);
		q->dev_index = pick_dev(w);
		break;
	}
	case 0x40: {
		struct gdl_reserve *r = (void *)buf;

		r->dev_index = pick_dev(w);
		r->size = pick_size(w);
		if (chance(w, 40)) {
			r->flags = GDL_RESERVE_F_ADDR;
			r->addr = pick_addr(w);
		}
		break;
	}
	case 0x41: {
		struct gdl_release *r = (void *)buf;

		r->handle = pick_handle(w);
		break;
	}
	case 0x50: {
		struct gdl_dma_check *c = (void *)buf;

		c->dev_index = pick_dev(w);
		c->access = pick_rights(w);
		if (c->access & GDL_ACCESS_PEER)
			c->peer_index = pick_dev(w);
		if (c->access & 3 || chance(w, 10)) {
			c->addr = pick_addr(w);
			c->len = pick_size(w);
		}
		break;
	}
	}
	if (_IOC_DIR(cmd) & _IOC_WRITE)
		mutate(w, buf, len);
	safe_ptr(w, cmd, buf);
	return len;
}

/* Types the VFS answers itself (FIONBIO, FIFREEZE, FICLONE, ...): skip. */
static int vfs_type(unsigned int type)
{
	return type == 'T' || type == 'X' || type == 'f' || type == 0x94 ||
	       type == 0x15 || type == 0x12;
}

static const int documented[] = {
	ENOTTY, EINVAL, E2BIG, EFAULT, EOVERFLOW, EPERM, ENOLINK, ESRCH,
	ENOENT, ENODEV, EEXIST, EBUSY, EDQUOT, ENOSPC, EADDRINUSE, EACCES,
	EUSERS, ENOBUFS, EBADF, ENOMEM, EMFILE, EBADFD,
};

static void account(int ret, unsigned long cmd)
{
	unsigned int i;

	__atomic_add_fetch(&sh->calls, 1, __ATOMIC_RELAXED);
	if (!ret) {
		__atomic_add_fetch(&sh->ok, 1, __ATOMIC_RELAXED);
		return;
	}
	if (-ret < 160)
		__atomic_add_fetch(&sh->err[-ret], 1, __ATOMIC_RELAXED);
	for (i = 0; i < sizeof(documented) / sizeof(documented[0]); i++)
		if (-ret == documented[i])
			return;
	if (__atomic_add_fetch(&sh->unexpected, 1, __ATOMIC_RELAXED) < 20)
		printf("FAIL fuzz: undocumented errno %d (%s) from cmd %#lx\n",
		       -ret, strerror(-ret), cmd);
}

/* A pointer for the argument: usually @good, sometimes a bad one. */
static void *bad_ptr(struct worker *w, void *good, size_t len)
{
	unsigned char *guard = w->arena + ARENA_PAGES * pagesz;

	switch (rnd(w, 10)) {
	case 0:
		return NULL;
	case 1:
		return w->hole + rnd(w, pagesz);
	case 2:
		return w->none;
	case 3:	/* straddles the end of the arena into the guard page */
		return guard - (len > 1 ? rnd(w, len - 1) + 1 : 1);
	case 4:
		return (unsigned char *)good + rnd(w, 7) + 1;	/* unaligned */
	case 5:
		return (void *)(uintptr_t)0xffff888000000000ULL;
	case 6:
		return (void *)(uintptr_t)0x8000000000000000ULL;
	case 7:
		return (void *)(uintptr_t)rnd(w, 65536);
	case 8:
		return (void *)(uintptr_t)~0ULL;
	default:
		return (void *)(uintptr_t)0x00007ffffffff000ULL;
	}
}

static void remember(struct worker *w, unsigned long cmd, void *arg)
{
	if (cmd == GDL_IOC_RESERVE)
		sh->handles[rnd(w, NPOOL)] = ((struct gdl_reserve *)arg)->handle;
	else if (cmd == GDL_IOC_AGENT_CREATE)
		sh->agents[rnd(w, NPOOL)] = ((struct gdl_agent_info *)arg)->id;
	else if (cmd == GDL_IOC_DEVICE_ADD)
		sh->devs[rnd(w, 8)] = ((struct gdl_device_info *)arg)->index;
}

/* Keep a few agents and devices alive so that the ledger stays busy. */
static void replenish(struct worker *w, int fd)
{
	struct gdl_agent_info a;
	struct gdl_device_info d;
	struct gdl_quota_set q;

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "fz%u-%u", w->id,
		 (unsigned int)rnd(w, 1000000));
	a.default_quota = (rnd(w, 32) + 1) << 20;
	if (!h_ioctl(fd, GDL_IOC_AGENT_CREATE, &a))
		sh->agents[rnd(w, NPOOL)] = a.id;
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "fzd%u", (unsigned int)rnd(w, 1000));
	d.capacity = (rnd(w, 256) + 1) << 20;
	if (!h_ioctl(fd, GDL_IOC_DEVICE_ADD, &d))
		sh->devs[rnd(w, 8)] = d.index;
	memset(&q, 0, sizeof(q));
	q.agent_id = sh->agents[rnd(w, NPOOL)];
	q.dev_index = GDL_ALL_DEVICES;
	q.quota = (rnd(w, 64) + 1) << 20;
	h_ioctl(fd, GDL_IOC_QUOTA_SET, &q);
}

static void one_call(struct worker *w)
{
	unsigned char *buf = w->arena + rnd(w, 8) * 8;
	int fd = w->fd[chance(w, 80) ? 0 : 1], ret;
	unsigned long cmd;
	void *arg = buf;
	size_t len;

	if (chance(w, 1)) {	/* the event channel, with odd buffers */
		char *p = chance(w, 50) ? (char *)w->arena + pagesz :
					  bad_ptr(w, w->arena, 64);
		int flags = fcntl(fd, F_GETFL);

		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		ret = (int)read(fd, p, chance(w, 50) ? sizeof(struct gdl_event) *
				(rnd(w, 4) + 1) : rnd(w, 200));
		__atomic_add_fetch(&sh->calls, 1, __ATOMIC_RELAXED);
		if (ret < 0 && errno != EAGAIN && errno != EINVAL &&
		    errno != EFAULT && errno != ENOLINK && errno != ESRCH)
			account(-errno, 0);
		return;
	}
	if (!unpriv && w->id >= 0 && chance(w, 1)) {
		if (chance(w, 50)) {
			replenish(w, fd);
		} else {	/* move between cgroups */
			char path[64];
			int cg = (int)rnd(w, NCG + 1), f;

			snprintf(path, sizeof(path), cg < NCG ?
				 "/sys/fs/cgroup/gdl-fuzz%d/cgroup.procs" :
				 "/sys/fs/cgroup/cgroup.procs", cg);
			f = open(path, O_WRONLY);
			if (f >= 0) {
				dprintf(f, "%d", getpid());
				close(f);
			}
		}
	}

	switch (rnd(w, 20)) {
	case 0: case 1: {		/* a random command number */
		unsigned int type = chance(w, 70) ? GDL_IOC_MAGIC :
				    (unsigned int)rnd(w, 256);
		unsigned int nr = chance(w, 60) ? (unsigned int)rnd(w, 0x80) :
				  (unsigned int)rnd(w, 256);
		unsigned int dir = (unsigned int)rnd(w, 4);
		unsigned int size = chance(w, 60) ? (unsigned int)rnd(w, 512) :
				    (unsigned int)rnd(w, 1 << 14);

		if (vfs_type(type))
			type = GDL_IOC_MAGIC;
		cmd = _IOC(dir, type, nr, size);
		if (size > ARENA_PAGES * pagesz - 64)
			size = 64;
		for (len = 0; len < size && len < 512; len++)
			buf[len] = chance(w, 80) ? 0 : (unsigned char)xs(w);
		safe_ptr(w, cmd, buf);
		if (chance(w, 20))
			arg = bad_ptr(w, buf, size);
		break;
	}
	case 2: {			/* a valid command at another size */
		unsigned long c = pick_cmd(w);
		unsigned int size = chance(w, 50) ? (unsigned int)rnd(w, 512) :
				    (unsigned int)_IOC_SIZE(c) + 8 *
				    (unsigned int)rnd(w, 4);

		fill_arg(w, c, buf);
		if (chance(w, 50))
			memset(buf + _IOC_SIZE(c), 0, 64);
		else
			buf[_IOC_SIZE(c) + rnd(w, 32)] = (unsigned char)xs(w);
		cmd = _IOC(_IOC_DIR(c), _IOC_TYPE(c), _IOC_NR(c), size);
		break;
	}
	case 3: case 4:			/* a valid command, a bad pointer */
		cmd = pick_cmd(w);
		len = fill_arg(w, cmd, buf);
		arg = bad_ptr(w, buf, len);
		/* The arena's end: copy what fits, so the tail faults. */
		if ((unsigned char *)arg > w->arena &&
		    (unsigned char *)arg < w->arena + ARENA_PAGES * pagesz &&
		    (unsigned char *)arg != buf) {
			size_t room = (size_t)(w->arena + ARENA_PAGES * pagesz -
					       (unsigned char *)arg);

			memmove(arg, buf, room < len ? room : len);
		}
		break;
	default:			/* a plausible command */
		cmd = pick_cmd(w);
		fill_arg(w, cmd, buf);
		break;
	}
	ret = h_ioctl(fd, cmd, arg);
	if (!ret && arg == buf)
		remember(w, cmd, buf);
	account(ret, cmd);
}

static void *thread_main(void *p)
{
	struct worker *w = p;
	uint64_t i;

	for (i = 0; i < per_thread; i++)
		one_call(w);
	return NULL;
}

static void worker_init(struct worker *w, uint64_t seed, int id)
{
	unsigned char *m;

	w->id = id;
	w->rng = splitmix(seed ^ splitmix((uint64_t)(id + 1000)));
	if (!w->rng)
		w->rng = 1;
	m = mmap(NULL, (ARENA_PAGES + 3) * pagesz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		exit(3);
	w->arena = m;
	mprotect(m + ARENA_PAGES * pagesz, pagesz, PROT_NONE);
	w->none = m + ARENA_PAGES * pagesz;
	/*
	 * Far below where mmap() places things (thread stacks included), so
	 * that it stays unmapped for the whole run.
	 */
	w->hole = (unsigned char *)(uintptr_t)(0x200000000000ULL +
					       (uint64_t)id * 0x10000);
}

/* One process: T threads sharing two files, one of them per thread. */
static void proc_main(uint64_t seed, int pid_idx, int threads, int as_nobody)
{
	pthread_t th[16];
	struct worker w[16];
	int fds[2], t;

	if (as_nobody && h_drop_privs())
		_exit(99);
	unpriv = as_nobody;
	fds[0] = h_open();
	fds[1] = h_open();
	for (t = 0; t < threads; t++) {
		worker_init(&w[t], seed, pid_idx * 16 + t);
		w[t].fd[0] = fds[t & 1];
		w[t].fd[1] = fds[!(t & 1)];
		if (pthread_create(&th[t], NULL, thread_main, &w[t]))
			_exit(4);
	}
	for (t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	/* Half the processes leave their files to the exit path. */
	if (seed & (1ULL << (pid_idx & 31)))
		_exit(0);
	close(fds[0]);
	close(fds[1]);
	_exit(0);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0, calls = 100000;
	int procs = 4, threads = 2, nobody = 1, opt, i, bad = 0, st;
	struct timespec t0, t1;
	pid_t pids[64];
	double secs;
	int fd;
	/* Thousands of cases: only the failures print, unless asked. */
	t_quiet = !getenv("HOSTILE_VERBOSE");

	while ((opt = getopt(argc, argv, "s:n:p:t:u:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': calls = strtoull(optarg, NULL, 0); break;
		case 'p': procs = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'u': nobody = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: fuzz [-s SEED] [-n CALLS] [-p PROCS] [-t THREADS] [-u UNPRIV]\n");
			return 2;
		}
	}
	if (!seed) {
		clock_gettime(CLOCK_REALTIME, &t0);
		seed = splitmix((uint64_t)t0.tv_nsec ^ (uint64_t)getpid());
	}
	if (procs < 1 || procs + nobody > 64 || threads < 1 || threads > 16)
		return 2;
	t_section = "fuzz";
	pagesz = sysconf(_SC_PAGESIZE);
	printf("fuzz: seed=%#llx calls=%llu procs=%d threads=%d unprivileged=%d\n",
	       (unsigned long long)seed, (unsigned long long)calls, procs,
	       threads, nobody);
	fflush(stdout);
	per_thread = calls / (uint64_t)((procs + nobody) * threads);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 3;
	for (i = 0; i < NCG; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/fs/cgroup/gdl-fuzz%d", i);
		mkdir(path, 0755);
		cgfd[i] = open(path, O_RDONLY | O_DIRECTORY);
	}
	for (i = 0; i < 8; i++)
		sh->devs[i] = (uint32_t)i;
	sh->pids[0] = getpid();
	sh->pids[1] = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < procs + nobody; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			proc_main(seed, i, threads, i >= procs);
		if (pids[i] > 0)
			sh->pids[2 + i] = pids[i];
	}
	for (i = 0; i < procs + nobody; i++) {
		if (pids[i] <= 0 || waitpid(pids[i], &st, 0) < 0 ||
		    !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL fuzz: worker %d ended badly (status %#x)\n",
			       i, st);
			bad++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* Back to the root cgroup, so that the directories can go. */
	fd = open("/sys/fs/cgroup/cgroup.procs", O_WRONLY);
	if (fd >= 0) {
		dprintf(fd, "%d", getpid());
		close(fd);
	}

	fd = h_open();
	bad += h_invariants(fd, 1, "after fuzz");
	close(fd);
	for (i = 0; i < NCG; i++) {
		char path[64];

		close(cgfd[i]);
		snprintf(path, sizeof(path), "/sys/fs/cgroup/gdl-fuzz%d", i);
		rmdir(path);
	}
	printf("fuzz: errnos:");
	for (i = 0; i < 160; i++)
		if (sh->err[i])
			printf(" %s=%llu", strerrorname_np(i) ? strerrorname_np(i) :
			       "?", (unsigned long long)sh->err[i]);
	printf(" ok=%llu\n", (unsigned long long)sh->ok);
	printf("fuzz: seed=%#llx calls=%llu secs=%.1f rate=%.0f/s unexpected=%llu failures=%d\n",
	       (unsigned long long)seed, (unsigned long long)sh->calls, secs,
	       (double)sh->calls / secs, (unsigned long long)sh->unexpected,
	       bad);
	return bad || sh->unexpected ? 1 : 0;
}

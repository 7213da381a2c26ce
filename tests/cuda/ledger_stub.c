// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for the kernel ledger, for the interposer's host tests
 * (cudatest host, tests/cuda/run.sh): preloaded ahead of
 * libgpudmalock-cuda.so, it defines open() and ioctl(), so that the
 * libgpudmalock compiled into the interposer (and into cudatest) talks to
 * it instead of /dev/gpu_dma_lock.  Test code: never installed, never
 * packaged.
 *
 * What it answers, as docs/abi.md says the module does:
 *   VERSION (ABI 1.3, enforce), WHOAMI (agent 1), DEVICE_LIST (one device
 *   per FAKE_CUDA_PCI entry, as the fake driver reports them),
 *   QUOTA_SET/QUOTA_GET (one agent; GDL_STUB_QUOTA is every device's
 *   quota at start, default unlimited), RESERVE (EDQUOT past the quota),
 *   RELEASE (ENOENT for a handle of another file), RESERVATION_SHARE /
 *   RESERVATION_ATTACH (byte keys and fd keys, the fd's open file named by
 *   its inode; the charge goes with the last handle), DMA_CHECK (peer
 *   rights and admin range entries from ACL_GRANT; ranges this agent
 *   reserved by address), ACL_GRANT/ACL_REVOKE, NOP.  Anything else is
 *   ENOTTY.
 *
 * A ledger "file" is a memfd (so that dup, fork and SCM_RIGHTS keep
 * naming it, and any other descriptor answers ENOTTY as a non-ledger file
 * does); its handles belong to it.  The state is one shared anonymous
 * mapping made at load, so a fork child charges the same ledger.  Handles
 * are not released when their file is closed (the tests check what is
 * charged while a process runs).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gpu_dma_lock.h"

#define API __attribute__((visibility("default")))
#define NDEV 8
#define MAX_RESV 4096
#define MAX_HANDLES 8192
#define MAX_FILES 256
#define MAX_ACL 256

struct resv {
	int used;
	uint32_t dev;
	uint64_t size, addr;	/* addr: GDL_RESERVE_F_ADDR, else 0 */
	unsigned int refs;	/* handles */
	uint32_t key_type;	/* 0: not shared */
	uint8_t key[GDL_SHARE_KEY_LEN];
	uint64_t key_dev, key_ino;
};

struct handle {
	uint64_t id;		/* 0: free slot */
	int resv;
	uint64_t file;		/* inode of the ledger file holding it */
};

struct state {
	pthread_mutex_t lock;
	int ndev;
	unsigned int dom[NDEV], bdf[NDEV];
	uint64_t quota[NDEV], usage[NDEV], peak[NDEV], denied[NDEV];
	uint64_t nres[NDEV];
	uint64_t next_handle;
	uint64_t files[MAX_FILES];	/* ledger files' inodes */
	struct resv resv[MAX_RESV];
	struct handle handles[MAX_HANDLES];
	struct gdl_acl_entry acl[MAX_ACL];
	int nacl;
};

static struct state *st;

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g': v <<= 30; break;
	case 'M': case 'm': v <<= 20; break;
	case 'K': case 'k': v <<= 10; break;
	default: break;
	}
	return v;
}

__attribute__((constructor)) static void stub_init(void)
{
	pthread_mutexattr_t a;
	const char *pci = getenv("FAKE_CUDA_PCI"), *q = getenv("GDL_STUB_QUOTA");
	uint64_t quota = q ? parse_size(q) : GDL_QUOTA_UNLIMITED;
	int i;

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED) {
		fprintf(stderr, "ledger_stub: mmap: %s\n", strerror(errno));
		abort();
	}
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&st->lock, &a);
	if (!pci)
		pci = "0000:00:05.0";	/* the fake driver's default */
	while (*pci && st->ndev < NDEV) {
		unsigned int d, b, s, f;

		if (sscanf(pci, "%x:%x:%x.%x", &d, &b, &s, &f) == 4) {
			st->dom[st->ndev] = d;
			st->bdf[st->ndev] = b << 8 | s << 3 | f;
			st->ndev++;
		}
		pci += strcspn(pci, ",");
		pci += *pci == ',';
	}
	for (i = 0; i < NDEV; i++)
		st->quota[i] = quota;
}

/* The inode of @fd when it is one of our ledger files, else 0. */
static uint64_t ledger_file(int fd)
{
	struct stat s;
	int i;

	if (fd < 0 || fstat(fd, &s))
		return 0;
	for (i = 0; i < MAX_FILES; i++)
		if (st->files[i] == (uint64_t)s.st_ino)
			return s.st_ino;
	return 0;
}

API int open(const char *path, int flags, ...);
API int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	struct stat s;
	int fd, i;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (strcmp(path, GDL_DEVICE_PATH))
		return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	fd = memfd_create("gdl-ledger-stub", flags & O_CLOEXEC ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &s)) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&st->lock);
	for (i = 0; i < MAX_FILES && st->files[i]; i++)
		;
	if (i < MAX_FILES)
		st->files[i] = s.st_ino;
	pthread_mutex_unlock(&st->lock);
	if (i == MAX_FILES) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	return fd;
}

API int open64(const char *path, int flags, ...) __attribute__((alias("open")));

/* What open() becomes under _FORTIFY_SOURCE (Ubuntu's default). */
API int __open_2(const char *path, int flags);
API int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

API int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

/* ---- with st->lock held ---- */

static int new_handle(int r, uint64_t file, __u64 *id)
{
	int i;

	for (i = 0; i < MAX_HANDLES && st->handles[i].id; i++)
		;
	if (i == MAX_HANDLES)
		return -ENOBUFS;
	st->handles[i].id = ++st->next_handle;
	st->handles[i].resv = r;
	st->handles[i].file = file;
	st->resv[r].refs++;
	*id = st->handles[i].id;
	return 0;
}

static int do_reserve(struct gdl_reserve *r, uint64_t file)
{
	int i, ret;

	if (r->dev_index >= (uint32_t)st->ndev)
		return -ENODEV;
	if (!r->size || r->flags & ~GDL_RESERVE_F_ADDR)
		return -EINVAL;
	if (st->quota[r->dev_index] != GDL_QUOTA_UNLIMITED &&
	    (r->size > st->quota[r->dev_index] ||
	     st->usage[r->dev_index] > st->quota[r->dev_index] - r->size)) {
		st->denied[r->dev_index]++;
		return -EDQUOT;
	}
	for (i = 0; i < MAX_RESV && st->resv[i].used; i++)
		;
	if (i == MAX_RESV)
		return -ENOBUFS;
	memset(&st->resv[i], 0, sizeof(st->resv[i]));
	st->resv[i].used = 1;
	st->resv[i].dev = r->dev_index;
	st->resv[i].size = r->size;
	st->resv[i].addr = r->flags & GDL_RESERVE_F_ADDR ? r->addr : 0;
	ret = new_handle(i, file, &r->handle);
	if (ret) {
		st->resv[i].used = 0;
		return ret;
	}
	st->usage[r->dev_index] += r->size;
	st->nres[r->dev_index]++;
	if (st->usage[r->dev_index] > st->peak[r->dev_index])
		st->peak[r->dev_index] = st->usage[r->dev_index];
	r->agent_id = 1;
	r->result = GDL_RESULT_OK;
	return 0;
}

static struct handle *find_handle(uint64_t id, uint64_t file)
{
	int i;

	if (!id)
		return NULL;
	for (i = 0; i < MAX_HANDLES; i++)
		if (st->handles[i].id == id)
			return st->handles[i].file == file ? &st->handles[i] : NULL;
	return NULL;
}

static int do_release(const struct gdl_release *rel, uint64_t file)
{
	struct handle *h = find_handle(rel->handle, file);
	struct resv *r;

	if (!h)
		return -ENOENT;
	r = &st->resv[h->resv];
	h->id = 0;
	if (--r->refs)
		return 0;
	st->usage[r->dev]-= r->size;
	st->nres[r->dev]--;
	r->used = 0;
	return 0;
}

/* The key @s names, filled into @r's key fields; 0 or -errno. */
static int read_key(const struct gdl_reservation_share *s, struct resv *k)
{
	struct stat sb;

	memset(k, 0, sizeof(*k));
	k->key_type = s->key_type;
	if (s->key_type == GDL_SHARE_KEY_BYTES) {
		if (s->fd)
			return -EINVAL;
		memcpy(k->key, s->key, sizeof(k->key));
		return 0;
	}
	if (s->key_type != GDL_SHARE_KEY_FD)
		return -EINVAL;
	if (fstat(s->fd, &sb))
		return -EBADF;
	if (!S_ISREG(sb.st_mode) && !S_ISCHR(sb.st_mode))
		return -EINVAL;
	k->key_dev = sb.st_dev;
	k->key_ino = sb.st_ino;
	return 0;
}

static int same_key(const struct resv *a, const struct resv *b)
{
	if (a->key_type != b->key_type)
		return 0;
	if (a->key_type == GDL_SHARE_KEY_BYTES)
		return !memcmp(a->key, b->key, sizeof(a->key));
	return a->key_dev == b->key_dev && a->key_ino == b->key_ino;
}

static int key_owner(const struct resv *k)
{
	int i;

	for (i = 0; i < MAX_RESV; i++)
		if (st->resv[i].used && st->resv[i].key_type &&
		    same_key(&st->resv[i], k))
			return i;
	return -1;
}

static int do_share(const struct gdl_reservation_share *s, uint64_t file)
{
	struct handle *h = find_handle(s->handle, file);
	struct resv k, *r;
	int ret, o;

	if (!h)
		return -ENOENT;
	ret = read_key(s, &k);
	if (ret)
		return ret;
	r = &st->resv[h->resv];
	o = key_owner(&k);
	if (o >= 0)
		return o == h->resv ? 0 : -EEXIST;
	r->key_type = k.key_type;
	memcpy(r->key, k.key, sizeof(r->key));
	r->key_dev = k.key_dev;
	r->key_ino = k.key_ino;
	return 0;
}

static int do_attach(struct gdl_reservation_share *s, uint64_t file)
{
	struct resv k;
	int ret, o;

	ret = read_key(s, &k);
	if (ret)
		return ret;
	o = key_owner(&k);
	if (o < 0)
		return -ENOENT;
	ret = new_handle(o, file, &s->handle);
	if (ret)
		return ret;
	s->agent_id = 1;
	s->dev_index = st->resv[o].dev;
	s->size = st->resv[o].size;
	s->result = GDL_RESULT_OK;
	return 0;
}

static int do_dma_check(struct gdl_dma_check *c)
{
	int i;

	if (c->dev_index >= (uint32_t)st->ndev)
		return -ENODEV;
	c->owner_id = 0;
	c->result = GDL_RESULT_OK;
	if (c->access & GDL_ACCESS_PEER) {
		if (c->peer_index >= (uint32_t)st->ndev)
			return -ENODEV;
		if (c->peer_index == c->dev_index)
			return 0;
		for (i = 0; i < st->nacl; i++)
			if (st->acl[i].rights & GDL_ACCESS_PEER &&
			    st->acl[i].dev_index == c->dev_index &&
			    st->acl[i].peer_index == c->peer_index) {
				c->result = GDL_RESULT_ACL;
				return 0;
			}
		return -EACCES;
	}
	if (!c->len || c->addr + c->len < c->addr)
		return -EINVAL;
	for (i = 0; i < MAX_RESV; i++) {
		struct resv *r = &st->resv[i];

		if (r->used && r->addr && r->dev == c->dev_index &&
		    c->addr >= r->addr && c->addr + c->len <= r->addr + r->size) {
			c->owner_id = 1;
			return 0;
		}
	}
	for (i = 0; i < st->nacl; i++) {
		struct gdl_acl_entry *e = &st->acl[i];

		if (!(e->rights & GDL_ACCESS_PEER) && e->dev_index == c->dev_index &&
		    (e->rights & c->access) == c->access && c->addr >= e->addr &&
		    c->addr + c->len <= e->addr + e->len) {
			c->result = GDL_RESULT_ACL;
			return 0;
		}
	}
	return -EACCES;
}

static int do_acl(struct gdl_array *a, int grant)
{
	struct gdl_acl_entry *e = (void *)(uintptr_t)a->ptr;
	unsigned int n, i;
	int j;

	if (a->entry_size != sizeof(*e) || !a->count)
		return -EINVAL;
	for (n = 0; n < a->count; n++) {
		if (grant) {
			if (st->nacl == MAX_ACL)
				return -ENOBUFS;
			st->acl[st->nacl++] = e[n];
			continue;
		}
		for (j = 0; j < st->nacl; j++)
			if (st->acl[j].dev_index == e[n].dev_index &&
			    st->acl[j].peer_index == e[n].peer_index &&
			    st->acl[j].rights == e[n].rights &&
			    st->acl[j].addr == e[n].addr && st->acl[j].len == e[n].len)
				break;
		if (j == st->nacl)
			return -ENOENT;
		for (i = j; i + 1 < (unsigned int)st->nacl; i++)
			st->acl[i] = st->acl[i + 1];
		st->nacl--;
	}
	return 0;
}

static int do_device_list(struct gdl_array *a)
{
	struct gdl_device_info d;
	unsigned int i;

	if (a->count && a->entry_size != sizeof(d))
		return -EINVAL;
	for (i = 0; i < a->count && i < (unsigned int)st->ndev; i++) {
		memset(&d, 0, sizeof(d));
		d.index = i;
		d.flags = GDL_DEV_F_PCI;
		d.pci_domain = st->dom[i];
		d.pci_bdf = st->bdf[i];
		d.capacity = GDL_QUOTA_UNLIMITED;
		snprintf(d.name, sizeof(d.name), "stub%u", i);
		memcpy((char *)(uintptr_t)a->ptr + i * sizeof(d), &d, sizeof(d));
	}
	a->count = st->ndev;
	return 0;
}

static int stub_ioctl(unsigned long cmd, void *arg, uint64_t file)
{
	switch (cmd) {
	case GDL_IOC_NOP:
		return 0;
	case GDL_IOC_VERSION: {
		struct gdl_version *v = arg;

		memset(v, 0, sizeof(*v));
		v->abi_major = GDL_ABI_MAJOR;
		v->abi_minor = GDL_ABI_MINOR;
		v->max_devices = GDL_MAX_DEVICES;
		v->max_agents = 64;
		v->flags = GDL_VERSION_F_ENFORCE;
		strcpy(v->module_version, "ledger-stub");
		return 0;
	}
	case GDL_IOC_WHOAMI: {
		struct gdl_whoami *w = arg;

		memset(w, 0, sizeof(*w));
		w->agent_id = 1;
		w->bound_by = GDL_BOUND_PID;
		return 0;
	}
	case GDL_IOC_DEVICE_LIST:
		return do_device_list(arg);
	case GDL_IOC_QUOTA_SET: {
		struct gdl_quota_set *q = arg;
		int i;

		if (q->agent_id > 1)
			return -ENOENT;
		if (q->dev_index == GDL_ALL_DEVICES) {
			for (i = 0; i < st->ndev; i++)
				st->quota[i] = q->quota;
			return 0;
		}
		if (q->dev_index >= (uint32_t)st->ndev)
			return -ENODEV;
		st->quota[q->dev_index] = q->quota;
		return 0;
	}
	case GDL_IOC_QUOTA_GET: {
		struct gdl_quota *q = arg;
		uint32_t d = q->dev_index;

		if (q->agent_id > 1)
			return -ENOENT;
		if (d >= (uint32_t)st->ndev)
			return -ENODEV;
		memset(q, 0, sizeof(*q));
		q->agent_id = 1;
		q->dev_index = d;
		q->quota = st->quota[d];
		q->usage = st->usage[d];
		q->peak = st->peak[d];
		q->nr_reservations = st->nres[d];
		q->denied = st->denied[d];
		return 0;
	}
	case GDL_IOC_RESERVE:
		return do_reserve(arg, file);
	case GDL_IOC_RELEASE:
		return do_release(arg, file);
	case GDL_IOC_RESERVATION_SHARE:
		return do_share(arg, file);
	case GDL_IOC_RESERVATION_ATTACH:
		return do_attach(arg, file);
	case GDL_IOC_DMA_CHECK:
		return do_dma_check(arg);
	case GDL_IOC_ACL_GRANT:
		return do_acl(arg, 1);
	case GDL_IOC_ACL_REVOKE:
		return do_acl(arg, 0);
	default:
		return -ENOTTY;
	}
}

API int ioctl(int fd, unsigned long cmd, ...);
API int ioctl(int fd, unsigned long cmd, ...)
{
	uint64_t file;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	pthread_mutex_lock(&st->lock);
	file = ledger_file(fd);
	if (!file) {
		pthread_mutex_unlock(&st->lock);
		return syscall(SYS_ioctl, fd, cmd, arg);
	}
	ret = stub_ioctl(cmd, arg, file);
	pthread_mutex_unlock(&st->lock);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

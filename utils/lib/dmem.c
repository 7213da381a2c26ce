// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ledger's quotas as the dmem cgroup controller's limits (dmem.h,
 * docs/dmem.md).  The ledger stays the policy: this only copies it, and
 * only into cgroups an agent is bound to.  What a sync wrote is kept in
 * GDLU_DMEM_STATE so that the next one can give it back to "max" when
 * the ledger stops wanting it: a destroyed agent's bindings are gone
 * from BIND_LIST, so nothing else remembers them.  dmem.max lines of
 * cgroups the ledger never programmed are never touched.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmem.h"
#include "gdlu.h"

/* dmem files are a line per region; more than this is not one. */
#define DMEM_FILE_MAX	(64 * 1024)
/* The state file: a line per (cgroup, region) programmed. */
#define DMEM_STATE_MAX	(4 * 1024 * 1024)

/* Next line of *@p into @line (without its newline); 0 at the end. */
static int next_line(const char **p, char *line, size_t len)
{
	const char *s = *p, *e;
	size_t n;

	if (!*s)
		return 0;
	e = strchr(s, '\n');
	n = e ? (size_t)(e - s) : strlen(s);
	*p = e ? e + 1 : s + n;
	if (n >= len)
		n = len - 1;	/* a longer line matches no name we look for */
	memcpy(line, s, n);
	line[n] = '\0';
	return 1;
}

/* Split @line into two blank-separated words; 0 when it is not two. */
static int two_words(char *line, char **a, char **b)
{
	char *extra;

	*a = strtok_r(line, " \t", &extra);
	*b = *a ? strtok_r(NULL, " \t", &extra) : NULL;
	return *a && *b && !strtok_r(NULL, " \t", &extra);
}

int gdlu_dmem_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (!n || n >= GDLU_DMEM_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)name[i]))
			return 0;
	return 1;
}

int gdlu_dmem_value(const char *text, const char *region, uint64_t *val)
{
	char line[GDLU_DMEM_NAME + 32], *a, *b;

	while (next_line(&text, line, sizeof(line))) {
		if (!two_words(line, &a, &b) || strcmp(a, region))
			continue;
		if (!strcmp(b, "max")) {
			*val = GDLU_DMEM_MAX;
			return 0;
		}
		return gdlu_parse_u64(b, val) ? -EBADMSG : 0;
	}
	return -ENOENT;
}

int gdlu_dmem_region_of(const char *capacity, const char *pci, char *out,
			size_t len)
{
	char line[GDLU_DMEM_NAME + 32], *a, *b, *s, *e;

	while (next_line(&capacity, line, sizeof(line))) {
		if (!two_words(line, &a, &b) || !gdlu_dmem_name_ok(a))
			continue;
		/* DRIVER/PCI/NAME: xe's vram0, amdgpu's vram, nvidia's vidmem */
		s = strchr(a, '/');
		e = s ? strchr(s + 1, '/') : NULL;
		if (!e || (size_t)(e - s - 1) != strlen(pci) ||
		    strncasecmp(s + 1, pci, strlen(pci)))
			continue;
		if (strlen(a) >= len)
			return -ENAMETOOLONG;
		strcpy(out, a);
		return 0;
	}
	return -ENOENT;
}

int gdlu_dmem_override(const char *text, const char *pci, char *out,
		       size_t len)
{
	char line[GDLU_DMEM_NAME + 64], *a, *b, *hash;

	while (next_line(&text, line, sizeof(line))) {
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (!line[strspn(line, " \t")])
			continue;	/* blank or comment */
		if (!two_words(line, &a, &b) || !gdlu_dmem_name_ok(b))
			return -EBADMSG;
		if (strcasecmp(a, pci))
			continue;
		if (strlen(b) >= len)
			return -ENAMETOOLONG;
		strcpy(out, b);
		return 0;
	}
	return -ENOENT;
}

/* @path's contents, NUL-terminated, into a malloc'd buffer; -errno. */
static int read_text(int dirfd, const char *path, char **out)
{
	char *buf;
	ssize_t n, got = 0;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	buf = malloc(DMEM_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < DMEM_FILE_MAX &&
	       (n = read(fd, buf + got, DMEM_FILE_MAX - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	*out = buf;
	return 0;
}

int gdlu_dmem_map(const struct gdl_device_info *d, int n,
		  struct gdlu_dmem_dev *out)
{
	char *cap = NULL, *ovr = NULL, pci[32];
	int i, found = 0, ret;

	if (read_text(AT_FDCWD, GDLU_DMEM_CAPACITY, &cap))
		cap = NULL;
	if (read_text(AT_FDCWD, GDLU_DMEM_OVERRIDES, &ovr))
		ovr = NULL;
	for (i = 0; i < n; i++) {
		struct gdlu_dmem_dev *m = &out[i];

		m->region[0] = '\0';
		if (!(d[i].flags & GDL_DEV_F_PCI)) {
			m->why = "no PCI address (a manual device)";
			continue;
		}
		gdlu_fmt_pci_addr(d[i].pci_domain, d[i].pci_bdf, pci, sizeof(pci));
		ret = ovr ? gdlu_dmem_override(ovr, pci, m->region,
					       sizeof(m->region)) : -ENOENT;
		if (ret == -EBADMSG) {
			/* A broken override file maps nothing: no guessing. */
			m->region[0] = '\0';
			m->why = "override file " GDLU_DMEM_OVERRIDES " is malformed";
			continue;
		}
		if (!ret && !strcmp(m->region, "none")) {
			m->region[0] = '\0';
			m->why = "override: none";
			continue;
		}
		if (!cap) {
			m->region[0] = '\0';
			m->why = "no dmem cgroup controller (Linux 6.14+, CONFIG_CGROUP_DMEM)";
			continue;
		}
		if (!ret) {
			uint64_t v;

			if (gdlu_dmem_value(cap, m->region, &v)) {
				m->region[0] = '\0';
				m->why = "override names a region dmem.capacity does not list";
				continue;
			}
			m->why = "override";
		} else if (!gdlu_dmem_region_of(cap, pci, m->region,
						sizeof(m->region))) {
			m->why = "dmem.capacity";
		} else {
			m->region[0] = '\0';
			m->why = "no dmem region for its PCI address";
			continue;
		}
		found++;
	}
	free(cap);
	free(ovr);
	return found;
}

/* One (cgroup, region) line the ledger wants, or an earlier sync wrote. */
struct want {
	uint64_t cg;
	char region[GDLU_DMEM_NAME];
	uint64_t value;
	int done;	/* reset pass: still wanted, leave it */
	int gone;	/* its cgroup was removed: nothing to keep */
};

struct wants {
	struct want *w;
	unsigned int n, cap;
};

static struct want *want_find(struct wants *ws, uint64_t cg, const char *region)
{
	unsigned int i;

	for (i = 0; i < ws->n; i++)
		if (ws->w[i].cg == cg && !strcmp(ws->w[i].region, region))
			return &ws->w[i];
	return NULL;
}

/*
 * Add a line; a cgroup bound to two agents gets the lower of their
 * quotas on a region (the kernel has one limit per cgroup and region).
 */
static int want_add(struct wants *ws, uint64_t cg, const char *region,
		    uint64_t value)
{
	struct want *w = want_find(ws, cg, region);

	if (w) {
		if (value < w->value)
			w->value = value;
		return 0;
	}
	if (ws->n == ws->cap) {
		unsigned int cap = ws->cap ? 2 * ws->cap : 16;
		struct want *nw = realloc(ws->w, cap * sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		ws->w = nw;
		ws->cap = cap;
	}
	w = &ws->w[ws->n++];
	memset(w, 0, sizeof(*w));
	w->cg = cg;
	snprintf(w->region, sizeof(w->region), "%s", region);
	w->value = value;
	return 0;
}

static void say(gdlu_dmem_report report, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(gdlu_dmem_report report, void *arg, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	report(arg, line);
}

/* cgroup2fs's file handle type (FILEID_KERNFS): the cgroup id. */
#define DMEM_FILEID_KERNFS 0xfe

int gdlu_cgroup_open(int mnt, uint64_t cg, int flags)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[sizeof(uint64_t)];
	} h;
	int fd;

	h.fh.handle_bytes = sizeof(cg);
	h.fh.handle_type = DMEM_FILEID_KERNFS;
	memcpy(h.fh.f_handle, &cg, sizeof(cg));
	fd = open_by_handle_at(mnt, &h.fh, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The cgroup's directory, to read and write its files at. */
static int cgroup_open(int mnt, uint64_t cg)
{
	return gdlu_cgroup_open(mnt, cg, O_RDONLY | O_DIRECTORY);
}

/*
 * O_NONBLOCK: since Linux 7.x a dmem.max below the usage makes the write
 * itself ask the driver to evict down to it, unless the file is
 * non-blocking.  A sync never waits on a driver (the hook runs before a
 * container starts), and a lowered quota means what the ledger's does:
 * nothing more is allocated, nothing is taken back (docs/dmem.md).
 */
static int write_text(int dirfd, const char *file, const char *text)
{
	int fd = openat(dirfd, file, O_WRONLY | O_NONBLOCK | O_CLOEXEC), ret = 0;
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * dmem must be on in the subtree_control of every ancestor of @cgfd for
 * its dmem.max to exist: turned on from the top down.  The kernel refuses
 * it in a non-root cgroup that has processes (no internal processes):
 * that refusal is reported, never worked around by moving anyone.
 */
static int enable_dmem(int mnt, int cgfd)
{
	char link[64], path[PATH_MAX], *rel, *slash;
	size_t root = strlen(GDLU_DMEM_CGROOT);
	ssize_t n;
	int ret;

	if (!faccessat(cgfd, "dmem.max", F_OK, 0))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", cgfd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	if (strncmp(path, GDLU_DMEM_CGROOT "/", root + 1))
		return -EXDEV;	/* the root's own: it has no dmem.max */
	rel = path + root + 1;
	/* "a/b/c": the root, then "a", then "a/b"; never "a/b/c" itself. */
	ret = write_text(mnt, "cgroup.subtree_control", "+dmem");
	for (slash = strchr(rel, '/'); !ret && slash; slash = strchr(slash + 1, '/')) {
		int fd;

		*slash = '\0';
		fd = openat(mnt, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
		if (fd < 0)
			return -errno;
		ret = write_text(fd, "cgroup.subtree_control", "+dmem");
		close(fd);
	}
	return ret;
}

/* Write @region's line of @cg's dmem.max when it is not @value already. */
static int program(int mnt, uint64_t cg, const char *region, uint64_t value,
		   int enable, unsigned int *written)
{
	char line[GDLU_DMEM_NAME + 32], *cur = NULL;
	uint64_t now;
	int fd, ret;

	fd = cgroup_open(mnt, cg);
	if (fd < 0)
		return fd;
	ret = enable ? enable_dmem(mnt, fd) : 0;
	if (!ret)
		ret = read_text(fd, "dmem.max", &cur);
	if (!ret && (gdlu_dmem_value(cur, region, &now) || now != value)) {
		if (value == GDLU_DMEM_MAX)
			snprintf(line, sizeof(line), "%s max", region);
		else
			snprintf(line, sizeof(line), "%s %" PRIu64, region, value);
		ret = write_text(fd, "dmem.max", line);
		if (!ret)
			(*written)++;
	}
	free(cur);
	close(fd);
	return ret;
}

int gdlu_dmem_agent_current(struct gdlock *g, uint32_t agent,
			    const char *region, uint64_t *sum)
{
	struct gdl_binding_info *b;
	int n, cap, i, mnt, fd, found = 0;
	uint64_t v;
	char *text;

	n = gdlock_binding_list(g, agent, NULL, 0);
	if (n <= 0)
		return n ? n : -ENOENT;
	cap = n + 8;
	b = calloc((size_t)cap, sizeof(*b));
	if (!b)
		return -ENOMEM;
	n = gdlock_binding_list(g, agent, b, (unsigned int)cap);
	n = n > cap ? cap : n;
	mnt = open(GDLU_DMEM_CGROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*sum = 0;
	for (i = 0; mnt >= 0 && i < n; i++) {
		if (b[i].agent_id != agent || b[i].type != GDL_BIND_CGROUP_FD)
			continue;
		fd = cgroup_open(mnt, b[i].target);
		if (fd < 0)
			continue;
		if (!read_text(fd, "dmem.current", &text)) {
			if (!gdlu_dmem_value(text, region, &v)) {
				*sum += v;
				found = 1;
			}
			free(text);
		}
		close(fd);
	}
	if (mnt >= 0)
		close(mnt);
	free(b);
	return found ? 0 : -ENOENT;
}

/* What the ledger wants: every cgroup binding, every mapped device. */
static int ledger_wants(struct gdlock *g, struct wants *ws)
{
	struct gdl_device_info *d = NULL;
	struct gdlu_dmem_dev *m = NULL;
	struct gdl_binding_info *b = NULL;
	struct gdl_quota q;
	int nd, nb, cd, cb, i, j, ret = 0;

	nd = gdlock_device_list(g, NULL, 0);
	nb = nd < 0 ? nd : gdlock_binding_list(g, 0, NULL, 0);
	if (nd < 0 || nb < 0)
		return nd < 0 ? nd : nb;
	/* Room for some added meanwhile; a list that grew further is cut. */
	cd = nd + 8;
	cb = nb + 8;
	d = calloc((size_t)cd, sizeof(*d));
	m = calloc((size_t)cd, sizeof(*m));
	b = calloc((size_t)cb, sizeof(*b));
	if (!d || !m || !b) {
		ret = -ENOMEM;
		goto out;
	}
	nd = gdlock_device_list(g, d, (unsigned int)cd);
	nb = nd < 0 ? nd : gdlock_binding_list(g, 0, b, (unsigned int)cb);
	if (nd < 0 || nb < 0) {
		ret = nd < 0 ? nd : nb;
		goto out;
	}
	/* A list that grew past the room is cut: the next sync has the rest. */
	nd = nd > cd ? cd : nd;
	nb = nb > cb ? cb : nb;
	if (!gdlu_dmem_map(d, nd, m))
		goto out;
	for (i = 0; i < nb; i++) {
		if (b[i].type != GDL_BIND_CGROUP_FD)
			continue;	/* pid bindings: the interposer's */
		for (j = 0; j < nd; j++) {
			if (!m[j].region[0])
				continue;
			ret = gdlock_quota_get(g, b[i].agent_id, d[j].index, &q);
			if (ret == -ENOENT || ret == -ENODEV) {
				ret = 0;	/* destroyed or removed meanwhile */
				continue;
			}
			if (ret)
				goto out;
			ret = want_add(ws, b[i].target, m[j].region,
				       q.quota == GDL_QUOTA_UNLIMITED ?
				       GDLU_DMEM_MAX : q.quota);
			if (ret)
				goto out;
		}
	}
out:
	free(d);
	free(m);
	free(b);
	return ret;
}

/* The state file's lines into @ws. */
static int state_read(int fd, struct wants *ws)
{
	char *text = NULL, line[GDLU_DMEM_NAME + 32], *a, *b;
	const char *p;
	uint64_t cg;
	ssize_t n;
	int ret = 0;

	text = malloc(DMEM_STATE_MAX + 1);
	if (!text)
		return -ENOMEM;
	n = pread(fd, text, DMEM_STATE_MAX, 0);
	if (n < 0) {
		ret = -errno;
		free(text);
		return ret;
	}
	text[n] = '\0';
	for (p = text; !ret && next_line(&p, line, sizeof(line));) {
		/* A line we did not write is ignored, never acted on. */
		if (!two_words(line, &a, &b) || gdlu_parse_u64(a, &cg) ||
		    !gdlu_dmem_name_ok(b))
			continue;
		ret = want_add(ws, cg, b, GDLU_DMEM_MAX);
	}
	free(text);
	return ret;
}

static int state_write(int fd, const struct wants *ws)
{
	FILE *f;
	unsigned int i;
	int dfd = dup(fd), ret = 0;

	if (dfd < 0)
		return -errno;
	f = fdopen(dfd, "w");
	if (!f) {
		close(dfd);
		return -errno;
	}
	if (ftruncate(dfd, 0) || lseek(dfd, 0, SEEK_SET))
		ret = -errno;
	for (i = 0; !ret && i < ws->n; i++)
		if (!ws->w[i].gone)
			fprintf(f, "%" PRIu64 " %s\n", ws->w[i].cg, ws->w[i].region);
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

int gdlu_dmem_sync(struct gdlock *g, gdlu_dmem_report report, void *arg,
		   struct gdlu_dmem_sync_stats *st)
{
	struct wants want = { 0 }, old = { 0 };
	struct gdlu_dmem_sync_stats dummy;
	unsigned int i;
	int mnt = -1, sfd = -1, ret;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	/* No controller: nothing can be programmed, nothing was. */
	if (access(GDLU_DMEM_CAPACITY, F_OK))
		return 0;
	ret = ledger_wants(g, &want);
	if (ret)
		goto out;
	st->lines = want.n;
	mnt = open(GDLU_DMEM_CGROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mnt < 0) {
		ret = -errno;
		goto out;
	}
	mkdir("/run/gpu-dma-lock", 0755);
	sfd = open(GDLU_DMEM_STATE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (sfd < 0 || flock(sfd, LOCK_EX)) {
		ret = -errno;
		goto out;
	}
	ret = state_read(sfd, &old);
	if (ret)
		goto out;
	for (i = 0; i < want.n; i++) {
		struct want *w = &want.w[i];
		struct want *o = want_find(&old, w->cg, w->region);
		int r;

		if (o)
			o->done = 1;
		r = program(mnt, w->cg, w->region, w->value, 1, &st->written);
		/*
		 * A removed cgroup's binding stays in the ledger until gc or
		 * an unbind: nothing to write, nothing to report each time.
		 */
		if (r == -ESTALE) {
			w->gone = 1;
			continue;
		}
		if (r) {
			st->failed++;
			say(report, arg, "dmem: cgroup %" PRIu64 ", %s: %s",
			    w->cg, w->region, strerror(-r));
		}
	}
	for (i = 0; i < old.n; i++) {
		struct want *o = &old.w[i];
		unsigned int n = 0;
		int r;

		if (o->done)
			continue;
		r = program(mnt, o->cg, o->region, GDLU_DMEM_MAX, 0, &n);
		st->reset += n;
		/* A cgroup removed meanwhile has no limit left to give back. */
		if (r && r != -ESTALE && r != -ENOENT) {
			st->failed++;
			say(report, arg, "dmem: cgroup %" PRIu64 ", %s back to max: %s",
			    o->cg, o->region, strerror(-r));
			/* Kept, so that the next sync tries again. */
			if (want_add(&want, o->cg, o->region, GDLU_DMEM_MAX) == 0)
				want.w[want.n - 1].done = 1;
		}
	}
	ret = state_write(sfd, &want);
out:
	if (sfd >= 0)
		close(sfd);	/* and the lock with it */
	if (mnt >= 0)
		close(mnt);
	free(want.w);
	free(old.w);
	return ret;
}

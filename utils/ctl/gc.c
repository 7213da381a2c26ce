// SPDX-License-Identifier: GPL-2.0
/*
 * gc: destroy the agents the engine integrations made (OCI hook: ctr-*,
 * Slurm: slurm-*) that nothing uses any more: no live process or cgroup
 * is bound to them, and they hold no memory on any device.  It is what
 * a poststop hook that never ran (engine crash, node reboot, SIGKILL of
 * conmon) leaves behind.
 *
 * An agent whose creator is between its create and its first bind looks
 * the same: the OCI hook's createRuntime for an instant, a Slurm job's
 * agent from its prolog until its first step.  Collecting it there would
 * leave the job or container unbound (fenced, or unaccounted).  The
 * kernel keeps no creation time, so gc looks twice, --grace seconds
 * apart, and destroys only what was unused at both looks under the same
 * id (ids carry a generation, so a namesake made in between differs): no
 * agent bound within --grace of its creation is collected.
 */
#include <errno.h>
#include <fts.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
/* Seconds: well above a prolog-to-first-step gap; docs/fleet.md. */
#define GC_GRACE_DEFAULT 30
#define GC_GRACE_MAX	 86400

static const char *const gc_prefixes[] = { "ctr-", "slurm-", NULL };

struct gc_ids {
	uint64_t *v;
	size_t n, cap;
};

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every cgroup directory's id (its inode number), sorted. */
static int gc_live_cgroups(struct gc_ids *ids)
{
	char *roots[] = { (char *)CGROUP_ROOT, NULL };
	uint64_t *nv;
	FTSENT *e;
	FTS *fts;

	fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	if (!fts)
		return -errno;
	while ((e = fts_read(fts))) {
		if (e->fts_info != FTS_D)
			continue;
		if (ids->n == ids->cap) {
			ids->cap = ids->cap ? ids->cap * 2 : 256;
			nv = realloc(ids->v, ids->cap * sizeof(*nv));
			if (!nv) {
				fts_close(fts);
				return -ENOMEM;
			}
			ids->v = nv;
		}
		ids->v[ids->n++] = e->fts_statp->st_ino;
	}
	fts_close(fts);
	qsort(ids->v, ids->n, sizeof(*ids->v), u64_cmp);
	return 0;
}

static bool gc_ours(const char *name)
{
	int i;

	for (i = 0; gc_prefixes[i]; i++)
		if (!strncmp(name, gc_prefixes[i], strlen(gc_prefixes[i])))
			return true;
	return false;
}

/* Why the agent stays, or NULL when it is garbage. */
static const char *gc_in_use(struct gdlock *g, const struct gdl_agent_info *a,
			     const struct gdl_binding_info *b, int nb,
			     const struct gc_ids *live,
			     const struct gdl_device_info *d, int nd)
{
	struct gdl_quota q;
	int i;

	for (i = 0; i < nb; i++) {
		if (b[i].agent_id != a->id)
			continue;
		if (b[i].type == GDL_BIND_PID &&
		    !(b[i].flags & GDL_BINDING_F_EXITED))
			return "a live process is bound";
		if (b[i].type == GDL_BIND_CGROUP_FD &&
		    bsearch(&b[i].target, live->v, live->n, sizeof(*live->v),
			    u64_cmp))
			return "its cgroup exists";
	}
	for (i = 0; i < nd; i++) {
		if (gdlock_quota_get(g, a->id, d[i].index, &q))
			return "its usage cannot be read";
		if (q.usage || q.nr_reservations)
			return "it holds memory";
	}
	return NULL;
}

/* One look: the unused ctr-* and slurm-* agents, in @out (free it). */
struct gc_look {
	struct gdl_agent_info *unused;
	int nunused, kept;
};

static int gc_look(struct gdlock *g, struct gc_look *out, bool verbose)
{
	struct gdl_binding_info *b = NULL;
	struct gdl_agent_info *a = NULL;
	struct gdl_device_info *d = NULL;
	struct gc_ids live = { 0 };
	int na = 0, nb = 0, nd = 0, i, ret;
	const char *why;

	memset(out, 0, sizeof(*out));
	/* Agents first: a binding made after this list has its agent in it. */
	na = ctl_agents(g, &a);
	if (na >= 0)
		nb = ctl_bindings(g, 0, &b);
	if (na >= 0 && nb >= 0)
		nd = ctl_devices(g, &d);
	if (na < 0 || nb < 0 || nd < 0) {
		ret = ctl_err(na < 0 ? na : nb < 0 ? nb : nd, "gc");
		goto out;
	}
	ret = gc_live_cgroups(&live);
	if (ret) {
		ret = ctl_err(ret, "gc: reading " CGROUP_ROOT);
		goto out;
	}
	out->unused = calloc(na ? na : 1, sizeof(*out->unused));
	if (!out->unused) {
		ret = ctl_err(-ENOMEM, "gc");
		goto out;
	}
	for (i = 0; i < na; i++) {
		if (!gc_ours(a[i].name))
			continue;
		why = gc_in_use(g, &a[i], b, nb, &live, d, nd);
		if (why) {
			out->kept++;
			if (verbose)
				printf("gc: kept %s: %s\n", a[i].name, why);
			continue;
		}
		out->unused[out->nunused++] = a[i];
	}
	ret = EXIT_OK;
out:
	if (ret) {
		free(out->unused);
		out->unused = NULL;
	}
	free(live.v);
	free(a);
	free(b);
	free(d);
	return ret;
}

static bool gc_seen(const struct gc_look *lk, const struct gdl_agent_info *a)
{
	int i;

	for (i = 0; i < lk->nunused; i++)
		if (lk->unused[i].id == a->id &&
		    !strncmp(lk->unused[i].name, a->name, sizeof(a->name)))
			return true;
	return false;
}

static int gc_parse_grace(const char *s, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > GC_GRACE_MAX)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static void gc_sleep(unsigned int secs)
{
	struct timespec ts = { .tv_sec = secs };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cmd_gc(struct ctl *c, int argc, char **argv)
{
	struct gc_look first = { 0 }, last = { 0 };
	unsigned int grace = GC_GRACE_DEFAULT;
	struct gdlock *g = NULL;
	int i, ret, gone = 0, young = 0;
	bool dry = false, verbose = false;
	const struct gdl_agent_info *a;

	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl gc [--dry-run] [--verbose] [--grace SECONDS]\n\n"
		       "Destroy the agents that the OCI hook (ctr-*) and the Slurm plugin\n"
		       "(slurm-*) made and that nothing uses: every cgroup bound to them is\n"
		       "gone, no live process is bound, and they hold no memory.  Run it\n"
		       "after an engine crash or a reboot, or from a timer.\n\n"
		       "An agent is destroyed only if it was unused at two looks SECONDS\n"
		       "apart (--grace, default %d; 0: one look), so one between its\n"
		       "creation and its first binding (a Slurm prolog, createRuntime) is\n"
		       "kept.  --verbose says why each other such agent stays.  Also removes\n"
		       "the Kubernetes device plugin's allocations whose pod is gone, or that\n"
		       "no container used within an hour.  Needs root.\n",
		       GC_GRACE_DEFAULT);
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n"))
			dry = true;
		else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--grace")) {
			if (gc_parse_grace(i + 1 < argc ? argv[++i] : NULL, &grace))
				return ctl_usage_err("gc", "--grace: whole seconds, 0 to %d",
						     GC_GRACE_MAX);
		} else
			return ctl_usage_err("gc", "unexpected argument '%s'", argv[i]);
	}
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = gc_look(g, &first, false);
	if (ret)
		goto out;
	if (grace && first.nunused) {
		printf("gc: %d unused; looking again in %u s (--grace)\n",
		       first.nunused, grace);
		fflush(stdout);
		gc_sleep(grace);
		ret = gc_look(g, &last, verbose);
	} else if (verbose) {
		/* Look again, saying why each stays. */
		ret = gc_look(g, &last, true);
	} else {
		last = first;
		memset(&first, 0, sizeof(first));
	}
	if (ret)
		goto out;
	for (i = 0; i < last.nunused; i++) {
		a = &last.unused[i];
		if (grace && !gc_seen(&first, a)) {
			young++;
			if (verbose)
				printf("gc: kept %s: unused for less than %u s (--grace)\n",
				       a->name, grace);
			continue;
		}
		if (!dry) {
			/* By id: a namesake made since the list is not ours. */
			ret = gdlock_agent_destroy(g, a->id);
			if (ret == -ENOENT)
				ret = 0;
			if (ret) {
				ret = ctl_err(ret, a->name);
				goto out;
			}
		}
		gone++;
		if (!dry)
			ctl_labels_forget(a->name);
		printf("gc: %s %s (id %u)\n", dry ? "would destroy" : "destroyed",
		       a->name, a->id);
	}
	ctl_gc_allocations(dry);
	if (young)
		printf("gc: %d destroyed, %d in use, %d unused for less than %u s\n",
		       dry ? 0 : gone, last.kept, young, grace);
	else
		printf("gc: %d destroyed, %d in use\n", dry ? 0 : gone, last.kept);
	ret = EXIT_OK;
out:
	free(first.unused);
	free(last.unused);
	gdlock_close(g);
	return ret;
}

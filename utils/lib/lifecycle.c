// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgpudmalock's lifecycle helper (since 0.3): the one place where an
 * engine's unit of work (a container, a Slurm job) becomes an agent and
 * stops being one.  The OCI hook, the ctl and the Slurm plugin all come
 * through here, so their races and retries are handled once:
 *
 *  - ensure is idempotent: the kernel treats a second bind of a cgroup to
 *    the same agent and a quota set to the same value as no-ops, so only
 *    find-or-create needs care.  Two racing creators: the loser gets
 *    EEXIST and finds the winner's agent.  A racing retire can destroy the
 *    agent between find and use (ENOENT): start over, a bounded number of
 *    times.
 *  - an agent this call created is destroyed again when a later step
 *    fails, so a refused quota or a bad cgroup leaves nothing behind; one
 *    that existed before keeps the quotas set before the failing step.
 *  - quotas are set in the order given, so a GDL_ALL_DEVICES entry first
 *    and per-device entries after it give "this much everywhere, except".
 *  - retire treats "already gone" as success: poststop hooks run twice,
 *    late, or after gc.
 *  - ensure never adopts an agent that another live cgroup is bound to
 *    (EBUSY): the same name derived for two units of work must not let
 *    the second rewrite the first's quota, or its cleanup retire it.
 *  - both end with a dmem sync (dmem.c, docs/dmem.md): the cgroup's
 *    dmem.max says the new quotas, or a retired agent's cgroups go back to
 *    "max", before the engine starts the work.  Best effort: the ledger
 *    is already right and the interposer enforces it whatever dmem says;
 *    what the sync could not write, the follower (ctl dmem sync --follow)
 *    tries again and reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmem.h"
#include "gpudmalock.h"

#define GDLOCK_API __attribute__((visibility("default")))

/* find/create/destroy races with other admins; more is a livelock. */
#define GDLOCK_ENSURE_TRIES 4

static int gdlock_find_or_create(struct gdlock *g, const char *name,
				 uint32_t *id, int *created)
{
	int ret = -ENOENT, i;

	*created = 0;
	for (i = 0; i < GDLOCK_ENSURE_TRIES; i++) {
		ret = gdlock_agent_find(g, name, id);
		if (ret != -ENOENT)
			return ret;
		/* New agents start with quota 0 everywhere: nothing leaks. */
		ret = gdlock_agent_create(g, name, 0, id);
		if (!ret) {
			*created = 1;
			return 0;
		}
		if (ret != -EEXIST)
			return ret;
		/* Someone else created it: find theirs (unless it went again). */
	}
	return ret;
}

/* After an ENOENT: was it the agent (retired meanwhile) or the cgroup? */
static int gdlock_agent_gone(struct gdlock *g, const char *name, uint32_t id)
{
	uint32_t now;

	return gdlock_agent_find(g, name, &now) || now != id;
}

/*
 * Is the cgroup with id @cg still there?  Opened by its file handle, on
 * the cgroup2 mount @mnt; a refusal (no CAP_DAC_READ_SEARCH) counts as
 * alive, so nothing is adopted on a guess.
 */
static int gdlock_cgroup_alive(int mnt, uint64_t cg)
{
	int fd = gdlu_cgroup_open(mnt, cg, O_PATH);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return fd != -ESTALE && fd != -ENOENT;
}

/* -EBUSY when agent @id is bound to a live cgroup other than @path. */
static int gdlock_foreign_cgroup(struct gdlock *g, uint32_t id, const char *path)
{
	struct gdl_binding_info *b = NULL;
	uint64_t own;
	int n, i, mnt, ret = 0;

	if (gdlock_cgroup_id(path, &own))
		return 0;	/* the bind itself says what is wrong */
	n = gdlock_binding_list(g, id, NULL, 0);
	if (n <= 0)
		return n;
	b = calloc((size_t)n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	n = gdlock_binding_list(g, id, b, (unsigned int)n);
	mnt = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mnt < 0)
		ret = -errno;
	for (i = 0; !ret && i < n; i++)
		if (b[i].agent_id == id && b[i].type == GDL_BIND_CGROUP_FD &&
		    b[i].target != own && gdlock_cgroup_alive(mnt, b[i].target))
			ret = -EBUSY;
	if (mnt >= 0)
		close(mnt);
	free(b);
	return n < 0 ? n : ret;
}

static int gdlock_ensure_apply(struct gdlock *g, uint32_t id,
			       const struct gdlock_ensure_quota *q,
			       unsigned int nq, const char *cgroup_path)
{
	unsigned int i;
	int ret;

	for (i = 0; i < nq; i++) {
		ret = gdlock_quota_set(g, id, q[i].device, q[i].bytes);
		if (ret)
			return ret;
	}
	if (cgroup_path)
		return gdlock_bind_cgroup(g, id, cgroup_path);
	return 0;
}

GDLOCK_API int gdlock_agent_ensure(struct gdlock *g, const char *name,
				   const struct gdlock_ensure_quota *q,
				   unsigned int nq, const char *cgroup_path,
				   uint32_t *id)
{
	unsigned int i;
	uint32_t aid = 0;
	int ret, created, tries;

	if (!g || !name || !*name || strlen(name) >= GDL_NAME_LEN ||
	    (nq && !q) || (cgroup_path && !*cgroup_path))
		return -EINVAL;
	for (i = 0; i < nq; i++)
		if (q[i].reserved)
			return -EINVAL;

	for (tries = 0; tries < GDLOCK_ENSURE_TRIES; tries++) {
		ret = gdlock_find_or_create(g, name, &aid, &created);
		if (ret)
			return ret;
		if (!created && cgroup_path) {
			ret = gdlock_foreign_cgroup(g, aid, cgroup_path);
			if (ret == -ENOENT && gdlock_agent_gone(g, name, aid))
				continue;	/* retired meanwhile: again */
			if (ret)
				return ret;
		}
		ret = gdlock_ensure_apply(g, aid, q, nq, cgroup_path);
		/* ENOENT from the quota or bind: retired meanwhile, again. */
		if (ret != -ENOENT || !gdlock_agent_gone(g, name, aid))
			break;
	}
	if (ret) {
		if (created)
			gdlock_agent_destroy(g, aid);
		return ret;
	}
	gdlu_dmem_sync(g, NULL, NULL, NULL);
	if (id)
		*id = aid;
	return 0;
}

GDLOCK_API int gdlock_agent_retire(struct gdlock *g, const char *name)
{
	uint32_t id;
	int ret, i;

	if (!g || !name || !*name || strlen(name) >= GDL_NAME_LEN)
		return -EINVAL;
	for (i = 0; i < GDLOCK_ENSURE_TRIES; i++) {
		ret = gdlock_agent_find(g, name, &id);
		if (ret == -ENOENT) {
			/* Gone by another way: its dmem lines may still be set. */
			gdlu_dmem_sync(g, NULL, NULL, NULL);
			return 0;
		}
		if (ret)
			return ret;
		ret = gdlock_agent_destroy(g, id);
		if (!ret)
			gdlu_dmem_sync(g, NULL, NULL, NULL);
		/* Destroyed by a racing retire: look once more, by name. */
		if (ret != -ENOENT)
			return ret;
	}
	return ret;
}

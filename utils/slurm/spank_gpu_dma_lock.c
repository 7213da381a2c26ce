// SPDX-License-Identifier: GPL-2.0
/*
 * gpu_dma_lock.so, the SPANK plugin: every Slurm job becomes a
 * gpu-dma-lock agent named slurm-<jobid>, bound to the job's cgroup, with
 * the GPU memory quota the job asked for (--gpu-mem) on the GPUs Slurm
 * gave it and 0 on the others (docs/slurm.md).
 *
 * Which callback does what, and why there:
 *  - init (every context but the job script one, where Slurm calls no
 *    init: the prolog reads the arguments itself): reads the
 *    plugstack.conf arguments and registers --gpu-mem
 *    (spank_option_register is the only way that reaches sbatch and
 *    salloc).  The option's callback refuses a bad
 *    value or one over max= in srun/sbatch/salloc, at submission.
 *  - init_post_opt, local (srun) and allocator (sbatch/salloc): refuses a
 *    job without --gpu-mem when the cluster says missing=refuse.  An srun
 *    inside an allocation (SLURM_JOB_ID) or given --jobid is a step of a
 *    job that was already admitted.  This is for the user's sake only:
 *    the prolog decides, so a job that got past it is still fenced.
 *  - job_prolog (slurmd, root, before the job's cgroup exists): creates
 *    the agent with its quotas.  Only here is the job's GPU allocation
 *    (SLURM_JOB_GPUS) built by slurmd from the job credential rather
 *    than taken from the user's environment; a job without GRES GPUs
 *    gets 0 on every GPU (nogres=fence, the default).  A node-side
 *    failure (no module, a bad gpus= map) fails the prolog, which drains
 *    the node: it cannot fence.  A user-side one (a value that bypassed
 *    submission) creates no agent, and the job runs fenced at 0 (below).
 *  - init_post_opt, remote (slurmstepd of every step, the batch and the
 *    extern one included; root, already inside .../job_<id>/step_<n>/):
 *    binds the job's cgroup to the agent, so every step and task of the
 *    job shares one quota, and puts the CUDA interposer first in
 *    LD_PRELOAD.  Nothing the user controls fails it, because a failing
 *    step (a batch step for sure) drains the node in Slurm 22.05: no
 *    agent (the prolog refused the job's value) gives the job an agent
 *    with quota 0 everywhere; --gpu-mem's callback, which slurmstepd
 *    runs too, refuses nothing there; an LD_PRELOAD of any length is
 *    kept, what does not fit Slurm's bound dropped.
 *  - task_init (each task, as the user, its stdio set up): prints on the
 *    job's stderr what init_post_opt had to tell it (fenced at 0,
 *    LD_PRELOAD entries dropped), which slurmd's log alone would hide.
 *  - job_epilog (slurmd, root; also after scancel): retires the agent.
 *    Nodes that crashed leave agents behind: gpu-dma-lock-ctl gc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/spank.h>

#include "dmem.h"
#include "gdl_slurm.h"

#ifndef GDL_SLURM_PRELOAD
#define GDL_SLURM_PRELOAD "/usr/lib/x86_64-linux-gnu/gpu-dma-lock/libgpudmalock-cuda.so"
#endif
#define CGROUP_MOUNT "/sys/fs/cgroup"


#define EXPORT __attribute__((visibility("default")))

/* SPANK_PLUGIN(gpu_dma_lock, 1), exported past -fvisibility=hidden. */
EXPORT const char plugin_name[] = "gpu_dma_lock";
EXPORT const char plugin_type[] = "spank";
EXPORT const unsigned int plugin_version = SLURM_VERSION_NUMBER;
EXPORT const unsigned int spank_plugin_version = 1;

static struct gdl_slurm_conf conf;
static char *gpu_mem;		/* --gpu-mem as given (local, allocator, remote) */
/*
 * What slurmstepd's init_post_opt has to tell the job: printed on the
 * task's stderr by task_init (init_post_opt runs before the step's I/O
 * exists; its slurm_error lines only reach slurmd's log).
 */
#define NR_NOTICES 4
static char notice[NR_NOTICES][GDL_SLURM_ERRLEN + 64];
static unsigned int nr_notices;

static void job_notice(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void job_notice(const char *fmt, ...)
{
	unsigned int i;
	va_list ap;

	if (nr_notices == NR_NOTICES)
		return;
	va_start(ap, fmt);
	vsnprintf(notice[nr_notices], sizeof(notice[0]), fmt, ap);
	va_end(ap);
	/* slurmstepd runs --gpu-mem's callback for the launch message's
	 * options and again for the environment's: say it once. */
	for (i = 0; i < nr_notices; i++)
		if (!strcmp(notice[i], notice[nr_notices]))
			return;
	slurm_error("gpu_dma_lock: %s", notice[nr_notices]);
	nr_notices++;
}

static int gpu_mem_cb(int val, const char *optarg, int remote);

static struct spank_option gpu_mem_option = {
	.name = "gpu-mem",
	.arginfo = "SIZE",
	.usage = "GPU memory quota per allocated GPU, enforced by gpu-dma-lock "
		 "(e.g. 16G; K, M, G, T)",
	.has_arg = 1,
	.val = 0,
	.cb = gpu_mem_cb,
};

static int gpu_mem_cb(int val, const char *optarg, int remote)
{
	char err[GDL_SLURM_ERRLEN];
	uint64_t bytes;

	(void)val;
	if (gdl_slurm_parse_gpu_mem(&conf, optarg, &bytes, err, sizeof(err))) {
		if (!remote) {
			slurm_error("gpu_dma_lock: %s", err);
			return -1;
		}
		/*
		 * slurmstepd: a failing callback of a required plugin fails
		 * the step, and a failed step can drain the node.  The value
		 * is the user's (an srun with a SLURM_CONF of its own gets
		 * here); the prolog refused it with the same rule, so the job
		 * has no quota here: it runs fenced at 0 (bind_step).
		 */
		job_notice("%s: refused by this node, where the job gets no GPU memory (quota 0 on every GPU)",
			   err);
		return 0;
	}
	free(gpu_mem);
	gpu_mem = strdup(optarg);
	return gpu_mem ? 0 : -1;
}

static int load_conf(int ac, char **av)
{
	char err[GDL_SLURM_ERRLEN];

	if (gdl_slurm_parse_args(&conf, ac, av, GDL_SLURM_PRELOAD, err,
				 sizeof(err))) {
		slurm_error("gpu_dma_lock: plugstack.conf: %s", err);
		return -1;
	}
	return 0;
}

EXPORT int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_err_t rc;

	if (load_conf(ac, av))
		return -1;
	rc = spank_option_register(sp, &gpu_mem_option);
	if (rc != ESPANK_SUCCESS) {
		slurm_error("gpu_dma_lock: cannot register --gpu-mem: %s",
			    spank_strerror(rc));
		return -1;
	}
	return 0;
}

static int job_id(spank_t sp, uint32_t *id)
{
	const char *e;
	char *end;

	if (spank_get_item(sp, S_JOB_ID, id) == ESPANK_SUCCESS)
		return 0;
	/* The job script context has it in its environment. */
	e = getenv("SLURM_JOB_ID");
	if (!e || !*e)
		return -1;
	errno = 0;
	*id = (uint32_t)strtoul(e, &end, 10);
	return errno || *end ? -1 : 0;
}

static int open_ledger(struct gdlock **g, const char *what)
{
	int ret = gdlock_open(g);

	if (ret)
		slurm_error("gpu_dma_lock: %s: cannot open /dev/gpu_dma_lock: %s (is the module loaded?)",
			    what, gdlock_strerror(ret));
	return ret;
}

/* srun inside an allocation, or srun --jobid: a step of an admitted job. */
static bool srun_in_job(void)
{
	char buf[8192];
	ssize_t n;
	int fd;

	if (getenv("SLURM_JOB_ID"))
		return true;
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && gdl_slurm_joins_job(buf, (size_t)n);
}

/* srun, sbatch, salloc: a job without --gpu-mem where the cluster refuses. */
static int check_submission(void)
{
	char err[GDL_SLURM_ERRLEN];
	uint64_t bytes;

	if (spank_context() == S_CTX_LOCAL && srun_in_job())
		return 0;
	if (gdl_slurm_job_quota(&conf, gpu_mem, &bytes, err, sizeof(err))) {
		slurm_error("gpu_dma_lock: %s", err);
		return -1;
	}
	return 0;
}

static int read_self_cgroup(char *buf, size_t len)
{
	ssize_t n;
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/*
 * The job's LD_PRELOAD (the user's: any length, any content) as ld.so
 * reads it: the last LD_PRELOAD= of the environment.  NULL when none.
 */
static const char *job_preload(spank_t sp, unsigned int *count)
{
	const char *val = NULL;
	char **env = NULL;
	size_t i;

	*count = 0;
	if (spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || !env)
		return NULL;
	for (i = 0; env[i]; i++) {
		if (!strncmp(env[i], "LD_PRELOAD=", 11)) {
			val = env[i] + 11;
			(*count)++;
		}
	}
	return val;
}

/*
 * LD_PRELOAD: the interposer first, then what the job had.  Nothing the
 * user put there may fail the step (a failing batch step drains the
 * node): what does not fit is dropped, and the job is told on its stderr.
 */
static int set_preload(spank_t sp, uint32_t jid)
{
	const size_t len = GDL_SLURM_PRELOAD_MAX + 1;
	unsigned int count, i;
	const char *old;
	char *pre;
	int dropped, ret = -1;

	pre = malloc(len);
	if (!pre) {
		slurm_error("gpu_dma_lock: job %u: LD_PRELOAD: out of memory", jid);
		return -1;
	}
	old = job_preload(sp, &count);
	dropped = gdl_slurm_preload_value(conf.preload, old, pre, len);
	if (dropped < 0) {
		slurm_error("gpu_dma_lock: job %u: preload=%s is too long for LD_PRELOAD",
			    jid, conf.preload);
		goto out;
	}
	if (dropped)
		job_notice("LD_PRELOAD is %zu bytes, too long to put %s first: kept the entries that fit after it (%zu bytes), dropped its last %d",
			   strlen(old), conf.preload, strlen(pre), dropped);
	/* Only one LD_PRELOAD may stay: ld.so would read the last one. */
	for (i = 0; i < count; i++)
		if (spank_unsetenv(sp, "LD_PRELOAD") != ESPANK_SUCCESS)
			break;
	if (spank_setenv(sp, "LD_PRELOAD", pre, 1) == ESPANK_SUCCESS) {
		ret = 0;
		goto out;
	}
	/* Within Slurm's bound, so not expected: the interposer alone. */
	slurm_error("gpu_dma_lock: job %u: cannot set LD_PRELOAD (%zu bytes)",
		    jid, strlen(pre));
	if (strcmp(pre, conf.preload) &&
	    spank_setenv(sp, "LD_PRELOAD", conf.preload, 1) == ESPANK_SUCCESS) {
		job_notice("LD_PRELOAD could not be set with the job's entries: it is %s alone",
			   conf.preload);
		ret = 0;
	}
out:
	free(pre);
	return ret;
}

/* slurmstepd, root, in the job's cgroup: bind it, set LD_PRELOAD. */
static int bind_step(spank_t sp)
{
	static const struct gdlock_ensure_quota fenced = {
		.device = GDL_ALL_DEVICES,
		.bytes = 0,
	};
	char name[GDL_NAME_LEN], proc[4096], cg[4096];
	struct gdlock *g;
	uint32_t jid, aid;
	int ret;

	if (job_id(sp, &jid) || gdl_slurm_agent_name(jid, name, sizeof(name))) {
		slurm_error("gpu_dma_lock: no job id in slurmstepd");
		return -1;
	}
	ret = read_self_cgroup(proc, sizeof(proc));
	if (!ret)
		ret = gdl_slurm_job_cgroup(proc, jid, CGROUP_MOUNT, cg, sizeof(cg));
	if (ret) {
		slurm_error("gpu_dma_lock: job %u: slurmstepd is not in a job_%u cgroup v2 directory (%s): needs ProctrackType=proctrack/cgroup and CgroupPlugin=cgroup/v2",
			    jid, jid, strerror(-ret));
		return -1;
	}
	if (open_ledger(&g, name))
		return -1;
	ret = gdlock_agent_find(g, name, &aid);
	if (ret == -ENOENT) {
		job_notice("job %u has no GPU memory quota on this node (its --gpu-mem was refused: the prolog's line in slurmd's log says why): it runs with quota 0 on every GPU",
			   jid);
		ret = gdlock_agent_ensure(g, name, &fenced, 1, cg, NULL);
	} else if (!ret) {
		ret = gdlock_bind_cgroup(g, aid, cg);
		/*
		 * The job's quotas into its cgroup's dmem.max before the step
		 * runs (ensure above does it itself); best effort, as there:
		 * the interposer holds the quota whatever dmem says.
		 */
		if (!ret)
			gdlu_dmem_sync(g, NULL, NULL, NULL);
	}
	if (ret)
		slurm_error("gpu_dma_lock: job %u: binding %s to agent %s: %s",
			    jid, cg, name, gdlock_strerror(ret));
	gdlock_close(g);
	if (ret)
		return -1;
	return conf.preload[0] ? set_preload(sp, jid) : 0;
}

EXPORT int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
		return check_submission();
	case S_CTX_REMOTE:
		return bind_step(sp);
	default:
		return 0;
	}
}

/* The task, as the user, its stdio set up: tell the job (once per node). */
EXPORT int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	unsigned int i;
	int tid = -1;

	(void)ac;
	(void)av;
	if (!nr_notices || spank_get_item(sp, S_TASK_ID, &tid) != ESPANK_SUCCESS ||
	    tid != 0)
		return 0;
	for (i = 0; i < nr_notices; i++)
		dprintf(STDERR_FILENO, "gpu_dma_lock: %s\n", notice[i]);
	return 0;
}

EXPORT int slurm_spank_job_prolog(spank_t sp, int ac, char **av)
{
	struct gdlock_ensure_quota q[GDL_SLURM_MAX_GPUS + 1];
	struct gdl_device_info *dev;
	char err[GDL_SLURM_ERRLEN], name[GDL_NAME_LEN], *val = NULL;
	const char *gpus = getenv("SLURM_JOB_GPUS");
	struct gdlock *g;
	uint64_t bytes;
	uint32_t jid;
	int nd, nq, ret;

	if (load_conf(ac, av))
		return -1;
	if (job_id(sp, &jid) || gdl_slurm_agent_name(jid, name, sizeof(name))) {
		slurm_error("gpu_dma_lock: prolog: no job id");
		return -1;
	}
	if (spank_option_getopt(sp, &gpu_mem_option, &val) != ESPANK_SUCCESS)
		val = NULL;
	/* The user's mistake: no agent, so the job's steps refuse to start. */
	if (gdl_slurm_job_quota(&conf, val, &bytes, err, sizeof(err))) {
		slurm_error("gpu_dma_lock: job %u: %s", jid, err);
		return 0;
	}
	if (open_ledger(&g, name))
		return -1;
	dev = calloc(GDL_MAX_DEVICES, sizeof(*dev));
	nd = dev ? gdlock_device_list(g, dev, GDL_MAX_DEVICES) : -ENOMEM;
	if (nd > GDL_MAX_DEVICES)
		nd = GDL_MAX_DEVICES;
	if (nd < 0) {
		slurm_error("gpu_dma_lock: job %u: listing devices: %s", jid,
			    gdlock_strerror(nd));
		ret = nd;
		goto out;
	}
	nq = gdl_slurm_quotas(&conf, dev, nd, gpus, bytes, q,
			      GDL_SLURM_MAX_GPUS + 1, err, sizeof(err));
	if (nq < 0) {
		slurm_error("gpu_dma_lock: job %u: %s", jid, err);
		ret = nq;
		goto out;
	}
	ret = gdlock_agent_ensure(g, name, q, (unsigned int)nq, NULL, NULL);
	if (ret)
		slurm_error("gpu_dma_lock: job %u: agent %s: %s", jid, name,
			    gdlock_strerror(ret));
	else if (gpus && *gpus)
		slurm_info("gpu_dma_lock: job %u: agent %s, %llu bytes per GPU on %s",
			   jid, name, (unsigned long long)bytes, gpus);
	else
		slurm_info("gpu_dma_lock: job %u: agent %s, no GRES GPUs: %llu bytes on every GPU (nogres=%s)",
			   jid, name, conf.nogres_all ? (unsigned long long)bytes : 0ULL,
			   conf.nogres_all ? "all" : "fence");
out:
	free(dev);
	gdlock_close(g);
	return ret ? -1 : 0;
}

EXPORT int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	char name[GDL_NAME_LEN];
	struct gdlock *g;
	uint32_t jid;
	int ret;

	(void)ac;
	(void)av;
	if (job_id(sp, &jid) || gdl_slurm_agent_name(jid, name, sizeof(name))) {
		slurm_error("gpu_dma_lock: epilog: no job id");
		return -1;
	}
	/* No module: nothing to retire; gc cleans up after a reload. */
	if (open_ledger(&g, name))
		return 0;
	ret = gdlock_agent_retire(g, name);
	gdlock_close(g);
	if (ret)
		slurm_error("gpu_dma_lock: job %u: retiring agent %s: %s (gpu-dma-lock-ctl gc removes it later)",
			    jid, name, gdlock_strerror(ret));
	return 0;
}

EXPORT int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	(void)sp;
	(void)ac;
	(void)av;
	free(gpu_mem);
	gpu_mem = NULL;
	return 0;
}

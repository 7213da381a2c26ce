/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Slurm plugin's decisions, kept apart from SPANK so that the host
 * unit tests (tests/slurm/unit_test.c) run them without Slurm: the
 * plugstack.conf arguments, the job's quota from --gpu-mem and the
 * cluster rules, the job's GPUs mapped to ledger devices by PCI address,
 * the agent's name and the job's cgroup.
 *
 * Every function that can refuse writes one line for the user into @err
 * (without the "gpu_dma_lock: " prefix the plugin adds).
 */
#ifndef GDL_SLURM_H
#define GDL_SLURM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpudmalock.h"

/* Slurm GPU indexes a node can map (gpus=); more than any node has. */
#define GDL_SLURM_MAX_GPUS	64
#define GDL_SLURM_ERRLEN	256
#define GDL_SLURM_AGENT_PREFIX	"slurm-"
/*
 * The largest --gpu-mem when plugstack.conf has no max=: finite, so that
 * no job asks for "unlimited" (or more than a big GPU has) unless the
 * admin wrote max= (max=unlimited included).  docs/slurm.md.
 */
#define GDL_SLURM_DEFAULT_MAX	(40ULL << 30)
/*
 * The longest LD_PRELOAD value the plugin sets: Slurm's setenvf refuses
 * NAME=VALUE of 32 pages (MAX_ENV_STRLEN) or more, and execve refuses an
 * environment string over MAX_ARG_STRLEN (also 32 pages, with its NUL).
 */
#define GDL_SLURM_PRELOAD_MAX	(32 * 4096 - sizeof("LD_PRELOAD=") - 1)

struct gdl_slurm_conf {
	bool has_default;	/* default=SIZE given */
	bool refuse_missing;	/* missing=refuse (or no default=) */
	bool nogres_all;	/* nogres=all: a job without GRES GPUs gets its
				 * quota on every GPU (default: 0 on every GPU) */
	uint64_t def;		/* default= */
	uint64_t max;		/* max=; GDL_SLURM_DEFAULT_MAX when none */
	unsigned int nr_gpus;	/* gpus=: Slurm GPU index i is PCI gpu_*[i] */
	uint32_t gpu_domain[GDL_SLURM_MAX_GPUS];
	uint32_t gpu_bdf[GDL_SLURM_MAX_GPUS];
	char preload[4096];	/* preload=PATH; "" for preload=none */
};

/* plugstack.conf arguments; @default_preload is the packaged interposer. */
int gdl_slurm_parse_args(struct gdl_slurm_conf *c, int ac, char **av,
			 const char *default_preload, char *err, size_t len);

/* A --gpu-mem value: a size (as everywhere in the project), within max=. */
int gdl_slurm_parse_gpu_mem(const struct gdl_slurm_conf *c, const char *val,
			    uint64_t *bytes, char *err, size_t len);

/*
 * The job's quota: --gpu-mem (@val, NULL when not given), else default=;
 * -EPERM when the cluster refuses jobs without it.
 */
int gdl_slurm_job_quota(const struct gdl_slurm_conf *c, const char *val,
			uint64_t *bytes, char *err, size_t len);

/*
 * The quotas of a job given @bytes per GPU.  @job_gpus is SLURM_JOB_GPUS
 * (Slurm's GPU indexes, "0,2"; NULL or "" without GRES): with GPUs, 0 on
 * every device, then @bytes on each allocated one, found in the ledger's
 * device list @d by the PCI address gpus= gives it.  Without GPUs, 0 on
 * every device (a CPU-only job may not use GPUs the scheduler gave to
 * others), or @bytes on every device under nogres=all.  Returns how many
 * entries it stored in @q, or -errno.
 */
int gdl_slurm_quotas(const struct gdl_slurm_conf *c,
		     const struct gdl_device_info *d, int nd,
		     const char *job_gpus, uint64_t bytes,
		     struct gdlock_ensure_quota *q, unsigned int cap,
		     char *err, size_t len);

/* "slurm-<jobid>": every context derives it from the job id alone. */
int gdl_slurm_agent_name(uint32_t jobid, char *buf, size_t len);

/*
 * The job's cgroup v2 directory from /proc/self/cgroup's text @proc of a
 * process inside it (".../job_<id>/step_<n>/..."), under @mount.
 */
int gdl_slurm_job_cgroup(const char *proc, uint32_t jobid, const char *mount,
			 char *out, size_t len);

/*
 * Does srun's command line (/proc/self/cmdline: @len bytes of
 * NUL-separated arguments) attach a step to an existing job (--jobid)?
 * Only decides whether srun refuses early: the prolog enforces anyway.
 */
bool gdl_slurm_joins_job(const char *cmdline, size_t len);

/*
 * LD_PRELOAD for a job whose environment had @old (NULL: none): @lib
 * first, then @old's entries (separated by ':' or blanks, as ld.so reads
 * them) in their order, without @lib again, joined by ':'.  At most
 * @len - 1 bytes: when @old's entries do not all fit after @lib, it keeps
 * those that do, up to the first that does not, and drops the rest.
 * Returns how many entries it dropped (0: all kept), or -ENAMETOOLONG
 * when @lib itself does not fit (@out is then "").
 */
int gdl_slurm_preload_value(const char *lib, const char *old, char *out,
			    size_t len);

#endif /* GDL_SLURM_H */

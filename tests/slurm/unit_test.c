// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the Slurm plugin's decisions (utils/slurm/gdl_slurm.c):
 * plugstack.conf arguments, --gpu-mem against max=, the default/refuse
 * rules, GRES GPUs mapped to ledger devices by PCI address (and jobs
 * without GRES fenced at 0), the agent's name, the job's cgroup and
 * LD_PRELOAD of any length.  No Slurm, no module.
 * Ends with "slurm-unit: N passed, M failed".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "gdl_slurm.h"

#define PRE "/usr/lib/x/gpu-dma-lock/libgpudmalock-cuda.so"
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
/*
 * The packaged maximum without max= (GDL_SLURM_DEFAULT_MAX) and the
 * plugin's LD_PRELOAD bound (GDL_SLURM_PRELOAD_MAX + 1), spelled out so
 * that these tests also build against the plugin before they existed.
 */
#define PACKAGED_MAX (40 * GiB)
#define PRELOAD_LEN (32 * 4096 - 12)

static char err[GDL_SLURM_ERRLEN];

static int parse(struct gdl_slurm_conf *c, const char *a0, const char *a1,
		 const char *a2)
{
	char *av[3] = { (char *)a0, (char *)a1, (char *)a2 };
	int ac = a2 ? 3 : a1 ? 2 : a0 ? 1 : 0;

	err[0] = '\0';
	return gdl_slurm_parse_args(c, ac, av, PRE, err, sizeof(err));
}

static void test_args(void)
{
	struct gdl_slurm_conf c;

	CU_ASSERT_EQUAL(parse(&c, NULL, NULL, NULL), 0);
	CU_ASSERT(c.refuse_missing);	/* no default=: refuse */
	CU_ASSERT_EQUAL(c.max, PACKAGED_MAX);	/* finite without max= */
	CU_ASSERT_STRING_EQUAL(c.preload, PRE);
	CU_ASSERT_EQUAL(parse(&c, "default=8G", "max=40G", NULL), 0);
	CU_ASSERT(!c.refuse_missing);
	CU_ASSERT_EQUAL(c.def, 8 * GiB);
	CU_ASSERT_EQUAL(c.max, 40 * GiB);
	CU_ASSERT_EQUAL(parse(&c, "default=8G", "missing=refuse", NULL), 0);
	CU_ASSERT(c.refuse_missing);
	CU_ASSERT_EQUAL(parse(&c, "preload=none", NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(c.preload, "");
	CU_ASSERT_EQUAL(parse(&c, "preload=/opt/x.so", NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(c.preload, "/opt/x.so");

	CU_ASSERT_EQUAL(parse(&c, "missing=default", NULL, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs default="));
	CU_ASSERT_EQUAL(parse(&c, "missing=maybe", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "default=64G", "max=40G", NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "default=64G is over max=40G"));
	CU_ASSERT_EQUAL(parse(&c, "default=banana", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "max=", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "preload=relative.so", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "quota=8G", NULL, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown plugstack.conf argument 'quota=8G'"));
	CU_ASSERT_EQUAL(parse(&c, "default", NULL, NULL), -EINVAL);

	/* Only the admin lifts the packaged maximum, unlimited included. */
	CU_ASSERT_EQUAL(parse(&c, "default=64G", NULL, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "default=64G is over max=40G (the packaged maximum"));
	CU_ASSERT_EQUAL(parse(&c, "default=unlimited", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "default=64G", "max=80G", NULL), 0);
	CU_ASSERT_EQUAL(c.max, 80 * GiB);
	CU_ASSERT_EQUAL(parse(&c, "max=unlimited", NULL, NULL), 0);
	CU_ASSERT_EQUAL(c.max, ~0ULL);
	CU_ASSERT_EQUAL(parse(&c, "max=unlimited", "default=unlimited", NULL), 0);
	/* nogres=: fence (the default) or all; nothing else. */
	CU_ASSERT_EQUAL(parse(&c, "nogres=fence", NULL, NULL), 0);
	CU_ASSERT_EQUAL(parse(&c, "nogres=all", NULL, NULL), 0);
	CU_ASSERT_EQUAL(parse(&c, "nogres=", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "nogres=every", NULL, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "use nogres=fence or nogres=all"));
	/* An interposer path ld.so would split is not one path. */
	CU_ASSERT_EQUAL(parse(&c, "preload=/opt/a:b.so", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "preload=/opt/a b.so", NULL, NULL), -EINVAL);
}

static void test_gpus_arg(void)
{
	struct gdl_slurm_conf c;
	char many[GDL_SLURM_MAX_GPUS * 13 + 32] = "gpus=";
	int i;

	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:3b:00.0,5e:00.0", NULL, NULL), 0);
	CU_ASSERT_EQUAL(c.nr_gpus, 2);
	CU_ASSERT_EQUAL(c.gpu_domain[0], 0);
	CU_ASSERT_EQUAL(c.gpu_bdf[0], 0x3b << 8);
	CU_ASSERT_EQUAL(c.gpu_bdf[1], 0x5e << 8);
	/* As docs/slurm.md says to get them: nvidia-smi's pci.bus_id. */
	CU_ASSERT_EQUAL(parse(&c, "gpus=00000000:3B:00.0,00000001:5E:00.0",
			      NULL, NULL), 0);
	CU_ASSERT_EQUAL(c.nr_gpus, 2);
	CU_ASSERT_EQUAL(c.gpu_domain[0], 0);
	CU_ASSERT_EQUAL(c.gpu_bdf[0], 0x3b << 8);
	CU_ASSERT_EQUAL(c.gpu_domain[1], 1);
	CU_ASSERT_EQUAL(c.gpu_bdf[1], 0x5e << 8);
	CU_ASSERT_EQUAL(parse(&c, "gpus=", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:3b:00.0,", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:3b:00.0,,5e:00.0", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "gpus=3b:20.0", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(parse(&c, "gpus=gpu0", NULL, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'gpu0' is not a PCI address"));
	for (i = 0; i <= GDL_SLURM_MAX_GPUS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "%s%02x:00.0", i ? "," : "", i);
	CU_ASSERT_EQUAL(parse(&c, many, NULL, NULL), -E2BIG);
}

static void test_gpu_mem(void)
{
	struct gdl_slurm_conf c;
	uint64_t b = 0;

	CU_ASSERT_EQUAL(parse(&c, "max=40G", NULL, NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "16G", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b, 16 * GiB);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "40G", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "0", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b, 0);
	b = 7;
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "40961M", &b, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(b, 7);	/* nothing stored on error */
	CU_ASSERT_STRING_EQUAL(err, "--gpu-mem=40961M is over this cluster's maximum of 40G per GPU");
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "unlimited", &b, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "banana", &b, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--gpu-mem=banana is not a size"));
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "", &b, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "-1G", &b, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "99999999999999999999", &b, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, NULL, &b, err, sizeof(err)), -EINVAL);
	/* No max=: the packaged maximum, never unlimited. */
	CU_ASSERT_EQUAL(parse(&c, NULL, NULL, NULL), 0);
	b = 7;
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "unlimited", &b, err, sizeof(err)), -ERANGE);
	CU_ASSERT_STRING_EQUAL(err, "--gpu-mem=unlimited is over this cluster's maximum of 40G per GPU");
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "max", &b, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "41G", &b, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "1T", &b, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(b, 7);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "40G", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b, PACKAGED_MAX);
	CU_ASSERT_EQUAL(parse(&c, "default=8G", "missing=default", NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_job_quota(&c, "unlimited", &b, err, sizeof(err)), -ERANGE);
	/* Only where the admin wrote max=unlimited. */
	CU_ASSERT_EQUAL(parse(&c, "max=unlimited", NULL, NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_parse_gpu_mem(&c, "unlimited", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b, ~0ULL);
}

static void test_rules(void)
{
	struct gdl_slurm_conf c;
	uint64_t b = 0;

	CU_ASSERT_EQUAL(parse(&c, "default=8G", "max=40G", NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_job_quota(&c, NULL, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b, 8 * GiB);
	CU_ASSERT_EQUAL(gdl_slurm_job_quota(&c, "2G", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b, 2 * GiB);
	CU_ASSERT_EQUAL(gdl_slurm_job_quota(&c, "41G", &b, err, sizeof(err)), -ERANGE);
	CU_ASSERT_EQUAL(parse(&c, "default=8G", "missing=refuse", NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_job_quota(&c, NULL, &b, err, sizeof(err)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "add --gpu-mem=SIZE"));
	CU_ASSERT_EQUAL(gdl_slurm_job_quota(&c, "1G", &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(parse(&c, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_job_quota(&c, NULL, &b, err, sizeof(err)), -EPERM);
}

/* The ledger lists devices in its own order: by PCI address, not position. */
static const struct gdl_device_info devs[3] = {
	{ .index = 0, .flags = GDL_DEV_F_PCI, .pci_bdf = 0x5e << 8, .name = "0000:5e:00.0" },
	{ .index = 1, .flags = GDL_DEV_F_MANUAL, .name = "spare" },
	{ .index = 4, .flags = GDL_DEV_F_PCI, .pci_bdf = 0x3b << 8, .name = "0000:3b:00.0" },
};

static void test_quotas(void)
{
	struct gdlock_ensure_quota q[4];
	struct gdl_slurm_conf c;

	/*
	 * No GRES (a CPU-only job): 0 on every device, so it cannot use
	 * GPUs the scheduler gave other jobs; its quota everywhere only
	 * under nogres=all.
	 */
	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:3b:00.0,0000:5e:00.0", NULL, NULL), 0);
	q[0].bytes = 1;
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, NULL, 5 * MiB, q, 4, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(q[0].device, GDL_ALL_DEVICES);
	CU_ASSERT_EQUAL(q[0].bytes, 0);
	q[0].bytes = 1;
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "", 5 * MiB, q, 4, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(q[0].bytes, 0);
	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:3b:00.0,0000:5e:00.0", "nogres=fence", NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, NULL, 5 * MiB, q, 4, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(q[0].bytes, 0);
	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:3b:00.0,0000:5e:00.0", "nogres=all", NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, NULL, 5 * MiB, q, 4, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(q[0].device, GDL_ALL_DEVICES);
	CU_ASSERT_EQUAL(q[0].bytes, 5 * MiB);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "", 5 * MiB, q, 4, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(q[0].bytes, 5 * MiB);
	/* With GRES, nogres= changes nothing. */
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "0", 5 * MiB, q, 4, err, sizeof(err)), 2);
	CU_ASSERT_EQUAL(q[0].bytes, 0);
	CU_ASSERT_EQUAL(q[1].bytes, 5 * MiB);
	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:3b:00.0,0000:5e:00.0", NULL, NULL), 0);
	/* Slurm GPU 0 is 3b:00.0, ledger device 4; 0 everywhere else first. */
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "0", 5 * MiB, q, 4, err, sizeof(err)), 2);
	CU_ASSERT_EQUAL(q[0].device, GDL_ALL_DEVICES);
	CU_ASSERT_EQUAL(q[0].bytes, 0);
	CU_ASSERT_EQUAL(q[1].device, 4);
	CU_ASSERT_EQUAL(q[1].bytes, 5 * MiB);
	CU_ASSERT_EQUAL(q[1].reserved, 0);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "1,0", 5 * MiB, q, 4, err, sizeof(err)), 3);
	CU_ASSERT_EQUAL(q[1].device, 0);
	CU_ASSERT_EQUAL(q[2].device, 4);
	/* Refusals, each with its reason. */
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "2", MiB, q, 4, err, sizeof(err)), -ENODEV);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Slurm GPU 2 has no PCI address"));
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 1, "0", MiB, q, 4, err, sizeof(err)), -ENODEV);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "PCI 0000:3b:00.0) is not a gpu_dma_lock device"));
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "0,", MiB, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "0-1", MiB, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "x", MiB, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, ",0", MiB, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "99999999999999999999", MiB, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "0,1,0,1", MiB, q, 4, err, sizeof(err)), -E2BIG);
	/* A manual device with a PCI-looking name does not match. */
	CU_ASSERT_EQUAL(parse(&c, "gpus=0000:00:00.0", NULL, NULL), 0);
	CU_ASSERT_EQUAL(gdl_slurm_quotas(&c, devs, 3, "0", MiB, q, 4, err, sizeof(err)), -ENODEV);
}

static void test_names_cgroups(void)
{
	char b[256];

	CU_ASSERT_EQUAL(gdl_slurm_agent_name(42, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "slurm-42");
	CU_ASSERT_EQUAL(gdl_slurm_agent_name(4294967295U, b, sizeof(b)), 0);
	CU_ASSERT(strlen(b) < GDL_NAME_LEN);
	CU_ASSERT_EQUAL(gdl_slurm_agent_name(42, b, 8), -ENAMETOOLONG);

	CU_ASSERT_EQUAL(gdl_slurm_job_cgroup(
		"0::/system.slice/n_slurmstepd.scope/job_42/step_0/slurm\n",
		42, "/sys/fs/cgroup", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/sys/fs/cgroup/system.slice/n_slurmstepd.scope/job_42");
	CU_ASSERT_EQUAL(gdl_slurm_job_cgroup(
		"12:pids:/x\n0::/s/job_4/job_42\n", 42, "/c", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/c/s/job_4/job_42");
	/* job_420 is not job_42; nor is a v1 hierarchy. */
	CU_ASSERT_EQUAL(gdl_slurm_job_cgroup("0::/s/job_420/step_0\n", 42, "/c", b, sizeof(b)), -ENOENT);
	CU_ASSERT_EQUAL(gdl_slurm_job_cgroup("4:memory:/s/job_42\n", 42, "/c", b, sizeof(b)), -ENOENT);
	CU_ASSERT_EQUAL(gdl_slurm_job_cgroup("0::/\n", 42, "/c", b, sizeof(b)), -ENOENT);
	CU_ASSERT_EQUAL(gdl_slurm_job_cgroup("0::/s/job_42/step_0\n", 42, "/c", b, 8), -ENAMETOOLONG);

	CU_ASSERT(gdl_slurm_joins_job("srun\0--jobid=7\0true", 20));
	CU_ASSERT(gdl_slurm_joins_job("srun\0--jobid\0" "7\0true", 20));
	CU_ASSERT(!gdl_slurm_joins_job("srun\0--jobid-x\0true", 20));
	CU_ASSERT(!gdl_slurm_joins_job("srun\0-n\0" "2\0true", 15));
	/* A cut-off last argument (no NUL) is read within its bounds. */
	CU_ASSERT(!gdl_slurm_joins_job("srun\0--job", 11));
	CU_ASSERT(!gdl_slurm_joins_job("", 0));

}

/* An LD_PRELOAD of @n bytes: "/p/00000.so:/p/00001.so:..." cut at @n. */
static char *long_preload(size_t n, char sep)
{
	char *v = malloc(n + 16), *p = v;
	unsigned int i = 0;

	if (!v)
		return NULL;
	while ((size_t)(p - v) < n) {
		p += sprintf(p, "%s/p/%05u.so", i ? (char[]){ sep, 0 } : "", i);
		i++;
	}
	v[n] = '\0';
	return v;
}

static void test_preload(void)
{
	const size_t l = strlen(PRE);
	char b[256], *big, *v;
	size_t n;
	int r;

	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/l.so");
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", NULL, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/l.so");
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "/a.so", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/l.so:/a.so");
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "/l.so", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/l.so");
	/* The interposer goes first even where the job named it later. */
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "/a.so /l.so", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/l.so:/a.so");
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", " /a.so::/b.so /l.so:", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/l.so:/a.so:/b.so");
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "/x/l.so", b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "/l.so:/x/l.so");
	/* Too long: the interposer alone, and how many entries were dropped. */
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "/a.so", b, 8), 1);
	CU_ASSERT_STRING_EQUAL(b, "/l.so");
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "/a.so:/b.so", b, 12), 1);
	CU_ASSERT_STRING_EQUAL(b, "/l.so:/a.so");
	/* Order kept: nothing after the first entry that does not fit. */
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/l.so", "/a.so:/long.so:/b.so", b, 13), 2);
	CU_ASSERT_STRING_EQUAL(b, "/l.so:/a.so");
	/* Only the admin's own path can fail, and leaves nothing behind. */
	strcpy(b, "junk");
	CU_ASSERT_EQUAL(gdl_slurm_preload_value("/long/l.so", "", b, 4), -ENAMETOOLONG);
	CU_ASSERT_STRING_EQUAL(b, "");

	/*
	 * What a job's environment may hold: 8 KiB and 16 KiB (which the
	 * plugin's old fixed buffers failed, or dropped silently) are kept
	 * whole, the interposer first.
	 */
	big = malloc(PRELOAD_LEN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	for (n = 8000; n <= 16384; n += 8384) {
		v = long_preload(n, ':');
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT_EQUAL(gdl_slurm_preload_value(PRE, v, big, PRELOAD_LEN), 0);
		CU_ASSERT_EQUAL(strlen(big), l + 1 + n);
		CU_ASSERT_EQUAL(strncmp(big, PRE ":", l + 1), 0);
		CU_ASSERT_STRING_EQUAL(big + l + 1, v);
		free(v);
	}
	/* Blank-separated, as ld.so also reads it: the same entries. */
	v = long_preload(16384, ' ');
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(gdl_slurm_preload_value(PRE, v, big, PRELOAD_LEN), 0);
	CU_ASSERT_EQUAL(strlen(big), l + 1 + 16384);
	CU_ASSERT_PTR_NULL(strchr(big, ' '));
	free(v);
	/* Past the bound: whole entries up to it, in order, then nothing. */
	v = long_preload(4 * PRELOAD_LEN, ':');
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	r = gdl_slurm_preload_value(PRE, v, big, PRELOAD_LEN);
	CU_ASSERT(r > 0);
	n = strlen(big);
	CU_ASSERT(n < PRELOAD_LEN && n > PRELOAD_LEN - 16);
	CU_ASSERT_EQUAL(strncmp(big, PRE ":/p/00000.so:", l + 13), 0);
	CU_ASSERT_EQUAL(strncmp(big + l + 1, v, n - l - 1), 0);
	CU_ASSERT_EQUAL(v[n - l - 1], ':');	/* cut between entries */
	/* kept + dropped = every entry (12 bytes each, with its ':') */
	CU_ASSERT_EQUAL((n - l) / 12 + (size_t)r, (4 * PRELOAD_LEN + 11) / 12);
	free(v);
	/* One entry longer than the bound: dropped, the interposer kept. */
	v = long_preload(PRELOAD_LEN, 'x');
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(gdl_slurm_preload_value(PRE, v, big, PRELOAD_LEN), 1);
	CU_ASSERT_STRING_EQUAL(big, PRE);
	free(v);
	free(big);
}

int main(void)
{
	unsigned int passed, failed;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite("slurm", NULL, NULL);
	if (!s || !CU_add_test(s, "plugstack arguments", test_args) ||
	    !CU_add_test(s, "gpus= map", test_gpus_arg) ||
	    !CU_add_test(s, "--gpu-mem and max=", test_gpu_mem) ||
	    !CU_add_test(s, "default and refuse rules", test_rules) ||
	    !CU_add_test(s, "GRES GPUs to ledger quotas", test_quotas) ||
	    !CU_add_test(s, "names, cgroups, srun --jobid", test_names_cgroups) ||
	    !CU_add_test(s, "LD_PRELOAD of any length", test_preload)) {
		fprintf(stderr, "cannot register tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	passed = CU_get_number_of_tests_run() - failed;
	CU_cleanup_registry();
	printf("slurm-unit: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

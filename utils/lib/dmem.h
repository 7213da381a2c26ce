/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ledger programs the kernel's dmem cgroup controller (Linux 6.14+,
 * docs/dmem.md): where a ledger device has a dmem region, each agent's
 * quota on it becomes that region's line in the dmem.max of every cgroup
 * the agent is bound to, so the kernel refuses what a driver would
 * allocate past it, whether or not the process goes through libcuda.
 * Internal (utils/lib/dmem.c): in libgpudmalock.a and linked into the
 * ctl, hidden from the shared library, which calls it from the lifecycle
 * helper only.
 */
#ifndef GDL_DMEM_H
#define GDL_DMEM_H

#include <stddef.h>
#include <stdint.h>

#include "gpudmalock.h"

#define GDLU_DMEM_CGROOT	"/sys/fs/cgroup"
#define GDLU_DMEM_CAPACITY	GDLU_DMEM_CGROOT "/dmem.capacity"
/* What the syncs programmed ("CGID REGION" lines), and its lock. */
#define GDLU_DMEM_STATE		"/run/gpu-dma-lock/dmem.state"
/* The admin's overrides ("PCI REGION|none" lines): ctl apply writes it. */
#define GDLU_DMEM_OVERRIDES	"/run/gpu-dma-lock/dmem.regions"
#define GDLU_DMEM_NAME		128	/* region names: "drm/<pci>/vram0" */
#define GDLU_DMEM_MAX		UINT64_MAX	/* "max" in a dmem file */

/*
 * Pure parsers (unit-tested on the host, tests/ctl/unit/test_dmem.c).
 *
 * The value of @region in @text, a dmem.capacity, dmem.max or
 * dmem.current ("REGION VALUE" lines; "max" is GDLU_DMEM_MAX).
 * -ENOENT: no such line; -EBADMSG: its value is not a number.
 */
int gdlu_dmem_value(const char *text, const char *region, uint64_t *val);
/*
 * The first region of @capacity whose second '/'-separated part is the
 * PCI address @pci ("drm/0000:00:04.0/vram0", "nvidia/0000:01:00.0/vidmem")
 * into @out.  -ENOENT: none.
 */
int gdlu_dmem_region_of(const char *capacity, const char *pci, char *out,
			size_t len);
/*
 * The admin's override for @pci in @text ("PCI REGION" lines, '#'
 * comments): the region, or "none" (interposer only).  -ENOENT: none;
 * -EBADMSG: a line that is not two words, or a region that is not a name.
 */
int gdlu_dmem_override(const char *text, const char *pci, char *out,
		       size_t len);
/* A region name as dmem prints it: printable, no blank, not too long. */
int gdlu_dmem_name_ok(const char *name);

/*
 * The cgroup with id @cg (BIND_LIST's target), opened by its file handle
 * on the cgroup2 mount @mnt with @flags; -errno (-ESTALE: gone).  Needs
 * CAP_DAC_READ_SEARCH.  The lifecycle helper's liveness check uses it too.
 */
int gdlu_cgroup_open(int mnt, uint64_t cg, int flags);

/* How one ledger device is enforced. */
struct gdlu_dmem_dev {
	char region[GDLU_DMEM_NAME];	/* "" : the interposer only */
	const char *why;		/* how the region was found, or why not */
};

/*
 * Map each of the @n devices to its region: the override for its PCI
 * address when there is one, else the region named after it in
 * dmem.capacity.  Returns how many have one; never fails (no controller,
 * no file: every device is "interposer", and says why).
 */
int gdlu_dmem_map(const struct gdl_device_info *d, int n,
		  struct gdlu_dmem_dev *out);

/*
 * What the kernel has charged to agent @agent on @region: the sum of
 * dmem.current over the cgroups it is bound to (each counts its
 * descendants).  -ENOENT when it is bound to no cgroup that has one.
 */
int gdlu_dmem_agent_current(struct gdlock *g, uint32_t agent,
			    const char *region, uint64_t *sum);

struct gdlu_dmem_sync_stats {
	unsigned int lines;	/* (cgroup, region) pairs the ledger wants */
	unsigned int written;	/* dmem.max lines changed */
	unsigned int reset;	/* lines given back to "max" */
	unsigned int failed;	/* could not be written (reported) */
};
typedef void (*gdlu_dmem_report)(void *arg, const char *line);

/*
 * Make every bound cgroup's dmem.max say its agent's quotas, and give
 * back to "max" the lines an earlier sync wrote that the ledger no longer
 * wants (agent destroyed, cgroup unbound, device gone).  Lines already
 * right are not written.  Each failure is one line to @report (if any).
 * 0, or -errno when the ledger or the state file cannot be read.
 */
int gdlu_dmem_sync(struct gdlock *g, gdlu_dmem_report report, void *arg,
		   struct gdlu_dmem_sync_stats *st);

#endif /* GDL_DMEM_H */

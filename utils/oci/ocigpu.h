/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which GPUs a container gets, from everything in its config.json that
 * can give it one (docs/fleet.md, "What makes a GPU container"):
 *
 *  - linux.devices: NVIDIA (major 195), DRM (226) and KFD nodes by
 *    major:minor, else by the host node's path; the ledger's own node
 *    (what the CDI device gpu-dma-lock.io/agent gives) counts as every
 *    GPU when nothing else names one;
 *  - bind mounts of a host device node, or of /dev or a directory under
 *    it that holds GPU nodes, and any devtmpfs mount;
 *  - linux.resources.devices rules that allow reading or writing a GPU
 *    major (a wildcard rule counts on a host that has a GPU node: the
 *    container can mknod one);
 *  - NVIDIA's legacy runtime: NVIDIA_VISIBLE_DEVICES in process.env
 *    (anything but void, none or empty), its volume-mount list, or the
 *    nvidia-container-runtime-hook among the hooks (docker --gpus);
 *  - CDI requests in annotations (cdi.k8s.io/...) for a GPU vendor's
 *    device (nvidia.com, amd.com, intel.com, or a class naming gpu).
 *
 * Host facts (device nodes, /proc/driver/nvidia, /sys/dev/char) are read
 * under a root prefix, "" in the hook, a test tree in the unit tests.
 */
#ifndef GDL_OCIGPU_H
#define GDL_OCIGPU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpudmalock.h"
#include "jread.h"

#define OCI_NVIDIA_MAJOR	195
#define OCI_DRM_MAJOR		226
#define OCI_MAX_GPU_REFS	64

enum oci_gpu_kind {
	OCI_GPU_ALL,		/* every GPU: unresolvable, or asked for */
	OCI_GPU_NV_MINOR,	/* /dev/nvidiaN */
	OCI_GPU_NV_INDEX,	/* NVIDIA_VISIBLE_DEVICES=N (NVML order) */
	OCI_GPU_NV_UUID,	/* GPU-... */
	OCI_GPU_DRI_MINOR,	/* /dev/dri/renderD128, card0 */
};

struct oci_gpu_ref {
	enum oci_gpu_kind kind;
	uint32_t num;
	char uuid[48];
};

struct oci_gpus {
	int n;
	int ledger;		/* the ledger's own node, or its CDI device */
	struct oci_gpu_ref ref[OCI_MAX_GPU_REFS];
	char why[192];		/* the first way found, for messages */
};

struct oci_host {
	const char *root;	/* prefix of every host path read */
	int kfd_major;		/* -1: none on this host */
	dev_t ledger_rdev;	/* the ledger's node, 0 if absent */
};

/* The host facts: majors from ROOT/proc/devices, the ledger's node. */
void oci_host_init(struct oci_host *h, const char *root);

/*
 * The GPUs @config gives the container (and @annots, the state's
 * annotations, may ask for through CDI).  Returns the number of refs
 * found, 0 for a container that gets no GPU.
 */
int oci_gpus_find(const struct jr_node *config, const struct jr_node *annots,
		  const struct oci_host *h, struct oci_gpus *g);

/*
 * To positions in @d (bit i: d[i]): each ref by PCI address through
 * ROOT/proc/driver/nvidia/gpus and ROOT/sys/dev/char; a ref that cannot
 * be resolved there means every device (the container keeps a quota
 * everywhere rather than none).  A GPU the ledger does not manage sets
 * no bit.
 */
uint64_t oci_gpus_resolve(const struct oci_gpus *g, const struct oci_host *h,
			  const struct gdl_device_info *d, int nd);

#endif /* GDL_OCIGPU_H */

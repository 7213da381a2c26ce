/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The OCI hook's decisions, as pure functions (unit-tested on the host in
 * tests/ctl/unit/test_oci.c): the fleet rules of oci.conf, the quota
 * annotation, the agent's name, the cgroup to bind, what counts as a GPU.
 * Errors are written as one line into a caller's buffer.
 */
#ifndef GDL_OCIPOLICY_H
#define GDL_OCIPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "gpudmalock.h"

#define OCI_ANNOT_QUOTA		"gpu-dma-lock.io/quota"
#define OCI_ANNOT_PEER		"gpu-dma-lock.io/peer"
#define OCI_MAX_PEERS		64
#define OCI_CONF_PACKAGED	"/usr/lib/gpu-dma-lock/oci.conf"
#define OCI_CONF_ADMIN		"/etc/gpu-dma-lock/oci.conf"
#define OCI_MAX_QUOTAS		GDL_MAX_DEVICES
#define OCI_ERR_LEN		512

/* What a container with a GPU device but no quota annotation gets. */
enum oci_unannotated {
	OCI_UNANNOTATED_DEFAULT,	/* default_quota on every device */
	OCI_UNANNOTATED_REFUSE,		/* it does not start */
	OCI_UNANNOTATED_IGNORE,		/* left alone: no agent */
};

struct oci_conf {
	uint64_t default_quota;
	uint64_t max_quota;		/* per device, any annotation */
	enum oci_unannotated unannotated;
};

/* One entry of the annotation: @sel NULL means every device. */
struct oci_quota {
	char sel[64];
	int all;
	uint64_t bytes;
};

/* The packaged defaults, also what an absent file means. */
void oci_conf_defaults(struct oci_conf *c);
/* Apply the "key = value" lines of @text (from @fname) over @c. */
int oci_conf_parse(struct oci_conf *c, const char *text, const char *fname,
		   char *err, size_t errlen);

/*
 * "16G" (every device) or "0=8G,0000:3b:00.0=4G,GPU-<uuid>=2G", a bare
 * size (or "*=SIZE") meaning every device; ',' or ';' between entries
 * (podman 4.3 splits an --annotation value at commas); each checked
 * against max_quota.
 * Returns the number of entries or -errno.
 */
int oci_quota_parse(const char *s, const struct oci_conf *c,
		    struct oci_quota *out, int cap, char *err, size_t errlen);
/*
 * To ledger quotas, every-device entries first so that per-device ones
 * override them; selectors by index, name, PCI address or UUID.
 */
int oci_quota_resolve(const struct oci_quota *q, int n,
		      const struct gdl_device_info *d, int nd,
		      struct gdlock_ensure_quota *out, char *err, size_t errlen);

/*
 * The peer annotation, "0>1" (device 0 may DMA to device 1) or "0<>1"
 * (both ways), entries separated by ',' or ';', devices named as in the
 * quota annotation: admin peer ACL entries for the agent (agent_id left
 * 0 for the caller to fill).  Returns the number of entries or -errno.
 */
int oci_peer_parse(const char *s, const struct gdl_device_info *d, int nd,
		   struct gdl_acl_entry *out, int cap, char *err, size_t errlen);

/* ctr-<first 12 hex digits of the id>; a non-hex id is hashed. */
int oci_agent_name(const char *id, char out[GDL_NAME_LEN]);

/*
 * From the text of /proc/PID/cgroup, the cgroup v2 path (relative to the
 * cgroup2 mount) that covers the whole container: crun's and runc's
 * "container" leaf under a systemd scope is replaced by the scope, so
 * processes that podman exec puts next to it are covered too.
 */
int oci_cgroup_path(const char *proc_cgroup, char *out, size_t len);

/* /dev/nvidiaN, /dev/dri/renderD*, /dev/dri/card*, /dev/kfd, our node. */
int oci_is_gpu_device(const char *path);

#endif /* GDL_OCIPOLICY_H */

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
#include "jread.h"

#define OCI_ANNOT_QUOTA		"gpu-dma-lock.io/quota"
#define OCI_ANNOT_PEER		"gpu-dma-lock.io/peer"
#define OCI_MAX_PEERS		64
#define OCI_CONF_PACKAGED	"/usr/lib/gpu-dma-lock/oci.conf"
#define OCI_CONF_ADMIN		"/etc/gpu-dma-lock/oci.conf"
#define OCI_MAX_QUOTAS		GDL_MAX_DEVICES
#define OCI_ERR_LEN		512

/* What a GPU container without a quota annotation gets. */
enum oci_unannotated {
	OCI_UNANNOTATED_DEFAULT,	/* default_quota on every device */
	OCI_UNANNOTATED_REFUSE,		/* it does not start */
	OCI_UNANNOTATED_IGNORE,		/* left alone: no agent */
};

/* A fleet rule that either refuses the container or lets it be. */
enum oci_allow {
	OCI_REFUSE,
	OCI_ALLOW,
};

struct oci_conf {
	uint64_t default_quota;
	uint64_t max_quota;		/* per device, any annotation */
	enum oci_unannotated unannotated;
	enum oci_allow peer_annotation;	/* honour gpu-dma-lock.io/peer */
	enum oci_allow admin_containers; /* CAP_SYS_ADMIN on the host */
	enum oci_allow uninterposed;	/* a GPU without the CUDA interposer */
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

/*
 * ctr- and 27 base32 characters (135 bits) of the SHA-256 of the whole
 * id: no id, however chosen, lands on another container's agent.
 */
int oci_agent_name(const char *id, char out[GDL_NAME_LEN]);

/*
 * The container's own cgroup v2 path (relative to the cgroup2 mount),
 * from the text of /proc/PID/cgroup, checked against what the engine
 * asked the runtime for (config.json's linux.cgroupsPath, @want: a path,
 * or systemd's "slice:prefix:name"): the process must be in exactly that
 * cgroup, or in crun's and runc's "container" leaf under it (replaced by
 * the scope, so that what podman exec puts next to it is covered too),
 * and its last component must name the container @id.  Anything else
 * (no cgroupsPath, podman --cgroups=disabled, a caller's session, a
 * parent) is -EPERM with the reason in @err.
 */
int oci_cgroup_path(const char *proc_cgroup, const char *want, const char *id,
		    char *out, size_t len, char *err, size_t errlen);

/*
 * Does the container hold CAP_SYS_ADMIN in the host's user namespace (in
 * any capability set, or with no capabilities given at all, which
 * runtimes read as "keep root's"), which makes it a ledger admin?  A new
 * user namespace, or one joined by path that is not the host's (compared
 * under @root with /proc/1/ns/user), says no.
 */
int oci_admin_capable(const struct jr_node *config, const char *root);

/*
 * Does the container carry the CUDA interposer the way the CDI spec
 * gives it: a read-only /etc/ld.so.preload, whose host file (read under
 * @root) names a libgpudmalock-cuda.so that is itself mounted read-only?
 */
int oci_interposed(const struct jr_node *config, const char *root);

#endif /* GDL_OCIPOLICY_H */

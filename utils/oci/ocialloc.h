/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kubernetes allocations (docs/kubernetes.md): the device plugin grants a
 * container GPU memory in units and writes the grant into a root-owned
 * record, OCI_ALLOC_DIR/<id>; the allocation's CDI device runs the hook
 * with "--alloc <id>".  The hook takes the quota from the record, not
 * from the pod's annotations, and binds the allocation to the first pod
 * that starts with it (OCI_ALLOC_DIR/<id>.claim), so another pod naming
 * it (containerd and CRI-O also take CDI requests from annotations) is
 * refused.  And the labels an admin reads next to ctr-<hash>: the pod's
 * namespace, name and container, in OCI_LABEL_DIR/<agent>.
 */
#ifndef GDL_OCIALLOC_H
#define GDL_OCIALLOC_H

#include <stddef.h>

#include "jread.h"

#define OCI_ALLOC_DIR	"/run/gpu-dma-lock/alloc"
#define OCI_LABEL_DIR	"/run/gpu-dma-lock/agents"
#define OCI_ALLOC_ID_MAX 64

/* An allocation id: 1 to 64 of 0-9 a-f (the plugin's are 32). */
int oci_alloc_id_ok(const char *id);

/*
 * The "grant = ..." line of the record @dir/@id (a quota in the
 * annotation's syntax, per PCI address), into @grant.  The record must be
 * a regular file of root's that nobody else may write.  0, or -errno with
 * the reason in @err.
 */
int oci_alloc_grant(const char *dir, const char *id, char *grant, size_t len,
		    char *err, size_t errlen);

/*
 * The pod UID of a CRI container, from the annotations @ann its runtime
 * set, into *@uid (pointing into @ann).  containerd sets
 * io.kubernetes.cri.sandbox-uid after the pod's own annotations; CRI-O
 * (io.container.manager = cri-o, which it writes after the pod's) copies
 * the kubelet's container label io.kubernetes.pod.uid last of all
 * (SpecAddAnnotations).  Each runtime passes the pod's annotations through
 * without touching the other's names, so a pod can forge the other
 * runtime's key: two keys that disagree are refused, and the UID must name
 * a cgroup the container is in, the kubelet's pod cgroup (@cgpath,
 * "pod<UID>" with cgroupfs, "...-pod<UID with _>.slice" with systemd),
 * which no annotation moves.  0, or -errno with the reason in @err.
 */
int oci_pod_uid(const struct jr_node *ann, const char *cgpath,
		const char **uid, char *err, size_t errlen);

/*
 * Bind allocation @id to the pod @uid (its pod cgroup @podcg, for gc), or,
 * when it is bound already, check that it is bound to @uid.  -EPERM with
 * the reason in @err when it is another pod's.
 */
int oci_alloc_claim(const char *dir, const char *id, const char *uid,
		    const char *podcg, char *err, size_t errlen);

/*
 * The distinct allocation ids the hooks of @config name ("--alloc" ID in
 * a hook's args): 0 for a container without one.
 */
int oci_alloc_count(const struct jr_node *config);

/*
 * The pod's namespace, name and container name from the CRI runtime's
 * annotations @ann (containerd's io.kubernetes.cri.*, set after the pod's
 * own; CRI-O's copies of the kubelet's container labels
 * io.kubernetes.pod.namespace, io.kubernetes.pod.name and
 * io.kubernetes.container.name, set after the pod's own), as
 * "namespace=..\npod=..\ncontainer=..\n" in @dir/@agent; a value with
 * characters outside [A-Za-z0-9._-] is left out.  Nothing is written for a
 * container that is no CRI container, or that carries both runtimes'
 * marks (one is forged: display only, so nothing rather than a guess).
 */
int oci_labels_write(const char *dir, const char *agent,
		     const struct jr_node *ann);
void oci_labels_remove(const char *dir, const char *agent);

#endif /* GDL_OCIALLOC_H */

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
 * The pod's namespace, name and container name from the CRI's annotations
 * @ann (which containerd sets after the pod's own, so a pod cannot set
 * them), as "namespace=..\npod=..\ncontainer=..\n" in @dir/@agent; a value
 * with characters outside [A-Za-z0-9._-] is left out.  Nothing is written
 * for a container that is no CRI container.
 */
int oci_labels_write(const char *dir, const char *agent,
		     const struct jr_node *ann);
void oci_labels_remove(const char *dir, const char *agent);

#endif /* GDL_OCIALLOC_H */

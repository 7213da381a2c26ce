/* SPDX-License-Identifier: GPL-2.0 */
/*
 * REFERENCE COPY, for the benchmark's "before" column only: the ACL
 * algorithms of src/gdl_acl.c as they were at commit ca0a1f2, the last one
 * before ABI 1.2 (6650944 replaced them).  Never built into the module or
 * the libraries; see pre12_acl.c.
 */
#ifndef PRE12_ACL_H
#define PRE12_ACL_H

#include "gdl_core.h"

/* struct gdl_acl_node and struct gdl_acl_set as they were then. */
struct pre12_acl_node {
	u64 start;
	u64 end;		/* exclusive */
	u64 max_end;		/* max end of this and earlier nodes of dev */
	u32 dev;
	u32 rights;
	u32 owner;		/* 0: admin entry, else the granting agent */
	u32 peer;
};

struct pre12_acl_set {
	u32 nr;
	struct pre12_acl_node node[];
};

/* One grantee's set holding @e[0..n) (all for that grantee). */
struct pre12_acl_set *pre12_acl_set_build(const struct gdl_acl_entry *e,
					  u32 n);
/*
 * What gdl_acl_grant() did under admin_lock for one grantee: copy the
 * whole set, append the batch, sort it all, and sort it all again before
 * publishing.  The new set (the caller frees it), or NULL.
 */
struct pre12_acl_set *pre12_acl_grant(const struct pre12_acl_set *old,
				      const struct gdl_acl_entry *e, u32 n);
/*
 * What gdl_acl_revoke() did under admin_lock for one grantee: every node
 * against the batch, then every batch entry against the set.  0 and the
 * new set in *@out, or -ENOENT (nothing changed) / -ENOMEM.
 */
int pre12_acl_revoke(const struct pre12_acl_set *old,
		     const struct gdl_acl_entry *e, u32 n,
		     struct pre12_acl_set **out);
/* gdl_acl_allows(): binary search, then walk back while max_end allows. */
u32 pre12_acl_allows(const struct pre12_acl_set *set, u32 dev, u64 addr,
		     u64 end, u32 rights, u32 owner);

#endif /* PRE12_ACL_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * REFERENCE COPY, for the benchmark's "before" column only (native.c
 * prints it beside the current core, in the same run): the ACL algorithms
 * of src/gdl_acl.c at commit ca0a1f2, the last before ABI 1.2.  Taken with
 * `git show ca0a1f2:src/gdl_acl.c`; the bodies are unchanged but for the
 * names, and reduced to one grantee (no admin_lock, no RCU publish, no
 * peer bitmap: work the old code did on top, which only adds to its cost).
 * Do not fix anything here: it is kept as it was so the ratio is honest.
 */
#include "pre12_acl.h"

static int pre12_acl_node_cmp(const void *a, const void *b)
{
	const struct pre12_acl_node *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->peer != y->peer)
		return x->peer < y->peer ? -1 : 1;
	if (x->rights != y->rights)
		return x->rights < y->rights ? -1 : 1;
	return 0;
}

static void pre12_acl_node_from_entry(struct pre12_acl_node *n,
				      const struct gdl_acl_entry *e)
{
	n->start = e->addr;
	n->end = e->addr + e->len;	/* validated: no overflow */
	n->max_end = 0;
	n->dev = e->dev_index;
	n->rights = e->rights;
	n->owner = e->owner_id;
	n->peer = e->peer_index;
}

static struct pre12_acl_set *pre12_acl_set_alloc(u32 nr)
{
	struct pre12_acl_set *set;

	set = kvmalloc(struct_size(set, node, nr), GFP_KERNEL);
	if (set)
		set->nr = nr;
	return set;
}

/* Sort, drop exact duplicates, fill max_end (the peer bitmap left out). */
static void pre12_acl_set_finish(struct pre12_acl_set *set)
{
	u32 i, out = 0;
	u64 max_end = 0;

	sort(set->node, set->nr, sizeof(set->node[0]), pre12_acl_node_cmp,
	     NULL);
	for (i = 0; i < set->nr; i++) {
		struct pre12_acl_node *n = &set->node[i];

		if (out && !pre12_acl_node_cmp(&set->node[out - 1], n))
			continue;
		if (!out || set->node[out - 1].dev != n->dev)
			max_end = 0;
		max_end = max(max_end, n->end);
		set->node[out] = *n;
		set->node[out].max_end = max_end;
		out++;
	}
	set->nr = out;
}

struct pre12_acl_set *pre12_acl_set_build(const struct gdl_acl_entry *e,
					  u32 n)
{
	struct pre12_acl_set *set = pre12_acl_set_alloc(n);
	u32 i;

	if (!set)
		return NULL;
	for (i = 0; i < n; i++)
		pre12_acl_node_from_entry(&set->node[i], &e[i]);
	pre12_acl_set_finish(set);
	return set;
}

struct pre12_acl_set *pre12_acl_grant(const struct pre12_acl_set *old,
				      const struct gdl_acl_entry *e, u32 n)
{
	u32 old_nr = old ? old->nr : 0, add = n, j;
	struct pre12_acl_set *set = pre12_acl_set_alloc(old_nr + add);

	if (!set)
		return NULL;
	if (old_nr)
		memcpy(set->node, old->node, old_nr * sizeof(old->node[0]));
	add = old_nr;
	for (j = 0; j < n; j++)
		pre12_acl_node_from_entry(&set->node[add++], &e[j]);
	/* Only entries new after merging count against the limit. */
	pre12_acl_set_finish(set);
	/* Nothing can fail any more: publish (finishing it again). */
	pre12_acl_set_finish(set);
	return set;
}

static bool pre12_acl_match(const struct pre12_acl_node *n,
			    const struct gdl_acl_entry *e)
{
	struct pre12_acl_node want;

	pre12_acl_node_from_entry(&want, e);
	return !pre12_acl_node_cmp(n, &want);
}

int pre12_acl_revoke(const struct pre12_acl_set *old,
		     const struct gdl_acl_entry *e, u32 n,
		     struct pre12_acl_set **out)
{
	struct pre12_acl_set *set;
	u32 j, k, kept = 0;

	if (!old)
		return -ENOENT;
	set = pre12_acl_set_alloc(old->nr);
	if (!set)
		return -ENOMEM;
	for (k = 0; k < old->nr; k++) {
		bool drop = false;

		for (j = 0; j < n && !drop; j++)
			drop = pre12_acl_match(&old->node[k], &e[j]);
		if (!drop)
			set->node[kept++] = old->node[k];
	}
	/* Every entry of this grantee in the batch must have matched. */
	for (j = 0; j < n; j++) {
		bool found = false;

		for (k = 0; k < old->nr && !found; k++)
			found = pre12_acl_match(&old->node[k], &e[j]);
		if (!found) {
			kvfree(set);
			return -ENOENT;
		}
	}
	set->nr = kept;
	pre12_acl_set_finish(set);
	*out = set;
	return 0;
}

u32 pre12_acl_allows(const struct pre12_acl_set *set, u32 dev, u64 addr,
		     u64 end, u32 rights, u32 owner)
{
	int lo = 0, hi = (int)set->nr - 1, i = -1;

	/* The last node with (dev, start) <= (dev, addr). */
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct pre12_acl_node *n = &set->node[mid];

		if (n->dev < dev || (n->dev == dev && n->start <= addr)) {
			i = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	/* Walk back only while an earlier node could still reach @end. */
	for (; i >= 0; i--) {
		const struct pre12_acl_node *n = &set->node[i];

		if (n->dev != dev || n->max_end < end)
			break;
		if (n->end < end || (n->rights & rights) != rights)
			continue;
		if (!n->owner)
			return GDL_RESULT_ACL;
		if (n->owner == owner)
			return GDL_RESULT_GRANT;
	}
	return 0;
}

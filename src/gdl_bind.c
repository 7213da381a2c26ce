// SPDX-License-Identifier: GPL-2.0
/*
 * Identity: which agent a calling process is.
 *
 * An admin binds an agent to a process (its thread group) or to a cgroup
 * v2 directory, which covers the whole subtree, so a container is one
 * agent.  The kernel resolves the caller from these bindings on every
 * request; nothing the caller says is taken into account.  A process
 * binding wins over a cgroup binding; the nearest bound cgroup ancestor
 * wins over farther ones.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/pid.h>
#include <linux/sched.h>

#include "gdl_module.h"

struct gdl_binding {
	struct hlist_node node;
	u32 type;		/* GDL_BIND_PID or GDL_BIND_CGROUP_FD */
	u32 agent_id;
	u64 key;		/* cgroup id, or the struct pid address */
	struct pid *pid;	/* GDL_BIND_PID: holds a reference */
	struct rcu_head rcu;
};

static DEFINE_HASHTABLE(gdl_bindings, 8);
static DEFINE_MUTEX(gdl_bind_lock);

static u64 gdl_bind_hash(u32 type, u64 key)
{
	return key ^ ((u64)type << 62);
}

/* Under rcu_read_lock(). */
static u32 gdl_binding_lookup(u32 type, u64 key)
{
	struct gdl_binding *b;

	hash_for_each_possible_rcu(gdl_bindings, b, node,
				   gdl_bind_hash(type, key))
		if (b->type == type && b->key == key)
			return READ_ONCE(b->agent_id);
	return 0;
}

/*
 * The caller's agent, with a reference, or NULL with *bound_by telling
 * why: GDL_BOUND_NONE (unbound, policy deny) or the binding kind whose
 * agent was destroyed in the meantime (never a fallback to the default:
 * that would let a tenant escape its quota).
 */
struct gdl_agent *gdl_resolve_caller(struct gdl_ledger *l, u32 *bound_by)
{
	struct cgroup *cgrp;
	u32 id;

	rcu_read_lock();
	*bound_by = GDL_BOUND_PID;
	id = gdl_binding_lookup(GDL_BIND_PID, (unsigned long)task_tgid(current));
	if (!id) {
		*bound_by = GDL_BOUND_CGROUP;
		for (cgrp = task_dfl_cgroup(current); cgrp && !id;
		     cgrp = cgroup_parent(cgrp))
			id = gdl_binding_lookup(GDL_BIND_CGROUP_FD,
						cgroup_id(cgrp));
	}
	rcu_read_unlock();

	if (id)
		return gdl_agent_get(l, id);
	if (l->params.policy == GDL_POLICY_DEFAULT || !gdl_enforcing(l)) {
		*bound_by = GDL_BOUND_DEFAULT;
		return gdl_agent_get(l, l->default_agent_id);
	}
	*bound_by = GDL_BOUND_NONE;
	return NULL;
}

static int gdl_bind_key(const struct gdl_bind *b, u64 *key, struct pid **pidp)
{
	struct cgroup *cgrp;
	struct pid *pid;

	switch (b->type) {
	case GDL_BIND_PID:
		if (b->value <= 0 || b->value > INT_MAX)
			return -EINVAL;
		pid = find_get_pid((pid_t)b->value);
		if (!pid)
			return -ESRCH;
		if (!pid_has_task(pid, PIDTYPE_TGID)) {
			put_pid(pid);	/* a thread, not a process */
			return -ESRCH;
		}
		*key = (unsigned long)pid;
		*pidp = pid;
		return 0;
	case GDL_BIND_CGROUP_FD:
		if (b->value < 0 || b->value > INT_MAX)
			return -EBADF;
		/* Fails with -EBADF for cgroup v1 or a non-cgroup file. */
		cgrp = cgroup_get_from_fd((int)b->value);
		if (IS_ERR(cgrp))
			return PTR_ERR(cgrp);
		*key = cgroup_id(cgrp);
		cgroup_put(cgrp);
		*pidp = NULL;
		return 0;
	default:
		return -EINVAL;
	}
}

static struct gdl_binding *gdl_binding_find_locked(u32 type, u64 key)
{
	struct gdl_binding *b;

	hash_for_each_possible(gdl_bindings, b, node, gdl_bind_hash(type, key))
		if (b->type == type && b->key == key)
			return b;
	return NULL;
}

static void gdl_binding_free_rcu(struct rcu_head *head)
{
	struct gdl_binding *b = container_of(head, struct gdl_binding, rcu);

	put_pid(b->pid);
	kfree(b);
}

static void gdl_binding_drop(struct gdl_ledger *l, struct gdl_binding *b)
{
	struct gdl_agent *a = gdl_agent_get(l, b->agent_id);

	if (a) {
		atomic_dec(&a->nr_bindings);
		gdl_agent_put(l, a);
	}
	hash_del_rcu(&b->node);
	call_rcu(&b->rcu, gdl_binding_free_rcu);
}

int gdl_bind(struct gdl_ledger *l, const struct gdl_bind *req)
{
	struct gdl_binding *b, *old;
	struct gdl_agent *a;
	struct pid *pid = NULL;
	u64 key;
	int ret;

	if (req->flags & ~GDL_BIND_F_UNBIND)
		return -EINVAL;
	ret = gdl_bind_key(req, &key, &pid);
	if (ret)
		return ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto out_pid;
	}
	mutex_lock(&gdl_bind_lock);
	old = gdl_binding_find_locked(req->type, key);
	if (req->flags & GDL_BIND_F_UNBIND) {
		if (!old || old->agent_id != req->agent_id) {
			ret = -ENOENT;
			goto out_unlock;
		}
		gdl_binding_drop(l, old);
		goto out_unlock;
	}
	if (old) {
		/* Binding again to the same agent is a no-op (idempotent). */
		ret = old->agent_id == req->agent_id ? 0 : -EEXIST;
		goto out_unlock;
	}
	a = gdl_agent_get(l, req->agent_id);
	if (!a) {
		ret = -ENOENT;
		goto out_unlock;
	}
	atomic_inc(&a->nr_bindings);
	gdl_agent_put(l, a);
	b->type = req->type;
	b->agent_id = req->agent_id;
	b->key = key;
	b->pid = pid;
	pid = NULL;		/* the binding owns it now */
	hash_add_rcu(gdl_bindings, &b->node, gdl_bind_hash(b->type, key));
	b = NULL;
out_unlock:
	mutex_unlock(&gdl_bind_lock);
	kfree(b);
out_pid:
	put_pid(pid);
	return ret;
}

/* Agent @agent_id was destroyed: its processes become unbound. */
void gdl_bind_forget_agent(struct gdl_ledger *l, u32 agent_id)
{
	struct gdl_binding *b;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&gdl_bind_lock);
	hash_for_each_safe(gdl_bindings, bkt, tmp, b, node)
		if (b->agent_id == agent_id)
			gdl_binding_drop(l, b);
	mutex_unlock(&gdl_bind_lock);
}

void gdl_bind_exit(struct gdl_ledger *l)
{
	struct gdl_binding *b;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&gdl_bind_lock);
	hash_for_each_safe(gdl_bindings, bkt, tmp, b, node)
		gdl_binding_drop(l, b);
	mutex_unlock(&gdl_bind_lock);
	rcu_barrier();
}

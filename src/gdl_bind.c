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
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

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
/* How many, so that a list never allocates for more than exist. */
static u32 gdl_nr_bindings;	/* written under gdl_bind_lock */

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
 * Bumped after every change of the bindings: per-file caches of the
 * caller's identity compare it and recompute when it moved.
 */
static atomic_t gdl_bind_gen = ATOMIC_INIT(0);

static void gdl_bindings_changed(void)
{
	atomic_inc_return(&gdl_bind_gen);	/* full barrier: after the change */
}

/* The agent bound to the calling task, 0 if none.  Under rcu_read_lock(). */
static u32 gdl_lookup_caller(u32 *bound_by)
{
	struct cgroup *cgrp;
	u32 id;

	*bound_by = GDL_BOUND_PID;
	id = gdl_binding_lookup(GDL_BIND_PID, (unsigned long)task_tgid(current));
	if (id)
		return id;
	*bound_by = GDL_BOUND_CGROUP;
	for (cgrp = task_dfl_cgroup(current); cgrp && !id;
	     cgrp = cgroup_parent(cgrp))
		id = gdl_binding_lookup(GDL_BIND_CGROUP_FD, cgroup_id(cgrp));
	return id;
}

/*
 * The id of the caller's agent with the policy applied, or 0 with
 * *bound_by == GDL_BOUND_NONE (unbound under default_policy=deny).  A
 * bound caller whose agent is being destroyed gets that agent's id, and
 * the lookup fails later: never a fallback to the default agent, which
 * would let a tenant escape its quota.
 *
 * @c caches the answer per open file, keyed by what it depends on: the
 * thread group, its cgroup, the bindings' generation and the enforce mode.
 * A hit costs a few loads; the cache is only a shortcut, never the truth.
 */
u32 gdl_resolve_id(struct gdl_ledger *l, struct gdl_ident_cache *c,
		   u32 *bound_by)
{
	u32 gen = atomic_read_acquire(&gdl_bind_gen), id, by;
	struct pid *tgid = task_tgid(current);
	bool enforce = gdl_enforcing(l), hit;
	unsigned int seq;
	u64 cgid;

	rcu_read_lock();
	cgid = cgroup_id(task_dfl_cgroup(current));
	if (c) {
		do {
			seq = read_seqbegin(&c->lock);
			hit = c->valid && c->tgid == tgid && c->cgid == cgid &&
			      c->gen == gen && c->enforce == enforce;
			id = c->agent_id;
			by = c->bound_by;
		} while (read_seqretry(&c->lock, seq));
		if (hit) {
			rcu_read_unlock();
			*bound_by = by;
			return id;
		}
	}
	id = gdl_lookup_caller(&by);
	rcu_read_unlock();

	if (!id) {
		if (l->params.policy == GDL_POLICY_DEFAULT || !enforce) {
			by = GDL_BOUND_DEFAULT;
			id = l->default_agent_id;
		} else {
			by = GDL_BOUND_NONE;
		}
	}
	if (c) {
		write_seqlock(&c->lock);
		c->valid = true;
		c->tgid = tgid;
		c->cgid = cgid;
		c->gen = gen;
		c->enforce = enforce;
		c->agent_id = id;
		c->bound_by = by;
		write_sequnlock(&c->lock);
	}
	*bound_by = by;
	return id;
}

void gdl_ident_cache_init(struct gdl_ident_cache *c)
{
	seqlock_init(&c->lock);
	c->valid = false;
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
	case GDL_BIND_CGROUP_ID:
		if (!(b->flags & GDL_BIND_F_UNBIND) || b->value <= 0)
			return -EINVAL;
		*key = b->value;
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

/*
 * @agent_id's binding of a process that has exited and had number @nr in
 * the caller's pid namespace.
 */
static struct gdl_binding *gdl_binding_find_exited_locked(u32 agent_id, s64 nr)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct gdl_binding *b;
	int bkt;

	hash_for_each(gdl_bindings, bkt, b, node)
		if (b->type == GDL_BIND_PID && b->agent_id == agent_id &&
		    pid_nr_ns(b->pid, ns) == nr &&
		    !pid_has_task(b->pid, PIDTYPE_TGID))
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
	WRITE_ONCE(gdl_nr_bindings, gdl_nr_bindings - 1);
	call_rcu(&b->rcu, gdl_binding_free_rcu);
}

int gdl_bind(struct gdl_ledger *l, const struct gdl_bind *req)
{
	struct gdl_binding *b, *old;
	struct gdl_agent *a;
	struct pid *pid = NULL;
	/* A cgroup named by id is stored as any cgroup binding. */
	u32 type = req->type == GDL_BIND_CGROUP_ID ? GDL_BIND_CGROUP_FD :
						     req->type;
	u64 key;
	int ret;

	if (req->flags & ~GDL_BIND_F_UNBIND)
		return -EINVAL;
	ret = gdl_bind_key(req, &key, &pid);
	/* An exited process's binding can still be removed, by its number. */
	if (ret == -ESRCH && req->type == GDL_BIND_PID &&
	    req->flags & GDL_BIND_F_UNBIND) {
		key = 0;
		ret = 0;
	} else if (ret) {
		return ret;
	}

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto out_pid;
	}
	mutex_lock(&gdl_bind_lock);
	old = key ? gdl_binding_find_locked(type, key) : NULL;
	if (req->flags & GDL_BIND_F_UNBIND) {
		/* The number may belong to a new process by now. */
		if ((!old || old->agent_id != req->agent_id) &&
		    type == GDL_BIND_PID)
			old = gdl_binding_find_exited_locked(req->agent_id,
							     req->value);
		if (!old || old->agent_id != req->agent_id) {
			ret = -ENOENT;
			goto out_unlock;
		}
		gdl_binding_drop(l, old);
		gdl_bindings_changed();
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
	b->type = type;
	b->agent_id = req->agent_id;
	b->key = key;
	b->pid = pid;
	pid = NULL;		/* the binding owns it now */
	hash_add_rcu(gdl_bindings, &b->node, gdl_bind_hash(b->type, key));
	WRITE_ONCE(gdl_nr_bindings, gdl_nr_bindings + 1);
	gdl_bindings_changed();
	b = NULL;
out_unlock:
	mutex_unlock(&gdl_bind_lock);
	kfree(b);
out_pid:
	put_pid(pid);
	return ret;
}

u32 gdl_bind_count(void)
{
	return READ_ONCE(gdl_nr_bindings);
}

/* A binding as the calling task sees it: pids in its pid namespace. */
static void gdl_binding_fill(const struct gdl_binding *b,
			     struct gdl_binding_info *e)
{
	memset(e, 0, sizeof(*e));
	e->agent_id = b->agent_id;
	e->type = b->type;
	if (b->type != GDL_BIND_PID) {
		e->target = b->key;
		return;
	}
	/* The binding's reference keeps the pid; its number may be reused. */
	e->target = pid_nr_ns(b->pid, task_active_pid_ns(current));
	if (!pid_has_task(b->pid, PIDTYPE_TGID))
		e->flags |= GDL_BINDING_F_EXITED;
}

/*
 * Up to @cap bindings of @agent_id (every agent's when 0) into @buf, in no
 * particular order; *total is how many there are.
 */
void gdl_bind_list(u32 agent_id, struct gdl_binding_info *buf, u32 cap,
		   u32 *total)
{
	struct gdl_binding *b;
	u32 n = 0;
	int bkt;

	mutex_lock(&gdl_bind_lock);
	hash_for_each(gdl_bindings, bkt, b, node) {
		if (agent_id && b->agent_id != agent_id)
			continue;
		if (n < cap)
			gdl_binding_fill(b, &buf[n]);
		n++;
	}
	mutex_unlock(&gdl_bind_lock);
	*total = n;
}

/* /proc/gpu_dma_lock/bindings */
void gdl_bind_show(struct seq_file *m)
{
	struct gdl_binding_info e;
	struct gdl_binding *b;
	int bkt;

	seq_puts(m, "agent type target state\n");
	mutex_lock(&gdl_bind_lock);
	hash_for_each(gdl_bindings, bkt, b, node) {
		gdl_binding_fill(b, &e);
		seq_printf(m, "%u %s %llu %s\n", e.agent_id,
			   e.type == GDL_BIND_PID ? "pid" : "cgroup", e.target,
			   e.flags & GDL_BINDING_F_EXITED ? "exited" : "live");
	}
	mutex_unlock(&gdl_bind_lock);
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
	gdl_bindings_changed();
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

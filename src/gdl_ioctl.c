// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/gpu_dma_lock: the misc device and the ioctl dispatch.
 *
 * One table describes every command: its direction, the smallest struct
 * size ever published for it, whether it needs CAP_SYS_ADMIN, and its
 * handler.  The dispatcher does all copying: arguments are copied in with
 * copy_struct_from_user() (older, shorter structs are zero-extended, newer
 * ones with unknown non-zero bytes are refused with E2BIG), handlers work
 * on kernel memory only, results are copied back in the caller's size.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "gdl_module.h"

struct gdl_file {
	struct gdl_owner owner;
	struct gdl_ident_cache ident;
	struct mutex read_lock;	/* guards ev_cursor */
	u64 ev_cursor;		/* next event seq this file reads */
	/*
	 * Decided at open() from the opener, as the kernel's own interfaces
	 * do: a file handed to a more privileged reader shows it nothing more.
	 */
	bool ev_all;		/* opened by an admin: every agent's events */
	struct pid_namespace *pid_ns;	/* event pids are shown in this one */
	struct pid *opener;	/* its thread group, for /proc holders */
};

/* Event readers sleep here; the ledger wakes them on every event. */
static DECLARE_WAIT_QUEUE_HEAD(gdl_event_wq);

union gdl_ioc_arg {
	struct gdl_version version;
	struct gdl_whoami whoami;
	struct gdl_array array;
	struct gdl_device_info device_info;
	struct gdl_device_set device_set;
	struct gdl_id id;
	struct gdl_agent_info agent_info;
	struct gdl_agent_limits agent_limits;
	struct gdl_bind bind;
	struct gdl_quota_set quota_set;
	struct gdl_quota quota;
	struct gdl_reserve reserve;
	struct gdl_release release;
	struct gdl_reservation_share share;
	struct gdl_dma_check dma_check;
	struct gdl_stats stats;
};

struct gdl_ioc {
	unsigned int cmd;	/* the full number, size bits of version 1 */
	bool admin;
	int (*fn)(struct gdl_file *gf, void *arg);
	/* Undo a successful command whose result could not be copied out. */
	void (*undo)(struct gdl_file *gf, void *arg);
};

#define gdl_zero(field)	(!memchr_inv(&(field), 0, sizeof(field)))

static struct gdl_ledger *l = &gdl_ledger;

/*
 * The caller's agent without a reference (under rcu_read_lock()), or NULL
 * and an errno saying why there is none.
 */
static struct gdl_agent *gdl_caller_rcu(struct gdl_file *gf, int *err)
{
	struct gdl_agent *a;
	u32 bound_by, id;

	id = gdl_resolve_id(l, &gf->ident, &bound_by);
	a = gdl_agent_rcu(l, id);
	if (!a) {
		gdl_stat_inc(l->stats, GDL_STAT_NO_AGENT);
		*err = bound_by == GDL_BOUND_NONE ? -ENOLINK : -ESRCH;
	}
	return a;
}

/* The same, with a reference, for callers that sleep. */
static struct gdl_agent *gdl_caller(struct gdl_file *gf, int *err)
{
	struct gdl_agent *a;

	rcu_read_lock();
	a = gdl_caller_rcu(gf, err);
	if (a && !refcount_inc_not_zero(&a->ref)) {
		a = NULL;
		*err = -ESRCH;
	}
	rcu_read_unlock();
	return a;
}

static int gdl_ioc_nop(struct gdl_file *gf, void *arg)
{
	return 0;
}

static int gdl_ioc_version(struct gdl_file *gf, void *arg)
{
	struct gdl_version *v = arg;

	memset(v, 0, sizeof(*v));
	v->abi_major = GDL_ABI_MAJOR;
	v->abi_minor = GDL_ABI_MINOR;
	v->max_devices = GDL_MAX_DEVICES;
	v->max_agents = l->params.max_agents;
	if (gdl_enforcing(l))
		v->flags |= GDL_VERSION_F_ENFORCE;
	if (l->params.policy == GDL_POLICY_DEFAULT)
		v->flags |= GDL_VERSION_F_DEFAULT_ALLOW;
	strscpy(v->module_version, GDL_VERSION, sizeof(v->module_version));
	return 0;
}

static int gdl_ioc_whoami(struct gdl_file *gf, void *arg)
{
	struct gdl_whoami *w = arg;
	u32 id;
	int ret = 0;

	memset(w, 0, sizeof(*w));
	/* What the interposer matches NVML's per-process figures with. */
	w->host_pid = task_tgid_nr(current);
	rcu_read_lock();
	id = gdl_resolve_id(l, &gf->ident, &w->bound_by);
	if (gdl_agent_rcu(l, id))
		w->agent_id = id;
	else
		ret = w->bound_by == GDL_BOUND_NONE ? -ENOLINK : -ESRCH;
	rcu_read_unlock();
	return ret;
}

/*
 * Checks shared by every array transfer; @flags_ok: the GDL_LIST_F_* bits
 * the command takes, any other is refused as unknown.
 */
static int gdl_array_check(const struct gdl_array *arr, size_t min_entry,
			   u32 max_count, u32 flags_ok)
{
	if ((arr->flags & ~flags_ok) || !gdl_zero(arr->reserved))
		return -EINVAL;
	if (arr->entry_size < min_entry || arr->entry_size > PAGE_SIZE)
		return -EINVAL;
	if (arr->count > max_count)
		return -E2BIG;
	if (arr->count && !arr->ptr)
		return -EFAULT;
	return 0;
}

/* Copy @n kernel entries of @ksize out as the caller's @arr->entry_size. */
static int gdl_array_copy_out(const struct gdl_array *arr, const void *kbuf,
			      size_t ksize, u32 n)
{
	void __user *u = u64_to_user_ptr(arr->ptr);
	size_t esize = arr->entry_size, part = min(esize, ksize);
	u32 i;

	for (i = 0; i < n; i++, u += esize) {
		if (copy_to_user(u, kbuf + i * ksize, part))
			return -EFAULT;
		if (esize > part && clear_user(u + part, esize - part))
			return -EFAULT;
	}
	return 0;
}

static int gdl_ioc_device_list(struct gdl_file *gf, void *arg)
{
	struct gdl_array *arr = arg;
	struct gdl_device_info info;
	u32 i, n = 0;
	int ret;

	ret = gdl_array_check(arr, sizeof(info), GDL_MAX_DEVICES, 0);
	if (ret)
		return ret;
	if (arr->filter_agent)
		return -EINVAL;
	for (i = 0; i < GDL_MAX_DEVICES; i++) {
		if (gdl_device_info(l, i, &info))
			continue;
		if (n < arr->count) {
			struct gdl_array one = *arr;

			one.ptr += (u64)n * arr->entry_size;
			ret = gdl_array_copy_out(&one, &info, sizeof(info), 1);
			if (ret)
				return ret;
		}
		n++;
	}
	arr->count = n;
	return 0;
}

static int gdl_ioc_device_add(struct gdl_file *gf, void *arg)
{
	struct gdl_device_info *d = arg;

	if (d->index || d->flags || d->used || d->peak || d->nr_reservations ||
	    d->reserved0 || !gdl_zero(d->reserved))
		return -EINVAL;
	return gdl_device_add(l, d, GDL_DEV_F_MANUAL, &d->index);
}

static void gdl_undo_device_add(struct gdl_file *gf, void *arg)
{
	gdl_device_remove(l, ((struct gdl_device_info *)arg)->index);
}

static int gdl_ioc_device_set(struct gdl_file *gf, void *arg)
{
	struct gdl_device_set *s = arg;

	/* What mask does not name must be zero, so that it can mean more. */
	if (!gdl_zero(s->reserved) ||
	    (!(s->mask & GDL_DEVSET_CAPACITY) && s->capacity) ||
	    (!(s->mask & GDL_DEVSET_NAME) && !gdl_zero(s->name)) ||
	    (!(s->mask & GDL_DEVSET_UUID) && !gdl_zero(s->uuid)))
		return -EINVAL;
	return gdl_device_set(l, s);
}

static int gdl_ioc_device_remove(struct gdl_file *gf, void *arg)
{
	struct gdl_id *id = arg;

	if (id->flags || !gdl_zero(id->reserved))
		return -EINVAL;
	return gdl_device_remove(l, id->id);
}

static int gdl_ioc_agent_create(struct gdl_file *gf, void *arg)
{
	struct gdl_agent_info *a = arg;

	if (a->id || a->flags || a->nr_bindings || a->reserved0 ||
	    !gdl_zero(a->reserved))
		return -EINVAL;
	return gdl_agent_create_limited(l, a, &a->id);
}

/* Another admin may have bound something to it already: forget that too. */
static void gdl_undo_agent_create(struct gdl_file *gf, void *arg)
{
	u32 id = ((struct gdl_agent_info *)arg)->id;

	if (!gdl_agent_destroy(l, id))
		gdl_bind_forget_agent(l, id);
}

static int gdl_ioc_agent_destroy(struct gdl_file *gf, void *arg)
{
	struct gdl_id *id = arg;
	int ret;

	if (id->flags || !gdl_zero(id->reserved))
		return -EINVAL;
	ret = gdl_agent_destroy(l, id->id);
	if (!ret)
		gdl_bind_forget_agent(l, id->id);
	return ret;
}

static int gdl_ioc_agent_limits(struct gdl_file *gf, void *arg)
{
	struct gdl_agent_limits *a = arg;

	if (a->reserved0 || !gdl_zero(a->reserved))
		return -EINVAL;
	return gdl_agent_set_limits(l, a->agent_id, a->max_reservations,
				    a->max_acl_entries);
}

static int gdl_ioc_agent_list(struct gdl_file *gf, void *arg)
{
	struct gdl_array *arr = arg;
	bool dead = arr->flags & GDL_LIST_F_DESTROYED;
	struct gdl_agent_info *buf;
	u32 total, n;
	int ret;

	ret = gdl_array_check(arr, sizeof(*buf), U32_MAX, GDL_LIST_F_DESTROYED);
	if (ret)
		return ret;
	if (arr->filter_agent)
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN)) {
		/*
		 * Tenants see their own agent only, which is live while it
		 * resolves, so GDL_LIST_F_DESTROYED adds nothing for them.
		 */
		struct gdl_agent *a = gdl_caller(gf, &ret);
		struct gdl_agent_info info;

		if (!a)
			return ret;
		gdl_agent_fill_info(a, &info);
		gdl_agent_put(l, a);
		ret = arr->count ? gdl_array_copy_out(arr, &info,
						      sizeof(info), 1) : 0;
		arr->count = 1;
		return ret;
	}
	/* Never more than exist: a huge count must not allocate for it. */
	n = min(arr->count, l->nr_slots + (dead ? gdl_agent_dead_count(l) : 0));
	buf = kvcalloc(max(n, 1U), sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	gdl_agent_list(l, buf, n, &total, dead);
	ret = gdl_array_copy_out(arr, buf, sizeof(*buf), min(n, total));
	arr->count = total;
	kvfree(buf);
	return ret;
}

/* Admins only: bindings name other tenants' processes and cgroups. */
static int gdl_ioc_bind_list(struct gdl_file *gf, void *arg)
{
	struct gdl_array *arr = arg;
	struct gdl_binding_info *buf;
	u32 total, n;
	int ret;

	ret = gdl_array_check(arr, sizeof(*buf), U32_MAX, 0);
	if (ret)
		return ret;
	/* Never more than exist: a huge count must not allocate for it. */
	n = min(arr->count, gdl_bind_count());
	buf = kvcalloc(max(n, 1U), sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	gdl_bind_list(arr->filter_agent, buf, n, &total);
	ret = gdl_array_copy_out(arr, buf, sizeof(*buf), min(n, total));
	arr->count = total;
	kvfree(buf);
	return ret;
}

static int gdl_ioc_agent_bind(struct gdl_file *gf, void *arg)
{
	struct gdl_bind *b = arg;

	if (b->reserved0 || !gdl_zero(b->reserved))
		return -EINVAL;
	return gdl_bind(l, b);
}

static int gdl_ioc_quota_set(struct gdl_file *gf, void *arg)
{
	struct gdl_quota_set *q = arg;

	if (!gdl_zero(q->reserved))
		return -EINVAL;
	return gdl_quota_set(l, q->agent_id, q->dev_index, q->quota);
}

static int gdl_ioc_quota_get(struct gdl_file *gf, void *arg)
{
	struct gdl_quota *q = arg;
	bool dead = q->flags & GDL_QUOTA_F_DESTROYED;
	struct gdl_agent *a;
	int ret;

	if (q->quota || q->usage || q->peak || q->nr_reservations ||
	    q->denied || (q->flags & ~GDL_QUOTA_F_DESTROYED) || q->reserved0 ||
	    !gdl_zero(q->reserved))
		return -EINVAL;
	if (q->agent_id && !capable(CAP_SYS_ADMIN)) {
		/*
		 * Someone else's account is for admins only, and a tenant
		 * learns nothing from the errno: EPERM whether it exists.
		 */
		a = gdl_caller(gf, &ret);
		if (!a || a->id != q->agent_id) {
			if (a)
				gdl_agent_put(l, a);
			return -EPERM;
		}
	} else if (q->agent_id) {
		a = gdl_agent_get(l, q->agent_id);
		/* Asked for: what a destroyed agent is still charged. */
		if (!a && dead)
			a = gdl_agent_get_dead(l, q->agent_id);
		if (!a)
			return -ENOENT;
	} else {
		a = gdl_caller(gf, &ret);
		if (!a)
			return ret;
	}
	ret = gdl_quota_get(l, a, q->dev_index, q);
	gdl_agent_put(l, a);
	return ret;
}

static int gdl_ioc_reserve(struct gdl_file *gf, void *arg)
{
	struct gdl_reserve *r = arg;
	struct gdl_agent *a;
	int ret;

	if (r->handle || r->agent_id || r->result || !gdl_zero(r->reserved))
		return -EINVAL;
	a = gdl_caller(gf, &ret);
	if (!a)
		return ret;
	/* Our reference goes to the reservation (or is dropped on failure). */
	return gdl_reserve(l, &gf->owner, a, r);
}

static void gdl_undo_reserve(struct gdl_file *gf, void *arg)
{
	gdl_release(l, &gf->owner, ((struct gdl_reserve *)arg)->handle);
}

static int gdl_ioc_release(struct gdl_file *gf, void *arg)
{
	struct gdl_release *r = arg;

	if (!gdl_zero(r->reserved))
		return -EINVAL;
	return gdl_release(l, &gf->owner, r->handle);
}

static const struct file_operations gdl_fops;

/*
 * Whether @f may be a GDL_SHARE_KEY_FD key.  A key holds its file open for
 * as long as the reservation lives, so a file that can itself carry open
 * files (a socket, an io_uring, binder, whose binderfs a user namespace
 * can mount) could carry the ledger's own file: a reservation, agent,
 * file and module that pin each other and never go.  So only what the
 * interposer needs is accepted: shmem files (memfd, /dev/shm), which
 * carry no file, and character devices whose major an admin allowed
 * (share_key_majors, by default the NVIDIA driver's, whose export fds
 * are its own device files).  Never this device, whatever its major.
 */
static bool gdl_share_key_file_ok(struct file *f)
{
	struct inode *inode = file_inode(f);
	unsigned int i;

	if (f->f_op == &gdl_fops)
		return false;
	if (S_ISREG(inode->i_mode))
		return shmem_file(f);
	if (!S_ISCHR(inode->i_mode))
		return false;
	for (i = 0; i < gdl_nr_key_majors; i++)
		if (imajor(inode) == gdl_key_majors[i])
			return true;
	return false;
}

/*
 * The kernel's key for @s.  A GDL_SHARE_KEY_FD key is the open file's
 * address, with a reference in *@filep that keeps the address from being
 * reused while the key lives; -EBADFD for a file that cannot be a key
 * (gdl_share_key_file_ok()).
 */
static int gdl_share_key_from(const struct gdl_reservation_share *s,
			      struct gdl_share_key *key, struct file **filep)
{
	struct file *f;

	memset(key, 0, sizeof(*key));
	key->type = s->key_type;
	*filep = NULL;
	switch (s->key_type) {
	case GDL_SHARE_KEY_BYTES:
		if (s->fd || gdl_zero(s->key))
			return -EINVAL;
		memcpy(key->bytes, s->key, sizeof(key->bytes));
		return 0;
	case GDL_SHARE_KEY_FD:
		if (!gdl_zero(s->key))
			return -EINVAL;
		f = s->fd >= 0 ? fget(s->fd) : NULL;
		if (!f)
			return -EBADF;
		if (!gdl_share_key_file_ok(f)) {
			fput(f);
			return -EBADFD;
		}
		memcpy(key->bytes, &f, sizeof(f));
		*filep = f;
		return 0;
	}
	return -EINVAL;
}

static void gdl_share_fput(void *pin)
{
	fput(pin);
}

/*
 * The fields ATTACH returns, and the reserved words: zero on input, but
 * for the expectations GDL_ATTACH_F_* make inputs (the core checks the
 * flags themselves).
 */
static bool gdl_share_outs_zero(const struct gdl_reservation_share *s)
{
	return !s->agent_id && !s->result && !s->reserved0 && !s->reserved &&
	       ((s->flags & GDL_ATTACH_F_DEV) || !s->dev_index) &&
	       ((s->flags & GDL_ATTACH_F_SIZE) || !s->size);
}

static int gdl_ioc_reservation_share(struct gdl_file *gf, void *arg)
{
	struct gdl_reservation_share *s = arg;
	struct gdl_share_key key;
	struct gdl_agent *a;
	struct file *f;
	bool pinned = false;
	int ret;

	if (!s->handle || s->access || s->flags || !gdl_share_outs_zero(s))
		return -EINVAL;
	ret = gdl_share_key_from(s, &key, &f);
	if (ret)
		return ret;
	a = gdl_caller(gf, &ret);
	if (a) {
		ret = gdl_res_share(l, &gf->owner, a, s->handle, &key, f,
				    &pinned);
		gdl_agent_put(l, a);
	}
	if (f && !pinned)
		fput(f);
	return ret;
}

static int gdl_ioc_reservation_attach(struct gdl_file *gf, void *arg)
{
	struct gdl_reservation_share *s = arg;
	struct gdl_share_key key;
	struct gdl_agent *a;
	struct file *f;
	int ret;

	if (s->handle || !gdl_share_outs_zero(s))
		return -EINVAL;
	ret = gdl_share_key_from(s, &key, &f);
	if (ret)
		return ret;
	a = gdl_caller(gf, &ret);
	if (a) {
		ret = gdl_res_attach(l, &gf->owner, a, &key, s);
		gdl_agent_put(l, a);
	}
	/* Only the address was needed: a live share holds its own. */
	if (f)
		fput(f);
	return ret;
}

static void gdl_undo_reservation_attach(struct gdl_file *gf, void *arg)
{
	gdl_release(l, &gf->owner,
		    ((struct gdl_reservation_share *)arg)->handle);
}

static int gdl_ioc_dma_check(struct gdl_file *gf, void *arg)
{
	struct gdl_dma_check *c = arg;
	struct gdl_agent *a;
	int ret;

	if (c->reserved0 || c->owner_id || c->result || !gdl_zero(c->reserved))
		return -EINVAL;
	/* The fast path: no reference, no lock, RCU keeps the agent. */
	rcu_read_lock();
	a = gdl_caller_rcu(gf, &ret);
	if (a)
		ret = gdl_dma_check(l, a, c);
	rcu_read_unlock();
	return ret;
}

/* Copy in and validate an ACL batch; the caller frees *out. */
static int gdl_acl_copy_in(struct gdl_file *gf, const struct gdl_array *arr,
			   bool revoke, struct gdl_acl_entry **out)
{
	void __user *u = u64_to_user_ptr(arr->ptr);
	struct gdl_acl_entry *e;
	bool admin = capable(CAP_SYS_ADMIN);
	struct gdl_agent *self = NULL;
	u32 i, self_id = 0;
	int ret;

	ret = gdl_array_check(arr, sizeof(*e), GDL_ACL_BATCH_MAX, 0);
	if (ret)
		return ret;
	if (!arr->count || arr->filter_agent)
		return -EINVAL;
	if (!admin) {
		self = gdl_caller(gf, &ret);
		if (!self)
			return ret;
		self_id = self->id;
		gdl_agent_put(l, self);
	}
	e = kvcalloc(arr->count, sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	for (i = 0; i < arr->count; i++, u += arr->entry_size) {
		ret = copy_struct_from_user(&e[i], sizeof(e[i]), u,
					    arr->entry_size);
		if (!ret)
			ret = gdl_acl_validate(l, &e[i], self_id, admin,
					       revoke);
		if (ret) {
			kvfree(e);
			return ret;
		}
	}
	*out = e;
	return 0;
}

static int gdl_ioc_acl_grant(struct gdl_file *gf, void *arg)
{
	struct gdl_array *arr = arg;
	struct gdl_acl_entry *e;
	int ret;

	ret = gdl_acl_copy_in(gf, arr, false, &e);
	if (ret)
		return ret;
	ret = gdl_acl_grant(l, e, arr->count);
	kvfree(e);
	return ret;
}

static int gdl_ioc_acl_revoke(struct gdl_file *gf, void *arg)
{
	struct gdl_array *arr = arg;
	struct gdl_acl_entry *e;
	int ret;

	ret = gdl_acl_copy_in(gf, arr, true, &e);
	if (ret)
		return ret;
	ret = gdl_acl_revoke(l, e, arr->count);
	kvfree(e);
	return ret;
}

static int gdl_ioc_acl_list(struct gdl_file *gf, void *arg)
{
	struct gdl_array *arr = arg;
	struct gdl_acl_entry *buf;
	u32 filter = arr->filter_agent, total, n;
	int ret;

	ret = gdl_array_check(arr, sizeof(*buf), U32_MAX, 0);
	if (ret)
		return ret;
	if (!capable(CAP_SYS_ADMIN)) {
		/* Tenants see what they granted and what they were granted. */
		struct gdl_agent *self = gdl_caller(gf, &ret);

		if (!self)
			return ret;
		if (filter && filter != self->id)
			ret = -EPERM;
		filter = self->id;
		gdl_agent_put(l, self);
		if (ret)
			return ret;
	}
	/*
	 * Never more than the caller may see: a huge count must not make it
	 * allocate for every entry on the node.  Counted first, under RCU;
	 * entries added meanwhile are counted in the total, not copied.
	 */
	n = min(arr->count, (u32)atomic_read(&l->nr_acl_entries));
	if (n && filter) {
		gdl_acl_list(l, filter, NULL, 0, &total);
		n = min(n, total);
	}
	buf = kvcalloc(max(n, 1U), sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	gdl_acl_list(l, filter, buf, n, &total);
	ret = gdl_array_copy_out(arr, buf, sizeof(*buf), min(n, total));
	arr->count = total;
	kvfree(buf);
	return ret;
}

static int gdl_ioc_stats(struct gdl_file *gf, void *arg)
{
	/* The full self-check walks every reservation: admins only. */
	gdl_stats_snapshot(l, arg, capable(CAP_SYS_ADMIN));
	return 0;
}

/* Indexed by command number: one load on the fast path. */
static const struct gdl_ioc gdl_iocs[] = {
	[_IOC_NR(GDL_IOC_NOP)] = {
		GDL_IOC_NOP, false, gdl_ioc_nop, NULL
	},
	[_IOC_NR(GDL_IOC_VERSION)] = {
		GDL_IOC_VERSION, false, gdl_ioc_version, NULL
	},
	[_IOC_NR(GDL_IOC_WHOAMI)] = {
		GDL_IOC_WHOAMI, false, gdl_ioc_whoami, NULL
	},
	[_IOC_NR(GDL_IOC_DEVICE_LIST)] = {
		GDL_IOC_DEVICE_LIST, false, gdl_ioc_device_list, NULL
	},
	[_IOC_NR(GDL_IOC_DEVICE_ADD)] = {
		GDL_IOC_DEVICE_ADD, true, gdl_ioc_device_add, gdl_undo_device_add
	},
	[_IOC_NR(GDL_IOC_DEVICE_SET)] = {
		GDL_IOC_DEVICE_SET, true, gdl_ioc_device_set, NULL
	},
	[_IOC_NR(GDL_IOC_DEVICE_REMOVE)] = {
		GDL_IOC_DEVICE_REMOVE, true, gdl_ioc_device_remove, NULL
	},
	[_IOC_NR(GDL_IOC_AGENT_CREATE)] = {
		GDL_IOC_AGENT_CREATE, true, gdl_ioc_agent_create, gdl_undo_agent_create
	},
	[_IOC_NR(GDL_IOC_AGENT_DESTROY)] = {
		GDL_IOC_AGENT_DESTROY, true, gdl_ioc_agent_destroy, NULL
	},
	[_IOC_NR(GDL_IOC_AGENT_LIST)] = {
		GDL_IOC_AGENT_LIST, false, gdl_ioc_agent_list, NULL
	},
	[_IOC_NR(GDL_IOC_AGENT_BIND)] = {
		GDL_IOC_AGENT_BIND, true, gdl_ioc_agent_bind, NULL
	},
	[_IOC_NR(GDL_IOC_BIND_LIST)] = {
		GDL_IOC_BIND_LIST, true, gdl_ioc_bind_list, NULL
	},
	[_IOC_NR(GDL_IOC_AGENT_LIMITS)] = {
		GDL_IOC_AGENT_LIMITS, true, gdl_ioc_agent_limits, NULL
	},
	[_IOC_NR(GDL_IOC_QUOTA_SET)] = {
		GDL_IOC_QUOTA_SET, true, gdl_ioc_quota_set, NULL
	},
	[_IOC_NR(GDL_IOC_QUOTA_GET)] = {
		GDL_IOC_QUOTA_GET, false, gdl_ioc_quota_get, NULL
	},
	[_IOC_NR(GDL_IOC_RESERVE)] = {
		GDL_IOC_RESERVE, false, gdl_ioc_reserve, gdl_undo_reserve
	},
	[_IOC_NR(GDL_IOC_RELEASE)] = {
		GDL_IOC_RELEASE, false, gdl_ioc_release, NULL
	},
	[_IOC_NR(GDL_IOC_RESERVATION_SHARE)] = {
		GDL_IOC_RESERVATION_SHARE, false, gdl_ioc_reservation_share,
		NULL
	},
	[_IOC_NR(GDL_IOC_RESERVATION_ATTACH)] = {
		GDL_IOC_RESERVATION_ATTACH, false, gdl_ioc_reservation_attach,
		gdl_undo_reservation_attach
	},
	[_IOC_NR(GDL_IOC_DMA_CHECK)] = {
		GDL_IOC_DMA_CHECK, false, gdl_ioc_dma_check, NULL
	},
	[_IOC_NR(GDL_IOC_ACL_GRANT)] = {
		GDL_IOC_ACL_GRANT, false, gdl_ioc_acl_grant, NULL
	},
	[_IOC_NR(GDL_IOC_ACL_REVOKE)] = {
		GDL_IOC_ACL_REVOKE, false, gdl_ioc_acl_revoke, NULL
	},
	[_IOC_NR(GDL_IOC_ACL_LIST)] = {
		GDL_IOC_ACL_LIST, false, gdl_ioc_acl_list, NULL
	},
	[_IOC_NR(GDL_IOC_STATS)] = {
		GDL_IOC_STATS, false, gdl_ioc_stats, NULL
	},
};

static const struct gdl_ioc *gdl_ioc_find(unsigned int cmd)
{
	const struct gdl_ioc *ioc;

	if (_IOC_TYPE(cmd) != GDL_IOC_MAGIC ||
	    _IOC_NR(cmd) >= ARRAY_SIZE(gdl_iocs))
		return NULL;
	ioc = &gdl_iocs[_IOC_NR(cmd)];
	/* Same number and direction; the size may have grown. */
	if (!ioc->fn || _IOC_DIR(ioc->cmd) != _IOC_DIR(cmd))
		return NULL;
	return ioc;
}

static long gdl_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	const struct gdl_ioc *ioc = gdl_ioc_find(cmd);
	struct gdl_file *gf = file->private_data;
	void __user *u = (void __user *)uarg;
	size_t usize = _IOC_SIZE(cmd), ksize;
	union gdl_ioc_arg karg;
	int ret;

	gdl_stat_inc(l->stats, GDL_STAT_IOCTLS);
	if (!ioc)
		return -ENOTTY;
	ksize = _IOC_SIZE(ioc->cmd);
	if (usize < ksize)	/* older than version 1: never published */
		return -EINVAL;
	if (ioc->admin && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!ksize)
		return ioc->fn(gf, NULL);

	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		ret = copy_struct_from_user(&karg, ksize, u, usize);
		if (ret)
			return ret;
	}
	ret = ioc->fn(gf, &karg);
	if (ret || !(_IOC_DIR(cmd) & _IOC_READ))
		return ret;
	if (copy_to_user(u, &karg, ksize) ||
	    (usize > ksize && clear_user(u + ksize, usize - ksize))) {
		if (ioc->undo)
			ioc->undo(gf, &karg);
		return -EFAULT;
	}
	return 0;
}

/* The events this file shows: 0 for all, else its caller's agent's. */
static u32 gdl_event_filter(struct gdl_file *gf, int *err)
{
	struct gdl_agent *a;
	u32 id = 0;

	*err = 0;
	if (gf->ev_all)
		return 0;
	rcu_read_lock();
	a = gdl_caller_rcu(gf, err);
	if (a)
		id = a->id;
	rcu_read_unlock();
	return id;
}

static bool gdl_event_ready_for(struct gdl_file *gf, u32 filter)
{
	return gdl_events_pending(l, READ_ONCE(gf->ev_cursor), filter);
}

/* An event this file may read is waiting (or the caller has no agent). */
static bool gdl_event_ready(struct gdl_file *gf)
{
	int err;
	u32 filter = gdl_event_filter(gf, &err);

	return err || gdl_event_ready_for(gf, filter);
}

/* Pids as the opener's namespace numbers them, 0 where it has none. */
static void gdl_event_pids(struct gdl_file *gf, struct gdl_event *ev, u32 n)
{
	u32 i;

	rcu_read_lock();
	for (i = 0; i < n; i++)
		ev[i].pid = pid_nr_ns(find_pid_ns(ev[i].pid, &init_pid_ns),
				      gf->pid_ns);
	rcu_read_unlock();
}

/*
 * Events since this file was opened.  Whole records only; whether it shows
 * every agent's was decided at open(), by the opener's credentials; a
 * tenant's file shows its caller's agent's.
 */
static ssize_t gdl_read(struct file *file, char __user *buf, size_t len,
			loff_t *ppos)
{
	struct gdl_file *gf = file->private_data;
	struct gdl_event *ev;
	u32 filter = 0, cap, n;
	int ret;

	if (len < sizeof(*ev))
		return -EINVAL;
	filter = gdl_event_filter(gf, &ret);
	if (ret)
		return ret;
	cap = min_t(size_t, len / sizeof(*ev), 64);
	ev = kmalloc_array(cap, sizeof(*ev), GFP_KERNEL_ACCOUNT);
	if (!ev)
		return -ENOMEM;
	if (mutex_lock_interruptible(&gf->read_lock)) {
		ret = -ERESTARTSYS;
		goto out_free;
	}
	for (;;) {
		u64 cursor = gf->ev_cursor;

		n = gdl_events_read(l, &cursor, filter, ev, cap);
		if (n) {
			gdl_event_pids(gf, ev, n);
			if (copy_to_user(buf, ev, n * sizeof(*ev))) {
				ret = -EFAULT;	/* cursor not moved */
				break;
			}
			gf->ev_cursor = cursor;
			ret = n * sizeof(*ev);
			break;
		}
		gf->ev_cursor = cursor;	/* skip others' events */
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		mutex_unlock(&gf->read_lock);
		ret = wait_event_interruptible(gdl_event_wq,
					       gdl_event_ready_for(gf, filter));
		if (ret)
			goto out_free;
		if (mutex_lock_interruptible(&gf->read_lock)) {
			ret = -ERESTARTSYS;
			goto out_free;
		}
	}
	mutex_unlock(&gf->read_lock);
out_free:
	kfree(ev);
	return ret;
}

static __poll_t gdl_poll(struct file *file, poll_table *wait)
{
	struct gdl_file *gf = file->private_data;

	poll_wait(file, &gdl_event_wq, wait);
	return gdl_event_ready(gf) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* Most events have no reader waiting: skip the wait queue's lock then. */
static void gdl_event_wake(struct gdl_ledger *ledger)
{
	if (wq_has_sleeper(&gdl_event_wq))
		wake_up_interruptible(&gdl_event_wq);
}

static int gdl_open(struct inode *inode, struct file *file)
{
	struct gdl_file *gf;

	gf = kzalloc(sizeof(*gf), GFP_KERNEL_ACCOUNT);
	if (!gf)
		return -ENOMEM;
	gf->ev_all = capable(CAP_SYS_ADMIN);
	gf->pid_ns = get_pid_ns(task_active_pid_ns(current));
	gf->opener = get_pid(task_tgid(current));
	mutex_init(&gf->read_lock);
	gdl_ident_cache_init(&gf->ident);
	gf->ev_cursor = gdl_events_head(l);
	gdl_owner_init(l, &gf->owner);
	file->private_data = gf;
	return nonseekable_open(inode, file);
}

/* Last close, also when the process was killed: nothing may leak. */
static int gdl_release_file(struct inode *inode, struct file *file)
{
	struct gdl_file *gf = file->private_data;

	gdl_owner_fini(l, &gf->owner);
	put_pid(gf->opener);
	put_pid_ns(gf->pid_ns);
	mutex_destroy(&gf->read_lock);
	kfree(gf);
	return 0;
}

/* One file's rows of /proc/gpu_dma_lock/holders, under owners_lock. */
static void gdl_holders_file(struct gdl_owner *o, void *arg)
{
	struct gdl_file *gf = container_of(o, struct gdl_file, owner);
	struct seq_file *m = arg;
	struct gdl_hold_info hi[8];
	u64 next = 0;
	pid_t pid;
	u32 i, n;

	/*
	 * The number of a thread group that has exited is freed and may be
	 * another process's by now: show 0, so that whoever acts on the
	 * table (gpu-dma-lock-ctl holders --kill) never names a stranger.
	 */
	rcu_read_lock();
	pid = pid_has_task(gf->opener, PIDTYPE_TGID) ?
	      pid_nr_ns(gf->opener, task_active_pid_ns(current)) : 0;
	rcu_read_unlock();
	do {
		n = gdl_owner_holds(o, &next, hi, ARRAY_SIZE(hi));
		for (i = 0; i < n; i++)
			seq_printf(m, "%d %llu %u %s %u %llu %s\n", pid,
				   hi[i].handle, hi[i].agent_id,
				   hi[i].agent_dead ? "destroyed" : "live",
				   hi[i].dev_index, hi[i].size,
				   hi[i].attached ? "attached" : "reserved");
	} while (n == ARRAY_SIZE(hi));
}

/*
 * /proc/gpu_dma_lock/holders: every handle of every open file, with the
 * process that opened the file (in the reader's pid namespace; 0 when it
 * has none there or is gone), so that an admin finds who holds memory,
 * including memory charged to a destroyed agent, and can end it.  Each
 * file is read in batches under its own lock, one file at a time under
 * owners_lock (gdl_owners_walk()).
 */
void gdl_holders_show(struct seq_file *m)
{
	seq_puts(m, "pid handle agent state device size kind\n");
	gdl_owners_walk(l, gdl_holders_file, m);
}

static const struct file_operations gdl_fops = {
	.owner = THIS_MODULE,
	.open = gdl_open,
	.release = gdl_release_file,
	.read = gdl_read,
	.poll = gdl_poll,
	.unlocked_ioctl = gdl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/*
 * World-accessible: tenants reserve through it, and every command that
 * changes policy checks CAP_SYS_ADMIN itself.  The packaged udev rule
 * narrows this to a group where a site wants that.
 */
static struct miscdevice gdl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gpu_dma_lock",
	.fops = &gdl_fops,
	.mode = 0666,
};

int gdl_chardev_init(void)
{
	l->event_notify = gdl_event_wake;
	l->share_unpin = gdl_share_fput;
	return misc_register(&gdl_misc);
}

void gdl_chardev_exit(void)
{
	misc_deregister(&gdl_misc);
}

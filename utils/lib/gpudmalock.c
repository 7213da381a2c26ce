// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgpudmalock: thin, stateless wrappers over the ioctl ABI.  Structs are
 * zeroed before use so reserved fields are always zero, as the kernel
 * requires.  Arguments the kernel cannot check (NULL handles and output
 * pointers, over-long names) are refused here with -EINVAL rather than
 * crashing the caller.  Only gdlock_* symbols are exported (libgpudmalock.map
 * and -fvisibility=hidden).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "gpudmalock.h"
#include "gdl_parse.h"

#define GDLOCK_API __attribute__((visibility("default")))

struct gdlock {
	int fd;
};

static int gdlock_ioctl(struct gdlock *g, unsigned long cmd, void *arg)
{
	int ret;

	if (!g)
		return -EINVAL;
	do {
		ret = ioctl(g->fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

GDLOCK_API int gdlock_open_path(const char *path, struct gdlock **out)
{
	struct gdlock *g;

	if (!path || !out)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->fd = open(path, O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		int err = -errno;

		free(g);
		return err;
	}
	*out = g;
	return 0;
}

GDLOCK_API int gdlock_open(struct gdlock **out)
{
	return gdlock_open_path(GDL_DEVICE_PATH, out);
}

GDLOCK_API void gdlock_close(struct gdlock *g)
{
	if (!g)
		return;
	close(g->fd);
	free(g);
}

GDLOCK_API int gdlock_fd(const struct gdlock *g)
{
	return g ? g->fd : -EINVAL;
}

GDLOCK_API const char *gdlock_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "success";
	case ENOENT:
		return "no such agent, handle or ACL entry (ENOENT)";
	case ENODEV:
		return "no such device index (ENODEV)";
	case EPERM:
		return "not permitted: needs root (CAP_SYS_ADMIN), or it is another agent's (EPERM)";
	case EACCES:
		return "DMA denied: no reservation, grant or ACL entry allows it (EACCES)";
	case EDQUOT:
		return "the agent's quota on this device would be exceeded (EDQUOT)";
	case ENOSPC:
		return "the device's capacity (or device table) is exhausted (ENOSPC)";
	case EADDRINUSE:
		return "the address range overlaps an existing reservation (EADDRINUSE)";
	case ENOLINK:
		return "this process is bound to no agent and default_policy=deny (ENOLINK)";
	case ESRCH:
		return "the agent was destroyed, or no such process (ESRCH)";
	case EEXIST:
		return "already exists: same name, PCI address or binding (EEXIST)";
	case EBUSY:
		return "in use: the device has reservations, or it is the default agent (EBUSY)";
	case EUSERS:
		return "max_agents reached (EUSERS)";
	case ENOBUFS:
		return "the node's max_reservations or max_acl_entries reached (ENOBUFS)";
	case EMFILE:
		return "the agent's own share of reservations or ACL entries is used up (EMFILE)";
	case EOVERFLOW:
		return "address + size overflows 64 bits (EOVERFLOW)";
	case EINVAL:
		return "invalid argument: a bad field, flag, name, or non-zero reserved field (EINVAL)";
	case E2BIG:
		return "request too large, or unknown non-zero fields for this module version (E2BIG)";
	case ENOTTY:
		return "command not supported by this module version (ENOTTY)";
	case EFAULT:
		return "bad address (EFAULT)";
	case EBADF:
		return "not a cgroup v2 directory (EBADF)";
	case ENOTUNIQ:
		return "several agents filed this key: say which memory is imported (ENOTUNIQ)";
	case EBADFD:
		return "this file cannot be a shared-reservation key: not a memfd or shmem file, nor a device of share_key_majors (EBADFD)";
	case ENOMEM:
		return "out of kernel memory (ENOMEM)";
	case ERANGE:
		return "size out of range: more than 2^64-1 bytes (ERANGE)";
	case EAGAIN:
		return "no event waiting (EAGAIN)";
	case EIO:
		return "short read from the device: not a gpu_dma_lock event channel (EIO)";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

GDLOCK_API int gdlock_parse_rights(const char *s, uint32_t *out)
{
	unsigned int r;
	int ret = gdl_parse_rights(s, &r);

	if (!ret && out)
		*out = r;
	return ret;
}

/* The module's own rule (src/gdl_parse.c), so a dry run can apply it. */
GDLOCK_API bool gdlock_name_valid(const char *name)
{
	char field[GDL_NAME_LEN] = "";

	if (!name || strlen(name) >= sizeof(field))
		return false;
	strcpy(field, name);
	return gdl_name_valid(field, sizeof(field), false);
}

GDLOCK_API int gdlock_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	int ret;

	if (!out)
		return -EINVAL;
	ret = gdl_parse_size(s, &v);
	if (!ret)
		*out = v;
	return ret;
}

GDLOCK_API int gdlock_nop(struct gdlock *g)
{
	return gdlock_ioctl(g, GDL_IOC_NOP, NULL);
}

GDLOCK_API int gdlock_version(struct gdlock *g, struct gdl_version *v)
{
	if (!v)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	return gdlock_ioctl(g, GDL_IOC_VERSION, v);
}

GDLOCK_API int gdlock_whoami(struct gdlock *g, struct gdl_whoami *w)
{
	if (!w)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	return gdlock_ioctl(g, GDL_IOC_WHOAMI, w);
}

GDLOCK_API int gdlock_stats(struct gdlock *g, struct gdl_stats *s)
{
	if (!s)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	return gdlock_ioctl(g, GDL_IOC_STATS, s);
}

static int gdlock_list(struct gdlock *g, unsigned long cmd, uint32_t filter,
		       uint32_t flags, void *buf, unsigned int cap,
		       size_t esize)
{
	struct gdl_array arr;
	int ret;

	/* A NULL buffer with cap 0 asks only for the count. */
	if (!buf && cap)
		return -EINVAL;
	memset(&arr, 0, sizeof(arr));
	arr.ptr = (uintptr_t)buf;
	arr.count = buf ? cap : 0;
	arr.entry_size = esize;
	arr.filter_agent = filter;
	arr.flags = flags;
	ret = gdlock_ioctl(g, cmd, &arr);
	return ret < 0 ? ret : (int)arr.count;
}

GDLOCK_API int gdlock_device_list(struct gdlock *g, struct gdl_device_info *buf,
				  unsigned int cap)
{
	return gdlock_list(g, GDL_IOC_DEVICE_LIST, 0, 0, buf, cap, sizeof(*buf));
}

GDLOCK_API int gdlock_device_add(struct gdlock *g, struct gdl_device_info *d)
{
	if (!d)
		return -EINVAL;
	return gdlock_ioctl(g, GDL_IOC_DEVICE_ADD, d);
}

GDLOCK_API int gdlock_device_set(struct gdlock *g,
				 const struct gdl_device_set *s)
{
	if (!s)
		return -EINVAL;
	return gdlock_ioctl(g, GDL_IOC_DEVICE_SET, (void *)s);
}

GDLOCK_API int gdlock_device_remove(struct gdlock *g, uint32_t index)
{
	struct gdl_id id = { .id = index };

	return gdlock_ioctl(g, GDL_IOC_DEVICE_REMOVE, &id);
}

GDLOCK_API int gdlock_agent_create_limits(struct gdlock *g, const char *name,
					  uint64_t default_quota,
					  uint32_t max_reservations,
					  uint32_t max_acl_entries, uint32_t *id)
{
	struct gdl_agent_info a;
	int ret;

	memset(&a, 0, sizeof(a));
	if (!name || !*name || strlen(name) >= sizeof(a.name))
		return -EINVAL;
	strcpy(a.name, name);
	a.default_quota = default_quota;
	a.max_reservations = max_reservations;
	a.max_acl_entries = max_acl_entries;
	ret = gdlock_ioctl(g, GDL_IOC_AGENT_CREATE, &a);
	if (!ret && id)
		*id = a.id;
	return ret;
}

/* Limits of 0 leave the fields zero: the call any module version knows. */
GDLOCK_API int gdlock_agent_create(struct gdlock *g, const char *name,
				   uint64_t default_quota, uint32_t *id)
{
	return gdlock_agent_create_limits(g, name, default_quota, 0, 0, id);
}

GDLOCK_API int gdlock_agent_set_limits(struct gdlock *g, uint32_t id,
				       uint32_t max_reservations,
				       uint32_t max_acl_entries)
{
	struct gdl_agent_limits l = { .agent_id = id,
				      .max_reservations = max_reservations,
				      .max_acl_entries = max_acl_entries };

	return gdlock_ioctl(g, GDL_IOC_AGENT_LIMITS, &l);
}

GDLOCK_API int gdlock_agent_destroy(struct gdlock *g, uint32_t id)
{
	struct gdl_id req = { .id = id };

	return gdlock_ioctl(g, GDL_IOC_AGENT_DESTROY, &req);
}

GDLOCK_API int gdlock_agent_list(struct gdlock *g, struct gdl_agent_info *buf,
				 unsigned int cap)
{
	return gdlock_list(g, GDL_IOC_AGENT_LIST, 0, 0, buf, cap, sizeof(*buf));
}

GDLOCK_API int gdlock_agent_list_flags(struct gdlock *g, uint32_t flags,
				       struct gdl_agent_info *buf,
				       unsigned int cap)
{
	return gdlock_list(g, GDL_IOC_AGENT_LIST, 0, flags, buf, cap,
			   sizeof(*buf));
}

GDLOCK_API int gdlock_agent_find(struct gdlock *g, const char *name,
				 uint32_t *id)
{
	struct gdl_agent_info *buf = NULL;
	int n, i, cap, ret = -ENOENT;

	if (!name || !id)
		return -EINVAL;
	n = gdlock_agent_list(g, NULL, 0);
	if (n <= 0)
		return n < 0 ? n : -ENOENT;
	/* A few more slots in case agents are created meanwhile. */
	cap = n + 16;
	buf = calloc(cap, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	/* n is how many exist, which may now exceed what buf holds. */
	n = gdlock_agent_list(g, buf, cap);
	for (i = 0; i < n && i < cap; i++) {
		if (!strncmp(buf[i].name, name, sizeof(buf[i].name))) {
			*id = buf[i].id;
			ret = 0;
			break;
		}
	}
	free(buf);
	return n < 0 ? n : ret;
}

static int gdlock_bind(struct gdlock *g, uint32_t agent, uint32_t type,
		       int64_t value, uint32_t flags)
{
	struct gdl_bind b;

	memset(&b, 0, sizeof(b));
	b.agent_id = agent;
	b.type = type;
	b.flags = flags;
	b.value = value;
	return gdlock_ioctl(g, GDL_IOC_AGENT_BIND, &b);
}

GDLOCK_API int gdlock_bind_pid(struct gdlock *g, uint32_t agent, pid_t pid)
{
	return gdlock_bind(g, agent, GDL_BIND_PID, pid, 0);
}

GDLOCK_API int gdlock_unbind_pid(struct gdlock *g, uint32_t agent, pid_t pid)
{
	return gdlock_bind(g, agent, GDL_BIND_PID, pid, GDL_BIND_F_UNBIND);
}

static int gdlock_cgroup(struct gdlock *g, uint32_t agent, const char *path,
			 uint32_t flags)
{
	int fd, ret;

	if (!g || !path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = gdlock_bind(g, agent, GDL_BIND_CGROUP_FD, fd, flags);
	close(fd);
	return ret;
}

GDLOCK_API int gdlock_bind_cgroup(struct gdlock *g, uint32_t agent,
				  const char *path)
{
	return gdlock_cgroup(g, agent, path, 0);
}

GDLOCK_API int gdlock_unbind_cgroup(struct gdlock *g, uint32_t agent,
				    const char *path)
{
	return gdlock_cgroup(g, agent, path, GDL_BIND_F_UNBIND);
}

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/*
 * A cgroup's id is its kernfs node id: cgroup2fs gives it as the file
 * handle (and, on 64-bit, the inode number), which is what BIND_LIST
 * reports for a cgroup binding.
 */
GDLOCK_API int gdlock_cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[sizeof(uint64_t)];
	} h;
	struct statfs sfs;
	struct stat st;
	int fd, mnt, ret = 0;

	if (!path || !id)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sfs) || fstat(fd, &st)) {
		ret = -errno;
	} else if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		ret = -EBADF;	/* what binding a non-cgroup directory gets */
	} else {
		h.fh.handle_bytes = sizeof(h.bytes);
		if (!name_to_handle_at(fd, "", &h.fh, &mnt, AT_EMPTY_PATH) &&
		    h.fh.handle_bytes == sizeof(*id))
			memcpy(id, h.fh.f_handle, sizeof(*id));
		else
			*id = st.st_ino;
	}
	close(fd);
	return ret;
}

/* A removed cgroup has no path left: its binding goes by the id. */
GDLOCK_API int gdlock_unbind_cgroup_id(struct gdlock *g, uint32_t agent,
				       uint64_t id)
{
	if (!g || !id || id > INT64_MAX)
		return -EINVAL;
	return gdlock_bind(g, agent, GDL_BIND_CGROUP_ID, (int64_t)id,
			   GDL_BIND_F_UNBIND);
}

GDLOCK_API int gdlock_binding_list(struct gdlock *g, uint32_t filter_agent,
				   struct gdl_binding_info *buf,
				   unsigned int cap)
{
	return gdlock_list(g, GDL_IOC_BIND_LIST, filter_agent, 0, buf, cap,
			   sizeof(*buf));
}

GDLOCK_API int gdlock_quota_set(struct gdlock *g, uint32_t agent, uint32_t dev,
				uint64_t quota)
{
	struct gdl_quota_set q;

	memset(&q, 0, sizeof(q));
	q.agent_id = agent;
	q.dev_index = dev;
	q.quota = quota;
	return gdlock_ioctl(g, GDL_IOC_QUOTA_SET, &q);
}

GDLOCK_API int gdlock_quota_get_flags(struct gdlock *g, uint32_t agent,
				      uint32_t dev, uint32_t flags,
				      struct gdl_quota *q)
{
	if (!q)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->agent_id = agent;
	q->dev_index = dev;
	q->flags = flags;
	return gdlock_ioctl(g, GDL_IOC_QUOTA_GET, q);
}

GDLOCK_API int gdlock_quota_get(struct gdlock *g, uint32_t agent, uint32_t dev,
				struct gdl_quota *q)
{
	return gdlock_quota_get_flags(g, agent, dev, 0, q);
}

GDLOCK_API int gdlock_reserve_ex(struct gdlock *g, struct gdl_reserve *r)
{
	if (!r)
		return -EINVAL;
	return gdlock_ioctl(g, GDL_IOC_RESERVE, r);
}

GDLOCK_API int gdlock_reserve(struct gdlock *g, uint32_t dev, uint64_t size,
			      uint64_t *handle)
{
	struct gdl_reserve r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.dev_index = dev;
	r.size = size;
	ret = gdlock_ioctl(g, GDL_IOC_RESERVE, &r);
	if (!ret && handle)
		*handle = r.handle;
	return ret;
}

GDLOCK_API int gdlock_reserve_at(struct gdlock *g, uint32_t dev, uint64_t addr,
				 uint64_t size, uint64_t *handle)
{
	struct gdl_reserve r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.dev_index = dev;
	r.flags = GDL_RESERVE_F_ADDR;
	r.addr = addr;
	r.size = size;
	ret = gdlock_ioctl(g, GDL_IOC_RESERVE, &r);
	if (!ret && handle)
		*handle = r.handle;
	return ret;
}

GDLOCK_API int gdlock_release(struct gdlock *g, uint64_t handle)
{
	struct gdl_release r;

	memset(&r, 0, sizeof(r));
	r.handle = handle;
	return gdlock_ioctl(g, GDL_IOC_RELEASE, &r);
}

/* Since 0.5 (ABI 1.3): a key of at most GDL_SHARE_KEY_LEN bytes, zero-padded. */
static int share_bytes(struct gdl_reservation_share *s, const void *key,
		       size_t len)
{
	memset(s, 0, sizeof(*s));
	if (!key || !len || len > sizeof(s->key))
		return -EINVAL;
	s->key_type = GDL_SHARE_KEY_BYTES;
	memcpy(s->key, key, len);
	return 0;
}

static void share_fd(struct gdl_reservation_share *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->key_type = GDL_SHARE_KEY_FD;
	s->fd = fd;
}

GDLOCK_API int gdlock_reservation_share(struct gdlock *g, uint64_t handle,
					const void *key, size_t len)
{
	struct gdl_reservation_share s;
	int ret = share_bytes(&s, key, len);

	if (ret)
		return ret;
	s.handle = handle;
	return gdlock_ioctl(g, GDL_IOC_RESERVATION_SHARE, &s);
}

GDLOCK_API int gdlock_reservation_share_fd(struct gdlock *g, uint64_t handle,
					   int fd)
{
	struct gdl_reservation_share s;

	share_fd(&s, fd);
	s.handle = handle;
	return gdlock_ioctl(g, GDL_IOC_RESERVATION_SHARE, &s);
}

static int attach(struct gdlock *g, struct gdl_reservation_share *s,
		  uint64_t *handle)
{
	int ret;

	s->access = GDL_ACCESS_READ | GDL_ACCESS_WRITE;
	ret = gdlock_ioctl(g, GDL_IOC_RESERVATION_ATTACH, s);
	if (!ret && handle)
		*handle = s->handle;
	return ret;
}

GDLOCK_API int gdlock_reservation_attach(struct gdlock *g, const void *key,
					 size_t len, uint64_t *handle)
{
	struct gdl_reservation_share s;
	int ret = share_bytes(&s, key, len);

	return ret ? ret : attach(g, &s, handle);
}

GDLOCK_API int gdlock_reservation_attach_as(struct gdlock *g, const void *key,
					    size_t len, uint32_t dev,
					    uint64_t size, uint64_t *handle)
{
	struct gdl_reservation_share s;
	int ret = share_bytes(&s, key, len);

	if (ret)
		return ret;
	s.flags = GDL_ATTACH_F_DEV | (size ? GDL_ATTACH_F_SIZE : 0);
	s.dev_index = dev;
	s.size = size;
	return attach(g, &s, handle);
}

GDLOCK_API int gdlock_reservation_attach_fd(struct gdlock *g, int fd,
					    uint64_t *handle)
{
	struct gdl_reservation_share s;

	share_fd(&s, fd);
	return attach(g, &s, handle);
}

GDLOCK_API int gdlock_dma_check_ex(struct gdlock *g, struct gdl_dma_check *c)
{
	if (!c)
		return -EINVAL;
	return gdlock_ioctl(g, GDL_IOC_DMA_CHECK, c);
}

GDLOCK_API int gdlock_dma_check(struct gdlock *g, uint32_t dev, uint64_t addr,
				uint64_t len, uint32_t access)
{
	struct gdl_dma_check c;

	memset(&c, 0, sizeof(c));
	c.dev_index = dev;
	c.access = access;
	c.addr = addr;
	c.len = len;
	return gdlock_ioctl(g, GDL_IOC_DMA_CHECK, &c);
}

GDLOCK_API int gdlock_peer_check(struct gdlock *g, uint32_t dev, uint32_t peer)
{
	struct gdl_dma_check c;

	memset(&c, 0, sizeof(c));
	c.dev_index = dev;
	c.peer_index = peer;
	c.access = GDL_ACCESS_PEER;
	return gdlock_ioctl(g, GDL_IOC_DMA_CHECK, &c);
}

static int gdlock_acl_batch(struct gdlock *g, unsigned long cmd,
			    const struct gdl_acl_entry *e, unsigned int n)
{
	struct gdl_array arr;

	if (!e || !n)
		return -EINVAL;
	memset(&arr, 0, sizeof(arr));
	arr.ptr = (uintptr_t)e;
	arr.count = n;
	arr.entry_size = sizeof(*e);
	return gdlock_ioctl(g, cmd, &arr);
}

GDLOCK_API int gdlock_acl_grant(struct gdlock *g, const struct gdl_acl_entry *e,
				unsigned int n)
{
	return gdlock_acl_batch(g, GDL_IOC_ACL_GRANT, e, n);
}

GDLOCK_API int gdlock_acl_revoke(struct gdlock *g,
				 const struct gdl_acl_entry *e, unsigned int n)
{
	return gdlock_acl_batch(g, GDL_IOC_ACL_REVOKE, e, n);
}

GDLOCK_API int gdlock_acl_list(struct gdlock *g, uint32_t filter_agent,
			       struct gdl_acl_entry *buf, unsigned int cap)
{
	return gdlock_list(g, GDL_IOC_ACL_LIST, filter_agent, 0, buf, cap,
			   sizeof(*buf));
}

/*
 * The file is switched to O_NONBLOCK (idempotent, so racing callers agree)
 * because poll() can report events that a non-admin's read() then filters
 * out; a blocking read() would then outlive the caller's timeout.
 */
GDLOCK_API int gdlock_event_read(struct gdlock *g, struct gdl_event *ev,
				 unsigned int cap, int timeout_ms)
{
	struct pollfd pfd;
	ssize_t n;
	int fl;

	if (!g || !ev || !cap)
		return -EINVAL;
	fl = fcntl(g->fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(g->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	pfd.fd = g->fd;
	pfd.events = POLLIN;
	for (;;) {
		n = read(g->fd, ev, (size_t)cap * sizeof(*ev));
		if (n > 0) {
			if (n % sizeof(*ev))
				return -EIO;
			return (int)(n / sizeof(*ev));
		}
		if (n == 0)
			return -EIO;	/* end of file: not the event channel */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		/*
		 * Each wait gets the whole timeout again: a caller that needs
		 * a hard deadline passes a short timeout and loops.
		 */
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return 0;
	}
}

GDLOCK_API const char *gdlock_event_type_name(uint32_t type)
{
	switch (type) {
	case GDL_EVENT_QUOTA_EXCEEDED:
		return "quota_exceeded";
	case GDL_EVENT_CAPACITY_EXCEEDED:
		return "capacity_exceeded";
	case GDL_EVENT_DMA_DENIED:
		return "dma_denied";
	case GDL_EVENT_AGENT_DESTROYED:
		return "agent_destroyed";
	case GDL_EVENT_LOST:
		return "lost";
	case GDL_EVENT_DEVICE_GONE:
		return "device_gone";
	case GDL_EVENT_DEVICE_BACK:
		return "device_back";
	default:
		return "unknown";
	}
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libgpudmalock: the C API over /dev/gpu_dma_lock.
 *
 * One function per operation.  Every function returns 0 (or a count) on
 * success and a negative errno on failure; gdlock_strerror() explains an
 * errno in this API's terms.  The library keeps no global state: a
 * struct gdlock is one open file of the device, and its reservations are
 * released by the kernel when it is closed (or the process dies).  Calls
 * on one handle may be made from several threads at once.
 */
#ifndef GPUDMALOCK_H
#define GPUDMALOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <gpu_dma_lock.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gdlock;

int gdlock_open(struct gdlock **out);
int gdlock_open_path(const char *path, struct gdlock **out);
void gdlock_close(struct gdlock *g);
int gdlock_fd(const struct gdlock *g);
const char *gdlock_strerror(int err);
int gdlock_parse_size(const char *s, uint64_t *out);
/* Since 0.4: "r", "w", "rw" or "p" as GDL_ACCESS_* bits; -EINVAL else. */
int gdlock_parse_rights(const char *s, uint32_t *out);
/* Since 0.4: whether the module takes @name for an agent or a device. */
bool gdlock_name_valid(const char *name);

int gdlock_nop(struct gdlock *g);
int gdlock_version(struct gdlock *g, struct gdl_version *v);
int gdlock_whoami(struct gdlock *g, struct gdl_whoami *w);
int gdlock_stats(struct gdlock *g, struct gdl_stats *s);

/* Lists return how many exist; at most @cap are stored in @buf. */
int gdlock_device_list(struct gdlock *g, struct gdl_device_info *buf,
		       unsigned int cap);
int gdlock_device_add(struct gdlock *g, struct gdl_device_info *d);
int gdlock_device_set(struct gdlock *g, const struct gdl_device_set *s);
int gdlock_device_remove(struct gdlock *g, uint32_t index);

int gdlock_agent_create(struct gdlock *g, const char *name,
			uint64_t default_quota, uint32_t *id);
/*
 * Since 0.4 (module ABI 1.2): the agent's shares of the node's pools, its
 * live reservations and the ACL entries it owns; 0 = the module's default.
 * An older module refuses non-zero limits (EINVAL) and AGENT_LIMITS (ENOTTY).
 */
int gdlock_agent_create_limits(struct gdlock *g, const char *name,
			       uint64_t default_quota,
			       uint32_t max_reservations,
			       uint32_t max_acl_entries, uint32_t *id);
int gdlock_agent_set_limits(struct gdlock *g, uint32_t id,
			    uint32_t max_reservations,
			    uint32_t max_acl_entries);
int gdlock_agent_destroy(struct gdlock *g, uint32_t id);
int gdlock_agent_list(struct gdlock *g, struct gdl_agent_info *buf,
		      unsigned int cap);
int gdlock_agent_find(struct gdlock *g, const char *name, uint32_t *id);
/*
 * Since 0.6 (module ABI 1.4): gdlock_agent_list() with GDL_LIST_F_* @flags;
 * GDL_LIST_F_DESTROYED (admins) adds, after the live agents, the destroyed
 * ones that still hold memory, with GDL_AGENT_F_DESTROYED in their flags.
 * An older module refuses any flag: -EINVAL.
 */
int gdlock_agent_list_flags(struct gdlock *g, uint32_t flags,
			    struct gdl_agent_info *buf, unsigned int cap);
int gdlock_bind_pid(struct gdlock *g, uint32_t agent, pid_t pid);
int gdlock_unbind_pid(struct gdlock *g, uint32_t agent, pid_t pid);
int gdlock_bind_cgroup(struct gdlock *g, uint32_t agent, const char *path);
int gdlock_unbind_cgroup(struct gdlock *g, uint32_t agent, const char *path);
/* Since 0.2 (module ABI 1.1): bindings of @filter_agent (0: all); admins. */
int gdlock_binding_list(struct gdlock *g, uint32_t filter_agent,
			struct gdl_binding_info *buf, unsigned int cap);
/* Since 0.2: the id a cgroup v2 directory has in BIND_LIST. */
int gdlock_cgroup_id(const char *path, uint64_t *id);
/* Since 0.2: unbind a cgroup by that id (one that was removed, say). */
int gdlock_unbind_cgroup_id(struct gdlock *g, uint32_t agent, uint64_t id);

int gdlock_quota_set(struct gdlock *g, uint32_t agent, uint32_t dev,
		     uint64_t quota);
int gdlock_quota_get(struct gdlock *g, uint32_t agent, uint32_t dev,
		     struct gdl_quota *q);
/*
 * Since 0.6 (module ABI 1.4): with GDL_QUOTA_F_DESTROYED in @flags, an
 * admin's @agent may be a destroyed agent that still holds memory, and
 * q->flags says GDL_QUOTA_F_DESTROYED when it is one.  Older: -EINVAL.
 */
int gdlock_quota_get_flags(struct gdlock *g, uint32_t agent, uint32_t dev,
			   uint32_t flags, struct gdl_quota *q);

int gdlock_reserve(struct gdlock *g, uint32_t dev, uint64_t size,
		   uint64_t *handle);
int gdlock_reserve_at(struct gdlock *g, uint32_t dev, uint64_t addr,
		      uint64_t size, uint64_t *handle);
int gdlock_reserve_ex(struct gdlock *g, struct gdl_reserve *r);
int gdlock_release(struct gdlock *g, uint64_t handle);

/*
 * Since 0.5 (module ABI 1.3): shared reservations.  share names one of
 * this file's reservations by a key another process also holds: the
 * bytes of a capability (a CUDA IPC handle, at most GDL_SHARE_KEY_LEN) or
 * an open file passed to it.  attach, given the same key, gives this file
 * its own handle on it (read and write access, by the DMA rule); release
 * drops a handle; the charge stays with the reserving agent until the
 * last handle goes.  -ENOENT: no such key; -EACCES: not allowed;
 * -EBADFD: the fd is not a file that can be a key (a memfd or other
 * shmem file, or a device of the module's share_key_majors).
 */
int gdlock_reservation_share(struct gdlock *g, uint64_t handle,
			     const void *key, size_t len);
int gdlock_reservation_share_fd(struct gdlock *g, uint64_t handle, int fd);
int gdlock_reservation_attach(struct gdlock *g, const void *key, size_t len,
			      uint64_t *handle);
int gdlock_reservation_attach_fd(struct gdlock *g, int fd, uint64_t *handle);
/*
 * Since 0.6 (ABI 1.4): several agents filed the key (-ENOTUNIQ from
 * attach: someone filed an exporter's bytes first on other memory); ask
 * again for the memory the driver imported: on device @dev and, when
 * @size is not 0, of @size bytes.  Among several such, the one filed
 * first.  -EINVAL from a module older than 1.4.
 */
int gdlock_reservation_attach_as(struct gdlock *g, const void *key,
				 size_t len, uint32_t dev, uint64_t size,
				 uint64_t *handle);

int gdlock_dma_check(struct gdlock *g, uint32_t dev, uint64_t addr,
		     uint64_t len, uint32_t access);
int gdlock_dma_check_ex(struct gdlock *g, struct gdl_dma_check *c);
int gdlock_peer_check(struct gdlock *g, uint32_t dev, uint32_t peer);

int gdlock_acl_grant(struct gdlock *g, const struct gdl_acl_entry *e,
		     unsigned int n);
int gdlock_acl_revoke(struct gdlock *g, const struct gdl_acl_entry *e,
		      unsigned int n);
int gdlock_acl_list(struct gdlock *g, uint32_t filter_agent,
		    struct gdl_acl_entry *buf, unsigned int cap);

/*
 * Events (quota exceeded, DMA denied, agent destroyed) made since @g was
 * opened: waits up to @timeout_ms (-1: for ever) for at least one, stores
 * up to @cap in @ev and returns how many, 0 on timeout.  Switches @g's file
 * to non-blocking mode.  Admins see every agent's events, others their own.
 */
int gdlock_event_read(struct gdlock *g, struct gdl_event *ev,
		      unsigned int cap, int timeout_ms);
/* "quota_exceeded", "dma_denied", ...; "unknown" for a newer type. */
const char *gdlock_event_type_name(uint32_t type);

/*
 * Since 0.6: who holds memory, from /proc/gpu_dma_lock/holders (root
 * only; module 0.5): one row per handle of every open file of the device.
 */
#define GDLOCK_HOLDERS_PATH	"/proc/gpu_dma_lock/holders"
#define GDLOCK_HOLDER_DESTROYED	0x1 /* the charged agent was destroyed */
#define GDLOCK_HOLDER_ATTACHED	0x2 /* RESERVATION_ATTACH made the handle */

struct gdlock_holder {
	int32_t pid;		/* opened the file; 0: gone, or not in our ns */
	uint32_t agent_id;	/* the agent charged */
	uint64_t handle;	/* in that file */
	uint32_t dev_index;
	uint32_t flags;		/* GDLOCK_HOLDER_* */
	uint64_t size;
};
/*
 * Read the table at @path (NULL: GDLOCK_HOLDERS_PATH): stores up to @cap
 * rows in @buf and returns how many there are, or -errno (-EACCES: not
 * root; -ENOENT: no such table, an older module; -EBADMSG: not that
 * table).  The table is read in one go, so rows are one moment's.
 */
int gdlock_holders(const char *path, struct gdlock_holder *buf,
		   unsigned int cap);

/* Since 0.3: the lifecycle helper (OCI hook, CDI, Slurm). */
struct gdlock_ensure_quota {
	uint32_t device;	/* ledger device index */
	uint32_t reserved;	/* must be 0 */
	uint64_t bytes;
};
/* Find the agent @name or create it (EEXIST from a racing creator: find it
 * again), set each of the @nq quotas, and bind the cgroup @cgroup_path
 * unless it is NULL (already bound to this agent: success).  Idempotent.
 * Stores the agent's id in *@id if @id is not NULL. 0 or -errno. */
int gdlock_agent_ensure(struct gdlock *g, const char *name,
			const struct gdlock_ensure_quota *q, unsigned int nq,
			const char *cgroup_path, uint32_t *id);
/* Destroy the agent @name; one that is already gone is success. 0 or -errno. */
int gdlock_agent_retire(struct gdlock *g, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* GPUDMALOCK_H */

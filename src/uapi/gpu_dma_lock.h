/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gpu_dma_lock: userspace ABI of /dev/gpu_dma_lock.
 *
 * Every argument struct is fixed-size, 64-bit aligned and free of implicit
 * padding, so i386 and x86_64 agree on the layout.  The size of the struct a
 * caller was built with travels in the ioctl number's size bits: the kernel
 * accepts any size from the first published one upwards, zero-fills what an
 * older caller did not send and refuses (E2BIG) non-zero bytes it does not
 * know.  Reserved fields must be zero so that they can be given a meaning
 * later.  docs/abi.md documents every command and errno.
 */
#ifndef _UAPI_LINUX_GPU_DMA_LOCK_H
#define _UAPI_LINUX_GPU_DMA_LOCK_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define GDL_ABI_MAJOR		1
#define GDL_ABI_MINOR		4 /* 1.4: attach by what the import is; destroyed agents listed */

#define GDL_DEVICE_PATH		"/dev/gpu_dma_lock"
#define GDL_MAX_DEVICES		32
#define GDL_NAME_LEN		32
#define GDL_UUID_LEN		16
#define GDL_QUOTA_UNLIMITED	(~(__u64)0)
#define GDL_ALL_DEVICES		(~(__u32)0)
#define GDL_ACL_BATCH_MAX	4096

/* Access rights, used by DMA checks and ACL entries. */
#define GDL_ACCESS_READ		0x1
#define GDL_ACCESS_WRITE	0x2
#define GDL_ACCESS_PEER		0x4
#define GDL_ACCESS_MASK		(GDL_ACCESS_READ | GDL_ACCESS_WRITE | GDL_ACCESS_PEER)

/* GDL_IOC_VERSION */
#define GDL_VERSION_F_ENFORCE		0x1 /* enforce=1 */
#define GDL_VERSION_F_DEFAULT_ALLOW	0x2 /* default_policy=default */

struct gdl_version {
	__u32 abi_major;
	__u32 abi_minor;
	__u32 max_devices;
	__u32 max_agents;
	__u32 flags;
	__u32 reserved0;
	char module_version[32];
	__u64 reserved[4];
};

/* GDL_IOC_WHOAMI: the agent the kernel resolved for the calling process. */
#define GDL_BOUND_NONE		0 /* unbound and default_policy=deny */
#define GDL_BOUND_PID		1
#define GDL_BOUND_CGROUP	2
#define GDL_BOUND_DEFAULT	3 /* unbound, accounted to the default agent */

/*
 * host_pid (ABI 1.4; 0 from older modules): the caller's process id in the
 * initial pid namespace, which the GPU driver and NVML name processes by.
 * A process in a container cannot know it otherwise; it learns nothing
 * new, since NVML lists the host pid of every process using a GPU.
 */
struct gdl_whoami {
	__u32 agent_id;		/* 0 when bound_by is GDL_BOUND_NONE */
	__u32 bound_by;
	__u32 host_pid;		/* ABI 1.4 */
	__u32 reserved0;
	__u64 reserved;
};

/*
 * Variable-length transfers (lists, ACL batches).  entry_size is the size
 * of one array element as the caller knows it, so elements can grow too.
 * flags (ABI 1.4; reserved0 before, which had to be zero): GDL_LIST_F_*
 * bits the command knows; any other bit, or any bit for a command that
 * takes none, is refused with EINVAL, as a 1.3 module refuses them all.
 */
#define GDL_LIST_F_DESTROYED	0x1 /* AGENT_LIST: also destroyed agents */

struct gdl_array {
	__u64 ptr;		/* user address of the array */
	__u32 count;		/* in: elements at ptr; out (lists): available */
	__u32 entry_size;	/* in: sizeof(element) */
	__u32 filter_agent;	/* lists: 0 = every agent the caller may see */
	__u32 flags;		/* in: GDL_LIST_F_* */
	__u64 reserved[2];
};

/* Devices */
#define GDL_DEV_F_PCI		0x1 /* discovered on the PCI bus */
#define GDL_DEV_F_MANUAL	0x2 /* declared by an admin */
#define GDL_DEV_F_GONE		0x4 /* out, ABI 1.3: left the PCI bus */

struct gdl_device_info {
	__u32 index;		/* ADD: out */
	__u32 flags;		/* out */
	__u32 pci_domain;
	__u32 pci_bdf;		/* bus << 8 | devfn */
	__u16 vendor;
	__u16 device;
	__u32 reserved0;
	__u64 capacity;		/* bytes; GDL_QUOTA_UNLIMITED = not set */
	__u64 used;		/* out */
	__u64 peak;		/* out */
	__u64 nr_reservations;	/* out */
	char name[GDL_NAME_LEN];
	__u8 uuid[GDL_UUID_LEN];
	__u64 reserved[4];
};

#define GDL_DEVSET_CAPACITY	0x1
#define GDL_DEVSET_NAME		0x2
#define GDL_DEVSET_UUID		0x4

struct gdl_device_set {
	__u32 index;
	__u32 mask;		/* GDL_DEVSET_* fields to change */
	__u64 capacity;
	char name[GDL_NAME_LEN];
	__u8 uuid[GDL_UUID_LEN];
	__u64 reserved[2];
};

/* DEVICE_REMOVE, AGENT_DESTROY */
struct gdl_id {
	__u32 id;
	__u32 flags;
	__u64 reserved[1];
};

/* Agents */
#define GDL_AGENT_F_DEFAULT	0x1 /* out: the default agent */
/*
 * out, ABI 1.4: destroyed, but still charged for memory that open files
 * hold (their own reservations, or handles attached to them); listed only
 * with GDL_LIST_F_DESTROYED, so that callers matching names never see it.
 */
#define GDL_AGENT_F_DESTROYED	0x2

struct gdl_agent_info {
	__u32 id;		/* CREATE: out */
	__u32 flags;		/* out */
	char name[GDL_NAME_LEN];
	__u64 default_quota;	/* quota on every device it starts with */
	__u32 nr_bindings;	/* out */
	__u32 reserved0;
	/*
	 * ABI 1.2: its share of the node's pools: live reservations, and ACL
	 * entries it owns (grants it made).  CREATE: 0 = the module's
	 * max_*_per_agent; out: the limits in force.
	 */
	__u32 max_reservations;
	__u32 max_acl_entries;
	__u64 reserved[2];
};

/* GDL_IOC_AGENT_LIMITS (ABI 1.2): change an agent's limits; 0 = default. */
struct gdl_agent_limits {
	__u32 agent_id;
	__u32 reserved0;
	__u32 max_reservations;
	__u32 max_acl_entries;
	__u64 reserved[2];
};

#define GDL_BIND_PID		1 /* value: a pid in the caller's namespace */
#define GDL_BIND_CGROUP_FD	2 /* value: fd of a cgroup v2 directory */
/*
 * value: a cgroup id, as BIND_LIST reports it; unbind only (ABI 1.1), for
 * the binding of a cgroup that was removed and so has no path to open.
 */
#define GDL_BIND_CGROUP_ID	3
#define GDL_BIND_F_UNBIND	0x1

struct gdl_bind {
	__u32 agent_id;
	__u32 type;
	__u32 flags;
	__u32 reserved0;
	__s64 value;
	__u64 reserved[2];
};

/* BIND_LIST elements (ABI 1.1). */
#define GDL_BINDING_F_EXITED	0x1 /* GDL_BIND_PID: the process has exited */

struct gdl_binding_info {
	__u32 agent_id;
	__u32 type;		/* GDL_BIND_PID or GDL_BIND_CGROUP_FD */
	/*
	 * GDL_BIND_PID: the process id in the caller's pid namespace, 0 when
	 * it has none there.  GDL_BIND_CGROUP_FD: the cgroup id, which is the
	 * directory's inode number (and file handle) in cgroup2fs.
	 */
	__u64 target;
	__u32 flags;		/* GDL_BINDING_F_* */
	__u32 reserved0;
	__u64 reserved[2];
};

/* Quotas */
struct gdl_quota_set {
	__u32 agent_id;
	__u32 dev_index;	/* or GDL_ALL_DEVICES */
	__u64 quota;		/* bytes, or GDL_QUOTA_UNLIMITED */
	__u64 reserved[2];
};

#define GDL_QUOTA_F_OVER	0x1 /* out: usage above a lowered quota */
/*
 * ABI 1.4, in (admins): agent_id may name a destroyed agent that is still
 * charged (AGENT_LIST's GDL_AGENT_F_DESTROYED), whose usage is then read;
 * out: set when the agent read is such a destroyed one.  Without it, a
 * destroyed agent is ENOENT, as before.
 */
#define GDL_QUOTA_F_DESTROYED	0x2

struct gdl_quota {
	__u32 agent_id;		/* in: 0 = the caller's own agent; out: id */
	__u32 dev_index;	/* in */
	__u64 quota;		/* out from here on */
	__u64 usage;
	__u64 peak;
	__u64 nr_reservations;
	__u64 denied;
	__u32 flags;		/* in: GDL_QUOTA_F_DESTROYED or 0; out */
	__u32 reserved0;
	__u64 reserved[2];
};

/* Reservations */
#define GDL_RESERVE_F_ADDR	0x1 /* addr names the device range */

struct gdl_reserve {
	__u32 dev_index;
	__u32 flags;
	__u64 size;
	__u64 addr;
	__u64 handle;		/* out */
	__u32 agent_id;		/* out: the agent charged */
	__u32 result;		/* out: GDL_RESULT_* */
	__u64 reserved[2];
};

struct gdl_release {
	__u64 handle;
	__u64 reserved[2];
};

/*
 * Shared reservations (ABI 1.3).  RESERVATION_SHARE names one of the
 * caller's reservations by a key that another process also holds;
 * RESERVATION_ATTACH, given the same key, gives the caller's file a handle
 * on that reservation.  The charge stays with the agent that reserved it
 * and goes with the last handle, whichever file holds it.  Two kinds of
 * key, never equal to each other:
 *  - GDL_SHARE_KEY_BYTES: key[] holds a capability's bytes, such as a
 *    CUDA IPC handle or pool export data: whoever holds them can map the
 *    memory, so they name it;
 *  - GDL_SHARE_KEY_FD: fd is an open file (a shareable handle passed over
 *    a UNIX socket); the same open file names it in every process.  Only
 *    shmem files (memfd) and character devices of the share_key_majors
 *    parameter can be keys (else EBADFD).
 */
#define GDL_SHARE_KEY_LEN	64
#define GDL_SHARE_KEY_BYTES	1
#define GDL_SHARE_KEY_FD	2

/*
 * ABI 1.4: a key is the sharer's agent's.  Another agent's SHARE of the
 * same bytes never fails for it (so no tenant can claim a key first and
 * make the rightful SHARE fail), and ATTACH picks among the agents that
 * shared those bytes:
 *  - the caller's own agent's reservation, if it shared them;
 *  - else the one reservation the caller may use by the DMA rule, among
 *    those matching the expectations of GDL_ATTACH_F_DEV and _F_SIZE;
 *  - several may: ENOTUNIQ without expectations (an importer then learns
 *    the memory's device and size from the driver and asks again with
 *    them); with expectations, the one shared first.
 * ATTACH returns the reservation's device and size, for the caller to
 * check against what the driver imported.
 */
#define GDL_ATTACH_F_DEV	0x1 /* in: only memory on dev_index */
#define GDL_ATTACH_F_SIZE	0x2 /* in: only memory of this size */

struct gdl_reservation_share {
	__u64 handle;		/* SHARE: in; ATTACH: out */
	__u32 key_type;		/* GDL_SHARE_KEY_* */
	__s32 fd;		/* GDL_SHARE_KEY_FD; else 0 */
	__u32 access;		/* ATTACH: GDL_ACCESS_READ/WRITE; SHARE: 0 */
	__u32 agent_id;		/* ATTACH out: the agent charged */
	__u32 dev_index;	/* ATTACH out (in with GDL_ATTACH_F_DEV) */
	__u32 result;		/* ATTACH out: GDL_RESULT_* */
	__u64 size;		/* ATTACH out (in with GDL_ATTACH_F_SIZE) */
	__u8 key[GDL_SHARE_KEY_LEN];	/* GDL_SHARE_KEY_BYTES; else 0 */
	__u32 flags;		/* ATTACH (1.4): GDL_ATTACH_F_*; SHARE: 0 */
	__u32 reserved0;
	__u64 reserved;
};

/* Why a request passed: out fields of RESERVE and DMA_CHECK. */
#define GDL_RESULT_OK		0 /* within quota / own reservation */
#define GDL_RESULT_GRANT	1 /* DMA: a grant from the owning agent */
#define GDL_RESULT_ACL		2 /* DMA: an admin ACL entry */
#define GDL_RESULT_AUDIT	3 /* enforce=0: would have been refused */

struct gdl_dma_check {
	__u32 dev_index;
	__u32 access;		/* GDL_ACCESS_* */
	__u32 peer_index;	/* with GDL_ACCESS_PEER: the other device */
	__u32 reserved0;
	__u64 addr;
	__u64 len;
	__u32 owner_id;		/* out: agent owning the range, 0 if none */
	__u32 result;		/* out: GDL_RESULT_* */
	__u64 reserved[2];
};

/*
 * ACL entries.  owner_id == 0: an admin entry letting agent_id access
 * [addr, addr + len) on dev_index.  owner_id != 0: a grant by that owner of
 * memory it has reserved there.  GDL_ACCESS_PEER entries name a device pair
 * and no range (addr = len = 0).
 */
struct gdl_acl_entry {
	__u32 agent_id;
	__u32 owner_id;
	__u32 dev_index;
	__u32 rights;
	__u32 peer_index;
	__u32 reserved0;
	__u64 addr;
	__u64 len;
	__u64 reserved[2];
};

/* Statistics: monotonic counters and live object counts. */
enum gdl_stat {
	GDL_STAT_IOCTLS,
	GDL_STAT_RESERVE_OK,
	GDL_STAT_RESERVE_DENIED_QUOTA,
	GDL_STAT_RESERVE_DENIED_CAPACITY,
	GDL_STAT_RELEASES,
	GDL_STAT_DMA_ALLOWED,
	GDL_STAT_DMA_DENIED,
	GDL_STAT_AUDIT_OVERRIDES,
	GDL_STAT_NO_AGENT,
	GDL_STAT_LIVE_AGENTS,
	GDL_STAT_LIVE_RESERVATIONS,
	GDL_STAT_LIVE_ACL_ENTRIES,
	GDL_STAT_LIVE_FILES,
	GDL_STAT_LIVE_DEVICES,		/* table entries, gone ones too */
	GDL_STAT_LEDGER_CONSISTENT,	/* 1 when usage == sum(reservations) */
	GDL_STAT_NR
};

struct gdl_stats {
	__u32 nr_counters;	/* out: GDL_STAT_NR of the module */
	__u32 reserved0;
	__u64 counters[32];
	__u64 reserved[2];
};

/*
 * Events, read() from the device file: whole struct gdl_event records,
 * oldest first, from the moment the file was opened.  read() blocks unless
 * O_NONBLOCK; poll() reports POLLIN when one is waiting.  Admins see every
 * agent's events, and the devices' (agent_id 0), others only their own
 * agent's.  A reader that falls more than the ring's size behind gets one
 * GDL_EVENT_LOST (value = how many).
 */
#define GDL_EVENT_QUOTA_EXCEEDED	1 /* value: size, value2: quota */
#define GDL_EVENT_CAPACITY_EXCEEDED	2 /* value: size, value2: capacity */
#define GDL_EVENT_DMA_DENIED		3 /* value: addr, value2: len */
#define GDL_EVENT_AGENT_DESTROYED	4
#define GDL_EVENT_LOST			5 /* value: events missed */
/* ABI 1.3, admins' readers only: a PCI device left the bus, came back. */
#define GDL_EVENT_DEVICE_GONE		6 /* dev_index; agent_id 0 */
#define GDL_EVENT_DEVICE_BACK		7 /* dev_index; agent_id 0 */

#define GDL_EVENT_F_AUDIT	0x1 /* enforce=0: allowed, but would not be */

struct gdl_event {
	__u64 seq;
	__u64 time_ns;		/* CLOCK_MONOTONIC */
	__u32 type;
	__u32 flags;
	__u32 agent_id;
	__u32 dev_index;
	__s32 pid;		/* thread group id, initial pid namespace */
	__u32 access;		/* DMA_DENIED: GDL_ACCESS_* */
	__u64 value;
	__u64 value2;
	__u64 reserved[2];
};

#define GDL_IOC_MAGIC	0xDA

#define GDL_IOC_NOP		_IO(GDL_IOC_MAGIC, 0x00)
#define GDL_IOC_VERSION		_IOR(GDL_IOC_MAGIC, 0x01, struct gdl_version)
#define GDL_IOC_WHOAMI		_IOR(GDL_IOC_MAGIC, 0x02, struct gdl_whoami)
#define GDL_IOC_DEVICE_LIST	_IOWR(GDL_IOC_MAGIC, 0x10, struct gdl_array)
#define GDL_IOC_DEVICE_ADD	_IOWR(GDL_IOC_MAGIC, 0x11, struct gdl_device_info)
#define GDL_IOC_DEVICE_SET	_IOW(GDL_IOC_MAGIC, 0x12, struct gdl_device_set)
#define GDL_IOC_DEVICE_REMOVE	_IOW(GDL_IOC_MAGIC, 0x13, struct gdl_id)
#define GDL_IOC_AGENT_CREATE	_IOWR(GDL_IOC_MAGIC, 0x20, struct gdl_agent_info)
#define GDL_IOC_AGENT_DESTROY	_IOW(GDL_IOC_MAGIC, 0x21, struct gdl_id)
#define GDL_IOC_AGENT_LIST	_IOWR(GDL_IOC_MAGIC, 0x22, struct gdl_array)
#define GDL_IOC_AGENT_BIND	_IOW(GDL_IOC_MAGIC, 0x23, struct gdl_bind)
#define GDL_IOC_BIND_LIST	_IOWR(GDL_IOC_MAGIC, 0x24, struct gdl_array)
#define GDL_IOC_AGENT_LIMITS	_IOW(GDL_IOC_MAGIC, 0x25, struct gdl_agent_limits)
#define GDL_IOC_QUOTA_SET	_IOW(GDL_IOC_MAGIC, 0x30, struct gdl_quota_set)
#define GDL_IOC_QUOTA_GET	_IOWR(GDL_IOC_MAGIC, 0x31, struct gdl_quota)
#define GDL_IOC_RESERVE		_IOWR(GDL_IOC_MAGIC, 0x40, struct gdl_reserve)
#define GDL_IOC_RELEASE		_IOW(GDL_IOC_MAGIC, 0x41, struct gdl_release)
#define GDL_IOC_RESERVATION_SHARE	_IOW(GDL_IOC_MAGIC, 0x42, struct gdl_reservation_share)
#define GDL_IOC_RESERVATION_ATTACH	_IOWR(GDL_IOC_MAGIC, 0x43, struct gdl_reservation_share)
#define GDL_IOC_DMA_CHECK	_IOWR(GDL_IOC_MAGIC, 0x50, struct gdl_dma_check)
#define GDL_IOC_ACL_GRANT	_IOW(GDL_IOC_MAGIC, 0x60, struct gdl_array)
#define GDL_IOC_ACL_REVOKE	_IOW(GDL_IOC_MAGIC, 0x61, struct gdl_array)
#define GDL_IOC_ACL_LIST	_IOWR(GDL_IOC_MAGIC, 0x62, struct gdl_array)
#define GDL_IOC_STATS		_IOR(GDL_IOC_MAGIC, 0x70, struct gdl_stats)

#endif /* _UAPI_LINUX_GPU_DMA_LOCK_H */

// SPDX-License-Identifier: LGPL-2.1-or-later
//! The raw layer: libgpudmalock's functions and the `struct gdl_*` types of
//! `src/uapi/gpu_dma_lock.h` they take, as `#[repr(C)]` mirrors.  The ABI
//! has one implementation, the C library; only the layouts are repeated
//! here, and `tests/layout.rs` checks every size and offset against the C
//! header so that the two cannot drift.
#![allow(non_camel_case_types, missing_docs)]

use std::os::raw::{c_char, c_int, c_uint};

pub const GDL_NAME_LEN: usize = 32;
pub const GDL_UUID_LEN: usize = 16;

pub const GDL_VERSION_F_ENFORCE: u32 = 0x1;
pub const GDL_VERSION_F_DEFAULT_ALLOW: u32 = 0x2;
pub const GDL_DEV_F_PCI: u32 = 0x1;
pub const GDL_DEV_F_MANUAL: u32 = 0x2;
pub const GDL_DEV_F_GONE: u32 = 0x4;
pub const GDL_AGENT_F_DEFAULT: u32 = 0x1;
pub const GDL_AGENT_F_DESTROYED: u32 = 0x2; // ABI 1.4
pub const GDL_LIST_F_DESTROYED: u32 = 0x1; // ABI 1.4
pub const GDL_QUOTA_F_DESTROYED: u32 = 0x2; // ABI 1.4
pub const GDLOCK_HOLDER_DESTROYED: u32 = 0x1; // libgpudmalock 0.6
pub const GDLOCK_HOLDER_ATTACHED: u32 = 0x2;
pub const GDL_BIND_PID: u32 = 1;
pub const GDL_BIND_CGROUP_FD: u32 = 2;
pub const GDL_BINDING_F_EXITED: u32 = 0x1;
pub const GDL_QUOTA_F_OVER: u32 = 0x1;
pub const GDL_EVENT_F_AUDIT: u32 = 0x1;
pub const GDL_EVENT_QUOTA_EXCEEDED: u32 = 1;
pub const GDL_EVENT_CAPACITY_EXCEEDED: u32 = 2;
pub const GDL_EVENT_DMA_DENIED: u32 = 3;
pub const GDL_EVENT_AGENT_DESTROYED: u32 = 4;
pub const GDL_EVENT_LOST: u32 = 5;
pub const GDL_EVENT_DEVICE_GONE: u32 = 6;
pub const GDL_EVENT_DEVICE_BACK: u32 = 7;

/// The opaque handle of the C library (one open file of the device).
#[repr(C)]
pub struct gdlock {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_version {
    pub abi_major: u32,
    pub abi_minor: u32,
    pub max_devices: u32,
    pub max_agents: u32,
    pub flags: u32,
    pub reserved0: u32,
    pub module_version: [c_char; 32],
    pub reserved: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_whoami {
    pub agent_id: u32,
    pub bound_by: u32,
    pub host_pid: u32,
    pub reserved0: u32,
    pub reserved: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_device_info {
    pub index: u32,
    pub flags: u32,
    pub pci_domain: u32,
    pub pci_bdf: u32,
    pub vendor: u16,
    pub device: u16,
    pub reserved0: u32,
    pub capacity: u64,
    pub used: u64,
    pub peak: u64,
    pub nr_reservations: u64,
    pub name: [c_char; GDL_NAME_LEN],
    pub uuid: [u8; GDL_UUID_LEN],
    pub reserved: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_agent_info {
    pub id: u32,
    pub flags: u32,
    pub name: [c_char; GDL_NAME_LEN],
    pub default_quota: u64,
    pub nr_bindings: u32,
    pub reserved0: u32,
    pub max_reservations: u32,
    pub max_acl_entries: u32,
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_binding_info {
    pub agent_id: u32,
    pub type_: u32,
    pub target: u64,
    pub flags: u32,
    pub reserved0: u32,
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_quota {
    pub agent_id: u32,
    pub dev_index: u32,
    pub quota: u64,
    pub usage: u64,
    pub peak: u64,
    pub nr_reservations: u64,
    pub denied: u64,
    pub flags: u32,
    pub reserved0: u32,
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_reserve {
    pub dev_index: u32,
    pub flags: u32,
    pub size: u64,
    pub addr: u64,
    pub handle: u64,
    pub agent_id: u32,
    pub result: u32,
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_dma_check {
    pub dev_index: u32,
    pub access: u32,
    pub peer_index: u32,
    pub reserved0: u32,
    pub addr: u64,
    pub len: u64,
    pub owner_id: u32,
    pub result: u32,
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_acl_entry {
    pub agent_id: u32,
    pub owner_id: u32,
    pub dev_index: u32,
    pub rights: u32,
    pub peer_index: u32,
    pub reserved0: u32,
    pub addr: u64,
    pub len: u64,
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_stats {
    pub nr_counters: u32,
    pub reserved0: u32,
    pub counters: [u64; 32],
    pub reserved: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdl_event {
    pub seq: u64,
    pub time_ns: u64,
    pub type_: u32,
    pub flags: u32,
    pub agent_id: u32,
    pub dev_index: u32,
    pub pid: i32,
    pub access: u32,
    pub value: u64,
    pub value2: u64,
    pub reserved: [u64; 2],
}

/// One quota of gdlock_agent_ensure() (libgpudmalock 0.3).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdlock_ensure_quota {
    pub device: u32,
    pub reserved: u32,
    pub bytes: u64,
}

/// One row of /proc/gpu_dma_lock/holders, gdlock_holders() (libgpudmalock 0.6).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gdlock_holder {
    pub pid: i32,
    pub agent_id: u32,
    pub handle: u64,
    pub dev_index: u32,
    pub flags: u32,
    pub size: u64,
}

pub type pid_t = i32;

extern "C" {
    pub fn gdlock_open(out: *mut *mut gdlock) -> c_int;
    pub fn gdlock_open_path(path: *const c_char, out: *mut *mut gdlock) -> c_int;
    pub fn gdlock_close(g: *mut gdlock);
    pub fn gdlock_fd(g: *const gdlock) -> c_int;
    pub fn gdlock_strerror(err: c_int) -> *const c_char;
    pub fn gdlock_parse_size(s: *const c_char, out: *mut u64) -> c_int;

    pub fn gdlock_version(g: *mut gdlock, v: *mut gdl_version) -> c_int;
    pub fn gdlock_whoami(g: *mut gdlock, w: *mut gdl_whoami) -> c_int;
    pub fn gdlock_stats(g: *mut gdlock, s: *mut gdl_stats) -> c_int;
    pub fn gdlock_device_list(g: *mut gdlock, buf: *mut gdl_device_info, cap: c_uint) -> c_int;

    pub fn gdlock_agent_create(
        g: *mut gdlock,
        name: *const c_char,
        default_quota: u64,
        id: *mut u32,
    ) -> c_int;
    pub fn gdlock_agent_set_limits(g: *mut gdlock, id: u32, max_reservations: u32, max_acl_entries: u32) -> c_int;
    pub fn gdlock_agent_destroy(g: *mut gdlock, id: u32) -> c_int;
    pub fn gdlock_agent_list(g: *mut gdlock, buf: *mut gdl_agent_info, cap: c_uint) -> c_int;
    pub fn gdlock_agent_list_flags(g: *mut gdlock, flags: u32, buf: *mut gdl_agent_info, cap: c_uint) -> c_int;
    pub fn gdlock_agent_find(g: *mut gdlock, name: *const c_char, id: *mut u32) -> c_int;
    pub fn gdlock_bind_pid(g: *mut gdlock, agent: u32, pid: pid_t) -> c_int;
    pub fn gdlock_unbind_pid(g: *mut gdlock, agent: u32, pid: pid_t) -> c_int;
    pub fn gdlock_bind_cgroup(g: *mut gdlock, agent: u32, path: *const c_char) -> c_int;
    pub fn gdlock_unbind_cgroup(g: *mut gdlock, agent: u32, path: *const c_char) -> c_int;
    pub fn gdlock_binding_list(
        g: *mut gdlock,
        filter_agent: u32,
        buf: *mut gdl_binding_info,
        cap: c_uint,
    ) -> c_int;
    pub fn gdlock_cgroup_id(path: *const c_char, id: *mut u64) -> c_int;
    pub fn gdlock_unbind_cgroup_id(g: *mut gdlock, agent: u32, id: u64) -> c_int;

    pub fn gdlock_quota_set(g: *mut gdlock, agent: u32, dev: u32, quota: u64) -> c_int;
    pub fn gdlock_quota_get(g: *mut gdlock, agent: u32, dev: u32, q: *mut gdl_quota) -> c_int;
    pub fn gdlock_quota_get_flags(g: *mut gdlock, agent: u32, dev: u32, flags: u32, q: *mut gdl_quota) -> c_int;
    pub fn gdlock_holders(path: *const c_char, buf: *mut gdlock_holder, cap: c_uint) -> c_int;

    pub fn gdlock_reserve_ex(g: *mut gdlock, r: *mut gdl_reserve) -> c_int;
    pub fn gdlock_release(g: *mut gdlock, handle: u64) -> c_int;
    pub fn gdlock_reservation_share(g: *mut gdlock, handle: u64, key: *const u8, len: usize) -> c_int;
    pub fn gdlock_reservation_share_fd(g: *mut gdlock, handle: u64, fd: c_int) -> c_int;
    pub fn gdlock_reservation_attach(g: *mut gdlock, key: *const u8, len: usize, handle: *mut u64) -> c_int;
    pub fn gdlock_reservation_attach_fd(g: *mut gdlock, fd: c_int, handle: *mut u64) -> c_int;

    pub fn gdlock_dma_check_ex(g: *mut gdlock, c: *mut gdl_dma_check) -> c_int;

    pub fn gdlock_acl_grant(g: *mut gdlock, e: *const gdl_acl_entry, n: c_uint) -> c_int;
    pub fn gdlock_acl_revoke(g: *mut gdlock, e: *const gdl_acl_entry, n: c_uint) -> c_int;
    pub fn gdlock_acl_list(
        g: *mut gdlock,
        filter_agent: u32,
        buf: *mut gdl_acl_entry,
        cap: c_uint,
    ) -> c_int;

    pub fn gdlock_agent_ensure(
        g: *mut gdlock,
        name: *const c_char,
        q: *const gdlock_ensure_quota,
        nq: c_uint,
        cgroup_path: *const c_char,
        id: *mut u32,
    ) -> c_int;
    pub fn gdlock_agent_retire(g: *mut gdlock, name: *const c_char) -> c_int;

    pub fn gdlock_event_read(
        g: *mut gdlock,
        ev: *mut gdl_event,
        cap: c_uint,
        timeout_ms: c_int,
    ) -> c_int;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
//! Safe Rust bindings to `libgpudmalock`, the C API of `/dev/gpu_dma_lock`
//! (per-agent GPU memory quotas and DMA access lists kept by the
//! `gpu_dma_lock` kernel module).
//!
//! A [`Ledger`] is one open file of the device.  Admin calls (agents,
//! bindings, quotas, ACL entries of others) need `CAP_SYS_ADMIN`; every
//! other call acts on the agent the kernel resolves for the calling
//! process.  Reservations belong to the ledger that made them: a
//! [`Reservation`] releases on drop, and the kernel releases whatever is
//! left when the ledger is closed or the process dies.
//!
//! ```no_run
//! use gpu_dma_lock::{Ledger, ALL_DEVICES};
//! # fn main() -> gpu_dma_lock::Result<()> {
//! let ledger = Ledger::open()?;
//! let agent = ledger.create_agent("job-42", 0)?;
//! ledger.bind_cgroup(agent, "/sys/fs/cgroup/job-42")?;
//! ledger.set_quota(agent, ALL_DEVICES, 8 << 30)?;
//! # Ok(()) }
//! ```
//!
//! Errors are [`Error`] variants, one per errno meaning of the ABI.  A
//! ledger cannot be used once closed:
//!
//! ```compile_fail,E0382
//! let ledger = gpu_dma_lock::Ledger::open().unwrap();
//! ledger.close();
//! ledger.version(); // use after close: does not compile
//! ```
#![warn(missing_docs)]

mod error;
mod events;
pub mod sys;
mod types;

pub use error::{errno, errno_name, Error, Result};
pub use events::{Event, EventKind, Events};
pub use types::*;

use error::check;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_uint};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::{AsFd, AsRawFd, RawFd};
use std::path::Path;
use std::ptr::NonNull;

/// An agent's id (0 in a quota query: the caller's own agent).
pub type AgentId = u32;
/// A device index, or [`ALL_DEVICES`] where a call accepts it.
pub type DeviceIndex = u32;

/// A quota of no limit.
pub const UNLIMITED: u64 = u64::MAX;
/// Every device, for [`Ledger::set_quota`].
pub const ALL_DEVICES: DeviceIndex = u32::MAX;
/// The caller's own agent, for [`Ledger::quota`].
pub const SELF_AGENT: AgentId = 0;
/// The longest agent or device name, in bytes.
pub const NAME_MAX: usize = sys::GDL_NAME_LEN - 1;
/// The path of the device file.
pub const DEVICE_PATH: &str = "/dev/gpu_dma_lock";
/// The length of a share key's bytes ([`Reservation::share`],
/// [`Ledger::attach`]): a CUDA IPC handle, fabric handle or pool export.
pub const SHARE_KEY_LEN: usize = 64;

/// One open file of `/dev/gpu_dma_lock`.
///
/// Calls may be made from several threads at once (the C library keeps no
/// state but the file).
pub struct Ledger {
    raw: NonNull<sys::gdlock>,
}

// SAFETY: struct gdlock is an fd; libgpudmalock documents its calls as
// safe on one handle from several threads.
unsafe impl Send for Ledger {}
unsafe impl Sync for Ledger {}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidArgument)
}

fn name_arg(name: &str) -> Result<CString> {
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Error::InvalidArgument);
    }
    cstring(name)
}

fn path_arg(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::InvalidArgument)
}

/// A count the C library's list calls take.
fn cap_arg(n: usize) -> c_uint {
    n.min(c_uint::MAX as usize) as c_uint
}

/// A list call: asks for the count, then fetches, and again while more
/// appeared meanwhile than the buffer holds.
fn list<T: Default + Clone>(mut call: impl FnMut(*mut T, c_uint) -> i32) -> Result<Vec<T>> {
    let mut want = check(call(std::ptr::null_mut(), 0))? as usize;
    loop {
        let cap = want + 8;
        let mut buf = vec![T::default(); cap];
        let n = check(call(buf.as_mut_ptr(), cap_arg(cap)))? as usize;
        if n <= cap {
            buf.truncate(n);
            return Ok(buf);
        }
        want = n;
    }
}

pub(crate) fn c_name(raw: &[c_char]) -> String {
    let bytes: Vec<u8> = raw.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The table [`Ledger::holders`] reads (root only).
pub const HOLDERS_PATH: &str = "/proc/gpu_dma_lock/holders";

/// [`Ledger::holders`] from a copy of the table at `path`.
pub fn holders_at(path: &Path, agent: Option<AgentId>) -> Result<Vec<Holder>> {
    let c = path_arg(path)?;
    // SAFETY: c is a valid C string; list passes a buffer of at least cap
    // elements, or NULL and 0.
    let raw = list(|p, cap| unsafe { sys::gdlock_holders(c.as_ptr(), p, cap) })?;
    Ok(raw.iter().filter(|h| agent.map_or(true, |a| h.agent_id == a)).map(Holder::from).collect())
}

/// A size such as "64M", "1G" or "unlimited" (powers of 1024), as the ctl
/// and modprobe.d take it.
pub fn parse_size(s: &str) -> Result<u64> {
    let c = cstring(s)?;
    let mut v = 0u64;
    // SAFETY: c is a valid C string, v a valid out pointer.
    check(unsafe { sys::gdlock_parse_size(c.as_ptr(), &mut v) })?;
    Ok(v)
}

/// The id BIND_LIST reports for a cgroup v2 directory.
pub fn cgroup_id<P: AsRef<Path>>(path: P) -> Result<u64> {
    let c = path_arg(path.as_ref())?;
    let mut id = 0u64;
    // SAFETY: c is a valid C string, id a valid out pointer.
    check(unsafe { sys::gdlock_cgroup_id(c.as_ptr(), &mut id) })?;
    Ok(id)
}

/// The C library's own text for an errno (positive or negative).
pub fn strerror(err: i32) -> String {
    // SAFETY: gdlock_strerror returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::gdlock_strerror(err)) }
        .to_string_lossy()
        .into_owned()
}

impl Ledger {
    /// Opens `/dev/gpu_dma_lock`; [`Error::NotLoaded`] when it does not exist.
    pub fn open() -> Result<Ledger> {
        Ledger::open_path(DEVICE_PATH).map_err(|e| match e {
            Error::NotFound => Error::NotLoaded,
            e => e,
        })
    }

    /// Opens the device at another path (a container's bind mount, say).
    pub fn open_path<P: AsRef<Path>>(path: P) -> Result<Ledger> {
        let c = path_arg(path.as_ref())?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: c is a valid C string, raw a valid out pointer.
        check(unsafe { sys::gdlock_open_path(c.as_ptr(), &mut raw) })?;
        NonNull::new(raw)
            .map(|raw| Ledger { raw })
            .ok_or(Error::OutOfMemory)
    }

    /// Closes the file now; the kernel releases the reservations still
    /// held through it (dropping the ledger does the same).
    pub fn close(self) {}

    fn g(&self) -> *mut sys::gdlock {
        self.raw.as_ptr()
    }

    /// The module's ABI and version, limits and mode.
    pub fn version(&self) -> Result<Version> {
        let mut v = sys::gdl_version::default();
        // SAFETY: self.g() is a live handle, v a valid struct.
        check(unsafe { sys::gdlock_version(self.g(), &mut v) })?;
        Ok(Version::from(&v))
    }

    /// The agent the kernel resolved for this process, and how.
    pub fn whoami(&self) -> Result<Whoami> {
        let mut w = sys::gdl_whoami::default();
        // SAFETY: as above.
        check(unsafe { sys::gdlock_whoami(self.g(), &mut w) })?;
        Ok(Whoami::from(&w))
    }

    /// The managed devices, with capacity and use.
    pub fn devices(&self) -> Result<Vec<Device>> {
        // SAFETY: list passes a buffer of at least cap elements, or NULL and 0.
        let raw = list(|p, cap| unsafe { sys::gdlock_device_list(self.g(), p, cap) })?;
        Ok(raw.iter().map(Device::from).collect())
    }

    /// The ledger's counters and live object counts.
    pub fn stats(&self) -> Result<Stats> {
        let mut s = sys::gdl_stats::default();
        // SAFETY: as above.
        check(unsafe { sys::gdlock_stats(self.g(), &mut s) })?;
        Ok(Stats::from(&s))
    }

    /// Creates agent `name` (1 to 31 bytes) with `default_quota` bytes on
    /// every device (0: nothing until a quota is set).  Admin.
    pub fn create_agent(&self, name: &str, default_quota: u64) -> Result<AgentId> {
        let c = name_arg(name)?;
        let mut id = 0u32;
        // SAFETY: c is a valid C string, id a valid out pointer.
        check(unsafe { sys::gdlock_agent_create(self.g(), c.as_ptr(), default_quota, &mut id) })?;
        Ok(id)
    }

    /// Sets an agent's shares of the node's pools: at most
    /// `max_reservations` live reservations (with, from ABI 1.3, its share
    /// keys and attached handles) and `max_acl_entries` grants it owns; 0
    /// is the module's default.  Past its share a call fails with
    /// [`Error::ShareExhausted`].  A share lowered below what the agent
    /// holds takes nothing away.  Admin (ABI 1.2).
    pub fn set_agent_limits(&self, agent: AgentId, max_reservations: u32, max_acl_entries: u32) -> Result<()> {
        // SAFETY: a live handle.
        check(unsafe { sys::gdlock_agent_set_limits(self.g(), agent, max_reservations, max_acl_entries) }).map(drop)
    }

    /// Destroys an agent with its bindings and ACL entries; reservations it
    /// holds stay charged until released.  Admin.
    pub fn destroy_agent(&self, agent: AgentId) -> Result<()> {
        // SAFETY: a live handle.
        check(unsafe { sys::gdlock_agent_destroy(self.g(), agent) }).map(drop)
    }

    /// Every agent (admins), or the caller's own.
    pub fn agents(&self) -> Result<Vec<Agent>> {
        // SAFETY: see devices().
        let raw = list(|p, cap| unsafe { sys::gdlock_agent_list(self.g(), p, cap) })?;
        Ok(raw.iter().map(Agent::from).collect())
    }

    /// Every agent, then the destroyed ones that still hold memory, with
    /// [`Agent::destroyed`] set (ABI 1.4; admins).  An older module refuses
    /// with [`Error::InvalidArgument`].
    pub fn agents_including_destroyed(&self) -> Result<Vec<Agent>> {
        // SAFETY: see devices().
        let raw = list(|p, cap| unsafe { sys::gdlock_agent_list_flags(self.g(), sys::GDL_LIST_F_DESTROYED, p, cap) })?;
        Ok(raw.iter().map(Agent::from).collect())
    }

    /// Who holds memory: one [`Holder`] per handle of every open file of
    /// the device (`agent`: that agent's only), from
    /// `/proc/gpu_dma_lock/holders`.  An admin ends a destroyed agent's
    /// charge by ending the processes listed (`gpu-dma-lock-ctl holders
    /// --kill`).  Root: [`Error::PermissionDenied`] otherwise;
    /// [`Error::NotFound`] from a module without the table (before 0.5).
    pub fn holders(&self, agent: Option<AgentId>) -> Result<Vec<Holder>> {
        holders_at(Path::new(HOLDERS_PATH), agent)
    }

    /// The id of the agent called `name`.
    pub fn find_agent(&self, name: &str) -> Result<AgentId> {
        let c = name_arg(name)?;
        let mut id = 0u32;
        // SAFETY: c is a valid C string, id a valid out pointer.
        check(unsafe { sys::gdlock_agent_find(self.g(), c.as_ptr(), &mut id) })?;
        Ok(id)
    }

    /// Finds agent `name` or creates it (with nothing on any device), sets
    /// `quotas` in the order given (`(ALL_DEVICES, n)` first, then
    /// per-device exceptions) and binds `cgroup` if given.  Idempotent and
    /// safe against racing orchestrators; an agent this call created is
    /// destroyed again when a later step fails.  Admin.
    pub fn ensure_agent(&self, name: &str, quotas: &[(DeviceIndex, u64)], cgroup: Option<&Path>) -> Result<AgentId> {
        let c = name_arg(name)?;
        let cg = cgroup.map(path_arg).transpose()?;
        let q: Vec<sys::gdlock_ensure_quota> = quotas
            .iter()
            .map(|&(device, bytes)| sys::gdlock_ensure_quota { device, reserved: 0, bytes })
            .collect();
        let nq = c_uint::try_from(q.len()).map_err(|_| Error::InvalidArgument)?;
        let cgp = cg.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        let mut id = 0u32;
        // SAFETY: valid C strings (or NULL), q holds nq entries.
        check(unsafe { sys::gdlock_agent_ensure(self.g(), c.as_ptr(), q.as_ptr(), nq, cgp, &mut id) })?;
        Ok(id)
    }

    /// Destroys agent `name`; one that does not exist is success (a
    /// retire that runs twice, or late).  Admin.
    pub fn retire_agent(&self, name: &str) -> Result<()> {
        let c = name_arg(name)?;
        // SAFETY: a live handle and a valid C string.
        check(unsafe { sys::gdlock_agent_retire(self.g(), c.as_ptr()) }).map(drop)
    }

    /// Binds a process (by pid in the caller's namespace).  Admin.
    pub fn bind_pid(&self, agent: AgentId, pid: u32) -> Result<()> {
        let pid = sys::pid_t::try_from(pid).map_err(|_| Error::InvalidArgument)?;
        // SAFETY: a live handle.
        check(unsafe { sys::gdlock_bind_pid(self.g(), agent, pid) }).map(drop)
    }

    /// Unbinds a process, live or exited, by its number.  Admin.
    pub fn unbind_pid(&self, agent: AgentId, pid: u32) -> Result<()> {
        let pid = sys::pid_t::try_from(pid).map_err(|_| Error::InvalidArgument)?;
        // SAFETY: a live handle.
        check(unsafe { sys::gdlock_unbind_pid(self.g(), agent, pid) }).map(drop)
    }

    /// Binds a cgroup v2 directory: every process in it and below.  Admin.
    pub fn bind_cgroup<P: AsRef<Path>>(&self, agent: AgentId, path: P) -> Result<()> {
        let c = path_arg(path.as_ref())?;
        // SAFETY: a live handle and a valid C string.
        check(unsafe { sys::gdlock_bind_cgroup(self.g(), agent, c.as_ptr()) }).map(drop)
    }

    /// Unbinds a cgroup v2 directory.  Admin.
    pub fn unbind_cgroup<P: AsRef<Path>>(&self, agent: AgentId, path: P) -> Result<()> {
        let c = path_arg(path.as_ref())?;
        // SAFETY: a live handle and a valid C string.
        check(unsafe { sys::gdlock_unbind_cgroup(self.g(), agent, c.as_ptr()) }).map(drop)
    }

    /// Unbinds a cgroup by the id [`Ledger::bindings`] gives (one that was
    /// removed has no path left).  Admin.
    pub fn unbind_cgroup_id(&self, agent: AgentId, id: u64) -> Result<()> {
        // SAFETY: a live handle.
        check(unsafe { sys::gdlock_unbind_cgroup_id(self.g(), agent, id) }).map(drop)
    }

    /// The bindings of `agent`, or of every agent.  Admin.
    pub fn bindings(&self, agent: Option<AgentId>) -> Result<Vec<Binding>> {
        let filter = agent.unwrap_or(0);
        // SAFETY: see devices().
        let raw = list(|p, cap| unsafe { sys::gdlock_binding_list(self.g(), filter, p, cap) })?;
        Ok(raw.iter().map(Binding::from).collect())
    }

    /// Sets an agent's quota in bytes on a device, or on [`ALL_DEVICES`];
    /// [`UNLIMITED`] lifts it.  Admin.
    pub fn set_quota(&self, agent: AgentId, device: DeviceIndex, bytes: u64) -> Result<()> {
        // SAFETY: a live handle.
        check(unsafe { sys::gdlock_quota_set(self.g(), agent, device, bytes) }).map(drop)
    }

    /// An agent's quota and usage on a device; [`SELF_AGENT`] is the
    /// caller's own (another agent's needs admin).
    pub fn quota(&self, agent: AgentId, device: DeviceIndex) -> Result<Quota> {
        let mut q = sys::gdl_quota::default();
        // SAFETY: a live handle and a valid struct.
        check(unsafe { sys::gdlock_quota_get(self.g(), agent, device, &mut q) })?;
        Ok(Quota::from(&q))
    }

    /// [`Ledger::quota`] of any agent, also a destroyed one that still
    /// holds memory: what it holds on `device`, with [`Quota::destroyed`]
    /// (ABI 1.4; admins).  An older module: [`Error::InvalidArgument`].
    pub fn quota_including_destroyed(&self, agent: AgentId, device: DeviceIndex) -> Result<Quota> {
        let mut q = sys::gdl_quota::default();
        // SAFETY: a live handle and a valid struct.
        check(unsafe { sys::gdlock_quota_get_flags(self.g(), agent, device, sys::GDL_QUOTA_F_DESTROYED, &mut q) })?;
        Ok(Quota::from(&q))
    }

    fn reserve_raw(&self, r: &mut sys::gdl_reserve) -> Result<Reservation<'_>> {
        // SAFETY: a live handle and a valid struct.
        check(unsafe { sys::gdlock_reserve_ex(self.g(), r) })?;
        Ok(Reservation {
            held: Handle { ledger: self, handle: r.handle },
            device: r.dev_index,
            size: r.size,
            agent: r.agent_id,
            result: Verdict::from_raw(r.result),
        })
    }

    /// Charges `size` bytes on a device to the caller's agent; released
    /// when the returned [`Reservation`] drops.
    pub fn reserve(&self, device: DeviceIndex, size: u64) -> Result<Reservation<'_>> {
        let mut r = sys::gdl_reserve {
            dev_index: device,
            size,
            ..Default::default()
        };
        self.reserve_raw(&mut r)
    }

    /// Like [`Ledger::reserve`], for the device range `[addr, addr + size)`,
    /// which DMA checks then know as the caller's.
    pub fn reserve_at(&self, device: DeviceIndex, addr: u64, size: u64) -> Result<Reservation<'_>> {
        let mut r = sys::gdl_reserve {
            dev_index: device,
            flags: 0x1, // GDL_RESERVE_F_ADDR
            size,
            addr,
            ..Default::default()
        };
        self.reserve_raw(&mut r)
    }

    fn attach_raw(&self, call: impl FnOnce(*mut u64) -> i32) -> Result<Attachment<'_>> {
        let mut handle = 0u64;
        check(call(&mut handle))?;
        Ok(Attachment(Handle { ledger: self, handle }))
    }

    /// Gives this ledger its own handle on the reservation another process
    /// shared by `key` ([`Reservation::share`]), for reading and writing.
    /// The caller's agent must be the reserving one or hold its grant (or
    /// an admin entry) with read and write rights over the reservation's
    /// range, for a reservation without an address the whole device:
    /// otherwise [`Error::DmaDenied`].  An unknown key is
    /// [`Error::NotFound`].  The charge stays with the reserving agent and
    /// goes with the last handle, whichever ledger holds it (ABI 1.3).
    pub fn attach(&self, key: &[u8; SHARE_KEY_LEN]) -> Result<Attachment<'_>> {
        // SAFETY: a live handle; the key is SHARE_KEY_LEN readable bytes.
        self.attach_raw(|h| unsafe { sys::gdlock_reservation_attach(self.g(), key.as_ptr(), key.len(), h) })
    }

    /// Like [`Ledger::attach`], for the reservation shared by an open file
    /// ([`Reservation::share_fd`]): the same file, passed over a UNIX
    /// socket or inherited.
    pub fn attach_fd<F: AsFd>(&self, file: F) -> Result<Attachment<'_>> {
        let fd = file.as_fd().as_raw_fd();
        // SAFETY: a live handle; the kernel only looks the fd up.
        self.attach_raw(|h| unsafe { sys::gdlock_reservation_attach_fd(self.g(), fd, h) })
    }

    /// May the caller's agent access `[addr, addr + len)` on a device?
    /// `Ok` says why it may; [`Error::DmaDenied`] that it may not.
    pub fn dma_check(&self, device: DeviceIndex, addr: u64, len: u64, access: Access) -> Result<DmaAllowed> {
        let mut c = sys::gdl_dma_check {
            dev_index: device,
            access: access.bits(),
            addr,
            len,
            ..Default::default()
        };
        // SAFETY: a live handle and a valid struct.
        check(unsafe { sys::gdlock_dma_check_ex(self.g(), &mut c) })?;
        Ok(DmaAllowed {
            owner: c.owner_id,
            result: Verdict::from_raw(c.result),
        })
    }

    /// May the caller's agent DMA from `device` to `peer`?
    pub fn peer_check(&self, device: DeviceIndex, peer: DeviceIndex) -> Result<DmaAllowed> {
        let mut c = sys::gdl_dma_check {
            dev_index: device,
            peer_index: peer,
            access: Access::PEER.bits(),
            ..Default::default()
        };
        // SAFETY: a live handle and a valid struct.
        check(unsafe { sys::gdlock_dma_check_ex(self.g(), &mut c) })?;
        Ok(DmaAllowed {
            owner: c.owner_id,
            result: Verdict::from_raw(c.result),
        })
    }

    fn acl_batch(
        &self,
        entries: &[AclEntry],
        call: unsafe extern "C" fn(*mut sys::gdlock, *const sys::gdl_acl_entry, c_uint) -> i32,
    ) -> Result<()> {
        if entries.is_empty() || entries.len() > c_uint::MAX as usize {
            return Err(Error::InvalidArgument);
        }
        let raw: Vec<sys::gdl_acl_entry> = entries.iter().map(AclEntry::to_raw).collect();
        // SAFETY: raw holds exactly raw.len() entries.
        check(unsafe { call(self.g(), raw.as_ptr(), raw.len() as c_uint) }).map(drop)
    }

    /// Adds ACL entries, all or nothing.  Tenants may grant only their own
    /// reserved memory (`owner` set to their agent).
    pub fn acl_grant(&self, entries: &[AclEntry]) -> Result<()> {
        self.acl_batch(entries, sys::gdlock_acl_grant)
    }

    /// Removes exactly matching ACL entries, all or nothing.
    pub fn acl_revoke(&self, entries: &[AclEntry]) -> Result<()> {
        self.acl_batch(entries, sys::gdlock_acl_revoke)
    }

    /// The ACL entries where `agent` is grantee or owner (None: every one
    /// the caller may see).
    pub fn acl_list(&self, agent: Option<AgentId>) -> Result<Vec<AclEntry>> {
        let filter = agent.unwrap_or(0);
        // SAFETY: see devices().
        let raw = list(|p, cap| unsafe { sys::gdlock_acl_list(self.g(), filter, p, cap) })?;
        Ok(raw.iter().map(AclEntry::from_raw).collect())
    }

    /// Up to `max` events made since this ledger was opened, waiting up to
    /// `timeout` (None: for ever) for the first; empty on timeout.
    pub fn read_events(&self, max: usize, timeout: Option<std::time::Duration>) -> Result<Vec<Event>> {
        events::read(self, max, timeout)
    }

    /// A blocking iterator over this ledger's events.  Poll/epoll users
    /// watch [`AsRawFd::as_raw_fd`] for readability and call
    /// [`Ledger::read_events`] with a zero timeout instead.
    pub fn events(&self) -> Events<'_> {
        Events::new(self)
    }

    /// Drops a handle of this file, reserved or attached.
    fn release_handle(&self, handle: u64) -> Result<()> {
        // SAFETY: a live handle.
        check(unsafe { sys::gdlock_release(self.g(), handle) }).map(drop)
    }

    pub(crate) fn raw(&self) -> *mut sys::gdlock {
        self.g()
    }
}

impl AsRawFd for Ledger {
    fn as_raw_fd(&self) -> RawFd {
        // SAFETY: a live handle.
        unsafe { sys::gdlock_fd(self.g()) }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // SAFETY: the handle is live and never used again.
        unsafe { sys::gdlock_close(self.g()) }
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("fd", &self.as_raw_fd()).finish()
    }
}

/// Memory charged to the caller's agent on one device, released when
/// dropped (or by [`Reservation::release`], which reports errors).
#[derive(Debug)]
pub struct Reservation<'a> {
    held: Handle<'a>,
    device: DeviceIndex,
    size: u64,
    agent: AgentId,
    result: Verdict,
}

impl Reservation<'_> {
    /// The kernel's handle of the reservation (valid on its ledger only).
    pub fn handle(&self) -> u64 {
        self.held.handle
    }
    /// The device it is on.
    pub fn device(&self) -> DeviceIndex {
        self.device
    }
    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// The agent it is charged to.
    pub fn agent(&self) -> AgentId {
        self.agent
    }
    /// Why it passed: [`Verdict::Ok`], or [`Verdict::Audit`] when audit
    /// mode let through what would have been refused.
    pub fn verdict(&self) -> Verdict {
        self.result
    }

    /// Releases it now.
    pub fn release(self) -> Result<()> {
        self.held.release()
    }

    /// Keeps it charged until the ledger closes, returning its handle.
    pub fn keep(self) -> u64 {
        self.held.keep()
    }

    /// Names it by the 64 bytes of a capability another process also
    /// holds (a CUDA IPC handle, say), which [`Ledger::attach`] takes
    /// there.  All-zero bytes are [`Error::InvalidArgument`]; a key that
    /// already names another reservation is [`Error::Exists`] (the same
    /// one again changes nothing).  The key goes with the reservation, and
    /// counts against the agent's share of reservations
    /// ([`Error::ShareExhausted`]) (ABI 1.3).
    pub fn share(&self, key: &[u8; SHARE_KEY_LEN]) -> Result<()> {
        // SAFETY: a live ledger (the lifetime); SHARE_KEY_LEN readable bytes.
        check(unsafe { sys::gdlock_reservation_share(self.held.ledger.raw(), self.held.handle, key.as_ptr(), key.len()) }).map(drop)
    }

    /// Names it by an open file, a memfd or a character device (anything
    /// else is [`Error::InvalidArgument`]), which the importer receives
    /// over a UNIX socket or by inheritance and passes to
    /// [`Ledger::attach_fd`].  The key holds a reference to the file until
    /// the reservation goes (ABI 1.3).
    pub fn share_fd<F: AsFd>(&self, file: F) -> Result<()> {
        let fd = file.as_fd().as_raw_fd();
        // SAFETY: a live ledger (the lifetime); the kernel only looks the fd up.
        check(unsafe { sys::gdlock_reservation_share_fd(self.held.ledger.raw(), self.held.handle, fd) }).map(drop)
    }

}

/// A ledger's handle on a reservation another process shared
/// ([`Ledger::attach`]), dropped when this drops (or by
/// [`Attachment::release`], which reports errors).  The memory stays
/// charged to the reserving agent while any handle on it lives.
#[derive(Debug)]
pub struct Attachment<'a>(Handle<'a>);

impl Attachment<'_> {
    /// The kernel's handle (valid on its ledger only).
    pub fn handle(&self) -> u64 {
        self.0.handle
    }

    /// Drops the handle now.
    pub fn release(self) -> Result<()> {
        self.0.release()
    }

    /// Keeps the handle until the ledger closes, returning it.
    pub fn keep(self) -> u64 {
        self.0.keep()
    }
}

/// A handle of a ledger's file, reserved or attached, dropped when this
/// drops: what [`Reservation`] and [`Attachment`] hold.
#[derive(Debug)]
struct Handle<'a> {
    ledger: &'a Ledger,
    handle: u64,
}

impl Handle<'_> {
    fn release(self) -> Result<()> {
        let ret = self.ledger.release_handle(self.handle);
        std::mem::forget(self);
        ret
    }

    fn keep(self) -> u64 {
        let h = self.handle;
        std::mem::forget(self);
        h
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        // Nothing to report to: the kernel drops it at close anyway.
        let _ = self.ledger.release_handle(self.handle);
    }
}

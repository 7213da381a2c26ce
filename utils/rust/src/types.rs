// SPDX-License-Identifier: LGPL-2.1-or-later
//! Plain Rust views of the ABI's structs.

use crate::sys;
use crate::{c_name, AgentId, DeviceIndex, UNLIMITED};

/// The module's ABI version, limits and mode (GDL_IOC_VERSION).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// ABI major version (a change brings new command numbers).
    pub abi_major: u32,
    /// ABI minor version (1.1 added BIND_LIST).
    pub abi_minor: u32,
    /// The module's version string.
    pub module_version: String,
    /// Device slots.
    pub max_devices: u32,
    /// The module's max_agents.
    pub max_agents: u32,
    /// enforce=1; false in audit mode.
    pub enforcing: bool,
    /// default_policy=default: unbound callers get the default agent.
    pub default_allow: bool,
}

impl From<&sys::gdl_version> for Version {
    fn from(v: &sys::gdl_version) -> Version {
        Version {
            abi_major: v.abi_major,
            abi_minor: v.abi_minor,
            module_version: c_name(&v.module_version),
            max_devices: v.max_devices,
            max_agents: v.max_agents,
            enforcing: v.flags & sys::GDL_VERSION_F_ENFORCE != 0,
            default_allow: v.flags & sys::GDL_VERSION_F_DEFAULT_ALLOW != 0,
        }
    }
}

/// How the kernel resolved the caller's agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundBy {
    /// Unbound and default_policy=deny: no agent.
    None,
    /// A pid binding of the caller's process.
    Pid,
    /// A binding of the caller's cgroup or an ancestor.
    Cgroup,
    /// Unbound, accounted to the default agent.
    Default,
    /// A newer module's value.
    Unknown(u32),
}

/// The caller's agent (GDL_IOC_WHOAMI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whoami {
    /// The agent, 0 when `bound_by` is [`BoundBy::None`].
    pub agent: AgentId,
    /// How it was found.
    pub bound_by: BoundBy,
    /// The caller's pid in the initial pid namespace, as NVML names it
    /// (ABI 1.4; 0 from an older module).
    pub host_pid: u32,
}

impl From<&sys::gdl_whoami> for Whoami {
    fn from(w: &sys::gdl_whoami) -> Whoami {
        let bound_by = match w.bound_by {
            0 => BoundBy::None,
            1 => BoundBy::Pid,
            2 => BoundBy::Cgroup,
            3 => BoundBy::Default,
            n => BoundBy::Unknown(n),
        };
        Whoami {
            agent: w.agent_id,
            bound_by,
            host_pid: w.host_pid,
        }
    }
}

/// A managed device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its index, which every other call names it by.
    pub index: DeviceIndex,
    /// Its name.
    pub name: String,
    /// Discovered on the PCI bus (else declared by an admin).
    pub pci: bool,
    /// Left the PCI bus (ABI 1.3): no new reservations or DMA checks on it;
    /// its reservations stay until released.
    pub gone: bool,
    /// PCI domain.
    pub pci_domain: u32,
    /// PCI bus << 8 | devfn.
    pub pci_bdf: u32,
    /// PCI vendor id.
    pub vendor: u16,
    /// PCI device id.
    pub device: u16,
    /// Capacity in bytes; None when not set.
    pub capacity: Option<u64>,
    /// Bytes reserved now.
    pub used: u64,
    /// Most bytes ever reserved at once.
    pub peak: u64,
    /// Live reservations.
    pub reservations: u64,
    /// The UUID, all zero when unknown.
    pub uuid: [u8; 16],
}

impl From<&sys::gdl_device_info> for Device {
    fn from(d: &sys::gdl_device_info) -> Device {
        Device {
            index: d.index,
            name: c_name(&d.name),
            pci: d.flags & sys::GDL_DEV_F_PCI != 0,
            gone: d.flags & sys::GDL_DEV_F_GONE != 0,
            pci_domain: d.pci_domain,
            pci_bdf: d.pci_bdf,
            vendor: d.vendor,
            device: d.device,
            capacity: limit(d.capacity),
            used: d.used,
            peak: d.peak,
            reservations: d.nr_reservations,
            uuid: d.uuid,
        }
    }
}

fn limit(v: u64) -> Option<u64> {
    if v == UNLIMITED {
        None
    } else {
        Some(v)
    }
}

/// An agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Its id.
    pub id: AgentId,
    /// Its name.
    pub name: String,
    /// The default agent (unbound callers' account).
    pub is_default: bool,
    /// The quota it started with on every device; None: unlimited.
    pub default_quota: Option<u64>,
    /// How many bindings it has.
    pub bindings: u32,
    /// Its share of the node's reservations (ABI 1.2; 0 from an older module).
    pub max_reservations: u32,
    /// Its share of the node's grants (ABI 1.2; 0 from an older module).
    pub max_acl_entries: u32,
    /// Destroyed, but still charged for memory that open files hold; only
    /// [`crate::Ledger::agents_including_destroyed`] lists such (ABI 1.4).
    pub destroyed: bool,
}

impl From<&sys::gdl_agent_info> for Agent {
    fn from(a: &sys::gdl_agent_info) -> Agent {
        Agent {
            id: a.id,
            name: c_name(&a.name),
            is_default: a.flags & sys::GDL_AGENT_F_DEFAULT != 0,
            default_quota: limit(a.default_quota),
            bindings: a.nr_bindings,
            max_reservations: a.max_reservations,
            max_acl_entries: a.max_acl_entries,
            destroyed: a.flags & sys::GDL_AGENT_F_DESTROYED != 0,
        }
    }
}

/// What a binding binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindTarget {
    /// A process, by its number in the caller's pid namespace (0: none there).
    Pid(u32),
    /// A cgroup, by its id ([`crate::cgroup_id`] of its path).
    Cgroup(u64),
    /// A newer module's binding type.
    Unknown(u32, u64),
}

/// One binding (BIND_LIST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The agent bound to.
    pub agent: AgentId,
    /// The process or cgroup.
    pub target: BindTarget,
    /// A pid binding whose process has exited.
    pub exited: bool,
}

impl From<&sys::gdl_binding_info> for Binding {
    fn from(b: &sys::gdl_binding_info) -> Binding {
        let target = match b.type_ {
            sys::GDL_BIND_PID => BindTarget::Pid(b.target as u32),
            sys::GDL_BIND_CGROUP_FD => BindTarget::Cgroup(b.target),
            t => BindTarget::Unknown(t, b.target),
        };
        Binding {
            agent: b.agent_id,
            target,
            exited: b.flags & sys::GDL_BINDING_F_EXITED != 0,
        }
    }
}

/// An agent's account on one device (QUOTA_GET).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The agent.
    pub agent: AgentId,
    /// The device.
    pub device: DeviceIndex,
    /// Its quota in bytes; None: unlimited.
    pub quota: Option<u64>,
    /// Bytes reserved now.
    pub usage: u64,
    /// Most bytes reserved at once.
    pub peak: u64,
    /// Live reservations.
    pub reservations: u64,
    /// Reservations refused for quota.
    pub denied: u64,
    /// Usage is above a lowered quota.
    pub over: bool,
    /// The agent was destroyed and still holds this usage (ABI 1.4; see
    /// [`crate::Ledger::quota_including_destroyed`]).
    pub destroyed: bool,
}

impl Quota {
    /// Bytes the agent may still reserve on the device (capacity aside);
    /// None: no limit.
    pub fn available(&self) -> Option<u64> {
        self.quota.map(|q| q.saturating_sub(self.usage))
    }
}

impl From<&sys::gdl_quota> for Quota {
    fn from(q: &sys::gdl_quota) -> Quota {
        Quota {
            agent: q.agent_id,
            device: q.dev_index,
            quota: limit(q.quota),
            usage: q.usage,
            peak: q.peak,
            reservations: q.nr_reservations,
            denied: q.denied,
            over: q.flags & sys::GDL_QUOTA_F_OVER != 0,
            destroyed: q.flags & sys::GDL_QUOTA_F_DESTROYED != 0,
        }
    }
}

/// One handle of an open file of the device, as
/// `/proc/gpu_dma_lock/holders` shows it ([`crate::Ledger::holders`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The process that opened the file, in the caller's pid namespace;
    /// 0: it has exited, or has no number there.
    pub pid: i32,
    /// The agent charged.
    pub agent: AgentId,
    /// The handle, in that file.
    pub handle: u64,
    /// The device.
    pub device: DeviceIndex,
    /// Bytes.
    pub size: u64,
    /// The agent charged was destroyed.
    pub destroyed: bool,
    /// RESERVATION_ATTACH made it (a shared reservation's importer);
    /// else it is the reserver's own.
    pub attached: bool,
}

impl From<&sys::gdlock_holder> for Holder {
    fn from(h: &sys::gdlock_holder) -> Holder {
        Holder {
            pid: h.pid,
            agent: h.agent_id,
            handle: h.handle,
            device: h.dev_index,
            size: h.size,
            destroyed: h.flags & sys::GDLOCK_HOLDER_DESTROYED != 0,
            attached: h.flags & sys::GDLOCK_HOLDER_ATTACHED != 0,
        }
    }
}

/// Access rights: DMA checks and ACL entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access(u32);

impl Access {
    /// Read.
    pub const READ: Access = Access(0x1);
    /// Write.
    pub const WRITE: Access = Access(0x2);
    /// DMA between two devices.
    pub const PEER: Access = Access(0x4);
    /// Read and write.
    pub const RW: Access = Access(0x3);

    /// The ABI's GDL_ACCESS_* bits.
    pub fn bits(self) -> u32 {
        self.0
    }
    /// Rights from GDL_ACCESS_* bits (unknown bits kept: the kernel refuses them).
    pub fn from_bits(bits: u32) -> Access {
        Access(bits)
    }
    /// Whether every right of `other` is in `self`.
    pub fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Access {
    type Output = Access;
    fn bitor(self, o: Access) -> Access {
        Access(self.0 | o.0)
    }
}

/// Why a reservation or a DMA check passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within quota, or the caller's own reservation.
    Ok,
    /// DMA: a grant from the owning agent.
    Grant,
    /// DMA: an admin ACL entry.
    Acl,
    /// Audit mode (enforce=0): it would have been refused.
    Audit,
    /// A newer module's value.
    Unknown(u32),
}

impl Verdict {
    pub(crate) fn from_raw(r: u32) -> Verdict {
        match r {
            0 => Verdict::Ok,
            1 => Verdict::Grant,
            2 => Verdict::Acl,
            3 => Verdict::Audit,
            n => Verdict::Unknown(n),
        }
    }
}

/// A DMA check that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaAllowed {
    /// The agent owning the range, 0 if none.
    pub owner: AgentId,
    /// Why it is allowed.
    pub result: Verdict,
}

/// An ACL entry.  `owner` 0: an admin entry letting `agent` access the
/// range; otherwise a grant by `owner` of memory it reserved.  Peer
/// entries name a device pair and no range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AclEntry {
    /// The grantee.
    pub agent: AgentId,
    /// The granting owner, 0 for an admin entry.
    pub owner: AgentId,
    /// The device.
    pub device: DeviceIndex,
    /// The rights granted.
    pub rights: Access,
    /// With [`Access::PEER`]: the other device.
    pub peer: DeviceIndex,
    /// Start of the range.
    pub addr: u64,
    /// Length of the range.
    pub len: u64,
}

impl AclEntry {
    pub(crate) fn to_raw(&self) -> sys::gdl_acl_entry {
        sys::gdl_acl_entry {
            agent_id: self.agent,
            owner_id: self.owner,
            dev_index: self.device,
            rights: self.rights.bits(),
            peer_index: self.peer,
            addr: self.addr,
            len: self.len,
            ..Default::default()
        }
    }
    pub(crate) fn from_raw(e: &sys::gdl_acl_entry) -> AclEntry {
        AclEntry {
            agent: e.agent_id,
            owner: e.owner_id,
            device: e.dev_index,
            rights: Access::from_bits(e.rights),
            peer: e.peer_index,
            addr: e.addr,
            len: e.len,
        }
    }
}

/// The ledger's counters (GDL_IOC_STATS), by `enum gdl_stat` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Every counter the module reports, by index.
    pub counters: Vec<u64>,
}

/// The names of `enum gdl_stat`, in order.
pub const STAT_NAMES: [&str; 15] = [
    "ioctls",
    "reserve_ok",
    "reserve_denied_quota",
    "reserve_denied_capacity",
    "releases",
    "dma_allowed",
    "dma_denied",
    "audit_overrides",
    "no_agent",
    "live_agents",
    "live_reservations",
    "live_acl_entries",
    "live_files",
    "live_devices",
    "ledger_consistent",
];

impl Stats {
    /// A counter by its name in [`STAT_NAMES`]; None if this module lacks it.
    pub fn get(&self, name: &str) -> Option<u64> {
        let i = STAT_NAMES.iter().position(|&n| n == name)?;
        self.counters.get(i).copied()
    }
    /// Whether usage equals the sum of reservations everywhere.
    pub fn consistent(&self) -> bool {
        self.get("ledger_consistent") == Some(1)
    }
}

impl From<&sys::gdl_stats> for Stats {
    fn from(s: &sys::gdl_stats) -> Stats {
        let n = (s.nr_counters as usize).min(s.counters.len());
        Stats {
            counters: s.counters[..n].to_vec(),
        }
    }
}

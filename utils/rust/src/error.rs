// SPDX-License-Identifier: LGPL-2.1-or-later
//! Errors: one variant per errno meaning of `docs/abi.md`, each with a
//! text that says what to do about it.

use std::fmt;

/// Linux errno values (the same on every architecture this module builds
/// for; `tests/layout.rs` checks them against the C headers).
pub mod errno {
    #![allow(missing_docs)]
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const EIO: i32 = 5;
    pub const E2BIG: i32 = 7;
    pub const EBADF: i32 = 9;
    pub const EAGAIN: i32 = 11;
    pub const ENOMEM: i32 = 12;
    pub const EACCES: i32 = 13;
    pub const EFAULT: i32 = 14;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const ENODEV: i32 = 19;
    pub const EINVAL: i32 = 22;
    pub const ENOTTY: i32 = 25;
    pub const ENOSPC: i32 = 28;
    pub const ERANGE: i32 = 34;
    pub const ENOLINK: i32 = 67;
    pub const EOVERFLOW: i32 = 75;
    pub const ENOTUNIQ: i32 = 76;
    pub const EBADFD: i32 = 77;
    pub const EUSERS: i32 = 87;
    pub const EADDRINUSE: i32 = 98;
    pub const EMFILE: i32 = 24;
    pub const ENOBUFS: i32 = 105;
    pub const EDQUOT: i32 = 122;
}

/// What went wrong, by the meaning the ABI gives each errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `/dev/gpu_dma_lock` does not exist: the module is not loaded.
    NotLoaded,
    /// ENOTTY: the module does not know the command (an older module).
    NotSupported,
    /// EINVAL: a malformed field, name, flag or size.
    InvalidArgument,
    /// E2BIG: fields this module does not know, or a batch above its limit.
    TooBig,
    /// EFAULT: a bad user pointer.
    BadAddress,
    /// EOVERFLOW: an address range or a total past 64 bits.
    Overflow,
    /// EPERM: needs CAP_SYS_ADMIN, or the target is another agent's.
    PermissionDenied,
    /// ENOLINK: the caller is bound to no agent and default_policy=deny.
    NoAgent,
    /// ESRCH: the caller's agent was destroyed, or no such process.
    AgentGone,
    /// ENOENT: no such agent, handle, binding, ACL entry or share key.
    NotFound,
    /// ENODEV: no such device (or peer) index.
    NoDevice,
    /// EEXIST: the name, PCI address or binding is taken, or the share key
    /// names another reservation.
    Exists,
    /// EBUSY: the device has reservations, or the target is the default agent.
    Busy,
    /// EDQUOT: the agent's quota on the device would be exceeded.
    QuotaExceeded,
    /// ENOSPC: the device's capacity would be exceeded, or no device slot.
    CapacityExceeded,
    /// EADDRINUSE: the range overlaps a live reservation on the device.
    AddressInUse,
    /// EACCES: DMA denied, or an attach to another agent's memory without
    /// its grant (ABI 1.3).
    DmaDenied,
    /// EUSERS: max_agents reached.
    TooManyAgents,
    /// ENOBUFS: max_reservations or max_acl_entries reached.
    TooManyEntries,
    /// EMFILE: the agent's own share of those pools is used up (ABI 1.2;
    /// from ABI 1.3 share keys and attached handles count too).
    ShareExhausted,
    /// EBADF: the cgroup path is not a cgroup v2 directory, or a share key's
    /// fd is not an open file.
    NotCgroup,
    /// EBADFD: a share key's fd is an open file that cannot be a key: not
    /// a shmem file (memfd), nor a device of `share_key_majors`.
    NotAKeyFile,
    /// ENOTUNIQ (ABI 1.4): several agents filed this share key, and the
    /// caller may use more than one's memory: attach naming what was
    /// imported (its device).
    KeyNotUnique,
    /// ENOMEM: out of memory (nothing changed).
    OutOfMemory,
    /// EIO: the file is not a gpu_dma_lock event channel.
    NotEventChannel,
    /// ERANGE: a size text above 2^64 - 1 bytes ([`crate::parse_size`]).
    SizeOutOfRange,
    /// Any other errno (from opening a path, say).
    Os(i32),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error for a positive or negative errno.
    pub fn from_errno(err: i32) -> Error {
        use errno::*;
        match err.abs() {
            ENOTTY => Error::NotSupported,
            EINVAL => Error::InvalidArgument,
            E2BIG => Error::TooBig,
            EFAULT => Error::BadAddress,
            EOVERFLOW => Error::Overflow,
            EPERM => Error::PermissionDenied,
            ENOLINK => Error::NoAgent,
            ESRCH => Error::AgentGone,
            ENOENT => Error::NotFound,
            ENODEV => Error::NoDevice,
            EEXIST => Error::Exists,
            EBUSY => Error::Busy,
            EDQUOT => Error::QuotaExceeded,
            ENOSPC => Error::CapacityExceeded,
            EADDRINUSE => Error::AddressInUse,
            EACCES => Error::DmaDenied,
            EUSERS => Error::TooManyAgents,
            ENOBUFS => Error::TooManyEntries,
            EMFILE => Error::ShareExhausted,
            EBADF => Error::NotCgroup,
            EBADFD => Error::NotAKeyFile,
            ENOTUNIQ => Error::KeyNotUnique,
            ENOMEM => Error::OutOfMemory,
            EIO => Error::NotEventChannel,
            ERANGE => Error::SizeOutOfRange,
            e => Error::Os(e),
        }
    }

    /// The (positive) errno this error stands for.
    pub fn errno(&self) -> i32 {
        use errno::*;
        match *self {
            Error::NotLoaded => ENOENT,
            Error::NotSupported => ENOTTY,
            Error::InvalidArgument => EINVAL,
            Error::TooBig => E2BIG,
            Error::BadAddress => EFAULT,
            Error::Overflow => EOVERFLOW,
            Error::PermissionDenied => EPERM,
            Error::NoAgent => ENOLINK,
            Error::AgentGone => ESRCH,
            Error::NotFound => ENOENT,
            Error::NoDevice => ENODEV,
            Error::Exists => EEXIST,
            Error::Busy => EBUSY,
            Error::QuotaExceeded => EDQUOT,
            Error::CapacityExceeded => ENOSPC,
            Error::AddressInUse => EADDRINUSE,
            Error::DmaDenied => EACCES,
            Error::TooManyAgents => EUSERS,
            Error::TooManyEntries => ENOBUFS,
            Error::ShareExhausted => EMFILE,
            Error::NotCgroup => EBADF,
            Error::NotAKeyFile => EBADFD,
            Error::KeyNotUnique => ENOTUNIQ,
            Error::OutOfMemory => ENOMEM,
            Error::NotEventChannel => EIO,
            Error::SizeOutOfRange => ERANGE,
            Error::Os(e) => e,
        }
    }

    /// What the error means, and what to do about it.
    fn advice(&self) -> &'static str {
        match *self {
            Error::NotLoaded => "/dev/gpu_dma_lock does not exist: the gpu_dma_lock module is not loaded (run gpu-dma-lock-ctl load)",
            Error::NotSupported => "the loaded gpu_dma_lock module does not know this command: upgrade the module (gpu-dma-lock-ctl status shows its version)",
            Error::InvalidArgument => "invalid argument: a name must be 1 to 31 bytes, sizes non-zero, flags and rights known ones",
            Error::TooBig => "request too large for this module: fewer entries per batch (at most 4096), or a newer module",
            Error::BadAddress => "bad address passed to the kernel: a bug in the caller or the library",
            Error::Overflow => "address + size does not fit in 64 bits: check the range",
            Error::PermissionDenied => "not permitted: this needs root (CAP_SYS_ADMIN), or the target belongs to another agent",
            Error::NoAgent => "this process is bound to no agent and default_policy=deny: bind its cgroup or pid to an agent first",
            Error::AgentGone => "the agent was destroyed, or the process to bind does not exist: look the agent up again",
            Error::NotFound => "no such agent, handle, binding, ACL entry or share key: list them to see what exists",
            Error::NoDevice => "no such device index: list the devices to see the valid indexes",
            Error::Exists => "already exists: the name, PCI address or binding is taken, or the share key names another reservation (destroy or pick another)",
            Error::Busy => "in use: the device still has reservations, or the target is the default agent",
            Error::QuotaExceeded => "the agent's quota on this device would be exceeded: release reservations, ask for less, or have an admin raise the quota",
            Error::CapacityExceeded => "the device's capacity would be exceeded (or all device slots are used): wait for others to release memory",
            Error::AddressInUse => "the address range overlaps a live reservation on this device: pick another range",
            Error::DmaDenied => "DMA denied (or attach refused): reserve the range first, or get a grant from its owner or an admin ACL entry",
            Error::TooManyAgents => "max_agents reached: destroy unused agents, or load the module with a higher max_agents",
            Error::TooManyEntries => "max_reservations or max_acl_entries reached: release or revoke some, or raise the module parameter",
            Error::ShareExhausted => "the agent's own share of reservations (with share keys and attached handles) or grants is used up: release or revoke some, or have an admin raise its limits",
            Error::NotCgroup => "not a cgroup v2 directory (pass a directory under /sys/fs/cgroup), or a share key's fd is not an open file",
            Error::NotAKeyFile => "this file cannot be a shared-reservation key: use a memfd or a file in /dev/shm, or a device the admin allowed in share_key_majors",
            Error::KeyNotUnique => "several agents filed this share key: attach naming the device of the memory imported",
            Error::OutOfMemory => "the kernel is out of memory; nothing changed: retry later",
            Error::NotEventChannel => "the file is not a gpu_dma_lock event channel: open /dev/gpu_dma_lock",
            Error::SizeOutOfRange => "size out of range: at most 2^64 - 1 bytes",
            Error::Os(_) => "system error",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Os(e) => write!(f, "{}", std::io::Error::from_raw_os_error(e)),
            Error::NotLoaded => f.write_str(self.advice()),
            _ => write!(f, "{} ({})", self.advice(), errno_name(self.errno())),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::new(std::io::Error::from_raw_os_error(e.errno()).kind(), e)
    }
}

/// The symbolic name of an errno the ABI uses ("EDQUOT").
pub fn errno_name(err: i32) -> &'static str {
    use errno::*;
    match err.abs() {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EIO => "EIO",
        E2BIG => "E2BIG",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        ENODEV => "ENODEV",
        EINVAL => "EINVAL",
        ENOTTY => "ENOTTY",
        ENOSPC => "ENOSPC",
        ERANGE => "ERANGE",
        ENOLINK => "ENOLINK",
        EOVERFLOW => "EOVERFLOW",
        EBADFD => "EBADFD",
        ENOTUNIQ => "ENOTUNIQ",
        EUSERS => "EUSERS",
        EADDRINUSE => "EADDRINUSE",
        ENOBUFS => "ENOBUFS",
        EMFILE => "EMFILE",
        EDQUOT => "EDQUOT",
        _ => "errno",
    }
}

/// 0 or a count from the C library, or its negative errno as an Error.
pub(crate) fn check(ret: i32) -> Result<u32> {
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(ret as u32)
    }
}

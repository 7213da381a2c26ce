# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions: one class per errno meaning of docs/abi.md, each an OSError
whose text says what to do."""

import errno as _errno


class Error(OSError):
    """A gpu-dma-lock call failed.  ``errno`` is the kernel's errno."""
    errno_value = 0
    advice = "system error"

    def __init__(self, detail=None):
        text = self.advice
        if self.errno_value:
            text += " (%s)" % _errno.errorcode[self.errno_value]
        if detail:
            text = "%s: %s" % (detail, text)
        super().__init__(self.errno_value, text)


def _error(name, code, advice, doc):
    cls = type(name, (Error,), {"errno_value": code, "advice": advice,
                                "__doc__": doc})
    globals()[name] = cls
    return cls


# errno: (class, meaning as docs/abi.md gives it, what to do)
_TABLE = [
    (_errno.ENOTTY, "NotSupported", "the module does not know the command",
     "the loaded gpu_dma_lock module does not know this command: upgrade "
     "the module (gpu-dma-lock-ctl status shows its version)"),
    (_errno.EINVAL, "InvalidArgument", "a malformed field, name, flag or size",
     "invalid argument: a name must be 1 to 31 bytes, sizes non-zero, "
     "flags and rights known ones"),
    (_errno.E2BIG, "TooBig", "fields the module does not know, or a batch "
     "above its limit", "request too large for this module: fewer entries "
     "per batch (at most 4096), or a newer module"),
    (_errno.EFAULT, "BadAddress", "a bad user pointer",
     "bad address passed to the kernel: a bug in the caller or the library"),
    (_errno.EOVERFLOW, "Overflow", "a range or total past 64 bits",
     "address + size does not fit in 64 bits: check the range"),
    (_errno.EPERM, "PermissionDenied", "needs CAP_SYS_ADMIN, or the target "
     "is another agent's", "not permitted: this needs root (CAP_SYS_ADMIN), "
     "or the target belongs to another agent"),
    (_errno.ENOLINK, "NoAgent", "the caller is bound to no agent",
     "this process is bound to no agent and default_policy=deny: bind its "
     "cgroup or pid to an agent first"),
    (_errno.ESRCH, "AgentGone", "the caller's agent was destroyed, or no "
     "such process", "the agent was destroyed, or the process to bind does "
     "not exist: look the agent up again"),
    (_errno.ENOENT, "NotFound", "no such agent, handle, binding, ACL entry "
     "or share key", "no such agent, handle, binding, ACL entry or share "
     "key: list them to see what exists"),
    (_errno.ENODEV, "NoDevice", "no such device index",
     "no such device index: list the devices to see the valid indexes"),
    (_errno.EEXIST, "Exists", "the name, PCI address or binding is taken, "
     "or the share key names another reservation", "already exists: the "
     "name, PCI address or binding is taken, or the share key names another "
     "reservation (destroy or pick another)"),
    (_errno.EBUSY, "Busy", "the device has reservations, or the target is "
     "the default agent", "in use: the device still has reservations, or "
     "the target is the default agent"),
    (_errno.EDQUOT, "QuotaExceeded", "the agent's quota would be exceeded",
     "the agent's quota on this device would be exceeded: release "
     "reservations, ask for less, or have an admin raise the quota"),
    (_errno.ENOSPC, "CapacityExceeded", "the device's capacity would be "
     "exceeded", "the device's capacity would be exceeded (or all device "
     "slots are used): wait for others to release memory"),
    (_errno.EADDRINUSE, "AddressInUse", "the range overlaps a live "
     "reservation", "the address range overlaps a live reservation on this "
     "device: pick another range"),
    (_errno.EACCES, "DmaDenied", "DMA denied, or an attach to another "
     "agent's memory without its grant", "DMA denied (or attach refused): "
     "reserve the range first, or get a grant from its owner or an admin ACL "
     "entry"),
    (_errno.EUSERS, "TooManyAgents", "max_agents reached",
     "max_agents reached: destroy unused agents, or load the module with a "
     "higher max_agents"),
    (_errno.ENOBUFS, "TooManyEntries", "max_reservations or max_acl_entries "
     "reached", "max_reservations or max_acl_entries reached: release or "
     "revoke some, or raise the module parameter"),
    (_errno.EMFILE, "ShareExhausted", "the agent's own share of "
     "reservations (with share keys and attached handles) or grants is used "
     "up", "the agent's own share of reservations (with share keys and "
     "attached handles) or grants is used up: release or revoke some, or "
     "have an admin raise its limits"),
    (_errno.EBADF, "NotCgroup", "not a cgroup v2 directory, or a share "
     "key's fd is not an open file", "not a cgroup v2 directory (pass a "
     "directory under /sys/fs/cgroup), or a share key's fd is not an open "
     "file"),
    (_errno.EBADFD, "NotAKeyFile", "a share key's fd is an open file that "
     "cannot be a key", "this file cannot be a shared-reservation key: use "
     "a memfd or a file in /dev/shm, or a device the admin allowed in "
     "share_key_majors"),
    (_errno.ENOTUNIQ, "KeyNotUnique", "several agents filed this share "
     "key (ABI 1.4)", "several agents filed this share key: attach naming "
     "the device of the memory imported"),
    (_errno.ENOMEM, "OutOfMemory", "the kernel is out of memory",
     "the kernel is out of memory; nothing changed: retry later"),
    (_errno.EIO, "NotEventChannel", "not a gpu_dma_lock event channel",
     "the file is not a gpu_dma_lock event channel: open /dev/gpu_dma_lock"),
    (_errno.ERANGE, "SizeOutOfRange", "a size above 2^64 - 1 bytes",
     "size out of range: at most 2^64 - 1 bytes"),
]

BY_ERRNO = {code: _error(name, code, advice, "%s (%s)." % (
    meaning[0].upper() + meaning[1:], _errno.errorcode[code]))
    for code, name, meaning, advice in _TABLE}


class NotLoaded(Error):
    """/dev/gpu_dma_lock does not exist: the module is not loaded."""
    errno_value = _errno.ENOENT
    advice = ("/dev/gpu_dma_lock does not exist: the gpu_dma_lock module is "
              "not loaded (run gpu-dma-lock-ctl load)")


class LedgerClosed(Error):
    """The ledger was closed; open a new one."""
    errno_value = _errno.EBADF
    advice = "the ledger is closed: open a new one"


def from_errno(err, detail=None):
    """The exception for a (positive or negative) errno."""
    err = abs(err)
    cls = BY_ERRNO.get(err)
    if cls is None:
        e = Error(detail)
        e.errno = err
        e.strerror = _errno.errorcode.get(err, str(err))
        return e
    return cls(detail)

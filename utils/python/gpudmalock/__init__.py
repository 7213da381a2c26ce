# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python bindings to libgpudmalock: per-agent GPU memory quotas and DMA
access lists kept by the gpu_dma_lock kernel module (/dev/gpu_dma_lock).

A Ledger is one open file of the device.  Admin calls (agents, bindings,
quotas, others' ACL entries) need CAP_SYS_ADMIN; every other call acts on
the agent the kernel resolves for the calling process.  Reservations
belong to the ledger that made them; the kernel releases what is left
when it is closed or the process dies.

An orchestrator, as root::

    import gpudmalock
    with gpudmalock.Ledger() as led:
        agent = led.create_agent("job-42")
        led.bind_cgroup(agent, "/sys/fs/cgroup/job-42")
        led.set_quota(agent, gpudmalock.ALL_DEVICES, 8 << 30)

A job sizing its batch to what it may use::

    with gpudmalock.Ledger() as led:
        free = led.quota().available      # bytes left on device 0
        with led.reserve(0, batch_bytes):
            ...

Errors are gpudmalock.Error subclasses (OSError), one per errno meaning:
QuotaExceeded (EDQUOT), PermissionDenied (EPERM), NoDevice (ENODEV), ...
"""

import ctypes
import errno as _errno
import os
from collections import namedtuple

from . import _abi
from .errors import Error, NotLoaded, LedgerClosed, from_errno, BY_ERRNO

# QuotaExceeded, PermissionDenied, ...: gpudmalock.errors makes them.
globals().update({cls.__name__: cls for cls in BY_ERRNO.values()})
_InvalidArgument = BY_ERRNO[_errno.EINVAL]

__all__ = ["Ledger", "Reservation", "Attachment", "Error", "NotLoaded",
           "LedgerClosed",
           "UNLIMITED", "ALL_DEVICES", "SELF", "NAME_MAX", "DEVICE_PATH",
           "READ", "WRITE", "PEER", "parse_size", "cgroup_id", "Version",
           "Whoami", "Device", "Agent", "Binding", "Quota", "AclEntry",
           "DmaAllowed", "Event", "Holder", "SHARE_KEY_LEN", "HOLDERS_PATH"]
__all__ += [c.__name__ for c in BY_ERRNO.values()]

UNLIMITED = (1 << 64) - 1
"""A quota of no limit."""
ALL_DEVICES = (1 << 32) - 1
"""Every device, for Ledger.set_quota()."""
SELF = 0
"""The caller's own agent, for Ledger.quota()."""
NAME_MAX = _abi.NAME_LEN - 1
"""The longest agent name, in bytes."""
DEVICE_PATH = "/dev/gpu_dma_lock"
HOLDERS_PATH = "/proc/gpu_dma_lock/holders"
"""Who holds memory: the table Ledger.holders() reads (root only)."""
SHARE_KEY_LEN = 64
"""The length of a share key's bytes (Reservation.share, Ledger.attach)."""
READ, WRITE, PEER = 0x1, 0x2, 0x4
"""Access rights (GDL_ACCESS_*), for dma_check() and ACL entries."""

BOUND_BY = {0: "none", 1: "pid", 2: "cgroup", 3: "default"}
VERDICTS = {0: "ok", 1: "grant", 2: "acl", 3: "audit"}
EVENT_KINDS = {1: "quota_exceeded", 2: "capacity_exceeded", 3: "dma_denied",
               4: "agent_destroyed", 5: "lost", 6: "device_gone",
               7: "device_back"}
STAT_NAMES = ("ioctls", "reserve_ok", "reserve_denied_quota",
              "reserve_denied_capacity", "releases", "dma_allowed",
              "dma_denied", "audit_overrides", "no_agent", "live_agents",
              "live_reservations", "live_acl_entries", "live_files",
              "live_devices", "ledger_consistent")

Version = namedtuple("Version", "abi_major abi_minor module_version "
                     "max_devices max_agents enforcing default_allow")
Whoami = namedtuple("Whoami", "agent bound_by host_pid", defaults=(0,))
Device = namedtuple("Device", "index name pci vendor device capacity used "
                    "peak reservations gone", defaults=(False,))
Agent = namedtuple("Agent", "id name is_default default_quota bindings "
                   "max_reservations max_acl_entries destroyed",
                   defaults=(False,))
Binding = namedtuple("Binding", "agent type target exited")
AclEntry = namedtuple("AclEntry", "agent owner device rights peer addr len",
                      defaults=(0, 0, 0, 0, 0))
DmaAllowed = namedtuple("DmaAllowed", "owner result")
Event = namedtuple("Event", "seq time_ns kind audit agent device pid access "
                   "value value2")
Holder = namedtuple("Holder", "pid agent handle device size destroyed "
                    "attached")
Holder.__doc__ = """One handle of an open file of the device: the pid that opened
the file (0: it has exited, or is outside this pid namespace), the agent
charged and whether it was destroyed, the handle, device and size, and
whether RESERVATION_ATTACH made it (else it is the reserver's own)."""


class Quota(namedtuple("Quota", "agent device quota usage peak reservations "
                       "denied over destroyed", defaults=(False,))):
    """An agent's account on one device; quota None means unlimited;
    destroyed: the agent was destroyed and still holds this (ABI 1.4)."""
    __slots__ = ()

    @property
    def available(self):
        """Bytes the agent may still reserve here (None: no limit)."""
        return None if self.quota is None else max(self.quota - self.usage, 0)


_lib = None


def _c():
    global _lib
    if _lib is None:
        _lib = _abi.load()
    return _lib


def _check(ret, detail=None):
    if ret < 0:
        raise from_errno(ret, detail)
    return ret


def _limit(v):
    return None if v == UNLIMITED else v


def _text(raw):
    return raw.decode("utf-8", "replace")


def _bytes(s, what="name"):
    b = os.fsencode(s)
    if b"\0" in b:
        raise _InvalidArgument("%s contains a NUL byte" % what)
    return b


def _int(v, bits, what):
    """V as an unsigned BITS-bit argument; InvalidArgument otherwise (ctypes
    would silently wrap -1 into UNLIMITED)."""
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 1 << bits:
        raise _InvalidArgument(
            "%s %r: not an unsigned %d-bit integer" % (what, v, bits))
    return v


def _u32(v, what="id"):
    return _int(v, 32, what)


def _u64(v, what="size"):
    return _int(v, 64, what)


def _name(name):
    b = _bytes(name)
    if not 0 < len(b) <= NAME_MAX:
        raise _InvalidArgument(
            "agent name %r: 1 to %d bytes" % (name, NAME_MAX))
    return b


class _BadKey(_InvalidArgument, ValueError):
    """A share key that is not SHARE_KEY_LEN bytes: InvalidArgument, and a
    ValueError as Python code expects of a bad value."""


def _share_key(key):
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise _BadKey("share key: bytes, not %s" % type(key).__name__)
    key = bytes(key)
    if len(key) != SHARE_KEY_LEN:
        raise _BadKey("share key: exactly %d bytes, not %d"
                      % (SHARE_KEY_LEN, len(key)))
    return key


def _fd(f):
    """An int fd, or the fileno() of a file object."""
    fd = f.fileno() if hasattr(f, "fileno") else f
    return _int(fd, 31, "fd")


def parse_size(text):
    """Bytes in a size such as "64M", "1G" or "unlimited" (powers of 1024)."""
    v = _abi.u64()
    _check(_c().gdlock_parse_size(_bytes(text, "size"), ctypes.byref(v)),
           "size %r" % text)
    return v.value


def cgroup_id(path):
    """The id Ledger.bindings() reports for a cgroup v2 directory."""
    v = _abi.u64()
    _check(_c().gdlock_cgroup_id(_bytes(path, "path"), ctypes.byref(v)),
           str(path))
    return v.value


class Ledger:
    """One open file of /dev/gpu_dma_lock; a context manager that closes it.

    Ledger() raises NotLoaded when the module is not loaded.  Calls may be
    made from several threads at once.
    """

    def __init__(self, path=DEVICE_PATH):
        h = ctypes.c_void_p()
        ret = _c().gdlock_open_path(_bytes(path, "path"), ctypes.byref(h))
        if ret == -2 and path == DEVICE_PATH:
            raise NotLoaded()
        _check(ret, str(path))
        self._h = h

    def close(self):
        """Closes the file; the kernel releases what it still holds."""
        h, self._h = getattr(self, "_h", None), None
        # _lib is None only at interpreter exit, where the kernel closes it.
        if h and _lib is not None:
            _lib.gdlock_close(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def closed(self):
        """Whether close() was called."""
        return not self._h

    def _g(self):
        if not self._h:
            raise LedgerClosed()
        return self._h

    def fileno(self):
        """The device file's descriptor, for select/poll/epoll on events."""
        return _check(_c().gdlock_fd(self._g()))

    def _list(self, fn, struct, *pre):
        g = self._g()
        want = _check(fn(g, *pre, None, 0))
        while True:
            cap = want + 8
            buf = (struct * cap)()
            n = _check(fn(g, *pre, buf, cap))
            if n <= cap:
                return buf[:n]
            want = n

    def version(self):
        """The module's ABI and version, limits and mode: a Version."""
        v = _abi.gdl_version()
        _check(_c().gdlock_version(self._g(), ctypes.byref(v)))
        return Version(v.abi_major, v.abi_minor, _text(v.module_version),
                       v.max_devices, v.max_agents, bool(v.flags & 1),
                       bool(v.flags & 2))

    def whoami(self):
        """The caller's agent and how the kernel found it ("pid",
        "cgroup", "default", or "none" with agent 0), and its pid in the
        initial pid namespace (host_pid, ABI 1.4; 0 from older modules)."""
        w = _abi.gdl_whoami()
        _check(_c().gdlock_whoami(self._g(), ctypes.byref(w)))
        return Whoami(w.agent_id, BOUND_BY.get(w.bound_by, w.bound_by),
                      w.host_pid)

    def devices(self):
        """The managed devices: a list of Device (capacity None: unset;
        gone: left the PCI bus, ABI 1.3)."""
        return [Device(d.index, _text(d.name),
                       bool(d.flags & _abi.DEV_F_PCI), d.vendor, d.device,
                       _limit(d.capacity), d.used, d.peak, d.nr_reservations,
                       bool(d.flags & _abi.DEV_F_GONE))
                for d in self._list(_c().gdlock_device_list,
                                    _abi.gdl_device_info)]

    def stats(self):
        """The ledger's counters by name (STAT_NAMES), as a dict."""
        s = _abi.gdl_stats()
        _check(_c().gdlock_stats(self._g(), ctypes.byref(s)))
        n = min(s.nr_counters, len(s.counters))
        return {STAT_NAMES[i] if i < len(STAT_NAMES) else "counter%d" % i:
                s.counters[i] for i in range(n)}

    def create_agent(self, name, default_quota=0):
        """Creates agent NAME (1 to 31 bytes) with DEFAULT_QUOTA bytes on
        every device (0: nothing until a quota is set); returns its id.
        Admin."""
        i = _abi.u32()
        _check(_c().gdlock_agent_create(self._g(), _name(name),
                                        _u64(default_quota, "quota"), ctypes.byref(i)),
               "agent %r" % name)
        return i.value

    def destroy_agent(self, agent):
        """Destroys an agent, its bindings and ACL entries.  Admin."""
        _check(_c().gdlock_agent_destroy(self._g(), _u32(agent)))

    def set_agent_limits(self, agent, max_reservations=0, max_acl_entries=0):
        """Sets AGENT's shares of the node's pools: at most MAX_RESERVATIONS
        live reservations (with, from ABI 1.3, its share keys and attached
        handles) and MAX_ACL_ENTRIES grants it owns; 0 is the module's
        default.  Past its share a call raises ShareExhausted.  Admin."""
        _check(_c().gdlock_agent_set_limits(
            self._g(), _u32(agent), _u32(max_reservations, "max_reservations"),
            _u32(max_acl_entries, "max_acl_entries")))

    def agents(self, destroyed=False):
        """Every agent (admins) or the caller's own: a list of Agent.  With
        DESTROYED (ABI 1.4, admins), after the live agents also the ones
        destroyed that still hold memory, with destroyed True; an older
        module raises InvalidArgument."""
        if destroyed:
            raw = self._list(_c().gdlock_agent_list_flags, _abi.gdl_agent_info,
                             _abi.LIST_F_DESTROYED)
        else:
            raw = self._list(_c().gdlock_agent_list, _abi.gdl_agent_info)
        return [Agent(a.id, _text(a.name), bool(a.flags & 1),
                      _limit(a.default_quota), a.nr_bindings,
                      a.max_reservations, a.max_acl_entries,
                      bool(a.flags & _abi.AGENT_F_DESTROYED))
                for a in raw]

    def holders(self, agent=None, path=HOLDERS_PATH):
        """Who holds memory: a list of Holder, one per handle of every open
        file of the device (AGENT: that agent's only), from PATH.  An admin
        ends a destroyed agent's charge by ending the processes listed
        (gpu-dma-lock-ctl holders --kill).  Root: PermissionDenied
        otherwise; NotFound for a module without the table (before 0.5)."""
        lib = _c()
        raw = _bytes(path, "path")
        want = _check(lib.gdlock_holders(raw, None, 0), path)
        while True:
            cap = want + 8
            buf = (_abi.gdlock_holder * cap)()
            n = _check(lib.gdlock_holders(raw, buf, cap), path)
            if n <= cap:
                break
            want = n
        return [Holder(h.pid, h.agent_id, h.handle, h.dev_index, h.size,
                       bool(h.flags & _abi.HOLDER_DESTROYED),
                       bool(h.flags & _abi.HOLDER_ATTACHED))
                for h in buf[:n]
                if agent is None or h.agent_id == _u32(agent)]

    def find_agent(self, name):
        """The id of the agent called NAME (NotFound if none)."""
        i = _abi.u32()
        _check(_c().gdlock_agent_find(self._g(), _name(name),
                                      ctypes.byref(i)), "agent %r" % name)
        return i.value

    def ensure_agent(self, name, quotas=(), cgroup=None):
        """Finds agent NAME or creates it (with nothing on any device), sets
        QUOTAS in the order given and binds the CGROUP directory if given;
        returns its id.  QUOTAS: a dict or (device, bytes) pairs, e.g.
        {ALL_DEVICES: 8 << 30, 1: 0} ("8G everywhere but device 1").
        Idempotent and safe against racing orchestrators; an agent this
        call created is destroyed again when a later step fails.  Admin."""
        items = list(quotas.items() if hasattr(quotas, "items") else quotas)
        arr = (_abi.gdlock_ensure_quota * max(len(items), 1))()
        for i, (device, size) in enumerate(items):
            arr[i] = _abi.gdlock_ensure_quota(device=_u32(device, "device"),
                                              bytes=_u64(size, "quota"))
        cg = None if cgroup is None else _bytes(cgroup, "path")
        i = _abi.u32()
        _check(_c().gdlock_agent_ensure(self._g(), _name(name), arr,
                                        len(items), cg, ctypes.byref(i)),
               "agent %r" % name)
        return i.value

    def retire_agent(self, name):
        """Destroys agent NAME; one that does not exist is success (a
        retire that runs twice, or late).  Admin."""
        _check(_c().gdlock_agent_retire(self._g(), _name(name)),
               "agent %r" % name)

    def bind_pid(self, agent, pid):
        """Binds a process by pid.  Admin."""
        _check(_c().gdlock_bind_pid(self._g(), _u32(agent),
                                    _int(pid, 31, "pid")))

    def unbind_pid(self, agent, pid):
        """Unbinds a process, live or exited, by its number.  Admin."""
        _check(_c().gdlock_unbind_pid(self._g(), _u32(agent),
                                      _int(pid, 31, "pid")))

    def bind_cgroup(self, agent, path):
        """Binds a cgroup v2 directory: its processes and below.  Admin."""
        _check(_c().gdlock_bind_cgroup(self._g(), _u32(agent),
                                       _bytes(path, "path")), str(path))

    def unbind_cgroup(self, agent, path):
        """Unbinds a cgroup v2 directory.  Admin."""
        _check(_c().gdlock_unbind_cgroup(self._g(), _u32(agent),
                                         _bytes(path, "path")), str(path))

    def unbind_cgroup_id(self, agent, cgid):
        """Unbinds a (removed) cgroup by the id bindings() gives.  Admin."""
        _check(_c().gdlock_unbind_cgroup_id(self._g(), _u32(agent),
                                            _u64(cgid, "cgroup id")))

    def bindings(self, agent=0):
        """Bindings of AGENT (0: every agent's): a list of Binding whose
        type is "pid" (target: pid) or "cgroup" (target: cgroup id).
        Admin."""
        types = {1: "pid", 2: "cgroup"}
        return [Binding(b.agent_id, types.get(b.type, b.type), b.target,
                        bool(b.flags & 1))
                for b in self._list(_c().gdlock_binding_list,
                                    _abi.gdl_binding_info, _u32(agent))]

    def set_quota(self, agent, device, quota):
        """Sets AGENT's quota in bytes on DEVICE (or ALL_DEVICES);
        UNLIMITED lifts it.  Admin."""
        _check(_c().gdlock_quota_set(self._g(), _u32(agent),
                                     _u32(device, "device"),
                                     _u64(quota, "quota")))

    def quota(self, agent=SELF, device=0, destroyed=False):
        """An agent's Quota on a device: quota (None: unlimited), usage,
        available, ...  The default is the caller's own agent on device 0,
        what a job asks to size its work; another agent's needs admin.
        With DESTROYED (ABI 1.4, admins), AGENT may also be a destroyed
        agent that still holds memory: what it holds there."""
        q = _abi.gdl_quota()
        if destroyed:
            _check(_c().gdlock_quota_get_flags(self._g(), _u32(agent),
                                               _u32(device, "device"),
                                               _abi.QUOTA_F_DESTROYED,
                                               ctypes.byref(q)))
        else:
            _check(_c().gdlock_quota_get(self._g(), _u32(agent),
                                         _u32(device, "device"),
                                         ctypes.byref(q)))
        return Quota(q.agent_id, q.dev_index, _limit(q.quota), q.usage,
                     q.peak, q.nr_reservations, q.denied, bool(q.flags & 1),
                     bool(q.flags & _abi.QUOTA_F_DESTROYED))

    def reserve(self, device, size, addr=None):
        """Charges SIZE bytes on DEVICE to the caller's agent (for the range
        at ADDR if given); returns a Reservation, a context manager that
        releases it.  QuotaExceeded when over the quota."""
        r = _abi.gdl_reserve(dev_index=_u32(device, "device"),
                             size=_u64(size))
        if addr is not None:
            r.flags, r.addr = 1, _u64(addr, "addr")
        _check(_c().gdlock_reserve_ex(self._g(), ctypes.byref(r)))
        return Reservation(self, r)

    def attach(self, key):
        """Gives this ledger its own handle on the reservation another
        process shared by KEY (SHARE_KEY_LEN bytes, Reservation.share), for
        reading and writing; returns an Attachment, a context manager that
        drops the handle.  The caller's agent must be the reserving one or
        hold its grant (or an admin entry) over the reservation's range
        (for one without an address, the whole device): DmaDenied
        otherwise; NotFound for an unknown key.  The charge stays with the
        reserving agent until the last handle goes (ABI 1.3)."""
        return self._attach(_c().gdlock_reservation_attach,
                            _share_key(key), SHARE_KEY_LEN)

    def attach_fd(self, fd):
        """Like attach(), for a reservation shared by an open file
        (Reservation.share_fd): FD is an int or has a fileno()."""
        return self._attach(_c().gdlock_reservation_attach_fd, _fd(fd))

    def _attach(self, fn, *key):
        h = _abi.u64()
        _check(fn(self._g(), *key, ctypes.byref(h)))
        return Attachment(self, h.value)

    def _dma(self, c):
        _check(_c().gdlock_dma_check_ex(self._g(), ctypes.byref(c)))
        return DmaAllowed(c.owner_id, VERDICTS.get(c.result, c.result))

    def dma_check(self, device, addr, length, access=READ | WRITE):
        """May the caller's agent access [ADDR, ADDR+LENGTH) on DEVICE?
        Returns DmaAllowed(owner, result); raises DmaDenied if not."""
        return self._dma(_abi.gdl_dma_check(
            dev_index=_u32(device, "device"), access=_u32(access, "access"),
            addr=_u64(addr, "addr"), len=_u64(length, "length")))

    def peer_check(self, device, peer):
        """May the caller's agent DMA from DEVICE to PEER?"""
        return self._dma(_abi.gdl_dma_check(
            dev_index=_u32(device, "device"), access=PEER,
            peer_index=_u32(peer, "peer")))

    def _acl(self, fn, entries):
        entries = list(entries)
        if not entries:
            raise _InvalidArgument("no ACL entries")
        arr = (_abi.gdl_acl_entry * len(entries))()
        for i, e in enumerate(entries):
            arr[i] = _abi.gdl_acl_entry(
                agent_id=_u32(e.agent), owner_id=_u32(e.owner),
                dev_index=_u32(e.device, "device"),
                rights=_u32(e.rights, "rights"),
                peer_index=_u32(e.peer, "peer"), addr=_u64(e.addr, "addr"),
                len=_u64(e.len, "len"))
        _check(fn(self._g(), arr, len(entries)))

    def acl_grant(self, entries):
        """Adds AclEntry items, all or nothing."""
        self._acl(_c().gdlock_acl_grant, entries)

    def acl_revoke(self, entries):
        """Removes exactly matching AclEntry items, all or nothing."""
        self._acl(_c().gdlock_acl_revoke, entries)

    def acl_list(self, agent=0):
        """ACL entries where AGENT is grantee or owner (0: all visible)."""
        return [AclEntry(e.agent_id, e.owner_id, e.dev_index, e.rights,
                         e.peer_index, e.addr, e.len)
                for e in self._list(_c().gdlock_acl_list,
                                    _abi.gdl_acl_entry, _u32(agent))]

    def read_events(self, max_events=64, timeout=None):
        """Up to MAX_EVENTS Events since the ledger was opened, waiting up
        to TIMEOUT seconds (None: for ever) for the first; [] on timeout."""
        if max_events < 1:
            raise _InvalidArgument("max_events must be at least 1")
        cap = min(max_events, 1024)
        buf = (_abi.gdl_event * cap)()
        ms = -1 if timeout is None else min(int(timeout * 1000), 2**31 - 1)
        n = _check(_c().gdlock_event_read(self._g(), buf, cap, ms))
        return [Event(e.seq, e.time_ns, EVENT_KINDS.get(e.type, e.type),
                      bool(e.flags & 1), e.agent_id, e.dev_index, e.pid,
                      e.access, e.value, e.value2) for e in buf[:n]]

    def events(self, timeout=None):
        """Iterates over events as they come; with TIMEOUT (seconds), stops
        once that long passes without one.  Reads one record at a time, so
        leaving the loop early leaves the rest for the next reader."""
        while True:
            evs = self.read_events(1, timeout)
            if not evs:
                return
            yield evs[0]


class Reservation:
    """Memory charged to the caller's agent on one device; a context
    manager that releases it on exit (release() does it at once)."""

    def __init__(self, ledger, r):
        self.ledger = ledger
        self.handle = r.handle
        self.device = r.dev_index
        self.size = r.size
        self.agent = r.agent_id
        self.verdict = VERDICTS.get(r.result, r.result)
        self.released = False

    def share(self, key):
        """Names it by KEY, the SHARE_KEY_LEN bytes of a capability another
        process also holds (a CUDA IPC handle), for Ledger.attach() there.
        A key of another length or type is InvalidArgument (a ValueError)
        before the kernel; all-zero bytes are InvalidArgument; a key naming
        another reservation is Exists.  The key goes with the reservation
        and counts against the agent's share (ShareExhausted)."""
        _check(_c().gdlock_reservation_share(
            self.ledger._g(), self.handle, _share_key(key), SHARE_KEY_LEN))

    def share_fd(self, fd):
        """Names it by an open file (an int fd or an object with fileno()):
        a memfd or a character device, passed to the importer over a UNIX
        socket or by inheritance, for Ledger.attach_fd() there."""
        _check(_c().gdlock_reservation_share_fd(
            self.ledger._g(), self.handle, _fd(fd)))

    def release(self):
        """Releases it, or drops the handle of an Attachment (once; again is
        a no-op)."""
        if not self.released:
            self.released = True
            _check(_c().gdlock_release(self.ledger._g(), self.handle))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.ledger.closed:
            self.release()

    def __repr__(self):
        return "Reservation(device=%d, size=%d, agent=%d, handle=%#x)" % (
            self.device, self.size, self.agent, self.handle)



class Attachment:
    """A ledger's handle on a reservation another process shared
    (Ledger.attach); a context manager that drops it on exit (release()
    does it at once).  The memory stays charged to the reserving agent
    while any handle on it lives."""

    def __init__(self, ledger, handle):
        self.ledger = ledger
        self.handle = handle
        self.released = False

    release = Reservation.release
    __enter__ = Reservation.__enter__
    __exit__ = Reservation.__exit__

    def __repr__(self):
        return "Attachment(handle=%#x)" % self.handle

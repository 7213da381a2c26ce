# SPDX-License-Identifier: LGPL-2.1-or-later
"""The raw layer: libgpudmalock.so.0 through ctypes, and ctypes mirrors of
the struct gdl_* types of <gpu_dma_lock.h> it takes.  The ABI has one
implementation, the C library; tests/test_layout.py checks every size and
offset here against the C header."""

import ctypes
import os

NAME_LEN = 32
DEV_F_PCI = 0x1
DEV_F_GONE = 0x4  # ABI 1.3
AGENT_F_DESTROYED = 0x2  # ABI 1.4
LIST_F_DESTROYED = 0x1  # ABI 1.4
QUOTA_F_DESTROYED = 0x2  # ABI 1.4
HOLDER_DESTROYED = 0x1  # <gpudmalock.h>, library 0.6
HOLDER_ATTACHED = 0x2

u8, u16, u32, u64, s32 = (ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32,
                          ctypes.c_uint64, ctypes.c_int32)


class Struct(ctypes.Structure):
    """A uapi struct: zero-filled on creation, as the kernel wants."""


class gdl_version(Struct):
    _fields_ = [("abi_major", u32), ("abi_minor", u32), ("max_devices", u32),
                ("max_agents", u32), ("flags", u32), ("reserved0", u32),
                ("module_version", ctypes.c_char * 32), ("reserved", u64 * 4)]


class gdl_whoami(Struct):
    _fields_ = [("agent_id", u32), ("bound_by", u32), ("host_pid", u32),
                ("reserved0", u32), ("reserved", u64)]


class gdl_device_info(Struct):
    _fields_ = [("index", u32), ("flags", u32), ("pci_domain", u32),
                ("pci_bdf", u32), ("vendor", u16), ("device", u16),
                ("reserved0", u32), ("capacity", u64), ("used", u64),
                ("peak", u64), ("nr_reservations", u64),
                ("name", ctypes.c_char * NAME_LEN), ("uuid", u8 * 16),
                ("reserved", u64 * 4)]


class gdl_agent_info(Struct):
    _fields_ = [("id", u32), ("flags", u32),
                ("name", ctypes.c_char * NAME_LEN), ("default_quota", u64),
                ("nr_bindings", u32), ("reserved0", u32),
                ("max_reservations", u32), ("max_acl_entries", u32),
                ("reserved", u64 * 2)]


class gdl_binding_info(Struct):
    _fields_ = [("agent_id", u32), ("type", u32), ("target", u64),
                ("flags", u32), ("reserved0", u32), ("reserved", u64 * 2)]


class gdl_quota(Struct):
    _fields_ = [("agent_id", u32), ("dev_index", u32), ("quota", u64),
                ("usage", u64), ("peak", u64), ("nr_reservations", u64),
                ("denied", u64), ("flags", u32), ("reserved0", u32),
                ("reserved", u64 * 2)]


class gdl_reserve(Struct):
    _fields_ = [("dev_index", u32), ("flags", u32), ("size", u64),
                ("addr", u64), ("handle", u64), ("agent_id", u32),
                ("result", u32), ("reserved", u64 * 2)]


class gdl_dma_check(Struct):
    _fields_ = [("dev_index", u32), ("access", u32), ("peer_index", u32),
                ("reserved0", u32), ("addr", u64), ("len", u64),
                ("owner_id", u32), ("result", u32), ("reserved", u64 * 2)]


class gdl_acl_entry(Struct):
    _fields_ = [("agent_id", u32), ("owner_id", u32), ("dev_index", u32),
                ("rights", u32), ("peer_index", u32), ("reserved0", u32),
                ("addr", u64), ("len", u64), ("reserved", u64 * 2)]


class gdl_stats(Struct):
    _fields_ = [("nr_counters", u32), ("reserved0", u32),
                ("counters", u64 * 32), ("reserved", u64 * 2)]


class gdl_event(Struct):
    _fields_ = [("seq", u64), ("time_ns", u64), ("type", u32), ("flags", u32),
                ("agent_id", u32), ("dev_index", u32), ("pid", s32),
                ("access", u32), ("value", u64), ("value2", u64),
                ("reserved", u64 * 2)]


class gdlock_ensure_quota(Struct):
    """One quota of gdlock_agent_ensure() (<gpudmalock.h>, library 0.3)."""
    _fields_ = [("device", u32), ("reserved", u32), ("bytes", u64)]


class gdlock_holder(Struct):
    """One row of /proc/gpu_dma_lock/holders (<gpudmalock.h>, library
    0.6)."""
    _fields_ = [("pid", s32), ("agent_id", u32), ("handle", u64),
                ("dev_index", u32), ("flags", u32), ("size", u64)]


STRUCTS = [gdl_version, gdl_whoami, gdl_device_info, gdl_agent_info,
           gdl_binding_info, gdl_quota, gdl_reserve, gdl_dma_check,
           gdl_acl_entry, gdl_stats, gdl_event, gdlock_ensure_quota,
           gdlock_holder]

P = ctypes.POINTER
_c = ctypes.c_int
_ui = ctypes.c_uint
_h = ctypes.c_void_p      # struct gdlock *
_s = ctypes.c_char_p

# name: (restype, argtypes)
_SIGNATURES = {
    "gdlock_open_path": (_c, [_s, P(_h)]),
    "gdlock_close": (None, [_h]),
    "gdlock_fd": (_c, [_h]),
    "gdlock_strerror": (_s, [_c]),
    "gdlock_parse_size": (_c, [_s, P(u64)]),
    "gdlock_version": (_c, [_h, P(gdl_version)]),
    "gdlock_whoami": (_c, [_h, P(gdl_whoami)]),
    "gdlock_stats": (_c, [_h, P(gdl_stats)]),
    "gdlock_device_list": (_c, [_h, P(gdl_device_info), _ui]),
    "gdlock_agent_create": (_c, [_h, _s, u64, P(u32)]),
    "gdlock_agent_destroy": (_c, [_h, u32]),
    "gdlock_agent_set_limits": (_c, [_h, u32, u32, u32]),
    "gdlock_agent_list": (_c, [_h, P(gdl_agent_info), _ui]),
    "gdlock_agent_list_flags": (_c, [_h, u32, P(gdl_agent_info), _ui]),
    "gdlock_agent_find": (_c, [_h, _s, P(u32)]),
    "gdlock_bind_pid": (_c, [_h, u32, ctypes.c_int]),
    "gdlock_unbind_pid": (_c, [_h, u32, ctypes.c_int]),
    "gdlock_bind_cgroup": (_c, [_h, u32, _s]),
    "gdlock_unbind_cgroup": (_c, [_h, u32, _s]),
    "gdlock_binding_list": (_c, [_h, u32, P(gdl_binding_info), _ui]),
    "gdlock_cgroup_id": (_c, [_s, P(u64)]),
    "gdlock_unbind_cgroup_id": (_c, [_h, u32, u64]),
    "gdlock_quota_set": (_c, [_h, u32, u32, u64]),
    "gdlock_quota_get": (_c, [_h, u32, u32, P(gdl_quota)]),
    "gdlock_quota_get_flags": (_c, [_h, u32, u32, u32, P(gdl_quota)]),
    "gdlock_holders": (_c, [_s, P(gdlock_holder), _ui]),
    "gdlock_reserve_ex": (_c, [_h, P(gdl_reserve)]),
    "gdlock_release": (_c, [_h, u64]),
    "gdlock_reservation_share": (_c, [_h, u64, ctypes.c_char_p,
                                     ctypes.c_size_t]),
    "gdlock_reservation_share_fd": (_c, [_h, u64, ctypes.c_int]),
    "gdlock_reservation_attach": (_c, [_h, ctypes.c_char_p, ctypes.c_size_t,
                                      P(u64)]),
    "gdlock_reservation_attach_fd": (_c, [_h, ctypes.c_int, P(u64)]),
    "gdlock_dma_check_ex": (_c, [_h, P(gdl_dma_check)]),
    "gdlock_acl_grant": (_c, [_h, P(gdl_acl_entry), _ui]),
    "gdlock_acl_revoke": (_c, [_h, P(gdl_acl_entry), _ui]),
    "gdlock_acl_list": (_c, [_h, u32, P(gdl_acl_entry), _ui]),
    "gdlock_event_read": (_c, [_h, P(gdl_event), _ui, _c]),
    "gdlock_agent_ensure": (_c, [_h, _s, P(gdlock_ensure_quota), _ui, _s,
                                 P(u32)]),
    "gdlock_agent_retire": (_c, [_h, _s]),
}


def load():
    """libgpudmalock.so.0, or the file $GPUDMALOCK_LIBRARY names."""
    lib = ctypes.CDLL(os.environ.get("GPUDMALOCK_LIBRARY",
                                     "libgpudmalock.so.0"), use_errno=True)
    for name, (res, args) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib

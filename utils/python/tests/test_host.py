# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host tests, no module needed: the exceptions against docs/abi.md's
errno table, and the typed errors of bad input and of a file that is not
the device (/dev/null: every ioctl is ENOTTY there, so an InvalidArgument
proves the check was made before any reached the kernel)."""
import errno
import os
import re

import pytest

import gpudmalock as gdl
from conftest import TOP


def abi_errnos():
    doc = open(os.path.join(TOP, "docs", "abi.md")).read()
    names = re.findall(r"^\| `(E[A-Z0-9]+)` \|", doc.split("## Errors")[1],
                       re.M)
    assert len(names) >= 20
    return names


def test_every_abi_errno_has_its_own_exception():
    seen = set()
    for name in abi_errnos():
        code = getattr(errno, name)
        e = gdl.from_errno(-code)
        assert type(e) is not gdl.Error, name
        assert isinstance(e, gdl.Error) and isinstance(e, OSError)
        assert e.errno == code
        assert type(e).__name__ not in seen, name
        seen.add(type(e).__name__)
        assert "(%s)" % name in str(e) and len(e.strerror) > 40, str(e)
        assert type(e).__doc__, name
        assert getattr(gdl, type(e).__name__) is type(e)


def test_quota_exceeded_says_what_to_do():
    e = gdl.from_errno(errno.EDQUOT, "reserve 4096 on device 0")
    assert isinstance(e, gdl.QuotaExceeded)
    assert "raise the quota" in str(e) and "reserve 4096" in str(e)


def test_unknown_errno_is_plain_error():
    e = gdl.from_errno(-errno.EINTR)
    assert type(e) is gdl.Error and e.errno == errno.EINTR


def test_open_missing_paths():
    with pytest.raises(gdl.NotFound):
        gdl.Ledger("/nonexistent/gpu_dma_lock")
    with pytest.raises(gdl.InvalidArgument):
        gdl.Ledger("/dev/nu\0ll")
    if not os.path.exists(gdl.DEVICE_PATH):
        with pytest.raises(gdl.NotLoaded, match="gpu-dma-lock-ctl load"):
            gdl.Ledger()


@pytest.fixture
def devnull():
    with gdl.Ledger("/dev/null") as led:
        yield led


def test_not_the_device_is_not_supported(devnull):
    assert devnull.fileno() >= 0
    for call in (devnull.version, devnull.whoami, devnull.devices,
                 devnull.agents, lambda: devnull.reserve(0, 4096),
                 lambda: devnull.create_agent("ok"),
                 lambda: devnull.set_agent_limits(1, 2, 3)):
        with pytest.raises(gdl.NotSupported):
            call()
    with pytest.raises(gdl.NotEventChannel):
        devnull.read_events(4, timeout=0)


def test_bad_names_are_refused_before_the_kernel(devnull):
    for bad in ("x" * (gdl.NAME_MAX + 1), "", "a\0b"):
        with pytest.raises(gdl.InvalidArgument):
            devnull.create_agent(bad)
    with pytest.raises(gdl.InvalidArgument):
        devnull.find_agent("x" * 40)
    with pytest.raises(gdl.InvalidArgument):
        devnull.ensure_agent("x" * 40, {gdl.ALL_DEVICES: 1})
    with pytest.raises(gdl.InvalidArgument):
        devnull.retire_agent("")
    with pytest.raises(gdl.InvalidArgument):
        devnull.ensure_agent("ok", [(0, -1)])
    for call in (devnull.create_agent, devnull.retire_agent,
                 lambda n: devnull.ensure_agent(n, {0: 1}, "/sys/fs/cgroup")):
        with pytest.raises(gdl.NotSupported):
            call("y" * gdl.NAME_MAX)


def test_bad_arguments_are_typed(devnull):
    with pytest.raises(gdl.InvalidArgument):
        devnull.acl_grant([])
    with pytest.raises(gdl.InvalidArgument):
        devnull.read_events(0)
    with pytest.raises(gdl.NotFound):
        devnull.bind_cgroup(1, "/nonexistent")
    with pytest.raises(gdl.NotCgroup):
        gdl.cgroup_id("/proc")
    # ctypes would wrap these silently; each is refused, typed.
    for call in (lambda: devnull.set_quota(1, 0, -1),
                 lambda: devnull.set_quota(1, 1 << 32, 0),
                 lambda: devnull.reserve(0, 1 << 64),
                 lambda: devnull.reserve(0, "1M"),
                 lambda: devnull.bind_pid(1, -1),
                 lambda: devnull.set_agent_limits(1, -1),
                 lambda: devnull.acl_grant([gdl.AclEntry(-1, 0)])):
        with pytest.raises(gdl.InvalidArgument):
            call()


def test_closed_ledger():
    led = gdl.Ledger("/dev/null")
    led.close()
    assert led.closed
    with pytest.raises(gdl.LedgerClosed, match="closed"):
        led.version()
    with pytest.raises(gdl.LedgerClosed):
        led.fileno()
    led.close()     # twice is fine


def test_sizes_parse_like_the_ctl():
    assert gdl.parse_size("64M") == 64 << 20
    assert gdl.parse_size("unlimited") == gdl.UNLIMITED
    with pytest.raises(gdl.InvalidArgument):
        gdl.parse_size("12Q")
    with pytest.raises(gdl.SizeOutOfRange):
        gdl.parse_size("99999999999999999999")


def test_docstrings_for_pydoc():
    import pydoc
    text = pydoc.render_doc(gdl, renderer=pydoc.plaintext)
    for word in ("class Ledger", "reserve(self, device, size", "QuotaExceeded", "available"):
        assert word in text
    undocumented = [n for n in dir(gdl.Ledger) if not n.startswith("_")
                    and not getattr(gdl.Ledger, n).__doc__]
    assert not undocumented


def test_texts_are_the_rust_crates():
    """One wording in both bindings: each exception's advice is the
    Display text of the Rust variant of the same name."""
    src = open(os.path.join(TOP, "utils", "rust", "src", "error.rs")).read()
    rust = dict(re.findall(r'Error::(\w+) => "([^"]*)",', src))
    classes = list(gdl.BY_ERRNO.values()) + [gdl.NotLoaded]
    assert len(classes) == 26
    for cls in classes:
        assert rust.get(cls.__name__) == cls.advice, cls.__name__


def test_every_library_symbol_is_wrapped_or_listed():
    """Every symbol of libgpudmalock.map is in _abi's signatures or listed,
    for Python, in utils/lib/unwrapped.txt, and nothing listed is called."""
    from gpudmalock import _abi
    mapfile = open(os.path.join(TOP, "utils", "lib", "libgpudmalock.map"))
    exported = set(re.findall(r"^\s+(gdlock_\w+);", mapfile.read(), re.M))
    unwrapped = set()
    for line in open(os.path.join(TOP, "utils", "lib", "unwrapped.txt")):
        f = line.split()
        if f and not f[0].startswith("#") and f[1] in ("all", "python"):
            unwrapped.add(f[0])
    declared = set(_abi._SIGNATURES)
    assert len(exported) > 40
    assert not exported - declared - unwrapped, \
        "neither wrapped in _abi.py nor listed in utils/lib/unwrapped.txt"
    assert not unwrapped & declared, "listed but wrapped"
    assert not unwrapped - exported, "listed but not exported"


def test_share_keys_are_checked_before_the_kernel(devnull):
    for bad in (b"x" * 63, b"x" * 65, b"", "x" * 64, 64, None):
        with pytest.raises(gdl.InvalidArgument) as e:
            devnull.attach(bad)
        assert isinstance(e.value, ValueError)
        assert "share key" in str(e.value)
    for bad in (-1, "3", 1 << 40):
        with pytest.raises(gdl.InvalidArgument):
            devnull.attach_fd(bad)
    # Right-sized keys and real files reach the (non-)device.
    for key in (b"\xc3" * 64, bytearray(64), memoryview(b"k" * 64)):
        with pytest.raises(gdl.NotSupported):
            devnull.attach(key)
    with open("/dev/null") as f:
        for fd in (f, f.fileno()):
            with pytest.raises(gdl.NotSupported):
                devnull.attach_fd(fd)


def test_holders_table(devnull, tmp_path):
    # The table as the module writes it, read through the library's parser.
    table = tmp_path / "holders"
    table.write_text("pid handle agent state device size kind\n"
                     "412 1 65537 live 0 1048576 reserved\n"
                     "0 7 131074 destroyed 1 805306368 attached\n")
    assert devnull.holders(path=str(table)) == [
        gdl.Holder(412, 65537, 1, 0, 1 << 20, False, False),
        gdl.Holder(0, 131074, 7, 1, 768 << 20, True, True)]
    assert devnull.holders(agent=131074, path=str(table)) == [
        gdl.Holder(0, 131074, 7, 1, 768 << 20, True, True)]
    assert devnull.holders(agent=1, path=str(table)) == []
    table.write_text("pid handle agent\n")
    with pytest.raises(gdl.Error) as e:
        devnull.holders(path=str(table))
    assert e.value.errno == errno.EBADMSG
    with pytest.raises(gdl.NotFound):
        devnull.holders(path=str(tmp_path / "missing"))


def test_destroyed_is_opt_in(devnull):
    # Old callers' tuples compare as before; the flags reach the kernel
    # only when asked (ENOTTY from /dev/null proves the call was made).
    assert gdl.Agent(1, "a", False, None, 0, 0, 0).destroyed is False
    assert gdl.Quota(1, 0, None, 0, 0, 0, 0, False).destroyed is False
    with pytest.raises(gdl.NotSupported):
        devnull.agents(destroyed=True)
    with pytest.raises(gdl.NotSupported):
        devnull.quota(1, 0, destroyed=True)

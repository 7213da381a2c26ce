#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The bindings tier's scenario for the Python module, against the real
module, run as root in the test VM by vm-bindings.sh (the same steps as
utils/rust/tests/device.rs).  The tenant is this script again, started in
the agent's cgroup with --tenant AGENT, dropping to uid/gid 65534.
Prints "ok"/"FAIL" lines and ends with "python-vm: N passed, M failed".
"""
import itertools
import os
import signal
import socket
import subprocess
import sys

import gpudmalock as gdl

MIB = 1 << 20
CG = "/sys/fs/cgroup/py-bindings"
CG_B = "/sys/fs/cgroup/py-bindings-b"
NAME = "py-bindings"
SHARED = 64 << 10
KEY = b"\xc3" * gdl.SHARE_KEY_LEN
TENANTS = []    # killed at the end if the scenario stops early


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print("ok   python: %s" % what, flush=True)
        else:
            self.failed += 1
            print("FAIL python: %s" % what, flush=True)
        return ok

    def raises(self, cls, what, fn, *args):
        try:
            got = fn(*args)
        except gdl.Error as e:
            return self.check(type(e) is cls and e.errno == cls.errno_value,
                              "%s: %s: %s" % (what, type(e).__name__, e))
        except Exception as e:  # a crash of the bindings is a failure too
            return self.check(False, "%s: %r, wanted %s" % (what, e,
                                                           cls.__name__))
        return self.check(False, "%s: returned %r, wanted %s" % (
            what, got, cls.__name__))

    def ok(self, what, fn, *args):
        try:
            v = fn(*args)
        except Exception as e:
            self.check(False, "%s: %r" % (what, e))
            raise
        self.check(True, what)
        return v


def drop_root():
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)


def relay(t, lines, until):
    """Counts a child's "ok"/"FAIL" lines as this scenario's, up to the
    line UNTIL; whether that line came."""
    for line in lines:
        line = line.rstrip("\n")
        if line == until:
            return True
        if line.startswith("ok   python: "):
            t.check(True, line[13:])
        elif line.startswith("FAIL python: "):
            t.check(False, line[13:])
        else:
            print(line)
    return False


def start_in(cg, *args):
    """This script again with ARGS, in cgroup CG before it runs anything of
    its own; stdin and stdout are pipes."""
    procs = os.open(cg + "/cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
    fds = tuple(a for a in args if isinstance(a, int))
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)] + [str(a) for a in args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        pass_fds=fds, preexec_fn=lambda: os.write(procs, b"0"))
    os.close(procs)
    TENANTS.append(child)
    return child


def importer(step, memfd):
    """The share scenario's importer, in agent B's cgroup as uid 65534:
    "denied" (no grant yet) or "hold" (attach, then hold a handle until a
    line comes on stdin).  MEMFD is the inherited memfd key."""
    t = Tally()
    drop_root()
    t.check(os.geteuid() == 65534, "importer: dropped to uid/gid 65534")
    led = t.ok("importer: open", gdl.Ledger)
    memfile = os.fdopen(memfd, "rb", closefd=False)
    if step == "denied":
        t.raises(gdl.DmaDenied, "importer: attach by bytes without a grant",
                 led.attach, KEY)
        t.raises(gdl.DmaDenied, "importer: attach by the memfd without a "
                 "grant", led.attach_fd, memfd)
        t.raises(gdl.NotFound, "importer: attach by an unknown key",
                 led.attach, b"\x5a" * gdl.SHARE_KEY_LEN)
    else:
        held = t.ok("importer: attach by bytes with a grant", led.attach,
                    bytearray(KEY))
        with t.ok("importer: attach by the memfd (a file object) with a "
                  "grant", led.attach_fd, memfile) as a:
            t.check(a.handle != held.handle, "importer: two handles")
        t.check(a.released, "importer: the with block dropped the memfd's "
                "handle")
        q = led.quota()
        t.check(q.usage == 0, "importer: nothing charged to B: %r" % (q,))
        print("holding", flush=True)
        sys.stdin.readline()
        held.release()
    print("importer: %d passed, %d failed" % (t.passed, t.failed))
    print("done", flush=True)


def share(t, led):
    """Shared reservations (ABI 1.3): this process, bound by pid to agent
    A, reserves and shares by 64 bytes and by a memfd; the importer (this
    script again, in agent B's cgroup as uid 65534) attaches, first without
    A's grant, then with it, and holds the memory after the exporter's file
    is closed."""
    a = t.ok("share: create the exporter's agent A", led.create_agent,
             "py-share-a")
    b = t.ok("share: create the importer's agent B", led.create_agent,
             "py-share-b")
    t.ok("share: A may use 1M", led.set_quota, a, 0, MIB)
    os.makedirs(CG_B, exist_ok=True)
    t.ok("share: bind B's cgroup", led.bind_cgroup, b, CG_B)
    t.ok("share: bind this process to A", led.bind_pid, a, os.getpid())
    memfd = os.memfd_create("gdl-share", 0)
    exp = t.ok("share: the exporter's ledger", gdl.Ledger)
    r = t.ok("share: A reserves 64K", exp.reserve, 0, SHARED)
    t.ok("share: by 64 bytes", r.share, KEY)
    t.ok("share: the same key again changes nothing", r.share, KEY)
    t.ok("share: by the memfd", r.share_fd, memfd)
    with exp.reserve(0, 4096) as r2:
        t.raises(gdl.Exists, "share: a key names one reservation", r2.share,
                 KEY)
    t.raises(gdl.InvalidArgument, "share: an all-zero key", r.share,
             bytes(gdl.SHARE_KEY_LEN))
    s1, s2 = socket.socketpair()
    t.raises(gdl.NotAKeyFile, "share: a socket is no key (EBADFD)", r.share_fd, s1)
    s1.close()
    s2.close()

    child = start_in(CG_B, "--importer", "denied", memfd)
    t.check(relay(t, child.stdout, "done"),
            "share: the importer without a grant ran to its end")
    t.check(child.wait() == 0, "share: the importer exited 0")

    grant = gdl.AclEntry(b, a, 0, gdl.READ | gdl.WRITE, 0, 0,
                         gdl.UNLIMITED)
    t.ok("share: grant B the whole device of A's", led.acl_grant, [grant])
    child = start_in(CG_B, "--importer", "hold", memfd)
    t.check(relay(t, child.stdout, "holding"),
            "share: the importer holds a handle")
    t.ok("share: the exporter releases its handle", r.release)
    t.check(led.quota(a, 0).usage == SHARED,
            "share: still charged to A while the importer holds it")
    exp.close()
    t.check(led.quota(a, 0).usage == SHARED,
            "share: still charged to A after the exporter's ledger closed")
    t.check(led.quota(b, 0).usage == 0, "share: never charged to B")
    child.stdin.write("go\n")
    child.stdin.flush()
    t.check(relay(t, child.stdout, "done"),
            "share: the importer holding ran to its end")
    t.check(child.wait() == 0, "share: the importer exited 0")
    t.check(led.quota(a, 0).usage == 0,
            "share: the charge went with the importer's last handle")
    t.raises(gdl.NotFound, "share: the keys went with the reservation",
             led.attach, KEY)
    t.ok("share: revoke the grant", led.acl_revoke, [grant])
    # Keys count against the agent's share of reservations.
    with gdl.Ledger() as exp:
        r = t.ok("share: A reserves 4K", exp.reserve, 0, 4096)
        t.ok("share: A's share of reservations: 2", led.set_agent_limits,
             a, 2)
        t.check(any(x.id == a and x.max_reservations == 2
                    for x in led.agents()),
                "share: the agent list shows that share")
        t.ok("share: the key is the second", r.share, KEY)
        t.raises(gdl.ShareExhausted, "share: a third by the memfd",
                 r.share_fd, memfd)
        t.raises(gdl.ShareExhausted, "share: a third by reserving",
                 exp.reserve, 0, 4096)
        t.ok("share: A's share back to the default", led.set_agent_limits, a)
        t.ok("share: by the memfd, within the share", r.share_fd, memfd)
    t.check(led.quota(a, 0).usage == 0, "share: the exporter's close "
            "released it")
    os.close(memfd)
    t.ok("share: unbind this process", led.unbind_pid, a, os.getpid())
    t.ok("share: destroy A", led.destroy_agent, a)
    t.ok("share: destroy B", led.destroy_agent, b)
    os.rmdir(CG_B)


def destroyed_exporter(t, led):
    """Issue 22 (ABI 1.4): the exporter's agent A is destroyed while the
    importer (in agent B's cgroup) holds a handle on A's shared memory.
    A stays visible: agents(destroyed=True) lists it, destroyed, quota(...,
    destroyed=True) reads what it holds, holders() names the importer's
    process, until the importer lets go; agents() never shows it."""
    a = t.ok("destroyed: create the exporter's agent A", led.create_agent,
             "py-dead-a")
    b = t.ok("destroyed: create the importer's agent B", led.create_agent,
             "py-dead-b")
    t.ok("destroyed: A may use 1M", led.set_quota, a, 0, MIB)
    os.makedirs(CG_B, exist_ok=True)
    t.ok("destroyed: bind B's cgroup", led.bind_cgroup, b, CG_B)
    t.ok("destroyed: bind this process to A", led.bind_pid, a, os.getpid())
    memfd = os.memfd_create("gdl-dead", 0)
    exp = gdl.Ledger()
    r = t.ok("destroyed: A reserves 64K", exp.reserve, 0, SHARED)
    t.ok("destroyed: A shares it by 64 bytes", r.share, KEY)
    t.ok("destroyed: and by the memfd", r.share_fd, memfd)
    grant = gdl.AclEntry(b, a, 0, gdl.READ | gdl.WRITE, 0, 0, gdl.UNLIMITED)
    t.ok("destroyed: grant B the whole device of A's", led.acl_grant, [grant])
    child = start_in(CG_B, "--importer", "hold", memfd)
    t.check(relay(t, child.stdout, "holding"),
            "destroyed: the importer holds a handle")
    exp.close()
    os.close(memfd)
    t.ok("destroyed: destroy A", led.destroy_agent, a)
    t.check(all(x.id != a for x in led.agents()),
            "destroyed: agents() leaves A out, as before ABI 1.4")
    dead = [x for x in led.agents(destroyed=True) if x.id == a]
    t.check(len(dead) == 1 and dead[0].destroyed and
            dead[0].name == "py-dead-a",
            "destroyed: agents(destroyed=True) lists A, destroyed: %r" % dead)
    t.check(all(not x.destroyed for x in led.agents(destroyed=True)
                if x.id != a), "destroyed: every other agent is live")
    q = led.quota(a, 0, destroyed=True)
    t.check(q.usage == SHARED and q.destroyed,
            "destroyed: quota(destroyed=True) reads what A holds: %r" % (q,))
    t.raises(gdl.NotFound, "destroyed: quota() without it: NotFound",
             led.quota, a, 0)
    h = led.holders(a)
    t.check(h == [gdl.Holder(child.pid, a, h[0].handle if h else 0, 0,
                             SHARED, True, True)],
            "destroyed: holders(A) names the importer's process: %r" % h)
    t.check(any(x.pid == child.pid for x in led.holders()),
            "destroyed: holders() lists it too")
    child.stdin.write("go\n")
    child.stdin.flush()
    t.check(relay(t, child.stdout, "done"),
            "destroyed: the importer released and ran to its end")
    t.check(child.wait() == 0, "destroyed: the importer exited 0")
    t.check(all(x.id != a for x in led.agents(destroyed=True)),
            "destroyed: A is gone with its last holder")
    t.check(led.holders(a) == [], "destroyed: nothing holds A's memory")
    t.raises(gdl.NotFound, "destroyed: quota(destroyed=True) of A gone",
             led.quota, a, 0, True)
    t.ok("destroyed: destroy B", led.destroy_agent, b)
    os.rmdir(CG_B)


def tenant(agent, other):
    t = Tally()
    drop_root()
    t.check(os.geteuid() == 65534, "tenant: dropped to uid/gid 65534")
    led = t.ok("tenant: open", gdl.Ledger)
    w = led.whoami()
    t.check(w == gdl.Whoami(agent, "cgroup", os.getpid()),
            "tenant: whoami is the agent, by cgroup: %r" % (w,))
    q = led.quota()
    t.check(q.quota == 4 * MIB and q.usage == 0 and q.available == 4 * MIB,
            "tenant: 4M quota, nothing used: %r" % (q,))
    big = t.ok("tenant: reserve 3M", led.reserve, 0, 3 * MIB)
    r = t.ok("tenant: reserve 1M more (quota reached)", led.reserve, 0, MIB)
    t.check(r.agent == agent and r.verdict == "ok",
            "tenant: charged to the agent, within quota")
    r.release()
    t.check(led.quota().usage == 3 * MIB, "tenant: release() gave 1M back")
    with led.reserve(0, MIB) as r:
        t.check(r.size == MIB, "tenant: reserve 1M in a with block")
        t.raises(gdl.QuotaExceeded, "tenant: one page past the quota",
                 led.reserve, 0, 4096)
    at = t.ok("tenant: reserve 1M at 0x100000 after the with block released",
              led.reserve, 0, MIB, 0x100000)
    t.raises(gdl.QuotaExceeded, "tenant: one byte past the quota",
             led.reserve, 0, 1)
    d = led.dma_check(0, 0x100000, 4096, gdl.READ | gdl.WRITE)
    t.check(d == gdl.DmaAllowed(agent, "ok"), "tenant: DMA to its own range")
    t.raises(gdl.DmaDenied, "tenant: DMA to unreserved memory",
             led.dma_check, 0, 0x900000, 4096, gdl.READ)
    t.raises(gdl.PermissionDenied, "tenant: create an agent",
             led.create_agent, "tenant-evil")
    t.raises(gdl.PermissionDenied, "tenant: raise its own quota",
             led.set_quota, agent, 0, gdl.UNLIMITED)
    t.raises(gdl.PermissionDenied, "tenant: list bindings", led.bindings)
    t.raises(gdl.PermissionDenied, "tenant: another agent's quota",
             led.quota, other, 0)
    t.raises(gdl.PermissionDenied, "tenant: retire its own agent",
             led.retire_agent, NAME)
    t.raises(gdl.PermissionDenied, "tenant: ensure itself an unlimited quota",
             led.ensure_agent, NAME, {0: gdl.UNLIMITED})
    print("holding", flush=True)
    keep = (big, at)
    while keep:
        signal.pause()


def scenario(t):
    led = t.ok("open /dev/gpu_dma_lock", gdl.Ledger)
    v = led.version()
    t.check(v.abi_major == 1 and v.enforcing and v.module_version,
            "version: %r" % (v,))
    devs = led.devices()
    t.check(devs and devs[0].index == 0 and devs[0].pci,
            "device 0 is a PCI device: %r" % (devs[:1],))
    t.raises(gdl.NoAgent, "whoami: root is bound to no agent "
             "(default_policy=deny)", led.whoami)

    watch = t.ok("open a second ledger for events", gdl.Ledger)
    t.check(watch.fileno() >= 0, "the event ledger has an fd to poll")
    t.check(watch.read_events(8, timeout=0) == [], "no events yet")

    aid = t.ok("create agent", led.create_agent, NAME)
    t.raises(gdl.Exists, "create it twice", led.create_agent, NAME)
    t.check(led.find_agent(NAME) == aid, "find it by name")
    t.check(any(a.id == aid and a.name == NAME and a.default_quota == 0
                for a in led.agents()), "agent list shows it")
    os.makedirs(CG, exist_ok=True)
    t.ok("bind the child's cgroup", led.bind_cgroup, aid, CG)
    t.check(led.bindings(aid) == [gdl.Binding(aid, "cgroup",
                                              gdl.cgroup_id(CG), False)],
            "bindings: the cgroup")
    t.ok("set a 4M quota on device 0", led.set_quota, aid, 0, 4 * MIB)
    t.check(led.quota(aid, 0).quota == 4 * MIB, "quota get: 4M")

    e = gdl.AclEntry(aid, 0, 0, gdl.READ, 0, 0x900000, 4096)
    t.ok("acl grant", led.acl_grant, [e])
    t.check(led.acl_list(aid) == [e], "acl list: the entry")
    t.ok("acl revoke", led.acl_revoke, [e])
    t.raises(gdl.NotFound, "acl revoke twice", led.acl_revoke, [e])
    other = t.ok("create another agent", led.create_agent, "py-other")

    # The tenant joins the cgroup before it runs anything of its own.
    child = start_in(CG, "--tenant", str(aid), str(other))
    t.check(relay(t, child.stdout, "holding"),
            "the tenant holds its reservations")
    q = led.quota(aid, 0)
    t.check(q.usage == 4 * MIB and q.reservations == 2 and q.denied == 3,
            "usage 4M in 2 reservations, 3 denials (2 quota, 1 DMA): %r"
            % (q,))

    evs = []
    for ev in watch.events(timeout=5):
        evs.append(ev)
        if len(evs) == 2:
            break
    # A second loop gets the third, which the first left unread.
    evs += itertools.islice(watch.events(timeout=5), 1)
    t.check(len(evs) == 3 and all(
        ev.agent == aid and ev.device == 0 and not ev.audit
        and ev.pid == child.pid for ev in evs),
        "three events of the tenant: %r" % evs)
    t.check([(ev.kind, ev.value, ev.value2) for ev in evs[:2]] == [
        ("quota_exceeded", 4096, 4 * MIB), ("quota_exceeded", 1, 4 * MIB)]
        and evs[0].seq < evs[1].seq,
        "two quota_exceeded events with the sizes asked for, in order")
    t.check(len(evs) == 3 and (evs[2].kind, evs[2].value, evs[2].value2,
                               evs[2].access) == ("dma_denied", 0x900000,
                                                  4096, gdl.READ),
            "then the dma_denied event with the range and rights")

    child.kill()
    t.check(child.wait() == -signal.SIGKILL,
            "the tenant was alive, holding, until killed")
    q = led.quota(aid, 0)
    t.check(q.usage == 0 and q.reservations == 0,
            "usage 0 after the kill: %r" % (q,))

    t.ok("destroy the agent", led.destroy_agent, aid)
    t.raises(gdl.NotFound, "find the destroyed agent", led.find_agent, NAME)
    t.raises(gdl.NotFound, "destroy it twice", led.destroy_agent, aid)
    evs = watch.read_events(8, timeout=5)
    t.check(any(ev.kind == "agent_destroyed" and ev.agent == aid
                for ev in evs), "agent_destroyed event: %r" % evs)
    os.rmdir(CG)

    # The lifecycle helper: idempotent ensure, undone on failure, retire.
    os.makedirs(CG, exist_ok=True)
    quotas = {gdl.ALL_DEVICES: 2 * MIB, 0: 3 * MIB}
    lid = t.ok("ensure an agent with quotas and a cgroup", led.ensure_agent,
               "py-life", quotas, CG)
    t.check(led.quota(lid, 0).quota == 3 * MIB
            and led.quota(lid, 1).quota == 2 * MIB,
            "ensure set the quotas in order (all 2M, then device 0 3M)")
    t.check(len(led.bindings(lid)) == 1, "ensure bound the cgroup")
    t.check(led.ensure_agent("py-life", quotas, CG) == lid,
            "ensure again: the same agent")
    t.raises(gdl.NoDevice, "ensure with an unknown device", led.ensure_agent,
             "py-life2", [(31, MIB)])
    t.raises(gdl.NotFound, "the agent ensure created was destroyed again",
             led.find_agent, "py-life2")
    t.ok("retire the agent", led.retire_agent, "py-life")
    t.raises(gdl.NotFound, "retired: gone", led.find_agent, "py-life")
    t.ok("retire it again: already gone is success", led.retire_agent,
         "py-life")
    os.rmdir(CG)

    share(t, led)
    destroyed_exporter(t, led)

    t.raises(gdl.InvalidArgument, "an over-long name", led.create_agent,
             "n" * (gdl.NAME_MAX + 1))
    tmp = t.ok("create a scratch agent", led.create_agent, "py-bad")
    t.raises(gdl.NoDevice, "quota on an unknown device", led.set_quota,
             tmp, 31, MIB)
    t.raises(gdl.NoDevice, "quota get of an unknown device", led.quota,
             tmp, 31)
    t.raises(gdl.NotCgroup, "bind a directory that is no cgroup",
             led.bind_cgroup, tmp, "/proc")
    t.raises(gdl.AgentGone, "bind a pid that does not exist", led.bind_pid,
             tmp, 999999)
    t.raises(gdl.NoAgent, "root reserves, bound to no agent", led.reserve,
             0, MIB)
    t.ok("destroy the scratch agent", led.destroy_agent, tmp)
    t.ok("destroy the other agent", led.destroy_agent, other)
    s = led.stats()
    t.check(s["ledger_consistent"] == 1 and s["live_reservations"] == 0,
            "ledger consistent, no reservations: %r" % s)
    with gdl.Ledger() as closed:
        pass
    t.raises(gdl.LedgerClosed, "a closed ledger", closed.version)
    t.raises(gdl.LedgerClosed, "a closed ledger's events", closed.read_events)
    led.close()
    watch.close()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--importer":
        importer(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--tenant":
        try:
            tenant(int(sys.argv[2]), int(sys.argv[3]))
        except BaseException as e:
            sys.stderr.write("tenant: stopped by %r\n" % e)
            raise
        return 0
    t = Tally()
    try:
        scenario(t)
    except Exception as e:
        t.check(False, "the scenario stopped early: %r" % e)
    finally:
        for child in TENANTS:
            if child.poll() is None:
                child.kill()
                child.wait()
    print("python-vm: %d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())

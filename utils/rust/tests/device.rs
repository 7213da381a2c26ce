// SPDX-License-Identifier: LGPL-2.1-or-later
//! The bindings tier's scenario against the real module, run as root in a
//! test VM by tests/bindings/vm-bindings.sh, which sets GDL_BINDINGS_VM
//! (anywhere else it says so and does nothing).  The same binary plays the tenant: the
//! scenario starts it again in the agent's cgroup with GDL_ROLE=tenant,
//! where it drops to uid/gid 65534.  Prints "ok"/"FAIL" lines and ends with
//! "rust-vm: N passed, M failed".
use gpu_dma_lock::*;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::io::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::Duration;

const MIB: u64 = 1 << 20;
const CG: &str = "/sys/fs/cgroup/rs-bindings";
const NAME: &str = "rs-bindings";
const CG_B: &str = "/sys/fs/cgroup/rs-bindings-b";
const SHARED: u64 = 64 * 1024;

struct Tally {
    pass: u32,
    fail: u32,
}

impl Tally {
    fn check(&mut self, ok: bool, what: &str) {
        if ok {
            self.pass += 1;
            println!("ok   rust: {what}");
        } else {
            self.fail += 1;
            println!("FAIL rust: {what}");
        }
    }

    /// `got` is the expected error.
    fn err<T: std::fmt::Debug>(&mut self, got: Result<T>, want: Error, what: &str) {
        match got {
            Err(e) if e == want => self.check(true, &format!("{what}: {e:?}: {e}")),
            other => self.check(false, &format!("{what}: got {other:?}, wanted {want:?}")),
        }
    }

    fn ok<T>(&mut self, got: Result<T>, what: &str) -> Option<T> {
        match got {
            Ok(v) => {
                self.check(true, what);
                Some(v)
            }
            Err(e) => {
                self.check(false, &format!("{what}: {e:?}: {e}"));
                None
            }
        }
    }
}

extern "C" {
    fn setgroups(n: usize, list: *const u32) -> i32;
    fn setresgid(r: u32, e: u32, s: u32) -> i32;
    fn setresuid(r: u32, e: u32, s: u32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn memfd_create(name: *const std::os::raw::c_char, flags: u32) -> i32;
}

/// Drops to uid/gid 65534, as a tenant would run.
fn drop_root() -> bool {
    // SAFETY: plain syscalls on this process's credentials.
    unsafe { setgroups(0, std::ptr::null()) == 0 && setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0 }
}

/// Counts a child's "ok"/"FAIL" lines as this scenario's, up to the line
/// `until`; whether that line came.
fn relay(t: &mut Tally, out: &mut impl BufRead, until: &str) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        match out.read_line(&mut line) {
            Ok(n) if n > 0 => {}
            _ => return false,
        }
        let line = line.trim_end();
        if line == until {
            return true;
        }
        if let Some(rest) = line.strip_prefix("ok   rust: ") {
            t.check(true, rest);
        } else if let Some(rest) = line.strip_prefix("FAIL rust: ") {
            t.check(false, rest);
        }
    }
}

/// The tenant: SIGKILLed if the scenario stops early, so that it never
/// holds its reservations into the Python scenario that follows.
struct Tenant(std::process::Child);

impl Drop for Tenant {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child: a tenant in the agent's cgroup.  Reserves up to the quota,
/// is refused past it, fails admin calls, then holds its reservations
/// until killed.
fn tenant(agent: AgentId, other: AgentId) -> i32 {
    let mut t = Tally { pass: 0, fail: 0 };
    t.check(drop_root(), "tenant: dropped to uid/gid 65534");
    let l = match t.ok(Ledger::open(), "tenant: open") {
        Some(l) => l,
        None => return 1,
    };
    if let Some(w) = t.ok(l.whoami(), "tenant: whoami") {
        t.check(w.agent == agent && w.bound_by == BoundBy::Cgroup && w.host_pid == std::process::id(), &format!("tenant: whoami is the agent, by cgroup, and its host pid: {w:?}"));
    }
    if let Some(q) = t.ok(l.quota(SELF_AGENT, 0), "tenant: own quota") {
        t.check(q.quota == Some(4 * MIB) && q.usage == 0 && q.available() == Some(4 * MIB), &format!("tenant: 4M quota, nothing used: {q:?}"));
    }
    let big = t.ok(l.reserve(0, 3 * MIB), "tenant: reserve 3M");
    if let Some(r) = t.ok(l.reserve(0, MIB), "tenant: reserve 1M more (quota reached)") {
        t.check(r.agent() == agent && r.verdict() == Verdict::Ok, "tenant: charged to the agent, within quota");
        t.ok(r.release(), "tenant: release the 1M explicitly");
    }
    {
        let _r = t.ok(l.reserve(0, MIB), "tenant: reserve 1M again after releasing it");
        t.err(l.reserve(0, 4096), Error::QuotaExceeded, "tenant: one page past the quota is refused");
        // _r drops here: its 1M must come back.
    }
    let at = t.ok(l.reserve_at(0, 0x100000, MIB), "tenant: reserve 1M at 0x100000 after the drop released 1M");
    t.err(l.reserve(0, 1), Error::QuotaExceeded, "tenant: one byte past the quota is refused");
    if let Some(d) = t.ok(l.dma_check(0, 0x100000, 4096, Access::RW), "tenant: DMA to its own range") {
        t.check(d.owner == agent && d.result == Verdict::Ok, &format!("tenant: own range, result ok: {d:?}"));
    }
    t.err(l.dma_check(0, 0x900000, 4096, Access::READ), Error::DmaDenied, "tenant: DMA to unreserved memory");
    t.err(l.create_agent("tenant-evil", 0), Error::PermissionDenied, "tenant: create an agent");
    t.err(l.set_quota(agent, 0, UNLIMITED), Error::PermissionDenied, "tenant: raise its own quota");
    t.err(l.bindings(None), Error::PermissionDenied, "tenant: list bindings");
    t.err(l.quota(other, 0), Error::PermissionDenied, "tenant: another agent's quota");
    t.err(l.retire_agent(NAME), Error::PermissionDenied, "tenant: retire its own agent");
    t.err(l.ensure_agent(NAME, &[(0, UNLIMITED)], None), Error::PermissionDenied, "tenant: ensure itself an unlimited quota");
    println!("tenant: {} passed, {} failed", t.pass, t.fail);
    println!("holding");
    std::io::stdout().flush().ok();
    // Hold the reservations until the orchestrator kills us.
    let _keep = (big, at);
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

fn scenario(t: &mut Tally) -> Option<()> {
    let l = t.ok(Ledger::open(), "open /dev/gpu_dma_lock")?;
    let v = t.ok(l.version(), "version")?;
    t.check(v.abi_major == 1 && v.enforcing && !v.module_version.is_empty(), &format!("version: {v:?}"));
    let devs = t.ok(l.devices(), "devices")?;
    t.check(!devs.is_empty() && devs[0].index == 0 && devs[0].pci, &format!("device 0 is a PCI device: {:?}", devs.first()));
    t.err(l.whoami(), Error::NoAgent, "whoami: root is bound to no agent (default_policy=deny)");

    // Events since this ledger was opened: every agent's, as root.
    let watch = t.ok(Ledger::open(), "open a second ledger for events")?;
    t.check(std::os::unix::io::AsRawFd::as_raw_fd(&watch) >= 0, "the event ledger has an fd to poll");
    t.check(watch.read_events(8, Some(Duration::ZERO)).map(|v| v.is_empty()) == Ok(true), "no events yet");

    let id = t.ok(l.create_agent(NAME, 0), "create agent")?;
    t.err(l.create_agent(NAME, 0), Error::Exists, "create it twice");
    t.check(l.find_agent(NAME) == Ok(id), "find it by name");
    t.check(l.agents().map(|a| a.iter().any(|a| a.id == id && a.name == NAME && a.default_quota == Some(0))) == Ok(true), "agent list shows it");
    let _ = std::fs::create_dir(CG);
    t.ok(l.bind_cgroup(id, CG), "bind the child's cgroup")?;
    let cgid = t.ok(cgroup_id(CG), "cgroup id of its path")?;
    t.check(l.bindings(Some(id)) == Ok(vec![Binding { agent: id, target: BindTarget::Cgroup(cgid), exited: false }]), "bindings: the cgroup");
    t.ok(l.set_quota(id, 0, 4 * MIB), "set a 4M quota on device 0")?;
    t.check(l.quota(id, 0).map(|q| q.quota) == Ok(Some(4 * MIB)), "quota get: 4M");

    // ACLs, as root.
    let e = AclEntry { agent: id, device: 0, rights: Access::READ, addr: 0x900000, len: 4096, ..Default::default() };
    t.ok(l.acl_grant(&[e]), "acl grant")?;
    t.check(l.acl_list(Some(id)) == Ok(vec![e]), "acl list: the entry");
    t.ok(l.acl_revoke(&[e]), "acl revoke")?;
    let other = t.ok(l.create_agent("rs-other", 0), "create another agent")?;
    t.err(l.acl_revoke(&[e]), Error::NotFound, "acl revoke twice");

    // The child, started in the cgroup before it runs anything of its own.
    let procs = std::fs::OpenOptions::new().write(true).open(format!("{CG}/cgroup.procs"));
    let procs = t.ok(procs.map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0))), "open cgroup.procs")?;
    let mut cmd = Command::new(std::env::current_exe().ok()?);
    cmd.env("GDL_ROLE", "tenant").env("GDL_AGENT", id.to_string()).env("GDL_OTHER", other.to_string()).stdout(Stdio::piped());
    // SAFETY: only a write(2) between fork and exec.
    unsafe {
        cmd.pre_exec(move || (&procs).write_all(b"0"));
    }
    let mut tenant = Tenant(t.ok(cmd.spawn().map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0))), "start the tenant in the cgroup")?);
    let child = &mut tenant.0;
    let mut out = BufReader::new(child.stdout.take()?);
    let held = relay(t, &mut out, "holding");
    t.check(held, "the tenant holds its reservations");
    if let Some(q) = t.ok(l.quota(id, 0), "quota get while the tenant holds") {
        t.check(q.usage == 4 * MIB && q.reservations == 2 && q.denied == 3, &format!("usage 4M in 2 reservations, 3 denials (2 quota, 1 DMA): {q:?}"));
    }

    // The refusals' events, from the blocking iterator; a second one gets
    // the third, which the first left unread.  The iterator blocks for
    // ever: a watchdog turns a lost event into a failure, not a hang.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = done.clone();
    let pid = child.id() as i32;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        if !watchdog.load(std::sync::atomic::Ordering::SeqCst) {
            println!("FAIL rust: the events iterator still blocks after 30 s: an event was lost");
            // SAFETY: a plain syscall; exit() runs no destructor to do it.
            unsafe { kill(pid, 9) };
            std::process::exit(1);
        }
    });
    let mut evs: Vec<Event> = watch.events().take(2).filter_map(|r| r.ok()).collect();
    evs.extend(watch.events().take(1).filter_map(|r| r.ok()));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    t.check(evs.len() == 3 && evs.iter().all(|e| e.agent == id && e.device == 0 && !e.audit && e.pid == child.id() as i32), &format!("three events of the tenant: {evs:?}"));
    t.check(evs.len() == 3 && evs[..2].iter().all(|e| e.kind == EventKind::QuotaExceeded && e.value2 == 4 * MIB) && evs[0].value == 4096 && evs[1].value == 1 && evs[0].seq < evs[1].seq, "two quota_exceeded events with the sizes asked for, in order");
    t.check(evs.len() == 3 && evs[2].kind == EventKind::DmaDenied && evs[2].value == 0x900000 && evs[2].value2 == 4096 && evs[2].access == Access::READ, "then the dma_denied event with the range and rights");

    t.ok(child.kill().map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0))), "kill the tenant");
    let status = child.wait().ok();
    t.check(status.and_then(|s| s.signal()) == Some(9), &format!("the tenant was alive, holding, until killed: {status:?}"));
    if let Some(q) = t.ok(l.quota(id, 0), "quota get after the kill") {
        t.check(q.usage == 0 && q.reservations == 0, &format!("usage 0 after the kill: {q:?}"));
    }

    t.ok(l.destroy_agent(id), "destroy the agent")?;
    t.err(l.find_agent(NAME), Error::NotFound, "find the destroyed agent");
    t.err(l.destroy_agent(id), Error::NotFound, "destroy it twice");
    let evs = watch.read_events(8, Some(Duration::from_secs(5)));
    t.check(matches!(&evs, Ok(v) if v.iter().any(|e| e.kind == EventKind::AgentDestroyed && e.agent == id)), &format!("agent_destroyed event: {evs:?}"));
    let _ = std::fs::remove_dir(CG);

    // The lifecycle helper: idempotent ensure, undone on failure, retire.
    let _ = std::fs::create_dir(CG);
    let q = [(ALL_DEVICES, 2 * MIB), (0, 3 * MIB)];
    let lid = t.ok(l.ensure_agent("rs-life", &q, Some(std::path::Path::new(CG))), "ensure an agent with quotas and a cgroup")?;
    t.check(l.quota(lid, 0).map(|q| q.quota) == Ok(Some(3 * MIB)) && l.quota(lid, 1).map(|q| q.quota) == Ok(Some(2 * MIB)), "ensure set the quotas in order (all 2M, then device 0 3M)");
    t.check(l.bindings(Some(lid)).map(|b| b.len()) == Ok(1), "ensure bound the cgroup");
    t.check(l.ensure_agent("rs-life", &q, Some(std::path::Path::new(CG))) == Ok(lid), "ensure again: the same agent");
    t.err(l.ensure_agent("rs-life2", &[(31, MIB)], None), Error::NoDevice, "ensure with an unknown device");
    t.err(l.find_agent("rs-life2"), Error::NotFound, "the agent ensure created was destroyed again");
    t.ok(l.retire_agent("rs-life"), "retire the agent");
    t.err(l.find_agent("rs-life"), Error::NotFound, "retired: gone");
    t.ok(l.retire_agent("rs-life"), "retire it again: already gone is success");
    let _ = std::fs::remove_dir(CG);

    share(t, &l);
    destroyed_exporter(t, &l);

    // Bad input: typed errors, nothing changed.
    t.err(l.create_agent(&"n".repeat(NAME_MAX + 1), 0), Error::InvalidArgument, "an over-long name");
    let tmp = t.ok(l.create_agent("rs-bad", 0), "create a scratch agent")?;
    t.err(l.set_quota(tmp, 31, MIB), Error::NoDevice, "quota on an unknown device");
    t.err(l.quota(tmp, 31), Error::NoDevice, "quota get of an unknown device");
    t.err(l.bind_cgroup(tmp, "/proc"), Error::NotCgroup, "bind a directory that is no cgroup");
    t.err(l.bind_pid(tmp, 999_999), Error::AgentGone, "bind a pid that does not exist");
    t.err(l.reserve(0, MIB), Error::NoAgent, "root reserves, bound to no agent");
    t.ok(l.destroy_agent(tmp), "destroy the scratch agent");
    t.ok(l.destroy_agent(other), "destroy the other agent");
    if let Some(s) = t.ok(l.stats(), "stats") {
        t.check(s.consistent() && s.get("live_reservations") == Some(0), &format!("ledger consistent, no reservations: {s:?}"));
    }
    l.close();
    Some(())
}

/// The importer of the share scenario, in agent B's cgroup as uid 65534:
/// `denied` (no grant yet) or `hold` (attach, then hold a handle until a
/// line comes on stdin).  The memfd key is inherited as fd GDL_MEMFD.
fn importer(step: &str) -> i32 {
    let mut t = Tally { pass: 0, fail: 0 };
    t.check(drop_root(), "importer: dropped to uid/gid 65534");
    let fd: i32 = std::env::var("GDL_MEMFD").ok().and_then(|s| s.parse().ok()).unwrap_or(-1);
    // SAFETY: the scenario left the memfd open across exec for us.
    let memfd = unsafe { BorrowedFd::borrow_raw(fd) };
    let key = [0xc3u8; SHARE_KEY_LEN];
    let l = match t.ok(Ledger::open(), "importer: open") {
        Some(l) => l,
        None => return 1,
    };
    if step == "denied" {
        t.err(l.attach(&key), Error::DmaDenied, "importer: attach by bytes without a grant");
        t.err(l.attach_fd(memfd), Error::DmaDenied, "importer: attach by the memfd without a grant");
        t.err(l.attach(&[0x5a; SHARE_KEY_LEN]), Error::NotFound, "importer: attach by an unknown key");
    } else {
        let by_bytes = t.ok(l.attach(&key), "importer: attach by bytes with a grant");
        if let Some(a) = t.ok(l.attach_fd(memfd), "importer: attach by the memfd with a grant") {
            t.check(by_bytes.as_ref().map(|b| b.handle() != a.handle()) == Some(true), "importer: two handles of its own");
            t.ok(a.release(), "importer: release the memfd's handle");
        }
        if let Some(q) = t.ok(l.quota(SELF_AGENT, 0), "importer: own quota") {
            t.check(q.usage == 0, &format!("importer: nothing charged to B: {q:?}"));
        }
        println!("holding");
        std::io::stdout().flush().ok();
        let mut go = String::new();
        let _ = std::io::stdin().read_line(&mut go);
        // by_bytes drops here: the last handle, and with it the charge.
        drop(by_bytes);
    }
    println!("importer: {} passed, {} failed", t.pass, t.fail);
    println!("done");
    std::io::stdout().flush().ok();
    0
}

/// Shared reservations (ABI 1.3): this process, bound by pid to agent A,
/// reserves and shares by 64 bytes and by a memfd; the importer (this
/// binary again, in agent B's cgroup as uid 65534) attaches, first without
/// A's grant, then with it, and holds the memory after the exporter's file
/// is closed.
fn share(t: &mut Tally, l: &Ledger) -> Option<()> {
    let a = t.ok(l.create_agent("rs-share-a", 0), "share: create the exporter's agent A")?;
    let b = t.ok(l.create_agent("rs-share-b", 0), "share: create the importer's agent B")?;
    t.ok(l.set_quota(a, 0, MIB), "share: A may use 1M")?;
    let _ = std::fs::create_dir(CG_B);
    t.ok(l.bind_cgroup(b, CG_B), "share: bind B's cgroup")?;
    t.ok(l.bind_pid(a, std::process::id()), "share: bind this process to A")?;
    let key = [0xc3u8; SHARE_KEY_LEN];
    // SAFETY: a plain syscall; no MFD_CLOEXEC, so the importer inherits it.
    let raw = unsafe { memfd_create(b"gdl-share\0".as_ptr().cast(), 0) };
    t.check(raw >= 0, "share: memfd_create");
    // SAFETY: a new fd that nothing else owns.
    let memfd = unsafe { OwnedFd::from_raw_fd(raw) };
    let exp = t.ok(Ledger::open(), "share: the exporter's ledger")?;
    {
        let r = t.ok(exp.reserve(0, SHARED), "share: A reserves 64K")?;
        t.ok(r.share(&key), "share: by 64 bytes");
        t.ok(r.share(&key), "share: the same key again changes nothing");
        t.ok(r.share_fd(&memfd), "share: by the memfd");
        let r2 = t.ok(exp.reserve(0, 4096), "share: A reserves 4K more")?;
        t.err(r2.share(&key), Error::Exists, "share: a key names one reservation");
        t.err(r.share(&[0; SHARE_KEY_LEN]), Error::InvalidArgument, "share: an all-zero key");
        let (s1, _s2) = t.ok(std::os::unix::net::UnixStream::pair().map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0))), "share: a socket pair")?;
        t.err(r.share_fd(&s1), Error::NotAKeyFile, "share: a socket is no key (EBADFD)");
        drop(r2);

        let start = |step: &str| -> Result<Tenant> {
            let procs = std::fs::OpenOptions::new().write(true).open(format!("{CG_B}/cgroup.procs")).map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0)))?;
            let mut cmd = Command::new(std::env::current_exe().map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0)))?);
            cmd.env("GDL_ROLE", "importer").env("GDL_STEP", step).env("GDL_MEMFD", memfd.as_raw_fd().to_string()).stdin(Stdio::piped()).stdout(Stdio::piped());
            // SAFETY: only a write(2) between fork and exec.
            unsafe {
                cmd.pre_exec(move || (&procs).write_all(b"0"));
            }
            cmd.spawn().map(Tenant).map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0)))
        };

        // B without a grant: refused.
        let mut imp = t.ok(start("denied"), "share: start the importer without a grant")?;
        let mut out = BufReader::new(imp.0.stdout.take()?);
        let seen = relay(t, &mut out, "done");
        t.check(seen, "share: the importer without a grant ran to its end");
        t.check(imp.0.wait().map(|s| s.success()).unwrap_or(false), "share: the importer exited 0");

        // A grants B its memory on the whole device: B attaches and holds.
        let grant = AclEntry { agent: b, owner: a, device: 0, rights: Access::RW, addr: 0, len: u64::MAX, ..Default::default() };
        t.ok(l.acl_grant(&[grant]), "share: grant B the whole device of A's")?;
        let mut imp = t.ok(start("hold"), "share: start the importer with the grant")?;
        let mut out = BufReader::new(imp.0.stdout.take()?);
        let seen = relay(t, &mut out, "holding");
        t.check(seen, "share: the importer holds a handle");
        t.ok(r.release(), "share: the exporter releases its handle");
        t.check(l.quota(a, 0).map(|q| q.usage) == Ok(SHARED), "share: still charged to A while the importer holds it");
        exp.close();
        t.check(l.quota(a, 0).map(|q| q.usage) == Ok(SHARED), "share: still charged to A after the exporter's ledger closed");
        t.check(l.quota(b, 0).map(|q| q.usage) == Ok(0), "share: never charged to B");
        let _ = imp.0.stdin.take().map(|mut i| i.write_all(b"go\n"));
        let seen = relay(t, &mut out, "done");
        t.check(seen, "share: the importer holding ran to its end");
        t.check(imp.0.wait().map(|s| s.success()).unwrap_or(false), "share: the importer exited 0");
        t.check(l.quota(a, 0).map(|q| q.usage) == Ok(0), "share: the charge went with the importer's last handle");
        t.err(l.attach(&key), Error::NotFound, "share: the keys went with the reservation");
        t.ok(l.acl_revoke(&[grant]), "share: revoke the grant");
    }
    // Keys count against the agent's share of reservations.
    {
        let exp = t.ok(Ledger::open(), "share: a second exporter's ledger")?;
        let r = t.ok(exp.reserve(0, 4096), "share: A reserves 4K")?;
        t.ok(l.set_agent_limits(a, 2, 0), "share: A's share of reservations: 2");
        t.check(l.agents().map(|v| v.iter().any(|x| x.id == a && x.max_reservations == 2)) == Ok(true), "share: the agent list shows that share");
        t.ok(r.share(&key), "share: the key is the second");
        t.err(r.share_fd(&memfd), Error::ShareExhausted, "share: a third by the memfd");
        t.err(exp.reserve(0, 4096), Error::ShareExhausted, "share: a third by reserving");
        t.ok(l.set_agent_limits(a, 0, 0), "share: A's share back to the default");
        t.ok(r.share_fd(&memfd), "share: by the memfd, within the share");
    }
    t.check(l.quota(a, 0).map(|q| q.usage) == Ok(0), "share: the exporter's close released it");
    t.ok(l.unbind_pid(a, std::process::id()), "share: unbind this process");
    t.ok(l.destroy_agent(a), "share: destroy A");
    t.ok(l.destroy_agent(b), "share: destroy B");
    let _ = std::fs::remove_dir(CG_B);
    Some(())
}

/// Issue 22 (ABI 1.4): the exporter's agent A is destroyed while the
/// importer (in agent B's cgroup) holds a handle on A's shared memory.  A
/// stays visible: agents_including_destroyed() lists it, destroyed,
/// quota_including_destroyed() reads what it holds, holders() names the
/// importer's process, until the importer lets go; agents() never shows it.
fn destroyed_exporter(t: &mut Tally, l: &Ledger) -> Option<()> {
    let a = t.ok(l.create_agent("rs-dead-a", 0), "destroyed: create the exporter's agent A")?;
    let b = t.ok(l.create_agent("rs-dead-b", 0), "destroyed: create the importer's agent B")?;
    t.ok(l.set_quota(a, 0, MIB), "destroyed: A may use 1M")?;
    let _ = std::fs::create_dir(CG_B);
    t.ok(l.bind_cgroup(b, CG_B), "destroyed: bind B's cgroup")?;
    t.ok(l.bind_pid(a, std::process::id()), "destroyed: bind this process to A")?;
    let key = [0xc3u8; SHARE_KEY_LEN];
    // SAFETY: a plain syscall; no MFD_CLOEXEC, so the importer inherits it.
    let raw = unsafe { memfd_create(b"gdl-dead\0".as_ptr().cast(), 0) };
    t.check(raw >= 0, "destroyed: memfd_create");
    // SAFETY: a new fd that nothing else owns.
    let memfd = unsafe { OwnedFd::from_raw_fd(raw) };
    let exp = t.ok(Ledger::open(), "destroyed: the exporter's ledger")?;
    let r = t.ok(exp.reserve(0, SHARED), "destroyed: A reserves 64K")?;
    t.ok(r.share(&key), "destroyed: A shares it by 64 bytes");
    t.ok(r.share_fd(&memfd), "destroyed: and by the memfd");
    let grant = AclEntry { agent: b, owner: a, device: 0, rights: Access::RW, addr: 0, len: u64::MAX, ..Default::default() };
    t.ok(l.acl_grant(&[grant]), "destroyed: grant B the whole device of A's")?;
    let procs = t.ok(std::fs::OpenOptions::new().write(true).open(format!("{CG_B}/cgroup.procs")).map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0))), "destroyed: B's cgroup.procs")?;
    let mut cmd = Command::new(std::env::current_exe().ok()?);
    cmd.env("GDL_ROLE", "importer").env("GDL_STEP", "hold").env("GDL_MEMFD", memfd.as_raw_fd().to_string()).stdin(Stdio::piped()).stdout(Stdio::piped());
    // SAFETY: only a write(2) between fork and exec.
    unsafe {
        cmd.pre_exec(move || (&procs).write_all(b"0"));
    }
    let mut imp = Tenant(t.ok(cmd.spawn().map_err(|e| Error::Os(e.raw_os_error().unwrap_or(0))), "destroyed: start the importer")?);
    let pid = imp.0.id() as i32;
    let mut out = BufReader::new(imp.0.stdout.take()?);
    let seen = relay(t, &mut out, "holding");
    t.check(seen, "destroyed: the importer holds a handle");
    drop(r);
    exp.close();
    drop(memfd);
    t.ok(l.destroy_agent(a), "destroyed: destroy A");
    t.check(l.agents().map(|v| v.iter().all(|x| x.id != a)) == Ok(true), "destroyed: agents() leaves A out, as before ABI 1.4");
    let all = t.ok(l.agents_including_destroyed(), "destroyed: agents_including_destroyed()")?;
    let dead: Vec<&Agent> = all.iter().filter(|x| x.id == a).collect();
    t.check(dead.len() == 1 && dead[0].destroyed && dead[0].name == "rs-dead-a", &format!("destroyed: A is listed, destroyed: {dead:?}"));
    t.check(all.iter().all(|x| x.id == a || !x.destroyed), "destroyed: every other agent is live");
    let q = l.quota_including_destroyed(a, 0);
    t.check(q.as_ref().map(|q| q.usage == SHARED && q.destroyed) == Ok(true), &format!("destroyed: quota_including_destroyed() reads what A holds: {q:?}"));
    t.err(l.quota(a, 0), Error::NotFound, "destroyed: quota() of A: NotFound, as before");
    let h = l.holders(Some(a));
    t.check(
        h.as_ref().map(|h| h.len() == 1 && h[0].pid == pid && h[0].agent == a && h[0].device == 0 && h[0].size == SHARED && h[0].destroyed && h[0].attached) == Ok(true),
        &format!("destroyed: holders(A) names the importer's process {pid}: {h:?}"),
    );
    let _ = imp.0.stdin.take().map(|mut i| i.write_all(b"go\n"));
    let seen = relay(t, &mut out, "done");
    t.check(seen, "destroyed: the importer released and ran to its end");
    t.check(imp.0.wait().map(|s| s.success()).unwrap_or(false), "destroyed: the importer exited 0");
    t.check(l.agents_including_destroyed().map(|v| v.iter().all(|x| x.id != a)) == Ok(true), "destroyed: A is gone with its last holder");
    t.check(l.holders(Some(a)) == Ok(vec![]), "destroyed: nothing holds A's memory");
    t.err(l.quota_including_destroyed(a, 0), Error::NotFound, "destroyed: quota_including_destroyed() of A gone");
    t.ok(l.destroy_agent(b), "destroyed: destroy B");
    let _ = std::fs::remove_dir(CG_B);
    Some(())
}

fn main() {
    if std::env::var("GDL_ROLE").as_deref() == Ok("importer") {
        std::process::exit(importer(&std::env::var("GDL_STEP").unwrap_or_default()));
    }
    if std::env::var("GDL_ROLE").as_deref() == Ok("tenant") {
        let agent = std::env::var("GDL_AGENT").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
        let other = std::env::var("GDL_OTHER").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
        std::process::exit(tenant(agent, other));
    }
    // It creates agents and cgroups: only in the test VM, never on a host
    // whose ledger is in real use.
    if std::env::var_os("GDL_BINDINGS_VM").is_none() {
        println!("device: skipped outside the test VM (tests/bindings/run.sh runs it there)");
        return;
    }
    let mut t = Tally { pass: 0, fail: 0 };
    if scenario(&mut t).is_none() {
        t.check(false, "the scenario stopped early");
    }
    println!("rust-vm: {} passed, {} failed", t.pass, t.fail);
    std::process::exit(if t.fail == 0 { 0 } else { 1 });
}

// SPDX-License-Identifier: LGPL-2.1-or-later
//! Host tests, no module needed: the error mapping against docs/abi.md,
//! and the typed errors of bad input and of a file that is not the device
//! (/dev/null: every ioctl is ENOTTY there, so an EINVAL proves the check
//! was made before any reached the kernel).
use gpu_dma_lock::*;
use std::collections::HashSet;
use std::os::unix::io::AsRawFd;
use std::time::Duration;

fn abi_errnos() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/abi.md"))
        .expect("docs/abi.md");
    let table = doc.split("## Errors").nth(1).expect("an Errors section");
    let names: Vec<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `E"))
        .map(|l| format!("E{}", &l[..l.find('`').unwrap()]))
        .collect();
    assert!(names.len() >= 20, "{names:?}");
    names
}

fn errno_value(name: &str) -> i32 {
    (1..200).find(|&e| errno_name(e) == name).unwrap_or_else(|| panic!("no value for {name}"))
}

#[test]
fn every_abi_errno_has_its_own_variant_and_advice() {
    let mut seen = HashSet::new();
    for name in abi_errnos() {
        let e = Error::from_errno(-errno_value(&name));
        assert!(!matches!(e, Error::Os(_)), "{name} has no variant");
        assert!(seen.insert(format!("{e:?}")), "{name} shares variant {e:?}");
        assert_eq!(errno_name(e.errno()), name);
        let text = e.to_string();
        assert!(text.contains(&format!("({name})")), "{text}");
        assert!(text.len() > 40, "{name}: too short to say what to do: {text}");
    }
}

#[test]
fn quota_exceeded_says_what_to_do() {
    let e = Error::from_errno(-errno::EDQUOT);
    assert_eq!(e, Error::QuotaExceeded);
    assert!(e.to_string().contains("raise the quota"));
    let io: std::io::Error = e.into();
    assert_eq!(io.raw_os_error(), None);
    assert!(io.to_string().contains("EDQUOT"));
    assert!(strerror(errno::EDQUOT).contains("EDQUOT"));
}

#[test]
fn unknown_errno_is_os() {
    assert_eq!(Error::from_errno(-4), Error::Os(4));
    assert_eq!(Error::Os(4).errno(), 4);
}

#[test]
fn open_missing_paths() {
    assert_eq!(Ledger::open_path("/nonexistent/gpu_dma_lock").unwrap_err(), Error::NotFound);
    assert_eq!(Ledger::open_path("/dev/nu\0ll").unwrap_err(), Error::InvalidArgument);
    if !std::path::Path::new(DEVICE_PATH).exists() {
        let e = Ledger::open().unwrap_err();
        assert_eq!(e, Error::NotLoaded);
        assert!(e.to_string().contains("gpu-dma-lock-ctl load"));
    }
}

fn devnull() -> Ledger {
    Ledger::open_path("/dev/null").expect("/dev/null opens")
}

#[test]
fn not_the_device_is_not_supported() {
    let l = devnull();
    assert!(l.as_raw_fd() >= 0);
    assert_eq!(l.version().unwrap_err(), Error::NotSupported);
    assert_eq!(l.whoami().unwrap_err(), Error::NotSupported);
    assert_eq!(l.devices().unwrap_err(), Error::NotSupported);
    assert_eq!(l.reserve(0, 4096).unwrap_err(), Error::NotSupported);
    assert_eq!(l.create_agent("ok", 0).unwrap_err(), Error::NotSupported);
    assert_eq!(l.read_events(4, Some(Duration::ZERO)).unwrap_err(), Error::NotEventChannel);
    let mut it = l.events();
    assert_eq!(it.next(), Some(Err(Error::NotEventChannel)));
    assert_eq!(it.next(), None);
}

#[test]
fn bad_names_are_refused_before_the_kernel() {
    let l = devnull();
    let long = "x".repeat(NAME_MAX + 1);
    assert_eq!(l.create_agent(&long, 0).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.create_agent("", 0).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.create_agent("a\0b", 0).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.find_agent(&long).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.ensure_agent(&long, &[], None).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.retire_agent("").unwrap_err(), Error::InvalidArgument);
    // The longest name passes the check and reaches the (non-)device.
    assert_eq!(l.ensure_agent(&"y".repeat(NAME_MAX), &[(ALL_DEVICES, 1)], None).unwrap_err(), Error::NotSupported);
    assert_eq!(l.retire_agent(&"y".repeat(NAME_MAX)).unwrap_err(), Error::NotSupported);
    assert_eq!(l.create_agent(&"y".repeat(NAME_MAX), 0).unwrap_err(), Error::NotSupported);
}

#[test]
fn bad_arguments_are_typed() {
    let l = devnull();
    assert_eq!(l.acl_grant(&[]).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.read_events(0, None).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.bind_pid(1, u32::MAX).unwrap_err(), Error::InvalidArgument);
    assert_eq!(l.bind_cgroup(1, "/nonexistent").unwrap_err(), Error::NotFound);
    assert_eq!(cgroup_id("/proc").unwrap_err(), Error::NotCgroup);
    assert_eq!(cgroup_id("/nonexistent").unwrap_err(), Error::NotFound);
}

#[test]
fn sizes_parse_like_the_ctl() {
    assert_eq!(parse_size("64M").unwrap(), 64 << 20);
    assert_eq!(parse_size("unlimited").unwrap(), UNLIMITED);
    assert_eq!(parse_size("12Q").unwrap_err(), Error::InvalidArgument);
    assert_eq!(parse_size("99999999999999999999").unwrap_err(), Error::SizeOutOfRange);
}

#[test]
fn crate_version_is_debian_changelogs() {
    let cl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../debian/changelog")).unwrap();
    let first = cl.lines().next().unwrap();
    let upstream = first.split(['(', ')']).nth(1).unwrap().split('-').next().unwrap();
    assert_eq!(env!("CARGO_PKG_VERSION"), upstream, "utils/rust/Cargo.toml's version must follow debian/changelog");
}

#[test]
fn access_bits_are_the_abis() {
    assert_eq!((Access::READ | Access::WRITE).bits(), 0x3);
    assert_eq!(Access::RW, Access::READ | Access::WRITE);
    assert!(Access::RW.contains(Access::READ));
    assert!(!Access::READ.contains(Access::RW));
    assert_eq!(Access::PEER.bits(), 0x4);
}

/// Every symbol of `libgpudmalock.map` is declared in `sys` or listed, for
/// Rust, in `utils/lib/unwrapped.txt`, and nothing listed is declared.
#[test]
fn every_library_symbol_is_wrapped_or_listed() {
    let top = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let read = |p: &str| std::fs::read_to_string(format!("{top}/{p}")).expect(p);
    let map = read("utils/lib/libgpudmalock.map");
    let exported: Vec<&str> = map.lines().map(str::trim).filter(|l| l.starts_with("gdlock_") && l.ends_with(';')).map(|l| l.trim_end_matches(';')).collect();
    let sys = read("utils/rust/src/sys.rs");
    let declared: Vec<&str> = sys.split("pub fn ").skip(1).filter_map(|s| s.split('(').next()).filter(|s| s.starts_with("gdlock_")).collect();
    let list = read("utils/lib/unwrapped.txt");
    let unwrapped: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (sym, who) = (f.next()?, f.next()?);
            (who == "all" || who == "rust").then_some(sym)
        })
        .collect();
    assert!(exported.len() > 40, "parsed the map: {exported:?}");
    let missing: Vec<_> = exported.iter().filter(|s| !declared.contains(s) && !unwrapped.contains(s)).collect();
    assert!(missing.is_empty(), "exported by libgpudmalock but neither wrapped in sys.rs nor listed in utils/lib/unwrapped.txt: {missing:?}");
    let stale: Vec<_> = unwrapped.iter().filter(|s| declared.contains(s) || !exported.contains(s)).collect();
    assert!(stale.is_empty(), "listed in utils/lib/unwrapped.txt but declared in sys.rs, or not exported: {stale:?}");
}

#[test]
fn shared_reservations_reach_the_kernel() {
    let l = devnull();
    let fd = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(l.attach(&[0xc3; SHARE_KEY_LEN]).unwrap_err(), Error::NotSupported);
    assert_eq!(l.attach_fd(&fd).unwrap_err(), Error::NotSupported);
    assert_eq!(l.set_agent_limits(1, 2, 3).unwrap_err(), Error::NotSupported);
}

/// The holders table as the module writes it, through the C parser.
#[test]
fn holders_table_parses() {
    let path = std::env::temp_dir().join(format!("gdl-holders-{}", std::process::id()));
    std::fs::write(&path, "pid handle agent state device size kind\n412 1 65537 live 0 1048576 reserved\n0 7 131074 destroyed 1 805306368 attached\n").unwrap();
    let all = holders_at(&path, None).unwrap();
    assert_eq!(
        all,
        vec![
            Holder { pid: 412, agent: 65537, handle: 1, device: 0, size: 1 << 20, destroyed: false, attached: false },
            Holder { pid: 0, agent: 131074, handle: 7, device: 1, size: 768 << 20, destroyed: true, attached: true },
        ]
    );
    assert_eq!(holders_at(&path, Some(131074)).unwrap(), all[1..].to_vec());
    assert_eq!(holders_at(&path, Some(1)).unwrap(), vec![]);
    std::fs::write(&path, "pid handle agent\n").unwrap();
    assert_eq!(holders_at(&path, None), Err(Error::Os(EBADMSG)));
    std::fs::remove_file(&path).unwrap();
    assert_eq!(holders_at(&path, None), Err(Error::NotFound));
}

const EBADMSG: i32 = 74; // Linux's; the crate has no libc dependency

/// The opt-in calls reach the kernel (ENOTTY from /dev/null).
#[test]
fn destroyed_calls_reach_the_kernel() {
    let l = devnull();
    assert_eq!(l.agents_including_destroyed(), Err(Error::NotSupported));
    assert_eq!(l.quota_including_destroyed(1, 0), Err(Error::NotSupported));
}

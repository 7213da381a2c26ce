// SPDX-License-Identifier: LGPL-2.1-or-later
//! The `#[repr(C)]` mirrors in `sys` against the C header itself: a C
//! program generated from the same field lists prints every size and
//! offset as the compiler lays them out in src/uapi/gpu_dma_lock.h, and
//! the errno values, which must equal what Rust has.
use gpu_dma_lock::errno::*;
use gpu_dma_lock::sys::*;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// (C struct, C field, Rust offset, Rust size) of every field, and
/// ("sizeof", C struct, size, 0) of every struct.
macro_rules! layout {
    ($out:ident, $t:ident { $($f:ident $(= $cf:literal)?),* $(,)? }) => {{
        let v = $t::default();
        let base = &v as *const $t as usize;
        $out.push((stringify!($t), "sizeof".to_string(), std::mem::size_of::<$t>()));
        $(
            let cname = layout!(@name $f $($cf)?);
            let off = std::ptr::addr_of!(v.$f) as usize - base;
            $out.push((stringify!($t), format!("{}@", cname), off));
            $out.push((stringify!($t), format!("{}#", cname), std::mem::size_of_val(&v.$f)));
        )*
    }};
    (@name $f:ident $cf:literal) => { $cf };
    (@name $f:ident) => { stringify!($f) };
}

fn rust_layout() -> Vec<(&'static str, String, usize)> {
    let mut o = Vec::new();
    layout!(o, gdl_version { abi_major, abi_minor, max_devices, max_agents, flags, reserved0, module_version, reserved });
    layout!(o, gdl_whoami { agent_id, bound_by, host_pid, reserved0, reserved });
    layout!(o, gdl_device_info { index, flags, pci_domain, pci_bdf, vendor, device, reserved0, capacity, used, peak, nr_reservations, name, uuid, reserved });
    layout!(o, gdl_agent_info { id, flags, name, default_quota, nr_bindings, reserved0, max_reservations, max_acl_entries, reserved });
    layout!(o, gdl_binding_info { agent_id, type_ = "type", target, flags, reserved0, reserved });
    layout!(o, gdl_quota { agent_id, dev_index, quota, usage, peak, nr_reservations, denied, flags, reserved0, reserved });
    layout!(o, gdl_reserve { dev_index, flags, size, addr, handle, agent_id, result, reserved });
    layout!(o, gdl_dma_check { dev_index, access, peer_index, reserved0, addr, len, owner_id, result, reserved });
    layout!(o, gdl_acl_entry { agent_id, owner_id, dev_index, rights, peer_index, reserved0, addr, len, reserved });
    layout!(o, gdl_stats { nr_counters, reserved0, counters, reserved });
    layout!(o, gdlock_ensure_quota { device, reserved, bytes });
    layout!(o, gdlock_holder { pid, agent_id, handle, dev_index, flags, size });
    layout!(o, gdl_event { seq, time_ns, type_ = "type", flags, agent_id, dev_index, pid, access, value, value2, reserved });
    o
}

fn rust_errnos() -> Vec<(&'static str, i32)> {
    vec![
        ("EPERM", EPERM), ("ENOENT", ENOENT), ("ESRCH", ESRCH), ("EIO", EIO),
        ("E2BIG", E2BIG), ("EBADF", EBADF), ("EAGAIN", EAGAIN), ("ENOMEM", ENOMEM),
        ("EACCES", EACCES), ("EFAULT", EFAULT), ("EBUSY", EBUSY), ("EEXIST", EEXIST),
        ("ENODEV", ENODEV), ("EINVAL", EINVAL), ("ENOTTY", ENOTTY), ("ENOSPC", ENOSPC),
        ("ERANGE", ERANGE), ("ENOLINK", ENOLINK), ("EOVERFLOW", EOVERFLOW),
        ("EUSERS", EUSERS), ("EADDRINUSE", EADDRINUSE), ("ENOBUFS", ENOBUFS),
        ("EDQUOT", EDQUOT), ("EMFILE", EMFILE), ("EBADFD", EBADFD),
        ("ENOTUNIQ", ENOTUNIQ),
    ]
}

/// Flag values the bindings decode, which must equal the header's.
fn rust_flags() -> Vec<(&'static str, u32)> {
    vec![
        ("GDL_DEV_F_PCI", GDL_DEV_F_PCI),
        ("GDL_DEV_F_MANUAL", GDL_DEV_F_MANUAL),
        ("GDL_DEV_F_GONE", GDL_DEV_F_GONE),
        ("GDL_AGENT_F_DESTROYED", GDL_AGENT_F_DESTROYED),
        ("GDL_LIST_F_DESTROYED", GDL_LIST_F_DESTROYED),
        ("GDL_QUOTA_F_DESTROYED", GDL_QUOTA_F_DESTROYED),
        ("GDLOCK_HOLDER_DESTROYED", GDLOCK_HOLDER_DESTROYED),
        ("GDLOCK_HOLDER_ATTACHED", GDLOCK_HOLDER_ATTACHED),
        ("GDL_EVENT_QUOTA_EXCEEDED", GDL_EVENT_QUOTA_EXCEEDED),
        ("GDL_EVENT_CAPACITY_EXCEEDED", GDL_EVENT_CAPACITY_EXCEEDED),
        ("GDL_EVENT_DMA_DENIED", GDL_EVENT_DMA_DENIED),
        ("GDL_EVENT_AGENT_DESTROYED", GDL_EVENT_AGENT_DESTROYED),
        ("GDL_EVENT_LOST", GDL_EVENT_LOST),
        ("GDL_EVENT_DEVICE_GONE", GDL_EVENT_DEVICE_GONE),
        ("GDL_EVENT_DEVICE_BACK", GDL_EVENT_DEVICE_BACK),
    ]
}

/// The C headers' directories: the source tree's, else the installed ones.
fn include_args() -> Vec<String> {
    let top = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    if std::path::Path::new(top).join("src/uapi/gpu_dma_lock.h").exists() {
        vec![format!("-I{top}/src/uapi"), format!("-I{top}/utils/include")]
    } else {
        vec![]
    }
}

#[test]
fn structs_and_errnos_match_the_c_header() {
    let rust = rust_layout();
    let mut c = String::from(
        "#include <errno.h>\n#include <stddef.h>\n#include <stdio.h>\n#include <gpudmalock.h>\n\
         #define F(s, f) printf(#s \" \" #f \"@ %zu\\n\" #s \" \" #f \"# %zu\\n\", \
         offsetof(struct s, f), sizeof(((struct s *)0)->f))\n\
         int main(void)\n{\n",
    );
    for (s, f, _) in &rust {
        if f == "sizeof" {
            writeln!(c, "\tprintf(\"{s} sizeof %zu\\n\", sizeof(struct {s}));").unwrap();
        } else if let Some(name) = f.strip_suffix('@') {
            writeln!(c, "\tF({s}, {name});").unwrap();
        }
    }
    for (n, _) in rust_errnos() {
        writeln!(c, "\tprintf(\"errno {n} %d\\n\", {n});").unwrap();
    }
    for (n, _) in rust_flags() {
        writeln!(c, "\tprintf(\"flag {n} %u\\n\", {n});").unwrap();
    }
    c.push_str("\treturn 0;\n}\n");

    let exe = format!("{}/layout-dump", env!("CARGO_TARGET_TMPDIR"));
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-Wall", "-Werror", "-x", "c", "-", "-o", &exe])
        .args(include_args())
        .stdin(Stdio::piped())
        .spawn()
        .expect("a C compiler (cc)");
    cc.stdin.take().unwrap().write_all(c.as_bytes()).unwrap();
    assert!(cc.wait().unwrap().success(), "the generated C did not compile:\n{c}");
    let out = Command::new(&exe).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();

    let mut want: Vec<String> = rust.iter().map(|(s, f, v)| format!("{s} {f} {v}")).collect();
    want.extend(rust_errnos().iter().map(|(n, v)| format!("errno {n} {v}")));
    want.extend(rust_flags().iter().map(|(n, v)| format!("flag {n} {v}")));
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), want.len(), "{text}");
    let diff: Vec<String> = want
        .iter()
        .zip(&got)
        .filter(|(w, g)| w != *g)
        .map(|(w, g)| format!("rust: {w}  C: {g}"))
        .collect();
    assert!(diff.is_empty(), "layout drift:\n{}", diff.join("\n"));
}

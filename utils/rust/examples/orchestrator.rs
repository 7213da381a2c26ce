// SPDX-License-Identifier: LGPL-2.1-or-later
//! A minimal orchestrator: runs a command in a new cgroup as agent NAME
//! with QUOTA bytes on every GPU, prints that agent's events while it
//! runs, and retires the agent when it exits.  As root:
//!
//!     orchestrator NAME QUOTA COMMAND [ARG...]
//!     orchestrator job-7 4G python3 train.py
use gpu_dma_lock::{parse_size, Ledger, ALL_DEVICES};
use std::{fs, io::Write, os::unix::process::CommandExt, path::Path, process::Command, time::Duration};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return Err("usage: orchestrator NAME QUOTA COMMAND [ARG...]".into());
    }
    let (name, quota, cg) = (&args[0], parse_size(&args[1])?, format!("/sys/fs/cgroup/{}", args[0]));
    let ledger = Ledger::open()?;
    fs::create_dir_all(&cg)?;
    let agent = ledger.ensure_agent(name, &[(ALL_DEVICES, quota)], Some(Path::new(&cg)))?;
    // The child joins the cgroup before it runs anything of its own.
    let procs = fs::OpenOptions::new().write(true).open(format!("{cg}/cgroup.procs"))?;
    let mut child = unsafe { Command::new(&args[2]).args(&args[3..]).pre_exec(move || (&procs).write_all(b"0")).spawn()? };
    let status = loop {
        let done = child.try_wait()?;
        for ev in ledger.read_events(64, Some(Duration::from_millis(if done.is_some() { 0 } else { 200 })))? {
            if ev.agent == agent {
                println!("{name}: {:?} on device {}: asked {} bytes, limit {}", ev.kind, ev.device, ev.value, ev.value2);
            }
        }
        if let Some(status) = done {
            break status;
        }
    };
    ledger.retire_agent(name)?;
    fs::remove_dir(&cg)?;
    println!("{name}: {status}, agent retired");
    Ok(())
}

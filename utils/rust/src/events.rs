// SPDX-License-Identifier: LGPL-2.1-or-later
//! The event channel: quota and capacity refusals, DMA denials, destroyed
//! agents, and (admins only) PCI devices gone and back, made since the
//! ledger was opened (admins see every agent's).

use crate::error::check;
use crate::{sys, AgentId, DeviceIndex, Error, Ledger, Result};
use crate::Access;
use std::os::raw::{c_int, c_uint};
use std::time::Duration;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A reservation was refused for quota (`value` size, `value2` quota).
    QuotaExceeded,
    /// A reservation was refused for capacity (`value` size, `value2` capacity).
    CapacityExceeded,
    /// A DMA check was denied (`value` address, `value2` length).
    DmaDenied,
    /// The agent was destroyed.
    AgentDestroyed,
    /// The reader fell behind: `value` events were lost.
    Lost,
    /// A PCI device left the bus (ABI 1.3; admins' readers only).
    DeviceGone,
    /// A gone PCI device came back under its index (ABI 1.3; admins only).
    DeviceBack,
    /// A newer module's event type.
    Unknown(u32),
}

/// One event record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Sequence number.
    pub seq: u64,
    /// CLOCK_MONOTONIC time in nanoseconds.
    pub time_ns: u64,
    /// What happened.
    pub kind: EventKind,
    /// Audit mode let it through.
    pub audit: bool,
    /// The agent.
    pub agent: AgentId,
    /// The device.
    pub device: DeviceIndex,
    /// The caller's thread group id (initial pid namespace).
    pub pid: i32,
    /// DMA denials: the rights asked for.
    pub access: Access,
    /// Size, address or count (see [`EventKind`]).
    pub value: u64,
    /// Limit or length (see [`EventKind`]).
    pub value2: u64,
}

impl Event {
    fn from_raw(e: &sys::gdl_event) -> Event {
        let kind = match e.type_ {
            sys::GDL_EVENT_QUOTA_EXCEEDED => EventKind::QuotaExceeded,
            sys::GDL_EVENT_CAPACITY_EXCEEDED => EventKind::CapacityExceeded,
            sys::GDL_EVENT_DMA_DENIED => EventKind::DmaDenied,
            sys::GDL_EVENT_AGENT_DESTROYED => EventKind::AgentDestroyed,
            sys::GDL_EVENT_LOST => EventKind::Lost,
            sys::GDL_EVENT_DEVICE_GONE => EventKind::DeviceGone,
            sys::GDL_EVENT_DEVICE_BACK => EventKind::DeviceBack,
            n => EventKind::Unknown(n),
        };
        Event {
            seq: e.seq,
            time_ns: e.time_ns,
            kind,
            audit: e.flags & sys::GDL_EVENT_F_AUDIT != 0,
            agent: e.agent_id,
            device: e.dev_index,
            pid: e.pid,
            access: Access::from_bits(e.access),
            value: e.value,
            value2: e.value2,
        }
    }

}

fn timeout_ms(t: Option<Duration>) -> c_int {
    match t {
        None => -1,
        Some(d) => d.as_millis().min(c_int::MAX as u128) as c_int,
    }
}

pub(crate) fn read(ledger: &Ledger, max: usize, timeout: Option<Duration>) -> Result<Vec<Event>> {
    if max == 0 {
        return Err(Error::InvalidArgument);
    }
    let cap = max.min(1024);
    let mut buf = vec![sys::gdl_event::default(); cap];
    // SAFETY: buf holds cap records; the ledger is live.
    let n = check(unsafe {
        sys::gdlock_event_read(ledger.raw(), buf.as_mut_ptr(), cap as c_uint, timeout_ms(timeout))
    })? as usize;
    Ok(buf[..n.min(cap)].iter().map(Event::from_raw).collect())
}

/// A blocking iterator over a ledger's events ([`Ledger::events`]).
/// It reads one record per step, so an iterator dropped early leaves the
/// rest for the next reader.  It ends only on an error, which it yields
/// once.
pub struct Events<'a> {
    ledger: &'a Ledger,
    failed: bool,
}

impl<'a> Events<'a> {
    pub(crate) fn new(ledger: &'a Ledger) -> Events<'a> {
        Events {
            ledger,
            failed: false,
        }
    }
}

impl Iterator for Events<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        if self.failed {
            return None;
        }
        loop {
            match read(self.ledger, 1, None) {
                Ok(v) => {
                    if let Some(e) = v.into_iter().next() {
                        return Some(Ok(e));
                    }
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

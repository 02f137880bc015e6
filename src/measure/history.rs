//! The history of one client's operations, Jepsen-style: what was sent, what was answered,
//! and where each acknowledged write was committed. Checkers read nothing else about clients.

use crate::logic::{Epoch, Lsn};
use crate::sim::time::SimTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OpStatus {
    /// No answer yet (judged at the end: failed if its deadline passed, else in flight).
    Pending,
    /// Acknowledged as committed at `(epoch, lsn)`.
    Acked,
    /// Refused by the server (a fast failure).
    Refused,
}

/// One operation. Kept small: a long run records millions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpRecord {
    pub sent: SimTime,
    /// When the answer arrived (for `Acked` and `Refused`).
    pub done: SimTime,
    pub lsn: Lsn,
    pub epoch: Epoch,
    pub status: OpStatus,
    /// Retries made so far.
    pub attempts: u8,
    /// Which of the population's workload streams (services) it belongs to.
    pub stream: u8,
}

#[derive(Clone, Debug, Default)]
pub struct History {
    ops: Vec<OpRecord>,
}

impl History {
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    pub fn ops(&self) -> &[OpRecord] {
        &self.ops
    }
    #[inline]
    pub fn get(&self, seq: u32) -> OpRecord {
        self.ops[seq as usize]
    }
    /// Records a new operation sent at `now`; returns its sequence number.
    #[inline]
    pub fn push(&mut self, now: SimTime, stream: u8) -> u32 {
        self.ops.push(OpRecord {
            sent: now,
            done: SimTime::MAX,
            lsn: 0,
            epoch: 0,
            status: OpStatus::Pending,
            attempts: 0,
            stream,
        });
        (self.ops.len() - 1) as u32
    }
    pub fn next_attempt(&mut self, seq: u32) -> u8 {
        let r = &mut self.ops[seq as usize];
        r.attempts = r.attempts.saturating_add(1);
        r.attempts
    }
    #[inline]
    pub fn ack(&mut self, seq: u32, now: SimTime, epoch: Epoch, lsn: Lsn) {
        let r = &mut self.ops[seq as usize];
        debug_assert_eq!(r.status, OpStatus::Pending);
        r.status = OpStatus::Acked;
        r.done = now;
        r.epoch = epoch;
        r.lsn = lsn;
    }
    pub fn refuse(&mut self, seq: u32, now: SimTime) {
        let r = &mut self.ops[seq as usize];
        r.status = OpStatus::Refused;
        r.done = now;
    }
}

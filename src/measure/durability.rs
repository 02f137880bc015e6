//! Lost acknowledged writes and the RPO measured from them.
//!
//! A write acknowledged at `(epoch, lsn)` survived when the authoritative log at the end of
//! the run holds an entry of that epoch at that position (within one epoch only one primary
//! assigns positions, so the pair names the write). The authoritative log is the live
//! primary's of the highest epoch; with no live primary, a write survives when any live member
//! holds it (RW1's "present on no live database").
//!
//! RPO = `max(0, t0 − earliest acknowledgement among lost writes)`: how far back data was
//! lost from the incident's start. Lost writes acknowledged after `t0` (a split brain's) do not
//! move the RPO; they are counted separately, and a target of RPO 0 fails on any loss.

use crate::logic::replication::Log;
use crate::logic::{Epoch, Lsn};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;

/// The logs a surviving write may be found in.
pub enum FinalData<'a> {
    /// The live primary's log is the truth.
    Primary(&'a Log),
    /// No live primary: any live member's log counts.
    AnyOf(Vec<&'a Log>),
}

impl FinalData<'_> {
    #[inline]
    pub fn holds(&self, epoch: Epoch, lsn: Lsn) -> bool {
        match self {
            FinalData::Primary(log) => log.epoch_at(lsn) == Some(epoch),
            FinalData::AnyOf(logs) => logs.iter().any(|l| l.epoch_at(lsn) == Some(epoch)),
        }
    }
}

/// Lost writes of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LostWrites {
    pub count: u64,
    pub acked_after_t0: u64,
    #[serde(skip)]
    pub earliest_ack: Option<SimTime>,
}

impl LostWrites {
    #[inline]
    pub fn add(&mut self, acked_at: SimTime, t0: Option<SimTime>) {
        self.count += 1;
        if t0.is_some_and(|t| acked_at >= t) {
            self.acked_after_t0 += 1;
        }
        if self.earliest_ack.is_none_or(|e| acked_at < e) {
            self.earliest_ack = Some(acked_at);
        }
    }

    /// Adds another set of lost writes (another service or datastore) to this one.
    pub fn merge(&mut self, other: &LostWrites) {
        self.count += other.count;
        self.acked_after_t0 += other.acked_after_t0;
        if let Some(e) = other.earliest_ack
            && self.earliest_ack.is_none_or(|x| e < x)
        {
            self.earliest_ack = Some(e);
        }
    }

    /// RPO from the incident start `t0` (zero when nothing was lost).
    pub fn rpo(&self, t0: Option<SimTime>) -> SimDuration {
        match (self.earliest_ack, t0) {
            (Some(e), Some(t)) => t.saturating_since(e),
            _ => SimDuration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpo_is_the_oldest_lost_ack_before_the_fault() {
        let t0 = Some(SimTime::from_secs(600));
        let mut l = LostWrites::default();
        l.add(SimTime::from_millis(599_950), t0);
        l.add(SimTime::from_millis(599_990), t0);
        l.add(SimTime::from_secs(650), t0);
        assert_eq!(l.count, 3);
        assert_eq!(l.acked_after_t0, 1);
        assert_eq!(l.rpo(t0), SimDuration::from_millis(50));
        assert_eq!(LostWrites::default().rpo(t0), SimDuration::ZERO);
    }

    #[test]
    fn final_data_checks_epoch_and_position() {
        let mut log = Log::default();
        log.append(1);
        log.append(1);
        log.append(2);
        let fd = FinalData::Primary(&log);
        assert!(fd.holds(1, 2) && fd.holds(2, 3));
        assert!(!fd.holds(1, 3) && !fd.holds(2, 4));
    }
}

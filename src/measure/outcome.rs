//! Classifying operations at the end of a run, and counting them.

use super::history::{OpRecord, OpStatus};
use crate::sim::time::SimTime;
use serde::Serialize;

/// How an operation ended, judged at the end of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Acked,
    /// Refused, or no acknowledgement before its deadline, which fell inside the run.
    Failed,
    /// No answer yet and the deadline is at or after the end of the run.
    InFlight,
}

/// Judges one operation given its deadline and the end of the run.
#[inline]
pub fn verdict(op: &OpRecord, deadline: SimTime, end: SimTime) -> Verdict {
    match op.status {
        OpStatus::Acked => Verdict::Acked,
        OpStatus::Refused => Verdict::Failed,
        OpStatus::Pending if deadline < end => Verdict::Failed,
        OpStatus::Pending => Verdict::InFlight,
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WriteCounts {
    pub sent: u64,
    pub acked: u64,
    pub failed: u64,
    pub in_flight: u64,
    /// Acknowledged writes missing from the final data.
    pub acked_lost: u64,
}

impl WriteCounts {
    /// Adds another set of counts (another service, another run) to these.
    pub fn merge(&mut self, other: &WriteCounts) {
        self.sent += other.sent;
        self.acked += other.acked;
        self.failed += other.failed;
        self.in_flight += other.in_flight;
        self.acked_lost += other.acked_lost;
    }

    pub fn add(&mut self, v: Verdict) {
        self.sent += 1;
        match v {
            Verdict::Acked => self.acked += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::InFlight => self.in_flight += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::SimTime;

    fn op(status: OpStatus) -> OpRecord {
        OpRecord {
            sent: SimTime::from_secs(1),
            done: SimTime::from_secs(2),
            lsn: 1,
            epoch: 1,
            status,
            attempts: 0,
            stream: 0,
        }
    }

    #[test]
    fn pending_fails_only_when_its_deadline_is_inside_the_run() {
        let end = SimTime::from_secs(10);
        assert_eq!(
            verdict(&op(OpStatus::Pending), SimTime::from_secs(9), end),
            Verdict::Failed
        );
        assert_eq!(
            verdict(&op(OpStatus::Pending), SimTime::from_secs(10), end),
            Verdict::InFlight
        );
        assert_eq!(
            verdict(&op(OpStatus::Refused), SimTime::from_secs(20), end),
            Verdict::Failed
        );
        assert_eq!(
            verdict(&op(OpStatus::Acked), SimTime::from_secs(1), end),
            Verdict::Acked
        );
    }
}

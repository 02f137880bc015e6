//! Lost acknowledged writes, why they were lost, and the RPO measured from them.
//!
//! A write acknowledged at `(epoch, lsn)` survived when the final data holds an entry of that
//! epoch at that position (within one epoch only one primary assigns positions, so the pair
//! names the write). The final data is read from the members that are up at the end: the live
//! primary of the highest epoch is the truth; with no live primary, a write survives when any
//! live member holds it (RW1's "present on no live database").
//!
//! A write the final data does not hold is **lost**, or **at risk** when no live primary
//! exists and a member that is down at the end still holds it: the data sits on stopped
//! machines, neither proven lost nor servable. Every lost write has one cause ([`LossCause`]).
//!
//! Writes lost together form a [`LossWindow`]: one per cause and event (the epoch whose history
//! was discarded, the restore that discarded it, the bad transaction that damaged it). A
//! window spans from the earliest lost write's send time to the latest one's, or to when the
//! machine holding them stopped, whichever is later: how much time's worth of users' data is
//! gone. **RPO is the longest window**, wherever it lies relative to the first fault: the
//! unshipped tail of an asynchronous primary (about the shipping interval), ten minutes of a
//! split brain's writes, two hours back to the snapshot a restore went to.

use crate::logic::corruption::{BadTransaction, first_damage};
use crate::logic::replication::Log;
use crate::logic::{Epoch, Lsn};
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;

/// The data of one datastore at the end of a run.
pub struct FinalData<'a> {
    /// The log of the live primary of the highest epoch, if any member up is primary.
    pub primary: Option<&'a Log>,
    /// Logs of the members that are up.
    pub live: Vec<&'a Log>,
    /// Logs of the members that are down (their durable state, unreachable).
    pub stopped: Vec<&'a Log>,
}

impl FinalData<'_> {
    /// Whether a user can read the write back: in the live primary's log, or with no live
    /// primary in any live member's.
    #[inline]
    pub fn holds(&self, epoch: Epoch, lsn: Lsn) -> bool {
        match self.primary {
            Some(log) => log.epoch_at(lsn) == Some(epoch),
            None => self.live.iter().any(|l| l.epoch_at(lsn) == Some(epoch)),
        }
    }

    /// Whether a write the live data lacks is still held by a stopped member that no live
    /// primary has superseded.
    #[inline]
    pub fn at_risk(&self, epoch: Epoch, lsn: Lsn) -> bool {
        self.primary.is_none() && self.stopped.iter().any(|l| l.epoch_at(lsn) == Some(epoch))
    }

    /// Whether no member is up at all.
    pub fn unreachable(&self) -> bool {
        self.live.is_empty()
    }

    /// The first bad transaction the final data still holds (`bad`: all that were committed).
    pub fn damage(&self, bad: &[BadTransaction]) -> Option<BadTransaction> {
        match self.primary {
            Some(log) => first_damage(bad, log),
            None => self.live.iter().filter_map(|l| first_damage(bad, l)).min(),
        }
    }
}

/// Why an acknowledged write cannot be read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossCause {
    /// Lost with a machine: its primary stopped (crash, zone, region or provider loss)
    /// before replication copied it, and another member took over.
    Infrastructure,
    /// Split brain or divergent history: acknowledged by a primary that was deposed (after
    /// a newer one was promoted) or cut off without failing, then discarded when histories
    /// were reconciled.
    SplitBrain,
    /// Discarded when an operator promoted a standby by hand that lacked it (a manual failover
    /// past the replication rules, the risk accepted): the old history was rewound.
    ManualFailover,
    /// Discarded by restoring a backup to a recovery point before it.
    Restore,
    /// Destroyed by a logical corruption that is still in the data.
    Corruption,
    /// At risk: only on machines that are down at the end of the run.
    Unreachable,
}

impl LossCause {
    pub fn word(self) -> &'static str {
        match self {
            LossCause::Infrastructure => "infrastructure",
            LossCause::SplitBrain => "split_brain",
            LossCause::ManualFailover => "manual_failover",
            LossCause::Restore => "restore",
            LossCause::Corruption => "corruption",
            LossCause::Unreachable => "unreachable",
        }
    }
}

/// Acknowledged writes lost together, by one cause in one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LossWindow {
    pub cause: LossCause,
    /// The event: the discarded epoch, the restore's epoch, the bad transaction's LSN.
    pub event: u64,
    pub count: u64,
    pub earliest_sent: SimTime,
    pub latest_sent: SimTime,
    /// When the machine holding them stopped, for writes lost with it.
    pub lost_at: Option<SimTime>,
}

impl LossWindow {
    /// The time's worth of data lost: from the earliest lost write to the latest, or to the
    /// machine stopping.
    pub fn span(&self) -> SimDuration {
        let end = self
            .lost_at
            .map_or(self.latest_sent, |l| l.max(self.latest_sent));
        end.saturating_since(self.earliest_sent)
    }
}

/// The writes of one service (or run) that cannot be read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    /// One per cause and event, in the order first seen.
    pub windows: Vec<LossWindow>,
    /// Lost (not at risk) writes acknowledged at or after the first fault.
    pub acked_after_t0: u64,
}

impl Losses {
    /// Records one write lost by `cause` in `event`, sent at `sent` and acknowledged at
    /// `acked_at`; `lost_at` is when its machine stopped, if that is why.
    pub fn add(&mut self, loss: Loss, t0: Option<SimTime>) {
        if loss.cause != LossCause::Unreachable && t0.is_some_and(|t| loss.acked_at >= t) {
            self.acked_after_t0 += 1;
        }
        let w = LossWindow {
            cause: loss.cause,
            event: loss.event,
            count: 1,
            earliest_sent: loss.sent,
            latest_sent: loss.sent,
            lost_at: loss.lost_at,
        };
        self.absorb(w);
    }

    fn absorb(&mut self, w: LossWindow) {
        let hit = self
            .windows
            .iter_mut()
            .rev()
            .find(|x| x.cause == w.cause && x.event == w.event);
        match hit {
            Some(x) => {
                x.count += w.count;
                x.earliest_sent = x.earliest_sent.min(w.earliest_sent);
                x.latest_sent = x.latest_sent.max(w.latest_sent);
                x.lost_at = match (x.lost_at, w.lost_at) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
            None => self.windows.push(w),
        }
    }

    /// Adds another set of losses (another service or datastore) to this one.
    pub fn merge(&mut self, other: &Losses) {
        self.acked_after_t0 += other.acked_after_t0;
        for w in &other.windows {
            self.absorb(*w);
        }
    }

    /// Writes lost by `cause`.
    pub fn by(&self, cause: LossCause) -> u64 {
        self.windows
            .iter()
            .filter(|w| w.cause == cause)
            .map(|w| w.count)
            .sum()
    }

    /// Lost writes, at-risk ones excluded.
    pub fn count(&self) -> u64 {
        self.lost().map(|w| w.count).sum()
    }

    /// Writes at risk on stopped machines.
    pub fn at_risk(&self) -> u64 {
        self.by(LossCause::Unreachable)
    }

    fn lost(&self) -> impl Iterator<Item = &LossWindow> {
        self.windows
            .iter()
            .filter(|w| w.cause != LossCause::Unreachable)
    }

    /// RPO: the longest window of lost data (zero when nothing was lost).
    pub fn rpo(&self) -> SimDuration {
        self.lost()
            .map(|w| w.span())
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    /// The longest window of data at risk (zero when none).
    pub fn at_risk_span(&self) -> SimDuration {
        self.windows
            .iter()
            .filter(|w| w.cause == LossCause::Unreachable)
            .map(|w| w.span())
            .max()
            .unwrap_or(SimDuration::ZERO)
    }
}

/// One write that cannot be read back, as the judge classified it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loss {
    pub cause: LossCause,
    pub event: u64,
    pub sent: SimTime,
    pub acked_at: SimTime,
    pub lost_at: Option<SimTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss(cause: LossCause, event: u64, sent_ms: u64, lost_at: Option<u64>) -> Loss {
        Loss {
            cause,
            event,
            sent: SimTime::from_millis(sent_ms),
            acked_at: SimTime::from_millis(sent_ms + 5),
            lost_at: lost_at.map(SimTime::from_millis),
        }
    }

    #[test]
    fn rpo_is_the_longest_window_whatever_its_place_relative_to_the_fault() {
        let t0 = Some(SimTime::from_secs(600));
        let mut l = Losses::default();
        // An asynchronous tail: made from 599.9 s, lost when the machine stopped at 600 s.
        l.add(
            loss(LossCause::Infrastructure, 1, 599_900, Some(600_000)),
            t0,
        );
        l.add(
            loss(LossCause::Infrastructure, 1, 599_990, Some(600_000)),
            t0,
        );
        assert_eq!(l.rpo(), SimDuration::from_millis(100));
        // A split brain: the deposed primary acknowledged writes for ten minutes after it.
        l.add(loss(LossCause::SplitBrain, 2, 610_000, None), t0);
        l.add(loss(LossCause::SplitBrain, 2, 1_210_000, None), t0);
        assert_eq!(l.rpo(), SimDuration::from_secs(600));
        assert_eq!((l.count(), l.by(LossCause::SplitBrain)), (4, 2));
        assert_eq!(l.acked_after_t0, 2);
    }

    #[test]
    fn separate_events_make_separate_windows() {
        // Two failovers, an hour apart, each losing a 50 ms tail: RPO 50 ms, not an hour.
        let mut l = Losses::default();
        l.add(loss(LossCause::Infrastructure, 1, 1_000, Some(1_050)), None);
        l.add(
            loss(LossCause::Infrastructure, 2, 3_601_000, Some(3_601_050)),
            None,
        );
        assert_eq!(l.windows.len(), 2);
        assert_eq!(l.rpo(), SimDuration::from_millis(50));
    }

    #[test]
    fn at_risk_writes_are_not_lost_but_have_their_own_span() {
        let mut l = Losses::default();
        l.add(loss(LossCause::Unreachable, 0, 1_000, None), None);
        l.add(loss(LossCause::Unreachable, 0, 61_000, None), None);
        assert_eq!((l.count(), l.at_risk()), (0, 2));
        assert_eq!(l.rpo(), SimDuration::ZERO);
        assert_eq!(l.at_risk_span(), SimDuration::from_secs(60));
        let mut all = Losses::default();
        all.merge(&l);
        all.merge(&l);
        assert_eq!(all.at_risk(), 4);
    }

    #[test]
    fn final_data_checks_epoch_and_position() {
        let mut log = Log::default();
        log.append(1);
        log.append(1);
        log.append(2);
        let fd = FinalData {
            primary: Some(&log),
            live: vec![&log],
            stopped: Vec::new(),
        };
        assert!(fd.holds(1, 2) && fd.holds(2, 3));
        assert!(!fd.holds(1, 3) && !fd.holds(2, 4));
        // With a live primary, a stopped member's divergent entries are not at risk: lost.
        let mut old = Log::default();
        old.append(1);
        old.append(1);
        old.append(1);
        let fd = FinalData {
            stopped: vec![&old],
            ..fd
        };
        assert!(!fd.at_risk(1, 3));
        let none = FinalData {
            primary: None,
            live: Vec::new(),
            stopped: vec![&old],
        };
        assert!(none.at_risk(1, 3) && none.unreachable() && !none.holds(1, 3));
    }
}

//! The write-ahead log a database member keeps: entries by LSN, grouped into `(epoch, first
//! LSN)` segments plus the last LSN.
//!
//! That is all a checker needs to tell whether the write acknowledged at `(epoch, lsn)`
//! survived, and it keeps memory flat however many writes a run makes. Replication, backups,
//! restores and corruption all read or rebuild a log, so it lives here, below all of them. It
//! does not know who writes to it, how entries travel, nor what an entry contains (the
//! corruption module adds the one piece of content that matters, a bad transaction).

use super::{Epoch, Lsn};

/// A log as `(epoch, first LSN)` segments plus the last LSN.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    segments: Vec<(Epoch, Lsn)>,
    last: Lsn,
}

impl Log {
    pub fn last(&self) -> Lsn {
        self.last
    }
    pub fn segments(&self) -> &[(Epoch, Lsn)] {
        &self.segments
    }
    /// Appends `count` entries written in `epoch`.
    pub fn append_many(&mut self, epoch: Epoch, count: u64) {
        if count == 0 {
            return;
        }
        if self.segments.last().map(|s| s.0) != Some(epoch) {
            self.segments.push((epoch, self.last + 1));
        }
        self.last += count;
    }
    /// Appends one entry written in `epoch`; returns its LSN.
    pub fn append(&mut self, epoch: Epoch) -> Lsn {
        self.last += 1;
        if self.segments.last().map(|s| s.0) != Some(epoch) {
            self.segments.push((epoch, self.last));
        }
        self.last
    }
    /// The epoch of the entry at `lsn`, if the log has it.
    pub fn epoch_at(&self, lsn: Lsn) -> Option<Epoch> {
        if lsn == 0 || lsn > self.last {
            return None;
        }
        let i = self.segments.partition_point(|s| s.1 <= lsn);
        debug_assert!(i > 0);
        Some(self.segments[i - 1].0)
    }
    /// The entries in `(after, upto]` as `(epoch, first, last)` runs, one per segment: how a
    /// range of the log travels in messages.
    pub fn runs(&self, after: Lsn, upto: Lsn) -> Vec<(Epoch, Lsn, Lsn)> {
        let upto = upto.min(self.last);
        let mut out = Vec::new();
        for (i, &(epoch, first)) in self.segments.iter().enumerate() {
            let last = self.segments.get(i + 1).map_or(self.last, |s| s.1 - 1);
            let (a, b) = (first.max(after + 1), last.min(upto));
            if a <= b {
                out.push((epoch, a, b));
            }
        }
        out
    }
    /// Appends the run `first..=last` of `epoch`, discarding anything at or above `first`
    /// first (a newer history replaces an older one from that point).
    pub fn put_run(&mut self, epoch: Epoch, first: Lsn, last: Lsn) {
        if first == 0 || last < first || first > self.last + 1 {
            return;
        }
        self.truncate(first - 1);
        self.append_many(epoch, last - first + 1);
    }
    /// Adds the segment `first..=last` of `epoch` as the sender's log had it (a catch-up
    /// streams its segments in order), without merging it into the previous one.
    pub fn push_segment(&mut self, epoch: Epoch, first: Lsn, last: Lsn) {
        self.segments.push((epoch, first));
        self.last = last;
    }
    /// Discards every entry above `lsn`.
    pub fn truncate(&mut self, lsn: Lsn) {
        if lsn >= self.last {
            return;
        }
        self.last = lsn;
        self.segments.retain(|s| s.1 <= lsn);
    }
    /// The number of this log's entries that `other` does not hold at the same position.
    pub fn diverging_from(&self, other: &Log) -> u64 {
        // Both logs' epochs are constant between segment starts, so comparing at every
        // boundary of either log (and just past the end of `other`) finds the first mismatch.
        let mut points: Vec<Lsn> = self
            .segments
            .iter()
            .chain(other.segments.iter())
            .map(|s| s.1)
            .chain(std::iter::once(other.last + 1))
            .filter(|&l| l >= 1 && l <= self.last)
            .collect();
        points.sort_unstable();
        points.dedup();
        for p in points {
            if other.epoch_at(p) != self.epoch_at(p) {
                return self.last - p + 1;
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log made of runs of `(epoch, count)` entries.
    fn runs(runs: &[(Epoch, u64)]) -> Log {
        let mut log = Log::default();
        for &(epoch, count) in runs {
            log.append_many(epoch, count);
        }
        log
    }

    #[test]
    fn log_appends_entries_in_epoch_segments() {
        let mut log = Log::default();
        assert_eq!(log.last(), 0);
        assert_eq!(log.epoch_at(0), None);
        assert_eq!(log.epoch_at(1), None);
        assert_eq!(log.append(1), 1);
        assert_eq!(log.append(1), 2);
        log.append_many(3, 0); // nothing appended: no empty segment either
        assert_eq!(log.segments(), &[(1, 1)]);
        log.append_many(2, 3);
        log.append_many(2, 1);
        assert_eq!(log.append(4), 7);
        assert_eq!(log.last(), 7);
        assert_eq!(log.segments(), &[(1, 1), (2, 3), (4, 7)]);
        let epochs: Vec<Epoch> = (1..=7).map(|l| log.epoch_at(l).unwrap()).collect();
        assert_eq!(epochs, [1, 1, 2, 2, 2, 2, 4]);
        assert_eq!((log.epoch_at(0), log.epoch_at(8)), (None, None));
    }

    #[test]
    fn log_runs_cover_a_range_segment_by_segment_and_put_run_rebuilds_it() {
        let log = runs(&[(1, 3), (2, 2), (4, 5)]);
        assert_eq!(log.runs(0, 10), vec![(1, 1, 3), (2, 4, 5), (4, 6, 10)]);
        assert_eq!(log.runs(2, 7), vec![(1, 3, 3), (2, 4, 5), (4, 6, 7)]);
        assert_eq!(log.runs(10, 20), vec![]);
        let mut copy = Log::default();
        for (e, a, b) in log.runs(0, 7) {
            copy.put_run(e, a, b);
        }
        assert_eq!(copy.last(), 7);
        assert_eq!(copy.epoch_at(7), Some(4));
        // A newer history from LSN 5 replaces the old one there; a gap is refused.
        copy.put_run(5, 5, 6);
        assert_eq!(
            (copy.last(), copy.epoch_at(4), copy.epoch_at(5)),
            (6, Some(2), Some(5))
        );
        copy.put_run(6, 9, 9);
        assert_eq!(copy.last(), 6);
    }

    #[test]
    fn log_truncate_discards_every_entry_above() {
        let mut log = runs(&[(1, 2), (2, 3), (3, 2)]);
        assert_eq!(log.segments(), &[(1, 1), (2, 3), (3, 6)]);
        let before = log.clone();
        log.truncate(7);
        log.truncate(9);
        assert_eq!(
            log, before,
            "truncating at or above the end keeps everything"
        );
        log.truncate(6);
        assert_eq!(
            (log.segments(), log.last()),
            (&[(1, 1), (2, 3), (3, 6)][..], 6)
        );
        log.truncate(5);
        assert_eq!((log.segments(), log.last()), (&[(1, 1), (2, 3)][..], 5));
        assert_eq!(log.epoch_at(6), None);
        log.truncate(2);
        assert_eq!((log.segments(), log.last()), (&[(1, 1)][..], 2));
        assert_eq!(log.append(2), 3);
        assert_eq!(log.segments(), &[(1, 1), (2, 3)]);
        log.truncate(0);
        assert_eq!(log, Log::default());
    }

    #[test]
    fn log_diverging_from_counts_entries_the_other_log_lacks() {
        let a = runs(&[(1, 2), (2, 3)]); // 1..=2 @1, 3..=5 @2
        let b = runs(&[(1, 2), (3, 2)]); // 1..=2 @1, 3..=4 @3
        assert_eq!(a.diverging_from(&b), 3);
        assert_eq!(b.diverging_from(&a), 2);
        let prefix = runs(&[(1, 2), (2, 2)]);
        assert_eq!(
            a.diverging_from(&prefix),
            1,
            "entry 5 is missing from the prefix"
        );
        assert_eq!(prefix.diverging_from(&a), 0);
        assert_eq!(a.diverging_from(&a.clone()), 0);
        assert_eq!(a.diverging_from(&Log::default()), 5);
        assert_eq!(Log::default().diverging_from(&a), 0);
        // A divergence in the middle of one log's segment.
        let one = runs(&[(1, 5)]);
        let split = runs(&[(1, 3), (2, 3)]);
        assert_eq!(one.diverging_from(&split), 2);
        assert_eq!(split.diverging_from(&one), 3);
        // Different from the first entry.
        assert_eq!(runs(&[(1, 3)]).diverging_from(&runs(&[(2, 3)])), 3);
    }
}

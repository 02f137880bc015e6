//! Replication lag over time, measured from what each member's log held when.
//!
//! The world notes each database member's last LSN as it changes (at most every
//! [`GRAIN`], keeping the newest value between notes). Lag of a member at time `t` is how
//! long ago the datastore first held the oldest entry the member still lacks: `t` minus the
//! first time any member's log reached `L + 1`, where `L` is the member's last LSN at `t`; zero
//! when it holds everything. It is exactly what a client reading from that member would miss,
//! in time, which is what the plan's "< 500 ms" promises. The resolution is the grain: lag
//! of 20 ms or less reads as zero. When a restore moves the newest data back, the comparison
//! starts again from the restored positions.

use crate::logic::Lsn;
use crate::sim::time::{SimDuration, SimTime};

/// Notes closer together than this are merged (the newest kept).
pub const GRAIN: SimDuration = SimDuration(20_000_000);

/// One member's `(time, last LSN)` history.
#[derive(Clone, Debug, Default)]
pub struct LagMarks {
    marks: Vec<(SimTime, Lsn)>,
    pending: Option<(SimTime, Lsn)>,
}

impl LagMarks {
    #[inline]
    pub fn observe(&mut self, now: SimTime, lsn: Lsn) {
        let current = self.pending.or(self.marks.last().copied()).map(|m| m.1);
        if current == Some(lsn) || (current.is_none() && lsn == 0) {
            return;
        }
        match self.marks.last() {
            Some(&(t, _)) if now.saturating_since(t) < GRAIN => self.pending = Some((now, lsn)),
            _ => {
                if let Some(p) = self.pending.take() {
                    self.marks.push(p);
                }
                self.marks.push((now, lsn));
            }
        }
    }

    /// How many notes are kept (for the memory budget).
    pub fn len(&self) -> usize {
        self.marks.len() + usize::from(self.pending.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The history, the newest pending note included.
    pub fn points(&self) -> Vec<(SimTime, Lsn)> {
        let mut v = self.marks.clone();
        v.extend(self.pending);
        v
    }
}

/// The last LSN in `points` at or before `t`.
fn at(points: &[(SimTime, Lsn)], t: SimTime) -> Lsn {
    let i = points.partition_point(|p| p.0 <= t);
    if i == 0 { 0 } else { points[i - 1].1 }
}

/// Per member, the largest lag (seconds) within each `resolution` bucket up to `end`.
/// Between two of a member's notes its last LSN is constant, so its lag grows linearly and
/// drops at the next note: the largest value in a bucket is just before one of the member's
/// notes in it, or at the bucket's end. Those instants are evaluated exactly.
pub fn lag_series(
    members: &[Vec<(SimTime, Lsn)>],
    resolution: SimDuration,
    end: SimTime,
) -> Vec<Vec<f64>> {
    // The datastore's newest data over time: the largest position any member holds now. A
    // restore moves every member back; the history then starts again (an era), so members are
    // compared with the restored timeline, not with the discarded one.
    let mut all: Vec<(SimTime, usize, Lsn)> = members
        .iter()
        .enumerate()
        .flat_map(|(m, pts)| pts.iter().map(move |&(t, l)| (t, m, l)))
        .collect();
    all.sort();
    let mut current = vec![0 as Lsn; members.len()];
    let mut eras: Vec<(SimTime, Vec<(SimTime, Lsn)>)> = vec![(SimTime::ZERO, Vec::new())];
    let mut best: Lsn = 0;
    for (t, m, l) in all {
        current[m] = l;
        let now_max = current.iter().copied().max().unwrap_or(0);
        if now_max < best {
            eras.push((t, Vec::new()));
        }
        best = now_max;
        let reach = &mut eras.last_mut().expect("one era at least").1;
        if reach.last().is_none_or(|r| now_max > r.1) {
            reach.push((t, now_max));
        }
    }
    // Below the grain, notes cannot tell lag from their own merging: such lag reads as zero.
    let lag_at = |t: SimTime, have: Lsn| -> f64 {
        let era = eras.partition_point(|e| e.0 <= t).max(1) - 1;
        let reach = &eras[era].1;
        let i = reach.partition_point(|r| r.1 <= have);
        match reach.get(i) {
            Some(r) if r.0 <= t && t.saturating_since(r.0) > GRAIN => {
                t.saturating_since(r.0).as_secs_f64()
            }
            _ => 0.0,
        }
    };
    let res = resolution.0.max(1);
    let buckets = end.0.div_ceil(res) as usize;
    members
        .iter()
        .map(|points| {
            let mut out = vec![0.0f64; buckets];
            for (b, slot) in out.iter_mut().enumerate() {
                let b_end = SimTime(((b as u64 + 1) * res).min(end.0));
                *slot = lag_at(b_end, at(points, b_end));
            }
            // Just before each note: the lag the note ends.
            for &(t, _) in points {
                if t == SimTime::ZERO || t > end {
                    continue;
                }
                let before = at(points, SimTime(t.0 - 1));
                let b = ((t.0 - 1) / res) as usize;
                if let Some(slot) = out.get_mut(b) {
                    *slot = slot.max(lag_at(t, before));
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> SimTime {
        SimTime::from_millis(v)
    }

    #[test]
    fn notes_are_merged_within_the_grain_keeping_the_newest() {
        let mut m = LagMarks::default();
        m.observe(ms(0), 1);
        m.observe(ms(5), 2);
        m.observe(ms(10), 3);
        m.observe(ms(10), 3);
        m.observe(ms(30), 4);
        assert_eq!(m.points(), vec![(ms(0), 1), (ms(10), 3), (ms(30), 4)]);
    }

    #[test]
    fn a_replica_shipping_every_250_ms_lags_up_to_250_ms() {
        // The primary writes one entry every 10 ms; the replica gets batches every 250 ms.
        let primary: Vec<(SimTime, Lsn)> = (1..=200).map(|i| (ms(i * 10), i)).collect();
        let replica: Vec<(SimTime, Lsn)> = (1..=8).map(|k| (ms(k * 250), k * 25)).collect();
        let lag = lag_series(&[primary, replica], SimDuration::from_secs(1), ms(2000));
        assert_eq!(lag[0], vec![0.0, 0.0], "the primary is never behind itself");
        // Just before a batch arrives, the oldest missing entry is 240 ms old.
        assert_eq!(lag[1], vec![0.24, 0.24]);
    }

    #[test]
    fn after_a_restore_members_are_compared_with_the_restored_data() {
        // Both members reach 100 by 1 s; at 2 s both are restored to 10 and go on together.
        let a = vec![
            (ms(500), 50),
            (ms(1000), 100),
            (ms(2000), 10),
            (ms(3000), 20),
        ];
        let lag = lag_series(&[a.clone(), a], SimDuration::from_secs(1), ms(4000));
        assert_eq!(lag[0], vec![0.0; 4], "{:?}", lag[0]);
        assert_eq!(lag[1], vec![0.0; 4], "{:?}", lag[1]);
    }

    #[test]
    fn a_member_that_stops_receiving_falls_further_behind() {
        let primary: Vec<(SimTime, Lsn)> = (1..=100).map(|i| (ms(i * 100), i)).collect();
        let stuck = vec![(ms(100), 1)];
        let lag = lag_series(&[primary, stuck], SimDuration::from_secs(1), ms(10_000));
        assert_eq!(lag[1][9], 9.8, "{:?}", lag[1]);
        assert!(lag[1].windows(2).all(|w| w[1] >= w[0]));
    }
}

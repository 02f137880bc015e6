//! Steady state and the RTO measured from it.
//!
//! The service level indicator (SLI) is the success ratio of the operations *sent* in a window
//! `[t, t + window)` (a leading window: operations are judged by when they were attempted, and
//! a window that starts at `t` says how a user arriving at `t` fares over the next minute).
//! Steady state holds at `t` when the SLI is at least the threshold, or when no operation was
//! judged in the window. Operations still in flight at the end are not judged.
//!
//! Recovery `tr` is the first bucket start after the first break (the first bucket at or
//! after the incident start `t0` where steady state does not hold) from which steady state
//! holds at every bucket start for the stability period (or to the last judged operation, if
//! that is at least one full window: a few good seconds at the very end prove nothing).
//! RTO = `tr − t0`, at the resolution of the buckets; 0 when steady state never broke after
//! `t0`; "not recovered" when no such `tr` exists. Because the threshold tolerates a small
//! share of failures, `tr` can precede the first success by less than a bucket.
//! Starting the search at the first break matters for faults whose effect is delayed (a
//! partition that costs a lease 30 s later): searching from `t0` would call the untouched
//! first minutes "recovered".
//!
//! Why a leading window (a refinement of DESIGN.md's sliding window): a trailing window keeps
//! reporting the outage for a whole window after service came back, which would add the window
//! (60 s) to every RTO.

use super::outcome::Verdict;
use crate::model::scenario::SteadyState;
use crate::sim::time::{SimDuration, SimTime};

/// Per-bucket counts of judged operations by send time.
#[derive(Clone, Debug)]
pub struct SuccessSeries {
    pub resolution: SimDuration,
    pub ok: Vec<u64>,
    pub failed: Vec<u64>,
}

impl SuccessSeries {
    pub fn new(resolution: SimDuration, end: SimTime) -> Self {
        let buckets = end.0.div_ceil(resolution.0.max(1)) as usize;
        SuccessSeries {
            resolution,
            ok: vec![0; buckets.max(1)],
            failed: vec![0; buckets.max(1)],
        }
    }

    #[inline]
    pub fn add(&mut self, sent: SimTime, v: Verdict) {
        let b = ((sent.0 / self.resolution.0) as usize).min(self.ok.len() - 1);
        match v {
            Verdict::Acked => self.ok[b] += 1,
            Verdict::Failed => self.failed[b] += 1,
            Verdict::InFlight => {}
        }
    }

    /// SLI of the window starting at each bucket (`None` where nothing was judged).
    pub fn sli(&self, window: SimDuration) -> Vec<Option<f64>> {
        let w = (window.0 / self.resolution.0).max(1) as usize;
        let n = self.ok.len();
        let mut pre_ok = vec![0u64; n + 1];
        let mut pre_bad = vec![0u64; n + 1];
        for i in 0..n {
            pre_ok[i + 1] = pre_ok[i] + self.ok[i];
            pre_bad[i + 1] = pre_bad[i] + self.failed[i];
        }
        (0..n)
            .map(|b| {
                let e = (b + w).min(n);
                let ok = pre_ok[e] - pre_ok[b];
                let bad = pre_bad[e] - pre_bad[b];
                (ok + bad > 0).then(|| ok as f64 / (ok + bad) as f64)
            })
            .collect()
    }
}

/// The outcome of the RTO measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Steady state never broke after the incident started.
    NeverBroke,
    /// Steady state came back at this time and held.
    RecoveredAt(SimTime),
    NotRecovered,
}

/// Finds recovery after `t0` in `series` under `rule`.
pub fn recovery(series: &SuccessSeries, rule: &SteadyState, t0: SimTime) -> Recovery {
    let sli = series.sli(rule.window);
    let holds = |b: usize| sli[b].is_none_or(|s| s >= rule.threshold);
    let res = series.resolution.0;
    let b0 = (t0.0 / res) as usize;
    // Buckets after the last judged operation (the tail of in-flight ones) say nothing.
    let n = (0..sli.len())
        .rev()
        .find(|&b| series.ok[b] + series.failed[b] > 0)
        .map_or(0, |b| b + 1);
    let Some(first_break) = (b0..n).find(|&b| !holds(b)) else {
        return Recovery::NeverBroke;
    };
    let stable = (rule.stability.0.div_ceil(res)) as usize;
    let window = (rule.window.0.div_ceil(res)) as usize;
    // Scan backwards: `run[b]` = how many consecutive holding buckets start at b.
    let mut run = vec![0usize; n + 1];
    for b in (0..n).rev() {
        run[b] = if holds(b) { run[b + 1] + 1 } else { 0 };
    }
    (first_break..n)
        .find(|&b| run[b] > 0 && (run[b] > stable || (b + run[b] == n && run[b] >= window)))
        .map_or(Recovery::NotRecovered, |b| {
            Recovery::RecoveredAt(SimTime(b as u64 * res).max(t0))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> SteadyState {
        SteadyState {
            window: SimDuration::from_secs(10),
            threshold: 0.99,
            stability: SimDuration::from_secs(30),
            resolution: SimDuration::from_secs(1),
        }
    }

    /// 100 ops per second, failing in [from, to).
    fn series(end: u64, from: u64, to: u64) -> SuccessSeries {
        let mut s = SuccessSeries::new(SimDuration::from_secs(1), SimTime::from_secs(end));
        for t in 0..end * 100 {
            let at = SimTime::from_millis(t * 10);
            let bad = at >= SimTime::from_secs(from) && at < SimTime::from_secs(to);
            s.add(at, if bad { Verdict::Failed } else { Verdict::Acked });
        }
        s
    }

    #[test]
    fn recovery_is_when_failures_stop() {
        let r = recovery(&series(200, 50, 80), &rule(), SimTime::from_secs(50));
        assert_eq!(r, Recovery::RecoveredAt(SimTime::from_secs(80)));
    }

    #[test]
    fn no_failures_means_steady_state_never_broke() {
        assert_eq!(
            recovery(&series(200, 0, 0), &rule(), SimTime::from_secs(50)),
            Recovery::NeverBroke
        );
    }

    #[test]
    fn an_outage_to_the_end_is_not_recovered() {
        assert_eq!(
            recovery(&series(200, 50, 200), &rule(), SimTime::from_secs(50)),
            Recovery::NotRecovered
        );
    }

    #[test]
    fn a_delayed_break_is_measured_from_the_fault() {
        // Fault at 50 s, but service only breaks at 120 s (a lease ran out), until 150 s.
        let r = recovery(&series(400, 120, 150), &rule(), SimTime::from_secs(50));
        assert_eq!(r, Recovery::RecoveredAt(SimTime::from_secs(150)));
    }

    #[test]
    fn unjudged_tail_does_not_count_as_recovery() {
        let mut s = series(100, 50, 90);
        // 90 s .. 100 s: nothing judged (operations still in flight at the end).
        for b in 90..100 {
            s.ok[b] = 0;
            s.failed[b] = 0;
        }
        assert_eq!(
            recovery(&s, &rule(), SimTime::from_secs(50)),
            Recovery::NotRecovered
        );
    }

    #[test]
    fn a_short_good_spell_at_the_very_end_is_not_a_recovery() {
        // Failing until 195 s of a 200 s run: 5 good seconds, less than one 10 s window.
        assert_eq!(
            recovery(&series(200, 50, 195), &rule(), SimTime::from_secs(50)),
            Recovery::NotRecovered
        );
        // A full window of good service before the end does count (the run ended too soon to
        // see the whole stability period).
        assert_eq!(
            recovery(&series(200, 50, 185), &rule(), SimTime::from_secs(50)),
            Recovery::RecoveredAt(SimTime::from_secs(185))
        );
    }

    #[test]
    fn a_relapse_inside_the_stability_period_delays_recovery() {
        let mut s = series(300, 50, 80);
        for t in 9000..9500 {
            s.add(SimTime::from_millis(t * 10), Verdict::Failed); // 90 s .. 95 s fail again
        }
        assert_eq!(
            recovery(&s, &rule(), SimTime::from_secs(50)),
            Recovery::RecoveredAt(SimTime::from_secs(95))
        );
    }
}

//! Steady state, and the outages found where it does not hold.
//!
//! Operations are counted per bucket of `resolution` by the time they were *sent*: acknowledged,
//! failed, and (with a latency rule) acknowledged but slower than the bound.
//!
//! - **Steady state holds at bucket `b`** when the operations sent in the leading window
//!   `[b, b + window)` succeeded at least `threshold` of the time and, with a latency rule,
//!   the rule's percentile of their response times is within its bound; or when nothing in the
//!   window was judged. A leading window says how a user arriving at `b` fares over the next
//!   minute; a trailing one would keep reporting an outage for a whole window after service
//!   came back.
//! - **A bucket is bad** when the operations sent *in that bucket alone* miss the same rule.
//!   The leading window breaks up to a window before the first failure, so an outage starts at
//!   the first bad bucket at or after the break, never earlier: whenever a window misses the
//!   rule, one of its buckets does too (a ratio of sums is below the threshold only if one of
//!   the summed ratios is).
//! - **An outage** starts at the first bad bucket after steady state breaks and ends at the
//!   first later bucket that is not bad and from which steady state holds for the stability
//!   period (or to the last judged bucket, if that is at least one window away: a few good
//!   seconds at the very end prove nothing). An outage with no such bucket is not recovered.
//!   The next outage is searched from its end. The judge refines both ends to operations
//!   (`run/outages.rs`); this module works in buckets.
//!
//! Buckets after the last judged operation (in flight at the end of the run) hold no evidence
//! and never count as steady state.

use super::outcome::Verdict;
use crate::sim::time::{SimDuration, SimTime};

/// The steady-state rule, validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SteadyState {
    pub window: SimDuration,
    pub threshold: f64,
    pub stability: SimDuration,
    pub resolution: SimDuration,
}

/// A validated latency bound: the `p`-th percentile (nearest rank) of the response times of
/// the operations acknowledged in a window is at most `within`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyRule {
    pub p: f64,
    pub within: SimDuration,
}

/// What one service's steady state requires beyond the success ratio.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServiceSlo {
    pub latency: Option<LatencyRule>,
    /// Acknowledged later than this after sending: counted as failed.
    pub max_latency: Option<SimDuration>,
}

/// Per-bucket counts of judged operations by send time.
#[derive(Clone, Debug)]
pub struct SuccessSeries {
    pub resolution: SimDuration,
    pub ok: Vec<u64>,
    pub failed: Vec<u64>,
    /// Acknowledged operations slower than `slow_above`, per bucket (empty without a bound).
    pub slow: Vec<u64>,
    slow_above: Option<SimDuration>,
}

impl SuccessSeries {
    /// A series covering `[0, end)`; `slow_above` is the latency rule's bound, if any.
    pub fn new(resolution: SimDuration, end: SimTime, slow_above: Option<SimDuration>) -> Self {
        let buckets = (end.0.div_ceil(resolution.0.max(1)) as usize).max(1);
        SuccessSeries {
            resolution,
            ok: vec![0; buckets],
            failed: vec![0; buckets],
            slow: if slow_above.is_some() {
                vec![0; buckets]
            } else {
                Vec::new()
            },
            slow_above,
        }
    }

    /// The bucket an operation sent at `sent` is counted in.
    #[inline]
    pub fn bucket(&self, sent: SimTime) -> usize {
        ((sent.0 / self.resolution.0) as usize).min(self.ok.len() - 1)
    }

    /// Counts one judged operation; `latency` is an acknowledged one's response time.
    #[inline]
    pub fn add(&mut self, sent: SimTime, v: Verdict, latency: SimDuration) {
        let b = self.bucket(sent);
        match v {
            Verdict::Acked => {
                self.ok[b] += 1;
                if self.slow_above.is_some_and(|bound| latency > bound) {
                    self.slow[b] += 1;
                }
            }
            Verdict::Failed => self.failed[b] += 1,
            Verdict::InFlight => {}
        }
    }

    /// The start of bucket `b`.
    pub fn start_of(&self, b: usize) -> SimTime {
        SimTime(b as u64 * self.resolution.0)
    }

    /// One past the last bucket with a judged operation (0 when nothing was judged).
    pub fn judged_len(&self) -> usize {
        (0..self.ok.len())
            .rev()
            .find(|&b| self.ok[b] + self.failed[b] > 0)
            .map_or(0, |b| b + 1)
    }

    /// Whether the operations sent in bucket `b` alone miss the rule (a bad bucket).
    pub fn is_bad(&self, b: usize, rule: &Rule) -> bool {
        b < self.ok.len() && !self.counts(b).meet(rule.steady.threshold, rule.latency)
    }

    fn counts(&self, b: usize) -> Counts {
        Counts {
            ok: self.ok[b],
            failed: self.failed[b],
            slow: self.slow.get(b).copied().unwrap_or(0),
        }
    }

    /// SLI of the window starting at each bucket (`None` where nothing was judged), for charts.
    pub fn sli(&self, window: SimDuration) -> Vec<Option<f64>> {
        let w = (window.0 / self.resolution.0).max(1) as usize;
        let sums = Prefix::of(self);
        (0..self.ok.len())
            .map(|b| {
                let c = sums.range(b, (b + w).min(self.ok.len()));
                (c.ok + c.failed > 0).then(|| c.ok as f64 / (c.ok + c.failed) as f64)
            })
            .collect()
    }
}

/// Judged operations over some buckets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    ok: u64,
    failed: u64,
    slow: u64,
}

impl Counts {
    /// Whether these operations meet the rule (nothing judged meets it).
    fn meet(&self, threshold: f64, latency: Option<LatencyRule>) -> bool {
        let n = self.ok + self.failed;
        if n == 0 {
            return true;
        }
        if (self.ok as f64 / n as f64) < threshold {
            return false;
        }
        match latency {
            // Nearest rank: the p-th percentile is within the bound when at least
            // ceil(p/100 × ok) of the acknowledged operations are.
            Some(rule) if self.ok > 0 => {
                let rank = ((rule.p / 100.0) * self.ok as f64).ceil() as u64;
                self.ok - self.slow >= rank.clamp(1, self.ok)
            }
            _ => true,
        }
    }
}

/// Prefix sums of a series' counts, for windows in O(1).
struct Prefix {
    ok: Vec<u64>,
    failed: Vec<u64>,
    slow: Vec<u64>,
}

impl Prefix {
    fn of(s: &SuccessSeries) -> Prefix {
        let n = s.ok.len();
        let mut p = Prefix {
            ok: vec![0; n + 1],
            failed: vec![0; n + 1],
            slow: vec![0; n + 1],
        };
        for b in 0..n {
            let c = s.counts(b);
            p.ok[b + 1] = p.ok[b] + c.ok;
            p.failed[b + 1] = p.failed[b] + c.failed;
            p.slow[b + 1] = p.slow[b] + c.slow;
        }
        p
    }

    /// Counts over buckets `[a, e)`.
    fn range(&self, a: usize, e: usize) -> Counts {
        Counts {
            ok: self.ok[e] - self.ok[a],
            failed: self.failed[e] - self.failed[a],
            slow: self.slow[e] - self.slow[a],
        }
    }
}

/// An outage in buckets: steady state did not hold from the bad bucket `first_bad` until
/// `recovered` (the first bucket of the stable stretch that ended it; `None`: not recovered
/// by the end of the judged run). `last_bad` is the last bad bucket before that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketOutage {
    pub first_bad: usize,
    pub last_bad: usize,
    pub recovered: Option<usize>,
}

/// The rule one service is judged by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    pub steady: SteadyState,
    pub latency: Option<LatencyRule>,
}

/// Every outage in `series` under `rule`, in time order.
pub fn outages(series: &SuccessSeries, rule: &Rule) -> Vec<BucketOutage> {
    let res = series.resolution.0;
    let n = series.judged_len();
    let w = (rule.steady.window.0.div_ceil(res) as usize).max(1);
    let stable = rule.steady.stability.0.div_ceil(res) as usize;
    let sums = Prefix::of(series);
    let (threshold, latency) = (rule.steady.threshold, rule.latency);
    let holds: Vec<bool> = (0..n)
        .map(|b| sums.range(b, (b + w).min(n)).meet(threshold, latency))
        .collect();
    let bad = |b: usize| !series.counts(b).meet(threshold, latency);
    // `run[b]`: how many consecutive buckets from b hold.
    let mut run = vec![0usize; n + 1];
    for b in (0..n).rev() {
        run[b] = if holds[b] { run[b + 1] + 1 } else { 0 };
    }
    let recovers_at =
        |b: usize| !bad(b) && run[b] > 0 && (run[b] > stable || (b + run[b] == n && run[b] >= w));
    let mut out = Vec::new();
    let mut cursor = 0;
    while let Some(broke) = (cursor..n).find(|&b| !holds[b]) {
        let first_bad = (broke..n).find(|&b| bad(b));
        debug_assert!(
            first_bad.is_some_and(|f| f < broke + w),
            "a broken window has a bad bucket"
        );
        let Some(first_bad) = first_bad else { break };
        let recovered = (first_bad + 1..n).find(|&b| recovers_at(b));
        let last_bad = (first_bad..recovered.unwrap_or(n))
            .rev()
            .find(|&b| bad(b))
            .unwrap_or(first_bad);
        out.push(BucketOutage {
            first_bad,
            last_bad,
            recovered,
        });
        match recovered {
            Some(r) => cursor = r,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            steady: SteadyState {
                window: SimDuration::from_secs(10),
                threshold: 0.99,
                stability: SimDuration::from_secs(30),
                resolution: SimDuration::from_secs(1),
            },
            latency: None,
        }
    }

    /// 100 ops per second (10 ms each), failing in [from, to).
    fn series(end: u64, from: u64, to: u64) -> SuccessSeries {
        let mut s = SuccessSeries::new(SimDuration::from_secs(1), SimTime::from_secs(end), None);
        for t in 0..end * 100 {
            let at = SimTime::from_millis(t * 10);
            let bad = at >= SimTime::from_secs(from) && at < SimTime::from_secs(to);
            let v = if bad { Verdict::Failed } else { Verdict::Acked };
            s.add(at, v, SimDuration::from_millis(10));
        }
        s
    }

    fn one(first_bad: usize, last_bad: usize, recovered: Option<usize>) -> Vec<BucketOutage> {
        vec![BucketOutage {
            first_bad,
            last_bad,
            recovered,
        }]
    }

    #[test]
    fn an_outage_runs_from_the_first_to_after_the_last_bad_second() {
        // The leading window breaks at 41 s, but nothing failed before 50 s.
        assert_eq!(
            outages(&series(200, 50, 80), &rule()),
            one(50, 79, Some(80))
        );
    }

    #[test]
    fn no_failures_no_outage() {
        assert!(outages(&series(200, 0, 0), &rule()).is_empty());
    }

    #[test]
    fn an_outage_to_the_end_is_not_recovered() {
        assert_eq!(outages(&series(200, 50, 200), &rule()), one(50, 199, None));
    }

    #[test]
    fn a_second_outage_is_found_after_the_first_recovers() {
        let mut s = series(400, 50, 80);
        for t in 20_000..26_000 {
            s.add(
                SimTime::from_millis(t * 10),
                Verdict::Failed,
                SimDuration::ZERO,
            );
        }
        let found = outages(&s, &rule());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].recovered, Some(80));
        assert_eq!((found[1].first_bad, found[1].recovered), (200, Some(260)));
    }

    #[test]
    fn a_broken_second_is_never_the_recovery() {
        // 10 % of second 80 fails: the window from 80 still holds (990 of 1,000 is 99 %),
        // but second 80 itself does not, so recovery waits for second 81.
        let mut s = series(200, 50, 80);
        for t in 8000..8010 {
            s.ok[t / 100] -= 1;
            s.failed[t / 100] += 1;
        }
        assert_eq!(outages(&s, &rule()), one(50, 80, Some(81)));
    }

    #[test]
    fn unjudged_tail_does_not_count_as_recovery() {
        let mut s = series(100, 50, 90);
        for b in 90..100 {
            s.ok[b] = 0;
            s.failed[b] = 0;
        }
        assert_eq!(outages(&s, &rule()), one(50, 89, None));
    }

    #[test]
    fn a_short_good_spell_at_the_very_end_is_not_a_recovery() {
        // Failing until 195 s of a 200 s run: 5 good seconds, less than one 10 s window.
        assert_eq!(outages(&series(200, 50, 195), &rule()), one(50, 194, None));
        // A full window of good service before the end does count.
        assert_eq!(
            outages(&series(200, 50, 185), &rule()),
            one(50, 184, Some(185))
        );
    }

    #[test]
    fn a_relapse_inside_the_stability_period_extends_the_outage() {
        let mut s = series(300, 50, 80);
        for t in 9000..9500 {
            s.add(
                SimTime::from_millis(t * 10),
                Verdict::Failed,
                SimDuration::ZERO,
            );
        }
        assert_eq!(outages(&s, &rule()), one(50, 94, Some(95)));
    }

    #[test]
    fn a_latency_rule_breaks_steady_state_on_slow_answers() {
        let r = Rule {
            latency: Some(LatencyRule {
                p: 99.0,
                within: SimDuration::from_millis(500),
            }),
            ..rule()
        };
        let bound = Some(SimDuration::from_millis(500));
        let mut s = SuccessSeries::new(SimDuration::from_secs(1), SimTime::from_secs(200), bound);
        for t in 0..20_000u64 {
            let at = SimTime::from_millis(t * 10);
            let slow = (60_000..90_000).contains(&(t * 10));
            let latency = SimDuration::from_millis(if slow { 900 } else { 20 });
            s.add(at, Verdict::Acked, latency);
        }
        assert_eq!(outages(&s, &r), one(60, 89, Some(90)));
        // Without the rule every operation succeeded: no outage.
        assert!(outages(&s, &rule()).is_empty());
        // p50 within 500 ms tolerates a slow 1 % (and here tolerates nothing more).
        let counts = Counts {
            ok: 100,
            failed: 0,
            slow: 50,
        };
        let p50 = LatencyRule {
            p: 50.0,
            within: SimDuration::from_millis(500),
        };
        assert!(counts.meet(0.99, Some(p50)));
        assert!(!Counts { slow: 51, ..counts }.meet(0.99, Some(p50)));
    }
}

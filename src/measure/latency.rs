//! Response times: what an acknowledged operation cost its user, from send to answer.
//!
//! Latency is measured for acknowledged operations only (a failed one is counted by the
//! success ratio, not here), including its retries: a write acknowledged on its second attempt
//! took both. Percentiles are exact nearest-rank values over the recorded response times, kept
//! in whole microseconds (rounded up) so that a run's samples take 4 bytes each while judged.

use crate::sim::time::SimDuration;
use serde::Serialize;

/// Response times of a set of operations, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LatencyStats {
    /// Acknowledged operations measured.
    pub n: u64,
    pub p50_s: f64,
    pub p99_s: f64,
    pub max_s: f64,
}

/// Collected response times, in microseconds.
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<u32>);

impl Samples {
    #[inline]
    pub fn push(&mut self, latency: SimDuration) {
        let us = latency.0.div_ceil(1_000).min(u32::MAX as u64) as u32;
        self.0.push(us);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds another set's samples to these.
    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    /// Nearest-rank p50, p99 and the maximum; `None` when nothing was measured. Reorders the
    /// samples (selection, not a full sort).
    pub fn stats(&mut self) -> Option<LatencyStats> {
        let n = self.0.len();
        if n == 0 {
            return None;
        }
        let mut pick = |p: f64| {
            let rank = ((p / 100.0 * n as f64).ceil() as usize).clamp(1, n);
            *self.0.select_nth_unstable(rank - 1).1 as f64 / 1e6
        };
        Some(LatencyStats {
            n: n as u64,
            p50_s: pick(50.0),
            p99_s: pick(99.0),
            max_s: pick(100.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_in_microseconds() {
        let mut s = Samples::default();
        assert_eq!(s.stats(), None);
        for ms in (1..=100).rev() {
            s.push(SimDuration::from_millis(ms));
        }
        let st = s.stats().unwrap();
        assert_eq!(
            (st.n, st.p50_s, st.p99_s, st.max_s),
            (100, 0.05, 0.099, 0.1)
        );
        // Sub-microsecond times round up, never down to zero.
        let mut t = Samples::default();
        t.push(SimDuration(1));
        assert_eq!(t.stats().unwrap().max_s, 1e-6);
    }
}

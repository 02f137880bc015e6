//! PromQL's `histogram_quantile` over a classic histogram's buckets, as Prometheus computes
//! it (`promql/quantile.go`, `bucketQuantile`, with its helpers `coalesceBuckets`,
//! `correctPrecisionErrors` and `ensureMonotonic`), so that a latency rule here fires on the
//! same value a Prometheus server would compute from the same counters.
//!
//! It owns the arithmetic only. It does not own which buckets are summed (the server sums
//! its targets' increases `by (le)`, in `monitoring`) nor how they were counted
//! (`logic::histogram`).

/// One bucket: its inclusive upper bound (`le`) and the cumulative count at or below it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub upper_bound: f64,
    pub count: f64,
}

/// The tolerance below which `correctPrecisionErrors` treats a difference between adjacent
/// counts as a floating-point error (Prometheus passes `1e-12`).
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// `histogram_quantile(q, buckets)`: the `q`-quantile, interpolated linearly inside the bucket
/// where the rank `q × total` falls. The lowest bucket starts at 0 when its bound is above 0
/// (else its bound is the answer); a rank in the `+Inf` bucket returns the highest finite
/// bound. NaN, as in Prometheus, when `q` is NaN, when there are fewer than two buckets, when
/// the highest is not `+Inf`, or when there are no observations; `q` below 0 is `-Inf`, above 1
/// `+Inf`. A NaN compares false with any threshold, so a rule on it does not hold.
pub fn bucket_quantile(q: f64, buckets: &[Bucket]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut b: Vec<Bucket> = buckets.to_vec();
    b.sort_by(|x, y| x.upper_bound.total_cmp(&y.upper_bound));
    if b.last().is_none_or(|x| x.upper_bound != f64::INFINITY) {
        return f64::NAN;
    }
    coalesce(&mut b);
    correct_precision_errors(&mut b, SMALL_DELTA_TOLERANCE);
    ensure_monotonic(&mut b);
    if b.len() < 2 {
        return f64::NAN;
    }
    let observations = b[b.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    // Go's `sort.Search(len-1, count >= rank)`: the first finite bucket reaching the rank, or
    // `len - 1` (the `+Inf` bucket) when none does.
    let k = b[..b.len() - 1].partition_point(|x| x.count < rank);
    if k == b.len() - 1 {
        return b[b.len() - 2].upper_bound;
    }
    if k == 0 && b[0].upper_bound <= 0.0 {
        return b[0].upper_bound;
    }
    let mut start = 0.0;
    let end = b[k].upper_bound;
    let mut count = b[k].count;
    if k > 0 {
        start = b[k - 1].upper_bound;
        count -= b[k - 1].count;
        rank -= b[k - 1].count;
    }
    start + (end - start) * (rank / count)
}

/// Merges buckets with the same upper bound (sorted input), adding their counts.
fn coalesce(b: &mut Vec<Bucket>) {
    b.dedup_by(|later, kept| {
        let same = later.upper_bound == kept.upper_bound;
        if same {
            kept.count += later.count;
        }
        same
    });
}

/// Levels a count that differs from the one before by a relative `tolerance` or less to it:
/// float noise from summing rates must not break monotonicity.
fn correct_precision_errors(b: &mut [Bucket], tolerance: f64) {
    let Some(first) = b.first() else { return };
    let mut prev = first.count;
    for x in b.iter_mut().skip(1) {
        let delta = (x.count - prev).abs();
        if delta == 0.0 {
            continue;
        }
        if delta / x.count <= tolerance {
            x.count = prev;
        } else {
            prev = x.count;
        }
    }
}

/// The envelope of the counts: a count below an earlier one is raised to it, since a bucket
/// with a higher bound has counted everything a lower one has (sums of increases across a
/// counter reset can break that, and the binary search needs it).
fn ensure_monotonic(b: &mut [Bucket]) {
    let Some(first) = b.first() else { return };
    let mut max = first.count;
    for x in b.iter_mut().skip(1) {
        if x.count > max {
            max = x.count;
        } else {
            x.count = max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buckets with these finite bounds and cumulative counts, `+Inf` last (its count last).
    fn hist(bounds: &[f64], counts: &[f64]) -> Vec<Bucket> {
        assert_eq!(bounds.len() + 1, counts.len());
        let les = bounds.iter().copied().chain([f64::INFINITY]);
        les.zip(counts.iter().copied())
            .map(|(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_quantile_interpolates_inside_the_bucket_where_its_rank_falls() {
        // 100 observations: 10 ≤ 0.1, 50 ≤ 0.25, 90 ≤ 0.5, all ≤ 1.
        let h = hist(&[0.1, 0.25, 0.5, 1.0], &[10.0, 50.0, 90.0, 100.0, 100.0]);
        // Median: rank 50 is the last of (0.1, 0.25]: 0.1 + 0.15 × 40/40.
        assert!(close(bucket_quantile(0.5, &h), 0.25));
        // p90: rank 90 ends (0.25, 0.5]: 0.5. p95: rank 95, 5 of the 10 in (0.5, 1]: 0.75.
        assert!(close(bucket_quantile(0.9, &h), 0.5));
        assert!(close(bucket_quantile(0.95, &h), 0.75));
        // p30: rank 30, 20 of the 40 in (0.1, 0.25]: 0.175.
        assert!(close(bucket_quantile(0.3, &h), 0.175));
    }

    #[test]
    fn the_first_bucket_starts_at_zero_and_the_inf_bucket_returns_the_highest_bound() {
        let h = hist(&[0.1, 0.25, 0.5, 1.0], &[10.0, 50.0, 90.0, 100.0, 100.0]);
        // p5: rank 5 of the 10 in (0, 0.1]: 0.05.
        assert!(close(bucket_quantile(0.05, &h), 0.05));
        // 20 of 100 above 1 s: p99's rank 99 is in +Inf, which answers 1 (the highest bound).
        let slow = hist(&[0.1, 0.25, 0.5, 1.0], &[10.0, 50.0, 70.0, 80.0, 100.0]);
        assert_eq!(bucket_quantile(0.99, &slow), 1.0);
        assert!(close(bucket_quantile(0.8, &slow), 1.0), "rank 80 ends le=1");
        // A first bound at or below zero is the answer in the first bucket.
        let neg = hist(&[-1.0, 1.0], &[5.0, 10.0, 10.0]);
        assert_eq!(bucket_quantile(0.2, &neg), -1.0);
    }

    #[test]
    fn no_observations_or_no_inf_bucket_has_no_value() {
        let empty = hist(&[0.1, 0.5], &[0.0, 0.0, 0.0]);
        assert!(bucket_quantile(0.99, &empty).is_nan());
        let no_inf = [0.1, 0.5].map(|upper_bound| Bucket {
            upper_bound,
            count: 4.0,
        });
        assert!(bucket_quantile(0.5, &no_inf).is_nan());
        let only_inf = hist(&[], &[3.0]);
        assert!(bucket_quantile(0.5, &only_inf).is_nan(), "fewer than 2");
        let h = hist(&[0.1], &[1.0, 2.0]);
        assert!(bucket_quantile(f64::NAN, &h).is_nan());
        assert_eq!(bucket_quantile(-0.5, &h), f64::NEG_INFINITY);
        assert_eq!(bucket_quantile(1.5, &h), f64::INFINITY);
    }

    #[test]
    fn unsorted_duplicate_and_non_monotonic_buckets_are_mended_first() {
        // Out of order, le=0.5 given twice (summed: 6), and le=1 below le=0.5 (raised to 6).
        let b = [
            (1.0, 5.0),
            (0.5, 2.0),
            (f64::INFINITY, 8.0),
            (0.1, 1.0),
            (0.5, 4.0),
        ];
        let h: Vec<Bucket> = b
            .iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect();
        // Mended: 0.1 → 1, 0.5 → 6, 1 → 6, +Inf → 8. Median: rank 4, 3 of the 5 in
        // (0.1, 0.5]: 0.1 + 0.4 × 3/5 = 0.34.
        assert!(close(bucket_quantile(0.5, &h), 0.34));
        // p75: rank 6 ends le=0.5 (the first bucket reaching it, before the raised le=1).
        assert!(close(bucket_quantile(0.75, &h), 0.5));
    }
}

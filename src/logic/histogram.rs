//! A load balancer's latency histogram: how long its targets took to answer the requests it
//! forwarded, counted in Prometheus' default buckets and exposed as a client library's
//! `Histogram` is (`…_bucket{le="…"}`, cumulative counters).
//!
//! What it measures is ALB's `TargetResponseTime` ("the time elapsed, in seconds, after the
//! request leaves the load balancer until a response from the target is received", the
//! access log's `target_processing_time`; AWS, *CloudWatch metrics for your Application Load
//! Balancer*): from the instant the balancer forwards a request to the instant its target's
//! reply comes back. A request the balancer refuses itself, for want of a healthy target, never
//! reaches a target and is not observed (the access log writes `-1` for "the load balancer
//! can't dispatch the request to a target").
//!
//! It owns the requests in flight (when each was forwarded) and the bucket counts. It does not
//! own when it is on (assembly enables it only on balancers a latency rule reads, so runs
//! without one keep their messages and trace hashes) nor what Prometheus makes of the buckets
//! (`ops::quantile`).

use super::OpRef;
use crate::sim::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, VecDeque};

/// Upper bounds (`le`) of the finite buckets, in milliseconds: client_golang's
/// `prometheus.DefBuckets` (`.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10` seconds). The
/// last bucket, `+Inf`, counts every observation.
pub const BUCKET_BOUNDS_MS: [u64; 11] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/// Buckets exposed, `+Inf` included.
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;

/// Bucket counters carried by one `Msg::ScrapeBuckets`: three keep the message within the
/// 40 bytes every `Msg` fits in, so a full exposition is [`BUCKET_MESSAGES`] messages.
pub const BUCKETS_PER_MESSAGE: usize = 3;

/// Messages one exposition of the buckets takes.
pub const BUCKET_MESSAGES: usize = BUCKETS / BUCKETS_PER_MESSAGE;
const _: () = assert!(BUCKETS.is_multiple_of(BUCKETS_PER_MESSAGE));

/// How long a forwarded request is waited for: ALB's connection idle timeout
/// (`idle_timeout.timeout_seconds`, default 60 s; AWS, *Edit attributes for your Application
/// Load Balancer*). After it the balancer has closed the connection: a reply that comes later
/// is not observed, and forgetting the request keeps memory bounded by one timeout's traffic.
pub const IDLE_TIMEOUT: SimDuration = SimDuration::from_secs(60);

/// The requests in flight through one load balancer and the histogram of their targets'
/// response times.
#[derive(Clone, Debug, Default)]
pub struct LatencyRecorder {
    /// When each request in flight was forwarded (a retry of the same operation forwarded
    /// again replaces the time: the balancer sees a new request).
    forwarded: BTreeMap<OpRef, SimTime>,
    /// The same requests in the order they were forwarded, to forget them after
    /// [`IDLE_TIMEOUT`] without a scan (answered ones wait here until then, and are skipped).
    order: VecDeque<(SimTime, OpRef)>,
    /// Observations per bucket (not cumulative), `+Inf` last.
    counts: [u64; BUCKETS],
}

impl LatencyRecorder {
    /// `op` leaves for a target at `now`.
    pub fn forwarded(&mut self, op: OpRef, now: SimTime) {
        self.expire(now);
        self.forwarded.insert(op, now);
        self.order.push_back((now, op));
    }

    /// The target's reply to `op` is back at `now`: observe its response time, unless the
    /// request is not in flight (refused by the balancer, already answered, or past the idle
    /// timeout).
    pub fn answered(&mut self, op: OpRef, now: SimTime) {
        self.expire(now);
        if let Some(at) = self.forwarded.remove(&op) {
            self.observe(now.saturating_since(at));
        }
    }

    /// The process restarts: requests in flight are forgotten and the counters start over,
    /// as a restarted exporter's do (Prometheus reads that as a counter reset).
    pub fn crash(&mut self) {
        self.forwarded.clear();
        self.order.clear();
        self.counts = [0; BUCKETS];
    }

    /// The exposed `_bucket` counters: observations at or below each bound, `+Inf` last.
    pub fn cumulative(&self) -> [u64; BUCKETS] {
        let mut out = [0; BUCKETS];
        let mut sum = 0;
        for (o, c) in out.iter_mut().zip(self.counts) {
            sum += c;
            *o = sum;
        }
        out
    }

    /// Requests waiting for their target's reply.
    pub fn in_flight(&self) -> usize {
        self.forwarded.len()
    }

    /// Bytes its records of requests hold, by length (map and queue entries), for the run's
    /// memory budget: bounded by one idle timeout's traffic, not by the run's length.
    pub fn memory_bytes(&self) -> u64 {
        let entry = std::mem::size_of::<(SimTime, OpRef)>() as u64;
        entry * (self.forwarded.len() + self.order.len()) as u64
    }

    /// Counts one response time in the first bucket whose bound is at or above it (`le` is
    /// inclusive, as client_golang's `findBucket`).
    fn observe(&mut self, took: SimDuration) {
        let k = BUCKET_BOUNDS_MS
            .iter()
            .position(|&ms| took <= SimDuration::from_millis(ms))
            .unwrap_or(BUCKETS - 1);
        self.counts[k] += 1;
    }

    /// Forgets requests forwarded [`IDLE_TIMEOUT`] or more before `now`.
    fn expire(&mut self, now: SimTime) {
        while let Some(&(at, op)) = self.order.front() {
            if now.saturating_since(at) < IDLE_TIMEOUT {
                break;
            }
            self.order.pop_front();
            if self.forwarded.get(&op) == Some(&at) {
                self.forwarded.remove(&op);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(seq: u32) -> OpRef {
        OpRef {
            client: 7,
            seq,
            service: 0,
        }
    }

    fn ms(v: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(v)
    }

    #[test]
    fn each_answer_falls_in_the_first_bucket_at_or_above_it() {
        let mut r = LatencyRecorder::default();
        // Forwarded at 0; answered after 5 ms (on the bound), 6 ms, 500 ms, 10 s and 11 s.
        for (seq, took) in [(1, 5), (2, 6), (3, 500), (4, 10_000), (5, 11_000)] {
            r.forwarded(op(seq), ms(0));
            r.answered(op(seq), ms(took));
        }
        //        le:  5ms 10 25 50 100 250 500 1s 2.5 5  10 +Inf
        let want = [1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 5];
        assert_eq!(r.cumulative(), want);
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn only_forwarded_requests_are_observed_and_each_once() {
        let mut r = LatencyRecorder::default();
        // A refusal by the balancer itself is never forwarded: its reply observes nothing.
        r.answered(op(1), ms(3));
        r.forwarded(op(2), ms(0));
        r.answered(op(2), ms(30));
        r.answered(op(2), ms(40)); // a duplicate reply
        assert_eq!(r.cumulative()[BUCKETS - 1], 1);
        assert_eq!(r.cumulative()[3], 1, "30 ms is in le=50ms");
        assert_eq!(r.cumulative()[2], 0);
    }

    #[test]
    fn requests_unanswered_for_the_idle_timeout_are_forgotten() {
        let mut r = LatencyRecorder::default();
        r.forwarded(op(1), ms(0));
        r.forwarded(op(2), ms(1000));
        r.forwarded(op(3), ms(59_999));
        assert_eq!(r.in_flight(), 3);
        // At 60 s the first one's connection is closed: its late reply is not observed.
        r.answered(op(1), ms(60_000));
        assert_eq!(r.in_flight(), 2);
        assert_eq!(r.cumulative()[BUCKETS - 1], 0);
        // A retry forwarded again keeps its new time when the old one expires.
        r.forwarded(op(2), ms(30_000));
        r.forwarded(op(4), ms(61_000));
        assert_eq!(r.in_flight(), 3, "2 (retried), 3 and 4");
        r.answered(op(2), ms(61_500));
        assert_eq!(r.cumulative()[BUCKETS - 1], 1, "the retry's 31.5 s");
        r.forwarded(op(5), ms(121_000));
        assert_eq!(r.in_flight(), 1, "only 5: 3 and 4 expired");
    }

    #[test]
    fn a_crash_forgets_requests_in_flight_and_resets_the_counters() {
        let mut r = LatencyRecorder::default();
        r.forwarded(op(1), ms(0));
        r.answered(op(1), ms(20));
        r.forwarded(op(2), ms(30));
        r.crash();
        assert_eq!(r.cumulative(), [0; BUCKETS]);
        r.answered(op(2), ms(50));
        assert_eq!(
            r.cumulative(),
            [0; BUCKETS],
            "its reply finds nothing in flight"
        );
        assert_eq!(r.in_flight(), 0);
    }
}

//! Monitoring: a Prometheus server on a node of the topology, scraping its targets and
//! evaluating alerting rules over what it scraped.
//!
//! The semantics are Prometheus' own (`docs/configuration/configuration.md`,
//! `docs/configuration/alerting_rules.md`, and `rules/alerting.go` where the docs are terse):
//!
//! - **Scrapes.** Every `scrape_interval` the server scrapes each target. A target that
//!   answers within `scrape_timeout` has `up` = 1; one that does not has `up` = 0 (Prometheus
//!   records `up` for every scrape, "1 if the instance is healthy, i.e. reachable, or 0 if
//!   the scrape failed"). Until its first scrape ends a target has no sample, and no rule
//!   holds on it.
//! - **Rules.** Every `evaluation_interval` each rule's expression is evaluated on the latest
//!   samples. An alert whose expression holds becomes *pending* (its `activeAt` is that
//!   evaluation) and *firing* at the first evaluation at which it has held for `for`
//!   (`ts - activeAt >= for`; with `for: 0` at once). A pending alert whose expression stops
//!   holding is dropped without a trace. A firing one whose expression stops holding resolves
//!   at that evaluation, or, with `keep_firing_for`, at the first evaluation at which it has
//!   not held for that long (`keepFiringSince`); holding again in between keeps it firing.
//!
//! - **Histograms.** A load balancer a latency rule reads exposes its targets' response times
//!   as a classic histogram (cumulative `_bucket` counters, `le` = Prometheus' default
//!   buckets), after its `ScrapeReply` in [`BUCKET_MESSAGES`] more messages. A round's set of
//!   buckets is a sample only once all of its messages arrived within `scrape_timeout`; a
//!   partial set is a failed scrape for the histogram (Prometheus ingests a scrape whole or
//!   not at all).
//!
//! The server is a process like any other: while its node is down nothing is scraped,
//! evaluated or fired, which is how monitoring "goes dark with its region". A crash loses
//! its in-memory state (samples and alert states), and it starts over when the node returns
//! (Prometheus restores `for` state from its TSDB; that refinement is not modelled).
//!
//! It owns the scrape loop and the alert states. It does not own what a node's exporter
//! answers (the world answers `Scrape` for every node that is up) nor what an alert sets in
//! motion (paging, runbooks: later modules of `ops/`).

use super::quantile::{Bucket, bucket_quantile};
use crate::logic::histogram::{BUCKET_BOUNDS_MS, BUCKET_MESSAGES, BUCKETS, BUCKETS_PER_MESSAGE};
use crate::logic::{AlertSet, Context, Msg, NO_SERIES, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::VecDeque;
use std::sync::Arc;

/// What an alerting rule's expression tests, over the server's targets (by index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertExpr {
    /// `up == 0` for at least one of these targets (a node down).
    AnyDown(Vec<usize>),
    /// `sum(up) == 0` over these targets: every one of them is down (a zone or region dark).
    AllDown(Vec<usize>),
    /// `sum(patroni_primary) == 0` over a datastore's members (Patroni's exporter reports 1 on
    /// the leader; Redis' `redis_instance_info{role="master"}` likewise): no member that
    /// answered is primary. As in Prometheus, members that did not answer have no series: with
    /// none answering the sum is empty and the rule does not hold (a region rule covers that).
    NoPrimary(Vec<usize>),
    /// `sum(increase(errors)) / sum(increase(responses)) > ratio` over these targets (load
    /// balancers) between their last two scrapes: HAProxy's `5xx` responses over all, as in
    /// `rate(haproxy_backend_http_responses_total{code="5xx"}[…]) / rate(…)`. `ratio_ppm` is
    /// in parts per million. No responses in the window: the ratio has no value and does not
    /// hold. A counter lower than before was reset (a restart): its increase is its value.
    ErrorRatioAbove { targets: Vec<usize>, ratio_ppm: u32 },
    /// `max(pg_replication_lag) > above` over a datastore's members (redis_exporter's
    /// `redis_master_last_io_seconds_ago` plays the part for Redis): some member that
    /// answered is further behind its primary than `above`. A primary reports 0; a member
    /// that did not answer, or has replayed nothing since it started, has no series.
    ReplicationLagAbove {
        targets: Vec<usize>,
        above: SimDuration,
    },
    /// `min(pgbackrest_backup_since_last_completion_seconds) > above` over a datastore's
    /// members: the newest backup any of them reports completed is older than `above`.
    /// Members with no series (no backup completed yet, or no answer) are left out; with
    /// none left the minimum is empty and the rule does not hold.
    BackupAgeAbove {
        targets: Vec<usize>,
        above: SimDuration,
    },
    /// `sum(irate(haproxy_backend_http_responses_total[…])) < per_s` over these targets (load
    /// balancers): the traffic-drop alert. Each target's rate is its counter's increase
    /// between its last two samples over the time between them (Prometheus' `irate`, a reset
    /// read as for the error ratio). No responses at all is a rate of 0, which holds; a sum
    /// over no target with two samples is empty, which does not. `per_s_milli` is in
    /// thousandths of a response per second.
    RequestRateBelow {
        targets: Vec<usize>,
        per_s_milli: u64,
    },
    /// The error ratio between the last two scrapes is more than `points_ppm` (parts per
    /// million, `0.01` = one point) above the ratio this server measured over the `baseline`
    /// window that ends where the last interval starts: `sum(increase(errors[1m])) /
    /// sum(increase(responses[1m])) > sum(increase(errors[1h] offset 1m)) /
    /// sum(increase(responses[1h] offset 1m)) + 0.01` for a 1-minute scrape interval and a
    /// 1-hour baseline. Only targets whose history covers the whole window count, on both
    /// sides; with none (the server has not scraped that long since it started) or no
    /// responses on either side, it has no value and does not hold.
    ErrorRatioAboveBaseline {
        targets: Vec<usize>,
        points_ppm: u32,
        baseline: SimDuration,
    },
    /// `histogram_quantile(q, sum by (le) (increase(…_bucket[…]))) > above` over these
    /// targets (load balancers): the `q`-quantile of their targets' response times (ALB's
    /// `TargetResponseTime`) between their last two complete samples of the histogram,
    /// computed as Prometheus does ([`bucket_quantile`]). Each bucket's increase is read as
    /// the counters' are (a reset counts its value). No target with two samples, or no
    /// response in the window, has no value (NaN) and does not hold. `quantile_ppm` is `q`
    /// in parts per million.
    LatencyAbove {
        targets: Vec<usize>,
        quantile_ppm: u32,
        above: SimDuration,
    },
}

impl AlertExpr {
    /// The targets (by index) the expression is over.
    pub fn targets(&self) -> &[usize] {
        match self {
            AlertExpr::AnyDown(t) | AlertExpr::AllDown(t) | AlertExpr::NoPrimary(t) => t,
            AlertExpr::ErrorRatioAbove { targets, .. }
            | AlertExpr::ReplicationLagAbove { targets, .. }
            | AlertExpr::BackupAgeAbove { targets, .. }
            | AlertExpr::RequestRateBelow { targets, .. }
            | AlertExpr::ErrorRatioAboveBaseline { targets, .. }
            | AlertExpr::LatencyAbove { targets, .. } => targets,
        }
    }

    /// The targets whose latency histogram the expression reads (none for the others).
    pub fn histogram_targets(&self) -> &[usize] {
        match self {
            AlertExpr::LatencyAbove { targets, .. } => targets,
            _ => &[],
        }
    }

    /// How many samples of each of its targets the expression needs kept to look back over
    /// its window, scraped every `scrape_interval` (0: only the last two). A window of `k`
    /// intervals needs the sample at its start, `k` more to its end, and the one after.
    pub fn history_len(&self, scrape_interval: SimDuration) -> u64 {
        match self {
            AlertExpr::ErrorRatioAboveBaseline { baseline, .. } => {
                baseline.0.div_ceil(scrape_interval.0.max(1)) + 2
            }
            _ => 0,
        }
    }
}

/// One alerting rule, with Prometheus' `for` and `keep_firing_for`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRule {
    /// The rule's name, as a one-name [`AlertSet`] (what incidents and runbooks go by).
    pub alert: AlertSet,
    pub expr: AlertExpr,
    pub for_: SimDuration,
    pub keep_firing_for: SimDuration,
}

/// How one monitoring server is configured.
#[derive(Clone, Debug)]
pub struct MonitoringSpec {
    /// The nodes it scrapes, in the order rules refer to them.
    pub targets: Vec<NodeId>,
    pub scrape_interval: SimDuration,
    pub scrape_timeout: SimDuration,
    pub evaluation_interval: SimDuration,
    pub rules: Vec<AlertRule>,
    /// The paging service its alerts go to, if any (in Prometheus through Alertmanager; here
    /// straight to the service's events endpoint, keyed by server and rule).
    pub pager: Option<NodeId>,
}

impl MonitoringSpec {
    /// The nodes whose latency histogram some rule reads, each once, in target order: the
    /// load balancers that must keep one (see `logic::histogram`).
    pub fn histogram_nodes(&self) -> Vec<NodeId> {
        histogram_targets(&self.rules)
            .into_iter()
            .map(|i| self.targets[i])
            .collect()
    }
}

/// The targets (by index) whose histogram some rule reads, sorted, each once.
fn histogram_targets(rules: &[AlertRule]) -> Vec<usize> {
    let mut of: Vec<usize> = rules
        .iter()
        .flat_map(|r| r.expr.histogram_targets().iter().copied())
        .collect();
    of.sort_unstable();
    of.dedup();
    of
}

/// How often a firing alert is sent again (Prometheus' `--rules.alert.resend-delay`, 1m), so
/// a paging service that missed it while down hears of it.
const RESEND_DELAY: SimDuration = SimDuration::from_secs(60);

/// Where one alert stands (`rules/alerting.go`: inactive, pending, firing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AlertState {
    Inactive,
    Pending {
        active_at: SimTime,
    },
    /// `keep_since`: the first evaluation at which the expression no longer held.
    Firing {
        keep_since: Option<SimTime>,
    },
}

/// One scrape's response counters, stamped with the scrape's start (as Prometheus stamps
/// the samples of a scrape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sample {
    at: SimTime,
    responses: u64,
    errors: u64,
}

/// One target's latency histogram as the server holds it: its last two complete samples of the
/// cumulative bucket counters (`[previous, latest]`, `None` where a round's set was missing or
/// partial), and the set of the current round as its messages arrive.
#[derive(Clone, Debug, Default)]
struct HistogramSeries {
    samples: [Option<[u64; BUCKETS]>; 2],
    receiving: [u64; BUCKETS],
    /// Which of the current round's bucket messages arrived, one bit each.
    arrived: u8,
}

/// Every bucket message of a round arrived.
const ALL_ARRIVED: u8 = (1 << BUCKET_MESSAGES) - 1;

impl HistogramSeries {
    /// The round's set was not complete at its timeout: no sample, as for a failed scrape.
    fn close_round(&mut self) {
        if self.arrived != ALL_ARRIVED {
            self.samples = [self.samples[1], None];
        }
        self.arrived = 0;
    }

    /// Buckets `first..first + 3` of the current round arrived; the set becomes the latest
    /// sample when it is complete. A `first` off the message grid is ignored.
    fn receive(&mut self, first: u8, counts: [u64; BUCKETS_PER_MESSAGE]) {
        let first = usize::from(first);
        if first % BUCKETS_PER_MESSAGE != 0 || first >= BUCKETS {
            return;
        }
        let before = self.arrived;
        self.receiving[first..first + BUCKETS_PER_MESSAGE].copy_from_slice(&counts);
        self.arrived |= 1 << (first / BUCKETS_PER_MESSAGE);
        if self.arrived == ALL_ARRIVED && before != ALL_ARRIVED {
            self.samples = [self.samples[1], Some(self.receiving)];
        }
    }
}

/// A Prometheus server: scrape loop, latest `up` per target, alert states.
#[derive(Clone, Debug)]
pub struct Prometheus {
    spec: Arc<MonitoringSpec>,
    /// Targets sorted by node, with their index, to find who answered.
    by_node: Vec<(NodeId, usize)>,
    /// Latest `up` of each target: `None` until its first scrape ended.
    up: Vec<Option<bool>>,
    /// Whether each target said it was a primary in its latest answer.
    primary: Vec<bool>,
    /// Each target's response counters in its last two answers (`[previous, latest]`), for
    /// rates; `None` where a scrape failed.
    counters: Vec<[Option<Sample>; 2]>,
    /// Each target's latest replication lag and backup age, in milliseconds (`None`: no
    /// series, including after a failed scrape, which makes the series stale).
    replication_lag_ms: Vec<Option<u32>>,
    backup_age_ms: Vec<Option<u32>>,
    /// The counter samples of the targets a baseline rule looks back over, oldest first, at
    /// most `history_len` each (empty for the other targets): the server's own TSDB, bounded
    /// by the longest baseline window (`None` for the other targets). A failed scrape adds
    /// none.
    history: Vec<Option<VecDeque<Sample>>>,
    history_len: usize,
    /// The latency histograms of the targets a latency rule reads, by target index (sorted),
    /// so that only those cost memory.
    histograms: Vec<(usize, HistogramSeries)>,
    /// When the current round started: the timestamp of its samples.
    round_at: SimTime,
    /// Whether each target answered the current round.
    answered: Vec<bool>,
    round: u32,
    /// When each alert was last sent to the paging service.
    sent: Vec<Option<SimTime>>,
    /// Whether the current round is still within its `scrape_timeout`.
    open: bool,
    alerts: Vec<AlertState>,
}

impl Prometheus {
    pub fn new(spec: Arc<MonitoringSpec>) -> Self {
        debug_assert!(spec.scrape_timeout <= spec.scrape_interval);
        let mut by_node: Vec<(NodeId, usize)> = spec
            .targets
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, i))
            .collect();
        by_node.sort_unstable();
        let n = spec.targets.len();
        let mut history_len = 0;
        let mut history = vec![None; n];
        for rule in &spec.rules {
            let len = rule.expr.history_len(spec.scrape_interval);
            if len > 0 {
                history_len = history_len.max(len as usize);
                for &i in rule.expr.targets() {
                    history[i] = Some(VecDeque::new());
                }
            }
        }
        let histograms = histogram_targets(&spec.rules)
            .into_iter()
            .map(|i| (i, HistogramSeries::default()))
            .collect();
        Prometheus {
            by_node,
            histograms,
            up: vec![None; n],
            primary: vec![false; n],
            counters: vec![[None; 2]; n],
            replication_lag_ms: vec![None; n],
            backup_age_ms: vec![None; n],
            history,
            history_len,
            round_at: SimTime::ZERO,
            answered: vec![false; n],
            round: 0,
            sent: vec![None; spec.rules.len()],
            open: false,
            alerts: vec![AlertState::Inactive; spec.rules.len()],
            spec,
        }
    }

    /// The node (re)starts: memory is empty; the first scrape goes out at once and the first
    /// evaluation one `evaluation_interval` later.
    pub fn start(&mut self, ctx: &mut impl Context) {
        self.up.fill(None);
        self.primary.fill(false);
        self.counters.fill([None; 2]);
        self.replication_lag_ms.fill(None);
        self.backup_age_ms.fill(None);
        for h in self.history.iter_mut().flatten() {
            h.clear();
        }
        for (_, h) in &mut self.histograms {
            *h = HistogramSeries::default();
        }
        self.alerts.fill(AlertState::Inactive);
        self.sent.fill(None);
        self.scrape(ctx);
        ctx.set_timer(self.spec.evaluation_interval, Timer::RuleEvaluation);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::ScrapeDue => self.scrape(ctx),
            Timer::ScrapeDeadline { round } if round == self.round => {
                self.open = false;
                for (i, &answered) in self.answered.iter().enumerate() {
                    if !answered {
                        self.up[i] = Some(false);
                        self.primary[i] = false;
                        self.counters[i] = [self.counters[i][1], None];
                        self.replication_lag_ms[i] = None;
                        self.backup_age_ms[i] = None;
                    }
                }
                for (_, h) in &mut self.histograms {
                    h.close_round();
                }
            }
            Timer::RuleEvaluation => {
                self.evaluate(ctx);
                ctx.set_timer(self.spec.evaluation_interval, Timer::RuleEvaluation);
            }
            _ => {}
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, _ctx: &mut impl Context) {
        match msg {
            Msg::ScrapeReply {
                round,
                primary,
                responses,
                errors,
                replication_lag_ms,
                backup_age_ms,
            } => {
                let Some(i) = self.answering(from, round) else {
                    return;
                };
                let sample = Sample {
                    at: self.round_at,
                    responses,
                    errors,
                };
                self.on_exposition(i, primary, sample, (replication_lag_ms, backup_age_ms));
            }
            Msg::ScrapeBuckets {
                round,
                first,
                counts,
            } => {
                let Some(i) = self.answering(from, round) else {
                    return;
                };
                if let Ok(k) = self.histograms.binary_search_by_key(&i, |h| h.0) {
                    self.histograms[k].1.receive(first, counts);
                }
            }
            _ => {}
        }
    }

    /// The target `from` is, if its answer belongs to the current round and came within its
    /// timeout (a later answer is for a scrape that already failed).
    fn answering(&self, from: NodeId, round: u32) -> Option<usize> {
        if round != self.round || !self.open {
            return None;
        }
        let k = self.by_node.binary_search_by_key(&from, |t| t.0).ok()?;
        Some(self.by_node[k].1)
    }

    /// Target `i`'s exporter answered: it is up, with its role, counters and gauges
    /// (`(replication lag, backup age)` in milliseconds, [`NO_SERIES`] for none).
    fn on_exposition(&mut self, i: usize, primary: bool, sample: Sample, gauges_ms: (u32, u32)) {
        let (replication_lag_ms, backup_age_ms) = gauges_ms;
        self.answered[i] = true;
        self.up[i] = Some(true);
        self.primary[i] = primary;
        self.counters[i] = [self.counters[i][1], Some(sample)];
        self.replication_lag_ms[i] =
            (replication_lag_ms != NO_SERIES).then_some(replication_lag_ms);
        self.backup_age_ms[i] = (backup_age_ms != NO_SERIES).then_some(backup_age_ms);
        if let Some(h) = &mut self.history[i] {
            if h.len() == self.history_len {
                h.pop_front();
            }
            h.push_back(sample);
        }
    }

    /// Starts a scrape round: every target is asked, the timeout and the next round are set.
    fn scrape(&mut self, ctx: &mut impl Context) {
        self.round += 1;
        self.round_at = ctx.now();
        self.open = true;
        self.answered.fill(false);
        for &target in &self.spec.targets {
            ctx.send(target, Msg::Scrape { round: self.round });
        }
        ctx.set_timer(
            self.spec.scrape_timeout,
            Timer::ScrapeDeadline { round: self.round },
        );
        ctx.set_timer(self.spec.scrape_interval, Timer::ScrapeDue);
    }

    /// Whether a rule's expression holds on the latest samples (a target with no sample
    /// yet makes no series, so it neither counts as down nor as up).
    fn holds(&self, expr: &AlertExpr) -> bool {
        match expr {
            AlertExpr::AnyDown(ts) => ts.iter().any(|&i| self.up[i] == Some(false)),
            AlertExpr::AllDown(ts) => {
                ts.iter().any(|&i| self.up[i].is_some())
                    && ts.iter().all(|&i| self.up[i] != Some(true))
            }
            AlertExpr::ErrorRatioAbove { targets, ratio_ppm } => {
                let (responses, errors) = self.last_increase(targets);
                responses > 0
                    && u128::from(errors) * 1_000_000
                        > u128::from(responses) * u128::from(*ratio_ppm)
            }
            AlertExpr::NoPrimary(ts) => {
                ts.iter().any(|&i| self.up[i] == Some(true))
                    && !ts
                        .iter()
                        .any(|&i| self.up[i] == Some(true) && self.primary[i])
            }
            AlertExpr::ReplicationLagAbove { targets, above } => targets
                .iter()
                .filter_map(|&i| self.replication_lag_ms[i])
                .any(|lag| ms(lag) > *above),
            AlertExpr::BackupAgeAbove { targets, above } => targets
                .iter()
                .filter_map(|&i| self.backup_age_ms[i])
                .min()
                .is_some_and(|age| ms(age) > *above),
            AlertExpr::RequestRateBelow {
                targets,
                per_s_milli,
            } => self
                .request_rate_per_s(targets)
                .is_some_and(|rate| rate * 1000.0 < *per_s_milli as f64),
            AlertExpr::ErrorRatioAboveBaseline {
                targets,
                points_ppm,
                baseline,
            } => self.above_baseline(targets, *points_ppm, *baseline),
            AlertExpr::LatencyAbove {
                targets,
                quantile_ppm,
                above,
            } => {
                let q = f64::from(*quantile_ppm) / 1e6;
                // Milliseconds, like the bucket bounds; NaN (no value) compares false.
                self.latency_quantile_ms(targets, q) > above.0 as f64 / 1e6
            }
        }
    }

    /// `histogram_quantile(q, sum by (le) (increase(…_bucket)))` in milliseconds over the
    /// targets' last two complete samples (targets without two left out); NaN when none has
    /// two (an empty vector) or nothing was observed.
    fn latency_quantile_ms(&self, targets: &[usize], q: f64) -> f64 {
        let mut sum = [0u64; BUCKETS];
        let mut any = false;
        for &i in targets {
            let Ok(k) = self.histograms.binary_search_by_key(&i, |h| h.0) else {
                continue;
            };
            if let [Some(before), Some(now)] = self.histograms[k].1.samples {
                any = true;
                for (s, (b, n)) in sum.iter_mut().zip(before.into_iter().zip(now)) {
                    *s = s.saturating_add(increase(b, n));
                }
            }
        }
        if !any {
            return f64::NAN;
        }
        let les = BUCKET_BOUNDS_MS.map(|ms| ms as f64);
        let buckets: Vec<Bucket> = les
            .into_iter()
            .chain([f64::INFINITY])
            .zip(sum)
            .map(|(upper_bound, count)| Bucket {
                upper_bound,
                count: count as f64,
            })
            .collect();
        bucket_quantile(q, &buckets)
    }

    /// `(responses, errors)` summed over the targets' increases between their last two
    /// samples (targets without two samples left out).
    fn last_increase(&self, targets: &[usize]) -> (u64, u64) {
        let (mut responses, mut errors) = (0u64, 0u64);
        for &i in targets {
            if let [Some(before), Some(now)] = self.counters[i] {
                responses += increase(before.responses, now.responses);
                errors += increase(before.errors, now.errors);
            }
        }
        (responses, errors)
    }

    /// `sum(irate(responses))`: per target, the increase between its last two samples over
    /// the time between them. `None` when no target has two samples (an empty sum).
    fn request_rate_per_s(&self, targets: &[usize]) -> Option<f64> {
        let mut sum = None;
        for &i in targets {
            if let [Some(before), Some(now)] = self.counters[i] {
                let elapsed = now.at.saturating_since(before.at).as_secs_f64();
                if elapsed > 0.0 {
                    let rate = increase(before.responses, now.responses) as f64 / elapsed;
                    sum = Some(sum.unwrap_or(0.0) + rate);
                }
            }
        }
        sum
    }

    /// Whether the error ratio of the last interval is more than `points_ppm` above the
    /// baseline: the ratio over `baseline` up to the interval's start, over the targets whose
    /// history covers that window (see [`AlertExpr::ErrorRatioAboveBaseline`]).
    fn above_baseline(&self, targets: &[usize], points_ppm: u32, baseline: SimDuration) -> bool {
        let (mut now_r, mut now_e, mut base_r, mut base_e) = (0u128, 0u128, 0u128, 0u128);
        for &i in targets {
            let [Some(before), Some(now)] = self.counters[i] else {
                continue;
            };
            let Some(h) = &self.history[i] else { continue };
            let Some((r, e)) = window_increase(h, before.at, baseline) else {
                continue;
            };
            now_r += u128::from(increase(before.responses, now.responses));
            now_e += u128::from(increase(before.errors, now.errors));
            base_r += u128::from(r);
            base_e += u128::from(e);
        }
        // now_e / now_r > base_e / base_r + points, all sides multiplied out.
        now_r > 0
            && base_r > 0
            && now_e * base_r * 1_000_000
                > (base_e * 1_000_000 + u128::from(points_ppm) * base_r) * now_r
    }

    /// One evaluation of every rule, in rule order.
    fn evaluate(&mut self, ctx: &mut impl Context) {
        let now = ctx.now();
        let spec = Arc::clone(&self.spec);
        for (k, rule) in spec.rules.iter().enumerate() {
            let holds = self.holds(&rule.expr);
            let next = step(self.alerts[k], rule, holds, now);
            match (self.alerts[k], next) {
                (AlertState::Firing { .. }, AlertState::Inactive) => {
                    ctx.note(Note::AlertResolved { rule: k as u16 });
                    self.notify(k, false, ctx);
                }
                (AlertState::Inactive | AlertState::Pending { .. }, AlertState::Firing { .. }) => {
                    ctx.note(Note::AlertFiring { rule: k as u16 });
                    self.notify(k, true, ctx);
                }
                (AlertState::Firing { .. }, AlertState::Firing { .. })
                    if self.sent[k].is_some_and(|t| now.saturating_since(t) >= RESEND_DELAY) =>
                {
                    self.notify(k, true, ctx);
                }
                _ => {}
            }
            self.alerts[k] = next;
        }
    }

    /// Tells the paging service, if any, that alert `k` fires or resolved.
    fn notify(&mut self, k: usize, firing: bool, ctx: &mut impl Context) {
        if let Some(pager) = self.spec.pager {
            let rule = k as u16;
            let alerts = self.spec.rules[k].alert;
            ctx.send(
                pager,
                Msg::AlertNotify {
                    rule,
                    firing,
                    alerts,
                },
            );
            self.sent[k] = firing.then(|| ctx.now());
        }
    }
}

/// A counter's increase between two samples; lower than before means it was reset.
fn increase(before: u64, now: u64) -> u64 {
    if now >= before { now - before } else { now }
}

/// Milliseconds as a duration.
fn ms(v: u32) -> SimDuration {
    SimDuration::from_millis(u64::from(v))
}

/// `(responses, errors)` increases over the window of length `window` ending at the sample
/// stamped `end`: from the last sample at or before the window's start to that one, summed
/// pair by pair so that a reset in between counts as for [`increase`] (Prometheus'
/// `increase` adds the value before a reset the same way). `None` when the history does not
/// reach back to the window's start, or lacks the sample at `end`.
fn window_increase(h: &VecDeque<Sample>, end: SimTime, window: SimDuration) -> Option<(u64, u64)> {
    let start = end.0.checked_sub(window.0)?;
    let first = h.iter().rposition(|s| s.at.0 <= start)?;
    let last = h.iter().rposition(|s| s.at == end)?;
    let (mut responses, mut errors) = (0u64, 0u64);
    for k in first..last {
        let (a, b) = (h[k], h[k + 1]);
        responses += increase(a.responses, b.responses);
        errors += increase(a.errors, b.errors);
    }
    Some((responses, errors))
}

/// An alert's next state after one evaluation at `now` (`rules/alerting.go`, `Eval`).
fn step(state: AlertState, rule: &AlertRule, holds: bool, now: SimTime) -> AlertState {
    match (state, holds) {
        (AlertState::Inactive, true) => fire_if_due(now, rule, now),
        (AlertState::Pending { active_at }, true) => fire_if_due(active_at, rule, now),
        (AlertState::Firing { .. }, true) => AlertState::Firing { keep_since: None },
        (AlertState::Inactive | AlertState::Pending { .. }, false) => AlertState::Inactive,
        (AlertState::Firing { keep_since }, false) => {
            let since = keep_since.unwrap_or(now);
            if now.saturating_since(since) >= rule.keep_firing_for {
                AlertState::Inactive
            } else {
                AlertState::Firing {
                    keep_since: Some(since),
                }
            }
        }
    }
}

/// Pending since `active_at`, or firing once it has held for `for`.
fn fire_if_due(active_at: SimTime, rule: &AlertRule, now: SimTime) -> AlertState {
    if now.saturating_since(active_at) >= rule.for_ {
        AlertState::Firing { keep_since: None }
    } else {
        AlertState::Pending { active_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const ME: NodeId = 9;
    const PAGER: NodeId = 50;

    fn s(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    fn spec(rules: Vec<AlertRule>) -> Arc<MonitoringSpec> {
        Arc::new(MonitoringSpec {
            targets: vec![3, 1, 2],
            scrape_interval: SimDuration::from_secs(15),
            scrape_timeout: SimDuration::from_secs(10),
            evaluation_interval: SimDuration::from_secs(15),
            rules,
            pager: Some(PAGER),
        })
    }

    fn rule(expr: AlertExpr, for_s: u64, keep_s: u64) -> AlertRule {
        AlertRule {
            alert: 1,
            expr,
            for_: SimDuration::from_secs(for_s),
            keep_firing_for: SimDuration::from_secs(keep_s),
        }
    }

    /// One scrape round at `t`: the `up` targets answer, the timeout passes.
    fn round(p: &mut Prometheus, ctx: &mut Recorder, t: u64, up: &[NodeId]) {
        ctx.at(s(t));
        p.on_timer(Timer::ScrapeDue, ctx);
        let Some(&(_, Msg::Scrape { round })) = ctx.sent.last() else {
            panic!("a scrape round sends scrapes: {:?}", ctx.sent);
        };
        for &n in up {
            p.on_message(
                n,
                Msg::ScrapeReply {
                    round,
                    primary: n == 2,
                    responses: 0,
                    errors: 0,
                    replication_lag_ms: NO_SERIES,
                    backup_age_ms: NO_SERIES,
                },
                ctx,
            );
        }
        ctx.at(s(t + 10));
        p.on_timer(Timer::ScrapeDeadline { round }, ctx);
    }

    fn reply(round: u32) -> Msg {
        Msg::ScrapeReply {
            round,
            primary: false,
            responses: 0,
            errors: 0,
            replication_lag_ms: NO_SERIES,
            backup_age_ms: NO_SERIES,
        }
    }

    fn evaluate(p: &mut Prometheus, ctx: &mut Recorder, t: u64) -> Vec<Note> {
        ctx.at(s(t));
        ctx.notes.clear();
        p.on_timer(Timer::RuleEvaluation, ctx);
        std::mem::take(&mut ctx.notes)
    }

    #[test]
    fn start_scrapes_every_target_and_arms_timeout_next_round_and_evaluation() {
        let mut p = Prometheus::new(spec(vec![]));
        let mut ctx = Recorder::new(ME);
        p.start(&mut ctx);
        let to: Vec<NodeId> = ctx.sent.iter().map(|x| x.0).collect();
        assert_eq!(to, vec![3, 1, 2]);
        assert!(ctx.sent.iter().all(|x| x.1 == Msg::Scrape { round: 1 }));
        assert_eq!(
            ctx.timers,
            vec![
                (s(10), Timer::ScrapeDeadline { round: 1 }),
                (s(15), Timer::ScrapeDue),
                (s(15), Timer::RuleEvaluation),
            ]
        );
    }

    #[test]
    fn a_target_down_for_the_whole_for_period_fires_then_resolves() {
        let mut p = Prometheus::new(spec(vec![rule(AlertExpr::AnyDown(vec![1]), 30, 0)]));
        let mut ctx = Recorder::new(ME);
        round(&mut p, &mut ctx, 0, &[3, 1, 2]);
        assert!(evaluate(&mut p, &mut ctx, 15).is_empty(), "all up");
        round(&mut p, &mut ctx, 15, &[3, 2]); // target 1 (node 1) stops answering
        assert!(
            evaluate(&mut p, &mut ctx, 30).is_empty(),
            "pending from 30 s"
        );
        assert!(evaluate(&mut p, &mut ctx, 45).is_empty(), "held 15 s of 30");
        assert_eq!(
            evaluate(&mut p, &mut ctx, 60),
            vec![Note::AlertFiring { rule: 0 }]
        );
        assert!(evaluate(&mut p, &mut ctx, 75).is_empty(), "still firing");
        round(&mut p, &mut ctx, 75, &[3, 1, 2]);
        assert_eq!(
            evaluate(&mut p, &mut ctx, 90),
            vec![Note::AlertResolved { rule: 0 }]
        );
    }

    #[test]
    fn a_blip_shorter_than_for_never_fires() {
        let mut p = Prometheus::new(spec(vec![rule(AlertExpr::AnyDown(vec![1]), 30, 0)]));
        let mut ctx = Recorder::new(ME);
        round(&mut p, &mut ctx, 0, &[3, 2]);
        assert!(evaluate(&mut p, &mut ctx, 15).is_empty(), "pending");
        round(&mut p, &mut ctx, 15, &[3, 1, 2]);
        assert!(evaluate(&mut p, &mut ctx, 30).is_empty(), "dropped");
        round(&mut p, &mut ctx, 30, &[3, 2]);
        assert!(
            evaluate(&mut p, &mut ctx, 45).is_empty(),
            "pending anew from 45 s"
        );
        assert!(evaluate(&mut p, &mut ctx, 60).is_empty(), "held 15 s of 30");
        assert_eq!(
            evaluate(&mut p, &mut ctx, 75),
            vec![Note::AlertFiring { rule: 0 }]
        );
    }

    #[test]
    fn all_down_needs_every_target_down_and_keep_firing_for_holds_it() {
        let mut p = Prometheus::new(spec(vec![rule(AlertExpr::AllDown(vec![0, 1]), 0, 30)]));
        let mut ctx = Recorder::new(ME);
        round(&mut p, &mut ctx, 0, &[2, 1]);
        assert!(
            evaluate(&mut p, &mut ctx, 15).is_empty(),
            "one of two still up"
        );
        round(&mut p, &mut ctx, 15, &[2]);
        assert_eq!(
            evaluate(&mut p, &mut ctx, 30),
            vec![Note::AlertFiring { rule: 0 }]
        );
        round(&mut p, &mut ctx, 30, &[2, 3]);
        assert!(evaluate(&mut p, &mut ctx, 45).is_empty(), "kept 0 s of 30");
        assert!(evaluate(&mut p, &mut ctx, 60).is_empty(), "kept 15 s of 30");
        assert_eq!(
            evaluate(&mut p, &mut ctx, 75),
            vec![Note::AlertResolved { rule: 0 }]
        );
    }

    #[test]
    fn an_answer_after_its_round_timed_out_does_not_bring_a_target_up() {
        let mut p = Prometheus::new(spec(vec![rule(AlertExpr::AnyDown(vec![0]), 0, 0)]));
        let mut ctx = Recorder::new(ME);
        round(&mut p, &mut ctx, 0, &[1, 2]);
        ctx.at(s(12));
        p.on_message(3, reply(1), &mut ctx);
        round(&mut p, &mut ctx, 15, &[1, 2]);
        p.on_message(3, reply(1), &mut ctx);
        assert_eq!(
            evaluate(&mut p, &mut ctx, 30),
            vec![Note::AlertFiring { rule: 0 }]
        );
    }

    #[test]
    fn no_primary_holds_when_members_answer_and_none_is_primary_not_when_all_are_silent() {
        // Targets are nodes 3, 1, 2; node 2 answers as the primary (see `round`).
        let mut p = Prometheus::new(spec(vec![rule(AlertExpr::NoPrimary(vec![0, 1, 2]), 0, 0)]));
        let mut ctx = Recorder::new(ME);
        round(&mut p, &mut ctx, 0, &[3, 1, 2]);
        assert!(evaluate(&mut p, &mut ctx, 15).is_empty(), "node 2 leads");
        round(&mut p, &mut ctx, 15, &[3, 1]);
        assert_eq!(
            evaluate(&mut p, &mut ctx, 30),
            vec![Note::AlertFiring { rule: 0 }],
            "two members answer, neither is primary"
        );
        round(&mut p, &mut ctx, 30, &[]);
        assert_eq!(
            evaluate(&mut p, &mut ctx, 45),
            vec![Note::AlertResolved { rule: 0 }],
            "no member answers: the sum is empty, the rule does not hold"
        );
    }

    #[test]
    fn the_error_ratio_is_read_from_counter_increases_between_two_scrapes() {
        // Targets 0 and 1 (nodes 3 and 1) are load balancers; alert above 50 %.
        let expr = AlertExpr::ErrorRatioAbove {
            targets: vec![0, 1],
            ratio_ppm: 500_000,
        };
        let mut p = Prometheus::new(spec(vec![rule(expr, 0, 0)]));
        let mut ctx = Recorder::new(ME);
        let mut scrape = |p: &mut Prometheus, t: u64, a: (u64, u64), b: (u64, u64)| {
            ctx.at(s(t));
            p.on_timer(Timer::ScrapeDue, &mut ctx);
            let round = t as u32 / 15 + 1;
            for (n, (responses, errors)) in [(3, a), (1, b)] {
                let primary = false;
                let msg = Msg::ScrapeReply {
                    round,
                    primary,
                    responses,
                    errors,
                    replication_lag_ms: NO_SERIES,
                    backup_age_ms: NO_SERIES,
                };
                p.on_message(n, msg, &mut ctx);
            }
            ctx.at(s(t + 10));
            p.on_timer(Timer::ScrapeDeadline { round }, &mut ctx);
            ctx.at(s(t + 15));
            ctx.notes.clear();
            p.on_timer(Timer::RuleEvaluation, &mut ctx);
            std::mem::take(&mut ctx.notes)
        };
        assert!(
            scrape(&mut p, 0, (1000, 990), (0, 0)).is_empty(),
            "one sample: no rate"
        );
        assert!(
            scrape(&mut p, 15, (1100, 990), (100, 0)).is_empty(),
            "0 of 200"
        );
        assert!(
            scrape(&mut p, 30, (1200, 1090), (200, 0)).is_empty(),
            "100 of 200: 50 % is not above 50 %"
        );
        let firing = scrape(&mut p, 45, (1300, 1190), (210, 0));
        assert_eq!(firing, vec![Note::AlertFiring { rule: 0 }], "100 of 110");
        // Node 3 restarted: its counters start over (a reset, not a huge negative rate).
        let resolved = scrape(&mut p, 60, (40, 0), (300, 0));
        assert_eq!(resolved, vec![Note::AlertResolved { rule: 0 }], "0 of 130");
        assert!(
            scrape(&mut p, 75, (40, 0), (300, 0)).is_empty(),
            "no responses: no value"
        );
    }

    #[test]
    fn nothing_fires_before_the_first_scrape_ends() {
        let mut p = Prometheus::new(spec(vec![
            rule(AlertExpr::AnyDown(vec![0]), 0, 0),
            rule(AlertExpr::AllDown(vec![0, 1, 2]), 0, 0),
        ]));
        let mut ctx = Recorder::new(ME);
        assert!(evaluate(&mut p, &mut ctx, 5).is_empty());
    }

    #[test]
    fn alerts_go_to_the_pager_when_they_fire_again_each_minute_and_when_they_resolve() {
        let mut p = Prometheus::new(spec(vec![rule(AlertExpr::AnyDown(vec![0]), 0, 0)]));
        let mut ctx = Recorder::new(ME);
        let to_pager = |ctx: &mut Recorder| -> Vec<Msg> {
            let out = ctx
                .sent
                .iter()
                .filter(|x| x.0 == PAGER)
                .map(|x| x.1)
                .collect();
            ctx.sent.clear();
            out
        };
        round(&mut p, &mut ctx, 0, &[1, 2]);
        evaluate(&mut p, &mut ctx, 15);
        let firing = Msg::AlertNotify {
            rule: 0,
            firing: true,
            alerts: 1,
        };
        assert_eq!(to_pager(&mut ctx), vec![firing]);
        for t in [30, 45, 60] {
            evaluate(&mut p, &mut ctx, t);
            assert!(
                to_pager(&mut ctx).is_empty(),
                "{t} s: within the resend delay"
            );
        }
        evaluate(&mut p, &mut ctx, 75);
        assert_eq!(
            to_pager(&mut ctx),
            vec![firing],
            "a minute after the last send"
        );
        round(&mut p, &mut ctx, 75, &[3, 1, 2]);
        evaluate(&mut p, &mut ctx, 90);
        let resolved = Msg::AlertNotify {
            rule: 0,
            firing: false,
            alerts: 1,
        };
        assert_eq!(to_pager(&mut ctx), vec![resolved]);
    }

    /// What one target's exporter answers in [`scrape_all`]: every gauge absent unless set.
    #[derive(Clone, Copy)]
    struct Exposed {
        node: NodeId,
        responses: u64,
        errors: u64,
        lag_ms: u32,
        backup_age_ms: u32,
    }

    fn exposed(node: NodeId) -> Exposed {
        Exposed {
            node,
            responses: 0,
            errors: 0,
            lag_ms: NO_SERIES,
            backup_age_ms: NO_SERIES,
        }
    }

    /// A scrape round at `t` answered by `answers` (the others time out), then an evaluation
    /// at `t + 15`; its notes.
    fn scrape_all(
        p: &mut Prometheus,
        ctx: &mut Recorder,
        t: u64,
        answers: &[Exposed],
    ) -> Vec<Note> {
        ctx.at(s(t));
        p.on_timer(Timer::ScrapeDue, ctx);
        let Some(&(_, Msg::Scrape { round })) = ctx.sent.last() else {
            panic!("a scrape round sends scrapes: {:?}", ctx.sent);
        };
        for a in answers {
            let msg = Msg::ScrapeReply {
                round,
                primary: false,
                responses: a.responses,
                errors: a.errors,
                replication_lag_ms: a.lag_ms,
                backup_age_ms: a.backup_age_ms,
            };
            p.on_message(a.node, msg, ctx);
        }
        ctx.at(s(t + 10));
        p.on_timer(Timer::ScrapeDeadline { round }, ctx);
        evaluate(p, ctx, t + 15)
    }

    fn lagging(node: NodeId, lag_ms: u32) -> Exposed {
        Exposed {
            lag_ms,
            ..exposed(node)
        }
    }

    #[test]
    fn the_lag_rule_fires_on_one_standby_behind_and_stays_silent_while_all_are_current() {
        // Targets are nodes 3, 1, 2: a datastore's three members, alert above 30 s.
        let expr = AlertExpr::ReplicationLagAbove {
            targets: vec![0, 1, 2],
            above: SimDuration::from_secs(30),
        };
        let mut p = Prometheus::new(spec(vec![rule(expr, 0, 0)]));
        let mut ctx = Recorder::new(ME);
        let current = [lagging(3, 0), lagging(1, 800), lagging(2, 30_000)];
        assert!(
            scrape_all(&mut p, &mut ctx, 0, &current).is_empty(),
            "30 s is not above 30 s"
        );
        // Node 2 replayed nothing since it restarted: no series, whatever the others say.
        let restarted = [lagging(3, 0), lagging(1, 900), exposed(2)];
        assert!(scrape_all(&mut p, &mut ctx, 15, &restarted).is_empty());
        let behind = [lagging(3, 0), lagging(1, 30_001), exposed(2)];
        assert_eq!(
            scrape_all(&mut p, &mut ctx, 30, &behind),
            vec![Note::AlertFiring { rule: 0 }]
        );
        // Node 1 stops answering: its series goes stale, and no other member lags.
        assert_eq!(
            scrape_all(&mut p, &mut ctx, 45, &[lagging(3, 0), lagging(2, 100)]),
            vec![Note::AlertResolved { rule: 0 }]
        );
    }

    #[test]
    fn the_backup_age_rule_reads_the_newest_backup_and_has_no_value_before_the_first() {
        let expr = AlertExpr::BackupAgeAbove {
            targets: vec![0, 1],
            above: SimDuration::from_secs(7 * 3600),
        };
        let mut p = Prometheus::new(spec(vec![rule(expr, 0, 0)]));
        let mut ctx = Recorder::new(ME);
        let aged = |node, age_s: u32| Exposed {
            backup_age_ms: age_s * 1000,
            ..exposed(node)
        };
        assert!(
            scrape_all(&mut p, &mut ctx, 0, &[exposed(3), exposed(1)]).is_empty(),
            "no backup completed yet: no series"
        );
        // The former primary's last backup is 9 h old, the new primary's 1 h: the newest counts.
        let both = [aged(3, 9 * 3600), aged(1, 3600)];
        assert!(scrape_all(&mut p, &mut ctx, 15, &both).is_empty());
        let stale = [aged(3, 9 * 3600), aged(1, 7 * 3600 + 1)];
        assert_eq!(
            scrape_all(&mut p, &mut ctx, 30, &stale),
            vec![Note::AlertFiring { rule: 0 }]
        );
        let fresh = [aged(3, 9 * 3600), aged(1, 20)];
        assert_eq!(
            scrape_all(&mut p, &mut ctx, 45, &fresh),
            vec![Note::AlertResolved { rule: 0 }]
        );
    }

    fn counted(node: NodeId, responses: u64, errors: u64) -> Exposed {
        Exposed {
            responses,
            errors,
            ..exposed(node)
        }
    }

    #[test]
    fn the_request_rate_is_the_sum_of_per_second_increases_and_zero_traffic_holds() {
        // Load balancers at nodes 3 and 1; alert below 10 responses a second.
        let expr = AlertExpr::RequestRateBelow {
            targets: vec![0, 1],
            per_s_milli: 10_000,
        };
        let mut p = Prometheus::new(spec(vec![rule(expr, 0, 0)]));
        let mut ctx = Recorder::new(ME);
        let mut at = |p: &mut Prometheus, t, a, b| {
            scrape_all(p, &mut ctx, t, &[counted(3, a, 0), counted(1, b, 0)])
        };
        assert!(at(&mut p, 0, 0, 0).is_empty(), "one sample: no rate");
        assert!(
            at(&mut p, 15, 75, 75).is_empty(),
            "5 + 5 a second: 10 is not below 10"
        );
        assert_eq!(
            at(&mut p, 30, 149, 150),
            vec![Note::AlertFiring { rule: 0 }],
            "74 + 75 in 15 s"
        );
        assert!(at(&mut p, 45, 149, 150).is_empty(), "no traffic: 0, firing");
        // Node 3 restarted: its counter starts over, 300 is its whole increase.
        assert_eq!(
            at(&mut p, 60, 300, 150),
            vec![Note::AlertResolved { rule: 0 }]
        );
        assert!(
            scrape_all(&mut p, &mut ctx, 75, &[]).is_empty(),
            "both silent: an empty sum"
        );
        assert!(
            scrape_all(&mut p, &mut ctx, 90, &[counted(3, 300, 0)]).is_empty(),
            "one sample since the gap: still no rate"
        );
    }

    /// A baseline rule over nodes 3 and 1 (load balancers): more than 1 point above the
    /// last minute, scraped every 15 s.
    fn baseline_server() -> Prometheus {
        let expr = AlertExpr::ErrorRatioAboveBaseline {
            targets: vec![0, 1],
            points_ppm: 10_000,
            baseline: SimDuration::from_secs(60),
        };
        Prometheus::new(spec(vec![rule(expr, 0, 0)]))
    }

    /// Scrapes at 15 s steps from `t`, each adding `per_scrape` responses with `errors` of
    /// them errors to both balancers; the notes of each evaluation, and where the counters
    /// ended.
    fn steady(
        p: &mut Prometheus,
        ctx: &mut Recorder,
        from: (u64, u64, u64),
        scrapes: u64,
        per_scrape: (u64, u64),
    ) -> (Vec<Vec<Note>>, (u64, u64, u64)) {
        let (mut t, mut r, mut e) = from;
        let mut notes = Vec::new();
        for _ in 0..scrapes {
            notes.push(scrape_all(p, ctx, t, &[counted(3, r, e), counted(1, r, e)]));
            t += 15;
            r += per_scrape.0;
            e += per_scrape.1;
        }
        (notes, (t, r, e))
    }

    #[test]
    fn the_baseline_rule_is_silent_at_the_baseline_and_without_history() {
        let mut p = baseline_server();
        let mut ctx = Recorder::new(ME);
        // 5 % errors throughout: never above 5 % + 1 point, and for the first minute the
        // history does not cover the window at all.
        let (notes, _) = steady(&mut p, &mut ctx, (0, 0, 0), 20, (1000, 50));
        assert!(notes.iter().all(Vec::is_empty), "{notes:?}");
        // A rise of 0.9 point stays within it.
        let mut p = baseline_server();
        let (_, end) = steady(&mut p, &mut ctx, (0, 0, 0), 8, (1000, 50));
        let (notes, _) = steady(&mut p, &mut ctx, end, 1, (1000, 59));
        assert!(notes.iter().all(Vec::is_empty), "{notes:?}");
        // Errors jump before the server has a minute of history: no baseline, no alert.
        let mut p = baseline_server();
        let (_, end) = steady(&mut p, &mut ctx, (0, 0, 0), 3, (1000, 50));
        let (notes, _) = steady(&mut p, &mut ctx, end, 2, (1000, 500));
        assert!(notes.iter().all(Vec::is_empty), "{notes:?}");
    }

    #[test]
    fn the_baseline_rule_fires_when_errors_rise_more_than_its_points_and_a_restart_forgets() {
        let mut p = baseline_server();
        let mut ctx = Recorder::new(ME);
        let (_, end) = steady(&mut p, &mut ctx, (0, 0, 0), 8, (1000, 50));
        // 5 % → 6.1 %: 1.1 points above the last minute's 5 %.
        let (notes, end) = steady(&mut p, &mut ctx, end, 1, (1000, 61));
        assert!(notes[0].is_empty(), "the rise is not scraped yet");
        let (notes, end) = steady(&mut p, &mut ctx, end, 1, (1000, 61));
        assert_eq!(notes[0], vec![Note::AlertFiring { rule: 0 }]);
        // The server crashes and restarts: its history is gone, so no baseline for a minute.
        ctx.at(s(end.0));
        p.start(&mut ctx);
        let (notes, _) = steady(&mut p, &mut ctx, end, 4, (1000, 200));
        assert!(notes.iter().all(Vec::is_empty), "{notes:?}");
    }

    #[test]
    fn a_window_increase_spans_resets_and_needs_a_sample_at_its_start() {
        let h: VecDeque<Sample> = [(0, 100, 10), (15, 200, 20), (30, 50, 5), (45, 150, 15)]
            .into_iter()
            .map(|(t, responses, errors)| Sample {
                at: s(t),
                responses,
                errors,
            })
            .collect();
        let w = SimDuration::from_secs(30);
        // 15 → 45: +50 after the reset at 30 (its value), +100: 150, errors 5 + 10.
        assert_eq!(window_increase(&h, s(45), w), Some((150, 15)));
        assert_eq!(window_increase(&h, s(30), w), Some((150, 15)), "0 → 30");
        assert_eq!(
            window_increase(&h, s(15), w),
            None,
            "no sample 15 s before 0"
        );
        let h: VecDeque<Sample> = h.into_iter().skip(1).collect();
        assert_eq!(window_increase(&h, s(45), SimDuration::from_secs(45)), None);
    }

    /// Cumulative buckets holding `fast` responses of at most 100 ms and `slow` ones of at
    /// most 1 s.
    fn timed(fast: u64, slow: u64) -> [u64; BUCKETS] {
        std::array::from_fn(|k| if k >= 4 { fast } else { 0 } + if k >= 7 { slow } else { 0 })
    }

    /// A round at `t` in which each `(node, buckets, messages)` answers with its reply and
    /// the first `messages` of its bucket messages (the others time out); then the
    /// evaluation at `t + 15`, and its notes.
    fn scrape_timed(
        p: &mut Prometheus,
        ctx: &mut Recorder,
        t: u64,
        answers: &[(NodeId, [u64; BUCKETS], usize)],
    ) -> Vec<Note> {
        ctx.at(s(t));
        p.on_timer(Timer::ScrapeDue, ctx);
        let round = t as u32 / 15 + 1;
        for &(node, buckets, messages) in answers {
            p.on_message(node, reply(round), ctx);
            for m in 0..messages {
                let first = m * BUCKETS_PER_MESSAGE;
                let mut counts = [0; BUCKETS_PER_MESSAGE];
                counts.copy_from_slice(&buckets[first..first + BUCKETS_PER_MESSAGE]);
                let first = first as u8;
                let msg = Msg::ScrapeBuckets {
                    round,
                    first,
                    counts,
                };
                p.on_message(node, msg, ctx);
            }
        }
        ctx.at(s(t + 10));
        p.on_timer(Timer::ScrapeDeadline { round }, ctx);
        evaluate(p, ctx, t + 15)
    }

    #[test]
    fn the_latency_rule_fires_on_a_slow_quantile_and_ignores_partial_rounds() {
        // Load balancers at nodes 3 and 1; alert when p90 is above 400 ms.
        let expr = AlertExpr::LatencyAbove {
            targets: vec![0, 1],
            quantile_ppm: 900_000,
            above: SimDuration::from_millis(400),
        };
        let mut p = Prometheus::new(spec(vec![rule(expr, 0, 0)]));
        let mut ctx = Recorder::new(ME);
        let all = BUCKET_MESSAGES;
        let mut at = |t, a: ([u64; BUCKETS], usize), b: [u64; BUCKETS]| {
            scrape_timed(&mut p, &mut ctx, t, &[(3, a.0, a.1), (1, b, all)])
        };
        assert!(
            at(0, (timed(0, 0), all), timed(0, 0)).is_empty(),
            "one sample"
        );
        assert!(
            at(15, (timed(0, 0), all), timed(0, 0)).is_empty(),
            "no traffic: NaN"
        );
        assert!(
            at(30, (timed(100, 0), all), timed(100, 0)).is_empty(),
            "all fast"
        );
        // +50 fast, +50 slow on node 3, +100 fast on node 1: rank 180 of 200 lies 30 into
        // the 50 of (500 ms, 1 s]: p90 = 800 ms.
        let firing = at(45, (timed(150, 50), all), timed(200, 0));
        assert_eq!(firing, vec![Note::AlertFiring { rule: 0 }]);
        // Node 3's round is partial (2 of 4 messages): its slow responses are not read, and
        // node 1's +100 fast ones alone resolve the alert.
        let resolved = at(60, (timed(150, 1050), 2), timed(300, 0));
        assert_eq!(resolved, vec![Note::AlertResolved { rule: 0 }]);
        // Node 3 has one complete sample since: still left out.
        assert!(at(75, (timed(150, 1050), all), timed(400, 0)).is_empty());
        // Node 3 restarted: every bucket is lower, a reset; its 50 slow ones are its increase.
        let again = at(90, (timed(0, 50), all), timed(400, 0));
        assert_eq!(again, vec![Note::AlertFiring { rule: 0 }]);
    }

    #[test]
    fn only_the_targets_of_latency_rules_keep_histograms() {
        let expr = AlertExpr::LatencyAbove {
            targets: vec![2, 0, 2],
            quantile_ppm: 990_000,
            above: SimDuration::from_millis(500),
        };
        let s = spec(vec![
            rule(AlertExpr::AnyDown(vec![1]), 0, 0),
            rule(expr, 0, 0),
        ]);
        assert_eq!(
            s.histogram_nodes(),
            vec![3, 2],
            "targets 0 and 2, once each"
        );
        let p = Prometheus::new(s);
        let kept: Vec<usize> = p.histograms.iter().map(|h| h.0).collect();
        assert_eq!(kept, vec![0, 2]);
    }
}

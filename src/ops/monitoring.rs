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
//! The server is a process like any other: while its node is down nothing is scraped,
//! evaluated or fired, which is how monitoring "goes dark with its region". A crash loses
//! its in-memory state (samples and alert states), and it starts over when the node returns
//! (Prometheus restores `for` state from its TSDB; that refinement is not modelled).
//!
//! It owns the scrape loop and the alert states. It does not own what a node's exporter
//! answers (the world answers `Scrape` for every node that is up) nor what an alert sets in
//! motion (paging, runbooks: later modules of `ops/`).

use crate::logic::{AlertSet, Context, Msg, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
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
    /// Each target's response counters `(responses, errors)` in its last two answers
    /// (`[previous, latest]`), for rates; `None` where a scrape failed.
    counters: Vec<[Option<(u64, u64)>; 2]>,
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
        Prometheus {
            by_node,
            up: vec![None; n],
            primary: vec![false; n],
            counters: vec![[None; 2]; n],
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
        self.counters.fill([None; 2]);
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
                    }
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
        let Msg::ScrapeReply {
            round,
            primary,
            responses,
            errors,
        } = msg
        else {
            return;
        };
        if round != self.round || !self.open {
            return; // an answer after its round's timeout: that scrape already failed
        }
        if let Ok(k) = self.by_node.binary_search_by_key(&from, |t| t.0) {
            let i = self.by_node[k].1;
            self.answered[i] = true;
            self.up[i] = Some(true);
            self.primary[i] = primary;
            self.counters[i] = [self.counters[i][1], Some((responses, errors))];
        }
    }

    /// Starts a scrape round: every target is asked, the timeout and the next round are set.
    fn scrape(&mut self, ctx: &mut impl Context) {
        self.round += 1;
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
                let (mut responses, mut errors) = (0u64, 0u64);
                for &i in targets {
                    if let [Some(before), Some(now)] = self.counters[i] {
                        responses += increase(before.0, now.0);
                        errors += increase(before.1, now.1);
                    }
                }
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
        }
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
}

//! The request path in front of the database: health-checked DNS (GSLB), regional load
//! balancers and app servers.
//!
//! - [`Gslb`]: Route 53-style failover/latency routing. It health-checks one endpoint per
//!   region and answers each client's query with the first healthy endpoint in that client's
//!   preference order (all unhealthy: the first preference, as Route 53 fails open).
//!   Clients cache the answer for the record's TTL; that is their problem, not the GSLB's.
//!   An operator can turn an endpoint's Route 53 ARC routing control `Off`: its routing
//!   control health check then fails, so the endpoint is answered as unhealthy whatever its
//!   own check says (and, as for any record, served again if every record is unhealthy).
//! - [`LoadBalancer`]: an ALB in one region. Round-robin over healthy app servers; answers
//!   the GSLB's probe only while it has a healthy target (Route 53 "evaluate target health").
//!   When a latency rule reads it, it also times its targets' answers ([`LatencyRecorder`]).
//! - [`AppServer`]: forwards writes to the database node its HAProxy-style role check
//!   believes is the primary, and relays the reply back.

use super::health_check::{HealthChecker, answer_probe};
use super::histogram::{BUCKETS, LatencyRecorder};
use super::{Context, Msg, NO_NODE, NodeId, Note, OpRef, Outcome, Route, Timer};
use crate::sim::time::{SimDuration, SimTime};

/// Health-checked DNS.
pub struct Gslb {
    checker: HealthChecker,
    /// Preference order (indices into the checker's targets) per client node id.
    preferences: Vec<Vec<usize>>,
    /// Each endpoint's routing control is `Off` (Route 53 ARC): drained by an operator.
    off: Vec<bool>,
}

impl Gslb {
    pub fn new(checker: HealthChecker, preferences: Vec<Vec<usize>>) -> Self {
        let off = vec![false; checker.targets().len()];
        Gslb {
            checker,
            preferences,
            off,
        }
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        self.checker.start(index, ctx);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        self.checker.on_timer(timer, ctx);
    }

    /// The endpoint this GSLB would give `client` now.
    pub fn answer(&self, client: NodeId) -> NodeId {
        let targets = self.checker.targets();
        let prefs = self
            .preferences
            .get(client as usize)
            .filter(|p| !p.is_empty());
        let Some(prefs) = prefs else {
            return targets.first().copied().unwrap_or(NO_NODE);
        };
        let pick = prefs
            .iter()
            .find(|&&i| self.checker.is_healthy(i) && !self.off[i])
            .unwrap_or(&prefs[0]);
        targets[*pick]
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Resolve { cache } => {
                let endpoint = self.answer(from);
                ctx.send(from, Msg::Resolved { cache, endpoint });
            }
            Msg::ProbeReply { round, primary } => self.checker.on_reply(from, round, primary),
            // `aws route53-recovery-cluster update-routing-control-state`: the state lives in
            // the ARC cluster, apart from the endpoints, and takes effect at the next answer.
            Msg::RoutingControl { endpoint, on } => {
                let k = endpoint as usize;
                if let Some(off) = self.off.get_mut(k)
                    && *off == on
                {
                    *off = !on;
                    let endpoint = self.checker.targets()[k];
                    ctx.note(Note::RoutingControlSet { endpoint, on });
                }
            }
            _ => {}
        }
    }
}

/// A regional load balancer.
pub struct LoadBalancer {
    checker: HealthChecker,
    next: usize,
    /// Responses it returned, and of those the errors (refused by a backend, or by itself
    /// for want of a healthy one): the counters its exporter reports, as HAProxy's
    /// `haproxy_backend_http_responses_total` (all codes, and `code="5xx"`). A request whose
    /// backend never answers is in neither (no load-balancer timeout is modelled). They live
    /// in memory: a restart starts them at zero, which Prometheus reads as a counter reset.
    responses: u64,
    errors: u64,
    /// Its targets' response times, kept only when a monitoring rule reads them: timing
    /// every request of every balancer would cost memory and exporter messages in runs that
    /// never look.
    latency: Option<LatencyRecorder>,
}

impl LoadBalancer {
    pub fn new(checker: HealthChecker) -> Self {
        LoadBalancer {
            checker,
            next: 0,
            responses: 0,
            errors: 0,
            latency: None,
        }
    }

    /// Times its targets' answers in a histogram its exporter reports (see
    /// [`LatencyRecorder`]).
    pub fn with_latency_histogram(mut self) -> Self {
        self.latency = Some(LatencyRecorder::default());
        self
    }

    /// `(responses, errors)` so far, for the exporter.
    pub fn counters(&self) -> (u64, u64) {
        (self.responses, self.errors)
    }

    /// The cumulative bucket counters of its targets' response times, for the exporter;
    /// `None` when it keeps no histogram.
    pub fn latency_buckets(&self) -> Option<[u64; BUCKETS]> {
        self.latency.as_ref().map(LatencyRecorder::cumulative)
    }

    /// Bytes its latency recorder holds (0 without one), for the run's memory budget.
    pub fn latency_memory_bytes(&self) -> u64 {
        self.latency
            .as_ref()
            .map_or(0, LatencyRecorder::memory_bytes)
    }

    /// The process restarts: its counters start over, and so does its histogram.
    pub fn crash(&mut self) {
        self.responses = 0;
        self.errors = 0;
        if let Some(l) = &mut self.latency {
            l.crash();
        }
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        self.checker.start(index, ctx);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        self.checker.on_timer(timer, ctx);
    }

    fn count(&mut self, outcome: Outcome) {
        self.responses += 1;
        if outcome == Outcome::Refused {
            self.errors += 1;
        }
    }

    fn pick(&mut self) -> Option<NodeId> {
        let n = self.checker.targets().len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if self.checker.is_healthy(i) {
                self.next = (i + 1) % n;
                return Some(self.checker.targets()[i]);
            }
        }
        None
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, .. } => match self.pick() {
                Some(app) => {
                    if let Some(l) = &mut self.latency {
                        l.forwarded(op, ctx.now());
                    }
                    let route = Route {
                        lb: ctx.me(),
                        app: NO_NODE,
                    };
                    ctx.send(app, Msg::Request { op, route })
                }
                None => {
                    self.count(Outcome::Refused);
                    ctx.send(
                        op.client,
                        Msg::Reply {
                            op,
                            route: Route::DIRECT,
                            outcome: Outcome::Refused,
                        },
                    )
                }
            },
            Msg::Reply { op, outcome, .. } => {
                self.count(outcome);
                if let Some(l) = &mut self.latency {
                    l.answered(op, ctx.now());
                }
                ctx.send(
                    op.client,
                    Msg::Reply {
                        op,
                        route: Route::DIRECT,
                        outcome,
                    },
                )
            }
            Msg::Probe { round } => {
                let any = (0..self.checker.targets().len()).any(|i| self.checker.is_healthy(i));
                if any {
                    answer_probe(ctx, from, round, false);
                }
            }
            Msg::ProbeReply { round, primary } => self.checker.on_reply(from, round, primary),
            _ => {}
        }
    }
}

/// An application server in front of a database cluster.
pub struct AppServer {
    /// Role checks against every database member; `None` for an app with no datastore.
    checker: Option<HealthChecker>,
    current: NodeId,
    /// How each service (by id) is reached; empty: every service through the role checks.
    backends: Vec<Backend>,
    /// Per Sentinel-managed datastore this app uses: its sentinels, and the newest master
    /// they announced with its epoch (Redis clients follow `+switch-master` the same way).
    sentinel_masters: Vec<SentinelView>,
    capacity: Option<Capacity>,
    /// When each worker is next free (with a capacity).
    workers_free: Vec<SimTime>,
}

/// What one app server can handle: `workers` requests at a time, `service_time` each (its
/// own CPU work before it calls a backend). A request that would queue longer than
/// `max_queue` is shed at once with an error, as a server with a bounded accept queue does,
/// so a region that receives more than it can serve shows errors, and queueing shows as
/// latency before that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    pub workers: u32,
    pub service_time: SimDuration,
    pub max_queue: SimDuration,
}

/// What an app server knows of one Sentinel-managed datastore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentinelView {
    pub sentinels: Vec<NodeId>,
    pub master: NodeId,
    pub epoch: crate::logic::Epoch,
}

/// How an app server reaches the datastore behind one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Not served by this app tier: requests are refused.
    Unserved,
    /// The member the role checks call primary (HAProxy against Patroni's `/primary`).
    RoleChecked,
    /// The master announced by the sentinels of `sentinel_masters[k]`.
    Sentinel(u8),
    /// Blockchain calls, through this RPC load balancer.
    Rpc(NodeId),
}

impl AppServer {
    pub fn new(checker: Option<HealthChecker>) -> Self {
        let mut app = AppServer {
            checker,
            current: NO_NODE,
            backends: Vec::new(),
            sentinel_masters: Vec::new(),
            capacity: None,
            workers_free: Vec::new(),
        };
        app.current = app.primary().unwrap_or(NO_NODE);
        app
    }

    /// Sets how each service is reached (index = service id) and, for `Backend::Sentinel(k)`,
    /// the k-th Sentinel-managed datastore's sentinels and initial master.
    pub fn with_backends(
        mut self,
        backends: Vec<Backend>,
        sentinel_masters: Vec<SentinelView>,
    ) -> Self {
        debug_assert!(backends.iter().all(|b| match b {
            Backend::Sentinel(k) => (*k as usize) < sentinel_masters.len(),
            _ => true,
        }));
        self.backends = backends;
        self.sentinel_masters = sentinel_masters;
        self
    }

    /// A sentinel announced a master: adopt it if it is newer than the one known.
    fn on_switch_master(
        &mut self,
        from: NodeId,
        epoch: crate::logic::Epoch,
        master: NodeId,
        ctx: &mut impl Context,
    ) {
        for view in &mut self.sentinel_masters {
            if view.sentinels.contains(&from) && epoch > view.epoch {
                view.epoch = epoch;
                if view.master != master {
                    view.master = master;
                    ctx.note(Note::Rerouted { to: master });
                }
            }
        }
    }

    /// Limits how much this server handles (see [`Capacity`]).
    pub fn with_capacity(mut self, capacity: Option<Capacity>) -> Self {
        self.workers_free = vec![SimTime::ZERO; capacity.map_or(0, |c| c.workers as usize)];
        self.capacity = capacity;
        self
    }

    /// The server lost its in-memory queue: every worker is free again.
    pub fn crash(&mut self) {
        self.workers_free
            .iter_mut()
            .for_each(|w| *w = SimTime::ZERO);
    }

    fn backend(&self, service: crate::logic::ServiceId) -> Backend {
        if self.backends.is_empty() {
            return Backend::RoleChecked;
        }
        self.backends
            .get(service as usize)
            .copied()
            .unwrap_or(Backend::Unserved)
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        if let Some(c) = &mut self.checker {
            c.start(index, ctx);
        }
    }

    /// The member this app sends writes to: the first one its checks call primary.
    fn primary(&self) -> Option<NodeId> {
        let c = self.checker.as_ref()?;
        (0..c.targets().len())
            .find(|&i| c.is_healthy(i))
            .map(|i| c.targets()[i])
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        if let Timer::Served { op, lb } = timer {
            let route = Route { lb, app: ctx.me() };
            self.forward(op, route, ctx);
            return;
        }
        if let Some(c) = &mut self.checker
            && c.on_timer(timer, ctx)
        {
            let now_primary = self.primary().unwrap_or(NO_NODE);
            if now_primary != self.current {
                self.current = now_primary;
                if now_primary != NO_NODE {
                    ctx.note(Note::Rerouted { to: now_primary });
                }
            }
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, route } => {
                let route = Route {
                    lb: route.lb,
                    app: ctx.me(),
                };
                let Some(cap) = self.capacity else {
                    self.forward(op, route, ctx);
                    return;
                };
                // The worker free soonest takes it, unless the wait is past the queue bound.
                let now = ctx.now();
                let (w, free) = self
                    .workers_free
                    .iter()
                    .copied()
                    .enumerate()
                    .min_by_key(|&(i, t)| (t, i))
                    .expect("a capacity has at least one worker");
                let start = free.max(now);
                if start.saturating_since(now) > cap.max_queue {
                    reply_back(ctx, op, route, Outcome::Refused);
                    return;
                }
                let done = start + cap.service_time;
                self.workers_free[w] = done;
                ctx.set_timer(
                    done.saturating_since(now),
                    Timer::Served { op, lb: route.lb },
                );
            }
            Msg::Reply { op, route, outcome } => reply_back(ctx, op, route, outcome),
            Msg::SentinelSwitchMaster { epoch, master } => {
                self.on_switch_master(from, epoch, master, ctx)
            }
            Msg::Probe { round } => answer_probe(ctx, from, round, false),
            Msg::ProbeReply { round, primary } => {
                if let Some(c) = &mut self.checker {
                    c.on_reply(from, round, primary);
                }
            }
            _ => {}
        }
    }
}

impl AppServer {
    /// Sends a request on to its backend, or refuses it when there is none.
    fn forward(&mut self, op: OpRef, route: Route, ctx: &mut impl Context) {
        let target = match self.backend(op.service) {
            Backend::RoleChecked => self.primary(),
            Backend::Sentinel(k) => Some(self.sentinel_masters[k as usize].master),
            Backend::Rpc(balancer) => Some(balancer),
            Backend::Unserved => None,
        };
        match target {
            Some(db) => ctx.send(db, Msg::Request { op, route }),
            None => reply_back(ctx, op, route, Outcome::Refused),
        }
    }
}

/// From an app server back toward the client: through the load balancer when there was one.
fn reply_back(ctx: &mut impl Context, op: OpRef, route: Route, outcome: Outcome) {
    let to = if route.lb != NO_NODE {
        route.lb
    } else {
        op.client
    };
    ctx.send(to, Msg::Reply { op, route, outcome });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::health_check::HealthCheckSpec;
    use crate::logic::periodic::Phase;
    use crate::logic::testing::Recorder;
    use crate::sim::time::SimDuration;
    use std::ops::Range;

    const GSLB: NodeId = 300;
    const LB: NodeId = 150;
    const APP: NodeId = 200;
    const CLIENT: NodeId = 7;
    /// A request forwarded by the balancer, and the same on its way back from the app.
    const FORWARDED: Route = Route {
        lb: LB,
        app: NO_NODE,
    };
    const VIA: Route = Route { lb: LB, app: APP };
    /// A request that came to the app directly.
    const DIRECT_APP: Route = Route {
        lb: NO_NODE,
        app: APP,
    };

    fn checker(
        targets: &[NodeId],
        healthy: &[bool],
        (fall, rise): (u32, u32),
        expect_primary: bool,
    ) -> HealthChecker {
        let spec = HealthCheckSpec {
            interval: SimDuration::from_secs(2),
            timeout: SimDuration::from_secs(1),
            fall,
            rise,
            phase: Phase::Fixed(SimDuration::ZERO),
            expect_primary,
        };
        HealthChecker::new(spec, targets.to_vec(), healthy.to_vec())
    }

    /// The three components, driven alike by the health-check rounds below.
    trait Checked {
        fn timer(&mut self, timer: Timer, ctx: &mut Recorder);
        fn message(&mut self, from: NodeId, msg: Msg, ctx: &mut Recorder);
    }

    impl Checked for Gslb {
        fn timer(&mut self, timer: Timer, ctx: &mut Recorder) {
            self.on_timer(timer, ctx);
        }
        fn message(&mut self, from: NodeId, msg: Msg, ctx: &mut Recorder) {
            self.on_message(from, msg, ctx);
        }
    }

    impl Checked for LoadBalancer {
        fn timer(&mut self, timer: Timer, ctx: &mut Recorder) {
            self.on_timer(timer, ctx);
        }
        fn message(&mut self, from: NodeId, msg: Msg, ctx: &mut Recorder) {
            self.on_message(from, msg, ctx);
        }
    }

    impl Checked for AppServer {
        fn timer(&mut self, timer: Timer, ctx: &mut Recorder) {
            self.on_timer(timer, ctx);
        }
        fn message(&mut self, from: NodeId, msg: Msg, ctx: &mut Recorder) {
            self.on_message(from, msg, ctx);
        }
    }

    /// Health-check round `round`: probes go out, `answers` reply (as primary or not), the
    /// round times out. Returns the probes sent; clears everything else sent.
    fn round<C: Checked>(
        c: &mut C,
        ctx: &mut Recorder,
        round: u32,
        answers: &[(NodeId, bool)],
    ) -> Vec<(NodeId, Msg)> {
        ctx.sent.clear();
        c.timer(Timer::HealthTick, ctx);
        let probes = ctx.take_sent();
        for &(node, primary) in answers {
            c.message(node, Msg::ProbeReply { round, primary }, ctx);
        }
        c.timer(Timer::ProbeTimeout { round }, ctx);
        probes
    }

    fn op(seq: u32) -> OpRef {
        OpRef {
            client: CLIENT,
            seq,
            service: 0,
        }
    }

    fn request(seq: u32, route: Route) -> Msg {
        Msg::Request { op: op(seq), route }
    }

    fn reply(seq: u32, route: Route, outcome: Outcome) -> Msg {
        Msg::Reply {
            op: op(seq),
            route,
            outcome,
        }
    }

    // ---- GSLB ----

    const ENDPOINTS: [NodeId; 3] = [100, 101, 102];
    /// An operator's runbook runner.
    const RUNBOOK: NodeId = 90;

    fn gslb() -> Gslb {
        let prefs = vec![vec![0, 1, 2], vec![1, 2, 0], vec![]];
        Gslb::new(checker(&ENDPOINTS, &[true; 3], (1, 1), false), prefs)
    }

    /// What the GSLB resolves for `client`.
    fn resolve(g: &mut Gslb, ctx: &mut Recorder, client: NodeId) -> NodeId {
        ctx.sent.clear();
        g.on_message(client, Msg::Resolve { cache: 3 }, ctx);
        match ctx.take_sent()[..] {
            [(to, Msg::Resolved { cache: 3, endpoint })] if to == client => endpoint,
            ref other => panic!("unexpected answer {other:?}"),
        }
    }

    #[test]
    fn gslb_answers_each_client_with_its_first_healthy_preference() {
        let mut ctx = Recorder::new(GSLB);
        let mut g = gslb();
        let answers = [0, 1, 2, 9].map(|c| resolve(&mut g, &mut ctx, c));
        assert_eq!(answers, [100, 101, 100, 100]);
        let probes = round(&mut g, &mut ctx, 1, &[(101, false), (102, false)]);
        assert_eq!(probes, ENDPOINTS.map(|n| (n, Msg::Probe { round: 1 })));
        let down = Note::TargetHealth {
            target: 100,
            healthy: false,
        };
        assert_eq!(ctx.notes, vec![down]);
        assert_eq!([0, 1].map(|c| resolve(&mut g, &mut ctx, c)), [101, 101]);
        round(&mut g, &mut ctx, 2, &[(100, false), (102, false)]);
        assert_eq!([0, 1].map(|c| resolve(&mut g, &mut ctx, c)), [100, 102]);
    }

    /// Route 53 ARC: an endpoint whose routing control is Off is answered as unhealthy; On
    /// again, it is answered as before; every endpoint Off, the first preference (fail open).
    #[test]
    fn gslb_skips_an_endpoint_whose_routing_control_is_off() {
        let mut ctx = Recorder::new(GSLB);
        let mut g = gslb();
        let off = |endpoint| Msg::RoutingControl {
            endpoint,
            on: false,
        };
        g.on_message(RUNBOOK, off(0), &mut ctx);
        g.on_message(RUNBOOK, off(0), &mut ctx); // already off: nothing new
        let noted = Note::RoutingControlSet {
            endpoint: 100,
            on: false,
        };
        assert_eq!(ctx.notes, vec![noted]);
        assert_eq!([0, 1].map(|c| resolve(&mut g, &mut ctx, c)), [101, 101]);
        g.on_message(RUNBOOK, off(1), &mut ctx);
        g.on_message(RUNBOOK, off(2), &mut ctx);
        assert_eq!([0, 1].map(|c| resolve(&mut g, &mut ctx, c)), [100, 101]);
        let on = Msg::RoutingControl {
            endpoint: 2,
            on: true,
        };
        g.on_message(RUNBOOK, on, &mut ctx);
        assert_eq!([0, 1].map(|c| resolve(&mut g, &mut ctx, c)), [102, 102]);
        g.on_message(RUNBOOK, off(7), &mut ctx); // no such endpoint: ignored
        assert_eq!(ctx.notes.len(), 4);
    }

    #[test]
    fn gslb_fails_open_to_the_first_preference_when_all_are_down() {
        let mut ctx = Recorder::new(GSLB);
        let mut g = gslb();
        round(&mut g, &mut ctx, 1, &[]);
        assert_eq!(ctx.notes.len(), 3);
        assert_eq!([0, 1].map(|c| resolve(&mut g, &mut ctx, c)), [100, 101]);
    }

    // ---- load balancer ----

    const APPS: [NodeId; 3] = [200, 201, 202];

    fn lb() -> (LoadBalancer, Recorder) {
        let checker = checker(&APPS, &[true; 3], (1, 1), false);
        (LoadBalancer::new(checker), Recorder::new(LB))
    }

    /// Sends requests `seqs` through the balancer; returns where each went.
    fn spread(b: &mut LoadBalancer, ctx: &mut Recorder, seqs: Range<u32>) -> Vec<NodeId> {
        let mut to = Vec::new();
        for seq in seqs {
            b.on_message(CLIENT, request(seq, Route::DIRECT), ctx);
            match ctx.take_sent()[..] {
                [(app, m)] if m == request(seq, FORWARDED) => to.push(app),
                ref other => panic!("unexpected forward {other:?}"),
            }
        }
        to
    }

    #[test]
    fn load_balancer_round_robins_over_healthy_targets() {
        let (mut b, mut ctx) = lb();
        assert_eq!(spread(&mut b, &mut ctx, 0..4), [200, 201, 202, 200]);
        round(&mut b, &mut ctx, 1, &[(200, false), (202, false)]);
        assert_eq!(spread(&mut b, &mut ctx, 4..7), [202, 200, 202]);
    }

    #[test]
    fn load_balancer_with_no_healthy_target_refuses_and_stops_answering_probes() {
        let (mut b, mut ctx) = lb();
        b.on_message(GSLB, Msg::Probe { round: 5 }, &mut ctx);
        let probe_reply = Msg::ProbeReply {
            round: 5,
            primary: false,
        };
        assert_eq!(ctx.take_sent(), vec![(GSLB, probe_reply)]);
        round(&mut b, &mut ctx, 1, &[]);
        b.on_message(CLIENT, request(0, Route::DIRECT), &mut ctx);
        let refused = reply(0, Route::DIRECT, Outcome::Refused);
        assert_eq!(ctx.take_sent(), vec![(CLIENT, refused)]);
        b.on_message(GSLB, Msg::Probe { round: 6 }, &mut ctx);
        assert!(
            ctx.sent.is_empty(),
            "answered a probe without a healthy target"
        );
        // One target back: probes answered and requests forwarded again.
        round(&mut b, &mut ctx, 2, &[(201, false)]);
        b.on_message(GSLB, Msg::Probe { round: 7 }, &mut ctx);
        let probe_reply = Msg::ProbeReply {
            round: 7,
            primary: false,
        };
        assert_eq!(ctx.take_sent(), vec![(GSLB, probe_reply)]);
        assert_eq!(spread(&mut b, &mut ctx, 1..3), [201, 201]);
    }

    #[test]
    fn load_balancer_forwards_replies_to_the_client() {
        let (mut b, mut ctx) = lb();
        let outcome = Outcome::Committed { epoch: 2, lsn: 9 };
        b.on_message(201, reply(3, Route { lb: LB, app: 201 }, outcome), &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(CLIENT, reply(3, Route::DIRECT, outcome))]
        );
    }

    #[test]
    fn load_balancer_times_forwarded_requests_only_and_a_crash_resets_its_histogram() {
        let (b, mut ctx) = lb();
        let mut b = b.with_latency_histogram();
        let ok = Outcome::Committed { epoch: 1, lsn: 1 };
        // Forwarded at 0, answered after 40 ms; a second forwarded and answered after 700 ms.
        b.on_message(CLIENT, request(0, Route::DIRECT), &mut ctx);
        b.on_message(CLIENT, request(1, Route::DIRECT), &mut ctx);
        ctx.at(SimTime::from_millis(40));
        b.on_message(200, reply(0, VIA, ok), &mut ctx);
        ctx.at(SimTime::from_millis(700));
        b.on_message(201, reply(1, VIA, Outcome::Refused), &mut ctx);
        //        le:  5ms 10 25 50 100 250 500 1s 2.5 5  10 +Inf
        let want = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2];
        assert_eq!(b.latency_buckets(), Some(want), "a target's 5xx counts too");
        // No healthy target: the balancer refuses itself, nothing reaches a target.
        round(&mut b, &mut ctx, 1, &[]);
        b.on_message(CLIENT, request(2, Route::DIRECT), &mut ctx);
        assert_eq!(b.latency_buckets(), Some(want));
        b.crash();
        assert_eq!(b.latency_buckets(), Some([0; BUCKETS]));
        assert_eq!(lb().0.latency_buckets(), None, "off unless asked for");
    }

    // ---- app server ----

    const DBS: [NodeId; 3] = [10, 11, 12];

    fn app(healthy: [bool; 3], fall_rise: (u32, u32)) -> (AppServer, Recorder) {
        let checker = checker(&DBS, &healthy, fall_rise, true);
        (AppServer::new(Some(checker)), Recorder::new(APP))
    }

    /// Where the app sends a request that came through the balancer.
    fn forward(a: &mut AppServer, ctx: &mut Recorder, seq: u32) -> Vec<(NodeId, Msg)> {
        a.on_message(LB, request(seq, FORWARDED), ctx);
        ctx.take_sent()
    }

    #[test]
    fn app_forwards_to_the_primary_and_relays_the_reply_back() {
        let (mut a, mut ctx) = app([true, false, false], (1, 1));
        assert_eq!(forward(&mut a, &mut ctx, 0), vec![(10, request(0, VIA))]);
        let outcome = Outcome::Committed { epoch: 1, lsn: 3 };
        a.on_message(10, reply(0, VIA, outcome), &mut ctx);
        assert_eq!(ctx.take_sent(), vec![(LB, reply(0, VIA, outcome))]);
        // Without a balancer, straight back to the client.
        a.on_message(CLIENT, request(1, Route::DIRECT), &mut ctx);
        assert_eq!(ctx.take_sent(), vec![(10, request(1, DIRECT_APP))]);
        a.on_message(10, reply(1, DIRECT_APP, outcome), &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(CLIENT, reply(1, DIRECT_APP, outcome))]
        );
        a.on_message(LB, Msg::Probe { round: 4 }, &mut ctx);
        let probe_reply = Msg::ProbeReply {
            round: 4,
            primary: false,
        };
        assert_eq!(ctx.take_sent(), vec![(LB, probe_reply)]);
    }

    #[test]
    fn app_capacity_queues_then_sheds_what_would_wait_too_long() {
        let (a, mut ctx) = app([true, false, false], (1, 1));
        let ms = SimDuration::from_millis;
        let mut a = a.with_capacity(Some(Capacity {
            workers: 2,
            service_time: ms(40),
            max_queue: ms(50),
        }));
        // Two start at once, two queue (40 ms ≤ 50 ms), the fifth would wait 80 ms: shed.
        for seq in 0..5 {
            a.on_message(LB, request(seq, FORWARDED), &mut ctx);
        }
        assert_eq!(ctx.take_sent(), vec![(LB, reply(4, VIA, Outcome::Refused))]);
        let due: Vec<(SimTime, Timer)> = std::mem::take(&mut ctx.timers);
        let at: Vec<u64> = due.iter().map(|(t, _)| t.as_nanos() / 1_000_000).collect();
        assert_eq!(at, vec![40, 40, 80, 80]);
        // Work done: each goes on to the primary, in the order it was served.
        for (t, timer) in due {
            ctx.at(t);
            a.on_timer(timer, &mut ctx);
        }
        let sent: Vec<(NodeId, Msg)> = ctx.take_sent();
        assert_eq!(
            sent,
            (0..4).map(|s| (10, request(s, VIA))).collect::<Vec<_>>()
        );
        // Later, with the workers idle again, nothing waits.
        ctx.at(SimTime::from_secs(1));
        a.on_message(LB, request(9, FORWARDED), &mut ctx);
        assert_eq!(
            ctx.timers,
            vec![(
                SimTime::from_millis(1040),
                Timer::Served { op: op(9), lb: LB }
            )]
        );
    }

    #[test]
    fn app_without_a_primary_refuses_back_along_the_route() {
        let (mut a, mut ctx) = app([false; 3], (1, 1));
        assert_eq!(
            forward(&mut a, &mut ctx, 0),
            vec![(LB, reply(0, VIA, Outcome::Refused))]
        );
        a.on_message(CLIENT, request(1, Route::DIRECT), &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(CLIENT, reply(1, DIRECT_APP, Outcome::Refused))]
        );

        // An app with no datastore refuses too.
        let mut a = AppServer::new(None);
        assert_eq!(
            forward(&mut a, &mut ctx, 2),
            vec![(LB, reply(2, VIA, Outcome::Refused))]
        );
    }

    #[test]
    fn app_reroutes_only_once_its_checks_change_the_primary() {
        let (mut a, mut ctx) = app([true, false, false], (2, 1));
        let answers = [(10, false), (11, true), (12, false)];
        let probes = round(&mut a, &mut ctx, 1, &answers);
        assert_eq!(probes, DBS.map(|n| (n, Msg::Probe { round: 1 })));
        // 11 rose at once (rise 1), but 10 has not fallen yet (fall 2): still the first healthy.
        let up = Note::TargetHealth {
            target: 11,
            healthy: true,
        };
        assert_eq!(ctx.notes, vec![up]);
        assert_eq!(forward(&mut a, &mut ctx, 0), vec![(10, request(0, VIA))]);
        round(&mut a, &mut ctx, 2, &answers);
        let down = Note::TargetHealth {
            target: 10,
            healthy: false,
        };
        assert_eq!(ctx.notes, vec![up, down, Note::Rerouted { to: 11 }]);
        assert_eq!(forward(&mut a, &mut ctx, 1), vec![(11, request(1, VIA))]);
        // A round that changes nothing notes nothing.
        round(&mut a, &mut ctx, 3, &answers);
        assert_eq!(ctx.notes.len(), 3);
    }

    #[test]
    fn app_notes_no_reroute_while_it_has_no_primary() {
        let (mut a, mut ctx) = app([true, false, false], (1, 1));
        round(&mut a, &mut ctx, 1, &[(10, false), (11, false)]);
        let down = Note::TargetHealth {
            target: 10,
            healthy: false,
        };
        assert_eq!(ctx.notes, vec![down]);
        assert_eq!(
            forward(&mut a, &mut ctx, 0),
            vec![(LB, reply(0, VIA, Outcome::Refused))]
        );
        round(&mut a, &mut ctx, 2, &[(12, true)]);
        let up = Note::TargetHealth {
            target: 12,
            healthy: true,
        };
        assert_eq!(ctx.notes, vec![down, up, Note::Rerouted { to: 12 }]);
        assert_eq!(forward(&mut a, &mut ctx, 1), vec![(12, request(1, VIA))]);
    }
}

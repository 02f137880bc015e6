//! Blockchain RPC: node providers, and the load balancer the platform calls them through.
//!
//! An [`RpcProvider`] is a blockchain node (a hosted provider or a self-hosted node). Its chain
//! head advances one block every `block_time`; a call succeeds when the node is healthy and
//! the chain is moving. A chain-wide halt freezes every provider's head and makes calls fail
//! (a transaction cannot be included); a provider's rising error rate fails that share of its
//! calls.
//!
//! An [`RpcBalancer`] health-checks its providers and sends each call to the healthy provider
//! with the lowest smoothed latency (an EWMA of the calls it has timed). It also watches the
//! chain: when the highest head any provider reported has not advanced for `halt_after`, it
//! switches the platform's blockchain features to **maintenance mode** — calls are refused at
//! once instead of hanging — and switches back when the head moves again. An operator can
//! also set the maintenance flag by hand (a feature flag, kept in configuration: a restarted
//! balancer reads it again); while set, the features are off whatever the chain does.

use super::health_check::{HealthChecker, answer_probe};
use super::{Context, Msg, NO_NODE, NodeId, Note, OpRef, Outcome, Route, Timer};
use crate::sim::time::{SimDuration, SimTime};
use rand::RngExt;
use std::collections::BTreeMap;

/// One blockchain node.
#[derive(Debug)]
pub struct RpcProvider {
    block_time: SimDuration,
    /// When the chain halted, if it is halted (the head stays where it was then).
    halted_at: Option<SimTime>,
    /// Share of calls this provider fails, in parts per million.
    errors_ppm: u32,
}

impl RpcProvider {
    pub fn new(block_time: SimDuration) -> Self {
        debug_assert!(!block_time.is_zero());
        RpcProvider {
            block_time,
            halted_at: None,
            errors_ppm: 0,
        }
    }

    /// The chain halts (`true`) or resumes (`false`).
    pub fn set_halted(&mut self, halted: bool, now: SimTime) {
        self.halted_at = if halted {
            Some(self.halted_at.unwrap_or(now))
        } else {
            None
        };
    }

    /// This provider fails `ppm` parts per million of its calls from now on.
    pub fn set_error_rate(&mut self, ppm: u32) {
        self.errors_ppm = ppm.min(1_000_000);
    }

    /// The block height this node reports at `now`.
    pub fn head(&self, now: SimTime) -> u64 {
        let t = self.halted_at.map_or(now, |h| h.min(now));
        t.0 / self.block_time.0
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        let now = ctx.now();
        match msg {
            Msg::RpcCall { op } => {
                let failed = self.halted_at.is_some()
                    || (self.errors_ppm > 0
                        && ctx.rng().random_range(0..1_000_000) < self.errors_ppm);
                let head = self.head(now);
                ctx.send(
                    from,
                    Msg::RpcResult {
                        op,
                        ok: !failed,
                        head,
                    },
                );
            }
            Msg::HeadQuery => {
                let head = self.head(now);
                ctx.send(from, Msg::HeadReply { head });
            }
            Msg::Probe { round } => answer_probe(ctx, from, round, false),
            _ => {}
        }
    }
}

/// How a balancer routes and when it calls a halt.
#[derive(Clone, Debug)]
pub struct BalancerSpec {
    /// The head not advancing this long means the chain has halted (a few block times).
    pub halt_after: SimDuration,
    /// Weight of the newest sample in the latency EWMA, in per mille.
    pub ewma_weight_permille: u64,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    route: Route,
    provider: usize,
    sent: SimTime,
}

/// The RPC load balancer of one region.
pub struct RpcBalancer {
    spec: BalancerSpec,
    checker: HealthChecker,
    /// Smoothed call latency per provider, in nanoseconds (0: no sample yet).
    latency_ns: Vec<u64>,
    pending: BTreeMap<(NodeId, u32), Pending>,
    /// Highest head seen, and when it last advanced.
    head: u64,
    head_moved_at: SimTime,
    maintenance: bool,
    /// The maintenance flag set by hand.
    flag: bool,
}

impl RpcBalancer {
    pub fn new(spec: BalancerSpec, checker: HealthChecker) -> Self {
        let n = checker.targets().len();
        RpcBalancer {
            spec,
            checker,
            latency_ns: vec![0; n],
            pending: BTreeMap::new(),
            head: 0,
            head_moved_at: SimTime::ZERO,
            maintenance: false,
            flag: false,
        }
    }

    pub fn in_maintenance(&self) -> bool {
        self.maintenance || self.flag
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        self.head_moved_at = ctx.now();
        self.checker.start(index, ctx);
    }

    /// A restarted balancer forgets calls in flight and maintenance mode (it re-learns the
    /// chain's head from its next polls); latency estimates are kept, like a warm config.
    pub fn crash(&mut self) {
        self.pending.clear();
        self.maintenance = false;
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        if timer == Timer::HealthTick {
            self.watch_chain(ctx);
        }
        self.checker.on_timer(timer, ctx);
    }

    /// Polls every provider's head (`eth_blockNumber`) and enters maintenance when the chain
    /// has stopped; [`Self::saw_head`] leaves it when the head moves again.
    fn watch_chain(&mut self, ctx: &mut impl Context) {
        for &p in self.checker.targets() {
            ctx.send(p, Msg::HeadQuery);
        }
        let stalled = ctx.now().saturating_since(self.head_moved_at) > self.spec.halt_after;
        if stalled && !self.maintenance {
            self.maintenance = true;
            ctx.note(Note::Maintenance { on: true });
        }
    }

    fn saw_head(&mut self, head: u64, ctx: &mut impl Context) {
        if head > self.head {
            self.head = head;
            self.head_moved_at = ctx.now();
            if self.maintenance {
                self.maintenance = false;
                ctx.note(Note::Maintenance { on: false });
            }
        }
    }

    /// The healthy provider with the lowest smoothed latency (unsampled ones first, in order).
    fn pick(&self) -> Option<usize> {
        (0..self.checker.targets().len())
            .filter(|&i| self.checker.is_healthy(i))
            .min_by_key(|&i| self.latency_ns[i])
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, route } => self.on_call(op, route, ctx),
            Msg::RpcResult { op, ok, head } => self.on_result(from, op, ok, head, ctx),
            Msg::HeadReply { head } => self.saw_head(head, ctx),
            Msg::MaintenanceFlag { on } if on != self.flag => {
                self.flag = on;
                ctx.note(Note::MaintenanceFlagSet { on });
            }
            Msg::ProbeReply { round, primary } => self.checker.on_reply(from, round, primary),
            Msg::Probe { round } => answer_probe(ctx, from, round, false),
            _ => {}
        }
    }

    fn on_call(&mut self, op: OpRef, route: Route, ctx: &mut impl Context) {
        let route = Route {
            lb: route.lb,
            app: if route.app == NO_NODE {
                op.client
            } else {
                route.app
            },
        };
        // Maintenance mode: blockchain features are off; say so at once.
        let provider = if self.in_maintenance() {
            None
        } else {
            self.pick()
        };
        let Some(p) = provider else {
            back(ctx, op, route, Outcome::Refused);
            return;
        };
        self.pending.insert(
            (op.client, op.seq),
            Pending {
                route,
                provider: p,
                sent: ctx.now(),
            },
        );
        ctx.send(self.checker.targets()[p], Msg::RpcCall { op });
    }

    fn on_result(&mut self, from: NodeId, op: OpRef, ok: bool, head: u64, ctx: &mut impl Context) {
        self.saw_head(head, ctx);
        let Some(p) = self.pending.remove(&(op.client, op.seq)) else {
            return;
        };
        if self.checker.targets()[p.provider] == from {
            let sample = ctx.now().saturating_since(p.sent).as_nanos();
            let w = self.spec.ewma_weight_permille;
            let old = self.latency_ns[p.provider];
            self.latency_ns[p.provider] = if old == 0 {
                sample
            } else {
                (old * (1000 - w) + sample * w) / 1000
            };
        }
        let outcome = if ok {
            Outcome::Served
        } else {
            Outcome::Refused
        };
        back(ctx, op, p.route, outcome);
    }
}

/// Back toward the client: to the app server that called, which relays it further.
fn back(ctx: &mut impl Context, op: OpRef, route: Route, outcome: Outcome) {
    ctx.send(route.app, Msg::Reply { op, route, outcome });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::health_check::HealthCheckSpec;
    use crate::logic::periodic::Phase;
    use crate::logic::testing::Recorder;

    const APP: NodeId = 3;
    const P1: NodeId = 10;
    const P2: NodeId = 11;
    const ME: NodeId = 20;

    fn op(seq: u32) -> OpRef {
        OpRef {
            client: 9,
            seq,
            service: 4,
        }
    }

    fn route() -> Route {
        Route { lb: 2, app: APP }
    }

    fn balancer() -> RpcBalancer {
        let check = HealthCheckSpec {
            interval: SimDuration::from_secs(5),
            timeout: SimDuration::from_secs(1),
            fall: 2,
            rise: 2,
            phase: Phase::Fixed(SimDuration::ZERO),
            expect_primary: false,
        };
        RpcBalancer::new(
            BalancerSpec {
                halt_after: SimDuration::from_secs(36),
                ewma_weight_permille: 500,
            },
            HealthChecker::new(check, vec![P1, P2], vec![true, true]),
        )
    }

    #[test]
    fn a_provider_reports_its_head_and_fails_calls_while_halted() {
        let mut p = RpcProvider::new(SimDuration::from_secs(12));
        let mut ctx = Recorder::new(P1);
        ctx.now = SimTime::from_secs(120);
        p.on_message(ME, Msg::RpcCall { op: op(1) }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(
                ME,
                Msg::RpcResult {
                    op: op(1),
                    ok: true,
                    head: 10
                }
            )]
        );
        p.set_halted(true, SimTime::from_secs(130));
        ctx.now = SimTime::from_secs(500);
        p.on_message(ME, Msg::RpcCall { op: op(2) }, &mut ctx);
        p.on_message(ME, Msg::HeadQuery, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![
                (
                    ME,
                    Msg::RpcResult {
                        op: op(2),
                        ok: false,
                        head: 10
                    }
                ),
                (ME, Msg::HeadReply { head: 10 })
            ]
        );
        p.set_halted(false, SimTime::from_secs(500));
        assert_eq!(p.head(SimTime::from_secs(504)), 42);
    }

    #[test]
    fn an_error_rate_fails_that_share_of_calls() {
        let mut p = RpcProvider::new(SimDuration::from_secs(12));
        p.set_error_rate(250_000);
        let mut ctx = Recorder::new(P1);
        for seq in 0..4000 {
            p.on_message(ME, Msg::RpcCall { op: op(seq) }, &mut ctx);
        }
        let failed = ctx
            .sent
            .iter()
            .filter(|(_, m)| matches!(m, Msg::RpcResult { ok: false, .. }))
            .count();
        assert!((850..1150).contains(&failed), "{failed} of 4000 at 25 %");
    }

    /// The app asks the balancer for operation `seq`.
    fn request(b: &mut RpcBalancer, ctx: &mut Recorder, seq: u32) {
        let msg = Msg::Request {
            op: op(seq),
            route: route(),
        };
        b.on_message(APP, msg, ctx);
    }

    /// Provider `from` answers operation `seq` (`ok` or failed), reporting head 5.
    fn result(b: &mut RpcBalancer, ctx: &mut Recorder, from: NodeId, seq: u32, ok: bool) {
        let msg = Msg::RpcResult {
            op: op(seq),
            ok,
            head: 5,
        };
        b.on_message(from, msg, ctx);
    }

    /// The balancer's reply to the app for operation `seq`.
    fn reply_to_app(seq: u32, outcome: Outcome) -> (NodeId, Msg) {
        let route = route();
        let op = op(seq);
        (APP, Msg::Reply { op, route, outcome })
    }

    #[test]
    fn calls_go_to_the_fastest_healthy_provider_and_results_back_to_the_app() {
        let mut b = balancer();
        let mut ctx = Recorder::new(ME);
        request(&mut b, &mut ctx, 1);
        assert_eq!(ctx.take_sent(), vec![(P1, Msg::RpcCall { op: op(1) })]);
        // P1 answers slowly (300 ms): its EWMA makes the untimed P2 preferred next.
        ctx.now = SimTime::from_millis(300);
        result(&mut b, &mut ctx, P1, 1, true);
        assert_eq!(ctx.take_sent(), vec![reply_to_app(1, Outcome::Served)]);
        request(&mut b, &mut ctx, 2);
        assert_eq!(ctx.take_sent(), vec![(P2, Msg::RpcCall { op: op(2) })]);
        ctx.now = SimTime::from_millis(350);
        result(&mut b, &mut ctx, P2, 2, false);
        assert_eq!(ctx.take_sent(), vec![reply_to_app(2, Outcome::Refused)]);
        // P2 (50 ms) is now faster than P1 (300 ms).
        request(&mut b, &mut ctx, 3);
        assert_eq!(ctx.take_sent(), vec![(P2, Msg::RpcCall { op: op(3) })]);
    }

    /// The maintenance flag set by hand refuses calls at once while the chain moves, outlives
    /// a restart of the balancer (it is configuration), and cleared lets calls through.
    #[test]
    fn the_maintenance_flag_set_by_hand_refuses_calls_until_cleared() {
        let mut b = balancer();
        let mut ctx = Recorder::new(ME);
        b.start(0, &mut ctx);
        ctx.timers.clear();
        b.on_message(APP, Msg::MaintenanceFlag { on: true }, &mut ctx);
        assert!(b.in_maintenance());
        assert_eq!(ctx.notes, vec![Note::MaintenanceFlagSet { on: true }]);
        b.crash();
        b.on_message(P1, Msg::HeadReply { head: 9 }, &mut ctx);
        request(&mut b, &mut ctx, 1);
        assert_eq!(ctx.take_sent(), vec![reply_to_app(1, Outcome::Refused)]);
        b.on_message(APP, Msg::MaintenanceFlag { on: false }, &mut ctx);
        assert!(!b.in_maintenance());
        request(&mut b, &mut ctx, 2);
        assert_eq!(ctx.take_sent(), vec![(P1, Msg::RpcCall { op: op(2) })]);
    }

    #[test]
    fn a_stalled_head_enters_maintenance_and_a_moving_one_leaves_it() {
        let mut b = balancer();
        let mut ctx = Recorder::new(ME);
        b.start(0, &mut ctx);
        b.on_message(P1, Msg::HeadReply { head: 7 }, &mut ctx);
        ctx.now = SimTime::from_secs(36);
        b.on_timer(Timer::HealthTick, &mut ctx);
        assert!(!b.in_maintenance(), "exactly halt_after is not yet a halt");
        ctx.now = SimTime::from_secs(40);
        b.on_timer(Timer::HealthTick, &mut ctx);
        assert!(b.in_maintenance());
        assert_eq!(ctx.notes, vec![Note::Maintenance { on: true }]);
        ctx.take_sent();
        request(&mut b, &mut ctx, 1);
        assert_eq!(
            ctx.take_sent(),
            vec![reply_to_app(1, Outcome::Refused)],
            "refused at once, no provider asked"
        );
        b.on_message(P2, Msg::HeadReply { head: 8 }, &mut ctx);
        assert!(!b.in_maintenance());
        assert_eq!(ctx.notes.last(), Some(&Note::Maintenance { on: false }));
    }
}

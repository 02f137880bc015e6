//! Simulated clients: the only source of truth for RTO and RPO.
//!
//! A [`ClientPopulation`] stands for many users in one place. It issues writes at a fixed
//! interval or as a Poisson process, sends each to the endpoint it currently believes in (a
//! database primary learnt from a notice, or a regional endpoint resolved through DNS and
//! cached for the TTL), and records every operation in its [`History`]: when it was sent,
//! when and how it was answered, and where it was committed. Timeouts are judged from the
//! history at the end; only retries need timers, so a client without retries adds no event per
//! operation beyond the send itself.

use super::history::{History, OpStatus};
use crate::logic::{Context, Epoch, Msg, NodeId, Note, OpRef, Outcome, Route, ServiceId, Timer};
use crate::sim::time::{SimDuration, SimTime};
use rand::RngExt;

/// When operations are issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrivals {
    /// Operation i (from 1) at `i × interval`.
    Fixed(SimDuration),
    /// Exponential gaps with this mean.
    Poisson(SimDuration),
}

/// How a client finds where to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Straight to a database primary; a `NewPrimary` notice is acted on `ttl` later (the DNS
    /// record the notice updates is cached that long).
    Direct { primary: NodeId, ttl: SimDuration },
    /// Through health-checked DNS: `caches` independent resolver caches, each holding an
    /// answer for `ttl` from when it was fetched, with expiry phases spread over the TTL.
    Dns {
        gslb: NodeId,
        ttl: SimDuration,
        caches: u32,
        initial: NodeId,
    },
}

/// One service's workload from this population.
#[derive(Clone, Debug)]
pub struct Stream {
    pub service: ServiceId,
    pub arrivals: Arrivals,
    /// How long each attempt waits for an answer.
    pub timeout: SimDuration,
    pub retries: u32,
    /// Nodes that serve this stream directly (a static site's nodes, a CDN's edges), nearest
    /// first, the next one on each retry; empty: the population's endpoint.
    pub direct: Vec<NodeId>,
}

#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// At most 256 streams; operation streams are independent arrival processes.
    pub streams: Vec<Stream>,
    pub endpoint: Endpoint,
}

#[derive(Clone, Copy, Debug)]
struct Cache {
    endpoint: NodeId,
    expires: SimTime,
    /// When the refresh in flight was asked for; a lost one is asked again after `timeout`.
    refreshing: Option<SimTime>,
}

pub struct ClientPopulation {
    spec: ClientSpec,
    history: History,
    primary: NodeId,
    known_epoch: Epoch,
    caches: Vec<Cache>,
    /// Operations started, and answered with success, since the support desk last asked: what
    /// users would complain about (`Tickets`).
    period: (u32, u32),
}

impl ClientPopulation {
    pub fn new(spec: ClientSpec) -> Self {
        let primary = match spec.endpoint {
            Endpoint::Direct { primary, .. } => primary,
            Endpoint::Dns { initial, .. } => initial,
        };
        ClientPopulation {
            spec,
            history: History::default(),
            primary,
            known_epoch: 1,
            caches: Vec::new(),
            period: (0, 0),
        }
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn spec(&self) -> &ClientSpec {
        &self.spec
    }

    /// The deadline of an operation of `stream` sent at `sent`: every attempt's timeout.
    pub fn deadline(&self, stream: u8, sent: SimTime) -> SimTime {
        let st = &self.spec.streams[stream as usize];
        sent + st.timeout.saturating_mul(st.retries as u64 + 1)
    }

    pub fn start(&mut self, ctx: &mut impl Context) {
        if let Endpoint::Dns {
            ttl,
            caches,
            initial,
            ..
        } = self.spec.endpoint
        {
            self.caches = (0..caches)
                .map(|_| Cache {
                    endpoint: initial,
                    expires: SimTime::ZERO + SimDuration(ctx.rng().random_range(0..ttl.0.max(1))),
                    refreshing: None,
                })
                .collect();
        }
        self.arm_streams(ctx);
    }

    fn arm_streams(&mut self, ctx: &mut impl Context) {
        for stream in 0..self.spec.streams.len() as u8 {
            let first = self.gap(stream, ctx);
            ctx.set_timer(first, Timer::NextOp { stream });
        }
    }

    /// A restarted client has lost its in-flight operations' connections (they time out) and
    /// starts issuing again.
    pub fn restart(&mut self, ctx: &mut impl Context) {
        for c in &mut self.caches {
            c.refreshing = None;
        }
        self.arm_streams(ctx);
    }

    fn gap(&mut self, stream: u8, ctx: &mut impl Context) -> SimDuration {
        match self.spec.streams[stream as usize].arrivals {
            Arrivals::Fixed(d) => d,
            Arrivals::Poisson(mean) => {
                let u: f64 = ctx.rng().random::<f64>();
                let gap = crate::sim::rng::exponential(u, mean.0);
                SimDuration(gap.max(1))
            }
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::NextOp { stream } => {
                if self.history.len() < u32::MAX as usize {
                    let seq = self.history.push(ctx.now(), stream);
                    self.period.0 = self.period.0.saturating_add(1);
                    self.send(seq, ctx);
                    let st = &self.spec.streams[stream as usize];
                    if st.retries > 0 {
                        ctx.set_timer(st.timeout, Timer::OpTimeout { seq, attempt: 0 });
                    }
                }
                let gap = self.gap(stream, ctx);
                ctx.set_timer(gap, Timer::NextOp { stream });
            }
            Timer::OpTimeout { seq, attempt } => self.on_op_timeout(seq, attempt, ctx),
            Timer::SwitchPrimary { node, epoch }
                if epoch >= self.known_epoch && node != self.primary =>
            {
                self.primary = node;
                ctx.note(Note::Rerouted { to: node });
            }
            _ => {}
        }
    }

    fn on_op_timeout(&mut self, seq: u32, attempt: u32, ctx: &mut impl Context) {
        let rec = self.history.get(seq);
        if rec.status != OpStatus::Pending || rec.attempts as u32 != attempt {
            return;
        }
        if attempt < self.spec.streams[rec.stream as usize].retries {
            self.retry(seq, ctx);
        }
    }

    fn retry(&mut self, seq: u32, ctx: &mut impl Context) {
        let attempt = self.history.next_attempt(seq) as u32;
        self.send(seq, ctx);
        let timeout = self.spec.streams[self.history.get(seq).stream as usize].timeout;
        ctx.set_timer(timeout, Timer::OpTimeout { seq, attempt });
    }

    fn send(&mut self, seq: u32, ctx: &mut impl Context) {
        let rec = self.history.get(seq);
        let direct = &self.spec.streams[rec.stream as usize].direct;
        let to = if direct.is_empty() {
            self.endpoint_for(seq, ctx)
        } else {
            // Nearest first; a retry goes to the next one.
            direct[rec.attempts as usize % direct.len()]
        };
        let stream = self.history.get(seq).stream;
        let op = OpRef {
            client: ctx.me(),
            seq,
            service: self.spec.streams[stream as usize].service,
        };
        ctx.send(
            to,
            Msg::Request {
                op,
                route: Route::DIRECT,
            },
        );
    }

    fn endpoint_for(&mut self, seq: u32, ctx: &mut impl Context) -> NodeId {
        let Endpoint::Dns { gslb, .. } = self.spec.endpoint else {
            return self.primary;
        };
        let i = seq as usize % self.caches.len();
        let now = ctx.now();
        let timeout = self.spec.streams[self.history.get(seq).stream as usize].timeout;
        let cache = &mut self.caches[i];
        let stuck = cache.refreshing.is_some_and(|asked| now >= asked + timeout);
        if now >= cache.expires && (cache.refreshing.is_none() || stuck) {
            // Serve the stale answer while the refresh is in flight, as stub resolvers do.
            cache.refreshing = Some(now);
            ctx.send(gslb, Msg::Resolve { cache: i as u32 });
        }
        cache.endpoint
    }

    pub fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Reply { op, outcome, .. } => self.on_reply(op.seq, outcome, ctx),
            Msg::TicketQuery => {
                let (started, succeeded) = std::mem::take(&mut self.period);
                ctx.send(_from, Msg::Tickets { started, succeeded });
            }
            Msg::NewPrimary { epoch } => {
                if let Endpoint::Direct { ttl, .. } = self.spec.endpoint
                    && epoch > self.known_epoch
                {
                    self.known_epoch = epoch;
                    ctx.set_timer(ttl, Timer::SwitchPrimary { node: _from, epoch });
                }
            }
            Msg::Resolved { cache, endpoint } => {
                if let Endpoint::Dns { ttl, .. } = self.spec.endpoint
                    && let Some(c) = self.caches.get_mut(cache as usize)
                {
                    let changed = c.endpoint != endpoint;
                    c.endpoint = endpoint;
                    c.expires = ctx.now() + ttl;
                    c.refreshing = None;
                    if changed {
                        ctx.note(Note::Rerouted { to: endpoint });
                    }
                }
            }
            _ => {}
        }
    }

    fn on_reply(&mut self, seq: u32, outcome: Outcome, ctx: &mut impl Context) {
        if seq as usize >= self.history.len() {
            return;
        }
        let rec = self.history.get(seq);
        if rec.status != OpStatus::Pending {
            return; // a reply to an earlier attempt, or after the deadline was judged
        }
        let now = ctx.now();
        if now > self.deadline(rec.stream, rec.sent) {
            return; // too late to count: the user gave up
        }
        if outcome != Outcome::Refused {
            self.period.1 = self.period.1.saturating_add(1);
        }
        match outcome {
            Outcome::Committed { epoch, lsn } => self.history.ack(seq, now, epoch, lsn),
            // Nothing durable: epoch 0 never appears in a log, and no datastore is checked.
            Outcome::Served => self.history.ack(seq, now, 0, 0),
            Outcome::Refused => {
                if (rec.attempts as u32) < self.spec.streams[rec.stream as usize].retries {
                    self.retry(seq, ctx);
                } else {
                    self.history.refuse(seq, now);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const ME: NodeId = 50;
    const OLD: NodeId = 10;
    const NEW: NodeId = 12;
    const GSLB: NodeId = 300;

    fn ms(v: u64) -> SimTime {
        SimTime::from_millis(v)
    }

    /// Ops every 100 ms, 1 s timeout, straight to `OLD`; a notice takes effect after 5 s.
    fn direct(retries: u32) -> ClientSpec {
        ClientSpec {
            streams: vec![Stream {
                service: 0,
                arrivals: Arrivals::Fixed(SimDuration::from_millis(100)),
                timeout: SimDuration::from_secs(1),
                retries,
                direct: Vec::new(),
            }],
            endpoint: Endpoint::Direct {
                primary: OLD,
                ttl: SimDuration::from_secs(5),
            },
        }
    }

    /// Through DNS with a 10 s TTL, starting at endpoint 100.
    fn dns(caches: u32) -> ClientSpec {
        ClientSpec {
            endpoint: Endpoint::Dns {
                gslb: GSLB,
                ttl: SimDuration::from_secs(10),
                caches,
                initial: 100,
            },
            ..direct(0)
        }
    }

    /// A started population; its first operation is due at 100 ms (checked, then cleared).
    fn started(spec: ClientSpec) -> (ClientPopulation, Recorder) {
        let mut ctx = Recorder::new(ME);
        let mut c = ClientPopulation::new(spec);
        c.start(&mut ctx);
        assert_eq!(ctx.timers, vec![(ms(100), Timer::NextOp { stream: 0 })]);
        ctx.timers.clear();
        (c, ctx)
    }

    fn fire(c: &mut ClientPopulation, ctx: &mut Recorder, t: SimTime, timer: Timer) {
        ctx.now = t;
        c.on_timer(timer, ctx);
    }

    /// Issues the next operation at `t`; returns what was sent.
    fn next_op(c: &mut ClientPopulation, ctx: &mut Recorder, t: SimTime) -> Vec<(NodeId, Msg)> {
        ctx.sent.clear();
        fire(c, ctx, t, Timer::NextOp { stream: 0 });
        ctx.take_sent()
    }

    fn request(to: NodeId, seq: u32) -> (NodeId, Msg) {
        let op = OpRef {
            client: ME,
            seq,
            service: 0,
        };
        (
            to,
            Msg::Request {
                op,
                route: Route::DIRECT,
            },
        )
    }

    fn answer(c: &mut ClientPopulation, ctx: &mut Recorder, t: SimTime, (seq, outcome): Answer) {
        ctx.now = t;
        let op = OpRef {
            client: ME,
            seq,
            service: 0,
        };
        let msg = Msg::Reply {
            op,
            route: Route::DIRECT,
            outcome,
        };
        c.on_message(OLD, msg, ctx);
    }

    /// `from` announces itself primary of `epoch`.
    fn notice(c: &mut ClientPopulation, ctx: &mut Recorder, t: SimTime, (from, epoch): Pair) {
        ctx.now = t;
        c.on_message(from, Msg::NewPrimary { epoch }, ctx);
    }

    /// The resolver's answer for `cache`.
    fn resolved(c: &mut ClientPopulation, ctx: &mut Recorder, t: SimTime, (cache, to): Pair) {
        ctx.now = t;
        c.on_message(
            GSLB,
            Msg::Resolved {
                cache,
                endpoint: to,
            },
            ctx,
        );
    }

    fn switch(node: NodeId, epoch: Epoch) -> Timer {
        Timer::SwitchPrimary { node, epoch }
    }

    /// An op's sequence number and the outcome its reply carries.
    type Answer = (u32, Outcome);
    /// What a notice carries: (node, epoch) or (cache, endpoint).
    type Pair = (u32, u32);

    const OK: Outcome = Outcome::Committed { epoch: 1, lsn: 7 };

    #[test]
    fn fixed_arrivals_issue_op_i_at_i_intervals() {
        let (mut c, mut ctx) = started(direct(0));
        for seq in 0..5u32 {
            let t = ms(100 * (seq as u64 + 1));
            assert_eq!(next_op(&mut c, &mut ctx, t), vec![request(OLD, seq)]);
            let next = ms(100 * (seq as u64 + 2));
            assert_eq!(
                std::mem::take(&mut ctx.timers),
                vec![(next, Timer::NextOp { stream: 0 })]
            );
        }
        let sent: Vec<SimTime> = c.history().ops().iter().map(|r| r.sent).collect();
        assert_eq!(sent, [100, 200, 300, 400, 500].map(ms));
        assert!(
            c.history()
                .ops()
                .iter()
                .all(|r| r.status == OpStatus::Pending)
        );
    }

    #[test]
    fn a_commit_within_the_deadline_acks_the_op_with_its_epoch_and_lsn() {
        let (mut c, mut ctx) = started(direct(0));
        next_op(&mut c, &mut ctx, ms(100));
        assert_eq!(c.deadline(0, ms(100)), ms(1100));
        answer(&mut c, &mut ctx, ms(1100), (0, OK));
        let rec = c.history().get(0);
        assert_eq!(rec.status, OpStatus::Acked);
        assert_eq!(
            (rec.sent, rec.done, rec.epoch, rec.lsn),
            (ms(100), ms(1100), 1, 7)
        );
        assert!(ctx.sent.is_empty());
    }

    #[test]
    fn a_second_answer_to_an_answered_op_changes_nothing() {
        let (mut c, mut ctx) = started(direct(1));
        next_op(&mut c, &mut ctx, ms(100));
        answer(&mut c, &mut ctx, ms(300), (0, OK));
        let rec = c.history().get(0);
        assert_eq!((rec.status, rec.done), (OpStatus::Acked, ms(300)));
        // Well within the deadline, with a retry left: still ignored.
        answer(&mut c, &mut ctx, ms(400), (0, Outcome::Refused));
        let other = Outcome::Committed { epoch: 2, lsn: 9 };
        answer(&mut c, &mut ctx, ms(500), (0, other));
        assert_eq!(c.history().get(0), rec);
        assert!(ctx.sent.is_empty());
    }

    #[test]
    fn a_reply_after_the_deadline_is_ignored() {
        let (mut c, mut ctx) = started(direct(0));
        next_op(&mut c, &mut ctx, ms(100));
        let late = SimTime(ms(1100).0 + 1);
        answer(&mut c, &mut ctx, late, (0, OK));
        let rec = c.history().get(0);
        assert_eq!(rec.status, OpStatus::Pending);
        assert_eq!((rec.done, rec.epoch, rec.lsn), (SimTime::MAX, 0, 0));
        // A reply for an op never issued is ignored too.
        answer(&mut c, &mut ctx, ms(200), (9, OK));
        assert_eq!(c.history().len(), 1);
    }

    #[test]
    fn an_op_timeout_resends_while_retries_remain() {
        let (mut c, mut ctx) = started(direct(2));
        assert_eq!(next_op(&mut c, &mut ctx, ms(100)), vec![request(OLD, 0)]);
        let first = Timer::OpTimeout { seq: 0, attempt: 0 };
        let timers = std::mem::take(&mut ctx.timers);
        assert_eq!(
            timers,
            vec![(ms(1100), first), (ms(200), Timer::NextOp { stream: 0 })]
        );
        fire(&mut c, &mut ctx, ms(1100), first);
        assert_eq!(ctx.take_sent(), vec![request(OLD, 0)]);
        let second = Timer::OpTimeout { seq: 0, attempt: 1 };
        assert_eq!(std::mem::take(&mut ctx.timers), vec![(ms(2100), second)]);
        assert_eq!(c.history().get(0).attempts, 1);
        // The first attempt's timer again (stale): nothing.
        fire(&mut c, &mut ctx, ms(1100), first);
        assert!(ctx.sent.is_empty() && ctx.timers.is_empty());
        fire(&mut c, &mut ctx, ms(2100), second);
        assert_eq!(ctx.take_sent(), vec![request(OLD, 0)]);
        let third = Timer::OpTimeout { seq: 0, attempt: 2 };
        assert_eq!(std::mem::take(&mut ctx.timers), vec![(ms(3100), third)]);
        // No retry left.
        fire(&mut c, &mut ctx, ms(3100), third);
        assert!(ctx.sent.is_empty() && ctx.timers.is_empty());
        assert_eq!(c.history().get(0).attempts, 2);
        // The deadline covers every attempt.
        assert_eq!(c.deadline(0, ms(100)), ms(3100));
        answer(&mut c, &mut ctx, ms(3100), (0, OK));
        assert_eq!(c.history().get(0).status, OpStatus::Acked);
    }

    #[test]
    fn a_refusal_retries_while_attempts_remain() {
        let (mut c, mut ctx) = started(direct(1));
        next_op(&mut c, &mut ctx, ms(100));
        ctx.timers.clear();
        answer(&mut c, &mut ctx, ms(200), (0, Outcome::Refused));
        assert_eq!(ctx.take_sent(), vec![request(OLD, 0)]);
        let retry = Timer::OpTimeout { seq: 0, attempt: 1 };
        assert_eq!(std::mem::take(&mut ctx.timers), vec![(ms(1200), retry)]);
        assert_eq!(c.history().get(0).status, OpStatus::Pending);
        answer(&mut c, &mut ctx, ms(300), (0, Outcome::Refused));
        assert!(ctx.sent.is_empty());
        let rec = c.history().get(0);
        assert_eq!(
            (rec.status, rec.done, rec.attempts),
            (OpStatus::Refused, ms(300), 1)
        );
        fire(&mut c, &mut ctx, ms(1200), retry);
        assert!(ctx.sent.is_empty() && ctx.timers.is_empty());

        // Without retries a refusal is final at once.
        let (mut c, mut ctx) = started(direct(0));
        next_op(&mut c, &mut ctx, ms(100));
        answer(&mut c, &mut ctx, ms(150), (0, Outcome::Refused));
        assert!(ctx.sent.is_empty());
        assert_eq!(c.history().get(0).status, OpStatus::Refused);
    }

    #[test]
    fn a_new_primary_notice_takes_effect_after_the_ttl() {
        let (mut c, mut ctx) = started(direct(0));
        assert_eq!(next_op(&mut c, &mut ctx, ms(100)), vec![request(OLD, 0)]);
        ctx.timers.clear();
        notice(&mut c, &mut ctx, ms(1000), (NEW, 2));
        let switch = switch(NEW, 2);
        assert_eq!(ctx.timers, vec![(ms(6000), switch)]);
        // Repeated or stale notices schedule nothing more.
        notice(&mut c, &mut ctx, ms(1500), (NEW, 2));
        notice(&mut c, &mut ctx, ms(1500), (11, 1));
        assert_eq!(ctx.timers.len(), 1);
        assert_eq!(next_op(&mut c, &mut ctx, ms(5900)), vec![request(OLD, 1)]);
        assert!(ctx.notes.is_empty());
        fire(&mut c, &mut ctx, ms(6000), switch);
        assert_eq!(ctx.notes, vec![Note::Rerouted { to: NEW }]);
        assert_eq!(next_op(&mut c, &mut ctx, ms(6100)), vec![request(NEW, 2)]);
    }

    #[test]
    fn a_newer_notice_supersedes_a_pending_switch() {
        let (mut c, mut ctx) = started(direct(0));
        notice(&mut c, &mut ctx, ms(1000), (NEW, 2));
        notice(&mut c, &mut ctx, ms(2000), (11, 3));
        let to_new = switch(NEW, 2);
        let to_11 = switch(11, 3);
        assert_eq!(ctx.timers, vec![(ms(6000), to_new), (ms(7000), to_11)]);
        fire(&mut c, &mut ctx, ms(6000), to_new);
        assert!(ctx.notes.is_empty());
        assert_eq!(next_op(&mut c, &mut ctx, ms(6500)), vec![request(OLD, 0)]);
        fire(&mut c, &mut ctx, ms(7000), to_11);
        assert_eq!(ctx.notes, vec![Note::Rerouted { to: 11 }]);
        assert_eq!(next_op(&mut c, &mut ctx, ms(7100)), vec![request(11, 1)]);
    }

    #[test]
    fn dns_refreshes_an_expired_cache_once_and_serves_stale_meanwhile() {
        let (mut c, mut ctx) = started(dns(1));
        // Every cache expires within the first TTL.
        let t = SimTime::from_secs(10);
        let resolve = (GSLB, Msg::Resolve { cache: 0 });
        assert_eq!(next_op(&mut c, &mut ctx, t), vec![resolve, request(100, 0)]);
        assert_eq!(next_op(&mut c, &mut ctx, ms(10_100)), vec![request(100, 1)]);
        resolved(&mut c, &mut ctx, ms(10_150), (0, 101));
        assert_eq!(ctx.notes, vec![Note::Rerouted { to: 101 }]);
        assert_eq!(next_op(&mut c, &mut ctx, ms(10_200)), vec![request(101, 2)]);
        // Fresh until 20.15 s.
        assert_eq!(next_op(&mut c, &mut ctx, ms(20_149)), vec![request(101, 3)]);
        let sent = next_op(&mut c, &mut ctx, ms(20_150));
        assert_eq!(sent, vec![resolve, request(101, 4)]);
        resolved(&mut c, &mut ctx, ms(20_200), (0, 101));
        assert_eq!(ctx.notes.len(), 1, "the same answer is no reroute");
        // Unknown caches and primary notices mean nothing to a DNS client.
        resolved(&mut c, &mut ctx, ms(20_300), (9, 102));
        notice(&mut c, &mut ctx, ms(20_300), (NEW, 2));
        assert!(
            ctx.timers
                .iter()
                .all(|&(_, t)| t == Timer::NextOp { stream: 0 })
        );
        assert_eq!(next_op(&mut c, &mut ctx, ms(20_400)), vec![request(101, 5)]);
    }

    #[test]
    fn dns_caches_are_independent_and_a_restart_forgets_refreshes() {
        let (mut c, mut ctx) = started(dns(2));
        let t = SimTime::from_secs(10);
        let resolve = |cache| (GSLB, Msg::Resolve { cache });
        let sent: Vec<_> = (0..3).map(|_| next_op(&mut c, &mut ctx, t)).collect();
        let expected = [
            vec![resolve(0), request(100, 0)],
            vec![resolve(1), request(100, 1)],
            vec![request(100, 2)],
        ];
        assert_eq!(sent, expected);
        resolved(&mut c, &mut ctx, ms(10_100), (0, 101));
        assert_eq!(next_op(&mut c, &mut ctx, ms(10_200)), vec![request(100, 3)]);
        assert_eq!(next_op(&mut c, &mut ctx, ms(10_200)), vec![request(101, 4)]);
        // Cache 1's answer never came; after a restart it asks again.
        ctx.timers.clear();
        ctx.now = ms(11_000);
        c.restart(&mut ctx);
        assert_eq!(ctx.timers, vec![(ms(11_100), Timer::NextOp { stream: 0 })]);
        let sent = next_op(&mut c, &mut ctx, ms(11_100));
        assert_eq!(sent, vec![resolve(1), request(100, 5)]);
    }

    #[test]
    fn a_lost_resolve_is_asked_again() {
        let (mut c, mut ctx) = started(dns(1));
        let resolve = (GSLB, Msg::Resolve { cache: 0 });
        let sent = next_op(&mut c, &mut ctx, SimTime::from_secs(10));
        assert_eq!(sent, vec![resolve, request(100, 0)]);
        // The Resolve is lost (the GSLB was cut off). Twice the TTL later the client still
        // serves the answer it fetched before 10 s and has not asked again.
        let sent = next_op(&mut c, &mut ctx, SimTime::from_secs(30));
        assert!(sent.contains(&resolve), "never re-resolved: {sent:?}");
    }
}

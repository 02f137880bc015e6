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
use crate::logic::{Context, Epoch, Msg, NodeId, Note, OpRef, Outcome, Route, Timer};
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

#[derive(Clone, Debug)]
pub struct ClientSpec {
    pub arrivals: Arrivals,
    pub timeout: SimDuration,
    pub retries: u32,
    pub endpoint: Endpoint,
}

#[derive(Clone, Copy, Debug)]
struct Cache {
    endpoint: NodeId,
    expires: SimTime,
    refreshing: bool,
}

pub struct ClientPopulation {
    spec: ClientSpec,
    history: History,
    primary: NodeId,
    known_epoch: Epoch,
    caches: Vec<Cache>,
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
        }
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn spec(&self) -> &ClientSpec {
        &self.spec
    }

    /// The deadline of an operation sent at `sent`: every attempt's timeout.
    pub fn deadline(&self, sent: SimTime) -> SimTime {
        sent + self.spec.timeout.saturating_mul(self.spec.retries as u64 + 1)
    }

    pub fn start(&mut self, ctx: &mut impl Context) {
        if let Endpoint::Dns { ttl, caches, initial, .. } = self.spec.endpoint {
            self.caches = (0..caches)
                .map(|_| Cache {
                    endpoint: initial,
                    expires: SimTime::ZERO + SimDuration(ctx.rng().random_range(0..ttl.0.max(1))),
                    refreshing: false,
                })
                .collect();
        }
        let first = self.gap(ctx);
        ctx.set_timer(first, Timer::NextOp);
    }

    /// A restarted client has lost its in-flight operations' connections (they time out) and
    /// starts issuing again.
    pub fn restart(&mut self, ctx: &mut impl Context) {
        for c in &mut self.caches {
            c.refreshing = false;
        }
        let first = self.gap(ctx);
        ctx.set_timer(first, Timer::NextOp);
    }

    fn gap(&mut self, ctx: &mut impl Context) -> SimDuration {
        match self.spec.arrivals {
            Arrivals::Fixed(d) => d,
            Arrivals::Poisson(mean) => {
                let u: f64 = ctx.rng().random::<f64>();
                let gap = (-(1.0 - u).ln() * mean.0 as f64) as u64;
                SimDuration(gap.max(1))
            }
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::NextOp => {
                if self.history.len() < u32::MAX as usize {
                    let seq = self.history.push(ctx.now());
                    self.send(seq, ctx);
                    if self.spec.retries > 0 {
                        ctx.set_timer(self.spec.timeout, Timer::OpTimeout { seq, attempt: 0 });
                    }
                }
                let gap = self.gap(ctx);
                ctx.set_timer(gap, Timer::NextOp);
            }
            Timer::OpTimeout { seq, attempt } => self.on_op_timeout(seq, attempt, ctx),
            Timer::SwitchPrimary { node, epoch } if epoch >= self.known_epoch && node != self.primary => {
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
        if attempt < self.spec.retries {
            self.retry(seq, ctx);
        }
    }

    fn retry(&mut self, seq: u32, ctx: &mut impl Context) {
        let attempt = self.history.next_attempt(seq) as u32;
        self.send(seq, ctx);
        ctx.set_timer(self.spec.timeout, Timer::OpTimeout { seq, attempt });
    }

    fn send(&mut self, seq: u32, ctx: &mut impl Context) {
        let to = self.endpoint_for(seq, ctx);
        let op = OpRef { client: ctx.me(), seq };
        ctx.send(to, Msg::Request { op, route: Route::DIRECT });
    }

    fn endpoint_for(&mut self, seq: u32, ctx: &mut impl Context) -> NodeId {
        let Endpoint::Dns { gslb, .. } = self.spec.endpoint else {
            return self.primary;
        };
        let i = seq as usize % self.caches.len();
        let now = ctx.now();
        let cache = &mut self.caches[i];
        if now >= cache.expires && !cache.refreshing {
            // Serve the stale answer while the refresh is in flight, as stub resolvers do.
            cache.refreshing = true;
            ctx.send(gslb, Msg::Resolve { cache: i as u32 });
        }
        cache.endpoint
    }

    pub fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Reply { op, outcome, .. } => self.on_reply(op.seq, outcome, ctx),
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
                    c.refreshing = false;
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
        if now > self.deadline(rec.sent) {
            return; // too late to count: the user gave up
        }
        match outcome {
            Outcome::Committed { epoch, lsn } => self.history.ack(seq, now, epoch, lsn),
            Outcome::Refused => {
                if (rec.attempts as u32) < self.spec.retries {
                    self.retry(seq, ctx);
                } else {
                    self.history.refuse(seq, now);
                }
            }
        }
    }
}

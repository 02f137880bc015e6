//! A database node: a write-ahead log with LSNs, shipped to replicas, committed by a quorum rule.
//!
//! One state machine plays both roles. As **primary** it assigns the next LSN to each write,
//! ships it to every replica in its replica set, and commits (replies to the client) when the
//! [`StandbyRule`] is met over standbys in other zones — or at once in asynchronous mode. As
//! **replica** it applies entries in LSN order and acknowledges them.
//!
//! Safety comes from epochs: every primary works in an epoch granted by the failover
//! controller; a replica that has seen a newer epoch refuses entries from an older one
//! ([`Msg::Fenced`]), and with lease fencing a primary that has not had its lease renewed for
//! `loop_wait + retry_timeout` stops accepting writes before the controller may promote
//! anyone else (Patroni's argument for `ttl ≥ loop_wait + 2 × retry_timeout`).
//!
//! The log is kept as segments — `(epoch, first LSN)` runs — plus the last LSN: that is all a
//! checker needs to tell whether the write acknowledged at `(epoch, lsn)` survived, and it
//! keeps memory flat however many writes a run makes.

use super::lease::HeartbeatPlan;
use super::quorum::StandbyRule;
use super::{Context, DemoteReason, Epoch, Lsn, MemberSet, Msg, NO_NODE, NodeId, Note, OpRef, Outcome, Route, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::VecDeque;
use std::sync::Arc;

/// How the primary decides a write is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicationMode {
    /// Commit when the standby rule is met (PostgreSQL `synchronous_commit = on`).
    Synchronous(StandbyRule),
    /// Commit locally at once; ship accumulated entries every `ship_interval` (zero: each
    /// entry at once). Entries not yet shipped when the primary dies are lost: that is the
    /// replication lag an asynchronous RPO comes from.
    Asynchronous { ship_interval: SimDuration },
}

/// Everything a member knows about its cluster; shared by all members.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub name: String,
    pub members: Vec<NodeId>,
    pub member_zone: Vec<u16>,
    pub initial_primary: usize,
    pub mode: ReplicationMode,
    /// Replicas refuse entries from an epoch older than the newest they have seen.
    pub epoch_fencing: bool,
    /// With lease fencing: how long after a lease renewal was *sent* the primary may keep
    /// accepting writes without a newer renewal (`loop_wait + retry_timeout`).
    pub lease: Option<SimDuration>,
    /// Nodes told directly about a new primary ([`Msg::NewPrimary`]).
    pub subscribers: Vec<NodeId>,
    /// Patroni `synchronous_mode_strict`: with too few connected standbys, block commits
    /// instead of falling back to committing locally.
    pub strict: bool,
    /// PostgreSQL `wal_sender_timeout`: a standby silent this long is no longer connected and
    /// stops counting toward (and blocking) the synchronous quorum.
    pub wal_sender_timeout: SimDuration,
}

impl ClusterSpec {
    pub fn member_index(&self, node: NodeId) -> Option<usize> {
        self.members.iter().position(|&m| m == node)
    }
    pub fn all_members(&self) -> MemberSet {
        if self.members.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.members.len()) - 1
        }
    }
}

/// A log as `(epoch, first LSN)` segments plus the last LSN.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    segments: Vec<(Epoch, Lsn)>,
    last: Lsn,
}

impl Log {
    pub fn last(&self) -> Lsn {
        self.last
    }
    pub fn segments(&self) -> &[(Epoch, Lsn)] {
        &self.segments
    }
    /// Appends `count` entries written in `epoch`.
    pub fn append_many(&mut self, epoch: Epoch, count: u64) {
        if count == 0 {
            return;
        }
        if self.segments.last().map(|s| s.0) != Some(epoch) {
            self.segments.push((epoch, self.last + 1));
        }
        self.last += count;
    }
    /// Appends one entry written in `epoch`; returns its LSN.
    pub fn append(&mut self, epoch: Epoch) -> Lsn {
        self.last += 1;
        if self.segments.last().map(|s| s.0) != Some(epoch) {
            self.segments.push((epoch, self.last));
        }
        self.last
    }
    /// The epoch of the entry at `lsn`, if the log has it.
    pub fn epoch_at(&self, lsn: Lsn) -> Option<Epoch> {
        if lsn == 0 || lsn > self.last {
            return None;
        }
        let i = self.segments.partition_point(|s| s.1 <= lsn);
        debug_assert!(i > 0);
        Some(self.segments[i - 1].0)
    }
    /// Discards every entry above `lsn`.
    pub fn truncate(&mut self, lsn: Lsn) {
        if lsn >= self.last {
            return;
        }
        self.last = lsn;
        self.segments.retain(|s| s.1 <= lsn);
    }
    /// The number of this log's entries that `other` does not hold at the same position.
    pub fn diverging_from(&self, other: &Log) -> u64 {
        // Both logs' epochs are constant between segment starts, so comparing at every
        // boundary of either log (and just past the end of `other`) finds the first mismatch.
        let mut points: Vec<Lsn> = self
            .segments
            .iter()
            .chain(other.segments.iter())
            .map(|s| s.1)
            .chain(std::iter::once(other.last + 1))
            .filter(|&l| l >= 1 && l <= self.last)
            .collect();
        points.sort_unstable();
        points.dedup();
        for p in points {
            if other.epoch_at(p) != self.epoch_at(p) {
                return self.last - p + 1;
            }
        }
        0
    }
}

/// A stretch of commits one node made as primary of one epoch (for the safety checker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitSpan {
    pub epoch: Epoch,
    pub first: SimTime,
    pub last: SimTime,
    pub commits: u64,
}

#[derive(Debug)]
struct Primary {
    epoch: Epoch,
    replicas: MemberSet,
    /// Highest LSN each member has acknowledged in this epoch.
    acked: Vec<Lsn>,
    /// When each member last acknowledged anything (or when this primary took over).
    heard: Vec<SimTime>,
    committed: Lsn,
    pending: VecDeque<(Lsn, OpRef, Route)>,
    lease_until: SimTime,
    /// Last LSN put on the wire to replicas (asynchronous batching).
    shipped: Lsn,
    ship_armed: bool,
}

#[derive(Debug)]
enum Role {
    Primary(Primary),
    /// Following `primary` (or nobody yet: [`NO_NODE`]).
    Replica { primary: NodeId, catching_up: bool },
}

/// One database node.
pub struct Replica {
    spec: Arc<ClusterSpec>,
    index: usize,
    /// Lease renewals to this member's monitor, if it is watched.
    heartbeat: Option<HeartbeatPlan>,
    // Durable state: survives a crash.
    log: Log,
    epoch: Epoch,
    // Volatile state.
    role: Role,
    /// A catch-up being received, installed when complete.
    incoming: Log,
    // Observations for the checkers.
    spans: Vec<CommitSpan>,
}

impl Replica {
    pub fn new(spec: Arc<ClusterSpec>, index: usize, heartbeat: Option<HeartbeatPlan>) -> Self {
        debug_assert!(index < spec.members.len());
        Replica {
            role: Role::Replica {
                primary: NO_NODE,
                catching_up: false,
            },
            spec,
            index,
            heartbeat,
            log: Log::default(),
            epoch: 1,
            incoming: Log::default(),
            spans: Vec::new(),
        }
    }

    pub fn log(&self) -> &Log {
        &self.log
    }
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }
    pub fn is_primary(&self) -> bool {
        matches!(self.role, Role::Primary(_))
    }
    pub fn commit_spans(&self) -> &[CommitSpan] {
        &self.spans
    }
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    pub fn start(&mut self, ctx: &mut impl Context) {
        if self.index == self.spec.initial_primary && self.log.last() == 0 && self.epoch == 1 {
            let replicas = self.spec.all_members() & !(1 << self.index);
            self.become_primary(1, replicas, ctx);
        } else {
            let primary = self.spec.members[self.spec.initial_primary];
            self.role = Role::Replica {
                primary,
                catching_up: false,
            };
        }
        self.arm_heartbeat(ctx, true);
    }

    /// Restart after a crash: durable log and epoch kept, role forgotten.
    pub fn restart(&mut self, ctx: &mut impl Context) {
        self.role = Role::Replica {
            primary: NO_NODE,
            catching_up: false,
        };
        self.arm_heartbeat(ctx, true);
    }

    /// The node became unreachable: volatile state is gone.
    pub fn crash(&mut self) {
        self.role = Role::Replica {
            primary: NO_NODE,
            catching_up: false,
        };
    }

    /// On restart the phase is relative to now, as a restarted agent's loop would be.
    fn arm_heartbeat(&mut self, ctx: &mut impl Context, first: bool) {
        if let Some(plan) = self.heartbeat {
            plan.arm(first, ctx);
        }
    }

    fn become_primary(&mut self, epoch: Epoch, replicas: MemberSet, ctx: &mut impl Context) {
        self.epoch = epoch;
        let lease_until = match self.spec.lease {
            Some(d) => {
                ctx.set_timer(d, Timer::LeaseExpiry);
                ctx.now() + d
            }
            None => SimTime::MAX,
        };
        self.role = Role::Primary(Primary {
            epoch,
            replicas: replicas & !(1 << self.index),
            acked: vec![0; self.spec.members.len()],
            heard: vec![ctx.now(); self.spec.members.len()],
            committed: self.log.last(),
            pending: VecDeque::new(),
            lease_until,
            shipped: self.log.last(),
            ship_armed: false,
        });
        ctx.note(Note::Promoted { epoch });
    }

    fn step_down(&mut self, reason: DemoteReason, ctx: &mut impl Context) {
        if let Role::Primary(p) = &mut self.role {
            let epoch = p.epoch;
            // Connections are terminated on demotion: waiting clients get a fast error.
            for (_, op, route) in p.pending.drain(..) {
                reply(ctx, op, route, Outcome::Refused);
            }
            self.role = Role::Replica {
                primary: NO_NODE,
                catching_up: false,
            };
            ctx.note(Note::Demoted { epoch, reason });
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::Heartbeat => {
                if let Some(plan) = self.heartbeat {
                    let monitor = plan.monitor;
                    let following = match &self.role {
                        Role::Primary(_) => ctx.me(),
                        Role::Replica { primary, .. } => *primary,
                    };
                    ctx.send(
                        monitor,
                        Msg::Heartbeat {
                            sent_at: ctx.now(),
                            lsn: self.log.last(),
                            epoch: self.epoch,
                            following,
                        },
                    );
                    self.arm_heartbeat(ctx, false);
                }
            }
            Timer::LeaseExpiry => {
                if let Role::Primary(p) = &self.role
                    && ctx.now() >= p.lease_until
                {
                    self.step_down(DemoteReason::LeaseExpired, ctx);
                }
            }
            Timer::ShipLog => self.ship(ctx),
            _ => debug_assert!(false, "replica got timer {timer:?}"),
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, route } => self.on_write(op, route, ctx),
            Msg::Replicate { epoch, lsn } => self.on_replicate(from, epoch, lsn, lsn, ctx),
            Msg::Ship { epoch, first, last } => self.on_replicate(from, epoch, first, last, ctx),
            Msg::ReplicateAck { epoch, lsn } => self.on_ack(from, epoch, lsn, ctx),
            Msg::Fenced { epoch } if epoch > self.epoch => {
                self.epoch = epoch;
                self.step_down(DemoteReason::FencedByReplica, ctx);
            }
            Msg::LsnQuery { round } => ctx.send(
                from,
                Msg::LsnReply {
                    round,
                    lsn: self.log.last(),
                    epoch: self.epoch,
                },
            ),
            Msg::Promote { epoch, replicas } if epoch > self.epoch || (epoch == self.epoch && !self.is_primary()) => {
                self.become_primary(epoch, replicas, ctx);
                for &s in &self.spec.subscribers {
                    ctx.send(s, Msg::NewPrimary { epoch });
                }
            }
            Msg::Demote { epoch } => {
                if epoch > self.epoch {
                    self.epoch = epoch;
                }
                if epoch >= self.epoch {
                    self.step_down(DemoteReason::DemotedByController, ctx);
                }
            }
            Msg::Follow { epoch, primary } => self.on_follow(epoch, primary, ctx),
            Msg::Membership { epoch, replicas } => {
                if let Role::Primary(p) = &mut self.role
                    && p.epoch == epoch
                {
                    p.replicas = replicas & !(1 << self.index);
                }
            }
            Msg::LeaseGranted { sent_at } => {
                if let (Role::Primary(p), Some(d)) = (&mut self.role, self.spec.lease) {
                    let until = sent_at + d;
                    if until > p.lease_until {
                        p.lease_until = until;
                        ctx.set_timer(until.saturating_since(ctx.now()), Timer::LeaseExpiry);
                    }
                }
            }
            Msg::Rejoin { .. } => self.on_rejoin(from, ctx),
            Msg::CatchUp { epoch, first, last, done } => self.on_catch_up(from, epoch, first, last, done, ctx),
            Msg::Probe { round } => ctx.send(
                from,
                Msg::ProbeReply {
                    round,
                    primary: self.is_primary(),
                },
            ),
            _ => {}
        }
    }

    fn on_write(&mut self, op: OpRef, route: Route, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else {
            reply(ctx, op, route, Outcome::Refused);
            return;
        };
        let epoch = p.epoch;
        let lsn = self.log.append(epoch);
        match self.spec.mode {
            ReplicationMode::Asynchronous { ship_interval } => {
                if ship_interval.is_zero() {
                    send_to_replicas(ctx, &self.spec, p.replicas, Msg::Replicate { epoch, lsn });
                    p.shipped = lsn;
                } else if !p.ship_armed {
                    p.ship_armed = true;
                    ctx.set_timer(ship_interval, Timer::ShipLog);
                }
                p.committed = lsn;
                record_commit(&mut self.spans, epoch, ctx.now());
                reply(ctx, op, route, Outcome::Committed { epoch, lsn });
            }
            ReplicationMode::Synchronous(rule) => {
                send_to_replicas(ctx, &self.spec, p.replicas, Msg::Replicate { epoch, lsn });
                p.shipped = lsn;
                if rule.k() == 0 {
                    p.committed = lsn;
                    record_commit(&mut self.spans, epoch, ctx.now());
                    reply(ctx, op, route, Outcome::Committed { epoch, lsn });
                } else {
                    p.pending.push_back((lsn, op, route));
                    self.advance_commits(ctx);
                }
            }
        }
    }

    /// Ships the batch accumulated since the last one (asynchronous mode).
    fn ship(&mut self, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else { return };
        p.ship_armed = false;
        let last = self.log.last();
        if last > p.shipped {
            let msg = Msg::Ship {
                epoch: p.epoch,
                first: p.shipped + 1,
                last,
            };
            send_to_replicas(ctx, &self.spec, p.replicas, msg);
            p.shipped = last;
        }
    }

    /// Entries `first..=last` of `epoch` from the primary `from` (one entry when synchronous).
    fn on_replicate(&mut self, from: NodeId, epoch: Epoch, first: Lsn, last: Lsn, ctx: &mut impl Context) {
        if epoch < self.epoch && self.spec.epoch_fencing {
            ctx.send(from, Msg::Fenced { epoch: self.epoch });
            return;
        }
        if epoch > self.epoch {
            self.epoch = epoch;
            self.step_down(DemoteReason::FencedByReplica, ctx);
        }
        if self.is_primary() {
            return; // a stale primary's stream to another primary (no fencing): ignored.
        }
        if let Role::Replica { primary, catching_up } = &mut self.role {
            *primary = from;
            if *catching_up {
                return; // the catch-up covers these entries
            }
            let have = self.log.last();
            if first == have + 1 {
                self.log.append_many(epoch, last - first + 1);
            } else if first <= have {
                if self.log.epoch_at(first) != Some(epoch) {
                    // A divergent suffix from a deposed primary: discard it, like pg_rewind.
                    let discarded = have - first + 1;
                    self.log.truncate(first - 1);
                    ctx.note(Note::Rewound { lsn: first - 1, discarded });
                }
                let have = self.log.last();
                if last > have {
                    self.log.append_many(epoch, last - have);
                }
            } else {
                // A gap: entries were missed while down or cut off.
                *catching_up = true;
                ctx.send(from, Msg::Rejoin { lsn: have });
                return;
            }
            ctx.send(from, Msg::ReplicateAck { epoch, lsn: last });
        }
    }

    fn on_ack(&mut self, from: NodeId, epoch: Epoch, lsn: Lsn, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else { return };
        if epoch != p.epoch {
            return;
        }
        let Some(m) = self.spec.member_index(from) else { return };
        p.heard[m] = ctx.now();
        if lsn > p.acked[m] {
            p.acked[m] = lsn;
        }
        self.advance_commits(ctx);
    }

    /// Commits (and answers) every pending write the standby rule now allows.
    fn advance_commits(&mut self, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else { return };
        let ReplicationMode::Synchronous(rule) = self.spec.mode else {
            return;
        };
        // Acks of connected standbys in other zones, in priority (member-list) order.
        let now = ctx.now();
        let my_zone = self.spec.member_zone[self.index];
        let mut buf = [0 as Lsn; 64];
        let mut n = 0;
        let mut rest = p.replicas;
        while rest != 0 {
            let r = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let connected = now.saturating_since(p.heard[r]) <= self.spec.wal_sender_timeout;
            if self.spec.member_zone[r] != my_zone && connected {
                buf[n] = p.acked[r];
                n += 1;
            }
        }
        let point = match rule.commit_point(&buf[..n]) {
            Some(point) => point,
            // Too few standbys: Patroni's non-strict synchronous_mode commits locally.
            None if !self.spec.strict => self.log.last(),
            None => return,
        };
        while let Some(&(l, op, route)) = p.pending.front() {
            if l > point {
                break;
            }
            p.pending.pop_front();
            p.committed = l;
            record_commit(&mut self.spans, p.epoch, now);
            reply(ctx, op, route, Outcome::Committed { epoch: p.epoch, lsn: l });
        }
    }

    fn on_follow(&mut self, epoch: Epoch, primary: NodeId, ctx: &mut impl Context) {
        if epoch < self.epoch {
            return;
        }
        self.epoch = epoch;
        if primary == ctx.me() {
            return;
        }
        self.step_down(DemoteReason::DemotedByController, ctx);
        self.role = Role::Replica {
            primary,
            catching_up: true,
        };
        ctx.send(primary, Msg::Rejoin { lsn: self.log.last() });
    }

    /// A member asks to be brought up to date: send it the whole log as segments (a
    /// base backup, in effect) and stream to it from now on.
    fn on_rejoin(&mut self, from: NodeId, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else { return };
        let Some(m) = self.spec.member_index(from) else { return };
        p.replicas |= 1 << m;
        p.acked[m] = 0;
        let segs = self.log.segments();
        if segs.is_empty() {
            ctx.send(from, Msg::CatchUp { epoch: p.epoch, first: 1, last: 0, done: true });
            return;
        }
        for (i, &(epoch, first)) in segs.iter().enumerate() {
            let last = segs.get(i + 1).map(|s| s.1 - 1).unwrap_or(self.log.last());
            let done = i + 1 == segs.len();
            ctx.send(from, Msg::CatchUp { epoch, first, last, done });
        }
    }

    fn on_catch_up(&mut self, from: NodeId, epoch: Epoch, first: Lsn, last: Lsn, done: bool, ctx: &mut impl Context) {
        let Role::Replica { primary, catching_up } = &mut self.role else { return };
        *primary = from;
        if first == 1 {
            self.incoming = Log::default();
        }
        if last >= first {
            self.incoming.segments.push((epoch, first));
            self.incoming.last = last;
        }
        if done {
            *catching_up = false;
            let discarded = self.log.diverging_from(&self.incoming);
            if discarded > 0 {
                ctx.note(Note::Rewound {
                    lsn: self.log.last() - discarded,
                    discarded,
                });
            }
            self.log = std::mem::take(&mut self.incoming);
            ctx.send(
                from,
                Msg::ReplicateAck {
                    epoch: self.epoch,
                    lsn: self.log.last(),
                },
            );
        }
    }
}

fn send_to_replicas(ctx: &mut impl Context, spec: &ClusterSpec, replicas: MemberSet, msg: Msg) {
    let mut rest = replicas;
    while rest != 0 {
        let m = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        ctx.send(spec.members[m], msg);
    }
}

fn record_commit(spans: &mut Vec<CommitSpan>, epoch: Epoch, now: SimTime) {
    match spans.last_mut() {
        Some(s) if s.epoch == epoch => {
            s.last = now;
            s.commits += 1;
        }
        _ => spans.push(CommitSpan {
            epoch,
            first: now,
            last: now,
            commits: 1,
        }),
    }
}

/// Answers a request along the path it came by.
fn reply(ctx: &mut impl Context, op: OpRef, route: Route, outcome: Outcome) {
    let to = if route.app != NO_NODE { route.app } else { op.client };
    ctx.send(to, Msg::Reply { op, route, outcome });
}

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
//! The log itself ([`Log`], segments of `(epoch, first LSN)` plus the last LSN) lives in
//! [`log`](super::log) and is re-exported here.

use super::corruption::{BadTransaction, first_damage, touches};
use super::health_check::answer_probe;
use super::lease::HeartbeatPlan;
pub use super::log::Log;
use super::quorum::StandbyRule;
use super::{
    Context, DemoteReason, Epoch, Lsn, MemberSet, Msg, NO_NODE, NodeId, Note, OpRef, Outcome,
    Route, Timer,
};
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
    Replica {
        primary: NodeId,
        catching_up: bool,
    },
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
    /// Restored data being received, installed on `RestoreInstall`.
    restoring: Log,
    /// What the bad transactions of this datastore are (their content, in effect): the data
    /// is damaged while the log holds one of them.
    bad: Vec<BadTransaction>,
    /// When a query first failed on damaged data ([`SimTime::MAX`]: never).
    first_error: SimTime,
    /// Writes refused for maintenance (a restore in progress).
    frozen: bool,
    /// When this member, as a replica, last replayed entries from its primary's stream (or
    /// installed a catch-up or a restore): what its exporter's replication lag is measured
    /// from. `None` since it started, crashed or stepped down, until it replays again, as
    /// `pg_last_xact_replay_timestamp()` is NULL on a server that has replayed nothing since it
    /// started.
    replayed_at: Option<SimTime>,
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
            restoring: Log::default(),
            bad: Vec::new(),
            first_error: SimTime::MAX,
            frozen: false,
            replayed_at: None,
            spans: Vec::new(),
        }
    }

    /// The commit point, while primary (what a backup may contain).
    pub fn committed(&self) -> Option<Lsn> {
        match &self.role {
            Role::Primary(p) => Some(p.committed),
            Role::Replica { .. } => None,
        }
    }

    /// Learns what a bad transaction is (every member knows what each entry contains).
    pub fn know_bad_transaction(&mut self, bad: BadTransaction) {
        if !self.bad.contains(&bad) {
            self.bad.push(bad);
        }
    }

    /// The first bad transaction this member's data holds.
    pub fn damage(&self) -> Option<BadTransaction> {
        first_damage(&self.bad, &self.log)
    }

    /// Commits a transaction no client asked for (a bad migration run by hand), through the
    /// normal write path: it replicates like any other. Returns its position when primary and
    /// not frozen (maintenance refuses it like any write).
    pub fn commit_internal(&mut self, ctx: &mut impl Context) -> Option<(Epoch, Lsn)> {
        let Role::Primary(p) = &self.role else {
            return None;
        };
        if self.frozen {
            return None;
        }
        let epoch = p.epoch;
        let op = OpRef {
            client: NO_NODE,
            seq: 0,
            service: 0,
        };
        self.on_write(op, Route::DIRECT, ctx);
        Some((epoch, self.log.last()))
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

    /// The replication lag this member's exporter reports at `now`, postgres_exporter's
    /// `pg_replication_lag` (its default query: `CASE WHEN NOT pg_is_in_recovery() THEN 0
    /// ELSE GREATEST(0, now() - pg_last_xact_replay_timestamp()) END`): zero on a primary, on
    /// a replica the time since it last replayed its primary's entries; `None` (no series,
    /// the query's NULL) on a replica that has replayed nothing since it started. Entries
    /// here carry no commit timestamp, so the replay instant stands for the replayed entry's
    /// commit time: the two differ by one trip over the link (plus the batching wait in
    /// asynchronous mode), far below any lag threshold. Like the real metric, it grows on a
    /// current replica of a primary that writes nothing.
    pub fn replication_lag(&self, now: SimTime) -> Option<SimDuration> {
        match self.role {
            Role::Primary(_) => Some(SimDuration::ZERO),
            Role::Replica { .. } => self.replayed_at.map(|t| now.saturating_since(t)),
        }
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
        self.replayed_at = None;
        self.arm_heartbeat(ctx, true);
    }

    /// The node became unreachable: volatile state is gone.
    pub fn crash(&mut self) {
        self.role = Role::Replica {
            primary: NO_NODE,
            catching_up: false,
        };
        self.replayed_at = None;
    }

    /// On restart the phase is relative to now, as a restarted agent's loop would be.
    fn arm_heartbeat(&mut self, ctx: &mut impl Context, first: bool) {
        if let Some(plan) = self.heartbeat {
            plan.arm(first, ctx);
        }
    }

    fn become_primary(&mut self, epoch: Epoch, replicas: MemberSet, ctx: &mut impl Context) {
        if let Role::Primary(p) = &mut self.role {
            // Re-appointed in a new epoch: writes waiting in the old one are refused, not lost.
            for (_, op, route) in p.pending.drain(..) {
                reply(ctx, op, route, Outcome::Refused);
            }
        }
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
            self.replayed_at = None;
            ctx.note(Note::Demoted { epoch, reason });
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::Heartbeat => self.on_heartbeat_timer(ctx),
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

    /// Tells the monitor this node is alive, where its log ends and whom it follows.
    fn on_heartbeat_timer(&mut self, ctx: &mut impl Context) {
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
            Msg::Promote { epoch, replicas }
                if epoch > self.epoch || (epoch == self.epoch && !self.is_primary()) =>
            {
                self.on_promote(epoch, replicas, ctx);
            }
            Msg::Demote { epoch } => self.on_demote(epoch, ctx),
            Msg::Follow { epoch, primary } => self.on_follow(epoch, primary, ctx),
            Msg::Membership { epoch, replicas } => self.on_membership(epoch, replicas),
            Msg::LeaseGranted { sent_at } => self.on_lease_granted(sent_at, ctx),
            Msg::Rejoin { .. } => self.on_rejoin(from, ctx),
            Msg::CatchUp {
                epoch,
                first,
                last,
                done,
            } => self.on_catch_up(from, epoch, first, last, done, ctx),
            Msg::Probe { round } => answer_probe(ctx, from, round, self.is_primary()),
            Msg::IntegrityQuery { full } => self.on_integrity_query(from, full, ctx),
            Msg::Freeze { on } => self.frozen = on,
            Msg::RestoreSegment { epoch, first, last } => {
                if first == 1 {
                    self.restoring = Log::default();
                }
                self.restoring.put_run(epoch, first, last);
            }
            Msg::RestoreInstall { epoch, lsn } => self.on_restore_install(from, epoch, lsn, ctx),
            _ => {}
        }
    }

    /// Becomes primary of `epoch` (appointed by the controller) and tells the subscribers.
    fn on_promote(&mut self, epoch: Epoch, replicas: MemberSet, ctx: &mut impl Context) {
        self.become_primary(epoch, replicas, ctx);
        for &s in &self.spec.subscribers {
            ctx.send(s, Msg::NewPrimary { epoch });
        }
    }

    /// Steps down when told to by the controller of this epoch or a newer one.
    fn on_demote(&mut self, epoch: Epoch, ctx: &mut impl Context) {
        if epoch > self.epoch {
            self.epoch = epoch;
        }
        if epoch >= self.epoch {
            self.step_down(DemoteReason::DemotedByController, ctx);
        }
    }

    /// A primary of `epoch` replicates to the new replica set from now on.
    fn on_membership(&mut self, epoch: Epoch, replicas: MemberSet) {
        if let Role::Primary(p) = &mut self.role
            && p.epoch == epoch
        {
            p.replicas = replicas & !(1 << self.index);
        }
    }

    /// A renewal sent at `sent_at` extends a primary's lease (never shortens it).
    fn on_lease_granted(&mut self, sent_at: SimTime, ctx: &mut impl Context) {
        if let (Role::Primary(p), Some(d)) = (&mut self.role, self.spec.lease) {
            let until = sent_at + d;
            if until > p.lease_until {
                p.lease_until = until;
                ctx.set_timer(until.saturating_since(ctx.now()), Timer::LeaseExpiry);
            }
        }
    }

    /// Reports the error counters, and with `full` the first damaged entry found by a check.
    fn on_integrity_query(&mut self, from: NodeId, full: bool, ctx: &mut impl Context) {
        ctx.send(
            from,
            Msg::IntegrityReport {
                bad_lsn: if full {
                    self.damage().map_or(0, |b| b.lsn)
                } else {
                    0
                },
                epoch: self.epoch,
                primary: self.is_primary(),
                first_error: self.first_error,
            },
        );
    }

    /// Replaces the data with the restored segments up to `lsn` as timeline `epoch`; a
    /// repeated install of the timeline already here is only answered again.
    fn on_restore_install(&mut self, from: NodeId, epoch: Epoch, lsn: Lsn, ctx: &mut impl Context) {
        if epoch == self.epoch && !self.is_primary() {
            // The runbook installs again when acknowledgements were lost: the same timeline
            // is already here, so only the answer is repeated.
            ctx.send(from, Msg::RestoreInstalled { epoch });
        } else if epoch > self.epoch {
            self.step_down(DemoteReason::Restored, ctx);
            let mut restored = std::mem::take(&mut self.restoring);
            restored.truncate(lsn);
            self.log = restored;
            self.epoch = epoch;
            self.frozen = false;
            self.first_error = SimTime::MAX;
            self.role = Role::Replica {
                primary: NO_NODE,
                catching_up: false,
            };
            self.replayed_at = Some(ctx.now());
            ctx.send(from, Msg::RestoreInstalled { epoch });
        }
    }

    fn on_write(&mut self, op: OpRef, route: Route, ctx: &mut impl Context) {
        if !matches!(self.role, Role::Primary(_)) || self.frozen {
            reply(ctx, op, route, Outcome::Refused);
            return;
        }
        // A query on the damaged rows fails (constraint errors, impossible values): the
        // application reports an error, and the first one is what users notice.
        if !self.bad.is_empty()
            && op.client != NO_NODE
            && let Some(b) = self.damage()
            && touches(op.client, op.seq, b.ppm)
        {
            self.first_error = self.first_error.min(ctx.now());
            reply(ctx, op, route, Outcome::Refused);
            return;
        }
        let Role::Primary(p) = &mut self.role else {
            unreachable!("checked above");
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
        let Role::Primary(p) = &mut self.role else {
            return;
        };
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
    fn on_replicate(
        &mut self,
        from: NodeId,
        epoch: Epoch,
        first: Lsn,
        last: Lsn,
        ctx: &mut impl Context,
    ) {
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
        if let Role::Replica {
            primary,
            catching_up,
        } = &mut self.role
        {
            if *catching_up {
                if from != *primary {
                    // The primary we asked was replaced: ask the new one instead.
                    *primary = from;
                    ctx.send(
                        from,
                        Msg::Rejoin {
                            lsn: self.log.last(),
                        },
                    );
                }
                return; // the catch-up covers these entries
            }
            *primary = from;
            let have = self.log.last();
            if first == have + 1 {
                self.log.append_many(epoch, last - first + 1);
            } else if first <= have {
                if self.log.epoch_at(first) != Some(epoch) {
                    // A divergent suffix from a deposed primary: discard it, like pg_rewind.
                    let discarded = have - first + 1;
                    self.log.truncate(first - 1);
                    ctx.note(Note::Rewound {
                        lsn: first - 1,
                        discarded,
                    });
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
            self.replayed_at = Some(ctx.now());
            ctx.send(from, Msg::ReplicateAck { epoch, lsn: last });
        }
    }

    fn on_ack(&mut self, from: NodeId, epoch: Epoch, lsn: Lsn, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else {
            return;
        };
        if epoch != p.epoch {
            return;
        }
        let Some(m) = self.spec.member_index(from) else {
            return;
        };
        p.heard[m] = ctx.now();
        if lsn > p.acked[m] {
            p.acked[m] = lsn;
        }
        self.advance_commits(ctx);
    }

    /// Commits (and answers) every pending write the standby rule now allows.
    fn advance_commits(&mut self, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else {
            return;
        };
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
            reply(
                ctx,
                op,
                route,
                Outcome::Committed {
                    epoch: p.epoch,
                    lsn: l,
                },
            );
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
        ctx.send(
            primary,
            Msg::Rejoin {
                lsn: self.log.last(),
            },
        );
    }

    /// A member asks to be brought up to date: send it the whole log as segments (a
    /// base backup, in effect) and stream to it from now on.
    fn on_rejoin(&mut self, from: NodeId, ctx: &mut impl Context) {
        let Role::Primary(p) = &mut self.role else {
            return;
        };
        let Some(m) = self.spec.member_index(from) else {
            return;
        };
        p.replicas |= 1 << m;
        p.acked[m] = 0;
        let segs = self.log.segments();
        if segs.is_empty() {
            ctx.send(
                from,
                Msg::CatchUp {
                    epoch: p.epoch,
                    first: 1,
                    last: 0,
                    done: true,
                },
            );
            return;
        }
        for (i, &(epoch, first)) in segs.iter().enumerate() {
            let last = segs.get(i + 1).map(|s| s.1 - 1).unwrap_or(self.log.last());
            let done = i + 1 == segs.len();
            ctx.send(
                from,
                Msg::CatchUp {
                    epoch,
                    first,
                    last,
                    done,
                },
            );
        }
    }

    fn on_catch_up(
        &mut self,
        from: NodeId,
        epoch: Epoch,
        first: Lsn,
        last: Lsn,
        done: bool,
        ctx: &mut impl Context,
    ) {
        let Role::Replica {
            primary,
            catching_up,
        } = &mut self.role
        else {
            return;
        };
        *primary = from;
        if first == 1 {
            self.incoming = Log::default();
        }
        if last >= first {
            self.incoming.push_segment(epoch, first, last);
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
            self.replayed_at = Some(ctx.now());
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
    if op.client == NO_NODE {
        return; // an internal transaction: nobody waits for it
    }
    let to = if route.app != NO_NODE {
        route.app
    } else {
        op.client
    };
    ctx.send(to, Msg::Reply { op, route, outcome });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::periodic::Phase;
    use crate::logic::testing::Recorder;

    const CLIENT: NodeId = 50;
    const SUB: NodeId = 60;
    const MON: NodeId = 70;
    /// The initial primary (member 0) and the two standbys (members 1 and 2).
    const P: NodeId = 10;
    const S1: NodeId = 11;
    const S2: NodeId = 12;

    fn ms(v: u64) -> SimTime {
        SimTime::from_millis(v)
    }

    fn spec(mode: ReplicationMode, zones: [u16; 3]) -> ClusterSpec {
        ClusterSpec {
            name: "db".to_string(),
            members: vec![P, S1, S2],
            member_zone: zones.to_vec(),
            initial_primary: 0,
            mode,
            epoch_fencing: true,
            lease: None,
            subscribers: vec![SUB],
            strict: true,
            wal_sender_timeout: SimDuration::from_secs(60),
        }
    }

    /// Synchronous replication, every member in its own zone.
    fn sync(rule: StandbyRule) -> ClusterSpec {
        spec(ReplicationMode::Synchronous(rule), [0, 1, 2])
    }

    fn asynchronous(ship_interval: SimDuration) -> ClusterSpec {
        spec(ReplicationMode::Asynchronous { ship_interval }, [0, 1, 2])
    }

    /// Starts member `index` at time zero, with its start effects still recorded.
    fn start_with(
        spec: ClusterSpec,
        index: usize,
        heartbeat: Option<HeartbeatPlan>,
    ) -> (Replica, Recorder) {
        let spec = Arc::new(spec);
        let mut ctx = Recorder::new(spec.members[index]);
        let mut node = Replica::new(spec, index, heartbeat);
        node.start(&mut ctx);
        (node, ctx)
    }

    /// The initial primary, started; its start effects are checked and cleared.
    fn primary(spec: ClusterSpec) -> (Replica, Recorder) {
        let (node, mut ctx) = start_with(spec, 0, None);
        assert!(node.is_primary());
        assert_eq!(node.epoch(), 1);
        assert_eq!(ctx.notes, vec![Note::Promoted { epoch: 1 }]);
        assert!(ctx.sent.is_empty());
        ctx.notes.clear();
        ctx.timers.clear();
        (node, ctx)
    }

    /// A standby (member `index` ≥ 1), started: it follows the initial primary.
    fn standby(spec: ClusterSpec, index: usize) -> (Replica, Recorder) {
        let (node, ctx) = start_with(spec, index, None);
        assert!(!node.is_primary());
        assert!(ctx.sent.is_empty() && ctx.notes.is_empty() && ctx.timers.is_empty());
        (node, ctx)
    }

    fn op(seq: u32) -> OpRef {
        OpRef {
            client: CLIENT,
            seq,
            service: 0,
        }
    }

    fn write(node: &mut Replica, ctx: &mut Recorder, seq: u32) {
        let msg = Msg::Request {
            op: op(seq),
            route: Route::DIRECT,
        };
        node.on_message(CLIENT, msg, ctx);
    }

    fn ack(node: &mut Replica, ctx: &mut Recorder, from: NodeId, epoch: Epoch, lsn: Lsn) {
        node.on_message(from, Msg::ReplicateAck { epoch, lsn }, ctx);
    }

    fn committed(seq: u32, epoch: Epoch, lsn: Lsn) -> (NodeId, Msg) {
        let outcome = Outcome::Committed { epoch, lsn };
        (
            CLIENT,
            Msg::Reply {
                op: op(seq),
                route: Route::DIRECT,
                outcome,
            },
        )
    }

    fn refused(seq: u32) -> (NodeId, Msg) {
        (
            CLIENT,
            Msg::Reply {
                op: op(seq),
                route: Route::DIRECT,
                outcome: Outcome::Refused,
            },
        )
    }

    /// The client replies among everything sent so far.
    fn promote(epoch: Epoch, replicas: MemberSet) -> Msg {
        Msg::Promote { epoch, replicas }
    }

    fn replies(ctx: &Recorder) -> Vec<(NodeId, Msg)> {
        ctx.sent
            .iter()
            .copied()
            .filter(|(_, m)| matches!(m, Msg::Reply { .. }))
            .collect()
    }

    // ---- synchronous commit ----

    #[test]
    fn any_one_commits_on_the_first_ack_and_replies_once() {
        let (mut p, mut ctx) = primary(sync(StandbyRule::Any(1)));
        ctx.at(ms(1));
        write(&mut p, &mut ctx, 0);
        let rep = Msg::Replicate { epoch: 1, lsn: 1 };
        assert_eq!(ctx.take_sent(), vec![(S1, rep), (S2, rep)]);
        ctx.at(ms(2));
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert_eq!(ctx.take_sent(), vec![committed(0, 1, 1)]);
        ctx.at(ms(3));
        ack(&mut p, &mut ctx, S1, 1, 1);
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert!(ctx.sent.is_empty(), "replied again: {:?}", ctx.sent);
        assert_eq!(p.log().last(), 1);
        let span = CommitSpan {
            epoch: 1,
            first: ms(2),
            last: ms(2),
            commits: 1,
        };
        assert_eq!(p.commit_spans(), &[span]);
    }

    #[test]
    fn acks_are_cumulative_and_commits_are_answered_in_lsn_order() {
        let (mut p, mut ctx) = primary(sync(StandbyRule::Any(1)));
        for seq in 0..3 {
            write(&mut p, &mut ctx, seq);
        }
        assert!(replies(&ctx).is_empty());
        ctx.sent.clear();
        ack(&mut p, &mut ctx, S1, 1, 2);
        assert_eq!(
            ctx.take_sent(),
            vec![committed(0, 1, 1), committed(1, 1, 2)]
        );
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert!(ctx.sent.is_empty(), "lsn 3 is on no standby yet");
        ack(&mut p, &mut ctx, S2, 1, 3);
        assert_eq!(ctx.take_sent(), vec![committed(2, 1, 3)]);
        assert_eq!(p.commit_spans()[0].commits, 3);
    }

    #[test]
    fn first_one_waits_for_the_first_priority_standby() {
        let (mut p, mut ctx) = primary(sync(StandbyRule::First(1)));
        write(&mut p, &mut ctx, 0);
        write(&mut p, &mut ctx, 1);
        ctx.sent.clear();
        ack(&mut p, &mut ctx, S2, 1, 2);
        assert!(
            ctx.sent.is_empty(),
            "the second standby does not count for FIRST 1"
        );
        ack(&mut p, &mut ctx, S1, 1, 1);
        assert_eq!(ctx.take_sent(), vec![committed(0, 1, 1)]);
        ack(&mut p, &mut ctx, S1, 1, 2);
        assert_eq!(ctx.take_sent(), vec![committed(1, 1, 2)]);
    }

    #[test]
    fn a_standby_in_the_primary_zone_never_satisfies_the_quorum() {
        let mode = ReplicationMode::Synchronous(StandbyRule::Any(1));
        let (mut p, mut ctx) = primary(spec(mode, [0, 0, 1]));
        write(&mut p, &mut ctx, 0);
        ctx.sent.clear();
        ack(&mut p, &mut ctx, S1, 1, 1);
        assert!(ctx.sent.is_empty(), "S1 shares the primary's zone");
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert_eq!(ctx.take_sent(), vec![committed(0, 1, 1)]);

        // All in one zone, strict: nothing ever commits.
        let (mut p, mut ctx) = primary(spec(mode, [3, 3, 3]));
        write(&mut p, &mut ctx, 0);
        ack(&mut p, &mut ctx, S1, 1, 1);
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert!(replies(&ctx).is_empty());
    }

    #[test]
    fn non_strict_commits_locally_without_a_connected_standby() {
        let mut s = sync(StandbyRule::Any(1));
        s.strict = false;
        s.wal_sender_timeout = SimDuration::from_secs(5);
        let (mut p, mut ctx) = primary(s.clone());
        // Silent for exactly wal_sender_timeout: still connected, so the write waits.
        ctx.at(SimTime::from_secs(5));
        write(&mut p, &mut ctx, 0);
        assert!(replies(&ctx).is_empty());
        ctx.sent.clear();
        ctx.at(ms(5001));
        write(&mut p, &mut ctx, 1);
        let rep = Msg::Replicate { epoch: 1, lsn: 2 };
        let expected = vec![(S1, rep), (S2, rep), committed(0, 1, 1), committed(1, 1, 2)];
        assert_eq!(ctx.take_sent(), expected);

        // A primary promoted with no replica at all commits at once.
        let (mut n, mut ctx) = standby(s, 1);
        n.on_message(MON, promote(2, 0), &mut ctx);
        ctx.sent.clear();
        write(&mut n, &mut ctx, 0);
        assert_eq!(ctx.take_sent(), vec![committed(0, 2, 1)]);
    }

    #[test]
    fn strict_blocks_without_a_connected_standby() {
        let mut s = sync(StandbyRule::Any(1));
        s.wal_sender_timeout = SimDuration::from_secs(5);
        let (mut p, mut ctx) = primary(s.clone());
        ctx.at(SimTime::from_secs(6));
        write(&mut p, &mut ctx, 0);
        write(&mut p, &mut ctx, 1);
        assert!(replies(&ctx).is_empty());
        ctx.sent.clear();
        // S1 reconnects by acknowledging: the quorum is met again.
        ctx.at(ms(6500));
        ack(&mut p, &mut ctx, S1, 1, 2);
        assert_eq!(
            ctx.take_sent(),
            vec![committed(0, 1, 1), committed(1, 1, 2)]
        );

        let (mut n, mut ctx) = standby(s, 1);
        n.on_message(MON, promote(2, 0), &mut ctx);
        write(&mut n, &mut ctx, 0);
        assert!(replies(&ctx).is_empty());
    }

    #[test]
    fn a_standby_silent_past_wal_sender_timeout_stops_counting() {
        let mut s = sync(StandbyRule::First(1));
        s.wal_sender_timeout = SimDuration::from_secs(5);
        let (mut p, mut ctx) = primary(s);
        ctx.at(SimTime::from_secs(1));
        write(&mut p, &mut ctx, 0);
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert!(replies(&ctx).is_empty(), "S1 has priority and is connected");
        ctx.at(SimTime::from_secs(5));
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert!(
            replies(&ctx).is_empty(),
            "S1 silent exactly the timeout is still connected"
        );
        ctx.sent.clear();
        ctx.at(ms(5001));
        ack(&mut p, &mut ctx, S2, 1, 1);
        assert_eq!(ctx.take_sent(), vec![committed(0, 1, 1)]);
    }

    #[test]
    fn replies_retrace_the_route_through_the_app() {
        let (mut p, mut ctx) = primary(asynchronous(SimDuration::ZERO));
        let route = Route { lb: 150, app: 200 };
        p.on_message(200, Msg::Request { op: op(4), route }, &mut ctx);
        let outcome = Outcome::Committed { epoch: 1, lsn: 1 };
        let reply = Msg::Reply {
            op: op(4),
            route,
            outcome,
        };
        assert_eq!(replies(&ctx), vec![(200, reply)]);

        let (mut r, mut ctx) = standby(asynchronous(SimDuration::ZERO), 1);
        r.on_message(200, Msg::Request { op: op(5), route }, &mut ctx);
        let reply = Msg::Reply {
            op: op(5),
            route,
            outcome: Outcome::Refused,
        };
        assert_eq!(ctx.take_sent(), vec![(200, reply)]);
        assert_eq!(r.log().last(), 0);
    }

    // ---- asynchronous shipping ----

    #[test]
    fn asynchronous_replies_at_once_and_ships_one_batch_per_interval() {
        let (mut p, mut ctx) = primary(asynchronous(SimDuration::from_millis(100)));
        for (seq, t) in [(0, 0), (1, 10), (2, 20)] {
            ctx.at(ms(t));
            write(&mut p, &mut ctx, seq);
        }
        let expected = vec![committed(0, 1, 1), committed(1, 1, 2), committed(2, 1, 3)];
        assert_eq!(ctx.take_sent(), expected);
        assert_eq!(
            ctx.timers,
            vec![(ms(100), Timer::ShipLog)],
            "armed once per batch"
        );
        ctx.at(ms(100));
        p.on_timer(Timer::ShipLog, &mut ctx);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 3,
        };
        assert_eq!(ctx.take_sent(), vec![(S1, ship), (S2, ship)]);
        // Nothing new: nothing shipped.
        ctx.at(ms(200));
        p.on_timer(Timer::ShipLog, &mut ctx);
        assert!(ctx.sent.is_empty());
        ctx.timers.clear();
        ctx.at(ms(250));
        write(&mut p, &mut ctx, 3);
        assert_eq!(ctx.take_sent(), vec![committed(3, 1, 4)]);
        assert_eq!(ctx.timers, vec![(ms(350), Timer::ShipLog)]);
        ctx.at(ms(350));
        p.on_timer(Timer::ShipLog, &mut ctx);
        let ship = Msg::Ship {
            epoch: 1,
            first: 4,
            last: 4,
        };
        assert_eq!(ctx.take_sent(), vec![(S1, ship), (S2, ship)]);
    }

    #[test]
    fn asynchronous_without_interval_ships_each_entry_at_once() {
        let (mut p, mut ctx) = primary(asynchronous(SimDuration::ZERO));
        write(&mut p, &mut ctx, 0);
        let rep = Msg::Replicate { epoch: 1, lsn: 1 };
        assert_eq!(
            ctx.take_sent(),
            vec![(S1, rep), (S2, rep), committed(0, 1, 1)]
        );
        assert!(ctx.timers.is_empty());
    }

    // ---- the replica side ----

    #[test]
    fn a_replica_reports_its_lag_from_its_last_replay_and_none_after_a_crash() {
        let (mut r, mut ctx) = standby(asynchronous(SimDuration::from_secs(1)), 1);
        let lag = |r: &Replica, at: u64| r.replication_lag(ms(at)).map(|d| d.0 / 1_000_000);
        assert_eq!(lag(&r, 50), None, "nothing replayed since it started");
        ctx.at(ms(100));
        let ship = |first, last| Msg::Ship {
            epoch: 1,
            first,
            last,
        };
        r.on_message(P, ship(1, 3), &mut ctx);
        assert_eq!(lag(&r, 400), Some(300));
        // A batch after a gap is not replayed (the replica asks to rejoin): the lag grows.
        ctx.at(ms(1_100));
        r.on_message(P, ship(6, 8), &mut ctx);
        assert_eq!(lag(&r, 1_500), Some(1_400));
        r.crash();
        assert_eq!(lag(&r, 1_600), None, "volatile: gone with the process");
        let (p, _) = primary(asynchronous(SimDuration::from_secs(1)));
        assert_eq!(lag(&p, 9_000), Some(0), "a primary reports 0");
    }

    #[test]
    fn a_replica_applies_entries_in_order_and_acks_them() {
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 1 }, &mut ctx);
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 2 }, &mut ctx);
        let ship = Msg::Ship {
            epoch: 1,
            first: 3,
            last: 5,
        };
        r.on_message(P, ship, &mut ctx);
        let expected = vec![
            (P, Msg::ReplicateAck { epoch: 1, lsn: 1 }),
            (P, Msg::ReplicateAck { epoch: 1, lsn: 2 }),
            (P, Msg::ReplicateAck { epoch: 1, lsn: 5 }),
        ];
        assert_eq!(ctx.take_sent(), expected);
        assert_eq!((r.log().segments(), r.log().last()), (&[(1, 1)][..], 5));
        // A duplicate of an entry it holds is acknowledged and changes nothing.
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 4 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(P, Msg::ReplicateAck { epoch: 1, lsn: 4 })]
        );
        assert_eq!(r.log().last(), 5);
        assert!(ctx.notes.is_empty());
    }

    #[test]
    fn a_replica_asks_to_rejoin_on_a_gap_and_waits_for_the_catch_up() {
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 1 }, &mut ctx);
        ctx.sent.clear();
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 4 }, &mut ctx);
        assert_eq!(ctx.take_sent(), vec![(P, Msg::Rejoin { lsn: 1 })]);
        assert_eq!(r.log().last(), 1);
        // While catching up, streamed entries are ignored: the catch-up covers them.
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 5 }, &mut ctx);
        let ship = Msg::Ship {
            epoch: 1,
            first: 6,
            last: 7,
        };
        r.on_message(P, ship, &mut ctx);
        assert!(ctx.sent.is_empty());
        assert_eq!(r.log().last(), 1);
        let catch_up = Msg::CatchUp {
            epoch: 1,
            first: 1,
            last: 7,
            done: true,
        };
        r.on_message(P, catch_up, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(P, Msg::ReplicateAck { epoch: 1, lsn: 7 })]
        );
        assert_eq!((r.log().segments(), r.log().last()), (&[(1, 1)][..], 7));
        assert!(ctx.notes.is_empty(), "nothing was rewound");
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 8 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(P, Msg::ReplicateAck { epoch: 1, lsn: 8 })]
        );
    }

    #[test]
    fn a_replica_rewinds_a_divergent_suffix_streamed_over() {
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 5,
        };
        r.on_message(P, ship, &mut ctx);
        ctx.sent.clear();
        // The new primary of epoch 2 forked at lsn 3.
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 4 }, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::Rewound {
                lsn: 3,
                discarded: 2
            }]
        );
        assert_eq!(
            (r.log().segments(), r.log().last()),
            (&[(1, 1), (2, 4)][..], 4)
        );
        assert_eq!(r.epoch(), 2);
        assert_eq!(
            ctx.take_sent(),
            vec![(S2, Msg::ReplicateAck { epoch: 2, lsn: 4 })]
        );
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 5 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(S2, Msg::ReplicateAck { epoch: 2, lsn: 5 })]
        );
        assert_eq!(ctx.notes.len(), 1);
    }

    /// Standby S1 holding entries 1..=5 of epoch 1, its acknowledgement cleared.
    fn standby_with_five_entries() -> (Replica, Recorder) {
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 5,
        };
        r.on_message(P, ship, &mut ctx);
        ctx.sent.clear();
        (r, ctx)
    }

    /// The monitor tells `r` to follow `primary` of `epoch`.
    fn follow(r: &mut Replica, ctx: &mut Recorder, epoch: Epoch, primary: NodeId) {
        r.on_message(MON, Msg::Follow { epoch, primary }, ctx);
    }

    /// The five-entry standby after a stale Follow, one naming itself, then one to S2 in
    /// epoch 2 (whose history forked at LSN 3); its Rejoin is still recorded.
    fn catching_up_from_s2() -> (Replica, Recorder) {
        let (mut r, mut ctx) = standby_with_five_entries();
        follow(&mut r, &mut ctx, 0, S2);
        follow(&mut r, &mut ctx, 1, S1);
        follow(&mut r, &mut ctx, 2, S2);
        (r, ctx)
    }

    /// The first, unfinished segment of S2's catch-up: entries 1..=3 of epoch 1.
    const FIRST_PART: Msg = Msg::CatchUp {
        epoch: 1,
        first: 1,
        last: 3,
        done: false,
    };

    #[test]
    fn a_stale_follow_or_one_naming_the_node_itself_changes_nothing() {
        let (mut r, mut ctx) = standby_with_five_entries();
        // A stale Follow is ignored; naming this node itself changes nothing but the epoch.
        follow(&mut r, &mut ctx, 0, S2);
        follow(&mut r, &mut ctx, 1, S1);
        assert!(ctx.sent.is_empty());
        assert_eq!(r.epoch(), 1);
    }

    #[test]
    fn follow_asks_to_rejoin_and_waits_for_the_whole_catch_up() {
        let (mut r, mut ctx) = catching_up_from_s2();
        assert_eq!(ctx.take_sent(), vec![(S2, Msg::Rejoin { lsn: 5 })]);
        assert_eq!(r.epoch(), 2);
        assert!(!r.is_primary() && ctx.notes.is_empty());
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 5 }, &mut ctx);
        assert!(ctx.sent.is_empty(), "ignored while catching up");
        r.on_message(S2, FIRST_PART, &mut ctx);
        assert!(ctx.sent.is_empty() && ctx.notes.is_empty());
        assert_eq!(r.log().last(), 5, "installed only when complete");
    }

    #[test]
    fn a_complete_catch_up_installs_the_new_log_and_rewinds_the_divergence() {
        let (mut r, mut ctx) = catching_up_from_s2();
        ctx.take_sent();
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 5 }, &mut ctx);
        r.on_message(S2, FIRST_PART, &mut ctx);
        let end = Msg::CatchUp {
            epoch: 2,
            first: 4,
            last: 5,
            done: true,
        };
        r.on_message(S2, end, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::Rewound {
                lsn: 3,
                discarded: 2
            }]
        );
        assert_eq!(
            (r.log().segments(), r.log().last()),
            (&[(1, 1), (2, 4)][..], 5)
        );
        assert_eq!(
            ctx.take_sent(),
            vec![(S2, Msg::ReplicateAck { epoch: 2, lsn: 5 })]
        );
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 6 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(S2, Msg::ReplicateAck { epoch: 2, lsn: 6 })]
        );
    }

    #[test]
    fn a_replica_catching_up_from_a_deposed_primary_rejoins_the_new_one() {
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 1 }, &mut ctx);
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 3 }, &mut ctx);
        assert_eq!(ctx.sent.last(), Some(&(P, Msg::Rejoin { lsn: 1 })));
        ctx.sent.clear();
        // P dies before answering; S2 (which had lsn 2) leads epoch 2 and streams lsn 3. No
        // catch-up will ever come from P: the replica must ask S2.
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 3 }, &mut ctx);
        assert_eq!(r.epoch(), 2);
        assert_eq!(ctx.take_sent(), vec![(S2, Msg::Rejoin { lsn: 1 })]);
    }

    #[test]
    fn a_primary_answers_rejoin_with_its_segments_and_streams_to_the_member() {
        // An empty log is one empty, final segment.
        let (mut p, mut ctx) = primary(sync(StandbyRule::Any(1)));
        p.on_message(S1, Msg::Rejoin { lsn: 0 }, &mut ctx);
        let empty = Msg::CatchUp {
            epoch: 1,
            first: 1,
            last: 0,
            done: true,
        };
        assert_eq!(ctx.take_sent(), vec![(S1, empty)]);

        let (mut n, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 2,
        };
        n.on_message(P, ship, &mut ctx);
        n.on_message(MON, promote(2, 0b100), &mut ctx);
        ctx.sent.clear();
        write(&mut n, &mut ctx, 0);
        assert_eq!(
            ctx.take_sent(),
            vec![(S2, Msg::Replicate { epoch: 2, lsn: 3 })]
        );
        n.on_message(P, Msg::Rejoin { lsn: 7 }, &mut ctx);
        let old = Msg::CatchUp {
            epoch: 1,
            first: 1,
            last: 2,
            done: false,
        };
        let new = Msg::CatchUp {
            epoch: 2,
            first: 3,
            last: 3,
            done: true,
        };
        assert_eq!(ctx.take_sent(), vec![(P, old), (P, new)]);
        write(&mut n, &mut ctx, 1);
        let rep = Msg::Replicate { epoch: 2, lsn: 4 };
        assert_eq!(ctx.take_sent(), vec![(P, rep), (S2, rep)]);
        // Not a member: ignored.
        n.on_message(99, Msg::Rejoin { lsn: 0 }, &mut ctx);
        assert!(ctx.sent.is_empty());
    }

    // ---- fencing ----

    #[test]
    fn epoch_fencing_refuses_the_old_primary_which_steps_down() {
        let (mut p, mut ctx) = primary(sync(StandbyRule::Any(1)));
        write(&mut p, &mut ctx, 0);
        ctx.sent.clear();

        let (mut r, mut rctx) = standby(sync(StandbyRule::Any(1)), 1);
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 1 }, &mut rctx);
        assert_eq!(
            rctx.take_sent(),
            vec![(S2, Msg::ReplicateAck { epoch: 2, lsn: 1 })]
        );
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 1 }, &mut rctx);
        assert_eq!(rctx.take_sent(), vec![(P, Msg::Fenced { epoch: 2 })]);
        assert_eq!((r.log().segments(), r.log().last()), (&[(2, 1)][..], 1));

        // A Fenced that is not newer than the primary's epoch is ignored.
        p.on_message(S1, Msg::Fenced { epoch: 1 }, &mut ctx);
        assert!(p.is_primary() && ctx.notes.is_empty() && ctx.sent.is_empty());
        p.on_message(S1, Msg::Fenced { epoch: 2 }, &mut ctx);
        assert!(!p.is_primary());
        assert_eq!(p.epoch(), 2);
        let demoted = Note::Demoted {
            epoch: 1,
            reason: DemoteReason::FencedByReplica,
        };
        assert_eq!(ctx.notes, vec![demoted]);
        assert_eq!(
            ctx.take_sent(),
            vec![refused(0)],
            "the waiting client is told at once"
        );
        write(&mut p, &mut ctx, 1);
        assert_eq!(ctx.take_sent(), vec![refused(1)]);
        assert_eq!(p.log().last(), 1);
    }

    #[test]
    fn without_epoch_fencing_a_replica_accepts_an_older_epoch() {
        let mut s = sync(StandbyRule::Any(1));
        s.epoch_fencing = false;
        let (mut r, mut ctx) = standby(s, 1);
        r.on_message(S2, Msg::Replicate { epoch: 2, lsn: 1 }, &mut ctx);
        ctx.sent.clear();
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 2 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(P, Msg::ReplicateAck { epoch: 1, lsn: 2 })]
        );
        assert_eq!(
            (r.log().segments(), r.log().last()),
            (&[(2, 1), (1, 2)][..], 2)
        );
        assert_eq!(r.epoch(), 2);
    }

    #[test]
    fn a_primary_without_lease_renewals_demotes_itself_at_expiry() {
        let mut s = asynchronous(SimDuration::ZERO);
        s.lease = Some(SimDuration::from_secs(3));
        let (mut p, mut ctx) = start_with(s, 0, None);
        assert!(p.is_primary());
        assert_eq!(
            ctx.timers,
            vec![(SimTime::from_secs(3), Timer::LeaseExpiry)]
        );
        ctx.notes.clear();
        ctx.at(ms(2999));
        write(&mut p, &mut ctx, 0);
        assert_eq!(replies(&ctx), vec![committed(0, 1, 1)]);
        ctx.sent.clear();
        ctx.at(SimTime::from_secs(3));
        p.on_timer(Timer::LeaseExpiry, &mut ctx);
        assert!(!p.is_primary());
        let demoted = Note::Demoted {
            epoch: 1,
            reason: DemoteReason::LeaseExpired,
        };
        assert_eq!(ctx.notes, vec![demoted]);
        write(&mut p, &mut ctx, 1);
        assert_eq!(ctx.take_sent(), vec![refused(1)]);
    }

    #[test]
    fn a_renewed_lease_keeps_the_primary_until_renewals_stop() {
        let mut s = asynchronous(SimDuration::ZERO);
        s.lease = Some(SimDuration::from_secs(3));
        let (mut p, mut ctx) = start_with(s, 0, None);
        ctx.notes.clear();
        ctx.timers.clear();
        // Renewed sent at 2 s: valid until 5 s, measured from when the grant was sent.
        ctx.at(ms(2050));
        p.on_message(MON, Msg::LeaseGranted { sent_at: ms(2000) }, &mut ctx);
        assert_eq!(ctx.timers, vec![(ms(5000), Timer::LeaseExpiry)]);
        // An older grant does not shorten the lease nor arm a timer.
        p.on_message(MON, Msg::LeaseGranted { sent_at: ms(1000) }, &mut ctx);
        assert_eq!(ctx.timers.len(), 1);
        ctx.at(ms(3000));
        p.on_timer(Timer::LeaseExpiry, &mut ctx); // the first lease's timer
        assert!(p.is_primary() && ctx.notes.is_empty());
        ctx.at(ms(4050));
        p.on_message(MON, Msg::LeaseGranted { sent_at: ms(4000) }, &mut ctx);
        assert_eq!(ctx.timers[1], (ms(7000), Timer::LeaseExpiry));
        ctx.at(ms(5000));
        p.on_timer(Timer::LeaseExpiry, &mut ctx);
        assert!(p.is_primary() && ctx.notes.is_empty());
        ctx.at(ms(6999));
        write(&mut p, &mut ctx, 0);
        assert_eq!(replies(&ctx), vec![committed(0, 1, 1)]);
        ctx.at(ms(7000));
        p.on_timer(Timer::LeaseExpiry, &mut ctx);
        assert!(!p.is_primary());
        let demoted = Note::Demoted {
            epoch: 1,
            reason: DemoteReason::LeaseExpired,
        };
        assert_eq!(ctx.notes, vec![demoted]);
    }

    #[test]
    fn demote_steps_the_primary_down_and_refuses_waiting_writes() {
        let (mut p, mut ctx) = primary(sync(StandbyRule::Any(1)));
        write(&mut p, &mut ctx, 0);
        ctx.sent.clear();
        p.on_message(MON, Msg::Demote { epoch: 2 }, &mut ctx);
        assert!(!p.is_primary());
        assert_eq!(p.epoch(), 2);
        assert_eq!(ctx.take_sent(), vec![refused(0)]);
        let demoted = Note::Demoted {
            epoch: 1,
            reason: DemoteReason::DemotedByController,
        };
        assert_eq!(ctx.notes, vec![demoted]);

        // A Demote from an older epoch leaves a newer primary alone.
        let (mut n, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        n.on_message(MON, promote(2, 0b101), &mut ctx);
        ctx.notes.clear();
        n.on_message(MON, Msg::Demote { epoch: 1 }, &mut ctx);
        assert!(n.is_primary() && ctx.notes.is_empty());
    }

    // ---- promotion and queries ----

    #[test]
    fn promote_makes_a_replica_primary_of_the_new_epoch_and_tells_subscribers() {
        let (mut n, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 2,
        };
        n.on_message(P, ship, &mut ctx);
        ctx.sent.clear();
        n.on_message(MON, promote(2, 0b101), &mut ctx);
        assert!(n.is_primary());
        assert_eq!(n.epoch(), 2);
        assert_eq!(ctx.notes, vec![Note::Promoted { epoch: 2 }]);
        assert_eq!(ctx.take_sent(), vec![(SUB, Msg::NewPrimary { epoch: 2 })]);
        write(&mut n, &mut ctx, 0);
        let rep = Msg::Replicate { epoch: 2, lsn: 3 };
        assert_eq!(ctx.take_sent(), vec![(P, rep), (S2, rep)]);
        ack(&mut n, &mut ctx, P, 1, 3);
        assert!(
            ctx.sent.is_empty(),
            "an ack of another epoch does not count"
        );
        ack(&mut n, &mut ctx, S2, 2, 3);
        assert_eq!(ctx.take_sent(), vec![committed(0, 2, 3)]);
        assert_eq!(n.log().segments(), &[(1, 1), (2, 3)]);
        assert_eq!(n.commit_spans()[0].epoch, 2);
        // A stale promotion is ignored.
        n.on_message(MON, promote(1, 0b111), &mut ctx);
        assert!(ctx.sent.is_empty());
        assert_eq!((n.epoch(), ctx.notes.len()), (2, 1));
    }

    #[test]
    fn lsn_query_and_probe_are_answered_with_position_and_role() {
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 3,
        };
        r.on_message(P, ship, &mut ctx);
        ctx.sent.clear();
        r.on_message(MON, Msg::LsnQuery { round: 7 }, &mut ctx);
        r.on_message(300, Msg::Probe { round: 4 }, &mut ctx);
        let expected = vec![
            (
                MON,
                Msg::LsnReply {
                    round: 7,
                    lsn: 3,
                    epoch: 1,
                },
            ),
            (
                300,
                Msg::ProbeReply {
                    round: 4,
                    primary: false,
                },
            ),
        ];
        assert_eq!(ctx.take_sent(), expected);

        let (mut p, mut ctx) = primary(sync(StandbyRule::Any(1)));
        p.on_message(300, Msg::Probe { round: 5 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(
                300,
                Msg::ProbeReply {
                    round: 5,
                    primary: true
                }
            )]
        );
    }

    #[test]
    fn heartbeats_report_position_epoch_and_whom_the_node_follows() {
        let plan = HeartbeatPlan {
            monitor: MON,
            interval: SimDuration::from_secs(1),
            phase: Phase::Fixed(SimDuration::from_millis(500)),
            index: 0,
        };
        let (mut p, mut ctx) = start_with(asynchronous(SimDuration::ZERO), 0, Some(plan));
        assert_eq!(ctx.timers, vec![(ms(500), Timer::Heartbeat)]);
        write(&mut p, &mut ctx, 0);
        ctx.sent.clear();
        ctx.at(ms(500));
        p.on_timer(Timer::Heartbeat, &mut ctx);
        let beat = Msg::Heartbeat {
            sent_at: ms(500),
            lsn: 1,
            epoch: 1,
            following: P,
        };
        assert_eq!(ctx.take_sent(), vec![(MON, beat)]);
        assert_eq!(ctx.timers.last(), Some(&(ms(1500), Timer::Heartbeat)));

        let (mut r, mut ctx) = start_with(asynchronous(SimDuration::ZERO), 2, Some(plan));
        ctx.at(ms(500));
        r.on_timer(Timer::Heartbeat, &mut ctx);
        let beat = Msg::Heartbeat {
            sent_at: ms(500),
            lsn: 0,
            epoch: 1,
            following: P,
        };
        assert_eq!(ctx.take_sent(), vec![(MON, beat)]);
        // After a crash and restart it follows nobody until told.
        r.crash();
        ctx.at(ms(4000));
        r.restart(&mut ctx);
        assert_eq!(ctx.timers.last(), Some(&(ms(4500), Timer::Heartbeat)));
        ctx.at(ms(4500));
        r.on_timer(Timer::Heartbeat, &mut ctx);
        let beat = Msg::Heartbeat {
            sent_at: ms(4500),
            lsn: 0,
            epoch: 1,
            following: NO_NODE,
        };
        assert_eq!(ctx.take_sent(), vec![(MON, beat)]);
    }

    // ---- corruption, freezing and restore ----

    const RUNBOOK: NodeId = 80;

    fn integrity(node: &mut Replica, ctx: &mut Recorder, full: bool) -> Msg {
        node.on_message(RUNBOOK, Msg::IntegrityQuery { full }, ctx);
        let (to, msg) = ctx.sent.pop().expect("an answer");
        assert_eq!(to, RUNBOOK);
        msg
    }

    /// A primary that committed `good` client writes (seq 0..good) and then a bad
    /// transaction damaging `ppm` of the rows, which every member knows about.
    fn corrupted(good: u32, ppm: u32) -> (Replica, Recorder, BadTransaction) {
        let (mut p, mut ctx) = primary(asynchronous(SimDuration::ZERO));
        for seq in 0..good {
            write(&mut p, &mut ctx, seq);
        }
        let (epoch, lsn) = p.commit_internal(&mut ctx).expect("primary");
        assert_eq!((epoch, lsn), (1, good as Lsn + 1));
        let bad = BadTransaction { lsn, epoch, ppm };
        p.know_bad_transaction(bad);
        p.know_bad_transaction(bad);
        ctx.sent.clear();
        (p, ctx, bad)
    }

    #[test]
    fn a_frozen_primary_refuses_writes_until_thawed() {
        let (mut p, mut ctx) = primary(asynchronous(SimDuration::ZERO));
        write(&mut p, &mut ctx, 0);
        ctx.sent.clear();
        p.on_message(RUNBOOK, Msg::Freeze { on: true }, &mut ctx);
        write(&mut p, &mut ctx, 1);
        assert_eq!(ctx.take_sent(), vec![refused(1)]);
        assert_eq!(p.log().last(), 1);
        assert!(p.is_primary(), "frozen, not demoted");
        p.on_message(RUNBOOK, Msg::Freeze { on: false }, &mut ctx);
        write(&mut p, &mut ctx, 2);
        assert_eq!(replies(&ctx), vec![committed(2, 1, 2)]);
    }

    #[test]
    fn writes_on_damaged_rows_fail_and_the_first_failure_is_remembered() {
        let ppm = 250_000;
        let (mut p, mut ctx, bad) = corrupted(3, ppm);
        assert_eq!(p.damage(), Some(bad));
        assert_eq!(
            integrity(&mut p, &mut ctx, true),
            Msg::IntegrityReport {
                bad_lsn: 4,
                epoch: 1,
                primary: true,
                first_error: SimTime::MAX
            },
            "no query has failed yet"
        );
        let mut lsn = 4;
        let mut first_error = None;
        for seq in 10..200 {
            let t = ms(1000 + seq as u64);
            ctx.at(t);
            write(&mut p, &mut ctx, seq);
            let expected = if touches(CLIENT, seq, ppm) {
                first_error.get_or_insert(t);
                refused(seq)
            } else {
                lsn += 1;
                committed(seq, 1, lsn)
            };
            assert_eq!(replies(&ctx), vec![expected], "seq {seq}");
            ctx.sent.clear();
        }
        let first_error = first_error.expect("a quarter of 190 keys includes one");
        assert_eq!(p.log().last(), lsn);
        assert!(lsn > 4 + 100, "most writes commit");
        // A cheap scrape reports the first error but runs no check; a full check finds both.
        assert_eq!(
            integrity(&mut p, &mut ctx, false),
            Msg::IntegrityReport {
                bad_lsn: 0,
                epoch: 1,
                primary: true,
                first_error
            }
        );
        assert_eq!(
            integrity(&mut p, &mut ctx, true),
            Msg::IntegrityReport {
                bad_lsn: 4,
                epoch: 1,
                primary: true,
                first_error
            }
        );
    }

    #[test]
    fn a_member_without_the_bad_entry_has_no_damage_to_report() {
        let bad = BadTransaction {
            lsn: 3,
            epoch: 1,
            ppm: 1_000_000,
        };
        let (mut r, mut ctx) = standby(asynchronous(SimDuration::ZERO), 1);
        r.know_bad_transaction(bad);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 2,
        };
        r.on_message(P, ship, &mut ctx);
        ctx.sent.clear();
        let clean = Msg::IntegrityReport {
            bad_lsn: 0,
            epoch: 1,
            primary: false,
            first_error: SimTime::MAX,
        };
        assert_eq!(integrity(&mut r, &mut ctx, true), clean);
        r.on_message(P, Msg::Replicate { epoch: 1, lsn: 3 }, &mut ctx);
        ctx.sent.clear();
        assert_eq!(
            integrity(&mut r, &mut ctx, true),
            Msg::IntegrityReport {
                bad_lsn: 3,
                epoch: 1,
                primary: false,
                first_error: SimTime::MAX
            },
            "it replicated"
        );
    }

    #[test]
    fn a_restore_install_replaces_the_log_bumps_the_epoch_and_demotes_the_primary() {
        let ppm = 1_000_000;
        let (mut p, mut ctx, _) = corrupted(5, ppm);
        ctx.at(ms(1000));
        write(&mut p, &mut ctx, 7);
        assert_eq!(ctx.take_sent(), vec![refused(7)]);
        p.on_message(RUNBOOK, Msg::Freeze { on: true }, &mut ctx);
        // Segments of the restored data, then the install (up to 4: entry 5 is cut off).
        for (epoch, first, last) in [(1, 1, 2), (1, 3, 5)] {
            let seg = Msg::RestoreSegment { epoch, first, last };
            p.on_message(RUNBOOK, seg, &mut ctx);
        }
        assert!(
            p.is_primary() && ctx.sent.is_empty(),
            "nothing before the install"
        );
        // An install that is not a newer timeline is ignored.
        p.on_message(RUNBOOK, Msg::RestoreInstall { epoch: 1, lsn: 4 }, &mut ctx);
        assert!(p.is_primary() && ctx.sent.is_empty());
        p.on_message(RUNBOOK, Msg::RestoreInstall { epoch: 3, lsn: 4 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(RUNBOOK, Msg::RestoreInstalled { epoch: 3 })]
        );
        assert_eq!(
            ctx.notes,
            vec![Note::Demoted {
                epoch: 1,
                reason: DemoteReason::Restored
            }]
        );
        assert!(!p.is_primary());
        assert_eq!(p.epoch(), 3);
        assert_eq!((p.log().segments(), p.log().last()), (&[(1, 1)][..], 4));
        // The runbook installs again (its acknowledgement was lost): answered, nothing redone.
        p.on_message(RUNBOOK, Msg::RestoreInstall { epoch: 3, lsn: 4 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(RUNBOOK, Msg::RestoreInstalled { epoch: 3 })]
        );
        assert_eq!(p.log().last(), 4);
        assert_eq!(p.damage(), None, "restored from before the bad transaction");
        assert_eq!(
            integrity(&mut p, &mut ctx, true),
            Msg::IntegrityReport {
                bad_lsn: 0,
                epoch: 3,
                primary: false,
                first_error: SimTime::MAX
            },
            "the old errors are forgotten"
        );
        // Appointed on the new timeline: thawed, it writes after the recovery point.
        p.on_message(MON, promote(3, 0b110), &mut ctx);
        ctx.sent.clear();
        write(&mut p, &mut ctx, 8);
        assert_eq!(replies(&ctx), vec![committed(8, 3, 5)]);
        assert_eq!(p.log().segments(), &[(1, 1), (3, 5)]);
    }

    #[test]
    fn a_restore_install_rebuilds_a_standby_from_the_first_segment() {
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        let ship = Msg::Ship {
            epoch: 1,
            first: 1,
            last: 9,
        };
        r.on_message(P, ship, &mut ctx);
        // A first attempt's segments, abandoned, then a complete set from LSN 1.
        let seg = |epoch, first, last| Msg::RestoreSegment { epoch, first, last };
        r.on_message(RUNBOOK, seg(2, 1, 7), &mut ctx);
        r.on_message(RUNBOOK, seg(1, 1, 3), &mut ctx);
        r.on_message(RUNBOOK, seg(2, 4, 6), &mut ctx);
        ctx.sent.clear();
        r.on_message(RUNBOOK, Msg::RestoreInstall { epoch: 4, lsn: 6 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(RUNBOOK, Msg::RestoreInstalled { epoch: 4 })]
        );
        assert!(
            ctx.notes.is_empty(),
            "a standby has nothing to step down from"
        );
        assert_eq!(
            (r.log().segments(), r.log().last(), r.epoch()),
            (&[(1, 1), (2, 4)][..], 6, 4)
        );
    }

    #[test]
    fn an_internal_transaction_is_never_answered() {
        // Synchronous: it waits for the quorum like any write, then commits silently.
        let (mut p, mut ctx) = primary(sync(StandbyRule::Any(1)));
        assert_eq!(p.commit_internal(&mut ctx), Some((1, 1)));
        let rep = Msg::Replicate { epoch: 1, lsn: 1 };
        assert_eq!(ctx.take_sent(), vec![(S1, rep), (S2, rep)]);
        write(&mut p, &mut ctx, 0);
        ctx.sent.clear();
        ack(&mut p, &mut ctx, S1, 1, 2);
        assert_eq!(ctx.take_sent(), vec![committed(0, 1, 2)]);
        assert_eq!(p.commit_spans()[0].commits, 2);
        // Demoted with it pending: nobody is told either.
        assert_eq!(p.commit_internal(&mut ctx), Some((1, 3)));
        ctx.sent.clear();
        p.on_message(MON, Msg::Demote { epoch: 2 }, &mut ctx);
        assert!(ctx.sent.is_empty());
        // Even on damaged rows, with every row damaged.
        let (mut p, mut ctx, _) = corrupted(0, 1_000_000);
        assert_eq!(p.commit_internal(&mut ctx), Some((1, 2)));
        let rep = Msg::Replicate { epoch: 1, lsn: 2 };
        assert_eq!(ctx.take_sent(), vec![(S1, rep), (S2, rep)]);
        assert_eq!(
            integrity(&mut p, &mut ctx, false),
            Msg::IntegrityReport {
                bad_lsn: 0,
                epoch: 1,
                primary: true,
                first_error: SimTime::MAX
            },
            "an internal transaction is no user error"
        );
        // A standby commits nothing.
        let (mut r, mut ctx) = standby(sync(StandbyRule::Any(1)), 1);
        assert_eq!(r.commit_internal(&mut ctx), None);
        assert!(ctx.sent.is_empty() && r.log().last() == 0);
    }

    #[test]
    fn a_frozen_primary_commits_no_internal_transaction_either() {
        let (mut p, mut ctx) = primary(asynchronous(SimDuration::ZERO));
        write(&mut p, &mut ctx, 0);
        p.on_message(RUNBOOK, Msg::Freeze { on: true }, &mut ctx);
        ctx.sent.clear();
        // Refused like any write: it must not claim the last client write's position.
        assert_eq!(p.commit_internal(&mut ctx), None);
        assert_eq!(p.log().last(), 1);
        assert!(ctx.sent.is_empty());
    }
}

//! The monitor and failover controller.
//!
//! A [`Monitor`] holds the leases of the nodes it watches (see [`LeaseTable`]) and runs a loop
//! every `loop_wait`. A monitor that controls a database cluster also runs failover, the way
//! Patroni does over its DCS:
//!
//! 1. **Detect**: the primary's lease ran out (`ttl`).
//! 2. **Ask**: query every member not known dead for its last LSN.
//! 3. **Choose**: the most advanced *eligible* member — within `maximum_lag_on_failover` of
//!    the last LSN the primary reported, and with `synchronous_mode` only a member that could
//!    have been a synchronous standby (another zone than the old primary). Ties go to the
//!    earlier member in the topology.
//! 4. **Promote** it in a new epoch, naming the members it believes alive as its replicas.
//! 5. **Fence** the old primary: by epoch (replicas refuse its entries), by lease (it stops
//!    itself when its lease is not renewed) and, optionally, by a `Demote` message.
//!
//! Replies that do not come back by the next loop are given up on: the controller decides
//! with what it has, as Patroni's loop would.

use super::lease::LeaseTable;
use super::periodic::Phase;
use super::replication::{ClusterSpec, ReplicationMode};
use super::{Context, Epoch, Lsn, ManualRefusal, MemberSet, Msg, NodeId, Note, Timer};
use crate::sim::time::SimDuration;
use std::sync::Arc;

/// How a controlling monitor fails a cluster over.
#[derive(Clone, Debug)]
pub struct FailoverPolicy {
    pub cluster: Arc<ClusterSpec>,
    /// Members more than this many log entries behind the last LSN the primary reported are
    /// not promoted (Patroni counts bytes; one entry is one write here).
    pub maximum_lag_on_failover: u64,
    /// Promote only members that could have been synchronous standbys.
    pub synchronous_mode: bool,
    /// Renew the primary's lease on each heartbeat (the primary fences itself without it).
    pub lease_fencing: bool,
    /// Send the old primary a `Demote` on promotion (STONITH by message).
    pub demote_old_primary: bool,
}

#[derive(Clone, Debug)]
pub struct MonitorSpec {
    pub ttl: SimDuration,
    pub loop_wait: SimDuration,
    pub check_phase: Phase,
    pub watched: Vec<NodeId>,
    pub failover: Option<FailoverPolicy>,
}

#[derive(Debug)]
struct Round {
    id: u32,
    asked: MemberSet,
    replies: Vec<Option<Lsn>>,
}

pub struct Monitor {
    spec: Arc<MonitorSpec>,
    leases: LeaseTable,
    /// Controller state (meaningful only with a failover policy).
    epoch: Epoch,
    primary: usize,
    primary_lsn: Lsn,
    failing_over: bool,
    round: Option<Round>,
    next_round: u32,
    /// Each member's log position in its latest heartbeat: what `patronictl list` shows, and
    /// what an operator promoting by hand weighs.
    member_lsn: Vec<Lsn>,
}

impl Monitor {
    pub fn new(spec: Arc<MonitorSpec>, node_count: usize) -> Self {
        let leases = LeaseTable::new(spec.ttl, spec.watched.clone(), node_count);
        let primary = spec
            .failover
            .as_ref()
            .map(|f| f.cluster.initial_primary)
            .unwrap_or(0);
        Monitor {
            spec,
            leases,
            epoch: 1,
            primary,
            primary_lsn: 0,
            failing_over: false,
            round: None,
            next_round: 0,
            member_lsn: Vec::new(),
        }
    }

    /// The epoch and member index of the primary this controller last appointed.
    pub fn current_primary(&self) -> (Epoch, usize) {
        (self.epoch, self.primary)
    }

    /// The monitor process crashed: a failover in progress is lost; the epoch and the
    /// appointed primary are durable (they live in the DCS). Lease observations restart
    /// when the monitor does (see [`Monitor::start`]).
    pub fn crash(&mut self) {
        self.round = None;
        self.failing_over = false;
    }

    pub fn start(&mut self, ctx: &mut impl Context) {
        // After a restart nothing has been heard yet: every lease gets a full ttl of grace,
        // or the monitor would depose a healthy primary the moment it comes back.
        self.leases.restart(ctx.now());
        let first = self
            .spec
            .check_phase
            .first_offset(self.spec.loop_wait, 0, ctx.rng());
        ctx.set_timer(first, Timer::Check);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        if timer != Timer::Check {
            return;
        }
        let now = ctx.now();
        let mut primary_died = false;
        let primary_node = self.primary_node();
        self.leases.check(now, |node, dead| {
            if dead && Some(node) == primary_node {
                primary_died = true;
            }
        });
        if primary_died {
            ctx.note(Note::Detected {
                node: primary_node.unwrap_or_default(),
            });
            self.failing_over = true;
        }
        if self.failing_over {
            match self.round.take() {
                Some(round) => self.decide(round, ctx),
                None => self.ask(ctx),
            }
        }
        ctx.set_timer(self.spec.loop_wait, Timer::Check);
    }

    fn primary_node(&self) -> Option<NodeId> {
        self.spec
            .failover
            .as_ref()
            .map(|f| f.cluster.members[self.primary])
    }

    fn ask(&mut self, ctx: &mut impl Context) {
        let Some(policy) = &self.spec.failover else {
            return;
        };
        let cluster = &policy.cluster;
        let old_zone = cluster.member_zone[self.primary];
        let sync =
            policy.synchronous_mode && matches!(cluster.mode, ReplicationMode::Synchronous(_));
        let mut asked: MemberSet = 0;
        for (m, &node) in cluster.members.iter().enumerate() {
            let eligible = m != self.primary
                && !self.leases.is_dead(node)
                && !(sync && cluster.member_zone[m] == old_zone);
            if eligible {
                asked |= 1 << m;
            }
        }
        if asked == 0 {
            ctx.note(Note::NoCandidate);
            return;
        }
        self.next_round += 1;
        let id = self.next_round;
        for (m, &node) in cluster.members.iter().enumerate() {
            if asked & (1 << m) != 0 {
                ctx.send(node, Msg::LsnQuery { round: id });
            }
        }
        self.round = Some(Round {
            id,
            asked,
            replies: vec![None; cluster.members.len()],
        });
    }

    fn decide(&mut self, round: Round, ctx: &mut impl Context) {
        let Some(policy) = self.spec.failover.clone() else {
            return;
        };
        let cluster = &policy.cluster;
        // Under a synchronous quorum of k over the standbys S in other zones than the old
        // primary, a committed write is on at least k of S, so any `|S| − k + 1` replies include
        // one that holds it. S counts every such standby, reachable or not: one the controller
        // cannot hear may be the only holder of the latest commits (a partition between the
        // controller and the primary's region). With fewer replies, promoting could lose
        // acknowledged writes: wait and ask again. This is Patroni's quorum-failover rule; it
        // trades availability (no automatic failover) for no loss.
        if policy.synchronous_mode
            && let ReplicationMode::Synchronous(rule) = cluster.mode
        {
            let old_zone = cluster.member_zone[self.primary];
            let standbys = (0..cluster.members.len())
                .filter(|&m| m != self.primary && cluster.member_zone[m] != old_zone)
                .count();
            let replied = round.replies.iter().filter(|r| r.is_some()).count();
            if replied + rule.k() < standbys + 1 {
                ctx.note(Note::NoCandidate);
                return;
            }
        }
        let mut best: Option<(usize, Lsn)> = None;
        for (m, reply) in round.replies.iter().enumerate() {
            let Some(lsn) = *reply else { continue };
            if self.primary_lsn.saturating_sub(lsn) > policy.maximum_lag_on_failover {
                continue;
            }
            // Strictly greater: ties keep the earlier member.
            if best.is_none_or(|(_, b)| lsn > b) {
                best = Some((m, lsn));
            }
        }
        let Some((chosen, chosen_lsn)) = best else {
            ctx.note(Note::NoCandidate);
            return; // ask again next loop
        };
        self.promote(&policy, chosen, chosen_lsn, ctx);
    }

    /// Appoints member `chosen` (at `chosen_lsn`) primary of a new epoch, naming the members
    /// believed alive its replicas, and fences the old primary.
    fn promote(
        &mut self,
        policy: &FailoverPolicy,
        chosen: usize,
        chosen_lsn: Lsn,
        ctx: &mut impl Context,
    ) {
        let cluster = &policy.cluster;
        let old = self.primary;
        self.epoch += 1;
        self.primary = chosen;
        // Lag is judged against the new primary from now on, not the deposed one.
        self.primary_lsn = chosen_lsn;
        self.failing_over = false;
        let mut replicas: MemberSet = 0;
        for (m, &node) in cluster.members.iter().enumerate() {
            if m != chosen && m != old && !self.leases.is_dead(node) {
                replicas |= 1 << m;
            }
        }
        ctx.send(
            cluster.members[chosen],
            Msg::Promote {
                epoch: self.epoch,
                replicas,
            },
        );
        if policy.demote_old_primary {
            ctx.send(cluster.members[old], Msg::Demote { epoch: self.epoch });
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Heartbeat {
                sent_at,
                lsn,
                epoch,
                following,
            } => {
                self.leases.renew(from, ctx.now());
                self.on_member_heartbeat(from, sent_at, lsn, epoch, following, ctx);
            }
            Msg::LsnReply { round, lsn, .. } => {
                let Some(r) = &mut self.round else { return };
                if r.id != round {
                    return;
                }
                let Some(m) = self
                    .spec
                    .failover
                    .as_ref()
                    .and_then(|f| f.cluster.member_index(from))
                else {
                    return;
                };
                r.replies[m] = Some(lsn);
                let all =
                    (0..r.replies.len()).all(|i| r.asked & (1 << i) == 0 || r.replies[i].is_some());
                if all {
                    let round = self.round.take().expect("round checked above");
                    self.decide(round, ctx);
                }
            }
            Msg::ClusterQuery { token } => {
                let leader = self.has_leader();
                ctx.send(from, Msg::ClusterState { token, leader });
            }
            Msg::ManualFailover { candidates } => self.manual_failover(candidates, ctx),
            Msg::RestoreAppoint { epoch, primary } if epoch > self.epoch => {
                let Some(cluster) = self.spec.failover.as_ref().map(|f| f.cluster.clone()) else {
                    return;
                };
                let Some(m) = cluster.member_index(primary) else {
                    return;
                };
                self.epoch = epoch;
                self.primary = m;
                self.primary_lsn = 0;
                self.failing_over = false;
                self.round = None;
                ctx.send(
                    primary,
                    Msg::Promote {
                        epoch,
                        replicas: cluster.all_members() & !(1 << m),
                    },
                );
            }
            _ => {}
        }
    }

    /// Whether the cluster has a healthy leader: an appointed primary whose lease holds and
    /// no failover under way.
    fn has_leader(&self) -> bool {
        self.primary_node()
            .is_some_and(|p| !self.failing_over && !self.leases.is_dead(p))
    }

    /// `patronictl failover --candidate`: with the leader gone, promote the most advanced live
    /// member of `candidates` (by its latest heartbeat) whatever the lag and quorum rules say,
    /// the operator having accepted the risk. Patroni's `manual_failover_process_no_leader`
    /// (`ha.py`) lets the named candidate take the leader key without the checks of an
    /// automatic failover; with a healthy leader a failover is refused (a switchover would
    /// be asked for instead). The writes at risk are the gap between the last position the
    /// old primary reported and the candidate's.
    fn manual_failover(&mut self, candidates: MemberSet, ctx: &mut impl Context) {
        let Some(policy) = self.spec.failover.clone() else {
            return;
        };
        if self.has_leader() {
            ctx.note(Note::ManualFailoverRefused {
                reason: ManualRefusal::LeaderHealthy,
            });
            return;
        }
        let cluster = &policy.cluster;
        let mut best: Option<(usize, Lsn)> = None;
        for (m, &node) in cluster.members.iter().enumerate() {
            if candidates & (1 << m) == 0 || m == self.primary || self.leases.is_dead(node) {
                continue;
            }
            let lsn = self.member_lsn.get(m).copied().unwrap_or(0);
            if best.is_none_or(|(_, b)| lsn > b) {
                best = Some((m, lsn));
            }
        }
        let Some((chosen, lsn)) = best else {
            ctx.note(Note::ManualFailoverRefused {
                reason: ManualRefusal::NoLiveCandidate,
            });
            return;
        };
        ctx.note(Note::ManualFailover {
            candidate: cluster.members[chosen],
            behind: Some(self.primary_lsn.saturating_sub(lsn)),
        });
        self.round = None;
        self.promote(&policy, chosen, lsn, ctx);
    }

    /// Keeps cluster members in line: renews the primary's lease, deposes a stale primary,
    /// and tells members that follow nobody (restarted, or deposed) whom to follow.
    fn on_member_heartbeat(
        &mut self,
        from: NodeId,
        sent_at: crate::sim::time::SimTime,
        lsn: Lsn,
        epoch: Epoch,
        following: NodeId,
        ctx: &mut impl Context,
    ) {
        let Some(policy) = self.spec.failover.clone() else {
            return;
        };
        let Some(m) = policy.cluster.member_index(from) else {
            return;
        };
        if self.member_lsn.len() < policy.cluster.members.len() {
            self.member_lsn.resize(policy.cluster.members.len(), 0);
        }
        self.member_lsn[m] = lsn;
        // A member on a newer timeline than this controller knows was restored from backup:
        // its appointment is on its way (`RestoreAppoint`); acting now could appoint another.
        if self.failing_over || epoch > self.epoch {
            return;
        }
        let primary = policy.cluster.members[self.primary];
        if m == self.primary {
            if following == from && epoch == self.epoch {
                self.primary_lsn = self.primary_lsn.max(lsn);
                if policy.lease_fencing {
                    ctx.send(from, Msg::LeaseGranted { sent_at });
                }
            } else if following != from {
                // The appointed primary restarted as a replica before anyone noticed:
                // appoint it again in a new epoch, so stale entries cannot mix with new ones.
                self.epoch += 1;
                let replicas = policy.cluster.all_members() & !(1 << m);
                ctx.send(
                    from,
                    Msg::Promote {
                        epoch: self.epoch,
                        replicas,
                    },
                );
            }
        } else if following == from {
            ctx.send(from, Msg::Demote { epoch: self.epoch });
            ctx.send(
                from,
                Msg::Follow {
                    epoch: self.epoch,
                    primary,
                },
            );
        } else if following != primary {
            ctx.send(
                from,
                Msg::Follow {
                    epoch: self.epoch,
                    primary,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::NO_NODE;
    use crate::logic::quorum::StandbyRule;
    use crate::logic::testing::Recorder;
    use crate::sim::time::SimTime;

    const MON: NodeId = 5;
    /// Members 0 (the initial primary), 1 and 2.
    const A: NodeId = 10;
    const B: NodeId = 11;
    const C: NodeId = 12;
    const RUNBOOK: NodeId = 40;

    fn secs(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    fn cluster(zones: [u16; 3], mode: ReplicationMode) -> Arc<ClusterSpec> {
        Arc::new(ClusterSpec {
            name: "db".to_string(),
            members: vec![A, B, C],
            member_zone: zones.to_vec(),
            initial_primary: 0,
            mode,
            epoch_fencing: true,
            lease: None,
            subscribers: Vec::new(),
            strict: true,
            wal_sender_timeout: SimDuration::from_secs(60),
        })
    }

    fn sync_any_one() -> ReplicationMode {
        ReplicationMode::Synchronous(StandbyRule::Any(1))
    }

    fn policy(cluster: Arc<ClusterSpec>) -> FailoverPolicy {
        FailoverPolicy {
            cluster,
            maximum_lag_on_failover: 1_000,
            synchronous_mode: false,
            lease_fencing: false,
            demote_old_primary: false,
        }
    }

    /// Every member in its own zone, synchronous ANY 1, no optional fencing.
    fn plain() -> FailoverPolicy {
        policy(cluster([0, 1, 2], sync_any_one()))
    }

    /// A controller with ttl 3 s and loop_wait 1 s watching the three members, started.
    fn monitor(policy: FailoverPolicy) -> (Monitor, Recorder) {
        let spec = MonitorSpec {
            ttl: SimDuration::from_secs(3),
            loop_wait: SimDuration::from_secs(1),
            check_phase: Phase::Fixed(SimDuration::from_secs(1)),
            watched: policy.cluster.members.clone(),
            failover: Some(policy),
        };
        let mut ctx = Recorder::new(MON);
        let mut m = Monitor::new(Arc::new(spec), 16);
        m.start(&mut ctx);
        assert_eq!(ctx.timers, vec![(secs(1), Timer::Check)]);
        ctx.timers.clear();
        assert_eq!(m.current_primary(), (1, 0));
        (m, ctx)
    }

    fn beat(
        m: &mut Monitor,
        ctx: &mut Recorder,
        t: SimTime,
        from: NodeId,
        (lsn, epoch, following): (Lsn, Epoch, NodeId),
    ) {
        ctx.now = t;
        let msg = Msg::Heartbeat {
            sent_at: t,
            lsn,
            epoch,
            following,
        };
        m.on_message(from, msg, ctx);
    }

    fn check(m: &mut Monitor, ctx: &mut Recorder, t: SimTime) {
        ctx.now = t;
        m.on_timer(Timer::Check, ctx);
    }

    fn reply(m: &mut Monitor, ctx: &mut Recorder, from: NodeId, round: u32, lsn: Lsn) {
        m.on_message(
            from,
            Msg::LsnReply {
                round,
                lsn,
                epoch: 1,
            },
            ctx,
        );
    }

    fn promote(to: NodeId, epoch: Epoch, replicas: MemberSet) -> (NodeId, Msg) {
        (to, Msg::Promote { epoch, replicas })
    }

    fn follow(epoch: Epoch, primary: NodeId) -> Msg {
        Msg::Follow { epoch, primary }
    }

    fn query(to: NodeId, round: u32) -> (NodeId, Msg) {
        (to, Msg::LsnQuery { round })
    }

    /// Every member beats at 1 s (at `lsns[i]`, following A); from 2 s only `survivors` keep
    /// beating, once a second, each second followed by a check. The check at 4 s still finds
    /// A's lease exactly ttl old (alive); the function returns after the check at 5 s, the first
    /// to find it older than ttl, with only that check's effects recorded.
    fn primary_dies(m: &mut Monitor, ctx: &mut Recorder, lsns: [Lsn; 3], survivors: &[NodeId]) {
        for (i, node) in [A, B, C].into_iter().enumerate() {
            beat(m, ctx, secs(1), node, (lsns[i], 1, A));
        }
        check(m, ctx, secs(1));
        for s in 2..=5 {
            for &node in survivors {
                let lsn = lsns[(node - A) as usize];
                beat(m, ctx, secs(s), node, (lsn, 1, A));
            }
            if s == 5 {
                ctx.sent
                    .retain(|(_, m)| !matches!(m, Msg::LeaseGranted { .. }));
                assert!(ctx.sent.is_empty(), "before detection: {:?}", ctx.sent);
                assert!(ctx.notes.is_empty(), "before detection: {:?}", ctx.notes);
                ctx.timers.clear();
            }
            check(m, ctx, secs(s));
        }
    }

    #[test]
    fn the_check_that_finds_the_primary_lease_expired_queries_live_members() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        assert_eq!(ctx.notes, vec![Note::Detected { node: A }]);
        assert_eq!(ctx.sent, vec![query(B, 1), query(C, 1)]);
        assert_eq!(ctx.timers, vec![(secs(6), Timer::Check)]);
    }

    #[test]
    fn dead_members_are_not_queried_nor_named_replicas() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B]);
        assert_eq!(ctx.notes, vec![Note::Detected { node: A }]);
        assert_eq!(ctx.take_sent(), vec![query(B, 1)]);
        reply(&mut m, &mut ctx, B, 1, 7);
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 0)]);
        assert_eq!(m.current_primary(), (2, 1));
    }

    #[test]
    fn promotes_the_most_advanced_member_once_all_replied() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, B, 1, 7);
        assert!(ctx.sent.is_empty(), "C has not replied yet");
        reply(&mut m, &mut ctx, C, 1, 8);
        assert_eq!(ctx.take_sent(), vec![promote(C, 2, 1 << 1)]);
        assert_eq!(m.current_primary(), (2, 2));
        assert_eq!(ctx.notes, vec![Note::Detected { node: A }]);
        // A reply to a finished round changes nothing.
        reply(&mut m, &mut ctx, B, 1, 50);
        assert!(ctx.sent.is_empty());
        assert_eq!(m.current_primary(), (2, 2));
    }

    #[test]
    fn a_tie_goes_to_the_earlier_member() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 8, 8], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, C, 1, 8);
        reply(&mut m, &mut ctx, B, 1, 8);
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 1 << 2)]);
        assert_eq!(m.current_primary(), (2, 1));
    }

    #[test]
    fn a_reply_from_another_round_is_ignored() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, C, 2, 8);
        reply(&mut m, &mut ctx, B, 1, 7);
        assert!(ctx.sent.is_empty(), "C's reply was for another round");
        reply(&mut m, &mut ctx, C, 1, 6);
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 1 << 2)]);
    }

    #[test]
    fn a_missing_reply_is_given_up_on_at_the_next_loop() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, B, 1, 7);
        assert!(ctx.sent.is_empty());
        beat(&mut m, &mut ctx, secs(6), B, (7, 1, A));
        beat(&mut m, &mut ctx, secs(6), C, (8, 1, A));
        check(&mut m, &mut ctx, secs(6));
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 1 << 2)]);
        assert_eq!(m.current_primary(), (2, 1));
        // C's late reply (it was more advanced) no longer matters.
        reply(&mut m, &mut ctx, C, 1, 8);
        assert!(ctx.sent.is_empty());
        assert_eq!(m.current_primary(), (2, 1));
    }

    #[test]
    fn the_old_primary_back_before_the_decision_is_not_named_a_replica() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, B, 1, 7);
        // A comes back while the controller waits for C; it must rejoin, not be streamed to.
        for node in [A, B, C] {
            beat(&mut m, &mut ctx, secs(6), node, (7, 1, A));
        }
        assert!(ctx.sent.is_empty());
        check(&mut m, &mut ctx, secs(6));
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 1 << 2)]);
    }

    #[test]
    fn maximum_lag_on_failover_is_inclusive() {
        let mut p = plain();
        p.maximum_lag_on_failover = 2;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [10, 8, 8], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, B, 1, 8);
        reply(&mut m, &mut ctx, C, 1, 8);
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 1 << 2)]);
    }

    #[test]
    fn maximum_lag_on_failover_excludes_members_too_far_behind() {
        let mut p = plain();
        p.maximum_lag_on_failover = 2;
        let (mut m, mut ctx) = monitor(p);
        // The primary reported lsn 10; both replicas are 3 behind it.
        primary_dies(&mut m, &mut ctx, [10, 7, 7], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, B, 1, 7);
        reply(&mut m, &mut ctx, C, 1, 7);
        assert!(ctx.sent.is_empty(), "promoted a member too far behind");
        assert_eq!(
            ctx.notes,
            vec![Note::Detected { node: A }, Note::NoCandidate]
        );
        assert_eq!(m.current_primary(), (1, 0));
        // The controller asks again at its next loop.
        beat(&mut m, &mut ctx, secs(6), B, (7, 1, A));
        beat(&mut m, &mut ctx, secs(6), C, (7, 1, A));
        check(&mut m, &mut ctx, secs(6));
        assert_eq!(ctx.take_sent(), vec![query(B, 2), query(C, 2)]);
    }

    #[test]
    fn synchronous_mode_excludes_members_in_the_old_primary_zone() {
        let mut p = policy(cluster([0, 0, 1], sync_any_one()));
        p.synchronous_mode = true;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [9, 9, 8], &[B, C]);
        assert_eq!(ctx.take_sent(), vec![query(C, 1)]);
        reply(&mut m, &mut ctx, C, 1, 8);
        // B stays alive: it is a replica of the new primary, though it could not be chosen.
        assert_eq!(ctx.take_sent(), vec![promote(C, 2, 1 << 1)]);
    }

    #[test]
    fn synchronous_mode_does_not_restrict_an_asynchronous_cluster() {
        let mode = ReplicationMode::Asynchronous {
            ship_interval: SimDuration::ZERO,
        };
        let mut p = policy(cluster([0, 0, 1], mode));
        p.synchronous_mode = true;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [9, 9, 8], &[B, C]);
        assert_eq!(ctx.take_sent(), vec![query(B, 1), query(C, 1)]);
        reply(&mut m, &mut ctx, B, 1, 9);
        reply(&mut m, &mut ctx, C, 1, 8);
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 1 << 2)]);
    }

    #[test]
    fn no_eligible_member_notes_no_candidate_at_every_loop() {
        let mut p = policy(cluster([0, 0, 0], sync_any_one()));
        p.synchronous_mode = true;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [9, 9, 8], &[B, C]);
        assert_eq!(
            ctx.notes,
            vec![Note::Detected { node: A }, Note::NoCandidate]
        );
        assert!(ctx.sent.is_empty());
        check(&mut m, &mut ctx, secs(6));
        assert_eq!(ctx.notes.len(), 3);
        assert_eq!(ctx.notes[2], Note::NoCandidate);
        assert!(ctx.sent.is_empty());
    }

    #[test]
    fn a_manual_failover_promotes_the_most_advanced_live_candidate_despite_the_rules() {
        // All in one zone under synchronous_mode: the automatic rules promote nobody.
        let mut p = policy(cluster([0, 0, 0], sync_any_one()));
        p.synchronous_mode = true;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [9, 6, 8], &[B, C]);
        assert!(ctx.notes.contains(&Note::NoCandidate));
        ctx.notes.clear();
        m.on_message(RUNBOOK, Msg::ClusterQuery { token: 7 }, &mut ctx);
        let no_leader = Msg::ClusterState {
            token: 7,
            leader: false,
        };
        assert_eq!(ctx.take_sent(), vec![(RUNBOOK, no_leader)]);
        let candidates = (1 << 1) | (1 << 2);
        m.on_message(RUNBOOK, Msg::ManualFailover { candidates }, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::ManualFailover {
                candidate: C,
                behind: Some(1)
            }],
            "C (8) over B (6); the old primary reported 9"
        );
        assert_eq!(ctx.take_sent(), vec![promote(C, 2, 1 << 1)]);
        assert_eq!(m.current_primary(), (2, 2));
        m.on_message(RUNBOOK, Msg::ClusterQuery { token: 8 }, &mut ctx);
        let leader = Msg::ClusterState {
            token: 8,
            leader: true,
        };
        assert_eq!(ctx.take_sent(), vec![(RUNBOOK, leader)]);
    }

    #[test]
    fn a_manual_failover_is_refused_with_a_healthy_leader_or_no_live_candidate() {
        let (mut m, mut ctx) = monitor(plain());
        beat(&mut m, &mut ctx, secs(1), A, (9, 1, A));
        m.on_message(RUNBOOK, Msg::ManualFailover { candidates: 2 }, &mut ctx);
        let refused = |reason| Note::ManualFailoverRefused { reason };
        assert_eq!(ctx.notes, vec![refused(ManualRefusal::LeaderHealthy)]);
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[C]);
        ctx.notes.clear();
        ctx.sent.clear();
        m.on_message(RUNBOOK, Msg::ManualFailover { candidates: 2 }, &mut ctx);
        assert_eq!(ctx.notes, vec![refused(ManualRefusal::NoLiveCandidate)]);
        assert!(ctx.sent.is_empty(), "B is dead: nobody is promoted");
    }

    #[test]
    fn no_live_member_notes_no_candidate_until_one_returns() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[]);
        assert_eq!(
            ctx.notes,
            vec![Note::Detected { node: A }, Note::NoCandidate]
        );
        assert!(ctx.sent.is_empty());
        beat(&mut m, &mut ctx, secs(6), B, (7, 1, A));
        check(&mut m, &mut ctx, secs(6));
        assert_eq!(ctx.take_sent(), vec![query(B, 1)]);
        reply(&mut m, &mut ctx, B, 1, 7);
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 0)]);
    }

    #[test]
    fn lease_fencing_renews_the_primary_lease_with_its_send_time() {
        let mut p = plain();
        p.lease_fencing = true;
        let (mut m, mut ctx) = monitor(p);
        ctx.now = secs(1);
        let beat_from_a = Msg::Heartbeat {
            sent_at: SimTime::from_millis(950),
            lsn: 3,
            epoch: 1,
            following: A,
        };
        m.on_message(A, beat_from_a, &mut ctx);
        let granted = Msg::LeaseGranted {
            sent_at: SimTime::from_millis(950),
        };
        assert_eq!(ctx.take_sent(), vec![(A, granted)]);
        beat(&mut m, &mut ctx, secs(1), B, (3, 1, A));
        assert!(ctx.sent.is_empty(), "only the primary holds a lease");

        let (mut m, mut ctx) = monitor(plain());
        beat(&mut m, &mut ctx, secs(1), A, (3, 1, A));
        assert!(ctx.sent.is_empty(), "no lease fencing, no grant");
    }

    #[test]
    fn demote_old_primary_sends_it_a_demote_with_the_new_epoch() {
        let mut p = plain();
        p.demote_old_primary = true;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, B, 1, 7);
        reply(&mut m, &mut ctx, C, 1, 8);
        let demote = (A, Msg::Demote { epoch: 2 });
        assert_eq!(ctx.take_sent(), vec![promote(C, 2, 1 << 1), demote]);
    }

    #[test]
    fn after_failover_members_are_told_whom_to_follow() {
        let (mut m, mut ctx) = monitor(plain());
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        reply(&mut m, &mut ctx, B, 1, 7);
        reply(&mut m, &mut ctx, C, 1, 8);
        ctx.sent.clear();
        let follow = follow(2, C);
        // The deposed primary comes back still believing it leads epoch 1.
        beat(&mut m, &mut ctx, secs(6), A, (9, 1, A));
        assert_eq!(
            ctx.take_sent(),
            vec![(A, Msg::Demote { epoch: 2 }), (A, follow)]
        );
        // A member following nobody, or the old primary, is told to follow C.
        beat(&mut m, &mut ctx, secs(6), B, (7, 2, NO_NODE));
        beat(&mut m, &mut ctx, secs(6), B, (7, 1, A));
        assert_eq!(ctx.take_sent(), vec![(B, follow), (B, follow)]);
        // Members in line, and the new primary itself, are left alone.
        beat(&mut m, &mut ctx, secs(6), B, (8, 2, C));
        beat(&mut m, &mut ctx, secs(6), C, (8, 2, C));
        assert!(ctx.sent.is_empty(), "{:?}", ctx.sent);
    }

    #[test]
    fn a_member_following_nobody_gets_follow_the_primary() {
        let (mut m, mut ctx) = monitor(plain());
        beat(&mut m, &mut ctx, secs(1), B, (0, 1, NO_NODE));
        let follow = follow(1, A);
        assert_eq!(ctx.take_sent(), vec![(B, follow)]);
        beat(&mut m, &mut ctx, secs(1), C, (0, 1, A));
        assert!(ctx.sent.is_empty());
    }

    #[test]
    fn the_appointed_primary_restarted_as_a_replica_is_promoted_again() {
        let (mut m, mut ctx) = monitor(plain());
        beat(&mut m, &mut ctx, secs(1), A, (4, 1, NO_NODE));
        assert_eq!(ctx.take_sent(), vec![promote(A, 2, 0b110)]);
        assert_eq!(m.current_primary(), (2, 0));
        // Now leading epoch 2, its heartbeats need nothing.
        beat(&mut m, &mut ctx, secs(2), A, (4, 2, A));
        assert!(ctx.sent.is_empty());
    }

    #[test]
    fn heartbeats_during_failover_get_no_instructions() {
        let mut p = plain();
        p.lease_fencing = true;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [9, 7, 8], &[B, C]);
        ctx.sent.clear();
        let t = SimTime::from_millis(5500);
        beat(&mut m, &mut ctx, t, A, (9, 1, A));
        beat(&mut m, &mut ctx, t, B, (7, 1, NO_NODE));
        assert!(ctx.sent.is_empty(), "{:?}", ctx.sent);
    }

    #[test]
    fn a_restore_appoints_its_primary_and_members_ahead_are_left_alone() {
        let (mut m, mut ctx) = monitor(plain());
        // B restored on timeline 5 before the appointment arrived: no instruction yet.
        beat(&mut m, &mut ctx, secs(100), B, (10, 5, NO_NODE));
        assert!(ctx.take_sent().is_empty());
        m.on_message(
            RUNBOOK,
            Msg::RestoreAppoint {
                epoch: 5,
                primary: B,
            },
            &mut ctx,
        );
        assert_eq!(ctx.take_sent(), vec![promote(B, 5, 0b101)]);
        assert_eq!(m.current_primary(), (5, 1));
        // An older appointment changes nothing.
        m.on_message(
            RUNBOOK,
            Msg::RestoreAppoint {
                epoch: 4,
                primary: A,
            },
            &mut ctx,
        );
        assert!(ctx.take_sent().is_empty());
    }

    #[test]
    fn a_monitor_without_failover_policy_only_keeps_leases() {
        let spec = MonitorSpec {
            ttl: SimDuration::from_secs(3),
            loop_wait: SimDuration::from_secs(1),
            check_phase: Phase::Fixed(SimDuration::ZERO),
            watched: vec![3, 4],
            failover: None,
        };
        let mut ctx = Recorder::new(MON);
        let mut m = Monitor::new(Arc::new(spec), 8);
        m.start(&mut ctx);
        assert_eq!(ctx.timers, vec![(SimTime::ZERO, Timer::Check)]);
        beat(&mut m, &mut ctx, secs(1), 3, (0, 0, NO_NODE));
        check(&mut m, &mut ctx, secs(10));
        assert!(ctx.sent.is_empty() && ctx.notes.is_empty());
        assert_eq!(ctx.timers.last(), Some(&(secs(11), Timer::Check)));
    }

    #[test]
    fn maximum_lag_is_measured_against_the_current_primary_after_a_failover() {
        let mut p = plain();
        p.maximum_lag_on_failover = 2;
        let (mut m, mut ctx) = monitor(p);
        primary_dies(&mut m, &mut ctx, [10, 8, 7], &[B, C]);
        ctx.sent.clear();
        reply(&mut m, &mut ctx, B, 1, 8);
        reply(&mut m, &mut ctx, C, 1, 7);
        assert_eq!(ctx.take_sent(), vec![promote(B, 2, 1 << 2)]);
        // B leads epoch 2 and reports lsn 8; C follows it, one entry behind.
        beat(&mut m, &mut ctx, secs(6), B, (8, 2, B));
        beat(&mut m, &mut ctx, secs(6), C, (7, 2, B));
        check(&mut m, &mut ctx, secs(6));
        for s in 7..=10 {
            beat(&mut m, &mut ctx, secs(s), C, (7, 2, B));
            check(&mut m, &mut ctx, secs(s));
        }
        assert_eq!(
            ctx.notes,
            vec![Note::Detected { node: A }, Note::Detected { node: B }]
        );
        assert_eq!(ctx.take_sent(), vec![query(C, 2)]);
        reply(&mut m, &mut ctx, C, 2, 7);
        // The last LSN the primary (B) reported is 8: C is within the allowed lag.
        assert_eq!(ctx.notes.last(), Some(&Note::Detected { node: B }));
        assert_eq!(ctx.take_sent(), vec![promote(C, 3, 0)]);
    }
}

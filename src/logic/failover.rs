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
use super::{Context, Epoch, Lsn, MemberSet, Msg, NodeId, Note, Timer};
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
}

impl Monitor {
    pub fn new(spec: Arc<MonitorSpec>, node_count: usize) -> Self {
        let leases = LeaseTable::new(spec.ttl, spec.watched.clone(), node_count);
        let primary = spec.failover.as_ref().map(|f| f.cluster.initial_primary).unwrap_or(0);
        Monitor {
            spec,
            leases,
            epoch: 1,
            primary,
            primary_lsn: 0,
            failing_over: false,
            round: None,
            next_round: 0,
        }
    }

    /// The epoch and member index of the primary this controller last appointed.
    pub fn current_primary(&self) -> (Epoch, usize) {
        (self.epoch, self.primary)
    }

    pub fn start(&mut self, ctx: &mut impl Context) {
        let first = self.spec.check_phase.first_offset(self.spec.loop_wait, 0, ctx.rng());
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
        self.spec.failover.as_ref().map(|f| f.cluster.members[self.primary])
    }

    fn ask(&mut self, ctx: &mut impl Context) {
        let Some(policy) = &self.spec.failover else { return };
        let cluster = &policy.cluster;
        let old_zone = cluster.member_zone[self.primary];
        let sync = policy.synchronous_mode && matches!(cluster.mode, ReplicationMode::Synchronous(_));
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
        let Some(policy) = self.spec.failover.clone() else { return };
        let cluster = &policy.cluster;
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
        let Some((chosen, _)) = best else {
            ctx.note(Note::NoCandidate);
            return; // ask again next loop
        };
        let old = self.primary;
        self.epoch += 1;
        self.primary = chosen;
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
                let Some(m) = self.spec.failover.as_ref().and_then(|f| f.cluster.member_index(from)) else {
                    return;
                };
                r.replies[m] = Some(lsn);
                let all = (0..r.replies.len()).all(|i| r.asked & (1 << i) == 0 || r.replies[i].is_some());
                if all {
                    let round = self.round.take().expect("round checked above");
                    self.decide(round, ctx);
                }
            }
            _ => {}
        }
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
        let Some(policy) = self.spec.failover.clone() else { return };
        let Some(m) = policy.cluster.member_index(from) else { return };
        if self.failing_over {
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
                ctx.send(from, Msg::Promote { epoch: self.epoch, replicas });
            }
        } else if following == from {
            ctx.send(from, Msg::Demote { epoch: self.epoch });
            ctx.send(from, Msg::Follow { epoch: self.epoch, primary });
        } else if following != primary {
            ctx.send(from, Msg::Follow { epoch: self.epoch, primary });
        }
    }
}

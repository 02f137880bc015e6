//! Redis Sentinel: failure detection by agreement, leader election by epoch, failover.
//!
//! A [`Sentinel`] watches one master set — a [`ClusterSpec`] whose members are
//! [`Replica`](super::replication::Replica)s in asynchronous mode — together with the other
//! sentinels, the way Redis Sentinel does:
//!
//! 1. **Ping.** Every `ping_interval` it probes every member ([`Msg::Probe`], which a replica
//!    answers with its role: PING and ROLE in one).
//! 2. **SDOWN.** The master is *subjectively down* for this sentinel once it has not answered as
//!    primary for more than `down_after` (`down-after-milliseconds`). An answer that says "not
//!    primary" does not count: a master that restarted as a replica serves no writes.
//! 3. **ODOWN.** While the master is SDOWN the sentinel asks the others, every ping, whether
//!    they agree (`SENTINEL is-master-down-by-addr`, [`Msg::SentinelIsMasterDown`]). When at
//!    least `quorum` sentinels, itself included, have it down, it is *objectively down*.
//! 4. **Election.** On ODOWN the sentinel tries a failover: it increments its current epoch,
//!    votes for itself and asks the others for their vote in that epoch (the same request,
//!    naming itself as candidate). A sentinel votes at most once per epoch, for the first
//!    candidate that asks in an epoch newer than any it voted in. Votes from a strict majority
//!    of all sentinels, and at least `quorum`, make the candidate the leader. A candidate that
//!    is not elected within [`ELECTION_TIMEOUT`] (or `failover_timeout` if shorter) gives up.
//!    A sentinel that tried, or voted for another, waits `2 × failover_timeout` plus a random
//!    delay under [`MAX_DESYNC`] before it tries again, so two candidates that split the vote do
//!    not split it again.
//! 5. **Failover.** The leader asks the replicas that answered recently for their replication
//!    offset ([`Msg::LsnQuery`]), promotes the one with the highest (ties: the earlier member)
//!    in its election epoch (REPLICAOF NO ONE, [`Msg::Promote`]) and waits for it to answer a
//!    later ping as primary. Then it reconfigures the other replicas ([`Msg::Follow`], REPLICAOF),
//!    tells the other sentinels ([`Msg::SentinelNewMaster`]) and publishes `+switch-master` to
//!    its subscribers ([`Msg::SentinelSwitchMaster`]). Without that answer within
//!    `failover_timeout` the failover is abandoned; a later election may try again.
//! 6. **Keeping members in line.** A member other than the master that claims to be primary
//!    for more than [`CONVERT_WAIT`] while the master is healthy — typically the former master,
//!    back from a partition — is told to follow the master (`+convert-to-slave`).
//!
//! **Epochs.** Redis starts its current epoch at 0. Here epoch 1 is the store's initial epoch
//! and the initial master's config epoch, so the first failover runs in epoch 2 and every
//! promotion carries an epoch newer than any the replicas have seen: they fence by it. Only
//! the elected leader of an epoch promotes in that epoch, so no two promotions share an epoch.
//! A sentinel that learns of a newer epoch (a vote request, another sentinel's vote, an offset
//! reply, an announcement) raises its current epoch to it: its next election is newer still,
//! and it votes in no older epoch from then on.
//!
//! **What survives a crash.** Sentinel rewrites `sentinel.conf` on every change: the current
//! epoch, the master and its config epoch, the epoch it last voted in (`leader-epoch`) and the
//! members still to reconfigure are durable. SDOWN/ODOWN, the other sentinels' answers and a
//! failover in progress are not.
//!
//! **Departures from Redis, and why.**
//! - No hello channel. Redis sentinels gossip the master's config every two seconds over
//!   pub/sub. Here the leader announces a switch once, and a sentinel that hears from a peer
//!   with an older config (an announcement, or a question about a former master) answers with
//!   its own: the same convergence, without a message every two seconds.
//! - The offsets are asked for when needed (one round trip; at most one `ping_interval` is
//!   waited for them), where Redis reads them from the INFO replies it polls every second
//!   while the master is down.
//! - A probe reply says whether the member is primary, not whom it follows (ROLE would). A
//!   member that answers again after more than `down_after` of silence, and the former master,
//!   are therefore told whom to follow once; a restarted replica would otherwise follow nobody.
//! - No TILT mode, replica priorities, `parallel-syncs` or scripts.
//!
//! **By hand.** An operator may ask whether the master is down (`SENTINEL master`: its
//! `s_down` flag, [`Msg::ClusterQuery`]) and force a failover (`SENTINEL FAILOVER`,
//! [`Msg::ManualFailover`]): no agreement, no election, the usual choice of replica. This
//! is how a team promotes a Redis replica when too few sentinels survive to reach quorum.

pub use super::FailoverAbort;
use super::periodic::Phase;
use super::replication::ClusterSpec;
use super::{Context, Epoch, Lsn, ManualRefusal, MemberSet, Msg, NO_NODE, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
use rand::RngExt;
use std::sync::Arc;

/// `SENTINEL_ELECTION_TIMEOUT`: a candidate not elected by then gives up (sooner when
/// `failover_timeout` is shorter).
pub const ELECTION_TIMEOUT: SimDuration = SimDuration::from_secs(10);
/// `SENTINEL_MAX_DESYNC`: a failover attempt's start time is pushed back by a random delay
/// below this, so that sentinels that split a vote retry at different times.
pub const MAX_DESYNC: SimDuration = SimDuration::from_secs(1);
/// `4 × SENTINEL_PUBLISH_PERIOD`: how long a member other than the master must have claimed
/// to be primary, with the master healthy, before it is told to follow the master. The wait
/// leaves time for a newer configuration to arrive first.
pub const CONVERT_WAIT: SimDuration = SimDuration::from_secs(8);
/// Answers older than this many pings are stale: another sentinel's opinion (Redis:
/// `5 × SENTINEL_ASK_PERIOD`) and a replica's liveness when choosing one to promote (Redis:
/// `5 × SENTINEL_PING_PERIOD`).
const VALIDITY_PINGS: u64 = 5;

/// One sentinel's configuration (`sentinel.conf`); shared by every sentinel of a master set.
#[derive(Clone, Debug)]
pub struct SentinelSpec {
    /// The master set (`sentinel monitor <name> <ip> <port> <quorum>`): its members and the
    /// initial master.
    pub cluster: Arc<ClusterSpec>,
    /// Every sentinel monitoring the set, this one included (the `known-sentinel` lines).
    pub sentinels: Vec<NodeId>,
    /// The `<quorum>` of `sentinel monitor`: how many sentinels must agree the master is down
    /// for ODOWN. A leader also needs at least this many votes, besides a majority.
    pub quorum: u32,
    /// `down-after-milliseconds`: how long the master may go without a valid reply before this
    /// sentinel considers it subjectively down.
    pub down_after: SimDuration,
    /// How often every member is pinged and, while the master is down, the other sentinels are
    /// asked (Redis: `SENTINEL_PING_PERIOD` and `SENTINEL_ASK_PERIOD`, both 1 s).
    pub ping_interval: SimDuration,
    /// `failover-timeout`: how long the promoted replica has to answer as primary; twice this
    /// is the wait between two failover attempts of one sentinel.
    pub failover_timeout: SimDuration,
    /// When the first ping happens.
    pub phase: Phase,
    /// Nodes subscribed to `+switch-master` on this sentinel's pub/sub. Every sentinel that
    /// switches publishes it, the leader first and the others as they learn of the switch, so
    /// a node subscribed to several sentinels hears it several times: the newest epoch wins.
    pub subscribers: Vec<NodeId>,
}

/// What this sentinel last heard from another sentinel about the current master.
#[derive(Clone, Copy, Debug)]
struct Peer {
    down: bool,
    replied_at: SimTime,
    /// The vote it reported last, kept until it reports another.
    leader: NodeId,
    leader_epoch: Epoch,
}

impl Peer {
    const UNKNOWN: Peer = Peer {
        down: false,
        replied_at: SimTime::ZERO,
        leader: NO_NODE,
        leader_epoch: 0,
    };
}

/// What this sentinel knows of one member of the master set.
#[derive(Clone, Copy, Debug, Default)]
struct Member {
    last_reply: SimTime,
    /// Since when a member other than the master has claimed to be primary without pause.
    claims_primary_since: Option<SimTime>,
    /// It must be told to follow the master (it came back after a silence, or was the master).
    needs_follow: bool,
}

#[derive(Debug)]
struct Failover {
    epoch: Epoch,
    /// When the current stage gives up or decides.
    deadline: SimTime,
    stage: Stage,
    /// Asked for by hand (`SENTINEL FAILOVER`): no election, and the promotion is an
    /// operator's.
    forced: bool,
}

#[derive(Debug)]
enum Stage {
    /// Collecting votes (`wait-start`).
    Election,
    /// Collecting replication offsets (`select-slave`).
    Selection {
        asked: MemberSet,
        offsets: Vec<Option<Lsn>>,
        /// The newest epoch a replica reported.
        newest_epoch: Epoch,
    },
    /// Waiting for the promoted replica to answer as primary (`wait-promotion`).
    Promotion {
        promoted: usize,
        replicas: MemberSet,
        /// Only a reply to a later ping round proves the promotion.
        after_round: u32,
    },
}

/// One Redis Sentinel process monitoring one master set.
pub struct Sentinel {
    spec: Arc<SentinelSpec>,
    index: usize,
    // Durable: in sentinel.conf (as are the members' `needs_follow`, the known replicas).
    current_epoch: Epoch,
    config_epoch: Epoch,
    master: usize,
    /// The vote: for whom, in which epoch (`leader-epoch`).
    leader: NodeId,
    leader_epoch: Epoch,
    /// Ping rounds keep counting across a crash, so that an answer to an earlier
    /// incarnation's ping never passes for an answer to a new one.
    round: u32,
    // Volatile.
    master_ok_at: SimTime,
    /// When the pending `SentinelDownAfter` timer fires, if one is pending.
    down_check_at: Option<SimTime>,
    sdown: bool,
    odown: bool,
    peers: Vec<Peer>,
    members: Vec<Member>,
    failover: Option<Failover>,
    next_failover_at: SimTime,
}

impl Sentinel {
    /// The sentinel at position `index` of `spec.sentinels`.
    pub fn new(spec: Arc<SentinelSpec>, index: usize) -> Self {
        let cluster = &spec.cluster;
        debug_assert!(
            index < spec.sentinels.len(),
            "a sentinel is one of `sentinels`"
        );
        debug_assert!(spec.quorum >= 1, "validated: quorum ≥ 1");
        debug_assert!(
            !spec.ping_interval.is_zero(),
            "validated: ping_interval > 0"
        );
        debug_assert!(cluster.members.len() <= 64, "a MemberSet holds 64 members");
        debug_assert!(cluster.initial_primary < cluster.members.len());
        Sentinel {
            index,
            current_epoch: 1,
            config_epoch: 1,
            master: cluster.initial_primary,
            leader: NO_NODE,
            leader_epoch: 0,
            round: 0,
            master_ok_at: SimTime::ZERO,
            down_check_at: None,
            sdown: false,
            odown: false,
            peers: vec![Peer::UNKNOWN; spec.sentinels.len()],
            members: vec![Member::default(); cluster.members.len()],
            failover: None,
            next_failover_at: SimTime::ZERO,
            spec,
        }
    }

    pub fn spec(&self) -> &SentinelSpec {
        &self.spec
    }
    /// This sentinel's address.
    pub fn me(&self) -> NodeId {
        self.spec.sentinels[self.index]
    }
    /// The master this sentinel believes in (`SENTINEL get-master-addr-by-name`).
    pub fn current_master(&self) -> NodeId {
        self.node(self.master)
    }
    /// The epoch in which the current master was promoted (1 for the initial master).
    pub fn config_epoch(&self) -> Epoch {
        self.config_epoch
    }
    /// The newest epoch this sentinel has seen or started.
    pub fn current_epoch(&self) -> Epoch {
        self.current_epoch
    }
    /// The candidate this sentinel last voted for, and in which epoch (`NO_NODE`, 0: never).
    pub fn vote(&self) -> (NodeId, Epoch) {
        (self.leader, self.leader_epoch)
    }
    pub fn is_subjectively_down(&self) -> bool {
        self.sdown
    }
    pub fn is_objectively_down(&self) -> bool {
        self.odown
    }
    /// The epoch of the failover attempt in progress, if any.
    pub fn failover_epoch(&self) -> Option<Epoch> {
        self.failover.as_ref().map(|f| f.epoch)
    }
    /// The earliest time this sentinel may start another failover attempt.
    pub fn next_failover_at(&self) -> SimTime {
        self.next_failover_at
    }

    /// Starts (or, after a crash, restarts) the sentinel: every member gets a full
    /// `down_after` of grace, as nothing has been heard yet.
    pub fn start(&mut self, ctx: &mut impl Context) {
        debug_assert_eq!(ctx.me(), self.me());
        let now = ctx.now();
        self.master_ok_at = now;
        for m in &mut self.members {
            m.last_reply = now;
        }
        let first =
            self.spec
                .phase
                .first_offset(self.spec.ping_interval, self.index as u64, ctx.rng());
        ctx.set_timer(first, Timer::SentinelTick);
        self.arm_down_check(ctx);
    }

    /// The process crashed: what is not in `sentinel.conf` is lost.
    pub fn crash(&mut self) {
        self.down_check_at = None;
        self.sdown = false;
        self.odown = false;
        self.peers.fill(Peer::UNKNOWN);
        for m in &mut self.members {
            m.claims_primary_since = None;
        }
        self.failover = None;
        self.next_failover_at = SimTime::ZERO;
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::SentinelTick => self.tick(ctx),
            Timer::SentinelDownAfter => self.on_down_check(ctx),
            Timer::SentinelFailoverDeadline { epoch } => self.on_failover_deadline(epoch, ctx),
            Timer::SentinelRetryFailover => {
                if ctx.now() >= self.next_failover_at {
                    self.check_odown(ctx);
                }
            }
            _ => debug_assert!(false, "sentinel got timer {timer:?}"),
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::ProbeReply { round, primary } => self.on_probe_reply(from, round, primary, ctx),
            Msg::LsnReply { round, lsn, epoch } => self.on_lsn_reply(from, round, lsn, epoch, ctx),
            Msg::SentinelIsMasterDown {
                master,
                epoch,
                candidate,
            } => self.on_is_master_down(from, master, epoch, candidate, ctx),
            Msg::SentinelIsMasterDownReply {
                master,
                down,
                leader,
                leader_epoch,
            } => {
                let vote = (leader, leader_epoch);
                self.on_is_master_down_reply(from, master, down, vote, ctx);
            }
            Msg::SentinelNewMaster { epoch, master } => {
                self.on_new_master(from, epoch, master, ctx)
            }
            // `SENTINEL master <name>`: an operator reads the flags; no `s_down`, a master.
            Msg::ClusterQuery { token } => {
                let leader = !self.sdown;
                ctx.send(from, Msg::ClusterState { token, leader });
            }
            Msg::ManualFailover { .. } => self.forced_failover(ctx),
            _ => {}
        }
    }

    // ---- helpers ----

    fn node(&self, member: usize) -> NodeId {
        self.spec.cluster.members[member]
    }

    fn peer_index(&self, node: NodeId) -> Option<usize> {
        self.spec
            .sentinels
            .iter()
            .position(|&s| s == node)
            .filter(|&i| i != self.index)
    }

    fn validity(&self) -> SimDuration {
        self.spec.ping_interval.saturating_mul(VALIDITY_PINGS)
    }

    fn send_to_peers(&self, msg: Msg, ctx: &mut impl Context) {
        for (i, &s) in self.spec.sentinels.iter().enumerate() {
            if i != self.index {
                ctx.send(s, msg);
            }
        }
    }

    /// Now plus a random delay below [`MAX_DESYNC`]: the start of a failover attempt.
    fn desynced_now(ctx: &mut impl Context) -> SimTime {
        let extra = ctx.rng().random_range(0..MAX_DESYNC.as_nanos());
        ctx.now() + SimDuration::from_nanos(extra)
    }

    /// No failover attempt before `at`; a timer re-examines ODOWN then.
    fn hold_failover_until(&mut self, at: SimTime, ctx: &mut impl Context) {
        if at > self.next_failover_at {
            self.next_failover_at = at;
            ctx.set_timer(at.saturating_since(ctx.now()), Timer::SentinelRetryFailover);
        }
    }

    // ---- failure detection ----

    fn tick(&mut self, ctx: &mut impl Context) {
        ctx.set_timer(self.spec.ping_interval, Timer::SentinelTick);
        self.round += 1;
        for &node in &self.spec.cluster.members {
            ctx.send(node, Msg::Probe { round: self.round });
        }
        self.check_sdown(ctx);
        if self.sdown {
            self.ask_peers(ctx);
        }
        self.check_odown(ctx);
    }

    /// Arms the `SentinelDownAfter` timer for just after `down_after` has passed since the
    /// master's last valid reply, unless one is pending (it re-arms itself when it fires).
    fn arm_down_check(&mut self, ctx: &mut impl Context) {
        if self.down_check_at.is_some() {
            return;
        }
        let at = self.master_ok_at + self.spec.down_after + SimDuration::from_nanos(1);
        debug_assert!(at > ctx.now(), "armed only while the master is not SDOWN");
        self.down_check_at = Some(at);
        ctx.set_timer(at.saturating_since(ctx.now()), Timer::SentinelDownAfter);
    }

    fn on_down_check(&mut self, ctx: &mut impl Context) {
        if self.down_check_at.is_some_and(|at| at <= ctx.now()) {
            self.down_check_at = None;
        }
        if self.check_sdown(ctx) {
            self.ask_peers(ctx);
            self.check_odown(ctx);
        } else if !self.sdown {
            self.arm_down_check(ctx);
        }
    }

    /// Marks the master SDOWN when its last valid reply is more than `down_after` old;
    /// returns true when it just became so.
    fn check_sdown(&mut self, ctx: &mut impl Context) -> bool {
        if self.sdown || ctx.now().saturating_since(self.master_ok_at) <= self.spec.down_after {
            return false;
        }
        self.sdown = true;
        ctx.note(Note::SentinelSubjectivelyDown {
            master: self.current_master(),
        });
        true
    }

    fn master_answered(&mut self, ctx: &mut impl Context) {
        self.master_ok_at = ctx.now();
        self.sdown = false;
        self.odown = false;
        self.arm_down_check(ctx);
    }

    /// `SENTINEL is-master-down-by-addr` to every other sentinel; while this sentinel is a
    /// candidate, the same request asks for their vote.
    fn ask_peers(&self, ctx: &mut impl Context) {
        let (epoch, candidate) = match &self.failover {
            Some(f) if matches!(f.stage, Stage::Election) => (f.epoch, self.me()),
            _ => (self.current_epoch, NO_NODE),
        };
        let msg = Msg::SentinelIsMasterDown {
            master: self.current_master(),
            epoch,
            candidate,
        };
        self.send_to_peers(msg, ctx);
    }

    /// Recounts the agreements (fresh ones only), notes ODOWN when it begins, and starts a
    /// failover attempt when one is due.
    fn check_odown(&mut self, ctx: &mut impl Context) {
        let now = ctx.now();
        let validity = self.validity();
        let others = self
            .peers
            .iter()
            .enumerate()
            .filter(|&(i, p)| {
                i != self.index && p.down && now.saturating_since(p.replied_at) <= validity
            })
            .count();
        let odown = self.sdown && others as u64 + 1 >= u64::from(self.spec.quorum);
        if odown && !self.odown {
            ctx.note(Note::SentinelObjectivelyDown {
                master: self.current_master(),
            });
        }
        self.odown = odown;
        if self.odown && self.failover.is_none() && now >= self.next_failover_at {
            self.start_failover(ctx);
        }
    }

    fn on_is_master_down_reply(
        &mut self,
        from: NodeId,
        master: NodeId,
        down: bool,
        (leader, leader_epoch): (NodeId, Epoch),
        ctx: &mut impl Context,
    ) {
        let Some(p) = self.peer_index(from) else {
            return;
        };
        if master != self.current_master() {
            return; // about a former master
        }
        let peer = &mut self.peers[p];
        peer.down = down;
        peer.replied_at = ctx.now();
        if leader != NO_NODE {
            peer.leader = leader;
            peer.leader_epoch = leader_epoch;
            self.current_epoch = self.current_epoch.max(leader_epoch);
        }
        self.check_odown(ctx);
        self.check_election(ctx);
    }

    // ---- votes ----

    fn on_is_master_down(
        &mut self,
        from: NodeId,
        master: NodeId,
        epoch: Epoch,
        candidate: NodeId,
        ctx: &mut impl Context,
    ) {
        if self.peer_index(from).is_none() {
            return;
        }
        let mine = master == self.current_master();
        let (leader, leader_epoch) = if mine && candidate != NO_NODE {
            self.vote_for(candidate, epoch, ctx)
        } else {
            (NO_NODE, 0)
        };
        let reply = Msg::SentinelIsMasterDownReply {
            master,
            down: mine && self.sdown,
            leader,
            leader_epoch,
        };
        ctx.send(from, reply);
        if !mine {
            // It asks about another master: tell it ours (it keeps the newer of the two).
            let ours = Msg::SentinelNewMaster {
                epoch: self.config_epoch,
                master: self.current_master(),
            };
            ctx.send(from, ours);
        }
    }

    /// One vote per epoch: for the first candidate that asks in an epoch newer than any this
    /// sentinel voted in, and not older than its current epoch. Returns the vote it holds.
    fn vote_for(
        &mut self,
        candidate: NodeId,
        epoch: Epoch,
        ctx: &mut impl Context,
    ) -> (NodeId, Epoch) {
        self.current_epoch = self.current_epoch.max(epoch);
        if self.leader_epoch < epoch && self.current_epoch == epoch {
            self.leader = candidate;
            self.leader_epoch = epoch;
            if candidate != self.me() {
                // Leave the failover to the candidate for a while.
                let start = Self::desynced_now(ctx);
                self.hold_failover_until(start + self.spec.failover_timeout.saturating_mul(2), ctx);
            }
        }
        debug_assert!(self.leader_epoch <= self.current_epoch);
        (self.leader, self.leader_epoch)
    }

    // ---- failover ----

    fn start_failover(&mut self, ctx: &mut impl Context) {
        debug_assert!(self.failover.is_none());
        self.current_epoch += 1;
        let epoch = self.current_epoch;
        self.leader = self.me();
        self.leader_epoch = epoch;
        let start = Self::desynced_now(ctx);
        self.hold_failover_until(start + self.spec.failover_timeout.saturating_mul(2), ctx);
        let deadline = start + self.spec.failover_timeout.min(ELECTION_TIMEOUT);
        self.failover = Some(Failover {
            epoch,
            deadline,
            stage: Stage::Election,
            forced: false,
        });
        ctx.set_timer(
            deadline.saturating_since(ctx.now()),
            Timer::SentinelFailoverDeadline { epoch },
        );
        ctx.note(Note::SentinelTryFailover { epoch });
        self.ask_peers(ctx);
        self.check_election(ctx);
    }

    fn check_election(&mut self, ctx: &mut impl Context) {
        let Some(f) = &self.failover else {
            return;
        };
        if !matches!(f.stage, Stage::Election) {
            return;
        }
        let me = self.me();
        let epoch = f.epoch;
        let votes = 1 + self
            .peers
            .iter()
            .enumerate()
            .filter(|&(i, p)| i != self.index && p.leader == me && p.leader_epoch == epoch)
            .count();
        let majority = self.spec.sentinels.len() / 2 + 1;
        if votes >= majority && votes as u64 >= u64::from(self.spec.quorum) {
            self.elected(ctx);
        }
    }

    /// `SENTINEL FAILOVER <master>` (`sentinel.c`, `sentinelCommand`): refused with a failover
    /// already in progress (`-INPROG`) or no replica fit to promote (`-NOGOODSLAVE`); otherwise
    /// a failover starts at once in a new epoch with this sentinel as its own leader, asking
    /// no one for votes (`SRI_FORCE_FAILOVER` lets `sentinelFailoverWaitStart` go on
    /// unelected), and proceeds as an elected leader's: the replica with the highest offset
    /// among those that answered recently is promoted, and the other sentinels adopt the new
    /// configuration for its newer epoch. Whether the master is down is not asked: that is
    /// the operator's call.
    fn forced_failover(&mut self, ctx: &mut impl Context) {
        let refused = |reason| Note::ManualFailoverRefused { reason };
        if self.failover.is_some() {
            ctx.note(refused(ManualRefusal::InProgress));
            return;
        }
        if self.fit_replicas(ctx.now()) == 0 {
            ctx.note(refused(ManualRefusal::NoLiveCandidate));
            return;
        }
        self.current_epoch += 1;
        let epoch = self.current_epoch;
        self.leader = self.me();
        self.leader_epoch = epoch;
        let start = Self::desynced_now(ctx);
        self.hold_failover_until(start + self.spec.failover_timeout.saturating_mul(2), ctx);
        self.failover = Some(Failover {
            epoch,
            deadline: ctx.now(),
            stage: Stage::Election,
            forced: true,
        });
        self.elected(ctx);
    }

    /// The replicas that answered a recent ping: those a failover may promote.
    fn fit_replicas(&self, now: SimTime) -> MemberSet {
        let validity = self.validity();
        let mut fit: MemberSet = 0;
        for (m, v) in self.members.iter().enumerate() {
            if m != self.master && now.saturating_since(v.last_reply) <= validity {
                fit |= 1 << m;
            }
        }
        fit
    }

    /// The leader asks the replicas that answered a recent ping for their offsets.
    fn elected(&mut self, ctx: &mut impl Context) {
        let now = ctx.now();
        let asked = self.fit_replicas(now);
        let Some(f) = &mut self.failover else {
            return;
        };
        let epoch = f.epoch;
        if !f.forced {
            ctx.note(Note::SentinelElected { epoch });
        }
        if asked == 0 {
            self.abort(FailoverAbort::NoGoodReplica, ctx);
            return;
        }
        f.deadline = now + self.spec.ping_interval;
        f.stage = Stage::Selection {
            asked,
            offsets: vec![None; self.members.len()],
            newest_epoch: 0,
        };
        for (m, &node) in self.spec.cluster.members.iter().enumerate() {
            if asked & (1 << m) != 0 {
                ctx.send(node, Msg::LsnQuery { round: epoch });
            }
        }
        ctx.set_timer(
            self.spec.ping_interval,
            Timer::SentinelFailoverDeadline { epoch },
        );
    }

    fn on_lsn_reply(
        &mut self,
        from: NodeId,
        round: u32,
        lsn: Lsn,
        epoch: Epoch,
        ctx: &mut impl Context,
    ) {
        let Some(m) = self.spec.cluster.member_index(from) else {
            return;
        };
        let Some(f) = &mut self.failover else {
            return;
        };
        let Stage::Selection {
            asked,
            offsets,
            newest_epoch,
        } = &mut f.stage
        else {
            return;
        };
        if f.epoch != round || *asked & (1 << m) == 0 {
            return;
        }
        offsets[m] = Some(lsn);
        *newest_epoch = (*newest_epoch).max(epoch);
        let all = (0..offsets.len()).all(|i| *asked & (1 << i) == 0 || offsets[i].is_some());
        if all {
            self.select(ctx);
        }
    }

    /// Promotes the replica with the highest offset (ties: the earlier member) among those
    /// that answered, in the election epoch.
    fn select(&mut self, ctx: &mut impl Context) {
        let Some(f) = &self.failover else {
            return;
        };
        let Stage::Selection {
            offsets,
            newest_epoch,
            ..
        } = &f.stage
        else {
            return;
        };
        let epoch = f.epoch;
        if *newest_epoch >= epoch {
            self.current_epoch = self.current_epoch.max(*newest_epoch);
            self.abort(FailoverAbort::Superseded, ctx);
            return;
        }
        let mut best: Option<(usize, Lsn)> = None;
        let mut answered: MemberSet = 0;
        for (m, offset) in offsets.iter().enumerate() {
            let Some(lsn) = *offset else { continue };
            answered |= 1 << m;
            // Strictly greater: ties keep the earlier member.
            if best.is_none_or(|(_, b)| lsn > b) {
                best = Some((m, lsn));
            }
        }
        let Some((chosen, _)) = best else {
            self.abort(FailoverAbort::NoGoodReplica, ctx);
            return;
        };
        let replicas = answered & !(1 << chosen);
        let forced = f.forced;
        if forced {
            // The sentinel does not know how far the old master got: nothing to tell.
            let candidate = self.node(chosen);
            ctx.note(Note::ManualFailover {
                candidate,
                behind: None,
            });
        }
        ctx.send(self.node(chosen), Msg::Promote { epoch, replicas });
        self.failover = Some(Failover {
            forced,
            epoch,
            deadline: ctx.now() + self.spec.failover_timeout,
            stage: Stage::Promotion {
                promoted: chosen,
                replicas,
                after_round: self.round,
            },
        });
        ctx.set_timer(
            self.spec.failover_timeout,
            Timer::SentinelFailoverDeadline { epoch },
        );
    }

    fn on_failover_deadline(&mut self, epoch: Epoch, ctx: &mut impl Context) {
        let Some(f) = &self.failover else {
            return;
        };
        if f.epoch != epoch || ctx.now() < f.deadline {
            return; // a deadline of an earlier stage or attempt
        }
        match f.stage {
            Stage::Election => self.abort(FailoverAbort::NotElected, ctx),
            Stage::Selection { .. } => self.select(ctx),
            Stage::Promotion { .. } => self.abort(FailoverAbort::PromotionTimeout, ctx),
        }
    }

    fn abort(&mut self, reason: FailoverAbort, ctx: &mut impl Context) {
        if let Some(f) = self.failover.take() {
            ctx.note(Note::SentinelFailoverAborted {
                epoch: f.epoch,
                reason,
            });
        }
    }

    /// The promoted replica answered as primary: reconfigure the others, tell the other
    /// sentinels, switch.
    fn promotion_confirmed(&mut self, ctx: &mut impl Context) {
        let Some(Failover {
            epoch,
            stage: Stage::Promotion {
                promoted, replicas, ..
            },
            ..
        }) = self.failover.take()
        else {
            debug_assert!(false, "confirmed a promotion that was not awaited");
            return;
        };
        let master = self.node(promoted);
        for m in 0..self.members.len() {
            if replicas & (1 << m) != 0 {
                ctx.send(
                    self.node(m),
                    Msg::Follow {
                        epoch,
                        primary: master,
                    },
                );
                self.members[m].needs_follow = false;
            }
        }
        self.send_to_peers(Msg::SentinelNewMaster { epoch, master }, ctx);
        self.switch_master(epoch, promoted, ctx);
    }

    fn on_new_master(
        &mut self,
        from: NodeId,
        epoch: Epoch,
        master: NodeId,
        ctx: &mut impl Context,
    ) {
        if self.peer_index(from).is_none() {
            return;
        }
        let Some(m) = self.spec.cluster.member_index(master) else {
            return;
        };
        if epoch > self.config_epoch {
            self.abort(FailoverAbort::Superseded, ctx);
            self.switch_master(epoch, m, ctx);
        } else if epoch < self.config_epoch {
            let ours = Msg::SentinelNewMaster {
                epoch: self.config_epoch,
                master: self.current_master(),
            };
            ctx.send(from, ours);
        }
    }

    /// Adopts member `m` as the master of config epoch `epoch` (`+switch-master`).
    fn switch_master(&mut self, epoch: Epoch, m: usize, ctx: &mut impl Context) {
        debug_assert!(epoch > self.config_epoch, "configs only move forward");
        debug_assert!(self.failover.is_none());
        let old = self.master;
        self.master = m;
        self.config_epoch = epoch;
        self.current_epoch = self.current_epoch.max(epoch);
        self.sdown = false;
        self.odown = false;
        self.master_ok_at = ctx.now();
        for p in &mut self.peers {
            p.down = false;
        }
        for v in &mut self.members {
            v.claims_primary_since = None;
        }
        self.members[m].needs_follow = false;
        if old != m {
            self.members[old].needs_follow = true;
        }
        // A new master may fail over at once (Redis resets the failover start time).
        self.next_failover_at = SimTime::ZERO;
        let master = self.node(m);
        ctx.note(Note::SentinelSwitchedMaster { master, epoch });
        for &s in &self.spec.subscribers {
            ctx.send(s, Msg::SentinelSwitchMaster { epoch, master });
        }
        self.arm_down_check(ctx);
    }

    // ---- members ----

    fn on_probe_reply(&mut self, from: NodeId, round: u32, primary: bool, ctx: &mut impl Context) {
        let Some(m) = self.spec.cluster.member_index(from) else {
            return;
        };
        let now = ctx.now();
        let back = now.saturating_since(self.members[m].last_reply) > self.spec.down_after;
        self.members[m].last_reply = now;
        if m == self.master {
            if primary {
                self.master_answered(ctx);
            }
            return;
        }
        if back {
            self.members[m].needs_follow = true;
        }
        if let Some(Failover {
            stage:
                Stage::Promotion {
                    promoted,
                    after_round,
                    ..
                },
            ..
        }) = &self.failover
            && *promoted == m
        {
            if primary && round > *after_round {
                self.promotion_confirmed(ctx);
            }
            return;
        }
        self.keep_in_line(m, primary, ctx);
    }

    /// Tells member `m` to follow the master when it claimed to be primary for more than
    /// [`CONVERT_WAIT`], or when it has to be told (back from a silence, or a former master).
    /// Only while the master looks healthy and no failover of this sentinel is running.
    fn keep_in_line(&mut self, m: usize, primary: bool, ctx: &mut impl Context) {
        let now = ctx.now();
        let sane = self.failover.is_none() && !self.sdown;
        let follow = Msg::Follow {
            epoch: self.config_epoch,
            primary: self.current_master(),
        };
        let node = self.node(m);
        let v = &mut self.members[m];
        let tell = if primary {
            let since = *v.claims_primary_since.get_or_insert(now);
            sane && now.saturating_since(since) > CONVERT_WAIT
        } else {
            v.claims_primary_since = None;
            sane && v.needs_follow
        };
        if tell {
            v.needs_follow = false;
            if primary {
                v.claims_primary_since = Some(now); // ask again only after another wait
            }
            ctx.send(node, follow);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::replication::ReplicationMode;
    use crate::logic::testing::Recorder;

    /// Members 0 (the initial master), 1 and 2.
    const A: NodeId = 10;
    const B: NodeId = 11;
    const C: NodeId = 12;
    const S0: NodeId = 20;
    const S1: NodeId = 21;
    const S2: NodeId = 22;
    /// Not a sentinel of the set.
    const S3: NodeId = 23;
    const SUB: NodeId = 30;
    const NS: SimDuration = SimDuration::from_nanos(1);

    fn secs(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    fn just_before(t: SimTime) -> SimTime {
        SimTime(t.as_nanos() - 1)
    }

    fn cluster() -> Arc<ClusterSpec> {
        Arc::new(ClusterSpec {
            name: "redis".to_string(),
            members: vec![A, B, C],
            member_zone: vec![0, 1, 2],
            initial_primary: 0,
            mode: ReplicationMode::Asynchronous {
                ship_interval: SimDuration::from_millis(100),
            },
            epoch_fencing: true,
            lease: None,
            subscribers: Vec::new(),
            strict: false,
            wal_sender_timeout: SimDuration::from_secs(60),
        })
    }

    /// `down-after` 5 s, a ping every second from 1 s, `failover-timeout` 60 s (so an election
    /// gives up after 10 s and attempts are at least 120 s apart), one subscriber.
    fn spec(sentinels: &[NodeId], quorum: u32) -> Arc<SentinelSpec> {
        Arc::new(SentinelSpec {
            cluster: cluster(),
            sentinels: sentinels.to_vec(),
            quorum,
            down_after: SimDuration::from_secs(5),
            ping_interval: SimDuration::from_secs(1),
            failover_timeout: SimDuration::from_secs(60),
            phase: Phase::Fixed(SimDuration::from_secs(1)),
            subscribers: vec![SUB],
        })
    }

    fn started(spec: Arc<SentinelSpec>, index: usize) -> (Sentinel, Recorder) {
        let mut ctx = Recorder::new(spec.sentinels[index]);
        let mut s = Sentinel::new(spec, index);
        s.start(&mut ctx);
        let expected = vec![
            (secs(1), Timer::SentinelTick),
            (secs(5) + NS, Timer::SentinelDownAfter),
        ];
        assert_eq!(ctx.timers, expected);
        (s, ctx)
    }

    fn recv(s: &mut Sentinel, ctx: &mut Recorder, from: NodeId, msg: Msg) {
        s.on_message(from, msg, ctx);
    }

    fn pong(round: u32, primary: bool) -> Msg {
        Msg::ProbeReply { round, primary }
    }

    fn ask(master: NodeId, epoch: Epoch, candidate: NodeId) -> Msg {
        Msg::SentinelIsMasterDown {
            master,
            epoch,
            candidate,
        }
    }

    fn answer(master: NodeId, down: bool, leader: NodeId, leader_epoch: Epoch) -> Msg {
        Msg::SentinelIsMasterDownReply {
            master,
            down,
            leader,
            leader_epoch,
        }
    }

    fn lsn(round: u32, lsn: Lsn, epoch: Epoch) -> Msg {
        Msg::LsnReply { round, lsn, epoch }
    }

    fn follow(epoch: Epoch, primary: NodeId) -> Msg {
        Msg::Follow { epoch, primary }
    }

    fn sdown(master: NodeId) -> Note {
        Note::SentinelSubjectivelyDown { master }
    }

    fn odown(master: NodeId) -> Note {
        Note::SentinelObjectivelyDown { master }
    }

    fn aborted(epoch: Epoch, reason: FailoverAbort) -> Note {
        Note::SentinelFailoverAborted { epoch, reason }
    }

    /// Fires the sentinel's timers in time order (ties in the order they were set) up to
    /// `until` inclusive, then leaves the clock at `until`. After each firing, every member
    /// pinged replies at once with `answers(member, now)`: `Some(primary)`, or `None` for
    /// silence. Probes are removed from `ctx.sent`; every other message stays.
    fn run(
        s: &mut Sentinel,
        ctx: &mut Recorder,
        until: SimTime,
        answers: impl Fn(NodeId, SimTime) -> Option<bool>,
    ) {
        while let Some(i) = (0..ctx.timers.len()).min_by_key(|&i| (ctx.timers[i].0, i))
            && ctx.timers[i].0 <= until
        {
            let (t, timer) = ctx.timers.remove(i);
            ctx.now = t;
            s.on_timer(timer, ctx);
            let mut probes = Vec::new();
            ctx.sent.retain(|&(to, m)| match m {
                Msg::Probe { round } => {
                    probes.push((to, round));
                    false
                }
                _ => true,
            });
            for (to, round) in probes {
                if let Some(primary) = answers(to, t) {
                    s.on_message(to, pong(round, primary), ctx);
                }
            }
        }
        ctx.now = until;
    }

    /// The master answers as primary at 1 s, then falls silent; the replicas always answer.
    fn master_dies_after_1s(n: NodeId, t: SimTime) -> Option<bool> {
        if n == A {
            (t == secs(1)).then_some(true)
        } else {
            Some(false)
        }
    }

    /// After the switch to C: C answers as primary, A and B as replicas.
    fn c_leads(n: NodeId, _: SimTime) -> Option<bool> {
        Some(n == C)
    }

    /// S0 of three sentinels (quorum 2) finds the master SDOWN at 6 s + 1 ns; S1 agrees and
    /// votes for it. Returns with S0 elected and its offset queries checked and cleared.
    fn elected_s0() -> (Sentinel, Recorder) {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        run(&mut s, &mut ctx, secs(6) + NS, master_dies_after_1s);
        let asks = vec![(S1, ask(A, 1, NO_NODE)), (S2, ask(A, 1, NO_NODE))];
        assert_eq!(ctx.take_sent(), asks);
        recv(&mut s, &mut ctx, S1, answer(A, true, NO_NODE, 0));
        let asks = vec![(S1, ask(A, 2, S0)), (S2, ask(A, 2, S0))];
        assert_eq!(ctx.take_sent(), asks);
        recv(&mut s, &mut ctx, S1, answer(A, true, S0, 2));
        let notes = vec![
            sdown(A),
            odown(A),
            Note::SentinelTryFailover { epoch: 2 },
            Note::SentinelElected { epoch: 2 },
        ];
        assert_eq!(ctx.notes, notes);
        let queries = vec![
            (B, Msg::LsnQuery { round: 2 }),
            (C, Msg::LsnQuery { round: 2 }),
        ];
        assert_eq!(ctx.take_sent(), queries);
        ctx.notes.clear();
        (s, ctx)
    }

    /// [`elected_s0`], then B reports offset 7 and C offset 9: S0 promotes C, which answers
    /// the ping at 7 s as primary. Returns after the switch, with its effects cleared.
    fn switched_to_c() -> (Sentinel, Recorder) {
        let (mut s, mut ctx) = elected_s0();
        recv(&mut s, &mut ctx, B, lsn(2, 7, 1));
        recv(&mut s, &mut ctx, C, lsn(2, 9, 1));
        run(&mut s, &mut ctx, secs(7), c_leads);
        assert_eq!(s.current_master(), C);
        ctx.sent.clear();
        ctx.notes.clear();
        (s, ctx)
    }

    // ---- pings and SDOWN ----

    #[test]
    fn every_member_is_pinged_each_interval_from_the_phase() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        ctx.timers.clear();
        ctx.now = secs(1);
        s.on_timer(Timer::SentinelTick, &mut ctx);
        let probes: Vec<_> = [A, B, C]
            .into_iter()
            .map(|n| (n, Msg::Probe { round: 1 }))
            .collect();
        assert_eq!(ctx.take_sent(), probes);
        assert_eq!(ctx.timers, vec![(secs(2), Timer::SentinelTick)]);
        assert_eq!((s.current_master(), s.config_epoch()), (A, 1));
        assert_eq!((s.current_epoch(), s.vote()), (1, (NO_NODE, 0)));
    }

    #[test]
    fn sdown_only_after_more_than_down_after_without_a_valid_reply() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        // The master answers as primary at 1 s, then only as a replica (it restarted as one):
        // those answers are not valid replies from a master.
        let as_replica_after_1s = |n: NodeId, t: SimTime| Some(n == A && t == secs(1));
        run(&mut s, &mut ctx, secs(6), as_replica_after_1s);
        // At 6 s the last valid reply is exactly down_after old: not yet down.
        assert!(!s.is_subjectively_down());
        assert!(ctx.notes.is_empty() && ctx.sent.is_empty());
        let checks: Vec<_> = ctx
            .timers
            .iter()
            .filter(|(_, t)| *t == Timer::SentinelDownAfter)
            .collect();
        assert_eq!(checks, vec![&(secs(6) + NS, Timer::SentinelDownAfter)]);
        run(&mut s, &mut ctx, secs(6) + NS, as_replica_after_1s);
        assert!(s.is_subjectively_down());
        assert!(!s.is_objectively_down());
        assert_eq!(ctx.notes, vec![sdown(A)]);
        let asks = vec![(S1, ask(A, 1, NO_NODE)), (S2, ask(A, 1, NO_NODE))];
        assert_eq!(ctx.take_sent(), asks);
    }

    #[test]
    fn a_valid_reply_ends_sdown_and_restarts_the_clock() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        let answers = |n: NodeId, t: SimTime| match n {
            A if t == secs(1) || t == secs(8) => Some(true),
            A if t == secs(7) => Some(false),
            A => None,
            _ => Some(false),
        };
        run(&mut s, &mut ctx, secs(6) + NS, answers);
        ctx.sent.clear();
        // At 7 s the master answers as a replica: still down, and the others are asked again.
        run(&mut s, &mut ctx, secs(7), answers);
        assert!(s.is_subjectively_down());
        let asks = vec![(S1, ask(A, 1, NO_NODE)), (S2, ask(A, 1, NO_NODE))];
        assert_eq!(ctx.take_sent(), asks);
        // At 8 s it answers as primary: up again, and down again after 5 s more of silence.
        run(&mut s, &mut ctx, secs(8), answers);
        assert!(!s.is_subjectively_down());
        ctx.sent.clear();
        run(&mut s, &mut ctx, secs(13), answers);
        assert!(!s.is_subjectively_down());
        assert!(ctx.sent.is_empty(), "nothing to ask while it is up");
        run(&mut s, &mut ctx, secs(13) + NS, answers);
        assert!(s.is_subjectively_down());
        assert_eq!(ctx.notes, vec![sdown(A), sdown(A)]);
    }

    // ---- ODOWN ----

    #[test]
    fn odown_needs_quorum_agreements_about_the_current_master() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 3), 0);
        run(&mut s, &mut ctx, secs(6) + NS, master_dies_after_1s);
        ctx.sent.clear();
        recv(&mut s, &mut ctx, S1, answer(A, true, NO_NODE, 0));
        recv(&mut s, &mut ctx, S2, answer(A, false, NO_NODE, 0));
        // About another master, or from a node that is not one of the sentinels: no count.
        recv(&mut s, &mut ctx, S2, answer(B, true, NO_NODE, 0));
        recv(&mut s, &mut ctx, S3, answer(A, true, NO_NODE, 0));
        assert!(!s.is_objectively_down());
        assert!(ctx.sent.is_empty());
        assert_eq!(ctx.notes, vec![sdown(A)]);
        // The third agreement makes the quorum of 3: ODOWN, and a failover attempt in epoch 2.
        recv(&mut s, &mut ctx, S2, answer(A, true, NO_NODE, 0));
        assert!(s.is_objectively_down());
        let notes = vec![sdown(A), odown(A), Note::SentinelTryFailover { epoch: 2 }];
        assert_eq!(ctx.notes, notes);
        let asks = vec![(S1, ask(A, 2, S0)), (S2, ask(A, 2, S0))];
        assert_eq!(ctx.take_sent(), asks);
        assert_eq!(s.failover_epoch(), Some(2));
        assert_eq!((s.current_epoch(), s.vote()), (2, (S0, 2)));
    }

    #[test]
    fn an_agreement_older_than_five_pings_no_longer_counts() {
        for (agreed_at, counts) in [(secs(1), false), (secs(1) + NS, true)] {
            let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
            run(&mut s, &mut ctx, agreed_at, master_dies_after_1s);
            recv(&mut s, &mut ctx, S1, answer(A, true, NO_NODE, 0));
            // SDOWN at 6 s + 1 ns: the agreement is 5 s + 1 ns, or exactly 5 s, old.
            run(&mut s, &mut ctx, secs(6) + NS, master_dies_after_1s);
            assert!(s.is_subjectively_down());
            assert_eq!(s.is_objectively_down(), counts, "agreed at {agreed_at}");
            assert_eq!(s.failover_epoch(), counts.then_some(2));
            if !counts {
                recv(&mut s, &mut ctx, S1, answer(A, true, NO_NODE, 0));
                assert!(s.is_objectively_down(), "a fresh agreement counts");
            }
        }
    }

    // ---- votes ----

    #[test]
    fn one_vote_per_epoch_for_the_first_candidate_and_none_for_an_older_epoch() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 2);
        ctx.now = secs(3);
        let mut exchange = |from: NodeId, msg: Msg| exchange_once(&mut s, &mut ctx, from, msg);
        // A plain question is no vote.
        let r = exchange(S1, ask(A, 1, NO_NODE));
        assert_eq!(r, vec![(S1, answer(A, false, NO_NODE, 0))]);
        // The first candidate of epoch 2 gets the vote; the second does not.
        let r = exchange(S0, ask(A, 2, S0));
        assert_eq!(r, vec![(S0, answer(A, false, S0, 2))]);
        let r = exchange(S1, ask(A, 2, S1));
        assert_eq!(r, vec![(S1, answer(A, false, S0, 2))]);
        let r = exchange(S0, ask(A, 2, S0));
        assert_eq!(
            r,
            vec![(S0, answer(A, false, S0, 2))],
            "asking again is harmless"
        );
        // A newer epoch gets a new vote; the older epoch is refused from then on.
        let r = exchange(S1, ask(A, 3, S1));
        assert_eq!(r, vec![(S1, answer(A, false, S1, 3))]);
        let r = exchange(S0, ask(A, 2, S0));
        assert_eq!(r, vec![(S0, answer(A, false, S1, 3))]);
        let r = exchange(S0, ask(A, 3, S0));
        assert_eq!(r, vec![(S0, answer(A, false, S1, 3))]);
        // Strangers get no answer; a question about another master gets no vote but our master.
        assert!(exchange(S3, ask(A, 9, S3)).is_empty());
        let r = exchange(S1, ask(B, 4, S1));
        let ours = Msg::SentinelNewMaster {
            epoch: 1,
            master: A,
        };
        assert_eq!(r, vec![(S1, answer(B, false, NO_NODE, 0)), (S1, ours)]);
        assert_eq!((s.vote(), s.current_epoch()), ((S1, 3), 3));
        // Having heard of a vote in epoch 5, it refuses epoch 4, though it never voted in it.
        recv(&mut s, &mut ctx, S1, answer(A, false, S0, 5));
        assert_eq!((s.vote(), s.current_epoch()), ((S1, 3), 5));
        let r = exchange_once(&mut s, &mut ctx, S0, ask(A, 4, S0));
        assert_eq!(r, vec![(S0, answer(A, false, S1, 3))]);
    }

    fn exchange_once(
        s: &mut Sentinel,
        ctx: &mut Recorder,
        from: NodeId,
        msg: Msg,
    ) -> Vec<(NodeId, Msg)> {
        recv(s, ctx, from, msg);
        ctx.take_sent()
    }

    #[test]
    fn voting_for_another_holds_back_this_sentinels_own_attempt() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 2);
        ctx.now = secs(3);
        recv(&mut s, &mut ctx, S0, ask(A, 2, S0));
        let hold = s.next_failover_at();
        assert!(hold >= secs(123) && hold < secs(124), "{hold}");
        assert_eq!(
            ctx.timers.last(),
            Some(&(hold, Timer::SentinelRetryFailover))
        );
        // Voting for itself (as a candidate does) holds nothing back beyond its own attempt.
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 2);
        ctx.now = secs(3);
        recv(&mut s, &mut ctx, S0, ask(A, 2, S2));
        assert_eq!(s.next_failover_at(), SimTime::ZERO);
    }

    #[test]
    fn the_answer_says_down_only_for_the_master_it_has_subjectively_down() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 1);
        run(&mut s, &mut ctx, secs(6) + NS, master_dies_after_1s);
        ctx.sent.clear();
        recv(&mut s, &mut ctx, S0, ask(A, 1, NO_NODE));
        assert_eq!(ctx.take_sent(), vec![(S0, answer(A, true, NO_NODE, 0))]);
        recv(&mut s, &mut ctx, A, pong(6, true));
        recv(&mut s, &mut ctx, S0, ask(A, 1, NO_NODE));
        assert_eq!(ctx.take_sent(), vec![(S0, answer(A, false, NO_NODE, 0))]);
    }

    #[test]
    fn the_vote_and_the_epochs_survive_a_crash_and_the_attempt_does_not() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 1), 2);
        ctx.now = secs(3);
        recv(&mut s, &mut ctx, S0, ask(A, 2, S0));
        s.crash();
        ctx.timers.clear();
        ctx.now = secs(100);
        s.start(&mut ctx);
        let expected = vec![
            (secs(101), Timer::SentinelTick),
            (secs(105) + NS, Timer::SentinelDownAfter),
        ];
        assert_eq!(ctx.timers, expected, "a full down_after of grace");
        assert_eq!((s.vote(), s.current_epoch()), ((S0, 2), 2));
        ctx.sent.clear();
        recv(&mut s, &mut ctx, S1, ask(A, 2, S1));
        assert_eq!(ctx.take_sent(), vec![(S1, answer(A, false, S0, 2))]);

        // A candidate that crashes forgets its attempt, not its epoch.
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 1), 0);
        run(&mut s, &mut ctx, secs(6) + NS, master_dies_after_1s);
        assert_eq!(s.failover_epoch(), Some(2));
        s.crash();
        assert_eq!((s.failover_epoch(), s.current_epoch()), (None, 2));
        assert!(!s.is_subjectively_down());
    }

    // ---- the failover ----

    #[test]
    fn the_elected_leader_promotes_the_highest_offset_and_reconfigures_everyone() {
        let (mut s, mut ctx) = elected_s0();
        recv(&mut s, &mut ctx, B, lsn(2, 7, 1));
        assert!(ctx.sent.is_empty(), "C has not answered yet");
        recv(&mut s, &mut ctx, C, lsn(2, 9, 1));
        let promote = Msg::Promote {
            epoch: 2,
            replicas: 1 << 1,
        };
        assert_eq!(ctx.take_sent(), vec![(C, promote)]);
        // An answer to a ping sent before the promotion proves nothing.
        recv(&mut s, &mut ctx, C, pong(6, true));
        assert!(ctx.sent.is_empty() && ctx.notes.is_empty());
        assert_eq!(s.current_master(), A);
        // C answers the next ping as primary: switch.
        run(&mut s, &mut ctx, secs(7), c_leads);
        let expected = vec![
            (S1, ask(A, 2, NO_NODE)),
            (S2, ask(A, 2, NO_NODE)),
            (B, follow(2, C)),
            (
                S1,
                Msg::SentinelNewMaster {
                    epoch: 2,
                    master: C,
                },
            ),
            (
                S2,
                Msg::SentinelNewMaster {
                    epoch: 2,
                    master: C,
                },
            ),
            (
                SUB,
                Msg::SentinelSwitchMaster {
                    epoch: 2,
                    master: C,
                },
            ),
        ];
        assert_eq!(ctx.take_sent(), expected);
        let switched = Note::SentinelSwitchedMaster {
            master: C,
            epoch: 2,
        };
        assert_eq!(ctx.notes, vec![switched]);
        assert_eq!((s.current_master(), s.config_epoch()), (C, 2));
        assert_eq!((s.current_epoch(), s.failover_epoch()), (2, None));
        assert!(!s.is_subjectively_down() && !s.is_objectively_down());
        ctx.notes.clear();
        // The stale deadlines of the attempt change nothing (A stays away).
        run(&mut s, &mut ctx, secs(70), |n, _| {
            (n != A).then_some(n == C)
        });
        assert!(ctx.sent.is_empty() && ctx.notes.is_empty());
    }

    #[test]
    fn a_tie_goes_to_the_earlier_member() {
        let (mut s, mut ctx) = elected_s0();
        recv(&mut s, &mut ctx, C, lsn(2, 8, 1));
        recv(&mut s, &mut ctx, B, lsn(2, 8, 1));
        let promote = Msg::Promote {
            epoch: 2,
            replicas: 1 << 2,
        };
        assert_eq!(ctx.take_sent(), vec![(B, promote)]);
    }

    #[test]
    fn missing_offsets_are_given_up_on_after_one_ping_interval() {
        let (mut s, mut ctx) = elected_s0();
        recv(&mut s, &mut ctx, C, lsn(1, 50, 1)); // for another round
        recv(&mut s, &mut ctx, B, lsn(2, 7, 1));
        run(&mut s, &mut ctx, secs(7), master_dies_after_1s);
        assert!(
            !ctx.sent
                .iter()
                .any(|(_, m)| matches!(m, Msg::Promote { .. }))
        );
        ctx.sent.clear();
        run(&mut s, &mut ctx, secs(7) + NS, master_dies_after_1s);
        let promote = Msg::Promote {
            epoch: 2,
            replicas: 0,
        };
        assert_eq!(ctx.take_sent(), vec![(B, promote)]);
        recv(&mut s, &mut ctx, C, lsn(2, 9, 1));
        assert!(ctx.sent.is_empty(), "too late");

        // Nobody answers: the attempt is abandoned.
        let (mut s, mut ctx) = elected_s0();
        run(&mut s, &mut ctx, secs(7) + NS, master_dies_after_1s);
        let no_good = aborted(2, FailoverAbort::NoGoodReplica);
        assert_eq!(ctx.notes, vec![no_good]);
        assert!(
            !ctx.sent
                .iter()
                .any(|(_, m)| matches!(m, Msg::Promote { .. }))
        );
        assert_eq!(s.failover_epoch(), None);
    }

    #[test]
    fn a_replica_that_saw_a_newer_epoch_supersedes_the_attempt() {
        let (mut s, mut ctx) = elected_s0();
        recv(&mut s, &mut ctx, B, lsn(2, 7, 1));
        recv(&mut s, &mut ctx, C, lsn(2, 9, 4));
        assert!(
            ctx.sent.is_empty(),
            "no promotion in an epoch the store has outgrown"
        );
        let superseded = aborted(2, FailoverAbort::Superseded);
        assert_eq!(ctx.notes, vec![superseded]);
        assert_eq!(s.current_epoch(), 4);
        // The next attempt, once allowed, runs in a newer epoch still.
        let hold = s.next_failover_at();
        ctx.now = hold;
        recv(&mut s, &mut ctx, S1, answer(A, true, NO_NODE, 0));
        assert_eq!(s.failover_epoch(), Some(5));
        let asks = vec![(S1, ask(A, 5, S0)), (S2, ask(A, 5, S0))];
        assert_eq!(ctx.take_sent(), asks);
    }

    #[test]
    fn a_candidate_not_elected_in_time_gives_up_and_retries_after_twice_failover_timeout() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 1), 0);
        run(&mut s, &mut ctx, secs(6) + NS, master_dies_after_1s);
        // Alone it is ODOWN (quorum 1), but one vote of three is no majority.
        assert_eq!(s.failover_epoch(), Some(2));
        recv(&mut s, &mut ctx, S1, answer(A, true, S1, 2));
        recv(&mut s, &mut ctx, S2, answer(A, false, NO_NODE, 0));
        let tried = vec![sdown(A), odown(A), Note::SentinelTryFailover { epoch: 2 }];
        assert_eq!(ctx.notes, tried);
        let hold = s.next_failover_at();
        let start = hold.saturating_since(secs(6) + NS + SimDuration::from_secs(120));
        assert!(start < MAX_DESYNC, "random start delay {start}");
        let deadline = secs(16) + NS + start;
        assert!(
            ctx.timers
                .contains(&(deadline, Timer::SentinelFailoverDeadline { epoch: 2 }))
        );
        run(
            &mut s,
            &mut ctx,
            just_before(deadline),
            master_dies_after_1s,
        );
        assert_eq!(s.failover_epoch(), Some(2));
        run(&mut s, &mut ctx, deadline, master_dies_after_1s);
        assert_eq!(s.failover_epoch(), None);
        assert_eq!(ctx.notes[3..], [aborted(2, FailoverAbort::NotElected)]);
        // Still ODOWN at every ping, but no new attempt before the hold is over.
        run(&mut s, &mut ctx, just_before(hold), master_dies_after_1s);
        assert_eq!(s.failover_epoch(), None);
        assert_eq!(ctx.notes.len(), 4);
        ctx.sent.clear();
        run(&mut s, &mut ctx, hold, master_dies_after_1s);
        assert_eq!(ctx.notes[4..], [Note::SentinelTryFailover { epoch: 3 }]);
        assert_eq!(
            ctx.take_sent(),
            vec![(S1, ask(A, 3, S0)), (S2, ask(A, 3, S0))]
        );
    }

    #[test]
    fn failover_timeout_abandons_a_promotion_never_seen() {
        let (mut s, mut ctx) = elected_s0();
        recv(&mut s, &mut ctx, B, lsn(2, 7, 1));
        recv(&mut s, &mut ctx, C, lsn(2, 9, 1));
        ctx.sent.clear();
        // C keeps answering as a replica: the promotion never took.
        let stuck = |n: NodeId, _: SimTime| (n != A).then_some(false);
        let promoted_at = secs(6) + NS;
        let timeout_at = promoted_at + SimDuration::from_secs(60);
        run(&mut s, &mut ctx, just_before(timeout_at), stuck);
        assert_eq!(s.failover_epoch(), Some(2));
        assert!(ctx.notes.is_empty());
        run(&mut s, &mut ctx, timeout_at, stuck);
        assert_eq!(ctx.notes, vec![aborted(2, FailoverAbort::PromotionTimeout)]);
        assert_eq!((s.current_master(), s.config_epoch()), (A, 1));
        assert!(
            !ctx.sent
                .iter()
                .any(|(_, m)| matches!(m, Msg::Follow { .. } | Msg::SentinelNewMaster { .. }))
        );
    }

    #[test]
    fn an_announced_newer_master_is_adopted_and_an_older_one_answered() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 1), 0);
        run(&mut s, &mut ctx, secs(6) + NS, master_dies_after_1s);
        assert_eq!(s.failover_epoch(), Some(2));
        ctx.sent.clear();
        ctx.notes.clear();
        let new_master = |epoch, master| Msg::SentinelNewMaster { epoch, master };
        recv(&mut s, &mut ctx, S1, new_master(3, B));
        let notes = vec![
            aborted(2, FailoverAbort::Superseded),
            Note::SentinelSwitchedMaster {
                master: B,
                epoch: 3,
            },
        ];
        assert_eq!(ctx.notes, notes);
        let switch = Msg::SentinelSwitchMaster {
            epoch: 3,
            master: B,
        };
        assert_eq!(ctx.take_sent(), vec![(SUB, switch)]);
        assert_eq!((s.current_master(), s.config_epoch()), (B, 3));
        assert_eq!((s.current_epoch(), s.failover_epoch()), (3, None));
        assert!(!s.is_subjectively_down());
        // An older one is answered with ours; the same one, or a stranger's, changes nothing.
        recv(&mut s, &mut ctx, S2, new_master(2, C));
        assert_eq!(ctx.take_sent(), vec![(S2, new_master(3, B))]);
        recv(&mut s, &mut ctx, S2, new_master(3, B));
        recv(&mut s, &mut ctx, S3, new_master(9, C));
        assert!(ctx.sent.is_empty());
        assert_eq!(s.current_master(), B);
        assert_eq!(ctx.notes.len(), 2);
    }

    // ---- keeping members in line ----

    #[test]
    fn a_member_back_from_a_long_silence_is_told_whom_to_follow() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        // B is silent 7 s (2 s to 7 s), C 5 s (2 s to 5 s): only B's is longer than down_after.
        let answers = |n: NodeId, t: SimTime| match n {
            A => Some(true),
            B => (t == secs(1) || t >= secs(8)).then_some(false),
            _ => (t == secs(1) || t >= secs(6)).then_some(false),
        };
        run(&mut s, &mut ctx, secs(7), answers);
        assert!(ctx.sent.is_empty());
        run(&mut s, &mut ctx, secs(8), answers);
        assert_eq!(ctx.take_sent(), vec![(B, follow(1, A))]);
        run(&mut s, &mut ctx, secs(20), answers);
        assert!(ctx.sent.is_empty(), "told once");
    }

    #[test]
    fn the_former_master_is_told_to_follow_the_new_one() {
        // Back as a replica (it restarted): at once.
        let (mut s, mut ctx) = switched_to_c();
        run(&mut s, &mut ctx, secs(8), c_leads);
        assert_eq!(ctx.take_sent(), vec![(A, follow(2, C))]);
        run(&mut s, &mut ctx, secs(20), c_leads);
        assert!(ctx.sent.is_empty(), "told once");

        // Still claiming to be primary (it was cut off, not down): after more than 8 s of it.
        let (mut s, mut ctx) = switched_to_c();
        let split_brain = |n: NodeId, _: SimTime| Some(n != B);
        run(&mut s, &mut ctx, secs(16), split_brain);
        assert!(ctx.sent.is_empty(), "claiming since 8 s");
        run(&mut s, &mut ctx, secs(17), split_brain);
        assert_eq!(ctx.take_sent(), vec![(A, follow(2, C))]);
        run(&mut s, &mut ctx, secs(25), split_brain);
        assert!(ctx.sent.is_empty());
        run(&mut s, &mut ctx, secs(26), split_brain);
        assert_eq!(
            ctx.take_sent(),
            vec![(A, follow(2, C))],
            "asked again while it claims"
        );
    }

    #[test]
    fn a_replica_claiming_primary_is_left_alone_while_the_master_is_down() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        // C claims to be primary from 2 s on (another sentinel may have promoted it).
        let answers = |n: NodeId, t: SimTime| match n {
            A => (t == secs(1)).then_some(true),
            B => Some(false),
            _ => Some(t >= secs(2)),
        };
        run(&mut s, &mut ctx, secs(30), answers);
        assert!(s.is_subjectively_down());
        assert!(
            !ctx.sent
                .iter()
                .any(|(_, m)| matches!(m, Msg::Follow { .. }))
        );
    }

    // ---- several sentinels over a network ----

    /// A small network for tests in which several state machines talk: every message takes
    /// [`net::LATENCY`]; a message is lost when its receiver is down, or cut off from the
    /// sender, when it arrives; timers set before a crash never fire.
    mod net {
        use super::*;
        use crate::logic::replication::Replica;
        use rand::RngExt;
        use std::collections::{BTreeMap, BTreeSet};

        pub const LATENCY: SimDuration = SimDuration::from_millis(1);

        /// A member that answers pings and offset queries with what it is told to, and obeys
        /// `Promote` and `Follow` (by epoch, as a replica does) only when `obeys`.
        #[derive(Clone, Copy, Debug)]
        pub struct Script {
            pub primary: bool,
            pub lsn: Lsn,
            pub epoch: Epoch,
            pub obeys: bool,
        }

        impl Script {
            fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Recorder) {
                match msg {
                    Msg::Probe { round } => {
                        let primary = self.primary;
                        ctx.send(from, Msg::ProbeReply { round, primary });
                    }
                    Msg::LsnQuery { round } => {
                        let (lsn, epoch) = (self.lsn, self.epoch);
                        ctx.send(from, Msg::LsnReply { round, lsn, epoch });
                    }
                    Msg::Promote { epoch, .. } if self.obeys && epoch > self.epoch => {
                        (self.primary, self.epoch) = (true, epoch);
                    }
                    Msg::Follow { epoch, .. } if self.obeys && epoch >= self.epoch => {
                        (self.primary, self.epoch) = (false, epoch);
                    }
                    _ => {}
                }
            }
        }

        pub enum Proc {
            Sentinel(Box<Sentinel>),
            Replica(Box<Replica>),
            Script(Script),
            /// Receives and records, nothing more (a subscriber).
            Sink,
        }

        struct Node {
            proc: Proc,
            ctx: Recorder,
            up: bool,
            incarnation: u32,
        }

        enum Event {
            Timer { timer: Timer, incarnation: u32 },
            Deliver { from: NodeId, msg: Msg },
        }

        #[derive(Default)]
        pub struct Net {
            nodes: BTreeMap<NodeId, Node>,
            queue: BTreeMap<(SimTime, u64), (NodeId, Event)>,
            seq: u64,
            now: SimTime,
            cut: BTreeSet<(NodeId, NodeId)>,
            /// Every message sent: when, from, to, what.
            pub sent: Vec<(SimTime, NodeId, NodeId, Msg)>,
            /// Every note: when, by whom, what.
            pub notes: Vec<(SimTime, NodeId, Note)>,
        }

        impl Net {
            /// Every node gets its own random stream (the recorders share one seed).
            pub fn add(&mut self, id: NodeId, proc: Proc) {
                let mut ctx = Recorder::new(id);
                for _ in 0..self.nodes.len() {
                    let _: u64 = ctx.rng().random();
                }
                let node = Node {
                    proc,
                    ctx,
                    up: true,
                    incarnation: 0,
                };
                self.nodes.insert(id, node);
            }

            pub fn sentinels(&mut self, spec: &Arc<SentinelSpec>) {
                for (i, &id) in spec.sentinels.iter().enumerate() {
                    let s = Sentinel::new(Arc::clone(spec), i);
                    self.add(id, Proc::Sentinel(Box::new(s)));
                }
            }

            pub fn replicas(&mut self, cluster: &Arc<ClusterSpec>) {
                for (i, &id) in cluster.members.iter().enumerate() {
                    let r = Replica::new(Arc::clone(cluster), i, None);
                    self.add(id, Proc::Replica(Box::new(r)));
                }
            }

            /// Starts every node at time zero, in address order.
            pub fn start(&mut self) {
                let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
                for id in ids {
                    let node = self.nodes.get_mut(&id).expect("listed");
                    match &mut node.proc {
                        Proc::Sentinel(s) => s.start(&mut node.ctx),
                        Proc::Replica(r) => r.start(&mut node.ctx),
                        Proc::Script(_) | Proc::Sink => {}
                    }
                    self.flush(id);
                }
            }

            fn push(&mut self, at: SimTime, to: NodeId, event: Event) {
                self.seq += 1;
                self.queue.insert((at, self.seq), (to, event));
            }

            /// Hands what `id` did to the network, the timer queue and the note log.
            fn flush(&mut self, id: NodeId) {
                let node = self.nodes.get_mut(&id).expect("known node");
                let sent = std::mem::take(&mut node.ctx.sent);
                let timers = std::mem::take(&mut node.ctx.timers);
                let notes = std::mem::take(&mut node.ctx.notes);
                let incarnation = node.incarnation;
                for (to, msg) in sent {
                    self.sent.push((self.now, id, to, msg));
                    self.push(self.now + LATENCY, to, Event::Deliver { from: id, msg });
                }
                for (at, timer) in timers {
                    self.push(at, id, Event::Timer { timer, incarnation });
                }
                self.notes
                    .extend(notes.into_iter().map(|n| (self.now, id, n)));
            }

            /// Processes every event up to `until` inclusive.
            pub fn run_until(&mut self, until: SimTime) {
                while let Some(entry) = self.queue.first_entry()
                    && entry.key().0 <= until
                {
                    let ((at, _), (id, event)) = entry.remove_entry();
                    self.now = at;
                    let cut = match &event {
                        Event::Deliver { from, .. } => self.is_cut(*from, id),
                        Event::Timer { .. } => false,
                    };
                    let Some(node) = self.nodes.get_mut(&id) else {
                        continue;
                    };
                    if !node.up || cut {
                        continue;
                    }
                    node.ctx.now = at;
                    let ctx = &mut node.ctx;
                    match (event, &mut node.proc) {
                        (Event::Timer { incarnation, .. }, _)
                            if incarnation != node.incarnation =>
                        {
                            continue;
                        }
                        (Event::Timer { timer, .. }, Proc::Sentinel(s)) => s.on_timer(timer, ctx),
                        (Event::Timer { timer, .. }, Proc::Replica(r)) => r.on_timer(timer, ctx),
                        (Event::Deliver { from, msg }, Proc::Sentinel(s)) => {
                            s.on_message(from, msg, ctx)
                        }
                        (Event::Deliver { from, msg }, Proc::Replica(r)) => {
                            r.on_message(from, msg, ctx)
                        }
                        (Event::Deliver { from, msg }, Proc::Script(sc)) => {
                            sc.on_message(from, msg, ctx)
                        }
                        _ => {}
                    }
                    self.flush(id);
                }
                self.now = until;
            }

            pub fn crash(&mut self, id: NodeId) {
                let node = self.nodes.get_mut(&id).expect("known node");
                node.up = false;
                match &mut node.proc {
                    Proc::Sentinel(s) => s.crash(),
                    Proc::Replica(r) => r.crash(),
                    Proc::Script(_) | Proc::Sink => {}
                }
            }

            pub fn restart(&mut self, id: NodeId) {
                let node = self.nodes.get_mut(&id).expect("known node");
                node.up = true;
                node.incarnation += 1;
                node.ctx.now = self.now;
                match &mut node.proc {
                    Proc::Sentinel(s) => s.start(&mut node.ctx),
                    Proc::Replica(r) => r.restart(&mut node.ctx),
                    Proc::Script(_) | Proc::Sink => {}
                }
                self.flush(id);
            }

            /// A message from `from` to `to`, sent now.
            pub fn inject(&mut self, from: NodeId, to: NodeId, msg: Msg) {
                self.push(self.now + LATENCY, to, Event::Deliver { from, msg });
            }

            fn is_cut(&self, a: NodeId, b: NodeId) -> bool {
                self.cut.contains(&(a.min(b), a.max(b)))
            }

            /// Cuts `a` off from every other node, or heals every cut of `a`.
            pub fn isolate(&mut self, a: NodeId, isolated: bool) {
                let others: Vec<NodeId> = self.nodes.keys().copied().filter(|&b| b != a).collect();
                for b in others {
                    self.partition(a, b, isolated);
                }
            }

            pub fn partition(&mut self, a: NodeId, b: NodeId, cut: bool) {
                let pair = (a.min(b), a.max(b));
                if cut {
                    self.cut.insert(pair);
                } else {
                    self.cut.remove(&pair);
                }
            }

            pub fn sentinel(&self, id: NodeId) -> &Sentinel {
                match &self.nodes[&id].proc {
                    Proc::Sentinel(s) => s,
                    _ => panic!("{id} is not a sentinel"),
                }
            }

            pub fn replica(&self, id: NodeId) -> &Replica {
                match &self.nodes[&id].proc {
                    Proc::Replica(r) => r,
                    _ => panic!("{id} is not a replica"),
                }
            }

            pub fn script(&mut self, id: NodeId) -> &mut Script {
                match &mut self.nodes.get_mut(&id).expect("known node").proc {
                    Proc::Script(s) => s,
                    _ => panic!("{id} is not a script"),
                }
            }

            /// The messages sent that `pick` selects, as (from, to, message).
            pub fn messages(&self, pick: impl Fn(&Msg) -> bool) -> Vec<(NodeId, NodeId, Msg)> {
                self.sent
                    .iter()
                    .filter(|(_, _, _, m)| pick(m))
                    .map(|&(_, from, to, m)| (from, to, m))
                    .collect()
            }

            /// When each message `pick` selects was sent.
            pub fn times(&self, pick: impl Fn(&Msg) -> bool) -> Vec<SimTime> {
                self.sent
                    .iter()
                    .filter(|(_, _, _, m)| pick(m))
                    .map(|&(t, ..)| t)
                    .collect()
            }

            pub fn notes_of(&self, id: NodeId) -> Vec<Note> {
                self.notes
                    .iter()
                    .filter(|(_, by, _)| *by == id)
                    .map(|&(_, _, n)| n)
                    .collect()
            }

            /// When `id` noted `note`.
            pub fn noted_at(&self, id: NodeId, note: Note) -> Vec<SimTime> {
                self.notes
                    .iter()
                    .filter(|&&(_, by, n)| by == id && n == note)
                    .map(|&(t, ..)| t)
                    .collect()
            }
        }
    }

    use net::{LATENCY, Net, Proc, Script};

    fn is_promote(m: &Msg) -> bool {
        matches!(m, Msg::Promote { .. })
    }

    fn is_follow(m: &Msg) -> bool {
        matches!(m, Msg::Follow { .. })
    }

    /// Scripted members: A the primary, B at offset 7, C at offset 9, all in epoch 1.
    fn scripted(net: &mut Net) {
        for (id, primary, lsn) in [(A, true, 0), (B, false, 7), (C, false, 9)] {
            let script = Script {
                primary,
                lsn,
                epoch: 1,
                obeys: true,
            };
            net.add(id, Proc::Script(script));
        }
        net.add(SUB, Proc::Sink);
    }

    fn with_phase(spec: Arc<SentinelSpec>, phase: Phase) -> Arc<SentinelSpec> {
        let mut s = (*spec).clone();
        s.phase = phase;
        Arc::new(s)
    }

    /// Real replicas, three sentinels (quorum 2) pinging a third of a second apart; B has 7
    /// entries of A's log, C 9; master A crashes at 10 s and the net runs until 40 s.
    fn master_crashed_among_real_replicas() -> Net {
        let spec = with_phase(
            spec(&[S0, S1, S2], 2),
            Phase::Stagger(SimDuration::from_millis(333)),
        );
        let mut net = Net::default();
        net.replicas(&spec.cluster);
        net.sentinels(&spec);
        net.add(SUB, Proc::Sink);
        net.start();
        net.run_until(SimTime::from_millis(500));
        // B has 7 entries of A's log, C 9.
        net.inject(
            A,
            B,
            Msg::Ship {
                epoch: 1,
                first: 1,
                last: 7,
            },
        );
        net.inject(
            A,
            C,
            Msg::Ship {
                epoch: 1,
                first: 1,
                last: 9,
            },
        );
        net.run_until(secs(10));
        net.crash(A);
        net.run_until(secs(40));
        net
    }

    #[test]
    fn end_to_end_the_master_crashes_and_the_most_advanced_replica_takes_over() {
        let net = master_crashed_among_real_replicas();
        let promote = Msg::Promote {
            epoch: 2,
            replicas: 1 << 1,
        };
        assert_eq!(net.messages(is_promote), vec![(S1, C, promote)]);
        // S1's last valid reply from A came at 9.335 s. SDOWN 5 s later (14.335 s); S0 agrees
        // (SDOWN since 14.002 s): ODOWN at 14.337 s. S0 and S2 vote for S1 (14.339 s), which
        // asks for the offsets and promotes one round trip later.
        assert_eq!(
            net.times(is_promote),
            vec![SimTime::from_millis(14_341) + NS]
        );
        assert_eq!(net.messages(is_follow), vec![(S1, B, follow(2, C))]);
        let switch = Msg::SentinelSwitchMaster {
            epoch: 2,
            master: C,
        };
        let switches = net.messages(|m| matches!(m, Msg::SentinelSwitchMaster { .. }));
        assert_eq!(
            switches,
            vec![(S1, SUB, switch), (S0, SUB, switch), (S2, SUB, switch)]
        );
        let elected: Vec<_> = net
            .notes
            .iter()
            .filter(|(_, _, n)| matches!(n, Note::SentinelElected { .. }))
            .map(|&(_, by, n)| (by, n))
            .collect();
        assert_eq!(elected, vec![(S1, Note::SentinelElected { epoch: 2 })]);
        for id in [S0, S1, S2] {
            let s = net.sentinel(id);
            assert_eq!(
                (s.current_master(), s.config_epoch()),
                (C, 2),
                "sentinel {id}"
            );
        }
        let (b, c) = (net.replica(B), net.replica(C));
        assert!(c.is_primary() && !b.is_primary());
        assert_eq!((b.epoch(), c.epoch()), (2, 2));
    }

    #[test]
    fn end_to_end_the_crashed_master_comes_back_and_follows_the_new_one() {
        let mut net = master_crashed_among_real_replicas();
        // A comes back as a replica following nobody: every sentinel tells it to follow C,
        // at its first ping (S0's of 60 s is on the wire when A comes back).
        net.restart(A);
        net.run_until(secs(70));
        let to_a: Vec<_> = net
            .messages(is_follow)
            .into_iter()
            .filter(|&(_, to, _)| to == A)
            .collect();
        let f = follow(2, C);
        assert_eq!(to_a, vec![(S0, A, f), (S1, A, f), (S2, A, f)]);
        let a = net.replica(A);
        assert!(!a.is_primary());
        assert_eq!((a.epoch(), a.log().last()), (2, 9), "A caught up from C");
        assert_eq!(net.messages(is_promote).len(), 1, "no second failover");
    }

    #[test]
    fn a_master_that_restarts_at_once_as_a_replica_is_replaced_and_then_told_to_follow() {
        // A restarts within a second, as a replica following nobody: never silent for long,
        // but never a valid master reply either.
        let spec = spec(&[S0, S1, S2], 2);
        let spec = with_phase(spec, Phase::Stagger(SimDuration::from_millis(333)));
        let mut net = Net::default();
        net.replicas(&spec.cluster);
        net.sentinels(&spec);
        net.add(SUB, Proc::Sink);
        net.start();
        net.run_until(SimTime::from_millis(500));
        net.inject(
            A,
            C,
            Msg::Ship {
                epoch: 1,
                first: 1,
                last: 9,
            },
        );
        net.run_until(secs(10));
        net.crash(A);
        net.run_until(SimTime::from_millis(10_500));
        net.restart(A);
        net.run_until(secs(30));
        let promote = Msg::Promote {
            epoch: 2,
            replicas: 1 << 1,
        };
        assert_eq!(net.messages(is_promote), vec![(S1, C, promote)]);
        // Only its having been the master says A must be told: once by each sentinel, at its
        // first ping after the switch (S1 switched at 15.335 s, the others 1 ms later).
        let to_a: Vec<_> = net
            .messages(is_follow)
            .into_iter()
            .filter(|&(_, to, _)| to == A)
            .collect();
        let f = follow(2, C);
        assert_eq!(to_a, vec![(S2, A, f), (S0, A, f), (S1, A, f)]);
        let a = net.replica(A);
        assert!(!a.is_primary());
        assert_eq!((a.epoch(), a.log().last()), (2, 9));
    }

    #[test]
    fn a_former_master_back_from_a_partition_is_converted_after_the_wait() {
        let spec = with_phase(
            spec(&[S0, S1, S2], 2),
            Phase::Stagger(SimDuration::from_millis(333)),
        );
        let mut net = Net::default();
        net.replicas(&spec.cluster);
        net.sentinels(&spec);
        net.add(SUB, Proc::Sink);
        net.start();
        net.run_until(secs(10));
        net.isolate(A, true);
        net.run_until(secs(60));
        assert!(
            net.replica(A).is_primary(),
            "cut off, A still believes it leads"
        );
        let promoted = net.messages(is_promote);
        assert_eq!(promoted.len(), 1);
        let new_master = promoted[0].1;
        net.isolate(A, false);
        net.run_until(secs(80));
        // Each sentinel's first ping after the heal (S0's of 60 s is on the wire at the heal)
        // finds A claiming to be primary; each tells it to follow once the claim is more than
        // 8 s old: at its 10th ping.
        let to_a: Vec<_> = net
            .sent
            .iter()
            .filter(|&&(_, _, to, m)| to == A && is_follow(&m))
            .map(|&(t, from, _, m)| (t, from, m))
            .collect();
        let f = follow(2, new_master);
        let expected = vec![
            (SimTime::from_millis(69_002), S0, f),
            (SimTime::from_millis(69_335), S1, f),
            (SimTime::from_millis(69_668), S2, f),
        ];
        assert_eq!(to_a, expected);
        let a = net.replica(A);
        assert!(!a.is_primary());
        assert_eq!(a.epoch(), 2);
        assert!(
            net.notes_of(A)
                .iter()
                .any(|n| matches!(n, Note::Demoted { epoch: 1, .. }))
        );
    }

    #[test]
    fn a_split_vote_elects_nobody_and_a_later_attempt_in_a_higher_epoch_wins() {
        // Two sentinels with quorum 1, pinging in lockstep: both find the master down at the
        // same instant and both ask for votes in epoch 2; each has voted for itself.
        let spec = spec(&[S0, S1], 1);
        let mut net = Net::default();
        scripted(&mut net);
        net.sentinels(&spec);
        net.start();
        net.run_until(secs(10));
        net.crash(A);
        net.run_until(secs(60));
        for id in [S0, S1] {
            let notes = net.notes_of(id);
            assert_eq!(
                notes,
                vec![
                    sdown(A),
                    odown(A),
                    Note::SentinelTryFailover { epoch: 2 },
                    aborted(2, FailoverAbort::NotElected),
                ],
                "sentinel {id}"
            );
            assert_eq!(net.sentinel(id).vote(), (id, 2));
        }
        assert!(net.messages(is_promote).is_empty());
        // Both wait 2 × failover_timeout plus their own random delay; the earlier one asks
        // first in epoch 3 and gets the other's vote.
        let (g0, g1) = (
            net.sentinel(S0).next_failover_at(),
            net.sentinel(S1).next_failover_at(),
        );
        assert!(g0.saturating_since(g1).max(g1.saturating_since(g0)) > LATENCY.saturating_mul(2));
        let (first, second, at) = if g0 < g1 { (S0, S1, g0) } else { (S1, S0, g1) };
        net.run_until(secs(200));
        let try3 = Note::SentinelTryFailover { epoch: 3 };
        assert_eq!(net.noted_at(first, try3), vec![at]);
        assert!(net.noted_at(second, try3).is_empty());
        assert_eq!(net.sentinel(second).vote(), (first, 3));
        let promote = Msg::Promote {
            epoch: 3,
            replicas: 1 << 1,
        };
        assert_eq!(net.messages(is_promote), vec![(first, C, promote)]);
        for id in [S0, S1] {
            let s = net.sentinel(id);
            assert_eq!((s.current_master(), s.config_epoch()), (C, 3));
        }
    }

    #[test]
    fn a_sentinel_alone_in_seeing_the_master_down_never_fails_over() {
        let spec = spec(&[S0, S1, S2], 2);
        let mut net = Net::default();
        scripted(&mut net);
        net.sentinels(&spec);
        net.start();
        net.run_until(secs(10));
        net.partition(S0, A, true);
        net.run_until(secs(600));
        assert_eq!(net.notes_of(S0), vec![sdown(A)]);
        assert!(net.notes_of(S1).is_empty() && net.notes_of(S2).is_empty());
        let candidates = net.messages(
            |m| matches!(m, Msg::SentinelIsMasterDown { candidate, .. } if *candidate != NO_NODE),
        );
        assert!(candidates.is_empty(), "{candidates:?}");
        assert!(
            net.messages(|m| matches!(m, Msg::LsnQuery { .. } | Msg::Promote { .. }))
                .is_empty()
        );
        // The other two answered every question: A is not down for them.
        let answers = net.messages(|m| matches!(m, Msg::SentinelIsMasterDownReply { .. }));
        assert!(!answers.is_empty());
        assert!(
            answers
                .iter()
                .all(|&(_, to, m)| to == S0 && m == answer(A, false, NO_NODE, 0))
        );
    }

    #[test]
    fn a_partitioned_sentinel_cannot_fail_over_whatever_its_quorum() {
        for quorum in [2, 1] {
            let spec = spec(&[S0, S1, S2], quorum);
            let mut net = Net::default();
            scripted(&mut net);
            net.sentinels(&spec);
            net.start();
            net.run_until(secs(10));
            net.isolate(S0, true);
            net.run_until(secs(600));
            let notes = net.notes_of(S0);
            assert!(
                !notes
                    .iter()
                    .any(|n| matches!(n, Note::SentinelElected { .. }))
            );
            if quorum == 2 {
                assert_eq!(notes, vec![sdown(A)]);
            } else {
                // Alone it reaches ODOWN, but every attempt (2 × 60 s apart) finds no majority.
                let attempts: Vec<_> = notes
                    .iter()
                    .filter_map(|n| match n {
                        Note::SentinelTryFailover { epoch } => Some(*epoch),
                        _ => None,
                    })
                    .collect();
                assert_eq!(attempts, vec![2, 3, 4, 5, 6]);
                let gave_up = notes
                    .iter()
                    .filter(|n| {
                        matches!(
                            n,
                            Note::SentinelFailoverAborted {
                                reason: FailoverAbort::NotElected,
                                ..
                            }
                        )
                    })
                    .count();
                assert_eq!(gave_up, 5);
            }
            assert!(
                net.messages(|m| matches!(m, Msg::LsnQuery { .. } | Msg::Promote { .. }))
                    .is_empty()
            );
            for id in [S0, S1, S2] {
                assert_eq!(net.sentinel(id).current_master(), A);
            }
            assert!(net.notes_of(S1).is_empty() && net.notes_of(S2).is_empty());
            // Healed, it sees the master again.
            net.isolate(S0, false);
            net.run_until(secs(610));
            assert!(!net.sentinel(S0).is_subjectively_down());
        }
    }

    #[test]
    fn a_stuck_promotion_is_abandoned_and_a_later_attempt_succeeds() {
        // One sentinel (quorum 1: it is its own majority); C ignores the first Promote.
        let spec = spec(&[S0], 1);
        let mut net = Net::default();
        scripted(&mut net);
        net.sentinels(&spec);
        net.script(C).obeys = false;
        net.start();
        net.run_until(secs(10));
        net.crash(A);
        net.run_until(secs(100));
        let promotes = net.times(is_promote);
        assert_eq!(promotes.len(), 1);
        let gave_up = net.noted_at(S0, aborted(2, FailoverAbort::PromotionTimeout));
        assert_eq!(gave_up, vec![promotes[0] + SimDuration::from_secs(60)]);
        net.script(C).obeys = true;
        net.run_until(secs(200));
        let promote = |epoch| Msg::Promote {
            epoch,
            replicas: 1 << 1,
        };
        assert_eq!(
            net.messages(is_promote),
            vec![(S0, C, promote(2)), (S0, C, promote(3))]
        );
        let notes = net.notes_of(S0);
        let expected = vec![
            sdown(A),
            odown(A),
            Note::SentinelTryFailover { epoch: 2 },
            Note::SentinelElected { epoch: 2 },
            aborted(2, FailoverAbort::PromotionTimeout),
            Note::SentinelTryFailover { epoch: 3 },
            Note::SentinelElected { epoch: 3 },
            Note::SentinelSwitchedMaster {
                master: C,
                epoch: 3,
            },
        ];
        assert_eq!(notes, expected);
        // The second attempt waited 2 × failover_timeout (plus less than MAX_DESYNC).
        let tries = |e| net.noted_at(S0, Note::SentinelTryFailover { epoch: e })[0];
        let gap = tries(3).saturating_since(tries(2));
        assert!(
            gap >= SimDuration::from_secs(120) && gap < SimDuration::from_secs(121),
            "{gap}"
        );
        assert_eq!(net.messages(is_follow), vec![(S0, B, follow(3, C))]);
        assert_eq!(net.sentinel(S0).current_master(), C);
    }

    /// Alone (its two peers silent, no quorum), S0 sees the master down; an operator runs
    /// `SENTINEL FAILOVER`: the replica with the highest offset is promoted in a new epoch,
    /// with no vote asked, and the promotion is noted as made by hand.
    #[test]
    fn sentinel_failover_by_hand_promotes_without_quorum() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        run(&mut s, &mut ctx, secs(8), master_dies_after_1s);
        assert!(s.is_subjectively_down() && !s.is_objectively_down());
        recv(&mut s, &mut ctx, S3, Msg::ClusterQuery { token: 4 });
        let state = Msg::ClusterState {
            token: 4,
            leader: false,
        };
        assert_eq!(ctx.sent.last(), Some(&(S3, state)));
        ctx.sent.clear();
        ctx.notes.clear();
        recv(&mut s, &mut ctx, S3, Msg::ManualFailover { candidates: 0 });
        let asked: Vec<_> = ctx.take_sent();
        assert_eq!(
            asked,
            vec![
                (B, Msg::LsnQuery { round: 2 }),
                (C, Msg::LsnQuery { round: 2 })
            ],
            "no votes asked of the other sentinels"
        );
        assert_eq!(s.failover_epoch(), Some(2));
        recv(&mut s, &mut ctx, B, lsn(2, 40, 1));
        recv(&mut s, &mut ctx, C, lsn(2, 55, 1));
        let promote = Msg::Promote {
            epoch: 2,
            replicas: 1 << 1,
        };
        assert_eq!(ctx.take_sent(), vec![(C, promote)]);
        let by_hand = Note::ManualFailover {
            candidate: C,
            behind: None,
        };
        assert_eq!(ctx.notes, vec![by_hand], "no votes asked, none noted");
        // A second request while this one runs: -INPROG.
        ctx.notes.clear();
        recv(&mut s, &mut ctx, S3, Msg::ManualFailover { candidates: 0 });
        let refused = Note::ManualFailoverRefused {
            reason: ManualRefusal::InProgress,
        };
        assert_eq!(ctx.notes, vec![refused]);
        assert!(ctx.sent.is_empty());
    }

    /// With no replica answering, `SENTINEL FAILOVER` is refused (-NOGOODSLAVE); with the
    /// master healthy the sentinel says so to `SENTINEL master`.
    #[test]
    fn sentinel_failover_by_hand_needs_a_replica_that_answers() {
        let (mut s, mut ctx) = started(spec(&[S0, S1, S2], 2), 0);
        run(&mut s, &mut ctx, secs(3), |n, _| Some(n == A));
        recv(&mut s, &mut ctx, S3, Msg::ClusterQuery { token: 1 });
        let healthy = Msg::ClusterState {
            token: 1,
            leader: true,
        };
        assert_eq!(ctx.take_sent(), vec![(S3, healthy)]);
        let only_master = |n: NodeId, _| (n == A).then_some(true);
        run(&mut s, &mut ctx, secs(30), only_master);
        ctx.sent.clear();
        recv(&mut s, &mut ctx, S3, Msg::ManualFailover { candidates: 0 });
        let refused = Note::ManualFailoverRefused {
            reason: ManualRefusal::NoLiveCandidate,
        };
        assert_eq!(ctx.notes.last(), Some(&refused));
        assert!(ctx.sent.is_empty() && s.failover_epoch().is_none());
    }
}

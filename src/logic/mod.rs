//! Real protocol logic as sans-IO state machines.
//!
//! Every component here takes a message or a timer firing plus a [`Context`] and returns; it
//! owns no clock, opens no socket and never learns it is simulated. The kernel (`sim/`) drives
//! them in simulation; another driver could run the same code on tokio. The shared vocabulary
//! (addresses, messages, timers, observations) is defined here so that the kernel can carry it
//! as plain `Copy` data; the operations layer (`ops/`) speaks it too.
//!
//! | module | job |
//! |---|---|
//! | [`periodic`] | phases of periodic timers (fixed offset, stagger, random) |
//! | [`log`] | the write-ahead log: entries by LSN in `(epoch, first LSN)` segments |
//! | [`quorum`] | `synchronous_standby_names` (`FIRST k` / `ANY k`) commit rules |
//! | [`corruption`] | logical corruption: a bad transaction that replicates like any other |
//! | [`lease`] | heartbeat-based failure detection (a Patroni-style leader lease) |
//! | [`health_check`] | HAProxy/ALB/Route 53-style probing with `inter`, `timeout`, `fall`, `rise` |
//! | [`histogram`] | a load balancer's target response times in Prometheus' default buckets |
//! | [`replication`] | a database node: quorum commit, async shipping, epochs, catch-up |
//! | [`failover`] | the failover controller: detect, pick the most advanced replica, promote, fence |
//! | [`sentinel`] | Redis Sentinel: SDOWN/ODOWN by quorum, leader election by epoch, failover |
//! | [`routing`] | health-checked DNS (GSLB), regional load balancers and app servers |
//! | [`cdn`] | CDN edges: cached assets, origin groups with failover, stale-if-error |
//! | [`site`] | a static site (a status page): every node serves every request itself |
//! | [`rpc`] | blockchain RPC providers and the latency-aware balancer with maintenance mode |
//! | [`backup`] | snapshots, full archives and WAL archiving to immutable object storage |
//!
//! The table runs from the bottom up: a module uses only modules above it (besides the
//! vocabulary here). `periodic`, `log` and `quorum` stand alone; `corruption` reads a `log`;
//! `replication` builds on `log`, `quorum`, `corruption`, `lease` and `health_check`;
//! `failover` and `sentinel` drive `replication`'s members; `routing`'s load balancers keep a
//! `histogram`. The DBA's restore runbook, which uses `backup`'s schedules and archive ids, is
//! an operator's procedure and lives in [`crate::ops`]. Outside `logic`, only simulated time (`sim::time`) and the
//! seeded random streams (`rand_chacha`, `sim::rng`) are used, with the duration adapter
//! beside simulated time (`sim::time::duration_serde`) with which a [`periodic::Phase`] is
//! read.

pub mod backup;
pub mod cdn;
pub mod corruption;
pub mod failover;
pub mod health_check;
pub mod histogram;
pub mod lease;
pub mod log;
pub mod periodic;
pub mod quorum;
pub mod replication;
pub mod routing;
pub mod rpc;
pub mod sentinel;
pub mod site;

use crate::sim::time::{SimDuration, SimTime};
use rand_chacha::ChaCha8Rng;

// The small enums the messages, timers and notes carry, defined here (not in the modules
// that use them most) so that the vocabulary depends on no protocol module.

/// What a backup is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum BackupKind {
    /// An incremental snapshot (block-level: only changed data is uploaded, yet each one
    /// restores the whole database).
    Snapshot,
    /// A full copy, typically weekly, to another provider's cold storage.
    Archive,
}

/// Why a failover attempt was abandoned (Redis's `-failover-abort-*` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverAbort {
    /// Not elected within the election timeout (`-failover-abort-not-elected`).
    NotElected,
    /// No replica answered the offset query (`-failover-abort-no-good-slave`).
    NoGoodReplica,
    /// The promoted replica did not answer as primary within `failover_timeout`
    /// (`-failover-abort-slave-timeout`).
    PromotionTimeout,
    /// A newer epoch exists: another sentinel's switch was announced, or a replica has seen a
    /// newer epoch than the one this failover would promote in.
    Superseded,
}

/// A fixed step of a restore, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum RestoreStep {
    /// An instance to restore onto is ready.
    Provisioned,
    /// The backup is downloaded.
    Downloaded,
    /// The WAL archive was replayed to the recovery target.
    Replayed,
    /// Configuration and code are redeployed from version control.
    Redeployed,
    /// The restored data passed verification.
    Verified,
}

/// A status-page component's state, in Atlassian Statuspage's terms (the API's `status` of a
/// component).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ComponentState {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    UnderMaintenance,
}

/// A status-page incident's stage (Statuspage's incident `status`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum IncidentStage {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

/// How a runbook step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// Its action was carried out.
    Done,
    /// Its condition did not hold: nothing to do.
    Skipped,
    /// Its condition could not be checked (no answer): not done.
    Unchecked,
}

/// What set the restore procedure looking for a corruption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// Its scheduled integrity check.
    Schedule,
    /// Users' errors, past `user_report_after` (the procedure's own watch).
    Users,
    /// A runbook step started it (`Restore`): the on-call team, paged.
    Runbook,
}

/// Why a failover controller refused a manual failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManualRefusal {
    /// The cluster has a healthy leader (Patroni: a failover needs it gone; a switchover would
    /// be asked for instead).
    LeaderHealthy,
    /// None of the candidates is alive (Sentinel: `-NOGOODSLAVE No suitable replica to
    /// promote`).
    NoLiveCandidate,
    /// A failover is already under way (Sentinel: `-INPROG Failover already in progress`).
    InProgress,
}

/// A set of alert names (by their index in the topology's list of alert names, at most 64),
/// carried with alerts so the incident knows what it is about and the runbook to follow.
pub type AlertSet = u64;

/// A node's address: its index in the topology.
pub type NodeId = u32;
/// Marks "no node" in compact messages.
pub const NO_NODE: NodeId = u32::MAX;
/// Marks a gauge an exporter does not expose in a [`Msg::ScrapeReply`] (Prometheus then has
/// no series for it, which no rule counts).
pub const NO_SERIES: u32 = u32::MAX;
/// A log sequence number: position of an entry in a database log, from 1.
pub type Lsn = u64;
/// A failover generation. Epoch 1 belongs to the topology's initial primary.
pub type Epoch = u32;

/// A service of the topology (accounts, game state …), by its index.
pub type ServiceId = u8;

/// Identity of one client operation: the client node and its operation number, plus the
/// service it is for (how app servers know where to send it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpRef {
    pub client: NodeId,
    pub seq: u32,
    pub service: ServiceId,
}

/// The path a request took, so the reply can retrace it (like a TCP connection would).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// The regional load balancer, or [`NO_NODE`] when the client spoke to the app directly.
    pub lb: NodeId,
    /// The app server, or [`NO_NODE`] when the client spoke to the database directly.
    pub app: NodeId,
}

impl Route {
    pub const DIRECT: Route = Route {
        lb: NO_NODE,
        app: NO_NODE,
    };
}

/// A set of members of one datastore, by their index in its member list (at most 64).
pub type MemberSet = u64;

/// Every message that crosses the simulated network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    // ---- failure detection and leases ----
    /// A watched node is alive. Database nodes add their log position and role, which the
    /// controller uses for `maximum_lag_on_failover`, to spot a deposed primary and to tell
    /// a node that follows nobody whom to follow. `following` is the node itself for a primary.
    Heartbeat {
        sent_at: SimTime,
        lsn: Lsn,
        epoch: Epoch,
        following: NodeId,
    },
    /// The controller renewed the primary's lease (the leader key's TTL in Patroni terms).
    LeaseGranted {
        sent_at: SimTime,
    },
    // ---- failover ----
    LsnQuery {
        round: u32,
    },
    LsnReply {
        round: u32,
        lsn: Lsn,
        epoch: Epoch,
    },
    /// Become primary of `epoch`, replicating to `replicas`.
    Promote {
        epoch: Epoch,
        replicas: MemberSet,
    },
    /// Stop accepting writes: a newer epoch exists (fencing by message).
    Demote {
        epoch: Epoch,
    },
    /// Follow `primary` of `epoch`: sent to a restarted or deposed node.
    Follow {
        epoch: Epoch,
        primary: NodeId,
    },
    /// The primary's replica set changed (a member came back).
    Membership {
        epoch: Epoch,
        replicas: MemberSet,
    },
    /// A new primary announces itself to the datastore's direct subscribers.
    NewPrimary {
        epoch: Epoch,
    },
    // ---- replication ----
    Replicate {
        epoch: Epoch,
        lsn: Lsn,
    },
    /// A batch of consecutive entries `first..=last` of one epoch (asynchronous shipping).
    Ship {
        epoch: Epoch,
        first: Lsn,
        last: Lsn,
    },
    ReplicateAck {
        epoch: Epoch,
        lsn: Lsn,
    },
    /// A replica refused a write from an older epoch (fencing at the replica).
    Fenced {
        epoch: Epoch,
    },
    /// A replica that missed entries (or restarted) asks to be brought up to date.
    Rejoin {
        lsn: Lsn,
    },
    /// One segment of the primary's log (all entries of one epoch in `first..=last`).
    CatchUp {
        epoch: Epoch,
        first: Lsn,
        last: Lsn,
        done: bool,
    },
    // ---- client requests ----
    Request {
        op: OpRef,
        route: Route,
    },
    Reply {
        op: OpRef,
        route: Route,
        outcome: Outcome,
    },
    // ---- health checks and DNS ----
    Probe {
        round: u32,
    },
    ProbeReply {
        round: u32,
        primary: bool,
    },
    Resolve {
        cache: u32,
    },
    Resolved {
        cache: u32,
        endpoint: NodeId,
    },
    // ---- blockchain RPC ----
    /// A call to a blockchain node on behalf of a client operation.
    RpcCall {
        op: OpRef,
    },
    /// Its result, with the node's current block height.
    RpcResult {
        op: OpRef,
        ok: bool,
        head: u64,
    },
    /// `eth_blockNumber`: the balancer watching the chain.
    HeadQuery,
    HeadReply {
        head: u64,
    },
    // ---- CDN ----
    /// An edge asks an origin for an asset.
    OriginFetch {
        asset: u32,
    },
    /// The origin's answer: the asset's content.
    OriginReply {
        asset: u32,
    },
    // ---- Redis Sentinel ----
    /// `SENTINEL is-master-down-by-addr`: does the receiving sentinel have `master`
    /// subjectively down? With a `candidate` (not [`NO_NODE`]) it also asks for the receiver's
    /// vote for `candidate` as failover leader in `epoch`.
    SentinelIsMasterDown {
        master: NodeId,
        epoch: Epoch,
        candidate: NodeId,
    },
    /// The answer: `down` when the receiver has `master` subjectively down, and the vote it
    /// holds (`leader` in `leader_epoch`; [`NO_NODE`] and 0 when it was not asked to vote).
    SentinelIsMasterDownReply {
        master: NodeId,
        down: bool,
        leader: NodeId,
        leader_epoch: Epoch,
    },
    /// Sentinel to sentinel: `master` is the master of config epoch `epoch` (the receiver
    /// adopts it when newer than its own, and answers with its own when older).
    SentinelNewMaster {
        epoch: Epoch,
        master: NodeId,
    },
    /// A sentinel's `+switch-master` to its subscribers: `master` leads from config `epoch`.
    SentinelSwitchMaster {
        epoch: Epoch,
        master: NodeId,
    },
    // ---- backups (see `backup`) ----
    /// One segment (`first..=last` of `epoch`) of backup `id`'s content: sent ahead of its
    /// `BackupPut` on upload, and ahead of `BackupFetched` on download.
    BackupSegment {
        id: u32,
        epoch: Epoch,
        first: Lsn,
        last: Lsn,
    },
    /// Store backup `id` (its segments came just before): a consistent copy of the data up to
    /// `lsn`, `upload` bytes to transfer now, `full` bytes to transfer back on restore.
    BackupPut {
        id: u32,
        kind: BackupKind,
        lsn: Lsn,
        upload: u64,
        full: u64,
    },
    /// The store's answer to a put (`ok: false`: refused, e.g. an overwrite inside retention).
    BackupStored {
        id: u32,
        ok: bool,
    },
    /// Delete backup `id` (refused inside the retention period of immutable storage).
    BackupDelete {
        id: u32,
    },
    /// List the complete backups of `datastore`.
    BackupList {
        datastore: u8,
    },
    BackupListing {
        id: u32,
        kind: BackupKind,
        lsn: Lsn,
        taken_at: SimTime,
        full: u64,
    },
    /// End of a listing, with how far the datastore's WAL archive reaches (0: no archive).
    BackupListingEnd {
        datastore: u8,
        wal_lsn: Lsn,
    },
    /// Download chunk `chunk` (`len` bytes) of backup `id` (or of a WAL archive).
    BackupFetch {
        id: u32,
        chunk: u32,
        len: u64,
    },
    BackupChunk {
        id: u32,
        chunk: u32,
    },
    /// After the last chunk: send the content of `id` between `from` (exclusive) and `upto`.
    BackupContent {
        id: u32,
        from: Lsn,
        upto: Lsn,
    },
    /// The content of `id` has been sent.
    BackupFetched {
        id: u32,
    },
    /// The store has no such backup (or the WAL archive does not reach that far).
    BackupMissing {
        id: u32,
    },
    /// Continuous WAL archiving (`archive_command`): entries `first..=last` of `epoch`.
    WalArchive {
        datastore: u8,
        epoch: Epoch,
        first: Lsn,
        last: Lsn,
    },
    // ---- integrity and restore (see `restore`) ----
    /// Ask a database member for its error counters (`full: false`, a cheap metrics scrape)
    /// or to run an integrity check over its data (`full: true`).
    IntegrityQuery {
        full: bool,
    },
    /// `bad_lsn`: the first entry the integrity check found bad (0: clean or not checked);
    /// `first_error`: when queries first failed on inconsistent data ([`SimTime::MAX`]: never).
    IntegrityReport {
        bad_lsn: Lsn,
        epoch: Epoch,
        primary: bool,
        first_error: SimTime,
    },
    /// Maintenance for a restore: refuse (`on`) or accept writes again.
    Freeze {
        on: bool,
    },
    /// One segment of the restored data, sent ahead of `RestoreInstall`.
    RestoreSegment {
        epoch: Epoch,
        first: Lsn,
        last: Lsn,
    },
    /// Replace the data with the segments just sent (up to `lsn`) and start timeline `epoch`.
    RestoreInstall {
        epoch: Epoch,
        lsn: Lsn,
    },
    RestoreInstalled {
        epoch: Epoch,
    },
    /// To the failover controller: the restored cluster's primary is `primary`, in `epoch`.
    RestoreAppoint {
        epoch: Epoch,
        primary: NodeId,
    },
    // ---- monitoring ----
    /// A monitoring server scrapes a node's exporter (round `round` of its scrapes).
    Scrape {
        round: u32,
    },
    /// The exporter's answer: the node is up, whether it is a datastore's primary, and (for a
    /// load balancer) its response counters so far, all and errors. A datastore member adds
    /// its replication lag (postgres_exporter's `pg_replication_lag`) and the age of the last
    /// backup its agent completed (pgbackrest_exporter's
    /// `pgbackrest_backup_since_last_completion_seconds`), in milliseconds; [`NO_SERIES`]
    /// where the exporter has no such series (not a member, nothing replayed since the last
    /// start, no backup completed yet).
    ScrapeReply {
        round: u32,
        primary: bool,
        responses: u64,
        errors: u64,
        replication_lag_ms: u32,
        backup_age_ms: u32,
    },
    // ---- paging ----
    /// A monitoring server's alert `rule` fired (`firing`) or resolved: an event for the
    /// paging service (PagerDuty's Events API: trigger or resolve, keyed by server and rule).
    AlertNotify {
        rule: u16,
        firing: bool,
        /// The names of the alerts behind it (one for a server; a group's for Alertmanager).
        alerts: AlertSet,
    },
    /// The paging service notifies a responder of `incident`.
    Page {
        incident: u32,
    },
    /// A responder acknowledges `incident`.
    Acknowledge {
        incident: u32,
    },
    /// The paging service assigns `incident` to the responder whose acknowledgement it took:
    /// it is theirs to handle, about these alerts.
    Assigned {
        incident: u32,
        alerts: AlertSet,
    },
    /// The paging service tells whoever handles `incident` that it resolved.
    IncidentClosed {
        incident: u32,
    },
    /// The support desk asks a client population how its users fared since it last asked.
    TicketQuery,
    /// Operations its users started since then, and how many of them succeeded.
    Tickets {
        started: u32,
        succeeded: u32,
    },
    // ---- runbooks and communications ----
    /// `patronictl list`: does the cluster have a healthy leader? (`token` is echoed.)
    ClusterQuery {
        token: u32,
    },
    ClusterState {
        token: u32,
        leader: bool,
    },
    /// `patronictl failover --candidate …`: promote the most advanced live member of
    /// `candidates` by hand, accepting what it lacks. To a sentinel, `SENTINEL FAILOVER`
    /// (`candidates` empty: the sentinel chooses).
    ManualFailover {
        candidates: MemberSet,
    },
    /// Route 53 Application Recovery Controller: set the routing control of DNS endpoint
    /// `endpoint` (its index among the GSLB's endpoints) `On` or `Off`.
    RoutingControl {
        endpoint: u16,
        on: bool,
    },
    /// The blockchain features' maintenance flag, set or cleared by hand.
    MaintenanceFlag {
        on: bool,
    },
    /// Start the restore procedure (the runbook found a corruption to repair).
    RestoreStart,
    /// Set a status-page component's state.
    StatusPost {
        component: u16,
        state: ComponentState,
    },
    /// Post an update to the status page's incident.
    StatusUpdate {
        stage: IncidentStage,
    },
    // ---- monitoring, continued ----
    // New variants go last: the trace hash hashes each message with its variant's position,
    // so a variant inserted earlier would move the hash of every run that never sends it.
    /// After its `ScrapeReply`, a load balancer whose latency a rule reads sends its
    /// histogram's cumulative `_bucket` counters (see [`histogram`]): `counts` are buckets
    /// `first..first + 3`, `+Inf` last, so one exposition is
    /// [`histogram::BUCKET_MESSAGES`] messages. Other nodes send none.
    ScrapeBuckets {
        round: u32,
        first: u8,
        counts: [u64; histogram::BUCKETS_PER_MESSAGE],
    },
}

// Every message rides by value in the kernel's event queue and on the network's links: a
// variant that grew `Msg` past 40 bytes would grow every queued event of every run.
const _: () = assert!(std::mem::size_of::<Msg>() <= 40);

/// How a request ended, as seen by the server that answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Committed at this log position.
    Committed { epoch: Epoch, lsn: Lsn },
    /// Refused (not the primary, no healthy backend …): a fast failure.
    Refused,
    /// A read answered from static content: a success with nothing durable behind it.
    Served,
}

/// Every timer a process can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Send the next heartbeat (lease renewal).
    Heartbeat,
    /// The controller's loop (`loop_wait`): check leases, drive failover.
    Check,
    /// The primary's lease may have run out.
    LeaseExpiry,
    /// Next health-check round.
    HealthTick,
    /// Probes of `round` that have not answered by now have failed.
    ProbeTimeout { round: u32 },
    /// The client issues its next operation of one stream (one service's workload).
    NextOp { stream: u8 },
    /// An attempt of an operation timed out (only with retries).
    OpTimeout { seq: u32, attempt: u32 },
    /// A DNS cache entry expired.
    CacheExpiry { cache: u32 },
    /// Ship the log entries accumulated since the last batch (asynchronous replication).
    ShipLog,
    /// An edge's fetch of `asset` (its `attempt`-th) has waited long enough for its origin.
    OriginTimeout { asset: u32, attempt: u32 },
    /// Start using the primary learnt from a notice (its TTL has passed).
    SwitchPrimary { node: NodeId, epoch: Epoch },
    // ---- Redis Sentinel ----
    /// The sentinel's periodic loop: ping every member; ask the other sentinels while the
    /// master is down.
    SentinelTick,
    /// The master may have gone more than `down-after-milliseconds` without a valid reply.
    SentinelDownAfter,
    /// A stage of the sentinel's failover attempt of `epoch` is due (election timeout, offsets
    /// to decide on, promotion timeout).
    SentinelFailoverDeadline { epoch: Epoch },
    /// The wait between two failover attempts is over: start one if the master is still down.
    SentinelRetryFailover,
    // ---- backups and restore ----
    /// A scheduled backup of `kind` is due.
    BackupDue { kind: BackupKind },
    /// Archive the WAL written since the last time (`archive_timeout`).
    WalArchiveDue,
    /// The store finished receiving backup `id`.
    UploadDone { id: u32 },
    /// The store has chunk `chunk` of `id` ready for `to`.
    ChunkReady { to: NodeId, id: u32, chunk: u32 },
    /// An app server finished its own work on a request (see `routing::Capacity`) and
    /// passes it on; `lb` is the balancer it came through.
    Served { op: OpRef, lb: NodeId },
    /// The restore runbook's metrics scrape.
    ErrorScrape,
    /// The restore runbook's scheduled integrity check.
    IntegrityCheck,
    /// A runbook step is due (a fixed step ended, or answers were awaited long enough);
    /// `token` tells a current step from a superseded one.
    RunbookStep { token: u32 },
    // ---- monitoring ----
    /// The monitoring server's next scrape round is due (`scrape_interval`).
    ScrapeDue,
    /// Round `round`'s `scrape_timeout` is over: targets that did not answer are down.
    ScrapeDeadline { round: u32 },
    /// The monitoring server evaluates its alerting rules (`evaluation_interval`).
    RuleEvaluation,
    // ---- paging ----
    /// `incident`'s current escalation rule ran out of time (`token` tells a current wait
    /// from one an acknowledgement or a resolution ended).
    Escalate { incident: u32, token: u32 },
    /// `incident`'s `acknowledgement_timeout` is over: it re-triggers unless resolved.
    AckTimeout { incident: u32, token: u32 },
    /// A responder is done reacting to the page for `incident`: they acknowledge.
    Respond { incident: u32 },
    /// Alertmanager flushes aggregation group `group` (`group_wait`, then `group_interval`).
    GroupFlush { group: u16, token: u32 },
    /// The support desk reads the tickets of the last period (every `every`).
    SupportPoll,
    /// Run `run` of a runbook: its current step is done, or its check went unanswered
    /// (`token` tells the current wait from a superseded one).
    RunStep { run: u32, token: u32 },
}

/// Observations recorded for the timeline and the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The controller found `node` dead (its lease ran out).
    Detected { node: NodeId },
    /// A node became primary of `epoch`.
    Promoted { epoch: Epoch },
    /// A node stopped being primary (fenced, demoted or lease lost).
    Demoted { epoch: Epoch, reason: DemoteReason },
    /// A client, app or DNS resolver started sending to a different endpoint.
    Rerouted { to: NodeId },
    /// A health checker changed its view of a target.
    TargetHealth { target: NodeId, healthy: bool },
    /// Failover could not proceed: no eligible replica.
    NoCandidate,
    /// A node discarded log entries above `lsn` to follow a new primary (like `pg_rewind`).
    Rewound { lsn: Lsn, discarded: u64 },
    // ---- Redis Sentinel ----
    /// A sentinel found `master` subjectively down (`+sdown`).
    SentinelSubjectivelyDown { master: NodeId },
    /// Enough sentinels agree that `master` is down (`+odown`).
    SentinelObjectivelyDown { master: NodeId },
    /// A sentinel started an election in `epoch` (`+try-failover`).
    SentinelTryFailover { epoch: Epoch },
    /// A sentinel won the election of `epoch` and leads the failover (`+elected-leader`).
    SentinelElected { epoch: Epoch },
    /// A sentinel abandoned its failover attempt of `epoch` (`-failover-abort-*`).
    SentinelFailoverAborted { epoch: Epoch, reason: FailoverAbort },
    /// A sentinel now takes `master` as the master, of config `epoch` (`+switch-master`).
    SentinelSwitchedMaster { master: NodeId, epoch: Epoch },
    /// A CDN edge gave up on an origin and turned to the next one of its origin group.
    OriginFailover { from: NodeId, to: NodeId },
    /// The platform's blockchain features entered (`on`) or left maintenance mode.
    Maintenance { on: bool },
    // ---- backups, corruption and restore ----
    /// A store holds backup `id` of `kind`, consistent up to `lsn`.
    BackupStored { id: u32, kind: BackupKind, lsn: Lsn },
    /// A backup could not be stored (refused, or no answer from the store).
    BackupFailed { id: u32 },
    /// Immutable storage refused to delete (`delete`) or overwrite backup `id` inside its
    /// retention period.
    RetentionRefused { id: u32, delete: bool },
    /// A bad transaction (a logical corruption of `ppm` parts per million of the rows) was
    /// committed at `lsn`; it replicates like any other.
    CorruptionInjected { lsn: Lsn, ppm: u32 },
    /// The restore procedure found the corruption (`by`: what set it looking).
    CorruptionDetected { lsn: Lsn, by: Detection },
    /// The integrity check run by hand (on users' reports or a runbook's word) found nothing.
    NoCorruptionFound,
    /// A restore began: backup `id` from store `source`, replayed up to `target`.
    RestoreStarted {
        source: NodeId,
        id: u32,
        target: Lsn,
    },
    /// A source failed during the restore; the runbook turns to the next.
    RestoreSourceFailed { source: NodeId, id: u32 },
    /// A fixed step of the restore finished.
    RestoreStep { step: RestoreStep },
    /// The restored data (up to `lsn`) is live again, as timeline `epoch`.
    Restored { epoch: Epoch, lsn: Lsn },
    /// No clean backup could be restored.
    RestoreImpossible,
    /// Alerting rule `rule` of this monitoring server started firing.
    AlertFiring { rule: u16 },
    /// Alerting rule `rule` of this monitoring server stopped firing.
    AlertResolved { rule: u16 },
    /// The paging service opened `incident` for alert `rule` of the server on `server`.
    IncidentTriggered {
        incident: u32,
        server: NodeId,
        rule: u16,
    },
    /// The paging service notified `responder` of `incident` (escalation rule `level`).
    Paged {
        incident: u32,
        responder: NodeId,
        level: u16,
    },
    /// `by` acknowledged `incident`.
    Acknowledged { incident: u32, by: NodeId },
    /// `incident` re-triggered: acknowledged, but not resolved within `acknowledgement_timeout`.
    Retriggered { incident: u32 },
    /// `incident` was resolved (its alert resolved).
    IncidentResolved { incident: u32 },
    /// Users' complaints reached the on-call: the support desk raised an incident
    /// (`failing_ppm` of their actions failed in the last period).
    UsersReporting { failing_ppm: u32 },
    // ---- runbooks and communications ----
    /// A runbook began for `incident` (`incident` 0: started by automation).
    RunbookStarted { runbook: u16, incident: u32 },
    /// Step `step` of a runbook ended.
    RunbookStep {
        runbook: u16,
        step: u16,
        outcome: StepOutcome,
    },
    /// A runbook's check of a cluster: it has a leader (`leader`), or not.
    ClusterChecked { leader: bool },
    /// The controller promoted `candidate` by hand, `behind` writes behind the last position
    /// the old primary reported: the writes at risk, as the operator was told (`None`: the
    /// controller does not know, as a sentinel does not).
    ManualFailover {
        candidate: NodeId,
        behind: Option<u64>,
    },
    /// The controller refused a manual failover.
    ManualFailoverRefused { reason: ManualRefusal },
    /// The status page shows `component` as `state`.
    StatusChanged {
        component: u16,
        state: ComponentState,
    },
    /// The status page's incident moved to `stage`.
    StatusUpdated { stage: IncidentStage },
    /// A routing control of the GSLB turned `on` or off for DNS endpoint `endpoint`.
    RoutingControlSet { endpoint: NodeId, on: bool },
    /// An RPC balancer's maintenance flag was set (`on`) or cleared by hand.
    MaintenanceFlagSet { on: bool },
    /// A post on a public channel other than the status page (social media), at `stage`.
    Posted { channel: u16, stage: IncidentStage },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoteReason {
    LeaseExpired,
    FencedByReplica,
    DemotedByController,
    /// Its data was replaced by a restore.
    Restored,
}

/// What a state machine may do. Implemented by the simulation kernel's glue, and by test
/// harnesses in the unit tests.
pub trait Context {
    fn now(&self) -> SimTime;
    fn me(&self) -> NodeId;
    fn send(&mut self, to: NodeId, msg: Msg);
    fn set_timer(&mut self, after: SimDuration, timer: Timer);
    fn rng(&mut self) -> &mut ChaCha8Rng;
    fn note(&mut self, note: Note);
}

#[cfg(test)]
pub(crate) mod testing {
    //! A recording [`Context`] for unit tests: every effect is kept for inspection.
    use super::*;
    use crate::sim::rng::component_rng;

    pub struct Recorder {
        pub now: SimTime,
        pub me: NodeId,
        pub sent: Vec<(NodeId, Msg)>,
        pub timers: Vec<(SimTime, Timer)>,
        pub notes: Vec<Note>,
        rng: ChaCha8Rng,
    }

    impl Recorder {
        pub fn new(me: NodeId) -> Self {
            Recorder {
                now: SimTime::ZERO,
                me,
                sent: Vec::new(),
                timers: Vec::new(),
                notes: Vec::new(),
                rng: component_rng(0, "test"),
            }
        }
        pub fn at(&mut self, t: SimTime) -> &mut Self {
            self.now = t;
            self
        }
        #[allow(dead_code)]
        pub fn take_sent(&mut self) -> Vec<(NodeId, Msg)> {
            std::mem::take(&mut self.sent)
        }
    }

    impl Context for Recorder {
        fn now(&self) -> SimTime {
            self.now
        }
        fn me(&self) -> NodeId {
            self.me
        }
        fn send(&mut self, to: NodeId, msg: Msg) {
            self.sent.push((to, msg));
        }
        fn set_timer(&mut self, after: SimDuration, timer: Timer) {
            self.timers.push((self.now + after, timer));
        }
        fn rng(&mut self) -> &mut ChaCha8Rng {
            &mut self.rng
        }
        fn note(&mut self, note: Note) {
            self.notes.push(note);
        }
    }
}

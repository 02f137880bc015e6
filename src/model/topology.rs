//! Topology files: where everything is, how far apart, and what depends on what.
//!
//! The file lists providers → regions → zones, nodes placed in zones (or in a region, for
//! multi-zone services such as a load balancer), and the roles nodes play: database members,
//! monitors/failover controllers, app servers, regional load balancers, health-checked DNS and
//! client populations. Validation resolves every name to an index and loads the containment
//! and dependency structure into a `petgraph` graph, used to reject dependency cycles.

use super::error::{InputError, Source};
use super::{Dur, Size, limits};
use crate::logic::backup::{Cron, StoreSpec};
use crate::logic::health_check::HealthCheckSpec;
use crate::logic::periodic::Phase;
use crate::logic::quorum::StandbyRule;
use crate::logic::replication::ReplicationMode;
use crate::logic::routing::Capacity;
use crate::sim::network::{Jitter, NetworkLayout, Place};
use crate::sim::time::SimDuration;
use petgraph::graph::DiGraph;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// The file format
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Topology")]
pub struct TopologyFile {
    pub name: String,
    pub providers: Vec<ProviderDef>,
    pub latency: LatencyDef,
    pub nodes: Vec<NodeDef>,
    #[serde(default)]
    pub monitors: Vec<MonitorDef>,
    #[serde(default)]
    pub datastores: Vec<DatastoreDef>,
    #[serde(default)]
    pub apps: Vec<AppTierDef>,
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancerDef>,
    #[serde(default)]
    pub dns: Option<DnsDef>,
    #[serde(default)]
    pub clients: Vec<ClientDef>,
    /// What clients do, each backed by a datastore. Without this list every datastore is a
    /// service of its own name.
    #[serde(default)]
    pub services: Vec<ServiceDef>,
    #[serde(default)]
    pub cdns: Vec<CdnDef>,
    #[serde(default)]
    pub rpc: Vec<RpcDef>,
    /// Object stores for backups (immutable, with retention).
    #[serde(default)]
    pub backup_stores: Vec<BackupStoreDef>,
}

/// An object store holding backups: an S3 bucket with Object Lock, a cold-storage archive.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "BackupStore")]
pub struct BackupStoreDef {
    pub name: String,
    /// The node standing for the store (placed where the bucket is).
    pub node: String,
    /// Object Lock retention: deletes and overwrites are refused for this long.
    pub retention: Dur,
    /// Transfer rate each way (`"250MiB/s"`).
    pub throughput: Size,
    /// Wait before a download's first byte (cold-storage retrieval).
    #[serde(default)]
    pub first_byte: Dur,
}

#[derive(Clone, Debug)]
pub struct BackupStoreInfo {
    pub name: String,
    pub node: u32,
    pub spec: StoreSpec,
}

/// A schedule: the store and when (`every`, first `at` from the start of the run).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupScheduleDef {
    pub store: String,
    pub every: Dur,
    #[serde(default)]
    pub at: Dur,
}

/// Continuous WAL archiving (`archive_command`, `archive_timeout`): enables point-in-time
/// recovery.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalArchiveDef {
    pub store: String,
    pub archive_timeout: Dur,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronDef {
    pub every: Dur,
    #[serde(default)]
    pub at: Dur,
}

fn default_scrape() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_answer_timeout() -> Dur {
    Dur(SimDuration::from_secs(30))
}
fn default_chunk() -> Size {
    Size(1 << 30)
}

/// How the team notices a logical corruption and restores: the steps of the runbook.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryDef {
    /// Where the runbook is driven from (the operators' tooling).
    pub node: String,
    /// Scheduled integrity checks.
    pub integrity_check: CronDef,
    /// How often error metrics are scraped.
    #[serde(default = "default_scrape")]
    pub metrics_scrape: Dur,
    /// From the first user-visible error to the team acting on user reports.
    pub user_report_after: Dur,
    /// Getting an instance to restore onto.
    pub provision: Dur,
    /// Redeploying configuration and code from version control.
    pub redeploy: Dur,
    /// Checking the restored data before switching.
    pub verify: Dur,
    /// Download chunk size.
    #[serde(default = "default_chunk")]
    pub chunk: Size,
    /// How long to wait for answers before going on (listings, installs).
    #[serde(default = "default_answer_timeout")]
    pub answer_timeout: Dur,
    /// A download chunk that takes longer: the store is abandoned for the next.
    pub chunk_timeout: Dur,
}

/// A datastore's backups.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupDef {
    /// Size of the data at the start of the run.
    pub data_size: Size,
    /// Bytes each write adds.
    pub write_size: Size,
    #[serde(default)]
    pub snapshots: Option<BackupScheduleDef>,
    #[serde(default)]
    pub archive: Option<BackupScheduleDef>,
    #[serde(default)]
    pub wal_archive: Option<WalArchiveDef>,
    #[serde(default)]
    pub recovery: Option<RecoveryDef>,
}

#[derive(Clone, Debug)]
pub struct RecoveryInfo {
    pub node: u32,
    pub integrity_check: Cron,
    pub metrics_scrape: SimDuration,
    pub user_report_after: SimDuration,
    pub provision: SimDuration,
    pub redeploy: SimDuration,
    pub verify: SimDuration,
    pub chunk: u64,
    pub answer_timeout: SimDuration,
    pub chunk_timeout: SimDuration,
}

/// A datastore's backups, resolved (stores by index into `backup_stores`).
#[derive(Clone, Debug)]
pub struct BackupInfo {
    pub data_size: u64,
    pub write_size: u64,
    pub snapshots: Option<(usize, Cron)>,
    pub archive: Option<(usize, Cron)>,
    pub wal_archive: Option<(usize, SimDuration)>,
    pub recovery: Option<RecoveryInfo>,
}

fn default_block_time() -> Dur {
    Dur(SimDuration::from_secs(12))
}
fn default_halt_after() -> Dur {
    Dur(SimDuration::from_secs(36))
}

/// Blockchain RPC: providers behind regional load balancers that app servers call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Rpc")]
pub struct RpcDef {
    pub name: String,
    /// Blockchain nodes (hosted providers and self-hosted nodes).
    pub providers: Vec<String>,
    /// Load balancers; each app server uses the nearest.
    pub balancers: Vec<String>,
    /// How often the chain makes a block (Ethereum: 12 s).
    #[serde(default = "default_block_time")]
    pub block_time: Dur,
    /// A head that has not advanced this long means the chain halted: maintenance mode.
    #[serde(default = "default_halt_after")]
    pub halt_after: Dur,
    /// How balancers check their providers.
    pub check: HealthCheckDef,
}

#[derive(Clone, Debug)]
pub struct RpcInfo {
    pub name: String,
    pub providers: Vec<u32>,
    pub balancers: Vec<u32>,
    pub block_time: SimDuration,
    pub halt_after: SimDuration,
    pub check: HealthCheckSpec,
}

fn default_assets() -> u32 {
    10_000
}
fn default_zipf() -> f64 {
    1.0
}
/// Shorter than a typical reader's timeout, so a miss can still succeed at the next origin.
fn default_origin_timeout() -> Dur {
    Dur(SimDuration::from_secs(2))
}

/// A CDN: edge locations caching assets from an origin group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Cdn")]
pub struct CdnDef {
    pub name: String,
    /// Edge nodes (or groups); clients use the nearest first.
    pub edges: Vec<String>,
    /// Origin nodes, in failover order (CloudFront origin group).
    pub origins: Vec<String>,
    /// How many distinct assets clients ask for.
    #[serde(default = "default_assets")]
    pub assets: u32,
    /// Zipf exponent of asset popularity.
    #[serde(default = "default_zipf")]
    pub zipf: f64,
    /// How long an edge keeps a fetched asset fresh (the Cache-Control max-age).
    pub ttl: Dur,
    /// How long an edge waits for an origin before trying the next.
    #[serde(default = "default_origin_timeout")]
    pub origin_timeout: Dur,
    /// Serve an expired copy when every origin fails (stale-if-error).
    #[serde(default = "default_true")]
    pub serve_stale: bool,
}

#[derive(Clone, Debug)]
pub struct CdnInfo {
    pub name: String,
    pub edges: Vec<u32>,
    pub origins: Vec<u32>,
    pub assets: u32,
    pub zipf: f64,
    pub ttl: SimDuration,
    pub origin_timeout: SimDuration,
    pub serve_stale: bool,
}

/// A user-facing service: writes to a `datastore`, or reads from a static `site` (nodes that
/// answer by themselves, such as a status page). Exactly one of the two.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Service")]
pub struct ServiceDef {
    pub name: String,
    #[serde(default)]
    pub datastore: Option<String>,
    #[serde(default)]
    pub site: Vec<String>,
    /// Reads of static assets through a CDN of `cdns`.
    #[serde(default)]
    pub cdn: Option<String>,
    /// Blockchain calls through an RPC group of `rpc` (made by the app servers).
    #[serde(default)]
    pub rpc: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Provider")]
pub struct ProviderDef {
    pub name: String,
    pub regions: Vec<RegionDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Region")]
pub struct RegionDef {
    pub name: String,
    pub zones: Vec<String>,
}

/// One-way latencies by distance class, with per-region-pair overrides.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyDef {
    pub same_zone: Dur,
    pub cross_zone: Dur,
    pub cross_region: Dur,
    pub cross_provider: Dur,
    /// `("us-east-1", "us-west-2", "32ms")`: one-way latency between two regions.
    #[serde(default)]
    pub regions: Vec<(String, String, Dur)>,
    #[serde(default)]
    pub jitter: JitterDef,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub enum JitterDef {
    #[default]
    None,
    /// Uniform in `[0, max]`.
    Uniform(Dur),
    /// Exponential with this mean.
    Exponential(Dur),
}

/// A node, or with `count` a group of nodes named `name-0`, `name-1`, ….
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Node")]
pub struct NodeDef {
    pub name: String,
    #[serde(default)]
    pub zone: Option<String>,
    /// For a multi-zone service (a load balancer): lost only with its region or provider.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
}

/// A place named in a file.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
pub enum PlaceRef {
    Provider(String),
    Region(String),
    Zone(String),
    Node(String),
}

impl PlaceRef {
    pub fn name(&self) -> &str {
        match self {
            PlaceRef::Provider(n) | PlaceRef::Region(n) | PlaceRef::Zone(n) | PlaceRef::Node(n) => {
                n
            }
        }
    }
}

/// A monitor: watches nodes by their heartbeats (leases), and may control a datastore's
/// failover. `ttl` and `loop_wait` mean what they mean in Patroni.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Monitor")]
pub struct MonitorDef {
    pub node: String,
    /// Places whose nodes heartbeat to this monitor (monitors, clients and DNS never do).
    pub watch: Vec<PlaceRef>,
    /// A node whose last heartbeat is older than this at a check is dead (Patroni `ttl`).
    pub ttl: Dur,
    /// Heartbeat interval and check interval (Patroni `loop_wait`).
    pub loop_wait: Dur,
    #[serde(default)]
    pub check_phase: Phase,
    #[serde(default)]
    pub heartbeat_phase: Phase,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum ReplicationDef {
    /// Commit per `synchronous_standby_names`: `Synchronous(Any(1))`, `Synchronous(First(2))`.
    Synchronous(StandbyRule),
    /// Commit locally; ship accumulated entries every `ship_interval` (`"0s"`: each at once).
    Asynchronous { ship_interval: Dur },
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fencing {
    /// The primary stops itself when its lease is not renewed (`loop_wait + retry_timeout`).
    Lease,
    /// Replicas refuse entries from an older epoch.
    Epoch,
    /// The controller sends the old primary a demote message (STONITH by message).
    Demote,
}

fn default_retry_timeout() -> Dur {
    Dur(SimDuration::from_secs(10))
}
fn default_wal_sender_timeout() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_max_lag() -> u64 {
    1_048_576
}
fn default_true() -> bool {
    true
}
fn default_fencing() -> Vec<Fencing> {
    vec![Fencing::Lease, Fencing::Epoch]
}

/// Patroni-style failover settings for one datastore.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailoverDef {
    /// The monitor node that runs this datastore's failover.
    pub controller: String,
    #[serde(default = "default_retry_timeout")]
    pub retry_timeout: Dur,
    /// In log entries (one write each); Patroni's default of 1 MiB is kept as the number.
    #[serde(default = "default_max_lag")]
    pub maximum_lag_on_failover: u64,
    #[serde(default = "default_true")]
    pub synchronous_mode: bool,
    /// Block commits rather than commit locally when too few synchronous standbys are
    /// connected.
    #[serde(default)]
    pub synchronous_mode_strict: bool,
    /// PostgreSQL's `wal_sender_timeout`: a standby silent this long stops counting.
    #[serde(default = "default_wal_sender_timeout")]
    pub wal_sender_timeout: Dur,
    #[serde(default = "default_fencing")]
    pub fencing: Vec<Fencing>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Datastore")]
pub struct DatastoreDef {
    pub name: String,
    pub members: Vec<String>,
    pub primary: String,
    pub replication: ReplicationDef,
    /// Patroni-style failover by a monitor (leases in a DCS).
    #[serde(default)]
    pub failover: Option<FailoverDef>,
    /// Redis Sentinel-style failover by a quorum of sentinels. Exactly one of the two.
    #[serde(default)]
    pub sentinel: Option<SentinelDef>,
    /// Snapshots, archives, WAL archiving and the restore runbook.
    #[serde(default)]
    pub backup: Option<BackupDef>,
}

fn default_down_after() -> Dur {
    Dur(SimDuration::from_secs(30))
}
fn default_ping_interval() -> Dur {
    Dur(SimDuration::from_secs(1))
}
fn default_failover_timeout() -> Dur {
    Dur(SimDuration::from_secs(180))
}

/// Redis Sentinel settings, named as in `sentinel.conf`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelDef {
    /// The sentinel nodes (each runs one sentinel).
    pub nodes: Vec<String>,
    /// How many sentinels must agree the master is down before a failover may start.
    pub quorum: u32,
    /// `down-after-milliseconds`: a master silent this long is subjectively down.
    #[serde(default = "default_down_after")]
    pub down_after: Dur,
    /// How often each sentinel pings the master and replicas (Redis: every second).
    #[serde(default = "default_ping_interval")]
    pub ping_interval: Dur,
    /// `failover-timeout`: a failover that has not completed by then is abandoned.
    #[serde(default = "default_failover_timeout")]
    pub failover_timeout: Dur,
    #[serde(default)]
    pub phase: Phase,
}

/// Sentinel settings, resolved.
#[derive(Clone, Debug)]
pub struct SentinelInfo {
    pub nodes: Vec<u32>,
    pub quorum: u32,
    pub down_after: SimDuration,
    pub ping_interval: SimDuration,
    pub failover_timeout: SimDuration,
    pub phase: Phase,
}

/// HAProxy (`inter`, `fall`, `rise`) or ALB (`interval`, `unhealthy_threshold`,
/// `healthy_threshold`) health-check settings.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckDef {
    #[serde(alias = "interval")]
    pub inter: Dur,
    pub timeout: Dur,
    #[serde(alias = "unhealthy_threshold")]
    pub fall: u32,
    #[serde(alias = "healthy_threshold")]
    pub rise: u32,
    #[serde(default)]
    pub phase: Phase,
}

/// App servers; with a datastore, each routes writes to the member its role check calls
/// primary (HAProxy against Patroni's `/primary`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "AppTier")]
pub struct AppTierDef {
    pub nodes: Vec<String>,
    #[serde(default)]
    pub datastore: Option<String>,
    #[serde(default)]
    pub check: Option<HealthCheckDef>,
    /// Datastores whose master the app servers learn from their sentinels.
    #[serde(default)]
    pub via_sentinel: Vec<String>,
    /// What one app server can handle; without it, unlimited.
    #[serde(default)]
    pub capacity: Option<CapacityDef>,
}

/// One app server's capacity: `workers` requests in parallel, each taking `service_time`;
/// a request that would wait longer than `max_queue` is shed at once (HTTP 503).
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct CapacityDef {
    pub workers: u32,
    pub service_time: Dur,
    pub max_queue: Dur,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "LoadBalancer")]
pub struct LoadBalancerDef {
    pub node: String,
    pub targets: Vec<String>,
    pub check: HealthCheckDef,
}

fn default_dns_timeout() -> Dur {
    Dur(SimDuration::from_secs(4))
}

/// Route 53-style health-checked DNS.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Dns")]
pub struct DnsDef {
    pub node: String,
    /// Regional endpoints (load balancer nodes).
    pub endpoints: Vec<String>,
    pub request_interval: Dur,
    pub failure_threshold: u32,
    #[serde(default = "default_dns_timeout")]
    pub timeout: Dur,
    /// Record TTL: how long clients cache an answer.
    pub ttl: Dur,
    #[serde(default)]
    pub phase: Phase,
}

fn default_caches() -> u32 {
    16
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ConnectDef {
    /// Straight to a datastore's primary, learning a new one by notice, used after `ttl`.
    Direct { datastore: String, ttl: Dur },
    /// Through the DNS, preferring endpoints in this order.
    Dns {
        prefer: Vec<String>,
        #[serde(default = "default_caches")]
        caches: u32,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Clients")]
pub struct ClientDef {
    pub node: String,
    pub connect: ConnectDef,
}

// ---------------------------------------------------------------------------------------------
// The validated topology
// ---------------------------------------------------------------------------------------------

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Nothing but (if watched) heartbeats.
    Plain,
    DatabaseMember {
        datastore: usize,
        member: usize,
    },
    Monitor(usize),
    App {
        tier: usize,
    },
    LoadBalancer(usize),
    Dns,
    Clients(usize),
    Sentinel {
        datastore: usize,
    },
    /// A CDN edge of `cdns[k]`.
    Edge(usize),
    /// A blockchain node of `rpcs[k]`.
    RpcProvider(usize),
    /// An RPC load balancer of `rpcs[k]`.
    RpcBalancer(usize),
    /// Serves a static site.
    Site,
    /// Holds backups: `backup_stores[k]`.
    BackupStore(usize),
    /// Drives the restore runbook of a datastore.
    Recovery {
        datastore: usize,
    },
}

#[derive(Clone, Debug)]
pub struct MonitorInfo {
    pub node: u32,
    pub watched: Vec<u32>,
    pub ttl: SimDuration,
    pub loop_wait: SimDuration,
    pub check_phase: Phase,
    pub heartbeat_phase: Phase,
}

#[derive(Clone, Debug)]
pub struct DatastoreInfo {
    pub name: String,
    pub members: Vec<u32>,
    pub primary: usize,
    pub mode: ReplicationMode,
    /// The monitor running Patroni-style failover, when failover is not by sentinels.
    pub controller: Option<usize>,
    pub sentinel: Option<SentinelInfo>,
    pub retry_timeout: SimDuration,
    pub maximum_lag_on_failover: u64,
    pub synchronous_mode: bool,
    pub synchronous_mode_strict: bool,
    pub wal_sender_timeout: SimDuration,
    pub fencing: Vec<Fencing>,
    pub backup: Option<BackupInfo>,
}

#[derive(Clone, Debug)]
pub struct AppTierInfo {
    pub nodes: Vec<u32>,
    pub datastore: Option<usize>,
    /// Sentinel-managed datastores this tier reaches through their sentinels.
    pub via_sentinel: Vec<usize>,
    pub check: Option<HealthCheckSpec>,
    pub capacity: Option<Capacity>,
}

#[derive(Clone, Debug)]
pub struct LoadBalancerInfo {
    pub node: u32,
    pub targets: Vec<u32>,
    pub check: HealthCheckSpec,
}

#[derive(Clone, Debug)]
pub struct DnsInfo {
    pub node: u32,
    pub endpoints: Vec<u32>,
    pub check: HealthCheckSpec,
    pub ttl: SimDuration,
}

#[derive(Clone, Debug)]
pub enum Connect {
    Direct { datastore: usize, ttl: SimDuration },
    Dns { prefer: Vec<usize>, caches: u32 },
}

#[derive(Clone, Debug)]
pub struct ServiceInfo {
    pub name: String,
    /// The datastore its writes go to; `None` for a static site.
    pub datastore: Option<usize>,
    /// Nodes clients reach directly: a static site's nodes, or a CDN's edges.
    pub direct: Vec<u32>,
    /// The CDN serving it, if any.
    pub cdn: Option<usize>,
    /// The RPC group serving it, if any.
    pub rpc: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct ClientInfo {
    pub name: String,
    pub node: u32,
    pub connect: Connect,
}

/// A vertex of the topology graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vertex {
    Provider(u16),
    Region(u16),
    Zone(u16),
    Node(u32),
}

/// An edge of the topology graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Placement: provider → region → zone → node.
    Contains,
    /// A request from the source needs the target.
    DependsOn,
}

#[derive(Clone, Debug)]
pub struct Topology {
    pub name: String,
    pub source: Source,
    pub providers: Vec<String>,
    pub regions: Vec<(String, u16)>,
    /// Zones with their region; `implicit` zones stand for region-wide placement.
    pub zones: Vec<ZoneInfo>,
    pub node_names: Vec<String>,
    pub node_zone: Vec<u16>,
    pub roles: Vec<Role>,
    pub monitors: Vec<MonitorInfo>,
    pub datastores: Vec<DatastoreInfo>,
    pub apps: Vec<AppTierInfo>,
    pub load_balancers: Vec<LoadBalancerInfo>,
    pub dns: Option<DnsInfo>,
    pub clients: Vec<ClientInfo>,
    pub services: Vec<ServiceInfo>,
    pub cdns: Vec<CdnInfo>,
    pub rpcs: Vec<RpcInfo>,
    pub backup_stores: Vec<BackupStoreInfo>,
    /// The monitor each watched node heartbeats to, and its position among all heartbeating
    /// nodes (for staggered phases).
    pub heartbeat: Vec<Option<(usize, u64)>>,
    pub layout: NetworkLayout,
    pub graph: DiGraph<Vertex, Edge>,
}

#[derive(Clone, Debug)]
pub struct ZoneInfo {
    pub name: String,
    pub region: u16,
    pub implicit: bool,
}

impl Topology {
    pub fn load(path: &Path) -> Result<Topology, InputError> {
        let source = Source::read(path)?;
        Self::from_source(source)
    }

    pub fn from_source(source: Source) -> Result<Topology, InputError> {
        let file: TopologyFile = source.parse()?;
        Builder::new(&source).build(file, source.clone())
    }

    pub fn service(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }

    /// Whether a client population can reach the datastore behind `service`: directly, or
    /// through an app tier that serves that datastore.
    pub fn can_serve(&self, client: usize, service: usize) -> bool {
        // Blockchain calls are made by app servers: a population behind DNS reaches them.
        if self.services[service].rpc.is_some() {
            return matches!(self.clients[client].connect, Connect::Dns { .. })
                && !self.apps.is_empty();
        }
        // A static site is reached directly by everyone.
        let Some(d) = self.services[service].datastore else {
            return true;
        };
        match &self.clients[client].connect {
            Connect::Direct { datastore, .. } => *datastore == d,
            Connect::Dns { .. } => self
                .apps
                .iter()
                .any(|t| t.datastore == Some(d) || t.via_sentinel.contains(&d)),
        }
    }

    pub fn node(&self, name: &str) -> Option<u32> {
        self.node_names
            .iter()
            .position(|n| n == name)
            .map(|i| i as u32)
    }

    fn resolver(&self) -> PlaceResolver<'_> {
        PlaceResolver {
            providers: &self.providers,
            regions: &self.regions,
            zones: &self.zones,
            node_names: &self.node_names,
        }
    }

    /// Resolves a place name to the network's place.
    pub fn place(&self, place: &PlaceRef) -> Option<Place> {
        self.resolver().resolve(place)
    }

    /// Whether `place` contains node `n`.
    pub fn contains(&self, place: Place, n: u32) -> bool {
        self.resolver().contains(place, n, &self.node_zone)
    }

    /// A readable name for a place.
    pub fn place_name(&self, place: Place) -> String {
        match place {
            Place::Provider(p) => format!("provider {}", self.providers[p as usize]),
            Place::Region(r) => format!("region {}", self.regions[r as usize].0),
            Place::Zone(z) => format!("zone {}", self.zones[z as usize].name),
            Place::Node(n) => format!("node {}", self.node_names[n as usize]),
        }
    }
}

/// Resolves and checks a parsed file.
struct Builder<'a> {
    src: &'a Source,
}

/// The period of a periodic timer (a heartbeat, a health check, a ping, a backup schedule):
/// at least [`limits::INTERVAL_MIN_NS`], since every firing costs events whether or not
/// anything changed. `fields` are the names the setting may be written under.
fn interval(src: &Source, fields: &[&str], d: Dur, what: &str) -> Result<SimDuration, InputError> {
    let min = SimDuration(limits::INTERVAL_MIN_NS);
    if d.0 < min {
        return Err(src.invalid_duration(
            fields,
            d.0,
            format!(
                "`{}` ({what}) must be at least {}: each firing is at least one event, so a shorter period makes the run's work unbounded (docs/SCENARIOS.md, Limits)",
                fields[0],
                min.human()
            ),
        ));
    }
    Ok(d.0)
}

fn positive(src: &Source, field: &str, d: Dur, what: &str) -> Result<SimDuration, InputError> {
    if d.0.is_zero() {
        return Err(src.invalid(
            field,
            &d.0.to_string(),
            format!("{what} must be greater than zero"),
        ));
    }
    Ok(d.0)
}

impl<'a> Builder<'a> {
    fn new(src: &'a Source) -> Self {
        Builder { src }
    }

    fn err(&self, near: &str, name: &str, msg: impl Into<String>) -> InputError {
        self.src.invalid(near, name, msg)
    }

    fn build(self, f: TopologyFile, source: Source) -> Result<Topology, InputError> {
        let src = self.src;
        if f.name.trim().is_empty() {
            return Err(self.err("name", "", "the topology needs a name"));
        }
        // ---- places ----
        let mut providers = Vec::new();
        let mut regions: Vec<(String, u16)> = Vec::new();
        let mut zones: Vec<ZoneInfo> = Vec::new();
        let mut names = BTreeMap::new();
        for p in &f.providers {
            if names.insert(p.name.clone(), "provider").is_some() {
                return Err(self.err("providers", &p.name, "this name is used twice"));
            }
            providers.push(p.name.clone());
            if p.regions.is_empty() {
                return Err(self.err("providers", &p.name, "a provider needs at least one region"));
            }
            for r in &p.regions {
                if names.insert(r.name.clone(), "region").is_some() {
                    return Err(self.err("regions", &r.name, "this name is used twice"));
                }
                let ri = regions.len() as u16;
                regions.push((r.name.clone(), (providers.len() - 1) as u16));
                if r.zones.is_empty() {
                    return Err(self.err("regions", &r.name, "a region needs at least one zone"));
                }
                for z in &r.zones {
                    if names.insert(z.clone(), "zone").is_some() {
                        return Err(self.err("zones", z, "this name is used twice"));
                    }
                    zones.push(ZoneInfo {
                        name: z.clone(),
                        region: ri,
                        implicit: false,
                    });
                }
            }
        }
        if providers.is_empty() {
            return Err(self.err(
                "providers",
                "",
                "the topology has no providers: nothing to simulate",
            ));
        }
        // One implicit zone per region, for region-wide nodes.
        let first_implicit = zones.len();
        for (ri, (rname, _)) in regions.iter().enumerate() {
            zones.push(ZoneInfo {
                name: format!("{rname} (region-wide)"),
                region: ri as u16,
                implicit: true,
            });
        }
        if zones.len() > limits::ZONES_MAX {
            return Err(self.err(
                "zones",
                "",
                format!(
                    "{} zones is more than the limit of {}",
                    zones.len(),
                    limits::ZONES_MAX
                ),
            ));
        }
        // ---- nodes ----
        let mut node_names: Vec<String> = Vec::new();
        let mut node_zone: Vec<u16> = Vec::new();
        let mut groups: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for n in &f.nodes {
            let zone = match (&n.zone, &n.region) {
                (Some(z), None) => zones
                    .iter()
                    .position(|zi| &zi.name == z && !zi.implicit)
                    .ok_or_else(|| self.err(&format!("\"{}\"", n.name), z, "no such zone"))?
                    as u16,
                (None, Some(r)) => {
                    let ri = regions
                        .iter()
                        .position(|x| &x.0 == r)
                        .ok_or_else(|| self.err(&format!("\"{}\"", n.name), r, "no such region"))?;
                    (first_implicit + ri) as u16
                }
                _ => {
                    return Err(self.err(
                        "nodes",
                        &n.name,
                        "a node needs exactly one of `zone` or `region`",
                    ));
                }
            };
            let count = n.count.unwrap_or(1);
            if n.count.is_some() && (count == 0 || count > limits::GROUP_COUNT_MAX) {
                return Err(self.err(
                    &format!("\"{}\"", n.name),
                    &n.name,
                    format!("count must be between 1 and {}", limits::GROUP_COUNT_MAX),
                ));
            }
            let mut members = Vec::new();
            for i in 0..count {
                let name = if n.count.is_some() {
                    format!("{}-{i}", n.name)
                } else {
                    n.name.clone()
                };
                if names.insert(name.clone(), "node").is_some() {
                    return Err(self.err(
                        "nodes",
                        &n.name,
                        format!("the name `{name}` is used twice"),
                    ));
                }
                members.push(node_names.len() as u32);
                node_names.push(name);
                node_zone.push(zone);
                if node_names.len() > limits::NODES_MAX {
                    return Err(self.err(
                        "nodes",
                        &n.name,
                        format!("more than {} nodes", limits::NODES_MAX),
                    ));
                }
            }
            if n.count.is_some() {
                groups.insert(n.name.clone(), members);
            }
        }
        if node_names.is_empty() {
            return Err(self.err(
                "nodes",
                "",
                "the topology has no nodes: nothing to simulate",
            ));
        }
        let node_of = |near: &str, name: &str| -> Result<u32, InputError> {
            node_names
                .iter()
                .position(|n| n == name)
                .map(|i| i as u32)
                .ok_or_else(|| self.err(near, name, "no such node"))
        };
        // A name that is a node, or a group of nodes.
        let nodes_of = |near: &str, name: &str| -> Result<Vec<u32>, InputError> {
            match groups.get(name) {
                Some(g) => Ok(g.clone()),
                None => node_of(near, name).map(|n| vec![n]),
            }
        };
        let mut roles = vec![Role::Plain; node_names.len()];
        let assign =
            |roles: &mut Vec<Role>, node: u32, role: Role, near: &str| -> Result<(), InputError> {
                if roles[node as usize] != Role::Plain {
                    return Err(self.err(
                        near,
                        &node_names[node as usize],
                        "this node already has another role",
                    ));
                }
                roles[node as usize] = role;
                Ok(())
            };
        // ---- latency ----
        let layout = self.layout(&f.latency, &regions, &zones, &node_zone)?;
        // ---- monitors ----
        let mut monitors = Vec::new();
        for (mi, m) in f.monitors.iter().enumerate() {
            let node = node_of("monitors", &m.node)?;
            assign(&mut roles, node, Role::Monitor(mi), "monitors")?;
            let ttl = positive(src, "ttl", m.ttl, "ttl")?;
            let loop_wait = interval(
                src,
                &["loop_wait"],
                m.loop_wait,
                "the heartbeat and check interval",
            )?;
            monitors.push(MonitorInfo {
                node,
                watched: Vec::new(),
                ttl,
                loop_wait,
                check_phase: m.check_phase,
                heartbeat_phase: m.heartbeat_phase,
            });
        }
        // ---- backup stores ----
        let mut backup_stores: Vec<BackupStoreInfo> = Vec::new();
        for (k, b) in f.backup_stores.iter().enumerate() {
            if backup_stores.iter().any(|x| x.name == b.name) {
                return Err(self.err("backup_stores", &b.name, "this store is defined twice"));
            }
            let node = node_of("backup_stores", &b.node)?;
            assign(&mut roles, node, Role::BackupStore(k), "backup_stores")?;
            if b.throughput.0 == 0 {
                return Err(self.err(
                    "throughput",
                    &b.name,
                    "a store's throughput must be greater than zero",
                ));
            }
            backup_stores.push(BackupStoreInfo {
                name: b.name.clone(),
                node,
                spec: StoreSpec {
                    retention: positive(src, "retention", b.retention, "retention")?,
                    throughput: b.throughput.0,
                    first_byte: b.first_byte.0,
                },
            });
        }
        let store_of = |near: &str, name: &str| -> Result<usize, InputError> {
            backup_stores
                .iter()
                .position(|b| b.name == name)
                .ok_or_else(|| self.err(near, name, "no such store in `backup_stores`"))
        };
        // ---- datastores ----
        let mut datastores = Vec::new();
        // Replication knobs for datastores whose failover is not Patroni-style.
        let default_failover = FailoverDef {
            controller: String::new(),
            retry_timeout: default_retry_timeout(),
            maximum_lag_on_failover: default_max_lag(),
            synchronous_mode: false,
            synchronous_mode_strict: false,
            wal_sender_timeout: default_wal_sender_timeout(),
            fencing: vec![Fencing::Epoch],
        };
        for (di, d) in f.datastores.iter().enumerate() {
            if d.members.is_empty() || d.members.len() > limits::MEMBERS_MAX {
                return Err(self.err(
                    "datastores",
                    &d.name,
                    format!("a datastore needs 1 to {} members", limits::MEMBERS_MAX),
                ));
            }
            let mut members = Vec::new();
            for (k, m) in d.members.iter().enumerate() {
                let n = node_of(&format!("\"{}\"", d.name), m)?;
                assign(
                    &mut roles,
                    n,
                    Role::DatabaseMember {
                        datastore: di,
                        member: k,
                    },
                    "members",
                )?;
                members.push(n);
            }
            let primary = d
                .members
                .iter()
                .position(|m| m == &d.primary)
                .ok_or_else(|| {
                    self.err(
                        "primary",
                        &d.primary,
                        format!("the primary must be one of the members of `{}`", d.name),
                    )
                })?;
            let mode = match d.replication {
                ReplicationDef::Asynchronous { ship_interval } => ReplicationMode::Asynchronous {
                    ship_interval: ship_interval.0,
                },
                ReplicationDef::Synchronous(rule) => {
                    // The rule must be satisfiable from every member that may become primary.
                    for (k, &n) in members.iter().enumerate() {
                        let z = node_zone[n as usize];
                        let others = members
                            .iter()
                            .filter(|&&o| node_zone[o as usize] != z)
                            .count();
                        if others < rule.k() {
                            return Err(self.err(
                                "replication",
                                &d.name,
                                format!(
                                    "a quorum of {} standbys in other zones cannot be met when `{}` is primary (only {others} members are in other zones)",
                                    rule.k(),
                                    d.members[k]
                                ),
                            ));
                        }
                    }
                    ReplicationMode::Synchronous(rule)
                }
            };
            let (failover, sentinel) = match (&d.failover, &d.sentinel) {
                (Some(fo), None) => (fo, None),
                (None, Some(_)) if matches!(mode, ReplicationMode::Synchronous(_)) => {
                    return Err(self.err(
                        "replication",
                        &d.name,
                        "a Sentinel-managed datastore replicates asynchronously, as Redis does: use `Asynchronous(ship_interval: …)`",
                    ));
                }
                (None, Some(sd)) => (&default_failover, Some(self.sentinel(sd, &node_of)?)),
                _ => {
                    return Err(self.err(
                        "datastores",
                        &d.name,
                        "a datastore needs exactly one of `failover` (a controller) or `sentinel`",
                    ));
                }
            };
            let controller = match sentinel {
                Some(_) => None,
                None => Some(
                    f.monitors
                        .iter()
                        .position(|m| m.node == failover.controller)
                        .ok_or_else(|| {
                            self.err(
                                "controller",
                                &failover.controller,
                                "the controller must be one of the monitors",
                            )
                        })?,
                ),
            };
            let retry_timeout = failover.retry_timeout.0;
            if let Some(c) = controller {
                let mon = &monitors[c];
                if failover.fencing.contains(&Fencing::Lease)
                    && mon.loop_wait + retry_timeout > mon.ttl
                {
                    return Err(self.err(
                        "retry_timeout",
                        &d.name,
                        format!(
                            "lease fencing needs loop_wait + retry_timeout ≤ ttl ({} + {} > {}): the old primary would still accept writes when a new one is promoted",
                            mon.loop_wait, retry_timeout, mon.ttl
                        ),
                    ));
                }
            }
            if let Some(si) = &sentinel {
                for &n in &si.nodes {
                    assign(&mut roles, n, Role::Sentinel { datastore: di }, "sentinel")?;
                }
            }
            let backup = match &d.backup {
                None => None,
                Some(b) => {
                    let schedule =
                        |near: &str, s: &BackupScheduleDef| -> Result<(usize, Cron), InputError> {
                            Ok((
                                store_of(near, &s.store)?,
                                Cron {
                                    every: interval(src, &["every"], s.every, "a backup interval")?,
                                    phase: s.at.0,
                                },
                            ))
                        };
                    let snapshots = b
                        .snapshots
                        .as_ref()
                        .map(|s| schedule("snapshots", s))
                        .transpose()?;
                    let archive = b
                        .archive
                        .as_ref()
                        .map(|s| schedule("archive", s))
                        .transpose()?;
                    let wal_archive = b
                        .wal_archive
                        .as_ref()
                        .map(|w| -> Result<_, InputError> {
                            Ok((
                                store_of("wal_archive", &w.store)?,
                                interval(
                                    src,
                                    &["archive_timeout"],
                                    w.archive_timeout,
                                    "the WAL archiving interval",
                                )?,
                            ))
                        })
                        .transpose()?;
                    if snapshots.is_none() && archive.is_none() {
                        return Err(self.err(
                            "backup",
                            &d.name,
                            "a backup policy needs `snapshots` or `archive` (WAL alone cannot be restored)",
                        ));
                    }
                    let recovery = match &b.recovery {
                        None => None,
                        Some(r) => {
                            if sentinel.is_some() {
                                return Err(self.err(
                                    "recovery",
                                    &d.name,
                                    "restore is modelled for controller-managed datastores; Sentinel would fight the restored primary",
                                ));
                            }
                            let node = node_of("recovery", &r.node)?;
                            assign(
                                &mut roles,
                                node,
                                Role::Recovery { datastore: di },
                                "recovery",
                            )?;
                            if r.chunk.0 == 0 {
                                return Err(self.err(
                                    "chunk",
                                    &d.name,
                                    "the chunk size must be greater than zero",
                                ));
                            }
                            Some(RecoveryInfo {
                                node,
                                integrity_check: Cron {
                                    every: interval(
                                        src,
                                        &["every"],
                                        r.integrity_check.every,
                                        "the integrity check interval",
                                    )?,
                                    phase: r.integrity_check.at.0,
                                },
                                metrics_scrape: interval(
                                    src,
                                    &["metrics_scrape"],
                                    r.metrics_scrape,
                                    "the metrics scrape interval",
                                )?,
                                user_report_after: r.user_report_after.0,
                                provision: r.provision.0,
                                redeploy: r.redeploy.0,
                                verify: r.verify.0,
                                chunk: r.chunk.0,
                                // Installs are sent again every `answer_timeout` while
                                // no member answers: a period, not only a wait.
                                answer_timeout: interval(
                                    src,
                                    &["answer_timeout"],
                                    r.answer_timeout,
                                    "the runbook's wait for answers",
                                )?,
                                chunk_timeout: positive(
                                    src,
                                    "chunk_timeout",
                                    r.chunk_timeout,
                                    "chunk_timeout",
                                )?,
                            })
                        }
                    };
                    Some(BackupInfo {
                        data_size: b.data_size.0,
                        write_size: b.write_size.0,
                        snapshots,
                        archive,
                        wal_archive,
                        recovery,
                    })
                }
            };
            datastores.push(DatastoreInfo {
                name: d.name.clone(),
                members,
                primary,
                mode,
                controller,
                retry_timeout,
                sentinel,
                maximum_lag_on_failover: failover.maximum_lag_on_failover,
                synchronous_mode: failover.synchronous_mode,
                synchronous_mode_strict: failover.synchronous_mode_strict,
                wal_sender_timeout: positive(
                    src,
                    "wal_sender_timeout",
                    failover.wal_sender_timeout,
                    "wal_sender_timeout",
                )?,
                // Sentinel-managed replicas follow only their master's newer epoch.
                fencing: if d.sentinel.is_some() {
                    vec![Fencing::Epoch]
                } else {
                    failover.fencing.clone()
                },
                backup,
            });
        }
        let datastore_of = |near: &str, name: &str| -> Result<usize, InputError> {
            f.datastores
                .iter()
                .position(|d| d.name == name)
                .ok_or_else(|| self.err(near, name, "no such datastore"))
        };
        // ---- apps ----
        let mut apps = Vec::new();
        for (ti, t) in f.apps.iter().enumerate() {
            let mut nodes = Vec::new();
            for n in &t.nodes {
                for x in nodes_of("apps", n)? {
                    assign(&mut roles, x, Role::App { tier: ti }, "apps")?;
                    nodes.push(x);
                }
            }
            let datastore = t
                .datastore
                .as_deref()
                .map(|d| datastore_of("datastore", d))
                .transpose()?;
            let check = match (&t.check, datastore) {
                (Some(c), _) => Some(self.check(c, true, "apps")?),
                (None, Some(_)) => {
                    return Err(self.err(
                        "apps",
                        &t.nodes.join(","),
                        "an app tier with a datastore needs a `check` to find its primary",
                    ));
                }
                (None, None) => None,
            };
            let mut via_sentinel = Vec::new();
            for name in &t.via_sentinel {
                let d = datastore_of("via_sentinel", name)?;
                if datastores[d].sentinel.is_none() {
                    return Err(self.err(
                        "via_sentinel",
                        name,
                        "this datastore has no `sentinel` section",
                    ));
                }
                via_sentinel.push(d);
            }
            if via_sentinel.len() > u8::MAX as usize {
                return Err(self.err("via_sentinel", "", "at most 255 datastores"));
            }
            let capacity = match t.capacity {
                None => None,
                Some(c) => {
                    if c.workers == 0 || c.workers > limits::WORKERS_MAX {
                        return Err(self.err(
                            "workers",
                            &t.nodes.join(","),
                            format!("an app server needs 1 to {} workers", limits::WORKERS_MAX),
                        ));
                    }
                    Some(Capacity {
                        workers: c.workers,
                        service_time: positive(
                            src,
                            "service_time",
                            c.service_time,
                            "service_time",
                        )?,
                        max_queue: c.max_queue.0,
                    })
                }
            };
            apps.push(AppTierInfo {
                nodes,
                datastore,
                via_sentinel,
                check,
                capacity,
            });
        }
        // ---- load balancers ----
        let mut load_balancers = Vec::new();
        for (li, l) in f.load_balancers.iter().enumerate() {
            let node = node_of("load_balancers", &l.node)?;
            assign(&mut roles, node, Role::LoadBalancer(li), "load_balancers")?;
            let mut targets = Vec::new();
            for t in &l.targets {
                targets.extend(nodes_of("targets", t)?);
            }
            if targets.is_empty() {
                return Err(self.err("load_balancers", &l.node, "a load balancer needs targets"));
            }
            load_balancers.push(LoadBalancerInfo {
                node,
                targets,
                check: self.check(&l.check, false, "load_balancers")?,
            });
        }
        // ---- dns ----
        let dns = match &f.dns {
            None => None,
            Some(d) => {
                let node = node_of("dns", &d.node)?;
                assign(&mut roles, node, Role::Dns, "dns")?;
                let mut endpoints = Vec::new();
                for e in &d.endpoints {
                    let n = node_of("endpoints", e)?;
                    if !matches!(roles[n as usize], Role::LoadBalancer(_) | Role::App { .. }) {
                        return Err(self.err(
                            "endpoints",
                            e,
                            "a DNS endpoint must be a load balancer or app node",
                        ));
                    }
                    endpoints.push(n);
                }
                if endpoints.is_empty() {
                    return Err(self.err("dns", &d.node, "the DNS needs at least one endpoint"));
                }
                if d.failure_threshold == 0 {
                    return Err(self.err(
                        "failure_threshold",
                        &d.node,
                        "failure_threshold must be at least 1",
                    ));
                }
                let every = interval(
                    src,
                    &["request_interval"],
                    d.request_interval,
                    "the DNS health-check interval",
                )?;
                let timeout = positive(src, "timeout", d.timeout, "timeout")?;
                if timeout > every {
                    return Err(self.err(
                        "timeout",
                        &d.node,
                        "the health-check timeout must not exceed its interval",
                    ));
                }
                Some(DnsInfo {
                    node,
                    endpoints,
                    check: HealthCheckSpec {
                        interval: every,
                        timeout,
                        fall: d.failure_threshold,
                        rise: d.failure_threshold,
                        phase: d.phase,
                        expect_primary: false,
                    },
                    ttl: positive(src, "ttl", d.ttl, "the record TTL")?,
                })
            }
        };
        // ---- clients ----
        let mut clients = Vec::new();
        for (ci, c) in f.clients.iter().enumerate() {
            let node = node_of("clients", &c.node)?;
            assign(&mut roles, node, Role::Clients(ci), "clients")?;
            let connect = match &c.connect {
                ConnectDef::Direct { datastore, ttl } => Connect::Direct {
                    datastore: datastore_of("datastore", datastore)?,
                    ttl: ttl.0,
                },
                ConnectDef::Dns { prefer, caches } => {
                    let Some(d) = &dns else {
                        return Err(self.err(
                            "Dns",
                            &c.node,
                            "clients connect through DNS but the topology has no `dns`",
                        ));
                    };
                    if *caches == 0 || *caches > limits::CACHES_MAX {
                        return Err(self.err(
                            "caches",
                            &c.node,
                            format!("caches must be between 1 and {}", limits::CACHES_MAX),
                        ));
                    }
                    let mut order = Vec::new();
                    for p in prefer {
                        let n = node_of("prefer", p)?;
                        let i =
                            d.endpoints.iter().position(|&e| e == n).ok_or_else(|| {
                                self.err("prefer", p, "not one of the DNS endpoints")
                            })?;
                        order.push(i);
                    }
                    if order.is_empty() {
                        return Err(self.err(
                            "prefer",
                            &c.node,
                            "a DNS client needs at least one preferred endpoint",
                        ));
                    }
                    Connect::Dns {
                        prefer: order,
                        caches: *caches,
                    }
                }
            };
            clients.push(ClientInfo {
                name: c.node.clone(),
                node,
                connect,
            });
        }
        // ---- CDNs ----
        let mut cdns: Vec<CdnInfo> = Vec::new();
        for (ci, c) in f.cdns.iter().enumerate() {
            if cdns.iter().any(|x| x.name == c.name) {
                return Err(self.err("cdns", &c.name, "this CDN is defined twice"));
            }
            let mut edges = Vec::new();
            for e in &c.edges {
                for x in nodes_of("edges", e)? {
                    assign(&mut roles, x, Role::Edge(ci), "edges")?;
                    edges.push(x);
                }
            }
            let mut origins = Vec::new();
            for o in &c.origins {
                let x = node_of("origins", o)?;
                assign(&mut roles, x, Role::Site, "origins")?;
                origins.push(x);
            }
            if edges.is_empty() || origins.is_empty() {
                return Err(self.err(
                    "cdns",
                    &c.name,
                    "a CDN needs at least one edge and one origin",
                ));
            }
            if c.assets == 0 || c.assets > 10_000_000 {
                return Err(self.err("assets", &c.name, "assets must be between 1 and 10,000,000"));
            }
            if !(c.zipf > 0.0 && c.zipf <= 10.0) {
                return Err(self.err("zipf", &c.name, "the Zipf exponent must be in (0, 10]"));
            }
            cdns.push(CdnInfo {
                name: c.name.clone(),
                edges,
                origins,
                assets: c.assets,
                zipf: c.zipf,
                ttl: positive(src, "ttl", c.ttl, "the CDN ttl")?,
                origin_timeout: positive(
                    src,
                    "origin_timeout",
                    c.origin_timeout,
                    "origin_timeout",
                )?,
                serve_stale: c.serve_stale,
            });
        }
        // ---- blockchain RPC ----
        let mut rpcs: Vec<RpcInfo> = Vec::new();
        for (ri, r) in f.rpc.iter().enumerate() {
            if rpcs.iter().any(|x| x.name == r.name) {
                return Err(self.err("rpc", &r.name, "this RPC group is defined twice"));
            }
            let mut providers = Vec::new();
            for p in &r.providers {
                for x in nodes_of("providers", p)? {
                    assign(&mut roles, x, Role::RpcProvider(ri), "providers")?;
                    providers.push(x);
                }
            }
            let mut balancers = Vec::new();
            for b in &r.balancers {
                for x in nodes_of("balancers", b)? {
                    assign(&mut roles, x, Role::RpcBalancer(ri), "balancers")?;
                    balancers.push(x);
                }
            }
            if providers.is_empty() || balancers.is_empty() {
                return Err(self.err("rpc", &r.name, "an RPC group needs providers and balancers"));
            }
            rpcs.push(RpcInfo {
                name: r.name.clone(),
                providers,
                balancers,
                block_time: interval(src, &["block_time"], r.block_time, "the block time")?,
                halt_after: positive(src, "halt_after", r.halt_after, "halt_after")?,
                check: self.check(&r.check, false, "rpc")?,
            });
        }
        // ---- services ----
        let mut services = Vec::new();
        for sd in &f.services {
            if services.iter().any(|x: &ServiceInfo| x.name == sd.name) {
                return Err(self.err("services", &sd.name, "this service is defined twice"));
            }
            if sd.name.chars().count() > limits::NAME_CHARS_MAX {
                return Err(self.err(
                    "services",
                    &sd.name,
                    format!(
                        "a service name is at most {} characters: it becomes part of chart file names",
                        limits::NAME_CHARS_MAX
                    ),
                ));
            }
            let cdn = sd
                .cdn
                .as_ref()
                .and_then(|c| cdns.iter().position(|x| &x.name == c));
            let rpc = match &sd.rpc {
                None => None,
                Some(r) => Some(
                    rpcs.iter()
                        .position(|x: &RpcInfo| &x.name == r)
                        .ok_or_else(|| self.err("rpc", r, "no such RPC group in `rpc`"))?,
                ),
            };
            let kinds = usize::from(sd.datastore.is_some())
                + usize::from(!sd.site.is_empty())
                + usize::from(sd.cdn.is_some())
                + usize::from(rpc.is_some());
            if kinds != 1 {
                return Err(self.err(
                    "services",
                    &sd.name,
                    "a service needs exactly one of `datastore`, `site`, `cdn` or `rpc`",
                ));
            }
            let (datastore, direct) = match (&sd.datastore, sd.site.is_empty(), &sd.cdn) {
                (Some(d), true, None) => (Some(datastore_of("datastore", d)?), Vec::new()),
                (None, false, None) => {
                    let mut site = Vec::new();
                    for n in &sd.site {
                        for x in nodes_of("site", n)? {
                            assign(&mut roles, x, Role::Site, "site")?;
                            site.push(x);
                        }
                    }
                    (None, site)
                }
                (None, true, Some(c)) => {
                    let k = cdns
                        .iter()
                        .position(|x: &CdnInfo| &x.name == c)
                        .ok_or_else(|| self.err("cdn", c, "no such CDN in `cdns`"))?;
                    (None, cdns[k].edges.clone())
                }
                // An RPC service: its kind was checked above.
                _ => (None, Vec::new()),
            };
            services.push(ServiceInfo {
                name: sd.name.clone(),
                datastore,
                direct,
                cdn,
                rpc,
            });
        }
        if f.services.is_empty() {
            services = datastores
                .iter()
                .enumerate()
                .map(|(i, d)| ServiceInfo {
                    name: d.name.clone(),
                    datastore: Some(i),
                    direct: Vec::new(),
                    cdn: None,
                    rpc: None,
                })
                .collect();
        }
        if services.len() > u8::MAX as usize {
            return Err(self.err("services", "", "at most 255 services"));
        }
        // ---- heartbeats: who is watched by whom ----
        let topo_places = PlaceResolver {
            providers: &providers,
            regions: &regions,
            zones: &zones,
            node_names: &node_names,
        };
        let mut heartbeat: Vec<Option<(usize, u64)>> = vec![None; node_names.len()];
        for (mi, m) in f.monitors.iter().enumerate() {
            for w in &m.watch {
                let place = topo_places
                    .resolve(w)
                    .ok_or_else(|| self.err("watch", w.name(), "no such place"))?;
                for n in 0..node_names.len() as u32 {
                    let can_heartbeat = !matches!(
                        roles[n as usize],
                        Role::Monitor(_) | Role::Clients(_) | Role::Dns
                    );
                    if !can_heartbeat || !topo_places.contains(place, n, &node_zone) {
                        continue;
                    }
                    match heartbeat[n as usize] {
                        Some((other, _)) if other != mi => {
                            return Err(self.err(
                                "watch",
                                &node_names[n as usize],
                                "this node is watched by two monitors",
                            ));
                        }
                        _ => heartbeat[n as usize] = Some((mi, 0)),
                    }
                }
            }
        }
        let mut k = 0u64;
        for (n, hb) in heartbeat.iter_mut().enumerate() {
            if let Some((mi, index)) = hb {
                *index = k;
                k += 1;
                monitors[*mi].watched.push(n as u32);
            }
        }
        // A controller must hear the primary's heartbeats to detect its loss; with lease
        // fencing every member must renew there, or a promoted member would fence itself.
        for (d, def) in datastores.iter().zip(&f.datastores) {
            let lease = d.fencing.contains(&Fencing::Lease);
            for (k, &m) in d.members.iter().enumerate() {
                let Some(controller) = d.controller else {
                    continue;
                };
                let watched = heartbeat[m as usize].map(|(mi, _)| mi) == Some(controller);
                if !watched && (k == d.primary || lease) {
                    return Err(self.err(
                        "watch",
                        &def.members[k],
                        format!(
                            "the controller `{}` of `{}` must watch this member (add it to the monitor's `watch`)",
                            def.failover.as_ref().map(|f| f.controller.as_str()).unwrap_or(""), d.name
                        ),
                    ));
                }
            }
        }
        // ---- graph ----
        let graph = self.graph(
            &providers,
            &regions,
            &zones,
            &node_zone,
            &node_names,
            &datastores,
            &apps,
            &load_balancers,
            &dns,
            &clients,
            &cdns,
        )?;
        Ok(Topology {
            name: f.name,
            source,
            providers,
            regions,
            zones,
            node_names,
            node_zone,
            roles,
            monitors,
            datastores,
            apps,
            load_balancers,
            dns,
            clients,
            services,
            cdns,
            rpcs,
            backup_stores,
            heartbeat,
            layout,
            graph,
        })
    }

    fn sentinel(
        &self,
        sd: &SentinelDef,
        node_of: &dyn Fn(&str, &str) -> Result<u32, InputError>,
    ) -> Result<SentinelInfo, InputError> {
        let mut nodes = Vec::new();
        for n in &sd.nodes {
            nodes.push(node_of("sentinel", n)?);
        }
        let count = nodes.len() as u32;
        if count == 0 || sd.quorum == 0 || sd.quorum > count {
            return Err(self.src.invalid_field(
                "quorum",
                0,
                format!(
                    "the sentinel quorum must be between 1 and the number of sentinels ({count})"
                ),
            ));
        }
        Ok(SentinelInfo {
            nodes,
            quorum: sd.quorum,
            down_after: positive(self.src, "down_after", sd.down_after, "down_after")?,
            ping_interval: interval(
                self.src,
                &["ping_interval"],
                sd.ping_interval,
                "the sentinel ping interval",
            )?,
            // Twice this is the least time between two failover attempts: a period too.
            failover_timeout: interval(
                self.src,
                &["failover_timeout"],
                sd.failover_timeout,
                "the sentinel failover timeout",
            )?,
            phase: sd.phase,
        })
    }

    fn check(
        &self,
        c: &HealthCheckDef,
        expect_primary: bool,
        near: &str,
    ) -> Result<HealthCheckSpec, InputError> {
        let every = interval(
            self.src,
            &["inter", "interval"],
            c.inter,
            "the health-check interval",
        )?;
        let timeout = positive(self.src, "timeout", c.timeout, "the health-check timeout")?;
        if timeout > every {
            return Err(self.err(
                near,
                &timeout.to_string(),
                "the health-check timeout must not exceed its interval",
            ));
        }
        if c.fall == 0 || c.rise == 0 {
            return Err(self.err(near, "fall", "`fall` and `rise` must be at least 1"));
        }
        Ok(HealthCheckSpec {
            interval: every,
            timeout,
            fall: c.fall,
            rise: c.rise,
            phase: c.phase,
            expect_primary,
        })
    }

    fn layout(
        &self,
        l: &LatencyDef,
        regions: &[(String, u16)],
        zones: &[ZoneInfo],
        node_zone: &[u16],
    ) -> Result<NetworkLayout, InputError> {
        let n = zones.len();
        let mut region_pair: BTreeMap<(u16, u16), SimDuration> = BTreeMap::new();
        for (a, b, d) in &l.regions {
            let ra = regions
                .iter()
                .position(|r| &r.0 == a)
                .ok_or_else(|| self.err("regions", a, "no such region"))?
                as u16;
            let rb = regions
                .iter()
                .position(|r| &r.0 == b)
                .ok_or_else(|| self.err("regions", b, "no such region"))?
                as u16;
            if d.0.is_zero() {
                return Err(self.err(
                    "regions",
                    a,
                    "latency between regions must be greater than zero",
                ));
            }
            region_pair.insert((ra.min(rb), ra.max(rb)), d.0);
        }
        for (field, d) in [
            ("same_zone", l.same_zone),
            ("cross_zone", l.cross_zone),
            ("cross_region", l.cross_region),
            ("cross_provider", l.cross_provider),
        ] {
            if d.0.is_zero() {
                return Err(self.err(field, &d.0.to_string(), "latency must be greater than zero (messages would arrive before they are sent)"));
            }
        }
        let mut zone_latency = Vec::with_capacity(n * n);
        for a in 0..n {
            for b in 0..n {
                let (za, zb) = (&zones[a], &zones[b]);
                let (ra, rb) = (za.region, zb.region);
                let d = if a == b && !za.implicit {
                    l.same_zone.0
                } else if ra == rb {
                    l.cross_zone.0
                } else if let Some(&d) = region_pair.get(&(ra.min(rb), ra.max(rb))) {
                    d
                } else if regions[ra as usize].1 == regions[rb as usize].1 {
                    l.cross_region.0
                } else {
                    l.cross_provider.0
                };
                zone_latency.push(d);
            }
        }
        let jitter = match l.jitter {
            JitterDef::None => Jitter::None,
            JitterDef::Uniform(d) => Jitter::Uniform(d.0),
            JitterDef::Exponential(d) => Jitter::Exponential(d.0),
        };
        Ok(NetworkLayout {
            node_zone: node_zone.to_vec(),
            zone_region: zones.iter().map(|z| z.region).collect(),
            region_provider: regions.iter().map(|r| r.1).collect(),
            zone_latency,
            jitter,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn graph(
        &self,
        providers: &[String],
        regions: &[(String, u16)],
        zones: &[ZoneInfo],
        node_zone: &[u16],
        node_names: &[String],
        datastores: &[DatastoreInfo],
        apps: &[AppTierInfo],
        lbs: &[LoadBalancerInfo],
        dns: &Option<DnsInfo>,
        clients: &[ClientInfo],
        cdns: &[CdnInfo],
    ) -> Result<DiGraph<Vertex, Edge>, InputError> {
        let mut g = DiGraph::new();
        let pv: Vec<_> = (0..providers.len())
            .map(|p| g.add_node(Vertex::Provider(p as u16)))
            .collect();
        let rv: Vec<_> = regions
            .iter()
            .enumerate()
            .map(|(r, (_, p))| {
                let v = g.add_node(Vertex::Region(r as u16));
                g.add_edge(pv[*p as usize], v, Edge::Contains);
                v
            })
            .collect();
        let zv: Vec<_> = zones
            .iter()
            .enumerate()
            .map(|(z, info)| {
                let v = g.add_node(Vertex::Zone(z as u16));
                g.add_edge(rv[info.region as usize], v, Edge::Contains);
                v
            })
            .collect();
        let nv: Vec<_> = node_zone
            .iter()
            .enumerate()
            .map(|(n, &z)| {
                let v = g.add_node(Vertex::Node(n as u32));
                g.add_edge(zv[z as usize], v, Edge::Contains);
                v
            })
            .collect();
        for t in apps {
            if let Some(d) = t.datastore {
                for &a in &t.nodes {
                    for &m in &datastores[d].members {
                        g.add_edge(nv[a as usize], nv[m as usize], Edge::DependsOn);
                    }
                }
            }
        }
        for t in apps {
            for &d in &t.via_sentinel {
                for &a in &t.nodes {
                    for &m in &datastores[d].members {
                        g.add_edge(nv[a as usize], nv[m as usize], Edge::DependsOn);
                    }
                }
            }
        }
        for c in cdns {
            for &e in &c.edges {
                for &o in &c.origins {
                    g.add_edge(nv[e as usize], nv[o as usize], Edge::DependsOn);
                }
            }
        }
        for l in lbs {
            for &t in &l.targets {
                g.add_edge(nv[l.node as usize], nv[t as usize], Edge::DependsOn);
            }
        }
        for c in clients {
            match &c.connect {
                Connect::Direct { datastore, .. } => {
                    for &m in &datastores[*datastore].members {
                        g.add_edge(nv[c.node as usize], nv[m as usize], Edge::DependsOn);
                    }
                }
                Connect::Dns { prefer, .. } => {
                    if let Some(d) = dns {
                        g.add_edge(nv[c.node as usize], nv[d.node as usize], Edge::DependsOn);
                        for &i in prefer {
                            g.add_edge(
                                nv[c.node as usize],
                                nv[d.endpoints[i] as usize],
                                Edge::DependsOn,
                            );
                        }
                    }
                }
            }
        }
        // A dependency cycle (an LB whose targets include itself …) would loop requests forever.
        let deps = petgraph::visit::EdgeFiltered::from_fn(&g, |e| *e.weight() == Edge::DependsOn);
        if let Err(cycle) = petgraph::algo::toposort(&deps, None)
            && let Vertex::Node(n) = g[cycle.node_id()]
        {
            return Err(self.err(
                "targets",
                &node_names[n as usize],
                "this node depends on itself through its targets",
            ));
        }
        Ok(g)
    }
}

/// Resolves names to places during validation (before the topology exists).
struct PlaceResolver<'a> {
    providers: &'a [String],
    regions: &'a [(String, u16)],
    zones: &'a [ZoneInfo],
    node_names: &'a [String],
}

impl PlaceResolver<'_> {
    fn resolve(&self, p: &PlaceRef) -> Option<Place> {
        match p {
            PlaceRef::Provider(n) => self
                .providers
                .iter()
                .position(|x| x == n)
                .map(|i| Place::Provider(i as u16)),
            PlaceRef::Region(n) => self
                .regions
                .iter()
                .position(|x| &x.0 == n)
                .map(|i| Place::Region(i as u16)),
            PlaceRef::Zone(n) => self
                .zones
                .iter()
                .position(|z| &z.name == n && !z.implicit)
                .map(|i| Place::Zone(i as u16)),
            PlaceRef::Node(n) => self
                .node_names
                .iter()
                .position(|x| x == n)
                .map(|i| Place::Node(i as u32)),
        }
    }

    fn contains(&self, place: Place, n: u32, node_zone: &[u16]) -> bool {
        let z = node_zone[n as usize];
        let r = self.zones[z as usize].region;
        match place {
            Place::Provider(p) => self.regions[r as usize].1 == p,
            Place::Region(x) => x == r,
            Place::Zone(x) => x == z,
            Place::Node(x) => x == n,
        }
    }
}

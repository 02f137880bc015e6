//! Topology files: where everything is, how far apart, and what depends on what.
//!
//! The file lists providers → regions → zones, nodes placed in zones (or in a region, for
//! multi-zone services such as a load balancer), and the roles nodes play: database members,
//! monitors/failover controllers, app servers, regional load balancers, health-checked DNS and
//! client populations. Validation resolves every name to an index and loads the containment
//! and dependency structure into a `petgraph` graph, used to reject dependency cycles.
//!
//! This module holds the file as a whole ([`TopologyFile`]), the resolved [`Topology`] and
//! the `Builder` that resolves the sections in order. Each component kind owns its slice of
//! the file in a module of its own: the serde `…Def` types and their defaults, the resolved
//! `…Info` types, its validation and its name resolution.
//!
//! | module          | section of the file                 | resolves to                         |
//! |-----------------|-------------------------------------|-------------------------------------|
//! | `places`        | `providers` (regions, zones)        | [`ZoneInfo`], [`PlaceRef`] lookup   |
//! | `latency`       | `latency`                           | the [`NetworkLayout`]               |
//! | `nodes`         | `nodes`                             | names, zones, groups; [`Role`]s     |
//! | `monitor`       | `monitors` (their `watch`)          | [`MonitorInfo`], heartbeats         |
//! | `monitoring`    | `monitoring` (Prometheus servers)   | [`PrometheusInfo`]                  |
//! | `paging`        | `paging` (PagerDuty, responders, automation), `alertmanager` | [`PagingInfo`], [`AlertmanagerInfo`] |
//! | `runbooks`      | `runbooks`, `status_page`           | [`RunbooksInfo`]                    |
//! | `backup`        | `backup_stores`, datastore `backup` | [`BackupStoreInfo`], [`BackupInfo`] |
//! | `datastore`     | `datastores` (`failover`)           | [`DatastoreInfo`], [`Fencing`]      |
//! | `sentinel`      | datastore `sentinel`                | [`SentinelInfo`]                    |
//! | `app`           | `apps`                              | [`AppTierInfo`]                     |
//! | `health_check`  | `check` (apps, balancers, RPC)      | a `HealthCheckSpec`                 |
//! | `load_balancer` | `load_balancers`                    | [`LoadBalancerInfo`]                |
//! | `dns`           | `dns`                               | [`DnsInfo`]                         |
//! | `client`        | `clients` (`connect`)               | [`ClientInfo`], [`Connect`]         |
//! | `cdn`           | `cdns`                              | [`CdnInfo`]                         |
//! | `rpc`           | `rpc`                               | [`RpcInfo`]                         |
//! | `service`       | `services`                          | [`ServiceInfo`]                     |
//! | `graph`         | none: reads resolved kinds          | the dependency graph                |
//! | `durations`     | none: shared rules                  | periods, positive waits             |
//!
//! **Adding a component kind.** Add a module with its `…Def` serde types (and their
//! defaults), its resolved `…Info` type, a `resolve` function that validates the section,
//! resolves its names (nodes through `NodeTable`, giving each node its [`Role`]) and
//! returns the `…Info`s, and unit tests beside them. Add its field to [`TopologyFile`] and to
//! [`Topology`], call its `resolve` from `Builder::build` after the sections it refers to,
//! re-export its public types here, and add its dependency edges in `graph` if its
//! requests need other nodes.

mod app;
mod backup;
mod cdn;
mod client;
mod datastore;
mod dns;
mod durations;
mod graph;
mod health_check;
mod latency;
mod load_balancer;
mod monitor;
mod monitoring;
mod nodes;
mod paging;
mod places;
mod rpc;
mod runbooks;
mod sentinel;
mod service;

pub use app::{AppTierDef, AppTierInfo, CapacityDef};
pub use backup::{
    BackupDef, BackupInfo, BackupScheduleDef, BackupStoreDef, BackupStoreInfo, CronDef,
    RecoveryDef, RecoveryInfo, WalArchiveDef,
};
pub use cdn::{CdnDef, CdnInfo};
pub use client::{ClientDef, ClientInfo, Connect, ConnectDef};
pub use datastore::{DatastoreDef, DatastoreInfo, FailoverDef, Fencing, ReplicationDef};
pub use dns::{DnsDef, DnsInfo};
pub use health_check::HealthCheckDef;
pub use latency::{JitterDef, LatencyDef};
pub use load_balancer::{LoadBalancerDef, LoadBalancerInfo};
pub use monitor::{MonitorDef, MonitorInfo};
pub use monitoring::{AlertExprDef, AlertRuleDef, PrometheusDef, PrometheusInfo};
pub use nodes::{NodeDef, Role};
pub use paging::{
    AlertmanagerDef, AlertmanagerInfo, EscalationPolicyDef, EscalationRuleDef, PagingDef,
    PagingInfo, ResponderDef,
};
pub use places::{PlaceRef, ProviderDef, RegionDef, ZoneInfo};
pub use rpc::{RpcDef, RpcInfo};
pub use runbooks::{
    ActionDef, ConditionDef, RUNBOOK_STEPS_MAX, RunbookDef, RunbooksInfo, StatusPageDef, StepDef,
    stage_words, state_words,
};
pub use sentinel::{SentinelDef, SentinelInfo};
pub use service::{ServiceDef, ServiceInfo};

use super::error::{InputError, Source};
use crate::sim::network::{NetworkLayout, Place};
use petgraph::graph::DiGraph;
use places::PlaceResolver;
use serde::Deserialize;
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
    /// Prometheus servers: what they scrape and their alerting rules.
    #[serde(default)]
    pub monitoring: Vec<PrometheusDef>,
    /// The paging service, its escalation policy and its responders.
    #[serde(default)]
    pub paging: Option<PagingDef>,
    /// Alertmanager: groups the monitoring servers' alerts for the paging service.
    #[serde(default)]
    pub alertmanager: Option<AlertmanagerDef>,
    /// The public status page, on a node of its own.
    #[serde(default)]
    pub status_page: Option<StatusPageDef>,
    /// What the on-call team (or the automation) does for an incident, by its alerts.
    #[serde(default)]
    pub runbooks: Vec<RunbookDef>,
}

/// Looks places up by name, with the nodes named so far.
fn resolver<'a>(places: &'a places::Places, node_names: &'a [String]) -> PlaceResolver<'a> {
    PlaceResolver {
        providers: &places.providers,
        regions: &places.regions,
        zones: &places.zones,
        node_names,
    }
}

/// The operations sections, resolved: monitoring, paging, Alertmanager, runbooks.
struct Operations {
    monitoring: Vec<PrometheusInfo>,
    paging: Option<PagingInfo>,
    alertmanager: Option<AlertmanagerInfo>,
    runbooks: RunbooksInfo,
}

/// The machines' sections the operations sections refer to.
struct Machines<'a> {
    datastores: &'a [DatastoreInfo],
    monitors: &'a [MonitorInfo],
    services: &'a [ServiceInfo],
    dns: Option<&'a DnsInfo>,
    rpcs: &'a [RpcInfo],
}

/// Resolves the operations sections after the machines', in this order: the monitoring
/// servers (what they scrape), the paging service, then Alertmanager, which refers to both.
fn operations(
    src: &Source,
    f: &TopologyFile,
    places: &places::Places,
    nodes: &mut nodes::NodeTable,
    machines: &Machines<'_>,
) -> Result<Operations, InputError> {
    let resolver = resolver(places, &nodes.names);
    let monitoring =
        monitoring::resolve(src, &f.monitoring, &resolver, nodes, machines.datastores)?;
    monitoring::assign_roles(src, &monitoring, nodes)?;
    let mut paging = paging::resolve_section(src, f.paging.as_ref(), nodes)?;
    let am = f.alertmanager.as_ref();
    let alertmanager = paging::resolve_alertmanager(src, am, &monitoring, paging.as_ref(), nodes)?;
    let mut alert_names = monitoring::alert_names(&monitoring);
    if let (Some(p), Some(d)) = (
        &mut paging,
        f.paging.as_ref().and_then(|d| d.user_reports.as_ref()),
    ) {
        let spec = paging::resolve_user_reports(src, d, p.node, &mut alert_names, nodes)?;
        p.support = Some((nodes.node(src, "user_reports", &d.node)?, spec));
    }
    let scope = runbooks::Scope {
        alert_names: &alert_names,
        datastores: machines.datastores,
        monitors: machines.monitors,
        services: machines.services,
        dns: machines.dns,
        rpcs: machines.rpcs,
    };
    let page = f.status_page.as_ref();
    let runbooks = runbooks::resolve(src, page, &f.runbooks, &scope, nodes)?;
    Ok(Operations {
        monitoring,
        paging,
        alertmanager,
        runbooks,
    })
}

// ---------------------------------------------------------------------------------------------
// The validated topology
// ---------------------------------------------------------------------------------------------

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
    pub monitoring: Vec<PrometheusInfo>,
    pub paging: Option<PagingInfo>,
    pub alertmanager: Option<AlertmanagerInfo>,
    /// The runbooks and the status page.
    pub runbooks: RunbooksInfo,
    /// The monitor each watched node heartbeats to, and its position among all heartbeating
    /// nodes (for staggered phases).
    pub heartbeat: Vec<Option<(usize, u64)>>,
    pub layout: NetworkLayout,
    pub graph: DiGraph<Vertex, Edge>,
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

/// Resolves and checks a parsed file, section by section; the first error stops it.
struct Builder<'a> {
    src: &'a Source,
}

impl<'a> Builder<'a> {
    fn new(src: &'a Source) -> Self {
        Builder { src }
    }

    /// Resolves every section after those it refers to, in a fixed order: the order of the
    /// checks, and so which error a file with several gets, is part of the interface.
    fn build(self, f: TopologyFile, source: Source) -> Result<Topology, InputError> {
        let src = self.src;
        if f.name.trim().is_empty() {
            return Err(src.invalid("name", "", "the topology needs a name"));
        }
        let mut places = places::resolve(src, &f.providers)?;
        let mut nodes = nodes::resolve(src, &f.nodes, &mut places)?;
        let layout = latency::layout(src, &f.latency, &places.regions, &places.zones, &nodes.zone)?;
        let mut monitors = monitor::resolve(src, &f.monitors, &mut nodes)?;
        let backup_stores = backup::resolve_stores(src, &f.backup_stores, &mut nodes)?;
        let earlier = datastore::Resolved {
            monitor_defs: &f.monitors,
            monitors: &monitors,
            stores: &backup_stores,
        };
        let datastores = datastore::resolve(src, &f.datastores, &earlier, &mut nodes)?;
        let apps = app::resolve(src, &f.apps, &datastores, &mut nodes)?;
        let load_balancers = load_balancer::resolve(src, &f.load_balancers, &mut nodes)?;
        let dns = f.dns.as_ref();
        let dns = dns.map(|d| dns::resolve(src, d, &mut nodes)).transpose()?;
        let clients = client::resolve(src, &f.clients, &datastores, dns.as_ref(), &mut nodes)?;
        let cdns = cdn::resolve(src, &f.cdns, &mut nodes)?;
        let rpcs = rpc::resolve(src, &f.rpc, &mut nodes)?;
        let backends = service::Backends {
            datastores: &datastores,
            cdns: &cdns,
            rpcs: &rpcs,
        };
        let services = service::resolve(src, &f.services, &backends, &mut nodes)?;
        let resolver = resolver(&places, &nodes.names);
        let heartbeat = monitor::heartbeats(src, &f.monitors, &resolver, &nodes, &mut monitors)?;
        datastore::check_controllers_hear_members(src, &datastores, &f.datastores, &heartbeat)?;
        let machines = Machines {
            datastores: &datastores,
            monitors: &monitors,
            services: &services,
            dns: dns.as_ref(),
            rpcs: &rpcs,
        };
        let ops = operations(src, &f, &places, &mut nodes, &machines)?;
        let mut topology = Topology {
            name: f.name,
            source,
            providers: places.providers,
            regions: places.regions,
            zones: places.zones,
            node_names: nodes.names,
            node_zone: nodes.zone,
            roles: nodes.roles,
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
            monitoring: ops.monitoring,
            paging: ops.paging,
            alertmanager: ops.alertmanager,
            runbooks: ops.runbooks,
            heartbeat,
            layout,
            graph: DiGraph::new(),
        };
        topology.graph = graph::build(src, &topology)?;
        Ok(topology)
    }
}

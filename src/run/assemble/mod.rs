//! Assembly: turns a validated topology and scenario into a world of processes, a network
//! and a fault schedule for one seeded run.
//!
//! [`assemble`] first builds the specs the processes of one kind share, then places one
//! process on each node by its role, in node order; then the network and the fault schedule.
//! Each component kind has its own module:
//!
//! | module | kind | creates |
//! |---|---|---|
//! | `datastore` | datastores | cluster specs; a [`Replica`](crate::logic::replication::Replica) on each member and the [`BackupAgent`] beside it |
//! | `monitor` | monitors | monitor specs and heartbeat plans; a [`Monitor`](crate::logic::failover::Monitor) |
//! | `cdn` | CDNs | CDN specs; an [`Edge`](crate::logic::cdn::Edge) on each edge node |
//! | `sentinel` | sentinels | sentinel specs; a [`Sentinel`](crate::logic::sentinel::Sentinel) |
//! | `app` | app tiers | an [`AppServer`](crate::logic::routing::AppServer) with its backends and sentinel views |
//! | `load_balancer` | load balancers | a [`LoadBalancer`](crate::logic::routing::LoadBalancer) |
//! | `dns` | DNS | the [`Gslb`](crate::logic::routing::Gslb) |
//! | `clients` | client populations | a [`ClientPopulation`](crate::measure::client::ClientPopulation) with its streams |
//! | `site` | static sites | a [`StaticSite`](crate::logic::site::StaticSite) |
//! | `rpc` | RPC chains | an [`RpcProvider`](crate::logic::rpc::RpcProvider) or [`RpcBalancer`](crate::logic::rpc::RpcBalancer) |
//! | `backup` | backup stores, restores | a [`BackupStore`](crate::logic::backup::BackupStore); a [`RecoveryRunbook`](crate::ops::restore::RecoveryRunbook) |
//! | `monitoring` | Prometheus servers | a [`Prometheus`](crate::ops::monitoring::Prometheus) |
//! | `paging` | Alertmanager, the paging service, responders | an [`Alertmanager`](crate::ops::alertmanager::Alertmanager); a [`PagerDuty`](crate::ops::paging::PagerDuty); a [`Responder`](crate::ops::paging::Responder) on each responder's node |
//! | `network` | the network | node and jitter random streams, the [`Network`]; nearest-first order |
//! | `faults` | the fault schedule | [`NetFault`]s by time and [`ProcessFault`](super::world::ProcessFault)s by fault number |
//!
//! **Adding a component kind**: add a module here with a `place_<kind>` function returning
//! its [`Process`] (and, if its processes share a spec, a function building the specs, called
//! from [`assemble`] after the existing ones) and the kind's
//! [`NodeProcess`](super::world::NodeProcess) impl (how the world starts it, hands it
//! messages and timers, and what a crash makes it forget); call `place_<kind>` from
//! `place_process` for the kind's [`Role`]; register the kind with one line in `processes!`
//! in `run/world.rs`. A kind that health-checks takes its staggered phase with
//! `CheckPhases::take`. Keep the order in which everything already there is created: the
//! trace-hash guard (`tests/integration/trace_guard.rs`) pins every shipped scenario's run to
//! the event.

mod app;
mod backup;
mod cdn;
mod clients;
mod datastore;
mod dns;
mod faults;
mod load_balancer;
mod monitor;
mod monitoring;
mod network;
mod paging;
mod rpc;
mod sentinel;
mod site;

use super::world::{GameDayWorld, Process};
use crate::logic::backup::{BackupAgent, BackupPlan};
use crate::logic::cdn::CdnSpec;
use crate::logic::failover::MonitorSpec;
use crate::logic::lease::HeartbeatPlan;
use crate::logic::replication::ClusterSpec;
use crate::logic::sentinel::SentinelSpec;
use crate::model::scenario::Scenario;
use crate::model::topology::{Role, Topology};
use crate::sim::kernel::NetFault;
use crate::sim::network::Network;
use crate::sim::time::SimTime;
use std::sync::Arc;

/// Everything one run needs before the kernel starts.
pub struct Assembly {
    pub world: GameDayWorld,
    pub network: Network,
    pub faults: Vec<(SimTime, NetFault)>,
    pub clusters: Vec<Arc<ClusterSpec>>,
}

/// Builds one seeded run of `scenario` on `topo`: shared specs per kind, a process per node,
/// the network and the fault schedule, always in that order.
pub fn assemble(topo: &Topology, scenario: &Scenario, run_seed: u64) -> Assembly {
    let clusters = datastore::cluster_specs(topo);
    let monitors = monitor::monitor_specs(topo, &clusters);
    let cdns = cdn::cdn_specs(topo);
    let sentinels = sentinel::sentinel_specs(topo, &clusters);
    let backups = datastore::backup_plans(topo);
    let specs = Specs {
        topo,
        scenario,
        clusters,
        monitors,
        cdns,
        sentinels,
        backups,
    };
    let placed = place_nodes(&specs);
    let rngs = network::node_rngs(topo, run_seed);
    let network = network::network(topo, run_seed);
    let process_faults = faults::process_faults(topo, scenario);
    let faults = faults::schedule(scenario);
    let n = topo.node_names.len();
    Assembly {
        world: GameDayWorld {
            processes: placed.processes,
            plain_heartbeats: placed.plain_heartbeats,
            phase_index: placed.phases.index,
            rngs,
            outages: Vec::new(),
            faults_applied: Vec::new(),
            process_faults,
            agents: placed.agents,
            datastore_members: topo.datastores.iter().map(|d| d.members.clone()).collect(),
            bad_transactions: vec![Vec::new(); topo.datastores.len()],
            lag_marks: vec![Default::default(); n],
            record_lag: true,
        },
        network,
        faults,
        clusters: specs.clusters,
    }
}

/// What placing a process reads: the topology, the scenario and the specs shared by the
/// processes of one kind (each indexed like the topology's list of that kind).
struct Specs<'a> {
    topo: &'a Topology,
    scenario: &'a Scenario,
    clusters: Vec<Arc<ClusterSpec>>,
    monitors: Vec<Arc<MonitorSpec>>,
    cdns: Vec<Arc<CdnSpec>>,
    sentinels: Vec<Option<Arc<SentinelSpec>>>,
    backups: Vec<Option<Arc<BackupPlan>>>,
}

/// Each health-checking node's position among all of them in node order, so their checks
/// start at staggered phases.
struct CheckPhases {
    index: Vec<u64>,
    seen: u64,
}

impl CheckPhases {
    /// Gives `node` the next position among the health checkers.
    fn take(&mut self, node: u32) {
        self.index[node as usize] = self.seen;
        self.seen += 1;
    }
}

/// Per node, what the world runs there.
struct Placed {
    processes: Vec<Process>,
    plain_heartbeats: Vec<Option<HeartbeatPlan>>,
    agents: Vec<Option<BackupAgent>>,
    phases: CheckPhases,
}

/// Places every node's process, backup agent and heartbeat, in node order.
fn place_nodes(s: &Specs) -> Placed {
    let n = s.topo.node_names.len();
    let mut placed = Placed {
        processes: Vec::with_capacity(n),
        plain_heartbeats: Vec::with_capacity(n),
        agents: Vec::with_capacity(n),
        phases: CheckPhases {
            index: vec![0; n],
            seen: 0,
        },
    };
    for node in 0..n as u32 {
        let role = s.topo.roles[node as usize];
        let hb = monitor::heartbeat_plan(s.topo, node);
        // Database members renew their own leases; other watched nodes just heartbeat.
        placed.plain_heartbeats.push(match role {
            Role::DatabaseMember { .. } => None,
            _ => hb,
        });
        placed
            .agents
            .push(datastore::place_backup_agent(&s.backups, role));
        let process = place_process(s, node, role, hb, &mut placed.phases);
        placed.processes.push(process);
    }
    placed
}

/// The process on `node`, by its role: the one place that maps a role to its kind's module.
fn place_process(
    s: &Specs,
    node: u32,
    role: Role,
    hb: Option<HeartbeatPlan>,
    phases: &mut CheckPhases,
) -> Process {
    let topo = s.topo;
    let n = topo.node_names.len();
    match role {
        Role::Plain => Process::Plain,
        Role::BackupStore(k) => backup::place_backup_store(topo, k),
        Role::Recovery { datastore } => backup::place_recovery(topo, datastore),
        Role::DatabaseMember { datastore, member } => {
            datastore::place_replica(&s.clusters, datastore, member, hb)
        }
        Role::Monitor(mi) => monitor::place_monitor(&s.monitors[mi], n),
        Role::Site => site::place_site(),
        Role::RpcProvider(k) => rpc::place_rpc_provider(topo, k),
        Role::RpcBalancer(k) => rpc::place_rpc_balancer(topo, k, node, phases),
        Role::Edge(k) => cdn::place_edge(&s.cdns[k]),
        Role::Sentinel { datastore } => sentinel::place_sentinel(&s.sentinels, datastore, node),
        Role::App { tier } => app::place_app(topo, tier, node, phases),
        Role::LoadBalancer(li) => load_balancer::place_load_balancer(topo, li, node, phases),
        Role::Dns => dns::place_dns(topo, n),
        Role::Clients(ci) => clients::place_clients(topo, s.scenario, ci),
        Role::Prometheus(k) => monitoring::place_prometheus(topo, k),
        Role::PagerDuty => paging::place_pagerduty(topo, s.scenario),
        Role::Alertmanager => paging::place_alertmanager(topo),
        Role::Responder(k) => paging::place_responder(topo, s.scenario, k),
        Role::Automation => paging::place_automation(topo),
        Role::StatusPage => paging::place_status_page(topo),
        Role::SupportDesk => paging::place_support_desk(topo),
    }
}

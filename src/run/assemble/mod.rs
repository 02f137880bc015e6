//! Assembly: turns a validated topology and scenario into a world of processes, a network
//! and a fault schedule for one seeded run.

use super::world::{GameDayWorld, Process, ProcessFault};
use crate::logic::ServiceId;
use crate::logic::backup::{BackupAgent, BackupPlan, BackupStore};
use crate::logic::cdn::{AssetCatalog, CdnSpec, Edge};
use crate::logic::failover::{FailoverPolicy, Monitor, MonitorSpec};
use crate::logic::health_check::HealthChecker;
use crate::logic::lease::HeartbeatPlan;
use crate::logic::replication::{ClusterSpec, Replica};
use crate::logic::restore::{RecoveryRunbook, RecoverySpec};
use crate::logic::routing::{AppServer, Backend, Gslb, LoadBalancer, SentinelView};
use crate::logic::rpc::{BalancerSpec, RpcBalancer, RpcProvider};
use crate::logic::sentinel::{Sentinel, SentinelSpec};
use crate::logic::site::StaticSite;
use crate::measure::client::{ClientPopulation, ClientSpec, Endpoint, Stream};
use crate::model::scenario::{FaultKind, Scenario};
use crate::model::topology::{Connect, Fencing, Role, Topology};
use crate::sim::kernel::NetFault;
use crate::sim::network::Network;
use crate::sim::rng::component_rng;
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

/// Everything one run needs before the kernel starts.
pub struct Assembly {
    pub world: GameDayWorld,
    pub network: Network,
    pub faults: Vec<(SimTime, NetFault)>,
    pub clusters: Vec<Arc<ClusterSpec>>,
}

pub fn assemble(topo: &Topology, scenario: &Scenario, run_seed: u64) -> Assembly {
    let n = topo.node_names.len();
    let clusters: Vec<Arc<ClusterSpec>> = topo
        .datastores
        .iter()
        .map(|d| {
            let subscribers = topo
                .clients
                .iter()
                .filter(|c| matches!(c.connect, Connect::Direct { datastore, .. } if topo.datastores[datastore].name == d.name))
                .map(|c| c.node)
                .collect();
            Arc::new(ClusterSpec {
                name: d.name.clone(),
                members: d.members.clone(),
                member_zone: d.members.iter().map(|&m| topo.node_zone[m as usize]).collect(),
                initial_primary: d.primary,
                mode: d.mode,
                epoch_fencing: d.fencing.contains(&Fencing::Epoch),
                lease: d
                    .controller
                    .filter(|_| d.fencing.contains(&Fencing::Lease))
                    .map(|c| topo.monitors[c].loop_wait + d.retry_timeout),
                subscribers,
                strict: d.synchronous_mode_strict,
                wal_sender_timeout: d.wal_sender_timeout,
            })
        })
        .collect();
    let heartbeat_plan = |node: u32| -> Option<HeartbeatPlan> {
        topo.heartbeat[node as usize].map(|(mi, index)| {
            let m = &topo.monitors[mi];
            HeartbeatPlan {
                monitor: m.node,
                interval: m.loop_wait,
                phase: m.heartbeat_phase,
                index,
            }
        })
    };
    let monitor_specs: Vec<Arc<MonitorSpec>> = topo
        .monitors
        .iter()
        .enumerate()
        .map(|(mi, m)| {
            let failover = topo
                .datastores
                .iter()
                .zip(&clusters)
                .find(|(d, _)| d.controller == Some(mi))
                .map(|(d, c)| FailoverPolicy {
                    cluster: c.clone(),
                    maximum_lag_on_failover: d.maximum_lag_on_failover,
                    synchronous_mode: d.synchronous_mode,
                    lease_fencing: d.fencing.contains(&Fencing::Lease),
                    demote_old_primary: d.fencing.contains(&Fencing::Demote),
                });
            Arc::new(MonitorSpec {
                ttl: m.ttl,
                loop_wait: m.loop_wait,
                check_phase: m.check_phase,
                watched: m.watched.clone(),
                failover,
            })
        })
        .collect();
    let cdn_specs: Vec<Arc<CdnSpec>> = topo
        .cdns
        .iter()
        .map(|c| {
            Arc::new(CdnSpec {
                catalog: AssetCatalog::zipf(c.assets, c.zipf),
                origins: c.origins.clone(),
                ttl: c.ttl,
                origin_timeout: c.origin_timeout,
                serve_stale: c.serve_stale,
            })
        })
        .collect();
    // Sentinel-managed datastores: their sentinels tell the app servers that reach them.
    let sentinel_specs: Vec<Option<Arc<SentinelSpec>>> = topo
        .datastores
        .iter()
        .enumerate()
        .map(|(di, d)| {
            d.sentinel.as_ref().map(|si| {
                let subscribers = topo
                    .apps
                    .iter()
                    .filter(|t| t.via_sentinel.contains(&di))
                    .flat_map(|t| t.nodes.iter().copied())
                    .collect();
                Arc::new(SentinelSpec {
                    cluster: clusters[di].clone(),
                    sentinels: si.nodes.clone(),
                    quorum: si.quorum,
                    down_after: si.down_after,
                    ping_interval: si.ping_interval,
                    failover_timeout: si.failover_timeout,
                    phase: si.phase,
                    subscribers,
                })
            })
        })
        .collect();
    // A population's streams, in workload order (stream k of the population is its k-th).
    let streams_of = |ci: usize| -> Vec<Stream> {
        scenario
            .workload
            .iter()
            .filter(|w| w.client == ci)
            .map(|w| Stream {
                direct: nearest_first(
                    topo,
                    topo.clients[ci].node,
                    &topo.services[w.service].direct,
                ),
                service: w.service as ServiceId,
                arrivals: w.arrivals,
                timeout: w.timeout,
                retries: w.retries,
            })
            .collect()
    };

    // Backups: the plan each member's agent follows, and each datastore's restore runbook.
    let backup_plans: Vec<Option<Arc<BackupPlan>>> = topo
        .datastores
        .iter()
        .enumerate()
        .map(|(di, d)| {
            d.backup.as_ref().map(|b| {
                let store = |k: usize| topo.backup_stores[k].node;
                Arc::new(BackupPlan {
                    datastore: di as u8,
                    snapshot: b.snapshots.map(|(k, c)| (store(k), c)),
                    archive: b.archive.map(|(k, c)| (store(k), c)),
                    wal: b.wal_archive.map(|(k, t)| (store(k), t)),
                    data_size: b.data_size,
                    write_size: b.write_size,
                    upload_timeout: b
                        .snapshots
                        .or(b.archive)
                        .map(|(_, c)| c.every)
                        .unwrap_or(SimDuration::from_secs(3600)),
                })
            })
        })
        .collect();
    let recovery_spec = |di: usize| -> Arc<RecoverySpec> {
        let d = &topo.datastores[di];
        let b = d
            .backup
            .as_ref()
            .expect("validated: a recovery node implies a backup policy");
        let r = b.recovery.as_ref().expect("validated");
        // Restore sources in preference order: the snapshot store (fast, recent), then the
        // archive (another provider, slower), then the WAL store if it is a third.
        let mut sources: Vec<u32> = Vec::new();
        for k in [
            b.snapshots.map(|s| s.0),
            b.archive.map(|s| s.0),
            b.wal_archive.map(|s| s.0),
        ]
        .into_iter()
        .flatten()
        {
            let node = topo.backup_stores[k].node;
            if !sources.contains(&node) {
                sources.push(node);
            }
        }
        Arc::new(RecoverySpec {
            datastore: di as u8,
            members: d.members.clone(),
            controller: d.controller.map(|c| topo.monitors[c].node),
            sources,
            pitr: b.wal_archive.is_some(),
            data_size: b.data_size,
            write_size: b.write_size,
            chunk: r.chunk,
            integrity_check: r.integrity_check,
            scrape_every: r.metrics_scrape,
            user_report_after: r.user_report_after,
            provision: r.provision,
            redeploy: r.redeploy,
            verify: r.verify,
            answer_timeout: r.answer_timeout,
            chunk_timeout: r.chunk_timeout,
        })
    };
    let mut agents = Vec::with_capacity(n);
    let mut processes = Vec::with_capacity(n);
    let mut plain_heartbeats = Vec::with_capacity(n);
    let mut phase_index = vec![0u64; n];
    let mut checkers_seen = 0u64;
    for node in 0..n as u32 {
        let role = topo.roles[node as usize];
        let hb = heartbeat_plan(node);
        plain_heartbeats.push(if matches!(role, Role::DatabaseMember { .. }) {
            None
        } else {
            hb
        });
        agents.push(match role {
            Role::DatabaseMember { datastore, member } => backup_plans[datastore]
                .as_ref()
                .map(|p| BackupAgent::new(p.clone(), member)),
            _ => None,
        });
        let process = match role {
            Role::Plain => Process::Plain,
            Role::BackupStore(k) => {
                Process::BackupStore(BackupStore::new(topo.backup_stores[k].spec))
            }
            Role::Recovery { datastore } => {
                Process::Recovery(RecoveryRunbook::new(recovery_spec(datastore)))
            }
            Role::DatabaseMember { datastore, member } => {
                Process::Replica(Replica::new(clusters[datastore].clone(), member, hb))
            }
            Role::Monitor(mi) => Process::Monitor(Monitor::new(monitor_specs[mi].clone(), n)),
            Role::Site => Process::Site(StaticSite),
            Role::RpcProvider(k) => Process::RpcProvider(RpcProvider::new(topo.rpcs[k].block_time)),
            Role::RpcBalancer(k) => {
                let r = &topo.rpcs[k];
                phase_index[node as usize] = checkers_seen;
                checkers_seen += 1;
                Process::RpcBalancer(RpcBalancer::new(
                    BalancerSpec {
                        halt_after: r.halt_after,
                        ewma_weight_permille: 300,
                    },
                    HealthChecker::new(r.check, r.providers.clone(), vec![true; r.providers.len()]),
                ))
            }
            Role::Edge(k) => Process::Edge(Edge::new(cdn_specs[k].clone())),
            Role::Sentinel { datastore } => {
                let (spec, index) = sentinel_specs[datastore]
                    .as_ref()
                    .map(|s| (s.clone(), s.sentinels.iter().position(|&x| x == node)))
                    .expect(
                        "validated: a sentinel node belongs to a datastore with a sentinel section",
                    );
                Process::Sentinel(Sentinel::new(
                    spec,
                    index.expect("the node is one of its sentinels"),
                ))
            }
            Role::App { tier } => {
                let t = &topo.apps[tier];
                let checker = t.datastore.zip(t.check).map(|(d, spec)| {
                    let ds = &topo.datastores[d];
                    let initially = (0..ds.members.len()).map(|m| m == ds.primary).collect();
                    HealthChecker::new(spec, ds.members.clone(), initially)
                });
                phase_index[node as usize] = checkers_seen;
                checkers_seen += 1;
                let backends = topo
                    .services
                    .iter()
                    .map(|sv| {
                        if let Some(r) = sv.rpc {
                            // Each app server calls its nearest balancer.
                            Backend::Rpc(nearest_first(topo, node, &topo.rpcs[r].balancers)[0])
                        } else if sv.datastore.is_some() && t.datastore == sv.datastore {
                            Backend::RoleChecked
                        } else if let Some(k) =
                            t.via_sentinel.iter().position(|&d| Some(d) == sv.datastore)
                        {
                            Backend::Sentinel(k as u8)
                        } else {
                            Backend::Unserved
                        }
                    })
                    .collect();
                let views = t
                    .via_sentinel
                    .iter()
                    .map(|&d| {
                        let ds = &topo.datastores[d];
                        SentinelView {
                            sentinels: ds
                                .sentinel
                                .as_ref()
                                .map(|s| s.nodes.clone())
                                .unwrap_or_default(),
                            master: ds.members[ds.primary],
                            epoch: 1,
                        }
                    })
                    .collect();
                Process::App(
                    AppServer::new(checker)
                        .with_backends(backends, views)
                        .with_capacity(t.capacity),
                )
            }
            Role::LoadBalancer(li) => {
                let l = &topo.load_balancers[li];
                phase_index[node as usize] = checkers_seen;
                checkers_seen += 1;
                Process::LoadBalancer(LoadBalancer::new(HealthChecker::new(
                    l.check,
                    l.targets.clone(),
                    vec![true; l.targets.len()],
                )))
            }
            Role::Dns => {
                let d = topo
                    .dns
                    .as_ref()
                    .expect("validated: a node with the DNS role implies a dns section");
                let mut prefs = vec![Vec::new(); n];
                for c in &topo.clients {
                    if let Connect::Dns { prefer, .. } = &c.connect {
                        prefs[c.node as usize] = prefer.clone();
                    }
                }
                Process::Dns(Gslb::new(
                    HealthChecker::new(d.check, d.endpoints.clone(), vec![true; d.endpoints.len()]),
                    prefs,
                ))
            }
            Role::Clients(ci) => {
                let c = &topo.clients[ci];
                let streams = streams_of(ci);
                match streams.is_empty() {
                    // A population the scenario gives no workload stays idle.
                    true => Process::Plain,
                    false => {
                        let endpoint = match &c.connect {
                            Connect::Direct { datastore, ttl } => {
                                let d = &topo.datastores[*datastore];
                                Endpoint::Direct {
                                    primary: d.members[d.primary],
                                    ttl: *ttl,
                                }
                            }
                            Connect::Dns { prefer, caches } => {
                                let d = topo.dns.as_ref().expect("validated");
                                Endpoint::Dns {
                                    gslb: d.node,
                                    ttl: d.ttl,
                                    caches: *caches,
                                    initial: d.endpoints[prefer[0]],
                                }
                            }
                        };
                        Process::Clients(ClientPopulation::new(ClientSpec { streams, endpoint }))
                    }
                }
            }
        };
        processes.push(process);
    }
    let rngs = topo
        .node_names
        .iter()
        .map(|name| component_rng(run_seed, name))
        .collect();
    // Jitter streams per sending node, named after it: adding a component never shifts the
    // jitter another node's messages get.
    let net_rngs = topo
        .node_names
        .iter()
        .map(|name| component_rng(run_seed, &format!("net/{name}")))
        .collect();
    let network = Network::new(topo.layout.clone(), net_rngs);
    let process_faults = scenario
        .faults
        .iter()
        .map(|f| match &f.kind {
            FaultKind::ChainHalt(chain) => {
                let r = topo
                    .rpcs
                    .iter()
                    .find(|r| &r.name == chain)
                    .expect("validated");
                Some(ProcessFault::ChainHalt {
                    providers: r.providers.clone(),
                })
            }
            FaultKind::RpcErrors { provider, rate } => Some(ProcessFault::Errors {
                node: topo.node(provider).expect("validated"),
                ppm: (rate * 1_000_000.0).round() as u32,
            }),
            FaultKind::TableCorruption { datastore, share } => Some(ProcessFault::Corrupt {
                datastore: topo
                    .datastores
                    .iter()
                    .position(|d| &d.name == datastore)
                    .expect("validated"),
                ppm: (share * 1_000_000.0).round() as u32,
            }),
            FaultKind::BackupDeletion(store) => Some(ProcessFault::DeleteBackups {
                node: topo
                    .backup_stores
                    .iter()
                    .find(|b| &b.name == store)
                    .expect("validated")
                    .node,
            }),
            _ => None,
        })
        .collect();
    let mut faults = Vec::new();
    for (i, f) in scenario.faults.iter().enumerate() {
        faults.extend(f.net_faults(i as u32));
    }
    // Stable by time: faults at the same instant apply in file order.
    faults.sort_by_key(|(at, _)| *at);
    Assembly {
        world: GameDayWorld {
            processes,
            plain_heartbeats,
            phase_index,
            rngs,
            outages: Vec::new(),
            faults_applied: Vec::new(),
            process_faults,
            agents,
            datastore_members: topo.datastores.iter().map(|d| d.members.clone()).collect(),
            bad_transactions: vec![Vec::new(); topo.datastores.len()],
            lag_marks: vec![Default::default(); n],
            record_lag: true,
        },
        network,
        faults,
        clusters,
    }
}

/// `nodes` ordered by one-way latency from `from` (nearest first; ties keep topology order):
/// how anycast and latency-based DNS send a user to the closest edge.
fn nearest_first(topo: &Topology, from: u32, nodes: &[u32]) -> Vec<u32> {
    let zones = topo.zones.len();
    let zf = topo.node_zone[from as usize] as usize;
    let mut v = nodes.to_vec();
    v.sort_by_key(|&n| topo.layout.zone_latency[zf * zones + topo.node_zone[n as usize] as usize]);
    v
}

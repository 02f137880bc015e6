//! Datastores: the cluster spec each one's members share, the replica on each member and the
//! backup agent beside it (following the datastore's backup plan).
//!
//! Not here: the backup stores the agents upload to and the recovery runbook that restores
//! from them ([`super::backup`]), the monitor that fails a datastore over
//! ([`super::monitor`]) and its sentinels ([`super::sentinel`]).

use crate::logic::backup::{BackupAgent, BackupPlan};
use crate::logic::lease::HeartbeatPlan;
use crate::logic::replication::{ClusterSpec, Replica};
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::{Connect, Fencing, Role, Topology};
use crate::run::world::NodeProcess;
use crate::run::world::Process;
use crate::sim::time::SimDuration;
use std::sync::Arc;

/// One cluster spec per datastore, in topology order: members, replication mode, fencing and
/// the client populations connected to it directly (told when the primary moves).
pub(super) fn cluster_specs(topo: &Topology) -> Vec<Arc<ClusterSpec>> {
    topo.datastores
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
        .collect()
}

/// The plan each member's backup agent follows, per datastore (`None` without a backup
/// policy): which stores get snapshots, archives and the WAL, and how often.
pub(super) fn backup_plans(topo: &Topology) -> Vec<Option<Arc<BackupPlan>>> {
    topo.datastores
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
        .collect()
}

/// The replica on member `member` of datastore `datastore`; it renews its own lease with `hb`.
pub(super) fn place_replica(
    clusters: &[Arc<ClusterSpec>],
    datastore: usize,
    member: usize,
    hb: Option<HeartbeatPlan>,
) -> Process {
    Process::Replica(Replica::new(clusters[datastore].clone(), member, hb))
}

/// The backup agent beside a database member whose datastore has a backup plan; no agent on
/// any other node.
pub(super) fn place_backup_agent(
    plans: &[Option<Arc<BackupPlan>>],
    role: Role,
) -> Option<BackupAgent> {
    match role {
        Role::DatabaseMember { datastore, member } => plans[datastore]
            .as_ref()
            .map(|p| BackupAgent::new(p.clone(), member)),
        _ => None,
    }
}

/// A member starts as configured; after a crash it comes back as a replica following nobody (`Replica::restart`).
impl NodeProcess for Replica {
    fn start(&mut self, _phase: u64, restart: bool, ctx: &mut impl Context) {
        if restart {
            Replica::restart(self, ctx)
        } else {
            Replica::start(self, ctx)
        }
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Replica::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Replica::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        Replica::crash(self)
    }
}

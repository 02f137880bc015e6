//! Monitors: the spec each monitor runs (what it watches, how it fails a datastore over) and
//! the heartbeat plan by which a watched node reports to its monitor.
//!
//! Not here: the datastores a monitor controls ([`super::datastore`]); a node's heartbeat is
//! armed by the world (plain nodes) or by the replica (database members).

use crate::logic::failover::{FailoverPolicy, Monitor, MonitorSpec};
use crate::logic::lease::HeartbeatPlan;
use crate::logic::replication::ClusterSpec;
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::{Fencing, Topology};
use crate::run::world::NodeProcess;
use crate::run::world::Process;
use std::sync::Arc;

/// One spec per monitor, in topology order; a monitor that controls a datastore carries its
/// failover policy (lag limit, synchronous mode, fencing).
pub(super) fn monitor_specs(
    topo: &Topology,
    clusters: &[Arc<ClusterSpec>],
) -> Vec<Arc<MonitorSpec>> {
    topo.monitors
        .iter()
        .enumerate()
        .map(|(mi, m)| {
            let failover = topo
                .datastores
                .iter()
                .zip(clusters)
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
        .collect()
}

/// How `node` heartbeats to the monitor watching it (`None` if no monitor watches it).
pub(super) fn heartbeat_plan(topo: &Topology, node: u32) -> Option<HeartbeatPlan> {
    topo.heartbeat[node as usize].map(|(mi, index)| {
        let m = &topo.monitors[mi];
        HeartbeatPlan {
            monitor: m.node,
            interval: m.loop_wait,
            phase: m.heartbeat_phase,
            index,
        }
    })
}

/// The monitor process for spec `spec` in a world of `nodes` nodes.
pub(super) fn place_monitor(spec: &Arc<MonitorSpec>, nodes: usize) -> Process {
    Process::Monitor(Monitor::new(spec.clone(), nodes))
}

/// A monitor forgets its lease observations and any failover round in a crash; the DCS keeps the rest.
impl NodeProcess for Monitor {
    fn start(&mut self, _phase: u64, _restart: bool, ctx: &mut impl Context) {
        Monitor::start(self, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Monitor::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Monitor::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        Monitor::crash(self)
    }
}

//! Sentinels: the spec of each sentinel-managed datastore (its sentinels, quorum, timings and
//! the app servers they tell when the master moves) and the sentinel process on each of them.
//!
//! Not here: the app servers' own view of the sentinels ([`super::app`]) and the datastore's
//! replicas ([`super::datastore`]).

use crate::logic::replication::ClusterSpec;
use crate::logic::sentinel::{Sentinel, SentinelSpec};
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::Topology;
use crate::run::world::NodeProcess;
use crate::run::world::Process;
use std::sync::Arc;

/// One spec per datastore, in topology order (`None` for a datastore without sentinels).
pub(super) fn sentinel_specs(
    topo: &Topology,
    clusters: &[Arc<ClusterSpec>],
) -> Vec<Option<Arc<SentinelSpec>>> {
    topo.datastores
        .iter()
        .enumerate()
        .map(|(di, d)| {
            d.sentinel.as_ref().map(|si| {
                // The app servers that reach this datastore through its sentinels.
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
        .collect()
}

/// The sentinel on `node`, one of the sentinels of `datastore`.
pub(super) fn place_sentinel(
    specs: &[Option<Arc<SentinelSpec>>],
    datastore: usize,
    node: u32,
) -> Process {
    let (spec, index) = specs[datastore]
        .as_ref()
        .map(|s| (s.clone(), s.sentinels.iter().position(|&x| x == node)))
        .expect("validated: a sentinel node belongs to a datastore with a sentinel section");
    Process::Sentinel(Sentinel::new(
        spec,
        index.expect("the node is one of its sentinels"),
    ))
}

/// A sentinel keeps what Redis keeps in `sentinel.conf` across a crash and forgets the rest.
impl NodeProcess for Sentinel {
    fn start(&mut self, _phase: u64, _restart: bool, ctx: &mut impl Context) {
        Sentinel::start(self, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Sentinel::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Sentinel::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        Sentinel::crash(self)
    }
}

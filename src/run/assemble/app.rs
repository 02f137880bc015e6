//! App tiers: the app server on each tier node, with its health checker on the tier's own
//! datastore, the backend it uses for each service and its view of the sentinels it follows.
//!
//! Not here: the load balancers in front of a tier ([`super::load_balancer`]), the RPC
//! balancers it calls ([`super::rpc`]) and the sentinels themselves ([`super::sentinel`]).

use super::CheckPhases;
use super::network::nearest_first;
use crate::logic::health_check::HealthChecker;
use crate::logic::routing::{AppServer, Backend, SentinelView};
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::Topology;
use crate::run::world::NodeProcess;
use crate::run::world::Process;

/// The app server on `node`, of tier `tier`; it takes its place among the health checkers.
pub(super) fn place_app(
    topo: &Topology,
    tier: usize,
    node: u32,
    phases: &mut CheckPhases,
) -> Process {
    let t = &topo.apps[tier];
    let checker = t.datastore.zip(t.check).map(|(d, spec)| {
        let ds = &topo.datastores[d];
        let initially = (0..ds.members.len()).map(|m| m == ds.primary).collect();
        HealthChecker::new(spec, ds.members.clone(), initially)
    });
    phases.take(node);
    Process::App(
        AppServer::new(checker)
            .with_backends(backends(topo, tier, node), sentinel_views(topo, tier))
            .with_capacity(t.capacity),
    )
}

/// How the app server on `node` reaches each service, in service order: its nearest RPC
/// balancer, its own checked datastore, a datastore behind sentinels, or not at all.
fn backends(topo: &Topology, tier: usize, node: u32) -> Vec<Backend> {
    let t = &topo.apps[tier];
    topo.services
        .iter()
        .map(|sv| {
            if let Some(r) = sv.rpc {
                // Each app server calls its nearest balancer.
                Backend::Rpc(nearest_first(topo, node, &topo.rpcs[r].balancers)[0])
            } else if sv.datastore.is_some() && t.datastore == sv.datastore {
                Backend::RoleChecked
            } else if let Some(k) = t.via_sentinel.iter().position(|&d| Some(d) == sv.datastore) {
                Backend::Sentinel(k as u8)
            } else {
                Backend::Unserved
            }
        })
        .collect()
}

/// The tier's initial view of each datastore it reaches through sentinels: who the
/// sentinels are and the first master (epoch 1).
fn sentinel_views(topo: &Topology, tier: usize) -> Vec<SentinelView> {
    topo.apps[tier]
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
        .collect()
}

/// An app server checks its backends from its staggered phase; a crash loses its queue.
impl NodeProcess for AppServer {
    fn start(&mut self, phase: u64, _restart: bool, ctx: &mut impl Context) {
        AppServer::start(self, phase, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        AppServer::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        AppServer::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        AppServer::crash(self)
    }
}

//! DNS: the global server load balancer (GSLB) on the DNS node, health-checking the
//! endpoints and answering each client population with its preferred healthy one.
//!
//! Not here: the clients' resolver caches ([`super::clients`]).

use crate::logic::health_check::HealthChecker;
use crate::logic::routing::Gslb;
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::{Connect, Topology};
use crate::run::world::NodeProcess;
use crate::run::world::Process;

/// The GSLB of the topology's DNS section, for a world of `nodes` nodes. It does not take a
/// place among the staggered health checkers: its checks start at phase index 0.
pub(super) fn place_dns(topo: &Topology, nodes: usize) -> Process {
    let d = topo
        .dns
        .as_ref()
        .expect("validated: a node with the DNS role implies a dns section");
    // Each client population's endpoint preferences, by client node.
    let mut prefs = vec![Vec::new(); nodes];
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

/// The DNS keeps its health view across a crash (a simplification noted in docs/ARCHITECTURE.md).
impl NodeProcess for Gslb {
    fn start(&mut self, phase: u64, _restart: bool, ctx: &mut impl Context) {
        Gslb::start(self, phase, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Gslb::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Gslb::on_timer(self, timer, ctx)
    }
}

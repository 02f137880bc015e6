//! Load balancers: the load balancer on each LB node, health-checking its targets.
//!
//! Not here: the app servers it balances over ([`super::app`]).

use super::CheckPhases;
use crate::logic::health_check::HealthChecker;
use crate::logic::routing::LoadBalancer;
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::Topology;
use crate::run::world::NodeProcess;
use crate::run::world::Process;

/// Load balancer `li` on `node`; all targets start healthy, and it takes its place among the
/// health checkers. It times its targets' answers only when some monitoring server's latency
/// rule reads it: otherwise its scrapes, and so the run, stay as they were without the
/// feature.
pub(super) fn place_load_balancer(
    topo: &Topology,
    li: usize,
    node: u32,
    phases: &mut CheckPhases,
) -> Process {
    let l = &topo.load_balancers[li];
    phases.take(node);
    let lb = LoadBalancer::new(HealthChecker::new(
        l.check,
        l.targets.clone(),
        vec![true; l.targets.len()],
    ));
    let timed = topo
        .monitoring
        .iter()
        .any(|m| m.spec.histogram_nodes().contains(&node));
    Process::LoadBalancer(if timed {
        lb.with_latency_histogram()
    } else {
        lb
    })
}

/// A load balancer keeps its health view across a crash (a simplification noted in
/// docs/ARCHITECTURE.md); its response counters and latency histogram start over.
impl NodeProcess for LoadBalancer {
    fn crash(&mut self) {
        LoadBalancer::crash(self)
    }
    fn start(&mut self, phase: u64, _restart: bool, ctx: &mut impl Context) {
        LoadBalancer::start(self, phase, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        LoadBalancer::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        LoadBalancer::on_timer(self, timer, ctx)
    }
}

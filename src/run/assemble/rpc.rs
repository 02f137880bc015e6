//! RPC chains: the blockchain node on each provider node and the RPC load balancer (gateway)
//! on each balancer node, health-checking the chain's providers.
//!
//! Not here: which balancer each app server calls ([`super::app`]) and the chain halts and
//! error rates a scenario injects ([`super::faults`]).

use super::CheckPhases;
use crate::logic::health_check::HealthChecker;
use crate::logic::rpc::{BalancerSpec, RpcBalancer, RpcProvider};
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::Topology;
use crate::run::world::NodeProcess;
use crate::run::world::Process;

/// A provider of chain `k`, producing a block every `block_time`.
pub(super) fn place_rpc_provider(topo: &Topology, k: usize) -> Process {
    Process::RpcProvider(RpcProvider::new(topo.rpcs[k].block_time))
}

/// A balancer of chain `k` on `node`; all providers start healthy, and it takes its place
/// among the health checkers.
pub(super) fn place_rpc_balancer(
    topo: &Topology,
    k: usize,
    node: u32,
    phases: &mut CheckPhases,
) -> Process {
    let r = &topo.rpcs[k];
    phases.take(node);
    Process::RpcBalancer(RpcBalancer::new(
        BalancerSpec {
            halt_after: r.halt_after,
            ewma_weight_permille: 300,
        },
        HealthChecker::new(r.check, r.providers.clone(), vec![true; r.providers.len()]),
    ))
}

/// A provider only answers; its halt or error rate belongs to the fault, not to the process.
impl NodeProcess for RpcProvider {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        RpcProvider::on_message(self, from, msg, ctx)
    }
}

/// The balancer checks providers from its staggered phase; a crash loses its calls in flight.
impl NodeProcess for RpcBalancer {
    fn start(&mut self, phase: u64, _restart: bool, ctx: &mut impl Context) {
        RpcBalancer::start(self, phase, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        RpcBalancer::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        RpcBalancer::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        RpcBalancer::crash(self)
    }
}

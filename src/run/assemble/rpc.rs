//! RPC chains: the blockchain node on each provider node and the RPC load balancer (gateway)
//! on each balancer node, health-checking the chain's providers.
//!
//! Not here: which balancer each app server calls ([`super::app`]) and the chain halts and
//! error rates a scenario injects ([`super::faults`]).

use super::CheckPhases;
use crate::logic::health_check::HealthChecker;
use crate::logic::rpc::{BalancerSpec, RpcBalancer, RpcProvider};
use crate::model::topology::Topology;
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

//! The network of a run and the random streams of its nodes: one stream per node for its
//! process, one per sending node for message jitter, each named after the node. Also the
//! latency order by which a node picks the nearest of several.
//!
//! Not here: the zone latencies themselves (the topology's layout) or how the network
//! delivers ([`crate::sim::network`]).

use crate::model::topology::Topology;
use crate::sim::network::Network;
use crate::sim::rng::component_rng;
use rand_chacha::ChaCha8Rng;

/// Each node's own random stream, by node, named after it.
pub(super) fn node_rngs(topo: &Topology, run_seed: u64) -> Vec<ChaCha8Rng> {
    topo.node_names
        .iter()
        .map(|name| component_rng(run_seed, name))
        .collect()
}

/// The network over the topology's layout, with its jitter streams per sending node, named
/// after it: adding a component never shifts the jitter another node's messages get.
pub(super) fn network(topo: &Topology, run_seed: u64) -> Network {
    let net_rngs = topo
        .node_names
        .iter()
        .map(|name| component_rng(run_seed, &format!("net/{name}")))
        .collect();
    Network::new(topo.layout.clone(), net_rngs)
}

/// `nodes` ordered by one-way latency from `from` (nearest first; ties keep topology order):
/// how anycast and latency-based DNS send a user to the closest edge.
pub(super) fn nearest_first(topo: &Topology, from: u32, nodes: &[u32]) -> Vec<u32> {
    let zones = topo.zones.len();
    let zf = topo.node_zone[from as usize] as usize;
    let mut v = nodes.to_vec();
    v.sort_by_key(|&n| topo.layout.zone_latency[zf * zones + topo.node_zone[n as usize] as usize]);
    v
}

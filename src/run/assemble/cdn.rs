//! CDNs: the spec each CDN's edges share (asset catalogue, origins, cache TTL) and the edge
//! process on each edge node.
//!
//! Not here: the origins themselves (app tiers or static sites, placed by their own modules)
//! and how a client picks its nearest edge ([`super::clients`]).

use crate::logic::cdn::{AssetCatalog, CdnSpec, Edge};
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::Topology;
use crate::run::world::NodeProcess;
use crate::run::world::Process;
use std::sync::Arc;

/// One spec per CDN, in topology order.
pub(super) fn cdn_specs(topo: &Topology) -> Vec<Arc<CdnSpec>> {
    topo.cdns
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
        .collect()
}

/// An edge of the CDN whose spec is `spec`.
pub(super) fn place_edge(spec: &Arc<CdnSpec>) -> Process {
    Process::Edge(Edge::new(spec.clone()))
}

/// An edge needs no start (it fetches on demand) and comes back from a crash cold.
impl NodeProcess for Edge {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Edge::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Edge::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        Edge::crash(self)
    }
}

//! Monitoring: a [`Prometheus`] on each monitoring server's node, and how the world drives it.
//!
//! Not here: the exporters that answer its scrapes (every node has one; the world answers
//! `Scrape` for any node that is up, in `run/world.rs`).

use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::Topology;
use crate::ops::monitoring::Prometheus;
use crate::run::world::{NodeProcess, Process};
use std::sync::Arc;

/// The Prometheus server `monitoring[k]`, sending its alerts to Alertmanager if there is
/// one, else straight to the paging service if there is one.
pub(super) fn place_prometheus(topo: &Topology, k: usize) -> Process {
    let mut spec = topo.monitoring[k].spec.clone();
    let alertmanager = topo.alertmanager.as_ref().map(|a| a.node);
    spec.pager = alertmanager.or(topo.paging.as_ref().map(|p| p.node));
    Process::Prometheus(Prometheus::new(Arc::new(spec)))
}

/// A server starts scraping when its node starts and starts over, with empty memory, when
/// its node comes back.
impl NodeProcess for Prometheus {
    fn start(&mut self, _phase: u64, _restart: bool, ctx: &mut impl Context) {
        Prometheus::start(self, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Prometheus::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Prometheus::on_timer(self, timer, ctx)
    }
}

//! Paging: [`Alertmanager`] and the [`PagerDuty`] service on their nodes and a [`Responder`]
//! on each responder's node, and how the world drives them.
//!
//! Not here: the monitoring servers that send it alerts (`monitoring`, which hands them the
//! service's node).

use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::scenario::Scenario;
use crate::model::topology::Topology;
use crate::ops::alertmanager::Alertmanager;
use crate::ops::paging::{PagerDuty, Responder, ResponderSpec};
use crate::run::world::{NodeProcess, Process};
use std::sync::Arc;

/// The paging service.
pub(super) fn place_pagerduty(topo: &Topology) -> Process {
    let paging = topo
        .paging
        .as_ref()
        .expect("a PagerDuty role implies a paging section");
    Process::PagerDuty(PagerDuty::new(Arc::new(paging.spec.clone())))
}

/// Responder `k`, answering the paging service, slower at night if so configured (the
/// scenario says what time of day the run starts at).
pub(super) fn place_responder(topo: &Topology, scenario: &Scenario, k: usize) -> Process {
    let paging = topo
        .paging
        .as_ref()
        .expect("a Responder role implies a paging section");
    let (_, acknowledge, at_night) = paging.responders[k];
    let spec = ResponderSpec {
        acknowledge,
        at_night,
        night: paging.night,
        starts_at: scenario.starts_at,
    };
    Process::Responder(Responder::new(spec, paging.node))
}

/// Alertmanager, grouping alerts for the paging service.
pub(super) fn place_alertmanager(topo: &Topology) -> Process {
    let am = topo
        .alertmanager
        .as_ref()
        .expect("an Alertmanager role implies its section");
    Process::Alertmanager(Alertmanager::new(Arc::new(am.spec.clone())))
}

/// Alertmanager's aggregation groups live in memory: a crash loses them.
impl NodeProcess for Alertmanager {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Alertmanager::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Alertmanager::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        Alertmanager::crash(self)
    }
}

/// The paging service is a SaaS: it keeps its incidents across a restart of its node.
impl NodeProcess for PagerDuty {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        PagerDuty::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        PagerDuty::on_timer(self, timer, ctx)
    }
}

/// A responder whose phone is off misses the pages it had not acknowledged.
impl NodeProcess for Responder {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Responder::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Responder::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        Responder::crash(self)
    }
}

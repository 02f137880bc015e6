//! Paging: [`Alertmanager`] and the [`PagerDuty`] service on their nodes, a [`Responder`] on
//! each responder's node, the [`Automation`] and the [`StatusPage`] they post to, and how the
//! world drives them.
//!
//! Not here: the monitoring servers that send it alerts (`monitoring`, which hands them the
//! service's node).

use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::scenario::Scenario;
use crate::model::topology::Topology;
use crate::ops::alertmanager::Alertmanager;
use crate::ops::paging::{Automation, PagerDuty, Responder, ResponderSpec};
use crate::ops::runbook::Runner;
use crate::ops::status_page::StatusPage;
use crate::ops::support::SupportDesk;
use crate::run::world::{NodeProcess, Process};
use std::sync::Arc;

/// The paging service, reading its schedules at the scenario's time of day.
pub(super) fn place_pagerduty(topo: &Topology, scenario: &Scenario) -> Process {
    let paging = topo
        .paging
        .as_ref()
        .expect("a PagerDuty role implies a paging section");
    let mut spec = paging.spec.clone();
    spec.starts_at = scenario.starts_at;
    Process::PagerDuty(PagerDuty::new(Arc::new(spec)))
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
    Process::Responder(Responder::new(spec, paging.node, runner(topo, false)))
}

/// The paging service's automation.
pub(super) fn place_automation(topo: &Topology) -> Process {
    Process::Automation(Automation::new(runner(topo, true)))
}

/// The support desk.
pub(super) fn place_support_desk(topo: &Topology) -> Process {
    let (_, spec) = topo
        .paging
        .as_ref()
        .and_then(|p| p.support.clone())
        .expect("a SupportDesk role implies its section");
    Process::SupportDesk(SupportDesk::new(Arc::new(spec)))
}

/// The status page.
pub(super) fn place_status_page(topo: &Topology) -> Process {
    Process::StatusPage(StatusPage::new(topo.services.len()))
}

/// The topology's runbooks, followed by a person or (`automated`) by the automation.
fn runner(topo: &Topology, automated: bool) -> Runner {
    Runner::new(Arc::clone(&topo.runbooks.runbooks), automated)
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

/// The automation's jobs in flight are lost with its node.
impl NodeProcess for Automation {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        Automation::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        Automation::on_timer(self, timer, ctx)
    }
    fn crash(&mut self) {
        Automation::crash(self)
    }
}

/// The status page is a hosted service: it keeps what it shows across a restart of its node.
impl NodeProcess for StatusPage {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        StatusPage::on_message(self, from, msg, ctx)
    }
}

/// The support desk starts reading when its node starts; a restart starts its window over.
impl NodeProcess for SupportDesk {
    fn start(&mut self, _phase: u64, _restart: bool, ctx: &mut impl Context) {
        SupportDesk::start(self, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        SupportDesk::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        SupportDesk::on_timer(self, timer, ctx)
    }
}

//! Judging a finished run: everything here is read off the recorded history, the processes'
//! final state and the notes they made, never predicted.
//!
//! Owns the run's figures per service (counts, outages and RTO, losses and RPO, latency, first
//! success), the safety checks' inputs, and putting the timeline together. How outages are
//! pinned to operations is `outages`; why a write is missing is `losses`; what a note says is
//! `timeline`.

use super::comms;
use super::losses::Ends;
use super::ops::{JudgedOp, judged_ops};
use super::outages::{Outage, ServiceOutages};
use super::timeline::{
    Milestones, NoteReader, Response, ServiceStory, fault_lines, note_lines, service_lines,
};
use super::world::{GameDayWorld, Process};
use crate::logic::replication::{ClusterSpec, ReplicationMode};
use crate::logic::{NodeId, Note};
use crate::measure::durability::{LossCause, Losses};
use crate::measure::history::OpStatus;
use crate::measure::lag::lag_series;
use crate::measure::latency::LatencyStats;
use crate::measure::outcome::WriteCounts;
use crate::measure::safety::{Promotion, check_durability, check_primaries};
use crate::measure::steady_state::{Rule, SuccessSeries, outages};
use crate::model::scenario::Scenario;
use crate::model::topology::Topology;
use crate::sim::kernel::{RunStats, Stopped};
use crate::sim::network::Network;
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

pub use super::timeline::TimelineEntry;

/// Where a service stands at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Steady state held throughout: no outage.
    Held,
    /// Every outage ended; the service was in steady state at the end.
    Recovered,
    /// Down at the end of the run, whatever happened before.
    NotRecovered,
    /// The run stopped before its end (a bound): nothing about it can be judged.
    NotJudged,
}

/// One service's figures in one run.
#[derive(Clone, Debug)]
pub struct ServiceResult {
    /// Index of the service in the topology.
    pub service: usize,
    pub writes: WriteCounts,
    /// Every period its steady state did not hold, in time order.
    pub outages: Vec<Outage>,
    /// Acknowledged writes it cannot read back, by cause and event.
    pub losses: Losses,
    /// First acknowledgement of an operation sent at or after the first fault.
    pub first_success: Option<SimTime>,
    /// Response times of its acknowledged operations over the whole run.
    pub latency: Option<LatencyStats>,
    /// False when the run stopped early: outages and losses are then not judged.
    pub judged: bool,
    /// Operations per bucket by send time (kept for a batch's first run only, for charts).
    pub series: Option<SuccessSeries>,
}

impl ServiceResult {
    pub fn status(&self) -> Status {
        if !self.judged {
            Status::NotJudged
        } else if self.outages.is_empty() {
            Status::Held
        } else if self.outages.iter().any(|o| o.end.is_none()) {
            Status::NotRecovered
        } else {
            Status::Recovered
        }
    }

    /// RTO: the longest outage; zero without one; `None` when not recovered or not judged.
    pub fn rto(&self) -> Option<SimDuration> {
        match self.status() {
            Status::NotRecovered | Status::NotJudged => None,
            _ => Some(
                self.outages
                    .iter()
                    .filter_map(|o| o.duration())
                    .max()
                    .unwrap_or(SimDuration::ZERO),
            ),
        }
    }

    /// RPO: the longest window of lost data.
    pub fn rpo(&self) -> SimDuration {
        self.losses.rpo()
    }
}

/// Replication lag of one datastore's members over a run: the largest lag in each second.
#[derive(Clone, Debug, Serialize)]
pub struct DatastoreLag {
    pub datastore: String,
    pub resolution_s: f64,
    /// `(member, lag in seconds per bucket)`.
    pub members: Vec<(String, Vec<f64>)>,
}

/// Everything measured in one run.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub seed: u64,
    pub events: u64,
    pub trace_hash: u64,
    /// Why the run stopped before its end (a budget), or `None`.
    pub stopped: Option<Stopped>,
    /// Simulated time of the last processed event.
    pub last_event_at: SimTime,
    /// Summed over services.
    pub writes: WriteCounts,
    /// Incident start: the first fault's injection time.
    pub t0: Option<SimTime>,
    /// Per service that had a workload, in service order.
    pub services: Vec<ServiceResult>,
    /// Every service's losses together.
    pub losses: Losses,
    pub first_success: Option<SimTime>,
    pub detected: Option<SimTime>,
    pub promoted: Option<SimTime>,
    pub rerouted: Option<SimTime>,
    /// The incident response's steps after the first fault (alert … all-clear).
    pub response: Response,
    /// Per service (in `services`' order): how long the status page showed it operational
    /// during its outages. Empty without a status page.
    pub silent: Vec<SimDuration>,
    pub safety_violations: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Per datastore (kept for a batch's first run only, for charts).
    pub replication_lag: Option<Vec<DatastoreLag>>,
}

impl RunResult {
    /// The worst service's RTO: `None` when any service is not recovered or not judged.
    pub fn rto(&self) -> Option<SimDuration> {
        self.services
            .iter()
            .map(|s| s.rto())
            .try_fold(SimDuration::ZERO, |acc, r| r.map(|r| acc.max(r)))
    }

    /// The largest service RPO.
    pub fn rpo(&self) -> SimDuration {
        self.services
            .iter()
            .map(|s| s.rpo())
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    /// RW1's `rto`: first acknowledged operation sent at or after the fault, minus the fault.
    pub fn first_success_rto(&self) -> Option<SimDuration> {
        Some(self.first_success?.saturating_since(self.t0?))
    }

    /// Why the run is incomplete, when a bound stopped it before the scenario's end.
    pub fn incomplete(&self) -> Option<String> {
        let stop = self.stopped?;
        Some(format!(
            "the run stopped at {} of simulated time: {}, so nothing later was simulated and no service is judged",
            self.last_event_at,
            bound_words(stop, self.events)
        ))
    }
}

/// "its event budget ran out after N events" / "it held more than its memory budget".
fn bound_words(stop: Stopped, events: u64) -> String {
    match stop {
        Stopped::EventBudget => format!("its event budget ran out after {events} events"),
        Stopped::MemoryBudget { bytes } => {
            format!("it held {bytes} bytes, more than its memory budget")
        }
    }
}

/// What the judge reads besides the topology and scenario.
pub struct Evidence<'a> {
    pub world: &'a GameDayWorld,
    pub clusters: &'a [Arc<ClusterSpec>],
    pub notes: &'a [(SimTime, NodeId, Note)],
    pub stats: RunStats,
    pub network: &'a Network,
}

/// One service's tally from the first pass over the operations.
struct Tally {
    writes: WriteCounts,
    series: SuccessSeries,
    first_success: Option<SimTime>,
    losses: Losses,
    used: bool,
}

pub fn judge(
    topo: &Topology,
    scenario: &Scenario,
    seed: u64,
    ev: &Evidence,
    detail: bool,
) -> RunResult {
    let end = SimTime::ZERO + scenario.duration;
    let t0 = scenario.faults.iter().map(|f| f.at).min();
    let name = |n: NodeId| topo.node_names[n as usize].clone();
    let ends = Ends::read(topo, ev.world, ev.clusters, ev.notes, ev.network);
    let (tallies, lost_per_cluster) = tally(topo, scenario, ev, &ends, t0);
    let stopped = ev.stats.stopped.is_some();
    let services = measure_services(topo, scenario, ev.world, tallies, !stopped, detail);
    let mut writes = WriteCounts::default();
    let mut losses = Losses::default();
    for sv in &services {
        writes.merge(&sv.writes);
        losses.merge(&sv.losses);
    }
    // The run's first success is when the last service succeeded again after the fault (one
    // service, as in RW1: that service's); none while any service never did.
    let first_success = services
        .iter()
        .map(|sv| sv.first_success)
        .try_fold(None::<SimTime>, |acc, f| {
            f.map(|f| Some(acc.map_or(f, |a| a.max(f))))
        })
        .flatten();
    let violations = safety(topo, ev, &lost_per_cluster, &name);
    let service_names = topo.services.iter().map(|s| s.name.clone()).collect();
    let mut reader = NoteReader::new(&name)
        .with_alerts(
            &topo.monitoring,
            topo.alertmanager.as_ref(),
            topo.paging
                .as_ref()
                .and_then(|p| p.support.as_ref().map(|s| s.0)),
        )
        .with_runbooks(&topo.runbooks, service_names);
    // Faults first: at one instant the fault precedes what processes did about it.
    let stop = stopped.then_some(ev.stats.last_event_at);
    let mut timeline = fault_lines(scenario, end, stop);
    let (notes, milestones) = note_lines(ev.notes, &mut reader, t0);
    timeline.extend(notes);
    timeline.extend(judged_lines(topo, scenario, &services, &ends, ev, end));
    timeline.sort_by_key(|e| e.at_s);
    let Milestones {
        detected,
        promoted,
        rerouted,
        mut response,
    } = milestones;
    response.failover =
        t0.and_then(|t0| comms::failover_done(ev.notes, &topo.roles, topo.datastores.len(), t0));
    response.restored = t0.and_then(|t0| comms::restored(&services, t0));
    let silent = match topo.runbooks.status_page {
        Some(_) => comms::silent_time(&services, ev.notes, end),
        None => Vec::new(),
    };
    RunResult {
        seed,
        events: ev.stats.events,
        trace_hash: ev.stats.trace_hash,
        stopped: ev.stats.stopped,
        last_event_at: ev.stats.last_event_at,
        writes,
        t0,
        services,
        losses,
        first_success,
        detected,
        promoted,
        rerouted,
        response,
        silent,
        safety_violations: violations,
        timeline,
        replication_lag: detail.then(|| replication_lag(ev, &name, end)),
    }
}

/// Pass 1 over every operation: counts, the SLI series, first successes and losses per
/// service; and per datastore the writes lost to replication (for safety check 3).
fn tally(
    topo: &Topology,
    scenario: &Scenario,
    ev: &Evidence,
    ends: &Ends,
    t0: Option<SimTime>,
) -> (Vec<Tally>, Vec<u64>) {
    let end = SimTime::ZERO + scenario.duration;
    let res = scenario.steady_state.resolution;
    let mut per: Vec<Tally> = (0..topo.services.len())
        .map(|k| Tally {
            writes: WriteCounts::default(),
            series: SuccessSeries::new(res, end, scenario.service_slo[k].latency.map(|l| l.within)),
            first_success: None,
            losses: Losses::default(),
            used: false,
        })
        .collect();
    let mut replication_lost = vec![0u64; ev.clusters.len()];
    for o in judged_ops(ev.world, end, &scenario.service_slo) {
        let t = &mut per[o.service];
        t.used = true;
        t.writes.add(o.verdict);
        t.series.add(o.op.sent, o.verdict, o.latency);
        if o.op.status != OpStatus::Acked {
            continue;
        }
        if t0.is_some_and(|t| o.op.sent >= t) && t.first_success.is_none_or(|f| o.op.done < f) {
            t.first_success = Some(o.op.done);
        }
        // A static site's, CDN's or RPC group's answers have nothing durable to lose.
        let Some(k) = topo.services[o.service].datastore else {
            continue;
        };
        if let Some(loss) = ends.classify(k, o.node, o.seq, o.op) {
            if matches!(
                loss.cause,
                LossCause::Infrastructure | LossCause::SplitBrain
            ) {
                replication_lost[k] += 1;
            }
            t.losses.add(loss, t0);
        }
    }
    (per, replication_lost)
}

/// Outages (passes 2 to 4 over the operations) and each service's result.
fn measure_services(
    topo: &Topology,
    scenario: &Scenario,
    world: &GameDayWorld,
    tallies: Vec<Tally>,
    judged: bool,
    detail: bool,
) -> Vec<ServiceResult> {
    let end = SimTime::ZERO + scenario.duration;
    let rules: Vec<Rule> = (0..topo.services.len())
        .map(|k| Rule {
            steady: scenario.steady_state,
            latency: scenario.service_slo[k].latency,
        })
        .collect();
    let mut found: Vec<ServiceOutages> = tallies
        .iter()
        .zip(&rules)
        .map(|(t, rule)| {
            let buckets = if judged {
                outages(&t.series, rule)
            } else {
                Vec::new()
            };
            ServiceOutages::new(&t.series, *rule, buckets)
        })
        .collect();
    let ops = || judged_ops(world, end, &scenario.service_slo);
    let any = found.iter().any(|f| !f.buckets.is_empty());
    if any {
        ops().for_each(|o: JudgedOp| found[o.service].see_failure(&o));
        found.iter_mut().for_each(|f| f.anchor(&scenario.faults));
        ops().for_each(|o: JudgedOp| found[o.service].see_success(&o));
    }
    let mut resolved: Vec<Vec<Outage>> =
        found.iter().map(|f| f.resolve(&scenario.faults)).collect();
    ops().for_each(|o: JudgedOp| found[o.service].see_latency(&o, &resolved[o.service]));
    let latency: Vec<Option<LatencyStats>> = found
        .iter_mut()
        .zip(resolved.iter_mut())
        .map(|(f, outs)| f.latency(outs))
        .collect();
    drop(found);
    tallies
        .into_iter()
        .zip(resolved)
        .zip(latency)
        .enumerate()
        .filter(|(_, ((t, _), _))| t.used)
        .map(|(service, ((t, outages), latency))| {
            let mut writes = t.writes;
            writes.acked_lost = t.losses.count();
            ServiceResult {
                service,
                writes,
                outages,
                losses: t.losses,
                first_success: t.first_success,
                latency,
                judged,
                series: detail.then_some(t.series),
            }
        })
        .collect()
}

/// The three safety checks of every datastore, and a violation for a run cut short.
fn safety(
    topo: &Topology,
    ev: &Evidence,
    replication_lost: &[u64],
    name: &dyn Fn(NodeId) -> String,
) -> Vec<String> {
    let mut violations = Vec::new();
    for (k, c) in ev.clusters.iter().enumerate() {
        let promotions: Vec<Promotion> = ev
            .notes
            .iter()
            .filter(|(_, n, _)| c.members.contains(n))
            .filter_map(|&(at, node, note)| match note {
                Note::Promoted { epoch } => Some(Promotion { at, node, epoch }),
                _ => None,
            })
            .collect();
        let spans: Vec<&[_]> = c
            .members
            .iter()
            .map(|&m| match &ev.world.processes[m as usize] {
                Process::Replica(r) => r.commit_spans(),
                _ => &[],
            })
            .collect();
        violations.extend(
            check_primaries(&promotions, &c.members, &spans, name)
                .into_iter()
                .map(|v| format!("`{}`: {v}", c.name)),
        );
        let zones_hit: BTreeSet<u16> = ev
            .world
            .outages
            .iter()
            .filter(|(_, n, up)| !up && c.members.contains(n))
            .map(|(_, n, _)| topo.node_zone[*n as usize])
            .collect();
        let synchronous = matches!(c.mode, ReplicationMode::Synchronous(rule) if rule.k() > 0);
        // A restore discards writes on purpose, a corruption destroys them whatever the
        // replication, and a promotion by hand overrides the replication rules (the operator
        // accepted the risk; what it cost is the RPO): the checker is about what replication
        // promised.
        violations.extend(check_durability(
            &c.name,
            synchronous,
            zones_hit.len(),
            replication_lost[k],
        ));
    }
    violations
}

/// The judge's own lines: each service's first success and outages, data left on stopped
/// machines, and where a run cut short stopped.
fn judged_lines(
    topo: &Topology,
    scenario: &Scenario,
    services: &[ServiceResult],
    ends: &Ends,
    ev: &Evidence,
    end: SimTime,
) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    // With several services each gets its own lines: one service that never stopped would
    // otherwise hide another's outage.
    let several = services.len() > 1;
    for sv in services {
        let story = ServiceStory {
            who: if several {
                format!("{}: ", topo.services[sv.service].name)
            } else {
                String::new()
            },
            first_success: sv.first_success,
            outages: &sv.outages,
        };
        out.extend(service_lines(scenario, &story, end));
    }
    for (k, d) in ends.datastores.iter().enumerate() {
        let at_risk: u64 = services
            .iter()
            .filter(|sv| topo.services[sv.service].datastore == Some(k))
            .map(|sv| sv.losses.at_risk())
            .sum();
        if at_risk > 0 {
            let whole = if d.data.unreachable() {
                "no member"
            } else {
                "no live primary and no live member"
            };
            out.push(TimelineEntry {
                at_s: end,
                kind: "unreachable",
                detail: format!(
                    "{whole} of {} holds {at_risk} acknowledged writes at the end of the run: they are at risk on stopped machines (lost for good if those never return)",
                    ev.clusters[k].name
                ),
            });
        }
    }
    if let Some(stop) = ev.stats.stopped {
        out.push(TimelineEntry {
            at_s: ev.stats.last_event_at,
            kind: "stopped",
            detail: format!(
                "the run stopped here: {}; nothing later was simulated and no service is judged",
                bound_words(stop, ev.stats.events)
            ),
        });
    }
    out
}

fn replication_lag(
    ev: &Evidence,
    name: &dyn Fn(NodeId) -> String,
    end: SimTime,
) -> Vec<DatastoreLag> {
    ev.clusters
        .iter()
        .map(|c| {
            let points: Vec<_> = c
                .members
                .iter()
                .map(|&m| ev.world.lag_marks[m as usize].points())
                .collect();
            let lag = lag_series(&points, SimDuration::from_secs(1), end);
            DatastoreLag {
                datastore: c.name.clone(),
                resolution_s: 1.0,
                members: c
                    .members
                    .iter()
                    .zip(lag)
                    .map(|(&m, l)| (name(m), l))
                    .collect(),
            }
        })
        .collect()
}

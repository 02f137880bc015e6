//! Judging a finished run: everything here is read off the recorded history, the processes'
//! final state and the notes they made, never predicted.

use super::world::{GameDayWorld, Process};
use crate::logic::backup::BackupKind;
use crate::logic::corruption::{BadTransaction, touches};
use crate::logic::replication::Log;
use crate::logic::replication::{ClusterSpec, ReplicationMode};
use crate::logic::restore::Step;
use crate::logic::{Epoch, Lsn};
use crate::logic::{NodeId, Note};
use crate::measure::durability::{FinalData, LossCause, LostWrites};
use crate::measure::history::OpStatus;
use crate::measure::lag::lag_series;
use crate::measure::outcome::{WriteCounts, verdict};
use crate::measure::safety::{Promotion, check_durability, check_primaries};
use crate::measure::steady_state::{Recovery, SuccessSeries, recovery};
use crate::model::scenario::Scenario;
use crate::model::topology::Role;
use crate::model::topology::Topology;
use crate::sim::kernel::{RunStats, Stopped};
use crate::sim::network::Network;
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One line of a run's incident timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEntry {
    #[serde(serialize_with = "secs")]
    pub at_s: SimTime,
    pub kind: &'static str,
    pub detail: String,
}

fn secs<S: serde::Serializer>(t: &SimTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(t.as_secs_f64())
}

/// One service's figures in one run.
#[derive(Clone, Debug)]
pub struct ServiceResult {
    /// Index of the service in the topology.
    pub service: usize,
    pub writes: WriteCounts,
    pub recovery: Recovery,
    pub lost: LostWrites,
    pub first_success: Option<SimTime>,
    /// Operations per bucket by send time (kept for a batch's first run only, for charts).
    pub series: Option<SuccessSeries>,
}

impl ServiceResult {
    pub fn rto(&self, t0: Option<SimTime>) -> Option<SimDuration> {
        rto_of(self.recovery, t0)
    }
}

fn rto_of(recovery: Recovery, t0: Option<SimTime>) -> Option<SimDuration> {
    match recovery {
        Recovery::NeverBroke => Some(SimDuration::ZERO),
        Recovery::RecoveredAt(t) => Some(t.saturating_since(t0.unwrap_or(SimTime::ZERO))),
        Recovery::NotRecovered => None,
    }
}

/// The worse of two recoveries: not recovered, then the later recovery, then never broke.
fn worse(a: Recovery, b: Recovery) -> Recovery {
    match (a, b) {
        (Recovery::NotRecovered, _) | (_, Recovery::NotRecovered) => Recovery::NotRecovered,
        (Recovery::RecoveredAt(x), Recovery::RecoveredAt(y)) => Recovery::RecoveredAt(x.max(y)),
        (Recovery::RecoveredAt(x), _) | (_, Recovery::RecoveredAt(x)) => Recovery::RecoveredAt(x),
        _ => Recovery::NeverBroke,
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
    /// The worst service's recovery.
    pub recovery: Recovery,
    /// Per service that had a workload, in service order.
    pub services: Vec<ServiceResult>,
    pub lost: LostWrites,
    pub first_success: Option<SimTime>,
    pub detected: Option<SimTime>,
    pub promoted: Option<SimTime>,
    pub rerouted: Option<SimTime>,
    pub safety_violations: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Per datastore (kept for a batch's first run only, for charts).
    pub replication_lag: Option<Vec<DatastoreLag>>,
}

impl RunResult {
    /// Steady-state RTO: `None` when service never came back.
    pub fn rto(&self) -> Option<SimDuration> {
        rto_of(self.recovery, self.t0)
    }
    pub fn rpo(&self) -> SimDuration {
        self.lost.rpo(self.t0)
    }
    /// RW1's `rto`: first acknowledged operation sent at or after the fault, minus the fault.
    pub fn first_success_rto(&self) -> Option<SimDuration> {
        Some(self.first_success?.saturating_since(self.t0?))
    }
}

#[allow(clippy::too_many_arguments)]
pub fn judge(
    topo: &Topology,
    scenario: &Scenario,
    seed: u64,
    world: &GameDayWorld,
    clusters: &[Arc<ClusterSpec>],
    notes: &[(SimTime, NodeId, Note)],
    stats: RunStats,
    network: &Network,
    detail: bool,
) -> RunResult {
    let end = SimTime::ZERO + scenario.duration;
    let t0 = scenario.faults.iter().map(|f| f.at).min();
    let name = |n: NodeId| topo.node_names[n as usize].clone();

    // ---- the history: counts, SLI series, first success, lost writes ----
    let finals: Vec<FinalData> = clusters
        .iter()
        .map(|c| final_data(c, world, network))
        .collect();
    // Every operation is judged once and counted for its service and that service's datastore.
    let res = scenario.steady_state.resolution;
    let nsvc = topo.services.len();
    let mut per: Vec<(
        WriteCounts,
        SuccessSeries,
        Option<SimTime>,
        LostWrites,
        bool,
    )> = (0..nsvc)
        .map(|_| {
            let series = SuccessSeries::new(res, end);
            (
                WriteCounts::default(),
                series,
                None,
                LostWrites::default(),
                false,
            )
        })
        .collect();
    let mut lost_per_cluster = vec![LostWrites::default(); clusters.len()];
    // Acknowledged writes of datastores with no member reachable at the end.
    let mut unreachable = vec![0u64; clusters.len()];
    // Restores each datastore went through (`(new epoch, recovery point)`), and the damage
    // still in its final data.
    let mut restores: Vec<Vec<(Epoch, Lsn)>> = vec![Vec::new(); clusters.len()];
    for &(_, node, note) in notes {
        if let (Note::Restored { epoch, lsn }, Role::Recovery { datastore }) =
            (note, topo.roles[node as usize])
        {
            restores[datastore].push((epoch, lsn));
        }
    }
    let damage: Vec<Option<BadTransaction>> = finals
        .iter()
        .zip(&world.bad_transactions)
        .map(|(f, bad)| {
            let bad: Vec<BadTransaction> = bad.iter().map(|b| b.1).collect();
            f.damage(&bad)
        })
        .collect();
    for (node, p) in world.processes.iter().enumerate() {
        let Process::Clients(c) = p else { continue };
        for (seq, op) in c.history().ops().iter().enumerate() {
            let svc = c.spec().streams[op.stream as usize].service as usize;
            let cluster = topo.services[svc].datastore;
            let (writes, series, first, lost, used) = &mut per[svc];
            *used = true;
            let v = verdict(op, c.deadline(op.stream, op.sent), end);
            writes.add(v);
            series.add(op.sent, v);
            if op.status != OpStatus::Acked {
                continue;
            }
            if t0.is_some_and(|t| op.sent >= t) && first.is_none_or(|f| op.done < f) {
                *first = Some(op.done);
            }
            // A static site's reads have nothing durable to lose.
            let Some(cluster) = cluster else { continue };
            if matches!(finals[cluster], FinalData::Unreachable) {
                unreachable[cluster] += 1;
                continue;
            }
            let cause = if finals[cluster].holds(op.epoch, op.lsn) {
                // Present, unless a corruption still in the data destroyed its row.
                match damage[cluster] {
                    Some(d) if op.lsn < d.lsn && touches(node as u32, seq as u32, d.ppm) => {
                        LossCause::Corruption
                    }
                    _ => continue,
                }
            } else if restores[cluster]
                .iter()
                .any(|&(e, l)| op.epoch < e && op.lsn > l)
            {
                LossCause::Restore
            } else {
                LossCause::Infrastructure
            };
            lost.add(op.sent, op.done, t0, cause);
            lost_per_cluster[cluster].add(op.sent, op.done, t0, cause);
        }
    }
    // Without faults the whole run is judged: a system broken from the start must not pass.
    let from = t0.unwrap_or(SimTime::ZERO);
    let services: Vec<ServiceResult> = per
        .into_iter()
        .enumerate()
        .filter(|(_, p)| p.4)
        .map(|(service, (mut writes, series, first_success, lost, _))| {
            writes.acked_lost = lost.count;
            ServiceResult {
                service,
                writes,
                recovery: recovery(&series, &scenario.steady_state, from),
                lost,
                first_success,
                series: detail.then_some(series),
            }
        })
        .collect();
    let mut writes = WriteCounts::default();
    let mut lost = LostWrites::default();
    let mut recovery = Recovery::NeverBroke;
    for sv in &services {
        writes.merge(&sv.writes);
        lost.merge(&sv.lost);
        recovery = worse(recovery, sv.recovery);
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

    // ---- safety ----
    let mut violations = Vec::new();
    for (k, c) in clusters.iter().enumerate() {
        let promotions: Vec<Promotion> = notes
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
            .map(|&m| match &world.processes[m as usize] {
                Process::Replica(r) => r.commit_spans(),
                _ => &[],
            })
            .collect();
        violations.extend(
            check_primaries(&promotions, &c.members, &spans, &name)
                .into_iter()
                .map(|v| format!("`{}`: {v}", c.name)),
        );
        let zones_hit: BTreeSet<u16> = world
            .outages
            .iter()
            .filter(|(_, n, up)| !up && c.members.contains(n))
            .map(|(_, n, _)| topo.node_zone[*n as usize])
            .collect();
        let synchronous = matches!(c.mode, ReplicationMode::Synchronous(rule) if rule.k() > 0);
        // A restore discards writes on purpose and a corruption destroys them whatever the
        // replication: the checker is about what replication promised.
        violations.extend(check_durability(
            &c.name,
            synchronous,
            zones_hit.len(),
            lost_per_cluster[k].by_infrastructure(),
        ));
    }
    if let Some(stop) = stats.stopped {
        let bound = match stop {
            Stopped::EventBudget => format!("the event budget ({}) ran out", scenario.event_budget),
            Stopped::MemoryBudget { bytes } => format!(
                "the memory budget ({} bytes) was exceeded ({bytes} bytes held)",
                scenario.memory_budget
            ),
        };
        violations.push(format!(
            "{bound} at {}: the run stopped early and its results are incomplete",
            stats.last_event_at
        ));
    }

    // ---- timeline ----
    let mut timeline = Vec::new();
    for f in &scenario.faults {
        timeline.push(TimelineEntry {
            at_s: f.at,
            kind: "fault",
            detail: f.detail.clone(),
        });
        if let Some(u) = f.until.filter(|&u| u < end) {
            timeline.push(TimelineEntry {
                at_s: u,
                kind: "fault_end",
                detail: format!("{} (ended)", f.detail),
            });
        }
    }
    let after_t0 = |at: SimTime| t0.is_some_and(|t| at >= t);
    let mut detected = None;
    let mut promoted = None;
    let mut rerouted = None;
    // Many nodes making the same move (sixteen resolver caches, fourteen app servers) make
    // one line: the first one, and how many followed.
    let mut groups: BTreeMap<(&'static str, String), (usize, usize)> = BTreeMap::new();
    let mut backups: BTreeMap<u32, (SimTime, BackupKind)> = BTreeMap::new();
    for &(at, node, note) in notes {
        let (kind, group, detail) = match note {
            Note::BackupStored { id, kind, lsn } => {
                backups.insert(id, (at, kind));
                (
                    "backup",
                    None,
                    format!(
                        "{} stored a {} (up to LSN {lsn})",
                        name(node),
                        kind_name(kind)
                    ),
                )
            }
            Note::BackupFailed { id } => (
                "backup_failed",
                None,
                format!("backup {id:#x} was not stored (refused or no answer from its store)"),
            ),
            Note::RetentionRefused { id, delete } => (
                "retention",
                Some(format!("{delete}")),
                format!(
                    "{} refused to {} {}: inside its retention period",
                    name(node),
                    if delete { "delete" } else { "overwrite" },
                    describe_backup(&backups, id)
                ),
            ),
            Note::CorruptionInjected { lsn, ppm } => (
                "corruption",
                None,
                format!(
                    "{} committed a bad transaction at LSN {lsn} damaging {:.1}% of the rows; it replicates",
                    name(node),
                    ppm as f64 / 10_000.0
                ),
            ),
            Note::CorruptionDetected { lsn, by_users } => {
                detected = detected.or(after_t0(at).then_some(at));
                (
                    "detected",
                    None,
                    format!(
                        "{} found the corruption (from LSN {lsn}) {}; writes frozen",
                        name(node),
                        if by_users {
                            "after user reports"
                        } else {
                            "by a scheduled integrity check"
                        }
                    ),
                )
            }
            Note::RestoreStarted { source, id, target } => {
                let what = describe_backup(&backups, id);
                (
                    "restore",
                    None,
                    format!(
                        "{} restores {what} from {}, up to LSN {target}",
                        name(node),
                        name(source)
                    ),
                )
            }
            Note::RestoreSourceFailed { source, id } => (
                "restore",
                None,
                format!(
                    "{} gave up on {} at {}: trying the next source",
                    name(node),
                    describe_backup(&backups, id),
                    name(source)
                ),
            ),
            Note::RestoreStep { step } => (
                "restore",
                None,
                format!(
                    "{}: {}",
                    name(node),
                    match step {
                        Step::Provisioned => "instance provisioned",
                        Step::Downloaded => "backup downloaded",
                        Step::Replayed => "WAL replayed to the recovery target",
                        Step::Redeployed =>
                            "configuration and code redeployed from version control",
                        Step::Verified => "restored data verified",
                    }
                ),
            ),
            Note::Restored { epoch, lsn } => {
                promoted = promoted.or(after_t0(at).then_some(at));
                (
                    "restored",
                    None,
                    format!(
                        "{} switched to the restored data (up to LSN {lsn}) as epoch {epoch}",
                        name(node)
                    ),
                )
            }
            Note::RestoreImpossible => (
                "restore",
                None,
                format!("{} found no clean backup to restore", name(node)),
            ),
            Note::Detected { node: dead } => {
                detected = detected.or(after_t0(at).then_some(at));
                (
                    "detected",
                    None,
                    format!("{} found {} dead (lease expired)", name(node), name(dead)),
                )
            }
            Note::Promoted { epoch } if epoch > 1 || at > SimTime::ZERO => {
                promoted = promoted.or(after_t0(at).then_some(at));
                (
                    "promoted",
                    None,
                    format!("{} became primary of epoch {epoch}", name(node)),
                )
            }
            Note::Promoted { .. } => continue,
            Note::Demoted { epoch, reason } => (
                "demoted",
                None,
                format!(
                    "{} stopped being primary of epoch {epoch} ({reason:?})",
                    name(node)
                ),
            ),
            Note::Rerouted { to } => {
                rerouted = rerouted.or(after_t0(at).then_some(at));
                (
                    "rerouted",
                    Some(format!("to {}", name(to))),
                    format!("{} now sends to {}", name(node), name(to)),
                )
            }
            Note::TargetHealth { target, healthy } => {
                let state = if healthy { "up" } else { "down" };
                (
                    "health",
                    Some(format!("{} {state}", name(target))),
                    format!("{} marked {} {state}", name(node), name(target)),
                )
            }
            Note::NoCandidate => (
                "no_candidate",
                Some(String::new()),
                format!("{} found no eligible replica to promote", name(node)),
            ),
            Note::Rewound { lsn, discarded } => (
                "rewound",
                None,
                format!(
                    "{} discarded {discarded} entries above LSN {lsn}",
                    name(node)
                ),
            ),
            Note::Maintenance { on } => (
                "maintenance",
                Some(format!("{on}")),
                format!(
                    "{} {} maintenance mode for blockchain features",
                    name(node),
                    if on { "entered" } else { "left" }
                ),
            ),
            Note::OriginFailover { from, to } => (
                "origin_failover",
                Some(format!("{} -> {}", name(from), name(to))),
                format!(
                    "{} turned from origin {} to {}",
                    name(node),
                    name(from),
                    name(to)
                ),
            ),
            Note::SentinelSubjectivelyDown { master } => (
                "sdown",
                Some(name(master)),
                format!("{} marked {} subjectively down", name(node), name(master)),
            ),
            Note::SentinelObjectivelyDown { master } => {
                detected = detected.or(after_t0(at).then_some(at));
                (
                    "odown",
                    Some(name(master)),
                    format!("{} marked {} objectively down", name(node), name(master)),
                )
            }
            Note::SentinelTryFailover { epoch } => (
                "try_failover",
                None,
                format!(
                    "{} asked for votes to fail over in epoch {epoch}",
                    name(node)
                ),
            ),
            Note::SentinelElected { epoch } => (
                "sentinel_leader",
                None,
                format!(
                    "{} was elected failover leader of epoch {epoch}",
                    name(node)
                ),
            ),
            Note::SentinelFailoverAborted { epoch, reason } => (
                "failover_abort",
                None,
                format!(
                    "{} abandoned its failover of epoch {epoch} ({reason:?})",
                    name(node)
                ),
            ),
            Note::SentinelSwitchedMaster { master, epoch } => (
                "switch_master",
                Some(format!("{} {epoch}", name(master))),
                format!(
                    "{} switched to master {} (epoch {epoch})",
                    name(node),
                    name(master)
                ),
            ),
        };
        if let Some(key) = group {
            if let Some((_, count)) = groups.get_mut(&(kind, key.clone())) {
                *count += 1;
                continue;
            }
            groups.insert((kind, key), (timeline.len(), 1));
        }
        timeline.push(TimelineEntry {
            at_s: at,
            kind,
            detail,
        });
    }
    for (index, count) in groups.into_values() {
        if count > 1 {
            timeline[index]
                .detail
                .push_str(&format!(" (first of {count})"));
        }
    }
    // With several services, each gets its own first success and recovery: one service that
    // never stopped would otherwise hide another's outage.
    let several = services.len() > 1;
    let steady = format!(
        "steady state (≥ {}% success over {}) held from here",
        scenario.steady_state.threshold * 100.0,
        scenario.steady_state.window
    );
    for sv in &services {
        let who = if several {
            format!("{}: ", topo.services[sv.service].name)
        } else {
            String::new()
        };
        if let Some(at) = sv.first_success {
            timeline.push(TimelineEntry {
                at_s: at,
                kind: "first_success",
                detail: format!("{who}first operation sent after the fault was acknowledged"),
            });
        }
        if let Recovery::RecoveredAt(at) = sv.recovery {
            timeline.push(TimelineEntry {
                at_s: at,
                kind: "recovered",
                detail: format!("{who}{steady}"),
            });
        }
    }
    for (k, &n) in unreachable.iter().enumerate() {
        if n > 0 {
            timeline.push(TimelineEntry {
                at_s: end,
                kind: "unreachable",
                detail: format!(
                    "no member of {} is reachable at the end of the run: its {n} acknowledged writes are on stopped machines (not counted as lost; lost for good if they never return)",
                    clusters[k].name
                ),
            });
        }
    }
    timeline.sort_by_key(|e| e.at_s);

    RunResult {
        seed,
        events: stats.events,
        trace_hash: stats.trace_hash,
        stopped: stats.stopped,
        last_event_at: stats.last_event_at,
        writes,
        t0,
        recovery,
        services,
        lost,
        first_success,
        detected,
        promoted,
        rerouted,
        safety_violations: violations,
        timeline,
        replication_lag: detail.then(|| {
            clusters
                .iter()
                .map(|c| {
                    let points: Vec<_> = c
                        .members
                        .iter()
                        .map(|&m| world.lag_marks[m as usize].points())
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
        }),
    }
}

fn kind_name(k: BackupKind) -> &'static str {
    match k {
        BackupKind::Snapshot => "snapshot",
        BackupKind::Archive => "full archive",
    }
}

/// "the snapshot stored at 2046 s", from the backups stored so far in the run.
fn describe_backup(backups: &BTreeMap<u32, (SimTime, BackupKind)>, id: u32) -> String {
    match backups.get(&id) {
        Some((at, k)) => format!("the {} stored at {:.0} s", kind_name(*k), at.as_secs_f64()),
        None => format!("backup {id:#x}"),
    }
}

/// The authoritative data of a cluster at the end of the run.
fn final_data<'a>(c: &ClusterSpec, world: &'a GameDayWorld, network: &Network) -> FinalData<'a> {
    let replicas = c
        .members
        .iter()
        .filter_map(|&m| match &world.processes[m as usize] {
            Process::Replica(r) if network.is_up(m) => Some(r),
            _ => None,
        });
    let primary = replicas
        .clone()
        .filter(|r| r.is_primary())
        .max_by_key(|r| r.epoch());
    match primary {
        Some(p) => FinalData::Primary(p.log()),
        None => {
            let logs: Vec<&Log> = replicas.map(|r| r.log()).collect();
            if logs.is_empty() {
                FinalData::Unreachable
            } else {
                FinalData::AnyOf(logs)
            }
        }
    }
}

//! The incident timeline of one run: what processes noted (faults, detections, failovers,
//! restores, reroutes), and what the judge measured (each service's first success, outages,
//! recoveries, data at risk), in time order.
//!
//! Owns turning notes into lines; measuring belongs to `judge` and `outages`.

use super::outages::{CauseKind, Outage};
use crate::logic::BackupKind;
use crate::logic::RestoreStep as Step;
use crate::logic::{ComponentState, IncidentStage, NodeId, Note, StepOutcome};
use crate::model::scenario::Scenario;
use crate::model::topology::{
    AlertmanagerInfo, PrometheusInfo, RunbooksInfo, stage_words, state_words,
};
use crate::sim::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

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

/// A line made from a note: its kind, the key that merges it with the same move by other
/// nodes (`None`: never merged), and its text.
type Line = (&'static str, Option<String>, String);

/// When the response reached its milestones, the first time after the incident started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Milestones {
    pub detected: Option<SimTime>,
    pub promoted: Option<SimTime>,
    pub rerouted: Option<SimTime>,
    pub response: Response,
}

/// When the incident response reached the steps of the plan, the first time after the
/// incident started: the first alert firing, page, acknowledgement and public status-page
/// post (a component no longer operational, or an incident update), when every datastore
/// that lost its primary had a new one (by its controller, its sentinels or by hand; see
/// `comms::failover_done`), when every service was back for its users (measured from the
/// client histories; `None` while any is not), and the all-clear (the status page's incident
/// resolved).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub alerted: Option<SimTime>,
    pub paged: Option<SimTime>,
    pub acknowledged: Option<SimTime>,
    pub status_page: Option<SimTime>,
    pub failover: Option<SimTime>,
    pub restored: Option<SimTime>,
    pub all_clear: Option<SimTime>,
}

impl Milestones {
    fn see(&mut self, at: SimTime, note: &Note) {
        let slot = match note {
            Note::CorruptionDetected { .. } | Note::Detected { .. } => &mut self.detected,
            Note::SentinelObjectivelyDown { .. } => &mut self.detected,
            Note::Restored { .. } => &mut self.promoted,
            Note::Promoted { epoch } if *epoch > 1 || at > SimTime::ZERO => &mut self.promoted,
            Note::Rerouted { .. } => &mut self.rerouted,
            Note::AlertFiring { .. } | Note::UsersReporting { .. } => &mut self.response.alerted,
            Note::Paged { .. } => &mut self.response.paged,
            Note::Acknowledged { .. } => &mut self.response.acknowledged,
            Note::StatusChanged { state, .. } if *state != ComponentState::Operational => {
                &mut self.response.status_page
            }
            Note::StatusUpdated { stage } if *stage != IncidentStage::Resolved => {
                &mut self.response.status_page
            }
            Note::StatusUpdated { .. } => &mut self.response.all_clear,
            _ => return,
        };
        *slot = slot.or(Some(at));
    }
}

/// Reads notes into timeline lines, remembering what earlier notes said (stored backups).
pub struct NoteReader<'a> {
    pub name: &'a dyn Fn(NodeId) -> String,
    backups: BTreeMap<u32, (SimTime, BackupKind)>,
    /// Per monitoring server: its node, its name and its alerts' names by rule index.
    alerts: Vec<(NodeId, String, Vec<String>)>,
    /// The runbooks (their names and steps in words) and the status page's components.
    runbooks: Option<&'a RunbooksInfo>,
    components: Vec<String>,
}

impl<'a> NoteReader<'a> {
    pub fn new(name: &'a dyn Fn(NodeId) -> String) -> Self {
        NoteReader {
            name,
            backups: BTreeMap::new(),
            alerts: Vec::new(),
            runbooks: None,
            components: Vec::new(),
        }
    }

    /// Names the runbooks' steps and the status page's components (the services).
    pub fn with_runbooks(mut self, runbooks: &'a RunbooksInfo, services: Vec<String>) -> Self {
        self.runbooks = Some(runbooks);
        self.components = services;
        self
    }

    /// Notes of runbooks, the controller's manual failovers and the status page.
    fn describe_runbook(&self, node: NodeId, note: Note) -> Option<Line> {
        let who = (self.name)(node);
        let book = |k: u16| {
            self.runbooks
                .and_then(|r| r.names.get(k as usize))
                .cloned()
                .unwrap_or_default()
        };
        let line = match note {
            Note::RunbookStarted { runbook, incident } => {
                let what = format!(
                    "{who} started runbook {} for incident {incident}",
                    book(runbook)
                );
                ("runbook", None, what)
            }
            Note::RunbookStep {
                runbook,
                step,
                outcome,
            } => {
                let words = self
                    .runbooks
                    .and_then(|r| r.step_words.get(runbook as usize));
                let step = words
                    .and_then(|w| w.get(step as usize))
                    .cloned()
                    .unwrap_or_default();
                let how = match outcome {
                    StepOutcome::Done => "done",
                    StepOutcome::Skipped => "skipped: its condition did not hold",
                    StepOutcome::Unchecked => "not done: its check went unanswered",
                };
                (
                    "runbook_step",
                    None,
                    format!("{who} ({}): {step}: {how}", book(runbook)),
                )
            }
            Note::UsersReporting { failing_ppm } => {
                let share = f64::from(failing_ppm) / 10_000.0;
                let what = format!(
                    "{who}: users' complaints reach the on-call ({share:.0}% of their actions failing)"
                );
                ("user_reports", None, what)
            }
            Note::ClusterChecked { leader } => {
                let what = if leader {
                    "it has a leader: failover verified"
                } else {
                    "it has no leader"
                };
                (
                    "verified",
                    None,
                    format!("{who} checked the cluster: {what}"),
                )
            }
            other => return self.describe_manual(node, other),
        };
        Some(line)
    }

    /// Notes of manual failovers and of the status page.
    fn describe_manual(&self, node: NodeId, note: Note) -> Option<Line> {
        let who = (self.name)(node);
        let component = |c: u16| self.components.get(c as usize).cloned().unwrap_or_default();
        let line = match note {
            Note::ManualFailover { candidate, behind } => {
                let to = (self.name)(candidate);
                let what = match behind {
                    Some(behind) => format!(
                        "{who} promoted {to} by hand, accepting the risk: it was {behind} writes behind the old primary's last position the controller had heard of (more if the old primary went on without it)"
                    ),
                    None => format!(
                        "{who} promoted {to} by hand (SENTINEL FAILOVER), accepting the risk: the writes the old master had not yet shipped to it are lost"
                    ),
                };
                ("manual_failover", None, what)
            }
            Note::ManualFailoverRefused { reason } => {
                let why = match reason {
                    crate::logic::ManualRefusal::LeaderHealthy => {
                        "the cluster has a healthy leader"
                    }
                    crate::logic::ManualRefusal::NoLiveCandidate => "no candidate is alive",
                    crate::logic::ManualRefusal::InProgress => "a failover is already in progress",
                };
                (
                    "manual_failover_refused",
                    None,
                    format!("{who} refused a manual failover: {why}"),
                )
            }
            Note::StatusChanged {
                component: c,
                state,
            } => {
                let what = format!("status page: {} {}", component(c), state_words(state));
                ("status_page", None, what)
            }
            Note::StatusUpdated { stage } => {
                let what = format!("status page incident update: {}", stage_words(stage));
                ("status_update", None, what)
            }
            other => return self.describe_by_hand(node, other),
        };
        Some(line)
    }

    /// Notes of what operators did by hand to routing, features and public channels.
    fn describe_by_hand(&self, node: NodeId, note: Note) -> Option<Line> {
        let who = (self.name)(node);
        let line = match note {
            Note::RoutingControlSet { endpoint, on } => {
                let to = (self.name)(endpoint);
                let what = if on {
                    format!("{who}: routing control of {to} turned On: answered again when healthy")
                } else {
                    format!("{who}: routing control of {to} turned Off: no longer answered")
                };
                ("routing_control", None, what)
            }
            Note::MaintenanceFlagSet { on } => {
                let what = if on {
                    format!("{who}: maintenance flag set by hand: blockchain calls refused")
                } else {
                    format!("{who}: maintenance flag cleared by hand")
                };
                ("maintenance_flag", None, what)
            }
            Note::Posted { channel, stage } => {
                let channel = self
                    .runbooks
                    .and_then(|r| r.channels.get(channel as usize))
                    .cloned()
                    .unwrap_or_default();
                let what = format!("{who} posted '{}' on {channel}", stage_words(stage));
                ("public_post", None, what)
            }
            _ => return None,
        };
        Some(line)
    }

    /// Names the alerts of these monitoring servers in the timeline.
    pub fn with_alerts(
        mut self,
        servers: &[PrometheusInfo],
        alertmanager: Option<&AlertmanagerInfo>,
        support: Option<NodeId>,
    ) -> Self {
        self.alerts = servers
            .iter()
            .map(|m| (m.node, m.name.clone(), m.alerts.clone()))
            .chain(alertmanager.map(|a| (a.node, "alertmanager".to_string(), a.groups.clone())))
            .chain(support.map(|n| {
                (
                    n,
                    "the support desk".to_string(),
                    vec!["UserReports".into()],
                )
            }))
            .collect();
        self
    }

    /// The server called `node` and the name of its alert `rule`.
    fn alert_name(&self, node: NodeId, rule: u16) -> Option<(&str, &str)> {
        self.alerts
            .iter()
            .find(|a| a.0 == node)
            .and_then(|a| Some((a.1.as_str(), a.2.get(rule as usize)?.as_str())))
    }

    /// Notes of the paging service: incidents opened, pages, acknowledgements, resolutions.
    fn describe_paging(&self, node: NodeId, note: Note) -> Option<Line> {
        let name = self.name;
        let line = match note {
            Note::IncidentTriggered {
                incident,
                server,
                rule,
            } => {
                let (server, alert) = self.alert_name(server, rule)?;
                let what = format!("incident {incident} opened for alert {alert} on {server}");
                ("incident", None, what)
            }
            Note::Paged {
                incident,
                responder,
                level,
            } => {
                let who = name(responder);
                let rule = level + 1;
                let what = format!("paged {who} for incident {incident} (escalation rule {rule})");
                ("page", None, what)
            }
            Note::Acknowledged { incident, by } => {
                let what = format!("{} acknowledged incident {incident}", name(by));
                ("acknowledged", None, what)
            }
            Note::Retriggered { incident } => {
                let what = format!(
                    "incident {incident} re-triggered: acknowledged but not resolved within its acknowledgement_timeout"
                );
                ("retriggered", None, what)
            }
            Note::IncidentResolved { incident } => (
                "incident_resolved",
                None,
                format!("incident {incident} resolved"),
            ),
            other => return self.describe_runbook(node, other),
        };
        Some(line)
    }

    /// Notes of monitoring servers: an alert firing or resolved.
    fn describe_alert(&self, node: NodeId, note: Note) -> Option<Line> {
        let (rule, firing) = match note {
            Note::AlertFiring { rule } => (rule, true),
            Note::AlertResolved { rule } => (rule, false),
            other => return self.describe_paging(node, other),
        };
        let (server, alert) = self.alert_name(node, rule)?;
        Some(if firing {
            ("alert", None, format!("alert {alert} firing on {server}"))
        } else {
            (
                "alert_resolved",
                None,
                format!("alert {alert} resolved on {server}"),
            )
        })
    }

    /// Notes about data: backups, corruption, the restore runbook.
    fn describe(&mut self, at: SimTime, node: NodeId, note: Note) -> Option<Line> {
        let name = self.name;
        let backups = &mut self.backups;
        let line = match note {
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
                    describe_backup(backups, id)
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
            Note::CorruptionDetected { lsn, by } => (
                "detected",
                None,
                format!(
                    "{} found the corruption (from LSN {lsn}) {}; writes frozen",
                    name(node),
                    match by {
                        crate::logic::Detection::Users => "after user reports",
                        crate::logic::Detection::Schedule => "by a scheduled integrity check",
                        crate::logic::Detection::Runbook => "when a runbook started the restore",
                    }
                ),
            ),
            Note::NoCorruptionFound => (
                "integrity_ok",
                None,
                format!(
                    "{}: the integrity check run by hand found no corruption; nothing to restore",
                    name(node)
                ),
            ),
            other => return self.describe_restore(at, node, other),
        };
        Some(line)
    }

    /// Notes about the restore runbook.
    fn describe_restore(&self, at: SimTime, node: NodeId, note: Note) -> Option<Line> {
        let name = self.name;
        let backups = &self.backups;
        let line = match note {
            Note::RestoreStarted { source, id, target } => {
                let what = describe_backup(backups, id);
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
                    describe_backup(backups, id),
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
            Note::Restored { epoch, lsn } => (
                "restored",
                None,
                format!(
                    "{} switched to the restored data (up to LSN {lsn}) as epoch {epoch}",
                    name(node)
                ),
            ),
            Note::RestoreImpossible => (
                "restore",
                None,
                format!("{} found no clean backup to restore", name(node)),
            ),
            other => return self.describe_failover(at, node, other),
        };
        Some(line)
    }

    /// Notes about failure detection, failover and routing.
    fn describe_failover(&self, at: SimTime, node: NodeId, note: Note) -> Option<Line> {
        let name = self.name;
        let line = match note {
            Note::Detected { node: dead } => (
                "detected",
                None,
                format!("{} found {} dead (lease expired)", name(node), name(dead)),
            ),
            Note::Promoted { epoch } if epoch > 1 || at > SimTime::ZERO => (
                "promoted",
                None,
                format!("{} became primary of epoch {epoch}", name(node)),
            ),
            Note::Promoted { .. } => return None,
            Note::Demoted { epoch, reason } => (
                "demoted",
                None,
                format!(
                    "{} stopped being primary of epoch {epoch} ({reason:?})",
                    name(node)
                ),
            ),
            Note::Rerouted { to } => (
                "rerouted",
                Some(format!("to {}", name(to))),
                format!("{} now sends to {}", name(node), name(to)),
            ),
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
            other => return self.describe_other(node, other),
        };
        Some(line)
    }

    /// Notes about maintenance mode, CDN origins and Redis Sentinel.
    fn describe_other(&self, node: NodeId, note: Note) -> Option<Line> {
        let name = self.name;
        let line = match note {
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
            Note::SentinelObjectivelyDown { master } => (
                "odown",
                Some(name(master)),
                format!("{} marked {} objectively down", name(node), name(master)),
            ),
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
            other => return self.describe_alert(node, other),
        };
        Some(line)
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

/// Lines from the processes' notes, many nodes making the same move merged into one line
/// (the first, and how many followed); and the milestones after `t0`.
pub fn note_lines(
    notes: &[(SimTime, NodeId, Note)],
    reader: &mut NoteReader,
    t0: Option<SimTime>,
) -> (Vec<TimelineEntry>, Milestones) {
    let mut out: Vec<TimelineEntry> = Vec::new();
    let mut milestones = Milestones::default();
    let mut groups: BTreeMap<(&'static str, String), (usize, usize)> = BTreeMap::new();
    for &(at, node, note) in notes {
        if t0.is_some_and(|t| at >= t) {
            milestones.see(at, &note);
        }
        let Some((kind, group, detail)) = reader.describe(at, node, note) else {
            continue;
        };
        if let Some(key) = group {
            if let Some((_, count)) = groups.get_mut(&(kind, key.clone())) {
                *count += 1;
                continue;
            }
            groups.insert((kind, key), (out.len(), 1));
        }
        out.push(TimelineEntry {
            at_s: at,
            kind,
            detail,
        });
    }
    for (index, count) in groups.into_values() {
        if count > 1 {
            out[index].detail.push_str(&format!(" (first of {count})"));
        }
    }
    (out, milestones)
}

/// The scenario's faults that the run reached (all of them unless it stopped at `stop`).
pub fn fault_lines(s: &Scenario, end: SimTime, stop: Option<SimTime>) -> Vec<TimelineEntry> {
    let reached = |t: SimTime| t < end && stop.is_none_or(|x| t <= x);
    let mut out = Vec::new();
    for f in s.faults.iter().filter(|f| reached(f.at)) {
        out.push(TimelineEntry {
            at_s: f.at,
            kind: "fault",
            detail: f.detail.clone(),
        });
        if let Some(u) = f.until.filter(|&u| reached(u)) {
            out.push(TimelineEntry {
                at_s: u,
                kind: "fault_end",
                detail: format!("{} (ended)", f.detail),
            });
        }
    }
    out
}

/// What the timeline says of one service's measured history.
pub struct ServiceStory<'a> {
    /// "accounts: " with several services, "" with one.
    pub who: String,
    pub first_success: Option<SimTime>,
    pub outages: &'a [Outage],
}

/// Each service's first success, outages and recoveries.
pub fn service_lines(s: &Scenario, story: &ServiceStory, end: SimTime) -> Vec<TimelineEntry> {
    let who = &story.who;
    let mut out = Vec::new();
    if let Some(at) = story.first_success {
        out.push(TimelineEntry {
            at_s: at,
            kind: "first_success",
            detail: format!("{who}first operation sent after the fault was acknowledged"),
        });
    }
    let ss = &s.steady_state;
    for o in story.outages {
        let (failed, judged) = o.first_bucket;
        out.push(TimelineEntry {
            at_s: o.start,
            kind: "outage",
            detail: format!(
                "{who}outage: {failed} of {judged} operations sent in its first {} failed or were too slow; {}",
                ss.resolution,
                cause_words(s, o)
            ),
        });
        let line = match o.end {
            Some(at) => TimelineEntry {
                at_s: at,
                kind: "recovered",
                detail: format!(
                    "{who}recovered after {}: operations succeed again from here, and steady state (≥ {}% success over {}) held",
                    at.saturating_since(o.start).round_to_millis(),
                    ss.threshold * 100.0,
                    ss.window
                ),
            },
            None => TimelineEntry {
                at_s: end,
                kind: "not_recovered",
                detail: format!(
                    "{who}still below steady state at the end of the run: down since {:.3} s",
                    o.start.as_secs_f64()
                ),
            },
        };
        out.push(line);
    }
    out
}

/// "cause: zone us-east-1a lost", or why no fault is blamed.
pub fn cause_words(s: &Scenario, o: &Outage) -> String {
    if o.causes.is_empty() {
        return "no fault was injected, ended or in effect before it".to_string();
    }
    format!("cause: {}", cause_phrases(s, o).join("; "))
}

/// Each fault blamed for an outage, as a phrase: "zone us-east-1a lost", "… (ended)",
/// "… (in effect since 90m)".
pub fn cause_phrases(s: &Scenario, o: &Outage) -> Vec<String> {
    o.causes
        .iter()
        .map(|c| {
            let d = &s.faults[c.fault].detail;
            match c.kind {
                CauseKind::Injected => d.clone(),
                CauseKind::Ended => format!("{d} (ended)"),
                CauseKind::Active => format!("{d} (in effect since {})", s.faults[c.fault].at),
            }
        })
        .collect()
}

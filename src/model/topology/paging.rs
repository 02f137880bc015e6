//! The `paging` section: a PagerDuty-style service on a node of its own (a SaaS outside the
//! machines it pages about), its escalation policy in PagerDuty's terms
//! (`escalation_delay_in_minutes`, `targets`, `num_loops`, `acknowledgement_timeout`) and the
//! on-call responders, each on a node (their phone) with a time to acknowledge; and the
//! `alertmanager` section, which groups the monitoring servers' alerts on their way to it.
//!
//! It does not own incidents and escalation at run time (`ops::paging`) nor the delay
//! distributions (`ops::delay`).

use super::durations::interval;
use super::monitoring::PrometheusInfo;
use super::nodes::{NodeTable, Role};
use crate::model::error::{InputError, Source};
use crate::model::{Dur, time_of_day};
use crate::ops::alertmanager::AlertmanagerSpec;
use crate::ops::delay::Delay;
use crate::ops::paging::{EscalationRule, PagingSpec, Schedule, Target};
use crate::ops::support::SupportSpec;
use crate::sim::time::SimDuration;
use serde::Deserialize;

/// PagerDuty allows at most 9 loops of a policy.
const NUM_LOOPS_MAX: u32 = 9;

/// The paging service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "PagerDuty")]
pub struct PagingDef {
    pub node: String,
    pub escalation_policy: EscalationPolicyDef,
    /// The night hours, for responders with an `at_night` delay.
    #[serde(default)]
    pub night: Option<NightDef>,
    /// Re-trigger an acknowledged incident still unresolved this long after.
    #[serde(default)]
    pub acknowledgement_timeout: Option<Dur>,
    pub responders: Vec<ResponderDef>,
    /// On-call schedules escalation rules may target by name.
    #[serde(default)]
    pub schedules: Vec<ScheduleDef>,
    /// A support desk turning users' complaints into incidents.
    #[serde(default)]
    pub user_reports: Option<UserReportsDef>,
    /// A node running automation (a Rundeck job, a Lambda) that the service starts on every
    /// new incident: it follows the incident's runbooks with the steps' `automated` delays.
    #[serde(default)]
    pub automation: Option<String>,
}

/// The night: `from` one time of day `until` another (`"22:00"` to `"07:00"` by default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NightDef {
    pub from: String,
    pub until: String,
}

/// An escalation policy: its rules in order and how many times it loops.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicyDef {
    pub rules: Vec<EscalationRuleDef>,
    #[serde(default)]
    pub num_loops: u32,
}

/// One rule: whom to page, and how many minutes to wait for an acknowledgement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Rule")]
pub struct EscalationRuleDef {
    pub escalation_delay_in_minutes: u32,
    /// Responder nodes.
    pub targets: Vec<String>,
}

fn default_every() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_report_after() -> Dur {
    Dur(SimDuration::from_secs(600))
}
fn default_share() -> f64 {
    0.05
}

/// The support desk: every `every` it reads how users fared; when more than `share` of their
/// actions fail for `report_after`, it pages with the alert `UserReports`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "UserReports")]
pub struct UserReportsDef {
    pub node: String,
    #[serde(default = "default_every")]
    pub every: Dur,
    #[serde(default = "default_share")]
    pub share: f64,
    #[serde(default = "default_report_after")]
    pub report_after: Dur,
}

/// The alert name user reports raise.
pub const USER_REPORTS: &str = "UserReports";

/// Resolves the support desk (its node gets the `SupportDesk` role), adding `UserReports` to
/// the topology's alert names if it is not there yet.
pub(super) fn resolve_user_reports(
    src: &Source,
    d: &UserReportsDef,
    pager: u32,
    alert_names: &mut Vec<String>,
    nodes: &mut NodeTable,
) -> Result<SupportSpec, InputError> {
    let node = nodes.node(src, "user_reports", &d.node)?;
    nodes.assign(src, node, Role::SupportDesk, "user_reports")?;
    let every = interval(src, &["every"], d.every, "support readings")?;
    if !(d.share > 0.0 && d.share < 1.0) {
        let message = format!(
            "`share` is a fraction strictly between 0 and 1, not {}",
            d.share
        );
        return Err(src.invalid("share", &d.node, message));
    }
    let bit = match alert_names.iter().position(|n| n == USER_REPORTS) {
        Some(b) => b,
        None if alert_names.len() < super::monitoring::ALERT_NAMES_MAX => {
            alert_names.push(USER_REPORTS.to_string());
            alert_names.len() - 1
        }
        None => {
            let max = super::monitoring::ALERT_NAMES_MAX;
            let message = format!(
                "no room for the alert `{USER_REPORTS}`: the topology already names {max} alerts"
            );
            return Err(src.invalid("user_reports", &d.node, message));
        }
    };
    let clients = (0..nodes.roles.len() as u32)
        .filter(|&n| matches!(nodes.roles[n as usize], Role::Clients(_)))
        .collect();
    Ok(SupportSpec {
        clients,
        every,
        share_ppm: (d.share * 1_000_000.0).round() as u32,
        report_after: d.report_after.0,
        pager,
        alert: 1 << bit,
    })
}

/// An on-call schedule (one rotation layer, PagerDuty's names): `users` (responder nodes) take
/// turns of `rotation_turn_length`, the first starting at `rotation_virtual_start` (`"HH:MM"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Schedule")]
pub struct ScheduleDef {
    pub name: String,
    pub users: Vec<String>,
    pub rotation_turn_length: Dur,
    #[serde(default = "midnight")]
    pub rotation_virtual_start: String,
}

fn midnight() -> String {
    "00:00".to_string()
}

/// An on-call responder: the node standing for their phone, and how long they take to
/// acknowledge a page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Responder")]
pub struct ResponderDef {
    pub node: String,
    pub acknowledge: Delay,
    /// Their delay for a page during the night hours, if it differs (a 3 a.m. page).
    #[serde(default)]
    pub at_night: Option<Delay>,
}

/// The resolved paging service.
#[derive(Clone, Debug)]
pub struct PagingInfo {
    pub node: u32,
    /// The support desk's node and set-up, if there is one.
    pub support: Option<(u32, SupportSpec)>,
    pub spec: PagingSpec,
    /// Each responder's node and times to acknowledge (by day, at night).
    pub responders: Vec<(u32, Delay, Option<Delay>)>,
    /// The night hours, since midnight.
    pub night: (SimDuration, SimDuration),
}

/// The section, if the file has one.
pub(super) fn resolve_section(
    src: &Source,
    d: Option<&PagingDef>,
    nodes: &mut NodeTable,
) -> Result<Option<PagingInfo>, InputError> {
    d.map(|d| resolve(src, d, nodes)).transpose()
}

/// Resolves the service and its responders (each node gets its role), then the policy.
fn resolve(src: &Source, d: &PagingDef, nodes: &mut NodeTable) -> Result<PagingInfo, InputError> {
    let node = nodes.node(src, "paging", &d.node)?;
    nodes.assign(src, node, Role::PagerDuty, "paging")?;
    let responders = responders(src, &d.responders, nodes)?;
    let schedules = schedules(src, &d.schedules, &responders, nodes)?;
    let named: Vec<&str> = d.schedules.iter().map(|x| x.name.as_str()).collect();
    let rules = rules(src, &d.escalation_policy.rules, &responders, &named, nodes)?;
    let num_loops = d.escalation_policy.num_loops;
    if num_loops > NUM_LOOPS_MAX {
        return Err(src.invalid(
            "num_loops",
            &num_loops.to_string(),
            format!("PagerDuty loops a policy at most {NUM_LOOPS_MAX} times"),
        ));
    }
    let acknowledgement_timeout = match d.acknowledgement_timeout {
        Some(t) if t.0.is_zero() => {
            return Err(src.invalid_duration(
                &["acknowledgement_timeout"],
                t.0,
                "`acknowledgement_timeout` must be positive (leave it out for none)",
            ));
        }
        t => t.map(|t| t.0),
    };
    let automation = d
        .automation
        .as_ref()
        .map(|a| {
            let n = nodes.node(src, "automation", a)?;
            nodes
                .assign(src, n, Role::Automation, "automation")
                .map(|()| n)
        })
        .transpose()?;
    let spec = PagingSpec {
        rules,
        schedules,
        starts_at: SimDuration::ZERO,
        num_loops,
        acknowledgement_timeout,
        automation,
    };
    let night = match &d.night {
        None => (
            SimDuration::from_secs(22 * 3600),
            SimDuration::from_secs(7 * 3600),
        ),
        Some(n) => (
            time_of_day(src, "from", &n.from)?,
            time_of_day(src, "until", &n.until)?,
        ),
    };
    Ok(PagingInfo {
        node,
        support: None,
        spec,
        responders,
        night,
    })
}

/// The responders: each node gets its role, each delay is checked.
fn responders(
    src: &Source,
    defs: &[ResponderDef],
    nodes: &mut NodeTable,
) -> Result<Vec<(u32, Delay, Option<Delay>)>, InputError> {
    let mut out = Vec::new();
    for (k, r) in defs.iter().enumerate() {
        let n = nodes.node(src, "responders", &r.node)?;
        nodes.assign(src, n, Role::Responder(k), "responders")?;
        for (what, d) in [
            ("acknowledge", Some(r.acknowledge)),
            ("at_night", r.at_night),
        ] {
            if let Some((field, value, why)) = d.and_then(|d| d.invalid()) {
                let message = format!("{why} (`{what}` of `{}`)", r.node);
                return Err(src.invalid_duration(&[field], value, message));
            }
        }
        out.push((n, r.acknowledge, r.at_night));
    }
    Ok(out)
}

/// The schedules: unique names that are not node names, at least one user each (responders),
/// turns of at least a minute.
fn schedules(
    src: &Source,
    defs: &[ScheduleDef],
    responders: &[(u32, Delay, Option<Delay>)],
    nodes: &NodeTable,
) -> Result<Vec<Schedule>, InputError> {
    let mut out = Vec::new();
    for (k, d) in defs.iter().enumerate() {
        if defs[..k].iter().any(|e| e.name == d.name) || nodes.names.contains(&d.name) {
            let message = "this name is used twice (schedules and nodes share names in `targets`)";
            return Err(src.invalid("Schedule", &d.name, message));
        }
        if d.users.is_empty() {
            return Err(src.invalid("users", &d.name, "a schedule needs at least one user"));
        }
        let mut users = Vec::new();
        for u in &d.users {
            users.push(responder(src, "users", u, responders, nodes)?);
        }
        let turn = d.rotation_turn_length.0;
        if turn < SimDuration::from_secs(60) {
            let message = format!(
                "a turn is at least 1 minute (`rotation_turn_length` of `{}`)",
                d.name
            );
            return Err(src.invalid_duration(&["rotation_turn_length"], turn, message));
        }
        out.push(Schedule {
            users,
            rotation_turn_length: turn,
            rotation_virtual_start: time_of_day(
                src,
                "rotation_virtual_start",
                &d.rotation_virtual_start,
            )?,
        });
    }
    Ok(out)
}

/// A node named where a responder is expected: it must be one.
fn responder(
    src: &Source,
    near: &str,
    name: &str,
    responders: &[(u32, Delay, Option<Delay>)],
    nodes: &NodeTable,
) -> Result<u32, InputError> {
    let n = nodes.node(src, near, name)?;
    if !responders.iter().any(|x| x.0 == n) {
        return Err(src.invalid(near, name, "this node is not a responder"));
    }
    Ok(n)
}

/// The policy's rules: at least one, each with a delay of at least a minute (PagerDuty's
/// floor) and targets that are schedules (by name) or responders.
fn rules(
    src: &Source,
    defs: &[EscalationRuleDef],
    responders: &[(u32, Delay, Option<Delay>)],
    schedules: &[&str],
    nodes: &NodeTable,
) -> Result<Vec<EscalationRule>, InputError> {
    if defs.is_empty() {
        return Err(src.invalid("rules", "", "an escalation policy needs at least one rule"));
    }
    let mut out = Vec::new();
    for r in defs {
        if r.escalation_delay_in_minutes == 0 {
            return Err(src.invalid(
                "escalation_delay_in_minutes",
                "0",
                "an escalation delay is at least 1 minute",
            ));
        }
        let mut targets = Vec::new();
        for t in &r.targets {
            targets.push(match schedules.iter().position(|s| s == t) {
                Some(k) => Target::Schedule(k),
                None => Target::Responder(responder(src, "targets", t, responders, nodes)?),
            });
        }
        if targets.is_empty() {
            return Err(src.invalid("targets", "", "a rule needs at least one target"));
        }
        out.push(EscalationRule {
            escalation_delay: SimDuration::from_secs(60 * r.escalation_delay_in_minutes as u64),
            targets,
        });
    }
    Ok(out)
}

fn default_group_wait() -> Dur {
    Dur(SimDuration::from_secs(30))
}
fn default_group_interval() -> Dur {
    Dur(SimDuration::from_secs(300))
}
fn default_repeat_interval() -> Dur {
    Dur(SimDuration::from_secs(4 * 3600))
}

/// Alertmanager between the monitoring servers and the paging service, with its defaults.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Alertmanager")]
pub struct AlertmanagerDef {
    pub node: String,
    /// `[]`: all alerts in one group; `["alertname"]`: a group per alert name.
    #[serde(default)]
    pub group_by: Vec<String>,
    #[serde(default = "default_group_wait")]
    pub group_wait: Dur,
    #[serde(default = "default_group_interval")]
    pub group_interval: Dur,
    #[serde(default = "default_repeat_interval")]
    pub repeat_interval: Dur,
}

/// The resolved Alertmanager.
#[derive(Clone, Debug)]
pub struct AlertmanagerInfo {
    pub node: u32,
    /// Group names by group index (what the timeline calls the incident's alert).
    pub groups: Vec<String>,
    pub spec: AlertmanagerSpec,
}

/// Resolves Alertmanager: its node (role `Alertmanager`), its timers, and the group of each
/// rule of each monitoring server. It needs a paging service to notify.
pub(super) fn resolve_alertmanager(
    src: &Source,
    d: Option<&AlertmanagerDef>,
    servers: &[PrometheusInfo],
    paging: Option<&PagingInfo>,
    nodes: &mut NodeTable,
) -> Result<Option<AlertmanagerInfo>, InputError> {
    let Some(d) = d else { return Ok(None) };
    let node = nodes.node(src, "alertmanager", &d.node)?;
    nodes.assign(src, node, Role::Alertmanager, "alertmanager")?;
    let Some(paging) = paging else {
        return Err(src.invalid(
            "alertmanager",
            &d.node,
            "Alertmanager needs a `paging` service to notify",
        ));
    };
    let by_name = match d.group_by.as_slice() {
        [] => false,
        [label] if label == "alertname" => true,
        _ => {
            let label = d
                .group_by
                .iter()
                .find(|l| *l != "alertname")
                .map_or("", |l| l.as_str());
            return Err(src.invalid(
                "group_by",
                label,
                "gameday's alerts carry one label to group by: `alertname`",
            ));
        }
    };
    let (groups, of_rules) = groups(servers, by_name);
    let timer = |field: &str, d: Dur| interval(src, &[field], d, "Alertmanager's flushes");
    let spec = AlertmanagerSpec {
        servers: servers
            .iter()
            .zip(of_rules)
            .map(|(s, g)| (s.node, g))
            .collect(),
        groups: groups.len(),
        // May be zero: notify at once.
        group_wait: d.group_wait.0,
        group_interval: timer("group_interval", d.group_interval)?,
        repeat_interval: timer("repeat_interval", d.repeat_interval)?,
        expiry: servers
            .iter()
            .map(|s| SimDuration(4 * s.spec.evaluation_interval.max(SimDuration::from_secs(60)).0))
            .collect(),
        pager: paging.node,
    };
    Ok(Some(AlertmanagerInfo { node, groups, spec }))
}

/// The groups' names, and per server the group of each of its rules: one group per distinct
/// alert name in order of first appearance, or one for all.
fn groups(servers: &[PrometheusInfo], by_name: bool) -> (Vec<String>, Vec<Vec<u16>>) {
    let mut names: Vec<String> = Vec::new();
    if !by_name {
        names.push("all alerts".to_string());
    }
    let mut of_rules = Vec::new();
    for s in servers {
        let mut mine = Vec::new();
        for a in &s.alerts {
            let g = if by_name {
                names.iter().position(|n| n == a).unwrap_or_else(|| {
                    names.push(a.clone());
                    names.len() - 1
                })
            } else {
                0
            };
            mine.push(g as u16);
        }
        of_rules.push(mine);
    }
    (names, of_rules)
}

//! The `runbooks` and `status_page` sections: what the on-call team (or its automation) does
//! for an incident, step by step, and the public status page it posts to.
//!
//! ```ron
//! status_page: Some(StatusPage(node: "statuspage")),
//! runbooks: [
//!     Runbook(
//!         name: "database-failover",
//!         on: ["PostgresNoPrimary"],
//!         steps: [
//!             Step(do: CheckCluster("postgres"), takes: LogNormal(median: "2m", p95: "5m")),
//!             Step(do: Failover(datastore: "postgres", candidates: ["pg-west"]),
//!                  when: Some(NoLeader("postgres")), takes: Fixed("3m")),
//!             Step(do: Status(component: "accounts", state: MajorOutage), takes: Fixed("1m")),
//!         ],
//!         on_resolve: [Step(do: Update(Resolved), takes: Fixed("5m"))],
//!     ),
//! ],
//! ```
//!
//! Status-page components are the services, by name. It does not own how runs proceed
//! (`ops::runbook`) nor what the page shows (`ops::status_page`).

use super::datastore::DatastoreInfo;
use super::monitor::MonitorInfo;
use super::nodes::{NodeTable, Role};
use super::service::ServiceInfo;
use crate::logic::{AlertSet, ComponentState, IncidentStage, MemberSet};
use crate::model::error::{InputError, Source};
use crate::ops::delay::Delay;
use crate::ops::runbook::{Action, Condition, RunbookSpec, Step};
use crate::sim::time::SimDuration;
use serde::Deserialize;

/// At most this many steps in all runbooks: each run keeps one cursor, but a file must not be
/// able to describe unbounded work.
pub const RUNBOOK_STEPS_MAX: usize = 1_000;

/// The status page, hosted on a node of its own (a provider apart from the service's clouds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "StatusPage")]
pub struct StatusPageDef {
    pub node: String,
}

/// A runbook as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Runbook")]
pub struct RunbookDef {
    pub name: String,
    /// The alerts (by name) whose incidents it is followed for.
    pub on: Vec<String>,
    pub steps: Vec<StepDef>,
    /// Steps once the incident resolves (the all-clear).
    #[serde(default)]
    pub on_resolve: Vec<StepDef>,
}

fn default_automated() -> Delay {
    Delay::Fixed(SimDuration::from_secs(5))
}

/// A step as written: `do` what, how long it `takes` a person (and an automation), and the
/// condition it is done under.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Step")]
pub struct StepDef {
    #[serde(rename = "do")]
    pub action: ActionDef,
    pub takes: Delay,
    /// An automation's time for the step (an API call and its checks): 5 s unless set.
    #[serde(default = "default_automated")]
    pub automated: Delay,
    #[serde(default)]
    pub when: Option<ConditionDef>,
}

/// A step's action as written (datastores, components and nodes by name).
#[derive(Debug, Deserialize)]
pub enum ActionDef {
    /// Look at the datastore's cluster: is there a leader? (verifies the automatic failover)
    CheckCluster(String),
    /// Promote the most advanced live one of `candidates` (member nodes) by hand.
    Failover {
        datastore: String,
        candidates: Vec<String>,
    },
    /// Set a status-page component (a service) to a state.
    Status {
        component: String,
        state: ComponentState,
    },
    /// Post an incident update to the status page.
    Update(IncidentStage),
}

/// A condition as written.
#[derive(Debug, Deserialize)]
pub enum ConditionDef {
    /// The datastore's cluster has no healthy leader.
    NoLeader(String),
    /// The datastore's cluster has a healthy leader.
    Leader(String),
}

/// The resolved runbooks and status page.
#[derive(Clone, Debug, Default)]
pub struct RunbooksInfo {
    /// The status page's node, if there is one.
    pub status_page: Option<u32>,
    /// Runbook names, by index (the timeline's words).
    pub names: Vec<String>,
    pub specs: Vec<RunbookSpec>,
    /// Each runbook's steps as words, `steps` then `on_resolve` (the timeline's words).
    pub step_words: Vec<Vec<String>>,
}

/// What runbooks may refer to, resolved before them.
pub(super) struct Scope<'a> {
    pub alert_names: &'a [String],
    pub datastores: &'a [DatastoreInfo],
    pub monitors: &'a [MonitorInfo],
    pub services: &'a [ServiceInfo],
}

/// Resolves the status page (its node gets the `StatusPage` role) and the runbooks.
pub(super) fn resolve(
    src: &Source,
    page: Option<&StatusPageDef>,
    defs: &[RunbookDef],
    scope: &Scope<'_>,
    nodes: &mut NodeTable,
) -> Result<RunbooksInfo, InputError> {
    let status_page = match page {
        Some(p) => {
            let n = nodes.node(src, "status_page", &p.node)?;
            nodes.assign(src, n, Role::StatusPage, "status_page")?;
            Some(n)
        }
        None => None,
    };
    let total: usize = defs
        .iter()
        .map(|d| d.steps.len() + d.on_resolve.len())
        .sum();
    if total > RUNBOOK_STEPS_MAX {
        let message =
            format!("the runbooks have {total} steps, more than the limit of {RUNBOOK_STEPS_MAX}");
        return Err(src.invalid("runbooks", "", message));
    }
    let mut out = RunbooksInfo {
        status_page,
        ..RunbooksInfo::default()
    };
    for (k, d) in defs.iter().enumerate() {
        if defs[..k].iter().any(|e| e.name == d.name) {
            return Err(src.invalid("Runbook", &d.name, "this runbook name is used twice"));
        }
        let on = alerts(src, d, scope.alert_names)?;
        let resolver = StepResolver {
            src,
            scope,
            nodes,
            page: status_page,
        };
        let steps = resolver.steps(&d.steps)?;
        let on_resolve = resolver.steps(&d.on_resolve)?;
        let words = d.steps.iter().chain(&d.on_resolve).map(words).collect();
        out.names.push(d.name.clone());
        out.step_words.push(words);
        out.specs.push(RunbookSpec {
            on,
            steps,
            on_resolve,
        });
    }
    Ok(out)
}

/// The runbook's alerts as a set: each must be an alert some monitoring server raises.
fn alerts(src: &Source, d: &RunbookDef, names: &[String]) -> Result<AlertSet, InputError> {
    if d.on.is_empty() {
        return Err(src.invalid(
            "on",
            &d.name,
            "a runbook needs at least one alert to follow",
        ));
    }
    let mut set: AlertSet = 0;
    for a in &d.on {
        let bit = names.iter().position(|n| n == a).ok_or_else(|| {
            src.invalid("on", a, "no monitoring server has an alert of this name")
        })?;
        set |= 1 << bit;
    }
    Ok(set)
}

/// Resolves steps' names against the topology.
struct StepResolver<'a> {
    src: &'a Source,
    scope: &'a Scope<'a>,
    nodes: &'a NodeTable,
    page: Option<u32>,
}

impl StepResolver<'_> {
    fn steps(&self, defs: &[StepDef]) -> Result<Vec<Step>, InputError> {
        defs.iter().map(|d| self.step(d)).collect()
    }

    fn step(&self, d: &StepDef) -> Result<Step, InputError> {
        for (what, delay) in [("takes", d.takes), ("automated", d.automated)] {
            if let Some((field, value, why)) = delay.invalid() {
                let message = format!("{why} (`{what}` of a runbook step)");
                return Err(self.src.invalid_duration(&[field], value, message));
            }
        }
        let when = match &d.when {
            None => None,
            Some(ConditionDef::NoLeader(s)) => Some(Condition::NoLeader {
                controller: self.controller(s)?,
            }),
            Some(ConditionDef::Leader(s)) => Some(Condition::Leader {
                controller: self.controller(s)?,
            }),
        };
        Ok(Step {
            action: self.action(&d.action)?,
            takes: d.takes,
            automated: d.automated,
            when,
        })
    }

    fn action(&self, d: &ActionDef) -> Result<Action, InputError> {
        Ok(match d {
            ActionDef::CheckCluster(s) => Action::CheckCluster {
                controller: self.controller(s)?,
            },
            ActionDef::Failover {
                datastore,
                candidates,
            } => Action::Failover {
                controller: self.controller(datastore)?,
                candidates: self.members(datastore, candidates)?,
            },
            ActionDef::Status { component, state } => Action::Status {
                page: self.page("Status")?,
                component: self.component(component)?,
                state: *state,
            },
            ActionDef::Update(stage) => Action::Update {
                page: self.page("Update")?,
                stage: *stage,
            },
        })
    }

    fn datastore(&self, name: &str) -> Result<&DatastoreInfo, InputError> {
        self.scope
            .datastores
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| self.src.invalid("datastore", name, "no such datastore"))
    }

    /// The node of the datastore's failover controller (Patroni-style only: sentinels take no
    /// manual commands here yet).
    fn controller(&self, name: &str) -> Result<u32, InputError> {
        let d = self.datastore(name)?;
        match d.controller {
            Some(c) => Ok(self.scope.monitors[c].node),
            None => Err(self.src.invalid(
                "datastore",
                name,
                "this datastore has no failover controller a runbook can ask (only Patroni-style `failover` is supported in runbooks)",
            )),
        }
    }

    fn members(&self, datastore: &str, names: &[String]) -> Result<MemberSet, InputError> {
        let d = self.datastore(datastore)?;
        if names.is_empty() {
            return Err(self
                .src
                .invalid("candidates", datastore, "name at least one candidate"));
        }
        let mut set: MemberSet = 0;
        for n in names {
            let node = self.nodes.node(self.src, "candidates", n)?;
            let m = d.members.iter().position(|&x| x == node).ok_or_else(|| {
                let message = format!("this node is not a member of `{datastore}`");
                self.src.invalid("candidates", n, message)
            })?;
            set |= 1 << m;
        }
        Ok(set)
    }

    fn component(&self, name: &str) -> Result<u16, InputError> {
        let k = self.scope.services.iter().position(|s| s.name == name);
        k.map(|k| k as u16).ok_or_else(|| {
            self.src.invalid(
                "component",
                name,
                "no such service (status-page components are the services)",
            )
        })
    }

    fn page(&self, near: &str) -> Result<u32, InputError> {
        self.page.ok_or_else(|| {
            self.src
                .invalid(near, "", "posting needs a `status_page` in the topology")
        })
    }
}

/// A step in words, for the timeline.
fn words(d: &StepDef) -> String {
    let what = match &d.action {
        ActionDef::CheckCluster(s) => format!("check the {s} cluster"),
        ActionDef::Failover {
            datastore,
            candidates,
        } => format!(
            "fail {datastore} over by hand to {}",
            candidates.join(" or ")
        ),
        ActionDef::Status { component, state } => {
            format!(
                "set {component} to {} on the status page",
                state_words(*state)
            )
        }
        ActionDef::Update(stage) => format!("post '{}' to the status page", stage_words(*stage)),
    };
    match &d.when {
        Some(ConditionDef::NoLeader(s)) => format!("{what} (if {s} has no leader)"),
        Some(ConditionDef::Leader(s)) => format!("{what} (if {s} has a leader)"),
        None => what,
    }
}

/// A component state as the status page writes it.
pub fn state_words(s: ComponentState) -> &'static str {
    match s {
        ComponentState::Operational => "operational",
        ComponentState::DegradedPerformance => "degraded performance",
        ComponentState::PartialOutage => "partial outage",
        ComponentState::MajorOutage => "major outage",
        ComponentState::UnderMaintenance => "under maintenance",
    }
}

/// An incident stage as the status page writes it.
pub fn stage_words(s: IncidentStage) -> &'static str {
    match s {
        IncidentStage::Investigating => "investigating",
        IncidentStage::Identified => "identified",
        IncidentStage::Monitoring => "monitoring",
        IncidentStage::Resolved => "resolved",
    }
}

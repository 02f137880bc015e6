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
//!             Step(do: RoutingControl(endpoint: "alb-us-east-1", state: Off), takes: Fixed("2m")),
//!             Step(do: Post(channel: "twitter", stage: Identified), takes: Fixed("2m")),
//!         ],
//!         on_resolve: [Step(do: Update(Resolved), takes: Fixed("5m"))],
//!     ),
//! ],
//! ```
//!
//! Status-page components are the services, by name. It does not own how runs proceed
//! (`ops::runbook`) nor what the page shows (`ops::status_page`).

use super::datastore::DatastoreInfo;
use super::dns::DnsInfo;
use super::monitor::MonitorInfo;
use super::nodes::{NodeTable, Role};
use super::rpc::RpcInfo;
use super::service::ServiceInfo;
use crate::logic::{AlertSet, ComponentState, IncidentStage, MemberSet};
use crate::model::error::{InputError, Source};
use crate::ops::delay::Delay;
use crate::ops::runbook::{Action, Condition, Group, RunbookSpec, Runbooks, Step};
use crate::sim::time::SimDuration;
use serde::Deserialize;
use std::sync::Arc;

/// At most this many steps in all runbooks: each run keeps one cursor, but a file must not be
/// able to describe unbounded work.
pub const RUNBOOK_STEPS_MAX: usize = 1_000;

/// At most this many nodes in a group a step checks or commands (sentinels, balancers).
pub const GROUP_NODES_MAX: usize = 64;

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
    /// Promote the most advanced live one of `candidates` (member nodes) by hand
    /// (`patronictl failover`); for sentinels, `SENTINEL FAILOVER` with no candidates.
    Failover {
        datastore: String,
        #[serde(default)]
        candidates: Vec<String>,
    },
    /// Set a status-page component (a service) to a state.
    Status {
        component: String,
        state: ComponentState,
    },
    /// Post an incident update to the status page.
    Update(IncidentStage),
    /// Route 53 ARC: turn the routing control of a DNS endpoint (a load balancer the GSLB
    /// answers with) `On` or `Off`.
    RoutingControl {
        endpoint: String,
        state: RoutingControlState,
    },
    /// Set (`true`) or clear the maintenance flag of a blockchain RPC's balancers.
    Maintenance { rpc: String, on: bool },
    /// Start the restore procedure of a datastore (its backups' `recovery`).
    Restore(String),
    /// Post the incident's stage on a public channel other than the status page.
    Post {
        channel: String,
        stage: IncidentStage,
    },
}

/// A routing control's state, as Route 53 ARC names it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum RoutingControlState {
    On,
    Off,
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
    /// The runbooks and the node groups they address, shared by every runner.
    pub runbooks: Arc<Runbooks>,
    /// Public channels posted to, by index (the timeline's words).
    pub channels: Vec<String>,
    /// Each runbook's steps as words, `steps` then `on_resolve` (the timeline's words).
    pub step_words: Vec<Vec<String>>,
}

/// What runbooks may refer to, resolved before them.
pub(super) struct Scope<'a> {
    pub alert_names: &'a [String],
    pub datastores: &'a [DatastoreInfo],
    pub monitors: &'a [MonitorInfo],
    pub services: &'a [ServiceInfo],
    pub dns: Option<&'a DnsInfo>,
    pub rpcs: &'a [RpcInfo],
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
    let mut resolver = StepResolver {
        src,
        scope,
        nodes,
        page: status_page,
        groups: Vec::new(),
        channels: Vec::new(),
        book: String::new(),
    };
    let mut books = Vec::new();
    let mut names = Vec::new();
    let mut step_words = Vec::new();
    for (k, d) in defs.iter().enumerate() {
        if defs[..k].iter().any(|e| e.name == d.name) {
            return Err(src.invalid("Runbook", &d.name, "this runbook name is used twice"));
        }
        let on = alerts(src, d, scope.alert_names)?;
        resolver.book.clone_from(&d.name);
        let steps = resolver.steps(&d.steps)?;
        let on_resolve = resolver.steps(&d.on_resolve)?;
        names.push(d.name.clone());
        step_words.push(d.steps.iter().chain(&d.on_resolve).map(words).collect());
        books.push(RunbookSpec {
            on,
            steps,
            on_resolve,
        });
    }
    Ok(RunbooksInfo {
        status_page,
        names,
        runbooks: Arc::new(Runbooks {
            books,
            groups: resolver.groups,
        }),
        channels: resolver.channels,
        step_words,
    })
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

/// Resolves steps' names against the topology, collecting the node groups and channels they
/// name.
struct StepResolver<'a> {
    src: &'a Source,
    scope: &'a Scope<'a>,
    nodes: &'a NodeTable,
    page: Option<u32>,
    groups: Vec<Vec<u32>>,
    channels: Vec<String>,
    /// The name of the runbook being resolved (to point errors into it).
    book: String,
}

impl StepResolver<'_> {
    fn steps(&mut self, defs: &[StepDef]) -> Result<Vec<Step>, InputError> {
        defs.iter().map(|d| self.step(d)).collect()
    }

    fn step(&mut self, d: &StepDef) -> Result<Step, InputError> {
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
        let action = self.action(&d.action)?;
        self.same_cluster(d)?;
        Ok(Step {
            action,
            takes: d.takes,
            automated: d.automated,
            when,
        })
    }

    /// A command to a controller goes to the one that answered the step's check: the check
    /// must be about the same datastore.
    fn same_cluster(&self, d: &StepDef) -> Result<(), InputError> {
        let commanded = match &d.action {
            ActionDef::CheckCluster(s) => s,
            ActionDef::Failover { datastore, .. } => datastore,
            _ => return Ok(()),
        };
        let checked = match &d.when {
            Some(ConditionDef::NoLeader(s) | ConditionDef::Leader(s)) => s,
            None => return Ok(()),
        };
        if checked == commanded {
            return Ok(());
        }
        let message = format!(
            "this step acts on `{commanded}` but its `when` checks `{checked}`: a command goes to the controller that answered the check, so both must name the same datastore"
        );
        // Located after the runbook's name: its first mention of the datastore checked.
        let near = format!("\"{}\"", self.book);
        Err(self.src.invalid(&near, checked, message))
    }

    fn action(&mut self, d: &ActionDef) -> Result<Action, InputError> {
        Ok(match d {
            ActionDef::CheckCluster(s) => Action::CheckCluster {
                controller: self.controller(s)?,
            },
            ActionDef::Failover {
                datastore,
                candidates,
            } => Action::Failover {
                controller: self.controller(datastore)?,
                candidates: self.candidates(datastore, candidates)?,
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
            ActionDef::RoutingControl { endpoint, state } => {
                self.routing_control(endpoint, *state)?
            }
            ActionDef::Maintenance { rpc, on } => Action::Maintenance {
                balancers: self.balancers(rpc)?,
                on: *on,
            },
            ActionDef::Restore(datastore) => Action::Restore {
                recovery: self.recovery(datastore)?,
            },
            ActionDef::Post { channel, stage } => Action::Post {
                channel: self.channel(channel)?,
                stage: *stage,
            },
        })
    }

    /// The group of `nodes`, added unless an equal one exists. A check gathers its group's
    /// answers in a 64-bit set.
    fn group(&mut self, near: &str, name: &str, nodes: Vec<u32>) -> Result<Group, InputError> {
        if nodes.len() > GROUP_NODES_MAX {
            let message = format!(
                "a runbook step addresses at most {GROUP_NODES_MAX} nodes at once, and this has {}",
                nodes.len()
            );
            return Err(self.src.invalid(near, name, message));
        }
        Ok(match self.groups.iter().position(|g| *g == nodes) {
            Some(k) => k as Group,
            None => {
                self.groups.push(nodes);
                (self.groups.len() - 1) as Group
            }
        })
    }

    fn datastore(&self, name: &str) -> Result<&DatastoreInfo, InputError> {
        self.scope
            .datastores
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| self.src.invalid("datastore", name, "no such datastore"))
    }

    /// The group a runbook asks about the datastore's cluster: Patroni's DCS (the failover
    /// controller's node), or every sentinel of a Redis master set.
    fn controller(&mut self, name: &str) -> Result<Group, InputError> {
        let d = self.datastore(name)?;
        let nodes = match (&d.controller, &d.sentinel) {
            (Some(c), _) => vec![self.scope.monitors[*c].node],
            (None, Some(s)) => s.nodes.clone(),
            (None, None) => {
                return Err(self.src.invalid(
                    "datastore",
                    name,
                    "this datastore fails over by neither a failover controller nor sentinels: there is nothing for a runbook to ask or command",
                ));
            }
        };
        self.group("datastore", name, nodes)
    }

    /// The candidates of a manual failover: members of a Patroni cluster (at least one);
    /// none for sentinels, which choose the replica themselves.
    fn candidates(&self, datastore: &str, names: &[String]) -> Result<MemberSet, InputError> {
        let d = self.datastore(datastore)?;
        if d.controller.is_none() {
            return match names.first() {
                None => Ok(0),
                Some(n) => Err(self.src.invalid(
                    "candidates",
                    n,
                    format!("`{datastore}` fails over by sentinels, and `SENTINEL FAILOVER` takes no candidate (the sentinel chooses the replica): leave `candidates` out"),
                )),
            };
        }
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

    fn routing_control(
        &self,
        endpoint: &str,
        state: RoutingControlState,
    ) -> Result<Action, InputError> {
        let Some(dns) = self.scope.dns else {
            return Err(self.src.invalid(
                "RoutingControl",
                endpoint,
                "a routing control needs a `dns` section (the GSLB whose endpoint it controls)",
            ));
        };
        let node = self.nodes.node(self.src, "endpoint", endpoint)?;
        let k = dns
            .endpoints
            .iter()
            .position(|&e| e == node)
            .ok_or_else(|| {
                self.src.invalid(
                    "endpoint",
                    endpoint,
                    "this node is not one of the DNS endpoints",
                )
            })?;
        Ok(Action::RoutingControl {
            dns: dns.node,
            endpoint: k as u16,
            on: state == RoutingControlState::On,
        })
    }

    fn balancers(&mut self, rpc: &str) -> Result<Group, InputError> {
        let r = self.scope.rpcs.iter().find(|r| r.name == rpc);
        let r = r.ok_or_else(|| self.src.invalid("rpc", rpc, "no such blockchain RPC"))?;
        let nodes = r.balancers.clone();
        self.group("rpc", rpc, nodes)
    }

    /// The recovery node of a datastore, whose users' reports must then come through paging.
    fn recovery(&self, name: &str) -> Result<u32, InputError> {
        let k = self.scope.datastores.iter().position(|d| d.name == name);
        let k = k.ok_or_else(|| self.src.invalid("Restore", name, "no such datastore"))?;
        let d = &self.scope.datastores[k];
        let recovery = d.backup.as_ref().and_then(|b| b.recovery.as_ref());
        let r = recovery.ok_or_else(|| {
            self.src.invalid(
                "Restore",
                name,
                "this datastore has no `recovery` in its `backup` to start",
            )
        })?;
        if let Some(after) = r.user_report_after {
            let message = format!(
                "a runbook starts the restore of `{name}`, so users' reports reach the team through `paging.user_reports` and paging: leave `user_report_after` out of its `recovery`"
            );
            return Err(self
                .src
                .invalid_duration(&["user_report_after"], after, message));
        }
        Ok(r.node)
    }

    fn channel(&mut self, name: &str) -> Result<u16, InputError> {
        if name.is_empty() || name.len() > 64 {
            return Err(self.src.invalid(
                "channel",
                name,
                "a channel is named by 1 to 64 characters",
            ));
        }
        Ok(match self.channels.iter().position(|c| c == name) {
            Some(k) => k as u16,
            None => {
                self.channels.push(name.to_string());
                (self.channels.len() - 1) as u16
            }
        })
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
        } if candidates.is_empty() => format!("fail {datastore} over by hand (SENTINEL FAILOVER)"),
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
        ActionDef::RoutingControl { endpoint, state } => {
            let state = match state {
                RoutingControlState::On => "on",
                RoutingControlState::Off => "off",
            };
            format!("turn the DNS routing control of {endpoint} {state}")
        }
        ActionDef::Maintenance { rpc, on: true } => format!("put {rpc} in maintenance mode"),
        ActionDef::Maintenance { rpc, on: false } => format!("take {rpc} out of maintenance mode"),
        ActionDef::Restore(d) => format!("start the restore of {d}"),
        ActionDef::Post { channel, stage } => {
            format!("post '{}' on {channel}", stage_words(*stage))
        }
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

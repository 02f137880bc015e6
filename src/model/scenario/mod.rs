//! Scenario files: what to run against a topology — how long, which clients do what, which
//! faults hit when, what counts as steady state, and which targets to meet.
//!
//! This module holds the file as a whole ([`ScenarioFile`]), the resolved [`Scenario`], the
//! run-wide settings (name, duration, runs, budgets) and [`ParsedScenario::resolve`], which
//! resolves the sections against a topology in a fixed order. Each section has a module:
//!
//! | module         | section of the file | resolves to                                     |
//! |----------------|---------------------|-------------------------------------------------|
//! | `workload`     | `workload`          | [`Workload`]s                                   |
//! | `faults`       | `faults`            | [`Fault`]s (targets, window, description)       |
//! | `steady_state` | `steady_state`      | [`SteadyState`], per-service [`ServiceSlo`]s    |
//! | `targets`      | `targets`           | RTO/RPO per service, [`Gate`]s                  |
//!
//! The check that the whole fits the budgets, the scenario's last validation, is `cost`'s
//! (re-exported as `model::cost`).

pub mod cost;
mod faults;
mod steady_state;
mod targets;
mod workload;

pub use faults::{Fault, FaultDef, FaultKind};
pub use steady_state::{
    LatencyDef, LatencyRule, ServiceLatencyDef, ServiceSlo, SteadyState, SteadyStateDef,
};
pub use targets::{
    Gate, GateDef, RESPONSE_STEPS, ResponseTargets, ResponseTargetsDef, ServiceTargetsDef,
    TargetsDef,
};
pub use workload::{ArrivalsDef, Workload, WorkloadDef};

use super::error::{InputError, Source};
use super::topology::Topology;
use super::{Dur, Size, limits};
use crate::sim::time::SimDuration;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A topology name (looked up in `topologies/`) or a path relative to this file.
    pub topology: String,
    pub duration: Dur,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_runs")]
    pub runs: u32,
    #[serde(default)]
    pub event_budget: Option<u64>,
    /// The most memory one run may hold (`"4GiB"`): checked against an estimate before the
    /// run and measured while it runs (default [`limits::MEMORY_BUDGET_DEFAULT`]).
    #[serde(default)]
    pub memory_budget: Option<Size>,
    pub workload: Vec<WorkloadDef>,
    #[serde(default)]
    pub faults: Vec<FaultDef>,
    pub targets: TargetsDef,
    #[serde(default)]
    pub steady_state: SteadyStateDef,
    /// The local time of day at the start of the run (`"03:00"`), for responders who are
    /// slower at night; `"10:00"` when left out.
    #[serde(default)]
    pub starts_at: Option<String>,
}

fn default_seed() -> u64 {
    1
}
fn default_runs() -> u32 {
    1
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub source: Source,
    pub topology_ref: String,
    pub duration: SimDuration,
    pub seed: u64,
    pub runs: u32,
    pub event_budget: u64,
    /// Bytes one run may hold (validated > 0).
    pub memory_budget: u64,
    pub workload: Vec<Workload>,
    pub faults: Vec<Fault>,
    pub rto_target: SimDuration,
    pub rpo_target: SimDuration,
    /// Targets per service of the topology (index = service), defaults filled in.
    pub service_targets: Vec<(SimDuration, SimDuration)>,
    /// Statistical gates, each for one service (`None`: every service with a workload).
    pub gates: Vec<(Gate, Option<usize>)>,
    pub steady_state: SteadyState,
    /// Latency requirements per service of the topology (index = service).
    pub service_slo: Vec<ServiceSlo>,
    /// Whether writes at risk (on stopped machines at the end) count against RPO targets.
    pub at_risk_is_lost: bool,
    /// The time of day at the start of the run, since midnight.
    pub starts_at: SimDuration,
    /// The operations response's targets, T+ the first fault.
    pub response_targets: ResponseTargets,
}

/// A scenario file parsed but not yet tied to a topology.
pub struct ParsedScenario {
    pub source: Source,
    pub file: ScenarioFile,
}

impl ParsedScenario {
    pub fn load(path: &Path) -> Result<ParsedScenario, InputError> {
        let source = Source::read(path)?;
        Self::from_source(source)
    }

    pub fn from_source(source: Source) -> Result<ParsedScenario, InputError> {
        let file: ScenarioFile = source.parse()?;
        Ok(ParsedScenario { source, file })
    }

    /// Where the scenario's topology file is, when no `--topology` overrides it.
    pub fn topology_path(&self) -> Result<PathBuf, InputError> {
        let t = &self.file.topology;
        let dir = self.source.path.parent().unwrap_or(Path::new("."));
        let candidates: Vec<PathBuf> = if t.ends_with(".ron") {
            vec![dir.join(t), PathBuf::from(t)]
        } else {
            vec![
                dir.join("..").join("topologies").join(format!("{t}.ron")),
                PathBuf::from("topologies").join(format!("{t}.ron")),
            ]
        };
        candidates
            .iter()
            .find(|p| p.is_file())
            .cloned()
            .ok_or_else(|| {
                self.source.invalid(
                    "topology",
                    t,
                    format!(
                        "no topology file found (looked for {})",
                        candidates
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// Checks the scenario against `topo` and resolves every name, section by section: the
    /// order of the checks, and so which error a file with several gets, is fixed.
    pub fn resolve(self, topo: &Topology) -> Result<Scenario, InputError> {
        let src = &self.source;
        let f = self.file;
        check_name(src, &f.name)?;
        let duration = run_length(src, &f)?;
        let (event_budget, memory_budget) = budgets(src, &f)?;
        let workload = workload::resolve(src, topo, &f.workload, duration)?;
        let faults = faults::resolve(src, topo, &f.faults, duration)?;
        let steady_state = steady_state::resolve(src, &f.steady_state, duration)?;
        targets::check_services(src, topo, &f.targets)?;
        let gates = targets::gates(src, topo, &f.targets, &workload)?;
        let service_targets = targets::per_service(topo, &f.targets);
        let response_targets = targets::response(src, topo, &f.targets.response)?;
        let service_slo = steady_state::resolve_slo(src, topo, &f.steady_state, &workload)?;
        let starts_at = f.starts_at.as_deref().unwrap_or("10:00");
        let starts_at = super::time_of_day(src, "starts_at", starts_at)?;
        let scenario = Scenario {
            name: f.name,
            description: f.description,
            source: self.source.clone(),
            topology_ref: f.topology,
            duration,
            seed: f.seed,
            runs: f.runs,
            event_budget,
            memory_budget,
            workload,
            faults,
            rto_target: f.targets.rto.0,
            rpo_target: f.targets.rpo.0,
            service_targets,
            gates,
            steady_state,
            service_slo,
            at_risk_is_lost: f.targets.at_risk_is_lost,
            starts_at,
            response_targets,
        };
        // Valid setting by setting is not enough: the whole must fit the budgets.
        cost::check(topo, &scenario)?;
        Ok(scenario)
    }
}

/// The run's duration, positive and within [`limits::DURATION_MAX_SECS`]; the number of
/// runs within [`limits::RUNS_MAX`].
fn run_length(src: &Source, f: &ScenarioFile) -> Result<SimDuration, InputError> {
    let duration = f.duration.0;
    if duration.is_zero() {
        return Err(src.invalid(
            "duration",
            &duration.to_string(),
            "the duration must be greater than zero",
        ));
    }
    if duration > SimDuration::from_secs(limits::DURATION_MAX_SECS) {
        return Err(src.invalid(
            "duration",
            &duration.to_string(),
            format!(
                "longer than the limit of {} days",
                limits::DURATION_MAX_SECS / 86_400
            ),
        ));
    }
    if f.runs == 0 || f.runs > limits::RUNS_MAX {
        return Err(src.invalid(
            "runs",
            &f.runs.to_string(),
            format!("runs must be between 1 and {}", limits::RUNS_MAX),
        ));
    }
    Ok(duration)
}

/// The event and memory budgets of one run, defaults filled in; both > 0.
fn budgets(src: &Source, f: &ScenarioFile) -> Result<(u64, u64), InputError> {
    let events = f.event_budget.unwrap_or(limits::EVENT_BUDGET_DEFAULT);
    if events == 0 {
        return Err(src.invalid(
            "event_budget",
            "0",
            "the event budget must be greater than zero",
        ));
    }
    let bytes = f
        .memory_budget
        .map_or(limits::MEMORY_BUDGET_DEFAULT, |m| m.0);
    if bytes == 0 {
        return Err(src.invalid_field(
            "memory_budget",
            0,
            "the memory budget must be greater than zero",
        ));
    }
    Ok((events, bytes))
}

/// A scenario's name becomes its report directory (`reports/<name>`) and the start of its
/// chart file names, so it must be one safe file-name component: short, and made of
/// letters, digits, `-`, `_` and `.`, not starting with `.` (no `..`, `/`, NUL or spaces).
fn check_name(src: &Source, name: &str) -> Result<(), InputError> {
    if name.trim().is_empty() {
        return Err(src.invalid("name", "", "the scenario needs a name"));
    }
    let chars = name.chars().count();
    let problem = if chars > limits::NAME_CHARS_MAX {
        format!(
            "a scenario name is at most {} characters (this one has {chars})",
            limits::NAME_CHARS_MAX
        )
    } else if name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        "a scenario name may hold only letters, digits, `-`, `_` and `.`, and may not start with `.`".to_string()
    } else {
        return Ok(());
    };
    let err = src.invalid_field("name", 0, "");
    let InputError::Invalid {
        file, line, column, ..
    } = err
    else {
        return Err(err);
    };
    let shown: String = name.chars().take(40).collect();
    Err(InputError::Invalid {
        file,
        line,
        column,
        name: if chars > 40 {
            format!("{shown}…")
        } else {
            shown
        },
        message: format!(
            "{problem}: it becomes the report's directory (`reports/<name>`) and its chart file names"
        ),
    })
}

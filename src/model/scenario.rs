//! Scenario files: what to run against a topology — how long, which clients do what, which
//! faults hit when, what counts as steady state, and which targets to meet.

use super::error::{InputError, Source};
use super::topology::{PlaceRef, Topology};
use super::{Dur, Size, limits};
use crate::measure::client::Arrivals;
use crate::sim::kernel::NetFault;
use crate::sim::network::Place;
use crate::sim::time::{SimDuration, SimTime};
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
}

fn default_seed() -> u64 {
    1
}
fn default_runs() -> u32 {
    1
}

/// What one client population does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Clients")]
pub struct WorkloadDef {
    pub clients: String,
    /// The service these writes are for; may be left out when the topology has one service.
    #[serde(default)]
    pub service: Option<String>,
    /// `Fixed("1ms")`: one operation every interval; `Poisson("10ms")`: exponential gaps with
    /// this mean. Also spelt `reads` (for a static site's requests).
    #[serde(alias = "reads")]
    pub writes: ArrivalsDef,
    pub timeout: Dur,
    #[serde(default)]
    pub retries: u32,
}

#[derive(Debug, Deserialize, Clone, Copy)]
pub enum ArrivalsDef {
    Fixed(Dur),
    Poisson(Dur),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Fault")]
pub struct FaultDef {
    pub at: Dur,
    /// How long the fault lasts; absent means until the end of the run.
    #[serde(default)]
    pub duration: Option<Dur>,
    pub kind: FaultKind,
}

/// Every fault kind the simulator can inject.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub enum FaultKind {
    /// Every node in the zone stops.
    ZoneLoss(String),
    /// Every node in the region stops.
    RegionLoss(String),
    /// Every node of the cloud provider stops.
    ProviderOutage(String),
    /// One node stops (volatile state lost; it restarts from durable state when the fault
    /// ends).
    NodeCrash(String),
    /// Messages between the two places are lost, both ways.
    Partition { a: PlaceRef, b: PlaceRef },
    /// The blockchain behind an RPC group stops producing blocks: every provider's head
    /// freezes and calls fail until it resumes.
    ChainHalt(String),
    /// One RPC provider fails this share of calls (0 < rate ≤ 1).
    RpcErrors { provider: String, rate: f64 },
    /// A bad transaction (a faulty migration, an `UPDATE` without `WHERE`) damages this share
    /// of a datastore's rows (0 < share ≤ 1); it commits on the primary and replicates.
    TableCorruption { datastore: String, share: f64 },
    /// Someone (ransomware, a mistaken cleanup script) tries to delete every backup in a store.
    BackupDeletion(String),
    /// Messages to or from `a` (or between `a` and `b`) take `extra` longer.
    Latency {
        a: PlaceRef,
        #[serde(default)]
        b: Option<PlaceRef>,
        extra: Dur,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsDef {
    pub rto: Dur,
    pub rpo: Dur,
    /// Per-service targets overriding the two above: `{"game-state": (rto: "15m", rpo: "500ms")}`.
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, ServiceTargetsDef>,
    /// Statistical gates over the Monte Carlo runs (`Rto(p: 99, within: "15m")`,
    /// `NoLoss(at_least: 0.999, service: Some("accounts"))`). Without gates, every run must
    /// meet every target; with gates, the gates decide.
    #[serde(default)]
    pub gates: Vec<GateDef>,
    /// Whether acknowledged writes left only on stopped machines at the end of the run (at
    /// risk: neither proven lost nor servable) count against the RPO target like lost ones.
    /// On by default: a user cannot get them back while the machines are gone.
    #[serde(default = "default_true")]
    pub at_risk_is_lost: bool,
}

fn default_true() -> bool {
    true
}

/// A gate as written. `service: None` applies it to every service with a workload.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub enum GateDef {
    /// The `p`-th percentile RTO (nearest rank; "not recovered" is worst) is at most `within`.
    Rto {
        p: f64,
        within: Dur,
        #[serde(default)]
        service: Option<String>,
    },
    /// The `p`-th percentile RPO is at most `within`.
    Rpo {
        p: f64,
        within: Dur,
        #[serde(default)]
        service: Option<String>,
    },
    /// At least this share of runs meet the service's RTO target.
    RtoMet {
        at_least: f64,
        #[serde(default)]
        service: Option<String>,
    },
    /// At least this share of runs meet the service's RPO target.
    RpoMet {
        at_least: f64,
        #[serde(default)]
        service: Option<String>,
    },
    /// At least this share of runs lose no acknowledged write (`P(RPO = 0)`).
    NoLoss {
        at_least: f64,
        #[serde(default)]
        service: Option<String>,
    },
}

impl GateDef {
    fn service_name(&self) -> Option<&str> {
        match self {
            GateDef::Rto { service, .. }
            | GateDef::Rpo { service, .. }
            | GateDef::RtoMet { service, .. }
            | GateDef::RpoMet { service, .. }
            | GateDef::NoLoss { service, .. } => service.as_deref(),
        }
    }
}

/// A validated gate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gate {
    Rto { p: f64, within: SimDuration },
    Rpo { p: f64, within: SimDuration },
    RtoMet { at_least: f64 },
    RpoMet { at_least: f64 },
    NoLoss { at_least: f64 },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTargetsDef {
    pub rto: Dur,
    pub rpo: Dur,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SteadyStateDef {
    #[serde(default = "default_window")]
    pub window: Dur,
    /// Success ratio at or above which the service is in steady state.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default = "default_stability")]
    pub stability: Dur,
    #[serde(default = "default_resolution")]
    pub resolution: Dur,
    /// A latency bound steady state also requires: the `p`-th percentile response time of
    /// the operations acknowledged in the window is at most `within` (`(p: 99, within:
    /// "500ms")`). None: availability only.
    #[serde(default)]
    pub latency: Option<LatencyDef>,
    /// An operation acknowledged later than this after it was sent counts as failed in the
    /// success ratio (the user gave up waiting), though its write still counts as stored.
    #[serde(default)]
    pub max_latency: Option<Dur>,
    /// Per-service latency settings (`{"mint": (latency: (p: 99, within: "3s"))}`); a
    /// service listed here takes both `latency` and `max_latency` from its entry (absent: none).
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, ServiceLatencyDef>,
}

/// A percentile bound on response time, as written.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct LatencyDef {
    pub p: f64,
    pub within: Dur,
}

/// One service's latency settings, as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceLatencyDef {
    #[serde(default)]
    pub latency: Option<LatencyDef>,
    #[serde(default)]
    pub max_latency: Option<Dur>,
}

fn default_window() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_threshold() -> f64 {
    0.99
}
fn default_stability() -> Dur {
    Dur(SimDuration::from_secs(300))
}
fn default_resolution() -> Dur {
    Dur(SimDuration::from_secs(1))
}

impl Default for SteadyStateDef {
    fn default() -> Self {
        SteadyStateDef {
            window: default_window(),
            threshold: default_threshold(),
            stability: default_stability(),
            resolution: default_resolution(),
            latency: None,
            max_latency: None,
            services: Default::default(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// The steady-state rule, validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SteadyState {
    pub window: SimDuration,
    pub threshold: f64,
    pub stability: SimDuration,
    pub resolution: SimDuration,
}

/// A validated latency bound: the `p`-th percentile (nearest rank) of the response times of
/// the operations acknowledged in a window is at most `within`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyRule {
    pub p: f64,
    pub within: SimDuration,
}

/// What one service's steady state requires beyond the success ratio.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServiceSlo {
    pub latency: Option<LatencyRule>,
    /// Acknowledged later than this after sending: counted as failed.
    pub max_latency: Option<SimDuration>,
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub client: usize,
    pub service: usize,
    pub arrivals: Arrivals,
    pub timeout: SimDuration,
    pub retries: u32,
}

/// A fault resolved against the topology.
#[derive(Clone, Debug)]
pub struct Fault {
    pub at: SimTime,
    pub until: Option<SimTime>,
    pub kind: FaultKind,
    pub place: Place,
    pub other: Option<Place>,
    pub extra: SimDuration,
    pub detail: String,
}

impl Fault {
    /// The kernel's view: the change at `at`, and its reversal at `until`.
    pub fn net_faults(&self, id: u32) -> Vec<(SimTime, NetFault)> {
        let (apply, revert) = match &self.kind {
            FaultKind::Partition { .. } => (
                NetFault::Partition {
                    id,
                    a: self.place,
                    b: self.other.expect("validated: partitions have two sides"),
                },
                NetFault::Heal { id },
            ),
            FaultKind::Latency { .. } => (
                NetFault::AddLatency {
                    id,
                    a: self.place,
                    b: self.other,
                    extra: self.extra,
                },
                NetFault::RemoveLatency { id },
            ),
            FaultKind::ChainHalt(_)
            | FaultKind::RpcErrors { .. }
            | FaultKind::TableCorruption { .. }
            | FaultKind::BackupDeletion(_) => (
                NetFault::Process { id, on: true },
                NetFault::Process { id, on: false },
            ),
            _ => (NetFault::Down(self.place), NetFault::Up(self.place)),
        };
        let mut v = vec![(self.at, apply)];
        if let Some(u) = self.until {
            v.push((u, revert));
        }
        v
    }
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

    /// Checks the scenario against `topo` and resolves every name.
    pub fn resolve(self, topo: &Topology) -> Result<Scenario, InputError> {
        let src = &self.source;
        let f = self.file;
        check_name(src, &f.name)?;
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
        let (event_budget, memory_budget) = budgets(src, &f)?;
        let mut workload = Vec::new();
        for w in &f.workload {
            let client = topo
                .clients
                .iter()
                .position(|c| c.name == w.clients)
                .ok_or_else(|| {
                    src.invalid(
                        "clients",
                        &w.clients,
                        format!("no such client population in topology `{}`", topo.name),
                    )
                })?;
            let (arrivals, every) = match w.writes {
                ArrivalsDef::Fixed(d) => (Arrivals::Fixed(d.0), d.0),
                ArrivalsDef::Poisson(d) => (Arrivals::Poisson(d.0), d.0),
            };
            let min = SimDuration(limits::CLIENT_INTERVAL_MIN_NS);
            if every < min {
                return Err(src.invalid_duration(
                    &["writes", "reads"],
                    every,
                    format!(
                        "clients `{}`: the interval between operations (`writes`) must be at least {}: each operation is at least two events and a history record (docs/SCENARIOS.md, Limits)",
                        w.clients,
                        min.human()
                    ),
                ));
            }
            if duration.0 / every.0 > limits::OPS_PER_CLIENT_MAX {
                return Err(src.invalid(
                    "writes",
                    &w.clients,
                    format!(
                        "this rate makes more than {} operations in the run",
                        limits::OPS_PER_CLIENT_MAX
                    ),
                ));
            }
            if w.timeout.0.is_zero() {
                return Err(src.invalid(
                    "timeout",
                    &w.clients,
                    "the timeout must be greater than zero",
                ));
            }
            if w.retries > 100 {
                return Err(src.invalid("retries", &w.clients, "at most 100 retries"));
            }
            let service = match &w.service {
                Some(name) => topo.service(name).ok_or_else(|| {
                    src.invalid(
                        "service",
                        name,
                        format!("no such service in topology `{}`", topo.name),
                    )
                })?,
                None if topo.services.len() == 1 => 0,
                None => {
                    return Err(src.invalid(
                        "clients",
                        &w.clients,
                        "the topology has several services: name this workload's `service`",
                    ));
                }
            };
            if !topo.can_serve(client, service) {
                return Err(src.invalid(
                    "clients",
                    &w.clients,
                    format!(
                        "this population cannot reach service `{}` (its datastore is neither its direct connection nor behind an app tier)",
                        topo.services[service].name
                    ),
                ));
            }
            if workload
                .iter()
                .any(|x: &Workload| x.client == client && x.service == service)
            {
                return Err(src.invalid(
                    "clients",
                    &w.clients,
                    "this client population has two workloads for one service; give it one",
                ));
            }
            if workload.iter().filter(|x| x.client == client).count() >= u8::MAX as usize {
                return Err(src.invalid(
                    "clients",
                    &w.clients,
                    "at most 255 workloads per population",
                ));
            }
            workload.push(Workload {
                client,
                service,
                arrivals,
                timeout: w.timeout.0,
                retries: w.retries,
            });
        }
        // The operation limit is per population (operation numbers are per population).
        for (ci, c) in topo.clients.iter().enumerate() {
            let ops: u64 = workload
                .iter()
                .filter(|w| w.client == ci)
                .map(|w| match w.arrivals {
                    Arrivals::Fixed(d) | Arrivals::Poisson(d) => duration.0 / d.0,
                })
                .sum();
            if ops > limits::OPS_PER_CLIENT_MAX {
                return Err(src.invalid(
                    "clients",
                    &c.name,
                    format!(
                        "this population's workloads make more than {} operations in the run",
                        limits::OPS_PER_CLIENT_MAX
                    ),
                ));
            }
        }
        if workload.is_empty() {
            return Err(src.invalid(
                "workload",
                "",
                "the workload is empty: without clients nothing can be measured",
            ));
        }
        if f.faults.len() > limits::FAULTS_MAX {
            return Err(src.invalid(
                "faults",
                "",
                format!("more than {} faults", limits::FAULTS_MAX),
            ));
        }
        let mut faults = Vec::new();
        for (i, fd) in f.faults.iter().enumerate() {
            faults.push(resolve_fault(src, topo, fd, i, duration)?);
        }
        let steady_state = steady_state(src, &f.steady_state, duration)?;
        for name in f.targets.services.keys() {
            if topo.service(name).is_none() {
                return Err(src.invalid(
                    "services",
                    name,
                    format!("no such service in topology `{}`", topo.name),
                ));
            }
        }
        let mut gates = Vec::new();
        for g in &f.targets.gates {
            let (gate, service, word) = match g {
                GateDef::Rto { p, within, service } => (
                    Gate::Rto {
                        p: *p,
                        within: within.0,
                    },
                    service,
                    "Rto",
                ),
                GateDef::Rpo { p, within, service } => (
                    Gate::Rpo {
                        p: *p,
                        within: within.0,
                    },
                    service,
                    "Rpo",
                ),
                GateDef::RtoMet { at_least, service } => (
                    Gate::RtoMet {
                        at_least: *at_least,
                    },
                    service,
                    "RtoMet",
                ),
                GateDef::RpoMet { at_least, service } => (
                    Gate::RpoMet {
                        at_least: *at_least,
                    },
                    service,
                    "RpoMet",
                ),
                GateDef::NoLoss { at_least, service } => (
                    Gate::NoLoss {
                        at_least: *at_least,
                    },
                    service,
                    "NoLoss",
                ),
            };
            match gate {
                Gate::Rto { p, .. } | Gate::Rpo { p, .. } if !(p > 0.0 && p <= 100.0) => {
                    return Err(src.invalid(word, &p.to_string(), "a percentile is in (0, 100]"));
                }
                Gate::RtoMet { at_least }
                | Gate::RpoMet { at_least }
                | Gate::NoLoss { at_least }
                    if !(0.0..=1.0).contains(&at_least) =>
                {
                    return Err(src.invalid(
                        word,
                        &at_least.to_string(),
                        "`at_least` is a share of runs in [0, 1]",
                    ));
                }
                _ => {}
            }
            let service = match service {
                None => None,
                Some(name) => Some(topo.service(name).ok_or_else(|| {
                    src.invalid(
                        word,
                        name,
                        format!("no such service in topology `{}`", topo.name),
                    )
                })?),
            };
            if let (Some(k), Some(name)) = (service, g.service_name())
                && !workload.iter().any(|w: &Workload| w.service == k)
            {
                return Err(src.invalid(
                    word,
                    name,
                    "this scenario has no workload for that service: the gate would judge nothing",
                ));
            }
            gates.push((gate, service));
        }
        let service_targets = topo
            .services
            .iter()
            .map(|sv| match f.targets.services.get(&sv.name) {
                Some(t) => (t.rto.0, t.rpo.0),
                None => (f.targets.rto.0, f.targets.rpo.0),
            })
            .collect();
        let service_slo = resolve_slo(src, topo, &f.steady_state, &workload)?;
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
        };
        // Valid setting by setting is not enough: the whole must fit the budgets.
        super::cost::check(topo, &scenario)?;
        Ok(scenario)
    }
}

/// Validates the steady state's latency settings and resolves them per service.
fn resolve_slo(
    src: &Source,
    topo: &Topology,
    ss: &SteadyStateDef,
    workload: &[Workload],
) -> Result<Vec<ServiceSlo>, InputError> {
    let rule = |l: &Option<LatencyDef>, near: &str| -> Result<Option<LatencyRule>, InputError> {
        let Some(l) = l else { return Ok(None) };
        if !(l.p > 0.0 && l.p <= 100.0) {
            return Err(src.invalid(near, &l.p.to_string(), "a percentile is in (0, 100]"));
        }
        if l.within.0.is_zero() {
            return Err(src.invalid(
                "within",
                &l.within.0.to_string(),
                "a latency bound must be greater than zero",
            ));
        }
        Ok(Some(LatencyRule {
            p: l.p,
            within: l.within.0,
        }))
    };
    let max = |d: Option<Dur>| -> Result<Option<SimDuration>, InputError> {
        match d {
            Some(d) if d.0.is_zero() => Err(src.invalid(
                "max_latency",
                &d.0.to_string(),
                "`max_latency` must be greater than zero",
            )),
            other => Ok(other.map(|d| d.0)),
        }
    };
    let default = ServiceSlo {
        latency: rule(&ss.latency, "latency")?,
        max_latency: max(ss.max_latency)?,
    };
    let mut out = vec![default; topo.services.len()];
    for (name, def) in &ss.services {
        let k = topo.service(name).ok_or_else(|| {
            src.invalid(
                "services",
                name,
                format!("no such service in topology `{}`", topo.name),
            )
        })?;
        if !workload.iter().any(|w| w.service == k) {
            return Err(src.invalid(
                "services",
                name,
                "this scenario has no workload for that service: its latency rule would judge nothing",
            ));
        }
        out[k] = ServiceSlo {
            latency: rule(&def.latency, name)?,
            max_latency: max(def.max_latency)?,
        };
    }
    Ok(out)
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

/// The steady-state rule, checked: a ratio in (0, 1], positive durations, and a resolution
/// of at least [`limits::RESOLUTION_MIN_NS`] that cuts the run into at most
/// [`limits::BUCKETS_MAX`] buckets (each service keeps counters per bucket).
fn steady_state(
    src: &Source,
    ss: &SteadyStateDef,
    duration: SimDuration,
) -> Result<SteadyState, InputError> {
    if !(ss.threshold > 0.0 && ss.threshold <= 1.0) {
        return Err(src.invalid(
            "threshold",
            &ss.threshold.to_string(),
            "the steady-state threshold is a ratio in (0, 1]",
        ));
    }
    for (field, d) in [("window", ss.window), ("stability", ss.stability)] {
        if d.0.is_zero() {
            return Err(src.invalid(
                field,
                &d.0.to_string(),
                format!("the steady-state {field} must be greater than zero"),
            ));
        }
    }
    let resolution = ss.resolution.0;
    let min = SimDuration(limits::RESOLUTION_MIN_NS);
    if resolution < min {
        return Err(src.invalid_duration(
            &["resolution"],
            resolution,
            format!(
                "the steady-state `resolution` must be at least {}: the SLI is counted per bucket of this width (docs/SCENARIOS.md, Limits)",
                min.human()
            ),
        ));
    }
    let buckets = duration.0.div_ceil(resolution.0);
    if buckets > limits::BUCKETS_MAX {
        return Err(src.invalid_duration(
            &["resolution", "duration"],
            resolution,
            format!(
                "a `resolution` of {} cuts the {} run into {buckets} buckets, more than the limit of {}: use a coarser resolution",
                resolution.human(),
                duration.human(),
                limits::BUCKETS_MAX
            ),
        ));
    }
    if resolution > ss.window.0 {
        return Err(src.invalid(
            "resolution",
            &resolution.to_string(),
            "the resolution must not exceed the window",
        ));
    }
    Ok(SteadyState {
        window: ss.window.0,
        threshold: ss.threshold,
        stability: ss.stability.0,
        resolution,
    })
}

fn resolve_fault(
    src: &Source,
    topo: &Topology,
    fd: &FaultDef,
    index: usize,
    duration: SimDuration,
) -> Result<Fault, InputError> {
    let at = SimTime::ZERO + fd.at.0;
    if fd.at.0 >= duration {
        return Err(src.invalid_field(
            "at",
            index,
            format!("the fault starts at or after the end of the run ({duration})"),
        ));
    }
    let until = match fd.duration {
        None => None,
        Some(d) if d.0.is_zero() => {
            return Err(src.invalid(
                "duration",
                &d.0.to_string(),
                "a fault's duration must be greater than zero (leave it out to last until the end)",
            ));
        }
        Some(d) => Some(at + d.0),
    };
    let place_of = |p: &PlaceRef| -> Result<Place, InputError> {
        topo.place(p).ok_or_else(|| {
            src.invalid(
                "kind",
                p.name(),
                format!("no such {} in topology `{}`", kind_word(p), topo.name),
            )
        })
    };
    let named = |p: PlaceRef| place_of(&p);
    let (place, other, extra) = match &fd.kind {
        FaultKind::ZoneLoss(z) => (named(PlaceRef::Zone(z.clone()))?, None, SimDuration::ZERO),
        FaultKind::RegionLoss(r) => (named(PlaceRef::Region(r.clone()))?, None, SimDuration::ZERO),
        FaultKind::ProviderOutage(p) => (
            named(PlaceRef::Provider(p.clone()))?,
            None,
            SimDuration::ZERO,
        ),
        FaultKind::NodeCrash(n) => (named(PlaceRef::Node(n.clone()))?, None, SimDuration::ZERO),
        FaultKind::Partition { a, b } => {
            let (pa, pb) = (place_of(a)?, place_of(b)?);
            if pa == pb {
                return Err(src.invalid(
                    "Partition",
                    a.name(),
                    "a partition needs two different places",
                ));
            }
            (pa, Some(pb), SimDuration::ZERO)
        }
        FaultKind::ChainHalt(chain) => {
            let k = topo
                .rpcs
                .iter()
                .position(|r| &r.name == chain)
                .ok_or_else(|| src.invalid("ChainHalt", chain, "no such RPC group in `rpc`"))?;
            (
                Place::Node(topo.rpcs[k].providers[0]),
                None,
                SimDuration::ZERO,
            )
        }
        FaultKind::RpcErrors { provider, rate } => {
            let node = topo
                .node(provider)
                .ok_or_else(|| src.invalid("provider", provider, "no such node"))?;
            if !topo.rpcs.iter().any(|r| r.providers.contains(&node)) {
                return Err(src.invalid("provider", provider, "not an RPC provider"));
            }
            if !(*rate > 0.0 && *rate <= 1.0) {
                return Err(src.invalid("rate", provider, "the error rate is a share in (0, 1]"));
            }
            (Place::Node(node), None, SimDuration::ZERO)
        }
        FaultKind::TableCorruption { datastore, share } => {
            let d = topo
                .datastores
                .iter()
                .find(|d| &d.name == datastore)
                .ok_or_else(|| src.invalid("TableCorruption", datastore, "no such datastore"))?;
            if !(*share > 0.0 && *share <= 1.0) {
                return Err(src.invalid(
                    "share",
                    datastore,
                    "the damaged share of the rows is in (0, 1]",
                ));
            }
            (Place::Node(d.members[d.primary]), None, SimDuration::ZERO)
        }
        FaultKind::BackupDeletion(store) => {
            let b = topo
                .backup_stores
                .iter()
                .find(|b| &b.name == store)
                .ok_or_else(|| {
                    src.invalid("BackupDeletion", store, "no such store in `backup_stores`")
                })?;
            (Place::Node(b.node), None, SimDuration::ZERO)
        }
        FaultKind::Latency { a, b, extra } => {
            if extra.0.is_zero() {
                return Err(src.invalid(
                    "extra",
                    a.name(),
                    "added latency must be greater than zero",
                ));
            }
            (place_of(a)?, b.as_ref().map(place_of).transpose()?, extra.0)
        }
    };
    let detail = describe(topo, &fd.kind, place, other, extra);
    Ok(Fault {
        at,
        until,
        kind: fd.kind.clone(),
        place,
        other,
        extra,
        detail,
    })
}

fn kind_word(p: &PlaceRef) -> &'static str {
    match p {
        PlaceRef::Provider(_) => "provider",
        PlaceRef::Region(_) => "region",
        PlaceRef::Zone(_) => "zone",
        PlaceRef::Node(_) => "node",
    }
}

fn describe(
    topo: &Topology,
    kind: &FaultKind,
    place: Place,
    other: Option<Place>,
    extra: SimDuration,
) -> String {
    match kind {
        FaultKind::ZoneLoss(z) => format!("zone {z} lost"),
        FaultKind::RegionLoss(r) => format!("region {r} lost"),
        FaultKind::ProviderOutage(p) => format!("provider {p} outage"),
        FaultKind::NodeCrash(n) => format!("node {n} crashed"),
        FaultKind::ChainHalt(c) => format!("chain halt behind RPC group {c}"),
        FaultKind::TableCorruption { datastore, share } => format!(
            "bad transaction damages {:.0}% of {datastore}'s rows (replicated to every member)",
            share * 100.0
        ),
        FaultKind::BackupDeletion(store) => {
            format!("attempt to delete every backup in store {store}")
        }
        FaultKind::RpcErrors { provider, rate } => {
            format!(
                "RPC provider {provider} fails {:.0}% of calls",
                rate * 100.0
            )
        }
        FaultKind::Partition { .. } => format!(
            "partition between {} and {}",
            topo.place_name(place),
            other.map(|o| topo.place_name(o)).unwrap_or_default()
        ),
        FaultKind::Latency { .. } => match other {
            Some(o) => format!(
                "+{extra} latency between {} and {}",
                topo.place_name(place),
                topo.place_name(o)
            ),
            None => format!("+{extra} latency at {}", topo.place_name(place)),
        },
    }
}

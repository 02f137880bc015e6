//! Aggregating runs into the per-scenario result that every view renders.

use crate::measure::durability::{LossCause, Losses};
use crate::measure::latency::LatencyStats;
use crate::measure::outcome::WriteCounts;
use crate::model::scenario::RESPONSE_STEPS;
use crate::model::scenario::{Gate, Scenario};
use crate::model::topology::Topology;
use crate::run::judge::{ServiceResult, Status};
use crate::run::outages::Around;
use crate::run::timeline::{Response, cause_phrases};
use crate::run::{RunResult, TimelineEntry};
use crate::sim::rng::mix64;
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;

/// Nearest-rank percentiles, in seconds; `None` (JSON `null`) where the value is "not
/// recovered".
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Percentiles {
    /// `values` with `None` meaning "worse than any number" (not recovered).
    pub fn of(values: &[Option<SimDuration>]) -> Percentiles {
        let v: Vec<Option<f64>> = values.iter().map(|x| x.map(|d| d.as_secs_f64())).collect();
        let pick = |p: f64| nearest_rank(&v, p).flatten();
        Percentiles {
            p50: pick(50.0),
            p90: pick(90.0),
            p95: pick(95.0),
            p99: pick(99.0),
            max: pick(100.0),
        }
    }
}

/// How often a target was met over the runs, with a 95 % Wilson score interval: with few runs
/// the interval says how little a perfect record proves (8 of 8 is only "at least 68 %").
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Odds {
    pub met: u32,
    pub runs: u32,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Odds {
    pub fn of(met: u32, runs: u32) -> Odds {
        if runs == 0 {
            return Odds {
                met,
                runs,
                p: 0.0,
                lo: 0.0,
                hi: 1.0,
            };
        }
        let n = runs as f64;
        let p = met as f64 / n;
        let z = 1.959_963_984_540_054_f64;
        let z2 = z * z;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
        Odds {
            met,
            runs,
            p,
            lo: (centre - half).max(0.0),
            hi: (centre + half).min(1.0),
        }
    }
}

/// A service's success ratio over time in one run (the batch's first), for charts.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceSeries {
    pub resolution_s: f64,
    /// Acknowledged and failed operations per bucket, by send time.
    pub ok: Vec<u64>,
    pub failed: Vec<u64>,
}

/// Per-run values behind the percentiles (in memory only: charts draw distributions).
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// RTO in seconds per run; `None`: not recovered.
    pub rto_s: Vec<Option<f64>>,
    /// RPO in seconds per run; `None`: not judged (the run stopped early).
    pub rpo_s: Vec<Option<f64>>,
}

/// One gate (or, without gates, one service's target) judged over all runs: what `check`
/// decides on and what each JUnit test case reports.
#[derive(Clone, Debug, Serialize)]
pub struct GateResult {
    /// What is required, e.g. "accounts: p99 RTO ≤ 15m00.0s".
    pub name: String,
    pub service: String,
    pub passed: bool,
    /// What was measured, e.g. "p99 RTO 39.0 s over 8 runs".
    pub measured: String,
}

/// Nearest-rank `p`-th percentile (0 < p ≤ 100) with `None` the worst value.
pub fn nearest_rank(values: &[Option<f64>], p: f64) -> Option<Option<f64>> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Greater,
        (_, None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => x.total_cmp(y),
    });
    let rank = ((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

fn secs_text(x: Option<f64>) -> String {
    match x {
        None => "not recovered".to_string(),
        Some(x) => SimDuration((x * 1e9).round() as u64)
            .round_to_millis()
            .to_string(),
    }
}

/// An RPO figure; `None` is a run that was not judged (an RPO is always a number otherwise).
fn rpo_text(x: Option<f64>) -> String {
    match x {
        None => "not judged".to_string(),
        some => secs_text(some),
    }
}

fn odds_text(o: &Odds) -> String {
    format!(
        "{} of {} runs ({:.1} %, 95 % interval {:.1}–{:.1} %)",
        o.met,
        o.runs,
        o.p * 100.0,
        o.lo * 100.0,
        o.hi * 100.0
    )
}

/// "not judged in 1 of 1 runs (stopped early); " when a run stopped before the end.
fn not_judged_text(sv: &ServiceReport) -> String {
    if sv.not_judged_runs == 0 {
        String::new()
    } else {
        format!(
            "not judged in {} of {} runs (stopped before the end); ",
            sv.not_judged_runs,
            sv.samples.rto_s.len()
        )
    }
}

/// Judges the scenario's gates, or without gates each service's targets in every run.
fn gate_results(s: &Scenario, services: &[ServiceReport], topo: &Topology) -> Vec<GateResult> {
    if s.gates.is_empty() {
        return services
            .iter()
            .flat_map(|sv| {
                let k = topo.service(&sv.name).expect("a reported service exists");
                targets_as_gates(sv, s.service_targets[k])
            })
            .collect();
    }
    let mut out = Vec::new();
    for &(gate, service) in &s.gates {
        for sv in services {
            if service.is_none_or(|k| topo.services[k].name == sv.name) {
                out.push(stated_gate(gate, sv));
            }
        }
    }
    out
}

/// Whether a run calls for an incident response: a fault, and some service that went down
/// for its users (a run whose services all held needs nobody to acknowledge anything; its
/// `restored` step is T+0).
fn needs_response(r: &RunResult) -> bool {
    r.t0.is_some() && r.response.restored != r.t0
}

/// Each response target as a gate of its own (it must be met in every run with a fault that
/// users saw, gates or not), so JUnit and the gates table show it beside the service targets.
/// Scenario-level: `service` is empty.
fn response_gates(s: &Scenario, runs: &[RunResult]) -> Vec<GateResult> {
    let faulted: Vec<&RunResult> = runs.iter().filter(|r| needs_response(r)).collect();
    if faulted.is_empty() {
        return Vec::new();
    }
    let steps = RESPONSE_STEPS.iter().zip(STEP_READINGS);
    steps
        .zip(s.response_targets.by_step)
        .filter_map(|((step, (_, milestone)), target)| {
            let target = target?;
            let at: Vec<Option<SimDuration>> =
                faulted.iter().map(|r| t_plus(r, milestone)).collect();
            let met = at.iter().filter(|a| a.is_some_and(|a| a <= target)).count();
            let never = at.iter().filter(|a| a.is_none()).count();
            let latest = match at.iter().flatten().max() {
                _ if never > 0 => format!(
                    "never reached in {never} run{}",
                    if never == 1 { "" } else { "s" }
                ),
                Some(t) => format!("latest T+{}", super::markdown::duration(t.as_secs_f64())),
                None => "never reached".to_string(),
            };
            Some(GateResult {
                name: format!(
                    "response: {} by T+{} in every run",
                    step.replace('_', " "),
                    target.human()
                ),
                service: String::new(),
                passed: met == at.len(),
                measured: format!("{latest}; met in {met} of {} runs", at.len()),
            })
        })
        .collect()
}

/// Without stated gates: each target must be met in every run, as two gates.
fn targets_as_gates(
    sv: &ServiceReport,
    (rto_t, rpo_t): (SimDuration, SimDuration),
) -> [GateResult; 2] {
    let rto = GateResult {
        name: format!("{}: RTO ≤ {rto_t} in every run", sv.name),
        service: sv.name.clone(),
        passed: sv.rto_met.met == sv.rto_met.runs,
        measured: format!(
            "{}max RTO {}; met in {}",
            not_judged_text(sv),
            if sv.not_judged_runs == sv.rto_met.runs {
                "not judged".to_string()
            } else {
                secs_text(sv.rto_s.max)
            },
            odds_text(&sv.rto_met)
        ),
    };
    let what = if rpo_t.is_zero() {
        "no acknowledged write lost".to_string()
    } else {
        format!("RPO ≤ {rpo_t}")
    };
    let rpo = GateResult {
        name: format!("{}: {what} in every run", sv.name),
        service: sv.name.clone(),
        passed: sv.rpo_met.met == sv.rpo_met.runs,
        measured: format!(
            "{}max RPO {}, {} acknowledged writes lost, {} at risk; met in {}",
            not_judged_text(sv),
            rpo_text(sv.rpo_s.max),
            sv.writes.acked_lost,
            sv.lost_by_cause.unreachable,
            odds_text(&sv.rpo_met)
        ),
    };
    [rto, rpo]
}

/// A stated gate judged over one service's runs.
fn stated_gate(gate: Gate, sv: &ServiceReport) -> GateResult {
    let n = sv.samples.rto_s.len();
    let (name, passed, measured) = match gate {
        Gate::Rto { p, within } => {
            let v = nearest_rank(&sv.samples.rto_s, p).flatten();
            (
                format!("{}: p{p} RTO ≤ {within}", sv.name),
                v.is_some_and(|x| x <= within.as_secs_f64()),
                format!("p{p} RTO {} over {n} runs", secs_text(v)),
            )
        }
        Gate::Rpo { p, within } => {
            let v = nearest_rank(&sv.samples.rpo_s, p).flatten();
            (
                format!("{}: p{p} RPO ≤ {within}", sv.name),
                v.is_some_and(|x| x <= within.as_secs_f64()),
                format!("p{p} RPO {} over {n} runs", rpo_text(v)),
            )
        }
        Gate::RtoMet { at_least } => (
            format!("{}: P(RTO ≤ target) ≥ {at_least}", sv.name),
            sv.rto_met.p >= at_least,
            format!("met in {}", odds_text(&sv.rto_met)),
        ),
        Gate::RpoMet { at_least } => (
            format!("{}: P(RPO ≤ target) ≥ {at_least}", sv.name),
            sv.rpo_met.p >= at_least,
            format!("met in {}", odds_text(&sv.rpo_met)),
        ),
        Gate::NoLoss { at_least } => {
            let o = Odds::of(sv.no_loss_runs, n as u32);
            (
                format!("{}: P(RPO = 0) ≥ {at_least}", sv.name),
                o.p >= at_least,
                format!("no acknowledged write lost in {}", odds_text(&o)),
            )
        }
    };
    GateResult {
        name,
        service: sv.name.clone(),
        passed,
        measured,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Targets {
    pub rto_s: f64,
    pub rpo_s: f64,
}

/// One outage of one service in one run.
#[derive(Clone, Debug, Serialize)]
pub struct OutageReport {
    pub start_s: f64,
    /// When operations succeeded again; `null`: still down at the end of the run.
    pub end_s: Option<f64>,
    pub duration_s: Option<f64>,
    /// Send time of the last failing operation of the outage (`end_s` is after it): of its
    /// last bad bucket, or of a tolerated one whose failure was sent before `end_s`.
    pub last_failure_s: f64,
    /// The faults blamed for it (`docs/MEASUREMENT.md`, outages), as the timeline words them.
    pub causes: Vec<String>,
    /// Operations sent during it that failed or were too slow.
    pub failed_ops: u64,
    /// Response times before, during and after it.
    pub latency: Around,
}

/// Acknowledged writes lost (or at risk) together, by one cause in one event.
#[derive(Clone, Debug, Serialize)]
pub struct LossReport {
    pub cause: LossCause,
    pub count: u64,
    /// Send times of the earliest and latest of them.
    pub from_s: f64,
    pub to_s: f64,
    /// The window of data lost: to the latest, or to the machine stopping if later.
    pub window_s: f64,
}

/// One service in one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunService {
    pub name: String,
    pub status: Status,
    /// The longest outage; `null`: not recovered or not judged.
    pub rto_s: Option<f64>,
    pub rpo_s: f64,
    /// Acknowledged writes only on stopped machines at the end, and their window.
    pub at_risk: u64,
    pub at_risk_s: f64,
    pub first_success_s: Option<f64>,
    pub writes: WriteCounts,
    pub latency: Option<LatencyStats>,
    pub outages: Vec<OutageReport>,
    pub losses: Vec<LossReport>,
}

/// One value per step of the incident response, in [`RESPONSE_STEPS`] order, named as in the
/// JSON: the figures of one run, their percentiles over the runs, or the targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ResponseSteps<T> {
    pub alert_s: T,
    pub page_s: T,
    pub acknowledge_s: T,
    pub status_page_s: T,
    pub failover_s: T,
    pub restored_s: T,
    pub all_clear_s: T,
}

impl<T> ResponseSteps<T> {
    /// From values in [`RESPONSE_STEPS`] order.
    fn from_steps(steps: [T; 7]) -> Self {
        let [
            alert_s,
            page_s,
            acknowledge_s,
            status_page_s,
            failover_s,
            restored_s,
            all_clear_s,
        ] = steps;
        ResponseSteps {
            alert_s,
            page_s,
            acknowledge_s,
            status_page_s,
            failover_s,
            restored_s,
            all_clear_s,
        }
    }

    /// The values in [`RESPONSE_STEPS`] order.
    pub fn by_step(&self) -> [&T; 7] {
        [
            &self.alert_s,
            &self.page_s,
            &self.acknowledge_s,
            &self.status_page_s,
            &self.failover_s,
            &self.restored_s,
            &self.all_clear_s,
        ]
    }
}

/// When the incident response reached each step of the plan in one run, in seconds after the
/// first fault (T+). `null`: never (or no fault).
pub type ResponseTimes = ResponseSteps<Option<f64>>;

/// Which response step: reads its instant off a run's milestones.
type Milestone = fn(&Response) -> Option<SimTime>;

/// The response steps in [`RESPONSE_STEPS`] order: what a run "did" at each, and its reading.
pub const STEP_READINGS: [(&str, Milestone); 7] = [
    ("alerted", |x| x.alerted),
    ("paged", |x| x.paged),
    ("acknowledged", |x| x.acknowledged),
    ("posted to the status page", |x| x.status_page),
    ("failed over", |x| x.failover),
    ("restored every service", |x| x.restored),
    ("gave the all-clear", |x| x.all_clear),
];

/// A response step of run `r`, T+ its first fault (`None`: never reached, or no fault): the one
/// reading of the milestones that the per-run figures, the percentiles and the targets share.
fn t_plus(r: &RunResult, step: Milestone) -> Option<SimDuration> {
    Some(step(&r.response)?.saturating_since(r.t0?))
}

impl ResponseTimes {
    fn of(r: &RunResult) -> ResponseTimes {
        ResponseTimes::from_steps(STEP_READINGS.map(|(_, m)| secs(t_plus(r, m))))
    }
}

/// The incident response over the runs, T+ the first fault; a run that never reached a step
/// counts as worse than any that did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResponsePercentiles {
    #[serde(flatten)]
    pub steps: ResponseSteps<Percentiles>,
    /// Over the runs, the longest time the status page showed a failing service as
    /// operational (`null` percentiles without a status page).
    pub silent_s: Percentiles,
}

impl ResponsePercentiles {
    fn of(runs: &[RunResult]) -> ResponsePercentiles {
        let step = |f: Milestone| {
            let v: Vec<Option<SimDuration>> = runs.iter().map(|r| t_plus(r, f)).collect();
            Percentiles::of(&v)
        };
        let silent: Vec<Option<SimDuration>> = runs
            .iter()
            .filter(|r| !r.silent.is_empty())
            .map(|r| r.silent.iter().max().copied())
            .collect();
        ResponsePercentiles {
            steps: ResponseSteps::from_steps(STEP_READINGS.map(|(_, m)| step(m))),
            silent_s: Percentiles::of(&silent),
        }
    }
}

/// The scenario's response targets as T+ seconds.
fn response_targets(s: &Scenario) -> ResponseTimes {
    ResponseTimes::from_steps(s.response_targets.by_step.map(secs))
}

/// One run's headline figures (all runs are listed; the timeline is the first run's).
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub seed: u64,
    /// Why the run stopped before the scenario's end (`null`: it ran to the end). A stopped
    /// run judges no service and fails its scenario.
    pub stopped: Option<String>,
    pub rto_s: Option<f64>,
    pub rpo_s: f64,
    pub first_success_rto_s: Option<f64>,
    pub detected_s: Option<f64>,
    pub promoted_s: Option<f64>,
    pub first_success_s: Option<f64>,
    /// The operations response, T+ the first fault.
    pub response: ResponseTimes,
    pub writes: WriteCounts,
    pub lost_acked_after_fault: u64,
    pub events: u64,
    pub trace_hash: String,
    pub passed: bool,
    pub services: Vec<RunService>,
}

/// One service's figures over all runs, against its own targets.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub datastore: String,
    pub passed: bool,
    pub targets: Targets,
    pub rto_s: Percentiles,
    pub rpo_s: Percentiles,
    /// Per-run median and 99th-percentile response times, over the runs.
    pub latency_p50_s: Percentiles,
    pub latency_p99_s: Percentiles,
    /// Outages over all runs, and the runs that had at least one.
    pub outages: u64,
    pub runs_with_outages: u32,
    /// Runs stopped by a bound, in which the service was not judged.
    pub not_judged_runs: u32,
    /// Summed over all runs.
    pub writes: WriteCounts,
    /// Acknowledged writes that cannot be read back, by cause, summed over all runs: what
    /// separates an infrastructure failure (replication's promise) from a split brain, a
    /// logical corruption (backups') and data merely out of reach.
    pub lost_by_cause: LostByCause,
    /// How often the RTO target was met, and the RPO target (for RPO 0: nothing lost).
    pub rto_met: Odds,
    pub rpo_met: Odds,
    /// Runs in which no acknowledged write was lost.
    pub no_loss_runs: u32,
    /// The first run's success ratio over time.
    pub series: Option<ServiceSeries>,
    #[serde(skip)]
    pub samples: Samples,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LostByCause {
    /// Lost with machines: an asynchronous primary's unshipped tail.
    pub infrastructure: u64,
    /// Acknowledged by a deposed or cut-off primary, discarded when histories reconciled.
    pub split_brain: u64,
    /// Rewound when an operator promoted a standby that lacked them.
    pub manual_failover: u64,
    /// Discarded by restoring a backup after a logical corruption.
    pub restore: u64,
    /// Destroyed by a logical corruption still in the data.
    pub corruption: u64,
    /// At risk: only on machines that were down at the end (not counted in `acked_lost`).
    pub unreachable: u64,
}

impl LostByCause {
    fn add(&mut self, l: &Losses) {
        self.infrastructure += l.by(LossCause::Infrastructure);
        self.split_brain += l.by(LossCause::SplitBrain);
        self.manual_failover += l.by(LossCause::ManualFailover);
        self.restore += l.by(LossCause::Restore);
        self.corruption += l.by(LossCause::Corruption);
        self.unreachable += l.by(LossCause::Unreachable);
    }

    /// One phrase naming the causes, e.g. "1,234 discarded by restoring a backup (logical
    /// corruption)"; empty when nothing was lost or put at risk.
    pub fn describe(&self) -> String {
        let phrases = [
            (
                self.infrastructure,
                "lost with machines (infrastructure failure)",
            ),
            (
                self.split_brain,
                "discarded after a split brain (divergent history)",
            ),
            (
                self.manual_failover,
                "rewound by a manual failover (the operator promoted a standby that lacked them)",
            ),
            (
                self.restore,
                "discarded by restoring a backup (logical corruption)",
            ),
            (self.corruption, "destroyed by a corruption never repaired"),
            (
                self.unreachable,
                "at risk on stopped machines (unreachable)",
            ),
        ];
        phrases
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub description: String,
    pub topology: String,
    pub passed: bool,
    /// Runs stopped by a bound before the scenario's end (each fails the scenario).
    pub incomplete_runs: u32,
    pub targets: Targets,
    pub rto_s: Percentiles,
    pub rpo_s: Percentiles,
    /// RW1's `rto`: first acknowledged operation after the fault, minus the fault time.
    pub first_success_rto_s: Percentiles,
    /// Summed over all runs.
    pub writes: WriteCounts,
    pub safety_violations: Vec<String>,
    /// Per service with a workload: RTO and RPO against the service's own targets. The
    /// scenario's `rto_s`/`rpo_s` above are the worst service's.
    pub services: Vec<ServiceReport>,
    /// Summed over all runs.
    pub events: u64,
    /// The first run's trace hash with one run; a hash of every run's hash in order otherwise.
    pub trace_hash: String,
    pub seed: u64,
    pub runs: u32,
    pub per_run: Vec<RunSummary>,
    pub timeline: Vec<TimelineEntry>,
    /// Why the scenario failed, one line per missed target.
    pub failures: Vec<String>,
    /// The gates judged over all runs (each service's targets when the scenario has none).
    pub gates: Vec<GateResult>,
    /// The first run's replication lag per datastore and member.
    pub replication_lag: Vec<crate::run::judge::DatastoreLag>,
    /// The incident response over the runs (all `null` without monitoring).
    pub response: ResponsePercentiles,
    /// The scenario's targets for the response's steps, T+ in seconds (`null`: none).
    pub response_targets: ResponseTimes,
}

#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    pub seed: u64,
    pub runs: u32,
    pub scenarios: Vec<ScenarioReport>,
}

impl SuiteReport {
    pub fn passed(&self) -> bool {
        self.scenarios.iter().all(|s| s.passed)
    }
}

/// Why a service misses its RPO target in a run, if it does: data lost beyond the target,
/// any loss against a target of 0, or (unless the scenario says otherwise) data at risk.
pub fn rpo_miss(s: &Scenario, sv: &ServiceResult) -> Option<String> {
    let target = s.service_targets[sv.service].1;
    let (rpo, lost) = (sv.rpo(), sv.losses.count());
    let risk = sv.losses.at_risk();
    let risk_span = sv.losses.at_risk_span().round_to_millis();
    if rpo > target {
        Some(format!("RPO {} > target {target}", rpo.round_to_millis()))
    } else if target.is_zero() && lost > 0 {
        Some(format!("{lost} acknowledged writes lost (target RPO 0)"))
    } else if s.at_risk_is_lost && risk > 0 && (target.is_zero() || risk_span > target) {
        Some(format!(
            "{risk} acknowledged writes at risk on stopped machines, spanning {risk_span} (target RPO {target})"
        ))
    } else {
        None
    }
}

/// Why a service misses its RTO target in a run, if it does.
fn rto_miss(s: &Scenario, sv: &ServiceResult) -> Option<String> {
    let target = s.service_targets[sv.service].0;
    match (sv.status(), sv.rto()) {
        (Status::NotJudged, _) => Some("not judged: the run stopped early".to_string()),
        (_, None) => Some(format!("not recovered (target RTO {target})")),
        (_, Some(rto)) if rto > target => {
            Some(format!("RTO {} > target {target}", rto.round_to_millis()))
        }
        _ => None,
    }
}

/// Why run `r` failed, one line each, with the service a line is about (`None`: the run as a
/// whole, such as a safety violation or a stop before the end).
fn run_failures(topo: &Topology, r: &RunResult, s: &Scenario) -> Vec<(Option<usize>, String)> {
    let mut why = Vec::new();
    if let Some(reason) = r.incomplete() {
        why.push((None, format!("seed {}: not judged: {reason}", r.seed)));
    }
    for sv in &r.services {
        let name = &topo.services[sv.service].name;
        let mut mine: Vec<String> = [rto_miss(s, sv)].into_iter().flatten().collect();
        if sv.judged
            && let Some(mut m) = rpo_miss(s, sv)
        {
            if sv.losses.count() > 0 {
                let mut by = LostByCause::default();
                by.add(&sv.losses);
                m.push_str(&format!(": {}", by.describe()));
            }
            mine.push(m);
        }
        why.extend(
            mine.into_iter()
                .map(|m| (Some(sv.service), format!("seed {}: {name}: {m}", r.seed))),
        );
    }
    for v in &r.safety_violations {
        why.push((None, format!("seed {}: safety: {v}", r.seed)));
    }
    why.extend(response_misses(s, r).into_iter().map(|m| (None, m)));
    why
}

/// The response steps of a run with a fault users saw that came later than their targets, or
/// never.
fn response_misses(s: &Scenario, r: &RunResult) -> Vec<String> {
    if !needs_response(r) {
        return Vec::new();
    }
    let targets = s.response_targets.by_step;
    let steps = RESPONSE_STEPS.iter().zip(STEP_READINGS).zip(targets);
    steps
        .filter_map(|((step, (done, milestone)), target)| {
            let target = target?;
            let (seed, by) = (r.seed, target.human());
            match t_plus(r, milestone) {
                None => Some(format!(
                    "seed {seed}: response: never {done} (target T+{by})"
                )),
                Some(at) if at > target => {
                    let at = super::markdown::duration(at.as_secs_f64());
                    Some(format!(
                        "seed {seed}: response: {done} at T+{at}, after its {step} target T+{by}"
                    ))
                }
                Some(_) => None,
            }
        })
        .collect()
}

fn secs(d: Option<SimDuration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// One service of one run, for the JSON.
fn run_service(topo: &Topology, s: &Scenario, sv: &ServiceResult) -> RunService {
    let outages = sv
        .outages
        .iter()
        .map(|o| OutageReport {
            start_s: o.start.as_secs_f64(),
            end_s: o.end.map(|e| e.as_secs_f64()),
            duration_s: secs(o.duration()),
            last_failure_s: o.last_failure.as_secs_f64(),
            causes: cause_phrases(s, o),
            failed_ops: o.bad_ops,
            latency: o.latency,
        })
        .collect();
    let losses = sv
        .losses
        .windows
        .iter()
        .map(|w| LossReport {
            cause: w.cause,
            count: w.count,
            from_s: w.earliest_sent.as_secs_f64(),
            to_s: w.latest_sent.as_secs_f64(),
            window_s: w.span().as_secs_f64(),
        })
        .collect();
    RunService {
        name: topo.services[sv.service].name.clone(),
        status: sv.status(),
        rto_s: secs(sv.rto()),
        rpo_s: sv.rpo().as_secs_f64(),
        at_risk: sv.losses.at_risk(),
        at_risk_s: sv.losses.at_risk_span().as_secs_f64(),
        first_success_s: sv.first_success.map(|t| t.as_secs_f64()),
        writes: sv.writes,
        latency: sv.latency,
        outages,
        losses,
    }
}

/// Per-service figures over all runs.
fn services(
    topo: &Topology,
    s: &Scenario,
    runs: &[RunResult],
    failures: &[(Option<usize>, String)],
) -> Vec<ServiceReport> {
    let mut out = Vec::new();
    for k in 0..topo.services.len() {
        let mine: Vec<&ServiceResult> = runs
            .iter()
            .filter_map(|r| r.services.iter().find(|x| x.service == k))
            .collect();
        if mine.is_empty() {
            continue;
        }
        out.push(service_report(topo, s, k, &mine, failures));
    }
    out
}

/// One service's figures over the runs that judged it (`mine`: one result per run).
fn service_report(
    topo: &Topology,
    s: &Scenario,
    k: usize,
    mine: &[&ServiceResult],
    failures: &[(Option<usize>, String)],
) -> ServiceReport {
    let info = &topo.services[k];
    let mut writes = WriteCounts::default();
    let mut lost_by_cause = LostByCause::default();
    for x in mine {
        writes.merge(&x.writes);
        lost_by_cause.add(&x.losses);
    }
    let (rto_target, rpo_target) = s.service_targets[k];
    let rtos: Vec<Option<SimDuration>> = mine.iter().map(|x| x.rto()).collect();
    let rpos: Vec<Option<SimDuration>> = mine.iter().map(|x| x.judged.then(|| x.rpo())).collect();
    let samples = Samples {
        rto_s: rtos.iter().map(|d| secs(*d)).collect(),
        rpo_s: rpos.iter().map(|d| secs(*d)).collect(),
    };
    let n = mine.len() as u32;
    let rto_met = mine.iter().filter(|x| rto_miss(s, x).is_none()).count() as u32;
    let rpo_met = mine
        .iter()
        .filter(|x| x.judged && rpo_miss(s, x).is_none())
        .count() as u32;
    let latency = |f: fn(&LatencyStats) -> f64| {
        let v: Vec<Option<SimDuration>> = mine
            .iter()
            .filter_map(|x| x.latency.as_ref())
            .map(|l| Some(SimDuration((f(l) * 1e9).round() as u64)))
            .collect();
        Percentiles::of(&v)
    };
    let series = mine
        .first()
        .and_then(|x| x.series.as_ref())
        .map(|ss| ServiceSeries {
            resolution_s: ss.resolution.as_secs_f64(),
            ok: ss.ok.clone(),
            failed: ss.failed.clone(),
        });
    ServiceReport {
        name: info.name.clone(),
        datastore: backing(topo, info),
        passed: !failures.iter().any(|(service, _)| *service == Some(k)),
        targets: Targets {
            rto_s: rto_target.as_secs_f64(),
            rpo_s: rpo_target.as_secs_f64(),
        },
        rto_s: Percentiles::of(&rtos),
        rpo_s: Percentiles::of(&rpos),
        latency_p50_s: latency(|l| l.p50_s),
        latency_p99_s: latency(|l| l.p99_s),
        outages: mine.iter().map(|x| x.outages.len() as u64).sum(),
        runs_with_outages: mine.iter().filter(|x| !x.outages.is_empty()).count() as u32,
        not_judged_runs: mine.iter().filter(|x| !x.judged).count() as u32,
        writes,
        lost_by_cause,
        rto_met: Odds::of(rto_met, n),
        rpo_met: Odds::of(rpo_met, n),
        no_loss_runs: mine
            .iter()
            .filter(|x| x.judged && x.losses.count() == 0)
            .count() as u32,
        series,
        samples,
    }
}

/// What backs a service: its datastore, CDN, RPC group or static site.
fn backing(topo: &Topology, info: &crate::model::topology::ServiceInfo) -> String {
    match (info.datastore, info.cdn, info.rpc) {
        (Some(d), _, _) => topo.datastores[d].name.clone(),
        (None, Some(c), _) => format!("cdn {}", topo.cdns[c].name),
        (None, None, Some(r)) => format!("rpc {}", topo.rpcs[r].name),
        (None, None, None) => "static site".to_string(),
    }
}

fn run_summary(topo: &Topology, s: &Scenario, r: &RunResult, passed: bool) -> RunSummary {
    RunSummary {
        seed: r.seed,
        stopped: r.incomplete(),
        rto_s: secs(r.rto()),
        rpo_s: r.rpo().as_secs_f64(),
        first_success_rto_s: secs(r.first_success_rto()),
        detected_s: r.detected.map(|t| t.as_secs_f64()),
        promoted_s: r.promoted.map(|t| t.as_secs_f64()),
        first_success_s: r.first_success.map(|t| t.as_secs_f64()),
        response: ResponseTimes::of(r),
        writes: r.writes,
        lost_acked_after_fault: r.losses.acked_after_t0,
        events: r.events,
        trace_hash: format!("{:016x}", r.trace_hash),
        passed,
        services: r
            .services
            .iter()
            .map(|sv| run_service(topo, s, sv))
            .collect(),
    }
}

/// With gates, they decide for each service: a single run missing a target is a statistic,
/// not a failure. Run-level failures (safety, a run stopped early) always count.
fn gated_failures(
    gates: &[GateResult],
    services: &mut [ServiceReport],
    failures: Vec<(Option<usize>, String)>,
) -> Vec<String> {
    for sv in services.iter_mut() {
        sv.passed = sv.not_judged_runs == 0
            && gates
                .iter()
                .filter(|g| g.service == sv.name)
                .all(|g| g.passed);
    }
    // Response gates are scenario-level (no service): the runs' own lines below say more.
    let mut f: Vec<String> = gates
        .iter()
        .filter(|g| !g.passed && !g.service.is_empty())
        .map(|g| format!("gate {}: {}", g.name, g.measured))
        .collect();
    f.extend(
        failures
            .into_iter()
            .filter(|(service, _)| service.is_none())
            .map(|(_, line)| line),
    );
    f
}

pub fn summarize(
    topo: &Topology,
    s: &Scenario,
    master_seed: u64,
    runs: &[RunResult],
) -> ScenarioReport {
    let mut failures = Vec::new();
    let mut per_run = Vec::new();
    let mut writes = WriteCounts::default();
    let mut violations: Vec<String> = Vec::new();
    for r in runs {
        let why = run_failures(topo, r, s);
        per_run.push(run_summary(topo, s, r, why.is_empty()));
        failures.extend(why);
        writes.merge(&r.writes);
        for v in &r.safety_violations {
            if !violations.contains(v) {
                violations.push(v.clone());
            }
        }
    }
    let trace_hash = match runs {
        [one] => one.trace_hash,
        many => many.iter().fold(0u64, |h, r| mix64(h ^ r.trace_hash)),
    };
    let mut services = services(topo, s, runs, &failures);
    let mut gates = gate_results(s, &services, topo);
    gates.extend(response_gates(s, runs));
    let failures: Vec<String> = if s.gates.is_empty() {
        failures.into_iter().map(|(_, f)| f).collect()
    } else {
        gated_failures(&gates, &mut services, failures)
    };
    ScenarioReport {
        name: s.name.clone(),
        description: s.description.clone(),
        topology: topo.name.clone(),
        passed: failures.is_empty(),
        incomplete_runs: runs.iter().filter(|r| r.incomplete().is_some()).count() as u32,
        targets: Targets {
            rto_s: s.rto_target.as_secs_f64(),
            rpo_s: s.rpo_target.as_secs_f64(),
        },
        rto_s: Percentiles::of(&runs.iter().map(|r| r.rto()).collect::<Vec<_>>()),
        rpo_s: Percentiles::of(&runs.iter().map(|r| Some(r.rpo())).collect::<Vec<_>>()),
        first_success_rto_s: Percentiles::of(
            &runs
                .iter()
                .map(|r| r.first_success_rto())
                .collect::<Vec<_>>(),
        ),
        writes,
        safety_violations: violations,
        services,
        events: runs.iter().map(|r| r.events).sum(),
        trace_hash: format!("{trace_hash:016x}"),
        seed: master_seed,
        runs: runs.len() as u32,
        per_run,
        timeline: runs.first().map(|r| r.timeline.clone()).unwrap_or_default(),
        failures,
        gates,
        replication_lag: runs
            .first()
            .and_then(|r| r.replication_lag.clone())
            .unwrap_or_default(),
        response: ResponsePercentiles::of(runs),
        response_targets: response_targets(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> Option<SimDuration> {
        Some(SimDuration::from_secs(x))
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<_> = (1..=100).map(s).collect();
        let p = Percentiles::of(&v);
        assert_eq!(
            (p.p50, p.p95, p.p99, p.max),
            (Some(50.0), Some(95.0), Some(99.0), Some(100.0))
        );
        let one = Percentiles::of(&[s(7)]);
        assert_eq!((one.p50, one.max), (Some(7.0), Some(7.0)));
    }

    #[test]
    fn not_recovered_is_the_worst_value() {
        let p = Percentiles::of(&[s(1), None, s(3), s(2)]);
        assert_eq!(p.p50, Some(2.0));
        assert_eq!(p.max, None);
    }

    #[test]
    fn percentiles_use_the_nearest_rank_and_put_not_recovered_last() {
        let secs = |v: &[u64]| -> Vec<Option<SimDuration>> {
            v.iter().map(|&x| Some(SimDuration::from_secs(x))).collect()
        };
        // 1..=100: nearest rank p50 = 50, p90 = 90, p95 = 95, p99 = 99.
        let p = Percentiles::of(&secs(&(1..=100).collect::<Vec<_>>()));
        assert_eq!(
            (p.p50, p.p90, p.p95, p.p99, p.max),
            (Some(50.0), Some(90.0), Some(95.0), Some(99.0), Some(100.0))
        );
        // One "not recovered" in ten makes p95 and the max not recovered, not p90.
        let mut v = secs(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        v.push(None);
        let p = Percentiles::of(&v);
        assert_eq!(
            (p.p50, p.p90, p.p95, p.max),
            (Some(5.0), Some(9.0), None, None)
        );
        assert_eq!(Percentiles::of(&[]).max, None);
    }

    #[test]
    fn wilson_intervals_match_published_values() {
        // 8 of 8: p = 1, interval [0.676, 1] (Wilson 1927; e.g. Newcombe 1998, table I).
        let o = Odds::of(8, 8);
        assert_eq!(o.p, 1.0);
        assert!((o.lo - 0.6756).abs() < 1e-3, "{o:?}");
        assert_eq!(o.hi, 1.0);
        // 81 of 263 (Newcombe's example): [0.2553, 0.3662].
        let o = Odds::of(81, 263);
        assert!(
            (o.lo - 0.2553).abs() < 1e-3 && (o.hi - 0.3662).abs() < 1e-3,
            "{o:?}"
        );
        // 0 of 10: [0, 0.2775].
        let o = Odds::of(0, 10);
        assert!(o.lo == 0.0 && (o.hi - 0.2775).abs() < 1e-3, "{o:?}");
    }
}

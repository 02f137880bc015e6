//! Aggregating runs into the per-scenario result that every view renders.

use crate::measure::outcome::WriteCounts;
use crate::model::scenario::{Gate, Scenario};
use crate::model::topology::Topology;
use crate::run::{RunResult, TimelineEntry};
use crate::sim::rng::mix64;
use crate::sim::time::SimDuration;
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
    pub rpo_s: Vec<f64>,
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
        Some(x) => SimDuration((x * 1e9).round() as u64).to_string(),
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

/// Judges the scenario's gates, or without gates each service's targets in every run.
fn gate_results(s: &Scenario, services: &[ServiceReport], topo: &Topology) -> Vec<GateResult> {
    let mut out = Vec::new();
    if s.gates.is_empty() {
        for sv in services {
            let k = topo.service(&sv.name).expect("a reported service exists");
            let (rto_t, rpo_t) = s.service_targets[k];
            out.push(GateResult {
                name: format!("{}: RTO ≤ {rto_t} in every run", sv.name),
                service: sv.name.clone(),
                passed: sv.rto_met.met == sv.rto_met.runs,
                measured: format!(
                    "max RTO {}; met in {}",
                    secs_text(sv.rto_s.max),
                    odds_text(&sv.rto_met)
                ),
            });
            let what = if rpo_t.is_zero() {
                "no acknowledged write lost".to_string()
            } else {
                format!("RPO ≤ {rpo_t}")
            };
            out.push(GateResult {
                name: format!("{}: {what} in every run", sv.name),
                service: sv.name.clone(),
                passed: sv.rpo_met.met == sv.rpo_met.runs,
                measured: format!(
                    "max RPO {}, {} acknowledged writes lost; met in {}",
                    secs_text(sv.rpo_s.max),
                    sv.writes.acked_lost,
                    odds_text(&sv.rpo_met)
                ),
            });
        }
        return out;
    }
    for &(gate, service) in &s.gates {
        for sv in services {
            if service.is_some_and(|k| topo.services[k].name != sv.name) {
                continue;
            }
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
                    let all: Vec<Option<f64>> = sv.samples.rpo_s.iter().map(|&x| Some(x)).collect();
                    let v = nearest_rank(&all, p).flatten();
                    (
                        format!("{}: p{p} RPO ≤ {within}", sv.name),
                        v.is_some_and(|x| x <= within.as_secs_f64()),
                        format!("p{p} RPO {} over {n} runs", secs_text(v)),
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
            out.push(GateResult {
                name,
                service: sv.name.clone(),
                passed,
                measured,
            });
        }
    }
    out
}

#[derive(Clone, Debug, Serialize)]
pub struct Targets {
    pub rto_s: f64,
    pub rpo_s: f64,
}

/// One run's headline figures (all runs are listed; the timeline is the first run's).
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub seed: u64,
    pub rto_s: Option<f64>,
    pub rpo_s: f64,
    pub first_success_rto_s: Option<f64>,
    pub detected_s: Option<f64>,
    pub promoted_s: Option<f64>,
    pub first_success_s: Option<f64>,
    pub writes: WriteCounts,
    pub lost_acked_after_fault: u64,
    pub events: u64,
    pub trace_hash: String,
    pub passed: bool,
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
    /// Summed over all runs.
    pub writes: WriteCounts,
    /// Lost acknowledged writes by cause, summed over all runs: what separates an
    /// infrastructure failure (replication's promise) from a logical corruption (backups').
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
    /// Lost with machines: asynchronous failover, split brain.
    pub infrastructure: u64,
    /// Discarded by restoring a backup after a logical corruption.
    pub restore: u64,
    /// Destroyed by a logical corruption still in the data.
    pub corruption: u64,
}

impl LostByCause {
    fn add(&mut self, l: &crate::measure::durability::LostWrites) {
        self.infrastructure += l.by_infrastructure();
        self.restore += l.by_restore;
        self.corruption += l.by_corruption;
    }

    /// One phrase naming the causes, e.g. "1,234 discarded by the restore (logical
    /// corruption)"; empty when nothing was lost.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.infrastructure > 0 {
            parts.push(format!(
                "{} lost with machines (infrastructure failure)",
                self.infrastructure
            ));
        }
        if self.restore > 0 {
            parts.push(format!(
                "{} discarded by restoring a backup (logical corruption)",
                self.restore
            ));
        }
        if self.corruption > 0 {
            parts.push(format!(
                "{} destroyed by a corruption never repaired",
                self.corruption
            ));
        }
        parts.join(", ")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub description: String,
    pub topology: String,
    pub passed: bool,
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

/// Why run `r` failed, one line each, with the service a line is about (`None`: the run as a
/// whole, such as a safety violation).
fn run_failures(topo: &Topology, r: &RunResult, s: &Scenario) -> Vec<(Option<usize>, String)> {
    let mut why = Vec::new();
    for sv in &r.services {
        let mut mine = Vec::new();
        let name = &topo.services[sv.service].name;
        let (rto_target, rpo_target) = s.service_targets[sv.service];
        match sv.rto(r.t0) {
            None => mine.push(format!(
                "seed {}: {name}: not recovered (target RTO {rto_target})",
                r.seed
            )),
            Some(rto) if rto > rto_target => mine.push(format!(
                "seed {}: {name}: RTO {rto} > target {rto_target}",
                r.seed
            )),
            _ => {}
        }
        let rpo = sv.lost.rpo(r.t0);
        if rpo > rpo_target {
            mine.push(format!(
                "seed {}: {name}: RPO {rpo} > target {rpo_target}",
                r.seed
            ));
        } else if rpo_target.is_zero() && sv.lost.count > 0 {
            mine.push(format!(
                "seed {}: {name}: {} acknowledged writes lost (target RPO 0)",
                r.seed, sv.lost.count
            ));
        }
        if sv.lost.count > 0
            && let Some(last) = mine.last_mut()
        {
            let mut by = LostByCause::default();
            by.add(&sv.lost);
            last.push_str(&format!(": {}", by.describe()));
        }
        why.extend(mine.into_iter().map(|m| (Some(sv.service), m)));
    }
    for v in &r.safety_violations {
        why.push((None, format!("seed {}: safety: {v}", r.seed)));
    }
    why
}

/// Per-service figures over all runs.
fn services(
    topo: &Topology,
    s: &Scenario,
    runs: &[RunResult],
    failures: &[(Option<usize>, String)],
) -> Vec<ServiceReport> {
    let mut out = Vec::new();
    for (k, info) in topo.services.iter().enumerate() {
        let mine: Vec<_> = runs
            .iter()
            .filter_map(|r| r.services.iter().find(|x| x.service == k).map(|x| (r, x)))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut writes = WriteCounts::default();
        let mut lost_by_cause = LostByCause::default();
        for (_, x) in &mine {
            writes.merge(&x.writes);
            lost_by_cause.add(&x.lost);
        }
        let (rto_target, rpo_target) = s.service_targets[k];
        let samples = Samples {
            rto_s: mine
                .iter()
                .map(|(r, x)| x.rto(r.t0).map(|d| d.as_secs_f64()))
                .collect(),
            rpo_s: mine
                .iter()
                .map(|(r, x)| x.lost.rpo(r.t0).as_secs_f64())
                .collect(),
        };
        let n = mine.len() as u32;
        let rto_met = mine
            .iter()
            .filter(|(r, x)| x.rto(r.t0).is_some_and(|d| d <= rto_target))
            .count() as u32;
        let rpo_met = mine
            .iter()
            .filter(|(r, x)| {
                x.lost.rpo(r.t0) <= rpo_target && !(rpo_target.is_zero() && x.lost.count > 0)
            })
            .count() as u32;
        let series = mine
            .first()
            .and_then(|(_, x)| x.series.as_ref())
            .map(|ss| ServiceSeries {
                resolution_s: ss.resolution.as_secs_f64(),
                ok: ss.ok.clone(),
                failed: ss.failed.clone(),
            });
        out.push(ServiceReport {
            name: info.name.clone(),
            datastore: match (info.datastore, info.cdn, info.rpc) {
                (Some(d), _, _) => topo.datastores[d].name.clone(),
                (None, Some(c), _) => format!("cdn {}", topo.cdns[c].name),
                (None, None, Some(r)) => format!("rpc {}", topo.rpcs[r].name),
                (None, None, None) => "static site".to_string(),
            },
            passed: !failures.iter().any(|(service, _)| *service == Some(k)),
            targets: Targets {
                rto_s: rto_target.as_secs_f64(),
                rpo_s: rpo_target.as_secs_f64(),
            },
            rto_s: Percentiles::of(&mine.iter().map(|(r, x)| x.rto(r.t0)).collect::<Vec<_>>()),
            rpo_s: Percentiles::of(
                &mine
                    .iter()
                    .map(|(r, x)| Some(x.lost.rpo(r.t0)))
                    .collect::<Vec<_>>(),
            ),
            writes,
            lost_by_cause,
            rto_met: Odds::of(rto_met, n),
            rpo_met: Odds::of(rpo_met, n),
            no_loss_runs: mine.iter().filter(|(_, x)| x.lost.count == 0).count() as u32,
            series,
            samples,
        });
    }
    out
}

pub fn summarize(
    topo: &Topology,
    s: &Scenario,
    master_seed: u64,
    runs: &[RunResult],
) -> ScenarioReport {
    let secs = |d: Option<SimDuration>| d.map(|d| d.as_secs_f64());
    let mut failures = Vec::new();
    let mut per_run = Vec::new();
    let mut writes = WriteCounts::default();
    let mut violations: Vec<String> = Vec::new();
    for r in runs {
        let why = run_failures(topo, r, s);
        per_run.push(RunSummary {
            seed: r.seed,
            rto_s: secs(r.rto()),
            rpo_s: r.rpo().as_secs_f64(),
            first_success_rto_s: secs(r.first_success_rto()),
            detected_s: r.detected.map(|t| t.as_secs_f64()),
            promoted_s: r.promoted.map(|t| t.as_secs_f64()),
            first_success_s: r.first_success.map(|t| t.as_secs_f64()),
            writes: r.writes,
            lost_acked_after_fault: r.lost.acked_after_t0,
            events: r.events,
            trace_hash: format!("{:016x}", r.trace_hash),
            passed: why.is_empty(),
        });
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
    let gates = gate_results(s, &services, topo);
    // With gates, they decide: a single run missing a target is a statistic, not a failure.
    let failures: Vec<String> = if s.gates.is_empty() {
        failures.into_iter().map(|(_, f)| f).collect()
    } else {
        for sv in &mut services {
            sv.passed = gates
                .iter()
                .filter(|g| g.service == sv.name)
                .all(|g| g.passed);
        }
        let mut f: Vec<String> = gates
            .iter()
            .filter(|g| !g.passed)
            .map(|g| format!("gate {}: {}", g.name, g.measured))
            .collect();
        f.extend(
            failures
                .into_iter()
                .filter(|(service, _)| service.is_none())
                .map(|(_, line)| line),
        );
        f
    };
    ScenarioReport {
        name: s.name.clone(),
        description: s.description.clone(),
        topology: topo.name.clone(),
        passed: failures.is_empty(),
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

//! Aggregating runs into the per-scenario result that every view renders.

use crate::measure::outcome::WriteCounts;
use crate::model::scenario::Scenario;
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
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Percentiles {
    /// `values` with `None` meaning "worse than any number" (not recovered).
    pub fn of(values: &[Option<SimDuration>]) -> Percentiles {
        let mut v: Vec<Option<SimDuration>> = values.to_vec();
        // None sorts last: it is the worst outcome.
        v.sort_by_key(|x| (x.is_none(), *x));
        let pick = |q: f64| -> Option<f64> {
            if v.is_empty() {
                return None;
            }
            let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
            v[rank - 1].map(|d| d.as_secs_f64())
        };
        Percentiles {
            p50: pick(0.50),
            p95: pick(0.95),
            p99: pick(0.99),
            max: pick(1.0),
        }
    }
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
    pub wall_seconds: f64,
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
            wall_seconds: r.wall_seconds,
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
    let services = services(topo, s, runs, &failures);
    let failures: Vec<String> = failures.into_iter().map(|(_, f)| f).collect();
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
}

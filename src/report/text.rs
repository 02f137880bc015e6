//! A plain-text table of a suite's results, for terminals and CI logs.

use super::markdown::never_judged;
use super::summary::{Percentiles, ScenarioReport, ServiceReport, SuiteReport};
use crate::model::scenario::RESPONSE_STEPS;
use std::fmt::Write;

fn dur(s: Option<f64>) -> String {
    match s {
        None => "not recovered".into(),
        // Rounded to tenths before splitting, so that 59.96 s past a minute reads as the next
        // minute, not as "60.0s".
        Some(x) if x >= 60.0 => {
            let tenths = (x * 10.0).round() as u64;
            format!("{}m{:04.1}s", tenths / 600, (tenths % 600) as f64 / 10.0)
        }
        Some(x) => format!("{x:.3}s"),
    }
}

/// A service's figure, or "not judged" when no run judged it.
fn sp(sv: &ServiceReport, x: &Percentiles) -> String {
    if never_judged(sv) {
        "not judged".into()
    } else {
        p(x)
    }
}

fn p(p: &Percentiles) -> String {
    if p.p50 == p.max {
        dur(p.max)
    } else {
        format!("{} (p50 {})", dur(p.max), dur(p.p50))
    }
}

/// The whole table: a row per scenario, a row per service, then each scenario's timeline.
pub fn render(report: &SuiteReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:<12} {:>26} {:>9} {:>22} {:>8} {:>24} {:>6} {:>7}  result",
        "scenario",
        "topology",
        "RTO (max)",
        "target",
        "RPO (max)",
        "target",
        "writes acked/sent",
        "lost",
        "safety"
    );
    for s in &report.scenarios {
        scenario_row(&mut out, s);
        if let Some(why) = s.per_run.iter().find_map(|r| r.stopped.as_deref()) {
            let _ = writeln!(
                out,
                "{:<24}NOT JUDGED: {} of {} runs stopped early: {why}",
                "", s.incomplete_runs, s.runs
            );
        }
        if s.services.len() > 1 {
            s.services.iter().for_each(|sv| service_row(&mut out, sv));
        }
        response_row(&mut out, s);
    }
    for s in &report.scenarios {
        timeline(&mut out, s);
    }
    out
}

/// The incident response, T+ the first fault (p50 / p95 over the runs), beside the plan's
/// targets, when monitoring alerted in any run or the scenario has response targets: the steps
/// some run reached or a target names.
fn response_row(out: &mut String, s: &ScenarioReport) {
    if !super::markdown::shows_response(s) {
        return;
    }
    let t = |x: Option<f64>| x.map_or("never".to_string(), |x| dur(Some(x)));
    let step = |p: &Percentiles| {
        if p.p50 == p.p95 {
            t(p.p50)
        } else {
            format!("{} / {}", t(p.p50), t(p.p95))
        }
    };
    let targets = s.response_targets.by_step();
    let measured = s.response.steps.by_step();
    let mut cells = Vec::new();
    let mut plan = Vec::new();
    for (k, name) in RESPONSE_STEPS.iter().enumerate() {
        let reached = s.per_run.iter().any(|r| r.response.by_step()[k].is_some());
        if !reached && targets[k].is_none() {
            continue;
        }
        let name = name.replace('_', " ");
        cells.push(format!("{name} {}", step(measured[k])));
        if let Some(by) = targets[k] {
            plan.push(format!("{name} {}", t(Some(*by))));
        }
    }
    let _ = writeln!(
        out,
        "{:<24}response T+ (p50 / p95): {}",
        "",
        cells.join(" · ")
    );
    if !plan.is_empty() {
        let _ = writeln!(
            out,
            "{:<24}plan T+:                 {}",
            "",
            plan.join(" · ")
        );
    }
    if s.response.silent_s.p95.is_some_and(|p| p > 0.0) {
        let _ = writeln!(
            out,
            "{:<24}status page said operational while users failed (p50 / p95): {}",
            "",
            step(&s.response.silent_s)
        );
    }
}

/// A scenario's row: the worst service's figures, summed counts, the verdict.
fn scenario_row(out: &mut String, s: &ScenarioReport) {
    // With per-service targets the scenario row has no single target to show.
    let uniform = s
        .services
        .iter()
        .all(|v| v.targets.rto_s == s.targets.rto_s && v.targets.rpo_s == s.targets.rpo_s);
    let target = |t: f64| {
        if uniform {
            dur(Some(t))
        } else {
            "per svc".to_string()
        }
    };
    let whole = s.incomplete_runs > 0 && s.incomplete_runs == s.runs;
    let judged = |x: &Percentiles| {
        if whole {
            "not judged".to_string()
        } else {
            p(x)
        }
    };
    let _ = writeln!(
        out,
        "{:<22} {:<12} {:>26} {:>9} {:>22} {:>8} {:>24} {:>6} {:>7}  {}",
        s.name,
        s.topology,
        judged(&s.rto_s),
        target(s.targets.rto_s),
        judged(&s.rpo_s),
        target(s.targets.rpo_s),
        format!("{}/{}", s.writes.acked, s.writes.sent),
        s.writes.acked_lost,
        if s.safety_violations.is_empty() {
            "ok".to_string()
        } else {
            format!("{} !!", s.safety_violations.len())
        },
        if s.passed { "PASS" } else { "FAIL" }
    );
}

/// A service's row, and a `lost:` line naming why writes are missing or at risk.
fn service_row(out: &mut String, sv: &ServiceReport) {
    let _ = writeln!(
        out,
        "{:<22} {:<12} {:>26} {:>9} {:>22} {:>8} {:>24} {:>6} {:>7}  {}",
        format!("  · {}", sv.name),
        sv.datastore,
        sp(sv, &sv.rto_s),
        dur(Some(sv.targets.rto_s)),
        sp(sv, &sv.rpo_s),
        dur(Some(sv.targets.rpo_s)),
        format!("{}/{}", sv.writes.acked, sv.writes.sent),
        sv.writes.acked_lost,
        "",
        if sv.passed { "pass" } else { "fail" }
    );
    let causes = sv.lost_by_cause.describe();
    if !causes.is_empty() {
        let _ = writeln!(out, "{:<24}lost: {causes}", "");
    }
}

/// The first run's timeline, its counts, and the first failure lines.
fn timeline(out: &mut String, s: &ScenarioReport) {
    let _ = writeln!(
        out,
        "\n{} — timeline of seed {}:",
        s.name,
        s.per_run.first().map(|r| r.seed).unwrap_or(s.seed)
    );
    for e in &s.timeline {
        let _ = writeln!(
            out,
            "  {:>12.3}s  {:<14} {}",
            e.at_s.as_secs_f64(),
            e.kind,
            e.detail
        );
    }
    if let Some(r) = s.per_run.first() {
        let _ = writeln!(
            out,
            "  events {}  trace {}  writes sent {} acked {} failed {} in flight {} lost {}",
            r.events,
            r.trace_hash,
            r.writes.sent,
            r.writes.acked,
            r.writes.failed,
            r.writes.in_flight,
            r.writes.acked_lost
        );
    }
    for f in s.failures.iter().take(10) {
        let _ = writeln!(out, "  FAILED: {f}");
    }
    if s.failures.len() > 10 {
        let _ = writeln!(out, "  … and {} more", s.failures.len() - 10);
    }
}

#[cfg(test)]
mod tests {
    use super::dur;

    #[test]
    fn durations_over_a_minute_read_as_minutes_and_tenths() {
        assert_eq!(dur(None), "not recovered");
        assert_eq!(dur(Some(35.0)), "35.000s");
        assert_eq!(dur(Some(60.0)), "1m00.0s");
        assert_eq!(dur(Some(1783.0)), "29m43.0s");
        assert_eq!(dur(Some(7199.949718415)), "119m59.9s");
        // Just under a whole minute rounds up to it, never to "60.0s".
        assert_eq!(dur(Some(8399.984681429)), "140m00.0s");
        assert_eq!(dur(Some(119.96)), "2m00.0s");
    }
}

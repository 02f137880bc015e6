//! `summary.md`: a GameDay planner's summary of a suite, to paste into a review document.
//!
//! Also the number formats the other report views share (durations, odds, counts), so that the
//! Markdown, the HTML page and the charts say the same thing in the same words.

use super::summary::{
    GateResult, Odds, OutageReport, Percentiles, ScenarioReport, ServiceReport, SuiteReport,
};
use crate::measure::latency::LatencyStats;
use crate::model::scenario::RESPONSE_STEPS;
use std::fmt::Write;

/// A duration for people: `0`, `253ms`, `8.5s`, `34s`, `15m`, `29m43s`, `2h`, `1h05m20s`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "not recovered".into();
    }
    if secs <= 0.0 {
        return "0".into();
    }
    if secs < 0.001 {
        return format!("{:.0}µs", secs * 1e6);
    }
    if secs < 1.0 {
        let ms = secs * 1000.0;
        return if ms < 10.0 {
            trim(format!("{ms:.1}")) + "ms"
        } else {
            format!("{ms:.0}ms")
        };
    }
    if secs < 60.0 {
        return trim(format!("{secs:.1}")) + "s";
    }
    let total = secs.round() as u64;
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    match (h, m, s) {
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m:02}m"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// "8.0" → "8", "8.5" → "8.5".
fn trim(s: String) -> String {
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

/// An RTO or RPO figure: `None` is "not recovered".
pub fn figure(v: Option<f64>) -> String {
    v.map_or_else(|| "not recovered".into(), duration)
}

/// A time relative to the incident start: `T`, `T+29.7s`, `T-1m`.
pub fn since(rel: f64) -> String {
    if rel.abs() < 0.0005 {
        "T".into()
    } else if rel > 0.0 {
        format!("T+{}", duration(rel))
    } else {
        format!("T-{}", duration(-rel))
    }
}

/// A time into the run, as `h:mm:ss` (tenths when not whole).
pub fn clock(at: f64) -> String {
    let tenths = (at * 10.0).round() as u64;
    let (h, m, s, t) = (
        tenths / 36000,
        tenths % 36000 / 600,
        tenths % 600 / 10,
        tenths % 10,
    );
    if t == 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}.{t}")
    }
}

/// A whole percentage, never rounding a miss up to 100 % or a hit down to 0 %.
pub fn percent(p: f64) -> String {
    let r = (p * 100.0).round();
    let r = if r >= 100.0 && p < 1.0 {
        99.0
    } else if r <= 0.0 && p > 0.0 {
        1.0
    } else {
        r
    };
    format!("{r:.0}%")
}

/// `100% (8/8; 95% CI 68–100%)`.
pub fn odds(o: &Odds) -> String {
    format!(
        "{} ({}/{}; 95% CI {}–{})",
        percent(o.p),
        o.met,
        o.runs,
        percent(o.lo).trim_end_matches('%'),
        percent(o.hi)
    )
}

/// `p99 1.2s` of a set of response times, or `–` when none were measured.
pub fn p99(l: &Option<LatencyStats>) -> String {
    l.map_or_else(|| "–".into(), |l| duration(l.p99_s))
}

/// One outage of the first run, in words, for the report tables.
pub struct OutageRow {
    pub service: String,
    pub start: String,
    pub end: String,
    pub duration: String,
    pub causes: String,
    /// p99 response time before, during and after.
    pub latency: [String; 3],
}

/// The first run's outages, every service's, in time order.
pub fn outage_rows(s: &ScenarioReport) -> Vec<OutageRow> {
    let t0 = incident_start(s);
    let Some(run) = s.per_run.first() else {
        return Vec::new();
    };
    let mut all: Vec<(&str, &OutageReport)> = run
        .services
        .iter()
        .flat_map(|sv| sv.outages.iter().map(move |o| (sv.name.as_str(), o)))
        .collect();
    all.sort_by(|a, b| a.1.start_s.total_cmp(&b.1.start_s));
    all.into_iter()
        .map(|(service, o)| OutageRow {
            service: service.to_string(),
            start: since(o.start_s - t0),
            end: o
                .end_s
                .map_or_else(|| "still down at the end".into(), |e| since(e - t0)),
            duration: figure(o.duration_s),
            causes: if o.causes.is_empty() {
                "no fault".into()
            } else {
                o.causes.join("; ")
            },
            latency: [
                p99(&o.latency.before),
                p99(&o.latency.during),
                p99(&o.latency.after),
            ],
        })
        .collect()
}

/// One step of the incident response over the runs, against the plan's target for it.
pub struct ResponseRow {
    pub step: String,
    pub p50: String,
    pub p95: String,
    /// The target (`—`: none).
    pub plan: String,
    /// How the runs fared against it (empty without a target).
    pub verdict: String,
    pub met: bool,
}

/// Whether the scenario has an incident response to show: something alerted in some run, or
/// the scenario holds the response to targets (then "never" is the finding).
pub fn shows_response(s: &ScenarioReport) -> bool {
    let alerted = s.per_run.iter().any(|r| r.response.alert_s.is_some());
    alerted || s.response_targets.by_step().iter().any(|t| t.is_some())
}

/// The response's steps some run reached or a target names, in the plan's order; none when
/// there is nothing to show. Targets are judged, as the gates judge them, over the runs in
/// which users saw an outage (`restored` after T+0, or never).
pub fn response_rows(s: &ScenarioReport) -> Vec<ResponseRow> {
    if !shows_response(s) {
        return Vec::new();
    }
    let targets = s.response_targets.by_step();
    let percentiles = s.response.steps.by_step();
    let at = |x: Option<f64>| x.map_or_else(|| "never".to_string(), since);
    let mut rows = Vec::new();
    for (k, name) in RESPONSE_STEPS.iter().enumerate() {
        let values: Vec<Option<f64>> = s.per_run.iter().map(|r| *r.response.by_step()[k]).collect();
        if values.iter().all(Option::is_none) && targets[k].is_none() {
            continue;
        }
        let judged: Vec<Option<f64>> = s
            .per_run
            .iter()
            .zip(&values)
            .filter(|(r, _)| r.response.restored_s != Some(0.0))
            .map(|(_, v)| *v)
            .collect();
        let (plan, verdict, met) = match targets[k] {
            None => ("—".to_string(), String::new(), true),
            Some(by) if judged.is_empty() => (
                since(*by),
                "not needed: users saw no outage".to_string(),
                true,
            ),
            Some(by) => step_verdict(&judged, *by),
        };
        rows.push(ResponseRow {
            step: name.replace('_', " "),
            p50: at(percentiles[k].p50),
            p95: at(percentiles[k].p95),
            plan,
            verdict,
            met,
        });
    }
    rows
}

/// A step's target as `T+…`, and how many runs reached it late or never, by how much.
fn step_verdict(values: &[Option<f64>], by: f64) -> (String, String, bool) {
    let late: Vec<Option<f64>> = values
        .iter()
        .copied()
        .filter(|v| v.is_none_or(|v| v > by))
        .collect();
    let runs = values.len();
    if late.is_empty() {
        return (
            since(by),
            format!("met in all {runs} run{}", plural(runs as u32)),
            true,
        );
    }
    let worst = if late.iter().any(Option::is_none) {
        "some never reached it".to_string()
    } else {
        let most = late.iter().flatten().fold(0.0_f64, |a, &b| a.max(b));
        format!("late by up to {}", duration(most - by))
    };
    let verdict = format!("missed in {} of {runs}: {worst}", late.len());
    (since(by), verdict, false)
}

/// `1,234,567`.
pub fn count(n: u64) -> String {
    crate::model::cost::thousands(n)
}

/// Timeline kinds worth a line in a summary: the incident and the response, not the routine
/// (health checks, each sentinel's vote, scheduled backups, first successes).
pub fn key_kind(kind: &str) -> bool {
    !matches!(
        kind,
        "health"
            | "first_success"
            | "sdown"
            | "try_failover"
            | "sentinel_leader"
            | "failover_abort"
            | "demoted"
            | "backup"
            | "rerouted"
    )
}

/// The incident start: the first fault, else the start of the run.
pub fn incident_start(s: &ScenarioReport) -> f64 {
    s.timeline
        .iter()
        .filter(|e| e.kind == "fault")
        .map(|e| e.at_s.as_secs_f64())
        .fold(None, |a: Option<f64>, t| Some(a.map_or(t, |a| a.min(t))))
        .unwrap_or(0.0)
}

/// Whether no run judged the service (every run stopped before the scenario's end).
pub fn never_judged(sv: &ServiceReport) -> bool {
    sv.not_judged_runs > 0 && sv.not_judged_runs == sv.rto_met.runs
}

/// An RTO or RPO cell of a service: its figure, or "not judged" when no run judged it.
pub fn service_figure(sv: &ServiceReport, v: Option<f64>) -> String {
    if never_judged(sv) {
        "not judged".into()
    } else {
        figure(v)
    }
}

/// A scenario's headline figure, or "not judged" when no run reached its end.
pub fn scenario_figure(s: &ScenarioReport, v: Option<f64>) -> String {
    if s.incomplete_runs > 0 && s.incomplete_runs == s.runs {
        "not judged".into()
    } else {
        figure(v)
    }
}

/// Why one service missed its targets, in a sentence; `None` when it met them in every run.
pub fn what_broke(sv: &ServiceReport) -> Option<String> {
    if sv.not_judged_runs > 0 {
        return Some(format!(
            "not judged in {} of {} runs: the run stopped before the scenario's end (a bound was reached), so its figures say nothing",
            sv.not_judged_runs, sv.rto_met.runs
        ));
    }
    let mut parts = Vec::new();
    let o = &sv.rto_met;
    if o.met < o.runs {
        let nr = sv.samples.rto_s.iter().filter(|x| x.is_none()).count() as u32;
        let target = duration(sv.targets.rto_s);
        parts.push(if o.runs == 1 {
            match sv.rto_s.max {
                None => format!("not recovered (RTO target {target})"),
                Some(v) => format!("RTO {} > target {target}", duration(v)),
            }
        } else if nr == o.runs {
            format!(
                "not recovered in any of {} runs (RTO target {target})",
                o.runs
            )
        } else {
            let mut p = format!(
                "RTO target {target} missed in {} of {} runs (p50 {}, max {}",
                o.runs - o.met,
                o.runs,
                figure(sv.rto_s.p50),
                figure(sv.rto_s.max)
            );
            if nr > 0 {
                p.push_str(&format!("; {nr} not recovered"));
            }
            p.push(')');
            p
        });
    }
    let o = &sv.rpo_met;
    if o.met < o.runs {
        let target = duration(sv.targets.rpo_s);
        let mut p = if o.runs == 1 {
            format!("RPO {} > target {target}", figure(sv.rpo_s.max))
        } else {
            format!(
                "RPO target {target} missed in {} of {} runs (p50 {}, max {})",
                o.runs - o.met,
                o.runs,
                figure(sv.rpo_s.p50),
                figure(sv.rpo_s.max)
            )
        };
        let causes = sv.lost_by_cause.describe();
        if !causes.is_empty() {
            p.push_str(&format!(": {}", acked_words(&causes)));
        }
        parts.push(p);
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// "953307 discarded by …" → "953,307 acknowledged writes discarded by …".
fn acked_words(causes: &str) -> String {
    causes_words(causes)
        .split(", ")
        .map(|part| match part.split_once(' ') {
            Some((n, rest)) => format!("{n} acknowledged writes {rest}"),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "953307 discarded by …" → "953,307 discarded by …" (numbers grouped for reading).
pub fn causes_words(causes: &str) -> String {
    causes
        .split(", ")
        .map(|part| match part.split_once(' ') {
            Some((n, rest)) => match n.parse::<u64>() {
                Ok(n) => format!("{} {rest}", count(n)),
                Err(_) => part.to_string(),
            },
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `p50 / p90 / p99 / max` cells.
fn pcells(p: &Percentiles) -> String {
    format!(
        "{} | {} | {} | {}",
        figure(p.p50),
        figure(p.p90),
        figure(p.p99),
        figure(p.max)
    )
}

/// Escapes `|` so that free text cannot break a table row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Gates stated in the scenario (`gates`) that a service failed; without stated gates the
/// report lists each target "in every run" as a gate, which [`what_broke`] words better.
fn failed_stated_gates<'a>(s: &'a ScenarioReport, service: &str) -> Vec<&'a GateResult> {
    s.gates
        .iter()
        .filter(|g| g.service == service && !g.passed && !g.name.ends_with(" in every run"))
        .collect()
}

/// Why one service failed, from its stated gates when it has failing ones, else from its
/// targets run by run; `None` when it passed.
fn service_failure(s: &ScenarioReport, sv: &ServiceReport) -> Option<String> {
    if sv.passed {
        return None;
    }
    let gates = failed_stated_gates(s, &sv.name);
    if gates.is_empty() {
        return what_broke(sv).or_else(|| {
            let failed: Vec<String> = s
                .gates
                .iter()
                .filter(|g| g.service == sv.name && !g.passed)
                .map(gate_words)
                .collect();
            (!failed.is_empty()).then(|| failed.join("; "))
        });
    }
    Some(
        gates
            .iter()
            .map(|g| gate_words(g))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// "p99 RTO ≤ 15m00.0s not met: p99 RTO not recovered over 8 runs".
fn gate_words(g: &GateResult) -> String {
    let what = g
        .name
        .strip_prefix(&format!("{}: ", g.service))
        .unwrap_or(&g.name);
    format!("{what} not met ({})", g.measured)
}

/// Every scenario's "what broke the targets" lines, in suite order: `(scenario, line)`.
/// Services of a scenario that failed for the same reason share a line.
pub fn broken(report: &SuiteReport) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in &report.scenarios {
        let mut reasons: Vec<(Vec<&str>, String)> = Vec::new();
        for sv in &s.services {
            if let Some(why) = service_failure(s, sv) {
                match reasons.iter_mut().find(|(_, w)| *w == why) {
                    Some((names, _)) => names.push(&sv.name),
                    None => reasons.push((vec![&sv.name], why)),
                }
            }
        }
        let explained = !reasons.is_empty();
        for (names, why) in reasons {
            out.push((s.name.clone(), format!("{}: {why}", and_list(&names))));
        }
        for v in &s.safety_violations {
            out.push((s.name.clone(), format!("safety violation: {v}")));
        }
        // A failure the per-service figures do not explain (a run-level line) still counts.
        if !s.passed
            && !explained
            && s.safety_violations.is_empty()
            && let Some(first) = s.failures.first()
        {
            out.push((s.name.clone(), first.clone()));
        }
    }
    out
}

/// Text ending as a sentence does.
pub fn sentence(s: &str) -> String {
    let s = s.trim_end();
    if s.ends_with(['.', '!', '?', ')']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The whole `summary.md`.
pub fn render(report: &SuiteReport) -> String {
    let mut out = String::new();
    let n = report.scenarios.len();
    let failed: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| !s.passed)
        .map(|s| s.name.as_str())
        .collect();
    let _ = writeln!(out, "# GameDay report\n");
    let runs: Vec<u32> = report.scenarios.iter().map(|s| s.runs).collect();
    let runs_text = if runs.windows(2).all(|w| w[0] == w[1]) {
        format!(
            "{} run{} each",
            runs.first().copied().unwrap_or(0),
            plural(runs.first().copied().unwrap_or(0))
        )
    } else {
        "runs per scenario below".to_string()
    };
    let _ = writeln!(
        out,
        "{n} scenario{} ({runs_text}). Times are simulated; every figure replays bit for bit from its seed.\n",
        if n == 1 { "" } else { "s" },
    );
    if failed.is_empty() {
        let _ = writeln!(out, "**Result: all {n} scenarios PASS.**\n");
    } else {
        let _ = writeln!(
            out,
            "**Result: {} of {n} scenario{} FAIL** ({}).\n",
            failed.len(),
            if n == 1 { "" } else { "s" },
            failed.join(", ")
        );
    }

    let broke = broken(report);
    let _ = writeln!(out, "## What broke the targets\n");
    if broke.is_empty() {
        let _ = writeln!(
            out,
            "Nothing: every service met its targets in every run.\n"
        );
    } else {
        for (scenario, line) in &broke {
            let _ = writeln!(out, "- **{scenario}** — {}", cell(line));
        }
        let _ = writeln!(out);
    }

    overview(&mut out, report);

    for s in &report.scenarios {
        scenario(&mut out, s);
    }
    out
}

/// The overview: one row per scenario, linked to its section.
fn overview(out: &mut String, report: &SuiteReport) {
    let _ = writeln!(out, "## Scenarios\n");
    let _ = writeln!(
        out,
        "| scenario | topology | runs | seed | worst RTO p50 | worst RTO max | worst RPO max | result |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---|");
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            anchor(&s.name),
            s.topology,
            s.runs,
            s.seed,
            scenario_figure(s, s.rto_s.p50),
            scenario_figure(s, s.rto_s.max),
            scenario_figure(s, s.rpo_s.max),
            if s.passed { "PASS" } else { "**FAIL**" }
        );
    }
    let _ = writeln!(out);
}

/// A Markdown heading's anchor as GitHub makes it: lower case, spaces to dashes, other
/// punctuation dropped.
fn anchor(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn scenario(out: &mut String, s: &ScenarioReport) {
    let _ = writeln!(out, "## {}\n", s.name);
    let _ = writeln!(
        out,
        "**{}** — topology `{}`, {} run{} from seed {}.{}\n",
        if s.passed { "PASS" } else { "FAIL" },
        s.topology,
        s.runs,
        plural(s.runs),
        s.seed,
        if s.description.is_empty() {
            String::new()
        } else {
            format!(" {}", sentence(&cell(&s.description)))
        }
    );
    services_table(out, s);
    gates(out, s);
    safety(out, s);
    response(out, s);
    outages(out, s);
    key_timeline(out, s);
    failures(out, s);
}

/// Each service against its targets.
fn services_table(out: &mut String, s: &ScenarioReport) {
    if !s.services.is_empty() {
        let _ = writeln!(
            out,
            "| service | backed by | RTO p50 | p90 | p99 | max | RTO target | P(RTO ≤ target) | RPO p50 | RPO max | RPO target | P(RPO within target) | p99 latency | acked writes lost (cause) | result |"
        );
        let _ = writeln!(
            out,
            "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---|---|"
        );
        for sv in &s.services {
            let causes = causes_words(&sv.lost_by_cause.describe());
            let lost = if causes.is_empty() {
                "0".to_string()
            } else {
                causes
            };
            let rto = if never_judged(sv) {
                "not judged | – | – | –".to_string()
            } else {
                pcells(&sv.rto_s)
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                sv.name,
                cell(&sv.datastore),
                rto,
                duration(sv.targets.rto_s),
                odds(&sv.rto_met),
                service_figure(sv, sv.rpo_s.p50),
                service_figure(sv, sv.rpo_s.max),
                duration(sv.targets.rpo_s),
                odds(&sv.rpo_met),
                sv.latency_p99_s.p50.map_or_else(|| "–".into(), duration),
                cell(&lost),
                if sv.passed { "pass" } else { "**fail**" }
            );
        }
        let _ = writeln!(out);
    }
}

/// The gates `check` decides on, and the ones not met.
fn gates(out: &mut String, s: &ScenarioReport) {
    if !s.gates.is_empty() {
        let passed = s.gates.iter().filter(|g| g.passed).count();
        let _ = writeln!(
            out,
            "Gates (what `gameday check` decides on): {passed} of {} passed{}\n",
            s.gates.len(),
            if passed == s.gates.len() {
                "."
            } else {
                "; not met:"
            }
        );
        for g in s.gates.iter().filter(|g| !g.passed) {
            let _ = writeln!(out, "- {} — measured: {}", cell(&g.name), cell(&g.measured));
        }
        if passed < s.gates.len() {
            let _ = writeln!(out);
        }
    }
}

/// Safety violations, if any.
fn safety(out: &mut String, s: &ScenarioReport) {
    if !s.safety_violations.is_empty() {
        let _ = writeln!(out, "Safety violations:\n");
        for v in &s.safety_violations {
            let _ = writeln!(out, "- {}", cell(v));
        }
        let _ = writeln!(out);
    }
}

/// The first run's key timeline entries (the incident and the response, not the routine).
fn key_timeline(out: &mut String, s: &ScenarioReport) {
    let t0 = incident_start(s);
    let key: Vec<_> = s.timeline.iter().filter(|e| key_kind(e.kind)).collect();
    if !key.is_empty() {
        let seed = s.per_run.first().map(|r| r.seed).unwrap_or(s.seed);
        let _ = writeln!(
            out,
            "Key timeline of the first run (seed {seed}; {} of {} entries, T = first fault):\n",
            key.len(),
            s.timeline.len()
        );
        let _ = writeln!(out, "| at | since fault | event | detail |");
        let _ = writeln!(out, "|---:|---:|---|---|");
        for e in key {
            let at = e.at_s.as_secs_f64();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                clock(at),
                since(at - t0),
                e.kind,
                cell(&e.detail)
            );
        }
        let _ = writeln!(out);
    }
}

/// The first failure lines.
fn failures(out: &mut String, s: &ScenarioReport) {
    if !s.failures.is_empty() {
        const SHOWN: usize = 10;
        let _ = writeln!(
            out,
            "Failures ({}{}):\n",
            if s.failures.len() > SHOWN {
                format!("first {SHOWN} of ")
            } else {
                String::new()
            },
            s.failures.len()
        );
        for f in s.failures.iter().take(SHOWN) {
            let _ = writeln!(out, "- {}", cell(f));
        }
        let _ = writeln!(out);
    }
}

/// The first run's outages as a table (nothing when there were none).
/// The incident response against the plan, over the runs.
fn response(out: &mut String, s: &ScenarioReport) {
    let rows = response_rows(s);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "Incident response, T = first fault, over {} run{}:\n",
        s.runs,
        plural(s.runs)
    );
    let _ = writeln!(out, "| step | p50 | p95 | plan | against the plan |");
    let _ = writeln!(out, "|---|---:|---:|---:|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.step, r.p50, r.p95, r.plan, r.verdict
        );
    }
    if let Some(line) = silence(s) {
        let _ = writeln!(out, "\n{line}");
    }
    let _ = writeln!(out);
}

/// How long the status page called a failing service operational, when there is one and it
/// did so in some run.
pub fn silence(s: &ScenarioReport) -> Option<String> {
    let p = &s.response.silent_s;
    let (p50, p95) = (p.p50?, p.p95?);
    if p95 <= 0.0 {
        return None;
    }
    Some(format!(
        "The status page still said \"operational\" for a failing service for {} (p50; p95 {}).",
        duration(p50),
        duration(p95)
    ))
}

fn outages(out: &mut String, s: &ScenarioReport) {
    let rows = outage_rows(s);
    if rows.is_empty() {
        return;
    }
    let seed = s.per_run.first().map(|r| r.seed).unwrap_or(s.seed);
    let _ = writeln!(
        out,
        "Outages of the first run (seed {seed}; T = first fault; p99 response time before, during and after each):\n"
    );
    let _ = writeln!(
        out,
        "| service | from | to | lasted | cause | p99 before | p99 during | p99 after |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.service,
            r.start,
            r.end,
            r.duration,
            cell(&r.causes),
            r.latency[0],
            r.latency[1],
            r.latency[2]
        );
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_response_step_says_how_many_runs_missed_it_and_by_how_much() {
        let (plan, verdict, met) = step_verdict(&[Some(100.0), Some(135.0), Some(150.0)], 120.0);
        assert_eq!(plan, "T+2m");
        assert_eq!(verdict, "missed in 2 of 3: late by up to 30s");
        assert!(!met);
        let (_, verdict, met) = step_verdict(&[Some(100.0), None], 120.0);
        assert_eq!(verdict, "missed in 1 of 2: some never reached it");
        assert!(!met);
        let (_, verdict, met) = step_verdict(&[Some(100.0), Some(120.0)], 120.0);
        assert_eq!((verdict.as_str(), met), ("met in all 2 runs", true));
    }

    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        let cases = [
            (0.0, "0"),
            (0.000_4, "400µs"),
            (0.004_2, "4.2ms"),
            (0.253_191, "253ms"),
            (8.0, "8s"),
            (8.54, "8.5s"),
            (34.0, "34s"),
            (59.96, "60s"),
            (60.0, "1m"),
            (900.0, "15m"),
            (1783.0, "29m43s"),
            (3600.0, "1h"),
        ];
        for (secs, want) in cases {
            assert_eq!(duration(secs), want, "{secs}");
        }
        assert_eq!(duration(7199.95), "2h");
        assert_eq!(duration(3900.0), "1h05m");
        assert_eq!(duration(3920.0), "1h05m20s");
        assert_eq!(figure(None), "not recovered");
    }

    #[test]
    fn percentages_never_round_to_certainty() {
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.999), "99%");
        assert_eq!(percent(0.001), "1%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.6756), "68%");
        let o = Odds::of(8, 8);
        assert_eq!(odds(&o), "100% (8/8; 95% CI 68–100%)");
    }

    #[test]
    fn counts_and_clock() {
        assert_eq!(count(953_307), "953,307");
        assert_eq!(count(12), "12");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(clock(629.705), "0:10:29.7");
        assert_eq!(clock(10783.0), "2:59:43");
        assert_eq!(since(29.7), "T+29.7s");
        assert_eq!(since(-60.0), "T-1m");
        assert_eq!(since(0.0), "T");
        assert_eq!(
            causes_words("953307 discarded by restoring a backup (logical corruption)"),
            "953,307 discarded by restoring a backup (logical corruption)"
        );
    }
}

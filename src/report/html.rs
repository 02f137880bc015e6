//! `index.html`: the whole report on one self-contained page (inline CSS, charts as inline
//! SVG, no script, nothing fetched), readable offline; and [`write_report`], which writes it
//! with `summary.md` and every chart as SVG and PNG.
//!
//! Each chart is a `<figure class="chart" data-chart="NAME">` holding an `<svg>`, so that a
//! check (`scripts/check-report.sh`) can find every chart in the rendered page.

use super::charts::{Chart, suite_charts};
use super::markdown::{
    broken, causes_words, clock, count, duration, figure, incident_start, key_kind, outage_rows,
    percent, scenario_figure, service_figure, since,
};
use super::summary::{Odds, ScenarioReport, SuiteReport};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Writes `index.html`, `summary.md` and `charts/NAME.svg` + `charts/NAME.png` for every chart
/// into `dir` (created if missing) and returns the paths written, in order. The same report
/// gives the same bytes. `results.json` is the caller's, and so is writing into a fresh
/// directory swapped in afterwards (`cli::output::Staging`): this only adds files.
pub fn write_report(dir: &Path, report: &SuiteReport) -> std::io::Result<Vec<PathBuf>> {
    let charts = suite_charts(report).map_err(std::io::Error::other)?;
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir)?;
    let mut written = Vec::new();
    for c in charts.iter().flatten() {
        for (ext, bytes) in [("svg", c.svg.as_bytes()), ("png", c.png.as_slice())] {
            let path = chart_dir.join(format!("{}.{ext}", c.name));
            super::write_synced(&path, bytes)?;
            written.push(path);
        }
    }
    let md = dir.join("summary.md");
    super::write_synced(&md, &super::markdown::render(report).into_bytes())?;
    written.push(md);
    let html = dir.join("index.html");
    super::write_synced(&html, &render(report, &charts).into_bytes())?;
    written.push(html);
    Ok(written)
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A chart's SVG for inlining: no XML declaration, no namespace URL (HTML needs neither, and
/// the page then names no `http:` address at all), scaled to the page width.
pub fn inline_svg(c: &Chart) -> String {
    let svg = c.svg.trim();
    let svg = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    };
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            &format!(
                "<svg role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMin meet\" ",
                esc(&c.title)
            ),
            1,
        )
}

/// A chart as the page shows it: `<figure class="chart" data-chart="NAME">` holding the inline
/// SVG and a caption that links the `charts/NAME.png` and `.svg` files.
pub fn chart_figure(c: &Chart) -> String {
    format!(
        "<figure class=\"chart\" data-chart=\"{}\" data-kind=\"{}\">\n{}\n<figcaption>{} <a href=\"charts/{}.png\">PNG</a> · <a href=\"charts/{}.svg\">SVG</a></figcaption>\n</figure>",
        esc(&c.name),
        c.kind,
        inline_svg(c),
        esc(&c.caption),
        esc(&c.name),
        esc(&c.name)
    )
}

const CSS: &str = r#"
:root { --ink:#212529; --muted:#6c757d; --line:#dee2e6; --fail:#c82828; --ok:#28823c; --bg:#f8f9fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 "DejaVu Sans", Verdana, system-ui, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 22px; margin: 44px 0 6px; padding-top: 16px; border-top: 2px solid var(--line); }
h3 { font-size: 17px; margin: 22px 0 8px; }
p.lead { color: var(--muted); margin: 0 0 16px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: bold; color: #fff; vertical-align: middle; }
.badge.pass { background: var(--ok); color: #fff; } .badge.fail { background: var(--fail); color: #fff; }
.verdict { font-size: 18px; padding: 10px 14px; border-radius: 6px; background: var(--bg); border-left: 6px solid var(--ok); }
.verdict.fail { border-left-color: var(--fail); }
ul.broke li { margin: 4px 0; }
.scroll { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
th.group { text-align: center; border-left: 2px solid #fff; }
td small { color: var(--muted); font-size: 12px; }
table.services td:first-child { white-space: nowrap; }
table.services td.num.fail { white-space: normal; }
td.odds { min-width: 9em; } td.odds.fail small { color: var(--fail); font-weight: normal; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.fail, span.fail { color: var(--fail); font-weight: 600; } td.pass { color: var(--ok); }
tr.fail td:first-child { border-left: 3px solid var(--fail); }
figure.chart { margin: 14px 0 20px; padding: 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
figure.chart svg { display: block; width: 100%; height: auto; max-width: 960px; margin: 0 auto; }
figure.chart figcaption { color: var(--muted); font-size: 13px; margin: 6px 4px 0; }
figure.chart figcaption a { color: var(--muted); }
.kind { display: inline-block; min-width: 92px; font-family: "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.kind.fault, .kind.fault_end, .kind.corruption { color: var(--fail); font-weight: 600; }
.kind.detected, .kind.odown { color: #d55e00; font-weight: 600; }
.kind.promoted, .kind.restored, .kind.switch_master { color: #0072b2; font-weight: 600; }
.kind.recovered { color: var(--ok); font-weight: 600; }
.kind.alert, .kind.page { color: #9434a0; font-weight: 600; }
tr.routine td { color: var(--muted); }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
nav.toc { columns: 2; font-size: 14px; margin: 10px 0; }
nav.toc a { color: var(--ink); }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; }
footer { margin-top: 48px; color: var(--muted); font-size: 12.5px; }
@media print { h2 { break-before: page; } figure.chart { break-inside: avoid; } details { display: block; } }
"#;

/// The whole page.
pub fn render(report: &SuiteReport, charts: &[Vec<Chart>]) -> String {
    let mut out = String::new();
    let n = report.scenarios.len();
    let failed: Vec<&ScenarioReport> = report.scenarios.iter().filter(|s| !s.passed).collect();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>GameDay report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        if failed.is_empty() {
            format!("{n} scenarios, all pass")
        } else {
            format!("{} of {n} scenarios fail", failed.len())
        }
    );
    let _ = writeln!(out, "<h1>GameDay report</h1>");
    verdict(&mut out, report, &failed);

    overview(&mut out, report);

    for (i, s) in report.scenarios.iter().enumerate() {
        scenario(&mut out, s, charts.get(i).map(Vec::as_slice).unwrap_or(&[]));
    }
    let _ = writeln!(
        out,
        "<footer>Written by gameday {}. Charts are also in <code>charts/</code> as SVG and PNG; the figures are in <code>results.json</code> and <code>summary.md</code>.</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// The lead paragraph, the verdict and what broke the targets: what a reader needs first.
fn verdict(out: &mut String, report: &SuiteReport, failed: &[&ScenarioReport]) {
    let n = report.scenarios.len();
    let runs: Vec<u32> = report.scenarios.iter().map(|s| s.runs).collect();
    let _ = writeln!(
        out,
        "<p class=\"lead\">{n} scenario{}{}. Simulated time; every figure replays bit for bit from its seed. RTO: a service's longest outage, from its first failed operation until operations succeed again and its steady state holds; RPO: the longest window of acknowledged writes it lost.</p>",
        if n == 1 { "" } else { "s" },
        match runs.first() {
            Some(&r) if runs.iter().all(|&x| x == r) =>
                format!(", {r} run{} each", if r == 1 { "" } else { "s" }),
            _ => String::new(),
        }
    );
    if failed.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"verdict\">All {n} scenarios <b>pass</b>: every service met its RTO and RPO targets in every run.</p>"
        );
    } else {
        let _ = writeln!(
            out,
            "<p class=\"verdict fail\"><b>{} of {n} scenarios fail</b>: {}.</p>",
            failed.len(),
            failed
                .iter()
                .map(|s| format!("<a href=\"#{}\">{}</a>", anchor(&s.name), esc(&s.name)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let broke = broken(report);
    let _ = writeln!(out, "<h3>What broke the targets</h3>");
    if broke.is_empty() {
        let _ = writeln!(
            out,
            "<p>Nothing: every service met its targets in every run.</p>"
        );
    } else {
        let _ = writeln!(out, "<ul class=\"broke\">");
        for (scenario, line) in &broke {
            let _ = writeln!(
                out,
                "<li><a href=\"#{}\"><b>{}</b></a> — {}</li>",
                anchor(scenario),
                esc(scenario),
                esc(line)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
}

/// The overview table: one row per scenario, linked to its section.
fn overview(out: &mut String, report: &SuiteReport) {
    // Overview table.
    let _ = writeln!(
        out,
        "<h3>Scenarios</h3>\n<div class=\"scroll\"><table>\n<tr><th>scenario</th><th>topology</th><th class=\"num\">runs</th><th class=\"num\">seed</th><th class=\"num\">worst RTO p50</th><th class=\"num\">worst RTO max</th><th class=\"num\">worst RPO max</th><th>result</th></tr>"
    );
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "<tr{}><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
            if s.passed { "" } else { " class=\"fail\"" },
            anchor(&s.name),
            esc(&s.name),
            esc(&s.topology),
            s.runs,
            s.seed,
            esc(&scenario_figure(s, s.rto_s.p50)),
            esc(&scenario_figure(s, s.rto_s.max)),
            esc(&scenario_figure(s, s.rpo_s.max)),
            if s.passed { "pass" } else { "fail" },
            if s.passed { "PASS" } else { "FAIL" }
        );
    }
    let _ = writeln!(out, "</table></div>");
}

/// An `id` for a scenario's section.
fn anchor(name: &str) -> String {
    format!("s-{}", super::charts::slug(name))
}

fn scenario(out: &mut String, s: &ScenarioReport, charts: &[Chart]) {
    let _ = writeln!(
        out,
        "<section class=\"scenario\" id=\"{}\">\n<h2>{} <span class=\"badge {}\">{}</span></h2>",
        anchor(&s.name),
        esc(&s.name),
        if s.passed { "pass" } else { "fail" },
        if s.passed { "PASS" } else { "FAIL" }
    );
    let _ = writeln!(
        out,
        "<p class=\"lead\">{}Topology <code>{}</code>, {} run{} from seed {}.</p>",
        if s.description.is_empty() {
            String::new()
        } else {
            format!("{} ", esc(&super::markdown::sentence(&s.description)))
        },
        esc(&s.topology),
        s.runs,
        if s.runs == 1 { "" } else { "s" },
        s.seed
    );
    incomplete(out, s);
    services_table(out, s);
    gates(out, s);
    safety(out, s);
    response(out, s);
    outages(out, s);
    for c in charts {
        let _ = writeln!(out, "{}", chart_figure(c));
    }
    timeline(out, s);
    failures(out, s);
    per_run(out, s);
    let _ = writeln!(out, "</section>");
}

/// The banner of a scenario whose runs a budget stopped.
fn incomplete(out: &mut String, s: &ScenarioReport) {
    if s.incomplete_runs > 0 {
        let reason = s
            .per_run
            .iter()
            .find_map(|r| r.stopped.as_deref())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<p class=\"verdict fail\"><b>Not judged: {} of {} run{} stopped before the scenario's end.</b> {}</p>",
            s.incomplete_runs,
            s.runs,
            if s.runs == 1 { "" } else { "s" },
            esc(&super::markdown::sentence(reason))
        );
    }
}

/// Each service against its targets: RTO and RPO percentiles, odds, latency, losses.
fn services_table(out: &mut String, s: &ScenarioReport) {
    if !s.services.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"scroll\"><table class=\"services\">\n<tr><th rowspan=\"2\">service</th><th colspan=\"6\" class=\"group\">RTO</th><th colspan=\"4\" class=\"group\">RPO</th><th rowspan=\"2\" class=\"num\">p99 latency</th><th rowspan=\"2\">acknowledged writes lost</th><th rowspan=\"2\">result</th></tr>\n<tr><th class=\"num\">p50</th><th class=\"num\">p90</th><th class=\"num\">p99</th><th class=\"num\">max</th><th class=\"num\">target</th><th>met</th><th class=\"num\">p50</th><th class=\"num\">max</th><th class=\"num\">target</th><th>met</th></tr>"
        );
        for sv in &s.services {
            let causes = sv.lost_by_cause.describe();
            let lost = if causes.is_empty() {
                "0".to_string()
            } else {
                causes_words(&causes)
            };
            let over = |v: Option<f64>, target: f64| match v {
                Some(v) if v <= target => "",
                _ => " fail",
            };
            let cells = |vs: &[Option<f64>], target: f64| -> String {
                vs.iter()
                    .map(|v| {
                        format!(
                            "<td class=\"num{}\">{}</td>",
                            over(*v, target),
                            esc(&service_figure(sv, *v))
                        )
                    })
                    .collect()
            };
            let met = |o: &Odds| {
                format!(
                    "<td class=\"odds{}\">{} <small>{}/{} · 95% CI {}–{}</small></td>",
                    if o.met == o.runs { "" } else { " fail" },
                    percent(o.p),
                    o.met,
                    o.runs,
                    percent(o.lo).trim_end_matches('%'),
                    percent(o.hi)
                )
            };
            let _ = writeln!(
                out,
                "<tr{}><td>{}<br><small>{}</small></td>{}<td class=\"num\">{}</td>{}{}<td class=\"num\">{}</td>{}<td class=\"num\">{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                if sv.passed { "" } else { " class=\"fail\"" },
                esc(&sv.name),
                esc(&sv.datastore),
                cells(
                    &[sv.rto_s.p50, sv.rto_s.p90, sv.rto_s.p99, sv.rto_s.max],
                    sv.targets.rto_s
                ),
                esc(&duration(sv.targets.rto_s)),
                met(&sv.rto_met),
                cells(&[sv.rpo_s.p50, sv.rpo_s.max], sv.targets.rpo_s),
                esc(&duration(sv.targets.rpo_s)),
                met(&sv.rpo_met),
                esc(&sv.latency_p99_s.p50.map_or_else(|| "–".into(), duration)),
                esc(&lost),
                if sv.passed { "pass" } else { "fail" },
                if sv.passed { "pass" } else { "fail" }
            );
        }
        let _ = writeln!(out, "</table></div>");
    }
}

/// The gates `check` decides on, open when one failed.
fn gates(out: &mut String, s: &ScenarioReport) {
    if !s.gates.is_empty() {
        let passed = s.gates.iter().filter(|g| g.passed).count();
        let _ = writeln!(
            out,
            "<details class=\"gates\"{}><summary>Gates (what <code>gameday check</code> decides on): {passed} of {} passed</summary>\n<div class=\"scroll\"><table>\n<tr><th>gate</th><th>measured</th><th>result</th></tr>",
            if passed < s.gates.len() { " open" } else { "" },
            s.gates.len()
        );
        for g in &s.gates {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(&g.name),
                esc(&g.measured),
                if g.passed { "pass" } else { "fail" },
                if g.passed { "pass" } else { "fail" }
            );
        }
        let _ = writeln!(out, "</table></div>\n</details>");
    }
}

/// Safety violations, if any.
fn safety(out: &mut String, s: &ScenarioReport) {
    if !s.safety_violations.is_empty() {
        let _ = writeln!(
            out,
            "<p><span class=\"fail\">Safety violations:</span></p><ul>"
        );
        for v in &s.safety_violations {
            let _ = writeln!(out, "<li>{}</li>", esc(v));
        }
        let _ = writeln!(out, "</ul>");
    }
}

/// The first run's timeline as a table, routine entries muted.
fn timeline(out: &mut String, s: &ScenarioReport) {
    if !s.timeline.is_empty() {
        let t0 = incident_start(s);
        let seed = s.per_run.first().map(|r| r.seed).unwrap_or(s.seed);
        let _ = writeln!(
            out,
            "<h3>Timeline of the first run (seed {seed})</h3>\n<div class=\"scroll\"><table class=\"timeline\">\n<tr><th class=\"num\">at</th><th class=\"num\">since fault</th><th>event</th><th>detail</th></tr>"
        );
        for e in &s.timeline {
            let at = e.at_s.as_secs_f64();
            let _ = writeln!(
                out,
                "<tr{}><td class=\"num\">{}</td><td class=\"num\">{}</td><td><span class=\"kind {}\">{}</span></td><td>{}</td></tr>",
                if key_kind(e.kind) {
                    ""
                } else {
                    " class=\"routine\""
                },
                clock(at),
                esc(&since(at - t0)),
                esc(e.kind),
                esc(e.kind),
                esc(&e.detail)
            );
        }
        let _ = writeln!(out, "</table></div>");
    }
}

/// The failure lines, folded.
fn failures(out: &mut String, s: &ScenarioReport) {
    if !s.failures.is_empty() {
        const SHOWN: usize = 50;
        let _ = writeln!(
            out,
            "<details><summary>{} failure line{}{}</summary>\n<ul>",
            s.failures.len(),
            if s.failures.len() == 1 { "" } else { "s" },
            if s.failures.len() > SHOWN {
                format!(" (first {SHOWN} shown)")
            } else {
                String::new()
            }
        );
        for f in s.failures.iter().take(SHOWN) {
            let _ = writeln!(out, "<li><code>{}</code></li>", esc(f));
        }
        let _ = writeln!(out, "</ul>\n</details>");
    }
}

/// One row per run, when there are several.
fn per_run(out: &mut String, s: &ScenarioReport) {
    if s.per_run.len() > 1 {
        let _ = writeln!(
            out,
            "<details><summary>Per run ({} runs)</summary>\n<div class=\"scroll\"><table>\n<tr><th class=\"num\">run</th><th class=\"num\">seed</th><th class=\"num\">RTO</th><th class=\"num\">RPO</th><th class=\"num\">detected</th><th class=\"num\">promoted</th><th class=\"num\">writes acked/sent</th><th class=\"num\">lost</th><th>result</th></tr>",
            s.per_run.len()
        );
        for (i, r) in s.per_run.iter().enumerate() {
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
                i + 1,
                r.seed,
                esc(&figure(r.rto_s)),
                esc(&duration(r.rpo_s)),
                r.detected_s.map(clock).unwrap_or_default(),
                r.promoted_s.map(clock).unwrap_or_default(),
                count(r.writes.acked),
                count(r.writes.sent),
                count(r.writes.acked_lost),
                if r.passed { "pass" } else { "fail" },
                if r.passed { "pass" } else { "fail" }
            );
        }
        let _ = writeln!(out, "</table></div>\n</details>");
    }
}

/// The first run's outages as a table (nothing when there were none).
fn outages(out: &mut String, s: &ScenarioReport) {
    let rows = outage_rows(s);
    if rows.is_empty() {
        return;
    }
    let seed = s.per_run.first().map(|r| r.seed).unwrap_or(s.seed);
    let _ = writeln!(
        out,
        "<h3>Outages of the first run (seed {seed})</h3>\n<div class=\"scroll\"><table class=\"outages\">\n<tr><th>service</th><th class=\"num\">from</th><th class=\"num\">to</th><th class=\"num\">lasted</th><th>cause</th><th class=\"num\">p99 before</th><th class=\"num\">p99 during</th><th class=\"num\">p99 after</th></tr>"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r.service),
            esc(&r.start),
            if r.end.starts_with('T') { "" } else { " fail" },
            esc(&r.end),
            esc(&r.duration),
            esc(&r.causes),
            esc(&r.latency[0]),
            esc(&r.latency[1]),
            esc(&r.latency[2])
        );
    }
    let _ = writeln!(out, "</table></div>");
}

/// The incident response against the plan, over the runs.
fn response(out: &mut String, s: &ScenarioReport) {
    let rows = super::markdown::response_rows(s);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h3>Incident response (T = first fault, {} run{})</h3>\n<div class=\"scroll\"><table class=\"response\">\n<tr><th>step</th><th class=\"num\">p50</th><th class=\"num\">p95</th><th class=\"num\">plan</th><th>against the plan</th></tr>",
        s.runs,
        if s.runs == 1 { "" } else { "s" }
    );
    for r in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td></tr>",
            esc(&r.step),
            esc(&r.p50),
            esc(&r.p95),
            esc(&r.plan),
            if r.met { "pass" } else { "fail" },
            esc(&r.verdict)
        );
    }
    let _ = writeln!(out, "</table></div>");
    if let Some(line) = super::markdown::silence(s) {
        let _ = writeln!(out, "<p>{}</p>", esc(&line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
    }
}

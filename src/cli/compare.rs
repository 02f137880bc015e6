//! `gameday compare` (two topologies, same scenarios and seeds) and `gameday sweep` (one
//! topology parameter over values): the architect's side-by-side views.

use super::output::Staging;
use super::{
    CliError, CompareArgs, Executed, Format, STOPPED, SweepArgs, execute, load_with,
    parse_scenarios, suite,
};
use crate::model::Source;
use crate::model::patch;
use crate::model::topology::Topology;
use crate::report::summary::{Percentiles, ServiceReport, SuiteReport};
use crate::report::{against, html};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

fn secs(x: Option<f64>) -> String {
    match x {
        None => "never".into(),
        Some(x) if x >= 60.0 => {
            let tenths = (x * 10.0).round() as u64;
            format!(
                "{}m{:02}.{}s",
                tenths / 600,
                (tenths % 600) / 10,
                tenths % 10
            )
        }
        Some(x) => format!("{x:.1}s"),
    }
}

fn pair(a: Option<f64>, b: Option<f64>) -> String {
    let delta = match (a, b) {
        (Some(a), Some(b)) if (b - a).abs() >= 0.05 => format!(" ({:+.1}s)", b - a),
        (Some(_), None) => " (worse)".into(),
        (None, Some(_)) => " (better)".into(),
        _ => String::new(),
    };
    format!("{} → {}{delta}", secs(a), secs(b))
}

/// Everything a comparison or sweep writes into its report directory: `STEM.json` and
/// `STEM.txt`, the RTO and RPO charts over `xs` (SVG and PNG), and a page with the table and
/// both charts; then swaps the directory in.
fn write_all(
    staging: Staging,
    stem: &str,
    json: &str,
    table: &str,
    (what, x_title): (&str, &str),
    xs: Vec<String>,
    reports: &[&SuiteReport],
) -> Result<(), CliError> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (format!("{stem}.json"), json.as_bytes().to_vec()),
        (format!("{stem}.txt"), table.as_bytes().to_vec()),
    ];
    let mut figures = String::new();
    for metric in [against::Metric::Rto, against::Metric::Rpo] {
        let c = against::chart(stem, what, x_title, xs.clone(), reports, metric)
            .map_err(CliError::Output)?;
        let _ = writeln!(
            figures,
            "<figure class=\"chart\" data-chart=\"{}\">{}<figcaption>{}</figcaption></figure>",
            c.name,
            html::inline_svg(&c),
            html::esc(&c.caption)
        );
        files.push((format!("{}.svg", c.name), c.svg.into_bytes()));
        files.push((format!("{}.png", c.name), c.png));
    }
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gameday {stem}</title>\n<style>body{{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em;color:#212529}}pre{{font-size:13px;background:#f8f9fa;padding:1em;overflow-x:auto}}figure{{margin:1.5em 0}}svg{{max-width:100%;height:auto}}figcaption{{color:#6c757d;font-size:14px}}</style></head>\n<body><h1>gameday {stem}: RTO and RPO {what}</h1>\n<pre>{}</pre>\n{figures}</body></html>\n",
        html::esc(table)
    );
    files.push(("index.html".to_string(), page.into_bytes()));
    for (name, contents) in &files {
        staging.write(name, contents)?;
    }
    Ok(staging.commit()?)
}

/// 3 when a budget stopped a run, else 0: `compare` and `sweep` report, they do not gate.
fn status(stopped: usize) -> ExitCode {
    if stopped > 0 {
        ExitCode::from(STOPPED)
    } else {
        ExitCode::SUCCESS
    }
}

fn emit(format: Format, json: &str, text: &str, dir: &Path, stem: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = match format {
        Format::Json => writeln!(stdout, "{json}"),
        Format::Text => write!(
            stdout,
            "{text}\nwritten to {}\n",
            dir.join(format!("{stem}.json")).display()
        ),
    };
}

#[derive(Serialize)]
struct Side<'a> {
    topology: String,
    report: &'a SuiteReport,
}

#[derive(Serialize)]
struct Comparison<'a> {
    a: Side<'a>,
    b: Side<'a>,
}

/// The comparison table: per scenario and service, A → B.
pub fn comparison_table(a: &SuiteReport, b: &SuiteReport, names: (&str, &str)) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "A = {}\nB = {}\n", names.0, names.1);
    let _ = writeln!(
        out,
        "{:<22} {:<12} {:>28} {:>28} {:>28} {:>16} {:>9}",
        "scenario",
        "service",
        "RTO p50 A → B",
        "RTO max A → B",
        "RPO max A → B",
        "lost A → B",
        "A / B"
    );
    for (sa, sb) in a.scenarios.iter().zip(&b.scenarios) {
        for va in &sa.services {
            let Some(vb) = sb.services.iter().find(|v| v.name == va.name) else {
                continue;
            };
            let verdict = |v: &ServiceReport| if v.passed { "pass" } else { "FAIL" };
            let _ = writeln!(
                out,
                "{:<22} {:<12} {:>28} {:>28} {:>28} {:>16} {:>9}",
                sa.name,
                va.name,
                pair(va.rto_s.p50, vb.rto_s.p50),
                pair(va.rto_s.max, vb.rto_s.max),
                pair(va.rpo_s.max, vb.rpo_s.max),
                format!("{} → {}", va.writes.acked_lost, vb.writes.acked_lost),
                format!("{} / {}", verdict(va), verdict(vb)),
            );
        }
    }
    out
}

/// Topology B, and its name: the second file, or the first again, with the `--set-b` fields.
fn topology_b(args: &CompareArgs) -> Result<(Topology, String), CliError> {
    let path = match (&args.topologies[..], args.set_b.is_empty()) {
        ([_, b], _) => b,
        ([a], false) => a,
        _ => {
            return Err(CliError::Output(format!(
                "compare needs two topologies (`--topology A.ron --topology B.ron`), or one and the fields to change in B (`--set-b PATH=VALUE`); got {} topologies",
                args.topologies.len()
            )));
        }
    };
    let src = Source::read(path)?;
    let mut text = src.text.clone();
    let mut changes = Vec::new();
    for set in &args.set_b {
        let (field, values) = parse_set(set)?;
        let [value] = &values[..] else {
            return Err(CliError::Output(format!(
                "--set-b `{set}`: one value per field (use `sweep --set` to try several)"
            )));
        };
        let ron = patch::ron_value(value);
        text = patch::set(&text, &field, &ron)
            .map_err(|e| CliError::Output(format!("{}: {e}", src.path.display())))?;
        changes.push(format!("{field} = {ron}"));
    }
    let name = if changes.is_empty() {
        src.path.display().to_string()
    } else {
        format!("{} (with {})", src.path.display(), changes.join(", "))
    };
    Ok((Topology::from_source(Source::inline(&name, &text))?, name))
}

pub fn compare(args: CompareArgs) -> Result<ExitCode, CliError> {
    let pa = &args.topologies[0];
    let ta = Topology::load(pa)?;
    let (tb, name_b) = topology_b(&args)?;
    let la = load_with(&args.scenarios, Some(&ta))?;
    let lb = load_with(&args.scenarios, Some(&tb))?;
    let staging = Staging::new(&args.out)?;
    let Executed {
        report: ra,
        stopped: sa,
    } = execute(&la, &args.opts)?;
    let Executed {
        report: rb,
        stopped: sb,
    } = execute(&lb, &args.opts)?;
    let names = (pa.display().to_string(), name_b);
    let text = comparison_table(&ra, &rb, (&names.0, &names.1));
    let json = serde_json::to_string_pretty(&Comparison {
        a: Side {
            topology: names.0.clone(),
            report: &ra,
        },
        b: Side {
            topology: names.1.clone(),
            report: &rb,
        },
    })
    .map_err(|e| CliError::Output(e.to_string()))?;
    write_all(
        staging,
        "compare",
        &json,
        &text,
        ("on topology A and B", "topology"),
        vec![format!("A: {}", names.0), format!("B: {}", names.1)],
        &[&ra, &rb],
    )?;
    emit(args.opts.format, &json, &text, &args.out, "compare");
    Ok(status(sa + sb))
}

#[derive(Serialize)]
struct SweepPoint<'a> {
    value: &'a str,
    report: &'a SuiteReport,
}

#[derive(Serialize)]
struct Sweep<'a> {
    path: &'a str,
    points: Vec<SweepPoint<'a>>,
}

/// `PATH=v1,v2,…` (or `;`-separated when values contain commas).
fn parse_set(set: &str) -> Result<(String, Vec<String>), CliError> {
    let bad = || {
        CliError::Output(format!(
            "--set `{set}`: expected PATH=VALUE,VALUE,… (for example dns.ttl=30s,300s)"
        ))
    };
    let (path, values) = set.split_once('=').ok_or_else(bad)?;
    let sep = if values.contains(';') { ';' } else { ',' };
    let values: Vec<String> = values
        .split(sep)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if path.trim().is_empty() || values.is_empty() {
        return Err(bad());
    }
    Ok((path.trim().to_string(), values))
}

fn pct(p: &Percentiles) -> [Option<f64>; 3] {
    [p.p50, p.p90, p.max]
}

pub fn sweep_table(s: &[(String, SuiteReport)], path: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "sweep of {path}\n");
    let _ = writeln!(
        out,
        "{:<16} {:<22} {:<12} {:>10} {:>10} {:>10} {:>10} {:>9} {:>6}",
        "value",
        "scenario",
        "service",
        "RTO p50",
        "RTO p90",
        "RTO max",
        "RPO max",
        "lost",
        "result"
    );
    for (value, report) in s {
        for sc in &report.scenarios {
            for sv in &sc.services {
                let [p50, p90, max] = pct(&sv.rto_s);
                let _ = writeln!(
                    out,
                    "{:<16} {:<22} {:<12} {:>10} {:>10} {:>10} {:>10} {:>9} {:>6}",
                    value,
                    sc.name,
                    sv.name,
                    secs(p50),
                    secs(p90),
                    secs(max),
                    secs(sv.rpo_s.max),
                    sv.writes.acked_lost,
                    if sv.passed { "pass" } else { "FAIL" }
                );
            }
        }
    }
    out
}

pub fn sweep(args: SweepArgs) -> Result<ExitCode, CliError> {
    let (path, values) = parse_set(&args.set)?;
    let base: Option<Source> = args.topology.as_deref().map(Source::read).transpose()?;
    // Every value's files are loaded and checked, and the output, before anything runs.
    let mut all = Vec::new();
    for value in &values {
        let ron = patch::ron_value(value);
        let mut loaded = Vec::new();
        for p in parse_scenarios(&args.scenarios)? {
            let src = match &base {
                Some(s) => s.clone(),
                None => suite::topology_source(&p)?,
            };
            let text = patch::set(&src.text, &path, &ron)
                .map_err(|e| CliError::Output(format!("{}: {e}", src.path.display())))?;
            let name = format!("{} (with {path} = {ron})", src.path.display());
            let topo = Topology::from_source(Source::inline(&name, &text))?;
            let s = p.resolve(&topo)?;
            loaded.push((topo, s));
        }
        all.push((value.clone(), loaded));
    }
    let staging = Staging::new(&args.out)?;
    let (mut points, mut stopped) = (Vec::new(), 0);
    for (value, loaded) in all {
        let run = execute(&loaded, &args.opts)?;
        stopped += run.stopped;
        points.push((value, run.report));
    }
    let text = sweep_table(&points, &path);
    let json = serde_json::to_string_pretty(&Sweep {
        path: &path,
        points: points
            .iter()
            .map(|(value, report)| SweepPoint { value, report })
            .collect(),
    })
    .map_err(|e| CliError::Output(e.to_string()))?;
    write_all(
        staging,
        "sweep",
        &json,
        &text,
        (&format!("against {path}"), &path),
        points.iter().map(|(v, _)| v.clone()).collect(),
        &points.iter().map(|(_, r)| r).collect::<Vec<_>>(),
    )?;
    emit(args.opts.format, &json, &text, &args.out, "sweep");
    Ok(status(stopped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_takes_a_path_and_values() {
        let (p, v) = parse_set("dns.ttl=30s,300s").unwrap();
        assert_eq!(
            (p.as_str(), v),
            ("dns.ttl", vec!["30s".to_string(), "300s".to_string()])
        );
        let (_, v) = parse_set("x=Synchronous(Any(1), 2);Asynchronous").unwrap();
        assert_eq!(v, vec!["Synchronous(Any(1), 2)", "Asynchronous"]);
        assert!(parse_set("dns.ttl").is_err());
        assert!(parse_set("=1").is_err());
    }

    #[test]
    fn durations_read_as_minutes_past_a_minute() {
        assert_eq!(secs(Some(34.0)), "34.0s");
        assert_eq!(secs(Some(1783.0)), "29m43.0s");
        assert_eq!(secs(Some(59.99)), "60.0s");
        assert_eq!(secs(None), "never");
    }
}

//! The report files: `index.html`, `summary.md` and the charts, from real runs.

use crate::support::*;
use gameday::model::scenario::ParsedScenario;
use gameday::report::charts::{Chart, suite_charts};
use gameday::report::html::write_report;
use gameday::report::summary::{SuiteReport, summarize};
use gameday::run::run_batch;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// zone-loss (15 min, 3 runs: everything recovers) and region-loss (15 min, 2 runs: accounts
/// never recover), run once for every test here.
fn report() -> &'static SuiteReport {
    static REPORT: OnceLock<SuiteReport> = OnceLock::new();
    REPORT.get_or_init(|| {
        let topo = topology("ftm-games", &[]);
        let mut scenarios = Vec::new();
        for (name, runs) in [("zone-loss", 3), ("region-loss", 2)] {
            let s = shipped(&topo, name, &[("duration: \"30m\"", "duration: \"15m\"")]);
            let results = run_batch(&topo, &s, s.seed, runs, &|| {});
            scenarios.push(summarize(&topo, &s, s.seed, &results));
        }
        SuiteReport {
            seed: 1,
            runs: 3,
            scenarios,
        }
    })
}

fn charts() -> &'static Vec<Vec<Chart>> {
    static CHARTS: OnceLock<Vec<Vec<Chart>>> = OnceLock::new();
    CHARTS.get_or_init(|| suite_charts(report()).expect("the charts render"))
}

/// A fresh directory under the system's temporary one.
fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gameday-report-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a PNG: (width, height, share of pixels that are not white).
fn decode_png(bytes: &[u8]) -> (u32, u32, f64) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let px = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let inked = px
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&c| c < 250))
        .count();
    (
        info.width,
        info.height,
        inked as f64 / (info.width * info.height) as f64,
    )
}

/// The text of every `<text>` element of an SVG, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

#[test]
fn every_scenario_gets_its_charts() {
    let charts = charts();
    let names: Vec<Vec<&str>> = charts
        .iter()
        .map(|g| g.iter().map(|c| c.name.as_str()).collect())
        .collect();
    assert_eq!(
        names[0],
        [
            "zone-loss-rto",
            "zone-loss-rpo",
            "zone-loss-rto-dist-accounts",
            "zone-loss-timeline",
            "zone-loss-lag"
        ]
    );
    // region-loss: accounts missed its RTO target, so its distribution is charted.
    assert_eq!(
        names[1],
        [
            "region-loss-rto",
            "region-loss-rpo",
            "region-loss-rto-dist-accounts",
            "region-loss-timeline",
            "region-loss-lag"
        ]
    );
    for c in charts.iter().flatten() {
        // SVG: real text, naming the scenario and every service it draws.
        assert!(c.svg.starts_with("<svg"), "{}", c.name);
        let texts = svg_texts(&c.svg);
        assert!(texts.len() >= 10, "{}: {texts:?}", c.name);
        assert!(
            texts[0].starts_with(&c.scenario),
            "{}: the title is {:?}",
            c.name,
            texts[0]
        );
        let s = report()
            .scenarios
            .iter()
            .find(|s| s.name == c.scenario)
            .unwrap();
        if c.kind == "lag" {
            for d in &s.replication_lag {
                assert!(texts.contains(&format!("{}:", d.datastore)), "{}", c.name);
                for (member, _) in &d.members {
                    assert!(texts.contains(member), "{}: no {member}", c.name);
                }
            }
        } else if c.kind != "rto-dist" {
            for sv in &s.services {
                assert!(
                    texts.contains(&sv.name),
                    "{}: no label for {}",
                    c.name,
                    sv.name
                );
            }
        }
        // PNG: decodes, has the chart's size and is not blank.
        assert!(c.png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", c.name);
        let (w, h, inked) = decode_png(&c.png);
        assert_eq!((w, h), (c.width, c.height), "{}", c.name);
        assert!(c.png.len() > 15_000, "{}: {} bytes", c.name, c.png.len());
        assert!(
            inked > 0.03,
            "{}: only {:.1}% of pixels drawn",
            c.name,
            inked * 100.0
        );
    }
}

#[test]
fn a_service_that_never_recovers_is_drawn_as_such() {
    let g = &charts()[1];
    let has = |c: &Chart, text: &str| svg_texts(&c.svg).iter().any(|t| t == text);
    assert!(has(&g[0], "not recovered"), "the RTO chart's band");
    assert!(has(&g[0], "2/2 runs"), "the accounts bar's count");
    assert!(has(&g[0], "met 0/2"), "accounts met its target in no run");
    assert!(
        has(&g[2], "not recovered: 2 of 2"),
        "the distribution's legend"
    );
    assert!(has(&g[2], "not recovered"), "the distribution's band");
    assert!(has(&g[3], "not recovered by the end of the run"));
    assert!(has(&g[3], "fault (T)"));
}

#[test]
fn a_service_that_recovers_in_some_runs_only_is_drawn_as_such() {
    // zone-loss with accounts' last run made "not recovered".
    let mut s = report().scenarios[0].clone();
    let sv = &mut s.services[0];
    assert_eq!(sv.name, "accounts");
    *sv.samples.rto_s.last_mut().unwrap() = None;
    sv.rto_s.max = None;
    sv.rto_s.p99 = None;
    sv.rto_met = gameday::report::summary::Odds::of(sv.rto_met.met - 1, sv.rto_met.runs);
    let charts = gameday::report::charts::scenario_charts(&s).unwrap();
    let has = |c: &Chart, text: &str| svg_texts(&c.svg).iter().any(|t| t == text);
    let rto = charts.iter().find(|c| c.kind == "rto").unwrap();
    assert!(has(rto, "not recovered"), "the band");
    assert!(has(rto, "1/3 n/r"), "the whisker's label");
    assert!(has(rto, "met 2/3"));
    let dist = charts.iter().find(|c| c.kind == "rto-dist").unwrap();
    assert!(has(dist, "not recovered: 1 of 3"));
}

#[test]
fn report_files_are_present_and_self_contained() {
    let dir = fresh_dir("files");
    let written = write_report(&dir, report()).expect("the report is written");
    let charts: Vec<&Chart> = charts().iter().flatten().collect();
    assert_eq!(written.len(), charts.len() * 2 + 2);
    for c in &charts {
        let svg = read(&dir.join("charts").join(format!("{}.svg", c.name)));
        let png = read(&dir.join("charts").join(format!("{}.png", c.name)));
        assert_eq!(svg, c.svg.as_bytes(), "{}", c.name);
        assert_eq!(png, c.png, "{}", c.name);
    }
    let html = String::from_utf8(read(&dir.join("index.html"))).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script") && !html.contains("<link"));
    // One figure per chart, each holding its SVG.
    assert_eq!(
        html.matches("<figure class=\"chart\"").count(),
        charts.len()
    );
    for c in &charts {
        let at = html
            .find(&format!("data-chart=\"{}\"", c.name))
            .unwrap_or_else(|| panic!("no figure for {}", c.name));
        let figure = &html[at..at + html[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg "), "{}", c.name);
        assert!(figure.contains("</svg>"), "{}", c.name);
    }
    // The tables and each scenario's timeline.
    for s in &report().scenarios {
        assert!(html.contains(&format!("id=\"s-{}\"", s.name)));
        for e in &s.timeline {
            assert!(
                html.contains(&gameday::report::html::esc(&e.detail)),
                "{}: timeline line {:?}",
                s.name,
                e.detail
            );
        }
    }
    assert!(html.contains("What broke the targets"));
    let md = String::from_utf8(read(&dir.join("summary.md"))).unwrap();
    assert!(md.contains("## What broke the targets"));
    assert!(
        md.contains(
            "- **region-loss** — accounts: not recovered in any of 2 runs (RTO target 15m)"
        ),
        "{md}"
    );
    assert!(md.contains("| accounts | postgres |"));
    assert!(md.contains("## zone-loss"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    let (a, b) = (fresh_dir("det-a"), fresh_dir("det-b"));
    let wa = write_report(&a, report()).unwrap();
    let wb = write_report(&b, report()).unwrap();
    let rel = |dir: &Path, w: &[PathBuf]| -> Vec<PathBuf> {
        w.iter()
            .map(|p| p.strip_prefix(dir).unwrap().to_path_buf())
            .collect()
    };
    assert_eq!(rel(&a, &wa), rel(&b, &wb));
    for (pa, pb) in wa.iter().zip(&wb) {
        assert!(read(pa) == read(pb), "{} differs", pa.display());
    }
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

/// The built-in suite's report, for looking at and timing:
/// `GAMEDAY_REPORT_DIR=/tmp/r cargo test --release report::builtin_suite -- --ignored --nocapture`
/// (`GAMEDAY_REPORT_RUNS=8` for 8 runs each).
#[test]
#[ignore]
fn builtin_suite() {
    let dir = PathBuf::from(
        std::env::var("GAMEDAY_REPORT_DIR").unwrap_or_else(|_| "/tmp/gameday-report".into()),
    );
    let runs: u32 = std::env::var("GAMEDAY_REPORT_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    // GAMEDAY_REPORT_ONLY=zone-loss,region-loss: only those.
    let only = std::env::var("GAMEDAY_REPORT_ONLY").ok();
    let mut scenarios = Vec::new();
    // GAMEDAY_REPORT_FILES=scenarios/rw1.ron,…: those files instead of the built-in suite.
    let parsed = match std::env::var("GAMEDAY_REPORT_FILES") {
        Ok(files) => files
            .split(',')
            .map(|f| ParsedScenario::load(&root().join(f)).unwrap())
            .collect(),
        Err(_) => gameday::cli::suite::builtin_scenarios().unwrap(),
    };
    for p in parsed {
        let topo = match gameday::cli::suite::builtin_topology(&p).unwrap() {
            Some(t) => t,
            None => {
                gameday::model::topology::Topology::load(&root().join(p.topology_path().unwrap()))
                    .unwrap()
            }
        };
        let s = p.resolve(&topo).unwrap();
        if let Some(only) = &only
            && !only.split(',').any(|n| s.name == n)
        {
            continue;
        }
        let results = run_batch(&topo, &s, s.seed, runs, &|| {});
        scenarios.push(summarize(&topo, &s, s.seed, &results));
    }
    let report = SuiteReport {
        seed: 1,
        runs,
        scenarios,
    };
    #[allow(clippy::disallowed_methods)]
    let t = std::time::Instant::now();
    let written = write_report(&dir, &report).unwrap();
    println!(
        "wrote {} files to {} in {:.2}s",
        written.len(),
        dir.display(),
        t.elapsed().as_secs_f64()
    );
}

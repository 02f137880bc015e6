//! Bounded runs: settings whose cost has no bound are refused before anything runs, with the
//! file, line and column of the setting; a run its budgets stop at run time exits 3 and says
//! why on standard error.

use crate::support::*;
use gameday::sim::kernel::Stopped;
use std::path::PathBuf;

fn ftm() -> PathBuf {
    root().join("topologies/ftm-games.ron")
}

/// `:LINE:COL:` of the first occurrence of `needle` in `text` (1-based, as errors give it).
fn position(text: &str, needle: &str) -> String {
    let at = text.find(needle).expect("needle in text");
    let line = text[..at].matches('\n').count() + 1;
    let column = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    format!(":{line}:{column}:")
}

/// Runs `gameday run FILE` and expects it refused at once: exit 2, one line naming the
/// scenario file (or `other`, the topology) and each of `expect`. Before the limits these ran
/// for minutes or ran out of memory, so the run is killed (and the test fails) after 60 s.
fn refused(file: &std::path::Path, other: Option<&std::path::Path>, expect: &[&str]) -> String {
    let out = file.with_extension("out");
    let (code, _, err) = gameday_within(
        60,
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let named = other.unwrap_or(file);
    assert!(
        err.contains(named.to_str().unwrap()),
        "names the file: {err}"
    );
    for e in expect {
        assert!(err.contains(e), "`{e}` missing from: {err}");
    }
    assert!(!out.exists(), "nothing written");
    err
}

#[test]
fn a_one_nanosecond_health_check_is_refused() {
    let from = "check: Some((inter: \"3s\", timeout: \"1s\"";
    let topo = edit(
        &read("topologies/ftm-games.ron"),
        &[(from, "check: Some((inter: \"1ns\", timeout: \"1ns\"")],
    );
    let t = temp_file("bounds", "hc-topology.ron", &topo);
    let s = temp_file("bounds", "hc.ron", &scenario_text("zone-loss", &t, &[]));
    let err = refused(&s, Some(&t), &[]);
    // The error is in the topology, at the interval.
    let at = format!("{}{}", t.display(), position(&topo, "\"1ns\", timeout"));
    assert!(err.contains(&at), "{at} in {err}");
    assert!(
        err.contains("`inter`") && err.contains("at least 1ms"),
        "{err}"
    );
}

#[test]
fn one_nanosecond_client_writes_are_refused() {
    // Four seconds without faults: few enough operations for the old per-population limit
    // (2³² − 2), which let this run start and exhaust memory.
    let text = scenario_text(
        "zone-loss",
        &ftm(),
        &[
            ("duration: \"30m\"", "duration: \"4s\""),
            ("Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1a\")),", ""),
            ("writes: Poisson(\"5ms\")", "writes: Poisson(\"1ns\")"),
        ],
    );
    let s = temp_file("bounds", "writes.ron", &text);
    refused(
        &s,
        None,
        &[
            &position(&text, "Poisson(\"1ns\")"),
            "`writes`",
            "at least 1µs",
            "`players-na`",
        ],
    );
}

#[test]
fn a_one_nanosecond_resolution_is_refused() {
    let text = scenario_text(
        "zone-loss",
        &ftm(),
        &[("resolution: \"1s\"", "resolution: \"1ns\"")],
    );
    let s = temp_file("bounds", "resolution.ron", &text);
    refused(
        &s,
        None,
        &[&position(&text, "\"1ns\""), "`resolution`", "at least 1ms"],
    );
}

#[test]
fn clients_writing_every_ten_microseconds_are_refused_for_their_cost() {
    // 180 million operations in 30 minutes, each a timer, a request and a retry timer.
    let text = scenario_text(
        "zone-loss",
        &ftm(),
        &[("writes: Poisson(\"10ms\")", "writes: Poisson(\"10us\")")],
    );
    let s = temp_file("bounds", "fast.ron", &text);
    refused(
        &s,
        None,
        &[
            &position(&text, "Poisson(\"10us\")"),
            "clients `players-na` writing to `accounts` every 10µs on average make about 180,000,000 operations in 30m: at least 5",
            "more than the event budget of 500,000,000",
        ],
    );
}

#[test]
fn a_thirty_day_scenario_is_refused_for_its_cost() {
    let text = scenario_text(
        "zone-loss",
        &ftm(),
        &[("duration: \"30m\"", "duration: \"30d\"")],
    );
    let s = temp_file("bounds", "month.ron", &text);
    // The workload that costs most: the North American players' game-state writes.
    refused(
        &s,
        None,
        &[
            &position(&text, "Poisson(\"5ms\")"),
            "clients `players-na` writing to `game-state`",
            "operations in 30d",
            "more than the event budget of 500,000,000",
        ],
    );
}

/// zone-loss with `event_budget` or `memory_budget` added after `runs`.
fn with_budget(tag: &str, budget: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut all = vec![("    runs: 1,", budget)];
    all.extend_from_slice(edits);
    let text = scenario_text("zone-loss", &ftm(), &all);
    temp_file("bounds", &format!("{tag}.ron"), &text)
}

#[test]
fn a_run_stopped_by_its_event_budget_exits_3_and_says_why() {
    // The estimate (about 4.1 million events) fits 8 million; the run needs 11 million.
    let s = with_budget(
        "events",
        "    runs: 1,\n    event_budget: Some(8000000),",
        &[],
    );
    for command in ["run", "check"] {
        let out = s.with_extension(command);
        let (code, stdout, err) = gameday(&[
            command,
            s.to_str().unwrap(),
            "--runs",
            "2",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(code, 3, "{command}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "a line per stopped run: {err}");
        assert!(
            lines[0]
                .starts_with("gameday: scenario `zone-loss`, seed 1: stopped at simulated time 1"),
            "{err}"
        );
        assert!(
            lines[0].ends_with(
                "its event budget of 8,000,000 events ran out; its results are incomplete"
            ),
            "{err}"
        );
        // The report is written all the same, every service not judged, the stop its reason.
        assert!(
            stdout.contains("its event budget ran out after 8000000 events"),
            "{stdout}"
        );
        let json = std::fs::read_to_string(out.join("results.json")).unwrap();
        assert!(json.contains("its event budget ran out after 8000000 events"));
        assert!(json.contains("\"not_judged\""));
    }
}

#[test]
fn a_run_stopped_by_its_memory_budget_exits_3_and_says_why() {
    // An hour of added latency on every player keeps each request in the event queue for
    // the rest of the run: the estimate (their histories, about 44 MB) fits 80 MiB, the run
    // (histories and over a million queued requests) does not.
    let s = with_budget(
        "memory",
        "    runs: 1,\n    memory_budget: \"80MiB\",",
        &[(
            "Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1a\")),",
            "Fault(at: \"1s\", kind: Latency(a: Provider(\"internet\"), extra: \"1h\")),",
        )],
    );
    let out = s.with_extension("out");
    let (code, _, err) = gameday(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("gameday: scenario `zone-loss`, seed 1: stopped at simulated time "),
        "{err}"
    );
    assert!(
        err.contains(
            "(measured), more than its memory budget of 80 MiB; its results are incomplete"
        ),
        "{err}"
    );
}

#[test]
fn the_memory_budget_stops_a_run_in_the_engine() {
    let topo = topology("ftm-games", &[]);
    let mut s = shipped(
        &topo,
        "zone-loss",
        &[("duration: \"30m\"", "duration: \"12m\"")],
    );
    // Below what validation allows from a file: the engine must stop the run by itself.
    s.memory_budget = 10 << 20;
    let r = run(&topo, &s);
    let Some(Stopped::MemoryBudget { bytes }) = r.stopped else {
        panic!("not stopped by memory: {:?}", r.stopped);
    };
    // Measured every 65,536 events: just past the budget, well before the end.
    assert!(bytes > 10 << 20 && bytes < 11 << 20, "{bytes}");
    assert!(r.last_event_at.as_secs_f64() < 700.0, "{}", r.last_event_at);
    let why = r.incomplete().expect("an incomplete run says why");
    assert!(why.contains("more than its memory budget"), "{why}");
    assert!(r.services.iter().all(|sv| !sv.judged));
}

/// Each periodic interval of a topology (an edit of ftm-games, the field the error names),
/// each set below 1 ms by one microsecond.
const INTERVAL_MINIMA: &[(&str, &str, &str)] = &[
    ("loop_wait: \"10s\"", "loop_wait: \"999us\"", "`loop_wait`"),
    (
        "inter: \"3s\", timeout: \"1s\"",
        "inter: \"999us\", timeout: \"999us\"",
        "`inter`",
    ),
    (
        "interval: \"10s\", timeout: \"5s\"",
        "interval: \"999us\", timeout: \"999us\"",
        "`inter`",
    ),
    (
        "request_interval: \"10s\"",
        "request_interval: \"999us\"",
        "`request_interval`",
    ),
    (
        "interval: \"5s\", timeout: \"2s\"",
        "interval: \"999us\", timeout: \"999us\"",
        "`inter`",
    ),
    (
        "block_time: \"12s\"",
        "block_time: \"999us\"",
        "`block_time`",
    ),
    ("every: \"6h\"", "every: \"999us\"", "`every`"),
    ("every: \"7d\"", "every: \"999us\"", "`every`"),
    ("every: \"1h\"", "every: \"999us\"", "`every`"),
    (
        "integrity_check: (every: \"1h\", at: \"50m\"),",
        "integrity_check: (every: \"1h\", at: \"50m\"), metrics_scrape: \"999us\",",
        "`metrics_scrape`",
    ),
    (
        "down_after: \"5s\",",
        "down_after: \"5s\", ping_interval: \"999us\",",
        "`ping_interval`",
    ),
    (
        "failover_timeout: \"60s\"",
        "failover_timeout: \"999us\"",
        "`failover_timeout`",
    ),
    (
        "chunk_timeout: \"10m\",",
        "chunk_timeout: \"10m\", answer_timeout: \"999us\",",
        "`answer_timeout`",
    ),
    (
        "archive: Some((store: \"cold-archive\", every: \"7d\", at: \"10m\")),",
        "archive: Some((store: \"cold-archive\", every: \"7d\", at: \"10m\")),\n                wal_archive: Some((store: \"backup-vault\", archive_timeout: \"999us\")),",
        "`archive_timeout`",
    ),
];

#[test]
fn every_periodic_interval_of_a_topology_has_a_minimum() {
    for (k, (from, to, field)) in INTERVAL_MINIMA.iter().enumerate() {
        let text = edit(&read("topologies/ftm-games.ron"), &[(from, to)]);
        let p = temp_file("bounds-minima", &format!("t{k}.ron"), &text);
        let (code, _, err) = gameday(&["validate", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{to}: {err}");
        let at = format!("{}{}", p.display(), position(&text, "\"999us\""));
        for e in [at.as_str(), field, "must be at least 1ms"] {
            assert!(err.contains(e), "{to}: `{e}` missing from {err}");
        }
    }
}

#[test]
fn a_topology_at_the_interval_minimum_is_valid() {
    let text = edit(
        &read("topologies/ftm-games.ron"),
        &[
            ("loop_wait: \"10s\"", "loop_wait: \"1ms\""),
            ("block_time: \"12s\"", "block_time: \"1ms\""),
            ("every: \"6h\"", "every: \"1ms\""),
        ],
    );
    let p = temp_file("bounds-minima", "at-minimum.ron", &text);
    let (code, _, err) = gameday(&["validate", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_estimate_is_a_lower_bound_of_what_the_shipped_runs_do() {
    // Below the real events, and a quarter of them or more: a bound, and not a vacuous one
    // (30 to 40 % on the shipped scenarios, docs/SCENARIOS.md).
    for (topo_name, name) in [
        ("ftm-games", "zone-loss"),
        ("ftm-games", "table-corruption"),
        ("ftm-games", "redis-region-loss"),
        ("rw1", "rw1"),
    ] {
        let topo = topology(topo_name, &[]);
        let s = shipped(&topo, name, &[]);
        let estimate = gameday::model::cost::estimate(&topo, &s);
        let r = run(&topo, &s);
        assert!(r.stopped.is_none(), "{name}");
        let (low, real) = (estimate.events(), r.events);
        assert!(low <= real && low * 4 >= real, "{name}: {low} vs {real}");
    }
}

#[test]
fn a_memory_budget_is_a_size_greater_than_zero() {
    for (budget, expect) in [
        ("\"0B\"", "the memory budget must be greater than zero"),
        ("\"lots\"", "is not a size"),
        ("\"4 parsecs\"", "unknown unit `parsecs`"),
    ] {
        let text = scenario_text(
            "zone-loss",
            &ftm(),
            &[(
                "    runs: 1,",
                &format!("    runs: 1,\n    memory_budget: {budget},"),
            )],
        );
        let p = temp_file("bounds", "zero-memory.ron", &text);
        let (code, _, err) = gameday(&["validate", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{budget}: {err}");
        assert!(err.contains(":13:"), "{budget}: {err}");
        assert!(err.contains(expect), "{budget}: {err}");
    }
}

//! RW1 (../shared/bench/RW1.md) through the general engine: `gameday::run::run_once` on
//! `scenarios/rw1.ron` + `topologies/rw1.ron`, i.e. assembly, the event loop, and judging
//! (history recording, checkers, RTO/RPO) — everything one `gameday run` does per run except
//! parsing the files and writing the report.
//!
//! Two variants:
//! - `rw1/700s`: the scenario with `duration` overridden to 700 s (4,729,994 events; covers
//!   the fault at 600 s, the failover and 67 s of recovered service);
//! - `rw1/3600s`: the full RW1 (19,714,294 events, ~1 s a run).
//!
//! Before timing, each variant is run once and its results are checked against the agreed
//! results in ../shared/bench/RW1-notes.md, so a benchmark of wrong behaviour cannot pass.
//! Throughput is reported in events (one per event the loop processes).
//!
//! Run with `cargo bench --bench rw1` (about half a minute: the full variant needs at least
//! ten runs, one per sample).

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use gameday::model::scenario::{ParsedScenario, Scenario};
use gameday::model::topology::Topology;
use gameday::run::{RunResult, run_once};
use gameday::sim::rng::run_seed;
use gameday::sim::time::{SimDuration, SimTime};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// What one RW1 run must produce (RW1-notes.md, "Agreement").
struct Expected {
    events: u64,
    sent: u64,
    acked: u64,
    failed: u64,
    in_flight: u64,
}

const RW1_700S: Expected = Expected {
    events: 4_729_994,
    sent: 699_999,
    acked: 666_558,
    failed: 33_261,
    in_flight: 180,
};

const RW1_3600S: Expected = Expected {
    events: 19_714_294,
    sent: 3_599_999,
    acked: 3_566_558,
    failed: 33_261,
    in_flight: 180,
};

fn load() -> (Topology, Scenario) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let topo = Topology::load(&root.join("topologies/rw1.ron")).expect("topologies/rw1.ron loads");
    let scenario = ParsedScenario::load(&root.join("scenarios/rw1.ron"))
        .expect("scenarios/rw1.ron parses")
        .resolve(&topo)
        .expect("scenarios/rw1.ron resolves against topologies/rw1.ron");
    (topo, scenario)
}

/// The run seed `gameday run` uses for the scenario's first (only) run.
fn seed_of(scenario: &Scenario) -> u64 {
    run_seed(scenario.seed, 0)
}

/// Runs once and panics unless every result matches the agreed RW1 results.
fn check(label: &str, topo: &Topology, scenario: &Scenario, want: &Expected) -> RunResult {
    let r = run_once(topo, scenario, seed_of(scenario));
    let ms = |t: Option<SimTime>| t.map(|t| t.as_nanos() / 1_000_000);
    let got = (
        r.events,
        r.writes.sent,
        r.writes.acked,
        r.writes.failed,
        r.writes.in_flight,
        r.writes.acked_lost,
    );
    let wanted = (
        want.events,
        want.sent,
        want.acked,
        want.failed,
        want.in_flight,
        0,
    );
    assert_eq!(
        got, wanted,
        "{label}: (events, sent, acked, failed, in_flight, acked_lost) differ from RW1-notes.md"
    );
    assert!(r.stopped.is_none(), "{label}: stopped by {:?}", r.stopped);
    assert_eq!(ms(r.detected), Some(603_000), "{label}: detected_at");
    assert_eq!(ms(r.promoted), Some(603_170), "{label}: promoted_at");
    assert_eq!(
        ms(r.first_success),
        Some(633_380),
        "{label}: first_ack_after_fault"
    );
    assert_eq!(
        r.first_success_rto(),
        Some(SimDuration::from_millis(33_380)),
        "{label}: rto"
    );
    assert!(
        r.safety_violations.is_empty(),
        "{label}: safety violations: {:?}",
        r.safety_violations
    );
    r
}

fn rw1(c: &mut Criterion) {
    let (topo, full) = load();
    let mut short = full.clone();
    short.duration = SimDuration::from_secs(700);

    let checked_short = check("rw1 700 s", &topo, &short, &RW1_700S);
    let checked_full = check("rw1 3600 s", &topo, &full, &RW1_3600S);

    let mut group = c.benchmark_group("rw1");
    // One run is 0.2–2 s: flat sampling (the same iteration count in every sample) and the
    // minimum of ten samples. 700 s: usually two runs per sample (~7 s). 3600 s: one run per sample
    // (~15 s); criterion then prints "Unable to complete 10 samples in 5.0s": expected, the
    // time is kept short on purpose (the machine is shared).
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));

    group
        .throughput(Throughput::Elements(checked_short.events))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("700s", |b| {
        let seed = seed_of(&short);
        b.iter(|| black_box(run_once(&topo, black_box(&short), seed)).events)
    });

    group
        .throughput(Throughput::Elements(checked_full.events))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("3600s", |b| {
        let seed = seed_of(&full);
        b.iter(|| black_box(run_once(&topo, black_box(&full), seed)).events)
    });
    group.finish();
}

criterion_group!(benches, rw1);
criterion_main!(benches);

//! Running scenarios: one seeded run, judged from its history, and Monte Carlo batches.
//!
//! | module | job |
//! |---|---|
//! | [`assemble`] | topology + scenario + seed → processes (one module per component kind), network, fault schedule |
//! | [`world`] | the processes of a run, dispatched by the kernel |
//! | [`judge`] | histories + final state → counts, outages and RTO, losses and RPO, latency, safety |
//! | [`ops`] | each recorded operation with its verdict and response time |
//! | [`outages`] | outages pinned to operations, their causes, latency around them |
//! | [`losses`] | each datastore's final data, and why an acknowledged write is missing |
//! | [`timeline`] | notes and measurements → the incident timeline |
//! | [`comms`] | when every service was back for users, and how long the status page called a failing service operational |

pub mod assemble;
pub mod comms;
pub mod judge;
pub mod losses;
pub mod ops;
pub mod outages;
pub mod timeline;
pub mod world;

use crate::model::scenario::Scenario;
use crate::model::topology::Topology;
use crate::sim::kernel::{Bounds, RunStats, Simulation};
use crate::sim::rng::run_seed;
use crate::sim::time::SimTime;
pub use judge::{RunResult, TimelineEntry};
use rayon::prelude::*;

/// Runs `scenario` once with `seed` (a run seed, already derived), keeping the detail charts
/// draw (the success series per service and the replication lag).
pub fn run_once(topo: &Topology, scenario: &Scenario, seed: u64) -> RunResult {
    run_with(topo, scenario, seed, true)
}

/// One run; with `detail: false` the series and lag are neither recorded nor kept (a Monte
/// Carlo batch charts its first run only).
fn run_with(topo: &Topology, scenario: &Scenario, seed: u64, detail: bool) -> RunResult {
    let span = tracing::info_span!("run", scenario = %scenario.name, seed);
    let _guard = span.enter();
    let assembly = assemble::assemble(topo, scenario, seed);
    let mut world = assembly.world;
    world.record_lag = detail;
    let bounds = Bounds {
        end: SimTime::ZERO + scenario.duration,
        event_budget: scenario.event_budget,
        memory_budget: scenario.memory_budget,
    };
    let mut sim = Simulation::new(assembly.network, assembly.faults, bounds);
    // Wall time is measured around the loop for the log only (standard error, `-v`); it
    // never reaches the simulation or the results, which must be the same bytes every time.
    #[allow(clippy::disallowed_methods)]
    let wall = std::time::Instant::now();
    let stats: RunStats = sim.run(&mut world);
    let wall_seconds = wall.elapsed().as_secs_f64();
    tracing::info!(
        events = stats.events,
        trace_hash = stats.trace_hash,
        wall_seconds,
        "run finished"
    );
    let notes = sim.take_notes();
    let evidence = judge::Evidence {
        world: &world,
        clusters: &assembly.clusters,
        notes: &notes,
        stats,
        network: sim.network(),
    };
    judge::judge(topo, scenario, seed, &evidence, detail)
}

/// Runs `runs` seeds derived from `master`, in parallel across cores; results are in run
/// order and identical whatever the number of threads (each run is single-threaded and
/// depends only on its own seed). `progress` is called once per finished run.
pub fn run_batch(
    topo: &Topology,
    scenario: &Scenario,
    master: u64,
    runs: u32,
    progress: &(dyn Fn() + Sync),
) -> Vec<RunResult> {
    (0..runs as u64)
        .into_par_iter()
        .map(|i| {
            // Charts show the first run's detail; thousands of runs need not record theirs.
            let r = run_with(topo, scenario, run_seed(master, i), i == 0);
            progress();
            r
        })
        .collect()
}

//! Loading the shipped files, with small edits, and running them.

use gameday::model::error::Source;
use gameday::model::scenario::{ParsedScenario, Scenario};
use gameday::model::topology::Topology;
use gameday::run::judge::{ServiceResult, Status};
use gameday::run::{RunResult, run_once};
use gameday::sim::time::SimTime;
use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Replaces each `from` (which must occur) with `to`.
pub fn edit(text: &str, edits: &[(&str, &str)]) -> String {
    let mut t = text.to_string();
    for (from, to) in edits {
        assert!(t.contains(from), "edit target `{from}` not found");
        t = t.replacen(from, to, 1);
    }
    t
}

/// A shipped topology with edits applied.
pub fn topology(name: &str, edits: &[(&str, &str)]) -> Topology {
    let text = edit(&read(&format!("topologies/{name}.ron")), edits);
    Topology::from_source(Source::inline(&format!("topologies/{name}.ron"), &text))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A scenario from text, resolved against `topo`.
pub fn scenario(topo: &Topology, text: &str) -> Scenario {
    ParsedScenario::from_source(Source::inline("test-scenario.ron", text))
        .and_then(|p| p.resolve(topo))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A shipped scenario with edits applied.
pub fn shipped(topo: &Topology, name: &str, edits: &[(&str, &str)]) -> Scenario {
    scenario(topo, &edit(&read(&format!("scenarios/{name}.ron")), edits))
}

pub fn run(topo: &Topology, s: &Scenario) -> RunResult {
    run_once(topo, s, s.seed)
}

/// The figures of the service called `name` in run `r`.
pub fn service<'a>(r: &'a RunResult, topo: &Topology, name: &str) -> &'a ServiceResult {
    let k = topo.service(name).expect("service exists");
    r.services
        .iter()
        .find(|s| s.service == k)
        .expect("service had a workload")
}

/// Runs the built binary with `args` in the project root; returns (status, stdout, stderr).
pub fn gameday(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .output()
        .expect("the gameday binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Where a service stands at the end of a run, in the terms the tests ask about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// No outage.
    NeverBroke,
    /// Its last outage ended here.
    RecoveredAt(SimTime),
    NotRecovered,
    NotJudged,
}

pub fn recovery(sv: &ServiceResult) -> Recovery {
    match sv.status() {
        Status::Held => Recovery::NeverBroke,
        Status::Recovered => Recovery::RecoveredAt(
            sv.outages
                .last()
                .and_then(|o| o.end)
                .expect("a recovered service's outages ended"),
        ),
        Status::NotRecovered => Recovery::NotRecovered,
        Status::NotJudged => Recovery::NotJudged,
    }
}

/// The worst service's: not judged, then not recovered, then the latest recovery.
pub fn run_recovery(r: &RunResult) -> Recovery {
    r.services
        .iter()
        .map(recovery)
        .max_by_key(|x| match x {
            Recovery::NeverBroke => (0, SimTime::ZERO),
            Recovery::RecoveredAt(t) => (1, *t),
            Recovery::NotRecovered => (2, SimTime::ZERO),
            Recovery::NotJudged => (3, SimTime::ZERO),
        })
        .unwrap_or(Recovery::NeverBroke)
}

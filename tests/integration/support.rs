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

/// Where the reference topology's operations team (monitoring, paging, status page, runbooks)
/// starts and where the section after it begins.
const OPS_START: &str = "    // ---- People and process ----";
const OPS_END: &str = "    clients: [";
/// The same for the team's nodes, in the node list.
const OPS_NODES: &str = "        // The operations team:";
const NODES_AFTER: &str = "        Node(name: \"players-na\"";

/// ftm-games without its operations team: the machines alone, for tests of machine
/// behaviour that people must not change, and for tests that build their own team.
pub fn machines_only_text() -> String {
    let mut text = read("topologies/ftm-games.ron");
    for (from, to) in [(OPS_NODES, NODES_AFTER), (OPS_START, OPS_END)] {
        let start = text.find(from).expect("ftm-games has an operations team");
        let end = start + text[start..].find(to).expect("a section follows it");
        text.replace_range(start..end, "");
    }
    text
}

/// ftm-games without its operations team, as a topology.
pub fn machines_only() -> Topology {
    Topology::from_source(Source::inline(
        "topologies/ftm-games.ron",
        &machines_only_text(),
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The edit that takes the plan's response targets out of a shipped scenario, for a run on
/// [`machines_only`] (which nobody could page).
pub const NO_RESPONSE_TARGETS: (&str, &str) = (
    ",\n        response: (acknowledge: \"2m\", status_page: \"5m\", failover: \"10m\", restored: \"15m\")),",
    "),",
);

/// ftm-games's machines (no operations team) with edits applied.
pub fn machines(edits: &[(&str, &str)]) -> Topology {
    let text = edit(&machines_only_text(), edits);
    Topology::from_source(Source::inline("topologies/ftm-games.ron", &text))
        .unwrap_or_else(|e| panic!("{e}"))
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

/// Like [`gameday`], with extra environment variables.
pub fn gameday_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .output()
        .expect("the gameday binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Like [`gameday`], but killed (and the test failed) if it has not finished within `secs`:
/// for inputs that used to run for minutes or exhaust memory before they were refused.
pub fn gameday_within(secs: u64, args: &[&str]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("gameday-within-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (out, err) = (dir.join(format!("{k}.out")), dir.join(format!("{k}.err")));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("the gameday binary runs");
    let deadline = std::time::Duration::from_secs(secs);
    let mut waited = std::time::Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if waited >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gameday {args:?} still running after {secs} s");
        }
        let step = std::time::Duration::from_millis(20);
        std::thread::sleep(step);
        waited += step;
    };
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&err).unwrap(),
    )
}

/// Writes `text` as `name` in a directory of the test binary's own; returns its path.
pub fn temp_file(tag: &str, name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gameday-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A shipped scenario with edits, naming `topology` (a path) instead of its topology's name.
pub fn scenario_text(name: &str, topology: &std::path::Path, edits: &[(&str, &str)]) -> String {
    let text = read(&format!("scenarios/{name}.ron"));
    let from = text
        .lines()
        .find(|l| l.trim_start().starts_with("topology:"))
        .expect("a topology line")
        .to_string();
    let to = format!("    topology: \"{}\",", topology.display());
    let mut all = vec![(from.as_str(), to.as_str())];
    all.extend_from_slice(edits);
    edit(&text, &all)
}

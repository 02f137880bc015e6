//! Hostile input: every mistake gets one clear message naming the file, line, column and the
//! offending name, and exit status 2 — never a panic.

use crate::support::*;
use std::path::PathBuf;

fn temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gameday-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Validates `text` written as `name` (a scenario naming topologies/ftm-games.ron by
/// absolute path, or a topology); checks status 2 and that stderr names all of `expect`.
fn rejected(name: &str, text: &str, expect: &[&str]) {
    let p = temp(name, text);
    let (code, _out, err) = gameday(&["validate", p.to_str().unwrap()]);
    assert_eq!(code, 2, "exit status for {name}: stderr {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(p.to_str().unwrap()), "names the file: {err}");
    for e in expect {
        assert!(err.contains(e), "`{e}` missing from: {err}");
    }
}

/// `:LINE:` of the first line of `text` containing `needle` (expected positions follow the
/// shipped files instead of being hard-coded).
fn line_of(text: &str, needle: &str) -> String {
    let n = text
        .lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1;
    format!(":{n}:")
}

fn topo_path() -> String {
    root()
        .join("topologies/ftm-games.ron")
        .display()
        .to_string()
}

fn zone_loss_with(edits: &[(&str, &str)]) -> String {
    let mut all = vec![("topology: \"ftm-games\"", "topology: \"TOPO\"")];
    all.extend_from_slice(edits);
    edit(&read("scenarios/zone-loss.ron"), &all).replace("TOPO", &topo_path())
}

fn ftm_with(edits: &[(&str, &str)]) -> String {
    edit(&read("topologies/ftm-games.ron"), edits)
}

#[test]
fn malformed_ron_names_line_and_column() {
    rejected(
        "broken.ron",
        "Scenario(\n  name: \"x\",\n  duration: 30s,\n)",
        &[":3:"],
    );
}

#[test]
fn unknown_fault_kind() {
    let text = zone_loss_with(&[("ZoneLoss(\"us-east-1a\")", "MeteorStrike(\"us-east-1a\")")]);
    rejected(
        "meteor.ron",
        &text,
        &[
            "unknown fault kind `MeteorStrike`",
            "ZoneLoss",
            &format!("{}32", line_of(&text, "MeteorStrike")),
        ],
    );
}

#[test]
fn a_zone_that_does_not_exist() {
    let text = zone_loss_with(&[("ZoneLoss(\"us-east-1a\")", "ZoneLoss(\"us-east-1z\")")]);
    rejected(
        "zone.ron",
        &text,
        &[
            "`us-east-1z`",
            "no such zone",
            &format!("{}41", line_of(&text, "us-east-1z")),
        ],
    );
}

#[test]
fn a_node_that_does_not_exist() {
    let text = ftm_with(&[("primary: \"pg-a\",", "primary: \"pg-q\",")]);
    rejected(
        "node.ron",
        &text,
        &["`pg-q`", "primary must be one of the members"],
    );
    let text = ftm_with(&[("watch: [Node(\"pg-a\"),", "watch: [Node(\"pg-zz\"),")]);
    rejected("watch.ron", &text, &["`pg-zz`", "no such place"]);
}

#[test]
fn zero_and_negative_durations() {
    rejected(
        "zero.ron",
        &zone_loss_with(&[("duration: \"30m\"", "duration: \"0s\"")]),
        &["`0s`", "greater than zero"],
    );
    rejected(
        "neg.ron",
        &zone_loss_with(&[("duration: \"30m\"", "duration: \"-30m\"")]),
        &["-30m"],
    );
    rejected(
        "ttl.ron",
        &ftm_with(&[(
            "ttl: \"30s\",\n            loop_wait",
            "ttl: \"0s\",\n            loop_wait",
        )]),
        &["ttl must be greater than zero"],
    );
    rejected(
        "fault-duration.ron",
        &zone_loss_with(&[("Fault(at: \"10m\",", "Fault(at: \"10m\", duration: \"0s\",")]),
        &["`0s`", "fault's duration must be greater than zero"],
    );
}

#[test]
fn a_quorum_that_cannot_be_met() {
    let text = ftm_with(&[("Synchronous(Any(1))", "Synchronous(Any(4))")]);
    rejected(
        "quorum.ron",
        &text,
        &["`postgres`", "quorum of 4 standbys", "cannot be met"],
    );
}

#[test]
fn an_empty_topology() {
    rejected(
        "empty.ron",
        "Topology(name: \"empty\", providers: [], latency: (same_zone: \"1ms\", cross_zone: \"1ms\", cross_region: \"1ms\", cross_provider: \"1ms\"), nodes: [])",
        &["no providers"],
    );
    rejected(
        "nonodes.ron",
        "Topology(name: \"e\", providers: [Provider(name: \"p\", regions: [Region(name: \"r\", zones: [\"z\"])])], latency: (same_zone: \"1ms\", cross_zone: \"1ms\", cross_region: \"1ms\", cross_provider: \"1ms\"), nodes: [])",
        &["no nodes"],
    );
}

#[test]
fn absurd_sizes() {
    rejected(
        "huge-group.ron",
        &ftm_with(&[(
            "Node(name: \"api-use1a\", zone: \"us-east-1a\", count: 2)",
            "Node(name: \"api-use1a\", zone: \"us-east-1a\", count: 4000000000)",
        )]),
        &["`api-use1a`", "count must be between 1 and"],
    );
    rejected(
        "long.ron",
        &zone_loss_with(&[("duration: \"30m\"", "duration: \"400d\"")]),
        &["longer than the limit"],
    );
    rejected(
        "runs.ron",
        &zone_loss_with(&[("runs: 1,", "runs: 0,")]),
        &["`0`", "runs must be between"],
    );
    // At the fastest rate allowed (one operation a microsecond), a month of operations
    // overflows the population's operation numbers.
    rejected(
        "rate.ron",
        &zone_loss_with(&[
            ("duration: \"30m\"", "duration: \"30d\""),
            ("Poisson(\"10ms\")", "Poisson(\"1us\")"),
        ]),
        &["`players-na`", "operations in the run"],
    );
}

#[test]
fn a_fault_after_the_end_and_an_unknown_client() {
    rejected(
        "late.ron",
        &zone_loss_with(&[("at: \"10m\"", "at: \"45m\"")]),
        &["at or after the end"],
    );
    rejected(
        "who.ron",
        &zone_loss_with(&[("clients: \"players-eu\"", "clients: \"players-mars\"")]),
        &["`players-mars`", "no such client"],
    );
}

#[test]
fn a_missing_file_and_a_missing_topology() {
    let (code, _, err) = gameday(&["run", "no/such/scenario.ron"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no/such/scenario.ron") && err.contains("cannot read"),
        "{err}"
    );
    let text = zone_loss_with(&[]).replace(&topo_path(), "nowhere-topology");
    rejected(
        "orphan.ron",
        &text,
        &["`nowhere-topology`", "no topology file found"],
    );
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = gameday(&["run", "--runs", "many"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = gameday(&["frobnicate"]);
    assert_eq!(code, 2);
}

#[test]
fn a_misspelt_field_inside_a_fault_kind() {
    let text = zone_loss_with(&[(
        "kind: ZoneLoss(\"us-east-1a\")",
        "kind: Latency(a: Zone(\"us-east-1a\"), bb: Zone(\"us-east-1b\"), extra: \"5ms\")",
    )]);
    rejected(
        "typo.ron",
        &text,
        &["unknown field `bb`", &line_of(&text, "bb:")],
    );
}

#[test]
fn a_controller_that_does_not_watch_the_primary() {
    let text = ftm_with(&[(
        "watch: [Node(\"pg-a\"), Node(\"pg-b\"), Node(\"pg-c\"), Node(\"pg-west\")],",
        "watch: [Node(\"pg-b\"), Node(\"pg-c\"), Node(\"pg-west\")],",
    )]);
    rejected(
        "unwatched.ron",
        &text,
        &["`pg-a`", "controller `dcs`", "must watch"],
    );
}

#[test]
fn a_population_with_two_workloads_and_a_late_fault_named_as_written() {
    let text = zone_loss_with(&[("clients: \"players-eu\"", "clients: \"players-na\"")]);
    rejected("twice.ron", &text, &["`players-na`", "two workloads"]);
    let text = zone_loss_with(&[("at: \"10m\"", "at: \"45m\"")]);
    rejected(
        "late2.ron",
        &text,
        &[
            "`45m`",
            &line_of(&text, "45m"),
            "at or after the end of the run (1800s)",
        ],
    );
}

#[test]
fn services_must_exist_and_be_named_when_there_are_several() {
    // ftm-games has two services (accounts, game-state): a workload must say which.
    rejected(
        "unnamed.ron",
        &zone_loss_with(&[(
            "clients: \"players-na\", service: \"accounts\",",
            "clients: \"players-na\",",
        )]),
        &["`players-na`", "name this workload's `service`"],
    );
    rejected(
        "ghost.ron",
        &zone_loss_with(&[("service: \"accounts\"", "service: \"ghost\"")]),
        &["`ghost`", "no such service"],
    );
    rejected(
        "target.ron",
        &zone_loss_with(&[(
            "services: {",
            "services: {\"ghost\": (rto: \"1m\", rpo: \"0s\"), ",
        )]),
        &["`ghost`", "no such service"],
    );
}

#[test]
fn sentinel_settings_are_checked() {
    let text = ftm_with(&[("quorum: 2,", "quorum: 4,")]);
    rejected(
        "quorum4.ron",
        &text,
        &[
            "`4`",
            "sentinel quorum must be between 1 and",
            &line_of(&text, "quorum: 4"),
        ],
    );
    let text = ftm_with(&[(
        "replication: Asynchronous(ship_interval: \"250ms\"),",
        "replication: Synchronous(Any(1)),",
    )]);
    rejected(
        "sync-redis.ron",
        &text,
        &["`redis`", "replicates asynchronously"],
    );
}

#[test]
fn backup_and_capacity_settings_are_checked() {
    let text = ftm_with(&[("data_size: \"60GiB\"", "data_size: \"60 parsecs\"")]);
    rejected(
        "size.ron",
        &text,
        &["unknown unit `parsecs`", &line_of(&text, "60 parsecs")],
    );
    let text = ftm_with(&[(
        "snapshots: Some((store: \"backup-vault\"",
        "snapshots: Some((store: \"nowhere-vault\"",
    )]);
    rejected(
        "store.ron",
        &text,
        &["`nowhere-vault`", "no such store in `backup_stores`"],
    );
    let text = ftm_with(&[("throughput: \"15MiB/s\"", "throughput: \"0B/s\"")]);
    rejected("throughput.ron", &text, &["`cold-archive`", "throughput"]);
    let text = ftm_with(&[("workers: 4,", "workers: 0,")]);
    rejected("workers.ron", &text, &["workers"]);
    let text = zone_loss_with(&[(
        "kind: ZoneLoss(\"us-east-1a\")",
        "kind: TableCorruption(datastore: \"postgres\", share: 1.5)",
    )]);
    rejected("share.ron", &text, &["`postgres`", "(0, 1]"]);
    let text = zone_loss_with(&[(
        "kind: ZoneLoss(\"us-east-1a\")",
        "kind: BackupDeletion(\"attic\")",
    )]);
    rejected("deletion.ron", &text, &["`attic`", "no such store"]);
}

//! Measurements a CI gate can trust (issue 8): one test per finding, each run the way a user
//! runs it (`gameday check`, reading `results.json` as printed with `--format json`), and each
//! failing on the behaviour the finding describes: a gate that passed a broken plan, a figure
//! measured from the wrong instant or under the wrong name.

use crate::support::*;
use serde_json::Value;
use std::path::PathBuf;

/// A fresh directory for one test's files.
fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gameday-trust-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `ftm-games` with `topo_edits` and a shipped scenario with `edits` into `d`, the
/// scenario naming the topology file by path; returns the scenario's path.
fn files(
    d: &std::path::Path,
    name: &str,
    topo_edits: &[(&str, &str)],
    edits: &[(&str, &str)],
) -> PathBuf {
    let topo = d.join("ftm-games.ron");
    std::fs::write(&topo, edit(&read("topologies/ftm-games.ron"), topo_edits)).unwrap();
    let mut all = vec![("topology: \"ftm-games\"", "topology: \"TOPO\"")];
    all.extend_from_slice(edits);
    let text =
        edit(&read(&format!("scenarios/{name}.ron")), &all).replace("TOPO", topo.to_str().unwrap());
    let path = d.join(format!("{name}.ron"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `gameday check SCENARIO --format json`: the exit status and the first scenario's JSON.
fn check(scenario: &std::path::Path, d: &std::path::Path) -> (i32, Value) {
    let out = d.join("report");
    let (code, stdout, stderr) = gameday(&[
        "check",
        scenario.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (code, json["scenarios"][0].clone())
}

/// The first run's figures of service `name`.
fn first_run<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["per_run"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

/// The aggregate figures of service `name`.
fn aggregate<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

fn failures(s: &Value) -> Vec<String> {
    s["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

fn secs(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// When the first run's timeline first has an entry of `kind` whose detail contains `what`.
fn when(s: &Value, kind: &str, what: &str) -> f64 {
    s["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind && e["detail"].as_str().unwrap().contains(what))
        .map(|e| secs(&e["at_s"]))
        .unwrap_or_else(|| panic!("no `{kind}` entry with `{what}`"))
}

#[test]
fn finding_1_a_second_outage_that_lasts_to_the_end_fails_the_gate() {
    // The Redis master crashes at 3 m (Sentinel fails over), then both replicas at 15 m:
    // game state has no master from 15 m to the end.
    let d = dir("second-outage");
    let s = files(
        &d,
        "redis-zone-loss",
        &[],
        &[(
            "Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1c\")),",
            "Fault(at: \"3m\", kind: NodeCrash(\"redis-use1\")),\n        Fault(at: \"15m\", kind: NodeCrash(\"redis-usw2\")),\n        Fault(at: \"15m\", kind: NodeCrash(\"redis-euw1\")),",
        )],
    );
    let (code, json) = check(&s, &d);
    assert_eq!(code, 1, "a service down at the end must fail the gate");
    let gs = first_run(&json, "game-state");
    assert_eq!(gs["status"], "not_recovered");
    assert!(gs["rto_s"].is_null());
    let outages = gs["outages"].as_array().unwrap();
    assert_eq!(outages.len(), 2, "{outages:#?}");
    assert!(
        secs(&outages[0]["end_s"]) < 900.0,
        "the first failover recovered"
    );
    assert!(secs(&outages[1]["start_s"]) >= 900.0);
    assert!(outages[1]["end_s"].is_null());
    assert!(
        outages[1]["causes"][0]
            .as_str()
            .unwrap()
            .contains("redis-usw2"),
        "{}",
        outages[1]
    );
    assert_eq!(aggregate(&json, "game-state")["passed"], false);
    assert!(
        failures(&json)
            .iter()
            .any(|f| f.contains("game-state: not recovered")),
        "{:?}",
        failures(&json)
    );
}

#[test]
fn finding_2_rto_runs_from_what_broke_the_service_not_the_earliest_fault() {
    // pg-west crashes at 2 m (nothing notices); us-east-1a is lost at 10 m and breaks game
    // state for a few seconds through the shared load balancer.
    let d = dir("from-the-cause");
    let s = files(
        &d,
        "zone-loss",
        &[],
        &[(
            "Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1a\")),",
            "Fault(at: \"2m\", kind: NodeCrash(\"pg-west\")),\n        Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1a\")),",
        )],
    );
    let (_, json) = check(&s, &d);
    let gs = first_run(&json, "game-state");
    let rto = secs(&gs["rto_s"]);
    assert!(
        rto < 60.0,
        "game-state RTO {rto} s, counted from the 2 m crash?"
    );
    let outage = &gs["outages"][0];
    assert!(secs(&outage["start_s"]) >= 600.0, "{outage}");
    assert_eq!(
        outage["causes"],
        serde_json::json!(["zone us-east-1a lost"])
    );
}

#[test]
fn finding_2_a_restore_is_measured_from_the_corruption_not_an_earlier_store_failure() {
    // The cold archive crashes an hour before the bad transaction (9000 s).
    let d = dir("restore-cause");
    let s = files(
        &d,
        "table-corruption",
        &[],
        &[(
            "faults: [",
            "faults: [\n        Fault(at: \"90m\", kind: NodeCrash(\"cold-archive\")),",
        )],
    );
    let (_, json) = check(&s, &d);
    let accounts = first_run(&json, "accounts");
    let outage = &accounts["outages"][0];
    assert!(secs(&outage["start_s"]) >= 9000.0, "{outage}");
    let rto = secs(&accounts["rto_s"]);
    assert!((25.0 * 60.0..35.0 * 60.0).contains(&rto), "RTO {rto} s");
    assert!(
        outage["causes"][0]
            .as_str()
            .unwrap()
            .contains("bad transaction"),
        "{outage}"
    );
    // The data lost runs from the snapshot the restore went back to, not from the crash.
    let loss = &accounts["losses"][0];
    assert_eq!(loss["cause"], "restore");
    assert!(secs(&loss["from_s"]) < 2100.0, "{loss}");
}

#[test]
fn finding_3_a_ten_minute_halt_cannot_recover_in_under_ten_minutes() {
    let d = dir("halt");
    let s = files(&d, "chain-halt", &[], &[]);
    let (_, json) = check(&s, &d);
    for feature in ["mint", "marketplace"] {
        let f = first_run(&json, feature);
        let end = secs(&f["outages"][0]["end_s"]);
        assert!(
            end >= 1200.0,
            "{feature} recovered at {end} s, the halt ends at 1200 s"
        );
        assert!(secs(&f["rto_s"]) >= 600.0, "{feature}: {}", f["rto_s"]);
        assert_eq!(
            secs(&f["outages"][0]["start_s"]),
            600.0,
            "the halt broke it"
        );
        assert!(end > secs(&f["outages"][0]["start_s"]));
    }
}

#[test]
fn finding_3_recovery_follows_what_made_it_possible() {
    let d = dir("order");
    let s = files(&d, "zone-loss", &[], &[]);
    let (_, json) = check(&s, &d);
    let recovered = when(&json, "recovered", "accounts:");
    assert!(recovered > when(&json, "promoted", "primary of epoch 2"));
    assert!(recovered > when(&json, "rerouted", "pg-b"));
    // Not a second in which clients still failed: the recovery's second and every later one
    // of the window failed at most 1 % of its operations.
    let series = &aggregate(&json, "accounts")["series"];
    let (ok, failed) = (
        series["ok"].as_array().unwrap(),
        series["failed"].as_array().unwrap(),
    );
    let first = recovered.ceil() as usize;
    for b in first..first + 60 {
        let (o, f) = (ok[b].as_u64().unwrap(), failed[b].as_u64().unwrap());
        assert!(f * 100 <= o + f, "second {b}: {f} of {} failed", o + f);
    }

    let d = dir("order-restore");
    let s = files(&d, "table-corruption", &[], &[]);
    let (_, json) = check(&s, &d);
    let recovered = when(&json, "recovered", "accounts:");
    assert!(recovered > when(&json, "restore", "restored data verified"));
    assert!(recovered > when(&json, "restored", "switched to the restored data"));
    assert!(recovered > when(&json, "promoted", "primary of epoch 2"));
}

#[test]
fn finding_4_a_truncated_run_judges_nothing_and_fails_in_every_view() {
    // An event budget that validation accepts (its lower-bound estimate is about 4 million
    // events) but that runs out about 21 minutes into the 30-minute run: after the zone loss
    // at 10 m, before a second fault at 25 m.
    let d = dir("truncated");
    let s = files(
        &d,
        "zone-loss",
        &[],
        &[
            ("runs: 1,", "runs: 1,\n    event_budget: 8000000,"),
            (
                "Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1a\")),",
                "Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1a\")),\n        Fault(at: \"25m\", kind: NodeCrash(\"pg-west\")),",
            ),
        ],
    );
    let junit = d.join("junit.xml");
    let out = d.join("report");
    let (code, stdout, stderr) = gameday(&[
        "check",
        s.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("stopped at simulated time"), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let s = &json["scenarios"][0];
    assert_eq!(s["passed"], false);
    assert_eq!(s["incomplete_runs"], 1);
    assert!(
        s["per_run"][0]["stopped"]
            .as_str()
            .unwrap()
            .contains("event budget")
    );
    for sv in s["per_run"][0]["services"].as_array().unwrap() {
        assert_eq!(sv["status"], "not_judged", "{}", sv["name"]);
        assert!(sv["rto_s"].is_null());
    }
    for sv in s["services"].as_array().unwrap() {
        assert_eq!(sv["passed"], false, "{}", sv["name"]);
        assert_eq!(sv["not_judged_runs"], 1);
    }
    truncated_timeline_reaches_only_the_first_fault(s);
    assert!(failures(s).iter().any(|f| f.contains("not judged")));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("type=\"RunIncomplete\""), "{xml}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("not judged"), "{md}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("Not judged"));
    let txt = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(txt.contains("NOT JUDGED"), "{txt}");
}

/// The truncated run's timeline: only the fault it reached, a `stopped` entry, no judgement.
fn truncated_timeline_reaches_only_the_first_fault(s: &Value) {
    let timeline = s["timeline"].as_array().unwrap();
    let faults: Vec<&str> = timeline
        .iter()
        .filter(|e| e["kind"] == "fault")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        faults,
        ["zone us-east-1a lost"],
        "only the fault the run reached"
    );
    assert!(timeline.iter().any(|e| e["kind"] == "stopped"));
    let judged = ["outage", "recovered", "not_recovered"];
    assert!(
        !timeline
            .iter()
            .any(|e| judged.contains(&e["kind"].as_str().unwrap()))
    );
}

#[test]
fn finding_5_data_no_machine_can_serve_is_at_risk_and_fails_rpo_zero() {
    let edits = [("duration: \"30m\"", "duration: \"15m\"")];
    let d = dir("at-risk");
    let s = files(&d, "cloud-provider-outage", &[], &edits);
    let (_, json) = check(&s, &d);
    let accounts = first_run(&json, "accounts");
    let at_risk = accounts["at_risk"].as_u64().unwrap();
    assert!(at_risk > 10_000, "{accounts}");
    assert!(secs(&accounts["at_risk_s"]) > 500.0);
    assert_eq!(
        aggregate(&json, "accounts")["lost_by_cause"]["unreachable"],
        at_risk
    );
    assert!(
        failures(&json)
            .iter()
            .any(|f| f.contains("accounts") && f.contains("at risk")),
        "{:?}",
        failures(&json)
    );
    // A scenario that accepts data out of reach says so, and only the outage fails it.
    let d = dir("at-risk-accepted");
    let mut accepting = edits.to_vec();
    accepting.push(("rpo: \"0s\",", "rpo: \"0s\", at_risk_is_lost: false,"));
    let s = files(&d, "cloud-provider-outage", &[], &accepting);
    let (_, json) = check(&s, &d);
    assert!(
        !failures(&json).iter().any(|f| f.contains("at risk")),
        "{:?}",
        failures(&json)
    );
}

#[test]
fn finding_6_split_brain_losses_are_named_and_their_window_measured() {
    // No fencing, no synchronous mode: the partitioned us-east-1 primary keeps acknowledging
    // writes for the whole ten minutes while pg-west is promoted; all is discarded at the heal.
    let d = dir("split-brain");
    let s = files(
        &d,
        "region-partition",
        &[
            ("fencing: [Lease, Epoch],", "fencing: [],"),
            ("synchronous_mode: true,", "synchronous_mode: false,"),
        ],
        &[],
    );
    let (code, json) = check(&s, &d);
    assert_eq!(code, 1);
    let by = &aggregate(&json, "accounts")["lost_by_cause"];
    assert!(by["split_brain"].as_u64().unwrap() > 1_000, "{by}");
    assert_eq!(by["infrastructure"], 0, "no machine failed: {by}");
    let rpo = secs(&first_run(&json, "accounts")["rpo_s"]);
    assert!(
        rpo > 5.0 * 60.0,
        "RPO {rpo} s: minutes of writes were discarded"
    );
}

#[test]
fn finding_7_a_slow_provider_breaks_a_latency_steady_state_and_shows_in_the_results() {
    let d = dir("latency");
    let s = files(&d, "rpc-latency-spike", &[], &[]);
    let (_, json) = check(&s, &d);
    let mint = first_run(&json, "mint");
    let outage = &mint["outages"][0];
    assert!(secs(&outage["start_s"]) >= 600.0, "{mint}");
    let (before, during) = (&outage["latency"]["before"], &outage["latency"]["during"]);
    assert!(secs(&before["p99_s"]) < 0.2, "{outage}");
    assert!(secs(&during["p99_s"]) > 1.0, "{outage}");
    assert!(secs(&mint["latency"]["max_s"]) > 1.0);
    // Without the latency rule the same run is all successes: no outage at all.
    let d = dir("latency-off");
    let s = files(
        &d,
        "rpc-latency-spike",
        &[],
        &[(", latency: (p: 99, within: \"500ms\")", "")],
    );
    let (_, json) = check(&s, &d);
    assert!(
        first_run(&json, "mint")["outages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A rule slow answers count as failures under: the gate fails.
    let d = dir("latency-max");
    let s = files(
        &d,
        "rpc-latency-spike",
        &[],
        &[
            (
                ", latency: (p: 99, within: \"500ms\")",
                ", max_latency: \"900ms\"",
            ),
            ("rto: \"15m\", rpo: \"0s\",", "rto: \"1s\", rpo: \"0s\","),
        ],
    );
    let (code, json) = check(&s, &d);
    assert_eq!(code, 1);
    let mint = first_run(&json, "mint");
    assert!(mint["writes"]["failed"].as_u64().unwrap() > 0, "{mint}");
}

#[test]
fn finding_8_writes_lost_after_the_fault_count_toward_rpo() {
    // us-east-1 cut off from both other regions for 2 minutes: the sentinels there fail the
    // master over while apps in us-east-1 keep writing to the old one, whose writes are
    // discarded when it rejoins.
    let d = dir("redis-split");
    let s = files(
        &d,
        "redis-zone-loss",
        &[],
        &[(
            "Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1c\")),",
            "Fault(at: \"10m\", duration: \"2m\", kind: Partition(a: Region(\"us-east-1\"), b: Region(\"us-west-2\"))),\n        Fault(at: \"10m\", duration: \"2m\", kind: Partition(a: Region(\"us-east-1\"), b: Region(\"europe-west1\"))),",
        )],
    );
    let (code, json) = check(&s, &d);
    assert_eq!(code, 1);
    let gs = first_run(&json, "game-state");
    let rpo = secs(&gs["rpo_s"]);
    assert!(
        rpo > 0.5,
        "game-state RPO {rpo} s within the 500 ms target?"
    );
    assert_eq!(gs["losses"][0]["cause"], "split_brain", "{}", gs["losses"]);
    assert!(secs(&gs["losses"][0]["from_s"]) >= 590.0);
    assert_eq!(aggregate(&json, "game-state")["passed"], false);
}

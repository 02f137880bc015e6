//! The command line as CI uses it.

use crate::support::*;

fn out_dir(tag: &str) -> String {
    std::env::temp_dir()
        .join(format!("gameday-cli-{tag}-{}", std::process::id()))
        .display()
        .to_string()
}

#[test]
fn check_passes_when_targets_are_met_and_writes_results() {
    let out = out_dir("pass");
    let (code, stdout, err) =
        gameday(&["check", "scenarios/zone-loss.ron", "--out", &out, "--quiet"]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(
        stdout.contains("zone-loss") && stdout.contains("PASS"),
        "{stdout}"
    );
    let json = std::fs::read_to_string(format!("{out}/results.json")).unwrap();
    assert!(json.contains("\"trace_hash\""));
    assert!(
        std::fs::metadata(format!("{out}/summary.txt"))
            .unwrap()
            .len()
            > 100
    );
}

#[test]
fn check_fails_with_status_1_when_a_target_is_missed() {
    let dir = std::env::temp_dir().join(format!("gameday-cli-miss-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let topo = root()
        .join("topologies/ftm-games.ron")
        .display()
        .to_string();
    let text = edit(
        &read("scenarios/zone-loss.ron"),
        &[
            ("rto: \"15m\"", "rto: \"5s\""),
            ("topology: \"ftm-games\"", &format!("topology: \"{topo}\"")),
        ],
    );
    let p = dir.join("tight.ron");
    std::fs::write(&p, text).unwrap();
    let (code, stdout, _) = gameday(&[
        "check",
        p.to_str().unwrap(),
        "--out",
        &out_dir("miss"),
        "--quiet",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("> target 5s"),
        "{stdout}"
    );
    // `run` reports the same miss but does not gate.
    let (code, _, _) = gameday(&[
        "run",
        p.to_str().unwrap(),
        "--out",
        &out_dir("miss2"),
        "--quiet",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn json_output_has_the_documented_shape() {
    let (code, stdout, err) = gameday(&[
        "run",
        "scenarios/zone-loss.ron",
        "--format",
        "json",
        "--seed",
        "3",
        "--runs",
        "2",
        "--out",
        &out_dir("json"),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(v["seed"], 3);
    assert_eq!(v["runs"], 2);
    let s = &v["scenarios"][0];
    assert_eq!(s["name"], "zone-loss");
    assert_eq!(s["topology"], "ftm-games");
    assert_eq!(s["targets"]["rto_s"], 900.0);
    assert_eq!(s["targets"]["rpo_s"], 0.0);
    for k in ["p50", "p95", "p99", "max"] {
        assert!(s["rto_s"][k].is_number(), "rto_s.{k}");
        assert!(s["rpo_s"][k].is_number(), "rpo_s.{k}");
    }
    for k in ["sent", "acked", "failed", "acked_lost"] {
        assert!(s["writes"][k].is_u64(), "writes.{k}");
    }
    assert!(s["safety_violations"].as_array().unwrap().is_empty());
    assert!(s["events"].as_u64().unwrap() > 0);
    assert_eq!(s["trace_hash"].as_str().unwrap().len(), 16);
    assert_eq!(s["per_run"].as_array().unwrap().len(), 2);
    let kinds: Vec<&str> = s["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "fault",
        "detected",
        "promoted",
        "rerouted",
        "first_success",
        "recovered",
    ] {
        assert!(kinds.contains(&k), "timeline lacks {k}: {kinds:?}");
    }
    assert_eq!(s["timeline"][0]["at_s"], 600.0);
    assert_eq!(s["timeline"][0]["detail"], "zone us-east-1a lost");
}

#[test]
fn validate_accepts_the_shipped_files() {
    let (code, stdout, err) = gameday(&[
        "validate",
        "topologies/ftm-games.ron",
        "topologies/rw1.ron",
        "scenarios/zone-loss.ron",
        "scenarios/region-loss.ron",
        "scenarios/rw1.ron",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
}

#[test]
fn help_explains_the_commands() {
    let (code, stdout, _) = gameday(&["--help"]);
    assert_eq!(code, 0);
    for w in ["run", "check", "validate", "built-in GameDay suite"] {
        assert!(stdout.contains(w), "--help lacks {w}");
    }
}

#[test]
fn each_service_is_judged_against_its_own_targets() {
    // Game state must recover within 5 s: the zone loss takes longer, so only it fails.
    let dir = std::env::temp_dir().join(format!("gameday-cli-svc-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let topo = root()
        .join("topologies/ftm-games.ron")
        .display()
        .to_string();
    let scenario = edit(
        &read("scenarios/zone-loss.ron"),
        &[
            ("topology: \"ftm-games\"", &format!("topology: \"{topo}\"")),
            (
                "\"game-state\": (rto: \"15m\"",
                "\"game-state\": (rto: \"5s\"",
            ),
        ],
    );
    let sp = dir.join("svc.ron");
    std::fs::write(&sp, scenario).unwrap();
    let (code, stdout, err) = gameday(&[
        "check",
        sp.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        &out_dir("svc"),
        "--quiet",
    ]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let svcs = v["scenarios"][0]["services"].as_array().unwrap();
    let svc = |name: &str| {
        svcs.iter()
            .find(|x| x["name"] == name)
            .unwrap_or_else(|| panic!("no service {name}"))
    };
    assert_eq!(svcs.len(), 4);
    assert_eq!(svc("accounts")["datastore"], "postgres");
    assert_eq!(svc("accounts")["passed"], true);
    assert_eq!(svc("assets")["datastore"], "cdn cdn");
    assert_eq!(svc("assets")["passed"], true);
    assert_eq!(svc("status-page")["passed"], true);
    let game = svc("game-state");
    assert_eq!(game["datastore"], "redis");
    assert_eq!(game["passed"], false);
    assert_eq!(game["targets"]["rto_s"], 5.0);
    assert_eq!(game["targets"]["rpo_s"], 0.5);
    let failures = v["scenarios"][0]["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    assert!(
        failures
            .iter()
            .all(|f| f.as_str().unwrap().contains("game-state")),
        "{failures:?}"
    );
}

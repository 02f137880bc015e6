//! `gameday compare` and `gameday sweep` from the command line: same scenarios and seeds on
//! two topologies, one parameter over values; and their mistakes exit 2.

use crate::support::*;

/// zone-loss shortened to 14 minutes, on the shipped topology by absolute path.
fn short_zone_loss(tag: &str) -> String {
    let text = edit(
        &read("scenarios/zone-loss.ron"),
        &[
            ("duration: \"30m\"", "duration: \"14m\""),
            ("topology: \"ftm-games\"", "topology: \"TOPO\""),
        ],
    )
    .replace(
        "TOPO",
        &root()
            .join("topologies/ftm-games.ron")
            .display()
            .to_string(),
    );
    let dir = std::env::temp_dir().join(format!("gameday-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("zl-{tag}.ron"));
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn sweep_runs_each_value_in_order_and_writes_its_json() {
    let s = short_zone_loss("sweep");
    let out = std::env::temp_dir().join(format!("gameday-sweep-out-{}", std::process::id()));
    let (code, stdout, err) = gameday(&[
        "sweep",
        "--set",
        "datastores[postgres].failover.retry_timeout=5s,10s",
        &s,
        "--runs",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("sweep of datastores[postgres].failover.retry_timeout"),
        "{stdout}"
    );
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" accounts "))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(
        rows[0].starts_with("5s") && rows[1].starts_with("10s"),
        "{rows:?}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["points"].as_array().unwrap().len(), 2);
    assert_eq!(json["points"][1]["value"], "10s");
    assert!(out.join("sweep.txt").is_file());
    // The charts against the value, and a page with the table and both.
    for f in [
        "sweep-rto.svg",
        "sweep-rto.png",
        "sweep-rpo.svg",
        "sweep-rpo.png",
    ] {
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 1000, "{f}");
    }
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(page.matches("<figure class=\"chart\"").count(), 2);
    assert!(page.contains("RTO against datastores[postgres].failover.retry_timeout"));
}

#[test]
fn compare_runs_the_same_seeds_on_both_topologies() {
    let s = short_zone_loss("compare");
    let topo = root().join("topologies/ftm-games.ron");
    let out = std::env::temp_dir().join(format!("gameday-compare-out-{}", std::process::id()));
    let (code, stdout, err) = gameday(&[
        "compare",
        "--topology",
        topo.to_str().unwrap(),
        "--topology",
        topo.to_str().unwrap(),
        &s,
        "--runs",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // The same topology twice: identical figures, so no deltas anywhere.
    let accounts = stdout.lines().find(|l| l.contains(" accounts ")).unwrap();
    assert!(
        !accounts.contains("(+") && !accounts.contains("(-"),
        "{accounts}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(
        json["a"]["report"]["scenarios"][0]["trace_hash"],
        json["b"]["report"]["scenarios"][0]["trace_hash"]
    );
    assert!(out.join("compare-rto.svg").is_file() && out.join("compare-rpo.png").is_file());
}

#[test]
fn compare_and_sweep_mistakes_exit_2() {
    let s = short_zone_loss("bad");
    let topo = root().join("topologies/ftm-games.ron");
    let (code, _, err) = gameday(&["compare", "--topology", topo.to_str().unwrap(), &s]);
    assert_eq!(code, 2);
    assert!(err.contains("two topologies"), "{err}");
    let t = topo.to_str().unwrap();
    let (code, _, err) = gameday(&["compare", "--topology", t, "--set-b", "dns.ttl=1s,2s", &s]);
    assert_eq!(code, 2);
    assert!(err.contains("one value per field"), "{err}");
    let (code, _, err) = gameday(&["sweep", "--set", "dns.tll=30s", &s, "--quiet"]);
    assert_eq!(code, 2);
    assert!(err.contains("no field `tll`"), "{err}");
    let (code, _, err) = gameday(&["sweep", "--set", "dns.ttl", &s]);
    assert_eq!(code, 2);
    assert!(err.contains("PATH=VALUE"), "{err}");
    // A value the topology rejects is reported like any input error, naming the value.
    let (code, _, err) = gameday(&["sweep", "--set", "dns.ttl=0s", &s, "--quiet"]);
    assert_eq!(code, 2);
    assert!(err.contains("with dns.ttl = \"0s\""), "{err}");
}

/// One topology, and B the same with the runbook automation on: the same faults handled by
/// hand and by automation, side by side. The automation promotes pg-west minutes earlier.
#[test]
fn compare_one_topology_against_itself_with_a_field_set() {
    let topo = root().join("topologies/ftm-games.ron");
    let scenario = root().join("scenarios/region-loss.ron");
    let out = std::env::temp_dir().join(format!("gameday-compare-set-{}", std::process::id()));
    let (code, stdout, err) = gameday(&[
        "compare",
        "--topology",
        topo.to_str().unwrap(),
        "--set-b",
        "paging.automation=Some(\"runbook-automation\")",
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("B = ")
            && stdout.contains("(with paging.automation = Some(\"runbook-automation\"))"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    let rto = |side: &str| {
        let services = json[side]["report"]["scenarios"][0]["services"]
            .as_array()
            .unwrap()
            .clone();
        let accounts = services.iter().find(|s| s["name"] == "accounts").unwrap();
        accounts["rto_s"]["p50"].as_f64().unwrap()
    };
    let (manual, automated) = (rto("a"), rto("b"));
    assert!(
        automated < 180.0 && manual > 300.0,
        "by hand {manual} s, automated {automated} s"
    );
}

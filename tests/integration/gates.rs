//! The CI gate: percentile and probability gates over Monte Carlo runs, `check`'s exit codes,
//! and JUnit XML that a CI system can read.

use crate::support::*;

/// zone-loss's targets as shipped, the plan's response targets on their own line (tests that
/// replace them judge RTO and RPO only).
const TARGETS: &str = "targets: (rto: \"15m\", rpo: \"0s\", services: {\"game-state\": (rto: \"15m\", rpo: \"500ms\")},\n        response: (acknowledge: \"2m\", status_page: \"5m\", failover: \"10m\", restored: \"15m\")),";

/// zone-loss, shortened, with `targets` replaced.
fn zone_loss(targets: &str) -> std::path::PathBuf {
    let text = edit(
        &read("scenarios/zone-loss.ron"),
        &[
            ("duration: \"30m\"", "duration: \"17m\""),
            ("topology: \"ftm-games\"", "topology: \"TOPO\""),
            (TARGETS, targets),
        ],
    )
    .replace(
        "TOPO",
        &root()
            .join("topologies/ftm-games.ron")
            .display()
            .to_string(),
    );
    let dir = std::env::temp_dir().join(format!("gameday-gates-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A file per call: tests run in parallel.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = dir.join(format!("zl-{k}.ron"));
    std::fs::write(&p, text).unwrap();
    p
}

fn check(scenario: &std::path::Path, junit: &std::path::Path) -> (i32, String) {
    let out = junit.with_extension("out");
    let (code, stdout, err) = gameday(&[
        "check",
        scenario.to_str().unwrap(),
        "--runs",
        "4",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert!(!err.contains("panicked"), "{err}");
    (code, stdout)
}

/// A minimal well-formedness check: balanced tags, quoted attributes, known entities.
fn well_formed(xml: &str) -> Result<(), String> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .ok_or("no XML declaration")?;
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        for (k, _) in text.match_indices('&') {
            let ent = &text[k..];
            if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| ent.starts_with(e))
            {
                return Err(format!("bad entity near {}", &ent[..ent.len().min(10)]));
            }
        }
        let j = rest[i..].find('>').ok_or("unclosed tag")? + i;
        let tag = &rest[i + 1..j];
        if tag.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("stray </{name}>"))?;
            if open != name {
                return Err(format!("</{name}> closes <{open}>"));
            }
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
        rest = &rest[j + 1..];
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

#[test]
fn every_run_must_meet_the_targets_without_gates_and_junit_says_by_how_much() {
    // An RTO target of 20 s that failover (about 35 s) cannot meet.
    let s = zone_loss(
        "targets: (rto: \"20s\", rpo: \"0s\", services: {\"game-state\": (rto: \"15m\", rpo: \"500ms\")}),",
    );
    let junit = s.with_extension("xml");
    let (code, _) = check(&s, &junit);
    assert_eq!(code, 1, "a missed target fails the gate");
    let xml = std::fs::read_to_string(&junit).unwrap();
    well_formed(&xml).unwrap();
    assert!(xml.contains("<testsuite name=\"zone-loss\""));
    // One case per service target (4 services × RTO and RPO), one for safety, one for the
    // runs reaching their end.
    assert_eq!(xml.matches("<testcase ").count(), 10, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    let failure = xml.lines().find(|l| l.contains("<failure ")).unwrap();
    assert!(failure.contains("accounts: RTO"), "{failure}");
    assert!(
        failure.contains("max RTO") && failure.contains("met in 0 of 4 runs"),
        "{failure}"
    );
}

#[test]
fn percentile_and_probability_gates_decide_when_given() {
    // The same 20 s target, but the gate asks only that half the runs recover within 40 s.
    let pass = zone_loss(
        "targets: (rto: \"20s\", rpo: \"0s\", services: {\"game-state\": (rto: \"15m\", rpo: \"500ms\")}, gates: [Rto(p: 50, within: \"40s\", service: Some(\"accounts\")), NoLoss(at_least: 1.0, service: Some(\"accounts\"))]),",
    );
    let junit = pass.with_extension("xml");
    let (code, _) = check(&pass, &junit);
    assert_eq!(code, 0, "the gates hold though no run met the 20 s target");
    let xml = std::fs::read_to_string(&junit).unwrap();
    well_formed(&xml).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert!(xml.contains("accounts: p50 RTO ≤ 40s"), "{xml}");
    assert!(xml.contains("accounts: P(RPO = 0) ≥ 1"), "{xml}");

    // p100 within 20 s cannot hold.
    let fail = zone_loss(
        "targets: (rto: \"20s\", rpo: \"0s\", services: {\"game-state\": (rto: \"15m\", rpo: \"500ms\")}, gates: [Rto(p: 100, within: \"20s\")]),",
    );
    let junit = fail.with_extension("xml");
    let (code, stdout) = check(&fail, &junit);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("gate accounts: p100 RTO ≤ 20s: p100 RTO"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    well_formed(&xml).unwrap();
    // Applied to each of the four services.
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
}

#[test]
fn gates_are_validated() {
    for (gate, expect) in [
        ("Rto(p: 0, within: \"1m\")", "a percentile is in (0, 100]"),
        (
            "NoLoss(at_least: 1.5)",
            "`at_least` is a share of runs in [0, 1]",
        ),
        (
            "RtoMet(at_least: 0.9, service: Some(\"ledger\"))",
            "`ledger`",
        ),
        (
            "NoLoss(at_least: 0.9, service: Some(\"mint\"))",
            "no workload for that service",
        ),
    ] {
        let s = zone_loss(&format!(
            "targets: (rto: \"15m\", rpo: \"0s\", gates: [{gate}]),"
        ));
        let (code, _, err) = gameday(&["validate", s.to_str().unwrap()]);
        assert_eq!(code, 2, "{gate}: {err}");
        assert!(err.contains(expect), "{gate}: {err}");
    }
}

#[test]
fn the_junit_writer_escapes_what_it_quotes() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1\"><b>&amp;</b><c/></a>\n";
    well_formed(xml).unwrap();
    assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b></a>").is_err());
    assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>&</a>").is_err());
}

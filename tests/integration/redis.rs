//! Redis game state: asynchronous replication across regions, Sentinel quorum failover.

use crate::support::*;
use gameday::run::run_batch;
use gameday::sim::time::SimDuration;

#[test]
fn losing_the_redis_master_zone_fails_over_through_the_sentinels() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(&topo, "redis-zone-loss", &[]);
    let r = run(&topo, &s);
    let kinds: Vec<&str> = r.timeline.iter().map(|e| e.kind).collect();
    for k in ["sdown", "odown", "sentinel_leader", "switch_master"] {
        assert!(kinds.contains(&k), "timeline lacks {k}: {:?}", r.timeline);
    }
    assert!(
        r.timeline.iter().any(|e| e.kind == "promoted"
            && (e.detail.starts_with("redis-usw2") || e.detail.starts_with("redis-euw1"))),
        "{:?}",
        r.timeline
    );
    let game = service(&r, &topo, "game-state");
    assert!(matches!(recovery(game), Recovery::RecoveredAt(_)));
    // Detection needs down_after (5 s); the whole failover stays well inside a minute.
    let rto = game.rto().unwrap();
    assert!(
        rto >= SimDuration::from_secs(5) && rto < SimDuration::from_secs(60),
        "RTO {rto}"
    );
    let accounts = service(&r, &topo, "accounts");
    assert_eq!(accounts.losses.count(), 0, "PostgreSQL lost only a standby");
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn game_state_rpo_is_bounded_by_the_replication_lag() {
    // Shipping every 250 ms plus at most 70 ms of one-way latency: over many seeds some
    // acknowledged game-state writes are lost, never more than the lag's worth.
    let topo = topology("ftm-games", &[]);
    let s = shipped(
        &topo,
        "redis-zone-loss",
        &[("duration: \"30m\"", "duration: \"12m\"")],
    );
    let runs = run_batch(&topo, &s, 11, 8, &|| {});
    let mut lost_any = false;
    for r in &runs {
        let g = service(r, &topo, "game-state");
        let rpo = g.rpo();
        assert!(
            rpo <= SimDuration::from_millis(320),
            "seed {}: RPO {rpo}",
            r.seed
        );
        lost_any |= g.losses.count() > 0;
        let a = service(r, &topo, "accounts");
        assert_eq!(a.losses.count(), 0, "accounts never lose data here");
    }
    assert!(
        lost_any,
        "asynchronous replication must lose the unshipped tail in some run"
    );
}

#[test]
fn a_partitioned_redis_master_keeps_accepting_writes_and_the_checker_says_so() {
    // The master's zone loses contact with the other regions (and so with two of three
    // sentinels, a quorum): they fail over while apps in us-east-1 still write to the old
    // master. Asynchronous Redis has no fencing against this; the checker must report it.
    let topo = topology("ftm-games", &[]);
    let text = edit(
        &read("scenarios/redis-zone-loss.ron"),
        &[
            ("duration: \"30m\"", "duration: \"14m\""),
            (
                "Fault(at: \"10m\", kind: ZoneLoss(\"us-east-1c\")),",
                "Fault(at: \"10m\", duration: \"2m\", kind: Partition(a: Region(\"us-east-1\"), b: Region(\"us-west-2\"))),\n        Fault(at: \"10m\", duration: \"2m\", kind: Partition(a: Region(\"us-east-1\"), b: Region(\"europe-west1\"))),",
            ),
        ],
    );
    let r = run(&topo, &scenario(&topo, &text));
    assert!(
        r.safety_violations
            .iter()
            .any(|v| v.starts_with("`redis`") && v.contains("split brain")),
        "{:?}",
        r.safety_violations
    );
    let game = service(&r, &topo, "game-state");
    assert!(
        game.losses.count() > 0,
        "the old master's writes are discarded when it rejoins"
    );
    assert!(
        !r.safety_violations
            .iter()
            .any(|v| v.starts_with("`postgres`")),
        "PostgreSQL stays safe: {:?}",
        r.safety_violations
    );
}

//! The checkers on the reference topology: the correct setup passes, and each deliberately
//! broken setup makes its checker fail.

use crate::support::*;
use gameday::sim::time::SimDuration;

const ASYNC: (&str, &str) = (
    "replication: Synchronous(Any(1)),",
    "replication: Asynchronous(ship_interval: \"200ms\"),",
);
const NO_FENCING: (&str, &str) = ("fencing: [Lease, Epoch],", "fencing: [],");

/// Short scenarios keep the suite fast: 4 minutes, fault at 60 s.
fn short(name: &str, fault: &str) -> String {
    format!(
        r#"Scenario(
    name: "{name}",
    topology: "ftm-games",
    duration: "4m",
    workload: [
        Clients(clients: "players-na", service: "accounts", writes: Poisson("10ms"), timeout: "5s", retries: 1),
        Clients(clients: "players-eu", service: "accounts", writes: Poisson("20ms"), timeout: "5s", retries: 1),
        Clients(clients: "players-na", service: "game-state", writes: Poisson("10ms"), timeout: "2s", retries: 1),
    ],
    faults: [{fault}],
    targets: (rto: "15m", rpo: "0s", services: {{"game-state": (rto: "15m", rpo: "500ms")}}),
    steady_state: (window: "30s", stability: "60s"),
)"#
    )
}

#[test]
fn zone_loss_with_synchronous_replication_loses_no_acknowledged_write() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(&topo, "zone-loss", &[]);
    let r = run(&topo, &s);
    assert!(r.promoted.is_some(), "a standby was promoted");
    assert_eq!(r.writes.acked_lost, 0);
    assert_eq!(r.rpo(), SimDuration::ZERO);
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
    let rto = r.rto().expect("service recovered");
    assert!(
        rto > SimDuration::ZERO && rto < SimDuration::from_secs(15 * 60),
        "RTO {rto}"
    );
}

#[test]
fn zone_loss_with_asynchronous_replication_loses_acknowledged_writes() {
    let topo = topology("ftm-games", &[ASYNC]);
    let s = shipped(&topo, "zone-loss", &[]);
    let r = run(&topo, &s);
    assert!(
        r.writes.acked_lost > 0,
        "async shipping every 200 ms must lose the unshipped tail"
    );
    let rpo = r.rpo();
    assert!(
        rpo > SimDuration::ZERO && rpo <= SimDuration::from_millis(400),
        "RPO {rpo}"
    );
    // The same loss under synchronous replication would be a durability violation; under
    // asynchronous replication it is the expected price, not a bug in the system.
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn the_durability_checker_fires_when_a_synchronous_setup_loses_writes() {
    // Without fencing, the partitioned old primary keeps acknowledging writes; when the
    // partition heals it is told to follow the new primary and rewinds them. Synchronous
    // replication, no zone lost, acknowledged writes gone: the checker must say so.
    let partition = r#"Fault(at: "60s", duration: "90s", kind: Partition(a: Zone("us-east-1a"), b: Node("dcs"))),"#;
    let topo = topology("ftm-games", &[NO_FENCING]);
    let r = run(&topo, &scenario(&topo, &short("heal", partition)));
    assert!(
        r.writes.acked_lost > 0,
        "the deposed primary's writes were rewound"
    );
    assert!(
        r.timeline.iter().any(|e| e.kind == "rewound"),
        "{:?}",
        r.timeline
    );
    assert!(
        r.safety_violations
            .iter()
            .any(|v| v.contains("acknowledged writes lost from synchronously replicated")),
        "{:?}",
        r.safety_violations
    );
}

#[test]
fn a_controller_without_fencing_lets_a_partitioned_primary_cause_split_brain() {
    let partition = r#"Fault(at: "60s", duration: "90s", kind: Partition(a: Zone("us-east-1a"), b: Node("dcs"))),"#;
    let broken = topology("ftm-games", &[NO_FENCING]);
    let r = run(&broken, &scenario(&broken, &short("split", partition)));
    assert!(
        r.promoted.is_some(),
        "the controller promoted a second primary"
    );
    assert!(
        r.safety_violations
            .iter()
            .any(|v| v.contains("split brain")),
        "expected a split-brain violation, got {:?}",
        r.safety_violations
    );
    // The same partition with lease and epoch fencing: the old primary stops first.
    let correct = topology("ftm-games", &[]);
    let r = run(&correct, &scenario(&correct, &short("split", partition)));
    assert!(r.promoted.is_some());
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
    assert!(
        r.timeline
            .iter()
            .any(|e| e.kind == "demoted" && e.detail.contains("LeaseExpired")),
        "the old primary fenced itself: {:?}",
        r.timeline
    );
}

#[test]
fn region_loss_cannot_fail_postgres_over_safely_and_says_so() {
    // With ANY 1 over pg-b, pg-c and pg-west, the standbys that may hold the latest commits
    // are lost with the region: promoting pg-west could lose acknowledged writes, so the
    // controller refuses (no_candidate) while DNS, Redis and the CDN fail over.
    let topo = topology("ftm-games", &[]);
    let s = shipped(
        &topo,
        "region-loss",
        &[("duration: \"30m\"", "duration: \"15m\"")],
    );
    let r = run(&topo, &s);
    assert!(
        !r.timeline
            .iter()
            .any(|e| e.kind == "promoted" && e.detail.starts_with("pg-")),
        "{:?}",
        r.timeline
    );
    assert!(r.timeline.iter().any(|e| e.kind == "no_candidate"));
    assert!(
        r.timeline
            .iter()
            .any(|e| e.kind == "rerouted" && e.detail.contains("alb-us-west-2"))
    );
    assert_eq!(
        recovery(service(&r, &topo, "accounts")),
        Recovery::NotRecovered
    );
    let g = service(&r, &topo, "game-state");
    assert!(
        matches!(recovery(g), Recovery::RecoveredAt(_)),
        "Redis fails over"
    );
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn without_synchronous_mode_region_loss_fails_over_at_the_risk_of_loss() {
    // synchronous_mode: false lets the controller promote the most advanced reachable member:
    // available again, but a partition could now cost acknowledged writes.
    let topo = topology(
        "ftm-games",
        &[("synchronous_mode: true,", "synchronous_mode: false,")],
    );
    let s = shipped(
        &topo,
        "region-loss",
        &[("duration: \"30m\"", "duration: \"15m\"")],
    );
    let r = run(&topo, &s);
    assert!(
        r.timeline
            .iter()
            .any(|e| e.kind == "promoted" && e.detail.starts_with("pg-west")),
        "{:?}",
        r.timeline
    );
    assert!(matches!(
        recovery(service(&r, &topo, "accounts")),
        Recovery::RecoveredAt(_)
    ));
}

#[test]
fn a_partition_between_regions_loses_no_acknowledged_postgres_write() {
    // Found in review: the controller (in us-west-2) counted the standbys it could not hear as
    // dead, promoted pg-west on its single reply and lost the writes pg-a had committed with
    // pg-b. Every synchronous standby now counts, heard or not.
    let topo = topology("ftm-games", &[]);
    let fault = r#"Fault(at: "60s", duration: "2m", kind: Partition(a: Region("us-east-1"), b: Region("us-west-2"))),"#;
    let r = run(&topo, &scenario(&topo, &short("regions-split", fault)));
    assert!(
        !r.safety_violations
            .iter()
            .any(|v| v.starts_with("`postgres`")),
        "{:?}",
        r.safety_violations
    );
    assert_eq!(service(&r, &topo, "accounts").losses.count(), 0);
}

#[test]
fn a_fault_that_never_ends_without_a_standby_is_not_recovered() {
    // A single-member datastore: losing its zone leaves nothing to promote (and nobody to
    // promote by hand: the machines alone).
    let topo = machines(&[
        (
            "members: [\"pg-a\", \"pg-b\", \"pg-c\", \"pg-west\"],",
            "members: [\"pg-a\"],",
        ),
        ("Synchronous(Any(1))", "Asynchronous(ship_interval: \"0s\")"),
        (
            "watch: [Node(\"pg-a\"), Node(\"pg-b\"), Node(\"pg-c\"), Node(\"pg-west\")],",
            "watch: [Node(\"pg-a\")],",
        ),
    ]);
    let s = scenario(
        &topo,
        &short(
            "no-standby",
            r#"Fault(at: "60s", kind: ZoneLoss("us-east-1a")),"#,
        ),
    );
    let r = run(&topo, &s);
    assert_eq!(run_recovery(&r), Recovery::NotRecovered);
    assert_eq!(r.rto(), None);
    assert!(r.timeline.iter().any(|e| e.kind == "no_candidate"));
}

#[test]
fn a_provider_outage_moves_european_players_to_aws() {
    let topo = topology("ftm-games", &[]);
    let s = scenario(
        &topo,
        &short(
            "gcp-outage",
            r#"Fault(at: "60s", kind: ProviderOutage("gcp")),"#,
        ),
    );
    let r = run(&topo, &s);
    assert!(
        r.timeline.iter().any(|e| e.kind == "rerouted"
            && e.detail.contains("players-eu")
            && e.detail.contains("alb-us-east-1")),
        "{:?}",
        r.timeline
    );
    assert!(
        matches!(run_recovery(&r), Recovery::RecoveredAt(_)),
        "{:?}",
        run_recovery(&r)
    );
    assert_eq!(r.writes.acked_lost, 0);
    assert!(r.promoted.is_none(), "the database was not touched");
}

#[test]
fn added_latency_breaks_service_only_while_it_lasts() {
    // +6 s one way to North America: every attempt outlives its 5 s timeout for two minutes.
    let topo = topology("ftm-games", &[]);
    let fault = r#"Fault(at: "60s", duration: "2m", kind: Latency(a: Region("north-america"), extra: "6s")),"#;
    let r = run(&topo, &scenario(&topo, &short("slow", fault)));
    let rto = r.rto().expect("recovers once the latency is gone");
    assert!(
        rto >= SimDuration::from_secs(100) && rto <= SimDuration::from_secs(140),
        "RTO {rto}"
    );
    assert!(
        r.promoted.is_none(),
        "latency alone must not trigger failover"
    );
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn a_crashed_primary_restarts_as_a_replica_and_nothing_is_lost() {
    let topo = topology("ftm-games", &[]);
    let fault = r#"Fault(at: "60s", duration: "90s", kind: NodeCrash("pg-a")),"#;
    let r = run(&topo, &scenario(&topo, &short("crash", fault)));
    assert!(
        r.timeline
            .iter()
            .any(|e| e.kind == "promoted" && e.detail.contains("pg-b")),
        "{:?}",
        r.timeline
    );
    assert!(r.timeline.iter().any(|e| e.kind == "fault_end"));
    assert_eq!(r.writes.acked_lost, 0);
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn losing_the_dcs_region_briefly_does_not_depose_a_healthy_primary() {
    // Found by the property test: a restarted controller that counted every lease as
    // "never heard since time zero" declared all members dead and failed over at once.
    let topo = topology("ftm-games", &[]);
    let fault = r#"Fault(at: "94s", duration: "15s", kind: RegionLoss("us-west-2")),"#;
    // The shrunk case ran 5 minutes with seed 378; the mechanism itself is pinned by
    // `logic::lease::tests::a_restarted_table_gives_every_lease_a_full_ttl`.
    let text = edit(
        &short("dcs-blip", fault),
        &[("duration: \"4m\",", "duration: \"5m\",\n    seed: 378,")],
    );
    let r = run(&topo, &scenario(&topo, &text));
    // pg-a may fence itself when its lease runs out before the DCS is back, and then be
    // re-appointed (as Patroni re-acquires the leader key); no other member takes over.
    assert!(
        !r.timeline
            .iter()
            .any(|e| e.kind == "promoted" && !e.detail.starts_with("pg-a")),
        "{:?}",
        r.timeline
    );
    assert_eq!(r.writes.acked_lost, 0);
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

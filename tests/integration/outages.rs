//! Provider outage, partition between regions and regional capacity: the shapes the shipped
//! scenarios must keep, and variants that show what causes them.

use crate::support::*;
use gameday::measure::durability::LossCause;
use gameday::sim::time::SimTime;

fn acked_share(
    r: &gameday::run::judge::RunResult,
    topo: &gameday::model::topology::Topology,
    name: &str,
) -> f64 {
    let w = service(r, topo, name).writes;
    w.acked as f64 / w.sent as f64
}

#[test]
fn losing_all_of_aws_leaves_user_data_unreachable_and_europe_overloaded() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(
        &topo,
        "cloud-provider-outage",
        &[("duration: \"30m\"", "duration: \"20m\"")],
    );
    let r = run(&topo, &s);
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
    // Every PostgreSQL member and two of three sentinels were on AWS.
    for svc in ["accounts", "game-state"] {
        assert_eq!(
            recovery(service(&r, &topo, svc)),
            Recovery::NotRecovered,
            "{svc}"
        );
    }
    assert_eq!(
        recovery(service(&r, &topo, "status-page")),
        Recovery::NeverBroke
    );
    // User data is on stopped machines: at risk, not lost (nor served).
    let accounts = service(&r, &topo, "accounts");
    assert_eq!(accounts.losses.count(), 0);
    assert!(accounts.losses.at_risk() > 0);
    let unreachable: Vec<_> = r
        .timeline
        .iter()
        .filter(|e| e.kind == "unreachable")
        .collect();
    assert_eq!(unreachable.len(), 1, "{unreachable:?}");
    assert!(unreachable[0].detail.contains("postgres"));
    // Two of three sentinels were on AWS: no quorum. The on-call's Redis runbook forces a
    // failover on the one left (SENTINEL FAILOVER): the writes the old master had not yet
    // shipped are the operator's loss, not the machines'.
    let by_hand = r
        .timeline
        .iter()
        .find(|e| e.kind == "manual_failover")
        .expect("a manual failover");
    assert!(
        by_hand
            .detail
            .contains("sentinel-euw1 promoted redis-euw1 by hand (SENTINEL FAILOVER)"),
        "{by_hand:?}"
    );
    let game = service(&r, &topo, "game-state");
    assert!(game.losses.count() > 0 && game.losses.at_risk() == 0);
    assert_eq!(
        game.losses.count(),
        game.losses.by(LossCause::ManualFailover)
    );

    // Europe's app servers carry everyone's blockchain calls: with twice the workers, more of
    // them succeed. Capacity, not the RPC providers, is what fails them.
    let bigger = topology("ftm-games", &[("workers: 4,", "workers: 8,")]);
    let s2 = shipped(
        &bigger,
        "cloud-provider-outage",
        &[("duration: \"30m\"", "duration: \"20m\"")],
    );
    let r2 = run(&bigger, &s2);
    let (small, big) = (
        acked_share(&r, &topo, "mint"),
        acked_share(&r2, &bigger, "mint"),
    );
    assert!(
        big > small + 0.05,
        "mint acked {small:.3} with 4 workers, {big:.3} with 8"
    );
}

#[test]
fn a_partition_between_us_regions_costs_accounts_its_duration_because_of_the_dcs() {
    // The machines alone: nobody fails over by hand (see `incident.rs` for what people do).
    let topo = machines(&[]);
    let s = shipped(&topo, "region-partition", &[NO_RESPONSE_TARGETS]);
    let r = run(&topo, &s);
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
    let accounts = service(&r, &topo, "accounts");
    assert_eq!(accounts.losses.count(), 0, "the quorum rule loses nothing");
    // Down from the partition until it heals (10 min later), not before, not much after.
    match recovery(accounts) {
        Recovery::RecoveredAt(t) => assert!(
            t > SimTime::from_secs(20 * 60) && t < SimTime::from_secs(22 * 60),
            "recovered at {t}"
        ),
        other => panic!("accounts: {other:?}"),
    }
    assert!(
        r.timeline
            .iter()
            .any(|e| e.kind == "demoted" && e.detail.contains("LeaseExpired"))
    );
    for svc in ["game-state", "assets", "status-page"] {
        let rto = service(&r, &topo, svc).rto().expect("recovered");
        assert!(rto.as_secs_f64() < 60.0, "{svc}: {rto}");
    }

    // The cause: with the DCS in europe-west1 (reachable from both sides), the primary keeps
    // its lease and its standbys in us-east-1 keep the quorum: accounts never notice.
    let moved = machines(&[(
        "Node(name: \"dcs\", zone: \"us-west-2b\"),",
        "Node(name: \"dcs\", zone: \"europe-west1-b\"),",
    )]);
    let r2 = run(
        &moved,
        &shipped(&moved, "region-partition", &[NO_RESPONSE_TARGETS]),
    );
    let rto = service(&r2, &moved, "accounts").rto().expect("recovered");
    assert!(
        rto.as_secs_f64() < 60.0,
        "accounts with the DCS in europe-west1: {rto}"
    );
}

#[test]
fn redis_region_loss_fails_over_within_the_target_and_loses_less_than_the_lag() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(&topo, "redis-region-loss", &[]);
    let r = run(&topo, &s);
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
    let gs = service(&r, &topo, "game-state");
    let rto = gs.rto().expect("game state recovers");
    assert!(rto.as_secs_f64() < 15.0 * 60.0, "{rto}");
    assert!(gs.rpo().as_secs_f64() < 0.5, "{}", gs.rpo());
    assert!(r.timeline.iter().any(|e| e.kind == "switch_master"));
}

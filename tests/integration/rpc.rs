//! Blockchain RPC: a chain halt puts blockchain features in maintenance while the core game
//! keeps working; a provider outage is routed around.

use crate::support::*;

fn short(name: &str) -> String {
    edit(
        &read(&format!("scenarios/{name}.ron")),
        &[("duration: \"30m\"", "duration: \"24m\"")],
    )
}

#[test]
fn a_chain_halt_disables_blockchain_features_and_nothing_else() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &scenario(&topo, &short("chain-halt")));
    for core in ["accounts", "game-state", "assets", "status-page"] {
        assert_eq!(
            recovery(service(&r, &topo, core)),
            Recovery::NeverBroke,
            "{core}"
        );
    }
    for feature in ["mint", "marketplace"] {
        let f = service(&r, &topo, feature);
        assert!(
            f.writes.failed > 0,
            "{feature} is unavailable during the halt"
        );
        // Back when blocks resume (the halt lasts 10 minutes from 600 s).
        let rto = f.rto().expect("recovers after the halt");
        let secs = rto.as_secs_f64();
        assert!((580.0..640.0).contains(&secs), "{feature}: RTO {rto}");
    }
    let on = r
        .timeline
        .iter()
        .find(|e| e.kind == "maintenance" && e.detail.contains("entered"));
    let off = r
        .timeline
        .iter()
        .find(|e| e.kind == "maintenance" && e.detail.contains("left"));
    let (on, off) = (
        on.expect("maintenance entered"),
        off.expect("maintenance left"),
    );
    // Entered after three missed blocks (36 s), left when the chain moves again (1200 s).
    assert!(
        on.at_s.as_secs_f64() > 636.0 && on.at_s.as_secs_f64() < 650.0,
        "{on:?}"
    );
    assert!(
        off.at_s.as_secs_f64() >= 1200.0 && off.at_s.as_secs_f64() < 1215.0,
        "{off:?}"
    );
    assert!(r.safety_violations.is_empty());
}

#[test]
fn a_provider_outage_is_routed_around() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &scenario(&topo, &short("rpc-provider-outage")));
    assert!(
        r.timeline
            .iter()
            .any(|e| e.kind == "health" && e.detail.contains("rpc-alchemy down"))
    );
    for feature in ["mint", "marketplace"] {
        assert_eq!(
            recovery(service(&r, &topo, feature)),
            Recovery::NeverBroke,
            "{feature}"
        );
    }
}

#[test]
fn a_provider_failing_most_calls_breaks_minting_while_it_lasts() {
    // Errors are answers, not silence: the health checks (which only ask for liveness) keep
    // the provider in rotation, and fast errors even keep its latency low, so its share of
    // calls keeps failing. The provider that matters is the one latency-aware routing prefers:
    // the self-hosted node in us-east-1, next to the balancer there.
    let topo = topology("ftm-games", &[]);
    let text = edit(
        &short("rpc-provider-outage"),
        &[(
            "Fault(at: \"10m\", kind: NodeCrash(\"rpc-alchemy\")),",
            "Fault(at: \"10m\", duration: \"5m\", kind: RpcErrors(provider: \"eth-node-use1\", rate: 0.9)),",
        )],
    );
    let r = run(&topo, &scenario(&topo, &text));
    let mint = service(&r, &topo, "mint");
    assert!(mint.writes.failed > 0, "{:?}", mint.writes);
    assert!(r.timeline.iter().any(|e| e.kind == "fault_end"));
}

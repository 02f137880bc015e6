//! The CDN: cached assets survive the origin; misses fail over to the replica origin; an edge
//! outage shifts clients to the next edge.

use crate::support::*;

fn short(fault: &str) -> String {
    edit(
        &read("scenarios/cdn-origin-loss.ron"),
        &[
            ("duration: \"30m\"", "duration: \"14m\""),
            (
                "Fault(at: \"10m\", kind: NodeCrash(\"origin-use1\")),",
                fault,
            ),
        ],
    )
}

#[test]
fn losing_the_primary_origin_is_absorbed_by_the_origin_group() {
    let topo = topology("ftm-games", &[]);
    let r = run(
        &topo,
        &scenario(
            &topo,
            &short("Fault(at: \"10m\", kind: NodeCrash(\"origin-use1\")),"),
        ),
    );
    let a = service(&r, &topo, "assets");
    assert_eq!(
        recovery(a),
        Recovery::NeverBroke,
        "misses fail over within the client's timeout"
    );
    assert_eq!(a.writes.failed, 0);
}

#[test]
fn with_every_origin_gone_cached_assets_are_still_served_and_misses_fail() {
    let topo = topology("ftm-games", &[("serve_stale: true", "serve_stale: false")]);
    let both = "Fault(at: \"10m\", kind: NodeCrash(\"origin-use1\")),\n        Fault(at: \"10m\", kind: NodeCrash(\"origin-usw2\")),";
    let r = run(&topo, &scenario(&topo, &short(both)));
    let a = service(&r, &topo, "assets");
    assert!(a.writes.failed > 0, "cold assets cannot be fetched");
    // Popular assets were cached before the fault: most reads still succeed.
    assert!(
        a.writes.acked as f64 > 0.8 * a.writes.sent as f64,
        "{:?}",
        a.writes
    );
    // But not back to steady state: with 20,000 Zipf-popular assets the cold tail keeps about
    // 3 % of reads missing (a 40-minute run shows the same), below the 99 % threshold. Only an
    // origin brings it back. (An earlier version of the steady-state rule called the last
    // few good seconds of the run a recovery.)
    assert_eq!(recovery(a), Recovery::NotRecovered);
}

#[test]
fn an_edge_outage_shifts_clients_to_the_next_edge() {
    let topo = topology("ftm-games", &[]);
    let r = run(
        &topo,
        &scenario(
            &topo,
            &short("Fault(at: \"10m\", duration: \"2m\", kind: NodeCrash(\"edge-na-east\")),"),
        ),
    );
    let a = service(&r, &topo, "assets");
    // Each North American read first tries the dead edge, times out after 3 s and succeeds on
    // the retry at the next-nearest edge: slower, but served.
    assert_eq!(a.writes.failed, 0, "{:?}", a.writes);
    assert_eq!(recovery(a), Recovery::NeverBroke);
}

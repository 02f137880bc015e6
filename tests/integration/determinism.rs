//! Same inputs and seed ⇒ the same trace, whatever the machine or thread count.

use crate::support::*;
use gameday::run::run_batch;

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(
        &topo,
        "zone-loss",
        &[("duration: \"30m\"", "duration: \"12m\"")],
    );
    let a = gameday::run::run_once(&topo, &s, 7);
    let b = gameday::run::run_once(&topo, &s, 7);
    let c = gameday::run::run_once(&topo, &s, 8);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.events, b.events);
    assert_eq!(a.writes, b.writes);
    assert_eq!(a.timeline, b.timeline);
    assert_ne!(
        a.trace_hash, c.trace_hash,
        "the seed must matter (jitter, Poisson arrivals, phases)"
    );
}

#[test]
fn batch_results_do_not_depend_on_the_thread_count() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(
        &topo,
        "zone-loss",
        &[("duration: \"30m\"", "duration: \"11m\"")],
    );
    let batch = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run_batch(&topo, &s, 42, 6, &|| {}))
            .into_iter()
            .map(|r| (r.seed, r.trace_hash, r.events, r.writes))
            .collect::<Vec<_>>()
    };
    let one = batch(1);
    assert_eq!(one, batch(2));
    assert_eq!(one, batch(3));
    // Runs are distinct seeds.
    assert_eq!(
        one.iter()
            .map(|r| r.0)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        6
    );
}

#[test]
fn adding_a_component_does_not_shift_the_others() {
    // An extra RPC balancer sends probes and head queries every few seconds. With one shared
    // jitter stream its messages would shift every other message's jitter; with a stream per
    // sending node, PostgreSQL and Redis see exactly the same run.
    let plain = topology("ftm-games", &[]);
    let more = topology(
        "ftm-games",
        &[
            (
                "Node(name: \"rpc-lb-euw1\", region: \"europe-west1\"),",
                "Node(name: \"rpc-lb-euw1\", region: \"europe-west1\"),\n        Node(name: \"rpc-lb-extra\", region: \"us-west-2\"),",
            ),
            (
                "balancers: [\"rpc-lb-use1\", \"rpc-lb-usw2\", \"rpc-lb-euw1\"],",
                "balancers: [\"rpc-lb-use1\", \"rpc-lb-usw2\", \"rpc-lb-euw1\", \"rpc-lb-extra\"],",
            ),
        ],
    );
    let edits = [("duration: \"30m\"", "duration: \"12m\"")];
    let a = run(&plain, &shipped(&plain, "zone-loss", &edits));
    let b = run(&more, &shipped(&more, "zone-loss", &edits));
    assert_ne!(a.events, b.events, "the extra balancer did send messages");
    for name in ["accounts", "game-state"] {
        let (x, y) = (service(&a, &plain, name), service(&b, &more, name));
        assert_eq!(x.writes, y.writes, "{name}");
        assert_eq!(recovery(x), recovery(y), "{name}");
        assert_eq!(x.first_success, y.first_success, "{name}");
    }
}

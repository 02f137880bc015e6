//! The trace hash of every shipped scenario on its own seed, pinned: a refactor must not move
//! the simulation by one event. A change that does move a hash must say why in its commit and
//! update the table here (and the README and docs where they quote it).

use crate::support::*;

/// `(scenario, trace hash, events)` with the scenario's own seed and one run.
const PINNED: &[(&str, &str, u64)] = &[
    ("cdn-origin-loss", "99b4e4c502914a9b", 11_448_647),
    ("chain-halt", "dc99e1b407fa6dd3", 11_638_488),
    ("cloud-provider-outage", "3948e9ec1f754caf", 11_684_138),
    ("monitoring-dark", "c2dca590681f59f1", 15_769_882),
    ("redis-region-loss", "0fabba5ce52eebd6", 5_015_408),
    ("redis-zone-loss", "3d797cf54b501161", 11_247_040),
    ("region-loss", "990c27f937d0fb35", 10_514_356),
    ("region-loss-at-night", "aff6692737ac5484", 10_907_967),
    ("region-partition", "590ac5b884437c2f", 11_460_209),
    ("rpc-latency-spike", "12953c5577debbe1", 11_607_325),
    ("rpc-provider-outage", "c5b12e596c057857", 11_605_891),
    ("rw1", "53dbbd4dff9f74bc", 19_714_294),
    ("table-corruption", "bc6aeff33f3843c2", 6_042_393),
    ("us-west-2-loss", "9eee580a6a998000", 11_043_509),
    ("zone-loss", "82f1e55c088660c9", 11_062_093),
];

#[test]
fn every_shipped_scenario_keeps_its_trace_hash() {
    let mut shipped_names: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "ron").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    shipped_names.sort();
    let pinned: Vec<&str> = PINNED.iter().map(|p| p.0).collect();
    assert_eq!(
        shipped_names, pinned,
        "every shipped scenario is pinned, and only those"
    );
    let mut moved = Vec::new();
    for &(name, hash, events) in PINNED {
        let topology_name = if name == "rw1" { "rw1" } else { "ftm-games" };
        let topo = topology(topology_name, &[]);
        let r = run(&topo, &shipped(&topo, name, &[]));
        let got = format!("{:016x}", r.trace_hash);
        if got != hash || r.events != events {
            moved.push(format!(
                "{name}: {got} {} (pinned {hash} {events})",
                r.events
            ));
        }
    }
    assert!(
        moved.is_empty(),
        "trace hashes moved:\n{}",
        moved.join("\n")
    );
}

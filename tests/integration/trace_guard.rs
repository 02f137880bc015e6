//! The trace hash of every shipped scenario on its own seed, pinned: a refactor must not move
//! the simulation by one event. A change that does move a hash must say why in its commit and
//! update the table here (and the README and docs where they quote it).

use crate::support::*;

/// `(scenario, trace hash, events)` with the scenario's own seed and one run.
const PINNED: &[(&str, &str, u64)] = &[
    ("cdn-origin-loss", "87dc3e8231d36063", 11_448_914),
    ("chain-halt", "df8a4f750e4b0ae4", 11_638_749),
    ("cloud-provider-outage", "da548db2ad613660", 11_734_113),
    ("monitoring-dark", "664381e0a7b7d28e", 15_744_592),
    ("redis-region-loss", "0ba399307e4c85e7", 5_015_608),
    ("redis-zone-loss", "11b5f61c5e1fdc30", 11_247_279),
    ("region-loss", "bd0944cf8e55e337", 10_543_420),
    ("region-loss-at-night", "7e65f47b955d1621", 10_764_552),
    ("region-partition", "ba1b829ae1e4b8ef", 11_412_756),
    ("rpc-latency-spike", "6ae7ea0e67ac4455", 11_607_590),
    ("rpc-provider-outage", "f8ecbdf7976e81a0", 11_606_151),
    ("rw1", "53dbbd4dff9f74bc", 19_714_294),
    ("table-corruption", "7b4efa505abacb0c", 6_044_834),
    ("us-west-2-loss", "612d798c075bb9a9", 11_043_750),
    ("zone-loss", "989cebf44c3d9020", 11_062_332),
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

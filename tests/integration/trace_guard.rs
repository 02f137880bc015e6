//! The trace hash of every shipped scenario on its own seed, pinned: a refactor must not move
//! the simulation by one event. A change that does move a hash must say why in its commit and
//! update the table here (and the README and docs where they quote it).

use crate::support::*;

/// `(scenario, trace hash, events)` with the scenario's own seed and one run.
const PINNED: &[(&str, &str, u64)] = &[
    ("cdn-origin-loss", "bada26aff476fd8b", 11_448_914),
    ("chain-halt", "df8a4f750e4b0ae4", 11_638_749),
    ("cloud-provider-outage", "eb510d5d6765d1aa", 11_734_113),
    ("monitoring-dark", "c7c27e35502e1c4d", 15_744_592),
    ("redis-region-loss", "1028784afd18b961", 5_015_608),
    ("redis-zone-loss", "9e31defb04ecda9b", 11_247_279),
    ("region-loss", "09167b0f27d99be8", 10_543_420),
    ("region-loss-at-night", "ecd050e9ba3b6a39", 10_764_552),
    ("region-partition", "f8bb9bd2fef4a654", 11_412_756),
    ("rpc-latency-spike", "6ae7ea0e67ac4455", 11_607_590),
    ("rpc-provider-outage", "f8ecbdf7976e81a0", 11_606_151),
    ("rw1", "53dbbd4dff9f74bc", 19_714_294),
    ("table-corruption", "2cde66ee139c70cb", 6_044_834),
    ("us-west-2-loss", "270e3d80ace3a1a0", 11_043_750),
    ("zone-loss", "11b903866a5ebe32", 11_062_332),
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

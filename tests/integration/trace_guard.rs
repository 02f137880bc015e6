//! The trace hash of every shipped scenario on its own seed, pinned: a refactor must not move
//! the simulation by one event. A change that does move a hash must say why in its commit and
//! update the table here (and the README and docs where they quote it).

use crate::support::*;

/// `(scenario, trace hash, events)` with the scenario's own seed and one run.
const PINNED: &[(&str, &str, u64)] = &[
    ("cdn-origin-loss", "b8b6029d974e76c1", 11_428_999),
    ("chain-halt", "3f52b8b179d02b34", 11_619_081),
    ("cloud-provider-outage", "c264d29dde82977a", 11_721_194),
    ("redis-region-loss", "e1c9380dd9785376", 4_998_294),
    ("redis-zone-loss", "0b832f54c1007980", 11_227_838),
    ("region-loss", "2a9cbd6911682210", 10_924_890),
    ("region-partition", "a15f1a1508f29a23", 11_405_514),
    ("rpc-latency-spike", "5b500b534bfe5269", 11_587_939),
    ("rpc-provider-outage", "a4f42813ed6270a8", 11_586_505),
    ("rw1", "53dbbd4dff9f74bc", 19_714_294),
    ("table-corruption", "f92f1f127da84dc9", 5_907_656),
    ("zone-loss", "7e206899abefda4f", 11_042_998),
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

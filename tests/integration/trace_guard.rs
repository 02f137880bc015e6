//! The trace hash of every shipped scenario on its own seed, pinned: a refactor must not move
//! the simulation by one event. A change that does move a hash must say why in its commit and
//! update the table here (and the README and docs where they quote it).

use crate::support::*;

/// `(scenario, trace hash, events)` with the scenario's own seed and one run.
const PINNED: &[(&str, &str, u64)] = &[
    ("cdn-origin-loss", "bf75bf889ab19015", 11_448_590),
    ("chain-halt", "c2e10d4b975a8a2a", 11_638_517),
    ("cloud-provider-outage", "81efbe37412d3243", 11_737_065),
    ("redis-region-loss", "68ee3845214c2f95", 5_015_447),
    ("redis-zone-loss", "c6235475f1b830fc", 11_246_919),
    ("region-loss", "b5c918a783d45265", 10_542_892),
    ("region-loss-at-night", "adc2a6966f927d1e", 10_763_985),
    ("region-partition", "f34b0496df85277a", 11_412_484),
    ("rpc-latency-spike", "08683dec653f8799", 11_607_384),
    ("rpc-provider-outage", "d59588b8870d4299", 11_605_942),
    ("rw1", "53dbbd4dff9f74bc", 19_714_294),
    ("table-corruption", "fa55fdd6e46c33ef", 6_043_583),
    ("us-west-2-loss", "d8ffad6845d4a5ab", 11_043_359),
    ("zone-loss", "68efaf7e22636685", 11_061_805),
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

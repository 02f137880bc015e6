//! The trace hash of every shipped scenario on its own seed, pinned: a refactor must not move
//! the simulation by one event. A change that does move a hash must say why in its commit and
//! update the table here (and the README and docs where they quote it).

use crate::support::*;

/// `(scenario, trace hash, events)` with the scenario's own seed and one run.
const PINNED: &[(&str, &str, u64)] = &[
    ("cdn-origin-loss", "7b3c1b75353d5183", 11_448_590),
    ("chain-halt", "dd126621ca5e8edd", 11_638_517),
    ("cloud-provider-outage", "208870de1abded73", 11_737_085),
    ("redis-region-loss", "785dba42156c38a0", 5_015_447),
    ("redis-zone-loss", "9b7ef752929b09d1", 11_246_919),
    ("region-loss", "b9448a84d4a72b8c", 10_543_085),
    ("region-loss-at-night", "1fb0ea6214d8898d", 10_764_245),
    ("region-partition", "ef61ea80f0d33026", 11_412_488),
    ("rpc-latency-spike", "792bfe3004d5d99c", 11_607_384),
    ("rpc-provider-outage", "be095fafe352f09b", 11_605_942),
    ("rw1", "53dbbd4dff9f74bc", 19_714_294),
    ("table-corruption", "35ff7b4c67598f5c", 6_043_652),
    ("us-west-2-loss", "a3f8768e0f406e24", 11_043_375),
    ("zone-loss", "60131c1772767694", 11_061_805),
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

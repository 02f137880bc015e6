//! The trace hash of every shipped scenario on its own seed, pinned: a refactor must not move
//! the simulation by one event. A change that does move a hash must say why in its commit and
//! update the table here (and the README and docs where they quote it).

use crate::support::*;

/// `(scenario, trace hash, events)` with the scenario's own seed and one run.
const PINNED: &[(&str, &str, u64)] = &[
    ("cdn-origin-loss", "b4f03ce7c3477507", 11_448_914),
    ("chain-halt", "ee32bd27656696e7", 11_638_749),
    ("cloud-provider-outage", "05aa6120f3cff3ef", 11_734_113),
    ("monitoring-dark", "0b0f4ad9da68c5e9", 15_744_592),
    ("redis-region-loss", "510ed592d521770e", 5_015_608),
    ("redis-zone-loss", "212cbd5e7183972e", 11_247_279),
    ("region-loss", "c70f100306bbb58c", 10_543_420),
    ("region-loss-at-night", "fdf53f443cb65ceb", 10_764_552),
    ("region-partition", "edac25cf838ce189", 11_412_756),
    ("rpc-latency-spike", "7bb267fa226aabef", 11_607_590),
    ("rpc-provider-outage", "b59f5660a4102b74", 11_606_151),
    ("rw1", "53dbbd4dff9f74bc", 19_714_294),
    ("table-corruption", "b88345a10b91ca4e", 6_044_834),
    ("us-west-2-loss", "6823d6359f0e59ec", 11_043_750),
    ("zone-loss", "0f0303a934a7cbe2", 11_062_332),
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

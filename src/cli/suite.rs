//! The built-in GameDay suite: what `gameday` runs with no arguments.
//!
//! The files are compiled in so the binary works from any directory; when the repository's
//! own copies are present (running from the project root) those are read instead, so an edit
//! to `scenarios/zone-loss.ron` takes effect without rebuilding.

use crate::model::InputError;
use crate::model::error::Source;
use crate::model::scenario::ParsedScenario;
use crate::model::topology::Topology;
use std::path::Path;

/// Every GameDay of the reference DR plan, in the plan's order.
const SUITE: &[(&str, &str)] = &[
    (
        "scenarios/zone-loss.ron",
        include_str!("../../scenarios/zone-loss.ron"),
    ),
    (
        "scenarios/table-corruption.ron",
        include_str!("../../scenarios/table-corruption.ron"),
    ),
    (
        "scenarios/region-loss.ron",
        include_str!("../../scenarios/region-loss.ron"),
    ),
    (
        "scenarios/region-loss-at-night.ron",
        include_str!("../../scenarios/region-loss-at-night.ron"),
    ),
    (
        "scenarios/us-west-2-loss.ron",
        include_str!("../../scenarios/us-west-2-loss.ron"),
    ),
    (
        "scenarios/cloud-provider-outage.ron",
        include_str!("../../scenarios/cloud-provider-outage.ron"),
    ),
    (
        "scenarios/redis-region-loss.ron",
        include_str!("../../scenarios/redis-region-loss.ron"),
    ),
    (
        "scenarios/redis-zone-loss.ron",
        include_str!("../../scenarios/redis-zone-loss.ron"),
    ),
    (
        "scenarios/rpc-provider-outage.ron",
        include_str!("../../scenarios/rpc-provider-outage.ron"),
    ),
    (
        "scenarios/rpc-latency-spike.ron",
        include_str!("../../scenarios/rpc-latency-spike.ron"),
    ),
    (
        "scenarios/chain-halt.ron",
        include_str!("../../scenarios/chain-halt.ron"),
    ),
    (
        "scenarios/cdn-origin-loss.ron",
        include_str!("../../scenarios/cdn-origin-loss.ron"),
    ),
    (
        "scenarios/region-partition.ron",
        include_str!("../../scenarios/region-partition.ron"),
    ),
];

const TOPOLOGIES: &[(&str, &str, &str)] = &[(
    "ftm-games",
    "topologies/ftm-games.ron",
    include_str!("../../topologies/ftm-games.ron"),
)];

fn source(path: &str, text: &str) -> Result<Source, InputError> {
    if Path::new(path).is_file() {
        Source::read(Path::new(path))
    } else {
        Ok(Source::inline(path, text))
    }
}

/// The suite's scenarios, parsed.
pub fn builtin_scenarios() -> Result<Vec<ParsedScenario>, InputError> {
    SUITE
        .iter()
        .map(|(p, t)| ParsedScenario::from_source(source(p, t)?))
        .collect()
}

/// The compiled-in topology a scenario names, when its file cannot be found on disk.
pub fn builtin_topology(p: &ParsedScenario) -> Result<Option<Topology>, InputError> {
    if p.topology_path().is_ok() {
        return Ok(None);
    }
    for (name, path, text) in TOPOLOGIES {
        if p.file.topology == *name {
            return Topology::from_source(source(path, text)?).map(Some);
        }
    }
    Ok(None)
}

/// The text of the topology a scenario names: its file, or the compiled-in copy.
pub fn topology_source(p: &ParsedScenario) -> Result<Source, InputError> {
    match p.topology_path() {
        Ok(path) => Source::read(&path),
        Err(e) => TOPOLOGIES
            .iter()
            .find(|(name, _, _)| p.file.topology == *name)
            .map(|(_, path, text)| source(path, text))
            .unwrap_or(Err(e)),
    }
}

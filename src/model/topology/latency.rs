//! The `latency` section: one-way latencies by distance class, per-region-pair overrides and
//! jitter, turned into the network's [`NetworkLayout`] (a zone × zone latency matrix).
//!
//! It does not own the places themselves (`places`) nor how messages are delayed at run time
//! (`sim::network`).

use super::places::ZoneInfo;
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use crate::sim::network::{Jitter, NetworkLayout};
use crate::sim::time::SimDuration;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One-way latencies by distance class, with per-region-pair overrides.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyDef {
    pub same_zone: Dur,
    pub cross_zone: Dur,
    pub cross_region: Dur,
    pub cross_provider: Dur,
    /// `("us-east-1", "us-west-2", "32ms")`: one-way latency between two regions.
    #[serde(default)]
    pub regions: Vec<(String, String, Dur)>,
    #[serde(default)]
    pub jitter: JitterDef,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub enum JitterDef {
    #[default]
    None,
    /// Uniform in `[0, max]`.
    Uniform(Dur),
    /// Exponential with this mean.
    Exponential(Dur),
}

/// Checks the latencies and builds the network layout of the placed nodes.
pub(super) fn layout(
    src: &Source,
    l: &LatencyDef,
    regions: &[(String, u16)],
    zones: &[ZoneInfo],
    node_zone: &[u16],
) -> Result<NetworkLayout, InputError> {
    let region_pair = region_pairs(src, l, regions)?;
    for (field, d) in [
        ("same_zone", l.same_zone),
        ("cross_zone", l.cross_zone),
        ("cross_region", l.cross_region),
        ("cross_provider", l.cross_provider),
    ] {
        if d.0.is_zero() {
            return Err(src.invalid(
                field,
                &d.0.to_string(),
                "latency must be greater than zero (messages would arrive before they are sent)",
            ));
        }
    }
    let jitter = match l.jitter {
        JitterDef::None => Jitter::None,
        JitterDef::Uniform(d) => Jitter::Uniform(d.0),
        JitterDef::Exponential(d) => Jitter::Exponential(d.0),
    };
    Ok(NetworkLayout {
        node_zone: node_zone.to_vec(),
        zone_region: zones.iter().map(|z| z.region).collect(),
        region_provider: regions.iter().map(|r| r.1).collect(),
        zone_latency: zone_latencies(l, regions, zones, &region_pair),
        jitter,
    })
}

/// The per-region-pair overrides, keyed by (lower, higher) region index.
fn region_pairs(
    src: &Source,
    l: &LatencyDef,
    regions: &[(String, u16)],
) -> Result<BTreeMap<(u16, u16), SimDuration>, InputError> {
    let mut region_pair = BTreeMap::new();
    for (a, b, d) in &l.regions {
        let ra = regions
            .iter()
            .position(|r| &r.0 == a)
            .ok_or_else(|| src.invalid("regions", a, "no such region"))? as u16;
        let rb = regions
            .iter()
            .position(|r| &r.0 == b)
            .ok_or_else(|| src.invalid("regions", b, "no such region"))? as u16;
        if d.0.is_zero() {
            return Err(src.invalid(
                "regions",
                a,
                "latency between regions must be greater than zero",
            ));
        }
        region_pair.insert((ra.min(rb), ra.max(rb)), d.0);
    }
    Ok(region_pair)
}

/// The zone × zone one-way latency matrix, row by row.
fn zone_latencies(
    l: &LatencyDef,
    regions: &[(String, u16)],
    zones: &[ZoneInfo],
    region_pair: &BTreeMap<(u16, u16), SimDuration>,
) -> Vec<SimDuration> {
    let n = zones.len();
    let mut zone_latency = Vec::with_capacity(n * n);
    for a in 0..n {
        for b in 0..n {
            let (za, zb) = (&zones[a], &zones[b]);
            let (ra, rb) = (za.region, zb.region);
            let d = if a == b && !za.implicit {
                l.same_zone.0
            } else if ra == rb {
                l.cross_zone.0
            } else if let Some(&d) = region_pair.get(&(ra.min(rb), ra.max(rb))) {
                d
            } else if regions[ra as usize].1 == regions[rb as usize].1 {
                l.cross_region.0
            } else {
                l.cross_provider.0
            };
            zone_latency.push(d);
        }
    }
    zone_latency
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Dur {
        Dur(SimDuration::from_millis(n))
    }

    fn zone(name: &str, region: u16, implicit: bool) -> ZoneInfo {
        ZoneInfo {
            name: name.to_string(),
            region,
            implicit,
        }
    }

    #[test]
    fn latencies_follow_distance_classes_and_region_overrides() {
        let src = Source::inline("t.ron", "");
        let l = LatencyDef {
            same_zone: ms(1),
            cross_zone: ms(2),
            cross_region: ms(50),
            cross_provider: ms(100),
            regions: vec![("r0".into(), "r1".into(), ms(30))],
            jitter: JitterDef::None,
        };
        let regions = [
            ("r0".into(), 0),
            ("r1".into(), 0),
            ("r2".into(), 0),
            ("q".into(), 1),
        ];
        let zones = [
            zone("a", 0, false),
            zone("b", 1, false),
            zone("c", 2, false),
            zone("d", 3, false),
            zone("r0 (region-wide)", 0, true),
        ];
        let layout = layout(&src, &l, &regions, &zones, &[0]).unwrap();
        let at = |a: usize, b: usize| layout.zone_latency[a * zones.len() + b];
        assert_eq!(at(0, 0), ms(1).0);
        assert_eq!(
            at(4, 4),
            ms(2).0,
            "region-wide is cross-zone even to itself"
        );
        assert_eq!(at(0, 4), ms(2).0);
        assert_eq!(at(1, 0), ms(30).0);
        assert_eq!(at(0, 2), ms(50).0);
        assert_eq!(at(2, 3), ms(100).0);
    }
}

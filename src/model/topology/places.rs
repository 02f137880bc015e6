//! The `providers` section: providers → regions → zones, one implicit zone per region for
//! region-wide nodes, and the resolution of a [`PlaceRef`] written anywhere in a file to the
//! network's [`Place`].
//!
//! It does not own the nodes placed in those zones (`nodes`) nor the latencies between them
//! (`latency`).

use crate::model::error::{InputError, Source};
use crate::model::limits;
use crate::sim::network::Place;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Provider")]
pub struct ProviderDef {
    pub name: String,
    pub regions: Vec<RegionDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Region")]
pub struct RegionDef {
    pub name: String,
    pub zones: Vec<String>,
}

/// A place named in a file.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
pub enum PlaceRef {
    Provider(String),
    Region(String),
    Zone(String),
    Node(String),
}

impl PlaceRef {
    pub fn name(&self) -> &str {
        match self {
            PlaceRef::Provider(n) | PlaceRef::Region(n) | PlaceRef::Zone(n) | PlaceRef::Node(n) => {
                n
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct ZoneInfo {
    pub name: String,
    pub region: u16,
    pub implicit: bool,
}

/// The resolved `providers` section, and every name it took.
pub(super) struct Places {
    pub providers: Vec<String>,
    pub regions: Vec<(String, u16)>,
    /// Zones with their region; `implicit` zones stand for region-wide placement.
    pub zones: Vec<ZoneInfo>,
    /// The implicit zone of region `r` is `zones[first_implicit + r]`.
    pub first_implicit: usize,
    /// Names taken so far with what they name: node names share this namespace.
    pub names: BTreeMap<String, &'static str>,
}

/// Resolves the providers, their regions and zones, and adds one implicit zone per region.
pub(super) fn resolve(src: &Source, defs: &[ProviderDef]) -> Result<Places, InputError> {
    let mut places = Places {
        providers: Vec::new(),
        regions: Vec::new(),
        zones: Vec::new(),
        first_implicit: 0,
        names: BTreeMap::new(),
    };
    for p in defs {
        if places.names.insert(p.name.clone(), "provider").is_some() {
            return Err(src.invalid("providers", &p.name, "this name is used twice"));
        }
        places.providers.push(p.name.clone());
        if p.regions.is_empty() {
            return Err(src.invalid("providers", &p.name, "a provider needs at least one region"));
        }
        for r in &p.regions {
            add_region(src, &mut places, r)?;
        }
    }
    if places.providers.is_empty() {
        return Err(src.invalid(
            "providers",
            "",
            "the topology has no providers: nothing to simulate",
        ));
    }
    // One implicit zone per region, for region-wide nodes.
    places.first_implicit = places.zones.len();
    for (ri, (rname, _)) in places.regions.iter().enumerate() {
        places.zones.push(ZoneInfo {
            name: format!("{rname} (region-wide)"),
            region: ri as u16,
            implicit: true,
        });
    }
    if places.zones.len() > limits::ZONES_MAX {
        return Err(src.invalid(
            "zones",
            "",
            format!(
                "{} zones is more than the limit of {}",
                places.zones.len(),
                limits::ZONES_MAX
            ),
        ));
    }
    Ok(places)
}

/// Adds a region of the last provider, and its zones.
fn add_region(src: &Source, places: &mut Places, r: &RegionDef) -> Result<(), InputError> {
    if places.names.insert(r.name.clone(), "region").is_some() {
        return Err(src.invalid("regions", &r.name, "this name is used twice"));
    }
    let ri = places.regions.len() as u16;
    places
        .regions
        .push((r.name.clone(), (places.providers.len() - 1) as u16));
    if r.zones.is_empty() {
        return Err(src.invalid("regions", &r.name, "a region needs at least one zone"));
    }
    for z in &r.zones {
        if places.names.insert(z.clone(), "zone").is_some() {
            return Err(src.invalid("zones", z, "this name is used twice"));
        }
        places.zones.push(ZoneInfo {
            name: z.clone(),
            region: ri,
            implicit: false,
        });
    }
    Ok(())
}

/// Resolves names to places, during validation (before the topology exists) and after.
pub(super) struct PlaceResolver<'a> {
    pub providers: &'a [String],
    pub regions: &'a [(String, u16)],
    pub zones: &'a [ZoneInfo],
    pub node_names: &'a [String],
}

impl PlaceResolver<'_> {
    /// The place a name refers to, if there is one (implicit zones cannot be named).
    pub fn resolve(&self, p: &PlaceRef) -> Option<Place> {
        match p {
            PlaceRef::Provider(n) => self
                .providers
                .iter()
                .position(|x| x == n)
                .map(|i| Place::Provider(i as u16)),
            PlaceRef::Region(n) => self
                .regions
                .iter()
                .position(|x| &x.0 == n)
                .map(|i| Place::Region(i as u16)),
            PlaceRef::Zone(n) => self
                .zones
                .iter()
                .position(|z| &z.name == n && !z.implicit)
                .map(|i| Place::Zone(i as u16)),
            PlaceRef::Node(n) => self
                .node_names
                .iter()
                .position(|x| x == n)
                .map(|i| Place::Node(i as u32)),
        }
    }

    /// Whether `place` contains node `n`.
    pub fn contains(&self, place: Place, n: u32, node_zone: &[u16]) -> bool {
        let z = node_zone[n as usize];
        let r = self.zones[z as usize].region;
        match place {
            Place::Provider(p) => self.regions[r as usize].1 == p,
            Place::Region(x) => x == r,
            Place::Zone(x) => x == z,
            Place::Node(x) => x == n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(name: &str, zones: &[&str]) -> RegionDef {
        RegionDef {
            name: name.to_string(),
            zones: zones.iter().map(|z| z.to_string()).collect(),
        }
    }

    #[test]
    fn each_region_gets_an_implicit_zone_after_the_named_ones() {
        let src = Source::inline("t.ron", "");
        let defs = [ProviderDef {
            name: "p".into(),
            regions: vec![region("r0", &["a", "b"]), region("r1", &["c"])],
        }];
        let places = resolve(&src, &defs).unwrap();
        assert_eq!(places.first_implicit, 3);
        let names: Vec<_> = places.zones.iter().map(|z| z.name.as_str()).collect();
        assert_eq!(
            names,
            ["a", "b", "c", "r0 (region-wide)", "r1 (region-wide)"]
        );
        assert_eq!(places.zones[4].region, 1);
        let resolver = PlaceResolver {
            providers: &places.providers,
            regions: &places.regions,
            zones: &places.zones,
            node_names: &[],
        };
        assert_eq!(
            resolver.resolve(&PlaceRef::Zone("c".into())),
            Some(Place::Zone(2))
        );
        assert_eq!(
            resolver.resolve(&PlaceRef::Zone("r0 (region-wide)".into())),
            None
        );
    }

    #[test]
    fn a_name_used_twice_is_rejected() {
        let src = Source::inline("t.ron", "");
        let defs = [ProviderDef {
            name: "p".into(),
            regions: vec![region("r0", &["a"]), region("r1", &["a"])],
        }];
        let err = resolve(&src, &defs).err().unwrap().to_string();
        assert!(err.ends_with("`a`: this name is used twice"), "{err}");
    }
}

//! The `cdns` section: edge locations caching assets from an origin group (CloudFront
//! style), with popularity, freshness and failover between origins.
//!
//! It does not own the services that read through a CDN (`service`) nor edge caching at run
//! time (`logic::cdn`).

use super::durations::positive;
use super::nodes::{NodeTable, Role};
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use crate::sim::time::SimDuration;
use serde::Deserialize;

fn default_assets() -> u32 {
    10_000
}
fn default_zipf() -> f64 {
    1.0
}
/// Shorter than a typical reader's timeout, so a miss can still succeed at the next origin.
fn default_origin_timeout() -> Dur {
    Dur(SimDuration::from_secs(2))
}
fn default_true() -> bool {
    true
}

/// A CDN: edge locations caching assets from an origin group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Cdn")]
pub struct CdnDef {
    pub name: String,
    /// Edge nodes (or groups); clients use the nearest first.
    pub edges: Vec<String>,
    /// Origin nodes, in failover order (CloudFront origin group).
    pub origins: Vec<String>,
    /// How many distinct assets clients ask for.
    #[serde(default = "default_assets")]
    pub assets: u32,
    /// Zipf exponent of asset popularity.
    #[serde(default = "default_zipf")]
    pub zipf: f64,
    /// How long an edge keeps a fetched asset fresh (the Cache-Control max-age).
    pub ttl: Dur,
    /// How long an edge waits for an origin before trying the next.
    #[serde(default = "default_origin_timeout")]
    pub origin_timeout: Dur,
    /// Serve an expired copy when every origin fails (stale-if-error).
    #[serde(default = "default_true")]
    pub serve_stale: bool,
}

#[derive(Clone, Debug)]
pub struct CdnInfo {
    pub name: String,
    pub edges: Vec<u32>,
    pub origins: Vec<u32>,
    pub assets: u32,
    pub zipf: f64,
    pub ttl: SimDuration,
    pub origin_timeout: SimDuration,
    pub serve_stale: bool,
}

/// Resolves every CDN, in the order written.
pub(super) fn resolve(
    src: &Source,
    defs: &[CdnDef],
    nodes: &mut NodeTable,
) -> Result<Vec<CdnInfo>, InputError> {
    let mut cdns: Vec<CdnInfo> = Vec::new();
    for (ci, c) in defs.iter().enumerate() {
        if cdns.iter().any(|x| x.name == c.name) {
            return Err(src.invalid("cdns", &c.name, "this CDN is defined twice"));
        }
        let mut edges = Vec::new();
        for e in &c.edges {
            for x in nodes.nodes(src, "edges", e)? {
                nodes.assign(src, x, Role::Edge(ci), "edges")?;
                edges.push(x);
            }
        }
        let mut origins = Vec::new();
        for o in &c.origins {
            let x = nodes.node(src, "origins", o)?;
            nodes.assign(src, x, Role::Site, "origins")?;
            origins.push(x);
        }
        cdns.push(check(src, c, edges, origins)?);
    }
    Ok(cdns)
}

/// Checks a CDN's settings once its edges and origins are resolved.
fn check(
    src: &Source,
    c: &CdnDef,
    edges: Vec<u32>,
    origins: Vec<u32>,
) -> Result<CdnInfo, InputError> {
    if edges.is_empty() || origins.is_empty() {
        return Err(src.invalid(
            "cdns",
            &c.name,
            "a CDN needs at least one edge and one origin",
        ));
    }
    if c.assets == 0 || c.assets > 10_000_000 {
        return Err(src.invalid("assets", &c.name, "assets must be between 1 and 10,000,000"));
    }
    if !(c.zipf > 0.0 && c.zipf <= 10.0) {
        return Err(src.invalid("zipf", &c.name, "the Zipf exponent must be in (0, 10]"));
    }
    Ok(CdnInfo {
        name: c.name.clone(),
        edges,
        origins,
        assets: c.assets,
        zipf: c.zipf,
        ttl: positive(src, "ttl", c.ttl, "the CDN ttl")?,
        origin_timeout: positive(src, "origin_timeout", c.origin_timeout, "origin_timeout")?,
        serve_stale: c.serve_stale,
    })
}

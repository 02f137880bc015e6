//! The `apps` section: tiers of app servers, the datastore each routes writes to (found by a
//! role health check, or through Sentinel), and each server's capacity.
//!
//! It does not own the health-check settings (`health_check`) nor how app servers route and
//! queue at run time (`logic::routing`).

use super::datastore::{self, DatastoreInfo};
use super::durations::positive;
use super::health_check::{self, HealthCheckDef};
use super::nodes::{NodeTable, Role};
use crate::logic::health_check::HealthCheckSpec;
use crate::logic::routing::Capacity;
use crate::model::error::{InputError, Source};
use crate::model::{Dur, limits};
use serde::Deserialize;

/// App servers; with a datastore, each routes writes to the member its role check calls
/// primary (HAProxy against Patroni's `/primary`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "AppTier")]
pub struct AppTierDef {
    pub nodes: Vec<String>,
    #[serde(default)]
    pub datastore: Option<String>,
    #[serde(default)]
    pub check: Option<HealthCheckDef>,
    /// Datastores whose master the app servers learn from their sentinels.
    #[serde(default)]
    pub via_sentinel: Vec<String>,
    /// What one app server can handle; without it, unlimited.
    #[serde(default)]
    pub capacity: Option<CapacityDef>,
}

/// One app server's capacity: `workers` requests in parallel, each taking `service_time`;
/// a request that would wait longer than `max_queue` is shed at once (HTTP 503).
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct CapacityDef {
    pub workers: u32,
    pub service_time: Dur,
    pub max_queue: Dur,
}

#[derive(Clone, Debug)]
pub struct AppTierInfo {
    pub nodes: Vec<u32>,
    pub datastore: Option<usize>,
    /// Sentinel-managed datastores this tier reaches through their sentinels.
    pub via_sentinel: Vec<usize>,
    pub check: Option<HealthCheckSpec>,
    pub capacity: Option<Capacity>,
}

/// Resolves every app tier, in the order written.
pub(super) fn resolve(
    src: &Source,
    defs: &[AppTierDef],
    datastores: &[DatastoreInfo],
    nodes: &mut NodeTable,
) -> Result<Vec<AppTierInfo>, InputError> {
    let mut apps = Vec::new();
    for (ti, t) in defs.iter().enumerate() {
        let mut tier_nodes = Vec::new();
        for n in &t.nodes {
            for x in nodes.nodes(src, "apps", n)? {
                nodes.assign(src, x, Role::App { tier: ti }, "apps")?;
                tier_nodes.push(x);
            }
        }
        let datastore = t
            .datastore
            .as_deref()
            .map(|d| datastore::index_of(src, datastores, "datastore", d))
            .transpose()?;
        let check = match (&t.check, datastore) {
            (Some(c), _) => Some(health_check::resolve(src, c, true, "apps")?),
            (None, Some(_)) => {
                return Err(src.invalid(
                    "apps",
                    &t.nodes.join(","),
                    "an app tier with a datastore needs a `check` to find its primary",
                ));
            }
            (None, None) => None,
        };
        apps.push(AppTierInfo {
            nodes: tier_nodes,
            datastore,
            via_sentinel: via_sentinel(src, t, datastores)?,
            check,
            capacity: t.capacity.map(|c| capacity(src, t, c)).transpose()?,
        });
    }
    Ok(apps)
}

/// The Sentinel-managed datastores a tier reaches through their sentinels.
fn via_sentinel(
    src: &Source,
    t: &AppTierDef,
    datastores: &[DatastoreInfo],
) -> Result<Vec<usize>, InputError> {
    let mut via_sentinel = Vec::new();
    for name in &t.via_sentinel {
        let d = datastore::index_of(src, datastores, "via_sentinel", name)?;
        if datastores[d].sentinel.is_none() {
            return Err(src.invalid(
                "via_sentinel",
                name,
                "this datastore has no `sentinel` section",
            ));
        }
        via_sentinel.push(d);
    }
    if via_sentinel.len() > u8::MAX as usize {
        return Err(src.invalid("via_sentinel", "", "at most 255 datastores"));
    }
    Ok(via_sentinel)
}

/// One app server's capacity, checked.
fn capacity(src: &Source, t: &AppTierDef, c: CapacityDef) -> Result<Capacity, InputError> {
    if c.workers == 0 || c.workers > limits::WORKERS_MAX {
        return Err(src.invalid(
            "workers",
            &t.nodes.join(","),
            format!("an app server needs 1 to {} workers", limits::WORKERS_MAX),
        ));
    }
    Ok(Capacity {
        workers: c.workers,
        service_time: positive(src, "service_time", c.service_time, "service_time")?,
        max_queue: c.max_queue.0,
    })
}

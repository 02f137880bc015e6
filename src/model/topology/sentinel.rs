//! A datastore's `sentinel` section: Redis Sentinel-style failover by a quorum of sentinels,
//! named as in `sentinel.conf`.
//!
//! It does not own the datastore (`datastore`, which calls [`resolve`] and gives the
//! sentinel nodes their role) nor what sentinels do at run time (`logic::sentinel`).

use super::durations::{interval, positive};
use super::nodes::NodeTable;
use crate::logic::periodic::Phase;
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use crate::sim::time::SimDuration;
use serde::Deserialize;

fn default_down_after() -> Dur {
    Dur(SimDuration::from_secs(30))
}
fn default_ping_interval() -> Dur {
    Dur(SimDuration::from_secs(1))
}
fn default_failover_timeout() -> Dur {
    Dur(SimDuration::from_secs(180))
}

/// Redis Sentinel settings, named as in `sentinel.conf`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelDef {
    /// The sentinel nodes (each runs one sentinel).
    pub nodes: Vec<String>,
    /// How many sentinels must agree the master is down before a failover may start.
    pub quorum: u32,
    /// `down-after-milliseconds`: a master silent this long is subjectively down.
    #[serde(default = "default_down_after")]
    pub down_after: Dur,
    /// How often each sentinel pings the master and replicas (Redis: every second).
    #[serde(default = "default_ping_interval")]
    pub ping_interval: Dur,
    /// `failover-timeout`: a failover that has not completed by then is abandoned.
    #[serde(default = "default_failover_timeout")]
    pub failover_timeout: Dur,
    #[serde(default)]
    pub phase: Phase,
}

/// Sentinel settings, resolved.
#[derive(Clone, Debug)]
pub struct SentinelInfo {
    pub nodes: Vec<u32>,
    pub quorum: u32,
    pub down_after: SimDuration,
    pub ping_interval: SimDuration,
    pub failover_timeout: SimDuration,
    pub phase: Phase,
}

/// Resolves the sentinel nodes and checks the quorum and timings.
pub(super) fn resolve(
    src: &Source,
    sd: &SentinelDef,
    table: &NodeTable,
) -> Result<SentinelInfo, InputError> {
    let mut nodes = Vec::new();
    for n in &sd.nodes {
        nodes.push(table.node(src, "sentinel", n)?);
    }
    let count = nodes.len() as u32;
    if count == 0 || sd.quorum == 0 || sd.quorum > count {
        return Err(src.invalid_field(
            "quorum",
            0,
            format!("the sentinel quorum must be between 1 and the number of sentinels ({count})"),
        ));
    }
    Ok(SentinelInfo {
        nodes,
        quorum: sd.quorum,
        down_after: positive(src, "down_after", sd.down_after, "down_after")?,
        ping_interval: interval(
            src,
            &["ping_interval"],
            sd.ping_interval,
            "the sentinel ping interval",
        )?,
        // Twice this is the least time between two failover attempts: a period too.
        failover_timeout: interval(
            src,
            &["failover_timeout"],
            sd.failover_timeout,
            "the sentinel failover timeout",
        )?,
        phase: sd.phase,
    })
}

//! The `monitors` section: nodes that watch others by their heartbeats (leases) and may run
//! a datastore's failover, and the resolution of `watch` into who heartbeats to whom.
//!
//! It does not own failover policy (`datastore`) nor the check that a controller hears its
//! datastore's members (`datastore::check_controllers_hear_members`).

use super::durations::{interval, positive};
use super::nodes::{NodeTable, Role};
use super::places::{PlaceRef, PlaceResolver};
use crate::logic::periodic::Phase;
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use crate::sim::time::SimDuration;
use serde::Deserialize;

/// A monitor: watches nodes by their heartbeats (leases), and may control a datastore's
/// failover. `ttl` and `loop_wait` mean what they mean in Patroni.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Monitor")]
pub struct MonitorDef {
    pub node: String,
    /// Places whose nodes heartbeat to this monitor (monitors, clients and DNS never do).
    pub watch: Vec<PlaceRef>,
    /// A node whose last heartbeat is older than this at a check is dead (Patroni `ttl`).
    pub ttl: Dur,
    /// Heartbeat interval and check interval (Patroni `loop_wait`).
    pub loop_wait: Dur,
    #[serde(default)]
    pub check_phase: Phase,
    #[serde(default)]
    pub heartbeat_phase: Phase,
}

#[derive(Clone, Debug)]
pub struct MonitorInfo {
    pub node: u32,
    pub watched: Vec<u32>,
    pub ttl: SimDuration,
    pub loop_wait: SimDuration,
    pub check_phase: Phase,
    pub heartbeat_phase: Phase,
}

/// Resolves the monitors' nodes and timings; `watched` is filled in by [`heartbeats`].
pub(super) fn resolve(
    src: &Source,
    defs: &[MonitorDef],
    nodes: &mut NodeTable,
) -> Result<Vec<MonitorInfo>, InputError> {
    let mut monitors = Vec::new();
    for (mi, m) in defs.iter().enumerate() {
        let node = nodes.node(src, "monitors", &m.node)?;
        nodes.assign(src, node, Role::Monitor(mi), "monitors")?;
        let ttl = positive(src, "ttl", m.ttl, "ttl")?;
        let loop_wait = interval(
            src,
            &["loop_wait"],
            m.loop_wait,
            "the heartbeat and check interval",
        )?;
        monitors.push(MonitorInfo {
            node,
            watched: Vec::new(),
            ttl,
            loop_wait,
            check_phase: m.check_phase,
            heartbeat_phase: m.heartbeat_phase,
        });
    }
    Ok(monitors)
}

/// Who is watched by whom: for each node, the monitor it heartbeats to and its position
/// among all heartbeating nodes (for staggered phases). Fills in each monitor's `watched`.
pub(super) fn heartbeats(
    src: &Source,
    defs: &[MonitorDef],
    places: &PlaceResolver<'_>,
    nodes: &NodeTable,
    monitors: &mut [MonitorInfo],
) -> Result<Vec<Option<(usize, u64)>>, InputError> {
    let mut heartbeat: Vec<Option<(usize, u64)>> = vec![None; nodes.names.len()];
    for (mi, m) in defs.iter().enumerate() {
        for w in &m.watch {
            let place = places
                .resolve(w)
                .ok_or_else(|| src.invalid("watch", w.name(), "no such place"))?;
            for n in 0..nodes.names.len() as u32 {
                let can_heartbeat = !matches!(
                    nodes.roles[n as usize],
                    Role::Monitor(_) | Role::Clients(_) | Role::Dns
                );
                if !can_heartbeat || !places.contains(place, n, &nodes.zone) {
                    continue;
                }
                match heartbeat[n as usize] {
                    Some((other, _)) if other != mi => {
                        return Err(src.invalid(
                            "watch",
                            &nodes.names[n as usize],
                            "this node is watched by two monitors",
                        ));
                    }
                    _ => heartbeat[n as usize] = Some((mi, 0)),
                }
            }
        }
    }
    let mut k = 0u64;
    for (n, hb) in heartbeat.iter_mut().enumerate() {
        if let Some((mi, index)) = hb {
            *index = k;
            k += 1;
            monitors[*mi].watched.push(n as u32);
        }
    }
    Ok(heartbeat)
}

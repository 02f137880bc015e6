//! The `datastores` section: members and primary, replication (synchronous quorum or
//! asynchronous shipping), Patroni-style failover by a monitor with its fencing, and the
//! check that each controller hears the members it must.
//!
//! It does not own Sentinel settings (`sentinel`) nor backup policies (`backup`), which it
//! calls for each datastore, nor what replication does at run time (`logic::replication`).

use super::backup::{self, BackupDef, BackupInfo, BackupStoreInfo};
use super::durations::positive;
use super::monitor::{MonitorDef, MonitorInfo};
use super::nodes::{NodeTable, Role};
use super::sentinel::{self, SentinelDef, SentinelInfo};
use crate::logic::quorum::StandbyRule;
use crate::logic::replication::ReplicationMode;
use crate::model::error::{InputError, Source};
use crate::model::{Dur, limits};
use crate::sim::time::SimDuration;
use serde::Deserialize;

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum ReplicationDef {
    /// Commit per `synchronous_standby_names`: `Synchronous(Any(1))`, `Synchronous(First(2))`.
    Synchronous(StandbyRule),
    /// Commit locally; ship accumulated entries every `ship_interval` (`"0s"`: each at once).
    Asynchronous { ship_interval: Dur },
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fencing {
    /// The primary stops itself when its lease is not renewed (`loop_wait + retry_timeout`).
    Lease,
    /// Replicas refuse entries from an older epoch.
    Epoch,
    /// The controller sends the old primary a demote message (STONITH by message).
    Demote,
}

fn default_retry_timeout() -> Dur {
    Dur(SimDuration::from_secs(10))
}
fn default_wal_sender_timeout() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_max_lag() -> u64 {
    1_048_576
}
fn default_true() -> bool {
    true
}
fn default_fencing() -> Vec<Fencing> {
    vec![Fencing::Lease, Fencing::Epoch]
}

/// Patroni-style failover settings for one datastore.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailoverDef {
    /// The monitor node that runs this datastore's failover.
    pub controller: String,
    #[serde(default = "default_retry_timeout")]
    pub retry_timeout: Dur,
    /// In log entries (one write each); Patroni's default of 1 MiB is kept as the number.
    #[serde(default = "default_max_lag")]
    pub maximum_lag_on_failover: u64,
    #[serde(default = "default_true")]
    pub synchronous_mode: bool,
    /// Block commits rather than commit locally when too few synchronous standbys are
    /// connected.
    #[serde(default)]
    pub synchronous_mode_strict: bool,
    /// PostgreSQL's `wal_sender_timeout`: a standby silent this long stops counting.
    #[serde(default = "default_wal_sender_timeout")]
    pub wal_sender_timeout: Dur,
    #[serde(default = "default_fencing")]
    pub fencing: Vec<Fencing>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Datastore")]
pub struct DatastoreDef {
    pub name: String,
    pub members: Vec<String>,
    pub primary: String,
    pub replication: ReplicationDef,
    /// Patroni-style failover by a monitor (leases in a DCS).
    #[serde(default)]
    pub failover: Option<FailoverDef>,
    /// Redis Sentinel-style failover by a quorum of sentinels. Exactly one of the two.
    #[serde(default)]
    pub sentinel: Option<SentinelDef>,
    /// Snapshots, archives, WAL archiving and the restore runbook.
    #[serde(default)]
    pub backup: Option<BackupDef>,
}

#[derive(Clone, Debug)]
pub struct DatastoreInfo {
    pub name: String,
    pub members: Vec<u32>,
    pub primary: usize,
    pub mode: ReplicationMode,
    /// The monitor running Patroni-style failover, when failover is not by sentinels.
    pub controller: Option<usize>,
    pub sentinel: Option<SentinelInfo>,
    pub retry_timeout: SimDuration,
    pub maximum_lag_on_failover: u64,
    pub synchronous_mode: bool,
    pub synchronous_mode_strict: bool,
    pub wal_sender_timeout: SimDuration,
    pub fencing: Vec<Fencing>,
    pub backup: Option<BackupInfo>,
}

/// The sections resolved before the datastores that a datastore refers to.
pub(super) struct Resolved<'a> {
    pub monitor_defs: &'a [MonitorDef],
    pub monitors: &'a [MonitorInfo],
    pub stores: &'a [BackupStoreInfo],
}

/// Replication knobs for datastores whose failover is not Patroni-style.
fn sentinel_replication() -> FailoverDef {
    FailoverDef {
        controller: String::new(),
        retry_timeout: default_retry_timeout(),
        maximum_lag_on_failover: default_max_lag(),
        synchronous_mode: false,
        synchronous_mode_strict: false,
        wal_sender_timeout: default_wal_sender_timeout(),
        fencing: vec![Fencing::Epoch],
    }
}

/// Resolves every datastore, in the order written.
pub(super) fn resolve(
    src: &Source,
    defs: &[DatastoreDef],
    resolved: &Resolved<'_>,
    nodes: &mut NodeTable,
) -> Result<Vec<DatastoreInfo>, InputError> {
    let default_failover = sentinel_replication();
    let mut datastores = Vec::new();
    for (di, d) in defs.iter().enumerate() {
        datastores.push(resolve_one(src, di, d, resolved, &default_failover, nodes)?);
    }
    Ok(datastores)
}

/// Resolves datastore `di`: members, replication, failover, fencing and backups.
fn resolve_one(
    src: &Source,
    di: usize,
    d: &DatastoreDef,
    resolved: &Resolved<'_>,
    default_failover: &FailoverDef,
    nodes: &mut NodeTable,
) -> Result<DatastoreInfo, InputError> {
    let members = members(src, di, d, nodes)?;
    let primary = d
        .members
        .iter()
        .position(|m| m == &d.primary)
        .ok_or_else(|| {
            src.invalid(
                "primary",
                &d.primary,
                format!("the primary must be one of the members of `{}`", d.name),
            )
        })?;
    let mode = replication_mode(src, d, &members, nodes)?;
    let (failover, sentinel) = failover_of(src, d, &mode, default_failover, nodes)?;
    let controller = match sentinel {
        Some(_) => None,
        None => Some(controller(src, failover, resolved.monitor_defs)?),
    };
    if let Some(c) = controller {
        check_lease(src, d, failover, &resolved.monitors[c])?;
    }
    if let Some(si) = &sentinel {
        for &n in &si.nodes {
            nodes.assign(src, n, Role::Sentinel { datastore: di }, "sentinel")?;
        }
    }
    let owner = backup::Owner {
        name: &d.name,
        index: di,
        sentinel: sentinel.is_some(),
    };
    let backup = d
        .backup
        .as_ref()
        .map(|b| backup::resolve_policy(src, b, &owner, resolved.stores, nodes))
        .transpose()?;
    Ok(DatastoreInfo {
        name: d.name.clone(),
        members,
        primary,
        mode,
        controller,
        retry_timeout: failover.retry_timeout.0,
        sentinel,
        maximum_lag_on_failover: failover.maximum_lag_on_failover,
        synchronous_mode: failover.synchronous_mode,
        synchronous_mode_strict: failover.synchronous_mode_strict,
        wal_sender_timeout: positive(
            src,
            "wal_sender_timeout",
            failover.wal_sender_timeout,
            "wal_sender_timeout",
        )?,
        // Sentinel-managed replicas follow only their master's newer epoch.
        fencing: if d.sentinel.is_some() {
            vec![Fencing::Epoch]
        } else {
            failover.fencing.clone()
        },
        backup,
    })
}

/// Who runs the failover: a controller (`failover`) or sentinels (then the replication
/// knobs are `default_failover`'s). Exactly one of the two.
fn failover_of<'d>(
    src: &Source,
    d: &'d DatastoreDef,
    mode: &ReplicationMode,
    default_failover: &'d FailoverDef,
    nodes: &NodeTable,
) -> Result<(&'d FailoverDef, Option<SentinelInfo>), InputError> {
    Ok(match (&d.failover, &d.sentinel) {
        (Some(fo), None) => (fo, None),
        (None, Some(_)) if matches!(mode, ReplicationMode::Synchronous(_)) => {
            return Err(src.invalid(
                "replication",
                &d.name,
                "a Sentinel-managed datastore replicates asynchronously, as Redis does: use `Asynchronous(ship_interval: …)`",
            ));
        }
        (None, Some(sd)) => (default_failover, Some(sentinel::resolve(src, sd, nodes)?)),
        _ => {
            return Err(src.invalid(
                "datastores",
                &d.name,
                "a datastore needs exactly one of `failover` (a controller) or `sentinel`",
            ));
        }
    })
}

/// The member nodes of datastore `di`, each given its member role.
fn members(
    src: &Source,
    di: usize,
    d: &DatastoreDef,
    nodes: &mut NodeTable,
) -> Result<Vec<u32>, InputError> {
    if d.members.is_empty() || d.members.len() > limits::MEMBERS_MAX {
        return Err(src.invalid(
            "datastores",
            &d.name,
            format!("a datastore needs 1 to {} members", limits::MEMBERS_MAX),
        ));
    }
    let mut members = Vec::new();
    for (k, m) in d.members.iter().enumerate() {
        let n = nodes.node(src, &format!("\"{}\"", d.name), m)?;
        let role = Role::DatabaseMember {
            datastore: di,
            member: k,
        };
        nodes.assign(src, n, role, "members")?;
        members.push(n);
    }
    Ok(members)
}

/// The replication mode; a synchronous rule must be satisfiable from every member that may
/// become primary.
fn replication_mode(
    src: &Source,
    d: &DatastoreDef,
    members: &[u32],
    nodes: &NodeTable,
) -> Result<ReplicationMode, InputError> {
    let rule = match d.replication {
        ReplicationDef::Asynchronous { ship_interval } => {
            return Ok(ReplicationMode::Asynchronous {
                ship_interval: ship_interval.0,
            });
        }
        ReplicationDef::Synchronous(rule) => rule,
    };
    for (k, &n) in members.iter().enumerate() {
        let z = nodes.zone[n as usize];
        let others = members
            .iter()
            .filter(|&&o| nodes.zone[o as usize] != z)
            .count();
        if others < rule.k() {
            return Err(src.invalid(
                "replication",
                &d.name,
                format!(
                    "a quorum of {} standbys in other zones cannot be met when `{}` is primary (only {others} members are in other zones)",
                    rule.k(),
                    d.members[k]
                ),
            ));
        }
    }
    Ok(ReplicationMode::Synchronous(rule))
}

/// The monitor named as a datastore's failover controller.
fn controller(
    src: &Source,
    failover: &FailoverDef,
    monitor_defs: &[MonitorDef],
) -> Result<usize, InputError> {
    monitor_defs
        .iter()
        .position(|m| m.node == failover.controller)
        .ok_or_else(|| {
            src.invalid(
                "controller",
                &failover.controller,
                "the controller must be one of the monitors",
            )
        })
}

/// With lease fencing, the old primary must stop before its controller can promote another.
fn check_lease(
    src: &Source,
    d: &DatastoreDef,
    failover: &FailoverDef,
    mon: &MonitorInfo,
) -> Result<(), InputError> {
    let retry_timeout = failover.retry_timeout.0;
    if failover.fencing.contains(&Fencing::Lease) && mon.loop_wait + retry_timeout > mon.ttl {
        return Err(src.invalid(
            "retry_timeout",
            &d.name,
            format!(
                "lease fencing needs loop_wait + retry_timeout ≤ ttl ({} + {} > {}): the old primary would still accept writes when a new one is promoted",
                mon.loop_wait, retry_timeout, mon.ttl
            ),
        ));
    }
    Ok(())
}

/// The datastore named `name`, for the sections that refer to one.
pub(super) fn index_of(
    src: &Source,
    datastores: &[DatastoreInfo],
    near: &str,
    name: &str,
) -> Result<usize, InputError> {
    datastores
        .iter()
        .position(|d| d.name == name)
        .ok_or_else(|| src.invalid(near, name, "no such datastore"))
}

/// A controller must hear the primary's heartbeats to detect its loss; with lease fencing
/// every member must renew there, or a promoted member would fence itself.
pub(super) fn check_controllers_hear_members(
    src: &Source,
    datastores: &[DatastoreInfo],
    defs: &[DatastoreDef],
    heartbeat: &[Option<(usize, u64)>],
) -> Result<(), InputError> {
    for (d, def) in datastores.iter().zip(defs) {
        let lease = d.fencing.contains(&Fencing::Lease);
        for (k, &m) in d.members.iter().enumerate() {
            let Some(controller) = d.controller else {
                continue;
            };
            let watched = heartbeat[m as usize].map(|(mi, _)| mi) == Some(controller);
            if !watched && (k == d.primary || lease) {
                return Err(src.invalid(
                    "watch",
                    &def.members[k],
                    format!(
                        "the controller `{}` of `{}` must watch this member (add it to the monitor's `watch`)",
                        def.failover.as_ref().map(|f| f.controller.as_str()).unwrap_or(""), d.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

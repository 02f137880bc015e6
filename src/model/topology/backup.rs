//! The `backup_stores` section (immutable object stores with retention) and a datastore's
//! `backup` policy: snapshot and archive schedules, WAL archiving and the restore runbook
//! (`recovery`).
//!
//! It does not own the datastore itself (`datastore`, which calls [`resolve_policy`]) nor
//! what backups and restores do at run time (`logic::backup`, `ops::restore`).

use super::durations::{interval, positive};
use super::nodes::{NodeTable, Role};
use crate::logic::backup::{Cron, StoreSpec};
use crate::model::error::{InputError, Source};
use crate::model::{Dur, Size};
use crate::sim::time::SimDuration;
use serde::Deserialize;

/// An object store holding backups: an S3 bucket with Object Lock, a cold-storage archive.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "BackupStore")]
pub struct BackupStoreDef {
    pub name: String,
    /// The node standing for the store (placed where the bucket is).
    pub node: String,
    /// Object Lock retention: deletes and overwrites are refused for this long.
    pub retention: Dur,
    /// Transfer rate each way (`"250MiB/s"`).
    pub throughput: Size,
    /// Wait before a download's first byte (cold-storage retrieval).
    #[serde(default)]
    pub first_byte: Dur,
}

#[derive(Clone, Debug)]
pub struct BackupStoreInfo {
    pub name: String,
    pub node: u32,
    pub spec: StoreSpec,
}

/// A schedule: the store and when (`every`, first `at` from the start of the run).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupScheduleDef {
    pub store: String,
    pub every: Dur,
    #[serde(default)]
    pub at: Dur,
}

/// Continuous WAL archiving (`archive_command`, `archive_timeout`): enables point-in-time
/// recovery.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalArchiveDef {
    pub store: String,
    pub archive_timeout: Dur,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronDef {
    pub every: Dur,
    #[serde(default)]
    pub at: Dur,
}

fn default_scrape() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_answer_timeout() -> Dur {
    Dur(SimDuration::from_secs(30))
}
fn default_chunk() -> Size {
    Size(1 << 30)
}

/// How the team notices a logical corruption and restores: the steps of the runbook.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryDef {
    /// Where the runbook is driven from (the operators' tooling).
    pub node: String,
    /// Scheduled integrity checks.
    pub integrity_check: CronDef,
    /// How often error metrics are scraped.
    #[serde(default = "default_scrape")]
    pub metrics_scrape: Dur,
    /// From the first user-visible error to the team acting on user reports. Leave it out
    /// when a runbook starts the restore (users' reports then page through
    /// `paging.user_reports`); without either, only the scheduled check notices.
    #[serde(default)]
    pub user_report_after: Option<Dur>,
    /// Getting an instance to restore onto.
    pub provision: Dur,
    /// Redeploying configuration and code from version control.
    pub redeploy: Dur,
    /// Checking the restored data before switching.
    pub verify: Dur,
    /// Download chunk size.
    #[serde(default = "default_chunk")]
    pub chunk: Size,
    /// How long to wait for answers before going on (listings, installs).
    #[serde(default = "default_answer_timeout")]
    pub answer_timeout: Dur,
    /// A download chunk that takes longer: the store is abandoned for the next.
    pub chunk_timeout: Dur,
}

/// A datastore's backups.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupDef {
    /// Size of the data at the start of the run.
    pub data_size: Size,
    /// Bytes each write adds.
    pub write_size: Size,
    #[serde(default)]
    pub snapshots: Option<BackupScheduleDef>,
    #[serde(default)]
    pub archive: Option<BackupScheduleDef>,
    #[serde(default)]
    pub wal_archive: Option<WalArchiveDef>,
    #[serde(default)]
    pub recovery: Option<RecoveryDef>,
}

#[derive(Clone, Debug)]
pub struct RecoveryInfo {
    pub node: u32,
    pub integrity_check: Cron,
    pub metrics_scrape: SimDuration,
    pub user_report_after: Option<SimDuration>,
    pub provision: SimDuration,
    pub redeploy: SimDuration,
    pub verify: SimDuration,
    pub chunk: u64,
    pub answer_timeout: SimDuration,
    pub chunk_timeout: SimDuration,
}

/// A datastore's backups, resolved (stores by index into `backup_stores`).
#[derive(Clone, Debug)]
pub struct BackupInfo {
    pub data_size: u64,
    pub write_size: u64,
    pub snapshots: Option<(usize, Cron)>,
    pub archive: Option<(usize, Cron)>,
    pub wal_archive: Option<(usize, SimDuration)>,
    pub recovery: Option<RecoveryInfo>,
}

/// Resolves the backup stores: names unique, nodes, retention and throughput.
pub(super) fn resolve_stores(
    src: &Source,
    defs: &[BackupStoreDef],
    nodes: &mut NodeTable,
) -> Result<Vec<BackupStoreInfo>, InputError> {
    let mut backup_stores: Vec<BackupStoreInfo> = Vec::new();
    for (k, b) in defs.iter().enumerate() {
        if backup_stores.iter().any(|x| x.name == b.name) {
            return Err(src.invalid("backup_stores", &b.name, "this store is defined twice"));
        }
        let node = nodes.node(src, "backup_stores", &b.node)?;
        nodes.assign(src, node, Role::BackupStore(k), "backup_stores")?;
        if b.throughput.0 == 0 {
            return Err(src.invalid(
                "throughput",
                &b.name,
                "a store's throughput must be greater than zero",
            ));
        }
        backup_stores.push(BackupStoreInfo {
            name: b.name.clone(),
            node,
            spec: StoreSpec {
                retention: positive(src, "retention", b.retention, "retention")?,
                throughput: b.throughput.0,
                first_byte: b.first_byte.0,
            },
        });
    }
    Ok(backup_stores)
}

/// The store named `name` in `backup_stores`.
fn store_of(
    src: &Source,
    stores: &[BackupStoreInfo],
    near: &str,
    name: &str,
) -> Result<usize, InputError> {
    stores
        .iter()
        .position(|b| b.name == name)
        .ok_or_else(|| src.invalid(near, name, "no such store in `backup_stores`"))
}

/// What resolving one datastore's backup policy needs to know about the datastore.
pub(super) struct Owner<'a> {
    pub name: &'a str,
    pub index: usize,
    /// Whether Sentinel runs its failover (no restore is modelled then).
    pub sentinel: bool,
}

/// Resolves datastore `owner`'s backup policy: schedules, WAL archiving and the runbook.
pub(super) fn resolve_policy(
    src: &Source,
    b: &BackupDef,
    owner: &Owner<'_>,
    stores: &[BackupStoreInfo],
    nodes: &mut NodeTable,
) -> Result<BackupInfo, InputError> {
    let schedule = |near: &str, s: &BackupScheduleDef| -> Result<(usize, Cron), InputError> {
        Ok((
            store_of(src, stores, near, &s.store)?,
            Cron {
                every: interval(src, &["every"], s.every, "a backup interval")?,
                phase: s.at.0,
            },
        ))
    };
    let snapshots = b
        .snapshots
        .as_ref()
        .map(|s| schedule("snapshots", s))
        .transpose()?;
    let archive = b
        .archive
        .as_ref()
        .map(|s| schedule("archive", s))
        .transpose()?;
    let wal_archive = b
        .wal_archive
        .as_ref()
        .map(|w| -> Result<_, InputError> {
            Ok((
                store_of(src, stores, "wal_archive", &w.store)?,
                interval(
                    src,
                    &["archive_timeout"],
                    w.archive_timeout,
                    "the WAL archiving interval",
                )?,
            ))
        })
        .transpose()?;
    if snapshots.is_none() && archive.is_none() {
        return Err(src.invalid(
            "backup",
            owner.name,
            "a backup policy needs `snapshots` or `archive` (WAL alone cannot be restored)",
        ));
    }
    let recovery = match &b.recovery {
        None => None,
        Some(r) => Some(resolve_recovery(src, r, owner, nodes)?),
    };
    Ok(BackupInfo {
        data_size: b.data_size.0,
        write_size: b.write_size.0,
        snapshots,
        archive,
        wal_archive,
        recovery,
    })
}

/// Resolves the restore runbook of datastore `owner`.
fn resolve_recovery(
    src: &Source,
    r: &RecoveryDef,
    owner: &Owner<'_>,
    nodes: &mut NodeTable,
) -> Result<RecoveryInfo, InputError> {
    if owner.sentinel {
        return Err(src.invalid(
            "recovery",
            owner.name,
            "restore is modelled for controller-managed datastores; Sentinel would fight the restored primary",
        ));
    }
    let node = nodes.node(src, "recovery", &r.node)?;
    let role = Role::Recovery {
        datastore: owner.index,
    };
    nodes.assign(src, node, role, "recovery")?;
    if r.chunk.0 == 0 {
        return Err(src.invalid(
            "chunk",
            owner.name,
            "the chunk size must be greater than zero",
        ));
    }
    Ok(RecoveryInfo {
        node,
        integrity_check: Cron {
            every: interval(
                src,
                &["every"],
                r.integrity_check.every,
                "the integrity check interval",
            )?,
            phase: r.integrity_check.at.0,
        },
        metrics_scrape: interval(
            src,
            &["metrics_scrape"],
            r.metrics_scrape,
            "the metrics scrape interval",
        )?,
        user_report_after: r.user_report_after.map(|d| d.0),
        provision: r.provision.0,
        redeploy: r.redeploy.0,
        verify: r.verify.0,
        chunk: r.chunk.0,
        // Installs are sent again every `answer_timeout` while no member answers: a
        // period, not only a wait.
        answer_timeout: interval(
            src,
            &["answer_timeout"],
            r.answer_timeout,
            "the runbook's wait for answers",
        )?,
        chunk_timeout: positive(src, "chunk_timeout", r.chunk_timeout, "chunk_timeout")?,
    })
}

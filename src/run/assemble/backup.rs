//! Backups: the backup store on each store node and the recovery runbook that restores a
//! datastore from its stores.
//!
//! Not here: the backup agent beside each database member and the plan it follows
//! ([`super::datastore`]), and the deletion of backups a scenario injects
//! ([`super::faults`]).

use crate::logic::backup::BackupStore;
use crate::logic::{Context, Msg, NodeId, Timer};
use crate::model::topology::Topology;
use crate::ops::restore::{RecoveryRunbook, RecoverySpec};
use crate::run::world::NodeProcess;
use crate::run::world::Process;
use std::sync::Arc;

/// Backup store `k`.
pub(super) fn place_backup_store(topo: &Topology, k: usize) -> Process {
    Process::BackupStore(BackupStore::new(topo.backup_stores[k].spec))
}

/// The runbook restoring `datastore`.
pub(super) fn place_recovery(topo: &Topology, datastore: usize) -> Process {
    Process::Recovery(RecoveryRunbook::new(recovery_spec(topo, datastore)))
}

/// What the runbook of datastore `di` restores, from where, and how long each step takes.
fn recovery_spec(topo: &Topology, di: usize) -> Arc<RecoverySpec> {
    let d = &topo.datastores[di];
    let b = d
        .backup
        .as_ref()
        .expect("validated: a recovery node implies a backup policy");
    let r = b.recovery.as_ref().expect("validated");
    Arc::new(RecoverySpec {
        datastore: di as u8,
        members: d.members.clone(),
        controller: d.controller.map(|c| topo.monitors[c].node),
        sources: restore_sources(topo, di),
        pitr: b.wal_archive.is_some(),
        data_size: b.data_size,
        write_size: b.write_size,
        chunk: r.chunk,
        integrity_check: r.integrity_check,
        scrape_every: r.metrics_scrape,
        user_report_after: r.user_report_after,
        provision: r.provision,
        redeploy: r.redeploy,
        verify: r.verify,
        answer_timeout: r.answer_timeout,
        chunk_timeout: r.chunk_timeout,
    })
}

/// Restore sources of datastore `di` in preference order, each store once: the snapshot
/// store (fast, recent), then the archive (another provider, slower), then the WAL store if
/// it is a third.
fn restore_sources(topo: &Topology, di: usize) -> Vec<u32> {
    let b = topo.datastores[di].backup.as_ref().expect("validated");
    let mut sources: Vec<u32> = Vec::new();
    for k in [
        b.snapshots.map(|s| s.0),
        b.archive.map(|s| s.0),
        b.wal_archive.map(|s| s.0),
    ]
    .into_iter()
    .flatten()
    {
        let node = topo.backup_stores[k].node;
        if !sources.contains(&node) {
            sources.push(node);
        }
    }
    sources
}

/// An object store is durable: nothing to start, nothing lost in a crash but transfers in progress.
impl NodeProcess for BackupStore {
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        BackupStore::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        BackupStore::on_timer(self, timer, ctx)
    }
}

/// The restore runbook starts over from detection after a crash, as a new shift would.
impl NodeProcess for RecoveryRunbook {
    fn start(&mut self, _phase: u64, _restart: bool, ctx: &mut impl Context) {
        RecoveryRunbook::start(self, ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        RecoveryRunbook::on_message(self, from, msg, ctx)
    }
    fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        RecoveryRunbook::on_timer(self, timer, ctx)
    }
}

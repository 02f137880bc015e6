//! Backups: scheduled snapshots and full archives taken on the primary, continuous WAL
//! archiving, and the object stores that keep them.
//!
//! A [`BackupAgent`] runs beside every database member (as pgBackRest or WAL-G would) and acts
//! only while its member is primary: at each scheduled time it sends a consistent copy of the
//! committed log to a [`BackupStore`] in another region or provider, and every
//! `archive_timeout` it ships the newly committed WAL. A store transfers at a fixed
//! throughput with a first-byte latency (cold storage answers slowly), one transfer after the
//! other in each direction, so a restore takes as long as its size says. Stores are immutable
//! in the S3 Object Lock sense: inside the retention period a delete or an overwrite is
//! refused and recorded, which is what saves the backups when an attacker or a mistaken
//! script goes after them. Past retention, the store's lifecycle rule removes them.

pub use super::BackupKind;
use super::log::Log;
use super::{Context, Epoch, Lsn, Msg, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

/// Backup ids carry their datastore in the top byte, so stores can hold several datastores'.
pub fn backup_id(datastore: u8, member: usize, seq: u32) -> u32 {
    (datastore as u32) << 24 | ((member as u32 & 0xff) << 16) | (seq & 0xffff)
}
/// The id standing for a datastore's WAL archive.
pub fn wal_id(datastore: u8) -> u32 {
    (datastore as u32) << 24 | 0x00ff_ffff
}
pub fn datastore_of(id: u32) -> u8 {
    (id >> 24) as u8
}
pub fn is_wal(id: u32) -> bool {
    id & 0x00ff_ffff == 0x00ff_ffff
}

/// Time to move `bytes` at `per_sec` bytes per second (at least one nanosecond).
pub fn transfer_time(bytes: u64, per_sec: u64) -> SimDuration {
    let ns = (bytes as u128 * 1_000_000_000u128).div_ceil(per_sec.max(1) as u128);
    SimDuration(ns.clamp(1, u64::MAX as u128) as u64)
}

/// A schedule like a cron entry: at `phase`, then every `every`, on the clock (a restarted
/// process keeps the same times).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cron {
    pub every: SimDuration,
    pub phase: SimDuration,
}

impl Cron {
    /// The first scheduled time at or after `now`.
    pub fn next_at(&self, now: SimTime) -> SimTime {
        let phase = SimTime::ZERO + self.phase;
        if now <= phase || self.every.is_zero() {
            return phase.max(now);
        }
        let since = now.saturating_since(phase).0;
        let k = since.div_ceil(self.every.0);
        phase + SimDuration(k.saturating_mul(self.every.0))
    }
}

/// A datastore's backup policy.
#[derive(Clone, Debug)]
pub struct BackupPlan {
    pub datastore: u8,
    /// Snapshots: the store they go to and when.
    pub snapshot: Option<(NodeId, Cron)>,
    /// Full archives: the store they go to and when.
    pub archive: Option<(NodeId, Cron)>,
    /// Continuous WAL archiving: the store and `archive_timeout`.
    pub wal: Option<(NodeId, SimDuration)>,
    /// Size of the data before the run's first write.
    pub data_size: u64,
    /// Bytes each write adds.
    pub write_size: u64,
    /// How long the agent waits for a store's answer before recording the backup as failed.
    pub upload_timeout: SimDuration,
}

impl BackupPlan {
    /// Size of a full copy of the data up to `lsn`.
    pub fn full_bytes(&self, lsn: Lsn) -> u64 {
        self.data_size
            .saturating_add(lsn.saturating_mul(self.write_size))
    }
}

/// The backup side of one database member. Driven with its member's log and commit point.
pub struct BackupAgent {
    plan: Arc<BackupPlan>,
    member: usize,
    seq: u32,
    /// Commit point of this agent's last snapshot (uploads after it are incremental).
    last_snapshot: Option<Lsn>,
    /// How far this agent has archived the WAL.
    wal_archived: Lsn,
    /// Backups sent and not yet answered, with their kind.
    outstanding: Vec<(u32, BackupKind, SimTime)>,
    /// When the store last confirmed one of this agent's backups complete: what its
    /// exporter's backup age is measured from. Kept across a restart, as pgBackRest keeps its
    /// backup list in the repository (`pgbackrest info` reads it there).
    completed_at: Option<SimTime>,
}

impl BackupAgent {
    pub fn new(plan: Arc<BackupPlan>, member: usize) -> Self {
        BackupAgent {
            plan,
            member,
            seq: 0,
            last_snapshot: None,
            wal_archived: 0,
            outstanding: Vec::new(),
            completed_at: None,
        }
    }

    /// The backup age this member's exporter reports at `now`: pgbackrest_exporter's
    /// `pgbackrest_backup_since_last_completion_seconds`, the time since the last backup (any
    /// kind) completed. `None` (no series) before the first one completes: the exporter
    /// derives it from the newest backup `pgbackrest info` lists, and a stanza with no valid
    /// backup lists none.
    pub fn since_last_completion(&self, now: SimTime) -> Option<SimDuration> {
        self.completed_at.map(|t| now.saturating_since(t))
    }

    /// Arms the schedules (also after a restart: timers of the old incarnation are gone).
    pub fn start(&mut self, ctx: &mut impl Context) {
        self.outstanding.clear();
        let now = ctx.now();
        for (kind, s) in [
            (BackupKind::Snapshot, self.plan.snapshot),
            (BackupKind::Archive, self.plan.archive),
        ] {
            if let Some((_, s)) = s {
                ctx.set_timer(
                    s.next_at(now).saturating_since(now),
                    Timer::BackupDue { kind },
                );
            }
        }
        if let Some((_, timeout)) = self.plan.wal {
            ctx.set_timer(timeout, Timer::WalArchiveDue);
        }
    }

    /// `committed` is the member's commit point when it is primary, `None` otherwise.
    pub fn on_timer(
        &mut self,
        timer: Timer,
        log: &Log,
        committed: Option<Lsn>,
        ctx: &mut impl Context,
    ) {
        match timer {
            Timer::BackupDue { kind } => self.on_backup_due(kind, log, committed, ctx),
            Timer::WalArchiveDue => self.on_wal_archive_due(log, committed, ctx),
            _ => {}
        }
    }

    /// A scheduled backup of `kind` is due: re-arm the schedule, and take it when primary.
    fn on_backup_due(
        &mut self,
        kind: BackupKind,
        log: &Log,
        committed: Option<Lsn>,
        ctx: &mut impl Context,
    ) {
        let now = ctx.now();
        let schedule = match kind {
            BackupKind::Snapshot => self.plan.snapshot,
            BackupKind::Archive => self.plan.archive,
        };
        let Some((store, s)) = schedule else { return };
        let next = s.next_at(now + SimDuration(1));
        ctx.set_timer(next.saturating_since(now), Timer::BackupDue { kind });
        self.expire(ctx);
        if let Some(lsn) = committed {
            self.take(kind, store, lsn, log, ctx);
        }
    }

    /// `archive_timeout` elapsed: a primary ships the WAL committed since its last archive.
    fn on_wal_archive_due(&mut self, log: &Log, committed: Option<Lsn>, ctx: &mut impl Context) {
        let Some((store, timeout)) = self.plan.wal else {
            return;
        };
        ctx.set_timer(timeout, Timer::WalArchiveDue);
        self.expire(ctx);
        if let Some(lsn) = committed
            && lsn > self.wal_archived
        {
            // A newly promoted primary archives its whole history once: the store
            // replaces whatever a deposed primary had archived beyond the fork.
            for (epoch, first, last) in log.runs(self.wal_archived, lsn) {
                ctx.send(
                    store,
                    Msg::WalArchive {
                        datastore: self.plan.datastore,
                        epoch,
                        first,
                        last,
                    },
                );
            }
            self.wal_archived = lsn;
        }
        if committed.is_none() {
            // Not primary: the next primary term starts archiving from scratch.
            self.wal_archived = 0;
        }
    }

    /// Takes backup of `kind` up to `lsn`: its content, then the put, awaited until timeout.
    fn take(
        &mut self,
        kind: BackupKind,
        store: NodeId,
        lsn: Lsn,
        log: &Log,
        ctx: &mut impl Context,
    ) {
        self.seq += 1;
        let id = backup_id(self.plan.datastore, self.member, self.seq);
        for (epoch, first, last) in log.runs(0, lsn) {
            ctx.send(
                store,
                Msg::BackupSegment {
                    id,
                    epoch,
                    first,
                    last,
                },
            );
        }
        let full = self.plan.full_bytes(lsn);
        let upload = match (kind, self.last_snapshot) {
            (BackupKind::Snapshot, Some(prev)) if prev <= lsn => {
                (lsn - prev).saturating_mul(self.plan.write_size)
            }
            _ => full,
        };
        if kind == BackupKind::Snapshot {
            self.last_snapshot = Some(lsn);
        }
        ctx.send(
            store,
            Msg::BackupPut {
                id,
                kind,
                lsn,
                upload,
                full,
            },
        );
        self.outstanding
            .push((id, kind, ctx.now() + self.plan.upload_timeout));
    }

    /// Backups whose store never answered are recorded as failed.
    fn expire(&mut self, ctx: &mut impl Context) {
        let now = ctx.now();
        self.outstanding.retain(|&(id, _, deadline)| {
            let late = deadline <= now;
            if late {
                ctx.note(Note::BackupFailed { id });
            }
            !late
        });
    }

    pub fn on_message(&mut self, msg: Msg, ctx: &mut impl Context) {
        if let Msg::BackupStored { id, ok } = msg
            && let Some(i) = self.outstanding.iter().position(|o| o.0 == id)
        {
            self.outstanding.remove(i);
            if ok {
                self.completed_at = Some(ctx.now());
            } else {
                ctx.note(Note::BackupFailed { id });
            }
        }
    }
}

/// An object store's behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreSpec {
    /// Object Lock retention: no delete or overwrite before this age.
    pub retention: SimDuration,
    /// Bytes per second, each direction.
    pub throughput: u64,
    /// Before the first byte of a download (cold storage retrieval).
    pub first_byte: SimDuration,
}

#[derive(Clone, Debug)]
struct StoredBackup {
    id: u32,
    kind: BackupKind,
    lsn: Lsn,
    taken_at: SimTime,
    full: u64,
    retain_until: SimTime,
    content: Log,
    complete: bool,
    owner: NodeId,
}

/// An immutable object store holding backups and WAL archives.
pub struct BackupStore {
    spec: StoreSpec,
    backups: Vec<StoredBackup>,
    /// Content received for backups whose put has not arrived yet.
    incoming: Vec<(u32, Log)>,
    /// WAL archives per datastore.
    wal: Vec<(u8, Log)>,
    upload_free: SimTime,
    download_free: SimTime,
}

impl BackupStore {
    pub fn new(spec: StoreSpec) -> Self {
        BackupStore {
            spec,
            backups: Vec::new(),
            incoming: Vec::new(),
            wal: Vec::new(),
            upload_free: SimTime::ZERO,
            download_free: SimTime::ZERO,
        }
    }

    /// Complete backups: `(id, kind, lsn, taken_at)`, oldest first.
    pub fn listing(&self) -> Vec<(u32, BackupKind, Lsn, SimTime)> {
        self.backups
            .iter()
            .filter(|b| b.complete)
            .map(|b| (b.id, b.kind, b.lsn, b.taken_at))
            .collect()
    }

    fn wal_log(&mut self, datastore: u8) -> &mut Log {
        let i = match self.wal.iter().position(|w| w.0 == datastore) {
            Some(i) => i,
            None => {
                self.wal.push((datastore, Log::default()));
                self.wal.len() - 1
            }
        };
        &mut self.wal[i].1
    }

    /// Every backup is asked to be deleted (ransomware, a mistaken cleanup script).
    pub fn delete_all(&mut self, ctx: &mut impl Context) {
        let ids: Vec<u32> = self.backups.iter().map(|b| b.id).collect();
        for id in ids {
            self.delete(id, ctx);
        }
    }

    fn delete(&mut self, id: u32, ctx: &mut impl Context) {
        let now = ctx.now();
        if let Some(i) = self.backups.iter().position(|b| b.id == id) {
            if now < self.backups[i].retain_until {
                ctx.note(Note::RetentionRefused { id, delete: true });
            } else {
                self.backups.remove(i);
            }
        }
    }

    /// The lifecycle rule: backups past retention go.
    fn prune(&mut self, now: SimTime) {
        self.backups.retain(|b| now < b.retain_until);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::UploadDone { id } => {
                if let Some(b) = self.backups.iter_mut().find(|b| b.id == id && !b.complete) {
                    b.complete = true;
                    let (kind, lsn, owner) = (b.kind, b.lsn, b.owner);
                    ctx.note(Note::BackupStored { id, kind, lsn });
                    ctx.send(owner, Msg::BackupStored { id, ok: true });
                }
            }
            Timer::ChunkReady { to, id, chunk } => ctx.send(to, Msg::BackupChunk { id, chunk }),
            _ => {}
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::BackupSegment {
                id,
                epoch,
                first,
                last,
            } => self.on_segment(id, epoch, first, last),
            Msg::BackupPut {
                id,
                kind,
                lsn,
                upload,
                full,
            } => self.on_put(from, id, kind, lsn, (upload, full), ctx),
            Msg::BackupDelete { id } => self.delete(id, ctx),
            Msg::WalArchive {
                datastore,
                epoch,
                first,
                last,
            } => self.on_wal_archive(datastore, epoch, first, last),
            Msg::BackupList { datastore } => self.on_list(from, datastore, ctx),
            Msg::BackupFetch { id, chunk, len } => self.on_fetch(from, id, chunk, len, ctx),
            Msg::BackupContent {
                id,
                from: after,
                upto,
            } => self.on_content(from, id, after, upto, ctx),
            _ => {}
        }
    }

    /// Keeps one segment of backup `id`'s content until its put arrives.
    fn on_segment(&mut self, id: u32, epoch: Epoch, first: Lsn, last: Lsn) {
        let i = match self.incoming.iter().position(|x| x.0 == id) {
            Some(i) => i,
            None => {
                self.incoming.push((id, Log::default()));
                self.incoming.len() - 1
            }
        };
        self.incoming[i].1.put_run(epoch, first, last);
    }

    /// Starts storing backup `id` (`upload` bytes to receive, `full` bytes to restore), or
    /// refuses it when a backup of that id is still inside retention.
    fn on_put(
        &mut self,
        from: NodeId,
        id: u32,
        kind: BackupKind,
        lsn: Lsn,
        (upload, full): (u64, u64),
        ctx: &mut impl Context,
    ) {
        let now = ctx.now();
        let content = self
            .incoming
            .iter()
            .position(|x| x.0 == id)
            .map(|i| self.incoming.swap_remove(i).1)
            .unwrap_or_default();
        self.prune(now);
        if self.backups.iter().any(|b| b.id == id) {
            // Still inside retention (expired ones were just pruned): immutable.
            ctx.note(Note::RetentionRefused { id, delete: false });
            ctx.send(from, Msg::BackupStored { id, ok: false });
            return;
        }
        let start = now.max(self.upload_free);
        let done = start + transfer_time(upload, self.spec.throughput);
        self.upload_free = done;
        self.backups.push(StoredBackup {
            id,
            kind,
            lsn,
            taken_at: now,
            full,
            retain_until: now + self.spec.retention,
            content,
            complete: false,
            owner: from,
        });
        ctx.set_timer(done.saturating_since(now), Timer::UploadDone { id });
    }

    /// Adds archived WAL `first..=last` of `epoch` to the datastore's archive.
    fn on_wal_archive(&mut self, datastore: u8, epoch: Epoch, first: Lsn, last: Lsn) {
        let log = self.wal_log(datastore);
        // WAL of an older timeline never overwrites a newer one's (PostgreSQL names
        // archived segments by timeline, so both would exist; only the newest matters).
        if log.epoch_at(first).is_none_or(|e| e <= epoch) {
            log.put_run(epoch, first, last);
        }
    }

    /// Lists the datastore's complete backups, then how far its WAL archive reaches.
    fn on_list(&mut self, from: NodeId, datastore: u8, ctx: &mut impl Context) {
        for b in self
            .backups
            .iter()
            .filter(|b| b.complete && datastore_of(b.id) == datastore)
        {
            ctx.send(
                from,
                Msg::BackupListing {
                    id: b.id,
                    kind: b.kind,
                    lsn: b.lsn,
                    taken_at: b.taken_at,
                    full: b.full,
                },
            );
        }
        let wal_lsn = self
            .wal
            .iter()
            .find(|w| w.0 == datastore)
            .map_or(0, |w| w.1.last());
        ctx.send(from, Msg::BackupListingEnd { datastore, wal_lsn });
    }

    /// Queues the download of one chunk behind the others (the first pays the first byte).
    fn on_fetch(&mut self, from: NodeId, id: u32, chunk: u32, len: u64, ctx: &mut impl Context) {
        let now = ctx.now();
        let exists = is_wal(id) || self.backups.iter().any(|b| b.id == id && b.complete);
        if !exists {
            ctx.send(from, Msg::BackupMissing { id });
            return;
        }
        let start = now.max(self.download_free);
        let mut took = transfer_time(len, self.spec.throughput);
        if chunk == 0 {
            took = took + self.spec.first_byte;
        }
        self.download_free = start + took;
        ctx.set_timer(
            self.download_free.saturating_since(now),
            Timer::ChunkReady {
                to: from,
                id,
                chunk,
            },
        );
    }

    /// Sends the content of `id` in `(after, upto]` as segments, then `BackupFetched`.
    fn on_content(&mut self, from: NodeId, id: u32, after: Lsn, upto: Lsn, ctx: &mut impl Context) {
        let runs = if is_wal(id) {
            let log = self.wal_log(datastore_of(id));
            (log.last() >= upto).then(|| log.runs(after, upto))
        } else {
            self.backups
                .iter()
                .find(|b| b.id == id && b.complete)
                .map(|b| b.content.runs(after, upto.min(b.lsn)))
        };
        let Some(runs) = runs else {
            ctx.send(from, Msg::BackupMissing { id });
            return;
        };
        for (epoch, first, last) in runs {
            ctx.send(
                from,
                Msg::BackupSegment {
                    id,
                    epoch,
                    first,
                    last,
                },
            );
        }
        ctx.send(from, Msg::BackupFetched { id });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const STORE: NodeId = 50;
    const AGENT: NodeId = 3;
    const RESTORER: NodeId = 60;
    const MIB: u64 = 1 << 20;

    fn secs(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    fn store() -> BackupStore {
        BackupStore::new(StoreSpec {
            retention: SimDuration::from_secs(30 * 86_400),
            throughput: 100 * MIB,
            first_byte: SimDuration::from_secs(2),
        })
    }

    fn plan() -> Arc<BackupPlan> {
        Arc::new(BackupPlan {
            datastore: 0,
            snapshot: Some((
                STORE,
                Cron {
                    every: SimDuration::from_secs(6 * 3600),
                    phase: SimDuration::from_secs(1800),
                },
            )),
            archive: None,
            wal: Some((STORE, SimDuration::from_secs(60))),
            data_size: 1000 * MIB,
            write_size: 1024,
            upload_timeout: SimDuration::from_secs(3600),
        })
    }

    fn log(entries: u64) -> Log {
        let mut l = Log::default();
        l.append_many(1, entries);
        l
    }

    /// Delivers everything `from` sent to `to` through `deliver`, in order.
    fn deliver(from: &mut Recorder, to: NodeId, deliver: &mut dyn FnMut(NodeId, Msg)) {
        let me = from.me;
        for (dest, msg) in from.take_sent() {
            if dest == to {
                deliver(me, msg);
            }
        }
    }

    #[test]
    fn schedules_fire_on_the_clock_even_after_a_restart() {
        let s = Cron {
            every: SimDuration::from_secs(3600),
            phase: SimDuration::from_secs(600),
        };
        assert_eq!(s.next_at(secs(0)), secs(600));
        assert_eq!(s.next_at(secs(600)), secs(600));
        assert_eq!(s.next_at(secs(601)), secs(4200));
        assert_eq!(s.next_at(secs(4200 + 3600 * 3 - 1)), secs(4200 + 3600 * 3));
    }

    #[test]
    fn transfer_time_follows_size_and_throughput() {
        assert_eq!(
            transfer_time(100 * MIB, 100 * MIB),
            SimDuration::from_secs(1)
        );
        assert_eq!(
            transfer_time(40 * 1024 * MIB, 200 * MIB),
            SimDuration::from_millis(204_800)
        );
    }

    #[test]
    fn only_the_primary_snapshots_and_uploads_are_incremental() {
        let mut agent = BackupAgent::new(plan(), 0);
        let mut ctx = Recorder::new(AGENT);
        agent.start(&mut ctx);
        assert!(ctx.timers.contains(&(
            secs(1800),
            Timer::BackupDue {
                kind: BackupKind::Snapshot
            }
        )));
        let due = Timer::BackupDue {
            kind: BackupKind::Snapshot,
        };
        ctx.at(secs(1800));
        agent.on_timer(due, &log(10), None, &mut ctx);
        assert!(ctx.sent.is_empty(), "a standby takes no snapshot");
        agent.on_timer(due, &log(10), Some(10), &mut ctx);
        let puts: Vec<Msg> = ctx
            .take_sent()
            .into_iter()
            .map(|(_, m)| m)
            .filter(|m| matches!(m, Msg::BackupPut { .. }))
            .collect();
        assert_eq!(
            puts,
            vec![Msg::BackupPut {
                id: backup_id(0, 0, 1),
                kind: BackupKind::Snapshot,
                lsn: 10,
                upload: 1000 * MIB + 10 * 1024,
                full: 1000 * MIB + 10 * 1024,
            }]
        );
        ctx.at(secs(1800 + 6 * 3600));
        agent.on_timer(due, &log(30), Some(30), &mut ctx);
        assert!(ctx.sent.iter().any(|(_, m)| matches!(
            m,
            Msg::BackupPut { lsn: 30, upload, .. } if *upload == 20 * 1024
        )));
    }

    #[test]
    fn the_backup_age_counts_from_the_last_confirmed_backup_and_survives_a_restart() {
        let mut agent = BackupAgent::new(plan(), 0);
        let mut ctx = Recorder::new(AGENT);
        agent.start(&mut ctx);
        let age = |a: &BackupAgent, at: u64| a.since_last_completion(secs(at));
        assert_eq!(age(&agent, 100), None, "no backup yet: no series");
        let due = Timer::BackupDue {
            kind: BackupKind::Snapshot,
        };
        ctx.at(secs(1800));
        agent.on_timer(due, &log(10), Some(10), &mut ctx);
        let first = backup_id(0, 0, 1);
        ctx.at(secs(1810));
        agent.on_message(
            Msg::BackupStored {
                id: first,
                ok: false,
            },
            &mut ctx,
        );
        assert_eq!(
            age(&agent, 1900),
            None,
            "a refused backup is not a completion"
        );
        ctx.at(secs(1800 + 6 * 3600));
        agent.on_timer(due, &log(20), Some(20), &mut ctx);
        ctx.at(secs(1830 + 6 * 3600));
        let second = backup_id(0, 0, 2);
        agent.on_message(
            Msg::BackupStored {
                id: second,
                ok: true,
            },
            &mut ctx,
        );
        agent.start(&mut ctx);
        let later = 1830 + 6 * 3600 + 100;
        assert_eq!(age(&agent, later), Some(SimDuration::from_secs(100)));
    }

    /// The agent's snapshot up to LSN 8 (taken at 30 min), delivered to a store: uploading.
    fn snapshot_delivered_to_store() -> (BackupStore, Recorder) {
        let mut agent = BackupAgent::new(plan(), 0);
        let mut actx = Recorder::new(AGENT);
        let mut st = store();
        let mut sctx = Recorder::new(STORE);
        actx.at(secs(1800));
        agent.on_timer(
            Timer::BackupDue {
                kind: BackupKind::Snapshot,
            },
            &log(10),
            Some(8),
            &mut actx,
        );
        sctx.at(secs(1800));
        deliver(&mut actx, STORE, &mut |f, m| st.on_message(f, m, &mut sctx));
        (st, sctx)
    }

    /// Fires the store's first timer (the end of the upload); returns when it fired.
    fn finish_upload(st: &mut BackupStore, sctx: &mut Recorder) -> SimTime {
        let (at, t) = sctx.timers[0];
        sctx.at(at);
        st.on_timer(t, sctx);
        at
    }

    #[test]
    fn a_backup_is_listed_once_uploaded() {
        let (mut st, mut sctx) = snapshot_delivered_to_store();
        assert!(st.listing().is_empty(), "not uploaded yet");
        let at = finish_upload(&mut st, &mut sctx);
        // 1000 MiB at 100 MiB/s.
        assert!(at > secs(1810) && at < secs(1811));
        assert_eq!(st.listing().len(), 1);
        assert!(sctx.sent.contains(&(
            AGENT,
            Msg::BackupStored {
                id: backup_id(0, 0, 1),
                ok: true
            }
        )));
    }

    #[test]
    fn an_uploaded_backup_restores_its_content() {
        let (mut st, mut sctx) = snapshot_delivered_to_store();
        let at = finish_upload(&mut st, &mut sctx);
        // Download: the first chunk waits for the first byte, then the content follows.
        let id = backup_id(0, 0, 1);
        sctx.take_sent();
        sctx.timers.clear();
        st.on_message(
            RESTORER,
            Msg::BackupFetch {
                id,
                chunk: 0,
                len: 100 * MIB,
            },
            &mut sctx,
        );
        assert_eq!(sctx.timers[0].0, at + SimDuration::from_secs(3));
        st.on_message(
            RESTORER,
            Msg::BackupContent {
                id,
                from: 0,
                upto: 100,
            },
            &mut sctx,
        );
        assert_eq!(
            sctx.take_sent(),
            vec![
                (
                    RESTORER,
                    Msg::BackupSegment {
                        id,
                        epoch: 1,
                        first: 1,
                        last: 8
                    }
                ),
                (RESTORER, Msg::BackupFetched { id }),
            ]
        );
        st.on_message(
            RESTORER,
            Msg::BackupFetch {
                id: id + 1,
                chunk: 0,
                len: 1,
            },
            &mut sctx,
        );
        assert_eq!(
            sctx.take_sent(),
            vec![(RESTORER, Msg::BackupMissing { id: id + 1 })]
        );
    }

    #[test]
    fn immutable_storage_refuses_deletes_and_overwrites_inside_retention() {
        let mut st = store();
        let mut ctx = Recorder::new(STORE);
        let put = Msg::BackupPut {
            id: 7,
            kind: BackupKind::Snapshot,
            lsn: 5,
            upload: MIB,
            full: MIB,
        };
        st.on_message(AGENT, put, &mut ctx);
        let (at, t) = ctx.timers[0];
        ctx.at(at);
        st.on_timer(t, &mut ctx);
        ctx.at(secs(86_400));
        st.on_message(AGENT, Msg::BackupDelete { id: 7 }, &mut ctx);
        st.on_message(AGENT, put, &mut ctx);
        st.delete_all(&mut ctx);
        assert_eq!(st.listing().len(), 1, "still there");
        assert_eq!(
            ctx.notes
                .iter()
                .filter(|n| matches!(n, Note::RetentionRefused { id: 7, .. }))
                .count(),
            3
        );
        assert!(
            ctx.sent
                .contains(&(AGENT, Msg::BackupStored { id: 7, ok: false }))
        );
        // Past retention the delete goes through.
        ctx.at(secs(31 * 86_400));
        st.on_message(AGENT, Msg::BackupDelete { id: 7 }, &mut ctx);
        assert!(st.listing().is_empty());
    }

    #[test]
    fn the_wal_archive_follows_the_newest_history() {
        let mut agent = BackupAgent::new(plan(), 0);
        let mut actx = Recorder::new(AGENT);
        let mut st = store();
        let mut sctx = Recorder::new(STORE);
        actx.at(secs(60));
        agent.on_timer(Timer::WalArchiveDue, &log(10), Some(9), &mut actx);
        deliver(&mut actx, STORE, &mut |f, m| st.on_message(f, m, &mut sctx));
        // A new primary forked at 7 and archives its whole history.
        let mut forked = log(7);
        forked.append_many(2, 5);
        let mut other = BackupAgent::new(plan(), 1);
        let mut octx = Recorder::new(4);
        other.on_timer(Timer::WalArchiveDue, &forked, Some(12), &mut octx);
        deliver(&mut octx, STORE, &mut |f, m| st.on_message(f, m, &mut sctx));
        st.on_message(RESTORER, Msg::BackupList { datastore: 0 }, &mut sctx);
        assert!(sctx.sent.contains(&(
            RESTORER,
            Msg::BackupListingEnd {
                datastore: 0,
                wal_lsn: 12
            }
        )));
        sctx.take_sent();
        st.on_message(
            RESTORER,
            Msg::BackupContent {
                id: wal_id(0),
                from: 5,
                upto: 9,
            },
            &mut sctx,
        );
        assert_eq!(
            sctx.take_sent(),
            vec![
                (
                    RESTORER,
                    Msg::BackupSegment {
                        id: wal_id(0),
                        epoch: 1,
                        first: 6,
                        last: 7
                    }
                ),
                (
                    RESTORER,
                    Msg::BackupSegment {
                        id: wal_id(0),
                        epoch: 2,
                        first: 8,
                        last: 9
                    }
                ),
                (RESTORER, Msg::BackupFetched { id: wal_id(0) }),
            ]
        );
    }

    #[test]
    fn a_store_that_never_answers_fails_the_backup() {
        let mut agent = BackupAgent::new(plan(), 0);
        let mut ctx = Recorder::new(AGENT);
        ctx.at(secs(1800));
        let due = Timer::BackupDue {
            kind: BackupKind::Snapshot,
        };
        agent.on_timer(due, &log(3), Some(3), &mut ctx);
        ctx.at(secs(1800 + 6 * 3600));
        agent.on_timer(due, &log(3), None, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::BackupFailed {
                id: backup_id(0, 0, 1)
            }]
        );
    }
}

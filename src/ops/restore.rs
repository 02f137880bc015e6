//! The restore runbook: noticing a logical corruption and putting back the latest clean data.
//!
//! Failover cannot help against a bad transaction: every replica has it. What a DBA team does
//! instead, step by step, is what [`RecoveryRunbook`] does:
//!
//! 1. **Notice.** A scheduled integrity check (`pg_amcheck`, application checksums) finds the
//!    damage; or users hit errors, and once the first error is `user_report_after` old (tickets,
//!    triage) the team runs the integrity check by hand. Metrics are scraped every
//!    `scrape_every`, so a report is noticed at the next scrape. In a topology with an
//!    operations team the users' reports go through the support desk and paging instead
//!    (`user_report_after` unset): a runbook step starts the procedure
//!    ([`Msg::RestoreStart`]), which runs the integrity check by hand from there.
//! 2. **Stop the bleeding.** Writes are frozen (maintenance) so nothing more lands on bad data.
//! 3. **Choose.** List the backups of every store, in preference order, and take the newest
//!    backup taken before the bad transaction. With continuous WAL archiving (point-in-time
//!    recovery) replay the archive up to the entry just before it; without, the backup is the
//!    recovery point.
//! 4. **Restore.** Provision an instance, download the backup chunk by chunk at the store's
//!    throughput (a store that stops answering is abandoned for the next source), replay WAL,
//!    redeploy configuration and code from version control, verify.
//! 5. **Switch.** Install the restored data on every member as a new timeline (a new epoch),
//!    appoint the primary through the failover controller, and lift the freeze.
//!
//! Everything written after the recovery point is gone: that is the RPO the judge measures
//! from the client history, hours with daily snapshots and seconds to minutes with PITR.

pub use crate::logic::RestoreStep as Step;
use crate::logic::backup::{Cron, wal_id};
use crate::logic::log::Log;
use crate::logic::{Context, Detection, Epoch, Lsn, MemberSet, Msg, NO_NODE, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

/// How one datastore is recovered.
#[derive(Clone, Debug)]
pub struct RecoverySpec {
    pub datastore: u8,
    pub members: Vec<NodeId>,
    /// The failover controller that appoints the restored primary, if any.
    pub controller: Option<NodeId>,
    /// Stores to restore from, in preference order.
    pub sources: Vec<NodeId>,
    /// Point-in-time recovery: replay archived WAL past the backup.
    pub pitr: bool,
    pub data_size: u64,
    pub write_size: u64,
    /// Download chunk size.
    pub chunk: u64,
    pub integrity_check: Cron,
    pub scrape_every: SimDuration,
    /// `None`: users' reports reach the team another way (paging, and a runbook's `Restore`).
    pub user_report_after: Option<SimDuration>,
    pub provision: SimDuration,
    pub redeploy: SimDuration,
    pub verify: SimDuration,
    /// How long to wait for answers (reports, listings, installs).
    pub answer_timeout: SimDuration,
    /// A chunk that has not arrived by then: the source has failed.
    pub chunk_timeout: SimDuration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Watching,
    Investigating { by: Detection },
    Listing,
    Provisioning,
    Fetching { wal: bool, chunk: u32, of: u32 },
    Content { wal: bool },
    Redeploying,
    Verifying,
    Installing,
    GaveUp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    source: usize,
    id: u32,
    lsn: Lsn,
    full: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    backup: Candidate,
    /// The recovery target: the backup's own LSN, or further with PITR.
    target: Lsn,
}

pub struct RecoveryRunbook {
    spec: Arc<RecoverySpec>,
    stage: Stage,
    token: u32,
    first_error: SimTime,
    bad_lsn: Lsn,
    max_epoch: Epoch,
    primary: NodeId,
    candidates: Vec<Candidate>,
    /// How far each source's WAL archive reaches, once it answered the listing.
    wal_reach: Vec<Option<Lsn>>,
    failed: Vec<(usize, u32)>,
    plan: Option<Plan>,
    provisioned: bool,
    restored: Log,
    acked: MemberSet,
}

impl RecoveryRunbook {
    pub fn new(spec: Arc<RecoverySpec>) -> Self {
        let sources = spec.sources.len();
        RecoveryRunbook {
            spec,
            stage: Stage::Watching,
            token: 0,
            first_error: SimTime::MAX,
            bad_lsn: 0,
            max_epoch: 0,
            primary: NO_NODE,
            candidates: Vec::new(),
            wal_reach: vec![None; sources],
            failed: Vec::new(),
            plan: None,
            provisioned: false,
            restored: Log::default(),
            acked: 0,
        }
    }

    /// Arms the scrape and the integrity check (also after a restart: an interrupted restore
    /// starts over from detection, as a new shift would).
    pub fn start(&mut self, ctx: &mut impl Context) {
        self.reset();
        let now = ctx.now();
        let next = self.spec.integrity_check.next_at(now);
        ctx.set_timer(next.saturating_since(now), Timer::IntegrityCheck);
        if self.spec.user_report_after.is_some() {
            ctx.set_timer(self.spec.scrape_every, Timer::ErrorScrape);
        }
    }

    fn reset(&mut self) {
        self.stage = Stage::Watching;
        self.token += 1;
        self.first_error = SimTime::MAX;
        self.bad_lsn = 0;
        self.candidates.clear();
        self.wal_reach.iter_mut().for_each(|w| *w = None);
        self.failed.clear();
        self.plan = None;
        self.provisioned = false;
        self.restored = Log::default();
        self.acked = 0;
    }

    fn arm(&mut self, after: SimDuration, ctx: &mut impl Context) {
        self.token += 1;
        ctx.set_timer(after, Timer::RunbookStep { token: self.token });
    }

    fn to_members(&self, msg: Msg, ctx: &mut impl Context) {
        for &m in &self.spec.members {
            ctx.send(m, msg);
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        let now = ctx.now();
        match timer {
            Timer::IntegrityCheck => {
                let next = self.spec.integrity_check.next_at(now + SimDuration(1));
                ctx.set_timer(next.saturating_since(now), Timer::IntegrityCheck);
                if self.stage == Stage::Watching {
                    self.to_members(Msg::IntegrityQuery { full: true }, ctx);
                }
            }
            Timer::ErrorScrape => {
                ctx.set_timer(self.spec.scrape_every, Timer::ErrorScrape);
                let after = self.spec.user_report_after.unwrap_or(SimDuration::MAX);
                if self.stage == Stage::Watching {
                    if self.first_error != SimTime::MAX && now >= self.first_error + after {
                        self.detect(Detection::Users, ctx);
                    } else {
                        self.to_members(Msg::IntegrityQuery { full: false }, ctx);
                    }
                }
            }
            Timer::RunbookStep { token } if token == self.token => self.step_due(ctx),
            _ => {}
        }
    }

    fn detect(&mut self, by: Detection, ctx: &mut impl Context) {
        self.stage = Stage::Investigating { by };
        if by != Detection::Schedule {
            // Users complain, or the on-call asks: run the integrity check by hand.
            self.to_members(Msg::IntegrityQuery { full: true }, ctx);
        }
        self.arm(self.spec.answer_timeout, ctx);
    }

    fn step_due(&mut self, ctx: &mut impl Context) {
        match self.stage {
            Stage::Investigating { by } => self.start_listing(by, ctx),
            Stage::Listing => self.choose(ctx),
            Stage::Provisioning => {
                self.provisioned = true;
                ctx.note(Note::RestoreStep {
                    step: Step::Provisioned,
                });
                self.fetch(false, 0, ctx);
            }
            Stage::Fetching { .. } | Stage::Content { .. } => self.source_failed(ctx),
            Stage::Redeploying => {
                ctx.note(Note::RestoreStep {
                    step: Step::Redeployed,
                });
                self.stage = Stage::Verifying;
                self.arm(self.spec.verify, ctx);
            }
            Stage::Verifying => {
                ctx.note(Note::RestoreStep {
                    step: Step::Verified,
                });
                self.install(ctx);
            }
            Stage::Installing => self.switch(ctx),
            Stage::Watching | Stage::GaveUp => {}
        }
    }

    /// The investigation is over: with damage found, freeze writes and list the backups.
    fn start_listing(&mut self, by: Detection, ctx: &mut impl Context) {
        if self.bad_lsn == 0 {
            // The errors were not a corruption the check can see: back to watching.
            ctx.note(Note::NoCorruptionFound);
            self.reset();
            return;
        }
        ctx.note(Note::CorruptionDetected {
            lsn: self.bad_lsn,
            by,
        });
        self.to_members(Msg::Freeze { on: true }, ctx);
        self.stage = Stage::Listing;
        for &s in &self.spec.sources {
            ctx.send(
                s,
                Msg::BackupList {
                    datastore: self.spec.datastore,
                },
            );
        }
        self.arm(self.spec.answer_timeout, ctx);
    }

    /// The newest clean backup of the most preferred source that has one and has not failed.
    fn choose(&mut self, ctx: &mut impl Context) {
        let best = self
            .candidates
            .iter()
            .filter(|c| c.lsn < self.bad_lsn && !self.failed.contains(&(c.source, c.id)))
            .min_by_key(|c| (c.source, std::cmp::Reverse(c.lsn)))
            .copied();
        let Some(backup) = best else {
            ctx.note(Note::RestoreImpossible);
            self.to_members(Msg::Freeze { on: false }, ctx);
            self.stage = Stage::GaveUp;
            return;
        };
        let just_before = self.bad_lsn - 1;
        let target = match self.wal_reach[backup.source] {
            Some(reach) if self.spec.pitr && reach >= just_before && just_before > backup.lsn => {
                just_before
            }
            _ => backup.lsn,
        };
        ctx.note(Note::RestoreStarted {
            source: self.spec.sources[backup.source],
            id: backup.id,
            target,
        });
        self.plan = Some(Plan { backup, target });
        self.restored = Log::default();
        if self.provisioned {
            self.fetch(false, 0, ctx);
        } else {
            self.stage = Stage::Provisioning;
            self.arm(self.spec.provision, ctx);
        }
    }

    fn total_bytes(&self, wal: bool) -> u64 {
        let plan = self.plan.expect("fetching has a plan");
        if wal {
            (plan.target - plan.backup.lsn).saturating_mul(self.spec.write_size)
        } else {
            plan.backup.full
        }
    }

    fn fetch(&mut self, wal: bool, chunk: u32, ctx: &mut impl Context) {
        let plan = self.plan.expect("fetching has a plan");
        let total = self.total_bytes(wal);
        let size = self.spec.chunk.max(1);
        let of = total.div_ceil(size).max(1) as u32;
        let len = size.min(total.saturating_sub(chunk as u64 * size)).max(1);
        let id = self.current_id(wal).expect("fetching has a plan");
        ctx.send(
            self.spec.sources[plan.backup.source],
            Msg::BackupFetch { id, chunk, len },
        );
        self.stage = Stage::Fetching { wal, chunk, of };
        self.arm(self.spec.chunk_timeout, ctx);
    }

    fn source_failed(&mut self, ctx: &mut impl Context) {
        let plan = self.plan.expect("fetching has a plan");
        ctx.note(Note::RestoreSourceFailed {
            source: self.spec.sources[plan.backup.source],
            id: plan.backup.id,
        });
        // The whole source is suspect: none of its backups is tried again.
        for c in &self.candidates {
            if c.source == plan.backup.source {
                self.failed.push((c.source, c.id));
            }
        }
        self.choose(ctx);
    }

    fn current_id(&self, wal: bool) -> Option<u32> {
        let plan = self.plan?;
        Some(if wal {
            wal_id(self.spec.datastore)
        } else {
            plan.backup.id
        })
    }

    fn install(&mut self, ctx: &mut impl Context) {
        let epoch = self.max_epoch + 1;
        let lsn = self.restored.last();
        for &m in &self.spec.members {
            for (e, first, last) in self.restored.runs(0, lsn) {
                ctx.send(
                    m,
                    Msg::RestoreSegment {
                        epoch: e,
                        first,
                        last,
                    },
                );
            }
            ctx.send(m, Msg::RestoreInstall { epoch, lsn });
        }
        self.acked = 0;
        self.stage = Stage::Installing;
        self.arm(self.spec.answer_timeout, ctx);
    }

    /// Appoints the restored primary; with no member reachable, installs again.
    fn switch(&mut self, ctx: &mut impl Context) {
        if self.acked == 0 {
            self.install(ctx);
            return;
        }
        let epoch = self.max_epoch + 1;
        let members = &self.spec.members;
        let chosen = members
            .iter()
            .position(|&m| m == self.primary)
            .filter(|&i| self.acked & (1 << i) != 0)
            .unwrap_or(self.acked.trailing_zeros() as usize);
        let primary = members[chosen];
        match self.spec.controller {
            Some(c) => ctx.send(c, Msg::RestoreAppoint { epoch, primary }),
            None => ctx.send(
                primary,
                Msg::Promote {
                    epoch,
                    replicas: self.acked & !(1 << chosen),
                },
            ),
        }
        ctx.note(Note::Restored {
            epoch,
            lsn: self.restored.last(),
        });
        self.max_epoch = epoch;
        self.primary = primary;
        self.reset();
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            // A runbook step: look now (a procedure already under way goes on).
            Msg::RestoreStart if self.stage == Stage::Watching => {
                self.detect(Detection::Runbook, ctx)
            }
            Msg::IntegrityReport {
                bad_lsn,
                epoch,
                primary,
                first_error,
            } => self.on_integrity_report(from, bad_lsn, epoch, primary, first_error, ctx),
            Msg::BackupListing { id, lsn, full, .. } if self.stage == Stage::Listing => {
                self.on_listing(from, id, lsn, full);
            }
            Msg::BackupListingEnd { wal_lsn, .. } if self.stage == Stage::Listing => {
                self.on_listing_end(from, wal_lsn, ctx);
            }
            Msg::BackupChunk { id, chunk } => self.on_chunk(id, chunk, ctx),
            Msg::BackupSegment {
                id,
                epoch,
                first,
                last,
            } => {
                if let Stage::Content { wal } = self.stage
                    && self.current_id(wal) == Some(id)
                {
                    self.restored.put_run(epoch, first, last);
                }
            }
            Msg::BackupFetched { id } => self.on_fetched(id, ctx),
            Msg::BackupMissing { id } => {
                if let Stage::Fetching { wal, .. } | Stage::Content { wal } = self.stage
                    && self.current_id(wal) == Some(id)
                {
                    self.source_failed(ctx);
                }
            }
            Msg::RestoreInstalled { epoch } if self.stage == Stage::Installing => {
                self.on_installed(from, epoch, ctx);
            }
            _ => {}
        }
    }

    /// Takes in a member's report: the primary's errors and damage may open an incident.
    fn on_integrity_report(
        &mut self,
        from: NodeId,
        bad_lsn: Lsn,
        epoch: Epoch,
        primary: bool,
        first_error: SimTime,
        ctx: &mut impl Context,
    ) {
        self.max_epoch = self.max_epoch.max(epoch);
        // Production is the primary: a member still holding old damage (down during a
        // restore, about to be rewound) is not a new incident.
        if !primary {
            return;
        }
        self.primary = from;
        self.first_error = self.first_error.min(first_error);
        if bad_lsn > 0 {
            self.bad_lsn = if self.bad_lsn == 0 {
                bad_lsn
            } else {
                self.bad_lsn.min(bad_lsn)
            };
            if self.stage == Stage::Watching {
                self.detect(Detection::Schedule, ctx);
            }
        }
    }

    /// Notes a complete backup a source listed as a candidate to restore.
    fn on_listing(&mut self, from: NodeId, id: u32, lsn: Lsn, full: u64) {
        if let Some(source) = self.spec.sources.iter().position(|&s| s == from) {
            self.candidates.push(Candidate {
                source,
                id,
                lsn,
                full,
            });
        }
    }

    /// A source finished its listing; once every source has, the backup is chosen.
    fn on_listing_end(&mut self, from: NodeId, wal_lsn: Lsn, ctx: &mut impl Context) {
        if let Some(source) = self.spec.sources.iter().position(|&s| s == from) {
            self.wal_reach[source] = Some(wal_lsn);
        }
        if self.wal_reach.iter().all(Option::is_some) {
            self.choose(ctx);
        }
    }

    /// The awaited chunk arrived: fetch the next one, or after the last ask for the content.
    fn on_chunk(&mut self, id: u32, got: u32, ctx: &mut impl Context) {
        if let Stage::Fetching { wal, chunk, of } = self.stage
            && self.current_id(wal) == Some(id)
            && got == chunk
        {
            if chunk + 1 < of {
                self.fetch(wal, chunk + 1, ctx);
            } else {
                self.request_content(wal, id, ctx);
            }
        }
    }

    /// Asks the source for the downloaded content: the backup's, or the WAL to replay.
    fn request_content(&mut self, wal: bool, id: u32, ctx: &mut impl Context) {
        let plan = self.plan.expect("fetching has a plan");
        let (after, upto) = if wal {
            (plan.backup.lsn, plan.target)
        } else {
            (0, plan.backup.lsn)
        };
        ctx.send(
            self.spec.sources[plan.backup.source],
            Msg::BackupContent {
                id,
                from: after,
                upto,
            },
        );
        self.stage = Stage::Content { wal };
        self.arm(self.spec.chunk_timeout, ctx);
    }

    /// The content is here: replay the WAL next (PITR), or redeploy.
    fn on_fetched(&mut self, id: u32, ctx: &mut impl Context) {
        if let Stage::Content { wal } = self.stage
            && self.current_id(wal) == Some(id)
        {
            let plan = self.plan.expect("fetching has a plan");
            if wal {
                ctx.note(Note::RestoreStep {
                    step: Step::Replayed,
                });
            } else {
                ctx.note(Note::RestoreStep {
                    step: Step::Downloaded,
                });
            }
            if !wal && plan.target > plan.backup.lsn {
                self.fetch(true, 0, ctx);
            } else {
                self.stage = Stage::Redeploying;
                self.arm(self.spec.redeploy, ctx);
            }
        }
    }

    /// A member installed the restored timeline; once all have, the primary is appointed.
    fn on_installed(&mut self, from: NodeId, epoch: Epoch, ctx: &mut impl Context) {
        if epoch == self.max_epoch + 1
            && let Some(i) = self.spec.members.iter().position(|&m| m == from)
        {
            self.acked |= 1 << i;
            if self.acked.count_ones() as usize == self.spec.members.len() {
                self.switch(ctx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const ME: NodeId = 60;
    const MON: NodeId = 70;
    /// The members: the primary and two standbys.
    const P: NodeId = 10;
    const S1: NodeId = 11;
    const S2: NodeId = 12;
    /// The stores, in preference order.
    const VAULT: NodeId = 50;
    /// An on-call engineer's runbook runner.
    const RUNNER: NodeId = 60;
    const COLD: NodeId = 51;
    const DS: u8 = 3;
    const CHUNK: u64 = 1000;
    const WRITE: u64 = 100;
    const BAD: Lsn = 100;

    fn secs(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    fn d(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    fn spec(pitr: bool, controller: Option<NodeId>) -> RecoverySpec {
        RecoverySpec {
            datastore: DS,
            members: vec![P, S1, S2],
            controller,
            sources: vec![VAULT, COLD],
            pitr,
            data_size: 2000,
            write_size: WRITE,
            chunk: CHUNK,
            integrity_check: Cron {
                every: d(3600),
                phase: d(3000),
            },
            scrape_every: d(60),
            user_report_after: Some(d(900)),
            provision: d(240),
            redeploy: d(180),
            verify: d(120),
            answer_timeout: d(30),
            chunk_timeout: d(600),
        }
    }

    /// A started runbook with its start effects cleared.
    fn runbook(spec: RecoverySpec) -> (RecoveryRunbook, Recorder) {
        let mut rb = RecoveryRunbook::new(Arc::new(spec));
        let mut ctx = Recorder::new(ME);
        rb.start(&mut ctx);
        assert_eq!(
            ctx.timers,
            vec![
                (secs(3000), Timer::IntegrityCheck),
                (secs(60), Timer::ErrorScrape)
            ]
        );
        ctx.timers.clear();
        (rb, ctx)
    }

    fn report(
        rb: &mut RecoveryRunbook,
        ctx: &mut Recorder,
        from: NodeId,
        bad_lsn: Lsn,
        epoch: Epoch,
        primary: bool,
        first_error: SimTime,
    ) {
        let msg = Msg::IntegrityReport {
            bad_lsn,
            epoch,
            primary,
            first_error,
        };
        rb.on_message(from, msg, ctx);
    }

    /// The latest runbook step armed, as `(due, token)`.
    fn last_step(ctx: &Recorder) -> (SimTime, u32) {
        ctx.timers
            .iter()
            .rev()
            .find_map(|&(at, t)| match t {
                Timer::RunbookStep { token } => Some((at, token)),
                _ => None,
            })
            .expect("a runbook step is armed")
    }

    /// Fires the latest runbook step at its due time.
    fn step(rb: &mut RecoveryRunbook, ctx: &mut Recorder) {
        let (at, token) = last_step(ctx);
        ctx.at(at);
        rb.on_timer(Timer::RunbookStep { token }, ctx);
    }

    fn sent_to(ctx: &Recorder, to: NodeId) -> Vec<Msg> {
        ctx.sent
            .iter()
            .filter(|(n, _)| *n == to)
            .map(|(_, m)| *m)
            .collect()
    }

    fn fetches(ctx: &Recorder) -> Vec<(NodeId, u32, u32, u64)> {
        ctx.sent
            .iter()
            .filter_map(|&(to, m)| match m {
                Msg::BackupFetch { id, chunk, len } => Some((to, id, chunk, len)),
                _ => None,
            })
            .collect()
    }

    /// The scheduled integrity check runs and finds damage from `BAD` on every member; the
    /// answers are awaited, then the corruption is declared. Members are on epoch 2 (one
    /// standby has seen epoch 3).
    fn detect_by_check(rb: &mut RecoveryRunbook, ctx: &mut Recorder) {
        ctx.at(secs(3000));
        rb.on_timer(Timer::IntegrityCheck, ctx);
        report(rb, ctx, P, BAD, 2, true, SimTime::MAX);
        report(rb, ctx, S1, BAD, 3, false, SimTime::MAX);
        report(rb, ctx, S2, BAD, 2, false, SimTime::MAX);
        step(rb, ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::CorruptionDetected {
                lsn: BAD,
                by: Detection::Schedule
            }]
        );
        ctx.notes.clear();
        ctx.sent.clear();
    }

    /// Started by a runbook (users' reports paged elsewhere): no error scrape of its own;
    /// `RestoreStart` runs the integrity check by hand, and damage found is declared as the
    /// runbook's finding. A second start while it works changes nothing.
    #[test]
    fn a_runbook_starts_the_procedure_which_then_checks_by_hand() {
        let mut rb = RecoveryRunbook::new(Arc::new(RecoverySpec {
            user_report_after: None,
            ..spec(false, None)
        }));
        let mut ctx = Recorder::new(ME);
        rb.start(&mut ctx);
        assert_eq!(ctx.timers, vec![(secs(3000), Timer::IntegrityCheck)]);
        ctx.timers.clear();
        ctx.at(secs(1200));
        rb.on_message(RUNNER, Msg::RestoreStart, &mut ctx);
        let full = Msg::IntegrityQuery { full: true };
        assert_eq!(ctx.take_sent(), vec![(P, full), (S1, full), (S2, full)]);
        rb.on_message(RUNNER, Msg::RestoreStart, &mut ctx);
        assert!(ctx.sent.is_empty(), "already investigating");
        report(&mut rb, &mut ctx, P, BAD, 2, true, secs(1000));
        step(&mut rb, &mut ctx);
        let found = Note::CorruptionDetected {
            lsn: BAD,
            by: Detection::Runbook,
        };
        assert_eq!(ctx.notes, vec![found]);
        assert!(sent_to(&ctx, P).contains(&Msg::Freeze { on: true }));
    }

    /// `source` lists `backups` as `(id, lsn, full)` and how far its WAL archive reaches.
    fn listing(
        rb: &mut RecoveryRunbook,
        ctx: &mut Recorder,
        source: NodeId,
        backups: &[(u32, Lsn, u64)],
        wal_lsn: Lsn,
    ) {
        for &(id, lsn, full) in backups {
            let msg = Msg::BackupListing {
                id,
                kind: crate::logic::backup::BackupKind::Snapshot,
                lsn,
                taken_at: SimTime::ZERO,
                full,
            };
            rb.on_message(source, msg, ctx);
        }
        let end = Msg::BackupListingEnd {
            datastore: DS,
            wal_lsn,
        };
        rb.on_message(source, end, ctx);
    }

    /// Detects, lists both stores and returns the `RestoreStarted` note.
    fn plan(
        pitr: bool,
        vault: &[(u32, Lsn, u64)],
        vault_wal: Lsn,
        cold: &[(u32, Lsn, u64)],
        cold_wal: Lsn,
    ) -> Note {
        let (mut rb, mut ctx) = runbook(spec(pitr, Some(MON)));
        detect_by_check(&mut rb, &mut ctx);
        listing(&mut rb, &mut ctx, VAULT, vault, vault_wal);
        assert!(ctx.notes.is_empty(), "waits for every store's listing");
        listing(&mut rb, &mut ctx, COLD, cold, cold_wal);
        assert_eq!(ctx.notes.len(), 1, "{:?}", ctx.notes);
        ctx.notes[0]
    }

    fn started(source: NodeId, id: u32, target: Lsn) -> Note {
        Note::RestoreStarted { source, id, target }
    }

    /// Answers every chunk request as it comes, until the runbook asks for the content.
    fn serve_chunks(rb: &mut RecoveryRunbook, ctx: &mut Recorder, store: NodeId) -> usize {
        let mut served = 0;
        loop {
            let Some(&(to, Msg::BackupFetch { id, chunk, .. })) = ctx.sent.last() else {
                return served;
            };
            assert_eq!(to, store);
            served += 1;
            ctx.now += d(5);
            rb.on_message(store, Msg::BackupChunk { id, chunk }, ctx);
        }
    }

    // ---- noticing ----

    #[test]
    fn a_scheduled_integrity_check_finds_the_damage_freezes_writes_and_lists_backups() {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        ctx.at(secs(3000));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        let full = Msg::IntegrityQuery { full: true };
        assert_eq!(ctx.take_sent(), vec![(P, full), (S1, full), (S2, full)]);
        assert_eq!(ctx.timers, vec![(secs(6600), Timer::IntegrityCheck)]);
        ctx.timers.clear();
        report(&mut rb, &mut ctx, P, BAD, 2, true, SimTime::MAX);
        // Nothing is declared before the other answers had their time.
        assert!(ctx.notes.is_empty() && ctx.sent.is_empty());
        assert_eq!(last_step(&ctx).0, secs(3030));
        report(&mut rb, &mut ctx, S1, BAD, 2, false, SimTime::MAX);
        step(&mut rb, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::CorruptionDetected {
                lsn: BAD,
                by: Detection::Schedule
            }]
        );
        let freeze = Msg::Freeze { on: true };
        let list = Msg::BackupList { datastore: DS };
        assert_eq!(
            ctx.take_sent(),
            vec![
                (P, freeze),
                (S1, freeze),
                (S2, freeze),
                (VAULT, list),
                (COLD, list)
            ]
        );
        // While a restore is under way, neither checks nor scrapes ask the members again.
        ctx.at(secs(6600));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        rb.on_timer(Timer::ErrorScrape, &mut ctx);
        assert!(ctx.sent.is_empty());
    }

    #[test]
    fn a_clean_check_or_a_standby_alone_declares_nothing() {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        ctx.at(secs(3000));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        report(&mut rb, &mut ctx, P, 0, 1, true, SimTime::MAX);
        // A standby still holding old damage (down during a restore) is not a new incident.
        report(&mut rb, &mut ctx, S1, BAD, 1, false, SimTime::MAX);
        assert!(ctx.timers.iter().all(|(_, t)| *t == Timer::IntegrityCheck));
        assert!(ctx.notes.is_empty());
    }

    #[test]
    fn user_reports_are_acted_on_at_the_first_scrape_after_the_delay() {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        let scrape = Msg::IntegrityQuery { full: false };
        ctx.at(secs(60));
        rb.on_timer(Timer::ErrorScrape, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(P, scrape), (S1, scrape), (S2, scrape)]
        );
        assert_eq!(ctx.timers, vec![(secs(120), Timer::ErrorScrape)]);
        // Errors reported by a standby (it is not production) are ignored.
        report(&mut rb, &mut ctx, S1, 0, 1, false, secs(10));
        report(&mut rb, &mut ctx, P, 0, 1, true, SimTime::MAX);
        ctx.at(secs(960));
        rb.on_timer(Timer::ErrorScrape, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(P, scrape), (S1, scrape), (S2, scrape)]
        );
        // The primary's users hit errors from 1000 s: acted on from 1900 s.
        ctx.at(secs(1020));
        report(&mut rb, &mut ctx, P, 0, 1, true, secs(1000));
        for t in [1080, 1860] {
            ctx.at(secs(t));
            rb.on_timer(Timer::ErrorScrape, &mut ctx);
            assert_eq!(
                ctx.take_sent(),
                vec![(P, scrape), (S1, scrape), (S2, scrape)],
                "at {t} s"
            );
            // A later report of a later error does not move the first one.
            report(&mut rb, &mut ctx, P, 0, 1, true, secs(t));
        }
        assert!(ctx.notes.is_empty());
        ctx.timers.clear();
        ctx.at(secs(1920));
        rb.on_timer(Timer::ErrorScrape, &mut ctx);
        // The team runs the integrity check by hand to find the extent.
        let full = Msg::IntegrityQuery { full: true };
        assert_eq!(ctx.take_sent(), vec![(P, full), (S1, full), (S2, full)]);
        assert!(ctx.notes.is_empty());
        report(&mut rb, &mut ctx, P, BAD, 1, true, secs(1000));
        step(&mut rb, &mut ctx);
        assert_eq!(ctx.now, secs(1950));
        assert_eq!(
            ctx.notes,
            vec![Note::CorruptionDetected {
                lsn: BAD,
                by: Detection::Users
            }]
        );
        assert!(ctx.sent.contains(&(P, Msg::Freeze { on: true })));
    }

    #[test]
    fn user_errors_without_damage_go_back_to_watching() {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        ctx.at(secs(60));
        report(&mut rb, &mut ctx, P, 0, 1, true, secs(30));
        ctx.at(secs(960));
        rb.on_timer(Timer::ErrorScrape, &mut ctx);
        assert!(ctx.sent.contains(&(P, Msg::IntegrityQuery { full: true })));
        report(&mut rb, &mut ctx, P, 0, 1, true, secs(30));
        ctx.take_sent();
        step(&mut rb, &mut ctx);
        assert_eq!(ctx.notes, vec![Note::NoCorruptionFound]);
        assert!(ctx.sent.is_empty(), "no freeze");
        // Watching again: the scheduled check runs.
        ctx.at(secs(3000));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        assert_eq!(sent_to(&ctx, P), vec![Msg::IntegrityQuery { full: true }]);
    }

    // ---- choosing ----

    #[test]
    fn the_newest_clean_backup_of_the_first_store_that_has_one_is_chosen() {
        let vault = [(1, 40, 2500), (2, 90, 2500), (3, BAD, 2500), (4, 120, 2500)];
        let cold = [(5, 95, 2500)];
        // The vault's newest backup before the damage, though the cold store has a newer one.
        assert_eq!(plan(false, &vault, 0, &cold, 0), started(VAULT, 2, 90));
        // A backup taken at or after the bad transaction holds it: never chosen.
        let damaged = [(3, BAD, 2500), (4, 120, 2500)];
        assert_eq!(plan(false, &damaged, 0, &cold, 0), started(COLD, 5, 95));
        assert_eq!(
            plan(false, &damaged, 0, &[(6, BAD, 2500)], 0),
            Note::RestoreImpossible
        );
    }

    #[test]
    fn point_in_time_recovery_replays_to_just_before_the_damage_when_the_archive_reaches() {
        let vault = [(2, 90, 2500)];
        let cold = [(5, 95, 2500)];
        assert_eq!(
            plan(true, &vault, 150, &cold, 0),
            started(VAULT, 2, BAD - 1)
        );
        assert_eq!(
            plan(true, &vault, BAD - 1, &cold, 0),
            started(VAULT, 2, BAD - 1)
        );
        // The archive stops short of the target: the backup is the recovery point.
        assert_eq!(plan(true, &vault, BAD - 2, &cold, 0), started(VAULT, 2, 90));
        // Without PITR an archive is not replayed.
        assert_eq!(plan(false, &vault, 150, &cold, 0), started(VAULT, 2, 90));
        // Only the chosen store's archive counts.
        assert_eq!(plan(true, &[], 150, &cold, 0), started(COLD, 5, 95));
        assert_eq!(plan(true, &[], 0, &cold, 150), started(COLD, 5, BAD - 1));
        // A backup just before the damage needs nothing replayed.
        assert_eq!(
            plan(true, &[(7, BAD - 1, 2500)], 150, &[], 0),
            started(VAULT, 7, BAD - 1)
        );
    }

    #[test]
    fn a_store_that_never_lists_is_left_out_after_the_answer_timeout() {
        let (mut rb, mut ctx) = runbook(spec(true, Some(MON)));
        detect_by_check(&mut rb, &mut ctx);
        listing(&mut rb, &mut ctx, COLD, &[(5, 95, 2500)], 0);
        assert!(ctx.notes.is_empty());
        // Listings from a store that is not a source, or arriving late, count for nothing.
        listing(&mut rb, &mut ctx, 99, &[(8, 99, 2500)], 150);
        step(&mut rb, &mut ctx);
        assert_eq!(ctx.notes, vec![started(COLD, 5, 95)]);
        listing(&mut rb, &mut ctx, VAULT, &[(2, 98, 2500)], 150);
        assert_eq!(ctx.notes.len(), 1);
    }

    // ---- restoring ----

    /// Corruption detected by the check; the vault lists backup 2 (up to LSN 90, 2500
    /// bytes), the cold store nothing, no PITR: the restore of backup 2 starts. Returns when
    /// the corruption was detected.
    fn restore_from_vault() -> (RecoveryRunbook, Recorder, SimTime) {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        detect_by_check(&mut rb, &mut ctx);
        let detected = ctx.now;
        listing(&mut rb, &mut ctx, VAULT, &[(2, 90, 2500)], 0);
        listing(&mut rb, &mut ctx, COLD, &[], 0);
        (rb, ctx, detected)
    }

    /// [`restore_from_vault`] provisioned and every chunk served, then the content delivered
    /// (two segments, epochs 1 and 2) and fetched. Returns when it was fetched.
    fn downloaded_from_vault() -> (RecoveryRunbook, Recorder, SimTime) {
        let (mut rb, mut ctx, _) = restore_from_vault();
        step(&mut rb, &mut ctx);
        serve_chunks(&mut rb, &mut ctx, VAULT);
        ctx.sent.clear();
        ctx.notes.clear();
        for (epoch, first, last) in [(1, 1, 60), (2, 61, 90)] {
            let seg = Msg::BackupSegment {
                id: 2,
                epoch,
                first,
                last,
            };
            rb.on_message(VAULT, seg, &mut ctx);
        }
        rb.on_message(VAULT, Msg::BackupFetched { id: 2 }, &mut ctx);
        let fetched = ctx.now;
        (rb, ctx, fetched)
    }

    #[test]
    fn a_restore_provisions_then_downloads_chunk_by_chunk() {
        let (mut rb, mut ctx, detected) = restore_from_vault();
        assert_eq!(ctx.notes, vec![started(VAULT, 2, 90)]);
        assert!(ctx.sent.is_empty(), "nothing to download onto yet");
        ctx.notes.clear();
        assert_eq!(last_step(&ctx).0, detected + d(240));
        step(&mut rb, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::RestoreStep {
                step: Step::Provisioned
            }]
        );
        assert_eq!(fetches(&ctx), vec![(VAULT, 2, 0, 1000)]);
        assert_eq!(serve_chunks(&mut rb, &mut ctx, VAULT), 3);
        // ceil(2500 / 1000) chunks, the last one short.
        assert_eq!(
            fetches(&ctx),
            vec![(VAULT, 2, 0, 1000), (VAULT, 2, 1, 1000), (VAULT, 2, 2, 500)]
        );
        assert_eq!(
            ctx.sent.last(),
            Some(&(
                VAULT,
                Msg::BackupContent {
                    id: 2,
                    from: 0,
                    upto: 90
                }
            ))
        );
    }

    #[test]
    fn a_downloaded_backup_is_redeployed_verified_and_installed_as_a_new_timeline() {
        let (mut rb, mut ctx, fetched) = downloaded_from_vault();
        assert_eq!(
            ctx.notes,
            vec![Note::RestoreStep {
                step: Step::Downloaded
            }]
        );
        assert_eq!(last_step(&ctx).0, fetched + d(180));
        step(&mut rb, &mut ctx);
        assert_eq!(last_step(&ctx).0, fetched + d(300));
        assert!(ctx.sent.is_empty());
        step(&mut rb, &mut ctx);
        assert_eq!(
            &ctx.notes[1..],
            &[
                Note::RestoreStep {
                    step: Step::Redeployed
                },
                Note::RestoreStep {
                    step: Step::Verified
                }
            ]
        );
        // A new timeline above every epoch any member reported (a standby had seen 3).
        let install = [
            Msg::RestoreSegment {
                epoch: 1,
                first: 1,
                last: 60,
            },
            Msg::RestoreSegment {
                epoch: 2,
                first: 61,
                last: 90,
            },
            Msg::RestoreInstall { epoch: 4, lsn: 90 },
        ];
        for m in [P, S1, S2] {
            assert_eq!(sent_to(&ctx, m), install, "to {m}");
        }
        assert_eq!(ctx.take_sent().len(), 9);
    }

    #[test]
    fn once_every_member_installed_the_controller_appoints_the_former_primary() {
        let (mut rb, mut ctx, _) = downloaded_from_vault();
        step(&mut rb, &mut ctx);
        step(&mut rb, &mut ctx);
        ctx.notes.clear();
        ctx.take_sent();
        rb.on_message(P, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        rb.on_message(S1, Msg::RestoreInstalled { epoch: 3 }, &mut ctx);
        rb.on_message(S2, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        assert!(ctx.sent.is_empty(), "S1's answer is for another epoch");
        rb.on_message(S1, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(
                MON,
                Msg::RestoreAppoint {
                    epoch: 4,
                    primary: P
                }
            )]
        );
        assert_eq!(ctx.notes, vec![Note::Restored { epoch: 4, lsn: 90 }]);
        // Back to watching, and its pending step is stale.
        step(&mut rb, &mut ctx);
        assert!(ctx.sent.is_empty() && ctx.notes.len() == 1);
        ctx.at(secs(6600));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        assert_eq!(sent_to(&ctx, P), vec![Msg::IntegrityQuery { full: true }]);
    }

    #[test]
    fn point_in_time_recovery_replays_the_wal_archive_after_the_backup() {
        let (mut rb, mut ctx) = runbook(spec(true, Some(MON)));
        detect_by_check(&mut rb, &mut ctx);
        listing(&mut rb, &mut ctx, VAULT, &[(2, 90, 2500)], 150);
        listing(&mut rb, &mut ctx, COLD, &[], 0);
        step(&mut rb, &mut ctx);
        serve_chunks(&mut rb, &mut ctx, VAULT);
        let seg = Msg::BackupSegment {
            id: 2,
            epoch: 2,
            first: 1,
            last: 90,
        };
        rb.on_message(VAULT, seg, &mut ctx);
        ctx.sent.clear();
        rb.on_message(VAULT, Msg::BackupFetched { id: 2 }, &mut ctx);
        // Nine entries of 100 bytes: one chunk of the WAL archive.
        let wal = crate::logic::backup::wal_id(DS);
        assert_eq!(fetches(&ctx), vec![(VAULT, wal, 0, 900)]);
        assert_eq!(serve_chunks(&mut rb, &mut ctx, VAULT), 1);
        assert_eq!(
            ctx.sent.last(),
            Some(&(
                VAULT,
                Msg::BackupContent {
                    id: wal,
                    from: 90,
                    upto: BAD - 1
                }
            ))
        );
        let seg = Msg::BackupSegment {
            id: wal,
            epoch: 2,
            first: 91,
            last: 99,
        };
        rb.on_message(VAULT, seg, &mut ctx);
        rb.on_message(VAULT, Msg::BackupFetched { id: wal }, &mut ctx);
        assert_eq!(
            &ctx.notes[ctx.notes.len() - 2..],
            &[
                Note::RestoreStep {
                    step: Step::Downloaded
                },
                Note::RestoreStep {
                    step: Step::Replayed
                }
            ]
        );
        ctx.sent.clear();
        step(&mut rb, &mut ctx);
        step(&mut rb, &mut ctx);
        assert_eq!(
            sent_to(&ctx, S2),
            vec![
                Msg::RestoreSegment {
                    epoch: 2,
                    first: 1,
                    last: 99
                },
                Msg::RestoreInstall {
                    epoch: 4,
                    lsn: BAD - 1
                }
            ]
        );
    }

    #[test]
    fn a_chunk_timeout_abandons_the_store_for_the_next_one() {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        detect_by_check(&mut rb, &mut ctx);
        listing(&mut rb, &mut ctx, VAULT, &[(1, 40, 2500), (2, 90, 2500)], 0);
        listing(&mut rb, &mut ctx, COLD, &[(5, 60, 1500)], 0);
        step(&mut rb, &mut ctx);
        ctx.at(ctx.now + d(5));
        rb.on_message(VAULT, Msg::BackupChunk { id: 2, chunk: 0 }, &mut ctx);
        assert_eq!(fetches(&ctx).len(), 2);
        ctx.notes.clear();
        ctx.sent.clear();
        // Chunk 1 never comes.
        let (due, _) = last_step(&ctx);
        assert_eq!(due, ctx.now + d(600));
        step(&mut rb, &mut ctx);
        // The whole store is suspect: not its older backup but the next store's.
        assert_eq!(
            ctx.notes,
            vec![
                Note::RestoreSourceFailed {
                    source: VAULT,
                    id: 2
                },
                started(COLD, 5, 60)
            ]
        );
        // Already provisioned: the download starts at once.
        assert_eq!(fetches(&ctx), vec![(COLD, 5, 0, 1000)]);
        ctx.sent.clear();
        // The abandoned store's late chunk is ignored.
        rb.on_message(VAULT, Msg::BackupChunk { id: 2, chunk: 1 }, &mut ctx);
        assert!(ctx.sent.is_empty());
        rb.on_message(COLD, Msg::BackupChunk { id: 5, chunk: 0 }, &mut ctx);
        rb.on_message(COLD, Msg::BackupChunk { id: 5, chunk: 1 }, &mut ctx);
        assert_eq!(
            ctx.sent.last(),
            Some(&(
                COLD,
                Msg::BackupContent {
                    id: 5,
                    from: 0,
                    upto: 60
                }
            ))
        );
        // It fails too (the content never comes): nothing clean is left anywhere.
        ctx.notes.clear();
        ctx.sent.clear();
        step(&mut rb, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![
                Note::RestoreSourceFailed {
                    source: COLD,
                    id: 5
                },
                Note::RestoreImpossible
            ]
        );
        let thaw = Msg::Freeze { on: false };
        assert_eq!(ctx.take_sent(), vec![(P, thaw), (S1, thaw), (S2, thaw)]);
        // It has given up: later answers and steps change nothing.
        rb.on_message(COLD, Msg::BackupFetched { id: 5 }, &mut ctx);
        ctx.at(secs(6600));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        assert!(ctx.sent.is_empty() && ctx.notes.len() == 2);
    }

    #[test]
    fn a_missing_backup_abandons_the_store_for_the_next_one() {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        detect_by_check(&mut rb, &mut ctx);
        listing(&mut rb, &mut ctx, VAULT, &[(2, 90, 2500)], 0);
        listing(&mut rb, &mut ctx, COLD, &[(5, 60, 2500)], 0);
        step(&mut rb, &mut ctx);
        ctx.notes.clear();
        // Another backup's answer is not this one's.
        rb.on_message(VAULT, Msg::BackupMissing { id: 9 }, &mut ctx);
        assert!(ctx.notes.is_empty());
        rb.on_message(VAULT, Msg::BackupMissing { id: 2 }, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![
                Note::RestoreSourceFailed {
                    source: VAULT,
                    id: 2
                },
                started(COLD, 5, 60)
            ]
        );
        assert_eq!(fetches(&ctx).last(), Some(&(COLD, 5, 0, 1000)));
        // Missing at the content stage (deleted between the chunks and the content) as well.
        serve_chunks(&mut rb, &mut ctx, COLD);
        ctx.notes.clear();
        rb.on_message(COLD, Msg::BackupMissing { id: 5 }, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![
                Note::RestoreSourceFailed {
                    source: COLD,
                    id: 5
                },
                Note::RestoreImpossible
            ]
        );
    }

    #[test]
    fn stale_runbook_steps_are_ignored() {
        let (mut rb, mut ctx) = runbook(spec(false, Some(MON)));
        ctx.at(secs(3000));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        report(&mut rb, &mut ctx, P, BAD, 1, true, SimTime::MAX);
        let (_, investigating) = last_step(&ctx);
        step(&mut rb, &mut ctx);
        let (_, listing_token) = last_step(&ctx);
        listing(&mut rb, &mut ctx, VAULT, &[(2, 90, 2500)], 0);
        listing(&mut rb, &mut ctx, COLD, &[], 0);
        let (_, provisioning) = last_step(&ctx);
        step(&mut rb, &mut ctx);
        let (_, chunk0) = last_step(&ctx);
        rb.on_message(VAULT, Msg::BackupChunk { id: 2, chunk: 0 }, &mut ctx);
        let (sent, notes) = (ctx.sent.len(), ctx.notes.len());
        // Every older step fires late: none of them is the current one.
        for token in [investigating, listing_token, provisioning, chunk0, 0] {
            rb.on_timer(Timer::RunbookStep { token }, &mut ctx);
        }
        assert_eq!((ctx.sent.len(), ctx.notes.len()), (sent, notes));
        // A chunk answered twice is not asked for again.
        rb.on_message(VAULT, Msg::BackupChunk { id: 2, chunk: 0 }, &mut ctx);
        assert_eq!(ctx.sent.len(), sent);
        // The current one still counts.
        step(&mut rb, &mut ctx);
        assert_eq!(
            ctx.notes.last(),
            Some(&Note::RestoreImpossible),
            "the only store failed"
        );
    }

    // ---- switching ----

    /// Runs a restore of the vault's backup 2 (up to 90) to the point of installing.
    fn installing(spec: RecoverySpec) -> (RecoveryRunbook, Recorder) {
        let mut rb = RecoveryRunbook::new(Arc::new(spec));
        let mut ctx = Recorder::new(ME);
        rb.start(&mut ctx);
        detect_by_check(&mut rb, &mut ctx);
        listing(&mut rb, &mut ctx, VAULT, &[(2, 90, 2500)], 0);
        listing(&mut rb, &mut ctx, COLD, &[], 0);
        step(&mut rb, &mut ctx);
        serve_chunks(&mut rb, &mut ctx, VAULT);
        let seg = Msg::BackupSegment {
            id: 2,
            epoch: 1,
            first: 1,
            last: 90,
        };
        rb.on_message(VAULT, seg, &mut ctx);
        rb.on_message(VAULT, Msg::BackupFetched { id: 2 }, &mut ctx);
        step(&mut rb, &mut ctx);
        step(&mut rb, &mut ctx);
        assert!(
            ctx.sent
                .contains(&(S1, Msg::RestoreInstall { epoch: 4, lsn: 90 }))
        );
        ctx.sent.clear();
        ctx.notes.clear();
        (rb, ctx)
    }

    #[test]
    fn without_a_controller_the_runbook_promotes_the_restored_primary_itself() {
        let (mut rb, mut ctx) = installing(spec(false, None));
        for m in [S2, P, S1] {
            rb.on_message(m, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        }
        assert_eq!(
            ctx.take_sent(),
            vec![(
                P,
                Msg::Promote {
                    epoch: 4,
                    replicas: 0b110
                }
            )]
        );
        assert_eq!(ctx.notes, vec![Note::Restored { epoch: 4, lsn: 90 }]);
    }

    #[test]
    fn members_that_do_not_answer_are_left_out_and_nobody_answering_installs_again() {
        // Nobody answers: install again.
        let (mut rb, mut ctx) = installing(spec(false, None));
        step(&mut rb, &mut ctx);
        assert!(ctx.notes.is_empty());
        assert_eq!(
            sent_to(&ctx, P).last(),
            Some(&Msg::RestoreInstall { epoch: 4, lsn: 90 })
        );
        ctx.sent.clear();
        // The former primary never answers: the first member that did is promoted, and the
        // replica set is who installed.
        rb.on_message(S2, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        rb.on_message(S1, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        assert!(ctx.sent.is_empty());
        step(&mut rb, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(
                S1,
                Msg::Promote {
                    epoch: 4,
                    replicas: 0b100
                }
            )]
        );
        assert_eq!(ctx.notes, vec![Note::Restored { epoch: 4, lsn: 90 }]);

        // With a controller, it appoints.
        let (mut rb, mut ctx) = installing(spec(false, Some(MON)));
        rb.on_message(S2, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        step(&mut rb, &mut ctx);
        assert_eq!(
            ctx.take_sent(),
            vec![(
                MON,
                Msg::RestoreAppoint {
                    epoch: 4,
                    primary: S2
                }
            )]
        );
    }

    #[test]
    fn the_next_restore_starts_a_newer_timeline() {
        let (mut rb, mut ctx) = installing(spec(false, Some(MON)));
        for m in [P, S1, S2] {
            rb.on_message(m, Msg::RestoreInstalled { epoch: 4 }, &mut ctx);
        }
        ctx.sent.clear();
        ctx.notes.clear();
        ctx.timers.clear();
        // Corrupted again later; members report the epoch they are on, or older.
        ctx.at(secs(6600));
        rb.on_timer(Timer::IntegrityCheck, &mut ctx);
        report(&mut rb, &mut ctx, P, 150, 4, true, SimTime::MAX);
        step(&mut rb, &mut ctx);
        assert_eq!(
            ctx.notes,
            vec![Note::CorruptionDetected {
                lsn: 150,
                by: Detection::Schedule
            }]
        );
        listing(
            &mut rb,
            &mut ctx,
            VAULT,
            &[(2, 90, 2500), (3, 140, 2500)],
            0,
        );
        listing(&mut rb, &mut ctx, COLD, &[], 0);
        assert_eq!(ctx.notes.last(), Some(&started(VAULT, 3, 140)));
        step(&mut rb, &mut ctx);
        serve_chunks(&mut rb, &mut ctx, VAULT);
        rb.on_message(VAULT, Msg::BackupFetched { id: 3 }, &mut ctx);
        ctx.sent.clear();
        step(&mut rb, &mut ctx);
        step(&mut rb, &mut ctx);
        assert!(
            ctx.sent
                .contains(&(P, Msg::RestoreInstall { epoch: 5, lsn: 0 }))
        );
    }
}

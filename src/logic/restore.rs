//! The restore runbook: noticing a logical corruption and putting back the latest clean data.
//!
//! Failover cannot help against a bad transaction: every replica has it. What a DBA team does
//! instead, step by step, is what [`RecoveryRunbook`] does:
//!
//! 1. **Notice.** A scheduled integrity check (`pg_amcheck`, application checksums) finds the
//!    damage; or users hit errors, and once the first error is `user_report_after` old (tickets,
//!    triage) the team runs the integrity check by hand. Metrics are scraped every
//!    `scrape_every`, so a report is noticed at the next scrape.
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

use super::backup::{Cron, wal_id};
use super::replication::Log;
use super::{Context, Epoch, Lsn, MemberSet, Msg, NO_NODE, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

/// A fixed step of a restore, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Step {
    /// An instance to restore onto is ready.
    Provisioned,
    /// The backup is downloaded.
    Downloaded,
    /// The WAL archive was replayed to the recovery target.
    Replayed,
    /// Configuration and code are redeployed from version control.
    Redeployed,
    /// The restored data passed verification.
    Verified,
}

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
    pub user_report_after: SimDuration,
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
    Investigating { by_users: bool },
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
        ctx.set_timer(self.spec.scrape_every, Timer::ErrorScrape);
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
                if self.stage == Stage::Watching {
                    if self.first_error != SimTime::MAX
                        && now >= self.first_error + self.spec.user_report_after
                    {
                        self.detect(true, ctx);
                    } else {
                        self.to_members(Msg::IntegrityQuery { full: false }, ctx);
                    }
                }
            }
            Timer::RunbookStep { token } if token == self.token => self.step_due(ctx),
            _ => {}
        }
    }

    fn detect(&mut self, by_users: bool, ctx: &mut impl Context) {
        self.stage = Stage::Investigating { by_users };
        if by_users {
            // Users complain: run the integrity check by hand to find the extent.
            self.to_members(Msg::IntegrityQuery { full: true }, ctx);
        }
        self.arm(self.spec.answer_timeout, ctx);
    }

    fn step_due(&mut self, ctx: &mut impl Context) {
        match self.stage {
            Stage::Investigating { by_users } => {
                if self.bad_lsn == 0 {
                    // The errors were not a corruption the check can see: back to watching.
                    self.reset();
                    return;
                }
                ctx.note(Note::CorruptionDetected {
                    lsn: self.bad_lsn,
                    by_users,
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
        let id = if wal {
            wal_id(self.spec.datastore)
        } else {
            plan.backup.id
        };
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
            Msg::IntegrityReport {
                bad_lsn,
                epoch,
                primary,
                first_error,
            } => {
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
                        self.detect(false, ctx);
                    }
                }
            }
            Msg::BackupListing { id, lsn, full, .. } if self.stage == Stage::Listing => {
                if let Some(source) = self.spec.sources.iter().position(|&s| s == from) {
                    self.candidates.push(Candidate {
                        source,
                        id,
                        lsn,
                        full,
                    });
                }
            }
            Msg::BackupListingEnd { wal_lsn, .. } if self.stage == Stage::Listing => {
                if let Some(source) = self.spec.sources.iter().position(|&s| s == from) {
                    self.wal_reach[source] = Some(wal_lsn);
                }
                if self.wal_reach.iter().all(Option::is_some) {
                    self.choose(ctx);
                }
            }
            Msg::BackupChunk { id, chunk: got } => {
                if let Stage::Fetching { wal, chunk, of } = self.stage
                    && self.current_id(wal) == Some(id)
                    && got == chunk
                {
                    if chunk + 1 < of {
                        self.fetch(wal, chunk + 1, ctx);
                    } else {
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
                }
            }
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
            Msg::BackupFetched { id } => {
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
            Msg::BackupMissing { id } => {
                if let Stage::Fetching { wal, .. } | Stage::Content { wal } = self.stage
                    && self.current_id(wal) == Some(id)
                {
                    self.source_failed(ctx);
                }
            }
            Msg::RestoreInstalled { epoch } if self.stage == Stage::Installing => {
                if epoch == self.max_epoch + 1
                    && let Some(i) = self.spec.members.iter().position(|&m| m == from)
                {
                    self.acked |= 1 << i;
                    if self.acked.count_ones() as usize == self.spec.members.len() {
                        self.switch(ctx);
                    }
                }
            }
            _ => {}
        }
    }
}

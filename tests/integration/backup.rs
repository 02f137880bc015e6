//! Backups and the restore runbook: a logical corruption replicates everywhere, so only a
//! restore helps, and what it costs (RPO, RTO) depends on which backup it can reach.
//!
//! Every figure asserted here is read off the run (the timeline, the lost writes, the
//! per-service verdicts); the bounds are the disaster-recovery plan's, kept loose.

use crate::support::*;
use gameday::measure::durability::LossCause;
use gameday::model::error::Source;
use gameday::model::topology::Topology;
use gameday::report::summary::summarize;
use gameday::run::RunResult;
use gameday::run::judge::TimelineEntry;
use gameday::sim::time::SimTime;
use std::sync::OnceLock;

const ARCHIVE_LINE: &str = "archive: Some((store: \"cold-archive\", every: \"7d\", at: \"10m\")),";
const DELETION: &str = "Fault(at: \"155m\", kind: BackupDeletion(\"backup-vault\")),";
const MIN: f64 = 60.0;
const HOUR: f64 = 3600.0;

/// The shipped table-corruption scenario (seed 1), run once for every test that reads it.
fn shipped_run() -> &'static (Topology, RunResult) {
    static RUN: OnceLock<(Topology, RunResult)> = OnceLock::new();
    RUN.get_or_init(|| {
        let topo = topology("ftm-games", &[]);
        let r = run(&topo, &shipped(&topo, "table-corruption", &[]));
        (topo, r)
    })
}

/// The reference topology with continuous WAL archiving to the vault (PITR).
fn with_wal_archive() -> Topology {
    topology(
        "ftm-games",
        &[(
            ARCHIVE_LINE,
            &format!(
                "{ARCHIVE_LINE}\n                wal_archive: Some((store: \"backup-vault\", archive_timeout: \"60s\")),"
            ),
        )],
    )
}

/// The reference topology with its `recovery: Some((…))` block cut out: backups, no runbook.
fn without_recovery() -> Topology {
    let text = read("topologies/ftm-games.ron");
    let start = text.find("recovery: Some((").expect("a recovery block");
    // The block ends where its parentheses close, followed by its comma.
    let mut depth = 0;
    let mut end = None;
    for (i, c) in text[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(start + i + 1);
                    break;
                }
            }
            _ => {}
        }
    }
    let mut end = end.expect("the block closes");
    if text[end..].starts_with(',') {
        end += 1;
    }
    // And the runbook step that would start it.
    let step = "Step(do: Restore(\"postgres\"), takes: LogNormal(median: \"5m\", p95: \"15m\")),";
    let cut = format!("{}{}", &text[..start], &text[end..]).replace(step, "");
    assert!(!cut.contains("recovery:") && !cut.contains("Restore("));
    Topology::from_source(Source::inline("topologies/ftm-games.ron", &cut))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The table-corruption scenario with `extra` faults after the deletion attempt and `minutes`
/// of run.
fn variant(topo: &Topology, minutes: u32, extra: &str) -> RunResult {
    let duration = format!("duration: \"{minutes}m\"");
    let faults = format!("{DELETION}\n        {extra}");
    let s = shipped(
        topo,
        "table-corruption",
        &[("duration: \"210m\"", &duration), (DELETION, &faults)],
    );
    run(topo, &s)
}

fn entries<'a>(r: &'a RunResult, kind: &str) -> Vec<&'a TimelineEntry> {
    r.timeline.iter().filter(|e| e.kind == kind).collect()
}

fn first<'a>(r: &'a RunResult, kind: &str) -> &'a TimelineEntry {
    r.timeline
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no `{kind}` entry in {:#?}", r.timeline))
}

/// The number after `marker` in a timeline entry's detail.
fn number_after(detail: &str, marker: &str) -> u64 {
    let at = detail.find(marker).unwrap_or_else(|| panic!("{detail}")) + marker.len();
    detail[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|e| panic!("{detail}: {e}"))
}

fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

/// When the runbook found the corruption and when the restored data went live.
fn detected_and_restored(r: &RunResult) -> (f64, f64) {
    let detected = secs(first(r, "detected").at_s);
    let restored = secs(first(r, "restored").at_s);
    assert_eq!(r.detected.map(secs), Some(detected));
    assert!(restored > detected, "{:#?}", r.timeline);
    (detected, restored)
}

fn passed(topo: &Topology, r: &RunResult, name: &str) -> bool {
    let s = shipped(topo, "table-corruption", &[]);
    let report = summarize(topo, &s, r.seed, std::slice::from_ref(r));
    report
        .services
        .iter()
        .find(|sv| sv.name == name)
        .unwrap_or_else(|| panic!("{name} in the report"))
        .passed
}

#[test]
fn a_table_corruption_is_restored_from_the_last_clean_snapshot_losing_hours() {
    let (topo, r) = shipped_run();
    let accounts = service(r, topo, "accounts");
    assert!(!passed(topo, r, "accounts"));
    for other in ["game-state", "status-page"] {
        assert!(passed(topo, r, other), "{other}");
        let sv = service(r, topo, other);
        assert_eq!(
            (recovery(sv), sv.losses.count()),
            (Recovery::NeverBroke, 0),
            "{other}"
        );
    }
    // The snapshot before the damage is two hours older than it: so is the recovery point.
    let rpo = accounts.rpo().as_secs_f64();
    assert!((1.5 * HOUR..2.5 * HOUR).contains(&rpo), "RPO {rpo} s");
    let lost = &accounts.losses;
    assert!(lost.count() > 0);
    assert_eq!(
        lost.by(LossCause::Restore),
        lost.count(),
        "every lost write was discarded by the restore: {lost:?}"
    );
    assert_eq!(r.losses.count(), lost.count(), "nothing lost anywhere else");
    // Accounts came back, but after the restore: far outside the 15-minute target.
    let rto = accounts.rto().expect("accounts recovered").as_secs_f64();
    assert!(rto > 15.0 * MIN, "RTO {rto} s");
}

#[test]
fn the_timeline_tells_the_restore_step_by_step() {
    let (_, r) = shipped_run();
    let t0 = secs(r.t0.expect("a fault"));
    let corruption = first(r, "corruption");
    assert_eq!(secs(corruption.at_s), t0);
    let bad = number_after(&corruption.detail, "at LSN ");
    // Object Lock refused the attempt to delete the backups.
    let refusal = first(r, "retention");
    assert!(refusal.detail.contains("refused to delete"), "{refusal:?}");
    assert!(secs(refusal.at_s) > t0);
    // Users hit errors at once; their reports page the on-call 10 minutes on (at the
    // support desk's next reading), whose `corruption` runbook starts the restore: found
    // before the next scheduled integrity check (T+20m).
    let reports = first(r, "user_reports");
    assert_eq!(secs(reports.at_s) - t0, 12.0 * MIN);
    let detected = first(r, "detected");
    assert!(
        detected
            .detail
            .contains("when a runbook started the restore"),
        "{detected:?}"
    );
    assert_eq!(number_after(&detected.detail, "from LSN "), bad);
    let after = secs(detected.at_s) - t0;
    assert!(
        (12.0 * MIN..20.0 * MIN).contains(&after),
        "detected {after} s in"
    );
    // The snapshot comes from the vault, from before the damage.
    let restores = entries(r, "restore");
    let started = restores
        .iter()
        .find(|e| e.detail.contains(" restores "))
        .expect("a restore started");
    assert!(started.detail.contains("from backup-vault"), "{started:?}");
    assert!(number_after(&started.detail, "up to LSN ") < bad);
    assert!(!restores.iter().any(|e| e.detail.contains("gave up")));
    for step in ["provisioned", "downloaded", "redeployed", "verified"] {
        assert!(
            restores.iter().any(|e| e.detail.contains(step)),
            "no `{step}` step in {restores:#?}"
        );
    }
    // The plan: 10 to 15 minutes from a snapshot.
    let (detected, restored) = detected_and_restored(r);
    let took = restored - detected;
    assert!(
        (10.0 * MIN..=15.0 * MIN).contains(&took),
        "restore took {took} s"
    );
    assert!(first(r, "restored").detail.contains("as epoch 2"));
}

#[test]
fn discarding_writes_in_a_restore_is_no_durability_violation() {
    // PostgreSQL is synchronous and no machine was lost: the checker would flag any write
    // lost with machines, and the restore's are not that.
    let (topo, r) = shipped_run();
    assert!(service(r, topo, "accounts").losses.by(LossCause::Restore) > 0);
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn point_in_time_recovery_loses_only_what_was_written_after_the_bad_transaction() {
    let (topo, snapshot) = shipped_run();
    let pitr = with_wal_archive();
    let r = run(&pitr, &shipped(&pitr, "table-corruption", &[]));
    let accounts = service(&r, &pitr, "accounts");
    let lost = &accounts.losses;
    let before = &service(snapshot, topo, "accounts").losses;
    assert!(
        lost.count() > 0,
        "writes after the damage are still discarded"
    );
    assert!(
        lost.count() * 5 < before.count(),
        "PITR lost {} writes, the snapshot {}",
        lost.count(),
        before.count()
    );
    assert_eq!(lost.by(LossCause::Restore), lost.count());
    assert_eq!(
        lost.acked_after_t0,
        lost.count(),
        "every write acknowledged before the bad transaction survived"
    );
    // What is lost is what was written between the bad transaction and the freeze: the RPO
    // is that window, far shorter than the snapshot's two hours.
    let rpo = accounts.rpo().as_secs_f64();
    let (corrupted, detected) = (150.0 * MIN, detected_and_restored(&r).0);
    assert!(
        rpo <= detected - corrupted + 1.0 && rpo > (detected - corrupted) * 0.9,
        "RPO {rpo} s, freeze {} s after the damage",
        detected - corrupted
    );
    assert!(rpo < service(snapshot, topo, "accounts").rpo().as_secs_f64() / 4.0);
    // Replayed to the entry just before the bad one.
    let bad = number_after(&first(&r, "corruption").detail, "at LSN ");
    let started = entries(&r, "restore")
        .into_iter()
        .find(|e| e.detail.contains(" restores "))
        .expect("a restore started");
    assert_eq!(number_after(&started.detail, "up to LSN "), bad - 1);
    assert!(
        entries(&r, "restore")
            .iter()
            .any(|e| e.detail.contains("WAL replayed"))
    );
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn with_the_vault_gone_the_runbook_restores_the_cold_archive_in_one_to_two_hours() {
    // The vault's node crashes after the corruption but before anyone notices. (Losing all
    // of us-west-2 would also take the DCS, so PostgreSQL would have no primary and the
    // runbook nothing to watch.)
    let topo = topology("ftm-games", &[]);
    let r = variant(
        &topo,
        300,
        "Fault(at: \"160m\", kind: NodeCrash(\"backup-vault\")),",
    );
    let crash = r
        .timeline
        .iter()
        .find(|e| e.kind == "fault" && e.detail.contains("backup-vault crashed"))
        .expect("the crash");
    let (detected, restored) = detected_and_restored(&r);
    assert!(secs(crash.at_s) < detected, "crashed before detection");
    let started = entries(&r, "restore")
        .into_iter()
        .find(|e| e.detail.contains(" restores "))
        .expect("a restore started");
    assert!(
        started.detail.contains("full archive") && started.detail.contains("from cold-archive"),
        "{started:?}"
    );
    // The plan: one to two hours from a full archive (cold retrieval, 15 MiB/s).
    let took = restored - detected;
    assert!((HOUR..2.0 * HOUR).contains(&took), "restore took {took} s");
    let accounts = service(&r, &topo, "accounts");
    assert!(accounts.rto().is_some(), "accounts came back");
    // The weekly archive is older than the snapshot: more is lost.
    let rpo = accounts.rpo().as_secs_f64();
    let (snap_topo, snapshot) = shipped_run();
    let snapshot_rpo = service(snapshot, snap_topo, "accounts").rpo().as_secs_f64();
    assert!(rpo > snapshot_rpo, "archive RPO {rpo} s");
    assert_eq!(
        accounts.losses.by(LossCause::Restore),
        accounts.losses.count()
    );
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn a_vault_lost_during_the_download_is_abandoned_for_the_cold_archive() {
    // The vault crashes while its snapshot downloads: the missing chunk times out and the
    // runbook turns to the next source, already provisioned.
    let topo = topology("ftm-games", &[]);
    let r = variant(
        &topo,
        300,
        "Fault(at: \"172m\", kind: NodeCrash(\"backup-vault\")),",
    );
    let restores = entries(&r, "restore");
    let pos = |what: &str| {
        restores
            .iter()
            .position(|e| e.detail.contains(what))
            .unwrap_or_else(|| panic!("no `{what}` in {restores:#?}"))
    };
    let gave_up = pos("gave up on the snapshot");
    assert!(restores[gave_up].detail.contains("at backup-vault"));
    assert!(pos("from backup-vault") < pos("provisioned"));
    assert!(pos("provisioned") < gave_up && gave_up < pos("from cold-archive"));
    assert_eq!(
        restores
            .iter()
            .filter(|e| e.detail.contains("provisioned"))
            .count(),
        1
    );
    let (detected, restored) = detected_and_restored(&r);
    let took = restored - detected;
    assert!((HOUR..2.0 * HOUR).contains(&took), "restore took {took} s");
    assert!(service(&r, &topo, "accounts").rto().is_some());
}

#[test]
fn without_a_runbook_the_corruption_stays_and_destroys_writes() {
    let topo = without_recovery();
    let r = run(&topo, &shipped(&topo, "table-corruption", &[]));
    let accounts = service(&r, &topo, "accounts");
    // A quarter of the rows stay damaged: a quarter of the writes keep failing.
    assert_eq!(recovery(accounts), Recovery::NotRecovered);
    assert!(!passed(&topo, &r, "accounts"));
    let lost = &accounts.losses;
    assert!(lost.count() > 0);
    assert_eq!(lost.by(LossCause::Corruption), lost.count(), "{lost:?}");
    for kind in ["detected", "restore", "restored"] {
        assert!(entries(&r, kind).is_empty(), "{kind}");
    }
    assert!(passed(&topo, &r, "game-state"));
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

#[test]
fn a_bad_migration_during_the_restore_freeze_is_refused() {
    // Writes are frozen from detection to the switch: a second bad transaction in that window
    // is refused like any write, and nothing is recorded as committed.
    let topo = topology("ftm-games", &[]);
    let r = variant(
        &topo,
        210,
        "Fault(at: \"170m\", kind: TableCorruption(datastore: \"postgres\", share: 0.25)),",
    );
    let (detected, restored) = detected_and_restored(&r);
    assert!((detected..restored).contains(&(170.0 * MIN)));
    assert_eq!(
        entries(&r, "corruption").len(),
        1,
        "{:#?}",
        entries(&r, "corruption")
    );
    let (snap_topo, snapshot) = shipped_run();
    let (a, b) = (
        service(&r, &topo, "accounts"),
        service(snapshot, snap_topo, "accounts"),
    );
    assert_eq!((&a.losses, a.writes), (&b.losses, b.writes));
}

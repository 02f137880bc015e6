//! The incident response of the reference topology's operations team: alerts page the on-call
//! engineer, who follows the database runbook (verify, fail over by hand, post to the status
//! page), and the RTO the clients measure includes those human steps.

use super::support::*;
use gameday::run::RunResult;
use gameday::sim::time::{SimDuration, SimTime};

/// The response's steps of run `r` as T+ durations, in the plan's order (`None`: never).
fn steps(r: &RunResult) -> [Option<SimDuration>; 7] {
    let x = r.response;
    let t0 = r.t0.expect("a fault");
    [
        x.alerted,
        x.paged,
        x.acknowledged,
        x.status_page,
        x.failover,
        x.restored,
        x.all_clear,
    ]
    .map(|t| t.map(|t| t.saturating_since(t0)))
}

fn has(r: &RunResult, kind: &str, words: &str) -> bool {
    r.timeline
        .iter()
        .any(|e| e.kind == kind && e.detail.contains(words))
}

#[test]
fn region_loss_is_recovered_by_hand_and_the_response_runs_in_the_plans_order() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &shipped(&topo, "region-loss", &[]));
    let [alert, page, ack, post, failover, restored, all_clear] = steps(&r);
    let [alert, page, ack, post, failover, restored] =
        [alert, page, ack, post, failover, restored].map(|s| s.expect("reached"));
    assert_eq!(
        all_clear, None,
        "us-east-1 never returns: the alerts never resolve"
    );
    assert!(
        alert <= page && page <= ack && ack <= post && post <= failover && failover <= restored,
        "{:?}",
        steps(&r)
    );
    assert!(has(&r, "manual_failover", "dcs promoted pg-west by hand"));
    assert!(has(&r, "verified", "it has no leader"));
    // The restored step is the accounts outage's measured end, not an estimate.
    let accounts = service(&r, &topo, "accounts");
    let end = accounts
        .outages
        .last()
        .and_then(|o| o.end)
        .expect("recovered");
    assert_eq!(r.response.restored, Some(end));
    assert!(
        accounts.rto().unwrap() > ack,
        "the human steps are in the RTO"
    );
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);

    // Without the people, the same fault leaves accounts down: the team is what recovers it.
    let alone = machines_only();
    let r = run(
        &alone,
        &shipped(&alone, "region-loss", &[NO_RESPONSE_TARGETS]),
    );
    assert_eq!(
        recovery(service(&r, &alone, "accounts")),
        Recovery::NotRecovered
    );
    assert_eq!(r.response.acknowledged, None);
}

#[test]
fn zone_loss_takes_the_verify_only_path() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &shipped(&topo, "zone-loss", &[]));
    assert!(has(&r, "verified", "it has a leader: failover verified"));
    assert!(has(
        &r,
        "runbook_step",
        "fail postgres over by hand to pg-west or pg-b or pg-c (if postgres has no leader): skipped"
    ));
    assert!(!r.timeline.iter().any(|e| e.kind == "manual_failover"));
    // The automatic failover came first: the failover step is the controller's promotion.
    assert!(r.response.failover < r.response.acknowledged);
}

#[test]
fn a_manual_failover_across_a_partition_loses_writes_counted_as_rpo_not_as_a_protocol_fault() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &shipped(&topo, "region-partition", &[]));
    assert!(has(&r, "manual_failover", "pg-west"));
    let accounts = service(&r, &topo, "accounts");
    assert!(
        accounts.losses.count() > 0,
        "pg-a's last commits are rewound"
    );
    assert!(accounts.rpo() > SimDuration::ZERO);
    // The operator overrode the quorum rule: not a replication safety violation.
    assert!(r.safety_violations.is_empty(), "{:?}", r.safety_violations);
}

/// prom-usw2 sees us-east-1 dark across the partition, so the regional runbook drains it at
/// DNS (routing control Off): North American players move to us-west-2, which cannot reach
/// the Redis master in us-east-1. Game state breaks from the drain on, until the link heals,
/// and the routing control is turned On again in the all-clear. Without the drain step, game
/// state never breaks: the runbook, not the partition, is what costs it.
#[test]
fn draining_a_partitioned_region_at_dns_moves_players_away_from_the_redis_master() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &shipped(&topo, "region-partition", &[]));
    let at = |kind: &str, words: &str| {
        r.timeline
            .iter()
            .find(|e| e.kind == kind && e.detail.contains(words))
            .unwrap_or_else(|| panic!("no {kind} `{words}`"))
            .at_s
    };
    let drained = at("routing_control", "alb-us-east-1 turned Off");
    let broke = at("outage", "game-state");
    let healed = at("fault_end", "partition");
    assert!(broke > drained && broke < drained + SimDuration::from_secs(10));
    let back = at("recovered", "game-state");
    assert!(
        back + SimDuration::from_secs(5) > healed && back < healed + SimDuration::from_secs(60)
    );
    assert!(at("routing_control", "alb-us-east-1 turned On") > back);
    assert!(has(
        &r,
        "public_post",
        "posted 'identified' on x.com/ftmgames"
    ));

    let drain = "Step(do: RoutingControl(endpoint: \"alb-us-east-1\", state: Off),";
    let no_drain = topology(
        "ftm-games",
        &[(
            drain,
            "Step(do: Post(channel: \"x.com/ftmgames\", stage: Investigating),",
        )],
    );
    let r = run(&no_drain, &shipped(&no_drain, "region-partition", &[]));
    assert_eq!(
        recovery(service(&r, &no_drain, "game-state")),
        Recovery::NeverBroke
    );
}

#[test]
fn a_slow_acknowledgement_at_night_alone_breaks_the_targets_and_check_says_when() {
    let (code, out, err) = gameday(&["check", "scenarios/region-loss-at-night.ron", "-q"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("response: acknowledged at T+")
            && out.contains("after its acknowledge target T+2m"),
        "{out}"
    );
    assert!(
        out.contains("after its restored target T+15m")
            || out.contains("never restored every service (target T+15m)"),
        "{out}"
    );
    // By day the same scenario meets them.
    let (code, out, err) = gameday(&["check", "scenarios/region-loss.ron", "-q"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn the_automation_runs_the_same_runbook_with_its_own_delays() {
    let manual = topology("ftm-games", &[]);
    let automated = topology(
        "ftm-games",
        &[(
            "automation: None,",
            "automation: Some(\"runbook-automation\"),",
        )],
    );
    let rm = run(&manual, &shipped(&manual, "region-loss", &[]));
    let ra = run(&automated, &shipped(&automated, "region-loss", &[]));
    assert!(has(
        &ra,
        "runbook",
        "runbook-automation started runbook database-failover"
    ));
    assert!(has(&ra, "manual_failover", "pg-west"));
    let rto = |r: &RunResult, t| service(r, t, "accounts").rto().expect("recovered");
    assert!(
        rto(&ra, &automated) + SimDuration::from_secs(120) < rto(&rm, &manual),
        "automated {} vs manual {}",
        rto(&ra, &automated),
        rto(&rm, &manual)
    );
}

#[test]
fn the_time_the_status_page_called_failing_accounts_operational_is_measured() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &shipped(&topo, "region-loss", &[]));
    let k = r
        .services
        .iter()
        .position(|s| s.service == topo.service("accounts").unwrap())
        .unwrap();
    let posted = r
        .timeline
        .iter()
        .find(|e| e.kind == "status_page" && e.detail.contains("accounts major outage"))
        .expect("posted")
        .at_s;
    let start = r.services[k].outages[0].start;
    assert_eq!(r.silent[k], posted.saturating_since(start));
    // A service nobody posted about was called operational for its whole outage.
    let gs = r
        .services
        .iter()
        .position(|s| s.service == topo.service("game-state").unwrap())
        .unwrap();
    let outage = r.services[gs].outages[0].duration().unwrap();
    assert_eq!(r.silent[gs], outage);
}

#[test]
fn losing_the_dcs_region_leaves_the_runbook_unable_to_check_or_fail_over() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &shipped(&topo, "us-west-2-loss", &[]));
    assert!(has(
        &r,
        "runbook_step",
        "check the postgres cluster: not done: its check went unanswered"
    ));
    assert_eq!(
        recovery(service(&r, &topo, "accounts")),
        Recovery::NotRecovered
    );
    assert_eq!(
        r.response.restored, None,
        "never restored while accounts are down"
    );
    assert!(r.response.acknowledged.is_some(), "prom-euw1 still pages");
    assert!(r.t0.unwrap() < SimTime::from_secs(3600));
}

/// Edits of the reference topology's runbooks, each refused with this message.
const BAD_RUNBOOKS: &[(&str, &str, &str)] = &[
    (
        "on: [\"UsEast1InstanceDown\",",
        "on: [\"NoSuchAlert\",",
        "no monitoring server has an alert of this name",
    ),
    (
        "candidates: [\"pg-west\",",
        "candidates: [\"redis-usw2\",",
        "this node is not a member of `postgres`",
    ),
    (
        "when: Some(NoLeader(\"postgres\")), takes: LogNormal(median: \"3m\"",
        "when: Some(NoLeader(\"redis\")), takes: LogNormal(median: \"3m\"",
        "both must name the same datastore",
    ),
    (
        "candidates: [\"pg-west\", \"pg-b\", \"pg-c\"]",
        "candidates: []",
        "name at least one candidate",
    ),
    (
        "Step(do: CheckCluster(\"postgres\")",
        "Step(do: CheckCluster(\"cache\")",
        "no such datastore",
    ),
    (
        "Step(do: Update(Monitoring),",
        "Step(do: RoutingControl(endpoint: \"pg-a\", state: Off),",
        "not one of the DNS endpoints",
    ),
    (
        "Step(do: Update(Monitoring),",
        "Step(do: Maintenance(rpc: \"solana\", on: true),",
        "no such blockchain RPC",
    ),
    (
        "integrity_check: (every: \"1h\", at: \"50m\"),",
        "integrity_check: (every: \"1h\", at: \"50m\"), user_report_after: \"15m\",",
        "leave `user_report_after` out",
    ),
    (
        "Step(do: Update(Monitoring),",
        "Step(do: Restore(\"redis\"),",
        "no `recovery` in its `backup`",
    ),
    (
        "Step(do: Update(Monitoring),",
        "Step(do: Failover(datastore: \"redis\", candidates: [\"redis-usw2\"]),",
        "`SENTINEL FAILOVER` takes no candidate",
    ),
    (
        "Status(component: \"accounts\", state: MajorOutage)",
        "Status(component: \"billing\", state: MajorOutage)",
        "no such service",
    ),
    (
        "status_page: Some(StatusPage(node: \"statuspage-api\")),",
        "",
        "posting needs a `status_page`",
    ),
    (
        "takes: Fixed(\"30s\"),",
        "takes: Uniform(low: \"2m\", high: \"1m\"),",
        "`low` is above `high`",
    ),
];

#[test]
fn bad_runbooks_are_refused_with_their_place_in_the_file() {
    let text = read("topologies/ftm-games.ron");
    for &(from, to, what) in BAD_RUNBOOKS {
        let p = temp_file(
            "runbooks",
            &format!("{:08x}.ron", gameday::sim::rng::stable_hash(to)),
            &edit(&text, &[(from, to)]),
        );
        let (code, _, err) = gameday(&["validate", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("{}:", p.display())) && err.contains(what),
            "{what}: {err}"
        );
    }
}

#[test]
fn the_report_shows_the_response_against_the_plan() {
    let dir = std::env::temp_dir().join(format!("gameday-incident-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let (code, _, err) = gameday(&[
        "run",
        "scenarios/region-loss-at-night.ron",
        "-q",
        "--out",
        out,
    ]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains("| step | p50 | p95 | plan | against the plan |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| acknowledge | T+7m38s | T+7m38s | T+2m | missed in 1 of 1: late by up to 5m38s |"
        ),
        "{md}"
    );
    assert!(
        md.contains("still said \"operational\" for a failing service"),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<h3>Incident response (T = first fault, 1 run)</h3>"));
    assert!(html.contains("<td class=\"fail\">missed in 1 of 1: late by up to 5m38s</td>"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_plans_fifty_percent_error_alert_misses_the_corruption_until_writes_are_frozen() {
    let topo = topology("ftm-games", &[]);
    let r = run(&topo, &shipped(&topo, "table-corruption", &[]));
    let at = |kind: &str, words: &str| {
        r.timeline
            .iter()
            .find(|e| e.kind == kind && e.detail.contains(words))
            .unwrap_or_else(|| panic!("no {kind} `{words}`"))
            .at_s
    };
    let corrupted = at("corruption", "committed a bad transaction");
    let frozen = at("detected", "writes frozen");
    let alert = at("alert", "ApiErrorsAws firing");
    // A quarter of the account writes fail from the corruption on: under the plan's 50 %.
    assert!(frozen > corrupted + SimDuration::from_secs(600));
    assert!(alert > frozen, "alert {alert} before the freeze {frozen}");
    // Within a scrape, an evaluation and the rule's `for` of the freeze.
    assert!(
        alert <= frozen + SimDuration::from_secs(90),
        "{alert} vs {frozen}"
    );
}

#[test]
fn junit_has_a_failing_case_for_each_missed_response_target() {
    let dir = std::env::temp_dir().join(format!("gameday-incident-junit-{}", std::process::id()));
    let junit = dir.join("junit.xml");
    let (code, _, err) = gameday(&[
        "check",
        "scenarios/region-loss-at-night.ron",
        "-q",
        "--out",
        dir.join("report").to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(
        x.contains("<failure message=\"latest T+7m38s; met in 0 of 1 runs\" type=\"TargetMissed\">response: acknowledge by T+2m in every run"),
        "{x}"
    );
    assert!(
        x.contains("name=\"response: restored by T+15m in every run\""),
        "{x}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn with_monitoring_dark_only_user_reports_start_the_incident() {
    let topo = topology("ftm-games", &[]);
    let s = shipped(&topo, "monitoring-dark", &[]);
    let r = run(&topo, &s);
    assert!(
        !r.timeline.iter().any(|e| e.kind == "alert"),
        "monitoring is dark"
    );
    assert!(has(
        &r,
        "user_reports",
        "support-desk: users' complaints reach the on-call"
    ));
    assert!(has(
        &r,
        "incident",
        "opened for alert UserReports on the support desk"
    ));
    // The complaints must last report_after (10 min): the response starts that much later.
    let t0 = SimTime::from_secs(600);
    let alerted = r
        .response
        .alerted
        .expect("users report")
        .saturating_since(t0);
    assert!(alerted >= SimDuration::from_secs(600), "{alerted}");
    assert!(
        has(&r, "manual_failover", "pg-west"),
        "the runbook still runs"
    );
    let accounts = service(&r, &topo, "accounts");
    assert!(accounts.rto().expect("recovered") > alerted);
}

/// The response targets apply to runs in which users saw an outage: a chain halt that pages
/// nobody fails them (and the report says "never" beside the plan, though nothing alerted),
/// while a provider outage the balancer hides needs no response and passes.
#[test]
fn response_targets_hold_where_users_saw_an_outage_and_only_there() {
    let (code, out, err) = gameday(&["check", "scenarios/chain-halt.ron", "-q"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("response T+ (p50 / p95): acknowledge never · status page never")
            && out.contains("seed 1: response: never acknowledged (target T+2m)"),
        "{out}"
    );
    let dir = std::env::temp_dir().join(format!("gameday-no-outage-{}", std::process::id()));
    let (code, out, err) = gameday(&[
        "check",
        "scenarios/rpc-provider-outage.ron",
        "-q",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains("| acknowledge | never | never | T+2m | not needed: users saw no outage |"),
        "{md}"
    );
    assert!(!md.contains("still said \"operational\""), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

//! Monitoring: Prometheus servers placed on nodes scrape `up`, alerting rules fire and
//! resolve in the timeline at the instants their `for` and intervals dictate, and a server
//! that goes dark with its zone fires nothing.

use super::support::*;

/// ftm-games (its machines only) with two Prometheus servers, one in us-east-1b and one in us-west-2b, each
/// scraping us-east-1a's nodes with a zone-down and a node-down rule.
fn monitored_text() -> String {
    let server = |name: &str, node: &str| {
        format!(
            r#"Prometheus(
            name: "{name}", node: "{node}", scrape: [Zone("us-east-1a")],
            scrape_interval: "15s", scrape_timeout: "10s", evaluation_interval: "15s",
            rules: [
                Rule(alert: "ZoneDown", expr: AllDown(Zone("us-east-1a")), for: "1m"),
                Rule(alert: "PostgresDown", expr: AnyDown(Zone("us-east-1a")), keep_firing_for: "5m"),
            ],
        ),"#
        )
    };
    let section = format!(
        "    monitoring: [\n        {}\n        {}\n    ],\n    clients: [",
        server("prom-use1", "prom-use1b"),
        server("prom-usw2", "prom-usw2b")
    );
    edit(
        &machines_only_text(),
        &[
            (
                "        Node(name: \"pg-a\", zone: \"us-east-1a\"),",
                "        Node(name: \"pg-a\", zone: \"us-east-1a\"),\n        Node(name: \"prom-use1b\", zone: \"us-east-1b\"),\n        Node(name: \"prom-usw2b\", zone: \"us-west-2b\"),",
            ),
            ("    clients: [", &section),
        ],
    )
}

/// A topology from text, as if it were ftm-games.
fn parse(text: &str) -> gameday::model::topology::Topology {
    use gameday::model::{Source, topology::Topology};
    Topology::from_source(Source::inline("topologies/ftm-games.ron", text))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn monitored() -> gameday::model::topology::Topology {
    parse(&monitored_text())
}

/// `text` validated by the CLI from a file: it must be refused (exit 2) with an error at its
/// file, line and column; the error.
fn refused(tag: &str, text: &str) -> String {
    // Named after its text: tests running in parallel never share a file.
    let name = format!("{:016x}.ron", gameday::sim::rng::stable_hash(text));
    let p = temp_file(tag, &name, text);
    let (code, _, err) = gameday(&["validate", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{}:", p.display())), "{err}");
    err
}

/// Scenario `text` (as file `s.ron`) must be refused against `topo`, with an error at its
/// line and column; the error.
fn scenario_refused(topo: &gameday::model::topology::Topology, text: &str) -> String {
    let source = gameday::model::Source::inline("s.ron", text);
    let err = gameday::model::scenario::ParsedScenario::from_source(source)
        .and_then(|p| p.resolve(topo))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("s.ron:"), "{err}");
    err
}

/// The monitored topology with 60,000 more nodes in the scraped zone.
fn crowded_text() -> String {
    edit(
        &monitored_text(),
        &[(
            "        Node(name: \"prom-use1b\", zone: \"us-east-1b\"),",
            "        Node(name: \"prom-use1b\", zone: \"us-east-1b\"),\n        Node(name: \"worker\", zone: \"us-east-1a\", count: 60000),",
        )],
    )
}

fn zone_loss(fault: &str) -> String {
    format!(
        r#"Scenario(
    name: "monitored-zone-loss",
    topology: "ftm-games",
    duration: "15m",
    seed: 7,
    workload: [
        Clients(clients: "players-na", service: "accounts", writes: Poisson("100ms"), timeout: "5s", retries: 1),
    ],
    faults: [{fault}],
    targets: (rto: "15m", rpo: "0s"),
)"#
    )
}

/// The timeline's alert lines as (seconds, kind, detail).
fn alerts(r: &gameday::run::judge::RunResult) -> Vec<(f64, &'static str, String)> {
    r.timeline
        .iter()
        .filter(|e| e.kind.starts_with("alert"))
        .map(|e| (e.at_s.as_secs_f64(), e.kind, e.detail.clone()))
        .collect()
}

#[test]
fn a_zone_loss_fires_its_alerts_after_for_and_resolves_them_after_keep_firing_for() {
    let topo = monitored();
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let r = run(&topo, &scenario(&topo, &zone_loss(fault)));
    let seen = alerts(&r);
    let at = |detail: &str| {
        seen.iter()
            .find(|a| a.2 == detail)
            .unwrap_or_else(|| panic!("`{detail}` missing from {seen:?}"))
            .0
    };
    // Scrapes at 0, 15, …, 120 s: the zone is lost at 120 s exactly, so the 120 s scrape
    // times out at 130 s (up = 0); the evaluation at 135 s sees it. PostgresDown has no
    // `for`: it fires at 135 s. ZoneDown must hold for 1 m: active at 135 s, firing at 195 s.
    for server in ["prom-use1", "prom-usw2"] {
        assert_eq!(at(&format!("alert PostgresDown firing on {server}")), 135.0);
        assert_eq!(at(&format!("alert ZoneDown firing on {server}")), 195.0);
        // Back at 360 s: the 360 s scrape is answered; the 375 s evaluation sees it.
        // ZoneDown resolves then; PostgresDown is kept firing 5 m more (until 675 s).
        assert_eq!(at(&format!("alert ZoneDown resolved on {server}")), 375.0);
        assert_eq!(
            at(&format!("alert PostgresDown resolved on {server}")),
            675.0
        );
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
}

#[test]
fn a_server_that_goes_dark_with_its_zone_fires_nothing() {
    let topo = monitored();
    // us-east-1b holds prom-use1: both the scraped zone and that server go.
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),
        Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1b")),"#;
    let r = run(&topo, &scenario(&topo, &zone_loss(fault)));
    let seen = alerts(&r);
    assert!(
        seen.iter().all(|a| a.2.ends_with("on prom-usw2")),
        "only the server that stayed up alerts: {seen:?}"
    );
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[test]
fn a_blip_shorter_than_for_does_not_fire_the_zone_alert() {
    let topo = monitored();
    let fault = r#"Fault(at: "2m", duration: "30s", kind: ZoneLoss("us-east-1a")),"#;
    let r = run(&topo, &scenario(&topo, &zone_loss(fault)));
    let seen = alerts(&r);
    assert!(
        seen.iter().all(|a| !a.2.contains("ZoneDown")),
        "30 s down is shorter than `for: 1m`: {seen:?}"
    );
    assert!(seen.iter().any(|a| a.2.contains("PostgresDown firing")));
}

/// The monitored topology's text with one edit, refused with an error naming `what`.
fn rejected(from: &str, to: &str, what: &[&str]) {
    let err = refused("monitoring", &edit(&monitored_text(), &[(from, to)]));
    for w in what {
        assert!(err.contains(w), "`{w}` missing from {err}");
    }
}

#[test]
fn bad_monitoring_settings_are_rejected_with_their_place_in_the_file() {
    rejected(
        "scrape_timeout: \"10s\"",
        "scrape_timeout: \"20s\"",
        &["`scrape_timeout` must not be longer than `scrape_interval`"],
    );
    rejected(
        "expr: AllDown(Zone(\"us-east-1a\"))",
        "expr: AllDown(Zone(\"us-west-2a\"))",
        &["us-west-2a", "this server scrapes no node here"],
    );
    rejected(
        "Rule(alert: \"PostgresDown\"",
        "Rule(alert: \"ZoneDown\"",
        &["ZoneDown", "this alert name is used twice"],
    );
    rejected(
        "node: \"prom-use1b\"",
        "node: \"pg-a\"",
        &["pg-a", "this node already has another role"],
    );
    rejected(
        "scrape: [Zone(\"us-east-1a\")],",
        "scrape: [Zone(\"us-east-9z\")],",
        &["us-east-9z", "no such place"],
    );
}

#[test]
fn the_estimate_counts_scrapes_and_stays_a_lower_bound() {
    let topo = monitored();
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let s = scenario(&topo, &zone_loss(fault));
    let estimate = gameday::model::cost::estimate(&topo, &s);
    let scrapes: Vec<_> = estimate
        .items
        .iter()
        .filter(|i| i.what.starts_with("Prometheus"))
        .collect();
    assert_eq!(scrapes.len(), 2, "{:?}", estimate.items);
    // 60 rounds of 15 s in 15 m: 2 timers each, 59 evaluations, and scrapes to us-east-1a's
    // nodes until the zone is lost at 2 m (8 rounds).
    let targets = topo.monitoring[0].spec.targets.len() as u64;
    assert_eq!(scrapes[0].events, 2 * 60 + 59 + 8 * targets);
    let r = run(&topo, &s);
    assert!(
        estimate.events() <= r.events,
        "{} vs {}",
        estimate.events(),
        r.events
    );
}

/// The monitored topology with a paging service and two responders in the `ops` provider:
/// alice first (5 min), then bob (10 min).
fn paged_text(alice: &str) -> String {
    let paging = format!(
        r#"    paging: Some(PagerDuty(
        node: "pagerduty",
        escalation_policy: (rules: [
            Rule(escalation_delay_in_minutes: 5, targets: ["oncall-alice"]),
            Rule(escalation_delay_in_minutes: 10, targets: ["oncall-bob"]),
        ]),
        responders: [
            Responder(node: "oncall-alice", acknowledge: {alice}),
            Responder(node: "oncall-bob", acknowledge: Fixed("1m")),
        ],
    )),
    clients: ["#
    );
    edit(
        &monitored_text(),
        &[
            (
                "        Node(name: \"prom-use1b\", zone: \"us-east-1b\"),",
                "        Node(name: \"prom-use1b\", zone: \"us-east-1b\"),\n        Node(name: \"pagerduty\", zone: \"ops-a\"),\n        Node(name: \"oncall-alice\", zone: \"ops-a\"),\n        Node(name: \"oncall-bob\", zone: \"ops-a\"),",
            ),
            ("    clients: [", &paging),
        ],
    )
}

fn paged(alice: &str) -> gameday::model::topology::Topology {
    parse(&paged_text(alice))
}

/// When the timeline says `detail` first (in seconds).
fn when(r: &gameday::run::judge::RunResult, detail: &str) -> f64 {
    r.timeline
        .iter()
        .find(|e| e.detail == detail)
        .unwrap_or_else(|| panic!("`{detail}` missing from {:#?}", r.timeline))
        .at_s
        .as_secs_f64()
}

#[test]
fn an_alert_opens_an_incident_pages_the_first_rule_and_its_responder_acknowledges() {
    let topo = paged("Fixed(\"3m\")");
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let r = run(&topo, &scenario(&topo, &zone_loss(fault)));
    // Incidents are numbered in the order the two servers' alerts reached the service.
    let opened = when(&r, "incident 1 opened for alert PostgresDown on prom-use1");
    assert!((135.0..136.0).contains(&opened), "{opened}");
    let paged = when(&r, "paged oncall-alice for incident 1 (escalation rule 1)");
    assert_eq!(paged, opened);
    let acked = when(&r, "oncall-alice acknowledged incident 1");
    // Three minutes after the page reached her phone, plus the way there and back.
    assert!(
        (180.0..181.0).contains(&(acked - paged)),
        "{paged} → {acked}"
    );
    // Acknowledged within 5 minutes: bob is never paged for it.
    assert!(
        !r.timeline
            .iter()
            .any(|e| e.detail.contains("paged oncall-bob"))
    );
    // PostgresDown resolves at 675 s (keep_firing_for 5m): so does its incident.
    assert!((675.0..676.0).contains(&when(&r, "incident 1 resolved")));
}

#[test]
fn a_responder_who_does_not_answer_is_escalated_past_after_the_rules_delay() {
    let topo = paged("Fixed(\"3m\")");
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),
        Fault(at: "0s", kind: NodeCrash("oncall-alice")),"#;
    let r = run(&topo, &scenario(&topo, &zone_loss(fault)));
    let alice = when(&r, "paged oncall-alice for incident 1 (escalation rule 1)");
    let bob = when(&r, "paged oncall-bob for incident 1 (escalation rule 2)");
    assert_eq!(bob - alice, 300.0, "escalation_delay_in_minutes: 5");
    let acked = when(&r, "oncall-bob acknowledged incident 1");
    assert!((60.0..61.0).contains(&(acked - bob)), "{bob} → {acked}");
}

#[test]
fn bad_paging_settings_are_rejected_with_their_place_in_the_file() {
    let text = paged_text("LogNormal(median: \"1m\", p95: \"4m\")");
    for (from, to, what) in [
        (
            "targets: [\"oncall-bob\"]",
            "targets: [\"prom-usw2b\"]",
            "this node is not a responder",
        ),
        (
            "escalation_delay_in_minutes: 5,",
            "escalation_delay_in_minutes: 0,",
            "at least 1 minute",
        ),
        (
            "p95: \"4m\"",
            "p95: \"30s\"",
            "`p95` must be above `median`",
        ),
    ] {
        let err = refused("paging", &edit(&text, &[(from, to)]));
        assert!(err.contains(what), "{err}");
    }
}

/// The paged topology with Alertmanager on its own node in `ops-a`.
fn grouped(group_by: &str, alice: &str) -> gameday::model::topology::Topology {
    let text = edit(
        &paged_text(alice),
        &[
            (
                "        Node(name: \"pagerduty\", zone: \"ops-a\"),",
                "        Node(name: \"pagerduty\", zone: \"ops-a\"),\n        Node(name: \"alertmanager\", zone: \"ops-a\"),",
            ),
            (
                "    paging: Some(",
                &format!(
                    "    alertmanager: Some(Alertmanager(node: \"alertmanager\", group_by: {group_by}, group_wait: \"30s\", group_interval: \"5m\")),\n    paging: Some("
                ),
            ),
        ],
    );
    parse(&text)
}

#[test]
fn alertmanager_makes_one_incident_per_alert_name_after_group_wait() {
    let topo = grouped("[\"alertname\"]", "Fixed(\"3m\")");
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let r = run(&topo, &scenario(&topo, &zone_loss(fault)));
    // Both servers' PostgresDown fire at 135 s: one group, flushed 30 s after the first.
    let first = when(
        &r,
        "incident 1 opened for alert PostgresDown on alertmanager",
    );
    assert!((165.0..166.0).contains(&first), "{first}");
    // ZoneDown fires at 195 s: its own group, at 225 s.
    let second = when(&r, "incident 2 opened for alert ZoneDown on alertmanager");
    assert!((225.0..226.0).contains(&second), "{second}");
    let opened = r.timeline.iter().filter(|e| e.kind == "incident").count();
    assert_eq!(opened, 2, "{:#?}", r.timeline);
    // ZoneDown resolves on both servers at 375 s; the group is flushed every 5 m from 225 s,
    // so the resolve goes out at 525 s.
    let resolved = when(&r, "incident 2 resolved");
    assert!((525.0..526.0).contains(&resolved), "{resolved}");
}

#[test]
fn alertmanager_without_grouping_makes_one_incident_for_all_alerts() {
    let topo = grouped("[]", "Fixed(\"3m\")");
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let r = run(&topo, &scenario(&topo, &zone_loss(fault)));
    when(&r, "incident 1 opened for alert all alerts on alertmanager");
    let opened = r.timeline.iter().filter(|e| e.kind == "incident").count();
    assert_eq!(opened, 1, "{:#?}", r.timeline);
}

#[test]
fn rules_naming_too_many_targets_are_rejected_before_they_are_built() {
    // 60,000 nodes in us-east-1a: scraped (under 100,000), but the two rules of the first
    // server name 120,000 targets.
    let err = refused("monitoring-limits", &crowded_text());
    assert!(
        err.contains("`PostgresDown`") && err.contains("more than 100000 targets"),
        "{err}"
    );
}

#[test]
fn servers_scraping_too_many_targets_are_rejected() {
    // Two servers of 60,000 targets each, no rules: 120,000 scraped in all.
    let text = crowded_text()
        .replace(
            "                Rule(alert: \"ZoneDown\", expr: AllDown(Zone(\"us-east-1a\")), for: \"1m\"),\n",
            "",
        )
        .replace(
            "                Rule(alert: \"PostgresDown\", expr: AnyDown(Zone(\"us-east-1a\")), keep_firing_for: \"5m\"),\n",
            "",
        );
    let err = refused("monitoring-limits", &text);
    assert!(
        err.contains("`prom-usw2`") && err.contains("more than the limit of 100000"),
        "{err}"
    );
}

#[test]
fn the_response_is_measured_t_plus_the_fault_per_run_and_over_runs() {
    use gameday::report::summary::{SuiteReport, summarize};
    // One incident for all alerts (Alertmanager, group_wait 30 s): alice is paged once.
    let topo = grouped("[]", "LogNormal(median: \"1m\", p95: \"4m\")");
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let s = scenario(&topo, &zone_loss(fault));
    let runs: Vec<_> = (0..200u64)
        .map(|k| gameday::run::run_once(&topo, &s, gameday::sim::rng::run_seed(s.seed, k)))
        .collect();
    let report = summarize(&topo, &s, s.seed, &runs);
    for r in &report.per_run {
        // PostgresDown fires at the 135 s evaluation (T+15 s); the group goes out 30 s later.
        assert_eq!(r.response.alert_s, Some(15.0), "{:?}", r.response);
        let page = r.response.page_s.unwrap();
        assert!((45.0..46.0).contains(&page), "{page}");
        assert!(r.response.acknowledge_s.unwrap() > page);
    }
    // Acknowledged T+45 s plus alice's delay: median 1 m, p95 4 m (she is slower than the
    // 5 m escalation delay in under 3 % of runs).
    let ack = &report.response.steps.acknowledge_s;
    let (p50, p95) = (ack.p50.unwrap() - 45.0, ack.p95.unwrap() - 45.0);
    assert!((50.0..72.0).contains(&p50), "median {p50}: {ack:?}");
    assert!((190.0..300.0).contains(&p95), "p95 {p95}: {ack:?}");
    let text = gameday::report::text::render(&SuiteReport {
        seed: s.seed,
        runs: 200,
        scenarios: vec![report],
    });
    assert!(
        text.contains("response T+ (p50 / p95): alert 15.000s · page 45."),
        "{text}"
    );
}

#[test]
fn a_page_at_3am_takes_the_responders_night_delay() {
    // Alice takes 3 m by day and 10 m at night: at 03:00 she is escalated past after 5 m.
    let topo = paged("Fixed(\"3m\"), at_night: Some(Fixed(\"10m\"))");
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let day = run(&topo, &scenario(&topo, &zone_loss(fault)));
    let acked = when(&day, "oncall-alice acknowledged incident 1");
    let paged = when(
        &day,
        "paged oncall-alice for incident 1 (escalation rule 1)",
    );
    assert!(
        (180.0..181.0).contains(&(acked - paged)),
        "by day (10:00): 3 m"
    );
    let night = zone_loss(fault).replace("    seed: 7,", "    seed: 7,\n    starts_at: \"03:00\",");
    let r = run(&topo, &scenario(&topo, &night));
    let alice = when(&r, "paged oncall-alice for incident 1 (escalation rule 1)");
    let bob = when(&r, "paged oncall-bob for incident 1 (escalation rule 2)");
    assert_eq!(
        bob - alice,
        300.0,
        "at 03:00 alice needs 10 m: escalated at 5 m"
    );
    assert!(
        r.timeline
            .iter()
            .any(|e| e.detail == "oncall-bob acknowledged incident 1")
    );
    let bad = night.replace("\"03:00\"", "\"25:00\"");
    let err = scenario_refused(&topo, &bad);
    assert!(
        err.contains("`25:00`") && err.contains("\"HH:MM\""),
        "{err}"
    );
}

#[test]
fn response_targets_fail_a_run_whose_steps_come_late_or_never() {
    use gameday::report::summary::summarize;
    let topo = grouped("[\"alertname\"]", "Fixed(\"3m\")");
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let with = |targets: &str| {
        zone_loss(fault).replace(
            "targets: (rto: \"15m\", rpo: \"0s\"),",
            &format!("targets: (rto: \"15m\", rpo: \"0s\", response: ({targets})),"),
        )
    };
    let failures = |targets: &str| {
        let s = scenario(&topo, &with(targets));
        let report = summarize(&topo, &s, s.seed, &[run(&topo, &s)]);
        report
            .failures
            .into_iter()
            .filter(|f| f.contains("response"))
            .collect::<Vec<_>>()
    };
    // Paged at T+45 s (group_wait 30 s after the T+15 s alert), acknowledged 3 m later.
    assert!(
        failures("alert: Some(\"1m\"), page: Some(\"1m\"), acknowledge: Some(\"5m\")").is_empty()
    );
    let late = failures("acknowledge: Some(\"2m\")");
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(
        late[0].contains("acknowledged at T+3m45") && late[0].contains("target T+2m"),
        "{late:?}"
    );
    // Alice's phone is off and bob is not on the policy: never acknowledged.
    let alone = with("acknowledge: Some(\"10m\")")
        .replace("    faults: [", "    faults: [Fault(at: \"0s\", kind: NodeCrash(\"oncall-alice\")), Fault(at: \"0s\", kind: NodeCrash(\"oncall-bob\")),");
    let s = scenario(&topo, &alone);
    let report = summarize(&topo, &s, s.seed, &[run(&topo, &s)]);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.contains("never acknowledged (target T+10m)")),
        "{:?}",
        report.failures
    );
    // Without a paging service, a page target could never be met: refused.
    let unpaged = monitored();
    let err = scenario_refused(&unpaged, &with("page: Some(\"5m\")"));
    assert!(err.contains("nobody here can be paged"), "{err}");
}

#[test]
fn a_schedule_pages_whoever_is_on_call_when_the_incident_opens() {
    // Alice 08:00-20:00, Bob 20:00-08:00; the first rule targets the schedule.
    let text = edit(
        &paged_text("Fixed(\"3m\")"),
        &[
            (
                "Rule(escalation_delay_in_minutes: 5, targets: [\"oncall-alice\"]),",
                "Rule(escalation_delay_in_minutes: 5, targets: [\"primary\"]),",
            ),
            (
                "        responders: [",
                "        schedules: [Schedule(name: \"primary\", users: [\"oncall-alice\", \"oncall-bob\"], rotation_turn_length: \"12h\", rotation_virtual_start: \"08:00\")],\n        responders: [",
            ),
        ],
    );
    let topo = parse(&text);
    let fault = r#"Fault(at: "2m", duration: "4m", kind: ZoneLoss("us-east-1a")),"#;
    let day = run(&topo, &scenario(&topo, &zone_loss(fault)));
    when(
        &day,
        "paged oncall-alice for incident 1 (escalation rule 1)",
    );
    let evening =
        zone_loss(fault).replace("    seed: 7,", "    seed: 7,\n    starts_at: \"19:59\",");
    let r = run(&topo, &scenario(&topo, &evening));
    when(&r, "paged oncall-bob for incident 1 (escalation rule 1)");
    // A schedule of nobody, or one whose name is a node's, is refused.
    for (from, to, what) in [
        (
            "users: [\"oncall-alice\", \"oncall-bob\"]",
            "users: []",
            "a schedule needs at least one user",
        ),
        (
            "name: \"primary\", users",
            "name: \"pagerduty\", users",
            "this name is used twice",
        ),
        (
            "users: [\"oncall-alice\", \"oncall-bob\"]",
            "users: [\"pg-a\"]",
            "this node is not a responder",
        ),
        (
            "rotation_turn_length: \"12h\"",
            "rotation_turn_length: \"30s\"",
            "a turn is at least 1 minute",
        ),
    ] {
        let err = refused("schedule", &edit(&text, &[(from, to)]));
        assert!(err.contains(what), "{what}: {err}");
    }
}

/// ftm-games's machines with one Prometheus server (`prom-metrics`, in us-west-2b) scraping
/// every server of both providers with the measured-metric rules, and snapshots every 5 min
/// of a 1 GiB database so that backups complete within a short run (no archive in it).
fn metered_text() -> String {
    let section = r#"    monitoring: [
        Prometheus(
            name: "prom-metrics", node: "prom-metrics", scrape: [Provider("aws"), Provider("gcp")],
            scrape_interval: "15s", evaluation_interval: "15s",
            rules: [
                Rule(alert: "RedisLag", expr: ReplicationLag(datastore: "redis", above: "30s"), for: "30s"),
                Rule(alert: "PostgresBackupStale", expr: BackupAge(datastore: "postgres", above: "7m")),
                Rule(alert: "EastTrafficDrop", expr: RequestRate(place: Region("us-east-1"), below_per_s: 1.0), for: "1m"),
                Rule(alert: "EastErrorsUp", expr: ErrorRatioAboveBaseline(place: Region("us-east-1"), points: 0.05, baseline: "2m")),
            ],
        ),
    ],
    clients: ["#;
    edit(
        &machines_only_text(),
        &[
            (
                "        Node(name: \"pg-a\", zone: \"us-east-1a\"),",
                "        Node(name: \"pg-a\", zone: \"us-east-1a\"),\n        Node(name: \"prom-metrics\", zone: \"us-west-2b\"),",
            ),
            ("data_size: \"60GiB\"", "data_size: \"1GiB\""),
            (
                "snapshots: Some((store: \"backup-vault\", every: \"6h\", at: \"30m\"))",
                "snapshots: Some((store: \"backup-vault\", every: \"5m\", at: \"1m\"))",
            ),
            // The weekly archive would complete at about 11 min: any kind of backup counts.
            ("every: \"7d\", at: \"10m\"", "every: \"7d\", at: \"1d\""),
            ("    clients: [", section),
        ],
    )
}

fn metered() -> gameday::model::topology::Topology {
    parse(&metered_text())
}

/// A 15-minute run on [`metered`] with North American players writing to both services.
fn metered_run(faults: &str) -> gameday::run::judge::RunResult {
    metered_run_on(&metered(), faults)
}

/// The same run on `topo`, a variant of [`metered`].
fn metered_run_on(
    topo: &gameday::model::topology::Topology,
    faults: &str,
) -> gameday::run::judge::RunResult {
    let text = format!(
        r#"Scenario(
    name: "metered",
    topology: "ftm-games",
    duration: "15m",
    seed: 3,
    workload: [
        Clients(clients: "players-na", service: "accounts", writes: Poisson("100ms"), timeout: "5s", retries: 1),
        Clients(clients: "players-na", service: "game-state", writes: Poisson("100ms"), timeout: "2s", retries: 1),
    ],
    faults: [{faults}],
    targets: (rto: "15m", rpo: "15m"),
)"#
    );
    run(topo, &scenario(topo, &text))
}

/// When alert `name` fired and resolved on `prom-metrics`, in seconds.
fn fired(r: &gameday::run::judge::RunResult, name: &str) -> (Vec<f64>, Vec<f64>) {
    let seen = alerts(r);
    let at = |what: &str| {
        let detail = format!("alert {name} {what} on prom-metrics");
        seen.iter().filter(|a| a.2 == detail).map(|a| a.0).collect()
    };
    (at("firing"), at("resolved"))
}

#[test]
fn measured_metrics_stay_silent_in_a_quiet_run() {
    let r = metered_run("");
    let seen = alerts(&r);
    // Replicas replay every 250 ms, snapshots complete every 5 min, traffic and errors hold.
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn a_redis_replica_cut_off_from_its_master_fires_the_lag_alert_until_it_catches_up() {
    let cut = r#"Fault(at: "2m", duration: "3m", kind: Partition(a: Node("redis-euw1"), b: Node("redis-use1"))),"#;
    let r = metered_run(cut);
    let (firing, resolved) = fired(&r, "RedisLag");
    // The last batch reached redis-euw1 just before 120 s: the 150 s scrape reads a lag just
    // over 30 s, the 165 s evaluation sees it, and it has held 30 s at 195 s (seed 3).
    assert_eq!(firing.len(), 1, "{:?}", alerts(&r));
    assert!((180.0..=210.0).contains(&firing[0]), "{firing:?}");
    // The partition heals at 300 s: the next batch shows the gap, the replica catches up,
    // and a later scrape reads a lag under a second (resolved at 330 s on seed 3).
    assert_eq!(resolved.len(), 1, "{:?}", alerts(&r));
    assert!((315.0..=345.0).contains(&resolved[0]), "{resolved:?}");
}

#[test]
fn backups_that_stop_completing_fire_the_backup_age_alert() {
    // Snapshots at 1, 6, 11 … min; the vault is down from 7 min on, so the 6 min snapshot
    // (confirmed just after 6 min) is the last to complete: the 795 s scrape reads it more
    // than 7 min old and the 810 s evaluation fires (seed 3).
    let down = r#"Fault(at: "7m", kind: NodeCrash("backup-vault")),"#;
    let r = metered_run(down);
    let (firing, resolved) = fired(&r, "PostgresBackupStale");
    assert_eq!(firing.len(), 1, "{:?}", alerts(&r));
    assert!(
        (13.0 * 60.0..=13.75 * 60.0).contains(&firing[0]),
        "{firing:?}"
    );
    assert!(resolved.is_empty(), "{resolved:?}");
    assert!(
        fired(&metered_run(""), "PostgresBackupStale").0.is_empty(),
        "with the vault up it never fires"
    );
}

#[test]
fn losing_the_east_region_drops_its_traffic_and_the_rate_alert_fires() {
    // The players of North America prefer us-east-1: when its app servers go, the balancer
    // answers with errors at once (a jump of far more than 5 points over the last 2 min),
    // then DNS moves the players away and its traffic falls to nothing.
    let apps = r#"Fault(at: "5m", duration: "5m", kind: ZoneLoss("us-east-1a")),
        Fault(at: "5m", duration: "5m", kind: ZoneLoss("us-east-1b")),
        Fault(at: "5m", duration: "5m", kind: ZoneLoss("us-east-1c")),"#;
    let r = metered_run(apps);
    let (errors_up, _) = fired(&r, "EastErrorsUp");
    assert!(!errors_up.is_empty(), "{:?}", alerts(&r));
    assert!((315.0..=360.0).contains(&errors_up[0]), "{errors_up:?}");
    let (drop, _) = fired(&r, "EastTrafficDrop");
    assert_eq!(drop.len(), 1, "{:?}", alerts(&r));
    assert!(drop[0] > errors_up[0], "{drop:?} after {errors_up:?}");
}

#[test]
fn bad_measured_metric_rules_are_rejected_naming_what_is_wrong() {
    let rejected = |from: &str, to: &str, what: &[&str]| {
        let err = refused("metrics", &edit(&metered_text(), &[(from, to)]));
        for w in what {
            assert!(err.contains(w), "`{w}` missing from {err}");
        }
    };
    rejected(
        "ReplicationLag(datastore: \"redis\"",
        "ReplicationLag(datastore: \"redis-cache\"",
        &["redis-cache", "no such datastore"],
    );
    rejected(
        "BackupAge(datastore: \"postgres\"",
        "BackupAge(datastore: \"redis\"",
        &["redis", "no `backup` section"],
    );
    rejected(
        "above: \"30s\"",
        "above: \"0s\"",
        &["RedisLag", "`above` must be above zero"],
    );
    rejected(
        "above: \"7m\"",
        "above: \"40d\"",
        &["PostgresBackupStale", "at most 30d"],
    );
    for bad in ["-1.0", "0.0", "NaN", "inf"] {
        rejected(
            "below_per_s: 1.0",
            &format!("below_per_s: {bad}"),
            &["EastTrafficDrop", "`below_per_s`"],
        );
    }
    rejected(
        "RequestRate(place: Region(\"us-east-1\")",
        "RequestRate(place: Zone(\"us-east-1a\")",
        &["us-east-1a", "no load balancer here"],
    );
    rejected(
        "ErrorRatioAboveBaseline(place: Region(\"us-east-1\")",
        "ErrorRatioAboveBaseline(place: Region(\"us-east-9\")",
        &["us-east-9", "no such place"],
    );
    for bad in ["1.5", "0.0", "-0.01", "NaN"] {
        rejected(
            "points: 0.05",
            &format!("points: {bad}"),
            &["EastErrorsUp", "`points` is a fraction"],
        );
    }
    rejected(
        "baseline: \"2m\"",
        "baseline: \"10s\"",
        &[
            "EastErrorsUp",
            "`baseline` (10s) must be at least `scrape_interval` (15s)",
        ],
    );
}

#[test]
fn a_baseline_keeping_too_many_samples_is_rejected() {
    // A 30-day baseline scraped every second keeps 2.6 million samples of the one balancer.
    let err = refused(
        "metrics",
        &edit(
            &metered_text(),
            &[
                (
                    "scrape_interval: \"15s\"",
                    "scrape_interval: \"1s\", scrape_timeout: \"1s\"",
                ),
                ("baseline: \"2m\"", "baseline: \"30d\""),
            ],
        ),
    );
    assert!(err.contains("prom-metrics"), "{err}");
    assert!(err.contains("more than the limit of 2000000"), "{err}");
}

/// [`metered_text`] with a latency rule on us-east-1's balancer: p99 of its targets' response
/// times above 500 ms for 30 s.
fn timed_text() -> String {
    let rule = r#"Rule(alert: "EastErrorsUp","#;
    let latency = r#"Rule(alert: "EastSlow", expr: Latency(place: Region("us-east-1"), quantile: 0.99, above: "500ms"), for: "30s"),
                Rule(alert: "EastErrorsUp","#;
    edit(&metered_text(), &[(rule, latency)])
}

#[test]
fn slow_answers_behind_the_east_balancer_fire_the_latency_alert_and_a_quiet_run_does_not() {
    let topo = parse(&timed_text());
    // Every message between alb-us-east-1 and its region takes 400 ms longer from 5 to 8 min:
    // each request it forwards is answered at least 800 ms later, which no health check
    // (5 s timeout) notices.
    let slow = r#"Fault(at: "5m", duration: "3m", kind: Latency(a: Node("alb-us-east-1"), b: Region("us-east-1"), extra: "400ms")),"#;
    let r = metered_run_on(&topo, slow);
    let (firing, resolved) = fired(&r, "EastSlow");
    // The 315 s scrape reads the first slow interval; an evaluation sees a scrape one
    // interval later, so the 330 s one makes the alert pending and it fires at 360 s (seed 3).
    assert_eq!(firing.len(), 1, "{:?}", alerts(&r));
    assert!((330.0..=375.0).contains(&firing[0]), "{firing:?}");
    // Fast again from 480 s, but requests forwarded just before come back slow after it: the
    // 495 s scrape still holds them, and the 525 s evaluation, reading 510 s, resolves.
    assert_eq!(resolved.len(), 1, "{:?}", alerts(&r));
    assert!((495.0..=540.0).contains(&resolved[0]), "{resolved:?}");
    let quiet = metered_run_on(&topo, "");
    assert!(alerts(&quiet).is_empty(), "{:?}", alerts(&quiet));
}

#[test]
fn bad_latency_rules_are_rejected_naming_what_is_wrong() {
    let rejected = |from: &str, to: &str, what: &[&str]| {
        let err = refused("latency", &edit(&timed_text(), &[(from, to)]));
        for w in what {
            assert!(err.contains(w), "`{w}` missing from {err}");
        }
    };
    for bad in [
        "1.0",
        "0.0",
        "-0.5",
        "1.5",
        "NaN",
        "inf",
        "0.0000001",
        "0.9999999",
    ] {
        rejected(
            "quantile: 0.99",
            &format!("quantile: {bad}"),
            &[
                "EastSlow",
                "`quantile` is a fraction",
                &format!("not {}", bad.parse::<f64>().unwrap()),
            ],
        );
    }
    rejected(
        "above: \"500ms\"), for: \"30s\"",
        "above: \"0s\"), for: \"30s\"",
        &["EastSlow", "`above` (0s) must be above zero and below 10s"],
    );
    for bad in ["10s", "1m"] {
        rejected(
            "above: \"500ms\"), for: \"30s\"",
            &format!("above: \"{bad}\"), for: \"30s\""),
            &[
                "EastSlow",
                &format!("`above` ({bad})"),
                "the highest finite bucket",
            ],
        );
    }
    rejected(
        "Latency(place: Region(\"us-east-1\")",
        "Latency(place: Zone(\"us-east-1a\")",
        &["us-east-1a", "no load balancer here"],
    );
    rejected(
        "Latency(place: Region(\"us-east-1\")",
        "Latency(place: Region(\"mars-1\")",
        &["mars-1", "no such place"],
    );
}

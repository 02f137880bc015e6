//! Operations: the people and processes around the machines, as sans-IO state machines.
//!
//! What an operations team does during an incident or a planned change (notice, page,
//! acknowledge, follow a runbook, post to the status page, run a maintenance window) is
//! modelled here the way `logic/` models protocols: each component takes a message or a timer
//! firing plus a [`Context`](crate::logic::Context) and returns; it owns no clock and never
//! learns it is simulated. It speaks the logic's vocabulary (`Msg`, `Timer`, `Note` in
//! [`crate::logic`]) and acts on the machines only by sending them messages, so the same
//! kernel drives it and the same client histories measure what it changed.
//!
//! This layer owns the operators' procedures and their timing. It does not own the machines'
//! protocols (`logic/`), how a component becomes a process in a run (`run/assemble/`), or
//! what clients saw (`measure/`).
//!
//! | module | job |
//! |---|---|
//! | [`alertmanager`] | groups the servers' alerts (by name, or all together) and notifies the paging service once per group: `group_wait`, `group_interval`, `repeat_interval`; alerts no longer re-sent expire |
//! | [`delay`] | how long a person or an automation takes for a step: fixed, uniform, exponential, or log-normal by median and p95, drawn from the component's seeded stream |
//! | [`monitoring`] | a Prometheus server on a node: scrapes its targets' `up` every `scrape_interval` (failed after `scrape_timeout`), evaluates alerting rules every `evaluation_interval` with `for` and `keep_firing_for`; goes dark with its node |
//! | [`quantile`] | PromQL's `histogram_quantile` over classic buckets, as `promql/quantile.go` computes it, for latency rules |
//! | [`paging`] | a PagerDuty-style service (incidents keyed by alert, escalation rules with `escalation_delay_in_minutes`, `num_loops`, `acknowledgement_timeout`, an automation started on each incident), the responders it pages, who acknowledge after their own delay and follow the incident's runbooks |
//! | [`runbook`] | runbooks chosen by an incident's alerts: ordered steps, each taking a person's or an automation's time, checking a condition (`patronictl list`) and acting: verify the failover, promote by hand, set the status page, post updates; all-clear steps once the incident resolves |
//! | [`support`] | the support desk: reads how users fared every period and pages (`UserReports`) when too many of their actions fail for long enough, whether or not monitoring sees it |
//! | [`status_page`] | the public status page (Statuspage's component states and incident stages), hosted apart; changed only by posts |
//! | [`restore`] | the DBA team's restore runbook: notice corruption (integrity checks, user reports at a scrape), freeze writes, choose a backup, download, replay WAL, redeploy, verify, install a new timeline, appoint the primary |
//!
//! Planned maintenance joins this table as its issue lands, a module a module here plus its
//! registration (see "Adding a component" in `docs/ARCHITECTURE.md`).

pub mod alertmanager;
pub mod delay;
pub mod monitoring;
pub mod paging;
pub mod quantile;
pub mod restore;
pub mod runbook;
pub mod status_page;
pub mod support;

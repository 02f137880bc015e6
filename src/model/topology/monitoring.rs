//! The `monitoring` section: Prometheus servers placed on nodes, the places they scrape and
//! their alerting rules, with Prometheus' own names (`scrape_interval`, `scrape_timeout`,
//! `evaluation_interval`, `for`, `keep_firing_for`) and defaults (1m, 10s, 1m).
//!
//! It does not own what scraping and alerting do at run time (`ops::monitoring`) nor what
//! a firing alert sets in motion.

use super::datastore::DatastoreInfo;
use super::durations::interval;
use super::nodes::{NodeTable, Role};
use super::places::{PlaceRef, PlaceResolver};
use crate::logic::histogram::BUCKET_BOUNDS_MS;
use crate::model::error::{InputError, Source};
use crate::model::{Dur, limits};
use crate::ops::monitoring::{AlertExpr, AlertRule, MonitoringSpec};
use crate::sim::time::SimDuration;
use serde::Deserialize;

fn default_scrape_interval() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_scrape_timeout() -> Dur {
    Dur(SimDuration::from_secs(10))
}
fn default_zero() -> Dur {
    Dur(SimDuration::ZERO)
}

/// A Prometheus server: the node it runs on, what it scrapes, how often, and its rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Prometheus")]
pub struct PrometheusDef {
    pub name: String,
    pub node: String,
    /// Places whose nodes it scrapes (client populations are not servers: never scraped).
    pub scrape: Vec<PlaceRef>,
    #[serde(default = "default_scrape_interval")]
    pub scrape_interval: Dur,
    #[serde(default = "default_scrape_timeout")]
    pub scrape_timeout: Dur,
    #[serde(default = "default_scrape_interval")]
    pub evaluation_interval: Dur,
    #[serde(default)]
    pub rules: Vec<AlertRuleDef>,
}

/// An alerting rule: `alert` names it, `expr` says when it holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Rule")]
pub struct AlertRuleDef {
    pub alert: String,
    pub expr: AlertExprDef,
    #[serde(rename = "for", default = "default_zero")]
    pub for_: Dur,
    #[serde(default = "default_zero")]
    pub keep_firing_for: Dur,
}

/// What a rule tests over the scraped nodes of a place.
#[derive(Debug, Deserialize)]
pub enum AlertExprDef {
    /// `up == 0` for some scraped node of the place.
    AnyDown(PlaceRef),
    /// `sum(up) == 0` over the scraped nodes of the place: all of them down.
    AllDown(PlaceRef),
    /// `sum(patroni_primary) == 0` over the scraped members of this datastore: members answer
    /// and none of them is the primary.
    NoPrimary(String),
    /// The share of error responses of the scraped load balancers in `place`, between their
    /// last two scrapes, is above `above` (a fraction, `0.5` for the plan's "50 % API errors").
    ErrorRatio { place: PlaceRef, above: f64 },
    /// Some scraped member of this datastore reports a replication lag above `above`
    /// (postgres_exporter's `pg_replication_lag`: a primary reports 0).
    ReplicationLag { datastore: String, above: Dur },
    /// The newest backup the scraped members of this datastore report completed is older
    /// than `above` (pgbackrest_exporter's `pgbackrest_backup_since_last_completion_seconds`).
    BackupAge { datastore: String, above: Dur },
    /// The scraped load balancers in `place` answer fewer than `below_per_s` responses a
    /// second between their last two scrapes (the traffic-drop alert).
    RequestRate { place: PlaceRef, below_per_s: f64 },
    /// The error ratio of the scraped load balancers in `place` between their last two
    /// scrapes is more than `points` (a fraction: `0.01` is one percentage point) above the
    /// ratio this server measured over the `baseline` window before that.
    ErrorRatioAboveBaseline {
        place: PlaceRef,
        points: f64,
        baseline: Dur,
    },
    /// The `quantile` (a fraction strictly between 0 and 1: `0.99` is p99) of the response
    /// times the scraped load balancers in `place` measured from their targets between their
    /// last two scrapes is above `above`: `histogram_quantile(0.99, sum by (le)
    /// (increase(…_bucket[…]))) > 0.5`.
    Latency {
        place: PlaceRef,
        quantile: f64,
        above: Dur,
    },
}

/// At most this many distinct alert names in a topology: incidents carry the names of their
/// alerts as a 64-bit set.
pub const ALERT_NAMES_MAX: usize = 64;

/// The names of every alert of these servers, each once, in order of first appearance: an
/// alert's [`AlertSet`](crate::logic::AlertSet) bit is its position here.
pub fn alert_names(servers: &[PrometheusInfo]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for a in servers.iter().flat_map(|m| &m.alerts) {
        if !names.contains(a) {
            names.push(a.clone());
        }
    }
    names
}

/// A resolved Prometheus server.
#[derive(Clone, Debug)]
pub struct PrometheusInfo {
    pub name: String,
    pub node: u32,
    /// Rule names, by rule index (what the timeline calls an alert).
    pub alerts: Vec<String>,
    pub spec: MonitoringSpec,
}

/// Resolves the servers: their nodes, their targets, their intervals (`scrape_timeout` at
/// most `scrape_interval`, as Prometheus requires) and rules. [`assign_roles`] then gives
/// their nodes the `Prometheus` role.
pub(super) fn resolve(
    src: &Source,
    defs: &[PrometheusDef],
    places: &PlaceResolver<'_>,
    nodes: &NodeTable,
    datastores: &[DatastoreInfo],
) -> Result<Vec<PrometheusInfo>, InputError> {
    let mut out: Vec<PrometheusInfo> = Vec::new();
    for (k, d) in defs.iter().enumerate() {
        if defs[..k].iter().any(|e| e.name == d.name) {
            return Err(src.invalid("monitoring", &d.name, "this name is used twice"));
        }
        let node = nodes.node(src, "monitoring", &d.node)?;
        let targets = targets(src, &d.scrape, places, nodes)?;
        let scrape_interval = interval(src, &["scrape_interval"], d.scrape_interval, "scrapes")?;
        let scrape_timeout = interval(src, &["scrape_timeout"], d.scrape_timeout, "a scrape")?;
        if scrape_timeout > scrape_interval {
            return Err(src.invalid_duration(
                &["scrape_timeout"],
                scrape_timeout,
                "`scrape_timeout` must not be longer than `scrape_interval` (Prometheus rejects it too)",
            ));
        }
        let evaluation_interval = interval(
            src,
            &["evaluation_interval"],
            d.evaluation_interval,
            "rule evaluations",
        )?;
        let budget = limits::RULE_TARGETS_MAX - named(&out);
        let scope = RuleScope {
            targets: &targets,
            places,
            node_zone: &nodes.zone,
            roles: &nodes.roles,
            datastores,
            scrape_interval,
        };
        let mut names = alert_names(&out);
        let rules = rules(src, &d.rules, &scope, &mut names, budget)?;
        let info = PrometheusInfo {
            name: d.name.clone(),
            node,
            alerts: d.rules.iter().map(|r| r.alert.clone()).collect(),
            spec: MonitoringSpec {
                targets,
                scrape_interval,
                scrape_timeout,
                evaluation_interval,
                rules,
                pager: None,
            },
        };
        out.push(info);
        within_limits(src, &d.name, &out)?;
    }
    Ok(out)
}

/// The servers so far scrape at most [`limits::SCRAPE_TARGETS_MAX`] targets, so their memory
/// stays bounded whatever the file says (rules are bounded as they are resolved). Checked as
/// each server is added, so the error names the one that went over.
fn within_limits(src: &Source, name: &str, servers: &[PrometheusInfo]) -> Result<(), InputError> {
    let scraped: usize = servers.iter().map(|m| m.spec.targets.len()).sum();
    if scraped > limits::SCRAPE_TARGETS_MAX {
        let max = limits::SCRAPE_TARGETS_MAX;
        let message = format!("the servers scrape {scraped} targets, more than the limit of {max}");
        return Err(src.invalid("monitoring", name, message));
    }
    let kept = history_samples(servers);
    if kept > limits::BASELINE_SAMPLES_MAX {
        let max = limits::BASELINE_SAMPLES_MAX;
        let message = format!(
            "the baseline rules keep {kept} counter samples (targets × baseline / scrape_interval), more than the limit of {max}: shorten `baseline` or scrape less often"
        );
        return Err(src.invalid("monitoring", name, message));
    }
    Ok(())
}

/// Targets named by the rules of these servers: each evaluation reads each once, so at most
/// [`limits::RULE_TARGETS_MAX`] in all bounds both memory and the work of an evaluation.
fn named(servers: &[PrometheusInfo]) -> usize {
    servers
        .iter()
        .flat_map(|m| &m.spec.rules)
        .map(|r| r.expr.targets().len())
        .sum()
}

/// Counter samples kept for baseline rules by these servers: each keeps, for every target a
/// baseline rule names, as many as its longest window needs (see
/// [`AlertExpr::history_len`]).
fn history_samples(servers: &[PrometheusInfo]) -> u64 {
    servers
        .iter()
        .map(|m| {
            let len = m
                .spec
                .rules
                .iter()
                .map(|r| r.expr.history_len(m.spec.scrape_interval));
            let len = len.max().unwrap_or(0);
            let mut kept: Vec<usize> = m
                .spec
                .rules
                .iter()
                .filter(|r| r.expr.history_len(m.spec.scrape_interval) > 0)
                .flat_map(|r| r.expr.targets().iter().copied())
                .collect();
            kept.sort_unstable();
            kept.dedup();
            len.saturating_mul(kept.len() as u64)
        })
        .fold(0u64, u64::saturating_add)
}

/// Each server's node plays the `Prometheus` role (and no other).
pub(super) fn assign_roles(
    src: &Source,
    servers: &[PrometheusInfo],
    nodes: &mut NodeTable,
) -> Result<(), InputError> {
    for (k, m) in servers.iter().enumerate() {
        nodes.assign(src, m.node, Role::Prometheus(k), "monitoring")?;
    }
    Ok(())
}

/// The nodes of the scraped places, in node order, without client populations.
fn targets(
    src: &Source,
    scrape: &[PlaceRef],
    places: &PlaceResolver<'_>,
    nodes: &NodeTable,
) -> Result<Vec<u32>, InputError> {
    let mut resolved = Vec::new();
    for p in scrape {
        let place = places
            .resolve(p)
            .ok_or_else(|| src.invalid("scrape", p.name(), "no such place"))?;
        resolved.push(place);
    }
    let targets: Vec<u32> = (0..nodes.names.len() as u32)
        .filter(|&n| !matches!(nodes.roles[n as usize], Role::Clients(_)))
        .filter(|&n| resolved.iter().any(|&p| places.contains(p, n, &nodes.zone)))
        .collect();
    if targets.is_empty() {
        return Err(src.invalid("scrape", "", "these places hold no node to scrape"));
    }
    Ok(targets)
}

/// What a server's rules may refer to: its targets, the places and the datastores.
struct RuleScope<'a> {
    targets: &'a [u32],
    places: &'a PlaceResolver<'a>,
    node_zone: &'a [u16],
    roles: &'a [Role],
    datastores: &'a [DatastoreInfo],
    /// The server's `scrape_interval`, the shortest baseline window.
    scrape_interval: SimDuration,
}

impl RuleScope<'_> {
    /// The indices of the targets a rule's expression is over (none: an error).
    fn of(&self, src: &Source, expr: &AlertExprDef) -> Result<Vec<usize>, InputError> {
        let (name, of): (&str, Vec<usize>) = match expr {
            AlertExprDef::AnyDown(p) | AlertExprDef::AllDown(p) => {
                (p.name(), self.in_place(src, p, |_| true)?)
            }
            AlertExprDef::ErrorRatio { place: p, .. }
            | AlertExprDef::RequestRate { place: p, .. }
            | AlertExprDef::ErrorRatioAboveBaseline { place: p, .. }
            | AlertExprDef::Latency { place: p, .. } => {
                let of = self.in_place(src, p, |role| matches!(role, Role::LoadBalancer(_)))?;
                if of.is_empty() {
                    let message = "this server scrapes no load balancer here";
                    return Err(src.invalid("expr", p.name(), message));
                }
                return Ok(of);
            }
            AlertExprDef::NoPrimary(d) => (d.as_str(), self.members(src, "NoPrimary", d)?),
            AlertExprDef::ReplicationLag { datastore: d, .. } => {
                (d.as_str(), self.members(src, "ReplicationLag", d)?)
            }
            AlertExprDef::BackupAge { datastore: d, .. } => {
                let store = self.datastores.iter().find(|x| &x.name == d);
                if store.is_some_and(|s| s.backup.is_none()) {
                    let message =
                        "this datastore has no `backup` section: nothing reports a backup age";
                    return Err(src.invalid("BackupAge", d, message));
                }
                (d.as_str(), self.members(src, "BackupAge", d)?)
            }
        };
        if of.is_empty() {
            return Err(src.invalid("expr", name, "this server scrapes no node here"));
        }
        Ok(of)
    }

    /// The targets in place `p` whose role passes `keep`.
    fn in_place(
        &self,
        src: &Source,
        p: &PlaceRef,
        keep: impl Fn(&Role) -> bool,
    ) -> Result<Vec<usize>, InputError> {
        let place = self
            .places
            .resolve(p)
            .ok_or_else(|| src.invalid("expr", p.name(), "no such place"))?;
        Ok((0..self.targets.len())
            .filter(|&i| {
                let n = self.targets[i];
                self.places.contains(place, n, self.node_zone) && keep(&self.roles[n as usize])
            })
            .collect())
    }

    /// The targets that are members of datastore `d` (named in the file as `field`).
    fn members(&self, src: &Source, field: &str, d: &str) -> Result<Vec<usize>, InputError> {
        let store = self.datastores.iter().find(|x| x.name == d);
        let store = store.ok_or_else(|| src.invalid(field, d, "no such datastore"))?;
        Ok((0..self.targets.len())
            .filter(|&i| store.members.contains(&self.targets[i]))
            .collect())
    }
}

/// A ratio threshold written as `field`, a fraction strictly between 0 and 1, in parts per
/// million.
fn ratio_ppm(src: &Source, field: &str, alert: &str, v: f64) -> Result<u32, InputError> {
    if !(v > 0.0 && v < 1.0) {
        let message = format!("`{field}` is a fraction strictly between 0 and 1, not {v}");
        return Err(src.invalid("alert", alert, message));
    }
    Ok((v * 1_000_000.0).round() as u32)
}

/// A quantile, a fraction strictly between 0 and 1, in parts per million (the resolution the
/// run-time rule keeps: one that rounds to 0 or to 1 is refused rather than changed).
fn quantile_ppm(src: &Source, alert: &str, v: f64) -> Result<u32, InputError> {
    let ppm = (v * 1_000_000.0).round();
    if !(v > 0.0 && v < 1.0 && (1.0..1_000_000.0).contains(&ppm)) {
        let message = format!(
            "`quantile` is a fraction strictly between 0 and 1 (to a millionth: 0.99 is p99), not {v}"
        );
        return Err(src.invalid("alert", alert, message));
    }
    Ok(ppm as u32)
}

/// A latency threshold: above zero and below the highest finite bucket (10 s).
/// `histogram_quantile` never answers more than that bound (a quantile in the `+Inf` bucket
/// *is* that bound), so a rule with a higher or equal threshold could never fire.
fn latency_above(src: &Source, alert: &str, d: Dur) -> Result<SimDuration, InputError> {
    let highest_ms = BUCKET_BOUNDS_MS[BUCKET_BOUNDS_MS.len() - 1];
    let highest = SimDuration::from_millis(highest_ms);
    if d.0.is_zero() || d.0 >= highest {
        let message = format!(
            "`above` ({}) must be above zero and below {}, the highest finite bucket: the quantile never exceeds it",
            d.0.human(),
            highest.human()
        );
        return Err(src.invalid("alert", alert, message));
    }
    Ok(d.0)
}

/// A rate threshold in responses per second, positive and finite, in thousandths.
fn per_s_milli(src: &Source, alert: &str, v: f64) -> Result<u64, InputError> {
    let max = 1e12;
    if !(v > 0.0 && v <= max) {
        let message = format!(
            "`below_per_s` is a rate in responses per second above 0 and at most {max}, not {v}"
        );
        return Err(src.invalid("alert", alert, message));
    }
    Ok((v * 1000.0).round().max(1.0) as u64)
}

/// A duration threshold written as `field`: above zero and within the longest run (a
/// longer one could never be exceeded, a zero one always is).
fn threshold(src: &Source, field: &str, alert: &str, d: Dur) -> Result<SimDuration, InputError> {
    let max = SimDuration::from_secs(limits::DURATION_MAX_SECS);
    if d.0.is_zero() || d.0 > max {
        let message = format!(
            "`{field}` must be above zero and at most {} (the longest run)",
            max.human()
        );
        return Err(src.invalid("alert", alert, message));
    }
    Ok(d.0)
}

/// A baseline window: at least one `scrape_interval` (it must hold two samples) and within
/// the longest run; what it costs in memory is checked over all servers (`within_limits`).
fn baseline(
    src: &Source,
    alert: &str,
    d: Dur,
    scrape_interval: SimDuration,
) -> Result<SimDuration, InputError> {
    let window = threshold(src, "baseline", alert, d)?;
    if window < scrape_interval {
        let message = format!(
            "`baseline` ({}) must be at least `scrape_interval` ({}): the window needs two samples",
            window.human(),
            scrape_interval.human()
        );
        return Err(src.invalid("alert", alert, message));
    }
    Ok(window)
}

/// The run-time expression of `def`, over targets `of`.
fn expr(
    src: &Source,
    r: &AlertRuleDef,
    of: Vec<usize>,
    scrape_interval: SimDuration,
) -> Result<AlertExpr, InputError> {
    let alert = r.alert.as_str();
    Ok(match &r.expr {
        AlertExprDef::AnyDown(_) => AlertExpr::AnyDown(of),
        AlertExprDef::AllDown(_) => AlertExpr::AllDown(of),
        AlertExprDef::NoPrimary(_) => AlertExpr::NoPrimary(of),
        AlertExprDef::ErrorRatio { above, .. } => AlertExpr::ErrorRatioAbove {
            targets: of,
            ratio_ppm: ratio_ppm(src, "above", alert, *above)?,
        },
        AlertExprDef::ReplicationLag { above, .. } => AlertExpr::ReplicationLagAbove {
            targets: of,
            above: threshold(src, "above", alert, *above)?,
        },
        AlertExprDef::BackupAge { above, .. } => AlertExpr::BackupAgeAbove {
            targets: of,
            above: threshold(src, "above", alert, *above)?,
        },
        AlertExprDef::RequestRate { below_per_s, .. } => AlertExpr::RequestRateBelow {
            targets: of,
            per_s_milli: per_s_milli(src, alert, *below_per_s)?,
        },
        AlertExprDef::ErrorRatioAboveBaseline {
            points,
            baseline: b,
            ..
        } => AlertExpr::ErrorRatioAboveBaseline {
            targets: of,
            points_ppm: ratio_ppm(src, "points", alert, *points)?,
            baseline: baseline(src, alert, *b, scrape_interval)?,
        },
        AlertExprDef::Latency {
            quantile, above, ..
        } => AlertExpr::LatencyAbove {
            targets: of,
            quantile_ppm: quantile_ppm(src, alert, *quantile)?,
            above: latency_above(src, alert, *above)?,
        },
    })
}

/// The rules, each expression resolved to the indices of the targets it is over, each
/// name given its bit among the topology's alert names (`names`, extended as new ones come).
fn rules(
    src: &Source,
    defs: &[AlertRuleDef],
    scope: &RuleScope<'_>,
    names: &mut Vec<String>,
    mut budget: usize,
) -> Result<Vec<AlertRule>, InputError> {
    let mut out = Vec::new();
    for (k, r) in defs.iter().enumerate() {
        if defs[..k].iter().any(|e| e.alert == r.alert) {
            return Err(src.invalid("alert", &r.alert, "this alert name is used twice"));
        }
        let of = scope.of(src, &r.expr)?;
        budget = budget.checked_sub(of.len()).ok_or_else(|| {
            let max = limits::RULE_TARGETS_MAX;
            let message = format!("the alerting rules name more than {max} targets in all");
            src.invalid("alert", &r.alert, message)
        })?;
        let expr = expr(src, r, of, scope.scrape_interval)?;
        let bit = match names.iter().position(|n| n == &r.alert) {
            Some(b) => b,
            None if names.len() < ALERT_NAMES_MAX => {
                names.push(r.alert.clone());
                names.len() - 1
            }
            None => {
                let message = format!(
                    "the monitoring servers name more than {ALERT_NAMES_MAX} different alerts"
                );
                return Err(src.invalid("alert", &r.alert, message));
            }
        };
        out.push(AlertRule {
            alert: 1 << bit,
            expr,
            for_: r.for_.0,
            keep_firing_for: r.keep_firing_for.0,
        });
    }
    Ok(out)
}

//! What a run will cost, estimated from its topology and scenario before it starts.
//!
//! Every setting can be valid on its own while the whole is not: clients writing every 10 µs
//! for half an hour, or a month of simulated time, make more events than the event budget and
//! hold more than the machine has. The kernel stops such a run when it reaches a budget, but
//! only after spending minutes and gigabytes to learn what the files already said. So
//! validation adds up what the run must at least do and hold, and rejects the scenario, naming
//! the workload or check that costs most, when that exceeds its `event_budget` or
//! `memory_budget`.
//!
//! The estimate is a **lower bound**: each term counts only work the run cannot avoid, so a
//! scenario that fits its budgets at run time is never rejected here. It counts
//!
//! - per client operation, its `NextOp` timer, the arrival of its first request, and its
//!   first `OpTimeout` timer when it may retry; each operation's 32-byte history record, and
//!   the retry timers pending at the end;
//! - per round of a periodic timer (heartbeats, failure checks, health checks, sentinel pings,
//!   backup schedules, the restore runbook's checks), its timer and the messages it sends;
//! - the faults' own events, and the steady-state counters (16 bytes per service and bucket)
//!   and the first run's replication lag (8 bytes per member and second).
//!
//! and leaves out everything that depends on what happens: replies, forwarding, replication,
//! retries, failovers. Work is counted only while the node doing it is up: until the first
//! fault that stops it (a restart is not counted). A message counts when it arrives, and one
//! sent within the slack of the end (the longest a message can take) might arrive too late,
//! so those are left out. Poisson
//! arrivals count six standard deviations below their mean. On the shipped scenarios the
//! estimate is 30 to 40 % of the events the runs really process (`docs/SCENARIOS.md`, Limits).

use super::{FaultKind, Scenario, Workload};
use crate::logic::periodic::Phase;
use crate::logic::{Msg, Timer};
use crate::measure::client::Arrivals;
use crate::measure::history::OpRecord;
use crate::model::error::{InputError, Source};
use crate::model::topology::Topology;
use crate::sim::kernel::queue_entry_bytes;
use crate::sim::network::{Jitter, Place};
use crate::sim::time::SimDuration;

/// Bytes of one client history record.
const OP_BYTES: u64 = std::mem::size_of::<OpRecord>() as u64;
/// Bytes of one queued timer or message.
const ENTRY_BYTES: u64 = queue_entry_bytes::<Msg, Timer>();
/// Bytes per service and steady-state bucket: acknowledged and failed counters.
const BUCKET_BYTES: u64 = 16;
/// Bytes per datastore member and second of the first run's replication-lag series.
const LAG_BYTES: u64 = 8;
/// Standard deviations below the mean counted for Poisson arrivals: a run makes fewer
/// operations than that with probability below one in a billion.
const POISSON_SIGMAS: f64 = 6.0;
/// Exponential jitter is counted up to this many means: the largest of billions of draws
/// stays below it with probability above 1 − 10⁻⁸.
const JITTER_MEANS: u64 = 40;

/// Where a part of the cost is written, for the error that names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The scenario's `k`-th workload (its `writes` or `reads`).
    Workload(usize),
    /// A scenario field (`resolution`, `faults`).
    Scenario(&'static str),
    /// A topology entry: the quoted `name` after `near`.
    Topology { near: &'static str, name: String },
    /// A topology setting: the first of `fields` holding `value` (a check's interval).
    Setting {
        fields: &'static [&'static str],
        value: SimDuration,
    },
}

/// One part of the estimate: what costs, how much at least, and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// "clients `players-na` writing to `accounts` every 10ms on average make about …".
    pub what: String,
    pub events: u64,
    pub bytes: u64,
    pub origin: Origin,
}

/// The least a run of a scenario costs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Estimate {
    pub items: Vec<Item>,
}

impl Estimate {
    /// Events the run must process, at least.
    pub fn events(&self) -> u64 {
        self.items.iter().map(|i| i.events).sum()
    }
    /// Bytes the run must hold at its end, at least.
    pub fn bytes(&self) -> u64 {
        self.items.iter().map(|i| i.bytes).sum()
    }
}

/// Rejects `s` on `topo` when its least cost exceeds its event or memory budget; the error
/// points at the part that costs most.
pub fn check(topo: &Topology, s: &Scenario) -> Result<Estimate, InputError> {
    let e = estimate(topo, s);
    let (total_events, total_bytes) = (e.events(), e.bytes());
    if total_events > s.event_budget {
        let item = e
            .items
            .iter()
            .max_by_key(|i| i.events)
            .expect("over budget");
        let rest = whole(item.events, total_events, thousands);
        return Err(locate(
            topo,
            s,
            item,
            format!(
                "{}: at least {} events{rest}, more than the event budget of {} (raise `event_budget`, shorten the run or lengthen the interval)",
                item.what,
                thousands(item.events),
                thousands(s.event_budget)
            ),
        ));
    }
    if total_bytes > s.memory_budget {
        let item = e.items.iter().max_by_key(|i| i.bytes).expect("over budget");
        let rest = whole(item.bytes, total_bytes, bytes);
        return Err(locate(
            topo,
            s,
            item,
            format!(
                "{}: at least {} of memory{rest}, more than the memory budget of {} (raise `memory_budget`, shorten the run or lengthen the interval)",
                item.what,
                bytes(item.bytes),
                bytes(s.memory_budget)
            ),
        ));
    }
    Ok(e)
}

/// " (the whole run at least N)" when the item is not the whole.
fn whole(part: u64, total: u64, show: fn(u64) -> String) -> String {
    if total > part {
        format!(" (the whole run at least {})", show(total))
    } else {
        String::new()
    }
}

/// The error for `item`, in the file that holds it.
fn locate(topo: &Topology, s: &Scenario, item: &Item, message: String) -> InputError {
    match &item.origin {
        Origin::Workload(k) => workload_error(&s.source, *k, message),
        Origin::Scenario(field) => s.source.invalid_field(field, 0, message),
        Origin::Topology { near, name } => topo.source.invalid(near, name, message),
        Origin::Setting { fields, value } => {
            let err = topo.source.invalid_duration(fields, *value, message);
            match err {
                InputError::Invalid {
                    file,
                    line,
                    column,
                    message,
                    ..
                } => InputError::Invalid {
                    file,
                    line,
                    column,
                    name: String::new(),
                    message,
                },
                other => other,
            }
        }
    }
}

/// An error at the `writes` (or `reads`) of the `k`-th workload: the `k`-th `clients:` field
/// of the file, then the first `writes:` or `reads:` after it.
fn workload_error(src: &Source, k: usize, message: String) -> InputError {
    let Some((start, _)) = src.field_value("clients", k) else {
        return src.invalid_field("workload", 0, message);
    };
    let rate = ["writes", "reads"]
        .iter()
        .flat_map(|f| src.field_values(f))
        .filter(|(offset, _)| *offset > start)
        .min_by_key(|(offset, _)| *offset);
    match rate {
        Some((offset, _)) => src.invalid_at(offset, String::new(), message),
        None => src.invalid_at(start, String::new(), message),
    }
}

/// The least cost of one run of `s` on `topo`, part by part.
pub fn estimate(topo: &Topology, s: &Scenario) -> Estimate {
    let span = Span {
        end: s.duration,
        horizon: horizons(topo, s),
        slack: slack(topo, s),
    };
    let mut items = Vec::new();
    for (k, w) in s.workload.iter().enumerate() {
        items.push(workload(topo, w, k, &span));
    }
    items.extend(heartbeats(topo, &span));
    items.extend(health_checks(topo, &span));
    items.extend(sentinels(topo, &span));
    items.extend(scrapes(topo, &span));
    items.extend(backups(topo, &span));
    items.push(faults(s));
    items.extend(series(topo, s));
    items.retain(|i| i.events > 0 || i.bytes > 0);
    Estimate { items }
}

/// What bounds the counting: the end of the run, when each node stops, and how late a
/// message may arrive.
struct Span {
    end: SimDuration,
    /// Per node: the start of the first fault that stops it, or the end of the run.
    horizon: Vec<SimDuration>,
    slack: SimDuration,
}

impl Span {
    /// The time before which a message sent by `node` is surely sent and delivered in the run.
    fn delivered(&self, node: u32) -> SimDuration {
        self.horizon[node as usize].min(SimDuration(self.end.0.saturating_sub(self.slack.0)))
    }
}

/// Per node, when the first fault that stops it starts (zone, region, provider loss or a
/// crash), else the end of the run: one pass over the faults, one over the nodes.
fn horizons(topo: &Topology, s: &Scenario) -> Vec<SimDuration> {
    let end = s.duration;
    let mut node = vec![end; topo.node_names.len()];
    let mut zone = vec![end; topo.zones.len()];
    let mut region = vec![end; topo.regions.len()];
    let mut provider = vec![end; topo.providers.len()];
    for f in &s.faults {
        let stops = matches!(
            f.kind,
            FaultKind::ZoneLoss(_)
                | FaultKind::RegionLoss(_)
                | FaultKind::ProviderOutage(_)
                | FaultKind::NodeCrash(_)
        );
        if !stops {
            continue;
        }
        let at = f.at.saturating_since(crate::sim::time::SimTime::ZERO);
        let slot = match f.place {
            Place::Node(n) => &mut node[n as usize],
            Place::Zone(z) => &mut zone[z as usize],
            Place::Region(r) => &mut region[r as usize],
            Place::Provider(p) => &mut provider[p as usize],
        };
        *slot = (*slot).min(at);
    }
    (0..topo.node_names.len())
        .map(|n| {
            let z = topo.node_zone[n] as usize;
            let r = topo.zones[z].region as usize;
            let p = topo.regions[r].1 as usize;
            node[n].min(zone[z]).min(region[r]).min(provider[p])
        })
        .collect()
}

/// The longest a message can take: the largest one-way latency, every added latency of the
/// scenario at once, and the jitter's bound ([`JITTER_MEANS`] means for exponential jitter).
fn slack(topo: &Topology, s: &Scenario) -> SimDuration {
    let base = topo.layout.zone_latency.iter().max().copied();
    let extra: u64 = s.faults.iter().map(|f| f.extra.0).sum();
    let jitter = match topo.layout.jitter {
        Jitter::None => 0,
        Jitter::Uniform(max) => max.0,
        Jitter::Exponential(mean) => mean.0.saturating_mul(JITTER_MEANS),
    };
    SimDuration(
        base.unwrap_or(SimDuration::ZERO)
            .0
            .saturating_add(extra)
            .saturating_add(jitter),
    )
}

/// Firings of a periodic timer of period `every` whose first firing is at most `first`,
/// before `until`.
fn firings(first: SimDuration, every: SimDuration, until: SimDuration) -> u64 {
    if until <= first || every.is_zero() {
        return 0;
    }
    (until.0 - first.0).div_ceil(every.0)
}

/// The latest first firing a phase allows: a random or staggered phase is below the period.
fn first_max(phase: Phase, every: SimDuration) -> SimDuration {
    match phase {
        Phase::Fixed(offset) => offset,
        Phase::Stagger(_) | Phase::Random => SimDuration(every.0.saturating_sub(1)),
    }
}

/// Operations a workload surely sends before `until`: operation i (from 1) at `i × every`,
/// or for Poisson arrivals [`POISSON_SIGMAS`] standard deviations below the mean count.
fn operations(arrivals: Arrivals, until: SimDuration) -> u64 {
    match arrivals {
        Arrivals::Fixed(every) => until.0.saturating_sub(1) / every.0,
        Arrivals::Poisson(mean) => {
            let m = (until.0 / mean.0) as f64;
            (m - POISSON_SIGMAS * m.sqrt() - 1.0).max(0.0) as u64
        }
    }
}

fn workload(topo: &Topology, w: &Workload, k: usize, span: &Span) -> Item {
    let c = &topo.clients[w.client];
    let until = span.horizon[c.node as usize];
    let sent = operations(w.arrivals, until);
    let arrived = operations(w.arrivals, span.delivered(c.node));
    let timed = SimDuration(span.end.0.saturating_sub(w.timeout.0)).min(until);
    let (retry_timers, pending) = if w.retries > 0 {
        let fired = operations(w.arrivals, timed);
        (fired, sent - fired.min(sent))
    } else {
        (0, 0)
    };
    let (every, how) = match w.arrivals {
        Arrivals::Fixed(d) => (d, ""),
        Arrivals::Poisson(d) => (d, " on average"),
    };
    let service = &topo.services[w.service];
    let verb = if service.datastore.is_some() || service.rpc.is_some() {
        "writing to"
    } else {
        "reading from"
    };
    let expected = until.0 / every.0;
    let when = if until < span.end {
        format!("the first {} (until a fault stops them)", until.human())
    } else {
        until.human()
    };
    Item {
        what: format!(
            "clients `{}` {verb} `{}` every {}{how} make about {} operations in {when}",
            c.name,
            service.name,
            every.human(),
            thousands(expected)
        ),
        events: sent + arrived + retry_timers,
        bytes: sent * OP_BYTES + pending * ENTRY_BYTES,
        origin: Origin::Workload(k),
    }
}

/// Per monitor: every watched node's heartbeat (a timer and a message) and the monitor's own
/// checks, every `loop_wait`.
fn heartbeats(topo: &Topology, span: &Span) -> Vec<Item> {
    topo.monitors
        .iter()
        .map(|m| {
            let beat = first_max(m.heartbeat_phase, m.loop_wait);
            let beats: u64 = m
                .watched
                .iter()
                .map(|&n| {
                    firings(beat, m.loop_wait, span.horizon[n as usize])
                        + firings(beat, m.loop_wait, span.delivered(n))
                })
                .sum();
            let check = first_max(m.check_phase, m.loop_wait);
            let checks = firings(check, m.loop_wait, span.horizon[m.node as usize]);
            let name = topo.node_names[m.node as usize].clone();
            Item {
                what: format!(
                    "monitor `{name}` with {} nodes heartbeating every {}",
                    m.watched.len(),
                    m.loop_wait.human()
                ),
                events: beats + checks,
                bytes: 0,
                origin: Origin::Topology {
                    near: "monitors",
                    name,
                },
            }
        })
        .collect()
}

/// Every Prometheus server: per round its scrape and timeout timers and a scrape arriving at
/// each target still up, and its rule evaluations (replies not counted: a lower bound).
fn scrapes(topo: &Topology, span: &Span) -> Vec<Item> {
    topo.monitoring
        .iter()
        .map(|m| {
            let spec = &m.spec;
            let until = span.horizon[m.node as usize];
            let rounds = firings(SimDuration::ZERO, spec.scrape_interval, until);
            let arrivals: u64 = spec
                .targets
                .iter()
                .map(|&t| {
                    let by = span.delivered(m.node).min(span.horizon[t as usize]);
                    firings(SimDuration::ZERO, spec.scrape_interval, by)
                })
                .sum();
            let every = spec.evaluation_interval;
            let evaluations = firings(every, every, until);
            Item {
                what: format!(
                    "Prometheus `{}` scraping {} nodes every {}",
                    m.name,
                    spec.targets.len(),
                    spec.scrape_interval.human()
                ),
                events: 2 * rounds + arrivals + evaluations,
                bytes: 0,
                origin: Origin::Topology {
                    near: "monitoring",
                    name: m.name.clone(),
                },
            }
        })
        .collect()
}

/// A group of health checkers with the same settings: who, what each probes, and where the
/// group is written.
struct Checkers<'a> {
    what: String,
    nodes: Vec<u32>,
    /// Messages per target and round (an RPC balancer also polls each provider's head).
    targets: u64,
    spec: &'a crate::logic::health_check::HealthCheckSpec,
    origin: Origin,
}

/// Every health checker: app servers' role checks, load balancers, the DNS, RPC balancers.
fn health_checks(topo: &Topology, span: &Span) -> Vec<Item> {
    let mut groups = Vec::new();
    for t in &topo.apps {
        if let (Some(d), Some(spec)) = (t.datastore, &t.check) {
            let first = &topo.node_names[t.nodes[0] as usize];
            groups.push(Checkers {
                what: format!(
                    "role checks of the app tier of `{first}` ({} servers checking {} members)",
                    t.nodes.len(),
                    topo.datastores[d].members.len()
                ),
                nodes: t.nodes.clone(),
                targets: topo.datastores[d].members.len() as u64,
                spec,
                origin: Origin::Setting {
                    fields: &["inter", "interval"],
                    value: spec.interval,
                },
            });
        }
    }
    for l in &topo.load_balancers {
        let name = topo.node_names[l.node as usize].clone();
        groups.push(Checkers {
            what: format!("health checks of load balancer `{name}`"),
            nodes: vec![l.node],
            targets: l.targets.len() as u64,
            spec: &l.check,
            origin: Origin::Topology {
                near: "load_balancers",
                name,
            },
        });
    }
    if let Some(d) = &topo.dns {
        let name = topo.node_names[d.node as usize].clone();
        groups.push(Checkers {
            what: format!("DNS health checks of `{name}`"),
            nodes: vec![d.node],
            targets: d.endpoints.len() as u64,
            spec: &d.check,
            origin: Origin::Setting {
                fields: &["request_interval"],
                value: d.check.interval,
            },
        });
    }
    for r in &topo.rpcs {
        groups.push(Checkers {
            what: format!("the RPC balancers of `{}`", r.name),
            nodes: r.balancers.clone(),
            targets: 2 * r.providers.len() as u64,
            spec: &r.check,
            origin: Origin::Setting {
                fields: &["inter", "interval"],
                value: r.check.interval,
            },
        });
    }
    groups.into_iter().map(|g| checkers(g, span)).collect()
}

/// Per round and checker: its tick, its probes' arrivals and its probe timeout.
fn checkers(g: Checkers<'_>, span: &Span) -> Item {
    let (every, first) = (g.spec.interval, first_max(g.spec.phase, g.spec.interval));
    let timed = SimDuration(span.end.0.saturating_sub(g.spec.timeout.0));
    let events = g
        .nodes
        .iter()
        .map(|&n| {
            let until = span.horizon[n as usize];
            firings(first, every, until)
                + g.targets * firings(first, every, span.delivered(n))
                + firings(first, every, until.min(timed))
        })
        .sum();
    Item {
        what: format!("{} every {}", g.what, every.human()),
        events,
        // Each checker's next tick and its round's probe timeout wait in the queue.
        bytes: 2 * g.nodes.len() as u64 * ENTRY_BYTES,
        origin: g.origin,
    }
}

/// Per sentinel: its tick and a ping to every member, every `ping_interval`.
fn sentinels(topo: &Topology, span: &Span) -> Vec<Item> {
    topo.datastores
        .iter()
        .filter_map(|d| {
            let si = d.sentinel.as_ref()?;
            let first = first_max(si.phase, si.ping_interval);
            let members = d.members.len() as u64;
            let events = si
                .nodes
                .iter()
                .map(|&n| {
                    firings(first, si.ping_interval, span.horizon[n as usize])
                        + members * firings(first, si.ping_interval, span.delivered(n))
                })
                .sum();
            Some(Item {
                what: format!(
                    "the {} sentinels of `{}` pinging {members} members every {}",
                    si.nodes.len(),
                    d.name,
                    si.ping_interval.human()
                ),
                events,
                bytes: 0,
                origin: Origin::Topology {
                    near: "sentinel",
                    name: topo.node_names[si.nodes[0] as usize].clone(),
                },
            })
        })
        .collect()
}

/// Per datastore with backups: every member's backup and WAL-archiving timers, and the
/// restore runbook's integrity checks and metrics scrapes.
fn backups(topo: &Topology, span: &Span) -> Vec<Item> {
    topo.datastores
        .iter()
        .filter_map(|d| {
            let b = d.backup.as_ref()?;
            let mut events = 0;
            for &m in &d.members {
                let until = span.horizon[m as usize];
                for (_, cron) in [b.snapshots, b.archive].into_iter().flatten() {
                    events += firings(cron.phase, cron.every, until);
                }
                if let Some((_, every)) = b.wal_archive {
                    events += firings(every, every, until);
                }
            }
            if let Some(r) = &b.recovery {
                let until = span.horizon[r.node as usize];
                let check = r.integrity_check;
                events += firings(check.phase, check.every, until);
                if r.user_report_after.is_some() {
                    events += firings(r.metrics_scrape, r.metrics_scrape, until);
                }
            }
            Some(Item {
                what: format!("the backup schedules and restore runbook of `{}`", d.name),
                events,
                bytes: 0,
                origin: Origin::Topology {
                    near: "backup",
                    name: d.name.clone(),
                },
            })
        })
        .collect()
}

/// Each fault's start and, when it ends inside the run, its end: one event each.
fn faults(s: &Scenario) -> Item {
    let events = s
        .faults
        .iter()
        .map(|f| 1 + u64::from(f.until.is_some_and(|u| u.0 < s.duration.0)))
        .sum();
    Item {
        what: format!("the {} faults", s.faults.len()),
        events,
        bytes: 0,
        origin: Origin::Scenario("faults"),
    }
}

/// The judge's counters: per service and steady-state bucket, and the first run's
/// replication lag per member and second.
fn series(topo: &Topology, s: &Scenario) -> Vec<Item> {
    let res = s.steady_state.resolution;
    let buckets = s.duration.0.div_ceil(res.0);
    let services = topo.services.len() as u64;
    let seconds = s.duration.0.div_ceil(1_000_000_000);
    let members: u64 = topo.datastores.iter().map(|d| d.members.len() as u64).sum();
    vec![
        Item {
            what: format!(
                "the steady-state series ({services} services × {} buckets of {})",
                thousands(buckets),
                res.human()
            ),
            events: 0,
            bytes: BUCKET_BYTES * services * buckets,
            origin: Origin::Scenario("resolution"),
        },
        Item {
            what: format!(
                "the replication lag of the first run ({members} members × {} seconds)",
                thousands(seconds)
            ),
            events: 0,
            bytes: LAG_BYTES * members * seconds,
            origin: Origin::Scenario("duration"),
        },
    ]
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `4294967296` → `4 GiB`, `1536` → `1.5 KiB`.
pub fn bytes(n: u64) -> String {
    let units = [
        (1u64 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (scale, unit) in units {
        if n >= scale {
            let v = n as f64 / scale as f64;
            let text = format!("{v:.1}");
            return format!("{} {unit}", text.trim_end_matches(".0"));
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scenario::ParsedScenario;

    const RW1: &str = include_str!("../../../topologies/rw1.ron");

    fn rw1(edits: &[(&str, &str)]) -> Topology {
        let mut text = RW1.to_string();
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            text = text.replace(from, to);
        }
        Topology::from_source(Source::inline("topologies/rw1.ron", &text)).unwrap()
    }

    /// A scenario on RW1's topology: `duration`, one workload line, extra fields.
    fn text(duration: &str, workload: &str, extra: &str) -> String {
        format!(
            "Scenario(\n    name: \"t\",\n    topology: \"rw1\",\n    duration: \"{duration}\",{extra}\n    workload: [\n        {workload},\n    ],\n    targets: (rto: \"15m\", rpo: \"0s\"),\n)"
        )
    }

    fn resolve(topo: &Topology, text: &str) -> Result<Scenario, InputError> {
        ParsedScenario::from_source(Source::inline("t.ron", text))?.resolve(topo)
    }

    /// The estimate of a scenario that fits its budgets.
    fn estimated(topo: &Topology, text: &str) -> Estimate {
        let s = resolve(topo, text).unwrap_or_else(|e| panic!("{e}"));
        estimate(topo, &s)
    }

    const WRITES: &str = "Clients(clients: \"client\", writes: Fixed(\"1ms\"), timeout: \"1s\"";

    #[test]
    fn fixed_operations_are_counted_exactly() {
        let topo = rw1(&[]);
        let e = estimated(&topo, &text("60s", &format!("{WRITES}, retries: 0)"), ""));
        let w = &e.items[0];
        assert_eq!(w.origin, Origin::Workload(0));
        // Operations at 1 ms, 2 ms, … 59.999 s: a timer each, and an arrival for those sent
        // at least the slack (the largest latency, 70 ms between r0 and r2) before the end.
        assert_eq!(w.events, 59_999 + 59_929);
        assert_eq!(w.bytes, 59_999 * OP_BYTES);
        // With a retry, each operation's first timeout fires if it is due before the end.
        let e = estimated(&topo, &text("60s", &format!("{WRITES}, retries: 1)"), ""));
        assert_eq!(e.items[0].events, 59_999 + 59_929 + 58_999);
        assert_eq!(
            e.items[0].bytes,
            59_999 * OP_BYTES + (59_999 - 58_999) * ENTRY_BYTES
        );
    }

    #[test]
    fn a_fault_that_stops_the_clients_ends_their_count() {
        let topo = rw1(&[]);
        let fault = "\n    faults: [Fault(at: \"30s\", kind: ZoneLoss(\"r0/z1\"))],";
        let e = estimated(
            &topo,
            &text("60s", &format!("{WRITES}, retries: 0)"), fault),
        );
        assert_eq!(e.items[0].events, 29_999 + 29_999);
        assert!(
            e.items[0].what.contains("in the first 30s"),
            "{}",
            e.items[0].what
        );
        // mon0, the client and ten app servers are in r0/z1: half a minute less of mon0's
        // checks (about 30) and of the app servers' heartbeats (10 × 30, a timer and a
        // message each) than mon1, which nothing stops.
        let mon0 = e.items.iter().find(|i| i.what.contains("`mon0`")).unwrap();
        let mon1 = e.items.iter().find(|i| i.what.contains("`mon1`")).unwrap();
        let fewer = mon1.events - mon0.events;
        assert!((600..=640).contains(&fewer), "{mon0:?} {mon1:?}");
    }

    #[test]
    fn poisson_arrivals_count_six_deviations_below_the_mean() {
        let hour = SimDuration::from_secs(3600);
        let n = operations(Arrivals::Poisson(SimDuration::from_millis(1)), hour);
        assert_eq!(n, 3_588_614);
        assert_eq!(operations(Arrivals::Poisson(hour), hour), 0);
        assert_eq!(operations(Arrivals::Fixed(hour), hour), 0);
    }

    #[test]
    fn periodic_timers_fire_from_their_latest_phase() {
        let s = SimDuration::from_secs;
        assert_eq!(firings(s(0), s(1), s(10)), 10);
        assert_eq!(firings(SimDuration::from_millis(999), s(1), s(10)), 10);
        assert_eq!(firings(s(10), s(1), s(10)), 0);
        assert_eq!(
            first_max(Phase::Random, s(3)),
            SimDuration(3_000_000_000 - 1)
        );
        assert_eq!(first_max(Phase::Fixed(s(30)), s(3)), s(30));
    }

    #[test]
    fn too_many_events_names_the_workload_and_its_line() {
        let topo = rw1(&[]);
        let t = text(
            "1h",
            "Clients(clients: \"client\", writes: Fixed(\"10us\"), timeout: \"1s\")",
            "",
        );
        let err = resolve(&topo, &t).unwrap_err().to_string();
        assert!(
            err.starts_with("t.ron:6:44: clients `client` writing to `db` every 10µs make about 360,000,000 operations in 1h: at least 719,"),
            "{err}"
        );
        assert!(
            err.contains("more than the event budget of 500,000,000"),
            "{err}"
        );
        // The same clients fit a larger budget, and then the memory budget is what stops them.
        let t = t.replace(
            "duration: \"1h\",",
            "duration: \"1h\",\n    event_budget: Some(1000000000),",
        );
        let err = resolve(&topo, &t).unwrap_err().to_string();
        assert!(err.contains("t.ron:7:44:"), "{err}");
        assert!(
            err.contains("at least 10.7 GiB of memory") && err.contains("memory budget of 4 GiB"),
            "{err}"
        );
    }

    #[test]
    fn a_small_memory_budget_is_checked_before_the_run() {
        let topo = rw1(&[]);
        let t = text(
            "1h",
            &format!("{WRITES}, retries: 0)"),
            "\n    memory_budget: \"64MiB\",",
        );
        let err = resolve(&topo, &t).unwrap_err().to_string();
        assert!(
            err.contains("at least 109.9 MiB of memory")
                && err.contains("more than the memory budget of 64 MiB"),
            "{err}"
        );
        assert!(resolve(&topo, &t.replace("64MiB", "1GiB")).is_ok());
    }

    #[test]
    fn a_fast_check_over_a_long_run_is_named_in_the_topology() {
        let topo = rw1(&[("loop_wait: \"1s\"", "loop_wait: \"1ms\"")]);
        let t = text("1h", &format!("{WRITES}, retries: 0)"), "");
        let err = resolve(&topo, &t).unwrap_err().to_string();
        assert!(err.starts_with("topologies/rw1.ron:"), "{err}");
        assert!(
            err.contains("monitor `mon2` with 31 nodes heartbeating every 1ms: at least 22"),
            "{err}"
        );
    }

    #[test]
    fn numbers_read_like_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(bytes(4 << 30), "4 GiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(10), "10 bytes");
    }
}

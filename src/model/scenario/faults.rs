//! The `faults` section: every fault kind the simulator can inject, when it starts and how
//! long it lasts, its target resolved against the topology, a readable description, and the
//! kernel's view of it (the network change and its reversal).
//!
//! It does not own what a fault does to a component at run time (`run::build`, `logic`).

use crate::model::error::{InputError, Source};
use crate::model::topology::{PlaceRef, Topology};
use crate::model::{Dur, limits};
use crate::sim::kernel::NetFault;
use crate::sim::network::Place;
use crate::sim::time::{SimDuration, SimTime};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Fault")]
pub struct FaultDef {
    pub at: Dur,
    /// How long the fault lasts; absent means until the end of the run.
    #[serde(default)]
    pub duration: Option<Dur>,
    pub kind: FaultKind,
}

/// Every fault kind the simulator can inject.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub enum FaultKind {
    /// Every node in the zone stops.
    ZoneLoss(String),
    /// Every node in the region stops.
    RegionLoss(String),
    /// Every node of the cloud provider stops.
    ProviderOutage(String),
    /// One node stops (volatile state lost; it restarts from durable state when the fault
    /// ends).
    NodeCrash(String),
    /// Messages between the two places are lost, both ways.
    Partition { a: PlaceRef, b: PlaceRef },
    /// The blockchain behind an RPC group stops producing blocks: every provider's head
    /// freezes and calls fail until it resumes.
    ChainHalt(String),
    /// One RPC provider fails this share of calls (0 < rate ≤ 1).
    RpcErrors { provider: String, rate: f64 },
    /// A bad transaction (a faulty migration, an `UPDATE` without `WHERE`) damages this share
    /// of a datastore's rows (0 < share ≤ 1); it commits on the primary and replicates.
    TableCorruption { datastore: String, share: f64 },
    /// Someone (ransomware, a mistaken cleanup script) tries to delete every backup in a store.
    BackupDeletion(String),
    /// Messages to or from `a` (or between `a` and `b`) take `extra` longer.
    Latency {
        a: PlaceRef,
        #[serde(default)]
        b: Option<PlaceRef>,
        extra: Dur,
    },
}

/// A fault resolved against the topology.
#[derive(Clone, Debug)]
pub struct Fault {
    pub at: SimTime,
    pub until: Option<SimTime>,
    pub kind: FaultKind,
    pub place: Place,
    pub other: Option<Place>,
    pub extra: SimDuration,
    pub detail: String,
}

impl Fault {
    /// The kernel's view: the change at `at`, and its reversal at `until`.
    pub fn net_faults(&self, id: u32) -> Vec<(SimTime, NetFault)> {
        let (apply, revert) = match &self.kind {
            FaultKind::Partition { .. } => (
                NetFault::Partition {
                    id,
                    a: self.place,
                    b: self.other.expect("validated: partitions have two sides"),
                },
                NetFault::Heal { id },
            ),
            FaultKind::Latency { .. } => (
                NetFault::AddLatency {
                    id,
                    a: self.place,
                    b: self.other,
                    extra: self.extra,
                },
                NetFault::RemoveLatency { id },
            ),
            FaultKind::ChainHalt(_)
            | FaultKind::RpcErrors { .. }
            | FaultKind::TableCorruption { .. }
            | FaultKind::BackupDeletion(_) => (
                NetFault::Process { id, on: true },
                NetFault::Process { id, on: false },
            ),
            _ => (NetFault::Down(self.place), NetFault::Up(self.place)),
        };
        let mut v = vec![(self.at, apply)];
        if let Some(u) = self.until {
            v.push((u, revert));
        }
        v
    }
}

/// What a fault hits: a place, the other side of a link fault, and added latency.
type Target = (Place, Option<Place>, SimDuration);

/// Resolves every fault, at most [`limits::FAULTS_MAX`], in the order written.
pub(super) fn resolve(
    src: &Source,
    topo: &Topology,
    defs: &[FaultDef],
    duration: SimDuration,
) -> Result<Vec<Fault>, InputError> {
    if defs.len() > limits::FAULTS_MAX {
        return Err(src.invalid(
            "faults",
            "",
            format!("more than {} faults", limits::FAULTS_MAX),
        ));
    }
    let mut faults = Vec::new();
    for (i, fd) in defs.iter().enumerate() {
        faults.push(resolve_fault(src, topo, fd, i, duration)?);
    }
    Ok(faults)
}

/// Resolves fault number `index`: its window within the run, its target and description.
fn resolve_fault(
    src: &Source,
    topo: &Topology,
    fd: &FaultDef,
    index: usize,
    duration: SimDuration,
) -> Result<Fault, InputError> {
    let at = SimTime::ZERO + fd.at.0;
    if fd.at.0 >= duration {
        return Err(src.invalid_field(
            "at",
            index,
            format!("the fault starts at or after the end of the run ({duration})"),
        ));
    }
    let until = match fd.duration {
        None => None,
        Some(d) if d.0.is_zero() => {
            return Err(src.invalid(
                "duration",
                &d.0.to_string(),
                "a fault's duration must be greater than zero (leave it out to last until the end)",
            ));
        }
        Some(d) => Some(at + d.0),
    };
    let (place, other, extra) = target(src, topo, &fd.kind)?;
    let detail = describe(topo, &fd.kind, place, other, extra);
    Ok(Fault {
        at,
        until,
        kind: fd.kind.clone(),
        place,
        other,
        extra,
        detail,
    })
}

/// What a fault hits: places for losses, crashes, partitions and added latency; the node a
/// process-level fault is attached to for the others.
fn target(src: &Source, topo: &Topology, kind: &FaultKind) -> Result<Target, InputError> {
    let place_of = |p: &PlaceRef| -> Result<Place, InputError> {
        topo.place(p).ok_or_else(|| {
            src.invalid(
                "kind",
                p.name(),
                format!("no such {} in topology `{}`", kind_word(p), topo.name),
            )
        })
    };
    let alone = |p: Place| -> Target { (p, None, SimDuration::ZERO) };
    let node = |n: u32| -> Target { alone(Place::Node(n)) };
    Ok(match kind {
        FaultKind::ZoneLoss(z) => alone(place_of(&PlaceRef::Zone(z.clone()))?),
        FaultKind::RegionLoss(r) => alone(place_of(&PlaceRef::Region(r.clone()))?),
        FaultKind::ProviderOutage(p) => alone(place_of(&PlaceRef::Provider(p.clone()))?),
        FaultKind::NodeCrash(n) => alone(place_of(&PlaceRef::Node(n.clone()))?),
        FaultKind::Partition { a, b } => {
            let (pa, pb) = (place_of(a)?, place_of(b)?);
            if pa == pb {
                return Err(src.invalid(
                    "Partition",
                    a.name(),
                    "a partition needs two different places",
                ));
            }
            (pa, Some(pb), SimDuration::ZERO)
        }
        FaultKind::ChainHalt(chain) => node(chain_halt_target(src, topo, chain)?),
        FaultKind::RpcErrors { provider, rate } => {
            node(rpc_errors_target(src, topo, provider, *rate)?)
        }
        FaultKind::TableCorruption { datastore, share } => {
            node(corruption_target(src, topo, datastore, *share)?)
        }
        FaultKind::BackupDeletion(store) => node(backup_store_target(src, topo, store)?),
        FaultKind::Latency { a, b, extra } => {
            if extra.0.is_zero() {
                return Err(src.invalid(
                    "extra",
                    a.name(),
                    "added latency must be greater than zero",
                ));
            }
            (place_of(a)?, b.as_ref().map(place_of).transpose()?, extra.0)
        }
    })
}

/// A chain halt is attached to the first provider of its RPC group.
fn chain_halt_target(src: &Source, topo: &Topology, chain: &str) -> Result<u32, InputError> {
    let k = topo
        .rpcs
        .iter()
        .position(|r| r.name == chain)
        .ok_or_else(|| src.invalid("ChainHalt", chain, "no such RPC group in `rpc`"))?;
    Ok(topo.rpcs[k].providers[0])
}

/// A bad transaction commits on the datastore's primary; it damages a share in (0, 1].
fn corruption_target(
    src: &Source,
    topo: &Topology,
    datastore: &str,
    share: f64,
) -> Result<u32, InputError> {
    let d = topo
        .datastores
        .iter()
        .find(|d| d.name == datastore)
        .ok_or_else(|| src.invalid("TableCorruption", datastore, "no such datastore"))?;
    if !(share > 0.0 && share <= 1.0) {
        return Err(src.invalid(
            "share",
            datastore,
            "the damaged share of the rows is in (0, 1]",
        ));
    }
    Ok(d.members[d.primary])
}

/// A deletion attempt is attached to the node standing for the backup store.
fn backup_store_target(src: &Source, topo: &Topology, store: &str) -> Result<u32, InputError> {
    let b = topo
        .backup_stores
        .iter()
        .find(|b| b.name == store)
        .ok_or_else(|| src.invalid("BackupDeletion", store, "no such store in `backup_stores`"))?;
    Ok(b.node)
}

/// The RPC provider node whose calls fail, with a rate in (0, 1].
fn rpc_errors_target(
    src: &Source,
    topo: &Topology,
    provider: &str,
    rate: f64,
) -> Result<u32, InputError> {
    let node = topo
        .node(provider)
        .ok_or_else(|| src.invalid("provider", provider, "no such node"))?;
    if !topo.rpcs.iter().any(|r| r.providers.contains(&node)) {
        return Err(src.invalid("provider", provider, "not an RPC provider"));
    }
    if !(rate > 0.0 && rate <= 1.0) {
        return Err(src.invalid("rate", provider, "the error rate is a share in (0, 1]"));
    }
    Ok(node)
}

/// The word for a place's kind, for messages.
fn kind_word(p: &PlaceRef) -> &'static str {
    match p {
        PlaceRef::Provider(_) => "provider",
        PlaceRef::Region(_) => "region",
        PlaceRef::Zone(_) => "zone",
        PlaceRef::Node(_) => "node",
    }
}

/// A readable description of a resolved fault, for timelines and reports.
fn describe(
    topo: &Topology,
    kind: &FaultKind,
    place: Place,
    other: Option<Place>,
    extra: SimDuration,
) -> String {
    match kind {
        FaultKind::ZoneLoss(z) => format!("zone {z} lost"),
        FaultKind::RegionLoss(r) => format!("region {r} lost"),
        FaultKind::ProviderOutage(p) => format!("provider {p} outage"),
        FaultKind::NodeCrash(n) => format!("node {n} crashed"),
        FaultKind::ChainHalt(c) => format!("chain halt behind RPC group {c}"),
        FaultKind::TableCorruption { datastore, share } => format!(
            "bad transaction damages {:.0}% of {datastore}'s rows (replicated to every member)",
            share * 100.0
        ),
        FaultKind::BackupDeletion(store) => {
            format!("attempt to delete every backup in store {store}")
        }
        FaultKind::RpcErrors { provider, rate } => {
            format!(
                "RPC provider {provider} fails {:.0}% of calls",
                rate * 100.0
            )
        }
        FaultKind::Partition { .. } => format!(
            "partition between {} and {}",
            topo.place_name(place),
            other.map(|o| topo.place_name(o)).unwrap_or_default()
        ),
        FaultKind::Latency { .. } => match other {
            Some(o) => format!(
                "+{extra} latency between {} and {}",
                topo.place_name(place),
                topo.place_name(o)
            ),
            None => format!("+{extra} latency at {}", topo.place_name(place)),
        },
    }
}

//! The `workload` section: what each client population does — the service it uses, how
//! often it sends, its timeout and retries — and the per-population operation limit.
//!
//! It does not own the populations themselves (the topology's `clients`) nor how clients
//! behave at run time (`measure::client`).

use crate::measure::client::Arrivals;
use crate::model::error::{InputError, Source};
use crate::model::topology::Topology;
use crate::model::{Dur, limits};
use crate::sim::time::SimDuration;
use serde::Deserialize;

/// What one client population does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Clients")]
pub struct WorkloadDef {
    pub clients: String,
    /// The service these writes are for; may be left out when the topology has one service.
    #[serde(default)]
    pub service: Option<String>,
    /// `Fixed("1ms")`: one operation every interval; `Poisson("10ms")`: exponential gaps with
    /// this mean. Also spelt `reads` (for a static site's requests).
    #[serde(alias = "reads")]
    pub writes: ArrivalsDef,
    pub timeout: Dur,
    #[serde(default)]
    pub retries: u32,
}

#[derive(Debug, Deserialize, Clone, Copy)]
pub enum ArrivalsDef {
    Fixed(Dur),
    Poisson(Dur),
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub client: usize,
    pub service: usize,
    pub arrivals: Arrivals,
    pub timeout: SimDuration,
    pub retries: u32,
}

/// Resolves every workload against `topo`; a run of `duration` must stay within the
/// operation limit of each population, and something must be measured.
pub(super) fn resolve(
    src: &Source,
    topo: &Topology,
    defs: &[WorkloadDef],
    duration: SimDuration,
) -> Result<Vec<Workload>, InputError> {
    let mut workload = Vec::new();
    for w in defs {
        let next = resolve_one(src, topo, w, duration)?;
        check_distinct(src, w, &next, &workload)?;
        workload.push(next);
    }
    // The operation limit is per population (operation numbers are per population).
    for (ci, c) in topo.clients.iter().enumerate() {
        let ops: u64 = workload
            .iter()
            .filter(|w| w.client == ci)
            .map(|w| match w.arrivals {
                Arrivals::Fixed(d) | Arrivals::Poisson(d) => duration.0 / d.0,
            })
            .sum();
        if ops > limits::OPS_PER_CLIENT_MAX {
            return Err(src.invalid(
                "clients",
                &c.name,
                format!(
                    "this population's workloads make more than {} operations in the run",
                    limits::OPS_PER_CLIENT_MAX
                ),
            ));
        }
    }
    if workload.is_empty() {
        return Err(src.invalid(
            "workload",
            "",
            "the workload is empty: without clients nothing can be measured",
        ));
    }
    Ok(workload)
}

/// Resolves one workload: its population, rate, timeout, retries and service.
fn resolve_one(
    src: &Source,
    topo: &Topology,
    w: &WorkloadDef,
    duration: SimDuration,
) -> Result<Workload, InputError> {
    let client = topo
        .clients
        .iter()
        .position(|c| c.name == w.clients)
        .ok_or_else(|| {
            src.invalid(
                "clients",
                &w.clients,
                format!("no such client population in topology `{}`", topo.name),
            )
        })?;
    let arrivals = arrivals(src, w, duration)?;
    if w.timeout.0.is_zero() {
        return Err(src.invalid(
            "timeout",
            &w.clients,
            "the timeout must be greater than zero",
        ));
    }
    if w.retries > 100 {
        return Err(src.invalid("retries", &w.clients, "at most 100 retries"));
    }
    Ok(Workload {
        client,
        service: service(src, topo, w, client)?,
        arrivals,
        timeout: w.timeout.0,
        retries: w.retries,
    })
}

/// The arrival process, its interval at least [`limits::CLIENT_INTERVAL_MIN_NS`] and its
/// operation count within [`limits::OPS_PER_CLIENT_MAX`].
fn arrivals(src: &Source, w: &WorkloadDef, duration: SimDuration) -> Result<Arrivals, InputError> {
    let (arrivals, every) = match w.writes {
        ArrivalsDef::Fixed(d) => (Arrivals::Fixed(d.0), d.0),
        ArrivalsDef::Poisson(d) => (Arrivals::Poisson(d.0), d.0),
    };
    let min = SimDuration(limits::CLIENT_INTERVAL_MIN_NS);
    if every < min {
        return Err(src.invalid_duration(
            &["writes", "reads"],
            every,
            format!(
                "clients `{}`: the interval between operations (`writes`) must be at least {}: each operation is at least two events and a history record (docs/SCENARIOS.md, Limits)",
                w.clients,
                min.human()
            ),
        ));
    }
    if duration.0 / every.0 > limits::OPS_PER_CLIENT_MAX {
        return Err(src.invalid(
            "writes",
            &w.clients,
            format!(
                "this rate makes more than {} operations in the run",
                limits::OPS_PER_CLIENT_MAX
            ),
        ));
    }
    Ok(arrivals)
}

/// The service a workload uses (named, or the only one), which its population must reach.
fn service(
    src: &Source,
    topo: &Topology,
    w: &WorkloadDef,
    client: usize,
) -> Result<usize, InputError> {
    let service = match &w.service {
        Some(name) => topo.service(name).ok_or_else(|| {
            src.invalid(
                "service",
                name,
                format!("no such service in topology `{}`", topo.name),
            )
        })?,
        None if topo.services.len() == 1 => 0,
        None => {
            return Err(src.invalid(
                "clients",
                &w.clients,
                "the topology has several services: name this workload's `service`",
            ));
        }
    };
    if !topo.can_serve(client, service) {
        return Err(src.invalid(
            "clients",
            &w.clients,
            format!(
                "this population cannot reach service `{}` (its datastore is neither its direct connection nor behind an app tier)",
                topo.services[service].name
            ),
        ));
    }
    Ok(service)
}

/// A population has at most one workload per service, and at most 255 in all.
fn check_distinct(
    src: &Source,
    w: &WorkloadDef,
    next: &Workload,
    workload: &[Workload],
) -> Result<(), InputError> {
    if workload
        .iter()
        .any(|x| x.client == next.client && x.service == next.service)
    {
        return Err(src.invalid(
            "clients",
            &w.clients,
            "this client population has two workloads for one service; give it one",
        ));
    }
    if workload.iter().filter(|x| x.client == next.client).count() >= u8::MAX as usize {
        return Err(src.invalid(
            "clients",
            &w.clients,
            "at most 255 workloads per population",
        ));
    }
    Ok(())
}

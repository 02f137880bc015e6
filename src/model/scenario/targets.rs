//! The `targets` section: RTO and RPO targets (overall and per service), the statistical
//! gates over the Monte Carlo runs, and whether writes at risk count as lost.
//!
//! It does not own how runs are judged against them (`run::judge`) nor the steady-state rule
//! that defines recovery (`steady_state`).

use super::workload::Workload;
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use crate::model::topology::Topology;
use crate::sim::time::SimDuration;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsDef {
    pub rto: Dur,
    pub rpo: Dur,
    /// Per-service targets overriding the two above: `{"game-state": (rto: "15m", rpo: "500ms")}`.
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, ServiceTargetsDef>,
    /// Statistical gates over the Monte Carlo runs (`Rto(p: 99, within: "15m")`,
    /// `NoLoss(at_least: 0.999, service: Some("accounts"))`). Without gates, every run must
    /// meet every target; with gates, the gates decide.
    #[serde(default)]
    pub gates: Vec<GateDef>,
    /// Whether acknowledged writes left only on stopped machines at the end of the run (at
    /// risk: neither proven lost nor servable) count against the RPO target like lost ones.
    /// On by default: a user cannot get them back while the machines are gone.
    #[serde(default = "default_true")]
    pub at_risk_is_lost: bool,
    /// The operations response's steps, T+ the first fault, checked in every run.
    #[serde(default)]
    pub response: ResponseTargetsDef,
}

/// Targets for the incident response, T+ the first fault: the plan's "acknowledged by T+2,
/// status page by T+5, failover by T+10, restored by T+15".
#[derive(Debug, Default, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct ResponseTargetsDef {
    #[serde(default)]
    pub alert: Option<Dur>,
    #[serde(default)]
    pub page: Option<Dur>,
    #[serde(default)]
    pub acknowledge: Option<Dur>,
    /// The first public post (a component no longer operational, or an incident update).
    #[serde(default)]
    pub status_page: Option<Dur>,
    /// Every datastore that lost its primary has a new one (by its controller, its sentinels
    /// or by hand).
    #[serde(default)]
    pub failover: Option<Dur>,
    /// Every service back for its users (measured from the client histories).
    #[serde(default)]
    pub restored: Option<Dur>,
    /// The status page's incident resolved.
    #[serde(default)]
    pub all_clear: Option<Dur>,
}

/// The steps of the incident response, in the plan's order: the name targets and reports use.
pub const RESPONSE_STEPS: [&str; 7] = [
    "alert",
    "page",
    "acknowledge",
    "status_page",
    "failover",
    "restored",
    "all_clear",
];

/// The response targets, validated, by step in [`RESPONSE_STEPS`] order: each step, if set,
/// must happen by then in every run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResponseTargets {
    pub by_step: [Option<SimDuration>; 7],
}

/// Response targets need something that can reach each step: monitoring for `alert`, a
/// paging service for `page` and `acknowledge`, a status page for `status_page` and
/// `all_clear`, a datastore that fails over for `failover`; otherwise every run would fail.
pub(super) fn response(
    src: &Source,
    topo: &Topology,
    t: &ResponseTargetsDef,
) -> Result<ResponseTargets, InputError> {
    let by_step = [
        t.alert,
        t.page,
        t.acknowledge,
        t.status_page,
        t.failover,
        t.restored,
        t.all_clear,
    ]
    .map(|d| d.map(|d| d.0));
    let set = |k: usize| by_step[k].is_some();
    if set(0) && topo.monitoring.is_empty() {
        return Err(src.invalid(
            "response",
            "",
            "response targets need a topology with `monitoring`: nothing here can alert",
        ));
    }
    if (set(1) || set(2)) && topo.paging.is_none() {
        return Err(src.invalid("response", "", "`page` and `acknowledge` targets need a topology with `paging`: nobody here can be paged"));
    }
    if (set(3) || set(6)) && topo.runbooks.status_page.is_none() {
        return Err(src.invalid("response", "", "`status_page` and `all_clear` targets need a topology with a `status_page`: nothing here can be posted"));
    }
    let fails_over = topo
        .datastores
        .iter()
        .any(|d| d.controller.is_some() || d.sentinel.is_some());
    if set(4) && !fails_over {
        return Err(src.invalid(
            "failover",
            "",
            "a `failover` target needs a datastore with failover: nothing here can be promoted",
        ));
    }
    Ok(ResponseTargets { by_step })
}

fn default_true() -> bool {
    true
}

/// A gate as written. `service: None` applies it to every service with a workload.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub enum GateDef {
    /// The `p`-th percentile RTO (nearest rank; "not recovered" is worst) is at most `within`.
    Rto {
        p: f64,
        within: Dur,
        #[serde(default)]
        service: Option<String>,
    },
    /// The `p`-th percentile RPO is at most `within`.
    Rpo {
        p: f64,
        within: Dur,
        #[serde(default)]
        service: Option<String>,
    },
    /// At least this share of runs meet the service's RTO target.
    RtoMet {
        at_least: f64,
        #[serde(default)]
        service: Option<String>,
    },
    /// At least this share of runs meet the service's RPO target.
    RpoMet {
        at_least: f64,
        #[serde(default)]
        service: Option<String>,
    },
    /// At least this share of runs lose no acknowledged write (`P(RPO = 0)`).
    NoLoss {
        at_least: f64,
        #[serde(default)]
        service: Option<String>,
    },
}

impl GateDef {
    fn service_name(&self) -> Option<&str> {
        match self {
            GateDef::Rto { service, .. }
            | GateDef::Rpo { service, .. }
            | GateDef::RtoMet { service, .. }
            | GateDef::RpoMet { service, .. }
            | GateDef::NoLoss { service, .. } => service.as_deref(),
        }
    }

    /// The gate as validated, unchecked, and the word it is written with.
    fn gate(&self) -> (Gate, &'static str) {
        match *self {
            GateDef::Rto { p, within, .. } => (
                Gate::Rto {
                    p,
                    within: within.0,
                },
                "Rto",
            ),
            GateDef::Rpo { p, within, .. } => (
                Gate::Rpo {
                    p,
                    within: within.0,
                },
                "Rpo",
            ),
            GateDef::RtoMet { at_least, .. } => (Gate::RtoMet { at_least }, "RtoMet"),
            GateDef::RpoMet { at_least, .. } => (Gate::RpoMet { at_least }, "RpoMet"),
            GateDef::NoLoss { at_least, .. } => (Gate::NoLoss { at_least }, "NoLoss"),
        }
    }
}

/// A validated gate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gate {
    Rto { p: f64, within: SimDuration },
    Rpo { p: f64, within: SimDuration },
    RtoMet { at_least: f64 },
    RpoMet { at_least: f64 },
    NoLoss { at_least: f64 },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTargetsDef {
    pub rto: Dur,
    pub rpo: Dur,
}

/// Every service named in the per-service targets exists in `topo`.
pub(super) fn check_services(
    src: &Source,
    topo: &Topology,
    t: &TargetsDef,
) -> Result<(), InputError> {
    for name in t.services.keys() {
        if topo.service(name).is_none() {
            return Err(src.invalid(
                "services",
                name,
                format!("no such service in topology `{}`", topo.name),
            ));
        }
    }
    Ok(())
}

/// Resolves the gates, each for the service it names (`None`: every service).
pub(super) fn gates(
    src: &Source,
    topo: &Topology,
    t: &TargetsDef,
    workload: &[Workload],
) -> Result<Vec<(Gate, Option<usize>)>, InputError> {
    let mut gates = Vec::new();
    for g in &t.gates {
        let (gate, word) = g.gate();
        check_bounds(src, gate, word)?;
        let service = match g.service_name() {
            None => None,
            Some(name) => Some(topo.service(name).ok_or_else(|| {
                src.invalid(
                    word,
                    name,
                    format!("no such service in topology `{}`", topo.name),
                )
            })?),
        };
        if let (Some(k), Some(name)) = (service, g.service_name())
            && !workload.iter().any(|w| w.service == k)
        {
            return Err(src.invalid(
                word,
                name,
                "this scenario has no workload for that service: the gate would judge nothing",
            ));
        }
        gates.push((gate, service));
    }
    Ok(gates)
}

/// A percentile is in (0, 100], a share of runs in [0, 1].
fn check_bounds(src: &Source, gate: Gate, word: &str) -> Result<(), InputError> {
    match gate {
        Gate::Rto { p, .. } | Gate::Rpo { p, .. } if !(p > 0.0 && p <= 100.0) => {
            Err(src.invalid(word, &p.to_string(), "a percentile is in (0, 100]"))
        }
        Gate::RtoMet { at_least } | Gate::RpoMet { at_least } | Gate::NoLoss { at_least }
            if !(0.0..=1.0).contains(&at_least) =>
        {
            Err(src.invalid(
                word,
                &at_least.to_string(),
                "`at_least` is a share of runs in [0, 1]",
            ))
        }
        _ => Ok(()),
    }
}

/// The (RTO, RPO) targets of every service of `topo`, defaults filled in.
pub(super) fn per_service(topo: &Topology, t: &TargetsDef) -> Vec<(SimDuration, SimDuration)> {
    topo.services
        .iter()
        .map(|sv| match t.services.get(&sv.name) {
            Some(s) => (s.rto.0, s.rpo.0),
            None => (t.rto.0, t.rpo.0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_bounds_are_a_percentile_or_a_share() {
        let src = Source::inline("s.ron", "");
        let within = SimDuration::from_secs(60);
        assert!(check_bounds(&src, Gate::Rto { p: 99.0, within }, "Rto").is_ok());
        assert!(check_bounds(&src, Gate::Rpo { p: 0.0, within }, "Rpo").is_err());
        assert!(check_bounds(&src, Gate::NoLoss { at_least: 1.0 }, "NoLoss").is_ok());
        let err = check_bounds(&src, Gate::RtoMet { at_least: 1.5 }, "RtoMet").unwrap_err();
        assert!(
            err.to_string()
                .contains("`at_least` is a share of runs in [0, 1]")
        );
    }
}

//! The `steady_state` section: when a service counts as healthy — the success ratio over a
//! window, held for a stability period, counted per bucket of a resolution — and the latency
//! bounds it also requires, overall or per service.
//!
//! It does not own how the SLI is measured during a run (`measure::steady_state`).

use super::workload::Workload;
use crate::model::error::{InputError, Source};
use crate::model::topology::Topology;
use crate::model::{Dur, limits};
use crate::sim::time::SimDuration;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SteadyStateDef {
    #[serde(default = "default_window")]
    pub window: Dur,
    /// Success ratio at or above which the service is in steady state.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default = "default_stability")]
    pub stability: Dur,
    #[serde(default = "default_resolution")]
    pub resolution: Dur,
    /// A latency bound steady state also requires: the `p`-th percentile response time of
    /// the operations acknowledged in the window is at most `within` (`(p: 99, within:
    /// "500ms")`). None: availability only.
    #[serde(default)]
    pub latency: Option<LatencyDef>,
    /// An operation acknowledged later than this after it was sent counts as failed in the
    /// success ratio (the user gave up waiting), though its write still counts as stored.
    #[serde(default)]
    pub max_latency: Option<Dur>,
    /// Per-service latency settings (`{"mint": (latency: (p: 99, within: "3s"))}`); a
    /// service listed here takes both `latency` and `max_latency` from its entry (absent: none).
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, ServiceLatencyDef>,
}

/// A percentile bound on response time, as written.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct LatencyDef {
    pub p: f64,
    pub within: Dur,
}

/// One service's latency settings, as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceLatencyDef {
    #[serde(default)]
    pub latency: Option<LatencyDef>,
    #[serde(default)]
    pub max_latency: Option<Dur>,
}

fn default_window() -> Dur {
    Dur(SimDuration::from_secs(60))
}
fn default_threshold() -> f64 {
    0.99
}
fn default_stability() -> Dur {
    Dur(SimDuration::from_secs(300))
}
fn default_resolution() -> Dur {
    Dur(SimDuration::from_secs(1))
}

impl Default for SteadyStateDef {
    fn default() -> Self {
        SteadyStateDef {
            window: default_window(),
            threshold: default_threshold(),
            stability: default_stability(),
            resolution: default_resolution(),
            latency: None,
            max_latency: None,
            services: Default::default(),
        }
    }
}

// The validated rules are the measurement's own types: the model resolves into them.
pub use crate::measure::steady_state::{LatencyRule, ServiceSlo, SteadyState};

/// The steady-state rule, checked: a ratio in (0, 1], positive durations, and a resolution
/// of at least [`limits::RESOLUTION_MIN_NS`] that cuts the run into at most
/// [`limits::BUCKETS_MAX`] buckets (each service keeps counters per bucket).
pub(super) fn resolve(
    src: &Source,
    ss: &SteadyStateDef,
    duration: SimDuration,
) -> Result<SteadyState, InputError> {
    if !(ss.threshold > 0.0 && ss.threshold <= 1.0) {
        return Err(src.invalid(
            "threshold",
            &ss.threshold.to_string(),
            "the steady-state threshold is a ratio in (0, 1]",
        ));
    }
    for (field, d) in [("window", ss.window), ("stability", ss.stability)] {
        if d.0.is_zero() {
            return Err(src.invalid(
                field,
                &d.0.to_string(),
                format!("the steady-state {field} must be greater than zero"),
            ));
        }
    }
    let resolution = ss.resolution.0;
    let min = SimDuration(limits::RESOLUTION_MIN_NS);
    if resolution < min {
        return Err(src.invalid_duration(
            &["resolution"],
            resolution,
            format!(
                "the steady-state `resolution` must be at least {}: the SLI is counted per bucket of this width (docs/SCENARIOS.md, Limits)",
                min.human()
            ),
        ));
    }
    let buckets = duration.0.div_ceil(resolution.0);
    if buckets > limits::BUCKETS_MAX {
        return Err(src.invalid_duration(
            &["resolution", "duration"],
            resolution,
            format!(
                "a `resolution` of {} cuts the {} run into {buckets} buckets, more than the limit of {}: use a coarser resolution",
                resolution.human(),
                duration.human(),
                limits::BUCKETS_MAX
            ),
        ));
    }
    if resolution > ss.window.0 {
        return Err(src.invalid(
            "resolution",
            &resolution.to_string(),
            "the resolution must not exceed the window",
        ));
    }
    Ok(SteadyState {
        window: ss.window.0,
        threshold: ss.threshold,
        stability: ss.stability.0,
        resolution,
    })
}

/// Validates the steady state's latency settings and resolves them per service.
pub(super) fn resolve_slo(
    src: &Source,
    topo: &Topology,
    ss: &SteadyStateDef,
    workload: &[Workload],
) -> Result<Vec<ServiceSlo>, InputError> {
    let rule = |l: &Option<LatencyDef>, near: &str| -> Result<Option<LatencyRule>, InputError> {
        let Some(l) = l else { return Ok(None) };
        if !(l.p > 0.0 && l.p <= 100.0) {
            return Err(src.invalid(near, &l.p.to_string(), "a percentile is in (0, 100]"));
        }
        if l.within.0.is_zero() {
            return Err(src.invalid(
                "within",
                &l.within.0.to_string(),
                "a latency bound must be greater than zero",
            ));
        }
        Ok(Some(LatencyRule {
            p: l.p,
            within: l.within.0,
        }))
    };
    let max = |d: Option<Dur>| -> Result<Option<SimDuration>, InputError> {
        match d {
            Some(d) if d.0.is_zero() => Err(src.invalid(
                "max_latency",
                &d.0.to_string(),
                "`max_latency` must be greater than zero",
            )),
            other => Ok(other.map(|d| d.0)),
        }
    };
    let default = ServiceSlo {
        latency: rule(&ss.latency, "latency")?,
        max_latency: max(ss.max_latency)?,
    };
    let mut out = vec![default; topo.services.len()];
    for (name, def) in &ss.services {
        let k = topo.service(name).ok_or_else(|| {
            src.invalid(
                "services",
                name,
                format!("no such service in topology `{}`", topo.name),
            )
        })?;
        if !workload.iter().any(|w| w.service == k) {
            return Err(src.invalid(
                "services",
                name,
                "this scenario has no workload for that service: its latency rule would judge nothing",
            ));
        }
        out[k] = ServiceSlo {
            latency: rule(&def.latency, name)?,
            max_latency: max(def.max_latency)?,
        };
    }
    Ok(out)
}

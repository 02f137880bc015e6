//! Health-check settings as written in the file (`check:` of app tiers, load balancers and
//! RPC groups), and their validation into a [`HealthCheckSpec`].
//!
//! It does not own the DNS health check, which Route 53 spells differently (see `dns`), nor
//! what a check does at run time (`logic::health_check`).

use super::durations::{interval, positive};
use crate::logic::health_check::HealthCheckSpec;
use crate::logic::periodic::Phase;
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use serde::Deserialize;

/// HAProxy (`inter`, `fall`, `rise`) or ALB (`interval`, `unhealthy_threshold`,
/// `healthy_threshold`) health-check settings.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckDef {
    #[serde(alias = "interval")]
    pub inter: Dur,
    pub timeout: Dur,
    #[serde(alias = "unhealthy_threshold")]
    pub fall: u32,
    #[serde(alias = "healthy_threshold")]
    pub rise: u32,
    #[serde(default)]
    pub phase: Phase,
}

/// Checks a health check's settings; errors point near `near` (the section using it).
pub(super) fn resolve(
    src: &Source,
    c: &HealthCheckDef,
    expect_primary: bool,
    near: &str,
) -> Result<HealthCheckSpec, InputError> {
    let every = interval(
        src,
        &["inter", "interval"],
        c.inter,
        "the health-check interval",
    )?;
    let timeout = positive(src, "timeout", c.timeout, "the health-check timeout")?;
    if timeout > every {
        return Err(src.invalid(
            near,
            &timeout.to_string(),
            "the health-check timeout must not exceed its interval",
        ));
    }
    if c.fall == 0 || c.rise == 0 {
        return Err(src.invalid(near, "fall", "`fall` and `rise` must be at least 1"));
    }
    Ok(HealthCheckSpec {
        interval: every,
        timeout,
        fall: c.fall,
        rise: c.rise,
        phase: c.phase,
        expect_primary,
    })
}

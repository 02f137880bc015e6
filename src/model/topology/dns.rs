//! The `dns` section: Route 53-style health-checked DNS answering with regional endpoints
//! (load balancers or app nodes), and its health check spelt the Route 53 way.
//!
//! It does not own the clients that resolve through it (`client`) nor the endpoints
//! themselves (`load_balancer`, `app`).

use super::durations::{interval, positive};
use super::nodes::{NodeTable, Role};
use crate::logic::health_check::HealthCheckSpec;
use crate::logic::periodic::Phase;
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use crate::sim::time::SimDuration;
use serde::Deserialize;

fn default_dns_timeout() -> Dur {
    Dur(SimDuration::from_secs(4))
}

/// Route 53-style health-checked DNS.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Dns")]
pub struct DnsDef {
    pub node: String,
    /// Regional endpoints (load balancer nodes).
    pub endpoints: Vec<String>,
    pub request_interval: Dur,
    pub failure_threshold: u32,
    #[serde(default = "default_dns_timeout")]
    pub timeout: Dur,
    /// Record TTL: how long clients cache an answer.
    pub ttl: Dur,
    #[serde(default)]
    pub phase: Phase,
}

#[derive(Clone, Debug)]
pub struct DnsInfo {
    pub node: u32,
    pub endpoints: Vec<u32>,
    pub check: HealthCheckSpec,
    pub ttl: SimDuration,
}

/// Resolves the DNS node, its endpoints (already given their roles) and its health check.
pub(super) fn resolve(
    src: &Source,
    d: &DnsDef,
    nodes: &mut NodeTable,
) -> Result<DnsInfo, InputError> {
    let node = nodes.node(src, "dns", &d.node)?;
    nodes.assign(src, node, Role::Dns, "dns")?;
    let endpoints = endpoints(src, d, nodes)?;
    if d.failure_threshold == 0 {
        return Err(src.invalid(
            "failure_threshold",
            &d.node,
            "failure_threshold must be at least 1",
        ));
    }
    let every = interval(
        src,
        &["request_interval"],
        d.request_interval,
        "the DNS health-check interval",
    )?;
    let timeout = positive(src, "timeout", d.timeout, "timeout")?;
    if timeout > every {
        return Err(src.invalid(
            "timeout",
            &d.node,
            "the health-check timeout must not exceed its interval",
        ));
    }
    Ok(DnsInfo {
        node,
        endpoints,
        check: HealthCheckSpec {
            interval: every,
            timeout,
            fall: d.failure_threshold,
            rise: d.failure_threshold,
            phase: d.phase,
            expect_primary: false,
        },
        ttl: positive(src, "ttl", d.ttl, "the record TTL")?,
    })
}

/// The endpoints: at least one, each a load balancer or an app node.
fn endpoints(src: &Source, d: &DnsDef, nodes: &NodeTable) -> Result<Vec<u32>, InputError> {
    let mut endpoints = Vec::new();
    for e in &d.endpoints {
        let n = nodes.node(src, "endpoints", e)?;
        if !matches!(
            nodes.roles[n as usize],
            Role::LoadBalancer(_) | Role::App { .. }
        ) {
            return Err(src.invalid(
                "endpoints",
                e,
                "a DNS endpoint must be a load balancer or app node",
            ));
        }
        endpoints.push(n);
    }
    if endpoints.is_empty() {
        return Err(src.invalid("dns", &d.node, "the DNS needs at least one endpoint"));
    }
    Ok(endpoints)
}

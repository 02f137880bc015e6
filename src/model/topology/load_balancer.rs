//! The `load_balancers` section: regional load balancers spreading requests over
//! health-checked targets.
//!
//! It does not own the health-check settings (`health_check`) nor the DNS in front of the
//! balancers (`dns`).

use super::health_check::{self, HealthCheckDef};
use super::nodes::{NodeTable, Role};
use crate::logic::health_check::HealthCheckSpec;
use crate::model::error::{InputError, Source};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "LoadBalancer")]
pub struct LoadBalancerDef {
    pub node: String,
    pub targets: Vec<String>,
    pub check: HealthCheckDef,
}

#[derive(Clone, Debug)]
pub struct LoadBalancerInfo {
    pub node: u32,
    pub targets: Vec<u32>,
    pub check: HealthCheckSpec,
}

/// Resolves every load balancer, in the order written.
pub(super) fn resolve(
    src: &Source,
    defs: &[LoadBalancerDef],
    nodes: &mut NodeTable,
) -> Result<Vec<LoadBalancerInfo>, InputError> {
    let mut load_balancers = Vec::new();
    for (li, l) in defs.iter().enumerate() {
        let node = nodes.node(src, "load_balancers", &l.node)?;
        nodes.assign(src, node, Role::LoadBalancer(li), "load_balancers")?;
        let mut targets = Vec::new();
        for t in &l.targets {
            targets.extend(nodes.nodes(src, "targets", t)?);
        }
        if targets.is_empty() {
            return Err(src.invalid("load_balancers", &l.node, "a load balancer needs targets"));
        }
        load_balancers.push(LoadBalancerInfo {
            node,
            targets,
            check: health_check::resolve(src, &l.check, false, "load_balancers")?,
        });
    }
    Ok(load_balancers)
}

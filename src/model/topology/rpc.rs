//! The `rpc` section: blockchain RPC groups, providers behind regional load balancers that
//! app servers call, with the chain's block time and when a stalled head means a halt.
//!
//! It does not own the services that make blockchain calls (`service`) nor RPC at run time
//! (`logic::rpc`).

use super::durations::{interval, positive};
use super::health_check::{self, HealthCheckDef};
use super::nodes::{NodeTable, Role};
use crate::logic::health_check::HealthCheckSpec;
use crate::model::Dur;
use crate::model::error::{InputError, Source};
use crate::sim::time::SimDuration;
use serde::Deserialize;

fn default_block_time() -> Dur {
    Dur(SimDuration::from_secs(12))
}
fn default_halt_after() -> Dur {
    Dur(SimDuration::from_secs(36))
}

/// Blockchain RPC: providers behind regional load balancers that app servers call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Rpc")]
pub struct RpcDef {
    pub name: String,
    /// Blockchain nodes (hosted providers and self-hosted nodes).
    pub providers: Vec<String>,
    /// Load balancers; each app server uses the nearest.
    pub balancers: Vec<String>,
    /// How often the chain makes a block (Ethereum: 12 s).
    #[serde(default = "default_block_time")]
    pub block_time: Dur,
    /// A head that has not advanced this long means the chain halted: maintenance mode.
    #[serde(default = "default_halt_after")]
    pub halt_after: Dur,
    /// How balancers check their providers.
    pub check: HealthCheckDef,
}

#[derive(Clone, Debug)]
pub struct RpcInfo {
    pub name: String,
    pub providers: Vec<u32>,
    pub balancers: Vec<u32>,
    pub block_time: SimDuration,
    pub halt_after: SimDuration,
    pub check: HealthCheckSpec,
}

/// Resolves every RPC group, in the order written.
pub(super) fn resolve(
    src: &Source,
    defs: &[RpcDef],
    nodes: &mut NodeTable,
) -> Result<Vec<RpcInfo>, InputError> {
    let mut rpcs: Vec<RpcInfo> = Vec::new();
    for (ri, r) in defs.iter().enumerate() {
        if rpcs.iter().any(|x| x.name == r.name) {
            return Err(src.invalid("rpc", &r.name, "this RPC group is defined twice"));
        }
        let mut providers = Vec::new();
        for p in &r.providers {
            for x in nodes.nodes(src, "providers", p)? {
                nodes.assign(src, x, Role::RpcProvider(ri), "providers")?;
                providers.push(x);
            }
        }
        let mut balancers = Vec::new();
        for b in &r.balancers {
            for x in nodes.nodes(src, "balancers", b)? {
                nodes.assign(src, x, Role::RpcBalancer(ri), "balancers")?;
                balancers.push(x);
            }
        }
        if providers.is_empty() || balancers.is_empty() {
            return Err(src.invalid("rpc", &r.name, "an RPC group needs providers and balancers"));
        }
        rpcs.push(RpcInfo {
            name: r.name.clone(),
            providers,
            balancers,
            block_time: interval(src, &["block_time"], r.block_time, "the block time")?,
            halt_after: positive(src, "halt_after", r.halt_after, "halt_after")?,
            check: health_check::resolve(src, &r.check, false, "rpc")?,
        });
    }
    Ok(rpcs)
}

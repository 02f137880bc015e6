//! The `clients` section: client populations and how each connects, straight to a
//! datastore's primary or through the DNS with an order of preferred endpoints.
//!
//! It does not own what clients send (the scenario's workload) nor the DNS (`dns`).

use super::datastore::{self, DatastoreInfo};
use super::dns::DnsInfo;
use super::nodes::{NodeTable, Role};
use crate::model::error::{InputError, Source};
use crate::model::{Dur, limits};
use crate::sim::time::SimDuration;
use serde::Deserialize;

fn default_caches() -> u32 {
    16
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ConnectDef {
    /// Straight to a datastore's primary, learning a new one by notice, used after `ttl`.
    Direct { datastore: String, ttl: Dur },
    /// Through the DNS, preferring endpoints in this order.
    Dns {
        prefer: Vec<String>,
        #[serde(default = "default_caches")]
        caches: u32,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Clients")]
pub struct ClientDef {
    pub node: String,
    pub connect: ConnectDef,
}

#[derive(Clone, Debug)]
pub enum Connect {
    Direct { datastore: usize, ttl: SimDuration },
    Dns { prefer: Vec<usize>, caches: u32 },
}

#[derive(Clone, Debug)]
pub struct ClientInfo {
    pub name: String,
    pub node: u32,
    pub connect: Connect,
}

/// Resolves every client population, in the order written.
pub(super) fn resolve(
    src: &Source,
    defs: &[ClientDef],
    datastores: &[DatastoreInfo],
    dns: Option<&DnsInfo>,
    nodes: &mut NodeTable,
) -> Result<Vec<ClientInfo>, InputError> {
    let mut clients = Vec::new();
    for (ci, c) in defs.iter().enumerate() {
        let node = nodes.node(src, "clients", &c.node)?;
        nodes.assign(src, node, Role::Clients(ci), "clients")?;
        let connect = match &c.connect {
            ConnectDef::Direct { datastore, ttl } => Connect::Direct {
                datastore: datastore::index_of(src, datastores, "datastore", datastore)?,
                ttl: ttl.0,
            },
            ConnectDef::Dns { prefer, caches } => {
                let Some(d) = dns else {
                    return Err(src.invalid(
                        "Dns",
                        &c.node,
                        "clients connect through DNS but the topology has no `dns`",
                    ));
                };
                connect_dns(src, c, prefer, *caches, d, nodes)?
            }
        };
        clients.push(ClientInfo {
            name: c.node.clone(),
            node,
            connect,
        });
    }
    Ok(clients)
}

/// A population behind the DNS: its resolver caches and preferred endpoints, in order.
fn connect_dns(
    src: &Source,
    c: &ClientDef,
    prefer: &[String],
    caches: u32,
    dns: &DnsInfo,
    nodes: &NodeTable,
) -> Result<Connect, InputError> {
    if caches == 0 || caches > limits::CACHES_MAX {
        return Err(src.invalid(
            "caches",
            &c.node,
            format!("caches must be between 1 and {}", limits::CACHES_MAX),
        ));
    }
    let mut order = Vec::new();
    for p in prefer {
        let n = nodes.node(src, "prefer", p)?;
        let i = dns
            .endpoints
            .iter()
            .position(|&e| e == n)
            .ok_or_else(|| src.invalid("prefer", p, "not one of the DNS endpoints"))?;
        order.push(i);
    }
    if order.is_empty() {
        return Err(src.invalid(
            "prefer",
            &c.node,
            "a DNS client needs at least one preferred endpoint",
        ));
    }
    Ok(Connect::Dns {
        prefer: order,
        caches,
    })
}

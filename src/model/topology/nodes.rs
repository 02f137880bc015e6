//! The `nodes` section: nodes and groups of nodes placed in zones (or region-wide), the
//! lookup of a node or group name written in any other section, and the one [`Role`] each
//! node may play.
//!
//! It does not own what a role means: each component kind's module assigns the roles of its
//! nodes through [`NodeTable::assign`].

use super::places::Places;
use crate::model::error::{InputError, Source};
use crate::model::limits;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A node, or with `count` a group of nodes named `name-0`, `name-1`, ….
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Node")]
pub struct NodeDef {
    pub name: String,
    #[serde(default)]
    pub zone: Option<String>,
    /// For a multi-zone service (a load balancer): lost only with its region or provider.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
}

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Nothing but (if watched) heartbeats.
    Plain,
    DatabaseMember {
        datastore: usize,
        member: usize,
    },
    Monitor(usize),
    App {
        tier: usize,
    },
    LoadBalancer(usize),
    Dns,
    Clients(usize),
    Sentinel {
        datastore: usize,
    },
    /// A CDN edge of `cdns[k]`.
    Edge(usize),
    /// A blockchain node of `rpcs[k]`.
    RpcProvider(usize),
    /// An RPC load balancer of `rpcs[k]`.
    RpcBalancer(usize),
    /// Serves a static site.
    Site,
    /// Holds backups: `backup_stores[k]`.
    BackupStore(usize),
    /// Drives the restore runbook of a datastore.
    Recovery {
        datastore: usize,
    },
    /// Runs the Prometheus server `monitoring[k]`.
    Prometheus(usize),
    /// The paging service.
    PagerDuty,
    /// The phone of `paging.responders[k]`.
    Responder(usize),
    /// Runs Alertmanager.
    Alertmanager,
    /// Hosts the status page.
    StatusPage,
    /// Runs the paging service's automation (runbooks with automated delays).
    Automation,
    /// The support desk (user reports).
    SupportDesk,
}

/// The resolved nodes: names, zones, groups, and the role each plays so far.
pub(super) struct NodeTable {
    pub names: Vec<String>,
    pub zone: Vec<u16>,
    /// Group name → its members, for nodes written with `count`.
    groups: BTreeMap<String, Vec<u32>>,
    pub roles: Vec<Role>,
}

/// Places every node (expanding groups), checking names against those already taken.
pub(super) fn resolve(
    src: &Source,
    defs: &[NodeDef],
    places: &mut Places,
) -> Result<NodeTable, InputError> {
    let mut table = NodeTable {
        names: Vec::new(),
        zone: Vec::new(),
        groups: BTreeMap::new(),
        roles: Vec::new(),
    };
    for n in defs {
        let zone = zone_of(src, n, places)?;
        let count = n.count.unwrap_or(1);
        if n.count.is_some() && (count == 0 || count > limits::GROUP_COUNT_MAX) {
            return Err(src.invalid(
                &format!("\"{}\"", n.name),
                &n.name,
                format!("count must be between 1 and {}", limits::GROUP_COUNT_MAX),
            ));
        }
        let mut members = Vec::new();
        for i in 0..count {
            let name = if n.count.is_some() {
                format!("{}-{i}", n.name)
            } else {
                n.name.clone()
            };
            members.push(table.add(src, n, name, zone, places)?);
        }
        if n.count.is_some() {
            table.groups.insert(n.name.clone(), members);
        }
    }
    if table.names.is_empty() {
        return Err(src.invalid(
            "nodes",
            "",
            "the topology has no nodes: nothing to simulate",
        ));
    }
    table.roles = vec![Role::Plain; table.names.len()];
    Ok(table)
}

/// The zone a node is placed in: a named zone, or its region's implicit zone.
fn zone_of(src: &Source, n: &NodeDef, places: &Places) -> Result<u16, InputError> {
    match (&n.zone, &n.region) {
        (Some(z), None) => Ok(places
            .zones
            .iter()
            .position(|zi| &zi.name == z && !zi.implicit)
            .ok_or_else(|| src.invalid(&format!("\"{}\"", n.name), z, "no such zone"))?
            as u16),
        (None, Some(r)) => {
            let ri = places
                .regions
                .iter()
                .position(|x| &x.0 == r)
                .ok_or_else(|| src.invalid(&format!("\"{}\"", n.name), r, "no such region"))?;
            Ok((places.first_implicit + ri) as u16)
        }
        _ => Err(src.invalid(
            "nodes",
            &n.name,
            "a node needs exactly one of `zone` or `region`",
        )),
    }
}

impl NodeTable {
    /// Adds one node `name` of definition `n`; its index.
    fn add(
        &mut self,
        src: &Source,
        n: &NodeDef,
        name: String,
        zone: u16,
        places: &mut Places,
    ) -> Result<u32, InputError> {
        if places.names.insert(name.clone(), "node").is_some() {
            return Err(src.invalid("nodes", &n.name, format!("the name `{name}` is used twice")));
        }
        let index = self.names.len() as u32;
        self.names.push(name);
        self.zone.push(zone);
        if self.names.len() > limits::NODES_MAX {
            return Err(src.invalid(
                "nodes",
                &n.name,
                format!("more than {} nodes", limits::NODES_MAX),
            ));
        }
        Ok(index)
    }

    /// The node named `name`; an error near `near` when there is none.
    pub fn node(&self, src: &Source, near: &str, name: &str) -> Result<u32, InputError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| i as u32)
            .ok_or_else(|| src.invalid(near, name, "no such node"))
    }

    /// A name that is a node, or a group of nodes: its members.
    pub fn nodes(&self, src: &Source, near: &str, name: &str) -> Result<Vec<u32>, InputError> {
        match self.groups.get(name) {
            Some(g) => Ok(g.clone()),
            None => self.node(src, near, name).map(|n| vec![n]),
        }
    }

    /// Gives `node` its role; a node plays at most one.
    pub fn assign(
        &mut self,
        src: &Source,
        node: u32,
        role: Role,
        near: &str,
    ) -> Result<(), InputError> {
        if self.roles[node as usize] != Role::Plain {
            return Err(src.invalid(
                near,
                &self.names[node as usize],
                "this node already has another role",
            ));
        }
        self.roles[node as usize] = role;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topology::places::{self, ProviderDef, RegionDef};

    fn places(src: &Source) -> Places {
        let defs = [ProviderDef {
            name: "p".into(),
            regions: vec![RegionDef {
                name: "r".into(),
                zones: vec!["z".into()],
            }],
        }];
        places::resolve(src, &defs).unwrap()
    }

    fn node(name: &str, zone: Option<&str>, region: Option<&str>, count: Option<u32>) -> NodeDef {
        NodeDef {
            name: name.into(),
            zone: zone.map(Into::into),
            region: region.map(Into::into),
            count,
        }
    }

    #[test]
    fn groups_expand_and_region_wide_nodes_use_the_implicit_zone() {
        let src = Source::inline("t.ron", "");
        let mut places = places(&src);
        let defs = [
            node("app", Some("z"), None, Some(2)),
            node("lb", None, Some("r"), None),
        ];
        let mut table = resolve(&src, &defs, &mut places).unwrap();
        assert_eq!(table.names, ["app-0", "app-1", "lb"]);
        assert_eq!(table.zone, [0, 0, 1]);
        assert_eq!(table.nodes(&src, "", "app").unwrap(), [0, 1]);
        assert_eq!(table.nodes(&src, "", "lb").unwrap(), [2]);
        assert!(table.node(&src, "", "app").is_err());
        table.assign(&src, 2, Role::Dns, "dns").unwrap();
        let err = table.assign(&src, 2, Role::Site, "site").unwrap_err();
        assert!(err.to_string().contains("already has another role"));
    }

    #[test]
    fn a_node_name_may_not_repeat_a_place_name() {
        let src = Source::inline("t.ron", "");
        let mut places = places(&src);
        let err = resolve(&src, &[node("z", Some("z"), None, None)], &mut places)
            .err()
            .unwrap();
        assert!(err.to_string().contains("the name `z` is used twice"));
    }
}

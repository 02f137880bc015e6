//! The topology graph: containment (provider → region → zone → node) and request
//! dependencies between nodes, loaded into a `petgraph` graph and checked for dependency
//! cycles.
//!
//! It owns no section of the file: it reads the resolved components. Adding a kind whose
//! requests need other nodes means adding its `DependsOn` edges here.

use super::client::Connect;
use super::{Edge, Topology, Vertex};
use crate::model::error::{InputError, Source};
use petgraph::graph::{DiGraph, NodeIndex};

/// Builds the graph of a resolved topology; a dependency cycle is an error.
pub(super) fn build(src: &Source, topo: &Topology) -> Result<DiGraph<Vertex, Edge>, InputError> {
    let mut g = DiGraph::new();
    let nv = placement(&mut g, topo);
    tier_dependencies(&mut g, &nv, topo);
    client_dependencies(&mut g, &nv, topo);
    // A dependency cycle (an LB whose targets include itself …) would loop requests forever.
    let deps = petgraph::visit::EdgeFiltered::from_fn(&g, |e| *e.weight() == Edge::DependsOn);
    if let Err(cycle) = petgraph::algo::toposort(&deps, None)
        && let Vertex::Node(n) = g[cycle.node_id()]
    {
        return Err(src.invalid(
            "targets",
            &topo.node_names[n as usize],
            "this node depends on itself through its targets",
        ));
    }
    Ok(g)
}

/// Adds the places and nodes with their `Contains` edges; the vertex of each node.
fn placement(g: &mut DiGraph<Vertex, Edge>, topo: &Topology) -> Vec<NodeIndex> {
    let pv: Vec<_> = (0..topo.providers.len())
        .map(|p| g.add_node(Vertex::Provider(p as u16)))
        .collect();
    let rv: Vec<_> = topo
        .regions
        .iter()
        .enumerate()
        .map(|(r, (_, p))| {
            let v = g.add_node(Vertex::Region(r as u16));
            g.add_edge(pv[*p as usize], v, Edge::Contains);
            v
        })
        .collect();
    let zv: Vec<_> = topo
        .zones
        .iter()
        .enumerate()
        .map(|(z, info)| {
            let v = g.add_node(Vertex::Zone(z as u16));
            g.add_edge(rv[info.region as usize], v, Edge::Contains);
            v
        })
        .collect();
    topo.node_zone
        .iter()
        .enumerate()
        .map(|(n, &z)| {
            let v = g.add_node(Vertex::Node(n as u32));
            g.add_edge(zv[z as usize], v, Edge::Contains);
            v
        })
        .collect()
}

/// App servers need their datastores' members, CDN edges their origins, load balancers
/// their targets.
fn tier_dependencies(g: &mut DiGraph<Vertex, Edge>, nv: &[NodeIndex], topo: &Topology) {
    for t in &topo.apps {
        if let Some(d) = t.datastore {
            for &a in &t.nodes {
                for &m in &topo.datastores[d].members {
                    g.add_edge(nv[a as usize], nv[m as usize], Edge::DependsOn);
                }
            }
        }
    }
    for t in &topo.apps {
        for &d in &t.via_sentinel {
            for &a in &t.nodes {
                for &m in &topo.datastores[d].members {
                    g.add_edge(nv[a as usize], nv[m as usize], Edge::DependsOn);
                }
            }
        }
    }
    for c in &topo.cdns {
        for &e in &c.edges {
            for &o in &c.origins {
                g.add_edge(nv[e as usize], nv[o as usize], Edge::DependsOn);
            }
        }
    }
    for l in &topo.load_balancers {
        for &t in &l.targets {
            g.add_edge(nv[l.node as usize], nv[t as usize], Edge::DependsOn);
        }
    }
}

/// Clients need their datastore's members, or the DNS and their preferred endpoints.
fn client_dependencies(g: &mut DiGraph<Vertex, Edge>, nv: &[NodeIndex], topo: &Topology) {
    for c in &topo.clients {
        match &c.connect {
            Connect::Direct { datastore, .. } => {
                for &m in &topo.datastores[*datastore].members {
                    g.add_edge(nv[c.node as usize], nv[m as usize], Edge::DependsOn);
                }
            }
            Connect::Dns { prefer, .. } => {
                if let Some(d) = &topo.dns {
                    g.add_edge(nv[c.node as usize], nv[d.node as usize], Edge::DependsOn);
                    for &i in prefer {
                        g.add_edge(
                            nv[c.node as usize],
                            nv[d.endpoints[i] as usize],
                            Edge::DependsOn,
                        );
                    }
                }
            }
        }
    }
}

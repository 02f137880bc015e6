//! The `services` section: what clients do, each backed by exactly one of a datastore, a
//! static site, a CDN or an RPC group. Without the section every datastore is a service of
//! its own name.
//!
//! It does not own the backends themselves (`datastore`, `cdn`, `rpc`) nor which population
//! can reach a service (`Topology::can_serve`).

use super::cdn::CdnInfo;
use super::datastore::{self, DatastoreInfo};
use super::nodes::{NodeTable, Role};
use super::rpc::RpcInfo;
use crate::model::error::{InputError, Source};
use crate::model::limits;
use serde::Deserialize;

/// A user-facing service: writes to a `datastore`, or reads from a static `site` (nodes that
/// answer by themselves, such as a status page). Exactly one of the two.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Service")]
pub struct ServiceDef {
    pub name: String,
    #[serde(default)]
    pub datastore: Option<String>,
    #[serde(default)]
    pub site: Vec<String>,
    /// Reads of static assets through a CDN of `cdns`.
    #[serde(default)]
    pub cdn: Option<String>,
    /// Blockchain calls through an RPC group of `rpc` (made by the app servers).
    #[serde(default)]
    pub rpc: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ServiceInfo {
    pub name: String,
    /// The datastore its writes go to; `None` for a static site.
    pub datastore: Option<usize>,
    /// Nodes clients reach directly: a static site's nodes, or a CDN's edges.
    pub direct: Vec<u32>,
    /// The CDN serving it, if any.
    pub cdn: Option<usize>,
    /// The RPC group serving it, if any.
    pub rpc: Option<usize>,
}

/// The backends services may name, resolved before them.
pub(super) struct Backends<'a> {
    pub datastores: &'a [DatastoreInfo],
    pub cdns: &'a [CdnInfo],
    pub rpcs: &'a [RpcInfo],
}

/// Resolves the services as written, or one per datastore when none are.
pub(super) fn resolve(
    src: &Source,
    defs: &[ServiceDef],
    backends: &Backends<'_>,
    nodes: &mut NodeTable,
) -> Result<Vec<ServiceInfo>, InputError> {
    let mut services = Vec::new();
    for sd in defs {
        if services.iter().any(|x: &ServiceInfo| x.name == sd.name) {
            return Err(src.invalid("services", &sd.name, "this service is defined twice"));
        }
        services.push(resolve_one(src, sd, backends, nodes)?);
    }
    if defs.is_empty() {
        services = backends
            .datastores
            .iter()
            .enumerate()
            .map(|(i, d)| ServiceInfo {
                name: d.name.clone(),
                datastore: Some(i),
                direct: Vec::new(),
                cdn: None,
                rpc: None,
            })
            .collect();
    }
    if services.len() > u8::MAX as usize {
        return Err(src.invalid("services", "", "at most 255 services"));
    }
    Ok(services)
}

/// Resolves one service: its name, its one backend, and a static site's nodes.
fn resolve_one(
    src: &Source,
    sd: &ServiceDef,
    backends: &Backends<'_>,
    nodes: &mut NodeTable,
) -> Result<ServiceInfo, InputError> {
    if sd.name.chars().count() > limits::NAME_CHARS_MAX {
        return Err(src.invalid(
            "services",
            &sd.name,
            format!(
                "a service name is at most {} characters: it becomes part of chart file names",
                limits::NAME_CHARS_MAX
            ),
        ));
    }
    let cdn = sd
        .cdn
        .as_ref()
        .and_then(|c| backends.cdns.iter().position(|x| &x.name == c));
    let rpc = match &sd.rpc {
        None => None,
        Some(r) => Some(
            backends
                .rpcs
                .iter()
                .position(|x: &RpcInfo| &x.name == r)
                .ok_or_else(|| src.invalid("rpc", r, "no such RPC group in `rpc`"))?,
        ),
    };
    let kinds = usize::from(sd.datastore.is_some())
        + usize::from(!sd.site.is_empty())
        + usize::from(sd.cdn.is_some())
        + usize::from(rpc.is_some());
    if kinds != 1 {
        return Err(src.invalid(
            "services",
            &sd.name,
            "a service needs exactly one of `datastore`, `site`, `cdn` or `rpc`",
        ));
    }
    let (datastore, direct) = backend(src, sd, backends, nodes)?;
    Ok(ServiceInfo {
        name: sd.name.clone(),
        datastore,
        direct,
        cdn,
        rpc,
    })
}

/// The service's datastore, or the nodes clients reach directly (a site's, a CDN's edges).
fn backend(
    src: &Source,
    sd: &ServiceDef,
    backends: &Backends<'_>,
    nodes: &mut NodeTable,
) -> Result<(Option<usize>, Vec<u32>), InputError> {
    Ok(match (&sd.datastore, sd.site.is_empty(), &sd.cdn) {
        (Some(d), true, None) => (
            Some(datastore::index_of(
                src,
                backends.datastores,
                "datastore",
                d,
            )?),
            Vec::new(),
        ),
        (None, false, None) => {
            let mut site = Vec::new();
            for n in &sd.site {
                for x in nodes.nodes(src, "site", n)? {
                    nodes.assign(src, x, Role::Site, "site")?;
                    site.push(x);
                }
            }
            (None, site)
        }
        (None, true, Some(c)) => {
            let k = backends
                .cdns
                .iter()
                .position(|x: &CdnInfo| &x.name == c)
                .ok_or_else(|| src.invalid("cdn", c, "no such CDN in `cdns`"))?;
            (None, backends.cdns[k].edges.clone())
        }
        // An RPC service: its kind was checked above.
        _ => (None, Vec::new()),
    })
}

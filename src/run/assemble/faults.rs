//! The fault schedule: a scenario's faults as the kernel's network and node changes
//! ([`NetFault`], sorted by time) and, for faults on processes, what the world does when one
//! fires ([`ProcessFault`], indexed by fault number).
//!
//! Not here: how the world applies a process fault ([`crate::run::world`]) or what each
//! fault means in the scenario file ([`crate::model::scenario`]).

use crate::model::scenario::{FaultKind, Scenario};
use crate::model::topology::Topology;
use crate::run::world::ProcessFault;
use crate::sim::kernel::NetFault;
use crate::sim::time::SimTime;

/// Each scenario fault's effect on processes, in fault order (`None` for a fault the kernel
/// applies alone: partitions, crashes, latency).
pub(super) fn process_faults(topo: &Topology, scenario: &Scenario) -> Vec<Option<ProcessFault>> {
    scenario
        .faults
        .iter()
        .map(|f| process_fault(topo, &f.kind))
        .collect()
}

/// One fault's effect on processes, with the names resolved to nodes and datastores.
fn process_fault(topo: &Topology, kind: &FaultKind) -> Option<ProcessFault> {
    match kind {
        FaultKind::ChainHalt(chain) => {
            let r = topo
                .rpcs
                .iter()
                .find(|r| &r.name == chain)
                .expect("validated");
            Some(ProcessFault::ChainHalt {
                providers: r.providers.clone(),
            })
        }
        FaultKind::RpcErrors { provider, rate } => Some(ProcessFault::Errors {
            node: topo.node(provider).expect("validated"),
            ppm: (rate * 1_000_000.0).round() as u32,
        }),
        FaultKind::TableCorruption { datastore, share } => Some(ProcessFault::Corrupt {
            datastore: topo
                .datastores
                .iter()
                .position(|d| &d.name == datastore)
                .expect("validated"),
            ppm: (share * 1_000_000.0).round() as u32,
        }),
        FaultKind::BackupDeletion(store) => Some(ProcessFault::DeleteBackups {
            node: topo
                .backup_stores
                .iter()
                .find(|b| &b.name == store)
                .expect("validated")
                .node,
        }),
        _ => None,
    }
}

/// Every fault's changes and reversals for the kernel, sorted by time; the sort is stable, so
/// faults at the same instant apply in file order.
pub(super) fn schedule(scenario: &Scenario) -> Vec<(SimTime, NetFault)> {
    let mut faults = Vec::new();
    for (i, f) in scenario.faults.iter().enumerate() {
        faults.extend(f.net_faults(i as u32));
    }
    faults.sort_by_key(|(at, _)| *at);
    faults
}

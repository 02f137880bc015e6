//! Why an acknowledged write cannot be read back at the end of a run: the final data of each
//! datastore, and the classification of each missing write by cause (`docs/MEASUREMENT.md`,
//! loss causes). Everything is read off the run: the members' logs, who was promoted in which
//! epoch and when, when machines stopped, and which restores installed which recovery point.

use super::world::{GameDayWorld, Process};
use crate::logic::corruption::{BadTransaction, touches};
use crate::logic::replication::ClusterSpec;
use crate::logic::{Epoch, Lsn, NodeId, Note};
use crate::measure::durability::{FinalData, Loss, LossCause};
use crate::measure::history::OpRecord;
use crate::measure::safety::Promotion;
use crate::model::topology::{Role, Topology};
use crate::sim::network::Network;
use crate::sim::time::SimTime;
use std::sync::Arc;

/// What one datastore's end state says about its writes.
pub struct DatastoreEnd<'a> {
    pub data: FinalData<'a>,
    /// Restores it went through: `(new epoch, recovery point)`.
    pub restores: Vec<(Epoch, Lsn)>,
    /// The first bad transaction still in its final data.
    pub damage: Option<BadTransaction>,
    /// Every promotion of a member, in time order (the initial primary's at 0 included).
    pub promotions: Vec<Promotion>,
    /// The epochs an operator's manual failover started.
    pub manual_epochs: Vec<Epoch>,
}

/// The end state of every datastore, and when each node stopped.
pub struct Ends<'a> {
    pub datastores: Vec<DatastoreEnd<'a>>,
    /// Per node: the times it went down, in order.
    downs: Vec<Vec<SimTime>>,
}

impl<'a> Ends<'a> {
    pub fn read(
        topo: &Topology,
        world: &'a GameDayWorld,
        clusters: &[Arc<ClusterSpec>],
        notes: &[(SimTime, NodeId, Note)],
        network: &Network,
    ) -> Ends<'a> {
        let mut datastores: Vec<DatastoreEnd<'a>> = clusters
            .iter()
            .zip(&world.bad_transactions)
            .map(|(c, bad)| {
                let data = final_data(c, world, network);
                let bad: Vec<BadTransaction> = bad.iter().map(|b| b.1).collect();
                DatastoreEnd {
                    damage: data.damage(&bad),
                    data,
                    restores: Vec::new(),
                    promotions: Vec::new(),
                    manual_epochs: Vec::new(),
                }
            })
            .collect();
        // Candidates promoted by hand whose promotion has not been seen yet.
        let mut by_hand: Vec<NodeId> = Vec::new();
        for &(at, node, note) in notes {
            match note {
                Note::ManualFailover { candidate, .. } => by_hand.push(candidate),
                Note::Restored { epoch, lsn } => {
                    if let Role::Recovery { datastore } = topo.roles[node as usize] {
                        datastores[datastore].restores.push((epoch, lsn));
                    }
                }
                Note::Promoted { epoch } => {
                    if let Some(k) = clusters.iter().position(|c| c.members.contains(&node)) {
                        datastores[k].promotions.push(Promotion { at, node, epoch });
                        if let Some(i) = by_hand.iter().position(|&c| c == node) {
                            by_hand.swap_remove(i);
                            datastores[k].manual_epochs.push(epoch);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut downs = vec![Vec::new(); world.processes.len()];
        for &(at, node, up) in &world.outages {
            if !up {
                downs[node as usize].push(at);
            }
        }
        Ends { datastores, downs }
    }

    /// Why acknowledged write `op` (operation `seq` of the population on node `client`) of
    /// datastore `k` cannot be read back, or `None` when it can.
    pub fn classify(&self, k: usize, client: usize, seq: usize, op: &OpRecord) -> Option<Loss> {
        let d = &self.datastores[k];
        let loss = |cause, event, lost_at| Loss {
            cause,
            event,
            sent: op.sent,
            acked_at: op.done,
            lost_at,
        };
        if d.data.holds(op.epoch, op.lsn) {
            // Present, unless a corruption still in the data destroyed its row.
            return match d.damage {
                Some(bad) if op.lsn < bad.lsn && touches(client as u32, seq as u32, bad.ppm) => {
                    Some(loss(LossCause::Corruption, bad.lsn, None))
                }
                _ => None,
            };
        }
        if let Some(&(epoch, _)) = d
            .restores
            .iter()
            .find(|&&(e, l)| op.epoch < e && op.lsn > l)
        {
            return Some(loss(LossCause::Restore, epoch as u64, None));
        }
        if d.data.at_risk(op.epoch, op.lsn) {
            return Some(loss(LossCause::Unreachable, k as u64, None));
        }
        let (cause, lost_at) = self.discarded(d, op);
        Some(loss(cause, op.epoch as u64, lost_at))
    }

    /// A write whose epoch's history was discarded: rewound by a manual failover, lost with its
    /// primary's machine, or in a split brain (acknowledged after a newer primary was promoted, or by a primary that was
    /// cut off without failing).
    fn discarded(&self, d: &DatastoreEnd, op: &OpRecord) -> (LossCause, Option<SimTime>) {
        // The epoch that superseded the write's: started by hand, it is the operator's doing.
        let next = d
            .promotions
            .iter()
            .filter(|p| p.epoch > op.epoch)
            .min_by_key(|p| p.epoch);
        if next.is_some_and(|p| d.manual_epochs.contains(&p.epoch)) {
            return (LossCause::ManualFailover, None);
        }
        let owner = d.promotions.iter().find(|p| p.epoch == op.epoch);
        let deposed = d
            .promotions
            .iter()
            .filter(|p| p.epoch > op.epoch)
            .map(|p| p.at)
            .min();
        if deposed.is_some_and(|at| op.done > at) {
            return (LossCause::SplitBrain, None);
        }
        let stopped = owner.and_then(|p| {
            self.downs[p.node as usize]
                .iter()
                .copied()
                .find(|&t| t >= op.sent && deposed.is_none_or(|d| t <= d))
        });
        match stopped {
            Some(t) => (LossCause::Infrastructure, Some(t)),
            None => (LossCause::SplitBrain, None),
        }
    }
}

/// The data of a datastore at the end of the run, from its members' logs.
fn final_data<'a>(c: &ClusterSpec, world: &'a GameDayWorld, network: &Network) -> FinalData<'a> {
    let mut fd = FinalData {
        primary: None,
        live: Vec::new(),
        stopped: Vec::new(),
    };
    let mut best: Option<Epoch> = None;
    for &m in &c.members {
        let Process::Replica(r) = &world.processes[m as usize] else {
            continue;
        };
        if !network.is_up(m) {
            fd.stopped.push(r.log());
            continue;
        }
        fd.live.push(r.log());
        if r.is_primary() && best.is_none_or(|e| r.epoch() > e) {
            best = Some(r.epoch());
            fd.primary = Some(r.log());
        }
    }
    fd
}

//! The simulated network: where nodes are, how long a message takes, and whether it arrives.
//!
//! It owns placement (provider → region → zone → node), the one-way latency between zones,
//! jitter, FIFO ordering per link, and the up/down state of every place and the partitions
//! between places. It does not know what a message means; the kernel asks it two questions:
//! "when would a message from A to B arrive?" at send time, and "may it be delivered?" at
//! arrival time. A message already sent is on the wire: it is lost only when, at its arrival,
//! the receiver (or its zone, region or provider) is down or a partition cuts the path.

use super::time::{SimDuration, SimTime};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Index of a node in the topology's node list.
pub type NodeIndex = u32;

/// A place a fault or partition can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    Provider(u16),
    Region(u16),
    Zone(u16),
    Node(NodeIndex),
}

/// Random variation added to every message's base latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Jitter {
    #[default]
    None,
    /// Uniform in `[0, max]`.
    Uniform(SimDuration),
    /// Exponential with this mean (long tail, as measured on real WAN links).
    Exponential(SimDuration),
}

/// Static layout of the network, built from a validated topology.
#[derive(Clone, Debug)]
pub struct NetworkLayout {
    pub node_zone: Vec<u16>,
    pub zone_region: Vec<u16>,
    pub region_provider: Vec<u16>,
    /// One-way base latency, `zones × zones`, row-major.
    pub zone_latency: Vec<SimDuration>,
    pub jitter: Jitter,
}

#[derive(Clone, Copy, Debug)]
struct Partition {
    id: u32,
    a: Place,
    b: Place,
}

#[derive(Clone, Copy, Debug)]
struct AddedLatency {
    id: u32,
    a: Place,
    b: Option<Place>,
    extra: SimDuration,
}

pub struct Network {
    layout: NetworkLayout,
    zones: usize,
    /// Count of active faults holding each place down (overlapping faults nest).
    node_down: Vec<u32>,
    zone_down: Vec<u32>,
    region_down: Vec<u32>,
    provider_down: Vec<u32>,
    /// Derived: whether each node is reachable at all.
    node_up: Vec<bool>,
    partitions: Vec<Partition>,
    added: Vec<AddedLatency>,
    /// Last arrival time per directed link, kept only when jitter could reorder messages.
    link_last: BTreeMap<(NodeIndex, NodeIndex), SimTime>,
    /// Jitter streams, one per sending node: a new component's traffic draws from its own
    /// stream and leaves every other node's jitter unchanged.
    rngs: Vec<ChaCha8Rng>,
}

impl Network {
    /// `rngs[i]` is node i's jitter stream (only drawn from when the layout has jitter).
    pub fn new(layout: NetworkLayout, rngs: Vec<ChaCha8Rng>) -> Self {
        debug_assert_eq!(rngs.len(), layout.node_zone.len());
        let zones = layout.zone_region.len();
        debug_assert_eq!(layout.zone_latency.len(), zones * zones);
        let n = layout.node_zone.len();
        Network {
            zones,
            node_down: vec![0; n],
            zone_down: vec![0; zones],
            region_down: vec![0; layout.region_provider.len()],
            provider_down: vec![
                0;
                1 + layout.region_provider.iter().copied().max().unwrap_or(0)
                    as usize
            ],
            node_up: vec![true; n],
            partitions: Vec::new(),
            added: Vec::new(),
            link_last: BTreeMap::new(),
            rngs,
            layout,
        }
    }

    pub fn node_count(&self) -> usize {
        self.node_up.len()
    }

    #[inline]
    pub fn is_up(&self, node: NodeIndex) -> bool {
        self.node_up[node as usize]
    }

    /// The zone, region and provider of a node.
    pub fn placement(&self, node: NodeIndex) -> (u16, u16, u16) {
        let z = self.layout.node_zone[node as usize];
        let r = self.layout.zone_region[z as usize];
        (z, r, self.layout.region_provider[r as usize])
    }

    /// Whether `place` contains `node`.
    pub fn contains(&self, place: Place, node: NodeIndex) -> bool {
        let (z, r, p) = self.placement(node);
        match place {
            Place::Provider(x) => x == p,
            Place::Region(x) => x == r,
            Place::Zone(x) => x == z,
            Place::Node(x) => x == node,
        }
    }

    /// When a message sent now from `from` to `to` arrives.
    #[inline]
    pub fn arrival(&mut self, now: SimTime, from: NodeIndex, to: NodeIndex) -> SimTime {
        let zf = self.layout.node_zone[from as usize] as usize;
        let zt = self.layout.node_zone[to as usize] as usize;
        let mut delay = self.layout.zone_latency[zf * self.zones + zt];
        if !self.added.is_empty() {
            delay = delay + self.added_latency(from, to);
        }
        match self.layout.jitter {
            Jitter::None => now + delay,
            jitter => {
                let extra = match jitter {
                    Jitter::Uniform(max) => self.rngs[from as usize].random_range(0..=max.0),
                    Jitter::Exponential(mean) => {
                        let u: f64 = self.rngs[from as usize].random::<f64>();
                        // Inverse-CDF sampling; `1 - u` is in (0, 1], so ln is finite.
                        super::rng::exponential(u, mean.0)
                    }
                    Jitter::None => 0,
                };
                let mut at = now + delay + SimDuration(extra);
                // FIFO per link: a message never overtakes an earlier one on the same link.
                let last = self.link_last.entry((from, to)).or_insert(SimTime::ZERO);
                if at < *last {
                    at = *last;
                }
                *last = at;
                at
            }
        }
    }

    fn added_latency(&self, from: NodeIndex, to: NodeIndex) -> SimDuration {
        let mut extra = SimDuration::ZERO;
        for a in &self.added {
            let hit = match a.b {
                None => self.contains(a.a, from) || self.contains(a.a, to),
                Some(b) => {
                    (self.contains(a.a, from) && self.contains(b, to))
                        || (self.contains(b, from) && self.contains(a.a, to))
                }
            };
            if hit {
                extra = extra + a.extra;
            }
        }
        extra
    }

    /// Whether a message from `from` arriving now at `to` is delivered.
    #[inline]
    pub fn deliverable(&self, from: NodeIndex, to: NodeIndex) -> bool {
        self.node_up[to as usize] && (self.partitions.is_empty() || !self.cut(from, to))
    }

    /// Whether an active partition separates the two nodes.
    pub fn cut(&self, from: NodeIndex, to: NodeIndex) -> bool {
        self.partitions.iter().any(|p| {
            (self.contains(p.a, from) && self.contains(p.b, to))
                || (self.contains(p.b, from) && self.contains(p.a, to))
        })
    }

    /// Takes `place` down (or, with `down == false`, lifts one hold on it). Returns the nodes
    /// whose reachability changed, in index order.
    pub fn set_down(&mut self, place: Place, down: bool) -> Vec<NodeIndex> {
        let counter = match place {
            Place::Provider(p) => &mut self.provider_down[p as usize],
            Place::Region(r) => &mut self.region_down[r as usize],
            Place::Zone(z) => &mut self.zone_down[z as usize],
            Place::Node(n) => &mut self.node_down[n as usize],
        };
        if down {
            *counter += 1;
        } else {
            debug_assert!(
                *counter > 0,
                "lifting a hold on {place:?} that was not down"
            );
            *counter = counter.saturating_sub(1);
        }
        let mut changed = Vec::new();
        for n in 0..self.node_up.len() as NodeIndex {
            let (z, r, p) = self.placement(n);
            let up = self.node_down[n as usize] == 0
                && self.zone_down[z as usize] == 0
                && self.region_down[r as usize] == 0
                && self.provider_down[p as usize] == 0;
            if up != self.node_up[n as usize] {
                self.node_up[n as usize] = up;
                changed.push(n);
            }
        }
        changed
    }

    pub fn add_partition(&mut self, id: u32, a: Place, b: Place) {
        self.partitions.push(Partition { id, a, b });
    }

    pub fn heal_partition(&mut self, id: u32) {
        self.partitions.retain(|p| p.id != id);
    }

    pub fn add_latency(&mut self, id: u32, a: Place, b: Option<Place>, extra: SimDuration) {
        self.added.push(AddedLatency { id, a, b, extra });
    }

    pub fn remove_latency(&mut self, id: u32) {
        self.added.retain(|a| a.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::component_rng;

    /// Two regions of one provider; zones 0,1 in region 0, zone 2 in region 1; one node per zone.
    fn net(jitter: Jitter) -> Network {
        let ms = SimDuration::from_millis;
        let l = |a: usize, b: usize| {
            if a == b {
                ms(1)
            } else if (a < 2) == (b < 2) {
                ms(2)
            } else {
                ms(30)
            }
        };
        let zone_latency = (0..9).map(|i| l(i / 3, i % 3)).collect();
        Network::new(
            NetworkLayout {
                node_zone: vec![0, 1, 2],
                zone_region: vec![0, 0, 1],
                region_provider: vec![0, 0],
                zone_latency,
                jitter,
            },
            (0..3)
                .map(|i| component_rng(1, &format!("net/{i}")))
                .collect(),
        )
    }

    #[test]
    fn latency_follows_zone_distance() {
        let mut n = net(Jitter::None);
        assert_eq!(n.arrival(SimTime(0), 0, 1), SimTime::from_millis(2));
        assert_eq!(n.arrival(SimTime(0), 0, 2), SimTime::from_millis(30));
    }

    #[test]
    fn down_zone_drops_and_nested_faults_hold() {
        let mut n = net(Jitter::None);
        assert_eq!(n.set_down(Place::Zone(0), true), vec![0]);
        assert!(!n.deliverable(1, 0));
        assert!(n.set_down(Place::Region(0), true).contains(&1));
        assert_eq!(n.set_down(Place::Zone(0), false), Vec::<u32>::new());
        assert!(!n.is_up(0), "region still down");
        n.set_down(Place::Region(0), false);
        assert!(n.is_up(0) && n.is_up(1));
    }

    #[test]
    fn partitions_cut_both_directions_and_heal() {
        let mut n = net(Jitter::None);
        n.add_partition(7, Place::Region(0), Place::Region(1));
        assert!(!n.deliverable(0, 2) && !n.deliverable(2, 1));
        assert!(n.deliverable(0, 1));
        n.heal_partition(7);
        assert!(n.deliverable(0, 2));
    }

    #[test]
    fn jitter_never_reorders_a_link() {
        let mut n = net(Jitter::Exponential(SimDuration::from_millis(20)));
        let mut last = SimTime::ZERO;
        for i in 0..10_000u64 {
            let at = n.arrival(SimTime(i * 1000), 0, 2);
            assert!(at >= last);
            assert!(at >= SimTime(i * 1000) + SimDuration::from_millis(30));
            last = at;
        }
    }

    #[test]
    fn added_latency_applies_only_to_its_path() {
        let mut n = net(Jitter::None);
        n.add_latency(1, Place::Zone(2), None, SimDuration::from_millis(100));
        assert_eq!(n.arrival(SimTime(0), 0, 2), SimTime::from_millis(130));
        assert_eq!(n.arrival(SimTime(0), 0, 1), SimTime::from_millis(2));
        n.remove_latency(1);
        assert_eq!(n.arrival(SimTime(0), 2, 0), SimTime::from_millis(30));
    }
}

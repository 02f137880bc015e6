//! Heartbeat-based failure detection: each watched node holds a lease it renews by sending
//! heartbeats; a node whose last heartbeat arrived more than `ttl` before a check is dead.
//!
//! This is Patroni's leader key with its `ttl`, seen from the DCS side, and the classic
//! monitor of RW1. "More than" is strict: a heartbeat exactly `ttl` old still holds the lease.

use super::periodic::Phase;
use super::{Context, Msg, NO_NODE, NodeId, Timer};
use crate::sim::time::{SimDuration, SimTime};

/// How a watched node renews its lease: to which monitor, how often, and with which phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatPlan {
    pub monitor: NodeId,
    pub interval: SimDuration,
    pub phase: Phase,
    /// Position among all heartbeating nodes, for staggered phases.
    pub index: u64,
}

impl HeartbeatPlan {
    /// Arms the first heartbeat (at the phase offset) or the next one (after the interval).
    pub fn arm(&self, first: bool, ctx: &mut impl Context) {
        let after = if first {
            self.phase
                .first_offset(self.interval, self.index, ctx.rng())
        } else {
            self.interval
        };
        ctx.set_timer(after, Timer::Heartbeat);
    }

    /// A heartbeat from a node that is not a database member.
    pub fn beat_plain(&self, ctx: &mut impl Context) {
        let sent_at = ctx.now();
        ctx.send(
            self.monitor,
            Msg::Heartbeat {
                sent_at,
                lsn: 0,
                epoch: 0,
                following: NO_NODE,
            },
        );
        self.arm(false, ctx);
    }
}

/// Lease state of every watched node, indexed by node id.
#[derive(Clone, Debug)]
pub struct LeaseTable {
    ttl: SimDuration,
    /// Position of each node in `watched`, or `u32::MAX` when not watched.
    slot: Vec<u32>,
    watched: Vec<NodeId>,
    last: Vec<Option<SimTime>>,
    dead: Vec<bool>,
    /// When this table started listening: a node not heard from since is dead only after
    /// `since + ttl` (a restarted monitor gives every lease one full `ttl` of grace).
    since: SimTime,
}

impl LeaseTable {
    /// `node_count` bounds node ids, so lookups are a direct index.
    pub fn new(ttl: SimDuration, watched: Vec<NodeId>, node_count: usize) -> Self {
        let mut slot = vec![u32::MAX; node_count];
        for (i, &n) in watched.iter().enumerate() {
            slot[n as usize] = i as u32;
        }
        let k = watched.len();
        LeaseTable {
            ttl,
            slot,
            watched,
            last: vec![None; k],
            dead: vec![false; k],
            since: SimTime::ZERO,
        }
    }

    pub fn watches(&self, node: NodeId) -> bool {
        self.slot.get(node as usize).is_some_and(|&s| s != u32::MAX)
    }

    /// Forgets every observation: the table starts listening again at `now`.
    pub fn restart(&mut self, now: SimTime) {
        self.last.iter_mut().for_each(|l| *l = None);
        self.dead.iter_mut().for_each(|d| *d = false);
        self.since = now;
    }

    /// A heartbeat from `node` arrived now.
    #[inline]
    pub fn renew(&mut self, node: NodeId, now: SimTime) {
        if let Some(&s) = self.slot.get(node as usize)
            && s != u32::MAX
        {
            self.last[s as usize] = Some(now);
        }
    }

    fn expired(&self, slot: usize, now: SimTime) -> bool {
        match self.last[slot] {
            Some(t) => now.saturating_since(t) > self.ttl,
            None => now > self.since + self.ttl,
        }
    }

    /// Re-evaluates every lease at `now`; calls `changed(node, dead)` for each node whose
    /// state flipped, in watch order.
    pub fn check(&mut self, now: SimTime, mut changed: impl FnMut(NodeId, bool)) {
        for i in 0..self.watched.len() {
            let dead = self.expired(i, now);
            if dead != self.dead[i] {
                self.dead[i] = dead;
                changed(self.watched[i], dead);
            }
        }
    }

    /// Whether the last check found `node` dead (unwatched nodes are never dead).
    pub fn is_dead(&self, node: NodeId) -> bool {
        match self.slot.get(node as usize) {
            Some(&s) if s != u32::MAX => self.dead[s as usize],
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_expires_strictly_after_ttl() {
        let mut t = LeaseTable::new(SimDuration::from_secs(3), vec![2, 5], 8);
        t.renew(2, SimTime::from_secs(1));
        t.renew(5, SimTime::from_secs(1));
        let mut flips = Vec::new();
        t.check(SimTime::from_secs(4), |n, d| flips.push((n, d)));
        assert!(flips.is_empty(), "exactly ttl old is alive");
        t.renew(5, SimTime::from_millis(3500));
        t.check(SimTime::from_millis(4001), |n, d| flips.push((n, d)));
        assert_eq!(flips, vec![(2, true)]);
        assert!(t.is_dead(2) && !t.is_dead(5));
        t.renew(2, SimTime::from_secs(5));
        t.check(SimTime::from_secs(6), |n, d| flips.push((n, d)));
        assert_eq!(flips.last(), Some(&(2, false)));
    }

    #[test]
    fn a_restarted_table_gives_every_lease_a_full_ttl() {
        let mut t = LeaseTable::new(SimDuration::from_secs(3), vec![0], 1);
        t.renew(0, SimTime::from_secs(1));
        t.restart(SimTime::from_secs(100));
        let mut flips = Vec::new();
        t.check(SimTime::from_secs(103), |n, d| flips.push((n, d)));
        assert!(
            flips.is_empty(),
            "no evidence yet, but not dead before since + ttl"
        );
        t.check(SimTime::from_millis(103_001), |n, d| flips.push((n, d)));
        assert_eq!(flips, vec![(0, true)]);
    }

    #[test]
    fn never_heard_is_dead_after_ttl() {
        let mut t = LeaseTable::new(SimDuration::from_secs(3), vec![0], 1);
        let mut flips = Vec::new();
        t.check(SimTime::from_secs(3), |n, d| flips.push((n, d)));
        assert!(flips.is_empty());
        t.check(SimTime::from_secs(4), |n, d| flips.push((n, d)));
        assert_eq!(flips, vec![(0, true)]);
        assert!(!t.watches(7) && !t.is_dead(7));
    }
}

//! Safety checkers. Each one can fail, and tests prove it does on deliberately broken setups.
//!
//! 1. **One primary per epoch**: no two nodes were promoted in the same epoch.
//! 2. **No deposed primary acknowledges writes**: once a node is promoted in epoch `e'`, no
//!    node of an older epoch commits a write afterwards (that is a split brain: two primaries
//!    accepting writes at once).
//! 3. **Durability under synchronous replication**: when at most one zone holding members of
//!    a synchronously replicated datastore lost nodes, no acknowledged write may be lost.

use crate::logic::Epoch;
use crate::logic::replication::CommitSpan;
use crate::sim::time::SimTime;

/// A promotion seen in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub at: SimTime,
    pub node: u32,
    pub epoch: Epoch,
}

/// Checks 1 and 2 for one datastore. `spans[i]` are the commit spans of `members[i]`;
/// `name` renders a node id.
pub fn check_primaries(
    promotions: &[Promotion],
    members: &[u32],
    spans: &[&[CommitSpan]],
    name: &dyn Fn(u32) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in promotions.iter().enumerate() {
        for b in &promotions[i + 1..] {
            if a.epoch == b.epoch && a.node != b.node {
                out.push(format!(
                    "two primaries in epoch {}: {} (at {}) and {} (at {})",
                    a.epoch,
                    name(a.node),
                    a.at,
                    name(b.node),
                    b.at
                ));
            }
        }
    }
    for (k, &node) in members.iter().enumerate() {
        for span in spans[k] {
            // The first promotion of a newer epoch on another node before this span's last commit.
            let deposed = promotions
                .iter()
                .filter(|p| p.epoch > span.epoch && p.node != node && p.at < span.last)
                .min_by_key(|p| p.at);
            if let Some(p) = deposed {
                out.push(format!(
                    "split brain: {} (epoch {}) acknowledged writes until {} although {} became primary of epoch {} at {}",
                    name(node),
                    span.epoch,
                    span.last,
                    name(p.node),
                    p.epoch,
                    p.at
                ));
            }
        }
    }
    out
}

/// Check 3: `zones_hit` is the number of distinct zones whose members lost service.
pub fn check_durability(
    datastore: &str,
    synchronous: bool,
    zones_hit: usize,
    lost: u64,
) -> Option<String> {
    (synchronous && zones_hit <= 1 && lost > 0).then(|| {
        format!(
            "`{datastore}`: {lost} acknowledged writes lost from synchronously replicated `{datastore}` with at most one zone affected"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: u32) -> String {
        format!("n{n}")
    }

    fn span(epoch: Epoch, first: u64, last: u64) -> CommitSpan {
        CommitSpan {
            epoch,
            first: SimTime::from_secs(first),
            last: SimTime::from_secs(last),
            commits: 10,
        }
    }

    #[test]
    fn a_clean_failover_passes() {
        let promos = [
            Promotion {
                at: SimTime::ZERO,
                node: 0,
                epoch: 1,
            },
            Promotion {
                at: SimTime::from_secs(100),
                node: 1,
                epoch: 2,
            },
        ];
        let spans: [&[CommitSpan]; 2] = [&[span(1, 0, 60)], &[span(2, 101, 200)]];
        assert!(check_primaries(&promos, &[0, 1], &spans, &name).is_empty());
    }

    #[test]
    fn a_deposed_primary_still_committing_is_split_brain() {
        let promos = [
            Promotion {
                at: SimTime::ZERO,
                node: 0,
                epoch: 1,
            },
            Promotion {
                at: SimTime::from_secs(100),
                node: 1,
                epoch: 2,
            },
        ];
        let spans: [&[CommitSpan]; 2] = [&[span(1, 0, 150)], &[span(2, 101, 200)]];
        let v = check_primaries(&promos, &[0, 1], &spans, &name);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("split brain"), "{v:?}");
    }

    #[test]
    fn two_nodes_in_one_epoch_is_a_violation() {
        let promos = [
            Promotion {
                at: SimTime::ZERO,
                node: 0,
                epoch: 1,
            },
            Promotion {
                at: SimTime::from_secs(5),
                node: 1,
                epoch: 1,
            },
        ];
        let v = check_primaries(&promos, &[0, 1], &[&[], &[]], &name);
        assert!(v[0].contains("two primaries in epoch 1"), "{v:?}");
    }

    #[test]
    fn durability_applies_only_to_sync_with_one_zone_hit() {
        assert!(check_durability("pg", true, 1, 3).is_some());
        assert!(check_durability("pg", true, 2, 3).is_none());
        assert!(check_durability("pg", false, 1, 3).is_none());
        assert!(check_durability("pg", true, 1, 0).is_none());
    }
}

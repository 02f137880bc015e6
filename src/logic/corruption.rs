//! Logical corruption: a bad transaction (a migration that rewrote a table, an `UPDATE`
//! without its `WHERE`) is an ordinary log entry. It commits and replicates like any other, so
//! every replica ends up with the same damage: replication protects against losing machines,
//! not against writing the wrong thing.
//!
//! What an entry *contains* is not carried in replication messages (they name positions
//! only); [`BadTransaction`] is that content, known to every member of the datastore, and a
//! member's data is damaged exactly when its log holds the entry at that position and epoch.
//! Rows belong to tables by key: [`touches`] decides, from an operation's identity alone,
//! whether it reads or writes the damaged table, so the judge can tell later which
//! acknowledged writes the corruption destroyed.

use super::log::Log;
use super::{Epoch, Lsn, NodeId};
use crate::sim::rng::mix64;

/// A committed bad transaction that damaged `ppm` parts per million of the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BadTransaction {
    pub lsn: Lsn,
    pub epoch: Epoch,
    pub ppm: u32,
}

impl BadTransaction {
    /// Whether `log` holds this entry: the data it describes is damaged.
    pub fn held_by(&self, log: &Log) -> bool {
        log.epoch_at(self.lsn) == Some(self.epoch)
    }
}

/// The first bad transaction `log` holds, if any (`known` in any order).
pub fn first_damage(known: &[BadTransaction], log: &Log) -> Option<BadTransaction> {
    known.iter().filter(|b| b.held_by(log)).min().copied()
}

/// Whether operation `seq` of client `client` falls in the damaged `ppm` share of the rows.
/// A stable hash of the key, so the server that refuses it and the judge that counts it agree.
#[inline]
pub fn touches(client: NodeId, seq: u32, ppm: u32) -> bool {
    if ppm == 0 {
        return false;
    }
    // SplitMix64 finaliser over the key.
    let z = mix64((client as u64) << 32 | seq as u64);
    (z % 1_000_000) < ppm as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touches_picks_about_the_share_and_is_stable() {
        let hits = (0..100_000).filter(|&s| touches(7, s, 250_000)).count();
        assert!((24_000..26_000).contains(&hits), "{hits}");
        assert_eq!(touches(7, 42, 250_000), touches(7, 42, 250_000));
        assert!(!(0..1000).any(|s| touches(7, s, 0)));
        assert!((0..1000).all(|s| touches(7, s, 1_000_000)));
    }

    #[test]
    fn damage_follows_the_log_not_the_catalog() {
        let bad = BadTransaction {
            lsn: 3,
            epoch: 1,
            ppm: 1000,
        };
        let mut log = Log::default();
        log.append_many(1, 2);
        assert_eq!(first_damage(&[bad], &log), None, "not replicated yet");
        log.append(1);
        assert_eq!(first_damage(&[bad], &log), Some(bad));
        log.truncate(2);
        log.append(2);
        assert_eq!(first_damage(&[bad], &log), None, "restored before it");
    }
}

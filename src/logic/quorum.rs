//! Synchronous commit rules, named and meant as PostgreSQL's `synchronous_standby_names`.
//!
//! `FIRST k`: the first `k` connected standbys in priority order must have the write.
//! `ANY k`: any `k` connected standbys must have it (quorum commit).
//! Only standbys in a zone other than the primary's count: the reference plan commits "only
//! after a secondary in another zone has the write", so a same-zone standby never satisfies
//! the rule (it would be lost with the primary's zone).

use super::Lsn;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StandbyRule {
    /// `FIRST k (…)`: priority-ordered synchronous standbys.
    First(u8),
    /// `ANY k (…)`: quorum commit over the standbys.
    Any(u8),
}

impl StandbyRule {
    pub fn k(self) -> usize {
        match self {
            StandbyRule::First(k) | StandbyRule::Any(k) => k as usize,
        }
    }

    /// The highest LSN that the rule lets the primary commit.
    ///
    /// `standbys` lists, in priority order, the acknowledged LSN of every connected standby
    /// in another zone. Returns `None` when fewer than `k` standbys are connected: nothing can
    /// commit (the strict behaviour; a quorum that cannot be met blocks writes).
    pub fn commit_point(self, standbys: &[Lsn]) -> Option<Lsn> {
        let k = self.k();
        if k == 0 {
            return Some(Lsn::MAX);
        }
        if standbys.len() < k {
            return None;
        }
        match self {
            StandbyRule::First(_) => standbys[..k].iter().copied().min(),
            StandbyRule::Any(1) => standbys.iter().copied().max(),
            StandbyRule::Any(_) => {
                // k-th largest of at most 64 standbys: sort a copy on the stack (this runs
                // once per replica ack, so it must not allocate).
                let mut buf = [0 as Lsn; 64];
                let v = &mut buf[..standbys.len().min(64)];
                v.copy_from_slice(&standbys[..v.len()]);
                v.sort_unstable_by(|a, b| b.cmp(a));
                Some(v[k - 1])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_k_is_the_kth_largest() {
        assert_eq!(StandbyRule::Any(1).commit_point(&[3, 9, 5]), Some(9));
        assert_eq!(StandbyRule::Any(2).commit_point(&[3, 9, 5]), Some(5));
        assert_eq!(StandbyRule::Any(3).commit_point(&[3, 9, 5]), Some(3));
    }

    #[test]
    fn first_k_waits_for_the_priority_standbys() {
        // The first standby lags: FIRST 1 waits for it even though others are ahead.
        assert_eq!(StandbyRule::First(1).commit_point(&[3, 9, 5]), Some(3));
        assert_eq!(StandbyRule::First(2).commit_point(&[3, 9, 5]), Some(3));
        assert_eq!(StandbyRule::First(2).commit_point(&[7, 9, 5]), Some(7));
    }

    #[test]
    fn too_few_standbys_block_commits() {
        assert_eq!(StandbyRule::Any(2).commit_point(&[4]), None);
        assert_eq!(StandbyRule::First(1).commit_point(&[]), None);
    }
}

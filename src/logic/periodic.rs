//! Phases of periodic timers.
//!
//! When a health check or heartbeat first fires relative to a fault decides real failover
//! times (a check that ran just before the fault waits a whole interval to notice it), so
//! every periodic timer takes an explicit phase instead of silently starting at zero.

use crate::sim::time::SimDuration;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// When the first firing of a periodic timer happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Phase {
    /// First firing at this offset from the start of the run.
    Fixed(#[serde(with = "crate::sim::time::duration_serde")] SimDuration),
    /// The k-th member of a group fires first at `(k × step) mod interval`: deterministic
    /// spreading, as a fleet started in order would have.
    Stagger(#[serde(with = "crate::sim::time::duration_serde")] SimDuration),
    /// Uniform in `[0, interval)`, drawn from the component's own random stream.
    #[default]
    Random,
}

impl Phase {
    /// The offset of the first firing for member `index` of a group with period `interval`.
    pub fn first_offset(
        self,
        interval: SimDuration,
        index: u64,
        rng: &mut ChaCha8Rng,
    ) -> SimDuration {
        match self {
            Phase::Fixed(offset) => offset,
            Phase::Stagger(step) => {
                if interval.is_zero() {
                    SimDuration::ZERO
                } else {
                    SimDuration(((index as u128 * step.0 as u128) % interval.0 as u128) as u64)
                }
            }
            Phase::Random => {
                if interval.is_zero() {
                    SimDuration::ZERO
                } else {
                    SimDuration(rng.random_range(0..interval.0))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::component_rng;

    #[test]
    fn stagger_wraps_at_the_interval() {
        let mut rng = component_rng(1, "x");
        let p = Phase::Stagger(SimDuration::from_millis(1));
        let i = SimDuration::from_secs(1);
        assert_eq!(
            p.first_offset(i, 10, &mut rng),
            SimDuration::from_millis(10)
        );
        assert_eq!(
            p.first_offset(i, 1003, &mut rng),
            SimDuration::from_millis(3)
        );
    }

    #[test]
    fn random_phase_stays_inside_the_interval_and_is_seeded() {
        let i = SimDuration::from_secs(10);
        let draw = |seed| Phase::Random.first_offset(i, 0, &mut component_rng(seed, "hc"));
        for seed in 0..100 {
            assert!(draw(seed) < i);
        }
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn fixed_phase_is_the_offset() {
        let mut rng = component_rng(1, "x");
        let p = Phase::Fixed(SimDuration::from_secs(1));
        assert_eq!(
            p.first_offset(SimDuration::from_secs(1), 99, &mut rng),
            SimDuration::from_secs(1)
        );
    }
}

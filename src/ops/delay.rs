//! How long a person (or an automation) takes for a step: a distribution drawn from the
//! component's own seeded stream, so Monte Carlo runs vary it and replay it exactly.
//!
//! Sampling uses `libm` (a pure-Rust maths library), never the platform's: the same seed gives
//! the same delay on every machine.

use crate::sim::time::{SimDuration, duration_serde};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// A delay distribution, as written in the files.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub enum Delay {
    /// Always this long.
    Fixed(#[serde(with = "duration_serde")] SimDuration),
    /// Uniform between `low` and `high`.
    Uniform {
        #[serde(with = "duration_serde")]
        low: SimDuration,
        #[serde(with = "duration_serde")]
        high: SimDuration,
    },
    /// Exponential with this mean (memoryless: "any moment now").
    Exponential {
        #[serde(with = "duration_serde")]
        mean: SimDuration,
    },
    /// Log-normal given by its median and 95th percentile, the two figures an on-call team
    /// can read off its own acknowledgement times.
    LogNormal {
        #[serde(with = "duration_serde")]
        median: SimDuration,
        #[serde(with = "duration_serde")]
        p95: SimDuration,
    },
}

/// The 95th percentile of the standard normal distribution.
const Z95: f64 = 1.644_853_626_951_472_2;

impl Delay {
    /// Why the parameters cannot describe a distribution, if they cannot: the field to blame,
    /// its value and the reason.
    pub fn invalid(&self) -> Option<(&'static str, SimDuration, &'static str)> {
        match *self {
            Delay::Uniform { low, high } if low > high => {
                Some(("low", low, "`low` is above `high`"))
            }
            Delay::Exponential { mean } if mean.is_zero() => {
                Some(("mean", mean, "the mean must be positive"))
            }
            Delay::LogNormal { median, .. } if median.is_zero() => {
                Some(("median", median, "the median must be positive"))
            }
            Delay::LogNormal { median, p95 } if p95 <= median => {
                Some(("p95", p95, "`p95` must be above `median`"))
            }
            _ => None,
        }
    }

    /// One draw. Tails are capped at a day, so a far draw cannot overflow simulated time.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> SimDuration {
        debug_assert!(self.invalid().is_none(), "{self:?}");
        let ns = match *self {
            Delay::Fixed(d) => return d,
            Delay::Uniform { low, high } => return SimDuration(rng.random_range(low.0..=high.0)),
            Delay::Exponential { mean } => -libm::log(1.0 - rng.random::<f64>()) * mean.0 as f64,
            Delay::LogNormal { median, p95 } => {
                let mu = libm::log(median.0 as f64);
                let sigma = (libm::log(p95.0 as f64) - mu) / Z95;
                libm::exp(mu + sigma * standard_normal(rng))
            }
        };
        SimDuration(ns.min(86_400e9) as u64)
    }
}

/// A standard normal draw by Box–Muller, from two uniforms of the stream.
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // in (0, 1]: the log is finite
    let u2 = rng.random::<f64>();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::component_rng;

    /// The `q` quantile (nearest rank) of 20,000 draws, in seconds.
    fn quantiles(d: Delay, qs: &[f64]) -> Vec<f64> {
        let mut rng = component_rng(42, "delay-test");
        let mut v: Vec<u64> = (0..20_000).map(|_| d.sample(&mut rng).0).collect();
        v.sort_unstable();
        qs.iter()
            .map(|q| v[((q * v.len() as f64).ceil() as usize).max(1) - 1] as f64 / 1e9)
            .collect()
    }

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want
    }

    #[test]
    fn a_lognormal_has_the_median_and_p95_it_was_given() {
        let d = Delay::LogNormal {
            median: SimDuration::from_secs(60),
            p95: SimDuration::from_secs(240),
        };
        let q = quantiles(d, &[0.5, 0.95]);
        assert!(close(q[0], 60.0, 0.03), "median {q:?}");
        assert!(close(q[1], 240.0, 0.05), "p95 {q:?}");
    }

    #[test]
    fn an_exponential_has_its_mean_and_its_median_at_ln2() {
        let d = Delay::Exponential {
            mean: SimDuration::from_secs(100),
        };
        let mut rng = component_rng(42, "delay-test");
        let mean = (0..20_000)
            .map(|_| d.sample(&mut rng).0 as f64)
            .sum::<f64>()
            / 20_000e9;
        assert!(close(mean, 100.0, 0.03), "mean {mean}");
        let q = quantiles(d, &[0.5]);
        assert!(
            close(q[0], 100.0 * std::f64::consts::LN_2, 0.04),
            "median {q:?}"
        );
    }

    #[test]
    fn a_uniform_stays_within_its_bounds_and_fixed_never_varies() {
        let d = Delay::Uniform {
            low: SimDuration::from_secs(30),
            high: SimDuration::from_secs(90),
        };
        let q = quantiles(d, &[0.0001, 0.5, 1.0]);
        assert!(
            q[0] >= 30.0 && q[2] <= 90.0 && close(q[1], 60.0, 0.03),
            "{q:?}"
        );
        let f = Delay::Fixed(SimDuration::from_secs(7));
        assert_eq!(quantiles(f, &[0.0001, 1.0]), vec![7.0, 7.0]);
    }

    #[test]
    fn the_same_stream_gives_the_same_draws() {
        let d = Delay::LogNormal {
            median: SimDuration::from_secs(60),
            p95: SimDuration::from_secs(240),
        };
        let (mut a, mut b) = (component_rng(1, "x"), component_rng(1, "x"));
        let da: Vec<SimDuration> = (0..100).map(|_| d.sample(&mut a)).collect();
        let db: Vec<SimDuration> = (0..100).map(|_| d.sample(&mut b)).collect();
        assert_eq!(da, db);
    }

    #[test]
    fn impossible_parameters_are_named() {
        let s = SimDuration::from_secs;
        assert!(
            Delay::Uniform {
                low: s(2),
                high: s(1)
            }
            .invalid()
            .is_some()
        );
        assert!(
            Delay::LogNormal {
                median: s(60),
                p95: s(60)
            }
            .invalid()
            .is_some()
        );
        assert!(Delay::Exponential { mean: s(0) }.invalid().is_some());
        assert!(Delay::Fixed(s(0)).invalid().is_none());
    }
}

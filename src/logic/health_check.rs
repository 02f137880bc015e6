//! Active health checking, with the knobs of HAProxy (`inter`, `timeout`, `fall`, `rise`),
//! AWS target groups (interval, timeout, unhealthy/healthy threshold) and Route 53 (request
//! interval, failure threshold).
//!
//! Every `interval` the checker probes each target; a probe not answered within `timeout`
//! fails. `fall` consecutive failures mark a healthy target down, `rise` consecutive successes
//! mark a down target up. A role check (`expect_primary`) succeeds only when the target
//! answers that it is the primary, as HAProxy does against Patroni's `/primary` endpoint.

use super::periodic::Phase;
use super::{Context, Msg, NodeId, Note, Timer};
use crate::sim::time::SimDuration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthCheckSpec {
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub fall: u32,
    pub rise: u32,
    pub phase: Phase,
    pub expect_primary: bool,
}

/// The health checker embedded in a router: owns its targets' health view.
#[derive(Clone, Debug)]
pub struct HealthChecker {
    spec: HealthCheckSpec,
    targets: Vec<NodeId>,
    healthy: Vec<bool>,
    streak: Vec<u32>,
    answered: Vec<bool>,
    round: u32,
    evaluated: u32,
}

impl HealthChecker {
    /// `initially_healthy[i]` is the view before the first round (a freshly configured load
    /// balancer assumes its configured backends are up).
    pub fn new(spec: HealthCheckSpec, targets: Vec<NodeId>, initially_healthy: Vec<bool>) -> Self {
        debug_assert_eq!(targets.len(), initially_healthy.len());
        debug_assert!(
            spec.timeout <= spec.interval,
            "validated: timeout ≤ interval"
        );
        let n = targets.len();
        HealthChecker {
            spec,
            targets,
            healthy: initially_healthy,
            streak: vec![0; n],
            answered: vec![false; n],
            round: 0,
            evaluated: 0,
        }
    }

    pub fn targets(&self) -> &[NodeId] {
        &self.targets
    }

    pub fn is_healthy(&self, i: usize) -> bool {
        self.healthy[i]
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        let first = self
            .spec
            .phase
            .first_offset(self.spec.interval, index, ctx.rng());
        ctx.set_timer(first, Timer::HealthTick);
    }

    /// Handles the checker's own timers; returns true when some target's health changed.
    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) -> bool {
        match timer {
            Timer::HealthTick => {
                self.round += 1;
                self.answered.iter_mut().for_each(|a| *a = false);
                for &t in &self.targets {
                    ctx.send(t, Msg::Probe { round: self.round });
                }
                ctx.set_timer(self.spec.timeout, Timer::ProbeTimeout { round: self.round });
                ctx.set_timer(self.spec.interval, Timer::HealthTick);
                false
            }
            Timer::ProbeTimeout { round } if round == self.round && round > self.evaluated => {
                self.evaluated = round;
                self.evaluate(ctx)
            }
            _ => false,
        }
    }

    /// Handles a probe reply; replies to an old or already judged round are ignored.
    pub fn on_reply(&mut self, from: NodeId, round: u32, primary: bool) {
        if round != self.round || round <= self.evaluated {
            return;
        }
        if let Some(i) = self.targets.iter().position(|&t| t == from) {
            self.answered[i] = primary || !self.spec.expect_primary;
        }
    }

    fn evaluate(&mut self, ctx: &mut impl Context) -> bool {
        let mut changed = false;
        for i in 0..self.targets.len() {
            let ok = self.answered[i];
            if ok == self.healthy[i] {
                self.streak[i] = 0;
                continue;
            }
            self.streak[i] += 1;
            let needed = if self.healthy[i] {
                self.spec.fall
            } else {
                self.spec.rise
            };
            if self.streak[i] >= needed {
                self.healthy[i] = ok;
                self.streak[i] = 0;
                changed = true;
                ctx.note(Note::TargetHealth {
                    target: self.targets[i],
                    healthy: ok,
                });
            }
        }
        changed
    }
}

/// The probed side of a health check: answer `from`'s probe of `round`, saying whether this
/// node is the primary (for role checks; `false` for anything that is merely alive).
pub fn answer_probe(ctx: &mut impl Context, from: NodeId, round: u32, primary: bool) {
    ctx.send(from, Msg::ProbeReply { round, primary });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;
    use crate::sim::time::SimTime;

    fn spec(fall: u32, rise: u32, expect_primary: bool) -> HealthCheckSpec {
        HealthCheckSpec {
            interval: SimDuration::from_secs(2),
            timeout: SimDuration::from_secs(1),
            fall,
            rise,
            phase: Phase::Fixed(SimDuration::ZERO),
            expect_primary,
        }
    }

    /// Runs one round in which the targets listed in `answer` reply (as primary or not).
    fn round(hc: &mut HealthChecker, ctx: &mut Recorder, answer: &[(NodeId, bool)]) -> bool {
        hc.on_timer(Timer::HealthTick, ctx);
        let r = hc.round;
        for &(n, p) in answer {
            hc.on_reply(n, r, p);
        }
        hc.on_timer(Timer::ProbeTimeout { round: r }, ctx)
    }

    #[test]
    fn falls_after_fall_failures_and_rises_after_rise_successes() {
        let mut ctx = Recorder::new(0);
        let mut hc = HealthChecker::new(spec(3, 2, false), vec![1, 2], vec![true, true]);
        assert!(!round(&mut hc, &mut ctx, &[(2, false)]));
        assert!(!round(&mut hc, &mut ctx, &[(2, false)]));
        assert!(round(&mut hc, &mut ctx, &[(2, false)]));
        assert!(!hc.is_healthy(0) && hc.is_healthy(1));
        assert!(!round(&mut hc, &mut ctx, &[(1, false), (2, false)]));
        assert!(round(&mut hc, &mut ctx, &[(1, false), (2, false)]));
        assert!(hc.is_healthy(0));
        assert_eq!(ctx.notes.len(), 2);
    }

    #[test]
    fn a_success_resets_the_failure_streak() {
        let mut ctx = Recorder::new(0);
        let mut hc = HealthChecker::new(spec(2, 1, false), vec![1], vec![true]);
        round(&mut hc, &mut ctx, &[]);
        round(&mut hc, &mut ctx, &[(1, false)]);
        round(&mut hc, &mut ctx, &[]);
        assert!(hc.is_healthy(0), "failures were not consecutive");
    }

    #[test]
    fn role_check_fails_a_live_replica() {
        let mut ctx = Recorder::new(0);
        let mut hc = HealthChecker::new(spec(1, 1, true), vec![1, 2], vec![true, false]);
        round(&mut hc, &mut ctx, &[(1, false), (2, true)]);
        assert!(!hc.is_healthy(0) && hc.is_healthy(1));
    }

    #[test]
    fn late_replies_do_not_count() {
        let mut ctx = Recorder::new(0);
        let mut hc = HealthChecker::new(spec(1, 1, false), vec![1], vec![true]);
        ctx.at(SimTime::ZERO);
        hc.on_timer(Timer::HealthTick, &mut ctx);
        hc.on_timer(Timer::ProbeTimeout { round: 1 }, &mut ctx);
        hc.on_reply(1, 1, false);
        assert!(!hc.is_healthy(0));
    }
}

//! The recorded operations of a run, each with its verdict and response time: the one way the
//! judge reads the clients' histories, so every pass judges an operation alike.

use super::world::{GameDayWorld, Process};
use crate::measure::history::{OpRecord, OpStatus};
use crate::measure::outcome::{Verdict, verdict};
use crate::model::scenario::{LatencyRule, ServiceSlo};
use crate::sim::time::{SimDuration, SimTime};

/// One operation as judged at the end of the run.
#[derive(Clone, Copy, Debug)]
pub struct JudgedOp<'a> {
    /// The client population's node and the operation's number in its history.
    pub node: usize,
    pub seq: usize,
    pub op: &'a OpRecord,
    pub service: usize,
    /// `Failed` also for an acknowledgement slower than the service's `max_latency`.
    pub verdict: Verdict,
    /// Send to acknowledgement (zero unless acknowledged).
    pub latency: SimDuration,
    /// When the client saw it fail: the refusal, the deadline, or the too-late answer.
    pub failed_at: SimTime,
}

impl JudgedOp<'_> {
    /// Whether this operation counts against steady state: failed, or acknowledged slower
    /// than the latency rule's bound.
    #[inline]
    pub fn bad(&self, latency: Option<LatencyRule>) -> bool {
        match self.verdict {
            Verdict::Failed => true,
            Verdict::Acked => latency.is_some_and(|r| self.latency > r.within),
            Verdict::InFlight => false,
        }
    }

    /// Acknowledged in time and within the latency rule.
    #[inline]
    pub fn good(&self, latency: Option<LatencyRule>) -> bool {
        self.verdict == Verdict::Acked && !self.bad(latency)
    }
}

/// Every operation of every client population, in population then history order.
pub fn judged_ops<'a>(
    world: &'a GameDayWorld,
    end: SimTime,
    slo: &'a [ServiceSlo],
) -> impl Iterator<Item = JudgedOp<'a>> + 'a {
    world
        .processes
        .iter()
        .enumerate()
        .filter_map(|(node, p)| match p {
            Process::Clients(c) => Some((node, c)),
            _ => None,
        })
        .flat_map(move |(node, c)| {
            c.history().ops().iter().enumerate().map(move |(seq, op)| {
                let service = c.spec().streams[op.stream as usize].service as usize;
                let deadline = c.deadline(op.stream, op.sent);
                let mut v = verdict(op, deadline, end);
                let latency = match op.status {
                    OpStatus::Acked => op.done.saturating_since(op.sent),
                    _ => SimDuration::ZERO,
                };
                let too_slow = slo[service].max_latency.is_some_and(|m| latency > m);
                if v == Verdict::Acked && too_slow {
                    v = Verdict::Failed;
                }
                let failed_at = match op.status {
                    OpStatus::Pending => deadline,
                    _ => op.done,
                };
                JudgedOp {
                    node,
                    seq,
                    op,
                    service,
                    verdict: v,
                    latency,
                    failed_at,
                }
            })
        })
}

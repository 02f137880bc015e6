//! What the incident response achieved for users and told the public, read off a judged run:
//! when every service was back (the plan's "restored"), and how long the status page called
//! a failing service operational.
//!
//! Owns these two readings. Outages are measured in `outages`; what the page showed comes
//! from its notes.

use super::judge::ServiceResult;
use crate::logic::{ComponentState, NodeId, Note};
use crate::sim::time::{SimDuration, SimTime};

/// When every service was back for its users after `t0`: the end of the last outage still
/// open at or after `t0`. `t0` itself when no service had one; `None` when any service is
/// still down at the end, or was not judged (a stopped run): never "restored" by default.
pub fn restored(services: &[ServiceResult], t0: SimTime) -> Option<SimTime> {
    let mut at = t0;
    for sv in services {
        if !sv.judged {
            return None;
        }
        for o in &sv.outages {
            match o.end {
                None => return None,
                Some(end) if end > at => at = end,
                Some(_) => {}
            }
        }
    }
    Some(at)
}

/// Per service (in `services`' order): how long, during its outages, the status page showed
/// its component as operational. An outage still open runs to `end`. The page starts with
/// every component operational; only its `StatusChanged` notes move it.
pub fn silent_time(
    services: &[ServiceResult],
    notes: &[(SimTime, NodeId, Note)],
    end: SimTime,
) -> Vec<SimDuration> {
    services
        .iter()
        .map(|sv| {
            let shown = shown_states(notes, sv.service as u16);
            sv.outages
                .iter()
                .map(|o| operational_within(&shown, o.start, o.end.unwrap_or(end)))
                .fold(SimDuration::ZERO, |a, b| a + b)
        })
        .collect()
}

/// The component's states over time, as `(from, state)` in time order.
fn shown_states(
    notes: &[(SimTime, NodeId, Note)],
    component: u16,
) -> Vec<(SimTime, ComponentState)> {
    let mut out = vec![(SimTime::ZERO, ComponentState::Operational)];
    for &(at, _, note) in notes {
        if let Note::StatusChanged {
            component: c,
            state,
        } = note
            && c == component
        {
            out.push((at, state));
        }
    }
    out
}

/// How much of `[from, until)` the component spent shown as operational.
fn operational_within(
    shown: &[(SimTime, ComponentState)],
    from: SimTime,
    until: SimTime,
) -> SimDuration {
    let mut total = SimDuration::ZERO;
    for (k, &(start, state)) in shown.iter().enumerate() {
        let stop = shown.get(k + 1).map_or(SimTime::MAX, |x| x.0);
        let (a, b) = (start.max(from), stop.min(until));
        if state == ComponentState::Operational && b > a {
            total = total + b.saturating_since(a);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    fn changed(at: u64, state: ComponentState) -> (SimTime, NodeId, Note) {
        (
            s(at),
            0,
            Note::StatusChanged {
                component: 0,
                state,
            },
        )
    }

    #[test]
    fn the_page_is_silent_until_the_post_and_again_after_a_premature_all_clear() {
        let notes = vec![
            changed(100, ComponentState::MajorOutage),
            changed(300, ComponentState::Operational),
            (
                s(150),
                0,
                Note::StatusChanged {
                    component: 1,
                    state: ComponentState::MajorOutage,
                },
            ),
        ];
        let shown = shown_states(&notes, 0);
        // Outage 40..400: operational 40..100 and 300..400.
        assert_eq!(
            operational_within(&shown, s(40), s(400)),
            SimDuration::from_secs(160)
        );
        // Another component's post does not count.
        let other = shown_states(&notes, 1);
        assert_eq!(
            operational_within(&other, s(40), s(400)),
            SimDuration::from_secs(110)
        );
        assert_eq!(
            operational_within(&shown, s(120), s(250)),
            SimDuration::ZERO
        );
    }
}

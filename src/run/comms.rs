//! What the incident response achieved for users and told the public, read off a judged run:
//! when every service was back (the plan's "restored"), and how long the status page called
//! a failing service operational.
//!
//! Owns these two readings. Outages are measured in `outages`; what the page showed comes
//! from its notes.

use super::judge::ServiceResult;
use crate::logic::{ComponentState, NodeId, Note};
use crate::model::topology::Role;
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

/// When every datastore that lost its primary after `t0` had a new one: the latest of their
/// first promotions (by a controller, a sentinel, by hand, or a restore) after their loss was
/// detected. `None` while any of them has none. With no loss detected, the first promotion
/// after `t0`, if any. `roles` maps a node to its datastore.
pub fn failover_done(
    notes: &[(SimTime, NodeId, Note)],
    roles: &[Role],
    datastores: usize,
    t0: SimTime,
) -> Option<SimTime> {
    let store = |n: NodeId| match roles.get(n as usize) {
        Some(Role::DatabaseMember { datastore, .. }) => Some(*datastore),
        _ => None,
    };
    let mut lost = vec![false; datastores];
    let mut promoted: Vec<Option<SimTime>> = vec![None; datastores];
    let mut first = None;
    for &(at, node, note) in notes.iter().filter(|n| n.0 >= t0) {
        let (d, loss) = match note {
            Note::Detected { node: n } | Note::SentinelObjectivelyDown { master: n } => {
                (store(n), true)
            }
            Note::Promoted { .. } | Note::Restored { .. } => (store(node), false),
            _ => continue,
        };
        let Some(d) = d else { continue };
        if loss {
            lost[d] = true;
        } else if lost[d] && promoted[d].is_none() {
            promoted[d] = Some(at);
        }
        if !loss {
            first = first.or(Some(at));
        }
    }
    if !lost.contains(&true) {
        return first;
    }
    let mut done = t0;
    for (d, _) in lost.iter().enumerate().filter(|x| *x.1) {
        done = done.max(promoted[d]?);
    }
    Some(done)
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

    fn member(datastore: usize) -> Role {
        Role::DatabaseMember {
            datastore,
            member: 0,
        }
    }

    #[test]
    fn failover_is_done_when_every_datastore_that_lost_its_primary_has_a_new_one() {
        // Nodes 0-1: datastore 0; 2-3: datastore 1; 4: a controller.
        let roles = [member(0), member(0), member(1), member(1), Role::Plain];
        let promoted = |at, node| (s(at), node, Note::Promoted { epoch: 2 });
        let mut notes = vec![
            (s(5), 4, Note::Detected { node: 0 }),
            (s(6), 4, Note::SentinelObjectivelyDown { master: 2 }),
            promoted(8, 3),
        ];
        assert_eq!(
            failover_done(&notes, &roles, 2, s(1)),
            None,
            "datastore 0 has none"
        );
        notes.push(promoted(300, 1));
        notes.push(promoted(400, 3)); // a later promotion does not move the first
        assert_eq!(failover_done(&notes, &roles, 2, s(1)), Some(s(300)));
        let quiet = [promoted(50, 1)];
        assert_eq!(
            failover_done(&quiet, &roles, 2, s(1)),
            Some(s(50)),
            "no loss detected"
        );
        assert_eq!(failover_done(&[], &roles, 2, s(1)), None);
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

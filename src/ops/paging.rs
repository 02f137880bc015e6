//! Paging: a PagerDuty-style service with an escalation policy, and the on-call responders it
//! pages.
//!
//! Semantics from PagerDuty's documentation ("Escalation Policies and Schedules", "Configurable
//! Service Settings") and its REST API's field names:
//!
//! - An alert event (trigger, keyed by the monitoring server and rule: the `dedup_key`) opens
//!   an incident, or joins the open one with that key. The incident notifies the targets of
//!   the policy's first rule.
//! - If no one acknowledges within the rule's `escalation_delay_in_minutes`, the incident
//!   escalates to the next rule and notifies its targets. After the last rule it starts over
//!   from the first, `num_loops` times; then it stays with the last rule.
//! - An acknowledgement stops escalation. With the service's `acknowledgement_timeout`, an
//!   incident still unresolved that long after its acknowledgement re-triggers: it escalates
//!   anew from the first rule.
//! - A resolve event (the alert resolved) resolves the incident; a later trigger with the same
//!   key opens a new one.
//!
//! A responder is a person with a phone: paged, they acknowledge after a delay drawn from
//! their own distribution (`ops::delay`), unless their node (the phone, the laptop) is down.
//!
//! It owns incidents, escalation and acknowledgements. It does not own why an alert fired
//! (`ops::monitoring`) nor what the responder does after acknowledging (runbooks).

use super::delay::Delay;
use super::runbook::Runner;
use crate::logic::{AlertSet, Context, Msg, NodeId, Note, Timer};
use crate::sim::time::{SimDuration, SimTime};
use std::sync::Arc;

/// One rule of an escalation policy: whom to notify, and how long to wait for an
/// acknowledgement before escalating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationRule {
    pub escalation_delay: SimDuration,
    pub targets: Vec<Target>,
}

/// Whom a rule notifies: a responder, or whoever is on call in a schedule at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Responder(NodeId),
    Schedule(usize),
}

/// An on-call schedule (one layer of a PagerDuty schedule): `users` take turns of
/// `rotation_turn_length`, in order, the first turn having started at `rotation_virtual_start`
/// (a time of day; the rotation runs on from there, day after day).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub users: Vec<NodeId>,
    pub rotation_turn_length: SimDuration,
    pub rotation_virtual_start: SimDuration,
}

impl Schedule {
    /// Who is on call at `time_of_day` (time since midnight of the run's first day, which may
    /// run past a day).
    pub fn on_call(&self, time_of_day: SimDuration) -> NodeId {
        debug_assert!(!self.users.is_empty() && !self.rotation_turn_length.is_zero());
        let turn = i128::from(self.rotation_turn_length.0);
        let cycle = turn * self.users.len() as i128;
        let since = i128::from(time_of_day.0) - i128::from(self.rotation_virtual_start.0);
        let k = since.rem_euclid(cycle) / turn;
        self.users[k as usize]
    }
}

/// A service's escalation policy and settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PagingSpec {
    pub rules: Vec<EscalationRule>,
    /// The schedules rules may target.
    pub schedules: Vec<Schedule>,
    /// The time of day at simulated time zero (the scenario's `starts_at`), to read schedules.
    pub starts_at: SimDuration,
    pub num_loops: u32,
    pub acknowledgement_timeout: Option<SimDuration>,
    /// An automation started on every new incident with its alerts (PagerDuty's automation
    /// actions, e.g. a Rundeck job), told when the incident resolves.
    pub automation: Option<NodeId>,
}

/// Where an incident stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// Escalating: at rule `level`, in loop `round` of the policy.
    Triggered {
        level: usize,
        round: u32,
    },
    Acknowledged,
    Resolved,
}

#[derive(Clone, Copy, Debug)]
struct Incident {
    /// The monitoring server and its rule: the `dedup_key`.
    key: (NodeId, u16),
    status: Status,
    /// The names of the alerts that triggered it (its payload: what the responder reads).
    alerts: AlertSet,
    /// Whom it is assigned to: the responder whose acknowledgement it took.
    assignee: Option<NodeId>,
    /// Bumped at every change, so a timer set for an earlier state is ignored.
    token: u32,
}

/// The paging service: incidents by number (the first is 1).
#[derive(Clone, Debug)]
pub struct PagerDuty {
    spec: Arc<PagingSpec>,
    incidents: Vec<Incident>,
}

impl PagerDuty {
    pub fn new(spec: Arc<PagingSpec>) -> Self {
        debug_assert!(!spec.rules.is_empty());
        PagerDuty {
            spec,
            incidents: Vec::new(),
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::AlertNotify {
                rule,
                firing,
                alerts,
            } => self.on_alert((from, rule), firing, alerts, ctx),
            Msg::Acknowledge { incident } => self.on_acknowledge(incident, from, ctx),
            _ => {}
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::Escalate { incident, token } if self.current(incident, token) => {
                if let Status::Triggered { level, round } = self.incident(incident).status {
                    let (level, round) = self.next_rule(level, round);
                    self.notify(incident, level, round, ctx);
                }
            }
            Timer::AckTimeout { incident, token } if self.current(incident, token) => {
                ctx.note(Note::Retriggered { incident });
                self.notify(incident, 0, 0, ctx);
            }
            _ => {}
        }
    }

    /// A trigger opens an incident (or joins the open one with its key, adding its alerts); a
    /// resolve resolves it.
    fn on_alert(
        &mut self,
        key: (NodeId, u16),
        firing: bool,
        alerts: AlertSet,
        ctx: &mut impl Context,
    ) {
        let open = self
            .incidents
            .iter()
            .rposition(|i| i.key == key && i.status != Status::Resolved);
        match (open, firing) {
            (None, true) => {
                // `notify` sets its status and token as it pages the first rule.
                self.incidents.push(Incident {
                    key,
                    status: Status::Triggered { level: 0, round: 0 },
                    alerts,
                    assignee: None,
                    token: 0,
                });
                let incident = self.incidents.len() as u32;
                ctx.note(Note::IncidentTriggered {
                    incident,
                    server: key.0,
                    rule: key.1,
                });
                if let Some(bot) = self.spec.automation {
                    ctx.send(bot, Msg::Assigned { incident, alerts });
                }
                self.notify(incident, 0, 0, ctx);
            }
            (Some(k), false) => {
                let i = &mut self.incidents[k];
                i.status = Status::Resolved;
                i.token += 1;
                let incident = k as u32 + 1;
                ctx.note(Note::IncidentResolved { incident });
                for to in i.assignee.into_iter().chain(self.spec.automation) {
                    ctx.send(to, Msg::IncidentClosed { incident });
                }
            }
            (Some(k), true) => self.incidents[k].alerts |= alerts,
            (None, false) => {} // a resolve of nothing open
        }
    }

    /// The first acknowledgement of a triggered incident stops its escalation and assigns the
    /// incident to whoever acknowledged (PagerDuty: "acknowledging assigns it to you").
    fn on_acknowledge(&mut self, incident: u32, by: NodeId, ctx: &mut impl Context) {
        let timeout = self.spec.acknowledgement_timeout;
        let Some(i) = self.incidents.get_mut(incident as usize - 1) else {
            return;
        };
        if !matches!(i.status, Status::Triggered { .. }) {
            return;
        }
        i.status = Status::Acknowledged;
        i.assignee = Some(by);
        i.token += 1;
        let token = i.token;
        ctx.note(Note::Acknowledged { incident, by });
        let alerts = i.alerts;
        ctx.send(by, Msg::Assigned { incident, alerts });
        if let Some(after) = timeout {
            ctx.set_timer(after, Timer::AckTimeout { incident, token });
        }
    }

    /// Puts `incident` at rule `level` (loop `round`), pages its targets and waits for an
    /// acknowledgement for the rule's `escalation_delay`.
    fn notify(&mut self, incident: u32, level: usize, round: u32, ctx: &mut impl Context) {
        let spec = Arc::clone(&self.spec);
        let rule = &spec.rules[level];
        let i = &mut self.incidents[incident as usize - 1];
        i.status = Status::Triggered { level, round };
        i.token += 1;
        let token = i.token;
        let time_of_day = spec.starts_at + ctx.now().saturating_since(SimTime::ZERO);
        let mut paged: Vec<NodeId> = Vec::with_capacity(rule.targets.len());
        for target in &rule.targets {
            let responder = match *target {
                Target::Responder(n) => n,
                Target::Schedule(k) => spec.schedules[k].on_call(time_of_day),
            };
            if paged.contains(&responder) {
                continue;
            }
            paged.push(responder);
            ctx.note(Note::Paged {
                incident,
                responder,
                level: level as u16,
            });
            ctx.send(responder, Msg::Page { incident });
        }
        ctx.set_timer(rule.escalation_delay, Timer::Escalate { incident, token });
    }

    /// The rule after `level`: the next one, the first again while loops remain, else the
    /// last one again (PagerDuty keeps notifying the last rule's targets).
    fn next_rule(&self, level: usize, round: u32) -> (usize, u32) {
        let last = self.spec.rules.len() - 1;
        if level < last {
            (level + 1, round)
        } else if round < self.spec.num_loops {
            (0, round + 1)
        } else {
            (last, round)
        }
    }

    fn incident(&self, incident: u32) -> &Incident {
        &self.incidents[incident as usize - 1]
    }

    /// Whether a timer set with `token` still speaks for `incident`'s state.
    fn current(&self, incident: u32, token: u32) -> bool {
        self.incidents
            .get((incident as usize).wrapping_sub(1))
            .is_some_and(|i| i.token == token)
    }
}

/// How long a responder takes to acknowledge, by day and at night.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResponderSpec {
    pub acknowledge: Delay,
    /// Used instead for a page reaching them during the night hours, if set.
    pub at_night: Option<Delay>,
    /// The night: from this time of day until that one (since midnight; may wrap past it).
    pub night: (SimDuration, SimDuration),
    /// The time of day at simulated time zero (the scenario's `starts_at`).
    pub starts_at: SimDuration,
}

const DAY: u64 = 86_400_000_000_000;

impl ResponderSpec {
    /// The delay for a page reaching them at `now`: the night one between the night hours.
    fn delay_at(&self, now: SimTime) -> Delay {
        let tod = (self.starts_at.0 + now.0) % DAY;
        let (from, until) = (self.night.0.0, self.night.1.0);
        let night = if from <= until {
            (from..until).contains(&tod)
        } else {
            tod >= from || tod < until
        };
        match self.at_night {
            Some(d) if night => d,
            _ => self.acknowledge,
        }
    }
}

/// An on-call responder: acknowledges each page after a delay of their own, then follows the
/// runbooks for the incident assigned to them.
#[derive(Clone, Debug)]
pub struct Responder {
    spec: ResponderSpec,
    /// The paging service, to answer.
    service: NodeId,
    /// Incidents paged and not yet acknowledged by this responder.
    reacting: Vec<u32>,
    runbooks: Runner,
}

impl Responder {
    pub fn new(spec: ResponderSpec, service: NodeId, runbooks: Runner) -> Self {
        Responder {
            spec,
            service,
            reacting: Vec::new(),
            runbooks,
        }
    }

    /// A page starts the reaction (a second page for the same incident meanwhile does not
    /// restart it); its end acknowledges. An incident assigned to them starts its runbooks;
    /// one closed starts their all-clear steps.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Page { incident } => {
                if !self.reacting.contains(&incident) {
                    self.reacting.push(incident);
                    let after = self.spec.delay_at(ctx.now()).sample(ctx.rng());
                    ctx.set_timer(after, Timer::Respond { incident });
                }
            }
            _ => self.runbooks.on_message(from, msg, ctx),
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        match timer {
            Timer::Respond { incident } => {
                self.reacting.retain(|&i| i != incident);
                ctx.send(self.service, Msg::Acknowledge { incident });
            }
            Timer::RunStep { .. } => self.runbooks.on_timer(timer, ctx),
            _ => {}
        }
    }

    /// A phone that is off forgets the pages it had not answered, and its owner stops
    /// where they were in their runbooks.
    pub fn crash(&mut self) {
        self.reacting.clear();
        self.runbooks.crash();
    }
}

/// An automation (a Rundeck job, a Lambda) the paging service starts on each incident: it runs
/// the same runbooks with the steps' automated delays.
#[derive(Clone, Debug)]
pub struct Automation {
    runbooks: Runner,
}

impl Automation {
    pub fn new(runbooks: Runner) -> Self {
        Automation { runbooks }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        self.runbooks.on_message(from, msg, ctx);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        self.runbooks.on_timer(timer, ctx);
    }

    /// Its node down, the jobs in flight are lost.
    pub fn crash(&mut self) {
        self.runbooks.crash();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;

    const PD: NodeId = 50;
    const PROM: NodeId = 40;
    const ALICE: NodeId = 1;
    const BOB: NodeId = 2;

    fn min(m: u64) -> SimDuration {
        SimDuration::from_secs(60 * m)
    }

    fn spec(num_loops: u32, ack_timeout: Option<SimDuration>) -> Arc<PagingSpec> {
        Arc::new(PagingSpec {
            rules: vec![
                EscalationRule {
                    escalation_delay: min(5),
                    targets: vec![Target::Responder(ALICE)],
                },
                EscalationRule {
                    escalation_delay: min(10),
                    targets: vec![Target::Responder(BOB)],
                },
            ],
            schedules: Vec::new(),
            starts_at: SimDuration::ZERO,
            num_loops,
            acknowledgement_timeout: ack_timeout,
            automation: None,
        })
    }

    /// The `Paged` notes in order, as (incident, responder, level).
    fn pages(ctx: &mut Recorder) -> Vec<(u32, NodeId, u16)> {
        let out = ctx
            .notes
            .iter()
            .filter_map(|n| match *n {
                Note::Paged {
                    incident,
                    responder,
                    level,
                } => Some((incident, responder, level)),
                _ => None,
            })
            .collect();
        ctx.notes.clear();
        out
    }

    /// Fires the last timer set, at its time.
    fn fire_last(pd: &mut PagerDuty, ctx: &mut Recorder) {
        let (at, timer) = *ctx.timers.last().expect("a timer is set");
        ctx.at(at);
        pd.on_timer(timer, ctx);
    }

    #[test]
    fn an_alert_pages_the_first_rule_then_escalates_and_loops() {
        let mut pd = PagerDuty::new(spec(1, None));
        let mut ctx = Recorder::new(PD);
        pd.on_message(
            PROM,
            Msg::AlertNotify {
                rule: 3,
                firing: true,
                alerts: 1,
            },
            &mut ctx,
        );
        assert!(ctx.notes.contains(&Note::IncidentTriggered {
            incident: 1,
            server: PROM,
            rule: 3
        }));
        assert_eq!(pages(&mut ctx), vec![(1, ALICE, 0)]);
        assert_eq!(ctx.sent, vec![(ALICE, Msg::Page { incident: 1 })]);
        fire_last(&mut pd, &mut ctx); // 5 min: nobody answered
        assert_eq!(ctx.now, SimTime::ZERO + min(5));
        assert_eq!(pages(&mut ctx), vec![(1, BOB, 1)]);
        fire_last(&mut pd, &mut ctx); // 15 min: loop once to the first rule
        assert_eq!(pages(&mut ctx), vec![(1, ALICE, 0)]);
        fire_last(&mut pd, &mut ctx);
        assert_eq!(pages(&mut ctx), vec![(1, BOB, 1)]);
        fire_last(&mut pd, &mut ctx); // loops spent: the last rule again
        assert_eq!(pages(&mut ctx), vec![(1, BOB, 1)]);
    }

    #[test]
    fn an_acknowledgement_stops_escalation_and_the_timeout_retriggers() {
        let mut pd = PagerDuty::new(spec(0, Some(min(30))));
        let mut ctx = Recorder::new(PD);
        pd.on_message(
            PROM,
            Msg::AlertNotify {
                rule: 0,
                firing: true,
                alerts: 1,
            },
            &mut ctx,
        );
        let (_, escalate) = *ctx.timers.last().unwrap();
        ctx.at(SimTime::ZERO + min(2));
        pd.on_message(ALICE, Msg::Acknowledge { incident: 1 }, &mut ctx);
        assert!(ctx.notes.contains(&Note::Acknowledged {
            incident: 1,
            by: ALICE
        }));
        pages(&mut ctx);
        ctx.at(SimTime::ZERO + min(5));
        pd.on_timer(escalate, &mut ctx);
        assert!(pages(&mut ctx).is_empty(), "acknowledged: no escalation");
        fire_last(&mut pd, &mut ctx); // 32 min: still not resolved
        assert_eq!(ctx.now, SimTime::ZERO + min(32));
        assert!(ctx.notes.contains(&Note::Retriggered { incident: 1 }));
        assert_eq!(pages(&mut ctx), vec![(1, ALICE, 0)]);
    }

    #[test]
    fn a_resolve_ends_the_incident_and_a_new_trigger_opens_another() {
        let mut pd = PagerDuty::new(spec(0, None));
        let mut ctx = Recorder::new(PD);
        let alert = |firing| Msg::AlertNotify {
            rule: 0,
            firing,
            alerts: 1,
        };
        pd.on_message(PROM, alert(true), &mut ctx);
        pd.on_message(PROM, alert(true), &mut ctx);
        assert_eq!(pages(&mut ctx), vec![(1, ALICE, 0)], "the same key joins");
        let (_, escalate) = *ctx.timers.last().unwrap();
        pd.on_message(PROM, alert(false), &mut ctx);
        assert!(ctx.notes.contains(&Note::IncidentResolved { incident: 1 }));
        pd.on_timer(escalate, &mut ctx);
        pd.on_message(ALICE, Msg::Acknowledge { incident: 1 }, &mut ctx);
        assert!(
            !ctx.notes
                .iter()
                .any(|n| matches!(n, Note::Paged { .. } | Note::Acknowledged { .. })),
            "resolved: {:?}",
            ctx.notes
        );
        pd.on_message(PROM, alert(true), &mut ctx);
        assert_eq!(pages(&mut ctx), vec![(2, ALICE, 0)]);
    }

    #[test]
    fn a_schedule_hands_over_at_each_turn_from_its_virtual_start_day_after_day() {
        let h = |x: u64| SimDuration::from_secs(3600 * x);
        // Alice from 08:00 to 20:00, Bob from 20:00 to 08:00.
        let s = Schedule {
            users: vec![ALICE, BOB],
            rotation_turn_length: h(12),
            rotation_virtual_start: h(8),
        };
        for (at, who) in [
            (h(8), ALICE),
            (h(19), ALICE),
            (h(20), BOB),
            (h(3), BOB),
            (h(7), BOB),
        ] {
            assert_eq!(s.on_call(at), who, "{at}");
        }
        assert_eq!(s.on_call(h(24 + 9)), ALICE, "the next day");
        assert_eq!(s.on_call(h(24 + 21)), BOB);
    }

    #[test]
    fn a_rule_targeting_a_schedule_pages_whoever_is_on_call_then() {
        let h = |x: u64| SimDuration::from_secs(3600 * x);
        let mut spec = (*spec(0, None)).clone();
        spec.schedules = vec![Schedule {
            users: vec![ALICE, BOB],
            rotation_turn_length: h(12),
            rotation_virtual_start: h(8),
        }];
        spec.rules[0].targets = vec![Target::Schedule(0), Target::Responder(BOB)];
        spec.starts_at = h(19) + min(50); // 19:50: Alice's turn, ending in 10 minutes
        let alert = |firing| Msg::AlertNotify {
            rule: 0,
            firing,
            alerts: 1,
        };
        let mut pd = PagerDuty::new(Arc::new(spec));
        let mut ctx = Recorder::new(PD);
        pd.on_message(PROM, alert(true), &mut ctx);
        assert_eq!(pages(&mut ctx), vec![(1, ALICE, 0), (1, BOB, 0)]);
        pd.on_message(PROM, alert(false), &mut ctx);
        ctx.at(SimTime::ZERO + min(15)); // 20:05: Bob's turn; Bob is paged once
        pd.on_message(PROM, alert(true), &mut ctx);
        assert_eq!(pages(&mut ctx), vec![(2, BOB, 0)]);
    }

    fn responder(day_s: u64, night_s: u64, starts_at_h: u64) -> Responder {
        let h = |x: u64| SimDuration::from_secs(3600 * x);
        let spec = ResponderSpec {
            acknowledge: Delay::Fixed(SimDuration::from_secs(day_s)),
            at_night: Some(Delay::Fixed(SimDuration::from_secs(night_s))),
            night: (h(22), h(7)),
            starts_at: h(starts_at_h),
        };
        Responder::new(spec, PD, Runner::new(Arc::default(), false))
    }

    #[test]
    fn a_page_at_night_takes_the_night_delay() {
        for (starts_at, at_s, expect) in [
            (10, 0, 90),     // 10:00
            (3, 0, 600),     // 03:00
            (21, 3599, 90),  // 21:59:59
            (21, 3600, 600), // 22:00
            (6, 3600, 90),   // 07:00
        ] {
            let mut r = responder(90, 600, starts_at);
            let mut ctx = Recorder::new(ALICE);
            ctx.at(SimTime::from_secs(at_s));
            r.on_message(PD, Msg::Page { incident: 1 }, &mut ctx);
            let after = ctx.timers[0].0.saturating_since(ctx.now);
            assert_eq!(
                after,
                SimDuration::from_secs(expect),
                "{starts_at}h + {at_s}s"
            );
        }
    }

    #[test]
    fn a_responder_acknowledges_after_their_delay_once_per_page() {
        let mut r = responder(90, 600, 10);
        let mut ctx = Recorder::new(ALICE);
        r.on_message(PD, Msg::Page { incident: 4 }, &mut ctx);
        r.on_message(PD, Msg::Page { incident: 4 }, &mut ctx);
        assert_eq!(
            ctx.timers,
            vec![(SimTime::from_secs(90), Timer::Respond { incident: 4 })]
        );
        ctx.at(SimTime::from_secs(90));
        r.on_timer(Timer::Respond { incident: 4 }, &mut ctx);
        assert_eq!(ctx.sent, vec![(PD, Msg::Acknowledge { incident: 4 })]);
    }
}

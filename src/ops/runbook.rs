//! Runbooks: ordered steps an operator (or an automation) follows for an incident.
//!
//! A runbook is chosen by the alerts behind an incident (its `on` names). Each step takes a
//! while to carry out (`takes`, a [`Delay`] drawn from the runner's seeded stream: a person's
//! time to log in, read the dashboards, type the command; an automation's own, shorter one),
//! then, if it has a condition, checks it (`patronictl list` against the failover controller,
//! answered or not within [`CHECK_TIMEOUT`]) and acts only if it holds. Actions are messages
//! to the machines and the status page: look at the cluster (verify the automatic failover),
//! promote a standby by hand, set a status-page component, post an incident update. The
//! `on_resolve` steps run once the paging service resolves the incident (the all-clear).
//!
//! The same runbook is run by a person ([`crate::ops::paging::Responder`]) after they
//! acknowledge, or by an automation the paging service starts at once (PagerDuty's
//! automation actions), each with its own delays, so manual and automated handling of one
//! fault compare on the same scenario.
//!
//! It owns the steps' order, timing and checks. It does not own what an action does on the
//! machines (`logic::failover`, `ops::status_page`) nor who is paged (`ops::paging`).

use super::delay::Delay;
use crate::logic::{
    AlertSet, ComponentState, Context, IncidentStage, MemberSet, Msg, NodeId, Note, StepOutcome,
    Timer,
};
use crate::sim::time::SimDuration;
use std::sync::Arc;

/// How long an operator waits on a check (`patronictl list`) before giving up on it.
pub const CHECK_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// What a step's check asks of a failover controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The cluster has no healthy leader.
    NoLeader { controller: NodeId },
    /// The cluster has a healthy leader.
    Leader { controller: NodeId },
}

impl Condition {
    fn controller(self) -> NodeId {
        match self {
            Condition::NoLeader { controller } | Condition::Leader { controller } => controller,
        }
    }

    fn holds(self, leader: bool) -> bool {
        match self {
            Condition::NoLeader { .. } => !leader,
            Condition::Leader { .. } => leader,
        }
    }
}

/// What a step does once its time is up (and its condition holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Look at the cluster: noted as the failover verified (a leader) or not.
    CheckCluster { controller: NodeId },
    /// `patronictl failover`: promote the most advanced live one of `candidates` by hand.
    Failover {
        controller: NodeId,
        candidates: MemberSet,
    },
    /// Set a status-page component.
    Status {
        page: NodeId,
        component: u16,
        state: ComponentState,
    },
    /// Post an update to the status page's incident.
    Update { page: NodeId, stage: IncidentStage },
}

impl Action {
    /// The check this action makes itself, if any.
    fn check(self) -> Option<NodeId> {
        match self {
            Action::CheckCluster { controller } => Some(controller),
            _ => None,
        }
    }
}

/// One step: its action, the time it takes by hand and by automation, and its condition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub action: Action,
    pub takes: Delay,
    pub automated: Delay,
    pub when: Option<Condition>,
}

/// A runbook: the alerts it is for, its steps, and the steps of the all-clear.
#[derive(Clone, Debug, PartialEq)]
pub struct RunbookSpec {
    pub on: AlertSet,
    pub steps: Vec<Step>,
    pub on_resolve: Vec<Step>,
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Carrying out the current step (its `takes`).
    Doing,
    /// Waiting for the answer to the step's check.
    Checking,
    /// Every step done; waiting for the incident to resolve (if there are `on_resolve` steps).
    Waiting,
    Finished,
}

#[derive(Clone, Copy, Debug)]
struct Run {
    book: u16,
    incident: u32,
    /// Index of the current step: `steps` first, then `on_resolve` after them.
    step: usize,
    phase: Phase,
    /// The current wait's token (timers and check answers carry it).
    token: u32,
    /// The incident resolved while the steps were still running.
    resolved: bool,
}

/// Runs runbooks for incidents, one run per (incident, runbook); `automated` picks the steps'
/// automated delays.
#[derive(Clone, Debug)]
pub struct Runner {
    books: Arc<Vec<RunbookSpec>>,
    automated: bool,
    runs: Vec<Run>,
    next_token: u32,
}

impl Runner {
    pub fn new(books: Arc<Vec<RunbookSpec>>, automated: bool) -> Self {
        Runner {
            books,
            automated,
            runs: Vec::new(),
            next_token: 0,
        }
    }

    /// Starts every runbook for these alerts not yet run for `incident`.
    pub fn start(&mut self, incident: u32, alerts: AlertSet, ctx: &mut impl Context) {
        let books = Arc::clone(&self.books);
        for (b, book) in books.iter().enumerate() {
            let book_id = b as u16;
            let known = self
                .runs
                .iter()
                .any(|r| r.incident == incident && r.book == book_id);
            if book.on & alerts == 0 || known {
                continue;
            }
            ctx.note(Note::RunbookStarted {
                runbook: book_id,
                incident,
            });
            self.runs.push(Run {
                book: book_id,
                incident,
                step: 0,
                phase: Phase::Doing,
                token: 0,
                resolved: false,
            });
            self.begin(self.runs.len() - 1, ctx);
        }
    }

    /// The incident resolved: runs waiting for it go on to their all-clear steps.
    pub fn resolved(&mut self, incident: u32, ctx: &mut impl Context) {
        for k in 0..self.runs.len() {
            let r = &mut self.runs[k];
            if r.incident != incident || r.resolved {
                continue;
            }
            r.resolved = true;
            if r.phase == Phase::Waiting {
                r.phase = Phase::Doing;
                self.begin(k, ctx);
            }
        }
    }

    pub fn on_message(&mut self, msg: Msg, ctx: &mut impl Context) {
        if let Msg::ClusterState { token, leader } = msg
            && let Some(k) = self
                .runs
                .iter()
                .position(|r| r.phase == Phase::Checking && r.token == token)
        {
            self.act(k, Some(leader), ctx);
        }
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        let Timer::RunStep { run, token } = timer else {
            return;
        };
        let k = run as usize;
        let Some(r) = self.runs.get(k).filter(|r| r.token == token) else {
            return;
        };
        match r.phase {
            Phase::Doing => self.check(k, ctx),
            Phase::Checking => self.act(k, None, ctx),
            Phase::Waiting | Phase::Finished => {}
        }
    }

    /// The person or the automation is gone: the runs stop where they were.
    pub fn crash(&mut self) {
        for r in &mut self.runs {
            r.phase = Phase::Finished;
        }
    }

    /// The current step of run `k`, if it has one.
    fn step(&self, k: usize) -> Option<Step> {
        let r = &self.runs[k];
        let book = &self.books[r.book as usize];
        let n = book.steps.len();
        if r.step < n {
            Some(book.steps[r.step])
        } else {
            book.on_resolve.get(r.step - n).copied()
        }
    }

    /// Starts run `k`'s current step: its time begins; past the main steps, the run waits
    /// for the incident to resolve before the all-clear steps.
    fn begin(&mut self, k: usize, ctx: &mut impl Context) {
        let book = &self.books[self.runs[k].book as usize];
        let main = book.steps.len();
        let r = self.runs[k];
        if r.step == main && !r.resolved && !book.on_resolve.is_empty() {
            self.runs[k].phase = Phase::Waiting;
            return;
        }
        let Some(step) = self.step(k) else {
            self.runs[k].phase = Phase::Finished;
            return;
        };
        let delay = if self.automated {
            step.automated
        } else {
            step.takes
        };
        let after = delay.sample(ctx.rng());
        self.wait(k, Phase::Doing, after, ctx);
    }

    /// The step's time is up: check its condition (or what it looks at), or act at once.
    fn check(&mut self, k: usize, ctx: &mut impl Context) {
        let Some(step) = self.step(k) else { return };
        let asks = step.when.map(Condition::controller).or(step.action.check());
        match asks {
            Some(controller) => {
                self.wait(k, Phase::Checking, CHECK_TIMEOUT, ctx);
                let token = self.runs[k].token;
                ctx.send(controller, Msg::ClusterQuery { token });
            }
            None => self.act(k, None, ctx),
        }
    }

    /// Ends run `k`'s step with the check's answer (`None`: none came, or none was asked):
    /// acts if its condition holds, notes the outcome, and begins the next step.
    fn act(&mut self, k: usize, leader: Option<bool>, ctx: &mut impl Context) {
        let Some(step) = self.step(k) else { return };
        let asked = step.when.is_some() || step.action.check().is_some();
        let outcome = match (asked, leader, step.when) {
            (true, None, _) => StepOutcome::Unchecked,
            (_, Some(l), Some(c)) if !c.holds(l) => StepOutcome::Skipped,
            _ => {
                perform(step.action, leader, ctx);
                StepOutcome::Done
            }
        };
        let r = &mut self.runs[k];
        ctx.note(Note::RunbookStep {
            runbook: r.book,
            step: r.step as u16,
            outcome,
        });
        r.step += 1;
        self.begin(k, ctx);
    }

    /// Sets run `k` waiting in `phase` for `after`, with a fresh token.
    fn wait(&mut self, k: usize, phase: Phase, after: SimDuration, ctx: &mut impl Context) {
        self.next_token += 1;
        let token = self.next_token;
        let r = &mut self.runs[k];
        r.phase = phase;
        r.token = token;
        let run = k as u32;
        ctx.set_timer(after, Timer::RunStep { run, token });
    }
}

/// Carries out an action (`leader`: what the step's check found, if it made one).
fn perform(action: Action, leader: Option<bool>, ctx: &mut impl Context) {
    match action {
        Action::CheckCluster { .. } => ctx.note(Note::ClusterChecked {
            leader: leader.unwrap_or(false),
        }),
        Action::Failover {
            controller,
            candidates,
        } => ctx.send(controller, Msg::ManualFailover { candidates }),
        Action::Status {
            page,
            component,
            state,
        } => ctx.send(page, Msg::StatusPost { component, state }),
        Action::Update { page, stage } => ctx.send(page, Msg::StatusUpdate { stage }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::testing::Recorder;
    use crate::sim::time::SimTime;

    const ME: NodeId = 3;
    const DCS: NodeId = 20;
    const PAGE: NodeId = 30;

    fn fixed(s: u64) -> Delay {
        Delay::Fixed(SimDuration::from_secs(s))
    }

    fn step(action: Action, takes_s: u64, when: Option<Condition>) -> Step {
        Step {
            action,
            takes: fixed(takes_s),
            automated: fixed(1),
            when,
        }
    }

    /// Failover runbook: verify (60 s), promote by hand if still no leader (120 s), post a
    /// major outage (30 s); after the incident resolves, post resolved (10 s).
    fn books() -> Arc<Vec<RunbookSpec>> {
        let no_leader = Some(Condition::NoLeader { controller: DCS });
        Arc::new(vec![RunbookSpec {
            on: 0b10,
            steps: vec![
                step(Action::CheckCluster { controller: DCS }, 60, None),
                step(
                    Action::Failover {
                        controller: DCS,
                        candidates: 0b1000,
                    },
                    120,
                    no_leader,
                ),
                step(
                    Action::Status {
                        page: PAGE,
                        component: 0,
                        state: ComponentState::MajorOutage,
                    },
                    30,
                    None,
                ),
            ],
            on_resolve: vec![step(
                Action::Update {
                    page: PAGE,
                    stage: IncidentStage::Resolved,
                },
                10,
                None,
            )],
        }])
    }

    /// Fires the timer set last (the current wait; earlier ones are superseded); answers any
    /// cluster query with `leader`.
    fn advance(r: &mut Runner, ctx: &mut Recorder, leader: Option<bool>) {
        let (at, timer) = ctx.timers.pop().expect("a timer");
        ctx.at(at);
        r.on_timer(timer, ctx);
        let queries: Vec<u32> = ctx
            .sent
            .iter()
            .filter_map(|m| match m.1 {
                Msg::ClusterQuery { token } => Some(token),
                _ => None,
            })
            .collect();
        ctx.sent
            .retain(|m| !matches!(m.1, Msg::ClusterQuery { .. }));
        if let Some(leader) = leader {
            for token in queries {
                r.on_message(Msg::ClusterState { token, leader }, ctx);
            }
        }
    }

    fn outcomes(ctx: &Recorder) -> Vec<StepOutcome> {
        ctx.notes
            .iter()
            .filter_map(|n| match n {
                Note::RunbookStep { outcome, .. } => Some(*outcome),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn without_a_leader_the_operator_promotes_by_hand_then_posts() {
        let mut r = Runner::new(books(), false);
        let mut ctx = Recorder::new(ME);
        r.start(5, 0b110, &mut ctx);
        r.start(5, 0b010, &mut ctx); // the same incident again: not run twice
        advance(&mut r, &mut ctx, Some(false)); // 60 s: checked, no leader
        assert!(ctx.notes.contains(&Note::ClusterChecked { leader: false }));
        advance(&mut r, &mut ctx, Some(false)); // 180 s: still none: promote
        let failover = Msg::ManualFailover { candidates: 0b1000 };
        assert_eq!(ctx.take_sent(), vec![(DCS, failover)]);
        assert_eq!(ctx.now, SimTime::from_secs(180));
        advance(&mut r, &mut ctx, None); // 210 s: post
        let post = Msg::StatusPost {
            component: 0,
            state: ComponentState::MajorOutage,
        };
        assert_eq!(ctx.take_sent(), vec![(PAGE, post)]);
        assert_eq!(ctx.now, SimTime::from_secs(210));
        assert!(
            ctx.timers.iter().all(|t| t.0 <= SimTime::from_secs(210)),
            "nothing more until the incident resolves: {:?}",
            ctx.timers
        );
        ctx.timers.clear(); // the checks' timeouts, superseded by their answers
        r.on_timer(Timer::RunStep { run: 0, token: 3 }, &mut ctx);
        assert!(ctx.sent.is_empty(), "a superseded timer does nothing");
        r.resolved(5, &mut ctx);
        advance(&mut r, &mut ctx, None);
        let all_clear = Msg::StatusUpdate {
            stage: IncidentStage::Resolved,
        };
        assert_eq!(ctx.take_sent(), vec![(PAGE, all_clear)]);
        assert_eq!(ctx.now, SimTime::from_secs(220));
        assert_eq!(outcomes(&ctx), vec![StepOutcome::Done; 4]);
        let started = ctx
            .notes
            .iter()
            .filter(|n| matches!(n, Note::RunbookStarted { .. }))
            .count();
        assert_eq!(started, 1);
    }

    #[test]
    fn with_a_leader_the_promotion_is_skipped_the_verify_only_path() {
        let mut r = Runner::new(books(), false);
        let mut ctx = Recorder::new(ME);
        r.start(1, 0b10, &mut ctx);
        advance(&mut r, &mut ctx, Some(true));
        advance(&mut r, &mut ctx, Some(true));
        assert!(ctx.notes.contains(&Note::ClusterChecked { leader: true }));
        assert!(ctx.sent.is_empty(), "no manual failover: {:?}", ctx.sent);
        assert_eq!(
            outcomes(&ctx),
            vec![StepOutcome::Done, StepOutcome::Skipped]
        );
    }

    #[test]
    fn an_unanswered_check_is_given_up_on_and_the_step_not_done() {
        let mut r = Runner::new(books(), false);
        let mut ctx = Recorder::new(ME);
        r.start(1, 0b10, &mut ctx);
        advance(&mut r, &mut ctx, None); // 60 s: asks, nobody answers
        advance(&mut r, &mut ctx, None); // 90 s: gives up
        assert_eq!(ctx.now, SimTime::from_secs(60) + CHECK_TIMEOUT);
        assert_eq!(outcomes(&ctx), vec![StepOutcome::Unchecked]);
        assert!(
            !ctx.notes
                .iter()
                .any(|n| matches!(n, Note::ClusterChecked { .. })),
            "nothing verified"
        );
    }

    #[test]
    fn automation_takes_its_own_delays_and_other_alerts_start_nothing() {
        let mut r = Runner::new(books(), true);
        let mut ctx = Recorder::new(ME);
        r.start(1, 0b01, &mut ctx);
        assert!(ctx.timers.is_empty(), "not this runbook's alert");
        r.start(2, 0b10, &mut ctx);
        advance(&mut r, &mut ctx, Some(false));
        advance(&mut r, &mut ctx, Some(false));
        assert_eq!(ctx.now, SimTime::from_secs(2), "1 s a step");
    }

    #[test]
    fn a_crash_stops_the_runs() {
        let mut r = Runner::new(books(), false);
        let mut ctx = Recorder::new(ME);
        r.start(1, 0b10, &mut ctx);
        r.crash();
        advance(&mut r, &mut ctx, Some(false));
        assert!(ctx.sent.is_empty() && outcomes(&ctx).is_empty());
    }
}

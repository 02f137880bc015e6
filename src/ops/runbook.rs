//! Runbooks: ordered steps an operator (or an automation) follows for an incident.
//!
//! A runbook is chosen by the alerts behind an incident (its `on` names). Each step takes a
//! while to carry out (`takes`, a [`Delay`] drawn from the runner's seeded stream: a person's
//! time to log in, read the dashboards, type the command; an automation's own, shorter one),
//! then, if it has a condition, checks it (`patronictl list` against the failover controller,
//! answered or not within [`CHECK_TIMEOUT`]) and acts only if it holds. Actions are messages
//! to the machines and the status page: look at the cluster (verify the automatic failover),
//! promote a standby by hand (`patronictl failover`, `SENTINEL FAILOVER`), turn a DNS
//! routing control off or on, set the blockchain features' maintenance flag, start a
//! restore, set a status-page component, post an incident update there or on a social
//! channel. The `on_resolve` steps run once the paging service resolves the incident (the
//! all-clear).
//!
//! A check goes to a *group* of nodes: a Patroni cluster's DCS is one node, a Redis master
//! set's sentinels are several. The operator asks every one (`SENTINEL master` on each) and
//! waits for all of them, or [`CHECK_TIMEOUT`] for those that do not answer: the cluster has
//! a leader if any that answered says so (a lone sentinel cut off from a healthy master must
//! not trigger a failover). A command that follows the check goes to the first node that
//! answered it.
//!
//! The same runbook is run by a person ([`crate::ops::paging::Responder`]) after they
//! acknowledge, or by an automation the paging service starts at once (PagerDuty's
//! automation actions), each with its own delays, so manual and automated handling of one
//! fault compare on the same scenario.
//!
//! It owns the steps' order, timing and checks. It does not own what an action does on the
//! machines (`logic::failover`, `logic::sentinel`, `logic::routing`, `logic::rpc`,
//! `ops::restore`, `ops::status_page`) nor who is paged (`ops::paging`).

use super::delay::Delay;
use crate::logic::{
    AlertSet, ComponentState, Context, IncidentStage, MemberSet, Msg, NO_NODE, NodeId, Note,
    StepOutcome, Timer,
};
use crate::sim::time::SimDuration;
use std::sync::Arc;

/// How long an operator waits on a check (`patronictl list`) before giving up on it.
pub const CHECK_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// A group of nodes steps address, by its index in [`Runbooks::groups`].
pub type Group = u16;

/// What a step's check asks of a failover controller (a group: the DCS, or the sentinels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The cluster has no healthy leader.
    NoLeader { controller: Group },
    /// The cluster has a healthy leader.
    Leader { controller: Group },
}

impl Condition {
    fn controller(self) -> Group {
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
    CheckCluster { controller: Group },
    /// `patronictl failover`: promote the most advanced live one of `candidates` by hand;
    /// `SENTINEL FAILOVER` to a sentinel (`candidates` empty). Sent to the controller that
    /// answered the step's check.
    Failover {
        controller: Group,
        candidates: MemberSet,
    },
    /// Route 53 ARC `update-routing-control-state`: turn DNS endpoint `endpoint`'s routing
    /// control `On` or `Off` (an `Off` endpoint is answered as unhealthy).
    RoutingControl {
        dns: NodeId,
        endpoint: u16,
        on: bool,
    },
    /// Set (or clear) the blockchain features' maintenance flag on every balancer of `rpc`.
    Maintenance { balancers: Group, on: bool },
    /// Start the restore procedure of a datastore (its recovery node).
    Restore { recovery: NodeId },
    /// Post the incident's `stage` on public channel `channel` (social media): no node of
    /// the topology carries it, the post is made when the step is done.
    Post { channel: u16, stage: IncidentStage },
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
    /// The check this action makes itself, if any: a command to a controller first finds one
    /// that answers.
    fn check(self) -> Option<Group> {
        match self {
            Action::CheckCluster { controller } | Action::Failover { controller, .. } => {
                Some(controller)
            }
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

impl Step {
    /// The group the step's check asks: its condition's, or its action's own.
    fn asks(self) -> Option<Group> {
        self.when.map(Condition::controller).or(self.action.check())
    }
}

/// A runbook: the alerts it is for, its steps, and the steps of the all-clear.
#[derive(Clone, Debug, PartialEq)]
pub struct RunbookSpec {
    pub on: AlertSet,
    pub steps: Vec<Step>,
    pub on_resolve: Vec<Step>,
}

/// A topology's runbooks and the node groups their steps address.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Runbooks {
    pub books: Vec<RunbookSpec>,
    /// Each group's nodes, in the order they are tried.
    pub groups: Vec<Vec<NodeId>>,
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
    /// The first node that answered the current step's check (where its command goes).
    answered_by: NodeId,
    /// The group's nodes (by position) that answered it, and whether any saw a leader.
    answered: u64,
    leader_seen: bool,
}

/// Runs runbooks for incidents, one run per (incident, runbook); `automated` picks the steps'
/// automated delays.
#[derive(Clone, Debug)]
pub struct Runner {
    books: Arc<Runbooks>,
    automated: bool,
    runs: Vec<Run>,
    next_token: u32,
}

impl Runner {
    pub fn new(books: Arc<Runbooks>, automated: bool) -> Self {
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
        for (b, book) in books.books.iter().enumerate() {
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
                answered_by: NO_NODE,
                answered: 0,
                leader_seen: false,
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

    /// An incident assigned starts its runbooks, one closed their all-clear steps; answers to
    /// a step's check are gathered until every node of the group answered.
    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Assigned { incident, alerts } => self.start(incident, alerts, ctx),
            Msg::IncidentClosed { incident } => self.resolved(incident, ctx),
            Msg::ClusterState { token, leader } => self.on_answer(from, token, leader, ctx),
            _ => {}
        }
    }

    fn on_answer(&mut self, from: NodeId, token: u32, leader: bool, ctx: &mut impl Context) {
        let Some(k) = self
            .runs
            .iter()
            .position(|r| r.phase == Phase::Checking && r.token == token)
        else {
            return;
        };
        let Some(group) = self.step(k).and_then(Step::asks) else {
            return;
        };
        let nodes = &self.books.groups[group as usize];
        let Some(i) = nodes.iter().position(|&n| n == from) else {
            return;
        };
        let all = if nodes.len() == 64 {
            u64::MAX
        } else {
            (1 << nodes.len()) - 1
        };
        let r = &mut self.runs[k];
        if r.answered == 0 {
            r.answered_by = from;
        }
        r.answered |= 1 << i;
        r.leader_seen |= leader;
        if r.answered == all {
            let seen = r.leader_seen;
            self.act(k, Some(seen), ctx);
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
            Phase::Checking => {
                // Given up on the silent ones: what those that answered said, if any did.
                let r = self.runs[k];
                let seen = (r.answered != 0).then_some(r.leader_seen);
                self.act(k, seen, ctx);
            }
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
        let book = &self.books.books[r.book as usize];
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
        let book = &self.books.books[self.runs[k].book as usize];
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
        match step.asks() {
            Some(controller) => {
                self.wait(k, Phase::Checking, CHECK_TIMEOUT, ctx);
                let r = &mut self.runs[k];
                r.answered_by = NO_NODE;
                r.answered = 0;
                r.leader_seen = false;
                let token = r.token;
                for &node in &self.books.groups[controller as usize] {
                    ctx.send(node, Msg::ClusterQuery { token });
                }
            }
            None => self.act(k, None, ctx),
        }
    }

    /// Ends run `k`'s step with the check's answer (`None`: none came, or none was asked):
    /// acts if its condition holds, notes the outcome, and begins the next step.
    fn act(&mut self, k: usize, leader: Option<bool>, ctx: &mut impl Context) {
        let Some(step) = self.step(k) else { return };
        let asked = step.asks().is_some();
        let outcome = match (asked, leader, step.when) {
            (true, None, _) => StepOutcome::Unchecked,
            (_, Some(l), Some(c)) if !c.holds(l) => StepOutcome::Skipped,
            _ => {
                let at = self.runs[k].answered_by;
                perform(step.action, leader, at, &self.books.groups, ctx);
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

/// Carries out an action (`leader`: what the step's check found, if it made one; `at`: the
/// controller that answered it).
fn perform(
    action: Action,
    leader: Option<bool>,
    at: NodeId,
    groups: &[Vec<NodeId>],
    ctx: &mut impl Context,
) {
    match action {
        Action::CheckCluster { .. } => ctx.note(Note::ClusterChecked {
            leader: leader.unwrap_or(false),
        }),
        Action::Failover { candidates, .. } => {
            debug_assert_ne!(at, NO_NODE, "a failover is sent only after an answer");
            ctx.send(at, Msg::ManualFailover { candidates })
        }
        Action::RoutingControl { dns, endpoint, on } => {
            ctx.send(dns, Msg::RoutingControl { endpoint, on })
        }
        Action::Maintenance { balancers, on } => {
            for &b in &groups[balancers as usize] {
                ctx.send(b, Msg::MaintenanceFlag { on });
            }
        }
        Action::Restore { recovery } => ctx.send(recovery, Msg::RestoreStart),
        Action::Post { channel, stage } => ctx.note(Note::Posted { channel, stage }),
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
    fn books() -> Arc<Runbooks> {
        let no_leader = Some(Condition::NoLeader { controller: 0 });
        let books = vec![RunbookSpec {
            on: 0b10,
            steps: vec![
                step(Action::CheckCluster { controller: 0 }, 60, None),
                step(
                    Action::Failover {
                        controller: 0,
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
        }];
        Arc::new(Runbooks {
            books,
            groups: vec![vec![DCS]],
        })
    }

    /// Fires the timer set last (the current wait; earlier ones are superseded); answers any
    /// cluster query with `leader`.
    fn advance(r: &mut Runner, ctx: &mut Recorder, leader: Option<bool>) {
        let (at, timer) = ctx.timers.pop().expect("a timer");
        ctx.at(at);
        r.on_timer(timer, ctx);
        let queries: Vec<(NodeId, u32)> = ctx
            .sent
            .iter()
            .filter_map(|m| match m.1 {
                Msg::ClusterQuery { token } => Some((m.0, token)),
                _ => None,
            })
            .collect();
        ctx.sent
            .retain(|m| !matches!(m.1, Msg::ClusterQuery { .. }));
        if let Some(leader) = leader {
            for (to, token) in queries {
                r.on_message(to, Msg::ClusterState { token, leader }, ctx);
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

    const S1: NodeId = 21;
    const S2: NodeId = 22;
    const RPC_A: NodeId = 40;
    const RPC_B: NodeId = 41;
    const GSLB: NodeId = 50;
    const DBA: NodeId = 60;

    /// A Redis runbook over two sentinels (group 0) and two RPC balancers (group 1).
    fn redis_books() -> Arc<Runbooks> {
        let no_leader = Some(Condition::NoLeader { controller: 0 });
        let failover = Action::Failover {
            controller: 0,
            candidates: 0,
        };
        let steps = vec![
            step(failover, 60, no_leader),
            step(
                Action::Maintenance {
                    balancers: 1,
                    on: true,
                },
                10,
                None,
            ),
            step(
                Action::RoutingControl {
                    dns: GSLB,
                    endpoint: 2,
                    on: false,
                },
                10,
                None,
            ),
            step(Action::Restore { recovery: DBA }, 10, None),
            step(
                Action::Post {
                    channel: 1,
                    stage: IncidentStage::Identified,
                },
                10,
                None,
            ),
        ];
        Arc::new(Runbooks {
            books: vec![RunbookSpec {
                on: 0b1,
                steps,
                on_resolve: Vec::new(),
            }],
            groups: vec![vec![S1, S2], vec![RPC_A, RPC_B]],
        })
    }

    /// A check goes to every sentinel and waits for all; the command goes to the first that
    /// answered. Group commands reach every member.
    #[test]
    fn the_first_sentinel_to_answer_gets_the_command() {
        let mut r = Runner::new(redis_books(), false);
        let mut ctx = Recorder::new(ME);
        r.start(1, 0b1, &mut ctx);
        let (at, timer) = ctx.timers.pop().expect("the first step's time");
        ctx.at(at);
        r.on_timer(timer, &mut ctx);
        let query = Msg::ClusterQuery { token: 2 };
        assert_eq!(ctx.take_sent(), vec![(S1, query), (S2, query)]);
        let state = Msg::ClusterState {
            token: 2,
            leader: false,
        };
        r.on_message(S2, state, &mut ctx);
        assert!(ctx.sent.is_empty(), "S1 has not answered yet");
        r.on_message(S1, state, &mut ctx);
        let failover = Msg::ManualFailover { candidates: 0 };
        assert_eq!(ctx.take_sent(), vec![(S2, failover)]);
        for _ in 0..4 {
            let (at, timer) = ctx.timers.pop().expect("the next step's time");
            ctx.at(at);
            r.on_timer(timer, &mut ctx);
        }
        let flag = Msg::MaintenanceFlag { on: true };
        let off = Msg::RoutingControl {
            endpoint: 2,
            on: false,
        };
        assert_eq!(
            ctx.take_sent(),
            vec![
                (RPC_A, flag),
                (RPC_B, flag),
                (GSLB, off),
                (DBA, Msg::RestoreStart)
            ]
        );
        let posted = Note::Posted {
            channel: 1,
            stage: IncidentStage::Identified,
        };
        assert!(ctx.notes.contains(&posted), "{:?}", ctx.notes);
        assert_eq!(outcomes(&ctx), vec![StepOutcome::Done; 5]);
        assert_eq!(ctx.now, SimTime::from_secs(100));
    }

    /// One sentinel still sees the master (a partition cut the other off): the cluster has a
    /// leader, and no failover is forced. One silent sentinel: the check waits for it until
    /// the timeout, then goes by the answer it has.
    #[test]
    fn a_sentinel_that_sees_the_master_holds_the_failover_back() {
        let books = redis_books();
        for (answers, expect) in [
            (vec![(S1, true), (S2, false)], StepOutcome::Skipped),
            (vec![(S2, false)], StepOutcome::Done),
        ] {
            let mut r = Runner::new(Arc::clone(&books), false);
            let mut ctx = Recorder::new(ME);
            r.start(1, 0b1, &mut ctx);
            let (at, timer) = ctx.timers.pop().expect("the first step's time");
            ctx.at(at);
            r.on_timer(timer, &mut ctx);
            ctx.sent.clear();
            for (from, leader) in answers {
                r.on_message(from, Msg::ClusterState { token: 2, leader }, &mut ctx);
            }
            if expect == StepOutcome::Done {
                assert!(outcomes(&ctx).is_empty(), "still waiting for S1");
                let (at, timer) = ctx.timers.pop().expect("the check's timeout");
                assert_eq!(at, SimTime::from_secs(60) + CHECK_TIMEOUT);
                ctx.at(at);
                r.on_timer(timer, &mut ctx);
            }
            assert_eq!(outcomes(&ctx), vec![expect]);
            let forced = ctx
                .sent
                .iter()
                .any(|m| matches!(m.1, Msg::ManualFailover { .. }));
            assert_eq!(forced, expect == StepOutcome::Done);
        }
    }
}

//! The request path in front of the database: health-checked DNS (GSLB), regional load
//! balancers and app servers.
//!
//! - [`Gslb`]: Route 53-style failover/latency routing. It health-checks one endpoint per
//!   region and answers each client's query with the first healthy endpoint in that client's
//!   preference order (all unhealthy: the first preference, as Route 53 fails open).
//!   Clients cache the answer for the record's TTL; that is their problem, not the GSLB's.
//! - [`LoadBalancer`]: an ALB in one region. Round-robin over healthy app servers; answers
//!   the GSLB's probe only while it has a healthy target (Route 53 "evaluate target health").
//! - [`AppServer`]: forwards writes to the database node its HAProxy-style role check
//!   believes is the primary, and relays the reply back.

use super::health_check::HealthChecker;
use super::{Context, Msg, NO_NODE, NodeId, Note, OpRef, Outcome, Route, Timer};

/// Health-checked DNS.
pub struct Gslb {
    checker: HealthChecker,
    /// Preference order (indices into the checker's targets) per client node id.
    preferences: Vec<Vec<usize>>,
}

impl Gslb {
    pub fn new(checker: HealthChecker, preferences: Vec<Vec<usize>>) -> Self {
        Gslb { checker, preferences }
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        self.checker.start(index, ctx);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        self.checker.on_timer(timer, ctx);
    }

    /// The endpoint this GSLB would give `client` now.
    pub fn answer(&self, client: NodeId) -> NodeId {
        let targets = self.checker.targets();
        let prefs = self.preferences.get(client as usize).filter(|p| !p.is_empty());
        let Some(prefs) = prefs else {
            return targets.first().copied().unwrap_or(NO_NODE);
        };
        let pick = prefs.iter().find(|&&i| self.checker.is_healthy(i)).unwrap_or(&prefs[0]);
        targets[*pick]
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Resolve { cache } => {
                let endpoint = self.answer(from);
                ctx.send(from, Msg::Resolved { cache, endpoint });
            }
            Msg::ProbeReply { round, primary } => self.checker.on_reply(from, round, primary),
            _ => {}
        }
    }
}

/// A regional load balancer.
pub struct LoadBalancer {
    checker: HealthChecker,
    next: usize,
}

impl LoadBalancer {
    pub fn new(checker: HealthChecker) -> Self {
        LoadBalancer { checker, next: 0 }
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        self.checker.start(index, ctx);
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        self.checker.on_timer(timer, ctx);
    }

    fn pick(&mut self) -> Option<NodeId> {
        let n = self.checker.targets().len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if self.checker.is_healthy(i) {
                self.next = (i + 1) % n;
                return Some(self.checker.targets()[i]);
            }
        }
        None
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, .. } => match self.pick() {
                Some(app) => ctx.send(
                    app,
                    Msg::Request {
                        op,
                        route: Route {
                            lb: ctx.me(),
                            app: NO_NODE,
                        },
                    },
                ),
                None => ctx.send(
                    op.client,
                    Msg::Reply {
                        op,
                        route: Route::DIRECT,
                        outcome: Outcome::Refused,
                    },
                ),
            },
            Msg::Reply { op, outcome, .. } => ctx.send(
                op.client,
                Msg::Reply {
                    op,
                    route: Route::DIRECT,
                    outcome,
                },
            ),
            Msg::Probe { round } => {
                let any = (0..self.checker.targets().len()).any(|i| self.checker.is_healthy(i));
                if any {
                    ctx.send(from, Msg::ProbeReply { round, primary: false });
                }
            }
            Msg::ProbeReply { round, primary } => self.checker.on_reply(from, round, primary),
            _ => {}
        }
    }
}

/// An application server in front of a database cluster.
pub struct AppServer {
    /// Role checks against every database member; `None` for an app with no datastore.
    checker: Option<HealthChecker>,
    current: NodeId,
}

impl AppServer {
    pub fn new(checker: Option<HealthChecker>) -> Self {
        let mut app = AppServer {
            checker,
            current: NO_NODE,
        };
        app.current = app.primary().unwrap_or(NO_NODE);
        app
    }

    pub fn start(&mut self, index: u64, ctx: &mut impl Context) {
        if let Some(c) = &mut self.checker {
            c.start(index, ctx);
        }
    }

    /// The member this app sends writes to: the first one its checks call primary.
    fn primary(&self) -> Option<NodeId> {
        let c = self.checker.as_ref()?;
        (0..c.targets().len()).find(|&i| c.is_healthy(i)).map(|i| c.targets()[i])
    }

    pub fn on_timer(&mut self, timer: Timer, ctx: &mut impl Context) {
        if let Some(c) = &mut self.checker
            && c.on_timer(timer, ctx)
        {
            let now_primary = self.primary().unwrap_or(NO_NODE);
            if now_primary != self.current {
                self.current = now_primary;
                if now_primary != NO_NODE {
                    ctx.note(Note::Rerouted { to: now_primary });
                }
            }
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut impl Context) {
        match msg {
            Msg::Request { op, route } => {
                let route = Route { lb: route.lb, app: ctx.me() };
                match self.primary() {
                    Some(db) => ctx.send(db, Msg::Request { op, route }),
                    None => reply_back(ctx, op, route, Outcome::Refused),
                }
            }
            Msg::Reply { op, route, outcome } => reply_back(ctx, op, route, outcome),
            Msg::Probe { round } => ctx.send(from, Msg::ProbeReply { round, primary: false }),
            Msg::ProbeReply { round, primary } => {
                if let Some(c) = &mut self.checker {
                    c.on_reply(from, round, primary);
                }
            }
            _ => {}
        }
    }
}

/// From an app server back toward the client: through the load balancer when there was one.
fn reply_back(ctx: &mut impl Context, op: OpRef, route: Route, outcome: Outcome) {
    let to = if route.lb != NO_NODE { route.lb } else { op.client };
    ctx.send(to, Msg::Reply { op, route, outcome });
}

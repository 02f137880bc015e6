//! The world of one run: every node's process, dispatched by the kernel.
//!
//! This is the only place that knows both the kernel and the logic: it adapts the kernel's
//! [`Ctx`] to the logic's [`Context`] trait (adding the node's own random stream) and routes
//! each message or timer to the state machine on that node.

use crate::logic::backup::{BackupAgent, BackupStore};
use crate::logic::cdn::Edge;
use crate::logic::corruption::BadTransaction;
use crate::logic::failover::Monitor;
use crate::logic::lease::HeartbeatPlan;
use crate::logic::replication::Replica;
use crate::logic::restore::RecoveryRunbook;
use crate::logic::routing::{AppServer, Gslb, LoadBalancer};
use crate::logic::rpc::{RpcBalancer, RpcProvider};
use crate::logic::sentinel::Sentinel;
use crate::logic::site::StaticSite;
use crate::logic::{Context, Lsn, Msg, NodeId, Note, Timer};
use crate::measure::client::ClientPopulation;
use crate::measure::history::OpRecord;
use crate::measure::lag::LagMarks;
use crate::sim::kernel::{Ctx, NetFault, World};
use crate::sim::network::NodeIndex;
use crate::sim::time::{SimDuration, SimTime};
use rand_chacha::ChaCha8Rng;

/// The state machine running on one node.
pub enum Process {
    /// A node with no role of its own (it may still heartbeat).
    Plain,
    Replica(Replica),
    Monitor(Monitor),
    App(AppServer),
    LoadBalancer(LoadBalancer),
    Dns(Gslb),
    Clients(ClientPopulation),
    Sentinel(Sentinel),
    Site(StaticSite),
    Edge(Edge),
    RpcProvider(RpcProvider),
    RpcBalancer(RpcBalancer),
    BackupStore(BackupStore),
    Recovery(RecoveryRunbook),
}

/// A fault on processes, applied by the world when the kernel fires it (indexed by the
/// scenario's fault number).
#[derive(Clone, Debug)]
pub enum ProcessFault {
    /// The chain stops: every provider's head freezes and calls fail.
    ChainHalt { providers: Vec<NodeIndex> },
    /// One provider fails `ppm` parts per million of its calls.
    Errors { node: NodeIndex, ppm: u32 },
    /// A bad transaction damaging `ppm` of the rows is committed on the datastore's primary.
    Corrupt { datastore: usize, ppm: u32 },
    /// Every backup of the store at `node` is asked to be deleted.
    DeleteBackups { node: NodeIndex },
}

pub struct GameDayWorld {
    pub processes: Vec<Process>,
    /// Heartbeats of nodes that are not database members (those renew their own leases).
    pub plain_heartbeats: Vec<Option<HeartbeatPlan>>,
    /// Position of each node among all health-checking nodes, for staggered phases.
    pub phase_index: Vec<u64>,
    pub rngs: Vec<ChaCha8Rng>,
    /// When each node went down and came back (for safety checks and the timeline).
    pub outages: Vec<(SimTime, NodeIndex, bool)>,
    pub faults_applied: Vec<(SimTime, NetFault)>,
    pub process_faults: Vec<Option<ProcessFault>>,
    /// The backup agent beside each database member (by node).
    pub agents: Vec<Option<BackupAgent>>,
    /// Members of each datastore (by datastore index).
    pub datastore_members: Vec<Vec<NodeIndex>>,
    /// Bad transactions committed in each datastore, as `(when, what)`.
    pub bad_transactions: Vec<Vec<(SimTime, BadTransaction)>>,
    /// Each node's log position over time (database members only), for replication lag.
    pub lag_marks: Vec<LagMarks>,
    /// Whether `lag_marks` are recorded (a run whose detail is kept).
    pub record_lag: bool,
}

impl GameDayWorld {
    /// Notes a database member's log position after it handled something.
    #[inline]
    fn mark_lag(&mut self, i: usize, now: SimTime) {
        if !self.record_lag {
            return;
        }
        if let Process::Replica(r) = &self.processes[i] {
            self.lag_marks[i].observe(now, r.log().last());
        }
    }
}

/// The logic's view of the kernel context, with the node's own random stream.
struct NodeCtx<'a, 'b> {
    k: &'a mut Ctx<'b, GameDayWorld>,
    rng: &'a mut ChaCha8Rng,
}

impl Context for NodeCtx<'_, '_> {
    #[inline]
    fn now(&self) -> SimTime {
        self.k.now()
    }
    #[inline]
    fn me(&self) -> NodeId {
        self.k.me()
    }
    #[inline]
    fn send(&mut self, to: NodeId, msg: Msg) {
        self.k.send(to, msg)
    }
    #[inline]
    fn set_timer(&mut self, after: SimDuration, timer: Timer) {
        self.k.set_timer(after, timer)
    }
    fn rng(&mut self) -> &mut ChaCha8Rng {
        self.rng
    }
    fn note(&mut self, note: Note) {
        tracing::debug!(sim_time = %self.k.now(), node = self.k.me(), ?note, "observation");
        self.k.note(note)
    }
}

impl GameDayWorld {
    fn start_node(&mut self, node: NodeIndex, k: &mut Ctx<'_, Self>, restart: bool) {
        let i = node as usize;
        let index = self.phase_index[i];
        let mut ctx = NodeCtx {
            k,
            rng: &mut self.rngs[i],
        };
        if let Some(plan) = self.plain_heartbeats[i] {
            plan.arm(true, &mut ctx);
        }
        if let Some(agent) = &mut self.agents[i] {
            agent.start(&mut ctx);
        }
        match &mut self.processes[i] {
            Process::RpcBalancer(x) => x.start(index, &mut ctx),
            Process::Recovery(x) => x.start(&mut ctx),
            Process::Plain
            | Process::Site(_)
            | Process::Edge(_)
            | Process::RpcProvider(_)
            | Process::BackupStore(_) => {}
            Process::Replica(r) => {
                if restart {
                    r.restart(&mut ctx)
                } else {
                    r.start(&mut ctx)
                }
            }
            Process::Monitor(m) => m.start(&mut ctx),
            Process::App(a) => a.start(index, &mut ctx),
            Process::LoadBalancer(l) => l.start(index, &mut ctx),
            Process::Dns(g) => g.start(index, &mut ctx),
            Process::Sentinel(x) => x.start(&mut ctx),
            Process::Clients(c) => {
                if restart {
                    c.restart(&mut ctx)
                } else {
                    c.start(&mut ctx)
                }
            }
        }
    }
}

impl World for GameDayWorld {
    type Msg = Msg;
    type Timer = Timer;
    type Note = Note;

    fn start(&mut self, node: NodeIndex, k: &mut Ctx<'_, Self>) {
        self.start_node(node, k, false);
    }

    #[inline]
    fn on_message(&mut self, node: NodeIndex, from: NodeIndex, msg: Msg, k: &mut Ctx<'_, Self>) {
        let i = node as usize;
        let mut ctx = NodeCtx {
            k,
            rng: &mut self.rngs[i],
        };
        match &mut self.processes[i] {
            Process::Replica(r) => match (msg, &mut self.agents[i]) {
                (Msg::BackupStored { .. }, Some(agent)) => agent.on_message(msg, &mut ctx),
                _ => r.on_message(from, msg, &mut ctx),
            },
            Process::Monitor(m) => m.on_message(from, msg, &mut ctx),
            Process::BackupStore(x) => x.on_message(from, msg, &mut ctx),
            Process::Recovery(x) => x.on_message(from, msg, &mut ctx),
            Process::Clients(c) => c.on_message(from, msg, &mut ctx),
            Process::App(a) => a.on_message(from, msg, &mut ctx),
            Process::LoadBalancer(l) => l.on_message(from, msg, &mut ctx),
            Process::Dns(g) => g.on_message(from, msg, &mut ctx),
            Process::Sentinel(x) => x.on_message(from, msg, &mut ctx),
            Process::Site(x) => x.on_message(from, msg, &mut ctx),
            Process::Edge(x) => x.on_message(from, msg, &mut ctx),
            Process::RpcProvider(x) => x.on_message(from, msg, &mut ctx),
            Process::RpcBalancer(x) => x.on_message(from, msg, &mut ctx),
            Process::Plain => {}
        }
        let now = k.now();
        self.mark_lag(i, now);
    }

    #[inline]
    fn on_timer(&mut self, node: NodeIndex, timer: Timer, k: &mut Ctx<'_, Self>) {
        let i = node as usize;
        let mut ctx = NodeCtx {
            k,
            rng: &mut self.rngs[i],
        };
        if timer == Timer::Heartbeat
            && let Some(plan) = self.plain_heartbeats[i]
        {
            plan.beat_plain(&mut ctx);
            return;
        }
        match &mut self.processes[i] {
            Process::Replica(r) => match (timer, &mut self.agents[i]) {
                (Timer::BackupDue { .. } | Timer::WalArchiveDue, Some(agent)) => {
                    agent.on_timer(timer, r.log(), r.committed(), &mut ctx)
                }
                _ => r.on_timer(timer, &mut ctx),
            },
            Process::Monitor(m) => m.on_timer(timer, &mut ctx),
            Process::BackupStore(x) => x.on_timer(timer, &mut ctx),
            Process::Recovery(x) => x.on_timer(timer, &mut ctx),
            Process::Clients(c) => c.on_timer(timer, &mut ctx),
            Process::App(a) => a.on_timer(timer, &mut ctx),
            Process::LoadBalancer(l) => l.on_timer(timer, &mut ctx),
            Process::Dns(g) => g.on_timer(timer, &mut ctx),
            Process::Sentinel(x) => x.on_timer(timer, &mut ctx),
            Process::Edge(x) => x.on_timer(timer, &mut ctx),
            Process::RpcBalancer(x) => x.on_timer(timer, &mut ctx),
            Process::RpcProvider(_) => {}
            Process::Plain | Process::Site(_) => {}
        }
        let now = k.now();
        self.mark_lag(i, now);
    }

    fn on_down(&mut self, node: NodeIndex, now: SimTime) {
        self.outages.push((now, node, false));
        match &mut self.processes[node as usize] {
            Process::Replica(r) => r.crash(),
            Process::Monitor(m) => m.crash(),
            Process::Sentinel(x) => x.crash(),
            Process::Edge(x) => x.crash(),
            Process::RpcBalancer(x) => x.crash(),
            Process::App(x) => x.crash(),
            // Routers and clients keep their small volatile views (health, caches) across a
            // crash: a simplification noted in docs/ARCHITECTURE.md.
            _ => {}
        }
    }

    fn on_up(&mut self, node: NodeIndex, k: &mut Ctx<'_, Self>) {
        self.outages.push((k.now(), node, true));
        self.start_node(node, k, true);
    }

    fn on_fault(&mut self, fault: &NetFault, now: SimTime) {
        tracing::info!(sim_time = %now, ?fault, "fault");
        self.faults_applied.push((now, *fault));
        if let NetFault::Process { id, on } = *fault
            && let Some(Some(pf)) = self.process_faults.get(id as usize)
        {
            match pf {
                ProcessFault::ChainHalt { providers } => {
                    for &p in providers {
                        if let Process::RpcProvider(x) = &mut self.processes[p as usize] {
                            x.set_halted(on, now);
                        }
                    }
                }
                ProcessFault::Errors { node, ppm } => {
                    if let Process::RpcProvider(x) = &mut self.processes[*node as usize] {
                        x.set_error_rate(if on { *ppm } else { 0 });
                    }
                }
                // Acted on with a context, in `on_process_fault`.
                ProcessFault::Corrupt { .. } | ProcessFault::DeleteBackups { .. } => {}
            }
        }
    }

    fn process_fault_nodes(&self, id: u32) -> Vec<NodeIndex> {
        match self.process_faults.get(id as usize) {
            Some(Some(ProcessFault::Corrupt { datastore, .. })) => {
                self.datastore_members[*datastore].clone()
            }
            Some(Some(ProcessFault::DeleteBackups { node })) => vec![*node],
            _ => Vec::new(),
        }
    }

    /// Client histories and replication-lag marks, the records that grow with the run; one
    /// pass over the processes, reading lengths only.
    fn memory_bytes(&self) -> u64 {
        let size = |bytes: usize, count: usize| bytes as u64 * count as u64;
        let ops: usize = self
            .processes
            .iter()
            .map(|p| match p {
                Process::Clients(c) => c.history().len(),
                _ => 0,
            })
            .sum();
        let marks: usize = self.lag_marks.iter().map(LagMarks::len).sum();
        size(std::mem::size_of::<OpRecord>(), ops)
            + size(std::mem::size_of::<(SimTime, Lsn)>(), marks)
            + size(
                std::mem::size_of::<(SimTime, NodeIndex, bool)>(),
                self.outages.len(),
            )
            + size(
                std::mem::size_of::<(SimTime, NetFault)>(),
                self.faults_applied.len(),
            )
    }

    fn on_process_fault(&mut self, node: NodeIndex, id: u32, on: bool, k: &mut Ctx<'_, Self>) {
        if !on {
            return; // neither a committed transaction nor a delete attempt can be undone
        }
        let i = node as usize;
        let mut ctx = NodeCtx {
            k,
            rng: &mut self.rngs[i],
        };
        match self.process_faults.get(id as usize) {
            Some(Some(ProcessFault::Corrupt { datastore, ppm })) => {
                let datastore = *datastore;
                // Only one member commits it: the first live one that is primary (several only
                // in a split brain, and then the first is enough to show the damage spread).
                if self.bad_transactions[datastore]
                    .iter()
                    .any(|(at, _)| *at == ctx.now())
                {
                    return;
                }
                let Process::Replica(r) = &mut self.processes[i] else {
                    return;
                };
                let Some((epoch, lsn)) = r.commit_internal(&mut ctx) else {
                    return;
                };
                ctx.note(Note::CorruptionInjected { lsn, ppm: *ppm });
                if self.record_lag {
                    self.lag_marks[i].observe(ctx.now(), lsn);
                }
                let bad = BadTransaction {
                    lsn,
                    epoch,
                    ppm: *ppm,
                };
                self.bad_transactions[datastore].push((ctx.now(), bad));
                for &m in &self.datastore_members[datastore] {
                    if let Process::Replica(r) = &mut self.processes[m as usize] {
                        r.know_bad_transaction(bad);
                    }
                }
            }
            Some(Some(ProcessFault::DeleteBackups { .. })) => {
                if let Process::BackupStore(x) = &mut self.processes[i] {
                    x.delete_all(&mut ctx);
                }
            }
            _ => {}
        }
    }
}

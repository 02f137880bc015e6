//! The discrete-event loop: pops `(time, seq)`-ordered events and drives the world's processes.
//!
//! The kernel owns simulated time, the event queue, the network and the fault state. The
//! processes (replicas, controllers, clients …) live in a [`World`] and see only a [`Ctx`]:
//! the current time, their own address, `send` and `set_timer`. They never see the queue.
//!
//! What counts as one event (reported as `events`, and bounded by the event budget): every
//! entry popped before the end of the run — a timer firing (including a no-op firing at a node
//! that is down, or from a previous incarnation of a restarted node), a message arrival
//! (including one dropped because its receiver is down or cut off), or a fault being applied
//! or lifted.
//!
//! Every run is bounded three ways ([`Bounds`]): its end time, an event budget and a memory
//! budget. The memory the run holds (the queue, the notes and the world's own records, which
//! [`World::memory_bytes`] reports) is measured every [`MEMORY_CHECK_EVERY`] events: counted
//! in events, never in wall time, so a run stops at the same event on every machine.

use super::network::{Network, NodeIndex, Place};
use super::queue::EventQueue;
use super::time::{SimDuration, SimTime};
use std::hash::{Hash, Hasher};

/// A change to the network's state, scheduled by a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetFault {
    /// A fault on processes rather than the network (a chain halt, an error rate): the kernel
    /// only schedules it; the world applies (`on`) or lifts it.
    Process {
        id: u32,
        on: bool,
    },
    Down(Place),
    Up(Place),
    Partition {
        id: u32,
        a: Place,
        b: Place,
    },
    Heal {
        id: u32,
    },
    AddLatency {
        id: u32,
        a: Place,
        b: Option<Place>,
        extra: SimDuration,
    },
    RemoveLatency {
        id: u32,
    },
}

/// The processes of a simulation, dispatched by node.
pub trait World {
    type Msg: Copy + Hash;
    type Timer: Copy + Hash;
    type Note;
    /// Called once per node at time zero, in node order, after faults are scheduled.
    fn start(&mut self, node: NodeIndex, ctx: &mut Ctx<'_, Self>)
    where
        Self: Sized;
    fn on_message(
        &mut self,
        node: NodeIndex,
        from: NodeIndex,
        msg: Self::Msg,
        ctx: &mut Ctx<'_, Self>,
    ) where
        Self: Sized;
    fn on_timer(&mut self, node: NodeIndex, timer: Self::Timer, ctx: &mut Ctx<'_, Self>)
    where
        Self: Sized;
    /// The node became unreachable (crash, zone/region/provider loss): volatile state is lost.
    fn on_down(&mut self, node: NodeIndex, now: SimTime);
    /// The node is reachable again: its process restarts from durable state.
    fn on_up(&mut self, node: NodeIndex, ctx: &mut Ctx<'_, Self>)
    where
        Self: Sized;
    /// A network fault was applied or lifted (for the timeline).
    fn on_fault(&mut self, _fault: &NetFault, _now: SimTime) {}
    /// The nodes a process fault acts on through [`World::on_process_fault`].
    fn process_fault_nodes(&self, _id: u32) -> Vec<NodeIndex> {
        Vec::new()
    }
    /// Process fault `id` is applied (`on`) or lifted on `node`, which is up: unlike
    /// [`World::on_fault`], the process may act (send, set timers, note).
    fn on_process_fault(&mut self, _node: NodeIndex, _id: u32, _on: bool, _ctx: &mut Ctx<'_, Self>)
    where
        Self: Sized,
    {
    }
    /// Bytes the world holds in records that grow as the run goes (histories, marks), for the
    /// memory budget. Called every [`MEMORY_CHECK_EVERY`] events, so it must be cheap: lengths
    /// times record sizes, not a walk over every record.
    fn memory_bytes(&self) -> u64 {
        0
    }
}

/// How often, in processed events, the loop measures the run's memory against its budget.
/// Counted in events so the stop is deterministic; 65,536 events are a few milliseconds of
/// work, far less than it takes to allocate a gigabyte.
pub const MEMORY_CHECK_EVERY: u64 = 65_536;

/// Bytes one queued event takes for a world with these message and timer types: what the
/// estimate before a run (`model::cost`) charges for each pending timer or message.
pub const fn queue_entry_bytes<M: Copy, T: Copy>() -> u64 {
    EventQueue::<Event<M, T>>::entry_bytes()
}

#[derive(Clone, Copy)]
enum Event<M, T> {
    Fault {
        index: u32,
    },
    Timer {
        node: NodeIndex,
        incarnation: u32,
        timer: T,
    },
    Deliver {
        from: NodeIndex,
        to: NodeIndex,
        msg: M,
    },
}

/// What a process may do: the whole of its view of the simulator.
pub struct Ctx<'a, W: World> {
    now: SimTime,
    me: NodeIndex,
    incarnation: u32,
    queue: &'a mut EventQueue<Event<W::Msg, W::Timer>>,
    network: &'a mut Network,
    notes: &'a mut Vec<(SimTime, NodeIndex, W::Note)>,
}

impl<W: World> Ctx<'_, W> {
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }
    #[inline]
    pub fn me(&self) -> NodeIndex {
        self.me
    }
    /// Puts a message on the wire. A node that is down sends nothing.
    #[inline]
    pub fn send(&mut self, to: NodeIndex, msg: W::Msg) {
        if !self.network.is_up(self.me) {
            return;
        }
        let at = self.network.arrival(self.now, self.me, to);
        self.queue.push(
            at,
            Event::Deliver {
                from: self.me,
                to,
                msg,
            },
        );
    }
    /// Fires `timer` at this node after `after`. Timers of a previous incarnation are ignored.
    #[inline]
    pub fn set_timer(&mut self, after: SimDuration, timer: W::Timer) {
        self.set_timer_at(self.now + after, timer);
    }
    #[inline]
    pub fn set_timer_at(&mut self, at: SimTime, timer: W::Timer) {
        debug_assert!(at >= self.now, "timer in the past");
        self.queue.push(
            at,
            Event::Timer {
                node: self.me,
                incarnation: self.incarnation,
                timer,
            },
        );
    }
    /// Records an observation for the timeline and checkers.
    pub fn note(&mut self, note: W::Note) {
        self.notes.push((self.now, self.me, note));
    }
    /// Whether `node` is reachable (used by test harnesses and oracles, not by logic).
    pub fn is_up(&self, node: NodeIndex) -> bool {
        self.network.is_up(node)
    }
}

/// Bounds on one run: every run has all three.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// The run covers simulated time `[0, end)`; an event at exactly `end` is not processed.
    pub end: SimTime,
    /// The most events the run may process; reaching it stops the run early.
    pub event_budget: u64,
    /// The most bytes the run may hold (measured every [`MEMORY_CHECK_EVERY`] events);
    /// exceeding it stops the run early.
    pub memory_budget: u64,
}

/// Why a run stopped before its end time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// It processed its whole event budget.
    EventBudget,
    /// It held more than its memory budget: `bytes` when measured.
    MemoryBudget { bytes: u64 },
}

/// What the loop itself measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    pub events: u64,
    pub trace_hash: u64,
    /// Why the run stopped early (a bound), or `None` when it reached its end time.
    pub stopped: Option<Stopped>,
    /// Simulated time of the last processed event.
    pub last_event_at: SimTime,
}

/// One simulation run.
pub struct Simulation<W: World> {
    queue: EventQueue<Event<W::Msg, W::Timer>>,
    network: Network,
    faults: Vec<NetFault>,
    incarnation: Vec<u32>,
    notes: Vec<(SimTime, NodeIndex, W::Note)>,
    bounds: Bounds,
}

impl<W: World> Simulation<W> {
    /// Faults are scheduled first, so a fault precedes every other event at its instant.
    pub fn new(network: Network, faults: Vec<(SimTime, NetFault)>, bounds: Bounds) -> Self {
        let mut queue = EventQueue::new();
        let mut list = Vec::with_capacity(faults.len());
        for (index, (at, fault)) in faults.into_iter().enumerate() {
            queue.push(
                at,
                Event::Fault {
                    index: index as u32,
                },
            );
            list.push(fault);
        }
        let n = network.node_count();
        Simulation {
            queue,
            network,
            faults: list,
            incarnation: vec![0; n],
            notes: Vec::new(),
            bounds,
        }
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Observations recorded by processes, in the order they happened.
    pub fn take_notes(&mut self) -> Vec<(SimTime, NodeIndex, W::Note)> {
        std::mem::take(&mut self.notes)
    }

    fn ctx(&mut self, now: SimTime, me: NodeIndex) -> Ctx<'_, W> {
        Ctx {
            now,
            me,
            incarnation: self.incarnation[me as usize],
            queue: &mut self.queue,
            network: &mut self.network,
            notes: &mut self.notes,
        }
    }

    /// Runs to the end time, or until a budget stops it.
    pub fn run(&mut self, world: &mut W) -> RunStats {
        for node in 0..self.network.node_count() as NodeIndex {
            let mut ctx = self.ctx(SimTime::ZERO, node);
            world.start(node, &mut ctx);
        }
        let mut hash = TraceHasher::new();
        let (mut events, mut last, mut stopped) = (0u64, SimTime::ZERO, None);
        // One compare per event covers both budgets: the next event count at which either
        // the event budget runs out or memory is measured.
        let mut next_check = MEMORY_CHECK_EVERY.min(self.bounds.event_budget);
        while let Some((now, event)) = self.queue.pop() {
            if now >= self.bounds.end {
                break;
            }
            if events >= next_check {
                stopped = self.check_bounds(events, world);
                if stopped.is_some() {
                    break;
                }
                next_check = (events + MEMORY_CHECK_EVERY).min(self.bounds.event_budget);
            }
            events += 1;
            last = now;
            hash.write_u64(now.0);
            match event {
                Event::Timer {
                    node,
                    incarnation,
                    timer,
                } => {
                    hash.write_u32(node);
                    timer.hash(&mut hash);
                    if incarnation == self.incarnation[node as usize] && self.network.is_up(node) {
                        let mut ctx = self.ctx(now, node);
                        world.on_timer(node, timer, &mut ctx);
                    }
                }
                Event::Deliver { from, to, msg } => {
                    hash.write_u64(((from as u64) << 32) | to as u64);
                    msg.hash(&mut hash);
                    if self.network.deliverable(from, to) {
                        let mut ctx = self.ctx(now, to);
                        world.on_message(to, from, msg, &mut ctx);
                    }
                }
                Event::Fault { index } => {
                    hash.write_u32(u32::MAX - index);
                    self.apply_fault(index as usize, now, world);
                }
            }
        }
        RunStats {
            events,
            trace_hash: hash.finish(),
            stopped,
            last_event_at: last,
        }
    }

    /// Whether a budget stops the run after `events` events.
    #[cold]
    fn check_bounds(&self, events: u64, world: &W) -> Option<Stopped> {
        if events >= self.bounds.event_budget {
            return Some(Stopped::EventBudget);
        }
        let bytes = self.memory_bytes(world);
        (bytes > self.bounds.memory_budget).then_some(Stopped::MemoryBudget { bytes })
    }

    /// Bytes the run holds now: queued events, notes, and the world's own records.
    pub fn memory_bytes(&self, world: &W) -> u64 {
        let note = std::mem::size_of::<(SimTime, NodeIndex, W::Note)>() as u64;
        self.queue.bytes() + self.notes.len() as u64 * note + world.memory_bytes()
    }

    fn apply_fault(&mut self, index: usize, now: SimTime, world: &mut W) {
        let fault = self.faults[index];
        world.on_fault(&fault, now);
        let changed = match fault {
            NetFault::Down(place) => self.network.set_down(place, true),
            NetFault::Up(place) => self.network.set_down(place, false),
            NetFault::Partition { id, a, b } => {
                self.network.add_partition(id, a, b);
                Vec::new()
            }
            NetFault::Heal { id } => {
                self.network.heal_partition(id);
                Vec::new()
            }
            NetFault::AddLatency { id, a, b, extra } => {
                self.network.add_latency(id, a, b, extra);
                Vec::new()
            }
            NetFault::RemoveLatency { id } => {
                self.network.remove_latency(id);
                Vec::new()
            }
            NetFault::Process { id, on } => {
                for node in world.process_fault_nodes(id) {
                    if self.network.is_up(node) {
                        let mut ctx = self.ctx(now, node);
                        world.on_process_fault(node, id, on, &mut ctx);
                    }
                }
                Vec::new()
            }
        };
        for node in changed {
            if self.network.is_up(node) {
                // A new incarnation: timers armed before the crash are now stale.
                self.incarnation[node as usize] += 1;
                let mut ctx = self.ctx(now, node);
                world.on_up(node, &mut ctx);
            } else {
                world.on_down(node, now);
            }
        }
    }
}

/// A fast, stable (platform-independent) 64-bit hash of the event trace.
pub struct TraceHasher(u64);

impl TraceHasher {
    pub fn new() -> Self {
        TraceHasher(0x243F_6A88_85A3_08D3)
    }
}

impl Default for TraceHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        super::rng::mix64(self.0)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
    #[inline]
    fn write_u8(&mut self, x: u8) {
        self.write_u64(x as u64)
    }
    #[inline]
    fn write_u16(&mut self, x: u16) {
        self.write_u64(x as u64)
    }
    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64)
    }
    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64)
    }
    #[inline]
    fn write_isize(&mut self, x: isize) {
        self.write_u64(x as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::network::{Jitter, NetworkLayout};
    use crate::sim::rng::component_rng;

    /// Node 0 pings node 1 every 10 ms; node 1 counts arrivals.
    #[derive(Default)]
    struct Ping {
        received: u32,
        restarts: u32,
    }

    impl World for Ping {
        type Msg = u32;
        type Timer = ();
        type Note = ();
        fn start(&mut self, node: NodeIndex, ctx: &mut Ctx<'_, Self>) {
            if node == 0 {
                ctx.set_timer(SimDuration::from_millis(10), ());
            }
        }
        fn on_message(&mut self, _: NodeIndex, _: NodeIndex, _: u32, _: &mut Ctx<'_, Self>) {
            self.received += 1;
        }
        fn on_timer(&mut self, _: NodeIndex, _: (), ctx: &mut Ctx<'_, Self>) {
            ctx.send(1, 7);
            ctx.set_timer(SimDuration::from_millis(10), ());
        }
        fn on_down(&mut self, _: NodeIndex, _: SimTime) {}
        fn on_up(&mut self, node: NodeIndex, ctx: &mut Ctx<'_, Self>) {
            self.restarts += 1;
            self.start(node, ctx);
        }
    }

    fn network() -> Network {
        Network::new(
            NetworkLayout {
                node_zone: vec![0, 1],
                zone_region: vec![0, 0],
                region_provider: vec![0],
                zone_latency: vec![SimDuration::from_millis(1); 4],
                jitter: Jitter::None,
            },
            (0..2)
                .map(|i| component_rng(0, &format!("net/{i}")))
                .collect(),
        )
    }

    fn bounds(ms: u64) -> Bounds {
        Bounds {
            end: SimTime::from_millis(ms),
            event_budget: u64::MAX,
            memory_budget: u64::MAX,
        }
    }

    #[test]
    fn run_boundary_is_exclusive() {
        let mut sim = Simulation::new(network(), vec![], bounds(100));
        let mut w = Ping::default();
        let stats = sim.run(&mut w);
        // timers at 10..=90 (9) and arrivals at 11..=91 (9); the timer at 100 is not processed.
        assert_eq!(stats.events, 18);
        assert_eq!(w.received, 9);
    }

    #[test]
    fn down_receiver_drops_and_restart_rearms_once() {
        let faults = vec![
            (SimTime::from_millis(25), NetFault::Down(Place::Node(0))),
            (SimTime::from_millis(55), NetFault::Up(Place::Node(0))),
        ];
        let mut sim = Simulation::new(network(), faults, bounds(100));
        let mut w = Ping::default();
        sim.run(&mut w);
        assert_eq!(w.restarts, 1);
        // Sends at 10, 20, then after restart at 65, 75, 85, 95 (arrival of 95's at 96).
        assert_eq!(w.received, 6);
    }

    #[test]
    fn budget_stops_the_run() {
        let mut sim = Simulation::new(
            network(),
            vec![],
            Bounds {
                end: SimTime::from_secs(10),
                event_budget: 5,
                memory_budget: u64::MAX,
            },
        );
        let stats = sim.run(&mut Ping::default());
        assert_eq!(stats.stopped, Some(Stopped::EventBudget));
        assert_eq!(stats.events, 5);
        assert_eq!(stats.last_event_at, SimTime::from_millis(30));
    }

    /// Ping, remembering every arrival: 8 bytes a message, so memory grows with time.
    #[derive(Default)]
    struct Hoard {
        ping: Ping,
        kept: u64,
    }

    impl World for Hoard {
        type Msg = u32;
        type Timer = ();
        type Note = ();
        fn start(&mut self, node: NodeIndex, ctx: &mut Ctx<'_, Self>) {
            if node == 0 {
                ctx.set_timer(SimDuration::from_millis(1), ());
            }
        }
        fn on_message(&mut self, _: NodeIndex, _: NodeIndex, _: u32, _: &mut Ctx<'_, Self>) {
            self.ping.received += 1;
            self.kept += 1;
        }
        fn on_timer(&mut self, _: NodeIndex, _: (), ctx: &mut Ctx<'_, Self>) {
            ctx.send(1, 7);
            ctx.set_timer(SimDuration::from_millis(1), ());
        }
        fn on_down(&mut self, _: NodeIndex, _: SimTime) {}
        fn on_up(&mut self, _: NodeIndex, _: &mut Ctx<'_, Self>) {}
        fn memory_bytes(&self) -> u64 {
            self.kept * 8
        }
    }

    #[test]
    fn memory_budget_stops_the_run_at_a_check() {
        // 2 events a millisecond (a timer, then its message), each message kept (8 bytes):
        // 262,144 bytes at the first check (65,536 events), 524,288 at the second.
        let run = |memory_budget| {
            let b = Bounds {
                end: SimTime::from_secs(3600),
                event_budget: 1_000_000,
                memory_budget,
            };
            Simulation::new(network(), vec![], b).run(&mut Hoard::default())
        };
        let stats = run(400_000);
        assert_eq!(stats.events, 2 * MEMORY_CHECK_EVERY);
        let Some(Stopped::MemoryBudget { bytes }) = stats.stopped else {
            panic!("not stopped by memory: {stats:?}");
        };
        // The world's 65,536 kept messages; the queue is empty, its one timer just popped.
        assert_eq!(bytes, MEMORY_CHECK_EVERY * 8);
        // The same run, stopped at the same event however often it is repeated.
        assert_eq!(run(400_000), stats);
        // With room to spare, the event budget stops it instead.
        let roomy = run(u64::MAX);
        assert_eq!(roomy.stopped, Some(Stopped::EventBudget));
        assert_eq!(roomy.events, 1_000_000);
    }

    #[test]
    fn same_inputs_same_trace_hash() {
        let h = |ms| {
            Simulation::new(network(), vec![], bounds(ms))
                .run(&mut Ping::default())
                .trace_hash
        };
        assert_eq!(h(100), h(100));
        assert_ne!(h(100), h(110));
    }
}

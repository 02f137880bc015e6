//! The bare event queue (`gameday::sim::queue::EventQueue`) under the classic *hold* model.
//!
//! The queue is filled with `size` events at pseudo-random times; then each operation pops the
//! earliest event and pushes it back at `now + delay`, with `delay` drawn from a fixed-seed
//! generator (uniform in [0, 2 ms), mean 1 ms). The queue therefore stays at exactly `size`
//! pending events, like a simulation in steady state. One hold (a pop and a push) is one
//! event; throughput is reported in events per second.
//!
//! Sizes: ~300 pending events is what RW1 keeps in its queue at the defaults (mostly heartbeat
//! timers and messages in flight); 10,000 is RW1 with ~1,000 nodes per zone.
//!
//! Run with `cargo bench --bench event_queue`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gameday::sim::queue::EventQueue;
use gameday::sim::time::SimTime;
use std::hint::black_box;
use std::time::Duration;

/// Holds per measured iteration.
const HOLDS: u64 = 100_000;
/// Upper bound (exclusive) of a hold's delay, in nanoseconds: 2 ms.
const MAX_DELAY_NS: u64 = 2_000_000;

/// A payload about the size of the kernel's message-delivery event (`from`, `to`, a small
/// message; 24 bytes): the queue moves it by value on every sift, so its size matters.
type Payload = (u32, u32, u64, u64);

/// SplitMix64: a tiny, fixed-seed generator, so every run draws the same delays and the
/// generator costs little next to the queue operations.
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A delay in [0, MAX_DELAY_NS) (Lemire's multiply-shift; the tiny bias is irrelevant).
    #[inline]
    fn delay(&mut self) -> u64 {
        ((self.next() as u128 * MAX_DELAY_NS as u128) >> 64) as u64
    }
}

fn filled_queue(size: usize, rng: &mut SplitMix64) -> EventQueue<Payload> {
    let mut q = EventQueue::new();
    for i in 0..size {
        let p: Payload = (i as u32, (i as u32).wrapping_mul(7), i as u64, !(i as u64));
        q.push(SimTime(rng.delay()), p);
    }
    assert_eq!(q.len(), size);
    q
}

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue_hold");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(HOLDS));
    for size in [300usize, 10_000] {
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let mut rng = SplitMix64(0x5EED_0000_0000_0001 ^ size as u64);
            let mut q = filled_queue(size, &mut rng);
            // The queue persists across iterations: the hold model is stationary, so every
            // iteration measures the same steady state.
            b.iter(|| {
                for _ in 0..HOLDS {
                    let (now, mut ev) = q.pop().expect("the hold model never empties the queue");
                    ev.2 = ev.2.wrapping_add(1);
                    q.push(SimTime(now.0 + rng.delay()), ev);
                }
                black_box(q.peek_time())
            });
            assert_eq!(q.len(), size);
        });
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);

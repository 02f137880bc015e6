//! The one event queue: a total order by `(time, insertion sequence)`.
//!
//! This order is the determinism contract of the whole simulator: two events at the same
//! simulated time run in the order they were scheduled, on every machine. The key packs
//! `(time, seq)` into one `u128` (time in the high 64 bits) so ordering is a single integer
//! comparison on the hot path; the payload is a `Copy` value, so pushing allocates nothing
//! beyond the heap's amortised growth.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// `BinaryHeap` is a max-heap: reversed so the earliest `(time, seq)` pops first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// A min-queue of events ordered by `(time, insertion sequence)`; FIFO for equal times.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
        }
    }

    /// Schedules `event` at `at`; returns its sequence number.
    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) -> u64 {
        self.seq += 1;
        self.heap.push(Entry {
            key: ((at.0 as u128) << 64) | self.seq as u128,
            event,
        });
        self.seq
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap
            .pop()
            .map(|entry| (SimTime((entry.key >> 64) as u64), entry.event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime((e.key >> 64) as u64))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Bytes one queued event takes: its key and payload, padded as the heap stores them.
    pub const fn entry_bytes() -> u64 {
        std::mem::size_of::<Entry<E>>() as u64
    }

    /// Bytes the queued events take (by count, not by the heap's spare capacity).
    pub fn bytes(&self) -> u64 {
        self.heap.len() as u64 * Self::entry_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_fifo_for_ties() {
        let mut q = EventQueue::new();
        q.push(SimTime(20), 'c');
        q.push(SimTime(10), 'a');
        q.push(SimTime(20), 'd');
        q.push(SimTime(10), 'b');
        q.push(SimTime(0), 'z');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['z', 'a', 'b', 'c', 'd']);
    }

    #[test]
    fn handles_extreme_times() {
        let mut q = EventQueue::new();
        q.push(SimTime::MAX, 2);
        q.push(SimTime::ZERO, 1);
        assert_eq!(q.peek_time(), Some(SimTime::ZERO));
        assert_eq!(q.pop(), Some((SimTime::ZERO, 1)));
        assert_eq!(q.pop(), Some((SimTime::MAX, 2)));
        assert!(q.pop().is_none());
    }
}

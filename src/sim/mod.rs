//! The simulation kernel: it owns time, the event queue, randomness and the network, and
//! drives processes it knows only through the [`kernel::World`] trait.
//!
//! | module | job |
//! |---|---|
//! | [`time`] | `SimTime`/`SimDuration`: integer nanoseconds, parsing of human durations |
//! | [`queue`] | the `(time, seq)`-ordered event queue |
//! | [`rng`] | per-component `ChaCha8Rng` streams derived from the run seed |
//! | [`network`] | placement, latency, jitter, FIFO links, down places, partitions |
//! | [`kernel`] | the event loop, faults, bounds, the trace hash |

pub mod kernel;
pub mod network;
pub mod queue;
pub mod rng;
pub mod time;

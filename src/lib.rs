//! # gameday
//!
//! A deterministic discrete-event simulator for chaos-engineering GameDays: it injects faults
//! into a multi-region, multi-cloud topology, runs real failover and replication logic under
//! simulated time, and measures RTO and RPO from what simulated clients saw.
//!
//! | layer | folder | job |
//! |---|---|---|
//! | kernel | [`sim`] | simulated time, the `(time, seq)` event queue, seeded RNG streams, the network |
//! | model | [`model`] | topology and scenario files (RON): parsing, validation, resolution |
//! | logic | [`logic`] | replication, quorum commit, leases, failover, health checks, routing |
//! | measure | [`measure`] | clients and their histories; RTO, RPO and safety checkers |
//! | run | [`run`] | assembling a run, executing it, judging it; Monte Carlo batches |
//! | report | [`report`] | the JSON contract and its views |
//! | cli | [`cli`] | `gameday run`, `check`, `validate` |
//!
//! Determinism contract: the same inputs and seed give the same event trace (and trace hash)
//! on any machine and any thread count. Same-time events run in the order they were scheduled.

#![forbid(unsafe_code)]

pub mod cli;
pub mod logic;
pub mod measure;
pub mod model;
pub mod report;
pub mod run;
pub mod sim;

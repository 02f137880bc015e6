//! # gameday
//!
//! A deterministic discrete-event simulator for chaos-engineering GameDays: it injects faults
//! into a multi-region, multi-cloud topology, runs real failover and replication logic under
//! simulated time, and measures RTO and RPO from what simulated clients saw.
//!
//! | layer | folder | job |
//! |---|---|---|
//! | kernel | [`sim`] | simulated time, the `(time, seq)` event queue, seeded RNG streams, the network |
//! | model | [`model`] | topology and scenario files (RON): parsing, validation, resolution, one module per component kind |
//! | logic | [`logic`] | the machines' protocols: replication, quorum commit, leases, failover, health checks, routing, CDN, RPC, backups |
//! | ops | [`ops`] | the people and processes: runbooks (the DBA's restore); next alerting, paging, responders, status page, maintenance |
//! | measure | [`measure`] | clients and their histories; RTO, RPO and safety checkers |
//! | run | [`run`] | assembling a run (one module per component kind), executing it, judging it; Monte Carlo batches |
//! | report | [`report`] | the JSON contract and its views: text, Markdown, HTML, JUnit, charts |
//! | cli | [`cli`] | `gameday run`, `check`, `validate`, `compare`, `sweep` |
//!
//! Determinism contract: the same inputs and seed give the same event trace (and trace hash)
//! on any machine and any thread count. Same-time events run in the order they were scheduled.
//!
//! Layers depend downwards only: `cli` → `report` → `run` → `measure`, `ops` → `logic` →
//! `sim`; `model` reads files into the types of the layers it configures. `docs/ARCHITECTURE.md`
//! is the map, with a walkthrough for adding a component kind.

#![forbid(unsafe_code)]

pub mod cli;
pub mod logic;
pub mod measure;
pub mod model;
pub mod ops;
pub mod report;
pub mod run;
pub mod sim;

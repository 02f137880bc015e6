//! Scenario-level integration tests, one binary (fast to build, one place to look).
//!
//! They read like runbooks: lose a zone, expect a promotion, expect no acknowledged write
//! lost — and, for every checker, a deliberately broken setup that must make it fail.

mod backup;
mod bad_input;
mod bounds;
mod cdn;
mod cli;
mod compare;
mod determinism;
mod gates;
mod incident;
mod monitoring;
mod outages;
mod output;
mod properties;
mod redis;
mod report;
mod rpc;
mod rw1;
mod safety;
mod status_page;
mod support;
mod trace_guard;
mod trust;

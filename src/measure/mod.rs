//! Measurement: simulated clients and what is computed from their histories afterwards.
//!
//! Nothing here predicts; everything is read off the recorded history of a run, the way
//! Jepsen checks a history: which operations were acknowledged, which failed, which
//! acknowledged writes are missing from the final data.
//!
//! | module | job |
//! |---|---|
//! | [`client`] | client populations that issue operations and record them |
//! | [`history`] | the per-operation record |
//! | [`outcome`] | write counts, first success after the fault |
//! | [`steady_state`] | the SLI over a window, and outages in buckets |
//! | [`latency`] | response times and their percentiles |
//! | [`durability`] | final data, lost and at-risk writes by cause, loss windows and RPO |
//! | [`safety`] | one primary per epoch; no deposed primary acknowledging writes; durability under sync replication |

pub mod client;
pub mod durability;
pub mod history;
pub mod lag;
pub mod latency;
pub mod outcome;
pub mod safety;
pub mod steady_state;

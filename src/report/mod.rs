//! Results: the JSON contract ([`ScenarioReport`], documented in `docs/RESULTS.md`) and the
//! views of it (a text table for terminals).

pub mod junit;
pub mod summary;
pub mod text;

pub use summary::{Percentiles, ScenarioReport, SuiteReport};

//! Results: the JSON contract ([`ScenarioReport`], documented in `docs/RESULTS.md`) and the
//! views of it (a text table for terminals).

pub mod against;
pub mod charts;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod summary;
pub mod text;

pub use summary::{Percentiles, ScenarioReport, SuiteReport};

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

/// Writes `bytes` to `path` and flushes them to the disk, so that an error the disk reports
/// only when the data is flushed (a full disk) still fails the write.
pub fn write_synced(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

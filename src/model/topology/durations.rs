//! The checks every component kind applies to the durations it is given: a period that
//! costs events at each firing has a floor, and a wait must be positive.
//!
//! What each duration means belongs to its kind's module; only the two shared rules live
//! here.

use crate::model::error::{InputError, Source};
use crate::model::{Dur, limits};
use crate::sim::time::SimDuration;

/// The period of a periodic timer (a heartbeat, a health check, a ping, a backup schedule):
/// at least [`limits::INTERVAL_MIN_NS`], since every firing costs events whether or not
/// anything changed. `fields` are the names the setting may be written under.
pub(super) fn interval(
    src: &Source,
    fields: &[&str],
    d: Dur,
    what: &str,
) -> Result<SimDuration, InputError> {
    let min = SimDuration(limits::INTERVAL_MIN_NS);
    if d.0 < min {
        return Err(src.invalid_duration(
            fields,
            d.0,
            format!(
                "`{}` ({what}) must be at least {}: each firing is at least one event, so a shorter period makes the run's work unbounded (docs/SCENARIOS.md, Limits)",
                fields[0],
                min.human()
            ),
        ));
    }
    Ok(d.0)
}

/// A wait or a lifetime written as `field`: zero would make it meaningless.
pub(super) fn positive(
    src: &Source,
    field: &str,
    d: Dur,
    what: &str,
) -> Result<SimDuration, InputError> {
    if d.0.is_zero() {
        return Err(src.invalid(
            field,
            &d.0.to_string(),
            format!("{what} must be greater than zero"),
        ));
    }
    Ok(d.0)
}

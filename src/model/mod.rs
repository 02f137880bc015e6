//! Input files: topologies and scenarios in RON, parsed, validated and resolved to indices.
//!
//! Input is hostile until validated: every check here produces an [`InputError`] naming the
//! file, line, column and offending name; nothing downstream needs to re-check it.
//!
//! | module     | what it owns                                                  |
//! |------------|---------------------------------------------------------------|
//! | `topology` | topology files: one module per component kind (see its table) |
//! | `scenario` | scenario files: one module per section (workload, faults, …)  |
//! | `cost`     | a run's cost, estimated before it starts, against its budgets |
//! | `patch`    | setting one field of a RON file by path (`sweep --set`)       |
//! | `limits`   | the documented maxima every input stays within                |
//! | `error`    | [`InputError`] and the [`Source`] text errors point into      |
//!
//! Here too: the RON adapters for human-written durations ([`Dur`]) and sizes ([`Size`]).

pub mod error;
pub mod limits;
pub mod patch;
pub mod scenario;
pub mod topology;

/// The estimate of a run's cost is the scenario's last validation; the path `model::cost` stays.
pub use scenario::cost;

pub use error::{InputError, Source};

pub use crate::sim::time::duration_serde;

/// A time of day written `"HH:MM"` (24-hour clock), as a duration since midnight; an error
/// at `field` otherwise.
pub fn time_of_day(
    src: &Source,
    field: &str,
    text: &str,
) -> Result<crate::sim::time::SimDuration, InputError> {
    let parsed = text.split_once(':').and_then(|(h, m)| {
        let ok = h.len() == 2 && m.len() == 2;
        let (h, m) = (h.parse::<u64>().ok()?, m.parse::<u64>().ok()?);
        (ok && h < 24 && m < 60).then_some(h * 3600 + m * 60)
    });
    parsed
        .map(crate::sim::time::SimDuration::from_secs)
        .ok_or_else(|| {
            src.invalid(
                field,
                text,
                "a time of day is written \"HH:MM\", from \"00:00\" to \"23:59\"",
            )
        })
}

/// Serde adapter for optional durations.
pub mod opt_duration_serde {
    use crate::sim::time::{SimDuration, parse_duration};
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SimDuration>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| parse_duration(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A human-written duration inside RON (`"30s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub crate::sim::time::SimDuration);

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        duration_serde::deserialize(d).map(Dur)
    }
}

impl serde::Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        duration_serde::serialize(&self.0, s)
    }
}

/// A human-written size inside RON (`"60GiB"`, `"4KiB"`), in bytes; a rate is a size per
/// second (`"250MiB/s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Size(pub u64);

/// Parses `"<number><unit>"` with units B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB,
/// TiB (powers of 1024); a trailing `/s` is allowed (a rate). Fractions are allowed
/// (`"1.5GiB"`) and rounded to whole bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t).trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (write it like \"60GiB\" or \"250MiB/s\")"))?;
    let mult: f64 = match unit.trim() {
        "B" | "" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}` (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"
            ));
        }
    };
    let bytes = value * mult;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("`{text}` is too large"));
    }
    Ok(bytes.round() as u64)
}

impl<'de> serde::Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_size(&s).map(Size).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_and_rates_parse_in_both_unit_systems() {
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("60GiB"), Ok(60 << 30));
        assert_eq!(parse_size("250MiB/s"), Ok(250 << 20));
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(
            parse_size("12 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("lots").is_err());
    }
}

//! Simulated time: integer nanoseconds, never the wall clock and never `f64`.
//!
//! Integer time makes every tie exact, so "same-time events run in scheduling order" is a
//! statement about equal integers rather than about rounding. Arithmetic saturates at
//! [`SimTime::MAX`] instead of wrapping: a timer scheduled "after the end of time" simply never
//! fires, which is the behaviour a bounded run wants.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

pub const NANOS_PER_MICRO: u64 = 1_000;
pub const NANOS_PER_MILLI: u64 = 1_000_000;
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_secs(s: u64) -> Self {
        SimTime(s.saturating_mul(NANOS_PER_SEC))
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms.saturating_mul(NANOS_PER_MILLI))
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds as a float, for reports only: never feed this back into the simulation.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// The time elapsed since `earlier`, or zero when `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// To the nearest millisecond, for text meant for people (figures keep nanoseconds).
    pub const fn round_to_millis(self) -> Self {
        SimDuration(self.0.saturating_add(NANOS_PER_MILLI / 2) / NANOS_PER_MILLI * NANOS_PER_MILLI)
    }
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us.saturating_mul(NANOS_PER_MICRO))
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(NANOS_PER_MILLI))
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(NANOS_PER_SEC))
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub const fn saturating_mul(self, k: u64) -> Self {
        SimDuration(self.0.saturating_mul(k))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// Panics in debug builds when `rhs` is later: elapsed time is never negative.
    fn sub(self, rhs: SimTime) -> SimDuration {
        debug_assert!(self >= rhs, "negative elapsed time: {self} - {rhs}");
        SimDuration(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_secs(self.0))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_secs(self.0))
    }
}

/// `603.17s`-style rendering that is exact (integer arithmetic, trailing zeros trimmed).
fn format_secs(ns: u64) -> String {
    let whole = ns / NANOS_PER_SEC;
    let frac = ns % NANOS_PER_SEC;
    if frac == 0 {
        return format!("{whole}s");
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}s", digits.trim_end_matches('0'))
}

impl SimDuration {
    /// The duration in the largest unit that writes it exactly, as a file would (`30m`,
    /// `1ms`, `10µs`, `1500ms`): for messages about a setting, where `0.00001s` reads badly.
    pub fn human(self) -> String {
        const UNITS: [(u64, &str); 6] = [
            (86_400 * NANOS_PER_SEC, "d"),
            (3600 * NANOS_PER_SEC, "h"),
            (60 * NANOS_PER_SEC, "m"),
            (NANOS_PER_SEC, "s"),
            (NANOS_PER_MILLI, "ms"),
            (NANOS_PER_MICRO, "µs"),
        ];
        if self.0 == 0 {
            return "0s".into();
        }
        match UNITS
            .iter()
            .find(|(scale, _)| self.0.is_multiple_of(*scale))
        {
            Some((scale, unit)) => format!("{}{unit}", self.0 / scale),
            None => format!("{}ns", self.0),
        }
    }
}

/// Parses a human duration such as `"30s"`, `"250ms"`, `"1.5s"`, `"2m"`, `"1h"`, `"500us"`
/// or `"0"` into nanoseconds, exactly (no floating point).
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(SimDuration::ZERO);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` has no unit (use ns, us, ms, s, m, h or d)"))?;
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SEC,
        "m" | "min" => 60 * NANOS_PER_SEC,
        "h" => 3600 * NANOS_PER_SEC,
        "d" => 86_400 * NANOS_PER_SEC,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}` (use ns, us, ms, s, m, h or d)"
            ));
        }
    };
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(format!("`{text}` has no number"));
    }
    let int: u64 = if int_part.is_empty() {
        0
    } else {
        int_part
            .parse()
            .map_err(|_| format!("`{text}` is not a number"))?
    };
    let mut nanos = int
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    let mut place = scale;
    for c in frac_part.chars() {
        let digit = c
            .to_digit(10)
            .ok_or_else(|| format!("`{text}` is not a number"))? as u64;
        place /= 10;
        if place == 0 {
            if digit != 0 {
                return Err(format!("`{text}` is finer than one nanosecond"));
            }
            continue;
        }
        nanos = nanos
            .checked_add(digit * place)
            .ok_or_else(|| format!("`{text}` is too large"))?;
    }
    Ok(SimDuration(nanos))
}

/// Serde adapter: durations as human strings (`"30s"`, `"250ms"`), exact in nanoseconds. It lives
/// beside [`parse_duration`] so that the logic (a periodic timer's `Phase`) can read durations
/// without reaching into the model; `model::duration_serde` re-exports it.
pub mod duration_serde {
    use super::{SimDuration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SimDuration, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(d: &SimDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_exactly() {
        assert_eq!(parse_duration("30s").unwrap(), SimDuration::from_secs(30));
        assert_eq!(
            parse_duration("250ms").unwrap(),
            SimDuration::from_millis(250)
        );
        assert_eq!(
            parse_duration("1.5s").unwrap(),
            SimDuration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("0.3ms").unwrap(),
            SimDuration::from_micros(300)
        );
        assert_eq!(parse_duration("2m").unwrap(), SimDuration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), SimDuration::from_secs(3600));
        assert_eq!(parse_duration("0").unwrap(), SimDuration::ZERO);
        assert_eq!(
            parse_duration("600.0005s").unwrap(),
            SimDuration(600_000_500_000)
        );
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("3x").is_err());
        assert!(parse_duration("-3s").is_err());
        assert!(parse_duration("1.0000000001s").is_err());
        assert!(parse_duration("99999999999999h").is_err());
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(SimTime(5).saturating_since(SimTime(9)), SimDuration::ZERO);
    }

    #[test]
    fn displays_exact_seconds() {
        assert_eq!(SimTime::from_millis(603_170).to_string(), "603.17s");
        assert_eq!(SimTime::from_secs(600).to_string(), "600s");
    }

    #[test]
    fn human_picks_the_largest_exact_unit() {
        assert_eq!(SimDuration::from_secs(1800).human(), "30m");
        assert_eq!(SimDuration::from_secs(30 * 86_400).human(), "30d");
        assert_eq!(SimDuration::from_millis(1500).human(), "1500ms");
        assert_eq!(SimDuration::from_micros(10).human(), "10µs");
        assert_eq!(SimDuration(1).human(), "1ns");
        assert_eq!(SimDuration::ZERO.human(), "0s");
    }
}

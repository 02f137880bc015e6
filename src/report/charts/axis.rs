//! Axes with ticks chosen here: linear or symmetric-log, with an optional "not recovered" band
//! past the end, and the round steps and duration ticks they use. It draws nothing itself.

use crate::report::markdown::duration;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use std::ops::Range;

/// A value drawn in the "not recovered" band (its middle).
pub(super) const NR: f64 = f64::INFINITY;
/// The far end of the axis (the end of the "not recovered" band when there is one).
pub(super) const END: f64 = f64::MAX;

/// An axis with ticks chosen here: linear or symmetric-log (`log10(1 + v/unit)`, so that 0
/// stays on the axis while seconds and hours both stay readable), with an optional band past
/// the end for "not recovered".
#[derive(Clone, Debug)]
pub(super) struct Axis {
    log_unit: Option<f64>,
    /// The axis in transformed units; `nr` extends it.
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) nr: Option<f64>,
    ticks: Vec<(f64, String)>,
}

impl Axis {
    /// A linear axis from `lo` to `hi` with the given ticks.
    pub(super) fn linear(lo: f64, hi: f64, ticks: Vec<(f64, String)>) -> Axis {
        Axis {
            log_unit: None,
            lo,
            hi,
            nr: None,
            ticks,
        }
    }

    /// A symmetric-log axis of durations from 0 to `top`, ticked at round durations from `unit`
    /// up.
    pub(super) fn log_durations(unit: f64, top: f64) -> Axis {
        Axis {
            log_unit: Some(unit),
            lo: 0.0,
            hi: (1.0 + top / unit).log10(),
            nr: None,
            ticks: log_ticks(unit, top),
        }
    }

    /// With a band for "not recovered" past the end, `frac` of the axis long.
    pub(super) fn with_nr(mut self, frac: f64) -> Axis {
        let band = (self.hi - self.lo) * frac;
        self.nr = Some(band);
        // A tick just below the band would run into the band's label.
        let crowd = self.hi - (self.top() - self.lo) * 0.07;
        let t = |v: f64| match self.log_unit {
            None => v,
            Some(u) => (1.0 + v.max(0.0) / u).log10(),
        };
        if self.log_unit.is_none() {
            self.ticks.retain(|(v, _)| t(*v) <= crowd);
        }
        self.ticks.push((NR, "not recovered".into()));
        self
    }

    /// `v` in the axis' transformed units (`NR` and `END` land in and at the end of the band).
    fn t(&self, v: f64) -> f64 {
        if v == END {
            return self.hi + self.nr.unwrap_or(0.0);
        }
        if v == NR {
            return self.hi + self.nr.map_or(0.0, |b| b / 2.0);
        }
        match self.log_unit {
            None => v,
            Some(u) => (1.0 + v.max(0.0) / u).log10(),
        }
    }

    /// The far end of the axis in transformed units, the band included.
    fn top(&self) -> f64 {
        self.hi + self.nr.unwrap_or(0.0)
    }

    /// The tick label at `v` (empty between ticks).
    pub(super) fn label(&self, v: f64) -> String {
        self.ticks
            .iter()
            .find(|(t, _)| *t == v)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }

    /// The data value at the start of the "not recovered" band.
    pub(super) fn nr_start(&self) -> f64 {
        match self.log_unit {
            None => self.hi,
            Some(u) => (10f64.powf(self.hi) - 1.0) * u,
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (self.t(*v) - self.lo) / (self.top() - self.lo);
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let max = hint.max_num_points().max(1);
        let step = self.ticks.len().div_ceil(max).max(1);
        self.ticks.iter().step_by(step).map(|(v, _)| *v).collect()
    }

    fn range(&self) -> Range<f64> {
        let inv = |t: f64| match self.log_unit {
            None => t,
            Some(u) => (10f64.powf(t) - 1.0) * u,
        };
        inv(self.lo)..inv(self.hi)
    }
}

/// Round durations, in seconds, that a log axis of durations ticks at: 1 ms up to 30 days.
const ROUND_DURATIONS: [f64; 12] = [
    0.001,
    0.01,
    0.1,
    1.0,
    10.0,
    60.0,
    600.0,
    3600.0,
    6.0 * 3600.0,
    86400.0,
    7.0 * 86400.0,
    30.0 * 86400.0,
];

/// Round durations for a symmetric-log axis, from `unit` up.
pub(in crate::report) fn log_ticks(unit: f64, top: f64) -> Vec<(f64, String)> {
    let mut t = vec![(0.0, "0".to_string())];
    t.extend(
        ROUND_DURATIONS
            .iter()
            .filter(|&&v| v >= unit * 0.999 && v <= top * 1.0001)
            .map(|&v| (v, duration(v))),
    );
    t
}

/// The smallest round duration at or above `v`, for the top of a log axis (10 ms at least).
pub(in crate::report) fn log_top(unit: f64, v: f64) -> f64 {
    ROUND_DURATIONS[1..]
        .iter()
        .copied()
        .find(|&n| n >= unit * 10.0 && n >= v)
        .unwrap_or(v)
}

/// A round step for about `n` ticks over `span` (1, 2, 5 × 10^k).
pub(super) fn nice_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// A round duration step for about `n` ticks over `span` seconds.
pub(super) fn time_step(span: f64, n: f64) -> f64 {
    const STEPS: [f64; 22] = [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0,
        60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ];
    let raw = span / n;
    STEPS
        .iter()
        .copied()
        .find(|&s| s >= raw)
        .unwrap_or_else(|| (raw / 3600.0).ceil() * 3600.0)
}

/// Ticks at multiples of `step` in `[lo, hi]`.
pub(super) fn linear_ticks(
    lo: f64,
    hi: f64,
    step: f64,
    fmt: impl Fn(f64) -> String,
) -> Vec<(f64, String)> {
    let mut out = Vec::new();
    let mut k = (lo / step).ceil() as i64;
    loop {
        let v = k as f64 * step;
        if v > hi + step * 1e-6 {
            break;
        }
        // Snap -0.0 and rounding noise.
        let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
        out.push((v, fmt(v)));
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlog_axis_keeps_zero_and_orders_values() {
        let a = Axis::log_durations(1.0, 3600.0).with_nr(0.1);
        let px = |v: f64| a.map(&v, (0, 1000));
        assert_eq!(px(0.0), 0);
        assert!(px(1.0) < px(10.0) && px(10.0) < px(60.0) && px(60.0) < px(3600.0));
        assert!(px(3600.0) < px(NR) && px(NR) < px(END));
        assert_eq!(px(END), 1000);
        let labels: Vec<String> = a.ticks.iter().map(|t| t.1.clone()).collect();
        assert_eq!(
            labels,
            ["0", "1s", "10s", "1m", "10m", "1h", "not recovered"]
        );
        assert!((a.nr_start() - 3600.0).abs() < 1e-6);
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(37.0, 5.0), 10.0);
        assert_eq!(nice_step(0.9, 5.0), 0.2);
        assert_eq!(time_step(154.0, 8.0), 30.0);
        assert_eq!(time_step(2853.0, 8.0), 600.0);
        let t = linear_ticks(-60.0, 95.0, 30.0, |v| format!("{v}"));
        assert_eq!(
            t.iter().map(|x| x.0).collect::<Vec<_>>(),
            [-60.0, -30.0, 0.0, 30.0, 60.0, 90.0]
        );
    }
}

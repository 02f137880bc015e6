//! What the two time charts (timeline, lag) share: the stretch of the first run they show
//! ([`Window`], [`incident_window`]) with its time axis, the plot's geometry ([`time_axes`]),
//! and the event markers over it ([`Marker`], [`window_markers`]) with their labels placed in
//! rows, their lines and their legend. It does not draw either chart's series.

use super::DrawResult;
use super::axis::{Axis, linear_ticks, time_step};
use super::frame::{Axes, Margins, Plane, Swatch, dashed};
use super::style::{ALERT, DETECT, FAIL, FAILOVER, FAMILY, MAINT, NOTE, register_font};
use crate::report::markdown::{incident_start, since};
use crate::report::summary::ScenarioReport;
use plotters::prelude::*;

/// A vertical marker on the timeline.
#[derive(Clone, Debug)]
pub(super) struct Marker {
    pub(super) at: f64,
    /// What it marks ("fault", "promoted"…) and its label ("fault (T)", "promoted T+29.8s").
    what: &'static str,
    pub(super) label: String,
    pub(super) color: RGBColor,
    dashed: bool,
    /// The label's row above the plot (0 nearest it; `None`: no room) and side of the line.
    pub(super) row: Option<usize>,
    pub(super) left: bool,
}

impl Marker {
    /// Draws the marker's line from `(at, lo)` to `(at, hi)`: dashed in its colour when it is
    /// a dashed marker, else solid in `solid`.
    pub(super) fn draw_line<DB: DrawingBackend>(
        &self,
        plane: &Plane<DB>,
        (lo, hi): (f64, f64),
        solid: ShapeStyle,
    ) -> DrawResult<DB> {
        let line = vec![(self.at, lo), (self.at, hi)];
        if self.dashed {
            dashed(plane, line, (6, 4), self.color.stroke_width(2))
        } else {
            plane.draw(&PathElement::new(line, solid))
        }
    }
}

/// The markers' legend: one entry per kind of event shown, in order of first appearance.
pub(super) fn marker_legend(markers: &[Marker]) -> Vec<(Swatch, String)> {
    let mut kinds: Vec<(Swatch, String)> = Vec::new();
    for m in markers {
        if !kinds.iter().any(|(_, t)| t == m.what) {
            let swatch = if m.dashed {
                Swatch::Dashed(m.color)
            } else {
                Swatch::Line(m.color)
            };
            kinds.push((swatch, m.what.to_string()));
        }
    }
    kinds
}

// The time charts' geometry: the width, the room for the y labels, the plot's left and right
// edges (marker labels are placed against them before drawing), and the rows of labels.
/// The time charts' width.
pub(super) const TL_WIDTH: u32 = 960;
/// The room left of a time plot for the y axis' labels.
const TL_Y_LABELS: i32 = 120;
/// The plot's left edge, in pixels.
const TL_PLOT_LEFT: i32 = 12 + TL_Y_LABELS;
/// The plot's right edge, in pixels.
const TL_PLOT_RIGHT: i32 = TL_WIDTH as i32 - 28;
/// The most rows of marker labels above the plot.
const TL_MAX_ROWS: usize = 5;
/// A row of marker labels' height.
pub(super) const TL_ROW_H: i32 = 18;

/// The axes of a time chart: the window along x, `y` up, the plot between [`TL_PLOT_LEFT`]
/// and [`TL_PLOT_RIGHT`] (where the marker labels are placed), `under` pixels for the x
/// labels and `bottom` pixels of margin under them.
pub(super) fn time_axes(w: &Window, y: Axis, under: i32, bottom: i32) -> Axes {
    Axes::new(w.axis(), y)
        .margins(Margins {
            top: 0,
            right: TL_WIDTH as i32 - TL_PLOT_RIGHT,
            bottom,
            left: TL_PLOT_LEFT - TL_Y_LABELS,
        })
        .label_areas(under, TL_Y_LABELS)
}

/// Places marker labels in rows above the plot so that none overlap: each goes in the lowest
/// row with room, left-aligned at its line, or right-aligned when it would run off the edge.
/// Returns the number of rows used.
fn place_labels(markers: &mut [Marker], from: f64, to: f64) -> usize {
    register_font();
    let font_desc = (FAMILY, NOTE).into_font();
    let mut rows: Vec<Vec<(i32, i32)>> = vec![Vec::new(); TL_MAX_ROWS];
    let mut used = 0;
    for m in markers.iter_mut() {
        let px = TL_PLOT_LEFT
            + ((m.at - from) / (to - from) * (TL_PLOT_RIGHT - TL_PLOT_LEFT) as f64).round() as i32;
        let w = font_desc
            .box_size(&m.label)
            .map(|(w, _)| w as i32)
            .unwrap_or(8 * m.label.len() as i32);
        m.left = px + 4 + w <= TL_WIDTH as i32 - 8;
        let (x0, x1) = if m.left {
            (px, px + 4 + w)
        } else {
            (px - 4 - w, px)
        };
        m.row = (0..TL_MAX_ROWS).find(|&r| rows[r].iter().all(|&(a, b)| x1 + 8 < a || x0 > b + 8));
        if let Some(r) = m.row {
            rows[r].push((x0, x1));
            used = used.max(r + 1);
        }
    }
    used.max(1)
}

/// How a timeline kind is marked, if at all (recoveries are drawn per service).
fn marker_style(kind: &str, detail: &str) -> Option<(&'static str, RGBColor, bool)> {
    Some(match kind {
        "fault" => ("fault", FAIL, false),
        "fault_end" => ("fault ends", FAIL, true),
        "corruption" => ("corruption", FAIL, true),
        "detected" | "odown" => ("detected", DETECT, false),
        "alert" => ("alert", ALERT, false),
        "page" | "paged" => ("page", ALERT, true),
        "acknowledged" => ("acknowledged", ALERT, true),
        "promoted" => ("promoted", FAILOVER, false),
        "switch_master" => ("failover", FAILOVER, false),
        "restored" => ("restored", FAILOVER, false),
        "maintenance" if detail.contains("entered") => ("maintenance on", MAINT, false),
        "maintenance" => ("maintenance off", MAINT, true),
        _ => return None,
    })
}

/// The stretch of the first run that the time charts show: the incident and the response,
/// with some calm either side, cut into buckets aligned on the incident start.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub(super) from: f64,
    pub(super) to: f64,
    /// The incident start (first fault).
    pub(super) t0: f64,
    pub(super) bucket: f64,
    pub(super) buckets: usize,
}

impl Window {
    /// The time axis over the window, ticked in times from the incident start.
    fn axis(&self) -> Axis {
        Axis::linear(self.from, self.to, window_ticks(self))
    }
}

/// How long the first run lasted, from what it recorded per second.
fn run_end(s: &ScenarioReport) -> f64 {
    let series = s
        .services
        .iter()
        .filter_map(|sv| sv.series.as_ref())
        .map(|x| x.ok.len().max(x.failed.len()) as f64 * x.resolution_s);
    let lag = s.replication_lag.iter().flat_map(|d| {
        d.members
            .iter()
            .map(move |(_, l)| l.len() as f64 * d.resolution_s)
    });
    series.chain(lag).fold(0.0, f64::max)
}

/// The window of the first run the time charts show, its buckets whole multiples of
/// `resolution` (`None`: the run recorded nothing).
pub(super) fn incident_window(s: &ScenarioReport, resolution: f64) -> Option<Window> {
    let end = run_end(s);
    if end <= 0.0 || !resolution.is_finite() || resolution <= 0.0 {
        return None;
    }
    let t0 = incident_start(s);
    let mut last = t0;
    for e in &s.timeline {
        let at = e.at_s.as_secs_f64();
        if at >= t0 && (e.kind == "recovered" || marker_style(e.kind, &e.detail).is_some()) {
            last = last.max(at);
        }
    }
    // A service that never came back: the rest of the run is the story.
    if s.services
        .iter()
        .any(|sv| matches!(sv.samples.rto_s.first(), Some(None)))
    {
        last = end;
    }
    let span = (last - t0).max(120.0);
    let pad = (span * 0.3).clamp(60.0, 900.0);
    let from = (t0 - pad).max(0.0);
    let to = (last + pad).min(end);
    let bucket = {
        let want = ((to - from) / 150.0).max(5.0);
        const NICE: [f64; 12] = [
            1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0,
        ];
        let b = NICE
            .iter()
            .copied()
            .find(|&b| b >= want)
            .unwrap_or(want.ceil());
        // Whole multiples of the recorded resolution.
        (b / resolution).round().max(1.0) * resolution
    };
    // Buckets aligned on the incident start.
    let from = t0 - ((t0 - from) / bucket).ceil() * bucket;
    let from = if from < 0.0 {
        from + bucket * ((-from) / bucket).ceil()
    } else {
        from
    };
    let buckets = ((to - from) / bucket).ceil().max(1.0) as usize;
    Some(Window {
        from,
        to: from + buckets as f64 * bucket,
        t0,
        bucket,
        buckets,
    })
}

/// The timeline's markers inside the window, one for a burst of the same move (a failover
/// promoting, then announcing, within a few seconds), with their labels placed.
pub(super) fn window_markers(s: &ScenarioReport, w: &Window) -> (Vec<Marker>, usize) {
    let mut markers: Vec<Marker> = Vec::new();
    for e in &s.timeline {
        let at = e.at_s.as_secs_f64();
        if at < w.from || at > w.to {
            continue;
        }
        let Some((what, color, dashed)) = marker_style(e.kind, &e.detail) else {
            continue;
        };
        if markers
            .iter()
            .any(|m| m.what == what && (at - m.at).abs() < (w.to - w.from) * 0.01)
        {
            continue;
        }
        markers.push(Marker {
            at,
            what,
            label: match since(at - w.t0).as_str() {
                "T" => format!("{what} (T)"),
                rel => format!("{what} {rel}"),
            },
            color,
            dashed,
            row: None,
            left: true,
        });
    }
    markers.sort_by(|a, b| a.at.total_cmp(&b.at));
    let rows = place_labels(&mut markers, w.from, w.to);
    (markers, rows)
}

/// Ticks along a window: times from the incident start, at a round step.
fn window_ticks(w: &Window) -> Vec<(f64, String)> {
    let step = time_step(w.to - w.from, 10.0);
    let lo = w.t0 + ((w.from - w.t0) / step).ceil() * step;
    linear_ticks(lo - w.t0, w.to - w.t0, step, since)
        .into_iter()
        .map(|(v, l)| (v + w.t0, l))
        .collect()
}

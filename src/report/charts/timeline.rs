//! The `SCENARIO-timeline` chart ([`timeline_chart`]): the first run, each service's success
//! ratio over time in a band of its own (what succeeded in the service's colour, what failed in
//! red, grey where nothing was sent), its outages as a dark strip under the band, its recovery
//! marked, and the fault, detection and failover as markers across every band with their labels
//! in rows above. The window, the markers and the time axes are `window`'s, the frame `frame`'s;
//! this module owns the bands.

use super::axis::Axis;
use super::frame::{Axes, Grid, Plane, Swatch, boxed, legend_strip, titled};
use super::style::{FAIL, GRID, MUTED, NOTE, OK, OUTAGE, PALETTE, anchored, font, service_color};
use super::window::{
    Marker, TL_ROW_H, TL_WIDTH, Window, incident_window, time_axes, window_markers,
};
use super::{About, Chart, DrawResult, Plot, slug};
use crate::report::markdown::{duration, since};
use crate::report::summary::{ScenarioReport, ServiceSeries};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// The first run's success ratio per service over the incident window.
struct Timeline<'a> {
    s: &'a ScenarioReport,
    title: String,
    w: Window,
    /// Per service: success ratio per bucket of the window (None: no operation sent).
    ratios: Vec<Vec<Option<f64>>>,
    markers: Vec<Marker>,
    label_rows: usize,
    /// Per service: when the first run's steady state came back.
    recovered: Vec<Option<f64>>,
    not_recovered: Vec<bool>,
    /// Per service: the first run's outages, `(start, end)` (`None`: still down at the end).
    outages: Vec<Vec<(f64, Option<f64>)>>,
}

/// A service's band: its bottom above the band's slot (in slots), and its height.
const BAND_LO: f64 = 0.1;
const BAND_H: f64 = 0.78;

/// A run of buckets with the same success ratio: `(from, to, ratio)`.
type Step = (f64, f64, Option<f64>);

impl Plot for Timeline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let body = legend_strip(&body, 28, &legend())?;
        let rows = self.label_rows as i32;
        let (labels, body) = body.split_vertically(rows * TL_ROW_H + 8);
        let plane = self.axes().draw(&body)?;
        for i in 0..self.ratios.len() {
            self.band(root, &plane, i)?;
        }
        self.markers(root, &plane, &labels)
    }
}

/// The timeline's legend: what the fills, the strip and the recovery line mean.
fn legend() -> [(Swatch, String); 5] {
    [
        (Swatch::Band(PALETTE[0]), "succeeded".to_string()),
        (Swatch::Band(FAIL), "failed".to_string()),
        (Swatch::Band(MUTED), "no operation sent".to_string()),
        (Swatch::Bar(OUTAGE), "outage".to_string()),
        (Swatch::Line(OK), "recovered (steady state)".to_string()),
    ]
}

impl<'a> Timeline<'a> {
    /// The timeline of a scenario's first run (`None`: it recorded no series).
    fn new(s: &'a ScenarioReport) -> Option<Timeline<'a>> {
        let series: Vec<_> = s.services.iter().map(|sv| sv.series.as_ref()).collect();
        if series.iter().all(|x| x.is_none()) {
            return None;
        }
        let resolution = series
            .iter()
            .flatten()
            .map(|x| x.resolution_s)
            .fold(f64::INFINITY, f64::min);
        let w = incident_window(s, resolution)?;
        let not_recovered: Vec<bool> = s
            .services
            .iter()
            .map(|sv| matches!(sv.samples.rto_s.first(), Some(None)))
            .collect();
        let (markers, label_rows) = window_markers(s, &w);
        let seed = s.per_run.first().map(|r| r.seed).unwrap_or(s.seed);
        Some(Timeline {
            outages: first_run_outages(s),
            label_rows,
            s,
            title: format!(
                "{} — success ratio per service, run 1 (seed {seed})",
                s.name
            ),
            w,
            ratios: series.iter().map(|ser| bucket_ratios(*ser, &w)).collect(),
            markers,
            recovered: first_recoveries(s),
            not_recovered,
        })
    }

    /// The chart's height: the frame, the marker label rows, and a band per service.
    fn height(&self) -> u32 {
        (184 + TL_ROW_H as usize * self.label_rows + 74 * self.s.services.len().max(1)) as u32
    }

    /// The axes: time along x, one slot per service up y (the first at the top).
    fn axes(&self) -> Axes {
        let n = self.s.services.len();
        let y_ticks = self
            .s
            .services
            .iter()
            .enumerate()
            .map(|(i, sv)| ((n - 1 - i) as f64 + BAND_LO + BAND_H / 2.0, sv.name.clone()))
            .collect();
        time_axes(&self.w, Axis::linear(0.0, n as f64, y_ticks), 52, 6)
            .labels(20, n.max(1))
            .grid(Grid::Columns)
            .x_desc(format!(
                "time from the fault (T = {} into the run), {} buckets",
                duration(self.w.t0),
                duration(self.w.bucket)
            ))
    }

    /// Service `i`'s band bottom and top.
    fn band_edges(&self, i: usize) -> (f64, f64) {
        let base = (self.s.services.len() - 1 - i) as f64 + BAND_LO;
        (base, base + BAND_H)
    }

    /// Service `i`'s band: its outline, outages, success ratio, guides and recovery.
    fn band<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plane: &Plane<DB>,
        i: usize,
    ) -> DrawResult<DB> {
        let (base, top) = self.band_edges(i);
        plane.draw(&Rectangle::new(
            [(self.w.from, base), (self.w.to, top)],
            GRID.stroke_width(1),
        ))?;
        self.outage_strip(plane, i, base)?;
        self.ratio_fill(plane, i, (base, top))?;
        self.guides(root, plane, (base, top))?;
        self.recovery(root, plane, i, (base, top))
    }

    /// Service `i`'s outages: a strip under the band, from the first failure to recovery.
    fn outage_strip<DB: DrawingBackend>(
        &self,
        plane: &Plane<DB>,
        i: usize,
        base: f64,
    ) -> DrawResult<DB> {
        for &(from, to) in &self.outages[i] {
            let (x0, x1) = (
                from.max(self.w.from),
                to.unwrap_or(self.w.to).min(self.w.to),
            );
            if x1 > x0 {
                plane.draw(&Rectangle::new(
                    [(x0, base - BAND_LO * 0.75), (x1, base - BAND_LO * 0.25)],
                    OUTAGE.filled(),
                ))?;
            }
        }
        Ok(())
    }

    /// Runs of buckets with the same ratio make one step each.
    fn steps(&self, ratios: &[Option<f64>]) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        let mut b = 0;
        while b < ratios.len() {
            let r = ratios[b];
            let mut e = b + 1;
            while e < ratios.len() && same(ratios[e], r) {
                e += 1;
            }
            steps.push((
                self.w.from + b as f64 * self.w.bucket,
                self.w.from + e as f64 * self.w.bucket,
                r,
            ));
            b = e;
        }
        steps
    }

    /// Service `i`'s success ratio in its band: a stretch of steps with no gap makes one
    /// polygon for what succeeded and one for what failed (no seams) under the ratio's line;
    /// the gaps (nothing sent) are grey.
    fn ratio_fill<DB: DrawingBackend>(
        &self,
        plane: &Plane<DB>,
        i: usize,
        (base, top): (f64, f64),
    ) -> DrawResult<DB> {
        let steps = self.steps(&self.ratios[i]);
        for stretch in steps.split(|st| st.2.is_none()) {
            stretch_fill(plane, stretch, (base, top), service_color(i))?;
        }
        for &(x0, x1, _) in steps.iter().filter(|st| st.2.is_none()) {
            plane.draw(&Rectangle::new(
                [(x0, base), (x1, top)],
                MUTED.mix(0.18).filled(),
            ))?;
        }
        Ok(())
    }

    /// 100 % and 0 % guides right of the band.
    fn guides<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plane: &Plane<DB>,
        (base, top): (f64, f64),
    ) -> DrawResult<DB> {
        let (rx, ry_top) = plane.map_coordinate(&(self.w.to, top));
        let (_, ry_base) = plane.map_coordinate(&(self.w.to, base));
        for (text, y) in [("100%", ry_top), ("0%", ry_base)] {
            root.draw(&Text::new(
                text,
                (rx + 3, y),
                anchored(10.0, MUTED, HPos::Left, VPos::Center),
            ))?;
        }
        Ok(())
    }

    /// Service `i`'s recovery: a green line across the band with when, or a note that it did
    /// not recover by the end of the run.
    fn recovery<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plane: &Plane<DB>,
        i: usize,
        (base, top): (f64, f64),
    ) -> DrawResult<DB> {
        let shown = self.recovered[i].filter(|at| *at >= self.w.from && *at <= self.w.to);
        if let Some(at) = shown {
            plane.draw(&PathElement::new(
                vec![(at, base - BAND_LO * 0.6), (at, top + BAND_LO * 0.6)],
                OK.stroke_width(3),
            ))?;
            let (px, py) = plane.map_coordinate(&(at, top));
            let right_edge = plane.map_coordinate(&(self.w.to, top)).0;
            let text = format!("recovered {}", since(at - self.w.t0));
            let w = root.estimate_text_size(&text, &font(NOTE, OK))?.0 as i32;
            let (tx, h) = if px + 6 + w < right_edge {
                (px + 6, HPos::Left)
            } else {
                (px - 6, HPos::Right)
            };
            boxed(root, &text, (tx, py + 4), OK, (h, VPos::Top))?;
        }
        if self.not_recovered[i] {
            let (px, py) = plane.map_coordinate(&(self.w.to, top));
            boxed(
                root,
                "not recovered by the end of the run",
                (px - 6, py + 4),
                FAIL,
                (HPos::Right, VPos::Top),
            )?;
        }
        Ok(())
    }

    /// The markers: lines across every band, labels in the rows above the plot (`labels`).
    fn markers<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plane: &Plane<DB>,
        labels: &DrawingArea<DB, Shift>,
    ) -> DrawResult<DB> {
        let n = self.s.services.len() as f64;
        let rows = self.label_rows as i32;
        let (_, plot_top) = plane.map_coordinate(&(self.w.from, n));
        let (_, label_y0) = labels.get_base_pixel();
        for m in &self.markers {
            m.draw_line(plane, (0.0, n), m.color.stroke_width(2))?;
            let Some(row) = m.row else { continue };
            let (px, _) = plane.map_coordinate(&(m.at, 0.0));
            // Row 0 is nearest the plot.
            let ly = label_y0 + (rows - 1 - row as i32) * TL_ROW_H + TL_ROW_H / 2 + 4;
            root.draw(&PathElement::new(
                vec![(px, ly + 6), (px, plot_top)],
                m.color.mix(0.6).stroke_width(1),
            ))?;
            let (tx, h) = if m.left {
                (px + 4, HPos::Left)
            } else {
                (px - 4, HPos::Right)
            };
            root.draw(&Text::new(
                m.label.clone(),
                (tx, ly),
                anchored(NOTE, m.color, h, VPos::Center),
            ))?;
        }
        Ok(())
    }
}

/// One stretch of steps with no gap: what succeeded filled up from the band's bottom in
/// `color`, what failed down from its top in red, and the ratio as a line between.
fn stretch_fill<DB: DrawingBackend>(
    plane: &Plane<DB>,
    stretch: &[Step],
    (base, top): (f64, f64),
    color: RGBColor,
) -> DrawResult<DB> {
    let (Some(first), Some(last)) = (stretch.first(), stretch.last()) else {
        return Ok(());
    };
    let path: Vec<(f64, f64)> = stretch
        .iter()
        .flat_map(|&(x0, x1, r)| {
            let y = base + r.unwrap_or(0.0) * BAND_H;
            [(x0, y), (x1, y)]
        })
        .collect();
    let polygon = |edge: f64| {
        let mut pts = vec![(first.0, edge)];
        pts.extend(path.iter().copied());
        pts.push((last.1, edge));
        pts
    };
    if stretch.iter().any(|st| st.2.is_some_and(|r| r > 0.0)) {
        plane.draw(&Polygon::new(polygon(base), color.mix(0.45).filled()))?;
    }
    if stretch.iter().any(|st| st.2.is_some_and(|r| r < 1.0)) {
        plane.draw(&Polygon::new(polygon(top), FAIL.mix(0.55).filled()))?;
    }
    plane.draw(&PathElement::new(path, color.stroke_width(2)))
}

/// Per service: when the first run's steady state came back (the first `recovered` event
/// naming it; with one service, every such event is its own).
fn first_recoveries(s: &ScenarioReport) -> Vec<Option<f64>> {
    let several = s.services.len() > 1;
    let mut recovered = vec![None; s.services.len()];
    for e in s.timeline.iter().filter(|e| e.kind == "recovered") {
        let at = e.at_s.as_secs_f64();
        let who = if several {
            s.services
                .iter()
                .position(|sv| e.detail.starts_with(&format!("{}: ", sv.name)))
        } else {
            Some(0)
        };
        if let Some(k) = who
            && recovered[k].is_none()
        {
            recovered[k] = Some(at);
        }
    }
    recovered
}

/// A service's success ratio in each bucket of the window (`None`: nothing sent, or no series).
fn bucket_ratios(series: Option<&ServiceSeries>, w: &Window) -> Vec<Option<f64>> {
    let Some(ser) = series else {
        return vec![None; w.buckets];
    };
    let per = (w.bucket / ser.resolution_s).round().max(1.0) as usize;
    let first = (w.from / ser.resolution_s).round() as usize;
    (0..w.buckets)
        .map(|b| {
            let (mut ok, mut failed) = (0u64, 0u64);
            for i in first + b * per..first + (b + 1) * per {
                ok += ser.ok.get(i).copied().unwrap_or(0);
                failed += ser.failed.get(i).copied().unwrap_or(0);
            }
            (ok + failed > 0).then(|| ok as f64 / (ok + failed) as f64)
        })
        .collect()
}

/// Per service: the first run's outages, `(start, end)`.
fn first_run_outages(s: &ScenarioReport) -> Vec<Vec<(f64, Option<f64>)>> {
    s.services
        .iter()
        .map(|sv| {
            s.per_run
                .first()
                .and_then(|r| r.services.iter().find(|x| x.name == sv.name))
                .map(|x| x.outages.iter().map(|o| (o.start_s, o.end_s)).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// Whether two bucket ratios read the same (both empty, or within 0.05 %).
fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() < 5e-4,
        _ => false,
    }
}

/// The timeline chart of a scenario's first run (`None`: it recorded no series).
pub(super) fn timeline_chart(s: &ScenarioReport) -> Result<Option<Chart>, String> {
    let Some(plot) = Timeline::new(s) else {
        return Ok(None);
    };
    let about = About {
        name: format!("{}-timeline", slug(&s.name)),
        kind: "timeline",
        title: plot.title.clone(),
        caption: format!(
            "The first run: the share of each service's operations that succeeded, by send time in {} buckets (red: failed; grey: none sent; the dark strip under a band: an outage, from its first failed operation until operations succeeded again), with the fault, its detection, the failover and each service's recovery marked. T is the first fault.",
            duration(plot.w.bucket)
        ),
    };
    about
        .rendered(s, &plot, (TL_WIDTH, plot.height()))
        .map(Some)
}

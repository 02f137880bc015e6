//! The `SCENARIO-timeline` chart: each service's success ratio over the first run's window.

use super::axis::Axis;
use super::frame::{Swatch, boxed, legend};
use super::style::{
    FAIL, GRID, INK, LABEL, MUTED, NOTE, OK, OUTAGE, PALETTE, TICK, TITLE, anchored, font,
    service_color,
};
use super::window::{
    Marker, TL_PLOT_LEFT, TL_PLOT_RIGHT, TL_ROW_H, TL_WIDTH, Window, incident_window,
    window_markers, window_ticks,
};
use super::{Chart, DrawResult, Plot, render, slug};
use crate::report::markdown::{duration, since};
use crate::report::summary::ScenarioReport;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

pub(super) struct Timeline<'a> {
    pub(super) s: &'a ScenarioReport,
    pub(super) title: String,
    pub(super) w: Window,
    /// Per service: success ratio per bucket of the window (None: no operation sent).
    pub(super) ratios: Vec<Vec<Option<f64>>>,
    pub(super) markers: Vec<Marker>,
    pub(super) label_rows: usize,
    /// Per service: when the first run's steady state came back.
    pub(super) recovered: Vec<Option<f64>>,
    pub(super) not_recovered: Vec<bool>,
    /// Per service: the first run's outages, `(start, end)` (`None`: still down at the end).
    pub(super) outages: Vec<Vec<(f64, Option<f64>)>>,
}

pub(super) const BAND_LO: f64 = 0.1;
pub(super) const BAND_H: f64 = 0.78;

impl<'a> Timeline<'a> {
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
        let not_recovered: Vec<bool> = s
            .services
            .iter()
            .map(|sv| matches!(sv.samples.rto_s.first(), Some(None)))
            .collect();
        let (from, bucket, nb) = (w.from, w.bucket, w.buckets);
        let ratios = series
            .iter()
            .map(|ser| {
                let Some(ser) = ser else {
                    return vec![None; nb];
                };
                let per = (bucket / ser.resolution_s).round().max(1.0) as usize;
                let first = (from / ser.resolution_s).round() as usize;
                (0..nb)
                    .map(|b| {
                        let (mut ok, mut failed) = (0u64, 0u64);
                        for i in first + b * per..first + (b + 1) * per {
                            ok += ser.ok.get(i).copied().unwrap_or(0);
                            failed += ser.failed.get(i).copied().unwrap_or(0);
                        }
                        (ok + failed > 0).then(|| ok as f64 / (ok + failed) as f64)
                    })
                    .collect()
            })
            .collect();
        let (markers, label_rows) = window_markers(s, &w);
        let seed = s.per_run.first().map(|r| r.seed).unwrap_or(s.seed);
        let outages = s
            .services
            .iter()
            .map(|sv| {
                s.per_run
                    .first()
                    .and_then(|r| r.services.iter().find(|x| x.name == sv.name))
                    .map(|x| x.outages.iter().map(|o| (o.start_s, o.end_s)).collect())
                    .unwrap_or_default()
            })
            .collect();
        Some(Timeline {
            outages,
            label_rows,
            s,
            title: format!(
                "{} — success ratio per service, run 1 (seed {seed})",
                s.name
            ),
            w,
            ratios,
            markers,
            recovered,
            not_recovered,
        })
    }

    fn height(&self) -> u32 {
        (184 + TL_ROW_H as usize * self.label_rows + 74 * self.s.services.len().max(1)) as u32
    }
}

impl Plot for Timeline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.s.services.len();
        let body = root.titled(&self.title, font(TITLE, INK))?;
        let (head, body) = body.split_vertically(28);
        legend(
            &head,
            &[
                (Swatch::Band(PALETTE[0]), "succeeded".to_string()),
                (Swatch::Band(FAIL), "failed".to_string()),
                (Swatch::Band(MUTED), "no operation sent".to_string()),
                (Swatch::Bar(OUTAGE), "outage".to_string()),
                (Swatch::Line(OK), "recovered (steady state)".to_string()),
            ],
        )?;
        let rows = self.label_rows as i32;
        let (labels, body) = body.split_vertically(rows * TL_ROW_H + 8);
        let x_ticks = window_ticks(&self.w);
        let x = Axis::linear(self.w.from, self.w.to, x_ticks);
        let y_ticks = self
            .s
            .services
            .iter()
            .enumerate()
            .map(|(i, sv)| ((n - 1 - i) as f64 + BAND_LO + BAND_H / 2.0, sv.name.clone()))
            .collect();
        let y = Axis::linear(0.0, n as f64, y_ticks);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(TL_PLOT_LEFT - 120)
            .margin_right(TL_WIDTH as i32 - TL_PLOT_RIGHT)
            .margin_top(0)
            .margin_bottom(6)
            .x_label_area_size(52)
            .y_label_area_size(120)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let xf = |v: &f64| x.label(*v);
        let yf = |v: &f64| y.label(*v);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(MUTED.stroke_width(1))
            .x_labels(20)
            .y_labels(n.max(1))
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .label_style(font(TICK, INK))
            .axis_desc_style(font(LABEL, INK))
            .x_desc(format!(
                "time from the fault (T = {} into the run), {} buckets",
                duration(self.w.t0),
                duration(self.w.bucket)
            ))
            .draw()?;
        for (i, ratios) in self.ratios.iter().enumerate() {
            let base = (n - 1 - i) as f64 + BAND_LO;
            let top = base + BAND_H;
            let color = service_color(i);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(self.w.from, base), (self.w.to, top)],
                GRID.stroke_width(1),
            )))?;
            // Outages: a strip under the band, from the first failure to recovery.
            for &(from, to) in &self.outages[i] {
                let (x0, x1) = (
                    from.max(self.w.from),
                    to.unwrap_or(self.w.to).min(self.w.to),
                );
                if x1 > x0 {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, base - BAND_LO * 0.75), (x1, base - BAND_LO * 0.25)],
                        OUTAGE.filled(),
                    )))?;
                }
            }
            // Runs of buckets with the same ratio make one step each; a stretch of steps with
            // no gap makes one polygon for what succeeded and one for what failed (no seams).
            let mut steps: Vec<(f64, f64, Option<f64>)> = Vec::new();
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
            for stretch in steps.split(|st| st.2.is_none()) {
                let (Some(first), Some(last)) = (stretch.first(), stretch.last()) else {
                    continue;
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
                    chart.draw_series(std::iter::once(Polygon::new(
                        polygon(base),
                        color.mix(0.45).filled(),
                    )))?;
                }
                if stretch.iter().any(|st| st.2.is_some_and(|r| r < 1.0)) {
                    chart.draw_series(std::iter::once(Polygon::new(
                        polygon(top),
                        FAIL.mix(0.55).filled(),
                    )))?;
                }
                chart.draw_series(std::iter::once(PathElement::new(
                    path,
                    color.stroke_width(2),
                )))?;
            }
            for &(x0, x1, _) in steps.iter().filter(|st| st.2.is_none()) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, base), (x1, top)],
                    MUTED.mix(0.18).filled(),
                )))?;
            }
            // 100 % and 0 % guides on the right.
            let (rx, ry_top) = chart.backend_coord(&(self.w.to, top));
            let (_, ry_base) = chart.backend_coord(&(self.w.to, base));
            root.draw(&Text::new(
                "100%",
                (rx + 3, ry_top),
                anchored(10.0, MUTED, HPos::Left, VPos::Center),
            ))?;
            root.draw(&Text::new(
                "0%",
                (rx + 3, ry_base),
                anchored(10.0, MUTED, HPos::Left, VPos::Center),
            ))?;
            if let Some(at) = self.recovered[i].filter(|at| *at >= self.w.from && *at <= self.w.to)
            {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(at, base - BAND_LO * 0.6), (at, top + BAND_LO * 0.6)],
                    OK.stroke_width(3),
                )))?;
                let (px, py) = chart.backend_coord(&(at, top));
                let (_, right_edge) = (0, chart.backend_coord(&(self.w.to, top)).0);
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
                let (px, py) = chart.backend_coord(&(self.w.to, top));
                boxed(
                    root,
                    "not recovered by the end of the run",
                    (px - 6, py + 4),
                    FAIL,
                    (HPos::Right, VPos::Top),
                )?;
            }
        }

        // Markers: lines across every band, labels in the rows above.
        let (_, plot_top) = chart.backend_coord(&(self.w.from, n as f64));
        let (_, label_y0) = labels.get_base_pixel();
        for m in &self.markers {
            let line = vec![(m.at, 0.0), (m.at, n as f64)];
            if m.dashed {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    line,
                    6,
                    4,
                    m.color.stroke_width(2),
                )))?;
            } else {
                chart.draw_series(std::iter::once(PathElement::new(
                    line,
                    m.color.stroke_width(2),
                )))?;
            }
            let Some(row) = m.row else { continue };
            let (px, _) = chart.backend_coord(&(m.at, 0.0));
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

pub(super) fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() < 5e-4,
        _ => false,
    }
}

pub(super) fn timeline_chart(s: &ScenarioReport) -> Result<Option<Chart>, String> {
    let Some(plot) = Timeline::new(s) else {
        return Ok(None);
    };
    let (w, h) = (TL_WIDTH, plot.height());
    let (svg, png) = render(&plot, w, h)?;
    Ok(Some(Chart {
        name: format!("{}-timeline", slug(&s.name)),
        scenario: s.name.clone(),
        kind: "timeline",
        title: plot.title.clone(),
        caption: format!(
            "The first run: the share of each service's operations that succeeded, by send time in {} buckets (red: failed; grey: none sent; the dark strip under a band: an outage, from its first failed operation until operations succeeded again), with the fault, its detection, the failover and each service's recovery marked. T is the first fault.",
            duration(plot.w.bucket)
        ),
        width: w,
        height: h,
        svg,
        png,
    }))
}

//! The `SCENARIO-lag` chart: each datastore's replication lag per member over the first run's
//! window.

use super::axis::{Axis, END, log_ticks, log_top};
use super::frame::{Swatch, legend};
use super::style::{GRID, INK, LABEL, MUTED, TICK, TITLE, font, service_color};
use super::window::{
    Marker, TL_PLOT_LEFT, TL_PLOT_RIGHT, TL_WIDTH, Window, incident_window, window_markers,
    window_ticks,
};
use super::{Chart, DrawResult, Plot, render, slug};
use crate::report::markdown::duration;
use crate::report::summary::ScenarioReport;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// A member's name and its largest lag in each bucket (`None`: nothing recorded).
pub(super) type MemberLag = (String, Vec<Option<f64>>);

/// Each datastore's replication lag per member over the first run's window.
pub(super) struct LagChart {
    pub(super) title: String,
    pub(super) w: Window,
    /// Per datastore: its name and, per member, the largest lag in each bucket.
    pub(super) panels: Vec<(String, Vec<MemberLag>)>,
    pub(super) markers: Vec<Marker>,
}

pub(super) const LAG_PANEL_H: u32 = 230;

impl LagChart {
    fn new(s: &ScenarioReport) -> Option<LagChart> {
        if s.replication_lag.iter().all(|d| d.members.is_empty()) {
            return None;
        }
        let resolution = s
            .replication_lag
            .iter()
            .map(|d| d.resolution_s)
            .fold(f64::INFINITY, f64::min);
        let w = incident_window(s, resolution)?;
        let panels = s
            .replication_lag
            .iter()
            .filter(|d| !d.members.is_empty())
            .map(|d| {
                let per = (w.bucket / d.resolution_s).round().max(1.0) as usize;
                let first = (w.from / d.resolution_s).round() as usize;
                let members = d
                    .members
                    .iter()
                    .map(|(name, lag)| {
                        let per_bucket = (0..w.buckets)
                            .map(|b| {
                                let lo = (first + b * per).min(lag.len());
                                let hi = (first + (b + 1) * per).min(lag.len());
                                lag[lo..hi].iter().copied().reduce(f64::max)
                            })
                            .collect();
                        (name.clone(), per_bucket)
                    })
                    .collect();
                (d.datastore.clone(), members)
            })
            .collect();
        let (markers, _) = window_markers(s, &w);
        let seed = s.per_run.first().map(|r| r.seed).unwrap_or(s.seed);
        Some(LagChart {
            title: format!(
                "{} — replication lag per member, run 1 (seed {seed})",
                s.name
            ),
            w,
            panels,
            markers,
        })
    }

    fn height(&self) -> u32 {
        100 + LAG_PANEL_H * self.panels.len() as u32
    }
}

impl Plot for LagChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = root.titled(&self.title, font(TITLE, INK))?;
        let (head, body) = body.split_vertically(28);
        // The markers' legend: one entry per kind of event shown.
        let mut kinds: Vec<(Swatch, String)> = Vec::new();
        for m in &self.markers {
            if !kinds.iter().any(|(_, t)| t == m.what) {
                let swatch = if m.dashed {
                    Swatch::Dashed(m.color)
                } else {
                    Swatch::Line(m.color)
                };
                kinds.push((swatch, m.what.to_string()));
            }
        }
        legend(&head, &kinds)?;
        let n = self.panels.len();
        let panels = body.split_evenly((n, 1));
        let x_ticks = window_ticks(&self.w);
        let x = Axis::linear(self.w.from, self.w.to, x_ticks);
        let xf = |v: &f64| x.label(*v);
        for (k, ((datastore, members), area)) in self.panels.iter().zip(&panels).enumerate() {
            let (top_strip, area) = area.split_vertically(26);
            let mut items = vec![(Swatch::Label, format!("{datastore}:"))];
            items.extend(
                members
                    .iter()
                    .enumerate()
                    .map(|(i, (name, _))| (Swatch::Line(service_color(i)), name.clone())),
            );
            legend(&top_strip, &items)?;
            let max = members
                .iter()
                .flat_map(|(_, l)| l.iter().flatten())
                .copied()
                .fold(0.0, f64::max);
            let unit = 0.01;
            let top = log_top(unit, max * 1.5);
            let y = Axis {
                log_unit: Some(unit),
                lo: 0.0,
                hi: (1.0 + top / unit).log10(),
                nr: None,
                ticks: log_ticks(unit, top),
            };
            let yf = |v: &f64| y.label(*v);
            let last = k + 1 == n;
            let mut chart = ChartBuilder::on(&area)
                .margin_left(TL_PLOT_LEFT - 120)
                .margin_right(TL_WIDTH as i32 - TL_PLOT_RIGHT)
                .margin_bottom(4)
                .x_label_area_size(if last { 52 } else { 26 })
                .y_label_area_size(120)
                .build_cartesian_2d(x.clone(), y.clone())?;
            let mut mesh = chart.configure_mesh();
            mesh.bold_line_style(GRID.stroke_width(1))
                .axis_style(MUTED.stroke_width(1))
                .x_labels(20)
                .y_labels(20)
                .x_label_formatter(&xf)
                .y_label_formatter(&yf)
                .label_style(font(TICK, INK))
                .axis_desc_style(font(LABEL, INK))
                .y_desc("lag (log scale)");
            if last {
                mesh.x_desc(format!(
                    "time from the fault (T = {} into the run), largest lag per {}",
                    duration(self.w.t0),
                    duration(self.w.bucket)
                ));
            }
            mesh.draw()?;
            for m in &self.markers {
                let line = vec![(m.at, 0.0), (m.at, END)];
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
                        m.color.mix(0.8).stroke_width(2),
                    )))?;
                }
            }
            for (i, (_, lag)) in members.iter().enumerate() {
                let mut path: Vec<(f64, f64)> = Vec::new();
                let mut paths = Vec::new();
                for (b, v) in lag.iter().enumerate() {
                    let x0 = self.w.from + b as f64 * self.w.bucket;
                    match v {
                        Some(v) => {
                            path.push((x0, *v));
                            path.push((x0 + self.w.bucket, *v));
                        }
                        None => paths.push(std::mem::take(&mut path)),
                    }
                }
                paths.push(path);
                for p in paths.into_iter().filter(|p| p.len() > 1) {
                    chart.draw_series(std::iter::once(PathElement::new(
                        p,
                        service_color(i).stroke_width(2),
                    )))?;
                }
            }
        }
        Ok(())
    }
}

pub(super) fn lag_chart(s: &ScenarioReport) -> Result<Option<Chart>, String> {
    let Some(plot) = LagChart::new(s) else {
        return Ok(None);
    };
    let (w, h) = (TL_WIDTH, plot.height());
    let (svg, png) = render(&plot, w, h)?;
    Ok(Some(Chart {
        name: format!("{}-lag", slug(&s.name)),
        scenario: s.name.clone(),
        kind: "lag",
        title: plot.title.clone(),
        caption: format!(
            "The first run's replication lag: for each member of each datastore, how long ago the datastore first held the oldest entry that member lacks (the largest in each {} bucket). A member that stopped or was cut off keeps falling behind; the lag of a replica at the fault bounds what a failover to it loses.",
            duration(plot.w.bucket)
        ),
        width: w,
        height: h,
        svg,
        png,
    }))
}

//! The `SCENARIO-lag` chart ([`lag_chart`]): the first run, each datastore's replication lag per
//! member over the same window as the timeline, one panel per datastore on a log scale, with the
//! same events marked. The window, the markers and the time axes are `window`'s, the frame
//! `frame`'s; this module owns the panels and the members' lag lines.

use super::axis::{Axis, END, log_top};
use super::frame::{Axes, Plane, Swatch, legend_strip, titled};
use super::style::service_color;
use super::window::{
    Marker, TL_WIDTH, Window, incident_window, marker_legend, time_axes, window_markers,
};
use super::{About, Chart, DrawResult, Plot, slug};
use crate::report::markdown::duration;
use crate::report::summary::ScenarioReport;
use crate::run::judge::DatastoreLag;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A member's name and its largest lag in each bucket (`None`: nothing recorded).
type MemberLag = (String, Vec<Option<f64>>);

/// Each datastore's replication lag per member over the first run's window.
struct LagChart {
    title: String,
    w: Window,
    /// Per datastore: its name and, per member, the largest lag in each bucket.
    panels: Vec<(String, Vec<MemberLag>)>,
    markers: Vec<Marker>,
}

/// A datastore panel's height.
const LAG_PANEL_H: u32 = 230;

impl Plot for LagChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = titled(root, &self.title)?;
        let body = legend_strip(&body, 28, &marker_legend(&self.markers))?;
        let n = self.panels.len();
        let areas = body.split_evenly((n, 1));
        for (k, ((datastore, members), area)) in self.panels.iter().zip(&areas).enumerate() {
            self.panel(area, datastore, members, k + 1 == n)?;
        }
        Ok(())
    }
}

impl LagChart {
    /// The lag chart of a scenario's first run (`None`: no datastore recorded any lag).
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
            .map(|d| (d.datastore.clone(), bucket_lags(d, &w)))
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

    /// The chart's height: the frame and a panel per datastore.
    fn height(&self) -> u32 {
        100 + LAG_PANEL_H * self.panels.len() as u32
    }

    /// One datastore's panel: its members' legend, the axes (the time axis described under
    /// the `last` panel only), the markers and a lag line per member.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        datastore: &str,
        members: &[MemberLag],
        last: bool,
    ) -> DrawResult<DB> {
        let mut items = vec![(Swatch::Label, format!("{datastore}:"))];
        items.extend(
            members
                .iter()
                .enumerate()
                .map(|(i, (name, _))| (Swatch::Line(service_color(i)), name.clone())),
        );
        let area = legend_strip(area, 26, &items)?;
        let plane = self.axes(members, last).draw(&area)?;
        for m in &self.markers {
            m.draw_line(&plane, (0.0, END), m.color.mix(0.8).stroke_width(2))?;
        }
        for (i, (_, lag)) in members.iter().enumerate() {
            self.lag_line(&plane, lag, service_color(i))?;
        }
        Ok(())
    }

    /// A panel's axes: time along x, the lag on a log scale up past the largest.
    fn axes(&self, members: &[MemberLag], last: bool) -> Axes {
        let max = members
            .iter()
            .flat_map(|(_, l)| l.iter().flatten())
            .copied()
            .fold(0.0, f64::max);
        let unit = 0.01;
        let y = Axis::log_durations(unit, log_top(unit, max * 1.5));
        let axes = time_axes(&self.w, y, if last { 52 } else { 26 }, 4).y_desc("lag (log scale)");
        if !last {
            return axes;
        }
        axes.x_desc(format!(
            "time from the fault (T = {} into the run), largest lag per {}",
            duration(self.w.t0),
            duration(self.w.bucket)
        ))
    }

    /// A member's lag as steps across each bucket, broken where nothing was recorded.
    fn lag_line<DB: DrawingBackend>(
        &self,
        plane: &Plane<DB>,
        lag: &[Option<f64>],
        color: RGBColor,
    ) -> DrawResult<DB> {
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
            plane.draw(&PathElement::new(p, color.stroke_width(2)))?;
        }
        Ok(())
    }
}

/// Per member of datastore `d`: its largest lag in each bucket of the window.
fn bucket_lags(d: &DatastoreLag, w: &Window) -> Vec<MemberLag> {
    let per = (w.bucket / d.resolution_s).round().max(1.0) as usize;
    let first = (w.from / d.resolution_s).round() as usize;
    d.members
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
        .collect()
}

/// The replication lag chart of a scenario's first run (`None`: no lag recorded).
pub(super) fn lag_chart(s: &ScenarioReport) -> Result<Option<Chart>, String> {
    let Some(plot) = LagChart::new(s) else {
        return Ok(None);
    };
    let about = About {
        name: format!("{}-lag", slug(&s.name)),
        kind: "lag",
        title: plot.title.clone(),
        caption: format!(
            "The first run's replication lag: for each member of each datastore, how long ago the datastore first held the oldest entry that member lacks (the largest in each {} bucket). A member that stopped or was cut off keeps falling behind; the lag of a replica at the fault bounds what a failover to it loses.",
            duration(plot.w.bucket)
        ),
    };
    about
        .rendered(s, &plot, (TL_WIDTH, plot.height()))
        .map(Some)
}

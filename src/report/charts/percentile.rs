//! The `SCENARIO-rto` and `SCENARIO-rpo` charts ([`percentile_chart`]): per service, a bar at
//! p50 and a whisker to the max with p90 and p99 marked, the service's target as a dashed line
//! across its slot, "not recovered" as a red bar into a band at the top, and under each name the
//! target and how many runs met it. The frame, axes and marks are `frame`'s; this module owns
//! the per-service figures and their layout.

use super::axis::{Axis, END, NR, log_top};
use super::frame::{
    Axes, Grid, Margins, Plane, Swatch, boxed, dashed, legend_strip, not_recovered_shade,
    target_line, titled,
};
use super::style::{FAIL, INK, NOTE, OK, PALETTE, anchored, service_color};
use super::{About, Chart, DrawResult, Plot, slug};
use crate::report::markdown::duration;
use crate::report::summary::{Odds, Percentiles, ScenarioReport, ServiceReport};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// The figure a percentile chart shows.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Metric {
    Rto,
    Rpo,
}

impl Metric {
    /// Its name in titles and on the axis.
    fn name(self) -> &'static str {
        match self {
            Metric::Rto => "RTO",
            Metric::Rpo => "RPO",
        }
    }

    /// A service's percentiles of it.
    fn of(self, sv: &ServiceReport) -> &Percentiles {
        match self {
            Metric::Rto => &sv.rto_s,
            Metric::Rpo => &sv.rpo_s,
        }
    }

    /// A service's target for it.
    fn target(self, sv: &ServiceReport) -> f64 {
        match self {
            Metric::Rto => sv.targets.rto_s,
            Metric::Rpo => sv.targets.rpo_s,
        }
    }

    /// How often a service met its target for it.
    fn odds(self, sv: &ServiceReport) -> &Odds {
        match self {
            Metric::Rto => &sv.rto_met,
            Metric::Rpo => &sv.rpo_met,
        }
    }

    /// The smallest duration worth a tick.
    fn unit(self) -> f64 {
        match self {
            Metric::Rto => 1.0,
            Metric::Rpo => 0.01,
        }
    }

    /// What a zero in every run means, written where the bar would be.
    fn zero_words(self) -> &'static str {
        match self {
            Metric::Rto => "never broke",
            Metric::Rpo => "nothing lost",
        }
    }

    /// The chart's `kind`.
    fn kind(self) -> &'static str {
        match self {
            Metric::Rto => "rto",
            Metric::Rpo => "rpo",
        }
    }

    /// What the figure measures, for the caption.
    fn what(self) -> &'static str {
        match self {
            Metric::Rto => {
                "longest outage of each service, from its first failed operation until operations succeeded again and steady state held"
            }
            Metric::Rpo => "longest window of acknowledged writes each service lost",
        }
    }
}

/// How many runs of `sv` never recovered (RPO has no such runs).
fn nr_count(sv: &ServiceReport, metric: Metric) -> usize {
    match metric {
        Metric::Rto => sv.samples.rto_s.iter().filter(|x| x.is_none()).count(),
        Metric::Rpo => 0,
    }
}

/// The RTO or RPO of every service of a scenario.
struct PercentileChart<'a> {
    s: &'a ScenarioReport,
    metric: Metric,
    title: String,
}

/// A service's place along the x axis: its centre and the bar's half width (axis units).
#[derive(Clone, Copy)]
struct Slot {
    c: f64,
    half: f64,
}

impl Plot for PercentileChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let y = self.y_axis();
        let body = titled(root, &self.title)?;
        let body = legend_strip(&body, 30, &self.legend(&y))?;
        let plane = self.axes(y.clone()).draw(&body)?;
        if y.nr.is_some() {
            self.not_recovered_band(&plane, y.nr_start())?;
        }
        for (i, sv) in self.s.services.iter().enumerate() {
            self.service(root, &plane, i, sv)?;
        }
        Ok(())
    }
}

impl PercentileChart<'_> {
    /// Slots on the x axis: at least one, so that an empty scenario still has a plot.
    fn slots(&self) -> usize {
        self.s.services.len().max(1)
    }

    /// The value axis: log durations up past every figure and target, with a "not recovered"
    /// band when some figure is missing.
    fn y_axis(&self) -> Axis {
        let unit = self.metric.unit();
        let mut top: f64 = 0.0;
        let mut nr = false;
        for sv in &self.s.services {
            let p = self.metric.of(sv);
            for v in [p.p50, p.p90, p.p95, p.p99, p.max] {
                match v {
                    Some(v) => top = top.max(v),
                    None => nr = true,
                }
            }
            top = top.max(self.metric.target(sv));
        }
        let axis = Axis::log_durations(unit, log_top(unit, top * 1.5));
        if nr { axis.with_nr(0.14) } else { axis }
    }

    /// The legend: the marks of a service's figures, and the band when there is one.
    fn legend(&self, y: &Axis) -> Vec<(Swatch, String)> {
        let mut items = vec![
            (Swatch::Bar(PALETTE[0]), "p50 (bar)".to_string()),
            (Swatch::Dot, "p90".to_string()),
            (Swatch::Triangle, "p99".to_string()),
            (Swatch::Cap, "max (whisker)".to_string()),
            (Swatch::Dashed(FAIL), "target".to_string()),
        ];
        if y.nr.is_some() {
            items.push((Swatch::Band(FAIL), "not recovered".to_string()));
        }
        items
    }

    /// The axes: the services' names along x, the figure up y.
    fn axes(&self, y: Axis) -> Axes {
        let n = self.slots();
        let names = self.s.services.iter().enumerate();
        let x_ticks = names
            .map(|(i, sv)| (i as f64 + 0.5, sv.name.clone()))
            .collect();
        let y_labels = if y.nr.is_some() { 130 } else { 80 };
        Axes::new(Axis::linear(0.0, n as f64, x_ticks), y)
            .margins(Margins {
                top: 6,
                right: 24,
                bottom: 4,
                left: 12,
            })
            .label_areas(78, y_labels)
            .labels(n, 20)
            .grid(Grid::Rows)
            .y_desc(format!("{} (log scale)", self.metric.name()))
    }

    /// The "not recovered" band across the top of the plot, from `lo` up.
    fn not_recovered_band<DB: DrawingBackend>(&self, plane: &Plane<DB>, lo: f64) -> DrawResult<DB> {
        let n = self.slots() as f64;
        not_recovered_shade(plane, [(0.0, lo), (n, END)])?;
        dashed(
            plane,
            vec![(0.0, lo), (n, lo)],
            (4, 4),
            FAIL.mix(0.5).stroke_width(1),
        )
    }

    /// Service `i`'s slot.
    fn slot(&self, i: usize) -> Slot {
        let n = self.slots();
        Slot {
            c: i as f64 + 0.5,
            half: 0.28f64.min(0.5 * 110.0 / (960.0 / n as f64)),
        }
    }

    /// One service: its target line, its figures (or what stands for them), and under its name
    /// the target and how often it was met.
    fn service<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plane: &Plane<DB>,
        i: usize,
        sv: &ServiceReport,
    ) -> DrawResult<DB> {
        let m = self.metric;
        let slot = self.slot(i);
        let (c, target) = (slot.c, m.target(sv));
        target_line(plane, (c - 0.46, target), (c + 0.46, target))?;
        let p = m.of(sv);
        match p.p50 {
            None => self.never_recovered(plane, slot, sv)?,
            Some(_) if p.max == Some(0.0) => {
                let (cx, cy) = plane.map_coordinate(&(c, 0.0));
                root.draw(&Text::new(
                    m.zero_words(),
                    (cx, cy - 6),
                    anchored(NOTE, INK, HPos::Center, VPos::Bottom),
                ))?;
            }
            Some(p50) => {
                whisker(plane, slot, p, p50, service_color(i))?;
                self.figures(root, plane, slot, sv, p50)?;
            }
        }
        self.target_notes(root, plane, c, sv)
    }

    /// A service whose median run never recovered: a red bar into the band, with the count.
    fn never_recovered<DB: DrawingBackend>(
        &self,
        plane: &Plane<DB>,
        Slot { c, half }: Slot,
        sv: &ServiceReport,
    ) -> DrawResult<DB> {
        let bar = [(c - half, 0.0), (c + half, END)];
        plane.draw(&Rectangle::new(bar, FAIL.mix(0.30).filled()))?;
        plane.draw(&Rectangle::new(bar, FAIL.stroke_width(2)))?;
        plane.draw(&Text::new(
            format!("{}/{} runs", nr_count(sv, self.metric), self.s.runs),
            (c, NR),
            anchored(NOTE, FAIL, HPos::Center, VPos::Center),
        ))
    }

    /// The figures in words: above the whisker, or beside its cap in the band when some runs
    /// never recovered.
    fn figures<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plane: &Plane<DB>,
        Slot { c, half }: Slot,
        sv: &ServiceReport,
        p50: f64,
    ) -> DrawResult<DB> {
        let p = self.metric.of(sv);
        let (top, cap) = (p.max.unwrap_or(NR), half * 0.6);
        // A max that reads the same as the p50 is not repeated.
        let max = match p.max {
            Some(mx) if duration(mx) == duration(p50) => Some(p50),
            other => other,
        };
        let words = if max == Some(p50) {
            duration(p50)
        } else {
            format!("p50 {}", duration(p50))
        };
        let (cx, cy) = plane.map_coordinate(&(c, top));
        let Some(mx) = max else {
            // Some runs never recovered: their count beside the cap in the band, the median
            // above the bar.
            let (ex, _) = plane.map_coordinate(&(c + cap, top));
            let runs = self.s.runs;
            let count = format!("{}/{runs} n/r", nr_count(sv, self.metric));
            boxed(root, &count, (ex + 5, cy), FAIL, (HPos::Left, VPos::Center))?;
            let (_, by) = plane.map_coordinate(&(c, p50));
            return boxed(
                root,
                &words,
                (cx + 5, by - 4),
                INK,
                (HPos::Left, VPos::Bottom),
            );
        };
        let mut lines = vec![words];
        if mx != p50 {
            lines.insert(0, format!("max {}", duration(mx)));
        }
        let mut ly = cy - 8;
        for text in lines.iter().rev() {
            boxed(root, text, (cx, ly), INK, (HPos::Center, VPos::Bottom))?;
            ly -= 16;
        }
        Ok(())
    }

    /// Under the service's name: its target and how often it was met.
    fn target_notes<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plane: &Plane<DB>,
        c: f64,
        sv: &ServiceReport,
    ) -> DrawResult<DB> {
        let (bx, by) = plane.map_coordinate(&(c, 0.0));
        let o = self.metric.odds(sv);
        root.draw(&Text::new(
            format!("target {}", duration(self.metric.target(sv))),
            (bx, by + 28),
            anchored(NOTE, FAIL, HPos::Center, VPos::Top),
        ))?;
        let color = if o.met == o.runs { OK } else { FAIL };
        root.draw(&Text::new(
            format!("met {}/{}", o.met, o.runs),
            (bx, by + 46),
            anchored(NOTE, color, HPos::Center, VPos::Top),
        ))
    }
}

/// A service's bar at p50 and whisker up to the max (into the band when a run never
/// recovered), with p90 and p99 marked on it.
fn whisker<DB: DrawingBackend>(
    plane: &Plane<DB>,
    Slot { c, half }: Slot,
    p: &Percentiles,
    p50: f64,
    color: RGBColor,
) -> DrawResult<DB> {
    plane.draw(&Rectangle::new(
        [(c - half, 0.0), (c + half, p50)],
        color.mix(0.85).filled(),
    ))?;
    let top = p.max.unwrap_or(NR);
    plane.draw(&PathElement::new(
        vec![(c, p50), (c, top)],
        INK.stroke_width(2),
    ))?;
    if let Some(v) = p.p90 {
        plane.draw(&Circle::new((c, v), 4, INK.filled()))?;
    }
    if let Some(v) = p.p99 {
        plane.draw(&TriangleMarker::new((c, v), 6, INK.filled()))?;
    }
    let cap = half * 0.6;
    let cap_color = if p.max.is_some() { INK } else { FAIL };
    plane.draw(&PathElement::new(
        vec![(c - cap, top), (c + cap, top)],
        cap_color.stroke_width(3),
    ))
}

/// The RTO or RPO chart of a scenario.
pub(super) fn percentile_chart(s: &ScenarioReport, metric: Metric) -> Result<Chart, String> {
    let title = format!(
        "{} — {} per service over {} run{}",
        s.name,
        metric.name(),
        s.runs,
        if s.runs == 1 { "" } else { "s" }
    );
    let plot = PercentileChart {
        s,
        metric,
        title: title.clone(),
    };
    let about = About {
        name: format!("{}-{}", slug(&s.name), metric.name().to_lowercase()),
        kind: metric.kind(),
        title,
        caption: format!(
            "{}: the {}. Bars are the median (p50) over the runs, whiskers reach the worst run with p90 and p99 marked; the red dashed line is the service's own target, and under each name how many runs met it.",
            metric.name(),
            metric.what()
        ),
    };
    about.rendered(s, &plot, (960, 500))
}

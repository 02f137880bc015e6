//! The `SCENARIO-rto-dist-SERVICE` charts ([`distribution_chart`]): one service's RTO over the
//! runs, as a histogram (left) and an empirical CDF (right) on the same time axis, with the
//! target marked and the runs that never recovered counted in a band of their own; and which
//! services get one ([`distribution_services`]). The frame, axes and marks are `frame`'s; this
//! module owns the bins, the CDF's steps and the two panels' series.

use super::axis::{Axis, END, NR, linear_ticks, nice_step, time_step};
use super::frame::{
    Axes, Grid, Margins, Plane, Swatch, legend_strip, not_recovered_shade, target_line, titled,
    words_strip,
};
use super::style::{FAIL, NOTE, OK, PALETTE, anchored};
use super::{About, Chart, DrawResult, Plot, slug};
use crate::report::markdown::{duration, figure, odds};
use crate::report::summary::{ScenarioReport, ServiceReport};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One service's RTO over the runs.
struct Distribution<'a> {
    sv: &'a ServiceReport,
    title: String,
}

impl Plot for Distribution<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (x, width, target_on) = self.x_axis();
        let o = &self.sv.rto_met;
        let color = if o.met == o.runs { OK } else { FAIL };
        let body = titled(root, &self.title)?;
        let body = words_strip(&body, 24, self.figures(), color)?;
        let body = legend_strip(&body, 30, &self.legend(width, target_on))?;
        let (left, right) = body.split_horizontally(body.dim_in_pixel().0 / 2);
        let target = target_on.then_some(self.sv.targets.rto_s);
        self.histogram(root, &left, &x, width, target)?;
        self.cdf(root, &right, &x, target)
    }
}

impl Distribution<'_> {
    /// The runs that recovered: their RTOs, in order.
    fn finite(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.sv.samples.rto_s.iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// How many runs there were, and how many never recovered.
    fn runs(&self) -> (usize, usize) {
        let rto = &self.sv.samples.rto_s;
        (rto.len(), rto.iter().filter(|v| v.is_none()).count())
    }

    /// The figures in words, under the title: how often the target was met, p50, p90, max.
    fn figures(&self) -> String {
        let (o, p) = (&self.sv.rto_met, &self.sv.rto_s);
        let mut words = format!(
            "met the {} target in {}",
            duration(self.sv.targets.rto_s),
            odds(o)
        );
        words.push_str(&format!(
            " · p50 {} · p90 {} · max {}",
            figure(p.p50),
            figure(p.p90),
            figure(p.max)
        ));
        words
    }

    /// The legend: bins, the CDF, the target (noted when it is off the axis), the band.
    fn legend(&self, width: f64, target_on: bool) -> Vec<(Swatch, String)> {
        let target = duration(self.sv.targets.rto_s);
        let mut items = vec![
            (
                Swatch::Bar(PALETTE[0]),
                format!("runs per {} bin", duration(width)),
            ),
            (
                Swatch::Line(PALETTE[0]),
                "share of runs recovered by then".to_string(),
            ),
            (
                Swatch::Dashed(FAIL),
                if target_on {
                    format!("target {target}")
                } else {
                    format!("target {target} (off the axis, to the right)")
                },
            ),
        ];
        let (runs, nr) = self.runs();
        if nr > 0 {
            items.push((Swatch::Band(FAIL), format!("not recovered: {nr} of {runs}")));
        }
        items
    }

    /// The x axis (seconds, linear, on bin edges), the bin width, and whether the target
    /// lies on the axis.
    fn x_axis(&self) -> (Axis, f64, bool) {
        let finite = self.finite();
        let nr = finite.len() < self.sv.samples.rto_s.len();
        let target = self.sv.targets.rto_s;
        let (mut lo, mut hi) = match (finite.first(), finite.last()) {
            (Some(&a), Some(&b)) => (a, b),
            _ => (0.0, target.max(1.0)),
        };
        // The target belongs on the axis unless it is far beyond every run.
        let target_on = target <= hi * 3.0 + 1.0 || finite.is_empty();
        if target_on {
            lo = lo.min(target);
            hi = hi.max(target);
        }
        let span = if hi - lo < 1e-9 {
            (hi * 0.2).max(2.0)
        } else {
            hi - lo
        };
        // Start at 0 when the data is near it, so bars are not read as gaps.
        if lo < span * 0.5 {
            lo = 0.0;
        }
        let n = finite.len() as f64;
        let wanted = (n.sqrt() * 2.0).clamp(8.0, 30.0);
        let mut width = time_step((hi - lo).max(span), wanted);
        // RTOs are whole seconds when the steady-state resolution is: no bin under a second.
        if finite.iter().all(|v| v.fract() == 0.0) {
            width = width.max(1.0);
        }
        // Bin edges: the data's bin and one bin of air either side.
        let lo = ((lo / width).floor() * width - width).max(0.0);
        let hi = ((hi / width).floor() + 2.0) * width;
        let step = time_step(hi - lo, 6.0).max(width);
        let ticks = linear_ticks(lo, hi, step, duration);
        let axis = Axis::linear(lo, hi, ticks);
        (if nr { axis.with_nr(0.3) } else { axis }, width, target_on)
    }

    /// Histogram bins from the axis' start: `(from, to, count)`.
    fn bins(&self, x: &Axis, width: f64) -> Vec<(f64, f64, usize)> {
        let finite = self.finite();
        let k = ((x.hi - x.lo) / width).round().max(1.0) as usize;
        let mut bins: Vec<(f64, f64, usize)> = (0..k)
            .map(|i| (x.lo + i as f64 * width, x.lo + (i + 1) as f64 * width, 0))
            .collect();
        for v in finite {
            let i = (((v - x.lo) / width).floor().max(0.0) as usize).min(k - 1);
            bins[i].2 += 1;
        }
        bins
    }

    /// The left panel: runs per bin, the runs that never recovered as a bar in the band.
    fn histogram<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        area: &DrawingArea<DB, Shift>,
        x: &Axis,
        width: f64,
        target: Option<f64>,
    ) -> DrawResult<DB> {
        let (_, nr) = self.runs();
        let bins = self.bins(x, width);
        let max_count = bins.iter().map(|b| b.2).max().unwrap_or(0).max(nr).max(1);
        let ystep = nice_step(max_count as f64, 5.0).max(1.0);
        let ytop = (max_count as f64 * 1.15).max(ystep);
        let counts = linear_ticks(0.0, ytop, ystep, |v| format!("{v:.0}"));
        let y = Axis::linear(0.0, ytop, counts);
        let plane = panel_axes(x.clone(), y, 56).y_desc("runs").draw(area)?;
        if x.nr.is_some() {
            not_recovered_shade(&plane, [(x.nr_start(), 0.0), (END, ytop)])?;
        }
        for &(a, b, k) in bins.iter().filter(|b| b.2 > 0) {
            let bar = [(a, 0.0), (b, k as f64)];
            plane.draw(&Rectangle::new(bar, PALETTE[0].mix(0.85).filled()))?;
            plane.draw(&Rectangle::new(bar, WHITE.stroke_width(1)))?;
        }
        if nr > 0 {
            let w = nr_bar_half(&plane, x);
            let (cx, base) = plane.map_coordinate(&(NR, 0.0));
            let (_, top) = plane.map_coordinate(&(NR, nr as f64));
            root.draw(&Rectangle::new(
                [(cx - w, top), (cx + w, base)],
                FAIL.mix(0.6).filled(),
            ))?;
            root.draw(&Text::new(
                format!("{nr}"),
                (cx, top - 4),
                anchored(NOTE, FAIL, HPos::Center, VPos::Bottom),
            ))?;
        }
        match target {
            Some(t) => target_line(&plane, (t, 0.0), (t, ytop)),
            None => Ok(()),
        }
    }

    /// The right panel: the share of runs recovered within a time, the runs that never
    /// recovered as the rest of the way to 100 % in the band.
    fn cdf<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        area: &DrawingArea<DB, Shift>,
        x: &Axis,
        target: Option<f64>,
    ) -> DrawResult<DB> {
        let shares = (0..=4).map(|i| (i as f64 * 0.25, format!("{}%", i * 25)));
        let y = Axis::linear(0.0, 1.05, shares.collect());
        let plane = panel_axes(x.clone(), y, 60)
            .y_desc("runs recovered within")
            .draw(area)?;
        if x.nr.is_some() {
            not_recovered_shade(&plane, [(x.nr_start(), 0.0), (END, 1.05)])?;
        }
        let (path, reached) = self.cdf_steps(x);
        plane.draw(&PathElement::new(path, PALETTE[0].stroke_width(3)))?;
        if self.runs().1 > 0 {
            let w = nr_bar_half(&plane, x);
            let (cx, lo) = plane.map_coordinate(&(NR, reached));
            let (_, hi) = plane.map_coordinate(&(NR, 1.0));
            root.draw(&Rectangle::new(
                [(cx - w, hi), (cx + w, lo)],
                FAIL.mix(0.6).filled(),
            ))?;
        }
        match target {
            Some(t) => target_line(&plane, (t, 0.0), (t, 1.05)),
            None => Ok(()),
        }
    }

    /// The empirical CDF as a step path across the axis, and the share it reaches.
    fn cdf_steps(&self, x: &Axis) -> (Vec<(f64, f64)>, f64) {
        let sorted = self.finite();
        let total = self.runs().0.max(1) as f64;
        let mut path = vec![(x.lo, 0.0)];
        let mut done = 0usize;
        let mut i = 0;
        while i < sorted.len() {
            let v = sorted[i];
            while i < sorted.len() && sorted[i] == v {
                i += 1;
            }
            path.push((v, done as f64 / total));
            done = i;
            path.push((v, done as f64 / total));
        }
        let reached = done as f64 / total;
        path.push((x.hi, reached));
        (path, reached)
    }
}

/// The axes both panels share: the RTO along x, `y` up with `y_labels` pixels for its labels.
fn panel_axes(x: Axis, y: Axis, y_labels: i32) -> Axes {
    Axes::new(x, y)
        .margins(Margins {
            top: 8,
            right: 20,
            bottom: 8,
            left: 8,
        })
        .label_areas(48, y_labels)
        .labels(12, 12)
        .grid(Grid::Rows)
        .x_desc("RTO")
}

/// Half the width of the bar for the runs that never recovered: a quarter of the band's
/// width, in pixels.
fn nr_bar_half<DB: DrawingBackend>(plane: &Plane<DB>, x: &Axis) -> i32 {
    let (l, _) = plane.map_coordinate(&(x.nr_start(), 0.0));
    let (r, _) = plane.map_coordinate(&(END, 0.0));
    ((r - l) as f64 * 0.25).max(3.0) as i32
}

/// The services whose RTO distribution is worth a chart: those that missed their RTO target
/// in some run, else the worst one, unless nothing ever broke.
pub(super) fn distribution_services(s: &ScenarioReport) -> Vec<&ServiceReport> {
    let missed: Vec<&ServiceReport> = s
        .services
        .iter()
        .filter(|sv| sv.rto_met.met < sv.rto_met.runs && !sv.samples.rto_s.is_empty())
        .collect();
    if !missed.is_empty() {
        return missed;
    }
    let key = |sv: &ServiceReport| {
        let nr = sv.samples.rto_s.iter().filter(|v| v.is_none()).count();
        let worst = sv
            .samples
            .rto_s
            .iter()
            .flatten()
            .copied()
            .fold(0.0, f64::max);
        (nr, worst)
    };
    let worst = s
        .services
        .iter()
        .filter(|sv| !sv.samples.rto_s.is_empty())
        .reduce(|a, b| if key(b) > key(a) { b } else { a });
    match worst {
        Some(sv) if key(sv) > (0, 0.0) => vec![sv],
        _ => Vec::new(),
    }
}

/// The RTO distribution chart of service `sv` of a scenario.
pub(super) fn distribution_chart(s: &ScenarioReport, sv: &ServiceReport) -> Result<Chart, String> {
    let runs = sv.samples.rto_s.len();
    let title = format!(
        "{} — {}: RTO over {} run{}",
        s.name,
        sv.name,
        runs,
        if runs == 1 { "" } else { "s" }
    );
    let plot = Distribution {
        sv,
        title: title.clone(),
    };
    let about = About {
        name: format!("{}-rto-dist-{}", slug(&s.name), slug(&sv.name)),
        kind: "rto-dist",
        title,
        caption: format!(
            "{}'s RTO in each run: how many runs fell in each bin (left) and the share of runs recovered within a given time (right). The red dashed line is the {} target; runs that never recovered are counted in the red band.",
            sv.name,
            duration(sv.targets.rto_s)
        ),
    };
    about.rendered(s, &plot, (960, 420))
}

//! The `SCENARIO-rto-dist-SERVICE` charts: one service's RTO over the runs, as a histogram and
//! an empirical CDF, and which services get one.

use super::axis::{Axis, END, NR, linear_ticks, nice_step, time_step};
use super::frame::{Swatch, legend};
use super::style::{FAIL, GRID, INK, LABEL, MUTED, NOTE, OK, PALETTE, TICK, TITLE, anchored, font};
use super::{Chart, DrawResult, Plot, render, slug};
use crate::report::markdown::{duration, odds};
use crate::report::summary::{ScenarioReport, ServiceReport};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

pub(super) struct Distribution<'a> {
    pub(super) sv: &'a ServiceReport,
    pub(super) title: String,
}

impl Distribution<'_> {
    fn finite(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.sv.samples.rto_s.iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        v
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
}

impl Plot for Distribution<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let sv = self.sv;
        let runs = sv.samples.rto_s.len();
        let nr = sv.samples.rto_s.iter().filter(|v| v.is_none()).count();
        let target = sv.targets.rto_s;
        let (x, width, target_on) = self.x_axis();
        let body = root.titled(&self.title, font(TITLE, INK))?;
        // The figures in words, under the title.
        let (sub, body) = body.split_vertically(24);
        let o = &sv.rto_met;
        let p = &sv.rto_s;
        let mut words = format!("met the {} target in {}", duration(target), odds(o));
        words.push_str(&format!(
            " · p50 {} · p90 {} · max {}",
            crate::report::markdown::figure(p.p50),
            crate::report::markdown::figure(p.p90),
            crate::report::markdown::figure(p.max)
        ));
        let (sw, sh) = sub.dim_in_pixel();
        sub.draw(&Text::new(
            words,
            (sw as i32 / 2, sh as i32 / 2),
            anchored(
                LABEL,
                if o.met == o.runs { OK } else { FAIL },
                HPos::Center,
                VPos::Center,
            ),
        ))?;
        let (head, body) = body.split_vertically(30);
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
                    format!("target {}", duration(target))
                } else {
                    format!("target {} (off the axis, to the right)", duration(target))
                },
            ),
        ];
        if nr > 0 {
            items.push((Swatch::Band(FAIL), format!("not recovered: {nr} of {runs}")));
        }
        legend(&head, &items)?;
        let (left, right) = body.split_horizontally(body.dim_in_pixel().0 / 2);
        let xf = |v: &f64| x.label(*v);
        let bins = self.bins(&x, width);
        let max_count = bins.iter().map(|b| b.2).max().unwrap_or(0).max(nr).max(1);
        let ystep = nice_step(max_count as f64, 5.0).max(1.0);
        let ytop = (max_count as f64 * 1.15).max(ystep);
        let yc = Axis::linear(
            0.0,
            ytop,
            linear_ticks(0.0, ytop, ystep, |v| format!("{v:.0}")),
        );
        let ycf = |v: &f64| yc.label(*v);

        // Histogram.
        let mut hist = ChartBuilder::on(&left)
            .margin(8)
            .margin_right(20)
            .x_label_area_size(48)
            .y_label_area_size(56)
            .build_cartesian_2d(x.clone(), yc.clone())?;
        hist.configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(MUTED.stroke_width(1))
            .x_labels(12)
            .y_labels(12)
            .x_label_formatter(&xf)
            .y_label_formatter(&ycf)
            .label_style(font(TICK, INK))
            .axis_desc_style(font(LABEL, INK))
            .x_desc("RTO")
            .y_desc("runs")
            .draw()?;
        if x.nr.is_some() {
            hist.draw_series(std::iter::once(Rectangle::new(
                [(x.nr_start(), 0.0), (END, ytop)],
                FAIL.mix(0.07).filled(),
            )))?;
        }
        for &(a, b, k) in &bins {
            if k > 0 {
                hist.draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, k as f64)],
                    PALETTE[0].mix(0.85).filled(),
                )))?;
                hist.draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, k as f64)],
                    WHITE.stroke_width(1),
                )))?;
            }
        }
        let nr_bar_half = |chart: &ChartContext<DB, Cartesian2d<Axis, Axis>>| -> i32 {
            let (l, _) = chart.backend_coord(&(x.nr_start(), 0.0));
            let (r, _) = chart.backend_coord(&(END, 0.0));
            ((r - l) as f64 * 0.25).max(3.0) as i32
        };
        if nr > 0 {
            let w = nr_bar_half(&hist);
            let (cx, base) = hist.backend_coord(&(NR, 0.0));
            let (_, top) = hist.backend_coord(&(NR, nr as f64));
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
        let target_line =
            |chart: &ChartContext<DB, Cartesian2d<Axis, Axis>>, ytop: f64| -> DrawResult<DB> {
                if target_on {
                    chart.plotting_area().draw(&DashedPathElement::new(
                        vec![(target, 0.0), (target, ytop)],
                        7,
                        4,
                        FAIL.stroke_width(2),
                    ))?;
                }
                Ok(())
            };
        target_line(&hist, ytop)?;

        // Empirical CDF.
        let yp = Axis::linear(
            0.0,
            1.05,
            (0..=4)
                .map(|i| (i as f64 * 0.25, format!("{}%", i * 25)))
                .collect(),
        );
        let ypf = |v: &f64| yp.label(*v);
        let mut cdf = ChartBuilder::on(&right)
            .margin(8)
            .margin_right(20)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d(x.clone(), yp.clone())?;
        cdf.configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(MUTED.stroke_width(1))
            .x_labels(12)
            .y_labels(12)
            .x_label_formatter(&xf)
            .y_label_formatter(&ypf)
            .label_style(font(TICK, INK))
            .axis_desc_style(font(LABEL, INK))
            .x_desc("RTO")
            .y_desc("runs recovered within")
            .draw()?;
        if x.nr.is_some() {
            cdf.draw_series(std::iter::once(Rectangle::new(
                [(x.nr_start(), 0.0), (END, 1.05)],
                FAIL.mix(0.07).filled(),
            )))?;
        }
        let sorted = self.finite();
        let total = runs.max(1) as f64;
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
        cdf.draw_series(std::iter::once(PathElement::new(
            path,
            PALETTE[0].stroke_width(3),
        )))?;
        if nr > 0 {
            // The runs that never recovered: the rest of the way to 100 %, in the band.
            let w = nr_bar_half(&cdf);
            let (cx, lo) = cdf.backend_coord(&(NR, reached));
            let (_, hi) = cdf.backend_coord(&(NR, 1.0));
            root.draw(&Rectangle::new(
                [(cx - w, hi), (cx + w, lo)],
                FAIL.mix(0.6).filled(),
            ))?;
        }
        target_line(&cdf, 1.05)?;
        Ok(())
    }
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
    let (w, h) = (960, 420);
    let (svg, png) = render(&plot, w, h)?;
    Ok(Chart {
        name: format!("{}-rto-dist-{}", slug(&s.name), slug(&sv.name)),
        scenario: s.name.clone(),
        kind: "rto-dist",
        title,
        caption: format!(
            "{}'s RTO in each run: how many runs fell in each bin (left) and the share of runs recovered within a given time (right). The red dashed line is the {} target; runs that never recovered are counted in the red band.",
            sv.name,
            duration(sv.targets.rto_s)
        ),
        width: w,
        height: h,
        svg,
        png,
    })
}

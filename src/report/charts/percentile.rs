//! The `SCENARIO-rto` and `SCENARIO-rpo` charts: per service, a bar at p50 and a whisker to the
//! max, with p90, p99 and the target marked.

use super::axis::{Axis, END, NR, log_ticks, log_top};
use super::frame::{Swatch, boxed, legend};
use super::style::{
    FAIL, GRID, INK, LABEL, MUTED, NOTE, OK, PALETTE, TICK, TITLE, anchored, font, service_color,
};
use super::{Chart, DrawResult, Plot, render, slug};
use crate::report::markdown::duration;
use crate::report::summary::{Percentiles, ScenarioReport, ServiceReport};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Metric {
    Rto,
    Rpo,
}

pub(super) struct PercentileChart<'a> {
    pub(super) s: &'a ScenarioReport,
    pub(super) metric: Metric,
    pub(super) title: String,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Rto => "RTO",
            Metric::Rpo => "RPO",
        }
    }
    fn of(self, sv: &ServiceReport) -> &Percentiles {
        match self {
            Metric::Rto => &sv.rto_s,
            Metric::Rpo => &sv.rpo_s,
        }
    }
    fn target(self, sv: &ServiceReport) -> f64 {
        match self {
            Metric::Rto => sv.targets.rto_s,
            Metric::Rpo => sv.targets.rpo_s,
        }
    }
    fn odds(self, sv: &ServiceReport) -> &crate::report::summary::Odds {
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
    fn zero_words(self) -> &'static str {
        match self {
            Metric::Rto => "never broke",
            Metric::Rpo => "nothing lost",
        }
    }
}

pub(super) fn nr_count(sv: &ServiceReport, metric: Metric) -> usize {
    match metric {
        Metric::Rto => sv.samples.rto_s.iter().filter(|x| x.is_none()).count(),
        Metric::Rpo => 0,
    }
}

impl PercentileChart<'_> {
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
        let top = log_top(unit, top * 1.5);
        let t = |v: f64| (1.0 + v / unit).log10();
        let axis = Axis {
            log_unit: Some(unit),
            lo: 0.0,
            hi: t(top),
            nr: None,
            ticks: log_ticks(unit, top),
        };
        if nr { axis.with_nr(0.14) } else { axis }
    }
}

impl Plot for PercentileChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let m = self.metric;
        let services = &self.s.services;
        let n = services.len().max(1);
        let body = root.titled(&self.title, font(TITLE, INK))?;
        let (head, body) = body.split_vertically(30);
        let mut items = vec![
            (Swatch::Bar(PALETTE[0]), "p50 (bar)".to_string()),
            (Swatch::Dot, "p90".to_string()),
            (Swatch::Triangle, "p99".to_string()),
            (Swatch::Cap, "max (whisker)".to_string()),
            (Swatch::Dashed(FAIL), "target".to_string()),
        ];
        let y = self.y_axis();
        if y.nr.is_some() {
            items.push((Swatch::Band(FAIL), "not recovered".to_string()));
        }
        legend(&head, &items)?;

        let x_ticks: Vec<(f64, String)> = services
            .iter()
            .enumerate()
            .map(|(i, sv)| (i as f64 + 0.5, sv.name.clone()))
            .collect();
        let x = Axis::linear(0.0, n as f64, x_ticks);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(12)
            .margin_right(24)
            .margin_top(6)
            .margin_bottom(4)
            .x_label_area_size(78)
            .y_label_area_size(if y.nr.is_some() { 130 } else { 80 })
            .build_cartesian_2d(x.clone(), y.clone())?;
        let xf = |v: &f64| x.label(*v);
        let yf = |v: &f64| y.label(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID.stroke_width(1))
            .axis_style(MUTED.stroke_width(1))
            .x_labels(n)
            .y_labels(20)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .label_style(font(TICK, INK))
            .axis_desc_style(font(LABEL, INK))
            .y_desc(format!("{} (log scale)", m.name()))
            .draw()?;

        if let Some(_band) = y.nr {
            let lo = y.nr_start();
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, lo), (n as f64, END)],
                FAIL.mix(0.07).filled(),
            )))?;
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(0.0, lo), (n as f64, lo)],
                4,
                4,
                FAIL.mix(0.5).stroke_width(1),
            )))?;
        }

        let runs = self.s.runs;
        for (i, sv) in services.iter().enumerate() {
            let c = i as f64 + 0.5;
            let p = m.of(sv);
            let color = service_color(i);
            let half = 0.28f64.min(0.5 * 110.0 / (960.0 / n as f64));
            let target = m.target(sv);
            // Target: a dashed line across the service's slot.
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(c - 0.46, target), (c + 0.46, target)],
                7,
                4,
                FAIL.stroke_width(2),
            )))?;
            match p.p50 {
                None => {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(c - half, 0.0), (c + half, END)],
                        FAIL.mix(0.30).filled(),
                    )))?;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(c - half, 0.0), (c + half, END)],
                        FAIL.stroke_width(2),
                    )))?;
                    let k = nr_count(sv, m);
                    chart.draw_series(std::iter::once(Text::new(
                        format!("{k}/{runs} runs"),
                        (c, NR),
                        anchored(NOTE, FAIL, HPos::Center, VPos::Center),
                    )))?;
                }
                Some(_) if p.max == Some(0.0) => {
                    let (cx, cy) = chart.backend_coord(&(c, 0.0));
                    root.draw(&Text::new(
                        m.zero_words(),
                        (cx, cy - 6),
                        anchored(NOTE, INK, HPos::Center, VPos::Bottom),
                    ))?;
                }
                Some(p50) => {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(c - half, 0.0), (c + half, p50)],
                        color.mix(0.85).filled(),
                    )))?;
                    let top = p.max.unwrap_or(NR);
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(c, p50), (c, top)],
                        INK.stroke_width(2),
                    )))?;
                    if let Some(v) = p.p90 {
                        chart.draw_series(std::iter::once(Circle::new((c, v), 4, INK.filled())))?;
                    }
                    if let Some(v) = p.p99 {
                        chart.draw_series(std::iter::once(TriangleMarker::new(
                            (c, v),
                            6,
                            INK.filled(),
                        )))?;
                    }
                    let cap = half * 0.6;
                    let cap_color = if p.max.is_some() { INK } else { FAIL };
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(c - cap, top), (c + cap, top)],
                        cap_color.stroke_width(3),
                    )))?;
                    // The figures, above the whisker (or in the band).
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
                    let (cx, cy) = chart.backend_coord(&(c, top));
                    match max {
                        // Some runs never recovered: their count beside the cap in the band,
                        // the median above the bar.
                        None => {
                            let (ex, _) = chart.backend_coord(&(c + cap, top));
                            boxed(
                                root,
                                &format!("{}/{runs} n/r", nr_count(sv, m)),
                                (ex + 5, cy),
                                FAIL,
                                (HPos::Left, VPos::Center),
                            )?;
                            let (_, by) = chart.backend_coord(&(c, p50));
                            boxed(
                                root,
                                &words,
                                (cx + 5, by - 4),
                                INK,
                                (HPos::Left, VPos::Bottom),
                            )?;
                        }
                        Some(mx) => {
                            let mut lines = vec![words];
                            if mx != p50 {
                                lines.insert(0, format!("max {}", duration(mx)));
                            }
                            let mut ly = cy - 8;
                            for text in lines.iter().rev() {
                                boxed(root, text, (cx, ly), INK, (HPos::Center, VPos::Bottom))?;
                                ly -= 16;
                            }
                        }
                    }
                }
            }
            // Under the service's name: its target and how often it was met.
            let (bx, by) = chart.backend_coord(&(c, 0.0));
            let o = m.odds(sv);
            root.draw(&Text::new(
                format!("target {}", duration(target)),
                (bx, by + 28),
                anchored(NOTE, FAIL, HPos::Center, VPos::Top),
            ))?;
            root.draw(&Text::new(
                format!("met {}/{}", o.met, o.runs),
                (bx, by + 46),
                anchored(
                    NOTE,
                    if o.met == o.runs { OK } else { FAIL },
                    HPos::Center,
                    VPos::Top,
                ),
            ))?;
        }
        Ok(())
    }
}

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
    let (w, h) = (960, 500);
    let (svg, png) = render(&plot, w, h)?;
    let what = match metric {
        Metric::Rto => {
            "longest outage of each service, from its first failed operation until operations succeeded again and steady state held"
        }
        Metric::Rpo => "longest window of acknowledged writes each service lost",
    };
    Ok(Chart {
        name: format!("{}-{}", slug(&s.name), metric.name().to_lowercase()),
        scenario: s.name.clone(),
        kind: match metric {
            Metric::Rto => "rto",
            Metric::Rpo => "rpo",
        },
        title,
        caption: format!(
            "{}: the {what}. Bars are the median (p50) over the runs, whiskers reach the worst run with p90 and p99 marked; the red dashed line is the service's own target, and under each name how many runs met it.",
            metric.name()
        ),
        width: w,
        height: h,
        svg,
        png,
    })
}

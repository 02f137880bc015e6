//! RTO and RPO against a parameter: topology A against B (`gameday compare`) or one setting
//! over its values (`gameday sweep`). One line per scenario and service through the p50 of
//! each point, a whisker up to the worst run; "not recovered" sits in a band at the top.

use super::charts::{
    Chart, DrawResult, FAIL, GRID, INK, LABEL, MUTED, NOTE, Plot, TICK, TITLE, anchored, font,
    log_ticks, log_top, render, service_color,
};
use super::summary::SuiteReport;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One line: a scenario's service, `(p50, max)` per x value (`None`: not recovered).
pub struct Line {
    pub label: String,
    pub points: Vec<(Option<f64>, Option<f64>)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Rto,
    Rpo,
}

struct Against {
    title: String,
    x_title: String,
    xs: Vec<String>,
    lines: Vec<Line>,
    unit: f64,
    top: f64,
}

impl Against {
    /// Symmetric log: 0 stays 0, `unit` is one decade.
    fn y(&self, v: f64) -> f64 {
        (1.0 + v / self.unit).log10()
    }
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 560;
const LEFT: i32 = 90;
const RIGHT: i32 = 300;
const TOP: i32 = 60;
const BOTTOM: i32 = 80;

/// The plot area in pixels: x from `x0` to `x1`, y from `y0` (top, where the "not recovered"
/// band sits) to `y1` (the x axis).
struct Frame {
    x0: i32,
    x1: i32,
    y0: i32,
    y1: i32,
    /// Height of the "not recovered" band at the top.
    band: i32,
    /// Number of x values (at least 1).
    n: i32,
    /// The top of the y axis, on the log scale.
    ymax: f64,
}

impl Frame {
    /// Pixel column of the `i`th x value: the middle of its slot.
    fn px(&self, i: usize) -> i32 {
        self.x0 + ((2 * i as i32 + 1) * (self.x1 - self.x0)) / (2 * self.n)
    }
}

impl Against {
    fn frame(&self) -> Frame {
        let (w, h) = (WIDTH as i32, HEIGHT as i32);
        Frame {
            x0: LEFT,
            x1: w - RIGHT,
            y0: TOP + 30,
            y1: h - BOTTOM,
            band: 26,
            n: self.xs.len().max(1) as i32,
            ymax: self.y(self.top),
        }
    }

    /// Pixel row of a value; `None` (not recovered) sits in the band at the top.
    fn py(&self, f: &Frame, v: Option<f64>) -> i32 {
        match v {
            None => f.y0 + f.band / 2,
            Some(v) => f.y1 - ((self.y(v) / f.ymax) * (f.y1 - f.y0 - f.band) as f64).round() as i32,
        }
    }

    /// Grid, y ticks, the "not recovered" band, the x axis with its labels and title.
    fn axes<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, f: &Frame) -> DrawResult<DB> {
        let (x0, x1, y0, y1) = (f.x0, f.x1, f.y0, f.y1);
        for (v, label) in log_ticks(self.unit, self.top) {
            let y = self.py(f, Some(v));
            root.draw(&PathElement::new(
                vec![(x0, y), (x1, y)],
                GRID.stroke_width(1),
            ))?;
            root.draw(&Text::new(
                label,
                (x0 - 8, y),
                anchored(TICK, MUTED, HPos::Right, VPos::Center),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(x0, y0), (x1, y0 + f.band)],
            FAIL.mix(0.08).filled(),
        ))?;
        root.draw(&Text::new(
            "not recovered (the band)",
            (x0, y0 - 4),
            anchored(NOTE, FAIL, HPos::Left, VPos::Bottom),
        ))?;
        root.draw(&PathElement::new(
            vec![(x0, y1), (x1, y1)],
            INK.stroke_width(1),
        ))?;
        for (i, x) in self.xs.iter().enumerate() {
            root.draw(&Text::new(
                x.clone(),
                (f.px(i), y1 + 10),
                anchored(TICK, INK, HPos::Center, VPos::Top),
            ))?;
        }
        root.draw(&Text::new(
            self.x_title.clone(),
            ((x0 + x1) / 2, HEIGHT as i32 - 24),
            anchored(LABEL, INK, HPos::Center, VPos::Center),
        ))?;
        Ok(())
    }

    /// The `k`th line: its path through the p50s, a whisker up to each worst run, its legend
    /// entry on the right.
    fn line<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        f: &Frame,
        k: usize,
        line: &Line,
    ) -> DrawResult<DB> {
        let color = service_color(k);
        let pts: Vec<(i32, i32)> = line
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (f.px(i), self.py(f, p.0)))
            .collect();
        root.draw(&PathElement::new(pts.clone(), color.stroke_width(2)))?;
        for (i, &(p50, max)) in line.points.iter().enumerate() {
            let (x, y) = (f.px(i) + (k as i32 % 5 - 2) * 3, self.py(f, p50));
            if max != p50 {
                let top = self.py(f, max);
                root.draw(&PathElement::new(
                    vec![(x, y), (x, top)],
                    color.stroke_width(1),
                ))?;
                root.draw(&PathElement::new(
                    vec![(x - 4, top), (x + 4, top)],
                    color.stroke_width(1),
                ))?;
            }
            root.draw(&Circle::new((x, y), 4, color.filled()))?;
        }
        let ly = TOP + 40 + 22 * k as i32;
        root.draw(&PathElement::new(
            vec![(f.x1 + 20, ly), (f.x1 + 44, ly)],
            color.stroke_width(3),
        ))?;
        root.draw(&Text::new(
            line.label.clone(),
            (f.x1 + 50, ly),
            anchored(NOTE, INK, HPos::Left, VPos::Center),
        ))?;
        Ok(())
    }
}

impl Plot for Against {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.draw(&Text::new(
            self.title.clone(),
            (WIDTH as i32 / 2, 18),
            anchored(TITLE, INK, HPos::Center, VPos::Top),
        ))?;
        let f = self.frame();
        self.axes(root, &f)?;
        for (k, line) in self.lines.iter().enumerate() {
            self.line(root, &f, k, line)?;
        }
        root.draw(&Text::new(
            "dot: p50 · whisker: worst run",
            (f.x1 + 20, TOP + 14),
            font(NOTE, MUTED),
        ))?;
        Ok(())
    }
}

/// Per scenario and service: the line of `metric` over the reports (one per x value).
pub fn lines(reports: &[&SuiteReport], metric: Metric) -> Vec<Line> {
    let Some(first) = reports.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (si, sc) in first.scenarios.iter().enumerate() {
        for sv in &sc.services {
            let points: Vec<(Option<f64>, Option<f64>)> = reports
                .iter()
                .map(|r| {
                    r.scenarios
                        .get(si)
                        .and_then(|s| s.services.iter().find(|v| v.name == sv.name))
                        .map_or((None, None), |v| {
                            let p = if metric == Metric::Rto {
                                &v.rto_s
                            } else {
                                &v.rpo_s
                            };
                            (p.p50, p.max)
                        })
                })
                .collect();
            // A service at zero everywhere says nothing: leave it out.
            if points
                .iter()
                .all(|&(a, b)| a == Some(0.0) && b == Some(0.0))
            {
                continue;
            }
            let label = if first.scenarios.len() > 1 {
                format!("{}: {}", sc.name, sv.name)
            } else {
                sv.name.clone()
            };
            out.push(Line { label, points });
        }
    }
    out
}

/// The chart of `metric` over `xs` (one report per x).
pub fn chart(
    name: &str,
    what: &str,
    x_title: &str,
    xs: Vec<String>,
    reports: &[&SuiteReport],
    metric: Metric,
) -> Result<Chart, String> {
    let lines = lines(reports, metric);
    let unit = if metric == Metric::Rto { 1.0 } else { 0.001 };
    let worst = lines
        .iter()
        .flat_map(|l| l.points.iter().flat_map(|p| [p.0, p.1]))
        .flatten()
        .fold(unit * 10.0, f64::max);
    let metric_name = if metric == Metric::Rto { "RTO" } else { "RPO" };
    let plot = Against {
        title: format!("{metric_name} {what}"),
        x_title: x_title.to_string(),
        xs,
        lines,
        unit,
        top: log_top(unit, worst),
    };
    let (svg, png) = render(&plot, WIDTH, HEIGHT)?;
    Ok(Chart {
        name: format!("{name}-{}", metric_name.to_lowercase()),
        scenario: String::new(),
        kind: if metric == Metric::Rto { "rto" } else { "rpo" },
        title: plot.title.clone(),
        caption: format!(
            "{metric_name} per scenario and service (services at zero throughout left out): the dot is the median run, the whisker reaches the worst."
        ),
        width: WIDTH,
        height: HEIGHT,
        svg,
        png,
    })
}

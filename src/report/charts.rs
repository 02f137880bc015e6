//! Charts of a suite's results, each rendered both as SVG (for the HTML page) and as PNG (for
//! slides), with plotters.
//!
//! Per scenario:
//!
//! | name | what |
//! |---|---|
//! | `SCENARIO-rto` | RTO per service: a bar at p50, a whisker to the max with p90 and p99 marked, each service's target as a dashed line, "not recovered" as a red bar into a band at the top |
//! | `SCENARIO-rpo` | the same for RPO |
//! | `SCENARIO-rto-dist-SERVICE` | the RTO over the runs, as a histogram and an empirical CDF, with the target marked and the runs that did not recover counted in a band of their own; one per service that missed its RTO target, else one for the worst service (none when no service ever broke) |
//! | `SCENARIO-timeline` | the first run: each service's success ratio over time in a band of its own, with the fault, detection, failover and recovery marked |
//! | `SCENARIO-lag` | the first run: each datastore's replication lag per member over the same stretch of time, with the same events marked |
//!
//! Text in PNGs is drawn with DejaVu Sans embedded in the binary (`assets/fonts`), so a PNG is
//! the same bytes on every machine; SVG text names the same font and lets the viewer draw it.
//! Everything here is a pure function of the report: no clock, no random ids.

use super::markdown::{duration, incident_start, odds, since};
use super::summary::{Percentiles, ScenarioReport, ServiceReport, SuiteReport};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// One chart, rendered both ways.
#[derive(Clone, Debug)]
pub struct Chart {
    /// File stem and `data-chart` id: `zone-loss-rto`, `table-corruption-rto-dist-accounts`.
    pub name: String,
    /// The scenario it belongs to.
    pub scenario: String,
    /// `rto`, `rpo`, `rto-dist`, `timeline` or `lag`.
    pub kind: &'static str,
    pub title: String,
    /// How to read it, one or two sentences (the HTML caption).
    pub caption: String,
    pub width: u32,
    pub height: u32,
    pub svg: String,
    pub png: Vec<u8>,
}

pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart specification that can draw itself on any plotters backend.
pub(super) trait Plot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// The family every text style names: registered with the embedded font for bitmaps, and
/// rewritten in the SVG to prefer DejaVu Sans.
const FAMILY: &str = "sans-serif";
const SVG_FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            // The font is compiled in: failing to parse it is a build defect.
            panic!("the embedded DejaVu Sans font does not parse");
        }
    });
}

/// Renders `plot` to an SVG string and a PNG.
pub(super) fn render<P: Plot>(
    plot: &P,
    width: u32,
    height: u32,
) -> Result<(String, Vec<u8>), String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| format!("{e:?}"))?;
        plot.draw(&root).map_err(|e| format!("{e:?}"))?;
        root.present().map_err(|e| format!("{e:?}"))?;
    }
    let svg = svg.replace(
        &format!("font-family=\"{FAMILY}\""),
        &format!("font-family=\"{SVG_FAMILY}\""),
    );
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| format!("{e:?}"))?;
        plot.draw(&root).map_err(|e| format!("{e:?}"))?;
        root.present().map_err(|e| format!("{e:?}"))?;
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&rgb).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
    }
    Ok((svg, png))
}

// ---------------------------------------------------------------------------------------------
// Style

pub(super) const INK: RGBColor = RGBColor(33, 37, 41);
pub(super) const MUTED: RGBColor = RGBColor(108, 117, 125);
pub(super) const GRID: RGBColor = RGBColor(222, 226, 230);
pub(super) const FAIL: RGBColor = RGBColor(200, 40, 40);
const OK: RGBColor = RGBColor(40, 130, 60);
const DETECT: RGBColor = RGBColor(213, 94, 0);
const FAILOVER: RGBColor = RGBColor(0, 114, 178);
const ALERT: RGBColor = RGBColor(148, 52, 160);
const MAINT: RGBColor = RGBColor(140, 110, 60);
/// The outage strip: a dark red, apart from the lighter red of failed operations.
const OUTAGE: RGBColor = RGBColor(120, 20, 30);

/// Service colours (Tableau 10 without its red, which means failure here).
const PALETTE: [RGBColor; 9] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(89, 161, 79),
    RGBColor(176, 122, 161),
    RGBColor(118, 183, 178),
    RGBColor(237, 201, 72),
    RGBColor(156, 117, 95),
    RGBColor(255, 157, 167),
    RGBColor(186, 176, 172),
];

pub(super) fn service_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(super) fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    let mut t = TextStyle::from((FAMILY, size).into_font());
    t.color = color.to_backend_color();
    t
}

pub(super) fn anchored(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size, color).pos(Pos::new(h, v))
}

pub(super) const TITLE: f64 = 22.0;
pub(super) const LABEL: f64 = 16.0;
pub(super) const TICK: f64 = 15.0;
pub(super) const NOTE: f64 = 14.0;

/// A legend entry's swatch.
#[derive(Clone, Copy)]
enum Swatch {
    Bar(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
    Dot,
    Triangle,
    Cap,
    Band(RGBColor),
    /// No swatch: the text alone (a heading for the entries after it).
    Label,
}

/// Draws legend entries in a row, centred in `area`.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Swatch, String)],
) -> DrawResult<DB> {
    let style = font(NOTE, INK);
    let (w, h) = area.dim_in_pixel();
    let sw = 22i32;
    let gap = 18i32;
    let widths: Vec<i32> = items
        .iter()
        .map(|(_, t)| {
            area.estimate_text_size(t, &style)
                .map(|(w, _)| w as i32)
                .unwrap_or(0)
        })
        .collect();
    let room = |s: &Swatch| {
        if matches!(s, Swatch::Label) {
            0
        } else {
            sw + 6
        }
    };
    let total: i32 = items
        .iter()
        .zip(&widths)
        .map(|((s, _), w)| room(s) + w)
        .sum::<i32>()
        + gap * (items.len() as i32 - 1).max(0);
    let mut x = ((w as i32 - total) / 2).max(4);
    let y = h as i32 / 2;
    for ((swatch, text), tw) in items.iter().zip(widths) {
        match *swatch {
            Swatch::Bar(c) => area.draw(&Rectangle::new(
                [(x, y - 6), (x + sw, y + 6)],
                c.mix(0.85).filled(),
            ))?,
            Swatch::Band(c) => {
                area.draw(&Rectangle::new(
                    [(x, y - 6), (x + sw, y + 6)],
                    c.mix(0.18).filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(x, y - 6), (x + sw, y + 6)],
                    c.stroke_width(1),
                ))?;
            }
            Swatch::Line(c) => area.draw(&PathElement::new(
                vec![(x, y), (x + sw, y)],
                c.stroke_width(3),
            ))?,
            Swatch::Dashed(c) => area.draw(&DashedPathElement::new(
                vec![(x, y), (x + sw, y)],
                5,
                3,
                c.stroke_width(2),
            ))?,
            Swatch::Dot => area.draw(&Circle::new((x + sw / 2, y), 4, INK.filled()))?,
            Swatch::Triangle => {
                area.draw(&TriangleMarker::new((x + sw / 2, y), 6, INK.filled()))?
            }
            Swatch::Cap => {
                area.draw(&PathElement::new(
                    vec![(x + 3, y - 5), (x + sw - 3, y - 5)],
                    INK.stroke_width(2),
                ))?;
                area.draw(&PathElement::new(
                    vec![(x + sw / 2, y - 5), (x + sw / 2, y + 7)],
                    INK.stroke_width(2),
                ))?;
            }
            Swatch::Label => {}
        }
        let r = room(swatch);
        area.draw(&Text::new(
            text.clone(),
            (x + r, y),
            anchored(NOTE, INK, HPos::Left, VPos::Center),
        ))?;
        x += r + tw + gap;
    }
    Ok(())
}

/// Text on a white box, readable over lines and fills; `(x, y)` is its anchor.
fn boxed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    color: RGBColor,
    (h, v): (HPos, VPos),
) -> DrawResult<DB> {
    let (w, th) = area.estimate_text_size(text, &font(NOTE, color))?;
    let (w, th) = (w as i32, th as i32);
    let x0 = match h {
        HPos::Left => x,
        HPos::Center => x - w / 2,
        HPos::Right => x - w,
    };
    let y0 = match v {
        VPos::Top => y,
        VPos::Center => y - th / 2,
        VPos::Bottom => y - th,
    };
    area.draw(&Rectangle::new(
        [(x0 - 3, y0 - 2), (x0 + w + 3, y0 + th + 3)],
        WHITE.mix(0.85).filled(),
    ))?;
    area.draw(&Text::new(
        text.to_string(),
        (x, y),
        anchored(NOTE, color, h, v),
    ))
}

// ---------------------------------------------------------------------------------------------
// Axes

/// A value drawn in the "not recovered" band (its middle).
const NR: f64 = f64::INFINITY;
/// The far end of the axis (the end of the "not recovered" band when there is one).
const END: f64 = f64::MAX;

/// An axis with ticks chosen here: linear or symmetric-log (`log10(1 + v/unit)`, so that 0
/// stays on the axis while seconds and hours both stay readable), with an optional band past
/// the end for "not recovered".
#[derive(Clone, Debug)]
struct Axis {
    log_unit: Option<f64>,
    /// The axis in transformed units; `nr` extends it.
    lo: f64,
    hi: f64,
    nr: Option<f64>,
    ticks: Vec<(f64, String)>,
}

impl Axis {
    fn linear(lo: f64, hi: f64, ticks: Vec<(f64, String)>) -> Axis {
        Axis {
            log_unit: None,
            lo,
            hi,
            nr: None,
            ticks,
        }
    }

    /// With a band for "not recovered" past the end, `frac` of the axis long.
    fn with_nr(mut self, frac: f64) -> Axis {
        let band = (self.hi - self.lo) * frac;
        self.nr = Some(band);
        // A tick just below the band would run into the band's label.
        let crowd = self.hi - (self.top() - self.lo) * 0.07;
        let t = |v: f64| match self.log_unit {
            None => v,
            Some(u) => (1.0 + v.max(0.0) / u).log10(),
        };
        if self.log_unit.is_none() {
            self.ticks.retain(|(v, _)| t(*v) <= crowd);
        }
        self.ticks.push((NR, "not recovered".into()));
        self
    }

    fn t(&self, v: f64) -> f64 {
        if v == END {
            return self.hi + self.nr.unwrap_or(0.0);
        }
        if v == NR {
            return self.hi + self.nr.map_or(0.0, |b| b / 2.0);
        }
        match self.log_unit {
            None => v,
            Some(u) => (1.0 + v.max(0.0) / u).log10(),
        }
    }

    fn top(&self) -> f64 {
        self.hi + self.nr.unwrap_or(0.0)
    }

    fn label(&self, v: f64) -> String {
        self.ticks
            .iter()
            .find(|(t, _)| *t == v)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }

    /// The data value at the start of the "not recovered" band.
    fn nr_start(&self) -> f64 {
        match self.log_unit {
            None => self.hi,
            Some(u) => (10f64.powf(self.hi) - 1.0) * u,
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (self.t(*v) - self.lo) / (self.top() - self.lo);
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let max = hint.max_num_points().max(1);
        let step = self.ticks.len().div_ceil(max).max(1);
        self.ticks.iter().step_by(step).map(|(v, _)| *v).collect()
    }

    fn range(&self) -> Range<f64> {
        let inv = |t: f64| match self.log_unit {
            None => t,
            Some(u) => (10f64.powf(t) - 1.0) * u,
        };
        inv(self.lo)..inv(self.hi)
    }
}

/// Round durations for a symmetric-log axis, from `unit` up.
pub(super) fn log_ticks(unit: f64, top: f64) -> Vec<(f64, String)> {
    const NICE: [f64; 12] = [
        0.001,
        0.01,
        0.1,
        1.0,
        10.0,
        60.0,
        600.0,
        3600.0,
        6.0 * 3600.0,
        86400.0,
        7.0 * 86400.0,
        30.0 * 86400.0,
    ];
    let mut t = vec![(0.0, "0".to_string())];
    t.extend(
        NICE.iter()
            .filter(|&&v| v >= unit * 0.999 && v <= top * 1.0001)
            .map(|&v| (v, duration(v))),
    );
    t
}

/// The smallest round duration at or above `v`, for the top of a log axis.
pub(super) fn log_top(unit: f64, v: f64) -> f64 {
    const NICE: [f64; 11] = [
        0.01,
        0.1,
        1.0,
        10.0,
        60.0,
        600.0,
        3600.0,
        6.0 * 3600.0,
        86400.0,
        7.0 * 86400.0,
        30.0 * 86400.0,
    ];
    NICE.iter()
        .copied()
        .find(|&n| n >= unit * 10.0 && n >= v)
        .unwrap_or(v)
}

/// A round step for about `n` ticks over `span` (1, 2, 5 × 10^k).
fn nice_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// A round duration step for about `n` ticks over `span` seconds.
fn time_step(span: f64, n: f64) -> f64 {
    const STEPS: [f64; 22] = [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0,
        60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ];
    let raw = span / n;
    STEPS
        .iter()
        .copied()
        .find(|&s| s >= raw)
        .unwrap_or_else(|| (raw / 3600.0).ceil() * 3600.0)
}

/// Ticks at multiples of `step` in `[lo, hi]`.
fn linear_ticks(lo: f64, hi: f64, step: f64, fmt: impl Fn(f64) -> String) -> Vec<(f64, String)> {
    let mut out = Vec::new();
    let mut k = (lo / step).ceil() as i64;
    loop {
        let v = k as f64 * step;
        if v > hi + step * 1e-6 {
            break;
        }
        // Snap -0.0 and rounding noise.
        let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
        out.push((v, fmt(v)));
        k += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// RTO and RPO per service

#[derive(Clone, Copy, PartialEq)]
enum Metric {
    Rto,
    Rpo,
}

struct PercentileChart<'a> {
    s: &'a ScenarioReport,
    metric: Metric,
    title: String,
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
    fn odds(self, sv: &ServiceReport) -> &super::summary::Odds {
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

fn nr_count(sv: &ServiceReport, metric: Metric) -> usize {
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

fn percentile_chart(s: &ScenarioReport, metric: Metric) -> Result<Chart, String> {
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

// ---------------------------------------------------------------------------------------------
// RTO distribution

struct Distribution<'a> {
    sv: &'a ServiceReport,
    title: String,
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
            super::markdown::figure(p.p50),
            super::markdown::figure(p.p90),
            super::markdown::figure(p.max)
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
fn distribution_services(s: &ScenarioReport) -> Vec<&ServiceReport> {
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

fn distribution_chart(s: &ScenarioReport, sv: &ServiceReport) -> Result<Chart, String> {
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

// ---------------------------------------------------------------------------------------------
// The first run's timeline

/// A vertical marker on the timeline.
#[derive(Clone, Debug)]
struct Marker {
    at: f64,
    /// What it marks ("fault", "promoted"…) and its label ("fault (T)", "promoted T+29.8s").
    what: &'static str,
    label: String,
    color: RGBColor,
    dashed: bool,
    /// The label's row above the plot (0 nearest it; `None`: no room) and side of the line.
    row: Option<usize>,
    left: bool,
}

/// The timeline's geometry: width, the plot's left and right edges, label rows.
const TL_WIDTH: u32 = 960;
const TL_PLOT_LEFT: i32 = 12 + 120;
const TL_PLOT_RIGHT: i32 = TL_WIDTH as i32 - 28;
const TL_MAX_ROWS: usize = 5;
const TL_ROW_H: i32 = 18;

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
struct Window {
    from: f64,
    to: f64,
    /// The incident start (first fault).
    t0: f64,
    bucket: f64,
    buckets: usize,
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

fn incident_window(s: &ScenarioReport, resolution: f64) -> Option<Window> {
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
fn window_markers(s: &ScenarioReport, w: &Window) -> (Vec<Marker>, usize) {
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

const BAND_LO: f64 = 0.1;
const BAND_H: f64 = 0.78;

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

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() < 5e-4,
        _ => false,
    }
}

fn timeline_chart(s: &ScenarioReport) -> Result<Option<Chart>, String> {
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

// ---------------------------------------------------------------------------------------------
// The first run's replication lag

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

const LAG_PANEL_H: u32 = 230;

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

fn lag_chart(s: &ScenarioReport) -> Result<Option<Chart>, String> {
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

// ---------------------------------------------------------------------------------------------

/// A file-name-safe form of a name: lower-case letters, digits, `-` and `_`.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "unnamed".into() } else { s }
}

/// Every chart of one scenario, in reading order: RTO, RPO, RTO distributions, timeline,
/// replication lag.
pub fn scenario_charts(s: &ScenarioReport) -> Result<Vec<Chart>, String> {
    let mut out = Vec::new();
    if !s.services.is_empty() {
        out.push(percentile_chart(s, Metric::Rto)?);
        out.push(percentile_chart(s, Metric::Rpo)?);
    }
    for sv in distribution_services(s) {
        out.push(distribution_chart(s, sv)?);
    }
    if let Some(c) = timeline_chart(s)? {
        out.push(c);
    }
    if let Some(c) = lag_chart(s)? {
        out.push(c);
    }
    Ok(out)
}

/// Every chart of a suite, scenario by scenario (rendered in parallel, returned in order).
/// Chart names are unique: a scenario name repeated in a suite gets a `-2`, `-3` suffix.
pub fn suite_charts(report: &SuiteReport) -> Result<Vec<Vec<Chart>>, String> {
    use rayon::prelude::*;
    let mut charts: Vec<Vec<Chart>> = report
        .scenarios
        .par_iter()
        .map(scenario_charts)
        .collect::<Result<_, _>>()?;
    let mut seen: Vec<String> = Vec::new();
    for group in &mut charts {
        for c in group.iter_mut() {
            let mut name = c.name.clone();
            let mut k = 2;
            while seen.contains(&name) {
                name = format!("{}-{k}", c.name);
                k += 1;
            }
            seen.push(name.clone());
            c.name = name;
        }
    }
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlog_axis_keeps_zero_and_orders_values() {
        let a = Axis {
            log_unit: Some(1.0),
            lo: 0.0,
            hi: (1.0f64 + 3600.0).log10(),
            nr: None,
            ticks: log_ticks(1.0, 3600.0),
        }
        .with_nr(0.1);
        let px = |v: f64| a.map(&v, (0, 1000));
        assert_eq!(px(0.0), 0);
        assert!(px(1.0) < px(10.0) && px(10.0) < px(60.0) && px(60.0) < px(3600.0));
        assert!(px(3600.0) < px(NR) && px(NR) < px(END));
        assert_eq!(px(END), 1000);
        let labels: Vec<String> = a.ticks.iter().map(|t| t.1.clone()).collect();
        assert_eq!(
            labels,
            ["0", "1s", "10s", "1m", "10m", "1h", "not recovered"]
        );
        assert!((a.nr_start() - 3600.0).abs() < 1e-6);
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(37.0, 5.0), 10.0);
        assert_eq!(nice_step(0.9, 5.0), 0.2);
        assert_eq!(time_step(154.0, 8.0), 30.0);
        assert_eq!(time_step(2853.0, 8.0), 600.0);
        let t = linear_ticks(-60.0, 95.0, 30.0, |v| format!("{v}"));
        assert_eq!(
            t.iter().map(|x| x.0).collect::<Vec<_>>(),
            [-60.0, -30.0, 0.0, 30.0, 60.0, 90.0]
        );
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("zone-loss"), "zone-loss");
        assert_eq!(slug("Zone loss/2"), "zone-loss-2");
        assert_eq!(slug(""), "unnamed");
    }
}

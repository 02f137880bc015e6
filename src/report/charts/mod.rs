//! Charts of a suite's results, each rendered both as SVG (for the HTML page) and as PNG (for
//! slides), with plotters.
//!
//! # The charts
//!
//! Per scenario, in reading order ([`scenario_charts`]; [`suite_charts`] for a whole suite):
//!
//! | name | module, function | what |
//! |---|---|---|
//! | `SCENARIO-rto` | `percentile`, `percentile_chart` | RTO per service: a bar at p50, a whisker to the max with p90 and p99 marked, each service's target as a dashed line, "not recovered" as a red bar into a band at the top |
//! | `SCENARIO-rpo` | `percentile`, `percentile_chart` | the same for RPO |
//! | `SCENARIO-rto-dist-SERVICE` | `distribution`, `distribution_chart` | the RTO over the runs, as a histogram and an empirical CDF, with the target marked and the runs that did not recover counted in a band of their own; one per service that missed its RTO target, else one for the worst service (none when no service ever broke: `distribution_services`) |
//! | `SCENARIO-timeline` | `timeline`, `timeline_chart` | the first run: each service's success ratio over time in a band of its own, with the fault, detection, failover and recovery marked |
//! | `SCENARIO-lag` | `lag`, `lag_chart` | the first run: each datastore's replication lag per member over the same stretch of time, with the same events marked |
//!
//! Each chart is a `Plot` whose `draw` reads as frame, series, legend; an `About` names it
//! and says how to read it, and `render` draws it both ways.
//!
//! # The shared scaffolding
//!
//! | module | what it holds |
//! |---|---|
//! | `style` | the embedded font, the colours (status colours, the service palette), text styles by size |
//! | `axis` | `Axis` (linear or symmetric-log, with an optional "not recovered" band past the end) and its ticks: round steps, durations (`log_ticks`, `log_top`, `linear_ticks`) |
//! | `frame` | the frame (`titled`, `words_strip`, `legend_strip` with its `Swatch`es), the plot (`Axes`: margins, label areas, grid, tick labels, descriptions, giving the `Plane` to draw on) and shared marks (`target_line`, `not_recovered_shade`, `dashed`, `boxed` text) |
//! | `window` | for the two time charts: the first run's incident `Window` and its time axis (`time_axes`), the event `Marker`s with their labels placed in rows, their lines and legend |
//!
//! `against` (the compare and sweep charts) draws with the same style, axis ticks and
//! `render`, re-exported here for it.
//!
//! Text in PNGs is drawn with DejaVu Sans embedded in the binary (`assets/fonts`), so a PNG is
//! the same bytes on every machine; SVG text names the same font and lets the viewer draw it.
//! Everything here is a pure function of the report: no clock, no random ids.

mod axis;
mod distribution;
mod frame;
mod lag;
mod percentile;
mod style;
mod timeline;
mod window;

pub(super) use axis::{log_ticks, log_top};
pub(super) use style::{
    FAIL, GRID, INK, LABEL, MUTED, NOTE, TICK, TITLE, anchored, font, service_color,
};

use super::summary::{ScenarioReport, SuiteReport};
use distribution::{distribution_chart, distribution_services};
use lag::lag_chart;
use percentile::{Metric, percentile_chart};
use plotters::coord::Shift;
use plotters::prelude::*;
use style::{FAMILY, SVG_FAMILY, register_font};
use timeline::timeline_chart;

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

/// What a chart of a scenario is called and how to read it: a [`Chart`] but for its scenario
/// and pictures.
struct About {
    /// File stem: the scenario's slug, then the chart's own part.
    name: String,
    kind: &'static str,
    title: String,
    caption: String,
}

impl About {
    /// Renders `plot` at `(width, height)` into the [`Chart`] of scenario `s` this describes.
    fn rendered<P: Plot>(
        self,
        s: &ScenarioReport,
        plot: &P,
        (width, height): (u32, u32),
    ) -> Result<Chart, String> {
        let (svg, png) = render(plot, width, height)?;
        Ok(Chart {
            name: self.name,
            scenario: s.name.clone(),
            kind: self.kind,
            title: self.title,
            caption: self.caption,
            width,
            height,
            svg,
            png,
        })
    }
}

/// What drawing on a plotters backend returns: nothing, or the backend's error.
pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart specification that can draw itself on any plotters backend.
pub(super) trait Plot {
    /// Draws the whole chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Renders `plot` to an SVG string and a PNG.
pub(super) fn render<P: Plot>(
    plot: &P,
    width: u32,
    height: u32,
) -> Result<(String, Vec<u8>), String> {
    register_font();
    let mut svg = String::new();
    paint(
        SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area(),
        plot,
    )?;
    let svg = svg.replace(
        &format!("font-family=\"{FAMILY}\""),
        &format!("font-family=\"{SVG_FAMILY}\""),
    );
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    paint(
        BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area(),
        plot,
    )?;
    Ok((svg, encode_png(&rgb, width, height)?))
}

/// Paints `plot` on `root` over a white ground and flushes it to the backend.
fn paint<DB: DrawingBackend, P: Plot>(
    root: DrawingArea<DB, Shift>,
    plot: &P,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| format!("{e:?}"))?;
    plot.draw(&root).map_err(|e| format!("{e:?}"))?;
    root.present().map_err(|e| format!("{e:?}"))
}

/// Encodes a `width`×`height` RGB bitmap as a PNG.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(rgb).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
    }
    Ok(png)
}

// ---------------------------------------------------------------------------------------------
// Names, and the charts of a scenario and of a suite

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
    fn slugs_are_file_names() {
        assert_eq!(slug("zone-loss"), "zone-loss");
        assert_eq!(slug("Zone loss/2"), "zone-loss-2");
        assert_eq!(slug(""), "unnamed");
    }
}

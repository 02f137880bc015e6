//! The scaffolding every chart shares, so that a chart's `draw` reads as frame, series, legend:
//!
//! - the frame: [`titled`] (the title), [`words_strip`] (a line of figures under it),
//!   [`legend_strip`] (a row of [`Swatch`]es and their words);
//! - the plot: [`Axes`] lays out the margins and the label areas, draws the grid, the axes,
//!   their tick labels and descriptions, and hands back the [`Plane`] to draw the series on;
//! - marks several charts draw the same way: [`target_line`], [`not_recovered_shade`],
//!   [`dashed`] lines, and [`boxed`] text that stays readable over lines and fills.
//!
//! It does not decide what a chart shows: the data, the axes' ranges and ticks (see `axis`)
//! and the series are each chart's own.

use super::DrawResult;
use super::axis::Axis;
use super::style::{FAIL, GRID, INK, LABEL, MUTED, NOTE, TICK, TITLE, anchored, font};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// The plot area of a chart: drawing on it takes data coordinates on its two axes.
pub(super) type Plane<DB> = DrawingArea<DB, Cartesian2d<Axis, Axis>>;

/// A drawing step that yields the area left to draw on, or the backend's error.
pub(super) type AreaResult<DB, CT = Shift> =
    Result<DrawingArea<DB, CT>, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

// ---------------------------------------------------------------------------------------------
// The frame: title, figures, legend

/// Draws `title` across the top of `root`; returns the area under it.
pub(super) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> AreaResult<DB> {
    root.titled(title, font(TITLE, INK))
}

/// Writes `text` centred in a strip `height` pixels tall off the top of `body`, in `color`;
/// returns the rest of `body`.
pub(super) fn words_strip<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    height: u32,
    text: String,
    color: RGBColor,
) -> AreaResult<DB> {
    let (strip, rest) = body.split_vertically(height);
    let (w, h) = strip.dim_in_pixel();
    strip.draw(&Text::new(
        text,
        (w as i32 / 2, h as i32 / 2),
        anchored(LABEL, color, HPos::Center, VPos::Center),
    ))?;
    Ok(rest)
}

/// Draws a legend in a strip `height` pixels tall off the top of `body`; returns the rest.
pub(super) fn legend_strip<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    height: u32,
    items: &[(Swatch, String)],
) -> AreaResult<DB> {
    let (strip, rest) = body.split_vertically(height);
    legend(&strip, items)?;
    Ok(rest)
}

// ---------------------------------------------------------------------------------------------
// Legends

/// A legend entry's swatch.
#[derive(Clone, Copy)]
pub(super) enum Swatch {
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

/// A swatch's width.
const SWATCH_W: i32 = 22;
/// The space between two legend entries.
const ENTRY_GAP: i32 = 18;

impl Swatch {
    /// The room the swatch takes before its text.
    fn room(self) -> i32 {
        if matches!(self, Swatch::Label) {
            0
        } else {
            SWATCH_W + 6
        }
    }

    /// Draws the swatch with its left end at `x`, centred on `y`.
    fn draw<DB: DrawingBackend>(
        self,
        area: &DrawingArea<DB, Shift>,
        (x, y): (i32, i32),
    ) -> DrawResult<DB> {
        let sw = SWATCH_W;
        let bar = [(x, y - 6), (x + sw, y + 6)];
        match self {
            Swatch::Bar(c) => area.draw(&Rectangle::new(bar, c.mix(0.85).filled())),
            Swatch::Band(c) => {
                area.draw(&Rectangle::new(bar, c.mix(0.18).filled()))?;
                area.draw(&Rectangle::new(bar, c.stroke_width(1)))
            }
            Swatch::Line(c) => area.draw(&PathElement::new(
                vec![(x, y), (x + sw, y)],
                c.stroke_width(3),
            )),
            Swatch::Dashed(c) => area.draw(&DashedPathElement::new(
                vec![(x, y), (x + sw, y)],
                5,
                3,
                c.stroke_width(2),
            )),
            Swatch::Dot => area.draw(&Circle::new((x + sw / 2, y), 4, INK.filled())),
            Swatch::Triangle => area.draw(&TriangleMarker::new((x + sw / 2, y), 6, INK.filled())),
            Swatch::Cap => {
                area.draw(&PathElement::new(
                    vec![(x + 3, y - 5), (x + sw - 3, y - 5)],
                    INK.stroke_width(2),
                ))?;
                area.draw(&PathElement::new(
                    vec![(x + sw / 2, y - 5), (x + sw / 2, y + 7)],
                    INK.stroke_width(2),
                ))
            }
            Swatch::Label => Ok(()),
        }
    }
}

/// Draws legend entries in a row, centred in `area`.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Swatch, String)],
) -> DrawResult<DB> {
    let style = font(NOTE, INK);
    let (w, h) = area.dim_in_pixel();
    let widths: Vec<i32> = items
        .iter()
        .map(|(_, t)| {
            area.estimate_text_size(t, &style)
                .map(|(w, _)| w as i32)
                .unwrap_or(0)
        })
        .collect();
    let total: i32 = items
        .iter()
        .zip(&widths)
        .map(|((s, _), w)| s.room() + w)
        .sum::<i32>()
        + ENTRY_GAP * (items.len() as i32 - 1).max(0);
    let mut x = ((w as i32 - total) / 2).max(4);
    let y = h as i32 / 2;
    for ((swatch, text), tw) in items.iter().zip(widths) {
        swatch.draw(area, (x, y))?;
        let r = swatch.room();
        area.draw(&Text::new(
            text.clone(),
            (x + r, y),
            anchored(NOTE, INK, HPos::Left, VPos::Center),
        ))?;
        x += r + tw + ENTRY_GAP;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The plot: margins, grid, axes and their labels

/// Which grid lines run across the plot.
#[derive(Clone, Copy)]
pub(super) enum Grid {
    /// At every tick of both axes.
    Both,
    /// At the value axis' ticks only (no line per category along x).
    Rows,
    /// At the x axis' ticks only (no line per band along y).
    Columns,
}

/// Space around the plot (outside its label areas), in pixels.
#[derive(Clone, Copy, Default)]
pub(super) struct Margins {
    pub(super) top: i32,
    pub(super) right: i32,
    pub(super) bottom: i32,
    pub(super) left: i32,
}

/// A plot's two axes and how they are laid out and labelled: built with the chart's own
/// numbers, then [`Axes::draw`] draws the grid and axes the same way on every chart.
pub(super) struct Axes {
    x: Axis,
    y: Axis,
    margins: Margins,
    /// The label areas' sizes: under the plot (x) and left of it (y).
    label_areas: (i32, i32),
    /// At most this many tick labels on x and on y.
    labels: (usize, usize),
    grid: Grid,
    x_desc: Option<String>,
    y_desc: Option<String>,
}

impl Axes {
    /// A plot over `x` and `y`, with no margins or label areas yet, a grid both ways and up
    /// to 20 tick labels on each axis.
    pub(super) fn new(x: Axis, y: Axis) -> Axes {
        Axes {
            x,
            y,
            margins: Margins::default(),
            label_areas: (0, 0),
            labels: (20, 20),
            grid: Grid::Both,
            x_desc: None,
            y_desc: None,
        }
    }

    /// Sets the space around the plot.
    pub(super) fn margins(mut self, margins: Margins) -> Axes {
        self.margins = margins;
        self
    }

    /// Sets the room for the tick labels and descriptions: `under` the plot, `left` of it.
    pub(super) fn label_areas(mut self, under: i32, left: i32) -> Axes {
        self.label_areas = (under, left);
        self
    }

    /// Sets the most tick labels on each axis.
    pub(super) fn labels(mut self, x: usize, y: usize) -> Axes {
        self.labels = (x, y);
        self
    }

    /// Sets which grid lines are drawn.
    pub(super) fn grid(mut self, grid: Grid) -> Axes {
        self.grid = grid;
        self
    }

    /// Sets the x axis' description (under its tick labels).
    pub(super) fn x_desc(mut self, desc: impl Into<String>) -> Axes {
        self.x_desc = Some(desc.into());
        self
    }

    /// Sets the y axis' description (beside its tick labels).
    pub(super) fn y_desc(mut self, desc: impl Into<String>) -> Axes {
        self.y_desc = Some(desc.into());
        self
    }

    /// Lays the plot out on `area`, draws its grid, axes, tick labels and descriptions, and
    /// returns the plot area to draw the series on.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> AreaResult<DB, Cartesian2d<Axis, Axis>> {
        let m = self.margins;
        let mut chart = ChartBuilder::on(area)
            .margin_top(m.top)
            .margin_right(m.right)
            .margin_bottom(m.bottom)
            .margin_left(m.left)
            .x_label_area_size(self.label_areas.0)
            .y_label_area_size(self.label_areas.1)
            .build_cartesian_2d(self.x.clone(), self.y.clone())?;
        let xf = |v: &f64| self.x.label(*v);
        let yf = |v: &f64| self.y.label(*v);
        let mut mesh = chart.configure_mesh();
        match self.grid {
            Grid::Both => {}
            Grid::Rows => {
                mesh.disable_x_mesh();
            }
            Grid::Columns => {
                mesh.disable_y_mesh();
            }
        }
        mesh.bold_line_style(GRID.stroke_width(1))
            .axis_style(MUTED.stroke_width(1))
            .x_labels(self.labels.0)
            .y_labels(self.labels.1)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .label_style(font(TICK, INK))
            .axis_desc_style(font(LABEL, INK));
        if let Some(desc) = &self.x_desc {
            mesh.x_desc(desc.clone());
        }
        if let Some(desc) = &self.y_desc {
            mesh.y_desc(desc.clone());
        }
        mesh.draw()?;
        Ok(chart.plotting_area().clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Marks several charts share

/// A dashed line through `points`: `dash` pixels drawn, `gap` skipped.
pub(super) fn dashed<DB: DrawingBackend>(
    plane: &Plane<DB>,
    points: Vec<(f64, f64)>,
    (dash, gap): (i32, i32),
    style: ShapeStyle,
) -> DrawResult<DB> {
    plane.draw(&DashedPathElement::new(points, dash, gap, style))
}

/// A target: the red dashed line from `from` to `to` that marks it on every chart.
pub(super) fn target_line<DB: DrawingBackend>(
    plane: &Plane<DB>,
    from: (f64, f64),
    to: (f64, f64),
) -> DrawResult<DB> {
    dashed(plane, vec![from, to], (7, 4), FAIL.stroke_width(2))
}

/// The pale red shade of the "not recovered" band, over the rectangle `corners`.
pub(super) fn not_recovered_shade<DB: DrawingBackend>(
    plane: &Plane<DB>,
    corners: [(f64, f64); 2],
) -> DrawResult<DB> {
    plane.draw(&Rectangle::new(corners, FAIL.mix(0.07).filled()))
}

/// Text on a white box, readable over lines and fills; `(x, y)` is its anchor.
pub(super) fn boxed<DB: DrawingBackend>(
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

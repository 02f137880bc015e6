//! The look every chart shares: the embedded font, the colours (status colours and the
//! service palette), and text styles by size. It draws nothing.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The family every text style names: registered with the embedded font for bitmaps, and
/// rewritten in the SVG to prefer DejaVu Sans.
pub(super) const FAMILY: &str = "sans-serif";
/// The fonts an SVG asks the viewer for, in order.
pub(super) const SVG_FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";
/// DejaVu Sans, compiled in so that a PNG is the same bytes on every machine.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font under [`FAMILY`] for bitmaps, once per process.
pub(super) fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            // The font is compiled in: failing to parse it is a build defect.
            panic!("the embedded DejaVu Sans font does not parse");
        }
    });
}

pub(in crate::report) const INK: RGBColor = RGBColor(33, 37, 41);
pub(in crate::report) const MUTED: RGBColor = RGBColor(108, 117, 125);
pub(in crate::report) const GRID: RGBColor = RGBColor(222, 226, 230);
pub(in crate::report) const FAIL: RGBColor = RGBColor(200, 40, 40);
pub(super) const OK: RGBColor = RGBColor(40, 130, 60);
pub(super) const DETECT: RGBColor = RGBColor(213, 94, 0);
pub(super) const FAILOVER: RGBColor = RGBColor(0, 114, 178);
pub(super) const ALERT: RGBColor = RGBColor(148, 52, 160);
pub(super) const MAINT: RGBColor = RGBColor(140, 110, 60);
/// The outage strip: a dark red, apart from the lighter red of failed operations.
pub(super) const OUTAGE: RGBColor = RGBColor(120, 20, 30);

/// Service colours (Tableau 10 without its red, which means failure here).
pub(super) const PALETTE: [RGBColor; 9] = [
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

/// Service `i`'s colour (the palette repeats past nine services).
pub(in crate::report) fn service_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Text of `size` in `color`, in the chart font.
pub(in crate::report) fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    let mut t = TextStyle::from((FAMILY, size).into_font());
    t.color = color.to_backend_color();
    t
}

/// [`font`], anchored at its `(h, v)` side rather than its top left.
pub(in crate::report) fn anchored(
    size: f64,
    color: RGBColor,
    h: HPos,
    v: VPos,
) -> TextStyle<'static> {
    font(size, color).pos(Pos::new(h, v))
}

// Text sizes, in pixels.
/// A chart's title.
pub(in crate::report) const TITLE: f64 = 22.0;
/// Axis descriptions and the line of figures under a title.
pub(in crate::report) const LABEL: f64 = 16.0;
/// Tick labels.
pub(in crate::report) const TICK: f64 = 15.0;
/// Legends, notes and marker labels.
pub(in crate::report) const NOTE: f64 = 14.0;

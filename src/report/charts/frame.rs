//! The scaffolding the charts share: legends and text on a white box. It does not decide what
//! a chart shows.

use super::DrawResult;
use super::style::{INK, NOTE, anchored, font};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

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

/// Draws legend entries in a row, centred in `area`.
pub(super) fn legend<DB: DrawingBackend>(
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

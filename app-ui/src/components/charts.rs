//! The team dashboard's charts, drawn with plotters' SVG backend into a
//! string and put into the page as markup: logs per week (or day) per
//! member as a grid whose shade is the number of logs (a person sees at a
//! glance who has been logging and who went quiet), and village coverage
//! per township as horizontal bars against the register. Sized in a
//! `viewBox`, so they scale to the tablet in either orientation.
//!
//! The drawing functions are plain Rust (tested natively); [`SvgChart`]
//! shows their output.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use yew::prelude::*;

/// Width of the drawing in SVG units; the page scales it.
const WIDTH: u32 = 760;
/// The font of labels (the page's own CJK font is used by the webview).
const FONT: &str = "sans-serif";

const INK: RGBColor = RGBColor(31, 41, 55);
const MUTED: RGBColor = RGBColor(75, 85, 99);
const LINE: RGBColor = RGBColor(209, 213, 219);
const EMPTY: RGBColor = RGBColor(241, 245, 241);
const GREEN: RGBColor = RGBColor(21, 128, 61);
const PALE: RGBColor = RGBColor(220, 252, 231);
const RED: RGBColor = RGBColor(185, 28, 28);

fn label(size: f64, color: &'static RGBColor, pos: Pos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(color)
        .pos(pos)
}

/// One row of the activity grid: a member and their counts per column.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityRow {
    /// The member's name.
    pub name: String,
    /// Counted logs per column.
    pub counts: Vec<u32>,
    /// Whether the member is silent (drawn in red).
    pub silent: bool,
}

/// Keeps a label short enough for its column (by characters).
fn short(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        text.chars()
            .take(chars.saturating_sub(1))
            .collect::<String>()
            + "…"
    }
}

/// The shade of a cell with `n` logs when the busiest cell has `max`.
fn shade(n: u32, max: u32) -> RGBColor {
    if n == 0 || max == 0 {
        return EMPTY;
    }
    let f = 0.3 + 0.7 * f64::from(n) / f64::from(max);
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    RGBColor(
        mix(PALE.0, GREEN.0),
        mix(PALE.1, GREEN.1),
        mix(PALE.2, GREEN.2),
    )
}

/// The activity grid: a row per member, a column per period (labelled
/// with `columns`), each cell shaded by its number of logs (the number
/// written in it when columns are wide enough).
pub fn activity_svg(rows: &[ActivityRow], columns: &[String]) -> String {
    let name_w = 120i32;
    let top = 36i32;
    let row_h = 36i32;
    let cols = columns.len().max(1) as i32;
    let cell_w = ((WIDTH as i32 - name_w - 10) / cols).max(4);
    let height = (top + row_h * rows.len().max(1) as i32 + 12) as u32;
    let max = rows
        .iter()
        .flat_map(|r| r.counts.iter().copied())
        .max()
        .unwrap_or(0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        // Column labels: every column when few, else about every fourth.
        let every = if cols <= 12 { 1 } else { (cols + 9) / 10 };
        for (i, c) in columns.iter().enumerate() {
            if i as i32 % every != 0 {
                continue;
            }
            let x = name_w + i as i32 * cell_w + cell_w / 2;
            let _ = root.draw(&Text::new(
                c.clone(),
                (x, top - 10),
                label(17.0, &MUTED, Pos::new(HPos::Center, VPos::Bottom)),
            ));
        }
        for (r, row) in rows.iter().enumerate() {
            let y = top + r as i32 * row_h;
            let color: &'static RGBColor = if row.silent { &RED } else { &INK };
            let _ = root.draw(&Text::new(
                short(&row.name, 6),
                (name_w - 10, y + row_h / 2),
                label(22.0, color, Pos::new(HPos::Right, VPos::Center)),
            ));
            for (i, n) in row.counts.iter().enumerate() {
                let x = name_w + i as i32 * cell_w;
                let _ = root.draw(&Rectangle::new(
                    [(x + 1, y + 2), (x + cell_w - 1, y + row_h - 2)],
                    shade(*n, max).filled(),
                ));
                if *n > 0 && cell_w >= 24 {
                    let ink: &'static RGBColor = if f64::from(*n) > f64::from(max) * 0.5 {
                        &WHITE
                    } else {
                        &INK
                    };
                    let _ = root.draw(&Text::new(
                        n.to_string(),
                        (x + cell_w / 2, y + row_h / 2),
                        label(18.0, ink, Pos::new(HPos::Center, VPos::Center)),
                    ));
                }
            }
        }
        let _ = root.present();
    }
    svg
}

/// One bar of the coverage chart: a township and its villages.
#[derive(Clone, Debug, PartialEq)]
pub struct CoverageBar {
    /// The township's name.
    pub name: String,
    /// Villages covered.
    pub covered: u32,
    /// Villages in the register.
    pub villages: u32,
}

/// Village coverage per township: a horizontal bar each, the covered share
/// in green over the whole in pale, `covered/villages` written after it;
/// an axis from 0 to 100 %.
pub fn coverage_svg(bars: &[CoverageBar]) -> String {
    let row_h = 34u32;
    let height = 50 + row_h * bars.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let n = bars.len().max(1) as f64;
        let names: Vec<String> = bars.iter().map(|b| short(&b.name, 6)).collect();
        let chart = ChartBuilder::on(&root)
            .margin_right(64)
            .margin_top(8)
            .x_label_area_size(30)
            .y_label_area_size(118)
            .build_cartesian_2d(0f64..100f64, -0.5f64..(n - 0.5));
        if let Ok(mut chart) = chart {
            draw_bars(&mut chart, bars, &names, n);
        }
        let _ = root.present();
    }
    svg
}

type BarChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_bars(chart: &mut BarChart<'_, '_>, bars: &[CoverageBar], names: &[String], n: f64) {
    let _ = chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(LINE.mix(0.5))
        .bold_line_style(LINE)
        .y_labels(bars.len().max(1))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 0.01 && i >= 0.0 {
                // Top to bottom in the order given.
                let at = (n - 1.0 - i) as usize;
                names.get(at).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|x| format!("{x:.0}%"))
        .label_style((FONT, 20).into_font().color(&INK))
        .axis_style(LINE)
        .draw();
    for (i, b) in bars.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        let share = if b.villages == 0 {
            0.0
        } else {
            100.0 * f64::from(b.covered) / f64::from(b.villages)
        };
        let _ = chart.draw_series([
            Rectangle::new([(0.0, y - 0.35), (100.0, y + 0.35)], PALE.filled()),
            Rectangle::new([(0.0, y - 0.35), (share, y + 0.35)], GREEN.filled()),
        ]);
        let _ = chart.draw_series(std::iter::once(Text::new(
            format!("{}/{}", b.covered, b.villages),
            (100.0, y),
            TextStyle::from((FONT, 16).into_font())
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )));
    }
}

/// Properties of [`SvgChart`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct SvgChartProps {
    /// The SVG markup, as [`activity_svg`] or [`coverage_svg`] draw it.
    pub svg: AttrValue,
    /// What the chart shows, for screen readers.
    pub label: AttrValue,
    /// A `data-testid`.
    pub test_id: AttrValue,
}

/// A chart drawn by plotters, scaled to its container.
#[component]
pub fn SvgChart(props: &SvgChartProps) -> Html {
    html! {
        <figure class="chart" role="img" aria-label={props.label.clone()} data-testid={props.test_id.clone()}>
            { Html::from_html_unchecked(props.svg.clone()) }
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_activity_grid_has_a_row_per_member_and_a_cell_per_column() {
        let rows = vec![
            ActivityRow {
                name: "张三".into(),
                counts: vec![0, 3, 1],
                silent: false,
            },
            ActivityRow {
                name: "王芳<script>".into(),
                counts: vec![0, 0, 0],
                silent: true,
            },
        ];
        let cols = vec!["11-02".to_owned(), "11-09".into(), "11-16".into()];
        let svg = activity_svg(&rows, &cols);
        assert!(svg.starts_with("<svg") && svg.contains("viewBox"), "{svg}");
        assert!(svg.contains("张三") && svg.contains("11-09"));
        assert!(!svg.contains("<script>"), "names are escaped: {svg}");
        // 6 cells and the background.
        assert_eq!(svg.matches("<rect").count(), 7, "{svg}");
        assert!(
            svg.contains(">3<") || svg.contains(">\n3\n<"),
            "counts written in wide cells: {svg}"
        );
        assert!(svg.contains("#B91C1C"), "a silent member in red: {svg}");
    }

    #[test]
    fn coverage_bars_show_each_township_and_its_share() {
        let bars = vec![
            CoverageBar {
                name: "凤仪街道".into(),
                covered: 3,
                villages: 12,
            },
            CoverageBar {
                name: "瑞溪镇".into(),
                covered: 0,
                villages: 9,
            },
        ];
        let svg = coverage_svg(&bars);
        for text in ["凤仪街道", "瑞溪镇", "3/12", "0/9", "100%"] {
            assert!(svg.contains(text), "missing {text:?} in {svg}");
        }
    }
}

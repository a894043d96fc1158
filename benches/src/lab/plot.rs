//! Charts as SVG (plotters, SVG backend only): line charts of a figure
//! against a size or a count ([`line_chart`]), and forest plots of ratios
//! with their intervals against reference lines ([`forest_chart`]).

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line: a name for the legend and its points.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// `(x, y)` points, in order of `x`.
    pub points: Vec<(f64, f64)>,
}

/// Axes and labels of a chart.
pub struct Chart<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Label of the x axis.
    pub x_label: &'a str,
    /// Label of the y axis.
    pub y_label: &'a str,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Label only whole numbers on the x axis (thread counts).
    pub whole_x: bool,
}

/// Writes `series` as an SVG line chart at `path`.
pub fn line_chart(path: &Path, chart: &Chart<'_>, series: &[Series]) -> Result<(), String> {
    let points = series.iter().flat_map(|s| s.points.iter().copied());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return Err("nothing to plot".to_owned());
    }
    // Log axes get half a decade of air; linear ones start at zero, as a
    // throughput or a time should.
    let (x0, x1) = if chart.log_x {
        (x0 / 1.5, x1 * 1.5)
    } else {
        ((x0 - 0.5).max(0.0), x1 + 0.5)
    };
    let (y0, y1) = if chart.log_y {
        (y0 / 1.5, y1 * 1.5)
    } else {
        (y0.min(0.0), y1 * 1.1 + 1e-9)
    };
    match (chart.log_x, chart.log_y) {
        (false, false) => draw(path, chart, series, x0..x1, y0..y1),
        (true, false) => draw(path, chart, series, (x0..x1).log_scale(), y0..y1),
        (false, true) => draw(path, chart, series, x0..x1, (y0..y1).log_scale()),
        (true, true) => draw(
            path,
            chart,
            series,
            (x0..x1).log_scale(),
            (y0..y1).log_scale(),
        ),
    }
}

fn draw<X, Y>(path: &Path, chart: &Chart<'_>, series: &[Series], x: X, y: Y) -> Result<(), String>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("plotting {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut ctx = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .map_err(|e| err(&e))?;
    ctx.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .x_label_formatter(&|v| {
            if chart.whole_x && (v - v.round()).abs() > 1e-9 {
                String::new()
            } else {
                short(*v)
            }
        })
        .y_label_formatter(&|v| short(*v))
        .draw()
        .map_err(|e| err(&e))?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        ctx.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        ctx.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )
        .map_err(|e| err(&e))?;
    }
    finish(&mut ctx, &root, SeriesLabelPosition::UpperLeft).map_err(|e| err(&e))
}

/// One row of a forest plot: a figure (a median ratio) and its 95%
/// interval.
pub struct Estimate {
    /// The row's label, left of the axis.
    pub label: String,
    /// Which series the row belongs to (its colour and legend entry), as an
    /// index into [`Forest::groups`].
    pub group: usize,
    /// The figure.
    pub median: f64,
    /// Its interval; `None` when there were too few samples for one.
    pub interval: Option<(f64, f64)>,
}

/// Axes, legend and reference lines of a forest plot.
pub struct Forest<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Label of the x axis.
    pub x_label: &'a str,
    /// The legend: one name per group of rows.
    pub groups: &'a [&'a str],
    /// Vertical lines, each at an x with a label for the legend (`1.00×:
    /// no difference`, `1.02×: the 2% target`).
    pub lines: &'a [(f64, &'a str)],
    /// A logarithmic x axis, for ratios that span more than a few times.
    pub log_x: bool,
}

/// Writes `rows`, top to bottom, as an SVG forest plot at `path`: each row
/// a dot at its figure and a bar over its interval, dashed vertical lines at
/// the reference values.
pub fn forest_chart(path: &Path, chart: &Forest<'_>, rows: &[Estimate]) -> Result<(), String> {
    let (x0, x1) = forest_range(rows, chart.lines, chart.log_x).ok_or("nothing to plot")?;
    if chart.log_x {
        draw_forest(path, chart, rows, (x0..x1).log_scale())
    } else {
        draw_forest(path, chart, rows, x0..x1)
    }
}

fn draw_forest<X>(path: &Path, chart: &Forest<'_>, rows: &[Estimate], x: X) -> Result<(), String>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let n = rows.len() as i32;
    // Empty rows below the last, where the legend goes, one per entry.
    let legend = (chart.lines.len() + chart.groups.len()) as i32;
    let height = 110 + 18 * (rows.len() as u32 + legend as u32);
    let root = SVGBackend::new(path, (720, height)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("plotting {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let label_width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0) as u32;
    let mut ctx = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(16 + 7 * label_width)
        .build_cartesian_2d(x, -1 - legend..n)
        .map_err(|e| err(&e))?;
    // Row i is drawn at y = n − 1 − i, so that the first row is on top.
    let label_of = |y: &i32| {
        usize::try_from(n - 1 - *y)
            .ok()
            .and_then(|i| rows.get(i))
            .map_or(String::new(), |r| r.label.clone())
    };
    ctx.configure_mesh()
        .x_desc(chart.x_label)
        .x_label_formatter(&|v| format!("{v:.2}"))
        .y_labels(rows.len() + 2 + legend as usize)
        .y_label_formatter(&label_of)
        .disable_y_mesh()
        .draw()
        .map_err(|e| err(&e))?;
    for (k, &(x, name)) in chart.lines.iter().enumerate() {
        let color = BLACK.mix(0.35 + 0.2 * (k % 3) as f64);
        ctx.draw_series(DashedLineSeries::new(
            vec![(x, -1 - legend), (x, n)],
            6,
            4,
            color.stroke_width(1),
        ))
        .map_err(|e| err(&e))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(1)));
    }
    for (g, name) in chart.groups.iter().enumerate() {
        let color = FOREST_COLORS[g % FOREST_COLORS.len()];
        let mine: Vec<(i32, &Estimate)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.group == g && r.median.is_finite())
            .map(|(i, r)| (n - 1 - i as i32, r))
            .collect();
        ctx.draw_series(mine.iter().filter_map(|&(y, r)| {
            let (low, high) = r.interval?;
            Some(PathElement::new(
                vec![(low, y), (high, y)],
                color.stroke_width(2),
            ))
        }))
        .map_err(|e| err(&e))?;
        ctx.draw_series(
            mine.iter()
                .map(|&(y, r)| Circle::new((r.median, y), 4, color.filled())),
        )
        .map_err(|e| err(&e))?
        .label(*name)
        .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
    }
    finish(&mut ctx, &root, SeriesLabelPosition::LowerRight).map_err(|e| err(&e))
}

/// Colours of a forest plot's groups: distinct on white and for the
/// common kinds of colour blindness (the first of matplotlib's `tab10`).
const FOREST_COLORS: [RGBColor; 5] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
];

/// The x range of a forest plot: every figure, interval end and reference
/// line, with a tenth of the span (of a log axis: a tenth of the ratio) as
/// air on each side; `None` when there is nothing finite to show.
fn forest_range(rows: &[Estimate], lines: &[(f64, &str)], log_x: bool) -> Option<(f64, f64)> {
    let xs = rows
        .iter()
        .flat_map(|r| {
            let (low, high) = r.interval.unwrap_or((r.median, r.median));
            [r.median, low, high]
        })
        .chain(lines.iter().map(|&(x, _)| x))
        .filter(|x| x.is_finite());
    let (lo, hi) = xs.fold(None, |range: Option<(f64, f64)>, x| match range {
        None => Some((x, x)),
        Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
    })?;
    if log_x {
        let air = (hi / lo).powf(0.1).max(1.01);
        return Some((lo / air, hi * air));
    }
    let air = ((hi - lo) / 10.0).max(0.005);
    Some((lo - air, hi + air))
}

/// A tick label without a long tail of digits: whole numbers as they are
/// up to 9,999, then `10k`, `2M`.
fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

/// `v` with at most two decimals and no trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// Draws the legend of a finished chart at `position` and writes the file.
fn finish<'a, X, Y>(
    ctx: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    position: SeriesLabelPosition,
) -> Result<(), Box<dyn std::error::Error + 'a>>
where
    X: Ranged,
    Y: Ranged,
{
    ctx.configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{forest_chart, forest_range, Estimate, Forest};

    fn estimate(median: f64, interval: Option<(f64, f64)>) -> Estimate {
        Estimate {
            label: "row".to_owned(),
            group: 0,
            median,
            interval,
        }
    }

    #[test]
    fn a_forest_spans_every_interval_and_reference_line() {
        let rows = [
            estimate(1.01, Some((0.98, 1.05))),
            estimate(1.2, None),
            estimate(f64::NAN, None),
        ];
        for log_x in [false, true] {
            let (lo, hi) = forest_range(&rows, &[(1.0, "1.00×"), (1.03, "3%")], log_x).unwrap();
            assert!(lo < 0.98 && hi > 1.2, "{lo}..{hi}");
            assert_eq!(forest_range(&[], &[], log_x), None);
            assert_eq!(forest_range(&[estimate(f64::NAN, None)], &[], log_x), None);
        }
    }

    #[test]
    fn a_forest_is_written_as_svg() {
        let path = std::env::temp_dir().join(format!("brisk-forest-{}.svg", std::process::id()));
        let rows = [estimate(1.01, Some((0.98, 1.05))), estimate(1.2, None)];
        let chart = Forest {
            title: "t",
            x_label: "x",
            groups: &["g"],
            lines: &[(1.0, "no difference")],
            log_x: false,
        };
        for log_x in [false, true] {
            forest_chart(&path, &Forest { log_x, ..chart }, &rows).unwrap();
            let svg = std::fs::read_to_string(&path).unwrap();
            let _ = std::fs::remove_file(&path);
            assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
            assert!(svg.contains("no difference"));
        }
    }
}

//! SVG charts for the HTML reports, written by hand into strings: no script, no network,
//! one file. Every chart has a `<title>`, an x and a y axis (`<g class="axis x">`,
//! `<g class="axis y">`, each with its label), and a legend drawn outside the plot area
//! (`<g class="legend">`, between the title and the plot). Every point and bar carries
//! an SVG `<title>`, so a browser shows its exact value on hover.
//!
//! Two kinds: [`line_chart`] (linear, log and HdrHistogram-percentile axes) and
//! [`bar_chart`] (horizontal bars in groups, every bar labelled with its value).
//! Tick labels never overlap: tick sets are chosen for the pixels available, and a label
//! that would touch its neighbour is dropped.

use std::fmt::Write as _;

/// Average advance of one character at the chart font (12 px sans-serif), for layout.
const CHAR_PX: f64 = 6.8;
/// Height of a line of chart text.
const LINE_PX: f64 = 16.0;

/// The colour of a protocol, the same in every chart and table of every report.
pub fn protocol_color(protocol: &str) -> &'static str {
    match protocol {
        "rest" => "#1f6fb4",
        "graphql" => "#e07b00",
        "grpc" => "#1a9e5c",
        "wire" => "#c43c8a",
        "tcp-floor" => "#555555",
        "http1-floor" => "#8c6d31",
        "h2-floor" => "#6f6cb0",
        "graphql-floor" => "#c9a86b",
        "pgbench-floor" => "#336699",
        other => {
            const SPARE: [&str; 4] = ["#17becf", "#bcbd22", "#8c564b", "#7f7f7f"];
            let sum: usize = other.bytes().map(usize::from).sum();
            SPARE[sum % SPARE.len()]
        }
    }
}

/// The dash pattern a protocol's lines use: floors are dashed, the APIs solid.
pub fn protocol_dash(protocol: &str) -> Option<&'static str> {
    protocol.ends_with("-floor").then_some("7 4")
}

/// Escapes text for SVG and HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn text_px(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_PX
}

/// How an axis maps values to pixels and labels its ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Linear from `min` to `max`.
    Linear,
    /// Logarithmic (base 10); `min` must be positive.
    Log,
    /// The HdrHistogram percentile axis: a value `x` is the quantile `1 - 10^-x`, so
    /// 0 is the 0th percentile, 1 the 90th, 2 the 99th, 3 the 99.9th.
    Percentile,
}

/// One axis.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Shown beside the axis.
    pub label: String,
    /// The mapping.
    pub scale: Scale,
    /// Smallest value shown.
    pub min: f64,
    /// Largest value shown.
    pub max: f64,
    /// Ticks at exactly these values (e.g. the concurrencies measured) instead of
    /// computed ones.
    pub ticks: Option<Vec<f64>>,
    /// How a tick value is written.
    pub format: fn(f64) -> String,
}

impl Axis {
    fn position(&self, value: f64, from: f64, to: f64) -> f64 {
        let (lo, hi, v) = match self.scale {
            Scale::Log => (
                self.min.max(f64::MIN_POSITIVE).log10(),
                self.max.max(f64::MIN_POSITIVE).log10(),
                value.max(f64::MIN_POSITIVE).log10(),
            ),
            Scale::Linear | Scale::Percentile => (self.min, self.max, value),
        };
        if (hi - lo).abs() < f64::EPSILON {
            return from;
        }
        from + (v - lo) / (hi - lo) * (to - from)
    }

    /// Tick values for an axis `pixels` long, at least `gap` pixels apart.
    fn tick_values(&self, pixels: f64, gap: f64) -> Vec<f64> {
        if let Some(ticks) = &self.ticks {
            return ticks.clone();
        }
        match self.scale {
            Scale::Linear => linear_ticks(self.min, self.max, pixels, gap),
            Scale::Log => log_ticks(self.min, self.max, pixels, gap),
            Scale::Percentile => {
                let mut ticks = vec![0.0, 2f64.log10()];
                let mut x = 1.0;
                while x <= self.max + 1e-9 {
                    ticks.push(x);
                    x += 1.0;
                }
                ticks
            }
        }
    }
}

/// Labels for the percentile axis: 0%, 50%, 90%, 99%, 99.9% ...
pub fn percentile_label(x: f64) -> String {
    if x <= 0.0 {
        return "0%".to_owned();
    }
    let pct = (1.0 - 10f64.powf(-x)) * 100.0;
    let decimals = (x.round() as i64 - 2).max(0) as usize;
    format!("{pct:.decimals$}%")
}

/// A "nice" step (1, 2 or 5 times a power of ten) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * power >= raw {
            return m * power;
        }
    }
    10.0 * power
}

/// A round upper bound for a linear axis from 0: `max` rounded up to a nice step.
pub fn nice_max(max: f64) -> f64 {
    let step = nice_step(max / 5.0);
    (max / step).ceil().max(1.0) * step
}

fn linear_ticks(min: f64, max: f64, pixels: f64, gap: f64) -> Vec<f64> {
    let slots = (pixels / gap).floor().max(1.0);
    let step = nice_step((max - min) / slots);
    let mut ticks = Vec::new();
    let mut v = (min / step).ceil() * step;
    while v <= max + step * 1e-9 {
        ticks.push(v);
        v += step;
    }
    ticks
}

fn log_ticks(min: f64, max: f64, pixels: f64, gap: f64) -> Vec<f64> {
    let (lo, hi) = (min.max(f64::MIN_POSITIVE).log10(), max.max(1.0).log10());
    let per_decade = pixels / (hi - lo).max(1e-9);
    let candidates: [&[f64]; 3] = [&[1.0, 2.0, 5.0], &[1.0, 3.0], &[1.0]];
    for mantissas in candidates {
        let ticks = decade_ticks(min, max, mantissas, 1);
        let tight = ticks.windows(2).all(|w| {
            let px = (w[1].log10() - w[0].log10()) * per_decade;
            px >= gap
        });
        if tight && !ticks.is_empty() {
            return ticks;
        }
    }
    let every = (gap / per_decade).ceil().max(1.0) as i32;
    decade_ticks(min, max, &[1.0], every)
}

fn decade_ticks(min: f64, max: f64, mantissas: &[f64], every: i32) -> Vec<f64> {
    let first = min.max(f64::MIN_POSITIVE).log10().floor() as i32;
    let last = max.max(1.0).log10().ceil() as i32;
    let mut ticks = Vec::new();
    for decade in first..=last {
        if (decade - first) % every != 0 {
            continue;
        }
        for m in mantissas {
            let v = m * 10f64.powi(decade);
            if v >= min * 0.999 && v <= max * 1.001 {
                ticks.push(v);
            }
        }
    }
    ticks
}

/// Round bounds for a log axis around `lo..hi`: to the 1-2-5 value at or below and at
/// or above.
pub fn log_bounds(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.max(1.0);
    let hi = hi.max(lo * 2.0);
    let down = {
        let power = 10f64.powf(lo.log10().floor());
        [5.0, 2.0, 1.0]
            .into_iter()
            .map(|m| m * power)
            .find(|v| *v <= lo)
            .unwrap_or(power)
    };
    let up = {
        let power = 10f64.powf(hi.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|v| *v >= hi)
            .unwrap_or(10.0 * power)
    };
    (down, up)
}

/// What a legend entry shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swatch {
    /// A short line, in the entry's colour and dash.
    Line,
    /// A filled box.
    Box,
    /// A pale box (the lighter part of a stacked bar).
    Pale,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct LegendItem {
    /// Its text.
    pub label: String,
    /// CSS colour.
    pub color: String,
    /// SVG dash array for a line swatch.
    pub dash: Option<&'static str>,
    /// The swatch.
    pub swatch: Swatch,
}

impl LegendItem {
    /// A protocol's entry, in its colour.
    pub fn protocol(protocol: &str, label: &str, swatch: Swatch) -> Self {
        LegendItem {
            label: label.to_owned(),
            color: protocol_color(protocol).to_owned(),
            dash: if swatch == Swatch::Line {
                protocol_dash(protocol)
            } else {
                None
            },
            swatch,
        }
    }
}

/// Lays out legend entries in rows across `width`, from `top`; returns the SVG and the
/// height used.
fn legend(items: &[LegendItem], left: f64, width: f64, top: f64) -> (String, f64) {
    let mut svg = String::from("<g class=\"legend\">");
    let (mut x, mut y) = (left, top);
    for item in items {
        let w = 22.0 + text_px(&item.label) + 14.0;
        if x > left && x + w > left + width {
            x = left;
            y += LINE_PX + 2.0;
        }
        let mid = y + LINE_PX / 2.0;
        match item.swatch {
            Swatch::Line => {
                let dash = item
                    .dash
                    .map_or_else(String::new, |d| format!(" stroke-dasharray=\"{d}\""));
                let _ = write!(
                    svg,
                    "<line x1=\"{x:.1}\" y1=\"{mid:.1}\" x2=\"{:.1}\" y2=\"{mid:.1}\" stroke=\"{}\" stroke-width=\"2.5\"{dash}/>",
                    x + 16.0,
                    escape(&item.color)
                );
            }
            Swatch::Box | Swatch::Pale => {
                let opacity = if item.swatch == Swatch::Pale {
                    " fill-opacity=\"0.35\""
                } else {
                    ""
                };
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"16\" height=\"10\" fill=\"{}\"{opacity}/>",
                    mid - 5.0,
                    escape(&item.color)
                );
            }
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x + 21.0,
            mid + 4.0,
            escape(&item.label)
        );
        x += w;
    }
    svg.push_str("</g>");
    (svg, y + LINE_PX - top)
}

/// The chart's frame: `<svg>`, its `<title>` and the visible title.
fn open(svg: &mut String, title: &str, width: f64, height: f64) {
    let _ = write!(
        svg,
        "<svg class=\"chart\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><text class=\"chart-title\" x=\"10\" y=\"18\">{t}</text>",
        t = escape(title)
    );
}

/// One line of a [`LineChart`].
#[derive(Debug, Clone)]
pub struct Line {
    /// CSS colour.
    pub color: String,
    /// SVG dash array, if dashed.
    pub dash: Option<&'static str>,
    /// Points in data coordinates, in order.
    pub points: Vec<(f64, f64)>,
    /// Marked points with their hover text.
    pub marks: Vec<(f64, f64, String)>,
    /// Hover text for the whole line.
    pub title: String,
}

/// A line chart.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Shown above the legend, and as the SVG's `<title>`.
    pub title: String,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
    /// The lines, drawn in order.
    pub lines: Vec<Line>,
    /// The legend, above the plot.
    pub legend: Vec<LegendItem>,
    /// Pixels.
    pub width: f64,
    /// Pixels of the plot area alone.
    pub plot_height: f64,
}

/// Draws a [`LineChart`] as an `<svg>` element.
pub fn line_chart(chart: &LineChart) -> String {
    let (left, right) = (64.0, 16.0);
    let plot_w = chart.width - left - right;
    let (legend_svg, legend_h) = legend(&chart.legend, 10.0, chart.width - 20.0, 28.0);
    let top = 28.0 + legend_h + 10.0;
    let bottom = top + chart.plot_height;
    let height = bottom + 44.0;
    let mut svg = String::new();
    open(&mut svg, &chart.title, chart.width, height);
    svg.push_str(&legend_svg);
    let px = |x: f64| chart.x.position(x, left, left + plot_w);
    let py = |y: f64| chart.y.position(y, bottom, top);

    // y axis: grid lines, ticks, labels.
    svg.push_str("<g class=\"axis y\">");
    let mut last_y = f64::INFINITY;
    for v in chart.y.tick_values(chart.plot_height, LINE_PX + 4.0) {
        let y = py(v);
        if y < top - 0.5 || y > bottom + 0.5 {
            continue;
        }
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>",
            left + plot_w
        );
        if last_y - y >= LINE_PX {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                y + 4.0,
                escape(&(chart.y.format)(v))
            );
            last_y = y;
        }
    }
    let _ = write!(
        svg,
        "<line class=\"axis-line\" x1=\"{left:.1}\" y1=\"{top:.1}\" x2=\"{left:.1}\" y2=\"{bottom:.1}\"/><text class=\"axis-label\" transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text></g>",
        f64::midpoint(top, bottom),
        escape(&chart.y.label)
    );

    // x axis.
    svg.push_str("<g class=\"axis x\">");
    let mut last_right = f64::NEG_INFINITY;
    for v in chart.x.tick_values(plot_w, 60.0) {
        let x = px(v);
        if x < left - 0.5 || x > left + plot_w + 0.5 {
            continue;
        }
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/>"
        );
        let label = (chart.x.format)(v);
        let half = text_px(&label) / 2.0;
        // Keep labels inside the chart and apart from each other.
        let centre = x.clamp(half + 2.0, chart.width - half - 2.0);
        if centre - half >= last_right + 6.0 {
            let _ = write!(
                svg,
                "<text x=\"{centre:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                bottom + 16.0,
                escape(&label)
            );
            last_right = centre + half;
        }
    }
    let _ = write!(
        svg,
        "<line class=\"axis-line\" x1=\"{left:.1}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\"/><text class=\"axis-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
        left + plot_w,
        left + plot_w / 2.0,
        bottom + 36.0,
        escape(&chart.x.label)
    );

    // The data, clipped to the plot.
    svg.push_str("<g class=\"plot\">");
    for line in &chart.lines {
        let points: Vec<String> = line
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y).clamp(top, bottom)))
            .collect();
        let dash = line
            .dash
            .map_or_else(String::new, |d| format!(" stroke-dasharray=\"{d}\""));
        let color = escape(&line.color);
        if points.len() > 1 {
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash} points=\"{}\"><title>{}</title></polyline>",
                points.join(" "),
                escape(&line.title)
            );
        }
        for (x, y, title) in &line.marks {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"><title>{}</title></circle>",
                px(*x),
                py(*y).clamp(top, bottom),
                escape(title)
            );
        }
    }
    svg.push_str("</g></svg>");
    svg
}

/// One bar of a [`BarChart`].
#[derive(Debug, Clone)]
pub struct Bar {
    /// Left of the bar (the protocol).
    pub label: String,
    /// Its length.
    pub value: f64,
    /// The solid part, when the bar is stacked (the rest is drawn pale).
    pub solid: Option<f64>,
    /// CSS colour.
    pub color: String,
    /// Written at the bar's end.
    pub text: String,
    /// Hover text.
    pub title: String,
}

/// Bars under a heading.
#[derive(Debug, Clone)]
pub struct BarGroup {
    /// The heading (e.g. "32 clients"), if any.
    pub label: Option<String>,
    /// The bars.
    pub bars: Vec<Bar>,
}

/// A horizontal bar chart: groups of labelled bars on a linear axis from 0.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Shown above the legend, and as the SVG's `<title>`.
    pub title: String,
    /// The value axis (its `min`, `max`, scale and ticks are computed).
    pub x_label: String,
    /// The category axis' label.
    pub y_label: String,
    /// How a tick value is written.
    pub format: fn(f64) -> String,
    /// The groups, top to bottom.
    pub groups: Vec<BarGroup>,
    /// The legend, above the plot.
    pub legend: Vec<LegendItem>,
    /// Pixels.
    pub width: f64,
}

/// Draws a [`BarChart`] as an `<svg>` element.
pub fn bar_chart(chart: &BarChart) -> String {
    const BAR: f64 = 14.0;
    const STEP: f64 = 19.0;
    let label_w = chart
        .groups
        .iter()
        .flat_map(|g| g.bars.iter().map(|b| text_px(&b.label)))
        .fold(40.0, f64::max);
    let left = 24.0 + label_w + 8.0;
    let right = 12.0;
    let plot_w = chart.width - left - right;
    let (legend_svg, legend_h) = legend(&chart.legend, 10.0, chart.width - 20.0, 28.0);
    let top = 28.0 + legend_h + 8.0;
    let rows: f64 = chart
        .groups
        .iter()
        .map(|g| {
            g.bars.len() as f64 * STEP
                + if g.label.is_some() {
                    LINE_PX + 2.0
                } else {
                    0.0
                }
                + 4.0
        })
        .sum();
    let bottom = top + rows.max(STEP);
    let height = bottom + 44.0;

    // The scale leaves room for the longest value label at the end of its bar.
    let max = chart
        .groups
        .iter()
        .flat_map(|g| g.bars.iter())
        .map(|b| b.value)
        .fold(0.0, f64::max);
    let mut scale_max = nice_max(max.max(f64::MIN_POSITIVE));
    for bar in chart.groups.iter().flat_map(|g| g.bars.iter()) {
        let room = plot_w - text_px(&bar.text) - 8.0;
        if room > 10.0 && bar.value > 0.0 {
            scale_max = scale_max.max(bar.value * plot_w / room);
        }
    }
    let axis = Axis {
        label: chart.x_label.clone(),
        scale: Scale::Linear,
        min: 0.0,
        max: scale_max,
        ticks: None,
        format: chart.format,
    };
    let px = |v: f64| axis.position(v, left, left + plot_w);

    let mut svg = String::new();
    open(&mut svg, &chart.title, chart.width, height);
    svg.push_str(&legend_svg);

    svg.push_str("<g class=\"axis x\">");
    let mut last_right = f64::NEG_INFINITY;
    for v in axis.tick_values(plot_w, 70.0) {
        let x = px(v);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/>"
        );
        let label = (chart.format)(v);
        let half = text_px(&label) / 2.0;
        let centre = x.clamp(half + 2.0, chart.width - half - 2.0);
        if centre - half >= last_right + 6.0 {
            let _ = write!(
                svg,
                "<text x=\"{centre:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                bottom + 16.0,
                escape(&label)
            );
            last_right = centre + half;
        }
    }
    let _ = write!(
        svg,
        "<line class=\"axis-line\" x1=\"{left:.1}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\"/><text class=\"axis-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
        left + plot_w,
        left + plot_w / 2.0,
        bottom + 36.0,
        escape(&chart.x_label)
    );

    let mut y_axis = String::from("<g class=\"axis y\">");
    let mut plot = String::from("<g class=\"plot\">");
    let mut y = top + 4.0;
    for group in &chart.groups {
        if let Some(label) = &group.label {
            let _ = write!(
                y_axis,
                "<text class=\"group\" x=\"24\" y=\"{:.1}\">{}</text>",
                y + 12.0,
                escape(label)
            );
            y += LINE_PX + 2.0;
        }
        for bar in &group.bars {
            let mid = y + STEP / 2.0;
            let _ = write!(
                y_axis,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 6.0,
                mid + 4.0,
                escape(&bar.label)
            );
            let end = px(bar.value.max(0.0));
            let color = escape(&bar.color);
            let title = escape(&bar.title);
            let _ = write!(plot, "<g><title>{title}</title>");
            match bar.solid {
                Some(solid) => {
                    let split = px(solid.clamp(0.0, bar.value.max(0.0)));
                    let _ = write!(
                        plot,
                        "<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"{color}\"/><rect x=\"{split:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"{color}\" fill-opacity=\"0.35\"/>",
                        mid - BAR / 2.0,
                        split - left,
                        mid - BAR / 2.0,
                        (end - split).max(0.0)
                    );
                }
                None => {
                    let _ = write!(
                        plot,
                        "<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"{color}\"/>",
                        mid - BAR / 2.0,
                        (end - left).max(0.0)
                    );
                }
            }
            let _ = write!(
                plot,
                "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
                end + 4.0,
                mid + 4.0,
                escape(&bar.text)
            );
            y += STEP;
        }
        y += 4.0;
    }
    let _ = write!(
        y_axis,
        "<line class=\"axis-line\" x1=\"{left:.1}\" y1=\"{top:.1}\" x2=\"{left:.1}\" y2=\"{bottom:.1}\"/><text class=\"axis-label\" transform=\"translate(12 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text></g>",
        f64::midpoint(top, bottom),
        escape(&chart.y_label)
    );
    svg.push_str(&y_axis);
    svg.push_str(&plot);
    svg.push_str("</g></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(v: f64) -> String {
        format!("{v:.0}")
    }

    #[test]
    fn log_ticks_thin_out_to_fit() {
        // Wide: 1-2-5 in every decade.
        assert_eq!(
            log_ticks(10.0, 1000.0, 600.0, 20.0),
            vec![10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        );
        // Narrow: one tick a decade.
        assert_eq!(
            log_ticks(10.0, 10_000.0, 90.0, 20.0),
            vec![10.0, 100.0, 1000.0, 10_000.0]
        );
        // Very narrow: every other decade.
        assert_eq!(
            log_ticks(1.0, 1e6, 60.0, 20.0),
            vec![1.0, 100.0, 10_000.0, 1e6]
        );
    }

    #[test]
    fn nice_bounds() {
        assert_eq!(log_bounds(59.0, 4103.0), (50.0, 5000.0));
        assert_eq!(log_bounds(100.0, 100.0), (100.0, 200.0));
        assert!((nice_max(149_348.0) - 150_000.0).abs() < 1e-6);
        assert_eq!(
            linear_ticks(0.0, 100.0, 300.0, 70.0),
            vec![0.0, 50.0, 100.0]
        );
    }

    #[test]
    fn percentile_labels() {
        let labels: Vec<String> = [0.0, 2f64.log10(), 1.0, 2.0, 3.0, 4.0]
            .into_iter()
            .map(percentile_label)
            .collect();
        assert_eq!(labels, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]);
    }

    #[test]
    fn x_tick_labels_never_overlap() {
        // Ten concurrencies on a narrow log axis: labels that would touch are dropped.
        let chart = LineChart {
            title: "t".into(),
            x: Axis {
                label: "clients".into(),
                scale: Scale::Log,
                min: 1.0,
                max: 1024.0,
                ticks: Some((0..=10).map(|i| f64::from(1 << i)).collect()),
                format: us,
            },
            y: Axis {
                label: "µs".into(),
                scale: Scale::Log,
                min: 10.0,
                max: 1000.0,
                ticks: None,
                format: us,
            },
            lines: vec![],
            legend: vec![],
            width: 200.0,
            plot_height: 100.0,
        };
        let svg = line_chart(&chart);
        let axis = svg.split("<g class=\"axis x\">").nth(1).unwrap_or_default();
        let mut spans = Vec::new();
        for part in axis.split("<text x=\"").skip(1) {
            let x: f64 = part.split('"').next().unwrap_or_default().parse().unwrap();
            let label = part.split('>').nth(1).unwrap_or_default();
            let label = label.trim_end_matches("</text");
            let half = text_px(label) / 2.0;
            spans.push((x - half, x + half));
        }
        assert!(spans.len() >= 3 && spans.len() < 11, "{spans:?}");
        for w in spans.windows(2) {
            assert!(w[1].0 >= w[0].1, "overlap: {spans:?}");
        }
    }
}

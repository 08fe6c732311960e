//! The report's charts, made from runs: latency spectra (each run's whole histogram on
//! the HdrHistogram percentile axis), throughput, bytes and server CPU per scenario,
//! and median latency against concurrency. Drawing is [`crate::charts`]'s.

use crate::charts::{
    Axis, Bar, BarChart, BarGroup, LegendItem, Line, LineChart, Scale, Swatch, bar_chart,
    line_chart, log_bounds, percentile_label, protocol_color, protocol_dash,
};
use crate::results::Run;
use crate::stats;

use super::format;
use super::model::{Shape, View, display};

/// Width of a chart, so three sit side by side on a 1400 px page.
pub const WIDTH: f64 = 440.0;
/// Width of a chart when two share a row.
pub const HALF_WIDTH: f64 = 662.0;

/// The width of each of `n` charts in a row: three to a row, or two wider ones.
pub fn width_for(n: usize) -> f64 {
    if n <= 2 { HALF_WIDTH } else { WIDTH }
}

/// Dash of an uncorrected open-loop line.
const UNCORRECTED_DASH: &str = "1 3";
/// Dash of the old run in a comparison.
const OLD_DASH: &str = "5 4";

/// A percentile distribution in chart coordinates (x on the percentile axis, y in
/// µs) with its marked percentiles.
struct Spectrum {
    points: Vec<(f64, f64)>,
    marks: Vec<(f64, f64, String)>,
    /// Where it ends on the x axis (the max).
    end: f64,
}

const MARKS: [(f64, &str); 5] = [
    (std::f64::consts::LOG10_2, "p50"),
    (1.0, "p90"),
    (2.0, "p99"),
    (3.0, "p99.9"),
    (4.0, "p99.99"),
];

/// The spectrum of a run's histogram: sampled every 1/25 of a decade on the
/// percentile axis, up to the quantile 1 - 1/n where the max is.
fn from_histogram(encoded: &str, who: &str) -> Option<Spectrum> {
    let h = stats::decode(encoded).ok()?;
    let n = h.len();
    if n == 0 {
        return None;
    }
    let end = (n as f64).log10().max(0.0);
    let mut points: Vec<(f64, f64)> = Vec::new();
    let steps = (end * 25.0).floor() as usize;
    for i in 0..=steps {
        let x = i as f64 / 25.0;
        let q = 1.0 - 10f64.powf(-x);
        points.push((x, h.value_at_quantile(q).max(1) as f64));
    }
    points.push((end, h.max().max(1) as f64));
    // Drop points in the middle of flat stretches.
    let mut kept: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        let flat = i > 0
            && i + 1 < points.len()
            && (points[i - 1].1 - p.1).abs() < 0.5
            && (points[i + 1].1 - p.1).abs() < 0.5;
        if !flat {
            kept.push(*p);
        }
    }
    let mut marks: Vec<(f64, f64, String)> = MARKS
        .iter()
        .filter(|(x, _)| *x < end)
        .map(|&(x, name)| {
            let v = h.value_at_quantile(1.0 - 10f64.powf(-x)).max(1) as f64;
            (x, v, format!("{who}: {name} = {}", format::micros(v)))
        })
        .collect();
    marks.push((
        end,
        h.max().max(1) as f64,
        format!(
            "{who}: max = {} ({n} operations)",
            format::micros(h.max() as f64)
        ),
    ));
    Some(Spectrum {
        points: kept,
        marks,
        end,
    })
}

/// The spectrum of a latency summary alone (p50, p90, p99, p99.9, max), for a run
/// without a histogram (or the uncorrected open-loop figures).
fn from_summary(l: &stats::Latency, ops: u64, who: &str) -> Option<Spectrum> {
    if l.p50 == 0 {
        return None;
    }
    let end = (ops.max(2) as f64).log10();
    let mut marks: Vec<(f64, f64, String)> = [
        (MARKS[0].0, l.p50, "p50"),
        (1.0, l.p90, "p90"),
        (2.0, l.p99, "p99"),
        (3.0, l.p999, "p99.9"),
    ]
    .into_iter()
    .filter(|(x, _, _)| *x < end)
    .map(|(x, v, name)| {
        (
            x,
            v.max(1) as f64,
            format!("{who}: {name} = {}", format::micros(v as f64)),
        )
    })
    .collect();
    marks.push((
        end,
        l.max.max(1) as f64,
        format!("{who}: max = {}", format::micros(l.max as f64)),
    ));
    Some(Spectrum {
        points: marks.iter().map(|(x, y, _)| (*x, *y)).collect(),
        marks,
        end,
    })
}

/// A run's corrected spectrum (from its histogram, else its summary).
fn corrected(run: &Run, who: &str) -> Option<Spectrum> {
    from_histogram(&run.histogram, who).or_else(|| from_summary(&run.latency_us, run.ops, who))
}

/// A run's uncorrected open-loop spectrum: from an `uncorrected_histogram` when the
/// results carry one, else from the uncorrected summary.
fn uncorrected(run: &Run, who: &str) -> Option<Spectrum> {
    let encoded = serde_json::to_value(run).ok().and_then(|v| {
        v.get("uncorrected_histogram")
            .and_then(|h| h.as_str().map(str::to_owned))
    });
    encoded
        .and_then(|h| from_histogram(&h, who))
        .or_else(|| from_summary(run.uncorrected_latency_us.as_ref()?, run.ops, who))
}

fn summary_title(who: &str, run: &Run) -> String {
    let l = &run.latency_us;
    format!(
        "{who}: p50 {}, p90 {}, p99 {}, p99.9 {}, max {} ({} operations)",
        format::micros(l.p50 as f64),
        format::micros(l.p90 as f64),
        format::micros(l.p99 as f64),
        format::micros(l.p999 as f64),
        format::micros(l.max as f64),
        run.ops
    )
}

fn line(spectrum: Spectrum, color: &str, dash: Option<&'static str>, title: String) -> Line {
    Line {
        color: color.to_owned(),
        dash,
        points: spectrum.points,
        marks: spectrum.marks,
        title,
    }
}

/// The spectrum chart over `lines`, its axes fitted to them.
fn spectrum_chart(
    title: String,
    lines: Vec<Line>,
    ends: f64,
    legend: Vec<LegendItem>,
    width: f64,
) -> String {
    let (lo, hi) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo.is_finite() {
        log_bounds(lo, hi)
    } else {
        (1.0, 10.0)
    };
    line_chart(&LineChart {
        title,
        x: Axis {
            label: "percentile (each step right: ten times rarer)".to_owned(),
            scale: Scale::Percentile,
            min: 0.0,
            max: ends.ceil().max(2.0),
            ticks: None,
            format: percentile_label,
        },
        y: Axis {
            label: "latency".to_owned(),
            scale: Scale::Log,
            min: lo,
            max: hi,
            ticks: None,
            format: format::micros_tick,
        },
        lines,
        legend,
        width,
        plot_height: 240.0,
    })
}

/// The latency spectrum of every protocol on a scenario at a shape; open loop shows
/// corrected (from each request's intended start) and uncorrected (from the send).
pub fn spectrum(scenario: &str, shape: Shape, runs: &[&Run], width: f64) -> String {
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    let mut ends: f64 = 0.0;
    for run in runs {
        let who = display(&run.protocol);
        let color = protocol_color(&run.protocol);
        if let Some(s) = corrected(run, &who) {
            ends = ends.max(s.end);
            lines.push(line(
                s,
                color,
                protocol_dash(&run.protocol),
                summary_title(&who, run),
            ));
            legend.push(LegendItem::protocol(&run.protocol, &who, Swatch::Line));
        }
    }
    if shape.is_open() {
        for run in runs {
            let who = format!("{} uncorrected", display(&run.protocol));
            if let Some(s) = uncorrected(run, &who) {
                ends = ends.max(s.end);
                let title = format!("{who} (timed from the actual send)");
                lines.push(line(
                    s,
                    protocol_color(&run.protocol),
                    Some(UNCORRECTED_DASH),
                    title,
                ));
            }
        }
        legend.push(LegendItem {
            label: "from intended start".to_owned(),
            color: "#333".to_owned(),
            dash: None,
            swatch: Swatch::Line,
        });
        legend.push(LegendItem {
            label: "from send (uncorrected)".to_owned(),
            color: "#333".to_owned(),
            dash: Some(UNCORRECTED_DASH),
            swatch: Swatch::Line,
        });
    }
    if lines.is_empty() {
        return String::new();
    }
    spectrum_chart(
        format!("{scenario} · {}: latency by percentile", shape.words()),
        lines,
        ends,
        legend,
        width,
    )
}

/// Old (dashed) and new (solid) spectra of each protocol on a scenario at a shape.
pub fn spectrum_compare(scenario: &str, shape: Shape, runs: &[(&Run, &Run)], width: f64) -> String {
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    let mut ends: f64 = 0.0;
    for (old, new) in runs {
        let who = display(&new.protocol);
        let color = protocol_color(&new.protocol);
        let old_who = format!("{who} old");
        if let Some(s) = corrected(old, &old_who) {
            ends = ends.max(s.end);
            lines.push(line(s, color, Some(OLD_DASH), summary_title(&old_who, old)));
        }
        let new_who = format!("{who} new");
        if let Some(s) = corrected(new, &new_who) {
            ends = ends.max(s.end);
            lines.push(line(s, color, None, summary_title(&new_who, new)));
        }
        legend.push(LegendItem {
            label: who,
            color: color.to_owned(),
            dash: None,
            swatch: Swatch::Box,
        });
    }
    if lines.is_empty() {
        return String::new();
    }
    legend.push(LegendItem {
        label: "old".to_owned(),
        color: "#333".to_owned(),
        dash: Some(OLD_DASH),
        swatch: Swatch::Line,
    });
    legend.push(LegendItem {
        label: "new".to_owned(),
        color: "#333".to_owned(),
        dash: None,
        swatch: Swatch::Line,
    });
    spectrum_chart(
        format!("{scenario} · {}: old and new", shape.words()),
        lines,
        ends,
        legend,
        width,
    )
}

/// Legend entries for the protocols of `runs`, once each, as boxes.
fn box_legend<'a>(runs: impl Iterator<Item = &'a Run>) -> Vec<LegendItem> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for run in runs {
        if !seen.contains(&run.protocol.as_str()) {
            seen.push(&run.protocol);
            out.push(LegendItem::protocol(
                &run.protocol,
                &display(&run.protocol),
                Swatch::Box,
            ));
        }
    }
    out
}

fn flags_suffix(run: &Run) -> String {
    let caveats = super::model::caveats(run);
    if caveats.is_empty() {
        String::new()
    } else {
        format!(" ({})", caveats.join(", "))
    }
}

/// Throughput of every protocol on a scenario, a group of bars per shape.
pub fn throughput(view: &View<'_>, scenario: &str) -> String {
    let mut groups = Vec::new();
    let mut all = Vec::new();
    for shape in view.shapes_of(scenario) {
        let runs = view.runs_at(scenario, shape);
        let bars = runs
            .iter()
            .map(|r| {
                let flags = flags_suffix(r);
                Bar {
                    label: display(&r.protocol),
                    value: r.throughput_ops_s,
                    solid: None,
                    color: protocol_color(&r.protocol).to_owned(),
                    text: format!(
                        "{}{}",
                        format::rate(r.throughput_ops_s),
                        if flags.is_empty() { "" } else { " ⚠" }
                    ),
                    title: format!(
                        "{} {scenario} {}: {:.0} ops/s{flags}",
                        display(&r.protocol),
                        shape.words(),
                        r.throughput_ops_s
                    ),
                }
            })
            .collect();
        all.extend(runs);
        groups.push(BarGroup {
            label: Some(shape.words()),
            bars,
        });
    }
    bar_chart(&BarChart {
        title: format!("{scenario}: throughput"),
        x_label: "operations per second".to_owned(),
        y_label: "load".to_owned(),
        format: format::rate_tick,
        groups,
        legend: box_legend(all.into_iter()),
        width: WIDTH,
    })
}

/// Bytes per op of every protocol on a scenario (at its headline shape): payload solid,
/// protocol overhead (headers, framing) pale.
pub fn bytes(view: &View<'_>, scenario: &str) -> String {
    let Some(shape) = view.headline_shape(scenario) else {
        return String::new();
    };
    let runs = view.runs_at(scenario, shape);
    let bars: Vec<Bar> = runs
        .iter()
        .filter(|r| r.bytes_per_op.socket_sent + r.bytes_per_op.socket_received > 0.0)
        .map(|r| {
            let b = &r.bytes_per_op;
            let payload = b.request_payload + b.response_payload;
            let socket = (b.socket_sent + b.socket_received).max(payload);
            Bar {
                label: display(&r.protocol),
                value: socket,
                solid: Some(payload),
                color: protocol_color(&r.protocol).to_owned(),
                text: format!(
                    "{} ({:.0}% payload)",
                    format::bytes(socket),
                    payload / socket.max(1.0) * 100.0
                ),
                title: format!(
                    "{}: sent {:.0} B ({:.0} payload), received {:.0} B ({:.0} payload) per op",
                    display(&r.protocol),
                    b.socket_sent,
                    b.request_payload,
                    b.socket_received,
                    b.response_payload
                ),
            }
        })
        .collect();
    if bars.is_empty() {
        return String::new();
    }
    bar_chart(&BarChart {
        title: format!("{scenario}: bytes per op ({})", shape.words()),
        x_label: "bytes on the socket per op, both directions".to_owned(),
        y_label: "protocol".to_owned(),
        format: format::bytes_tick,
        groups: vec![BarGroup { label: None, bars }],
        legend: vec![
            LegendItem {
                label: "payload (message bodies)".to_owned(),
                color: "#555".to_owned(),
                dash: None,
                swatch: Swatch::Box,
            },
            LegendItem {
                label: "overhead (headers, framing)".to_owned(),
                color: "#555".to_owned(),
                dash: None,
                swatch: Swatch::Pale,
            },
        ],
        width: WIDTH,
    })
}

/// Server CPU per op of every protocol on a scenario, a group of bars per shape.
pub fn cpu(view: &View<'_>, scenario: &str) -> String {
    let mut groups = Vec::new();
    let mut all = Vec::new();
    for shape in view.shapes_of(scenario) {
        let runs: Vec<&Run> = view
            .runs_at(scenario, shape)
            .into_iter()
            .filter(|r| r.server_cpu_us_per_op.is_some_and(|c| c > 0.0))
            .collect();
        if runs.is_empty() {
            continue;
        }
        let bars = runs
            .iter()
            .map(|r| {
                let cpu = r.server_cpu_us_per_op.unwrap_or_default();
                Bar {
                    label: display(&r.protocol),
                    value: cpu,
                    solid: None,
                    color: protocol_color(&r.protocol).to_owned(),
                    text: format::micros(cpu),
                    title: format!(
                        "{} {}: server {:.1} µs of CPU per op{}",
                        display(&r.protocol),
                        shape.words(),
                        cpu,
                        r.client_cpu_us_per_op
                            .map_or_else(String::new, |c| format!("; client {c:.1} µs"))
                    ),
                }
            })
            .collect();
        all.extend(runs);
        groups.push(BarGroup {
            label: Some(shape.words()),
            bars,
        });
    }
    if groups.is_empty() {
        return String::new();
    }
    bar_chart(&BarChart {
        title: format!("{scenario}: server CPU per op"),
        x_label: "server CPU time per op".to_owned(),
        y_label: "load".to_owned(),
        format: format::micros_tick,
        groups,
        legend: box_legend(all.into_iter()),
        width: WIDTH,
    })
}

/// Median latency against closed-loop concurrency, one line per protocol, ticks at the
/// concurrencies measured. Empty with fewer than two.
pub fn concurrency(view: &View<'_>, scenario: &str) -> String {
    let levels: Vec<usize> = view
        .shapes_of(scenario)
        .into_iter()
        .filter_map(|s| match s {
            Shape::Closed(c) => Some(c),
            Shape::Open { .. } => None,
        })
        .collect();
    if levels.len() < 2 {
        return String::new();
    }
    let mut protocols: Vec<String> = Vec::new();
    for &c in &levels {
        for run in view.runs_at(scenario, Shape::Closed(c)) {
            if !protocols.contains(&run.protocol) {
                protocols.push(run.protocol.clone());
            }
        }
    }
    protocols.sort_by_key(|p| super::model::protocol_order(p));
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for p in &protocols {
        let who = display(p);
        let mut points = Vec::new();
        let mut marks = Vec::new();
        for &c in &levels {
            if let Some(run) = view.run(scenario, p, Shape::Closed(c)) {
                let v = run.latency_us.p50.max(1) as f64;
                lo = lo.min(v);
                hi = hi.max(v);
                points.push((c as f64, v));
                marks.push((
                    c as f64,
                    v,
                    format!(
                        "{who} at {}: p50 {}, {} ops/s",
                        Shape::Closed(c).words(),
                        format::micros(v),
                        format::rate(run.throughput_ops_s)
                    ),
                ));
            }
        }
        if points.is_empty() {
            continue;
        }
        lines.push(Line {
            color: protocol_color(p).to_owned(),
            dash: protocol_dash(p),
            points,
            marks,
            title: format!("{who}: median latency by concurrency"),
        });
        legend.push(LegendItem::protocol(p, &who, Swatch::Line));
    }
    if lines.is_empty() {
        return String::new();
    }
    let (lo, hi) = log_bounds(lo, hi);
    let (first, last) = (
        levels.first().copied().unwrap_or(1) as f64,
        levels.last().copied().unwrap_or(2) as f64,
    );
    line_chart(&LineChart {
        title: format!("{scenario}: p50 against concurrency"),
        x: Axis {
            label: "clients (closed loop)".to_owned(),
            scale: Scale::Log,
            min: first / 1.3,
            max: last * 1.3,
            ticks: Some(levels.iter().map(|&c| c as f64).collect()),
            format: format::count_tick,
        },
        y: Axis {
            label: "median latency".to_owned(),
            scale: Scale::Log,
            min: lo,
            max: hi,
            ticks: None,
            format: format::micros_tick,
        },
        lines,
        legend,
        width: WIDTH,
        plot_height: 200.0,
    })
}

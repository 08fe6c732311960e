//! Runs over several links (`--link loopback,mobile`) or compressions: splitting a
//! results file into one per condition (each reported as a run of its own), and the
//! chart of median latency per protocol across the links, per scenario and load. The
//! single-condition report is in [`super::html`]; drawing is [`crate::charts`]'s.

use crate::charts::{Bar, BarChart, BarGroup, LegendItem, Swatch, bar_chart, protocol_color};
use crate::results::{Results, Run};

use super::format;
use super::model::{Shape, display, protocol_order, scenario_order};

/// The `(link, compression)` pairs of a file's runs, in the order they first appear.
pub fn conditions(results: &Results) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for run in &results.runs {
        let key = (
            run.link_name().to_owned(),
            run.compression_name().to_owned(),
        );
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

/// One results file per `(link, compression)` pair, its `meta` naming that pair (and
/// failures kept with every part, the protocols skipped under that pair with it). A file
/// of one condition comes back whole.
pub fn split(results: &Results) -> Vec<((String, String), Results)> {
    conditions(results)
        .into_iter()
        .map(|(link, compression)| {
            let mut part = results.clone();
            part.runs
                .retain(|r| r.link_name() == link && r.compression_name() == compression);
            part.skipped
                .retain(|s| s.link == link && s.compression == compression);
            part.meta.link = Some(link.clone());
            part.meta.compression = (compression != "none").then(|| compression.clone());
            ((link, compression), part)
        })
        .collect()
}

/// The links a file's runs went through, in order.
pub fn links(results: &Results) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (link, _) in conditions(results) {
        if !out.contains(&link) {
            out.push(link);
        }
    }
    out
}

/// The median latency of every protocol on `scenario` at `shape`, one group of bars per
/// link (runs without compression, or the first compression a pair ran with). Empty
/// when fewer than two links ran it.
pub fn p50_across_links(results: &Results, scenario: &str, shape: Shape) -> String {
    let runs: Vec<&Run> = results
        .runs
        .iter()
        .filter(|r| r.scenario == scenario && Shape::of(r) == shape)
        .collect();
    let links: Vec<String> = links(results)
        .into_iter()
        .filter(|l| runs.iter().any(|r| r.link_name() == l))
        .collect();
    if links.len() < 2 {
        return String::new();
    }
    let mut protocols: Vec<&str> = Vec::new();
    for run in &runs {
        if !protocols.contains(&run.protocol.as_str()) {
            protocols.push(&run.protocol);
        }
    }
    protocols.sort_by_key(|p| protocol_order(p));
    let groups = links
        .iter()
        .map(|link| BarGroup {
            label: Some(link.clone()),
            bars: protocols
                .iter()
                .filter_map(|p| {
                    let run = runs
                        .iter()
                        .filter(|r| r.protocol == *p && r.link_name() == link)
                        .min_by_key(|r| r.compression_name() != "none")?;
                    let p50 = run.latency_us.p50 as f64;
                    let trips = run
                        .round_trips_per_op
                        .map(|t| format!(", {t:.0} round trip(s) per op"))
                        .unwrap_or_default();
                    Some(Bar {
                        label: display(p),
                        value: p50,
                        solid: None,
                        color: protocol_color(p).to_owned(),
                        text: format::micros(p50),
                        title: format!(
                            "{} {scenario} {} over {link} ({}): p50 {}, p99 {}{trips}",
                            display(p),
                            shape.words(),
                            run.compression_name(),
                            format::micros(p50),
                            format::micros(run.latency_us.p99 as f64)
                        ),
                    })
                })
                .collect(),
        })
        .collect();
    bar_chart(&BarChart {
        title: format!("{scenario} at {}: p50 by link", shape.words()),
        x_label: "median latency".to_owned(),
        y_label: "link".to_owned(),
        format: format::micros_tick,
        groups,
        legend: protocols
            .iter()
            .map(|p| LegendItem::protocol(p, &display(p), Swatch::Box))
            .collect(),
        width: super::figures::WIDTH,
    })
}

/// The HTML section of [`p50_across_links`] charts, every scenario and load; empty for
/// a file of one link.
pub fn section(results: &Results) -> String {
    let links = links(results);
    if links.len() < 2 {
        return String::new();
    }
    let mut scenarios: Vec<&str> = Vec::new();
    let mut shapes: Vec<Shape> = Vec::new();
    for run in &results.runs {
        if !scenarios.contains(&run.scenario.as_str()) {
            scenarios.push(&run.scenario);
        }
        if !shapes.contains(&Shape::of(run)) {
            shapes.push(Shape::of(run));
        }
    }
    scenarios.sort_by_key(|s| scenario_order(s));
    shapes.sort();
    let mut html = format!(
        "<section id=\"links\"><h2>Median latency by link</h2><p class=\"note\">Each group is one emulated link ({}); each bar a protocol's median latency per operation on it. Hover a bar for p99 and round trips per operation. The sections after this one report each link on its own.</p><div class=\"charts\">",
        crate::charts::escape(&links.join(", "))
    );
    for scenario in scenarios {
        for &shape in &shapes {
            html.push_str(&p50_across_links(results, scenario, shape));
        }
    }
    html.push_str("</div></section>");
    html
}

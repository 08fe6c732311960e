//! Shared by the report tests: results to render (the committed sample run, and the same
//! run with open-loop runs, flags and a failure grafted on), and checks of a page's
//! anatomy that every HTML page must pass.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bench::results::Results;
use serde_json::{Value, json};

/// The committed sample run (an older schema: it must still render).
pub fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/sample-run/results.json")
}

/// The sample run as JSON.
pub fn sample_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(sample_path()).unwrap()).unwrap()
}

/// Parses JSON into results as `quartet report` does.
pub fn parse(value: &Value) -> Results {
    bench::results::parse(&value.to_string()).unwrap()
}

/// The highest closed-loop concurrency of a results file.
pub fn top_concurrency(value: &Value) -> u64 {
    value["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rate"].is_null())
        .filter_map(|r| r["concurrency"].as_u64())
        .max()
        .unwrap()
}

/// The sample with, grafted on: an open-loop copy (1000/s over 32 connections) of every
/// busiest closed-loop run, timed from the send a third of the corrected figures; the
/// first protocol's open runs behind the rate; one client-bound run; and one run
/// replaced by a failure.
pub fn eventful() -> Value {
    let mut value = sample_json();
    let top = top_concurrency(&value);
    let runs = value["runs"].as_array_mut().unwrap();
    let first_protocol = runs
        .iter()
        .find(|r| !r["protocol"].as_str().unwrap().ends_with("-floor"))
        .unwrap()["protocol"]
        .clone();
    let mut open = Vec::new();
    for run in runs.iter() {
        if run["concurrency"].as_u64() != Some(top) || !run["rate"].is_null() {
            continue;
        }
        let mut o = run.clone();
        let behind = o["protocol"] == first_protocol;
        o["mode"] = json!("open");
        o["rate"] = json!(1000.0);
        o["concurrency"] = json!(32);
        let mut naive = o["latency_us"].clone();
        for key in ["p50", "p90", "p99", "p999", "max"] {
            naive[key] = json!((naive[key].as_u64().unwrap() / 3).max(1));
        }
        o["uncorrected_latency_us"] = naive;
        o["achieved_rate_ops_s"] = json!(if behind { 700.0 } else { 1000.0 });
        o["throughput_ops_s"] = o["achieved_rate_ops_s"].clone();
        o["rate_not_met"] = json!(behind);
        o["backlog_at_end"] = json!(if behind { 300 } else { 0 });
        open.push(o);
    }
    runs.extend(open);
    let bound = runs
        .iter_mut()
        .find(|r| r["protocol"] == "wire" && r["rate"].is_null())
        .unwrap();
    bound["client_bound"] = json!(true);
    bound["client_cpu_us_per_op"] = json!(7.5);
    bound["client_cpu_share"] = json!(0.97);
    let (scenario, concurrency) = {
        let victim = runs
            .iter()
            .find(|r| r["protocol"] == "graphql" && r["rate"].is_null())
            .unwrap();
        (victim["scenario"].clone(), victim["concurrency"].clone())
    };
    runs.retain(|r| {
        !(r["protocol"] == "graphql"
            && r["scenario"] == scenario
            && r["concurrency"] == concurrency
            && r["rate"].is_null())
    });
    value["failures"] = json!([{
        "protocol": "graphql",
        "scenario": scenario,
        "shape": format!("c={}", concurrency.as_u64().unwrap()),
        "attempted": 3,
        "cause": "connection refused"
    }]);
    value
}

/// The value of attribute `name` in the tag text `tag` (`<rect x="1" .../>`).
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')?;
    Some(&tag[start..start + end])
}

/// The `<svg>` elements of a page.
pub fn charts(page: &str) -> Vec<&str> {
    page.match_indices("<svg")
        .map(|(i, _)| {
            let end = page[i..].find("</svg>").expect("closed svg");
            &page[i..i + end + "</svg>".len()]
        })
        .collect()
}

/// The text of the group `<g class="CLASS">...</g>` in a chart (groups do not nest
/// there except bar groups inside the plot, which end with the plot's `</g></svg>`).
pub fn group<'a>(chart: &'a str, class: &str) -> Option<&'a str> {
    let key = format!("<g class=\"{class}\">");
    let start = chart.find(&key)? + key.len();
    let rest = &chart[start..];
    let end = if class == "plot" {
        rest.rfind("</g>")?
    } else {
        rest.find("</g>")?
    };
    Some(&rest[..end])
}

/// Every `<text ...>content</text>` in `svg`: (the tag, the content).
pub fn texts(svg: &str) -> Vec<(&str, &str)> {
    svg.match_indices("<text")
        .filter_map(|(i, _)| {
            let tag_end = svg[i..].find('>')? + i;
            let close = svg[tag_end..].find("</text>")? + tag_end;
            Some((&svg[i..tag_end], &svg[tag_end + 1..close]))
        })
        .collect()
}

/// Whether a page could fetch anything: scripts, stylesheets, images, frames, fonts,
/// imports, or any absolute URL.
pub fn external_references(page: &str) -> Vec<String> {
    let lower = page.to_ascii_lowercase();
    let mut found = Vec::new();
    for bad in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@import",
        "src=",
        "http:",
        "https:",
        "//cdn",
        "xlink:href",
    ] {
        if lower.contains(bad) {
            found.push(bad.to_owned());
        }
    }
    for (i, _) in lower.match_indices("href=\"") {
        if !lower[i + 6..].starts_with('#') {
            found.push(lower[i..(i + 40).min(lower.len())].to_owned());
        }
    }
    for (i, _) in lower.match_indices("url(") {
        if !lower[i + 4..].starts_with('#') {
            found.push(lower[i..(i + 40).min(lower.len())].to_owned());
        }
    }
    found
}

/// Advance of one chart character, as the charts lay text out.
const CHAR_PX: f64 = 6.8;

/// Checks every chart of a page: a non-empty `<title>` and visible title; an x and a y
/// axis, each with a label; a legend with entries, entirely above the plot area; x tick
/// labels that do not overlap; every bar with its value written beside it. Returns the
/// colour each legend label was drawn in, per chart.
pub fn check_charts(page: &str) -> Vec<BTreeMap<String, String>> {
    let charts = charts(page);
    assert!(!charts.is_empty(), "no chart");
    let mut colours = Vec::new();
    for chart in charts {
        let title = chart
            .split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .unwrap_or_default();
        assert!(!title.trim().is_empty(), "a chart without a title");
        assert!(
            chart.contains("class=\"chart-title\""),
            "{title}: no visible title"
        );
        let mut top = f64::INFINITY;
        for axis in ["axis x", "axis y"] {
            let g = group(chart, axis).unwrap_or_else(|| panic!("{title}: no {axis}"));
            let label = texts(g)
                .into_iter()
                .find(|(tag, _)| tag.contains("class=\"axis-label\""))
                .unwrap_or_else(|| panic!("{title}: {axis} has no label"));
            assert!(!label.1.trim().is_empty(), "{title}: {axis} label empty");
            if axis == "axis y" {
                let line = g
                    .split("<line class=\"axis-line\"")
                    .nth(1)
                    .unwrap_or_else(|| panic!("{title}: y axis has no line"));
                top = attr(line, "y1").unwrap().parse().unwrap();
            }
        }
        let legend = group(chart, "legend").unwrap_or_else(|| panic!("{title}: no legend"));
        let entries = texts(legend);
        assert!(!entries.is_empty(), "{title}: empty legend");
        for (tag, text) in &entries {
            let y: f64 = attr(tag, "y").unwrap().parse().unwrap();
            assert!(
                y < top,
                "{title}: legend entry {text} inside the plot ({y} >= {top})"
            );
        }
        // The colour of each legend entry: the swatch just before its text.
        let mut chart_colours = BTreeMap::new();
        for (i, _) in legend.match_indices("<text") {
            let before = &legend[..i];
            let Some(start) = before.rfind("<line").max(before.rfind("<rect")) else {
                continue;
            };
            let swatch = &before[start..];
            let colour = attr(swatch, "stroke").or_else(|| attr(swatch, "fill"));
            let label = texts(&legend[i..]).first().map(|(_, t)| *t);
            if let (Some(colour), Some(label)) = (colour, label) {
                chart_colours.insert(label.to_owned(), colour.to_owned());
            }
        }
        colours.push(chart_colours);

        let x_axis = group(chart, "axis x").unwrap();
        let mut spans: Vec<(f64, f64, &str)> = texts(x_axis)
            .into_iter()
            .filter(|(tag, _)| !tag.contains("axis-label"))
            .map(|(tag, text)| {
                let x: f64 = attr(tag, "x").unwrap().parse().unwrap();
                let half = text.chars().count() as f64 * CHAR_PX / 2.0;
                (x - half, x + half, text)
            })
            .collect();
        assert!(spans.len() >= 2, "{title}: fewer than two x ticks labelled");
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in spans.windows(2) {
            assert!(
                w[1].0 >= w[0].1,
                "{title}: x tick labels {} and {} overlap",
                w[0].2,
                w[1].2
            );
        }

        let plot = group(chart, "plot").unwrap_or_else(|| panic!("{title}: no plot"));
        let bars = plot.matches("<g><title>").count();
        let values: Vec<&str> = texts(plot)
            .into_iter()
            .filter(|(tag, _)| tag.contains("class=\"value\""))
            .map(|(_, t)| t)
            .collect();
        assert_eq!(bars, values.len(), "{title}: a bar without its value");
        assert!(values.iter().all(|v| !v.trim().is_empty()), "{title}");
    }
    colours
}

/// The protocols' display names, as legends write them.
pub const PROTOCOL_LABELS: [&str; 7] = [
    "REST",
    "GraphQL",
    "gRPC",
    "wire",
    "TCP floor",
    "HTTP/1 floor",
    "HTTP/2 floor",
];

/// Checks that each protocol is drawn in one colour across every chart, and no two
/// protocols share one.
pub fn check_colours(colours: &[BTreeMap<String, String>]) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for chart in colours {
        for (label, colour) in chart {
            let Some(name) = PROTOCOL_LABELS.iter().find(|p| **p == label.as_str()) else {
                continue;
            };
            let first = seen.entry(name).or_insert(colour);
            assert_eq!(*first, colour, "{name} drawn in {first} and in {colour}");
        }
    }
    assert!(seen.len() >= 4, "protocols in legends: {seen:?}");
    let mut distinct: Vec<&str> = seen.values().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "two protocols share a colour: {seen:?}"
    );
}

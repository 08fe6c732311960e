//! report.html and report.md: the verdict comes first, the page fetches nothing, every
//! chart has its title, axes and legend (outside the plot), every bar its value, ticks
//! that do not overlap and one colour per protocol; spectra cover every scenario and
//! load, with the uncorrected open-loop figures beside the corrected ones; the older
//! schema of the committed sample still renders.

// Helpers outside #[test] functions too: a panic in a test is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_fixtures;

use bench::report;
use report_fixtures::{
    charts, check_charts, check_colours, eventful, external_references, parse, sample_json,
};
use serde_json::Value;

/// (scenario, load) pairs of a results file, as the spectra title them.
fn loads(value: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = value["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let load = match r["rate"].as_f64() {
                Some(rate) => format!("open {rate:.0}/s"),
                None if r["concurrency"] == 1 => "1 client".to_owned(),
                None => format!("{} clients", r["concurrency"]),
            };
            (r["scenario"].as_str().unwrap().to_owned(), load)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_verdict_comes_first_and_states_the_conditions() {
    for value in [sample_json(), eventful()] {
        let page = report::html(&parse(&value));
        let verdict = page.find("<h2>Verdict</h2>").expect("a verdict");
        let first_chart = page.find("<svg").expect("charts");
        assert!(verdict < first_chart, "the verdict is not first");
        let conditions = page.find("Conditions:").expect("conditions");
        assert!(conditions < verdict);
        // Older files say nothing of these: the defaults of every run so far are stated.
        for default in ["memory store", "loopback", "no TLS", "no compression"] {
            assert!(page[conditions..verdict].contains(default), "{default}");
        }
        assert!(page[conditions..verdict].contains("closed loop at 1 and"));
        // The summary: sentences before the grids.
        let summary = &page[verdict..page[verdict..].find("<table").unwrap() + verdict];
        assert!(summary.matches("<li>").count() >= 5, "{summary}");
        assert!(summary.contains("Highest throughput at"));
        // A grid per metric, each with every scenario.
        for caption in [
            "Throughput",
            "Median latency p50",
            "Tail latency p99",
            "Bytes on the socket per op",
            "Server CPU per op",
        ] {
            let at = page
                .find(&format!("<caption>{caption}"))
                .unwrap_or_else(|| panic!("no {caption} grid"));
            assert!(at < first_chart);
            let grid = &page[at..at + page[at..].find("</table>").unwrap()];
            for (scenario, _) in loads(&value) {
                assert!(
                    grid.contains(&format!(">{scenario}<")),
                    "{caption}: {scenario}"
                );
            }
            for protocol in ["REST", "GraphQL", "gRPC", "wire"] {
                assert!(
                    grid.contains(&format!(">{protocol}</th>")),
                    "{caption}: {protocol}"
                );
            }
            // Every measured cell is coloured by its distance from the best, with the
            // multiple written: exactly one best per row at least.
            assert!(grid.contains("class=\"b0\""), "{caption}: no best");
            assert!(grid.contains(" best</small>"), "{caption}: no multiples");
        }
    }
}

#[test]
fn the_page_fetches_nothing() {
    for value in [sample_json(), eventful()] {
        let page = report::html(&parse(&value));
        assert_eq!(external_references(&page), Vec::<String>::new());
        assert!(page.starts_with("<!doctype html>") && page.trim_end().ends_with("</html>"));
    }
}

#[test]
fn every_chart_has_title_axes_legend_labelled_bars_and_clear_ticks() {
    for value in [sample_json(), eventful()] {
        let page = report::html(&parse(&value));
        let colours = check_charts(&page);
        check_colours(&colours);
        // Grid headers use the charts' colours too.
        for chart in &colours {
            for (label, colour) in chart {
                if let Some(i) = page.find(&format!("\">{label}</th>")) {
                    let head = &page[page[..i].rfind("<th").unwrap()..i];
                    assert!(
                        head.contains(colour.as_str()),
                        "{label}: {head} vs {colour}"
                    );
                }
            }
        }
    }
}

#[test]
fn spectra_cover_every_scenario_and_load_from_the_histograms() {
    let value = eventful();
    let page = report::html(&parse(&value));
    let spectra: Vec<&str> = charts(&page)
        .into_iter()
        .filter(|c| c.contains("latency by percentile"))
        .collect();
    let loads = loads(&value);
    assert_eq!(spectra.len(), loads.len());
    for (scenario, load) in &loads {
        let chart = spectra
            .iter()
            .find(|c| {
                c.contains(&format!(
                    "<title>{scenario} · {load}: latency by percentile"
                ))
            })
            .unwrap_or_else(|| panic!("no spectrum for {scenario} at {load}"));
        // The HdrHistogram axis, and one line per run, read from its histogram: many
        // points, not four.
        assert!(chart.contains(">99%</text>") && chart.contains(">99.9%</text>"));
        let longest = chart
            .split("points=\"")
            .skip(1)
            .map(|p| p.split('"').next().unwrap().split(' ').count())
            .max()
            .unwrap();
        assert!(longest > 10, "{scenario} {load}: {longest} points");
        if load.starts_with("open") {
            assert!(chart.contains("from send (uncorrected)"));
            assert!(chart.contains("uncorrected (timed from the actual send)"));
        } else {
            assert!(!chart.contains("uncorrected"));
        }
    }
}

#[test]
fn failures_and_caveats_show_where_the_figures_would_be() {
    let value = eventful();
    let page = report::html(&parse(&value));
    let failure = &value["failures"][0];
    assert!(page.contains("class=\"fail\""), "a failed cell");
    assert!(page.contains(failure["cause"].as_str().unwrap()));
    assert!(
        page.contains("<span class=\"warn\">⚠</span>"),
        "a caveat marked"
    );
    assert!(page.contains("client-bound"));
}

#[test]
fn markdown_opens_with_the_verdict_and_keeps_every_figure() {
    let value = eventful();
    let md = report::markdown(&parse(&value));
    let verdict = md.find("## Verdict").unwrap();
    let details = md.find("## get_event c=1").expect("the detail tables");
    assert!(verdict < details);
    assert!(md[..verdict].contains("memory store"));
    assert!(md[verdict..details].contains("### Throughput"));
    assert!(md[verdict..details].contains("** best"));
    assert!(md.contains("FAILED"));
    assert!(md.contains("RATE NOT MET"));
}

#[test]
fn the_checks_catch_broken_pages() {
    let page = report::html(&parse(&sample_json()));
    let fails = |broken: String| {
        std::panic::catch_unwind(|| check_colours(&check_charts(&broken))).is_err()
    };
    assert!(!fails(page.clone()));
    // A bar without its value.
    let at = page.find("<text class=\"value\"").unwrap();
    let end = at + page[at..].find("</text>").unwrap() + "</text>".len();
    assert!(fails(format!("{}{}", &page[..at], &page[end..])));
    // A legend drawn over the plot.
    let legend = page.find("<g class=\"legend\">").unwrap();
    let y = legend + page[legend..].find(" y=\"").unwrap() + 4;
    let y_end = y + page[y..].find('"').unwrap();
    assert!(fails(format!("{}{}{}", &page[..y], "900", &page[y_end..])));
    // A chart without an axis label.
    assert!(fails(page.replacen(
        "class=\"axis-label\"",
        "class=\"other\"",
        1
    )));
    // Overprinted ticks.
    let axis = page.find("<g class=\"axis x\">").unwrap();
    let x = axis + page[axis..].find("<text x=\"").unwrap() + 9;
    let x_end = x + page[x..].find('"').unwrap();
    let second = x_end + page[x_end..].find("<text x=\"").unwrap() + 9;
    let second_end = second + page[second..].find('"').unwrap();
    let overprinted = format!(
        "{}{}{}",
        &page[..second],
        &page[x..x_end],
        &page[second_end..]
    );
    assert!(fails(overprinted));
    // REST in another colour in one chart.
    let rest = crate_colour("rest");
    let swatch = page.find(&format!("fill=\"{rest}\"/><text")).unwrap();
    assert!(fails(format!(
        "{}fill=\"#000001\"{}",
        &page[..swatch],
        &page[swatch + format!("fill=\"{rest}\"").len()..]
    )));
    // Anything fetched.
    assert!(
        !external_references(&page.replace("</body>", "<img src=\"x.png\"></body>")).is_empty()
    );
    assert!(
        !external_references(&page.replace("</body>", "<a href=\"https://x\">x</a></body>"))
            .is_empty()
    );
}

fn crate_colour(protocol: &str) -> &'static str {
    bench::charts::protocol_color(protocol)
}

//! Runs at several catalogue sizes (`--events 10000,1000000`) or search modes (`--search
//! database,index`): splitting a results file into one part per `(events, search)`
//! condition (each reported as a run of its own, its conditions line naming both), and
//! the table and charts of each scenario's median latency against the catalogue size
//! per protocol, so a reader sees which operations stay flat. A file of one size and
//! one mode has none of this.

use crate::charts::{
    Bar, BarChart, BarGroup, LegendItem, Swatch, bar_chart, escape, protocol_color,
};
use crate::results::{Results, Run};

use super::format;
use super::model::{Shape, display, protocol_order, scenario_order};

/// One part of a sweep: a catalogue size and, over PostgreSQL, a search mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Events in the catalogue.
    pub events: u32,
    /// `database` or `index`; `None` for the memory store.
    pub search: Option<String>,
}

impl Condition {
    /// `10000 events, search: index`, as the part's heading says it.
    pub fn label(&self) -> String {
        match &self.search {
            Some(search) => format!("{} events, search: {search}", self.events),
            None => format!("{} events", self.events),
        }
    }
}

/// The catalogue size a run was made on.
pub fn events_of(results: &Results, run: &Run) -> u32 {
    run.events.unwrap_or(results.meta.dataset_events)
}

/// The `(events, search)` conditions of a file's runs, in the order they first appear
/// (a run without a search mode, the database floor's, belongs to every mode of its
/// size and names no condition of its own unless it is alone).
pub fn conditions(results: &Results) -> Vec<Condition> {
    let mut out: Vec<Condition> = Vec::new();
    for run in &results.runs {
        let key = Condition {
            events: events_of(results, run),
            search: run.search.clone(),
        };
        if !out.contains(&key) {
            out.push(key);
        }
    }
    let searched: Vec<u32> = out
        .iter()
        .filter(|c| c.search.is_some())
        .map(|c| c.events)
        .collect();
    out.retain(|c| c.search.is_some() || !searched.contains(&c.events));
    out
}

/// The catalogue sizes a file's runs were made on, in order.
pub fn sizes(results: &Results) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for c in conditions(results) {
        if !out.contains(&c.events) {
            out.push(c.events);
        }
    }
    out
}

/// One results file per condition, its `meta` naming the size and mode (failures and
/// skipped protocols kept with every part; staleness with its size's index part);
/// empty for a file of one condition.
pub fn split(results: &Results) -> Vec<(Condition, Results)> {
    let conditions = conditions(results);
    if conditions.len() < 2 {
        return Vec::new();
    }
    conditions
        .into_iter()
        .map(|c| {
            let mut part = results.clone();
            part.runs.retain(|r| {
                events_of(results, r) == c.events && (r.search.is_none() || r.search == c.search)
            });
            part.search_staleness.retain(|s| {
                s.events == c.events && c.search.as_deref().is_none_or(|m| m == "index")
            });
            part.meta.dataset_events = c.events;
            part.meta.events_sweep = Vec::new();
            if c.search.is_some() {
                part.meta.search.clone_from(&c.search);
            }
            for run in &mut part.runs {
                run.events = None;
            }
            (c, part)
        })
        .collect()
}

/// Scenario, load, search mode, security condition (`--security` with several) and
/// protocol.
type Row = (String, Shape, Option<String>, Option<String>, String);

/// The rows of the latency-against-size table: per scenario, load, search mode and
/// protocol, the median at each size and the growth from the first size to the last;
/// empty unless two or more sizes ran.
pub fn rows(results: &Results) -> (Vec<String>, Vec<Vec<String>>) {
    let sizes = sizes(results);
    if sizes.len() < 2 {
        return (Vec::new(), Vec::new());
    }
    let mut keys: Vec<Row> = Vec::new();
    for run in &results.runs {
        let key = (
            run.scenario.clone(),
            Shape::of(run),
            run.search.clone(),
            run.security.clone(),
            run.protocol.clone(),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.sort_by(|a, b| {
        (scenario_order(&a.0), a.1, &a.2, &a.3, protocol_order(&a.4)).cmp(&(
            scenario_order(&b.0),
            b.1,
            &b.2,
            &b.3,
            protocol_order(&b.4),
        ))
    });
    let searched = keys.iter().any(|k| k.2.is_some());
    let mut header = vec!["scenario".to_owned(), "load".to_owned()];
    if searched {
        header.push("search".to_owned());
    }
    let secured = keys.iter().any(|k| k.3.is_some());
    if secured {
        header.push("security".to_owned());
    }
    header.push("protocol".to_owned());
    header.extend(sizes.iter().map(|n| format!("p50 µs at {n} events")));
    header.push("last / first".to_owned());
    let rows = keys
        .iter()
        .map(|(scenario, shape, search, security, protocol)| {
            let p50 = |size: u32| {
                results
                    .runs
                    .iter()
                    .find(|r| {
                        r.scenario == *scenario
                            && Shape::of(r) == *shape
                            && r.search == *search
                            && r.security == *security
                            && r.protocol == *protocol
                            && events_of(results, r) == size
                    })
                    .map(|r| r.latency_us.p50)
            };
            let mut row = vec![scenario.clone(), shape.short()];
            if searched {
                row.push(search.clone().unwrap_or_else(|| "-".to_owned()));
            }
            if secured {
                row.push(security.clone().unwrap_or_else(|| "-".to_owned()));
            }
            row.push(protocol.clone());
            let figures: Vec<Option<u64>> = sizes.iter().map(|&n| p50(n)).collect();
            row.extend(
                figures
                    .iter()
                    .map(|f| f.map_or_else(|| "-".to_owned(), |v| v.to_string())),
            );
            row.push(
                match (
                    figures.first().copied().flatten(),
                    figures.last().copied().flatten(),
                ) {
                    (Some(first), Some(last)) if first > 0 => {
                        format!("{:.1}x", last as f64 / first as f64)
                    }
                    _ => "-".to_owned(),
                },
            );
            row
        })
        .collect();
    (header, rows)
}

/// What the table shows, in a sentence.
const NOTE: &str = "Each row: one scenario at one load through one protocol, its median latency at each catalogue size the suite ran (every server started afresh on that size), and the last size's median over the first's: near 1.0x the operation stays flat as the catalogue grows.";

/// The terminal's table (empty unless two or more sizes ran).
pub fn terminal(results: &Results) -> String {
    let (header, rows) = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "median latency against catalogue size\n{}\n",
        format::terminal_table(&header, &rows)
    )
}

/// report.md's section (empty unless two or more sizes ran).
pub fn markdown(results: &Results) -> String {
    let (header, rows) = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "## Median latency against catalogue size\n\n{NOTE}\n\n{}",
        format::markdown_table(&header, &rows)
    )
}

/// The median latency of every protocol on `scenario` at `shape` (and `search`), one
/// group of bars per catalogue size.
fn chart(results: &Results, scenario: &str, shape: Shape, search: Option<&str>) -> String {
    let runs: Vec<&Run> = results
        .runs
        .iter()
        .filter(|r| r.scenario == scenario && Shape::of(r) == shape)
        .filter(|r| r.search.as_deref() == search)
        .collect();
    let mut protocols: Vec<&str> = Vec::new();
    for run in &runs {
        if !protocols.contains(&run.protocol.as_str()) {
            protocols.push(&run.protocol);
        }
    }
    protocols.sort_by_key(|p| protocol_order(p));
    let groups: Vec<BarGroup> = sizes(results)
        .into_iter()
        .map(|size| BarGroup {
            label: Some(format!("{size} events")),
            bars: protocols
                .iter()
                .filter_map(|p| {
                    let run = runs
                        .iter()
                        .find(|r| r.protocol == *p && events_of(results, r) == size)?;
                    let p50 = run.latency_us.p50 as f64;
                    Some(Bar {
                        label: display(p),
                        value: p50,
                        solid: None,
                        color: protocol_color(p).to_owned(),
                        text: format::micros(p50),
                        title: format!(
                            "{} {scenario} {} at {size} events: p50 {}, p99 {}",
                            display(p),
                            shape.words(),
                            format::micros(p50),
                            format::micros(run.latency_us.p99 as f64)
                        ),
                    })
                })
                .collect(),
        })
        .filter(|g| !g.bars.is_empty())
        .collect();
    if groups.len() < 2 {
        return String::new();
    }
    let title = match search {
        Some(mode) => format!(
            "{scenario} at {} (search: {mode}): p50 by catalogue size",
            shape.words()
        ),
        None => format!("{scenario} at {}: p50 by catalogue size", shape.words()),
    };
    bar_chart(&BarChart {
        title,
        x_label: "median latency".to_owned(),
        y_label: "events".to_owned(),
        format: format::micros_tick,
        groups,
        legend: protocols
            .iter()
            .map(|p| LegendItem::protocol(p, &display(p), Swatch::Box))
            .collect(),
        width: super::figures::WIDTH,
    })
}

/// report.html's section: the table and a chart per scenario, load and search mode
/// (empty unless two or more sizes ran).
pub fn html(results: &Results) -> String {
    let (header, rows) = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut html = format!(
        "<section id=\"scale\"><h2>Median latency against catalogue size</h2><p class=\"note\">{}</p>{}<div class=\"charts\">",
        escape(NOTE),
        format::html_table(&header, &rows)
    );
    let mut combos: Vec<(String, Shape, Option<String>)> = Vec::new();
    for run in &results.runs {
        let key = (run.scenario.clone(), Shape::of(run), run.search.clone());
        if !combos.contains(&key) {
            combos.push(key);
        }
    }
    combos
        .sort_by(|a, b| (scenario_order(&a.0), a.1, &a.2).cmp(&(scenario_order(&b.0), b.1, &b.2)));
    for (scenario, shape, search) in &combos {
        html.push_str(&chart(results, scenario, *shape, search.as_deref()));
    }
    html.push_str("</div></section>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(protocol: &str, events: u32, search: Option<&str>, p50: u64) -> Run {
        let mut run = Run {
            protocol: protocol.into(),
            scenario: "search_events".into(),
            concurrency: 1,
            events: Some(events),
            search: search.map(Into::into),
            ..Run::default()
        };
        run.latency_us.p50 = p50;
        run
    }

    #[test]
    fn a_sweep_splits_by_size_and_mode_and_tabulates_growth() {
        let mut results = Results::default();
        results.meta.dataset_events = 100;
        results.runs = vec![
            run("wire", 100, Some("database"), 200),
            run("wire", 100, Some("index"), 100),
            run("pgbench-floor", 100, None, 50),
            run("wire", 1000, Some("database"), 800),
            run("wire", 1000, Some("index"), 150),
        ];
        let parts = split(&results);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].0.label(), "100 events, search: database");
        // The floor belongs to both modes of its size.
        assert_eq!(parts[0].1.runs.len(), 2);
        assert_eq!(parts[1].1.runs.len(), 2);
        assert_eq!(parts[2].1.meta.dataset_events, 1000);
        let (header, rows) = rows(&results);
        assert!(header.iter().any(|h| h == "p50 µs at 1000 events"));
        let index = rows
            .iter()
            .find(|r| r[2] == "index" && r[3] == "wire")
            .expect("the index row");
        assert_eq!(index[4..], ["100", "150", "1.5x"]);
        assert!(markdown(&results).contains("against catalogue size"));
        assert!(html(&results).contains("id=\"scale\""));
    }

    #[test]
    fn one_size_has_no_section_and_no_split() {
        let mut results = Results {
            runs: vec![run("wire", 100, None, 200)],
            ..Results::default()
        };
        results.runs[0].events = None;
        assert!(split(&results).is_empty());
        assert!(markdown(&results).is_empty());
    }
}

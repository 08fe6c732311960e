//! The `--search index` staleness table: per protocol and catalogue size, how long a
//! change committed through the store took to show in search through a replica's
//! engine index (from `search_staleness`), for the terminal, report.md and report.html.

use super::format;
use crate::charts::escape;
use crate::results::Results;

/// Column names of the staleness table.
pub const HEADER: [&str; 11] = [
    "protocol",
    "events",
    "replicas",
    "changes",
    "asked /s",
    "done /s",
    "p50 µs",
    "p99 µs",
    "max µs",
    "call p50/p99",
    "not seen",
];

/// What the table measures, in a sentence.
pub const NOTE: &str = "Commit to searchable: a writer changed events through the store at a steady rate (each change holds an event's last seat, sold out, or cancels that hold, on sale again), and after each a prober searched through the protocol's client until the hit showed it. p50/p99/max run from the write's acknowledgement (the commit is before it) to the answer of the first search showing it; \"call p50/p99\" (µs) runs from the write's call (the commit is after it); asked and done are changes per second. Resolution: one search round trip.";

/// The table's rows (empty when no index run was made).
pub fn rows(results: &Results) -> Vec<Vec<String>> {
    results
        .search_staleness
        .iter()
        .map(|s| {
            vec![
                s.protocol.clone(),
                s.events.to_string(),
                s.replicas.to_string(),
                s.changes.to_string(),
                format!("{:.0}", s.rate),
                format!("{:.0}", s.write_rate_achieved),
                s.latency_us.p50.to_string(),
                s.latency_us.p99.to_string(),
                s.latency_us.max.to_string(),
                format!("{}/{}", s.from_call_us.p50, s.from_call_us.p99),
                s.not_seen.to_string(),
            ]
        })
        .collect()
}

/// The terminal's table (empty when no index run was made).
pub fn terminal(results: &Results) -> String {
    let rows = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "\nsearch index staleness: commit to searchable\n{}\n",
        format::terminal_table(&HEADER, &rows)
    )
}

/// report.md's section (empty when no index run was made).
pub fn markdown(results: &Results) -> String {
    let rows = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "\n## Search index staleness: commit to searchable\n\n{NOTE}\n\n{}",
        format::markdown_table(&HEADER, &rows)
    )
}

/// report.html's section (empty when no index run was made).
pub fn html(results: &Results) -> String {
    let rows = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<section id=\"staleness\"><h2>Search index staleness: commit to searchable</h2><p class=\"note\">{}</p>{}</section>",
        escape(NOTE),
        format::html_table(&HEADER, &rows)
    )
}

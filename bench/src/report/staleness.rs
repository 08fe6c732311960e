//! The `--search index` staleness table: per protocol and catalogue size, how long a
//! change committed through the store took to show in search through a replica's
//! engine index (from `search_staleness`), for the terminal, report.md and report.html.

use std::fmt::Write as _;

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
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(super::tables::TERMINAL_COLUMNS)
        .set_header(HEADER);
    for row in rows {
        table.add_row(row);
    }
    format!("\nsearch index staleness: commit to searchable\n{table}\n")
}

/// report.md's section (empty when no index run was made).
pub fn markdown(results: &Results) -> String {
    let rows = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut md = format!("\n## Search index staleness: commit to searchable\n\n{NOTE}\n\n");
    let _ = writeln!(md, "| {} |", HEADER.join(" | "));
    let _ = writeln!(md, "|{}", "---|".repeat(HEADER.len()));
    for row in rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    md
}

/// report.html's section (empty when no index run was made).
pub fn html(results: &Results) -> String {
    let rows = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section id=\"staleness\"><h2>Search index staleness: commit to searchable</h2><p class=\"note\">{}</p><table class=\"detail\"><tr>",
        escape(NOTE)
    );
    for h in HEADER {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></section>");
    out
}

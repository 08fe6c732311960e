//! The abuse run's output: a text table (one row per protocol and attack) and the JSON
//! file with every field of every row. Measuring is in [`super`].

use serde::Serialize;

use super::AttackReport;

/// Everything one run found, as written to the JSON file.
#[derive(Debug, Clone, Serialize)]
pub struct AbuseReport {
    /// Abusive connections per attack.
    pub connections: usize,
    /// Anything the reader must know (fewer connections than asked, say).
    pub notes: Vec<String>,
    /// One row per protocol and attack.
    pub rows: Vec<AttackReport>,
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |s| format!("{s:.1}"))
}

/// The table: per protocol and attack, the normal client's p99, slowest call, number of
/// calls (under 100 the p99 is the slowest call) and errors, the server's CPU time
/// during the attack and its peak RSS, and how the abusive connections ended.
pub fn render(rows: &[AttackReport]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{:<8} {:<15} {:>7} {:>7} {:>6} {:>6} {:>8} {:>8} {:>6} {:>6} {:>5} {:>12}  {:<48} server said",
        "protocol",
        "attack",
        "p99 ms",
        "max ms",
        "calls",
        "errors",
        "srv CPU",
        "RSS MiB",
        "limit",
        "other",
        "open",
        "ended (s)",
        "expected limit",
    );
    for row in rows {
        let said: Vec<String> = row
            .evidence
            .iter()
            .take(3)
            .map(|(what, n)| format!("{what} x{n}"))
            .collect();
        let expected = match row.expected.after {
            Some(after) => format!("{} ({} s)", row.expected.limit, after.as_secs_f64()),
            None => format!("{} (at once)", row.expected.limit),
        };
        let _ = writeln!(
            out,
            "{:<8} {:<15} {:>7.2} {:>7.1} {:>6} {:>6} {:>8} {:>8.1} {:>6} {:>6} {:>5} {:>12}  {:<48} {}",
            row.protocol,
            row.attack.name(),
            row.normal.p99_ms,
            row.normal.max_ms,
            row.normal.calls,
            row.normal.errors,
            row.server_cpu_ms
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0} ms")),
            row.peak_rss_bytes as f64 / (1024.0 * 1024.0),
            row.ended_by_limit,
            row.ended_otherwise + row.not_connected,
            row.still_open,
            format!("{}-{}", seconds(row.first_end_s), seconds(row.last_end_s)),
            expected,
            said.join(", ")
        );
        if let Some(kernel) = row.kernel.filter(|k| k.any()) {
            let _ = writeln!(out, "         ^ {}", kernel.describe());
        }
    }
    out
}

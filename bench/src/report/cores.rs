//! Server throughput against server cores, for a suite that swept `--server-cpus`: one
//! row per protocol, scenario, load, link and compression, one column per CPU set
//! (ops/s and the multiple of the first set's), and the file split into one part per
//! set so that every other table keeps one run per cell. A suite on one set has none
//! of this.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::Shape;
use crate::charts::escape;
use crate::cpus::CpuSet;
use crate::results::{Results, Run};

/// The server CPU sets the runs name, in the order they ran.
pub fn sets(results: &Results) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for run in &results.runs {
        if let Some(set) = &run.server_cpus
            && !out.contains(set)
        {
            out.push(set.clone());
        }
    }
    out
}

/// One results file per server CPU set (`meta.server_cpus` naming it); empty unless
/// the suite swept two or more.
pub fn split(results: &Results) -> Vec<(String, Results)> {
    let sets = sets(results);
    if sets.len() < 2 {
        return Vec::new();
    }
    sets.into_iter()
        .map(|set| {
            let mut part = results.clone();
            part.runs.retain(|r| r.server_cpus.as_ref() == Some(&set));
            part.meta.server_cpus = Some(set.clone());
            (set, part)
        })
        .collect()
}

/// A set's size, for the header: `1-2` is `2 cores`.
fn cores(set: &str) -> String {
    match set.parse::<CpuSet>().map(|s| s.len()) {
        Ok(1) => "1 core".to_owned(),
        Ok(n) => format!("{n} cores"),
        Err(_) => "? cores".to_owned(),
    }
}

type Key = (String, String, Shape, String, String);

/// The table: a header and one row of cells per run key, each cell `ops/s (×first)`.
fn rows(results: &Results) -> (Vec<String>, Vec<Vec<String>>) {
    let sets = sets(results);
    let mut by_key: BTreeMap<Key, Vec<Option<&Run>>> = BTreeMap::new();
    for run in &results.runs {
        let Some(i) = run
            .server_cpus
            .as_ref()
            .and_then(|s| sets.iter().position(|x| x == s))
        else {
            continue;
        };
        let key = (
            run.protocol.clone(),
            run.scenario.clone(),
            Shape::of(run),
            run.link_name().to_owned(),
            run.compression_name().to_owned(),
        );
        by_key.entry(key).or_insert_with(|| vec![None; sets.len()])[i] = Some(run);
    }
    let mut header = vec![
        "protocol".to_owned(),
        "scenario".to_owned(),
        "load".to_owned(),
    ];
    header.extend(sets.iter().map(|s| format!("CPUs {s} ({})", cores(s))));
    let rows = by_key
        .into_iter()
        .map(|((protocol, scenario, shape, link, compression), runs)| {
            let first = runs.first().copied().flatten().map(|r| r.throughput_ops_s);
            let mut row = vec![protocol, scenario, shape.short()];
            if link != "loopback" || compression != "none" {
                row[2] = format!("{} over {link}, {compression}", shape.short());
            }
            row.extend(runs.iter().map(|run| match (run, first) {
                (Some(r), Some(f)) if f > 0.0 => {
                    format!("{:.0} ({:.2}x)", r.throughput_ops_s, r.throughput_ops_s / f)
                }
                (Some(r), _) => format!("{:.0}", r.throughput_ops_s),
                (None, _) => "-".to_owned(),
            }));
            row
        })
        .collect();
    (header, rows)
}

const TITLE: &str = "Server throughput against server cores";
const NOTE: &str = "ops/s of each run with the servers pinned to each --server-cpus set (a runtime worker thread per CPU), and its multiple of the first set's; the load generator kept its own CPUs throughout, so a run flagged client-bound in its part below shows the client's limit, not the server's.";

/// The markdown section; empty unless the suite swept two or more sets.
pub fn markdown(results: &Results) -> String {
    if sets(results).len() < 2 {
        return String::new();
    }
    let (header, rows) = rows(results);
    let mut md = format!("## {TITLE}\n\n{NOTE}\n\n| {} |\n|", header.join(" | "));
    md.push_str(&"---|".repeat(header.len()));
    md.push('\n');
    for row in rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    md
}

/// The plain-text section for the terminal, columns padded to their widest cell; empty
/// unless the suite swept two or more sets. The console then prints each set's own
/// table after it.
pub fn terminal(results: &Results) -> String {
    if sets(results).len() < 2 {
        return String::new();
    }
    let (header, rows) = rows(results);
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .chain(std::iter::once(&header[i]))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut text = format!("== {TITLE}\n{}\n", line(&header));
    for row in rows {
        let _ = writeln!(text, "{}", line(&row));
    }
    text
}

/// The HTML section; empty unless the suite swept two or more sets.
pub fn html(results: &Results) -> String {
    if sets(results).len() < 2 {
        return String::new();
    }
    let (header, rows) = rows(results);
    let mut out = format!(
        "<section id=\"cores\"><h2>{TITLE}</h2><p>{}</p><table><thead><tr>",
        escape(NOTE)
    );
    for h in &header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(set: &str, ops: f64) -> Run {
        Run {
            protocol: "grpc".into(),
            scenario: "get_event".into(),
            concurrency: 32,
            throughput_ops_s: ops,
            server_cpus: Some(set.into()),
            ..Run::default()
        }
    }

    #[test]
    fn a_sweep_shows_each_set_against_the_first_and_splits_the_file() {
        let results = Results {
            runs: vec![run("1", 1000.0), run("1-2", 1800.0)],
            ..Results::default()
        };
        let md = markdown(&results);
        assert!(md.contains("CPUs 1-2 (2 cores)"), "{md}");
        assert!(
            md.contains("| grpc | get_event | c=32 | 1000 (1.00x) | 1800 (1.80x) |"),
            "{md}"
        );
        let text = terminal(&results);
        assert!(text.contains("CPUs 1 (1 core)"), "{text}");
        assert!(
            text.lines().any(|l| l.starts_with("grpc")
                && l.contains(" 1000 (1.00x) ")
                && l.ends_with(" 1800 (1.80x)")),
            "{text}"
        );
        let parts = split(&results);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].1.runs.len(), 1);
        assert_eq!(parts[1].1.meta.server_cpus.as_deref(), Some("1-2"));
    }

    #[test]
    fn one_set_has_no_section() {
        let results = Results {
            runs: vec![run("1", 1000.0)],
            ..Results::default()
        };
        assert!(markdown(&results).is_empty());
        assert!(html(&results).is_empty());
        assert!(terminal(&results).is_empty());
        assert!(split(&results).is_empty());
    }
}

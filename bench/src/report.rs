//! Reports from a results file: the console table (comfy-table), `report.md`, and a
//! self-contained `report.html` with SVG charts (plotters) that opens offline.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{Cell, Table, presets::UTF8_FULL};

use crate::results::{Results, Run};
use crate::scenario::Scenario;

/// Runs grouped by scenario, in report order (the order of [`Scenario::ALL`], then any
/// scenario this build does not know, by name).
pub fn by_scenario(results: &Results) -> BTreeMap<(usize, String), Vec<&Run>> {
    let mut groups: BTreeMap<(usize, String), Vec<&Run>> = BTreeMap::new();
    for run in &results.runs {
        let order = Scenario::ALL
            .iter()
            .position(|s| s.name() == run.scenario)
            .unwrap_or(usize::MAX);
        groups
            .entry((order, run.scenario.clone()))
            .or_default()
            .push(run);
    }
    groups
}

fn mode_label(run: &Run) -> String {
    match run.rate {
        Some(rate) => format!("open {rate:.0}/s"),
        None => format!("c={}", run.concurrency),
    }
}

/// The floor's p50 at the same shape, to show each latency as a multiple of it.
fn floor_p50(results: &Results, run: &Run) -> Option<u64> {
    results
        .runs
        .iter()
        .find(|r| {
            r.protocol == "tcp-floor" && r.concurrency == run.concurrency && r.rate == run.rate
        })
        .map(|r| r.latency_us.p50)
        .filter(|p| *p > 0)
}

/// One row per run of a scenario: numbers, the best marked, and ratios to the best.
fn rows(results: &Results) -> Vec<(String, Vec<Vec<String>>)> {
    let mut out = Vec::new();
    for ((_, scenario), runs) in by_scenario(results) {
        let mut shapes: BTreeMap<String, Vec<&Run>> = BTreeMap::new();
        for run in runs {
            shapes.entry(mode_label(run)).or_default().push(run);
        }
        for (shape, runs) in shapes {
            let best_tput = runs.iter().map(|r| r.throughput_ops_s).fold(0.0, f64::max);
            let best_p50 = runs
                .iter()
                .map(|r| r.latency_us.p50)
                .filter(|p| *p > 0)
                .min()
                .unwrap_or(0);
            let mut table = Vec::new();
            for run in runs {
                let fastest = run.latency_us.p50 == best_p50 && best_p50 > 0;
                let vs_floor = floor_p50(results, run)
                    .filter(|_| run.protocol != "tcp-floor")
                    .map_or_else(
                        || "-".to_owned(),
                        |f| format!("{:.1}x", run.latency_us.p50 as f64 / f as f64),
                    );
                table.push(vec![
                    format!("{}{}", run.protocol, if fastest { " *" } else { "" }),
                    format!("{:.0}", run.throughput_ops_s),
                    format!(
                        "{:.2}",
                        if best_tput > 0.0 {
                            run.throughput_ops_s / best_tput
                        } else {
                            0.0
                        }
                    ),
                    run.latency_us.p50.to_string(),
                    run.latency_us.p99.to_string(),
                    run.latency_us.p999.to_string(),
                    format!(
                        "{:.2}x",
                        if best_p50 > 0 {
                            run.latency_us.p50 as f64 / best_p50 as f64
                        } else {
                            0.0
                        }
                    ),
                    vs_floor,
                    format!(
                        "{:.0}/{:.0}",
                        run.bytes_per_op.request_payload, run.bytes_per_op.response_payload
                    ),
                    format!(
                        "{:.0}/{:.0}",
                        run.bytes_per_op.socket_sent, run.bytes_per_op.socket_received
                    ),
                    run.server_cpu_us_per_op
                        .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}")),
                    run.client_cpu_us_per_op.map_or_else(
                        || "-".to_owned(),
                        |c| {
                            format!(
                                "{c:.1}{}",
                                run.client_cpu_share
                                    .map_or_else(String::new, |s| format!(" ({:.0}%)", s * 100.0))
                            )
                        },
                    ),
                    format!(
                        "{}{}",
                        run.errors,
                        if run.conflicts > 0 {
                            format!(" ({} conflicts)", run.conflicts)
                        } else {
                            String::new()
                        }
                    ),
                    flags(run),
                ]);
            }
            out.push((format!("{scenario} {shape}"), table));
        }
    }
    out
}

/// What a reader must know before trusting a row: the client set the pace, the open loop
/// fell behind its rate, requests were dropped unanswered.
fn flags(run: &Run) -> String {
    let mut flags = Vec::new();
    if run.client_bound {
        flags.push("CLIENT-BOUND".to_owned());
    }
    if let (Some(rate), Some(achieved)) = (run.rate, run.achieved_rate_ops_s) {
        let mut text = format!("achieved {achieved:.0}/{rate:.0}/s");
        if run.rate_not_met {
            text = format!("RATE NOT MET: {text}");
            if let Some(backlog) = run.backlog_at_end.filter(|b| *b > 0) {
                let _ = write!(text, ", {backlog} unsent");
            }
        }
        flags.push(text);
    }
    if run.abandoned > 0 {
        flags.push(format!("{} abandoned", run.abandoned));
    }
    if flags.is_empty() {
        "-".to_owned()
    } else {
        flags.join("; ")
    }
}

const HEADER: [&str; 14] = [
    "protocol",
    "ops/s",
    "tput vs best",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "p50 vs best",
    "p50 vs floor",
    "payload B/op req/resp",
    "socket B/op sent/recv",
    "server CPU µs/op",
    "client CPU µs/op (share of its cores)",
    "errors",
    "flags",
];

/// What the CPU columns and flags mean, for every report.
fn legend(results: &Results) -> String {
    let m = &results.meta;
    let threshold = m
        .client_bound_threshold
        .unwrap_or(crate::commands::bench::record::CLIENT_BOUND_THRESHOLD);
    let cores = m
        .client_cores
        .map_or_else(|| "its cores".to_owned(), |c| format!("its {c} core(s)"));
    format!(
        "Server CPU is the server process's CPU time per op (\"-\" for a --target the harness did not start); client CPU is the load generator's (this `quartet bench` process, every thread), per op and as a share of {cores}. CLIENT-BOUND: the load generator used {:.0}% or more of {cores} over the window, so the client may have set the pace and ops/s is a floor on what the server can do. Open loop: achieved = operations finished inside the window per second; RATE NOT MET when under {:.0}% of the rate asked for or when the backlog of unsent requests grew; nothing is sent after the window and requests in flight get {} s to finish (then abandoned).",
        threshold * 100.0,
        crate::commands::bench::record::RATE_MET_SHARE * 100.0,
        crate::load::DRAIN.as_secs()
    )
}

/// The runs that measured nothing, one line each.
fn failure_lines(results: &Results) -> Vec<String> {
    results.failures.iter().map(ToString::to_string).collect()
}

/// The table printed at the end of `quartet bench`.
pub fn console_table(results: &Results) -> String {
    let mut text = String::new();
    for (title, rows) in rows(results) {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL)
            .set_header(HEADER.iter().map(|h| Cell::new(*h)));
        for row in rows {
            table.add_row(row);
        }
        let _ = writeln!(text, "\n{title}\n{table}");
    }
    let _ = writeln!(
        text,
        "* = lowest median latency. Bytes: payload = message bodies; socket = everything on the wire (HTTP, HTTP/2, gRPC and frame headers included).\n{}",
        legend(results)
    );
    for line in failure_lines(results) {
        let _ = writeln!(text, "FAILED {line}");
    }
    text
}

fn meta_lines(results: &Results) -> String {
    let m = &results.meta;
    format!(
        "- Machine: {} ({} cores), {}\n- Toolchain: {}; source revision {}\n- Dataset: {} events, seed {}\n- Started: {}; client and server pinned to separate cores: {}; warm-up {} s per run\n- Command: `{}`\n",
        m.cpu_model,
        m.cores,
        m.os,
        m.rustc_version,
        m.git_revision,
        m.dataset_events,
        m.dataset_seed,
        m.started_at,
        m.pinned,
        m.warmup_s,
        m.command_line
    )
}

/// `report.md`.
pub fn markdown(results: &Results) -> String {
    let mut md = String::from("# Quartet benchmark report\n\n");
    md.push_str(&meta_lines(results));
    md.push_str("\nLatency in µs (closed loop: from send to answer; open loop: from each request's intended start). `*` marks the lowest median. Payload bytes are message bodies as the client counted them; socket bytes are what the server read from and wrote to its connections (counted on the connection itself), headers and framing included. hold_cancel counts a hold plus its cancel as one op.\n");
    let _ = writeln!(md, "\n{}", legend(results));
    let failures = failure_lines(results);
    if !failures.is_empty() {
        let _ = writeln!(
            md,
            "\n## Runs that measured nothing (no figures)\n\n{}",
            failures
                .iter()
                .map(|f| format!("- {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    for (title, rows) in rows(results) {
        let _ = writeln!(md, "\n## {title}\n");
        let _ = writeln!(md, "| {} |", HEADER.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(HEADER.len()));
        for row in rows {
            let _ = writeln!(md, "| {} |", row.join(" | "));
        }
    }
    let doubles: Vec<String> = results
        .runs
        .iter()
        .filter_map(|r| {
            r.double_bookings
                .map(|d| format!("{} {}: {d}", r.protocol, mode_label(r)))
        })
        .collect();
    if !doubles.is_empty() {
        let _ = writeln!(
            md,
            "\n## contended_hold: seats found in two live bookings (must be 0)\n\n{}",
            doubles.join(", ")
        );
    }
    md
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `report.html`: the tables and three kinds of chart, all inline.
pub fn html(results: &Results) -> String {
    let mut page = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Quartet benchmark report</title><style>\
         body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0;font-size:13px}\
         td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}\
         .charts{display:flex;flex-wrap:wrap;gap:12px}</style></head><body><h1>Quartet benchmark report</h1><pre>",
    );
    page.push_str(&escape(&meta_lines(results)));
    page.push_str("</pre><p>");
    page.push_str(&escape(&legend(results)));
    page.push_str("</p>");
    let failures = failure_lines(results);
    if !failures.is_empty() {
        page.push_str("<h2>Runs that measured nothing (no figures)</h2><ul>");
        for f in failures {
            let _ = write!(page, "<li>{}</li>", escape(&f));
        }
        page.push_str("</ul>");
    }
    page.push_str("<h2>Latency percentiles (closed loop)</h2><div class=\"charts\">");
    for ((_, scenario), runs) in by_scenario(results) {
        page.push_str(&crate::charts::percentiles(&scenario, &runs));
    }
    page.push_str(
        "</div><h2>Bytes per op: payload and protocol overhead</h2><div class=\"charts\">",
    );
    for ((_, scenario), runs) in by_scenario(results) {
        page.push_str(&crate::charts::bytes(&scenario, &runs));
    }
    page.push_str("</div><h2>Median latency against concurrency</h2><div class=\"charts\">");
    for ((_, scenario), runs) in by_scenario(results) {
        page.push_str(&crate::charts::concurrency(&scenario, &runs));
    }
    page.push_str("</div><h2>Tables</h2>");
    for (title, rows) in rows(results) {
        let _ = write!(page, "<h3>{}</h3><table><tr>", escape(&title));
        for h in HEADER {
            let _ = write!(page, "<th>{}</th>", escape(h));
        }
        page.push_str("</tr>");
        for row in rows {
            page.push_str("<tr>");
            for cell in row {
                let _ = write!(page, "<td>{}</td>", escape(&cell));
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>");
    }
    page.push_str("</body></html>\n");
    page
}

//! The detail tables: one per scenario and shape, one row per run. All columns in
//! report.md, report.html and `--wide`; the columns that matter most in the terminal,
//! so the table fits 100 columns.

use std::fmt::Write as _;

use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::model::{Shape, View, is_floor};
use crate::results::{Results, Run};

/// Every column, for report.md, report.html and `--wide`.
pub const HEADER: [&str; 15] = [
    "protocol",
    "ops/s",
    "tput vs best",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "round trips/op (requests)",
    "p50 vs best",
    "p50 vs floor",
    "payload B/op req/resp",
    "socket B/op sent/recv",
    "server CPU µs/op",
    "client CPU µs/op (share of its cores)",
    "errors",
    "flags",
];

/// The terminal's columns (headers on two lines to stay narrow).
pub const NARROW_HEADER: [&str; 10] = [
    "protocol",
    "ops/s",
    "ops/s\nvs best",
    "p50\nµs",
    "p99\nµs",
    "RT/\nop",
    "p50 vs\nfloor",
    "socket B/op\nsent/recv",
    "CPU µs/op\nsrv/client",
    "flags",
];

/// The width the terminal table keeps within.
pub const TERMINAL_COLUMNS: u16 = 100;

/// A run's figures in every form the tables need.
struct Figures {
    name: String,
    tput: String,
    tput_vs_best: String,
    p50: String,
    p99: String,
    p999: String,
    round_trips: String,
    p50_vs_best: String,
    p50_vs_floor: String,
    payload: String,
    socket: String,
    server_cpu: String,
    client_cpu: String,
    cpu_short: String,
    errors: String,
    flags: String,
}

/// `1.3x TCP` or `1.1x HTTP/1, 2.2x TCP`: p50 over the protocol's engine floor (GraphQL's
/// `{ __typename }`), its own floor and the TCP floor, where they ran the same scenario
/// at the same shape.
fn vs_floors(view: &View<'_>, run: &Run) -> String {
    if is_floor(&run.protocol) || run.latency_us.p50 == 0 {
        return "-".to_owned();
    }
    let shape = Shape::of(run);
    let mut parts = Vec::new();
    let engine = super::model::engine_floor(&run.protocol);
    let own = super::model::own_floor(&run.protocol);
    let database = Some("pgbench-floor");
    for floor in [database, engine, own, Some("tcp-floor")]
        .into_iter()
        .flatten()
    {
        if parts.iter().any(|(f, _)| *f == floor) {
            continue;
        }
        if let Some(f) = view
            .run(&run.scenario, floor, shape)
            .filter(|f| f.latency_us.p50 > 0)
        {
            parts.push((
                floor,
                format!(
                    "{:.1}x {}",
                    run.latency_us.p50 as f64 / f.latency_us.p50 as f64,
                    super::model::floor_short(floor)
                ),
            ));
        }
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a reader must know before trusting a row: the client set the pace, the open loop
/// fell behind its rate, requests were dropped unanswered.
pub fn flags(run: &Run) -> String {
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

fn figures(view: &View<'_>, run: &Run, best_tput: f64, best_p50: u64) -> Figures {
    let fastest = run.latency_us.p50 == best_p50 && best_p50 > 0 && !is_floor(&run.protocol);
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let mut errors = run.errors.to_string();
    if run.conflicts > 0 {
        let _ = write!(errors, " ({} conflicts)", run.conflicts);
    }
    Figures {
        name: format!("{}{}", run.protocol, if fastest { " *" } else { "" }),
        tput: format!("{:.0}", run.throughput_ops_s),
        tput_vs_best: format!("{:.2}", ratio(run.throughput_ops_s, best_tput)),
        p50: run.latency_us.p50.to_string(),
        p99: run.latency_us.p99.to_string(),
        p999: run.latency_us.p999.to_string(),
        round_trips: round_trips(run),
        p50_vs_best: format!("{:.2}x", ratio(run.latency_us.p50 as f64, best_p50 as f64)),
        p50_vs_floor: vs_floors(view, run),
        payload: format!(
            "{:.0}/{:.0}",
            run.bytes_per_op.request_payload, run.bytes_per_op.response_payload
        ),
        socket: format!(
            "{:.0}/{:.0}",
            run.bytes_per_op.socket_sent, run.bytes_per_op.socket_received
        ),
        server_cpu: run
            .server_cpu_us_per_op
            .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}")),
        client_cpu: run.client_cpu_us_per_op.map_or_else(
            || "-".to_owned(),
            |c| {
                format!(
                    "{c:.1}{}",
                    run.client_cpu_share
                        .map_or_else(String::new, |s| format!(" ({:.0}%)", s * 100.0))
                )
            },
        ),
        cpu_short: format!(
            "{}/{}",
            run.server_cpu_us_per_op
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}")),
            run.client_cpu_us_per_op
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}"))
        ),
        errors,
        flags: flags(run),
    }
}

/// The runs of each scenario and shape with their figures, in report order.
fn sections<'a>(view: &View<'a>) -> Vec<(String, Vec<(&'a Run, Figures)>)> {
    let mut out = Vec::new();
    // A secured run's every table says so in its title (`--tls`, `--auth`), so no
    // table of one reads as a plain-text figure when lifted out of its report.
    let secured = if view
        .results
        .runs
        .iter()
        .any(|r| r.tls == Some(true) || r.auth == Some(true))
    {
        format!(" · {}", super::model::security(view.results))
    } else {
        String::new()
    };
    for scenario in &view.scenarios {
        for shape in view.shapes_of(scenario) {
            let runs = view.runs_at(scenario, shape);
            // The best among the API styles (the floors are baselines, not contenders),
            // or among the floors when nothing else ran.
            let contenders: Vec<&Run> = runs
                .iter()
                .copied()
                .filter(|r| !is_floor(&r.protocol))
                .collect();
            let pool = if contenders.is_empty() {
                &runs
            } else {
                &contenders
            };
            let best_tput = pool.iter().map(|r| r.throughput_ops_s).fold(0.0, f64::max);
            let best_p50 = pool
                .iter()
                .map(|r| r.latency_us.p50)
                .filter(|p| *p > 0)
                .min()
                .unwrap_or(0);
            let rows = runs
                .into_iter()
                .map(|r| (r, figures(view, r, best_tput, best_p50)))
                .collect();
            out.push((format!("{scenario} {}{secured}", shape.short()), rows));
        }
    }
    out
}

/// `1`, or `2 (4.3)`: round trips one op waits for one after another, and the requests
/// it sends where they differ; `-` where not counted.
pub fn round_trips(run: &Run) -> String {
    match (run.round_trips_per_op, run.requests_per_op) {
        (Some(trips), Some(requests)) if (requests - trips).abs() >= 0.05 => {
            format!("{trips:.0} ({requests:.1})")
        }
        (Some(trips), _) => format!("{trips:.0}"),
        (None, _) => "-".to_owned(),
    }
}

fn wide_row(f: Figures) -> Vec<String> {
    vec![
        f.name,
        f.tput,
        f.tput_vs_best,
        f.p50,
        f.p99,
        f.p999,
        f.round_trips,
        f.p50_vs_best,
        f.p50_vs_floor,
        f.payload,
        f.socket,
        f.server_cpu,
        f.client_cpu,
        f.errors,
        f.flags,
    ]
}

fn narrow_row(run: &Run, f: Figures) -> Vec<String> {
    let mut flags = if f.flags == "-" {
        Vec::new()
    } else {
        vec![f.flags]
    };
    if run.errors > 0 {
        flags.insert(0, format!("{} errors", run.errors));
    }
    vec![
        f.name,
        f.tput,
        f.tput_vs_best,
        f.p50,
        f.p99,
        f.round_trips,
        f.p50_vs_floor,
        f.socket,
        f.cpu_short,
        if flags.is_empty() {
            "-".to_owned()
        } else {
            flags.join("; ")
        },
    ]
}

/// Every detail table with every column: (title, rows).
pub fn wide(results: &Results) -> Vec<(String, Vec<Vec<String>>)> {
    sections(&View::new(results))
        .into_iter()
        .map(|(title, rows)| (title, rows.into_iter().map(|(_, f)| wide_row(f)).collect()))
        .collect()
}

/// The detail tables for a terminal: narrow (within [`TERMINAL_COLUMNS`]) or wide.
pub fn terminal(results: &Results, wide: bool) -> String {
    let mut text = String::new();
    for (title, rows) in sections(&View::new(results)) {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        if wide {
            table.set_header(HEADER.iter().map(|h| Cell::new(*h)));
            for (_, f) in rows {
                table.add_row(wide_row(f));
            }
        } else {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(TERMINAL_COLUMNS)
                .set_header(NARROW_HEADER.iter().map(|h| Cell::new(*h)));
            for (run, f) in rows {
                table.add_row(narrow_row(run, f));
            }
        }
        let _ = writeln!(text, "\n{title}\n{table}");
    }
    text
}

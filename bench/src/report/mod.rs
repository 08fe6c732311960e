//! Reports from a results file: the terminal table, `report.md`, a self-contained
//! `report.html`, and the comparison of two runs. Every report opens with the verdict:
//! the run's conditions, a summary computed from the figures, and a scenario x protocol
//! grid per metric.
//!
//! - [`model`]: the runs indexed; contenders, floors, shapes, metrics, grid cells.
//! - [`summary`]: the verdict in generated sentences.
//! - [`verdict`]: the grids (HTML and markdown).
//! - [`figures`]: the charts made from runs (drawn by [`crate::charts`]).
//! - [`tables`]: every figure, per scenario and shape (terminal, markdown, HTML).
//! - [`html`]: the page; [`compare`]: two runs side by side; [`format`]: numbers.
//! - [`links`]: runs over several links or compressions: one report per condition,
//!   and median latency across the links.
//! - [`watch`]: the `watch` scenario's own table (delivery latency, resyncs, per
//!   delivered message costs) and the slow subscriber.
//! - [`scale`]: runs at several catalogue sizes or search modes: one report per
//!   condition, and each scenario's latency against the catalogue size.
//! - [`security`]: runs under several security conditions (`--security`): one report
//!   per condition, and each protocol's figures per condition side by side, as a
//!   multiple of plain text's.
//! - [`staleness`]: the `--search index` staleness table.

pub mod compare;
pub mod cores;
pub mod figures;
pub mod format;
pub mod html;
pub mod links;
pub mod model;
pub mod scale;
pub mod security;
pub mod staleness;
pub mod summary;
pub mod tables;
pub mod verdict;
pub mod watch;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::results::{Results, Run};

pub use self::model::View;

/// Runs grouped by scenario, in report order (the order of
/// [`crate::scenario::Scenario::ALL`], then any scenario this build does not know, by
/// name).
pub fn by_scenario(results: &Results) -> BTreeMap<(usize, String), Vec<&Run>> {
    let mut groups: BTreeMap<(usize, String), Vec<&Run>> = BTreeMap::new();
    for run in &results.runs {
        groups
            .entry(model::scenario_order(&run.scenario))
            .or_default()
            .push(run);
    }
    groups
}

/// What the CPU columns and flags mean, for every report.
pub fn legend(results: &Results) -> String {
    let m = &results.meta;
    let threshold = m
        .client_bound_threshold
        .unwrap_or(crate::commands::bench::record::CLIENT_BOUND_THRESHOLD);
    let cores = m
        .client_cores
        .map_or_else(|| "its cores".to_owned(), |c| format!("its {c} core(s)"));
    format!(
        "Latency in µs (closed loop: from send to answer; open loop: from each request's intended start). `*` marks the lowest median among the API styles (\"vs best\" is against the best of them; the floors are baselines). Payload bytes are message bodies as the client counted them; socket bytes are what the server read from and wrote to its connections (counted on the connection itself), headers and framing included. hold_cancel counts a hold plus its cancel as one op. p50 vs floor: the median over that of GraphQL's engine floor (its server answering `{{ __typename }}`), of the protocol's own floor (HTTP/1 for REST and GraphQL, HTTP/2 for gRPC, TCP for wire) and of the TCP floor, where a floor ran the same scenario at the same load. Server CPU is the server process's CPU time per op (\"-\" for a --target the harness did not start); client CPU is the load generator's (this `quartet bench` process, every thread), per op and as a share of {cores}. CLIENT-BOUND: the load generator used {:.0}% or more of {cores} over the window, so the client may have set the pace and ops/s is a floor on what the server can do. Open loop: achieved = operations finished inside the window per second; RATE NOT MET when under {:.0}% of the rate asked for or when the backlog of unsent requests grew; nothing is sent after the window and requests in flight get {} s to finish (then abandoned).",
        threshold * 100.0,
        crate::commands::bench::record::RATE_MET_SHARE * 100.0,
        crate::load::DRAIN.as_secs()
    )
}

/// Where, with what and how the run was made.
pub fn meta_lines(results: &Results) -> String {
    let m = &results.meta;
    let mut lines = meta_lines_common(results);
    // Only a PostgreSQL run says so: a memory run's lines stay as they always were.
    if m.store.as_deref() == Some("postgres") {
        let _ = writeln!(
            lines,
            "- Store: PostgreSQL, a freshly loaded schema per protocol, {} server process(es) per protocol (clients spread round robin; server CPU, RSS and bytes summed over them; the database's own CPU is not counted); database floor: {}",
            m.replicas.unwrap_or(1),
            m.pgbench.as_deref().unwrap_or("not run")
        );
    }
    lines
}

fn meta_lines_common(results: &Results) -> String {
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

/// Wraps `text` at `width` columns, each line after the first indented by `indent`.
pub fn wrap(text: &str, width: usize, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = line.chars().count() + usize::from(!empty) + word.chars().count();
        if !empty && len > width {
            out.push_str(line.trim_end());
            out.push('\n');
            indent.clone_into(&mut line);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

fn console(results: &Results, wide: bool) -> String {
    // A sweep of catalogue sizes or search modes: latency against size, then each part.
    let parts = scale::split(results);
    if !parts.is_empty() {
        let mut text = scale::terminal(results);
        for (condition, part) in &parts {
            let _ = write!(text, "\n== {}\n{}", condition.label(), console(part, wide));
        }
        return text;
    }
    // A sweep of security conditions: each protocol per condition, then each part.
    let parts = security::split(results);
    if !parts.is_empty() {
        let mut text = security::terminal(results);
        for (condition, part) in &parts {
            let _ = write!(text, "\n== security: {condition}\n{}", console(part, wide));
        }
        return text;
    }
    // A sweep of server CPU sets: cores against throughput, then each set's own table.
    let sets = cores::split(results);
    if !sets.is_empty() {
        let mut text = cores::terminal(results);
        for (set, part) in &sets {
            let _ = write!(text, "\n== servers on CPUs {set}\n{}", console(part, wide));
        }
        return text;
    }
    let parts = links::split(results);
    if parts.len() > 1 {
        return parts
            .iter()
            .map(|((link, compression), part)| {
                format!(
                    "== link: {link}, compression: {compression}\n{}",
                    console_one(part, wide)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    console_one(results, wide)
}

fn console_one(results: &Results, wide: bool) -> String {
    let view = View::new(results);
    let mut text = tables::terminal(results, wide);
    text.push_str(&watch_terminal(results));
    text.push_str(&staleness::terminal(results));
    let width = if wide {
        160
    } else {
        usize::from(tables::TERMINAL_COLUMNS)
    };
    text.push('\n');
    text.push_str(&wrap(
        &format!(
            "* = lowest median latency. Bytes: payload = message bodies; socket = everything on the wire (HTTP, HTTP/2, gRPC and frame headers included). {}",
            legend(results)
        ),
        width,
        "",
        "",
    ));
    for f in &results.failures {
        text.push_str(&wrap(&format!("FAILED {f}"), width, "", "  "));
    }
    for s in &results.skipped {
        text.push_str(&wrap(&format!("NOT RUN: {s}"), width, "", "  "));
    }
    text.push('\n');
    text.push_str(&wrap(
        &format!("Verdict ({}):", html::conditions_line(results, &view)),
        width,
        "",
        "  ",
    ));
    for sentence in summary::sentences(&view) {
        text.push_str(&wrap(&sentence.plain(), width, "- ", "  "));
    }
    text
}

fn watch_terminal(results: &Results) -> String {
    let rows = watch::rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(tables::TERMINAL_COLUMNS)
        .set_header(watch::HEADER);
    for row in rows {
        table.add_row(row);
    }
    let mut text = format!(
        "
watch: delivery from commit to subscriber
{table}
"
    );
    let width = usize::from(tables::TERMINAL_COLUMNS);
    for line in watch::writer_line(results)
        .into_iter()
        .chain(watch::slow_lines(results))
    {
        text.push_str(&wrap(&line, width, "", "  "));
    }
    text
}

fn watch_markdown(results: &Results) -> String {
    let rows = watch::rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "
## watch: delivery from commit to subscriber

",
    );
    if let Some(line) = watch::writer_line(results) {
        let _ = writeln!(
            md,
            "{line}
"
        );
    }
    let _ = writeln!(md, "| {} |", watch::HEADER.join(" | "));
    let _ = writeln!(md, "|{}", "---|".repeat(watch::HEADER.len()));
    for row in rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    for line in watch::slow_lines(results) {
        let _ = writeln!(
            md,
            "
- {line}"
        );
    }
    md
}

/// The table printed at the end of `quartet bench`: the columns that matter most,
/// within 100 columns, then the verdict's sentences.
pub fn console_table(results: &Results) -> String {
    console(results, false)
}

/// [`console_table`] with every column (`--wide`).
pub fn console_table_wide(results: &Results) -> String {
    console(results, true)
}

/// `report.md`: the verdict (conditions, summary, grids), then every figure.
pub fn markdown(results: &Results) -> String {
    // A sweep of catalogue sizes or search modes: latency against size, then each part.
    let parts = scale::split(results);
    if !parts.is_empty() {
        let mut md = format!("# Quartet benchmark report\n\n{}", scale::markdown(results));
        for (condition, part) in &parts {
            let _ = write!(
                md,
                "\n---\n\n**{}**\n\n{}",
                condition.label(),
                markdown(part)
            );
        }
        return md;
    }
    // A sweep of security conditions: each protocol per condition, then each in turn.
    let parts = security::split(results);
    if !parts.is_empty() {
        let mut md = format!(
            "# Quartet benchmark report\n\n{}",
            security::markdown(results)
        );
        for (condition, part) in &parts {
            let _ = write!(
                md,
                "\n---\n\n**Security: {condition}**\n\n{}",
                markdown(part)
            );
        }
        return md;
    }
    // A sweep of server CPU sets: cores against throughput, then each set in turn.
    let sets = cores::split(results);
    if !sets.is_empty() {
        let mut md = format!(
            "# Quartet benchmark report\n\n{}\n",
            cores::markdown(results)
        );
        for (set, part) in &sets {
            let _ = write!(
                md,
                "\n---\n\n**Servers on CPUs {set}**\n\n{}",
                markdown(part)
            );
        }
        return md;
    }
    let parts = links::split(results);
    if parts.len() > 1 {
        return parts
            .iter()
            .map(|(_, part)| markdown_one(part))
            .collect::<Vec<_>>()
            .join("\n---\n\n");
    }
    markdown_one(results)
}

fn markdown_one(results: &Results) -> String {
    let view = View::new(results);
    let mut md = String::from("# Quartet benchmark report\n\n");
    let _ = writeln!(
        md,
        "**Conditions:** {}\n",
        html::conditions_line(results, &view)
    );
    md.push_str("## Verdict\n\n");
    for sentence in summary::sentences(&view) {
        let _ = writeln!(md, "- {}", sentence.markdown());
    }
    md.push_str("\nEach cell: the figure, its multiple of the row's best (**bold** = the best), and of the nearest floor beneath the protocol (GraphQL's engine floor, else its own, else TCP) where one ran the same scenario at the same load. ⚠ = a caveat (client-bound, rate not met, errors). Latency spectra and charts are in report.html.\n");
    md.push_str(&verdict::markdown(&view));
    md.push_str(&watch_markdown(results));
    md.push_str(&staleness::markdown(results));
    if !results.failures.is_empty() {
        let _ = writeln!(
            md,
            "\n## Runs that measured nothing (no figures)\n\n{}",
            results
                .failures
                .iter()
                .map(|f| format!("- {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    if !results.skipped.is_empty() {
        let _ = writeln!(
            md,
            "\n## Not run (the protocol cannot honour the condition; not a failure)\n\n{}",
            results
                .skipped
                .iter()
                .map(|s| format!("- {s}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    md.push_str("\n## The run\n\n");
    md.push_str(&meta_lines(results));
    let _ = writeln!(md, "\n{}", legend(results));
    for (title, rows) in tables::wide(results) {
        let _ = writeln!(md, "\n## {title}\n");
        let _ = writeln!(md, "| {} |", tables::HEADER.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(tables::HEADER.len()));
        for row in rows {
            let _ = writeln!(md, "| {} |", row.join(" | "));
        }
    }
    let doubles: Vec<String> = results
        .runs
        .iter()
        .filter_map(|r| {
            r.double_bookings
                .map(|d| format!("{} {}: {d}", r.protocol, model::Shape::of(r).short()))
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

/// `report.html`: see [`html::report`].
pub fn html(results: &Results) -> String {
    html::report(results)
}

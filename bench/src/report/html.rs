//! `report.html`: the verdict first (conditions, summary, grids), then latency spectra,
//! throughput, bytes, CPU and concurrency charts, then every figure in tables. One file:
//! inline CSS and SVG, no script, nothing fetched.

use std::fmt::Write as _;

use super::model::{self, View};
use super::{figures, legend, meta_lines, summary, tables, verdict};
use crate::charts::escape;
use crate::results::Results;

/// The stylesheet every page shares.
const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:18px 24px 40px;max-width:1380px;color:#222;background:#fff}\
h1{font-size:24px;margin:0 0 6px}h2{font-size:19px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 4px}\
.conditions{font-size:15px;margin:4px 0}.machine{color:#555;font-size:13px;margin:2px 0}\
nav{margin:8px 0 0;font-size:13px}nav a{margin-right:14px;color:#1f5f9f}\
ul.summary{margin:6px 0 10px;padding-left:20px;max-width:1150px}ul.summary li{margin:3px 0}\
.key{font-size:12.5px;color:#333}.key span{padding:1px 6px;margin-right:3px;border-radius:3px;white-space:nowrap}\
.grids{display:flex;flex-wrap:wrap;gap:14px 22px;align-items:flex-start}\
table.grid{border-collapse:collapse;font-size:12.5px}\
table.grid caption{text-align:left;font-weight:600;padding:2px 0 4px;font-size:13.5px}\
table.grid th,table.grid td{border:1px solid #d6d6d6;padding:2px 6px}\
table.grid th{background:#f6f6f6;font-weight:600}\
table.grid td{text-align:right;min-width:92px;white-space:nowrap}\
table.grid.changes td{min-width:0;padding:2px 4px}table.grid.changes td small{font-size:10.5px}table.grid td small{display:block;color:#444;font-size:11px;line-height:1.2}\
table.grid th.rowhead{text-align:left;background:#fafafa}\
table.grid td.shape{text-align:left;color:#555;min-width:0;background:#fff}\
.b0{background:#a8dba0}.b1{background:#dcf0d2}.b2{background:#fff0b8}.b3{background:#fdcf9f}.b4{background:#f4a090}\
td.fail{background:#d7301f;color:#fff;text-align:center}td.none{color:#999;text-align:center}\
.better{background:#a8dba0}.worse{background:#f4a090}.same{background:#f1f1f1}\
.warn{color:#a04000}\
.charts{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}\
svg.chart{border:1px solid #e2e2e2;background:#fff}\
svg text{font:12px system-ui,-apple-system,'Segoe UI',sans-serif;fill:#222}\
svg .chart-title{font-weight:600;font-size:13px}svg .axis-label{fill:#555}\
svg .grid{stroke:#ececec}svg .axis-line{stroke:#888}svg .value{font-size:11px}svg .group{font-weight:600;fill:#444}\
table.detail{border-collapse:collapse;margin:4px 0 12px;font-size:12.5px}\
table.detail td,table.detail th{border:1px solid #d6d6d6;padding:2px 6px;text-align:right}\
table.detail th{background:#f3f3f3}table.detail td:first-child{text-align:left}\
p.note{color:#444;max-width:1150px}pre{font-size:12.5px;white-space:pre-wrap}";

/// A chart of one scenario, made from the runs.
type Chart = fn(&View<'_>, &str) -> String;

/// The head of a page, up to and including `<body>`.
pub fn head(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(title)
    )
}

/// The end of a page.
pub const FOOT: &str = "</body></html>\n";

/// The conditions line: what the run measured under, before any figure.
pub fn conditions_line(results: &Results, view: &View<'_>) -> String {
    let m = &results.meta;
    let mut parts = model::conditions(results);
    let load = model::load_words(view);
    if !load.is_empty() {
        parts.push(load);
    }
    let mut seconds: Vec<f64> = results.runs.iter().map(|r| r.duration_s).collect();
    seconds.sort_by(f64::total_cmp);
    seconds.dedup();
    if let [s] = seconds.as_slice() {
        parts.push(format!(
            "{s} s measured per run after {} s of warm-up",
            m.warmup_s
        ));
    }
    parts.push(if m.pinned {
        "client and server pinned to separate cores".to_owned()
    } else {
        "client and server not pinned".to_owned()
    });
    parts.push(format!(
        "{} events, seed {}",
        m.dataset_events, m.dataset_seed
    ));
    parts.join(" · ")
}

/// `report.html`. A file of runs over several links or compressions opens with the
/// median latency across the links, then reports each condition in turn.
pub fn report(results: &Results) -> String {
    // A sweep of catalogue sizes or search modes: latency against size, then each part
    // as a report of its own (without its own head).
    let sweep = super::scale::split(results);
    if !sweep.is_empty() {
        let mut page = head("Quartet benchmark report");
        page.push_str("<h1>Quartet benchmark report</h1>");
        page.push_str(&super::scale::html(results));
        for (_, part) in &sweep {
            let inner = report(part);
            let inner = inner.strip_suffix(FOOT).unwrap_or(&inner);
            page.push_str(inner.split_once("<body>").map_or(inner, |(_, b)| b));
        }
        page.push_str(FOOT);
        return page;
    }
    // A sweep of security conditions: each protocol per condition, then each part.
    let conditions = super::security::split(results);
    if !conditions.is_empty() {
        let mut page = head("Quartet benchmark report");
        page.push_str("<h1>Quartet benchmark report</h1>");
        page.push_str(&super::security::html(results));
        for (_, part) in &conditions {
            let inner = report(part);
            let inner = inner.strip_suffix(FOOT).unwrap_or(&inner);
            page.push_str(inner.split_once("<body>").map_or(inner, |(_, b)| b));
        }
        page.push_str(FOOT);
        return page;
    }
    let parts = super::links::split(results);
    let mut page = head("Quartet benchmark report");
    let sets = super::cores::split(results);
    if !sets.is_empty() {
        // A sweep of server CPU sets: cores against throughput, then each set in turn.
        page.push_str("<h1>Quartet benchmark report</h1>");
        page.push_str(&super::cores::html(results));
        for (_, set) in &sets {
            for (_, part) in super::links::split(set) {
                page.push_str(&body(&part));
            }
        }
    } else if parts.len() > 1 {
        page.push_str("<h1>Quartet benchmark report</h1>");
        page.push_str(&super::links::section(results));
        for (_, part) in &parts {
            page.push_str(&body(part));
        }
    } else {
        page.push_str(&body(results));
    }
    page.push_str(FOOT);
    page
}

/// Everything a report of one condition shows, from its header to "The run".
fn body(results: &Results) -> String {
    let view = View::new(results);
    let m = &results.meta;
    let mut page = String::new();
    let _ = write!(
        page,
        "<header><h1>Quartet benchmark report</h1><p class=\"conditions\"><b>Conditions:</b> {}</p><p class=\"machine\">{}, {} cores, {}; {}; source revision {}; started {}</p>",
        escape(&conditions_line(results, &view)),
        escape(&m.cpu_model),
        m.cores,
        escape(&m.os),
        escape(&m.rustc_version),
        escape(&m.git_revision),
        escape(&m.started_at)
    );
    page.push_str("<nav><a href=\"#verdict\">Verdict</a><a href=\"#spectra\">Latency spectra</a><a href=\"#throughput\">Throughput</a><a href=\"#bytes\">Bytes</a><a href=\"#cpu\">Server CPU</a>");
    let scaling = view.closed_levels().len() >= 2;
    if scaling {
        page.push_str("<a href=\"#concurrency\">Concurrency</a>");
    }
    if !super::watch::rows(results).is_empty() {
        page.push_str("<a href=\"#watch\">Watch</a>");
    }
    page.push_str("<a href=\"#tables\">All figures</a><a href=\"#run\">The run</a></nav></header>");

    page.push_str("<section id=\"verdict\"><h2>Verdict</h2><ul class=\"summary\">");
    for sentence in summary::sentences(&view) {
        let _ = write!(page, "<li>{}</li>", sentence.html());
    }
    page.push_str("</ul>");
    page.push_str(&verdict::key_html());
    page.push_str(&verdict::html(&view));
    page.push_str("</section>");

    if !results.failures.is_empty() {
        page.push_str(
            "<section id=\"failures\"><h2>Runs that measured nothing (no figures)</h2><ul>",
        );
        for f in &results.failures {
            let _ = write!(page, "<li>{}</li>", escape(&f.to_string()));
        }
        page.push_str("</ul></section>");
    }

    if !results.skipped.is_empty() {
        page.push_str(
            "<section id=\"skipped\"><h2>Not run (the protocol cannot honour the condition; not a failure)</h2><ul>",
        );
        for s in &results.skipped {
            let _ = write!(page, "<li>{}</li>", escape(&s.to_string()));
        }
        page.push_str("</ul></section>");
    }

    page.push_str("<section id=\"spectra\"><h2>Latency spectra</h2><p class=\"note\">Each line is one run's whole latency distribution, read from its histogram: the percentile on the HdrHistogram axis (0%, 90%, 99%, 99.9%...: each step right is ten times rarer), latency on a log scale, ending at the slowest operation. Closed loop: from send to answer. Open loop: from each request's intended start (dotted: from the actual send, what a tool that ignores coordinated omission would report). Floors are dashed. Hover a line or point for its figures.</p>");
    for scenario in &view.scenarios {
        page.push_str("<div class=\"charts\">");
        let shapes = view.shapes_of(scenario);
        let width = figures::width_for(shapes.len());
        for shape in shapes {
            page.push_str(&figures::spectrum(
                scenario,
                shape,
                &view.runs_at(scenario, shape),
                width,
            ));
        }
        page.push_str("</div>");
    }
    page.push_str("</section>");

    let sections: [(&str, &str, &str, Chart); 3] = [
        (
            "throughput",
            "Throughput",
            "Operations per second per protocol, grouped by load. ⚠ marks a caveat (client-bound, rate not met, errors): hover the bar.",
            figures::throughput,
        ),
        (
            "bytes",
            "Bytes per op: payload and protocol overhead",
            "What crossed the socket per operation, both directions: message bodies (solid) and everything the protocol adds around them, headers and framing (pale).",
            figures::bytes,
        ),
        (
            "cpu",
            "Server CPU per op",
            "The server process's CPU time (user and system, every thread) per operation; hover for the load generator's.",
            figures::cpu,
        ),
    ];
    for (id, title, note, chart) in sections {
        let _ = write!(
            page,
            "<section id=\"{id}\"><h2>{}</h2><p class=\"note\">{}</p><div class=\"charts\">",
            escape(title),
            escape(note)
        );
        for scenario in &view.scenarios {
            page.push_str(&chart(&view, scenario));
        }
        page.push_str("</div></section>");
    }
    if scaling {
        page.push_str("<section id=\"concurrency\"><h2>Median latency against concurrency</h2><div class=\"charts\">");
        for scenario in &view.scenarios {
            page.push_str(&figures::concurrency(&view, scenario));
        }
        page.push_str("</div></section>");
    }

    page.push_str(&watch_section(results));
    page.push_str(&super::staleness::html(results));
    page.push_str("<section id=\"tables\"><h2>All figures</h2><p class=\"note\">");
    page.push_str(&escape(&legend(results)));
    page.push_str("</p>");
    for (title, rows) in tables::wide(results) {
        let _ = write!(
            page,
            "<h3>{}</h3><table class=\"detail\"><tr>",
            escape(&title)
        );
        for h in tables::HEADER {
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
    page.push_str("</section><section id=\"run\"><h2>The run</h2><pre>");
    page.push_str(&escape(&meta_lines(results)));
    page.push_str("</pre></section>");
    page
}

/// The `watch` scenario's table and the slow subscriber, if the run had the scenario.
fn watch_section(results: &Results) -> String {
    let rows = super::watch::rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("<section id=\"watch\"><h2>watch: delivery from commit to subscriber</h2>");
    if let Some(line) = super::watch::writer_line(results) {
        let _ = write!(out, "<p class=\"note\">{}</p>", escape(&line));
    }
    out.push_str("<table class=\"detail\"><tr>");
    for h in super::watch::HEADER {
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
    out.push_str("</table><ul>");
    for line in super::watch::slow_lines(results) {
        let _ = write!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul></section>");
    out
}

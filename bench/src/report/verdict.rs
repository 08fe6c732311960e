//! The verdict grid: for each metric, a scenario (and load) x protocol table whose cells
//! hold the figure, its multiple of the row's best and of the protocol's floor, coloured
//! by how far from the best it is. In HTML (hover for exact figures) and markdown.

use std::fmt::Write as _;

use super::format::times;
use super::model::{self, Cell, Metric, Row, View, band, display};
use crate::charts::{escape, protocol_color};

/// The colour bands, for the key: (class, words).
pub const BANDS: [(&str, &str); 5] = [
    ("b0", "best (within 5%)"),
    ("b1", "within 1.5x"),
    ("b2", "1.5x to 3x"),
    ("b3", "3x to 10x"),
    ("b4", "over 10x worse"),
];

fn of_best_words(cell: &Cell<'_>) -> String {
    match (cell.of_best, cell.badness) {
        (_, Some(b)) if b <= 1.0 + 1e-9 => "best".to_owned(),
        (Some(m), _) => format!("{} best", times(m)),
        _ => String::new(),
    }
}

fn floor_words(cell: &Cell<'_>) -> Option<String> {
    let (floor, m) = cell.floor?;
    Some(format!(
        "{} {} floor",
        times(m),
        model::floor_short(&floor.protocol)
    ))
}

fn hover(metric: Metric, row: &Row<'_>, cell: &Cell<'_>) -> String {
    let mut t = format!(
        "{} · {} · {}: ",
        display(&cell.protocol),
        row.scenario,
        row.shape.words()
    );
    match (cell.value, cell.run) {
        (Some(v), Some(run)) => {
            let _ = write!(t, "{}", metric.format(v));
            if let Some(m) = cell.of_best {
                let _ = write!(t, " = {m:.2}x the best");
            }
            if let Some(best) = row.best {
                let _ = write!(t, " ({})", metric.format(best));
            }
            if let Some((floor, m)) = cell.floor
                && let Some(fv) = metric.value(floor)
            {
                let _ = write!(
                    t,
                    "; {m:.2}x the {} ({})",
                    display(&floor.protocol),
                    metric.format(fv)
                );
            }

            let _ = write!(t, "; {} ops in {} s", run.ops, run.duration_s);
            let caveats = model::caveats(run);
            if !caveats.is_empty() {
                let _ = write!(t, "; {}", caveats.join(", "));
            }
        }
        (None, Some(_)) => t.push_str("not measured for this run"),
        (_, None) => match cell.failure {
            Some(f) => {
                let _ = write!(t, "measured nothing: {}", f.cause);
            }
            None => t.push_str("not run"),
        },
    }
    t
}

fn html_cell(metric: Metric, row: &Row<'_>, cell: &Cell<'_>) -> String {
    let title = escape(&hover(metric, row, cell));
    let Some(value) = cell.value else {
        let (class, text) = match (cell.run, cell.failure) {
            (None, Some(_)) => ("fail", "failed"),
            _ => ("none", "–"),
        };
        return format!("<td class=\"{class}\" title=\"{title}\">{text}</td>");
    };
    let class = cell.badness.map_or("none", |b| BANDS[band(b)].0);
    let mut small = format!("<small>{}</small>", escape(&of_best_words(cell)));
    if let Some(f) = floor_words(cell) {
        let _ = write!(small, "<small>{}</small>", escape(&f));
    }
    let warn = cell
        .run
        .filter(|r| !model::caveats(r).is_empty())
        .map_or("", |_| " <span class=\"warn\">⚠</span>");
    format!(
        "<td class=\"{class}\" title=\"{title}\"><b>{}</b>{warn}{small}</td>",
        escape(&metric.format(value))
    )
}

/// The verdict grids as HTML tables, one per metric.
pub fn html(view: &View<'_>) -> String {
    let mut out = String::from("<div class=\"grids\">");
    for metric in Metric::ALL {
        let rows = model::grid(view, metric);
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<table class=\"grid\"><caption>{}</caption><tr><th>scenario</th><th>load</th>",
            escape(metric.title())
        );
        for p in &view.contenders {
            let _ = write!(
                out,
                "<th style=\"border-bottom:3px solid {}\">{}</th>",
                protocol_color(p),
                escape(&display(p))
            );
        }
        out.push_str("</tr>");
        let mut previous = String::new();
        for row in &rows {
            let span = rows.iter().filter(|r| r.scenario == row.scenario).count();
            out.push_str("<tr>");
            if row.scenario != previous {
                let _ = write!(
                    out,
                    "<th class=\"rowhead\" rowspan=\"{span}\">{}</th>",
                    escape(&row.scenario)
                );
                previous.clone_from(&row.scenario);
            }
            let _ = write!(
                out,
                "<td class=\"shape\">{}</td>",
                escape(&row.shape.words())
            );
            for cell in &row.cells {
                out.push_str(&html_cell(metric, row, cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    out.push_str("</div>");
    out
}

/// The colour key of the grids.
pub fn key_html() -> String {
    let mut out = String::from(
        "<p class=\"key\">Each cell: the figure, then its multiple of the row's best and of the nearest floor beneath the protocol (GraphQL's engine floor, else its own, else TCP) where one ran the same scenario at the same load. Colour by distance from the best: ",
    );
    for (class, words) in BANDS {
        let _ = write!(out, "<span class=\"{class}\">{}</span> ", escape(words));
    }
    out.push_str("<span class=\"warn\">⚠</span> a caveat (client-bound, rate not met, errors, abandoned). Hover a cell for exact figures.</p>");
    out
}

/// The verdict grids as markdown tables: the best in bold, each cell with its multiple
/// of the best (and of the floor).
pub fn markdown(view: &View<'_>) -> String {
    let mut md = String::new();
    for metric in Metric::ALL {
        let rows = model::grid(view, metric);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n### {}\n", metric.title());
        let names: Vec<String> = view.contenders.iter().map(|p| display(p)).collect();
        let _ = writeln!(md, "| scenario | load | {} |", names.join(" | "));
        let _ = writeln!(md, "|---|---|{}", "---:|".repeat(names.len()));
        for row in &rows {
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|cell| match cell.value {
                    None => {
                        if cell.run.is_none() && cell.failure.is_some() {
                            "FAILED".to_owned()
                        } else {
                            "-".to_owned()
                        }
                    }
                    Some(v) => {
                        let best = cell.badness.is_some_and(|b| b <= 1.0 + 1e-9);
                        let mut text = if best {
                            format!("**{}** best", metric.format(v))
                        } else {
                            format!(
                                "{} ({})",
                                metric.format(v),
                                cell.of_best.map_or_else(String::new, times)
                            )
                        };
                        if let Some(f) = floor_words(cell) {
                            let _ = write!(text, ", {f}");
                        }
                        if cell.run.is_some_and(|r| !model::caveats(r).is_empty()) {
                            text.push_str(" ⚠");
                        }
                        text
                    }
                })
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                row.scenario,
                row.shape.words(),
                cells.join(" | ")
            );
        }
    }
    md
}

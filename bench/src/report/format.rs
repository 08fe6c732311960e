//! How figures are written in reports: short, with their unit, to about three
//! significant figures (the runs are not more precise than that); and the plain tables
//! (a header and rows of text) the sections of one sweep or measurement build for the
//! terminal, report.md and report.html alike.

use std::fmt::Write as _;

use crate::charts::escape;

/// A table for the terminal: condensed box drawing, wrapped to the report's width.
pub fn terminal_table<H: ToString, C: ToString>(header: &[H], rows: &[Vec<C>]) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(super::tables::TERMINAL_COLUMNS)
        .set_header(header.iter().map(ToString::to_string));
    for row in rows {
        table.add_row(row.iter().map(ToString::to_string));
    }
    table.to_string()
}

/// A markdown table, one line per row, ending with a newline.
pub fn markdown_table<H: AsRef<str>, C: AsRef<str>>(header: &[H], rows: &[Vec<C>]) -> String {
    let mut md = markdown_row(header);
    let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
    for row in rows {
        md.push_str(&markdown_row(row));
    }
    md
}

/// `| a | b |` and a newline.
fn markdown_row<S: AsRef<str>>(cells: &[S]) -> String {
    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
    format!("| {} |\n", cells.join(" | "))
}

/// An HTML table of class `detail`, every cell escaped.
pub fn html_table<H: AsRef<str>, C: AsRef<str>>(header: &[H], rows: &[Vec<C>]) -> String {
    let mut html = String::from("<table class=\"detail\"><tr>");
    for h in header {
        let _ = write!(html, "<th>{}</th>", escape(h.as_ref()));
    }
    html.push_str("</tr>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            let _ = write!(html, "<td>{}</td>", escape(cell.as_ref()));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    html
}

/// Operations per second: `980`, `7.22k`, `12.2k`, `149k`, `1.20M`.
pub fn rate(v: f64) -> String {
    let a = v.abs();
    if a < 1_000.0 {
        if a < 10.0 && a > 0.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.0}")
        }
    } else if a < 10_000.0 {
        format!("{:.2}k", v / 1e3)
    } else if a < 100_000.0 {
        format!("{:.1}k", v / 1e3)
    } else if a < 1e6 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{:.2}M", v / 1e6)
    }
}

/// A duration given in microseconds: `7.5 µs`, `76 µs`, `1.90 ms`, `12.3 ms`, `1.20 s`.
pub fn micros(us: f64) -> String {
    let a = us.abs();
    if a < 10.0 {
        format!("{us:.1} µs")
    } else if a < 1_000.0 {
        format!("{us:.0} µs")
    } else if a < 10_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else if a < 100_000.0 {
        format!("{:.1} ms", us / 1e3)
    } else if a < 1e6 {
        format!("{:.0} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// An axis tick in microseconds: as [`micros`] but without needless decimals
/// (`100 µs`, `2 ms`, `1 s`).
pub fn micros_tick(us: f64) -> String {
    let (value, unit) = if us >= 1e6 {
        (us / 1e6, "s")
    } else if us >= 1e3 {
        (us / 1e3, "ms")
    } else {
        (us, "µs")
    };
    let text = format!("{value:.1}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

/// Bytes: `586 B`, `9.42 kB`, `123 kB`, `1.23 MB`.
pub fn bytes(b: f64) -> String {
    let a = b.abs();
    if a < 1_000.0 {
        format!("{b:.0} B")
    } else if a < 10_000.0 {
        format!("{:.2} kB", b / 1e3)
    } else if a < 1e6 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{:.2} MB", b / 1e6)
    }
}

/// An axis tick in bytes, without needless decimals.
pub fn bytes_tick(b: f64) -> String {
    let (value, unit) = if b >= 1e6 {
        (b / 1e6, "MB")
    } else if b >= 1e3 {
        (b / 1e3, "kB")
    } else {
        (b, "B")
    };
    let text = format!("{value:.1}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

/// An axis tick in operations per second, without needless decimals.
pub fn rate_tick(v: f64) -> String {
    let (value, unit) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = format!("{value:.1}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{unit}")
}

/// A plain integer tick (concurrency).
pub fn count_tick(v: f64) -> String {
    format!("{v:.0}")
}

/// A ratio: `0.43x`, `1.3x`, `17x`.
pub fn times(x: f64) -> String {
    if !x.is_finite() {
        "-".to_owned()
    } else if x >= 9.95 {
        format!("{x:.0}x")
    } else if x >= 0.995 {
        format!("{x:.1}x")
    } else {
        format!("{x:.2}x")
    }
}

/// A percentage change: `+5.2%`, `-12%`.
pub fn change(pct: f64) -> String {
    if pct.abs() < 0.05 {
        "0.0%".to_owned()
    } else if pct.abs() >= 9.95 {
        format!("{pct:+.0}%")
    } else {
        format!("{pct:+.1}%")
    }
}

/// `419 → 520 µs`: a before and after, the unit written once when they share it.
pub fn span(old: &str, new: &str) -> String {
    fn unit(t: &str) -> (&str, &str) {
        let at = t.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
        t.split_at(at)
    }
    let (old_number, old_unit) = unit(old);
    let (_, new_unit) = unit(new);
    if old_unit == new_unit {
        format!("{old_number} → {new}")
    } else {
        format!("{old} → {new}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_short() {
        assert_eq!(rate(149_348.0), "149k");
        assert_eq!(rate(12_218.0), "12.2k");
        assert_eq!(rate(7_216.0), "7.22k");
        assert_eq!(rate(980.4), "980");
        assert_eq!(micros(59.0), "59 µs");
        assert_eq!(micros(1_899.0), "1.90 ms");
        assert_eq!(micros(8_471.0), "8.47 ms");
        assert_eq!(micros(45_599.0), "45.6 ms");
        assert_eq!(micros_tick(2_000.0), "2 ms");
        assert_eq!(micros_tick(500.0), "500 µs");
        assert_eq!(bytes(586.0), "586 B");
        assert_eq!(bytes(9_423.0), "9.42 kB");
        assert_eq!(bytes_tick(20_000.0), "20 kB");
        assert_eq!(rate_tick(150_000.0), "150k");
        assert_eq!(times(0.43), "0.43x");
        assert_eq!(times(1.04), "1.0x");
        assert_eq!(times(17.04), "17x");
        assert_eq!(change(-12.3), "-12%");
        assert_eq!(change(5.24), "+5.2%");
        assert_eq!(change(-0.04), "0.0%");
        assert_eq!(span("419 µs", "520 µs"), "419 → 520 µs");
        assert_eq!(span("980", "1.06k"), "980 → 1.06k");
        assert_eq!(span("300", "300"), "300 → 300");
    }

    #[test]
    fn tables_carry_every_cell() {
        let header = ["a", "b"];
        let rows = vec![vec!["1", "<2>"]];
        assert_eq!(
            markdown_table(&header, &rows),
            "| a | b |\n|---|---|\n| 1 | <2> |\n"
        );
        assert_eq!(
            html_table(&header, &rows),
            "<table class=\"detail\"><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>&lt;2&gt;</td></tr></table>"
        );
        assert!(terminal_table(&header, &rows).contains("<2>"));
    }
}

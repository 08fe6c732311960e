//! `quartet compare OLD.json NEW.json`: per protocol, scenario and shape, the change in
//! median and p99 latency, throughput and bytes, flagged only where it is larger than the
//! noise the two runs themselves show (the spread of their per-second figures). Prints
//! the table and writes an HTML page beside it (`--html`, by default `compare.html` in
//! NEW's folder): the grid of changes and both runs' latency spectra overlaid.

use std::path::{Path, PathBuf};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::report::compare::{self as diff, Figure};
pub use crate::report::compare::{significant, stddev};
use crate::results;

/// Flags of `quartet compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The baseline results.json.
    pub old: PathBuf,
    /// The results.json to compare with it.
    pub new: PathBuf,
    /// Where to write the HTML page [default: compare.html beside NEW].
    #[arg(long)]
    pub html: Option<PathBuf>,
}

/// Where the page goes when `--html` is not given: beside NEW.
pub fn default_html_path(new: &Path) -> PathBuf {
    new.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join("compare.html")
}

/// Prints the comparison and writes its HTML page.
///
/// # Errors
/// If either file cannot be read, or the page cannot be written.
pub fn run(args: &Args) -> Result<(), String> {
    let old = results::read(&args.old)?;
    let new = results::read(&args.new)?;
    let pairs = diff::pairs(&old, &new);
    let mut table = Table::new();
    let mut header = vec!["protocol", "scenario", "shape"];
    header.extend(Figure::ALL.iter().map(|f| f.heading()));
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    for pair in &pairs {
        let mut row = vec![
            pair.new.protocol.clone(),
            pair.new.scenario.clone(),
            diff::shape_label(pair.new),
        ];
        row.extend(pair.changes.iter().map(diff::Change::text));
        table.add_row(row);
    }
    println!("{table}");
    println!(
        "{} runs matched. `!` marks a change larger than twice the two runs' combined per-second noise (bytes: any change over 1%).\nold: {} ({}), new: {} ({})",
        pairs.len(),
        args.old.display(),
        old.meta.started_at,
        args.new.display(),
        new.meta.started_at
    );
    for line in diff::circumstances(&old, &new) {
        println!("differs: {line}");
    }
    let path = args
        .html
        .clone()
        .unwrap_or_else(|| default_html_path(&args.new));
    let page = diff::html(
        &old,
        &new,
        &args.old.display().to_string(),
        &args.new.display().to_string(),
    );
    std::fs::write(&path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("page: {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_beyond_the_noise_are_flagged() {
        assert!((stddev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) - 2.138).abs() < 0.01);
        assert!(stddev(&[3.0]).abs() < f64::EPSILON);
        // 10% change, noise 1% of the value: flagged.
        assert!(significant(1000.0, 1100.0, 10.0, 10.0));
        // 10% change, but the runs themselves wobble by 10%: not flagged.
        assert!(!significant(1000.0, 1100.0, 100.0, 100.0));
        // A steady pair differing by 0.5%: under the relative floor.
        assert!(!significant(1000.0, 1005.0, 0.0, 0.0));
    }

    #[test]
    fn the_page_goes_beside_the_new_results() {
        assert_eq!(
            default_html_path(Path::new("results/b/results.json")),
            PathBuf::from("results/b/compare.html")
        );
        assert_eq!(
            default_html_path(Path::new("results.json")),
            PathBuf::from("./compare.html")
        );
    }
}

//! `quartet report RESULTS.json [--format md|html]`: a report from a results file.

use std::path::PathBuf;

use crate::{report, results};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// Self-contained HTML with charts.
    Html,
}

/// Flags of `quartet report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A results.json written by `quartet bench`.
    pub results: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
}

/// Prints the report to stdout.
///
/// # Errors
/// If the file cannot be read.
pub fn run(args: &Args) -> Result<(), String> {
    let results = results::read(&args.results)?;
    match args.format {
        Format::Md => print!("{}", report::markdown(&results)),
        Format::Html => print!("{}", report::html(&results)),
    }
    Ok(())
}

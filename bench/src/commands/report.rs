//! `quartet report RESULTS.json [--format md|html|table] [--wide]`: a report from a
//! results file.

use std::path::PathBuf;

use crate::{report, results};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Markdown: the verdict (summary and grids), then every figure.
    Md,
    /// Self-contained HTML: the verdict, latency spectra and charts, every figure.
    Html,
    /// The terminal table `quartet bench` prints, with the verdict under it.
    Table,
}

/// Flags of `quartet report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A results.json written by `quartet bench`.
    pub results: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// With `--format table`: every column, not only those that fit 100 columns.
    #[arg(long)]
    pub wide: bool,
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
        Format::Table if args.wide => print!("{}", report::console_table_wide(&results)),
        Format::Table => print!("{}", report::console_table(&results)),
    }
    Ok(())
}

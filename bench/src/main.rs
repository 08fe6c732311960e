//! `quartet`: the command-line face of the project. A thin shell: it parses flags and
//! calls the library's commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Quartet: one ticketing domain served four ways, and the harness that compares them.
#[derive(Debug, Parser)]
#[command(name = "quartet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the dataset and its indexes; print counts, build time and resident memory.
    Dataset(bench::commands::dataset::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dataset(args) => bench::commands::dataset::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quartet: {e}");
            ExitCode::FAILURE
        }
    }
}

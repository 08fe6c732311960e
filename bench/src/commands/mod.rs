//! One module per `quartet` subcommand: its clap `Args` and its `run`.

pub mod dataset;

//! `quartet`: the command-line face of the project. A thin shell: it parses flags, builds
//! the runtime each command needs, and calls the library.

use std::process::ExitCode;

use bench::commands::{
    bench as bench_cmd, call, compare, dataset, link_relay, payloads, reference, report, serve,
    serve_one,
};
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
    /// Run every scenario against every protocol and write results.json, report.md and
    /// report.html (the main job).
    Bench(bench_cmd::Args),
    /// Serve the chosen protocols in one process over one store, on their default ports.
    Serve(serve::Args),
    /// One call through a protocol's client, printed as JSON.
    Call(call::Args),
    /// Request and response sizes per operation per protocol, raw and compressed.
    Payloads(payloads::Args),
    /// A report (markdown or HTML) from a results.json.
    Report(report::Args),
    /// Compare two results.json files, flagging changes beyond their noise.
    Compare(compare::Args),
    /// Build the dataset and its indexes; print counts, build time and memory.
    Dataset(dataset::Args),
    /// One server in a process of its own, until SIGINT/SIGTERM (the harness runs it
    /// as a child with --control-stdin).
    ServeOne(serve_one::Args),
    /// The link emulator between the harness and one server, until stdin closes (the
    /// harness runs it as a child for --link).
    #[command(hide = true)]
    LinkRelay(link_relay::Args),
    /// Write the request bodies scripts/vs-reference.sh gives wrk and h2load.
    #[command(hide = true)]
    ReferenceBodies(reference::Args),
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// The harness's runtime: pinned to core 0 (the servers get core 1) when pinning.
fn bench_runtime(pinned: bool) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if pinned {
        let core = core_affinity::get_core_ids().and_then(|ids| ids.into_iter().next());
        builder.worker_threads(1).on_thread_start(move || {
            if let Some(core) = core {
                core_affinity::set_for_current(core);
            }
        });
    }
    builder.build().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => {
            bench_runtime(args.pinned()).and_then(|rt| rt.block_on(bench_cmd::run(args)))
        }
        Command::Serve(args) => runtime().and_then(|rt| rt.block_on(serve::run(args))),
        Command::Call(args) => runtime().and_then(|rt| rt.block_on(call::run(args))),
        Command::Payloads(args) => runtime().and_then(|rt| rt.block_on(payloads::run(args))),
        Command::ServeOne(args) => runtime().and_then(|rt| rt.block_on(serve_one::run(args))),
        Command::Report(args) => report::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Dataset(args) => runtime().and_then(|rt| rt.block_on(dataset::run(&args))),
        Command::LinkRelay(args) => link_relay::run(&args),
        Command::ReferenceBodies(args) => reference::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quartet: {e}");
            ExitCode::FAILURE
        }
    }
}

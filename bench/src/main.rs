//! `quartet`: the command-line face of the project. A thin shell: it parses flags, builds
//! the runtime each command needs, and calls the library.

use std::process::ExitCode;

use bench::commands::{
    abuse, bench as bench_cmd, call, compare, dataset, link_relay, merge, payloads, reference,
    report, serve, serve_one, tls_dev_certs, token, torture,
};
use clap::{Parser, Subcommand};

/// Quartet: one ticketing domain served four ways, and the harness that compares them.
#[derive(Debug, Parser)]
#[command(name = "quartet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the bench flags' variant costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// Add up the results of load machines that each ran one `bench --shard` of a load
    /// into one results.json, report and interval logs.
    Merge(merge::Args),
    /// Build the dataset and its indexes; print counts, build time and memory.
    Dataset(dataset::Args),
    /// One server in a process of its own, until SIGINT/SIGTERM (the harness runs it
    /// as a child with --control-stdin).
    ServeOne(serve_one::Args),
    /// Clients of every protocol at once on a few seats, every call recorded, then the
    /// history checked for linearizability against a model of a seat.
    Torture(torture::Args),
    /// Slow and hostile clients (slowloris, idle, never reading, HTTP/2 floods,
    /// oversized requests) against each protocol's server, with a normal client alongside.
    Abuse(abuse::Args),
    /// Write a development CA and a server certificate for localhost, 127.0.0.1 and ::1
    /// (ca.pem, server.pem, server-key.pem) into DIR.
    TlsDevCerts(tls_dev_certs::Args),
    /// Mint a development bearer token for a customer (`--customer EMAIL --key FILE`),
    /// or write a fresh HS256 key for the servers' --auth-key (`--new-key FILE`).
    Token(token::Args),
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

/// A runtime with `threads` workers (default: one per CPU this process may use).
fn runtime_with(threads: Option<u16>) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(threads) = threads {
        builder.worker_threads(usize::from(threads));
    }
    builder.build().map_err(|e| e.to_string())
}

/// The harness's runtime: when pinning, one worker per `--client-cpus` CPU, each pinned
/// to its CPU (the servers get `--server-cpus`).
///
/// Multi-thread even for one client CPU, although a current-thread runtime wakes tasks
/// more cheaply: a current-thread runtime runs its tasks on the thread that calls
/// `block_on`, which would then have to be pinned, and `bench::run` reads this thread's
/// affinity after the runtime starts (`Args::placement`, `pinned`, the recorded core
/// count): pinned to the client CPU, those would see one CPU and refuse the server
/// CPUs or stop pinning. Here only the runtime's own threads are pinned.
fn bench_runtime(args: &bench_cmd::Args) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(placement) = args.placement()? {
        bench::cpus::pin_runtime(&mut builder, &placement.client);
    }
    builder.build().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => {
            bench_runtime(&args).and_then(|rt| rt.block_on(bench_cmd::run(args)))
        }
        Command::Serve(args) => runtime().and_then(|rt| rt.block_on(serve::run(args))),
        Command::Call(args) => runtime().and_then(|rt| rt.block_on(call::run(args))),
        Command::Payloads(args) => runtime().and_then(|rt| rt.block_on(payloads::run(args))),
        Command::ServeOne(args) => {
            runtime_with(args.worker_threads).and_then(|rt| rt.block_on(serve_one::run(args)))
        }
        Command::Torture(args) => runtime().and_then(|rt| rt.block_on(torture::run(args))),
        Command::Abuse(args) => runtime().and_then(|rt| rt.block_on(abuse::run(args))),
        Command::Report(args) => report::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Dataset(args) => runtime().and_then(|rt| rt.block_on(dataset::run(&args))),
        Command::LinkRelay(args) => link_relay::run(&args),
        Command::TlsDevCerts(args) => tls_dev_certs::run(&args),
        Command::Token(args) => token::run(&args),
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

//! `quartet serve-one PROTOCOL`: one server over a generated dataset, in a process of its
//! own (the harness runs it as a child; BENCHMARKS.md runs it by hand beside wrk and
//! h2load). Prints `READY <addr>` once listening and serves until SIGINT or SIGTERM.
//! With `--control-stdin` (what the harness passes) stdin is its control channel too: a
//! `stats` line is answered with its socket byte counters, and EOF (the harness dropping
//! the pipe) shuts it down gracefully. Without the flag stdin is never read, so a server
//! started from a script with `&` (stdin closed or /dev/null) keeps serving.

use std::io::Write;

use domain::SharedTicketing;
use netkit::args::ServerArgs;

use crate::protocol::{self, Protocol};

/// Flags of `quartet serve-one`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which server.
    pub protocol: Protocol,
    /// The flags every server takes (the harness passes `--listen 127.0.0.1:0`: any free
    /// port).
    #[command(flatten)]
    pub server: ServerArgs,
    /// Read stdin as a control channel: `stats` asks for the socket byte counters
    /// (answered on stdout as `STATS <read> <written>`), EOF means shut down. Without
    /// it, only SIGINT/SIGTERM stop the server.
    #[arg(long)]
    pub control_stdin: bool,
    /// Runtime worker threads [default: one per CPU this process may run on]. The
    /// harness passes the size of the CPU set it pins the server to (`--server-cpus`).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: Option<u16>,
}

/// Serves until a signal arrives (or, with `--control-stdin`, stdin closes).
///
/// # Errors
/// If the address cannot be bound or the server fails.
pub async fn run(args: Args) -> Result<(), String> {
    netkit::telemetry::init();
    // A certificate that cannot be loaded stops the child here, before READY, instead
    // of leaving it serving plain text (`server_config` drops what it cannot load).
    args.server.tls()?;
    let api: SharedTicketing = args.server.api().await?;
    // `--auth-key` and the rate limits, as a standalone server applies them (open without).
    let gate = args.server.gate()?;
    tracing::info!(?gate, "serve-one security");
    let api = domain::auth::Guarded::wrap(api, gate);
    let listen = args.server.listen_or(args.protocol.default_port());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let control_stdin = args.control_stdin;
    let shutdown = async move {
        if !control_stdin {
            netkit::shutdown::signal().await;
            return;
        }
        // The parent's channel: a line `stats` asks for the socket byte counters (answered
        // on stdout as `STATS <read> <written>`); EOF means shut down.
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let stdin = std::io::stdin();
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut stdin.lock(), &mut line).is_ok_and(|n| n > 0) {
                if line.trim() == "stats" {
                    let (read, written) = netkit::connections::socket_totals();
                    let mut stdout = std::io::stdout();
                    let _ =
                        writeln!(stdout, "STATS {read} {written}").and_then(|()| stdout.flush());
                }
                line.clear();
            }
        });
        tokio::select! {
            _ = stdin_closed => {}
            () = netkit::shutdown::signal() => {}
        }
    };
    let mut stdout = std::io::stdout();
    writeln!(stdout, "READY {addr}")
        .and_then(|()| stdout.flush())
        .map_err(|e| e.to_string())?;
    let config = args.server.server_config();
    protocol::serve(args.protocol, listener, api, config, shutdown)
        .await
        .map_err(|e| e.to_string())
}

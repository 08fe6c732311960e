//! `quartet serve-one PROTOCOL` (hidden): one server over a generated dataset, for the
//! harness to run as a child process. Prints `READY <addr>` once listening; answers a
//! `stats` line on stdin with its socket byte counters; shuts down gracefully when its
//! stdin closes (the harness dropping it) or on a signal.

use std::io::Write;
use std::net::SocketAddr;

use domain::{DatasetSpec, Limits, Service};

use crate::protocol::{self, Protocol};

/// Flags of `quartet serve-one`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which server.
    pub protocol: Protocol,
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Events in the dataset.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_EVENTS)]
    pub events: u32,
    /// Dataset seed.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_SEED)]
    pub seed: u64,
}

/// Serves until stdin closes or a signal arrives.
///
/// # Errors
/// If the address cannot be bound or the server fails.
pub async fn run(args: Args) -> Result<(), String> {
    netkit::telemetry::init();
    let service = Service::generate(
        DatasetSpec {
            events: args.events,
            seed: args.seed,
        },
        Limits::default(),
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let shutdown = async {
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
    protocol::serve(args.protocol, listener, service, shutdown)
        .await
        .map_err(|e| e.to_string())
}

//! `cargo run -p wire -- --listen 127.0.0.1:7878 --events N --seed S`: the wire-protocol
//! server on its own, serving a generated dataset until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use netkit::args::ServerArgs;

/// Quartet's custom binary protocol server.
#[derive(Debug, Parser)]
#[command(name = "wire", version, about)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    netkit::telemetry::init();
    let args = Args::parse();
    let addr = args.server.listen_or(wire::DEFAULT_PORT);
    let service = args.server.service();
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        addr = %addr,
        events = args.server.events,
        seed = args.server.seed,
        "wire protocol listening on {addr}"
    );
    match wire::serve(listener, service, netkit::shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

//! `cargo run -p grpc -- --listen 127.0.0.1:50051 --events N --seed S`: the gRPC server
//! on its own, with health and reflection, serving a generated dataset until Ctrl-C or
//! SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use netkit::args::ServerArgs;

/// Quartet's gRPC server.
#[derive(Debug, Parser)]
#[command(name = "grpc", version, about)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    netkit::telemetry::init();
    let args = Args::parse();
    let addr = args.server.listen_or(grpc::DEFAULT_PORT);
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
        "gRPC listening on {addr} (reflection and health on)"
    );
    match grpc::serve(listener, service, netkit::shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

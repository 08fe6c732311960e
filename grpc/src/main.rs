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
    let args = Args::parse();
    let config = grpc::Config::with_server(args.server.server_config());
    netkit::args::run_standalone(
        &args.server,
        "gRPC",
        grpc::DEFAULT_PORT,
        " (reflection and health on)",
        move |listener, api, shutdown| grpc::serve(listener, api, config, shutdown),
    )
    .await
}

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
    let args = Args::parse();
    let config = wire::Config::with_server(args.server.server_config());
    netkit::args::run_standalone(
        &args.server,
        "wire protocol",
        wire::DEFAULT_PORT,
        "",
        move |listener, api, shutdown| wire::serve(listener, api, config, shutdown),
    )
    .await
}

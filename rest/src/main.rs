//! `cargo run -p rest -- --listen 127.0.0.1:8080 --events N --seed S`: the REST server on
//! its own, serving a generated dataset until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use netkit::args::ServerArgs;

/// Quartet's REST/JSON server.
#[derive(Debug, Parser)]
#[command(name = "rest", version, about)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = rest::Config::with_server(args.server.server_config());
    netkit::args::run_standalone(
        &args.server,
        "REST",
        rest::DEFAULT_PORT,
        " (docs at /docs/)",
        move |listener, api, shutdown| rest::serve(listener, api, config, shutdown),
    )
    .await
}

//! `cargo run -p graphql -- --listen 127.0.0.1:8081 --events N --seed S`: the GraphQL
//! server on its own, with GraphiQL at /graphql, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use netkit::args::ServerArgs;

/// Quartet's GraphQL server.
#[derive(Debug, Parser)]
#[command(name = "graphql", version, about)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Refuse introspection queries (`__schema`, `__type`).
    #[arg(long)]
    no_introspection: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = graphql::Config {
        introspection: !args.no_introspection,
        ..graphql::Config::with_server(args.server.server_config())
    };
    netkit::args::run_standalone(
        &args.server,
        "GraphQL",
        graphql::DEFAULT_PORT,
        " (POST /graphql; GraphiQL on GET /graphql)",
        move |listener, api, shutdown| graphql::serve(listener, api, config, shutdown),
    )
    .await
}

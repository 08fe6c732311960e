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
    netkit::telemetry::init();
    let args = Args::parse();
    let addr = args.server.listen_or(graphql::DEFAULT_PORT);
    let service = args.server.service();
    let options = graphql::SchemaOptions {
        introspection: !args.no_introspection,
        ..graphql::SchemaOptions::from_limits(service.limits())
    };
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
        "GraphQL listening on http://{addr}/graphql (GraphiQL at the same address)"
    );
    match graphql::serve(listener, service, options, netkit::shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

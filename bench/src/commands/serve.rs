//! `quartet serve`: the chosen servers in one process over ONE store, on their default
//! ports: a booking made over REST is visible over gRPC at once.

use std::sync::Arc;

use domain::SharedTicketing;
use futures::future::join_all;
use netkit::args::ServerArgs;

use crate::protocol::{self, Protocol};

/// Flags of `quartet serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which servers, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "rest,graphql,grpc,wire")]
    pub protocols: Vec<Protocol>,
    /// The flags every server takes (`--listen` only with a single protocol; each
    /// server listens on its default port otherwise).
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Serves until Ctrl-C or SIGTERM, then drains every server.
///
/// # Errors
/// If a port cannot be bound or a server fails, or `--listen` is given for several
/// protocols.
pub async fn run(args: Args) -> Result<(), String> {
    netkit::telemetry::init();
    let protocols: Vec<Protocol> = args
        .protocols
        .iter()
        .copied()
        .filter(|p| *p != Protocol::TcpFloor)
        .collect();
    if args.server.listen.is_some() && protocols.len() != 1 {
        return Err("--listen needs exactly one protocol (the others have a port each)".into());
    }
    let api: SharedTicketing = args.server.api().await?;
    let config = args.server.server_config();
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut servers = Vec::new();
    for protocol in protocols {
        let addr = args.server.listen_or(protocol.default_port());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for {protocol}: {e}"))?;
        let mut stopped = stop.subscribe();
        let (api, config) = (Arc::clone(&api), config.clone());
        servers.push(tokio::spawn(async move {
            protocol::serve(protocol, listener, api, config, async move {
                let _ = stopped.recv().await;
            })
            .await
        }));
        let url = match protocol {
            Protocol::Rest => format!("http://{addr}  (docs at http://{addr}/docs/)"),
            Protocol::Graphql | Protocol::GraphqlFloor => {
                format!("http://{addr}/graphql  (GraphiQL at the same address)")
            }
            Protocol::Grpc => format!("{addr}  (gRPC, reflection and health on)"),
            _ => format!("{addr}  (wire protocol)"),
        };
        println!("{:<8} {url}", protocol.name());
    }
    println!(
        "one store, {} events, seed {}; Ctrl-C to stop",
        args.server.events, args.server.seed
    );
    netkit::shutdown::signal().await;
    let _ = stop.send(());
    for result in join_all(servers).await {
        result
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

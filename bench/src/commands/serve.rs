//! `quartet serve`: the chosen servers in one process over ONE store, on their default
//! ports: a booking made over REST is visible over gRPC at once.

use domain::{DatasetSpec, Limits, Service};
use futures::future::join_all;

use crate::protocol::{self, Protocol};

/// Flags of `quartet serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which servers, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "rest,graphql,grpc,wire")]
    pub protocols: Vec<Protocol>,
    /// Events in the dataset.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_EVENTS)]
    pub events: u32,
    /// Dataset seed.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_SEED)]
    pub seed: u64,
}

/// Serves until Ctrl-C or SIGTERM, then drains every server.
///
/// # Errors
/// If a port cannot be bound or a server fails.
pub async fn run(args: Args) -> Result<(), String> {
    netkit::telemetry::init();
    let service = Service::generate(
        DatasetSpec {
            events: args.events,
            seed: args.seed,
        },
        Limits::default(),
    );
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut servers = Vec::new();
    for protocol in args
        .protocols
        .iter()
        .copied()
        .filter(|p| *p != Protocol::TcpFloor)
    {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], protocol.default_port()));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for {protocol}: {e}"))?;
        let mut stopped = stop.subscribe();
        let service = service.clone();
        servers.push(tokio::spawn(async move {
            protocol::serve(protocol, listener, service, async move {
                let _ = stopped.recv().await;
            })
            .await
        }));
        let url = match protocol {
            Protocol::Rest => format!("http://{addr}  (docs at http://{addr}/docs/)"),
            Protocol::Graphql => format!("http://{addr}/graphql  (GraphiQL at the same address)"),
            Protocol::Grpc => format!("{addr}  (gRPC, reflection and health on)"),
            _ => format!("{addr}  (wire protocol)"),
        };
        println!("{:<8} {url}", protocol.name());
    }
    println!(
        "one store, {} events, seed {}; Ctrl-C to stop",
        args.events, args.seed
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

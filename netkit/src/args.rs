//! The flags every standalone server takes, so `cargo run -p rest -- --listen ADDR
//! --events N --seed S` means the same for all four, and [`run_standalone`], the one body
//! of all four `main.rs` files.

use std::net::SocketAddr;

use domain::dataset::{DEFAULT_EVENTS, DEFAULT_SEED};
use domain::{DatasetSpec, Limits, Service, SharedTicketing};

use crate::config::{MAX_CONNECTIONS, ServerConfig};

/// Flags of a standalone server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; the protocol's loopback default when omitted.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Events in the generated dataset.
    #[arg(long, default_value_t = DEFAULT_EVENTS)]
    pub events: u32,
    /// Dataset seed: the same seed serves the same data in every process.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Most open connections; further clients wait in the listen backlog.
    #[arg(long, default_value_t = MAX_CONNECTIONS)]
    pub max_connections: usize,
}

impl ServerArgs {
    /// The address to bind: `--listen`, or `default_port` on 127.0.0.1.
    pub fn listen_or(&self, default_port: u16) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)))
    }

    /// The dataset these flags describe.
    pub fn spec(&self) -> DatasetSpec {
        DatasetSpec {
            events: self.events,
            seed: self.seed,
        }
    }

    /// Generates the dataset and builds the in-memory service with the default business
    /// limits.
    pub fn service(&self) -> Service {
        Service::generate(self.spec(), Limits::default())
    }

    /// The server settings these flags describe: the defaults with `--max-connections`.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            max_connections: self.max_connections.max(1),
            ..ServerConfig::default()
        }
    }
}

/// Runs a standalone server the same way for every protocol: tracing from `RUST_LOG`,
/// the dataset these flags describe, a listener on `--listen` (or `default_port` on
/// loopback), `serve` until Ctrl-C or SIGTERM. `name` and `hint` go into the log line.
/// `serve` gets the listener, the API to serve and the shutdown signal; the caller has
/// already built its protocol's config (usually from [`ServerArgs::server_config`]).
pub async fn run_standalone<F, Fut>(
    args: &ServerArgs,
    name: &str,
    default_port: u16,
    hint: &str,
    serve: F,
) -> std::process::ExitCode
where
    F: FnOnce(tokio::net::TcpListener, SharedTicketing, crate::running::Shutdown) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<()>>,
{
    crate::telemetry::init();
    let addr = args.listen_or(default_port);
    let api: SharedTicketing = std::sync::Arc::new(args.service());
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The bound address, not the requested one: `--listen 127.0.0.1:0` picks a port.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, events = args.events, seed = args.seed, "{name} listening on {addr}{hint}");
    match serve(listener, api, Box::pin(crate::shutdown::signal())).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

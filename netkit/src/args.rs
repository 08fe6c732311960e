//! The flags every standalone server takes, so `cargo run -p rest -- --listen ADDR
//! --events N --seed S` (or `--store postgres --database-url URL`) means the same for all
//! four, and [`run_standalone`], the one body of all four `main.rs` files.

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
    /// Where the data lives: generated in memory (the default), or in PostgreSQL.
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    pub store: StoreKind,
    /// With `--store postgres`: the database (else $QUARTET_DATABASE_URL, else
    /// postgres://postgres@127.0.0.1:5432/test).
    #[arg(long)]
    pub database_url: Option<String>,
    /// With `--store postgres`: the schema the tables live in (created and migrated).
    #[arg(long, default_value = pgstore::config::DEFAULT_SCHEMA)]
    pub schema: String,
    /// With `--store postgres`: load the generated dataset (`--events`, `--seed`) into the
    /// schema first; refused if the schema already holds events.
    #[arg(long)]
    pub load_dataset: bool,
    /// With `--store postgres`: how search is answered: PostgreSQL's full-text search
    /// (`database`, strongly consistent) or this process's own engine index of the
    /// catalogue, kept current from the change feed (`index`, eventually consistent).
    #[arg(long, value_enum, default_value_t = SearchKind::Database)]
    pub search: SearchKind,
    /// Serve TLS with this certificate chain (PEM, leaf first); needs `--tls-key`.
    /// `quartet tls-dev-certs DIR` writes a development one.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The private key of `--tls-cert` (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Check bearer tokens signed with this HS256 key (a file of at least 32 bytes;
    /// `quartet token --new-key FILE` writes one): holds need a token with the `book`
    /// scope, bookings are their customer's own. Without it the server runs open.
    #[arg(long)]
    pub auth_key: Option<std::path::PathBuf>,
    /// Requests per second each customer (token) may make; 0 (the default) is no limit.
    #[arg(long, default_value_t = 0)]
    pub rate_per_customer: u32,
    /// Requests per second each connection without a token may make; 0 (the default)
    /// is no limit.
    #[arg(long, default_value_t = 0)]
    pub rate_per_anonymous: u32,
    /// Requests a rate-limited caller may make at once after a quiet spell (the bucket's
    /// size); at least 1.
    #[arg(long, default_value_t = 10)]
    pub rate_burst: u32,
}

/// How a PostgreSQL-backed server answers search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchKind {
    /// PostgreSQL full-text search (a `tsvector` with a GIN index), on every request.
    Database,
    /// The replica's in-memory tantivy index, built at start from the database and fed
    /// by the availability outbox's notifications.
    Index,
}

/// Where a server's data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// Generated from `--events` and `--seed` at start, in memory; lost at exit.
    Memory,
    /// In PostgreSQL: durable, shared by any number of server processes.
    Postgres,
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

    /// The API these flags describe: the in-memory service, or the PostgreSQL-backed one
    /// (connected, migrated, and loaded with the dataset if `--load-dataset`).
    ///
    /// # Errors
    /// A sentence naming what failed: the database cannot be reached or migrated, or the
    /// load was refused.
    pub async fn api(&self) -> Result<SharedTicketing, String> {
        match self.store {
            StoreKind::Memory => Ok(std::sync::Arc::new(self.service())),
            StoreKind::Postgres => {
                let url = self
                    .database_url
                    .clone()
                    .unwrap_or_else(pgstore::PgConfig::url_from_env);
                let config = pgstore::PgConfig::new(url, self.schema.clone());
                let store = pgstore::PgStore::connect(&config)
                    .await
                    .map_err(|e| format!("cannot use PostgreSQL schema {}: {e}", self.schema))?;
                if self.load_dataset {
                    let dataset = domain::Dataset::from_spec(self.spec());
                    let loaded = pgstore::load(&store, &dataset, false)
                        .await
                        .map_err(|e| format!("cannot load the dataset: {e}"))?;
                    tracing::info!(events = loaded, schema = %self.schema, "dataset loaded");
                }
                let store = match self.search {
                    SearchKind::Database => store,
                    SearchKind::Index => store
                        .with_search_index()
                        .await
                        .map_err(|e| format!("cannot build the search index: {e}"))?,
                };
                Ok(std::sync::Arc::new(pgstore::ticketing(store)))
            }
        }
    }

    /// The server settings these flags describe: the defaults with `--max-connections`
    /// and, with `--tls-cert` and `--tls-key`, TLS. A certificate that cannot be loaded
    /// leaves TLS off here; [`run_standalone`] checks [`ServerArgs::tls`] first and
    /// refuses to start, so a standalone server never falls back to plain text.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            max_connections: self.max_connections.max(1),
            tls: self.tls().ok().flatten(),
            ..ServerConfig::default()
        }
    }

    /// What these flags enforce: `--auth-key` and the rate limits (open without them).
    ///
    /// # Errors
    /// A sentence naming the key file that cannot be read or is too short.
    pub fn gate(&self) -> Result<domain::auth::Gate, String> {
        let key = self
            .auth_key
            .as_deref()
            .map(domain::auth::AuthKey::from_file)
            .transpose()?;
        let rate = |per_second: u32| {
            (per_second > 0).then_some(domain::auth::Rate {
                per_second,
                burst: self.rate_burst.max(1),
            })
        };
        Ok(domain::auth::Gate::new(
            key,
            domain::auth::RateLimits {
                per_customer: rate(self.rate_per_customer),
                per_anonymous: rate(self.rate_per_anonymous),
            },
        ))
    }

    /// The TLS these flags ask for: `None` without `--tls-cert`.
    ///
    /// # Errors
    /// A sentence naming the file that cannot be read or used.
    pub fn tls(&self) -> Result<Option<crate::tls::ServerTls>, String> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => crate::tls::ServerTls::from_pem_files(cert, key)
                .map(Some)
                .map_err(|e| e.to_string()),
            (None, None) => Ok(None),
            _ => Err("--tls-cert and --tls-key go together".to_owned()),
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
    let tls = match args.tls() {
        Ok(tls) => tls.is_some(),
        Err(e) => {
            tracing::error!(error = %e, "cannot start: TLS");
            return std::process::ExitCode::FAILURE;
        }
    };
    let api = match args.api().await {
        Ok(api) => api,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return std::process::ExitCode::FAILURE;
        }
    };
    let gate = match args.gate() {
        Ok(gate) => gate,
        Err(e) => {
            tracing::error!(error = %e, "cannot start: --auth-key");
            return std::process::ExitCode::FAILURE;
        }
    };
    if gate.authenticates() {
        tracing::info!(
            ?gate,
            "bearer tokens checked: holds need the book scope, bookings are their customer's"
        );
    } else {
        tracing::warn!(
            ?gate,
            "no --auth-key: running OPEN, anyone may hold, read, confirm or cancel any booking"
        );
    }
    let api = domain::auth::Guarded::wrap(api, gate);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The bound address, not the requested one: `--listen 127.0.0.1:0` picks a port.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, tls, store = ?args.store, events = args.events, seed = args.seed, "{name} listening on {addr}{hint}");
    match serve(listener, api, Box::pin(crate::shutdown::signal())).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

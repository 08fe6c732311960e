//! GraphQL for `domain::Ticketing`, on async-graphql and axum: the query-language
//! reference template.
//!
//! - [`schema`]: the schema (`Query`, `Mutation`, object and input types, DataLoaders)
//!   and its limits.
//! - [`http`]: the endpoint (`POST /graphql`, GraphiQL on `GET /graphql`, `/healthz`)
//!   with body, query-size and batch limits checked before anything runs.
//! - [`app`] and [`serve`]: the router, and serving it with real timeouts.
//! - [`error`]: the one domain <-> GraphQL error mapping.
//! - [`client::Client`]: a reqwest client implementing `domain::Ticketing` with one
//!   query document per operation, optionally with automatic persisted queries.

pub mod client;
pub mod error;
pub mod http;
pub mod schema;

use std::future::Future;
use std::io;

use axum::Router;
use domain::Service;
use netkit::http_server::HttpServerConfig;
use tokio::net::TcpListener;

pub use client::Client;
pub use schema::{QuartetSchema, SchemaOptions};

/// The port `cargo run -p graphql` listens on by default.
pub const DEFAULT_PORT: u16 = 8081;

/// The router for `service` with `options`.
pub fn app(service: Service, options: SchemaOptions) -> Router {
    http::router(http::AppState::new(service, options))
}

/// Serves the GraphQL API for `service` on `listener` until `shutdown` resolves, then
/// drains.
///
/// # Errors
/// Only if the listener fails.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    options: SchemaOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let config = HttpServerConfig::from_limits(service.limits());
    netkit::http_server::serve(listener, app(service, options), config, shutdown).await
}

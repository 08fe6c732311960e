//! REST/JSON for `domain::Ticketing`, on axum: the resource-oriented reference template.
//!
//! - [`app()`]: the `Router` over any `Ticketing` (routes per resource in `routes/`,
//!   live availability as Server-Sent Events in `routes::availability`,
//!   problem+json errors in [`error`], extractors that never answer in another shape in
//!   [`extract`], the JSON model in [`model`], the OpenAPI document in [`openapi`]).
//! - [`serve`]: serving it with real timeouts, a connection cap and a graceful drain,
//!   with the settings of [`Config`].
//! - [`Client`]: a client implementing `domain::Ticketing`, sending through netkit's
//!   `HttpTransport` (reqwest by default); its availability streams are read with their
//!   own reqwest client (`client/watch.rs`).
//!
//! Behaviour lives in `domain`; this crate only translates HTTP to `Ticketing` calls and
//! back.

pub mod app;
pub mod client;
pub mod config;
pub mod error;
pub mod extract;
pub mod model;
pub mod openapi;
pub mod routes;

use std::future::Future;
use std::io;

use domain::SharedTicketing;
use tokio::net::TcpListener;

use crate::routes::availability::StreamsShutdown;

pub use app::app;
pub use client::Client;
pub use config::Config;

/// The port `cargo run -p rest` listens on by default.
pub const DEFAULT_PORT: u16 = 8080;

/// Serves the API for `api` on `listener` until `shutdown` resolves, then drains
/// in-flight requests for up to `config.server.shutdown_grace`. Availability streams
/// (which never end by themselves) end as the drain begins.
///
/// # Errors
/// Only if the listener fails.
pub async fn serve(
    listener: TcpListener,
    api: SharedTicketing,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let (trigger, streams) = StreamsShutdown::new();
    let router = app(api, &config).layer(axum::Extension(streams));
    let shutdown = async move {
        shutdown.await;
        trigger.fire();
    };
    netkit::http_server::serve(listener, router, config.http_server(), shutdown).await
}

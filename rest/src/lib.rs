//! REST/JSON for `domain::Ticketing`, on axum: the resource-oriented reference template.
//!
//! - [`app`]: the `Router` (routes per resource in `routes/`, problem+json errors in
//!   [`error`], extractors that never answer in another shape in [`extract`], the JSON
//!   model in [`model`], the OpenAPI document in [`openapi`]).
//! - [`serve`]: serving it with real timeouts, a connection cap and a graceful drain.
//! - [`client::Client`]: a reqwest client implementing `domain::Ticketing`.
//!
//! Behaviour lives in `domain`; this crate only translates HTTP to `Ticketing` calls and
//! back.

pub mod app;
pub mod client;
pub mod error;
pub mod extract;
pub mod model;
pub mod openapi;
pub mod routes;

use std::future::Future;
use std::io;

use domain::Service;
use netkit::http_server::HttpServerConfig;
use tokio::net::TcpListener;

pub use app::app;
pub use client::Client;

/// The port `cargo run -p rest` listens on by default.
pub const DEFAULT_PORT: u16 = 8080;

/// Serves the API for `service` on `listener` until `shutdown` resolves, then drains
/// in-flight requests for up to the service's `shutdown_grace`.
///
/// # Errors
/// Only if the listener fails.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let config = HttpServerConfig::from_limits(service.limits());
    netkit::http_server::serve(listener, app(service), config, shutdown).await
}

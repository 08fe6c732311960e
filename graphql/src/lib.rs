//! GraphQL for `domain::Ticketing`, on async-graphql and axum: the query-language
//! reference template.
//!
//! - [`app()`] (in [`mod@app`]): the `Router` over any `Ticketing` (a
//!   [`SharedTicketing`]); [`serve`]: serving it with real timeouts, a connection cap and
//!   a graceful drain.
//! - [`config`]: [`Config`], every setting (netkit's server and HTTP/2 parts, and the
//!   GraphQL limits: depth, complexity, directives, recursion, query size, batch size,
//!   introspection, the prepared-document cache).
//! - [`schema`]: the schema (`Query`, `Mutation`, `Subscription`, object and input types, the batched fetches of nested fields).
//! - [`prepared`]: the prepared-document cache (parse and validate a document once) and
//!   automatic persisted queries; [`variables`]: variable coercion per request.
//! - [`json`]: writing responses, with pre-rendered big lists copied in place.
//! - [`http`]: the endpoint's handlers, with body, query-size and batch limits checked
//!   before anything runs.
//! - [`subscriptions`]: subscriptions (live availability) over WebSocket with the
//!   graphql-transport-ws protocol, on `GET /graphql`.
//! - [`mod@graphiql`]: the GraphiQL page and its files, all compiled into the binary.
//! - [`error`]: the one domain <-> GraphQL error mapping.
//! - [`client::Client`]: a client implementing `domain::Ticketing` with one query
//!   document per operation, optionally with automatic persisted queries, over netkit's
//!   `HttpTransport`.
//!
//! Behaviour lives in `domain`; this crate only translates GraphQL to `Ticketing` calls
//! and back.

pub mod app;
pub mod client;
pub mod config;
pub mod error;
pub mod graphiql;
pub mod http;
pub mod json;
pub mod prepared;
pub mod schema;
pub mod subscriptions;
pub mod variables;

use std::future::Future;
use std::io;
use std::sync::Arc;

use domain::SharedTicketing;
use tokio::net::TcpListener;

pub use app::app;
pub use client::Client;
pub use config::Config;
pub use schema::QuartetSchema;

/// The port `cargo run -p graphql` listens on by default.
pub const DEFAULT_PORT: u16 = 8081;

/// Serves the GraphQL API for `api` on `listener` with `config` until `shutdown`
/// resolves, then drains for up to `config.server.shutdown_grace`: in-flight requests
/// finish, and every WebSocket connection ends its subscriptions (UNAVAILABLE, then
/// `complete`) and closes with 1001.
///
/// # Errors
/// Only if the listener fails.
pub async fn serve(
    listener: TcpListener,
    api: SharedTicketing,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let state = app::AppState::new(api, &config);
    let websockets = Arc::clone(state.websockets());
    let router = app::router(state);
    let grace = config.server.shutdown_grace;
    let (began, begun) = tokio::sync::oneshot::channel();
    // hyper's drain does not see upgraded connections: they are told here, at the same
    // moment, and waited for below within the same deadline.
    let shutdown = {
        let websockets = Arc::clone(&websockets);
        async move {
            shutdown.await;
            let _ = began.send(tokio::time::Instant::now());
            websockets.close();
        }
    };
    netkit::http_server::serve(listener, router, config.http_server(), shutdown).await?;
    let deadline = begun.await.unwrap_or_else(|_| tokio::time::Instant::now()) + grace;
    if tokio::time::timeout_at(deadline, websockets.drained())
        .await
        .is_err()
    {
        tracing::warn!(
            open = websockets.open(),
            "grace period over; abandoning the remaining WebSocket connections"
        );
    }
    Ok(())
}

//! Building the router: the routes (`POST /graphql`, subscriptions over WebSocket on
//! `GET /graphql` with `Upgrade: websocket`, GraphiQL on a plain `GET /graphql` with
//! its files under `GET /graphql/assets/`, `/healthz`), the state every request shares (the schema, the served `Ticketing`, the
//! config, the batch counters), and the middleware stack (tracing, panic catching,
//! compression, request timeout, body limit). Serving it is `crate::serve`'s job; tests
//! call [`app`] or [`router`] with `oneshot`.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use domain::{Error, SharedTicketing};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::graphiql;
use crate::http::{execute, request_error};
use crate::prepared::Engine;
use crate::schema::QuartetSchema;
use crate::schema::loaders::LoaderCalls;
use crate::subscriptions::{self, WebSockets};

/// The whole GraphQL API over `api` with `config`, ready to serve or to call with
/// `oneshot`.
pub fn app(api: SharedTicketing, config: &Config) -> Router {
    router(AppState::new(api, config))
}

/// What every request handler needs. Cheap to clone: everything in it is shared.
#[derive(Clone)]
pub struct AppState {
    pub(crate) engine: Arc<Engine>,
    pub(crate) config: Arc<Config>,
    pub(crate) calls: Arc<LoaderCalls>,
    pub(crate) websockets: Arc<WebSockets>,
}

impl AppState {
    /// The schema and endpoint over `api` with `config`.
    pub fn new(api: SharedTicketing, config: &Config) -> Self {
        let calls = Arc::new(LoaderCalls::default());
        AppState {
            engine: Arc::new(Engine::new(api, config, Arc::clone(&calls))),
            config: Arc::new(config.clone()),
            calls,
            websockets: Arc::new(WebSockets::new(config.server.max_connections)),
        }
    }

    /// The WebSocket connections: their count, and their end at shutdown.
    pub fn websockets(&self) -> &Arc<WebSockets> {
        &self.websockets
    }

    /// The schema.
    pub fn schema(&self) -> &QuartetSchema {
        self.engine.schema()
    }

    /// The engine (schema and prepared-document cache).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Nested-fetch batch counts since start.
    pub fn loader_calls(&self) -> &Arc<LoaderCalls> {
        &self.calls
    }
}

/// The router over `state`.
pub fn router(state: AppState) -> Router {
    let server = state.config.server.clone();
    let compression = state.config.compression.clone();
    let router = Router::new()
        .route("/graphql", get(subscriptions::endpoint::get).post(execute))
        .route("/graphql/assets/{*path}", get(graphiql::serve_asset))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .with_state(state)
        .layer(DefaultBodyLimit::max(server.max_request_bytes))
        // A body declared over the limit is refused before it is read.
        .layer(netkit::http_server::RefuseOversizedLayer::new(
            server.max_request_bytes,
            too_large_response,
        ))
        // Every operation runs with the request's bearer credentials, which
        // `domain::auth::Guarded` judges when the server was given a key (a no-op otherwise).
        .layer(netkit::auth::ScopeLayer);
    netkit::http_server::with_request_timeout(router, server.request_timeout, timeout_response)
        .layer(netkit::http_server::compression_layer(&compression))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
}

/// A request whose declared body is over `limit` bytes: the 413 `execute` answers for
/// one that turns out larger as it is read.
fn too_large_response(limit: u64) -> Response {
    request_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &Error::limit_exceeded("request body", limit),
    )
}

/// A request that ran past the configured time: 503 with a LIMIT_EXCEEDED error.
fn timeout_response(limit: Duration) -> Response {
    request_error(
        StatusCode::SERVICE_UNAVAILABLE,
        &Error::limit_exceeded("request time (ms)", limit.as_millis() as u64),
    )
}

/// A handler that panicked: 500 with an INTERNAL error; the panic goes to the log only,
/// and the connection and the server live on.
#[allow(clippy::needless_pass_by_value)] // the signature CatchPanicLayer requires
fn panic_response(panic: Box<dyn Any + Send>) -> Response {
    let message = netkit::http_server::panic_message(panic.as_ref());
    request_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &Error::internal(format!("handler panicked: {message}")),
    )
}

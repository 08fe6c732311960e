//! Building the router: routes, the fallbacks that keep every error in problem+json, and
//! the middleware stack (tracing, panic catching, compression, request timeout, body
//! limit). Serving it is `crate::serve`'s job; tests call [`app`] with `oneshot`.
//!
//! The handlers hold the API as [`SharedTicketing`] (axum state), so any `Ticketing`
//! can be served: the in-memory `domain::Service`, another store, or a wrapper around
//! either.

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::{Error, SharedTicketing};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::openapi;
use crate::routes::{bookings, events, health, performers, venues};

/// The whole REST API over `api`, ready to serve or to call with `oneshot`. Request
/// bodies are capped at `config.server.max_request_bytes` and requests at
/// `config.server.request_timeout`; the rest of `config` is for [`crate::serve`].
pub fn app(api: SharedTicketing, config: &Config) -> Router {
    let max_request_bytes = config.server.max_request_bytes;
    let routes = Router::new()
        .route("/healthz", get(health::health))
        .route("/v1/events", get(events::list))
        .route("/v1/events/search", get(events::search))
        .route("/v1/events/{id}", get(events::get))
        .route("/v1/events/{id}/detail", get(events::detail))
        .route("/v1/events/{id}/seats", get(events::seat_map))
        .route(
            "/v1/events/{id}/availability/stream",
            crate::routes::availability::route(config),
        )
        .route("/v1/venues/{id}", get(venues::get))
        .route("/v1/performers/{id}", get(performers::get))
        .route("/v1/bookings", post(bookings::hold))
        .route("/v1/bookings/{id}", get(bookings::get))
        .route("/v1/bookings/{id}/confirm", post(bookings::confirm))
        .route("/v1/bookings/{id}/cancel", post(bookings::cancel))
        .with_state(api);
    let router = Router::new()
        .merge(routes)
        .merge(openapi::router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        // Layers run outside-in in the reverse of this order: the last added is outermost.
        .layer(DefaultBodyLimit::max(max_request_bytes))
        // A body declared over the limit is refused before it is read.
        .layer(netkit::http_server::RefuseOversizedLayer::new(
            max_request_bytes,
            too_large_response,
        ))
        .layer(axum::Extension(BodyLimit(max_request_bytes)))
        // Every handler runs with the request's bearer credentials, which
        // `domain::auth::Guarded` judges when the server was given a key (a no-op otherwise).
        .layer(netkit::auth::ScopeLayer);
    netkit::http_server::with_request_timeout(
        router,
        config.server.request_timeout,
        timeout_response,
    )
    .layer(netkit::http_server::compression_layer(&config.compression))
    .layer(CatchPanicLayer::custom(panic_response))
    .layer(TraceLayer::new_for_http())
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::new(Error::not_found("route", uri.path()))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::with_status(
        StatusCode::METHOD_NOT_ALLOWED,
        Error::invalid_argument(
            "method",
            format!(
                "{} is not allowed on {}",
                request.method(),
                request.uri().path()
            ),
        ),
    )
}

/// A request whose declared body is over `limit` bytes: the 413 problem `JsonBody`
/// answers for one that turns out larger as it is read.
fn too_large_response(limit: u64) -> Response {
    ApiError::new(Error::limit_exceeded(crate::error::REQUEST_BODY, limit)).into_response()
}

/// A request that ran past the configured time: 503 with a problem.
fn timeout_response(limit: Duration) -> Response {
    ApiError::with_status(
        StatusCode::SERVICE_UNAVAILABLE,
        Error::limit_exceeded("request time (ms)", limit.as_millis() as u64),
    )
    .into_response()
}

/// A handler panic becomes a logged 500 problem; the connection and the server live on.
#[allow(clippy::needless_pass_by_value)] // the signature CatchPanicLayer requires
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = netkit::http_server::panic_message(panic.as_ref());
    ApiError::new(Error::internal(format!("handler panicked: {message}"))).into_response()
}

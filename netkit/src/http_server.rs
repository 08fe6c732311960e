//! Serving an axum `Router` the way production needs and `axum::serve` does not do:
//!
//! - hyper-util's connection builder **with a timer**, so the HTTP/1 header-read timeout
//!   actually fires (axum 0.8's `serve` installs no timer, which silently disables it);
//! - the connection cap of [`ConnectionLimit`], taken before `accept`;
//! - HTTP/1.1 and HTTP/2 (prior knowledge) on one port;
//! - a graceful drain: on shutdown, stop accepting, let in-flight requests finish, and
//!   close whatever is still open when the grace period runs out.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::config::{Http2Config, ServerConfig};
use crate::connections::{ConnectionLimit, Counted};

/// Timeouts and caps for [`serve`]: the settings every server has, plus HTTP/2's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpServerConfig {
    /// Request size, timeouts, connection cap, shutdown grace.
    pub server: ServerConfig,
    /// HTTP/2 streams, keep-alive and reset protection (for h2c clients).
    pub http2: Http2Config,
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
///
/// # Errors
/// Only if the listener itself fails; a failing connection is logged and dropped.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: HttpServerConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.server.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(config.http2.max_concurrent_streams)
        .max_local_error_reset_streams(Some(config.http2.max_local_error_resets))
        .max_pending_accept_reset_streams(Some(config.http2.max_pending_accept_resets))
        .max_header_list_size(config.http2.max_header_list_bytes)
        .keep_alive_interval(Some(config.http2.keepalive_interval))
        .keep_alive_timeout(config.http2.keepalive_timeout);
    let limit = ConnectionLimit::new(config.server.max_connections);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let admitted = tokio::select! {
            admitted = limit.accept(&listener) => admitted?,
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(Counted(admitted.stream)), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let peer = admitted.peer;
        let permit = admitted.permit;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(grace = ?config.server.shutdown_grace, "draining open connections");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(config.server.shutdown_grace) => {
            tracing::warn!("grace period over; closing the remaining connections");
        }
    }
    Ok(())
}

/// Wraps `router` so that a request running past `limit` is answered with
/// `on_timeout(limit)` (each protocol renders its own error shape) instead of holding
/// the connection and the client indefinitely.
pub fn with_request_timeout(
    router: Router,
    limit: Duration,
    on_timeout: fn(Duration) -> axum::response::Response,
) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => on_timeout(limit),
            }
        },
    ))
}

/// The text of a caught panic, for the log (never for the client).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn too_slow(limit: Duration) -> axum::response::Response {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("over {} ms", limit.as_millis()),
        )
            .into_response()
    }

    #[tokio::test]
    async fn a_request_past_the_limit_gets_the_timeout_response() {
        let router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/fast", get(|| async { "ok" }));
        let app = with_request_timeout(router, Duration::from_millis(50), too_slow);
        let started = std::time::Instant::now();
        let slow = app
            .clone()
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "answered after {:?}",
            started.elapsed()
        );
        let fast = app
            .oneshot(Request::get("/fast").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(fast.status(), StatusCode::OK);
    }

    #[test]
    fn panic_messages_are_recovered_from_both_payload_kinds() {
        assert_eq!(panic_message(&"static text"), "static text");
        assert_eq!(panic_message(&String::from("owned text")), "owned text");
        assert_eq!(panic_message(&42u8), "unknown panic");
    }
}

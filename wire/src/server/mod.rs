//! The server, in the mini-redis style: a semaphore caps connections (taken before
//! `accept`), each connection runs in its own task ([`connection`]), requests run
//! concurrently up to a per-connection cap ([`dispatch`] turns a frame into a
//! `Ticketing` call), and shutdown stops accepting, lets every connection finish what it
//! has in flight, and closes, within a deadline.

mod connection;
mod dispatch;

use std::future::Future;
use std::io;
use std::time::Duration;

use domain::{Limits, Service};
use netkit::connections::ConnectionLimit;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

/// Timeouts and caps of one server, from the shared [`Limits`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest request frame (header + payload).
    pub max_request_frame: usize,
    /// Largest response frame the server will write.
    pub max_response_frame: usize,
    /// Most requests in flight on one connection; past it the server stops reading.
    pub max_in_flight: usize,
    /// Time allowed for the hello, and for a whole frame from its first byte.
    pub frame_timeout: Duration,
    /// A connection with no frame for this long is closed.
    pub idle_timeout: Duration,
    /// A response that cannot be written for this long closes the connection.
    pub write_timeout: Duration,
    /// Most open connections.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Config {
    /// The config the shared limits describe.
    pub fn from_limits(limits: &Limits) -> Self {
        Config {
            max_request_frame: limits.max_request_bytes,
            max_response_frame: limits.max_response_bytes,
            max_in_flight: limits.wire_max_in_flight,
            frame_timeout: limits.header_read_timeout,
            idle_timeout: limits.wire_idle_timeout,
            write_timeout: limits.request_timeout,
            max_connections: limits.max_connections,
            shutdown_grace: limits.shutdown_grace,
        }
    }
}

/// Serves `service` on `listener` until `shutdown` resolves, then drains.
///
/// # Errors
/// Only if the listener fails.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let config = Config::from_limits(service.limits());
    let limit = ConnectionLimit::new(config.max_connections);
    let (stop, stopping) = watch::channel(false);
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let admitted = tokio::select! {
            admitted = limit.accept(&listener) => admitted?,
            () = &mut shutdown => break,
        };
        let service = service.clone();
        let config = config.clone();
        let stopping = stopping.clone();
        connections.spawn(async move {
            let peer = admitted.peer;
            if let Err(e) = connection::run(admitted.stream, service, config, stopping).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(admitted.permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    connections.close();
    tracing::info!(grace = ?config.shutdown_grace, "draining open connections");
    if tokio::time::timeout(config.shutdown_grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("grace period over; abandoning the remaining connections");
    }
    Ok(())
}

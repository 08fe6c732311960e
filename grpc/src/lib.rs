//! gRPC for `domain::Ticketing`, on tonic and prost: the RPC reference template.
//!
//! - [`pb`]: the code generated from `proto/quartet/v1/ticketing.proto` (by `build.rs`,
//!   with protox: no `protoc` needed), and its file descriptor set.
//! - [`service()`]: the tonic service over a `domain::Service` ([`service`] module: one
//!   method per RPC), with message-size limits and compression set.
//! - [`serve`]: that service plus the standard health and reflection services, with
//!   every protection tonic leaves unset turned on, a connection cap and a drain.
//! - [`convert`]: domain <-> protobuf; [`status`]: the one error mapping.
//! - [`client::Client`]: a tonic client implementing `domain::Ticketing`.

pub mod client;
pub mod convert;
pub mod incoming;
pub mod service;
pub mod status;

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::transport::Server;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

pub use client::Client;
use pb::ticketing_server::TicketingServer;
pub use service::TicketingService;

/// Code generated from `quartet/v1/ticketing.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("quartet.v1");

    /// The encoded file descriptor set of `quartet.v1`, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/quartet_v1_descriptor.bin"));
}

/// The port `cargo run -p grpc` listens on by default.
pub const DEFAULT_PORT: u16 = 50051;
/// Most concurrent streams (calls) per HTTP/2 connection.
pub const MAX_CONCURRENT_STREAMS: u32 = 256;
/// Streams a client may make the server reset before the connection is closed
/// (the "rapid reset" protection; tonic leaves it unset).
pub const MAX_LOCAL_ERROR_RESETS: usize = 1_024;

/// The tonic service over `service`: requests up to the service's `max_request_bytes`,
/// responses up to `max_response_bytes`, gzip and zstd accepted and offered.
pub fn service(service: domain::Service) -> TicketingServer<TicketingService> {
    let limits = service.limits().clone();
    TicketingServer::new(TicketingService::new(service))
        .max_decoding_message_size(limits.max_request_bytes)
        .max_encoding_message_size(limits.max_response_bytes)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .send_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Zstd)
}

/// Serves Ticketing, health and reflection on `listener` until `shutdown` resolves.
/// Then health flips to NOT_SERVING, new calls are refused, in-flight calls finish, and
/// after the grace period whatever remains is dropped.
///
/// # Errors
/// If the reflection service cannot be built or the transport fails.
pub async fn serve(
    listener: TcpListener,
    service: domain::Service,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let limits = service.limits().clone();
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<TicketingServer<TicketingService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(io::Error::other)?;
    let (drain, draining) = tokio::sync::oneshot::channel::<()>();
    let server = Server::builder()
        // Honoured together with each call's grpc-timeout: the shorter one wins.
        .timeout(limits.request_timeout)
        .concurrency_limit_per_connection(MAX_CONCURRENT_STREAMS as usize)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .http2_max_local_error_reset_streams(Some(MAX_LOCAL_ERROR_RESETS))
        .http2_max_pending_accept_reset_streams(Some(64))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .http2_max_header_list_size(16 * 1024)
        .tcp_nodelay(true)
        // A domain error (a taken seat, a stale version) is an answer, not a server
        // failure: log it at debug, or every conflict would be an ERROR line.
        .layer(
            TraceLayer::new_for_grpc()
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .add_service(health_service)
        .add_service(reflection)
        .add_service(self::service(service))
        .serve_with_incoming_shutdown(incoming::limited(listener, limits.max_connections), async {
            let _ = draining.await;
        });
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result.map_err(io::Error::other),
        () = shutdown => {}
    }
    health
        .set_not_serving::<TicketingServer<TicketingService>>()
        .await;
    let _ = drain.send(());
    tracing::info!(grace = ?limits.shutdown_grace, "draining in-flight calls");
    if let Ok(result) = tokio::time::timeout(limits.shutdown_grace, server).await {
        result.map_err(io::Error::other)
    } else {
        tracing::warn!("grace period over; dropping the remaining calls");
        Ok(())
    }
}

//! gRPC for `domain::Ticketing`, on tonic and prost: the RPC reference template.
//!
//! - [`pb`]: the code generated from `proto/quartet/v1/ticketing.proto` (by `build.rs`,
//!   with protox: no `protoc` needed), and its file descriptor set.
//! - [`config`]: [`Config`], every server setting, on netkit's shared parts.
//! - [`service()`]: the tonic service over any `domain::Ticketing` (the
//!   [`service`](mod@service) module: one method per RPC), with message-size limits and
//!   compression set.
//! - [`serve`]: that service plus the standard health and reflection (v1 and v1alpha)
//!   services, with every protection tonic leaves unset turned on, a connection cap and
//!   a drain.
//! - [`compression`]: unary answers under the compression threshold sent uncompressed.
//! - [`shared_watch`]: `WatchAvailability` with each change encoded once for all its
//!   subscribers, which [`serve`] routes in front of the generated service.
//! - [`convert`]: domain <-> protobuf; [`error`]: the one error mapping.
//! - [`incoming`]: the accepted connections tonic serves, under the connection cap.
//! - [`send_budget`]: every answer charged to the server-wide budget of unwritten
//!   answer bytes before h2 buffers it.
//! - [`client::Client`]: a tonic client implementing `domain::Ticketing`, generic over
//!   its channel.

pub mod auth;
pub mod client;
pub mod compression;
pub mod config;
pub mod convert;
pub mod error;
pub mod incoming;
pub mod send_budget;
pub mod service;
pub mod shared_watch;

use std::future::Future;
use std::io;

use domain::SharedTicketing;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::transport::Server;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

pub use client::Client;
pub use config::Config;
use pb::ticketing_server::TicketingServer;
pub use service::TicketingService;
use shared_watch::{CallSettings, SharedWatch};

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

/// The tonic service over `api`: request messages up to `config.server.max_request_bytes`,
/// responses up to `config.server.max_response_bytes`, gzip and zstd accepted and offered
/// (unless `config.compression` is off). Unlike [`serve`], it compresses every answer a
/// client accepts compressed, small or not: the threshold is [`compression`]'s wrapper.
pub fn service(api: SharedTicketing, config: &Config) -> TicketingServer<TicketingService> {
    server_of(TicketingService::new(api), config)
}

/// `service` wrapped in the tonic server with the limits and compression [`service()`]
/// describes.
fn server_of<S: pb::ticketing_server::Ticketing>(
    service: S,
    config: &Config,
) -> TicketingServer<S> {
    let server = TicketingServer::new(service)
        .max_decoding_message_size(config.server.max_request_bytes)
        .max_encoding_message_size(config.server.max_response_bytes);
    if !config.compression.enabled {
        return server;
    }
    // tonic answers in the first of these the call's grpc-accept-encoding names, and
    // only when it names one: a client that asks for nothing gets identity.
    server
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .send_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Zstd)
}

/// The reflection builder both versions are built from: Ticketing, health and both
/// reflection services, so a client of either version lists all four.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
        .include_reflection_service(false)
}

/// Serves Ticketing (over `api`), health and reflection (v1 and v1alpha) on `listener` until `shutdown`
/// resolves, with the limits of `config`. Then health flips to NOT_SERVING, new calls
/// are refused, availability streams end with `UNAVAILABLE`, in-flight calls finish, and
/// after `config.server.shutdown_grace` whatever remains is dropped.
///
/// # Errors
/// If the reflection service cannot be built or the transport fails.
pub async fn serve(
    listener: TcpListener,
    api: SharedTicketing,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    // One budget for the server's connections: what clients leave unread is bounded
    // across them, not per connection (see `send_budget`).
    let budget = netkit::send_budget::SendBudget::new(netkit::send_budget::SendBudgetConfig::new(
        &config.http2,
    ));
    serve_with_budget(listener, api, config, budget, shutdown).await
}

/// [`serve`], with answers charged to `budget` (its limits, not `config.http2`'s send
/// budget settings, apply), so the caller can read its gauge.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_budget(
    listener: TcpListener,
    api: SharedTicketing,
    config: Config,
    budget: netkit::send_budget::SendBudget,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let Config { server, http2, .. } = &config;
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<TicketingServer<TicketingService>>()
        .await;
    // Both reflection versions: grpcurl and grpcui speak v1; Python's grpcio-reflection,
    // Postman, Evans and older grpcurl speak only v1alpha. Same descriptors in each.
    let reflection_v1 = reflection().build_v1().map_err(io::Error::other)?;
    let reflection_v1alpha = reflection().build_v1alpha().map_err(io::Error::other)?;
    let (drain, draining) = tokio::sync::oneshot::channel::<()>();
    // Availability streams never finish on their own: at shutdown this ends them with
    // UNAVAILABLE so the drain is not held for the whole grace by open watches.
    let ending_watches = tokio_util::sync::CancellationToken::new();
    let ticketing = TicketingService::new(api).draining_on(ending_watches.clone());
    let streams = http2.max_concurrent_streams;
    // Plain or TLS (ALPN h2 only): one stream type either way, so one server below.
    // What tonic lacks (see `incoming`): an HTTP/2-only server's client speaks first, so
    // its preface is due within the header-read timeout of the connection's start.
    let guard = netkit::guard::GuardConfig::new(server, http2, server.header_read_timeout);
    let incoming: std::pin::Pin<
        Box<dyn futures::Stream<Item = io::Result<incoming::AdmittedStream>> + Send>,
    > = match &server.tls {
        Some(tls) => Box::pin(incoming::tls_limited(
            listener,
            server.max_connections,
            tls.acceptor(netkit::tls::ALPN_H2),
            guard,
            budget,
        )),
        None => Box::pin(incoming::limited(
            listener,
            server.max_connections,
            guard,
            budget,
        )),
    };
    let server_future = Server::builder()
        // Honoured together with each call's grpc-timeout: the shorter one wins.
        .timeout(server.request_timeout)
        .concurrency_limit_per_connection(usize::try_from(streams).unwrap_or(usize::MAX))
        .max_concurrent_streams(streams)
        .http2_max_local_error_reset_streams(Some(http2.max_local_error_resets))
        .http2_max_pending_accept_reset_streams(Some(http2.max_pending_accept_resets))
        .http2_keepalive_interval(Some(http2.keepalive_interval))
        .http2_keepalive_timeout(Some(http2.keepalive_timeout))
        .http2_max_header_list_size(http2.max_header_list_bytes)
        .tcp_nodelay(true)
        // A domain error (a taken seat, a stale version) is an answer, not a server
        // failure: log it at debug, or every conflict would be an ERROR line.
        .layer(
            TraceLayer::new_for_grpc()
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        // Before auth: it also hands the peer's address (`TcpConnectInfo`) on.
        .layer(send_budget::SendBudgetLayer)
        // Each call runs with its `authorization` metadata as the request's credentials,
        // which `domain::auth::Guarded` judges when the server was given a key.
        .layer(auth::ScopeLayer)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(SharedWatch::new(
            server_of(
                compression::SmallUncompressed::new(
                    ticketing.clone(),
                    config.compression.min_bytes,
                ),
                &config,
            ),
            ticketing,
            CallSettings {
                max_decoding_message_size: Some(config.server.max_request_bytes),
                max_encoding_message_size: Some(config.server.max_response_bytes),
                compression: config.compression.enabled,
            },
        ))
        .serve_with_incoming_shutdown(incoming, async {
            let _ = draining.await;
        });
    tokio::pin!(server_future);
    tokio::select! {
        result = &mut server_future => return result.map_err(io::Error::other),
        () = shutdown => {}
    }
    health
        .set_not_serving::<TicketingServer<TicketingService>>()
        .await;
    ending_watches.cancel();
    let _ = drain.send(());
    let grace = server.shutdown_grace;
    tracing::info!(?grace, "draining in-flight calls");
    if let Ok(result) = tokio::time::timeout(grace, server_future).await {
        result.map_err(io::Error::other)
    } else {
        tracing::warn!("grace period over; dropping the remaining calls");
        Ok(())
    }
}

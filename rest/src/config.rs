//! [`Config`]: every setting of the REST server, built on netkit's shared parts.
//!
//! `Config::default()` is what `cargo run -p rest` and the harness serve with. No number
//! lives here: each default is one of netkit's named values (`netkit::config`), shared
//! with the other servers. Business bounds (page size, query length, seats per hold) are
//! not here either: the domain enforces them, the same for every protocol.

use netkit::config::ServerCompression;
use netkit::http_server::HttpServerConfig;
use netkit::{Http2Config, ServerConfig};

/// The REST server's settings.
///
/// - `server`: request bodies up to `max_request_bytes` (a larger one is a 413 problem
///   naming the limit), `request_timeout` per request (a slower one is a 503 problem),
///   `header_read_timeout` for a client to send its request line and headers (the
///   connection is closed after it), `max_connections` open at once (further clients
///   wait in the listen backlog), and `shutdown_grace` for the drain.
///   `max_response_bytes` is not used: the server writes whole JSON documents.
/// - `http2`: concurrent streams per connection, keep-alive ping interval and timeout,
///   the rapid-reset protections and the header-list size, for clients that speak h2c.
/// - `idle_timeout`: how long an HTTP/1.1 connection may sit without a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// What every Quartet server has: request size, timeouts, connection cap, grace.
    pub server: ServerConfig,
    /// The HTTP/2 settings for h2c clients.
    pub http2: Http2Config,
    /// Response compression: gzip or zstd when the request's `Accept-Encoding` asks, for
    /// bodies of at least `netkit::config::COMPRESSION_MIN_BYTES` (1 KiB) by default;
    /// never for the availability stream (Server-Sent Events).
    pub compression: ServerCompression,
    /// How often an idle live-availability stream (`GET /v1/events/{id}/availability/stream`)
    /// sends a keep-alive comment: [`SSE_KEEP_ALIVE`] by default.
    pub sse_keep_alive: crate::routes::availability::KeepAliveInterval,
    /// How long an HTTP/1.1 connection may stay idle, before its first request or
    /// between two: `netkit::http_server::IDLE_TIMEOUT` (120 s) by default. A setting so
    /// that tests (and the short abuse test) can run the idle path in seconds.
    pub idle_timeout: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig::default(),
            http2: Http2Config::default(),
            compression: ServerCompression::default(),
            sse_keep_alive: crate::routes::availability::KeepAliveInterval::default(),
            idle_timeout: netkit::http_server::IDLE_TIMEOUT,
        }
    }
}

/// The default interval between keep-alive comments on an idle availability stream:
/// well inside the 30 to 60 s after which proxies and load balancers commonly drop a
/// silent connection, and a quarter of the 60 s after which `Client` gives a silent
/// stream up.
pub const SSE_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

impl Config {
    /// The defaults with `server` in place of the default server settings (what
    /// `main.rs` builds from its flags).
    pub fn with_server(server: ServerConfig) -> Self {
        Config {
            server,
            ..Config::default()
        }
    }

    /// The settings netkit's HTTP server runs with (its own defaults for the rest).
    pub fn http_server(&self) -> HttpServerConfig {
        HttpServerConfig {
            idle_timeout: self.idle_timeout,
            ..HttpServerConfig::new(self.server.clone(), self.http2.clone())
        }
    }
}

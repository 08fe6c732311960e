//! `Config`: every setting of the GraphQL server, each default named once.
//!
//! The transport part is netkit's ([`ServerConfig`]: request size, header-read and
//! request timeouts, connection cap, shutdown grace; [`Http2Config`] for h2c clients).
//! The rest is GraphQL's own: async-graphql leaves depth, complexity, directives and
//! recursion unlimited, so every one is set here, with the query-document size, the
//! batch size, introspection and the prepared-document cache (which APQ uses), and the
//! WebSocket subscriptions' `connection_init` timeout and per-connection cap.
//!
//! Business bounds (page size, seats per hold) are not here: the domain enforces them
//! (`domain::Limits`), so every transport refuses the same inputs.

use std::time::Duration;

use netkit::config::ServerCompression;
use netkit::http_server::HttpServerConfig;
use netkit::{Http2Config, ServerConfig};

/// Deepest selection allowed. Introspection is the only way to nest deeper than the
/// client's own documents (about 6) in this schema (it has no cycles), and the standard
/// introspection query that GraphiQL and most tools send (graphql-js 16's, whose type
/// references nest nine `ofType`s) is 15 deep.
pub const MAX_DEPTH: usize = 15;
/// Largest complexity score allowed: each field costs 1, `events` and `searchEvents`
/// multiply their selection by `first`, a seat map costs 50. The client's largest query,
/// a page of 100 events, scores about 1 400.
pub const MAX_COMPLEXITY: usize = 3_000;
/// Most directives on one field.
pub const MAX_DIRECTIVES: usize = 8;
/// Deepest nesting of the query document itself (fragments, input values).
pub const MAX_RECURSION: usize = 32;
/// Longest query document: 32 KiB.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;
/// Most operations in one batched request.
pub const MAX_BATCH: usize = 10;
/// Prepared documents (parsed and validated) kept, APQ hashes with them; the oldest go
/// first.
pub const DOCUMENT_CACHE: usize = 1_024;
/// Bytes of document text the prepared-document cache holds at most (4 MiB).
pub const DOCUMENT_CACHE_BYTES: usize = 4 * 1024 * 1024;
/// How long a WebSocket client has, from the upgrade, to send `connection_init`
/// before the server closes with 4408, as graphql-transport-ws asks (3 s, the reference
/// server's default).
pub const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(3);
/// Operations (subscriptions) one WebSocket connection may run at once; one more is
/// refused with LIMIT_EXCEEDED. Each one holds a store subscriber with its buffer.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 16;

/// Settings of the GraphQL server. `Config::default()` is what `cargo run -p graphql`
/// serves with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Request body size, header-read and request timeouts, connection cap, shutdown
    /// grace.
    pub server: ServerConfig,
    /// HTTP/2 streams, keep-alive and reset protection, for clients speaking h2c.
    pub http2: Http2Config,
    /// Response compression: gzip or zstd when the request's `Accept-Encoding` asks, for
    /// bodies of at least `netkit::config::COMPRESSION_MIN_BYTES` (1 KiB) by default.
    pub compression: ServerCompression,
    /// Deepest selection allowed.
    pub max_depth: usize,
    /// Largest complexity score allowed (each field 1; list fields multiply by `first`,
    /// the seat map costs 50).
    pub max_complexity: usize,
    /// Most directives on one field.
    pub max_directives: usize,
    /// Deepest nesting of the query document itself (fragments, input values).
    pub max_recursion: usize,
    /// Longest query document, in bytes.
    pub max_query_bytes: usize,
    /// Most operations in one batched request.
    pub max_batch: usize,
    /// Whether introspection (`__schema`, `__type`) is served.
    pub introspection: bool,
    /// Prepared documents kept (each parsed and validated once); APQ hashes are
    /// remembered with them. 0 turns the cache (and APQ hits) off.
    pub document_cache: usize,
    /// Bytes of document text the prepared-document cache holds at most.
    pub document_cache_bytes: usize,
    /// How long a WebSocket client may take to send `connection_init`.
    pub connection_init_timeout: Duration,
    /// Operations one WebSocket connection may run at once.
    pub max_subscriptions_per_connection: usize,
    /// How long an HTTP/1.1 connection may stay idle, before its first request or
    /// between two: `netkit::http_server::IDLE_TIMEOUT` (120 s) by default. A setting so
    /// that tests (and the short abuse test) can run the idle path in seconds.
    pub idle_timeout: Duration,
}

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

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig::default(),
            http2: Http2Config::default(),
            compression: ServerCompression::default(),
            max_depth: MAX_DEPTH,
            max_complexity: MAX_COMPLEXITY,
            max_directives: MAX_DIRECTIVES,
            max_recursion: MAX_RECURSION,
            max_query_bytes: MAX_QUERY_BYTES,
            max_batch: MAX_BATCH,
            introspection: true,
            document_cache: DOCUMENT_CACHE,
            document_cache_bytes: DOCUMENT_CACHE_BYTES,
            connection_init_timeout: CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection: MAX_SUBSCRIPTIONS_PER_CONNECTION,
            idle_timeout: netkit::http_server::IDLE_TIMEOUT,
        }
    }
}

//! Transport settings every server and client shares, named once.
//!
//! Each protocol crate has its own `Config` (REST's, GraphQL's, gRPC's, the wire
//! protocol's) built on [`ServerConfig`], the part they all have: request size, header
//! read and request timeouts, a connection cap and the shutdown grace. The HTTP/2 servers
//! (gRPC, and REST and GraphQL when a client speaks h2c) share [`Http2Config`], and the
//! three that compress share [`ServerCompression`]. Clients share [`ClientConfig`], with
//! the [`Compression`] they ask for.
//!
//! Business bounds (page size, seats per hold, hold TTL) are not here: they belong to the
//! domain (`domain::Limits`), because every transport must refuse the same inputs.

use std::time::Duration;

/// Largest request a server reads (HTTP body, gRPC message, wire frame): 1 MiB.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
/// Largest response a client accepts: 16 MiB, so the largest seat map fits.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;
/// Time a client has to send a request's headers (or a whole wire frame).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time one request may take from its arrival to its answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most open connections per server; further clients wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1_024;
/// Accepted connections that may be in their opening phase at once: from `accept` until
/// the server first finds nothing more to read on them (it has caught up with what the
/// peer sent: a request dispatched, a handshake waiting for its peer), first writes to
/// them (an answer or a refusal), or they end
/// (`netkit::connections::ConnectionLimit::accept_opening`). Past it the server accepts
/// nothing and newcomers wait in the listen backlog, unread. It bounds how much new
/// connections' work can queue ahead of an established connection's next request: a
/// burst of 1 000 oversized heads or documents, each 50-100 us of one core to read and
/// refuse, no longer puts all of them in the run queue at once, and 16 of them are at
/// most a millisecond or two; 16 handshakes at once still keep a two-core server busy.
/// Slow and silent peers give their slot back at their first read, so they cannot hold
/// the slots.
pub const MAX_OPENING_CONNECTIONS: usize = 16;
/// Time a write to a client may make no progress (the client reads nothing) before the
/// connection is closed: an HTTP server's answer to a peer that never reads. As long as
/// the wire protocol's `write_timeout` (the request timeout).
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of answers the kernel holds unsent on one accepted connection of an HTTP
/// server (REST, GraphQL, gRPC), beyond what the peer's receive window lets it send:
/// 128 KiB, set as `TCP_NOTSENT_LOWAT` on every accepted socket (Linux;
/// `crate::connections::limit_unsent`), as the wire server does with its own
/// `MAX_UNSENT_BYTES`. A write that would queue more waits until the peer reads.
///
/// Without it the kernel's send buffer is the bound: on loopback here the kernel took
/// about 2.8 MB of a never-reading peer's answers per connection (`tcp_wmem`'s maximum
/// is 4 MiB; the tests of `http_server` and `grpc/tests/unsent.rs` measure it): a
/// peer that asks for large answers and never reads had dozens of gRPC seat maps
/// computed, encoded and taken by the kernel before the server's writes to it stopped,
/// and only then did [`WRITE_STALL_TIMEOUT`]'s clock start (the guard's clock, which
/// runs from the first write that makes no progress) and the guard stop reading its
/// requests. With the cap both happen within the first few answers. A peer that reads
/// is not slowed: what the kernel has sent (within the peer's window, megabytes on
/// loopback) does not count, only what it holds back.
pub const MAX_UNSENT_BYTES: u32 = 128 << 10;
/// Time a graceful shutdown waits for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Most concurrent HTTP/2 streams (calls) per connection.
pub const HTTP2_MAX_CONCURRENT_STREAMS: u32 = 256;
/// How often an idle HTTP/2 connection is pinged to check the peer is still there.
pub const HTTP2_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a keep-alive ping may go unanswered before the connection is closed.
pub const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Streams a client may make the server reset before the connection is closed (the
/// HTTP/2 "rapid reset" protection; hyper and tonic leave it unset).
pub const HTTP2_MAX_LOCAL_ERROR_RESETS: usize = 1_024;
/// Streams reset by the client before the server accepted them, at most: h2's own
/// default (20). Every one is a header block the server decoded for nothing; at 64, a
/// burst of 1 000 rapid-reset connections made the server decode 64 000 of them before
/// the GOAWAYs, while an honest client resets a handful at most.
pub const HTTP2_MAX_PENDING_ACCEPT_RESETS: usize = 20;
/// The most an HTTP/1.1 server buffers of a request it is reading (hyper's
/// `max_buf_size`): the request line and headers must fit, or the answer is 431. 16 KiB,
/// the same as HTTP/2's `max_header_list_bytes` (and Node.js's default header limit), and
/// far above any header this API reads (a bearer token is under 1 KiB). hyper's default
/// (about 400 KiB) let every connection of a big-headers burst make the server read and
/// scan 400 KiB before its 431; at 64 KiB the byte-by-byte scan for the head's end was
/// still a quarter of the server's cost per such connection. Also the largest read of a
/// body, which only caps a read, not the body.
pub const HTTP1_MAX_BUF_BYTES: usize = 16 * 1024;
/// Largest HTTP/2 header list a server accepts, in bytes.
pub const HTTP2_MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;
/// PING and SETTINGS frames (each obliges the server to answer) a client may send per
/// [`HTTP2_CONTROL_FRAME_WINDOW`] before the connection is closed: 10 a second, still
/// far above any keep-alive or window-probing client (h2 and hyper have no such bound).
/// Every frame under it is one the server decodes and acknowledges, so it is what a
/// flood costs before it is cut: at 1 000 (the first setting) 1 000 flooding
/// connections got a million acknowledgements out of one server core before the
/// guard closed them.
pub const HTTP2_MAX_CONTROL_FRAMES: u32 = 100;
/// The window [`HTTP2_MAX_CONTROL_FRAMES`] counts in.
pub const HTTP2_CONTROL_FRAME_WINDOW: Duration = Duration::from_secs(10);
/// Bytes of answers handed to HTTP/2 and not yet written that all of a server's
/// connections together may hold beyond their own [`HTTP2_SEND_BUDGET_PER_CONNECTION_BYTES`]
/// (`netkit::send_budget`): 64 MiB, four of the largest answers a server writes
/// ([`MAX_RESPONSE_BYTES`]), a few hundred seat maps.
pub const HTTP2_SEND_BUDGET_BYTES: usize = 64 << 20;
/// Bytes of answers every HTTP/2 connection may have unwritten whatever the others do:
/// 64 KiB, a hundred `get_event` answers, so a client that reads is never refused for
/// what others leave unread. With [`MAX_CONNECTIONS`] it makes the server-wide bound
/// 64 MiB + 1 024 x 64 KiB = 128 MiB.
pub const HTTP2_SEND_BUDGET_PER_CONNECTION_BYTES: usize = 64 << 10;
/// How long a call waits for send budget before it is refused with
/// `RESOURCE_EXHAUSTED`: well under the request timeout, so the client hears why.
pub const HTTP2_SEND_BUDGET_WAIT: Duration = Duration::from_secs(5);
/// Smallest response body a server compresses (when the client asks): 1 KiB. Below it
/// the encoder's header and checksum (18 bytes for gzip, up to 18 for zstd) and its CPU
/// buy nothing: a `get_event` answer of a few hundred bytes stays as it is, a seat map of
/// megabytes shrinks severalfold.
pub const COMPRESSION_MIN_BYTES: usize = 1024;

/// What every server has, whatever its protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest request a server reads: HTTP body, gRPC message or wire frame, in bytes.
    pub max_request_bytes: usize,
    /// Largest response the server writes (gRPC message, wire frame), in bytes.
    pub max_response_bytes: usize,
    /// How long a client may take to send a request's headers (or a whole wire frame).
    pub header_read_timeout: Duration,
    /// How long one request may take from its arrival to its answer.
    pub request_timeout: Duration,
    /// Most open connections.
    pub max_connections: usize,
    /// How long a graceful shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// How long a write to a client may make no progress before the connection is
    /// closed (HTTP servers: `netkit::guard`; the wire server has its own
    /// `write_timeout`).
    pub write_stall_timeout: Duration,
    /// TLS on every accepted connection (`--tls-cert`, `--tls-key`), each protocol with
    /// its own ALPN ids; `None` (the default) serves plain text.
    pub tls: Option<crate::tls::ServerTls>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_request_bytes: MAX_REQUEST_BYTES,
            max_response_bytes: MAX_RESPONSE_BYTES,
            header_read_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            shutdown_grace: SHUTDOWN_GRACE,
            write_stall_timeout: WRITE_STALL_TIMEOUT,
            tls: None,
        }
    }
}

/// HTTP/2 settings of a server (gRPC always; REST and GraphQL for h2c clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http2Config {
    /// Most concurrent streams per connection.
    pub max_concurrent_streams: u32,
    /// Keep-alive ping interval on an idle connection.
    pub keepalive_interval: Duration,
    /// How long a ping may go unanswered.
    pub keepalive_timeout: Duration,
    /// Client-caused stream resets tolerated before the connection is closed.
    pub max_local_error_resets: usize,
    /// Streams reset before being accepted, at most.
    pub max_pending_accept_resets: usize,
    /// Largest header list accepted, in bytes.
    pub max_header_list_bytes: u32,
    /// PING and SETTINGS frames (not ACKs) a client may send per `control_frame_window`
    /// before its connection is closed (`netkit::guard`).
    pub max_control_frames: u32,
    /// The window `max_control_frames` counts in.
    pub control_frame_window: Duration,
    /// Bytes of answers handed to HTTP/2 and not yet written that all connections
    /// together may hold beyond their `send_budget_per_connection_bytes`
    /// (`netkit::send_budget`; gRPC only so far).
    pub send_budget_bytes: usize,
    /// Bytes of unwritten answers each connection may hold whatever the others do.
    pub send_budget_per_connection_bytes: usize,
    /// How long a call waits for budget before it is refused (`RESOURCE_EXHAUSTED`).
    pub send_budget_wait: Duration,
}

impl Default for Http2Config {
    fn default() -> Self {
        Http2Config {
            max_concurrent_streams: HTTP2_MAX_CONCURRENT_STREAMS,
            keepalive_interval: HTTP2_KEEPALIVE_INTERVAL,
            keepalive_timeout: HTTP2_KEEPALIVE_TIMEOUT,
            max_local_error_resets: HTTP2_MAX_LOCAL_ERROR_RESETS,
            max_pending_accept_resets: HTTP2_MAX_PENDING_ACCEPT_RESETS,
            max_header_list_bytes: HTTP2_MAX_HEADER_LIST_BYTES,
            max_control_frames: HTTP2_MAX_CONTROL_FRAMES,
            control_frame_window: HTTP2_CONTROL_FRAME_WINDOW,
            send_budget_bytes: HTTP2_SEND_BUDGET_BYTES,
            send_budget_per_connection_bytes: HTTP2_SEND_BUDGET_PER_CONNECTION_BYTES,
            send_budget_wait: HTTP2_SEND_BUDGET_WAIT,
        }
    }
}

/// What every client has, whatever its protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Largest request the client sends, in bytes (the server's limit, so an oversized
    /// request fails locally with `LIMIT_EXCEEDED` instead of on the wire).
    pub max_request_bytes: usize,
    /// Largest response the client accepts, in bytes.
    pub max_response_bytes: usize,
    /// How long connecting (and any handshake) may take.
    pub connect_timeout: Duration,
    /// How long one call may take before the client gives up.
    pub request_timeout: Duration,
    /// The encoding the client asks responses in (`Accept-Encoding`, gRPC's
    /// `grpc-accept-encoding`, the wire protocol's hello) and decodes:
    /// [`Compression::None`] by default.
    pub compression: Compression,
    /// TLS to the server, verified against this CA; `None` (the default) speaks plain
    /// text. REST and GraphQL clients also need an `https://` base URL.
    pub tls: Option<crate::tls::ClientTls>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_request_bytes: MAX_REQUEST_BYTES,
            max_response_bytes: MAX_RESPONSE_BYTES,
            connect_timeout: HEADER_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            compression: Compression::None,
            tls: None,
        }
    }
}

/// A compression a client can ask for. In practice only responses are compressed: every
/// request of this API is far under [`COMPRESSION_MIN_BYTES`] (the wire protocol applies
/// the same threshold to frames in both directions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Compression {
    /// Identity: the client asks for nothing and gets bodies as they are.
    #[default]
    None,
    /// gzip (RFC 1952).
    Gzip,
    /// Zstandard (RFC 8878).
    Zstd,
}

impl Compression {
    /// Every compression, `none` first.
    pub const ALL: [Compression; 3] = [Compression::None, Compression::Gzip, Compression::Zstd];

    /// Its name as HTTP's `Accept-Encoding`, gRPC's `grpc-encoding` and the command line
    /// spell it (`none` for identity).
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown compression {s:?}: expected none, gzip or zstd"))
    }
}

/// Response compression on a server (REST, GraphQL, gRPC, and the wire protocol's frames):
/// offered in gzip and zstd,
/// used only when the client asks for it, and only for bodies (gRPC: messages) of at
/// least `min_bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCompression {
    /// Whether the server compresses at all (and, for gRPC, accepts compressed
    /// requests). On by default: nothing is compressed unless a client asks.
    pub enabled: bool,
    /// The smallest body (gRPC: message) compressed; smaller ones go as they are.
    pub min_bytes: usize,
}

impl Default for ServerCompression {
    fn default() -> Self {
        ServerCompression {
            enabled: true,
            min_bytes: COMPRESSION_MIN_BYTES,
        }
    }
}

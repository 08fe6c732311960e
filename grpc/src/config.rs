//! [`Config`]: every setting of the gRPC server, built on netkit's shared parts.
//!
//! tonic leaves most protections unset; [`crate::serve`] turns each on from these
//! fields, and `Config::default()` is what `cargo run -p grpc` and the harness serve
//! with. No number lives here: each default is one of netkit's named values
//! (`netkit::config`), so the 256 streams and the 30 s / 10 s keep-alives are written
//! once for every HTTP/2 server in the workspace.

use netkit::config::ServerCompression;
use netkit::{Http2Config, ServerConfig};

/// The gRPC server's settings.
///
/// - `server`: requests up to `max_request_bytes` per message (a larger one is refused
///   with `OUT_OF_RANGE` and the connection stays usable), responses up to
///   `max_response_bytes`, `request_timeout` per call (honoured together with the call's
///   own `grpc-timeout`: the shorter wins), `max_connections` open at once (tonic has no
///   cap, so the listener stream carries one), and `shutdown_grace` for the drain.
///   `header_read_timeout` is the deadline for a connection's HTTP/2 preface and first
///   SETTINGS frame, from its start (tonic has none; `netkit::guard` adds it, see
///   [`crate::incoming`]), and `write_stall_timeout` ends a connection whose peer stops
///   reading; the keep-alive below closes connections whose peer went away.
/// - `http2`: concurrent streams per connection (also the per-connection concurrency
///   limit), keep-alive ping interval and timeout, the rapid-reset protections
///   (`max_local_error_resets`, `max_pending_accept_resets`), the header-list size, and
///   the PING/SETTINGS budget (`max_control_frames` per `control_frame_window`, enforced
///   by `netkit::guard`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// What every Quartet server has: message sizes, timeouts, connection cap, grace.
    pub server: ServerConfig,
    /// The HTTP/2 settings tonic serves with.
    pub http2: Http2Config,
    /// Compression: gzip- and zstd-compressed requests accepted, responses compressed in
    /// the encoding the call's `grpc-accept-encoding` names, each message of at least
    /// `min_bytes` (`netkit::config::COMPRESSION_MIN_BYTES`, 1 KiB, by default; smaller
    /// unary answers go uncompressed, see [`crate::compression`]). Off: neither.
    pub compression: ServerCompression,
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
}

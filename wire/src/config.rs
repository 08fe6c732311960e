//! `Config`: every setting of a wire server, in one value.
//!
//! It is built on [`netkit::ServerConfig`], the part every Quartet server shares (frame
//! sizes, connection cap, shutdown grace), plus what only this protocol has: deadlines
//! for a frame and for writing answers, an idle timeout, per connection a cap on
//! requests in flight and a byte budget for answers waiting to be written, and a byte
//! budget for them over all connections (and [`MAX_UNSENT_BYTES`], what the kernel may
//! hold unsent on one connection, a constant rather than a setting), and the
//! limits of live subscriptions (SUBSCRIBE): how many one connection may hold, how many
//! of one subscription's PUSH frames may wait to be written, and how many messages a
//! [`Client`](crate::Client) queues per subscription for a consumer that reads slowly;
//! and per-frame compression, netkit's [`ServerCompression`] like every Quartet server's
//! (the codec itself is chosen by the client in its hello, from its `ClientConfig`).
//! `Config::default()` is what `cargo run -p wire` serves with.

use std::time::Duration;

use netkit::ServerConfig;
use netkit::config::ServerCompression;

use crate::gauges::Gauges;

/// Most requests in flight on one connection. Past it the server stops reading that
/// connection until an answer has gone out (TCP backpressure), and a
/// [`Client`](crate::Client) makes further callers on that connection wait.
pub const MAX_IN_FLIGHT: usize = 256;

/// Most bytes of encoded answers (length prefix and header included) waiting to be
/// written to one connection: 256 KiB. An answer that does not fit waits for room, and
/// while it waits the server reads no further request from that connection (TCP
/// backpressure); one answer larger than the whole budget is queued alone.
///
/// It was 4 MiB, and 1 000 connections that never read took the server to 2.4 GB
/// (issue 18). 256 KiB still holds the largest answer of the reference data (a seat map
/// of the biggest venue, about 223 KB) with room for small ones beside it, and a peer
/// that reads keeps the socket's own buffer (megabytes, grown by the kernel) full from
/// it; what a slow peer holds beyond that is the kernel's, not the server's.
pub const MAX_QUEUED_BYTES: usize = 256 << 10;

/// Most bytes of encoded answers waiting to be written over all connections of one
/// server: 64 MiB, besides the first
/// [`GUARANTEED_QUEUED_BYTES`](crate::server::GUARANTEED_QUEUED_BYTES) (64 KiB) of each
/// connection, which are its own so that small answers to peers that read never wait
/// for room that peers which do not read are holding. A connection whose answer finds no
/// room waits like one over its own budget (it stops reading); at the default 1 024
/// connections the server holds at most 128 MiB of queued answers in all, where 1 024
/// connections of 256 KiB each could hold 256 MiB (and 4 GiB before).
pub const MAX_TOTAL_QUEUED_BYTES: usize = 64 << 20;

/// Most bytes of answers the kernel holds unsent on one connection, beyond what the
/// peer's receive window lets it send: 128 KiB, set as `TCP_NOTSENT_LOWAT` on every
/// accepted socket (Linux). A write that would queue more waits until the peer reads.
///
/// Without it the kernel's send buffer is the bound, which on loopback starts at about
/// 1.2 MB per connection (`ss` in the gRPC no-read run, docs/abuse.md): a peer that asks
/// for seat maps (223 KB each) and never reads had about five of them taken by the
/// kernel, plus one in the writer and one waiting for room, before the server stopped
/// reading it. 1 000 such peers (the no-read row of `quartet abuse`) kept the server's
/// two cores busy computing seat maps of a millisecond each for seconds, and a normal
/// client's request waited behind them. With the cap the writer stops within the first
/// large answer, the byte budgets fill at once, the server stops reading (and working
/// for) that peer after about two answers, and the write-stall clock starts then. A
/// peer that reads is not slowed: what the kernel has sent (within the peer's window,
/// megabytes on loopback) does not count, only what it holds back.
pub const MAX_UNSENT_BYTES: u32 = 128 << 10;

/// Most live subscriptions on one connection. A SUBSCRIBE beyond it is refused with
/// `LIMIT_EXCEEDED`, what [`SUBSCRIPTIONS_WHAT`], limit this number; the connection stays
/// open.
pub const MAX_SUBSCRIPTIONS: usize = 256;

/// The `what` of the `LIMIT_EXCEEDED` error for one subscription too many.
pub const SUBSCRIPTIONS_WHAT: &str = "subscriptions per connection";

/// Most PUSH frames of one subscription waiting to be written (queued in the
/// connection's writer, not yet on the socket). A subscription at this bound pulls no
/// further message from the domain's stream until one is written, so a peer that reads
/// slowly makes the subscription fall behind in the store (then it gets a RESYNC)
/// instead of filling the connection's byte budget and starving ordinary answers.
pub const MAX_QUEUED_PUSHES: usize = 32;

/// Messages a [`Client`](crate::Client) queues per subscription between its connection's
/// reader and the consumer of the stream, like the store's per-subscriber buffer
/// (`domain::Limits::WATCH_BUFFER`). A consumer that lets it fill gets a RESYNC made by
/// the client (the reader never waits for a consumer).
pub const CLIENT_SUBSCRIPTION_QUEUE: usize = 256;

/// A connection with no frame for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The settings of one wire server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// What every server has. The wire server reads `max_request_bytes` (the largest
    /// request frame, header included), `max_response_bytes` (the largest response frame
    /// it writes; a bigger answer becomes `LIMIT_EXCEEDED`), `max_connections` and
    /// `shutdown_grace`, and `write_stall_timeout`: a write to a connection that makes no
    /// progress for that long closes it (netkit's guard, as on every Quartet server),
    /// whatever the [`Config::write_timeout`] of the batch, and so does a connection
    /// with answers made and not yet written that writes nothing for that long, whatever
    /// its writer waits for (the server's own stall clock). A frame has no headers and the server sets no per-request
    /// deadline, so `header_read_timeout` and `request_timeout` are only where
    /// [`Config::with_server`] takes the defaults of [`Config::frame_timeout`] and
    /// [`Config::write_timeout`] from.
    pub server: ServerConfig,
    /// Time allowed for the hello, and for each whole frame from its first byte, so a
    /// one-byte-at-a-time sender cannot hold a connection.
    pub frame_timeout: Duration,
    /// A connection with no frame for this long is closed.
    pub idle_timeout: Duration,
    /// A batch of answers that cannot be written for this long (a peer that does not
    /// read) closes the connection.
    pub write_timeout: Duration,
    /// Most requests in flight on one connection; past it the server stops reading.
    pub max_in_flight: usize,
    /// Most bytes of encoded answers waiting to be written to one connection; when an
    /// answer does not fit, the server stops reading that connection until the peer has
    /// read enough (see [`MAX_QUEUED_BYTES`]). 0 counts as 1.
    pub max_queued_bytes: usize,
    /// Most bytes of encoded answers waiting to be written over all the server's
    /// connections, besides each connection's first
    /// [`GUARANTEED_QUEUED_BYTES`](crate::server::GUARANTEED_QUEUED_BYTES); when an
    /// answer finds no room, its connection waits as for its own budget (see
    /// [`MAX_TOTAL_QUEUED_BYTES`]). 0 counts as 1.
    pub max_total_queued_bytes: usize,
    /// Most live subscriptions on one connection (see [`MAX_SUBSCRIPTIONS`]).
    pub max_subscriptions: usize,
    /// Most PUSH frames of one subscription waiting to be written (see
    /// [`MAX_QUEUED_PUSHES`]). 0 counts as 1.
    pub max_queued_pushes: usize,
    /// Per-frame payload compression: on by default (zstd or gzip, whichever the
    /// client's hello accepts, zstd first), for payloads of at least `min_bytes` (1 KiB)
    /// in both directions. Off: the server hello agrees on none, and every frame is sent
    /// and must arrive uncompressed.
    pub compression: ServerCompression,
    /// Counters the server updates for tests and monitoring, if any.
    pub gauges: Option<Gauges>,
}

impl Config {
    /// The wire settings over `server`: the frame deadline is its header-read timeout,
    /// the write deadline its request timeout, and the idle timeout, in-flight cap and
    /// byte budgets are [`IDLE_TIMEOUT`], [`MAX_IN_FLIGHT`], [`MAX_QUEUED_BYTES`] and
    /// [`MAX_TOTAL_QUEUED_BYTES`], the
    /// subscription limits [`MAX_SUBSCRIPTIONS`] and [`MAX_QUEUED_PUSHES`], compression
    /// on from 1 KiB; no gauges.
    pub fn with_server(server: ServerConfig) -> Self {
        Config {
            frame_timeout: server.header_read_timeout,
            idle_timeout: IDLE_TIMEOUT,
            write_timeout: server.request_timeout,
            max_in_flight: MAX_IN_FLIGHT,
            max_queued_bytes: MAX_QUEUED_BYTES,
            max_total_queued_bytes: MAX_TOTAL_QUEUED_BYTES,
            max_subscriptions: MAX_SUBSCRIPTIONS,
            max_queued_pushes: MAX_QUEUED_PUSHES,
            compression: ServerCompression::default(),
            gauges: None,
            server,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::with_server(ServerConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults are the ones PROTOCOL.md promises.
    #[test]
    fn defaults_match_the_specification() {
        let config = Config::default();
        assert_eq!(config.server.max_request_bytes, 1 << 20);
        assert_eq!(config.server.max_response_bytes, 16 << 20);
        assert_eq!(config.frame_timeout, Duration::from_secs(10));
        assert_eq!(config.idle_timeout, Duration::from_secs(60));
        assert_eq!(config.write_timeout, Duration::from_secs(30));
        assert_eq!(config.max_in_flight, 256);
        assert_eq!(config.max_queued_bytes, 256 * 1024);
        assert_eq!(config.max_total_queued_bytes, 64 * 1024 * 1024);
        assert_eq!(config.max_subscriptions, 256);
        assert_eq!(config.max_queued_pushes, 32);
        assert_eq!(CLIENT_SUBSCRIPTION_QUEUE, domain::Limits::WATCH_BUFFER);
        assert!(config.compression.enabled);
        assert_eq!(config.compression.min_bytes, 1024);
        assert_eq!(config.gauges, None);
        assert_eq!(config.server.max_connections, 1_024);
        assert_eq!(config.server.shutdown_grace, Duration::from_secs(10));
        assert_eq!(config.server.write_stall_timeout, Duration::from_secs(30));
    }
}

//! Quartet's custom binary protocol for `domain::Ticketing`: a length-prefixed frame
//! protocol on TCP with a handshake, multiplexed requests and postcard payloads.
//! `wire/PROTOCOL.md` is the specification; this crate is its reference implementation.
//!
//! - [`serve`]: serves any `Ticketing` (a [`SharedTicketing`](domain::SharedTicketing))
//!   with a [`Config`], with per-connection concurrency, backpressure and deadlines.
//! - [`config`]: [`Config`], the server's settings on `netkit`'s shared part.
//! - [`gauges`]: [`Gauges`], counters a server keeps about its connections' queues.
//! - [`handshake`]: the 8-byte hellos, version and compression negotiation.
//! - [`frame`] and [`codec`]: the frame header and the codec on tokio-util's
//!   `LengthDelimitedCodec`, which compresses and decompresses payloads when the hellos
//!   agreed on a codec.
//! - [`compression`]: one frame payload compressed (zstd or gzip) and decompressed
//!   within the frame maximum.
//! - [`messages`]: every payload, field by field, and its domain conversions (including
//!   SUBSCRIBE, UNSUBSCRIBE and the PUSH frames of live availability).
//! - [`error`]: the one domain error <-> error frame mapping.
//! - [`server`]: the accept loop, one connection's read loop, and dispatch from opcode to
//!   `Ticketing`.
//! - [`client`]: [`Client`], many requests in flight on one connection (or a few), and
//!   live availability streams sharing those connections.

pub mod client;
pub mod codec;
pub mod compression;
pub mod config;
pub mod error;
pub mod frame;
pub mod gauges;
pub mod handshake;
pub mod messages;
pub mod server;

pub use client::Client;
pub use config::Config;
pub use gauges::Gauges;
pub use server::serve;

/// The port `cargo run -p wire` listens on by default.
pub const DEFAULT_PORT: u16 = 7878;

//! The plumbing every Quartet server and client shares, so the four protocol crates stay
//! pure translation and never copy each other:
//!
//! - [`args`]: the flags of every standalone server (`--listen`, `--events`, `--seed`).
//! - [`config`]: the transport settings every server and client shares ([`ServerConfig`],
//!   [`Http2Config`], [`ClientConfig`]), each magic number named once.
//! - [`telemetry`]: tracing set up from `RUST_LOG`.
//! - [`shutdown`]: a future that resolves on Ctrl-C or SIGTERM.
//! - [`connections`]: a cap on open connections, taken before `accept`.
//! - [`guard`]: the connection limits hyper, h2 and tonic lack: a write-stall timeout,
//!   an HTTP/2 handshake deadline and a PING/SETTINGS budget.
//! - [`coalesce_writes`]: a stream wrapper that gathers an HTTP/2 connection's writes
//!   into one system call per scheduler round (gRPC's server streams).
//! - [`send_budget`]: a server-wide bound on answer bytes handed to HTTP/2 and not yet
//!   written, so clients that never read cannot make the server hold their answers.
//! - [`running`]: a server spawned on a loopback port, with its stop handle.
//! - `http_server` (feature `http-server`): serving an axum `Router` through hyper-util
//!   with a header-read timeout that really fires, the connection cap, and a graceful
//!   drain with a deadline.
//! - `http_idle` (feature `http-server`): hyper's HTTP/1 header-read timer split into a
//!   header deadline from a request's first byte and a longer idle deadline.
//! - `auth` (feature `http-server`): the tower layer that hands a request's
//!   `Authorization` header to `domain::auth` (REST and GraphQL share it).
//! - `http_client` (feature `http-client`): the `HttpTransport` seam REST and GraphQL
//!   clients send through, its reqwest implementation, bounded body reads.
//!
//! - [`tls`]: rustls for every server (a handshake with a deadline, each protocol's ALPN
//!   ids) and client (a CA file to verify against); `tls::dev` (feature `tls-dev-certs`)
//!   makes a development CA and server certificate.
//!   `tls::suite` (feature `test-suites`) holds the TLS checks every protocol's tests run.
//! - `compression_suite` (features `test-suites` and `http-server`): the response
//!   compression checks REST's and GraphQL's tests share.
//!
//! It knows nothing of any one protocol's messages; that is each protocol crate's job.

pub mod args;
#[cfg(feature = "http-server")]
pub mod auth;
pub mod coalesce_writes;
#[cfg(all(feature = "test-suites", feature = "http-server"))]
pub mod compression_suite;
pub mod config;
pub mod connections;
pub mod guard;
#[cfg(feature = "http-client")]
pub mod http_client;
#[cfg(feature = "http-server")]
pub mod http_idle;
#[cfg(feature = "http-server")]
pub mod http_server;
pub mod running;
pub mod send_budget;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

pub use config::{ClientConfig, Http2Config, ServerConfig};

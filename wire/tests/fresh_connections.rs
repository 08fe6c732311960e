//! Many short-lived clients, each a fresh connection making one request and dropped: what
//! the benchmark's `connect` scenario does. A dropped client must close its connection,
//! so the server's connection slots come back; before, the reader task kept the socket's
//! read half open after the client was gone, the server saw no end of the stream and
//! held each slot until its idle timeout, and once `max_connections` were held the next
//! fresh connection waited in the listen backlog: its first request was never answered.
//! Plain and over TLS, against a server with a few slots so the test is quick, and with
//! the default cap (1 024) as the benchmark meets it.

// Helpers that fail are failed tests, not crashes a client can cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::{EventId, Ticketing};
use netkit::running::RunningServer;
use netkit::tls::{ClientTls, ServerTls, dev};
use netkit::{ClientConfig, ServerConfig};

/// Far longer than one connection and request take on loopback, even for a debug build
/// on a loaded machine (a TLS handshake included); a connection left in the backlog
/// fails here instead of hanging the test.
const PER_CONNECTION: Duration = Duration::from_secs(15);

async fn spawn(max_connections: usize, tls: Option<ServerTls>) -> RunningServer {
    let config = wire::Config::with_server(ServerConfig {
        max_connections,
        tls,
        ..ServerConfig::default()
    });
    let api = Arc::new(common::service());
    RunningServer::spawn(|listener, stop| wire::serve(listener, api, config, stop))
        .await
        .unwrap()
}

/// How a test opens its clients: the three ways the client offers.
#[derive(Clone, Copy, Debug)]
enum Open {
    /// `Client::connect_with` (TLS too when the config has it).
    Direct,
    /// `Client::connect_wrapped`, the stream passed through as it is (the benchmark wraps
    /// it in a byte meter).
    Wrapped,
    /// `Client::from_stream` over a TCP stream opened here.
    FromStream,
}

/// `count` times in turn: a new client with one connection, one get_event, the client
/// dropped. Each must be answered within [`PER_CONNECTION`].
async fn fresh_connections(addr: SocketAddr, count: usize, open: Open, tls: Option<ClientTls>) {
    let config = ClientConfig {
        connect_timeout: PER_CONNECTION,
        request_timeout: PER_CONNECTION,
        tls,
        ..ClientConfig::default()
    };
    for i in 0..count {
        let id = EventId(1 + (i as u64 % common::SPEC.events as u64));
        let once = async {
            let client = match open {
                Open::Direct => wire::Client::connect_with(addr, 1, &config).await?,
                Open::Wrapped => {
                    wire::Client::connect_wrapped(addr, 1, &config, |stream| stream).await?
                }
                Open::FromStream => {
                    let stream = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(|e| domain::Error::internal(e.to_string()))?;
                    wire::Client::from_stream(stream, &config).await?
                }
            };
            client.get_event(id).await
        };
        let event = tokio::time::timeout(PER_CONNECTION, once)
            .await
            .unwrap_or_else(|_| panic!("connection {i}: no answer within {PER_CONNECTION:?}"))
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        assert_eq!(event.id, id, "connection {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_clients_give_their_connections_back() {
    let server = spawn(4, None).await;
    for open in [Open::Direct, Open::Wrapped, Open::FromStream] {
        fresh_connections(server.addr, 40, open, None).await;
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_tls_clients_give_their_connections_back() {
    let (server_tls, ca) = dev::pair(PER_CONNECTION).unwrap();
    let server = spawn(4, Some(server_tls)).await;
    fresh_connections(server.addr, 40, Open::Direct, Some(ca)).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_fresh_connections_than_the_default_cap() {
    let cap = ServerConfig::default().max_connections;
    let server = spawn(cap, None).await;
    fresh_connections(server.addr, cap + 50, Open::Wrapped, None).await;
    server.stop().await.unwrap();
}

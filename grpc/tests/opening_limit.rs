//! The opening limit on gRPC's accept path (`grpc::incoming`): while
//! `MAX_OPENING_CONNECTIONS` accepted connections are in their opening phase, no more
//! is accepted; one gives its slot back at the server's first read that finds nothing
//! or its first write after a read (h2's greeting, its SETTINGS written before it reads,
//! keeps it). Over TLS the slot sits under the handshake, so clients that stall their
//! handshakes hold none.
//!
//! Tested on the stream of accepted connections, not through a client of the running
//! server: tonic works through what a client sent in one go, so no client can make a
//! running gRPC server hold a slot long enough to observe (HTTP/1.1 can: a request held
//! in its handler with another pipelined behind it, `netkit::http_server`'s test; HTTP/2
//! has no such phase). That the TLS path takes a slot for every connection is the
//! type's doing: each `AdmittedStream`'s socket is an `Opening`, which only the slot of
//! `ConnectionLimit::accept_opening` makes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use futures::{Stream, StreamExt};
use grpc::incoming::{self, AdmittedStream};
use netkit::config::MAX_OPENING_CONNECTIONS;
use netkit::guard::GuardConfig;
use netkit::send_budget::{SendBudget, SendBudgetConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::Connected;

/// What anything that should happen may take, on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(20);
/// How long a connection that must not be accepted is watched. Without the limit it is
/// accepted within milliseconds; with it, never while every slot is held, so this look
/// cannot fail spuriously.
const LOOK: Duration = Duration::from_millis(300);
/// An empty HTTP/2 SETTINGS frame: what the server writes first on a connection.
const SETTINGS: [u8; 9] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
/// The HTTP/2 client connection preface: what a client sends first.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The default config's connection cap, guard and send budget, as `grpc::serve` uses
/// them.
fn settings() -> (usize, GuardConfig, SendBudget) {
    let config = grpc::Config::default();
    let guard = GuardConfig::new(
        &config.server,
        &config.http2,
        config.server.header_read_timeout,
    );
    let budget = SendBudget::new(SendBudgetConfig::new(&config.http2));
    (config.server.max_connections, guard, budget)
}

/// The next accepted connection (at most [`DEADLINE`]).
async fn accepted<S>(incoming: &mut S) -> AdmittedStream
where
    S: Stream<Item = io::Result<AdmittedStream>> + Unpin,
{
    tokio::time::timeout(DEADLINE, incoming.next())
        .await
        .expect("a connection is accepted")
        .expect("the stream goes on")
        .unwrap()
}

/// Whether a connection is accepted within [`LOOK`].
async fn accepts_within_a_look<S>(incoming: &mut S) -> bool
where
    S: Stream<Item = io::Result<AdmittedStream>> + Unpin,
{
    // Dropping the `next()` future leaves the pending accept inside the stream: the
    // connection it waits for is the one the next call returns.
    tokio::time::timeout(LOOK, incoming.next()).await.is_ok()
}

/// Polls one read of `stream` once: the bytes it read, or `None` if it would wait.
async fn read_once(stream: &mut AdmittedStream) -> Option<Vec<u8>> {
    let mut storage = [0u8; 64];
    std::future::poll_fn(|cx| {
        let mut buf = ReadBuf::new(&mut storage);
        Poll::Ready(match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => Some(buf.filled().to_vec()),
            _ => None,
        })
    })
    .await
}

/// The peer's address as tonic sees it, through every wrapper of the socket.
fn peer(stream: &AdmittedStream) -> Option<std::net::SocketAddr> {
    stream.connect_info().tcp.remote_addr()
}

#[tokio::test]
async fn no_connection_is_accepted_while_every_opening_slot_is_held() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (max, guard, budget) = settings();
    let mut incoming = Box::pin(incoming::limited(listener, max, guard, budget));
    // As many silent clients as there are slots. Each accepted connection holds its
    // slot until the server reads or writes it, which nothing here does yet.
    let mut clients = Vec::new();
    let mut opening = Vec::new();
    for _ in 0..MAX_OPENING_CONNECTIONS {
        let client = TcpStream::connect(addr).await.unwrap();
        let connection = accepted(&mut incoming).await;
        assert!(connection.is_opening());
        assert_eq!(peer(&connection), Some(client.local_addr().unwrap()));
        clients.push(client);
        opening.push(connection);
    }

    // One more connects (the kernel completes its handshake in the backlog), sends its
    // preface at once, and is not accepted while every slot is held.
    let mut late = TcpStream::connect(addr).await.unwrap();
    late.write_all(PREFACE).await.unwrap();
    assert!(
        !accepts_within_a_look(&mut incoming).await,
        "accepted while every opening slot was held"
    );
    // The server reads one and finds nothing: its opening phase is over, it stays open,
    // and the newcomer is accepted in its place.
    assert_eq!(read_once(&mut opening[0]).await, None);
    assert!(!opening[0].is_opening());
    let mut connection = accepted(&mut incoming).await;
    assert!(connection.is_opening());
    assert_eq!(peer(&connection), Some(late.local_addr().unwrap()));

    // h2 greets first: its SETTINGS, written before it reads, keep the slot, and so does
    // reading what the client sent (the preface has long arrived: it was written before
    // the look above).
    connection.write_all(&SETTINGS).await.unwrap();
    connection.flush().await.unwrap();
    assert!(connection.is_opening(), "a greeting is not an answer");
    let mut written = [0u8; SETTINGS.len()];
    tokio::time::timeout(DEADLINE, late.read_exact(&mut written))
        .await
        .expect("the client gets what the server wrote")
        .unwrap();
    assert_eq!(written, SETTINGS);
    assert_eq!(read_once(&mut connection).await.as_deref(), Some(PREFACE));
    assert!(
        connection.is_opening(),
        "what the client sent is being worked through"
    );
    let later = TcpStream::connect(addr).await.unwrap();
    assert!(
        !accepts_within_a_look(&mut incoming).await,
        "accepted while every opening slot was held"
    );
    // Its first write after a read (an acknowledgement, an answer) ends the phase.
    connection.write_all(&SETTINGS).await.unwrap();
    connection.flush().await.unwrap();
    assert!(!connection.is_opening());
    let connection = accepted(&mut incoming).await;
    assert_eq!(peer(&connection), Some(later.local_addr().unwrap()));
    drop(clients);
}

#[tokio::test]
async fn tls_handshakes_waiting_for_their_peers_hold_no_opening_slot() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (max, guard, budget) = settings();
    // A handshake deadline far past the test's: a slot held through a stalled handshake
    // would be held for all of it.
    let (server_tls, client_tls) = netkit::tls::dev::pair(Duration::from_secs(600)).unwrap();
    let acceptor = server_tls.acceptor(netkit::tls::ALPN_H2);
    let mut incoming = Box::pin(incoming::tls_limited(
        listener, max, acceptor, guard, budget,
    ));
    // As many clients as there are slots start a handshake and stall: the header of a
    // 512-byte handshake record, then nothing. The server reads those 5 bytes and waits
    // for the rest, which gives the slot back (it sits under TLS, on the socket).
    let mut stalled = Vec::new();
    for _ in 0..MAX_OPENING_CONNECTIONS {
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
            .await
            .unwrap();
        stalled.push(client);
    }
    // One more, queued behind them, is accepted and completes its handshake: had the
    // stalled handshakes kept their slots, it would wait for their deadline.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let connector = client_tls.connector(netkit::tls::ALPN_H2);
    let (connection, client) = tokio::join!(
        accepted(&mut incoming),
        tokio::time::timeout(DEADLINE, connector.connect(tcp, addr))
    );
    let _client = client.expect("the handshake completes").unwrap();
    assert_eq!(peer(&connection), Some(local));
    // Its handshake ended its opening phase (the server answered the ClientHello).
    assert!(!connection.is_opening());
    // The stalled clients were open (their handshakes waiting) all along.
    drop(stalled);
}

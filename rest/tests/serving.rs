//! The server over real sockets: the header-read timeout fires, the connection cap
//! holds, and shutdown drains and stops accepting. Every wait has a deadline.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use std::sync::Arc;

use netkit::ServerConfig;
use netkit::running::RunningServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Serves the test dataset with `server` in place of the default server settings.
async fn spawn_with(server: ServerConfig) -> RunningServer {
    common::spawn_with(
        Arc::new(common::service()),
        rest::Config::with_server(server),
    )
    .await
}

/// Reads until the peer closes, or gives up at `deadline`. Returns when it closed.
async fn closed_within(stream: &mut TcpStream, deadline: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(
            deadline.saturating_sub(start.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {} // e.g. a 408 before the close
            Err(_) => return None,
        }
    }
}

async fn get_healthz(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn a_client_that_stops_mid_request_line_is_cut_off() {
    let timeout = Duration::from_millis(300);
    let server = spawn_with(ServerConfig {
        header_read_timeout: timeout,
        ..ServerConfig::default()
    })
    .await;
    // Timed from before the connection exists, so from before the server's timer starts:
    // a test thread held up between the connect and the read cannot make a close at the
    // timeout look early.
    let began = Instant::now();
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /healthz HT").await.unwrap();
    closed_within(&mut stream, timeout + Duration::from_secs(5))
        .await
        .expect("the server never closed a connection stuck in its request line");
    let closed = began.elapsed();
    assert!(
        closed >= timeout.mul_f32(0.8),
        "closed after {closed:?}, before the timeout"
    );
    // The server itself is fine.
    let mut fresh = TcpStream::connect(server.addr).await.unwrap();
    assert!(get_healthz(&mut fresh).await.starts_with("HTTP/1.1 200"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_connection_cap_holds_further_clients_back() {
    let server = spawn_with(ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    })
    .await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    assert!(get_healthz(&mut first).await.starts_with("HTTP/1.1 200"));
    // The second connection completes in the kernel's backlog but is not served while
    // the first holds the only slot.
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "served a second connection over a cap of one"
    );
    drop(first);
    // Generous: this is the success path, on a machine that may be busy.
    let n = tokio::time::timeout(Duration::from_secs(15), second.read(&mut buf))
        .await
        .expect("the waiting client was never served after the slot freed")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_accepting_and_returns() {
    let server = common::spawn(common::service()).await;
    let addr = server.addr;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert!(get_healthz(&mut idle).await.starts_with("HTTP/1.1 200"));
    tokio::time::timeout(Duration::from_secs(15), server.stop())
        .await
        .expect("shutdown did not finish within the grace period")
        .unwrap();
    // The idle keep-alive connection was closed by the drain, and nobody listens now.
    assert!(
        closed_within(&mut idle, Duration::from_secs(5))
            .await
            .is_some()
    );
    assert!(TcpStream::connect(addr).await.is_err());
}

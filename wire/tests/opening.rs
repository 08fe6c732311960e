//! The opening limit at the wire server (netkit's `ConnectionLimit::accept_opening`,
//! `wire::server` docs): while every opening slot is held by a connection whose input
//! the server has not caught up with, a new connection is not accepted (its hello waits
//! in the listen backlog, unanswered), and an established connection is still served.
//!
//! Every connection here sends all its bytes before the server starts, so what the
//! server reads first is there when it reads, and nothing depends on timing: a holder
//! sends its hello, a GET_EVENT its handler holds (the test's gate), and a PING; with one
//! request in flight per connection, the PING stays unread behind the held request, no
//! answer is written, and the slot is held until the gate opens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use netkit::config::MAX_OPENING_CONNECTIONS;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wire::frame::{Frame, Kind, Opcode};

const DEADLINE: Duration = Duration::from_secs(10);

/// A PING request frame's bytes.
fn ping(request_id: u32) -> bytes::Bytes {
    wire::codec::encode_frame(
        Frame::request(Opcode::Ping, request_id, bytes::Bytes::new()),
        1 << 20,
    )
    .unwrap()
}

/// Reads the 8-byte server hello, within `within`; `None` if it did not come.
async fn server_hello(stream: &mut TcpStream, within: Duration) -> Option<[u8; 8]> {
    let mut hello = [0u8; 8];
    tokio::time::timeout(within, stream.read_exact(&mut hello))
        .await
        .ok()
        .map(|read| {
            read.unwrap();
            hello
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_established_connection_is_served_while_new_ones_wait_for_an_opening_slot() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gated = Arc::new(common::Gated::new(common::service()));
    let config = wire::Config {
        max_in_flight: 1,
        ..wire::Config::default()
    };
    // Connected, hello sent, before the server starts: first in the backlog, so it is
    // accepted first, and gives its slot back once the server has read its hello.
    let mut established = TcpStream::connect(addr).await.unwrap();
    established
        .write_all(&wire::handshake::client_hello())
        .await
        .unwrap();
    // As many holders as there are opening slots.
    let mut holders = Vec::new();
    for _ in 0..MAX_OPENING_CONNECTIONS {
        let mut bytes = wire::handshake::client_hello().to_vec();
        bytes.extend_from_slice(&common::get_event_bytes(1, 1));
        bytes.extend_from_slice(&ping(2));
        let mut holder = TcpStream::connect(addr).await.unwrap();
        holder.write_all(&bytes).await.unwrap();
        holders.push(holder);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wire::serve(listener, gated.clone(), config, async {
        let _ = stopped.await;
    }));

    // Every connection so far is accepted and gets its server hello (which does not end
    // a wire connection's opening phase: the holders keep their slots).
    assert!(server_hello(&mut established, DEADLINE).await.is_some());
    for holder in &mut holders {
        assert!(server_hello(holder, DEADLINE).await.is_some());
    }
    // A newcomer now waits in the backlog.
    let mut newcomer = TcpStream::connect(addr).await.unwrap();
    newcomer
        .write_all(&wire::handshake::client_hello())
        .await
        .unwrap();
    // The established connection is served meanwhile, twice.
    for id in 1..=2 {
        established.write_all(&ping(id)).await.unwrap();
        let answer = common::read_frame(&mut established).await;
        assert_eq!((answer.kind, answer.request_id), (Kind::Response, id));
    }
    // And the newcomer is not accepted: a bounded look (without the limit it is answered
    // within milliseconds; with it, never while the slots are held, so this cannot fail
    // spuriously).
    assert_eq!(
        server_hello(&mut newcomer, Duration::from_millis(300)).await,
        None,
        "a newcomer was accepted while every opening slot was held"
    );
    // The held requests are answered: each holder's first answer ends its opening phase,
    // and the newcomer is accepted and served.
    gated.open();
    for holder in &mut holders {
        let answer = common::read_frame(holder).await;
        assert_eq!((answer.kind, answer.request_id), (Kind::Response, 1));
    }
    assert!(server_hello(&mut newcomer, DEADLINE).await.is_some());
    newcomer.write_all(&ping(1)).await.unwrap();
    let answer = common::read_frame(&mut newcomer).await;
    assert_eq!((answer.kind, answer.request_id), (Kind::Response, 1));

    drop((established, holders, newcomer));
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

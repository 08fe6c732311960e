//! Reads wait while writes are blocked (`netkit::guard`): an HTTP/2 client that sends
//! requests for the largest seat map, opens every window and never reads gets no more
//! of its requests read once the server's socket to it is full. Without that, h2 read
//! every request it sent (up to `max_concurrent_streams`, 256, per connection) and held
//! each stream, with its call, answer or refusal, until written. Counted through the
//! send budget's gauges (calls started, connections whose writes are blocked, reads held
//! back), not through RSS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::{EventId, Ticketing};
use grpc::pb;
use grpc::pb::ticketing_client::TicketingClient;
use netkit::running::RunningServer;
use netkit::send_budget::{SendBudget, SendBudgetConfig};
use prost::Message as _;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

/// Answer bytes the first requests ask for: twice what the kernel's send buffer takes
/// at most (`tcp_wmem`'s maximum, 4 MiB on the machines here), so the server's writes
/// are blocked once it has answered them.
const FIRST_ANSWERS_AT_LEAST: usize = 8 << 20;
/// Requests sent once the writes are blocked. With the first ones, under the stream
/// limit (256), so h2 itself would accept every one of them.
const LATER_REQUESTS: u32 = 40;

/// A frame header and payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut bytes = len[1..].to_vec();
    bytes.extend_from_slice(&[kind, flags]);
    bytes.extend_from_slice(&stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// HPACK: a literal header field without indexing, new name, no Huffman (every length
/// here is under 127).
fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut bytes = vec![0, u8::try_from(name.len()).unwrap()];
    bytes.extend_from_slice(name.as_bytes());
    bytes.push(u8::try_from(value.len()).unwrap());
    bytes.extend_from_slice(value.as_bytes());
    bytes
}

/// Requests for `event`'s seat map on streams `first..first + count` (odd ids).
fn requests(event: u64, first: u32, count: u32) -> Vec<u8> {
    let headers: Vec<u8> = [
        literal(":method", "POST"),
        literal(":scheme", "http"),
        literal(":path", "/quartet.v1.Ticketing/GetSeatMap"),
        literal(":authority", "localhost"),
        literal("content-type", "application/grpc"),
        literal("te", "trailers"),
    ]
    .concat();
    let message = pb::GetSeatMapRequest { event_id: event }.encode_to_vec();
    let mut body = vec![0];
    body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&message);
    let mut bytes = Vec::new();
    for i in first..first + count {
        let id = 2 * i + 1;
        bytes.extend(frame(0x1, 0x4, id, &headers)); // END_HEADERS
        bytes.extend(frame(0x0, 0x1, id, &body)); // END_STREAM
    }
    bytes
}

/// Connects with a tiny receive buffer, opens every window and sends `first` requests;
/// the caller never reads.
async fn never_reading_client(addr: std::net::SocketAddr, first: Vec<u8>) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // SETTINGS_INITIAL_WINDOW_SIZE = 2^31 - 1, and the connection window as large.
    bytes.extend(frame(0x4, 0, 0, &[0, 4, 0x7f, 0xff, 0xff, 0xff]));
    bytes.extend(frame(0x8, 0, 0, &(0x7fff_ffff_u32 - 65_535).to_be_bytes()));
    bytes.extend(first);
    stream.write_all(&bytes).await.unwrap();
    stream
}

/// Waits (at most 30 s) until `done` holds.
async fn until(what: &str, budget: &SendBudget, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what} (calls {}, write-blocked {}, held reads {}, outstanding {})",
            budget.calls(),
            budget.write_blocked(),
            budget.held_reads(),
            budget.outstanding()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_client_that_never_reads_gets_no_request_read_once_the_socket_is_full() {
    let service = common::generate();
    // The largest seat map among the first events, as `quartet abuse` picks it.
    let mut biggest = (0, 0);
    for id in 1..=20 {
        if let Ok(map) = service.get_seat_map(EventId(id)).await {
            biggest = biggest.max((map.seats.len(), id));
        }
    }
    let event = biggest.1;
    let config = grpc::Config::default();
    let limit = config.http2.max_concurrent_streams;
    // The default budget: room enough for every first answer, so the kernel's buffer,
    // not the budget, is what fills.
    let budget = SendBudget::new(SendBudgetConfig::new(&config.http2));
    let api: domain::SharedTicketing = Arc::new(service);
    let server = RunningServer::spawn({
        let budget = budget.clone();
        move |listener, stop| grpc::serve_with_budget(listener, api, config, budget, stop)
    })
    .await
    .unwrap();
    let mut normal = TicketingClient::new(common::channel(&server).await);
    let answer = normal
        .get_seat_map(pb::GetSeatMapRequest { event_id: event })
        .await
        .unwrap()
        .into_inner()
        .encoded_len();
    let first = u32::try_from(FIRST_ANSWERS_AT_LEAST / answer + 1).unwrap();
    assert!(
        first + LATER_REQUESTS < limit,
        "a seat map of {answer} bytes is too small for this test"
    );
    let before = budget.calls();

    let mut attacker = never_reading_client(server.addr, requests(event, 0, first)).await;
    until(
        "the server's writes to the attacker blocked",
        &budget,
        || budget.write_blocked() >= 1,
    )
    .await;
    // More requests, which h2 alone would read and start at once.
    attacker
        .write_all(&requests(event, first, LATER_REQUESTS))
        .await
        .unwrap();
    until(
        "the guard holding the attacker's reads (or the server starting its later calls)",
        &budget,
        || budget.held_reads() > 0 || budget.calls() - before > u64::from(first),
    )
    .await;
    // The normal client, on its own connection, is served meanwhile (and its call is
    // one more).
    normal
        .get_event(pb::GetEventRequest { event_id: 1 })
        .await
        .unwrap();
    let started = budget.calls() - before - 1;
    assert!(
        started <= u64::from(first),
        "{started} of the attacker's calls started: only its first {first} requests may be read"
    );
    // What the server holds for it: at most its first answers.
    // (The normal client's small answer may be among them.)
    let bound = (usize::try_from(first).unwrap() + 1) * answer;
    assert!(budget.peak() <= bound, "{} > {bound}", budget.peak());
    assert!(
        budget.write_blocked() >= 1,
        "the attacker still does not read"
    );

    // Gone, it leaves nothing behind.
    drop(attacker);
    until("the attacker's answers released", &budget, || {
        budget.outstanding() == 0 && budget.write_blocked() == 0
    })
    .await;
    server.stop().await.unwrap();
}

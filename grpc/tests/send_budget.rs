//! The server-wide send budget against HTTP/2 clients that ask for the largest seat map
//! on many streams, open every window and never read a byte: the answers the server
//! holds stay under the budget, the calls past it are refused, a client that reads gets
//! its small answers, and the budget comes back when the attackers go.
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

const SHARED: usize = 1 << 20;
const PER_CONNECTION: usize = 16 << 10;
const ATTACKERS: usize = 4;
/// Everything the attackers ask for must dwarf what the kernel's socket buffers can
/// absorb (a few MiB per connection on loopback), so the budget, not the kernel, is what
/// holds the rest back.
const REQUESTED_AT_LEAST: usize = 96 << 20;

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

/// Connects with a tiny receive buffer, opens every window and asks for `event`'s seat
/// map on `streams` streams; then the caller never reads.
async fn never_reading_client(addr: std::net::SocketAddr, event: u64, streams: u32) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // SETTINGS_INITIAL_WINDOW_SIZE = 2^31 - 1, and the connection window as large.
    bytes.extend(frame(0x4, 0, 0, &[0, 4, 0x7f, 0xff, 0xff, 0xff]));
    bytes.extend(frame(0x8, 0, 0, &(0x7fff_ffff_u32 - 65_535).to_be_bytes()));
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
    for i in 0..streams {
        let id = 2 * i + 1;
        bytes.extend(frame(0x1, 0x4, id, &headers)); // END_HEADERS
        bytes.extend(frame(0x0, 0x1, id, &body)); // END_STREAM
    }
    stream.write_all(&bytes).await.unwrap();
    stream
}

/// Waits (at most 30 s) until `done` holds.
async fn until(what: &str, budget: &SendBudget, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what} (charges {}, refused {}, outstanding {})",
            budget.charges(),
            budget.refused(),
            budget.outstanding()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn never_reading_clients_hold_at_most_the_budget() {
    let service = common::generate();
    // The largest seat map among the first events, as `quartet abuse` picks it.
    let mut biggest = (0, 0);
    for id in 1..=20 {
        if let Ok(map) = service.get_seat_map(EventId(id)).await {
            biggest = biggest.max((map.seats.len(), id));
        }
    }
    let event = biggest.1;
    let mut config = grpc::Config::default();
    config.http2.max_concurrent_streams = 256;
    let budget = SendBudget::new(SendBudgetConfig {
        shared: SHARED,
        per_connection: PER_CONNECTION,
        wait: Duration::from_millis(200),
    });
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
    let streams = u32::try_from(REQUESTED_AT_LEAST / ATTACKERS / answer + 1)
        .unwrap()
        .min(256);
    assert!(
        ATTACKERS * streams as usize * answer >= REQUESTED_AT_LEAST / 2,
        "a seat map of {answer} bytes is too small for this test"
    );
    let before = budget.refused();

    let mut attackers = Vec::new();
    for _ in 0..ATTACKERS {
        attackers.push(never_reading_client(server.addr, event, streams).await);
    }
    let calls = u64::try_from(ATTACKERS).unwrap() * u64::from(streams);
    // Not every call: a server whose writes are blocked stops reading a connection's
    // frames, so the last requests of some may never be read. Half refused is plenty:
    // the kernel cannot have taken more than a few MiB per connection.
    until(
        &format!("half of {calls} attacking calls of {answer} bytes refused"),
        &budget,
        || budget.refused() - before >= calls / 2,
    )
    .await;
    let bound = SHARED + PER_CONNECTION * (ATTACKERS + 1);
    assert!(budget.peak() <= bound, "{} > {bound}", budget.peak());

    // A client that reads still gets its small answers at once...
    for _ in 0..20 {
        normal
            .get_event(pb::GetEventRequest { event_id: 1 })
            .await
            .unwrap();
    }
    // A large one gets room or RESOURCE_EXHAUSTED (what the attackers' kernel buffers
    // have taken meanwhile decides which), never another error.
    let large = normal
        .get_seat_map(pb::GetSeatMapRequest { event_id: event })
        .await
        .map(|_| ());
    if let Err(refused) = large {
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused}");
    }
    assert!(budget.peak() <= bound, "{} > {bound}", budget.peak());

    // Gone attackers give their budget back.
    drop(attackers);
    until("the attackers' answers released", &budget, || {
        budget.outstanding() == 0
    })
    .await;
    let large = normal
        .get_seat_map(pb::GetSeatMapRequest { event_id: event })
        .await
        .map(|_| ());
    assert!(large.is_ok(), "{large:?}");
    server.stop().await.unwrap();
}

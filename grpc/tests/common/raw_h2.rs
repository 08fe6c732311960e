//! Raw HTTP/2 for the tests that play a client tonic would not be: frames and HPACK
//! literals written by hand, `GetSeatMap` requests on many streams at once, a client
//! that opens every window and never reads; the event whose seat map is the largest
//! answer to ask for; and a wait on the send budget's gauges. What does not live here:
//! reading or decoding anything the server answers (these clients never read).

use std::net::SocketAddr;
use std::time::Duration;

use domain::{EventId, Service, Ticketing};
use grpc::pb;
use netkit::send_budget::SendBudget;
use prost::Message as _;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

/// A frame header and payload.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut bytes = len[1..].to_vec();
    bytes.extend_from_slice(&[kind, flags]);
    bytes.extend_from_slice(&stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// HPACK: a literal header field without indexing, new name, no Huffman (every length
/// here is under 127).
pub fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut bytes = vec![0, u8::try_from(name.len()).unwrap()];
    bytes.extend_from_slice(name.as_bytes());
    bytes.push(u8::try_from(value.len()).unwrap());
    bytes.extend_from_slice(value.as_bytes());
    bytes
}

/// Requests for `event`'s seat map on streams `first..first + count` (odd ids).
pub fn requests(event: u64, first: u32, count: u32) -> Vec<u8> {
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

/// Connects with a tiny receive buffer, opens every window and sends `first` (frames
/// such as [`requests`]); the caller never reads.
pub async fn never_reading_client(addr: SocketAddr, first: Vec<u8>) -> TcpStream {
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

/// The event with the largest seat map among the first 20 of `service`, as `quartet
/// abuse` picks it.
pub async fn biggest_seat_map(service: &Service) -> u64 {
    let mut biggest = (0, 0);
    for id in 1..=20 {
        if let Ok(map) = service.get_seat_map(EventId(id)).await {
            biggest = biggest.max((map.seats.len(), id));
        }
    }
    biggest.1
}

/// Waits (at most 30 s) until `done` holds; a timeout names `what` and shows every
/// gauge of `budget`.
pub async fn until(what: &str, budget: &SendBudget, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what} (calls {}, charges {}, refused {}, write-blocked {}, \
             held reads {}, outstanding {})",
            budget.calls(),
            budget.charges(),
            budget.refused(),
            budget.write_blocked(),
            budget.held_reads(),
            budget.outstanding()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

//! Raw bytes against the real server: every malformed input the spec names gets the
//! behaviour PROTOCOL.md promises, other connections keep being served, and nothing
//! panics. Every wait has a deadline.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{Error, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wire::frame::{Frame, Kind, Opcode};

const DEADLINE: Duration = Duration::from_secs(10);

/// The server still answers a well-behaved client.
async fn still_serving(addr: std::net::SocketAddr) {
    let client = wire::Client::connect(addr).await.unwrap();
    client.ping().await.unwrap();
}

#[tokio::test]
async fn a_wrong_magic_is_told_what_this_port_is_and_closed() {
    let server = common::spawn().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"QRTX\x01\x01\x00\x00").await.unwrap();
    let reply = common::read_to_close(&mut stream, DEADLINE).await;
    assert_eq!(reply, wire::handshake::NOT_QUARTET);
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

/// The magic is judged on the bytes that have arrived: four wrong bytes (or one) are
/// refused at once. The hello deadline is an hour here, so a server waiting for all
/// eight bytes would fail this test instead of passing it late.
#[tokio::test]
async fn a_wrong_magic_is_refused_before_the_rest_of_the_hello() {
    let server = common::spawn_with(wire::Config {
        frame_timeout: Duration::from_secs(3_600),
        ..wire::Config::default()
    })
    .await;
    for sent in [&b"QRTX"[..], b"X", b"QX"] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(sent).await.unwrap();
        let reply = common::read_to_close(&mut stream, DEADLINE).await;
        assert_eq!(reply, wire::handshake::NOT_QUARTET, "after {sent:?}");
    }
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

/// A version range with nothing in it (min above max) is refused like any range with no
/// common version: status 1 with the server's highest version, then the close.
#[tokio::test]
async fn a_hello_with_min_above_max_is_refused_with_status_1() {
    let server = common::spawn().await;
    for hello in [b"QRTW\x01\x00\x00\x00", b"QRTW\x03\x02\x00\x00"] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(hello).await.unwrap();
        let reply = common::read_to_close(&mut stream, DEADLINE).await;
        assert_eq!(reply, b"QRTW\x01\x01\x00\x00");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_http_request_is_refused_at_once() {
    let server = common::spawn().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let reply = common::read_to_close(&mut stream, DEADLINE).await;
    assert!(String::from_utf8_lossy(&reply).contains("Quartet wire protocol"));
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_unsupported_version_is_refused_with_the_servers_maximum() {
    let server = common::spawn().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"QRTW\x02\x03\x00\x00").await.unwrap();
    let reply = common::read_to_close(&mut stream, DEADLINE).await;
    assert_eq!(reply, b"QRTW\x01\x01\x00\x00");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_lengths_get_an_error_frame_and_a_close() {
    let server = common::spawn().await;
    let cases: [(&[u8], ErrorCode); 3] = [
        (&[0, 0, 0, 0], ErrorCode::InvalidArgument),
        (&((1u32 << 20) + 1).to_be_bytes(), ErrorCode::LimitExceeded),
        (&u32::MAX.to_be_bytes(), ErrorCode::LimitExceeded),
    ];
    for (bytes, code) in cases {
        let mut stream = common::handshaken(server.addr).await;
        stream.write_all(bytes).await.unwrap();
        let error = common::expect_connection_error(&mut stream, code).await;
        if code == ErrorCode::LimitExceeded {
            assert_eq!(error, Error::limit_exceeded("frame size", 1u64 << 20));
        }
    }
    // Exactly the maximum is a legal length: a frame of 1 MiB with garbage payload is read
    // whole and answered with a per-request error, the connection staying open.
    let mut stream = common::handshaken(server.addr).await;
    let mut frame = (1u32 << 20).to_be_bytes().to_vec();
    frame.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 5]);
    frame.resize(4 + (1 << 20), 0xAB);
    stream.write_all(&frame).await.unwrap();
    let answer = common::read_frame(&mut stream).await;
    assert_eq!(answer.request_id, 5);
    assert_eq!(common::error_of(&answer).code(), ErrorCode::InvalidArgument);
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_header_gets_an_error_frame_and_a_close() {
    let server = common::spawn().await;
    let mut stream = common::handshaken(server.addr).await;
    stream
        .write_all(&[0, 0, 0, 8, 9, 0, 0, 1, 0, 0, 0, 1])
        .await
        .unwrap();
    let error = common::expect_connection_error(&mut stream, ErrorCode::InvalidArgument).await;
    assert!(matches!(error, Error::InvalidArgument { ref field, .. } if field == "header"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_cut_short_then_eof_closes_quietly() {
    let server = common::spawn().await;
    let mut stream = common::handshaken(server.addr).await;
    let bytes = common::get_event_bytes(1, 1);
    stream.write_all(&bytes[..bytes.len() - 3]).await.unwrap();
    stream.shutdown().await.unwrap();
    let rest = common::read_to_close(&mut stream, DEADLINE).await;
    assert!(rest.is_empty(), "a truncated frame is never answered");
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_opcodes_and_garbage_payloads_keep_the_connection_open() {
    let server = common::spawn().await;
    let mut stream = common::handshaken(server.addr).await;
    let unknown = Frame {
        kind: Kind::Request,
        opcode: 0x7777,
        request_id: 11,
        payload: bytes::Bytes::new(),
    };
    stream
        .write_all(&wire::codec::encode_frame(unknown, 1 << 20).unwrap())
        .await
        .unwrap();
    let answer = common::read_frame(&mut stream).await;
    assert_eq!(
        (answer.kind, answer.request_id, answer.opcode),
        (Kind::Error, 11, 0x7777)
    );
    assert!(
        matches!(common::error_of(&answer), Error::InvalidArgument { ref field, .. } if field == "opcode")
    );

    let garbage = Frame::request(Opcode::HoldSeats, 12, vec![0xFF; 40]);
    stream
        .write_all(&wire::codec::encode_frame(garbage, 1 << 20).unwrap())
        .await
        .unwrap();
    let answer = common::read_frame(&mut stream).await;
    assert_eq!(answer.request_id, 12);
    assert!(
        matches!(common::error_of(&answer), Error::InvalidArgument { ref field, .. } if field == "payload")
    );

    let trailing = Frame::request(Opcode::GetEvent, 13, vec![1, 0]);
    stream
        .write_all(&wire::codec::encode_frame(trailing, 1 << 20).unwrap())
        .await
        .unwrap();
    assert_eq!(
        common::error_of(&common::read_frame(&mut stream).await).code(),
        ErrorCode::InvalidArgument
    );

    let response_kind = Frame {
        kind: Kind::Response,
        opcode: Opcode::Ping as u16,
        request_id: 14,
        payload: bytes::Bytes::new(),
    };
    stream
        .write_all(&wire::codec::encode_frame(response_kind, 1 << 20).unwrap())
        .await
        .unwrap();
    assert_eq!(
        common::error_of(&common::read_frame(&mut stream).await).code(),
        ErrorCode::InvalidArgument
    );

    // Same connection, a good request: still served.
    stream
        .write_all(&common::get_event_bytes(15, 1))
        .await
        .unwrap();
    let answer = common::read_frame(&mut stream).await;
    assert_eq!((answer.kind, answer.request_id), (Kind::Response, 15));
    let event: wire::messages::Event = postcard::from_bytes(&answer.payload).unwrap();
    assert_eq!(event.id, 1);
    server.stop().await.unwrap();
}

/// Request id 0 is reserved for connection-level errors: a request with it ends the
/// connection with one (INVALID_ARGUMENT, field `request_id`), written after the answers
/// to the requests read before it.
#[tokio::test]
async fn request_id_zero_ends_the_connection_after_earlier_answers() {
    let server = common::spawn().await;
    let mut stream = common::handshaken(server.addr).await;
    let mut bytes = common::get_event_bytes(5, 1).to_vec();
    bytes.extend_from_slice(&common::get_event_bytes(0, 2));
    bytes.extend_from_slice(&common::get_event_bytes(6, 3));
    stream.write_all(&bytes).await.unwrap();
    let first = common::read_frame(&mut stream).await;
    assert_eq!((first.kind, first.request_id), (Kind::Response, 5));
    let last = common::read_frame(&mut stream).await;
    assert_eq!(
        (last.kind, last.opcode, last.request_id),
        (Kind::Error, 0, 0)
    );
    assert_eq!(
        common::error_of(&last),
        Error::invalid_argument("request_id", "0 is reserved for connection-level errors")
    );
    assert!(
        common::read_to_close(&mut stream, DEADLINE)
            .await
            .is_empty(),
        "nothing after the connection error: request 6 was never read"
    );
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

/// An id still in flight is refused for that id, the connection stays open, and the
/// original request gets exactly one answer. The original is held in the API until the
/// refusal has arrived, so the order is certain.
#[tokio::test]
async fn a_request_id_still_in_flight_is_refused_and_the_original_answered_once() {
    let gated = Arc::new(common::Gated::new(common::service()));
    let server = common::serve(gated.clone(), wire::Config::default()).await;
    let mut stream = common::handshaken(server.addr).await;
    stream
        .write_all(&common::get_event_bytes(5, 1))
        .await
        .unwrap();
    // Same id, another opcode: refused, with the duplicate's opcode echoed.
    let ping = Frame::request(Opcode::Ping, 5, bytes::Bytes::new());
    stream
        .write_all(&wire::codec::encode_frame(ping, 1 << 20).unwrap())
        .await
        .unwrap();
    let refusal = common::read_frame(&mut stream).await;
    assert_eq!(
        (refusal.kind, refusal.opcode, refusal.request_id),
        (Kind::Error, Opcode::Ping as u16, 5)
    );
    assert_eq!(
        common::error_of(&refusal),
        Error::invalid_argument("request_id", "already in flight")
    );
    gated.open();
    let original = common::read_frame(&mut stream).await;
    assert_eq!(
        (original.kind, original.opcode, original.request_id),
        (Kind::Response, Opcode::GetEvent as u16, 5)
    );
    let event: wire::messages::Event = postcard::from_bytes(&original.payload).unwrap();
    assert_eq!(event.id, 1);
    // Answered, the id is free again; and nothing else ever came for the first use of
    // it: the next frame is this one's answer.
    stream
        .write_all(&common::get_event_bytes(5, 2))
        .await
        .unwrap();
    let again = common::read_frame(&mut stream).await;
    assert_eq!((again.kind, again.request_id), (Kind::Response, 5));
    let event: wire::messages::Event = postcard::from_bytes(&again.payload).unwrap();
    assert_eq!(event.id, 2);
    server.stop().await.unwrap();
}

/// Time filters: every i64 the server can represent as a time is accepted (the whole
/// range gives every event), one microsecond outside is INVALID_ARGUMENT naming `from`
/// or `to`, and so are `from == to` and `from > to` (naming `to`).
#[tokio::test]
async fn time_filters_at_the_edges_of_the_representable_range() {
    const MIN: i64 = -8_334_601_228_800_000_000;
    const MAX: i64 = 8_210_266_876_799_999_999;
    let server = common::spawn().await;
    let mut stream = common::handshaken(server.addr).await;
    let mut next_id = 0;
    let mut list = async |from: Option<i64>, to: Option<i64>| {
        next_id += 1;
        let request = wire::messages::ListEventsRequest {
            filter: wire::messages::Filter {
                from_micros: from,
                to_micros: to,
                ..wire::messages::Filter::default()
            },
            cursor: None,
            limit: Some(100),
        };
        stream
            .write_all(&common::request_bytes(
                Opcode::ListEvents,
                next_id,
                &request,
            ))
            .await
            .unwrap();
        let frame = common::read_frame(&mut stream).await;
        assert_eq!(frame.request_id, next_id);
        frame
    };
    let all = list(Some(MIN), Some(MAX)).await;
    let page: wire::messages::EventPage = postcard::from_bytes(&all.payload).unwrap();
    assert_eq!(page.events.len(), 100);
    let unfiltered = list(None, None).await;
    let unfiltered: wire::messages::EventPage = postcard::from_bytes(&unfiltered.payload).unwrap();
    assert_eq!(page.events, unfiltered.events);
    // Each page's cursor is bound to its own filter, so the two cursors differ.
    assert_ne!(page.next_cursor, unfiltered.next_cursor);
    let cases = [
        (Some(MIN - 1), None, "from", "time out of range"),
        (Some(i64::MIN), Some(0), "from", "time out of range"),
        (None, Some(MAX + 1), "to", "time out of range"),
        (Some(0), Some(i64::MAX), "to", "time out of range"),
        (Some(7), Some(7), "to", "must be after from"),
        (Some(8), Some(7), "to", "must be after from"),
        (Some(MAX), Some(MIN), "to", "must be after from"),
    ];
    for (from, to, field, reason) in cases {
        let frame = list(from, to).await;
        assert_eq!(
            common::error_of(&frame),
            Error::invalid_argument(field, reason),
            "from {from:?} to {to:?}"
        );
    }
    server.stop().await.unwrap();
}

/// On tokio's paused clock (the server runs on the test's runtime, and every clock of
/// its connection is tokio's): the drip, the frame deadline and the bound below are all
/// measured in the same virtual time, whatever else the machine is doing.
#[tokio::test(start_paused = true)]
async fn a_byte_at_a_time_sender_cannot_hold_a_connection() {
    let frame_timeout = Duration::from_millis(400);
    let server = common::spawn_with(wire::Config {
        frame_timeout,
        ..wire::Config::default()
    })
    .await;
    let mut stream = common::handshaken(server.addr).await;
    let bytes = common::get_event_bytes(1, 1);
    let start = tokio::time::Instant::now();
    // Drip a byte every 100 ms: each byte is activity, but the frame never completes
    // within the frame deadline measured from its first byte.
    let mut received = Vec::new();
    let mut closed = false;
    for byte in &bytes {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut probe)).await {
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => {
                received.extend_from_slice(&probe[..n]);
                received.extend(common::read_to_close(&mut stream, DEADLINE).await);
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(
        closed,
        "the server waited {:?} for a dripping frame",
        start.elapsed()
    );
    assert!(
        start.elapsed() < frame_timeout * 3,
        "took {:?}",
        start.elapsed()
    );
    // Before closing, the server said why.
    let mut codec = wire::codec::WireCodec::new(1 << 20);
    let mut buf = bytes::BytesMut::from(&received[..]);
    let frame = tokio_util::codec::Decoder::decode(&mut codec, &mut buf)
        .unwrap()
        .expect("an error frame");
    assert_eq!(
        common::error_of(&frame),
        Error::limit_exceeded("frame read time (ms)", 400u64)
    );
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

/// A peer that asks for big answers and reads none, on sockets whose buffers (both set
/// by hand, so the kernel does not grow them) hold a few KiB: far less than one of the
/// ~200 KB seat maps asked for, so the server's first write can never finish while the
/// peer reads nothing, and nothing depends on how fast anything runs.
struct Stuck {
    server: common::Served,
    stream: TcpStream,
    gauges: wire::Gauges,
    api: Arc<domain::Forwarding<domain::Service>>,
    event: domain::EventId,
    /// Encoded length of one seat-map answer.
    answer_len: usize,
    /// The byte budget: room for two answers, not three.
    budget: usize,
}

/// Seat maps asked for by a [`Stuck`] peer.
const ASKED: u32 = 16;

impl Stuck {
    async fn start(write_timeout: Duration) -> Stuck {
        Stuck::start_with(
            write_timeout,
            netkit::ServerConfig::default().write_stall_timeout,
        )
        .await
    }

    /// As [`Stuck::start`], with the server's write-stall timeout too.
    async fn start_with(write_timeout: Duration, write_stall_timeout: Duration) -> Stuck {
        const SMALL_BUFFER: u32 = 4 * 1024;
        let (biggest, answer_len) = common::biggest_seat_map().await;
        assert!(answer_len > 100 * 1024, "{answer_len}");
        let budget = answer_len * 5 / 2;
        let gauges = wire::Gauges::new();
        let config = wire::Config {
            max_queued_bytes: budget,
            write_timeout,
            gauges: Some(gauges.clone()),
            ..wire::Config::with_server(netkit::ServerConfig {
                write_stall_timeout,
                ..netkit::ServerConfig::default()
            })
        };
        let api = Arc::new(domain::Forwarding::new(common::service()));
        let server = common::Served::with_send_buffer(api.clone(), config, SMALL_BUFFER);
        let mut stream = common::handshaken_with_receive_buffer(server.addr, SMALL_BUFFER).await;
        let mut burst = Vec::new();
        for id in 1..=ASKED {
            let request = wire::messages::EventIdRequest {
                event_id: biggest.0,
            };
            burst.extend_from_slice(&common::request_bytes(Opcode::GetSeatMap, id, &request));
        }
        stream.write_all(&burst).await.unwrap();
        Stuck {
            server,
            stream,
            gauges,
            api,
            event: biggest,
            answer_len,
            budget,
        }
    }
}

fn customer(name: &str) -> domain::Customer {
    domain::Customer {
        name: name.into(),
        email: format!("{}@example.com", name.to_lowercase()),
    }
}

/// No clock is involved (the write timeout is an hour): the budget fills, the server
/// stops reading the connection and starts no further request of it, and other
/// connections are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_byte_budget_stops_reading_and_starting_work() {
    let mut stuck = Stuck::start(Duration::from_secs(3_600)).await;
    let gauges = stuck.gauges.clone();
    // An answer waits for room, so the server has stopped reading this connection. The
    // budget shows no room as soon as the second answer has taken its permits, but that
    // answer reaches the queued-bytes gauge a moment later (on the other worker thread
    // too): wait for both, then check that nothing more was queued.
    let two_answers = 2 * stuck.answer_len;
    common::wait_for(
        "the server to pause reading with two answers queued",
        || gauges.pauses() >= 1 && gauges.queued_bytes() >= two_answers,
    )
    .await;

    // Sent now, this hold is never read, so it is never made.
    let seat = domain::SeatId(0);
    let hold = wire::messages::HoldSeatsRequest::from(domain::HoldRequest {
        event_id: stuck.event,
        seat_ids: vec![seat],
        customer: customer("Stuck"),
        idempotency_key: None,
    });
    stuck
        .stream
        .write_all(&common::request_bytes(Opcode::HoldSeats, ASKED + 1, &hold))
        .await
        .unwrap();

    // Exactly two answers are queued (the budget holds two, not three), and no new work
    // started once one was waiting: two queued, one waiting, and at most one more
    // computed at that moment on the runtime's other worker thread.
    let peak = gauges.peak_queued_bytes();
    assert!(
        peak <= stuck.budget,
        "queued {peak} bytes, budget {}",
        stuck.budget
    );
    assert_eq!(peak, 2 * stuck.answer_len);
    assert_eq!(gauges.queued_bytes(), 2 * stuck.answer_len);
    let calls = stuck.api.calls();
    assert!(
        (3..=4).contains(&calls),
        "{calls} of {ASKED} seat maps were computed for a peer that read none"
    );

    // Others are served, and the hold sent after the pause was not made: the seat is free.
    still_serving(stuck.server.addr).await;
    let client = wire::Client::connect(stuck.server.addr).await.unwrap();
    let booking = domain::Ticketing::hold_seats(
        &client,
        domain::HoldRequest {
            event_id: stuck.event,
            seat_ids: vec![seat],
            customer: customer("Reader"),
            idempotency_key: None,
        },
    )
    .await
    .expect("the seat the stuck connection asked for is still free");
    assert_eq!(booking.seat_ids, vec![seat]);
    assert_eq!(
        gauges.paused_connections(),
        1,
        "the stuck connection is still paused"
    );

    // A peer that goes away frees everything it held. The queued bytes can come back
    // (from the writer task) before the reading task has ended and unpaused, so wait for
    // both ends of every connection.
    drop(client);
    drop(stuck.stream);
    common::wait_for(
        "every connection to end and give back its queued bytes",
        || gauges.connections() == 0 && gauges.queued_bytes() == 0,
    )
    .await;
    assert_eq!(gauges.paused_connections(), 0);
    stuck.server.stop().await.unwrap();
}

/// The write timeout ends a connection whose peer reads nothing, and other connections
/// are served before and after. Whatever runs first, the server's first write to the
/// peer can never finish, so the timeout always fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_disconnected_and_others_are_served() {
    let mut stuck = Stuck::start(Duration::from_millis(200)).await;
    let gauges = stuck.gauges.clone();
    still_serving(stuck.server.addr).await;
    common::wait_for("the write timeout to close the connection", || {
        gauges.write_timeouts() >= 1
    })
    .await;
    // Closed: reading now finds what the socket buffers held, then the end.
    let leftover = common::read_to_close(&mut stuck.stream, DEADLINE).await;
    assert!(
        leftover.len() < stuck.answer_len,
        "the socket buffers held {} bytes, a whole answer: the test's premise is wrong",
        leftover.len()
    );
    let peak = gauges.peak_queued_bytes();
    assert!(
        peak <= stuck.budget,
        "queued {peak} bytes, budget {}",
        stuck.budget
    );
    common::wait_for("every queued byte to be given back", || {
        gauges.queued_bytes() == 0
    })
    .await;
    assert_eq!(gauges.write_timeouts(), 1);
    still_serving(stuck.server.addr).await;
    stuck.server.stop().await.unwrap();
}

/// The write-stall timeout (netkit's guard, as on every Quartet server) ends a
/// connection whose peer reads nothing, on its own: the batch write timeout is an hour
/// here. The queued answers are given back and other connections are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_stall_timeout_closes_a_client_that_never_reads() {
    let stall = Duration::from_millis(500);
    // Before the first request is sent, so before any write can stall.
    let started = Instant::now();
    let mut stuck = Stuck::start_with(Duration::from_secs(3_600), stall).await;
    let gauges = stuck.gauges.clone();
    // Not a byte read (a read would be progress, and restart the stall's clock): the
    // budget fills, and its bytes come back only when the writer ends, since no batch
    // can be written to a peer that reads nothing.
    common::wait_for("the server to pause reading", || gauges.pauses() >= 1).await;
    // The peak, not the gauge now: on a loaded machine the stall clock may already have
    // ended the connection (and given its bytes back) by the time this runs.
    assert!(gauges.peak_queued_bytes() > 0);
    common::wait_for(
        "the stall to end the connection and free its answers",
        || gauges.queued_bytes() == 0,
    )
    .await;
    let closed_after = started.elapsed();
    assert!(
        closed_after >= stall,
        "ended after {closed_after:?}, before the {stall:?} stall"
    );
    assert!(gauges.peak_queued_bytes() <= stuck.budget);
    // Closed: reading now finds what the socket buffers held, then the end.
    let leftover = common::read_to_close(&mut stuck.stream, DEADLINE).await;
    assert!(
        leftover.len() < stuck.answer_len,
        "the socket buffers held {} bytes, a whole answer: the test's premise is wrong",
        leftover.len()
    );
    // The stall ended it, not the batch write timeout.
    assert_eq!(gauges.write_timeouts(), 0);
    still_serving(stuck.server.addr).await;
    stuck.server.stop().await.unwrap();
}

#[tokio::test]
async fn a_thousand_pipelined_requests_are_all_answered_by_id() {
    let server = common::spawn().await;
    let mut stream = common::handshaken(server.addr).await;
    let mut burst = Vec::new();
    for id in 1..=1_000u32 {
        burst.extend_from_slice(&common::get_event_bytes(id, u64::from(id)));
    }
    let (mut read_half, mut write_half) = stream.split();
    let write = async { write_half.write_all(&burst).await.unwrap() };
    let read = async {
        let mut seen = std::collections::HashSet::new();
        let mut buf = bytes::BytesMut::new();
        let mut codec = wire::codec::WireCodec::new(16 << 20);
        while seen.len() < 1_000 {
            let mut chunk = [0u8; 8192];
            let n = read_half.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed after {} answers", seen.len());
            buf.extend_from_slice(&chunk[..n]);
            while let Some(frame) =
                tokio_util::codec::Decoder::decode(&mut codec, &mut buf).unwrap()
            {
                assert_eq!(frame.kind, Kind::Response);
                let event: wire::messages::Event = postcard::from_bytes(&frame.payload).unwrap();
                assert_eq!(
                    event.id,
                    u64::from(frame.request_id),
                    "answer routed to the wrong id"
                );
                assert!(
                    seen.insert(frame.request_id),
                    "request {} answered twice",
                    frame.request_id
                );
            }
        }
        seen
    };
    let ((), seen) = Box::pin(tokio::time::timeout(DEADLINE, async {
        tokio::join!(write, read)
    }))
    .await
    .unwrap();
    assert_eq!(seen.len(), 1_000);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn waiting_callers_fail_cleanly_when_the_connection_drops() {
    let server = common::spawn().await;
    let client = wire::Client::connect(server.addr).await.unwrap();
    client.ping().await.unwrap();
    server.stop().await.unwrap();
    let result = tokio::time::timeout(
        DEADLINE,
        domain::Ticketing::get_event(&client, domain::EventId(1)),
    )
    .await
    .expect("a call on a dead connection hung");
    // A connection gone is "try again later", not a protocol error.
    assert_eq!(result.unwrap_err().code(), ErrorCode::Unavailable);
}

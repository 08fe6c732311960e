//! The test vectors of PROTOCOL.md, checked byte for byte against the real server: the
//! document is parsed, so it cannot drift from the code.

// A failure in a helper is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::{DatasetSpec, EventFilter, Limits, ListEventsRequest, Service, Ticketing};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{PROTOCOL, hex, vector};

async fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf
}

#[test]
fn hello_vectors_match_the_code() {
    assert_eq!(vector("client-hello"), wire::handshake::client_hello());
    let wire::handshake::Negotiated::Agreed { reply, .. } = wire::handshake::negotiate(
        &wire::handshake::client_hello(),
        wire::handshake::Codecs::ALL,
    ) else {
        panic!("our own hello was refused");
    };
    assert_eq!(vector("server-hello"), reply);
}

/// The compression hellos: the client's offer is the code's, and the server picks zstd
/// from one codec or both, and nothing when its compression is off or the client offers
/// none.
#[test]
fn compressed_hello_vectors_match_the_code() {
    use wire::handshake::{Codecs, Compression, Negotiated, client_hello_accepting, negotiate};
    assert_eq!(
        vector("client-hello-zstd"),
        client_hello_accepting(Codecs::only(Compression::Zstd))
    );
    assert_eq!(
        vector("client-hello-both"),
        client_hello_accepting(Codecs::ALL)
    );
    let reply_to = |hello: &str, server: Codecs| {
        let hello: [u8; 8] = vector(hello).try_into().unwrap();
        match negotiate(&hello, server) {
            Negotiated::Agreed { reply, .. } => reply.to_vec(),
            other => panic!("{other:?}"),
        }
    };
    for hello in ["client-hello-zstd", "client-hello-both"] {
        assert_eq!(reply_to(hello, Codecs::ALL), vector("server-hello-zstd"));
        assert_eq!(reply_to(hello, Codecs::NONE), vector("server-hello"));
    }
    assert_eq!(
        reply_to("client-hello", Codecs::ALL),
        vector("server-hello")
    );
}

/// The compressed seat map: the server sends the documented bytes on a connection that
/// agreed on zstd, and they decompress to exactly what it sends without compression.
#[tokio::test]
async fn the_compressed_frame_vector_matches_the_server() {
    use tokio_util::codec::Decoder;
    use wire::compression::{COMPRESSION_MIN_BYTES, Compression};

    let server = common::serve(Arc::new(service()), wire::Config::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&vector("client-hello-zstd"))
        .await
        .unwrap();
    assert_eq!(
        read_exactly(&mut stream, 8).await,
        vector("server-hello-zstd")
    );
    exchange(&mut stream, "seat-map-request", "seat-map-zstd-response").await;
    drop(stream);

    let mut plain = handshaken(server.addr).await;
    plain.write_all(&vector("seat-map-request")).await.unwrap();
    let plain = common::read_frame_of(&read_frame_bytes(&mut plain).await);
    assert_eq!(plain.kind, wire::frame::Kind::Response);

    let mut codec =
        wire::codec::WireCodec::new(16 << 20).compressing(Compression::Zstd, COMPRESSION_MIN_BYTES);
    let mut bytes = bytes::BytesMut::from(&vector("seat-map-zstd-response")[..]);
    let unpacked = codec.decode(&mut bytes).unwrap().unwrap();
    assert_eq!(unpacked, plain);
    let map: wire::messages::SeatMap = postcard::from_bytes(&unpacked.payload).unwrap();
    assert_eq!((map.event_id, map.version, map.seats.len()), (2, 0, 134));
    assert_eq!(unpacked.payload.len(), 1216);
    assert!(
        map.seats
            .iter()
            .all(|seat| seat.state == wire::messages::SeatState::Available)
    );
    server.stop().await.unwrap();
}

fn service() -> Service {
    Service::generate(
        DatasetSpec {
            events: 10,
            seed: 42,
        },
        Limits::default(),
    )
}

/// Reads one whole frame (length prefix included), as raw bytes.
async fn read_frame_bytes(stream: &mut TcpStream) -> Vec<u8> {
    let len = u32::from_be_bytes(read_exactly(stream, 4).await.try_into().unwrap()) as usize;
    let mut got = (len as u32).to_be_bytes().to_vec();
    got.extend(read_exactly(stream, len).await);
    got
}

/// Sends `request` and checks the next frame is `response`, byte for byte.
async fn exchange(stream: &mut TcpStream, request: &str, response: &str) {
    stream.write_all(&vector(request)).await.unwrap();
    let got = read_frame_bytes(stream).await;
    assert_eq!(
        got,
        vector(response),
        "{response} differs; the server sent:\n{}",
        hex(&got)
    );
}

/// Reads until the server closes (at most 10 s).
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut all))
        .await
        .expect("the server kept the connection open")
        .unwrap();
    all
}

async fn handshaken(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&vector("client-hello")).await.unwrap();
    assert_eq!(read_exactly(&mut stream, 8).await, vector("server-hello"));
    stream
}

/// The documented requests sent to a server on the documented dataset get the
/// documented responses, byte for byte, in the documented order on one connection; and
/// the request id 0 vector ends a connection of its own.
#[tokio::test]
async fn frame_vectors_match_the_server() {
    let api = Arc::new(service());
    let server = netkit::running::RunningServer::spawn(|listener, stop| {
        wire::serve(listener, api, wire::Config::default(), stop)
    })
    .await
    .unwrap();
    let mut stream = handshaken(server.addr).await;
    for (request, response) in [
        ("get-event-request", "get-event-response"),
        ("get-event-missing-request", "error-frame"),
        ("list-limit-101-request", "page-size-error"),
        ("list-empty-range-request", "empty-range-error"),
        ("list-cursor-other-filter-request", "cursor-error"),
        ("hold-cancelled-event-request", "invalid-state-error"),
        ("hold-nine-seats-request", "seats-per-hold-error"),
    ] {
        exchange(&mut stream, request, response).await;
    }
    drop(stream);

    let mut stream = handshaken(server.addr).await;
    exchange(
        &mut stream,
        "request-id-zero-request",
        "request-id-zero-error",
    )
    .await;
    assert!(read_to_close(&mut stream).await.is_empty());
    server.stop().await.unwrap();
}

/// The cursor in `list-cursor-other-filter-request` is the one the server issues for the
/// unfiltered first page of one event, as the document says.
#[tokio::test]
async fn the_cursor_vector_holds_a_cursor_the_server_issued() {
    let page = Ticketing::list_events(
        &service(),
        ListEventsRequest {
            filter: EventFilter::default(),
            cursor: None,
            limit: Some(1),
        },
    )
    .await
    .unwrap();
    let frame = vector("list-cursor-other-filter-request");
    let request: wire::messages::ListEventsRequest = postcard::from_bytes(&frame[12..]).unwrap();
    assert_eq!(request.cursor, page.next_cursor);
    assert!(request.filter.category.is_some());
}

/// A duplicate of a request still in flight gets the documented refusal; the original
/// then gets its normal answer. The service holds the original until the refusal is in.
#[tokio::test]
async fn the_duplicate_id_vector_matches_the_server() {
    let gated = Arc::new(common::Gated::new(service()));
    let server = common::serve(gated.clone(), wire::Config::default()).await;
    let mut stream = handshaken(server.addr).await;
    stream
        .write_all(&vector("duplicate-request"))
        .await
        .unwrap();
    exchange(&mut stream, "duplicate-request", "duplicate-error").await;
    gated.open();
    let mut answer = vector("get-event-response");
    answer[8..12].copy_from_slice(&9u32.to_be_bytes());
    assert_eq!(read_frame_bytes(&mut stream).await, answer);
    server.stop().await.unwrap();
}

/// The refused hellos: an empty version range gets status 1, four bytes that are not
/// the magic get the text line of section 1 (the one the document shows), and both are
/// closed.
#[tokio::test]
async fn refused_hello_vectors_match_the_server() {
    let server = common::spawn().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&vector("hello-empty-range"))
        .await
        .unwrap();
    assert_eq!(read_to_close(&mut stream).await, vector("hello-refused"));

    let line = PROTOCOL
        .split('`')
        .find(|s| s.starts_with("QRTW/1 400"))
        .expect("the text line in section 1")
        .replace("\\n", "\n");
    assert_eq!(line.as_bytes(), wire::handshake::NOT_QUARTET);
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(&vector("bad-magic")).await.unwrap();
    assert_eq!(read_to_close(&mut stream).await, line.as_bytes());
    server.stop().await.unwrap();
}

/// The numbers the document states are the ones the code enforces: the limits of
/// section 6.1, the time range of section 6.2 (both ends accepted, one microsecond
/// beyond refused) and the connection budgets of section 2.
#[test]
fn the_document_states_the_limits_the_code_enforces() {
    use domain::validate;
    let must_say = |text: String| {
        assert!(
            PROTOCOL.contains(&text),
            "PROTOCOL.md does not say {text:?}"
        );
    };
    let limits = Limits::default();
    must_say(format!(
        "absent: {}; else 1 to {}",
        limits.default_page_size, limits.max_page_size
    ));
    must_say(format!(
        "LIMIT_EXCEEDED `page size`, limit {}",
        limits.max_page_size
    ));
    must_say(format!(
        "at most {} characters; not blank",
        limits.max_query_chars
    ));
    must_say(format!(
        "LIMIT_EXCEEDED `query length`, limit {}",
        limits.max_query_chars
    ));
    must_say(format!("1 to {} seats", limits.max_seats_per_hold));
    must_say(format!(
        "LIMIT_EXCEEDED `seats per hold`, limit {}",
        limits.max_seats_per_hold
    ));
    must_say(format!("lasts {} minutes", limits.hold_ttl.as_secs() / 60));
    assert_eq!(limits.hold_ttl, Duration::from_secs(600));
    must_say(format!(
        "the newest {} {:03} cancelled or expired",
        limits.finished_bookings_per_event / 1000,
        limits.finished_bookings_per_event % 1000
    ));
    must_say(format!(
        "not blank; at most {} characters (spaces included)",
        validate::MAX_NAME_CHARS
    ));
    must_say(format!(
        "at most {} bytes; no whitespace",
        validate::MAX_EMAIL_BYTES
    ));
    must_say(format!(
        "1 to {} bytes of printable ASCII",
        validate::MAX_IDEMPOTENCY_KEY_BYTES
    ));
    must_say(format!(
        "not blank; at most {} characters |",
        validate::MAX_CITY_CHARS
    ));

    let min = chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp_micros();
    let max = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp_micros();
    must_say(format!("`{min}`"));
    must_say(format!("`{max}`"));
    for ok in [min, max, 0] {
        assert!(wire::messages::time("from", ok).is_ok(), "{ok}");
    }
    for out in [min - 1, max + 1, i64::MIN, i64::MAX] {
        assert_eq!(
            wire::messages::time("from", out).unwrap_err(),
            domain::Error::invalid_argument("from", "time out of range")
        );
    }

    let config = wire::Config::default();
    must_say(format!(
        "at most **{} requests in flight**",
        config.max_in_flight
    ));
    must_say(format!(
        "at most **{} KiB ({} bytes) of encoded answers",
        config.max_queued_bytes >> 10,
        group(config.max_queued_bytes)
    ));
    must_say(format!(
        "at most **{} MiB of encoded answers waiting to be\n  written**, besides the first **{} KiB**",
        config.max_total_queued_bytes >> 20,
        wire::server::GUARANTEED_QUEUED_BYTES >> 10
    ));
    must_say(format!(
        "cannot be written within\n**{} s**",
        config.write_timeout.as_secs()
    ));
}

/// `n` with a space between groups of three digits, as the document writes numbers.
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

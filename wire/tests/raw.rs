//! Raw bytes against the real server: every malformed input the spec names gets the
//! behaviour PROTOCOL.md promises, other connections keep being served, and nothing
//! panics. Every wait has a deadline.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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

async fn expect_connection_error(stream: &mut TcpStream, code: ErrorCode) -> Error {
    let frame = common::read_frame(stream).await;
    assert_eq!(
        frame.request_id, 0,
        "connection-level errors carry request id 0"
    );
    let error = common::error_of(&frame);
    assert_eq!(error.code(), code, "{error:?}");
    assert!(
        common::read_to_close(stream, DEADLINE).await.is_empty(),
        "nothing after the error frame"
    );
    error
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
        let error = expect_connection_error(&mut stream, code).await;
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
    let error = expect_connection_error(&mut stream, ErrorCode::InvalidArgument).await;
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

#[tokio::test]
async fn a_byte_at_a_time_sender_cannot_hold_a_connection() {
    let frame_timeout = Duration::from_millis(400);
    let server = common::spawn_with(wire::Config {
        frame_timeout,
        ..wire::Config::default()
    })
    .await;
    let mut stream = common::handshaken(server.addr).await;
    let bytes = common::get_event_bytes(1, 1);
    let start = Instant::now();
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

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_and_others_are_served() {
    let config = wire::Config {
        write_timeout: Duration::from_millis(500),
        max_in_flight: 8,
        ..wire::Config::default()
    };
    let server = common::spawn_with(config).await;
    let mut stream = common::handshaken(server.addr).await;
    // Seat maps are big; ask for many and read none. The socket buffers fill, the write
    // times out, and the server drops us. Bounded: a million requests at most (about
    // 21 MB, more than loopback buffers hold), 20 s at most.
    let data = domain::Dataset::from_spec(common::SPEC);
    let biggest = data
        .events
        .iter()
        .max_by_key(|e| data.venues[(e.venue_id.0 - 1) as usize].capacity)
        .unwrap();
    let payload = postcard::to_allocvec(&wire::messages::EventIdRequest {
        event_id: biggest.id.0,
    })
    .unwrap();
    let request =
        wire::codec::encode_frame(Frame::request(Opcode::GetSeatMap, 1, payload), 1 << 20).unwrap();
    let start = Instant::now();
    let mut cut_off = false;
    for _ in 0..1_000_000 {
        // Our writes block (server stopped reading) or fail (server closed): either
        // way, check below that it actually let go of us.
        if !matches!(
            tokio::time::timeout(Duration::from_secs(2), stream.write_all(&request)).await,
            Ok(Ok(()))
        ) {
            cut_off = true;
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    assert!(
        cut_off,
        "the server kept reading from a client that never reads"
    );
    still_serving(server.addr).await;
    // The stuck connection is eventually closed by the server (reading now drains what
    // it wrote, then EOF).
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        drained.is_ok(),
        "the server never closed the non-reading connection"
    );
    server.stop().await.unwrap();
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
    assert_eq!(result.unwrap_err().code(), ErrorCode::Internal);
}

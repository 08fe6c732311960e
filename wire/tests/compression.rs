//! Per-frame compression (PROTOCOL.md §1 and §2, "Compressed frames") against the real
//! server and client: what the hellos agree on (both sides accept, the server has it
//! off, a client from before compression), a large seat map both ways through
//! `wire::Client`, small frames left raw, and every bad compressed frame (a bomb that
//! claims too much, one that expands past its claim, corrupt data, a compressed frame
//! nobody agreed to) refused with its typed connection error and a clean close, by the
//! server and by the client. Every wait has a deadline.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::{ErrorCode, EventId, Service, Ticketing};
use netkit::ClientConfig;
use netkit::config::ServerCompression;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wire::compression::{Compression, FrameCompression};
use wire::frame::{COMPRESSED, Kind, Opcode};
use wire::handshake::{Codecs, client_hello_accepting};
use wire::messages::EventIdRequest;

const DEADLINE: Duration = Duration::from_secs(10);
const CODECS: [Compression; 2] = [Compression::Zstd, Compression::Gzip];

/// A raw connection whose hello accepted `offer`; returns it and the server's codec
/// field.
async fn hello(addr: SocketAddr, offer: Codecs) -> (TcpStream, u16) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&client_hello_accepting(offer))
        .await
        .unwrap();
    let mut reply = [0u8; 8];
    tokio::time::timeout(DEADLINE, stream.read_exact(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&reply[..6], b"QRTW\x01\x00", "agreed on version 1");
    (stream, u16::from_be_bytes([reply[6], reply[7]]))
}

/// The kind byte and whole length (prefix included) of the answer to GET_SEAT_MAP
/// (or GET_EVENT) of `event` on `stream`.
async fn answer_shape(stream: &mut TcpStream, opcode: Opcode, event: u64) -> (u8, usize) {
    let request = common::request_bytes(opcode, 5, &EventIdRequest { event_id: event });
    stream.write_all(&request).await.unwrap();
    let bytes = common::read_frame_bytes(stream).await;
    (bytes[5], bytes.len())
}

/// The event with the largest venue among the first 200: its seat map is hundreds of
/// kilobytes.
async fn largest_seat_map(service: &Service) -> EventId {
    let mut best = (0, EventId(1));
    for id in 1..=200 {
        let event = service.get_event(EventId(id)).await.unwrap();
        let venue = service.get_venue(event.venue_id).await.unwrap();
        if venue.capacity > best.0 {
            best = (venue.capacity, event.id);
        }
    }
    best.1
}

/// A compressed frame's bytes, built by hand: `kind` with the compressed bit, then
/// `declared` as the uncompressed length, then `data`.
fn compressed_frame(kind: Kind, opcode: Opcode, id: u32, declared: u32, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&(8 + 4 + data.len() as u32).to_be_bytes());
    frame.extend_from_slice(&[1, kind as u8 | COMPRESSED]);
    frame.extend_from_slice(&(opcode as u16).to_be_bytes());
    frame.extend_from_slice(&id.to_be_bytes());
    frame.extend_from_slice(&declared.to_be_bytes());
    frame.extend_from_slice(data);
    frame
}

/// `payload` compressed with `codec`: (its declared length, the codec's data).
fn packed(codec: Compression, payload: &[u8]) -> (u32, Vec<u8>) {
    let compressed = FrameCompression::new(codec, 0)
        .unwrap()
        .compress(payload)
        .unwrap()
        .expect("compressible");
    (compressed.declared, compressed.data)
}

async fn still_serving(addr: SocketAddr) {
    let client = wire::Client::connect(addr).await.unwrap();
    client.ping().await.unwrap();
}

fn client_config(compression: Compression) -> ClientConfig {
    ClientConfig {
        compression,
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn the_server_agrees_on_the_codec_the_client_accepts_zstd_first() {
    let server = common::spawn().await;
    for (offer, agreed) in [
        (Codecs::only(Compression::Zstd), Compression::Zstd),
        (Codecs::only(Compression::Gzip), Compression::Gzip),
        (Codecs::ALL, Compression::Zstd),
        (Codecs::NONE, Compression::None),
    ] {
        let (_stream, codec) = hello(server.addr, offer).await;
        assert_eq!(codec, Codecs::bit(agreed), "offered {offer:?}");
    }
    server.stop().await.unwrap();
}

/// A server with compression off agrees on none, sends even a large seat map raw, and a
/// client asking for zstd still gets its answers.
#[tokio::test]
async fn a_server_with_compression_off_agrees_on_none() {
    let config = wire::Config {
        compression: ServerCompression {
            enabled: false,
            ..ServerCompression::default()
        },
        ..wire::Config::default()
    };
    let service = Arc::new(common::service());
    let event = largest_seat_map(&service).await;
    let server = common::serve(service.clone(), config).await;
    let (mut stream, codec) = hello(server.addr, Codecs::ALL).await;
    assert_eq!(codec, 0);
    let (kind, _) = answer_shape(&mut stream, Opcode::GetSeatMap, event.0).await;
    assert_eq!(kind, Kind::Response as u8, "uncompressed");

    let client = wire::Client::connect_with(server.addr, 1, &client_config(Compression::Zstd))
        .await
        .unwrap();
    assert_eq!(
        client.get_seat_map(event).await.unwrap(),
        service.get_seat_map(event).await.unwrap()
    );
    server.stop().await.unwrap();
}

/// A client from before compression (codec field 0, the `client-hello` vector) gets 0
/// back and every frame raw; a compressed frame from it is a bad header.
#[tokio::test]
async fn a_client_that_offers_nothing_gets_raw_frames_and_may_not_compress() {
    let service = Arc::new(common::service());
    let event = largest_seat_map(&service).await;
    let server = common::serve(service, wire::Config::default()).await;
    let (mut stream, codec) = hello(server.addr, Codecs::NONE).await;
    assert_eq!(codec, 0);
    let (kind, _) = answer_shape(&mut stream, Opcode::GetSeatMap, event.0).await;
    assert_eq!(kind, Kind::Response as u8);

    // What it holds does not matter: the header is refused before the payload is read.
    let (declared, data) = packed(Compression::Zstd, &[7u8; 4096]);
    let frame = compressed_frame(Kind::Request, Opcode::GetEvent, 6, declared, &data);
    stream.write_all(&frame).await.unwrap();
    let error = common::expect_connection_error(&mut stream, ErrorCode::InvalidArgument).await;
    assert_eq!(error.details().field.as_deref(), Some("header"));
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

/// The largest seat map of the dataset through `wire::Client` in each codec: the same
/// answer as uncompressed, and on the socket a fraction of the bytes.
#[tokio::test]
async fn a_large_seat_map_round_trips_compressed_in_each_codec() {
    let service = Arc::new(common::service());
    let event = largest_seat_map(&service).await;
    let expected = service.get_seat_map(event).await.unwrap();
    let server = common::serve(service, wire::Config::default()).await;

    let (mut raw, _) = hello(server.addr, Codecs::NONE).await;
    let (_, raw_len) = answer_shape(&mut raw, Opcode::GetSeatMap, event.0).await;
    assert!(raw_len > 100_000, "a large seat map: {raw_len} bytes");
    for codec in CODECS {
        let client = wire::Client::connect_with(server.addr, 1, &client_config(codec))
            .await
            .unwrap();
        assert_eq!(
            client.get_seat_map(event).await.unwrap(),
            expected,
            "{codec}"
        );

        let (mut stream, _) = hello(server.addr, Codecs::only(codec)).await;
        let (kind, len) = answer_shape(&mut stream, Opcode::GetSeatMap, event.0).await;
        assert_eq!(kind, Kind::Response as u8 | COMPRESSED, "{codec}");
        assert!(len * 3 < raw_len, "{codec}: {len} of {raw_len} bytes");
    }
    server.stop().await.unwrap();
}

/// Answers under 1 KiB (a GET_EVENT, a PING) go raw on a compressed connection.
#[tokio::test]
async fn frames_under_the_threshold_stay_raw() {
    let server = common::spawn().await;
    for codec in CODECS {
        let (mut stream, agreed) = hello(server.addr, Codecs::only(codec)).await;
        assert_eq!(agreed, Codecs::bit(codec));
        let (kind, len) = answer_shape(&mut stream, Opcode::GetEvent, 1).await;
        assert_eq!(kind, Kind::Response as u8, "{codec}");
        assert!(len < 1024 + 12, "{codec}: {len}");
        let ping = common::request_bytes(Opcode::Ping, 6, &());
        stream.write_all(&ping).await.unwrap();
        let pong = common::read_frame_bytes(&mut stream).await;
        assert_eq!(pong, [0, 0, 0, 8, 1, 1, 0, 0xFF, 0, 0, 0, 6]);
    }
    server.stop().await.unwrap();
}

/// A compression bomb: a frame declaring more than the 1 MiB request maximum is
/// refused before anything is decompressed (LIMIT_EXCEEDED `frame size`); one declaring
/// little and expanding to 64 MiB is stopped at its declared length (INVALID_ARGUMENT
/// `payload`). Both close the connection after the answers already owed, and the
/// server goes on serving others.
#[tokio::test]
async fn a_compression_bomb_is_refused_with_a_typed_error_and_a_clean_close() {
    let server = common::spawn().await;
    let max = wire::Config::default().server.max_request_bytes;
    let zeros = vec![0u8; 64 << 20];
    for codec in CODECS {
        let (declared, bomb) = packed(codec, &zeros);
        assert!(bomb.len() < 256 << 10, "{codec}: a small frame on the wire");

        let (mut stream, _) = hello(server.addr, Codecs::only(codec)).await;
        stream
            .write_all(&common::get_event_bytes(1, 1))
            .await
            .unwrap();
        let frame = compressed_frame(Kind::Request, Opcode::GetEvent, 2, declared, &bomb);
        stream.write_all(&frame).await.unwrap();
        let answer = common::read_frame(&mut stream).await;
        assert_eq!((answer.kind, answer.request_id), (Kind::Response, 1));
        let error = common::expect_connection_error(&mut stream, ErrorCode::LimitExceeded).await;
        assert_eq!(error.details().what.as_deref(), Some("frame size"));
        assert_eq!(error.details().limit, Some(max as u64));

        let (mut stream, _) = hello(server.addr, Codecs::only(codec)).await;
        let frame = compressed_frame(Kind::Request, Opcode::GetEvent, 3, 1000, &bomb);
        stream.write_all(&frame).await.unwrap();
        let error = common::expect_connection_error(&mut stream, ErrorCode::InvalidArgument).await;
        assert_eq!(error.details().field.as_deref(), Some("payload"), "{codec}");
    }
    still_serving(server.addr).await;
    server.stop().await.unwrap();
}

/// Data that is not the agreed codec's, or is damaged, gets INVALID_ARGUMENT `payload`
/// and a close.
#[tokio::test]
async fn a_corrupt_compressed_payload_is_refused() {
    let server = common::spawn().await;
    let request = postcard::to_allocvec(&EventIdRequest { event_id: 1 }).unwrap();
    for codec in CODECS {
        let (declared, good) = packed(codec, &request.repeat(600));
        let mut damaged = good.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 0xA5;
        let (_, other_codec) = packed(
            if codec == Compression::Zstd {
                Compression::Gzip
            } else {
                Compression::Zstd
            },
            &request.repeat(600),
        );
        for (what, data) in [
            ("garbage", &b"this is not compressed at all"[..]),
            ("damaged", &damaged),
            ("the other codec", &other_codec),
            ("truncated", &good[..good.len() / 2]),
        ] {
            let (mut stream, _) = hello(server.addr, Codecs::only(codec)).await;
            let frame = compressed_frame(Kind::Request, Opcode::GetEvent, 4, declared, data);
            stream.write_all(&frame).await.unwrap();
            let error =
                common::expect_connection_error(&mut stream, ErrorCode::InvalidArgument).await;
            assert_eq!(
                error.details().field.as_deref(),
                Some("payload"),
                "{codec}, {what}"
            );
        }
    }
    still_serving(server.addr).await;
}

/// The client holds answers to its own bound: a server that answers with a bomb (one
/// declaring 64 MiB, one expanding past what it declares) only fails the call, and
/// a server hello naming a codec the client did not offer fails the connect.
#[tokio::test]
async fn the_client_refuses_a_bomb_from_its_server() {
    let zeros = vec![0u8; 64 << 20];
    let (declared, bomb) = packed(Compression::Zstd, &zeros);
    for claimed in [declared, 1000] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let answer = compressed_frame(Kind::Response, Opcode::GetEvent, 1, claimed, &bomb);
        let fake = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 8];
            stream.read_exact(&mut hello).await.unwrap();
            assert_eq!(&hello[6..], &[0, 1], "the client accepts zstd");
            stream.write_all(b"QRTW\x01\x00\x00\x01").await.unwrap();
            let mut request = [0u8; 13];
            stream.read_exact(&mut request).await.unwrap();
            stream.write_all(&answer).await.unwrap();
            // Hold the connection until the client gives up on it.
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
        });
        let client = wire::Client::connect_with(addr, 1, &client_config(Compression::Zstd))
            .await
            .unwrap();
        let error = tokio::time::timeout(DEADLINE, client.get_event(EventId(1)))
            .await
            .expect("the call ends")
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Internal, "{error:?}");
        drop(client);
        tokio::time::timeout(DEADLINE, fake)
            .await
            .expect("the client closed the connection")
            .unwrap();
    }

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 8];
        stream.read_exact(&mut hello).await.unwrap();
        // gzip, which a zstd client did not offer.
        stream.write_all(b"QRTW\x01\x00\x00\x02").await.unwrap();
        let _ = stream.read_to_end(&mut Vec::new()).await;
    });
    let refused = wire::Client::connect_with(addr, 1, &client_config(Compression::Zstd)).await;
    assert!(refused.is_err());
}

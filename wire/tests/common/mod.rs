//! Test helpers: a wire server on a loopback port the test picked, and raw-socket tools.

// Each test binary uses its own subset of these helpers, and a failure in them is a
// failed test, not a crash a client can cause.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use domain::{DatasetSpec, Limits, Service, SharedTicketing};
use netkit::running::RunningServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The dataset the wire tests run on.
pub const SPEC: DatasetSpec = DatasetSpec {
    events: 2_000,
    seed: 7,
};

/// A fresh in-process service on [`SPEC`].
pub fn service() -> Service {
    Service::generate(SPEC, Limits::default())
}

/// A wire server for `api` with `config`, on a port the OS picks.
pub async fn serve(api: SharedTicketing, config: wire::Config) -> RunningServer {
    RunningServer::spawn(|listener, stop| wire::serve(listener, api, config, stop))
        .await
        .unwrap()
}

/// A wire server over a fresh store with `config`, on a port the OS picks.
pub async fn spawn_with(config: wire::Config) -> RunningServer {
    serve(Arc::new(service()), config).await
}

/// A wire server over a fresh store with the default config.
pub async fn spawn() -> RunningServer {
    spawn_with(wire::Config::default()).await
}

/// A raw connection that has completed the handshake.
pub async fn handshaken(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&wire::handshake::client_hello())
        .await
        .unwrap();
    let mut hello = [0u8; 8];
    stream.read_exact(&mut hello).await.unwrap();
    assert_eq!(wire::handshake::check_server_hello(&hello), Ok(1));
    stream
}

/// Reads one frame (length prefix, header, payload) with a deadline.
pub async fn read_frame(stream: &mut TcpStream) -> wire::frame::Frame {
    let read = async {
        let len = stream.read_u32().await.unwrap() as usize;
        let mut rest = vec![0u8; len];
        stream.read_exact(&mut rest).await.unwrap();
        let mut whole = (len as u32).to_be_bytes().to_vec();
        whole.extend_from_slice(&rest);
        let mut codec = wire::codec::WireCodec::new(16 << 20);
        let mut buf = bytes::BytesMut::from(&whole[..]);
        tokio_util::codec::Decoder::decode(&mut codec, &mut buf)
            .unwrap()
            .unwrap()
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("no frame within 10 s")
}

/// Reads until the peer closes; returns everything read. Panics if it stays open
/// past `deadline`.
pub async fn read_to_close(stream: &mut TcpStream, deadline: Duration) -> Vec<u8> {
    let mut all = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(deadline, read)
        .await
        .expect("the server kept the connection open");
    all
}

/// The error payload of an error frame.
pub fn error_of(frame: &wire::frame::Frame) -> domain::Error {
    assert_eq!(frame.kind, wire::frame::Kind::Error, "{frame:?}");
    let payload: wire::messages::ErrorPayload = postcard::from_bytes(&frame.payload).unwrap();
    wire::error::from_payload(payload)
}

/// A GET_EVENT request frame's bytes.
pub fn get_event_bytes(request_id: u32, event_id: u64) -> bytes::Bytes {
    let payload = postcard::to_allocvec(&wire::messages::EventIdRequest { event_id }).unwrap();
    wire::codec::encode_frame(
        wire::frame::Frame::request(wire::frame::Opcode::GetEvent, request_id, payload),
        1 << 20,
    )
    .unwrap()
}

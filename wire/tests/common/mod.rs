//! Test helpers: a wire server on a loopback port the test picked, and raw-socket tools.

// Each test binary uses its own subset of these helpers, and a failure in them is a
// failed test, not a crash a client can cause.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    Booking, BookingId, DatasetSpec, Event, EventDetail, EventId, EventPage, HoldRequest, Limits,
    ListEventsRequest, Performer, PerformerId, SearchRequest, SearchResults, SeatMap, Service,
    SharedTicketing, Ticketing, Venue, VenueId,
};
use netkit::running::RunningServer;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use wire::frame::{Frame, Opcode};

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
    let accepted = wire::handshake::check_server_hello(&hello, wire::handshake::Codecs::NONE);
    assert_eq!(accepted.map(|a| a.version), Ok(1));
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

/// Any request frame's bytes.
pub fn request_bytes(opcode: Opcode, request_id: u32, message: &impl Serialize) -> bytes::Bytes {
    let payload = postcard::to_allocvec(message).unwrap();
    wire::codec::encode_frame(Frame::request(opcode, request_id, payload), 1 << 20).unwrap()
}

/// Waits until `condition` holds, checking every few milliseconds; panics with `what`
/// if it still does not after 10 s.
pub async fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 10 s for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A wire server on a listener of the test's own making, and how to stop it.
pub struct Served {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl Served {
    /// Serves `api` with `config` on 127.0.0.1:0 from a listening socket whose send
    /// buffer is `send_buffer` bytes (as asked; the kernel may double it). Accepted
    /// connections inherit it, and a buffer set by hand is not grown by the kernel.
    pub fn with_send_buffer(api: SharedTicketing, config: wire::Config, send_buffer: u32) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(send_buffer).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener: TcpListener = socket.listen(64).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(wire::serve(listener, api, config, async move {
            let _ = stopped.await;
        }));
        Served { addr, stop, task }
    }

    /// Stops the server and waits for its drain.
    pub async fn stop(self) -> io::Result<()> {
        let _ = self.stop.send(());
        self.task.await.map_err(io::Error::other)?
    }
}

/// A raw connection with a receive buffer of `receive_buffer` bytes (as asked), past
/// the handshake.
pub async fn handshaken_with_receive_buffer(addr: SocketAddr, receive_buffer: u32) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(receive_buffer).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(&wire::handshake::client_hello())
        .await
        .unwrap();
    let mut hello = [0u8; 8];
    stream.read_exact(&mut hello).await.unwrap();
    let accepted = wire::handshake::check_server_hello(&hello, wire::handshake::Codecs::NONE);
    assert_eq!(accepted.map(|a| a.version), Ok(1));
    stream
}

/// A `Ticketing` that forwards to `inner` but holds every `get_event` until the test
/// opens the gate (once open, it stays open), so a request can be kept in flight.
pub struct Gated<T> {
    inner: T,
    gate: Semaphore,
}

impl<T> Gated<T> {
    /// A closed gate in front of `inner`.
    pub fn new(inner: T) -> Self {
        Gated {
            inner,
            gate: Semaphore::new(0),
        }
    }

    /// Lets every held and future `get_event` through.
    pub fn open(&self) {
        self.gate.add_permits(1);
    }
}

#[async_trait]
impl<T: Ticketing> Ticketing for Gated<T> {
    async fn get_event(&self, id: EventId) -> domain::Result<Event> {
        drop(self.gate.acquire().await.unwrap());
        self.inner.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> domain::Result<EventPage> {
        self.inner.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> domain::Result<SearchResults> {
        self.inner.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> domain::Result<EventDetail> {
        self.inner.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> domain::Result<Venue> {
        self.inner.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> domain::Result<Performer> {
        self.inner.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> domain::Result<SeatMap> {
        self.inner.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> domain::Result<Booking> {
        self.inner.hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> domain::Result<Booking> {
        self.inner.get_booking(id).await
    }
    async fn confirm_booking(
        &self,
        id: BookingId,
        expected_version: u64,
    ) -> domain::Result<Booking> {
        self.inner.confirm_booking(id, expected_version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> domain::Result<Booking> {
        self.inner.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> domain::Result<domain::AvailabilityStream> {
        self.inner.watch_availability(event_id, from_version).await
    }
}

/// PROTOCOL.md, whose vectors the tests check.
pub const PROTOCOL: &str = include_str!("../../PROTOCOL.md");

/// The bytes of the ```` ```hex NAME ```` block in PROTOCOL.md (`#` starts a comment).
pub fn vector(name: &str) -> Vec<u8> {
    let fence = format!("```hex {name}\n");
    let start = PROTOCOL
        .find(&fence)
        .unwrap_or_else(|| panic!("PROTOCOL.md has no vector {name:?}"))
        + fence.len();
    let end = start + PROTOCOL[start..].find("```").unwrap();
    let hex: String = PROTOCOL[start..end]
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .collect::<String>()
        .split_whitespace()
        .collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Bytes as rows of 16 hex pairs, the way PROTOCOL.md writes them.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads one whole frame (length prefix included) as raw bytes, with a deadline.
pub async fn read_frame_bytes(stream: &mut TcpStream) -> Vec<u8> {
    let read = async {
        let len = stream.read_u32().await.unwrap() as usize;
        let mut got = (len as u32).to_be_bytes().to_vec();
        let mut rest = vec![0u8; len];
        stream.read_exact(&mut rest).await.unwrap();
        got.extend(rest);
        got
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("no frame within 10 s")
}

/// The frame whole bytes (length prefix included) encode.
pub fn read_frame_of(bytes: &[u8]) -> Frame {
    let mut codec = wire::codec::WireCodec::new(16 << 20);
    let mut buf = bytes::BytesMut::from(bytes);
    tokio_util::codec::Decoder::decode(&mut codec, &mut buf)
        .unwrap()
        .unwrap()
}

/// Reads the connection-level error that must come next on `stream` (request id 0, the
/// given code), then checks the server closes without sending anything more.
#[allow(dead_code)] // Not every test binary that includes this module uses it.
pub async fn expect_connection_error(
    stream: &mut TcpStream,
    code: domain::ErrorCode,
) -> domain::Error {
    let frame = read_frame(stream).await;
    assert_eq!(
        frame.request_id, 0,
        "connection-level errors carry request id 0"
    );
    let error = error_of(&frame);
    assert_eq!(error.code(), code, "{error:?}");
    assert!(
        read_to_close(stream, Duration::from_secs(10))
            .await
            .is_empty(),
        "nothing after the error frame"
    );
    error
}

/// The biggest on-sale seat map of the test data, and the encoded length of its answer
/// (frame header and request id included).
pub async fn biggest_seat_map() -> (domain::EventId, usize) {
    let data = domain::Dataset::from_spec(SPEC);
    let biggest = data
        .events
        .iter()
        .filter(|e| e.status == domain::EventStatus::OnSale)
        .max_by_key(|e| data.venues[(e.venue_id.0 - 1) as usize].capacity)
        .unwrap();
    let map = domain::Ticketing::get_seat_map(&service(), biggest.id)
        .await
        .unwrap();
    let answer_len = 4
        + 8
        + postcard::to_allocvec(&wire::messages::SeatMap::from(map))
            .unwrap()
            .len();
    (biggest.id, answer_len)
}

//! Lean subscribers for the `watch` scenario, gRPC and wire: they read of each message
//! only what the delivery latency and the order check need (the kind, the version, the
//! commit time) and skip the rest in place, so that with a thousand subscribers the
//! load generator's core measures the server's fan-out and not the client's decoding.
//!
//! - [`GrpcSubscriber`]: `WatchAvailability` streams on the `h2` crate (one HTTP/2
//!   connection, many streams, with [`super::grpc`]'s windows and write coalescing), each
//!   gRPC message walked field by field: `kind` (2), `version` (3) and `commit_time` (6,
//!   a `Timestamp`) are read, `sections` and `seats` skipped by their length;
//!   `grpc-status` is read from the trailers. Its receipt time is the connection's last
//!   socket read when the message is taken from its stream (`Stamped`): h2 hands data to
//!   streams after reading it, so that read is the message's own or a later one.
//! - [`WireSubscriber`]: the wire protocol on the raw frames (PROTOCOL.md §6.7): one
//!   reader per connection parses each frame's header, reads the PUSH payload's postcard
//!   varints up to the version, skips the section and seat vectors by their counts, reads
//!   the commit time, and hands the three to the subscription (its id indexes a table),
//!   stamped with the time of the socket read that completed the frame.
//!   Like the wire client it never waits on a subscriber: one whose queue is full gets a
//!   `resync` made here (its version the last one queued) and the server an UNSUBSCRIBE.
//!
//! Stamping receipt at the socket rather than when the subscriber's task takes the
//! message keeps the load generator's own scheduling of a thousand subscriber tasks on
//! one core out of the delivery latency it reports (the subscriber tasks still run, and
//! still check the order, behind it).
//!
//! Both still fail on anything malformed (an unknown kind, a truncated varint, a frame
//! the subscription did not ask for), and the order check (gap-free versions, resume
//! after a resync) is the caller's, [`crate::watch::subscriber::follow`], as for the
//! protocols' own clients. Neither asks for compression.
//!
//! What is not here: REST's SSE and GraphQL's WebSocket (their clients' streams are what
//! the scenario measures for them) and the writer.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use domain::{EventId, UpdateKind};
use futures::stream;
use grpc::pb;
use h2::RecvStream;
use h2::client::SendRequest;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, TE};
use http::{Method, Request, Uri};
use prost::Message;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};

use super::grpc as lean_grpc;
use crate::watch::subscriber::{Mark, MarkStream, Subscribe};
use netkit::coalesce_writes::CoalesceWrites;

/// The largest gRPC message or wire frame accepted (an update of a 20 000-seat venue's
/// sections is a few kilobytes; a snapshot a few more).
const MAX_MESSAGE: usize = 1 << 20;

/// Messages a wire subscription may have queued before it is resynced (as the wire
/// client's own queue).
const QUEUE: usize = 256;

/// The gRPC message prefix.
const PREFIX: usize = 5;

// ---------------------------------------------------------------------------------
// Decoding only what is measured.
// ---------------------------------------------------------------------------------

/// A base-128 varint (protobuf's and postcard's), advancing `b`.
fn varint(b: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let Some((&byte, rest)) = b.split_first() else {
            return Err("a truncated varint".to_owned());
        };
        *b = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a varint over 10 bytes".to_owned())
}

/// `n` bytes of `b`, advancing it.
fn take<'a>(b: &mut &'a [u8], n: u64) -> Result<&'a [u8], String> {
    let n = usize::try_from(n).map_err(|_| "a length beyond memory".to_owned())?;
    if n > b.len() {
        return Err(format!("a {n}-byte field in {} bytes", b.len()));
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Ok(head)
}

/// Skips a protobuf field of wire type `wire_type`.
fn skip_field(b: &mut &[u8], wire_type: u64) -> Result<(), String> {
    match wire_type {
        0 => varint(b).map(drop),
        1 => take(b, 8).map(drop),
        2 => {
            let len = varint(b)?;
            take(b, len).map(drop)
        }
        5 => take(b, 4).map(drop),
        other => Err(format!("protobuf wire type {other}")),
    }
}

/// The kind, version and commit time of a protobuf `AvailabilityUpdate`, the rest
/// skipped.
///
/// # Errors
/// If the message is malformed or its kind is not a change, snapshot or resync.
pub fn grpc_mark(mut b: &[u8]) -> Result<Mark, String> {
    let (mut kind, mut version, mut seconds, mut nanos) = (0u64, 0u64, 0i64, 0i64);
    while !b.is_empty() {
        let key = varint(&mut b)?;
        match (key >> 3, key & 7) {
            (2, 0) => kind = varint(&mut b)?,
            (3, 0) => version = varint(&mut b)?,
            (6, 2) => {
                let len = varint(&mut b)?;
                let mut time = take(&mut b, len)?;
                while !time.is_empty() {
                    let key = varint(&mut time)?;
                    // int64 and int32 travel as two's complement varints.
                    #[allow(clippy::cast_possible_wrap)]
                    match (key >> 3, key & 7) {
                        (1, 0) => seconds = varint(&mut time)? as i64,
                        (2, 0) => nanos = varint(&mut time)? as i64,
                        (_, wire_type) => skip_field(&mut time, wire_type)?,
                    }
                }
            }
            (_, wire_type) => skip_field(&mut b, wire_type)?,
        }
    }
    let kind = match kind {
        1 => UpdateKind::Change,
        2 => UpdateKind::Snapshot,
        3 => UpdateKind::Resync,
        other => return Err(format!("update kind {other}")),
    };
    Ok(Mark {
        kind,
        version,
        committed_micros: seconds
            .saturating_mul(1_000_000)
            .saturating_add(nanos / 1000),
        received_micros: None,
    })
}

/// The kind, version and commit time of a postcard `AvailabilityUpdate` (PROTOCOL.md
/// §4: event_id, kind, version, sections, seats, committed_at_micros), the section and
/// seat vectors skipped by their counts.
///
/// # Errors
/// If the payload is malformed or has bytes after its last field.
pub fn wire_mark(mut b: &[u8]) -> Result<Mark, String> {
    varint(&mut b)?; // event_id
    let kind = match varint(&mut b)? {
        0 => UpdateKind::Change,
        1 => UpdateKind::Snapshot,
        2 => UpdateKind::Resync,
        other => return Err(format!("update kind {other}")),
    };
    let version = varint(&mut b)?;
    // sections: (section_id, available); seats: (seat_id, state): two varints each.
    for _ in 0..2 {
        let count = varint(&mut b)?;
        if count > b.len() as u64 {
            return Err(format!("{count} items in {} bytes", b.len()));
        }
        for _ in 0..count * 2 {
            varint(&mut b)?;
        }
    }
    let zigzag = varint(&mut b)?;
    if !b.is_empty() {
        return Err(format!("{} bytes after the update", b.len()));
    }
    // postcard's i64 is zigzag-encoded.
    #[allow(clippy::cast_possible_wrap)]
    let committed_micros = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
    Ok(Mark {
        kind,
        version,
        committed_micros,
        received_micros: None,
    })
}

// ---------------------------------------------------------------------------------
// gRPC.
// ---------------------------------------------------------------------------------

/// The HTTP/2 windows the subscriber's connection advertises (those of
/// [`super::grpc`]'s connections): wide enough that flow control never holds a stream
/// that is being read.
const STREAM_WINDOW: u32 = 4 << 20;
const CONNECTION_WINDOW: u32 = 64 << 20;

/// `WatchAvailability` streams over one HTTP/2 connection.
pub struct GrpcSubscriber {
    send: SendRequest<Bytes>,
    /// When the connection's socket last returned bytes (µs since the Unix epoch).
    last_read: Arc<AtomicI64>,
    uri: Uri,
    headers: HeaderMap,
}

/// A socket that notes when each read returned bytes, before h2 parses them: a message
/// taken from a stream afterwards arrived in that read or an earlier one, so the last
/// note is when it was received or later, never earlier.
struct Stamped<T> {
    inner: T,
    last_read: Arc<AtomicI64>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Stamped<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.last_read.store(now_micros(), Ordering::Release);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Stamped<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Now, in µs since the Unix epoch (the clock the server stamps commits with).
fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl GrpcSubscriber {
    /// Connects to the gRPC server at `addr`.
    ///
    /// # Errors
    /// If it cannot connect or the HTTP/2 handshake fails.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let uri = format!("http://{addr}/quartet.v1.Ticketing/WatchAvailability")
            .parse()
            .map_err(io::Error::other)?;
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let last_read = Arc::new(AtomicI64::new(0));
        let io = Stamped {
            inner: tcp,
            last_read: Arc::clone(&last_read),
        };
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake::<_, Bytes>(CoalesceWrites::new(io))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("lean gRPC watch connection to {addr} ended: {e}");
            }
        });
        Ok(GrpcSubscriber {
            send,
            last_read,
            uri,
            headers,
        })
    }
}

#[async_trait::async_trait]
impl Subscribe for GrpcSubscriber {
    async fn subscribe(&self, event: EventId, from: Option<u64>) -> Result<MarkStream, String> {
        let mut send = self.send.clone();
        poll_fn(|cx| send.poll_ready(cx))
            .await
            .map_err(|e| format!("subscribe: {e}"))?;
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        let message = pb::WatchAvailabilityRequest {
            event_id: event.0,
            from_version: from,
        };
        let mut body = BytesMut::with_capacity(PREFIX + message.encoded_len());
        lean_grpc::frame(&message, &mut body);
        let (response, mut stream) = send
            .send_request(request, false)
            .map_err(|e| format!("subscribe: {e}"))?;
        stream
            .send_data(body.freeze(), true)
            .map_err(|e| format!("subscribe: {e}"))?;
        let (head, body) = response
            .await
            .map_err(|e| format!("subscribe: {e}"))?
            .into_parts();
        if head.status != http::StatusCode::OK {
            return Err(format!("subscribe: HTTP {}", head.status));
        }
        // A refusal is trailers-only: its status is in the headers.
        if head.headers.contains_key("grpc-status") {
            grpc_status(&head.headers).map_err(|e| format!("subscribe: {e}"))?;
            return Err("subscribe: the stream ended before its first message".to_owned());
        }
        let state = GrpcStream {
            body,
            buf: BytesMut::with_capacity(512),
            done: false,
            last_read: Arc::clone(&self.last_read),
        };
        Ok(Box::pin(stream::unfold(state, GrpcStream::next)))
    }
}

/// One `WatchAvailability` answer being read.
struct GrpcStream {
    body: RecvStream,
    buf: BytesMut,
    done: bool,
    /// The connection's [`Stamped`] note.
    last_read: Arc<AtomicI64>,
}

impl GrpcStream {
    /// The next mark, `None` after the trailers (or after an error was given).
    async fn next(mut self) -> Option<(Result<Mark, String>, Self)> {
        if self.done {
            return None;
        }
        match self.read().await {
            Ok(Some(mark)) => Some((Ok(mark), self)),
            Ok(None) => None,
            Err(why) => {
                self.done = true;
                Some((Err(why), self))
            }
        }
    }

    async fn read(&mut self) -> Result<Option<Mark>, String> {
        loop {
            if let Some(mark) = self.message()? {
                return Ok(Some(mark));
            }
            match self.body.data().await {
                Some(Ok(data)) => {
                    // Give the window back as data arrives, so the stream keeps flowing.
                    self.body
                        .flow_control()
                        .release_capacity(data.len())
                        .map_err(|e| e.to_string())?;
                    self.buf.extend_from_slice(&data);
                }
                Some(Err(e)) => return Err(e.to_string()),
                None => {
                    self.done = true;
                    if !self.buf.is_empty() {
                        return Err(format!("{} bytes of a message at the end", self.buf.len()));
                    }
                    let trailers = self
                        .body
                        .trailers()
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or("no trailers (no grpc-status)")?;
                    grpc_status(&trailers)?;
                    return Ok(None);
                }
            }
        }
    }

    /// A whole message from `buf`, if one is there.
    fn message(&mut self) -> Result<Option<Mark>, String> {
        let Some(&[flag, a, b, c, d]) = self.buf.first_chunk::<PREFIX>() else {
            return Ok(None);
        };
        if flag != 0 {
            return Err(format!("a message with compressed flag {flag}, unasked"));
        }
        let len = u32::from_be_bytes([a, b, c, d]) as usize;
        if len > MAX_MESSAGE {
            return Err(format!("a {len}-byte message, over {MAX_MESSAGE}"));
        }
        if self.buf.len() < PREFIX + len {
            return Ok(None);
        }
        let message = self.buf.split_to(PREFIX + len);
        // Its last byte was read by now: the connection's last read is its receipt or
        // later.
        let received = self.last_read.load(Ordering::Acquire);
        Ok(Some(Mark {
            received_micros: Some(received),
            ..grpc_mark(&message[PREFIX..])?
        }))
    }
}

/// `Ok` for `grpc-status: 0`, else the status and its message.
fn grpc_status(headers: &HeaderMap) -> Result<(), String> {
    match headers.get("grpc-status").map(HeaderValue::as_bytes) {
        Some(b"0") => Ok(()),
        Some(code) => Err(format!(
            "grpc-status {}: {}",
            String::from_utf8_lossy(code),
            headers
                .get("grpc-message")
                .map(|m| String::from_utf8_lossy(m.as_bytes()))
                .unwrap_or_default()
        )),
        None => Err("no grpc-status".to_owned()),
    }
}

// ---------------------------------------------------------------------------------
// Wire.
// ---------------------------------------------------------------------------------

/// Frame kinds (PROTOCOL.md §2).
const RESPONSE: u8 = 1;
const ERROR: u8 = 2;
const PUSH: u8 = 3;
const SUBSCRIBE: u16 = 0x000C;
const UNSUBSCRIBE: u16 = 0x000D;

/// A live subscription's route.
struct Route {
    tx: mpsc::Sender<Result<Mark, String>>,
    /// The version of the last message queued, for a resync made here.
    last: u64,
}

/// What the reader routes by request id.
#[derive(Default)]
struct Routes {
    next_id: u32,
    /// SUBSCRIBEs sent and not yet answered.
    pending: HashMap<u32, (oneshot::Sender<Result<(), String>>, Route)>,
    /// Live subscriptions.
    live: HashMap<u32, Route>,
    /// Why the connection is gone, once it is.
    closed: Option<String>,
}

/// Subscriptions over one wire connection, read by one reader task.
pub struct WireSubscriber {
    writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    routes: Arc<Mutex<Routes>>,
}

impl WireSubscriber {
    /// Connects to the wire server at `addr` and exchanges hellos (no compression).
    ///
    /// # Errors
    /// If it cannot connect or the server refuses the hello.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let mut tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let offered = wire::handshake::Codecs::NONE;
        tcp.write_all(&wire::handshake::client_hello_accepting(offered))
            .await?;
        let mut hello = [0u8; wire::handshake::HELLO_LEN];
        tcp.read_exact(&mut hello).await?;
        wire::handshake::check_server_hello(&hello, offered).map_err(io::Error::other)?;
        let (read, write) = tcp.into_split();
        let writer = Arc::new(tokio::sync::Mutex::new(write));
        let routes = Arc::new(Mutex::new(Routes {
            next_id: 1,
            ..Routes::default()
        }));
        tokio::spawn(read_frames(read, Arc::clone(&routes), Arc::clone(&writer)));
        Ok(WireSubscriber { writer, routes })
    }
}

fn lock(routes: &Mutex<Routes>) -> std::sync::MutexGuard<'_, Routes> {
    routes.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request frame: header and postcard payload.
fn request_frame(opcode: u16, id: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(12 + payload.len());
    // A request here is a few bytes: far under u32::MAX.
    let length = u32::try_from(8 + payload.len()).unwrap_or(u32::MAX);
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&[wire::frame::FRAME_VERSION, 0]);
    frame.extend_from_slice(&opcode.to_be_bytes());
    frame.extend_from_slice(&id.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

#[async_trait::async_trait]
impl Subscribe for WireSubscriber {
    async fn subscribe(&self, event: EventId, from: Option<u64>) -> Result<MarkStream, String> {
        let payload = postcard::to_allocvec(&wire::messages::SubscribeRequest {
            event_id: event.0,
            from_version: from,
        })
        .map_err(|e| format!("subscribe: {e}"))?;
        let (answered, answer) = oneshot::channel();
        let (tx, rx) = mpsc::channel(QUEUE);
        let id = {
            let mut routes = lock(&self.routes);
            if let Some(why) = &routes.closed {
                return Err(format!("subscribe: {why}"));
            }
            let id = routes.next_id;
            routes.next_id = routes.next_id.wrapping_add(1).max(1);
            routes.pending.insert(id, (answered, Route { tx, last: 0 }));
            id
        };
        self.writer
            .lock()
            .await
            .write_all(&request_frame(SUBSCRIBE, id, &payload))
            .await
            .map_err(|e| format!("subscribe: {e}"))?;
        answer
            .await
            .map_err(|_| "subscribe: the connection's reader is gone".to_owned())??;
        Ok(Box::pin(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })))
    }
}

/// Reads frames until the connection ends, routing each by its request id; then fails
/// every subscription with the reason.
async fn read_frames(
    mut read: tokio::net::tcp::OwnedReadHalf,
    routes: Arc<Mutex<Routes>>,
    writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let why = loop {
        match read.read_buf(&mut buf).await {
            Ok(0) => break "the server closed the connection".to_owned(),
            Err(e) => break format!("connection: {e}"),
            Ok(_) => {}
        }
        // Every frame this read completed was received now (one clock read a read).
        let received = now_micros();
        // Every whole frame read so far, under one lock.
        let mut routes = lock(&routes);
        let mut failed = None;
        while let Some(&[a, b, c, d]) = buf.first_chunk::<4>() {
            let length = u32::from_be_bytes([a, b, c, d]) as usize;
            if !(8..=MAX_MESSAGE).contains(&length) {
                failed = Some(format!("a frame of length {length}"));
                break;
            }
            if buf.len() < 4 + length {
                buf.reserve(4 + length - buf.len());
                break;
            }
            let frame = buf.split_to(4 + length).freeze();
            if let Err(why) = route(&mut routes, &frame, received, &writer) {
                failed = Some(why);
                break;
            }
        }
        if let Some(why) = failed {
            break why;
        }
    };
    let mut routes = lock(&routes);
    for (_, (answered, _)) in routes.pending.drain() {
        let _ = answered.send(Err(why.clone()));
    }
    for (_, route) in routes.live.drain() {
        let _ = route.tx.try_send(Err(why.clone()));
    }
    routes.closed = Some(why);
}

/// Routes one whole frame (length prefix included), received at `received` (µs).
fn route(
    routes: &mut Routes,
    frame: &Bytes,
    received: i64,
    writer: &Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
) -> Result<(), String> {
    let mut header = &frame[4..];
    let version = header.get_u8();
    let kind = header.get_u8();
    let opcode = header.get_u16();
    let id = header.get_u32();
    let payload = &frame[12..];
    if version != wire::frame::FRAME_VERSION {
        return Err(format!("frame version {version}"));
    }
    match (kind, opcode) {
        (PUSH, SUBSCRIBE) => {
            let mark = Mark {
                received_micros: Some(received),
                ..wire_mark(payload)?
            };
            let Some(route) = routes.live.get_mut(&id) else {
                // A subscription resynced here: its frames until the UNSUBSCRIBE is
                // answered are expected and dropped.
                return Ok(());
            };
            // One slot stays free for the message that ends a subscription.
            if route.tx.capacity() > 1 || mark.kind == UpdateKind::Resync {
                if mark.kind != UpdateKind::Resync {
                    route.last = mark.version;
                }
                let _ = route.tx.try_send(Ok(mark));
                if mark.kind == UpdateKind::Resync {
                    routes.live.remove(&id);
                }
            } else if let Some(route) = routes.live.remove(&id) {
                let _ = route.tx.try_send(Ok(Mark {
                    kind: UpdateKind::Resync,
                    version: route.last,
                    ..mark
                }));
                // The server goes on pushing until it has this UNSUBSCRIBE; those
                // frames find no route and are dropped.
                let payload = postcard::to_allocvec(&wire::messages::UnsubscribeRequest {
                    subscription_id: id,
                })
                .map_err(|e| e.to_string())?;
                let request = routes.next_id;
                routes.next_id = routes.next_id.wrapping_add(1).max(1);
                let frame = request_frame(UNSUBSCRIBE, request, &payload);
                let writer = Arc::clone(writer);
                tokio::spawn(async move {
                    let _ = writer.lock().await.write_all(&frame).await;
                });
            }
            Ok(())
        }
        (RESPONSE, SUBSCRIBE) => {
            let (answered, route) = routes
                .pending
                .remove(&id)
                .ok_or_else(|| format!("an answer to SUBSCRIBE {id}, never sent"))?;
            routes.live.insert(id, route);
            let _ = answered.send(Ok(()));
            Ok(())
        }
        // Answers to the UNSUBSCRIBEs sent for resyncs made here need nothing.
        (RESPONSE, UNSUBSCRIBE) => Ok(()),
        (ERROR, _) => {
            let why = error_text(payload);
            if let Some((answered, _)) = routes.pending.remove(&id) {
                let _ = answered.send(Err(why));
            } else if let Some(route) = routes.live.remove(&id) {
                let _ = route.tx.try_send(Err(why));
            } else if id == 0 && opcode == 0 {
                return Err(why);
            }
            Ok(())
        }
        (kind, opcode) => Err(format!("an unexpected frame: kind {kind}, opcode {opcode}")),
    }
}

/// An ERROR frame's code and message (postcard strings), for the report.
fn error_text(mut payload: &[u8]) -> String {
    let text = |b: &mut &[u8]| -> Option<String> {
        let len = varint(b).ok()?;
        take(b, len)
            .ok()
            .map(|s| String::from_utf8_lossy(s).into_owned())
    };
    let code = text(&mut payload).unwrap_or_default();
    let message = text(&mut payload).unwrap_or_default();
    format!("{code}: {message}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn update(kind: domain::UpdateKind) -> domain::AvailabilityUpdate {
        domain::AvailabilityUpdate {
            event_id: EventId(42),
            kind,
            version: 300,
            sections: vec![
                domain::SectionCount {
                    section_id: 1,
                    available: 900,
                },
                domain::SectionCount {
                    section_id: 2,
                    available: 70_000,
                },
            ],
            seats: vec![domain::SeatChange {
                seat_id: domain::SeatId(12_345),
                state: domain::SeatState::Held,
            }],
            committed_at: chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
        }
    }

    #[test]
    fn the_lean_decoders_read_what_the_full_ones_read() {
        for kind in [UpdateKind::Change, UpdateKind::Snapshot, UpdateKind::Resync] {
            let full = update(kind);
            let want = Mark {
                kind,
                version: 300,
                committed_micros: 1_764_000_000_123_456,
                received_micros: None,
            };
            let proto = pb::AvailabilityUpdate::from(full.clone()).encode_to_vec();
            assert_eq!(grpc_mark(&proto).unwrap(), want);
            let postcard =
                postcard::to_allocvec(&wire::messages::AvailabilityUpdate::from(&full)).unwrap();
            assert_eq!(wire_mark(&postcard).unwrap(), want);
        }
    }

    #[test]
    fn malformed_updates_are_refused() {
        let full = update(UpdateKind::Change);
        let proto = pb::AvailabilityUpdate::from(full.clone()).encode_to_vec();
        assert!(grpc_mark(&proto[..proto.len() - 1]).is_err());
        assert!(grpc_mark(&[0x10, 9]).is_err(), "kind 9");
        let postcard =
            postcard::to_allocvec(&wire::messages::AvailabilityUpdate::from(&full)).unwrap();
        assert!(wire_mark(&postcard[..postcard.len() - 1]).is_err());
        let mut longer = postcard.clone();
        longer.push(0);
        assert!(wire_mark(&longer).is_err(), "a trailing byte");
        assert!(wire_mark(&[1, 7, 1, 0, 0, 0]).is_err(), "kind 7");
        // A count larger than the bytes left is refused before any loop.
        assert!(wire_mark(&[1, 0, 1, 0xff, 0xff, 0x03]).is_err());
    }
}

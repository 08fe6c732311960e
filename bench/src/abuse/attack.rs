//! One abusive connection per call: the byte-level scripts of every attack, for each
//! protocol's framing (HTTP/1.1 for REST and GraphQL, HTTP/2 with prior knowledge for
//! gRPC and for REST and GraphQL over h2c, the wire protocol's hello and frames), and
//! how the connection's end is observed: the time the server closed it and what it
//! said first (an HTTP status, a GOAWAY's error code, a wire ERROR frame's code).
//!
//! No protocol client is used here on purpose: a client library is polite (it reads,
//! answers pings, respects limits), and these connections must not be. Which limit is
//! *expected* to end each attack, and the judging, are in [`super`].

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::Attack;
use crate::protocol::Protocol;

/// What one abusive connection saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the connection was established at all.
    pub connected: bool,
    /// When the server ended the attack (closed the connection, or refused the request
    /// with its error), from the connection's start; `None` if it was still going when
    /// the attack's window ended.
    pub ended_after: Option<Duration>,
    /// Whether the server closed the connection (as opposed to answering a refusal on a
    /// connection it kept open).
    pub closed: bool,
    /// What the server said first, e.g. `HTTP 408`, `GOAWAY ENHANCE_YOUR_CALM`,
    /// `wire ERROR LIMIT_EXCEEDED`, or `silent close`.
    pub evidence: String,
}

impl Outcome {
    fn not_connected(error: &std::io::Error) -> Self {
        Outcome {
            connected: false,
            ended_after: None,
            closed: false,
            evidence: format!("connect failed: {}", error.kind()),
        }
    }
}

/// The framing an attack speaks to `protocol`'s server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Http1,
    H2,
    Wire,
}

fn framing(protocol: Protocol, attack: Attack) -> Framing {
    match protocol {
        Protocol::Wire => Framing::Wire,
        Protocol::Grpc => Framing::H2,
        _ if attack.is_h2() => Framing::H2,
        _ => Framing::Http1,
    }
}

/// What an attack targets: a large answer to make the server write, and the event it
/// is about.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The server's address.
    pub addr: SocketAddr,
    /// An event with a large seat map (the answer the no-read clients never read).
    pub big_event: u64,
}

/// Runs `attack` over one new connection to `target` for at most `window`, and says how
/// it ended.
pub async fn run(protocol: Protocol, attack: Attack, target: Target, window: Duration) -> Outcome {
    let start = Instant::now();
    // A no-read client keeps its receive buffer small, so the server's side of the
    // connection, not the client's, holds the unread answers.
    let small_window = attack == Attack::NoRead;
    let framing = framing(protocol, attack);
    // An idle HTTP/1.1 client sends nothing at all, so if the server's kernel dropped its
    // handshake (a full backlog: see `super::kernel`) neither side would ever learn of it;
    // TCP keep-alive probes make that kernel answer with a reset (they carry no data, so
    // the server's own idle timeout does not see them).
    let probe_alive = attack == Attack::Idle && framing == Framing::Http1;
    let connecting = connect(target.addr, small_window, probe_alive);
    let stream = match tokio::time::timeout(window, connecting).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return Outcome::not_connected(&error),
        Err(_) => {
            return Outcome::not_connected(&std::io::Error::from(std::io::ErrorKind::TimedOut));
        }
    };
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let deadline = start + window;
    if attack == Attack::NoRead {
        // Never read: the only way to see the server close is a write failing.
        let bytes = no_read_request(protocol, framing, target.big_event);
        return no_read(read, write, framing, &bytes, start, deadline).await;
    }
    let reader = watch(read, framing, attack.is_refusal(), start);
    let writer = script(protocol, attack, framing, target, &mut write);
    tokio::pin!(reader);
    let result = tokio::time::timeout_at(deadline.into(), async {
        tokio::select! {
            seen = &mut reader => seen,
            // The script ended (it wrote everything it had, or a write failed because
            // the server closed): only the reader can say how the connection ends.
            () = writer => reader.await,
        }
    })
    .await;
    drop(write);
    match result {
        // Reset though it never sent a byte and got none: only a kernel that has no
        // such connection resets one that is idle (a server's close is a FIN), so the
        // server never had it. Not a connection the server left open: reported apart.
        Ok(seen) if probe_alive && seen.bytes == 0 && seen.reset => Outcome {
            connected: false,
            ended_after: Some(seen.at),
            closed: true,
            evidence: "never accepted: reset on a TCP keep-alive probe".to_owned(),
        },
        Ok(seen) => Outcome {
            connected: true,
            ended_after: Some(seen.at),
            closed: seen.closed,
            evidence: seen.evidence,
        },
        Err(_) => Outcome {
            connected: true,
            ended_after: None,
            closed: false,
            evidence: "still open".to_owned(),
        },
    }
}

/// The receive buffer an HTTP/1.1 no-read client asks for: a slow-read attacker
/// advertises a tiny TCP window, so the server's writes stop making progress once its
/// send buffer is full, not after the megabytes loopback autotuning otherwise lets
/// through. Without it a busy debug-build server took 5-7 s to fill the buffers, and the
/// write-stall clock (which starts when writes stall) started that much after the
/// connection. (Not used for the wire protocol and HTTP/2, whose no-read clients are
/// not ended within the window either way yet: docs/abuse.md, known gaps.)
const NO_READ_RECV_BUFFER: u32 = 4 * 1024;

/// After how long without traffic an idle client's TCP keep-alive probes start (then
/// one a second): well before any idle limit, so a connection the server never got is
/// found out long before the limit it would otherwise seem to outlive.
const KEEPALIVE_PROBE: Duration = Duration::from_secs(5);

/// Connects to `addr`, with [`NO_READ_RECV_BUFFER`] if `small_window` (set before
/// connecting, so the window it advertises from the start is small), and TCP keep-alive
/// probes after [`KEEPALIVE_PROBE`] if `probe_alive`.
async fn connect(
    addr: SocketAddr,
    small_window: bool,
    probe_alive: bool,
) -> std::io::Result<TcpStream> {
    if !small_window {
        let stream = TcpStream::connect(addr).await?;
        if probe_alive {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(KEEPALIVE_PROBE)
                .with_interval(Duration::from_secs(1));
            // Best effort: without it a never-accepted connection shows as still open.
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
        return Ok(stream);
    }
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_recv_buffer_size(NO_READ_RECV_BUFFER)?;
    socket.connect(addr).await
}

/// What the reader saw: when the attack ended, whether by a close, the evidence, how
/// many bytes the server sent, and whether the end was a reset.
struct Seen {
    at: Duration,
    closed: bool,
    evidence: String,
    bytes: usize,
    reset: bool,
}

/// Reads everything the server sends until it closes (or, for a refusal attack, until
/// its first answer), keeping the first thing it said.
async fn watch(mut read: OwnedReadHalf, framing: Framing, refusal: bool, start: Instant) -> Seen {
    let mut seen = Vec::with_capacity(4096);
    let mut buf = vec![0u8; 16 * 1024];
    let mut evidence: Option<String> = None;
    let mut bytes = 0usize;
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) => {
                // Whether the server's answer came before the reset (it is the
                // evidence; a server that answers and closes with the client's bytes
                // unread resets) or not (a reset without an answer).
                let reset = error.kind() == std::io::ErrorKind::ConnectionReset;
                let what = if reset {
                    "reset".to_owned()
                } else {
                    format!("{}", error.kind())
                };
                let evidence = match evidence {
                    Some(answer) => format!("{answer}, then {what}"),
                    None if bytes == 0 => format!("{what}, no answer"),
                    None => format!("{what} after {bytes} bytes, no whole answer"),
                };
                return Seen {
                    at: start.elapsed(),
                    closed: true,
                    evidence,
                    bytes,
                    reset,
                };
            }
        };
        bytes += n;
        // Only the beginning matters; a large answer is read and dropped.
        if seen.len() < 256 * 1024 {
            seen.extend_from_slice(&buf[..n]);
        }
        if evidence.is_none() {
            evidence = first_word(framing, &seen);
            if refusal && evidence.is_some() {
                return Seen {
                    at: start.elapsed(),
                    closed: false,
                    evidence: evidence.unwrap_or_default(),
                    bytes,
                    reset: false,
                };
            }
        } else if let (Framing::H2, false) = (framing, refusal) {
            // A GOAWAY after other frames is still the reason.
            if let Some(goaway) = h2_goaway(&seen) {
                evidence = Some(goaway);
            }
        }
    }
    Seen {
        at: start.elapsed(),
        closed: true,
        evidence: evidence.unwrap_or_else(|| "silent close".to_owned()),
        bytes,
        reset: false,
    }
}

/// The first meaningful thing in `seen`, once there is one.
fn first_word(framing: Framing, seen: &[u8]) -> Option<String> {
    match framing {
        Framing::Http1 => http1_status(seen),
        Framing::H2 => h2_goaway(seen).or_else(|| h2_answer(seen)),
        Framing::Wire => wire_error(seen),
    }
}

/// `HTTP 431` once a status line (and, if the body has one, an error `code`) arrived.
fn http1_status(seen: &[u8]) -> Option<String> {
    let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n")?;
    let line = std::str::from_utf8(&seen[..head_end])
        .ok()?
        .lines()
        .next()?;
    let status = line.split_whitespace().nth(1)?;
    let body = String::from_utf8_lossy(&seen[head_end..]);
    let code = body
        .split("\"code\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .filter(|c| !c.is_empty());
    Some(match code {
        Some(code) => format!("HTTP {status} {code}"),
        None => format!("HTTP {status}"),
    })
}

/// HTTP/2 frames in `seen` after the server's part of the preface: (type, flags,
/// stream, payload).
fn h2_frames(seen: &[u8]) -> Vec<(u8, u8, u32, &[u8])> {
    let mut frames = Vec::new();
    let mut at = 0;
    while seen.len() >= at + 9 {
        let len = usize::from(seen[at]) << 16
            | usize::from(seen[at + 1]) << 8
            | usize::from(seen[at + 2]);
        let (kind, flags) = (seen[at + 3], seen[at + 4]);
        let stream = u32::from_be_bytes([seen[at + 5], seen[at + 6], seen[at + 7], seen[at + 8]])
            & 0x7fff_ffff;
        let Some(payload) = seen.get(at + 9..at + 9 + len) else {
            break;
        };
        frames.push((kind, flags, stream, payload));
        at += 9 + len;
    }
    frames
}

fn h2_error_name(code: u32) -> String {
    let name = match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        other => return format!("0x{other:x}"),
    };
    name.to_owned()
}

/// `GOAWAY <code>` if the server sent one.
fn h2_goaway(seen: &[u8]) -> Option<String> {
    h2_frames(seen)
        .into_iter()
        .find_map(|(kind, _, _, payload)| {
            (kind == 0x7 && payload.len() >= 8).then(|| {
                let code = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                format!("GOAWAY {}", h2_error_name(code))
            })
        })
}

/// A stream-level answer: `RST_STREAM <code>`, or `HEADERS` ending a stream (an
/// answer; its status is HPACK-encoded and not decoded here).
fn h2_answer(seen: &[u8]) -> Option<String> {
    h2_frames(seen)
        .into_iter()
        .find_map(|(kind, flags, stream, payload)| match kind {
            0x3 if payload.len() >= 4 => Some(format!(
                "RST_STREAM {}",
                h2_error_name(u32::from_be_bytes([
                    payload[0], payload[1], payload[2], payload[3]
                ]))
            )),
            0x1 if stream != 0 => Some(if flags & 0x1 != 0 {
                "HEADERS end of stream (refused)".to_owned()
            } else {
                "HEADERS (answered)".to_owned()
            }),
            _ => None,
        })
}

/// `wire ERROR <code>` from the first ERROR frame after the server's hello, or `wire
/// text` if the server answered with its text line.
fn wire_error(seen: &[u8]) -> Option<String> {
    if seen.len() >= 4 && &seen[..4] != b"QRTW" {
        return Some("wire text line".to_owned());
    }
    let mut at = 8;
    while seen.len() >= at + 4 {
        let len = u32::from_be_bytes([seen[at], seen[at + 1], seen[at + 2], seen[at + 3]]) as usize;
        let body = seen.get(at + 4..at + 4 + len)?;
        if body.len() >= 8 && body[1] & 0x7f == 2 {
            let code = postcard::from_bytes::<wire::messages::ErrorPayload>(&body[8..])
                .map_or_else(|_| "(undecodable)".to_owned(), |p| p.code);
            return Some(format!("wire ERROR {code}"));
        }
        at += 4 + len;
    }
    None
}

/// The bytes of one (protocol, attack, event) that every connection of an attack sends
/// alike, built by `build` the first time and shared after: the large ones (up to 2 MiB)
/// built per connection made the harness itself allocate and copy gigabytes during a
/// burst of 1 000, time the server's measurement does not need.
fn shared_payload(
    key: (Protocol, Attack, u64),
    build: impl FnOnce() -> Vec<u8>,
) -> std::sync::Arc<[u8]> {
    type Payloads = std::collections::HashMap<(Protocol, Attack, u64), std::sync::Arc<[u8]>>;
    static PAYLOADS: std::sync::Mutex<Option<Payloads>> = std::sync::Mutex::new(None);
    // A poisoned lock only means another connection's build panicked: the map is fine.
    let mut payloads = PAYLOADS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    std::sync::Arc::clone(
        payloads
            .get_or_insert_with(Default::default)
            .entry(key)
            .or_insert_with(|| build().into()),
    )
}

/// Writes `bytes`; `false` once the server has closed (or reset) the connection.
async fn send(write: &mut OwnedWriteHalf, bytes: &[u8]) -> bool {
    write.write_all(bytes).await.is_ok()
}

/// Writes `bytes` one byte per second, forever (the caller's window ends it).
async fn drip(write: &mut OwnedWriteHalf, bytes: &[u8]) {
    for byte in bytes.iter().cycle() {
        if !send(write, std::slice::from_ref(byte)).await {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The attack's bytes, written as the attack writes them. Returns when it has nothing
/// more to write (the reader decides the outcome) or a write failed.
async fn script(
    protocol: Protocol,
    attack: Attack,
    framing: Framing,
    target: Target,
    write: &mut OwnedWriteHalf,
) {
    let event = target.big_event;
    match (framing, attack) {
        (Framing::Http1, Attack::Slowloris) => {
            let mut request = format!("GET /v1/events/{event} HTTP/1.1\r\nhost: q\r\n");
            for i in 0..1_000 {
                let _ = write!(request, "x-slow-{i}: a\r\n");
            }
            drip(write, request.as_bytes()).await;
        }
        (Framing::Http1, Attack::BigHeaders) => {
            let request = shared_payload((protocol, attack, event), || {
                let mut request = format!("GET /v1/events/{event} HTTP/1.1\r\nhost: q\r\nx-big: ");
                request.push_str(&"a".repeat(1 << 20));
                request.push_str("\r\n\r\n");
                request.into_bytes()
            });
            send(write, &request).await;
        }
        (Framing::Http1, Attack::BigBody | Attack::BigDocument) => {
            let request = shared_payload((protocol, attack, event), || {
                let body = if attack == Attack::BigDocument {
                    big_document()
                } else {
                    format!("{{\"pad\":\"{}\"}}", " ".repeat(2 << 20))
                };
                let path = if protocol == Protocol::Rest {
                    "/v1/bookings"
                } else {
                    "/graphql"
                };
                format!(
                    "POST {path} HTTP/1.1\r\nhost: q\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            });
            send(write, &request).await;
        }
        (Framing::Wire, Attack::Slowloris) => {
            if send(write, &WIRE_HELLO).await {
                drip(write, &wire_request(7, 1, &[1])).await;
            }
        }
        (Framing::Wire, Attack::BigFrame) => {
            let mut frame = Vec::with_capacity(64 * 1024);
            frame.extend_from_slice(&WIRE_HELLO);
            frame.extend_from_slice(&(2u32 << 20).to_be_bytes());
            frame.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 1]);
            frame.resize(64 * 1024, 0);
            send(write, &frame).await;
        }
        (Framing::H2, Attack::Slowloris) => {
            // The connection preface and SETTINGS, a byte a second.
            drip(write, &h2_preface()).await;
        }
        (Framing::H2, _) => h2_script(protocol, attack, event, write).await,
        // Idle (and anything that only waits): the hello if the protocol has one, then
        // nothing. HTTP/1.1 has no handshake: the connection itself is the handshake.
        (Framing::Wire, _) => {
            send(write, &WIRE_HELLO).await;
            std::future::pending::<()>().await;
        }
        (Framing::Http1, _) => std::future::pending::<()>().await,
    }
}

/// A GraphQL request whose document is 64 KiB (twice `graphql::config::MAX_QUERY_BYTES`).
fn big_document() -> String {
    let fields = "__typename ".repeat(64 * 1024 / 11);
    format!("{{\"query\":\"{{ {fields} }}\"}}")
}

/// The client hello: protocol version 1 only, no compression.
const WIRE_HELLO: [u8; 8] = [0x51, 0x52, 0x54, 0x57, 1, 1, 0, 0];

fn wire_request(opcode: u16, request_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(12 + payload.len());
    let len = u32::try_from(8 + payload.len()).unwrap_or(u32::MAX);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&[1, 0]);
    frame.extend_from_slice(&opcode.to_be_bytes());
    frame.extend_from_slice(&request_id.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes();
    let mut frame = Vec::with_capacity(9 + payload.len());
    frame.extend_from_slice(&len[1..]);
    frame.push(kind);
    frame.push(flags);
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

fn h2_preface() -> Vec<u8> {
    let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    bytes.extend(h2_frame(0x4, 0, 0, &[]));
    bytes
}

/// An HPACK string literal (no Huffman) with a 7-bit length prefix.
fn hpack_string(out: &mut Vec<u8>, s: &[u8]) {
    hpack_int(out, 0, 7, s.len());
    out.extend_from_slice(s);
}

fn hpack_int(out: &mut Vec<u8>, first: u8, prefix: u32, value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// A header block of literal fields without indexing (new names): valid HPACK that
/// needs no table, so every request is independent of the others.
fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.push(0);
        hpack_string(&mut out, name.as_bytes());
        hpack_string(&mut out, value.as_bytes());
    }
    out
}

/// The request headers of the big answer on `protocol` over HTTP/2.
fn h2_request_headers(protocol: Protocol, event: u64, extra: &[(&str, &str)]) -> Vec<u8> {
    let path = format!("/v1/events/{event}/seats");
    let mut fields: Vec<(&str, &str)> = match protocol {
        Protocol::Grpc => vec![
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/quartet.v1.Ticketing/GetSeatMap"),
            (":authority", "q"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ],
        Protocol::Graphql => vec![
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/graphql"),
            (":authority", "q"),
            ("content-type", "application/json"),
        ],
        _ => vec![
            (":method", "GET"),
            (":scheme", "http"),
            (":path", path.as_str()),
            (":authority", "q"),
        ],
    };
    fields.extend_from_slice(extra);
    header_block(&fields)
}

/// The request body of the big answer (none for REST's GET).
fn h2_request_body(protocol: Protocol, event: u64) -> Option<Vec<u8>> {
    match protocol {
        Protocol::Grpc => {
            // GetSeatMapRequest { event_id }: field 1, varint.
            let mut message = vec![0x08];
            let mut id = event;
            while id >= 0x80 {
                message.push((id as u8 & 0x7f) | 0x80);
                id >>= 7;
            }
            message.push(id as u8);
            let mut framed = vec![0];
            framed.extend_from_slice(&u32::try_from(message.len()).unwrap_or(0).to_be_bytes());
            framed.extend(message);
            Some(framed)
        }
        Protocol::Graphql => Some(graphql_seat_map(event).into_bytes()),
        _ => None,
    }
}

fn graphql_seat_map(event: u64) -> String {
    format!(
        "{{\"query\":\"{{ event(id: \\\"{event}\\\") {{ seatMap {{ eventId version seats {{ seatId sectionId row number priceCents state }} }} }} }}\"}}"
    )
}

/// One whole request for the big answer on stream `stream`.
fn h2_request(protocol: Protocol, event: u64, stream: u32) -> Vec<u8> {
    let headers = h2_request_headers(protocol, event, &[]);
    match h2_request_body(protocol, event) {
        None => h2_frame(0x1, 0x4 | 0x1, stream, &headers),
        Some(body) => {
            let mut bytes = h2_frame(0x1, 0x4, stream, &headers);
            bytes.extend(h2_frame(0x0, 0x1, stream, &body));
            bytes
        }
    }
}

/// Batches a flood writes at once.
const FLOOD_BATCH: usize = 100;
/// Frames a flood sends at most (bounded in count as well as in time).
const FLOOD_MAX: usize = 200_000;

async fn h2_script(protocol: Protocol, attack: Attack, event: u64, write: &mut OwnedWriteHalf) {
    if !send(write, &h2_preface()).await {
        return;
    }
    match attack {
        Attack::RapidReset => {
            // HEADERS then RST_STREAM(CANCEL) at once, stream after stream (CVE-2023-44487).
            let headers = h2_request_headers(protocol, event, &[]);
            let mut stream = 1u32;
            for _ in 0..FLOOD_MAX / FLOOD_BATCH {
                let mut batch = Vec::new();
                for _ in 0..FLOOD_BATCH {
                    batch.extend(h2_frame(0x1, 0x4, stream, &headers));
                    batch.extend(h2_frame(0x3, 0, stream, &0x8u32.to_be_bytes()));
                    stream += 2;
                }
                if !send(write, &batch).await {
                    return;
                }
            }
        }
        Attack::SettingsFlood | Attack::PingFlood => {
            let frame = if attack == Attack::PingFlood {
                h2_frame(0x6, 0, 0, &[0; 8])
            } else {
                h2_frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100])
            };
            let batch = frame.repeat(FLOOD_BATCH);
            for _ in 0..FLOOD_MAX / FLOOD_BATCH {
                if !send(write, &batch).await {
                    return;
                }
            }
        }
        Attack::BigHeaders => {
            // A 64 KiB header value: four times the header-list limit, in HEADERS and
            // CONTINUATION frames of the default maximum frame size.
            let bytes = shared_payload((protocol, attack, event), || {
                let big = "a".repeat(64 * 1024);
                let block = h2_request_headers(protocol, event, &[("x-big", big.as_str())]);
                let mut bytes = Vec::new();
                let chunks: Vec<&[u8]> = block.chunks(16 * 1024).collect();
                for (i, chunk) in chunks.iter().enumerate() {
                    let kind = if i == 0 { 0x1 } else { 0x9 };
                    let flags = if i + 1 == chunks.len() { 0x4 } else { 0 };
                    bytes.extend(h2_frame(kind, flags, 1, chunk));
                }
                bytes
            });
            send(write, &bytes).await;
        }
        Attack::BigFrame => {
            // A DATA frame declaring 1 MiB: over SETTINGS_MAX_FRAME_SIZE (16 KiB).
            let mut bytes = h2_frame(0x1, 0x4, 1, &h2_request_headers(protocol, event, &[]));
            let mut data = h2_frame(0x0, 0, 1, &[]);
            data[..3].copy_from_slice(&[0x10, 0, 0]);
            bytes.extend(data);
            bytes.extend(vec![0; 16 * 1024]);
            send(write, &bytes).await;
        }
        Attack::BigBody => {
            // A body past the request limit (1 MiB): for gRPC one message declaring
            // 4 MiB, elsewhere 2 MiB of DATA. Flow control allows 64 KiB before the
            // server opens its window, which it does only while it reads the body.
            let bytes = shared_payload((protocol, attack, event), || {
                let headers = h2_request_headers(protocol, event, &[]);
                let mut bytes = h2_frame(0x1, 0x4, 1, &headers);
                let mut body = Vec::new();
                if protocol == Protocol::Grpc {
                    body.push(0);
                    body.extend_from_slice(&(4u32 << 20).to_be_bytes());
                }
                body.resize(2 << 20, b' ');
                for chunk in body.chunks(16 * 1024) {
                    bytes.extend(h2_frame(0x0, 0, 1, chunk));
                }
                bytes
            });
            send(write, &bytes).await;
        }
        // Idle after the handshake: never acknowledge the server's SETTINGS or answer
        // its pings.
        _ => std::future::pending::<()>().await,
    }
}

/// The request a no-read client repeats: the big answer.
fn no_read_request(protocol: Protocol, framing: Framing, event: u64) -> Vec<u8> {
    match framing {
        Framing::Http1 => match protocol {
            Protocol::Graphql => {
                let body = graphql_seat_map(event);
                format!(
                    "POST /graphql HTTP/1.1\r\nhost: q\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            _ => format!("GET /v1/events/{event}/seats HTTP/1.1\r\nhost: q\r\n\r\n").into_bytes(),
        },
        Framing::H2 => h2_request(protocol, event, 1),
        Framing::Wire => {
            let mut id = Vec::new();
            let mut e = event;
            while e >= 0x80 {
                id.push((e as u8 & 0x7f) | 0x80);
                e >>= 7;
            }
            id.push(e as u8);
            wire_request(7, 1, &id)
        }
    }
}

/// How often a no-read client writes another request (which is also how it notices
/// the server closed: the write after a close fails).
const NO_READ_PROBE: Duration = Duration::from_millis(250);

/// The no-read attack: requests for the big answer, never reading; more requests every
/// [`NO_READ_PROBE`] without blocking, until a write fails or the window ends.
async fn no_read(
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    framing: Framing,
    request: &[u8],
    start: Instant,
    deadline: Instant,
) -> Outcome {
    let mut first = match framing {
        Framing::Wire => WIRE_HELLO.to_vec(),
        Framing::H2 => {
            let mut bytes = h2_preface();
            // Open every window as wide as it goes, so the server writes until the
            // socket's buffers are full.
            bytes.extend(h2_frame(0x4, 0, 0, &[0, 4, 0x7f, 0xff, 0xff, 0xff]));
            bytes.extend(h2_frame(0x8, 0, 0, &0x7fff_0000u32.to_be_bytes()));
            bytes
        }
        Framing::Http1 => Vec::new(),
    };
    first.extend_from_slice(request);
    let mut write = write;
    if let Err(error) = write.write_all(&first).await {
        return closed_outcome(start, &no_read_end(&error));
    }
    let mut sequence: u32 = 1;
    // Bytes of earlier probes a full socket did not take yet: written before anything
    // new, so a partial write never cuts a frame in two.
    let mut unsent: Vec<u8> = Vec::new();
    let mut watch_errors = true;
    loop {
        if Instant::now() >= deadline {
            drop(read);
            return Outcome {
                connected: true,
                ended_after: None,
                closed: false,
                evidence: "still open".to_owned(),
            };
        }
        // The end is seen when it comes, not at the next probe: a reset (the server
        // closing with this client's requests unread, which is how every limit ends a
        // no-read connection) raises an error on the socket at once.
        let alarmed = tokio::select! {
            () = tokio::time::sleep(NO_READ_PROBE) => false,
            _ = write.ready(Interest::ERROR), if watch_errors => true,
        };
        if alarmed {
            match write.as_ref().take_error() {
                Ok(Some(error)) | Err(error) => return closed_outcome(start, &no_read_end(&error)),
                // Readiness without an error to take: the probes' writes will tell.
                Ok(None) => watch_errors = false,
            }
        }
        if unsent.is_empty() {
            let requests = if framing == Framing::H2 {
                NO_READ_H2_BATCH
            } else {
                1
            };
            for _ in 0..requests {
                sequence = sequence.wrapping_add(1);
                unsent.extend(probe(framing, request, sequence));
            }
        }
        match write.try_write(&unsent) {
            Ok(n) => {
                unsent.drain(..n);
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return closed_outcome(start, &no_read_end(&error)),
        }
    }
}

/// Requests an HTTP/2 no-read client sends per probe. One gRPC seat map is about
/// 44 KB, and the server's kernel takes megabytes into its send buffer (autotuned up
/// to `tcp_wmem`'s maximum, 4 MiB here) before a write blocks; at one request per
/// probe that took longer than the attack's window, so the write-stall clock had not
/// even started. Streams finish as their answers are buffered, so the server's stream
/// limit is not reached. More per probe fills the buffer sooner but, over 1 000
/// connections, turns the attack into a load test of seat-map encoding.
const NO_READ_H2_BATCH: u32 = 4;

/// The no-read client's `sequence`th request: `request` with a fresh stream id
/// (HTTP/2) or request id (wire).
fn probe(framing: Framing, request: &[u8], sequence: u32) -> Vec<u8> {
    let mut bytes = request.to_vec();
    match framing {
        Framing::H2 => {
            // A new stream id each time; past the server's stream limit it refuses
            // streams, which is fine: the write is the probe.
            let stream = sequence.wrapping_mul(2).wrapping_add(1) & 0x7fff_ffff;
            bytes[5..9].copy_from_slice(&stream.to_be_bytes());
            if bytes.len() > 9 {
                let headers_len = usize::from(bytes[0]) << 16
                    | usize::from(bytes[1]) << 8
                    | usize::from(bytes[2]);
                if let Some(data) = bytes.get_mut(9 + headers_len + 5..9 + headers_len + 9) {
                    data.copy_from_slice(&stream.to_be_bytes());
                }
            }
        }
        Framing::Wire => bytes[8..12].copy_from_slice(&sequence.to_be_bytes()),
        Framing::Http1 => {}
    }
    bytes
}

/// How a no-read connection's end reads in the report: a reset, or the write error.
fn no_read_end(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::ConnectionReset => "reset".to_owned(),
        kind => format!("write failed: {kind}"),
    }
}

fn closed_outcome(start: Instant, evidence: &str) -> Outcome {
    Outcome {
        connected: true,
        ended_after: Some(start.elapsed()),
        closed: true,
        evidence: evidence.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_http_status_and_error_code() {
        let seen = b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 9\r\n\r\n{\"code\":\"LIMIT_EXCEEDED\"}";
        assert_eq!(
            http1_status(seen).as_deref(),
            Some("HTTP 413 LIMIT_EXCEEDED")
        );
        assert_eq!(http1_status(b"HTTP/1.1 408"), None, "no head yet");
    }

    #[test]
    fn finds_a_goaway_after_other_frames() {
        let mut seen = h2_frame(0x4, 0, 0, &[]);
        seen.extend(h2_frame(0x7, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 0xb]));
        assert_eq!(
            h2_goaway(&seen).as_deref(),
            Some("GOAWAY ENHANCE_YOUR_CALM")
        );
    }

    #[test]
    fn hpack_integers_use_continuation_bytes() {
        let mut out = Vec::new();
        hpack_int(&mut out, 0, 7, 1337);
        assert_eq!(out, [0x7f, 0xba, 0x09]);
    }

    #[test]
    fn reads_a_wire_error_frame() {
        let payload = postcard::to_allocvec(&wire::error::to_payload(
            &domain::Error::limit_exceeded("frame bytes", 1u64 << 20),
        ))
        .unwrap_or_default();
        let mut seen = vec![0x51, 0x52, 0x54, 0x57, 1, 0, 0, 0];
        let len = u32::try_from(8 + payload.len()).unwrap_or(0);
        seen.extend_from_slice(&len.to_be_bytes());
        seen.extend_from_slice(&[1, 2, 0, 0, 0, 0, 0, 0]);
        seen.extend(payload);
        assert_eq!(
            wire_error(&seen).as_deref(),
            Some("wire ERROR LIMIT_EXCEEDED")
        );
    }
}

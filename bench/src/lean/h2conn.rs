//! A minimal HTTP/2 client connection for one request shape: unary gRPC calls, each a
//! HEADERS frame and one DATA frame out, HEADERS, DATA and trailers back. It is the
//! lean gRPC client's default transport ([`super::grpc`]); the `h2` crate's connection
//! stays for `QUARTET_LEAN_GRPC=h2` and for the `watch` scenario's streams.
//!
//! Why not the `h2` crate: profiled on the load core, its connection task (a store of
//! per-stream state behind a lock, a `HeaderMap` and a `Request` per call, HPACK through
//! its general encoder, a waker per stream per state change, flow-control bookkeeping on
//! every frame) cost more client CPU per call than `h2load`'s whole request. Here:
//!
//! - one driver task per connection owns the socket, the HPACK decoder and the stream
//!   table; workers hand it a request through a slot of shared state (one uncontended
//!   lock per call start and per answer) and are woken once, when their answer is whole;
//! - request headers are HPACK-encoded once per connection: the first request indexes
//!   each field in the server's dynamic table (as `h2load` does), later ones refer to
//!   it, one byte per field; a block is cached until the table changes;
//! - the client announces the largest windows, so the server never waits for a
//!   WINDOW_UPDATE and the client sends one per gigabyte read;
//! - a round of requests is written in one `write`, as `h2load` writes one: it
//!   completes every answer a read brought, then writes every request those answers'
//!   callers started. Here the driver completes a read's answers, wakes their callers
//!   and yields at once (it wakes itself: it runs again after the callers, which queue
//!   their next calls without waking it), then frames and writes them all; it yields
//!   again while answers keep arriving (up to [`MAX_YIELDS`] times). A call queued
//!   outside a round yields once before it leaves, so that callers already runnable
//!   join it (as netkit's `CoalesceWrites` does for the `h2` crate's clients).
//!
//! What it checks, as any HTTP/2 client must: frame sizes, padding, the HPACK blocks
//! (every block is decoded in order, so the dynamic table stays right), CONTINUATION
//! sequences, the server's SETTINGS (acknowledged; its concurrent-stream limit, initial
//! window, frame size and header table size are obeyed), PINGs (answered), its send
//! window (requests wait for WINDOW_UPDATE), RST_STREAM (that call fails), GOAWAY (new
//! calls and streams past its last id fail as a lost connection; the others finish).
//! A protocol error or a lost connection fails every call in flight at once.
//!
//! What does not live here: what an answer must be (status 200, `grpc-status` 0, one
//! message, the id asked for): [`super::grpc`] and [`super::grpc_check`] judge the
//! [`Answer`] handed back.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::h2frames::{self as frames, Head, code, flag, kind, setting};
use super::hpack;

/// The windows this client announces: the largest HTTP/2 allows.
const WINDOW: u32 = frames::MAX_WINDOW;

/// Read buffer size: several of the largest frames the server may send.
const READ_BUFFER: usize = 256 << 10;

/// The largest header block accepted (HEADERS plus CONTINUATIONs).
const MAX_HEADER_BLOCK: usize = 256 << 10;

/// The most times a round's write waits for callers answered meanwhile to queue their
/// next call: as `h2load` reads until the socket is drained before it writes, a round
/// leaves whole while answers keep arriving, and never waits more than this.
const MAX_YIELDS: u32 = 8;

/// The most DATA one answer may carry: the largest message and its gRPC prefix.
const MAX_ANSWER: usize = super::grpc::MAX_MESSAGE + 5;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The connection is gone (or going): open another before the next call.
    Connection(String),
    /// This call failed; the connection is fine.
    Call(String),
}

/// One answer as it came: the HTTP status, the gRPC status and message (from the
/// trailers, or from the headers of a trailers-only answer), the answer's
/// `grpc-encoding`, and its DATA bytes (the length-prefixed message, unparsed). Kept by
/// the caller and reused: its buffers are swapped with the connection's, not copied.
#[derive(Debug, Default)]
pub struct Answer {
    /// `:status`, 0 when absent.
    pub status: u16,
    /// `grpc-status`, when present (`Some(Err)` for a value that is not a number).
    pub grpc_status: Option<Result<u32, ()>>,
    /// `grpc-message`, raw (empty when absent).
    pub grpc_message: Vec<u8>,
    /// `grpc-encoding`, raw (empty when absent).
    pub encoding: Vec<u8>,
    /// Whether the first HEADERS ended the stream (a trailers-only answer).
    pub trailers_only: bool,
    /// The DATA frames' payloads, in order.
    pub data: Vec<u8>,
}

impl Answer {
    fn clear(&mut self) {
        self.status = 0;
        self.grpc_status = None;
        self.grpc_message.clear();
        self.encoding.clear();
        self.trailers_only = false;
        self.data.clear();
    }

    /// Records one response header field.
    fn field(&mut self, name: &[u8], value: &[u8]) {
        match name {
            b":status" => {
                self.status = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            }
            b"grpc-status" => {
                self.grpc_status = Some(
                    std::str::from_utf8(value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or(()),
                );
            }
            b"grpc-message" => {
                self.grpc_message.clear();
                self.grpc_message.extend_from_slice(value);
            }
            b"grpc-encoding" => {
                self.encoding.clear();
                self.encoding.extend_from_slice(value);
            }
            _ => {}
        }
    }
}

/// The request headers of every call, as (name, value) fields after the pseudo-headers
/// `:method POST`, `:scheme` and `:path` (one of `paths`): `:authority`,
/// `content-type`, `te`, and whatever the run adds (`grpc-accept-encoding`,
/// `authorization`, sent never-indexed).
#[derive(Debug)]
pub struct RequestHeaders {
    /// The `:path` of each RPC a caller may name (by index).
    pub paths: Vec<Vec<u8>>,
    /// The other fields, in order: (name, value, whether it is sensitive).
    pub fields: Vec<(Vec<u8>, Vec<u8>, bool)>,
}

/// What a worker hands the driver: a call to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not calling.
    Idle,
    /// Waiting for the driver to send it.
    Queued,
    /// Sent; its answer is arriving.
    Open,
    /// Answered (or failed): the caller may take it.
    Done,
}

/// One caller's place in the connection.
#[derive(Debug)]
struct Slot {
    /// The call's number: an answer to an earlier call (abandoned) is dropped.
    seq: u64,
    state: State,
    /// Whether the slot's index is in `Shared::pending` (at most once).
    in_queue: bool,
    headers: Arc<RequestHeaders>,
    path: usize,
    /// The framed request message.
    request: Vec<u8>,
    answer: Answer,
    error: Option<CallError>,
    waker: Option<Waker>,
}

/// What the driver and the callers share, behind one lock taken once per call start
/// and once per batch of frames read.
#[derive(Debug)]
struct Shared {
    slots: Vec<Slot>,
    free: Vec<usize>,
    pending: VecDeque<usize>,
    /// The driver's waker, while it waits.
    driver: Option<Waker>,
    /// Why new calls cannot start (GOAWAY, a lost connection, a protocol error).
    closed: Option<String>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic elsewhere leaves the state consistent enough to fail calls with.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A handle to one framed connection; cloning shares it. When the last handle is
/// dropped, the driver says GOAWAY and closes the socket.
#[derive(Debug)]
pub struct FramedConn {
    shared: Arc<Mutex<Shared>>,
}

impl Clone for FramedConn {
    fn clone(&self) -> Self {
        FramedConn {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for FramedConn {
    fn drop(&mut self) {
        // The driver looks at the handle count when it runs.
        if let Some(waker) = lock(&self.shared).driver.take() {
            waker.wake();
        }
    }
}

impl FramedConn {
    /// Connects to `addr` (through TLS when given: ALPN h2), writes the preface and
    /// spawns the connection's driver.
    ///
    /// # Errors
    /// If it cannot connect or the TLS handshake fails.
    pub async fn open(addr: SocketAddr, tls: Option<&netkit::tls::Connector>) -> io::Result<Self> {
        let https = tls.is_some();
        let io = super::stream::dial(addr, tls).await?;
        Ok(Self::spawn(io, https, addr.to_string()))
    }

    /// Starts a connection over `io` (already connected), `https` naming the scheme.
    pub fn spawn<S>(io: S, https: bool, peer: String) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let shared = Arc::new(Mutex::new(Shared {
            slots: Vec::new(),
            free: Vec::new(),
            pending: VecDeque::new(),
            driver: None,
            closed: None,
        }));
        let mut driver = Driver::new(io, Arc::clone(&shared), https);
        tokio::spawn(async move {
            let result = poll_fn(|cx| driver.poll(cx)).await;
            driver.fail_all(&result);
            if let Err(e) = result {
                tracing::debug!("lean gRPC connection to {peer} ended: {e}");
            }
        });
        FramedConn { shared }
    }

    /// Takes a slot for one caller making one call at a time with `headers`.
    pub fn register(&self, headers: Arc<RequestHeaders>) -> usize {
        let mut shared = lock(&self.shared);
        let mut slot = Slot {
            seq: 0,
            state: State::Idle,
            in_queue: false,
            headers,
            path: 0,
            request: Vec::with_capacity(64),
            answer: Answer::default(),
            error: None,
            waker: None,
        };
        if let Some(index) = shared.free.pop() {
            // An old call's place in the queue stays accounted for; its seq moves on.
            if let Some(old) = shared.slots.get(index) {
                slot.in_queue = old.in_queue;
                slot.seq = old.seq + 1;
            }
            shared.slots[index] = slot;
            index
        } else {
            shared.slots.push(slot);
            shared.slots.len() - 1
        }
    }

    /// Gives `slot` back (its caller is gone).
    pub fn release(&self, slot: usize) {
        let mut shared = lock(&self.shared);
        if let Some(s) = shared.slots.get_mut(slot) {
            // An answer still in flight lands nowhere: its seq no longer matches.
            s.seq += 1;
            s.state = State::Idle;
            s.waker = None;
            shared.free.push(slot);
        }
    }

    /// Why new calls fail, once the connection is closing or gone.
    pub fn closed(&self) -> Option<String> {
        lock(&self.shared).closed.clone()
    }

    /// Calls `paths[path]` with `message` (framed) on `slot`, and swaps the answer into
    /// `answer` (its old buffers go back to the connection for the next call).
    ///
    /// # Errors
    /// A lost or closing connection ([`CallError::Connection`]), or a stream reset or
    /// a malformed answer ([`CallError::Call`]). The answer's statuses are the caller's
    /// to judge.
    pub async fn call(
        &self,
        slot: usize,
        path: usize,
        message: &[u8],
        answer: &mut Answer,
    ) -> Result<(), CallError> {
        // One lock to queue the call and leave this caller's waker, another when the
        // answer is in: the first poll does both of the first.
        let mut queued = false;
        poll_fn(|cx| {
            let mut shared = lock(&self.shared);
            if !queued {
                queued = true;
                if let Some(why) = &shared.closed {
                    return Poll::Ready(Err(CallError::Connection(why.clone())));
                }
                let Some(s) = shared.slots.get_mut(slot) else {
                    return Poll::Ready(Err(CallError::Call(format!("no slot {slot}"))));
                };
                s.seq += 1;
                s.state = State::Queued;
                s.path = path;
                s.request.clear();
                s.request.extend_from_slice(message);
                s.answer.clear();
                s.error = None;
                if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    s.waker = Some(cx.waker().clone());
                }
                let enqueue = !s.in_queue;
                s.in_queue = true;
                if enqueue {
                    shared.pending.push_back(slot);
                }
                let driver = shared.driver.take();
                drop(shared);
                if let Some(waker) = driver {
                    waker.wake();
                }
                return Poll::Pending;
            }
            let Some(s) = shared.slots.get_mut(slot) else {
                return Poll::Ready(Err(CallError::Call(format!("no slot {slot}"))));
            };
            if s.state != State::Done {
                if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    s.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            s.state = State::Idle;
            std::mem::swap(&mut s.answer, answer);
            Poll::Ready(s.error.take().map_or(Ok(()), Err))
        })
        .await
    }
}

/// The request-side HPACK state: which fields the server's table holds, newest last.
/// Entries are only added while they fit the table (never evicted), so an entry's index
/// is 62 plus the number of entries added after it.
#[derive(Debug)]
struct Encoder {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    size: usize,
    /// The most the server's table may hold (its SETTINGS_HEADER_TABLE_SIZE, at most
    /// the default).
    limit: usize,
    /// A size update owed at the start of the next block (the server shrank its table).
    size_update: bool,
    /// Blocks already built for the current entries: (headers, path, block).
    cache: Vec<(usize, usize, Vec<u8>)>,
    https: bool,
}

impl Encoder {
    fn new(https: bool) -> Self {
        Encoder {
            entries: Vec::new(),
            size: 0,
            limit: hpack::DEFAULT_TABLE_SIZE,
            size_update: false,
            cache: Vec::new(),
            https,
        }
    }

    /// The server announced a table of `size` bytes.
    fn table_size(&mut self, size: usize) {
        let size = size.min(hpack::DEFAULT_TABLE_SIZE);
        if size < self.size {
            // Start over: tell the server to empty its table, then use `size`.
            self.entries.clear();
            self.size = 0;
            self.size_update = true;
            self.cache.clear();
        }
        self.limit = size;
    }

    /// Appends the header block of a call to `headers.paths[path]`.
    fn encode(&mut self, headers: &Arc<RequestHeaders>, path: usize, out: &mut Vec<u8>) {
        let id = Arc::as_ptr(headers) as usize;
        if let Some((_, _, block)) = self.cache.iter().find(|c| c.0 == id && c.1 == path) {
            out.extend_from_slice(block);
            return;
        }
        let before = self.entries.len();
        let mut block = Vec::with_capacity(64);
        if self.size_update {
            self.size_update = false;
            hpack::put_integer(&mut block, 0x20, 5, 0);
            hpack::put_integer(&mut block, 0x20, 5, self.limit);
        }
        // :method POST and :scheme are in the static table.
        block.push(0x83);
        block.push(if self.https { 0x87 } else { 0x86 });
        let path_bytes = headers.paths.get(path).map_or(&b"/"[..], Vec::as_slice);
        self.field(&mut block, b":path", path_bytes, false);
        for (name, value, sensitive) in &headers.fields {
            self.field(&mut block, name, value, *sensitive);
        }
        out.extend_from_slice(&block);
        if self.entries.len() == before {
            self.cache.push((id, path, block));
        } else {
            // Every cached index moved.
            self.cache.clear();
        }
    }

    fn field(&mut self, out: &mut Vec<u8>, name: &[u8], value: &[u8], sensitive: bool) {
        if let Some(pos) = self
            .entries
            .iter()
            .position(|(n, v)| n == name && v == value)
        {
            let index = 62 + (self.entries.len() - 1 - pos);
            hpack::put_integer(out, 0x80, 7, index);
            return;
        }
        let name_index = static_name(name);
        let size = name.len() + value.len() + 32;
        if !sensitive && self.size + size <= self.limit {
            // Literal with incremental indexing.
            hpack::put_integer(out, 0x40, 6, name_index);
            self.entries.push((name.to_vec(), value.to_vec()));
            self.size += size;
        } else {
            // Never indexed (a secret) or without indexing (no room).
            let flags = if sensitive { 0x10 } else { 0x00 };
            hpack::put_integer(out, flags, 4, name_index);
        }
        if name_index == 0 {
            hpack::put_string(out, name);
        }
        hpack::put_string(out, value);
    }
}

/// The static table index of a request field's name, 0 when it has none.
fn static_name(name: &[u8]) -> usize {
    match name {
        b":authority" => 1,
        b":path" => 4,
        b"authorization" => 23,
        b"content-type" => 31,
        b"user-agent" => 58,
        _ => 0,
    }
}

/// Hashes a stream id by one multiplication: the ids are the client's own odd
/// numbers, so SipHash's protection against chosen keys buys nothing here, and it was
/// a visible part of each answer's cost (five lookups per call).
#[derive(Debug, Default)]
struct StreamIdHasher(u64);

impl Hasher for StreamIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, id: u32) {
        // Odd ids: halved, consecutive ones fill the low bits (the bucket) one by one,
        // and the multiplication mixes the high bits (the tag).
        self.0 = u64::from(id >> 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The open streams, by id.
type Streams = HashMap<u32, Stream, BuildHasherDefault<StreamIdHasher>>;

/// A header block being read across CONTINUATION frames.
#[derive(Debug)]
struct Continuing {
    stream: u32,
    end_stream: bool,
    block: Vec<u8>,
}

/// An open stream: whose call it carries.
#[derive(Debug, Clone, Copy)]
struct Stream {
    slot: usize,
    seq: u64,
    /// Whether its first HEADERS has come (a second one is the trailers).
    headers: bool,
}

/// The connection's task: owns the socket and everything about the protocol.
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent flags of one state machine, read on every poll"
)]
struct Driver<S> {
    io: S,
    shared: Arc<Mutex<Shared>>,
    read: Vec<u8>,
    read_start: usize,
    read_end: usize,
    out: Vec<u8>,
    written: usize,
    decoder: hpack::Decoder,
    encoder: Encoder,
    streams: Streams,
    next_stream: u32,
    continuing: Option<Continuing>,
    /// The server's SETTINGS.
    max_concurrent: usize,
    initial_window: usize,
    max_frame: usize,
    /// How much more DATA this client may send on the connection.
    send_window: i64,
    /// DATA bytes read since the last connection WINDOW_UPDATE.
    unacked: usize,
    /// GOAWAY's last stream id, once one came.
    goaway: Option<u32>,
    /// How often this round's write has yielded so far.
    yields: u32,
    /// Whether answers came in since the last yield (their callers will queue more).
    answered: bool,
    /// Whether queued calls wait for a stream to end or a limit to rise.
    blocked: bool,
    /// Callers to wake after the lock is released.
    wake: Vec<Waker>,
    eof: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    fn new(io: S, shared: Arc<Mutex<Shared>>, https: bool) -> Self {
        let mut out = Vec::with_capacity(16 << 10);
        frames::put_preface(&mut out, WINDOW);
        Driver {
            io,
            shared,
            read: vec![0; READ_BUFFER],
            read_start: 0,
            read_end: 0,
            out,
            written: 0,
            decoder: hpack::Decoder::default(),
            encoder: Encoder::new(https),
            streams: Streams::default(),
            next_stream: 1,
            continuing: None,
            max_concurrent: usize::MAX,
            initial_window: 65_535,
            max_frame: frames::DEFAULT_MAX_FRAME,
            send_window: 65_535,
            unacked: 0,
            goaway: None,
            yields: 0,
            answered: false,
            blocked: false,
            wake: Vec::new(),
            eof: false,
        }
    }

    /// Runs the connection until it ends: `Ok` when every handle is gone, `Err` with
    /// why it ended otherwise (a GOAWAY once its streams are done, a lost connection, a
    /// protocol error).
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), String>> {
        loop {
            let mut progress = false;
            // Read what the socket has and act on its frames.
            if !self.eof {
                match self.poll_read(cx) {
                    Poll::Ready(Ok(0)) => self.eof = true,
                    Poll::Ready(Ok(_)) => progress = true,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
            let result = self.frames();
            if !self.wake.is_empty() {
                self.answered = true;
            }
            self.wake_callers();
            result?;
            if self.eof {
                return Poll::Ready(Err(self.closed_reason("the server closed the connection")));
            }
            let users = Arc::strong_count(&self.shared) > 1;
            let idle = self.out.len() == self.written;
            let (has_pending, yielding) = {
                let mut shared = lock(&self.shared);
                let has_pending = !shared.pending.is_empty();
                // Gather a round before framing it. Callers answered since the last yield
                // are runnable and will queue their next calls: yield at once, without
                // waiting for the first of them to wake this task (as `h2load` completes
                // a read's answers, then writes every request they started). A call
                // queued from outside a round (the first ones, a caller back from a
                // failure) yields once too, so that others already runnable join it.
                let yielding = idle
                    && ((self.answered && self.yields < MAX_YIELDS)
                        || (has_pending && !self.blocked && self.yields == 0));
                if yielding {
                    // This task polls itself again: callers queuing meanwhile need not
                    // wake it.
                    shared.driver = None;
                } else if !shared
                    .driver
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    shared.driver = Some(cx.waker().clone());
                }
                (has_pending, yielding)
            };
            if yielding {
                self.yields += 1;
                self.answered = false;
            } else if has_pending && !self.blocked && idle {
                self.yields = 0;
                self.answered = false;
                self.send_pending();
                self.wake_callers();
            } else if !has_pending {
                // Nothing came of the last yields: the next call starts a round afresh.
                self.yields = 0;
            }
            // Write what is queued.
            while self.written < self.out.len() {
                match Pin::new(&mut self.io).poll_write(cx, &self.out[self.written..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err("the connection stopped taking writes".into()));
                    }
                    Poll::Ready(Ok(n)) => {
                        self.written += n;
                        progress = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(format!("write: {e}"))),
                    Poll::Pending => break,
                }
            }
            if self.written == self.out.len() {
                self.out.clear();
                self.written = 0;
                if !users {
                    // Every handle is gone: say goodbye (best effort) and close.
                    frames::put_goaway(&mut self.out, code::NO_ERROR);
                    let _ = Pin::new(&mut self.io).poll_write(cx, &self.out);
                    return Poll::Ready(Ok(()));
                }
                if self.goaway.is_some() && self.streams.is_empty() {
                    return Poll::Ready(Err(self.closed_reason("GOAWAY")));
                }
            }
            if yielding {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Wakes the callers whose answers were completed (after the lock is released).
    fn wake_callers(&mut self) {
        for waker in self.wake.drain(..) {
            waker.wake();
        }
    }

    /// Why new calls fail, or `otherwise`.
    fn closed_reason(&self, otherwise: &str) -> String {
        lock(&self.shared)
            .closed
            .clone()
            .unwrap_or_else(|| otherwise.into())
    }

    /// Reads once into the buffer; `Ok(0)` at end of stream.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize, String>> {
        if self.read_start == self.read_end {
            (self.read_start, self.read_end) = (0, 0);
        } else if self.read_start > READ_BUFFER / 2 {
            self.read.copy_within(self.read_start..self.read_end, 0);
            (self.read_start, self.read_end) = (0, self.read_end - self.read_start);
        }
        if self.read_end == self.read.len() {
            // Full of one frame's bytes; `frames` makes room by taking it.
            return Poll::Pending;
        }
        let mut buf = ReadBuf::new(&mut self.read[self.read_end..]);
        match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                self.read_end += n;
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(format!("read: {e}"))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Acts on every whole frame in the read buffer.
    fn frames(&mut self) -> Result<(), String> {
        if self.read_end - self.read_start < frames::HEADER_LEN {
            return Ok(());
        }
        // The buffer is lent out while its frames are read, so a payload can be read in
        // place while the driver's other fields change.
        let read = std::mem::take(&mut self.read);
        let shared = Arc::clone(&self.shared);
        let mut shared = lock(&shared);
        let result = self.frames_in(&mut shared, &read);
        drop(shared);
        self.read = read;
        result
    }

    fn frames_in(&mut self, shared: &mut Shared, read: &[u8]) -> Result<(), String> {
        while let Some(head) = frames::head(&read[self.read_start..self.read_end]) {
            if head.len > frames::DEFAULT_MAX_FRAME {
                return Err(self.protocol(
                    code::FRAME_SIZE_ERROR,
                    &format!("a {}-byte frame", head.len),
                ));
            }
            let start = self.read_start + frames::HEADER_LEN;
            if self.read_end - start < head.len {
                break;
            }
            self.read_start = start + head.len;
            if let Err(why) = self.frame(shared, head, &read[start..start + head.len]) {
                let error = if why.starts_with("HPACK") {
                    code::COMPRESSION_ERROR
                } else {
                    code::PROTOCOL_ERROR
                };
                return Err(self.protocol(error, &why));
            }
        }
        Ok(())
    }

    /// Queues a GOAWAY for a protocol error and returns its message.
    fn protocol(&mut self, error: u32, why: &str) -> String {
        frames::put_goaway(&mut self.out, error);
        format!(
            "HTTP/2 protocol error ({}): {why}",
            frames::code_name(error)
        )
    }

    /// Acts on one frame.
    fn frame(&mut self, shared: &mut Shared, head: Head, payload: &[u8]) -> Result<(), String> {
        if let Some(c) = &self.continuing
            && (head.kind != kind::CONTINUATION || head.stream != c.stream)
        {
            return Err("a header block interrupted before its CONTINUATION".into());
        }
        match head.kind {
            kind::DATA => {
                self.unacked += head.len;
                if self.unacked >= (WINDOW / 2) as usize {
                    // Unsigned 31 bits: `unacked` is under WINDOW here.
                    frames::put_window_update(&mut self.out, 0, self.unacked as u32);
                    self.unacked = 0;
                }
                let range = frames::unpadded(&head, payload)?;
                let payload = &payload[range];
                let stream = head.stream;
                let Some(s) = self.streams.get(&stream).copied() else {
                    return Ok(());
                };
                if let Some(slot) = live(shared, s) {
                    if slot.answer.data.len() + payload.len() > MAX_ANSWER {
                        if slot.error.is_none() {
                            slot.error = Some(CallError::Call(format!(
                                "an answer over {} bytes",
                                super::grpc::MAX_MESSAGE
                            )));
                        }
                    } else {
                        slot.answer.data.extend_from_slice(payload);
                    }
                }
                if head.flags & flag::END_STREAM != 0 {
                    self.end(shared, stream, s);
                }
            }
            kind::HEADERS => {
                if head.stream == 0 || head.stream.is_multiple_of(2) {
                    return Err(format!("HEADERS on stream {}", head.stream));
                }
                let range = frames::unpadded(&head, payload)?;
                let block = &payload[range];
                let end_stream = head.flags & flag::END_STREAM != 0;
                if head.flags & flag::END_HEADERS == 0 {
                    self.continuing = Some(Continuing {
                        stream: head.stream,
                        end_stream,
                        block: block.to_vec(),
                    });
                } else {
                    self.headers(shared, head.stream, end_stream, block)?;
                }
            }
            kind::CONTINUATION => {
                let Some(mut c) = self.continuing.take() else {
                    return Err("CONTINUATION without HEADERS".into());
                };
                c.block.extend_from_slice(payload);
                if c.block.len() > MAX_HEADER_BLOCK {
                    return Err(format!("a header block over {MAX_HEADER_BLOCK} bytes"));
                }
                if head.flags & flag::END_HEADERS == 0 {
                    self.continuing = Some(c);
                } else {
                    self.headers(shared, c.stream, c.end_stream, &c.block)?;
                }
            }
            kind::RST_STREAM => {
                let payload: &[u8; 4] = payload
                    .first_chunk()
                    .filter(|_| head.len == 4)
                    .ok_or("RST_STREAM not 4 bytes")?;
                let error = u32::from_be_bytes(*payload);
                if let Some(s) = self.streams.get(&head.stream).copied() {
                    if let Some(slot) = live(shared, s) {
                        slot.error = Some(CallError::Call(format!(
                            "stream reset by the server: {}",
                            frames::code_name(error)
                        )));
                    }
                    self.end(shared, head.stream, s);
                }
            }
            kind::SETTINGS => {
                if head.stream != 0 || !head.len.is_multiple_of(6) {
                    return Err("a malformed SETTINGS frame".into());
                }
                if head.flags & flag::ACK == 0 {
                    self.blocked = false;
                    for pair in payload.chunks_exact(6) {
                        let id = u16::from_be_bytes([pair[0], pair[1]]);
                        let value = u32::from_be_bytes([pair[2], pair[3], pair[4], pair[5]]);
                        self.setting(id, value)?;
                    }
                    frames::put_settings_ack(&mut self.out);
                }
            }
            kind::PING => {
                let payload: &[u8; 8] = payload
                    .first_chunk()
                    .filter(|_| head.len == 8)
                    .ok_or("PING not 8 bytes")?;
                if head.flags & flag::ACK == 0 {
                    frames::put_ping_ack(&mut self.out, *payload);
                }
            }
            kind::GOAWAY => {
                let (Some(last), Some(error)) = (
                    payload.first_chunk::<4>(),
                    payload.get(4..8).and_then(|b| b.first_chunk::<4>()),
                ) else {
                    return Err("GOAWAY under 8 bytes".into());
                };
                let last = u32::from_be_bytes(*last) & frames::MAX_WINDOW;
                let error = u32::from_be_bytes(*error);
                let debug = String::from_utf8_lossy(&payload[8..]);
                let why = if debug.is_empty() {
                    format!("GOAWAY from the server: {}", frames::code_name(error))
                } else {
                    format!(
                        "GOAWAY from the server: {}: {debug}",
                        frames::code_name(error)
                    )
                };
                self.goaway = Some(last);
                self.close(shared, &why, Some(last));
            }
            kind::WINDOW_UPDATE => {
                let payload: &[u8; 4] = payload
                    .first_chunk()
                    .filter(|_| head.len == 4)
                    .ok_or("WINDOW_UPDATE not 4 bytes")?;
                let increment = u32::from_be_bytes(*payload) & frames::MAX_WINDOW;
                if head.stream == 0 {
                    self.blocked = false;
                    self.send_window += i64::from(increment);
                    if self.send_window > i64::from(frames::MAX_WINDOW) {
                        return Err("the send window past 2^31 - 1 (FLOW_CONTROL_ERROR)".into());
                    }
                }
                // Stream windows: every request is sent whole when its stream opens.
            }
            kind::PUSH_PROMISE => return Err("PUSH_PROMISE after disabling push".into()),
            // PRIORITY and unknown types are ignored, as RFC 9113 asks.
            _ => {}
        }
        Ok(())
    }

    /// Applies one of the server's settings.
    fn setting(&mut self, id: u16, value: u32) -> Result<(), String> {
        match id {
            setting::HEADER_TABLE_SIZE => self.encoder.table_size(value as usize),
            setting::MAX_CONCURRENT_STREAMS => self.max_concurrent = value as usize,
            setting::INITIAL_WINDOW_SIZE => {
                if value > frames::MAX_WINDOW {
                    return Err("an initial window past 2^31 - 1 (FLOW_CONTROL_ERROR)".into());
                }
                self.initial_window = value as usize;
            }
            setting::MAX_FRAME_SIZE => {
                if !(frames::DEFAULT_MAX_FRAME as u32..=0xff_ffff).contains(&value) {
                    return Err(format!("SETTINGS_MAX_FRAME_SIZE {value}"));
                }
                self.max_frame = value as usize;
            }
            _ => {}
        }
        Ok(())
    }

    /// A whole header block for `stream`: decoded (always: it may change the table),
    /// then recorded on its call.
    fn headers(
        &mut self,
        shared: &mut Shared,
        stream: u32,
        end_stream: bool,
        block: &[u8],
    ) -> Result<(), String> {
        let s = self.streams.get(&stream).copied();
        let slot = s.and_then(|s| live(shared, s));
        let first = s.is_some_and(|s| !s.headers);
        match slot {
            Some(slot) => {
                let answer = &mut slot.answer;
                self.decoder
                    .decode(block, |name, value| answer.field(name, value))
                    .map_err(|e| format!("HPACK: {e}"))?;
                if first && end_stream {
                    answer.trailers_only = true;
                }
                if !first && !end_stream {
                    slot.error = Some(CallError::Call("trailers without END_STREAM".into()));
                }
            }
            None => self
                .decoder
                .decode(block, |_, _| {})
                .map_err(|e| format!("HPACK: {e}"))?,
        }
        if let Some(mut s) = s {
            s.headers = true;
            self.streams.insert(stream, s);
            if end_stream {
                self.end(shared, stream, s);
            }
        }
        Ok(())
    }

    /// `stream` is over: its call is answered.
    fn end(&mut self, shared: &mut Shared, stream: u32, s: Stream) {
        self.streams.remove(&stream);
        self.blocked = false;
        if let Some(slot) = live(shared, s) {
            slot.state = State::Done;
            if let Some(waker) = slot.waker.take() {
                self.wake.push(waker);
            }
        }
    }

    /// No new calls: every queued one, and every stream past `last` (all of them
    /// without one), fail with `why` as a lost connection.
    fn close(&mut self, shared: &mut Shared, why: &str, last: Option<u32>) {
        if shared.closed.is_none() {
            shared.closed = Some(why.to_owned());
        }
        while let Some(index) = shared.pending.pop_front() {
            if let Some(slot) = shared.slots.get_mut(index) {
                slot.in_queue = false;
                if slot.state == State::Queued {
                    fail(slot, why, &mut self.wake);
                }
            }
        }
        let doomed: Vec<u32> = self
            .streams
            .keys()
            .copied()
            .filter(|&id| last.is_none_or(|last| id > last))
            .collect();
        for id in doomed {
            if let Some(s) = self.streams.remove(&id)
                && let Some(slot) = live(shared, s)
            {
                fail(slot, why, &mut self.wake);
            }
        }
    }

    /// The connection ended with `result`: every call still waiting fails.
    fn fail_all(&mut self, result: &Result<(), String>) {
        let why = match result {
            Ok(()) => "the connection was closed".to_owned(),
            Err(e) => e.clone(),
        };
        let shared = Arc::clone(&self.shared);
        let mut shared = lock(&shared);
        self.close(&mut shared, &why, None);
        shared.closed = Some(why);
        drop(shared);
        self.wake_callers();
    }

    /// Frames the queued calls that the server's limits let start now; the rest wait
    /// (`blocked`) until a stream ends or the server raises a limit.
    fn send_pending(&mut self) {
        let shared = Arc::clone(&self.shared);
        let mut shared = lock(&shared);
        let shared = &mut *shared;
        while let Some(&index) = shared.pending.front() {
            if self.streams.len() >= self.max_concurrent {
                self.blocked = true;
                break;
            }
            let Some(slot) = shared.slots.get_mut(index) else {
                shared.pending.pop_front();
                continue;
            };
            if slot.state != State::Queued {
                slot.in_queue = false;
                shared.pending.pop_front();
                continue;
            }
            let len = slot.request.len();
            if len > self.initial_window {
                slot.in_queue = false;
                slot.state = State::Done;
                slot.error = Some(CallError::Call(format!(
                    "a {len}-byte request over the server's {}-byte stream window",
                    self.initial_window
                )));
                if let Some(w) = slot.waker.take() {
                    self.wake.push(w);
                }
                shared.pending.pop_front();
                continue;
            }
            if i64::try_from(len).unwrap_or(i64::MAX) > self.send_window {
                // Wait for the server's WINDOW_UPDATE.
                self.blocked = true;
                break;
            }
            if self.next_stream > frames::MAX_WINDOW {
                self.close(shared, "stream ids exhausted", None);
                return;
            }
            shared.pending.pop_front();
            let stream = self.next_stream;
            self.next_stream += 2;
            slot.in_queue = false;
            slot.state = State::Open;
            self.send_window -= i64::try_from(len).unwrap_or(i64::MAX);
            self.put_request(stream, &slot.headers, slot.path, &slot.request);
            let seq = slot.seq;
            self.streams.insert(
                stream,
                Stream {
                    slot: index,
                    seq,
                    headers: false,
                },
            );
        }
    }

    /// Appends a call's HEADERS (and CONTINUATIONs past the frame size), then its DATA.
    fn put_request(
        &mut self,
        stream: u32,
        headers: &Arc<RequestHeaders>,
        path: usize,
        message: &[u8],
    ) {
        let mark = self.out.len();
        frames::put_head(&mut self.out, 0, kind::HEADERS, 0, stream);
        let block_start = self.out.len();
        self.encoder.encode(headers, path, &mut self.out);
        let block_len = self.out.len() - block_start;
        if block_len <= self.max_frame {
            // The usual case: patch the length and END_HEADERS into the header above.
            let head = &mut self.out[mark..block_start];
            head[..3].copy_from_slice(&(block_len as u32).to_be_bytes()[1..]);
            head[4] = flag::END_HEADERS;
        } else {
            let block = self.out.split_off(block_start);
            self.out.truncate(mark);
            let mut chunks = block.chunks(self.max_frame).peekable();
            let mut frame_kind = kind::HEADERS;
            while let Some(chunk) = chunks.next() {
                let flags = if chunks.peek().is_none() {
                    flag::END_HEADERS
                } else {
                    0
                };
                frames::put_head(&mut self.out, chunk.len(), frame_kind, flags, stream);
                self.out.extend_from_slice(chunk);
                frame_kind = kind::CONTINUATION;
            }
        }
        let mut chunks = message.chunks(self.max_frame).peekable();
        while let Some(chunk) = chunks.next() {
            let flags = if chunks.peek().is_none() {
                flag::END_STREAM
            } else {
                0
            };
            frames::put_head(&mut self.out, chunk.len(), kind::DATA, flags, stream);
            self.out.extend_from_slice(chunk);
        }
    }
}

/// The slot of `s`'s call, if that call is still the slot's current one.
fn live(shared: &mut Shared, s: Stream) -> Option<&mut Slot> {
    shared
        .slots
        .get_mut(s.slot)
        .filter(|slot| slot.seq == s.seq && slot.state == State::Open)
}

/// Fails `slot`'s call as a lost connection.
fn fail(slot: &mut Slot, why: &str, wake: &mut Vec<Waker>) {
    slot.state = State::Done;
    slot.error = Some(CallError::Connection(why.to_owned()));
    if let Some(waker) = slot.waker.take() {
        wake.push(waker);
    }
}

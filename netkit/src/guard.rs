//! [`Guarded`]: the connection-level limits hyper, h2 and tonic leave to the server,
//! as one wrapper around an accepted connection's stream (inside TLS, so it sees what
//! the HTTP layer sees). Every HTTP server in the workspace wraps its connections in it:
//! REST and GraphQL (HTTP/1.1 and h2c, `http_server`) and gRPC (`grpc::incoming`).
//!
//! - **Write stall** ([`GuardConfig::write_stall_timeout`]): a write (or flush) that has
//!   made no progress for this long fails with `TimedOut`, which ends the connection.
//!   hyper has no write timeout, so an HTTP/1.1 client that never reads its responses
//!   was held open forever; and h2's own way out of a peer that does not read (a
//!   keep-alive ping timing out) sends a GOAWAY and waits, also forever, to flush it.
//!   Any byte accepted by the socket resets the clock: a slow reader is not a stalled one.
//! - **HTTP/2 handshake deadline** ([`GuardConfig::first_byte_timeout`],
//!   [`GuardConfig::handshake_timeout`]): when the first bytes are the HTTP/2 connection
//!   preface, the preface and the frame after it (the client's SETTINGS) must have
//!   arrived within `handshake_timeout` of the first byte, and the first byte within
//!   `first_byte_timeout` of the connection's start. Neither hyper-util's protocol
//!   sniffing (it waits for 24 bytes, or the first one that differs) nor h2's handshake
//!   has a deadline, so a client dribbling the preface (slowloris), or sending nothing at
//!   all, held its connection forever. Bytes that are not the preface (HTTP/1.1) end
//!   the guard's interest: hyper's own HTTP/1 timers take over from there.
//! - **HTTP/2 control-frame budget** ([`GuardConfig::max_control_frames`] per
//!   [`GuardConfig::control_frame_window`]): every PING and SETTINGS frame (not an ACK)
//!   obliges the server to write an acknowledgement. h2 keeps at most one pending, so a
//!   flood that does not read is held by backpressure (and then by the write stall), but
//!   one that reads its ACKs costs the server CPU for as long as it likes: h2 and hyper
//!   have no bound on it. Past the budget the read fails and the connection ends. The
//!   count is a fixed window: no legitimate client (keep-alive or BDP pings: a few a
//!   second at most) comes near 10 a second, and every frame under the budget is work
//!   a flood gets done, so the budget is kept small (see
//!   `config::HTTP2_MAX_CONTROL_FRAMES`).
//!
//! - **Send budget** ([`Guarded::with_send_budget`]): the guard follows the frames the
//!   server writes and releases, in the connection's [`ConnectionBudget`], the DATA
//!   payload bytes the socket accepted, and all of them when the connection ends, so
//!   answers charged by their bodies (`crate::send_budget`) are counted until they are
//!   really written. A server that writes before reading anything speaks HTTP/2 (an
//!   HTTP/1.1 server never speaks first); after HTTP/1.1 bytes every byte written counts.
//! - **Reads wait while writes are blocked** (with a send budget): once a write returns
//!   `Pending` (the socket's buffer is full: the peer is not reading), the guard reads
//!   nothing more from the connection until a write makes progress again. h2 reads a
//!   connection's frames whether or not it can write, so a client that sends requests
//!   and never reads kept having them accepted after its socket filled, up to
//!   `max_concurrent_streams` (256) per connection, each stream held by h2 (its call,
//!   then its unwritten answer or refusal) until written. Now a connection that stopped
//!   reading opens no more streams: its later requests wait in the kernel's receive
//!   queue. A client that reads is not held back: its reads free the socket, the next
//!   write makes progress, reading resumes (and while the socket is full the server
//!   could not write an answer to a new request anyway). What this does not bound: the
//!   streams a client opens before its socket fills (at most `max_concurrent_streams`
//!   per connection); the servers keep that short by capping what the kernel holds
//!   unsent (`crate::config::MAX_UNSENT_BYTES`, `TCP_NOTSENT_LOWAT`), so the socket is
//!   full after a few answers, not megabytes. The budget counts blocked connections and held reads
//!   ([`crate::send_budget::SendBudget::write_blocked`],
//!   [`crate::send_budget::SendBudget::held_reads`]).
//!
//! [`Guarded::write_stall_only`] keeps the write stall alone, for a server that is not
//! HTTP: the wire protocol's wraps the write half of every connection in it.
//!
//! A guard ends a connection by failing an I/O call; the HTTP layer then drops it, so the
//! peer sees the socket close (no GOAWAY: a wrapper under h2 cannot write frames).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::send_budget::ConnectionBudget;

/// The HTTP/2 connection preface a client starts with (RFC 9113, section 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// HTTP/2 frame types that oblige the server to write an acknowledgement.
const FRAME_SETTINGS: u8 = 0x4;
const FRAME_PING: u8 = 0x6;
/// The ACK flag of SETTINGS and PING.
const FLAG_ACK: u8 = 0x1;
/// The frame type whose payload is an answer's bytes.
const FRAME_DATA: u8 = 0x0;

/// The limits a [`Guarded`] stream enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    /// How long a write may make no progress before the connection is ended.
    pub write_stall_timeout: Duration,
    /// How long after the connection's start (after TLS, if any) the first byte may
    /// take: the idle keep-alive timeout on a server that also speaks HTTP/1.1 (a fresh
    /// connection is an idle one), the header-read timeout on an HTTP/2-only one.
    pub first_byte_timeout: Duration,
    /// How long after its first byte the HTTP/2 preface and the first frame may take.
    pub handshake_timeout: Duration,
    /// Most PING and SETTINGS frames (not ACKs) a client may send per window.
    pub max_control_frames: u32,
    /// The window [`GuardConfig::max_control_frames`] counts in.
    pub control_frame_window: Duration,
}

impl GuardConfig {
    /// The limits `server` and `http2` name, the first byte due within
    /// `first_byte_timeout`.
    pub fn new(
        server: &crate::ServerConfig,
        http2: &crate::Http2Config,
        first_byte_timeout: Duration,
    ) -> Self {
        GuardConfig {
            write_stall_timeout: server.write_stall_timeout,
            first_byte_timeout,
            handshake_timeout: server.header_read_timeout,
            max_control_frames: http2.max_control_frames,
            control_frame_window: http2.control_frame_window,
        }
    }
}

/// Where the read side is in the HTTP/2 framing.
#[derive(Debug)]
enum Phase {
    /// Matching the connection preface; `seen` bytes of it so far.
    Preface { seen: usize },
    /// Past the preface: reading frame headers (`header_len` bytes of one so far) and
    /// skipping payloads (`skip` bytes left). `handshaken` once the first frame is whole.
    Frames {
        header: [u8; 9],
        header_len: usize,
        skip: usize,
        handshaken: bool,
    },
    /// Not HTTP/2 (or the guard has nothing more to watch).
    Passthrough,
}

/// A stream with the limits of [`GuardConfig`]; see the module docs.
#[derive(Debug)]
pub struct Guarded<S> {
    inner: S,
    config: GuardConfig,
    phase: Phase,
    /// The handshake deadline, until the handshake is done or the bytes are not HTTP/2.
    handshake: Option<Pin<Box<Sleep>>>,
    /// Control frames counted in the current window, and when the window started.
    control_frames: u32,
    window_start: Instant,
    /// When a write first returned `Pending` without progress since, and the sleep
    /// that ends the connection if none comes.
    stalled: Option<Pin<Box<Sleep>>>,
    /// The connection's send budget and where the written bytes are in the framing.
    written: Option<WriteSide>,
}

/// What the write side follows for a send budget.
#[derive(Debug)]
struct WriteSide {
    budget: Arc<ConnectionBudget>,
    /// Decided at the first write.
    framing: Option<OutFraming>,
    /// The last write-side poll returned `Pending`: reads wait (see the module docs).
    blocked: bool,
    /// The reader waiting for a write to make progress.
    reader: Option<Waker>,
}

impl WriteSide {
    /// Follows a write-side poll: `Pending` blocks reads, progress unblocks them.
    fn polled(&mut self, ready: bool) {
        if ready != self.blocked {
            return;
        }
        self.blocked = !ready;
        self.budget.set_write_blocked(self.blocked);
        if ready && let Some(reader) = self.reader.take() {
            reader.wake();
        }
    }
}

/// How the bytes the server writes are framed.
#[derive(Debug)]
enum OutFraming {
    /// HTTP/2: a frame header (`header_len` bytes of it so far), then `left` bytes of
    /// payload, answer bytes if `data`.
    Frames {
        header: [u8; 9],
        header_len: usize,
        left: usize,
        data: bool,
    },
    /// HTTP/1.1: every byte is part of an answer.
    Plain,
}

impl OutFraming {
    /// How many of `bytes`, just written, were answer (DATA payload) bytes.
    fn answer_bytes(&mut self, mut bytes: &[u8]) -> usize {
        let OutFraming::Frames {
            header,
            header_len,
            left,
            data,
        } = self
        else {
            return bytes.len();
        };
        let mut answer = 0;
        while !bytes.is_empty() {
            if *left > 0 {
                let n = bytes.len().min(*left);
                if *data {
                    answer += n;
                }
                *left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = bytes.len().min(9 - *header_len);
            header[*header_len..*header_len + n].copy_from_slice(&bytes[..n]);
            *header_len += n;
            bytes = &bytes[n..];
            if *header_len == 9 {
                *header_len = 0;
                *left = usize::from(header[0]) << 16
                    | usize::from(header[1]) << 8
                    | usize::from(header[2]);
                *data = header[3] == FRAME_DATA;
            }
        }
        answer
    }
}

impl Drop for WriteSide {
    fn drop(&mut self) {
        // The connection is gone, and h2's buffers with it.
        if self.blocked {
            self.budget.set_write_blocked(false);
        }
        self.budget.close();
    }
}

impl<S> Guarded<S> {
    /// Wraps a just-accepted (or just TLS-handshaken) connection.
    pub fn new(inner: S, config: GuardConfig) -> Self {
        let now = Instant::now();
        Guarded {
            inner,
            config,
            phase: Phase::Preface { seen: 0 },
            handshake: Some(Box::pin(tokio::time::sleep_until(
                now + config.first_byte_timeout,
            ))),
            control_frames: 0,
            window_start: now,
            stalled: None,
            written: None,
        }
    }

    /// Releases answer bytes in `budget` as they are written (see the module docs), and
    /// all of them when this stream is dropped; and reads wait while writes are blocked.
    #[must_use]
    pub fn with_send_budget(mut self, budget: Arc<ConnectionBudget>) -> Self {
        self.written = Some(WriteSide {
            budget,
            framing: None,
            blocked: false,
            reader: None,
        });
        self
    }

    /// Follows the first `written` bytes of `bufs`, just accepted by the stream, for the
    /// send budget.
    fn wrote<'a>(&mut self, bufs: impl IntoIterator<Item = &'a [u8]>, mut written: usize) {
        let Some(side) = &mut self.written else {
            return;
        };
        let framing = side.framing.get_or_insert(match self.phase {
            Phase::Passthrough => OutFraming::Plain,
            Phase::Preface { .. } | Phase::Frames { .. } => OutFraming::Frames {
                header: [0; 9],
                header_len: 0,
                left: 0,
                data: false,
            },
        });
        let mut answer = 0;
        for buf in bufs {
            if written == 0 {
                break;
            }
            let n = buf.len().min(written);
            answer += framing.answer_bytes(&buf[..n]);
            written -= n;
        }
        side.budget.release(answer);
    }

    /// Wraps a connection (or one half of it) for the write stall alone: no handshake
    /// deadline, no HTTP/2 framing watched. For a protocol that is not HTTP (the wire
    /// server), which has deadlines of its own for what it reads.
    pub fn write_stall_only(inner: S, write_stall_timeout: Duration) -> Self {
        Guarded {
            inner,
            config: GuardConfig {
                write_stall_timeout,
                // Never consulted: the phase below watches nothing and sets no deadline.
                first_byte_timeout: Duration::MAX,
                handshake_timeout: Duration::MAX,
                max_control_frames: u32::MAX,
                control_frame_window: Duration::MAX,
            },
            phase: Phase::Passthrough,
            handshake: None,
            control_frames: 0,
            window_start: Instant::now(),
            stalled: None,
            written: None,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Follows the framing through `bytes` just read; an error ends the connection.
    fn inspect(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match &mut self.phase {
                Phase::Passthrough => return Ok(()),
                Phase::Preface { seen } => {
                    let first = *seen == 0;
                    let n = bytes.len().min(H2_PREFACE.len() - *seen);
                    if bytes[..n] != H2_PREFACE[*seen..*seen + n] {
                        // HTTP/1.1 (or garbage the server refuses itself).
                        self.phase = Phase::Passthrough;
                        self.handshake = None;
                        return Ok(());
                    }
                    *seen += n;
                    bytes = &bytes[n..];
                    if first {
                        let deadline = Instant::now() + self.config.handshake_timeout;
                        if let Some(sleep) = &mut self.handshake
                            && deadline < sleep.deadline()
                        {
                            sleep.as_mut().reset(deadline);
                        }
                    }
                    if *seen == H2_PREFACE.len() {
                        self.phase = Phase::Frames {
                            header: [0; 9],
                            header_len: 0,
                            skip: 0,
                            handshaken: false,
                        };
                    }
                }
                Phase::Frames {
                    header,
                    header_len,
                    skip,
                    ..
                } => {
                    if *skip > 0 {
                        let n = bytes.len().min(*skip);
                        *skip -= n;
                        bytes = &bytes[n..];
                    } else {
                        let n = bytes.len().min(9 - *header_len);
                        header[*header_len..*header_len + n].copy_from_slice(&bytes[..n]);
                        *header_len += n;
                        bytes = &bytes[n..];
                        if *header_len < 9 {
                            continue;
                        }
                        *header_len = 0;
                        *skip = usize::from(header[0]) << 16
                            | usize::from(header[1]) << 8
                            | usize::from(header[2]);
                        let (kind, flags) = (header[3], header[4]);
                        if matches!(kind, FRAME_SETTINGS | FRAME_PING) && flags & FLAG_ACK == 0 {
                            self.count_control_frame()?;
                        }
                    }
                    // The first frame (the client's SETTINGS) is whole: the handshake is
                    // done, and with it the deadline.
                    if let Phase::Frames {
                        header_len: 0,
                        skip: 0,
                        handshaken: handshaken @ false,
                        ..
                    } = &mut self.phase
                    {
                        *handshaken = true;
                        self.handshake = None;
                    }
                }
            }
        }
        Ok(())
    }

    fn count_control_frame(&mut self) -> io::Result<()> {
        let now = Instant::now();
        if now.duration_since(self.window_start) >= self.config.control_frame_window {
            self.window_start = now;
            self.control_frames = 0;
        }
        self.control_frames += 1;
        if self.control_frames > self.config.max_control_frames {
            return Err(io::Error::other(format!(
                "more than {} HTTP/2 PING and SETTINGS frames in {:?}",
                self.config.max_control_frames, self.config.control_frame_window
            )));
        }
        Ok(())
    }

    /// After a write-side poll: progress (or an error) clears the stall; `Pending`
    /// starts it, or ends the connection once it has lasted the timeout.
    fn after_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if let Some(side) = &mut self.written {
            side.polled(polled.is_ready());
        }
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.config.write_stall_timeout;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        // Polled here so the task wakes at the deadline even if the socket never does.
        if sleep.as_mut().poll(cx).is_ready() {
            self.stalled = None;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no write progress for {limit:?}: the peer is not reading"),
            )));
        }
        Poll::Pending
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let held = match &mut self.written {
            Some(side) if side.blocked => {
                // Woken by the write that makes progress (see the module docs).
                side.reader = Some(cx.waker().clone());
                side.budget.read_held();
                true
            }
            _ => false,
        };
        let polled = if held {
            Poll::Pending
        } else {
            Pin::new(&mut self.inner).poll_read(cx, buf)
        };
        match polled {
            Poll::Ready(Ok(())) => {
                self.inspect(&buf.filled()[before..])?;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // Polled here so the task wakes at the deadline even if no byte comes.
                if let Some(sleep) = &mut self.handshake
                    && sleep.as_mut().poll(cx).is_ready()
                {
                    self.handshake = None;
                    self.phase = Phase::Passthrough;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no HTTP/2 preface and SETTINGS (or no first byte) in time",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.wrote([buf], n);
        }
        self.after_write(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            self.wrote(bufs.iter().map(|b| &**b), n);
        }
        self.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.after_write(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.after_write(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    //! On tokio's paused clock: a timer fires when every task is idle, at its deadline to
    //! the instant, so nothing here depends on how loaded the machine is.

    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    use super::*;
    use crate::send_budget::{SendBudget, SendBudgetConfig};

    const SHORT: Duration = Duration::from_millis(200);

    fn config() -> GuardConfig {
        GuardConfig {
            write_stall_timeout: SHORT,
            first_byte_timeout: SHORT * 2,
            handshake_timeout: SHORT,
            max_control_frames: 10,
            control_frame_window: Duration::from_secs(60),
        }
    }

    /// A guarded server end and the client end of an in-memory connection.
    fn pair(buffer: usize) -> (Guarded<DuplexStream>, DuplexStream) {
        let (server, client) = tokio::io::duplex(buffer);
        (Guarded::new(server, config()), client)
    }

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut bytes = len[1..].to_vec();
        bytes.extend_from_slice(&[kind, flags, 0, 0, 0, 0]);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// Reads until the stream fails; the error, and how long after the call it came.
    async fn read_until_error(server: &mut Guarded<DuplexStream>) -> (io::Error, Duration) {
        let started = Instant::now();
        let mut buf = [0u8; 64];
        let outcome = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match server.read(&mut buf).await {
                    Ok(0) => panic!("ended without an error"),
                    Ok(_) => {}
                    Err(e) => return e,
                }
            }
        })
        .await
        .expect("the guard never ended the connection");
        (outcome, started.elapsed())
    }

    /// Writes more than the peer's buffer takes while it reads nothing: the write fails
    /// with `TimedOut` exactly one stall timeout after the buffer filled.
    async fn assert_write_stalls<S: AsyncWrite + Unpin>(server: &mut Guarded<S>) {
        let started = Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(10), server.write_all(&[0u8; 4096]))
            .await
            .expect("the stall timeout fired")
            .expect_err("nobody reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), SHORT);
    }

    /// Nothing arrives on `server` for `quiet`: neither bytes nor a deadline's error.
    async fn assert_quiet<S: AsyncRead + Unpin>(server: &mut Guarded<S>, quiet: Duration) {
        let mut buf = [0u8; 8];
        let read = tokio::time::timeout(quiet, server.read(&mut buf)).await;
        assert!(read.is_err(), "{read:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_never_reads_fails_after_the_stall_timeout() {
        let (mut server, _client) = pair(64);
        assert_write_stalls(&mut server).await;
    }

    #[tokio::test(start_paused = true)]
    async fn write_stall_only_ends_a_stalled_write_and_watches_nothing_else() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = Guarded::write_stall_only(server, SHORT);
        // A preface dribbled, then silence: no handshake deadline applies.
        client.write_all(&H2_PREFACE[..5]).await.unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_quiet(&mut server, SHORT * 3).await;
        // The write stall does.
        assert_write_stalls(&mut server).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_keeps_reading_is_never_stalled() {
        let (mut server, mut client) = pair(64);
        // Ten times the stall timeout in all, with a read every tenth of it: the clock
        // restarts at every byte the peer takes.
        let reader = tokio::spawn(async move {
            let mut total = 0;
            let mut buf = [0u8; 64];
            while total < 100 * 64 {
                tokio::time::sleep(SHORT / 10).await;
                total += client.read(&mut buf).await.unwrap();
            }
        });
        server.write_all(&[0u8; 100 * 64]).await.unwrap();
        reader.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_dribbled_preface_is_cut_at_the_handshake_deadline() {
        let (mut server, mut client) = pair(1024);
        client.write_all(&H2_PREFACE[..5]).await.unwrap();
        let (error, after) = read_until_error(&mut server).await;
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        // The handshake timeout from the first byte, not the first-byte timeout.
        assert_eq!(after, SHORT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_sends_nothing_is_cut_at_the_first_byte_deadline() {
        let (mut server, _client) = pair(1024);
        let (error, after) = read_until_error(&mut server).await;
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(after, SHORT * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_finished_handshake_or_http1_bytes_lift_the_deadline() {
        for first in [
            [
                H2_PREFACE.as_slice(),
                &frame(FRAME_SETTINGS, 0, &[0, 3, 0, 0, 0, 100]),
            ]
            .concat(),
            b"GET / HTTP/1.1\r\nho".to_vec(),
        ] {
            let (mut server, mut client) = pair(1024);
            client.write_all(&first).await.unwrap();
            let mut buf = vec![0u8; first.len()];
            server.read_exact(&mut buf).await.unwrap();
            // Then silence for five handshake deadlines: nothing fails.
            assert_quiet(&mut server, SHORT * 5).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_ping_flood_is_cut_past_the_budget_and_acks_do_not_count() {
        let (mut server, mut client) = pair(64 * 1024);
        let mut bytes = H2_PREFACE.to_vec();
        bytes.extend(frame(FRAME_SETTINGS, 0, &[]));
        // Acknowledgements are free; then the budget (10, the SETTINGS included).
        for _ in 0..100 {
            bytes.extend(frame(FRAME_PING, FLAG_ACK, &[0; 8]));
            bytes.extend(frame(FRAME_SETTINGS, FLAG_ACK, &[]));
        }
        for _ in 0..9 {
            bytes.extend(frame(FRAME_PING, 0, &[0; 8]));
        }
        client.write_all(&bytes).await.unwrap();
        let mut buf = vec![0u8; bytes.len()];
        server.read_exact(&mut buf).await.unwrap();
        // One more, split across two reads, is over the budget.
        let ping = frame(FRAME_PING, 0, &[0; 8]);
        client.write_all(&ping[..4]).await.unwrap();
        server.read_exact(&mut buf[..4]).await.unwrap();
        client.write_all(&ping[4..]).await.unwrap();
        let (error, _) = read_until_error(&mut server).await;
        assert_eq!(error.kind(), io::ErrorKind::Other, "{error}");
    }

    /// Polls `server` once for a write of `bytes` and once for a read: what each gave.
    async fn poll_once(
        server: &mut Guarded<DuplexStream>,
        bytes: Option<&[u8]>,
    ) -> Poll<io::Result<usize>> {
        std::future::poll_fn(|cx| {
            Poll::Ready(if let Some(bytes) = bytes {
                Pin::new(&mut *server).poll_write(cx, bytes)
            } else {
                let mut buf = [0u8; 64];
                let mut read = ReadBuf::new(&mut buf);
                Pin::new(&mut *server)
                    .poll_read(cx, &mut read)
                    .map_ok(|()| read.filled().len())
            })
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn reads_wait_while_writes_are_blocked() {
        let budget = SendBudget::new(SendBudgetConfig {
            shared: 0,
            per_connection: 0,
            wait: SHORT,
        });
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = Guarded::new(server, config()).with_send_budget(budget.connection());
        let hello = [H2_PREFACE.as_slice(), &frame(FRAME_SETTINGS, 0, &[])].concat();
        client.write_all(&hello).await.unwrap();
        let mut buf = vec![0u8; hello.len()];
        server.read_exact(&mut buf).await.unwrap();
        // The server writes more than the peer takes: its second write is blocked.
        let answer = [0u8; 100];
        assert!(matches!(
            poll_once(&mut server, Some(&answer)).await,
            Poll::Ready(Ok(64))
        ));
        assert!(
            poll_once(&mut server, Some(&answer[64..]))
                .await
                .is_pending()
        );
        assert_eq!(budget.write_blocked(), 1);
        // The peer's next request is there, but not read while the write is blocked.
        client.write_all(b"request").await.unwrap();
        assert!(poll_once(&mut server, None).await.is_pending());
        assert_eq!(budget.held_reads(), 1);
        // The peer reads: the write makes progress, and reading resumes.
        let mut taken = [0u8; 64];
        client.read_exact(&mut taken).await.unwrap();
        assert!(matches!(
            poll_once(&mut server, Some(&answer[64..])).await,
            Poll::Ready(Ok(36))
        ));
        assert_eq!(budget.write_blocked(), 0);
        assert!(matches!(
            poll_once(&mut server, None).await,
            Poll::Ready(Ok(7))
        ));
        // A blocked connection that ends leaves the gauge.
        assert!(matches!(
            poll_once(&mut server, Some(&[0u8; 64])).await,
            Poll::Ready(Ok(28))
        ));
        assert!(poll_once(&mut server, Some(&[0u8; 64])).await.is_pending());
        assert_eq!(budget.write_blocked(), 1);
        drop(server);
        assert_eq!(budget.write_blocked(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_is_released_by_data_written_and_all_at_the_end() {
        let budget = SendBudget::new(SendBudgetConfig {
            shared: 1 << 20,
            per_connection: 0,
            wait: SHORT,
        });
        let connection = budget.connection();
        let (server, mut client) = tokio::io::duplex(64 * 1024);
        let mut server = Guarded::new(server, config()).with_send_budget(Arc::clone(&connection));
        assert!(connection.try_charge(3000));
        // The server speaks first (HTTP/2): SETTINGS, then a HEADERS frame and 1 000
        // DATA bytes, written in pieces that split the frame headers.
        let written = [
            frame(FRAME_SETTINGS, 0, &[0; 6]),
            frame(0x1, 0x4, &[0; 50]),
            frame(FRAME_DATA, 0, &[7; 1000]),
        ]
        .concat();
        for piece in written.chunks(5) {
            server.write_all(piece).await.unwrap();
        }
        assert_eq!(connection.outstanding(), 2000);
        let mut sink = vec![0u8; written.len()];
        client.read_exact(&mut sink).await.unwrap();
        drop(server);
        assert_eq!(connection.outstanding(), 0);
        assert_eq!(budget.outstanding(), 0);
        assert!(!connection.try_charge(1), "the connection has ended");
    }
}

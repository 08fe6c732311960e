//! Two HTTP/1.1 timers that hyper folds into one, pulled apart.
//!
//! hyper's `header_read_timeout` starts when the server begins waiting for a request
//! head, which on a keep-alive connection is right after the previous response. So a
//! connection that idles between requests for longer than the header-read timeout is
//! closed, without notice, and a client that reuses it from its pool gets a broken pipe.
//! We want a short deadline for a client that *started* a request and dribbles its
//! headers (slowloris), and a long one for a connection that is merely idle.
//!
//! hyper lets the server supply its own [`Timer`]. [`ConnectionTimer`] is one per
//! connection; [`ReadClocked`] wraps that connection's stream and records when the first
//! byte of a request arrives: the first byte read since the server last wrote (a
//! response), or since the connection opened. (Not "since hyper started waiting": hyper-
//! util's protocol sniffing reads the first bytes before hyper's timer exists.) The
//! timer's sleep ends at `first byte + header_read_timeout` once a byte has arrived, and
//! at `start + idle_timeout` while none has.
//!
//! Known edge: bytes of the next request that arrived before the previous response was
//! written (pipelining) count from that write, not from their arrival, so a pipelined
//! head gets up to one response time more. The connection cap bounds such clients.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// When the first byte of the current request arrived: the first read since the last
/// write, or since the connection opened. Lock-free, since every read and write of the
/// connection touches it: nanoseconds since the clock was made, plus one (0 = no byte yet).
#[derive(Debug)]
pub struct ReadClock {
    origin: tokio::time::Instant,
    first_read: AtomicU64,
}

impl Default for ReadClock {
    fn default() -> Self {
        ReadClock {
            origin: tokio::time::Instant::now(),
            first_read: AtomicU64::new(0),
        }
    }
}

impl ReadClock {
    /// The server wrote (a response): the next byte read starts a new request.
    fn record_write(&self) {
        self.first_read.store(0, Ordering::Relaxed);
    }

    fn record_read(&self) {
        // Only the first read after a write reads the clock.
        if self.first_read.load(Ordering::Relaxed) == 0 {
            let since = self.origin.elapsed().as_nanos();
            let stamp = u64::try_from(since).unwrap_or(u64::MAX).saturating_add(1);
            let _ =
                self.first_read
                    .compare_exchange(0, stamp, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    fn first_read(&self) -> Option<tokio::time::Instant> {
        match self.first_read.load(Ordering::Relaxed) {
            0 => None,
            stamp => Some(self.origin + Duration::from_nanos(stamp - 1)),
        }
    }
}

/// A stream that tells its [`ReadClock`] when bytes arrive.
#[derive(Debug)]
pub struct ReadClocked<S> {
    inner: S,
    clock: Arc<ReadClock>,
}

impl<S> ReadClocked<S> {
    /// Wraps `inner`, reporting reads to `clock`.
    pub fn new(inner: S, clock: Arc<ReadClock>) -> Self {
        ReadClocked { inner, clock }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadClocked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.record_read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ReadClocked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.record_write();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.record_write();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// hyper's HTTP/1 timer for one connection: header-read deadlines that start at the
/// first byte of a request, and a longer idle deadline between requests.
#[derive(Debug, Clone)]
pub struct ConnectionTimer {
    clock: Arc<ReadClock>,
    header_read_timeout: Duration,
    idle_timeout: Duration,
}

impl ConnectionTimer {
    /// A timer reading `clock`, with the two deadlines.
    pub fn new(
        clock: Arc<ReadClock>,
        header_read_timeout: Duration,
        idle_timeout: Duration,
    ) -> Self {
        ConnectionTimer {
            clock,
            header_read_timeout,
            idle_timeout,
        }
    }

    fn head_sleep(&self) -> HeadSleep {
        let started = tokio::time::Instant::now();
        HeadSleep {
            clock: Arc::clone(&self.clock),
            started,
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            sleep: Box::pin(tokio::time::sleep_until(started + self.idle_timeout)),
        }
    }
}

impl Timer for ConnectionTimer {
    // hyper's HTTP/1 server uses its timer for the header-read timeout only, so every
    // sleep it asks for is a wait for a request head; the duration it passes is the
    // header-read timeout we configured, which this timer already knows.
    fn sleep(&self, _duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(self.head_sleep())
    }

    fn sleep_until(&self, _deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(self.head_sleep())
    }

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A wait for a request head: idle deadline until a byte arrives, then header deadline.
struct HeadSleep {
    clock: Arc<ReadClock>,
    started: tokio::time::Instant,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // hyper polls this after every read that did not complete the head, so a byte
        // arriving moves the deadline forward here, on the next poll.
        let deadline = match self.clock.first_read() {
            Some(first) => first + self.header_read_timeout,
            None => self.started + self.idle_timeout,
        };
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl Sleep for HeadSleep {}

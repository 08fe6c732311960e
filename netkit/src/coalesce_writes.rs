//! [`CoalesceWrites`]: a stream wrapper that gathers a connection's writes and sends
//! them in one system call per round, for HTTP/2 servers (tonic on hyper/h2).
//!
//! Why: h2's connection task is woken by every stream that queues a frame, and tokio
//! runs a task woken from another task next (its LIFO slot). When one change wakes a
//! thousand server-streaming calls, the connection task runs after nearly each of them
//! and writes that one DATA frame: about one `writev` per message. Here writes are
//! copied into a buffer (no system call), and the first flush of a round yields to the
//! scheduler once (wakes itself and returns `Pending`): every stream task already
//! runnable queues its frame, h2 moves them into this buffer when it is polled again,
//! and the second flush writes them all at once. A lone write costs one extra
//! scheduler turn and no extra system call.
//!
//! h2 copies a DATA payload into its own buffer only below its "chain threshold" (256
//! bytes when the stream says it takes vectored writes, 1 024 when not); a larger
//! payload makes it flush after that one frame, which no wrapper can gather. So this
//! wrapper tells its writer it is *not* vectored (raising the threshold to 1 024
//! bytes), takes h2's two-part writes into its buffer, and writes to the inner stream
//! vectored itself when the inner stream supports it.
//!
//! Semantics kept: `poll_write` returns `Pending` only when the inner stream did (its
//! waker is registered) or, in `poll_flush`, after waking itself; bytes are never lost
//! or reordered; `poll_flush` and `poll_shutdown` write everything buffered first. At
//! most [`DEFAULT_CAPACITY`] bytes (or the capacity given) wait here: when the buffer
//! is full, a write goes to the inner stream and waits for it, so a peer that stops
//! reading still stops the writer (backpressure), and write-stall timeouts of an inner
//! [`crate::guard::Guarded`] still fire because the inner stream is polled whenever
//! bytes are waiting for it.
//!
//! What is not here: any timeout or byte accounting (those belong to the inner stream:
//! put this wrapper outermost, over `Guarded` and over TLS, so TLS makes fewer, fuller
//! records from each gathered write).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes a connection may hold here before a write waits for the inner stream: two of
/// h2's write buffers (16 KiB each), two full TLS records.
pub const DEFAULT_CAPACITY: usize = 32 * 1024;

/// `inner` with its writes gathered into rounds; see the module documentation.
#[derive(Debug)]
pub struct CoalesceWrites<T> {
    inner: T,
    /// Bytes accepted and not yet written; `buf[start..]` is what remains.
    buf: Vec<u8>,
    start: usize,
    capacity: usize,
    /// Whether this round's flush has already yielded once.
    yielded: bool,
}

impl<T> CoalesceWrites<T> {
    /// Wraps `inner`, holding at most [`DEFAULT_CAPACITY`] bytes.
    pub fn new(inner: T) -> Self {
        Self::with_capacity(inner, DEFAULT_CAPACITY)
    }

    /// Wraps `inner`, holding at most `capacity` bytes (at least 1).
    pub fn with_capacity(inner: T, capacity: usize) -> Self {
        CoalesceWrites {
            inner,
            buf: Vec::new(),
            start: 0,
            capacity: capacity.max(1),
            yielded: false,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably (writing to it directly would reorder bytes).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Bytes accepted and not yet handed to the inner stream.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Appends `src`, which the caller made sure fits.
    fn append(&mut self, src: &[u8]) {
        if self.start > 0 && self.buf.len() + src.len() > self.capacity {
            // Reuse the room already written out instead of growing past the capacity.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(src);
    }

    /// Records `n` more buffered bytes written.
    fn advance(&mut self, n: usize) {
        self.start += n;
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }
}

impl<T: AsyncWrite + Unpin> CoalesceWrites<T> {
    /// Writes everything buffered to the inner stream.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.buffered() > 0 {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.start..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.advance(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CoalesceWrites<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CoalesceWrites<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            let pending = this.buffered();
            if pending + src.len() <= this.capacity {
                this.append(src);
                return Poll::Ready(Ok(src.len()));
            }
            if pending == 0 {
                // Bigger than the whole buffer: one write of it, as the caller asked.
                return Pin::new(&mut this.inner).poll_write(cx, src);
            }
            // Full: write out what waits (with `src` beside it in the same call when
            // the inner stream takes vectored writes), then try again.
            let n = if this.inner.is_write_vectored() {
                let slices = [
                    io::IoSlice::new(&this.buf[this.start..]),
                    io::IoSlice::new(src),
                ];
                ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, &slices))?
            } else {
                ready!(Pin::new(&mut this.inner).poll_write(cx, &this.buf[this.start..]))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if n > pending {
                this.advance(pending);
                return Poll::Ready(Ok(n - pending));
            }
            this.advance(n);
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if self.buffered() + total <= self.capacity {
            let this = self.get_mut();
            for b in bufs {
                this.append(b);
            }
            return Poll::Ready(Ok(total));
        }
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(first) => self.poll_write(cx, first),
            None => Poll::Ready(Ok(0)),
        }
    }

    /// `false` whatever the inner stream: a writer that checks (h2) then copies small
    /// frames into its own buffer instead of flushing after each; this wrapper gathers
    /// the parts either way and writes vectored to the inner stream itself.
    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.buffered() > 0 {
            if !this.yielded {
                // Once per round: let every task already runnable queue its frames
                // (a task woken while this one runs goes to the back of the queue).
                this.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            ready!(this.poll_drain(cx))?;
        }
        this.yielded = false;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Counts wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_lone_write_goes_out_after_one_yield() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut w = CoalesceWrites::new(client);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);

        let wrote = Pin::new(&mut w).poll_write(&mut cx, b"hello");
        assert!(matches!(wrote, Poll::Ready(Ok(5))));
        assert_eq!(w.buffered(), 5);

        // First flush of the round: pending, and it woke itself so it is polled again.
        assert!(Pin::new(&mut w).poll_flush(&mut cx).is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        // Second: everything written.
        assert!(matches!(
            Pin::new(&mut w).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(w.buffered(), 0);
        let mut got = [0u8; 5];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");

        // The next round yields again, once.
        assert!(matches!(
            Pin::new(&mut w).poll_write(&mut cx, b"x"),
            Poll::Ready(Ok(1))
        ));
        assert!(Pin::new(&mut w).poll_flush(&mut cx).is_pending());
        assert!(Pin::new(&mut w).poll_flush(&mut cx).is_ready());
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn nothing_buffered_flushes_without_yielding() {
        let (client, _server) = tokio::io::duplex(64);
        let mut w = CoalesceWrites::new(client);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut w).poll_flush(&mut cx).is_ready());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    /// Many small writes from several tasks (each whole write under a lock, as h2's
    /// single connection task would issue them) arrive intact and in the order taken,
    /// through a pipe much smaller than the buffer and a buffer smaller than the data.
    #[tokio::test]
    async fn many_small_writes_arrive_intact_and_in_order() {
        let (client, mut server) = tokio::io::duplex(97);
        let w = Arc::new(tokio::sync::Mutex::new(CoalesceWrites::with_capacity(
            client, 300,
        )));
        let order = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let mut tasks = Vec::new();
        for t in 0..4u8 {
            let w = Arc::clone(&w);
            let order = Arc::clone(&order);
            tasks.push(tokio::spawn(async move {
                for i in 0..200u16 {
                    let len = usize::from(i % 37) + 1;
                    let msg: Vec<u8> = (0..len)
                        .map(|k| {
                            t.wrapping_mul(61)
                                .wrapping_add(k as u8)
                                .wrapping_add(i as u8)
                        })
                        .collect();
                    let mut w = w.lock().await;
                    w.write_all(&msg).await.unwrap();
                    order.lock().unwrap().extend_from_slice(&msg);
                    if i % 9 == 0 {
                        w.flush().await.unwrap();
                    }
                    drop(w);
                    tokio::task::yield_now().await;
                }
            }));
        }
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            got
        });
        for t in tasks {
            t.await.unwrap();
        }
        {
            let mut w = w.lock().await;
            w.flush().await.unwrap();
            assert_eq!(w.buffered(), 0);
            w.shutdown().await.unwrap();
        }
        drop(w);
        let got = reader.await.unwrap();
        let want = order.lock().unwrap().clone();
        assert_eq!(got.len(), want.len());
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn flush_and_shutdown_write_everything() {
        let (client, mut server) = tokio::io::duplex(16);
        let mut w = CoalesceWrites::with_capacity(client, 1000);
        let data: Vec<u8> = (0..900u32).map(|i| (i % 251) as u8).collect();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.unwrap();
            got
        });
        w.write_all(&data[..500]).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(w.buffered(), 0);
        // Vectored parts and one write bigger than the buffer.
        let parts = [
            io::IoSlice::new(&data[500..600]),
            io::IoSlice::new(&data[600..650]),
        ];
        let n = w.write_vectored(&parts).await.unwrap();
        assert_eq!(n, 150);
        let big: Vec<u8> = (0..3000u32).map(|i| (i % 13) as u8).collect();
        w.write_all(&big).await.unwrap();
        w.write_all(&data[650..]).await.unwrap();
        w.shutdown().await.unwrap();
        assert_eq!(w.buffered(), 0);
        drop(w);
        let got = reader.await.unwrap();
        let mut want = data[..650].to_vec();
        want.extend_from_slice(&big);
        want.extend_from_slice(&data[650..]);
        assert_eq!(got, want);
    }

    #[test]
    fn tells_writers_it_is_not_vectored() {
        let (client, _server) = tokio::io::duplex(16);
        assert!(!CoalesceWrites::new(client).is_write_vectored());
    }
}

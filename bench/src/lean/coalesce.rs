//! A socket wrapper that lets a connection's pending writes gather before they go out.
//!
//! The h2 connection task is woken by every stream that queues a request, and tokio
//! runs a task woken from another task next (its LIFO slot): without this, each of 32
//! concurrent calls left in a write of its own (one `writev` per request, measured with
//! `strace -c`), and the server read them one segment at a time, while `h2load -m32`
//! writes a whole round of requests at once. Here the first write of a round yields to
//! the scheduler once (a task woken while it runs goes to the back of the run queue),
//! so every client already runnable queues its request first; the second attempt
//! writes them all together. With nothing else runnable it costs one extra poll.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `inner` with its writes deferred by one scheduler round.
#[derive(Debug)]
pub struct Coalescing<T> {
    inner: T,
    /// Whether this round's write has already yielded once.
    yielded: bool,
}

impl<T> Coalescing<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Coalescing {
            inner,
            yielded: false,
        }
    }

    /// `Ready` once this round has yielded; the first call yields.
    fn gather(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coalescing<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalescing<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.gather(cx).is_pending() {
            return Poll::Pending;
        }
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if written.is_ready() {
            this.yielded = false;
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.gather(cx).is_pending() {
            return Poll::Pending;
        }
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if written.is_ready() {
            this.yielded = false;
        }
        written
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

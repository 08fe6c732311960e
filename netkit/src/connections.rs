//! A cap on open connections, in the mini-redis style: a permit is taken *before*
//! `accept`, so at the cap the server stops accepting and further clients wait in the
//! kernel's backlog instead of costing the server memory.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Hands out connections while fewer than the cap are open.
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
}

/// An accepted connection and the permit that frees its slot when dropped.
#[derive(Debug)]
pub struct Admitted {
    /// The connection.
    pub stream: TcpStream,
    /// The peer's address.
    pub peer: std::net::SocketAddr,
    /// Dropping this frees the connection's slot.
    pub permit: OwnedSemaphorePermit,
}

impl ConnectionLimit {
    /// A limit of `max` open connections (at least 1).
    pub fn new(max: usize) -> Self {
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(max.max(1))),
        }
    }

    /// Waits for a free slot, then accepts the next connection with `TCP_NODELAY` set
    /// (request/response protocols must not wait for Nagle).
    ///
    /// Transient accept errors (the process is out of file descriptors, a peer reset
    /// before accept) are logged and retried after a short pause, so one bad moment does
    /// not stop the server.
    ///
    /// # Errors
    /// Never in practice; the `Result` keeps the signature honest if the semaphore is
    /// ever closed.
    pub async fn accept(&self, listener: &TcpListener) -> io::Result<Admitted> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("connection limit closed"))?;
        let mut backoff = Duration::from_millis(5);
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    // Best effort: a socket that refuses NODELAY still works, only slower.
                    let _ = stream.set_nodelay(true);
                    return Ok(Admitted {
                        stream,
                        peer,
                        permit,
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// Bytes read from and written to every accepted connection of this process, since it
/// started. Every Quartet server wraps its connections in [`Counted`], so these are the
/// bytes that crossed its sockets: HTTP headers, HTTP/2 frames, gRPC prefixes, frame
/// headers and payloads alike. The harness reads them from its server children.
static SOCKET_READ: AtomicU64 = AtomicU64::new(0);
static SOCKET_WRITTEN: AtomicU64 = AtomicU64::new(0);

/// `(read, written)` socket bytes of this process's accepted connections so far.
pub fn socket_totals() -> (u64, u64) {
    (
        SOCKET_READ.load(Ordering::Relaxed),
        SOCKET_WRITTEN.load(Ordering::Relaxed),
    )
}

/// A connection (or half of one) whose bytes count into [`socket_totals`].
#[derive(Debug)]
pub struct Counted<S>(pub S);

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.0).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            SOCKET_READ.fetch_add((buf.filled().len() - before) as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.0).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = polled {
            SOCKET_WRITTEN.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.0).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            SOCKET_WRITTEN.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

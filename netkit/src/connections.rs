//! A cap on open connections, in the mini-redis style: a permit is taken *before*
//! `accept`, so at the cap the server stops accepting and further clients wait in the
//! kernel's backlog instead of costing the server memory.
//!
//! That backlog has to be deep enough to hold them: tokio's (mio's) `TcpListener::bind`
//! listens with a backlog of 128, as std does. When more clients than that connect at
//! once (1 000 in `quartet abuse`) and the server accepts a little slower than they
//! arrive, Linux drops the clients' handshake ACKs and answers further SYNs with SYN
//! cookies whose ACKs are dropped too: the client's connect succeeds, the server never
//! hears of the connection again. A client that then sends (a request) completes the
//! handshake late, but one that stays silent holds a connection only its own side knows
//! of, which no server timeout can end (470 of 1 000 idle HTTP/1.1 connections in the
//! first full abuse run). So the first [`ConnectionLimit::accept`] widens the
//! listener's backlog to [`listen_backlog`] (see [`widen_backlog`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Hands out connections while fewer than the cap are open.
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
    /// The backlog the listener is given on the first accept, and whether it has been.
    backlog: u32,
    backlog_set: Arc<AtomicBool>,
}

/// The listen backlog for a server of `max_connections`: as many as it may hold open,
/// and never less than 1 024 (so a small cap does not make the kernel drop handshakes
/// that would have waited). The kernel clamps it to `net.core.somaxconn` (4 096 by
/// default since Linux 5.4).
pub fn listen_backlog(max_connections: usize) -> u32 {
    u32::try_from(max_connections)
        .unwrap_or(u32::MAX)
        .clamp(1_024, i32::MAX as u32)
}

/// Sets the backlog of `listener`, which is already listening (Linux updates it in
/// place: `listen` on a listening socket only changes its backlog).
///
/// # Errors
/// If the `listen` call fails (it does not on Linux for a listening TCP socket).
pub fn widen_backlog(listener: &TcpListener, backlog: u32) -> io::Result<()> {
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    socket2::SockRef::from(listener).listen(backlog)
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
            backlog: listen_backlog(max),
            backlog_set: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Waits for a free slot, then accepts the next connection with `TCP_NODELAY` set
    /// (request/response protocols must not wait for Nagle). The first call widens the
    /// listener's backlog to [`listen_backlog`] of the cap (see the module docs); every
    /// server of the workspace accepts through here, whoever bound its listener.
    ///
    /// Transient accept errors (the process is out of file descriptors, a peer reset
    /// before accept) are logged and retried after a short pause, so one bad moment does
    /// not stop the server.
    ///
    /// # Errors
    /// Never in practice; the `Result` keeps the signature honest if the semaphore is
    /// ever closed.
    pub async fn accept(&self, listener: &TcpListener) -> io::Result<Admitted> {
        if !self.backlog_set.swap(true, Ordering::Relaxed)
            && let Err(e) = widen_backlog(listener, self.backlog)
        {
            // Not fatal: the server still serves, with the backlog it was bound with.
            tracing::warn!(error = %e, backlog = self.backlog, "cannot widen the listen backlog");
        }
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
                    // Fairness: connections already open go first. Without this the
                    // accept loop takes up to tokio's budget (128) of queued connections
                    // per turn, and a burst of 1 000 puts 128 new connections' first
                    // reads (each a handshake, a reset flood or an oversized head)
                    // ahead of an established client's next request on every turn;
                    // yielding after each accept lets every runnable connection run
                    // once between two accepts, and the rest wait in the backlog.
                    tokio::task::yield_now().await;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_backlog_covers_the_cap_and_never_shrinks_below_1024() {
        assert_eq!(listen_backlog(1), 1_024);
        assert_eq!(listen_backlog(crate::config::MAX_CONNECTIONS), 1_024);
        assert_eq!(listen_backlog(10_000), 10_000);
        assert_eq!(listen_backlog(usize::MAX), i32::MAX as u32);
    }

    /// The path that left idle connections open in the abuse run: more clients than
    /// the bound backlog (128) connect while the server is not accepting. With 128,
    /// the kernel drops every handshake past the 129th and the clients' connects hang
    /// in SYN retries; widened on the first accept, every one completes and waits.
    #[tokio::test]
    async fn a_burst_past_the_bound_backlog_waits_in_the_widened_one() {
        const BURST: usize = 300;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limit = ConnectionLimit::new(BURST + 1);
        let _first = TcpStream::connect(addr).await.unwrap();
        let _admitted = limit.accept(&listener).await.unwrap();
        // Nobody accepts while the burst connects: each handshake must complete in the
        // backlog. (Against a backlog of 128 the dropped ones retry at 1, 3, 7, 15 s
        // and never get in while the queue stays full, so the deadline fails them.)
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..BURST {
            connects.spawn(TcpStream::connect(addr));
        }
        let clients = tokio::time::timeout(Duration::from_secs(20), async {
            let mut clients = Vec::with_capacity(BURST);
            while let Some(connected) = connects.join_next().await {
                clients.push(connected.unwrap().unwrap());
            }
            clients
        })
        .await
        .expect("every connect of the burst completed");
        // And the server gets every one of them.
        for _ in 0..clients.len() {
            tokio::time::timeout(Duration::from_secs(10), limit.accept(&listener))
                .await
                .expect("a queued connection is accepted")
                .unwrap();
        }
    }
}

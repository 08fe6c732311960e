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
//!
//! A second, smaller limit keeps a flood of *new* connections from starving the
//! established ones: [`ConnectionLimit::accept_opening`] also takes one of
//! [`MAX_OPENING_CONNECTIONS`](crate::config::MAX_OPENING_CONNECTIONS) opening slots
//! before `accept`, and the connection, wrapped in [`Opening`], gives it back the first
//! time the server finds nothing more to read on it (it has caught up with what the peer
//! sent: a request dispatched, a handshake waiting for its peer), the first time the
//! server writes to it (an answer, a refusal, a handshake message) or when it ends. What
//! can hold a slot is thus a connection whose bytes the server is still working
//! through, or a first request in its handler with more input already buffered (at most
//! the request timeout). While
//! every slot is taken the server accepts nothing: the newcomers wait in the kernel's
//! backlog, before any byte of theirs is read or parsed, and the server's cores go to
//! the connections it already has and to the few newcomers it is working through. A
//! connection that is slow or silent on purpose gives its slot back at its first read,
//! so slowloris and idle clients cannot hold the slots; only a peer whose bytes the
//! server is still working through holds one.
//!
//! What does not live here: the protocol limits that end an abusive connection
//! (`crate::guard`, hyper's and h2's settings), and whether a server uses the opening
//! limit (`crate::http_server` does; a server that calls [`ConnectionLimit::accept`]
//! does not).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Hands out connections while fewer than the cap are open (and, through
/// [`ConnectionLimit::accept_opening`], while fewer than the opening limit are new).
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
    /// Slots of connections in their opening phase (see the module docs).
    opening: Arc<Semaphore>,
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

/// Caps the answers the kernel holds unsent on `stream`, an accepted connection, at
/// [`MAX_UNSENT_BYTES`](crate::config::MAX_UNSENT_BYTES) (`TCP_NOTSENT_LOWAT`; see the
/// constant for why): a peer that stops reading stops the server's writes within a few
/// answers, so the write-stall clock starts then. Best effort: a socket that refuses
/// it is served as before, with the kernel's own send buffer as the only bound.
pub fn limit_unsent(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) =
        socket2::SockRef::from(stream).set_tcp_notsent_lowat(crate::config::MAX_UNSENT_BYTES)
    {
        tracing::debug!(error = %e, "cannot set TCP_NOTSENT_LOWAT");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

/// An opening slot of [`ConnectionLimit::accept_opening`]: give it to [`Opening::new`]
/// with the connection, which frees it at the end of the connection's opening phase.
#[derive(Debug)]
pub struct OpeningSlot(OwnedSemaphorePermit);

/// A connection in its opening phase until its first read finds nothing to read (the
/// server has caught up with its peer), returns end of file or fails, or its first
/// write (the server answers); then (or when it is dropped) its [`OpeningSlot`] is
/// freed and it is an ordinary connection. Reads and writes pass through unchanged.
///
/// For a protocol whose server speaks first ([`Opening::server_first`]), what it writes
/// before its first read is its greeting, not an answer, and keeps the slot.
#[derive(Debug)]
pub struct Opening<S> {
    inner: S,
    slot: Option<OwnedSemaphorePermit>,
    /// Writes keep the slot until the first read: the server's greeting.
    greeting: bool,
}

impl<S> Opening<S> {
    /// `inner`, holding `slot` until its opening phase ends.
    pub fn new(inner: S, slot: OpeningSlot) -> Self {
        Opening {
            inner,
            slot: Some(slot.0),
            greeting: false,
        }
    }

    /// `inner`, holding `slot` until its opening phase ends, for a protocol whose server
    /// writes first (HTTP/2 sends its SETTINGS before it reads the client's preface):
    /// writes before the first read do not end the phase, so the slot covers the
    /// server's work on what the client sent first. A peer that never sends still gives
    /// the slot back at the first read (nothing to read), and one that never reads at
    /// the server's first write after that.
    pub fn server_first(inner: S, slot: OpeningSlot) -> Self {
        Opening {
            inner,
            slot: Some(slot.0),
            greeting: true,
        }
    }

    /// Whether the connection still holds its opening slot.
    pub fn is_opening(&self) -> bool {
        self.slot.is_some()
    }

    /// A write: the end of the opening phase unless it is the server's greeting.
    fn answered(&mut self) {
        if !self.greeting {
            self.slot = None;
        }
    }

    /// The connection.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Opening<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        self.greeting = false;
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        // Anything but fresh bytes ends the opening phase: nothing to read (the server is
        // waiting for its peer, which costs it nothing), end of file, or an error.
        let read_bytes = matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before;
        if !read_bytes && self.slot.is_some() {
            self.slot = None;
        }
        polled
    }
}

// The first write ends the opening phase too: the server has answered (a response, a
// refusal, a handshake message), and a peer that then never reads must not keep the
// slot while the server, its answer stuck, leaves the rest of its input unread (that
// would let a few never-reading clients shut new connections out for the write-stall
// timeout, over and over).
impl<S: AsyncWrite + Unpin> AsyncWrite for Opening<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.answered();
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.answered();
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.slot = None;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
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
    /// A limit of `max` open connections (at least 1), of which
    /// [`MAX_OPENING_CONNECTIONS`](crate::config::MAX_OPENING_CONNECTIONS) may be in
    /// their opening phase when accepted with [`ConnectionLimit::accept_opening`].
    pub fn new(max: usize) -> Self {
        ConnectionLimit::with_opening(max, crate::config::MAX_OPENING_CONNECTIONS)
    }

    /// A limit of `max` open connections of which `opening` (at least 1) may be in their
    /// opening phase (see the module docs).
    pub fn with_opening(max: usize, opening: usize) -> Self {
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(max.max(1))),
            opening: Arc::new(Semaphore::new(opening.max(1))),
            backlog: listen_backlog(max),
            backlog_set: Arc::new(AtomicBool::new(false)),
        }
    }

    /// As [`ConnectionLimit::accept`], and first waits for an opening slot too: while
    /// every slot is held by a connection the server is still working through (see the
    /// module docs) nothing is accepted, so a burst of new connections waits in the
    /// backlog instead of queueing its work ahead of the established connections'.
    /// Wrap the connection in [`Opening`] with the slot.
    ///
    /// # Errors
    /// As [`ConnectionLimit::accept`].
    pub async fn accept_opening(
        &self,
        listener: &TcpListener,
    ) -> io::Result<(Admitted, OpeningSlot)> {
        self.widen_once(listener);
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("connection limit closed"))?;
        let slot = Arc::clone(&self.opening)
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("opening limit closed"))?;
        let admitted = Self::accept_with(listener, permit).await;
        Ok((admitted, OpeningSlot(slot)))
    }

    /// Widens the listener's backlog on the first accept (see the module docs).
    fn widen_once(&self, listener: &TcpListener) {
        if !self.backlog_set.swap(true, Ordering::Relaxed)
            && let Err(e) = widen_backlog(listener, self.backlog)
        {
            // Not fatal: the server still serves, with the backlog it was bound with.
            tracing::warn!(error = %e, backlog = self.backlog, "cannot widen the listen backlog");
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
        self.widen_once(listener);
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("connection limit closed"))?;
        Ok(Self::accept_with(listener, permit).await)
    }

    /// Accepts the next connection under `permit` (retrying transient errors).
    async fn accept_with(listener: &TcpListener, permit: OwnedSemaphorePermit) -> Admitted {
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
                    return Admitted {
                        stream,
                        peer,
                        permit,
                    };
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

    /// Connects to `addr` and sends `bytes` (if any); the client's end.
    async fn client(addr: std::net::SocketAddr, bytes: &[u8]) -> TcpStream {
        use tokio::io::AsyncWriteExt;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        stream
    }

    /// Polls one read of `stream` once: the bytes it read, or `None` if it would wait.
    async fn read_once<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
        let mut storage = [0u8; 64];
        std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut storage);
            Poll::Ready(match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => Some(buf.filled().to_vec()),
                _ => None,
            })
        })
        .await
    }

    /// Reads from `stream` until it has read something (at most 10 s).
    async fn read_some<S: AsyncRead + Unpin>(stream: &mut S) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("bytes arrive")
            .unwrap();
        buf[..n].to_vec()
    }

    /// The opening limit: with its one slot held by a connection whose bytes the server
    /// is still reading, the next connection is not accepted (its bytes wait in the
    /// kernel); once the server finds nothing more to read on the first, the second is.
    #[tokio::test]
    async fn a_new_connection_waits_while_the_opening_slots_are_held() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limit = ConnectionLimit::with_opening(10, 1);
        let _a = client(addr, b"a").await;
        let (first, slot) = limit.accept_opening(&listener).await.unwrap();
        first.stream.readable().await.unwrap();
        let mut first = Opening::new(first.stream, slot);
        let _b = client(addr, b"b").await;
        let next_limit = limit.clone();
        let (accepted, mut next) = tokio::sync::oneshot::channel();
        let listener = Arc::new(listener);
        let next_listener = Arc::clone(&listener);
        tokio::spawn(async move {
            let (admitted, slot) = next_limit.accept_opening(&next_listener).await.unwrap();
            let _ = accepted.send(Opening::new(admitted.stream, slot));
        });
        // The server reads the first connection's bytes: still in its opening phase.
        assert_eq!(read_some(&mut first).await, b"a");
        assert!(first.is_opening());
        // Meanwhile the second, whose connect completed before, is not accepted. (A
        // bounded look: without the limit it is accepted within milliseconds; with it,
        // never while the slot is held, so this cannot fail spuriously.)
        let waited = tokio::time::timeout(Duration::from_millis(300), &mut next).await;
        assert!(
            waited.is_err(),
            "accepted while the only opening slot was held"
        );
        // Nothing more to read on the first: its opening phase is over, its slot freed,
        // and the second is accepted.
        assert_eq!(read_once(&mut first).await, None);
        assert!(!first.is_opening());
        let mut second = tokio::time::timeout(Duration::from_secs(10), next)
            .await
            .expect("accepted once the slot was freed")
            .unwrap();
        assert_eq!(read_some(&mut second).await, b"b");
    }

    /// A connection the server answers gives its slot back at the answer, though it has
    /// more input unread: a client that never reads cannot keep it.
    #[tokio::test]
    async fn the_first_answer_ends_the_opening_phase() {
        use tokio::io::AsyncWriteExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limit = ConnectionLimit::with_opening(10, 1);
        let _client = client(addr, b"first request, second request").await;
        let (admitted, slot) = limit.accept_opening(&listener).await.unwrap();
        // Its bytes are there before the server reads (a read that found none would end
        // the opening phase by itself).
        admitted.stream.readable().await.unwrap();
        let mut server = Opening::new(admitted.stream, slot);
        let mut head = [0u8; 5];
        tokio::io::AsyncReadExt::read_exact(&mut server, &mut head)
            .await
            .unwrap();
        assert!(server.is_opening(), "input is still unread");
        server.write_all(b"answer").await.unwrap();
        assert!(!server.is_opening());
    }

    /// A server that speaks first (HTTP/2's SETTINGS) keeps the slot through its
    /// greeting, while it works through what the client sent first, and gives it back at
    /// its first write after a read.
    #[tokio::test]
    async fn a_server_first_greeting_keeps_the_opening_slot() {
        use tokio::io::AsyncWriteExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limit = ConnectionLimit::with_opening(10, 1);
        let _client = client(addr, b"preface and headers").await;
        let (admitted, slot) = limit.accept_opening(&listener).await.unwrap();
        admitted.stream.readable().await.unwrap();
        let mut server = Opening::server_first(admitted.stream, slot);
        server.write_all(b"greeting").await.unwrap();
        assert!(server.is_opening(), "a greeting is not an answer");
        let mut head = [0u8; 7];
        tokio::io::AsyncReadExt::read_exact(&mut server, &mut head)
            .await
            .unwrap();
        assert!(server.is_opening(), "input is still unread");
        server.write_all(b"answer").await.unwrap();
        assert!(!server.is_opening());

        // A silent peer still gives it back at the first read, greeting or not.
        let _silent = client(addr, b"").await;
        let (silent, slot) = limit.accept_opening(&listener).await.unwrap();
        let mut silent = Opening::server_first(silent.stream, slot);
        silent.write_all(b"greeting").await.unwrap();
        assert!(silent.is_opening());
        assert_eq!(read_once(&mut silent).await, None);
        assert!(!silent.is_opening());
    }

    /// Slow and silent clients cannot hold the opening slots: a connection that has sent
    /// nothing gives its slot back at the server's first read.
    #[tokio::test]
    async fn a_silent_connection_gives_its_opening_slot_back_at_its_first_read() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limit = ConnectionLimit::with_opening(10, 1);
        let _silent = client(addr, b"").await;
        let (silent, slot) = limit.accept_opening(&listener).await.unwrap();
        let mut silent = Opening::new(silent.stream, slot);
        assert_eq!(read_once(&mut silent).await, None);
        assert!(!silent.is_opening());
        let _talker = client(addr, b"t").await;
        let (talker, slot) =
            tokio::time::timeout(Duration::from_secs(10), limit.accept_opening(&listener))
                .await
                .expect("accepted: the silent connection holds no slot")
                .unwrap();
        let mut talker = Opening::new(talker.stream, slot);
        assert_eq!(read_some(&mut talker).await, b"t");
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

//! The opening limit over a plain TCP connection's two owned halves ([`split`]).
//!
//! netkit's [`Opening`](netkit::connections::Opening) holds an accepted connection's
//! opening slot (`ConnectionLimit::accept_opening`) until the server has caught up with
//! its peer: the first read that finds nothing to read, the end of the stream or an
//! error, the first write, or the end of the connection. It owns the whole stream, and
//! this server reads and writes a connection from two tasks (the read loop and the
//! writer, `connection.rs`): wrapping the socket in it would mean sharing it through
//! `tokio::io::split`, whose mutex every read and write of the connection would then
//! take, for its whole life, with the reader and the writer of a pipelining peer
//! contending for it on two worker threads. These halves share the slot instead, and
//! only touch it until it is freed (then each call costs one atomic load). The TLS path
//! wraps the socket in netkit's `Opening` itself (under TLS, which needs
//! `tokio::io::split` anyway).
//!
//! The rule is netkit's, with one difference: the server hello (the first
//! [`HELLO_LEN`] bytes written) does not end the opening phase; the first write after
//! it does. netkit ends the phase at the first write so that a peer that never reads
//! cannot keep the slot while the server's answer is stuck and the rest of its input
//! unread; eight bytes written to a fresh connection are never stuck. Ending it there
//! would free every wire connection's slot before its first frame is read, so the limit
//! would order nothing but hellos: a burst of connections that each send an oversized
//! frame (the `big-frame` attack) would have every frame header read and refused ahead
//! of the established connections' requests, as without the limit. With the exemption a
//! connection keeps its slot until its first answer or connection error is written, or
//! the server has read all it sent. So what can hold a slot for long is a connection
//! whose first `max_in_flight` requests are all still in their handlers with more of
//! its input unread: for as long as the handlers take, since the wire server has no
//! per-request deadline.
//!
//! What does not live here: the opening limit and why it exists
//! (`netkit::connections`), what the connection does (`connection.rs`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use netkit::connections::OpeningSlot;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::handshake::HELLO_LEN;

/// The opening slot both halves of one connection hold, freed by whichever ends the
/// opening phase first, or with the last half.
#[derive(Debug)]
struct Shared {
    /// Whether the slot is still held: checked on every call, so that the lock is taken
    /// once per connection, not once per call.
    held: AtomicBool,
    slot: Mutex<Option<OpeningSlot>>,
}

impl Shared {
    fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// Ends the opening phase (the first call does; later ones find it ended).
    fn end(&self) {
        if self.is_held() && self.held.swap(false, Ordering::AcqRel) {
            drop(self.slot.lock().take());
        }
    }
}

/// The read half of a connection in its opening phase (see the module docs).
#[derive(Debug)]
pub(super) struct OpeningRead<R> {
    inner: R,
    shared: Arc<Shared>,
}

/// The write half of a connection in its opening phase (see the module docs).
#[derive(Debug)]
pub(super) struct OpeningWrite<W> {
    inner: W,
    shared: Arc<Shared>,
    /// Bytes of the server hello not yet written: writing them does not end the opening
    /// phase (see the module docs).
    hello_left: usize,
}

/// Splits `stream` into owned halves that hold `slot` together until its opening phase
/// ends (see the module docs).
pub(super) fn split(
    stream: TcpStream,
    slot: OpeningSlot,
) -> (OpeningRead<OwnedReadHalf>, OpeningWrite<OwnedWriteHalf>) {
    let (read, write) = stream.into_split();
    let shared = Arc::new(Shared {
        held: AtomicBool::new(true),
        slot: Mutex::new(Some(slot)),
    });
    (
        OpeningRead {
            inner: read,
            shared: Arc::clone(&shared),
        },
        OpeningWrite {
            inner: write,
            shared,
            hello_left: HELLO_LEN,
        },
    )
}

impl<R> OpeningRead<R> {
    /// Whether the connection still holds its opening slot.
    #[cfg(test)]
    fn is_opening(&self) -> bool {
        self.shared.is_held()
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for OpeningRead<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        // Anything but fresh bytes ends the opening phase: nothing to read (the server has
        // caught up and waits for its peer, which costs it nothing), the end, an error.
        if this.shared.is_held()
            && !(matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before)
        {
            this.shared.end();
        }
        polled
    }
}

impl<W> OpeningWrite<W> {
    /// A write past the server hello ends the opening phase (see the module docs).
    fn before_write(&mut self) {
        if self.hello_left == 0 {
            self.shared.end();
        }
    }

    /// Counts what a write took of the server hello.
    fn after_write(&mut self, polled: &Poll<io::Result<usize>>) {
        if self.hello_left > 0
            && let Poll::Ready(Ok(n)) = polled
        {
            self.hello_left = self.hello_left.saturating_sub(*n);
        }
    }
}

// The first write past the hello ends it, as netkit's `Opening` says why: a peer that
// then never reads must not keep the slot while the server, its answer stuck, leaves the
// rest of its input unread.
impl<W: AsyncWrite + Unpin> AsyncWrite for OpeningWrite<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.before_write();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        this.after_write(&polled);
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.before_write();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    // Closing ends it whatever was written: a refused hello is followed by the close.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.shared.end();
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use netkit::connections::ConnectionLimit;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Connects to `addr` and sends `bytes` (if any); the client's end.
    async fn client(addr: std::net::SocketAddr, bytes: &[u8]) -> TcpStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        stream
    }

    /// Polls one read of `read` once: the bytes it read, or `None` if it would wait.
    async fn read_once<R: AsyncRead + Unpin>(read: &mut R) -> Option<Vec<u8>> {
        let mut storage = [0u8; 64];
        std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut storage);
            Poll::Ready(match Pin::new(&mut *read).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => Some(buf.filled().to_vec()),
                _ => None,
            })
        })
        .await
    }

    /// A listener with one opening slot, and a connection accepted through it, split into
    /// opening halves.
    struct Accepted {
        listener: TcpListener,
        limit: ConnectionLimit,
        /// The client's end.
        _peer: TcpStream,
        read: OpeningRead<OwnedReadHalf>,
        write: OpeningWrite<OwnedWriteHalf>,
    }

    /// An [`Accepted`] connection whose client sent `sent`, already there to read.
    async fn accepted(sent: &[u8]) -> Accepted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let limit = ConnectionLimit::with_opening(10, 1);
        let peer = client(listener.local_addr().unwrap(), sent).await;
        let (admitted, slot) = limit.accept_opening(&listener).await.unwrap();
        // The bytes are there before the first read (one that found none would end the
        // opening phase by itself).
        admitted.stream.readable().await.unwrap();
        let (read, write) = split(admitted.stream, slot);
        Accepted {
            listener,
            limit,
            _peer: peer,
            read,
            write,
        }
    }

    /// Whether the next connection to `listener` is accepted within a bounded look.
    async fn next_is_accepted(listener: &TcpListener, limit: &ConnectionLimit) -> bool {
        let _newcomer = client(listener.local_addr().unwrap(), b"").await;
        tokio::time::timeout(Duration::from_millis(300), limit.accept_opening(listener))
            .await
            .is_ok()
    }

    /// Reading fresh bytes keeps the slot (no newcomer is accepted); a read that finds
    /// nothing more frees it, for the write half too, and the newcomer is accepted.
    #[tokio::test]
    async fn the_slot_is_held_until_a_read_finds_nothing() {
        let Accepted {
            listener,
            limit,
            _peer,
            mut read,
            write: _write,
        } = accepted(b"hello").await;
        let mut hello = [0u8; 5];
        read.read_exact(&mut hello).await.unwrap();
        assert!(read.is_opening(), "fresh bytes were read");
        // A bounded look: with the slot held, never accepted, so it cannot fail spuriously.
        assert!(!next_is_accepted(&listener, &limit).await);
        assert_eq!(read_once(&mut read).await, None);
        assert!(!read.is_opening());
        assert!(next_is_accepted(&listener, &limit).await);
    }

    /// The server hello keeps the slot; the first write after it frees it, though input
    /// is still unread: a peer that never reads cannot keep it.
    #[tokio::test]
    async fn the_first_write_after_the_hello_frees_the_slot() {
        let Accepted {
            listener,
            limit,
            _peer,
            mut read,
            mut write,
        } = accepted(b"first request, second request").await;
        let mut head = [0u8; 5];
        read.read_exact(&mut head).await.unwrap();
        assert!(read.is_opening());
        // The hello, in two writes: still opening.
        write.write_all(b"QRTW").await.unwrap();
        write.write_all(&[1, 0, 0, 0]).await.unwrap();
        assert!(
            read.is_opening(),
            "the server hello ended the opening phase"
        );
        assert!(!next_is_accepted(&listener, &limit).await);
        write.write_all(b"answer").await.unwrap();
        assert!(!read.is_opening());
        assert!(next_is_accepted(&listener, &limit).await);
    }

    /// Closing frees it, even with only the hello written (a refused hello).
    #[tokio::test]
    async fn closing_after_the_hello_frees_the_slot() {
        let Accepted {
            listener,
            limit,
            _peer,
            read,
            mut write,
        } = accepted(b"hello").await;
        write.write_all(b"QRTW").await.unwrap();
        assert!(read.is_opening());
        write.shutdown().await.unwrap();
        assert!(!read.is_opening());
        assert!(next_is_accepted(&listener, &limit).await);
    }

    /// Dropping both halves (the connection ends) frees the slot; one half is not enough.
    #[tokio::test]
    async fn the_slot_goes_with_the_connection() {
        let Accepted {
            listener,
            limit,
            _peer,
            read,
            write,
        } = accepted(b"bytes").await;
        drop(write);
        assert!(read.is_opening());
        drop(read);
        assert!(next_is_accepted(&listener, &limit).await);
    }
}

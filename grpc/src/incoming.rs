//! The stream of accepted connections tonic serves, capped by netkit's
//! `ConnectionLimit`: tonic has no connection cap of its own, so each accepted socket
//! carries the permit that frees its slot when the connection ends.
//!
//! Each socket is accepted through `ConnectionLimit::accept_opening` and wrapped, right
//! on the socket (under the byte counter, TLS and the guard, as in
//! `netkit::http_server`), in netkit's `Opening` with its opening slot: while
//! `MAX_OPENING_CONNECTIONS` (16, `netkit::config`) accepted connections are in their
//! opening phase nothing more is accepted, so a burst of new connections waits in the
//! listen backlog, unread, instead of queueing its work ahead of the established
//! connections' calls. A connection's opening phase ends the first time the server
//! finds nothing more to read on it, the first time it writes to it, or when it is
//! dropped. h2 writes its SETTINGS before it reads a byte, so a plain connection is an
//! [`Opening::server_first`]: that greeting keeps the slot, which then covers h2's work
//! on the client's preface, SETTINGS and first frames (a burst of oversized header
//! lists or frames is decoded and refused sixteen connections at a time) until h2 has
//! read all the client sent or writes again (an acknowledgement, an answer, a GOAWAY).
//! A TLS connection gives its slot back once the server has read its ClientHello and
//! answered it (or found no more of it to read). Slow, silent and never-reading clients
//! therefore hold no slot. The slot sits on the socket, not on the stream tonic gets,
//! because the handshake is opening work too, and above TLS a handshake waiting for its
//! peer would keep its slot until the handshake deadline.
//!
//! With TLS ([`tls_limited`]) the handshakes are netkit's, not tonic's (`tls-ring`):
//! tonic's would take the socket out of this stream, so the permit, the byte counters
//! and netkit's handshake deadline and logging would not apply. Here an accept task
//! hands each admitted socket to a task of its own for the handshake (a slow client
//! holds only its own slot) and the finished TLS streams come out of this stream;
//! when tonic stops polling it at shutdown, the accept task sees the receiver gone and
//! stops, so the drain works as without TLS.
//!
//! Every stream is [`Guarded`] (netkit's connection limits, inside TLS): tonic's HTTP/2
//! server has no deadline for the connection preface, no write timeout and no bound on
//! PING/SETTINGS floods, so the guard gives it the header-read timeout for the preface
//! and the client's first SETTINGS (from the connection's start: an HTTP/2 client speaks
//! first), the write-stall timeout and the control-frame budget.
//!
//! Each connection also gets its share of the server's [`SendBudget`]: the guard releases
//! it as answer bytes are written, and [`ConnectionInfo`] (which tonic puts in every
//! request's extensions) hands it to [`crate::send_budget`], which charges it. With the
//! budget the guard also reads nothing from a connection while its writes are blocked:
//! h2 reads requests whether or not it can write, so a client that never read kept
//! having streams accepted after its socket filled (up to `max_concurrent_streams`, 256,
//! per connection, each held until written); now it has only those it opened before.
//!
//! Every accepted socket gets `TCP_NOTSENT_LOWAT`
//! ([`netkit::config::MAX_UNSENT_BYTES`], 128 KiB, `netkit::connections::limit_unsent`):
//! without it the kernel took about 2.8 MB of answers per connection (loopback's send
//! buffer) before a write to a peer that never reads returned `Pending`, so such a peer
//! had dozens of seat maps computed, encoded and copied into the kernel, the guard kept
//! reading its requests, and the write-stall clock started only then (`quartet abuse`'s
//! gRPC no-read row: most of the server's CPU, docs/abuse.md). With it, writes block
//! after about 128 KiB beyond the peer's window, a few answers.
//!
//! Outermost, every stream is [`CoalesceWrites`]: h2 writes after nearly every stream's
//! DATA frame (its connection task runs right after each stream task that wakes it), so
//! one change to a thousand `WatchAvailability` calls made about a thousand `writev`s.
//! The wrapper gathers a round's frames and writes them in one call, at the cost of one
//! scheduler turn per round. It sits over the guard (which must see the bytes when the
//! socket takes them, for the stall timeout and the send budget) and over TLS (one
//! gathered write becomes few full records, not one record per frame).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use netkit::coalesce_writes::CoalesceWrites;
use netkit::connections::{Admitted, ConnectionLimit, Counted, Opening, OpeningSlot};
use netkit::guard::{GuardConfig, Guarded};
use netkit::send_budget::{ConnectionBudget, SendBudget};
use netkit::tls::{Acceptor, MaybeTls};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// An accepted socket under TLS (if any) and the guard: its bytes counted, and in its
/// opening phase until the server has caught up with it (see the module docs).
type Socket = Counted<Opening<TcpStream>>;

/// An accepted connection holding its slot under the cap.
#[derive(Debug)]
pub struct AdmittedStream {
    stream: CoalesceWrites<Guarded<MaybeTls<Socket>>>,
    budget: Arc<ConnectionBudget>,
    _permit: OwnedSemaphorePermit,
}

/// `stream`, in its opening phase until `slot` is given back, with its bytes counted.
/// Under TLS the client speaks first (its ClientHello); in plain HTTP/2 h2 does (its
/// SETTINGS, see the module docs).
fn socket(stream: TcpStream, slot: OpeningSlot, tls: bool) -> Socket {
    // A peer that stops reading stops the writes within a few answers, not after the
    // megabytes the kernel would otherwise take (see the module docs).
    netkit::connections::limit_unsent(&stream);
    Counted(if tls {
        Opening::new(stream, slot)
    } else {
        Opening::server_first(stream, slot)
    })
}

impl AdmittedStream {
    /// Whether the connection still holds its opening slot: the server has not answered
    /// it yet (a plain connection's greeting does not count), and every read of it so
    /// far found bytes (see the module docs).
    pub fn is_opening(&self) -> bool {
        self.socket().0.is_opening()
    }

    /// The accepted socket, under TLS and the guard.
    fn socket(&self) -> &Socket {
        self.stream.get_ref().get_ref().get_ref()
    }

    /// `stream` under `guard`'s limits and a share of `budget`.
    fn new(
        stream: MaybeTls<Socket>,
        permit: OwnedSemaphorePermit,
        guard: GuardConfig,
        budget: &SendBudget,
    ) -> Self {
        let budget = budget.connection();
        AdmittedStream {
            stream: CoalesceWrites::new(
                Guarded::new(stream, guard).with_send_budget(Arc::clone(&budget)),
            ),
            budget,
            _permit: permit,
        }
    }
}

/// What tonic puts in the extensions of every request of a connection: its peer (as
/// tonic's own `TcpConnectInfo`) and its share of the send budget.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The peer's and the local address.
    pub tcp: TcpConnectInfo,
    /// The connection's share of the server's send budget.
    pub budget: Arc<ConnectionBudget>,
}

/// As [`limited`], each connection after a TLS handshake with `acceptor` (failed ones
/// are logged by netkit and closed); `guard`'s clocks start after the handshake.
pub fn tls_limited(
    listener: TcpListener,
    max: usize,
    acceptor: Acceptor,
    guard: GuardConfig,
    budget: SendBudget,
) -> impl Stream<Item = io::Result<AdmittedStream>> {
    let limit = ConnectionLimit::new(max);
    // Room for a burst of finished handshakes; the cap bounds them anyway.
    let (done, ready) = tokio::sync::mpsc::channel::<io::Result<AdmittedStream>>(64);
    tokio::spawn(async move {
        loop {
            let admitted = tokio::select! {
                admitted = limit.accept_opening(&listener) => admitted,
                () = done.closed() => break,
            };
            let admitted = match admitted {
                Ok(admitted) => admitted,
                Err(e) => {
                    let _ = done.send(Err(e)).await;
                    break;
                }
            };
            let acceptor = acceptor.clone();
            let done = done.clone();
            let budget = budget.clone();
            tokio::spawn(async move {
                let (
                    Admitted {
                        stream,
                        peer,
                        permit,
                    },
                    slot,
                ) = admitted;
                // The slot sits on the socket, under TLS: the handshake is opening work.
                if let Some(tls) = acceptor.accept(socket(stream, slot, true), peer).await {
                    let stream = MaybeTls::Tls(Box::new(tls));
                    let _ = done
                        .send(Ok(AdmittedStream::new(stream, permit, guard, &budget)))
                        .await;
                }
            });
        }
    });
    futures::stream::unfold(ready, |mut ready| async move {
        ready.recv().await.map(|next| (next, ready))
    })
}

/// Connections accepted from `listener`, at most `max` open at once and at most
/// `MAX_OPENING_CONNECTIONS` in their opening phase (see the module docs), each under
/// `guard`'s limits and with a share of `budget`.
pub fn limited(
    listener: TcpListener,
    max: usize,
    guard: GuardConfig,
    budget: SendBudget,
) -> impl Stream<Item = io::Result<AdmittedStream>> {
    let limit = ConnectionLimit::new(max);
    futures::stream::unfold((listener, limit), move |(listener, limit)| {
        let budget = budget.clone();
        async move {
            let next = limit.accept_opening(&listener).await.map(|(a, slot)| {
                let stream = MaybeTls::Plain(socket(a.stream, slot, false));
                AdmittedStream::new(stream, a.permit, guard, &budget)
            });
            Some((next, (listener, limit)))
        }
    })
}

impl Connected for AdmittedStream {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        ConnectionInfo {
            tcp: self.socket().0.get_ref().connect_info(),
            budget: Arc::clone(&self.budget),
        }
    }
}

impl AsyncRead for AdmittedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for AdmittedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

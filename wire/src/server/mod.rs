//! The server, in the mini-redis style: a semaphore caps connections (taken before
//! `accept`), each connection runs in its own task (`connection.rs`), requests run
//! concurrently up to a per-connection cap (`dispatch.rs` turns a frame into a
//! `Ticketing` call), live subscriptions run as tasks of their connection
//! (`subscriptions.rs`) sharing its state (`shared.rs`) and its output queue
//! (`queue.rs`), each change's PUSH payload is encoded once for the whole server, and
//! shutdown stops accepting, lets every connection finish what it has in flight (ending
//! its subscriptions), and closes, within a deadline. Every connection's write half is
//! wrapped in netkit's write-stall guard ([`Guarded::write_stall_only`]): a write that
//! makes no progress for `server.write_stall_timeout` ends the connection, like every
//! Quartet server's.
//!
//! Accepting: through netkit's opening limit
//! ([`ConnectionLimit::accept_opening`]), like the HTTP servers: a new connection also
//! takes one of [`MAX_OPENING_CONNECTIONS`] opening slots before `accept`, and gives it
//! back once the server has caught up with it (a read finds nothing more), at its first
//! write past the server hello (an answer, a connection error), or when it ends. While
//! every slot is taken, a burst of new connections waits in the listen backlog instead
//! of queueing its hellos, TLS handshakes and first frames (an oversized one, say) ahead
//! of the established connections' requests. Over plain TCP the slot is shared by the
//! socket's two owned halves (`opening.rs`, which says why the server hello does not end
//! the opening phase), so the read loop and the writer need no lock between them; over
//! TLS it sits on the socket, under TLS, in netkit's [`Opening`], and the handshake's
//! first message ends it.
//!
//! Each accepted socket also gets `TCP_NOTSENT_LOWAT` ([`MAX_UNSENT_BYTES`]): the kernel
//! takes at most that much of a connection's answers beyond what its peer's window lets
//! it send, so a peer that never reads stops the server's writes (and, through the byte
//! budgets, its reading and its work) after about one large answer, not after the
//! megabyte or more that loopback's send buffers otherwise take (see the constant).
//!
//! What does not live here: the connection's read loop, writer and deadlines
//! (`connection.rs`), the byte budgets (`queue.rs`), the limits' values (`config.rs`).

mod connection;
mod dispatch;
mod opening;
mod queue;
mod shared;
mod subscriptions;

pub use self::queue::GUARANTEED_QUEUED_BYTES;

use std::future::Future;
use std::io;

use domain::SharedTicketing;
use netkit::config::MAX_OPENING_CONNECTIONS;
use netkit::connections::{ConnectionLimit, Counted, Opening};
use netkit::guard::Guarded;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use self::connection::ServerWide;
use self::queue::Pool;
use self::subscriptions::EncodedPushes;
use crate::config::{Config, MAX_UNSENT_BYTES};

/// Serves `api` on `listener` with `config` until `shutdown` resolves, then drains: no
/// new connections or requests, answers to everything already read, and after
/// `config.server.shutdown_grace` whatever remains is abandoned.
///
/// # Errors
/// Only if the listener fails.
pub async fn serve(
    listener: TcpListener,
    api: SharedTicketing,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    serve_with_opening(listener, api, config, MAX_OPENING_CONNECTIONS, shutdown).await
}

/// [`serve`] with at most `opening` connections in their opening phase (tests use 1).
async fn serve_with_opening(
    listener: TcpListener,
    api: SharedTicketing,
    config: Config,
    opening: usize,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let limit = ConnectionLimit::with_opening(config.server.max_connections, opening);
    let (stop, stopping) = watch::channel(false);
    let connections = TaskTracker::new();
    // One memo for the whole server: a change is encoded once, whichever connections
    // carry its subscribers.
    // And one byte budget for answers waiting to be written, over every connection.
    let server = ServerWide {
        pushes: EncodedPushes::default(),
        pool: Pool::new(config.max_total_queued_bytes),
    };
    // With TLS, each connection's handshake runs in its own task, under the connection's
    // permit and the handshake deadline, offering the protocol's ALPN id.
    let acceptor = config
        .server
        .tls
        .as_ref()
        .map(|tls| tls.acceptor(&[crate::handshake::ALPN]));
    tokio::pin!(shutdown);
    loop {
        let (admitted, slot) = tokio::select! {
            admitted = limit.accept_opening(&listener) => admitted?,
            () = &mut shutdown => break,
        };
        limit_unsent(&admitted.stream);
        let api = SharedTicketing::clone(&api);
        let server = ServerWide::clone(&server);
        let config = config.clone();
        let stopping = stopping.clone();
        let acceptor = acceptor.clone();
        // Every write (hello, answers, the last word, the close) fails once it has made
        // no progress for this long: a peer that never reads is closed, and what it
        // held is released, however the write got stuck.
        let stall = config.server.write_stall_timeout;
        connections.spawn(async move {
            let peer = admitted.peer;
            let ended = if let Some(acceptor) = acceptor {
                // The opening slot sits on the socket, under TLS: a handshake is opening
                // work too. Bytes are counted under TLS, as they cross the socket.
                let socket = Counted(Opening::new(admitted.stream, slot));
                match acceptor.accept(socket, peer).await {
                    Some(tls) => {
                        let (read, write) = tokio::io::split(tls);
                        let write = Guarded::write_stall_only(write, stall);
                        connection::run(read, write, peer, api, server, config, stopping).await
                    }
                    None => Ok(()),
                }
            } else {
                let (read, write) = opening::split(admitted.stream, slot);
                let (read, write) = (Counted(read), Counted(write));
                let write = Guarded::write_stall_only(write, stall);
                connection::run(read, write, peer, api, server, config, stopping).await
            };
            if let Err(e) = ended {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(admitted.permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    connections.close();
    let grace = config.server.shutdown_grace;
    tracing::info!(?grace, "draining open connections");
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("grace period over; abandoning the remaining connections");
    }
    Ok(())
}

/// Caps the answers the kernel holds unsent on `stream` at [`MAX_UNSENT_BYTES`]
/// (`TCP_NOTSENT_LOWAT`; see the constant for why). Best effort: a socket that refuses
/// it is served as before, with the kernel's own send buffer as the only bound.
fn limit_unsent(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_notsent_lowat(MAX_UNSENT_BYTES) {
        tracing::debug!(error = %e, "cannot set TCP_NOTSENT_LOWAT");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (stream, MAX_UNSENT_BYTES);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;

    use super::*;

    const DEADLINE: Duration = Duration::from_secs(10);

    /// With a single opening slot, connections past their hello hold none, over plain
    /// TCP (the slot shared by the socket's halves) and over TLS (netkit's `Opening`
    /// under TLS): connections that stay open idle, and one that sent a request it never
    /// reads the answer to, do not keep newcomers out. Were the slot not given back once
    /// the server has read all a connection sent (plain), or at the TLS handshake's
    /// first message, the second connection's hello would never be answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_past_their_hello_hold_no_opening_slot() {
        let (server_tls, client_tls) =
            netkit::tls::dev::pair(Duration::from_secs(10)).expect("development certificates");
        for tls in [None, Some((server_tls, client_tls))] {
            let (server_tls, client_tls) = tls.unzip();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let spec = domain::DatasetSpec {
                events: 20,
                seed: 7,
            };
            let api: SharedTicketing =
                Arc::new(domain::Service::generate(spec, domain::Limits::default()));
            let config = Config::with_server(netkit::ServerConfig {
                tls: server_tls,
                ..netkit::ServerConfig::default()
            });
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(serve_with_opening(listener, api, config, 1, async {
                let _ = stopped.await;
            }));
            let client_config = netkit::ClientConfig {
                tls: client_tls.clone(),
                ..netkit::ClientConfig::default()
            };
            let mut open = Vec::new();
            for round in 0..3 {
                let client = tokio::time::timeout(
                    DEADLINE,
                    crate::Client::connect_with(addr, 1, &client_config),
                )
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "connection {round} (TLS: {}) waited for a slot",
                        client_tls.is_some()
                    )
                })
                .unwrap();
                client.ping().await.unwrap();
                open.push(client);
            }
            if client_tls.is_none() {
                // A peer that asks and never reads, then a newcomer.
                let mut silent = TcpStream::connect(addr).await.unwrap();
                silent
                    .write_all(&crate::handshake::client_hello())
                    .await
                    .unwrap();
                let ping = crate::frame::Frame::request(
                    crate::frame::Opcode::Ping,
                    1,
                    bytes::Bytes::new(),
                );
                let frame = crate::codec::encode_frame(ping, 1 << 20).unwrap();
                silent.write_all(&frame).await.unwrap();
                let newcomer = tokio::time::timeout(DEADLINE, crate::Client::connect(addr))
                    .await
                    .expect("a peer that never reads held the opening slot")
                    .unwrap();
                newcomer.ping().await.unwrap();
            }
            for client in &open {
                client.ping().await.unwrap();
            }
            drop(open);
            let _ = stop.send(());
            server.await.unwrap().unwrap();
        }
    }
}

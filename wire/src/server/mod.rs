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

mod connection;
mod dispatch;
mod queue;
mod shared;
mod subscriptions;

pub use self::queue::GUARANTEED_QUEUED_BYTES;

use std::future::Future;
use std::io;

use domain::SharedTicketing;
use netkit::connections::{ConnectionLimit, Counted};
use netkit::guard::Guarded;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use self::connection::ServerWide;
use self::queue::Pool;
use self::subscriptions::EncodedPushes;
use crate::config::Config;

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
    let limit = ConnectionLimit::new(config.server.max_connections);
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
        let admitted = tokio::select! {
            admitted = limit.accept(&listener) => admitted?,
            () = &mut shutdown => break,
        };
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
                // Bytes are counted under TLS, as they cross the socket.
                match acceptor.accept(Counted(admitted.stream), peer).await {
                    Some(tls) => {
                        let (read, write) = tokio::io::split(tls);
                        let write = Guarded::write_stall_only(write, stall);
                        connection::run(read, write, peer, api, server, config, stopping).await
                    }
                    None => Ok(()),
                }
            } else {
                let (read, write) = admitted.stream.into_split();
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

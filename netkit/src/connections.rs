//! A cap on open connections, in the mini-redis style: a permit is taken *before*
//! `accept`, so at the cap the server stops accepting and further clients wait in the
//! kernel's backlog instead of costing the server memory.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Hands out connections while fewer than the cap are open.
#[derive(Debug, Clone)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
    max: usize,
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
        let max = max.max(1);
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(max)),
            max,
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

    /// Connections open right now.
    pub fn open(&self) -> usize {
        self.max - self.permits.available_permits()
    }
}

//! [`WebSockets`]: one server's WebSocket connections, counted against a cap and ended
//! at shutdown.
//!
//! hyper hands an upgraded connection over to its handler and forgets it: the HTTP
//! server's connection cap frees its slot and its graceful drain no longer waits for it.
//! So the WebSocket connections are counted and drained here:
//! - an upgrade takes a slot of their own cap (the server's `max_connections`), and is
//!   refused with 503 and LIMIT_EXCEEDED when none is free (or UNAVAILABLE once the server
//!   is shutting down), before the handshake, so the client gets an HTTP answer;
//! - at shutdown ([`WebSockets::close`]) every connection ends each running operation
//!   with an UNAVAILABLE error and `complete`, then closes with 1001 (going away);
//!   [`WebSockets::drained`] resolves once every connection has ended.
//!
//! What is not here: what a connection does (`endpoint.rs`) and how its operations run
//! (`executor.rs`).

use std::sync::Arc;

use domain::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// What the cap counts, in its LIMIT_EXCEEDED error.
pub const WEBSOCKETS_WHAT: &str = "websocket connections";

/// One server's WebSocket connections (see the module docs).
#[derive(Debug)]
pub struct WebSockets {
    slots: Arc<Semaphore>,
    max: usize,
    closing: watch::Sender<bool>,
}

/// One admitted connection's slot, given back when it is dropped (the connection ended).
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// Tells a connection and its operations that the server is shutting down.
#[derive(Debug, Clone, Default)]
pub struct Closing(Option<watch::Receiver<bool>>);

impl Closing {
    /// A signal that never fires: for an executor used outside a server.
    pub fn never() -> Self {
        Closing(None)
    }

    /// Resolves once the server has begun shutting down (or is gone); never for
    /// [`Closing::never`].
    pub async fn begun(self) {
        match self.0 {
            // An error means the sender is gone with the server: stop too.
            Some(mut closing) => {
                let _ = closing.wait_for(|closing| *closing).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Whether the server has begun shutting down.
    pub fn has_begun(&self) -> bool {
        self.0.as_ref().is_some_and(|closing| *closing.borrow())
    }
}

impl WebSockets {
    /// At most `max` connections at once (at least one).
    pub fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        WebSockets {
            slots: Arc::new(Semaphore::new(max)),
            max,
            closing: watch::channel(false).0,
        }
    }

    /// A slot for one more connection.
    ///
    /// # Errors
    /// LIMIT_EXCEEDED when `max` connections are open; UNAVAILABLE once shutting down.
    pub fn admit(&self) -> Result<Slot, Error> {
        if *self.closing.borrow() {
            return Err(Error::unavailable("the server is shutting down"));
        }
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map(|permit| Slot { _permit: permit })
            .map_err(|_| Error::limit_exceeded(WEBSOCKETS_WHAT, self.max as u64))
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.max - self.slots.available_permits()
    }

    /// What a connection watches to learn of the shutdown.
    pub fn closing(&self) -> Closing {
        Closing(Some(self.closing.subscribe()))
    }

    /// Starts the shutdown: no more connections, and every open one ends its operations
    /// and closes.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once no connection is open. Call after [`WebSockets::close`], under a
    /// deadline.
    pub async fn drained(&self) {
        // Every slot back means every connection has ended; `max` fits in u32 since
        // the semaphore holds at most MAX_PERMITS.
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _ = self.slots.acquire_many(all).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_with_limit_exceeded_and_frees_on_drop() {
        let websockets = WebSockets::new(2);
        let a = websockets.admit().unwrap();
        let _b = websockets.admit().unwrap();
        assert_eq!(websockets.open(), 2);
        let refused = websockets.admit().unwrap_err();
        assert_eq!(refused.code(), domain::ErrorCode::LimitExceeded);
        drop(a);
        assert_eq!(websockets.open(), 1);
        assert!(websockets.admit().is_ok());
    }

    #[test]
    fn nothing_is_admitted_once_closing() {
        let websockets = WebSockets::new(2);
        let closing = websockets.closing();
        assert!(!closing.has_begun());
        websockets.close();
        assert!(closing.has_begun());
        let refused = websockets.admit().unwrap_err();
        assert_eq!(refused.code(), domain::ErrorCode::Unavailable);
    }

    #[tokio::test]
    async fn drained_waits_for_the_last_connection() {
        let websockets = Arc::new(WebSockets::new(3));
        let slot = websockets.admit().unwrap();
        websockets.close();
        let waiting = tokio::spawn({
            let websockets = Arc::clone(&websockets);
            async move { websockets.drained().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(slot);
        tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
            .await
            .unwrap()
            .unwrap();
    }
}

//! [`SendBudget`]: a server-wide bound on the bytes of answers handed to the HTTP/2
//! layer but not yet written to any socket.
//!
//! h2 buffers whatever a stream's body hands it, whole, as soon as the stream has one
//! byte of send capacity (hyper polls the body first and holds the chunk until then), so
//! a client that asks for large answers on many streams and never reads them holds
//! `max_concurrent_streams` answers per connection in the server's memory, and a
//! thousand such connections held gigabytes. Neither h2's `max_send_buf_size` (it only
//! decides when the next chunk is asked for, not how big one is) nor the per-connection
//! stream cap bounds that across connections; this ledger does.
//!
//! Each connection has a [`ConnectionBudget`]: answer bytes are charged to it before a
//! body hands them on ([`ConnectionBudget::try_charge`]) and released as the connection's
//! guard (`crate::guard`) sees DATA frame payload written to the socket, or all at once
//! when the connection ends. A connection may always have
//! [`SendBudgetConfig::per_connection`] bytes outstanding (so a client that reads its
//! answers is never stuck behind others' unread ones); what it has beyond that comes out
//! of the shared [`SendBudgetConfig::shared`]. So at most
//! `shared + per_connection × open connections` bytes of answers wait in memory,
//! whatever clients do. A charge that does not fit fails at once (the caller drops the
//! answer and refuses the call): waiting with an answer in hand would hold exactly the
//! memory this bounds. Waiting is for callers that have no answer yet
//! ([`ConnectionBudget::wait_for_room`], before a handler runs); once a connection's
//! answer was refused, its next call waits until an answer that size would fit, so a
//! client whose answers are dropped cannot keep the server computing them.
//!
//! Bytes of a stream the client resets before they are written stay charged until the
//! connection writes as many other DATA bytes or ends (the guard cannot tell which
//! stream a write belongs to an answer's charge): conservative, never an overrun.
//!
//! The budget bounds answer bytes, not streams: what bounds the streams a client that
//! never reads can open is the guard, which reads nothing from a connection while its
//! writes are blocked (`crate::guard`, "reads wait while writes are blocked"). The
//! ledger counts what that does, for tests and operators: calls that asked for room
//! ([`SendBudget::calls`]), connections whose writes are blocked now
//! ([`SendBudget::write_blocked`]) and reads held back ([`SendBudget::held_reads`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

/// The limits of a [`SendBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendBudgetConfig {
    /// Bytes of answers all connections together may have outstanding beyond their
    /// own `per_connection` allowance.
    pub shared: usize,
    /// Bytes of answers every connection may have outstanding whatever the others do.
    pub per_connection: usize,
    /// How long a call waits for room before it is refused (`RESOURCE_EXHAUSTED`).
    pub wait: Duration,
}

impl SendBudgetConfig {
    /// The budget `http2` names.
    pub fn new(http2: &crate::Http2Config) -> Self {
        SendBudgetConfig {
            shared: http2.send_budget_bytes,
            per_connection: http2.send_budget_per_connection_bytes,
            wait: http2.send_budget_wait,
        }
    }
}

/// Server-wide state, behind one lock: charges and releases are a few additions.
#[derive(Debug, Default)]
struct Ledger {
    /// The bytes connections have outstanding beyond their allowance, summed.
    shared_used: usize,
}

#[derive(Debug)]
struct Shared {
    config: SendBudgetConfig,
    ledger: Mutex<Ledger>,
    /// Every connection's outstanding bytes, summed (the gauge), and its peak.
    outstanding: AtomicUsize,
    peak: AtomicUsize,
    /// Charges refused (answers dropped) and calls that waited in vain.
    refused: AtomicU64,
    /// Charges of at least one byte that fit.
    charges: AtomicU64,
    /// Calls that asked for room ([`ConnectionBudget::wait_for_room`]).
    calls: AtomicU64,
    /// Connections whose last write-side poll returned `Pending` (the guard's gauge).
    write_blocked: AtomicUsize,
    /// Reads the guard held back because the connection's writes were blocked.
    held_reads: AtomicU64,
    /// Woken when `shared_used` falls below `config.shared` again.
    room: Notify,
}

/// The server-wide budget; cheap to clone (one per server, shared by its connections).
#[derive(Debug, Clone)]
pub struct SendBudget {
    shared: Arc<Shared>,
}

impl SendBudget {
    /// An empty budget with these limits.
    pub fn new(config: SendBudgetConfig) -> Self {
        SendBudget {
            shared: Arc::new(Shared {
                config,
                ledger: Mutex::new(Ledger::default()),
                outstanding: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                refused: AtomicU64::new(0),
                charges: AtomicU64::new(0),
                calls: AtomicU64::new(0),
                write_blocked: AtomicUsize::new(0),
                held_reads: AtomicU64::new(0),
                room: Notify::new(),
            }),
        }
    }

    /// The limits.
    pub fn config(&self) -> SendBudgetConfig {
        self.shared.config
    }

    /// A ledger for one new connection.
    pub fn connection(&self) -> Arc<ConnectionBudget> {
        Arc::new(ConnectionBudget {
            shared: Arc::clone(&self.shared),
            outstanding: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            wanted: AtomicUsize::new(0),
            room: Notify::new(),
        })
    }

    /// Answer bytes outstanding now, all connections together.
    pub fn outstanding(&self) -> usize {
        self.shared.outstanding.load(Ordering::Relaxed)
    }

    /// The most [`SendBudget::outstanding`] has been.
    pub fn peak(&self) -> usize {
        self.shared.peak.load(Ordering::Relaxed)
    }

    /// Answers dropped and calls refused for want of room, so far.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    /// Charges of at least one byte that fit (answer chunks let through), so far.
    pub fn charges(&self) -> u64 {
        self.shared.charges.load(Ordering::Relaxed)
    }

    /// Calls that asked for room, so far: one per call the server started on a
    /// connection with a budget.
    pub fn calls(&self) -> u64 {
        self.shared.calls.load(Ordering::Relaxed)
    }

    /// Connections whose writes are blocked now (their peer is not reading): the guard
    /// reads nothing from them.
    pub fn write_blocked(&self) -> usize {
        self.shared.write_blocked.load(Ordering::Relaxed)
    }

    /// Reads the guard held back because their connection's writes were blocked, so far.
    pub fn held_reads(&self) -> u64 {
        self.shared.held_reads.load(Ordering::Relaxed)
    }
}

/// One connection's share of a [`SendBudget`]: charged by its answers' bodies, released
/// by its guard as bytes are written.
#[derive(Debug)]
pub struct ConnectionBudget {
    shared: Arc<Shared>,
    /// Bytes charged and not yet released. Changed only under the ledger's lock.
    outstanding: AtomicUsize,
    /// Set when the connection ended: later charges fail (nothing could release them).
    closed: AtomicBool,
    /// The size of this connection's last answer that did not fit (0 after one that
    /// did): its next call is admitted only when that much fits, so a client whose large
    /// answers are refused does not make the server compute one after another only to
    /// drop them.
    wanted: AtomicUsize,
    /// Woken when `outstanding` falls below the allowance again.
    room: Notify,
}

impl ConnectionBudget {
    /// Whether a call could start now: this connection is under its allowance, or the
    /// shared budget is not used up; after a refused answer, whether that answer would
    /// fit now.
    pub fn has_room(&self) -> bool {
        let config = &self.shared.config;
        let before = self.outstanding.load(Ordering::Relaxed);
        let wanted = self.wanted.load(Ordering::Relaxed);
        if wanted == 0 {
            if before < config.per_connection {
                return true;
            }
            return self.lock().shared_used < config.shared;
        }
        let after = before.saturating_add(wanted);
        let more_shared = after.saturating_sub(config.per_connection)
            - before.saturating_sub(config.per_connection);
        more_shared == 0 || self.lock().shared_used.saturating_add(more_shared) <= config.shared
    }

    /// Waits (at most the configured `wait`) until [`ConnectionBudget::has_room`]; false
    /// if the wait ran out or the connection ended (the call is then refused and counted).
    pub async fn wait_for_room(&self) -> bool {
        self.shared.calls.fetch_add(1, Ordering::Relaxed);
        // The common case, without a timer.
        if self.has_room() && !self.closed.load(Ordering::Relaxed) {
            return true;
        }
        let waited = tokio::time::timeout(self.shared.config.wait, async {
            loop {
                if self.closed.load(Ordering::Relaxed) {
                    return false;
                }
                // Registered before the check, so a release between the two still wakes.
                let shared = self.shared.room.notified();
                let own = self.room.notified();
                tokio::pin!(shared, own);
                shared.as_mut().enable();
                own.as_mut().enable();
                if self.has_room() {
                    return true;
                }
                tokio::select! {
                    () = shared => {}
                    () = own => {}
                }
            }
        })
        .await;
        let admitted = waited.unwrap_or(false);
        if !admitted {
            self.shared.refused.fetch_add(1, Ordering::Relaxed);
        }
        admitted
    }

    /// Charges `bytes` about to be handed to the HTTP/2 layer: true if they fit (within
    /// this connection's allowance, the rest within the shared budget), false (nothing
    /// charged, counted as refused) if not or if the connection has ended.
    pub fn try_charge(&self, bytes: usize) -> bool {
        let config = &self.shared.config;
        let mut ledger = self.lock();
        if self.closed.load(Ordering::Relaxed) {
            drop(ledger);
            self.shared.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let before = self.outstanding.load(Ordering::Relaxed);
        let after = before.saturating_add(bytes);
        let more_shared = after.saturating_sub(config.per_connection)
            - before.saturating_sub(config.per_connection);
        if more_shared > 0 && ledger.shared_used.saturating_add(more_shared) > config.shared {
            drop(ledger);
            self.wanted.store(bytes, Ordering::Relaxed);
            self.shared.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.wanted.store(0, Ordering::Relaxed);
        ledger.shared_used += more_shared;
        self.outstanding.store(after, Ordering::Relaxed);
        drop(ledger);
        let total = self.shared.outstanding.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.shared.peak.fetch_max(total, Ordering::Relaxed);
        if bytes > 0 {
            self.shared.charges.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// Releases up to `bytes` (DATA payload the guard saw written).
    pub fn release(&self, bytes: usize) {
        // The common case of a connection that keeps up: nothing charged, no lock.
        if bytes == 0 || self.outstanding.load(Ordering::Relaxed) == 0 {
            return;
        }
        let config = &self.shared.config;
        let mut ledger = self.lock();
        let before = self.outstanding.load(Ordering::Relaxed);
        let released = bytes.min(before);
        let after = before - released;
        let less_shared = before.saturating_sub(config.per_connection)
            - after.saturating_sub(config.per_connection);
        ledger.shared_used -= less_shared;
        self.outstanding.store(after, Ordering::Relaxed);
        drop(ledger);
        self.shared
            .outstanding
            .fetch_sub(released, Ordering::Relaxed);
        // Only releases of shared room wake waiters (each checks whether its answer
        // fits now): a release inside a connection's allowance changes nothing they wait
        // for, and waking every waiter on every write would cost more than the attack.
        if less_shared > 0 {
            self.shared.room.notify_waiters();
        }
        if before >= config.per_connection && after < config.per_connection {
            self.room.notify_waiters();
        }
    }

    /// Releases everything and refuses later charges: the connection ended, and its
    /// buffers with it.
    pub fn close(&self) {
        {
            let _ledger = self.lock();
            self.closed.store(true, Ordering::Relaxed);
        }
        self.release(usize::MAX);
        self.room.notify_waiters();
    }

    /// The guard's report that this connection's writes became blocked (`true`) or made
    /// progress again (`false`); each change is reported once.
    pub fn set_write_blocked(&self, blocked: bool) {
        if blocked {
            self.shared.write_blocked.fetch_add(1, Ordering::Relaxed);
        } else {
            self.shared.write_blocked.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The guard's report that it held a read back.
    pub fn read_held(&self) {
        self.shared.held_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Bytes this connection has outstanding.
    pub fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // The ledger is a few counters updated without calling out: a panic elsewhere
        // cannot leave them half-written.
        self.shared
            .ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn budget(shared: usize, per_connection: usize) -> SendBudget {
        SendBudget::new(SendBudgetConfig {
            shared,
            per_connection,
            wait: Duration::from_secs(5),
        })
    }

    #[test]
    fn each_connection_has_its_allowance_and_shares_the_rest() {
        let budget = budget(1000, 100);
        let (a, b) = (budget.connection(), budget.connection());
        assert!(a.try_charge(600));
        assert!(a.try_charge(500)); // 100 allowance + 1000 shared, all used
        assert!(!a.try_charge(1));
        assert!(!b.try_charge(101), "only its own allowance is left");
        assert!(b.try_charge(100));
        assert_eq!(budget.outstanding(), 1200);
        assert_eq!(budget.refused(), 2);
        a.release(50);
        assert!(b.try_charge(50), "a's release freed shared room");
        a.close();
        b.close();
        assert_eq!(budget.outstanding(), 0);
        assert_eq!(budget.peak(), 1200);
        assert!(!a.try_charge(1), "a closed connection takes no charges");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_is_admitted_by_a_release_or_refused_at_the_deadline() {
        let budget = budget(100, 10);
        let (a, b) = (budget.connection(), budget.connection());
        assert!(a.try_charge(110));
        assert!(b.try_charge(10));
        assert!(!b.has_room());
        let waiting = tokio::spawn({
            let b = Arc::clone(&b);
            async move { b.wait_for_room().await }
        });
        tokio::task::yield_now().await;
        a.release(1);
        assert!(waiting.await.unwrap(), "a's release made shared room");
        assert!(b.try_charge(1));
        let started = tokio::time::Instant::now();
        assert!(!b.wait_for_room().await);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[test]
    fn after_a_refused_answer_a_call_waits_until_that_much_fits() {
        let budget = budget(100, 10);
        let (a, b) = (budget.connection(), budget.connection());
        assert!(a.try_charge(60));
        assert!(!b.try_charge(61), "10 allowance + 50 shared left");
        assert!(!b.has_room(), "another such answer would not fit either");
        a.release(1);
        assert!(b.has_room());
        assert!(b.try_charge(61));
    }
}

//! `Gauges`: what a running wire server can report about its connections' output
//! queues, for tests and monitoring. A server updates them only when its
//! [`Config::gauges`](crate::Config::gauges) holds one; cloning shares the counters.
//!
//! The queued bytes are counted from each answer's real encoded length, independently
//! of the byte budget that bounds them, so a test can check the bound instead of
//! trusting it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shared counters of one server (or several, if they are given the same value).
#[derive(Debug, Clone, Default)]
pub struct Gauges(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    queued_bytes: AtomicUsize,
    peak_total_queued_bytes: AtomicUsize,
    peak_queued_bytes: AtomicUsize,
    paused_connections: AtomicUsize,
    connections: AtomicUsize,
    pauses: AtomicU64,
    write_timeouts: AtomicU64,
    write_stalls: AtomicU64,
}

impl Gauges {
    /// Fresh counters, all zero.
    pub fn new() -> Self {
        Gauges::default()
    }

    /// Bytes of encoded answers waiting to be written now, over all connections (length
    /// prefix and header included).
    pub fn queued_bytes(&self) -> usize {
        self.0.queued_bytes.load(Ordering::SeqCst)
    }

    /// The most bytes of encoded answers ever waiting at once, over all connections.
    pub fn peak_total_queued_bytes(&self) -> usize {
        self.0.peak_total_queued_bytes.load(Ordering::SeqCst)
    }

    /// The most bytes of encoded answers ever waiting on one connection at once (the
    /// server-wide bound is checked against [`Gauges::peak_total_queued_bytes`]).
    pub fn peak_queued_bytes(&self) -> usize {
        self.0.peak_queued_bytes.load(Ordering::SeqCst)
    }

    /// Connections open now, from their first byte to the end of their close (a lingering
    /// close included), so a test can tell that the server has let them go without
    /// reading from them (which would make them progress).
    pub fn connections(&self) -> usize {
        self.0.connections.load(Ordering::SeqCst)
    }

    /// Connections whose reading is paused now: all their in-flight slots are taken, or
    /// their byte budget has no room, so the server reads no further request from them.
    pub fn paused_connections(&self) -> usize {
        self.0.paused_connections.load(Ordering::SeqCst)
    }

    /// How many times any connection's reading has been paused so far.
    pub fn pauses(&self) -> u64 {
        self.0.pauses.load(Ordering::SeqCst)
    }

    /// Connections closed because their peer did not read its answers within the write
    /// timeout.
    pub fn write_timeouts(&self) -> u64 {
        self.0.write_timeouts.load(Ordering::SeqCst)
    }

    /// Connections closed by the server's stall clock: answers made and not yet written,
    /// and no byte written for `write_stall_timeout`, while the writer was waiting for
    /// something other than a write (a write under way is netkit's guard's to time, and
    /// is not counted here).
    pub fn write_stalls(&self) -> u64 {
        self.0.write_stalls.load(Ordering::SeqCst)
    }

    /// `len` bytes were queued on a connection that now has `connection_total` queued.
    pub(crate) fn queued(&self, len: usize, connection_total: usize) {
        let total = self.0.queued_bytes.fetch_add(len, Ordering::SeqCst) + len;
        self.0
            .peak_total_queued_bytes
            .fetch_max(total, Ordering::SeqCst);
        self.0
            .peak_queued_bytes
            .fetch_max(connection_total, Ordering::SeqCst);
    }

    /// `len` queued bytes were written (or dropped with their connection).
    pub(crate) fn dequeued(&self, len: usize) {
        self.0.queued_bytes.fetch_sub(len, Ordering::SeqCst);
    }

    pub(crate) fn opened(&self) {
        self.0.connections.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn closed(&self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }

    pub(crate) fn pause(&self) {
        self.0.pauses.fetch_add(1, Ordering::SeqCst);
        self.0.paused_connections.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn resume(&self) {
        self.0.paused_connections.fetch_sub(1, Ordering::SeqCst);
    }

    pub(crate) fn write_stalled(&self) {
        self.0.write_stalls.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn write_timed_out(&self) {
        self.0.write_timeouts.fetch_add(1, Ordering::SeqCst);
    }
}

/// Two `Gauges` are equal when they share their counters.
impl PartialEq for Gauges {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Gauges {}

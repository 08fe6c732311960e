//! One connection's output queue: the byte budgets that bound the encoded frames
//! (answers and PUSH frames alike) waiting for the connection's writer, and the frames
//! holding their share of them until they are on the socket. Who waits for room and when
//! is the read loop's and the tasks' business (`connection.rs`, `subscriptions.rs`).
//!
//! Two budgets, because a per-connection bound alone is not a server bound: 1 000
//! connections that never read, each allowed 4 MiB, took the server to 2.4 GB (issue 18).
//! - The connection's own ([`Config::max_queued_bytes`](crate::Config::max_queued_bytes)),
//!   so one peer cannot take the whole server's.
//! - The server's ([`Pool`], [`Config::max_total_queued_bytes`](crate::Config::max_total_queued_bytes)),
//!   shared by every connection, except that each connection's first
//!   [`GUARANTEED_QUEUED_BYTES`] are its own: small answers to a peer that reads them
//!   never wait for room that peers which do not read are holding. So the bytes queued on
//!   the whole server are at most the pool plus that much per connection.
//!
//! It also keeps the connection's stall clock ([`StallClock`]): how many frames are
//! made and not yet on the socket, and since when nothing has been written.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::frame::{Frame, HEADER_LEN};
use crate::gauges::Gauges;

/// Bytes of the length prefix in front of every frame.
const LENGTH_PREFIX: usize = 4;

/// Bytes every connection may queue without taking them from the server's [`Pool`]:
/// 64 KiB, room for hundreds of ordinary answers (an event is a few hundred bytes), so a
/// peer that reads its answers is not held back by the pool that peers which do not read
/// have filled. It is what the pool cannot promise, so it is kept small: 1 024
/// connections at most hold 64 MiB of it in all. An answer that does not fit in what is
/// left of it takes all its bytes from the pool.
pub const GUARANTEED_QUEUED_BYTES: usize = 64 << 10;

/// The server-wide budget of bytes queued for writing, shared by every connection.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    permits: Arc<Semaphore>,
    capacity: usize,
}

impl Pool {
    /// A pool of `bytes` (0 counts as 1).
    pub(crate) fn new(bytes: usize) -> Self {
        let capacity = clamp_permits(bytes);
        Pool {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }
}

/// Semaphore permits for a budget of `bytes`: at least 1, at most what one acquire
/// can ask for.
fn clamp_permits(bytes: usize) -> usize {
    bytes
        .clamp(1, u32::MAX as usize)
        .min(Semaphore::MAX_PERMITS)
}

/// One connection's output queue: its byte budget and its share of the server's, and the
/// bytes actually queued (counted from real lengths, for the gauges).
#[derive(Debug)]
pub(super) struct Queue {
    budget: Arc<Semaphore>,
    capacity: usize,
    pool: Pool,
    /// Bytes queued from [`GUARANTEED_QUEUED_BYTES`] (not from the pool).
    guaranteed: AtomicUsize,
    /// Frames of this connection waiting for room in the pool, and told when none is.
    waiting_for_pool: AtomicUsize,
    pool_served: Notify,
    bytes: AtomicUsize,
    /// Cancelled when the writer ends: nothing more will be written.
    closed: CancellationToken,
    /// Told when an answer has to wait for room, so a read loop already waiting for the
    /// next frame goes back to waiting for room instead.
    pub(super) full: Notify,
    pub(super) stall: Arc<StallClock>,
    pub(super) gauges: Option<Gauges>,
}

impl Queue {
    pub(super) fn new(max_queued_bytes: usize, pool: Pool, gauges: Option<Gauges>) -> Self {
        let capacity = clamp_permits(max_queued_bytes);
        Queue {
            budget: Arc::new(Semaphore::new(capacity)),
            capacity,
            pool,
            guaranteed: AtomicUsize::new(0),
            waiting_for_pool: AtomicUsize::new(0),
            pool_served: Notify::new(),
            bytes: AtomicUsize::new(0),
            closed: CancellationToken::new(),
            full: Notify::new(),
            stall: Arc::new(StallClock::default()),
            gauges,
        }
    }

    /// Nothing more will be written: whatever waits for room gives up, and none is given.
    pub(super) fn close(&self) {
        self.budget.close();
        self.closed.cancel();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Whether a new answer may be started now without waiting: room in this
    /// connection's budget, and either in what it is guaranteed (with none of its frames
    /// already waiting for the pool) or in the pool.
    pub(super) fn has_room_now(&self) -> bool {
        !self.is_closed() && self.budget.available_permits() > 0 && self.pool_room_now()
    }

    fn pool_room_now(&self) -> bool {
        (self.waiting_for_pool.load(Ordering::SeqCst) == 0
            && self.guaranteed.load(Ordering::SeqCst) < GUARANTEED_QUEUED_BYTES)
            || self.pool.permits.available_permits() > 0
    }

    /// Waits until a new answer may be started (no earlier answer of this connection is
    /// waiting for room, in its budget or in the pool); `false` once the writer is gone.
    pub(super) async fn has_room(&self) -> bool {
        // Both semaphores are fair: asking for one byte queues behind every frame that
        // asked for room before.
        if self.budget.acquire().await.is_err() {
            return false;
        }
        loop {
            let served = self.pool_served.notified();
            if self.pool_room_now() {
                return !self.is_closed();
            }
            tokio::select! {
                biased;
                () = self.closed.cancelled() => return false,
                acquired = self.pool.permits.acquire() => return acquired.is_ok(),
                // This connection's own frames got their room: what it is guaranteed
                // may do for the next answer, without queueing behind the others.
                () = served => {}
            }
        }
    }

    /// Takes the answer's encoded length from the budgets (all of it, for an answer
    /// larger than a budget), waiting for room; `None` once the writer is gone. From the
    /// call on, the frame counts as unsent for the stall clock.
    pub(super) async fn reserve(self: &Arc<Self>, frame: Frame) -> Option<Queued> {
        let unsent = Unsent::new(&self.stall);
        let len = LENGTH_PREFIX + HEADER_LEN + frame.payload.len();
        let permits = len.min(self.capacity) as u32;
        let acquire = Arc::clone(&self.budget).acquire_many_owned(permits);
        tokio::pin!(acquire);
        // The first poll queues this answer for the budget (taking whatever is free), so
        // by the time the read loop hears of it, the budget shows no room.
        let permit = match futures::poll!(&mut acquire) {
            Poll::Ready(acquired) => acquired.ok()?,
            Poll::Pending => {
                self.full.notify_one();
                acquire.await.ok()?
            }
        };
        let share = if self.take_guaranteed(len) {
            Share::Guaranteed(len)
        } else {
            Share::Pool {
                _permit: self.take_from_pool(len).await?,
            }
        };
        let total = self.bytes.fetch_add(len, Ordering::SeqCst) + len;
        if let Some(gauges) = &self.gauges {
            gauges.queued(len, total);
        }
        Some(Queued {
            frame,
            bytes: QueuedBytes {
                len,
                _permit: permit,
                share,
                held: None,
                _unsent: unsent,
                queue: Arc::clone(self),
            },
        })
    }

    /// Takes `len` from what this connection is guaranteed, if it fits.
    fn take_guaranteed(&self, len: usize) -> bool {
        self.guaranteed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                (used + len <= GUARANTEED_QUEUED_BYTES).then_some(used + len)
            })
            .is_ok()
    }

    /// Takes `len` (at most the whole pool) from the server's pool, waiting for room;
    /// `None` once the writer is gone.
    async fn take_from_pool(&self, len: usize) -> Option<OwnedSemaphorePermit> {
        let permits = len.min(self.pool.capacity) as u32;
        let acquire = Arc::clone(&self.pool.permits).acquire_many_owned(permits);
        tokio::pin!(acquire);
        if let Poll::Ready(acquired) = futures::poll!(&mut acquire) {
            return acquired.ok();
        }
        // Waiting: the read loop must stop reading, and new answers must not start.
        self.waiting_for_pool.fetch_add(1, Ordering::SeqCst);
        self.full.notify_one();
        let acquired = tokio::select! {
            biased;
            () = self.closed.cancelled() => None,
            acquired = acquire => acquired.ok(),
        };
        if self.waiting_for_pool.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.pool_served.notify_waiters();
        }
        acquired
    }
}

/// Where a queued frame's bytes count, besides its connection's budget.
enum Share {
    /// In what its connection is guaranteed; this many bytes of it.
    Guaranteed(usize),
    /// In the server's pool, given back when dropped.
    Pool { _permit: OwnedSemaphorePermit },
}

/// An answer with its bytes taken from the budget.
pub(super) struct Queued {
    pub(super) frame: Frame,
    pub(super) bytes: QueuedBytes,
}

impl Queued {
    /// The same frame, also holding `permit` until it is written (a subscription's
    /// count of PUSH frames waiting to be written).
    pub(super) fn holding(mut self, permit: OwnedSemaphorePermit) -> Self {
        self.bytes.held = Some(permit);
        self
    }
}

/// The budget held by one queued answer, given back when it is dropped: after the
/// answer is on the socket, or with the connection.
pub(super) struct QueuedBytes {
    len: usize,
    _permit: OwnedSemaphorePermit,
    share: Share,
    /// Another bound this frame counts against until it is written, if any.
    held: Option<OwnedSemaphorePermit>,
    _unsent: Unsent,
    queue: Arc<Queue>,
}

impl Drop for QueuedBytes {
    fn drop(&mut self) {
        // The other bound's place is given back with the bytes.
        drop(self.held.take());
        if let Share::Guaranteed(len) = self.share {
            self.queue.guaranteed.fetch_sub(len, Ordering::SeqCst);
        }
        self.queue.bytes.fetch_sub(self.len, Ordering::SeqCst);
        if let Some(gauges) = &self.queue.gauges {
            gauges.dequeued(self.len);
        }
    }
}

/// A connection's stall clock: how many frames are made and not yet on the socket
/// (waiting for room, queued, or being written), and since when no byte has been
/// written while there were some. netkit's guard times a write that is under way; this
/// also times the frames that wait for room while the writer has nothing it can write
/// (the server's pool is full), so "no write progress for `write_stall_timeout` while
/// answers are unsent" closes the connection whatever the writer is waiting on.
#[derive(Debug, Default)]
pub(super) struct StallClock {
    state: Mutex<StallState>,
    /// Told when frames become unsent on a connection that had none.
    unsent: Notify,
}

#[derive(Debug, Default)]
struct StallState {
    unsent: usize,
    /// The last write progress, or when frames became unsent if later.
    since: Option<Instant>,
}

impl StallClock {
    /// Bytes were written: the clock restarts.
    pub(super) fn progressed(&self) {
        self.state.lock().since = Some(Instant::now());
    }

    /// When the connection will have stalled for `limit`, if frames are unsent.
    fn due(&self, limit: Duration) -> Option<Instant> {
        let state = self.state.lock();
        if state.unsent == 0 {
            return None;
        }
        state.since.map(|since| since + limit)
    }

    /// Returns once frames have been unsent with no write progress for `limit`.
    pub(super) async fn stalled(&self, limit: Duration) {
        loop {
            match self.due(limit) {
                // `notify_one` keeps its permit if nobody waits yet: no wake-up is lost
                // between the look above and this wait.
                None => self.unsent.notified().await,
                Some(due) if due <= Instant::now() => return,
                Some(due) => tokio::time::sleep_until(due).await,
            }
        }
    }
}

/// One frame counted as unsent from when it is made until it is on the socket.
struct Unsent(Arc<StallClock>);

impl Unsent {
    fn new(clock: &Arc<StallClock>) -> Self {
        let mut state = clock.state.lock();
        if state.unsent == 0 {
            // The clock runs from now, not from the last write, which may be long ago.
            state.since = Some(Instant::now());
            clock.unsent.notify_one();
        }
        state.unsent += 1;
        drop(state);
        Unsent(Arc::clone(clock))
    }
}

impl Drop for Unsent {
    fn drop(&mut self) {
        self.0.state.lock().unsent -= 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use bytes::Bytes;

    use super::*;
    use crate::frame::Opcode;

    const LIMIT: Duration = Duration::from_secs(30);

    /// A response frame whose encoded length is `len` bytes.
    fn frame(len: usize) -> Frame {
        let payload = Bytes::from(vec![0u8; len - LENGTH_PREFIX - HEADER_LEN]);
        Frame::request(Opcode::GetEvent, 1, payload)
    }

    #[tokio::test(start_paused = true)]
    async fn the_stall_clock_runs_only_while_frames_are_unsent() {
        let clock = Arc::new(StallClock::default());
        // Nothing unsent: never stalled, however long nothing is written.
        assert!(
            tokio::time::timeout(LIMIT * 10, clock.stalled(LIMIT))
                .await
                .is_err()
        );
        // A frame made now, after a long quiet time: the clock starts now.
        let started = Instant::now();
        let unsent = Unsent::new(&clock);
        tokio::time::sleep(LIMIT / 2).await;
        // Progress halfway restarts it.
        clock.progressed();
        clock.stalled(LIMIT).await;
        assert_eq!(started.elapsed(), LIMIT + LIMIT / 2);
        drop(unsent);
        assert!(
            tokio::time::timeout(LIMIT * 10, clock.stalled(LIMIT))
                .await
                .is_err()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_pool_bounds_every_connection_but_their_guaranteed_bytes() {
        let pool = Pool::new(300 << 10);
        let a = Arc::new(Queue::new(1 << 20, pool.clone(), None));
        let b = Arc::new(Queue::new(1 << 20, pool.clone(), None));
        // A takes the pool whole with big frames (none fits in its guaranteed bytes).
        let big = 150 << 10;
        let a1 = a.reserve(frame(big)).await.unwrap();
        let a2 = a.reserve(frame(big)).await.unwrap();
        assert_eq!(pool.permits.available_permits(), 0);
        // B's small frames still go, from what B is guaranteed, up to it.
        let mut small = Vec::new();
        for _ in 0..GUARANTEED_QUEUED_BYTES / 1024 - 1 {
            small.push(b.reserve(frame(1024)).await.unwrap());
        }
        assert!(
            b.has_room_now(),
            "the pool has no room, but B has guaranteed bytes left"
        );
        // One that does not fit in what is left waits for the pool, and B stops.
        let waiting = tokio::spawn({
            let b = Arc::clone(&b);
            async move { b.reserve(frame(2048)).await.is_some() }
        });
        tokio::task::yield_now().await;
        while b.waiting_for_pool.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(!b.has_room_now());
        assert!(
            tokio::time::timeout(LIMIT, b.has_room()).await.is_err(),
            "new work would start while an answer waits"
        );
        // A's frames written: B's goes.
        drop((a1, a2));
        assert!(waiting.await.unwrap());
        assert!(b.has_room_now());
        drop(small);
        // A frame waiting for the pool gives up when its connection closes.
        let _held = a.reserve(frame(300 << 10)).await.unwrap();
        let given_up = tokio::spawn({
            let b = Arc::clone(&b);
            async move { b.reserve(frame(big)).await.is_none() }
        });
        while b.waiting_for_pool.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        b.close();
        assert!(given_up.await.unwrap());
        assert!(!b.has_room().await);
    }
}

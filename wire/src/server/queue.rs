//! One connection's output queue: the byte budget that bounds the encoded frames
//! (answers and PUSH frames alike) waiting for the connection's writer, and the frames
//! holding their share of it until they are on the socket. Who waits for room and when is
//! the read loop's and the tasks' business (`connection.rs`, `subscriptions.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::frame::{Frame, HEADER_LEN};
use crate::gauges::Gauges;

/// Bytes of the length prefix in front of every frame.
const LENGTH_PREFIX: usize = 4;

/// One connection's output queue: the byte budget for encoded answers waiting to be
/// written, and the bytes actually queued (counted from real lengths, for the gauges).
#[derive(Debug)]
pub(super) struct Queue {
    pub(super) budget: Arc<Semaphore>,
    capacity: usize,
    bytes: AtomicUsize,
    /// Told when an answer has to wait for room, so a read loop already waiting for the
    /// next frame goes back to waiting for room instead.
    pub(super) full: Notify,
    pub(super) gauges: Option<Gauges>,
}

impl Queue {
    pub(super) fn new(max_queued_bytes: usize, gauges: Option<Gauges>) -> Self {
        let capacity = max_queued_bytes
            .clamp(1, u32::MAX as usize)
            .min(Semaphore::MAX_PERMITS);
        Queue {
            budget: Arc::new(Semaphore::new(capacity)),
            capacity,
            bytes: AtomicUsize::new(0),
            full: Notify::new(),
            gauges,
        }
    }

    /// Waits until the budget has room (no earlier answer is waiting for it); `false`
    /// once the connection's writer is gone.
    pub(super) async fn has_room(&self) -> bool {
        self.budget.acquire().await.is_ok()
    }

    /// Takes the answer's encoded length from the budget (all of it, for an answer larger
    /// than the budget), waiting for room; `None` once the writer is gone.
    pub(super) async fn reserve(self: &Arc<Self>, frame: Frame) -> Option<Queued> {
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
        let total = self.bytes.fetch_add(len, Ordering::SeqCst) + len;
        if let Some(gauges) = &self.gauges {
            gauges.queued(len, total);
        }
        Some(Queued {
            frame,
            bytes: QueuedBytes {
                len,
                _permit: permit,
                held: None,
                queue: Arc::clone(self),
            },
        })
    }
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
    /// Another bound this frame counts against until it is written, if any.
    held: Option<OwnedSemaphorePermit>,
    queue: Arc<Queue>,
}

impl Drop for QueuedBytes {
    fn drop(&mut self) {
        // The other bound's place is given back with the bytes.
        drop(self.held.take());
        self.queue.bytes.fetch_sub(self.len, Ordering::SeqCst);
        if let Some(gauges) = &self.queue.gauges {
            gauges.dequeued(self.len);
        }
    }
}

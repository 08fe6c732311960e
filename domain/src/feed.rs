//! `Feed`: one event's change feed behind `watch_availability`, for any backend.
//!
//! Every inventory change becomes one [`AvailabilityUpdate`], published under the event's
//! lock, so versions reach the feed in commit order with no gap. The feed keeps the newest
//! [`Limits::watch_retained`](crate::Limits::watch_retained) changes for subscribers that resume from a version, and
//! broadcasts to live subscribers through one shared ring of [`Limits::watch_buffer`](crate::Limits::watch_buffer)
//! messages: a subscriber that falls further behind than that is not skipped ahead
//! silently but ends with a [`UpdateKind::Resync`] naming the last version it was sent.
//! Memory is bounded per watched event (ring plus retained changes) whatever the
//! subscribers do. The in-memory store keeps one per watched event, published under the
//! event's lock; a database backend keeps one per event on each replica, published by
//! the task that reads the change log in commit order. Either way the ordering guarantee
//! is the publisher's: versions must be published in order, each exactly once.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::error::Result;
use crate::model::{AvailabilityStream, AvailabilityUpdate, EventId, UpdateKind};
use crate::rules;

/// One event's feed: the broadcast ring and the retained changes.
#[derive(Debug)]
pub struct Feed {
    sender: broadcast::Sender<Arc<AvailabilityUpdate>>,
    recent: VecDeque<Arc<AvailabilityUpdate>>,
    retained: usize,
}

/// What a new subscriber is sent before live changes, and where it then stands.
pub struct Start {
    /// Sent first, in order: the backlog after the subscriber's version, or a snapshot.
    pub first: Vec<Arc<AvailabilityUpdate>>,
    /// The version the subscriber stands at once `first` is sent.
    pub version: u64,
    /// Everything published after the start.
    pub receiver: broadcast::Receiver<Arc<AvailabilityUpdate>>,
}

impl Feed {
    /// A feed keeping `retained` changes, with a ring of `buffer` messages per subscriber.
    pub fn new(retained: usize, buffer: usize) -> Self {
        Feed {
            sender: broadcast::channel(buffer.max(1)).0,
            recent: VecDeque::with_capacity(retained),
            retained,
        }
    }

    /// Live receivers: subscribers whose stream has not been dropped.
    pub fn receivers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Records and broadcasts one change. Callers publish versions in order, once each.
    pub fn publish(&mut self, update: AvailabilityUpdate) {
        let update = Arc::new(update);
        if self.retained > 0 {
            if self.recent.len() == self.retained {
                self.recent.pop_front();
            }
            self.recent.push_back(Arc::clone(&update));
        }
        // No receiver left is not an error: nobody is following this event right now.
        let _ = self.sender.send(update);
    }

    /// A subscriber's start at `current`, the version last published: the retained
    /// changes after `from`, or `snapshot()` when `from` is absent or older than what is
    /// retained. Call it where nothing can be published concurrently (the in-memory store
    /// holds the event's lock); a publisher that cannot promise that uses
    /// [`Feed::receiver`] first and builds the [`Start`] itself.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if `from` is ahead of `current`.
    pub fn subscribe(
        &self,
        event_id: EventId,
        from: Option<u64>,
        current: u64,
        snapshot: impl FnOnce() -> AvailabilityUpdate,
    ) -> Result<Start> {
        let receiver = self.sender.subscribe();
        let first = match from {
            Some(from) if from > current => {
                return Err(rules::watch_version_ahead(event_id, from, current));
            }
            Some(from) if from == current => Vec::new(),
            Some(from) if self.recent.front().is_some_and(|u| u.version <= from + 1) => self
                .recent
                .iter()
                .filter(|u| u.version > from)
                .cloned()
                .collect(),
            _ => vec![Arc::new(snapshot())],
        };
        Ok(Start {
            first,
            version: current,
            receiver,
        })
    }
}

impl Feed {
    /// A receiver of everything published from now on.
    pub fn receiver(&self) -> broadcast::Receiver<Arc<AvailabilityUpdate>> {
        self.sender.subscribe()
    }

    /// The newest retained change, if any.
    pub fn latest(&self) -> Option<&Arc<AvailabilityUpdate>> {
        self.recent.back()
    }
}

/// The stream a subscriber reads: `start.first`, then every live change in order (any
/// version at or below where the start stands is skipped, so a receiver made before the
/// start was read is safe), ending with a resync if it falls behind.
pub fn stream(event_id: EventId, start: Start, clock: Arc<dyn Clock>) -> AvailabilityStream {
    let Start {
        first,
        version,
        receiver,
    } = start;
    // The version the subscriber has seen up to once `first` is sent; before anything is
    // sent it is where `first` begins, which only a resync could ever report.
    let seen = first.first().map_or(version, |u| match u.kind {
        UpdateKind::Change => u.version - 1,
        _ => u.version,
    });
    let state = Following {
        pending: first.into(),
        receiver,
        seen,
        ended: false,
    };
    futures::stream::unfold(state, move |mut state| {
        let clock = Arc::clone(&clock);
        async move {
            let update = state.next(event_id, clock.as_ref()).await?;
            Some((Ok(update), state))
        }
    })
    // Fused, so a transport that polls once more after the end gets `None`, not a panic.
    .fuse()
    .boxed()
}

struct Following {
    pending: VecDeque<Arc<AvailabilityUpdate>>,
    receiver: broadcast::Receiver<Arc<AvailabilityUpdate>>,
    /// The last version sent.
    seen: u64,
    ended: bool,
}

impl Following {
    async fn next(&mut self, event_id: EventId, clock: &dyn Clock) -> Option<AvailabilityUpdate> {
        if self.ended {
            return None;
        }
        if let Some(update) = self.pending.pop_front() {
            self.seen = update.version;
            return Some(update.as_ref().clone());
        }
        loop {
            match self.receiver.recv().await {
                // Already sent as part of the backlog or snapshot.
                Ok(update) if update.version <= self.seen => {}
                Ok(update) if update.version == self.seen + 1 => {
                    self.seen = update.version;
                    return Some(update.as_ref().clone());
                }
                // A gap (which the lock ordering rules out) or a lag: never skip ahead.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.ended = true;
                    return Some(AvailabilityUpdate {
                        event_id,
                        kind: UpdateKind::Resync,
                        version: self.seen,
                        sections: Vec::new(),
                        seats: Vec::new(),
                        committed_at: clock.now(),
                    });
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

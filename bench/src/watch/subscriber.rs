//! One subscriber of the `watch` scenario: follows an event's availability stream through
//! a protocol's client, timing every change from its commit (the server's clock) to its
//! arrival (this machine's clock, the same clock when both run here), checking versions
//! for gaps and resuming after a resync as a real client would.
//!
//! Subscriptions come through [`Subscribe`]: a protocol's own client ([`ApiSubscriber`],
//! every field decoded into the domain's update) or a lean one (`crate::lean::watch`,
//! decoding only what is measured and checked: the kind, the version, the commit time).
//!
//! Latencies go into one histogram shared by the run's subscribers ([`Latencies`]), not
//! one each: a histogram is ~140 KiB of counters, and a thousand of them written in turn
//! missed the cache on every record (15% of the load generator's CPU under perf, enough to
//! put its own queueing into the delivery latency it measures).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use domain::{EventId, SharedTicketing, UpdateKind};
use futures::{Stream, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::watch;

use crate::stats;

/// Commit-to-arrival latencies in µs, recorded by several subscribers.
pub type Latencies = Arc<Mutex<Histogram<u64>>>;

/// An empty [`Latencies`].
pub fn latencies() -> Latencies {
    Arc::new(Mutex::new(stats::histogram()))
}

/// What a subscriber reads of each message: all the latency measurement and the order
/// check need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// Change, snapshot or resync.
    pub kind: UpdateKind,
    /// The inventory version (for a resync, the one to resume from).
    pub version: u64,
    /// The commit time on the server's clock, in µs since the Unix epoch.
    pub committed_micros: i64,
    /// When the message was received, in µs since the Unix epoch, if the subscription
    /// stamped it where it left the socket (the lean subscribers: the socket read that
    /// completed it, or a later one, never an earlier one). `None`: when [`follow`]
    /// takes it from the stream (a protocol's own client, whose stream is where its
    /// messages are received). A stamp at the socket keeps the load generator's own
    /// queueing of a thousand subscriber tasks on one core out of the delivery latency.
    pub received_micros: Option<i64>,
}

/// A subscription's messages, ending with the stream (an error says why it broke).
pub type MarkStream = Pin<Box<dyn Stream<Item = Result<Mark, String>> + Send>>;

/// Opens subscriptions: a protocol's client, or a lean subscriber.
#[async_trait::async_trait]
pub trait Subscribe: Send + Sync {
    /// Follows `event` after `from` (or from a snapshot of now).
    ///
    /// # Errors
    /// If the subscription is refused or cannot be sent; the message says why.
    async fn subscribe(&self, event: EventId, from: Option<u64>) -> Result<MarkStream, String>;
}

/// Subscriptions through a protocol's own client (`Ticketing::watch_availability`).
pub struct ApiSubscriber(pub SharedTicketing);

#[async_trait::async_trait]
impl Subscribe for ApiSubscriber {
    async fn subscribe(&self, event: EventId, from: Option<u64>) -> Result<MarkStream, String> {
        let stream = self
            .0
            .watch_availability(event, from)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Box::pin(stream.map(|item| {
            item.map(|update| Mark {
                kind: update.kind,
                version: update.version,
                committed_micros: update.committed_at.timestamp_micros(),
                received_micros: None,
            })
            .map_err(|e| e.to_string())
        })))
    }
}

/// What one subscriber saw (its latencies are in the [`Latencies`] it was given).
#[derive(Debug)]
pub struct Tally {
    /// Changes received.
    pub delivered: u64,
    /// Resyncs received (each followed by a resume).
    pub resyncs: u64,
    /// Changes whose version was not the previous one plus one (outside a resync).
    pub gaps: u64,
    /// Stream failures and unexpected ends.
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// The last version seen.
    pub last_version: u64,
}

impl Tally {
    fn new() -> Self {
        Tally {
            delivered: 0,
            resyncs: 0,
            gaps: 0,
            errors: 0,
            first_error: None,
            last_version: 0,
        }
    }

    fn fail(&mut self, why: String) {
        self.errors += 1;
        self.first_error.get_or_insert(why);
    }
}

/// How a subscriber behaves.
#[derive(Debug, Clone, Copy)]
pub struct Follow {
    /// The event followed.
    pub event: EventId,
    /// Time spent per message before reading the next: zero for a normal subscriber, more
    /// for the deliberately slow one.
    pub pause: Duration,
}

/// Subscribes and follows until the version named by `until` is reached (or `until`'s
/// sender is dropped), recording each change's latency into `latencies`. Sends its
/// starting version on `ready` once its first message came.
pub async fn follow(
    api: Arc<dyn Subscribe>,
    how: Follow,
    latencies: Latencies,
    ready: tokio::sync::mpsc::Sender<u64>,
    mut until: watch::Receiver<Option<u64>>,
) -> Tally {
    let mut tally = Tally::new();
    let mut stream = match api.subscribe(how.event, None).await {
        Ok(stream) => stream,
        Err(e) => {
            tally.fail(format!("subscribe: {e}"));
            return tally;
        }
    };
    let mut started = false;
    loop {
        if until
            .borrow()
            .is_some_and(|target| (started || target == 0) && tally.last_version >= target)
        {
            return tally;
        }
        // The stream first: `until` is read at the top of every turn anyway, and a
        // `changed()` polled first registers (and on dropping, unregisters) this task
        // with a notifier every subscriber shares, twice a message for nothing.
        let item = tokio::select! {
            biased;
            item = stream.next() => item,
            changed = until.changed() => {
                if changed.is_err() {
                    return tally;
                }
                continue;
            }
        };
        let update = match item {
            Some(Ok(update)) => update,
            Some(Err(e)) => {
                tally.fail(format!("stream: {e}"));
                return tally;
            }
            None => {
                tally.fail("the stream ended without a resync".to_owned());
                return tally;
            }
        };
        match update.kind {
            UpdateKind::Snapshot => {
                tally.last_version = update.version;
                if !started {
                    started = true;
                    // The runner may have stopped waiting; that is its business.
                    let _ = ready.send(update.version).await;
                }
            }
            UpdateKind::Change => {
                let received = update
                    .received_micros
                    .unwrap_or_else(|| chrono::Utc::now().timestamp_micros());
                let waited = received.saturating_sub(update.committed_micros);
                {
                    // A panic elsewhere cannot leave a histogram half-written: keep going.
                    let mut latency = latencies.lock().unwrap_or_else(PoisonError::into_inner);
                    stats::record(&mut latency, u64::try_from(waited).unwrap_or(0));
                }
                if update.version != tally.last_version + 1 {
                    tally.gaps += 1;
                }
                tally.last_version = update.version;
                tally.delivered += 1;
                if !how.pause.is_zero() {
                    // The slow subscriber's whole point: it takes this long per message.
                    tokio::time::sleep(how.pause).await;
                }
            }
            UpdateKind::Resync => {
                tally.resyncs += 1;
                tally.last_version = update.version;
                stream = match api.subscribe(how.event, Some(update.version)).await {
                    Ok(stream) => stream,
                    Err(e) => {
                        tally.fail(format!("resume: {e}"));
                        return tally;
                    }
                };
            }
        }
    }
}

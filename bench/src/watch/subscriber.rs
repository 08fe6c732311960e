//! One subscriber of the `watch` scenario: follows an event's availability stream through
//! a protocol's client, timing every change from its commit (the server's clock) to its
//! arrival (this machine's clock, the same clock when both run here), checking versions
//! for gaps and resuming after a resync as a real client would.
//!
//! Latencies go into one histogram shared by the run's subscribers ([`Latencies`]), not
//! one each: a histogram is ~140 KiB of counters, and a thousand of them written in turn
//! missed the cache on every record (15% of the load generator's CPU under perf, enough to
//! put its own queueing into the delivery latency it measures).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use domain::{EventId, SharedTicketing, UpdateKind};
use futures::StreamExt;
use hdrhistogram::Histogram;
use tokio::sync::watch;

use crate::stats;

/// Commit-to-arrival latencies in µs, recorded by several subscribers.
pub type Latencies = Arc<Mutex<Histogram<u64>>>;

/// An empty [`Latencies`].
pub fn latencies() -> Latencies {
    Arc::new(Mutex::new(stats::histogram()))
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
    api: SharedTicketing,
    how: Follow,
    latencies: Latencies,
    ready: tokio::sync::mpsc::Sender<u64>,
    mut until: watch::Receiver<Option<u64>>,
) -> Tally {
    let mut tally = Tally::new();
    let mut stream = match api.watch_availability(how.event, None).await {
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
        let item = tokio::select! {
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
                let now = chrono::Utc::now().timestamp_micros();
                let waited = now.saturating_sub(update.committed_at.timestamp_micros());
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
                stream = match api
                    .watch_availability(how.event, Some(update.version))
                    .await
                {
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

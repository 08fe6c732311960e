//! The `watch` scenario: S subscribers follow one event's live availability while a writer
//! changes it at a fixed rate; measured per protocol as delivery latency (commit to
//! arrival), messages delivered per second, resyncs, and whatever the caller reads from
//! the server around the window (CPU, bytes, memory per delivered message).
//!
//! - [`subscriber`]: one subscriber's loop and what it saw.
//! - [`writer`]: the paced writer.
//!
//! What is not here: connecting clients and starting servers (the bench command does
//! that, as for every scenario), and turning the outcome into a results record.

pub mod subscriber;
pub mod writer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{EventId, SeatId, SharedTicketing};
use hdrhistogram::Histogram;
use tokio::sync::{mpsc, watch};

use self::subscriber::{ApiSubscriber, Follow, Latencies, Subscribe, Tally};
use crate::stats;

/// How long subscribers may take to subscribe, and to catch up once the writer stops,
/// before the run counts what is missing.
pub const SETTLE: Duration = Duration::from_secs(30);

/// How long the slow subscriber may take to stop once told (one pause at most).
const STOP_SLOW: Duration = Duration::from_secs(5);

/// One watch run's shape.
#[derive(Debug, Clone, Copy)]
pub struct WatchPlan {
    /// The event followed and written to.
    pub event: EventId,
    /// Subscribers following it.
    pub subscribers: usize,
    /// Changes per second the writer makes.
    pub rate: f64,
    /// How long the writer writes.
    pub duration: Duration,
    /// One extra subscriber that spends this long on every message, to show the
    /// slow-consumer policy; its figures are kept apart from the others'.
    pub slow_subscriber: Option<Duration>,
}

/// What a watch run measured.
#[derive(Debug)]
pub struct WatchOutcome {
    /// Changes the writer committed.
    pub changes: u64,
    /// The writer's failures.
    pub write_errors: u64,
    /// How long the writer wrote.
    pub write_elapsed: Duration,
    /// From the writer's start until every subscriber caught up (or gave up).
    pub window: Duration,
    /// The normal subscribers, merged.
    pub all: Merged,
    /// The slow subscriber, if there was one, stopped where it stood when the others had
    /// everything.
    pub slow: Option<Slow>,
}

/// What the deliberately slow subscriber did.
#[derive(Debug)]
pub struct Slow {
    /// Commit-to-arrival latency of what it received, in µs.
    pub latency: Histogram<u64>,
    /// Changes received.
    pub delivered: u64,
    /// Resyncs received.
    pub resyncs: u64,
    /// Changes it was still behind when the others had everything.
    pub behind_at_end: u64,
    /// Version gaps it saw outside a resync (must be zero).
    pub gaps: u64,
    /// Failures.
    pub errors: u64,
}

impl Slow {
    fn of(tally: &Tally, latencies: &Latencies, end: u64) -> Self {
        Slow {
            behind_at_end: end.saturating_sub(tally.last_version),
            latency: taken(latencies),
            delivered: tally.delivered,
            resyncs: tally.resyncs,
            gaps: tally.gaps,
            errors: tally.errors,
        }
    }
}

/// Several subscribers' tallies, merged.
#[derive(Debug)]
pub struct Merged {
    /// Subscribers merged.
    pub subscribers: usize,
    /// Commit-to-arrival latency of every change, in µs.
    pub latency: Histogram<u64>,
    /// Changes received.
    pub delivered: u64,
    /// Changes the subscribers should have received between them and did not (after
    /// resuming, nothing may be missing).
    pub missing: u64,
    /// Resyncs.
    pub resyncs: u64,
    /// Version gaps (must be zero).
    pub gaps: u64,
    /// Failures.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
}

/// What `latencies` holds, leaving it empty.
fn taken(latencies: &Latencies) -> Histogram<u64> {
    let mut shared = latencies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    std::mem::replace(&mut *shared, stats::histogram())
}

impl Merged {
    fn of(tallies: Vec<Tally>, latencies: &Latencies, expected_each: u64, end: u64) -> Self {
        let mut merged = Merged {
            subscribers: tallies.len(),
            latency: taken(latencies),
            delivered: 0,
            missing: 0,
            resyncs: 0,
            gaps: 0,
            errors: 0,
            first_error: None,
        };
        for tally in tallies {
            merged.delivered += tally.delivered;
            merged.resyncs += tally.resyncs;
            merged.gaps += tally.gaps;
            merged.errors += tally.errors;
            if tally.resyncs == 0 {
                merged.missing += expected_each.saturating_sub(tally.delivered);
            } else {
                // A resynced subscriber may legitimately skip changes that a snapshot
                // covered; what it must not do is stop short of the end.
                merged.missing += end.saturating_sub(tally.last_version).min(expected_each);
            }
            if merged.first_error.is_none() {
                merged.first_error = tally.first_error;
            }
        }
        merged
    }
}

/// Runs one watch window: `plan.subscribers` subscribers spread over `clients` (subscriber
/// i on client i mod len), each subscribed before the writer, on `writer`, starts;
/// the writer holds and cancels `seats` at `plan.rate` for `plan.duration`; then every
/// subscriber follows until it has seen the last change or [`SETTLE`] passes.
///
/// # Errors
/// If there are no clients, or not every subscriber got its first message within
/// [`SETTLE`] (the first failure says why).
pub async fn run(
    clients: &[SharedTicketing],
    writer: SharedTicketing,
    seats: &[SeatId],
    plan: WatchPlan,
) -> Result<WatchOutcome, String> {
    let subscribers: Vec<Arc<dyn Subscribe>> = clients
        .iter()
        .map(|api| Arc::new(ApiSubscriber(api.clone())) as Arc<dyn Subscribe>)
        .collect();
    run_with(&subscribers, writer, seats, plan).await
}

/// [`run`] with subscriptions opened through `clients` (a protocol's client or a lean
/// subscriber, subscriber i on client i mod len); the writer is a protocol's client.
///
/// # Errors
/// As [`run`].
pub async fn run_with(
    clients: &[Arc<dyn Subscribe>],
    writer: SharedTicketing,
    seats: &[SeatId],
    plan: WatchPlan,
) -> Result<WatchOutcome, String> {
    if clients.is_empty() {
        return Err("no clients to subscribe with".to_owned());
    }
    let total = plan.subscribers + usize::from(plan.slow_subscriber.is_some());
    let (ready_tx, mut ready_rx) = mpsc::channel(total.max(1));
    let (until_tx, until_rx) = watch::channel(None);
    // The slow subscriber has its own stop: it is stopped where it stands once the others
    // have everything, since a transport with deep buffers may keep it minutes behind.
    let (slow_until_tx, slow_until_rx) = watch::channel(None);
    let latencies = subscriber::latencies();
    let slow_latencies = subscriber::latencies();
    let mut normal = Vec::with_capacity(plan.subscribers);
    for i in 0..plan.subscribers {
        let how = Follow {
            event: plan.event,
            pause: Duration::ZERO,
        };
        normal.push(tokio::spawn(subscriber::follow(
            clients[i % clients.len()].clone(),
            how,
            Latencies::clone(&latencies),
            ready_tx.clone(),
            until_rx.clone(),
        )));
    }
    let slow = plan.slow_subscriber.map(|pause| {
        let how = Follow {
            event: plan.event,
            pause,
        };
        tokio::spawn(subscriber::follow(
            clients[0].clone(),
            how,
            Latencies::clone(&slow_latencies),
            ready_tx.clone(),
            slow_until_rx.clone(),
        ))
    });
    drop(ready_tx);

    // Every subscriber must stand at the same version before the first write.
    let mut start_version = None;
    let deadline = tokio::time::Instant::now() + SETTLE;
    for _ in 0..total {
        let Ok(Some(version)) = tokio::time::timeout_at(deadline, ready_rx.recv()).await else {
            drop(until_tx);
            if let Some(task) = slow {
                task.abort();
            }
            let why = first_failure(normal).await;
            return Err(format!(
                "not every subscriber subscribed within {SETTLE:?}: {why}"
            ));
        };
        if start_version.is_some_and(|v| v != version) {
            return Err(format!(
                "subscribers started at different versions ({start_version:?}, {version}): something else writes to event {}",
                plan.event
            ));
        }
        start_version = Some(version);
    }
    let start_version = start_version.unwrap_or(0);

    let began = Instant::now();
    let written = writer::write(writer, plan.event, seats, plan.rate, plan.duration).await;
    let end = start_version + written.changes;
    // Subscribers stop once they have seen `end`; the sender is kept until they have.
    let _ = until_tx.send(Some(end));
    let mut tallies = Vec::with_capacity(normal.len());
    let settle_deadline = tokio::time::Instant::now() + SETTLE;
    for task in normal {
        tallies.push(join_by(task, settle_deadline).await);
    }
    let window = began.elapsed();
    drop(until_tx);
    // Version 0 is behind everyone: the slow subscriber stops after its current message.
    let _ = slow_until_tx.send(Some(0));
    let slow_tally = match slow {
        Some(task) => Some(join_by(task, tokio::time::Instant::now() + STOP_SLOW).await),
        None => None,
    };
    Ok(WatchOutcome {
        changes: written.changes,
        write_errors: written.errors,
        write_elapsed: written.elapsed,
        window,
        all: Merged::of(tallies, &latencies, written.changes, end),
        slow: slow_tally.map(|t| Slow::of(&t, &slow_latencies, end)),
    })
}

/// The task's tally, or a tally saying it did not finish by `deadline` (the task is
/// aborted, so nothing outlives the run).
async fn join_by(
    mut task: tokio::task::JoinHandle<Tally>,
    deadline: tokio::time::Instant,
) -> Tally {
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(Ok(tally)) => tally,
        Ok(Err(e)) => failed_tally(format!("subscriber task: {e}")),
        Err(_) => {
            task.abort();
            failed_tally("did not finish by its deadline".to_owned())
        }
    }
}

fn failed_tally(why: String) -> Tally {
    Tally {
        delivered: 0,
        resyncs: 0,
        gaps: 0,
        errors: 1,
        first_error: Some(why),
        last_version: 0,
    }
}

async fn first_failure(tasks: Vec<tokio::task::JoinHandle<Tally>>) -> String {
    for task in tasks {
        task.abort();
        if let Ok(tally) = task.await
            && let Some(why) = tally.first_error
        {
            return why;
        }
    }
    "no subscriber reported an error".to_owned()
}

//! A torture run: every client at once against the same seats, for a bounded time and
//! a bounded number of calls each, their logs merged into one [`History`].
//!
//! Pass or fail is never decided here: a slow or failed call is recorded (as
//! indeterminate when it has no answer) and judged by the checker like any other.

use std::sync::Arc;
use std::time::Duration;

use domain::{EventId, SeatId, SharedTicketing};
use futures::future::join_all;

use super::client::Client;
use super::history::{ClientId, Clock, History};

/// What every client of a run does.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The event whose seats are fought over (on sale).
    pub event: EventId,
    /// The seats, every one available when the run begins and touched by nobody else.
    pub seats: Vec<SeatId>,
    /// How long clients keep calling (a call under way at the end completes).
    pub duration: Duration,
    /// Most calls per client.
    pub ops_per_client: usize,
    /// How long a call may take before the client records it as indeterminate.
    pub call_timeout: Duration,
    /// Seed of every client's choices.
    pub seed: u64,
}

/// A client of a run: who it is and the `Ticketing` it calls (a protocol's network
/// client, or anything else that implements the trait).
#[derive(Clone)]
pub struct TortureClient {
    /// Its protocol and number.
    pub id: ClientId,
    /// What it calls.
    pub api: SharedTicketing,
}

/// Runs every client concurrently until each has made `ops_per_client` calls or
/// `duration` has passed, and returns the merged history.
///
/// # Errors
/// If a client's task panicked (its calls would be missing from the history).
pub async fn run(clients: Vec<TortureClient>, workload: &Workload) -> Result<History, String> {
    let clock = Clock::start();
    let workload = Arc::new(workload.clone());
    let tasks = clients.into_iter().map(|c| {
        let workload = Arc::clone(&workload);
        tokio::spawn(async move {
            Client::new(c.id, c.api, clock, workload.seed)
                .run(&workload)
                .await
        })
    });
    let mut logs = Vec::new();
    for joined in join_all(tasks).await {
        logs.push(joined.map_err(|e| format!("a torture client failed: {e}"))?);
    }
    Ok(History::merge(workload.seats.clone(), logs))
}

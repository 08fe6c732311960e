//! `quartet torture`: histories, not just final states. Clients of every protocol at
//! once hold, confirm, cancel and read a few seats of one event on servers sharing one
//! store, each recording every call with its start, end and answer; then the whole
//! history is checked, seat by seat, for linearizability against a model of a seat.
//!
//! - [`history`]: what is recorded (calls, outcomes, the shared monotonic clock).
//! - [`client`]: one client's seeded walk over the operations; [`run`]: all of them at
//!   once, bounded in time and count.
//! - [`model`]: a seat (available, held by a booking, sold to a booking) and what each
//!   operation may answer in each state; [`project`]: the run as one sub-history per
//!   seat; [`check`]: the Wing-Gong search with memoization over each.
//! - [`setup`]: servers over one store, clients, seats; [`summary`]: calls per protocol.
//!
//! Not here: flags and printing (`commands::torture`). docs/torture.md describes the
//! model, the algorithm and what the check cannot see.

pub mod check;
#[cfg(test)]
mod check_tests;
pub mod client;
pub mod history;
pub mod model;
pub mod project;
pub mod run;
pub mod setup;
pub mod summary;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use domain::{DatasetSpec, EventId};

use self::check::Report;
use self::history::History;
use self::run::Workload;
use self::setup::LocalServers;
use crate::protocol::Protocol;

/// Everything a torture run needs to know.
#[derive(Debug, Clone)]
pub struct Options {
    /// The protocols whose clients run.
    pub protocols: Vec<Protocol>,
    /// Servers already running, one per protocol and all over one store; empty to start
    /// them here.
    pub targets: Vec<(Protocol, SocketAddr)>,
    /// The dataset of servers started here.
    pub dataset: DatasetSpec,
    /// Clients per protocol.
    pub clients_per_protocol: usize,
    /// Seats fought over.
    pub seats: usize,
    /// The event; the first on sale with enough available seats when `None`.
    pub event: Option<EventId>,
    /// How long clients call.
    pub duration: Duration,
    /// Most calls per client.
    pub ops_per_client: usize,
    /// How long a call may take before it is recorded as indeterminate.
    pub call_timeout: Duration,
    /// Seed of the clients' choices.
    pub seed: u64,
    /// Memory bound of each seat's search (configurations remembered).
    pub max_configurations: usize,
}

/// What a torture run recorded and concluded.
#[derive(Debug)]
pub struct Outcome {
    /// The event.
    pub event: EventId,
    /// Every call.
    pub history: History,
    /// The check's verdict and per-seat figures.
    pub report: Report,
    /// How long the clients ran.
    pub run_time: Duration,
    /// How long the check took.
    pub check_time: Duration,
}

/// Starts the servers (unless `targets` are given), runs the clients, checks the history.
///
/// # Errors
/// If a server cannot be started or reached, a target is missing for a protocol, no
/// seats can be found, or a client task fails. A history that is not linearizable is
/// not an error here: it is in the outcome's verdict.
pub async fn torture(options: &Options) -> Result<Outcome, String> {
    let local = if options.targets.is_empty() {
        Some(LocalServers::start(&options.protocols, options.dataset).await?)
    } else {
        None
    };
    let targets = match &local {
        Some(local) => local.targets(),
        None => targets_of(options)?,
    };
    let recorded = record(options, &targets).await;
    if let Some(local) = local {
        local.stop().await?;
    }
    let (event, history, run_time) = recorded?;
    let max = options.max_configurations;
    let started = Instant::now();
    let (history, report) = tokio::task::spawn_blocking(move || {
        let report = check::check(&history, max);
        (history, report)
    })
    .await
    .map_err(|e| format!("the check failed: {e}"))?;
    Ok(Outcome {
        event,
        history,
        report,
        run_time,
        check_time: started.elapsed(),
    })
}

/// The target of each protocol, in `options.protocols` order.
/// Every target of each protocol run, in protocol order: several of one protocol are
/// replicas over one database, and its clients are spread over them.
fn targets_of(options: &Options) -> Result<Vec<(Protocol, SocketAddr)>, String> {
    let mut targets = Vec::new();
    for p in &options.protocols {
        let before = targets.len();
        targets.extend(options.targets.iter().filter(|(t, _)| t == p).copied());
        if targets.len() == before {
            return Err(format!(
                "--target names no server for {p}: give one per protocol (or several replicas), all over one store"
            ));
        }
    }
    Ok(targets)
}

/// Connects the clients, chooses the seats and runs the workload.
async fn record(
    options: &Options,
    targets: &[(Protocol, SocketAddr)],
) -> Result<(EventId, History, Duration), String> {
    let clients =
        setup::connect_clients_spread(targets, options.clients_per_protocol.max(1)).await?;
    let first = clients.first().ok_or("no protocol to torture")?;
    let (event, seats) =
        setup::choose_seats(first.api.as_ref(), options.event, options.seats.max(1)).await?;
    let workload = Workload {
        event,
        seats,
        duration: options.duration,
        ops_per_client: options.ops_per_client,
        call_timeout: options.call_timeout,
        seed: options.seed,
    };
    let started = Instant::now();
    let history = run::run(clients, &workload).await?;
    Ok((event, history, started.elapsed()))
}

//! The `watch` scenario inside `quartet bench`: for each `--subscribers` count, connect
//! the subscribers' clients and a writer's, run one [`crate::watch`] window with the
//! server's counters read at its edges, and record it like any other run (ops are
//! delivered messages, latency is commit to arrival) with its own figures under `watch`.
//! gRPC and wire subscribe through the lean subscribers (`crate::lean::watch`), REST and
//! GraphQL through their own clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::SeatId;

use super::record::{self, Measurement, Shape};
use super::runner::{Server, Suite, own_cpu_ticks};
use crate::lean::watch as lean_watch;
use crate::load::LoadResult;
use crate::protocol::{self, Protocol};
use crate::results::{Failure, SlowSubscriber, WatchFigures};
use crate::scenario::{Plan, Scenario};
use crate::stats::Latency;
use crate::watch::subscriber::{ApiSubscriber, Subscribe};
use crate::watch::{self, WatchPlan};

/// Subscribers one connection carries on the multiplexed protocols (gRPC's HTTP/2 and
/// the wire protocol): under the servers' default cap on concurrent streams.
pub const SUBSCRIBERS_PER_CONNECTION: usize = 100;

/// The seats the writer holds and cancels, one at a time.
const WRITER_SEATS: [SeatId; 8] = [
    SeatId(0),
    SeatId(1),
    SeatId(2),
    SeatId(3),
    SeatId(4),
    SeatId(5),
    SeatId(6),
    SeatId(7),
];

/// How the bench's watch runs are shaped.
#[derive(Debug, Clone)]
pub struct WatchShapes {
    /// Subscriber counts, one run each.
    pub subscribers: Vec<usize>,
    /// The writer's changes per second.
    pub rate: f64,
    /// The time one slow subscriber spends per message, added to the run with the
    /// subscriber count nearest 100 (one run per protocol shows the policy).
    pub slow_pause: Duration,
    /// gRPC and wire subscribe through their own clients, not the lean subscribers.
    pub own_clients: bool,
}

impl WatchShapes {
    fn slow_run(&self) -> Option<usize> {
        self.subscribers
            .iter()
            .copied()
            .min_by_key(|&s| s.abs_diff(100))
    }
}

/// Runs every watch shape of `protocol` against `server` at `addr`, adding runs (or
/// failures) to `suite`.
pub async fn run(
    suite: &mut Suite,
    protocol: Protocol,
    server: &mut Server,
    addr: SocketAddr,
    plan: &Plan,
    shapes: &WatchShapes,
) {
    run_across(suite, protocol, server, (addr, addr), plan, shapes).await;
}

/// [`run`] with the writer on one server and the subscribers on another: `(writer,
/// subscribers)`. With `--replicas` over PostgreSQL these are two replicas, so a change
/// reaches the subscribers through the database's outbox and the other replica's
/// listener, and the delivery latency includes that staleness.
pub async fn run_across(
    suite: &mut Suite,
    protocol: Protocol,
    server: &mut Server,
    addrs: (SocketAddr, SocketAddr),
    plan: &Plan,
    shapes: &WatchShapes,
) {
    let Some(event) = plan.watch_event() else {
        suite.failures.push(failure(
            protocol,
            None,
            "the dataset has no on-sale event to watch".to_owned(),
        ));
        return;
    };
    for &subscribers in &shapes.subscribers {
        let slow = (shapes.slow_run() == Some(subscribers)).then_some(shapes.slow_pause);
        eprintln!(
            "   {protocol} watch: {subscribers} subscriber(s){} at {} changes/s for {:.1} s",
            if slow.is_some() { " + 1 slow" } else { "" },
            shapes.rate,
            suite.duration.as_secs_f64()
        );
        let watch_plan = WatchPlan {
            event,
            subscribers,
            rate: shapes.rate,
            duration: suite.duration,
            slow_subscriber: slow,
        };
        let lean = !shapes.own_clients;
        match one_run(suite, protocol, server, addrs, watch_plan, lean).await {
            Ok(()) => {}
            Err(cause) => {
                eprintln!("   FAILED {protocol} watch ({subscribers} subscribers): {cause}");
                suite
                    .failures
                    .push(failure(protocol, Some(subscribers), cause));
            }
        }
    }
}

/// `connections` subscription sources for `protocol`: gRPC and wire subscribe through the
/// lean subscribers ([`crate::lean::watch`], decoding only what is measured), REST and
/// GraphQL through their own clients (SSE and WebSocket are what they are measured on);
/// without `lean`, every protocol through its own client.
async fn subscribers(
    protocol: Protocol,
    addr: SocketAddr,
    connections: usize,
    lean: bool,
) -> Result<Vec<Arc<dyn Subscribe>>, String> {
    let mut clients: Vec<Arc<dyn Subscribe>> = Vec::with_capacity(connections);
    for _ in 0..connections {
        let client: Arc<dyn Subscribe> = match protocol {
            Protocol::Grpc if lean => Arc::new(
                lean_watch::GrpcSubscriber::connect(addr)
                    .await
                    .map_err(|e| format!("cannot connect: {e}"))?,
            ),
            Protocol::Wire if lean => Arc::new(
                lean_watch::WireSubscriber::connect(addr)
                    .await
                    .map_err(|e| format!("cannot connect: {e}"))?,
            ),
            _ => {
                let connected = protocol::connect(protocol, addr)
                    .await
                    .map_err(|e| format!("cannot connect: {e}"))?;
                Arc::new(ApiSubscriber(connected.api))
            }
        };
        clients.push(client);
    }
    Ok(clients)
}

fn failure(protocol: Protocol, subscribers: Option<usize>, cause: String) -> Failure {
    Failure {
        protocol: protocol.name().to_owned(),
        scenario: Some(Scenario::Watch.name().to_owned()),
        shape: subscribers.map(|s| format!("c={s}")),
        attempted: 0,
        cause,
    }
}

async fn one_run(
    suite: &mut Suite,
    protocol: Protocol,
    server: &mut Server,
    (writer_addr, addr): (SocketAddr, SocketAddr),
    plan: WatchPlan,
    lean: bool,
) -> Result<(), String> {
    let connections = if protocol.multiplexed() {
        plan.subscribers.div_ceil(SUBSCRIBERS_PER_CONNECTION).max(1)
    } else {
        // One client; its HTTP/1.1 pool opens a connection per open stream.
        1
    };
    let clients = subscribers(protocol, addr, connections, lean).await?;
    let writer = protocol::connect(protocol, writer_addr)
        .await
        .map_err(|e| format!("cannot connect the writer: {e}"))?
        .api;

    let before = server.stats();
    let client_before = own_cpu_ticks();
    let outcome = watch::run_with(&clients, writer, &WRITER_SEATS, plan).await?;
    let ended = std::time::SystemTime::now();
    let client_after = own_cpu_ticks();
    let after = server.stats();
    drop(clients);

    let all = &outcome.all;
    let errors = all.errors + all.gaps + all.missing + outcome.write_errors;
    let result = LoadResult {
        ops: all.delivered,
        attempted: all.delivered.max(1),
        errors,
        conflicts: 0,
        elapsed: outcome.window,
        latency: all.latency.clone(),
        uncorrected: None,
        per_second: Vec::new(),
        first_error: all.first_error.clone(),
        completed_in_window: all.delivered,
        backlog_at_end: 0,
        backlog_at_start: 0,
        abandoned: 0,
        wall: outcome.window,
        // The whole window as one interval: delivery latencies are not kept per second.
        window_start: ended
            .checked_sub(outcome.window)
            .unwrap_or(std::time::UNIX_EPOCH),
        intervals: vec![all.latency.clone()],
    };
    let shape = Shape {
        concurrency: plan.subscribers,
        rate: None,
    };
    let mut run = record::run(
        &Measurement {
            protocol,
            scenario: Scenario::Watch,
            shape,
            duration: outcome.window,
            result: &result,
            payload: (0, 0),
            before,
            after,
            double_bookings: None,
            client_cpu_ticks: client_before
                .zip(client_after)
                .map(|(b, a)| a.saturating_sub(b)),
            client_cores: suite.client_cores,
            connections: if protocol.multiplexed() {
                connections
            } else {
                plan.subscribers
            },
            link: &suite.link,
            browse_requests: None,
        },
        suite.ticks,
    );
    "push".clone_into(&mut run.mode);
    run.watch = Some(WatchFigures {
        rate: plan.rate,
        changes: outcome.changes,
        write_rate_achieved: outcome.changes as f64 / outcome.write_elapsed.as_secs_f64().max(1e-9),
        resyncs: all.resyncs,
        missing: all.missing,
        gaps: all.gaps,
        slow_subscriber: outcome.slow.as_ref().map(|slow| SlowSubscriber {
            pause_ms: plan.slow_subscriber.unwrap_or_default().as_secs_f64() * 1e3,
            delivered: slow.delivered,
            resyncs: slow.resyncs,
            behind_at_end: slow.behind_at_end,
            gaps: slow.gaps,
            latency_us: Latency::of(&slow.latency),
        }),
    });
    if errors > 0 {
        eprintln!(
            "   {protocol} watch: {errors} failures (gaps {}, missing {}, writer {}), first: {}",
            all.gaps,
            all.missing,
            outcome.write_errors,
            all.first_error.as_deref().unwrap_or("-")
        );
    }
    if run.client_bound {
        eprintln!(
            "   {protocol} watch: client-bound (load generator at {:.0}% of its {} core(s)): delivery latency includes the subscribers' own queueing",
            run.client_cpu_share.unwrap_or(0.0) * 100.0,
            suite.client_cores
        );
    }
    suite.keep(run, &result);
    Ok(())
}

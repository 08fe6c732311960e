//! The run loop: for one protocol's server and step provider, every scenario the
//! provider runs at every shape, each warmed up, then measured with the server's
//! counters read at the window's edges and a live progress bar, then checked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::record::{self, Measurement, ServerStats, Shape};
use crate::child::ServerChild;
use crate::compression::Compression;
use crate::hlog::{self, IntervalLog};
use crate::load::{self, Live, LoadConfig, LoadResult};
use crate::procfs;
use crate::protocol::Protocol;
use crate::results::{Failure, Run, Skipped};
use crate::scenario::Scenario;
use crate::steps::StepProvider;

/// The server a protocol's runs talk to.
pub enum Server {
    /// A `quartet serve-one` child the harness started.
    Child(ServerChild),
    /// A server elsewhere (`--target`): not measured.
    Target(SocketAddr),
    /// Several `serve-one` children over one PostgreSQL schema (`--replicas`): the
    /// clients are spread over them round robin, and their counters are summed.
    Replicas(Vec<ServerChild>),
}

impl Server {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Server::Child(child) => child.addr,
            Server::Target(addr) => *addr,
            Server::Replicas(children) => children
                .first()
                .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |c| c.addr),
        }
    }

    /// Where each replica listens (one address for a single child or a target).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        match self {
            Server::Replicas(children) => children.iter().map(|c| c.addr).collect(),
            other => vec![other.addr()],
        }
    }

    /// CPU and memory from /proc; socket bytes from the server's own counters (every
    /// server wraps its connections in `netkit::connections::Counted`).
    pub(super) fn stats(&mut self) -> Option<ServerStats> {
        match self {
            Server::Child(child) => {
                let process = procfs::process_stats(child.pid()).ok()?;
                let (socket_read, socket_written) = child.socket_bytes()?;
                Some(ServerStats {
                    process,
                    socket_read,
                    socket_written,
                })
            }
            Server::Target(_) => None,
            // The service is all of them: CPU, peak RSS and socket bytes summed.
            Server::Replicas(children) => {
                let mut sum = ServerStats {
                    process: procfs::ProcessStats {
                        cpu_ticks: 0,
                        peak_rss_bytes: 0,
                    },
                    socket_read: 0,
                    socket_written: 0,
                };
                for child in children {
                    let process = procfs::process_stats(child.pid()).ok()?;
                    let (read, written) = child.socket_bytes()?;
                    sum.process.cpu_ticks += process.cpu_ticks;
                    sum.process.peak_rss_bytes += process.peak_rss_bytes;
                    sum.socket_read += read;
                    sum.socket_written += written;
                }
                Some(sum)
            }
        }
    }

    /// Stops a child (every replica); a target is left alone.
    pub fn stop(self) {
        match self {
            Server::Child(child) => child.stop(),
            Server::Target(_) => {}
            Server::Replicas(children) => {
                for child in children {
                    child.stop();
                }
            }
        }
    }
}

/// What every protocol's runs share: the scenarios and shapes to run, the windows, and
/// the records made so far.
pub struct Suite {
    /// Time run before each measured window, not measured (not for contended_hold).
    pub warmup: Duration,
    /// Time measured per run.
    pub duration: Duration,
    /// Scenarios, in order.
    pub scenarios: Vec<Scenario>,
    /// Shapes, in order.
    pub shapes: Vec<Shape>,
    /// Clock ticks per second, for CPU time.
    pub ticks: u64,
    /// Runs of the contended scenario so far (each fights over a fresh event).
    pub contended_round: usize,
    /// Cores the load generator was given (for `client_bound`).
    pub client_cores: usize,
    /// Connections the multiplexed protocols spread their clients over.
    pub connections: usize,
    /// The link the runs go through now (`loopback`, `mobile`, ...).
    pub link: String,
    /// The compression the clients ask for now.
    pub compression: Compression,
    /// The records made so far.
    pub runs: Vec<Run>,
    /// Runs (or protocols) that measured nothing, with their cause.
    pub failures: Vec<Failure>,
    /// Protocols not run under a condition they cannot honour.
    pub skipped: Vec<Skipped>,
    /// The runs' interval logs so far: `(file name under hlog/, text)`.
    pub hlogs: Vec<(String, String)>,
    /// The store every run is marked with (`--store`).
    pub store: Option<String>,
    /// Server processes per protocol every run is marked with (`--replicas`), when more
    /// than one.
    pub replicas: Option<usize>,
    /// `--tls` (or a `--security` condition with TLS): the CA every client verifies the
    /// servers against (the run's development CA); every run is marked `tls: true`.
    /// `None`: plain text.
    pub tls: Option<netkit::tls::ClientTls>,
    /// `--auth` (or a `--security` condition with auth): the key every API server child
    /// checks tokens with and the token every client sends; the APIs' runs are marked
    /// `auth: true`. `None`: no tokens.
    pub auth: Option<crate::auth::BenchAuth>,
    /// With `--store postgres`: the `--search` mode the servers run with now, every run
    /// marked with it.
    pub search: Option<String>,
    /// With `--events` sweeping several sizes: the catalogue size the runs are made on
    /// now, every run marked with it.
    pub events: Option<u32>,
    /// `--search index`: the staleness measured so far.
    pub staleness: Vec<crate::results::SearchStaleness>,
    /// With `--security` sweeping several conditions: the one the runs are made under
    /// now (`plain`, `tls+auth`, ...), every run marked with it.
    pub security: Option<String>,
}

impl Suite {
    /// Records `run`, and its interval log from `result`'s seconds (a run whose log cannot
    /// be written is still recorded, without one).
    pub fn keep(&mut self, mut run: Run, result: &LoadResult) {
        let log = IntervalLog::of(result, Duration::from_secs_f64(run.duration_s));
        let name = hlog::file_name(self.runs.len(), &run);
        let comment = format!(
            "quartet bench: {} {} {} over {}, compression {}",
            run.protocol,
            run.scenario,
            run.rate.map_or_else(
                || format!("c={}", run.concurrency),
                |r| format!("open {r:.0}/s")
            ),
            run.link_name(),
            run.compression_name()
        );
        if run.store.is_none() {
            run.store.clone_from(&self.store);
        }
        if run.replicas.is_none() && !crate::pgfloor::is_pgbench(&run.protocol) {
            run.replicas = self.replicas;
            // The database floor runs its own SQL whatever the servers' search mode.
            run.search.clone_from(&self.search);
        }
        if run.events.is_none() {
            run.events = self.events;
        }
        if run.security.is_none() {
            run.security.clone_from(&self.security);
        }
        match log.to_text(&comment) {
            Ok(text) => {
                run.hlog = Some(format!("{}/{name}", hlog::FOLDER));
                self.hlogs.push((name, text));
            }
            Err(e) => eprintln!("   {comment}: no interval log: {e}"),
        }
        self.runs.push(run);
    }

    /// Runs every scenario `provider` runs, at every shape, against `server`.
    ///
    /// # Errors
    /// If the provider cannot set up its workers.
    pub async fn run_protocol<P: StepProvider>(
        &mut self,
        protocol: Protocol,
        server: &mut Server,
        provider: &P,
    ) -> Result<(), String> {
        let scenarios: Vec<Scenario> = self
            .scenarios
            .iter()
            .copied()
            .filter(|s| provider.runs(*s))
            .collect();
        for scenario in scenarios {
            for shape in shapes_for(protocol, &self.shapes) {
                let round = self.contended_round;
                if scenario == Scenario::ContendedHold {
                    self.contended_round += 1;
                }
                let workers = provider.workers(scenario, round, shape.concurrency).await?;
                let windows = (self.warmup, self.duration);
                let m = measure(
                    server, provider, workers, windows, shape, protocol, scenario,
                )
                .await;
                let check = provider.check(scenario, round, &m.workers).await;
                let mut run = record::run(
                    &Measurement {
                        protocol,
                        scenario,
                        shape,
                        duration: self.duration,
                        result: &m.result,
                        payload: m.payload,
                        before: m.before,
                        after: m.after,
                        double_bookings: check.as_ref().ok().copied().flatten(),
                        client_cpu_ticks: m.client_cpu_ticks,
                        client_cores: self.client_cores,
                        connections: if protocol.multiplexed() {
                            self.connections.min(shape.concurrency)
                        } else {
                            shape.concurrency
                        },
                        link: &self.link,
                        browse_requests: m.browse_requests,
                    },
                    self.ticks,
                );
                run.compression = Some(self.compression.name().to_owned());
                run.tls = self.tls.is_some().then_some(true);
                // The floors get no key and send no token: never marked.
                run.auth = (self.auth.is_some() && !protocol.is_floor()).then_some(true);
                // A window in which nothing succeeded measured nothing: no figures, a
                // failure with its cause.
                if let Some(cause) = record::measured_nothing(&m.result) {
                    let failure = Failure {
                        protocol: protocol.name().to_owned(),
                        scenario: Some(scenario.name().to_owned()),
                        shape: Some(shape.label()),
                        attempted: m.result.attempted,
                        cause,
                    };
                    eprintln!("   FAILED {failure}");
                    self.failures.push(failure);
                    continue;
                }
                if run.client_bound {
                    eprintln!(
                        "   {protocol} {scenario}: client-bound (load generator at {:.0}% of its {} core(s)): ops/s is a floor on the server's",
                        run.client_cpu_share.unwrap_or(0.0) * 100.0,
                        self.client_cores
                    );
                }
                if run.rate_not_met {
                    eprintln!(
                        "   {protocol} {scenario}: rate not met: {:.0} of {:.0} ops/s achieved, {} requests behind at the window's end",
                        run.achieved_rate_ops_s.unwrap_or(0.0),
                        shape.rate.unwrap_or(0.0),
                        run.backlog_at_end.unwrap_or(0)
                    );
                }
                if let Some(why) = &run.first_error {
                    eprintln!(
                        "   {protocol} {scenario}: {} failed, first: {why}",
                        run.errors
                    );
                }
                // A check that could not be made is a failure of the run, not a figure.
                if let Err(why) = check {
                    eprintln!("   {scenario} check failed: {why}");
                    run.errors += 1;
                    run.first_error = Some(format!("{scenario} check: {why}"));
                }
                self.keep(run, &m.result);
            }
        }
        Ok(())
    }
}

/// The shapes `protocol` runs at: every one, or only the busiest closed loop for a
/// protocol that runs there alone ([`Protocol::busiest_shape_only`]).
fn shapes_for(protocol: Protocol, shapes: &[Shape]) -> Vec<Shape> {
    if !protocol.busiest_shape_only() {
        return shapes.to_vec();
    }
    shapes
        .iter()
        .filter(|s| s.rate.is_none())
        .max_by_key(|s| s.concurrency)
        .copied()
        .into_iter()
        .collect()
}

/// A measured window: the load result, the workers back, the server's stats at both
/// edges, and the client's payload bytes within it.
struct Measured<S> {
    result: LoadResult,
    workers: Vec<S>,
    before: Option<ServerStats>,
    after: Option<ServerStats>,
    payload: (u64, u64),
    /// The load generator's own CPU ticks over the same span as the server's.
    client_cpu_ticks: Option<u64>,
    /// Requests the browse workers sent within the window, where counted.
    browse_requests: Option<u64>,
}

/// This process's CPU ticks (every thread, user + system).
pub(super) fn own_cpu_ticks() -> Option<u64> {
    procfs::process_stats(std::process::id())
        .ok()
        .map(|s| s.cpu_ticks)
}

/// Warms up, then measures, with the server's /proc stats read at the window's edges
/// and a live progress bar.
async fn measure<P: StepProvider>(
    server: &mut Server,
    provider: &P,
    workers: Vec<P::Step>,
    (warmup, duration): (Duration, Duration),
    shape: Shape,
    protocol: Protocol,
    scenario: Scenario,
) -> Measured<P::Step> {
    let mut workers = workers;
    // The contended scenario measures from the first request: warming up would spend the
    // seats it is about.
    if !warmup.is_zero() && scenario != Scenario::ContendedHold {
        let config = LoadConfig {
            concurrency: shape.concurrency,
            rate: shape.rate,
            warmup: Duration::ZERO,
            duration: warmup,
        };
        workers = load::run(workers, config, Arc::default()).await.1;
    }
    let live = Arc::new(Live::default());
    let bar = ProgressBar::new(duration.as_millis() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>34} [{bar:24}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mode = shape.rate.map_or_else(
        || format!("c={}", shape.concurrency),
        |r| format!("rate={r}"),
    );
    bar.set_prefix(format!("{protocol} {scenario} {mode}"));
    let ticker = {
        let (bar, live) = (bar.clone(), Arc::clone(&live));
        tokio::spawn(async move {
            let start = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let elapsed = start.elapsed();
                let ops = live.ops.load(Ordering::Relaxed);
                bar.set_position(elapsed.as_millis() as u64);
                bar.set_message(format!(
                    "{:>9.0} ops/s  p99 {:>7} µs",
                    ops as f64 / elapsed.as_secs_f64().max(0.001),
                    live.latency.p99()
                ));
            }
        })
    };
    let before = server.stats();
    let payload_before = provider.payload();
    let requests_before = provider.browse_requests();
    let client_before = own_cpu_ticks();
    let config = LoadConfig {
        concurrency: shape.concurrency,
        rate: shape.rate,
        warmup: Duration::ZERO,
        duration,
    };
    let (result, workers) = load::run(workers, config, Arc::clone(&live)).await;
    let client_after = own_cpu_ticks();
    let payload_after = provider.payload();
    let requests_after = provider.browse_requests();
    let after = server.stats();
    ticker.abort();
    bar.finish_and_clear();
    Measured {
        result,
        workers,
        before,
        after,
        payload: (
            payload_after.0 - payload_before.0,
            payload_after.1 - payload_before.1,
        ),
        client_cpu_ticks: client_before
            .zip(client_after)
            .map(|(b, a)| a.saturating_sub(b)),
        browse_requests: requests_before
            .zip(requests_after)
            .map(|(b, a)| a.saturating_sub(b)),
    }
}

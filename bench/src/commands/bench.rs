//! `quartet bench`: the main job. For each protocol in turn it starts that server as a
//! child process (or uses `--target`), runs every scenario at every concurrency (and
//! rate), reads the server's CPU, memory and socket bytes from /proc around each run,
//! and writes `results.json`, `report.md` and `report.html`, then prints the table.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use domain::{Dataset, DatasetSpec, Limits, Service};
use indicatif::{ProgressBar, ProgressStyle};

use crate::child::ServerChild;
use crate::floor::FloorClient;
use crate::load::{self, Live, LoadConfig, LoadResult, Step};
use crate::procfs::{self, ProcessStats};
use crate::protocol::{self, Protocol};
use crate::report;
use crate::results::{BytesPerOp, Meta, Results, Run, SCHEMA_VERSION};
use crate::scenario::{Outcome, Plan, Scenario, verify_contended};
use crate::stats::{Latency, encode};

/// Whether to pin client and server to separate cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pin {
    /// Pin when the machine has at least 2 cores.
    Auto,
    /// Always pin (client on core 0, each server on core 1).
    On,
    /// Never pin.
    Off,
}

/// Flags of `quartet bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The whole suite in about two minutes: one concurrency (16), short windows.
    #[arg(long)]
    pub quick: bool,
    /// Closed-loop concurrencies to run, comma-separated [default: 1,32; --quick: 16].
    #[arg(long, value_delimiter = ',')]
    pub concurrency: Option<Vec<usize>>,
    /// Also run each scenario open loop at this many requests per second (latency from
    /// each request's intended start), over `--open-connections` connections.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Connections (workers) for the open loop.
    #[arg(long, default_value_t = 32)]
    pub open_connections: usize,
    /// Seconds measured per run [default: 4; --quick: 1.5].
    #[arg(long)]
    pub duration: Option<f64>,
    /// Seconds of warm-up before each measured run, not measured [default: 1; --quick: 0.5].
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Protocols, comma-separated (tcp-floor is the raw-TCP baseline).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tcp-floor,rest,graphql,grpc,wire"
    )]
    pub protocols: Vec<Protocol>,
    /// Scenarios, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub scenarios: Option<Vec<Scenario>>,
    /// Use a server already running elsewhere for a protocol: PROTOCOL=ADDR (repeatable).
    /// It must serve a fresh store of the same --events and --seed; its CPU, memory and
    /// socket bytes are not measured.
    #[arg(long, value_parser = parse_target)]
    pub target: Vec<(Protocol, SocketAddr)>,
    /// Pin client and server to separate cores.
    #[arg(long, value_enum, default_value_t = Pin::Auto)]
    pub pin: Pin,
    /// Events in the dataset.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_EVENTS)]
    pub events: u32,
    /// Dataset seed (inputs are drawn from it too: the same sequence for every protocol).
    #[arg(long, default_value_t = domain::dataset::DEFAULT_SEED)]
    pub seed: u64,
    /// Results folder [default: results/<timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_target(text: &str) -> Result<(Protocol, SocketAddr), String> {
    let (protocol, addr) = text.split_once('=').ok_or("expected PROTOCOL=ADDR")?;
    Ok((
        protocol.parse()?,
        addr.parse()
            .map_err(|e| format!("bad address {addr:?}: {e}"))?,
    ))
}

impl Args {
    fn concurrencies(&self) -> Vec<usize> {
        let list = self
            .concurrency
            .clone()
            .unwrap_or_else(|| if self.quick { vec![16] } else { vec![1, 32] });
        list.into_iter().map(|c| c.max(1)).collect()
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(
            self.duration
                .unwrap_or(if self.quick { 1.5 } else { 4.0 })
                .max(0.1),
        )
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs_f64(
            self.warmup
                .unwrap_or(if self.quick { 0.5 } else { 1.0 })
                .max(0.0),
        )
    }

    /// Whether this run pins; decided before the runtime starts.
    pub fn pinned(&self) -> bool {
        match self.pin {
            Pin::On => true,
            Pin::Off => false,
            Pin::Auto => std::thread::available_parallelism().map_or(1, usize::from) >= 2,
        }
    }
}

/// The server a protocol's runs talk to.
enum Server {
    Child(ServerChild),
    Target(SocketAddr),
}

impl Server {
    fn addr(&self) -> SocketAddr {
        match self {
            Server::Child(child) => child.addr,
            Server::Target(addr) => *addr,
        }
    }

    /// CPU and memory from /proc; socket bytes from the server's own counters (every
    /// server wraps its connections in `netkit::connections::Counted`).
    fn stats(&mut self) -> Option<ServerStats> {
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
        }
    }
}

/// A server child's counters at one edge of a measured window.
#[derive(Debug, Clone, Copy)]
struct ServerStats {
    process: ProcessStats,
    /// Bytes it read from its connections (what the clients sent).
    socket_read: u64,
    /// Bytes it wrote to its connections (what the clients received).
    socket_written: u64,
}

/// A run's load shape.
#[derive(Debug, Clone, Copy)]
struct Shape {
    concurrency: usize,
    rate: Option<f64>,
}

/// Runs the suite and writes the results.
///
/// # Errors
/// If a server cannot be started or the results cannot be written. Failed operations
/// are not errors of the command: they are counted and reported.
pub async fn run(args: Args) -> Result<(), String> {
    let started = chrono::Utc::now();
    let pinned = args.pinned();
    let spec = DatasetSpec {
        events: args.events,
        seed: args.seed,
    };
    let plan = Arc::new(Plan::new(Dataset::from_spec(spec)));
    let scenarios = args
        .scenarios
        .clone()
        .unwrap_or_else(|| Scenario::ALL.to_vec());
    let mut shapes: Vec<Shape> = args
        .concurrencies()
        .into_iter()
        .map(|c| Shape {
            concurrency: c,
            rate: None,
        })
        .collect();
    if let Some(rate) = args.rate {
        shapes.push(Shape {
            concurrency: args.open_connections.max(1),
            rate: Some(rate),
        });
    }
    let ticks = procfs::clock_ticks_per_second();
    let mut runs = Vec::new();
    let mut contended_round = 0usize;
    let suite_started = Instant::now();
    for &protocol in &args.protocols {
        let mut server = match args.target.iter().find(|(p, _)| *p == protocol) {
            Some((_, addr)) => Server::Target(*addr),
            None => Server::Child(ServerChild::start(
                protocol,
                args.events,
                args.seed,
                pinned.then_some(1),
            )?),
        };
        eprintln!("== {protocol} on {}", server.addr());
        if protocol == Protocol::TcpFloor {
            if scenarios.contains(&Scenario::GetEvent) {
                for &shape in &shapes {
                    let service = Service::with_clock(
                        plan.data().clone(),
                        Limits::default(),
                        Arc::new(domain::SystemClock),
                    );
                    let mut clients = Vec::new();
                    for _ in 0..shape.concurrency {
                        clients.push(FloorStep(
                            FloorClient::connect(server.addr(), &service)
                                .await
                                .map_err(|e| e.to_string())?,
                        ));
                    }
                    let sizes = clients.first().map_or((0, 0), |c| c.0.sizes());
                    let m = measure(
                        &mut server,
                        None,
                        clients,
                        &args,
                        shape,
                        protocol,
                        Scenario::GetEvent,
                    )
                    .await;
                    // The floor's payload is its whole exchange, of known size.
                    let payload = (
                        sizes.0 as u64 * m.result.attempted,
                        sizes.1 as u64 * m.result.attempted,
                    );
                    runs.push(build_run(
                        protocol,
                        Scenario::GetEvent,
                        shape,
                        &args,
                        &m.result,
                        payload,
                        m.before,
                        m.after,
                        ticks,
                        None,
                    ));
                }
            }
        } else {
            let client = protocol::connect(protocol, server.addr())
                .await
                .map_err(|e| e.to_string())?;
            for &scenario in &scenarios {
                for &shape in &shapes {
                    let round = contended_round;
                    if scenario == Scenario::ContendedHold {
                        contended_round += 1;
                    }
                    let workers: Vec<_> = (0..shape.concurrency)
                        .map(|i| plan.worker(scenario, round, i, Arc::clone(&client.api)))
                        .collect();
                    let m = measure(
                        &mut server,
                        Some(&client.meter),
                        workers,
                        &args,
                        shape,
                        protocol,
                        scenario,
                    )
                    .await;
                    let doubles = if scenario == Scenario::ContendedHold {
                        let winners: Vec<_> = m
                            .workers
                            .iter()
                            .flat_map(|w| w.won().iter().cloned())
                            .collect();
                        let event = plan
                            .contended_event(round)
                            .ok_or("no event to contend for")?;
                        Some(verify_contended(client.api.as_ref(), event, &winners).await)
                    } else {
                        None
                    };
                    let payload = m.payload.unwrap_or_default();
                    let mut run = build_run(
                        protocol,
                        scenario,
                        shape,
                        &args,
                        &m.result,
                        payload,
                        m.before,
                        m.after,
                        ticks,
                        doubles.clone().and_then(Result::ok),
                    );
                    // A check that could not be made is a failure of the run, not a figure.
                    if let Some(Err(why)) = doubles {
                        eprintln!("   contended_hold check failed: {why}");
                        run.errors += 1;
                        run.first_error = Some(format!("contended_hold check: {why}"));
                    }
                    runs.push(run);
                }
            }
        }
        if let Server::Child(child) = server {
            child.stop();
        }
    }
    let results = Results {
        schema_version: SCHEMA_VERSION,
        meta: meta(&args, pinned, started),
        runs,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(started.format("%Y%m%dT%H%M%SZ").to_string())
    });
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    let write = |name: &str, text: &str| {
        std::fs::write(out.join(name), text)
            .map_err(|e| format!("cannot write {}: {e}", out.join(name).display()))
    };
    write("results.json", &json)?;
    write("report.md", &report::markdown(&results))?;
    write("report.html", &report::html(&results))?;
    println!("{}", report::console_table(&results));
    let failures: u64 = results.runs.iter().map(|r| r.errors).sum();
    let doubles = results
        .runs
        .iter()
        .filter_map(|r| r.double_bookings)
        .filter(|d| *d > 0)
        .count();
    println!(
        "{} runs in {:.0} s; {} failed operations; contended_hold double bookings: {}",
        results.runs.len(),
        suite_started.elapsed().as_secs_f64(),
        failures,
        if doubles == 0 {
            "none".to_owned()
        } else {
            format!("FOUND in {doubles} runs")
        }
    );
    println!(
        "results: {}/results.json, report.md, report.html",
        out.display()
    );
    Ok(())
}

/// A floor connection as a load step.
struct FloorStep(FloorClient);

#[async_trait::async_trait]
impl Step for FloorStep {
    async fn step(&mut self) -> Outcome {
        match self.0.round_trip().await {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// Warms up, then measures, with the server's /proc stats read at the window's edges
/// and a live progress bar.
async fn measure<S: Step + 'static>(
    server: &mut Server,
    meter: Option<&netkit::meter::PayloadMeter>,
    workers: Vec<S>,
    args: &Args,
    shape: Shape,
    protocol: Protocol,
    scenario: Scenario,
) -> Measured<S> {
    let warmup = args.warmup();
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
    let duration = args.duration();
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
    let payload_before = meter.map(netkit::meter::PayloadMeter::totals);
    let config = LoadConfig {
        concurrency: shape.concurrency,
        rate: shape.rate,
        warmup: Duration::ZERO,
        duration,
    };
    let (result, workers) = load::run(workers, config, Arc::clone(&live)).await;
    let payload_after = meter.map(netkit::meter::PayloadMeter::totals);
    let after = server.stats();
    ticker.abort();
    bar.finish_and_clear();
    let payload = payload_before
        .zip(payload_after)
        .map(|(b, a)| (a.0 - b.0, a.1 - b.1));
    Measured {
        result,
        workers,
        before,
        after,
        payload,
    }
}

/// A measured window: the load result, the workers back, the server's stats at both
/// edges, and the client's payload bytes within it.
struct Measured<S> {
    result: LoadResult,
    workers: Vec<S>,
    before: Option<ServerStats>,
    after: Option<ServerStats>,
    payload: Option<(u64, u64)>,
}

#[allow(clippy::too_many_arguments)]
fn build_run(
    protocol: Protocol,
    scenario: Scenario,
    shape: Shape,
    args: &Args,
    result: &LoadResult,
    payload: (u64, u64),
    before: Option<ServerStats>,
    after: Option<ServerStats>,
    ticks: u64,
    double_bookings: Option<u64>,
) -> Run {
    let duration = args.duration().as_secs_f64();
    let per_op = |total: u64| {
        if result.attempted == 0 {
            0.0
        } else {
            total as f64 / result.attempted as f64
        }
    };
    let server = before.zip(after);
    let bytes = BytesPerOp {
        request_payload: per_op(payload.0),
        response_payload: per_op(payload.1),
        wire_sent: server.map_or(0.0, |(b, a)| per_op(a.socket_read - b.socket_read)),
        wire_received: server.map_or(0.0, |(b, a)| per_op(a.socket_written - b.socket_written)),
    };
    let cpu =
        server.map(|(b, a)| per_op(a.process.cpu_ticks - b.process.cpu_ticks) * 1e6 / ticks as f64);
    let per_second: Vec<(f64, u64, u64)> = result
        .per_second
        .iter()
        .map(|h| {
            (
                h.len() as f64,
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
            )
        })
        .collect();
    let run = Run {
        protocol: protocol.name().to_owned(),
        scenario: scenario.name().to_owned(),
        mode: if shape.rate.is_some() {
            "open"
        } else {
            "closed"
        }
        .to_owned(),
        concurrency: shape.concurrency,
        rate: shape.rate,
        duration_s: duration,
        ops: result.ops,
        errors: result.errors,
        conflicts: result.conflicts,
        throughput_ops_s: result.ops as f64 / duration,
        latency_us: Latency::of(&result.latency),
        uncorrected_latency_us: result.uncorrected.as_ref().map(Latency::of),
        bytes_per_op: bytes,
        server_cpu_us_per_op: cpu,
        server_rss_bytes: after.map(|a| a.process.peak_rss_bytes),
        throughput_per_second: per_second.iter().map(|s| s.0).collect(),
        p50_per_second_us: per_second.iter().map(|s| s.1).collect(),
        p99_per_second_us: per_second.iter().map(|s| s.2).collect(),
        double_bookings,
        first_error: result.first_error.clone(),
        histogram: encode(&result.latency),
    };
    if let Some(why) = &run.first_error {
        eprintln!(
            "   {protocol} {scenario}: {} failed, first: {why}",
            run.errors
        );
    }
    run
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned())
}

fn meta(args: &Args, pinned: bool, started: chrono::DateTime<chrono::Utc>) -> Meta {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let os = format!(
        "{} {}",
        std::env::consts::OS,
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    );
    Meta {
        git_revision: command_output("git", &["rev-parse", "--short", "HEAD"]),
        rustc_version: command_output("rustc", &["--version"]),
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        os,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        dataset_events: args.events,
        dataset_seed: args.seed,
        started_at: started.to_rfc3339(),
        pinned,
        warmup_s: args.warmup().as_secs_f64(),
    }
}

/// Runs grouped by scenario, for reports.
pub fn by_scenario(results: &Results) -> BTreeMap<(usize, String), Vec<&Run>> {
    let mut groups: BTreeMap<(usize, String), Vec<&Run>> = BTreeMap::new();
    for run in &results.runs {
        let order = Scenario::ALL
            .iter()
            .position(|s| s.name() == run.scenario)
            .unwrap_or(usize::MAX);
        groups
            .entry((order, run.scenario.clone()))
            .or_default()
            .push(run);
    }
    groups
}

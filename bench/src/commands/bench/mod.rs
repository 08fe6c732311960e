//! `quartet bench`: the main job. For each protocol in turn it starts that server as a
//! child process (or uses `--target`), runs every scenario at every concurrency (and
//! rate), reads the server's CPU, memory and socket bytes from /proc around each run,
//! and writes `results.json`, `report.md` and `report.html`, then prints the table.
//!
//! - [`runner`]: the run loop over one protocol's scenarios and shapes, through its step
//!   provider (`steps::ApiSteps` for the four APIs, `steps::FloorSteps` for the floor).
//! - [`record`]: building a run's record, and the suite's `meta`, for `results.json`.

pub mod record;
pub mod runner;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{Dataset, DatasetSpec};

use self::record::Shape;
use self::runner::{Server, Suite};
use crate::child::ServerChild;
use crate::procfs;
use crate::protocol::Protocol;
use crate::report;
use crate::results::{Failure, Results, SCHEMA_VERSION};
use crate::scenario::{Plan, Scenario};
use crate::steps::{ApiSteps, ClientOptions, FloorSteps};

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
    /// Print every column of the results table (the default fits 100 columns).
    #[arg(long)]
    pub wide: bool,
    /// Closed-loop concurrencies to run, comma-separated [default: 1,32; --quick: 16].
    #[arg(long, value_delimiter = ',')]
    pub concurrency: Option<Vec<usize>>,
    /// Also run each scenario open loop at this many requests per second (latency from
    /// each request's intended start), over `--open-connections` connections.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Connections (workers) for the open loop.
    #[arg(long, default_value_t = 32)]
    pub open_connections: usize,
    /// Connections the multiplexed protocols (gRPC, wire, h2-floor) spread their clients
    /// over (client i uses connection i mod N); HTTP/1.1 (REST, GraphQL, http1-floor)
    /// and tcp-floor always open one connection per client.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub connections: u64,
    /// Drive REST's and GraphQL's read scenarios through their `Ticketing` clients
    /// (reqwest, full decoding) instead of the lean load clients.
    #[arg(long)]
    pub ticketing_clients: bool,
    /// Seconds measured per run [default: 4; --quick: 1.5].
    #[arg(long)]
    pub duration: Option<f64>,
    /// Seconds of warm-up before each measured run, not measured [default: 1; --quick: 0.5].
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Protocols, comma-separated (tcp-floor, http1-floor and h2-floor are the floors:
    /// raw TCP, hyper HTTP/1.1 and hyper HTTP/2 answering prepared get_event bytes).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tcp-floor,http1-floor,h2-floor,rest,graphql,grpc,wire"
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

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|e| format!("bad rate {text:?}: {e}"))?;
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(format!(
            "the rate must be a positive number of requests per second, not {text}"
        ))
    }
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

/// Runs the suite and writes the results.
///
/// # Errors
/// If a server cannot be started or the results cannot be written, or (after writing
/// them) if any run measured nothing: no operation succeeded or the server could not be
/// reached. Some failed operations in a run that measured something are counted and
/// reported, not errors of the command.
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
    let mut suite = Suite {
        warmup: args.warmup(),
        duration: args.duration(),
        scenarios,
        shapes,
        ticks: procfs::clock_ticks_per_second(),
        contended_round: 0,
        client_cores: record::client_cores(pinned),
        connections: args.connections as usize,
        runs: Vec::new(),
        failures: Vec::new(),
    };
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
        let addr = server.addr();
        eprintln!("== {protocol} on {addr}");
        let outcome = if protocol == Protocol::TcpFloor {
            let steps = FloorSteps::new(addr, &plan);
            suite.run_protocol(protocol, &mut server, &steps).await
        } else {
            let options = ClientOptions {
                connections: args.connections as usize,
                lean: !args.ticketing_clients,
            };
            match ApiSteps::connect(protocol, addr, Arc::clone(&plan), options).await {
                Ok(steps) => suite.run_protocol(protocol, &mut server, &steps).await,
                Err(e) => Err(format!("cannot connect to {addr}: {e}")),
            }
        };
        // A server that cannot be reached measured nothing; the other protocols still run.
        if let Err(cause) = outcome {
            let failure = Failure {
                protocol: protocol.name().to_owned(),
                scenario: None,
                shape: None,
                attempted: 0,
                cause,
            };
            eprintln!("   FAILED {failure}");
            suite.failures.push(failure);
        }
        server.stop();
    }
    let results = Results {
        schema_version: SCHEMA_VERSION,
        meta: record::meta(
            spec,
            args.warmup(),
            pinned,
            started,
            args.connections as usize,
            !args.ticketing_clients,
        ),
        runs: suite.runs,
        failures: suite.failures,
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
    if args.wide {
        println!("{}", report::console_table_wide(&results));
    } else {
        println!("{}", report::console_table(&results));
    }
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
    if results.failures.is_empty() {
        Ok(())
    } else {
        for failure in &results.failures {
            eprintln!("FAILED {failure}");
        }
        Err(format!(
            "{} run(s) measured nothing (listed above and under `failures` in results.json)",
            results.failures.len()
        ))
    }
}

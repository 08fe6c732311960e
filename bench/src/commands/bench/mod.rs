//! `quartet bench`: the main job. For each protocol in turn it starts that server as a
//! child process (or uses `--target`), runs every scenario at every concurrency (and
//! rate), reads the server's CPU, memory and socket bytes from /proc around each run,
//! and writes `results.json`, `report.md` and `report.html`, then prints the table.
//!
//! - [`runner`]: the run loop over one protocol's scenarios and shapes, through its step
//!   provider (`steps::ApiSteps` for the four APIs, `steps::FloorSteps` for the floor).
//! - [`record`]: building a run's record, and the suite's `meta`, for `results.json`.
//! - [`watch_runs`]: the `watch` scenario's runs (subscribers instead of concurrency).
//! - [`postgres`]: `--store postgres`: a freshly loaded schema per protocol,
//!   `--replicas` servers over it, and the database's floor under pgbench.
//! - [`staleness`]: `--search index`: commit to searchable, under a steady writer.
//! - [`sweep`]: `--events` and `--search` lists: the suite once per catalogue size and
//!   search mode.

pub mod postgres;
pub mod record;
pub mod runner;
pub mod staleness;
pub mod sweep;
pub mod watch_runs;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::DatasetSpec;

use self::record::Shape;
use self::runner::{Server, Suite};
use crate::child::ServerChild;
use crate::compression::Compression;
use crate::cpus::{self, CpuSet, Placement};
use crate::link::LinkProfile;
use crate::link::process::RelayProcess;
use crate::procfs;
use crate::protocol::Protocol;
use crate::report;
use crate::results::{Failure, Results, SCHEMA_VERSION, Skipped};
use crate::scenario::{Plan, Scenario};
use crate::shard::Shard;
use crate::steps::{ApiSteps, ClientOptions, FloorSteps, ReplicaSteps};
use netkit::args::StoreKind;

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
// Independent on/off flags (--quick, --tls, ...), each its own clap switch.
#[allow(clippy::struct_excessive_bools)]
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
    /// Serve and connect over TLS: a development CA and server certificate are written
    /// to the run's folder (tls/), every server child gets --tls-cert/--tls-key, and
    /// every client (lean ones included) verifies against the CA with its protocol's
    /// ALPN id. Each run is marked `tls: true`; compare with a plain run through
    /// `quartet compare`. The raw floors (tcp, http1, h2) serve plain text only and are
    /// listed as not run; graphql-floor, the GraphQL server itself, runs over TLS. Not
    /// with --store postgres or --target yet. Short for `--security tls` (with --auth,
    /// `--security tls+auth`).
    #[arg(long, conflicts_with = "security")]
    pub tls: bool,
    /// Authenticate every request: a development HS256 key is written to the run's
    /// folder (auth/key), every API server child gets --auth-key (the floors do not),
    /// and every client (lean ones included, and the connect scenario's connections)
    /// sends a bearer token with the `book` scope for one customer, whom every hold
    /// names. Rate limits stay off. Each API run is marked `auth: true`; with --tls it
    /// is the TLS+auth condition. Not with --store postgres or --target yet. The watch
    /// scenario's writer and subscribers send no token (nor use TLS) yet, so it is
    /// listed as not run under any secured condition. Short for `--security auth`.
    #[arg(long, conflicts_with = "security")]
    pub auth: bool,
    /// Security conditions, comma-separated, each running the whole suite with servers
    /// started afresh: plain, tls, auth (tokens without TLS) and tls+auth, e.g.
    /// `--security plain,tls,tls+auth`. With several, every run names its condition
    /// (`security` in results.json) and the reports open with each protocol's figures
    /// per condition side by side, as a multiple of plain (of the first condition when
    /// plain is not among them). The certificates (tls/) and key (auth/) are written
    /// once, as with --tls and --auth [default: plain, or what --tls and --auth say].
    #[arg(long, value_delimiter = ',')]
    pub security: Option<Vec<crate::auth::Security>>,
    /// With several --security conditions: rounds per protocol. The sweep runs protocol
    /// by protocol, each protocol's conditions back to back (its servers restarted for
    /// each, outside the measured window), so a ratio compares runs made moments apart;
    /// with N above 1 it does so N times, reversing the order every other round (plain,
    /// tls+auth, tls+auth, plain, ...) so a steady drift of the machine weighs on every
    /// condition alike. Each run kept is the median round's (by ops/s; the lower middle
    /// one for an even N; every round's ops/s listed in `round_throughput_ops_s`), and
    /// the report's multiple of plain is the median of the per-round multiples, each
    /// condition set against plain of the same round.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=99))]
    pub security_rounds: u32,
    /// Seconds measured per run [default: 4; --quick: 1.5].
    #[arg(long)]
    pub duration: Option<f64>,
    /// Seconds of warm-up before each measured run, not measured [default: 1; --quick: 0.5].
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Protocols, comma-separated (tcp-floor, http1-floor and h2-floor are the floors:
    /// raw TCP, hyper HTTP/1.1 and hyper HTTP/2 answering prepared get_event bytes;
    /// graphql-floor is the GraphQL server answering `{ __typename }`, run at the
    /// busiest concurrency only).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tcp-floor,http1-floor,h2-floor,graphql-floor,rest,graphql,grpc,wire"
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
    /// This load machine's part of a load several make together: shard I of N (1/2 and
    /// 2/2 on two machines). Its worker j is worker j*N+I-1 of one machine running N
    /// times the concurrency, so shards never draw the same inputs or make the same
    /// writes. Only with --target for every protocol run; combine the machines' results
    /// with `quartet merge`. The watch scenario is not sharded (one writer).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Draw every event a scenario asks for from the first N events only [default: any
    /// event]. The smaller N, the hotter the server's caches: 1 asks for event 1 every
    /// time, as a load tool with one fixed URL does (`scripts/vs-reference.sh` runs
    /// both). Holds keep their own on-sale events.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub hot_events: Option<u32>,
    /// Pin client and server to separate cores.
    #[arg(long, value_enum, default_value_t = Pin::Auto)]
    pub pin: Pin,
    /// CPUs the load generator runs on, a list such as 0, 0-3 or 0,2,4 [default: the
    /// lower half of the CPUs this process may use; on 2 cores, CPU 0]. Its runtime gets
    /// one worker thread per CPU, each pinned to its own.
    #[arg(long, value_name = "LIST")]
    pub client_cpus: Option<CpuSet>,
    /// CPUs each server child runs on (`taskset -c`, one runtime worker thread per CPU)
    /// [default: the CPUs the load generator leaves; on 2 cores, CPU 1]. Several sets
    /// separated by `;` (or the flag repeated) run the suite once per set, to show the
    /// servers' throughput against their cores, e.g. --server-cpus '4;4-5;4-7'.
    #[arg(long, value_name = "LIST[;LIST...]", value_delimiter = ';')]
    pub server_cpus: Vec<CpuSet>,
    /// Events in the dataset. Several, comma-separated (e.g. 10000,1000000), run the
    /// scenarios at each catalogue size in turn, and the reports show each scenario's
    /// latency against the size.
    #[arg(long, value_delimiter = ',', default_values_t = [domain::dataset::DEFAULT_EVENTS])]
    pub events: Vec<u32>,
    /// Dataset seed (inputs are drawn from it too: the same sequence for every protocol).
    #[arg(long, default_value_t = domain::dataset::DEFAULT_SEED)]
    pub seed: u64,
    /// The emulated link between the load generator and every server (floors
    /// included): loopback (none), lan (0.5 ms RTT, 1 Gbit/s), region (10 ms, 200
    /// Mbit/s), continent (80 ms, 50 Mbit/s), mobile (60 ms ± 10 ms, 10 Mbit/s down, 2
    /// up) or custom:rtt=20ms,down=5mbit,up=1mbit,jitter=2ms. Comma-separated (or
    /// repeated) to run each in turn, e.g. --link loopback,mobile.
    #[arg(long, default_value = "loopback")]
    pub link: Vec<String>,
    /// Response compression the clients ask for: none, gzip or zstd. Comma-separated to
    /// run each in turn over every link, e.g. --compression none,zstd. Servers compress
    /// answers of at least 1 KiB when asked (the wire protocol: frames, once its hellos
    /// agreed on the codec); the floors have no compression and are not run (a note,
    /// not a failure) under anything but none.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "none")]
    pub compression: Vec<Compression>,
    /// Subscribers of the `watch` scenario, comma-separated: one run each [default:
    /// 1,100,1000; --quick: 1,100].
    #[arg(long, value_delimiter = ',')]
    pub subscribers: Option<Vec<usize>>,
    /// Changes per second the `watch` scenario's writer makes.
    #[arg(long, default_value_t = 200.0, value_parser = parse_rate)]
    pub watch_rate: f64,
    /// Milliseconds the `watch` scenario's one deliberately slow subscriber spends per
    /// message (it joins the run with the subscriber count nearest 100).
    #[arg(long, default_value_t = 50)]
    pub slow_subscriber_ms: u64,
    /// The `watch` scenario's gRPC and wire subscribers use the protocols' own clients
    /// (every field decoded) instead of the lean subscribers, to compare client cost.
    #[arg(long)]
    pub watch_own_clients: bool,
    /// Results folder [default: results/<timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the servers keep their data: `memory` (each server generates the dataset)
    /// or `postgres`: each protocol's servers over a schema of `--database-url` freshly
    /// loaded with the dataset (dropped after unless `--keep`), and the database's floor
    /// beside them (the store's statements run by pgbench on one more such schema).
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    pub store: StoreKind,
    /// With `--store postgres`: the database (else $QUARTET_DATABASE_URL, else
    /// postgres://postgres@127.0.0.1:5432/test).
    #[arg(long)]
    pub database_url: Option<String>,
    /// With `--store postgres`: server processes per protocol over its schema; each
    /// run's clients (connections) are spread over them round robin, and their CPU,
    /// RSS and socket bytes summed. The watch scenario's writer uses the first and its
    /// subscribers the second, so its latency includes change data capture.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub replicas: u64,
    /// With `--store postgres`: keep each protocol's schema after its runs.
    #[arg(long)]
    pub keep: bool,
    /// With `--store postgres`: how the servers answer search, comma-separated to run
    /// each in turn: `database` (PostgreSQL's full-text search) or `index` (each
    /// replica's engine index fed by the change feed; its staleness is measured too)
    /// [default: database].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub search: Option<Vec<netkit::args::SearchKind>>,
    /// `--search index`: changes per second the staleness writer makes.
    #[arg(long, default_value_t = 200.0, value_parser = parse_rate)]
    pub staleness_rate: f64,
    /// `--search index`: changes the staleness writer makes at most, per protocol.
    #[arg(long, default_value_t = 2_000)]
    pub staleness_changes: u64,
    /// `--search index`: seconds the staleness writer runs at most, per protocol.
    #[arg(long, default_value_t = 15.0)]
    pub staleness_seconds: f64,
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

fn parse_shard(text: &str) -> Result<Shard, String> {
    text.parse()
        .map_err(|e: crate::shard::ShardError| e.to_string())
}

pub(crate) fn parse_target(text: &str) -> Result<(Protocol, SocketAddr), String> {
    let (protocol, addr) = text.split_once('=').ok_or("expected PROTOCOL=ADDR")?;
    Ok((
        protocol.parse()?,
        addr.parse()
            .map_err(|e| format!("bad address {addr:?}: {e}"))?,
    ))
}

impl Args {
    /// `memory` or `postgres`, as results.json names the store.
    pub fn store_name(&self) -> &'static str {
        match self.store {
            StoreKind::Memory => "memory",
            StoreKind::Postgres => "postgres",
        }
    }

    fn concurrencies(&self) -> Vec<usize> {
        let list = self
            .concurrency
            .clone()
            .unwrap_or_else(|| if self.quick { vec![16] } else { vec![1, 32] });
        list.into_iter().map(|c| c.max(1)).collect()
    }

    fn watch_shapes(&self) -> watch_runs::WatchShapes {
        let subscribers = self.subscribers.clone().unwrap_or_else(|| {
            if self.quick {
                vec![1, 100]
            } else {
                vec![1, 100, 1_000]
            }
        });
        watch_runs::WatchShapes {
            subscribers: subscribers.into_iter().map(|s| s.max(1)).collect(),
            rate: self.watch_rate,
            slow_pause: Duration::from_millis(self.slow_subscriber_ms),
            own_clients: self.watch_own_clients,
        }
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

    /// The `--link` profiles, in order, each once.
    ///
    /// # Errors
    /// A bad profile, named.
    pub fn links(&self) -> Result<Vec<LinkProfile>, String> {
        let mut links: Vec<LinkProfile> = Vec::new();
        for text in &self.link {
            for link in LinkProfile::parse_list(text).map_err(|e| e.to_string())? {
                if !links.iter().any(|l| l.name == link.name) {
                    links.push(link);
                }
            }
        }
        Ok(links)
    }

    /// The security conditions, in order, each once (never empty): `--security`'s, else
    /// the one `--tls` and `--auth` name.
    pub fn security_conditions(&self) -> Vec<crate::auth::Security> {
        let mut out: Vec<crate::auth::Security> = Vec::new();
        for &security in self.security.iter().flatten() {
            if !out.contains(&security) {
                out.push(security);
            }
        }
        if out.is_empty() {
            out.push(crate::auth::Security {
                tls: self.tls,
                auth: self.auth,
            });
        }
        out
    }

    /// The `--compression` list, in order, each once.
    pub fn compressions(&self) -> Vec<Compression> {
        let mut out: Vec<Compression> = Vec::new();
        for &c in &self.compression {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        if out.is_empty() {
            out.push(Compression::None);
        }
        out
    }

    /// The `--shard`, checked against the other flags: every protocol run must be a
    /// `--target` (a server every load machine shares), and the watch scenario, whose
    /// one writer cannot be split, is left out of a shard of several (an error when
    /// asked for by name).
    ///
    /// # Errors
    /// A protocol without a target, or `--scenarios watch`, under a shard.
    pub fn shard_and_scenarios(&self) -> Result<(Option<Shard>, Vec<Scenario>), String> {
        let asked = self.scenarios.clone();
        let mut scenarios = asked.clone().unwrap_or_else(|| {
            Scenario::ALL
                .into_iter()
                .filter(|s| s.in_default_suite())
                .collect()
        });
        let Some(shard) = self.shard else {
            return Ok((None, scenarios));
        };
        let untargeted: Vec<&str> = self
            .protocols
            .iter()
            .filter(|p| !self.target.iter().any(|(t, _)| t == *p))
            .map(|p| p.name())
            .collect();
        if !untargeted.is_empty() {
            return Err(format!(
                "--shard {shard} needs --target for every protocol it runs (the servers every load machine shares; the harness's own are not): {} have none; choose the targets with --protocols",
                untargeted.join(", ")
            ));
        }
        if !shard.is_whole() && scenarios.contains(&Scenario::Watch) {
            if asked.is_some() {
                return Err(format!(
                    "--shard {shard}: the watch scenario cannot be sharded (its one writer and its delivery check see the whole event); run it from one machine"
                ));
            }
            eprintln!("note: --shard {shard}: the watch scenario is not sharded, so it is not run");
            scenarios.retain(|s| *s != Scenario::Watch);
        }
        Ok((Some(shard), scenarios))
    }

    /// The PostgreSQL side of the suite (`--store postgres`), or `None` for the memory
    /// store; `client_cpus` is where pgbench runs (the load generator's CPUs).
    ///
    /// # Errors
    /// `--replicas`, `--keep` or `--database-url` without `--store postgres` (memory
    /// servers share nothing), or several replicas over an emulated link (one relay
    /// fronts one server).
    pub fn pg_suite(
        &self,
        client_cpus: Option<String>,
    ) -> Result<Option<postgres::PgSuite>, String> {
        if self.store == StoreKind::Memory {
            if self.replicas > 1 || self.keep || self.database_url.is_some() {
                return Err(
                    "--replicas, --keep and --database-url need --store postgres (memory servers share no data)"
                        .to_owned(),
                );
            }
            return Ok(None);
        }
        if self.replicas > 1 && self.link.iter().any(|l| l.trim() != "loopback") {
            return Err(
                "--replicas above 1 runs over loopback only (one link relay fronts one server)"
                    .to_owned(),
            );
        }
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(pgstore::PgConfig::url_from_env);
        Ok(Some(postgres::PgSuite::new(
            url,
            usize::try_from(self.replicas).unwrap_or(1),
            self.keep,
            client_cpus,
        )))
    }

    /// Whether this run pins; decided before the runtime starts. Naming CPUs pins.
    pub fn pinned(&self) -> bool {
        match self.pin {
            Pin::On => true,
            Pin::Off => false,
            Pin::Auto => {
                self.client_cpus.is_some()
                    || !self.server_cpus.is_empty()
                    || std::thread::available_parallelism().map_or(1, usize::from) >= 2
            }
        }
    }

    /// Where the load generator and the server children run, or `None` when not
    /// pinning; decided before the runtime starts (its workers are sized and pinned to
    /// the client's CPUs).
    ///
    /// # Errors
    /// CPUs named with `--pin off`, a CPU this process may not use, no CPU left for a
    /// side, or a sweep of server sets with a `--target` (whose CPUs are not the
    /// harness's to choose).
    pub fn placement(&self) -> Result<Option<Placement>, String> {
        let named = self.client_cpus.is_some() || !self.server_cpus.is_empty();
        if self.pin == Pin::Off && named {
            return Err(
                "--client-cpus and --server-cpus pin the processes: they cannot go with --pin off"
                    .to_owned(),
            );
        }
        if self.server_cpus.len() > 1 && !self.target.is_empty() {
            return Err(
                "a --server-cpus sweep restarts the servers on each set: it cannot go with --target"
                    .to_owned(),
            );
        }
        if !self.pinned() {
            return Ok(None);
        }
        let available = cpus::available()
            .ok_or("cannot read which CPUs this process may use (sched_getaffinity)")?;
        cpus::placement(
            self.client_cpus.clone(),
            self.server_cpus.clone(),
            &available,
        )
        .map(Some)
        .map_err(|e| e.to_string())
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
    let links = args.links()?;
    let placement = args.placement()?;
    for warning in placement.iter().flat_map(|p| &p.warnings) {
        eprintln!("warning: {warning}");
    }
    let pinned = placement.is_some();
    let pg = args.pg_suite(placement.as_ref().map(|p| p.client.to_string()))?;
    // The first catalogue size names the dataset in `meta`; a sweep's runs name theirs.
    let sizes = args.event_sizes();
    let spec = DatasetSpec {
        events: sizes
            .first()
            .copied()
            .unwrap_or(domain::dataset::DEFAULT_EVENTS),
        seed: args.seed,
    };
    let search_modes = args.search_modes()?;
    let (shard, scenarios) = args.shard_and_scenarios()?;
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
        client_cores: placement
            .as_ref()
            .map_or_else(|| record::client_cores(false), |p| p.client.len()),
        connections: args.connections as usize,
        link: String::new(),
        compression: Compression::None,
        runs: Vec::new(),
        failures: Vec::new(),
        skipped: Vec::new(),
        hlogs: Vec::new(),
        store: pg.as_ref().map(|_| "postgres".to_owned()),
        replicas: pg.as_ref().map(|p| p.replicas).filter(|r| *r > 1),
        tls: None,
        search: None,
        events: None,
        staleness: Vec::new(),
        auth: None,
        security: None,
    };
    let security = security_kit(&args, started, pg.is_some())?;
    let suite_started = Instant::now();
    // One pass per server CPU set: one unless --server-cpus sweeps.
    let server_sets: Vec<Option<&CpuSet>> = placement
        .as_ref()
        .map_or_else(|| vec![None], |p| p.servers.iter().map(Some).collect());
    // Every catalogue size, search mode and security condition in turn (one of each: the
    // suite as always).
    sweep::run(
        &mut suite,
        &sweep::Passes {
            args: &args,
            links: &links,
            server_sets: &server_sets,
            pg: pg.as_ref(),
            security: &security,
            shard,
        },
    )
    .await?;
    let mut results = Results {
        schema_version: SCHEMA_VERSION,
        meta: record::meta(
            spec,
            args.warmup(),
            pinned,
            started,
            args.connections as usize,
            !args.ticketing_clients,
            &links.iter().map(|l| l.name.clone()).collect::<Vec<_>>(),
            &args.compressions(),
        ),
        runs: suite.runs,
        failures: suite.failures,
        skipped: suite.skipped,
        search_staleness: suite.staleness,
    };
    if sizes.len() > 1 {
        results.meta.events_sweep = sizes;
    }
    if pg.is_some() {
        results.meta.search = Some(
            search_modes
                .iter()
                .flatten()
                .map(|k| postgres::search_name(*k))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    results.meta.shard = shard;
    results.meta.hot_events = args.hot_events;
    results.meta.store = Some(args.store_name().to_owned());
    // The security conditions, for the reports' headers (the runs say it each too); a
    // sweep's are in each run's `security`, and the reports split by it.
    if let [one] = security.conditions.as_slice() {
        results.meta.tls = one.tls.then_some(true);
        results.meta.auth = one.auth.then_some(true);
    } else {
        results.meta.security_sweep = security
            .conditions
            .iter()
            .map(|s| s.name().to_owned())
            .collect();
        // Says the sweep ran protocol by protocol (files without it ran condition by
        // condition), and in how many rounds.
        results.meta.security_rounds = Some(args.security_rounds);
    }
    if let Some(pg) = &pg {
        results.meta.replicas = Some(pg.replicas);
        results.meta.pgbench = Some(pg.pgbench_note());
    }
    if let Some(placement) = &placement {
        results.meta.client_cores = Some(placement.client.len());
        results.meta.client_cpus = Some(placement.client.to_string());
        results.meta.server_cpus = Some(
            placement
                .servers
                .iter()
                .map(CpuSet::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
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
    write_hlogs(&out, &suite.hlogs)?;
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

/// The security conditions of the suite, and what they need written before any server
/// starts, in the run's folder (the same one the results go to): the development CA and
/// server certificate (`tls/`) when a condition has TLS, the key and the run's token
/// (`auth/`) when one has auth.
///
/// # Errors
/// A secured condition with `--store postgres` or `--target` (servers the harness does
/// not start with its certificate and key), or a file that cannot be written.
fn security_kit(
    args: &Args,
    started: chrono::DateTime<chrono::Utc>,
    pg: bool,
) -> Result<sweep::SecurityKit, String> {
    let conditions = args.security_conditions();
    let folder = || {
        args.out.clone().unwrap_or_else(|| {
            PathBuf::from("results").join(started.format("%Y%m%dT%H%M%SZ").to_string())
        })
    };
    if let Some(secured) = conditions.iter().find(|c| c.secured())
        && (pg || !args.target.is_empty())
    {
        return Err(format!(
            "--security {secured} (or --tls, --auth) runs the harness's own in-memory servers only (not with --store postgres or --target)"
        ));
    }
    let tls = if conditions.iter().any(|c| c.tls) {
        let dir = folder().join("tls");
        let paths = netkit::tls::dev::write(&dir).map_err(|e| e.to_string())?;
        let ca = netkit::tls::ClientTls::from_ca_file(&paths.ca).map_err(|e| e.to_string())?;
        eprintln!("== TLS: development certificates in {}", dir.display());
        let flags = vec![
            "--tls-cert".to_owned(),
            paths.cert.display().to_string(),
            "--tls-key".to_owned(),
            paths.key.display().to_string(),
        ];
        Some((ca, flags))
    } else {
        None
    };
    // The key reaches the servers in `run_protocols` (the APIs only).
    let auth = if conditions.iter().any(|c| c.auth) {
        let auth = crate::auth::BenchAuth::write(&folder().join("auth"))?;
        eprintln!(
            "== auth: development key {}; every client sends a token for {}",
            auth.key_file.display(),
            auth.client.customer.email
        );
        Some(auth)
    } else {
        None
    };
    Ok(sweep::SecurityKit {
        conditions,
        tls,
        auth,
    })
}

/// The dataset `plan` was made from.
fn spec_of(plan: &Plan) -> DatasetSpec {
    plan.data().spec
}

/// Writes each run's interval log under `out` (the paths its run names).
///
/// # Errors
/// If the folder or a file cannot be written.
fn write_hlogs(out: &std::path::Path, hlogs: &[(String, String)]) -> Result<(), String> {
    if hlogs.is_empty() {
        return Ok(());
    }
    let folder = out.join(crate::hlog::FOLDER);
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    for (name, text) in hlogs {
        let path = folder.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The flags a server child of `protocol` gets beyond the usual ones: `--tls`'s, and
/// `--auth`'s key for an API (a floor answers prepared bytes and checks no token).
fn server_flags(suite: &Suite, protocol: Protocol, tls_flags: &[String]) -> Vec<String> {
    let mut flags = tls_flags.to_vec();
    if let Some(auth) = suite.auth.as_ref().filter(|_| !protocol.is_floor()) {
        flags.extend(auth.server_flags());
    }
    flags
}

/// Runs every protocol of `protocols` in turn, each server started on `server_cpus` (or
/// the `--target`), and marks the runs of the servers it started with their CPUs.
///
/// # Errors
/// If a server cannot be started.
#[allow(clippy::too_many_arguments)]
async fn run_protocols(
    suite: &mut Suite,
    args: &Args,
    protocols: &[Protocol],
    plan: &Arc<Plan>,
    links: &[LinkProfile],
    server_cpus: Option<&CpuSet>,
    pg: Option<&postgres::PgSuite>,
    tls_flags: &[String],
) -> Result<(), String> {
    for &protocol in protocols {
        let first_run = suite.runs.len();
        // Over PostgreSQL every API's servers get a freshly loaded schema of their own;
        // the floors serve fixed bytes and need none.
        let schema = pg
            .filter(|_| !protocol.is_floor())
            .filter(|_| !args.target.iter().any(|(p, _)| *p == protocol))
            .map(|pg| pg.schema(protocol.name()));
        let mut server = match (
            args.target.iter().find(|(p, _)| *p == protocol),
            pg,
            &schema,
        ) {
            (Some((_, addr)), _, _) => Server::Target(*addr),
            (None, Some(pg), Some(schema)) => {
                eprintln!(
                    "== {protocol}: {} server(s) over PostgreSQL schema {schema}",
                    pg.replicas
                );
                let started = match pg.load(schema, plan.data()).await {
                    Ok(()) => pg.start(protocol, spec_of(plan), schema, server_cpus),
                    Err(e) => Err(e),
                };
                match started {
                    Ok(server) => server,
                    Err(cause) => {
                        pg.drop_schema(schema).await;
                        let failure = Failure {
                            protocol: protocol.name().to_owned(),
                            scenario: None,
                            shape: None,
                            attempted: 0,
                            cause,
                        };
                        eprintln!("   FAILED {failure}");
                        suite.failures.push(failure);
                        continue;
                    }
                }
            }
            _ => Server::Child(ServerChild::start_with(
                protocol,
                spec_of(plan).events,
                args.seed,
                server_cpus,
                &server_flags(suite, protocol, tls_flags),
            )?),
        };
        let started = matches!(server, Server::Child(_) | Server::Replicas(_));
        for link in links {
            if let Err(cause) = run_over_link(suite, protocol, &mut server, link, args, plan).await
            {
                let cause = format!("over {link}: {cause}");
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
        }
        // --search index: how stale the index is, before the servers stop.
        if let (Some(pg), Some(schema)) = (pg, &schema)
            && pg.search == Some(netkit::args::SearchKind::Index)
        {
            let at = server.addrs();
            let shape = args.staleness_shape();
            staleness::run(suite, protocol, &at, (&pg.url, schema), plan, shape).await;
        }
        server.stop();
        if let (Some(pg), Some(schema)) = (pg, &schema) {
            pg.drop_schema(schema).await;
        }
        if started && let Some(cpus) = server_cpus {
            for run in suite.runs.get_mut(first_run..).unwrap_or_default() {
                run.server_cpus = Some(cpus.to_string());
            }
        }
    }
    Ok(())
}

/// Runs every scenario of `protocol` through `link`, once per `--compression`: a relay
/// child in front of the server (none for loopback), the clients connected to it, the
/// relay stopped after. A compression the protocol cannot honour is noted as skipped;
/// a compression whose clients cannot connect is a failure, and the next is still run.
///
/// # Errors
/// If the relay cannot be started: the protocol measured nothing over this link.
async fn run_over_link(
    suite: &mut Suite,
    protocol: Protocol,
    server: &mut Server,
    link: &LinkProfile,
    args: &Args,
    plan: &Arc<Plan>,
) -> Result<(), String> {
    let relay = if link.is_loopback() {
        None
    } else {
        Some(RelayProcess::start(server.addr(), link)?)
    };
    let addr = relay.as_ref().map_or_else(|| server.addr(), |r| r.addr);
    link.name.clone_into(&mut suite.link);
    let mut watched = false;
    for compression in args.compressions() {
        // Every API compresses and serves TLS; the raw floors do neither, and a floor run
        // in plain text beside TLS runs would be a different floor under the same label.
        let refusal = if compression != Compression::None && !protocol.compresses() {
            Some("a floor answers fixed uncompressed bytes")
        } else if suite.tls.is_some() && !protocol.serves_tls() {
            Some("a raw floor serves plain text only (no TLS)")
        } else {
            None
        };
        if let Some(reason) = refusal {
            let skipped = Skipped {
                protocol: protocol.name().to_owned(),
                link: link.name.clone(),
                compression: compression.name().to_owned(),
                reason: reason.to_owned(),
            };
            eprintln!("== NOT RUN: {skipped}");
            suite.skipped.push(skipped);
            continue;
        }
        eprintln!(
            "== {protocol} on {} over {link} ({}), compression {compression}",
            server.addr(),
            link.describe()
        );
        suite.compression = compression;
        let outcome = if protocol == Protocol::TcpFloor {
            let steps = FloorSteps::new(addr, plan);
            suite.run_protocol(protocol, server, &steps).await
        } else {
            let options = ClientOptions {
                connections: args.connections as usize,
                lean: !args.ticketing_clients,
                compression,
                tls: suite.tls.clone(),
                // `ApiSteps` leaves it out for a floor.
                auth: suite.auth.as_ref().map(|a| a.client.clone()),
            };
            let replicas = server.addrs();
            let outcome = if replicas.len() > 1 {
                // --replicas: client i on replica i mod N (loopback only, so no relay).
                match ReplicaSteps::connect(protocol, &replicas, plan, options).await {
                    Ok(steps) => suite.run_protocol(protocol, server, &steps).await,
                    Err(e) => Err(format!("cannot connect: {e}")),
                }
            } else {
                match ApiSteps::connect(protocol, addr, Arc::clone(plan), options).await {
                    Ok(steps) => suite.run_protocol(protocol, server, &steps).await,
                    Err(e) => Err(format!("cannot connect to {addr}: {e}")),
                }
            };
            // The availability streams are never compressed (SSE is excluded, the others
            // are small messages): watched once per link, under the first compression.
            let watch_due = outcome.is_ok()
                && !watched
                && !protocol.is_floor()
                && suite.scenarios.contains(&Scenario::Watch);
            // Once per link, whether run or listed as not run.
            watched |= watch_due;
            if watch_due && watch_allowed(suite, protocol, link, compression) {
                // Over replicas the writer commits through the first and the subscribers
                // follow on the second: delivery includes change data capture.
                let subscribers_at = replicas.get(1).copied().unwrap_or(addr);
                watch_runs::run_across(
                    suite,
                    protocol,
                    server,
                    (addr, subscribers_at),
                    plan,
                    &args.watch_shapes(),
                )
                .await;
            }
            outcome
        };
        if let Err(cause) = outcome {
            let failure = Failure {
                protocol: protocol.name().to_owned(),
                scenario: None,
                shape: None,
                attempted: 0,
                cause: format!("over {link} with compression {compression}: {cause}"),
            };
            eprintln!("   FAILED {failure}");
            suite.failures.push(failure);
        }
    }
    if let Some(relay) = relay {
        relay.stop();
    }
    Ok(())
}

/// Whether the watch scenario may run under the suite's security condition: in plain
/// text without tokens only. Its lean subscribers and its writer connect in plain text
/// and send no token (the writer's holds would be UNAUTHENTICATED, a TLS port would
/// refuse them all), so under TLS or auth it is listed as not run, saying so, rather
/// than counted as a failure or measured as something it is not.
fn watch_allowed(
    suite: &mut Suite,
    protocol: Protocol,
    link: &LinkProfile,
    compression: Compression,
) -> bool {
    if suite.tls.is_none() && suite.auth.is_none() {
        return true;
    }
    let skipped = Skipped {
        protocol: protocol.name().to_owned(),
        link: link.name.clone(),
        compression: compression.name().to_owned(),
        reason: "its watch scenario only: the watch subscribers and writer do not use TLS or send a token yet, so watch runs in plain text without auth only".to_owned(),
    };
    eprintln!("== NOT RUN: {skipped}");
    suite.skipped.push(skipped);
    false
}

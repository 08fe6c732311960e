//! `quartet torture`: clients of every protocol at once against servers sharing one
//! store, each call recorded, then the history checked for linearizability seat by
//! seat. Prints calls per protocol, the history's size, the check's time and the
//! verdict; fails (non-zero exit) with the violating sub-history if there is one, or if
//! the check could not decide. See `crate::torture` and docs/torture.md.

use std::net::SocketAddr;
use std::time::Duration;

use domain::{DatasetSpec, EventId};

use netkit::args::StoreKind;

use super::bench::parse_target;
use super::bench::postgres::PgSuite;
use super::bench::runner::Server;
use crate::protocol::Protocol;
use crate::torture::check::{DEFAULT_MAX_CONFIGURATIONS, Verdict};
use crate::torture::{self, Options, summary};

/// Flags of `quartet torture`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Protocols whose clients run at once, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "rest,graphql,grpc,wire")]
    pub protocols: Vec<Protocol>,
    /// Clients per protocol, each on its own connection.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub clients: u64,
    /// Seats of the event the clients fight over.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub seats: u64,
    /// Seconds the clients run (each also stops after --ops-per-client calls).
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    pub duration: f64,
    /// Most calls per client.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub ops_per_client: u64,
    /// Seconds a call may take before it is recorded as indeterminate.
    #[arg(long, default_value_t = 5.0, value_parser = parse_seconds)]
    pub call_timeout: f64,
    /// Seed of the clients' choices (and of the dataset of servers started here).
    #[arg(long, default_value_t = domain::dataset::DEFAULT_SEED)]
    pub seed: u64,
    /// Events in the dataset of servers started here.
    #[arg(long, default_value_t = 100)]
    pub events: u32,
    /// The event whose seats are used [default: the first on sale with enough available
    /// seats].
    #[arg(long)]
    pub event: Option<u64>,
    /// Use servers already running: PROTOCOL=ADDR, one per protocol (repeatable). They
    /// must share one store (`quartet serve`), and nobody else may write to the seats.
    #[arg(long, value_parser = parse_target)]
    pub target: Vec<(Protocol, SocketAddr)>,
    /// Configurations each seat's search may remember before it gives up (its memory
    /// bound); past it the verdict is inconclusive, a failure.
    #[arg(long, default_value_t = DEFAULT_MAX_CONFIGURATIONS)]
    pub max_configurations: usize,
    /// Where the servers started here keep their data: one in-memory store in this
    /// process, or `postgres`: a schema of `--database-url` freshly loaded with the
    /// dataset, served by `--replicas` `serve-one` processes per protocol (dropped after
    /// unless `--keep`), so the history crosses processes and the database.
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    pub store: StoreKind,
    /// With `--store postgres`: the database (else $QUARTET_DATABASE_URL, else
    /// postgres://postgres@127.0.0.1:5432/test).
    #[arg(long)]
    pub database_url: Option<String>,
    /// With `--store postgres`: server processes per protocol; a protocol's clients are
    /// spread over them.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    pub replicas: u64,
    /// With `--store postgres`: keep the schema after the run.
    #[arg(long)]
    pub keep: bool,
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!("expected seconds (0 < s <= 86400), not {text:?}")),
    }
}

impl Args {
    fn options(&self) -> Result<Options, String> {
        if let Some(floor) = self.protocols.iter().find(|p| p.is_floor()) {
            return Err(format!("{floor} is a floor: it has no bookings to torture"));
        }
        Ok(Options {
            protocols: self.protocols.clone(),
            targets: self.target.clone(),
            dataset: DatasetSpec {
                events: self.events,
                seed: self.seed,
            },
            clients_per_protocol: self.clients as usize,
            seats: self.seats as usize,
            event: self.event.map(EventId),
            duration: Duration::from_secs_f64(self.duration),
            ops_per_client: self.ops_per_client as usize,
            call_timeout: Duration::from_secs_f64(self.call_timeout),
            seed: self.seed,
            max_configurations: self.max_configurations,
        })
    }
}

/// Runs the torture and prints what it found.
///
/// # Errors
/// If it cannot run, or the history is not linearizable, or the check could not decide.
pub async fn run(args: Args) -> Result<(), String> {
    let mut options = args.options()?;
    let outcome = if args.store == StoreKind::Postgres {
        if !args.target.is_empty() {
            return Err(
                "--store postgres starts its own servers: it cannot go with --target".into(),
            );
        }
        let url = args
            .database_url
            .clone()
            .unwrap_or_else(pgstore::PgConfig::url_from_env);
        let pg = PgSuite::new(
            url,
            usize::try_from(args.replicas).unwrap_or(2),
            args.keep,
            None,
        );
        let schema = pg.schema("torture");
        let servers = match pg
            .load(&schema, &domain::Dataset::from_spec(options.dataset))
            .await
        {
            Ok(()) => start_replicas(&pg, &options, &schema),
            Err(e) => Err(e),
        };
        let outcome = match servers {
            Ok(servers) => {
                options.targets = servers
                    .iter()
                    .flat_map(|(p, s)| s.addrs().into_iter().map(move |a| (*p, a)))
                    .collect();
                println!(
                    "PostgreSQL schema {schema}: {} server process(es) per protocol",
                    pg.replicas
                );
                let outcome = torture::torture(&options).await;
                for (_, server) in servers {
                    server.stop();
                }
                outcome
            }
            Err(e) => Err(e),
        };
        pg.drop_schema(&schema).await;
        outcome?
    } else {
        torture::torture(&options).await?
    };
    let history = &outcome.history;
    println!(
        "event {}, seats {:?}, {} clients per protocol, seed {}",
        outcome.event,
        history.seats.iter().map(|s| s.0).collect::<Vec<_>>(),
        options.clients_per_protocol,
        options.seed
    );
    print!("{}", summary::render(&summary::per_protocol(history)));
    let per_seat: Vec<String> = outcome
        .report
        .seats
        .iter()
        .map(|s| format!("{}: {} ops", s.seat, s.ops))
        .collect();
    let configurations: usize = outcome.report.seats.iter().map(|s| s.configurations).sum();
    println!(
        "history: {} calls in {:.1} s; per seat {}",
        history.len(),
        outcome.run_time.as_secs_f64(),
        per_seat.join(", ")
    );
    println!(
        "check: {:.3} s, {configurations} configurations explored",
        outcome.check_time.as_secs_f64()
    );
    print!("{}", outcome.report.render(history));
    match outcome.report.verdict {
        Verdict::Linearizable => Ok(()),
        Verdict::Inconclusive { .. } => Err("the check could not decide".into()),
        Verdict::Violation(_) | Verdict::DuplicateBooking { .. } => {
            Err("the history is not linearizable".into())
        }
    }
}

/// `pg.replicas` servers of every protocol of `options` over `schema`.
///
/// # Errors
/// If one cannot be started (those already started are stopped).
fn start_replicas(
    pg: &PgSuite,
    options: &torture::Options,
    schema: &str,
) -> Result<Vec<(Protocol, Server)>, String> {
    let mut servers: Vec<(Protocol, Server)> = Vec::new();
    for &protocol in &options.protocols {
        match pg.start(protocol, options.dataset, schema, None) {
            Ok(server) => servers.push((protocol, server)),
            Err(e) => {
                for (_, server) in servers {
                    server.stop();
                }
                return Err(e);
            }
        }
    }
    Ok(servers)
}

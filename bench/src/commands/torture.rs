//! `quartet torture`: clients of every protocol at once against servers sharing one
//! store, each call recorded, then the history checked for linearizability seat by
//! seat. Prints calls per protocol, the history's size, the check's time and the
//! verdict; fails (non-zero exit) with the violating sub-history if there is one, or if
//! the check could not decide. See `crate::torture` and docs/torture.md.

use std::net::SocketAddr;
use std::time::Duration;

use domain::{DatasetSpec, EventId};

use super::bench::parse_target;
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
    let options = args.options()?;
    let outcome = torture::torture(&options).await?;
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

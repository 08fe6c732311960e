//! `quartet abuse`: slow and hostile clients against each protocol's server, one attack
//! at a time, while a normal client calls `get_event`. Starts each server as a child
//! process (`quartet serve-one`, default limits) so its RSS is its own, or attacks
//! `--target` servers. Prints the table and writes the JSON report; fails if any
//! connection was not ended by the limit the attack names, or the normal client saw an
//! error. See `crate::abuse` and docs/abuse.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::bench::parse_target;
use crate::abuse::report::{self, AbuseReport};
use crate::abuse::{self, Attack, Limits, Options};
use crate::child::ServerChild;
use crate::protocol::Protocol;

/// Flags of `quartet abuse`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Protocols to attack, one after another, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "rest,graphql,grpc,wire")]
    pub protocols: Vec<Protocol>,
    /// Attacks to run (each where it applies), comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub attacks: Vec<Attack>,
    /// Abusive connections per attack (fewer if the open-files limit says so).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub connections: u64,
    /// Longest any attack runs, in seconds (an attack whose limit is longer reports its
    /// connections as still open).
    #[arg(long, default_value_t = 150)]
    pub max_window: u64,
    /// Milliseconds between the normal client's calls.
    #[arg(long, default_value_t = 5)]
    pub pace_ms: u64,
    /// Events in the dataset of servers started here.
    #[arg(long, default_value_t = 100)]
    pub events: u32,
    /// Attack servers already running: PROTOCOL=ADDR (repeatable). Their limits are
    /// assumed to be the defaults.
    #[arg(long, value_parser = parse_target)]
    pub target: Vec<(Protocol, SocketAddr)>,
    /// With --target: the process whose RSS to sample [default: none, RSS reads 0].
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Run the normal client as a task of the harness's runtime, among the attack's
    /// tasks, as the harness did before 2026-11-29 (only to compare measurements: its
    /// latency then includes the harness's own scheduling; see docs/abuse.md).
    #[arg(long)]
    pub normal_in_harness_runtime: bool,
    /// Where to write the JSON report.
    #[arg(long, default_value = "abuse.json")]
    pub out: PathBuf,
}

/// Runs every chosen attack on every chosen protocol and reports.
///
/// # Errors
/// If a server cannot start, the report cannot be written, or an attack was not ended
/// by its limit (or disturbed the normal client).
pub async fn run(args: Args) -> Result<(), String> {
    let attacks = if args.attacks.is_empty() {
        Attack::ALL.to_vec()
    } else {
        args.attacks.clone()
    };
    let wanted = usize::try_from(args.connections).unwrap_or(usize::MAX);
    let (connections, note) = abuse::connections_allowed(wanted, 1);
    let mut notes: Vec<String> = note.into_iter().collect();
    // Each server's connection cap is 1 024: past it the abusive connections would wait
    // in the listen backlog, and so would the normal client.
    if connections + 1 > netkit::config::MAX_CONNECTIONS {
        notes.push(format!(
            "{connections} connections exceed the servers' connection cap ({}): the rest wait in the backlog, the normal client too",
            netkit::config::MAX_CONNECTIONS
        ));
    }
    for note in &notes {
        eprintln!("note: {note}");
    }
    let options = Options {
        connections,
        max_window: Duration::from_secs(args.max_window),
        limits: Limits::defaults(),
        pace: Duration::from_millis(args.pace_ms),
        normal_on_own_thread: !args.normal_in_harness_runtime,
    };
    let mut rows = Vec::new();
    for &protocol in &args.protocols {
        if protocol.is_floor() {
            return Err(format!("{protocol} is a floor: nothing to abuse"));
        }
        for &attack in attacks.iter().filter(|a| a.applies_to(protocol)) {
            // A fresh server per attack: one attack's leftovers never meet the next.
            let (addr, pid, child) = if let Some(&(_, addr)) =
                args.target.iter().find(|(p, _)| *p == protocol)
            {
                (addr, args.server_pid, None)
            } else {
                let child =
                    ServerChild::start(protocol, args.events, domain::dataset::DEFAULT_SEED, None)?;
                (child.addr, Some(child.pid()), Some(child))
            };
            eprintln!("{protocol} {attack}: {connections} connections");
            let row = abuse::run_attack(protocol, attack, addr, pid.unwrap_or(0), &options).await;
            if let Some(child) = child {
                child.stop();
            }
            let row = row?;
            eprintln!(
                "{protocol} {attack}: {:.1} s on the wall clock (window {:.0} s)",
                row.wall_s, row.window_s
            );
            print!("{}", report::render(std::slice::from_ref(&row)));
            rows.push(row);
        }
    }
    println!();
    print!("{}", report::render(&rows));
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| !r.passed())
        .map(|r| format!("{} {}", r.protocol, r.attack))
        .collect();
    let report = AbuseReport {
        connections,
        notes,
        rows,
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, json)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!("wrote {}", args.out.display());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not ended by their limit, or the normal client saw errors: {}",
            failed.join(", ")
        ))
    }
}

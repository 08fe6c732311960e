//! Building the records `results.json` holds: a [`Run`] from what one measured window
//! gave (the load result, the payload bytes, the server's counters at both edges), and
//! the [`Meta`] of the whole suite.

use std::time::Duration;

use domain::DatasetSpec;

use crate::compression::Compression;
use crate::load::LoadResult;
use crate::procfs::ProcessStats;
use crate::protocol::Protocol;
use crate::results::{BytesPerOp, Meta, Run};
use crate::scenario::Scenario;
use crate::stats::{Latency, encode};

/// The share of its cores at or above which the load generator's CPU over a window
/// flags the run `client_bound`.
pub const CLIENT_BOUND_THRESHOLD: f64 = 0.9;

/// The share of the rate asked for an open-loop run must achieve not to be flagged
/// `rate_not_met`.
pub const RATE_MET_SHARE: f64 = 0.95;

/// Schedule lag the open loop's backlog may gain over a window before it counts as grown.
pub const BACKLOG_SLACK: Duration = Duration::from_millis(10);

/// A run's load shape.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Clients (closed loop) or connections (open loop).
    pub concurrency: usize,
    /// Requests per second asked for (open loop), else `None`.
    pub rate: Option<f64>,
}

impl Shape {
    /// `c=N` (closed loop) or `open R/s`, as the reports label it.
    pub fn label(&self) -> String {
        match self.rate {
            Some(rate) => format!("open {rate:.0}/s"),
            None => format!("c={}", self.concurrency),
        }
    }
}

/// A server child's counters at one edge of a measured window.
#[derive(Debug, Clone, Copy)]
pub struct ServerStats {
    /// CPU and memory, from /proc.
    pub process: ProcessStats,
    /// Bytes it read from its connections (what the clients sent).
    pub socket_read: u64,
    /// Bytes it wrote to its connections (what the clients received).
    pub socket_written: u64,
}

/// What one measured window of one (protocol, scenario, shape) gave.
#[derive(Debug)]
pub struct Measurement<'a> {
    /// The protocol.
    pub protocol: Protocol,
    /// The scenario.
    pub scenario: Scenario,
    /// The load shape.
    pub shape: Shape,
    /// The measured window's length asked for.
    pub duration: Duration,
    /// What the load generator counted.
    pub result: &'a LoadResult,
    /// `(sent, received)` payload bytes the client counted in the window.
    pub payload: (u64, u64),
    /// The server's counters before the window (none for a `--target`).
    pub before: Option<ServerStats>,
    /// The server's counters after the window.
    pub after: Option<ServerStats>,
    /// What the run's check found (contended_hold: seats in two live bookings).
    pub double_bookings: Option<u64>,
    /// The load generator's own CPU ticks over the window (none if /proc was unreadable).
    pub client_cpu_ticks: Option<u64>,
    /// Cores the load generator was given.
    pub client_cores: usize,
    /// Connections the run's clients used.
    pub connections: usize,
    /// The link the run went through.
    pub link: &'a str,
    /// Requests the browse workers sent in the window, where counted.
    pub browse_requests: Option<u64>,
}

/// Open loop: `(achieved ops/s, rate not met)`: completions inside the window over the
/// window, flagged when under [`RATE_MET_SHARE`] of `rate` or when the backlog grew over
/// the window by more than [`BACKLOG_SLACK`] worth of requests plus one per connection
/// (timer granularity, requests queued for a connection at the edge).
pub fn open_loop_verdict(
    rate: f64,
    result: &LoadResult,
    shape: Shape,
    duration: Duration,
) -> (f64, bool) {
    let achieved = result.completed_in_window as f64 / duration.as_secs_f64().max(1e-9);
    let slack = (rate * BACKLOG_SLACK.as_secs_f64()).ceil() as u64 + shape.concurrency as u64;
    let grew = result.backlog_at_end > result.backlog_at_start.saturating_add(slack);
    (achieved, achieved < RATE_MET_SHARE * rate || grew)
}

/// Whether a run measured nothing: no operation succeeded (conflicts are answers, so
/// they count as successes). Returns the cause, the first error.
pub fn measured_nothing(result: &LoadResult) -> Option<String> {
    let succeeded = result.ops.saturating_sub(result.errors);
    (succeeded == 0).then(|| {
        result.first_error.clone().unwrap_or_else(|| {
            if result.abandoned > 0 {
                format!(
                    "no answer: {} requests still unanswered {} s after the window",
                    result.abandoned,
                    crate::load::DRAIN.as_secs()
                )
            } else {
                "no operation completed in the window".to_owned()
            }
        })
    })
}

/// The record of one run. Bytes and CPU are divided by every operation run (the counters
/// they come from cannot tell the window's edges); `ticks` is the kernel's clock ticks
/// per second.
pub fn run(m: &Measurement<'_>, ticks: u64) -> Run {
    let Measurement {
        protocol,
        scenario,
        shape,
        duration,
        result,
        payload,
        before,
        after,
        double_bookings,
        client_cpu_ticks,
        client_cores,
        connections,
        link,
        browse_requests,
    } = *m;
    let duration = duration.as_secs_f64();
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
        socket_sent: server.map_or(0.0, |(b, a)| per_op(a.socket_read - b.socket_read)),
        socket_received: server.map_or(0.0, |(b, a)| per_op(a.socket_written - b.socket_written)),
    };
    let cpu =
        server.map(|(b, a)| per_op(a.process.cpu_ticks - b.process.cpu_ticks) * 1e6 / ticks as f64);
    let client_cpu = client_cpu_ticks.map(|t| per_op(t) * 1e6 / ticks as f64);
    let client_share = client_cpu_ticks.map(|t| {
        let cpu_s = t as f64 / ticks as f64;
        cpu_s / (result.wall.as_secs_f64().max(1e-9) * client_cores.max(1) as f64)
    });
    let open = shape
        .rate
        .map(|rate| open_loop_verdict(rate, result, shape, m.duration));
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
    Run {
        protocol: protocol.name().to_owned(),
        floor: protocol.own_floor().map(|f| f.name().to_owned()),
        connections: Some(connections),
        scenario: scenario.name().to_owned(),
        link: Some(link.to_owned()),
        // The caller names the compression (`Suite::run_protocol`); absent: none.
        compression: None,
        // Likewise TLS (`Suite::keep`'s caller marks it); absent: plain text.
        tls: None,
        // And `--auth` (marked there too, the APIs' runs only).
        auth: None,
        // A `--security` sweep's condition: `Suite::keep` marks it.
        security: None,
        round_trips_per_op: scenario.round_trips().map(f64::from),
        requests_per_op: browse_requests
            .filter(|_| scenario.round_trips().is_some())
            .map(per_op),
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
        client_cpu_us_per_op: client_cpu,
        client_cpu_share: client_share,
        client_bound: client_share.is_some_and(|s| s >= CLIENT_BOUND_THRESHOLD),
        achieved_rate_ops_s: open.map(|o| o.0),
        backlog_at_end: shape.rate.map(|_| result.backlog_at_end),
        abandoned: result.abandoned,
        rate_not_met: open.is_some_and(|o| o.1),
        throughput_per_second: per_second.iter().map(|s| s.0).collect(),
        p50_per_second_us: per_second.iter().map(|s| s.1).collect(),
        p99_per_second_us: per_second.iter().map(|s| s.2).collect(),
        double_bookings,
        first_error: result.first_error.clone(),
        histogram: encode(&result.latency),
        uncorrected_histogram: result.uncorrected.as_ref().map(encode),
        // The suite names the interval log when it keeps it (`Suite::keep`).
        hlog: None,
        window_start_unix_s: result
            .window_start
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs_f64()),
        merged_runs: None,
        window_overlap_s: None,
        watch: None,
        // The caller names the server's CPUs (`run_protocols`), and the store and
        // replicas (`Suite::keep`).
        server_cpus: None,
        store: None,
        replicas: None,
        // Likewise the search mode and, in a sweep, the catalogue size (`Suite::keep`).
        search: None,
        events: None,
        // `--security-rounds` names them once the rounds are made (`sweep`).
        round_throughput_ops_s: Vec::new(),
    }
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

/// Where and how the suite ran: on `dataset`, warming up for `warmup` before each
/// window, pinned or not, started at `started`, the multiplexed protocols over
/// `connections` connections, REST's and GraphQL's reads through the lean clients or not,
/// over `links` with `compressions` (named in `meta` only when one is not `none`).
#[allow(clippy::too_many_arguments)] // one per fact of the run, each named at the call
pub fn meta(
    dataset: DatasetSpec,
    warmup: Duration,
    pinned: bool,
    started: chrono::DateTime<chrono::Utc>,
    connections: usize,
    lean_clients: bool,
    links: &[String],
    compressions: &[Compression],
) -> Meta {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
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
        cores,
        os,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        dataset_events: dataset.events,
        dataset_seed: dataset.seed,
        started_at: started.to_rfc3339(),
        pinned,
        warmup_s: warmup.as_secs_f64(),
        client_cores: Some(client_cores(pinned)),
        client_bound_threshold: Some(CLIENT_BOUND_THRESHOLD),
        connections: Some(connections),
        lean_clients: Some(lean_clients),
        link: Some(links.join(", ")),
        compression: compressions
            .iter()
            .any(|c| *c != Compression::None)
            .then(|| {
                compressions
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        // The caller names the shard when there is one, and the CPUs when pinned.
        shard: None,
        hot_events: None,
        merged_from: Vec::new(),
        client_cpus: None,
        server_cpus: None,
        store: None,
        replicas: None,
        pgbench: None,
        search: None,
        events_sweep: Vec::new(),
        // `--tls` and `--auth`: set by the caller, which knows them.
        tls: None,
        auth: None,
        security_sweep: Vec::new(),
        security_rounds: None,
    }
}

/// Cores the load generator runs on: one when pinned (core 0), else every core.
pub fn client_cores(pinned: bool) -> usize {
    if pinned {
        1
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

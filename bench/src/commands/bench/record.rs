//! Building the records `results.json` holds: a [`Run`] from what one measured window
//! gave (the load result, the payload bytes, the server's counters at both edges), and
//! the [`Meta`] of the whole suite.

use std::time::Duration;

use domain::DatasetSpec;

use crate::load::LoadResult;
use crate::procfs::ProcessStats;
use crate::protocol::Protocol;
use crate::results::{BytesPerOp, Meta, Run};
use crate::scenario::Scenario;
use crate::stats::{Latency, encode};

/// A run's load shape.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Clients (closed loop) or connections (open loop).
    pub concurrency: usize,
    /// Requests per second asked for (open loop), else `None`.
    pub rate: Option<f64>,
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
/// window, pinned or not, started at `started`.
pub fn meta(
    dataset: DatasetSpec,
    warmup: Duration,
    pinned: bool,
    started: chrono::DateTime<chrono::Utc>,
) -> Meta {
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
        dataset_events: dataset.events,
        dataset_seed: dataset.seed,
        started_at: started.to_rfc3339(),
        pinned,
        warmup_s: warmup.as_secs_f64(),
    }
}

//! The database's floor under `quartet bench --store postgres`: the statements the
//! PostgreSQL store runs for a scenario, run by `pgbench` alone (no protocol, no Rust
//! service, no pool) on a schema loaded with the same dataset, at the same client
//! counts. What a protocol's postgres figure costs beyond this is what the service and
//! its protocol add.
//!
//! The scripts are `bench/pgbench/<scenario>.sql` (each says what, if anything, differs
//! from the store's own path and why); this module finds pgbench, runs a script with
//! `-M prepared` and a per-transaction log, and reads the summary and the log back into
//! the harness's figures (latency histogram, per second, failures). Starting, loading
//! and dropping the schema is `commands::bench::postgres`'s.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::scenario::Scenario;
use crate::stats;

/// The name its runs carry in `results.json` (a floor: the report's `-floor` rule).
pub const PROTOCOL: &str = "pgbench-floor";

/// The scenarios with a pgbench script.
pub const SCENARIOS: [Scenario; 5] = [
    Scenario::GetEvent,
    Scenario::EventDetail,
    Scenario::SearchEvents,
    Scenario::HoldCancel,
    Scenario::ContendedHold,
];

/// Whether `protocol` names the pgbench floor.
pub fn is_pgbench(protocol: &str) -> bool {
    protocol == PROTOCOL
}

/// The pgbench script of `scenario`, if it has one.
pub fn script(scenario: Scenario) -> Option<&'static str> {
    match scenario {
        Scenario::GetEvent => Some(include_str!("../pgbench/get_event.sql")),
        Scenario::EventDetail => Some(include_str!("../pgbench/event_detail.sql")),
        Scenario::SearchEvents => Some(include_str!("../pgbench/search_events.sql")),
        Scenario::HoldCancel => Some(include_str!("../pgbench/hold_cancel.sql")),
        Scenario::ContendedHold => Some(include_str!("../pgbench/contended_hold.sql")),
        _ => None,
    }
}

/// A pgbench binary and its version line.
#[derive(Debug, Clone)]
pub struct Pgbench {
    /// Where it is.
    pub path: PathBuf,
    /// `pgbench --version`, e.g. `pgbench (PostgreSQL) 15.20 (Debian ...)`.
    pub version: String,
}

/// One pgbench run: a scenario's script at a client count on a schema.
#[derive(Debug, Clone)]
pub struct FloorRun<'a> {
    /// The database (a URL libpq understands).
    pub url: &'a str,
    /// The schema the script's tables are in (its `search_path`).
    pub schema: &'a str,
    /// The scenario.
    pub scenario: Scenario,
    /// Clients (`-c`), each on its own connection.
    pub clients: usize,
    /// Threads (`-j`), at most `clients`.
    pub threads: usize,
    /// The window (`-T` takes whole seconds: rounded up, at least 1).
    pub duration: Duration,
    /// `-D NAME=VALUE` variables the script reads.
    pub vars: Vec<(String, String)>,
    /// Where the script and the per-transaction logs go (removed after reading).
    pub dir: &'a Path,
    /// CPUs to pin pgbench to (`taskset -c`), the load generator's.
    pub cpus: Option<String>,
}

/// What one pgbench run measured.
#[derive(Debug)]
pub struct Outcome {
    /// What pgbench printed at the end.
    pub summary: Summary,
    /// Latency of every transaction that finished, in µs.
    pub latency: Histogram<u64>,
    /// The same, per second of the window (by each transaction's end time).
    pub per_second: Vec<Histogram<u64>>,
    /// Transactions the log marks failed.
    pub failed: u64,
    /// The window's real length (`-T` rounded up).
    pub window: Duration,
    /// When the first logged transaction ended.
    pub window_start: SystemTime,
}

/// pgbench's closing summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// `number of transactions actually processed`.
    pub processed: u64,
    /// `number of failed transactions` (pgbench 15; 0 when absent).
    pub failed: u64,
    /// `tps = ... (without initial connection time)`.
    pub tps: f64,
    /// `latency average = ... ms`, if printed.
    pub latency_average_ms: Option<f64>,
}

impl Pgbench {
    /// pgbench on `PATH`, else under `/usr/lib/postgresql/<version>/bin` (newest first).
    ///
    /// # Errors
    /// A sentence saying none was found (the floor is then skipped, and said so).
    pub fn find() -> Result<Self, String> {
        let mut candidates = vec![PathBuf::from("pgbench")];
        if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
            let mut found: Vec<PathBuf> = dirs
                .filter_map(Result::ok)
                .map(|d| d.path().join("bin/pgbench"))
                .filter(|p| p.exists())
                .collect();
            found.sort();
            candidates.extend(found.into_iter().rev());
        }
        for path in candidates {
            if let Ok(out) = Command::new(&path).arg("--version").output()
                && out.status.success()
            {
                let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                return Ok(Pgbench { path, version });
            }
        }
        Err("pgbench not found (on PATH or under /usr/lib/postgresql/*/bin)".to_owned())
    }

    /// Runs `run`'s script (blocking: call it from `spawn_blocking`).
    ///
    /// # Errors
    /// If pgbench cannot be started, exits with an error (a client aborted: the script
    /// does not fit the schema), or its output cannot be read.
    pub fn run(&self, run: &FloorRun<'_>) -> Result<Outcome, String> {
        let text = script(run.scenario)
            .ok_or_else(|| format!("{} has no pgbench script", run.scenario))?;
        std::fs::create_dir_all(run.dir)
            .map_err(|e| format!("cannot create {}: {e}", run.dir.display()))?;
        let script_path = run.dir.join(format!("{}.sql", run.scenario.name()));
        std::fs::write(&script_path, text)
            .map_err(|e| format!("cannot write {}: {e}", script_path.display()))?;
        let prefix = format!("log_{}_c{}", run.scenario.name(), run.clients);
        let seconds = run.duration.as_secs_f64().ceil().max(1.0) as u64;
        let mut command = match &run.cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpus).arg(&self.path);
                c
            }
            None => Command::new(&self.path),
        };
        command
            .arg("-n")
            .args(["-M", "prepared"])
            .args(["-c", &run.clients.max(1).to_string()])
            .args(["-j", &run.threads.clamp(1, run.clients.max(1)).to_string()])
            .args(["-T", &seconds.to_string()])
            .arg("-l")
            .arg(format!("--log-prefix={}", run.dir.join(&prefix).display()))
            .arg("-f")
            .arg(&script_path);
        for (name, value) in &run.vars {
            command.arg("-D").arg(format!("{name}={value}"));
        }
        command
            .arg(run.url)
            .env("PGOPTIONS", format!("-c search_path={}", run.schema));
        let out = command
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.path.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let logs = read_logs(run.dir, &prefix);
        if !out.status.success() {
            let why = stderr
                .lines()
                .find(|l| l.contains("error"))
                .unwrap_or_else(|| stderr.lines().last().unwrap_or("no output"));
            return Err(format!("pgbench failed ({}): {why}", out.status));
        }
        let summary = parse_summary(&stdout)?;
        let mut latency = stats::histogram();
        let mut seconds_seen: Vec<Histogram<u64>> = Vec::new();
        let mut first_end: Option<u64> = None;
        let mut failed = 0u64;
        for line in logs?.lines() {
            let Some(entry) = parse_log_line(line) else {
                continue;
            };
            let end_us = entry.end_unix_us;
            let start = *first_end.get_or_insert(end_us);
            match entry.latency_us {
                Some(us) => {
                    stats::record(&mut latency, us);
                    let second = usize::try_from(end_us.saturating_sub(start) / 1_000_000)
                        .unwrap_or(usize::MAX)
                        .min(seconds as usize);
                    while seconds_seen.len() <= second {
                        seconds_seen.push(stats::histogram());
                    }
                    if let Some(h) = seconds_seen.get_mut(second) {
                        stats::record(h, us);
                    }
                }
                None => failed += 1,
            }
        }
        Ok(Outcome {
            summary,
            latency,
            per_second: seconds_seen,
            failed: failed.max(summary.failed),
            window: Duration::from_secs(seconds),
            window_start: first_end
                .map_or_else(SystemTime::now, |us| UNIX_EPOCH + Duration::from_micros(us)),
        })
    }
}

/// Reads and removes the per-transaction logs pgbench wrote under `dir` with `prefix`
/// (one file per thread: `prefix.PID` and `prefix.PID.N`).
fn read_logs(dir: &Path, prefix: &str) -> Result<String, String> {
    let mut text = String::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("{prefix}.")) {
            let path = entry.path();
            text.push_str(
                &std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            );
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(text)
}

/// One line of pgbench's per-transaction log:
/// `client_id transaction_no time script_no time_epoch time_us [...]`, where `time` is
/// the latency in µs, or `failed` / `skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine {
    /// The transaction's latency in µs; `None` when it failed or was skipped.
    pub latency_us: Option<u64>,
    /// When it ended, µs since the Unix epoch.
    pub end_unix_us: u64,
}

/// Reads one log line; `None` for anything else.
pub fn parse_log_line(line: &str) -> Option<LogLine> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 6 {
        return None;
    }
    let latency_us = match *fields.get(2)? {
        "failed" | "skipped" => None,
        n => Some(n.parse().ok()?),
    };
    let seconds: u64 = fields.get(4)?.parse().ok()?;
    let micros: u64 = fields.get(5)?.parse().ok()?;
    Some(LogLine {
        latency_us,
        end_unix_us: seconds.checked_mul(1_000_000)?.checked_add(micros)?,
    })
}

/// Reads pgbench's closing summary from its stdout.
///
/// # Errors
/// If the processed count or the tps line is missing.
pub fn parse_summary(text: &str) -> Result<Summary, String> {
    let mut processed = None;
    let mut failed = 0;
    let mut tps = None;
    let mut latency_average_ms = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("number of transactions actually processed:") {
            // `12345` or, with -t, `12345/12345`.
            processed = rest
                .trim()
                .split('/')
                .next()
                .and_then(|n| n.trim().parse().ok());
        } else if let Some(rest) = line.strip_prefix("number of failed transactions:") {
            failed = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("latency average =") {
            latency_average_ms = rest
                .trim()
                .strip_suffix("ms")
                .and_then(|n| n.trim().parse().ok());
        } else if let Some(rest) = line.strip_prefix("tps =")
            && (rest.contains("without initial connection time") || tps.is_none())
        {
            tps = rest.split_whitespace().next().and_then(|n| n.parse().ok());
        }
    }
    Ok(Summary {
        processed: processed.ok_or("pgbench printed no transaction count")?,
        failed,
        tps: tps.ok_or("pgbench printed no tps")?,
        latency_average_ms,
    })
}

/// A `text[]` / `bigint[]` literal of `items` for a `-D` variable (`{"a","b"}`); items
/// are the harness's own words and ids, never a client's.
pub fn array_literal<T: std::fmt::Display>(items: &[T]) -> String {
    let inner: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG15: &str = "pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: get_event.sql
scaling factor: 1
query mode: prepared
number of clients: 32
number of threads: 1
maximum number of tries: 1
duration: 4 s
number of transactions actually processed: 81234
number of failed transactions: 3 (0.004%)
latency average = 1.575 ms
initial connection time = 41.772 ms
tps = 20308.412345 (without initial connection time)
";

    #[test]
    fn the_summary_of_pgbench_15_is_read() {
        let s = parse_summary(PG15).unwrap();
        assert_eq!(s.processed, 81234);
        assert_eq!(s.failed, 3);
        assert!((s.tps - 20_308.412_345).abs() < 1e-6);
        assert_eq!(s.latency_average_ms, Some(1.575));
    }

    #[test]
    fn an_older_summary_with_two_tps_lines_takes_the_one_without_connections() {
        let text = "number of transactions actually processed: 10/10\n\
                    tps = 90.0 (including connections establishing)\n\
                    tps = 100.5 (excluding connections establishing)\n\
                    tps = 101.5 (without initial connection time)\n";
        let s = parse_summary(text).unwrap();
        assert_eq!(s.processed, 10);
        assert_eq!(s.failed, 0);
        assert!((s.tps - 101.5).abs() < 1e-9);
        assert_eq!(s.latency_average_ms, None);
    }

    #[test]
    fn a_summary_without_counts_is_an_error() {
        assert!(parse_summary("pgbench: error: connection refused\n").is_err());
        assert!(parse_summary("number of transactions actually processed: 5\n").is_err());
    }

    #[test]
    fn log_lines_give_latency_and_end_time_and_failures_have_no_latency() {
        assert_eq!(
            parse_log_line("0 199 2241 0 1175850568 995598"),
            Some(LogLine {
                latency_us: Some(2241),
                end_unix_us: 1_175_850_568_995_598
            })
        );
        assert_eq!(
            parse_log_line("3 7 failed 0 1700000000 5 serialization"),
            Some(LogLine {
                latency_us: None,
                end_unix_us: 1_700_000_000_000_005
            })
        );
        assert_eq!(parse_log_line("garbage"), None);
        assert_eq!(parse_log_line("0 1 x 0 1 2"), None);
    }

    #[test]
    fn every_floor_scenario_has_a_script_and_no_other_does() {
        for scenario in &Scenario::ALL {
            assert_eq!(
                script(*scenario).is_some(),
                SCENARIOS.contains(scenario),
                "{scenario}"
            );
        }
        // Statuses are parameters, as in the store (a literal would let the planner
        // drop the branch the store's generic plan keeps).
        assert!(script(Scenario::HoldCancel).is_some_and(|s| s.contains(":to_status")));
    }

    #[test]
    fn array_literals_quote_each_item() {
        assert_eq!(array_literal(&["live", "rock"]), "{\"live\",\"rock\"}");
        assert_eq!(array_literal(&[3u64, 1]), "{\"3\",\"1\"}");
        assert_eq!(array_literal::<u64>(&[]), "{}");
    }
}

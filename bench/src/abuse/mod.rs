//! `quartet abuse`: slow and hostile clients against one protocol's server at a time,
//! while a normal client keeps calling `get_event`. Per attack: N abusive connections
//! (slowloris, idle, never reading, HTTP/2 rapid reset and SETTINGS/PING floods,
//! oversized headers, bodies, frames and GraphQL documents), each watched until the
//! server ends it; the normal client's latency and errors; the server's peak RSS.
//!
//! Each (protocol, attack) names the limit expected to end it ([`expected`]), taken
//! from the servers' settings ([`Limits`], read from `netkit::config` and each
//! protocol's `Config`), and every connection is judged against it: ended, by a close or
//! the protocol's refusal, no sooner than the limit and not much later. The byte-level
//! scripts are in [`attack`]; the table and JSON in [`report`]; the kernel's listen-queue
//! counters, read around every attack so a full backlog is not blamed on a server limit,
//! in [`kernel`]. Which server runs, and where, is the caller's (`commands/abuse.rs` starts a child process; the tests serve
//! in process with short limits).

pub mod attack;
pub mod kernel;
pub mod report;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use domain::{EventId, Ticketing};
use serde::Serialize;

use self::attack::{Outcome, Target};
use self::kernel::ListenCounters;
use crate::protocol::{self, Protocol};

/// One kind of abuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Attack {
    /// A request sent one byte per second (HTTP/2: the connection preface).
    Slowloris,
    /// Connected (after the wire hello or the HTTP/2 preface), then nothing.
    Idle,
    /// Requests for a large answer (the biggest seat map), never reading a byte.
    NoRead,
    /// HTTP/2: HEADERS then RST_STREAM, stream after stream.
    RapidReset,
    /// HTTP/2: SETTINGS frames as fast as they go, never reading the ACKs.
    SettingsFlood,
    /// HTTP/2: PING frames as fast as they go, never reading the answers.
    PingFlood,
    /// A 1 MiB header (HTTP/1.1) or a 64 KiB header list (HTTP/2).
    BigHeaders,
    /// A 2 MiB body (gRPC: one message declaring 4 MiB).
    BigBody,
    /// A frame over the maximum: wire 2 MiB (maximum 1 MiB), HTTP/2 1 MiB (maximum 16 KiB).
    BigFrame,
    /// A 64 KiB GraphQL document (maximum 32 KiB).
    BigDocument,
}

impl Attack {
    /// Every attack, in the order they run.
    pub const ALL: [Attack; 10] = [
        Attack::Slowloris,
        Attack::Idle,
        Attack::NoRead,
        Attack::RapidReset,
        Attack::SettingsFlood,
        Attack::PingFlood,
        Attack::BigHeaders,
        Attack::BigBody,
        Attack::BigFrame,
        Attack::BigDocument,
    ];

    /// Its name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Attack::Slowloris => "slowloris",
            Attack::Idle => "idle",
            Attack::NoRead => "no-read",
            Attack::RapidReset => "rapid-reset",
            Attack::SettingsFlood => "settings-flood",
            Attack::PingFlood => "ping-flood",
            Attack::BigHeaders => "big-headers",
            Attack::BigBody => "big-body",
            Attack::BigFrame => "big-frame",
            Attack::BigDocument => "big-document",
        }
    }

    /// Attacks only HTTP/2 has: REST and GraphQL get them over h2c (prior knowledge).
    pub fn is_h2(self) -> bool {
        matches!(
            self,
            Attack::RapidReset | Attack::SettingsFlood | Attack::PingFlood | Attack::BigFrame
        )
    }

    /// Attacks the server answers with a refusal (an error in its own idiom) rather
    /// than only by closing.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Attack::BigHeaders | Attack::BigBody | Attack::BigDocument
        )
    }

    /// Whether it means anything against `protocol`.
    pub fn applies_to(self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Wire => matches!(
                self,
                Attack::Slowloris | Attack::Idle | Attack::NoRead | Attack::BigFrame
            ),
            Protocol::Graphql => true,
            Protocol::Rest | Protocol::Grpc => self != Attack::BigDocument,
            _ => false,
        }
    }
}

impl std::fmt::Display for Attack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The server limits an attack can run into, as the server under attack has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// `ServerConfig::header_read_timeout` (HTTP/1.1 request head; a whole wire frame).
    pub header_read: Duration,
    /// `netkit::http_server::IDLE_TIMEOUT`: an idle HTTP/1.1 connection.
    pub http_idle: Duration,
    /// `Http2Config::keepalive_interval` + `keepalive_timeout`: an HTTP/2 peer that
    /// does not answer pings.
    pub h2_keepalive: Duration,
    /// `wire::Config::idle_timeout`.
    pub wire_idle: Duration,
    /// `wire::Config::write_timeout`: a wire peer that does not read.
    pub wire_write: Duration,
    /// `ServerConfig::write_stall_timeout`: an HTTP peer (HTTP/1.1 or HTTP/2) that does
    /// not read (`netkit::guard`).
    pub write_stall: Duration,
}

impl Limits {
    /// The defaults every server runs with unless told otherwise.
    pub fn defaults() -> Self {
        let server = netkit::ServerConfig::default();
        let h2 = netkit::Http2Config::default();
        let wire = wire::Config::default();
        Limits {
            header_read: server.header_read_timeout,
            http_idle: netkit::http_server::IDLE_TIMEOUT,
            h2_keepalive: h2.keepalive_interval + h2.keepalive_timeout,
            wire_idle: wire.idle_timeout,
            wire_write: wire.write_timeout,
            write_stall: server.write_stall_timeout,
        }
    }
}

/// The limit expected to end an attack, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The limit, as the docs name it.
    pub limit: String,
    /// When it ends the attack, from the connection's start: `None` for at once.
    pub after: Option<Duration>,
    /// What the server's first word must start with, if anything particular.
    pub evidence: Option<&'static str>,
    /// How much later than `after` (plus a tenth of it) the end may come: [`SLACK`],
    /// or [`NO_READ_SLACK`] for the no-read attacks.
    pub slack: Duration,
}

/// How long after its limit an attack may end and still count as ended by it (a
/// timer's granularity, a busy machine, a connection opened late among N).
pub const SLACK: Duration = Duration::from_secs(5);

/// The slack of the no-read attacks (HTTP and wire): the write-stall clock starts only once the
/// server's writes stop making progress, which is after its kernel send buffer (autotuned
/// up to megabytes: loopback's 64 KiB segments grow it fast) has filled with answers;
/// how long that takes depends on how fast the server produces them, for every
/// connection at once (5-9 s for 50 connections on a loaded debug build; 200 on a debug
/// build ended 46-102 s after connecting, since loopback gives each accepted socket a
/// send buffer of about 4 MB, 2.8 MB of answers before a write blocks). No client can
/// see when that happened, so a fixed slack only raced the server's encoding: these run
/// for the whole window (`--max-window`, 150 s by default) or until every connection
/// has ended, and count if ended by a close no sooner than the limit; the table's
/// "ended" column says when, on the wall clock of each connection.
pub const NO_READ_SLACK: Duration = Duration::from_secs(120);

/// The limit that ends `attack` on `protocol`'s server.
pub fn expected(protocol: Protocol, attack: Attack, limits: &Limits) -> Expected {
    let at_once = |limit: &str, evidence| Expected {
        limit: limit.to_owned(),
        after: None,
        evidence,
        slack: SLACK,
    };
    let after = |limit: &str, after: Duration| Expected {
        limit: limit.to_owned(),
        after: Some(after),
        evidence: None,
        slack: SLACK,
    };
    let after_writes_stall = |limit: &str, after: Duration| Expected {
        limit: limit.to_owned(),
        after: Some(after),
        evidence: None,
        slack: NO_READ_SLACK,
    };
    let h2 = protocol == Protocol::Grpc || attack.is_h2();
    match (protocol, attack) {
        (Protocol::Wire, Attack::Slowloris) => after(
            "wire frame timeout (header_read_timeout)",
            limits.header_read,
        ),
        (Protocol::Wire, Attack::Idle) => after("wire idle_timeout", limits.wire_idle),
        // Like HTTP's no-read: the clock starts only once the kernel stops taking the
        // server's bytes, which no client can see, so the same whole-window slack.
        (Protocol::Wire, Attack::NoRead) => after_writes_stall(
            "wire write_timeout / write_stall_timeout (queued answers, then the stall clock)",
            limits.wire_write.min(limits.write_stall),
        ),
        (Protocol::Wire, _) => {
            at_once("wire frame maximum (max_request_bytes)", Some("wire ERROR"))
        }
        // tonic has no deadline for the preface; netkit's guard gives it one, from the
        // connection's start (the attack's first byte comes at once).
        (_, Attack::Slowloris) if h2 => after(
            "HTTP/2 preface deadline (header_read_timeout, netkit guard)",
            limits.header_read,
        ),
        (_, Attack::Slowloris) => after("HTTP/1.1 header_read_timeout", limits.header_read),
        (_, Attack::Idle) if h2 => after(
            "HTTP/2 keep-alive ping (interval + timeout)",
            limits.h2_keepalive,
        ),
        // The server's answers fill the socket buffers within a moment; from then on no
        // write makes progress. On HTTP/2 the keep-alive ping may time out first, but
        // its GOAWAY cannot be flushed to a peer that does not read, so whichever is
        // sooner names the earliest end, and the write stall is what closes it.
        (_, Attack::NoRead) if h2 => after_writes_stall(
            "write_stall_timeout (netkit guard) or HTTP/2 keep-alive ping",
            limits.write_stall.min(limits.h2_keepalive),
        ),
        (_, Attack::Idle) => after("HTTP/1.1 idle keep-alive timeout", limits.http_idle),
        (_, Attack::NoRead) => after_writes_stall(
            "HTTP/1.1 write_stall_timeout (netkit guard)",
            limits.write_stall,
        ),
        (_, Attack::RapidReset) => at_once(
            "HTTP/2 max_pending_accept_resets / max_local_error_resets",
            Some("GOAWAY"),
        ),
        // h2 keeps one acknowledgement pending at most and stops reading until it is
        // written, so a flood that does not read is held by backpressure (and ended by
        // the write stall); one that reads (these do) is cut by netkit's guard, which
        // closes the connection without a GOAWAY (it sits under h2 and cannot write one).
        (_, Attack::SettingsFlood | Attack::PingFlood) => at_once(
            "HTTP/2 max_control_frames per control_frame_window (netkit guard)",
            None,
        ),
        (_, Attack::BigFrame) => at_once("HTTP/2 SETTINGS_MAX_FRAME_SIZE", Some("GOAWAY")),
        (_, Attack::BigHeaders) if h2 => at_once("HTTP/2 max_header_list_bytes", None),
        (_, Attack::BigHeaders) => at_once(
            "HTTP/1.1 header buffer (hyper max_buf_size)",
            Some("HTTP 431"),
        ),
        // The body is sent past the 64 KiB the server's flow-control window allows, so
        // HTTP/2 flow control refuses it before the message-size limit is reached.
        (_, Attack::BigBody) if h2 => at_once("HTTP/2 flow-control window", None),
        (_, Attack::BigBody) => at_once("body limit (max_request_bytes)", Some("HTTP 413")),
        (_, Attack::BigDocument) => at_once("GraphQL max_query_bytes", Some("HTTP")),
    }
}

/// Whether `outcome` is `expected`'s doing.
pub fn judge(outcome: &Outcome, expected: &Expected) -> bool {
    let Some(ended) = outcome.ended_after else {
        return false;
    };
    let in_time = match expected.after {
        None => ended <= expected.slack,
        Some(after) => {
            ended + Duration::from_millis(100) >= after
                && ended <= after + expected.slack + after / 10
        }
    };
    let said = expected
        .evidence
        .is_none_or(|prefix| outcome.evidence.starts_with(prefix));
    in_time && said
}

/// The window one attack runs for: long enough for its limit to fire on every
/// connection, at most `max`.
pub fn window(expected: &Expected, max: Duration) -> Duration {
    let needed = match expected.after {
        None => SLACK * 2,
        Some(after) => after + (SLACK * 2).max(expected.slack) + after / 10,
    };
    needed.min(max)
}

/// What a run does.
#[derive(Debug, Clone)]
pub struct Options {
    /// Abusive connections per attack.
    pub connections: usize,
    /// The longest any attack runs.
    pub max_window: Duration,
    /// The limits of the server under attack.
    pub limits: Limits,
    /// Pause between the normal client's calls.
    pub pace: Duration,
    /// Whether the normal client runs on a thread and runtime of its own (the honest
    /// measurement, the default) or, as before 2026-11-29, as a task of the harness's
    /// runtime among the attack's tasks: only to compare the two measurements.
    pub normal_on_own_thread: bool,
}

/// The normal client's view of one attack.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Normal {
    /// Calls that answered.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// The first failure, if any.
    pub first_error: Option<String>,
    /// Median latency, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// Slowest call, in milliseconds.
    pub max_ms: f64,
}

/// One (protocol, attack) row.
#[derive(Debug, Clone, Serialize)]
pub struct AttackReport {
    /// The protocol attacked.
    pub protocol: String,
    /// The attack.
    pub attack: Attack,
    /// The limit expected to end it.
    pub expected: Expected,
    /// Connections attempted.
    pub connections: usize,
    /// Connections that could not even connect, or (idle HTTP/1.1) that the server's
    /// kernel never handed to the server (see [`kernel`]).
    pub not_connected: usize,
    /// Connections ended by the expected limit, in time.
    pub ended_by_limit: usize,
    /// Connections ended otherwise (another limit, too early, too late).
    pub ended_otherwise: usize,
    /// Connections still open when the window closed.
    pub still_open: usize,
    /// Earliest and latest end, in seconds from each connection's start.
    pub first_end_s: Option<f64>,
    /// Latest end.
    pub last_end_s: Option<f64>,
    /// What the server said first, and on how many connections.
    pub evidence: Vec<(String, usize)>,
    /// The normal client meanwhile.
    pub normal: Normal,
    /// The server's peak resident memory during the attack, in bytes.
    pub peak_rss_bytes: u64,
    /// The attack's window, in seconds.
    pub window_s: f64,
    /// How long the attack took on the wall clock, from its first connect to its last
    /// connection's outcome, in seconds.
    pub wall_s: f64,
    /// The kernel's listen-queue events during the attack (machine-wide; `None` where
    /// /proc/net/netstat cannot be read).
    pub kernel: Option<ListenCounters>,
    /// CPU time (user + system) the server process used from the attack's first connect
    /// to its last outcome, in milliseconds (`None` where /proc cannot be read): what
    /// the attack cost the server, independent of how the wall clock was shared.
    pub server_cpu_ms: Option<f64>,
}

impl AttackReport {
    /// Every connection ended by the expected limit, and the normal client saw no error.
    pub fn passed(&self) -> bool {
        self.ended_by_limit == self.connections && self.normal.errors == 0
    }
}

/// The largest seat map among the first events (the answer no-read clients never read).
///
/// # Errors
/// If no event can be read.
pub async fn biggest_event(api: &dyn Ticketing) -> Result<u64, String> {
    let mut best: Option<(usize, u64)> = None;
    for id in 1..=20 {
        if let Ok(map) = api.get_seat_map(EventId(id)).await {
            let size = map.seats.len();
            if best.is_none_or(|(b, _)| size > b) {
                best = Some((size, id));
            }
        }
    }
    best.map(|(_, id)| id)
        .ok_or_else(|| "no seat map among events 1-20".to_owned())
}

/// Runs `attack` against `protocol`'s server at `addr` (memory read from process
/// `rss_pid`), with a normal client alongside, and reports.
///
/// # Errors
/// If the normal client cannot connect.
pub async fn run_attack(
    protocol: Protocol,
    attack: Attack,
    addr: SocketAddr,
    rss_pid: u32,
    options: &Options,
) -> Result<AttackReport, String> {
    let expected = expected(protocol, attack, &options.limits);
    let window = window(&expected, options.max_window);
    let stop = Arc::new(AtomicBool::new(false));
    let normal = if options.normal_on_own_thread {
        NormalClient::start(protocol, addr, options.pace, Arc::clone(&stop)).await?
    } else {
        NormalClient::start_shared(protocol, addr, options.pace, Arc::clone(&stop)).await?
    };
    let big_event = normal.big_event;
    let sampler = tokio::spawn(sample_rss(rss_pid, Arc::clone(&stop)));
    let target = Target { addr, big_event };
    let kernel_before = ListenCounters::read();
    let cpu_before = crate::procfs::process_stats(rss_pid).ok();
    let attack_started = Instant::now();
    let tasks: Vec<_> = (0..options.connections)
        .map(|_| tokio::spawn(attack::run(protocol, attack, target, window)))
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(
            task.await
                .map_err(|e| format!("an attack task failed: {e}"))?,
        );
    }
    let wall = attack_started.elapsed();
    let server_cpu_ms = crate::procfs::process_stats(rss_pid)
        .ok()
        .zip(cpu_before)
        .map(|(after, before)| {
            after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 * 1_000.0
                / crate::procfs::clock_ticks_per_second().max(1) as f64
        });
    let kernel = ListenCounters::read()
        .zip(kernel_before)
        .map(|(after, before)| after.since(before));
    stop.store(true, Ordering::Relaxed);
    let normal = normal.finish().await?;
    let peak_rss_bytes = sampler.await.unwrap_or(0);
    let mut row = summarise(
        protocol,
        attack,
        expected,
        &outcomes,
        normal,
        peak_rss_bytes,
        (window, wall),
        kernel,
    );
    row.server_cpu_ms = server_cpu_ms;
    Ok(row)
}

/// The normal client, on a thread and a runtime of its own.
///
/// Not a task of the harness's runtime: that runtime also runs the N attack tasks, and
/// during a burst (N connects, N payloads of up to 2 MiB written at once) a task woken
/// there waits behind hundreds of others for a worker, so its latency measured the
/// attacker's scheduling as much as the server. On its own thread (a current-thread
/// runtime, its connection driven by that runtime and nothing else) it waits only for
/// the operating system's scheduler, as a real client in another process would.
struct NormalClient {
    big_event: u64,
    done: tokio::sync::oneshot::Receiver<Normal>,
    /// `None` when it runs on the harness's runtime ([`NormalClient::start_shared`]).
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NormalClient {
    /// Connects the normal client to `addr` on its own thread, finds the largest seat
    /// map (the no-read clients' target) and makes one warm-up call, all before any
    /// attack connection opens, so its connection never waits in the accept backlog
    /// behind the attack's. Then calls `get_event` every `pace` until `stop`.
    async fn start(
        protocol: Protocol,
        addr: SocketAddr,
        pace: Duration,
        stop: Arc<AtomicBool>,
    ) -> Result<Self, String> {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<u64, String>>();
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("abuse-normal-client".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ =
                            ready_tx.send(Err(format!("no runtime for the normal client: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let api = match protocol::connect(protocol, addr).await {
                        Ok(connected) => connected.api,
                        Err(e) => {
                            let _ = ready_tx.send(Err(format!(
                                "the normal {protocol} client cannot connect: {e}"
                            )));
                            return;
                        }
                    };
                    let big_event = match biggest_event(api.as_ref()).await {
                        Ok(id) => id,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    // Warm up: the connection is open and has answered before the burst.
                    let _ = api.get_event(EventId(1)).await;
                    if ready_tx.send(Ok(big_event)).is_err() {
                        return;
                    }
                    let _ = done_tx.send(normal_client(api, pace, stop).await);
                });
            })
            .map_err(|e| format!("cannot start the normal client's thread: {e}"))?;
        let big_event = ready_rx
            .await
            .map_err(|_| "the normal client's thread ended early".to_owned())??;
        Ok(NormalClient {
            big_event,
            done,
            thread: Some(thread),
        })
    }

    /// As [`NormalClient::start`], but as a task of the calling (the harness's) runtime:
    /// the measurement before 2026-11-29, kept to compare against.
    async fn start_shared(
        protocol: Protocol,
        addr: SocketAddr,
        pace: Duration,
        stop: Arc<AtomicBool>,
    ) -> Result<Self, String> {
        let api = protocol::connect(protocol, addr)
            .await
            .map_err(|e| format!("the normal {protocol} client cannot connect: {e}"))?
            .api;
        let big_event = biggest_event(api.as_ref()).await?;
        let _ = api.get_event(EventId(1)).await;
        let (done_tx, done) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let _ = done_tx.send(normal_client(api, pace, stop).await);
        });
        Ok(NormalClient {
            big_event,
            done,
            thread: None,
        })
    }

    /// Its calls, once `stop` is set.
    async fn finish(self) -> Result<Normal, String> {
        let normal = self
            .done
            .await
            .map_err(|_| "the normal client's thread ended early".to_owned())?;
        // It has sent its result: the thread is returning.
        if let Some(thread) = self.thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        Ok(normal)
    }
}

#[allow(clippy::too_many_arguments)] // one row's every part, named at its one call
fn summarise(
    protocol: Protocol,
    attack: Attack,
    expected: Expected,
    outcomes: &[Outcome],
    normal: Normal,
    peak_rss_bytes: u64,
    (window, wall): (Duration, Duration),
    kernel: Option<ListenCounters>,
) -> AttackReport {
    let mut evidence = std::collections::BTreeMap::<String, usize>::new();
    let (mut by_limit, mut otherwise, mut open, mut not_connected) = (0, 0, 0, 0);
    let mut ends: Vec<f64> = Vec::new();
    for outcome in outcomes {
        *evidence.entry(outcome.evidence.clone()).or_default() += 1;
        if !outcome.connected {
            not_connected += 1;
            continue;
        }
        match outcome.ended_after {
            None => open += 1,
            Some(at) => {
                ends.push(at.as_secs_f64());
                if judge(outcome, &expected) {
                    by_limit += 1;
                } else {
                    otherwise += 1;
                }
            }
        }
    }
    ends.sort_by(f64::total_cmp);
    let mut evidence: Vec<_> = evidence.into_iter().collect();
    evidence.sort_by_key(|e| std::cmp::Reverse(e.1));
    AttackReport {
        protocol: protocol.name().to_owned(),
        attack,
        expected,
        connections: outcomes.len(),
        not_connected,
        ended_by_limit: by_limit,
        ended_otherwise: otherwise,
        still_open: open,
        first_end_s: ends.first().copied(),
        last_end_s: ends.last().copied(),
        evidence,
        normal,
        peak_rss_bytes,
        window_s: window.as_secs_f64(),
        wall_s: wall.as_secs_f64(),
        kernel,
        server_cpu_ms: None,
    }
}

/// `get_event(1)` every `pace` until `stop`, timing each call.
async fn normal_client(
    api: domain::SharedTicketing,
    pace: Duration,
    stop: Arc<AtomicBool>,
) -> Normal {
    let mut latencies = Vec::new();
    let mut normal = Normal::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        match api.get_event(EventId(1)).await {
            Ok(_) => {
                latencies.push(started.elapsed());
                normal.calls += 1;
            }
            Err(error) => {
                normal.errors += 1;
                normal.first_error.get_or_insert_with(|| error.to_string());
            }
        }
        tokio::time::sleep(pace).await;
    }
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies
            .get(index)
            .map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
    };
    normal.p50_ms = at(0.50);
    normal.p99_ms = at(0.99);
    normal.max_ms = at(1.0);
    normal
}

/// The highest RSS of process `pid` sampled every 100 ms until `stop`.
async fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> u64 {
    let pid = pid.to_string();
    let mut peak = 0;
    while !stop.load(Ordering::Relaxed) {
        if let Ok(memory) = crate::procfs::memory_of(&pid) {
            peak = peak.max(memory.rss_bytes);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peak
}

/// The soft limit on open files of this process, from /proc/self/limits.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// `wanted` connections, or as many as the open-files limit allows (with room for the
/// runtime, the normal client and, in process, the server's end of each connection:
/// `fds_per_connection`), and a note if that is fewer.
pub fn connections_allowed(wanted: usize, fds_per_connection: usize) -> (usize, Option<String>) {
    const RESERVED: u64 = 256;
    let Some(limit) = open_files_limit() else {
        return (wanted, None);
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED)).unwrap_or(usize::MAX)
        / fds_per_connection.max(1);
    if room >= wanted {
        (wanted, None)
    } else {
        (
            room,
            Some(format!(
                "the open-files limit is {limit} (ulimit -n): running {room} connections per attack instead of {wanted}; raise the soft limit (ulimit -n $(ulimit -Hn)) for more"
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(after: Option<f64>, evidence: &str) -> Outcome {
        Outcome {
            connected: true,
            ended_after: after.map(Duration::from_secs_f64),
            closed: true,
            evidence: evidence.to_owned(),
        }
    }

    #[test]
    fn a_timed_limit_must_fire_neither_early_nor_late() {
        let expected = Expected {
            limit: "t".into(),
            after: Some(Duration::from_secs(10)),
            evidence: None,
            slack: SLACK,
        };
        assert!(judge(&outcome(Some(10.2), "silent close"), &expected));
        assert!(
            !judge(&outcome(Some(3.0), "silent close"), &expected),
            "too early"
        );
        assert!(
            !judge(&outcome(Some(30.0), "silent close"), &expected),
            "too late"
        );
        assert!(!judge(&outcome(None, "still open"), &expected));
    }

    #[test]
    fn an_immediate_limit_must_say_what_it_expects() {
        let expected = Expected {
            limit: "t".into(),
            after: None,
            evidence: Some("HTTP 413"),
            slack: SLACK,
        };
        assert!(judge(
            &outcome(Some(0.1), "HTTP 413 LIMIT_EXCEEDED"),
            &expected
        ));
        assert!(!judge(&outcome(Some(0.1), "HTTP 400"), &expected));
    }

    #[test]
    fn every_protocol_has_the_basic_attacks() {
        for protocol in [
            Protocol::Rest,
            Protocol::Graphql,
            Protocol::Grpc,
            Protocol::Wire,
        ] {
            for attack in [
                Attack::Slowloris,
                Attack::Idle,
                Attack::NoRead,
                Attack::BigFrame,
            ] {
                assert!(attack.applies_to(protocol), "{protocol} {attack}");
            }
        }
        assert!(!Attack::BigDocument.applies_to(Protocol::Rest));
    }
}

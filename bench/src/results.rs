//! `results.json`: the schema every report and comparison reads. Versioned; every
//! figure in it was measured in the run it describes.

use serde::{Deserialize, Serialize};

use crate::shard::Shard;
use crate::stats::Latency;

/// Bumped when a field changes meaning, name or disappears.
///
/// - 1: the first.
/// - 2: `bytes_per_op.wire_sent`/`wire_received` renamed `socket_sent`/`socket_received`
///   (same figures: bytes the server read and wrote on its connections). Later added
///   to 2, optional (absent in older files, read as null/false/empty):
///   `meta.client_cores`, `meta.client_bound_threshold`, `runs[].client_cpu_us_per_op`,
///   `runs[].client_cpu_share`, `runs[].client_bound`, `runs[].achieved_rate_ops_s`,
///   `runs[].backlog_at_end`, `runs[].abandoned`, `runs[].rate_not_met`, `failures`,
///   `meta.connections`, `meta.lean_clients`, `runs[].floor` and `runs[].connections`;
///   and the protocols `http1-floor` and `h2-floor`; `meta.link`, `meta.compression`,
///   `runs[].link`, `runs[].compression`, `runs[].round_trips_per_op` and
///   `runs[].requests_per_op` (absent: loopback, no compression, not counted); the scenario
///   `watch` and `runs[].watch`; `meta.shard`, `meta.merged_from`,
///   `runs[].uncorrected_histogram`, `runs[].hlog`, `runs[].window_start_unix_s`,
///   `runs[].merged_runs` and `runs[].window_overlap_s` (sharded and merged runs);
///   `meta.client_cpus`, `meta.server_cpus` and `runs[].server_cpus` (pinned runs); the
///   protocol `graphql-floor` (the GraphQL server answering `{ __typename }`);
///   `meta.store`, `meta.replicas`, `meta.pgbench`, `runs[].store`, `runs[].replicas`
///   and the protocol `pgbench-floor` (the database alone running the store's statements
///   under pgbench, with `--store postgres`); `meta.search`, `runs[].search` and
///   `search_staleness` (`--search`), `meta.events_sweep` and `runs[].events`
///   (`--events` with several sizes); `meta.security_sweep` and `runs[].security`
///   (`--security` with several conditions); `meta.security_rounds` and
///   `runs[].round_throughput_ops_s` (a sweep run protocol by protocol, in rounds).
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest version [`read`] accepts: every version since reads into today's types.
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// A whole results file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// Where and how the run was made.
    pub meta: Meta,
    /// One entry per (protocol, scenario, mode, concurrency or rate) that measured
    /// something (at least one successful operation).
    pub runs: Vec<Run>,
    /// Runs that measured nothing (no operation succeeded, or the server could not be
    /// reached): they have no figures, only their cause. `quartet bench` exits non-zero
    /// when there is any.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Conditions a protocol was not run under because it cannot honour them (the wire
    /// protocol and the floors under `--compression` other than none), each with why.
    /// Neither a failure nor a figure; absent from files that skipped nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// `--search index` over PostgreSQL: per protocol (and catalogue size), how long a
    /// committed change took to become searchable through a replica's index; absent
    /// when no index run was made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_staleness: Vec<SearchStaleness>,
}

/// How stale one protocol's `--search index` servers were: a writer changed events
/// through the store at a steady rate (each change flips an event between on sale and
/// sold out) and, after each, a prober searched through the protocol's client until
/// the hit showed the change (see `commands::bench::staleness`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchStaleness {
    /// The protocol the prober searched through.
    pub protocol: String,
    /// Events in the catalogue.
    pub events: u32,
    /// Server processes probed (writer `w` probes replica `w mod replicas`).
    pub replicas: usize,
    /// Changes per second the writer was asked for.
    pub rate: f64,
    /// Changes the writer committed.
    pub changes: u64,
    /// Changes per second the writer achieved (each writer waits for its change to be
    /// seen before its next, so a slow index lowers this).
    pub write_rate_achieved: f64,
    /// Changes not seen in search within the deadline (must be 0).
    pub not_seen: u64,
    /// Seconds a change was given to show before it counted as not seen.
    pub deadline_s: f64,
    /// From the write's acknowledgement (the commit is before it) to the answer of the
    /// first search showing it, in µs: commit to searchable, bounded below by the call.
    pub latency_us: Latency,
    /// From the write's call (the commit is after it) to the same answer, in µs: the
    /// upper bound of commit to searchable.
    pub from_call_us: Latency,
    /// Searches the prober made per change, on average (its resolution: one search).
    pub searches_per_change: f64,
    /// The histogram of `latency_us` (HdrHistogram V2 + deflate, base64).
    pub histogram: String,
}

/// A protocol not run under one `(link, compression)` condition, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// The protocol.
    pub protocol: String,
    /// The link of the condition.
    pub link: String,
    /// The compression of the condition.
    pub compression: String,
    /// Why it was not run.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} not run with compression {} over {}: {}",
            self.protocol, self.compression, self.link, self.reason
        )
    }
}

/// A run, or a whole protocol, that measured nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The protocol.
    pub protocol: String,
    /// The scenario, or null when the protocol's server could not be reached at all.
    pub scenario: Option<String>,
    /// `c=N` or `open R/s`, or null with the scenario.
    pub shape: Option<String>,
    /// Operations tried, all failed.
    pub attempted: u64,
    /// Why: the first error.
    pub cause: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.protocol)?;
        if let Some(scenario) = &self.scenario {
            write!(f, " {scenario}")?;
        }
        if let Some(shape) = &self.shape {
            write!(f, " {shape}")?;
        }
        write!(
            f,
            ": measured nothing ({} operations tried, none succeeded); first error: {}",
            self.attempted, self.cause
        )
    }
}

/// The circumstances of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    /// `git rev-parse --short HEAD` of the source, if known.
    pub git_revision: String,
    /// `rustc --version` of the toolchain on the machine.
    pub rustc_version: String,
    /// CPU model from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical cores.
    pub cores: usize,
    /// Kernel and OS.
    pub os: String,
    /// The full command line.
    pub command_line: String,
    /// Events in the dataset.
    pub dataset_events: u32,
    /// Dataset seed.
    pub dataset_seed: u64,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Whether client and server were pinned to separate cores.
    pub pinned: bool,
    /// Seconds of warm-up before each measured window.
    pub warmup_s: f64,
    /// Cores the load generator was given (1 when pinned, else every core).
    #[serde(default)]
    pub client_cores: Option<usize>,
    /// The share of `client_cores` at or above which the load generator's CPU over a
    /// window flags the run `client_bound` (0.9).
    #[serde(default)]
    pub client_bound_threshold: Option<f64>,
    /// `--connections`: connections the multiplexed protocols (grpc, wire, h2-floor)
    /// spread their clients over (default 1); HTTP/1.1 and tcp-floor open one per client.
    #[serde(default)]
    pub connections: Option<usize>,
    /// Whether REST's and GraphQL's read scenarios ran through the lean load clients
    /// (true by default) rather than their `Ticketing` clients (`--ticketing-clients`).
    #[serde(default)]
    pub lean_clients: Option<bool>,
    /// `--link`: the emulated link(s) between the load generator and the servers
    /// (`loopback` = none), comma-separated when several were run; absent in files
    /// written before links existed (loopback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// `--compression`: the response compression(s) asked for (`none`, `gzip`,
    /// `zstd`), comma-separated when several were run; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// `--shard i/n`: this load machine drew shard `index` of `count` of the inputs
    /// (`{"index": 1, "count": 2}`); absent: the whole load from one machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// `--hot-events N`: every event was drawn from the first N events of the dataset
    /// (1: the same event every time); absent: from all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_events: Option<u32>,
    /// `quartet merge`: the results this file adds up, one per load machine; absent
    /// from a file `quartet bench` wrote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<MergedSource>,
    /// `--client-cpus`: the CPUs the load generator was pinned to (a list such as
    /// `0-3`), one runtime worker thread per CPU; absent when not pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cpus: Option<String>,
    /// `--server-cpus`: the CPUs the server children were pinned to, one worker thread
    /// per CPU; a sweep's sets separated by `; ` (each run names its own in
    /// `runs[].server_cpus`); absent when not pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpus: Option<String>,
    /// `--store`: where the servers kept their data (`memory` or `postgres`); absent in
    /// files written before the PostgreSQL store (memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// `--replicas`: server processes per protocol, the load spread over them round robin
    /// (with `--store postgres`); absent: one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<usize>,
    /// With `--store postgres`: the pgbench that ran the database floor
    /// (`pgbench --version`), or why the floor was not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgbench: Option<String>,
    /// With `--store postgres`: the `--search` modes the servers ran with, in order
    /// (`database`, `index`, comma-separated); absent: database (or the memory store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `--events` with several sizes: every catalogue size the scenarios ran at, in
    /// order (each run names its own in `runs[].events`; `dataset_events` is the
    /// first); absent for one size.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events_sweep: Vec<u32>,
    /// `--tls`: every API's connections were TLS; absent: plain text (or a file written
    /// before this was recorded here: its runs say `tls` each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// `--auth`: every API server checked a bearer token on every request; absent: no
    /// tokens (the servers open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<bool>,
    /// `--security` with several conditions: every security condition the suite ran
    /// under, in order (`plain`, `tls`, `auth`, `tls+auth`; each run names its own in
    /// `runs[].security`, and `tls`/`auth` above are then absent); absent for one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_sweep: Vec<String>,
    /// `--security-rounds` of a sweep of several conditions: the sweep ran protocol by
    /// protocol, each protocol's conditions back to back on servers started afresh for
    /// each, this many rounds, the order reversed every other round (`plain, tls+auth,
    /// tls+auth, plain, ...`); with more than one, each run is the median round's and
    /// names every round's throughput in `runs[].round_throughput_ops_s`. Absent in
    /// files whose sweep ran condition by condition (every protocol under one condition,
    /// then every protocol under the next), and for one condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_rounds: Option<u32>,
}

/// One results file a merged one was made of.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergedSource {
    /// The folder it was read from, as given to `quartet merge`.
    pub path: String,
    /// Its shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Its `meta.started_at`.
    pub started_at: String,
    /// Its `meta.git_revision`.
    pub git_revision: String,
    /// Its `meta.cpu_model` (the load machine's).
    pub cpu_model: String,
}

/// Per-op byte counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BytesPerOp {
    /// Request message bodies (JSON, protobuf, postcard), as the client sent them.
    pub request_payload: f64,
    /// Response message bodies, as the client received them.
    pub response_payload: f64,
    /// Everything the client put on the socket: payload plus HTTP headers, HTTP/2
    /// frames, gRPC prefixes, frame headers (counted by the server as it read them).
    /// Called `wire_sent` in schema version 1.
    #[serde(alias = "wire_sent")]
    pub socket_sent: f64,
    /// Everything the client took off the socket (counted by the server as it wrote).
    /// Called `wire_received` in schema version 1.
    #[serde(alias = "wire_received")]
    pub socket_received: f64,
}

/// One measured run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Run {
    /// rest, graphql, grpc, wire, or a floor: tcp-floor, http1-floor, h2-floor,
    /// graphql-floor.
    pub protocol: String,
    /// The floor of this protocol's framework (rest, graphql: http1-floor; grpc:
    /// h2-floor; wire: tcp-floor); null for a floor.
    #[serde(default)]
    pub floor: Option<String>,
    /// Connections the run's clients used: the concurrency for HTTP/1.1 and tcp-floor,
    /// `min(meta.connections, concurrency)` for the multiplexed protocols.
    #[serde(default)]
    pub connections: Option<usize>,
    /// The scenario.
    pub scenario: String,
    /// The emulated link the run went through (`loopback`, `lan`, `mobile`,
    /// `custom:...`); absent: loopback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The compression the client asked for (`none`, `gzip`, `zstd`); absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// `--tls`: the run's connections were TLS (verified against the run's development
    /// CA); absent: plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// `--auth`: the server checked a bearer token on every request (its clients sent
    /// one, the write scenarios holding for the token's customer); absent: no token, the
    /// server open (and always for a floor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<bool>,
    /// `--security` with several conditions: the condition the run was made under
    /// (`plain`, `tls`, `auth` or `tls+auth`), with servers started afresh for it. It
    /// tells a floor's runs apart, whose `tls` and `auth` follow what the floor serves
    /// (no token ever, no TLS for the raw floors); absent: one condition, said by `tls`
    /// and `auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<String>,
    /// Round trips one operation waits for one after another (browse with several
    /// calls: the event, then the rest at once, 2); absent where not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_trips_per_op: Option<f64>,
    /// Requests one operation sends, on average (browse with several calls: 2 plus the
    /// event's performers); absent where not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_op: Option<f64>,
    /// "closed" or "open".
    pub mode: String,
    /// Clients (closed) or connections (open).
    pub concurrency: usize,
    /// Requests per second asked for (open loop), else null.
    pub rate: Option<f64>,
    /// Seconds measured.
    pub duration_s: f64,
    /// Operations completed.
    pub ops: u64,
    /// Failed operations (errors and failed checks).
    pub errors: u64,
    /// Expected refusals (contended holds).
    pub conflicts: u64,
    /// Operations per second.
    pub throughput_ops_s: f64,
    /// Latency in µs (open loop: from each request's intended start).
    pub latency_us: Latency,
    /// Open loop only: latency from the actual send, for comparison.
    pub uncorrected_latency_us: Option<Latency>,
    /// Bytes per op.
    pub bytes_per_op: BytesPerOp,
    /// Server CPU time per op, in µs (null for a target the harness did not start).
    pub server_cpu_us_per_op: Option<f64>,
    /// Server peak resident memory, in bytes (null for a target elsewhere).
    pub server_rss_bytes: Option<u64>,
    /// The load generator's own CPU time (user + system, every thread of the `quartet
    /// bench` process) per op, in µs, over the same span as the server's.
    #[serde(default)]
    pub client_cpu_us_per_op: Option<f64>,
    /// The load generator's CPU time over the window as a share of the cores it was
    /// given (`meta.client_cores`): 1.0 = every given core busy the whole time.
    #[serde(default)]
    pub client_cpu_share: Option<f64>,
    /// Whether `client_cpu_share` reached `meta.client_bound_threshold`: the client, not
    /// the server, may have set the pace, so ops/s is a floor on the server's capacity.
    #[serde(default)]
    pub client_bound: bool,
    /// Open loop: operations that finished inside the window, per second of it.
    #[serde(default)]
    pub achieved_rate_ops_s: Option<f64>,
    /// Open loop: requests due in the window but never sent (the schedule's lag when
    /// the window ended).
    #[serde(default)]
    pub backlog_at_end: Option<u64>,
    /// Requests still unanswered when the drain after the window ran out (dropped).
    #[serde(default)]
    pub abandoned: u64,
    /// Open loop: the achieved rate was under 95% of `rate`, or the backlog grew over
    /// the window. Its latencies describe an overloaded server, not the rate asked for.
    #[serde(default)]
    pub rate_not_met: bool,
    /// Operations per second in each second of the window (run-to-run noise).
    pub throughput_per_second: Vec<f64>,
    /// p50 in each second of the window, in µs.
    pub p50_per_second_us: Vec<u64>,
    /// p99 in each second of the window, in µs.
    pub p99_per_second_us: Vec<u64>,
    /// contended_hold only: seats found in two live bookings (must be 0).
    pub double_bookings: Option<u64>,
    /// The first failure, if any.
    pub first_error: Option<String>,
    /// The latency histogram (HdrHistogram V2 + deflate, base64), for merging.
    pub histogram: String,
    /// Open loop: the uncorrected latency's histogram (as `histogram`), so a merge can
    /// add it up too; absent for closed loop and in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_histogram: Option<String>,
    /// The run's HdrHistogram interval log (one interval per second of the window,
    /// latency in µs), relative to the folder of `results.json`: `hlog/NNN-....hlog`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlog: Option<String>,
    /// When the measured window began, in seconds since the Unix epoch (the load
    /// machine's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start_unix_s: Option<f64>,
    /// Merged runs only: how many runs (load machines) were added up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_runs: Option<usize>,
    /// Merged runs only: seconds during which every load machine was measuring at once
    /// (by their clocks); throughput is the summed ops over `duration_s`, so it is the
    /// combined load's only when this is close to `duration_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_overlap_s: Option<f64>,
    /// The `watch` scenario's own figures; absent for every other scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchFigures>,
    /// The CPUs the server child ran on (a list such as `1-2`; its worker threads are
    /// as many); absent when not pinned or for a `--target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpus: Option<String>,
    /// The store the server(s) ran on (`memory`, `postgres`); absent: memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Server processes the run's clients were spread over (round robin); its server
    /// CPU, RSS and socket bytes are summed over them. Absent: one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<usize>,
    /// With `--store postgres`: how the servers answered search (`database`: its
    /// full-text search; `index`: each replica's engine index fed by the change feed);
    /// absent: database, or the memory store's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Events in the catalogue the run was made on, when `--events` swept several
    /// sizes; absent: `meta.dataset_events`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u32>,
    /// `--security-rounds` above 1: this run's operations per second in each round, in
    /// round order (null for a round where it measured nothing); the run itself is the
    /// median round's (the lower middle one for an even count), every other round's run
    /// left out. Absent: one round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub round_throughput_ops_s: Vec<Option<f64>>,
}

/// What a `watch` run adds to a [`Run`]. There, `mode` is `push`, `concurrency` the
/// subscribers, `ops` the changes delivered (summed over subscribers), `latency_us`
/// commit to arrival, and the per-op figures are per delivered message (the server's
/// include serving the writer's own calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchFigures {
    /// Changes per second the writer was asked for.
    pub rate: f64,
    /// Changes the writer committed.
    pub changes: u64,
    /// Changes per second the writer achieved.
    pub write_rate_achieved: f64,
    /// Resyncs the subscribers were sent (each resumed after it).
    pub resyncs: u64,
    /// Changes some subscriber never received (must be 0).
    pub missing: u64,
    /// Version gaps any subscriber saw (must be 0).
    pub gaps: u64,
    /// The deliberately slow subscriber, in the run that had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_subscriber: Option<SlowSubscriber>,
}

/// One subscriber that took `pause_ms` over every message, to show the slow-consumer
/// policy; its figures are kept out of the run's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowSubscriber {
    /// Time it spent per message, in ms.
    pub pause_ms: f64,
    /// Changes it received.
    pub delivered: u64,
    /// Resyncs it was sent.
    pub resyncs: u64,
    /// Changes it was still behind when every other subscriber had them all (it is then
    /// stopped where it stands: the transport's buffers, not the store's, decide how far
    /// behind a slow reader may drift before it is resynced).
    pub behind_at_end: u64,
    /// Version gaps it saw outside a resync (must be 0).
    pub gaps: u64,
    /// Its commit-to-arrival latency.
    pub latency_us: Latency,
}

/// What tells one run from another of the same suite, and the runs of two suites a
/// comparison may set side by side: the protocol, scenario and load, the link and
/// compression, the catalogue size, the search mode and the security condition. Fields
/// a file does not record read as what their absence means (loopback, none, plain).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunKey {
    /// The protocol.
    pub protocol: String,
    /// The scenario.
    pub scenario: String,
    /// `closed`, `open` or `push`.
    pub mode: String,
    /// Clients, connections or subscribers.
    pub concurrency: usize,
    /// The open loop's rate, rounded.
    pub rate: Option<u64>,
    /// [`Run::link_name`].
    pub link: String,
    /// [`Run::compression_name`].
    pub compression: String,
    /// Events in the catalogue: `runs[].events`, else (with [`Run::key_in`]) the file's
    /// `meta.dataset_events`; `None` when neither was consulted.
    pub events: Option<u32>,
    /// [`Run::search_name`].
    pub search: String,
    /// [`Run::security_name`].
    pub security: String,
}

impl Run {
    /// The key runs of one file are told apart by (see [`RunKey`]); the catalogue size is
    /// the run's own `events` only (absent unless `--events` swept several sizes), so to
    /// match runs of two files use [`Run::key_in`].
    pub fn key(&self) -> RunKey {
        RunKey {
            protocol: self.protocol.clone(),
            scenario: self.scenario.clone(),
            mode: self.mode.clone(),
            concurrency: self.concurrency,
            rate: self.rate.map(|r| r.round() as u64),
            link: self.link_name().to_owned(),
            compression: self.compression_name().to_owned(),
            events: self.events,
            search: self.search_name().to_owned(),
            security: self.security_name().to_owned(),
        }
    }

    /// The key a comparison matches runs of two files on: [`Run::key`] with the
    /// catalogue size filled in from `meta` when the run does not name its own, so runs
    /// on catalogues of different sizes are never paired.
    pub fn key_in(&self, meta: &Meta) -> RunKey {
        let mut key = self.key();
        key.events = Some(self.events.unwrap_or(meta.dataset_events));
        key
    }

    /// The search mode it ran with: `runs[].search`, else `database` over PostgreSQL
    /// (the only mode before `--search`), else empty (the memory store's own index).
    pub fn search_name(&self) -> &str {
        match (&self.search, self.store.as_deref()) {
            (Some(search), _) => search,
            (None, Some("postgres")) => "database",
            (None, _) => "",
        }
    }

    /// The security condition it ran under: `runs[].security` (a sweep's), else the one
    /// its `tls` and `auth` say (`plain` in files written before either existed).
    pub fn security_name(&self) -> &str {
        if let Some(security) = &self.security {
            return security;
        }
        crate::auth::Security {
            tls: self.tls == Some(true),
            auth: self.auth == Some(true),
        }
        .name()
    }

    /// The link it ran over: `loopback` when the file does not say.
    pub fn link_name(&self) -> &str {
        self.link.as_deref().unwrap_or("loopback")
    }

    /// The compression it asked for: `none` when the file does not say.
    pub fn compression_name(&self) -> &str {
        self.compression.as_deref().unwrap_or("none")
    }
}

/// Reads a results file of any version from [`OLDEST_READABLE_VERSION`] to
/// [`SCHEMA_VERSION`] (older names are read into today's fields).
///
/// # Errors
/// If it cannot be read or is not a results file of a version this build reads.
pub fn read(path: &std::path::Path) -> Result<Results, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a results file, as [`read`] does.
///
/// # Errors
/// If it is not a results file of a version this build reads.
pub fn parse(text: &str) -> Result<Results, String> {
    let results: Results =
        serde_json::from_str(text).map_err(|e| format!("not a results file: {e}"))?;
    if !(OLDEST_READABLE_VERSION..=SCHEMA_VERSION).contains(&results.schema_version) {
        return Err(format!(
            "schema_version {}, this build reads {OLDEST_READABLE_VERSION} to {SCHEMA_VERSION}",
            results.schema_version
        ));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Part of a run written with schema version 1 (from docs/sample-run).
    const VERSION_1: &str = include_str!("../tests/data/results-v1.json");

    #[test]
    fn a_version_1_file_reads_into_the_socket_fields() {
        let old: serde_json::Value = serde_json::from_str(VERSION_1).unwrap_or_default();
        assert_eq!(old["schema_version"], 1);
        let results = parse(VERSION_1).unwrap_or_else(|e| panic!("{e}"));
        assert!(!results.runs.is_empty());
        for (run, raw) in results
            .runs
            .iter()
            .zip(old["runs"].as_array().into_iter().flatten())
        {
            let bytes = &raw["bytes_per_op"];
            assert_eq!(
                Some(run.bytes_per_op.socket_sent),
                bytes["wire_sent"].as_f64()
            );
            assert_eq!(
                Some(run.bytes_per_op.socket_received),
                bytes["wire_received"].as_f64()
            );
        }
        assert!(
            results
                .runs
                .iter()
                .any(|r| r.bytes_per_op.socket_sent > 0.0)
        );
    }

    #[test]
    fn a_current_file_round_trips_with_the_new_names() {
        let mut results = parse(VERSION_1).unwrap_or_else(|e| panic!("{e}"));
        results.schema_version = SCHEMA_VERSION;
        let text = serde_json::to_string(&results).unwrap_or_default();
        assert!(text.contains("\"socket_sent\"") && !text.contains("\"wire_sent\""));
        let again = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.runs.len(), results.runs.len());
        assert_eq!(again.runs[0].bytes_per_op, results.runs[0].bytes_per_op);
    }

    #[test]
    fn the_key_tells_conditions_sizes_and_search_modes_apart() {
        let run = Run::default();
        let meta = Meta {
            dataset_events: 10_000,
            ..Meta::default()
        };
        assert_eq!(run.key().security, "plain");
        let secured = Run {
            tls: Some(true),
            auth: Some(true),
            ..Run::default()
        };
        assert_eq!(secured.key().security, "tls+auth");
        assert_ne!(run.key(), secured.key());
        let swept = Run {
            security: Some("plain".into()),
            ..Run::default()
        };
        assert_eq!(run.key(), swept.key());
        let bigger = Run {
            events: Some(1_000_000),
            ..Run::default()
        };
        assert_ne!(run.key_in(&meta), bigger.key_in(&meta));
        assert_eq!(run.key_in(&meta).events, Some(10_000));
        let pg = Run {
            store: Some("postgres".into()),
            ..Run::default()
        };
        assert_eq!(pg.search_name(), "database");
        assert_ne!(pg.key(), run.key());
    }

    #[test]
    fn unknown_versions_are_refused() {
        let mut results = parse(VERSION_1).unwrap_or_else(|e| panic!("{e}"));
        results.schema_version = SCHEMA_VERSION + 1;
        let text = serde_json::to_string(&results).unwrap_or_default();
        assert!(parse(&text).is_err());
    }
}

//! What every report is made of: the runs indexed by scenario, protocol and shape; which
//! protocols are contenders and which are floors (and whose floor is whose); the five
//! verdict metrics; and the verdict grid's cells (a value, its multiple of the row's
//! best, and of the nearest floor beneath the protocol where one ran the same scenario
//! and shape: GraphQL's engine floor, else its own framework's, else TCP).

use std::collections::{BTreeMap, BTreeSet};

use crate::results::{Failure, Results, Run};
use crate::scenario::Scenario;

use super::format;

/// The API styles compared, in report order (others follow by name).
pub const CONTENDERS: [&str; 4] = ["rest", "graphql", "grpc", "wire"];
/// The floors, in report order.
pub const FLOORS: [&str; 5] = [
    "tcp-floor",
    "http1-floor",
    "h2-floor",
    "graphql-floor",
    "pgbench-floor",
];

/// Whether a protocol is a baseline rather than an API style.
pub fn is_floor(protocol: &str) -> bool {
    protocol.ends_with("-floor")
}

/// How a protocol is named in prose, legends and grid headers.
pub fn display(protocol: &str) -> String {
    match protocol {
        "rest" => "REST".to_owned(),
        "graphql" => "GraphQL".to_owned(),
        "grpc" => "gRPC".to_owned(),
        "wire" => "wire".to_owned(),
        "tcp-floor" => "TCP floor".to_owned(),
        "http1-floor" => "HTTP/1 floor".to_owned(),
        "h2-floor" => "HTTP/2 floor".to_owned(),
        "graphql-floor" => "GraphQL engine floor".to_owned(),
        "pgbench-floor" => "pgbench floor (the database alone)".to_owned(),
        other => other.to_owned(),
    }
}

/// A floor's name beside a multiple (`1.3x HTTP/1`): what it is the floor of.
pub fn floor_short(floor: &str) -> &str {
    match floor {
        "tcp-floor" => "TCP",
        "http1-floor" => "HTTP/1",
        "h2-floor" => "HTTP/2",
        "graphql-floor" => "GraphQL engine",
        "pgbench-floor" => "pgbench",
        other => other,
    }
}

/// A protocol's own floor: the same transport with no work (REST and GraphQL: HTTP/1.1;
/// gRPC: HTTP/2; wire: raw TCP).
pub fn own_floor(protocol: &str) -> Option<&'static str> {
    match protocol {
        "rest" | "graphql" => Some("http1-floor"),
        "grpc" => Some("h2-floor"),
        "wire" => Some("tcp-floor"),
        _ => None,
    }
}

/// The floor of the engine a protocol runs above its framework, where one is measured:
/// GraphQL's server answering `{ __typename }` (what async-graphql itself costs).
pub fn engine_floor(protocol: &str) -> Option<&'static str> {
    match protocol {
        "graphql" => Some("graphql-floor"),
        _ => None,
    }
}

/// Sort key: contenders in [`CONTENDERS`] order, then unknown ones, then floors.
pub fn protocol_order(protocol: &str) -> (usize, usize, String) {
    if let Some(i) = CONTENDERS.iter().position(|p| *p == protocol) {
        (0, i, String::new())
    } else if let Some(i) = FLOORS.iter().position(|p| *p == protocol) {
        (2, i, String::new())
    } else if is_floor(protocol) {
        (2, usize::MAX, protocol.to_owned())
    } else {
        (1, 0, protocol.to_owned())
    }
}

/// Sort key of a scenario: [`Scenario::ALL`] order, then unknown ones by name.
pub fn scenario_order(scenario: &str) -> (usize, String) {
    (
        Scenario::ALL
            .iter()
            .position(|s| s.name() == scenario)
            .unwrap_or(usize::MAX),
        scenario.to_owned(),
    )
}

/// How a run was loaded: closed loop with N clients, or open loop at a rate over N
/// connections. Orders closed shapes by clients, then open ones by rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shape {
    /// N clients, each sending when answered.
    Closed(usize),
    /// Requests due at a fixed rate (per second, rounded) over connections.
    Open {
        /// Requests per second.
        rate: u64,
        /// Connections.
        connections: usize,
    },
}

impl Shape {
    /// The shape of a run.
    pub fn of(run: &Run) -> Shape {
        match run.rate {
            Some(rate) => Shape::Open {
                rate: rate.round() as u64,
                connections: run.concurrency,
            },
            None => Shape::Closed(run.concurrency),
        }
    }

    /// `c=32` or `open 300/s`: the label of the detail tables and the terminal.
    pub fn short(self) -> String {
        match self {
            Shape::Closed(c) => format!("c={c}"),
            Shape::Open { rate, .. } => format!("open {rate}/s"),
        }
    }

    /// `1 client`, `32 clients`, `open 300/s`: the label in prose and grids.
    pub fn words(self) -> String {
        match self {
            Shape::Closed(1) => "1 client".to_owned(),
            Shape::Closed(c) => format!("{c} clients"),
            Shape::Open { rate, .. } => format!("open {rate}/s"),
        }
    }

    /// Whether it is open loop.
    pub fn is_open(self) -> bool {
        matches!(self, Shape::Open { .. })
    }
}

/// The runs of a results file, indexed.
pub struct View<'a> {
    /// The file.
    pub results: &'a Results,
    /// Scenarios present, in report order.
    pub scenarios: Vec<String>,
    /// API styles present (runs or failures), in report order.
    pub contenders: Vec<String>,
    /// Floors present, in report order.
    pub floors: Vec<String>,
    /// Shapes present, in order.
    pub shapes: Vec<Shape>,
    index: BTreeMap<(String, String, Shape), &'a Run>,
}

impl<'a> View<'a> {
    /// Indexes `results`.
    pub fn new(results: &'a Results) -> Self {
        let mut scenarios = BTreeSet::new();
        let mut protocols = BTreeSet::new();
        let mut shapes = BTreeSet::new();
        let mut index = BTreeMap::new();
        for run in &results.runs {
            let shape = Shape::of(run);
            scenarios.insert(scenario_order(&run.scenario));
            protocols.insert(protocol_order(&run.protocol));
            shapes.insert(shape);
            index
                .entry((run.scenario.clone(), run.protocol.clone(), shape))
                .or_insert(run);
        }
        let mut names: BTreeMap<(usize, usize, String), String> = results
            .runs
            .iter()
            .map(|r| (protocol_order(&r.protocol), r.protocol.clone()))
            .collect();
        for failure in &results.failures {
            names.insert(protocol_order(&failure.protocol), failure.protocol.clone());
            protocols.insert(protocol_order(&failure.protocol));
        }
        let (floors, contenders): (Vec<String>, Vec<String>) =
            names.into_values().partition(|p| is_floor(p));
        View {
            results,
            scenarios: scenarios.into_iter().map(|(_, s)| s).collect(),
            contenders,
            floors,
            shapes: shapes.into_iter().collect(),
            index,
        }
    }

    /// The run of a protocol on a scenario at a shape.
    pub fn run(&self, scenario: &str, protocol: &str, shape: Shape) -> Option<&'a Run> {
        self.index
            .get(&(scenario.to_owned(), protocol.to_owned(), shape))
            .copied()
    }

    /// The shapes a scenario ran at, in order.
    pub fn shapes_of(&self, scenario: &str) -> Vec<Shape> {
        self.shapes
            .iter()
            .copied()
            .filter(|shape| {
                self.index
                    .keys()
                    .any(|(s, _, sh)| s == scenario && sh == shape)
            })
            .collect()
    }

    /// Every run of a scenario at a shape, contenders first then floors, in order.
    pub fn runs_at(&self, scenario: &str, shape: Shape) -> Vec<&'a Run> {
        let mut runs: Vec<&Run> = self
            .index
            .iter()
            .filter(|((s, _, sh), _)| s == scenario && *sh == shape)
            .map(|(_, r)| *r)
            .collect();
        runs.sort_by_key(|r| protocol_order(&r.protocol));
        runs
    }

    /// The shape whose figures stand for a scenario where only one is shown (bytes per
    /// op): the busiest closed loop, else the first shape.
    pub fn headline_shape(&self, scenario: &str) -> Option<Shape> {
        let shapes = self.shapes_of(scenario);
        shapes
            .iter()
            .rev()
            .find(|s| !s.is_open())
            .or_else(|| shapes.first())
            .copied()
    }

    /// The closed-loop client counts present, ascending.
    pub fn closed_levels(&self) -> Vec<usize> {
        self.shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Closed(c) => Some(*c),
                Shape::Open { .. } => None,
            })
            .collect()
    }

    /// The floor a protocol's figures are measured against on a scenario at a shape:
    /// the nearest beneath it that ran there: the database alone (pgbench, in a
    /// `--store postgres` run), else its engine's floor, else its own (framework) floor,
    /// else the TCP floor.
    pub fn floor_for(&self, protocol: &str, scenario: &str, shape: Shape) -> Option<&'a Run> {
        if is_floor(protocol) {
            return None;
        }
        [
            Some("pgbench-floor"),
            engine_floor(protocol),
            own_floor(protocol),
            Some("tcp-floor"),
        ]
        .into_iter()
        .flatten()
        .find_map(|f| self.run(scenario, f, shape))
    }

    /// The failure recorded for a protocol on a scenario at a shape (or for the whole
    /// protocol), if it measured nothing.
    pub fn failure(&self, protocol: &str, scenario: &str, shape: Shape) -> Option<&'a Failure> {
        self.results.failures.iter().find(|f| {
            f.protocol == protocol
                && (f.scenario.is_none()
                    || (f.scenario.as_deref() == Some(scenario)
                        && f.shape.as_deref().is_none_or(|s| s == shape.short())))
        })
    }
}

/// The figures of the verdict grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Operations per second.
    Throughput,
    /// Median latency.
    P50,
    /// 99th percentile latency.
    P99,
    /// Socket bytes per op, both directions.
    Bytes,
    /// Server CPU time per op.
    ServerCpu,
}

impl Metric {
    /// In grid order.
    pub const ALL: [Metric; 5] = [
        Metric::Throughput,
        Metric::P50,
        Metric::P99,
        Metric::Bytes,
        Metric::ServerCpu,
    ];

    /// The grid's heading.
    pub fn title(self) -> &'static str {
        match self {
            Metric::Throughput => "Throughput (ops/s, higher is better)",
            Metric::P50 => "Median latency p50 (lower is better)",
            Metric::P99 => "Tail latency p99 (lower is better)",
            Metric::Bytes => "Bytes on the socket per op, both directions (lower is better)",
            Metric::ServerCpu => "Server CPU per op (lower is better)",
        }
    }

    /// A short name for prose and anchors.
    pub fn short(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::Bytes => "bytes",
            Metric::ServerCpu => "server CPU",
        }
    }

    /// The figure of a run, if it was measured (0 socket bytes or CPU: not measured).
    pub fn value(self, run: &Run) -> Option<f64> {
        match self {
            Metric::Throughput => Some(run.throughput_ops_s),
            Metric::P50 => Some(run.latency_us.p50 as f64).filter(|v| *v > 0.0),
            Metric::P99 => Some(run.latency_us.p99 as f64).filter(|v| *v > 0.0),
            Metric::Bytes => Some(run.bytes_per_op.socket_sent + run.bytes_per_op.socket_received)
                .filter(|v| *v > 0.0),
            Metric::ServerCpu => run.server_cpu_us_per_op.filter(|v| *v > 0.0),
        }
    }

    /// Whether more is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Throughput)
    }

    /// Whether it is shown per shape (bytes hardly depend on the load: one row per
    /// scenario).
    pub fn per_shape(self) -> bool {
        !matches!(self, Metric::Bytes)
    }

    /// A figure written with its unit.
    pub fn format(self, v: f64) -> String {
        match self {
            Metric::Throughput => format::rate(v),
            Metric::P50 | Metric::P99 | Metric::ServerCpu => format::micros(v),
            Metric::Bytes => format::bytes(v),
        }
    }

    /// How many times worse than the best (1 = the best), whichever way is better.
    pub fn badness(self, value: f64, best: f64) -> Option<f64> {
        let ratio = if self.higher_is_better() {
            best / value
        } else {
            value / best
        };
        Some(ratio).filter(|r| r.is_finite() && *r > 0.0)
    }
}

/// One cell of the verdict grid.
#[derive(Debug, Clone)]
pub struct Cell<'a> {
    /// The protocol (column).
    pub protocol: String,
    /// Its run, if it ran.
    pub run: Option<&'a Run>,
    /// The figure, if measured.
    pub value: Option<f64>,
    /// value / the row's best.
    pub of_best: Option<f64>,
    /// How many times worse than the best (colours the cell).
    pub badness: Option<f64>,
    /// The floor compared with, and value / the floor's figure.
    pub floor: Option<(&'a Run, f64)>,
    /// Why it measured nothing, if it did.
    pub failure: Option<&'a Failure>,
}

/// One row of the verdict grid: a scenario, at one shape (or at its headline shape for
/// metrics that are not per shape).
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// The scenario.
    pub scenario: String,
    /// The shape.
    pub shape: Shape,
    /// One per contender, in [`View::contenders`] order.
    pub cells: Vec<Cell<'a>>,
    /// The best figure of the row, if any was measured.
    pub best: Option<f64>,
}

/// The verdict grid of one metric: a row per scenario (and shape), a cell per contender.
pub fn grid<'a>(view: &View<'a>, metric: Metric) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    for scenario in &view.scenarios {
        let shapes = if metric.per_shape() {
            view.shapes_of(scenario)
        } else {
            view.headline_shape(scenario).into_iter().collect()
        };
        for shape in shapes {
            rows.push(row(view, metric, scenario, shape));
        }
    }
    rows
}

/// One row of [`grid`].
pub fn row<'a>(view: &View<'a>, metric: Metric, scenario: &str, shape: Shape) -> Row<'a> {
    let values: Vec<(String, Option<&Run>, Option<f64>)> = view
        .contenders
        .iter()
        .map(|p| {
            let run = view.run(scenario, p, shape);
            (p.clone(), run, run.and_then(|r| metric.value(r)))
        })
        .collect();
    let present = values.iter().filter_map(|(_, _, v)| *v);
    let best = if metric.higher_is_better() {
        present.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))
    } else {
        present.fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.min(v))))
    };
    let cells = values
        .into_iter()
        .map(|(protocol, run, value)| {
            let floor = view
                .floor_for(&protocol, scenario, shape)
                .and_then(|f| Some((f, value? / metric.value(f)?)))
                .filter(|(_, m)| m.is_finite());
            Cell {
                failure: if run.is_none() {
                    view.failure(&protocol, scenario, shape)
                } else {
                    None
                },
                of_best: value
                    .zip(best)
                    .map(|(v, b)| v / b)
                    .filter(|m| m.is_finite()),
                badness: value.zip(best).and_then(|(v, b)| metric.badness(v, b)),
                protocol,
                run,
                value,
                floor,
            }
        })
        .collect();
    Row {
        scenario: scenario.to_owned(),
        shape,
        cells,
        best,
    }
}

/// The colour band of a cell: 0 best (within 5%), 1 within 1.5x, 2 within 3x, 3 within
/// 10x, 4 beyond.
pub fn band(badness: f64) -> usize {
    match badness {
        b if b <= 1.05 => 0,
        b if b <= 1.5 => 1,
        b if b <= 3.0 => 2,
        b if b <= 10.0 => 3,
        _ => 4,
    }
}

/// What a reader must know before trusting a run, in short words.
pub fn caveats(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    if run.errors > 0 {
        out.push(format!("{} errors", run.errors));
    }
    if run.client_bound {
        out.push("client-bound".to_owned());
    }
    if run.rate_not_met {
        out.push("rate not met".to_owned());
    }
    if run.abandoned > 0 {
        out.push(format!("{} abandoned", run.abandoned));
    }
    out
}

/// The conditions of a run that are not measurements: where the data lived, the link,
/// TLS, compression. Read from `meta` by name when a results file has them; the
/// defaults of every run so far when it does not.
pub fn conditions(results: &Results) -> Vec<String> {
    let meta = serde_json::to_value(&results.meta).unwrap_or_default();
    let text = |key: &str| -> Option<String> {
        match meta.get(key)? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Bool(b) => Some(if *b { "on" } else { "off" }.to_owned()),
            other => Some(other.to_string()),
        }
    };
    let mut out = vec![
        text("store").map_or_else(|| "memory store".to_owned(), |s| format!("{s} store")),
        text("link").map_or_else(|| "loopback".to_owned(), |l| format!("link: {l}")),
        security(results),
        text("compression").map_or_else(
            || "no compression".to_owned(),
            |c| format!("compression: {c}"),
        ),
    ];
    for (key, label) in [
        ("connections", "connections"),
        ("search", "search"),
        ("client_cpus", "client CPUs"),
        ("server_cpus", "server CPUs"),
    ] {
        if let Some(v) = text(key) {
            out.push(format!("{label}: {v}"));
        }
    }
    // A cache-hot run is not comparable with the default mix: say so.
    if let Some(hot) = results.meta.hot_events {
        out.push(if hot == 1 {
            "every request for event 1 (--hot-events 1)".to_owned()
        } else {
            format!("events drawn from the first {hot} (--hot-events)")
        });
    }
    // A reader of a sharded or merged report must know it is not one machine's load.
    if let Some(shard) = results.meta.shard.filter(|s| !s.is_whole()) {
        out.push(format!("load shard {} of {}", shard.index(), shard.count()));
    }
    if !results.meta.merged_from.is_empty() {
        out.push(format!(
            "merged from {} load machines",
            results.meta.merged_from.len()
        ));
    }
    out
}

/// The security condition, always stated, so a TLS or authenticated run never reads as
/// a plain one: "TLS + auth ...", "TLS, no auth", "auth ..., no TLS" or "no TLS, no
/// auth". From `meta` (`tls`, `auth`), else from the runs (files that marked only each
/// run).
pub fn security(results: &Results) -> String {
    let tls = results.meta.tls.unwrap_or(false) || results.runs.iter().any(|r| r.tls == Some(true));
    let auth =
        results.meta.auth.unwrap_or(false) || results.runs.iter().any(|r| r.auth == Some(true));
    match (tls, auth) {
        (true, true) => "TLS + auth (bearer token per request)".to_owned(),
        (true, false) => "TLS, no auth".to_owned(),
        (false, true) => "auth (bearer token per request), no TLS".to_owned(),
        (false, false) => "no TLS, no auth".to_owned(),
    }
}

/// The load the runs were made under, in words: "closed loop at 1 and 32 clients; open
/// loop at 300/s over 32 connections".
pub fn load_words(view: &View<'_>) -> String {
    let closed = view.closed_levels();
    let mut parts = Vec::new();
    if !closed.is_empty() {
        let list: Vec<String> = closed.iter().map(ToString::to_string).collect();
        parts.push(format!(
            "closed loop at {} client{}",
            join_and(&list),
            if closed == [1] { "" } else { "s" }
        ));
    }
    let open: Vec<String> = view
        .shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Open { rate, connections } => {
                Some(format!("{rate}/s over {connections} connections"))
            }
            Shape::Closed(_) => None,
        })
        .collect();
    if !open.is_empty() {
        parts.push(format!("open loop at {}", join_and(&open)));
    }
    parts.join("; ")
}

/// "a", "a and b", "a, b and c".
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

//! Lean load clients for REST and GraphQL: what the harness drives the read scenarios
//! through, so that a column measures the server and not reqwest, URL parsing and
//! `serde_json::Value` trees on the client's core. Each worker owns one persistent
//! HTTP/1.1 connection ([`http1`]) and writes requests from pre-built pieces (the head of
//! every request is built once per run; only the id's digits change), and reads answers
//! into reused buffers. Every answer is still checked ([`check`]): status 200, the id,
//! every required field, the scenario's own check, and for GraphQL no `errors`; a failed
//! check is an error. Payload bytes are counted as the metered `Ticketing` clients count
//! them: request and response bodies of each completed exchange, as they crossed the
//! connection (the GraphQL request bodies are byte for byte the ones `graphql::Client`
//! sends). With `--compression`, every request asks for that encoding
//! (`Accept-Encoding`), a compressed answer counts at its compressed size and is decoded
//! ([`crate::compression`]) before it is checked; an answer in an encoding not asked for
//! fails.
//!
//! The GraphQL engine floor (`graphql-floor`) is a lean GraphQL worker that sends
//! [`TYPENAME_BODY`] whatever the scenario and checks the answer names `Query`.
//!
//! gRPC's reads go through [`grpc`], unary calls on the `h2` crate with the same checks
//! on the decoded protobuf ([`grpc_check`]).
//!
//! The `watch` scenario's gRPC and wire subscribers are [`watch`]'s: they decode only
//! each message's kind, version and commit time, and the order is still checked.
//!
//! The protocol crates' clients stay what a user copies; this is the harness's own.
//! Writes (hold_cancel, contended_hold) keep going through those clients.

pub mod check;
pub mod grpc;
pub mod grpc_check;
pub mod h2conn;
pub mod h2frames;
pub mod hpack;
pub mod http1;
pub mod jsonscan;
pub mod pbscan;
pub mod stream;
pub mod watch;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use domain::{Category, EventId};
use rand_chacha::ChaCha8Rng;

use graphql::client::documents as docs;

use self::check::Dialect;
use self::http1::Http1Conn;
use crate::compression::{self, Compression};
use crate::load::Step;
use crate::metering::PayloadMeter;
use crate::scenario::{Outcome, Plan, Scenario};

/// The scenarios the lean clients run (the reads).
pub const SCENARIOS: [Scenario; 5] = [
    Scenario::GetEvent,
    Scenario::ListEvents,
    Scenario::SearchEvents,
    Scenario::EventDetail,
    Scenario::SeatMap,
];

/// Whether the lean clients run `scenario`.
pub fn runs(scenario: Scenario) -> bool {
    SCENARIOS.contains(&scenario)
}

/// A request split around the event id: `before`, the id's digits, `after`.
#[derive(Debug, Clone, Default)]
struct Around {
    before: Vec<u8>,
    after: Vec<u8>,
}

/// A GraphQL request split around the id: the head up to `Content-Length: `, then the
/// body's two halves.
#[derive(Debug, Clone, Default)]
struct GraphqlAround {
    head: Vec<u8>,
    body: Around,
}

/// Every request a run can send, built once: per-id requests in halves, and the whole
/// requests of each category (list_events) and each word (search_events).
#[derive(Debug)]
pub struct Requests {
    dialect: Dialect,
    /// The encoding every request asks answers in.
    compression: Compression,
    /// REST: GET heads around the id, for get_event, event_detail and seat_map.
    rest: [Around; 3],
    /// GraphQL: POSTs around the id, for the same three.
    graphql: [GraphqlAround; 3],
    /// Whole requests per `Category::ALL` entry, and their body sizes.
    by_category: Vec<(Vec<u8>, usize)>,
    /// Whole requests per word of the plan, and their body sizes.
    by_word: Vec<(Vec<u8>, usize)>,
    /// GraphQL: the engine floor's request ([`TYPENAME_BODY`]) and its body size.
    typename: (Vec<u8>, usize),
    /// TLS for the workers' connections (`--tls`), ALPN http/1.1.
    tls: Option<netkit::tls::Connector>,
}

/// The body of every `graphql-floor` request: `{ __typename }`, the least a query can
/// ask of the GraphQL engine (no resolver of ours runs; the answer is
/// `{"data":{"__typename":"Query"}}`).
pub const TYPENAME_BODY: &str = r#"{"query":"{ __typename }"}"#;

const SENTINEL: &str = "QUARTET_LEAN_ID_SENTINEL";

fn id_slot(scenario: Scenario) -> usize {
    match scenario {
        Scenario::EventDetail => 1,
        Scenario::SeatMap => 2,
        _ => 0,
    }
}

/// Percent-encodes a query value as a URL serializer does for these words (letters and
/// digits kept, everything else as `%XX` of its UTF-8 bytes).
fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'*') {
            out.push(byte as char);
        } else if byte == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The body `graphql::Client` sends for operation `name` with `variables`.
fn graphql_body(name: &str, document: &str, variables: &serde_json::Value) -> Vec<u8> {
    let body =
        serde_json::json!({"operationName": name, "variables": variables, "query": document});
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The body `graphql::Client` sends for GetEvent(`id`) (what `wrk` posts in
/// `scripts/vs-reference.sh`).
pub fn graphql_get_event_body(id: EventId) -> Vec<u8> {
    graphql_body(
        "GetEvent",
        &docs::get_event(),
        &serde_json::json!({"id": id.to_string()}),
    )
}

/// The `Accept-Encoding` header line asking for `compression` (none for identity).
fn accept_encoding(compression: Compression) -> String {
    match compression {
        Compression::None => String::new(),
        other => format!("Accept-Encoding: {other}\r\n"),
    }
}

fn graphql_head(host: &str, accept: &str) -> Vec<u8> {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json\r\n{accept}Content-Length: "
    )
    .into_bytes()
}

fn rest_get(host: &str, accept: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n{accept}\r\n")
        .into_bytes()
}

fn graphql_post(host: &str, accept: &str, body: &[u8]) -> Vec<u8> {
    let mut request = graphql_head(host, accept);
    request.extend_from_slice(format!("{}\r\n\r\n", body.len()).as_bytes());
    request.extend_from_slice(body);
    request
}

fn push_number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// How many decimal digits [`push_number`] writes for `n`.
fn digit_count(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The `Authorization` header line carrying `bearer` (none without one).
///
/// # Errors
/// A token that cannot be a header value (anything but visible ASCII).
fn authorization(bearer: Option<&str>) -> Result<String, String> {
    match bearer {
        None => Ok(String::new()),
        Some(token) if !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(format!("Authorization: Bearer {token}\r\n"))
        }
        Some(_) => Err("the bearer token must be visible ASCII".to_owned()),
    }
}

impl Requests {
    /// The requests of `dialect` for a server at `addr`, over `plan`'s words, asking for
    /// answers in `compression`.
    pub fn new(dialect: Dialect, addr: SocketAddr, plan: &Plan, compression: Compression) -> Self {
        Self::build(dialect, addr, plan, compression, "")
    }

    /// As [`Requests::new`], every request carrying `Authorization: Bearer <bearer>`
    /// when given (`--auth`): the line is part of each pre-built head, so sending it
    /// costs the client nothing per request beyond its bytes.
    ///
    /// # Errors
    /// A token that cannot be a header value.
    pub fn authorized(
        dialect: Dialect,
        addr: SocketAddr,
        plan: &Plan,
        compression: Compression,
        bearer: Option<&str>,
    ) -> Result<Self, String> {
        let authorization = authorization(bearer)?;
        Ok(Self::build(
            dialect,
            addr,
            plan,
            compression,
            &authorization,
        ))
    }

    /// The requests, `extra` (whole header lines) in every head after the encoding
    /// asked for.
    fn build(
        dialect: Dialect,
        addr: SocketAddr,
        plan: &Plan,
        compression: Compression,
        extra: &str,
    ) -> Self {
        let host = addr.to_string();
        // Every header line after Host and Accept: the encoding asked for, the token.
        let accept = format!("{}{extra}", accept_encoding(compression));
        let rest_paths = ["/v1/events/", "/v1/events/", "/v1/events/"];
        let rest_tails = ["", "/detail", "/seats"];
        let rest = std::array::from_fn(|i| {
            let full = rest_get(
                &host,
                &accept,
                &format!("{}{SENTINEL}{}", rest_paths[i], rest_tails[i]),
            );
            split(&full, 0)
        });
        let id_documents = [
            ("GetEvent", docs::get_event()),
            ("GetEventDetail", docs::get_event_detail()),
            ("GetSeatMap", docs::get_seat_map()),
        ];
        let graphql = std::array::from_fn(|i| {
            let (name, document) = &id_documents[i];
            let body = graphql_body(name, document, &serde_json::json!({"id": SENTINEL}));
            GraphqlAround {
                head: graphql_head(&host, &accept),
                body: split(&body, 0),
            }
        });
        let by_category = Category::ALL
            .iter()
            .map(|c| match dialect {
                Dialect::Rest => (
                    rest_get(
                        &host,
                        &accept,
                        &format!("/v1/events?limit=20&category={}", c.as_str()),
                    ),
                    0,
                ),
                Dialect::Graphql => {
                    let variables = serde_json::json!({
                        "first": 20,
                        "after": null,
                        "filter": {"category": c.as_str().to_uppercase(), "city": null, "from": null, "to": null},
                    });
                    let body = graphql_body("ListEvents", &docs::list_events(), &variables);
                    (graphql_post(&host, &accept, &body), body.len())
                }
            })
            .collect();
        let by_word = plan
            .words()
            .iter()
            .map(|w| match dialect {
                Dialect::Rest => (
                    rest_get(
                        &host,
                        &accept,
                        &format!("/v1/events/search?q={}&limit=20", query_value(w)),
                    ),
                    0,
                ),
                Dialect::Graphql => {
                    let variables = serde_json::json!({
                        "query": w,
                        "filter": {"category": null, "city": null, "from": null, "to": null},
                        "first": 20,
                    });
                    let body = graphql_body("SearchEvents", &docs::search_events(), &variables);
                    (graphql_post(&host, &accept, &body), body.len())
                }
            })
            .collect();
        Requests {
            dialect,
            compression,
            rest,
            graphql,
            by_category,
            by_word,
            typename: (
                graphql_post(&host, &accept, TYPENAME_BODY.as_bytes()),
                TYPENAME_BODY.len(),
            ),
            tls: None,
        }
    }

    /// The same requests, sent over TLS with `tls` (its ALPN http/1.1).
    #[must_use]
    pub fn with_tls(mut self, tls: Option<netkit::tls::Connector>) -> Self {
        self.tls = tls;
        self
    }

    /// Writes the request of `scenario` for `input` into `out`; returns its body size.
    fn write(&self, scenario: Scenario, input: Input, out: &mut Vec<u8>) -> usize {
        match input {
            Input::Event(id) => match self.dialect {
                Dialect::Rest => {
                    let around = &self.rest[id_slot(scenario)];
                    out.extend_from_slice(&around.before);
                    push_number(out, id.0);
                    out.extend_from_slice(&around.after);
                    0
                }
                Dialect::Graphql => {
                    // Head and body go into the one buffer the connection writes with a
                    // single send, as wrk sends its POST; the id's digits are counted,
                    // not rendered twice, so nothing is allocated per request.
                    let around = &self.graphql[id_slot(scenario)];
                    let length =
                        around.body.before.len() + digit_count(id.0) + around.body.after.len();
                    out.extend_from_slice(&around.head);
                    push_number(out, length as u64);
                    out.extend_from_slice(b"\r\n\r\n");
                    out.extend_from_slice(&around.body.before);
                    push_number(out, id.0);
                    out.extend_from_slice(&around.body.after);
                    length
                }
            },
            Input::Category(i) => whole(&self.by_category, i, out),
            Input::Word(i) => whole(&self.by_word, i, out),
        }
    }
}

/// Appends whole request `i` of `requests`; returns its body size.
fn whole(requests: &[(Vec<u8>, usize)], i: usize, out: &mut Vec<u8>) -> usize {
    requests.get(i).map_or(0, |(request, body)| {
        out.extend_from_slice(request);
        *body
    })
}

/// Splits `bytes` around the sentinel (searching from `from`); the sentinel's quotes
/// stay in the halves (GraphQL's `ID` is a string).
fn split(bytes: &[u8], from: usize) -> Around {
    let sentinel = SENTINEL.as_bytes();
    let at = bytes[from..]
        .windows(sentinel.len())
        .position(|w| w == sentinel)
        .map_or(bytes.len(), |p| p + from);
    Around {
        before: bytes[..at].to_vec(),
        after: bytes
            .get(at + sentinel.len()..)
            .unwrap_or_default()
            .to_vec(),
    }
}

/// One drawn input.
#[derive(Debug, Clone, Copy)]
enum Input {
    Event(EventId),
    Category(usize),
    Word(usize),
}

/// The next input of `scenario` from `rng` (always `fixed` when set, for a floor): the
/// draws the `Ticketing` workers make, so every client sends the same sequence.
fn draw(plan: &Plan, rng: &mut ChaCha8Rng, scenario: Scenario, fixed: Option<EventId>) -> Input {
    match scenario {
        Scenario::ListEvents => Input::Category(Plan::draw_category(rng)),
        Scenario::SearchEvents => Input::Word(plan.draw_word(rng)),
        _ => Input::Event(fixed.unwrap_or_else(|| plan.draw_event(rng))),
    }
}

/// One simulated client on its own connection: draws its inputs from the same seeded
/// stream as the `Ticketing` workers, sends pre-built requests, checks every answer.
pub struct LeanWorker {
    plan: Arc<Plan>,
    requests: Arc<Requests>,
    scenario: Scenario,
    rng: ChaCha8Rng,
    conn: Http1Conn,
    meter: Arc<PayloadMeter>,
    /// Always ask for this event (the floors serve one event's bytes).
    fixed: Option<EventId>,
    /// Send [`TYPENAME_BODY`] every time (the GraphQL engine floor).
    typename_only: bool,
    /// A compressed answer, decoded (reused).
    decoded: Vec<u8>,
}

impl LeanWorker {
    /// Worker `index` of `scenario` (one of [`SCENARIOS`]) on a new connection to `addr`.
    ///
    /// # Errors
    /// If it cannot connect.
    pub async fn connect(
        addr: SocketAddr,
        plan: Arc<Plan>,
        requests: Arc<Requests>,
        scenario: Scenario,
        index: usize,
        meter: Arc<PayloadMeter>,
    ) -> std::io::Result<Self> {
        let conn = Http1Conn::connect_tls(addr, requests.tls.clone()).await?;
        Ok(LeanWorker {
            rng: plan.input_stream(scenario, index),
            plan,
            requests,
            scenario,
            conn,
            meter,
            fixed: None,
            typename_only: false,
            decoded: Vec::new(),
        })
    }

    /// Asks for `id` every time instead of drawing (for a floor serving one event).
    #[must_use]
    pub fn fixed(mut self, id: EventId) -> Self {
        self.fixed = Some(id);
        self
    }

    /// Sends [`TYPENAME_BODY`] every time, whatever the scenario (for the GraphQL engine
    /// floor), and checks the answer is `Query`.
    #[must_use]
    pub fn typename_only(mut self) -> Self {
        self.typename_only = true;
        self
    }

    fn draw(&mut self) -> Input {
        draw(&self.plan, &mut self.rng, self.scenario, self.fixed)
    }

    /// Runs one operation and checks its answer.
    pub async fn run_once(&mut self) -> Outcome {
        let input = self.draw();
        let sent = if self.typename_only {
            whole(
                std::slice::from_ref(&self.requests.typename),
                0,
                self.conn.request(),
            )
        } else {
            self.requests
                .write(self.scenario, input, self.conn.request())
        };
        let status = match self.conn.round_trip().await {
            Ok(status) => status,
            Err(e) => return Outcome::Failed(format!("{}: {e}", self.scenario)),
        };
        let raw = self.conn.body();
        self.meter.add_sent(sent);
        self.meter.add_received(raw.len());
        let body = match self.conn.content_encoding() {
            Some(Compression::None) => raw,
            Some(used) if used == self.requests.compression => {
                if let Err(e) = compression::decode(used, raw, http1::MAX_BODY, &mut self.decoded) {
                    return Outcome::Failed(format!("{}: {e}", self.scenario));
                }
                &self.decoded
            }
            used => {
                return Outcome::Failed(format!(
                    "{}: answered in {} after asking for {}",
                    self.scenario,
                    used.map_or("an unknown encoding", Compression::name),
                    self.requests.compression
                ));
            }
        };
        if status != 200 {
            return Outcome::Failed(format!(
                "{}: HTTP {status}: {}",
                self.scenario,
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        if self.typename_only {
            return check::typename(body);
        }
        let dialect = self.requests.dialect;
        match input {
            Input::Event(id) => match self.scenario {
                Scenario::EventDetail => check::event_detail(dialect, body, id),
                Scenario::SeatMap => check::seat_map(dialect, body, &self.plan, id),
                _ => check::get_event(dialect, body, &self.plan, id),
            },
            Input::Category(i) => {
                let category = Category::ALL[i % Category::ALL.len()];
                check::list_events(dialect, body, category)
            }
            Input::Word(i) => {
                let word = self.plan.words().get(i).map_or("", String::as_str);
                check::search_events(dialect, body, word)
            }
        }
    }
}

#[async_trait::async_trait]
impl Step for LeanWorker {
    async fn step(&mut self) -> Outcome {
        self.run_once().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn digit_count_is_what_push_number_writes() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX / 10, u64::MAX] {
            let mut out = Vec::new();
            push_number(&mut out, n);
            assert_eq!(digit_count(n), out.len(), "{n}");
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    /// A GraphQL get_event request is one buffer (so one send): the head, a
    /// Content-Length equal to the body's bytes, and the body `graphql::Client` sends.
    #[test]
    fn a_graphql_request_is_head_and_body_in_one_buffer() {
        let plan = Plan::new(domain::Dataset::from_spec(domain::DatasetSpec {
            events: 50,
            seed: 7,
        }));
        let addr: SocketAddr = ([127, 0, 0, 1], 8080).into();
        let requests = Requests::new(Dialect::Graphql, addr, &plan, Compression::None);
        for id in [1, 9, 10, 42, 50] {
            let mut out = Vec::new();
            let sent = requests.write(Scenario::GetEvent, Input::Event(EventId(id)), &mut out);
            let text = String::from_utf8(out).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("POST /graphql HTTP/1.1\r\n"), "{head}");
            assert!(
                head.ends_with(&format!("Content-Length: {}", body.len())),
                "{head}"
            );
            assert_eq!(sent, body.len());
            assert_eq!(body.as_bytes(), graphql_get_event_body(EventId(id)));
        }
    }
}

//! Live availability over REST (`GET /v1/events/{id}/availability/stream`, Server-Sent
//! Events) against a real server on 127.0.0.1: the shared watch conformance checks
//! through `rest::Client` (with an in-process writer over the same store, so the lag
//! check can outrun the network subscriber), the subscription released on drop, and the
//! HTTP side read raw: `id:`/`event:` lines, `Last-Event-ID` resume and its precedence
//! over `from_version`, keep-alive comments, content type, errors before the stream as
//! documented problems, the OpenAPI description, and the client's handling of a
//! connection that breaks mid-stream. Every wait has a deadline; nothing sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::conformance::{Options, run_watch, subscription_is_released_when_dropped};
use domain::{
    Customer, ErrorCode, EventId, EventStatus, HoldRequest, Limits, SeatId, Service,
    SharedTicketing, Ticketing, UpdateKind,
};
use futures::StreamExt;
use netkit::running::RunningServer;
use rest::routes::availability::KeepAliveInterval;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long any one read may take before a test fails.
const DEADLINE: Duration = Duration::from_secs(10);

const PATH: &str = "/v1/events/{id}/availability/stream";

async fn serve(service: &Service, config: rest::Config) -> RunningServer {
    let api: SharedTicketing = Arc::new(service.clone());
    common::spawn_with(api, config).await
}

fn stream_url(server: &RunningServer, id: EventId) -> String {
    format!("{}/v1/events/{id}/availability/stream", common::url(server))
}

/// The first event of the dataset that is on sale (holds need one).
async fn on_sale(service: &Service) -> EventId {
    for id in (1..=100).map(EventId) {
        if service.get_event(id).await.unwrap().status == EventStatus::OnSale {
            return id;
        }
    }
    panic!("no event on sale among the first 100");
}

/// Holds and cancels `seat` once: two changes.
async fn hold_and_cancel(service: &Service, id: EventId, seat: u32) {
    let booking = service
        .hold_seats(HoldRequest {
            event_id: id,
            seat_ids: vec![SeatId(seat)],
            customer: Customer {
                name: "Ada Lovelace".into(),
                email: "ada@example.org".into(),
            },
            idempotency_key: None,
        })
        .await
        .unwrap();
    service.cancel_booking(booking.id).await.unwrap();
}

/// One parsed SSE block, as read off the wire: its field lines in order.
#[derive(Debug, Default, Clone, PartialEq)]
struct Block {
    lines: Vec<String>,
}

impl Block {
    fn field(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}: ");
        self.lines.iter().find_map(|l| l.strip_prefix(&prefix))
    }

    fn is_comment(&self) -> bool {
        !self.lines.is_empty() && self.lines.iter().all(|l| l.starts_with(':'))
    }
}

/// A raw SSE response read block by block, each within [`DEADLINE`].
struct RawStream {
    response: reqwest::Response,
    text: String,
}

impl RawStream {
    async fn open(url: &str, headers: &[(&str, &str)]) -> (reqwest::header::HeaderMap, Self) {
        let mut request = reqwest::Client::new().get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = tokio::time::timeout(DEADLINE, request.send())
            .await
            .expect("response head in time")
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        (
            headers,
            RawStream {
                response,
                text: String::new(),
            },
        )
    }

    /// The next block (an event or a comment), up to its blank line.
    async fn next_block(&mut self) -> Block {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                return Block {
                    lines: block
                        .lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                };
            }
            let chunk = tokio::time::timeout(DEADLINE, self.response.chunk())
                .await
                .expect("a block within the deadline")
                .unwrap()
                .expect("the stream is still open");
            self.text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next block that is not a keep-alive comment.
    async fn next_event(&mut self) -> Block {
        loop {
            let block = self.next_block().await;
            if !block.is_comment() {
                return block;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_watch_conforms() {
    let service = common::service();
    let server = serve(&service, rest::Config::default()).await;
    let client: Arc<dyn Ticketing> = Arc::new(rest::Client::new(&common::url(&server)).unwrap());
    let options = Options {
        writer: Some(Arc::new(service.clone())),
        ..Default::default()
    };
    run_watch(client, common::SPEC, options).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_is_released_when_the_client_drops_the_stream() {
    let service = common::service();
    let server = serve(&service, rest::Config::default()).await;
    let client = rest::Client::new(&common::url(&server)).unwrap();
    subscription_is_released_when_dropped(&client, service.store()).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_event_id_resumes_and_wins_over_from_version() {
    let service = common::service();
    let server = serve(&service, rest::Config::default()).await;
    let id = on_sale(&service).await;
    let url = stream_url(&server, id);

    // A fresh subscriber: a snapshot at the current version, its id: that version. (The
    // store retains an event's changes from its first subscriber on.)
    let (headers, mut fresh) = RawStream::open(&url, &[]).await;
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let snapshot = fresh.next_event().await;
    let start = service.get_seat_map(id).await.unwrap().version;
    assert_eq!(snapshot.field("event"), Some("snapshot"));
    assert_eq!(snapshot.field("id"), Some(start.to_string().as_str()));
    hold_and_cancel(&service, id, 1).await;

    // from_version alone: the change after it.
    let (_, mut by_query) = RawStream::open(&format!("{url}?from_version={start}"), &[]).await;
    let first = by_query.next_event().await;
    assert_eq!(
        (first.field("event"), first.field("id")),
        (Some("change"), Some((start + 1).to_string().as_str()))
    );

    // Last-Event-ID beside an older from_version (a reconnecting EventSource): the header
    // wins, so the stream continues after the header's version, with no duplicate.
    let header = (start + 1).to_string();
    let (_, mut by_header) = RawStream::open(
        &format!("{url}?from_version={start}"),
        &[("Last-Event-ID", &header)],
    )
    .await;
    let first = by_header.next_event().await;
    assert_eq!(
        (first.field("event"), first.field("id")),
        (Some("change"), Some((start + 2).to_string().as_str()))
    );
    let data: Value = serde_json::from_str(first.field("data").unwrap()).unwrap();
    assert_eq!(data["version"], start + 2);
    assert_eq!(data["kind"], "change");
    assert_eq!(data["seats"], json!([{"seat_id": 1, "state": "available"}]));

    // And a later change reaches every subscriber, once, in order.
    hold_and_cancel(&service, id, 2).await;
    for (name, stream) in [
        ("fresh", &mut fresh),
        ("by_query", &mut by_query),
        ("by_header", &mut by_header),
    ] {
        let mut seen = Vec::new();
        while seen.last() != Some(&(start + 4)) {
            let block = stream.next_event().await;
            seen.push(block.field("id").unwrap().parse::<u64>().unwrap());
        }
        assert!(
            seen.windows(2).all(|w| w[1] == w[0] + 1),
            "{name}: {seen:?}"
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_gets_keep_alive_comments() {
    let service = common::service();
    let config = rest::Config {
        sse_keep_alive: KeepAliveInterval(Duration::from_millis(50)),
        ..Default::default()
    };
    let server = serve(&service, config).await;
    let id = on_sale(&service).await;
    let now = service.get_seat_map(id).await.unwrap().version;
    // Up to date already: no snapshot, no change, only keep-alives.
    let (_, mut stream) = RawStream::open(
        &format!("{}?from_version={now}", stream_url(&server, id)),
        &[],
    )
    .await;
    for _ in 0..3 {
        let block = stream.next_block().await;
        assert!(block.is_comment(), "{block:?}");
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_is_sse_and_never_compressed() {
    let service = common::service();
    let server = serve(&service, rest::Config::default()).await;
    let (headers, mut stream) = RawStream::open(
        &stream_url(&server, EventId(1)),
        &[("accept-encoding", "gzip, zstd")],
    )
    .await;
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    // Compressing would hold events back in the encoder until a block fills.
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    assert_eq!(stream.next_event().await.field("event"), Some("snapshot"));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams_instead_of_waiting_out_the_grace() {
    let service = common::service();
    let mut config = rest::Config::default();
    // Far longer than the deadline below: only ending the streams lets the drain finish.
    config.server.shutdown_grace = Duration::from_secs(600);
    let server = serve(&service, config).await;
    let client = rest::Client::new(&common::url(&server)).unwrap();
    let mut stream = client.watch_availability(EventId(1), None).await.unwrap();
    let snapshot = next_item(&mut stream).await.unwrap().unwrap();
    assert_eq!(snapshot.kind, UpdateKind::Snapshot);
    tokio::time::timeout(DEADLINE, server.stop())
        .await
        .expect("the drain does not wait for open streams")
        .unwrap();
    // The client is told, and resumes from its last version elsewhere.
    let error = next_item(&mut stream).await.unwrap().unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unavailable, "{error}");
    assert!(next_item(&mut stream).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_stream_outlives_the_header_read_timeout() {
    // hyper's header-read timer must not count a streaming response as a slow request.
    let service = common::service();
    let mut config = rest::Config {
        sse_keep_alive: KeepAliveInterval(Duration::ZERO),
        ..Default::default()
    };
    // Short, but not so short that a loaded machine's scheduling delay between the
    // connect and the request's headers could trip it: the watch request must succeed.
    config.server.header_read_timeout = Duration::from_millis(300);
    let server = serve(&service, config).await;
    let id = on_sale(&service).await;
    let client = rest::Client::new(&common::url(&server)).unwrap();
    let mut stream = client.watch_availability(id, None).await.unwrap();
    let snapshot = next_item(&mut stream).await.unwrap().unwrap();
    // The condition under test is time passing with nothing sent (no keep-alives):
    // several header-read timeouts' worth.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    hold_and_cancel(&service, id, 4).await;
    let change = next_item(&mut stream).await.unwrap().unwrap();
    assert_eq!(
        (change.kind, change.version),
        (UpdateKind::Change, snapshot.version + 1)
    );
    drop(stream);
    server.stop().await.unwrap();
}

/// `GET url` with `headers`, answered before any stream: status and problem body.
async fn refused(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = tokio::time::timeout(DEADLINE, request.send())
        .await
        .unwrap()
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    common::assert_documented("GET", PATH, status, "application/problem+json", &body);
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_problem_before_the_stream() {
    let service = common::service();
    let server = serve(&service, rest::Config::default()).await;
    let id = on_sale(&service).await;
    let url = stream_url(&server, id);

    for bad in ["x", "-1", "+1", "1.5", "", "18446744073709551616"] {
        let (status, body) = refused(&format!("{url}?from_version={bad}"), &[]).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("from_version")),
            "{bad:?}"
        );
    }
    for bad in ["x", "-1", " ", "1 2", "18446744073709551616"] {
        let (status, body) = refused(&url, &[("Last-Event-ID", bad)]).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("last-event-id")),
            "{bad:?}"
        );
    }
    // A malformed from_version is refused even when Last-Event-ID would win.
    let (status, _) = refused(&format!("{url}?from_version=x"), &[("Last-Event-ID", "1")]).await;
    assert_eq!(status, 400);

    let ahead = service.get_seat_map(id).await.unwrap().version + 1;
    let (status, body) = refused(&format!("{url}?from_version={ahead}"), &[]).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("from_version"))
    );
    let (status, body) = refused(&url, &[("Last-Event-ID", &ahead.to_string())]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );

    let missing = EventId(common::SPEC.events as u64 + 1);
    let (status, body) = refused(&stream_url(&server, missing), &[]).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, body) = refused(
        &format!("{}/v1/events/abc/availability/stream", common::url(&server)),
        &[],
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("id")));

    // The client returns the same errors from the call itself, not as stream items.
    let client = rest::Client::new(&common::url(&server)).unwrap();
    let error = client
        .watch_availability(missing, None)
        .await
        .err()
        .unwrap();
    assert_eq!(error, domain::Error::not_found("event", missing.0));
    let error = client
        .watch_availability(id, Some(ahead))
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), ErrorCode::InvalidArgument);
    server.stop().await.unwrap();
}

/// A validator for the component schema `name` of the OpenAPI document.
fn component_validator(name: &str) -> jsonschema::Validator {
    let mut root = common::openapi();
    root["$ref"] = Value::String(format!("#/components/schemas/{name}"));
    jsonschema::draft202012::new(&root).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_stream() {
    let doc = common::openapi();
    let op = &doc["paths"][PATH]["get"];
    assert_eq!(op["operationId"], "watchAvailability");
    assert!(op["responses"]["200"]["content"]["text/event-stream"].is_object());
    for status in ["400", "404", "500", "503"] {
        assert_eq!(
            op["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{status}"
        );
    }
    let param = |name: &str| {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .clone()
    };
    let from = param("from_version");
    assert_eq!(
        (from["in"].as_str(), from["required"].as_bool()),
        (Some("query"), Some(false))
    );
    let last = param("Last-Event-ID");
    assert_eq!(last["in"], "header");
    for p in [&from, &last] {
        assert_eq!(p["schema"]["type"], "integer", "{p}");
        assert_eq!(p["schema"]["format"], "uint64", "{p}");
        assert_eq!(
            (&p["schema"]["minimum"], &p["schema"]["maximum"]),
            (&json!(0), &json!(u64::MAX)),
            "{p}"
        );
    }
    assert!(last["description"].as_str().unwrap().contains("wins over"));
    // The policy the description states is the one the store runs with.
    let description = op["description"].as_str().unwrap();
    for fact in [
        format!("more than {} messages behind", Limits::WATCH_BUFFER),
        format!("the last {} changes", Limits::WATCH_RETAINED),
        format!("every {} s", rest::config::SSE_KEEP_ALIVE.as_secs()),
    ] {
        assert!(
            description.contains(&fact),
            "the description lacks {fact:?}"
        );
    }

    // What the server sends is what the document's schema for `data:` says.
    let service = common::service();
    let server = serve(&service, rest::Config::default()).await;
    let id = on_sale(&service).await;
    let (_, mut stream) = RawStream::open(&stream_url(&server, id), &[]).await;
    hold_and_cancel(&service, id, 3).await;
    let validator = component_validator("AvailabilityUpdate");
    for expected in ["snapshot", "change", "change"] {
        let block = stream.next_event().await;
        assert_eq!(block.field("event"), Some(expected));
        let data: Value = serde_json::from_str(block.field("data").unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&data)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{data}");
        assert_eq!(data["version"].to_string(), block.field("id").unwrap());
    }
    server.stop().await.unwrap();
}

/// A one-shot fake server: answers the first request with `head` and `body`, then
/// closes the connection (mid-stream, when `body` is an unfinished chunked body).
async fn fake_server(head: &'static str, body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed before its request was complete");
            request.extend_from_slice(&buf[..n]);
        }
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(body.as_bytes()).await.unwrap();
        socket.flush().await.unwrap();
        // Dropping the socket here closes the connection.
    });
    format!("http://{addr}")
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

fn chunk(text: &str) -> String {
    format!("{:x}\r\n{text}\r\n", text.len())
}

fn snapshot_event(version: u64) -> String {
    format!(
        "id: {version}\nevent: snapshot\ndata: {{\"event_id\":1,\"kind\":\"snapshot\",\"version\":{version},\"sections\":[{{\"section_id\":0,\"available\":3}}],\"seats\":[],\"committed_at\":\"2027-05-01T18:00:00Z\"}}\n\n"
    )
}

async fn next_item(
    stream: &mut domain::AvailabilityStream,
) -> Option<domain::Result<domain::AvailabilityUpdate>> {
    tokio::time::timeout(DEADLINE, stream.next())
        .await
        .expect("an item or the end within the deadline")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_stream_is_one_unavailable_then_the_end() {
    // One message, then the connection drops inside the chunked body.
    let body = chunk(&(snapshot_event(7) + ": still here\n\n"));
    let client = rest::Client::new(&fake_server(SSE_HEAD, body).await).unwrap();
    let mut stream = client.watch_availability(EventId(1), None).await.unwrap();
    let first = next_item(&mut stream).await.unwrap().unwrap();
    assert_eq!((first.kind, first.version), (UpdateKind::Snapshot, 7));
    let error = next_item(&mut stream).await.unwrap().unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unavailable, "{error}");
    assert!(
        next_item(&mut stream).await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_without_resync_and_an_error_event_are_errors() {
    // A complete body that ends with no resync: the subscriber must know to resume.
    let body = chunk(&snapshot_event(3)) + "0\r\n\r\n";
    let client = rest::Client::new(&fake_server(SSE_HEAD, body).await).unwrap();
    let mut stream = client.watch_availability(EventId(1), None).await.unwrap();
    assert_eq!(next_item(&mut stream).await.unwrap().unwrap().version, 3);
    let error = next_item(&mut stream).await.unwrap().unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unavailable, "{error}");
    assert!(next_item(&mut stream).await.is_none());

    // An error event is its problem's domain error, then the end.
    let failure = domain::Error::unavailable("the store went away");
    let problem = rest::error::Problem::from_error(rest::error::status_of(&failure), &failure);
    let problem = serde_json::to_string(&problem).unwrap();
    let body = chunk(&format!("event: error\ndata: {problem}\n\n")) + &chunk(&snapshot_event(4));
    let client = rest::Client::new(&fake_server(SSE_HEAD, body).await).unwrap();
    let mut stream = client.watch_availability(EventId(1), None).await.unwrap();
    let error = next_item(&mut stream).await.unwrap().unwrap_err();
    assert_eq!(error, failure);
    assert!(next_item(&mut stream).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_event_is_refused_not_buffered() {
    // One endless data line: the client gives up at its response-size limit.
    let config = netkit::ClientConfig {
        max_response_bytes: 4096,
        ..Default::default()
    };
    let body = chunk(&format!("data: {}", "x".repeat(3000))) + &chunk(&"y".repeat(3000));
    let client = rest::Client::with_config(&fake_server(SSE_HEAD, body).await, &config).unwrap();
    let mut stream = client.watch_availability(EventId(1), None).await.unwrap();
    let error = next_item(&mut stream).await.unwrap().unwrap_err();
    assert_eq!(error.code(), ErrorCode::LimitExceeded, "{error}");
    assert!(next_item(&mut stream).await.is_none());
}

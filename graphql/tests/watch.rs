//! Live availability over GraphQL subscriptions (graphql-transport-ws on `GET
//! /graphql`): the shared watch checks against `graphql::Client` and a real server on a
//! loopback port, the protocol exchange message by message, the refusals (before the
//! stream, with codes; and the protocol's close codes), and a connection cut mid-stream.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::conformance::{Options, run_watch, subscription_is_released_when_dropped};
use domain::{
    Customer, ErrorCode, EventId, EventStatus, HoldRequest, SeatId, Service, SharedTicketing,
    Ticketing, UpdateKind,
};
use futures::{SinkExt, StreamExt};
use netkit::running::RunningServer;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any one expected message may take.
const DEADLINE: Duration = Duration::from_secs(10);

const SELECTION: &str =
    "{ eventId kind version sections { sectionId available } seats { seatId state } committedAt }";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn serve(service: &Service, config: graphql::Config) -> RunningServer {
    let api: SharedTicketing = Arc::new(service.clone());
    common::spawn_with(api, config).await
}

fn client(server: &RunningServer) -> graphql::Client {
    graphql::Client::new(&common::endpoint(server)).unwrap()
}

fn ws_url(addr: SocketAddr) -> String {
    format!("ws://{addr}/graphql")
}

/// Opens a WebSocket offering `protocol`.
async fn connect(addr: SocketAddr, protocol: &str) -> Result<Socket, tungstenite::Error> {
    let mut request = ws_url(addr).into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(protocol).unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    Ok(socket)
}

async fn send(socket: &mut Socket, message: &Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next protocol message (text, as JSON).
async fn receive(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("a message within the deadline")
            .expect("the connection is open")
            .expect("a readable message");
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Waits for the server's close frame and returns its code and reason.
async fn closed_with(socket: &mut Socket) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("a close within the deadline");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (frame.code.into(), frame.reason.as_str().to_owned());
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// A connection past `connection_init` / `connection_ack`.
async fn initialised(addr: SocketAddr) -> Socket {
    let mut socket = connect(addr, "graphql-transport-ws").await.unwrap();
    send(&mut socket, &json!({"type": "connection_init"})).await;
    assert_eq!(
        receive(&mut socket).await,
        json!({"type": "connection_ack"})
    );
    socket
}

fn subscribe(id: &str, query: &str, variables: &Value) -> Value {
    json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
}

fn watch_document() -> String {
    format!(
        "subscription($eventId: ID!, $fromVersion: Int) {{ availabilityChanged(eventId: $eventId, fromVersion: $fromVersion) {SELECTION} }}"
    )
}

/// Expects one `next` carrying only errors and then `complete`, both for `id`; returns
/// the first error.
async fn refused(socket: &mut Socket, id: &str) -> Value {
    let next = receive(socket).await;
    assert_eq!(
        (&next["type"], &next["id"]),
        (&json!("next"), &json!(id)),
        "{next}"
    );
    assert_eq!(next["payload"]["data"], Value::Null, "{next}");
    let error = next["payload"]["errors"][0].clone();
    assert_eq!(receive(socket).await, json!({"type": "complete", "id": id}));
    error
}

/// Events on sale (so seats can be held), in id order.
fn on_sale(service: &Service) -> Vec<EventId> {
    let data = service.store().catalog().dataset();
    data.events
        .iter()
        .filter(|e| e.status == EventStatus::OnSale)
        .map(|e| e.id)
        .collect()
}

fn hold(event: EventId, seat: u32) -> HoldRequest {
    HoldRequest {
        event_id: event,
        seat_ids: vec![SeatId(seat)],
        customer: Customer {
            name: "Watcher".into(),
            email: "watcher@example.org".into(),
        },
        idempotency_key: None,
    }
}

/// Waits until `condition` holds, failing after the deadline.
async fn wait_until(mut condition: impl FnMut() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {DEADLINE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_client_passes_the_watch_checks() {
    let service = common::service();
    let server = serve(&service, graphql::Config::default()).await;
    let api: Arc<dyn Ticketing> = Arc::new(client(&server));
    let writer: Arc<dyn Ticketing> = Arc::new(service.clone());
    let options = Options {
        writer: Some(writer),
        ..Options::default()
    };
    run_watch(api, common::SPEC, options).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_watch_releases_its_subscription() {
    let service = common::service();
    let server = serve(&service, graphql::Config::default()).await;
    subscription_is_released_when_dropped(&client(&server), service.store()).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_protocol_exchange_message_by_message() {
    let service = common::service();
    let server = serve(&service, graphql::Config::default()).await;
    let event = on_sale(&service)[0];
    let before = service.store().watchers(event);
    let mut socket = initialised(server.addr).await;

    let variables = json!({"eventId": event.to_string()});
    send(&mut socket, &subscribe("w1", &watch_document(), &variables)).await;
    let snapshot = receive(&mut socket).await;
    assert_eq!(
        (&snapshot["type"], &snapshot["id"]),
        (&json!("next"), &json!("w1")),
        "{snapshot}"
    );
    let update = &snapshot["payload"]["data"]["availabilityChanged"];
    assert_eq!(update["eventId"], event.to_string());
    assert_eq!(update["kind"], "SNAPSHOT");
    assert_eq!(update["seats"], json!([]));
    let version = update["version"].as_u64().expect("version is an Int");
    let sections = update["sections"].as_array().unwrap();
    assert!(!sections.is_empty());
    assert!(snapshot["payload"].get("errors").is_none(), "{snapshot}");
    wait_until(
        || service.store().watchers(event) == before + 1,
        "the subscriber",
    )
    .await;

    // The same change as the store sends it, to compare the commit time with.
    let mut in_process = service
        .watch_availability(event, Some(version))
        .await
        .unwrap();
    service.hold_seats(hold(event, 4)).await.unwrap();
    let expected = in_process.next().await.unwrap().unwrap();
    let change = receive(&mut socket).await;
    let update = &change["payload"]["data"]["availabilityChanged"];
    assert_eq!(
        (&change["type"], &change["id"]),
        (&json!("next"), &json!("w1"))
    );
    assert_eq!(update["kind"], "CHANGE");
    assert_eq!(update["version"], version + 1);
    assert_eq!(update["seats"], json!([{"seatId": 4, "state": "HELD"}]));
    let committed = update["committedAt"].as_str().unwrap();
    let committed = chrono::DateTime::parse_from_rfc3339(committed).unwrap();
    assert_eq!(
        committed, expected.committed_at,
        "the commit time, to the microsecond"
    );
    drop(in_process);

    // The client stops listening: the server drops the subscription and says so.
    send(&mut socket, &json!({"type": "complete", "id": "w1"})).await;
    assert_eq!(
        receive(&mut socket).await,
        json!({"type": "complete", "id": "w1"})
    );
    wait_until(|| service.store().watchers(event) == before, "the release").await;

    // The connection goes on: ping, and a new subscription on it.
    send(&mut socket, &json!({"type": "ping"})).await;
    assert_eq!(receive(&mut socket).await, json!({"type": "pong"}));
    send(&mut socket, &subscribe("w2", &watch_document(), &variables)).await;
    let next = receive(&mut socket).await;
    assert_eq!(
        next["payload"]["data"]["availabilityChanged"]["kind"],
        "SNAPSHOT"
    );
    assert_eq!(
        next["payload"]["data"]["availabilityChanged"]["version"],
        version + 1
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_before_the_stream_carry_codes() {
    let service = common::service();
    let server = serve(&service, graphql::Config::default()).await;
    let mut socket = initialised(server.addr).await;

    let missing = json!({"eventId": "999999999"});
    send(&mut socket, &subscribe("a", &watch_document(), &missing)).await;
    let error = refused(&mut socket, "a").await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
    assert_eq!(error["extensions"]["resource"], "event");
    assert_eq!(error["path"], json!(["availabilityChanged"]));

    let ahead = json!({"eventId": "3", "fromVersion": 1_000_000});
    send(&mut socket, &subscribe("b", &watch_document(), &ahead)).await;
    let error = refused(&mut socket, "b").await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(error["extensions"]["field"], "from_version");

    let negative = json!({"eventId": "3", "fromVersion": -1});
    send(&mut socket, &subscribe("c", &watch_document(), &negative)).await;
    let error = refused(&mut socket, "c").await;
    assert_eq!(
        error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{error}"
    );

    let not_an_id = json!({"eventId": "three"});
    send(&mut socket, &subscribe("d", &watch_document(), &not_an_id)).await;
    let error = refused(&mut socket, "d").await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(error["extensions"]["field"], "event_id");

    let malformed = "subscription { availabilityChanged(eventId: \"3\") { kind ";
    send(&mut socket, &subscribe("e", malformed, &json!({}))).await;
    let error = refused(&mut socket, "e").await;
    assert_eq!(
        error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{error}"
    );

    let unknown_field = "subscription { availabilityChanged(eventId: \"3\") { price } }";
    send(&mut socket, &subscribe("f", unknown_field, &json!({}))).await;
    let error = refused(&mut socket, "f").await;
    assert_eq!(
        error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{error}"
    );

    let two_fields = "subscription { a: availabilityChanged(eventId: \"3\") { kind } ...More } \
                      fragment More on Subscription { b: availabilityChanged(eventId: \"4\") { kind } }";
    send(&mut socket, &subscribe("g", two_fields, &json!({}))).await;
    let error = refused(&mut socket, "g").await;
    assert_eq!(
        error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().contains("exactly one"),
        "{error}"
    );

    let too_long = format!(
        "subscription {{ availabilityChanged(eventId: \"3\") {{ kind }} }} #{}",
        "x".repeat(graphql::config::MAX_QUERY_BYTES)
    );
    send(&mut socket, &subscribe("h", &too_long, &json!({}))).await;
    let error = refused(&mut socket, "h").await;
    assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{error}");
    assert_eq!(error["extensions"]["what"], "query size (bytes)");

    // None of that broke the connection.
    send(
        &mut socket,
        &subscribe("i", &watch_document(), &json!({"eventId": "3"})),
    )
    .await;
    let next = receive(&mut socket).await;
    assert_eq!(
        next["payload"]["data"]["availabilityChanged"]["kind"],
        "SNAPSHOT"
    );

    // And the client maps the refusals back to the domain's errors, from the call.
    let client = client(&server);
    let error = client
        .watch_availability(EventId(999_999_999), None)
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound);
    let error = client
        .watch_availability(EventId(3), Some(1_000_000))
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidArgument);
    assert!(error.to_string().contains("from_version"), "{error}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_have_the_query_limits_and_a_cap_per_connection() {
    let service = common::service();
    let config = graphql::Config {
        max_depth: 2,
        max_subscriptions_per_connection: 1,
        ..graphql::Config::default()
    };
    let server = serve(&service, config).await;
    let mut socket = initialised(server.addr).await;

    // availabilityChanged { sections { available } } is three deep.
    let deep = "subscription { availabilityChanged(eventId: \"3\") { sections { available } } }";
    send(&mut socket, &subscribe("deep", deep, &json!({}))).await;
    let error = refused(&mut socket, "deep").await;
    assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{error}");
    assert_eq!(error["extensions"]["what"], "query depth");

    let shallow = "subscription { availabilityChanged(eventId: \"3\") { kind version } }";
    send(&mut socket, &subscribe("one", shallow, &json!({}))).await;
    let next = receive(&mut socket).await;
    assert_eq!(next["id"], "one");
    assert_eq!(
        next["payload"]["data"]["availabilityChanged"]["kind"],
        "SNAPSHOT"
    );

    send(&mut socket, &subscribe("two", shallow, &json!({}))).await;
    let error = refused(&mut socket, "two").await;
    assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{error}");
    assert_eq!(error["extensions"]["what"], "subscriptions per connection");
    assert_eq!(error["extensions"]["limit"], "1");

    // Ending the first frees its slot.
    send(&mut socket, &json!({"type": "complete", "id": "one"})).await;
    assert_eq!(
        receive(&mut socket).await,
        json!({"type": "complete", "id": "one"})
    );
    send(&mut socket, &subscribe("three", shallow, &json!({}))).await;
    let next = receive(&mut socket).await;
    assert_eq!(next["id"], "three");
    assert_eq!(
        next["payload"]["data"]["availabilityChanged"]["kind"],
        "SNAPSHOT"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_protocol_close_codes() {
    let service = common::service();
    let config = graphql::Config {
        connection_init_timeout: Duration::from_millis(200),
        ..graphql::Config::default()
    };
    let server = serve(&service, config).await;

    // No connection_init in time: 4408.
    let mut silent = connect(server.addr, "graphql-transport-ws").await.unwrap();
    let (code, reason) = closed_with(&mut silent).await;
    assert_eq!(
        (code, reason.as_str()),
        (4408, "Connection initialisation timeout")
    );

    // subscribe before connection_init: 4401.
    let mut eager = connect(server.addr, "graphql-transport-ws").await.unwrap();
    let shallow = "subscription { availabilityChanged(eventId: \"3\") { kind } }";
    send(&mut eager, &subscribe("x", shallow, &json!({}))).await;
    assert_eq!(closed_with(&mut eager).await.0, 4401);

    // Not a protocol message: 4400.
    let mut garbled = connect(server.addr, "graphql-transport-ws").await.unwrap();
    garbled.send(Message::text("hello")).await.unwrap();
    assert_eq!(closed_with(&mut garbled).await.0, 4400);

    // Any other subprotocol (or none) is refused before the upgrade, with a code.
    for offered in ["graphql-ws", "chat"] {
        match connect(server.addr, offered).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{offered}");
                let body: Value =
                    serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
                assert_eq!(common::code(&body), "BAD_USER_INPUT", "{offered}");
            }
            other => panic!("{offered}: expected a 400, got {:?}", other.map(|_| ())),
        }
    }
    server.stop().await.unwrap();
}

/// A TCP relay between the client and the server that the test can cut.
struct Relay {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(server: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut inbound, _) = listener.accept().await.unwrap();
            let mut outbound = TcpStream::connect(server).await.unwrap();
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
        });
        Relay { addr, task }
    }

    /// Drops both connections.
    async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_is_one_unavailable_error_then_the_end() {
    let service = common::service();
    let server = serve(&service, graphql::Config::default()).await;
    let event = on_sale(&service)[1];
    let before = service.store().watchers(event);
    let relay = Relay::to(server.addr).await;
    let client = graphql::Client::new(&format!("http://{}/graphql", relay.addr)).unwrap();
    let mut stream = client.watch_availability(event, None).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.kind, UpdateKind::Snapshot);
    service.hold_seats(hold(event, 1)).await.unwrap();
    let change = tokio::time::timeout(DEADLINE, stream.next()).await.unwrap();
    assert_eq!(change.unwrap().unwrap().version, first.version + 1);

    relay.cut().await;
    let failed = tokio::time::timeout(DEADLINE, stream.next()).await.unwrap();
    assert_eq!(failed.unwrap().unwrap_err().code(), ErrorCode::Unavailable);
    let after = tokio::time::timeout(DEADLINE, stream.next()).await.unwrap();
    assert!(after.is_none(), "the stream ends after the error");
    // The server saw its side go too, and let the subscription go.
    wait_until(|| service.store().watchers(event) == before, "the release").await;
    server.stop().await.unwrap();
}

/// A shutdown ends a running subscription with UNAVAILABLE and `complete`, closes the
/// socket with 1001 (as it does a connection still waiting for `connection_init`), and the
/// server's drain, which waits for its WebSocket connections, finishes by its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_subscriptions_and_closes_within_the_drain() {
    let service = common::service();
    let mut config = graphql::Config::default();
    // Far beyond DEADLINE: a drain that waited for the grace would fail the test.
    config.server.shutdown_grace = Duration::from_secs(120);
    let server = serve(&service, config).await;
    let event = on_sale(&service)[2];
    let mut socket = initialised(server.addr).await;
    let variables = json!({"eventId": event.to_string()});
    send(&mut socket, &subscribe("1", &watch_document(), &variables)).await;
    let snapshot = receive(&mut socket).await;
    assert_eq!(snapshot["type"], "next", "{snapshot}");
    let mut waiting_for_init = connect(server.addr, "graphql-transport-ws").await.unwrap();
    let mut library = client(&server)
        .watch_availability(event, None)
        .await
        .unwrap();
    assert_eq!(
        library.next().await.unwrap().unwrap().kind,
        UpdateKind::Snapshot
    );

    let stopped = tokio::spawn(server.stop());
    let error = refused(&mut socket, "1").await;
    assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{error}");
    assert_eq!(closed_with(&mut socket).await.0, 1001);
    assert_eq!(closed_with(&mut waiting_for_init).await.0, 1001);
    // The client library ends its stream the same way: one UNAVAILABLE, then the end.
    let ended = tokio::time::timeout(DEADLINE, library.next())
        .await
        .unwrap();
    assert_eq!(ended.unwrap().unwrap_err().code(), ErrorCode::Unavailable);
    assert!(
        tokio::time::timeout(DEADLINE, library.next())
            .await
            .unwrap()
            .is_none()
    );
    tokio::time::timeout(DEADLINE, stopped)
        .await
        .expect("the server drained before its deadline")
        .unwrap()
        .unwrap();
}

/// WebSocket connections count against the server's connection cap after their upgrade
/// (when hyper no longer counts them): one past it is refused with 503 and
/// LIMIT_EXCEEDED before the handshake, and a closed one frees its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_connections_past_the_cap_are_refused() {
    let service = common::service();
    let mut config = graphql::Config::default();
    config.server.max_connections = 2;
    let server = serve(&service, config).await;
    let first = initialised(server.addr).await;
    let _second = initialised(server.addr).await;

    let refused = connect(server.addr, "graphql-transport-ws")
        .await
        .unwrap_err();
    let tungstenite::Error::Http(response) = refused else {
        panic!("expected an HTTP refusal, got {refused:?}");
    };
    assert_eq!(response.status(), 503);
    let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or(b"{}")).unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{body}"
    );

    drop(first);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match connect(server.addr, "graphql-transport-ws").await {
            Ok(_third) => break,
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "the closed connection's slot was not freed: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn graphiql_runs_subscriptions_over_the_same_path() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let app = common::app(common::service());
    let get = |path: &'static str| {
        let app = app.clone();
        async move {
            let response = app
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(body.to_vec()).unwrap()
        }
    };
    // A plain GET is still the page; its start-up script hands GraphiQL's fetcher the
    // endpoint's own URL as ws:// for subscriptions.
    assert!(get("/graphql").await.contains("quartet-graphiql.js"));
    let script = get("/graphql/assets/quartet-graphiql.js").await;
    assert!(
        script.contains("subscriptionUrl: subscriptionUrl.toString()"),
        "{script}"
    );
    assert!(script.contains("'ws:'"), "{script}");
}

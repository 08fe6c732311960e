//! Security over REST: bearer tokens (`Authorization: Bearer`), owner-only bookings and
//! per-caller rate limits, through `rest::Client` and raw requests against a real server
//! serving `domain::auth::Guarded`. The policy and its fixtures (key, gates, tokens) are
//! `domain::conformance::auth`'s; this file adds what only HTTP can get wrong: statuses,
//! `WWW-Authenticate`, `Retry-After`, and a malformed header.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use domain::Ticketing;
use domain::auth::{Gate, Guarded};
use domain::conformance::auth::{
    ANN, AsEachCustomer, Connect, MALFORMED_AUTHORIZATION, book_token, check_policy,
    check_rate_limit, dev_key, keyed_gate, limited_gate, no_scope_token, open_hold,
};
use netkit::http_client::{HttpTransport, ReqwestTransport};
use netkit::running::RunningServer;

async fn spawn(gate: Gate) -> RunningServer {
    let api = Guarded::wrap(Arc::new(common::service()), gate);
    common::spawn_with(api, rest::Config::default()).await
}

fn connect(url: String) -> Connect {
    Box::new(move |token: Option<String>| {
        let url = url.clone();
        Box::pin(async move {
            let client = rest::Client::new(&url)?;
            let client = match token {
                Some(token) => client.with_bearer(&token)?,
                None => client,
            };
            Ok(Arc::new(client) as Arc<dyn Ticketing>)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_holds_over_rest() {
    let server = spawn(keyed_gate(&dev_key())).await;
    check_policy(&connect(common::url(&server)), &dev_key(), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_passes_with_auth_on() {
    let server = spawn(keyed_gate(&dev_key())).await;
    let each = AsEachCustomer::signed_in(connect(common::url(&server)), dev_key())
        .await
        .unwrap();
    domain::conformance::run(Arc::new(each), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_trip_and_recover_per_customer_and_per_connection() {
    let server = spawn(limited_gate(&dev_key())).await;
    let connect = connect(common::url(&server));
    let customer = connect(Some(book_token(&dev_key(), ANN))).await.unwrap();
    check_rate_limit(customer.as_ref(), common::SPEC).await;
    let anonymous = connect(None).await.unwrap();
    check_rate_limit(anonymous.as_ref(), common::SPEC).await;
    server.stop().await.unwrap();
}

async fn send(
    transport: &ReqwestTransport,
    method: &str,
    url: String,
    authorization: Option<&str>,
    body: &str,
) -> http::Response<Bytes> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let request = request.body(Bytes::from(body.to_owned())).unwrap();
    transport.send(request).await.unwrap()
}

fn problem_code(response: &http::Response<Bytes>) -> String {
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    body["code"].as_str().unwrap_or_default().to_owned()
}

const HOLD: &str =
    r#"{"event_id": 1, "seat_ids": [0], "customer": {"name": "Ann", "email": "ann@example.org"}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_answers_are_401_with_a_challenge_403_and_429_with_retry_after() {
    let server = spawn(limited_gate(&dev_key())).await;
    let base = common::url(&server);
    let transport = ReqwestTransport::new(&netkit::ClientConfig::default()).unwrap();
    let bookings = format!("{base}/v1/bookings");

    let none = send(&transport, "POST", bookings.clone(), None, HOLD).await;
    assert_eq!(none.status(), 401);
    assert_eq!(problem_code(&none), "UNAUTHENTICATED");
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"quartet\""
    );

    for &malformed in MALFORMED_AUTHORIZATION {
        let response = send(&transport, "POST", bookings.clone(), Some(malformed), HOLD).await;
        assert_eq!(response.status(), 401, "{malformed}");
        assert_eq!(problem_code(&response), "UNAUTHENTICATED", "{malformed}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer realm=\"quartet\", error=\"invalid_token\""),
            "{malformed}: {challenge}"
        );
    }

    let no_scope = no_scope_token(&dev_key(), ANN);
    let forbidden = send(
        &transport,
        "POST",
        bookings.clone(),
        Some(&format!("Bearer {no_scope}")),
        HOLD,
    )
    .await;
    assert_eq!(forbidden.status(), 403);
    assert_eq!(problem_code(&forbidden), "PERMISSION_DENIED");

    // One keep-alive connection: its anonymous bucket runs dry.
    let event = format!("{base}/v1/events/1");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let limited = loop {
        let response = send(&transport, "GET", event.clone(), None, "").await;
        if response.status() == 429 {
            break response;
        }
        assert_eq!(response.status(), 200);
        assert!(std::time::Instant::now() < deadline, "never limited");
    };
    assert_eq!(problem_code(&limited), "LIMIT_EXCEEDED");
    assert_eq!(limited.headers()["retry-after"], "1");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_key_stays_open() {
    let server = spawn(Gate::open()).await;
    let url = common::url(&server);
    // No token, or one nobody checks: both may hold and then manage the booking.
    for client in [
        rest::Client::new(&url).unwrap(),
        rest::Client::new(&url)
            .unwrap()
            .with_bearer("ignored.by.open")
            .unwrap(),
    ] {
        let booking = client.hold_seats(open_hold(common::SPEC)).await.unwrap();
        client.cancel_booking(booking.id).await.unwrap();
    }
    server.stop().await.unwrap();
}

//! Security over GraphQL: bearer tokens (`Authorization: Bearer`), owner-only bookings
//! and per-caller rate limits, through `graphql::Client` and raw requests against a real
//! server serving `domain::auth::Guarded`. The policy and its fixtures (key, gates,
//! tokens) are `domain::conformance::auth`'s; this file adds what only GraphQL can get
//! wrong: the `extensions.code` of each refusal and a malformed header.

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
use serde_json::{Value, json};

async fn spawn(gate: Gate) -> RunningServer {
    let api = Guarded::wrap(Arc::new(common::service()), gate);
    common::spawn_with(api, graphql::Config::default()).await
}

fn connect(endpoint: String) -> Connect {
    Box::new(move |token: Option<String>| {
        let endpoint = endpoint.clone();
        Box::pin(async move {
            let client = graphql::Client::new(&endpoint)?;
            let client = match token {
                Some(token) => client.with_bearer(&token)?,
                None => client,
            };
            Ok(Arc::new(client) as Arc<dyn Ticketing>)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_holds_over_graphql() {
    let server = spawn(keyed_gate(&dev_key())).await;
    check_policy(
        &connect(common::endpoint(&server)),
        &dev_key(),
        common::SPEC,
    )
    .await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_passes_with_auth_on() {
    let server = spawn(keyed_gate(&dev_key())).await;
    let each = AsEachCustomer::signed_in(connect(common::endpoint(&server)), dev_key())
        .await
        .unwrap();
    domain::conformance::run(Arc::new(each), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_trip_and_recover_per_customer_and_per_connection() {
    let server = spawn(limited_gate(&dev_key())).await;
    let connect = connect(common::endpoint(&server));
    let customer = connect(Some(book_token(&dev_key(), ANN))).await.unwrap();
    check_rate_limit(customer.as_ref(), common::SPEC).await;
    let anonymous = connect(None).await.unwrap();
    check_rate_limit(anonymous.as_ref(), common::SPEC).await;
    server.stop().await.unwrap();
}

async fn post(
    transport: &ReqwestTransport,
    endpoint: &str,
    auth: Option<&str>,
    body: &Value,
) -> Value {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(endpoint)
        .header("content-type", "application/json");
    if let Some(value) = auth {
        request = request.header("authorization", value);
    }
    let request = request.body(Bytes::from(body.to_string())).unwrap();
    let response = transport.send(request).await.unwrap();
    serde_json::from_slice(response.body()).unwrap()
}

fn hold() -> Value {
    json!({
        "query": "mutation($input: HoldSeatsInput!) { holdSeats(input: $input) { id } }",
        "variables": {"input": {"eventId": "1", "seatIds": [0], "customer": {"name": "Ann", "email": "ann@example.org"}}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_their_extensions_code() {
    let server = spawn(limited_gate(&dev_key())).await;
    let endpoint = common::endpoint(&server);
    let transport = ReqwestTransport::new(&netkit::ClientConfig::default()).unwrap();

    let none = post(&transport, &endpoint, None, &hold()).await;
    assert_eq!(common::code(&none), "UNAUTHENTICATED", "{none}");
    for &malformed in MALFORMED_AUTHORIZATION {
        let answer = post(&transport, &endpoint, Some(malformed), &hold()).await;
        assert_eq!(
            common::code(&answer),
            "UNAUTHENTICATED",
            "{malformed}: {answer}"
        );
    }
    let no_scope = no_scope_token(&dev_key(), ANN);
    let denied = post(
        &transport,
        &endpoint,
        Some(&format!("Bearer {no_scope}")),
        &hold(),
    )
    .await;
    assert_eq!(common::code(&denied), "PERMISSION_DENIED", "{denied}");

    let read = json!({"query": "{ event(id: \"1\") { id } }"});
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let limited = loop {
        let answer = post(&transport, &endpoint, None, &read).await;
        if answer.get("errors").is_some() {
            break answer;
        }
        assert!(std::time::Instant::now() < deadline, "never limited");
    };
    assert_eq!(common::code(&limited), "LIMIT_EXCEEDED", "{limited}");
    assert_eq!(
        limited["errors"][0]["extensions"]["what"],
        domain::auth::RATE_LIMIT_WHAT
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_key_stays_open() {
    let server = spawn(Gate::open()).await;
    let client = graphql::Client::new(&common::endpoint(&server)).unwrap();
    let booking = client.hold_seats(open_hold(common::SPEC)).await.unwrap();
    client.cancel_booking(booking.id).await.unwrap();
    server.stop().await.unwrap();
}

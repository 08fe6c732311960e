//! Security over GraphQL: bearer tokens (`Authorization: Bearer`), owner-only bookings
//! and per-caller rate limits, through `graphql::Client` and raw requests against a real
//! server serving `domain::auth::Guarded`. The policy itself is
//! `domain::conformance::auth`'s; this file adds what only GraphQL can get wrong: the
//! `extensions.code` of each refusal and a malformed header.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use domain::Ticketing;
use domain::auth::{AuthKey, Gate, Guarded, Rate, RateLimits, SCOPE_BOOK, mint};
use domain::conformance::auth::{AsEachCustomer, Connect, check_policy, check_rate_limit};
use netkit::http_client::{HttpTransport, ReqwestTransport};
use netkit::running::RunningServer;
use serde_json::{Value, json};

fn key() -> AuthKey {
    AuthKey::from_secret(b"graphql auth tests: a 32-byte key").unwrap()
}

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

fn limited() -> Gate {
    let small = Some(Rate {
        per_second: 4,
        burst: 2,
    });
    Gate::new(
        Some(key()),
        RateLimits {
            per_customer: small,
            per_anonymous: small,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_holds_over_graphql() {
    let server = spawn(Gate::new(Some(key()), RateLimits::default())).await;
    check_policy(&connect(common::endpoint(&server)), &key(), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_passes_with_auth_on() {
    let server = spawn(Gate::new(Some(key()), RateLimits::default())).await;
    let endpoint = common::endpoint(&server);
    let anonymous = Arc::new(graphql::Client::new(&endpoint).unwrap());
    let each = AsEachCustomer::new(
        anonymous,
        Box::new(move |email: String| {
            let endpoint = endpoint.clone();
            Box::pin(async move {
                let token = mint(&key(), &email, &[SCOPE_BOOK], Duration::from_secs(600))
                    .map_err(domain::Error::internal)?;
                let client = graphql::Client::new(&endpoint)?.with_bearer(&token)?;
                Ok(Arc::new(client) as Arc<dyn Ticketing>)
            })
        }),
    );
    domain::conformance::run(Arc::new(each), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_trip_and_recover_per_customer_and_per_connection() {
    let server = spawn(limited()).await;
    let endpoint = common::endpoint(&server);
    let token = mint(
        &key(),
        "ann@example.org",
        &[SCOPE_BOOK],
        Duration::from_secs(600),
    )
    .unwrap();
    let customer = graphql::Client::new(&endpoint)
        .unwrap()
        .with_bearer(&token)
        .unwrap();
    check_rate_limit(&customer, common::SPEC).await;
    let anonymous = graphql::Client::new(&endpoint).unwrap();
    check_rate_limit(&anonymous, common::SPEC).await;
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
    let server = spawn(limited()).await;
    let endpoint = common::endpoint(&server);
    let transport = ReqwestTransport::new(&netkit::ClientConfig::default()).unwrap();

    let none = post(&transport, &endpoint, None, &hold()).await;
    assert_eq!(common::code(&none), "UNAUTHENTICATED", "{none}");
    for malformed in [
        "Basic YW5uOnB3",
        "Bearer",
        "Bearer two words",
        "Bearer abc.def.ghi",
    ] {
        let answer = post(&transport, &endpoint, Some(malformed), &hold()).await;
        assert_eq!(
            common::code(&answer),
            "UNAUTHENTICATED",
            "{malformed}: {answer}"
        );
    }
    let no_scope = mint(&key(), "ann@example.org", &[], Duration::from_secs(600)).unwrap();
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
    let event = domain::Dataset::from_spec(common::SPEC)
        .events
        .iter()
        .find(|e| e.status == domain::EventStatus::OnSale)
        .unwrap()
        .id;
    let booking = client
        .hold_seats(domain::HoldRequest {
            event_id: event,
            seat_ids: vec![domain::SeatId(0)],
            customer: domain::Customer {
                name: "Anyone".into(),
                email: "anyone@example.org".into(),
            },
            idempotency_key: None,
        })
        .await
        .unwrap();
    client.cancel_booking(booking.id).await.unwrap();
    server.stop().await.unwrap();
}

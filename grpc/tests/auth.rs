//! Security over gRPC: bearer tokens (`authorization` metadata), owner-only bookings and
//! per-caller rate limits, through `grpc::Client` and raw calls against a real server
//! serving `domain::auth::Guarded`. The policy itself is `domain::conformance::auth`'s;
//! this file adds what only gRPC can get wrong: status codes and malformed metadata.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::Ticketing;
use domain::auth::{AuthKey, Gate, Guarded, Rate, RateLimits, SCOPE_BOOK, mint};
use domain::conformance::auth::{AsEachCustomer, Connect, check_policy, check_rate_limit};
use grpc::pb;
use netkit::running::RunningServer;
use tonic::Code;

fn key() -> AuthKey {
    AuthKey::from_secret(b"grpc auth tests: a 32-byte secret").unwrap()
}

async fn spawn(gate: Gate) -> RunningServer {
    common::serve(Guarded::wrap(Arc::new(common::generate()), gate)).await
}

fn connect(addr: std::net::SocketAddr) -> Connect {
    Box::new(move |token: Option<String>| {
        Box::pin(async move {
            let client = grpc::Client::connect(addr).await?;
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
async fn the_policy_holds_over_grpc() {
    let server = spawn(Gate::new(Some(key()), RateLimits::default())).await;
    check_policy(&connect(server.addr), &key(), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_passes_with_auth_on() {
    let server = spawn(Gate::new(Some(key()), RateLimits::default())).await;
    let addr = server.addr;
    let anonymous = Arc::new(grpc::Client::connect(addr).await.unwrap());
    let each = AsEachCustomer::new(
        anonymous,
        Box::new(move |email: String| {
            Box::pin(async move {
                let token = mint(&key(), &email, &[SCOPE_BOOK], Duration::from_secs(600))
                    .map_err(domain::Error::internal)?;
                let client = grpc::Client::connect(addr).await?.with_bearer(&token)?;
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
    let token = mint(
        &key(),
        "ann@example.org",
        &[SCOPE_BOOK],
        Duration::from_secs(600),
    )
    .unwrap();
    let customer = grpc::Client::connect(server.addr)
        .await
        .unwrap()
        .with_bearer(&token)
        .unwrap();
    check_rate_limit(&customer, common::SPEC).await;
    let anonymous = grpc::Client::connect(server.addr).await.unwrap();
    check_rate_limit(&anonymous, common::SPEC).await;
    server.stop().await.unwrap();
}

fn with_authorization<M>(message: M, value: Option<&str>) -> tonic::Request<M> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = value {
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
    }
    request
}

fn hold() -> pb::HoldSeatsRequest {
    pb::HoldSeatsRequest {
        event_id: 1,
        seat_ids: vec![0],
        customer: Some(pb::Customer {
            name: "Ann".into(),
            email: "ann@example.org".into(),
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_unauthenticated_permission_denied_and_resource_exhausted() {
    let server = spawn(limited()).await;
    let mut raw = pb::ticketing_client::TicketingClient::new(common::channel(&server).await);

    let none = raw
        .hold_seats(with_authorization(hold(), None))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated, "{none:?}");
    for malformed in [
        "Basic YW5uOnB3",
        "Bearer",
        "Bearer two words",
        "Bearer abc.def.ghi",
    ] {
        let status = raw
            .hold_seats(with_authorization(hold(), Some(malformed)))
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "{malformed}: {status:?}"
        );
        assert_eq!(
            grpc::error::from_status(&status).code(),
            domain::ErrorCode::Unauthenticated
        );
    }
    let no_scope = mint(&key(), "ann@example.org", &[], Duration::from_secs(600)).unwrap();
    let denied = raw
        .hold_seats(with_authorization(
            hold(),
            Some(&format!("Bearer {no_scope}")),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exhausted = loop {
        match raw
            .get_event(with_authorization(
                pb::GetEventRequest { event_id: 1 },
                None,
            ))
            .await
        {
            Ok(_) => assert!(std::time::Instant::now() < deadline, "never limited"),
            Err(status) => break status,
        }
    };
    assert_eq!(exhausted.code(), Code::ResourceExhausted, "{exhausted:?}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_key_stays_open() {
    let server = spawn(Gate::open()).await;
    let client = grpc::Client::connect(server.addr).await.unwrap();
    let booking = client
        .hold_seats(domain::HoldRequest {
            event_id: first_on_sale(),
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

fn first_on_sale() -> domain::EventId {
    domain::Dataset::from_spec(common::SPEC)
        .events
        .iter()
        .find(|e| e.status == domain::EventStatus::OnSale)
        .unwrap()
        .id
}

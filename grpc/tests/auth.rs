//! Security over gRPC: bearer tokens (`authorization` metadata), owner-only bookings and
//! per-caller rate limits, through `grpc::Client` and raw calls against a real server
//! serving `domain::auth::Guarded`. The policy and its fixtures (key, gates, tokens) are
//! `domain::conformance::auth`'s; this file adds what only gRPC can get wrong: status
//! codes and malformed metadata.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::Ticketing;
use domain::auth::{Gate, Guarded};
use domain::conformance::auth::{
    ANN, AsEachCustomer, Connect, MALFORMED_AUTHORIZATION, book_token, check_policy,
    check_rate_limit, dev_key, keyed_gate, limited_gate, no_scope_token, open_hold,
};
use grpc::pb;
use netkit::running::RunningServer;
use tonic::Code;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_holds_over_grpc() {
    let server = spawn(keyed_gate(&dev_key())).await;
    check_policy(&connect(server.addr), &dev_key(), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_passes_with_auth_on() {
    let server = spawn(keyed_gate(&dev_key())).await;
    let each = AsEachCustomer::signed_in(connect(server.addr), dev_key())
        .await
        .unwrap();
    domain::conformance::run(Arc::new(each), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_trip_and_recover_per_customer_and_per_connection() {
    let server = spawn(limited_gate(&dev_key())).await;
    let connect = connect(server.addr);
    let customer = connect(Some(book_token(&dev_key(), ANN))).await.unwrap();
    check_rate_limit(customer.as_ref(), common::SPEC).await;
    let anonymous = connect(None).await.unwrap();
    check_rate_limit(anonymous.as_ref(), common::SPEC).await;
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
    let server = spawn(limited_gate(&dev_key())).await;
    let mut raw = pb::ticketing_client::TicketingClient::new(common::channel(&server).await);

    let none = raw
        .hold_seats(with_authorization(hold(), None))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated, "{none:?}");
    for &malformed in MALFORMED_AUTHORIZATION {
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
    let no_scope = no_scope_token(&dev_key(), ANN);
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
    let booking = client.hold_seats(open_hold(common::SPEC)).await.unwrap();
    client.cancel_booking(booking.id).await.unwrap();
    server.stop().await.unwrap();
}

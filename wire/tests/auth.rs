//! Security over the wire protocol: AUTH (PROTOCOL.md §6.8), owner-only bookings and
//! per-caller rate limits, through `wire::Client` and raw frames against a real server
//! serving `domain::auth::Guarded`, plus the AUTH vectors of PROTOCOL.md §10 byte for
//! byte. The policy and its fixtures (key, gates, tokens) are
//! `domain::conformance::auth`'s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use domain::auth::{Gate, Guarded};
use domain::conformance::auth::{
    ANN, AsEachCustomer, Connect, book_token, check_policy, check_rate_limit, dev_key, keyed_gate,
    limited_gate, open_hold,
};
use domain::{DatasetSpec, ErrorCode, Limits, Service, Ticketing};
use netkit::running::RunningServer;
use tokio::io::AsyncWriteExt;
use wire::frame::Opcode;

use common::{hex, vector};

async fn spawn_over(service: Service, gate: Gate) -> RunningServer {
    common::serve(
        Guarded::wrap(Arc::new(service), gate),
        wire::Config::default(),
    )
    .await
}

async fn spawn(gate: Gate) -> RunningServer {
    spawn_over(common::service(), gate).await
}

fn connect(addr: std::net::SocketAddr) -> Connect {
    Box::new(move |token: Option<String>| {
        Box::pin(async move {
            let client = wire::Client::connect(addr).await?;
            if let Some(token) = token {
                client.authenticate(&token).await?;
            }
            Ok(Arc::new(client) as Arc<dyn Ticketing>)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_holds_over_wire() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_applies_to_the_frames_after_it_and_bad_payloads_are_refused() {
    let server = spawn(keyed_gate(&dev_key())).await;
    let mut stream = common::handshaken(server.addr).await;
    // A token with a space in it is malformed before it is parsed.
    let auth = common::request_bytes(Opcode::Auth, 1, &"two words");
    stream.write_all(&auth).await.unwrap();
    assert_eq!(
        common::read_frame(&mut stream).await.kind,
        wire::frame::Kind::Response
    );
    stream
        .write_all(&common::get_event_bytes(2, 1))
        .await
        .unwrap();
    let refused = common::error_of(&common::read_frame(&mut stream).await);
    assert_eq!(refused.code(), ErrorCode::Unauthenticated, "{refused:?}");
    // An empty token goes back to none: catalogue reads work again.
    stream
        .write_all(&common::request_bytes(Opcode::Auth, 3, &""))
        .await
        .unwrap();
    assert_eq!(
        common::read_frame(&mut stream).await.kind,
        wire::frame::Kind::Response
    );
    stream
        .write_all(&common::get_event_bytes(4, 1))
        .await
        .unwrap();
    assert_eq!(
        common::read_frame(&mut stream).await.kind,
        wire::frame::Kind::Response
    );
    // A payload that is not a string.
    let garbage = wire::codec::encode_frame(
        wire::frame::Frame::request(Opcode::Auth, 5, vec![0xff, 0xff]),
        1 << 20,
    )
    .unwrap();
    stream.write_all(&garbage).await.unwrap();
    let error = common::error_of(&common::read_frame(&mut stream).await);
    assert_eq!(error.code(), ErrorCode::InvalidArgument, "{error:?}");
    server.stop().await.unwrap();
}

/// PROTOCOL.md's AUTH vectors against a server on the documented dataset with a key,
/// byte for byte; and a server without a key serving the same request afterwards.
#[tokio::test]
async fn auth_vectors_match_the_server() {
    let documented = || {
        Service::generate(
            DatasetSpec {
                events: 10,
                seed: 42,
            },
            Limits::default(),
        )
    };
    let server = spawn_over(documented(), keyed_gate(&dev_key())).await;
    let mut stream = common::handshaken(server.addr).await;
    for (request, response) in [
        ("auth-request", "auth-response"),
        ("auth-get-event-request", "auth-malformed-error"),
    ] {
        stream.write_all(&vector(request)).await.unwrap();
        let got = common::read_frame_bytes(&mut stream).await;
        assert_eq!(
            got,
            vector(response),
            "{response}; the server sent:\n{}",
            hex(&got)
        );
    }
    server.stop().await.unwrap();

    let open = spawn_over(documented(), Gate::open()).await;
    let mut stream = common::handshaken(open.addr).await;
    stream.write_all(&vector("auth-request")).await.unwrap();
    assert_eq!(
        common::read_frame_bytes(&mut stream).await,
        vector("auth-response")
    );
    stream
        .write_all(&vector("auth-get-event-request"))
        .await
        .unwrap();
    let answer = common::read_frame_bytes(&mut stream).await;
    let mut expected = vector("get-event-response");
    // The same answer as get-event-response, to request id 10 instead of 7.
    expected[11] = 0x0a;
    assert_eq!(answer, expected);
    open.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_key_stays_open() {
    let server = spawn(Gate::open()).await;
    let client = wire::Client::connect(server.addr).await.unwrap();
    let booking = client.hold_seats(open_hold(common::SPEC)).await.unwrap();
    client.cancel_booking(booking.id).await.unwrap();
    server.stop().await.unwrap();
}

//! The server-wide send budget against HTTP/2 clients that ask for the largest seat map
//! on many streams, open every window and never read a byte: the answers the server
//! holds stay under the budget, the calls past it are refused, a client that reads gets
//! its small answers, and the budget comes back when the attackers go.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::raw_h2::{biggest_seat_map, never_reading_client, requests, until};
use grpc::pb;
use grpc::pb::ticketing_client::TicketingClient;
use netkit::send_budget::{SendBudget, SendBudgetConfig};
use prost::Message as _;

const SHARED: usize = 1 << 20;
const PER_CONNECTION: usize = 16 << 10;
const ATTACKERS: usize = 4;
/// Everything the attackers ask for must dwarf what the kernel's socket buffers can
/// absorb (a few MiB per connection on loopback), so the budget, not the kernel, is what
/// holds the rest back.
const REQUESTED_AT_LEAST: usize = 96 << 20;

#[tokio::test]
async fn never_reading_clients_hold_at_most_the_budget() {
    let service = common::generate();
    let event = biggest_seat_map(&service).await;
    let mut config = grpc::Config::default();
    config.http2.max_concurrent_streams = 256;
    let budget = SendBudget::new(SendBudgetConfig {
        shared: SHARED,
        per_connection: PER_CONNECTION,
        wait: Duration::from_millis(200),
    });
    let api: domain::SharedTicketing = Arc::new(service);
    let server = common::serve_with_budget(api, config, &budget).await;
    let mut normal = TicketingClient::new(common::channel(&server).await);
    let answer = normal
        .get_seat_map(pb::GetSeatMapRequest { event_id: event })
        .await
        .unwrap()
        .into_inner()
        .encoded_len();
    let streams = u32::try_from(REQUESTED_AT_LEAST / ATTACKERS / answer + 1)
        .unwrap()
        .min(256);
    assert!(
        ATTACKERS * streams as usize * answer >= REQUESTED_AT_LEAST / 2,
        "a seat map of {answer} bytes is too small for this test"
    );
    let before = budget.refused();

    let mut attackers = Vec::new();
    for _ in 0..ATTACKERS {
        attackers.push(never_reading_client(server.addr, requests(event, 0, streams)).await);
    }
    let calls = u64::try_from(ATTACKERS).unwrap() * u64::from(streams);
    // Not every call: a server whose writes are blocked stops reading a connection's
    // frames, so the last requests of some may never be read. Half refused is plenty:
    // the kernel cannot have taken more than a few MiB per connection.
    until(
        &format!("half of {calls} attacking calls of {answer} bytes refused"),
        &budget,
        || budget.refused() - before >= calls / 2,
    )
    .await;
    let bound = SHARED + PER_CONNECTION * (ATTACKERS + 1);
    assert!(budget.peak() <= bound, "{} > {bound}", budget.peak());

    // A client that reads still gets its small answers at once...
    for _ in 0..20 {
        normal
            .get_event(pb::GetEventRequest { event_id: 1 })
            .await
            .unwrap();
    }
    // A large one gets room or RESOURCE_EXHAUSTED (what the attackers' kernel buffers
    // have taken meanwhile decides which), never another error.
    let large = normal
        .get_seat_map(pb::GetSeatMapRequest { event_id: event })
        .await
        .map(|_| ());
    if let Err(refused) = large {
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused}");
    }
    assert!(budget.peak() <= bound, "{} > {bound}", budget.peak());

    // Gone attackers give their budget back.
    drop(attackers);
    until("the attackers' answers released", &budget, || {
        budget.outstanding() == 0
    })
    .await;
    let large = normal
        .get_seat_map(pb::GetSeatMapRequest { event_id: event })
        .await
        .map(|_| ());
    assert!(large.is_ok(), "{large:?}");
    server.stop().await.unwrap();
}

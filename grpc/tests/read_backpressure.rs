//! Reads wait while writes are blocked (`netkit::guard`): an HTTP/2 client that sends
//! requests for the largest seat map, opens every window and never reads gets no more
//! of its requests read once the server's socket to it is full. Without that, h2 read
//! every request it sent (up to `max_concurrent_streams`, 256, per connection) and held
//! each stream, with its call, answer or refusal, until written. Counted through the
//! send budget's gauges (calls started, connections whose writes are blocked, reads held
//! back), not through RSS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::raw_h2::{biggest_seat_map, never_reading_client, requests, until};
use grpc::pb;
use grpc::pb::ticketing_client::TicketingClient;
use netkit::send_budget::{SendBudget, SendBudgetConfig};
use prost::Message as _;
use tokio::io::AsyncWriteExt;

/// Answer bytes the first requests ask for: twice what the kernel's send buffer takes
/// at most (`tcp_wmem`'s maximum, 4 MiB on the machines here), so the server's writes
/// are blocked once it has answered them.
const FIRST_ANSWERS_AT_LEAST: usize = 8 << 20;
/// Requests sent once the writes are blocked. With the first ones, under the stream
/// limit (256), so h2 itself would accept every one of them.
const LATER_REQUESTS: u32 = 40;

#[tokio::test]
async fn a_client_that_never_reads_gets_no_request_read_once_the_socket_is_full() {
    let service = common::generate();
    let event = biggest_seat_map(&service).await;
    let config = grpc::Config::default();
    let limit = config.http2.max_concurrent_streams;
    // The default budget: room enough for every first answer, so the kernel's buffer,
    // not the budget, is what fills.
    let budget = SendBudget::new(SendBudgetConfig::new(&config.http2));
    let api: domain::SharedTicketing = Arc::new(service);
    let server = common::serve_with_budget(api, config, &budget).await;
    let mut normal = TicketingClient::new(common::channel(&server).await);
    let answer = normal
        .get_seat_map(pb::GetSeatMapRequest { event_id: event })
        .await
        .unwrap()
        .into_inner()
        .encoded_len();
    let first = u32::try_from(FIRST_ANSWERS_AT_LEAST / answer + 1).unwrap();
    assert!(
        first + LATER_REQUESTS < limit,
        "a seat map of {answer} bytes is too small for this test"
    );
    let before = budget.calls();

    let mut attacker = never_reading_client(server.addr, requests(event, 0, first)).await;
    until(
        "the server's writes to the attacker blocked",
        &budget,
        || budget.write_blocked() >= 1,
    )
    .await;
    // More requests, which h2 alone would read and start at once.
    attacker
        .write_all(&requests(event, first, LATER_REQUESTS))
        .await
        .unwrap();
    until(
        "the guard holding the attacker's reads (or the server starting its later calls)",
        &budget,
        || budget.held_reads() > 0 || budget.calls() - before > u64::from(first),
    )
    .await;
    // The normal client, on its own connection, is served meanwhile (and its call is
    // one more).
    normal
        .get_event(pb::GetEventRequest { event_id: 1 })
        .await
        .unwrap();
    let started = budget.calls() - before - 1;
    assert!(
        started <= u64::from(first),
        "{started} of the attacker's calls started: only its first {first} requests may be read"
    );
    // What the server holds for it: at most its first answers.
    // (The normal client's small answer may be among them.)
    let bound = (usize::try_from(first).unwrap() + 1) * answer;
    assert!(budget.peak() <= bound, "{} > {bound}", budget.peak());
    assert!(
        budget.write_blocked() >= 1,
        "the attacker still does not read"
    );

    // Gone, it leaves nothing behind.
    drop(attacker);
    until("the attacker's answers released", &budget, || {
        budget.outstanding() == 0 && budget.write_blocked() == 0
    })
    .await;
    server.stop().await.unwrap();
}

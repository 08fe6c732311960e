//! What the kernel takes of a never-reading peer's answers
//! ([`netkit::config::MAX_UNSENT_BYTES`], set as `TCP_NOTSENT_LOWAT` on every accepted
//! socket by `grpc::incoming`): the `quartet abuse` gRPC no-read finding (issue 18) that
//! the kernel took over a megabyte of answers per connection (loopback's send buffer)
//! before the server's writes to a peer that never reads stopped, so the write-stall
//! clock started late and the guard kept reading (and the server kept answering) that
//! peer's requests meanwhile. Here the server's sockets keep the kernel's own send
//! buffer, as in production, and what is checked is bytes alone: what the server's
//! socket took by the time its writes blocked, and that it takes no more.
//!
//! Its own test binary: it reads `netkit::connections::socket_totals`, which counts
//! every accepted connection of the process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::raw_h2::{biggest_seat_map, never_reading_client, requests, until};
use netkit::connections::socket_totals;
use netkit::send_budget::{SendBudget, SendBudgetConfig};

/// Answer bytes asked for: twice what the kernel's send buffer takes at most
/// (`tcp_wmem`'s maximum, 4 MiB on the machines here), so that without the cap the
/// kernel's buffer, not the peer's asking, is what fills.
const ASKED_AT_LEAST: usize = 8 << 20;
/// The peer's receive buffer (`never_reading_client` asks for 4 KiB; the kernel
/// doubles it).
const PEER_BUFFER: usize = 4 << 10;

#[tokio::test]
async fn a_never_reading_peer_gets_no_more_than_the_unsent_cap_from_the_kernel() {
    let service = common::generate();
    let event = biggest_seat_map(&service).await;
    let answer = {
        use domain::Ticketing as _;
        let map = service.get_seat_map(domain::EventId(event)).await.unwrap();
        prost::Message::encoded_len(&grpc::pb::GetSeatMapResponse::from(map))
    };
    let config = grpc::Config::default();
    let budget = SendBudget::new(SendBudgetConfig::new(&config.http2));
    let api: domain::SharedTicketing = Arc::new(service);
    let server = common::serve_with_budget(api, config, &budget).await;
    let asked = u32::try_from(ASKED_AT_LEAST / answer + 1).unwrap();
    let (_, written_before) = socket_totals();

    let attacker = never_reading_client(server.addr, requests(event, 0, asked)).await;
    until(
        "the server's writes to the attacker blocked",
        &budget,
        || budget.write_blocked() >= 1,
    )
    .await;
    // The cap, one segment the kernel may fill past it, the peer's window, and the
    // frames around the answers (SETTINGS, HEADERS, trailers: a few hundred bytes).
    let bound =
        netkit::config::MAX_UNSENT_BYTES as usize + (64 << 10) + 4 * PEER_BUFFER + (16 << 10);
    let written = || usize::try_from(socket_totals().1 - written_before).unwrap();
    assert!(
        written() <= bound,
        "the socket took {} bytes for a peer that read none (at most {bound}: is \
         TCP_NOTSENT_LOWAT not set?)",
        written()
    );
    // And no more later: with the cap the peer's window never opens again, so this
    // cannot fail spuriously; without it a block seen early (before the send buffer
    // grew) passes above, and the kernel goes on taking answers, past the bound.
    let grew = tokio::time::timeout(Duration::from_secs(1), async {
        while written() <= bound {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        grew.is_err(),
        "the socket took {} bytes for a peer that read none (at most {bound})",
        written()
    );
    assert!(
        budget.write_blocked() >= 1,
        "the attacker still does not read"
    );

    drop(attacker);
    until("the attacker's answers released", &budget, || {
        budget.outstanding() == 0 && budget.write_blocked() == 0
    })
    .await;
    server.stop().await.unwrap();
}

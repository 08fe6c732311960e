//! The server's connections gather their writes (`netkit::coalesce_writes`, installed
//! in `grpc::incoming`): many server streams and concurrent unary calls on one HTTP/2
//! connection still get every message, intact and in order. The write counts themselves
//! are checked by hand with strace (see the report of issue 15); here, correctness.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use domain::EventStatus;
use futures::StreamExt;
use grpc::pb;
use grpc::pb::ticketing_client::TicketingClient;

/// How long the whole fan-out may take before the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(30);
/// Subscribers on the one connection (with the unary calls, under the server's 256
/// concurrent streams per connection: a call beyond it would wait for a stream slot).
const WATCHERS: usize = 150;
/// Changes made while they watch (below the per-subscriber buffer, so none lags).
const CHANGES: u32 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_watcher_on_one_connection_gets_every_change_in_order() {
    tokio::time::timeout(DEADLINE, fan_out())
        .await
        .expect("not every message arrived within the deadline");
}

async fn fan_out() {
    let (server, service) = common::spawn().await;
    let data = service.store().catalog().dataset();
    let event = data
        .events
        .iter()
        .find(|e| {
            e.status == EventStatus::OnSale
                && data.venues[(e.venue_id.0 - 1) as usize].capacity >= CHANGES
        })
        .unwrap()
        .id
        .0;
    // One channel: one HTTP/2 connection carries every stream.
    let channel = common::channel(&server).await;

    let mut streams = Vec::new();
    for _ in 0..WATCHERS {
        let mut client = TicketingClient::new(channel.clone());
        let stream = client
            .watch_availability(pb::WatchAvailabilityRequest {
                event_id: event,
                from_version: None,
            })
            .await
            .unwrap()
            .into_inner();
        streams.push(stream);
    }
    let mut readers = Vec::new();
    for mut stream in streams {
        readers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while got.len() < 1 + CHANGES as usize {
                let update = stream.next().await.expect("ended").expect("failed");
                got.push((update.kind, update.version, update.seats.len()));
            }
            got
        }));
    }

    let mut writer = TicketingClient::new(channel.clone());
    for seat in 1..=CHANGES {
        writer
            .hold_seats(pb::HoldSeatsRequest {
                event_id: event,
                seat_ids: vec![seat],
                customer: Some(pb::Customer {
                    name: "Ada".into(),
                    email: format!("ada{seat}@example.org"),
                }),
                request_id: None,
            })
            .await
            .unwrap();
    }
    // Concurrent unary calls on the same connection, answered while the streams run.
    let unary: Vec<_> = (0..64)
        .map(|_| {
            let mut client = TicketingClient::new(channel.clone());
            tokio::spawn(async move {
                client
                    .get_event(pb::GetEventRequest { event_id: event })
                    .await
                    .unwrap()
                    .into_inner()
            })
        })
        .collect();

    {
        for reader in readers {
            let got = reader.await.unwrap();
            assert_eq!(got[0].0, pb::UpdateKind::Snapshot as i32);
            let base = got[0].1;
            for (n, &(kind, version, seats)) in got[1..].iter().enumerate() {
                assert_eq!(kind, pb::UpdateKind::Change as i32);
                assert_eq!(version, base + 1 + n as u64, "gap or reorder");
                assert_eq!(seats, 1);
            }
        }
        for call in unary {
            let answer = call.await.unwrap();
            assert_eq!(answer.event.unwrap().id, event);
        }
    }
    server.stop().await.unwrap();
}

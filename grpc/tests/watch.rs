//! Live availability over gRPC (`WatchAvailability`), against a real server on a loopback
//! port: the shared watch checks through `grpc::Client` (with the in-process writer for
//! the lag check), the subscription released when the client drops the stream, the wire
//! shape as a generated tonic client sees it, refusals with the usual status details,
//! and the stream ending with an error (never hanging) when the server drains or the
//! connection breaks.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::conformance::{self, Options};
use domain::{AvailabilityStream, ErrorCode, EventId, EventStatus, Service, Ticketing};
use futures::StreamExt;
use grpc::pb;
use grpc::pb::ticketing_client::TicketingClient;
use netkit::running::RunningServer;
use tokio::net::TcpListener;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// How long any one message or shutdown may take before the test fails instead of
/// hanging.
const DEADLINE: Duration = Duration::from_secs(10);

fn on_sale_event(service: &Service) -> u64 {
    let data = service.store().catalog().dataset();
    data.events
        .iter()
        .find(|e| {
            e.status == EventStatus::OnSale
                && data.venues[(e.venue_id.0 - 1) as usize].capacity >= 20
        })
        .unwrap()
        .id
        .0
}

fn hold(event_id: u64, seats: &[u32]) -> pb::HoldSeatsRequest {
    pb::HoldSeatsRequest {
        event_id,
        seat_ids: seats.to_vec(),
        customer: Some(pb::Customer {
            name: "Ada".into(),
            email: "ada@example.org".into(),
        }),
        request_id: None,
    }
}

fn watch_request(event_id: u64, from_version: Option<u64>) -> pb::WatchAvailabilityRequest {
    pb::WatchAvailabilityRequest {
        event_id,
        from_version,
    }
}

/// The next message of a raw tonic stream, within the deadline.
async fn next_raw(stream: &mut tonic::Streaming<pb::AvailabilityUpdate>) -> pb::AvailabilityUpdate {
    tokio::time::timeout(DEADLINE, stream.next())
        .await
        .expect("no message within the deadline")
        .expect("the stream ended")
        .expect("the stream failed")
}

/// The next item of a domain stream, within the deadline (`None`: it ended).
async fn next_item(
    stream: &mut AvailabilityStream,
) -> Option<domain::Result<domain::AvailabilityUpdate>> {
    tokio::time::timeout(DEADLINE, stream.next())
        .await
        .expect("the stream neither yielded nor ended within the deadline")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_client_passes_the_watch_checks() {
    let (server, service) = common::spawn().await;
    let client: Arc<dyn Ticketing> = Arc::new(grpc::Client::connect(server.addr).await.unwrap());
    // The same store the server serves, written in-process: fast enough to outrun a
    // subscriber that reads nothing, so the lag check runs too.
    let writer: Arc<dyn Ticketing> = Arc::new(service.clone());
    conformance::run_watch(
        client,
        common::SPEC,
        Options {
            writer: Some(writer),
            ..Default::default()
        },
    )
    .await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_subscription_is_released_when_the_client_drops_the_stream() {
    let (server, service) = common::spawn().await;
    let client = grpc::Client::connect(server.addr).await.unwrap();
    conformance::subscription_is_released_when_dropped(&client, service.store()).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_generated_client_sees_a_snapshot_then_changes_with_versions() {
    let (server, service) = common::spawn().await;
    let event = on_sale_event(&service);
    let mut client = TicketingClient::new(common::channel(&server).await);
    let mut stream = client
        .watch_availability(watch_request(event, None))
        .await
        .unwrap()
        .into_inner();

    let snapshot = next_raw(&mut stream).await;
    assert_eq!(snapshot.event_id, event);
    assert_eq!(snapshot.kind, pb::UpdateKind::Snapshot as i32);
    assert!(
        snapshot.seats.is_empty(),
        "a snapshot carries sections only"
    );
    assert!(!snapshot.sections.is_empty());
    assert!(snapshot.commit_time.is_some());
    let seats_before: u32 = snapshot.sections.iter().map(|s| s.available).sum();

    let booking = client
        .hold_seats(hold(event, &[4, 5]))
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap();
    let held = next_raw(&mut stream).await;
    assert_eq!(held.kind, pb::UpdateKind::Change as i32);
    assert_eq!(held.version, snapshot.version + 1);
    let seats: Vec<(u32, i32)> = held.seats.iter().map(|s| (s.seat_id, s.state)).collect();
    let state = pb::SeatState::Held as i32;
    assert_eq!(seats, [(4, state), (5, state)]);
    let seats_after: u32 = held.sections.iter().map(|s| s.available).sum();
    assert_eq!(seats_after + 2, seats_before);

    client
        .cancel_booking(pb::CancelBookingRequest {
            booking_id: booking.id,
        })
        .await
        .unwrap();
    let released = next_raw(&mut stream).await;
    assert_eq!(
        (released.kind, released.version),
        (pb::UpdateKind::Change as i32, snapshot.version + 2)
    );
    assert!(
        released
            .seats
            .iter()
            .all(|s| s.state == pb::SeatState::Available as i32)
    );

    // Resuming from the snapshot's version replays both changes, and no snapshot.
    let mut resumed = client
        .watch_availability(watch_request(event, Some(snapshot.version)))
        .await
        .unwrap()
        .into_inner();
    for n in 1..=2 {
        let change = next_raw(&mut resumed).await;
        assert_eq!(
            (change.kind, change.version),
            (pb::UpdateKind::Change as i32, snapshot.version + n)
        );
    }
    drop((stream, resumed));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn refusals_are_the_call_status_with_the_usual_details() {
    let (server, service) = common::spawn().await;
    let event = on_sale_event(&service);
    let mut raw = TicketingClient::new(common::channel(&server).await);
    let client = grpc::Client::connect(server.addr).await.unwrap();

    // A version ahead of the event's: INVALID_ARGUMENT naming from_version.
    let version = service.get_seat_map(EventId(event)).await.unwrap().version;
    let status = raw
        .watch_availability(watch_request(event, Some(version + 1)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let info = status.get_details_error_info().unwrap();
    assert_eq!(
        (info.reason.as_str(), info.domain.as_str()),
        ("INVALID_ARGUMENT", grpc::error::ERROR_DOMAIN)
    );
    assert_eq!(info.metadata["field"], "from_version");
    assert_eq!(
        status.get_details_bad_request().unwrap().field_violations[0].field,
        "from_version"
    );
    let Err(error) = client
        .watch_availability(EventId(event), Some(version + 1))
        .await
    else {
        panic!("a future version was accepted");
    };
    assert!(
        matches!(&error, domain::Error::InvalidArgument { field, .. } if field == "from_version"),
        "{error:?}"
    );

    // An unknown event: NOT_FOUND with the resource.
    let missing = u64::try_from(service.store().catalog().dataset().events.len()).unwrap() + 1;
    let status = raw
        .watch_availability(watch_request(missing, None))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.get_details_error_info().unwrap().reason, "NOT_FOUND");
    assert_eq!(
        status.get_details_resource_info().unwrap().resource_type,
        "event"
    );
    let Err(error) = client.watch_availability(EventId(missing), None).await else {
        panic!("an unknown event was watched");
    };
    assert_eq!(error, domain::Error::not_found("event", missing));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_draining_server_ends_the_stream_with_unavailable() {
    let service = common::generate();
    // A grace far longer than the deadline: if open watches held the drain, stopping
    // would time out below instead of finishing.
    let mut config = grpc::Config::default();
    config.server.shutdown_grace = Duration::from_secs(3_600);
    let api = Arc::new(service.clone());
    let server =
        RunningServer::spawn(move |listener, stop| grpc::serve(listener, api, config, stop))
            .await
            .unwrap();
    let client = grpc::Client::connect(server.addr).await.unwrap();
    let event = EventId(on_sale_event(&service));
    let mut stream = client.watch_availability(event, None).await.unwrap();
    let snapshot = next_item(&mut stream).await.unwrap().unwrap();
    assert_eq!(snapshot.kind, domain::UpdateKind::Snapshot);

    let stopped = tokio::spawn(server.stop());
    let error = next_item(&mut stream)
        .await
        .expect("the stream ended without an error")
        .expect_err("a message instead of the shutdown error");
    assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
    assert!(error.to_string().contains("shutting down"), "{error}");
    assert!(next_item(&mut stream).await.is_none(), "the stream goes on");
    tokio::time::timeout(DEADLINE, stopped)
        .await
        .expect("the drain waited on the watch")
        .unwrap()
        .unwrap();
    // Nothing is left subscribed on the server's side.
    assert_eq!(service.store().watchers(event), 0);
}

/// A loopback relay to `target` for one connection, and the task to abort to cut it.
async fn relay(
    target: std::net::SocketAddr,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut inbound, _) = listener.accept().await.unwrap();
        let mut outbound = tokio::net::TcpStream::connect(target).await.unwrap();
        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    });
    (addr, task)
}

#[tokio::test]
async fn a_broken_connection_ends_the_stream_with_one_unavailable_error() {
    let (server, service) = common::spawn().await;
    let (addr, cut) = relay(server.addr).await;
    let client = grpc::Client::connect(addr).await.unwrap();
    let event = EventId(on_sale_event(&service));
    let mut stream = client.watch_availability(event, None).await.unwrap();
    let snapshot = next_item(&mut stream).await.unwrap().unwrap();
    assert_eq!(snapshot.kind, domain::UpdateKind::Snapshot);
    assert_eq!(service.store().watchers(event), 1);

    // Both sockets of the relay close at once: neither side says goodbye.
    cut.abort();
    let error = next_item(&mut stream)
        .await
        .expect("the stream ended without an error")
        .expect_err("a message after the connection broke");
    assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
    assert!(next_item(&mut stream).await.is_none(), "the stream goes on");

    // The server noticed too, and let the subscription go.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while service.store().watchers(event) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server kept the subscription of a dead connection"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop().await.unwrap();
}

/// One change pair (hold seat 3, cancel it) through the in-process service.
async fn hold_and_cancel(service: &Service, event: u64) {
    let held = service
        .hold_seats(domain::HoldRequest {
            event_id: EventId(event),
            seat_ids: vec![domain::SeatId(3)],
            customer: domain::Customer {
                name: "Ada".into(),
                email: "ada@example.org".into(),
            },
            idempotency_key: None,
        })
        .await
        .unwrap();
    service.cancel_booking(held.id).await.unwrap();
}

/// How much piles up between the server and a client that reads nothing: the writer
/// goes only as fast as a second subscriber (on its own connection) keeps up, so the
/// stalled one's server side is never outrun, only blocked by HTTP/2 flow control. What
/// reaches the stalled client before its RESYNC is then all the buffering on the way;
/// the lag check's 100 000 changes must exceed it. The reader that keeps up is never
/// resynced: one stalled subscriber does not hurt another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stalls_gets_a_resync_after_a_bounded_backlog() {
    use prost::Message;

    /// Changes written before waiting for the reader that keeps up: well under the
    /// store's 256-message buffer, so that reader cannot lag.
    const BATCH: u64 = 64;

    let (server, service) = common::spawn().await;
    let event = on_sale_event(&service);
    let mut stalled = TicketingClient::<Channel>::new(common::channel(&server).await)
        .watch_availability(watch_request(event, None))
        .await
        .unwrap()
        .into_inner();
    let start = next_raw(&mut stalled).await.version;

    let mut live = TicketingClient::<Channel>::new(common::channel(&server).await)
        .watch_availability(watch_request(event, Some(start)))
        .await
        .unwrap()
        .into_inner();
    let (seen_tx, mut seen) = tokio::sync::watch::channel(start);
    let reader = tokio::spawn(async move {
        while let Some(update) = live.next().await {
            let update = update.unwrap();
            assert_eq!(
                update.kind,
                pb::UpdateKind::Change as i32,
                "the reader that keeps up got {update:?}"
            );
            seen_tx.send_replace(update.version);
        }
    });

    let changes = conformance::LAG_CHANGES as u64;
    let mut written = start;
    while written < start + changes {
        for _ in 0..BATCH / 2 {
            hold_and_cancel(&service, event).await;
        }
        written += BATCH;
        tokio::time::timeout(DEADLINE, seen.wait_for(|v| *v >= written))
            .await
            .expect("the reader that keeps up fell behind")
            .unwrap();
    }
    reader.abort();

    let (mut delivered, mut bytes) = (0u64, 0usize);
    let resync = loop {
        let update = next_raw(&mut stalled).await;
        if update.kind == pb::UpdateKind::Resync as i32 {
            break update;
        }
        delivered += 1;
        assert_eq!(update.version, start + delivered, "a gap before the resync");
        // The gRPC frame: a 5-byte prefix and the message.
        bytes += 5 + update.encoded_len();
    };
    assert_eq!(resync.version, start + delivered);
    assert!(
        delivered > 0 && delivered < changes,
        "{delivered} of {changes} changes arrived before the resync"
    );
    let end = tokio::time::timeout(DEADLINE, stalled.next())
        .await
        .unwrap();
    assert!(
        end.is_none(),
        "the stream must end with OK after a resync: {end:?}"
    );
    eprintln!(
        "stalled reader: {delivered} of {changes} changes ({bytes} bytes of gRPC frames, \
         {} bytes each) arrived before the resync",
        bytes / usize::try_from(delivered).unwrap()
    );
    server.stop().await.unwrap();
}

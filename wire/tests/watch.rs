//! Live availability on the wire (PROTOCOL.md §6.7), against a real server on a loopback
//! port: the shared watch checks, the subscription being released, the documented
//! vectors byte for byte, pushes and calls sharing one connection, the subscription
//! cap, UNSUBSCRIBE, malformed SUBSCRIBE and UNSUBSCRIBE payloads, a consumer that falls
//! behind, and a connection lost mid-stream on either side.

// A failure in a helper is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use domain::conformance::Options;
use domain::{
    AvailabilityStream, AvailabilityUpdate, Booking, BookingId, Customer, ErrorCode, Event,
    EventDetail, EventId, EventPage, EventStatus, HoldRequest, Limits, ListEventsRequest,
    ManualClock, Performer, PerformerId, SearchRequest, SearchResults, SeatId, SeatMap, Service,
    Ticketing, UpdateKind, Venue, VenueId,
};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use wire::frame::{Frame, Kind, Opcode};
use wire::messages as m;

/// How long any one message may take before a check fails.
const DEADLINE: Duration = Duration::from_secs(10);

fn hold(event: EventId, seat: u32) -> HoldRequest {
    HoldRequest {
        event_id: event,
        seat_ids: vec![SeatId(seat)],
        customer: Customer {
            name: "Ada".to_owned(),
            email: "ada@example.com".to_owned(),
        },
        idempotency_key: None,
    }
}

/// The first `n` on-sale events of `api`, the ones a hold can change.
async fn on_sale(api: &dyn Ticketing, n: usize) -> Vec<EventId> {
    let mut found = Vec::new();
    for id in 1.. {
        let event = api.get_event(EventId(id)).await.unwrap();
        if event.status == EventStatus::OnSale {
            found.push(event.id);
            if found.len() == n {
                return found;
            }
        }
    }
    unreachable!()
}

async fn next(stream: &mut AvailabilityStream) -> AvailabilityUpdate {
    match tokio::time::timeout(DEADLINE, stream.next()).await {
        Ok(Some(Ok(update))) => update,
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn ends(stream: &mut AvailabilityStream) {
    match tokio::time::timeout(DEADLINE, stream.next()).await {
        Ok(None) => {}
        other => panic!("expected the end of the stream, got {other:?}"),
    }
}

/// A fresh service, the wire server serving it, and a client of that server.
async fn setup(
    config: wire::Config,
) -> (Arc<Service>, netkit::running::RunningServer, wire::Client) {
    let service = Arc::new(common::service());
    let server = common::serve(service.clone(), config).await;
    let client = wire::Client::connect(server.addr).await.unwrap();
    (service, server, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_watch_conforms() {
    let (service, server, client) = setup(wire::Config::default()).await;
    let options = Options {
        writer: Some(service.clone()),
        ..Options::default()
    };
    domain::conformance::run_watch(Arc::new(client), common::SPEC, options).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_is_released_when_dropped() {
    let (service, server, client) = setup(wire::Config::default()).await;
    domain::conformance::subscription_is_released_when_dropped(&client, service.store()).await;
    server.stop().await.unwrap();
}

// ---- the vectors ---------------------------------------------------------------------

/// Forwards to a service, but lets its availability streams yield only their first
/// message freely: every later one waits for a permit the test gives. The service's own
/// feed does the rest, so a test can make a subscription fall behind at a known version.
struct Paced {
    inner: Arc<Service>,
    permits: Arc<Semaphore>,
}

#[async_trait]
impl Ticketing for Paced {
    async fn get_event(&self, id: EventId) -> domain::Result<Event> {
        self.inner.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> domain::Result<EventPage> {
        self.inner.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> domain::Result<SearchResults> {
        self.inner.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> domain::Result<EventDetail> {
        self.inner.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> domain::Result<Venue> {
        self.inner.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> domain::Result<Performer> {
        self.inner.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> domain::Result<SeatMap> {
        self.inner.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> domain::Result<Booking> {
        self.inner.hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> domain::Result<Booking> {
        self.inner.get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, version: u64) -> domain::Result<Booking> {
        self.inner.confirm_booking(id, version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> domain::Result<Booking> {
        self.inner.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> domain::Result<AvailabilityStream> {
        let inner = self
            .inner
            .watch_availability(event_id, from_version)
            .await?;
        let permits = Arc::clone(&self.permits);
        let paced = futures::stream::unfold(
            (inner, permits, true),
            |(mut inner, permits, first)| async move {
                if !first {
                    permits.acquire().await.unwrap().forget();
                }
                let item = inner.next().await?;
                Some((item, (inner, permits, false)))
            },
        );
        Ok(Box::pin(paced))
    }
}

/// The clock the vectors' server runs on: 2027-01-15T08:00:00Z.
const VECTOR_CLOCK_MICROS: i64 = 1_800_000_000_000_000;

/// Sends `request` and checks the next frame is `response`, byte for byte.
async fn exchange(stream: &mut TcpStream, request: &str, response: &str) {
    stream.write_all(&common::vector(request)).await.unwrap();
    expect(stream, response).await;
}

/// Checks the next frame is the vector `name`, byte for byte.
async fn expect(stream: &mut TcpStream, name: &str) {
    let got = common::read_frame_bytes(stream).await;
    assert_eq!(
        got,
        common::vector(name),
        "{name} differs; the server sent:\n{}",
        common::hex(&got)
    );
}

/// The SUBSCRIBE, PUSH and UNSUBSCRIBE vectors of PROTOCOL.md, on the documented dataset
/// with the server's clock fixed at the documented time: the snapshot, the change a hold
/// of seat 0 makes, the RESYNC of a subscription that fell more than the store's buffer
/// behind, and an UNSUBSCRIBE of that (already ended) subscription.
#[tokio::test]
async fn watch_vectors_match_the_server() {
    let clock = chrono::DateTime::from_timestamp_micros(VECTOR_CLOCK_MICROS).unwrap();
    let service = Arc::new(Service::with_clock(
        domain::Dataset::generate(10, 42),
        Limits::default(),
        Arc::new(ManualClock::new(clock)),
    ));
    let permits = Arc::new(Semaphore::new(0));
    let paced = Arc::new(Paced {
        inner: service.clone(),
        permits: permits.clone(),
    });
    let server = common::serve(paced, wire::Config::default()).await;
    let mut stream = common::handshaken(server.addr).await;

    exchange(&mut stream, "subscribe-request", "subscribe-response").await;
    expect(&mut stream, "snapshot-push").await;

    let held = service.hold_seats(hold(EventId(1), 0)).await.unwrap();
    permits.add_permits(1);
    expect(&mut stream, "change-push").await;

    // More changes than the store buffers for a subscriber, while the subscription's
    // task is held: it falls behind at version 1, and the store says so.
    service.cancel_booking(held.id).await.unwrap();
    for _ in 0..=Limits::WATCH_BUFFER / 2 {
        let held = service.hold_seats(hold(EventId(1), 1)).await.unwrap();
        service.cancel_booking(held.id).await.unwrap();
    }
    permits.add_permits(1);
    expect(&mut stream, "resync-push").await;

    exchange(&mut stream, "unsubscribe-request", "unsubscribe-response").await;
    server.stop().await.unwrap();
}

// ---- one connection, many things -----------------------------------------------------

/// Calls on the connection that carries a subscription are answered while its PUSH
/// frames flow, and the pushes arrive complete and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_pushes_share_one_connection() {
    let (_service, server, client) = setup(wire::Config::default()).await;
    let events = on_sale(&client, 2).await;
    let mut first = client.watch_availability(events[0], None).await.unwrap();
    let mut second = client.watch_availability(events[1], None).await.unwrap();
    let v1 = next(&mut first).await.version;
    let v2 = next(&mut second).await.version;
    for n in 1..=20u64 {
        // Every call goes over the one connection the pushes use.
        let booking = client.hold_seats(hold(events[0], 10)).await.unwrap();
        assert_eq!(client.get_event(events[1]).await.unwrap().id, events[1]);
        let change = next(&mut first).await;
        assert_eq!(
            (change.kind, change.version),
            (UpdateKind::Change, v1 + 2 * n - 1)
        );
        client.cancel_booking(booking.id).await.unwrap();
        let change = next(&mut first).await;
        assert_eq!(change.version, v1 + 2 * n);
        assert_eq!(change.seats[0].seat_id, SeatId(10));
    }
    let booking = client.hold_seats(hold(events[1], 3)).await.unwrap();
    let change = next(&mut second).await;
    assert_eq!((change.version, change.seats.len()), (v2 + 1, 1));
    client.cancel_booking(booking.id).await.unwrap();
    server.stop().await.unwrap();
}

/// A consumer that reads nothing while hundreds of changes happen does not stall the
/// connection's calls; when it reads, it gets every queued change in order, then a
/// RESYNC naming the last of them, then the end; and the subscription is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_falls_behind_gets_a_resync_and_stalls_nothing() {
    let (service, server, client) = setup(wire::Config::default()).await;
    let event = on_sale(&client, 3).await[2];
    let mut slow = client.watch_availability(event, None).await.unwrap();
    let start = next(&mut slow).await.version;
    let before = service.store().watchers(event);
    let changes = 2 * (wire::config::CLIENT_SUBSCRIPTION_QUEUE + Limits::WATCH_BUFFER);
    for _ in 0..changes / 2 {
        let held = service.hold_seats(hold(event, 4)).await.unwrap();
        service.cancel_booking(held.id).await.unwrap();
    }
    // The reader routes frames to callers while `slow` reads nothing.
    for _ in 0..10 {
        tokio::time::timeout(DEADLINE, client.ping())
            .await
            .unwrap()
            .unwrap();
    }
    let mut seen = start;
    loop {
        let update = next(&mut slow).await;
        match update.kind {
            UpdateKind::Change => {
                assert_eq!(update.version, seen + 1, "no gap");
                seen = update.version;
            }
            UpdateKind::Resync => {
                assert_eq!(update.version, seen, "the resync names the last version");
                break;
            }
            UpdateKind::Snapshot => panic!("a snapshot mid-stream"),
        }
    }
    assert!(
        seen < start + changes as u64,
        "{changes} changes and no resync"
    );
    ends(&mut slow).await;
    common::wait_for("the subscription to be released", || {
        service.store().watchers(event) == before - 1
    })
    .await;
    server.stop().await.unwrap();
}

// ---- limits and UNSUBSCRIBE ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_cap_is_enforced_per_connection() {
    let config = wire::Config {
        max_subscriptions: 2,
        ..wire::Config::default()
    };
    let (_service, server, client) = setup(config).await;
    let event = on_sale(&client, 1).await[0];
    let first = client.watch_availability(event, None).await.unwrap();
    let _second = client.watch_availability(event, None).await.unwrap();
    let error = client
        .watch_availability(event, None)
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::LimitExceeded, "{error:?}");
    let details = error.details();
    assert_eq!(
        details.what.as_deref(),
        Some(wire::config::SUBSCRIPTIONS_WHAT)
    );
    assert_eq!(details.limit, Some(2));
    // The connection still serves calls, and a dropped stream frees its place.
    assert_eq!(client.get_event(event).await.unwrap().id, event);
    drop(first);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match client.watch_availability(event, None).await {
            Ok(_third) => break,
            Err(e) if e.code() == ErrorCode::LimitExceeded => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the place was never freed"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    // Another connection has places of its own.
    let other = wire::Client::connect(server.addr).await.unwrap();
    let _elsewhere = other.watch_availability(event, None).await.unwrap();
    server.stop().await.unwrap();
}

fn unsubscribe_bytes(request_id: u32, subscription_id: u32) -> Bytes {
    common::request_bytes(
        Opcode::Unsubscribe,
        request_id,
        &m::UnsubscribeRequest { subscription_id },
    )
}

fn subscribe_bytes(request_id: u32, event_id: u64, from_version: Option<u64>) -> Bytes {
    common::request_bytes(
        Opcode::Subscribe,
        request_id,
        &m::SubscribeRequest {
            event_id,
            from_version,
        },
    )
}

fn ended(frame: &Frame) -> bool {
    assert_eq!(
        (frame.kind, frame.opcode),
        (Kind::Response, Opcode::Unsubscribe as u16),
        "{frame:?}"
    );
    let answer: m::UnsubscribeResponse = postcard::from_bytes(&frame.payload).unwrap();
    answer.ended
}

/// Reads frames until the one answering `request_id`, asserting none of them is a PUSH
/// of `subscription`.
async fn answer_without_pushes(
    stream: &mut TcpStream,
    request_id: u32,
    subscription: u32,
) -> Frame {
    loop {
        let frame = common::read_frame(stream).await;
        assert!(
            !(frame.kind == Kind::Push && frame.request_id == subscription),
            "a PUSH after the subscription ended: {frame:?}"
        );
        if frame.request_id == request_id && frame.kind != Kind::Push {
            return frame;
        }
    }
}

/// UNSUBSCRIBE ends a live subscription (`ended: true`), after which nothing more is
/// pushed for it and its id is free; again, or for an id that never subscribed, it
/// answers `ended: false`. While it lives, the subscription's id is in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_ends_a_subscription_and_is_idempotent() {
    let service = Arc::new(common::service());
    let server = common::serve(service.clone(), wire::Config::default()).await;
    let event = on_sale(service.as_ref(), 4).await[3];
    let before = service.store().watchers(event);
    let mut stream = common::handshaken(server.addr).await;
    stream
        .write_all(&subscribe_bytes(5, event.0, None))
        .await
        .unwrap();
    let ok = common::read_frame(&mut stream).await;
    assert_eq!(
        (ok.kind, ok.request_id, ok.payload.len()),
        (Kind::Response, 5, 0)
    );
    let snapshot = common::read_frame(&mut stream).await;
    assert_eq!((snapshot.kind, snapshot.request_id), (Kind::Push, 5));
    assert_eq!(service.store().watchers(event), before + 1);

    // Its id is in flight.
    stream
        .write_all(&common::get_event_bytes(5, 1))
        .await
        .unwrap();
    let refused = common::error_of(&common::read_frame(&mut stream).await);
    assert_eq!(refused.details().field.as_deref(), Some("request_id"));

    stream.write_all(&unsubscribe_bytes(6, 5)).await.unwrap();
    assert!(ended(&answer_without_pushes(&mut stream, 6, 5).await));
    assert_eq!(
        service.store().watchers(event),
        before,
        "released by the answer"
    );
    let held = service.hold_seats(hold(event, 1)).await.unwrap();
    service.cancel_booking(held.id).await.unwrap();
    for (request_id, subscription) in [(7, 5), (8, 999), (9, 0)] {
        stream
            .write_all(&unsubscribe_bytes(request_id, subscription))
            .await
            .unwrap();
        assert!(!ended(
            &answer_without_pushes(&mut stream, request_id, 5).await
        ));
    }
    // The id is free again.
    stream
        .write_all(&common::get_event_bytes(5, 1))
        .await
        .unwrap();
    let answer = answer_without_pushes(&mut stream, 5, 5).await;
    assert_eq!(answer.kind, Kind::Response);
    server.stop().await.unwrap();
}

/// Every malformed or refused SUBSCRIBE and UNSUBSCRIBE gets one typed ERROR frame with
/// its own id and opcode, and the connection stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_subscriptions_get_typed_errors() {
    let service = Arc::new(common::service());
    let server = common::serve(service.clone(), wire::Config::default()).await;
    let mut stream = common::handshaken(server.addr).await;
    let raw = |opcode: Opcode, id: u32, payload: &[u8]| {
        wire::codec::encode_frame(Frame::request(opcode, id, payload.to_vec()), 1 << 20).unwrap()
    };
    let missing = common::SPEC.events as u64 + 1;
    let ahead = postcard::to_allocvec(&m::SubscribeRequest {
        event_id: 1,
        from_version: Some(u64::MAX),
    })
    .unwrap();
    let cases: Vec<(Bytes, ErrorCode, &str)> = vec![
        (
            raw(Opcode::Subscribe, 11, &[]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Subscribe, 12, &[1]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Subscribe, 13, &[1, 2]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Subscribe, 14, &[0xff; 11]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Subscribe, 15, &[1, 0, 0]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Subscribe, 16, &[1, 1]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Unsubscribe, 17, &[]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Unsubscribe, 18, &[0xff; 6]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (
            raw(Opcode::Unsubscribe, 19, &[5, 0]),
            ErrorCode::InvalidArgument,
            "payload",
        ),
        (subscribe_bytes(20, missing, None), ErrorCode::NotFound, ""),
        (subscribe_bytes(21, 0, None), ErrorCode::NotFound, ""),
        (
            raw(Opcode::Subscribe, 22, &ahead),
            ErrorCode::InvalidArgument,
            "from_version",
        ),
    ];
    for (bytes, code, field) in cases {
        stream.write_all(&bytes).await.unwrap();
        let frame = common::read_frame(&mut stream).await;
        let sent = common::read_frame_of(&bytes);
        assert_eq!(
            (frame.opcode, frame.request_id),
            (sent.opcode, sent.request_id)
        );
        let error = common::error_of(&frame);
        assert_eq!(error.code(), code, "{error:?}");
        if !field.is_empty() {
            assert_eq!(error.details().field.as_deref(), Some(field), "{error:?}");
        }
    }
    // A client may not send PUSH frames.
    let push = wire::codec::encode_frame(Frame::push(23, Bytes::new()), 1 << 20).unwrap();
    stream.write_all(&push).await.unwrap();
    let error = common::error_of(&common::read_frame(&mut stream).await);
    assert_eq!(error.details().field.as_deref(), Some("kind"));
    // Still open, and nothing was left subscribed.
    stream
        .write_all(&common::request_bytes(Opcode::Ping, 24, &()))
        .await
        .unwrap();
    let pong = common::read_frame(&mut stream).await;
    assert_eq!((pong.kind, pong.request_id), (Kind::Response, 24));
    assert_eq!(service.store().watchers(EventId(1)), 0);
    server.stop().await.unwrap();
}

// ---- losing the connection -----------------------------------------------------------

/// The server going away mid-stream: the client's stream yields one `UNAVAILABLE` error,
/// then ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_ends_the_stream_with_one_error() {
    let (_service, server, client) = setup(wire::Config::default()).await;
    let event = on_sale(&client, 1).await[0];
    let mut stream = client.watch_availability(event, None).await.unwrap();
    next(&mut stream).await;
    server.stop().await.unwrap();
    match tokio::time::timeout(DEADLINE, stream.next()).await {
        Ok(Some(Err(e))) => assert_eq!(e.code(), ErrorCode::Unavailable, "{e:?}"),
        other => panic!("expected one error, got {other:?}"),
    }
    ends(&mut stream).await;
}

/// A subscriber's connection going away mid-stream: the server drops the subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_releases_the_subscription_of_a_lost_connection() {
    let service = Arc::new(common::service());
    let server = common::serve(service.clone(), wire::Config::default()).await;
    let event = on_sale(service.as_ref(), 5).await[4];
    let mut stream = common::handshaken(server.addr).await;
    stream
        .write_all(&subscribe_bytes(1, event.0, None))
        .await
        .unwrap();
    assert_eq!(common::read_frame(&mut stream).await.kind, Kind::Response);
    assert_eq!(common::read_frame(&mut stream).await.kind, Kind::Push);
    assert_eq!(service.store().watchers(event), 1);
    drop(stream);
    common::wait_for("the subscription to be released", || {
        service.store().watchers(event) == 0
    })
    .await;
    server.stop().await.unwrap();
}

/// The limits §6.7 states are the ones the code enforces.
#[test]
fn the_document_states_the_subscription_limits() {
    let must_say = |text: String| {
        assert!(
            common::PROTOCOL.contains(&text),
            "PROTOCOL.md does not say {text:?}"
        );
    };
    let config = wire::Config::default();
    must_say(format!(
        "fewer than **{} live subscriptions**",
        config.max_subscriptions
    ));
    must_say(format!(
        "LIMIT_EXCEEDED `{}`, limit {}",
        wire::config::SUBSCRIPTIONS_WHAT,
        config.max_subscriptions
    ));
    must_say(format!(
        "| `{}` | {} |",
        wire::config::SUBSCRIPTIONS_WHAT,
        config.max_subscriptions
    ));
    must_say(format!(
        "fewer than\n  **{}** of that subscription's PUSH",
        config.max_queued_pushes
    ));
    must_say(format!(
        "at most {} per\n  subscription",
        config.max_queued_pushes
    ));
    must_say(format!(
        "at most **{} messages** not yet taken",
        Limits::WATCH_BUFFER
    ));
    must_say(format!(
        "newest **{}** changes per event",
        Limits::WATCH_RETAINED
    ));
    must_say(format!(
        "**{} messages** per subscription",
        wire::config::CLIENT_SUBSCRIPTION_QUEUE
    ));
}

//! Drain under load, per protocol: 32 clients, each on its own connection, are inside a
//! `hold_seats` call (held at a gate in the server's `Ticketing`, so "mid-request" is a
//! fact, not a timing) when the server is told to shut down, the way SIGTERM tells a
//! standalone server (`netkit::shutdown` resolves the same future). Then the gate opens.
//!
//! Asserts: every one of the 32 holds completes and is acknowledged (a draining server
//! finishes what it accepted); every acknowledged hold is in the store afterwards (held,
//! under the acknowledged booking id); a call made after the shutdown began either
//! completes or fails with the protocol's shutting-down error, which every client
//! reports as UNAVAILABLE (REST 503 or a refused connection, gRPC UNAVAILABLE, GraphQL's
//! `UNAVAILABLE` code or a refused connection, the wire protocol's closed connection);
//! and the server has stopped within its grace period.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bench::protocol::{self, Protocol};
use domain::{
    AvailabilityStream, Booking, BookingId, BookingStatus, Customer, DatasetSpec, ErrorCode, Event,
    EventDetail, EventId, EventPage, HoldRequest, Limits, ListEventsRequest, Performer,
    PerformerId, Result, SearchRequest, SearchResults, SeatMap, Service, SharedTicketing,
    Ticketing, Venue, VenueId,
};
use netkit::ServerConfig;
use netkit::running::RunningServer;
use tokio::sync::{Notify, Semaphore};

/// Clients mid-request when the shutdown begins.
const CLIENTS: usize = 32;
/// The servers' grace period here.
const GRACE: Duration = Duration::from_secs(5);

/// A `Ticketing` whose holds wait at a gate: it counts the holds waiting, and lets them
/// through once opened. Everything else goes straight to `inner`.
struct Gated {
    inner: Service,
    waiting: AtomicUsize,
    arrived: Notify,
    gate: Semaphore,
}

#[async_trait]
impl Ticketing for Gated {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.inner.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.inner.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.inner.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.inner.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.inner.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.inner.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.inner.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.arrived.notify_one();
        // Closed only when the test ends; an Err would mean exactly that.
        let _permit = self.gate.acquire().await;
        self.inner.hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.inner.get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.inner.confirm_booking(id, expected_version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.inner.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.inner.watch_availability(event_id, from_version).await
    }
}

/// Whether `e`, the failure of a call made after the shutdown began, is the server
/// refusing it because it is shutting down or gone: UNAVAILABLE, whichever way the
/// client learnt it (the server's own shutting-down error, a refused connect, a pooled
/// connection the drain closed under the request, gRPC's GOAWAY or a cancelled call, the
/// wire protocol's closed connection). Anything else, INTERNAL included, fails.
fn is_shutting_down(e: &domain::Error) -> bool {
    e.code() == ErrorCode::Unavailable
}

async fn drain(protocol: Protocol) {
    let service = Service::generate(
        DatasetSpec {
            events: 20,
            seed: 11,
        },
        Limits::default(),
    );
    let (event, seats) = bench::torture::setup::choose_seats(&service, None, CLIENTS)
        .await
        .expect("an event on sale with 32 free seats");
    let gated = Arc::new(Gated {
        inner: service.clone(),
        waiting: AtomicUsize::new(0),
        arrived: Notify::new(),
        gate: Semaphore::new(0),
    });
    let api: SharedTicketing = gated.clone();
    let config = ServerConfig {
        shutdown_grace: GRACE,
        ..ServerConfig::default()
    };
    let mut server = RunningServer::spawn(move |listener, stop| {
        protocol::serve(protocol, listener, api, config, stop)
    })
    .await
    .expect("a loopback port binds");

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(
            protocol::connect(protocol, server.addr)
                .await
                .expect("connects")
                .api,
        );
    }
    let holds: Vec<_> = clients
        .iter()
        .zip(&seats)
        .enumerate()
        .map(|(i, (client, seat))| {
            let client = Arc::clone(client);
            let request = HoldRequest {
                event_id: event,
                seat_ids: vec![*seat],
                customer: Customer {
                    name: format!("Drain {i}"),
                    email: format!("drain{i}@example.com"),
                },
                idempotency_key: None,
            };
            tokio::spawn(async move { client.hold_seats(request).await })
        })
        .collect();
    // Every hold is inside the server before the shutdown begins.
    tokio::time::timeout(Duration::from_secs(30), async {
        while gated.waiting.load(Ordering::SeqCst) < CLIENTS {
            gated.arrived.notified().await;
        }
    })
    .await
    .expect("all 32 holds reach the server");

    let stopping = Instant::now();
    server.signal_stop();
    // Calls made after the shutdown began, on the same connections.
    let late: Vec<_> = clients
        .iter()
        .map(|client| {
            let client = Arc::clone(client);
            tokio::spawn(async move { client.get_event(EventId(1)).await })
        })
        .collect();
    gated.gate.add_permits(CLIENTS * 2);

    let mut acknowledged = Vec::new();
    for hold in holds {
        let booking = hold
            .await
            .expect("the task runs")
            .unwrap_or_else(|e| panic!("{protocol}: a hold in flight at shutdown failed: {e:?}"));
        acknowledged.push(booking);
    }
    for call in late {
        match call.await.expect("the task runs") {
            Ok(_) => {}
            Err(e) => assert!(
                is_shutting_down(&e),
                "{protocol}: a call after the shutdown began failed with something other than the shutting-down error: {e:?}"
            ),
        }
    }
    drop(clients);
    tokio::time::timeout(GRACE + Duration::from_secs(2), server.stop())
        .await
        .unwrap_or_else(|_| panic!("{protocol}: the server did not stop within its grace period"))
        .expect("the server stops cleanly");
    let stopped_after = stopping.elapsed();
    assert!(
        stopped_after <= GRACE + Duration::from_secs(2),
        "{protocol}: {stopped_after:?}"
    );

    // Nothing acknowledged is lost: every booking is in the store, held, on its seat.
    assert_eq!(acknowledged.len(), CLIENTS);
    for booking in &acknowledged {
        let stored = service
            .get_booking(booking.id)
            .await
            .expect("an acknowledged booking exists");
        assert_eq!(stored.status, BookingStatus::Held, "{protocol}: {stored:?}");
        assert_eq!(stored.seat_ids, booking.seat_ids);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_drains_under_load() {
    drain(Protocol::Rest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_drains_under_load() {
    drain(Protocol::Graphql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_drains_under_load() {
    drain(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_drains_under_load() {
    drain(Protocol::Wire).await;
}

//! `quartet torture` end to end: every protocol at once against servers sharing one
//! store on loopback passes the linearizability check; and clients that lie (a hold
//! answered without being made, a seat map read once and served forever), recorded by
//! the same run loop, fail it. Every run is bounded by a call count (the time bound is
//! only a safety net), and pass or fail comes from the checker, never from timing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bench::protocol::Protocol;
use bench::torture::check::{self, DEFAULT_MAX_CONFIGURATIONS, Verdict};
use bench::torture::history::{Call, ClientId, Outcome};
use bench::torture::run::{self, TortureClient, Workload};
use bench::torture::setup::{self, LocalServers};
use bench::torture::{self as torture_mod, Options, summary};
use domain::{
    AvailabilityStream, Booking, BookingId, BookingStatus, DatasetSpec, Event, EventDetail,
    EventId, EventPage, HoldRequest, Limits, ListEventsRequest, Performer, PerformerId, Result,
    SearchRequest, SearchResults, SeatMap, Service, SharedTicketing, Ticketing, Venue, VenueId,
};

const SPEC: DatasetSpec = DatasetSpec {
    events: 50,
    seed: 9,
};

/// A bound no healthy run reaches: the call counts end every run first.
const SAFETY: Duration = Duration::from_secs(120);

fn workload(event: EventId, seats: Vec<domain::SeatId>, ops: usize) -> Workload {
    Workload {
        event,
        seats,
        duration: SAFETY,
        ops_per_client: ops,
        call_timeout: Duration::from_secs(10),
        seed: 3,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_at_once_is_linearizable() {
    let options = Options {
        protocols: Protocol::APIS.to_vec(),
        targets: Vec::new(),
        dataset: SPEC,
        clients_per_protocol: 2,
        seats: 4,
        event: None,
        duration: SAFETY,
        ops_per_client: 120,
        call_timeout: Duration::from_secs(10),
        seed: 3,
        max_configurations: DEFAULT_MAX_CONFIGURATIONS,
    };
    let outcome = torture_mod::torture(&options).await.unwrap();
    let history = &outcome.history;
    assert_eq!(
        outcome.report.verdict,
        Verdict::Linearizable,
        "{}",
        outcome.report.render(history)
    );
    let rows = summary::per_protocol(history);
    assert_eq!(
        rows.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        Protocol::APIS.to_vec()
    );
    for (protocol, calls) in &rows {
        assert_eq!(calls.clients, 2, "{protocol}");
        assert!(calls.calls > 0, "{protocol}");
    }
    // The first hold of a fresh seat succeeds: the history has writes, not just reads.
    assert!(
        history
            .entries
            .iter()
            .any(|e| matches!(e.call, Call::Hold { .. }) && e.outcome.is_ok())
    );
    assert_eq!(outcome.report.seats.len(), 4);
}

/// A `Ticketing` that lies about some calls and passes the rest on.
struct Liar {
    inner: SharedTicketing,
    lie: Lie,
}

enum Lie {
    /// Answers every hold with a booking it never made.
    PhantomHold(AtomicU64),
    /// Answers every seat map with this one, read before the run.
    StaleSeatMap(SeatMap),
}

/// A booking for `request` that the store never made.
fn phantom_booking(request: &HoldRequest, counter: &AtomicU64) -> Booking {
    let now = chrono::Utc::now();
    Booking {
        // Far from any id the store allocates.
        id: BookingId(u64::MAX - counter.fetch_add(1, Ordering::Relaxed)),
        event_id: request.event_id,
        seat_ids: request.seat_ids.clone(),
        customer: request.customer.clone(),
        status: BookingStatus::Held,
        total_cents: 0,
        currency: "EUR".into(),
        created_at: now,
        expires_at: now + chrono::Duration::minutes(10),
        version: 1,
    }
}

#[async_trait]
impl Ticketing for Liar {
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
        match &self.lie {
            Lie::StaleSeatMap(map) => Ok(map.clone()),
            Lie::PhantomHold(_) => self.inner.get_seat_map(id).await,
        }
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        match &self.lie {
            Lie::PhantomHold(counter) => Ok(phantom_booking(&request, counter)),
            Lie::StaleSeatMap(_) => self.inner.hold_seats(request).await,
        }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_answering_holds_it_never_made_is_caught() {
    let servers = LocalServers::start(&Protocol::APIS, SPEC).await.unwrap();
    let targets = servers.targets();
    let mut clients = setup::connect_clients(&targets, 1).await.unwrap();
    let (event, seats) = setup::choose_seats(clients[0].api.as_ref(), None, 3)
        .await
        .unwrap();
    // Its own lies are enough: a phantom booking is NOT_FOUND when it is confirmed,
    // cancelled or read, whatever the honest clients beside it did and whenever.
    let wire = setup::connect_clients(&targets[3..], 1).await.unwrap();
    clients.push(TortureClient {
        id: ClientId {
            protocol: Protocol::Wire,
            index: 1,
        },
        api: Arc::new(Liar {
            inner: Arc::clone(&wire[0].api),
            lie: Lie::PhantomHold(AtomicU64::new(0)),
        }),
    });
    let history = run::run(clients, &workload(event, seats, 80))
        .await
        .unwrap();
    servers.stop().await.unwrap();
    let report = check::check(&history, DEFAULT_MAX_CONFIGURATIONS);
    let Verdict::Violation(violation) = &report.verdict else {
        panic!("the lie went unnoticed: {}", report.render(&history));
    };
    assert!(
        report.render(&history).contains("NOT linearizable"),
        "{violation:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_serving_a_stale_seat_map_is_caught() {
    // One client over the store in process: what it sees depends on its seed only.
    let service: SharedTicketing = Arc::new(Service::generate(SPEC, Limits::default()));
    let (event, seats) = setup::choose_seats(service.as_ref(), None, 2)
        .await
        .unwrap();
    let stale = service.get_seat_map(event).await.unwrap();
    let liar = TortureClient {
        id: ClientId {
            protocol: Protocol::Rest,
            index: 0,
        },
        api: Arc::new(Liar {
            inner: service,
            lie: Lie::StaleSeatMap(stale),
        }),
    };
    let history = run::run(vec![liar], &workload(event, seats, 200))
        .await
        .unwrap();
    let report = check::check(&history, DEFAULT_MAX_CONFIGURATIONS);
    let Verdict::Violation(violation) = &report.verdict else {
        panic!("the stale read went unnoticed: {}", report.render(&history));
    };
    let stuck = &history.entries[violation.stuck];
    assert_eq!(stuck.call, Call::GetSeatMap, "{}", report.render(&history));
    assert!(matches!(stuck.outcome, Outcome::SeatMap(_)));
}

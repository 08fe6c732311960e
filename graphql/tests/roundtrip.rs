//! Round trips through every conversion this crate makes, with values from
//! `domain::strategies`.
//!
//! Responses: a stub `Ticketing` answers with a generated domain value; the schema's
//! object types (`schema/types.rs`) resolve it, the endpoint serves it as JSON, the
//! client reads it into its model (`client/model.rs`) and converts it back; it must come
//! out equal. Requests: the variables the client builds from a domain request are parsed
//! by the schema's inputs (`schema/inputs.rs`) into the request the stub receives, which
//! must equal the one sent. The client reaches the router in process, through its own
//! `HttpTransport` seam, so no socket is involved.
//!
//! Where GraphQL carries less than the domain value, the generated value is first made
//! consistent the way a real `Ticketing` is: an event detail's venue and performers are
//! the event's own (they are fetched by the event's ids), and a page's `next_cursor` is
//! the position after its last event (GraphQL's `endCursor`).

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use domain::catalog::Cursor;
use domain::{
    Booking, BookingId, Error, Event, EventDetail, EventId, EventPage, HoldRequest,
    ListEventsRequest, Performer, PerformerId, Result, SearchRequest, SearchResults, SeatMap,
    Ticketing, Venue, VenueId, strategies,
};
use http_body_util::BodyExt;
use netkit::http_client::HttpTransport;
use proptest::prelude::*;
use tower::ServiceExt;

/// What the stub answers with, and what it was asked.
#[derive(Default)]
struct State {
    events: Vec<Event>,
    venues: Vec<Venue>,
    performers: Vec<Performer>,
    detail: Option<EventDetail>,
    seat_map: Option<SeatMap>,
    page: Option<EventPage>,
    search: Option<SearchResults>,
    booking: Option<Booking>,
    list_request: Option<ListEventsRequest>,
    search_request: Option<SearchRequest>,
    hold_request: Option<HoldRequest>,
    confirmed: Option<(BookingId, u64)>,
}

/// A `Ticketing` answering from [`State`].
#[derive(Default)]
struct Stub {
    state: Mutex<State>,
}

impl Stub {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> Option<T>, missing: &str) -> Result<T> {
        f(&mut self.state.lock().unwrap())
            .ok_or_else(|| Error::not_found(missing, "the one asked for"))
    }
}

#[async_trait]
impl Ticketing for Stub {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.with(|s| s.events.iter().find(|e| e.id == id).cloned(), "event")
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.with(
            |s| {
                s.list_request = Some(request);
                s.page.clone()
            },
            "page",
        )
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.with(
            |s| {
                s.search_request = Some(request);
                s.search.clone()
            },
            "results",
        )
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.with(
            |s| s.detail.clone().filter(|d| d.event.id == id),
            "event detail",
        )
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.with(|s| s.venues.iter().find(|v| v.id == id).cloned(), "venue")
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.with(
            |s| s.performers.iter().find(|p| p.id == id).cloned(),
            "performer",
        )
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.with(
            |s| s.seat_map.clone().filter(|m| m.event_id == id),
            "seat map",
        )
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        self.with(
            |s| {
                s.hold_request = Some(request);
                s.booking.clone()
            },
            "booking",
        )
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.with(|s| s.booking.clone().filter(|b| b.id == id), "booking")
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.with(
            |s| {
                s.confirmed = Some((id, expected_version));
                s.booking.clone().filter(|b| b.id == id)
            },
            "booking",
        )
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.with(|s| s.booking.clone().filter(|b| b.id == id), "booking")
    }
    // The round trips here are request-response; streams have their own tests
    // (tests/watch.rs) over a real server.
    async fn watch_availability(
        &self,
        _event_id: EventId,
        _from_version: Option<u64>,
    ) -> Result<domain::AvailabilityStream> {
        Err(Error::not_found("availability stream", "the one asked for"))
    }
}

/// The client's requests handed to the router in process.
struct InProcess(axum::Router);

#[async_trait]
impl HttpTransport for InProcess {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>> {
        let response = self
            .0
            .clone()
            .oneshot(request.map(axum::body::Body::from))
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }
}

/// A stub served by the real router, a client talking to it, and a runtime to wait on.
struct Harness {
    stub: Arc<Stub>,
    client: graphql::Client,
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Self {
        let stub = Arc::new(Stub::default());
        let router = graphql::app(stub.clone(), &graphql::Config::default());
        let client = graphql::Client::with_transport(
            "http://in-process/graphql",
            Arc::new(InProcess(router)),
        )
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Harness {
            stub,
            client,
            runtime,
        }
    }

    /// Makes the stub answer from `state`.
    fn serve(&self, state: State) {
        *self.stub.state.lock().unwrap() = state;
    }

    fn wait<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.runtime.block_on(call)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.stub.state.lock().unwrap()
    }
}

/// An event detail as a real `Ticketing` returns it: the venue and the performers (one
/// per id) are the event's own.
fn consistent_detail() -> impl Strategy<Value = EventDetail> {
    strategies::event_detail().prop_map(|mut detail| {
        let mut seen = HashSet::new();
        detail.performers.retain(|p| seen.insert(p.id));
        detail.event.venue_id = detail.venue.id;
        detail.event.performer_ids = detail.performers.iter().map(|p| p.id).collect();
        detail
    })
}

/// `page` as a real `Ticketing` returns it for `filter`: `next_cursor`, if any, is the
/// position after its last event, bound to that filter.
fn consistent_page(mut page: EventPage, filter: &domain::EventFilter) -> EventPage {
    let after_last = page.events.last().map(|e| Cursor::after(e).encode(filter));
    page.next_cursor = page.next_cursor.and(after_last);
    page
}

/// A page size GraphQL's 32-bit `Int` carries.
fn limit() -> impl Strategy<Value = Option<u32>> {
    prop::option::of(0..=i32::MAX.cast_unsigned())
}

/// A version the client can name in `confirmBooking`. GraphQL's `Int` variables are
/// validated as signed 64-bit numbers, so versions past `i64::MAX` (never reached: a
/// version counts the changes of one booking) cannot be sent. Versions the server sends
/// have no such bound.
fn version() -> impl Strategy<Value = u64> {
    0..=i64::MAX.cast_unsigned()
}

#[test]
fn events_venues_and_performers_round_trip() {
    let h = Harness::new();
    proptest!(|(
        event in strategies::event(),
        venue in strategies::venue(),
        performer in strategies::performer(),
    )| {
        h.serve(State {
            events: vec![event.clone()],
            venues: vec![venue.clone()],
            performers: vec![performer.clone()],
            ..State::default()
        });
        prop_assert_eq!(h.wait(h.client.get_event(event.id)), Ok(event));
        prop_assert_eq!(h.wait(h.client.get_venue(venue.id)), Ok(venue));
        prop_assert_eq!(h.wait(h.client.get_performer(performer.id)), Ok(performer));
    });
}

#[test]
fn event_details_round_trip() {
    let h = Harness::new();
    proptest!(|(detail in consistent_detail())| {
        h.serve(State {
            events: vec![detail.event.clone()],
            venues: vec![detail.venue.clone()],
            performers: detail.performers.clone(),
            detail: Some(detail.clone()),
            ..State::default()
        });
        prop_assert_eq!(h.wait(h.client.get_event_detail(detail.event.id)), Ok(detail));
    });
}

#[test]
fn seat_maps_round_trip() {
    let h = Harness::new();
    proptest!(|(map in strategies::seat_map(), mut event in strategies::event())| {
        event.id = map.event_id;
        h.serve(State {
            events: vec![event],
            seat_map: Some(map.clone()),
            ..State::default()
        });
        prop_assert_eq!(h.wait(h.client.get_seat_map(map.event_id)), Ok(map));
    });
}

#[test]
fn pages_and_their_requests_round_trip() {
    let h = Harness::new();
    proptest!(|(
        page in strategies::event_page(),
        filter in strategies::filter(),
        cursor in prop::option::of(strategies::text()),
        limit in limit(),
    )| {
        let page = consistent_page(page, &filter);
        h.serve(State {
            page: Some(page.clone()),
            ..State::default()
        });
        let request = ListEventsRequest { filter, cursor, limit };
        prop_assert_eq!(h.wait(h.client.list_events(request.clone())), Ok(page));
        prop_assert_eq!(h.state().list_request.take(), Some(request));
    });
}

#[test]
fn search_results_and_their_requests_round_trip() {
    let h = Harness::new();
    proptest!(|(
        results in strategies::search_results(),
        query in strategies::text(),
        filter in strategies::filter(),
        limit in limit(),
    )| {
        h.serve(State {
            search: Some(results.clone()),
            ..State::default()
        });
        let request = SearchRequest { query, filter, limit };
        prop_assert_eq!(h.wait(h.client.search_events(request.clone())), Ok(results));
        prop_assert_eq!(h.state().search_request.take(), Some(request));
    });
}

#[test]
fn bookings_and_holds_round_trip() {
    let h = Harness::new();
    proptest!(|(
        booking in strategies::booking(),
        hold in strategies::hold_request(),
        expected_version in version(),
    )| {
        h.serve(State {
            booking: Some(booking.clone()),
            ..State::default()
        });
        prop_assert_eq!(h.wait(h.client.hold_seats(hold.clone())), Ok(booking.clone()));
        prop_assert_eq!(h.state().hold_request.take(), Some(hold));
        prop_assert_eq!(h.wait(h.client.get_booking(booking.id)), Ok(booking.clone()));
        prop_assert_eq!(
            h.wait(h.client.confirm_booking(booking.id, expected_version)),
            Ok(booking.clone())
        );
        prop_assert_eq!(h.state().confirmed.take(), Some((booking.id, expected_version)));
        prop_assert_eq!(h.wait(h.client.cancel_booking(booking.id)), Ok(booking));
    });
}

//! proptest strategies for every type that crosses the `Ticketing` API, so each protocol
//! crate can prove that domain -> protocol -> domain is the identity without writing its
//! own generators. Times are whole microseconds within +-35 years of 1970, the range
//! every transport carries.

use proptest::prelude::*;

use crate::model::{
    Booking, BookingStatus, Category, Customer, Event, EventDetail, EventFilter, EventPage,
    EventStatus, HoldRequest, Performer, Row, SearchHit, SearchResults, Seat, SeatMap, SeatState,
    Section, SectionAvailability, Timestamp, Venue,
};

/// Any short string, Unicode included.
pub fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}"
}

/// A time in whole microseconds.
pub fn time() -> impl Strategy<Value = Timestamp> {
    (-(1i64 << 50)..(1i64 << 50))
        .prop_map(|m| chrono::DateTime::from_timestamp_micros(m).unwrap_or_default())
}

fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    (0..all.len()).prop_map(move |i| all[i])
}

/// Any event.
pub fn event() -> impl Strategy<Value = Event> {
    (
        (
            any::<u64>(),
            text(),
            text(),
            pick(&Category::ALL),
            any::<u64>(),
        ),
        (
            prop::collection::vec(any::<u64>(), 0..4),
            time(),
            pick(&EventStatus::ALL),
        ),
        (
            prop::collection::vec(text(), 0..4),
            any::<i64>(),
            any::<i64>(),
            text(),
        ),
    )
        .prop_map(
            |(
                (id, name, description, category, venue),
                (performers, starts_at, status),
                (tags, min, max, currency),
            )| Event {
                id: id.into(),
                name,
                description,
                category,
                venue_id: venue.into(),
                performer_ids: performers.into_iter().map(Into::into).collect(),
                starts_at,
                status,
                tags,
                min_price_cents: min,
                max_price_cents: max,
                currency,
            },
        )
}

/// Any venue with up to three sections of up to three rows.
pub fn venue() -> impl Strategy<Value = Venue> {
    let row = (text(), any::<u32>()).prop_map(|(label, seats)| Row { label, seats });
    let section = (
        any::<u32>(),
        text(),
        any::<i64>(),
        prop::collection::vec(row, 0..3),
    )
        .prop_map(|(id, name, price_cents, rows)| Section {
            id,
            name,
            price_cents,
            rows,
        });
    (
        any::<u64>(),
        text(),
        text(),
        text(),
        any::<u32>(),
        prop::collection::vec(section, 0..3),
    )
        .prop_map(|(id, name, city, country, capacity, sections)| Venue {
            id: id.into(),
            name,
            city,
            country,
            capacity,
            sections,
        })
}

/// Any performer.
pub fn performer() -> impl Strategy<Value = Performer> {
    (any::<u64>(), text(), text(), text()).prop_map(|(id, name, genre, bio)| Performer {
        id: id.into(),
        name,
        genre,
        bio,
    })
}

/// Any event detail.
pub fn event_detail() -> impl Strategy<Value = EventDetail> {
    let availability = (
        any::<u32>(),
        text(),
        any::<i64>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(section_id, name, price_cents, total, available)| SectionAvailability {
                section_id,
                name,
                price_cents,
                total,
                available,
            },
        );
    (
        event(),
        venue(),
        prop::collection::vec(performer(), 0..3),
        prop::collection::vec(availability, 0..3),
    )
        .prop_map(|(event, venue, performers, availability)| EventDetail {
            event,
            venue,
            performers,
            availability,
        })
}

/// Any seat map of up to 8 seats.
pub fn seat_map() -> impl Strategy<Value = SeatMap> {
    let seat = (
        any::<u32>(),
        any::<u32>(),
        text(),
        any::<u32>(),
        any::<i64>(),
        pick(&SeatState::ALL),
    )
        .prop_map(
            |(seat_id, section_id, row, number, price_cents, state)| Seat {
                seat_id: seat_id.into(),
                section_id,
                row,
                number,
                price_cents,
                state,
            },
        );
    (
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec(seat, 0..8),
    )
        .prop_map(|(event_id, version, seats)| SeatMap {
            event_id: event_id.into(),
            version,
            seats,
        })
}

/// Any page of up to 3 events.
pub fn event_page() -> impl Strategy<Value = EventPage> {
    (
        prop::collection::vec(event(), 0..3),
        prop::option::of("[0-9a-f]{32}"),
    )
        .prop_map(|(events, next_cursor)| EventPage {
            events,
            next_cursor,
        })
}

/// Any search results with finite scores.
pub fn search_results() -> impl Strategy<Value = SearchResults> {
    let hit = (event(), -1e9f64..1e9).prop_map(|(event, score)| SearchHit { event, score });
    prop::collection::vec(hit, 0..3).prop_map(|hits| SearchResults { hits })
}

/// Any customer.
pub fn customer() -> impl Strategy<Value = Customer> {
    (text(), text()).prop_map(|(name, email)| Customer { name, email })
}

/// Any booking.
pub fn booking() -> impl Strategy<Value = Booking> {
    (
        (
            any::<u64>(),
            any::<u64>(),
            prop::collection::vec(any::<u32>(), 0..8),
            customer(),
        ),
        (
            pick(&BookingStatus::ALL),
            any::<i64>(),
            text(),
            time(),
            time(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (id, event, seats, customer),
                (status, total, currency, created_at, expires_at, version),
            )| Booking {
                id: id.into(),
                event_id: event.into(),
                seat_ids: seats.into_iter().map(Into::into).collect(),
                customer,
                status,
                total_cents: total,
                currency,
                created_at,
                expires_at,
                version,
            },
        )
}

/// Any hold request.
pub fn hold_request() -> impl Strategy<Value = HoldRequest> {
    (
        any::<u64>(),
        prop::collection::vec(any::<u32>(), 0..8),
        customer(),
        prop::option::of(text()),
    )
        .prop_map(|(event, seats, customer, idempotency_key)| HoldRequest {
            event_id: event.into(),
            seat_ids: seats.into_iter().map(Into::into).collect(),
            customer,
            idempotency_key,
        })
}

/// Any filter.
pub fn filter() -> impl Strategy<Value = EventFilter> {
    (
        prop::option::of(pick(&Category::ALL)),
        prop::option::of(text()),
        prop::option::of(time()),
        prop::option::of(time()),
    )
        .prop_map(|(category, city, from, to)| EventFilter {
            category,
            city,
            from,
            to,
        })
}

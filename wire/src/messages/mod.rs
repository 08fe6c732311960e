//! Every payload of the protocol: what goes inside a frame, encoded with postcard.
//!
//! These structs *are* the wire format: postcard writes fields in declaration order with
//! no names or tags, so the field order here must match PROTOCOL.md exactly and must
//! never change within a protocol version. Times are signed microseconds since the Unix
//! epoch (UTC); ids and money are integers; enums are a varint variant index.
//! Conversions to and from the domain live at the bottom of this file; the messages of
//! live subscriptions (SUBSCRIBE, UNSUBSCRIBE, PUSH) and their conversions are in
//! [`watch`].

mod watch;

pub use watch::{
    AvailabilityUpdate, SeatChange, SectionCount, SubscribeRequest, UnsubscribeRequest,
    UnsubscribeResponse, UpdateKind,
};

use domain::Timestamp;
use serde::{Deserialize, Serialize};

domain::mirror_enum!(
    /// Variant order is part of the wire format.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[allow(missing_docs)]
    pub enum Category <=> domain::Category { Concert, Sports, Theater, Comedy, Festival }
);

domain::mirror_enum!(
    /// Variant order is part of the wire format.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[allow(missing_docs)]
    pub enum EventStatus <=> domain::EventStatus { Scheduled, OnSale, SoldOut, Cancelled }
);

domain::mirror_enum!(
    /// Variant order is part of the wire format.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[allow(missing_docs)]
    pub enum SeatState <=> domain::SeatState { Available, Held, Sold }
);

domain::mirror_enum!(
    /// Variant order is part of the wire format.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[allow(missing_docs)]
    pub enum BookingStatus <=> domain::BookingStatus { Held, Confirmed, Cancelled, Expired }
);

/// Filters of LIST_EVENTS and SEARCH_EVENTS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Filter {
    pub category: Option<Category>,
    pub city: Option<String>,
    pub from_micros: Option<i64>,
    pub to_micros: Option<i64>,
}

/// GET_EVENT, GET_EVENT_DETAIL, GET_SEAT_MAP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct EventIdRequest {
    pub event_id: u64,
}

/// GET_VENUE, GET_PERFORMER, GET_BOOKING, CANCEL_BOOKING request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct IdRequest {
    pub id: u64,
}

/// LIST_EVENTS request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ListEventsRequest {
    pub filter: Filter,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// SEARCH_EVENTS request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SearchEventsRequest {
    pub query: String,
    pub filter: Filter,
    pub limit: Option<u32>,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Customer {
    pub name: String,
    pub email: String,
}

/// HOLD_SEATS request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct HoldSeatsRequest {
    pub event_id: u64,
    pub seat_ids: Vec<u32>,
    pub customer: Customer,
    pub idempotency_key: Option<String>,
}

/// CONFIRM_BOOKING request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ConfirmBookingRequest {
    pub booking_id: u64,
    pub expected_version: u64,
}

/// An event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Event {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub category: Category,
    pub venue_id: u64,
    pub performer_ids: Vec<u64>,
    pub starts_at_micros: i64,
    pub status: EventStatus,
    pub tags: Vec<String>,
    pub min_price_cents: i64,
    pub max_price_cents: i64,
    pub currency: String,
}

/// A row of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Row {
    pub label: String,
    pub seats: u32,
}

/// A section of a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Section {
    pub id: u32,
    pub name: String,
    pub price_cents: i64,
    pub rows: Vec<Row>,
}

/// A venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Venue {
    pub id: u64,
    pub name: String,
    pub city: String,
    pub country: String,
    pub capacity: u32,
    pub sections: Vec<Section>,
}

/// A performer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Performer {
    pub id: u64,
    pub name: String,
    pub genre: String,
    pub bio: String,
}

/// Availability of one section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SectionAvailability {
    pub section_id: u32,
    pub name: String,
    pub price_cents: i64,
    pub total: u32,
    pub available: u32,
}

/// GET_EVENT_DETAIL response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct EventDetail {
    pub event: Event,
    pub venue: Venue,
    pub performers: Vec<Performer>,
    pub availability: Vec<SectionAvailability>,
}

/// One seat of a seat map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Seat {
    pub seat_id: u32,
    pub section_id: u32,
    pub row: String,
    pub number: u32,
    pub price_cents: i64,
    pub state: SeatState,
}

/// GET_SEAT_MAP response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SeatMap {
    pub event_id: u64,
    pub version: u64,
    pub seats: Vec<Seat>,
}

/// LIST_EVENTS response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SearchHit {
    pub event: Event,
    pub score: f64,
}

/// SEARCH_EVENTS response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
}

/// A booking (HOLD_SEATS, GET_BOOKING, CONFIRM_BOOKING, CANCEL_BOOKING response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Booking {
    pub id: u64,
    pub event_id: u64,
    pub seat_ids: Vec<u32>,
    pub customer: Customer,
    pub status: BookingStatus,
    pub total_cents: i64,
    pub currency: String,
    pub created_at_micros: i64,
    pub expires_at_micros: i64,
    pub version: u64,
}

/// The payload of an error frame: the stable code, a message for humans, and the details
/// a client acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ErrorPayload {
    pub code: String,
    pub message: String,
    pub details: ErrorDetails,
}

/// Error details; variant order is part of the wire format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum ErrorDetails {
    None,
    NotFound {
        resource: String,
        id: String,
    },
    InvalidArgument {
        field: String,
        reason: String,
    },
    SeatsUnavailable {
        seats: Vec<u32>,
    },
    VersionMismatch {
        expected: u64,
        actual: u64,
    },
    InvalidState {
        reason: String,
    },
    LimitExceeded {
        what: String,
        limit: u64,
    },
    /// Appended in protocol version 1 without renumbering: indexes 0-6 are unchanged.
    Unavailable {
        reason: String,
    },
    /// Appended with AUTH (index 8), as UNAVAILABLE was: earlier indexes are unchanged.
    Unauthenticated {
        reason: String,
    },
    /// Index 9.
    PermissionDenied {
        reason: String,
    },
}

// ---- conversions ------------------------------------------------------------------

/// Microseconds since the epoch, the protocol's time.
pub fn micros(t: Timestamp) -> i64 {
    t.timestamp_micros()
}

/// The time `micros` names.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field` if it is outside the range of representable times.
pub fn time(field: &str, micros: i64) -> Result<Timestamp, domain::Error> {
    chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| domain::Error::invalid_argument(field, "time out of range"))
}

impl From<domain::EventFilter> for Filter {
    fn from(f: domain::EventFilter) -> Self {
        Filter {
            category: f.category.map(Into::into),
            city: f.city,
            from_micros: f.from.map(micros),
            to_micros: f.to.map(micros),
        }
    }
}

impl TryFrom<Filter> for domain::EventFilter {
    type Error = domain::Error;
    fn try_from(f: Filter) -> Result<Self, Self::Error> {
        Ok(domain::EventFilter {
            category: f.category.map(Into::into),
            city: f.city,
            from: f.from_micros.map(|m| time("from", m)).transpose()?,
            to: f.to_micros.map(|m| time("to", m)).transpose()?,
        })
    }
}

impl From<domain::Event> for Event {
    fn from(e: domain::Event) -> Self {
        Event {
            id: e.id.0,
            name: e.name,
            description: e.description,
            category: e.category.into(),
            venue_id: e.venue_id.0,
            performer_ids: e.performer_ids.into_iter().map(|p| p.0).collect(),
            starts_at_micros: micros(e.starts_at),
            status: e.status.into(),
            tags: e.tags,
            min_price_cents: e.min_price_cents,
            max_price_cents: e.max_price_cents,
            currency: e.currency,
        }
    }
}

impl TryFrom<Event> for domain::Event {
    type Error = domain::Error;
    fn try_from(e: Event) -> Result<Self, Self::Error> {
        Ok(domain::Event {
            id: e.id.into(),
            name: e.name,
            description: e.description,
            category: e.category.into(),
            venue_id: e.venue_id.into(),
            performer_ids: e.performer_ids.into_iter().map(Into::into).collect(),
            starts_at: time("starts_at", e.starts_at_micros)?,
            status: e.status.into(),
            tags: e.tags,
            min_price_cents: e.min_price_cents,
            max_price_cents: e.max_price_cents,
            currency: e.currency,
        })
    }
}

impl From<domain::Venue> for Venue {
    fn from(v: domain::Venue) -> Self {
        Venue {
            id: v.id.0,
            name: v.name,
            city: v.city,
            country: v.country,
            capacity: v.capacity,
            sections: v
                .sections
                .into_iter()
                .map(|s| Section {
                    id: s.id,
                    name: s.name,
                    price_cents: s.price_cents,
                    rows: s
                        .rows
                        .into_iter()
                        .map(|r| Row {
                            label: r.label,
                            seats: r.seats,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<Venue> for domain::Venue {
    fn from(v: Venue) -> Self {
        domain::Venue {
            id: v.id.into(),
            name: v.name,
            city: v.city,
            country: v.country,
            capacity: v.capacity,
            sections: v
                .sections
                .into_iter()
                .map(|s| domain::Section {
                    id: s.id,
                    name: s.name,
                    price_cents: s.price_cents,
                    rows: s
                        .rows
                        .into_iter()
                        .map(|r| domain::Row {
                            label: r.label,
                            seats: r.seats,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<domain::Performer> for Performer {
    fn from(p: domain::Performer) -> Self {
        Performer {
            id: p.id.0,
            name: p.name,
            genre: p.genre,
            bio: p.bio,
        }
    }
}

impl From<Performer> for domain::Performer {
    fn from(p: Performer) -> Self {
        domain::Performer {
            id: p.id.into(),
            name: p.name,
            genre: p.genre,
            bio: p.bio,
        }
    }
}

impl From<domain::EventDetail> for EventDetail {
    fn from(d: domain::EventDetail) -> Self {
        EventDetail {
            event: d.event.into(),
            venue: d.venue.into(),
            performers: d.performers.into_iter().map(Into::into).collect(),
            availability: d
                .availability
                .into_iter()
                .map(|a| SectionAvailability {
                    section_id: a.section_id,
                    name: a.name,
                    price_cents: a.price_cents,
                    total: a.total,
                    available: a.available,
                })
                .collect(),
        }
    }
}

impl TryFrom<EventDetail> for domain::EventDetail {
    type Error = domain::Error;
    fn try_from(d: EventDetail) -> Result<Self, Self::Error> {
        Ok(domain::EventDetail {
            event: d.event.try_into()?,
            venue: d.venue.into(),
            performers: d.performers.into_iter().map(Into::into).collect(),
            availability: d
                .availability
                .into_iter()
                .map(|a| domain::SectionAvailability {
                    section_id: a.section_id,
                    name: a.name,
                    price_cents: a.price_cents,
                    total: a.total,
                    available: a.available,
                })
                .collect(),
        })
    }
}

impl From<domain::SeatMap> for SeatMap {
    fn from(m: domain::SeatMap) -> Self {
        SeatMap {
            event_id: m.event_id.0,
            version: m.version,
            seats: m
                .seats
                .into_iter()
                .map(|s| Seat {
                    seat_id: s.seat_id.0,
                    section_id: s.section_id,
                    row: s.row,
                    number: s.number,
                    price_cents: s.price_cents,
                    state: s.state.into(),
                })
                .collect(),
        }
    }
}

impl From<SeatMap> for domain::SeatMap {
    fn from(m: SeatMap) -> Self {
        domain::SeatMap {
            event_id: m.event_id.into(),
            version: m.version,
            seats: m
                .seats
                .into_iter()
                .map(|s| domain::Seat {
                    seat_id: s.seat_id.into(),
                    section_id: s.section_id,
                    row: s.row,
                    number: s.number,
                    price_cents: s.price_cents,
                    state: s.state.into(),
                })
                .collect(),
        }
    }
}

impl From<domain::EventPage> for EventPage {
    fn from(p: domain::EventPage) -> Self {
        EventPage {
            events: p.events.into_iter().map(Into::into).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

impl TryFrom<EventPage> for domain::EventPage {
    type Error = domain::Error;
    fn try_from(p: EventPage) -> Result<Self, Self::Error> {
        Ok(domain::EventPage {
            events: p
                .events
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
            next_cursor: p.next_cursor,
        })
    }
}

impl From<domain::SearchResults> for SearchResults {
    fn from(r: domain::SearchResults) -> Self {
        SearchResults {
            hits: r
                .hits
                .into_iter()
                .map(|h| SearchHit {
                    event: h.event.into(),
                    score: h.score,
                })
                .collect(),
        }
    }
}

impl TryFrom<SearchResults> for domain::SearchResults {
    type Error = domain::Error;
    fn try_from(r: SearchResults) -> Result<Self, Self::Error> {
        Ok(domain::SearchResults {
            hits: r
                .hits
                .into_iter()
                .map(|h| {
                    Ok(domain::SearchHit {
                        event: h.event.try_into()?,
                        score: h.score,
                    })
                })
                .collect::<Result<_, domain::Error>>()?,
        })
    }
}

impl From<domain::Customer> for Customer {
    fn from(c: domain::Customer) -> Self {
        Customer {
            name: c.name,
            email: c.email,
        }
    }
}

impl From<Customer> for domain::Customer {
    fn from(c: Customer) -> Self {
        domain::Customer {
            name: c.name,
            email: c.email,
        }
    }
}

impl From<domain::HoldRequest> for HoldSeatsRequest {
    fn from(r: domain::HoldRequest) -> Self {
        HoldSeatsRequest {
            event_id: r.event_id.0,
            seat_ids: r.seat_ids.into_iter().map(|s| s.0).collect(),
            customer: r.customer.into(),
            idempotency_key: r.idempotency_key,
        }
    }
}

impl From<HoldSeatsRequest> for domain::HoldRequest {
    fn from(r: HoldSeatsRequest) -> Self {
        domain::HoldRequest {
            event_id: r.event_id.into(),
            seat_ids: r.seat_ids.into_iter().map(Into::into).collect(),
            customer: r.customer.into(),
            idempotency_key: r.idempotency_key,
        }
    }
}

impl From<domain::Booking> for Booking {
    fn from(b: domain::Booking) -> Self {
        Booking {
            id: b.id.0,
            event_id: b.event_id.0,
            seat_ids: b.seat_ids.into_iter().map(|s| s.0).collect(),
            customer: b.customer.into(),
            status: b.status.into(),
            total_cents: b.total_cents,
            currency: b.currency,
            created_at_micros: micros(b.created_at),
            expires_at_micros: micros(b.expires_at),
            version: b.version,
        }
    }
}

impl TryFrom<Booking> for domain::Booking {
    type Error = domain::Error;
    fn try_from(b: Booking) -> Result<Self, Self::Error> {
        Ok(domain::Booking {
            id: b.id.into(),
            event_id: b.event_id.into(),
            seat_ids: b.seat_ids.into_iter().map(Into::into).collect(),
            customer: b.customer.into(),
            status: b.status.into(),
            total_cents: b.total_cents,
            currency: b.currency,
            created_at: time("created_at", b.created_at_micros)?,
            expires_at: time("expires_at", b.expires_at_micros)?,
            version: b.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::strategies;
    use proptest::prelude::*;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;

    /// Encodes, decodes, and returns the decoded message (asserting it is unchanged).
    fn through_bytes<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) -> T {
        let bytes = postcard::to_allocvec(&value).unwrap();
        let back: T = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, value);
        drop(value);
        back
    }

    proptest! {
        /// domain -> message -> bytes -> message -> domain is the identity, for every
        /// message the protocol carries.
        #[test]
        fn responses_round_trip(
            event in strategies::event(),
            venue in strategies::venue(),
            performer in strategies::performer(),
            detail in strategies::event_detail(),
            map in strategies::seat_map(),
            page in strategies::event_page(),
            results in strategies::search_results(),
            booking in strategies::booking(),
        ) {
            prop_assert_eq!(domain::Event::try_from(through_bytes(Event::from(event.clone()))).unwrap(), event);
            prop_assert_eq!(domain::Venue::from(through_bytes(Venue::from(venue.clone()))), venue);
            prop_assert_eq!(domain::Performer::from(through_bytes(Performer::from(performer.clone()))), performer);
            prop_assert_eq!(domain::EventDetail::try_from(through_bytes(EventDetail::from(detail.clone()))).unwrap(), detail);
            prop_assert_eq!(domain::SeatMap::from(through_bytes(SeatMap::from(map.clone()))), map);
            prop_assert_eq!(domain::EventPage::try_from(through_bytes(EventPage::from(page.clone()))).unwrap(), page);
            prop_assert_eq!(domain::SearchResults::try_from(through_bytes(SearchResults::from(results.clone()))).unwrap(), results);
            prop_assert_eq!(domain::Booking::try_from(through_bytes(Booking::from(booking.clone()))).unwrap(), booking);
        }

        #[test]
        fn requests_round_trip(
            hold in strategies::hold_request(),
            filter in strategies::filter(),
            cursor in prop::option::of(strategies::text()),
            limit in prop::option::of(any::<u32>()),
            query in strategies::text(),
            id in any::<u64>(),
            version in any::<u64>(),
        ) {
            prop_assert_eq!(domain::HoldRequest::from(through_bytes(HoldSeatsRequest::from(hold.clone()))), hold);
            let wire = through_bytes(ListEventsRequest { filter: filter.clone().into(), cursor, limit });
            prop_assert_eq!(domain::EventFilter::try_from(wire.filter).unwrap(), filter.clone());
            through_bytes(SearchEventsRequest { query, filter: filter.into(), limit });
            through_bytes(EventIdRequest { event_id: id });
            through_bytes(IdRequest { id });
            through_bytes(ConfirmBookingRequest { booking_id: id, expected_version: version });
        }
    }
}

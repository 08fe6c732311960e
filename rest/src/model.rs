//! The JSON representation of the API: what goes over the wire, documented in the
//! OpenAPI document, and converted to and from the domain types at the edge.
//!
//! These mirror the domain types field for field today, but they are a separate contract:
//! the domain can change shape without silently changing the public JSON, and the
//! OpenAPI schemas are derived from exactly what is sent. Conversions both ways live here
//! (the server converts domain -> JSON, the client JSON -> domain), and so does the
//! query-string form of an event filter ([`filter_to_query`], [`filter_from_query`]).
//! The property tests at the bottom prove every conversion round-trips.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::{parse_category, parse_time};

domain::mirror_enum!(
    /// Kind of event.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Category <=> domain::Category {
        /// Music.
        Concert,
        /// Games and matches.
        Sports,
        /// Plays and musicals.
        Theater,
        /// Stand-up and sketch.
        Comedy,
        /// Multi-act events.
        Festival,
    }
);
domain::mirror_enum!(
    /// Sales status of an event.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum EventStatus <=> domain::EventStatus {
        /// Announced, not yet on sale.
        Scheduled,
        /// Seats can be held.
        OnSale,
        /// Every seat is held or sold right now.
        SoldOut,
        /// Called off.
        Cancelled,
    }
);
domain::mirror_enum!(
    /// State of one seat.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SeatState <=> domain::SeatState {
        /// Free.
        Available,
        /// In a live hold.
        Held,
        /// Bought.
        Sold,
    }
);
domain::mirror_enum!(
    /// Where a booking is in its life.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum BookingStatus <=> domain::BookingStatus {
        /// Seats held until `expires_at`.
        Held,
        /// Seats bought.
        Confirmed,
        /// Released by the customer.
        Cancelled,
        /// The hold lapsed.
        Expired,
    }
);

/// An event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Event id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// A paragraph about the event.
    pub description: String,
    /// Kind of event.
    pub category: Category,
    /// Venue id.
    pub venue_id: u64,
    /// Performer ids, headliner first.
    pub performer_ids: Vec<u64>,
    /// Start time, RFC 3339, UTC.
    pub starts_at: DateTime<Utc>,
    /// Sales status.
    pub status: EventStatus,
    /// Lower-case tags.
    pub tags: Vec<String>,
    /// Cheapest seat in cents.
    pub min_price_cents: i64,
    /// Dearest seat in cents.
    pub max_price_cents: i64,
    /// ISO 4217 currency.
    pub currency: String,
}

/// A row of seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Row {
    /// Row label.
    pub label: String,
    /// Seats in the row, numbered from 1.
    pub seats: u32,
}

/// A priced section of a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Section {
    /// Section id within the venue.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Price of each seat in cents.
    pub price_cents: i64,
    /// Rows in layout order.
    pub rows: Vec<Row>,
}

/// A venue with its seat layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Venue {
    /// Venue id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Seats in all sections.
    pub capacity: u32,
    /// Sections in layout order; seat ids count through them.
    pub sections: Vec<Section>,
}

/// A performer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Performer {
    /// Performer id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Genre.
    pub genre: String,
    /// Short biography.
    pub bio: String,
}

/// Availability of one section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SectionAvailability {
    /// Section id.
    pub section_id: u32,
    /// Section name.
    pub name: String,
    /// Seat price in cents.
    pub price_cents: i64,
    /// Seats in the section.
    pub total: u32,
    /// Seats neither held nor sold.
    pub available: u32,
}

/// An event with its venue, performers and availability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventDetail {
    /// The event.
    pub event: Event,
    /// Its venue.
    pub venue: Venue,
    /// Its performers.
    pub performers: Vec<Performer>,
    /// Availability per section.
    pub availability: Vec<SectionAvailability>,
}

/// One seat on a seat map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Seat {
    /// Seat id within the event.
    pub seat_id: u32,
    /// Section id.
    pub section_id: u32,
    /// Row label.
    pub row: String,
    /// Seat number in the row.
    pub number: u32,
    /// Price in cents.
    pub price_cents: i64,
    /// Current state.
    pub state: SeatState,
}

/// Every seat of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SeatMap {
    /// Event id.
    pub event_id: u64,
    /// Inventory version the map was read at.
    pub version: u64,
    /// Seats in id order.
    pub seats: Vec<Seat>,
}

/// A page of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    /// Events, by start time then id.
    pub events: Vec<Event>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    /// The event.
    pub event: Event,
    /// BM25 relevance, higher is better.
    pub score: f64,
}

/// Search results, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// The hits.
    pub hits: Vec<SearchHit>,
}

/// Who a booking is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    /// Full name, 1 to 100 characters.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// A booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Booking {
    /// Booking id.
    pub id: u64,
    /// Event id.
    pub event_id: u64,
    /// Seat ids, ascending.
    pub seat_ids: Vec<u32>,
    /// Who it is for.
    pub customer: Customer,
    /// Status.
    pub status: BookingStatus,
    /// Total in cents.
    pub total_cents: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// When the hold was made.
    pub created_at: DateTime<Utc>,
    /// When the hold lapses unless confirmed.
    pub expires_at: DateTime<Utc>,
    /// Version; also sent as the ETag.
    pub version: u64,
}

/// The body of `POST /v1/bookings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldSeats {
    /// Event id.
    pub event_id: u64,
    /// 1 to 8 distinct seat ids.
    pub seat_ids: Vec<u32>,
    /// Who the hold is for.
    pub customer: Customer,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the server is serving.
    pub status: String,
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
            starts_at: e.starts_at,
            status: e.status.into(),
            tags: e.tags,
            min_price_cents: e.min_price_cents,
            max_price_cents: e.max_price_cents,
            currency: e.currency,
        }
    }
}

impl From<Event> for domain::Event {
    fn from(e: Event) -> Self {
        domain::Event {
            id: e.id.into(),
            name: e.name,
            description: e.description,
            category: e.category.into(),
            venue_id: e.venue_id.into(),
            performer_ids: e.performer_ids.into_iter().map(Into::into).collect(),
            starts_at: e.starts_at,
            status: e.status.into(),
            tags: e.tags,
            min_price_cents: e.min_price_cents,
            max_price_cents: e.max_price_cents,
            currency: e.currency,
        }
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

impl From<domain::SectionAvailability> for SectionAvailability {
    fn from(a: domain::SectionAvailability) -> Self {
        SectionAvailability {
            section_id: a.section_id,
            name: a.name,
            price_cents: a.price_cents,
            total: a.total,
            available: a.available,
        }
    }
}

impl From<SectionAvailability> for domain::SectionAvailability {
    fn from(a: SectionAvailability) -> Self {
        domain::SectionAvailability {
            section_id: a.section_id,
            name: a.name,
            price_cents: a.price_cents,
            total: a.total,
            available: a.available,
        }
    }
}

impl From<domain::EventDetail> for EventDetail {
    fn from(d: domain::EventDetail) -> Self {
        EventDetail {
            event: d.event.into(),
            venue: d.venue.into(),
            performers: d.performers.into_iter().map(Into::into).collect(),
            availability: d.availability.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<EventDetail> for domain::EventDetail {
    fn from(d: EventDetail) -> Self {
        domain::EventDetail {
            event: d.event.into(),
            venue: d.venue.into(),
            performers: d.performers.into_iter().map(Into::into).collect(),
            availability: d.availability.into_iter().map(Into::into).collect(),
        }
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

impl From<EventPage> for domain::EventPage {
    fn from(p: EventPage) -> Self {
        domain::EventPage {
            events: p.events.into_iter().map(Into::into).collect(),
            next_cursor: p.next_cursor,
        }
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

impl From<SearchResults> for domain::SearchResults {
    fn from(r: SearchResults) -> Self {
        domain::SearchResults {
            hits: r
                .hits
                .into_iter()
                .map(|h| domain::SearchHit {
                    event: h.event.into(),
                    score: h.score,
                })
                .collect(),
        }
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
            created_at: b.created_at,
            expires_at: b.expires_at,
            version: b.version,
        }
    }
}

impl From<Booking> for domain::Booking {
    fn from(b: Booking) -> Self {
        domain::Booking {
            id: b.id.into(),
            event_id: b.event_id.into(),
            seat_ids: b.seat_ids.into_iter().map(Into::into).collect(),
            customer: b.customer.into(),
            status: b.status.into(),
            total_cents: b.total_cents,
            currency: b.currency,
            created_at: b.created_at,
            expires_at: b.expires_at,
            version: b.version,
        }
    }
}

/// The body of a hold. The request's idempotency key is not part of it: it travels as
/// the `Idempotency-Key` header.
impl From<domain::HoldRequest> for HoldSeats {
    fn from(r: domain::HoldRequest) -> Self {
        HoldSeats {
            event_id: r.event_id.0,
            seat_ids: r.seat_ids.into_iter().map(|s| s.0).collect(),
            customer: r.customer.into(),
        }
    }
}

impl HoldSeats {
    /// The hold request this body describes, with the key from the `Idempotency-Key`
    /// header.
    pub fn into_request(self, idempotency_key: Option<String>) -> domain::HoldRequest {
        domain::HoldRequest {
            event_id: self.event_id.into(),
            seat_ids: self.seat_ids.into_iter().map(Into::into).collect(),
            customer: self.customer.into(),
            idempotency_key,
        }
    }
}

/// `filter` as the query parameters `GET /v1/events` and `GET /v1/events/search` take
/// (`category`, `city`, `from`, `to`), appended to `params`. Times are RFC 3339 in UTC.
pub fn filter_to_query(filter: &domain::EventFilter, params: &mut Vec<(&'static str, String)>) {
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    if let Some(c) = filter.category {
        params.push(("category", c.as_str().to_owned()));
    }
    if let Some(city) = &filter.city {
        params.push(("city", city.clone()));
    }
    if let Some(from) = filter.from {
        params.push(("from", time(from)));
    }
    if let Some(to) = filter.to {
        params.push(("to", time(to)));
    }
}

/// The filter named by the query parameters `category`, `city`, `from` and `to`.
///
/// # Errors
/// `INVALID_ARGUMENT` naming the parameter that does not parse.
pub fn filter_from_query(
    category: Option<&str>,
    city: Option<String>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<domain::EventFilter, ApiError> {
    Ok(domain::EventFilter {
        category: parse_category(category)?,
        city,
        from: parse_time("from", from)?,
        to: parse_time("to", to)?,
    })
}

#[cfg(test)]
mod tests {
    use domain::strategies;
    use proptest::prelude::*;
    use serde::de::DeserializeOwned;

    use super::*;

    /// Encodes to JSON bytes and back, asserting nothing changed on the way.
    fn through_json<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> T {
        let bytes = serde_json::to_vec(value).unwrap();
        let back: T = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(&back, value);
        back
    }

    fn query_value<'a>(params: &'a [(&'static str, String)], key: &str) -> Option<&'a str> {
        params
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    proptest! {
        /// domain -> JSON model -> bytes -> JSON model -> domain is the identity for
        /// every response type.
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
            prop_assert_eq!(domain::Event::from(through_json(&Event::from(event.clone()))), event);
            prop_assert_eq!(domain::Venue::from(through_json(&Venue::from(venue.clone()))), venue);
            prop_assert_eq!(domain::Performer::from(through_json(&Performer::from(performer.clone()))), performer);
            prop_assert_eq!(domain::EventDetail::from(through_json(&EventDetail::from(detail.clone()))), detail);
            prop_assert_eq!(domain::SeatMap::from(through_json(&SeatMap::from(map.clone()))), map);
            prop_assert_eq!(domain::EventPage::from(through_json(&EventPage::from(page.clone()))), page);
            prop_assert_eq!(domain::SearchResults::from(through_json(&SearchResults::from(results.clone()))), results);
            prop_assert_eq!(domain::Booking::from(through_json(&Booking::from(booking.clone()))), booking);
        }

        /// A hold request survives its body (plus the key beside it), and a filter its
        /// query parameters.
        #[test]
        fn requests_round_trip(hold in strategies::hold_request(), filter in strategies::filter()) {
            let key = hold.idempotency_key.clone();
            let body = through_json(&HoldSeats::from(hold.clone()));
            prop_assert_eq!(body.into_request(key), hold);

            let mut params = Vec::new();
            filter_to_query(&filter, &mut params);
            let back = filter_from_query(
                query_value(&params, "category"),
                query_value(&params, "city").map(str::to_owned),
                query_value(&params, "from"),
                query_value(&params, "to"),
            )
            .unwrap();
            prop_assert_eq!(back, filter);
        }
    }
}

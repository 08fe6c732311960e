//! The JSON representation of the API: what goes over the wire, documented in the
//! OpenAPI document, and converted to and from the domain types at the edge.
//!
//! These mirror the domain types field for field today, but they are a separate contract:
//! the domain can change shape without silently changing the public JSON, and the
//! OpenAPI schemas are derived from exactly what is sent. Conversions both ways live here
//! (the server converts domain -> JSON, the client JSON -> domain), and so does the
//! query-string form of an event filter ([`filter_to_query`], [`filter_from_query`]).
//! The live-availability message ([`AvailabilityUpdate`]) has its own file,
//! `model/availability.rs`.
//! The property tests at the bottom prove every conversion round-trips.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, SchemaFormat, Type};

use crate::error::ApiError;
use crate::extract::{parse_category, parse_time};

mod availability;
pub use availability::{AvailabilityUpdate, SeatChange, SectionCount, UpdateKind};

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
    /// Full name: 1 to 100 characters, not all whitespace, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// E-mail address, checked for shape only (not RFC 5322): a non-empty local part,
    /// one `@`, and a domain of two or more non-empty dot-separated labels; no whitespace
    /// or control characters; at most 254 bytes of UTF-8.
    #[schema(
        min_length = 5,
        max_length = 254,
        pattern = r"^[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@.\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+(\.[^@.\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+)+$"
    )]
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
#[schema(example = json!({"event_id": 1, "seat_ids": [10, 11], "customer": {"name": "Ada Lovelace", "email": "ada@example.org"}}))]
pub struct HoldSeats {
    /// Event id.
    #[serde(deserialize_with = "json_integer::one")]
    pub event_id: u64,
    /// 1 to 8 distinct seat ids, each below the venue's capacity (seat ids count from 0
    /// through the venue's sections; a seat past the end gets 400 naming `seat_ids`).
    #[schema(schema_with = seat_ids_schema)]
    #[serde(deserialize_with = "json_integer::many")]
    pub seat_ids: Vec<u32>,
    /// Who the hold is for.
    pub customer: Customer,
}

/// Integers in request bodies as JSON Schema reads them (and so as the OpenAPI document
/// promises): any number whose fractional part is zero, so `3.0` and `3e0` are the integer
/// 3. serde alone would refuse them as floats. Fractions, negatives and values past the
/// type's range are still refused, naming the field.
mod json_integer {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::Deserialize;
    use serde::de::{self, Deserializer, Unexpected, Visitor};

    /// The unsigned integer types a body holds.
    pub(super) trait Unsigned: TryFrom<u64> {
        /// The largest value.
        const MAX: u64;
    }

    impl Unsigned for u32 {
        const MAX: u64 = u32::MAX as u64;
    }

    impl Unsigned for u64 {
        const MAX: u64 = u64::MAX;
    }

    /// One unsigned integer field.
    pub(super) fn one<'de, D: Deserializer<'de>, T: Unsigned>(d: D) -> Result<T, D::Error> {
        Integral::deserialize(d).map(|Integral(v)| v)
    }

    /// An array of unsigned integers; each element's error names its index.
    pub(super) fn many<'de, D: Deserializer<'de>, T: Unsigned>(d: D) -> Result<Vec<T>, D::Error> {
        Vec::<Integral<T>>::deserialize(d).map(|v| v.into_iter().map(|Integral(v)| v).collect())
    }

    struct Integral<T>(T);

    impl<'de, T: Unsigned> Deserialize<'de> for Integral<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(IntegralVisitor(PhantomData))
        }
    }

    struct IntegralVisitor<T>(PhantomData<T>);

    impl<T: Unsigned> Visitor<'_> for IntegralVisitor<T> {
        type Value = Integral<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "an integer from 0 to {}", T::MAX)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            T::try_from(v)
                .map(Integral)
                .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
            }
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // 2^64 is the first float past u64::MAX; every integral float below it converts
            // exactly.
            const PAST_U64: f64 = 18_446_744_073_709_551_616.0;
            if v.is_finite() && v.fract() == 0.0 && v > -1.0 && v < PAST_U64 {
                self.visit_u64(v as u64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }
}

/// `seat_ids` of a hold: what `domain::validate::hold` checks, as JSON Schema. The
/// bound is `domain::Limits::MAX_SEATS_PER_HOLD`, the default every Quartet server runs with.
fn seat_ids_schema() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::Custom("uint32".to_owned())))
                .minimum(Some(0u32))
                .maximum(Some(u32::MAX)),
        )
        .min_items(Some(1))
        .max_items(Some(domain::Limits::MAX_SEATS_PER_HOLD as usize))
        .unique_items(true)
        .description(Some(
            "1 to 8 distinct seat ids, each below the venue's capacity (seat ids count from \
             0 through the venue's sections; a seat past the end gets 400 naming `seat_ids`).",
        ))
        .build()
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

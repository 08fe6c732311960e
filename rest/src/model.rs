//! The JSON representation of the API: what goes over the wire, documented in the
//! OpenAPI document, and converted to and from the domain types at the edge.
//!
//! These mirror the domain types field for field today, but they are a separate contract:
//! the domain can change shape without silently changing the public JSON, and the
//! OpenAPI schemas are derived from exactly what is sent. Conversions both ways live here
//! (the server converts domain -> JSON, the client JSON -> domain).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident <=> $domain:ty { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => <$domain>::$variant),+
                }
            }
        }
    };
}

mirror_enum!(
    /// Kind of event.
    Category <=> domain::Category {
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
mirror_enum!(
    /// Sales status of an event.
    EventStatus <=> domain::EventStatus {
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
mirror_enum!(
    /// State of one seat.
    SeatState <=> domain::SeatState {
        /// Free.
        Available,
        /// In a live hold.
        Held,
        /// Bought.
        Sold,
    }
);
mirror_enum!(
    /// Where a booking is in its life.
    BookingStatus <=> domain::BookingStatus {
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

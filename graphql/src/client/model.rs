//! The shapes of the client's responses (camelCase, ids as strings, enums in
//! SCREAMING_CASE), and their conversion to domain types. A value that does not convert
//! (an id that is not a number) means the server broke the contract: `INTERNAL`.

use chrono::{DateTime, Utc};
use domain::Error;
use serde::Deserialize;

// The enums are the schema's own (`crate::schema::types`): one GraphQL spelling for
// server and client, with the conversions to the domain derived there.
pub use crate::schema::types::{BookingStatus, Category, EventStatus, SeatState};

type Result<T> = std::result::Result<T, Error>;

fn id(raw: &str) -> Result<u64> {
    raw.parse()
        .map_err(|_| Error::internal(format!("the server sent a non-numeric id {raw:?}")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: Category,
    pub venue_id: String,
    pub performer_ids: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub status: EventStatus,
    pub tags: Vec<String>,
    pub min_price_cents: i64,
    pub max_price_cents: i64,
    pub currency: String,
}

impl TryFrom<Event> for domain::Event {
    type Error = Error;
    fn try_from(e: Event) -> Result<Self> {
        Ok(domain::Event {
            id: id(&e.id)?.into(),
            name: e.name,
            description: e.description,
            category: e.category.into(),
            venue_id: id(&e.venue_id)?.into(),
            performer_ids: e
                .performer_ids
                .iter()
                .map(|p| id(p).map(Into::into))
                .collect::<Result<_>>()?,
            starts_at: e.starts_at,
            status: e.status.into(),
            tags: e.tags,
            min_price_cents: e.min_price_cents,
            max_price_cents: e.max_price_cents,
            currency: e.currency,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Row {
    pub label: String,
    pub seats: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Section {
    pub id: u32,
    pub name: String,
    pub price_cents: i64,
    pub rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Venue {
    pub id: String,
    pub name: String,
    pub city: String,
    pub country: String,
    pub capacity: u32,
    pub sections: Vec<Section>,
}

impl TryFrom<Venue> for domain::Venue {
    type Error = Error;
    fn try_from(v: Venue) -> Result<Self> {
        Ok(domain::Venue {
            id: id(&v.id)?.into(),
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
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Performer {
    pub id: String,
    pub name: String,
    pub genre: String,
    pub bio: String,
}

impl TryFrom<Performer> for domain::Performer {
    type Error = Error;
    fn try_from(p: Performer) -> Result<Self> {
        Ok(domain::Performer {
            id: id(&p.id)?.into(),
            name: p.name,
            genre: p.genre,
            bio: p.bio,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct SectionAvailability {
    pub section_id: u32,
    pub name: String,
    pub price_cents: i64,
    pub total: u32,
    pub available: u32,
}

/// `event { ...EventFields venue performers availability }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: Event,
    pub venue: Venue,
    pub performers: Vec<Performer>,
    pub availability: Vec<SectionAvailability>,
}

impl TryFrom<EventDetail> for domain::EventDetail {
    type Error = Error;
    fn try_from(d: EventDetail) -> Result<Self> {
        Ok(domain::EventDetail {
            event: d.event.try_into()?,
            venue: d.venue.try_into()?,
            performers: d
                .performers
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_>>()?,
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Seat {
    pub seat_id: u32,
    pub section_id: u32,
    pub row: String,
    pub number: u32,
    pub price_cents: i64,
    pub state: SeatState,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct SeatMap {
    pub event_id: String,
    pub version: u64,
    pub seats: Vec<Seat>,
}

impl TryFrom<SeatMap> for domain::SeatMap {
    type Error = Error;
    fn try_from(m: SeatMap) -> Result<Self> {
        Ok(domain::SeatMap {
            event_id: id(&m.event_id)?.into(),
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
        })
    }
}

/// `event { seatMap { ... } }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct EventSeatMap {
    pub seat_map: SeatMap,
}

#[derive(Debug, Deserialize)]
#[allow(missing_docs)]
pub struct Node {
    pub node: Event,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct EventConnection {
    pub edges: Vec<Node>,
    pub page_info: PageInfo,
}

impl TryFrom<EventConnection> for domain::EventPage {
    type Error = Error;
    fn try_from(c: EventConnection) -> Result<Self> {
        Ok(domain::EventPage {
            events: c
                .edges
                .into_iter()
                .map(|e| e.node.try_into())
                .collect::<Result<_>>()?,
            next_cursor: if c.page_info.has_next_page {
                c.page_info.end_cursor
            } else {
                None
            },
        })
    }
}

#[derive(Debug, Deserialize)]
#[allow(missing_docs)]
pub struct SearchHit {
    pub score: f64,
    pub event: Event,
}

#[derive(Debug, Deserialize)]
#[allow(missing_docs)]
pub struct Customer {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Booking {
    pub id: String,
    pub event_id: String,
    pub seat_ids: Vec<u32>,
    pub customer: Customer,
    pub status: BookingStatus,
    pub total_cents: i64,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub version: u64,
}

impl TryFrom<Booking> for domain::Booking {
    type Error = Error;
    fn try_from(b: Booking) -> Result<Self> {
        Ok(domain::Booking {
            id: id(&b.id)?.into(),
            event_id: id(&b.event_id)?.into(),
            seat_ids: b.seat_ids.into_iter().map(Into::into).collect(),
            customer: domain::Customer {
                name: b.customer.name,
                email: b.customer.email,
            },
            status: b.status.into(),
            total_cents: b.total_cents,
            currency: b.currency,
            created_at: b.created_at,
            expires_at: b.expires_at,
            version: b.version,
        })
    }
}

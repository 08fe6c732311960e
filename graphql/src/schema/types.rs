//! The GraphQL object types: thin wrappers over the domain types whose resolvers pick
//! fields, and fetch nested ones (venue, performers, availability, seat map) only when
//! the query selects them.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use serde::Deserialize;

use super::api;
use super::loaders::{PerformerLoader, VenueLoader};
use crate::error::to_graphql;

// Each enum is the GraphQL spelling of a domain enum: async-graphql's `remote` derives
// the conversions both ways, and the client reads the same type (its serde names are the
// GraphQL ones, SCREAMING_SNAKE_CASE), so server and client cannot disagree.

/// Kind of event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::Category")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
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

/// Sales status of an event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::EventStatus")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventStatus {
    /// Announced, not yet on sale.
    Scheduled,
    /// Seats can be held.
    OnSale,
    /// Every seat is held or sold right now.
    SoldOut,
    /// Called off.
    Cancelled,
}

/// State of one seat.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::SeatState")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeatState {
    /// Free.
    Available,
    /// In a live hold.
    Held,
    /// Bought.
    Sold,
}

/// Where a booking is in its life.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::BookingStatus")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    /// Seats held until `expiresAt`.
    Held,
    /// Seats bought.
    Confirmed,
    /// Released by the customer.
    Cancelled,
    /// The hold lapsed.
    Expired,
}

/// Something people buy seats for.
pub struct Event(pub domain::Event);

#[Object]
impl Event {
    /// Event id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A paragraph about the event.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Kind of event.
    async fn category(&self) -> Category {
        self.0.category.into()
    }
    /// Id of the venue (select `venue` for the venue itself).
    async fn venue_id(&self) -> ID {
        ID(self.0.venue_id.to_string())
    }
    /// Ids of the performers, headliner first.
    async fn performer_ids(&self) -> Vec<ID> {
        self.0
            .performer_ids
            .iter()
            .map(|p| ID(p.to_string()))
            .collect()
    }
    /// When it starts (RFC 3339, UTC).
    async fn starts_at(&self) -> domain::Timestamp {
        self.0.starts_at
    }
    /// Sales status.
    async fn status(&self) -> EventStatus {
        self.0.status.into()
    }
    /// Lower-case tags.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    /// Cheapest seat, in cents.
    async fn min_price_cents(&self) -> i64 {
        self.0.min_price_cents
    }
    /// Dearest seat, in cents.
    async fn max_price_cents(&self) -> i64 {
        self.0.max_price_cents
    }
    /// ISO 4217 currency.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// The venue, batched with every other venue the query asks for.
    async fn venue(&self, ctx: &Context<'_>) -> Result<Venue> {
        let loader = ctx.data::<DataLoader<VenueLoader>>()?;
        let venue = loader
            .load_one(self.0.venue_id.0)
            .await
            .map_err(|e| to_graphql(&e))?;
        venue
            .map(Venue)
            .ok_or_else(|| to_graphql(&domain::Error::not_found("venue", self.0.venue_id)))
    }
    /// The performers, headliner first, batched with every other performer the query
    /// asks for.
    async fn performers(&self, ctx: &Context<'_>) -> Result<Vec<Performer>> {
        let loader = ctx.data::<DataLoader<PerformerLoader>>()?;
        let ids: Vec<u64> = self.0.performer_ids.iter().map(|p| p.0).collect();
        let mut found = loader
            .load_many(ids.iter().copied())
            .await
            .map_err(|e| to_graphql(&e))?;
        ids.iter()
            .map(|id| {
                found
                    .remove(id)
                    .map(Performer)
                    .ok_or_else(|| to_graphql(&domain::Error::not_found("performer", id)))
            })
            .collect()
    }
    /// Seats still available in each section.
    async fn availability(&self, ctx: &Context<'_>) -> Result<Vec<SectionAvailability>> {
        let detail = api(ctx)?
            .get_event_detail(self.0.id)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(detail
            .availability
            .into_iter()
            .map(SectionAvailability::from)
            .collect())
    }
    /// Every seat with its state (large: thousands of seats for a big venue).
    #[graphql(complexity = "50 + child_complexity")]
    async fn seat_map(&self, ctx: &Context<'_>) -> Result<SeatMap> {
        let map = api(ctx)?
            .get_seat_map(self.0.id)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(SeatMap::from(map))
    }
}

/// A venue with its seat layout.
pub struct Venue(pub domain::Venue);

#[Object]
impl Venue {
    /// Venue id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// City.
    async fn city(&self) -> &str {
        &self.0.city
    }
    /// ISO 3166-1 alpha-2 country code.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// Seats in all sections.
    async fn capacity(&self) -> u32 {
        self.0.capacity
    }
    /// Sections in layout order.
    async fn sections(&self) -> Vec<Section> {
        self.0
            .sections
            .iter()
            .map(|s| Section {
                id: s.id,
                name: s.name.clone(),
                price_cents: s.price_cents,
                rows: s
                    .rows
                    .iter()
                    .map(|r| Row {
                        label: r.label.clone(),
                        seats: r.seats,
                    })
                    .collect(),
            })
            .collect()
    }
}

/// A priced block of rows.
#[derive(SimpleObject)]
pub struct Section {
    /// Section id within the venue.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Price of each seat, in cents.
    pub price_cents: i64,
    /// Rows in layout order.
    pub rows: Vec<Row>,
}

/// A row of seats numbered from 1.
#[derive(SimpleObject)]
pub struct Row {
    /// Row label.
    pub label: String,
    /// Seats in the row.
    pub seats: u32,
}

/// Someone who performs at events.
pub struct Performer(pub domain::Performer);

#[Object]
impl Performer {
    /// Performer id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Genre.
    async fn genre(&self) -> &str {
        &self.0.genre
    }
    /// A short biography.
    async fn bio(&self) -> &str {
        &self.0.bio
    }
}

/// Availability of one section.
#[derive(SimpleObject)]
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

/// Every seat of an event.
#[derive(SimpleObject)]
pub struct SeatMap {
    /// Event id.
    pub event_id: ID,
    /// Inventory version the map was read at.
    pub version: u64,
    /// Seats in id order.
    pub seats: Vec<Seat>,
}

impl From<domain::SeatMap> for SeatMap {
    fn from(m: domain::SeatMap) -> Self {
        SeatMap {
            event_id: ID(m.event_id.to_string()),
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

/// One seat.
#[derive(SimpleObject)]
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

/// One search hit.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// The event.
    pub event: Event,
    /// BM25 relevance, higher is better.
    pub score: f64,
}

/// Who a booking is for.
#[derive(SimpleObject)]
pub struct Customer {
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Seats of one event held or bought by one customer.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Booking {
    /// Booking id.
    pub id: ID,
    /// Event id.
    pub event_id: ID,
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
    pub created_at: domain::Timestamp,
    /// When the hold lapses unless confirmed.
    pub expires_at: domain::Timestamp,
    /// Bumped by every change; `confirmBooking` must name the current one.
    pub version: u64,
    /// The event id as the domain has it, for the `event` resolver.
    #[graphql(skip)]
    pub domain_event_id: domain::EventId,
}

#[ComplexObject]
impl Booking {
    /// The event the seats belong to.
    async fn event(&self, ctx: &Context<'_>) -> Result<Event> {
        let event = api(ctx)?
            .get_event(self.domain_event_id)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(Event(event))
    }
}

impl From<domain::Booking> for Booking {
    fn from(b: domain::Booking) -> Self {
        Booking {
            id: ID(b.id.to_string()),
            event_id: ID(b.event_id.to_string()),
            seat_ids: b.seat_ids.iter().map(|s| s.0).collect(),
            customer: Customer {
                name: b.customer.name,
                email: b.customer.email,
            },
            status: b.status.into(),
            total_cents: b.total_cents,
            currency: b.currency,
            created_at: b.created_at,
            expires_at: b.expires_at,
            version: b.version,
            domain_event_id: b.event_id,
        }
    }
}

//! The catalogue: venues and their seat layouts, performers and events. Read-only after load.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{EventId, PerformerId, Timestamp, VenueId};

/// A place where events happen. Its seat layout is shared by all its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Venue {
    /// The venue's id.
    pub id: VenueId,
    /// Display name, e.g. "Riverside Arena".
    pub name: String,
    /// City the venue is in.
    pub city: String,
    /// ISO 3166-1 alpha-2 country code, e.g. "FR".
    pub country: String,
    /// Number of seats: the sum of all rows of all sections.
    pub capacity: u32,
    /// Sections in layout order; seat ids count through them in this order.
    pub sections: Vec<Section>,
}

/// A priced block of rows within a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Index of the section within its venue, from 0.
    pub id: u32,
    /// Display name, e.g. "Balcony 2".
    pub name: String,
    /// Price of every seat in this section, in the event's currency's minor unit (cents).
    pub price_cents: i64,
    /// Rows in layout order.
    pub rows: Vec<Row>,
}

/// One row of seats, numbered 1..=seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Row label, e.g. "A" or "AB".
    pub label: String,
    /// Number of seats in the row.
    pub seats: u32,
}

impl Section {
    /// Number of seats in the section.
    pub fn seat_count(&self) -> u32 {
        self.rows.iter().map(|r| r.seats).sum()
    }
}

/// Someone who performs at events: a band, a team, a troupe, a comedian.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Performer {
    /// The performer's id.
    pub id: PerformerId,
    /// Display name.
    pub name: String,
    /// Genre, e.g. "indie rock" or "basketball".
    pub genre: String,
    /// A short biography.
    pub bio: String,
}

/// Kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Music performances.
    Concert,
    /// Games and matches.
    Sports,
    /// Plays and musicals.
    Theater,
    /// Stand-up and sketch.
    Comedy,
    /// Multi-act, often multi-day, events.
    Festival,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 5] = [
        Category::Concert,
        Category::Sports,
        Category::Theater,
        Category::Comedy,
        Category::Festival,
    ];

    /// The stable lower-case name used on every transport.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Concert => "concert",
            Category::Sports => "sports",
            Category::Theater => "theater",
            Category::Comedy => "comedy",
            Category::Festival => "festival",
        }
    }

    /// Position in [`Category::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                crate::Error::invalid_argument(
                    "category",
                    "must be one of concert, sports, theater, comedy, festival",
                )
            })
    }
}

/// Where an event is in its sales life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Announced; sales have not opened. Holds are refused.
    Scheduled,
    /// Seats can be held and bought.
    OnSale,
    /// On sale, but every seat is held or sold right now (derived from the inventory).
    SoldOut,
    /// Called off. Holds are refused.
    Cancelled,
}

impl EventStatus {
    /// Every status, in declaration order.
    pub const ALL: [EventStatus; 4] = [
        EventStatus::Scheduled,
        EventStatus::OnSale,
        EventStatus::SoldOut,
        EventStatus::Cancelled,
    ];

    /// The stable lower-case name used on every transport.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventStatus::Scheduled => "scheduled",
            EventStatus::OnSale => "on_sale",
            EventStatus::SoldOut => "sold_out",
            EventStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something people buy seats for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event's id.
    pub id: EventId,
    /// Display name.
    pub name: String,
    /// A paragraph about the event.
    pub description: String,
    /// Kind of event.
    pub category: Category,
    /// Where it happens.
    pub venue_id: VenueId,
    /// Who performs, headliner first.
    pub performer_ids: Vec<PerformerId>,
    /// When it starts (UTC).
    pub starts_at: Timestamp,
    /// Sales status.
    pub status: EventStatus,
    /// Free-form lower-case tags, e.g. "outdoor".
    pub tags: Vec<String>,
    /// Cheapest seat, in cents.
    pub min_price_cents: i64,
    /// Dearest seat, in cents.
    pub max_price_cents: i64,
    /// ISO 4217 currency code, e.g. "EUR".
    pub currency: String,
}

//! What an event's seats look like to a buyer: the seat map and per-section availability.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Event, EventId, Performer, SeatId, Venue};

/// The state of one seat of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SeatState {
    /// Free to hold.
    Available = 0,
    /// In a live hold (not yet confirmed, not expired).
    Held = 1,
    /// In a confirmed booking.
    Sold = 2,
}

impl SeatState {
    /// Every state, in declaration order.
    pub const ALL: [SeatState; 3] = [SeatState::Available, SeatState::Held, SeatState::Sold];

    /// The stable lower-case name used on every transport.
    pub const fn as_str(self) -> &'static str {
        match self {
            SeatState::Available => "available",
            SeatState::Held => "held",
            SeatState::Sold => "sold",
        }
    }
}

impl fmt::Display for SeatState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One seat on an event's seat map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    /// The seat's id within the event.
    pub seat_id: SeatId,
    /// Section the seat is in.
    pub section_id: u32,
    /// Row label.
    pub row: String,
    /// Seat number within the row, from 1.
    pub number: u32,
    /// Price in cents.
    pub price_cents: i64,
    /// Current state.
    pub state: SeatState,
}

/// Every seat of an event with its state, as of one inventory version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatMap {
    /// The event.
    pub event_id: EventId,
    /// Inventory version this map was read at; bumped by every hold, confirm, cancel or expiry.
    pub version: u64,
    /// All seats, in seat id order.
    pub seats: Vec<Seat>,
}

/// How many seats of one section are still available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionAvailability {
    /// Section id within the venue.
    pub section_id: u32,
    /// Section name.
    pub name: String,
    /// Price of a seat in this section, in cents.
    pub price_cents: i64,
    /// Seats in the section.
    pub total: u32,
    /// Seats neither held nor sold.
    pub available: u32,
}

/// An event with everything a detail page shows, in one read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    /// The event.
    pub event: Event,
    /// Its venue.
    pub venue: Venue,
    /// Its performers, in the event's order.
    pub performers: Vec<Performer>,
    /// Availability per section, in section order.
    pub availability: Vec<SectionAvailability>,
}

//! The ticketing model: plain data, no behaviour beyond small helpers.
//!
//! Everything here is what crosses the `Ticketing` API. Transport crates translate these
//! types into their own messages; they never add fields of their own to them. Storage
//! details (seat-state bytes, hold queues) live in `store`, not here.

mod availability;
mod booking;
mod catalog;
mod ids;
mod requests;
mod seating;

pub use availability::{
    AvailabilityStream, AvailabilityUpdate, SeatChange, SectionCount, UpdateKind,
};
pub use booking::{Booking, BookingStatus, Customer, HoldRequest};
pub use catalog::{Category, Event, EventStatus, Performer, Row, Section, Venue};
pub use ids::{BookingId, EventId, PerformerId, SeatId, VenueId};
pub use requests::{
    EventFilter, EventPage, ListEventsRequest, SearchHit, SearchRequest, SearchResults,
};
pub use seating::{EventDetail, Seat, SeatMap, SeatState, SectionAvailability};

/// A point in time, always UTC. Domain times carry whole microseconds, so every
/// transport (RFC 3339, protobuf Timestamp, wire's i64 microseconds) round-trips them exactly.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Truncates a time to whole microseconds, the resolution every transport can carry.
pub fn truncate_to_micros(t: Timestamp) -> Timestamp {
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

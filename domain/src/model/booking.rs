//! Bookings: held seats on their way to being bought, and what it takes to make one.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{BookingId, EventId, SeatId, Timestamp};

/// Who a booking is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Customer {
    /// Full name, 1 to 100 characters.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Seats are held until `expires_at`.
    Held,
    /// Seats are sold.
    Confirmed,
    /// Released by the customer.
    Cancelled,
    /// The hold ran out before it was confirmed.
    Expired,
}

impl BookingStatus {
    /// Every status, in declaration order.
    pub const ALL: [BookingStatus; 4] = [
        BookingStatus::Held,
        BookingStatus::Confirmed,
        BookingStatus::Cancelled,
        BookingStatus::Expired,
    ];

    /// The stable lower-case name used on every transport.
    pub const fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Held => "held",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Expired => "expired",
        }
    }

    /// Whether the booking still owns its seats.
    pub const fn is_live(self) -> bool {
        matches!(self, BookingStatus::Held | BookingStatus::Confirmed)
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seats of one event held or bought by one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The booking's id.
    pub id: BookingId,
    /// The event the seats belong to.
    pub event_id: EventId,
    /// The seats, in ascending order.
    pub seat_ids: Vec<SeatId>,
    /// Who it is for.
    pub customer: Customer,
    /// Current status.
    pub status: BookingStatus,
    /// Sum of the seats' prices, in cents.
    pub total_cents: i64,
    /// ISO 4217 currency of `total_cents`.
    pub currency: String,
    /// When the hold was made.
    pub created_at: Timestamp,
    /// When the hold lapses unless confirmed first. Kept after confirmation, for the record.
    pub expires_at: Timestamp,
    /// Bumped by every change; `confirm_booking` must name the current one.
    pub version: u64,
}

/// A request to hold seats of one event, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HoldRequest {
    /// The event.
    pub event_id: EventId,
    /// 1 to 8 distinct seats.
    pub seat_ids: Vec<SeatId>,
    /// Who the hold is for.
    pub customer: Customer,
    /// Makes a retried hold return the first one's booking instead of making another.
    /// Scoped to the event; 1 to 64 printable ASCII characters.
    pub idempotency_key: Option<String>,
}

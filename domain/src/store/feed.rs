//! The per-event change feed: every inventory change is published with the new inventory
//! version, so a streaming endpoint can follow an event without polling the store.

use serde::{Deserialize, Serialize};

use crate::model::{BookingId, EventId, SeatId, SeatState};

/// How many changes a slow subscriber may fall behind before it misses some (it then sees
/// `RecvError::Lagged` and should re-read the seat map).
pub const FEED_CAPACITY: usize = 256;

/// One change to one event's inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryChange {
    /// The event.
    pub event_id: EventId,
    /// Inventory version after the change.
    pub version: u64,
    /// The booking whose hold, confirmation, cancellation or expiry made the change.
    pub booking_id: BookingId,
    /// The seats that changed, with their new state.
    pub seats: Vec<(SeatId, SeatState)>,
}

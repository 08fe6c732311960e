//! Live availability: the messages of [`Ticketing::watch_availability`](crate::Ticketing::watch_availability).
//!
//! One message type for all four protocols. A subscriber sees, in order: optionally one
//! [`UpdateKind::Snapshot`], then one [`UpdateKind::Change`] per committed inventory change
//! with gap-free versions, and, only if it fell too far behind, one final
//! [`UpdateKind::Resync`] after which the stream ends. What the store retains and how far a
//! subscriber may fall behind are
//! [`Limits::watch_retained`](crate::Limits::watch_retained) and
//! [`Limits::watch_buffer`](crate::Limits::watch_buffer).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{EventId, SeatId, SeatState, Timestamp};

/// What an [`AvailabilityUpdate`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum UpdateKind {
    /// One committed change: `seats` are the seats it changed with their new state,
    /// `version` the inventory version it produced (the previous message's plus one).
    Change = 0,
    /// The whole picture at `version`: every section's count and no seats. Sent first to a
    /// subscriber that named no version, or one older than the store still retains.
    Snapshot = 1,
    /// The subscriber fell further behind than its buffer allows. `version` is the last
    /// version it was sent; the stream ends after this message, and subscribing again from
    /// `version` continues with no gap and no duplicate.
    Resync = 2,
}

impl UpdateKind {
    /// Every kind, in declaration order.
    pub const ALL: [UpdateKind; 3] = [UpdateKind::Change, UpdateKind::Snapshot, UpdateKind::Resync];

    /// The stable lower-case name used on every transport.
    pub const fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Change => "change",
            UpdateKind::Snapshot => "snapshot",
            UpdateKind::Resync => "resync",
        }
    }
}

impl fmt::Display for UpdateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seats still available in one section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SectionCount {
    /// Section id within the venue.
    pub section_id: u32,
    /// Seats neither held nor sold.
    pub available: u32,
}

/// One seat's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeatChange {
    /// The seat.
    pub seat_id: SeatId,
    /// Its state after the change.
    pub state: SeatState,
}

/// One message of an availability stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityUpdate {
    /// The event.
    pub event_id: EventId,
    /// What this message is.
    pub kind: UpdateKind,
    /// For a change or snapshot, the inventory version it shows; for a resync, the version
    /// to resume from.
    pub version: u64,
    /// Every section's available count after the change, in section order (empty in a
    /// resync).
    pub sections: Vec<SectionCount>,
    /// The seats the change touched, with their new state (empty unless `kind` is change).
    pub seats: Vec<SeatChange>,
    /// When the change was committed (for a snapshot or resync, when it was made), to the
    /// microsecond, so a subscriber on the same clock can measure delivery latency.
    pub committed_at: Timestamp,
}

/// A stream of availability messages. Transport failures arrive as `Err` items.
pub type AvailabilityStream =
    futures::stream::BoxStream<'static, crate::error::Result<AvailabilityUpdate>>;

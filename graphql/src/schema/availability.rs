//! The object types of live availability (`Subscription.availabilityChanged`): one
//! message of the stream and its parts, each the GraphQL spelling of a domain type
//! (`domain::AvailabilityUpdate`), with ids as `ID`, versions and counts as `Int` and the
//! commit time as `DateTime`, like the rest of the schema. The subscription root itself
//! is in [`super::subscription`].

use async_graphql::{Enum, ID, SimpleObject};
use serde::Deserialize;

use super::types::SeatState;

/// What an availability message says.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::UpdateKind")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpdateKind {
    /// One committed change: `seats` are the seats it changed, `version` the previous
    /// message's plus one.
    Change,
    /// Every section's count at `version`, no seats: the first message when no
    /// `fromVersion` was given or it is older than what the server retains.
    Snapshot,
    /// The subscriber fell too far behind: `version` is the last version it was sent;
    /// the subscription completes after this message, and subscribing again with
    /// `fromVersion` set to it continues with no gap and no duplicate.
    Resync,
}

/// Seats still available in one section.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SectionCount {
    /// Section id within the venue.
    pub section_id: u32,
    /// Seats neither held nor sold.
    pub available: u32,
}

/// One seat's new state.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SeatChange {
    /// The seat.
    pub seat_id: u32,
    /// Its state after the change.
    pub state: SeatState,
}

/// One message of an event's availability stream.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityUpdate {
    /// Event id.
    pub event_id: ID,
    /// What this message is.
    pub kind: UpdateKind,
    /// The inventory version it shows (a resync: the version to resume from).
    pub version: u64,
    /// Every section's available count, in section order (empty in a resync).
    pub sections: Vec<SectionCount>,
    /// The seats the change touched with their new state (empty unless `kind` is
    /// CHANGE).
    pub seats: Vec<SeatChange>,
    /// When the change was committed (a snapshot or resync: when it was made), to the
    /// microsecond.
    pub committed_at: domain::Timestamp,
}

impl From<domain::AvailabilityUpdate> for AvailabilityUpdate {
    fn from(u: domain::AvailabilityUpdate) -> Self {
        AvailabilityUpdate {
            event_id: ID(u.event_id.to_string()),
            kind: u.kind.into(),
            version: u.version,
            sections: u
                .sections
                .into_iter()
                .map(|s| SectionCount {
                    section_id: s.section_id,
                    available: s.available,
                })
                .collect(),
            seats: u
                .seats
                .into_iter()
                .map(|s| SeatChange {
                    seat_id: s.seat_id.0,
                    state: s.state.into(),
                })
                .collect(),
            committed_at: u.committed_at,
        }
    }
}
